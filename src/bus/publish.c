/* Sending: building messages, subject routing and queue groups, publish, direct send,
 * batches, broadcast, request/reply. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"

/* ---------------------------------------------------------------------------------------- */
/* Building messages                                                                        */

typedef struct send_meta {
    uint32_t flags;
    uint32_t reply_to;
    uint64_t corr_id;
    const char *subject;
    size_t subject_len;
} send_meta;

static int check_send(const hv_bus *b, const hv_send *m)
{
    if (m->prio > HV_PRIO_BATCH)
        return HV_EINVAL;
    if (m->len > 0 && m->data == NULL && m->buf == NULL)
        return HV_EINVAL;
    if (m->buf != NULL && m->len > m->buf->cap)
        return HV_EINVAL;
    if (m->len > b->opts.buf_bytes || m->len > UINT32_MAX)
        return HV_ETOOBIG;
    return 0;
}

/*
 * Takes a message from the pool and fills it. A caller-supplied buffer gets one extra
 * reference here, which the caller of make_msg drops on success (the message then holds the
 * sender's reference) and keeps on failure (so the sender still owns its buffer).
 */
static int make_msg(hv_agent *from, const hv_send *m, const send_meta *meta, uint64_t now_ns,
                    hv_bus_msg **out)
{
    hv_bus *b = from->bus;
    int rc = check_send(b, m);
    if (rc != 0)
        return rc;
    hv_bus_msg *msg = hv__msg_alloc(from);
    if (msg == NULL) {
        own_add(&from->c_errors, 1);
        return HV_EAGAIN;
    }
    msg->flags = (uint8_t)meta->flags;
    if (m->buf != NULL) {
        hv_buf_retain(m->buf);
        msg->buf_ = m->buf;
        msg->data = m->buf->data;
        msg->flags |= HV_MSG_F_BUF;
    } else if (m->len > HV_MSG_INLINE_MAX) {
        hv_buf *buf;
        if (hv_bus_buf_alloc(b, &buf) != 0) {
            hv__msg_unalloc(from, msg);
            own_add(&from->c_errors, 1);
            return HV_EAGAIN;
        }
        memcpy(buf->data, m->data, m->len);
        msg->buf_ = buf;
        msg->data = buf->data;
        msg->flags |= HV_MSG_F_BUF;
    } else {
        if (m->len > 0)
            memcpy(msg->inline_, m->data, m->len);
        msg->data = msg->inline_;
    }
    msg->corr_id = meta->corr_id;
    msg->coalesce_key = m->coalesce_key;
    msg->deadline_ns = m->ttl_ns ? sat_add(now_ns, m->ttl_ns) : 0;
    msg->sent_ns = now_ns;
    msg->sender = from->id;
    msg->reply_to = meta->reply_to;
    msg->type = m->type;
    msg->len = (uint32_t)m->len;
    msg->prio = m->prio ? m->prio : HV_PRIO_NORMAL;
    msg->subject_len = (uint8_t)meta->subject_len;
    msg->attempts = 0;
    if (meta->subject_len > 0) /* direct sends have none: skip the library call */
        memcpy(msg->subject, meta->subject, meta->subject_len);
    msg->subject[meta->subject_len] = '\0';
    msg->refs_ = 1;
    *out = msg;
    return 0;
}

/* After the message was handed to the inboxes: settle the caller's buffer reference. A
 * negative outcome keeps it with the caller, else the message owns it. */
static void settle_buf(const hv_send *m, int caller_keeps)
{
    if (m->buf != NULL && !caller_keeps)
        hv_buf_release(m->buf);
}

/* ---------------------------------------------------------------------------------------- */
/* Publish                                                                                  */

static int cmp_by_group(const void *x, const void *y, void *ud)
{
    const sub *subs = ud;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    uint32_t ga = subs[a].group, gb = subs[b].group;
    if (ga != gb)
        return ga < gb ? -1 : 1;
    return (a > b) - (a < b);
}

static const hv_match_entry *route(hv_agent *from, const char *s, size_t len, int *err)
{
    hv_bus *b = from->bus;
    uint64_t gen = hv__topics_generation(b->topics);
    uint64_t h = hv__subject_hash(s, len);
    const hv_match_entry *e = hv__cache_lookup(&from->cache, gen, s, len, h);
    if (e != NULL)
        return e;
    hv_match_entry *f = hv__cache_fill(&from->cache, b->topics, gen, s, len, h, err);
    if (f == NULL)
        return NULL;
    int grouped = 0;
    for (uint32_t i = 0; i < f->n && !grouped; i++)
        grouped = b->subs[f->ids[i]].group != 0;
    if (grouped)
        qsort_r(f->ids, f->n, sizeof(uint32_t), cmp_by_group, b->subs);
    return f;
}

/* Inboxes a routed message goes to: each ungrouped subscription, one per group. */
static uint32_t count_targets(const hv_bus *b, const hv_match_entry *e)
{
    uint32_t n = 0, prev = 0;
    for (uint32_t i = 0; i < e->n; i++) {
        uint32_t g = b->subs[e->ids[i]].group;
        if (g == 0 || g != prev)
            n++;
        prev = g;
    }
    return n;
}

static const sub *pick_member(hv_bus *b, const uint32_t *ids, uint32_t n, int lane)
{
    group *g = &b->groups[b->subs[ids[0]].group - 1];
    if (g->policy == HV_GROUP_ROUND_ROBIN) {
        uint32_t k = __atomic_fetch_add(&g->rr, 1, __ATOMIC_RELAXED);
        return &b->subs[ids[k % n]];
    }
    const sub *best = &b->subs[ids[0]];
    uint32_t best_depth = hv_mpmc_size(&best->agent->lanes[lane]);
    for (uint32_t i = 1; i < n && best_depth > 0; i++) {
        const sub *s = &b->subs[ids[i]];
        uint32_t d = hv_mpmc_size(&s->agent->lanes[lane]);
        if (d < best_depth) {
            best = s;
            best_depth = d;
        }
    }
    return best;
}

/* The subscription's filters: 1 to deliver msg, 0 to skip it. */
static int sub_accepts(const sub *s, const hv_bus_msg *msg)
{
    if (s->type_hi != 0 && (msg->type < s->type_lo || msg->type > s->type_hi))
        return 0;
    if (s->sender != 0 && msg->sender != s->sender)
        return 0;
    return s->filter == NULL || s->filter(msg, s->filter_ctx) != 0;
}

static void deliver_routed(hv_bus *b, const hv_match_entry *e, hv_bus_msg *msg, uint64_t now_ns,
                           hv_send_result *res)
{
    int lane = msg->prio - 1;
    uint32_t n = e->n;
    wake_list w;
    w.n = 0;
    for (uint32_t i = 0; i < n;) {
        const sub *s = &b->subs[e->ids[i]];
        uint32_t j = i + 1;
        if (s->group != 0) {
            while (j < n && b->subs[e->ids[j]].group == s->group)
                j++;
            s = pick_member(b, e->ids + i, j - i, lane);
        } else if (!sub_accepts(s, msg)) { /* grouped subscriptions have no filters */
            res->filtered++;
            shared_add(&s->agent->c_filtered, 1);
            hv_bus_msg_release(msg);
            i = j;
            continue;
        }
        if (hv__deliver(s->agent, msg, s->bp, s->block_timeout_ns, now_ns, res, &w) != 0)
            hv_bus_msg_release(msg);
        i = j;
    }
    hv__wake_flush(&w);
}

static void count_send(hv_agent *from, const hv_send_result *res, size_t len)
{
    if (res->delivered > 0) {
        own_add(&from->c_sent, 1);
        own_add(&from->c_bytes_sent, len);
    }
    if (res->rejected > 0)
        own_add(&from->c_send_rejected, res->rejected);
}

static int publish_meta(hv_agent *from, const hv_send *m, const send_meta *meta, uint64_t now_ns,
                        hv_send_result *out)
{
    hv_bus *b = from->bus;
    hv_send_result res = { 0 };
    int err = 0;
    clock_advance(from, now_ns);
    read_enter(from);
    const hv_match_entry *e = route(from, meta->subject, meta->subject_len, &err);
    if (e == NULL) {
        read_exit(from);
        return err;
    }
    uint32_t n = count_targets(b, e);
    res.matched = n;
    if (n == 0) {
        read_exit(from);
        own_add(&from->c_unrouted, 1);
        if (out != NULL)
            *out = res;
        return 0;
    }
    hv_bus_msg *msg;
    int rc = make_msg(from, m, meta, now_ns, &msg);
    if (rc != 0) {
        read_exit(from);
        return rc;
    }
    msg->refs_ = n;
    deliver_routed(b, e, msg, now_ns, &res);
    read_exit(from);
    count_send(from, &res, m->len);
    if (out != NULL)
        *out = res;
    return (int)res.delivered;
}

static int subject_meta(const hv_send *m, send_meta *meta)
{
    if (m->subject == NULL)
        return HV_EINVAL;
    meta->subject = m->subject;
    meta->subject_len = strnlen(m->subject, HV_SUBJECT_MAX + 1);
    if (meta->subject_len > HV_SUBJECT_MAX)
        return HV_EBADSUBJECT;
    return 0;
}

int hv_bus_publish(hv_agent *from, const hv_send *m, uint64_t now_ns, hv_send_result *r)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    send_meta meta = { .corr_id = m->corr_id };
    int rc = subject_meta(m, &meta);
    if (rc != 0)
        return rc;
    rc = publish_meta(from, m, &meta, now_ns, r);
    settle_buf(m, rc < 0);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Direct send, broadcast, request/reply                                                    */

static int send_meta_to(hv_agent *from, uint32_t to, const hv_send *m, const send_meta *meta,
                        uint64_t now_ns)
{
    hv_send_result res = { 0 };
    clock_advance(from, now_ns);
    read_enter(from);
    hv_agent *dst = agent_by_id(from->bus, to);
    if (dst == NULL) {
        read_exit(from);
        return HV_ENOAGENT;
    }
    hv_bus_msg *msg;
    int rc = make_msg(from, m, meta, now_ns, &msg);
    if (rc == 0) {
        rc = hv__deliver(dst, msg, dst->bp, dst->block_timeout_ns, now_ns, &res, NULL);
        if (rc != 0)
            hv_bus_msg_release(msg);
    }
    read_exit(from);
    count_send(from, &res, m->len);
    return rc;
}

int hv_bus_send(hv_agent *from, uint32_t to, const hv_send *m, uint64_t now_ns)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    send_meta meta = { .flags = HV_MSG_F_DIRECT, .corr_id = m->corr_id, .subject = "" };
    int rc = send_meta_to(from, to, m, &meta, now_ns);
    settle_buf(m, rc != 0);
    return rc;
}

/*
 * Builds up to `want` messages of one priority, without coalescing keys (a keyed message ends
 * the run and is built alone), into out[]. Returns how many; *rc gets the error that stopped
 * it early, if any.
 */
static uint32_t make_run(hv_agent *from, const hv_send *msgs, uint32_t want, uint64_t now_ns,
                         hv_bus_msg **out, int *rc)
{
    uint32_t k = 0;
    *rc = 0;
    while (k < want) {
        const hv_send *m = &msgs[k];
        uint8_t prio = m->prio ? m->prio : HV_PRIO_NORMAL;
        if (k > 0 && (m->coalesce_key != 0 || prio != out[0]->prio))
            break;
        send_meta meta = { .flags = HV_MSG_F_DIRECT, .corr_id = m->corr_id, .subject = "" };
        *rc = make_msg(from, m, &meta, now_ns, &out[k]);
        if (*rc != 0)
            break;
        if (out[k++]->coalesce_key != 0)
            break;
    }
    return k;
}
int hv_bus_send_n(hv_agent *from, uint32_t to, const hv_send *msgs, size_t n, uint64_t now_ns)
{
    if (from == NULL || msgs == NULL || n > INT_MAX)
        return HV_EINVAL;
    if (n == 0)
        return 0;
    hv_send_result res = { 0 };
    wake_list w;
    w.n = 0;
    size_t i = 0;
    uint64_t bytes = 0;
    int rc = 0;
    clock_advance(from, now_ns);
    read_enter(from);
    hv_agent *dst = agent_by_id(from->bus, to);
    while (dst != NULL && i < n && rc == 0) {
        hv_bus_msg *run[RECV_CHUNK];
        uint32_t want = n - i < RECV_CHUNK ? (uint32_t)(n - i) : RECV_CHUNK;
        uint32_t k = make_run(from, &msgs[i], want, now_ns, run, &rc);
        int drc = 0;
        uint32_t done = k > 0 ? hv__deliver_run(dst, run, k, now_ns, &res, &w, &drc) : 0;
        for (uint32_t j = 0; j < done; j++) {
            settle_buf(&msgs[i + j], 0);
            bytes += msgs[i + j].len;
        }
        i += done;
        if (drc != 0)
            rc = drc;
    }
    hv__wake_flush(&w);
    read_exit(from);
    if (dst == NULL)
        return HV_ENOAGENT;
    own_add(&from->c_sent, i);
    own_add(&from->c_bytes_sent, bytes);
    if (res.rejected > 0)
        own_add(&from->c_send_rejected, res.rejected);
    return i > 0 ? (int)i : rc;
}

int hv_bus_broadcast(hv_agent *from, const hv_send *m, uint64_t now_ns, hv_send_result *r)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    hv_bus *b = from->bus;
    hv_send_result res = { 0 };
    send_meta meta = { .flags = HV_MSG_F_BROADCAST, .corr_id = m->corr_id, .subject = "" };
    clock_advance(from, now_ns);
    read_enter(from);
    uint32_t n = b->nlive - 1;
    res.matched = n;
    int rc = 0;
    hv_bus_msg *msg = NULL;
    if (n > 0)
        rc = make_msg(from, m, &meta, now_ns, &msg);
    if (n > 0 && rc == 0) {
        msg->refs_ = n;
        wake_list w;
        w.n = 0;
        for (uint32_t i = 0; i < b->nlive; i++) {
            hv_agent *dst = b->live[i];
            if (dst == from)
                continue;
            if (hv__deliver(dst, msg, dst->bp, dst->block_timeout_ns, now_ns, &res, &w) != 0)
                hv_bus_msg_release(msg);
        }
        hv__wake_flush(&w);
    }
    read_exit(from);
    if (rc < 0)
        return rc;
    count_send(from, &res, m->len);
    settle_buf(m, 0);
    if (r != NULL)
        *r = res;
    return (int)res.delivered;
}

static void pending_add(hv_agent *a, uint64_t corr, uint64_t deadline_ns)
{
    HV_ASSERT(a->npending < a->max_pending); /* hv_agent_request checked */
    a->pending[a->npending].corr_id = corr;
    a->pending[a->npending].deadline_ns = deadline_ns;
    a->npending++;
    if (deadline_ns < a->next_deadline)
        a->next_deadline = deadline_ns;
}

int hv_agent_request(hv_agent *a, const hv_send *m, uint64_t timeout_ns, uint64_t now_ns,
                     uint64_t *corr_id)
{
    if (a == NULL || m == NULL || timeout_ns == 0)
        return HV_EINVAL;
    if (a->npending == a->max_pending)
        return HV_EFULL;
    uint64_t corr = ((uint64_t)a->id << 40) | (++a->corr_seq & ((1ull << 40) - 1));
    send_meta meta = { .flags = HV_MSG_F_REQUEST, .reply_to = a->id, .corr_id = corr };
    int rc = subject_meta(m, &meta);
    if (rc != 0)
        return rc;
    rc = publish_meta(a, m, &meta, now_ns, NULL);
    if (rc == 0)
        rc = HV_ENOSUBSCRIBER;
    settle_buf(m, rc < 0);
    if (rc < 0)
        return rc;
    pending_add(a, corr, sat_add(now_ns, timeout_ns));
    if (corr_id != NULL)
        *corr_id = corr;
    return rc;
}

int hv_agent_reply(hv_agent *a, const hv_bus_msg *req, const hv_send *m, uint64_t now_ns)
{
    if (a == NULL || req == NULL || m == NULL || (req->flags & HV_MSG_F_REQUEST) == 0)
        return HV_EINVAL;
    send_meta meta = { .flags = HV_MSG_F_REPLY | HV_MSG_F_DIRECT,
                       .corr_id = req->corr_id,
                       .subject = "" };
    int rc = send_meta_to(a, req->reply_to, m, &meta, now_ns);
    settle_buf(m, rc != 0);
    return rc;
}

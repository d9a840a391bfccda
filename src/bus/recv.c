/* Receiving: lane choice with the starvation guard, TTL and reply matching, request timeouts,
 * latency recording, redelivery with backoff. */
#include <limits.h>
#include <string.h>

#include "bus_int.h"

/*
 * Next lane to serve, with the starvation guard; -1 when every lane is empty. *limit comes in
 * as the most messages wanted and goes out as how many may be taken from that lane in a row:
 * no more than lets a waiting lower lane's "passed over" count reach starvation_k.
 */
static int pick_lane(hv_agent *a, uint32_t *ready_out, uint32_t *limit)
{
    uint32_t ready = 0;
    for (int l = 0; l < LANES; l++)
        ready |= (uint32_t)hv_mpmc_ready(&a->lanes[l]) << l;
    if (ready == 0)
        return -1;
    int chosen = __builtin_ctz(ready);
    for (int l = chosen + 1; l < LANES; l++) {
        if ((ready >> l & 1u) && a->passed[l] >= a->starvation_k) {
            chosen = l;
            break;
        }
    }
    for (int l = chosen + 1; l < LANES; l++) {
        if ((ready >> l & 1u) == 0)
            continue;
        uint32_t room = a->passed[l] < a->starvation_k ? a->starvation_k - a->passed[l] : 1;
        if (room < *limit)
            *limit = room;
    }
    *ready_out = ready;
    return chosen;
}

/* Bookkeeping of the starvation guard after k messages were served from lane `chosen`. */
static void served(hv_agent *a, int chosen, uint32_t ready, uint32_t k)
{
    a->passed[chosen] = 0;
    for (int l = chosen + 1; l < LANES; l++)
        if (ready >> l & 1u)
            a->passed[l] += k;
}

static int pending_take(hv_agent *a, uint64_t corr)
{
    for (uint32_t i = 0; i < a->npending; i++) {
        if (a->pending[i].corr_id != corr)
            continue;
        a->pending[i] = a->pending[--a->npending];
        return 1;
    }
    return 0;
}

static hv_bus_msg *timeout_msg(hv_agent *a, uint64_t corr, uint64_t now_ns)
{
    hv_bus_msg *m = hv__msg_alloc(a);
    if (m == NULL)
        return NULL;
    memset(m, 0, offsetof(hv_bus_msg, bus_));
    m->corr_id = corr;
    m->sent_ns = now_ns;
    m->sender = a->id;
    m->type = HV_MSG_TYPE_TIMEOUT;
    m->prio = HV_PRIO_CRITICAL;
    m->flags = HV_MSG_F_TIMEOUT;
    m->data = m->inline_;
    m->subject[0] = '\0';
    m->refs_ = 1;
    return m;
}

static uint32_t expire_requests(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now_ns)
{
    uint32_t n = 0;
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < a->npending; i++) {
        pending_req *p = &a->pending[i];
        hv_bus_msg *m = NULL;
        if (p->deadline_ns <= now_ns && n < max)
            m = timeout_msg(a, p->corr_id, now_ns);
        if (m == NULL) {
            if (p->deadline_ns < next)
                next = p->deadline_ns;
            continue;
        }
        out[n++] = m;
        own_add(&a->c_request_timeouts, 1);
        a->pending[i--] = a->pending[--a->npending];
    }
    a->next_deadline = next;
    return n;
}

/* Applies TTL and reply matching; returns 1 if m should be handed to the caller. */
static int admit(hv_agent *a, hv_bus_msg *m, uint64_t now_ns)
{
    if (m->deadline_ns != 0 && now_ns >= m->deadline_ns) {
        own_add(&a->c_expired, 1);
        hv__dead_letter(a->bus, m, a->id, HV_DEAD_EXPIRED, now_ns);
        return 0;
    }
    if ((m->flags & HV_MSG_F_REPLY) && !pending_take(a, m->corr_id)) {
        own_add(&a->c_late_replies, 1);
        hv__dead_letter(a->bus, m, a->id, HV_DEAD_LATE_REPLY, now_ns);
        return 0;
    }
    return 1;
}

/*
 * Latencies of one receive call, recorded into a histogram that other receivers update too:
 * one relaxed atomic add per run of values in the same bucket and one for the count, instead
 * of two per message (values received together are usually in the same bucket).
 */
typedef struct lat_batch {
    hv_hist *h;
    uint32_t idx;
    uint32_t run;
    uint32_t n;
    uint32_t over;
    uint64_t min;
    uint64_t max;
} lat_batch;

static void lat_begin(lat_batch *b, hv_hist *h)
{
    b->h = h;
    b->idx = 0;
    b->run = b->n = b->over = 0;
    b->min = UINT64_MAX;
    b->max = 0;
}

static void lat_add(lat_batch *b, uint64_t v)
{
    if (v > b->h->value_max) {
        v = b->h->value_max;
        b->over++;
    }
    uint32_t i = hv_hist_index(b->h, v);
    if (b->run != 0 && i != b->idx) {
        __atomic_fetch_add(&b->h->counts[b->idx], b->run, __ATOMIC_RELAXED);
        b->run = 0;
    }
    b->idx = i;
    b->run++;
    b->n++;
    b->min = v < b->min ? v : b->min;
    b->max = v > b->max ? v : b->max;
}

static void lat_end(lat_batch *b)
{
    if (b->n == 0)
        return;
    hv_hist *h = b->h;
    __atomic_fetch_add(&h->counts[b->idx], b->run, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, b->n, __ATOMIC_RELAXED);
    if (b->over != 0)
        __atomic_fetch_add(&h->overflow, b->over, __ATOMIC_RELAXED);
    uint64_t cur = __atomic_load_n(&h->min, __ATOMIC_RELAXED);
    while (b->min < cur && !__atomic_compare_exchange_n(&h->min, &cur, b->min, 1, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
    }
    cur = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
    while (b->max > cur && !__atomic_compare_exchange_n(&h->max, &cur, b->max, 1, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
    }
}

/* Redeliveries that are due, ahead of the lanes. Only the TTL applies again: a reply was
 * matched against its request on first delivery. Not recorded as latency (the delay was
 * asked for). */
static uint32_t take_retries(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now_ns,
                             uint64_t *bytes)
{
    uint32_t n = 0;
    hv_bus_msg *m;
    while (n < max && (m = hv__timeq_pop_due(&a->retry, now_ns)) != NULL) {
        if (m->deadline_ns != 0 && now_ns >= m->deadline_ns) {
            own_add(&a->c_expired, 1);
            hv__dead_letter(a->bus, m, a->id, HV_DEAD_EXPIRED, now_ns);
            continue;
        }
        *bytes += m->len;
        out[n++] = m;
    }
    return n;
}

int hv_agent_recv(hv_agent *a, hv_bus_msg **out, size_t max_n, uint64_t now_ns)
{
    if (a == NULL || out == NULL)
        return HV_EINVAL;
    /* The count returns as an int: a larger max takes at most INT_MAX messages. */
    uint32_t max = max_n > INT_MAX ? INT_MAX : (uint32_t)max_n;
    clock_advance(a, now_ns);
    uint32_t n = 0, popped = 0;
    uint64_t bytes = 0;
    if (now_ns >= a->next_deadline)
        n = expire_requests(a, out, max, now_ns);
    uint32_t had_timeouts = n;
    if (now_ns >= hv__timeq_next(&a->retry))
        n += take_retries(a, out + n, max - n, now_ns, &bytes);
    lat_batch lat, own_lat;
    lat_begin(&lat, &a->bus->lat);
    lat_begin(&own_lat, a->lat);
    /* Bounded: each round pops or finds every lane empty; a pop can fail only when a
     * drop-oldest publisher took the entry first. */
    for (uint32_t round = 0; n < max && round < max + 4 * LANES; round++) {
        uint32_t ready, limit = max - n < RECV_CHUNK ? max - n : RECV_CHUNK;
        int l = pick_lane(a, &ready, &limit);
        if (l < 0)
            break;
        void *e[RECV_CHUNK];
        uint32_t got = hv_mpmc_pop_n(&a->lanes[l], e, limit);
        if (got == 0)
            continue;
        served(a, l, ready, got);
        popped += got;
        for (uint32_t i = 0; i < got; i++) {
            hv_bus_msg *m = resolve(a, e[i]);
            if (m == NULL || !admit(a, m, now_ns))
                continue;
            if (now_ns >= m->sent_ns) {
                lat_add(&lat, now_ns - m->sent_ns);
                if (a->lat != NULL)
                    lat_add(&own_lat, now_ns - m->sent_ns);
            }
            bytes += m->len;
            out[n++] = m;
        }
    }
    lat_end(&lat);
    lat_end(&own_lat);
    if (popped > 0)
        hv__notify_space(a);
    HV_ASSERT(n <= max && had_timeouts <= n);
    own_add(&a->c_received, n - had_timeouts);
    own_add(&a->c_bytes_received, bytes);
    return (int)n;
}

/* A message only this agent holds: m itself when it is the only holder, else a copy that
 * shares m's payload buffer (m's reference is then released). NULL when the pool is empty
 * (m untouched). */
static hv_bus_msg *private_copy(hv_agent *a, hv_bus_msg *m)
{
    if (__atomic_load_n(&m->refs_, __ATOMIC_ACQUIRE) == 1)
        return m;
    hv_bus_msg *c = hv__msg_alloc(a);
    if (c == NULL)
        return NULL;
    c->corr_id = m->corr_id;
    c->coalesce_key = m->coalesce_key;
    c->deadline_ns = m->deadline_ns;
    c->sent_ns = m->sent_ns;
    c->sender = m->sender;
    c->reply_to = m->reply_to;
    c->type = m->type;
    c->len = m->len;
    c->prio = m->prio;
    c->flags = m->flags;
    c->subject_len = m->subject_len;
    c->attempts = m->attempts;
    memcpy(c->subject, m->subject, (size_t)m->subject_len + 1);
    if (m->buf_ != NULL) {
        hv_buf_retain(m->buf_);
        c->buf_ = m->buf_;
        c->data = m->data;
    } else {
        if (m->len > 0)
            memcpy(c->inline_, m->data, m->len);
        c->data = c->inline_;
    }
    c->refs_ = 1;
    hv_bus_msg_release(m);
    return c;
}

static uint64_t retry_delay(const hv_agent *a, unsigned attempts)
{
    if (attempts >= 63 || a->retry_base_ns > (a->retry_max_delay_ns >> attempts))
        return a->retry_max_delay_ns;
    return a->retry_base_ns << attempts;
}

int hv_agent_retry(hv_agent *a, hv_bus_msg *m, uint64_t now_ns)
{
    if (a == NULL || m == NULL)
        return HV_EINVAL;
    clock_advance(a, now_ns);
    own_add(&a->c_retried, 1);
    if (m->attempts >= a->retry_max) {
        own_add(&a->c_retries_exhausted, 1);
        hv__dead_letter(a->bus, m, a->id, HV_DEAD_RETRIES_EXHAUSTED, now_ns);
        return 1;
    }
    hv_bus_msg *own = a->retry.n < a->retry.cap ? private_copy(a, m) : NULL;
    if (own == NULL) {
        own_add(&a->c_retry_overflow, 1);
        hv__dead_letter(a->bus, m, a->id, HV_DEAD_RETRY_OVERFLOW, now_ns);
        return 1;
    }
    uint64_t due = sat_add(now_ns, retry_delay(a, own->attempts));
    own->attempts++;
    int rc = hv__timeq_push(&a->retry, due, own);
    HV_ASSERT(rc == 0); /* room was checked */
    return 0;
}

uint64_t hv_agent_next_deadline(const hv_agent *a)
{
    uint64_t req = a->npending ? a->next_deadline : UINT64_MAX;
    uint64_t redo = hv__timeq_next(&a->retry);
    return req < redo ? req : redo;
}

/* Many lightweight agents against one hub (soak.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <hivewire/codec.h>
#include <hivewire/hist.h>

#include "swarm/soak.h"

#define SUBJECT_HB     "swarm.soak.heartbeat"
#define SUBJECT_RESULT "swarm.soak.result"

void hv__soak_name(uint32_t i, char *out, size_t cap)
{
    snprintf(out, cap, "load-%u", i);
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * 4096u;
}

/* ---- The hub ----------------------------------------------------------------------------------
 */

typedef struct hub_ctx {
    hv_net *n;
    hv_soak_result *r;
} hub_ctx;

static void hub_frame(void *user, const hv_net_frame *f, int *verdict)
{
    hub_ctx *h = user;
    *verdict = 0;
    if (f->type == HV_MSG_HEARTBEAT) {
        h->r->heartbeats++;
        (void)hv_net_send(h->n, f->peer->id, 1, f->frame, f->len); /* back to its sender */
    } else if (f->type == HV_MSG_TASK_RESULT) {
        h->r->results++;
    }
}

static void hub_peer(void *user, const hv_net_peer *p, int event, int err)
{
    (void)p;
    hub_ctx *h = user;
    if (event == HV_NET_PEER_JOINED && err == 0)
        h->r->joined++;
    else if (event == HV_NET_PEER_LOST)
        h->r->lost++;
    else if (event == HV_NET_PEER_REFUSED)
        h->r->refused++;
}

static void run_until(hv_net *n, uint64_t end_ns, const uint32_t *until, uint32_t want)
{
    for (uint64_t now = hv_now_ns(); now < end_ns && (until == NULL || *until < want);
         now = hv_now_ns()) {
        uint64_t left_ms = (end_ns - now) / 1000000u + 1;
        (void)hv_net_run(n, (int)(left_ms < 50 ? left_ms : 50));
    }
}

int hv__soak_hub(const hv_soak_opts *o, hv_soak_result *r)
{
    memset(r, 0, sizeof(*r));
    hub_ctx h = { .r = r };
    hv_net_opts no = o->net;
    no.on_frame = hub_frame;
    no.on_peer = hub_peer;
    no.user = &h;
    no.loop = NULL;
    int rc = hv_net_listen(&no, &h.n);
    if (rc != 0) {
        snprintf(r->error, sizeof(r->error), "listen: %s", hv_net_last_error(NULL));
        return rc;
    }
    r->rss_before = rss_bytes();
    run_until(h.n, hv_now_ns() + o->join_ms * 1000000ull, &r->joined, o->agents);
    r->rss_after = rss_bytes(); /* every agent connected: what they cost */
    run_until(h.n, hv_now_ns() + o->run_ms * 1000000ull, NULL, 0);
    hv_net_free(h.n);
    return 0;
}

/* ---- The load agents: one uv loop for all of them
 * ------------------------------------------------ */

typedef struct load {
    hv_net *n;
    uint64_t id, seq;
    uint64_t next_hb_ns, next_result_ns;
    int open, ever;
    struct loads *all;
} load;

typedef struct loads {
    const hv_soak_opts *o;
    load *a;
    uint32_t n;
    hv_hist rtt;
    uint64_t end_ns;
    uv_timer_t tick;
} loads;

static int send_one(load *l, uint8_t type, const char *subject, uint64_t now)
{
    hv_msg m;
    memset(&m, 0, sizeof(m));
    m.type = type;
    if (type == HV_MSG_TASK_RESULT) {
        m.task_result.task_id = l->seq;
        m.task_result.success = 1;
    }
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.seq = ++l->seq;
    f.timestamp_ns = now;
    f.sender_id = l->id;
    f.topic = hv_str_from(subject);
    uint8_t buf[256];
    int len = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    if (len < 0)
        return len;
    int rc = hv_net_publish(l->n, subject, type == HV_MSG_HEARTBEAT ? 1 : 3, buf, (size_t)len);
    return rc == HV_EFULL || rc == HV_ESTATE ? 0 : rc; /* not connected yet: the next one */
}

static void load_frame(void *user, const hv_net_frame *f, int *verdict)
{
    load *l = user;
    *verdict = 0;
    hv_frame fr;
    hv_msg m;
    if (f->type != HV_MSG_HEARTBEAT || hv_decode(f->frame, f->len, NULL, NULL, 0, &fr, &m) < 0)
        return;
    uint64_t now = hv_now_ns();
    if (fr.sender_id == l->id && now >= fr.timestamp_ns)
        hv_hist_record(&l->all->rtt, now - fr.timestamp_ns);
}

static void load_peer(void *user, const hv_net_peer *p, int event, int err)
{
    (void)p;
    (void)err;
    load *l = user;
    if (event == HV_NET_PEER_JOINED)
        l->open = l->ever = 1;
    else if (event == HV_NET_PEER_LOST || event == HV_NET_PEER_REFUSED)
        l->open = 0;
}

/* Every millisecond: each agent whose heartbeat or result is due sends it. */
static void on_tick(uv_timer_t *t)
{
    loads *s = t->data;
    uint64_t now = hv_now_ns();
    if (now >= s->end_ns) {
        uv_stop(t->loop);
        return;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        load *l = &s->a[i];
        if (!l->open)
            continue;
        if (now >= l->next_hb_ns) {
            l->next_hb_ns = now + (uint64_t)s->o->heartbeat_ms * 1000000u;
            (void)send_one(l, HV_MSG_HEARTBEAT, SUBJECT_HB, now);
        }
        if (now >= l->next_result_ns) {
            l->next_result_ns = now + 1000000000ull;
            (void)send_one(l, HV_MSG_TASK_RESULT, SUBJECT_RESULT, now);
        }
    }
}

static int connect_all(loads *s, uv_loop_t *loop, hv_soak_result *r)
{
    char name[32], cert[1024], key[1024];
    uint64_t now = hv_now_ns();
    for (uint32_t i = 0; i < s->n; i++) {
        load *l = &s->a[i];
        l->all = s;
        l->id = ((uint64_t)HV_SOAK_NODE << 32) | (i + 1);
        /* heartbeats spread over the interval, not all at once */
        l->next_hb_ns = now + (uint64_t)s->o->heartbeat_ms * 1000000u * i / s->n;
        l->next_result_ns = now + 1000000000ull * i / s->n;
        hv_net_opts no = s->o->net;
        if (s->o->cert_dir != NULL) {
            hv__soak_name(i + 1, name, sizeof(name));
            snprintf(cert, sizeof(cert), "%s/%s.pem", s->o->cert_dir, name);
            snprintf(key, sizeof(key), "%s/%s.key", s->o->cert_dir, name);
            no.cert_file = cert;
            no.key_file = key;
        }
        no.local_id = l->id;
        no.local_role = HV_WIRE_ROLE_WORKER;
        no.loop = loop;
        no.on_frame = load_frame;
        no.on_peer = load_peer;
        no.user = l;
        int rc = hv_net_connect(&no, &l->n);
        if (rc != 0) {
            snprintf(r->error, sizeof(r->error), "agent %u: %s", i + 1, hv_net_last_error(NULL));
            return rc;
        }
    }
    return 0;
}

int hv__soak_agents(const hv_soak_opts *o, hv_soak_result *r)
{
    memset(r, 0, sizeof(*r));
    if (o->agents == 0 || o->agents > HV_SOAK_AGENTS_MAX || o->heartbeat_ms == 0)
        return HV_EINVAL;
    loads s;
    memset(&s, 0, sizeof(s));
    s.o = o;
    s.n = o->agents;
    s.a = calloc(s.n, sizeof(*s.a));
    uv_loop_t loop;
    if (s.a == NULL || uv_loop_init(&loop) != 0 || hv_hist_init(&s.rtt, 10000000000ull, 7) != 0) {
        free(s.a);
        return HV_ENOMEM;
    }
    int rc = connect_all(&s, &loop, r);
    if (rc == 0) {
        s.end_ns = hv_now_ns() + (o->join_ms + o->run_ms) * 1000000ull;
        uv_timer_init(&loop, &s.tick);
        s.tick.data = &s;
        uv_timer_start(&s.tick, on_tick, 1, 1);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_close((uv_handle_t *)&s.tick, NULL);
    }
    for (uint32_t i = 0; i < s.n; i++)
        r->connected += (uint32_t)s.a[i].ever;
    r->rtt_samples = s.rtt.count;
    r->rtt_p50_ns = hv_hist_quantile(&s.rtt, 0.50);
    r->rtt_p99_ns = hv_hist_quantile(&s.rtt, 0.99);
    r->rtt_max_ns = hv_hist_quantile(&s.rtt, 1.0);
    for (uint32_t i = 0; i < s.n; i++)
        hv_net_free(s.a[i].n);
    uv_run(&loop, UV_RUN_NOWAIT); /* let the handles the clients closed finish closing */
    uv_loop_close(&loop);
    hv_hist_fini(&s.rtt);
    free(s.a);
    return rc;
}

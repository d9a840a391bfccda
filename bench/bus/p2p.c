/* bus_send_64B and bus_publish_64B: the whole bus path between two agents on two threads
 * (pooled message, inbox lane, counters, latency histogram, block policy), direct or through
 * subject routing, against ZeroMQ inproc PUSH/PULL and PUB/SUB. */
#include <stdio.h>
#include <stdlib.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

typedef struct bus_job {
    hv_bus *bus;
    hv_agent *src, *dst;
    uint64_t n;
    int publish;
    int batch; /* hv_bus_send_n with BATCH messages and one clock read per call */
    uint64_t sum;
#ifdef HV_HAVE_ZMQ
    hv__bb_zmq z;
#endif
} bus_job;

static void bus_prod_batch(bus_job *j)
{
    uint8_t payload[BATCH][64];
    hv_send m[BATCH];
    memset(payload, 0, sizeof(payload));
    for (int k = 0; k < BATCH; k++)
        m[k] = (hv_send){ .data = payload[k], .len = 64 };
    uint32_t to = hv_agent_id(j->dst);
    for (uint64_t i = 0; i < j->n;) {
        uint32_t k = j->n - i < BATCH ? (uint32_t)(j->n - i) : BATCH;
        for (uint32_t s = 0; s < k; s++) {
            uint64_t seq = i + s;
            memcpy(payload[s], &seq, sizeof(seq));
        }
        int rc = hv_bus_send_n(j->src, to, m, k, hv_now_ns());
        if (rc == HV_EAGAIN)
            continue; /* pool empty: the consumer is behind */
        if (rc <= 0)
            hv__bb_fail("bus send_n failed");
        i += (uint64_t)rc; /* a short batch resends the rest with fresh sequence numbers */
    }
}

static void bus_prod(void *x)
{
    bus_job *j = x;
    if (j->batch) {
        bus_prod_batch(j);
        return;
    }
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    uint32_t to = hv_agent_id(j->dst);
    uint64_t now = 0;
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload, &i, sizeof(i));
        if (i % BATCH == 0) /* a throughput loop: one clock read per BATCH messages */
            now = hv_now_ns();
        int rc;
        do {
            rc = j->publish ? hv_bus_publish(j->src, &m, now, NULL) - 1
                            : hv_bus_send(j->src, to, &m, now);
        } while (rc == HV_EAGAIN); /* pool empty: the consumer is behind */
        if (rc != 0)
            hv__bb_fail("bus send failed");
    }
}

static void bus_cons(void *x)
{
    bus_job *j = x;
    uint64_t got = 0, sum = 0;
    hv_bus_msg *m[BATCH];
    while (got < j->n) {
        int k = hv_agent_recv(j->dst, m, BATCH, hv_now_ns());
        if (k == 0) {
            hv_agent_wait(j->dst, 1000000000);
            continue;
        }
        for (int i = 0; i < k; i++) {
            uint64_t v;
            memcpy(&v, m[i]->data, sizeof(v));
            sum += v;
        }
        hv_bus_msg_release_n(m, (size_t)k);
        got += (uint64_t)k;
    }
    j->sum = sum;
}

#ifdef HV_HAVE_ZMQ
static void zmq_prod(void *x)
{
    bus_job *j = x;
    uint8_t payload[64] = { 0 };
    size_t off = j->publish ? 14 : 0;
    if (j->publish)
        memcpy(payload, "md.AAPL.quote ", 14);
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload + off, &i, sizeof(i));
        if (zmq_send(j->z.tx, payload, sizeof(payload), 0) != (int)sizeof(payload))
            hv__bb_fail("zmq_send");
    }
}

static void zmq_cons(void *x)
{
    bus_job *j = x;
    uint8_t buf[64];
    uint64_t sum = 0;
    size_t off = j->publish ? 14 : 0;
    for (uint64_t i = 0; i < j->n; i++) {
        if (zmq_recv(j->z.rx, buf, sizeof(buf), 0) != (int)sizeof(buf))
            hv__bb_fail("zmq_recv");
        uint64_t v;
        memcpy(&v, buf + off, sizeof(v));
        sum += v;
    }
    j->sum = sum;
}
#endif

/* One workload: direct sends or publishes, and the messages per sample. */
typedef struct p2p_ctx {
    int publish;
    uint64_t n;
} p2p_ctx;

static double rate(const bus_job *j, double secs)
{
    return hv__bb_rate(j->n, j->sum, secs, "bus/zmq");
}

/* variant 1: hv_bus_send_n batches. */
static double hv_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)s;
    const p2p_ctx *c = x;
    bus_job j = { .n = c->n, .publish = c->publish, .batch = impl->variant };
    j.bus = hv__bb_new_bus();
    j.src = hv__bb_new_agent(j.bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
    j.dst = hv__bb_new_agent(j.bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
    if (c->publish) {
        hv_sub_opts so = hv__bb_block_sub();
        hv_agent_subscribe(j.dst, "md.*.quote", &so, NULL);
    }
    double secs = hv__bb_run_pair(bus_prod, bus_cons, &j);
    hv_agent_stats st;
    hv_agent_stats_get(j.dst, &st);
    if (st.dropped_oldest + st.rejected != 0)
        hv__bb_fail("bus dropped messages in a throughput run");
    hv_bus_free(j.bus);
    return rate(&j, secs);
}

#ifdef HV_HAVE_ZMQ
static double zmq_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    const p2p_ctx *c = x;
    bus_job j = { .n = c->n, .publish = c->publish };
    hv__bb_zmq_open(&j.z, c->publish);
    double secs = hv__bb_run_pair(zmq_prod, zmq_cons, &j);
    hv__bb_zmq_close(&j.z);
    return rate(&j, secs);
}
#endif

static const hv_bench_impl send_impls[] = {
    { "hivewire", hv_sample, 0,
      "hv_bus_send per message (one clock read per 32 messages), block policy" },
    { "hivewire_batch", hv_sample, 1,
      "hv_bus_send_n of 32 messages (one clock read per call), block policy" },
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", zmq_sample, 0, "PUSH/PULL, one zmq_send per message" },
#endif
};

/* The batch call exists for direct sends only. */
static const hv_bench_impl publish_impls[] = {
    { "hivewire", hv_sample, 0,
      "hv_bus_publish per message (one clock read per 32 messages), wildcard subscriber, block "
      "policy" },
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", zmq_sample, 0, "PUB/SUB prefix, HWM unbounded, one zmq_send per message" },
#endif
};

static void params(const hv_bench_impl *impl, void *x, char *buf, size_t cap)
{
    const p2p_ctx *c = x;
    snprintf(buf, cap,
             "{\"msg_bytes\": 64, \"msgs\": %llu, \"threads\": 2, \"pinned\": %s, "
             "\"recv_batch\": %d, \"path\": \"%s\"}",
             (unsigned long long)c->n, hv__bb_pinned ? "true" : "false", BATCH, impl->path);
}

static void one(hv_bench_report *r, const hv_bench_opts *o, int publish)
{
    const char *name = publish ? "bus_publish_64B" : "bus_send_64B";
    if (!hv_bench_selected(o, name))
        return;
    uint64_t n = o->quick ? 50000 : 1000000;
    p2p_ctx c = { .publish = publish, .n = n / 10 };
    hv_bench_plan p = { .impls = publish ? publish_impls : send_impls,
                        .nimpl = publish ? sizeof(publish_impls) / sizeof(publish_impls[0])
                                         : sizeof(send_impls) / sizeof(send_impls[0]),
                        .samples = hv_bench_samples(o, 7),
                        .ctx = &c };
    uint64_t a0 = hv_bench_allocs();
    p.impls[0].sample(&p.impls[0], &c, 0); /* warm-up, and its allocations */
    uint64_t a1 = hv_bench_allocs();
    c.n = n;
    if (hv_bench_run(r, name, "msg/s", &p, NULL, params) != 0)
        hv__bb_fail("out of memory");
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
    if (!publish)
        hv_bench_ratio(r, name, "hivewire_batch", "zeromq_inproc");
    if (a0 != UINT64_MAX)
        hv_bench_note(r,
                      "%s: %llu heap allocations for a whole warm-up run of %llu messages "
                      "(bus + agents setup included; 0 per message on the hot path)",
                      name, (unsigned long long)(a1 - a0), (unsigned long long)(n / 10));
}

void hv__bb_p2p(hv_bench_report *r, const hv_bench_opts *o)
{
    one(r, o, 0);
    one(r, o, 1);
}

/* fanout_100: 1 publisher thread to 100 agents subscribed to "md.>", drained by the other
 * thread; deliveries per second. ZeroMQ: PUB to 100 SUB sockets. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

typedef struct fan_job {
    uint64_t n;   /* messages published */
    uint64_t got; /* deliveries */
    hv_bus *bus;
    hv_agent *src;
    hv_agent *agents[NAGENTS];
#ifdef HV_HAVE_ZMQ
    void *ctx, *pub, *subs[NAGENTS];
#endif
} fan_job;

static void fan_prod(void *x)
{
    fan_job *j = x;
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload, &i, sizeof(i));
        int rc;
        while ((rc = hv_bus_publish(j->src, &m, hv_now_ns(), NULL)) == HV_EAGAIN)
            sched_yield();
        if (rc != NAGENTS)
            hv__bb_fail("fan-out publish did not reach every agent");
    }
}

static void fan_cons(void *x)
{
    fan_job *j = x;
    hv_bus_msg *m[BATCH];
    uint64_t want = j->n * NAGENTS;
    while (j->got < want) {
        uint64_t before = j->got;
        for (int a = 0; a < NAGENTS; a++) {
            int k = hv_agent_recv(j->agents[a], m, BATCH, hv_now_ns());
            hv_bus_msg_release_n(m, (size_t)k);
            j->got += (uint64_t)k;
        }
        if (j->got == before)
            sched_yield();
    }
}

static double hv_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    fan_job *j = calloc(1, sizeof(*j));
    j->n = *(const uint64_t *)x;
    j->bus = hv__bb_new_bus();
    j->src = hv__bb_new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
    hv_sub_opts so = hv__bb_block_sub();
    for (int a = 0; a < NAGENTS; a++) {
        j->agents[a] = hv__bb_new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
        hv_agent_subscribe(j->agents[a], "md.>", &so, NULL);
    }
    double secs = hv__bb_run_pair(fan_prod, fan_cons, j);
    hv_bus_free(j->bus);
    double rate = (double)j->got / secs;
    free(j);
    return rate;
}

#ifdef HV_HAVE_ZMQ
static void zfan_prod(void *x)
{
    fan_job *j = x;
    uint8_t payload[64] = { 0 };
    memcpy(payload, "md.AAPL.quote ", 14);
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload + 14, &i, sizeof(i));
        zmq_send(j->pub, payload, sizeof(payload), 0);
    }
}

static void zfan_cons(void *x)
{
    fan_job *j = x;
    uint8_t buf[64];
    uint64_t want = j->n * NAGENTS;
    while (j->got < want) {
        uint64_t before = j->got;
        for (int a = 0; a < NAGENTS; a++) {
            for (int k = 0; k < BATCH; k++) {
                if (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) < 0)
                    break;
                j->got++;
            }
        }
        if (j->got == before)
            sched_yield();
    }
}

/* PUB/SUB joins are asynchronous: probe until every SUB receives, then drain the probes. */
static void zfan_join(fan_job *j)
{
    uint8_t probe[64] = "md.probe";
    int ready = 0;
    uint64_t deadline = hv_now_ns() + 5000000000ull;
    while (ready < NAGENTS && hv_now_ns() < deadline) {
        zmq_send(j->pub, probe, sizeof(probe), 0);
        ready = 0;
        for (int a = 0; a < NAGENTS; a++) {
            uint8_t buf[64];
            int got = 0;
            while (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
                got = 1;
            ready += got;
        }
    }
    for (int a = 0; a < NAGENTS; a++) {
        uint8_t buf[64];
        while (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
        }
    }
}

static double zmq_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    fan_job *j = calloc(1, sizeof(*j));
    j->n = *(const uint64_t *)x;
    int zero = 0;
    j->ctx = zmq_ctx_new();
    j->pub = zmq_socket(j->ctx, ZMQ_PUB);
    zmq_setsockopt(j->pub, ZMQ_SNDHWM, &zero, sizeof(zero));
    zmq_bind(j->pub, "inproc://fan");
    for (int a = 0; a < NAGENTS; a++) {
        j->subs[a] = zmq_socket(j->ctx, ZMQ_SUB);
        zmq_setsockopt(j->subs[a], ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(j->subs[a], ZMQ_SUBSCRIBE, "md.", 3);
        zmq_connect(j->subs[a], "inproc://fan");
    }
    zfan_join(j);
    double secs = hv__bb_run_pair(zfan_prod, zfan_cons, j);
    for (int a = 0; a < NAGENTS; a++)
        zmq_close(j->subs[a]);
    zmq_close(j->pub);
    zmq_ctx_term(j->ctx);
    double rate = (double)j->got / secs;
    free(j);
    return rate;
}
#endif

static const hv_bench_impl impls[] = {
    { "hivewire", hv_sample, 0, NULL },
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", zmq_sample, 0, NULL },
#endif
};

void hv__bb_fanout(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "fanout_100";
    if (!hv_bench_selected(o, name))
        return;
    uint64_t n = o->quick ? 300 : 20000;
    hv_bench_plan p = { .impls = impls,
                        .nimpl = sizeof(impls) / sizeof(impls[0]),
                        .samples = hv_bench_samples(o, 5),
                        .ctx = &n };
    char params[256];
    snprintf(params, sizeof(params),
             "{\"msg_bytes\": 64, \"published\": %llu, \"subscribers\": %d, "
             "\"pattern\": \"md.>\", \"threads\": 2, \"pinned\": %s, \"unit_counts\": "
             "\"deliveries\"}",
             (unsigned long long)n, NAGENTS, hv__bb_pinned ? "true" : "false");
    if (hv_bench_run(r, name, "msg/s", &p, params, NULL) != 0)
        hv__bb_fail("out of memory");
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
}

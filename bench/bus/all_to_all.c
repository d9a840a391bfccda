/* all_to_all_100: 100 agents on 2 threads (50 each); every agent sends to every other agent.
 * ZeroMQ: 100 PULL sockets, one PUSH per (thread, destination). A full inbox makes the sender
 * drain its own inboxes and retry. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

typedef struct a2a_job {
    uint64_t rounds;
    hv_bus *bus;
    hv_agent *agents[NAGENTS];
    uint64_t got[2];
#ifdef HV_HAVE_ZMQ
    void *ctx, *pull[NAGENTS], *push[2][NAGENTS];
#endif
    int zmq;
} a2a_job;

static uint64_t a2a_drain(a2a_job *j, int side)
{
    uint64_t got = 0;
    for (int a = side * (NAGENTS / 2); a < (side + 1) * (NAGENTS / 2); a++) {
#ifdef HV_HAVE_ZMQ
        if (j->zmq) {
            uint8_t buf[64];
            while (zmq_recv(j->pull[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
                got++;
            continue;
        }
#endif
        hv_bus_msg *m[BATCH];
        int k;
        while ((k = hv_agent_recv(j->agents[a], m, BATCH, hv_now_ns())) > 0) {
            hv_bus_msg_release_n(m, (size_t)k);
            got += (uint64_t)k;
        }
    }
    return got;
}

static int a2a_send(a2a_job *j, int side, int from, int to, const uint8_t *payload)
{
#ifdef HV_HAVE_ZMQ
    if (j->zmq)
        return zmq_send(j->push[side][to], payload, 64, ZMQ_DONTWAIT) == 64 ? 0 : HV_EAGAIN;
#else
    (void)side;
#endif
    hv_send m = { .data = payload, .len = 64 };
    return hv_bus_send(j->agents[from], hv_agent_id(j->agents[to]), &m, hv_now_ns());
}

static void a2a_side(a2a_job *j, int side)
{
    uint8_t payload[64] = { 0 };
    uint64_t want = j->rounds * (NAGENTS / 2) * (NAGENTS - 1);
    for (uint64_t r = 0; r < j->rounds; r++) {
        for (int a = side * (NAGENTS / 2); a < (side + 1) * (NAGENTS / 2); a++) {
            for (int b = 0; b < NAGENTS; b++) {
                if (b == a)
                    continue;
                while (a2a_send(j, side, a, b, payload) != 0) {
                    j->got[side] += a2a_drain(j, side); /* full: make progress, retry */
                    sched_yield();
                }
            }
        }
        j->got[side] += a2a_drain(j, side);
    }
    while (j->got[side] < want) {
        uint64_t k = a2a_drain(j, side);
        j->got[side] += k;
        if (k == 0)
            sched_yield();
    }
}

static void a2a_side0(void *x)
{
    a2a_side(x, 0);
}

static void a2a_side1(void *x)
{
    a2a_side(x, 1);
}

/* Runs the prepared job on the thread pair and checks every message arrived: msg/s. */
static double run(a2a_job *j)
{
    double secs = hv__bb_run_pair(a2a_side0, a2a_side1, j);
    if (j->got[0] + j->got[1] != j->rounds * NAGENTS * (NAGENTS - 1))
        hv__bb_fail("all-to-all lost messages");
    return (double)(j->got[0] + j->got[1]) / secs;
}

static double hv_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    a2a_job *j = calloc(1, sizeof(*j));
    j->rounds = *(const uint64_t *)x;
    j->bus = hv__bb_new_bus();
    for (int a = 0; a < NAGENTS; a++)
        j->agents[a] = hv__bb_new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_REJECT_NEW);
    double rate = run(j);
    hv_bus_free(j->bus);
    free(j);
    return rate;
}

#ifdef HV_HAVE_ZMQ
static double zmq_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    a2a_job *j = calloc(1, sizeof(*j));
    j->rounds = *(const uint64_t *)x;
    j->zmq = 1;
    j->ctx = zmq_ctx_new();
    for (int a = 0; a < NAGENTS; a++) {
        char ep[32];
        snprintf(ep, sizeof(ep), "inproc://a2a-%d", a);
        j->pull[a] = zmq_socket(j->ctx, ZMQ_PULL);
        zmq_bind(j->pull[a], ep);
        for (int side = 0; side < 2; side++) {
            j->push[side][a] = zmq_socket(j->ctx, ZMQ_PUSH);
            zmq_connect(j->push[side][a], ep);
        }
    }
    double rate = run(j);
    for (int a = 0; a < NAGENTS; a++) {
        zmq_close(j->pull[a]);
        zmq_close(j->push[0][a]);
        zmq_close(j->push[1][a]);
    }
    zmq_ctx_term(j->ctx);
    free(j);
    return rate;
}
#endif

static const hv_bench_impl impls[] = {
    { "hivewire", hv_sample, 0, "reject-new, sender drains its own inboxes and retries" },
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", zmq_sample, 0, "EAGAIN at HWM, sender drains and retries" },
#endif
};

static void params(const hv_bench_impl *impl, void *x, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "{\"msg_bytes\": 64, \"agents\": %d, \"rounds\": %llu, \"threads\": 2, "
             "\"agents_per_thread\": %d, \"pinned\": %s, \"full_inbox\": \"%s\"}",
             NAGENTS, (unsigned long long)*(const uint64_t *)x, NAGENTS / 2,
             hv__bb_pinned ? "true" : "false", impl->path);
}

void hv__bb_all_to_all(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "all_to_all_100";
    if (!hv_bench_selected(o, name))
        return;
    uint64_t rounds = o->quick ? 3 : 100;
    hv_bench_plan p = { .impls = impls,
                        .nimpl = sizeof(impls) / sizeof(impls[0]),
                        .samples = hv_bench_samples(o, 5),
                        .ctx = &rounds };
    if (hv_bench_run(r, name, "msg/s", &p, NULL, params) != 0)
        hv__bb_fail("out of memory");
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
}

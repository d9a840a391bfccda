/*
 * hivewire-bench bus: the bus and its rings against ck_ring and ZeroMQ inproc, on the same
 * workloads, in the same run, interleaved (hivewire, then each peer, per sample). One file per
 * scenario:
 *
 * - spsc.c, spsc_<n>B: two threads, one ring, n-byte values copied in and out. hivewire's SPSC
 *   ring with batches of 32 and one value at a time (reserve/commit of 1), against ck_ring's
 *   SPSC typed ring (one value at a time: ck has no batch API) and ZeroMQ PUSH/PULL.
 * - p2p.c, bus_send_64B: two agents on two threads: hv_bus_send + hv_agent_recv (pooled
 *   messages, inbox lanes, counters, latency histogram, backpressure "block") against ZeroMQ
 *   inproc PUSH/PULL; bus_publish_64B: the same through subject routing (publish
 *   "md.AAPL.quote", one subscriber on "md.*.quote") against ZeroMQ PUB/SUB.
 * - paced.c, paced_latency_64B: one-way latency at a fixed send rate, measured from each
 *   message's intended send time (no coordinated omission); consumers busy-poll.
 * - fanout.c, fanout_100: 1 publisher thread -> 100 agents subscribed by wildcard, drained by a
 *   second thread; deliveries per second. ZeroMQ: PUB -> 100 SUB sockets.
 * - all_to_all.c, all_to_all_100: 100 agents on 2 threads (50 each); every agent sends to every
 *   other agent. ZeroMQ: 100 PULL sockets, one PUSH per (thread, destination).
 * - topic_match.c, topic_match_*: ns per match, 10,000 five-token subscriptions: the trie
 *   (uncached), the publisher's match cache (hit), and a brute-force scan of every pattern.
 * - memory.c, memory_100_agents: resident bytes for a bus with 100 agents and their inboxes (a
 *   forked child measures its RSS growth); ZeroMQ: context + 100 SUB + 1 PUB.
 *
 * This file: the pinned thread pair, set-up helpers, and the entry point.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"
#include "platform/platform.h"

int hv_bench_bus(const hv_bench_opts *opts);

int hv__bb_pinned;

static int pin_self(int cpu)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
    return hv__cpu_pin_self(cpu) == 0;
}

typedef struct pair {
    void (*fn[2])(void *arg);
    void *arg;
    pthread_barrier_t start;
    int pinned[2];
    uint64_t t0, t1;
} pair;

typedef struct pair_thread {
    pair *p;
    int side; /* 0 producer (CPU 0), 1 consumer (CPU 1) */
} pair_thread;

static void *pair_main(void *x)
{
    pair_thread *pt = x;
    pair *p = pt->p;
    p->pinned[pt->side] = pin_self(pt->side);
    pthread_barrier_wait(&p->start);
    if (pt->side == 0)
        p->t0 = hv_now_ns();
    p->fn[pt->side](p->arg);
    if (pt->side == 1)
        p->t1 = hv_now_ns();
    return NULL;
}

double hv__bb_run_pair(void (*producer)(void *), void (*consumer)(void *), void *arg)
{
    pair p = { .fn = { producer, consumer }, .arg = arg };
    pthread_barrier_init(&p.start, NULL, 2);
    pair_thread pt[2] = { { &p, 0 }, { &p, 1 } };
    pthread_t t[2];
    pthread_create(&t[1], NULL, pair_main, &pt[1]);
    pthread_create(&t[0], NULL, pair_main, &pt[0]);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    pthread_barrier_destroy(&p.start);
    hv__bb_pinned = p.pinned[0] && p.pinned[1];
    return (double)(p.t1 - p.t0) / 1e9;
}

void hv__bb_fail(const char *what)
{
    fprintf(stderr, "bench bus: %s\n", what);
    exit(1);
}

double hv__bb_rate(uint64_t n, uint64_t sum, double secs, const char *what)
{
    if (sum != n * (n - 1) / 2) {
        fprintf(stderr, "bench bus: %s lost or duplicated messages\n", what);
        exit(1);
    }
    return (double)n / secs;
}

hv_bus *hv__bb_new_bus(void)
{
    hv_bus *b;
    if (hv_bus_new(NULL, &b) != 0)
        hv__bb_fail("hv_bus_new");
    return b;
}

hv_agent *hv__bb_new_agent(hv_bus *b, int wait, int bp)
{
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.wait = wait;
    o.backpressure = bp;
    o.block_timeout_ns = 5ull * 1000 * 1000 * 1000;
    hv_agent *a;
    if (hv_agent_new(b, &o, &a) != 0)
        hv__bb_fail("hv_agent_new");
    return a;
}

hv_sub_opts hv__bb_block_sub(void)
{
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.backpressure = HV_BP_BLOCK;
    so.block_timeout_ns = 5ull * 1000 * 1000 * 1000;
    return so;
}

#ifdef HV_HAVE_ZMQ
void hv__bb_zmq_open(hv__bb_zmq *z, int publish)
{
    static int seq;
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://bench-%d", seq++);
    int zero = 0;
    z->ctx = zmq_ctx_new();
    z->rx = zmq_socket(z->ctx, publish ? ZMQ_SUB : ZMQ_PULL);
    z->tx = zmq_socket(z->ctx, publish ? ZMQ_PUB : ZMQ_PUSH);
    if (publish) {
        /* unbounded queues: PUB would otherwise drop at the high-water mark */
        zmq_setsockopt(z->rx, ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(z->tx, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(z->rx, ZMQ_SUBSCRIBE, "md.", 3);
    }
    int timeout_ms = 30000; /* a lost message fails the run instead of hanging it */
    zmq_setsockopt(z->rx, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
    if (zmq_bind(z->rx, ep) != 0 || zmq_connect(z->tx, ep) != 0)
        hv__bb_fail("zmq bind/connect");
    if (!publish)
        return;
    /* PUB/SUB subscriptions travel asynchronously: probe until the SUB receives */
    uint8_t probe[64] = "md.probe";
    uint64_t deadline = hv_now_ns() + 5000000000ull;
    for (;;) {
        zmq_send(z->tx, probe, sizeof(probe), 0);
        uint8_t buf[64];
        if (zmq_recv(z->rx, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
            break;
        if (hv_now_ns() > deadline)
            hv__bb_fail("zmq subscription never arrived");
        sched_yield();
    }
    uint8_t buf[64];
    while (zmq_recv(z->rx, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
    }
}

void hv__bb_zmq_close(hv__bb_zmq *z)
{
    zmq_close(z->tx);
    zmq_close(z->rx);
    zmq_ctx_term(z->ctx);
}
#endif

int hv_bench_bus(const hv_bench_opts *opts)
{
    hv_bench_report *r = hv_bench_report_new("bus", opts);
    if (r == NULL)
        return 1;
    hv__bb_memory(r, opts);
    hv__bb_spsc(r, opts);
    hv__bb_p2p(r, opts);
    hv__bb_paced(r, opts);
    hv__bb_fanout(r, opts);
    hv__bb_all_to_all(r, opts);
    hv__bb_topic_match(r, opts);
    hv_bench_note(r, "two-thread workloads pin the producer to CPU 0 and the consumer to CPU 1 "
                     "(params.pinned says whether pinning succeeded)");
#ifndef HV_HAVE_CK
    hv_bench_note(r, "ck_ring peer not built (pkg-config ck not found)");
#endif
#ifndef HV_HAVE_ZMQ
    hv_bench_note(r, "ZeroMQ peer not built (pkg-config libzmq not found)");
#endif
    return hv_bench_report_finish(r);
}

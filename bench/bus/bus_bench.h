/*
 * hivewire-bench bus: what the scenario files (spsc.c, p2p.c, paced.c, fanout.c, all_to_all.c,
 * topic_match.c, memory.c) share: the pinned thread pair, bus and agent set-up, the ZeroMQ
 * socket pair, and ck_ring's typed rings. Each scenario has a table of implementations
 * (hivewire's, then its peers') that hv_bench_interleave() runs sample by sample.
 */
#ifndef HV_BENCH_BUS_BUS_BENCH_H
#define HV_BENCH_BUS_BUS_BENCH_H

#include <stdint.h>
#include <string.h>

#include <hivewire/bus.h>

#include "bench.h"

#ifdef HV_HAVE_CK
#include <ck_ring.h>
#endif

#define BATCH      32
#define BATCH_S    "32"
#define RING_CAP   1024
#define RING_CAP_S "1024"
#define NAGENTS    100

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* 1 if the last hv__bb_run_pair() could pin both threads (to CPU 0 and CPU 1). */
extern int hv__bb_pinned;

/* Runs producer on CPU 0 and consumer on CPU 1 (each pinned when the machine has two CPUs);
 * returns the seconds from the producer's start to the consumer's end. */
double hv__bb_run_pair(void (*producer)(void *), void (*consumer)(void *), void *arg);

/* Prints "bench bus: what" and exits 1: a benchmark that lost messages measures nothing. */
__attribute__((noreturn)) void hv__bb_fail(const char *what);

/* msg/s of a round that moved n sequence numbers 0..n-1 in secs, after checking the consumer's
 * sum of them; a wrong sum fails the bench with "what lost or duplicated messages". */
double hv__bb_rate(uint64_t n, uint64_t sum, double secs, const char *what);

/* A bus with default options, and an agent on it with the given wait and backpressure
 * policies (block timeout 5 s). Exit through hv__bb_fail() on error. */
hv_bus *hv__bb_new_bus(void);
hv_agent *hv__bb_new_agent(hv_bus *b, int wait, int bp);

/* Subscription options of the throughput runs: block policy, 5 s timeout. */
hv_sub_opts hv__bb_block_sub(void);

#ifdef HV_HAVE_ZMQ
/* A connected inproc pair: PUSH -> PULL, or (publish) PUB -> SUB with unbounded queues and a
 * "md." subscription that is known to have arrived. Receives time out after 30 s. */
typedef struct hv__bb_zmq {
    void *ctx, *tx, *rx;
} hv__bb_zmq;

void hv__bb_zmq_open(hv__bb_zmq *z, int publish);
void hv__bb_zmq_close(hv__bb_zmq *z);
#endif

#ifdef HV_HAVE_CK
/* ck_ring's typed SPSC rings of 8-, 64- and 256-byte values. */
struct m8 {
    uint8_t b[8];
};
struct m64 {
    uint8_t b[64];
};
struct m256 {
    uint8_t b[256];
};
CK_RING_PROTOTYPE(m8, m8)
CK_RING_PROTOTYPE(m64, m64)
CK_RING_PROTOTYPE(m256, m256)
#endif

/* The scenarios, in the order hv_bench_bus() runs them. */
void hv__bb_memory(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_spsc(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_p2p(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_paced(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_fanout(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_all_to_all(hv_bench_report *r, const hv_bench_opts *o);
void hv__bb_topic_match(hv_bench_report *r, const hv_bench_opts *o);

#endif

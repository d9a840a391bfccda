/*
 * Test helpers for the decision log: a writer that chains entries (seq, previous hash), and a
 * scripted run that produces the entries a coordinator would log (cycles with synthetic bars,
 * decisions with votes, order results), computing each result on a reference venue driven the
 * way the execution and risk agents drive theirs.
 */
#ifndef HV_TESTS_LOG_UTIL_H
#define HV_TESTS_LOG_UTIL_H

#include <hivewire/log.h>
#include <hivewire/market.h>
#include <hivewire/rng.h>

#include "swarm/swarm_int.h"

typedef struct logw {
    uint64_t seq;
    uint8_t head[HV_LOG_HASH_BYTES];
    uint8_t buf[HV_LOG_ENTRY_MAX]; /* the last entry encoded */
    size_t len;
} logw;

/* Chains e after the writer's last entry (sets seq and prev) and encodes it into w->buf. */
int logw_put(logw *w, hv_log_entry *e);

/* A genesis for the default swarm's trading state over `cycles` cycles. */
void log_genesis(hv_log_entry *e, uint64_t cycles);

typedef struct logrun {
    hv_log_genesis g;
    hv_synth synth;
    hv_rng rng;
    sw_venue venue; /* the reference: what the execution agent would hold */
    hv_limits *limits;
    uint64_t cycle;     /* next cycle */
    uint64_t trades;    /* the reference's trade list hash */
    uint64_t proposals; /* decisions logged */
    uint64_t accepted;
    int finished;
    int step;             /* within a cycle: 0 cycle, 1 decision, 2 result, 3 end */
    double close;         /* the cycle's close */
    hv_log_entry e, last; /* the entry being made, the cycle's decision */
} logrun;

int logrun_init(logrun *r, uint64_t cycles, uint64_t seed);
void logrun_fini(logrun *r);

/* The entries of the next step, one at a time: each call writes the next entry of the run into
 * w (genesis first, then per cycle: cycle, maybe a decision and its result, cycle end; then
 * finish). Returns 1 when an entry was written, 0 once the run is over. */
int logrun_next(logrun *r, logw *w);
/* The same, unchained: the next entry of the run into *e (its seq and prev left to the
 * caller). Returns 1, or 0 once the run is over. */
int logrun_entry(logrun *r, hv_log_entry *e);

#endif

/*
 * hivewire: deterministic simulation of the consensus engine.
 *
 * One run = one seed. A coordinator hosts the engine and opens proposals; agents receive them
 * over a simulated network (delay, loss, duplication, reordering), may crash, and may be
 * Byzantine (vote at random, equivocate, forge signatures or impersonate other agents). Time
 * is simulated; every random choice comes from one hv_rng seeded by the seed, and Ed25519 and
 * MAC keys derive from the seed, so a seed replays the same trace, whose BLAKE2b hash the run
 * reports. Invariants are checked after every step (see docs/CONSENSUS.md, "Simulator"); the
 * first violation stops the run.
 *
 * Threads: hv_sim_consensus_run() is reentrant; runs on different threads are independent.
 */
#ifndef HIVEWIRE_SIM_H
#define HIVEWIRE_SIM_H

#include <stdio.h>

#include <hivewire/consensus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fault classes (bit mask). */
#define HV_SIM_DELAY     0x01u /* random message delays (otherwise a fixed 100 us) */
#define HV_SIM_LOSS      0x02u /* 10% of messages lost */
#define HV_SIM_DUP       0x04u /* 10% of messages delivered twice */
#define HV_SIM_REORDER   0x08u /* 20% of messages held back so later ones overtake them */
#define HV_SIM_CRASH     0x10u /* `crashed` agents stop at a random time */
#define HV_SIM_BYZANTINE 0x20u /* `byzantine` agents misbehave */
#define HV_SIM_ALL       0x3fu /* every fault of the consensus simulator */
#define HV_SIM_RESTART   0x40u /* swarm: crashed agents come back after a while, fresh */
#define HV_SIM_SLOW      0x80u /* swarm: one agent takes 2-20 ms per message it handles */
#define HV_SIM_SWARM_ALL                                                                        \
    (HV_SIM_DELAY | HV_SIM_LOSS | HV_SIM_DUP | HV_SIM_REORDER | HV_SIM_CRASH | HV_SIM_RESTART | \
     HV_SIM_SLOW) /* every fault of the whole-swarm simulator */

#define HV_SIM_AGENTS_MAX    64
#define HV_SIM_PROPOSALS_MAX 100000

typedef struct hv_sim_consensus_opts {
    size_t size; /* sizeof(hv_sim_consensus_opts) */
    uint64_t seed;
    uint32_t agents;    /* 4..HV_SIM_AGENTS_MAX; default 7 */
    uint32_t proposals; /* 1..HV_SIM_PROPOSALS_MAX; default 20 */
    uint32_t faults;    /* HV_SIM_* */
    uint32_t byzantine; /* with HV_SIM_BYZANTINE; 0 = floor((agents-1)/3); must keep
                         * agents >= 3 * byzantine + 1; non-zero without the flag: HV_EINVAL */
    uint32_t crashed;   /* with HV_SIM_CRASH; 0 = 1; byzantine + crashed <= agents;
                         * non-zero without the flag: HV_EINVAL */
    int no_early;       /* run the engine without early termination */
    FILE *trace;        /* if not NULL, one line per event */
} hv_sim_consensus_opts;

typedef struct hv_sim_consensus_result {
    uint8_t trace_hash[32];
    char trace_hex[65];
    uint64_t events;     /* events processed (messages, opens, ticks) */
    uint64_t sim_end_ns; /* simulated time at the end */
    uint64_t decided[HV_OUTCOME_COUNT];
    uint64_t decided_early;
    uint64_t votes_sent, votes_counted, votes_refused;
    uint64_t lost, duplicated;
    uint64_t forged_sent, equivocations_sent, equivocations_detected;
    uint64_t et_compared; /* proposals whose outcome was compared with early termination off */
    int violation;        /* 0 if every invariant held */
    char message[256];    /* the first violation */
} hv_sim_consensus_result;

/* Defaults: seed 0, agents 7, proposals 20, no faults. */
HV_EXTERN void hv_sim_consensus_opts_default(hv_sim_consensus_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size;
 * agents or proposals out of range; unknown fault bits; a byzantine or crashed count without
 * its fault flag; agents < 3 * byzantine + 1; byzantine + crashed > agents). Pure. */
HV_EXTERN int hv_sim_consensus_opts_check(const hv_sim_consensus_opts *o, hv_field_error *err);

/* Parses a fault list of the consensus simulator: "none", "all", or comma-separated
 * delay,loss,dup,reorder,crash,byzantine. Returns 0 or HV_EPARSE. */
HV_EXTERN int hv_sim_parse_faults(const char *s, uint32_t *mask);

/* The same for any simulator: "all" means every bit of `all`, and only names whose bits are
 * in `all` are accepted (also restart, slow). Returns 0 or HV_EPARSE. */
HV_EXTERN int hv_sim_parse_fault_set(const char *s, uint32_t all, uint32_t *mask);

/* Writes the fault list of mask as text ("none" or "delay,loss,..."). */
HV_EXTERN void hv_sim_format_faults(uint32_t mask, char *out, size_t cap);

/* Runs one simulation. Returns 0 when the run completed (check out->violation), HV_EINVAL for
 * options hv_sim_consensus_opts_check() refuses (it names the field), HV_ENOMEM, or an engine
 * error that is not a vote outcome. */
HV_EXTERN int hv_sim_consensus_run(const hv_sim_consensus_opts *cfg, hv_sim_consensus_result *out);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_SIM_H */

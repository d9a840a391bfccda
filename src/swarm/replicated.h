/*
 * Internal: the swarm's coordinator on the replicated decision log (docs/LOG.md).
 *
 * sw_replicas runs N replicas of the log (hv_replica on raft_uv, talking over mutual TLS on
 * loopback, each in DIR/replica-K) on one libuv loop, inside the coordinator's process, and is
 * the coordinator's sw_log_ops: entries are proposed to whichever replica leads (queued while
 * none does), commit notices come back to the coordinator. It is also an actor in the swarm's
 * runner, which drives the replicas' loop on its thread: the coordinator and the log share one
 * thread (the one-thread runner), as the gateway and the QUIC hub do.
 *
 * A change of leader during a run stops the run (the coordinator's notice says so): the log
 * keeps what committed, and `hivewire log verify` reads it.
 */
#ifndef HV_SWARM_REPLICATED_H
#define HV_SWARM_REPLICATED_H

#include "agent/agent.h"
#include "swarm/swarm_int.h"

typedef struct sw_replicas sw_replicas;

typedef struct sw_replicas_opts {
    uint32_t n;            /* replicas, 1..HV_REPLICAS_MAX */
    const char *data_dir;  /* DIR/replica-K for replica K (made when missing) */
    const char *certs_dir; /* the CA and replica-K certificates (made when missing) */
    uint32_t node;
    unsigned snapshot_threshold; /* 0: the replica's default */
    const hv_swarm_opts *cfg;    /* the trading state's configuration: the log's genesis */
    const hv_bar *bars;          /* the cycles' bars (borrowed) */
    size_t nbars;
    uint64_t cycles; /* cycles the run has */
    int fresh;       /* refuse a log that holds a run already (a run starts from a new log) */
} sw_replicas_opts;

/* Starts the replicas and waits (at most 10 s, running their loop) until one leads (and has
 * applied the whole log). Returns 0, HV_EEXIST (o->fresh and the log holds a run), or another
 * HV_E* code; err says why. */
int hv__sw_replicas_new(sw_replicas **out, const sw_replicas_opts *o, char *err, size_t cap);
/* Runs the loop until every replica applied every entry proposed here and every entry the
 * leader holds (after a restart: the whole log on disk), at most 10 s. 0 or HV_ETIMEDOUT. */
int hv__sw_replicas_settle(sw_replicas *r);
void hv__sw_replicas_free(sw_replicas *r);

/* The log as the coordinator uses it, and the actor to add to the runner. */
const sw_log_ops *hv__sw_replicas_ops(void);
hv_actor *hv__sw_replicas_actor(sw_replicas *r);

typedef struct sw_replica_info {
    uint64_t term, commit, applied;
    hv_log_status st;
    uint8_t state_hash[HV_LOG_HASH_BYTES];
    int leader;
} sw_replica_info;

/* Replica k's figures (0 <= k < n). */
void hv__sw_replicas_info(const sw_replicas *r, uint32_t k, sw_replica_info *out);
uint32_t hv__sw_replicas_count(const sw_replicas *r);

/* swarm.c: the log for the coordinator of s, and its actor in s's runner (one-thread runner
 * only). Before hv_swarm_run(). 0, HV_EINVAL (a runner of threads), HV_EFULL. */
int hv__swarm_attach_log(hv_swarm *s, const sw_log_ops *ops, void *ud, hv_actor *actor);

#endif

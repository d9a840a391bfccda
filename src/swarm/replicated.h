/*
 * Internal: the swarm's coordinator on the replicated decision log (docs/LOG.md).
 *
 * sw_replicas runs replicas of the log (hv_replica on raft_uv, talking over mutual TLS, each in
 * DIR/replica-K) on one libuv loop and is the coordinator's sw_log_ops: entries are proposed to
 * the replica here that leads (queued while none does), commit notices come back to the
 * coordinator. It is also an actor in the swarm's runner (the one-thread runner). Two uses,
 * one code path:
 *
 *  - all N replicas in this process (self 0: hivewire run --replicas N), on loopback; a change
 *    of leader during a run stops the run (the coordinator's notice says so). Their loop runs
 *    on a thread of its own from hv__sw_replicas_new until hv__sw_replicas_settle (or _halt,
 *    or _free): entries and notices cross under a mutex, and the actor's link is an eventfd
 *    that wakes the runner when a notice waits. The entries' queue holds 1,024: a coordinator
 *    that runs that far ahead of the replicas waits for room (10 s at most, then HV_EFULL),
 *    counted in full_waits. Everything else below waits for that thread to stop;
 *  - one replica in a process of its own (self K: hivewire coordinator --replica K), the others
 *    elsewhere; on_lead says when it starts and stops leading, the process runs a coordinator
 *    only while it leads (a new one each time, resumed from the log: hv__swarm_resume), and
 *    when it stops leading every entry in flight ends with HV_ENOTLEADER.
 *
 * The log keeps what committed; `hivewire log verify` reads it.
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
    /* one replica in a process of its own: */
    uint32_t self;                /* 0: all n here; k: replica k only (1 .. n) */
    const char *const *addresses; /* self != 0: the n replicas' Raft "host:port" */
    int issue_certs;              /* self != 0: make the CA and replicas' certificates if missing */
    unsigned election_timeout_ms; /* 0: the replica's default */
    void (*on_lead)(void *ud, int leading); /* self != 0: on the loop's thread */
    void *ud;
} sw_replicas_opts;

/* Starts the replicas; with every replica here, waits (at most 10 s, running their loop) until
 * one leads (and has applied the whole log). Returns 0, HV_EEXIST (o->fresh and the log holds
 * a run), or another HV_E* code; err says why. */
int hv__sw_replicas_new(sw_replicas **out, const sw_replicas_opts *o, char *err, size_t cap);
/* Runs the loop until every replica applied every entry proposed here and every entry the
 * leader holds (after a restart: the whole log on disk), at most 10 s. 0 or HV_ETIMEDOUT. */
int hv__sw_replicas_settle(sw_replicas *r);
/* Stops the loop's own thread (self 0): the loop is the caller's again. */
void hv__sw_replicas_halt(sw_replicas *r);
void hv__sw_replicas_free(sw_replicas *r);

/* The log as the coordinator uses it, and the actor to add to the runner. */
const sw_log_ops *hv__sw_replicas_ops(void);
hv_actor *hv__sw_replicas_actor(sw_replicas *r);

typedef struct sw_replica_info {
    uint64_t term, commit, applied;
    hv_log_status st;
    uint8_t state_hash[HV_LOG_HASH_BYTES];
    int leader;
    uint64_t full_waits; /* the coordinator's appends that waited for room (all replicas here) */
} sw_replica_info;

/* Replica k's figures (0 <= k < n). */
void hv__sw_replicas_info(const sw_replicas *r, uint32_t k, sw_replica_info *out);
uint32_t hv__sw_replicas_count(const sw_replicas *r);

/* The replica here that leads (or, self != 0, this process's replica): its state machine, and
 * the last decision it applied (proposal id 0: none seen since it started). */
const hv_log_fsm *hv__sw_replicas_fsm(const sw_replicas *r);
const hv_decision *hv__sw_replicas_last_decision(const sw_replicas *r);
/* The leader this process's replica knows: its number (0: none) and Raft term. */
void hv__sw_replicas_leader(const sw_replicas *r, uint64_t *replica, uint64_t *term);
/* The replicas' loop (to run other handles on it, as the follower's hub). */
struct uv_loop_s *hv__sw_replicas_loop(sw_replicas *r);

/* Makes, in certs_dir, the CA (unless there is one) and the certificates of replicas 1..n on
 * node (those there are kept). 0 or HV_EIO with err. */
int hv__sw_replicas_certs(const char *certs_dir, uint32_t n, uint32_t node, char *err, size_t cap);

/* swarm.c: the log for the coordinator of s, and its actor in s's runner (one-thread runner
 * only). Before hv_swarm_run(). 0, HV_EINVAL (a runner of threads), HV_EFULL. */
int hv__swarm_attach_log(hv_swarm *s, const sw_log_ops *ops, void *ud, hv_actor *actor);
/* swarm.c: s's coordinator takes the run of the log f over (hv__sw_coord_resume); before
 * hv_swarm_run(). 0 or its error (hv_swarm_error() says why). What it found, for the report:
 * hv__swarm_resumed(). */
int hv__swarm_resume(hv_swarm *s, const hv_log_fsm *f, const hv_decision *last);
const sw_resume *hv__swarm_resumed(const hv_swarm *s);

#endif

/*
 * Internal: one replica of the decision log. canonical/raft 0.15 with raft_uv for durable
 * storage in a data directory, on the caller's libuv loop, with the log's state machine
 * (hv_log_fsm) as Raft's FSM, and a raft_uv_transport the caller chooses (the mutual-TLS one in
 * production, src/log/tls.c; raft's plain TCP only in tests).
 *
 * The leader is the only replica that proposes, and only once it knows where the log ends: when
 * this replica becomes leader it appends a barrier, and when the barrier is applied every entry
 * before it is applied too, so the state machine's chain head is the chain head of the log.
 * Then it is "ready" (on_role(1)) and hv_replica_propose() chains each entry (seq, previous
 * hash) after the last one it proposed.
 *
 * A replica writes to sockets whose peer may have died: the process must ignore SIGPIPE (the
 * write then fails with EPIPE and the connection is dropped), as every libuv program must.
 *
 * Threads: everything on the loop's thread, callbacks included. Ownership: the replica copies
 * the options' strings; the transport and the loop belong to the caller and must outlive the
 * replica (until the close callback has run).
 */
#ifndef HV_LOG_REPLICA_H
#define HV_LOG_REPLICA_H

#include <raft.h>
#include <raft/uv.h>

#include <hivewire/log.h>

#define HV_REPLICAS_MAX 5

typedef struct hv_replica hv_replica;

typedef struct hv_replica_opts {
    size_t size;                            /* sizeof(hv_replica_opts) */
    uint64_t id;                            /* 1 .. n: this replica */
    uint32_t n;                             /* replicas in the cluster: 1 .. HV_REPLICAS_MAX */
    const char *addresses[HV_REPLICAS_MAX]; /* "host:port" of replica i + 1 */
    const char *data_dir;                   /* must exist; raft_uv's files */
    struct uv_loop_s *loop;
    struct raft_uv_transport *transport; /* initialised by the caller */
    unsigned election_timeout_ms;        /* default 300 */
    unsigned heartbeat_ms;               /* default 50 */
    unsigned snapshot_threshold;         /* entries between snapshots, default 4096 */
    unsigned snapshot_trailing;          /* entries kept after one, default 4096 */
    size_t snapshot_bytes_max;           /* default 64 MiB (hv_log_fsm_opts) */
    size_t segment_bytes;                /* raft_uv segment size, default 8 MiB */
    /* Events (the loop's thread): */
    void *ud;
    /* leader: 1 once ready to propose, 0 when it stops leading (every proposal in flight then
     * ends with on_commit(token, error) or commits later under another leader) */
    void (*on_role)(void *ud, int leader);
    /* every committed entry as this replica applies it, with the state machine's verdict (e is
     * NULL for bytes that are not an entry) */
    void (*on_apply)(void *ud, const hv_log_entry *e, int rc);
    /* a proposal of this replica: 0 committed and applied (rc the state machine's verdict in
     * *verdict), or HV_ENOTLEADER when it may not have committed (leadership lost) */
    void (*on_commit)(void *ud, uint64_t token, int status, int verdict);
} hv_replica_opts;

void hv_replica_opts_default(hv_replica_opts *o);

/* Opens (and on first use bootstraps) the data directory, loads the snapshot and the log,
 * starts Raft. Returns 0, HV_EINVAL (an option), HV_EIO (raft_uv: err says why), HV_ENOMEM. */
int hv_replica_start(hv_replica **out, const hv_replica_opts *o, char *err, size_t cap);

/* Leader only, once ready: chains e after the last entry (sets e->seq and e->prev) and appends
 * it; on_commit(token, ...) follows. Returns 0, HV_ENOTLEADER (not the leader, or not ready
 * yet: ask hv_replica_leader), HV_ENOMEM, or an encoding error (a bad entry). */
int hv_replica_propose(hv_replica *r, hv_log_entry *e, uint64_t token);

/* 1 when this replica leads and is ready to propose. */
int hv_replica_ready(const hv_replica *r);
/* The leader this replica knows (0 and NULL when none). */
void hv_replica_leader(const hv_replica *r, uint64_t *id, const char **address);
const hv_log_fsm *hv_replica_fsm(const hv_replica *r);
/* Raft's figures: term, commit index, last applied, last stored. */
void hv_replica_raft_stats(const hv_replica *r, uint64_t *term, uint64_t *commit,
                           uint64_t *applied);
/* Proposals in flight (appended, not yet committed or lost). */
uint32_t hv_replica_inflight(const hv_replica *r);

/* Stops Raft and releases everything; cb(ud) runs on the loop once it is safe to stop the
 * loop. Proposals in flight end with on_commit(token, HV_ENOTLEADER). */
void hv_replica_close(hv_replica *r, void (*cb)(void *ud), void *ud);

#endif

/*
 * Internal: canonical/raft's raft_uv_transport over TCP with mutual TLS 1.3 (GnuTLS), the
 * replicas' transport. Each replica has a certificate made by `hivewire certs issue` with the
 * role `coordinator` and the id (node << 32) | (4096 + k) for replica k (HV_LOG_REPLICA_LOCAL);
 * both ends verify the other's chain against the swarm's CA and its identity: a client refuses
 * a server that is not the replica it dialled, a server refuses a client whose certificate is
 * not the replica its hello names. No byte of Raft's travels before that.
 *
 * Raft gets, for each authenticated connection, one end of a socketpair (a uv_pipe_t it owns
 * and closes, allocated with raft_malloc); the other end is pumped through the TLS session by
 * this transport. A socketpair is private to the process: nothing else can reach it.
 *
 * The wire, inside TLS: the client's hello (20 + n bytes: "HVRT" magic, version u32 = 1, raft
 * id u64, the address's length u32 and its n bytes; docs/PROTOCOL.md, "Replica transport"),
 * then Raft's own stream of messages (raft_uv's encoding), both ways.
 *
 * Threads: the loop's. Ownership: the caller embeds the raft_uv_transport; after its close
 * callback, hv__log_tls_fini() frees what init allocated.
 */
#ifndef HV_LOG_TLS_H
#define HV_LOG_TLS_H

#include <raft/uv.h>

#define HV_LOG_REPLICA_LOCAL(k) (4096u + (uint32_t)(k)) /* local id of replica k's certificate */

typedef struct hv_log_tls_opts {
    const char *ca_file, *cert_file, *key_file; /* PEM: `hivewire certs` */
    uint32_t node;                              /* the swarm's node part of every id */
} hv_log_tls_opts;

typedef struct hv_log_tls_stats {
    uint64_t accepted;            /* inbound connections handed to raft */
    uint64_t connected;           /* outbound connections handed to raft */
    uint64_t refused_tls;         /* handshakes that failed (certificate, protocol, not TLS) */
    uint64_t refused_identity;    /* a valid certificate of someone else */
    uint64_t connect_failed;      /* outbound attempts that failed before TLS */
    uint64_t bytes_in, bytes_out; /* application bytes (Raft's) each way */
} hv_log_tls_stats;

/* Sets t up on loop with the replica's credentials. Returns 0, HV_EINVAL (opts), HV_EAUTH (the
 * files: err says which), HV_ENOMEM. */
int hv__log_tls_init(struct raft_uv_transport *t, struct uv_loop_s *loop, const hv_log_tls_opts *o,
                     char *err, size_t cap);
/* After t->close's callback: frees the credentials. */
void hv__log_tls_fini(struct raft_uv_transport *t);
void hv__log_tls_stats(const struct raft_uv_transport *t, hv_log_tls_stats *out);

#endif

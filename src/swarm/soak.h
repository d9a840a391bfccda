/*
 * Internal: many lightweight agents against one coordinator's hub, for a bounded time (issue
 * 16's soak). Each load agent has its own QUIC connection and certificate identity
 * ("load-<i>", id (2 << 32) | i), sends a heartbeat every heartbeat_ms and a task result every
 * second; the hub answers each heartbeat to its sender, and the agent records the round trip.
 * The hub side reports who joined and who was lost, and its own resident memory per agent; the
 * agents' side, the heartbeat round trips (p50, p99, max).
 */
#ifndef HV_SWARM_SOAK_H
#define HV_SWARM_SOAK_H

#include <stdint.h>

#include <hivewire/net.h>

#define HV_SOAK_NODE       2u /* the load agents' node in their ids */
#define HV_SOAK_AGENTS_MAX 10000u

typedef struct hv_soak_opts {
    uint32_t agents;       /* 1 .. HV_SOAK_AGENTS_MAX */
    uint32_t heartbeat_ms; /* 100: ten a second */
    uint64_t run_ms;       /* how long, once every agent joined */
    uint64_t join_ms;      /* how long every agent has to join (hub) */
    hv_net_opts net;       /* host, port; certificates: ca_file, and cert_dir for the agents */
    const char *cert_dir;  /* agents: load-<i>.pem/.key in it (NULL with HV_NET_INSECURE) */
} hv_soak_opts;

typedef struct hv_soak_result {
    uint32_t joined, lost, refused;                           /* peers (hub) */
    uint64_t heartbeats, results;                             /* received by the hub */
    uint64_t rss_before, rss_after;                           /* the hub process's resident bytes */
    uint64_t rtt_p50_ns, rtt_p99_ns, rtt_max_ns, rtt_samples; /* agents */
    uint32_t connected;                                       /* agents: how many joined the hub */
    char error[160];
} hv_soak_result;

/* Runs the hub: waits join_ms for o->agents agents, then answers heartbeats for run_ms. Returns
 * 0 (check joined/lost) or an HV_E* code. */
int hv__soak_hub(const hv_soak_opts *o, hv_soak_result *r);

/* Runs o->agents load agents in this process, on one thread, for join + run time. */
int hv__soak_agents(const hv_soak_opts *o, hv_soak_result *r);

/* The name of load agent i ("load-7"). */
void hv__soak_name(uint32_t i, char *out, size_t cap);

#endif

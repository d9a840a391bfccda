/*
 * Internal: the swarm spread over processes (and machines) on the QUIC transport.
 *
 * The coordinator's process runs the coordinator, the agents placed with it, and the gateway
 * (gateway.c), all on its bus under one runner; every other process runs one or more agents,
 * each on its own net link (src/agent/net_link.h) with its own certificate identity. The agents
 * are the same state machines as in one process: only their links differ.
 */
#ifndef HV_SWARM_NODE_H
#define HV_SWARM_NODE_H

#include <hivewire/bus.h>
#include <hivewire/net.h>

#include "agent/bus_link.h"
#include "agent/net_link.h"
#include "swarm/swarm_int.h"

/* ---- The gateway (gateway.c) ----------------------------------------------------------------- */

typedef struct gw_frame {
    uint8_t *frame;
    size_t len;
    const char *subject; /* static: a swarm subject */
} gw_frame;

typedef struct sw_gateway sw_gateway;

typedef struct sw_gateway_link {
    hv_link link;
    sw_gateway *gw;
} sw_gateway_link;

typedef struct sw_gateway_stats {
    uint64_t to_net;         /* frames sent to remote agents (one publish: all its subscribers) */
    uint64_t to_net_waited;  /* of which waited in the outbox for credit */
    uint64_t from_net;       /* frames from remote agents put on the bus */
    uint64_t held;           /* frames from remote agents the bus had no room for yet */
    uint64_t refused;        /* impersonation, undecodable, or a join with a key not its own */
    uint64_t peer_events[4]; /* by enum hv_net_event: joined, lost, refused, reset */
} sw_gateway_stats;

/* Receives the hub's per-link figures (links[0 .. n), valid during the call), on the thread that
 * runs the gateway. */
typedef void (*sw_gateway_links_fn)(void *ud, const hv_net_link_stats *links, uint32_t n);

struct sw_gateway {
    hv_actor actor; /* first: what the runner sees */
    sw_gateway_link glink;
    hv_bus_link bus;
    hv_net *hub; /* owned */
    int epfd;    /* the bus endpoint's eventfd and the hub's loop, behind one fd */
    uint64_t remote[HV_SWARM_THREADS_MAX];
    uint32_t nremote;
    gw_frame out[4096];
    uint32_t out_head, nout;
    int held;
    int failed;
    sw_gateway_stats stats;
    char error[128];
    sw_gateway_links_fn on_links; /* hv__sw_gateway_watch() */
    void *links_ud;
    uint64_t links_every_ns, links_next_ns;
};

/* Listens with hub_opts (its callbacks and user are the gateway's own), on bus b, for the
 * members whose ids are remote[0 .. nremote). Returns 0 or an HV_E* code (hv_net_last_error
 * says why a listen failed). */
int hv__sw_gateway_init(sw_gateway *g, hv_bus *b, const hv_net_opts *hub_opts,
                        const uint64_t *remote, uint32_t nremote);
void hv__sw_gateway_fini(sw_gateway *g);
/* Before hv_swarm_run(): fn gets the per-link figures every every_ns while the gateway runs
 * (on its runner's thread). */
void hv__sw_gateway_watch(sw_gateway *g, sw_gateway_links_fn fn, void *ud, uint64_t every_ns);
/* Gives fn the figures now (the thread that runs the gateway, or any after the run). */
void hv__sw_gateway_links(sw_gateway *g);

/* ---- Roles on the network ----------------------------------------------------------------------
 */

/* The wire role (enum hv_wire_role) a swarm role's certificate carries, and back (-1: none). */
uint8_t hv__sw_wire_role(int role);
/* The certificate name of agent (role, index): "pattern-2", "risk", ... */
void hv__sw_agent_name(int role, uint32_t index, char *out, size_t cap);
/* The hub's role x subject table for the swarm: each role may publish what it sends and
 * subscribe to what it takes, nothing else. Static storage. */
const hv_net_acl *hv__sw_acl(void);

/* A cast slot's role and index (the runner order of cast.c). */
void hv__sw_slot_role(uint32_t patterns, uint32_t slot, int *role, uint32_t *index);

/* ---- Processes ---------------------------------------------------------------------------------
 */

/* Options of a process that hosts some of a swarm's agents. */
typedef struct sw_node_opts {
    uint32_t remote_mask;  /* coordinator's process: bit s = cast slot s runs elsewhere */
    uint32_t local_mask;   /* agent process: bit s = cast slot s runs here */
    hv_net_opts net;       /* host, port, certificate files, limits */
    const char *certs_dir; /* agent process: where <name>.pem/.key/.vote are (or NULL) */
    uint32_t lost_exit_ms; /* agent process: give up after the hub is gone this long */
    /* agent process: the replicas' agent addresses (hubs.n > 1: a replicated coordinator,
     * docs/LOG.md; each agent's link follows the leader: net_link.h), else 0 */
    hv_net_link_hubs hubs;
} sw_node_opts;

/* A REDIRECT frame (net_link.h's hook): 1 and the leader's address in to, or 0. */
int hv__sw_redirect_of(const char *subject, size_t subject_len, const uint8_t *frame, size_t len,
                       char *to, size_t cap);

/* Agent process: runs the agents of local_mask, each connected to the hub, until the
 * coordinator sends EXIT (0) or something fails (the first error; *why says what). */
int hv__sw_agents_run(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n, const sw_node_opts *o,
                      char *why, size_t cap);

/* Coordinator's process: hv_swarm_new() with the members of o->remote_mask in other processes,
 * reached through a gateway listening with o->net. The swarm then runs with hv_swarm_run() as
 * any other. */
int hv__swarm_new_node(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                       const sw_node_opts *o, hv_swarm **out);
/* Its gateway (NULL for a swarm in one process): per-link figures, refusals. */
sw_gateway *hv__swarm_gateway(hv_swarm *s);

#endif

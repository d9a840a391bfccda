/*
 * Internal: the QUIC transport as a link (the third link, see agent.h): one agent in a process
 * of its own (or among others in a load process), connected to the coordinator's hub with its
 * own certificate identity (include/hivewire/net.h).
 *
 * Frames the hub sends are copied into a bounded queue (NET_LINK_QUEUE_MAX) that the runner
 * drains into the agent; when the queue is full the transport is told to hold the frame
 * (HV_EFULL verdict: the hub gets no credit for it) and is resumed once the agent caught up,
 * so nothing is dropped. A publish the transport cannot take now (no credit, not connected)
 * returns HV_EFULL: the agent keeps it and sends it again.
 *
 * Threads: every call, on the thread that steps the agent (the hv_net's owned loop runs there
 * too, inside recv/wait).
 */
#ifndef HV_AGENT_NET_LINK_H
#define HV_AGENT_NET_LINK_H

#include <hivewire/net.h>

#include "agent/agent.h"

#define NET_LINK_QUEUE_MAX   1024u
#define NET_LINK_HUBS_MAX    5u  /* hub addresses a link may try (the log's replicas) */
#define NET_LINK_SUBS_MAX    64u /* subscriptions it replays on a new hub (the transport's) */
#define NET_LINK_ADDRESS_MAX 64u /* "host:port" and its NUL */

/* Where a link may find its hub when there are several (the replicas of a replicated
 * coordinator, docs/LOG.md): every address, and how to tell a redirect from another frame. */
typedef struct hv_net_link_hubs {
    uint32_t n;                                            /* 1 .. NET_LINK_HUBS_MAX */
    char address[NET_LINK_HUBS_MAX][NET_LINK_ADDRESS_MAX]; /* "host:port" each */
    /* 1 when the frame (on subject, not NUL-terminated) is a redirect, with the leader's
     * address in to (cap bytes); 0 for any other frame (it goes to the agent). Pure. */
    int (*redirect)(const char *subject, size_t subject_len, const uint8_t *frame, size_t len,
                    char *to, size_t cap);
    const char *name;        /* the agent's, for the lines it writes on stderr */
    uint32_t tries_max;      /* hubs tried in a row without reaching a leader: 40 */
    uint32_t session_ms;     /* a hub that opens no session in this long is left: 1000 */
    uint32_t backoff_min_ms; /* the wait before the next hub: 50, doubling per try, */
    uint32_t backoff_max_ms; /* up to 2000 (a redirect is followed at once) */
} hv_net_link_hubs;

typedef struct hv_net_link_msg {
    uint8_t *frame; /* owned copy */
    size_t len;
} hv_net_link_msg;

typedef struct hv_net_link {
    hv_link link;
    hv_net *n; /* owned */
    hv_net_link_msg q[NET_LINK_QUEUE_MAX];
    uint32_t head, count;
    int held;         /* the transport holds a frame the queue had no room for */
    int joined, lost; /* the session's state, from the transport's peer events */
    uint64_t frames_in, frames_held, publishes_full;
    /* several hubs (hv__net_link_init_hubs); hubs.n == 0: one hub, the transport reconnects */
    hv_net_opts opts;    /* the transport's options, host and port aside */
    char files[3][1024]; /* copies of its ca, cert and key paths (opts points here) */
    hv_net_link_hubs hubs;
    uint32_t at;                     /* the hub in use: an index of hubs.address */
    char host[NET_LINK_ADDRESS_MAX]; /* its host (opts.host points here) */
    char next[NET_LINK_ADDRESS_MAX]; /* the address to move to, when move_ns is set */
    char gone[NET_LINK_ADDRESS_MAX]; /* the hub last lost: a redirect there is stale */
    uint64_t gone_until_ns;          /* ... until then */
    uint64_t move_ns;                /* move to `next` then (0: no move planned) */
    uint64_t session_by_ns;          /* the hub must open a session by then */
    uint32_t tries;                  /* hubs tried since a leader was last reached */
    int leader_seen;                 /* a frame other than a redirect came from this hub */
    char subs[NET_LINK_SUBS_MAX][NET_LINK_ADDRESS_MAX];
    uint32_t nsubs;
    uint64_t redirects, hubs_lost, hub_moves; /* counted, and each one said on stderr */
    int failed;                               /* HV_ETIMEDOUT once tries_max is spent */
} hv_net_link;

/*
 * Connects to the hub o->host:o->port (o's callbacks and user are the link's own: leave them
 * unset). The link is usable at once: publishes before the session opens wait in the
 * transport (or return HV_EFULL). Returns 0 or an error of hv_net_connect (hv_net_last_error
 * says why).
 */
int hv__net_link_init(hv_net_link *l, const hv_net_opts *o);
/*
 * As hv__net_link_init, over several hubs: connects to hubs->address[0] (o's host and port are
 * not used) and moves to another hub when this one redirects it (to the address it names, at
 * once), loses it or opens no session within session_ms (to the next address of the list,
 * after a backoff that doubles per hub tried), replaying its subscriptions there. A frame other
 * than a redirect means a leader was reached: the count of tries starts again. After tries_max
 * hubs in a row without one, recv fails with HV_ETIMEDOUT. Returns 0, HV_EINVAL (no address,
 * or one that is not host:port), or an error of hv_net_connect.
 */
int hv__net_link_init_hubs(hv_net_link *l, const hv_net_opts *o, const hv_net_link_hubs *hubs);
void hv__net_link_fini(hv_net_link *l);

/* "HOST:PORT" -> host (cap bytes) and port. 0 or HV_EINVAL. */
int hv__net_link_host_port(const char *s, char *host, size_t cap, uint16_t *port);

#endif

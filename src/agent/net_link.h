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

#define NET_LINK_QUEUE_MAX 1024u

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
} hv_net_link;

/*
 * Connects to the hub o->host:o->port (o's callbacks and user are the link's own: leave them
 * unset). The link is usable at once: publishes before the session opens wait in the
 * transport (or return HV_EFULL). Returns 0 or an error of hv_net_connect (hv_net_last_error
 * says why).
 */
int hv__net_link_init(hv_net_link *l, const hv_net_opts *o);
void hv__net_link_fini(hv_net_link *l);

#endif

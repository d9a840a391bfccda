/*
 * Internal: the in-process bus as a link (the first of the three links, see agent.h). One
 * bus endpoint (hv_agent: an inbox with its subscriptions) per actor.
 *
 * Every subscription refuses new messages when its inbox lane is full (HV_BP_REJECT_NEW), so
 * a publish either reaches every subscriber or reports HV_EFULL: nothing is evicted, nothing
 * dropped silently. The caller keeps the frame and retries (the swarm's agents hold it in
 * their outbox).
 *
 * Threads: the actor's side and the runner's side are both called on the thread that steps
 * the actor (the endpoint's owner thread).
 */
#ifndef HV_AGENT_BUS_LINK_H
#define HV_AGENT_BUS_LINK_H

#include <hivewire/bus.h>

#include "agent/agent.h"

typedef struct hv_bus_link {
    hv_link link;
    hv_agent *ep;       /* owned */
    uint64_t rejected;  /* publishes refused by a full inbox (HV_EFULL returned) */
    uint64_t published; /* frames accepted */
} hv_bus_link;

/* Creates the endpoint on bus b: name (copied), inbox_capacity per lane, wait strategy
 * (enum hv_wait). Returns 0 or an error of hv_agent_new(). */
int hv__bus_link_init(hv_bus_link *l, hv_bus *b, const char *name, uint32_t inbox_capacity,
                      int wait);
void hv__bus_link_fini(hv_bus_link *l);

#endif

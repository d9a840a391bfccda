/*
 * The in-process bus as a link: publish goes to hv_bus_publish with the frame as the payload;
 * the runner takes frames out of the endpoint's inbox.
 */
#include <string.h>

#include "agent/bus_link.h"

static hv_bus_link *bl(hv_link *l)
{
    return (hv_bus_link *)l;
}

static int bl_publish(hv_link *l, const char *subject, int prio, const uint8_t *frame, size_t len)
{
    hv_bus_link *b = bl(l);
    hv_send s = {
        .subject = subject, .prio = prio > 0 ? prio : HV_PRIO_NORMAL, .data = frame, .len = len
    };
    hv_send_result r;
    memset(&r, 0, sizeof(r));
    int rc = hv_bus_publish(b->ep, &s, hv_now_ns(), &r);
    if (rc < 0)
        return rc;
    if (r.rejected > 0 || r.dropped_oldest > 0) {
        b->rejected++;
        return HV_EFULL;
    }
    if (rc == 0)
        return HV_ENOSUBSCRIBER;
    b->published++;
    return 0;
}

static int bl_subscribe(hv_link *l, const char *pattern)
{
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.backpressure = HV_BP_REJECT_NEW;
    int rc = hv_agent_subscribe(bl(l)->ep, pattern, &so, NULL);
    return rc < 0 ? rc : 0;
}

static uint64_t bl_now(hv_link *l)
{
    (void)l;
    return hv_now_ns();
}

static int bl_recv(hv_link *l, hv_link_msg *out, uint64_t now_ns)
{
    hv_bus_msg *m = NULL;
    int n = hv_agent_recv(bl(l)->ep, &m, 1, now_ns);
    if (n <= 0)
        return n;
    out->frame = m->data;
    out->len = m->len;
    out->handle = m;
    return 1;
}

static void bl_release(hv_link *l, hv_link_msg *m)
{
    (void)l;
    hv_bus_msg_release(m->handle);
    m->handle = NULL;
}

static int bl_wait(hv_link *l, uint64_t timeout_ns)
{
    return hv_agent_wait(bl(l)->ep, timeout_ns);
}

static int bl_fd(const hv_link *l)
{
    return hv_agent_eventfd(((const hv_bus_link *)l)->ep);
}

static int bl_arm(hv_link *l)
{
    return hv_agent_arm(bl(l)->ep);
}

static void bl_disarm(hv_link *l)
{
    hv_agent_disarm(bl(l)->ep);
}

static const hv_link_ops bus_link_ops = {
    .publish = bl_publish,
    .subscribe = bl_subscribe,
    .now = bl_now,
    .recv = bl_recv,
    .release = bl_release,
    .wait = bl_wait,
    .fd = bl_fd,
    .arm = bl_arm,
    .disarm = bl_disarm,
};

int hv__bus_link_init(hv_bus_link *l, hv_bus *b, const char *name, uint32_t inbox_capacity,
                      int wait)
{
    memset(l, 0, sizeof(*l));
    l->link.ops = &bus_link_ops;
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.name = name;
    ao.wait = wait;
    /* Agents share few cores: a blocked agent that spins steals the CPU the agent it waits for
     * needs, so block waits go straight to the eventfd (docs/SWARM.md, threading model). */
    ao.spin_iters = wait == HV_WAIT_BLOCK ? 0 : ao.spin_iters;
    ao.inbox_capacity = inbox_capacity;
    return hv_agent_new(b, &ao, &l->ep);
}

void hv__bus_link_fini(hv_bus_link *l)
{
    hv_agent_free(l->ep);
    l->ep = NULL;
}

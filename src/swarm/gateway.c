/*
 * The gateway: where the coordinator's process meets the agents of other processes. It is an
 * actor on the coordinator's bus (subscribed to every swarm subject) that also owns the QUIC
 * hub (include/hivewire/net.h), and it makes a remote agent look to the swarm exactly like a
 * local one:
 *
 *  - a frame a local agent (or the coordinator) publishes goes to the hub, which sends it to
 *    every remote agent subscribed to its subject;
 *  - a frame a remote agent sends is checked (its sender id must be the id its certificate
 *    carries; a JOIN must register the vote key its certificate carries, with signatures),
 *    published on the bus for the local agents and the coordinator, and sent on to the other
 *    remote agents subscribed to it.
 *
 * Nothing is dropped: a frame the bus has no room for is held by the transport (no credit for
 * its sender) until the gateway resumes it; a frame the hub cannot take waits in the gateway's
 * outbox (bounded: full is an error that stops the run, never a silent loss). Refused frames
 * are counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "swarm/node.h"

#define GW_OUTBOX_MAX 4096u
#define GW_RETRY_NS   50000ull /* an outbox retry, and a held frame's resume, every 50 us */

static sw_gateway *gw_of(hv_actor *a)
{
    return (sw_gateway *)a;
}

static int is_remote(const sw_gateway *g, uint64_t id)
{
    for (uint32_t i = 0; i < g->nremote; i++)
        if (g->remote[i] == id)
            return 1;
    return 0;
}

/* ---- To the hub ----------------------------------------------------------------------------- */

static int out_push(sw_gateway *g, const char *subject, const uint8_t *frame, size_t len)
{
    if (g->nout == GW_OUTBOX_MAX) {
        snprintf(g->error, sizeof(g->error), "gateway: %u frames wait for the network",
                 GW_OUTBOX_MAX);
        return HV_EFULL;
    }
    gw_frame *f = &g->out[(g->out_head + g->nout) % GW_OUTBOX_MAX];
    f->frame = malloc(len);
    if (f->frame == NULL)
        return HV_ENOMEM;
    memcpy(f->frame, frame, len);
    f->len = len;
    f->subject = subject;
    g->nout++;
    g->stats.to_net_waited++;
    return 0;
}

static int to_net(sw_gateway *g, const char *subject, const uint8_t *frame, size_t len)
{
    if (g->nout > 0)
        return out_push(g, subject, frame, len);
    int rc = hv_net_publish(g->hub, subject, HV_PRIO_NORMAL, frame, len);
    if (rc == HV_EFULL)
        return out_push(g, subject, frame, len);
    if (rc == 0)
        g->stats.to_net++;
    return rc == HV_ENOSUBSCRIBER ? 0 : rc;
}

static int out_flush(sw_gateway *g)
{
    while (g->nout > 0) {
        gw_frame *f = &g->out[g->out_head];
        int rc = hv_net_publish(g->hub, f->subject, HV_PRIO_NORMAL, f->frame, f->len);
        if (rc == HV_EFULL)
            return 0;
        if (rc != 0 && rc != HV_ENOSUBSCRIBER)
            return rc;
        g->stats.to_net += rc == 0;
        free(f->frame);
        g->out_head = (g->out_head + 1) % GW_OUTBOX_MAX;
        g->nout--;
    }
    return 0;
}

/* ---- From the hub ------------------------------------------------------------------------------
 */

/* A JOIN from a remote agent registers the key its certificate carries, under signatures. */
static int join_ok(const hv_net_frame *f, const sw_msg *m)
{
    if (m->join.id != f->peer->id || m->join.auth != HV_SWARM_AUTH_SIG)
        return 0;
    return !f->peer->has_vote_key ||
           memcmp(m->join.pk, f->peer->vote_key, HV_NET_VOTE_KEY_BYTES) == 0;
}

static void on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    sw_gateway *g = user;
    sw_msg m;
    hv_msg hm;
    *verdict = 0;
    if (f->sender_id != f->peer->id || hv__sw_decode(f->frame, f->len, &m, &hm) != 0 ||
        (m.kind == SW_JOIN && !join_ok(f, &m))) {
        g->stats.refused++; /* impersonation, not a swarm frame, or a key not its own */
        return;
    }
    const char *subject = hv__sw_subject(m.kind);
    int rc = g->bus.link.ops->publish(&g->bus.link, subject, HV_PRIO_NORMAL, f->frame, f->len);
    if (rc == HV_EFULL) { /* held by the transport until the bus has room */
        *verdict = HV_EFULL;
        g->held = 1;
        g->stats.held++;
        return;
    }
    if (rc != 0 && rc != HV_ENOSUBSCRIBER) {
        g->failed = rc;
        return;
    }
    g->stats.from_net++;
    rc = to_net(g, subject, f->frame, f->len); /* the other remote agents subscribed to it */
    if (rc == HV_EINVAL)
        g->stats.refused++; /* the hub refuses to forward it (a sequence it has seen) */
    else if (rc != 0)
        g->failed = rc;
}

static void on_peer(void *user, const hv_net_peer *peer, int event, int err)
{
    (void)peer;
    (void)err;
    sw_gateway *g = user;
    g->stats.peer_events[event < 4 ? event : 3]++;
}

/* ---- The actor ---------------------------------------------------------------------------------
 */

static int gw_start(hv_actor *a, uint64_t now_ns)
{
    (void)now_ns;
    sw_gateway *g = gw_of(a);
    return g->bus.link.ops->subscribe(&g->bus.link, "swarm.>");
}

/* A frame on the bus: from a local agent, it goes to the remote agents subscribed to it;
 * from a remote one (published by the gateway itself), it has gone already. */
static int gw_on_msg(hv_actor *a, const uint8_t *frame, size_t len, uint64_t now_ns)
{
    (void)now_ns;
    sw_gateway *g = gw_of(a);
    sw_msg m;
    hv_msg hm;
    if (hv__sw_decode(frame, len, &m, &hm) != 0 || is_remote(g, m.sender))
        return 0;
    return to_net(g, hv__sw_subject(m.kind), frame, len);
}

static uint64_t gw_next_expiry(const hv_actor *a)
{
    const sw_gateway *g = (const sw_gateway *)a;
    return g->nout > 0 || g->held ? a->last_ns + GW_RETRY_NS : UINT64_MAX;
}

static int gw_on_expiry(hv_actor *a, uint64_t now_ns)
{
    (void)now_ns;
    sw_gateway *g = gw_of(a);
    if (g->held) {
        g->held = 0;
        hv_net_resume(g->hub); /* the transport offers the held frames again */
    }
    return out_flush(g);
}

static const hv_actor_ops gw_ops = {
    .start = gw_start,
    .on_msg = gw_on_msg,
    .on_expiry = gw_on_expiry,
    .next_expiry = gw_next_expiry,
};

/* ---- Its link: the bus endpoint and the hub, behind one fd --------------------------------------
 */

static sw_gateway *gw_of_link(const hv_link *l)
{
    return ((const sw_gateway_link *)l)->gw;
}

static int gl_publish(hv_link *l, const char *subject, int prio, const uint8_t *f, size_t n)
{
    sw_gateway *g = gw_of_link(l);
    return g->bus.link.ops->publish(&g->bus.link, subject, prio, f, n);
}

static int gl_subscribe(hv_link *l, const char *pattern)
{
    sw_gateway *g = gw_of_link(l);
    return g->bus.link.ops->subscribe(&g->bus.link, pattern);
}

static uint64_t gl_now(hv_link *l)
{
    (void)l;
    return hv_now_ns();
}

void hv__sw_gateway_watch(sw_gateway *g, sw_gateway_links_fn fn, void *ud, uint64_t every_ns)
{
    g->on_links = fn;
    g->links_ud = ud;
    g->links_every_ns = every_ns;
    g->links_next_ns = 0;
}

void hv__sw_gateway_links(sw_gateway *g)
{
    hv_net_link_stats ls[HV_SWARM_THREADS_MAX];
    uint32_t n = 0;
    if (g->on_links == NULL)
        return;
    while (n < HV_SWARM_THREADS_MAX && hv_net_link_stats_get(g->hub, n, &ls[n]) == 0)
        n++;
    g->on_links(g->links_ud, ls, n);
}

/* Runs the hub (its callbacks publish what arrived onto the bus), then takes a bus frame. */
static int gl_recv(hv_link *l, hv_link_msg *out, uint64_t now_ns)
{
    sw_gateway *g = gw_of_link(l);
    if (g->on_links != NULL && now_ns >= g->links_next_ns) {
        hv__sw_gateway_links(g);
        g->links_next_ns = now_ns + g->links_every_ns;
    }
    int rc = hv_net_run(g->hub, 0);
    if (rc == 0 && g->failed)
        rc = g->failed;
    if (rc != 0)
        return rc;
    (void)now_ns; /* the hub's callbacks published on the bus since: the bus's time is later */
    return g->bus.link.ops->recv(&g->bus.link, out, hv_now_ns());
}

static void gl_release(hv_link *l, hv_link_msg *m)
{
    sw_gateway *g = gw_of_link(l);
    g->bus.link.ops->release(&g->bus.link, m);
}

static int gl_wait(hv_link *l, uint64_t timeout_ns)
{
    sw_gateway *g = gw_of_link(l);
    int rc = g->bus.link.ops->arm(&g->bus.link);
    if (rc == HV_EAGAIN)
        return 0;
    int ms = (int)((timeout_ns + 999999) / 1000000);
    int t = hv_net_timeout(g->hub);
    if (t >= 0 && t < ms)
        ms = t;
    struct epoll_event ev[2];
    while (epoll_wait(g->epfd, ev, 2, ms) < 0 && errno == EINTR)
        ;
    g->bus.link.ops->disarm(&g->bus.link);
    return 0;
}

static int gl_fd(const hv_link *l)
{
    return gw_of_link(l)->epfd;
}

static int gl_arm(hv_link *l)
{
    sw_gateway *g = gw_of_link(l);
    return g->bus.link.ops->arm(&g->bus.link);
}

static void gl_disarm(hv_link *l)
{
    sw_gateway *g = gw_of_link(l);
    g->bus.link.ops->disarm(&g->bus.link);
}

static uint64_t gl_next_expiry(const hv_link *l)
{
    int t = hv_net_timeout(gw_of_link(l)->hub);
    return t < 0 ? UINT64_MAX : hv_now_ns() + (uint64_t)t * 1000000ull;
}

static const hv_link_ops gw_link_ops = {
    .publish = gl_publish,
    .subscribe = gl_subscribe,
    .now = gl_now,
    .recv = gl_recv,
    .release = gl_release,
    .wait = gl_wait,
    .fd = gl_fd,
    .arm = gl_arm,
    .disarm = gl_disarm,
    .next_expiry = gl_next_expiry,
};

int hv__sw_gateway_init(sw_gateway *g, hv_bus *bus, const hv_net_opts *hub_opts,
                        const uint64_t *remote, uint32_t nremote)
{
    memset(g, 0, sizeof(*g));
    g->epfd = -1;
    if (nremote > HV_SWARM_THREADS_MAX)
        return HV_EINVAL;
    memcpy(g->remote, remote, nremote * sizeof(uint64_t));
    g->nremote = nremote;
    g->actor.ops = &gw_ops;
    snprintf(g->actor.name, sizeof(g->actor.name), "gateway");
    g->glink.link.ops = &gw_link_ops;
    g->glink.gw = g;
    g->actor.link = &g->glink.link;
    int rc = hv__bus_link_init(&g->bus, bus, "gateway", 4096, 0);
    if (rc != 0)
        return rc;
    hv_net_opts o = *hub_opts;
    o.on_frame = on_frame;
    o.on_peer = on_peer;
    o.user = g;
    o.loop = NULL;
    if ((rc = hv_net_listen(&o, &g->hub)) != 0)
        return rc;
    g->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g->epfd < 0)
        return HV_EIO;
    int fds[2] = { g->bus.link.ops->fd(&g->bus.link), hv_net_fd(g->hub) };
    for (int i = 0; i < 2; i++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
        if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, fds[i], &ev) != 0)
            return HV_EIO;
    }
    return 0;
}

void hv__sw_gateway_fini(sw_gateway *g)
{
    while (g->nout > 0) {
        free(g->out[g->out_head].frame);
        g->out_head = (g->out_head + 1) % GW_OUTBOX_MAX;
        g->nout--;
    }
    if (g->epfd >= 0)
        close(g->epfd);
    hv_net_free(g->hub);
    if (g->bus.ep != NULL)
        hv__bus_link_fini(&g->bus);
    g->hub = NULL;
    g->epfd = -1;
}

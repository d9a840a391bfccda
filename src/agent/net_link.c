/* The QUIC transport as a link (net_link.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net_link.h"

#define MS 1000000ull

static hv_net_link *nl(hv_link *l)
{
    return (hv_net_link *)l;
}

int hv__net_link_host_port(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || (size_t)(colon - s) >= cap)
        return HV_EINVAL;
    char *end = NULL;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || *end != 0 || p > 65535)
        return HV_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    *port = (uint16_t)p;
    return 0;
}

/* ---- Several hubs: redirects, losses, moves ------------------------------------------------- */

static const char *current(const hv_net_link *l)
{
    return l->hubs.address[l->at];
}

/* Plans a move to `to` in delay_ms (a redirect replaces a move planned for another reason). */
static void plan_move(hv_net_link *l, const char *to, uint32_t delay_ms, const char *why)
{
    snprintf(l->next, sizeof(l->next), "%s", to);
    l->move_ns = hv_now_ns() + delay_ms * MS;
    if (l->move_ns == 0)
        l->move_ns = 1;
    fprintf(stderr, "hivewire agent: %s: %s %s; next hub %s in %u ms (try %u of %u)\n",
            l->hubs.name, current(l), why, to, delay_ms, l->tries + 1, l->hubs.tries_max);
}

static uint32_t backoff_ms(const hv_net_link *l)
{
    uint64_t ms = (uint64_t)l->hubs.backoff_min_ms << (l->tries < 16 ? l->tries : 16);
    return ms < l->hubs.backoff_max_ms ? (uint32_t)ms : l->hubs.backoff_max_ms;
}

static void plan_next(hv_net_link *l, const char *why)
{
    l->hubs_lost++;
    plan_move(l, l->hubs.address[(l->at + 1) % l->hubs.n], backoff_ms(l), why);
}

/* A redirect to the hub just lost is a replica that has not noticed yet: stay, and wait for
 * the redirect that names the new leader (a follower redirects at every frame it gets). */
static void on_redirect(hv_net_link *l, const char *to)
{
    l->redirects++;
    if (to[0] == 0 || strcmp(to, current(l)) == 0)
        return;
    if (strcmp(to, l->gone) == 0 && hv_now_ns() < l->gone_until_ns)
        return;
    if (l->move_ns != 0 && strcmp(to, l->next) == 0)
        return;
    plan_move(l, to, 0, "redirected");
}

static void on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    hv_net_link *l = user;
    char to[NET_LINK_ADDRESS_MAX];
    if (l->hubs.n > 0 &&
        l->hubs.redirect(f->subject, f->subject_len, f->frame, f->len, to, sizeof(to))) {
        *verdict = 0;
        on_redirect(l, to);
        return;
    }
    if (l->hubs.n > 0 && !l->leader_seen) {
        l->leader_seen = 1;
        l->tries = 0; /* a leader talks to it */
    }
    if (l->count == NET_LINK_QUEUE_MAX) {
        *verdict = HV_EFULL; /* held by the transport: no credit until resumed */
        l->held = 1;
        l->frames_held++;
        return;
    }
    uint8_t *copy = malloc(f->len);
    if (copy == NULL) {
        *verdict = HV_EFULL;
        l->held = 1;
        return;
    }
    memcpy(copy, f->frame, f->len);
    hv_net_link_msg *m = &l->q[(l->head + l->count) % NET_LINK_QUEUE_MAX];
    m->frame = copy;
    m->len = f->len;
    l->count++;
    l->frames_in++;
    *verdict = 0;
}

static void on_peer(void *user, const hv_net_peer *peer, int event, int err)
{
    (void)peer;
    (void)err;
    hv_net_link *l = user;
    if (event == HV_NET_PEER_JOINED) {
        l->joined = 1;
        l->lost = 0;
        if (l->hub_moves > 0)
            fprintf(stderr, "hivewire agent: %s: session open with %s\n", l->hubs.name, current(l));
    } else if (event == HV_NET_PEER_LOST) {
        l->lost = 1;
        if (l->hubs.n > 0 && l->move_ns == 0) {
            snprintf(l->gone, sizeof(l->gone), "%s", current(l));
            l->gone_until_ns = hv_now_ns() + (uint64_t)l->hubs.session_ms * 4 * MS;
            plan_next(l, "lost");
        }
    }
}

/* Connects to address with the link's options and its subscriptions. */
static int connect_at(hv_net_link *l, const char *address)
{
    hv_net_opts o = l->opts;
    if (hv__net_link_host_port(address, l->host, sizeof(l->host), &o.port) != 0)
        return HV_EINVAL;
    o.host = l->host;
    o.on_frame = on_frame;
    o.on_peer = on_peer;
    o.user = l;
    o.loop = NULL;
    l->joined = l->lost = l->leader_seen = 0;
    l->session_by_ns = hv_now_ns() + (uint64_t)l->hubs.session_ms * MS;
    int rc = hv_net_connect(&o, &l->n);
    for (uint32_t i = 0; rc == 0 && i < l->nsubs; i++)
        rc = hv_net_subscribe(l->n, l->subs[i]);
    return rc;
}

/* Makes a planned move once it is due (or plans one when the hub opened no session in time).
 * 0, or HV_ETIMEDOUT once tries_max hubs in a row reached no leader. */
static int maybe_move(hv_net_link *l)
{
    if (l->hubs.n == 0 || l->failed)
        return l->failed;
    uint64_t now = hv_now_ns();
    if (l->move_ns == 0 && !l->joined && now >= l->session_by_ns)
        plan_next(l, "opened no session");
    if (l->move_ns == 0 || now < l->move_ns)
        return 0;
    if (++l->tries > l->hubs.tries_max) {
        fprintf(stderr, "hivewire agent: %s: no leader reached in %u hubs; giving up\n",
                l->hubs.name, l->hubs.tries_max);
        return l->failed = HV_ETIMEDOUT;
    }
    hv_net_free(l->n);
    l->n = NULL;
    l->held = 0;
    l->move_ns = 0;
    l->hub_moves++;
    for (uint32_t i = 0; i < l->hubs.n; i++)
        if (strcmp(l->hubs.address[i], l->next) == 0)
            l->at = i;
    if (strcmp(current(l), l->next) != 0) /* a hub outside the list: tried in place of this one */
        snprintf(l->hubs.address[l->at], sizeof(l->hubs.address[l->at]), "%s", l->next);
    int rc = connect_at(l, l->next);
    if (rc != 0) {
        hv_net_free(l->n);
        l->n = NULL;
        plan_next(l, "cannot be reached");
    }
    return 0;
}

static int nl_publish(hv_link *lk, const char *subject, int prio, const uint8_t *frame, size_t len)
{
    hv_net_link *l = nl(lk);
    if (l->n == NULL) { /* between two hubs: later */
        l->publishes_full++;
        return HV_EFULL;
    }
    int rc = hv_net_publish(l->n, subject, (uint8_t)(prio > 0 ? prio : 3), frame, len);
    if (rc == HV_EFULL || rc == HV_ESTATE) { /* no credit, or not connected yet: later */
        l->publishes_full++;
        return HV_EFULL;
    }
    return rc;
}

static int nl_subscribe(hv_link *lk, const char *pattern)
{
    hv_net_link *l = nl(lk);
    if (l->hubs.n > 0) { /* kept, for the next hub */
        if (l->nsubs == NET_LINK_SUBS_MAX || strlen(pattern) >= sizeof(l->subs[0]))
            return HV_EFULL;
        snprintf(l->subs[l->nsubs++], sizeof(l->subs[0]), "%s", pattern);
    }
    return l->n != NULL ? hv_net_subscribe(l->n, pattern) : 0;
}

static uint64_t nl_now(hv_link *lk)
{
    (void)lk;
    return hv_now_ns();
}

static int nl_recv(hv_link *lk, hv_link_msg *out, uint64_t now_ns)
{
    (void)now_ns;
    hv_net_link *l = nl(lk);
    int rc = maybe_move(l);
    if (rc != 0)
        return rc;
    if (l->count == 0 && l->n != NULL) {
        rc = hv_net_run(l->n, 0);
        if (rc != 0)
            return rc;
    }
    if (l->count == 0)
        return 0;
    hv_net_link_msg *m = &l->q[l->head];
    l->head = (l->head + 1) % NET_LINK_QUEUE_MAX;
    l->count--;
    out->frame = m->frame;
    out->len = m->len;
    out->handle = m->frame;
    if (l->held && l->count < NET_LINK_QUEUE_MAX / 2) {
        l->held = 0;
        hv_net_resume(l->n); /* room again: the transport offers what it held */
    }
    return 1;
}

static void nl_release(hv_link *lk, hv_link_msg *m)
{
    (void)lk;
    free(m->handle);
    m->handle = NULL;
}

static uint64_t nl_next_expiry(const hv_link *lk);

static int nl_wait(hv_link *lk, uint64_t timeout_ns)
{
    hv_net_link *l = nl(lk);
    if (l->count > 0)
        return 0;
    uint64_t now = hv_now_ns(), until = nl_next_expiry(lk);
    if (until < now + timeout_ns)
        timeout_ns = until > now ? until - now : 0;
    struct pollfd p = { .fd = l->n != NULL ? hv_net_fd(l->n) : -1, .events = POLLIN };
    int ms = (int)((timeout_ns + 999999) / 1000000);
    while (poll(&p, 1, ms) < 0 && errno == EINTR)
        ;
    int rc = maybe_move(l);
    if (rc == 0 && l->n != NULL)
        rc = hv_net_run(l->n, 0);
    if (rc != 0)
        return rc;
    return l->count > 0 ? 0 : HV_ETIMEDOUT;
}

static int nl_fd(const hv_link *lk)
{
    const hv_net_link *l = (const hv_net_link *)lk;
    return l->n != NULL ? hv_net_fd(l->n) : -1;
}

static int nl_arm(hv_link *lk)
{
    return nl(lk)->count > 0 ? HV_EAGAIN : 0;
}

static void nl_disarm(hv_link *lk)
{
    (void)lk;
}

/* The transport's next timer, a planned move, the session a new hub owes. */
static uint64_t nl_next_expiry(const hv_link *lk)
{
    const hv_net_link *l = (const hv_net_link *)lk;
    int t = l->n != NULL ? hv_net_timeout(l->n) : -1;
    uint64_t e = t < 0 ? UINT64_MAX : hv_now_ns() + (uint64_t)t * MS;
    if (l->hubs.n == 0)
        return e;
    if (l->move_ns != 0 && l->move_ns < e)
        e = l->move_ns;
    if (l->move_ns == 0 && !l->joined && l->session_by_ns < e)
        e = l->session_by_ns;
    return e;
}

static const hv_link_ops net_link_ops = {
    .publish = nl_publish,
    .subscribe = nl_subscribe,
    .now = nl_now,
    .recv = nl_recv,
    .release = nl_release,
    .wait = nl_wait,
    .fd = nl_fd,
    .arm = nl_arm,
    .disarm = nl_disarm,
    .next_expiry = nl_next_expiry,
};

int hv__net_link_init(hv_net_link *l, const hv_net_opts *o)
{
    memset(l, 0, sizeof(*l));
    l->link.ops = &net_link_ops;
    hv_net_opts mine = *o;
    mine.on_frame = on_frame;
    mine.on_peer = on_peer;
    mine.user = l;
    mine.loop = NULL;
    return hv_net_connect(&mine, &l->n);
}

int hv__net_link_init_hubs(hv_net_link *l, const hv_net_opts *o, const hv_net_link_hubs *hubs)
{
    memset(l, 0, sizeof(*l));
    l->link.ops = &net_link_ops;
    if (hubs->n == 0 || hubs->n > NET_LINK_HUBS_MAX || hubs->redirect == NULL)
        return HV_EINVAL;
    char host[NET_LINK_ADDRESS_MAX];
    uint16_t port;
    for (uint32_t i = 0; i < hubs->n; i++)
        if (hv__net_link_host_port(hubs->address[i], host, sizeof(host), &port) != 0)
            return HV_EINVAL;
    l->opts = *o;
    const char **paths[3] = { &l->opts.ca_file, &l->opts.cert_file, &l->opts.key_file };
    for (int i = 0; i < 3; i++) { /* the caller's strings need not outlive this call */
        if (*paths[i] == NULL)
            continue;
        if (strlen(*paths[i]) >= sizeof(l->files[i]))
            return HV_EINVAL;
        snprintf(l->files[i], sizeof(l->files[i]), "%s", *paths[i]);
        *paths[i] = l->files[i];
    }
    l->hubs = *hubs;
    if (l->hubs.name == NULL)
        l->hubs.name = "agent";
    l->hubs.tries_max = l->hubs.tries_max ? l->hubs.tries_max : 40;
    l->hubs.session_ms = l->hubs.session_ms ? l->hubs.session_ms : 1000;
    l->hubs.backoff_min_ms = l->hubs.backoff_min_ms ? l->hubs.backoff_min_ms : 50;
    l->hubs.backoff_max_ms = l->hubs.backoff_max_ms ? l->hubs.backoff_max_ms : 2000;
    return connect_at(l, current(l));
}

void hv__net_link_fini(hv_net_link *l)
{
    hv_net_free(l->n);
    l->n = NULL;
    while (l->count > 0) {
        free(l->q[l->head].frame);
        l->head = (l->head + 1) % NET_LINK_QUEUE_MAX;
        l->count--;
    }
}

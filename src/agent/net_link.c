/* The QUIC transport as a link (net_link.h). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "agent/net_link.h"

static hv_net_link *nl(hv_link *l)
{
    return (hv_net_link *)l;
}

static void on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    hv_net_link *l = user;
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
    } else if (event == HV_NET_PEER_LOST) {
        l->lost = 1;
    }
}

static int nl_publish(hv_link *lk, const char *subject, int prio, const uint8_t *frame, size_t len)
{
    hv_net_link *l = nl(lk);
    int rc = hv_net_publish(l->n, subject, (uint8_t)(prio > 0 ? prio : 3), frame, len);
    if (rc == HV_EFULL || rc == HV_ESTATE) { /* no credit, or not connected yet: later */
        l->publishes_full++;
        return HV_EFULL;
    }
    return rc;
}

static int nl_subscribe(hv_link *lk, const char *pattern)
{
    return hv_net_subscribe(nl(lk)->n, pattern);
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
    if (l->count == 0) {
        int rc = hv_net_run(l->n, 0);
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

static int nl_wait(hv_link *lk, uint64_t timeout_ns)
{
    hv_net_link *l = nl(lk);
    if (l->count > 0)
        return 0;
    struct pollfd p = { .fd = hv_net_fd(l->n), .events = POLLIN };
    int ms = (int)((timeout_ns + 999999) / 1000000);
    int t = hv_net_timeout(l->n);
    if (t >= 0 && t < ms)
        ms = t;
    while (poll(&p, 1, ms) < 0 && errno == EINTR)
        ;
    int rc = hv_net_run(l->n, 0);
    if (rc != 0)
        return rc;
    return l->count > 0 ? 0 : HV_ETIMEDOUT;
}

static int nl_fd(const hv_link *lk)
{
    return hv_net_fd(((const hv_net_link *)lk)->n);
}

static int nl_arm(hv_link *lk)
{
    return nl(lk)->count > 0 ? HV_EAGAIN : 0;
}

static void nl_disarm(hv_link *lk)
{
    (void)lk;
}

static uint64_t nl_next_expiry(const hv_link *lk)
{
    int t = hv_net_timeout(((const hv_net_link *)lk)->n);
    return t < 0 ? UINT64_MAX : hv_now_ns() + (uint64_t)t * 1000000ull;
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

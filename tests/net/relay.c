/* The seeded UDP relay of the transport tests (relay.h). */
#include "net/relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int relay_open(relay *r, const struct sockaddr_in *bind_addr, const struct sockaddr_in *hub,
               uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    r->q = calloc(RELAY_QUEUE_MAX, sizeof(relay_pkt));
    if (r->q == NULL)
        return -1;
    hv_rng_seed(&r->rng, seed);
    r->hub = *hub;
    r->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof(r->self);
    if (r->fd < 0 || bind(r->fd, (const struct sockaddr *)bind_addr, sizeof(*bind_addr)) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&r->self, &len) != 0) {
        int e = errno;
        relay_close(r);
        errno = e;
        return -1;
    }
    int buf = 4 << 20;
    (void)setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    return 0;
}

void relay_close(relay *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->q);
    r->q = NULL;
}

uint16_t relay_port(const relay *r)
{
    return ntohs(r->self.sin_port);
}

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

static void receive_all(relay *r, uint64_t now_ns)
{
    for (;;) {
        relay_pkt tmp;
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(r->fd, tmp.data, sizeof(tmp.data), 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        int to_hub = !same_addr(&from, &r->hub);
        if (to_hub) {
            r->client = from;
            r->have_client = 1;
        }
        r->arrivals++;
        if (to_hub && r->record && r->nkept < RELAY_KEEP_MAX) {
            relay_pkt *k = &r->kept[r->nkept++];
            k->len = (uint16_t)n;
            memcpy(k->data, tmp.data, (size_t)n);
        }
        if (r->nq == RELAY_QUEUE_MAX) {
            r->dropped_full++;
            continue;
        }
        relay_pkt *p = &r->q[r->nq++];
        uint64_t d = r->delay_us + (r->jitter_us ? hv_rng_below(&r->rng, r->jitter_us) : 0);
        if (r->straggler_pct && hv_rng_below(&r->rng, 100) < r->straggler_pct)
            d += r->straggler_us;
        p->due_ns = now_ns + d * 1000;
        p->order = r->arrivals;
        p->len = (uint16_t)n;
        p->to_hub = (uint8_t)to_hub;
        memcpy(p->data, tmp.data, (size_t)n);
    }
}

int relay_pump(relay *r, uint64_t now_ns)
{
    receive_all(r, now_ns);
    int sent = 0;
    for (;;) {
        uint32_t best = r->nq;
        for (uint32_t i = 0; i < r->nq; i++) {
            if (r->q[i].due_ns <= now_ns && (best == r->nq || r->q[i].due_ns < r->q[best].due_ns))
                best = i;
        }
        if (best == r->nq)
            return sent;
        relay_pkt *p = &r->q[best];
        const struct sockaddr_in *to = p->to_hub ? &r->hub : &r->client;
        if (p->to_hub || r->have_client) {
            (void)sendto(r->fd, p->data, p->len, 0, (const struct sockaddr *)to, sizeof(*to));
            r->forwarded++;
            if (p->order < r->last_sent_order[p->to_hub])
                r->reordered++;
            else
                r->last_sent_order[p->to_hub] = p->order;
            sent++;
        }
        *p = r->q[--r->nq];
    }
}

void relay_replay(relay *r)
{
    for (uint32_t i = 0; i < r->nkept; i++)
        (void)sendto(r->fd, r->kept[i].data, r->kept[i].len, 0, (const struct sockaddr *)&r->hub,
                     sizeof(r->hub));
}

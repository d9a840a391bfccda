/*
 * A seeded UDP relay for the swarm's network tests: it listens on one address, gives every
 * client it hears from a socket of its own towards the hub, and holds each datagram, both ways,
 * for a delay drawn from a seeded generator (a fixed part plus a uniform jitter), so datagrams
 * overtake each other whenever the jitter is larger than the gap between them. Bounded: at
 * most QUEUE_MAX datagrams held (a full queue drops and counts, as a router would), at most
 * CLIENTS_MAX clients.
 *
 * usage: udp_relay LISTEN_IP LISTEN_PORT HUB_IP HUB_PORT DELAY_US JITTER_US SEED
 * Runs until killed; waits in poll() for the next datagram or the next one due.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#define QUEUE_MAX   8192
#define PKT_MAX     1500
#define CLIENTS_MAX 64

typedef struct pkt {
    uint64_t due;
    int to_hub;
    int client;
    uint16_t len;
    uint8_t data[PKT_MAX];
} pkt;

static pkt q[QUEUE_MAX];
static int nq;
static struct sockaddr_in clients[CLIENTS_MAX];
static int client_fd[CLIENTS_MAX];
static int nclients;
static uint64_t rng_state, dropped;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int client_of(const struct sockaddr_in *a, const struct sockaddr_in *hub)
{
    for (int i = 0; i < nclients; i++)
        if (clients[i].sin_addr.s_addr == a->sin_addr.s_addr && clients[i].sin_port == a->sin_port)
            return i;
    if (nclients == CLIENTS_MAX)
        return -1;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)hub, sizeof(*hub)) != 0)
        return -1;
    clients[nclients] = *a;
    client_fd[nclients] = fd;
    return nclients++;
}

static void hold(int to_hub, int client, const uint8_t *d, ssize_t n, uint64_t delay, uint64_t jit)
{
    if (nq == QUEUE_MAX || n <= 0 || n > PKT_MAX) {
        dropped++;
        return;
    }
    pkt *p = &q[nq++];
    p->due = now_ns() + delay + (jit ? rng() % jit : 0);
    p->to_hub = to_hub;
    p->client = client;
    p->len = (uint16_t)n;
    memcpy(p->data, d, (size_t)n);
}

/* Sends every held datagram whose time has come; returns ms until the next one (-1: none). */
static int send_due(int lfd)
{
    uint64_t now = now_ns(), next = UINT64_MAX;
    for (int i = 0; i < nq;) {
        pkt *p = &q[i];
        if (p->due > now) {
            next = p->due < next ? p->due : next;
            i++;
            continue;
        }
        if (p->to_hub)
            (void)!send(client_fd[p->client], p->data, p->len, 0);
        else
            (void)!sendto(lfd, p->data, p->len, 0, (const struct sockaddr *)&clients[p->client],
                          sizeof(clients[0]));
        q[i] = q[--nq];
    }
    return next == UINT64_MAX ? -1 : (int)((next - now) / 1000000u);
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: udp_relay LISTEN_IP LISTEN_PORT HUB_IP HUB_PORT DELAY_US "
                        "JITTER_US SEED\n");
        return 2;
    }
    struct sockaddr_in self = { .sin_family = AF_INET }, hub = { .sin_family = AF_INET };
    inet_pton(AF_INET, argv[1], &self.sin_addr);
    self.sin_port = htons((uint16_t)atoi(argv[2]));
    inet_pton(AF_INET, argv[3], &hub.sin_addr);
    hub.sin_port = htons((uint16_t)atoi(argv[4]));
    uint64_t delay = strtoull(argv[5], NULL, 10) * 1000u, jit = strtoull(argv[6], NULL, 10) * 1000u;
    rng_state = strtoull(argv[7], NULL, 10) | 1u;
    int lfd = socket(AF_INET, SOCK_DGRAM, 0);
    if (lfd < 0 || bind(lfd, (const struct sockaddr *)&self, sizeof(self)) != 0) {
        perror("udp_relay: bind");
        return 1;
    }
    fprintf(stderr, "udp_relay: ready\n");
    uint8_t buf[PKT_MAX + 1];
    for (;;) {
        struct pollfd pf[CLIENTS_MAX + 1];
        pf[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        for (int i = 0; i < nclients; i++)
            pf[i + 1] = (struct pollfd){ .fd = client_fd[i], .events = POLLIN };
        int wait = send_due(lfd), polled = nclients;
        if (poll(pf, (nfds_t)polled + 1, wait) < 0 && errno != EINTR)
            return 1;
        if (pf[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
            int c = n > 0 ? client_of(&from, &hub) : -1;
            if (c >= 0)
                hold(1, c, buf, n, delay, jit);
        }
        for (int i = 0; i < polled; i++)
            if (pf[i + 1].revents & POLLIN)
                hold(0, i, buf, recv(client_fd[i], buf, sizeof(buf), 0), delay, jit);
    }
}

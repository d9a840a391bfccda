/*
 * A seeded UDP relay for the transport tests: it stands between a client and a hub, holds each
 * datagram for a delay drawn from its own seeded generator and sends it on when that time has
 * come, so datagrams overtake each other (reordering) whenever the jitter is larger than the
 * gap between them. One more knob holds a share of datagrams much longer (a late straggler).
 *
 * It does no I/O of its own accord: the test calls relay_pump(r, now_ns) from its loop, which
 * reads what arrived and sends what is due. The client sends to the relay's address; the relay
 * forwards everything from the client to the hub and everything from the hub to the last client
 * address it saw. Bounded: at most RELAY_QUEUE_MAX datagrams are held; a datagram that finds
 * the queue full is dropped and counted (dropped_full), as a full router would.
 */
#ifndef HV_TESTS_NET_RELAY_H
#define HV_TESTS_NET_RELAY_H

#include <netinet/in.h>
#include <stdint.h>

#include <hivewire/rng.h>

#define RELAY_QUEUE_MAX 2048
#define RELAY_PKT_MAX   1500
#define RELAY_KEEP_MAX  16

typedef struct relay_pkt {
    uint64_t due_ns;
    uint64_t order; /* arrival order, to count reorderings */
    uint16_t len;
    uint8_t to_hub;
    uint8_t data[RELAY_PKT_MAX];
} relay_pkt;

typedef struct relay {
    int fd;
    struct sockaddr_in self, hub, client;
    int have_client;
    hv_rng rng;
    uint32_t delay_us;      /* every datagram waits at least this long */
    uint32_t jitter_us;     /* ... plus a uniform draw in [0, jitter_us) */
    uint32_t straggler_pct; /* this share of datagrams ... */
    uint32_t straggler_us;  /* ... waits this much longer */
    relay_pkt *q;           /* RELAY_QUEUE_MAX slots */
    uint32_t nq;
    uint64_t arrivals, forwarded, reordered, dropped_full;
    uint64_t last_sent_order[2];    /* per direction, to count overtakes */
    int record;                     /* keep copies of client datagrams from now on ... */
    relay_pkt kept[RELAY_KEEP_MAX]; /* ... up to RELAY_KEEP_MAX, to replay them later */
    uint32_t nkept;
} relay;

/* Opens the relay on bind_addr (port 0: any) forwarding to hub. 0 or -1 (errno set). */
int relay_open(relay *r, const struct sockaddr_in *bind_addr, const struct sockaddr_in *hub,
               uint64_t seed);
void relay_close(relay *r);
/* The port the relay listens on. */
uint16_t relay_port(const relay *r);
/* Reads every waiting datagram, then sends every held one whose time has come (earliest
 * first). Returns the number sent. */
int relay_pump(relay *r, uint64_t now_ns);
/* Sends every kept client datagram to the hub again, now (an attacker replaying a recording). */
void relay_replay(relay *r);

#endif

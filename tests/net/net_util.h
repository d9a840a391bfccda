/*
 * Shared set-up of the transport tests: certificates made by the test, options for a hub or an
 * agent, a frame maker, and a receiver that checks "once, in order per sender" as frames come.
 */
#ifndef HV_TESTS_NET_NET_UTIL_H
#define HV_TESTS_NET_NET_UTIL_H

#include "hv_test.h"

#include <hivewire/codec.h>
#include <hivewire/net.h>

#define NT_WAIT_NS     (20ull * 1000000000ull)
#define NT_SENDERS_MAX 8
#define NT_AGENT_ID    ((2ull << 32) | 1)

/* What one end received. Senders are told apart by sender_id % NT_SENDERS_MAX. */
typedef struct nt_rx {
    uint64_t last_seq[NT_SENDERS_MAX];
    uint64_t per_sender[NT_SENDERS_MAX];
    uint64_t count;
    uint64_t bad_order;  /* a frame whose seq is not the previous one + 1 (gap or reorder) */
    uint64_t duplicates; /* a frame whose seq is not above the previous one */
    uint64_t early;      /* frames that came in 0-RTT */
    uint64_t early_last; /* the seq of the last of them */
    int full;            /* answer HV_EFULL (a full consumer) */
    int joined, lost, refused, reset;
    uint64_t peer_id;
    uint8_t peer_role;
    int has_vote_key;
} nt_rx;

void nt_on_frame(void *user, const hv_net_frame *f, int *verdict);
void nt_on_peer(void *user, const hv_net_peer *p, int ev, int err);

/* Makes a CA in a fresh directory /tmp/hv_net_test_<tag>_<pid> and issues "hub" (coordinator,
 * id 1) and "agent" (pattern_matcher, NT_AGENT_ID). */
void nt_make_certs(char *dir, size_t cap, const char *tag);
void nt_rm_certs(const char *dir);

/* Options for `who` ("hub" or "agent") with certificates from dir, delivering to r. */
void nt_opts(hv_net_opts *o, const char *dir, const char *who, nt_rx *r);

/* An HVW1 publish frame of data_len payload bytes. */
size_t nt_frame(uint8_t *buf, size_t cap, uint64_t sender, uint64_t seq, const char *topic,
                size_t data_len);

/* Runs both loops (either may be NULL) and then `pump` until cond holds; fails the test after
 * NT_WAIT_NS. The client's turn waits at most 1 ms for I/O. */
#define NT_SPIN_UNTIL(hub, cli, pump, cond)               \
    do {                                                  \
        uint64_t t0_ = hv_now_ns();                       \
        while (!(cond)) {                                 \
            if (hv_now_ns() - t0_ > NT_WAIT_NS)           \
                fail_msg("timed out waiting for " #cond); \
            if (hub)                                      \
                hv_net_run(hub, 0);                       \
            if (cli)                                      \
                hv_net_run(cli, 1);                       \
            pump;                                         \
        }                                                 \
    } while (0)

#endif

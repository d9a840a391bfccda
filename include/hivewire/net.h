/*
 * hivewire net: HVW1 over QUIC (ngtcp2 + GnuTLS, driven by libuv), secure by default.
 *
 * One object, hv_net, is either a hub (hv_net_listen: accepts peers, keeps each peer's
 * subscriptions, publishes to every subscribed peer, sends to one peer) or a client
 * (hv_net_connect: one link to a hub, reconnects by itself with backoff and resumes its
 * session). Frames are complete HVW1 frames whose topic is the subject they travel on
 * (docs/PROTOCOL.md, "QUIC mapping"). Under them, an I/O-free session (src/net/session.h) does
 * the HVW1 handshake, acks, replay and deduplication, so a frame accepted by hv_net_publish()
 * or hv_net_send() reaches the peer once and in order per (sender, priority), across
 * reconnects, or the peer is reported lost.
 *
 * Security: mutual TLS 1.3 with certificates from one CA (`hivewire certs`), verified on both
 * sides. A peer's agent id, role and vote key come from its certificate; its HVW1 handshake
 * must name the same id and role. A role x subject table (hv_net_acl) authorizes every publish
 * and subscribe. Turning verification off needs the flag HV_NET_INSECURE, which says what it is.
 *
 * Threads and loops: an hv_net runs on one libuv loop. Give it yours (opts.loop; call every
 * function from that loop's thread) or let it own one and drive it with hv_net_run() or by
 * polling hv_net_fd(). Callbacks run on that loop's thread.
 *
 * Ownership: frames passed to hv_net_publish()/hv_net_send() are copied; the caller keeps its
 * buffer whatever the result. A frame given to on_frame is valid during the callback only.
 */
#ifndef HIVEWIRE_NET_H
#define HIVEWIRE_NET_H

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HV_NET_ALPN           "hvw1"
#define HV_NET_PORT_DEFAULT   4433
#define HV_NET_VOTE_KEY_BYTES 32

/* opts.flags */
#define HV_NET_INSECURE      0x01u /* INSECURE: no certificate verification at all (tests, demos) */
#define HV_NET_NO_EARLY_DATA 0x02u /* never TLS 0-RTT (a client: never send it; a hub: decline) */

typedef struct hv_net hv_net;

/* A peer as its certificate (or, insecure, its handshake) names it. */
typedef struct hv_net_peer {
    uint64_t id;                             /* global agent id: (node << 32) | local */
    uint8_t role;                            /* enum hv_wire_role */
    char name[64];                           /* certificate common name */
    uint8_t vote_key[HV_NET_VOTE_KEY_BYTES]; /* Ed25519 public key bound to the identity */
    int has_vote_key;
} hv_net_peer;

/* One authorization rule: peers of `role` may publish (and/or subscribe) on subjects matching
 * `pattern` (bus pattern syntax: `*`, `>`). role 255 = any role. */
typedef struct hv_net_rule {
    uint8_t role;
    uint8_t publish;
    uint8_t subscribe;
    const char *pattern;
} hv_net_rule;

typedef struct hv_net_acl {
    const hv_net_rule *rules;
    uint32_t count;
} hv_net_acl;

enum hv_net_event {
    HV_NET_PEER_JOINED,  /* handshake done; err 1 if the session was resumed */
    HV_NET_PEER_LOST,    /* connection gone or peer silent; err says why */
    HV_NET_PEER_REFUSED, /* a connection or handshake was refused; err says why */
    HV_NET_PEER_RESET,   /* client: the hub did not resume; err = frames discarded */
};

typedef struct hv_net_frame {
    const hv_net_peer *peer; /* authenticated sender connection */
    uint64_t sender_id;      /* the frame's sender_id */
    uint8_t prio;            /* 1 (critical) .. 5 (batch) */
    uint8_t type;            /* HVW1 message type */
    const char *subject;     /* the frame's topic (not NUL-terminated: subject_len) */
    size_t subject_len;
    const uint8_t *frame;
    size_t len;
    uint8_t early; /* came in TLS 0-RTT: its sender marked it safe to replay (it may be a copy) */
} hv_net_frame;

typedef struct hv_net_link_stats {
    uint64_t peer_id;
    double rtt_us, rtt_min_us, rtt_var_us; /* the connection's; the last one's once it closed */
    double handshake_us; /* last connection: QUIC start to HVW1 session open (TLS + HVW1) */
    uint64_t bytes_sent, bytes_recv, datagrams_sent, datagrams_recv;
    /* QUIC loss detection: packets with this end's stream data declared lost (then re-sent),
     * summed per stream (a packet carrying two streams counts twice), spurious losses
     * included, over every connection of the link. ngtcp2 0.12 counts nothing else: packets
     * that held only acks, and bytes re-sent, are not available. */
    uint64_t packets_lost;
    uint64_t frames_sent, frames_delivered, frames_replayed, duplicates;
    uint64_t full;           /* publishes answered HV_EFULL */
    uint64_t refused;        /* frames refused (authorization, rate, size) */
    uint64_t connections;    /* connections this link ran over (1 + reconnects) */
    uint64_t resumed;        /* of which resumed at TLS level */
    uint64_t early_accepted; /* of which carried 0-RTT data the hub accepted */
    uint64_t buffered_bytes; /* held by the session now */
} hv_net_link_stats;

typedef struct hv_net_stats {
    uint64_t refused_tls, refused_identity, refused_acl, refused_rate, refused_size,
        refused_streams, refused_version;
    uint64_t peers, peers_joined, peers_lost;
    uint64_t datagrams_sent, datagrams_recv, gso_sends;
    uint64_t retries; /* hub: Retry packets sent (address validation of a client's Initial) */
} hv_net_stats;

typedef struct hv_net_opts {
    size_t size;      /* sizeof(hv_net_opts) */
    uint32_t flags;   /* HV_NET_INSECURE */
    const char *host; /* hub: address to listen on; client: hub to connect to. "127.0.0.1" */
    uint16_t port;    /* HV_NET_PORT_DEFAULT; a hub may use 0 (any: see hv_net_port()) */
    const char *ca_file, *cert_file, *key_file; /* PEM; needed unless HV_NET_INSECURE */
    uint64_t local_id; /* insecure mode only: id and role (else from the certificate) */
    uint8_t local_role;
    const hv_net_acl *acl;          /* hub: NULL = the default table (hv_net_acl_default) */
    uint32_t frame_max_bytes;       /* 256 KiB */
    uint32_t lane_buffer_bytes;     /* per (sender, prio) lane: unsent + unacked, 1 MiB */
    uint32_t rx_buffer_bytes;       /* per lane, QUIC stream window too: 1 MiB */
    uint32_t lanes_max;             /* per direction per peer: 64 */
    uint32_t heartbeat_interval_ms; /* 1000 */
    uint32_t peer_timeout_ms;       /* 3 x heartbeat */
    uint32_t flush_frames;          /* write after this many queued frames: 16 */
    uint32_t flush_delay_us;        /* ... or this long after the first: 50 */
    uint32_t initial_rtt_us;        /* 1000 (ngtcp2's 333 ms stalls a LAN) */
    uint32_t max_ack_delay_us;      /* 1000 (ngtcp2: 25 ms) */
    uint32_t rate_frames_per_s;     /* hub: token bucket per connection: 200,000 */
    uint32_t rate_burst;            /* 20,000 */
    uint32_t reconnect_min_ms;      /* client backoff: 50 .. */
    uint32_t reconnect_max_ms;      /* .. 5000, doubling, with jitter */
    uint32_t resume_grace_ms;       /* hub keeps a lost peer's session this long: 30000 */
    void *loop;                     /* a uv_loop_t * the caller runs, or NULL */
    void (*on_frame)(void *user, const hv_net_frame *f, int *verdict); /* *verdict: 0 or HV_EFULL */
    void (*on_peer)(void *user, const hv_net_peer *peer, int event, int err);
    void *user;
} hv_net_opts;

/* Fills every field with its default (the values noted above; a zero field set later also
 * takes its default when the hv_net starts). */
HV_EXTERN void hv_net_opts_default(hv_net_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size
 * wrong, lanes_max above 256, frame_max_bytes above a buffer). Certificate files are checked
 * when the hv_net starts (hv_net_last_error() names them). Pure; any thread. */
HV_EXTERN int hv_net_opts_check(const hv_net_opts *o, hv_field_error *err);

/* The default table: coordinator may publish and subscribe everywhere; every role may publish
 * and subscribe under "swarm.>" and "_inbox.>", and publish heartbeats on "net.>". */
HV_EXTERN const hv_net_acl *hv_net_acl_default(void);

/*
 * Starts a hub on opts->host:port. Returns 0, HV_EINVAL (options hv_net_opts_check() refuses,
 * an unresolvable host, missing certificate options), HV_EAUTH (certificate files unreadable or
 * without a hivewire identity), HV_ECRYPTO, socket errors (HV_E* from errno), HV_ENOMEM. On failure
 * *out is NULL and hv_net_last_error(NULL) explains it (naming the file or address) on this thread.
 */
HV_EXTERN int hv_net_listen(const hv_net_opts *opts, hv_net **out);
/* Starts a client that connects to opts->host:port (and keeps reconnecting). Same errors. */
HV_EXTERN int hv_net_connect(const hv_net_opts *opts, hv_net **out);
/* Closes every connection (with a QUIC CONNECTION_CLOSE) and frees the object. */
HV_EXTERN void hv_net_free(hv_net *n);

/* n: the last refusal or connection error on n. NULL: why this thread's last
 * hv_net_listen()/hv_net_connect() failed. Never NULL. */
HV_EXTERN const char *hv_net_last_error(const hv_net *n);

/* The UDP port the hub is bound to. */
HV_EXTERN uint16_t hv_net_port(const hv_net *n);
/* This end's identity (from its certificate). */
HV_EXTERN const hv_net_peer *hv_net_self(const hv_net *n);

/*
 * Publishes one frame on subject (equal to the frame's topic) at prio 1..5: a client sends it
 * to the hub; a hub sends it to every peer with a matching subscription (none: 0). All or
 * nothing: HV_EFULL when any of those peers has no room (retry later; nobody got it).
 * Also HV_EINVAL (prio, subject differs from the topic, seq not increasing per sender),
 * HV_ETOOBIG, HV_ESTATE (client refused for good), HV_EACCES-like HV_EAUTH (a client
 * publishing outside its role's table is refused by the hub, not here).
 */
HV_EXTERN int hv_net_publish(hv_net *n, const char *subject, uint8_t prio, const uint8_t *frame,
                             size_t len);
/*
 * Client: as hv_net_publish(), for a frame the hub may receive twice without harm (market
 * data, metrics, results that carry their own ids). While a resumed connection is in its first
 * round trip, such frames travel in TLS 0-RTT, ahead of the handshake's answer; the hub sees
 * them with hv_net_frame.early set. 0-RTT data can be replayed by someone who recorded it: the
 * hub refuses a ClientHello it has seen (GnuTLS anti-replay, a bounded memory that declines
 * 0-RTT when full) and tickets die with the hub's process, but the HVW1 type decides too: only
 * publish, metrics, heartbeat, pattern_result and strategy_correlation frames may be marked
 * (else HV_EINVAL); votes, proposals, decisions (orders follow from them) and task
 * assignments never travel early. A lane sends its frames in order: an unmarked frame holds
 * the marked ones behind it until the session is open. A hub treats this as hv_net_publish().
 */
HV_EXTERN int hv_net_publish_replay_safe(hv_net *n, const char *subject, uint8_t prio,
                                         const uint8_t *frame, size_t len);

/* Hub: sends one frame to one peer (by agent id, found in O(1)): to the connection that holds
 * that peer's session, queued there while it reconnects. HV_ENOAGENT if no session has that
 * id (and always on a client). Else as publish. */
HV_EXTERN int hv_net_send(hv_net *n, uint64_t peer_id, uint8_t prio, const uint8_t *frame,
                          size_t len);
/* Client: subscribes to a pattern at the hub (sent now or after the next handshake).
 * 0, HV_EBADSUBJECT, HV_EFULL (64 subscriptions). */
HV_EXTERN int hv_net_subscribe(hv_net *n, const char *pattern);

/* The consumer has room again: offers deferred frames again (and so extends credit). */
HV_EXTERN void hv_net_resume(hv_net *n);

/* Client: 1 when the session is open. Hub: number of open peers. */
HV_EXTERN int hv_net_ready(const hv_net *n);

/* Runs the owned loop once: waits at most timeout_ms for I/O (0: poll). Returns 0 or HV_ESTATE
 * when the hv_net runs on a caller's loop. */
HV_EXTERN int hv_net_run(hv_net *n, int timeout_ms);
/* An fd that becomes readable when hv_net_run() has work (the owned loop's backend fd), or -1
 * on a caller's loop. */
HV_EXTERN int hv_net_fd(const hv_net *n);
/* Milliseconds until the owned loop's next timer (a flush, a retransmission, an ack, a
 * heartbeat) is due: call hv_net_run() by then. -1 when no timer is armed or on a caller's
 * loop; 0 when something is due now. */
HV_EXTERN int hv_net_timeout(const hv_net *n);

/* Per-link figures. Client: its link (index 0). Hub: the i-th peer. HV_ENOTFOUND past the end. */
HV_EXTERN int hv_net_link_stats_get(hv_net *n, size_t index, hv_net_link_stats *out);
HV_EXTERN void hv_net_stats_get(const hv_net *n, hv_net_stats *out);

/* ---- Certificates (GnuTLS; used by `hivewire certs`) ------------------------------------- */

/* Creates dir/ca.pem and dir/ca.key (ECDSA P-256, 10 years). Refuses to overwrite (HV_EEXIST).
 * 0, HV_EIO, HV_ECRYPTO; *err names the file or step. */
HV_EXTERN int hv_net_certs_init(const char *dir, const char **err);
/* Issues dir/<name>.pem + dir/<name>.key signed by the CA in dir, carrying id and role, and a
 * fresh Ed25519 vote key (dir/<name>.vote: the 64-byte secret key, hex) whose public half the
 * certificate carries. 0, HV_EINVAL (name), HV_EEXIST, HV_EIO, HV_ECRYPTO. */
HV_EXTERN int hv_net_certs_issue(const char *dir, const char *name, uint8_t role, uint64_t id,
                                 const char **err);
/* Reads the identity a certificate file carries. 0, HV_EIO, HV_EAUTH (no hivewire identity). */
HV_EXTERN int hv_net_cert_identity(const char *cert_file, hv_net_peer *out);

/* Role names ("pattern_matcher") <-> enum hv_wire_role. -1 / NULL when unknown. */
HV_EXTERN int hv_net_role_from_name(const char *name);
HV_EXTERN const char *hv_net_role_name(int role);

#ifdef __cplusplus
}
#endif

#endif

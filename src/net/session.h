/*
 * Internal: the HVW1 session, an I/O-free state machine in the style of ngtcp2_conn.
 *
 * A session is one end of one logical link between two nodes. It outlives the transport
 * connections under it: when a QUIC connection dies, the session keeps what was sent but not
 * acknowledged, and replays it on the next connection (resumption). It knows nothing of
 * sockets, QUIC or clocks: bytes and now_ns go in, bytes and the next expiry come out.
 *
 * Byte streams. The session speaks over ordered byte streams that the transport provides:
 *   - the control stream (one per connection, bidirectional, opened by the client): the
 *     handshake, handshake_ack, ack, heartbeat and error frames of the session itself, plus the
 *     application's subscribe/unsubscribe frames;
 *   - data lanes, one per (sender_id, priority) and direction, each a unidirectional stream
 *     opened by its sender, starting with a 16-byte preamble (docs/PROTOCOL.md, "QUIC mapping"),
 *     then HVW1 frames back to back. Frames of one sender and priority keep their order.
 *
 * Sending. hv_session_send() appends an encoded frame to its lane (interning its topic per
 * lane) and keeps it until the peer acknowledges its seq AND the transport confirms delivery of
 * its bytes; a full lane returns HV_EFULL (backpressure: nothing is dropped, retry later). The
 * transport pulls bytes with hv_session_tx_next_lane() (the priority scheduler: control first,
 * then CRITICAL .. BATCH, round robin within a priority), hv_session_tx_peek() and
 * hv_session_tx_advance(), and reports its own delivery with hv_session_tx_acked().
 *
 * Receiving. hv_session_rx() takes the bytes of one stream in order. Frames are delivered to
 * opts.on_frame, which returns 0 or HV_EFULL (the consumer is full: the session keeps the rest,
 * bounded by rx_buffer_bytes, and tries again in hv_session_rx_resume()). opts.on_credit tells
 * the transport how many bytes were consumed, so it can extend flow-control credit only for
 * what the consumer accepted. Duplicates (a replay of a frame already delivered, by seq per
 * lane) are removed and counted.
 *
 * Threads: one thread at a time per session. Allocation: lanes and buffers are allocated when
 * a lane first appears and grow up to their bounds; nothing per frame.
 */
#ifndef HV_NET_SESSION_H
#define HV_NET_SESSION_H

#include <hivewire/codec.h>

#define HV_SESSION_PREAMBLE_BYTES 16
#define HV_SESSION_PREAMBLE_MAGIC 0x314c5648u /* "HVL1" as a LE u32 */
#define HV_SESSION_TOKEN_BYTES    16
#define HV_SESSION_LANES_MAX      256
#define HV_SESSION_PRIO_COUNT     5    /* lane priorities 1 (critical) .. 5 (batch), as hv_prio */
#define HV_SESSION_CONTROL        (-1) /* the control stream in lane arguments */

enum hv_session_state {
    HV_SESSION_IDLE,    /* no connection yet */
    HV_SESSION_HELLO,   /* client: handshake sent; server: waiting for the handshake */
    HV_SESSION_OPEN,    /* handshake done: data flows */
    HV_SESSION_LOST,    /* connection gone or peer silent; state kept for resumption */
    HV_SESSION_REFUSED, /* handshake refused (either side); final */
};

enum hv_session_event {
    HV_SESSION_EV_OPEN,    /* handshake done (err: 0 new session, 1 resumed) */
    HV_SESSION_EV_LOST,    /* peer silent past the timeout (err HV_ETIMEDOUT) */
    HV_SESSION_EV_REFUSED, /* handshake refused; err says why */
    HV_SESSION_EV_ERROR,   /* the peer sent an error frame (err = its code); informative */
    HV_SESSION_EV_RESET,   /* client: the server did not resume; unacknowledged frames were
                              discarded (err = how many) */
};

/* One delivered frame. frame/len is a complete HVW1 frame with its topic as a literal; it is
 * valid only during the callback (copy it to keep it). */
typedef struct hv_session_frame {
    uint64_t sender_id;
    uint64_t seq;
    uint8_t prio;         /* 1..5 for data lanes, 0 on the control stream */
    uint8_t type;         /* HVW1 message type */
    hv_str topic;         /* view into frame */
    const uint8_t *frame; /* the frame */
    size_t len;
} hv_session_frame;

/* The handshake as received by a server, for the transport's admission decision. */
typedef struct hv_session_hello {
    const hv_msg_handshake *hs;
    const hv_frame *frame;
    const uint8_t *token; /* session token offered for resumption, or NULL */
} hv_session_hello;

typedef struct hv_session hv_session;

typedef struct hv_session_opts {
    uint32_t size; /* sizeof(hv_session_opts) */
    int is_server;
    uint64_t local_id;              /* node/agent id written as sender_id of control frames */
    uint8_t local_role;             /* enum hv_wire_role */
    const char *name;               /* software/agent name in the handshake (copied) */
    uint16_t version_min;           /* default HV_WIRE_VERSION */
    uint16_t version_max;           /* default HV_WIRE_VERSION */
    uint32_t frame_max_bytes;       /* default 256 KiB; frames above are refused */
    uint32_t lane_buffer_bytes;     /* per tx lane: unsent + unacknowledged, default 1 MiB */
    uint32_t rx_buffer_bytes;       /* per rx lane: bytes held for a full consumer, default 1 MiB */
    uint32_t lane_frames_max;       /* per tx lane: frames held, default 16384 */
    uint16_t lanes_max;             /* data lanes per direction, default 64, max 256 */
    uint16_t intern_max;            /* topics per lane, default 256, 0 = no interning */
    uint32_t intern_bytes_max;      /* default 16 KiB */
    uint32_t heartbeat_interval_ms; /* server's choice (client takes the server's): 1000 */
    uint32_t peer_timeout_ms;       /* silence that declares the peer lost: 3 x heartbeat */
    uint32_t handshake_timeout_ms;  /* default 5000 */
    uint32_t ack_delay_ms;          /* ack at most this long after a delivery: default 2 */
    uint32_t ack_frames;            /* or after this many deliveries on a lane: default 32 */
    /* Delivery of a data-lane frame: 0 accepted, HV_EFULL not now (it is offered again from
     * hv_session_rx_resume()); any other negative value is an error sent back to the peer as an
     * error frame (the frame is then consumed and counted as refused). */
    int (*on_frame)(void *user, const hv_session_frame *f);
    /* Application frames on the control stream (subscribe, unsubscribe): 0, or a negative code
     * answered with an error frame. */
    int (*on_control)(void *user, const hv_session_frame *f);
    /* Server: a handshake arrived. Return 0 to accept it on this session, a negative HV_E* to
     * refuse it (an error handshake_ack is sent), or 1 when the callback accepted it on another
     * session (resumption: it called hv_session_accept() there). */
    int (*on_hello)(void *user, hv_session *s, const hv_session_hello *h);
    void (*on_event)(void *user, int event, int err);
    /* The consumer took n more bytes of the incoming stream stream_key (as passed to
     * hv__session_rx()): extend the transport's flow-control credit by n. */
    void (*on_credit)(void *user, int64_t stream_key, size_t n);
    /* Random bytes for session ids and tokens (the transport passes a CSPRNG). */
    void (*rand)(void *user, uint8_t *dst, size_t len);
    void *user;
} hv_session_opts;

typedef struct hv_session_stats {
    uint64_t frames_sent, frames_delivered, bytes_sent, bytes_delivered;
    uint64_t frames_replayed; /* frames sent again on a new connection */
    uint64_t duplicates;      /* frames received again and removed */
    uint64_t full;            /* hv_session_send() answered HV_EFULL */
    uint64_t rx_blocked;      /* deliveries the consumer deferred (HV_EFULL) */
    uint64_t refused;         /* frames the consumer refused with an error */
    uint64_t errors_sent, errors_received;
    uint64_t heartbeats_sent, heartbeats_received, acks_sent, acks_received;
    uint64_t discarded_on_reset; /* unacknowledged frames discarded when a session was not
                                    resumed (client side) */
    uint64_t connections;        /* connections this session ran over */
} hv_session_stats;

/* Fills defaults for every zero field. */
void hv__session_opts_default(hv_session_opts *o);

/* Creates a session. 0, HV_EINVAL (a bound out of range), HV_ENOMEM. */
int hv__session_new(const hv_session_opts *opts, hv_session **out);
void hv__session_free(hv_session *s);

int hv__session_state(const hv_session *s);
uint64_t hv__session_id(const hv_session *s);
uint64_t hv__session_peer_id(const hv_session *s);
uint8_t hv__session_peer_role(const hv_session *s);
/* The negotiated heartbeat interval (after OPEN). */
uint32_t hv__session_heartbeat_ms(const hv_session *s);
void hv__session_get_stats(const hv_session *s, hv_session_stats *out);
/* Bytes held by the session (tx lanes and rx buffers): the memory bound in use. */
size_t hv__session_buffered_bytes(const hv_session *s);
/* Sets the user pointer given to the callbacks (a resumed session changes connection). */
void hv__session_set_user(hv_session *s, void *user);

/* Starts a new connection: forgets the per-connection stream state (a live connection is
 * treated as lost), rewinds every lane to its first unacknowledged frame, and, on a client,
 * queues the handshake (with the session token when one is held). 0 or HV_ESTATE (refused). */
int hv__session_connect(hv_session *s, uint64_t now_ns);

/* Server: accepts the handshake h on this session (fresh, or a resumed one that on_hello
 * picked) and queues the handshake_ack. 0, HV_ESTATE. */
int hv__session_accept(hv_session *s, const hv_session_hello *h, uint64_t now_ns);

/* The connection under the session is gone (closed, timed out, reset). */
void hv__session_transport_lost(hv_session *s, uint64_t now_ns);

/* Sends the client's resumption token (client side; from a previous handshake_ack) or NULL. */
const uint8_t *hv__session_token(const hv_session *s);

/*
 * Queues one encoded frame (len bytes, literal topic or none, topic_id 0) on the lane of
 * (f.sender_id, prio), prio 1..5. The frame's seq must exceed every seq this session sent for
 * that sender. Returns 0, or:
 *   HV_EFULL    the lane holds lane_buffer_bytes or lane_frames_max (retry after acks), or
 *               lanes_max lanes exist;
 *   HV_ESTATE   the session is refused;
 *   HV_ETOOBIG  frame above frame_max_bytes;
 *   HV_EINVAL   prio out of range, seq not increasing, an interned topic id;
 *   any hv_frame_parse() error for a malformed frame.
 * The bytes are copied; the caller keeps its buffer.
 */
int hv__session_send(hv_session *s, uint8_t prio, const uint8_t *frame, size_t len,
                     uint64_t now_ns);

/* hv__session_send() of a frame the caller has parsed whole (fp from hv_frame_parse() over
 * exactly fp->frame_len bytes at frame): the transport parses once per publish. Same results;
 * a frame above the negotiated limit is HV_ETOOBIG. flags: HV_SESSION_SEND_EARLY marks the
 * frame safe to replay (HV_EINVAL unless hv__session_early_type(type)). */
#define HV_SESSION_SEND_EARLY 0x1u
int hv__session_send_parsed(hv_session *s, uint8_t prio, const uint8_t *frame, const hv_frame *fp,
                            uint32_t flags, uint64_t now_ns);

/* Whether frames of an HVW1 type may be marked safe to replay (travel in 0-RTT): publish,
 * metrics, heartbeat, pattern_result, strategy_correlation. Never: votes, proposals, decisions
 * (orders follow from them), task assignments and results, streams, batches, session frames. */
int hv__session_early_type(uint8_t type);

/* Client: the connection under the session is in TLS 0-RTT (on) or not (off, also implied
 * when the session opens). While on and the handshake is unanswered, the scheduler hands out,
 * after the control stream, each lane's leading run of frames marked safe to replay, in
 * order: a lane never skips a frame, so a vote behind a market-data frame holds the lane's
 * rest until the session is open. */
void hv__session_set_early(hv_session *s, int on);

/* Queues an application frame on the control stream (subscribe, unsubscribe); not replayed
 * after a reconnect. 0, HV_EFULL, HV_ESTATE, parse errors. */
int hv__session_send_control(hv_session *s, const uint8_t *frame, size_t len, uint64_t now_ns);

/* Queues an error frame (code, message) about the peer's frame ref_seq. 0 or HV_EFULL. */
int hv__session_send_error(hv_session *s, uint64_t ref_seq, int code, const char *message,
                           uint64_t now_ns);

/* Whether hv__session_send() of len bytes for (sender, prio) would find room now: 0,
 * HV_EFULL, HV_ESTATE. For all-or-nothing fan-out. */
int hv__session_can_send(const hv_session *s, uint8_t prio, uint64_t sender, size_t len);

/* Scheduler: the stream to write next (HV_SESSION_CONTROL, a lane handle >= 0), or
 * HV_ENOTFOUND when nothing is pending. Data lanes wait until the session is OPEN. skip (may
 * be NULL) is a bitmap of HV_SESSION_LANES_MAX bits: lanes the transport cannot write now. */
int hv__session_tx_next_lane(hv_session *s, const uint64_t *skip);
/* The pending bytes of a stream as up to 3 pieces; returns the piece count (0: nothing).
 * *offset = the stream offset of the first byte. */
int hv__session_tx_peek(hv_session *s, int lane, const uint8_t *base[3], size_t len[3],
                        uint64_t *offset);
/* The transport took n bytes of the stream. */
void hv__session_tx_advance(hv_session *s, int lane, size_t n);
/* The transport confirmed the stream's bytes [0, offset) (QUIC ack). */
void hv__session_tx_acked(hv_session *s, int lane, uint64_t offset);
/* The sender id and priority of a lane handle. 0 or HV_ENOTFOUND. */
int hv__session_lane_info(const hv_session *s, int lane, uint64_t *sender, uint8_t *prio);
/* Frames accepted by hv__session_send() and not yet acknowledged. */
uint64_t hv__session_unacked(const hv_session *s);

/*
 * Bytes of one incoming stream, in order. stream_key identifies the stream within the current
 * connection (the QUIC stream id; HV_SESSION_CONTROL for the control stream). Returns 0, or a
 * protocol error after which the connection must be closed (an error frame is queued first
 * where one can be): HV_EBADMAGIC/HV_EBADFIELD (bad preamble), HV_EFULL (too many lanes, or
 * more unconsumed bytes than rx_buffer_bytes), HV_ETOOBIG, HV_EBADINTERN, HV_EHANDSHAKE,
 * HV_ESTATE, any decode error.
 */
int hv__session_rx(hv_session *s, int64_t stream_key, const uint8_t *data, size_t len,
                   uint64_t now_ns);
/* The incoming stream ended (FIN or reset): its partial data is dropped. */
void hv__session_rx_closed(hv_session *s, int64_t stream_key);
/* Offers deferred frames to the consumer again. Returns the number of frames delivered. */
int hv__session_rx_resume(hv_session *s, uint64_t now_ns);
/* Lanes waiting on the consumer. */
int hv__session_rx_blocked(const hv_session *s);

/* The next time hv__session_handle_expiry() must run (UINT64_MAX: none). */
uint64_t hv__session_expiry(const hv_session *s);
/* Heartbeats, acks, handshake and peer timeouts. 0, or HV_ETIMEDOUT when the peer was declared
 * lost (EV_LOST was raised) or the handshake timed out. */
int hv__session_handle_expiry(hv_session *s, uint64_t now_ns);

#endif

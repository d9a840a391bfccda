/*
 * The HVW1 session: handshake, heartbeats, acks, replay and deduplication over ordered byte
 * streams, with no I/O and no clock (session.h says how the transport drives it).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/session.h"

#define NS_PER_MS        1000000ull
#define PENDING_MAX      8           /* incoming data streams whose preamble is not complete yet */
#define CTL_RING_MAX     (64u << 10) /* control bytes queued and unconfirmed, at most */
#define CTL_FRAME_MAX    4096        /* session control frames we build */
#define RING_MIN_BYTES   4096u       /* lane receive buffers start at this size */
#define CTL_RX_MIN_BYTES 512u        /* the control stream's (its frames are small) */
#define LANE_CHUNK_SHIFT 14          /* lane send queues grow and shrink by 16 KiB chunks */
#define CTL_CHUNK_SHIFT  12          /* the control queue by 4 KiB chunks (its frames are small) */
#define RECS_MIN         64u

/* ---- A byte queue of fixed chunks addressed by absolute 64-bit offsets ------------------- */

/*
 * Bytes handed to the transport stay where they are until the transport has confirmed them:
 * ngtcp2 keeps pointers to stream data and reads them again to retransmit, so the queue never
 * moves a byte it holds. It grows and shrinks by whole chunks (a chunk is freed once every byte
 * in it is released, and the last one too when the queue empties), so an idle lane or control
 * stream holds no chunk at all.
 */
typedef struct bq {
    uint8_t **chunks; /* slot (offset >> shift) & mask, NULL until needed */
    uint32_t mask;    /* slots - 1 (a power of two), 0 before the first push */
    uint32_t shift;   /* chunks of 1 << shift bytes */
    size_t max;       /* bytes held at most */
    uint64_t head, tail;
} bq;

#define BQ_CHUNK(q) ((size_t)1 << (q)->shift)

static size_t pow2_at_least(size_t n)
{
    size_t c = 1;
    while (c < n)
        c <<= 1;
    return c;
}

static uint8_t **bq_slot(const bq *q, uint64_t off)
{
    return &q->chunks[(off >> q->shift) & q->mask];
}

static int bq_reserve(bq *q, size_t n)
{
    size_t used = (size_t)(q->tail - q->head);
    if (used + n > q->max)
        return HV_EFULL;
    if (n == 0)
        return 0;
    if (q->chunks == NULL) {
        /* Live bytes span at most (max >> shift) + 2 chunks: no two share a slot. */
        size_t slots = pow2_at_least((q->max >> q->shift) + 2);
        q->chunks = calloc(slots, sizeof(*q->chunks));
        if (q->chunks == NULL)
            return HV_ENOMEM;
        q->mask = (uint32_t)(slots - 1);
    }
    for (uint64_t c = q->tail >> q->shift; c <= (q->tail + n - 1) >> q->shift; c++) {
        uint8_t **slot = bq_slot(q, c << q->shift);
        if (*slot == NULL && (*slot = malloc(BQ_CHUNK(q))) == NULL)
            return HV_ENOMEM;
    }
    return 0;
}

/* Appends n bytes; bq_reserve(q, n) must have succeeded. */
static void bq_put(bq *q, const void *src, size_t n)
{
    const uint8_t *p = src;
    while (n) {
        size_t at = (size_t)(q->tail & (BQ_CHUNK(q) - 1));
        size_t k = BQ_CHUNK(q) - at < n ? BQ_CHUNK(q) - at : n;
        memcpy(*bq_slot(q, q->tail) + at, p, k);
        q->tail += k;
        p += k;
        n -= k;
    }
}

/* Up to max contiguous pieces of [from, end), end <= tail; returns how many. */
static int bq_pieces(const bq *q, uint64_t from, uint64_t end, const uint8_t **base, size_t *len,
                     int max)
{
    assert(end <= q->tail);
    int k = 0;
    while (from < end && k < max) {
        size_t at = (size_t)(from & (BQ_CHUNK(q) - 1));
        size_t n = (size_t)(end - from);
        base[k] = *bq_slot(q, from) + at;
        len[k] = BQ_CHUNK(q) - at < n ? BQ_CHUNK(q) - at : n;
        from += len[k++];
    }
    return k;
}

/* Releases every byte below head (head <= tail); frees the chunks nothing needs now: those
 * wholly below head, and the one head is in when the queue is empty. */
static void bq_release(bq *q, uint64_t head)
{
    assert(head >= q->head && head <= q->tail);
    uint64_t last = (head >> q->shift) + (head == q->tail);
    for (uint64_t c = q->head >> q->shift; c < last && q->chunks; c++) {
        uint8_t **slot = bq_slot(q, c << q->shift);
        free(*slot);
        *slot = NULL;
    }
    q->head = head;
}

/* Drops every byte and chunk; the queue starts again at offset 0. */
static void bq_clear(bq *q)
{
    for (uint32_t i = 0; q->chunks && i <= q->mask; i++) {
        free(q->chunks[i]);
        q->chunks[i] = NULL;
    }
    q->head = q->tail = 0;
}

static void bq_fini(bq *q)
{
    bq_clear(q);
    free(q->chunks);
    q->chunks = NULL;
    q->mask = 0;
}

/* ---- Lanes ------------------------------------------------------------------------------- */

typedef struct rec {
    uint64_t seq;
    uint64_t end;  /* absolute ring offset just past the frame */
    uint8_t early; /* the caller said it is safe to replay: it may travel in 0-RTT */
} rec;

typedef struct txlane {
    int used;
    uint64_t sender;
    uint8_t prio;
    bq ring;
    rec *recs;
    uint32_t rcap, rhead, rtail; /* rcap: power of two; rhead/rtail count up */
    uint64_t sent;               /* ring offset handed to the transport on this connection */
    uint64_t base;               /* ring offset at stream offset PREAMBLE_BYTES */
    uint64_t qacked;             /* ring offset the transport confirmed */
    uint64_t acked_seq;          /* highest seq the peer acknowledged */
    int has_acked;
    uint32_t pre_sent; /* preamble bytes handed out on this connection */
    uint8_t pre[HV_SESSION_PREAMBLE_BYTES];
    hv_intern intern;
} txlane;

typedef struct rxlane {
    int used;
    uint64_t sender;
    uint8_t prio;
    int bound;   /* has a stream on the current connection */
    int64_t key; /* that stream */
    int has_seq; /* a frame was delivered */
    uint64_t last_seq;
    uint64_t acked_seq; /* last seq we acknowledged */
    int has_acked;
    uint64_t ack_due_ns; /* 0 = no ack pending */
    uint32_t unacked;
    hv_intern intern;
    uint8_t *buf; /* bytes received and not yet consumed */
    size_t len, cap;
    int blocked; /* the consumer said HV_EFULL */
} rxlane;

typedef struct pending {
    int used;
    int64_t key;
    uint8_t n;
    uint8_t pre[HV_SESSION_PREAMBLE_BYTES];
} pending;

struct hv_session {
    hv_session_opts o;
    char name[64];
    int state;
    uint64_t session_id;
    uint8_t token[HV_SESSION_TOKEN_BYTES];
    int has_token;
    uint64_t peer_id;
    uint8_t peer_role;
    uint32_t frame_max;
    uint16_t intern_max_neg; /* negotiated; interning is off until OPEN */
    uint32_t intern_bytes_neg;
    uint32_t hb_ms;
    uint32_t timeout_ms;
    uint64_t ctl_seq;
    uint64_t connect_ns, last_rx_ns, next_hb_ns;
    int negotiated; /* a handshake completed once: intern limits are known */
    int early;      /* client: the connection is in 0-RTT: replay-safe frames may go */
    /* control stream */
    bq ctl;
    uint64_t ctl_sent, ctl_base;
    uint8_t *crx;
    size_t crx_len, crx_cap;
    /* lanes */
    txlane **tx; /* each lane allocated alone: ngtcp2 may point at its preamble */
    rxlane *rx;
    uint16_t ntx, nrx, tx_cap, rx_cap; /* grown on demand up to lanes_max */
    uint32_t rr[HV_SESSION_PRIO_COUNT];
    pending pend[PENDING_MAX];
    uint8_t *scratch; /* a frame rebuilt with its literal topic; grown on demand to frame_max */
    size_t scratch_cap;
    hv_session_stats st;
};

/* Doubles a lane array (from 4) up to max entries. 0 or HV_ENOMEM. */
static int grow_array(void **arr, uint16_t *cap, size_t size, uint16_t max)
{
    uint16_t n = *cap ? *cap * 2 : 4;
    if (n > max)
        n = max;
    void *na = realloc(*arr, (size_t)n * size);
    if (na == NULL)
        return HV_ENOMEM;
    memset((char *)na + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
    *arr = na;
    *cap = n;
    return 0;
}

/* ---- Little helpers ---------------------------------------------------------------------- */

static void st_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void st_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t ld_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static uint32_t ld_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void event(hv_session *s, int ev, int err)
{
    if (s->o.on_event)
        s->o.on_event(s->o.user, ev, err);
}

static void credit(hv_session *s, int64_t key, size_t n)
{
    if (n && s->o.on_credit)
        s->o.on_credit(s->o.user, key, n);
}

void hv__session_opts_default(hv_session_opts *o)
{
    if (o->version_min == 0)
        o->version_min = HV_WIRE_VERSION;
    if (o->version_max == 0)
        o->version_max = HV_WIRE_VERSION;
    if (o->frame_max_bytes == 0)
        o->frame_max_bytes = 256u << 10;
    if (o->lane_buffer_bytes == 0)
        o->lane_buffer_bytes = 1u << 20;
    if (o->rx_buffer_bytes == 0)
        o->rx_buffer_bytes = 1u << 20;
    if (o->lane_frames_max == 0)
        o->lane_frames_max = 16384;
    if (o->lanes_max == 0)
        o->lanes_max = 64;
    if (o->intern_bytes_max == 0)
        o->intern_bytes_max = HV_INTERN_BYTES_DEFAULT;
    if (o->heartbeat_interval_ms == 0)
        o->heartbeat_interval_ms = 1000;
    if (o->handshake_timeout_ms == 0)
        o->handshake_timeout_ms = 5000;
    if (o->ack_delay_ms == 0)
        o->ack_delay_ms = 2;
    if (o->ack_frames == 0)
        o->ack_frames = 32;
}

int hv__session_new(const hv_session_opts *opts, hv_session **out)
{
    *out = NULL;
    if (opts == NULL || opts->size < sizeof(hv_session_opts))
        return HV_EINVAL;
    hv_session_opts o = *opts;
    hv__session_opts_default(&o);
    if (o.frame_max_bytes < HV_FRAME_MIN_LIMIT || o.frame_max_bytes > HV_FRAME_MAX_CEILING ||
        o.lanes_max > HV_SESSION_LANES_MAX || o.lane_buffer_bytes < o.frame_max_bytes ||
        o.rx_buffer_bytes < o.frame_max_bytes || o.version_min > o.version_max ||
        o.lane_frames_max > (1u << 24) || o.heartbeat_interval_ms > 3600u * 1000u)
        return HV_EINVAL;
    hv_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->o = o;
    if (o.name)
        snprintf(s->name, sizeof(s->name), "%s", o.name);
    s->o.name = s->name;
    s->frame_max = o.frame_max_bytes;
    s->ctl.max = CTL_RING_MAX;
    s->ctl.shift = CTL_CHUNK_SHIFT;
    s->state = HV_SESSION_IDLE;
    *out = s;
    return 0;
}

static void txlane_free(txlane *l)
{
    bq_fini(&l->ring);
    free(l->recs);
    hv_intern_fini(&l->intern);
    memset(l, 0, sizeof(*l));
}

static void rxlane_free(rxlane *l)
{
    free(l->buf);
    hv_intern_fini(&l->intern);
    memset(l, 0, sizeof(*l));
}

void hv__session_free(hv_session *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; i < s->ntx; i++) {
        txlane_free(s->tx[i]);
        free(s->tx[i]);
    }
    for (unsigned i = 0; i < s->nrx; i++)
        rxlane_free(&s->rx[i]);
    free(s->tx);
    free(s->rx);
    bq_fini(&s->ctl);
    free(s->crx);
    free(s->scratch);
    free(s);
}

int hv__session_state(const hv_session *s)
{
    return s->state;
}
uint64_t hv__session_id(const hv_session *s)
{
    return s->session_id;
}
uint64_t hv__session_peer_id(const hv_session *s)
{
    return s->peer_id;
}
uint8_t hv__session_peer_role(const hv_session *s)
{
    return s->peer_role;
}
uint32_t hv__session_heartbeat_ms(const hv_session *s)
{
    return s->hb_ms;
}
void hv__session_get_stats(const hv_session *s, hv_session_stats *out)
{
    *out = s->st;
}
void hv__session_set_user(hv_session *s, void *user)
{
    s->o.user = user;
}
void hv__session_set_early(hv_session *s, int on)
{
    s->early = on && !s->o.is_server;
}

const uint8_t *hv__session_token(const hv_session *s)
{
    return s->has_token ? s->token : NULL;
}

size_t hv__session_buffered_bytes(const hv_session *s)
{
    size_t n = (size_t)(s->ctl.tail - s->ctl.head) + s->crx_len;
    for (unsigned i = 0; i < s->ntx; i++)
        n += (size_t)(s->tx[i]->ring.tail - s->tx[i]->ring.head);
    for (unsigned i = 0; i < s->nrx; i++)
        n += s->rx[i].len;
    return n;
}

uint64_t hv__session_unacked(const hv_session *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < s->ntx; i++)
        n += s->tx[i]->rtail - s->tx[i]->rhead;
    return n;
}

/* ---- Control frames out ------------------------------------------------------------------ */

static int ctl_push(hv_session *s, const uint8_t *frame, size_t len)
{
    int rv = bq_reserve(&s->ctl, len);
    if (rv < 0)
        return rv;
    bq_put(&s->ctl, frame, len);
    return 0;
}

static int ctl_send_msg(hv_session *s, const hv_msg *m, uint64_t now_ns)
{
    uint8_t buf[CTL_FRAME_MAX];
    hv_frame f = { .seq = ++s->ctl_seq, .timestamp_ns = now_ns, .sender_id = s->o.local_id };
    int n = hv_frame_encode(buf, sizeof(buf), &f, m, NULL);
    if (n < 0)
        return n;
    return ctl_push(s, buf, (size_t)n);
}

int hv__session_send_error(hv_session *s, uint64_t ref_seq, int code, const char *message,
                           uint64_t now_ns)
{
    hv_msg m = { .type = HV_MSG_ERROR };
    m.error.ref_seq = ref_seq;
    m.error.code = code;
    m.error.message = hv_str_from(message ? message : hv_strerror(code));
    if (m.error.message.len > 512)
        m.error.message.len = 512;
    int rv = ctl_send_msg(s, &m, now_ns);
    if (rv == 0)
        s->st.errors_sent++;
    return rv;
}

static int send_handshake(hv_session *s, uint64_t now_ns)
{
    hv_msg m = { .type = HV_MSG_HANDSHAKE };
    hv_msg_handshake *h = &m.handshake;
    h->agent_id = s->o.local_id;
    h->frame_max_bytes = s->o.frame_max_bytes;
    h->intern_bytes_max = s->o.intern_bytes_max;
    h->version_min = s->o.version_min;
    h->version_max = s->o.version_max;
    h->intern_max = s->o.intern_max;
    h->batch_frames_max = 1024;
    h->role = s->o.local_role;
    h->encodings = HV_ENCODING_BINARY;
    h->compression = 0;
    h->name = hv_str_from(s->name);
    if (s->has_token)
        h->auth = (hv_bytes){ s->token, HV_SESSION_TOKEN_BYTES };
    return ctl_send_msg(s, &m, now_ns);
}

static int send_ack(hv_session *s, rxlane *l, uint64_t now_ns)
{
    hv_msg m = { .type = HV_MSG_ACK };
    m.ack.acked_sender = l->sender;
    m.ack.acked_seq = l->last_seq;
    m.ack.status = HV_WIRE_ACK_RECEIVED;
    int rv = ctl_send_msg(s, &m, now_ns);
    if (rv < 0)
        return rv;
    l->acked_seq = l->last_seq;
    l->has_acked = 1;
    l->unacked = 0;
    l->ack_due_ns = 0;
    s->st.acks_sent++;
    return 0;
}

static int send_heartbeat(hv_session *s, uint64_t now_ns)
{
    hv_msg m = { .type = HV_MSG_HEARTBEAT };
    m.heartbeat.memory_bytes = hv__session_buffered_bytes(s);
    m.heartbeat.queue_depth =
        (uint32_t)(hv__session_unacked(s) > UINT32_MAX ? UINT32_MAX : hv__session_unacked(s));
    int rv = ctl_send_msg(s, &m, now_ns);
    if (rv == 0)
        s->st.heartbeats_sent++;
    return rv;
}

/* ---- Connections ------------------------------------------------------------------------- */

static void txlane_release(txlane *l)
{
    while (l->rhead != l->rtail) {
        const rec *r = &l->recs[l->rhead & (l->rcap - 1)];
        if (!l->has_acked || r->seq > l->acked_seq || r->end > l->qacked)
            break;
        bq_release(&l->ring, r->end);
        l->rhead++;
    }
}

/* Rewinds a lane to its first unacknowledged frame for a new connection. */
static void txlane_rewind(hv_session *s, txlane *l)
{
    while (l->rhead != l->rtail) {
        const rec *r = &l->recs[l->rhead & (l->rcap - 1)];
        if (!l->has_acked || r->seq > l->acked_seq)
            break;
        bq_release(&l->ring, r->end);
        l->rhead++;
    }
    for (uint32_t i = l->rhead; i != l->rtail; i++) {
        if (l->recs[i & (l->rcap - 1)].end <= l->sent)
            s->st.frames_replayed++;
    }
    l->sent = l->base = l->qacked = l->ring.head;
    l->pre_sent = 0;
}

static void conn_reset(hv_session *s, uint64_t now_ns)
{
    bq_clear(&s->ctl);
    s->ctl_sent = s->ctl_base = 0;
    s->crx_len = 0;
    for (unsigned i = 0; i < s->ntx; i++)
        txlane_rewind(s, s->tx[i]);
    for (unsigned i = 0; i < s->nrx; i++) {
        s->rx[i].bound = 0;
        s->rx[i].len = 0; /* the peer resends what we did not consume */
        s->rx[i].blocked = 0;
    }
    memset(s->pend, 0, sizeof(s->pend));
    s->connect_ns = s->last_rx_ns = now_ns;
    s->st.connections++;
}

int hv__session_connect(hv_session *s, uint64_t now_ns)
{
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    conn_reset(s, now_ns);
    s->state = HV_SESSION_HELLO;
    if (s->o.is_server)
        return 0;
    return send_handshake(s, now_ns);
}

void hv__session_transport_lost(hv_session *s, uint64_t now_ns)
{
    if (s->state == HV_SESSION_REFUSED)
        return;
    s->state = HV_SESSION_LOST;
    for (unsigned i = 0; i < s->nrx; i++)
        s->rx[i].bound = 0;
    (void)now_ns;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void open_session(hv_session *s, int resumed, uint64_t now_ns)
{
    s->state = HV_SESSION_OPEN;
    s->early = 0;
    s->negotiated = 1;
    s->timeout_ms = s->o.peer_timeout_ms ? s->o.peer_timeout_ms : 3 * s->hb_ms;
    s->next_hb_ns = now_ns + (uint64_t)s->hb_ms * NS_PER_MS;
    s->last_rx_ns = now_ns;
    /* Tell the peer where each of our incoming lanes stands, so it replays only the rest. */
    for (unsigned i = 0; i < s->nrx; i++) {
        if (s->rx[i].used && s->rx[i].has_seq)
            (void)send_ack(s, &s->rx[i], now_ns);
    }
    event(s, HV_SESSION_EV_OPEN, resumed);
}

/* Forgets every lane: the peer started a new session, so our replay state means nothing. */
static void forget_lanes(hv_session *s)
{
    uint64_t dropped = 0;
    for (unsigned i = 0; i < s->ntx; i++) {
        dropped += s->tx[i]->rtail - s->tx[i]->rhead;
        txlane_free(s->tx[i]);
        free(s->tx[i]);
    }
    for (unsigned i = 0; i < s->nrx; i++)
        rxlane_free(&s->rx[i]);
    s->ntx = s->nrx = 0;
    s->st.discarded_on_reset += dropped;
    if (dropped)
        event(s, HV_SESSION_EV_RESET, (int)(dropped > INT32_MAX ? INT32_MAX : dropped));
}

int hv__session_accept(hv_session *s, const hv_session_hello *h, uint64_t now_ns)
{
    assert(s->o.is_server);
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    int resumed = s->session_id != 0;
    if (resumed) {
        conn_reset(s, now_ns);
    } else {
        uint8_t id[8];
        s->o.rand(s->o.user, id, sizeof(id));
        s->session_id = ld_u64(id) | 1;
        s->o.rand(s->o.user, s->token, sizeof(s->token));
        s->has_token = 1;
    }
    const hv_msg_handshake *hs = h->hs;
    s->peer_id = hs->agent_id;
    s->peer_role = hs->role;
    s->frame_max = min_u32(s->o.frame_max_bytes, hs->frame_max_bytes);
    if (s->frame_max < HV_FRAME_MIN_LIMIT)
        s->frame_max = HV_FRAME_MIN_LIMIT;
    s->intern_max_neg = (uint16_t)min_u32(s->o.intern_max, hs->intern_max);
    s->intern_bytes_neg = min_u32(s->o.intern_bytes_max, hs->intern_bytes_max);
    s->hb_ms = s->o.heartbeat_interval_ms;

    hv_msg m = { .type = HV_MSG_HANDSHAKE_ACK };
    hv_msg_handshake_ack *a = &m.handshake_ack;
    a->coordinator_id = s->o.local_id;
    a->session_id = s->session_id;
    a->frame_max_bytes = s->frame_max;
    a->intern_bytes_max = s->intern_bytes_neg;
    a->heartbeat_interval_ms = s->hb_ms;
    a->max_buffer_bytes = s->o.rx_buffer_bytes;
    a->version = HV_WIRE_VERSION;
    a->intern_max = s->intern_max_neg;
    a->batch_frames_max = 1024;
    a->status = HV_WIRE_HS_ACCEPTED;
    a->encoding = HV_ENCODING_BINARY;
    /* Stream assignment: the control stream, then one lane class per priority. */
    static const uint8_t purpose[HV_SESSION_PRIO_COUNT] = {
        HV_WIRE_PURPOSE_CONSENSUS, HV_WIRE_PURPOSE_MARKET_DATA, HV_WIRE_PURPOSE_TASK_ASSIGNMENT,
        HV_WIRE_PURPOSE_REASONING_EXCHANGE, HV_WIRE_PURPOSE_NEURAL_TRAINING
    };
    a->stream_count = 1 + HV_SESSION_PRIO_COUNT;
    a->streams[0] = (hv_wire_stream){ 0, HV_WIRE_PURPOSE_CONTROL, 10 };
    for (unsigned p = 0; p < HV_SESSION_PRIO_COUNT; p++)
        a->streams[1 + p] = (hv_wire_stream){ (uint16_t)(p + 1), purpose[p], (uint8_t)(8 - 2 * p) };
    a->session_token = (hv_bytes){ s->token, HV_SESSION_TOKEN_BYTES };
    int rv = ctl_send_msg(s, &m, now_ns);
    if (rv < 0)
        return rv;
    open_session(s, resumed, now_ns);
    return 0;
}

static int refuse_hello(hv_session *s, int code, const char *reason, uint64_t now_ns)
{
    hv_msg m = { .type = HV_MSG_HANDSHAKE_ACK };
    m.handshake_ack.coordinator_id = s->o.local_id;
    m.handshake_ack.status = HV_WIRE_HS_REJECTED;
    m.handshake_ack.error_code = code;
    m.handshake_ack.version = HV_WIRE_VERSION;
    m.handshake_ack.reason = hv_str_from(reason);
    (void)ctl_send_msg(s, &m, now_ns);
    s->state = HV_SESSION_REFUSED;
    event(s, HV_SESSION_EV_REFUSED, code);
    return code;
}

/* ---- Sending data ------------------------------------------------------------------------ */

static txlane *txlane_get(hv_session *s, uint64_t sender, uint8_t prio, uint64_t *last_seq,
                          int *has_last)
{
    txlane *found = NULL;
    *has_last = 0;
    for (unsigned i = 0; i < s->ntx; i++) {
        txlane *l = s->tx[i];
        if (l->sender != sender)
            continue;
        if (l->prio == prio)
            found = l;
        if (l->rhead != l->rtail) {
            uint64_t q = l->recs[(l->rtail - 1) & (l->rcap - 1)].seq;
            if (!*has_last || q > *last_seq)
                *last_seq = q;
            *has_last = 1;
        } else if (l->has_acked && (!*has_last || l->acked_seq > *last_seq)) {
            *last_seq = l->acked_seq;
            *has_last = 1;
        }
    }
    return found;
}

static int txlane_create(hv_session *s, uint64_t sender, uint8_t prio, txlane **out)
{
    if (s->ntx >= s->o.lanes_max)
        return HV_EFULL;
    if (s->ntx == s->tx_cap &&
        grow_array((void **)&s->tx, &s->tx_cap, sizeof(*s->tx), s->o.lanes_max) < 0)
        return HV_ENOMEM;
    txlane *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return HV_ENOMEM;
    /* Lanes made before the first handshake do not intern: the limits are not known yet. */
    uint32_t im = s->negotiated ? s->intern_max_neg : 0;
    uint32_t ib = s->negotiated ? s->intern_bytes_neg : 0;
    int rv = hv_intern_init(&l->intern, im, ib ? ib : 1);
    if (rv < 0) {
        free(l);
        return rv;
    }
    s->tx[s->ntx] = l;
    l->used = 1;
    l->sender = sender;
    l->prio = prio;
    l->ring.max = s->o.lane_buffer_bytes;
    l->ring.shift = LANE_CHUNK_SHIFT;
    st_u16(l->pre, 0);
    uint32_t magic = HV_SESSION_PREAMBLE_MAGIC;
    for (int i = 0; i < 4; i++)
        l->pre[i] = (uint8_t)(magic >> (8 * i));
    l->pre[4] = 1; /* preamble version */
    l->pre[5] = prio;
    st_u16(l->pre + 6, 0);
    st_u64(l->pre + 8, sender);
    s->ntx++;
    *out = l;
    return 0;
}

static int recs_reserve(txlane *l, uint32_t max)
{
    uint32_t used = l->rtail - l->rhead;
    if (used >= max)
        return HV_EFULL;
    if (used < l->rcap)
        return 0;
    uint32_t cap = l->rcap ? l->rcap * 2 : RECS_MIN;
    rec *nr = malloc((size_t)cap * sizeof(rec));
    if (nr == NULL)
        return HV_ENOMEM;
    for (uint32_t i = l->rhead; i != l->rtail; i++)
        nr[i & (cap - 1)] = l->recs[i & (l->rcap - 1)];
    free(l->recs);
    l->recs = nr;
    l->rcap = cap;
    return 0;
}

int hv__session_send(hv_session *s, uint8_t prio, const uint8_t *frame, size_t len, uint64_t now_ns)
{
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    if (prio < 1 || prio > HV_SESSION_PRIO_COUNT)
        return HV_EINVAL;
    hv_codec_limits lim = { .frame_max_bytes = s->frame_max };
    hv_frame f;
    int n = hv_frame_parse(frame, len, &lim, &f);
    if (n < 0)
        return n;
    if ((size_t)n != len)
        return HV_EINVAL;
    return hv__session_send_parsed(s, prio, frame, &f, 0, now_ns);
}

int hv__session_early_type(uint8_t type)
{
    switch (type) {
    case HV_MSG_PUBLISH:
    case HV_MSG_METRICS:
    case HV_MSG_HEARTBEAT:
    case HV_MSG_PATTERN_RESULT:
    case HV_MSG_STRATEGY_CORRELATION:
        return 1;
    default:
        return 0;
    }
}

int hv__session_send_parsed(hv_session *s, uint8_t prio, const uint8_t *frame, const hv_frame *fp,
                            uint32_t flags, uint64_t now_ns)
{
    (void)now_ns;
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    if (prio < 1 || prio > HV_SESSION_PRIO_COUNT)
        return HV_EINVAL;
    hv_frame f = *fp;
    size_t len = f.frame_len;
    if (len > s->frame_max)
        return HV_ETOOBIG;
    if (f.topic_id != 0 || f.type == HV_MSG_HANDSHAKE || f.type == HV_MSG_HANDSHAKE_ACK)
        return HV_EINVAL;
    if ((flags & HV_SESSION_SEND_EARLY) && !hv__session_early_type(f.type))
        return HV_EINVAL;
    uint64_t last = 0;
    int has_last;
    txlane *l = txlane_get(s, f.sender_id, prio, &last, &has_last);
    if (has_last && f.seq <= last)
        return HV_EINVAL;
    int rv;
    if (l == NULL && (rv = txlane_create(s, f.sender_id, prio, &l)) < 0) {
        if (rv == HV_EFULL)
            s->st.full++;
        return rv;
    }
    /* Room first (the whole frame: interning only shrinks it), so that a refusal leaves the
     * interning table untouched. */
    if ((rv = bq_reserve(&l->ring, len)) < 0 || (rv = recs_reserve(l, s->o.lane_frames_max)) < 0) {
        if (rv == HV_EFULL)
            s->st.full++;
        return rv;
    }
    uint16_t id = 0;
    int define = 0;
    if (f.topic.len && l->intern.max_entries)
        hv_intern_tx(&l->intern, f.topic, &id, &define);
    size_t out_len = len - (id && !define ? f.topic.len : 0);
    uint8_t hdr[HV_FRAME_HEADER_BYTES];
    memcpy(hdr, frame, sizeof(hdr));
    if (id) {
        hdr[9] = define ? (uint8_t)f.topic.len : 0;
        st_u16(hdr + 10, id);
    }
    bq_put(&l->ring, hdr, sizeof(hdr));
    size_t rest_off = HV_FRAME_HEADER_BYTES + (id && !define ? f.topic.len : 0);
    bq_put(&l->ring, frame + rest_off, len - rest_off);
    l->recs[l->rtail & (l->rcap - 1)] =
        (rec){ f.seq, l->ring.tail, (uint8_t)((flags & HV_SESSION_SEND_EARLY) != 0) };
    l->rtail++;
    s->st.frames_sent++;
    s->st.bytes_sent += out_len;
    return 0;
}

int hv__session_can_send(const hv_session *s, uint8_t prio, uint64_t sender, size_t len)
{
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    for (unsigned i = 0; i < s->ntx; i++) {
        const txlane *l = s->tx[i];
        if (l->sender != sender || l->prio != prio)
            continue;
        if ((size_t)(l->ring.tail - l->ring.head) + len > l->ring.max ||
            l->rtail - l->rhead >= s->o.lane_frames_max)
            return HV_EFULL;
        return 0;
    }
    return s->ntx < s->o.lanes_max && len <= s->o.lane_buffer_bytes ? 0 : HV_EFULL;
}

int hv__session_send_control(hv_session *s, const uint8_t *frame, size_t len, uint64_t now_ns)
{
    (void)now_ns;
    if (s->state == HV_SESSION_REFUSED)
        return HV_ESTATE;
    hv_codec_limits lim = { .frame_max_bytes = s->frame_max };
    hv_frame f;
    int n = hv_frame_parse(frame, len, &lim, &f);
    if (n < 0)
        return n;
    if ((size_t)n != len || f.topic_id != 0)
        return HV_EINVAL;
    return ctl_push(s, frame, len);
}

/* ---- Transmit scheduling ----------------------------------------------------------------- */

static int tx_has_pending(const txlane *l)
{
    return l->sent < l->ring.tail;
}

/* Where the lane's run of replay-safe frames from `sent` ends (== sent: none). */
static uint64_t lane_early_end(const txlane *l)
{
    uint64_t end = l->sent;
    for (uint32_t i = l->rhead; i != l->rtail; i++) {
        const rec *r = &l->recs[i & (l->rcap - 1)];
        if (r->end <= l->sent)
            continue;
        if (!r->early)
            break;
        end = r->end;
    }
    return end;
}

/* Whether the lane has bytes the scheduler may hand out now: any once the session is open,
 * only its replay-safe run before (a client's 0-RTT). */
static int lane_ready(const hv_session *s, const txlane *l)
{
    if (s->state == HV_SESSION_OPEN)
        return tx_has_pending(l);
    return lane_early_end(l) > l->sent;
}

int hv__session_tx_next_lane(hv_session *s, const uint64_t *skip)
{
    if (s->ctl_sent < s->ctl.tail)
        return HV_SESSION_CONTROL;
    if (s->state != HV_SESSION_OPEN && !(s->early && s->state == HV_SESSION_HELLO))
        return HV_ENOTFOUND;
    for (unsigned p = 1; p <= HV_SESSION_PRIO_COUNT; p++) {
        unsigned n = s->ntx;
        for (unsigned k = 0; k < n; k++) {
            unsigned i = (s->rr[p - 1] + k) % n;
            if (s->tx[i]->prio == p && lane_ready(s, s->tx[i]) &&
                !(skip && (skip[i >> 6] >> (i & 63)) & 1)) {
                s->rr[p - 1] = i + 1;
                return (int)i;
            }
        }
    }
    return HV_ENOTFOUND;
}

int hv__session_tx_peek(hv_session *s, int lane, const uint8_t *base[3], size_t len[3],
                        uint64_t *offset)
{
    if (lane == HV_SESSION_CONTROL) {
        *offset = s->ctl_sent - s->ctl_base;
        return bq_pieces(&s->ctl, s->ctl_sent, s->ctl.tail, base, len, 3);
    }
    if (lane < 0 || lane >= s->ntx)
        return 0;
    txlane *l = s->tx[lane];
    uint64_t end = s->state == HV_SESSION_OPEN ? l->ring.tail : lane_early_end(l);
    if (end == l->sent)
        return 0; /* open a stream only with a frame to send */
    int k = 0;
    if (l->pre_sent < HV_SESSION_PREAMBLE_BYTES) {
        base[0] = l->pre + l->pre_sent;
        len[0] = HV_SESSION_PREAMBLE_BYTES - l->pre_sent;
        *offset = l->pre_sent;
        k = 1;
    } else {
        *offset = HV_SESSION_PREAMBLE_BYTES + (l->sent - l->base);
    }
    return k + bq_pieces(&l->ring, l->sent, end, base + k, len + k, 3 - k);
}

void hv__session_tx_advance(hv_session *s, int lane, size_t n)
{
    if (lane == HV_SESSION_CONTROL) {
        assert(s->ctl_sent + n <= s->ctl.tail);
        s->ctl_sent += n;
        return;
    }
    assert(lane >= 0 && lane < s->ntx);
    txlane *l = s->tx[lane];
    if (l->pre_sent < HV_SESSION_PREAMBLE_BYTES) {
        size_t p = HV_SESSION_PREAMBLE_BYTES - l->pre_sent;
        p = p < n ? p : n;
        l->pre_sent += (uint32_t)p;
        n -= p;
    }
    assert(l->sent + n <= l->ring.tail);
    l->sent += n;
}

void hv__session_tx_acked(hv_session *s, int lane, uint64_t offset)
{
    if (lane == HV_SESSION_CONTROL) {
        uint64_t at = s->ctl_base + offset;
        if (at > s->ctl_sent)
            at = s->ctl_sent;
        if (at > s->ctl.head)
            bq_release(&s->ctl, at);
        return;
    }
    if (lane < 0 || lane >= s->ntx)
        return;
    txlane *l = s->tx[lane];
    if (offset <= HV_SESSION_PREAMBLE_BYTES)
        return;
    uint64_t at = l->base + (offset - HV_SESSION_PREAMBLE_BYTES);
    if (at > l->sent)
        at = l->sent;
    if (at > l->qacked)
        l->qacked = at;
    txlane_release(l);
}

int hv__session_lane_info(const hv_session *s, int lane, uint64_t *sender, uint8_t *prio)
{
    if (lane < 0 || lane >= s->ntx)
        return HV_ENOTFOUND;
    *sender = s->tx[lane]->sender;
    *prio = s->tx[lane]->prio;
    return 0;
}

/* ---- Acks in ----------------------------------------------------------------------------- */

static int recs_find(const txlane *l, uint64_t seq)
{
    uint32_t lo = l->rhead, hi = l->rtail;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t q = l->recs[mid & (l->rcap - 1)].seq;
        if (q == seq)
            return 1;
        if (q < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static void apply_ack(hv_session *s, const hv_msg_ack *a)
{
    s->st.acks_received++;
    for (unsigned i = 0; i < s->ntx; i++) {
        txlane *l = s->tx[i];
        if (l->sender != a->acked_sender || !recs_find(l, a->acked_seq))
            continue;
        if (!l->has_acked || a->acked_seq > l->acked_seq) {
            l->acked_seq = a->acked_seq;
            l->has_acked = 1;
        }
        txlane_release(l);
        return;
    }
}

/* ---- Receiving ------------------------------------------------------------------------- */

static int rx_hello(hv_session *s, const hv_frame *f, const hv_msg *m, uint64_t now_ns)
{
    const hv_msg_handshake *hs = &m->handshake;
    if (!s->o.is_server || s->state != HV_SESSION_HELLO)
        return HV_ESTATE;
    if (hs->version_max < s->o.version_min || hs->version_min > s->o.version_max)
        return refuse_hello(s, HV_EBADVERSION, "no common HVW1 version", now_ns);
    if (!(hs->encodings & HV_ENCODING_BINARY))
        return refuse_hello(s, HV_ENOTSUP, "binary encoding required", now_ns);
    hv_session_hello h = { .hs = hs, .frame = f };
    if (hs->auth.len == HV_SESSION_TOKEN_BYTES)
        h.token = hs->auth.ptr;
    else if (hs->auth.len != 0)
        return refuse_hello(s, HV_EAUTH, "bad session token length", now_ns);
    int rv = s->o.on_hello ? s->o.on_hello(s->o.user, s, &h) : 0;
    if (rv < 0)
        return refuse_hello(s, rv, hv_strerror(rv), now_ns);
    if (rv == 1)
        return 1;
    return hv__session_accept(s, &h, now_ns);
}

static int rx_hello_ack(hv_session *s, const hv_msg_handshake_ack *a, uint64_t now_ns)
{
    if (s->o.is_server || s->state != HV_SESSION_HELLO)
        return HV_ESTATE;
    if (a->status != HV_WIRE_HS_ACCEPTED) {
        s->state = HV_SESSION_REFUSED;
        int code = a->error_code < 0 ? a->error_code : HV_EHANDSHAKE;
        event(s, HV_SESSION_EV_REFUSED, code);
        return code;
    }
    if (a->version < s->o.version_min || a->version > s->o.version_max ||
        a->session_token.len != HV_SESSION_TOKEN_BYTES || a->session_id == 0 ||
        a->frame_max_bytes < HV_FRAME_MIN_LIMIT || a->heartbeat_interval_ms == 0 ||
        a->intern_max > s->o.intern_max) {
        s->state = HV_SESSION_REFUSED;
        event(s, HV_SESSION_EV_REFUSED, HV_EHANDSHAKE);
        return HV_EHANDSHAKE;
    }
    int resumed = s->session_id == a->session_id;
    if (!resumed && s->session_id != 0)
        forget_lanes(s);
    s->session_id = a->session_id;
    memcpy(s->token, a->session_token.ptr, HV_SESSION_TOKEN_BYTES);
    s->has_token = 1;
    s->peer_id = a->coordinator_id;
    s->peer_role = HV_WIRE_ROLE_COORDINATOR;
    s->frame_max = min_u32(s->o.frame_max_bytes, a->frame_max_bytes);
    s->intern_max_neg = a->intern_max;
    s->intern_bytes_neg = min_u32(s->o.intern_bytes_max, a->intern_bytes_max);
    s->hb_ms = a->heartbeat_interval_ms;
    open_session(s, resumed, now_ns);
    return 0;
}

static int rx_control_frame(hv_session *s, const uint8_t *p, size_t n, uint64_t now_ns)
{
    hv_codec_limits lim = { .frame_max_bytes = s->frame_max };
    hv_frame f;
    hv_msg m;
    int rv = hv_decode(p, n, &lim, NULL, 0, &f, &m);
    if (rv < 0)
        return rv;
    if (f.topic_id != 0)
        return HV_EBADINTERN; /* the control stream does not intern */
    switch (m.type) {
    case HV_MSG_HANDSHAKE:
        return rx_hello(s, &f, &m, now_ns);
    case HV_MSG_HANDSHAKE_ACK:
        return rx_hello_ack(s, &m.handshake_ack, now_ns);
    default:
        break;
    }
    if (s->state != HV_SESSION_OPEN)
        return HV_ESTATE;
    switch (m.type) {
    case HV_MSG_ACK:
        apply_ack(s, &m.ack);
        return 0;
    case HV_MSG_HEARTBEAT:
        s->st.heartbeats_received++;
        return 0;
    case HV_MSG_ERROR:
        s->st.errors_received++;
        event(s, HV_SESSION_EV_ERROR, m.error.code);
        return 0;
    default: {
        hv_session_frame sf = { .sender_id = f.sender_id,
                                .seq = f.seq,
                                .type = m.type,
                                .topic = f.topic,
                                .frame = p,
                                .len = n };
        int c = s->o.on_control ? s->o.on_control(s->o.user, &sf) : HV_ENOTSUP;
        if (c < 0)
            (void)hv__session_send_error(s, f.seq, c, NULL, now_ns);
        return 0;
    }
    }
}

/* Appends to a receive buffer that starts at min bytes and doubles up to max. */
static int buf_append(uint8_t **buf, size_t *len, size_t *cap, size_t min, size_t max,
                      const uint8_t *p, size_t n)
{
    if (n == 0)
        return 0;
    if (*len + n > max)
        return HV_EFULL;
    if (*len + n > *cap) {
        size_t c = pow2_at_least(*len + n);
        if (c < min)
            c = min;
        if (c > max)
            c = max;
        uint8_t *nb = realloc(*buf, c);
        if (nb == NULL)
            return HV_ENOMEM;
        *buf = nb;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

static int rx_control(hv_session *s, const uint8_t *data, size_t len, uint64_t now_ns)
{
    int rv = buf_append(&s->crx, &s->crx_len, &s->crx_cap, CTL_RX_MIN_BYTES,
                        (size_t)s->frame_max * 2, data, len);
    if (rv < 0)
        return rv;
    size_t off = 0;
    hv_codec_limits lim = { .frame_max_bytes = s->frame_max };
    while (s->crx_len - off >= HV_FRAME_HEADER_BYTES) {
        hv_frame f;
        int n = hv_frame_parse(s->crx + off, s->crx_len - off, &lim, &f);
        if (n == HV_ETRUNCATED)
            break;
        if (n < 0)
            return n;
        rv = rx_control_frame(s, s->crx + off, (size_t)n, now_ns);
        off += (size_t)n;
        if (rv < 0)
            return rv;
        if (rv == 1) {
            /* Another session took the handshake: nothing may follow it here. */
            int rest = off != s->crx_len;
            s->crx_len = 0;
            return rest ? HV_ESTATE : 1;
        }
    }
    if (off) {
        memmove(s->crx, s->crx + off, s->crx_len - off);
        s->crx_len -= off;
    }
    credit(s, HV_SESSION_CONTROL, len);
    return 0;
}

/* Room for a rebuilt frame of n bytes (n <= frame_max), grown by doubling. */
static int scratch_reserve(hv_session *s, size_t n)
{
    size_t cap = pow2_at_least(n) < 1024 ? 1024 : pow2_at_least(n);
    if (cap > s->frame_max)
        cap = s->frame_max;
    uint8_t *nb = realloc(s->scratch, cap);
    if (nb == NULL)
        return HV_ENOMEM;
    s->scratch = nb;
    s->scratch_cap = cap;
    return 0;
}

/* Delivers one frame of a lane (p[0..n), parsed as *fp); 0 consumed, HV_EFULL deferred, other
 * negative: fatal. */
static int rx_deliver(hv_session *s, rxlane *l, const uint8_t *p, size_t n, const hv_frame *fp,
                      uint64_t now_ns)
{
    hv_frame f = *fp;
    int rv;
    if (f.sender_id != l->sender || f.type == HV_MSG_HANDSHAKE || f.type == HV_MSG_HANDSHAKE_ACK)
        return HV_EBADFIELD;
    if (l->has_seq && f.seq <= l->last_seq) {
        s->st.duplicates++;
        return 0;
    }
    if (f.topic_id != 0) {
        int redefine = f.topic.len && f.topic_id <= l->intern.count;
        if (redefine) {
            hv_str known = hv_intern_lookup(&l->intern, f.topic_id);
            if (known.len != f.topic.len || memcmp(known.ptr, f.topic.ptr, known.len) != 0)
                return HV_EBADINTERN;
        } else if ((rv = hv_intern_rx(&l->intern, &f)) < 0) {
            return rv;
        }
    }
    const uint8_t *frame = p;
    size_t flen = n;
    if (f.topic_id != 0) {
        /* Rebuild with the literal topic so the consumer gets a self-contained frame. */
        size_t tl = f.topic.len;
        size_t payload = f.payload.len;
        flen = HV_FRAME_HEADER_BYTES + tl + payload;
        if (flen > s->frame_max)
            return HV_ETOOBIG;
        if (flen > s->scratch_cap && (rv = scratch_reserve(s, flen)) < 0)
            return rv;
        memcpy(s->scratch, p, HV_FRAME_HEADER_BYTES);
        s->scratch[9] = (uint8_t)tl;
        st_u16(s->scratch + 10, 0);
        memcpy(s->scratch + HV_FRAME_HEADER_BYTES, f.topic.ptr, tl);
        memcpy(s->scratch + HV_FRAME_HEADER_BYTES + tl, f.payload.ptr, payload);
        frame = s->scratch;
        f.topic.ptr = (const char *)s->scratch + HV_FRAME_HEADER_BYTES;
    }
    hv_session_frame sf = { .sender_id = f.sender_id,
                            .seq = f.seq,
                            .prio = l->prio,
                            .type = f.type,
                            .topic = f.topic,
                            .frame = frame,
                            .len = flen };
    rv = s->o.on_frame ? s->o.on_frame(s->o.user, &sf) : 0;
    if (rv == HV_EFULL) {
        s->st.rx_blocked++;
        return HV_EFULL;
    }
    if (rv < 0) {
        s->st.refused++;
        (void)hv__session_send_error(s, f.seq, rv, NULL, now_ns);
    } else {
        s->st.frames_delivered++;
        s->st.bytes_delivered += flen;
    }
    l->last_seq = f.seq;
    l->has_seq = 1;
    if (l->unacked++ == 0)
        l->ack_due_ns = now_ns + (uint64_t)s->o.ack_delay_ms * NS_PER_MS;
    if (l->unacked >= s->o.ack_frames)
        (void)send_ack(s, l, now_ns);
    return 0;
}

/* Delivers whole frames from p[0..n); returns bytes consumed or a fatal error. */
static int64_t rx_frames(hv_session *s, rxlane *l, const uint8_t *p, size_t n, uint64_t now_ns)
{
    size_t off = 0;
    hv_codec_limits lim = { .frame_max_bytes = s->frame_max };
    l->blocked = 0;
    while (n - off >= HV_FRAME_HEADER_BYTES) {
        hv_frame f;
        int fl = hv_frame_parse(p + off, n - off, &lim, &f);
        if (fl == HV_ETRUNCATED)
            break;
        if (fl < 0)
            return fl;
        int rv = rx_deliver(s, l, p + off, (size_t)fl, &f, now_ns);
        if (rv == HV_EFULL) {
            l->blocked = 1;
            break;
        }
        if (rv < 0)
            return rv;
        off += (size_t)fl;
    }
    return (int64_t)off;
}

static int rx_lane_bytes(hv_session *s, rxlane *l, const uint8_t *data, size_t len, uint64_t now_ns)
{
    int64_t li = l->key;
    if (l->len == 0 && !l->blocked) {
        int64_t used = rx_frames(s, l, data, len, now_ns);
        if (used < 0)
            return (int)used;
        credit(s, li, (size_t)used);
        data += used;
        len -= (size_t)used;
        if (len == 0)
            return 0;
    }
    int rv = buf_append(&l->buf, &l->len, &l->cap, RING_MIN_BYTES, s->o.rx_buffer_bytes, data, len);
    if (rv < 0)
        return rv;
    if (l->blocked)
        return 0;
    int64_t used = rx_frames(s, l, l->buf, l->len, now_ns);
    if (used < 0)
        return (int)used;
    memmove(l->buf, l->buf + used, l->len - (size_t)used);
    l->len -= (size_t)used;
    credit(s, li, (size_t)used);
    return 0;
}

static rxlane *rxlane_for_key(hv_session *s, int64_t key)
{
    for (unsigned i = 0; i < s->nrx; i++) {
        if (s->rx[i].bound && s->rx[i].key == key)
            return &s->rx[i];
    }
    return NULL;
}

static int rxlane_bind(hv_session *s, int64_t key, const uint8_t pre[HV_SESSION_PREAMBLE_BYTES],
                       rxlane **out)
{
    if (ld_u32(pre) != HV_SESSION_PREAMBLE_MAGIC)
        return HV_EBADMAGIC;
    uint8_t prio = pre[5];
    if (pre[4] != 1 || prio < 1 || prio > HV_SESSION_PRIO_COUNT || pre[6] || pre[7])
        return HV_EBADFIELD;
    uint64_t sender = ld_u64(pre + 8);
    for (unsigned i = 0; i < s->nrx; i++) {
        rxlane *l = &s->rx[i];
        if (l->sender == sender && l->prio == prio) {
            if (l->bound)
                return HV_EEXIST; /* one stream per lane per connection */
            l->bound = 1;
            l->key = key;
            *out = l;
            return 0;
        }
    }
    if (s->nrx >= s->o.lanes_max)
        return HV_EFULL;
    if (s->nrx == s->rx_cap &&
        grow_array((void **)&s->rx, &s->rx_cap, sizeof(*s->rx), s->o.lanes_max) < 0)
        return HV_ENOMEM;
    rxlane *l = &s->rx[s->nrx];
    memset(l, 0, sizeof(*l));
    int rv = hv_intern_init(&l->intern, s->o.intern_max,
                            s->o.intern_bytes_max ? s->o.intern_bytes_max : 1);
    if (rv < 0)
        return rv;
    l->used = 1;
    l->sender = sender;
    l->prio = prio;
    l->bound = 1;
    l->key = key;
    s->nrx++;
    *out = l;
    return 0;
}

/* Collects a new stream's preamble; returns bytes used from data, or an error. */
static int64_t rx_preamble(hv_session *s, int64_t key, const uint8_t *data, size_t len,
                           rxlane **out)
{
    pending *pd = NULL;
    for (unsigned i = 0; i < PENDING_MAX && pd == NULL; i++) {
        if (s->pend[i].used && s->pend[i].key == key)
            pd = &s->pend[i];
    }
    for (unsigned i = 0; i < PENDING_MAX && pd == NULL; i++) {
        if (!s->pend[i].used) {
            pd = &s->pend[i];
            memset(pd, 0, sizeof(*pd));
            pd->used = 1;
            pd->key = key;
        }
    }
    if (pd == NULL)
        return HV_EFULL;
    size_t take = HV_SESSION_PREAMBLE_BYTES - pd->n;
    take = take < len ? take : len;
    memcpy(pd->pre + pd->n, data, take);
    pd->n = (uint8_t)(pd->n + take);
    *out = NULL;
    if (pd->n == HV_SESSION_PREAMBLE_BYTES) {
        pd->used = 0;
        int rv = rxlane_bind(s, key, pd->pre, out);
        if (rv < 0)
            return rv;
    }
    return (int64_t)take;
}

static int rx_fail(hv_session *s, int code, uint64_t now_ns)
{
    if (code != HV_ENOMEM && s->state != HV_SESSION_REFUSED)
        (void)hv__session_send_error(s, 0, code, NULL, now_ns);
    return code;
}

int hv__session_rx(hv_session *s, int64_t stream_key, const uint8_t *data, size_t len,
                   uint64_t now_ns)
{
    if (s->state == HV_SESSION_REFUSED || s->state == HV_SESSION_IDLE)
        return HV_ESTATE;
    s->last_rx_ns = now_ns;
    if (stream_key == HV_SESSION_CONTROL) {
        int rv = rx_control(s, data, len, now_ns);
        return rv < 0 && rv != HV_ESTATE ? rx_fail(s, rv, now_ns) : rv;
    }
    if (s->state != HV_SESSION_OPEN)
        return rx_fail(s, HV_ESTATE, now_ns);
    rxlane *l = rxlane_for_key(s, stream_key);
    if (l == NULL) {
        int64_t used = rx_preamble(s, stream_key, data, len, &l);
        if (used < 0)
            return rx_fail(s, (int)used, now_ns);
        /* The preamble counts as consumed at once. */
        credit(s, stream_key, (size_t)used);
        data += used;
        len -= (size_t)used;
        if (l == NULL)
            return 0;
    }
    if (len == 0)
        return 0;
    int rv = rx_lane_bytes(s, l, data, len, now_ns);
    return rv < 0 ? rx_fail(s, rv, now_ns) : 0;
}

void hv__session_rx_closed(hv_session *s, int64_t stream_key)
{
    rxlane *l = rxlane_for_key(s, stream_key);
    if (l != NULL) {
        l->bound = 0;
        l->len = 0;
        l->blocked = 0;
    }
    for (unsigned i = 0; i < PENDING_MAX; i++) {
        if (s->pend[i].used && s->pend[i].key == stream_key)
            s->pend[i].used = 0;
    }
}

int hv__session_rx_resume(hv_session *s, uint64_t now_ns)
{
    int delivered = 0;
    for (unsigned i = 0; i < s->nrx; i++) {
        rxlane *l = &s->rx[i];
        if (!l->blocked || l->len == 0)
            continue;
        uint64_t before = s->st.frames_delivered;
        int64_t used = rx_frames(s, l, l->buf, l->len, now_ns);
        if (used < 0)
            return (int)used;
        memmove(l->buf, l->buf + used, l->len - (size_t)used);
        l->len -= (size_t)used;
        if (l->bound)
            credit(s, l->key, (size_t)used);
        delivered += (int)(s->st.frames_delivered - before);
    }
    return delivered;
}

int hv__session_rx_blocked(const hv_session *s)
{
    int n = 0;
    for (unsigned i = 0; i < s->nrx; i++)
        n += s->rx[i].blocked;
    return n;
}

/* ---- Timers ------------------------------------------------------------------------------ */

uint64_t hv__session_expiry(const hv_session *s)
{
    uint64_t t = UINT64_MAX;
    if (s->state == HV_SESSION_HELLO)
        return s->connect_ns + (uint64_t)s->o.handshake_timeout_ms * NS_PER_MS;
    if (s->state != HV_SESSION_OPEN)
        return t;
    t = s->next_hb_ns;
    uint64_t dead = s->last_rx_ns + (uint64_t)s->timeout_ms * NS_PER_MS;
    if (dead < t)
        t = dead;
    for (unsigned i = 0; i < s->nrx; i++) {
        if (s->rx[i].ack_due_ns && s->rx[i].ack_due_ns < t)
            t = s->rx[i].ack_due_ns;
    }
    return t;
}

int hv__session_handle_expiry(hv_session *s, uint64_t now_ns)
{
    if (s->state == HV_SESSION_HELLO) {
        if (now_ns >= s->connect_ns + (uint64_t)s->o.handshake_timeout_ms * NS_PER_MS) {
            s->state = HV_SESSION_LOST;
            event(s, HV_SESSION_EV_LOST, HV_ETIMEDOUT);
            return HV_ETIMEDOUT;
        }
        return 0;
    }
    if (s->state != HV_SESSION_OPEN)
        return 0;
    if (now_ns >= s->last_rx_ns + (uint64_t)s->timeout_ms * NS_PER_MS) {
        s->state = HV_SESSION_LOST;
        event(s, HV_SESSION_EV_LOST, HV_ETIMEDOUT);
        return HV_ETIMEDOUT;
    }
    for (unsigned i = 0; i < s->nrx; i++) {
        if (s->rx[i].ack_due_ns && now_ns >= s->rx[i].ack_due_ns)
            (void)send_ack(s, &s->rx[i], now_ns);
    }
    if (now_ns >= s->next_hb_ns) {
        (void)send_heartbeat(s, now_ns);
        s->next_hb_ns = now_ns + (uint64_t)s->hb_ms * NS_PER_MS;
    }
    return 0;
}

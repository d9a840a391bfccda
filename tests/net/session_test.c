/*
 * The HVW1 session driven by scripted bytes and times: no sockets, no clock. A tiny in-test
 * "transport" moves the pending bytes of each stream from one session to the other, and can cut
 * a connection at any byte.
 */
#include "hv_test.h"

#include <hivewire/codec.h>

#include "net/session.h"

#define MS 1000000ull

typedef struct got {
    uint64_t sender, seq;
    uint8_t prio;
    char topic[64];
} got;

typedef struct side {
    hv_session *s; /* the session this side's connection currently drives */
    hv_session *sessions[4];
    int nsessions;
    int events[16], errs[16], nev;
    got rx[4096];
    int nrx;
    int full;      /* on_frame answers HV_EFULL while set */
    int rx_err;    /* the last error hv__session_rx() returned on this side */
    size_t credit; /* bytes credited back */
    uint64_t rand_ctr;
    hv_session_opts o;
} side;

static void t_rand(void *user, uint8_t *dst, size_t len)
{
    side *sd = user;
    for (size_t i = 0; i < len; i++)
        dst[i] = (uint8_t)(++sd->rand_ctr * 131u);
}

static int t_frame(void *user, const hv_session_frame *f)
{
    side *sd = user;
    if (sd->full)
        return HV_EFULL;
    assert_true(sd->nrx < 4096);
    got *g = &sd->rx[sd->nrx++];
    g->sender = f->sender_id;
    g->seq = f->seq;
    g->prio = f->prio;
    snprintf(g->topic, sizeof(g->topic), "%.*s", (int)f->topic.len, f->topic.ptr);
    /* The delivered frame is whole and self-contained. */
    hv_frame fr;
    hv_msg m;
    assert_int_equal(hv_decode(f->frame, f->len, NULL, NULL, 0, &fr, &m), (int)f->len);
    assert_int_equal(fr.topic_id, 0);
    return 0;
}

static void t_event(void *user, int ev, int err)
{
    side *sd = user;
    assert_true(sd->nev < 16);
    sd->events[sd->nev] = ev;
    sd->errs[sd->nev++] = err;
}

static void t_credit(void *user, int64_t key, size_t n)
{
    side *sd = user;
    (void)key;
    sd->credit += n;
}

/* Server: resume the session whose token the client offers. */
static int t_hello(void *user, hv_session *s, const hv_session_hello *h)
{
    side *sd = user;
    if (h->token == NULL)
        return 0;
    for (int i = 0; i < sd->nsessions; i++) {
        hv_session *old = sd->sessions[i];
        const uint8_t *tok = hv__session_token(old);
        if (old != s && tok && memcmp(tok, h->token, HV_SESSION_TOKEN_BYTES) == 0) {
            assert_int_equal(hv__session_accept(old, h, 0), 0);
            sd->s = old;
            return 1;
        }
    }
    return 0;
}

static void side_init(side *sd, int server, uint64_t id)
{
    memset(sd, 0, sizeof(*sd));
    sd->o = (hv_session_opts){ .size = sizeof(hv_session_opts),
                               .is_server = server,
                               .local_id = id,
                               .local_role =
                                   server ? HV_WIRE_ROLE_COORDINATOR : HV_WIRE_ROLE_PATTERN_MATCHER,
                               .name = server ? "test-hub" : "test-agent",
                               .intern_max = 16,
                               .heartbeat_interval_ms = 100,
                               .on_frame = t_frame,
                               .on_event = t_event,
                               .on_credit = t_credit,
                               .on_hello = t_hello,
                               .rand = t_rand,
                               .user = sd };
}

static hv_session *side_new_session(side *sd)
{
    hv_session *s;
    assert_int_equal(hv__session_new(&sd->o, &s), 0);
    assert_true(sd->nsessions < 4);
    sd->sessions[sd->nsessions++] = s;
    sd->s = s;
    return s;
}

static void side_fini(side *sd)
{
    for (int i = 0; i < sd->nsessions; i++)
        hv__session_free(sd->sessions[i]);
}

/*
 * Moves up to budget bytes of pending stream data from a to b (the whole lot when budget is
 * SIZE_MAX), in scheduler order; qack: the transport confirms what it moved. Returns the bytes
 * moved. Stream keys on b: control = HV_SESSION_CONTROL, lane i of a = key_base + i.
 */
static size_t pump_dir(side *a, side *b, int64_t key_base, size_t budget, int qack, uint64_t now)
{
    size_t moved = 0;
    while (moved < budget) {
        int lane = hv__session_tx_next_lane(a->s, NULL);
        if (lane == HV_ENOTFOUND)
            break;
        const uint8_t *base[3];
        size_t len[3];
        uint64_t off;
        int k = hv__session_tx_peek(a->s, lane, base, len, &off);
        assert_true(k > 0);
        size_t n = len[0] < budget - moved ? len[0] : budget - moved;
        hv__session_tx_advance(a->s, lane, n);
        int64_t key = lane == HV_SESSION_CONTROL ? HV_SESSION_CONTROL : key_base + lane;
        int rv = hv__session_rx(b->s, key, base[0], n, now);
        if (rv < 0 && b->rx_err == 0)
            b->rx_err = rv;
        /* Confirmed after delivery, as QUIC would: the session may free the bytes at once. */
        if (qack)
            hv__session_tx_acked(a->s, lane, off + n);
        moved += n;
    }
    return moved;
}

static void pump(side *c, side *sv, uint64_t now)
{
    for (int i = 0; i < 50; i++) {
        size_t m =
            pump_dir(c, sv, 1000, SIZE_MAX, 1, now) + pump_dir(sv, c, 2000, SIZE_MAX, 1, now);
        if (m == 0)
            return;
    }
    fail_msg("pump did not settle");
}

static size_t make_frame(uint8_t *buf, size_t cap, uint64_t sender, uint64_t seq, const char *topic)
{
    hv_msg m = { .type = HV_MSG_PUBLISH };
    m.publish.priority = HV_WIRE_PRIO_NORMAL;
    m.publish.data = (hv_bytes){ (const uint8_t *)"payload-bytes", 13 };
    hv_frame f = {
        .seq = seq, .sender_id = sender, .timestamp_ns = seq, .topic = hv_str_from(topic)
    };
    int n = hv_frame_encode(buf, cap, &f, &m, NULL);
    assert_true(n > 0);
    return (size_t)n;
}

static void connect_pair(side *c, side *sv, uint64_t now)
{
    if (c->s == NULL)
        side_new_session(c);
    side_new_session(sv);
    assert_int_equal(hv__session_connect(c->s, now), 0);
    assert_int_equal(hv__session_connect(sv->s, now), 0);
    pump(c, sv, now);
}

static void handshake_opens_both_ends(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 0x100000001ull);
    side_init(&sv, 1, 0x000000001ull);
    connect_pair(&c, &sv, 1000);
    assert_int_equal(hv__session_state(c.s), HV_SESSION_OPEN);
    assert_int_equal(hv__session_state(sv.s), HV_SESSION_OPEN);
    assert_int_equal(c.events[0], HV_SESSION_EV_OPEN);
    assert_int_equal(c.errs[0], 0);
    assert_int_equal(sv.events[0], HV_SESSION_EV_OPEN);
    assert_true(hv__session_id(c.s) != 0);
    assert_int_equal(hv__session_id(c.s), hv__session_id(sv.s));
    assert_int_equal(hv__session_peer_id(sv.s), 0x100000001ull);
    assert_int_equal(hv__session_peer_role(sv.s), HV_WIRE_ROLE_PATTERN_MATCHER);
    assert_int_equal(hv__session_peer_id(c.s), 1);
    assert_int_equal(hv__session_heartbeat_ms(c.s), 100);
    assert_non_null(hv__session_token(c.s));
    side_fini(&c);
    side_fini(&sv);
}

static void version_outside_the_servers_range_is_refused(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    c.o.version_min = c.o.version_max = 0x0200; /* HVW 2.0 only */
    connect_pair(&c, &sv, 0);
    assert_int_equal(hv__session_state(sv.s), HV_SESSION_REFUSED);
    assert_int_equal(hv__session_state(c.s), HV_SESSION_REFUSED);
    assert_int_equal(c.events[0], HV_SESSION_EV_REFUSED);
    assert_int_equal(c.errs[0], HV_EBADVERSION);
    assert_int_equal(sv.errs[0], HV_EBADVERSION);
    assert_int_equal(sv.rx_err, HV_EBADVERSION); /* the transport closes after the answer */
    assert_int_equal(c.rx_err, HV_EBADVERSION);
    uint8_t buf[256];
    size_t n = make_frame(buf, sizeof(buf), 7, 1, "a.b");
    assert_int_equal(hv__session_send(c.s, 3, buf, n, 0), HV_ESTATE);
    side_fini(&c);
    side_fini(&sv);
}

static void silent_peer_is_declared_lost_after_the_timeout(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    /* Heartbeats flowing both ways keep both ends alive past many timeouts. */
    uint64_t t = 0;
    for (int i = 0; i < 20; i++) {
        t = hv__session_expiry(c.s) < hv__session_expiry(sv.s) ? hv__session_expiry(c.s)
                                                               : hv__session_expiry(sv.s);
        assert_int_equal(hv__session_handle_expiry(c.s, t), 0);
        assert_int_equal(hv__session_handle_expiry(sv.s, t), 0);
        pump(&c, &sv, t);
    }
    assert_true(t >= 900 * MS);
    hv_session_stats st;
    hv__session_get_stats(c.s, &st);
    assert_true(st.heartbeats_sent >= 9 && st.heartbeats_received >= 9);
    /* Now the server goes silent: the client sends heartbeats, then declares it lost at 3 x. */
    uint64_t last = t;
    for (;;) {
        uint64_t e = hv__session_expiry(c.s);
        int rv = hv__session_handle_expiry(c.s, e);
        if (rv == HV_ETIMEDOUT) {
            assert_int_equal(e, last + 300 * MS);
            break;
        }
        assert_int_equal(rv, 0);
        assert_true(e < last + 300 * MS);
    }
    assert_int_equal(hv__session_state(c.s), HV_SESSION_LOST);
    assert_int_equal(c.events[c.nev - 1], HV_SESSION_EV_LOST);
    assert_int_equal(c.errs[c.nev - 1], HV_ETIMEDOUT);
    side_fini(&c);
    side_fini(&sv);
}

static void handshake_that_never_comes_times_out(void **state)
{
    (void)state;
    side c;
    side_init(&c, 0, 7);
    side_new_session(&c);
    assert_int_equal(hv__session_connect(c.s, 10), 0);
    assert_int_equal(hv__session_expiry(c.s), 10 + 5000 * MS);
    assert_int_equal(hv__session_handle_expiry(c.s, 10 + 4999 * MS), 0);
    assert_int_equal(hv__session_handle_expiry(c.s, 10 + 5000 * MS), HV_ETIMEDOUT);
    side_fini(&c);
}

static void check_in_order_once(const side *sv, uint64_t sender, int count)
{
    int n = 0;
    uint64_t last = 0;
    for (int i = 0; i < sv->nrx; i++) {
        if (sv->rx[i].sender != sender)
            continue;
        assert_true(sv->rx[i].seq > last);
        last = sv->rx[i].seq;
        n++;
    }
    assert_int_equal(n, count);
    assert_int_equal(last, (uint64_t)count);
}

/* Sends frames 1..n from sender on prio, topic cycling through three names. */
static void send_n(side *c, uint64_t sender, int from, int to, uint8_t prio)
{
    static const char *topics[] = { "md.spx", "md.ndx", "swarm.vote.cast" };
    uint8_t buf[256];
    for (int i = from; i <= to; i++) {
        size_t n = make_frame(buf, sizeof(buf), sender, (uint64_t)i, topics[i % 3]);
        assert_int_equal(hv__session_send(c->s, prio, buf, n, 0), 0);
    }
}

static void reconnect_replays_what_was_lost_and_removes_duplicates(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    send_n(&c, 7, 1, 100, 3);
    /* The connection carries 3,000 bytes of the lane (about 40 frames), unconfirmed by QUIC,
     * then dies. Acks for part of them were never sent back. */
    pump_dir(&c, &sv, 1000, 3000, 0, 1);
    int before = sv.nrx;
    assert_true(before > 10 && before < 100);
    hv__session_transport_lost(c.s, 2);
    hv__session_transport_lost(sv.s, 2);
    /* Reconnect: the client offers its token; the server resumes the same session. */
    assert_int_equal(hv__session_connect(c.s, 3), 0);
    hv_session *old = sv.s;
    side_new_session(&sv);
    assert_int_equal(hv__session_connect(sv.s, 3), 0);
    pump(&c, &sv, 3);
    assert_ptr_equal(sv.s, old);
    assert_int_equal(c.events[c.nev - 1], HV_SESSION_EV_OPEN);
    assert_int_equal(c.errs[c.nev - 1], 1); /* resumed */
    check_in_order_once(&sv, 7, 100);
    hv_session_stats cs, ss;
    hv__session_get_stats(c.s, &cs);
    hv__session_get_stats(sv.s, &ss);
    assert_true(cs.frames_replayed > 0);
    assert_int_equal(ss.frames_delivered, 100);
    /* Acks after the reconnect empty the replay buffer. */
    uint64_t e = hv__session_expiry(sv.s);
    assert_int_equal(hv__session_handle_expiry(sv.s, e), 0);
    pump(&c, &sv, e);
    assert_int_equal(hv__session_unacked(c.s), 0);
    side_fini(&c);
    side_fini(&sv);
}

/* ngtcp2 keeps pointers to stream data and reads them again to retransmit: bytes handed out
 * must stay where they are, unchanged, while the queue grows behind them, until confirmed. */
static void bytes_handed_to_the_transport_stay_put_until_confirmed(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    uint8_t buf[256];
    size_t n = make_frame(buf, sizeof(buf), 7, 1, "md.spx");
    assert_int_equal(hv__session_send(c.s, 3, buf, n, 0), 0);
    int lane = hv__session_tx_next_lane(c.s, NULL);
    assert_true(lane >= 0);
    const uint8_t *base[3];
    size_t len[3];
    uint64_t off;
    int k = hv__session_tx_peek(c.s, lane, base, len, &off);
    assert_true(k >= 2); /* the preamble, then the frame */
    uint8_t copy[3][256];
    for (int i = 0; i < k; i++) {
        assert_true(len[i] <= sizeof(copy[i]));
        memcpy(copy[i], base[i], len[i]);
        hv__session_tx_advance(c.s, lane, len[i]);
    }
    /* Far more than any first buffer holds, none of it confirmed. */
    for (uint64_t seq = 2; seq < 3000; seq++) {
        n = make_frame(buf, sizeof(buf), 7, seq, "md.spx");
        assert_int_equal(hv__session_send(c.s, 3, buf, n, 0), 0);
    }
    for (int i = 0; i < k; i++)
        assert_memory_equal(base[i], copy[i], len[i]);
    side_fini(&c);
    side_fini(&sv);
}

static int send_marked(side *c, uint64_t seq, int early)
{
    uint8_t buf[256];
    size_t n = make_frame(buf, sizeof(buf), 7, seq, "md.spx");
    hv_frame f;
    assert_int_equal(hv_frame_parse(buf, n, NULL, &f), (int)n);
    return hv__session_send_parsed(c->s, 3, buf, &f, early ? HV_SESSION_SEND_EARLY : 0, 0);
}

/* In 0-RTT a client hands out the control stream, then only each lane's leading run of frames
 * marked safe to replay; the rest waits for the session to open. */
static void early_data_carries_only_the_leading_run_of_replay_safe_frames(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    side_new_session(&c);
    assert_int_equal(send_marked(&c, 1, 1), 0);
    assert_int_equal(send_marked(&c, 2, 1), 0);
    assert_int_equal(send_marked(&c, 3, 0), 0);
    assert_int_equal(send_marked(&c, 4, 1), 0);
    assert_int_equal(hv__session_connect(c.s, 0), 0);
    /* Not in 0-RTT: the handshake only. */
    assert_int_equal(hv__session_tx_next_lane(c.s, NULL), HV_SESSION_CONTROL);
    const uint8_t *base[3];
    size_t len[3];
    uint64_t off;
    int k = hv__session_tx_peek(c.s, HV_SESSION_CONTROL, base, len, &off);
    size_t hs = 0;
    for (int i = 0; i < k; i++)
        hs += len[i];
    hv__session_tx_advance(c.s, HV_SESSION_CONTROL, hs);
    assert_int_equal(hv__session_tx_next_lane(c.s, NULL), HV_ENOTFOUND);
    /* In 0-RTT: frames 1 and 2, and not one byte of 3 or 4. */
    hv__session_set_early(c.s, 1);
    int lane = hv__session_tx_next_lane(c.s, NULL);
    assert_true(lane >= 0);
    uint8_t one[256];
    size_t fl = make_frame(one, sizeof(one), 7, 1, "md.spx");
    k = hv__session_tx_peek(c.s, lane, base, len, &off);
    size_t total = 0;
    for (int i = 0; i < k; i++)
        total += len[i];
    /* The preamble and frames 1 and 2 (a lane made before any handshake does not intern). */
    assert_int_equal(total, HV_SESSION_PREAMBLE_BYTES + 2 * fl);
    for (int i = 0; i < k; i++)
        hv__session_tx_advance(c.s, lane, len[i]);
    assert_int_equal(hv__session_tx_next_lane(c.s, NULL), HV_ENOTFOUND);
    /* Types that must never be replayed cannot be marked. */
    uint8_t vb[256];
    hv_msg m = { .type = HV_MSG_VOTE };
    hv_frame vf = { .seq = 9, .sender_id = 7, .topic = hv_str_from("swarm.vote.cast") };
    int vn = hv_frame_encode(vb, sizeof(vb), &vf, &m, NULL);
    assert_true(vn > 0);
    assert_int_equal(hv_frame_parse(vb, (size_t)vn, NULL, &vf), vn);
    assert_int_equal(hv__session_send_parsed(c.s, 3, vb, &vf, HV_SESSION_SEND_EARLY, 0), HV_EINVAL);
    assert_int_equal(hv__session_send_parsed(c.s, 3, vb, &vf, 0, 0), 0);
    assert_int_equal(hv__session_tx_next_lane(c.s, NULL), HV_ENOTFOUND);
    side_fini(&c);
    side_fini(&sv);
}

static void duplicates_from_a_replay_are_removed(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    sv.o.ack_frames = 1000; /* the server acks only by timer: none goes out before the cut */
    connect_pair(&c, &sv, 0);
    send_n(&c, 7, 1, 50, 2);
    pump_dir(&c, &sv, 1000, SIZE_MAX, 1, 1);
    assert_int_equal(sv.nrx, 50);
    hv__session_transport_lost(c.s, 2);
    hv__session_transport_lost(sv.s, 2);
    assert_int_equal(hv__session_connect(c.s, 3), 0);
    side_new_session(&sv);
    assert_int_equal(hv__session_connect(sv.s, 3), 0);
    pump(&c, &sv, 3);
    /* The resume acks told the client that all 50 arrived: nothing is replayed twice and
     * nothing is delivered twice. */
    check_in_order_once(&sv, 7, 50);
    hv_session_stats ss;
    hv__session_get_stats(sv.s, &ss);
    assert_int_equal(ss.frames_delivered, 50);
    send_n(&c, 7, 51, 60, 2);
    pump(&c, &sv, 4);
    check_in_order_once(&sv, 7, 60);
    side_fini(&c);
    side_fini(&sv);
}

static void replayed_frames_already_delivered_are_dropped(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    send_n(&c, 7, 1, 20, 3);
    pump_dir(&c, &sv, 1000, SIZE_MAX, 1, 1);
    /* The server's state is copied back to before the acks it queued reached the client:
     * forge a replay by rewinding the client's lane with a new connection but giving the
     * server's resume acks no chance (the server's control bytes are dropped). */
    hv__session_transport_lost(c.s, 2);
    hv__session_transport_lost(sv.s, 2);
    assert_int_equal(hv__session_connect(c.s, 3), 0);
    side_new_session(&sv);
    assert_int_equal(hv__session_connect(sv.s, 3), 0);
    pump_dir(&c, &sv, 1000, SIZE_MAX, 1, 3); /* handshake in */
    /* Drop the server's handshake_ack + acks, and make the client accept a copy that has no
     * acks: replay the whole ring into the server. */
    hv_session *srv = sv.s;
    const uint8_t *base[3];
    size_t len[3];
    uint64_t off;
    int k = hv__session_tx_peek(srv, HV_SESSION_CONTROL, base, len, &off);
    assert_true(k >= 1);
    /* Feed only the handshake_ack (the first frame) to the client. */
    hv_frame f;
    int fl = hv_frame_parse(base[0], len[0], NULL, &f);
    assert_true(fl > 0);
    assert_int_equal(f.type, HV_MSG_HANDSHAKE_ACK);
    assert_int_equal(hv__session_rx(c.s, HV_SESSION_CONTROL, base[0], (size_t)fl, 3), 0);
    hv__session_tx_advance(srv, HV_SESSION_CONTROL, len[0] + (k > 1 ? len[1] : 0));
    pump_dir(&c, &sv, 1000, SIZE_MAX, 1, 4);
    hv_session_stats ss;
    hv__session_get_stats(sv.s, &ss);
    assert_int_equal(ss.duplicates, 20);
    check_in_order_once(&sv, 7, 20);
    side_fini(&c);
    side_fini(&sv);
}

static void a_new_session_discards_the_old_replay_state_and_says_so(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    send_n(&c, 7, 1, 10, 3);
    hv__session_transport_lost(c.s, 1);
    /* A server that lost its state: no session to resume. */
    side sv2;
    side_init(&sv2, 1, 1);
    sv2.rand_ctr = 99; /* another server process: other random session ids */
    assert_int_equal(hv__session_connect(c.s, 2), 0);
    side_new_session(&sv2);
    assert_int_equal(hv__session_connect(sv2.s, 2), 0);
    pump(&c, &sv2, 2);
    assert_int_equal(hv__session_state(c.s), HV_SESSION_OPEN);
    assert_int_equal(c.events[c.nev - 2], HV_SESSION_EV_RESET);
    assert_int_equal(c.errs[c.nev - 2], 10);
    assert_int_equal(c.events[c.nev - 1], HV_SESSION_EV_OPEN);
    assert_int_equal(c.errs[c.nev - 1], 0);
    hv_session_stats cs;
    hv__session_get_stats(c.s, &cs);
    assert_int_equal(cs.discarded_on_reset, 10);
    side_fini(&c);
    side_fini(&sv);
    side_fini(&sv2);
}

static void full_consumer_holds_bytes_and_credit_until_it_takes_them(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    sv.full = 1;
    size_t credit0 = sv.credit;
    send_n(&c, 7, 1, 30, 4);
    pump_dir(&c, &sv, 1000, SIZE_MAX, 1, 1);
    assert_int_equal(sv.nrx, 0);
    assert_int_equal(hv__session_rx_blocked(sv.s), 1);
    assert_int_equal(sv.credit - credit0, HV_SESSION_PREAMBLE_BYTES); /* only the preamble */
    assert_true(hv__session_buffered_bytes(sv.s) > 30 * 48);
    sv.full = 0;
    assert_int_equal(hv__session_rx_resume(sv.s, 2), 30);
    assert_int_equal(hv__session_rx_blocked(sv.s), 0);
    check_in_order_once(&sv, 7, 30);
    assert_true(sv.credit - credit0 > 30 * 48);
    side_fini(&c);
    side_fini(&sv);
}

static void full_lane_answers_efull_until_acks_free_it(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    c.o.frame_max_bytes = 4096;
    c.o.lane_buffer_bytes = 4096;
    connect_pair(&c, &sv, 0);
    uint8_t buf[256];
    int i = 1;
    int rv;
    while ((rv = hv__session_send(c.s, 3, buf, make_frame(buf, sizeof(buf), 7, (uint64_t)i, "x.y"),
                                  0)) == 0)
        i++;
    assert_int_equal(rv, HV_EFULL);
    assert_true(i > 10);
    hv_session_stats cs;
    hv__session_get_stats(c.s, &cs);
    assert_int_equal(cs.full, 1);
    pump(&c, &sv, 1);
    uint64_t e = hv__session_expiry(sv.s);
    hv__session_handle_expiry(sv.s, e); /* the delayed ack */
    pump(&c, &sv, e);
    assert_int_equal(hv__session_unacked(c.s), 0);
    assert_int_equal(
        hv__session_send(c.s, 3, buf, make_frame(buf, sizeof(buf), 7, (uint64_t)i, "x.y"), 0), 0);
    side_fini(&c);
    side_fini(&sv);
}

static void interning_shrinks_the_lane_and_topics_arrive_whole(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    send_n(&c, 7, 1, 30, 3);
    hv_session_stats cs;
    hv__session_get_stats(c.s, &cs);
    uint8_t buf[256];
    size_t one = make_frame(buf, sizeof(buf), 7, 1, "md.spx");
    assert_true(cs.bytes_sent < 30 * one - 20 * 5);
    pump(&c, &sv, 1);
    assert_int_equal(sv.nrx, 30);
    static const char *topics[] = { "md.spx", "md.ndx", "swarm.vote.cast" };
    for (int i = 0; i < 30; i++)
        assert_string_equal(sv.rx[i].topic, topics[(i + 1) % 3]);
    side_fini(&c);
    side_fini(&sv);
}

static void priorities_keep_per_sender_order_and_critical_goes_first(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    connect_pair(&c, &sv, 0);
    uint8_t buf[256];
    /* seq 1..10 at BATCH, 11..20 CRITICAL, two senders interleaved. */
    for (uint64_t i = 1; i <= 20; i++) {
        uint8_t prio = i <= 10 ? 5 : 1;
        assert_int_equal(
            hv__session_send(c.s, prio, buf, make_frame(buf, sizeof(buf), 7, i, "a.b"), 0), 0);
        assert_int_equal(
            hv__session_send(c.s, prio, buf, make_frame(buf, sizeof(buf), 8, i, "a.b"), 0), 0);
    }
    pump(&c, &sv, 1);
    assert_int_equal(sv.nrx, 40);
    for (int i = 0; i < 20; i++)
        assert_int_equal(sv.rx[i].prio, 1);
    uint64_t last[2][6] = { { 0 } };
    for (int i = 0; i < 40; i++) {
        uint64_t *l = &last[sv.rx[i].sender - 7][sv.rx[i].prio];
        assert_true(sv.rx[i].seq > *l);
        *l = sv.rx[i].seq;
    }
    side_fini(&c);
    side_fini(&sv);
}

static void sends_that_break_the_rules_are_refused(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    c.o.frame_max_bytes = 256;
    c.o.lanes_max = 2;
    connect_pair(&c, &sv, 0);
    uint8_t buf[512];
    size_t n = make_frame(buf, sizeof(buf), 7, 5, "a.b");
    assert_int_equal(hv__session_send(c.s, 0, buf, n, 0), HV_EINVAL);
    assert_int_equal(hv__session_send(c.s, 6, buf, n, 0), HV_EINVAL);
    assert_int_equal(hv__session_send(c.s, 3, buf, n - 1, 0), HV_ETRUNCATED);
    assert_int_equal(hv__session_send(c.s, 3, buf, n, 0), 0);
    /* seq must grow per sender, across priorities too */
    assert_int_equal(hv__session_send(c.s, 3, buf, n, 0), HV_EINVAL);
    assert_int_equal(hv__session_send(c.s, 2, buf, make_frame(buf, sizeof(buf), 7, 4, "a.b"), 0),
                     HV_EINVAL);
    assert_int_equal(hv__session_send(c.s, 2, buf, make_frame(buf, sizeof(buf), 7, 6, "a.b"), 0),
                     0);
    /* lanes_max = 2 */
    assert_int_equal(hv__session_send(c.s, 1, buf, make_frame(buf, sizeof(buf), 7, 7, "a.b"), 0),
                     HV_EFULL);
    /* frame limit: 256 is fine, 257 is not */
    hv_msg m = { .type = HV_MSG_PUBLISH };
    uint8_t data[300] = { 0 };
    hv_frame f = { .seq = 9, .sender_id = 7, .topic = hv_str_from("a.b") };
    m.publish.data = (hv_bytes){ data, 256 - 48 - 3 - 18 };
    int fl = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(fl, 256);
    assert_int_equal(hv__session_send(c.s, 3, buf, (size_t)fl, 0), 0);
    f.seq = 10;
    m.publish.data.len++;
    fl = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(hv__session_send(c.s, 3, buf, (size_t)fl, 0), HV_ETOOBIG);
    side_fini(&c);
    side_fini(&sv);
}

static void bad_preamble_and_oversize_frame_are_protocol_errors(void **state)
{
    (void)state;
    side c, sv;
    side_init(&c, 0, 7);
    side_init(&sv, 1, 1);
    sv.o.frame_max_bytes = 1024;
    sv.o.rx_buffer_bytes = 4096;
    connect_pair(&c, &sv, 0);
    uint8_t pre[16] = { 'H', 'V', 'L', '2', 1, 3 };
    assert_int_equal(hv__session_rx(sv.s, 5000, pre, 16, 1), HV_EBADMAGIC);
    uint8_t pre2[16] = { 'H', 'V', 'L', '1', 1, 9 };
    assert_int_equal(hv__session_rx(sv.s, 5001, pre2, 16, 1), HV_EBADFIELD);
    uint8_t pre3[16] = { 'H', 'V', 'L', '1', 1, 3, 0, 0, 7 };
    assert_int_equal(hv__session_rx(sv.s, 5002, pre3, 10, 1), 0); /* split preamble */
    assert_int_equal(hv__session_rx(sv.s, 5002, pre3 + 10, 6, 1), 0);
    uint8_t big[2048];
    hv_msg m = { .type = HV_MSG_PUBLISH };
    uint8_t data[1500] = { 0 };
    m.publish.data = (hv_bytes){ data, sizeof(data) };
    hv_frame f = { .seq = 1, .sender_id = 7, .topic = hv_str_from("a.b") };
    int fl = hv_frame_encode(big, sizeof(big), &f, &m, NULL);
    assert_int_equal(hv__session_rx(sv.s, 5002, big, (size_t)fl, 1), HV_ETOOBIG);
    /* A frame whose sender differs from its lane's. */
    uint8_t buf[256];
    size_t n = make_frame(buf, sizeof(buf), 8, 1, "a.b");
    uint8_t pre4[16] = { 'H', 'V', 'L', '1', 1, 2, 0, 0, 7 };
    assert_int_equal(hv__session_rx(sv.s, 5003, pre4, 16, 1), 0);
    assert_int_equal(hv__session_rx(sv.s, 5003, buf, n, 1), HV_EBADFIELD);
    hv_session_stats ss;
    hv__session_get_stats(sv.s, &ss);
    assert_int_equal(ss.errors_sent, 4);
    side_fini(&c);
    side_fini(&sv);
}

static void data_before_the_handshake_is_refused(void **state)
{
    (void)state;
    side sv;
    side_init(&sv, 1, 1);
    side_new_session(&sv);
    assert_int_equal(hv__session_connect(sv.s, 0), 0);
    uint8_t buf[256];
    size_t n = make_frame(buf, sizeof(buf), 8, 1, "a.b");
    assert_int_equal(hv__session_rx(sv.s, HV_SESSION_CONTROL, buf, n, 1), HV_ESTATE);
    assert_int_equal(hv__session_rx(sv.s, 4, buf, n, 1), HV_ESTATE);
    side_fini(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_opens_both_ends),
        cmocka_unit_test(version_outside_the_servers_range_is_refused),
        cmocka_unit_test(silent_peer_is_declared_lost_after_the_timeout),
        cmocka_unit_test(handshake_that_never_comes_times_out),
        cmocka_unit_test(reconnect_replays_what_was_lost_and_removes_duplicates),
        cmocka_unit_test(bytes_handed_to_the_transport_stay_put_until_confirmed),
        cmocka_unit_test(early_data_carries_only_the_leading_run_of_replay_safe_frames),
        cmocka_unit_test(duplicates_from_a_replay_are_removed),
        cmocka_unit_test(replayed_frames_already_delivered_are_dropped),
        cmocka_unit_test(a_new_session_discards_the_old_replay_state_and_says_so),
        cmocka_unit_test(full_consumer_holds_bytes_and_credit_until_it_takes_them),
        cmocka_unit_test(full_lane_answers_efull_until_acks_free_it),
        cmocka_unit_test(interning_shrinks_the_lane_and_topics_arrive_whole),
        cmocka_unit_test(priorities_keep_per_sender_order_and_critical_goes_first),
        cmocka_unit_test(sends_that_break_the_rules_are_refused),
        cmocka_unit_test(bad_preamble_and_oversize_frame_are_protocol_errors),
        cmocka_unit_test(data_before_the_handshake_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

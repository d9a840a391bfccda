/*
 * HVW1 over QUIC: ngtcp2 0.12 + GnuTLS, on libuv, with the project's UDP socket. Each QUIC
 * connection carries one hv_session (session.h): the control stream is the client's first
 * bidirectional stream; every (sender, priority) lane is a unidirectional stream of its sender.
 * docs/NET.md describes the design; docs/PROTOCOL.md ("QUIC mapping") the wire.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sodium.h>
#include <uv.h>

#include <hivewire/bus.h>
#include <hivewire/codec.h>
#include <hivewire/net.h>

#include "core/field.h"
#include "net/idmap.h"
#include "net/net_int.h"
#include "net/session.h"
#include "platform/udp.h"

#define NS_PER_MS              1000000ull
#define SCID_LEN               16
#define SCIDS_MAX              10 /* ngtcp2 pools at most 8, plus the Initial DCID the client chose */
#define PKT_MAX                1452
#define GSO_PKTS_MAX           32
#define SUBS_MAX               64
#define RX_BATCH               64
#define RETRY_TOKEN_TIMEOUT_NS (10ull * 1000 * NS_PER_MS)
#define ACL_MEMO               4
#define AR_ENTRIES             1024 /* 0-RTT ClientHellos remembered for replay refusal */

static const char tls_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:%DISABLE_TLS13_COMPAT_MODE";

typedef struct conn conn;

struct hv_net {
    hv_net_opts o;
    int is_hub;
    uv_loop_t *loop;
    uv_loop_t own_loop;
    int owns_loop;
    hv_udp udp;
    uv_poll_t poll;
    uv_timer_t reconnect;
    uv_timer_t run_timer; /* hv_net_run()'s timeout on an owned loop */
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio; /* one parsed priority string for every connection */
    gnutls_datum_t ticket_key;
    uint8_t retry_secret[32]; /* hub: keys the address-validation tokens of Retry packets */
    hv_net_peer self;
    conn **conns;
    uint32_t nconns, cap;
    hv_idmap cids;    /* connection id -> conn: one lookup per datagram */
    hv_idmap peers;   /* agent id -> the conn holding that peer's session */
    uv_timer_t sweep; /* hub: ends sessions kept past the resumption grace */
    struct sockaddr_storage remote;
    socklen_t remote_len;
    uint32_t backoff_ms;
    gnutls_datum_t tls_resume;        /* client: the last session ticket */
    ngtcp2_transport_params early_tp; /* client: the hub's transport parameters, for 0-RTT */
    int has_early_tp;
    gnutls_anti_replay_t anti_replay; /* hub: refuses a 0-RTT ClientHello seen before */
    struct ar_entry *ar;              /* hub: ClientHellos seen within the window */
    char subs[SUBS_MAX][HV_SUBJECT_MAX + 1];
    uint32_t nsubs;
    uint64_t sub_seq;
    char err[256];
    uint64_t ts; /* the time of the datagram being read (one clock read per datagram) */
    hv_net_stats st;
    uint8_t rxbuf[65536];
    uint8_t txbuf[GSO_PKTS_MAX * PKT_MAX];
    int closing;
};

struct conn {
    hv_net *net;
    ngtcp2_conn *q;
    gnutls_session_t tls;
    ngtcp2_crypto_conn_ref ref;
    hv_session *s;
    hv_session *retired; /* a session handed over by resumption, freed after rx returns */
    struct sockaddr_storage peer_addr;
    socklen_t peer_len;
    ngtcp2_cid scids[SCIDS_MAX]; /* this end's ids the peer may use: all in net->cids */
    int nscid;
    uint32_t idx; /* in net->conns */
    int64_t ctl_stream;
    int64_t lane_stream[HV_SESSION_LANES_MAX];
    uv_timer_t timer;
    uv_timer_t flush;
    uint32_t queued;
    int flush_armed;
    hv_net_peer peer;
    int identified;
    char **subs; /* hub: the peer's subscription patterns (SUBS_MAX at most) */
    uint32_t nsubs;
    double tokens;
    uint64_t tokens_ns;
    uint64_t rate_refused;
    uint64_t lost_ns;    /* hub: when the connection went away (kept for resumption) */
    uint64_t start_ns;   /* when the current QUIC connection began (handshake time) */
    int dead;            /* close at the end of the current callback */
    int removed;         /* conn_remove() ran: memory freed once its timers have closed */
    int joined;          /* the session opened on the current QUIC connection */
    int early;           /* client: this connection sent 0-RTT data */
    int rx_early;        /* the stream data being delivered came in 0-RTT packets */
    struct stash *stash; /* lane bytes that came before the session opened */
    uint32_t nstash;
    int in_read; /* inside ngtcp2_conn_read_pkt: no writes until it returns */
    char acl_memo[ACL_MEMO][HV_SUBJECT_MAX]; /* subjects this peer was allowed to publish on */
    uint8_t acl_memo_len[ACL_MEMO];
    uint8_t acl_memo_next;
    int timers_open;
    hv_net_link_stats ls;
};

static void conn_close(conn *c, int err, const char *why);
static int conn_write(conn *c);
static void conn_arm(conn *c);

static uint64_t now_ns(void)
{
    return hv_now_ns();
}

/* ---- Session callbacks ------------------------------------------------------------------- */

static const hv_net_rule default_rules[] = {
    { HV_WIRE_ROLE_COORDINATOR, 1, 1, ">" },
    { 255, 1, 1, "swarm.>" },
    { 255, 1, 1, "_inbox.>" },
    { 255, 1, 0, "net.>" },
};
static const hv_net_acl default_acl = { default_rules, 4 };

const hv_net_acl *hv_net_acl_default(void)
{
    return &default_acl;
}

/* Whether every subject matching pattern s also matches pattern p (token by token). */
static int pattern_covers(const char *p, const char *s)
{
    for (;;) {
        const char *pe = strchr(p, '.'), *se = strchr(s, '.');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 1 && p[0] == '>')
            return 1;
        if (sl == 1 && s[0] == '>')
            return 0;
        if (!(pl == 1 && p[0] == '*') && (sl != pl || memcmp(p, s, pl) != 0))
            return 0;
        if (!pe || !se)
            return !pe && !se;
        p = pe + 1;
        s = se + 1;
    }
}

static int acl_allows(const hv_net_acl *acl, uint8_t role, const char *subject, int subscribe)
{
    for (uint32_t i = 0; i < acl->count; i++) {
        const hv_net_rule *r = &acl->rules[i];
        if (r->role != 255 && r->role != role)
            continue;
        if (!(subscribe ? r->subscribe : r->publish))
            continue;
        if (subscribe ? pattern_covers(r->pattern, subject)
                      : hv_subject_matches(r->pattern, subject))
            return 1;
    }
    return 0;
}

/* The role table's answer for a publish on subject, remembered for the last few subjects the
 * connection was allowed (the table does not change while the hub runs). */
static int publish_allowed(conn *c, const char *subject, size_t len)
{
    for (int i = 0; i < ACL_MEMO; i++) {
        if (c->acl_memo_len[i] == len && memcmp(c->acl_memo[i], subject, len) == 0)
            return 1;
    }
    if (!acl_allows(c->net->o.acl, c->peer.role, subject, 0))
        return 0;
    int k = c->acl_memo_next++ % ACL_MEMO;
    memcpy(c->acl_memo[k], subject, len);
    c->acl_memo_len[k] = (uint8_t)len;
    return 1;
}

/* One token of the connection's bucket, at the time of the datagram being read. */
static int rate_take(conn *c)
{
    const hv_net_opts *o = &c->net->o;
    uint64_t t = c->net->ts;
    if (t < c->tokens_ns)
        t = c->tokens_ns;
    c->tokens += (double)(t - c->tokens_ns) * 1e-9 * o->rate_frames_per_s;
    if (c->tokens > o->rate_burst)
        c->tokens = o->rate_burst;
    c->tokens_ns = t;
    if (c->tokens < 1.0)
        return 0;
    c->tokens -= 1.0;
    return 1;
}

static int s_frame(void *user, const hv_session_frame *f)
{
    conn *c = user;
    hv_net *n = c->net;
    char subject[HV_SUBJECT_MAX + 1];
    if (f->topic.len == 0 || f->topic.len > HV_SUBJECT_MAX) {
        n->st.refused_acl++;
        c->ls.refused++;
        return HV_EBADSUBJECT;
    }
    memcpy(subject, f->topic.ptr, f->topic.len);
    subject[f->topic.len] = 0;
    if (n->is_hub) {
        if (!(n->o.flags & HV_NET_INSECURE) && !publish_allowed(c, subject, f->topic.len)) {
            n->st.refused_acl++;
            c->ls.refused++;
            return HV_EAUTH;
        }
        if (!rate_take(c)) {
            n->st.refused_rate++;
            c->ls.refused++;
            if (++c->rate_refused > n->o.rate_burst)
                c->dead = HV_EFULL; /* a flood that does not stop: close the connection */
            return HV_EAGAIN;
        }
        c->rate_refused = 0;
    }
    hv_net_frame nf = { .peer = &c->peer,
                        .sender_id = f->sender_id,
                        .prio = f->prio,
                        .type = f->type,
                        .subject = subject,
                        .subject_len = f->topic.len,
                        .frame = f->frame,
                        .len = f->len,
                        .early = (uint8_t)c->rx_early };
    int verdict = 0;
    if (n->o.on_frame)
        n->o.on_frame(n->o.user, &nf, &verdict);
    return verdict == HV_EFULL ? HV_EFULL : 0;
}

static int conn_add_sub(conn *c, const char *pattern)
{
    for (uint32_t i = 0; i < c->nsubs; i++) {
        if (strcmp(c->subs[i], pattern) == 0)
            return 0;
    }
    if (c->nsubs == SUBS_MAX)
        return HV_EFULL;
    if (c->subs == NULL && (c->subs = calloc(SUBS_MAX, sizeof(*c->subs))) == NULL)
        return HV_ENOMEM;
    if ((c->subs[c->nsubs] = strdup(pattern)) == NULL)
        return HV_ENOMEM;
    c->nsubs++;
    return 0;
}

static int s_control(void *user, const hv_session_frame *f)
{
    conn *c = user;
    hv_net *n = c->net;
    if (!n->is_hub)
        return HV_ENOTSUP;
    hv_frame fr;
    hv_msg m;
    int rv = hv_decode(f->frame, f->len, NULL, NULL, 0, &fr, &m);
    if (rv < 0)
        return rv;
    if (m.type == HV_MSG_SUBSCRIBE) {
        char pat[HV_SUBJECT_MAX + 1];
        if (m.subscribe.pattern.len > HV_SUBJECT_MAX)
            return HV_EBADSUBJECT;
        memcpy(pat, m.subscribe.pattern.ptr, m.subscribe.pattern.len);
        pat[m.subscribe.pattern.len] = 0;
        if (hv_subject_check(pat, strlen(pat), 1, NULL) < 0)
            return HV_EBADSUBJECT;
        if (!(n->o.flags & HV_NET_INSECURE) && !acl_allows(n->o.acl, c->peer.role, pat, 1)) {
            n->st.refused_acl++;
            c->ls.refused++;
            return HV_EAUTH;
        }
        return conn_add_sub(c, pat);
    }
    if (m.type == HV_MSG_UNSUBSCRIBE)
        return 0;
    return HV_ENOTSUP;
}

static conn *peer_conn(const hv_net *n, uint64_t peer_id)
{
    uint8_t k[8];
    hv__idmap_u64(peer_id, k);
    return hv__idmap_get(&n->peers, k, sizeof(k));
}

/* The connection that holds peer_id's session, if token is that session's. */
static conn *find_resumable(hv_net *n, conn *self, const uint8_t *token, uint64_t peer_id)
{
    conn *o = peer_conn(n, peer_id);
    if (o == NULL || o == self || o->s == NULL)
        return NULL;
    const uint8_t *t = hv__session_token(o->s);
    if (t && sodium_memcmp(t, token, HV_SESSION_TOKEN_BYTES) == 0)
        return o;
    return NULL;
}

static int s_hello(void *user, hv_session *s, const hv_session_hello *h)
{
    conn *c = user;
    hv_net *n = c->net;
    if (!(n->o.flags & HV_NET_INSECURE)) {
        if (!c->identified || h->hs->agent_id != c->peer.id || h->hs->role != c->peer.role) {
            n->st.refused_identity++;
            snprintf(n->err, sizeof(n->err),
                     "handshake names agent %llu role %u, the certificate %llu role %u",
                     (unsigned long long)h->hs->agent_id, h->hs->role,
                     (unsigned long long)c->peer.id, c->peer.role);
            return HV_EAUTH;
        }
    } else {
        c->peer.id = h->hs->agent_id;
        c->peer.role = h->hs->role;
        snprintf(c->peer.name, sizeof(c->peer.name), "%.*s", (int)h->hs->name.len, h->hs->name.ptr);
    }
    if (h->token == NULL)
        return 0;
    conn *old = find_resumable(n, c, h->token, c->peer.id);
    if (old == NULL)
        return 0; /* unknown or expired token: a new session (the client is told) */
    hv_session *os = old->s;
    old->s = NULL;
    free(c->subs); /* none yet: the subscriptions move with the session */
    c->subs = old->subs;
    c->nsubs = old->nsubs;
    old->subs = NULL;
    old->nsubs = 0;
    c->ls.connections = old->ls.connections;
    hv__session_set_user(os, c);
    int rv = hv__session_accept(os, h, now_ns());
    if (rv < 0) {
        hv__session_set_user(os, old);
        old->s = os;
        return rv;
    }
    c->retired = s;
    c->s = os;
    old->joined = 0; /* the peer is here now: closing the old connection loses nobody */
    if (old->q)
        old->dead = HV_EPEERCLOSED;
    else
        conn_close(old, 0, NULL);
    return 1;
}

static void s_event(void *user, int ev, int err)
{
    conn *c = user;
    hv_net *n = c->net;
    int nev = -1;
    switch (ev) {
    case HV_SESSION_EV_OPEN:
        nev = HV_NET_PEER_JOINED;
        n->st.peers_joined++;
        c->joined = 1;
        c->ls.handshake_us = (double)(now_ns() - c->start_ns) / 1e3;
        if (n->is_hub) {
            uint8_t k[8];
            hv__idmap_u64(c->peer.id, k);
            if (hv__idmap_put(&n->peers, k, sizeof(k), c) < 0)
                c->dead = HV_ENOMEM;
        }
        n->backoff_ms = 0;
        if (!n->is_hub) {
            /* Subscriptions live on the hub's connection state: send them again. */
            for (uint32_t i = 0; i < n->nsubs; i++) {
                uint8_t buf[256];
                hv_msg m = { .type = HV_MSG_SUBSCRIBE };
                m.subscribe.subscription_id = i + 1;
                m.subscribe.pattern = hv_str_from(n->subs[i]);
                hv_frame f = { .seq = ++n->sub_seq, .sender_id = n->self.id };
                int len = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
                if (len > 0)
                    (void)hv__session_send_control(c->s, buf, (size_t)len, now_ns());
            }
        }
        break;
    case HV_SESSION_EV_LOST:
        c->dead = err ? err : HV_ETIMEDOUT;
        return;
    case HV_SESSION_EV_REFUSED:
        nev = HV_NET_PEER_REFUSED;
        if (err == HV_EBADVERSION)
            n->st.refused_version++;
        c->dead = err;
        break;
    case HV_SESSION_EV_RESET:
        nev = HV_NET_PEER_RESET;
        break;
    default:
        return;
    }
    if (n->o.on_peer && nev >= 0)
        n->o.on_peer(n->o.user, &c->peer, nev, err);
}

static void s_credit(void *user, int64_t key, size_t len)
{
    conn *c = user;
    if (c->q == NULL)
        return;
    if (key != HV_SESSION_CONTROL)
        ngtcp2_conn_extend_max_stream_offset(c->q, key, len);
    else if (c->ctl_stream >= 0)
        ngtcp2_conn_extend_max_stream_offset(c->q, c->ctl_stream, len);
    ngtcp2_conn_extend_max_offset(c->q, len);
}

static void s_rand(void *user, uint8_t *dst, size_t len)
{
    (void)user;
    randombytes_buf(dst, len);
}

static int session_new(conn *c, hv_session **out)
{
    hv_net *n = c->net;
    const hv_net_opts *o = &n->o;
    hv_session_opts so = { .size = sizeof(so),
                           .is_server = n->is_hub,
                           .local_id = n->self.id,
                           .local_role = n->self.role,
                           .name = n->self.name[0] ? n->self.name : "hivewire",
                           .frame_max_bytes = o->frame_max_bytes,
                           .lane_buffer_bytes = o->lane_buffer_bytes,
                           .rx_buffer_bytes = o->rx_buffer_bytes,
                           .lanes_max = (uint16_t)o->lanes_max,
                           .intern_max = 256,
                           .heartbeat_interval_ms = o->heartbeat_interval_ms,
                           .peer_timeout_ms = o->peer_timeout_ms,
                           .on_frame = s_frame,
                           .on_control = s_control,
                           .on_hello = s_hello,
                           .on_event = s_event,
                           .on_credit = s_credit,
                           .rand = s_rand,
                           .user = c };
    return hv__session_new(&so, out);
}

/* ---- 0-RTT: lane bytes before the session opens, and the anti-replay memory ------------ */

/* Lane bytes that arrive before the HVW1 handshake is done (0-RTT on a hub, 0.5-RTT on a
 * client, or plain reordering) wait here, per stream, and go to the session once it is open:
 * only then is it known which session (fresh or resumed) they belong to. Bounded by QUIC flow
 * control: no more than the receive window per stream, and lanes_max streams. */
typedef struct stash {
    int64_t sid;
    uint8_t *buf;
    size_t len, cap;
    int early;
} stash;

static int stash_put(conn *c, int64_t sid, const uint8_t *data, size_t len, int early)
{
    const hv_net_opts *o = &c->net->o;
    stash *st = NULL;
    for (uint32_t i = 0; i < c->nstash && st == NULL; i++)
        st = c->stash[i].sid == sid ? &c->stash[i] : NULL;
    if (st == NULL) {
        if (c->nstash == o->lanes_max)
            return HV_EFULL;
        if (c->stash == NULL && (c->stash = calloc(o->lanes_max, sizeof(*c->stash))) == NULL)
            return HV_ENOMEM;
        st = &c->stash[c->nstash++];
        *st = (stash){ .sid = sid, .early = early };
    }
    if (st->len + len > o->rx_buffer_bytes)
        return HV_EFULL; /* more than the window the peer was given */
    if (st->len + len > st->cap) {
        size_t cap = st->cap ? st->cap : 1024;
        while (cap < st->len + len)
            cap *= 2;
        uint8_t *nb = realloc(st->buf, cap);
        if (nb == NULL)
            return HV_ENOMEM;
        st->buf = nb;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, len);
    st->len += len;
    return 0;
}

static void stash_drop(conn *c, int64_t sid)
{
    for (uint32_t i = 0; i < c->nstash; i++) {
        if (c->stash[i].sid == sid) {
            free(c->stash[i].buf);
            c->stash[i] = c->stash[--c->nstash];
            return;
        }
    }
}

static void stash_clear(conn *c)
{
    for (uint32_t i = 0; i < c->nstash; i++)
        free(c->stash[i].buf);
    free(c->stash);
    c->stash = NULL;
    c->nstash = 0;
}

/* The session is open: hands it the waiting lane bytes, stream by stream. */
static void stash_flush(conn *c)
{
    for (uint32_t i = 0; i < c->nstash && !c->dead; i++) {
        stash *st = &c->stash[i];
        c->rx_early = st->early;
        int rv = hv__session_rx(c->s, st->sid, st->buf, st->len, c->net->ts);
        if (rv < 0)
            c->dead = rv;
    }
    c->rx_early = 0;
    stash_clear(c);
}

typedef struct ar_entry {
    uint8_t key[crypto_generichash_BYTES];
    time_t exp;
} ar_entry;

/* GnuTLS asks whether a 0-RTT ClientHello (key) was seen before it expires (exp): remember
 * it, or refuse. A full table refuses too: then 0-RTT is declined and the handshake goes on
 * in 1-RTT, never a replay let through. */
static int ar_add(void *ptr, time_t exp, const gnutls_datum_t *key, const gnutls_datum_t *data)
{
    (void)data;
    hv_net *n = ptr;
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof(h), key->data, key->size, NULL, 0);
    time_t now = time(NULL);
    ar_entry *free_slot = NULL;
    for (int i = 0; i < AR_ENTRIES; i++) {
        ar_entry *e = &n->ar[i];
        if (e->exp > now && sodium_memcmp(e->key, h, sizeof(h)) == 0)
            return GNUTLS_E_DB_ENTRY_EXISTS;
        if (e->exp <= now && free_slot == NULL)
            free_slot = e;
    }
    if (free_slot == NULL)
        return GNUTLS_E_DB_ERROR;
    memcpy(free_slot->key, h, sizeof(h));
    free_slot->exp = exp;
    return 0;
}

/* ---- ngtcp2 callbacks -------------------------------------------------------------------- */

/* The peer's identity from its certificate (a resumed TLS session keeps it: a hub knows it
 * as soon as 0-RTT data arrives). 0, or -1 with c->dead set. */
static int conn_identify(conn *c)
{
    hv_net *n = c->net;
    if (n->o.flags & HV_NET_INSECURE)
        return 0;
    if (hv__net_session_peer(c->tls, &c->peer) < 0 ||
        (!n->is_hub && c->peer.role != HV_WIRE_ROLE_COORDINATOR)) {
        n->st.refused_identity++;
        c->dead = HV_EAUTH;
        return -1;
    }
    c->identified = 1;
    return 0;
}

static int lane_of_stream(const conn *c, int64_t sid)
{
    for (int i = 0; i < HV_SESSION_LANES_MAX; i++) {
        if (c->lane_stream[i] == sid)
            return i;
    }
    return -1;
}

static int q_recv_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t sid, uint64_t offset,
                              const uint8_t *data, size_t len, void *user, void *suser)
{
    (void)q;
    (void)offset;
    (void)suser;
    conn *c = user;
    if (c->s == NULL)
        return 0;
    int early = (flags & NGTCP2_STREAM_DATA_FLAG_EARLY) != 0;
    if (early && !c->identified && conn_identify(c) < 0)
        return 0; /* c->dead is set: the connection closes after this read */
    int64_t key = sid;
    if (ngtcp2_is_bidi_stream(sid)) {
        if (c->net->is_hub && c->ctl_stream < 0)
            c->ctl_stream = sid;
        if (sid != c->ctl_stream)
            return NGTCP2_ERR_CALLBACK_FAILURE;
        key = HV_SESSION_CONTROL;
    }
    c->ls.bytes_recv += len;
    if (key != HV_SESSION_CONTROL && hv__session_state(c->s) != HV_SESSION_OPEN) {
        int sr = len ? stash_put(c, key, data, len, early) : 0;
        if (sr < 0 && !c->dead)
            c->dead = sr;
        return 0;
    }
    c->rx_early = early;
    int rv = len ? hv__session_rx(c->s, key, data, len, c->net->ts) : 0;
    c->rx_early = 0;
    if (c->retired) {
        hv__session_free(c->retired);
        c->retired = NULL;
    }
    if (rv < 0) {
        if (rv == HV_ETOOBIG)
            c->net->st.refused_size++;
        if (!c->dead)
            c->dead = rv;
        return 0;
    }
    if ((flags & NGTCP2_STREAM_DATA_FLAG_FIN) && key != HV_SESSION_CONTROL)
        hv__session_rx_closed(c->s, key);
    if (key == HV_SESSION_CONTROL && c->nstash && c->s &&
        hv__session_state(c->s) == HV_SESSION_OPEN)
        stash_flush(c);
    return 0;
}

static int q_acked(ngtcp2_conn *q, int64_t sid, uint64_t offset, uint64_t len, void *user,
                   void *suser)
{
    (void)q;
    (void)suser;
    conn *c = user;
    if (c->s == NULL)
        return 0;
    if (sid == c->ctl_stream) {
        hv__session_tx_acked(c->s, HV_SESSION_CONTROL, offset + len);
        return 0;
    }
    int lane = lane_of_stream(c, sid);
    if (lane >= 0)
        hv__session_tx_acked(c->s, lane, offset + len);
    return 0;
}

static int q_stream_close(ngtcp2_conn *q, uint32_t flags, int64_t sid, uint64_t code, void *user,
                          void *suser)
{
    (void)q;
    (void)flags;
    (void)code;
    (void)suser;
    conn *c = user;
    int lane = lane_of_stream(c, sid);
    if (lane >= 0) {
        c->lane_stream[lane] = -1;
    } else if (c->s && !ngtcp2_is_bidi_stream(sid)) {
        stash_drop(c, sid); /* its partial data goes, as the session's would */
        hv__session_rx_closed(c->s, sid);
    }
    return 0;
}

/* Client: the hub declined the 0-RTT data. ngtcp2 forgets the streams; the session starts the
 * connection over (handshake first, lanes from their first unacknowledged frame). */
static int client_early_rejected(conn *c)
{
    if (ngtcp2_conn_early_data_rejected(c->q) != 0)
        return -1;
    c->ctl_stream = -1;
    for (int i = 0; i < HV_SESSION_LANES_MAX; i++)
        c->lane_stream[i] = -1;
    hv__session_set_early(c->s, 0);
    if (ngtcp2_conn_open_bidi_stream(c->q, &c->ctl_stream, NULL) != 0 ||
        hv__session_connect(c->s, now_ns()) < 0)
        return -1;
    return 0;
}

static int q_handshake_completed(ngtcp2_conn *q, void *user)
{
    conn *c = user;
    hv_net *n = c->net;
    if (!c->identified && conn_identify(c) < 0)
        return 0;
    if (gnutls_session_is_resumed(c->tls))
        c->ls.resumed++;
    if (n->is_hub) {
        if (gnutls_session_get_flags(c->tls) & GNUTLS_SFLAGS_EARLY_DATA)
            c->ls.early_accepted++;
        return 0;
    }
    /* Remembered with the session ticket: the next connection may speak first (0-RTT). */
    const ngtcp2_transport_params *tp = ngtcp2_conn_get_remote_transport_params(q);
    if (tp) {
        n->early_tp = *tp;
        n->has_early_tp = 1;
    }
    if (!c->early)
        return 0;
    if (gnutls_session_get_flags(c->tls) & GNUTLS_SFLAGS_EARLY_DATA) {
        c->ls.early_accepted++;
        return 0;
    }
    if (client_early_rejected(c) < 0)
        c->dead = HV_ETRANSPORT;
    return 0;
}

static int q_extend_bidi(ngtcp2_conn *q, uint64_t max, void *user)
{
    (void)max;
    conn *c = user;
    if (c->net->is_hub || c->ctl_stream >= 0)
        return 0;
    if (ngtcp2_conn_open_bidi_stream(q, &c->ctl_stream, NULL) != 0)
        return 0;
    /* The session's handshake goes out on the new control stream. */
    if (hv__session_connect(c->s, now_ns()) < 0)
        c->dead = HV_ESTATE;
    return 0;
}

static void q_rand(uint8_t *dst, size_t len, const ngtcp2_rand_ctx *ctx)
{
    (void)ctx;
    randombytes_buf(dst, len);
}

/* Routes datagrams for cid to c. 0, HV_EFULL (SCIDS_MAX ids), HV_ENOMEM. */
static int conn_cid_add(conn *c, const ngtcp2_cid *cid)
{
    if (c->nscid == SCIDS_MAX)
        return HV_EFULL;
    int rv = hv__idmap_put(&c->net->cids, cid->data, cid->datalen, c);
    if (rv < 0)
        return rv;
    c->scids[c->nscid++] = *cid;
    return 0;
}

static void conn_cid_del(conn *c, const ngtcp2_cid *cid)
{
    for (int i = 0; i < c->nscid; i++) {
        if (ngtcp2_cid_eq(&c->scids[i], cid)) {
            (void)hv__idmap_del(&c->net->cids, cid->data, cid->datalen);
            c->scids[i] = c->scids[--c->nscid];
            return;
        }
    }
}

static void conn_cids_clear(conn *c)
{
    while (c->nscid)
        conn_cid_del(c, &c->scids[c->nscid - 1]);
}

static int q_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t cidlen, void *user)
{
    (void)q;
    conn *c = user;
    randombytes_buf(cid->data, cidlen);
    cid->datalen = cidlen;
    randombytes_buf(token, NGTCP2_STATELESS_RESET_TOKENLEN);
    return conn_cid_add(c, cid) < 0 ? NGTCP2_ERR_CALLBACK_FAILURE : 0;
}

static int q_remove_cid(ngtcp2_conn *q, const ngtcp2_cid *cid, void *user)
{
    (void)q;
    conn_cid_del(user, cid);
    return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
    conn *c = ref->user_data;
    return c->q;
}

static int tls_ticket_hook(gnutls_session_t tls, unsigned htype, unsigned when, unsigned incoming,
                           const gnutls_datum_t *msg)
{
    (void)htype;
    (void)when;
    (void)incoming;
    (void)msg;
    ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(tls);
    conn *c = ref->user_data;
    hv_net *n = c->net;
    gnutls_datum_t d;
    if (gnutls_session_get_data2(tls, &d) == 0) {
        gnutls_free(n->tls_resume.data);
        n->tls_resume = d;
    }
    return 0;
}

/* 0-RTT is on unless the options turn it off; a client also needs a ticket and the hub's
 * transport parameters from an earlier connection. */
static int early_allowed(const hv_net *n)
{
    if (n->o.flags & HV_NET_NO_EARLY_DATA)
        return 0;
    return n->is_hub ? n->anti_replay != NULL : n->tls_resume.data && n->has_early_tp;
}

static int tls_setup(conn *c)
{
    hv_net *n = c->net;
    unsigned fl = n->is_hub ? GNUTLS_SERVER : GNUTLS_CLIENT;
    if (early_allowed(n))
        fl |= GNUTLS_ENABLE_EARLY_DATA;
    if (gnutls_init(&c->tls, fl | GNUTLS_NO_END_OF_EARLY_DATA) < 0)
        return HV_ECRYPTO;
    int rv = n->is_hub ? ngtcp2_crypto_gnutls_configure_server_session(c->tls)
                       : ngtcp2_crypto_gnutls_configure_client_session(c->tls);
    if (rv != 0 || gnutls_priority_set(c->tls, n->prio) < 0 ||
        gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, n->cred) < 0)
        return HV_ECRYPTO;
    gnutls_datum_t alpn = { (unsigned char *)HV_NET_ALPN, sizeof(HV_NET_ALPN) - 1 };
    gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY);
    c->ref.get_conn = get_conn;
    c->ref.user_data = c;
    gnutls_session_set_ptr(c->tls, &c->ref);
    if (!(n->o.flags & HV_NET_INSECURE))
        gnutls_session_set_verify_cert(c->tls, NULL, 0);
    if (n->is_hub) {
        gnutls_certificate_server_set_request(
            c->tls, (n->o.flags & HV_NET_INSECURE) ? GNUTLS_CERT_IGNORE : GNUTLS_CERT_REQUIRE);
        if (gnutls_session_ticket_enable_server(c->tls, &n->ticket_key) < 0)
            return HV_ECRYPTO;
        if (early_allowed(n)) {
            /* QUIC tickets allow early data without a size limit (RFC 9001, 4.6.1). */
            gnutls_anti_replay_enable(c->tls, n->anti_replay);
            gnutls_record_set_max_early_data_size(c->tls, 0xffffffffu);
        }
    } else {
        gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, "localhost", 9);
        gnutls_handshake_set_hook_function(c->tls, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                           GNUTLS_HOOK_POST, tls_ticket_hook);
        if (n->tls_resume.data)
            (void)gnutls_session_set_data(c->tls, n->tls_resume.data, n->tls_resume.size);
    }
    return 0;
}

static void quic_settings(const hv_net_opts *o, ngtcp2_settings *st, ngtcp2_transport_params *tp)
{
    ngtcp2_settings_default(st);
    st->initial_ts = now_ns();
    st->initial_rtt = (uint64_t)o->initial_rtt_us * 1000;
    st->max_window = (uint64_t)o->rx_buffer_bytes * (o->lanes_max + 1);
    st->max_stream_window = o->rx_buffer_bytes;
    st->handshake_timeout = 10ull * 1000 * NS_PER_MS;
    ngtcp2_transport_params_default(tp);
    tp->initial_max_stream_data_bidi_local = o->rx_buffer_bytes;
    tp->initial_max_stream_data_bidi_remote = o->rx_buffer_bytes;
    tp->initial_max_stream_data_uni = o->rx_buffer_bytes;
    tp->initial_max_data = (uint64_t)o->rx_buffer_bytes * (o->lanes_max + 1);
    tp->initial_max_streams_bidi = 1;
    tp->initial_max_streams_uni = o->lanes_max;
    tp->max_idle_timeout =
        (uint64_t)(o->peer_timeout_ms ? o->peer_timeout_ms : 3 * o->heartbeat_interval_ms) * 2 *
        NS_PER_MS;
    tp->max_ack_delay = (uint64_t)o->max_ack_delay_us * 1000;
    tp->active_connection_id_limit = 4;
}

static const ngtcp2_callbacks quic_callbacks_client = {
    .client_initial = ngtcp2_crypto_client_initial_cb,
    .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
    .handshake_completed = q_handshake_completed,
    .encrypt = ngtcp2_crypto_encrypt_cb,
    .decrypt = ngtcp2_crypto_decrypt_cb,
    .hp_mask = ngtcp2_crypto_hp_mask_cb,
    .recv_stream_data = q_recv_stream_data,
    .acked_stream_data_offset = q_acked,
    .stream_close = q_stream_close,
    .recv_retry = ngtcp2_crypto_recv_retry_cb,
    .extend_max_local_streams_bidi = q_extend_bidi,
    .rand = q_rand,
    .get_new_connection_id = q_new_cid,
    .remove_connection_id = q_remove_cid,
    .update_key = ngtcp2_crypto_update_key_cb,
    .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
    .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
    .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
    .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
};

static ngtcp2_callbacks server_callbacks(void)
{
    ngtcp2_callbacks cb = quic_callbacks_client;
    cb.client_initial = NULL;
    cb.recv_retry = NULL;
    cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    cb.extend_max_local_streams_bidi = NULL;
    return cb;
}

/* ---- Connections ------------------------------------------------------------------------- */

static void on_conn_timer(uv_timer_t *t);
static void on_flush(uv_timer_t *t);

static conn *conn_alloc(hv_net *n)
{
    if (n->nconns == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 8;
        conn **nc = realloc(n->conns, cap * sizeof(*nc));
        if (nc == NULL)
            return NULL;
        n->conns = nc;
        n->cap = cap;
    }
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->net = n;
    c->ctl_stream = -1;
    for (int i = 0; i < HV_SESSION_LANES_MAX; i++)
        c->lane_stream[i] = -1;
    c->tokens = n->o.rate_burst;
    c->tokens_ns = now_ns();
    uv_timer_init(n->loop, &c->timer);
    uv_timer_init(n->loop, &c->flush);
    c->timer.data = c;
    c->flush.data = c;
    c->idx = n->nconns;
    n->conns[n->nconns++] = c;
    n->st.peers++;
    return c;
}

static void on_timer_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->timers_open == 0)
        free(c);
}

/* Drops the QUIC connection (the session may live on). */
static uint64_t conn_stream_losses(conn *c);

/* The connection's RTT figures into c->ls (they stay as the link's last known ones). */
static void conn_keep_rtt(conn *c)
{
    if (c->q == NULL)
        return;
    ngtcp2_conn_stat cs;
    ngtcp2_conn_get_conn_stat(c->q, &cs);
    c->ls.rtt_us = (double)cs.smoothed_rtt / 1000.0;
    c->ls.rtt_min_us = (double)cs.min_rtt / 1000.0;
    c->ls.rtt_var_us = (double)cs.rttvar / 1000.0;
}

static void conn_drop_quic(conn *c)
{
    c->ls.packets_lost += conn_stream_losses(c); /* the count dies with the connection */
    conn_keep_rtt(c);
    if (c->q) {
        ngtcp2_conn_del(c->q);
        c->q = NULL;
    }
    if (c->tls) {
        gnutls_deinit(c->tls);
        c->tls = NULL;
    }
    c->ctl_stream = -1;
    for (int i = 0; i < HV_SESSION_LANES_MAX; i++)
        c->lane_stream[i] = -1;
    conn_cids_clear(c);
    stash_clear(c);
    uv_timer_stop(&c->timer);
    uv_timer_stop(&c->flush);
    c->flush_armed = 0;
}

static void send_close(conn *c, int err)
{
    if (c->q == NULL || ngtcp2_conn_is_in_closing_period(c->q) ||
        ngtcp2_conn_is_in_draining_period(c->q))
        return;
    /* Flush what the session queued (a refusal's answer) before closing. A connection whose
     * session moved to another one (resumption) writes nothing more: ngtcp2 would retransmit
     * from that session's queues, which now serve the new connection. */
    if (c->s)
        (void)conn_write(c);
    ngtcp2_connection_close_error ce;
    ngtcp2_connection_close_error_default(&ce);
    if (err)
        ngtcp2_connection_close_error_set_application_error(&ce, (uint64_t)-err, NULL, 0);
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    uint8_t buf[PKT_MAX];
    ngtcp2_ssize w =
        ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, buf, sizeof(buf), &ce, now_ns());
    if (w > 0)
        (void)hv__udp_send(&c->net->udp, buf, (size_t)w, PKT_MAX, (struct sockaddr *)&c->peer_addr,
                           c->peer_len);
}

static void conn_remove(conn *c)
{
    hv_net *n = c->net;
    assert(c->idx < n->nconns && n->conns[c->idx] == c);
    n->conns[c->idx] = n->conns[--n->nconns];
    n->conns[c->idx]->idx = c->idx;
    if (peer_conn(n, c->peer.id) == c) {
        uint8_t k[8];
        hv__idmap_u64(c->peer.id, k);
        (void)hv__idmap_del(&n->peers, k, sizeof(k));
    }
    for (uint32_t i = 0; i < c->nsubs; i++)
        free(c->subs[i]);
    free(c->subs);
    c->subs = NULL;
    c->nsubs = 0;
    c->removed = 1;
    conn_drop_quic(c);
    hv__session_free(c->s);
    hv__session_free(c->retired);
    c->s = c->retired = NULL;
    /* Freed when both timer handles have closed. */
    c->timers_open = 2;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->flush, on_timer_closed);
}

static void client_schedule_reconnect(hv_net *n);

/* Ends a connection. The hub keeps a resumable session for resume_grace_ms; a client keeps
 * its session and reconnects. err 0: a normal close. */
static void conn_close(conn *c, int err, const char *why)
{
    hv_net *n = c->net;
    int had_quic = c->q != NULL;
    if (why && n->err[0] == 0)
        snprintf(n->err, sizeof(n->err), "%s", why);
    send_close(c, err);
    conn_drop_quic(c);
    int resumable = c->s && hv__session_state(c->s) != HV_SESSION_REFUSED &&
                    hv__session_id(c->s) != 0 && !n->closing;
    if (c->s && had_quic)
        hv__session_transport_lost(c->s, now_ns());
    /* A peer that joined is lost; one that never got past TLS was refused. */
    if (had_quic && c->joined) {
        n->st.peers_lost++;
        if (n->o.on_peer)
            n->o.on_peer(n->o.user, &c->peer, HV_NET_PEER_LOST, err);
    } else if (had_quic && err == HV_EAUTH && n->o.on_peer) {
        n->o.on_peer(n->o.user, &c->peer, HV_NET_PEER_REFUSED, err);
    }
    c->joined = 0;
    if (n->is_hub) {
        if (resumable && !n->closing) {
            c->lost_ns = now_ns();
            return;
        }
        conn_remove(c);
        return;
    }
    if (!n->closing && (c->s == NULL || hv__session_state(c->s) != HV_SESSION_REFUSED))
        client_schedule_reconnect(n);
}

/* Opens a uni stream for the lane if it has none. 0, or -1 when QUIC allows no more now. */
static int lane_stream(conn *c, int lane, int64_t *sid)
{
    if (c->lane_stream[lane] >= 0) {
        *sid = c->lane_stream[lane];
        return 0;
    }
    if (ngtcp2_conn_open_uni_stream(c->q, sid, NULL) != 0)
        return -1;
    c->lane_stream[lane] = *sid;
    return 0;
}

static int flush_packets(conn *c, const uint8_t *buf, size_t len, size_t seg)
{
    hv_net *n = c->net;
    int rv = hv__udp_send(&n->udp, buf, len, seg, (struct sockaddr *)&c->peer_addr, c->peer_len);
    if (rv < 0)
        return rv == HV_EAGAIN ? 0 : rv;
    if (n->udp.gso && rv > 1)
        n->st.gso_sends++;
    n->st.datagrams_sent += (uint64_t)rv;
    c->ls.datagrams_sent += (uint64_t)rv;
    c->ls.bytes_sent += len;
    return 0;
}

static int conn_write(conn *c)
{
    if (c->q == NULL)
        return 0;
    hv_net *n = c->net;
    uint64_t ts = now_ns();
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi;
    uint64_t skip[HV_SESSION_LANES_MAX / 64] = { 0 };
    size_t pmax = ngtcp2_conn_get_max_tx_udp_payload_size(c->q);
    if (pmax > PKT_MAX)
        pmax = PKT_MAX;
    size_t off = 0, seg = 0;
    int npk = 0;
    int ctl_skip = 0;
    for (;;) {
        int lane = c->s ? hv__session_tx_next_lane(c->s, skip) : HV_ENOTFOUND;
        if (lane == HV_SESSION_CONTROL && (c->ctl_stream < 0 || ctl_skip))
            lane = HV_ENOTFOUND;
        int64_t sid = -1;
        ngtcp2_vec v[3];
        size_t nv = 0;
        if (lane != HV_ENOTFOUND) {
            if (lane == HV_SESSION_CONTROL) {
                sid = c->ctl_stream;
            } else if (lane_stream(c, lane, &sid) < 0) {
                skip[lane >> 6] |= 1ull << (lane & 63);
                continue;
            }
            const uint8_t *base[3];
            size_t len[3];
            uint64_t so;
            int k = hv__session_tx_peek(c->s, lane, base, len, &so);
            for (int i = 0; i < k; i++)
                v[nv++] = (ngtcp2_vec){ (uint8_t *)base[i], len[i] };
        }
        ngtcp2_ssize wlen = -1;
        ngtcp2_ssize w = ngtcp2_conn_writev_stream(c->q, &ps.path, &pi, n->txbuf + off, pmax, &wlen,
                                                   NGTCP2_WRITE_STREAM_FLAG_MORE, sid, v, nv, ts);
        if (wlen > 0)
            hv__session_tx_advance(c->s, lane, (size_t)wlen);
        if (w == NGTCP2_ERR_WRITE_MORE)
            continue;
        if (w == NGTCP2_ERR_STREAM_DATA_BLOCKED || w == NGTCP2_ERR_STREAM_SHUT_WR ||
            w == NGTCP2_ERR_STREAM_NOT_FOUND) {
            if (lane == HV_SESSION_CONTROL)
                ctl_skip = 1;
            else
                skip[lane >> 6] |= 1ull << (lane & 63);
            continue;
        }
        if (w < 0) {
            c->dead = HV_ETRANSPORT;
            return HV_ETRANSPORT;
        }
        if (w == 0)
            break;
        if (off && (size_t)w > seg) {
            /* A longer packet cannot join the GSO run: send the run, move it to the front. */
            if (flush_packets(c, n->txbuf, off, seg) < 0)
                return HV_EIO;
            memmove(n->txbuf, n->txbuf + off, (size_t)w);
            off = 0;
            npk = 0;
        }
        if (off == 0)
            seg = (size_t)w;
        off += (size_t)w;
        npk++;
        if ((size_t)w < seg || npk == GSO_PKTS_MAX) {
            if (flush_packets(c, n->txbuf, off, seg) < 0)
                return HV_EIO;
            off = 0;
            npk = 0;
        }
    }
    if (off && flush_packets(c, n->txbuf, off, seg) < 0)
        return HV_EIO;
    ngtcp2_conn_update_pkt_tx_time(c->q, ts);
    c->queued = 0;
    conn_arm(c);
    return 0;
}

static void conn_arm(conn *c)
{
    if (c->q == NULL)
        return;
    uint64_t e = ngtcp2_conn_get_expiry(c->q);
    uint64_t se = c->s ? hv__session_expiry(c->s) : UINT64_MAX;
    if (se < e)
        e = se;
    uint64_t t = now_ns();
    uint64_t ms = e <= t ? 0 : (e - t + NS_PER_MS - 1) / NS_PER_MS;
    if (ms > 3600 * 1000)
        ms = 3600 * 1000;
    uv_timer_start(&c->timer, on_conn_timer, ms, 0);
}

/* Runs deferred work after a callback: close dead connections, write the rest. */
static void conn_settle(conn *c)
{
    if (c->dead) {
        int err = c->dead;
        c->dead = 0;
        conn_close(c, err, hv_strerror(err));
        return;
    }
    if (conn_write(c) < 0 && c->dead) {
        int err = c->dead;
        c->dead = 0;
        conn_close(c, err, hv_strerror(err));
    }
}

static void on_conn_timer(uv_timer_t *t)
{
    conn *c = t->data;
    if (c->q == NULL)
        return;
    uint64_t ts = now_ns();
    if (ngtcp2_conn_get_expiry(c->q) <= ts) {
        int rv = ngtcp2_conn_handle_expiry(c->q, ts);
        if (rv != 0) {
            conn_close(c, rv == NGTCP2_ERR_IDLE_CLOSE ? HV_ETIMEDOUT : HV_ETRANSPORT, NULL);
            return;
        }
    }
    if (c->s && hv__session_expiry(c->s) <= ts)
        (void)hv__session_handle_expiry(c->s, ts);
    conn_settle(c);
}

static void on_flush(uv_timer_t *t)
{
    conn *c = t->data;
    c->flush_armed = 0;
    conn_settle(c);
}

/* A frame was queued: write now when the count limit is reached, else within the delay. */
static void conn_queued(conn *c)
{
    const hv_net_opts *o = &c->net->o;
    if (++c->queued >= o->flush_frames) {
        if (c->flush_armed) {
            uv_timer_stop(&c->flush);
            c->flush_armed = 0;
        }
        /* ngtcp2 forbids writing from its own callbacks: a frame queued by a consumer that
         * answers from on_frame is written when the read returns (on_readable settles it). */
        if (!c->in_read)
            conn_settle(c);
        return;
    }
    if (!c->flush_armed && c->q) {
        c->flush_armed = 1;
        uint64_t ms = o->flush_delay_us / 1000; /* below 1 ms: the next loop turn */
        uv_timer_start(&c->flush, on_flush, ms, 0);
    }
}

/* ---- Receiving datagrams ----------------------------------------------------------------- */

static conn *conn_by_dcid(hv_net *n, const uint8_t *dcid, size_t len)
{
    return hv__idmap_get(&n->cids, dcid, len);
}

/* Answers a client's Initial with a Retry packet carrying an address-validation token, so its
 * next Initial proves the address and ngtcp2 may buffer a ClientHello that arrives out of
 * order (a resumed ClientHello spans two datagrams). Stateless: no connection is kept. */
static void send_retry(hv_net *n, const ngtcp2_pkt_hd *hd, const struct sockaddr_storage *from,
                       socklen_t from_len)
{
    ngtcp2_cid scid;
    scid.datalen = SCID_LEN;
    randombytes_buf(scid.data, SCID_LEN);
    uint8_t token[NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN];
    ngtcp2_ssize tl = ngtcp2_crypto_generate_retry_token(
        token, n->retry_secret, sizeof(n->retry_secret), hd->version, (const struct sockaddr *)from,
        from_len, &scid, &hd->dcid, now_ns());
    if (tl < 0)
        return;
    uint8_t buf[PKT_MAX];
    ngtcp2_ssize w = ngtcp2_crypto_write_retry(buf, sizeof(buf), hd->version, &hd->scid, &scid,
                                               &hd->dcid, token, (size_t)tl);
    if (w > 0)
        (void)hv__udp_send(&n->udp, buf, (size_t)w, PKT_MAX, (const struct sockaddr *)from,
                           from_len);
    n->st.retries++;
}

/* The original DCID a Retry token vouches for; 0, or -1 for a token that is not ours, stale,
 * or from another address. */
static int retry_token_check(hv_net *n, const ngtcp2_pkt_hd *hd,
                             const struct sockaddr_storage *from, socklen_t from_len,
                             ngtcp2_cid *odcid)
{
    return ngtcp2_crypto_verify_retry_token(
        odcid, hd->token.base, hd->token.len, n->retry_secret, sizeof(n->retry_secret), hd->version,
        (const struct sockaddr *)from, from_len, &hd->dcid, RETRY_TOKEN_TIMEOUT_NS, now_ns());
}

static conn *hub_accept(hv_net *n, const uint8_t *pkt, size_t len,
                        const struct sockaddr_storage *from, socklen_t from_len)
{
    ngtcp2_pkt_hd hd;
    int arv = ngtcp2_accept(&hd, pkt, len);
    if (arv == NGTCP2_ERR_RETRY)
        send_retry(n, &hd, from, from_len); /* 0-RTT before its Initial */
    if (arv != 0)
        return NULL;
    ngtcp2_cid odcid = hd.dcid;
    int retried = hd.type == NGTCP2_PKT_INITIAL && hd.token.len > 0;
    if (retried && retry_token_check(n, &hd, from, from_len, &odcid) != 0)
        return NULL; /* a forged or stale token: drop it, as RFC 9000 allows */
    conn *c = conn_alloc(n);
    if (c == NULL)
        return NULL;
    memcpy(&c->peer_addr, from, from_len);
    c->peer_len = from_len;
    ngtcp2_cid scid;
    scid.datalen = SCID_LEN;
    randombytes_buf(scid.data, SCID_LEN);
    /* The client's further Initial packets (a long ClientHello: resumption with client
     * certificates) still carry the DCID it chose. */
    if (conn_cid_add(c, &scid) < 0 || conn_cid_add(c, &hd.dcid) < 0) {
        conn_remove(c);
        return NULL;
    }
    ngtcp2_settings st;
    ngtcp2_transport_params tp;
    quic_settings(&n->o, &st, &tp);
    tp.original_dcid = odcid;
    if (retried) {
        tp.retry_scid = hd.dcid;
        tp.retry_scid_present = 1;
        st.token = hd.token;
    }
    randombytes_buf(tp.stateless_reset_token, sizeof(tp.stateless_reset_token));
    tp.stateless_reset_token_present = 1;
    ngtcp2_path path = { { (struct sockaddr *)&n->udp.local, n->udp.local_len },
                         { (struct sockaddr *)&c->peer_addr, c->peer_len },
                         NULL };
    ngtcp2_callbacks cb = server_callbacks();
    if (session_new(c, &c->s) < 0 || hv__session_connect(c->s, now_ns()) < 0 || tls_setup(c) < 0 ||
        ngtcp2_conn_server_new(&c->q, &hd.scid, &scid, &path, hd.version, &cb, &st, &tp, NULL, c) !=
            0) {
        n->st.refused_tls++;
        conn_remove(c);
        return NULL;
    }
    ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
    c->start_ns = now_ns();
    return c;
}

/* Forgets a connection that never got anywhere, without a word to the peer (ngtcp2 asked for
 * silence, or a Retry answered for it). */
static void conn_drop_silently(conn *c)
{
    conn_drop_quic(c);
    conn_remove(c);
}

static void conn_read(conn *c, const uint8_t *pkt, size_t len, const struct sockaddr_storage *from,
                      socklen_t from_len)
{
    hv_net *n = c->net;
    ngtcp2_path path = { { (struct sockaddr *)&n->udp.local, n->udp.local_len },
                         { (struct sockaddr *)from, from_len },
                         NULL };
    ngtcp2_pkt_info pi = { 0 };
    c->ls.datagrams_recv++;
    c->in_read = 1;
    n->ts = now_ns();
    int rv = ngtcp2_conn_read_pkt(c->q, &path, &pi, pkt, len, n->ts);
    c->in_read = 0;
    if (n->is_hub && (rv == NGTCP2_ERR_RETRY || rv == NGTCP2_ERR_DROP_CONN)) {
        ngtcp2_pkt_hd hd;
        if (rv == NGTCP2_ERR_RETRY && ngtcp2_accept(&hd, pkt, len) == 0)
            send_retry(n, &hd, from, from_len);
        conn_drop_silently(c);
        return;
    }
    if (rv != 0) {
        int err = rv == NGTCP2_ERR_CRYPTO ? HV_EAUTH : HV_ETRANSPORT;
        if (rv == NGTCP2_ERR_CRYPTO)
            n->st.refused_tls++;
        if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_CLOSING)
            err = HV_EPEERCLOSED;
        snprintf(n->err, sizeof(n->err), "QUIC: %s", ngtcp2_strerror(rv));
        conn_close(c, err, NULL);
        return;
    }
}

/* Feeds one datagram to its connection (a hub accepts new ones); remembers the connection so
 * it is settled (written) once after the whole batch. */
static void rx_datagram(hv_net *n, const uint8_t *pkt, size_t len,
                        const struct sockaddr_storage *from, socklen_t flen, conn **touched,
                        int *nt)
{
    ngtcp2_version_cid vc;
    if (ngtcp2_pkt_decode_version_cid(&vc, pkt, len, SCID_LEN) != 0)
        return;
    conn *c = conn_by_dcid(n, vc.dcid, vc.dcidlen);
    if (c == NULL && n->is_hub && !n->closing)
        c = hub_accept(n, pkt, len, from, flen);
    if (c == NULL || c->q == NULL)
        return;
    conn_read(c, pkt, len, from, flen);
    for (int k = 0; k < *nt; k++) {
        if (touched[k] == c)
            return;
    }
    if (*nt == RX_BATCH) {
        for (int k = 0; k < *nt; k++) {
            if (!touched[k]->removed)
                conn_settle(touched[k]);
        }
        *nt = 0;
    }
    touched[(*nt)++] = c;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    (void)events;
    hv_net *n = p->data;
    if (status < 0)
        return;
    conn *touched[RX_BATCH];
    int nt = 0;
    for (int i = 0; i < RX_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t flen;
        size_t seg;
        int len = hv__udp_recv(&n->udp, n->rxbuf, sizeof(n->rxbuf), &from, &flen, &seg);
        if (len < 0)
            break;
        /* With GRO one receive holds several datagrams of seg bytes (the last shorter). */
        for (size_t off = 0; off < (size_t)len; off += seg) {
            size_t dl = (size_t)len - off < seg ? (size_t)len - off : seg;
            n->st.datagrams_recv++;
            rx_datagram(n, n->rxbuf + off, dl, &from, flen, touched, &nt);
        }
    }
    for (int k = 0; k < nt; k++) {
        if (touched[k]->removed)
            continue;
        conn_settle(touched[k]);
    }
}

/* Hub, once a second (not per datagram): sessions kept for resumption expire after the
 * grace period. */
static void on_sweep(uv_timer_t *t)
{
    hv_net *n = t->data;
    uint64_t now = now_ns();
    for (uint32_t i = 0; i < n->nconns; i++) {
        conn *c = n->conns[i];
        if (c->q == NULL && c->lost_ns &&
            now - c->lost_ns > (uint64_t)n->o.resume_grace_ms * NS_PER_MS) {
            conn_remove(c);
            i--;
        }
    }
}

/* ---- Client connections ------------------------------------------------------------------ */

/* Speaks first: the control stream opens at once and the HVW1 handshake (with the session
 * token) and each lane's replay-safe frames go out in 0-RTT. If that fails here, the
 * connection simply waits for the handshake as without 0-RTT. */
static void client_start_early(conn *c)
{
    ngtcp2_conn_set_early_remote_transport_params(c->q, &c->net->early_tp);
    if (ngtcp2_conn_open_bidi_stream(c->q, &c->ctl_stream, NULL) != 0)
        return;
    if (hv__session_connect(c->s, now_ns()) < 0) {
        c->dead = HV_ESTATE;
        return;
    }
    hv__session_set_early(c->s, 1);
    c->early = 1;
}

static int client_start(hv_net *n)
{
    conn *c = n->nconns ? n->conns[0] : conn_alloc(n);
    if (c == NULL)
        return HV_ENOMEM;
    if (c->s == NULL && session_new(c, &c->s) < 0)
        return HV_ENOMEM;
    memcpy(&c->peer_addr, &n->remote, n->remote_len);
    c->peer_len = n->remote_len;
    ngtcp2_cid dcid, scid;
    dcid.datalen = NGTCP2_MIN_INITIAL_DCIDLEN + 2;
    randombytes_buf(dcid.data, dcid.datalen);
    scid.datalen = SCID_LEN;
    randombytes_buf(scid.data, SCID_LEN);
    conn_cids_clear(c);
    if (conn_cid_add(c, &scid) < 0)
        return HV_ENOMEM;
    ngtcp2_settings st;
    ngtcp2_transport_params tp;
    quic_settings(&n->o, &st, &tp);
    ngtcp2_path path = { { (struct sockaddr *)&n->udp.local, n->udp.local_len },
                         { (struct sockaddr *)&c->peer_addr, c->peer_len },
                         NULL };
    if (tls_setup(c) < 0)
        return HV_ECRYPTO;
    if (ngtcp2_conn_client_new(&c->q, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                               &quic_callbacks_client, &st, &tp, NULL, c) != 0)
        return HV_ETRANSPORT;
    ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
    c->start_ns = now_ns();
    c->ls.connections++;
    c->early = 0;
    if (early_allowed(n))
        client_start_early(c);
    conn_settle(c);
    return 0;
}

static void on_reconnect(uv_timer_t *t)
{
    hv_net *n = t->data;
    if (n->closing)
        return;
    if (client_start(n) < 0)
        client_schedule_reconnect(n);
}

static void client_schedule_reconnect(hv_net *n)
{
    uint32_t b = n->backoff_ms ? n->backoff_ms * 2 : n->o.reconnect_min_ms;
    if (b > n->o.reconnect_max_ms)
        b = n->o.reconnect_max_ms;
    n->backoff_ms = b;
    /* Full jitter over the upper half: [b/2, b]. */
    uint32_t d = b / 2 + randombytes_uniform(b / 2 + 1);
    uv_timer_start(&n->reconnect, on_reconnect, d, 0);
}

/* ---- Public API -------------------------------------------------------------------------- */

/* Every zero field of o takes its default. */
static void opts_resolve(hv_net_opts *o)
{
    if (o->host == NULL)
        o->host = "127.0.0.1";
    if (o->frame_max_bytes == 0)
        o->frame_max_bytes = 256u << 10;
    if (o->lane_buffer_bytes == 0)
        o->lane_buffer_bytes = 1u << 20;
    if (o->rx_buffer_bytes == 0)
        o->rx_buffer_bytes = 1u << 20;
    if (o->lanes_max == 0)
        o->lanes_max = 64;
    if (o->heartbeat_interval_ms == 0)
        o->heartbeat_interval_ms = 1000;
    if (o->flush_frames == 0)
        o->flush_frames = 16;
    if (o->flush_delay_us == 0)
        o->flush_delay_us = 50;
    if (o->initial_rtt_us == 0)
        o->initial_rtt_us = 1000;
    if (o->max_ack_delay_us == 0)
        o->max_ack_delay_us = 1000;
    if (o->rate_frames_per_s == 0)
        o->rate_frames_per_s = 200000;
    if (o->rate_burst == 0)
        o->rate_burst = 20000;
    if (o->reconnect_min_ms == 0)
        o->reconnect_min_ms = 50;
    if (o->reconnect_max_ms == 0)
        o->reconnect_max_ms = 5000;
    if (o->resume_grace_ms == 0)
        o->resume_grace_ms = 30000;
    if (o->acl == NULL)
        o->acl = &default_acl;
}

void hv_net_opts_default(hv_net_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    opts_resolve(o);
}

int hv_net_opts_check(const hv_net_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_net_opts)");
    hv_net_opts r = *o;
    opts_resolve(&r);
    if (r.lanes_max > HV_SESSION_LANES_MAX)
        return hv__field_fail(err, "lanes_max", "must be at most 256");
    if (r.frame_max_bytes > r.rx_buffer_bytes)
        return hv__field_fail(err, "frame_max_bytes", "must not exceed rx_buffer_bytes");
    if (r.frame_max_bytes > r.lane_buffer_bytes)
        return hv__field_fail(err, "frame_max_bytes", "must not exceed lane_buffer_bytes");
    return 0;
}

static int net_new(const hv_net_opts *opts, int hub, hv_net **out)
{
    *out = NULL;
    if (hv_net_opts_check(opts, NULL) != 0)
        return HV_EINVAL;
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    hv_net *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return HV_ENOMEM;
    n->o = *opts;
    opts_resolve(&n->o);
    n->is_hub = hub;
    n->udp.fd = -1;
    if (hv__idmap_init(&n->cids) < 0 || hv__idmap_init(&n->peers) < 0) {
        hv__idmap_fini(&n->cids);
        free(n);
        return HV_ENOMEM;
    }
    if (n->o.loop) {
        n->loop = n->o.loop;
    } else {
        uv_loop_init(&n->own_loop);
        n->loop = &n->own_loop;
        n->owns_loop = 1;
    }
    *out = n;
    int rv = hv__net_credentials(&n->o, hub, &n->cred, n->err, sizeof(n->err));
    if (rv < 0)
        return rv;
    if (n->o.flags & HV_NET_INSECURE) {
        n->self.id = n->o.local_id;
        n->self.role = n->o.local_role;
        snprintf(n->self.name, sizeof(n->self.name), "insecure-%llu",
                 (unsigned long long)n->self.id);
    } else if ((rv = hv_net_cert_identity(n->o.cert_file, &n->self)) < 0) {
        snprintf(n->err, sizeof(n->err), "%s: no hivewire identity in the certificate",
                 n->o.cert_file);
        return rv;
    } else if (n->o.local_id) {
        n->self.id = n->o.local_id; /* a claim: the hub refuses it unless it matches */
    }
    if (hub && gnutls_session_ticket_key_generate(&n->ticket_key) < 0)
        return HV_ECRYPTO;
    if (gnutls_priority_init(&n->prio, tls_priority, NULL) < 0)
        return HV_ECRYPTO;
    randombytes_buf(n->retry_secret, sizeof(n->retry_secret));
    if (hub && !(n->o.flags & HV_NET_NO_EARLY_DATA)) {
        n->ar = calloc(AR_ENTRIES, sizeof(*n->ar));
        if (n->ar == NULL || gnutls_anti_replay_init(&n->anti_replay) < 0)
            return HV_ENOMEM;
        gnutls_anti_replay_set_add_function(n->anti_replay, ar_add);
        gnutls_anti_replay_set_ptr(n->anti_replay, n);
    }
    struct sockaddr_storage addr;
    socklen_t alen;
    if (hv__udp_resolve(n->o.host, hub ? n->o.port : 0, &addr, &alen) < 0) {
        snprintf(n->err, sizeof(n->err), "%s: cannot resolve", n->o.host);
        return HV_EINVAL;
    }
    if (!hub) {
        if (hv__udp_resolve(n->o.host, n->o.port ? n->o.port : HV_NET_PORT_DEFAULT, &n->remote,
                            &n->remote_len) < 0)
            return HV_EINVAL;
        struct sockaddr_storage any = { .ss_family = n->remote.ss_family };
        addr = any;
        alen = n->remote_len;
    }
    if ((rv = hv__udp_open(&n->udp, (struct sockaddr *)&addr, alen)) < 0) {
        snprintf(n->err, sizeof(n->err), "%s:%u: %s", n->o.host, (unsigned)n->o.port,
                 hv_strerror(rv));
        return rv;
    }
    uv_poll_init(n->loop, &n->poll, n->udp.fd);
    n->poll.data = n;
    uv_poll_start(&n->poll, UV_READABLE, on_readable);
    uv_timer_init(n->loop, &n->reconnect);
    n->reconnect.data = n;
    uv_timer_init(n->loop, &n->run_timer);
    uv_timer_init(n->loop, &n->sweep);
    n->sweep.data = n;
    if (hub) {
        uint64_t every = n->o.resume_grace_ms < 1000 ? n->o.resume_grace_ms : 1000;
        uv_timer_start(&n->sweep, on_sweep, every, every);
        uv_unref((uv_handle_t *)&n->sweep); /* a caller's loop may end while we wait */
    }
    return 0;
}

static _Thread_local char create_err[256];

static int net_create(const hv_net_opts *opts, int hub, hv_net **out)
{
    hv_field_error fe;
    if (hv_net_opts_check(opts, &fe) != 0) {
        *out = NULL;
        snprintf(create_err, sizeof(create_err), "hv_net_opts.%s %s", fe.field, fe.reason);
        return HV_EINVAL;
    }
    int rv = net_new(opts, hub, out);
    if (rv == 0 && !hub)
        rv = client_start(*out);
    if (rv < 0 && *out) {
        snprintf(create_err, sizeof(create_err), "%s",
                 (*out)->err[0] ? (*out)->err : hv_strerror(rv));
        hv_net_free(*out);
        *out = NULL;
    } else if (rv < 0) {
        snprintf(create_err, sizeof(create_err), "%s", hv_strerror(rv));
    }
    return rv;
}

int hv_net_listen(const hv_net_opts *opts, hv_net **out)
{
    return net_create(opts, 1, out);
}

int hv_net_connect(const hv_net_opts *opts, hv_net **out)
{
    return net_create(opts, 0, out);
}

const char *hv_net_last_error(const hv_net *n)
{
    return n ? n->err : create_err;
}

uint16_t hv_net_port(const hv_net *n)
{
    const struct sockaddr_storage *a = &n->udp.local;
    if (a->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)a)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
}

const hv_net_peer *hv_net_self(const hv_net *n)
{
    return &n->self;
}

static void on_closed_noop(uv_handle_t *h)
{
    (void)h;
}

void hv_net_free(hv_net *n)
{
    if (n == NULL)
        return;
    n->closing = 1;
    while (n->nconns) {
        conn *c = n->conns[n->nconns - 1];
        send_close(c, 0);
        conn_remove(c);
    }
    if (n->poll.data) {
        uv_close((uv_handle_t *)&n->poll, on_closed_noop);
        uv_close((uv_handle_t *)&n->reconnect, on_closed_noop);
        uv_close((uv_handle_t *)&n->run_timer, on_closed_noop);
        uv_close((uv_handle_t *)&n->sweep, on_closed_noop);
    }
    /* Let the loop finish the closes of this object's handles. */
    if (n->owns_loop && n->loop) {
        uv_run(n->loop, UV_RUN_DEFAULT);
        uv_loop_close(n->loop);
    } else {
        uv_run(n->loop, UV_RUN_NOWAIT);
    }
    hv__udp_close(&n->udp);
    if (n->cred)
        gnutls_certificate_free_credentials(n->cred);
    if (n->prio)
        gnutls_priority_deinit(n->prio);
    if (n->anti_replay)
        gnutls_anti_replay_deinit(n->anti_replay);
    free(n->ar);
    gnutls_free(n->ticket_key.data);
    gnutls_free(n->tls_resume.data);
    free(n->conns);
    hv__idmap_fini(&n->cids);
    hv__idmap_fini(&n->peers);
    free(n);
}

/* Parses a frame to send: whole, within this end's frame limit, and (subject non-NULL) its
 * topic equal to subject. 0 or a parse error, HV_EINVAL. */
static int out_parse(const hv_net *n, const char *subject, const uint8_t *frame, size_t len,
                     hv_frame *f)
{
    hv_codec_limits lim = { .frame_max_bytes = n->o.frame_max_bytes };
    int rv = hv_frame_parse(frame, len, &lim, f);
    if (rv < 0)
        return rv;
    if ((size_t)rv != len)
        return HV_EINVAL;
    if (subject == NULL)
        return 0;
    size_t sl = strlen(subject);
    if (f->topic.len != sl || memcmp(f->topic.ptr, subject, sl) != 0)
        return HV_EINVAL;
    return 0;
}

static int conn_send(conn *c, uint8_t prio, const uint8_t *frame, const hv_frame *f, uint32_t flags)
{
    /* The session does not read the time when it queues. */
    int rv = hv__session_send_parsed(c->s, prio, frame, f, flags, c->net->ts);
    if (rv == HV_EFULL)
        c->ls.full++;
    if (rv < 0)
        return rv;
    conn_queued(c);
    return 0;
}

static int peer_matches(const conn *c, const char *subject)
{
    for (uint32_t i = 0; i < c->nsubs; i++) {
        if (hv_subject_matches(c->subs[i], subject))
            return 1;
    }
    return 0;
}

static int publish(hv_net *n, const char *subject, uint8_t prio, const uint8_t *frame, size_t len,
                   uint32_t flags)
{
    hv_frame f;
    int rv = out_parse(n, subject, frame, len, &f);
    if (rv < 0)
        return rv;
    if (!n->is_hub) {
        if (n->nconns == 0 || n->conns[0]->s == NULL)
            return HV_ESTATE;
        return conn_send(n->conns[0], prio, frame, &f, flags);
    }
    /* All or nothing: every matching peer must have room first. */
    for (uint32_t i = 0; i < n->nconns; i++) {
        conn *c = n->conns[i];
        if (c->s && peer_matches(c, subject) &&
            (rv = hv__session_can_send(c->s, prio, f.sender_id, len)) < 0) {
            if (rv == HV_EFULL)
                c->ls.full++;
            return rv;
        }
    }
    for (uint32_t i = 0; i < n->nconns; i++) {
        conn *c = n->conns[i];
        if (c->s && peer_matches(c, subject) && (rv = conn_send(c, prio, frame, &f, 0)) < 0)
            return rv;
    }
    return 0;
}

int hv_net_publish(hv_net *n, const char *subject, uint8_t prio, const uint8_t *frame, size_t len)
{
    return publish(n, subject, prio, frame, len, 0);
}

int hv_net_publish_replay_safe(hv_net *n, const char *subject, uint8_t prio, const uint8_t *frame,
                               size_t len)
{
    return publish(n, subject, prio, frame, len, HV_SESSION_SEND_EARLY);
}

int hv_net_send(hv_net *n, uint64_t peer_id, uint8_t prio, const uint8_t *frame, size_t len)
{
    hv_frame f;
    int rv = out_parse(n, NULL, frame, len, &f);
    if (rv < 0)
        return rv;
    conn *c = n->is_hub ? peer_conn(n, peer_id) : NULL;
    if (c == NULL || c->s == NULL)
        return HV_ENOAGENT;
    return conn_send(c, prio, frame, &f, 0);
}

int hv_net_subscribe(hv_net *n, const char *pattern)
{
    if (n->is_hub)
        return HV_ESTATE;
    if (hv_subject_check(pattern, strlen(pattern), 1, NULL) < 0)
        return HV_EBADSUBJECT;
    if (n->nsubs == SUBS_MAX)
        return HV_EFULL;
    snprintf(n->subs[n->nsubs++], HV_SUBJECT_MAX + 1, "%s", pattern);
    conn *c = n->nconns ? n->conns[0] : NULL;
    if (c && c->s && hv__session_state(c->s) == HV_SESSION_OPEN) {
        uint8_t buf[256];
        hv_msg m = { .type = HV_MSG_SUBSCRIBE };
        m.subscribe.subscription_id = n->nsubs;
        m.subscribe.pattern = hv_str_from(pattern);
        hv_frame f = { .seq = ++n->sub_seq, .sender_id = n->self.id };
        int len = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
        if (len < 0)
            return len;
        int rv = hv__session_send_control(c->s, buf, (size_t)len, now_ns());
        if (rv < 0)
            return rv;
        conn_settle(c);
    }
    return 0;
}

void hv_net_resume(hv_net *n)
{
    for (uint32_t i = 0; i < n->nconns; i++) {
        conn *c = n->conns[i];
        if (c->s && c->q && hv__session_rx_blocked(c->s)) {
            (void)hv__session_rx_resume(c->s, now_ns());
            conn_settle(c);
            if (i < n->nconns && n->conns[i] != c)
                i--;
        }
    }
}

int hv_net_ready(const hv_net *n)
{
    int k = 0;
    for (uint32_t i = 0; i < n->nconns; i++) {
        const conn *c = n->conns[i];
        k += c->q && c->s && hv__session_state(c->s) == HV_SESSION_OPEN;
    }
    return k;
}

static void stop_cb(uv_timer_t *t)
{
    uv_stop(t->loop);
}

int hv_net_run(hv_net *n, int timeout_ms)
{
    if (!n->owns_loop)
        return HV_ESTATE;
    if (timeout_ms <= 0) {
        uv_run(n->loop, UV_RUN_NOWAIT);
        return 0;
    }
    /* Wait for I/O or a timer, at most timeout_ms: one loop turn, one kept timer. */
    uv_timer_start(&n->run_timer, stop_cb, (uint64_t)timeout_ms, 0);
    uv_run(n->loop, UV_RUN_ONCE);
    uv_timer_stop(&n->run_timer);
    return 0;
}

int hv_net_fd(const hv_net *n)
{
    return n->owns_loop ? uv_backend_fd(&n->own_loop) : -1;
}

int hv_net_timeout(const hv_net *n)
{
    return n->owns_loop ? uv_backend_timeout(&n->own_loop) : -1;
}

/* Packets with stream data of this end declared lost on the current connection. */
static uint64_t conn_stream_losses(conn *c)
{
    if (c->q == NULL)
        return 0;
    uint64_t n = c->ctl_stream >= 0 ? ngtcp2_conn_get_stream_loss_count(c->q, c->ctl_stream) : 0;
    for (int i = 0; i < HV_SESSION_LANES_MAX; i++) {
        if (c->lane_stream[i] >= 0)
            n += ngtcp2_conn_get_stream_loss_count(c->q, c->lane_stream[i]);
    }
    return n;
}

int hv_net_link_stats_get(hv_net *n, size_t index, hv_net_link_stats *out)
{
    if (index >= n->nconns)
        return HV_ENOTFOUND;
    conn *c = n->conns[index];
    *out = c->ls;
    out->peer_id = c->peer.id;
    out->packets_lost += conn_stream_losses(c);
    conn_keep_rtt(c);
    out->rtt_us = c->ls.rtt_us;
    out->rtt_min_us = c->ls.rtt_min_us;
    out->rtt_var_us = c->ls.rtt_var_us;
    if (c->s) {
        hv_session_stats ss;
        hv__session_get_stats(c->s, &ss);
        out->frames_sent = ss.frames_sent;
        out->frames_delivered = ss.frames_delivered;
        out->frames_replayed = ss.frames_replayed;
        out->duplicates = ss.duplicates;
        out->refused += ss.refused;
        out->buffered_bytes = hv__session_buffered_bytes(c->s);
    }
    return 0;
}

void hv_net_stats_get(const hv_net *n, hv_net_stats *out)
{
    *out = n->st;
}

void hv__net_break(hv_net *n)
{
    if (n->nconns && n->conns[0]->q)
        conn_close(n->conns[0], HV_ETRANSPORT, NULL);
}

/*
 * The replicas' raft_uv_transport: TCP + mutual TLS 1.3, Raft's bytes carried through a private
 * socketpair (tls.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include <hivewire/codec.h>
#include <hivewire/net.h>

#include "codec/le.h"
#include "log/tls.h"
#include "net/net_int.h"

#define HELLO_MAGIC   0x54525648u /* "HVRT" */
#define HELLO_VERSION 1u
#define ADDRESS_MAX   255u
#define HANDSHAKE_MS  5000u      /* TLS and the hello, or the connection is dropped */
#define QUEUE_HIGH    (4u << 20) /* bytes queued to one side before the other is paused */
#define QUEUE_LOW     (1u << 20)
#define READ_CHUNK    65536u

static const char priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:"
                               "+AES-256-GCM:+CHACHA20-POLY1305:-GROUP-ALL:+GROUP-X25519:"
                               "+GROUP-SECP256R1";

enum { C_TCP, C_TLS, C_HELLO, C_OPEN, C_CLOSING };

typedef struct tport tport;

typedef struct conn {
    tport *t;
    struct conn *next, *prev;
    int server, state;
    uv_tcp_t tcp;
    uv_pipe_t local;     /* our end of the socketpair */
    uv_pipe_t *raft_end; /* raft's end, until raft has it */
    uv_timer_t timer;    /* the handshake's deadline */
    uv_connect_t creq;
    gnutls_session_t s;
    uint8_t *in; /* ciphertext read, not yet taken by GnuTLS */
    size_t in_len, in_cap;
    uint8_t hello[20 + ADDRESS_MAX];
    size_t hello_len;
    uint64_t peer_id; /* raft id: dialled (client) or named by the hello (server) */
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
    size_t tcp_queued, local_queued;
    int open_handles, local_open, tls_ok;
    int refusal_counted;
} conn;

struct tport {
    uv_loop_t *loop;
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    uint32_t node;
    uint64_t id;
    char address[ADDRESS_MAX + 1];
    uv_tcp_t listener;
    int listening, closing;
    raft_uv_accept_cb accept_cb;
    raft_uv_transport_close_cb close_cb;
    struct raft_uv_transport *owner;
    conn *conns;
    hv_log_tls_stats st;
};

typedef struct wreq {
    uv_write_t req;
    conn *c;
    int to_tcp;
    size_t len;
    uint8_t data[];
} wreq;

static void conn_close(conn *c);

/* ---- Writes -------------------------------------------------------------------------------- */

static void resume_reads(conn *c);

static void write_done(uv_write_t *w, int status)
{
    wreq *q = (wreq *)w;
    conn *c = q->c;
    if (q->to_tcp)
        c->tcp_queued -= q->len;
    else
        c->local_queued -= q->len;
    free(q);
    if (status < 0) {
        conn_close(c);
        return;
    }
    resume_reads(c);
}

static int queue_write(conn *c, int to_tcp, const void *p, size_t n)
{
    wreq *q = malloc(sizeof(*q) + n);
    if (q == NULL)
        return -1;
    q->c = c;
    q->to_tcp = to_tcp;
    q->len = n;
    memcpy(q->data, p, n);
    uv_buf_t b = uv_buf_init((char *)q->data, (unsigned)n);
    uv_stream_t *s = to_tcp ? (uv_stream_t *)&c->tcp : (uv_stream_t *)&c->local;
    if (uv_write(&q->req, s, &b, 1, write_done) != 0) {
        free(q);
        return -1;
    }
    if (to_tcp)
        c->tcp_queued += n;
    else
        c->local_queued += n;
    return 0;
}

/* ---- GnuTLS over our buffers --------------------------------------------------------------- */

static ssize_t push(gnutls_transport_ptr_t p, const void *data, size_t n)
{
    conn *c = p;
    if (c->state == C_CLOSING || queue_write(c, 1, data, n) != 0) {
        gnutls_transport_set_errno(c->s, EPIPE);
        return -1;
    }
    return (ssize_t)n;
}

static ssize_t pull(gnutls_transport_ptr_t p, void *data, size_t n)
{
    conn *c = p;
    if (c->in_len == 0) {
        gnutls_transport_set_errno(c->s, EAGAIN);
        return -1;
    }
    size_t k = n < c->in_len ? n : c->in_len;
    memcpy(data, c->in, k);
    memmove(c->in, c->in + k, c->in_len - k);
    c->in_len -= k;
    return (ssize_t)k;
}

static int pull_timeout(gnutls_transport_ptr_t p, unsigned ms)
{
    (void)ms;
    return ((conn *)p)->in_len > 0;
}

/* ---- Closing ------------------------------------------------------------------------------- */

static void maybe_finish_close(tport *t);

static void handle_closed(uv_handle_t *h)
{
    conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    tport *t = c->t;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->s != NULL)
        gnutls_deinit(c->s);
    free(c->in);
    free(c);
    maybe_finish_close(t);
}

static void raft_end_closed(uv_handle_t *h)
{
    raft_free(h);
}

/* A connection that ends before it is open is a refusal: counted once, by kind. */
static void count_refusal(conn *c, int identity)
{
    if (c->refusal_counted)
        return;
    c->refusal_counted = 1;
    if (identity)
        c->t->st.refused_identity++;
    else
        c->t->st.refused_tls++;
}

static void conn_close(conn *c)
{
    if (c->state == C_CLOSING)
        return;
    if (c->state == C_TLS || c->state == C_HELLO)
        count_refusal(c, 0); /* the peer hung up, or spoke no TLS we take */
    if (c->state == C_OPEN && c->s != NULL && c->tls_ok)
        (void)gnutls_bye(c->s, GNUTLS_SHUT_WR); /* best effort: the socket may be gone */
    c->state = C_CLOSING;
    if (c->req != NULL) { /* a connect that never reached raft */
        struct raft_uv_connect *req = c->req;
        c->req = NULL;
        c->cb(req, NULL, c->t->closing ? RAFT_CANCELED : RAFT_NOCONNECTION);
    }
    if (c->raft_end != NULL) {
        uv_close((uv_handle_t *)c->raft_end, raft_end_closed);
        c->raft_end = NULL;
    }
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    if (c->local_open)
        uv_close((uv_handle_t *)&c->local, handle_closed);
}

/* ---- The open connection: pumping ----------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    static char buf[READ_CHUNK]; /* one loop, one read at a time */
    (void)h;
    *b = uv_buf_init(buf, sizeof(buf));
}

static void local_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);
static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void resume_reads(conn *c)
{
    if (c->state != C_OPEN)
        return;
    if (c->tcp_queued < QUEUE_LOW)
        uv_read_start((uv_stream_t *)&c->local, alloc_cb, local_read);
    if (c->local_queued < QUEUE_LOW)
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, tcp_read);
}

/* Raft wrote: encrypt it and send it. */
static void local_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n == 0)
        return;
    if (n < 0) { /* raft closed its end */
        conn_close(c);
        return;
    }
    c->t->st.bytes_out += (uint64_t)n;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = gnutls_record_send(c->s, b->base + off, (size_t)(n - off));
        if (w < 0) {
            conn_close(c);
            return;
        }
        off += w;
    }
    if (c->tcp_queued > QUEUE_HIGH)
        uv_read_stop((uv_stream_t *)&c->local); /* the network is slower than raft */
}

/* Everything GnuTLS can decrypt now: to raft (open), or into the hello (server). */
static void take_plaintext(conn *c);

static int feed(conn *c, const uint8_t *p, size_t n)
{
    if (c->in_len + n > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap : READ_CHUNK;
        while (cap < c->in_len + n)
            cap *= 2;
        uint8_t *g = realloc(c->in, cap);
        if (g == NULL)
            return -1;
        c->in = g;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, p, n);
    c->in_len += n;
    return 0;
}

static void drive(conn *c);

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;
    if (n == 0)
        return;
    if (n < 0 || feed(c, (const uint8_t *)b->base, (size_t)n) != 0) {
        conn_close(c);
        return;
    }
    drive(c);
}

static void take_plaintext(conn *c)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t r = gnutls_record_recv(c->s, buf, sizeof(buf));
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            break;
        if (r <= 0) { /* close_notify, or a TLS error */
            conn_close(c);
            return;
        }
        c->t->st.bytes_in += (uint64_t)r;
        if (queue_write(c, 0, buf, (size_t)r) != 0) {
            conn_close(c);
            return;
        }
    }
    if (c->local_queued > QUEUE_HIGH)
        uv_read_stop((uv_stream_t *)&c->tcp); /* raft reads slower than the network sends */
}

/* ---- Handshake, identity, hello -------------------------------------------------------------- */

/* The peer's certificate must be replica `raft_id` of our node, role coordinator. */
static int identity_ok(conn *c, uint64_t raft_id)
{
    hv_net_peer p;
    if (hv__net_session_peer(c->s, &p) != 0)
        return 0;
    return p.role == HV_WIRE_ROLE_COORDINATOR && (p.id >> 32) == c->t->node &&
           (uint32_t)p.id == HV_LOG_REPLICA_LOCAL(raft_id) && raft_id >= 1 && raft_id <= 64;
}

static int make_pair(conn *c)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return -1;
    c->raft_end = raft_malloc(sizeof(*c->raft_end));
    if (c->raft_end == NULL || uv_pipe_init(c->t->loop, c->raft_end, 0) != 0) {
        raft_free(c->raft_end);
        c->raft_end = NULL;
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    uv_pipe_init(c->t->loop, &c->local, 0);
    c->local.data = c;
    c->local_open = 1;
    c->open_handles++;
    if (uv_pipe_open(c->raft_end, fds[0]) != 0 || uv_pipe_open(&c->local, fds[1]) != 0) {
        close(fds[1]);
        return -1;
    }
    return 0;
}

/* Authenticated, hello done: raft gets its end of the pair. */
static void open_conn(conn *c)
{
    if (make_pair(c) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_stop(&c->timer);
    c->state = C_OPEN;
    uv_stream_t *raft_end = (uv_stream_t *)c->raft_end;
    c->raft_end = NULL; /* raft's now */
    if (c->server) {
        c->t->st.accepted++;
        uint32_t alen = hv__ld32(c->hello + 16);
        char address[ADDRESS_MAX + 1];
        memcpy(address, c->hello + 20, alen);
        address[alen] = 0;
        c->t->accept_cb(c->t->owner, c->peer_id, address, raft_end);
    } else {
        c->t->st.connected++;
        struct raft_uv_connect *req = c->req;
        c->req = NULL;
        c->cb(req, raft_end, 0);
    }
    resume_reads(c);
    if (c->state == C_OPEN)
        take_plaintext(c); /* Raft bytes that came with the hello */
}

static void send_hello(conn *c)
{
    tport *t = c->t;
    uint8_t h[20 + ADDRESS_MAX];
    size_t alen = strlen(t->address);
    hv__st32(h, HELLO_MAGIC);
    hv__st32(h + 4, HELLO_VERSION);
    hv__st64(h + 8, t->id);
    hv__st32(h + 16, (uint32_t)alen);
    memcpy(h + 20, t->address, alen);
    if (gnutls_record_send(c->s, h, 20 + alen) != (ssize_t)(20 + alen)) {
        conn_close(c);
        return;
    }
    open_conn(c);
}

/* Server: the hello, possibly in pieces. */
static void read_hello(conn *c)
{
    while (c->state == C_HELLO) {
        size_t need = c->hello_len < 20 ? 20 : 20 + hv__ld32(c->hello + 16);
        if (c->hello_len >= 20 && need > sizeof(c->hello)) {
            conn_close(c);
            return;
        }
        if (c->hello_len == need) {
            if (hv__ld32(c->hello) != HELLO_MAGIC || hv__ld32(c->hello + 4) != HELLO_VERSION) {
                count_refusal(c, 0);
                conn_close(c);
                return;
            }
            c->peer_id = hv__ld64(c->hello + 8);
            if (!identity_ok(c, c->peer_id)) {
                count_refusal(c, 1);
                conn_close(c);
                return;
            }
            open_conn(c);
            return;
        }
        ssize_t r = gnutls_record_recv(c->s, c->hello + c->hello_len, need - c->hello_len);
        if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            return;
        if (r <= 0) {
            conn_close(c);
            return;
        }
        c->hello_len += (size_t)r;
    }
}

static void drive(conn *c)
{
    if (c->state == C_TLS) {
        int rv = gnutls_handshake(c->s);
        if (rv == GNUTLS_E_AGAIN || rv == GNUTLS_E_INTERRUPTED)
            return;
        if (rv < 0) {
            count_refusal(c, 0);
            conn_close(c);
            return;
        }
        c->tls_ok = 1;
        if (!c->server) {
            if (!identity_ok(c, c->peer_id)) {
                count_refusal(c, 1);
                conn_close(c);
                return;
            }
            send_hello(c);
            return;
        }
        c->state = C_HELLO;
    }
    if (c->state == C_HELLO)
        read_hello(c);
    else if (c->state == C_OPEN)
        take_plaintext(c);
}

static void deadline(uv_timer_t *tm)
{
    conn_close(tm->data); /* counted as a refusal if it was still shaking hands */
}

static conn *conn_new(tport *t, int server)
{
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->t = t;
    c->server = server;
    c->state = C_TCP;
    uv_tcp_init(t->loop, &c->tcp);
    uv_timer_init(t->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = t->conns;
    if (t->conns != NULL)
        t->conns->prev = c;
    t->conns = c;
    uv_timer_start(&c->timer, deadline, HANDSHAKE_MS, 0);
    return c;
}

static int start_tls(conn *c)
{
    tport *t = c->t;
    if (gnutls_init(&c->s, c->server ? GNUTLS_SERVER : GNUTLS_CLIENT) < 0)
        return -1;
    if (gnutls_priority_set(c->s, t->prio) < 0 ||
        gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0)
        return -1;
    if (c->server)
        gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(c->s, NULL, 0); /* the chain against the CA, both ways */
    gnutls_transport_set_ptr(c->s, c);
    gnutls_transport_set_push_function(c->s, push);
    gnutls_transport_set_pull_function(c->s, pull);
    gnutls_transport_set_pull_timeout_function(c->s, pull_timeout);
    uv_tcp_nodelay(&c->tcp, 1);
    c->state = C_TLS;
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, tcp_read) != 0)
        return -1;
    drive(c); /* the client speaks first */
    return 0;
}

/* ---- raft_uv_transport --------------------------------------------------------------------- */

static int parse_address(const char *a, struct sockaddr_storage *out)
{
    char host[ADDRESS_MAX + 1];
    const char *colon = strrchr(a, ':');
    if (colon == NULL || colon == a || (size_t)(colon - a) > ADDRESS_MAX)
        return -1;
    size_t hl = (size_t)(colon - a);
    memcpy(host, a, hl);
    host[hl] = 0;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != 0 || port == 0 || port > 65535)
        return -1;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)out) == 0 ? 0 : -1;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0 ? 0 : -1;
}

static int tp_init(struct raft_uv_transport *rt, raft_id id, const char *address)
{
    tport *t = rt->impl;
    struct sockaddr_storage ss;
    if (strlen(address) > ADDRESS_MAX || parse_address(address, &ss) != 0) {
        snprintf(rt->errmsg, sizeof(rt->errmsg), "%.200s: not a numeric host:port", address);
        return RAFT_INVALID;
    }
    t->id = id;
    snprintf(t->address, sizeof(t->address), "%s", address);
    return 0;
}

static void on_connection(uv_stream_t *l, int status)
{
    tport *t = l->data;
    if (status < 0 || t->closing)
        return;
    conn *c = conn_new(t, 1);
    if (c == NULL)
        return;
    if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0 || start_tls(c) != 0)
        conn_close(c);
}

static int tp_listen(struct raft_uv_transport *rt, raft_uv_accept_cb cb)
{
    tport *t = rt->impl;
    struct sockaddr_storage ss;
    if (parse_address(t->address, &ss) != 0)
        return RAFT_INVALID;
    t->accept_cb = cb;
    uv_tcp_init(t->loop, &t->listener);
    t->listener.data = t;
    t->listening = 1;
    int rv = uv_tcp_bind(&t->listener, (struct sockaddr *)&ss, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&t->listener, 64, on_connection);
    if (rv != 0) {
        snprintf(rt->errmsg, sizeof(rt->errmsg), "listen on %.200s: %s", t->address,
                 uv_strerror(rv));
        return RAFT_IOERR;
    }
    return 0;
}

static void connected(uv_connect_t *r, int status)
{
    conn *c = r->data;
    if (c->state == C_CLOSING)
        return;
    if (status != 0) {
        c->t->st.connect_failed++;
        conn_close(c);
        return;
    }
    if (start_tls(c) != 0)
        conn_close(c);
}

static int tp_connect(struct raft_uv_transport *rt, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    tport *t = rt->impl;
    struct sockaddr_storage ss;
    if (t->closing)
        return RAFT_CANCELED;
    if (parse_address(address, &ss) != 0) {
        snprintf(rt->errmsg, sizeof(rt->errmsg), "%.200s: not a numeric host:port", address);
        return RAFT_NOCONNECTION;
    }
    conn *c = conn_new(t, 0);
    if (c == NULL)
        return RAFT_NOMEM;
    c->peer_id = id;
    c->req = req;
    c->cb = cb;
    c->creq.data = c;
    if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&ss, connected) != 0) {
        c->req = NULL; /* an error return means the callback never runs */
        conn_close(c);
        return RAFT_NOCONNECTION;
    }
    return 0;
}

static void maybe_finish_close(tport *t)
{
    if (!t->closing || t->conns != NULL || t->listening || t->close_cb == NULL)
        return;
    raft_uv_transport_close_cb cb = t->close_cb;
    t->close_cb = NULL;
    cb(t->owner);
}

static void listener_closed(uv_handle_t *h)
{
    tport *t = h->data;
    t->listening = 0;
    maybe_finish_close(t);
}

static void tp_close(struct raft_uv_transport *rt, raft_uv_transport_close_cb cb)
{
    tport *t = rt->impl;
    t->closing = 1;
    t->close_cb = cb;
    if (t->listening)
        uv_close((uv_handle_t *)&t->listener, listener_closed);
    for (conn *c = t->conns; c != NULL; c = c->next)
        conn_close(c);
    maybe_finish_close(t);
}

int hv__log_tls_init(struct raft_uv_transport *rt, uv_loop_t *loop, const hv_log_tls_opts *o,
                     char *err, size_t cap)
{
    memset(rt, 0, sizeof(*rt));
    if (o == NULL || o->ca_file == NULL || o->cert_file == NULL || o->key_file == NULL) {
        snprintf(err, cap, "replicas need --ca, --cert and --key (hivewire certs)");
        return HV_EINVAL;
    }
    tport *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return HV_ENOMEM;
    t->loop = loop;
    t->node = o->node;
    t->owner = rt;
    hv_net_opts no;
    memset(&no, 0, sizeof(no));
    no.ca_file = o->ca_file;
    no.cert_file = o->cert_file;
    no.key_file = o->key_file;
    int rc = hv__net_credentials(&no, 0, &t->cred, err, cap);
    if (rc == 0 && gnutls_priority_init(&t->prio, priority, NULL) < 0)
        rc = HV_ECRYPTO;
    if (rc != 0) {
        if (t->cred != NULL)
            gnutls_certificate_free_credentials(t->cred);
        free(t);
        return rc;
    }
    rt->impl = t;
    rt->init = tp_init;
    rt->listen = tp_listen;
    rt->connect = tp_connect;
    rt->close = tp_close;
    return 0;
}

void hv__log_tls_fini(struct raft_uv_transport *rt)
{
    tport *t = rt->impl;
    if (t == NULL)
        return;
    gnutls_priority_deinit(t->prio);
    gnutls_certificate_free_credentials(t->cred);
    free(t);
    rt->impl = NULL;
}

void hv__log_tls_stats(const struct raft_uv_transport *rt, hv_log_tls_stats *out)
{
    const tport *t = rt->impl;
    *out = t->st;
}

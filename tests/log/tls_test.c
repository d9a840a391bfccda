/*
 * The replicas' mutual-TLS transport (src/log/tls.c) on loopback, with certificates made for
 * the test by `hivewire certs`'s functions: bytes cross it intact both ways; a certificate from
 * another CA, a certificate of another replica, a replica that is not the one dialled and a
 * plain TCP client are all refused before any byte reaches Raft; and three replicas on it
 * elect a leader, commit a scripted run and end in the same state.
 */
#include "hv_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <hivewire/net.h>
#include <hivewire/swarm.h>

#include "log/log_int.h"
#include "platform/platform.h"
#include "log/replica.h"
#include "log/tls.h"
#include "log_util.h"

static char g_ca[64], g_other[64];

static int issue(const char *dir, int k)
{
    char name[32];
    const char *err = "";
    snprintf(name, sizeof(name), "replica-%d", k);
    return hv_net_certs_issue(dir, name, HV_WIRE_ROLE_COORDINATOR,
                              HV_SWARM_ID(1, HV_LOG_REPLICA_LOCAL(k)), &err);
}

static int setup(void **state)
{
    (void)state;
    const char *err = "";
    snprintf(g_ca, sizeof(g_ca), "/tmp/hv-tls-XXXXXX");
    snprintf(g_other, sizeof(g_other), "/tmp/hv-tls-other-XXXXXX");
    if (mkdtemp(g_ca) == NULL || mkdtemp(g_other) == NULL || hv_net_certs_init(g_ca, &err) != 0 ||
        hv_net_certs_init(g_other, &err) != 0)
        return -1;
    for (int k = 1; k <= 3; k++)
        if (issue(g_ca, k) != 0)
            return -1;
    return issue(g_other, 1);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", g_ca, g_other);
    return system(cmd) == 0 ? 0 : -1;
}

static void files(const char *dir, int k, hv_log_tls_opts *o, char bufs[3][128])
{
    snprintf(bufs[0], 128, "%s/ca.pem", dir);
    snprintf(bufs[1], 128, "%s/replica-%d.pem", dir, k);
    snprintf(bufs[2], 128, "%s/replica-%d.key", dir, k);
    o->ca_file = bufs[0];
    o->cert_file = bufs[1];
    o->key_file = bufs[2];
    o->node = 1;
}

static void tick(uv_timer_t *t)
{
    (void)t;
}

/* One turn of the loop, woken within 20 ms even when nothing happens (so a wait that checks
 * a condition after each turn is bounded). */
static void turn(uv_loop_t *loop)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, tick, 20, 0);
    uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    uv_update_time(loop);
}

/* Runs the loop until *flag is set or about 10 s have passed (a bounded wait, not a sleep). */
static void run_until(uv_loop_t *loop, const int *flag)
{
    uint64_t end = uv_now(loop) + 10000;
    while (!*flag && uv_now(loop) < end)
        turn(loop);
}

/* ---- The transport alone ------------------------------------------------------------------- */

typedef struct side {
    struct raft_uv_transport t;
    uv_stream_t *stream; /* what raft would get */
    raft_id peer;
    int done, status;
    struct raft_uv_connect req;
    char got[64];
    size_t got_len;
} side;

static side *g_server;

static void accept_cb(struct raft_uv_transport *t, raft_id id, const char *address, uv_stream_t *s)
{
    (void)t;
    (void)address;
    g_server->stream = s;
    g_server->peer = id;
    g_server->done = 1;
}

static void connect_cb(struct raft_uv_connect *req, uv_stream_t *s, int status)
{
    side *c = req->data;
    c->stream = s;
    c->status = status;
    c->done = 1;
}

static void open_side(side *s, uv_loop_t *loop, const char *dir, int cert, raft_id id,
                      const char *addr)
{
    char bufs[3][128], err[256];
    hv_log_tls_opts o;
    files(dir, cert, &o, bufs);
    memset(s, 0, sizeof(*s));
    assert_int_equal(hv__log_tls_init(&s->t, loop, &o, err, sizeof(err)), 0);
    assert_int_equal(s->t.init(&s->t, id, addr), 0);
}

static void closed_t(struct raft_uv_transport *t)
{
    hv__log_tls_fini(t);
}

static void close_side(side *s, uv_loop_t *loop)
{
    if (s->stream != NULL)
        uv_close((uv_handle_t *)s->stream, (uv_close_cb)raft_free);
    s->stream = NULL;
    s->t.close(&s->t, closed_t);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void dial(side *c, uv_loop_t *loop, raft_id id, const char *addr)
{
    c->req.data = c;
    c->done = 0;
    assert_int_equal(c->t.connect(&c->t, &c->req, id, addr, connect_cb), 0);
    run_until(loop, &c->done);
    assert_true(c->done);
}

static void read_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    static char buf[64];
    (void)h;
    (void)n;
    *b = uv_buf_init(buf, sizeof(buf));
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    side *s = st->data;
    if (n > 0 && s->got_len + (size_t)n <= sizeof(s->got)) {
        memcpy(s->got + s->got_len, b->base, (size_t)n);
        s->got_len += (size_t)n;
        s->done = s->got_len >= 5;
    }
}

static void send_and_receive(uv_loop_t *loop, side *from, side *to, const char *msg)
{
    uv_write_t w;
    uv_buf_t b = uv_buf_init((char *)msg, 5);
    to->stream->data = to;
    to->done = 0;
    to->got_len = 0;
    uv_read_start(to->stream, read_alloc, read_cb);
    assert_int_equal(uv_write(&w, from->stream, &b, 1, NULL), 0);
    run_until(loop, &to->done);
    assert_int_equal(to->got_len, 5);
    assert_memory_equal(to->got, msg, 5);
    uv_read_stop(to->stream);
}

static void bytes_cross_the_transport_intact_both_ways(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", hv__loopback_free_port(SOCK_STREAM));
    side s, c;
    open_side(&s, &loop, g_ca, 2, 2, addr);
    g_server = &s;
    assert_int_equal(s.t.listen(&s.t, accept_cb), 0);
    open_side(&c, &loop, g_ca, 1, 1, "127.0.0.1:1");
    dial(&c, &loop, 2, addr);
    assert_int_equal(c.status, 0);
    run_until(&loop, &s.done);
    assert_int_equal(s.peer, 1); /* the certificate's replica, named by its hello */
    send_and_receive(&loop, &c, &s, "hello");
    send_and_receive(&loop, &s, &c, "world");
    hv_log_tls_stats st;
    hv__log_tls_stats(&s.t, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.bytes_in, 5);
    close_side(&c, &loop);
    close_side(&s, &loop);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A server that counted one more refusal of `kind` and gave raft nothing. */
static void refused(uv_loop_t *loop, side *s, uint64_t before, int identity)
{
    hv_log_tls_stats st;
    uint64_t end = uv_now(loop) + 10000;
    for (;;) {
        hv__log_tls_stats(&s->t, &st);
        uint64_t now = identity ? st.refused_identity : st.refused_tls;
        if (now > before || uv_now(loop) >= end)
            break;
        turn(loop);
    }
    assert_int_equal(identity ? st.refused_identity : st.refused_tls, before + 1);
    assert_false(s->done); /* raft never saw it */
}

static void strangers_are_refused_before_raft_sees_a_byte(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", hv__loopback_free_port(SOCK_STREAM));
    side s, c;
    hv_log_tls_stats st;
    open_side(&s, &loop, g_ca, 2, 2, addr);
    g_server = &s;
    assert_int_equal(s.t.listen(&s.t, accept_cb), 0);
    /* a certificate from another CA */
    open_side(&c, &loop, g_other, 1, 1, "127.0.0.1:1");
    dial(&c, &loop, 2, addr);
    assert_int_not_equal(c.status, 0);
    refused(&loop, &s, 0, 0);
    close_side(&c, &loop);
    /* replica 3's certificate saying it is replica 1 */
    open_side(&c, &loop, g_ca, 3, 1, "127.0.0.1:1");
    dial(&c, &loop, 2, addr);
    hv__log_tls_stats(&s.t, &st);
    refused(&loop, &s, 0, 1);
    if (c.stream != NULL) { /* the client got as far as its hello: the server hangs up */
        uv_close((uv_handle_t *)c.stream, (uv_close_cb)raft_free);
        c.stream = NULL;
    }
    close_side(&c, &loop);
    /* a replica dialling replica 3 at replica 2's address: the client refuses the server */
    open_side(&c, &loop, g_ca, 1, 1, "127.0.0.1:1");
    dial(&c, &loop, 3, addr);
    assert_int_not_equal(c.status, 0);
    hv__log_tls_stats(&c.t, &st);
    assert_int_equal(st.refused_identity, 1);
    close_side(&c, &loop);
    /* plain TCP, speaking raft's own handshake */
    hv__log_tls_stats(&s.t, &st);
    uint64_t before = st.refused_tls;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", atoi(strchr(addr, ':') + 1), &a);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    uint8_t raft_hello[24] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
    assert_int_equal(write(fd, raft_hello, sizeof(raft_hello)), (ssize_t)sizeof(raft_hello));
    refused(&loop, &s, before, 0);
    close(fd);
    close_side(&s, &loop);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- Three replicas ---------------------------------------------------------------------------
 */

typedef struct cluster cluster;

typedef struct member {
    cluster *cl;
    struct raft_uv_transport t;
    hv_replica *r;
    uint64_t applied;
    char dir[64];
} member;

struct cluster {
    uv_loop_t loop;
    member m[3];
    logrun run;
    hv_log_entry e;
    int have_e, ended;
    uint64_t total;
    member *leader;
    int done, closed;
};

static void feed(cluster *c)
{
    member *m = c->leader;
    while (m != NULL && !c->ended && hv_replica_inflight(m->r) < 16) {
        if (!c->have_e && !logrun_entry(&c->run, &c->e)) {
            c->ended = 1;
            break;
        }
        c->have_e = 1;
        if (hv_replica_propose(m->r, &c->e, 0) != 0)
            return;
        c->have_e = 0;
    }
}

static void on_role(void *ud, int leader)
{
    member *m = ud;
    if (leader) {
        m->cl->leader = m;
        feed(m->cl);
    } else if (m->cl->leader == m) {
        m->cl->leader = NULL;
    }
}

static void on_apply(void *ud, const hv_log_entry *e, int rc)
{
    member *m = ud;
    (void)e;
    assert_int_equal(rc, 0);
    m->applied++;
    int all = 1;
    for (int i = 0; i < 3; i++)
        all &= m->cl->m[i].applied == m->cl->total;
    m->cl->done = all;
}

static void on_commit(void *ud, uint64_t token, int status, int verdict)
{
    member *m = ud;
    (void)token;
    (void)verdict;
    if (status == 0)
        feed(m->cl);
}

static void replica_closed(void *ud)
{
    member *m = ud;
    hv__log_tls_fini(&m->t);
    m->cl->closed++;
}

static void three_replicas_over_mutual_tls_commit_a_run_and_agree(void **state)
{
    (void)state;
    cluster *c = calloc(1, sizeof(*c));
    uv_loop_init(&c->loop);
    assert_int_equal(logrun_init(&c->run, 40, 3), 0);
    logrun count;
    hv_log_entry e;
    assert_int_equal(logrun_init(&count, 40, 3), 0);
    while (logrun_entry(&count, &e))
        c->total++;
    char addr[3][64];
    for (int k = 0; k < 3; k++)
        snprintf(addr[k], sizeof(addr[k]), "127.0.0.1:%d", hv__loopback_free_port(SOCK_STREAM));
    for (int k = 0; k < 3; k++) {
        member *m = &c->m[k];
        m->cl = c;
        char bufs[3][128], err[256];
        hv_log_tls_opts to;
        files(g_ca, k + 1, &to, bufs);
        assert_int_equal(hv__log_tls_init(&m->t, &c->loop, &to, err, sizeof(err)), 0);
        snprintf(m->dir, sizeof(m->dir), "/tmp/hv-replica-XXXXXX");
        assert_non_null(mkdtemp(m->dir));
        hv_replica_opts o;
        hv_replica_opts_default(&o);
        o.id = (uint64_t)k + 1;
        o.n = 3;
        for (int i = 0; i < 3; i++)
            o.addresses[i] = addr[i];
        o.data_dir = m->dir;
        o.loop = &c->loop;
        o.transport = &m->t;
        o.snapshot_threshold = 64;
        o.snapshot_trailing = 64;
        o.ud = m;
        o.on_role = on_role;
        o.on_apply = on_apply;
        o.on_commit = on_commit;
        assert_int_equal(hv_replica_start(&m->r, &o, err, sizeof(err)), 0);
    }
    uint64_t end = uv_now(&c->loop) + 60000;
    while (!c->done && uv_now(&c->loop) < end)
        turn(&c->loop);
    assert_true(c->done);
    uint8_t h[3][32];
    for (int k = 0; k < 3; k++) {
        hv_log_status st;
        hv_log_fsm_status(hv_replica_fsm(c->m[k].r), &st);
        assert_true(st.finished);
        assert_int_equal(st.trades_hash, c->run.trades);
        assert_int_equal(hv_log_fsm_hash(hv_replica_fsm(c->m[k].r), h[k]), 0);
        hv_log_tls_stats ts;
        hv__log_tls_stats(&c->m[k].t, &ts);
        assert_int_equal(ts.refused_tls + ts.refused_identity, 0);
        assert_true(ts.accepted + ts.connected >= 2);
    }
    assert_memory_equal(h[0], h[1], 32);
    assert_memory_equal(h[0], h[2], 32);
    for (int k = 0; k < 3; k++)
        hv_replica_close(c->m[k].r, replica_closed, &c->m[k]);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    assert_int_equal(c->closed, 3);
    assert_int_equal(uv_loop_close(&c->loop), 0);
    for (int k = 0; k < 3; k++) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->m[k].dir);
        assert_int_equal(system(cmd), 0);
    }
    logrun_fini(&c->run);
    logrun_fini(&count);
    free(c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* replica.h: a peer's socket may be gone */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bytes_cross_the_transport_intact_both_ways),
        cmocka_unit_test(strangers_are_refused_before_raft_sees_a_byte),
        cmocka_unit_test(three_replicas_over_mutual_tls_commit_a_run_and_agree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

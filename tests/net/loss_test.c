/*
 * The transport under loss, delay and reordering. Loss: two network namespaces joined by a
 * veth pair, made by the test (ip netns; root), where nftables drops 5% of UDP datagrams at
 * random in each direction (`numgen random mod 100 < 5 drop`: this kernel has no netem). Delay
 * and reordering: the seeded relay of relay.h between client and hub. Three senders stream
 * frames to the hub and the hub streams to the client while the client's connection is broken
 * twice; every frame must arrive exactly once and in order per sender. The namespace tests skip
 * and say why where namespaces cannot be made (not root, no ip or nft); the relay-only test
 * needs nothing and always runs. Every wait is for an event, bounded by NT_WAIT_NS.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>

#include "net/net_int.h"
#include "net/net_util.h"
#include "net/relay.h"

#define SENDERS    3
#define PER_SENDER 1500
#define FROM_HUB   PER_SENDER
#define LOSS_PCT   5
#define HUB_ADDR   "10.77.0.1"
#define CLI_ADDR   "10.77.0.2"
#define SUBJECT    "swarm.loss.x"

static char dir[256];

/* ---- Network namespaces ------------------------------------------------------------------ */

typedef struct netns {
    char a[32], b[32], va[16], vb[16];
    int fd_a, fd_b, fd_self;
    int made;
    char why[160];
} netns;

static netns ns = { .fd_a = -1, .fd_b = -1, .fd_self = -1 };

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    char full[600];
    snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
    return system(full);
}

static void ns_free(netns *n)
{
    if (n->fd_self >= 0)
        (void)setns(n->fd_self, CLONE_NEWNET);
    for (int *fd = &n->fd_a; fd <= &n->fd_self; fd++) {
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
    }
    if (n->made) {
        (void)sh("ip netns del %s", n->a);
        (void)sh("ip netns del %s", n->b);
    }
    n->made = 0;
}

/* One side: its end of the veth up with an address, lo up, and the drop rule. */
static int ns_side(const char *name, const char *veth, const char *addr, int loss_pct)
{
    /* gso_max_segs 1: the sender's UDP GSO batches are cut into datagrams before the veth, so
     * the rule drops datagrams, not whole batches of 32. */
    if (sh("ip -n %s addr add %s/24 dev %s", name, addr, veth) != 0 ||
        sh("ip -n %s link set %s gso_max_segs 1 up", name, veth) != 0 ||
        sh("ip -n %s link set lo gso_max_segs 1 up", name) != 0)
        return -1;
    if (loss_pct == 0)
        return 0;
    if (sh("ip netns exec %s nft add table inet hvloss", name) != 0 ||
        sh("ip netns exec %s nft add chain inet hvloss input "
           "'{ type filter hook input priority 0; }'",
           name) != 0 ||
        sh("ip netns exec %s nft add rule inet hvloss input meta l4proto udp "
           "numgen random mod 100 '<' %d counter drop",
           name, loss_pct) != 0)
        return -1;
    return 0;
}

static int open_ns_fd(const char *name)
{
    char p[64];
    snprintf(p, sizeof(p), "/run/netns/%s", name);
    return open(p, O_RDONLY | O_CLOEXEC);
}

/* Makes namespaces a and b joined by a veth pair; 0, or -1 with n->why saying why not. */
static int ns_make(netns *n, int loss_pct)
{
    if (geteuid() != 0) {
        snprintf(n->why, sizeof(n->why), "needs root (CAP_NET_ADMIN) for network namespaces");
        return -1;
    }
    if (sh("command -v ip") != 0 || sh("command -v nft") != 0) {
        snprintf(n->why, sizeof(n->why), "needs ip (iproute2) and nft (nftables)");
        return -1;
    }
    int pid = (int)getpid();
    snprintf(n->a, sizeof(n->a), "hvq%da", pid);
    snprintf(n->b, sizeof(n->b), "hvq%db", pid);
    snprintf(n->va, sizeof(n->va), "hvq%dx", pid);
    snprintf(n->vb, sizeof(n->vb), "hvq%dy", pid);
    if (sh("ip netns add %s", n->a) != 0) {
        snprintf(n->why, sizeof(n->why), "`ip netns add` failed: no network namespaces here");
        return -1;
    }
    n->made = 1;
    if (sh("ip netns add %s", n->b) != 0 ||
        sh("ip link add %s type veth peer name %s", n->va, n->vb) != 0 ||
        sh("ip link set %s netns %s", n->va, n->a) != 0 ||
        sh("ip link set %s netns %s", n->vb, n->b) != 0 ||
        ns_side(n->a, n->va, HUB_ADDR, loss_pct) != 0 ||
        ns_side(n->b, n->vb, CLI_ADDR, loss_pct) != 0) {
        snprintf(n->why, sizeof(n->why), "could not wire the veth pair or the nftables rule");
        ns_free(n);
        return -1;
    }
    n->fd_a = open_ns_fd(n->a);
    n->fd_b = open_ns_fd(n->b);
    n->fd_self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (n->fd_a < 0 || n->fd_b < 0 || n->fd_self < 0) {
        snprintf(n->why, sizeof(n->why), "cannot open the namespaces");
        ns_free(n);
        return -1;
    }
    return 0;
}

/* Sockets made from now on live in the namespace of fd (this thread only). */
static void enter(int fd)
{
    assert_int_equal(setns(fd, CLONE_NEWNET), 0);
}

/* Datagrams nftables dropped in namespace name. */
static uint64_t dropped(const char *name)
{
    char cmd[160], line[256];
    snprintf(cmd, sizeof(cmd), "ip netns exec %s nft list chain inet hvloss input 2>/dev/null",
             name);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    uint64_t n = 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = strstr(line, "counter packets ");
        if (p)
            n += strtoull(p + 16, NULL, 10);
    }
    pclose(f);
    return n;
}

static void need_ns(int loss_pct)
{
    if (ns_make(&ns, loss_pct) == 0)
        return;
    fprintf(stderr, "skipping: %s\n", ns.why);
    skip();
}

/* ---- The workload ------------------------------------------------------------------------ */

typedef struct pair {
    hv_net *hub, *cli;
    nt_rx hr, cr;
    relay *relay;
} pair;

static void pump(pair *l)
{
    if (l->relay)
        relay_pump(l->relay, hv_now_ns());
}

#define SPIN(l, cond) NT_SPIN_UNTIL((l)->hub, (l)->cli, pump(l), cond)

static void publish(pair *l, hv_net *n, uint64_t peer, uint64_t sender, uint64_t seq,
                    size_t data_len)
{
    uint8_t buf[1024];
    size_t len = nt_frame(buf, sizeof(buf), sender, seq, SUBJECT, data_len);
    int rv;
    uint64_t t0 = hv_now_ns();
    for (;;) {
        rv = peer ? hv_net_send(n, peer, 2, buf, len) : hv_net_publish(n, SUBJECT, 2, buf, len);
        if (rv != HV_EFULL && rv != HV_ESTATE)
            break;
        if (hv_now_ns() - t0 > NT_WAIT_NS)
            fail_msg("the link stayed full for 20 s");
        hv_net_run(l->hub, 0);
        hv_net_run(l->cli, 1);
        pump(l);
    }
    assert_int_equal(rv, 0);
}

/* Fails the test saying what arrived and what the links still hold. */
static void fail_stalled(pair *l, uint64_t hub_seq)
{
    hv_net_link_stats cs = { 0 }, hs = { 0 };
    hv_net_link_stats_get(l->cli, 0, &cs);
    for (uint32_t k = 0; hv_net_link_stats_get(l->hub, k, &hs) == 0 && hs.peer_id != NT_AGENT_ID;)
        k++;
    fail_msg("after 20 s the hub has %llu of %d frames (%llu out of order), the client %llu of "
             "%llu (%llu out of order); the client holds %llu bytes over %llu connections, the "
             "hub %llu bytes",
             (unsigned long long)l->hr.count, SENDERS * PER_SENDER,
             (unsigned long long)l->hr.bad_order, (unsigned long long)l->cr.count,
             (unsigned long long)hub_seq, (unsigned long long)l->cr.bad_order,
             (unsigned long long)cs.buffered_bytes, (unsigned long long)cs.connections,
             (unsigned long long)hs.buffered_bytes);
}

/* Three senders to the hub, the hub to the client, two broken connections on the way; then
 * every frame once and in order. */
static void stream_and_check(pair *l)
{
    SPIN(l, hv_net_ready(l->cli) && hv_net_ready(l->hub));
    uint64_t hub_seq = 0;
    for (uint64_t i = 1; i <= PER_SENDER; i++) {
        for (uint64_t s = 0; s < SENDERS; s++)
            publish(l, l->cli, 0, NT_AGENT_ID + s, i, 64);
        /* Larger frames the other way: hundreds of datagrams, so both directions lose some. */
        publish(l, l->hub, NT_AGENT_ID, 1, ++hub_seq, 400);
        if (i == PER_SENDER / 3 || i == 2 * PER_SENDER / 3) {
            SPIN(l, hv_net_ready(l->cli));
            hv__net_break(l->cli);
        }
        if (i % 50 == 0) {
            hv_net_run(l->hub, 0);
            hv_net_run(l->cli, 0);
            pump(l);
        }
    }
    uint64_t t0 = hv_now_ns();
    while (l->hr.count != SENDERS * PER_SENDER || l->cr.count != hub_seq) {
        if (hv_now_ns() - t0 > NT_WAIT_NS)
            fail_stalled(l, hub_seq);
        hv_net_run(l->hub, 0);
        hv_net_run(l->cli, 1);
        pump(l);
    }
    assert_int_equal(hub_seq, FROM_HUB);
    assert_int_equal(l->hr.duplicates, 0);
    assert_int_equal(l->hr.bad_order, 0);
    assert_int_equal(l->cr.duplicates, 0);
    assert_int_equal(l->cr.bad_order, 0);
    for (uint64_t s = 0; s < SENDERS; s++)
        assert_int_equal(l->hr.per_sender[(NT_AGENT_ID + s) % NT_SENDERS_MAX], PER_SENDER);
    assert_int_equal(l->cr.reset, 0);
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(l->cli, 0, &ls), 0);
    assert_true(ls.connections >= 3);
}

static void start_hub(pair *l, const char *host)
{
    hv_net_opts o;
    nt_opts(&o, dir, "hub", &l->hr);
    o.host = host;
    if (hv_net_listen(&o, &l->hub) != 0)
        fail_msg("listen: %s", hv_net_last_error(NULL));
}

static void start_client(pair *l, const char *host, uint16_t port)
{
    hv_net_opts o;
    nt_opts(&o, dir, "agent", &l->cr);
    o.host = host;
    o.port = port;
    o.reconnect_min_ms = 5;
    assert_int_equal(hv_net_connect(&o, &l->cli), 0);
}

static void stop(pair *l)
{
    if (l->cli)
        hv_net_free(l->cli);
    hv_net_free(l->hub);
    if (l->relay)
        relay_close(l->relay);
}

static void start_relay(pair *l, relay *r, const char *bind_host, const char *hub_host,
                        uint64_t seed)
{
    struct sockaddr_in b = { .sin_family = AF_INET }, h = { .sin_family = AF_INET };
    inet_pton(AF_INET, bind_host, &b.sin_addr);
    inet_pton(AF_INET, hub_host, &h.sin_addr);
    h.sin_port = htons(hv_net_port(l->hub));
    assert_int_equal(relay_open(r, &b, &h, seed), 0);
    /* 1..3 ms each way, one datagram in 20 held 8 ms more: reordered well past QUIC's packet
     * threshold. */
    r->delay_us = 1000;
    r->jitter_us = 2000;
    r->straggler_pct = 5;
    r->straggler_us = 8000;
    l->relay = r;
}

/* ---- Tests ------------------------------------------------------------------------------- */

static void five_percent_loss_each_way_delivers_every_frame_once_in_order(void **state)
{
    (void)state;
    need_ns(LOSS_PCT);
    pair l = { 0 };
    enter(ns.fd_a);
    start_hub(&l, HUB_ADDR);
    enter(ns.fd_b);
    start_client(&l, HUB_ADDR, hv_net_port(l.hub));
    enter(ns.fd_self);
    stream_and_check(&l);
    /* The rule really dropped datagrams, in both directions, and QUIC saw it. */
    assert_true(dropped(ns.a) > 0);
    assert_true(dropped(ns.b) > 0);
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(l.cli, 0, &ls), 0);
    assert_true(ls.packets_lost > 0);
    stop(&l);
    ns_free(&ns);
}

static void delay_and_reordering_deliver_every_frame_once_in_order(void **state)
{
    (void)state;
    pair l = { 0 };
    relay r;
    start_hub(&l, "127.0.0.1");
    start_relay(&l, &r, "127.0.0.1", "127.0.0.1", 7);
    start_client(&l, "127.0.0.1", relay_port(&r));
    stream_and_check(&l);
    assert_true(r.reordered > 0);
    assert_int_equal(r.dropped_full, 0);
    stop(&l);
}

static void loss_delay_and_reordering_together_deliver_every_frame_once_in_order(void **state)
{
    (void)state;
    need_ns(LOSS_PCT);
    pair l = { 0 };
    relay r;
    enter(ns.fd_a);
    start_hub(&l, HUB_ADDR);
    enter(ns.fd_b);
    start_relay(&l, &r, CLI_ADDR, HUB_ADDR, 11);
    start_client(&l, CLI_ADDR, relay_port(&r));
    enter(ns.fd_self);
    stream_and_check(&l);
    assert_true(r.reordered > 0);
    assert_true(dropped(ns.a) > 0);
    stop(&l);
    ns_free(&ns);
}

/* Someone who recorded an agent's 0-RTT flight sends it to the hub again after the agent has
 * left: the hub must not take the early data a second time (GnuTLS anti-replay with the hub's
 * memory of ClientHellos), so no session opens and nothing is delivered. */
static void a_replayed_0rtt_flight_opens_nothing(void **state)
{
    (void)state;
    pair l = { 0 };
    relay r;
    start_hub(&l, "127.0.0.1");
    start_relay(&l, &r, "127.0.0.1", "127.0.0.1", 3);
    r.delay_us = r.jitter_us = r.straggler_pct = 0;
    start_client(&l, "127.0.0.1", relay_port(&r));
    uint64_t me = NT_AGENT_ID;
    hv_net_link_stats ls;
    SPIN(&l, hv_net_ready(l.cli));
    publish(&l, l.cli, 0, me, 1, 32);
    SPIN(&l, (hv_net_link_stats_get(l.cli, 0, &ls), l.hr.count == 1 && ls.buffered_bytes == 0));
    /* The recording: the agent's whole first flight of its next (0-RTT) connection. */
    r.record = 1;
    hv__net_break(l.cli);
    uint8_t buf[512];
    for (uint64_t seq = 2; seq <= 4; seq++) {
        size_t n = nt_frame(buf, sizeof(buf), me, seq, SUBJECT, 32);
        assert_int_equal(hv_net_publish_replay_safe(l.cli, SUBJECT, 2, buf, n), 0);
    }
    SPIN(&l, (hv_net_link_stats_get(l.cli, 0, &ls), l.hr.count == 4 && ls.early_accepted == 1));
    r.record = 0;
    /* The hub took the flight's early data (the HVW1 handshake at least). Frames 2-4 ride in it
     * too unless a 0-RTT packet was lost or overtaken (a loaded machine), when QUIC resends
     * them in 1-RTT: either way each came once. */
    int early = l.hr.early;
    assert_true(early >= 0 && early <= 3);
    /* The agent leaves; then the recording is played to the hub. */
    hv_net_free(l.cli);
    l.cli = NULL;
    SPIN(&l, hv_net_ready(l.hub) == 0);
    int joined = l.hr.joined;
    hv_net_stats hs0, hs;
    hv_net_stats_get(l.hub, &hs0);
    assert_true(r.nkept > 0);
    relay_replay(&r);
    SPIN(&l, (hv_net_stats_get(l.hub, &hs), hs.datagrams_recv >= hs0.datagrams_recv + r.nkept));
    assert_int_equal(l.hr.joined, joined);
    assert_int_equal(l.hr.count, 4);
    assert_int_equal(l.hr.early, early);
    stop(&l);
}

static int setup(void **state)
{
    (void)state;
    nt_make_certs(dir, sizeof(dir), "loss");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ns_free(&ns);
    nt_rm_certs(dir);
    return 0;
}

/* A namespace test that fails midway still removes its namespaces. */
static int ns_teardown(void **state)
{
    (void)state;
    ns_free(&ns);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(five_percent_loss_each_way_delivers_every_frame_once_in_order,
                                  ns_teardown),
        cmocka_unit_test(delay_and_reordering_deliver_every_frame_once_in_order),
        cmocka_unit_test(a_replayed_0rtt_flight_opens_nothing),
        cmocka_unit_test_teardown(
            loss_delay_and_reordering_together_deliver_every_frame_once_in_order, ns_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

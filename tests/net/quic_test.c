/*
 * The real transport on loopback: mutual TLS with certificates made by the test, ordering per
 * sender, a slow consumer (backpressure, bounded memory, nothing dropped), reconnect and
 * resumption, and the refusals (wrong CA, identity not matching the certificate, unauthorized
 * publish, oversize frame, flood). Every wait is for an event, bounded by a deadline.
 */
#include "net/net_util.h"

#include "net/net_int.h"

static char dir[256], dir2[256];

static int setup(void **state)
{
    (void)state;
    nt_make_certs(dir, sizeof(dir), "a");
    nt_make_certs(dir2, sizeof(dir2), "b");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    nt_rm_certs(dir);
    nt_rm_certs(dir2);
    return 0;
}

static hv_net *start_hub(hv_net_opts *o)
{
    hv_net *hub;
    int rv = hv_net_listen(o, &hub);
    if (rv != 0)
        fail_msg("listen: %s", hv_net_last_error(NULL));
    return hub;
}

#define SPIN_UNTIL(hub, cli, cond) NT_SPIN_UNTIL(hub, cli, (void)0, cond)

static void mtls_link_carries_frames_in_order_both_ways(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &cr);
    co.port = hv_net_port(hub);
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    assert_int_equal(hv_net_subscribe(cli, "swarm.md.>"), 0);
    SPIN_UNTIL(hub, cli, hv_net_ready(cli) && hv_net_ready(hub));
    uint64_t me = hv_net_self(cli)->id;
    assert_int_equal(me, (2ull << 32) | 1);
    uint8_t buf[512];
    for (uint64_t i = 1; i <= 2000; i++) {
        size_t n = nt_frame(buf, sizeof(buf), me, i, "swarm.vote.cast", 40);
        int rv;
        while ((rv = hv_net_publish(cli, "swarm.vote.cast", 1 + (uint8_t)(i % 5 == 0), buf, n)) ==
               HV_EFULL)
            hv_net_run(cli, 1), hv_net_run(hub, 0);
        assert_int_equal(rv, 0);
    }
    SPIN_UNTIL(hub, cli, hr.count == 2000);
    assert_int_equal(hr.peer_id, me);
    assert_int_equal(hr.peer_role, HV_WIRE_ROLE_PATTERN_MATCHER);
    assert_true(hr.has_vote_key);
    /* Ordering holds per (sender, priority): frames 5, 10, ... travel on another lane, so the
     * check is per lane. */
    /* hub to client, to the subscriber only */
    for (uint64_t i = 1; i <= 100; i++) {
        size_t n = nt_frame(buf, sizeof(buf), 1, i, "swarm.md.bar", 64);
        assert_int_equal(hv_net_publish(hub, "swarm.md.bar", 3, buf, n), 0);
    }
    size_t n = nt_frame(buf, sizeof(buf), 1, 101, "swarm.other", 8);
    assert_int_equal(hv_net_publish(hub, "swarm.other", 3, buf, n), 0); /* no subscriber */
    SPIN_UNTIL(hub, cli, cr.count == 100);
    assert_int_equal(cr.bad_order, 0);
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(cli, 0, &ls), 0);
    assert_true(ls.rtt_us > 0);
    assert_true(ls.datagrams_sent > 0 && ls.datagrams_sent < 2000);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void slow_consumer_backpressures_the_publisher_and_loses_nothing(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    ho.rx_buffer_bytes = 256 << 10;
    ho.frame_max_bytes = 64 << 10;
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &cr);
    co.port = hv_net_port(hub);
    co.lane_buffer_bytes = 256 << 10;
    co.frame_max_bytes = 64 << 10;
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    SPIN_UNTIL(hub, cli, hv_net_ready(cli));
    uint64_t me = hv_net_self(cli)->id;
    hr.full = 1;
    uint8_t buf[2048];
    uint64_t seq = 0;
    int full = 0;
    /* Publish until the publisher is told the link is full. */
    while (!full) {
        size_t n = nt_frame(buf, sizeof(buf), me, seq + 1, "swarm.x", 1000);
        int rv = hv_net_publish(cli, "swarm.x", 3, buf, n);
        if (rv == HV_EFULL) {
            full = 1;
            break;
        }
        assert_int_equal(rv, 0);
        seq++;
        hv_net_run(cli, 0);
        hv_net_run(hub, 0);
        assert_true(seq < 100000);
    }
    assert_int_equal(hr.count, 0);
    /* Memory stayed bounded: the sender's lane and the receiver's window. */
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(cli, 0, &ls), 0);
    assert_true(ls.buffered_bytes <= (256u << 10));
    assert_true(ls.full >= 1);
    assert_int_equal(hv_net_link_stats_get(hub, 0, &ls), 0);
    assert_true(ls.buffered_bytes <= (256u << 10) + 4096);
    /* The consumer catches up: every frame arrives once, in order. */
    hr.full = 0;
    hv_net_resume(hub);
    SPIN_UNTIL(hub, cli, (hv_net_resume(hub), hr.count == seq));
    assert_int_equal(hr.bad_order, 0);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void broken_connection_reconnects_resumes_and_loses_nothing(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &cr);
    co.port = hv_net_port(hub);
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    SPIN_UNTIL(hub, cli, hv_net_ready(cli));
    uint64_t me = hv_net_self(cli)->id;
    uint8_t buf[512];
    uint64_t seq = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            size_t n = nt_frame(buf, sizeof(buf), me, ++seq, "swarm.y", 64);
            assert_int_equal(hv_net_publish(cli, "swarm.y", 2, buf, n), 0);
        }
        hv_net_run(cli, 0);
        hv__net_break(cli);
        assert_int_equal(hv_net_ready(cli), 0);
        SPIN_UNTIL(hub, cli, hv_net_ready(cli));
    }
    SPIN_UNTIL(hub, cli, hr.count == seq);
    assert_int_equal(hr.bad_order, 0);
    assert_int_equal(cr.reset, 0);
    assert_true(cr.joined >= 4);
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(cli, 0, &ls), 0);
    assert_int_equal(ls.connections, 4);
    assert_true(ls.resumed >= 1); /* TLS session tickets */
    hv_net_free(cli);
    hv_net_free(hub);
}

static void client_with_a_certificate_from_another_ca_is_refused(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir2, "agent", &cr); /* a certificate from CA b ... */
    static char ca_a[300];
    snprintf(ca_a, sizeof(ca_a), "%s/ca.pem", dir); /* ... while it trusts the hub's CA */
    co.ca_file = ca_a;
    co.port = hv_net_port(hub);
    co.reconnect_min_ms = 1000;
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    hv_net_stats hs;
    SPIN_UNTIL(hub, cli, (hv_net_stats_get(hub, &hs), hs.refused_tls >= 1));
    assert_int_equal(hv_net_ready(cli), 0);
    assert_int_equal(hr.joined, 0);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void identity_that_differs_from_the_certificate_is_refused(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &cr);
    co.port = hv_net_port(hub);
    co.local_id = 999; /* claims another agent's id */
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    SPIN_UNTIL(hub, cli, cr.refused >= 1);
    hv_net_stats hs;
    hv_net_stats_get(hub, &hs);
    assert_int_equal(hs.refused_identity, 1);
    assert_int_equal(hv_net_ready(cli), 0);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void missing_certificates_need_the_insecure_flag(void **state)
{
    (void)state;
    hv_net_opts o = { .size = sizeof(o) };
    hv_net *n;
    assert_int_equal(hv_net_listen(&o, &n), HV_EINVAL);
    assert_null(n);
    assert_non_null(strstr(hv_net_last_error(NULL), "--ca"));
    o.flags = HV_NET_INSECURE;
    o.local_id = 1;
    o.local_role = HV_WIRE_ROLE_COORDINATOR;
    assert_int_equal(hv_net_listen(&o, &n), 0);
    hv_net_free(n);
}

/* --insecure on both ends, no certificate anywhere: the hub makes a throwaway one for TLS, the
 * client takes the id it claims, and frames flow. */
static void insecure_ends_without_certificates_carry_frames(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    nt_opts(&co, dir, "agent", &cr);
    hv_net_opts *both[] = { &ho, &co };
    for (int i = 0; i < 2; i++) {
        both[i]->flags = HV_NET_INSECURE;
        both[i]->ca_file = both[i]->cert_file = both[i]->key_file = NULL;
    }
    ho.local_id = 1;
    ho.local_role = HV_WIRE_ROLE_COORDINATOR;
    co.local_id = (2ull << 32) | 7;
    co.local_role = HV_WIRE_ROLE_WORKER;
    hv_net *hub = start_hub(&ho), *cli;
    co.port = hv_net_port(hub);
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    SPIN_UNTIL(hub, cli, hv_net_ready(cli) && hv_net_ready(hub));
    uint8_t buf[256];
    size_t n = nt_frame(buf, sizeof(buf), co.local_id, 1, "swarm.x", 16);
    assert_int_equal(hv_net_publish(cli, "swarm.x", 2, buf, n), 0);
    SPIN_UNTIL(hub, cli, hr.count == 1);
    assert_int_equal(hr.peer_id, co.local_id);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void client_without_a_certificate_is_refused(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    memset(&co, 0, sizeof(co));
    co.size = sizeof(co);
    co.flags = HV_NET_INSECURE; /* no certificate at all */
    co.local_id = 5;
    co.port = hv_net_port(hub);
    co.reconnect_min_ms = 1000;
    co.user = &cr;
    co.on_peer = nt_on_peer;
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    hv_net_stats hs;
    SPIN_UNTIL(hub, cli, (hv_net_stats_get(hub, &hs), hs.refused_tls >= 1));
    assert_int_equal(hr.joined, 0);
    hv_net_free(cli);
    hv_net_free(hub);
}

static void unauthorized_oversize_and_flood_are_refused(void **state)
{
    (void)state;
    nt_rx hr = { 0 }, cr = { 0 };
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &hr);
    ho.frame_max_bytes = 4096;
    ho.rate_frames_per_s = 1000;
    ho.rate_burst = 200;
    hv_net *hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &cr);
    co.port = hv_net_port(hub);
    hv_net *cli;
    assert_int_equal(hv_net_connect(&co, &cli), 0);
    SPIN_UNTIL(hub, cli, hv_net_ready(cli));
    uint64_t me = hv_net_self(cli)->id;
    static uint8_t buf[8192];
    uint64_t seq = 0;
    /* A pattern matcher may not publish under admin.> */
    size_t n = nt_frame(buf, sizeof(buf), me, ++seq, "admin.halt", 8);
    assert_int_equal(hv_net_publish(cli, "admin.halt", 1, buf, n), 0);
    hv_net_stats hs;
    SPIN_UNTIL(hub, cli, (hv_net_stats_get(hub, &hs), hs.refused_acl == 1));
    assert_int_equal(hr.count, 0);
    /* The negotiated frame limit is the hub's 4096: one byte more is refused at the sender. */
    n = nt_frame(buf, sizeof(buf), me, ++seq, "swarm.z", 4096 - 48 - 7 - 18);
    assert_int_equal(n, 4096);
    assert_int_equal(hv_net_publish(cli, "swarm.z", 3, buf, n), 0);
    n = nt_frame(buf, sizeof(buf), me, ++seq, "swarm.z", 4096 - 48 - 7 - 17);
    assert_int_equal(hv_net_publish(cli, "swarm.z", 3, buf, n), HV_ETOOBIG);
    seq--;
    SPIN_UNTIL(hub, cli, hr.count == 1);
    /* A flood far above 1000 frames/s: refusals, then the hub closes the connection. */
    for (int i = 0; i < 3000; i++) {
        n = nt_frame(buf, sizeof(buf), me, ++seq, "swarm.z", 8);
        int rv = hv_net_publish(cli, "swarm.z", 3, buf, n);
        if (rv == HV_EFULL) {
            seq--;
            hv_net_run(cli, 0);
            hv_net_run(hub, 0);
            continue;
        }
        assert_int_equal(rv, 0);
    }
    SPIN_UNTIL(hub, cli, (hv_net_stats_get(hub, &hs), hs.refused_rate > 200 && hr.lost >= 1));
    hv_net_free(cli);
    hv_net_free(hub);
}

static size_t vote_frame(uint8_t *buf, size_t cap, uint64_t sender, uint64_t seq)
{
    hv_msg m = { .type = HV_MSG_VOTE };
    m.vote.proposal_id = 1;
    m.vote.voter = sender;
    m.vote.weight = 1;
    hv_frame f = { .seq = seq, .sender_id = sender, .topic = hv_str_from("swarm.vote.cast") };
    int n = hv_frame_encode(buf, cap, &f, &m, NULL);
    assert_true(n > 0);
    return (size_t)n;
}

/* A hub (flags: its options) and an agent whose frame 1 has arrived and been acknowledged
 * (an unmarked frame left in the lane would hold it until the next session opens). */
typedef struct early_pair {
    nt_rx hr, cr;
    hv_net *hub, *cli;
    uint64_t me;
} early_pair;

static void early_pair_start(early_pair *p, uint32_t hub_flags)
{
    memset(p, 0, sizeof(*p));
    hv_net_opts ho, co;
    nt_opts(&ho, dir, "hub", &p->hr);
    ho.flags = hub_flags;
    p->hub = start_hub(&ho);
    nt_opts(&co, dir, "agent", &p->cr);
    co.port = hv_net_port(p->hub);
    co.reconnect_min_ms = 1;
    assert_int_equal(hv_net_connect(&co, &p->cli), 0);
    SPIN_UNTIL(p->hub, p->cli, hv_net_ready(p->cli));
    p->me = hv_net_self(p->cli)->id;
    uint8_t buf[512];
    size_t n = nt_frame(buf, sizeof(buf), p->me, 1, "swarm.md.bar", 32);
    assert_int_equal(hv_net_publish(p->cli, "swarm.md.bar", 2, buf, n), 0);
    hv_net_link_stats ls;
    SPIN_UNTIL(p->hub, p->cli,
               (hv_net_link_stats_get(p->cli, 0, &ls), p->hr.count == 1 && ls.buffered_bytes == 0));
}

/* Publishes frames from..to marked safe to replay. */
static void publish_replay_safe(early_pair *p, uint64_t from, uint64_t to)
{
    uint8_t buf[512];
    for (uint64_t seq = from; seq <= to; seq++) {
        size_t n = nt_frame(buf, sizeof(buf), p->me, seq, "swarm.md.bar", 32);
        assert_int_equal(hv_net_publish_replay_safe(p->cli, "swarm.md.bar", 2, buf, n), 0);
    }
}

/* After a break the agent speaks first: its handshake and the frames it marked safe to replay
 * go in 0-RTT and arrive marked early; a vote never does, and holds the frames behind it on
 * its lane until the session is open. */
static void replay_safe_frames_ride_0rtt_and_votes_wait(void **state)
{
    (void)state;
    early_pair p;
    early_pair_start(&p, 0);
    uint8_t buf[512];
    size_t n = vote_frame(buf, sizeof(buf), p.me, 2);
    assert_int_equal(hv_net_publish_replay_safe(p.cli, "swarm.vote.cast", 2, buf, n), HV_EINVAL);
    hv__net_break(p.cli);
    publish_replay_safe(&p, 2, 6);
    n = vote_frame(buf, sizeof(buf), p.me, 7);
    assert_int_equal(hv_net_publish(p.cli, "swarm.vote.cast", 2, buf, n), 0);
    publish_replay_safe(&p, 8, 10);
    SPIN_UNTIL(p.hub, p.cli, p.hr.count == 10);
    assert_int_equal(p.hr.bad_order, 0);
    assert_int_equal(p.hr.duplicates, 0);
    assert_int_equal(p.hr.early, 5);      /* 2..6 */
    assert_int_equal(p.hr.early_last, 6); /* not the vote, nor what waited behind it */
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(p.cli, 0, &ls), 0);
    assert_int_equal(ls.connections, 2);
    assert_int_equal(ls.early_accepted, 1);
    hv_net_free(p.cli);
    hv_net_free(p.hub);
}

/* Without 0-RTT (a hub that declines it) the same frames wait for the handshake. */
static void a_hub_without_0rtt_takes_the_frames_after_the_handshake(void **state)
{
    (void)state;
    early_pair p;
    early_pair_start(&p, HV_NET_NO_EARLY_DATA);
    hv__net_break(p.cli);
    publish_replay_safe(&p, 2, 6);
    SPIN_UNTIL(p.hub, p.cli, p.hr.count == 6);
    assert_int_equal(p.hr.bad_order, 0);
    assert_int_equal(p.hr.early, 0);
    hv_net_link_stats ls;
    assert_int_equal(hv_net_link_stats_get(p.cli, 0, &ls), 0);
    assert_int_equal(ls.early_accepted, 0);
    assert_true(ls.resumed >= 1);
    hv_net_free(p.cli);
    hv_net_free(p.hub);
}

/* Many agents on one hub: each connection is found by its ids (connection ids per datagram,
 * agent id per send) and gets its own frames only, also after others leave. */
#define MANY 40

static void many_agents_each_get_their_own_frames(void **state)
{
    (void)state;
    static nt_rx crx[MANY];
    static hv_net *cli[MANY];
    static char crt[MANY][300], key[MANY][300];
    memset(crx, 0, sizeof(crx));
    nt_rx hr = { 0 };
    hv_net_opts ho;
    nt_opts(&ho, dir, "hub", &hr);
    hv_net *hub = start_hub(&ho);
    for (int i = 0; i < MANY; i++) {
        char name[32];
        const char *err;
        snprintf(name, sizeof(name), "many%d", i);
        assert_int_equal(
            hv_net_certs_issue(dir, name, HV_WIRE_ROLE_WORKER, (5ull << 32) | (uint64_t)i, &err),
            0);
        hv_net_opts co;
        nt_opts(&co, dir, "agent", &crx[i]);
        snprintf(crt[i], sizeof(crt[i]), "%s/%s.pem", dir, name);
        snprintf(key[i], sizeof(key[i]), "%s/%s.key", dir, name);
        co.cert_file = crt[i];
        co.key_file = key[i];
        co.port = hv_net_port(hub);
        assert_int_equal(hv_net_connect(&co, &cli[i]), 0);
    }
    uint8_t buf[512];
    uint64_t t0 = hv_now_ns();
    for (int round = 0; round < 2; round++) {
        int from = round ? MANY / 2 : 0; /* round 1: the first half has left */
        while (hv_net_ready(hub) != MANY - from) {
            assert_true(hv_now_ns() - t0 < NT_WAIT_NS);
            hv_net_run(hub, 1);
            for (int i = from; i < MANY; i++)
                hv_net_run(cli[i], 0);
        }
        for (int i = from; i < MANY; i++) {
            for (uint64_t k = 1; k <= 5; k++) {
                size_t n = nt_frame(buf, sizeof(buf), 1, round * 5 + k, "swarm.own", 8 + i);
                assert_int_equal(hv_net_send(hub, (5ull << 32) | (uint64_t)i, 2, buf, n), 0);
            }
        }
        size_t n = nt_frame(buf, sizeof(buf), 1, 99, "swarm.own", 8);
        assert_int_equal(hv_net_send(hub, (5ull << 32) | MANY, 2, buf, n), HV_ENOAGENT);
        for (;;) {
            int done = 1;
            for (int i = from; i < MANY; i++)
                done &= crx[i].count == 5u * (round + 1);
            if (done)
                break;
            assert_true(hv_now_ns() - t0 < NT_WAIT_NS);
            hv_net_run(hub, 0);
            for (int i = from; i < MANY; i++)
                hv_net_run(cli[i], 1);
        }
        for (int i = from; i < MANY; i++) {
            assert_int_equal(crx[i].bad_order, 0);
            assert_int_equal(crx[i].duplicates, 0);
        }
        for (int i = 0; round == 0 && i < MANY / 2; i++) {
            hv_net_free(cli[i]);
            cli[i] = NULL;
        }
    }
    for (int i = MANY / 2; i < MANY; i++)
        hv_net_free(cli[i]);
    hv_net_free(hub);
    for (int i = 0; i < MANY; i++) {
        char p[300];
        static const char *const ext[] = { "pem", "key", "vote" };
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof(p), "%s/many%d.%s", dir, i, ext[k]);
            unlink(p);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mtls_link_carries_frames_in_order_both_ways),
        cmocka_unit_test(slow_consumer_backpressures_the_publisher_and_loses_nothing),
        cmocka_unit_test(broken_connection_reconnects_resumes_and_loses_nothing),
        cmocka_unit_test(client_with_a_certificate_from_another_ca_is_refused),
        cmocka_unit_test(identity_that_differs_from_the_certificate_is_refused),
        cmocka_unit_test(missing_certificates_need_the_insecure_flag),
        cmocka_unit_test(insecure_ends_without_certificates_carry_frames),
        cmocka_unit_test(client_without_a_certificate_is_refused),
        cmocka_unit_test(unauthorized_oversize_and_flood_are_refused),
        cmocka_unit_test(many_agents_each_get_their_own_frames),
        cmocka_unit_test(replay_safe_frames_ride_0rtt_and_votes_wait),
        cmocka_unit_test(a_hub_without_0rtt_takes_the_frames_after_the_handshake),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

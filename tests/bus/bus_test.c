/* Tests of the bus: routing, delivery modes, priorities, coalescing, TTL, backpressure,
 * wake-ups, metrics and many-producer integrity. */
#include "hv_test.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/bus.h>
#include <hivewire/hist.h>
#include <hivewire/rng.h>

#include "bus/bus_util.h"

#define WAIT_NS (10ull * 1000 * 1000 * 1000) /* bound on every wait: 10 s */

typedef struct fixture {
    hv_bus *bus;
    hv_agent *a[8];
} fixture;

static hv_agent *agent(hv_bus *b, uint32_t cap, int bp)
{
    hv_agent_opts o = test_agent_opts(cap);
    o.backpressure = bp;
    return test_agent(b, &o);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    hv_bus_opts o;
    hv_bus_opts_default(&o);
    o.msg_pool = 256;
    o.buf_pool = 8;
    o.buf_bytes = 4096;
    o.dlq_capacity = 16;
    if (hv_bus_new(&o, &f->bus) != 0)
        return -1;
    for (int i = 0; i < 4; i++)
        f->a[i] = agent(f->bus, 16, HV_BP_DROP_OLDEST);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hv_bus_free(f->bus);
    free(f);
    return 0;
}

static hv_send text(const char *subject, const char *s)
{
    hv_send m = { .subject = subject, .data = s, .len = strlen(s) };
    return m;
}

/* Receives exactly one message and checks its payload. */
static hv_bus_msg *recv1(hv_agent *a, uint64_t now)
{
    hv_bus_msg *m = NULL;
    assert_int_equal(hv_agent_recv(a, &m, 1, now), 1);
    return m;
}

static void expect_empty(hv_agent *a, uint64_t now)
{
    hv_bus_msg *m;
    assert_int_equal(hv_agent_recv(a, &m, 1, now), 0);
}

static void expect_payload(hv_agent *a, const char *s)
{
    hv_bus_msg *m = recv1(a, 0);
    assert_int_equal(m->len, strlen(s));
    assert_memory_equal(m->data, s, m->len);
    hv_bus_msg_release(m);
}

/* ---------------------------------------------------------------------------------------- */

static void publish_reaches_every_matching_subscription(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[1], "md.*.quote", NULL, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->a[2], "md.>", NULL, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->a[3], "md.AAPL", NULL, NULL), 0);
    hv_send m = text("md.AAPL.quote", "px=1");
    m.type = 42;
    hv_send_result r;
    assert_int_equal(hv_bus_publish(f->a[0], &m, 100, &r), 2);
    assert_int_equal(r.matched, 2);
    assert_int_equal(r.delivered, 2);
    for (int i = 1; i <= 2; i++) {
        hv_bus_msg *x = recv1(f->a[i], 150);
        assert_string_equal(x->subject, "md.AAPL.quote");
        assert_int_equal(x->sender, hv_agent_id(f->a[0]));
        assert_int_equal(x->type, 42);
        assert_int_equal(x->prio, HV_PRIO_NORMAL);
        assert_int_equal(x->sent_ns, 100);
        hv_bus_msg_release(x);
    }
    expect_empty(f->a[3], 0);
    /* the same subject again comes from the publisher's match cache */
    assert_int_equal(hv_bus_publish(f->a[0], &m, 200, NULL), 2);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.sent, 2);
    assert_int_equal(s.bytes_sent, 8);
}

static void unmatched_publish_is_counted_as_unrouted(void **state)
{
    fixture *f = *state;
    hv_send m = text("nobody.listens", "x");
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 0);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.unrouted, 1);
}

static void invalid_subjects_and_patterns_are_rejected(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[1], "a.>.b", NULL, NULL), HV_EBADSUBJECT);
    assert_int_equal(hv_agent_subscribe(f->a[1], "", NULL, NULL), HV_EBADSUBJECT);
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.group = "bad.group";
    assert_int_equal(hv_agent_subscribe(f->a[1], "a", &so, NULL), HV_EBADSUBJECT);
    hv_send m = text("a.*", "x");
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), HV_EBADSUBJECT);
    m.subject = "a..b";
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), HV_EBADSUBJECT);
    m.subject = NULL;
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), HV_EINVAL);
}

static void unsubscribe_stops_delivery(void **state)
{
    fixture *f = *state;
    uint32_t id;
    assert_int_equal(hv_agent_subscribe(f->a[1], "t.x", NULL, &id), 0);
    hv_send m = text("t.x", "1");
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 1);
    assert_int_equal(hv_agent_unsubscribe(f->a[2], id), HV_ENOTFOUND);
    assert_int_equal(hv_agent_unsubscribe(f->a[1], id), 0);
    assert_int_equal(hv_agent_unsubscribe(f->a[1], id), HV_ENOTFOUND);
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 0);
    expect_payload(f->a[1], "1");
    expect_empty(f->a[1], 0);
}

static void direct_send_reaches_one_agent_by_id(void **state)
{
    fixture *f = *state;
    hv_send m = text(NULL, "hello");
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[2]), &m, 0), 0);
    hv_bus_msg *x = recv1(f->a[2], 0);
    assert_true(x->flags & HV_MSG_F_DIRECT);
    assert_int_equal(x->subject_len, 0);
    hv_bus_msg_release(x);
    expect_empty(f->a[1], 0);
    assert_int_equal(hv_bus_send(f->a[0], 999, &m, 0), HV_ENOAGENT);
    assert_int_equal(hv_bus_send(f->a[0], 0, &m, 0), HV_ENOAGENT);
}

static void send_n_delivers_a_batch_in_order_and_stops_at_a_refusal(void **state)
{
    fixture *f = *state;
    hv_agent *r = agent(f->bus, 4, HV_BP_REJECT_NEW);
    uint32_t v[6];
    hv_send m[6];
    for (uint32_t i = 0; i < 6; i++) {
        v[i] = i;
        m[i] = (hv_send){ .data = &v[i], .len = sizeof(v[i]) };
    }
    assert_int_equal(hv_bus_send_n(f->a[0], hv_agent_id(r), m, 6, 0), 4);
    assert_int_equal(hv_bus_send_n(f->a[0], hv_agent_id(r), m, 6, 0), HV_EREJECTED);
    assert_int_equal(hv_bus_send_n(f->a[0], 999, m, 6, 0), HV_ENOAGENT);
    assert_int_equal(hv_bus_send_n(f->a[0], hv_agent_id(r), m, 0, 0), 0);
    hv_bus_msg *x[8];
    assert_int_equal(hv_agent_recv(r, x, 8, 0), 4);
    for (uint32_t i = 0; i < 4; i++)
        assert_memory_equal(x[i]->data, &v[i], sizeof(v[i]));
    hv_bus_msg_release_n(x, 4);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.sent, 4);
    assert_int_equal(s.bytes_sent, 16);
    assert_int_equal(s.send_rejected, 2);
}

static void send_n_keeps_priorities_and_coalescing_of_each_message(void **state)
{
    fixture *f = *state;
    hv_agent *r = agent(f->bus, 16, HV_BP_DROP_OLDEST);
    uint32_t v[6] = { 0, 1, 2, 3, 4, 5 };
    hv_send m[6];
    for (uint32_t i = 0; i < 6; i++)
        m[i] = (hv_send){ .data = &v[i], .len = sizeof(v[i]) };
    m[2].prio = HV_PRIO_HIGH;
    m[3].coalesce_key = 7;
    m[4].coalesce_key = 7; /* replaces 3 in its place */
    assert_int_equal(hv_bus_send_n(f->a[0], hv_agent_id(r), m, 6, 0), 6);
    static const uint32_t want[] = { 2, 0, 1, 4, 5 };
    hv_bus_msg *x[8];
    assert_int_equal(hv_agent_recv(r, x, 8, 0), 5);
    for (uint32_t i = 0; i < 5; i++)
        assert_memory_equal(x[i]->data, &want[i], sizeof(want[i]));
    hv_bus_msg_release_n(x, 5);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.coalesced, 1);
}

static void broadcast_shares_one_message_among_all_other_agents(void **state)
{
    fixture *f = *state;
    hv_send m = text(NULL, "all");
    hv_send_result r;
    assert_int_equal(hv_bus_broadcast(f->a[0], &m, 0, &r), 3);
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 1);
    hv_bus_msg *x[3];
    for (int i = 1; i <= 3; i++)
        x[i - 1] = recv1(f->a[i], 0);
    assert_ptr_equal(x[0], x[1]);
    assert_ptr_equal(x[1], x[2]);
    for (int i = 0; i < 3; i++)
        hv_bus_msg_release(x[i]);
    expect_empty(f->a[0], 0);
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 0);
}

static void release_n_recycles_a_batch_and_respects_shared_references(void **state)
{
    fixture *f = *state;
    hv_send m = text(NULL, "b");
    for (int i = 0; i < 3; i++)
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &m, 0), 0);
    assert_int_equal(hv_bus_broadcast(f->a[0], &m, 0, NULL), 3);
    hv_bus_msg *x[5] = { 0 };
    assert_int_equal(hv_agent_recv(f->a[1], x, 4, 0), 4);
    hv_bus_msg *shared = x[3];
    hv_bus_msg_release_n(x, 5); /* x[4] is NULL: skipped */
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 1); /* the broadcast still sits in a[2] and a[3] */
    hv_bus_msg *y[2] = { recv1(f->a[2], 0), recv1(f->a[3], 0) };
    assert_ptr_equal(y[0], shared);
    hv_bus_msg_release_n(y, 2);
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 0);
}

static void large_payload_is_one_pooled_buffer_for_every_recipient(void **state)
{
    fixture *f = *state;
    for (int i = 1; i <= 3; i++)
        assert_int_equal(hv_agent_subscribe(f->a[i], "big.>", NULL, NULL), 0);
    uint8_t payload[1000];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)i;
    hv_send m = { .subject = "big.frame", .data = payload, .len = sizeof(payload) };
    assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 3);
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.bufs_in_use, 1);
    hv_bus_msg *x[3];
    for (int i = 0; i < 3; i++) {
        x[i] = recv1(f->a[i + 1], 0);
        assert_true(x[i]->flags & HV_MSG_F_BUF);
        assert_memory_equal(x[i]->data, payload, sizeof(payload));
    }
    assert_ptr_equal(x[0]->data, x[2]->data);
    for (int i = 0; i < 3; i++)
        hv_bus_msg_release(x[i]);
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.bufs_in_use, 0);
    /* a caller's own buffer: zero copy, the reference passes to the bus */
    hv_buf *buf;
    assert_int_equal(hv_bus_buf_alloc(f->bus, &buf), 0);
    memcpy(hv_buf_data(buf), "frame", 5);
    hv_send z = { .subject = "big.z", .buf = buf, .len = 5 };
    assert_int_equal(hv_bus_publish(f->a[0], &z, 0, NULL), 3);
    for (int i = 1; i <= 3; i++) {
        hv_bus_msg *y = recv1(f->a[i], 0);
        assert_ptr_equal(y->data, hv_buf_data(buf));
        hv_bus_msg_release(y);
    }
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.bufs_in_use, 0);
    /* too big for a pooled buffer */
    uint8_t *huge = calloc(1, 5000);
    hv_send h = { .subject = "big.h", .data = huge, .len = 5000 };
    assert_int_equal(hv_bus_publish(f->a[0], &h, 0, NULL), HV_ETOOBIG);
    free(huge);
}

static void request_gets_the_reply_with_its_correlation_id(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[1], "svc.price", NULL, NULL), 0);
    hv_send q = text("svc.price", "AAPL?");
    uint64_t corr = 0;
    assert_int_equal(hv_agent_request(f->a[0], &q, 1000, 10, &corr), 1);
    assert_true(corr != 0);
    assert_int_equal(hv_agent_next_deadline(f->a[0]), 1010);
    hv_bus_msg *req = recv1(f->a[1], 20);
    assert_true(req->flags & HV_MSG_F_REQUEST);
    assert_int_equal(req->corr_id, corr);
    assert_int_equal(req->reply_to, hv_agent_id(f->a[0]));
    hv_send rep = text(NULL, "189.5");
    assert_int_equal(hv_agent_reply(f->a[1], req, &rep, 30), 0);
    assert_int_equal(hv_agent_reply(f->a[1], req, &rep, 30), 0);
    hv_bus_msg_release(req);
    hv_bus_msg *r = recv1(f->a[0], 40);
    assert_true(r->flags & HV_MSG_F_REPLY);
    assert_int_equal(r->corr_id, corr);
    assert_memory_equal(r->data, "189.5", 5);
    hv_bus_msg_release(r);
    /* the second reply to the same request is late: dead-lettered, counted */
    expect_empty(f->a[0], 50);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.late_replies, 1);
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_LATE_REPLY);
    hv_bus_msg_release(d.msg);
    assert_int_equal(hv_agent_next_deadline(f->a[0]), UINT64_MAX);
    /* nobody listening */
    q.subject = "svc.none";
    assert_int_equal(hv_agent_request(f->a[0], &q, 1000, 60, &corr), HV_ENOSUBSCRIBER);
    assert_int_equal(hv_agent_request(f->a[0], &q, 0, 60, &corr), HV_EINVAL);
}

static void request_without_reply_times_out_at_its_deadline(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[1], "svc.slow", NULL, NULL), 0);
    hv_send q = text("svc.slow", "?");
    uint64_t corr;
    assert_int_equal(hv_agent_request(f->a[0], &q, 500, 1000, &corr), 1);
    expect_empty(f->a[0], 1499);
    hv_bus_msg *t = recv1(f->a[0], 1500);
    assert_true(t->flags & HV_MSG_F_TIMEOUT);
    assert_int_equal(t->type, HV_MSG_TYPE_TIMEOUT);
    assert_int_equal(t->corr_id, corr);
    hv_bus_msg_release(t);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.request_timeouts, 1);
    /* the reply after the timeout is dead-lettered */
    hv_bus_msg *req = recv1(f->a[1], 1600);
    hv_send rep = text(NULL, "late");
    assert_int_equal(hv_agent_reply(f->a[1], req, &rep, 1600), 0);
    hv_bus_msg_release(req);
    expect_empty(f->a[0], 1700);
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.late_replies, 1);
}

static void queue_group_round_robin_gives_each_message_to_one_member(void **state)
{
    fixture *f = *state;
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.group = "workers";
    for (int i = 1; i <= 3; i++)
        assert_int_equal(hv_agent_subscribe(f->a[i], "task.>", &so, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->a[0], "task.*", NULL, NULL), 0); /* ungrouped */
    hv_send m = text("task.run", "t");
    for (int k = 0; k < 9; k++)
        assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 2);
    hv_agent_stats s;
    for (int i = 1; i <= 3; i++) {
        hv_agent_stats_get(f->a[i], &s);
        assert_int_equal(s.depth[HV_PRIO_NORMAL - 1], 3);
    }
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.depth[HV_PRIO_NORMAL - 1], 9);
}

static void queue_group_least_loaded_picks_the_emptier_inbox(void **state)
{
    fixture *f = *state;
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.group = "ll";
    so.group_policy = HV_GROUP_LEAST_LOADED;
    assert_int_equal(hv_agent_subscribe(f->a[1], "job", &so, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->a[2], "job", &so, NULL), 0);
    /* preload a[1] with 5 direct messages */
    hv_send d = text(NULL, "d");
    for (int i = 0; i < 5; i++)
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &d, 0), 0);
    hv_send m = text("job", "j");
    for (int i = 0; i < 4; i++)
        assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), 1);
    hv_agent_stats s1, s2;
    hv_agent_stats_get(f->a[1], &s1);
    hv_agent_stats_get(f->a[2], &s2);
    assert_int_equal(s1.depth[HV_PRIO_NORMAL - 1], 5);
    assert_int_equal(s2.depth[HV_PRIO_NORMAL - 1], 4);
    hv_send m2 = text("job", "k");
    for (int i = 0; i < 2; i++)
        assert_int_equal(hv_bus_publish(f->a[0], &m2, 0, NULL), 1);
    hv_agent_stats_get(f->a[1], &s1);
    hv_agent_stats_get(f->a[2], &s2);
    assert_int_equal(s1.depth[HV_PRIO_NORMAL - 1] + s2.depth[HV_PRIO_NORMAL - 1], 11);
    assert_true(s2.depth[HV_PRIO_NORMAL - 1] <= 6);
}

static void higher_priorities_are_served_first(void **state)
{
    fixture *f = *state;
    const int order[] = { HV_PRIO_BATCH, HV_PRIO_LOW, HV_PRIO_NORMAL, HV_PRIO_HIGH,
                          HV_PRIO_CRITICAL };
    for (int i = 0; i < 5; i++) {
        hv_send m = text(NULL, "p");
        m.prio = (uint8_t)order[i];
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &m, 0), 0);
    }
    hv_bus_msg *x[5];
    assert_int_equal(hv_agent_recv(f->a[1], x, 5, 0), 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(x[i]->prio, HV_PRIO_CRITICAL + i);
        hv_bus_msg_release(x[i]);
    }
    hv_send bad = text(NULL, "p");
    bad.prio = 6;
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &bad, 0), HV_EINVAL);
}

static void starvation_guard_serves_low_after_k_critical(void **state)
{
    hv_bus *b;
    assert_int_equal(hv_bus_new(NULL, &b), 0);
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.starvation_k = 4;
    hv_agent *src, *dst;
    assert_int_equal(hv_agent_new(b, NULL, &src), 0);
    assert_int_equal(hv_agent_new(b, &o, &dst), 0);
    hv_send low = text(NULL, "L");
    low.prio = HV_PRIO_LOW;
    assert_int_equal(hv_bus_send(src, hv_agent_id(dst), &low, 0), 0);
    hv_send crit = text(NULL, "C");
    crit.prio = HV_PRIO_CRITICAL;
    for (int i = 0; i < 20; i++)
        assert_int_equal(hv_bus_send(src, hv_agent_id(dst), &crit, 0), 0);
    /* C C C C L C ... : the LOW message is passed over exactly k times */
    int pos = -1;
    for (int i = 0; i < 21; i++) {
        hv_bus_msg *m = recv1(dst, 0);
        if (m->prio == HV_PRIO_LOW)
            pos = i;
        hv_bus_msg_release(m);
    }
    assert_int_equal(pos, 4);
    /* the same with one batch receive */
    assert_int_equal(hv_bus_send(src, hv_agent_id(dst), &low, 0), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(hv_bus_send(src, hv_agent_id(dst), &crit, 0), 0);
    hv_bus_msg *x[32];
    assert_int_equal(hv_agent_recv(dst, x, 32, 0), 21);
    for (int i = 0; i < 21; i++)
        assert_int_equal(x[i]->prio, i == 4 ? HV_PRIO_LOW : HV_PRIO_CRITICAL);
    hv_bus_msg_release_n(x, 21);
    (void)state;
    hv_bus_free(b);
}

static void coalescing_key_replaces_the_undelivered_message(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[1], "q.>", NULL, NULL), 0);
    char px[16];
    for (int i = 0; i < 5; i++) {
        snprintf(px, sizeof(px), "px=%d", i);
        hv_send m = text("q.AAPL", px);
        m.coalesce_key = 77;
        hv_send_result r;
        assert_int_equal(hv_bus_publish(f->a[0], &m, 0, &r), 1);
        assert_int_equal(r.coalesced, i > 0);
    }
    hv_send other = text("q.MSFT", "other");
    other.coalesce_key = 78;
    assert_int_equal(hv_bus_publish(f->a[0], &other, 0, NULL), 1);
    expect_payload(f->a[1], "px=4");
    expect_payload(f->a[1], "other");
    expect_empty(f->a[1], 0);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[1], &s);
    assert_int_equal(s.coalesced, 4);
    /* once delivered, the same key queues again */
    hv_send again = text("q.AAPL", "px=5");
    again.coalesce_key = 77;
    assert_int_equal(hv_bus_publish(f->a[0], &again, 0, NULL), 1);
    expect_payload(f->a[1], "px=5");
    expect_all_msgs_returned(f->bus);
}

/* A direct send from a[0] to `to` with priority prio and coalescing key (0: none); returns
 * what hv_bus_send returned. */
static int send_prio(fixture *f, hv_agent *to, const char *s, int prio, uint64_t key)
{
    hv_send m = text(NULL, s);
    m.prio = (uint8_t)prio;
    m.coalesce_key = key;
    return hv_bus_send(f->a[0], hv_agent_id(to), &m, 0);
}

static void
a_critical_update_coalesced_over_a_low_one_is_served_before_a_normal_message(void **state)
{
    fixture *f = *state;
    assert_int_equal(send_prio(f, f->a[1], "low", HV_PRIO_LOW, 7), 0);
    assert_int_equal(send_prio(f, f->a[1], "normal", HV_PRIO_NORMAL, 0), 0);
    assert_int_equal(send_prio(f, f->a[1], "critical", HV_PRIO_CRITICAL, 7), 0);
    expect_payload(f->a[1], "critical");
    expect_payload(f->a[1], "normal");
    expect_empty(f->a[1], 0); /* the LOW marker left behind delivers nothing */
    hv_agent_stats s;
    hv_agent_stats_get(f->a[1], &s);
    assert_int_equal(s.coalesced, 1);
    assert_int_equal(s.received, 2);
    expect_all_msgs_returned(f->bus);
}

static void a_less_urgent_update_keeps_the_pending_messages_place(void **state)
{
    fixture *f = *state;
    assert_int_equal(send_prio(f, f->a[1], "normal", HV_PRIO_NORMAL, 0), 0);
    assert_int_equal(send_prio(f, f->a[1], "high", HV_PRIO_HIGH, 7), 0);
    assert_int_equal(send_prio(f, f->a[1], "low", HV_PRIO_LOW, 7), 0);
    hv_bus_msg *m = recv1(f->a[1], 0); /* served at HIGH, ahead of the NORMAL message */
    assert_memory_equal(m->data, "low", 3);
    assert_int_equal(m->prio, HV_PRIO_LOW); /* the field keeps the sender's priority */
    hv_bus_msg_release(m);
    expect_payload(f->a[1], "normal");
    expect_empty(f->a[1], 0);
}

static void a_key_whose_stale_marker_is_still_queued_queues_afresh(void **state)
{
    fixture *f = *state;
    assert_int_equal(send_prio(f, f->a[1], "1", HV_PRIO_LOW, 7), 0);
    assert_int_equal(send_prio(f, f->a[1], "2", HV_PRIO_CRITICAL, 7), 0); /* LOW marker stale */
    expect_payload(f->a[1], "2");
    /* the LOW lane still holds the stale marker: "3" queues behind it without a cell */
    assert_int_equal(send_prio(f, f->a[1], "3", HV_PRIO_LOW, 7), 0);
    assert_int_equal(send_prio(f, f->a[1], "4", HV_PRIO_NORMAL, 7), 0); /* a cell again */
    assert_int_equal(send_prio(f, f->a[1], "5", HV_PRIO_NORMAL, 7), 0); /* coalesces "4" */
    expect_payload(f->a[1], "5");
    expect_payload(f->a[1], "3");
    expect_empty(f->a[1], 0);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[1], &s);
    assert_int_equal(s.coalesced, 2);
    assert_int_equal(s.received, 3);
}

static void an_update_that_finds_its_lane_full_leaves_the_pending_message_in_place(void **state)
{
    fixture *f = *state;
    hv_agent *r = agent(f->bus, 2, HV_BP_REJECT_NEW);
    assert_int_equal(send_prio(f, r, "c1", HV_PRIO_CRITICAL, 0), 0);
    assert_int_equal(send_prio(f, r, "c2", HV_PRIO_CRITICAL, 0), 0);
    assert_int_equal(send_prio(f, r, "pending", HV_PRIO_LOW, 7), 0);
    assert_int_equal(send_prio(f, r, "update", HV_PRIO_CRITICAL, 7), HV_EREJECTED);
    expect_payload(r, "c1");
    expect_payload(r, "c2");
    expect_payload(r, "pending");
    expect_empty(r, 0);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.coalesced, 0);
    assert_int_equal(s.rejected, 1);
}

static void ttl_expiry_is_decided_at_receive_time(void **state)
{
    fixture *f = *state;
    hv_send m = text(NULL, "stale");
    m.ttl_ns = 100;
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &m, 1000), 0);
    hv_send keep = text(NULL, "keep");
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &keep, 1000), 0);
    hv_bus_msg *x = recv1(f->a[1], 1100); /* deadline 1100 reached: "stale" is dead */
    assert_memory_equal(x->data, "keep", 4);
    hv_bus_msg_release(x);
    hv_agent_stats s;
    hv_agent_stats_get(f->a[1], &s);
    assert_int_equal(s.expired, 1);
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_EXPIRED);
    assert_int_equal(d.recipient, hv_agent_id(f->a[1]));
    assert_int_equal(d.at_ns, 1100);
    assert_memory_equal(d.msg->data, "stale", 5);
    hv_bus_msg_release(d.msg);
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), HV_EAGAIN);
}

static void huge_ttl_and_timeout_saturate_instead_of_wrapping(void **state)
{
    fixture *f = *state;
    hv_send m = text(NULL, "forever");
    m.ttl_ns = UINT64_MAX - 5;
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &m, 1000), 0);
    hv_bus_msg *x = recv1(f->a[1], 2000);
    assert_int_equal(x->deadline_ns, UINT64_MAX);
    hv_bus_msg_release(x);
    assert_int_equal(hv_agent_subscribe(f->a[1], "svc.x", NULL, NULL), 0);
    hv_send q = text("svc.x", "?");
    assert_int_equal(hv_agent_request(f->a[0], &q, UINT64_MAX, 1000, NULL), 1);
    assert_int_equal(hv_agent_next_deadline(f->a[0]), UINT64_MAX);
    expect_empty(f->a[0], UINT64_MAX - 1);
}

static void drop_oldest_evicts_and_counts(void **state)
{
    fixture *f = *state; /* inboxes of 16 per lane, drop-oldest */
    hv_send m = text(NULL, "x");
    for (int i = 0; i < 20; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        m.data = v;
        m.len = strlen(v);
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(f->a[1]), &m, 0), 0);
    }
    hv_agent_stats s;
    hv_agent_stats_get(f->a[1], &s);
    assert_int_equal(s.dropped_oldest, 4);
    expect_payload(f->a[1], "4");
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.dlq_depth, 4);
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_DROPPED);
    assert_memory_equal(d.msg->data, "0", 1);
    hv_bus_msg_release(d.msg);
}

static void reject_new_refuses_and_counts(void **state)
{
    fixture *f = *state;
    hv_agent *r = agent(f->bus, 4, HV_BP_REJECT_NEW);
    hv_send m = text(NULL, "x");
    for (int i = 0; i < 4; i++)
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), HV_EREJECTED);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.rejected, 1);
    hv_agent_stats_get(f->a[0], &s);
    assert_int_equal(s.send_rejected, 1);
    /* per subscription: reject-new for a full inbox in a publish */
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.backpressure = HV_BP_REJECT_NEW;
    assert_int_equal(hv_agent_subscribe(r, "r.x", &so, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->a[2], "r.x", NULL, NULL), 0);
    hv_send p = text("r.x", "p");
    hv_send_result res;
    assert_int_equal(hv_bus_publish(f->a[0], &p, 0, &res), 1);
    assert_int_equal(res.matched, 2);
    assert_int_equal(res.rejected, 1);
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 5); /* 4 in r, 1 in a[2]; the rejected copy released */
}

static void block_publisher_times_out_and_counts(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.inbox_capacity = 2;
    o.backpressure = HV_BP_BLOCK;
    o.block_timeout_ns = 2000000; /* 2 ms */
    hv_agent *r;
    assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
    hv_send m = text(NULL, "x");
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), HV_ETIMEDOUT);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.block_timeouts, 1);
    assert_int_equal(s.rejected, 1);
}

typedef struct drain_arg {
    hv_agent *a;
    int want;
    int got;
} drain_arg;

static void *drain_thread(void *p)
{
    drain_arg *d = p;
    while (d->got < d->want) {
        if (hv_agent_wait(d->a, WAIT_NS) != 0)
            break;
        hv_bus_msg *m[8];
        int n = hv_agent_recv(d->a, m, 8, 0);
        for (int i = 0; i < n; i++)
            hv_bus_msg_release(m[i]);
        d->got += n;
    }
    return NULL;
}

static void blocked_publisher_resumes_when_the_consumer_drains(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.inbox_capacity = 2;
    o.backpressure = HV_BP_BLOCK;
    o.block_timeout_ns = WAIT_NS;
    hv_agent *r;
    assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
    drain_arg d = { .a = r, .want = 200 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain_thread, &d), 0);
    hv_send m = text(NULL, "x");
    for (int i = 0; i < 200; i++)
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    pthread_join(t, NULL);
    assert_int_equal(d.got, 200);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.rejected, 0);
    assert_int_equal(s.dropped_oldest, 0);
}

static void *wait_one(void *p)
{
    drain_arg *d = p;
    if (hv_agent_wait(d->a, WAIT_NS) == 0) {
        hv_bus_msg *m;
        d->got = hv_agent_recv(d->a, &m, 1, 0);
        if (d->got == 1)
            hv_bus_msg_release(m);
    }
    return NULL;
}

static void blocked_subscriber_wakes_when_a_message_arrives(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.spin_iters = 0; /* go straight to sleep on the eventfd */
    hv_agent *r;
    assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
    assert_int_equal(hv_agent_wait(r, 0), HV_ETIMEDOUT);
    assert_int_equal(hv_agent_wait(r, 1000), HV_ETIMEDOUT);
    for (int round = 0; round < 50; round++) {
        drain_arg d = { .a = r, .want = 1 };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, wait_one, &d), 0);
        hv_send m = text(NULL, "wake");
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
        pthread_join(t, NULL);
        assert_int_equal(d.got, 1);
    }
}

static void every_blocked_subscriber_of_a_fanout_wakes(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.spin_iters = 0;
    enum { N = 3 };
    hv_agent *r[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(hv_agent_new(f->bus, &o, &r[i]), 0);
        assert_int_equal(hv_agent_subscribe(r[i], "fan.*", NULL, NULL), 0);
    }
    for (int round = 0; round < 20; round++) {
        drain_arg d[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
            d[i] = (drain_arg){ .a = r[i], .want = 1 };
            assert_int_equal(pthread_create(&t[i], NULL, wait_one, &d[i]), 0);
        }
        hv_send m = text(round % 2 ? "fan.out" : NULL, "w");
        if (round % 2)
            assert_int_equal(hv_bus_publish(f->a[0], &m, 0, NULL), N);
        else
            assert_int_equal(hv_bus_broadcast(f->a[0], &m, 0, NULL), N + 3);
        for (int i = 0; i < N; i++) {
            pthread_join(t[i], NULL);
            assert_int_equal(d[i].got, 1);
        }
        for (int i = 1; i < 4; i++) { /* the fixture's agents got the broadcasts */
            hv_bus_msg *x[2];
            hv_bus_msg_release_n(x, (size_t)hv_agent_recv(f->a[i], x, 2, 0));
        }
    }
}

static void spin_and_yield_waiters_see_messages_too(void **state)
{
    fixture *f = *state;
    for (int w = HV_WAIT_SPIN; w <= HV_WAIT_YIELD; w++) {
        hv_agent_opts o;
        hv_agent_opts_default(&o);
        o.wait = w;
        o.spin_iters = 10;
        hv_agent *r;
        assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
        assert_int_equal(hv_agent_eventfd(r), -1);
        assert_int_equal(hv_agent_arm(r), HV_ENOTSUP);
        assert_int_equal(hv_agent_wait(r, 100000), HV_ETIMEDOUT);
        drain_arg d = { .a = r, .want = 1 };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, wait_one, &d), 0);
        hv_send m = text(NULL, "w");
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
        pthread_join(t, NULL);
        assert_int_equal(d.got, 1);
        hv_agent_free(r);
    }
}

static void eventfd_becomes_readable_for_an_armed_agent(void **state)
{
    fixture *f = *state;
    hv_agent *r = f->a[1];
    int fd = hv_agent_eventfd(r);
    assert_true(fd >= 0);
    assert_int_equal(hv_agent_arm(r), 0);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 0), 0);
    hv_send m = text(NULL, "ev");
    assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    assert_int_equal(poll(&p, 1, 10000), 1);
    hv_agent_disarm(r);
    assert_int_equal(poll(&p, 1, 0), 0);
    /* arming with a message already queued says so */
    assert_int_equal(hv_agent_arm(r), HV_EAGAIN);
    expect_payload(r, "ev");
    assert_int_equal(hv_agent_arm(r), 0);
    hv_agent_disarm(r);
}

/* ---- wake-ups at random points: the publisher side has no fence of its own (see inbox.c) ---- */

#define RW_PUBS 2
#define RW_MSGS 1500

typedef struct rw_shared {
    hv_agent *consumer;
    hv_agent *pub[RW_PUBS];
    uint32_t pub_id[RW_PUBS];
    uint64_t acked[RW_PUBS]; /* messages of each publisher the consumer has taken (atomic) */
    int lost;                /* a bounded wait ran out while a message was outstanding */
} rw_shared;

typedef struct rw_pub_arg {
    rw_shared *sh;
    int idx;
} rw_pub_arg;

static void rw_spin(hv_rng *rng, uint64_t max)
{
    uint64_t n = hv_rng_below(rng, max);
    for (volatile uint64_t i = 0; i < n; i++) {
    }
}

static void *rw_publisher(void *p)
{
    rw_pub_arg *a = p;
    rw_shared *sh = a->sh;
    hv_rng rng;
    hv_rng_seed(&rng, 1000 + (uint64_t)a->idx);
    uint32_t to = hv_agent_id(sh->consumer);
    for (uint64_t i = 0; i < RW_MSGS; i++) {
        rw_spin(&rng, 400);
        hv_send m = { .subject = "wake.rand", .data = &i, .len = sizeof(i) };
        int rc;
        switch (hv_rng_below(&rng, 3)) { /* each delivery path does its own wake-up check */
        case 0:
            rc = hv_bus_send(sh->pub[a->idx], to, &m, 0);
            break;
        case 1:
            rc = hv_bus_send_n(sh->pub[a->idx], to, &m, 1, 0) == 1 ? 0 : -1;
            break;
        default:
            rc = hv_bus_publish(sh->pub[a->idx], &m, 0, NULL) == 1 ? 0 : -1;
            break;
        }
        if (rc != 0) {
            __atomic_store_n(&sh->lost, 1, __ATOMIC_RELAXED);
            return NULL;
        }
        /* wait (bounded) until the consumer took it, so that it goes back to sleep */
        uint64_t deadline = hv_now_ns() + WAIT_NS;
        while (__atomic_load_n(&sh->acked[a->idx], __ATOMIC_ACQUIRE) <= i) {
            if (__atomic_load_n(&sh->lost, __ATOMIC_RELAXED) || hv_now_ns() > deadline) {
                __atomic_store_n(&sh->lost, 1, __ATOMIC_RELAXED);
                return NULL;
            }
            sched_yield();
        }
    }
    return NULL;
}

/* Sleeps with hv_agent_wait() or the arm/poll/disarm protocol, chosen at random. Returns 0 when
 * woken (or a message slipped in), -1 when the bounded wait ran out. */
static int rw_sleep(hv_agent *r, hv_rng *rng)
{
    if (hv_rng_below(rng, 2) == 0)
        return hv_agent_wait(r, WAIT_NS) == 0 ? 0 : -1;
    int rc = hv_agent_arm(r);
    if (rc == HV_EAGAIN)
        return 0;
    assert_int_equal(rc, 0);
    struct pollfd pfd = { .fd = hv_agent_eventfd(r), .events = POLLIN };
    int ready = poll(&pfd, 1, (int)(WAIT_NS / 1000000));
    hv_agent_disarm(r);
    return ready == 1 ? 0 : -1;
}

static void no_wake_up_is_lost_when_the_consumer_sleeps_at_random_points(void **state)
{
    fixture *f = *state;
    rw_shared sh = { 0 };
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.spin_iters = 0; /* sleep at once: every message races a consumer going to sleep */
    assert_int_equal(hv_agent_new(f->bus, &o, &sh.consumer), 0);
    assert_int_equal(hv_agent_subscribe(sh.consumer, "wake.*", NULL, NULL), 0);
    rw_pub_arg args[RW_PUBS];
    pthread_t t[RW_PUBS];
    for (int i = 0; i < RW_PUBS; i++) {
        assert_int_equal(hv_agent_new(f->bus, NULL, &sh.pub[i]), 0);
        sh.pub_id[i] = hv_agent_id(sh.pub[i]);
    }
    for (int i = 0; i < RW_PUBS; i++) {
        args[i] = (rw_pub_arg){ .sh = &sh, .idx = i };
        assert_int_equal(pthread_create(&t[i], NULL, rw_publisher, &args[i]), 0);
    }
    hv_rng rng;
    hv_rng_seed(&rng, 7);
    uint64_t got = 0;
    while (got < (uint64_t)RW_PUBS * RW_MSGS && !__atomic_load_n(&sh.lost, __ATOMIC_RELAXED)) {
        hv_bus_msg *m[8];
        int n = hv_agent_recv(sh.consumer, m, 8, 0);
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < RW_PUBS; i++)
                if (m[k]->sender == sh.pub_id[i])
                    __atomic_fetch_add(&sh.acked[i], 1, __ATOMIC_RELEASE);
        }
        hv_bus_msg_release_n(m, (size_t)n);
        got += (uint64_t)n;
        if (n > 0)
            continue;
        rw_spin(&rng, 400); /* go to sleep at a random point */
        if (rw_sleep(sh.consumer, &rng) != 0 && got < (uint64_t)RW_PUBS * RW_MSGS)
            __atomic_store_n(&sh.lost, 1, __ATOMIC_RELAXED);
    }
    for (int i = 0; i < RW_PUBS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(sh.lost, 0);
    assert_int_equal(got, (uint64_t)RW_PUBS * RW_MSGS);
}

typedef struct space_arg {
    hv_agent *a;
    uint64_t got;
    int in_order;
} space_arg;

static void *slow_random_drain(void *p)
{
    space_arg *d = p;
    hv_rng rng;
    hv_rng_seed(&rng, 11);
    d->in_order = 1;
    while (d->got < RW_MSGS) {
        if (hv_agent_wait(d->a, WAIT_NS) != 0)
            break;
        rw_spin(&rng, 2000); /* free space at a random point of the publisher's wait */
        hv_bus_msg *m;
        if (hv_agent_recv(d->a, &m, 1, 0) != 1)
            continue;
        uint64_t v;
        memcpy(&v, m->data, sizeof(v));
        d->in_order &= v == d->got;
        d->got++;
        hv_bus_msg_release(m);
    }
    return NULL;
}

static void blocked_publisher_never_misses_freed_space(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.inbox_capacity = 2;
    o.backpressure = HV_BP_BLOCK;
    o.block_timeout_ns = WAIT_NS;
    o.spin_iters = 0;
    hv_agent *r;
    assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
    space_arg d = { .a = r };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_random_drain, &d), 0);
    for (uint64_t i = 0; i < RW_MSGS; i++) {
        hv_send m = { .data = &i, .len = sizeof(i) };
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 0), 0);
    }
    pthread_join(t, NULL);
    assert_int_equal(d.got, RW_MSGS);
    assert_true(d.in_order);
    hv_agent_stats s;
    hv_agent_stats_get(r, &s);
    assert_int_equal(s.block_timeouts, 0);
    assert_int_equal(s.rejected, 0);
}

#define MP_THREADS 4
#define MP_MSGS    20000

typedef struct mp_arg {
    hv_agent *from;
    uint32_t to;
} mp_arg;

static void *mp_producer(void *p)
{
    mp_arg *a = p;
    for (uint32_t i = 1; i <= MP_MSGS; i++) {
        hv_send m = { .data = &i, .len = sizeof(i) };
        while (hv_bus_send(a->from, a->to, &m, 0) != 0)
            sched_yield();
    }
    return NULL;
}

static void many_producers_to_one_inbox_lose_nothing_and_keep_order(void **state)
{
    (void)state;
    hv_bus *b = test_bus(1024, 0);
    hv_agent_opts o = test_agent_opts(64);
    o.backpressure = HV_BP_BLOCK;
    o.block_timeout_ns = WAIT_NS;
    hv_agent *dst = test_agent(b, &o);
    hv_agent *src[MP_THREADS];
    mp_arg args[MP_THREADS];
    pthread_t t[MP_THREADS];
    for (int i = 0; i < MP_THREADS; i++) {
        assert_int_equal(hv_agent_new(b, NULL, &src[i]), 0);
        args[i].from = src[i];
        args[i].to = hv_agent_id(dst);
    }
    for (int i = 0; i < MP_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mp_producer, &args[i]), 0);
    uint32_t last[MP_THREADS + 2] = { 0 };
    uint64_t total = 0;
    while (total < (uint64_t)MP_THREADS * MP_MSGS) {
        assert_int_equal(hv_agent_wait(dst, WAIT_NS), 0);
        hv_bus_msg *m[32];
        int n = hv_agent_recv(dst, m, 32, 0);
        for (int i = 0; i < n; i++) {
            uint32_t seq;
            memcpy(&seq, m[i]->data, sizeof(seq));
            uint32_t s = m[i]->sender;
            assert_true(s >= 1 && s <= MP_THREADS + 1);
            assert_int_equal(seq, last[s] + 1);
            last[s] = seq;
            hv_bus_msg_release(m[i]);
        }
        total += (uint64_t)n;
    }
    for (int i = 0; i < MP_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < MP_THREADS; i++)
        assert_int_equal(last[hv_agent_id(src[i])], MP_MSGS);
    hv_agent_stats s;
    hv_agent_stats_get(dst, &s);
    assert_int_equal(s.received, (uint64_t)MP_THREADS * MP_MSGS);
    assert_int_equal(s.dropped_oldest + s.rejected, 0);
    hv_bus_free(b);
}

#define DROP_THREADS 3
#define DROP_MSGS    20000

typedef struct drop_arg {
    hv_agent *from;
    uint32_t to;
    uint64_t key; /* coalescing key, 0 = none */
    uint32_t *finished;
} drop_arg;

static void *drop_producer(void *p)
{
    drop_arg *a = p;
    for (uint32_t i = 1; i <= DROP_MSGS; i++) {
        hv_send m = { .data = &i, .len = sizeof(i), .coalesce_key = a->key };
        while (hv_bus_send(a->from, a->to, &m, 0) == HV_EAGAIN)
            sched_yield(); /* pool empty: the consumer or the DLQ will free some */
    }
    __atomic_fetch_add(a->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Several producers overflow a tiny drop-oldest inbox (or coalesce into it) while the owner
 * drains it: every message is either received once, in per-producer order, or accounted for
 * as dropped or coalesced. */
static void overload_accounts_for_every_message(int coalesce)
{
    hv_bus *b = test_bus(512, 64);
    hv_agent_opts o = test_agent_opts(8);
    hv_agent *dst = test_agent(b, &o);
    hv_agent *src[DROP_THREADS];
    drop_arg args[DROP_THREADS];
    pthread_t t[DROP_THREADS];
    uint32_t finished = 0;
    for (int i = 0; i < DROP_THREADS; i++) {
        assert_int_equal(hv_agent_new(b, NULL, &src[i]), 0);
        args[i] = (drop_arg){ src[i], hv_agent_id(dst), coalesce ? (uint64_t)i + 1 : 0, &finished };
    }
    for (int i = 0; i < DROP_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, drop_producer, &args[i]), 0);
    uint32_t last[DROP_THREADS + 2] = { 0 };
    uint64_t got = 0;
    for (int idle_after_finish = 0; idle_after_finish < 2;) {
        /* read `finished` before draining: an empty inbox after that read is final */
        int all = __atomic_load_n(&finished, __ATOMIC_ACQUIRE) == DROP_THREADS;
        hv_bus_msg *m[16];
        int n = hv_agent_recv(dst, m, 16, 0);
        for (int i = 0; i < n; i++) {
            uint32_t seq, s = m[i]->sender;
            memcpy(&seq, m[i]->data, sizeof(seq));
            assert_true(seq > last[s]); /* no duplicate, order kept */
            last[s] = seq;
        }
        hv_bus_msg_release_n(m, (size_t)n);
        got += (uint64_t)n;
        hv_dead_letter d;
        while (hv_bus_dlq_pop(b, &d) == 0)
            hv_bus_msg_release(d.msg);
        if (n == 0 && all)
            idle_after_finish++;
        else if (n == 0)
            sched_yield();
    }
    for (int i = 0; i < DROP_THREADS; i++)
        pthread_join(t[i], NULL);
    hv_agent_stats s;
    hv_agent_stats_get(dst, &s);
    assert_int_equal(got + s.dropped_oldest + s.coalesced + s.rejected,
                     (uint64_t)DROP_THREADS * DROP_MSGS);
    assert_int_equal(s.received, got);
    hv_bus_free(b);
}

static void drop_oldest_under_concurrent_overload_loses_nothing_silently(void **state)
{
    (void)state;
    overload_accounts_for_every_message(0);
}

static void coalescing_under_concurrent_overload_loses_nothing_silently(void **state)
{
    (void)state;
    overload_accounts_for_every_message(1);
}

static uint64_t alert_calls;

static void on_alert(void *ud, double q, uint64_t v, uint64_t thr)
{
    (void)ud;
    (void)q;
    assert_true(v > thr);
    alert_calls++;
}

static void latency_quantiles_and_alerts(void **state)
{
    (void)state;
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.alert_cb = on_alert;
    hv_bus *b;
    assert_int_equal(hv_bus_new(&bo, &b), 0);
    hv_agent *s, *r;
    assert_int_equal(hv_agent_new(b, NULL, &s), 0);
    assert_int_equal(hv_agent_new(b, NULL, &r), 0);
    hv_send m = text(NULL, "l");
    for (uint64_t i = 0; i < 100; i++) {
        assert_int_equal(hv_bus_send(s, hv_agent_id(r), &m, 1000), 0);
        /* 99 messages take 1 us, the last one 10 ms */
        hv_bus_msg *x = recv1(r, i == 99 ? 1000 + 10000000 : 2000);
        hv_bus_msg_release(x);
    }
    hv_latency l;
    hv_bus_latency_get(b, &l);
    assert_int_equal(l.count, 100);
    assert_int_equal(l.p50_ns, 1000);
    assert_int_equal(l.p95_ns, 1000);
    assert_true(l.max_ns >= 9990000 && l.max_ns <= 10000000);
    assert_int_equal(hv_bus_check_alerts(b), 0); /* p99 is still 1 us */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(hv_bus_send(s, hv_agent_id(r), &m, 1000), 0);
        hv_bus_msg_release(recv1(r, 20000000));
    }
    alert_calls = 0;
    assert_int_equal(hv_bus_check_alerts(b), 2);
    assert_int_equal(alert_calls, 2);
    hv_bus_stats bs;
    hv_bus_stats_get(b, &bs);
    assert_int_equal(bs.alerts, 2);
    hv_bus_latency_reset(b);
    hv_bus_latency_get(b, &l);
    assert_int_equal(l.count, 0);
    hv_bus_free(b);
}

static void a_batch_receive_records_every_latency_like_single_records(void **state)
{
    (void)state;
    hv_bus *b;
    assert_int_equal(hv_bus_new(NULL, &b), 0);
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.latency_hist = 1;
    hv_agent *s[22], *r;
    assert_int_equal(hv_agent_new(b, &o, &r), 0);
    /* runs of equal and different buckets, out of order, and one beyond the 60 s range; one
     * sender per message, since each sender's clock only moves forward */
    static const uint64_t lat[] = { 1000,  1000, 50000,   1000,       2000000, 50000,
                                    50000, 1000, 1000,    7000000,    1000,    2000000,
                                    50000, 1000, 1000,    50000,      1000,    2000000,
                                    50000, 1000, 1000001, 61000000000 };
    const size_t n = sizeof(lat) / sizeof(lat[0]);
    const uint64_t now = 100ull * 1000 * 1000 * 1000;
    hv_hist ref_bus, ref_own;
    assert_int_equal(hv_hist_init(&ref_bus, 60ull * 1000 * 1000 * 1000, 10), 0);
    assert_int_equal(hv_hist_init(&ref_own, 60ull * 1000 * 1000 * 1000, 7), 0);
    assert_int_equal(n, sizeof(s) / sizeof(s[0]));
    for (size_t i = 0; i < n; i++) {
        hv_send m = text(NULL, "b");
        assert_int_equal(hv_agent_new(b, NULL, &s[i]), 0);
        assert_int_equal(hv_bus_send(s[i], hv_agent_id(r), &m, now - lat[i]), 0);
        hv_hist_record(&ref_bus, lat[i]);
        hv_hist_record(&ref_own, lat[i]);
    }
    hv_bus_msg *x[32];
    assert_int_equal(hv_agent_recv(r, x, 32, now), (int)n);
    hv_bus_msg_release_n(x, n);
    hv_latency l, own;
    hv_bus_latency_get(b, &l);
    assert_int_equal(hv_agent_latency_get(r, &own), 0);
    const hv_hist *ref[2] = { &ref_bus, &ref_own };
    const hv_latency *got[2] = { &l, &own };
    for (int k = 0; k < 2; k++) {
        assert_int_equal(got[k]->count, n);
        assert_int_equal(got[k]->p50_ns, hv_hist_quantile(ref[k], 0.50));
        assert_int_equal(got[k]->p95_ns, hv_hist_quantile(ref[k], 0.95));
        assert_int_equal(got[k]->p99_ns, hv_hist_quantile(ref[k], 0.99));
        assert_int_equal(got[k]->p999_ns, hv_hist_quantile(ref[k], 0.999));
        assert_int_equal(got[k]->max_ns, ref[k]->max);
    }
    hv_hist_fini(&ref_bus);
    hv_hist_fini(&ref_own);
    hv_bus_free(b);
}

static void per_agent_latency_is_kept_when_asked_for(void **state)
{
    fixture *f = *state;
    hv_latency l;
    assert_int_equal(hv_agent_latency_get(f->a[1], &l), HV_ENOTSUP);
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.latency_hist = 1;
    hv_agent *r;
    assert_int_equal(hv_agent_new(f->bus, &o, &r), 0);
    hv_send m = text(NULL, "t");
    for (uint64_t i = 1; i <= 100; i++) {
        assert_int_equal(hv_bus_send(f->a[0], hv_agent_id(r), &m, 1000), 0);
        hv_bus_msg_release(recv1(r, 1000 + i * 10));
    }
    assert_int_equal(hv_agent_latency_get(r, &l), 0);
    assert_int_equal(l.count, 100);
    assert_int_equal(l.max_ns, 1000);
    assert_true(l.p50_ns >= 495 && l.p50_ns <= 505); /* 1% precision */
}

static void empty_message_pool_is_an_error_not_a_loss(void **state)
{
    (void)state;
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.msg_pool = 4;
    hv_bus *b;
    assert_int_equal(hv_bus_new(&bo, &b), 0);
    hv_agent *s, *r;
    assert_int_equal(hv_agent_new(b, NULL, &s), 0);
    assert_int_equal(hv_agent_new(b, NULL, &r), 0);
    hv_send m = text(NULL, "x");
    for (int i = 0; i < 4; i++)
        assert_int_equal(hv_bus_send(s, hv_agent_id(r), &m, 0), 0);
    assert_int_equal(hv_bus_send(s, hv_agent_id(r), &m, 0), HV_EAGAIN);
    hv_bus_stats bs;
    hv_bus_stats_get(b, &bs);
    assert_int_equal(bs.pool_empty, 1);
    assert_int_equal(bs.msgs_in_use, 4);
    hv_agent_stats as;
    hv_agent_stats_get(s, &as);
    assert_int_equal(as.errors, 1);
    hv_bus_free(b);
}

static void dead_letter_queue_is_bounded_and_counts_its_drops(void **state)
{
    (void)state;
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.dlq_capacity = 2;
    hv_bus *b;
    assert_int_equal(hv_bus_new(&bo, &b), 0);
    hv_agent *s, *r;
    assert_int_equal(hv_agent_new(b, NULL, &s), 0);
    assert_int_equal(hv_agent_new(b, NULL, &r), 0);
    hv_send m = text(NULL, "x");
    m.ttl_ns = 1;
    for (int i = 0; i < 3; i++)
        assert_int_equal(hv_bus_send(s, hv_agent_id(r), &m, 0), 0);
    expect_empty(r, 10);
    hv_bus_stats bs;
    hv_bus_stats_get(b, &bs);
    assert_int_equal(bs.dead_letters, 3);
    assert_int_equal(bs.dlq_dropped, 1);
    assert_int_equal(bs.dlq_depth, 2);
    assert_int_equal(bs.msgs_in_use, 2);
    hv_bus_free(b); /* frees the queued dead letters too (ASan checks) */
}

static void options_are_validated(void **state)
{
    (void)state;
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.msg_pool = 100;
    hv_bus *b;
    assert_int_equal(hv_bus_new(&bo, &b), HV_EINVAL);
    hv_bus_opts_default(&bo);
    bo.size = 3;
    assert_int_equal(hv_bus_new(&bo, &b), HV_EINVAL);
    hv_bus_opts_default(&bo);
    bo.max_agents = 1;
    assert_int_equal(hv_bus_new(&bo, &b), 0);
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.inbox_capacity = 3;
    hv_agent *a;
    assert_int_equal(hv_agent_new(b, &ao, &a), HV_EINVAL);
    assert_int_equal(hv_agent_new(b, NULL, &a), 0);
    hv_agent *a2;
    assert_int_equal(hv_agent_new(b, NULL, &a2), HV_EFULL);
    hv_agent_free(a);
    assert_int_equal(hv_agent_new(b, NULL, &a2), 0);
    assert_string_equal(hv_agent_name(a2), "agent-1");
    hv_bus_free(b);
}

#define CHURN_ROUNDS 300

static void *churn_subscriber(void *p)
{
    hv_agent *a = p;
    for (int i = 0; i < CHURN_ROUNDS; i++) {
        uint32_t id;
        if (hv_agent_subscribe(a, "churn.*", NULL, &id) == 0)
            hv_agent_unsubscribe(a, id);
    }
    return NULL;
}

static void subscriptions_change_safely_while_publishing(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->a[2], "churn.>", NULL, NULL), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, churn_subscriber, f->a[1]), 0);
    hv_send m = text("churn.x", "c");
    for (int i = 0; i < 3000; i++) {
        int n = hv_bus_publish(f->a[0], &m, 0, NULL);
        assert_true(n >= 1 && n <= 2);
        hv_bus_msg *x[4];
        int k = hv_agent_recv(f->a[2], x, 4, 0);
        for (int j = 0; j < k; j++)
            hv_bus_msg_release(x[j]);
        k = hv_agent_recv(f->a[1], x, 4, 0);
        for (int j = 0; j < k; j++)
            hv_bus_msg_release(x[j]);
    }
    pthread_join(t, NULL);
}

/* Receives at t_ns[0], then at t_ns[1] (in a forked child: see hv_test_aborts). */
static void recv_at_two_times(void *arg)
{
    const uint64_t *t_ns = arg;
    hv_bus *b = NULL;
    hv_agent *a = NULL;
    hv_bus_msg *m;
    if (hv_bus_new(NULL, &b) != 0 || hv_agent_new(b, NULL, &a) != 0)
        exit(3);
    (void)hv_agent_recv(a, &m, 1, t_ns[0]);
    (void)hv_agent_recv(a, &m, 1, t_ns[1]);
    hv_bus_free(b);
}

static void an_agents_time_may_stand_still_but_never_run_backwards(void **state)
{
    (void)state;
    const uint64_t still[2] = { 100, 100 }, back[2] = { 100, 99 };
    assert_int_equal(hv_test_aborts(recv_at_two_times, (void *)still), 0);
    assert_int_equal(hv_test_aborts(recv_at_two_times, (void *)back), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(publish_reaches_every_matching_subscription),
        cmocka_unit_test(an_agents_time_may_stand_still_but_never_run_backwards),
        T(unmatched_publish_is_counted_as_unrouted),
        T(invalid_subjects_and_patterns_are_rejected),
        T(unsubscribe_stops_delivery),
        T(direct_send_reaches_one_agent_by_id),
        T(send_n_delivers_a_batch_in_order_and_stops_at_a_refusal),
        T(send_n_keeps_priorities_and_coalescing_of_each_message),
        T(broadcast_shares_one_message_among_all_other_agents),
        T(release_n_recycles_a_batch_and_respects_shared_references),
        T(large_payload_is_one_pooled_buffer_for_every_recipient),
        T(request_gets_the_reply_with_its_correlation_id),
        T(request_without_reply_times_out_at_its_deadline),
        T(queue_group_round_robin_gives_each_message_to_one_member),
        T(queue_group_least_loaded_picks_the_emptier_inbox),
        T(higher_priorities_are_served_first),
        T(starvation_guard_serves_low_after_k_critical),
        T(coalescing_key_replaces_the_undelivered_message),
        T(a_critical_update_coalesced_over_a_low_one_is_served_before_a_normal_message),
        T(a_less_urgent_update_keeps_the_pending_messages_place),
        T(a_key_whose_stale_marker_is_still_queued_queues_afresh),
        T(an_update_that_finds_its_lane_full_leaves_the_pending_message_in_place),
        T(ttl_expiry_is_decided_at_receive_time),
        T(huge_ttl_and_timeout_saturate_instead_of_wrapping),
        T(drop_oldest_evicts_and_counts),
        T(reject_new_refuses_and_counts),
        T(block_publisher_times_out_and_counts),
        T(blocked_publisher_resumes_when_the_consumer_drains),
        T(blocked_subscriber_wakes_when_a_message_arrives),
        T(every_blocked_subscriber_of_a_fanout_wakes),
        T(spin_and_yield_waiters_see_messages_too),
        T(eventfd_becomes_readable_for_an_armed_agent),
        T(no_wake_up_is_lost_when_the_consumer_sleeps_at_random_points),
        T(blocked_publisher_never_misses_freed_space),
        T(many_producers_to_one_inbox_lose_nothing_and_keep_order),
        T(drop_oldest_under_concurrent_overload_loses_nothing_silently),
        T(coalescing_under_concurrent_overload_loses_nothing_silently),
        T(latency_quantiles_and_alerts),
        T(per_agent_latency_is_kept_when_asked_for),
        T(a_batch_receive_records_every_latency_like_single_records),
        T(empty_message_pool_is_an_error_not_a_loss),
        T(dead_letter_queue_is_bounded_and_counts_its_drops),
        T(options_are_validated),
        T(subscriptions_change_safely_while_publishing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

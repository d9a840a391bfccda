/* Tests of subscription filters and of redelivery with backoff (hv_agent_retry). */
#include "hv_test.h"

#include <pthread.h>

#include <hivewire/bus.h>

#include "bus/bus_util.h"

#define MS 1000000ull

typedef struct fixture {
    hv_bus *bus;
    hv_agent *pub, *sub, *other;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    hv_bus_opts o;
    hv_bus_opts_default(&o);
    o.msg_pool = 64;
    o.buf_pool = 4;
    o.buf_bytes = 1024;
    o.dlq_capacity = 16;
    if (f == NULL || hv_bus_new(&o, &f->bus) != 0)
        return -1;
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.retry_capacity = 4;
    ao.retry_max = 3;
    ao.retry_base_ns = 1 * MS;
    ao.retry_max_delay_ns = 3 * MS;
    f->pub = test_agent(f->bus, NULL);
    f->sub = test_agent(f->bus, &ao);
    f->other = test_agent(f->bus, NULL);
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

static int publish(fixture *f, hv_agent *from, uint32_t type, const char *payload)
{
    hv_send m = { .subject = "md.spx.bar", .type = type, .data = payload, .len = strlen(payload) };
    return hv_bus_publish(from, &m, 0, NULL);
}

static int recv_n(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now)
{
    return hv_agent_recv(a, out, max, now);
}

/* Subscribes f->sub to md.>, publishes types 1..n from f->pub and receives all n into m. */
static void receive_types(fixture *f, hv_bus_msg **m, uint32_t n)
{
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", NULL, NULL), 0);
    for (uint32_t t = 1; t <= n; t++)
        assert_int_equal(publish(f, f->pub, t, "x"), 1);
    assert_int_equal(recv_n(f->sub, m, n, 0), n);
}

static hv_agent_stats stats(hv_agent *a)
{
    hv_agent_stats s;
    hv_agent_stats_get(a, &s);
    return s;
}

/* ---- Filters ------------------------------------------------------------------------------ */

static void type_range_filter_delivers_only_those_types(void **state)
{
    fixture *f = *state;
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.type_lo = 10;
    so.type_hi = 19;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), 0);
    hv_send m = { .subject = "md.spx.bar", .data = "x", .len = 1 };
    uint32_t types[] = { 9, 10, 15, 19, 20 };
    for (size_t i = 0; i < 5; i++) {
        m.type = types[i];
        hv_send_result r;
        int want = types[i] >= 10 && types[i] <= 19;
        assert_int_equal(hv_bus_publish(f->pub, &m, 0, &r), want);
        assert_int_equal(r.matched, 1);
        assert_int_equal(r.filtered, !want);
    }
    hv_bus_msg *got[8];
    assert_int_equal(recv_n(f->sub, got, 8, 0), 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(got[i]->type, types[i + 1]);
        hv_bus_msg_release(got[i]);
    }
    assert_int_equal(stats(f->sub).filtered, 2);
    assert_int_equal(stats(f->pub).unrouted, 0);
    expect_all_msgs_returned(f->bus); /* refused messages went back to the pool */
}

static void sender_filter_ignores_other_publishers(void **state)
{
    fixture *f = *state;
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.sender = hv_agent_id(f->other);
    assert_int_equal(hv_agent_subscribe(f->sub, "md.*.bar", &so, NULL), 0);
    assert_int_equal(publish(f, f->pub, 1, "from pub"), 0);
    assert_int_equal(publish(f, f->other, 1, "from other"), 1);
    hv_bus_msg *m;
    assert_int_equal(recv_n(f->sub, &m, 1, 0), 1);
    assert_int_equal(m->sender, hv_agent_id(f->other));
    hv_bus_msg_release(m);
    assert_int_equal(stats(f->sub).filtered, 1);
}

typedef struct seen {
    int calls;
    uint32_t last_len;
} seen;

static int only_big(const hv_bus_msg *m, void *ctx)
{
    seen *s = ctx;
    s->calls++;
    s->last_len = m->len;
    return m->len >= 4;
}

static void callback_filter_sees_the_message_and_decides(void **state)
{
    fixture *f = *state;
    seen s = { 0, 0 };
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.type_lo = 1;
    so.type_hi = 1; /* checked before the callback */
    so.filter = only_big;
    so.filter_ctx = &s;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->other, "md.>", NULL, NULL), 0);
    assert_int_equal(publish(f, f->pub, 1, "abc"), 1);    /* other only */
    assert_int_equal(publish(f, f->pub, 1, "abcd"), 2);   /* both */
    assert_int_equal(publish(f, f->pub, 2, "abcdef"), 1); /* type refused: no callback */
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.last_len, 4);
    hv_bus_msg *m[4];
    assert_int_equal(recv_n(f->sub, m, 4, 0), 1);
    assert_int_equal(m[0]->len, 4);
    hv_bus_msg_release(m[0]);
    assert_int_equal(recv_n(f->other, m, 4, 0), 3);
    hv_bus_msg_release_n(m, 3);
    assert_int_equal(stats(f->sub).filtered, 2);
}

static void filters_are_validated_and_not_allowed_in_groups(void **state)
{
    fixture *f = *state;
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.type_lo = 5;
    so.type_hi = 4;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), HV_EINVAL);
    so.type_hi = 0; /* a lower bound alone would be ignored */
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), HV_EINVAL);
    hv_sub_opts_default(&so);
    so.group = "workers";
    so.sender = 1;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), HV_EINVAL);
    so.sender = 0;
    so.filter = only_big;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), HV_EINVAL);
    so.filter = NULL;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", &so, NULL), 0);
}

/* Many publishers through a filtered and an unfiltered subscription at once: every message is
 * delivered or counted as filtered, in order per publisher, and every reference comes back. */
#define FP_THREADS 3
#define FP_MSGS    20000

typedef struct fp_arg {
    hv_agent *from;
} fp_arg;

static void *fp_publisher(void *p)
{
    fp_arg *a = p;
    for (uint32_t i = 1; i <= FP_MSGS; i++) {
        hv_send m = { .subject = "md.spx.bar", .type = i % 10, .data = &i, .len = sizeof(i) };
        hv_send_result r;
        int rc = hv_bus_publish(a->from, &m, 0, &r);
        assert_true(rc >= 1);
        assert_int_equal(r.matched, 2);
        assert_int_equal(r.delivered + r.filtered, 2);
    }
    return NULL;
}

static int even_seq(const hv_bus_msg *m, void *ctx)
{
    (void)ctx;
    uint32_t seq;
    memcpy(&seq, m->data, sizeof(seq));
    return seq % 2 == 0;
}

/* Drains a until it has counted `want` messages, checking that each sender's sequence numbers
 * rise (and, for the filtered subscriber, that only what the filters accept arrived). */
static void drain_in_order(hv_agent *a, uint64_t want, uint32_t *last, int filtered)
{
    uint64_t got = 0;
    while (got < want) {
        assert_int_equal(hv_agent_wait(a, 10ull * 1000 * 1000 * 1000), 0);
        hv_bus_msg *m[32];
        int n = hv_agent_recv(a, m, 32, 0);
        for (int i = 0; i < n; i++) {
            uint32_t seq;
            memcpy(&seq, m[i]->data, sizeof(seq));
            assert_true(seq > last[m[i]->sender]);
            if (filtered)
                assert_true(seq % 2 == 0 && m[i]->type <= 4);
            last[m[i]->sender] = seq;
            hv_bus_msg_release(m[i]);
        }
        got += (uint64_t)n;
    }
}

typedef struct fp_drain {
    hv_agent *a;
    uint64_t want;
    int filtered;
} fp_drain;

static void *fp_drainer(void *p)
{
    fp_drain *d = p;
    uint32_t last[16] = { 0 };
    drain_in_order(d->a, d->want, last, d->filtered);
    return NULL;
}

static void filters_under_concurrent_publishers_account_for_every_message(void **state)
{
    (void)state;
    hv_bus *b = test_bus(1024, 0);
    hv_agent_opts ao = test_agent_opts(64);
    hv_agent *all = test_agent(b, &ao), *some = test_agent(b, &ao);
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.backpressure = HV_BP_BLOCK;
    so.block_timeout_ns = 10ull * 1000 * 1000 * 1000;
    assert_int_equal(hv_agent_subscribe(all, "md.>", &so, NULL), 0);
    so.type_lo = 0; /* with type_hi 4: types 0..4 */
    so.type_hi = 4;
    so.filter = even_seq;
    assert_int_equal(hv_agent_subscribe(some, "md.*.bar", &so, NULL), 0);
    fp_arg args[FP_THREADS];
    pthread_t t[FP_THREADS], d;
    for (int i = 0; i < FP_THREADS; i++)
        args[i].from = test_agent(b, NULL);
    /* seq i has type i % 10: types 0..4 with an even seq are i % 10 in {0, 2, 4}: 3 in 10 */
    fp_drain dd = { some, (uint64_t)FP_THREADS * FP_MSGS / 10 * 3, 1 };
    assert_int_equal(pthread_create(&d, NULL, fp_drainer, &dd), 0);
    for (int i = 0; i < FP_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fp_publisher, &args[i]), 0);
    uint32_t last[16] = { 0 };
    drain_in_order(all, (uint64_t)FP_THREADS * FP_MSGS, last, 0);
    for (int i = 0; i < FP_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_join(d, NULL);
    hv_agent_stats sa = stats(all), ss = stats(some);
    assert_int_equal(sa.received, (uint64_t)FP_THREADS * FP_MSGS);
    assert_int_equal(ss.received, (uint64_t)FP_THREADS * FP_MSGS / 10 * 3);
    assert_int_equal(ss.filtered, (uint64_t)FP_THREADS * FP_MSGS / 10 * 7);
    assert_int_equal(sa.rejected + ss.rejected + sa.dropped_oldest + ss.dropped_oldest, 0);
    expect_all_msgs_returned(b);
    hv_bus_free(b);
}

/* ---- Redelivery ----------------------------------------------------------------------------- */

static void retried_message_comes_back_after_a_doubling_delay(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", NULL, NULL), 0);
    assert_int_equal(publish(f, f->pub, 7, "order"), 1);
    hv_bus_msg *m;
    uint64_t now = 0;
    assert_int_equal(recv_n(f->sub, &m, 1, now), 1);
    assert_int_equal(m->attempts, 0);
    /* delays: 1 ms, 2 ms, then capped at 3 ms */
    uint64_t delays[] = { 1 * MS, 2 * MS, 3 * MS };
    for (int k = 0; k < 3; k++) {
        assert_int_equal(hv_agent_retry(f->sub, m, now), 0);
        assert_int_equal(hv_agent_next_deadline(f->sub), now + delays[k]);
        assert_int_equal(recv_n(f->sub, &m, 1, now + delays[k] - 1), 0);
        now += delays[k];
        assert_int_equal(recv_n(f->sub, &m, 1, now), 1);
        assert_int_equal(m->attempts, k + 1);
        assert_int_equal(m->type, 7);
        assert_memory_equal(m->data, "order", 5);
    }
    assert_int_equal(hv_agent_next_deadline(f->sub), UINT64_MAX);
    /* the fourth hand-back exceeds retry_max = 3 */
    assert_int_equal(hv_agent_retry(f->sub, m, now), 1);
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_RETRIES_EXHAUSTED);
    assert_int_equal(d.recipient, hv_agent_id(f->sub));
    assert_int_equal(d.msg->attempts, 3);
    hv_bus_msg_release(d.msg);
    hv_agent_stats s = stats(f->sub);
    assert_int_equal(s.retried, 4);
    assert_int_equal(s.retries_exhausted, 1);
    assert_int_equal(s.received, 4);
    expect_all_msgs_returned(f->bus);
}

static void redeliveries_come_first_in_due_order(void **state)
{
    fixture *f = *state;
    hv_bus_msg *m[4];
    receive_types(f, m, 3);
    /* hand back type 2, then type 1, both at t = 0: both due at 1 ms */
    assert_int_equal(hv_agent_retry(f->sub, m[1], 0), 0);
    hv_bus_msg_release(m[2]);
    assert_int_equal(hv_agent_retry(f->sub, m[0], 0), 0);
    assert_int_equal(recv_n(f->sub, m, 1, 1 * MS), 1);
    assert_int_equal(m[0]->type, 2); /* handed back first, due first (tie broken by order) */
    hv_bus_msg_release(m[0]);
    assert_int_equal(recv_n(f->sub, m, 1, 1 * MS), 1);
    assert_int_equal(m[0]->type, 1);
    assert_int_equal(hv_agent_retry(f->sub, m[0], 1 * MS), 0); /* second time: 2 ms, due 3 ms */
    assert_int_equal(publish(f, f->pub, 9, "fresh"), 1);
    assert_int_equal(recv_n(f->sub, m, 4, 2 * MS), 1); /* the lane; m[0] is due at 3 ms */
    assert_int_equal(m[0]->type, 9);
    hv_bus_msg_release(m[0]);
    assert_int_equal(publish(f, f->pub, 10, "fresh"), 1);
    assert_int_equal(recv_n(f->sub, m, 4, 3 * MS), 2);
    assert_int_equal(m[0]->type, 1); /* due redelivery ahead of the lane */
    assert_int_equal(m[0]->attempts, 2);
    assert_int_equal(m[1]->type, 10);
    hv_bus_msg_release_n(m, 2);
}

static void shared_message_is_copied_so_other_recipients_never_see_attempts(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", NULL, NULL), 0);
    assert_int_equal(hv_agent_subscribe(f->other, "md.>", NULL, NULL), 0);
    char big[600]; /* larger than the inline payload: one pooled buffer for both */
    memset(big, 'q', sizeof(big));
    hv_send s = { .subject = "md.spx.bar", .type = 3, .data = big, .len = sizeof(big) };
    assert_int_equal(hv_bus_publish(f->pub, &s, 0, NULL), 2);
    hv_bus_msg *mine, *theirs;
    assert_int_equal(recv_n(f->sub, &mine, 1, 0), 1);
    assert_int_equal(recv_n(f->other, &theirs, 1, 0), 1);
    assert_ptr_equal(mine, theirs);
    assert_int_equal(hv_agent_retry(f->sub, mine, 0), 0);
    assert_int_equal(theirs->attempts, 0);
    assert_int_equal(recv_n(f->sub, &mine, 1, 1 * MS), 1);
    assert_ptr_not_equal(mine, theirs);
    assert_int_equal(mine->attempts, 1);
    assert_ptr_equal(mine->data, theirs->data); /* the payload buffer is shared, not copied */
    assert_int_equal(mine->len, sizeof(big));
    hv_bus_msg_release(theirs);
    hv_bus_msg_release(mine);
    hv_bus_stats bs;
    hv_bus_stats_get(f->bus, &bs);
    assert_int_equal(bs.msgs_in_use, 0);
    assert_int_equal(bs.bufs_in_use, 0);
}

static void full_retry_queue_dead_letters_and_counts(void **state)
{
    fixture *f = *state;
    hv_bus_msg *m[5];
    receive_types(f, m, 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(hv_agent_retry(f->sub, m[i], 0), 0);
    assert_int_equal(hv_agent_retry(f->sub, m[4], 0), 1); /* retry_capacity = 4 */
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_RETRY_OVERFLOW);
    assert_int_equal(d.msg->type, 5);
    hv_bus_msg_release(d.msg);
    assert_int_equal(stats(f->sub).retry_overflow, 1);
    /* the four still come back; freeing the bus with redeliveries pending leaks nothing */
    assert_int_equal(recv_n(f->sub, m, 5, 1 * MS), 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(m[i]->type, (uint32_t)i + 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(hv_agent_retry(f->sub, m[i], 1 * MS), 0);
}

static void expired_redelivery_is_dead_lettered(void **state)
{
    fixture *f = *state;
    assert_int_equal(hv_agent_subscribe(f->sub, "md.>", NULL, NULL), 0);
    hv_send s = { .subject = "md.spx.bar", .type = 4, .data = "x", .len = 1, .ttl_ns = 1 * MS };
    assert_int_equal(hv_bus_publish(f->pub, &s, 0, NULL), 1);
    hv_bus_msg *m;
    assert_int_equal(recv_n(f->sub, &m, 1, 0), 1);
    assert_int_equal(hv_agent_retry(f->sub, m, 0), 0);
    assert_int_equal(recv_n(f->sub, &m, 1, 1 * MS), 0);
    hv_dead_letter d;
    assert_int_equal(hv_bus_dlq_pop(f->bus, &d), 0);
    assert_int_equal(d.reason, HV_DEAD_EXPIRED);
    hv_bus_msg_release(d.msg);
    assert_int_equal(stats(f->sub).expired, 1);
}

static void retry_options_are_validated(void **state)
{
    fixture *f = *state;
    hv_agent_opts o;
    hv_agent *a = NULL;
    hv_agent_opts_default(&o);
    o.retry_max = 256;
    assert_int_equal(hv_agent_new(f->bus, &o, &a), HV_EINVAL);
    hv_agent_opts_default(&o);
    o.retry_base_ns = 0;
    assert_int_equal(hv_agent_new(f->bus, &o, &a), HV_EINVAL);
    hv_agent_opts_default(&o);
    o.retry_max_delay_ns = o.retry_base_ns - 1;
    assert_int_equal(hv_agent_new(f->bus, &o, &a), HV_EINVAL);
    hv_agent_opts_default(&o);
    o.retry_capacity = 0; /* allowed: every hand-back is dead-lettered */
    assert_int_equal(hv_agent_new(f->bus, &o, &a), 0);
    assert_int_equal(hv_agent_subscribe(a, "md.>", NULL, NULL), 0);
    assert_int_equal(publish(f, f->pub, 1, "x"), 1);
    hv_bus_msg *m;
    assert_int_equal(recv_n(a, &m, 1, 0), 1);
    assert_int_equal(hv_agent_retry(a, m, 0), 1);
    assert_int_equal(hv_agent_retry(NULL, m, 0), HV_EINVAL);
    assert_int_equal(hv_agent_retry(a, NULL, 0), HV_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(type_range_filter_delivers_only_those_types),
        T(sender_filter_ignores_other_publishers),
        T(callback_filter_sees_the_message_and_decides),
        T(filters_are_validated_and_not_allowed_in_groups),
        cmocka_unit_test(filters_under_concurrent_publishers_account_for_every_message),
        T(retried_message_comes_back_after_a_doubling_delay),
        T(redeliveries_come_first_in_due_order),
        T(shared_message_is_copied_so_other_recipients_never_see_attempts),
        T(full_retry_queue_dead_letters_and_counts),
        T(expired_redelivery_is_dead_lettered),
        T(retry_options_are_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/market.h>

static hv_bar bar(int32_t day, double o, double h, double l, double c, double v)
{
    hv_bar b = {
        .day = day, .open = o, .high = h, .low = l, .close = c, .adjclose = c, .volume = v
    };
    return b;
}

static void as_fast_as_possible_emits_every_bar_at_once_in_order(void **state)
{
    (void)state;
    hv_bar bars[5];
    for (int i = 0; i < 5; i++)
        bars[i] = bar(i, 1, 1, 1, 1 + i, 10);
    hv_replay r;
    assert_int_equal(hv_replay_init(&r, bars, 5, NULL, 1000), 0);
    hv_replay_event ev;
    uint64_t next;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hv_replay_poll(&r, 1000, &ev, &next), 1);
        assert_int_equal(ev.bar_index, i);
        assert_int_equal(ev.seq, i);
        assert_true(ev.price == 1 + i && ev.last_in_bar && ev.bar == &bars[i]);
        assert_int_equal(ev.due_ns, 1000);
    }
    assert_int_equal(next, UINT64_MAX);
    assert_int_equal(hv_replay_poll(&r, 1000, &ev, &next), HV_ECLOSED);
    assert_int_equal(hv_replay_remaining(&r), 0);
    assert_int_equal(r.late, 0);
}

static void paced_feed_emits_nothing_before_the_due_time(void **state)
{
    (void)state;
    hv_bar bars[3] = { bar(0, 1, 1, 1, 1, 1), bar(1, 1, 1, 1, 2, 1), bar(2, 1, 1, 1, 3, 1) };
    /* speed 86,400: a one-day bar every second. */
    hv_replay_opts o = { .size = sizeof(o), .speed = 86400 };
    hv_replay r;
    const uint64_t t0 = 5000000000ull, sec = 1000000000ull;
    assert_int_equal(hv_replay_init(&r, bars, 3, &o, t0), 0);
    hv_replay_event ev;
    uint64_t next = 0;
    assert_int_equal(hv_replay_poll(&r, t0 - 1, &ev, &next), 0);
    assert_int_equal(next, t0);
    assert_int_equal(hv_replay_poll(&r, t0, &ev, &next), 1);
    assert_int_equal(next, t0 + sec);
    assert_int_equal(hv_replay_poll(&r, t0 + sec - 1, &ev, &next), 0);
    assert_int_equal(next, t0 + sec);
    assert_int_equal(hv_replay_poll(&r, t0 + sec, &ev, &next), 1);
    assert_int_equal(ev.due_ns, t0 + sec);
    assert_int_equal(ev.bar_index, 1);
    assert_int_equal(hv_replay_remaining(&r), 1);
}

static void a_late_caller_gets_overdue_events_back_to_back_and_counted(void **state)
{
    (void)state;
    hv_bar bars[10];
    for (int i = 0; i < 10; i++)
        bars[i] = bar(i, 1, 1, 1, 1, 1);
    hv_replay_opts o = { .size = sizeof(o), .speed = 1, .bar_ns = 100 };
    hv_replay r;
    assert_int_equal(hv_replay_init(&r, bars, 10, &o, 0), 0);
    hv_replay_event ev;
    uint64_t next;
    int got = 0;
    /* At t = 550 events 0..5 are due; event i is late when 550 - 100 i > 100. */
    while (hv_replay_poll(&r, 550, &ev, &next) == 1) {
        assert_int_equal(ev.due_ns, (uint64_t)got * 100);
        got++;
    }
    assert_int_equal(got, 6);
    assert_int_equal(next, 600);
    assert_int_equal(r.late, 5);
}

static void ticks_follow_open_low_high_close_on_a_rising_bar(void **state)
{
    (void)state;
    hv_bar bars[2] = { bar(0, 10, 14, 8, 12, 400), bar(1, 12, 13, 9, 10, 400) };
    hv_replay_opts o = { .size = sizeof(o), .ticks_per_bar = 4 };
    hv_replay r;
    assert_int_equal(hv_replay_init(&r, bars, 2, &o, 0), 0);
    double want[8] = { 10, 8, 14, 12, 12, 13, 9, 10 };
    hv_replay_event ev;
    for (int i = 0; i < 8; i++) {
        assert_int_equal(hv_replay_poll(&r, 0, &ev, NULL), 1);
        assert_true(ev.price == want[i]);
        assert_true(ev.volume == 100);
        assert_int_equal(ev.tick, i % 4);
        assert_int_equal(ev.last_in_bar, i % 4 == 3);
        assert_int_equal(ev.bar_index, i / 4);
    }
    assert_int_equal(hv_replay_poll(&r, 0, &ev, NULL), HV_ECLOSED);
}

static void interpolated_ticks_stay_inside_the_bar(void **state)
{
    (void)state;
    hv_bar b = bar(0, 10, 14, 8, 12, 1);
    hv_replay_opts o = { .size = sizeof(o), .ticks_per_bar = 7 };
    hv_replay r;
    assert_int_equal(hv_replay_init(&r, &b, 1, &o, 0), 0);
    hv_replay_event ev;
    int n = 0;
    while (hv_replay_poll(&r, 0, &ev, NULL) == 1) {
        assert_true(ev.price >= 8 && ev.price <= 14);
        if (n == 0)
            assert_true(ev.price == 10);
        n++;
    }
    assert_int_equal(n, 7);
    assert_true(ev.price == 12);
}

static void init_rejects_bad_options(void **state)
{
    (void)state;
    hv_bar b = bar(0, 1, 1, 1, 1, 1);
    hv_replay r;
    hv_replay_opts o = { .size = sizeof(o), .speed = -1 };
    assert_int_equal(hv_replay_init(&r, &b, 1, &o, 0), HV_EINVAL);
    o.speed = NAN;
    assert_int_equal(hv_replay_init(&r, &b, 1, &o, 0), HV_EINVAL);
    o.speed = 1;
    o.ticks_per_bar = HV_REPLAY_TICKS_MAX + 1;
    assert_int_equal(hv_replay_init(&r, &b, 1, &o, 0), HV_EINVAL);
    o.ticks_per_bar = 1;
    o.speed = 1e-30;
    assert_int_equal(hv_replay_init(&r, &b, 1, &o, 0), HV_ERANGE);
    hv_replay_opts small = { .size = 4 };
    assert_int_equal(hv_replay_init(&r, &b, 1, &small, 0), HV_EINVAL);
    assert_int_equal(hv_replay_init(&r, NULL, 1, NULL, 0), HV_EINVAL);
    assert_int_equal(hv_replay_init(&r, NULL, 0, NULL, 0), 0);
    assert_int_equal(hv_replay_poll(&r, 0, NULL, NULL), HV_ECLOSED);
}

static void due_times_saturate_instead_of_wrapping(void **state)
{
    (void)state;
    hv_bar b[3] = { bar(0, 1, 1, 1, 1, 1), bar(1, 1, 1, 1, 1, 1), bar(2, 1, 1, 1, 1, 1) };
    hv_replay_opts o = { .size = sizeof(o), .speed = 1e-6, .bar_ns = 1000000000000ull };
    hv_replay r;
    assert_int_equal(hv_replay_init(&r, b, 3, &o, UINT64_MAX - 10), 0);
    hv_replay_event ev;
    uint64_t next;
    assert_int_equal(hv_replay_poll(&r, UINT64_MAX - 10, &ev, &next), 1);
    assert_int_equal(next, UINT64_MAX - 1);
    assert_int_equal(hv_replay_poll(&r, UINT64_MAX - 2, &ev, &next), 0);
}

/* The simulated clock's capacity at its edges: the last bar of the largest series and the
 * margin after it fit in uint64_t; one bar more would not. */
static void sim_bars_max_is_exact_at_the_edge(void **state)
{
    (void)state;
    assert_int_equal(hv_sim_bars_max(HV_SIM_BAR_NS_DEFAULT), 213503);
    assert_int_equal(hv_sim_bars_max(3600000000000ull), 5124072);
    assert_true(hv_sim_bars_max(0) == UINT64_MAX);
    assert_true(hv_sim_bars_max(UINT64_MAX) == 1);
    const uint64_t bars_ns[] = { 1, 1000, HV_SIM_BAR_NS_DEFAULT, 3600000000000ull,
                                 999999999937ull };
    for (size_t i = 0; i < sizeof(bars_ns) / sizeof(bars_ns[0]); i++) {
        uint64_t b = bars_ns[i], n = hv_sim_bars_max(b);
        /* bar n - 1 is at (n - 1) b and the margin after it fits... */
        assert_true(n - 1 <= (UINT64_MAX - HV_SIM_TIME_MARGIN_NS) / b);
        assert_true((n - 1) * b <= UINT64_MAX - HV_SIM_TIME_MARGIN_NS);
        /* ...bar n would not. */
        assert_true(n > (UINT64_MAX - HV_SIM_TIME_MARGIN_NS) / b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(as_fast_as_possible_emits_every_bar_at_once_in_order),
        cmocka_unit_test(paced_feed_emits_nothing_before_the_due_time),
        cmocka_unit_test(a_late_caller_gets_overdue_events_back_to_back_and_counted),
        cmocka_unit_test(ticks_follow_open_low_high_close_on_a_rising_bar),
        cmocka_unit_test(interpolated_ticks_stay_inside_the_bar),
        cmocka_unit_test(init_rejects_bad_options),
        cmocka_unit_test(due_times_saturate_instead_of_wrapping),
        cmocka_unit_test(sim_bars_max_is_exact_at_the_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

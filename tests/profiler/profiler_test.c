#include "hv_test.h"

#include <string.h>

#include <hivewire/profiler.h>

typedef struct fake_clock {
    uint64_t now;
    uint64_t reads;
} fake_clock;

static uint64_t fake_now(void *ctx)
{
    fake_clock *c = ctx;
    c->reads++;
    return c->now;
}

static hv_profiler *fake_profiler(fake_clock *c, uint32_t depth_max)
{
    hv_profiler_opts cfg;
    hv_profiler_opts_default(&cfg);
    cfg.clock = fake_now;
    cfg.clock_ctx = c;
    if (depth_max)
        cfg.depth_max = depth_max;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(&cfg, &p), 0);
    assert_non_null(p);
    return p;
}

static hv_profiler_stage_stats stats(const hv_profiler *p, int id)
{
    hv_profiler_stage_stats s;
    assert_int_equal(hv_profiler_stage_stats_get(p, id, &s), 0);
    return s;
}

#define AT(t, call)                \
    do {                           \
        clk.now = (t);             \
        assert_int_equal(call, 0); \
    } while (0)

static void nested_stages_split_self_and_total_exactly(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int a = hv_profiler_stage(p, "coordination", HV_STAGE_TIMED);
    int b = hv_profiler_stage(p, "consensus", HV_STAGE_TIMED);
    int c = hv_profiler_stage(p, "order_execution", HV_STAGE_TIMED);
    assert_true(a > 0 && b > 0 && c > 0);
    AT(0, hv_profiler_cycle_begin(p));
    AT(10, hv_profiler_begin(p, a));
    AT(15, hv_profiler_begin(p, b));
    AT(45, hv_profiler_end(p, b));
    AT(60, hv_profiler_end(p, a));
    AT(70, hv_profiler_begin(p, c));
    AT(100, hv_profiler_end(p, c));
    AT(110, hv_profiler_cycle_end(p));

    hv_profiler_stage_stats sa = stats(p, a), sb = stats(p, b), sc = stats(p, c);
    assert_int_equal(sa.total_ns, 50);
    assert_int_equal(sa.self_ns, 20); /* 50 minus the 30 spent in consensus */
    assert_int_equal(sb.total_ns, 30);
    assert_int_equal(sb.self_ns, 30);
    assert_int_equal(sc.total_ns, 30);
    assert_int_equal(sc.self_ns, 30);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    assert_int_equal(sum.cycles, 1);
    assert_int_equal(sum.cycle_ns, 110);
    assert_int_equal(sum.unattributed_ns, 30);
    /* self times partition the cycle: nothing counted twice */
    assert_int_equal(sa.self_ns + sb.self_ns + sc.self_ns + sum.unattributed_ns, sum.cycle_ns);
    assert_true(sa.share == 20.0 / 110.0);
    assert_true(sb.share == 30.0 / 110.0);
    hv_profiler_free(p);
}

static void self_times_partition_cycles_at_any_depth(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 8);
    int ids[5];
    const char *names[5] = { "s0", "s1", "s2", "s3", "s4" };
    for (int i = 0; i < 5; i++)
        ids[i] = hv_profiler_stage(p, names[i], HV_STAGE_TIMED);
    uint64_t t = 1000;
    for (int cycle = 0; cycle < 50; cycle++) {
        AT(t, hv_profiler_cycle_begin(p));
        /* a chain s0 > s1 > ... > s(d-1), each step taking a different number of ns */
        int d = 1 + cycle % 5;
        for (int i = 0; i < d; i++)
            AT(t += (uint64_t)(3 + i * cycle), hv_profiler_begin(p, ids[i]));
        for (int i = d - 1; i >= 0; i--)
            AT(t += (uint64_t)(7 + i), hv_profiler_end(p, ids[i]));
        AT(t += 5, hv_profiler_cycle_end(p));
    }
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    uint64_t self = sum.unattributed_ns;
    double share = (double)sum.unattributed_ns / (double)sum.cycle_ns;
    for (int i = 0; i < 5; i++) {
        self += stats(p, ids[i]).self_ns;
        share += stats(p, ids[i]).share;
    }
    assert_int_equal(self, sum.cycle_ns);
    assert_true(share > 0.999999 && share < 1.000001);
    hv_profiler_free(p);
}

static void recursion_of_a_stage_keeps_self_time_exact(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int a = hv_profiler_stage(p, "dtw", HV_STAGE_TIMED);
    AT(0, hv_profiler_cycle_begin(p));
    AT(0, hv_profiler_begin(p, a));
    AT(10, hv_profiler_begin(p, a));
    AT(30, hv_profiler_end(p, a));
    AT(40, hv_profiler_end(p, a));
    AT(40, hv_profiler_cycle_end(p));
    hv_profiler_stage_stats s = stats(p, a);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.self_ns, 40);
    assert_int_equal(s.total_ns, 60); /* inclusive times of both occurrences */
    assert_true(s.share == 1.0);
    hv_profiler_free(p);
}

static void quantiles_come_from_each_occurrence(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int a = hv_profiler_stage(p, "risk_var", HV_STAGE_TIMED);
    uint64_t t = 0;
    for (uint64_t d = 1; d <= 100; d++) {
        AT(t, hv_profiler_cycle_begin(p));
        AT(t, hv_profiler_begin(p, a));
        AT(t += d, hv_profiler_end(p, a));
        AT(t, hv_profiler_cycle_end(p));
    }
    hv_profiler_stage_stats s = stats(p, a);
    assert_int_equal(s.count, 100);
    assert_int_equal(s.total_ns, 5050);
    assert_true(s.mean_ns == 50.5);
    assert_int_equal(s.min_ns, 1);
    assert_int_equal(s.p50_ns, 50);
    assert_int_equal(s.p99_ns, 99);
    assert_int_equal(s.max_ns, 100);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    assert_true(sum.cycles_per_s == 100 * 1e9 / 5050);
    hv_profiler_free(p);
}

static void a_full_stack_drops_scopes_and_still_pairs_ends(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 2);
    int a = hv_profiler_stage(p, "a", HV_STAGE_TIMED),
        b = hv_profiler_stage(p, "b", HV_STAGE_TIMED);
    AT(0, hv_profiler_cycle_begin(p));
    AT(1, hv_profiler_begin(p, a));
    clk.now = 2;
    assert_int_equal(hv_profiler_begin(p, b), HV_EFULL);
    assert_int_equal(hv_profiler_begin(p, b), HV_EFULL);
    assert_int_equal(hv_profiler_end(p, b), HV_EFULL);
    assert_int_equal(hv_profiler_end(p, b), HV_EFULL);
    AT(5, hv_profiler_end(p, a));
    AT(6, hv_profiler_cycle_end(p));
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    assert_int_equal(sum.dropped, 2);
    assert_int_equal(stats(p, b).count, 0);
    assert_int_equal(stats(p, a).self_ns, 4);
    hv_profiler_free(p);
}

static void mismatched_ends_are_refused_and_change_nothing(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int a = hv_profiler_stage(p, "a", HV_STAGE_TIMED),
        b = hv_profiler_stage(p, "b", HV_STAGE_TIMED);
    assert_int_equal(hv_profiler_end(p, a), HV_ESTATE); /* nothing open */
    AT(0, hv_profiler_cycle_begin(p));
    assert_int_equal(hv_profiler_cycle_begin(p), HV_ESTATE);
    AT(1, hv_profiler_begin(p, a));
    assert_int_equal(hv_profiler_end(p, b), HV_ESTATE);
    assert_int_equal(hv_profiler_cycle_end(p), HV_ESTATE);
    assert_int_equal(hv_profiler_reset(p), HV_ESTATE);
    AT(3, hv_profiler_end(p, a));
    AT(4, hv_profiler_cycle_end(p));
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    assert_int_equal(sum.mismatched, 3);
    assert_int_equal(stats(p, a).total_ns, 2);
    assert_int_equal(stats(p, b).count, 0);
    hv_profiler_free(p);
}

static void external_stages_take_no_share_of_the_cycle(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int a = hv_profiler_stage(p, "strategy_signal", HV_STAGE_TIMED);
    int x = hv_profiler_stage(p, "exchange_latency_sim", HV_STAGE_EXTERNAL);
    assert_int_equal(hv_profiler_begin(p, x), HV_EINVAL);
    assert_int_equal(hv_profiler_record(p, a, 5), HV_EINVAL);
    AT(0, hv_profiler_cycle_begin(p));
    AT(0, hv_profiler_begin(p, a));
    assert_int_equal(hv_profiler_record(p, x, 250000), 0);
    AT(10, hv_profiler_end(p, a));
    AT(10, hv_profiler_cycle_end(p));
    hv_profiler_stage_stats sx = stats(p, x);
    assert_int_equal(sx.count, 1);
    assert_int_equal(sx.total_ns, 250000);
    assert_true(sx.share == 0);
    assert_true(stats(p, a).share == 1.0);
    int ids[4];
    assert_int_equal(hv_profiler_rank(p, ids, 4), 1); /* external stages are not ranked */
    hv_profiler_free(p);
}

static void stages_register_once_and_are_bounded(void **state)
{
    (void)state;
    hv_profiler_opts cfg;
    hv_profiler_opts_default(&cfg);
    cfg.stages_max = 3;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(&cfg, &p), 0);
    assert_int_equal(hv_profiler_find(p, "cycle"), HV_PROFILER_CYCLE);
    int a = hv_profiler_stage(p, "a", HV_STAGE_TIMED);
    assert_int_equal(hv_profiler_stage(p, "a", HV_STAGE_TIMED), a);
    assert_int_equal(hv_profiler_stage(p, "a", HV_STAGE_EXTERNAL), HV_EINVAL);
    assert_int_equal(hv_profiler_stage(p, "", HV_STAGE_TIMED), HV_EINVAL);
    assert_int_equal(hv_profiler_stage(p, "b", 7), HV_EINVAL);
    char longname[64];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[63] = 0;
    assert_int_equal(hv_profiler_stage(p, longname, HV_STAGE_TIMED), HV_EINVAL);
    assert_true(hv_profiler_stage(p, "b", HV_STAGE_TIMED) > 0);
    assert_int_equal(hv_profiler_stage(p, "c", HV_STAGE_TIMED), HV_EFULL);
    assert_int_equal(hv_profiler_find(p, "c"), HV_ENOTFOUND);
    assert_int_equal(hv_profiler_begin(p, HV_PROFILER_CYCLE), HV_EINVAL);
    assert_int_equal(hv_profiler_begin(p, 99), HV_EINVAL);
    assert_int_equal(hv_profiler_begin(p, -1), HV_EINVAL);
    hv_profiler_free(p);
    cfg.depth_max = 1;
    assert_int_equal(hv_profiler_new(&cfg, &(hv_profiler *){ NULL }), HV_EINVAL);
    hv_profiler_opts_default(&cfg);
    cfg.size = 3;
    assert_int_equal(hv_profiler_new(&cfg, &(hv_profiler *){ NULL }), HV_EINVAL);
}

static void ranking_orders_by_self_time(void **state)
{
    (void)state;
    fake_clock clk = { 0, 0 };
    hv_profiler *p = fake_profiler(&clk, 0);
    int s[3] = { hv_profiler_stage(p, "small", HV_STAGE_TIMED),
                 hv_profiler_stage(p, "big", HV_STAGE_TIMED),
                 hv_profiler_stage(p, "mid", HV_STAGE_TIMED) };
    const uint64_t d[3] = { 5, 50, 20 };
    uint64_t t = 0;
    AT(t, hv_profiler_cycle_begin(p));
    for (int i = 0; i < 3; i++) {
        AT(t, hv_profiler_begin(p, s[i]));
        AT(t += d[i], hv_profiler_end(p, s[i]));
    }
    AT(t, hv_profiler_cycle_end(p));
    int ids[3];
    assert_int_equal(hv_profiler_rank(p, ids, 3), 3);
    assert_int_equal(ids[0], s[1]);
    assert_int_equal(ids[1], s[2]);
    assert_int_equal(ids[2], s[0]);
    assert_int_equal(hv_profiler_rank(p, ids, 1), 3);
    assert_int_equal(ids[0], s[1]);
    hv_profiler_free(p);
}

static void merge_adds_stages_by_name(void **state)
{
    (void)state;
    fake_clock c1 = { 0, 0 }, c2 = { 0, 0 };
    hv_profiler *p1 = fake_profiler(&c1, 0), *p2 = fake_profiler(&c2, 0);
    int a1 = hv_profiler_stage(p1, "dtw", HV_STAGE_TIMED);
    hv_profiler_stage(p2, "other", HV_STAGE_TIMED);
    int a2 = hv_profiler_stage(p2, "dtw", HV_STAGE_TIMED);
    c1.now = 0;
    hv_profiler_cycle_begin(p1);
    hv_profiler_begin(p1, a1);
    c1.now = 7;
    hv_profiler_end(p1, a1);
    hv_profiler_cycle_end(p1);
    c2.now = 0;
    hv_profiler_cycle_begin(p2);
    hv_profiler_begin(p2, a2);
    c2.now = 100;
    hv_profiler_end(p2, a2);
    hv_profiler_cycle_end(p2);
    assert_int_equal(hv_profiler_merge(p1, p2), 0);
    hv_profiler_stage_stats s = stats(p1, a1);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.total_ns, 107);
    assert_int_equal(s.max_ns, 100);
    assert_int_equal(s.min_ns, 7);
    assert_true(hv_profiler_find(p1, "other") > 0);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p1, &sum);
    assert_int_equal(sum.cycles, 2);
    assert_int_equal(hv_profiler_merge(p1, p1), HV_EINVAL);
    hv_profiler_free(p1);
    hv_profiler_free(p2);
}

static void the_default_clock_measures_real_time(void **state)
{
    (void)state;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(NULL, &p), 0);
    assert_non_null(p);
    int a = hv_profiler_stage(p, "work", HV_STAGE_TIMED);
    assert_int_equal(hv_profiler_cycle_begin(p), 0);
    assert_int_equal(hv_profiler_begin(p, a), 0);
    volatile uint64_t x = 0;
    for (int i = 0; i < 100000; i++)
        x += (uint64_t)i;
    assert_int_equal(hv_profiler_end(p, a), 0);
    assert_int_equal(hv_profiler_cycle_end(p), 0);
    hv_profiler_stage_stats s = stats(p, a), c = stats(p, HV_PROFILER_CYCLE);
    assert_int_equal(x, 4999950000ull);
    assert_int_equal(s.count, 1);
    assert_true(s.total_ns > 0); /* 100000 volatile adds take far more than 1 ns */
    assert_true(c.total_ns >= s.total_ns);
    assert_int_equal(hv_profiler_reset(p), 0);
    assert_int_equal(stats(p, a).count, 0);
    hv_profiler_free(p);
}

/* Times one scope whose end reads the clock at t_ns[1] after its begin read t_ns[0] (in a
 * forked child). */
static void scope_over(void *arg)
{
    const uint64_t *t_ns = arg;
    fake_clock clk = { t_ns[0], 0 };
    hv_profiler_opts cfg;
    hv_profiler_opts_default(&cfg);
    cfg.clock = fake_now;
    cfg.clock_ctx = &clk;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(&cfg, &p), 0);
    if (p == NULL)
        exit(3);
    int id = hv_profiler_stage(p, "s", HV_STAGE_TIMED);
    (void)hv_profiler_begin(p, id);
    clk.now = t_ns[1];
    (void)hv_profiler_end(p, id);
    hv_profiler_free(p);
}

static void a_clock_that_runs_backwards_is_a_programmer_error(void **state)
{
    (void)state;
    const uint64_t still[2] = { 500, 500 }, back[2] = { 500, 499 };
    assert_int_equal(hv_test_aborts(scope_over, (void *)still), 0);
    assert_int_equal(hv_test_aborts(scope_over, (void *)back), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nested_stages_split_self_and_total_exactly),
        cmocka_unit_test(self_times_partition_cycles_at_any_depth),
        cmocka_unit_test(recursion_of_a_stage_keeps_self_time_exact),
        cmocka_unit_test(quantiles_come_from_each_occurrence),
        cmocka_unit_test(a_full_stack_drops_scopes_and_still_pairs_ends),
        cmocka_unit_test(mismatched_ends_are_refused_and_change_nothing),
        cmocka_unit_test(external_stages_take_no_share_of_the_cycle),
        cmocka_unit_test(stages_register_once_and_are_bounded),
        cmocka_unit_test(ranking_orders_by_self_time),
        cmocka_unit_test(merge_adds_stages_by_name),
        cmocka_unit_test(the_default_clock_measures_real_time),
        cmocka_unit_test(a_clock_that_runs_backwards_is_a_programmer_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

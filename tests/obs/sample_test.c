/*
 * The observer on a real swarm in this process (no servers): what it publishes while the swarm
 * runs agrees with what the agents report at the end.
 */
#include "hv_test.h"

#include <math.h>

#include <hivewire/market.h>

#include "obs/obs.h"

typedef struct watch {
    hv_obs *obs;
    hv_obs_snap *live;       /* the snapshot right after the last cycle */
    uint64_t kill_switch_at; /* first cycle whose snapshot showed the kill switch (UINT64_MAX) */
    uint64_t gens;
} watch;

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    watch *w = ud;
    hv__obs_progress(w->obs, done, total);
    assert_int_equal(hv__obs_read(w->obs, w->live), 1);
    assert_true(w->live->gen >= w->gens); /* generations only grow */
    w->gens = w->live->gen;
    if (w->live->kill_switch && w->kill_switch_at == UINT64_MAX)
        w->kill_switch_at = done;
    return 0;
}

static void run_observed(hv_swarm_opts *cfg, size_t nbars, watch *w, hv_obs_snap *final,
                         hv_swarm_stats *st)
{
    hv_series bars;
    hv_gbm_params gp;
    hv_synth g;
    hv_gbm_params_default(&gp);
    hv_series_init(&bars);
    assert_int_equal(hv_synth_init(&g, &gp, 11), 0);
    assert_int_equal(hv_synth_fill(&g, nbars, &bars), 0);
    hv_swarm *sw;
    assert_int_equal(hv_swarm_new(cfg, bars.bars, bars.len, &sw), 0);
    hv_obs_opts o;
    hv__obs_opts_default(&o);
    o.log = NULL;
    o.publish_ns = 1; /* a snapshot after every cycle */
    char err[256] = "";
    assert_int_equal(hv__obs_new(&o, &w->obs, err, sizeof(err)), 0);
    assert_int_equal(hv__obs_port(w->obs, 0), 0); /* no server asked for */
    assert_int_equal(hv__obs_attach(w->obs, sw, cfg, bars.bars, bars.len, "test"), 0);
    w->kill_switch_at = UINT64_MAX;
    assert_int_equal(hv_swarm_run(sw, on_progress, w), 0);
    hv__obs_done(w->obs, 0);
    assert_int_equal(hv__obs_read(w->obs, final), 1);
    hv_swarm_stats_get(sw, st);
    hv__obs_free(w->obs);
    hv_swarm_free(sw);
    hv_series_fini(&bars);
}

static void small(hv_swarm_opts *c)
{
    hv_swarm_opts_default(c);
    for (int i = 0; i < HV_SWARM_PATTERNS_MAX; i++) {
        c->pattern[i].capacity = 64;
        c->pattern[i].stride = 3;
    }
    c->signal_threshold = 0.0005;
    c->stall_timeout_ns = 60000000000ull;
}

/* The live curve is replayed from the fills the coordinator received and the closes; it must
 * be the execution agent's own curve, point for point. */
static void the_live_equity_curve_is_the_execution_agents(void **state)
{
    (void)state;
    hv_swarm_opts cfg;
    small(&cfg);
    watch w = { 0 };
    w.live = calloc(1, sizeof(*w.live));
    hv_obs_snap *final = calloc(1, sizeof(*final));
    hv_swarm_stats st;
    run_observed(&cfg, 600, &w, final, &st);
    assert_true(st.fills > 10);
    assert_false(w.live->pf_final);
    assert_true(final->pf_final && final->finished && !final->running);
    assert_int_equal(w.live->curve_n, final->curve_n);
    assert_true(final->curve_n >= 600);
    for (uint32_t i = 0; i < final->curve_n; i++) {
        assert_int_equal(w.live->curve_t_ns[i], final->curve_t_ns[i]);
        if (w.live->curve_eq[i] != final->curve_eq[i])
            fail_msg("point %u: live %.10f, execution agent %.10f", i, w.live->curve_eq[i],
                     final->curve_eq[i]);
    }
    /* the live book agrees with the final one where no fill came after the last close */
    assert_true(fabs(w.live->pf.max_drawdown_frac - final->pf.max_drawdown_frac) < 1e-12 ||
                st.portfolio.fills > w.live->pf.fills);
    assert_int_equal(final->st.cycles, 600);
    assert_int_equal(final->cycles_planned, 600);
    assert_int_equal(final->st.agents_reported, 8);
    assert_int_equal(final->nagents, 9);
    assert_true(final->nthreads >= 1);
    assert_true(final->publishes >= 600);
    free(w.live);
    free(final);
}

static void the_live_kill_switch_agrees_with_the_risk_agent(void **state)
{
    (void)state;
    hv_swarm_opts cfg;
    small(&cfg);
    hv_policy simple = { .rule = HV_RULE_SIMPLE_MAJORITY };
    cfg.risk_votes = 0;
    assert_int_equal(hv_crit_table_set_policy(&cfg.table, HV_CRIT_CRITICAL, &simple), 0);
    cfg.limits.drawdown_max_frac = 0.0005;
    watch w = { 0 };
    w.live = calloc(1, sizeof(*w.live));
    hv_obs_snap *final = calloc(1, sizeof(*final));
    hv_swarm_stats st;
    run_observed(&cfg, 300, &w, final, &st);
    assert_true(st.halted);
    assert_true(final->kill_switch);
    /* seen live, at the cycle the risk agent tripped it (its state of that close) or after */
    assert_true(w.kill_switch_at != UINT64_MAX);
    assert_true(w.kill_switch_at >= st.halted_cycle);
    assert_true(w.kill_switch_at <= st.halted_cycle + 2);
    free(w.live);
    free(final);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_live_equity_curve_is_the_execution_agents),
        cmocka_unit_test(the_live_kill_switch_agrees_with_the_risk_agent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

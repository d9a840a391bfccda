/* The swarm end to end: threads, bus, consensus, exchange and profiler together. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "hv_test.h"

#include <hivewire/swarm.h>

#define BARS 400

typedef struct fixture {
    hv_series bars;
    hv_swarm_opts cfg;
    hv_swarm *sw;
    hv_swarm_stats st;
} fixture;

static void make_bars(hv_series *s, uint64_t seed, size_t n)
{
    hv_gbm_params p;
    hv_synth g;
    hv_gbm_params_default(&p);
    hv_series_init(s);
    assert_int_equal(hv_synth_init(&g, &p, seed), 0);
    assert_int_equal(hv_synth_fill(&g, n, s), 0);
}

/* Small libraries so the test stays fast under the sanitizers. */
static void small_config(hv_swarm_opts *c)
{
    hv_swarm_opts_default(c);
    for (int i = 0; i < HV_SWARM_PATTERNS_MAX; i++) {
        c->pattern[i].capacity = 64;
        c->pattern[i].stride = 3;
    }
    c->signal_threshold = 0.0005;
    c->stall_timeout_ns = 60000000000ull; /* generous: sanitizers on a shared machine */
}

static void run(fixture *f)
{
    assert_int_equal(hv_swarm_new(&f->cfg, f->bars.bars, f->bars.len, &f->sw), 0);
    assert_int_equal(hv_swarm_run(f->sw, NULL, NULL), 0);
    hv_swarm_stats_get(f->sw, &f->st);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    make_bars(&f->bars, 7, BARS);
    small_config(&f->cfg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hv_swarm_free(f->sw);
    hv_series_fini(&f->bars);
    free(f);
    return 0;
}

static void every_bar_is_one_cycle_and_every_proposal_is_decided(void **state)
{
    fixture *f = *state;
    run(f);
    assert_int_equal(f->st.cycles, BARS);
    assert_true(f->st.proposals > 0);
    assert_int_equal(f->st.proposals, f->st.accepted + f->st.rejected + f->st.no_quorum);
    assert_int_equal(f->st.accepted, f->st.orders_sent + f->st.orders_refused_limit +
                                         f->st.orders_refused_halt + f->st.orders_refused_exchange);
    assert_int_equal(f->st.rules_used[HV_RULE_BFT], f->st.proposals);
    assert_int_equal(f->st.votes_bad, 0);
    assert_int_equal(f->st.votes_unknown, 0);
    /* every vote is counted, late, or refused: none lost on the way to the engine */
    assert_int_equal(f->st.votes_counted + f->st.votes_late + f->st.votes_bad, f->st.proposals * 5);
    /* every agent reported at the end, and nothing was malformed, stalled or lost */
    assert_int_equal(f->st.agents_reported, 4 + 4);
    assert_int_equal(f->st.frames_bad + f->st.cycles_stalled + f->st.orders_unknown, 0);
    assert_int_equal(f->st.agents_lost, 0);
}

static void orders_reach_the_exchange_and_fills_come_back(void **state)
{
    fixture *f = *state;
    run(f);
    assert_true(f->st.orders_sent > 0);
    assert_int_equal(f->st.exchange.submitted, f->st.orders_sent);
    assert_true(f->st.fills > 0);
    /* every order is acknowledged, and every fill confirmed, to the coordinator */
    assert_true(f->st.confirmations >= f->st.orders_sent + f->st.fills);
    const hv_swarm_trade *t;
    size_t n = hv_swarm_trades(f->sw, &t);
    assert_int_equal(n, f->st.fills);
    int64_t shares = 0;
    for (size_t i = 0; i < n; i++) {
        shares += t[i].qty;
        /* the fill comes back while a later cycle runs, never in the cycle that sent it */
        assert_true(t[i].cycle > t[i].order_cycle);
    }
    assert_int_equal(shares, f->st.portfolio.shares_traded);
    /* after the last bar every working order was cancelled and every report delivered */
    assert_int_equal(f->st.exchange.open_orders, 0);
    assert_int_equal(f->st.exchange.reports_queued, 0);
    assert_int_equal(f->st.exchange.filled + f->st.exchange.cancelled, f->st.orders_sent);
}

static void the_same_seed_and_data_give_the_same_trades(void **state)
{
    fixture *f = *state;
    run(f);
    hv_swarm_stats first = f->st;
    hv_swarm_free(f->sw);
    f->sw = NULL;
    run(f);
    assert_true(first.fills > 0);
    assert_int_equal(first.trades_hash, f->st.trades_hash);
    assert_int_equal(first.fills, f->st.fills);
    assert_int_equal(first.orders_sent, f->st.orders_sent);
    assert_int_equal(first.accepted, f->st.accepted);
    assert_true(first.portfolio.equity == f->st.portfolio.equity);
    assert_true(first.portfolio.max_drawdown == f->st.portfolio.max_drawdown);
}

static void other_data_give_other_trades(void **state)
{
    fixture *f = *state;
    run(f);
    uint64_t h = f->st.trades_hash;
    hv_swarm_free(f->sw);
    f->sw = NULL;
    hv_series_fini(&f->bars);
    make_bars(&f->bars, 8, BARS);
    run(f);
    assert_true(f->st.fills > 0);
    assert_true(h != f->st.trades_hash);
}

/* The risk agent does not vote and a simple majority decides, so orders reach the binding
 * pre-trade check, which the kill switch then closes. */
static void a_tripped_kill_switch_halts_new_orders(void **state)
{
    fixture *f = *state;
    hv_policy simple = { .rule = HV_RULE_SIMPLE_MAJORITY };
    f->cfg.risk_votes = 0;
    assert_int_equal(hv_crit_table_set_policy(&f->cfg.table, HV_CRIT_CRITICAL, &simple), 0);
    f->cfg.limits.drawdown_max_frac = 0.0005;
    run(f);
    assert_true(f->st.halted);
    assert_int_equal(f->st.halt_breach.limit, HV_LIMIT_DRAWDOWN);
    assert_true(f->st.halted_cycle < f->st.cycles);
    assert_true(f->st.orders_refused_halt > 0);
    assert_true(f->st.limits.trips[HV_LIMIT_DRAWDOWN] >= 1);
    assert_true(f->st.orders_sent == 0 || f->st.last_order_cycle < f->st.halted_cycle);
    assert_int_equal(f->st.exchange.submitted, f->st.orders_sent);
}

static void a_position_limit_refuses_every_order_above_it(void **state)
{
    fixture *f = *state;
    hv_policy simple = { .rule = HV_RULE_SIMPLE_MAJORITY };
    f->cfg.risk_votes = 0;
    assert_int_equal(hv_crit_table_set_policy(&f->cfg.table, HV_CRIT_CRITICAL, &simple), 0);
    f->cfg.limits.position_max = f->cfg.qty / 2;
    run(f);
    assert_true(f->st.orders_refused_limit > 0);
    assert_int_equal(f->st.orders_sent, 0);
    assert_int_equal(f->st.fills, 0);
    assert_true(f->st.limits.trips[HV_LIMIT_POSITION] > 0);
    assert_int_equal(f->st.rules_used[HV_RULE_SIMPLE_MAJORITY], f->st.proposals);
    assert_int_equal(f->st.votes_bad, 0); /* MAC'd votes verified */
}

static void a_risk_agent_that_votes_no_blocks_orders_under_unanimity(void **state)
{
    fixture *f = *state;
    hv_policy all = { .rule = HV_RULE_UNANIMOUS };
    assert_int_equal(hv_crit_table_set_policy(&f->cfg.table, HV_CRIT_CRITICAL, &all), 0);
    f->cfg.limits.position_max = f->cfg.qty / 2; /* risk votes no on every order */
    run(f);
    assert_true(f->st.proposals > 0);
    assert_int_equal(f->st.accepted, 0);
    assert_int_equal(f->st.orders_sent, 0);
}

static void the_profile_covers_every_stage_and_adds_up(void **state)
{
    fixture *f = *state;
    run(f);
    const hv_profiler *p = hv_swarm_profiler(f->sw);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    assert_int_equal(sum.cycles, f->st.cycles);
    static const char *const stages[] = {
        "market_data_ingestion", "dtw_pattern_matching", "risk_var",
        "strategy_signal",       "coordination_bus",     "consensus",
        "risk_limits",           "order_execution",      "order_confirmation",
        "sim_exchange_ack_rtt"
    };
    uint64_t self = 0;
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        int id = hv_profiler_find(p, stages[i]);
        assert_true(id > 0);
        hv_profiler_stage_stats ss;
        assert_int_equal(hv_profiler_stage_stats_get(p, id, &ss), 0);
        assert_true(ss.count > 0);
        if (ss.kind == HV_STAGE_TIMED)
            self += ss.self_ns;
    }
    /* the replayed timeline charges every nanosecond of a cycle to exactly one stage */
    assert_int_equal(self + sum.unattributed_ns, sum.cycle_ns);
    hv_profiler_stage_stats cons;
    hv_profiler_stage_stats_get(p, hv_profiler_find(p, "consensus"), &cons);
    assert_int_equal(cons.count, f->st.proposals);
    char *js = hv_profiler_json(p, NULL);
    assert_non_null(js);
    assert_non_null(strstr(js, "dtw_pattern_matching"));
    free(js);
}

/* Runner THREADS: every thread (8 agents and the coordinator) reports its CPU time and context
 * switches; the agents run under SCHED_BATCH, the coordinator (the caller's thread) keeps the
 * caller's policy. Runner ONE: one thread did everything. */
static void every_thread_reports_what_it_cost(void **state)
{
    fixture *f = *state;
    f->cfg.runner = HV_SWARM_RUNNER_THREADS;
    run(f);
    assert_int_equal(f->st.runner, HV_SWARM_RUNNER_THREADS);
    assert_int_equal(f->st.nthreads, 4 + 5);
    uint64_t cpu = 0, vol = 0, invol = 0;
    int coordinators = 0;
    for (uint32_t i = 0; i < f->st.nthreads; i++) {
        const hv_swarm_usage *u = &f->st.threads[i];
        cpu += u->cpu_ns;
        vol += u->switches_voluntary;
        invol += u->switches_involuntary;
        if (strcmp(u->name, "coordinator") == 0) {
            coordinators++;
            assert_int_equal(u->batch, 0);
            assert_true(u->cpu_ns > 0);
            continue;
        }
        assert_int_equal(u->batch, 1);
    }
    assert_int_equal(coordinators, 1);
    assert_int_equal(cpu, f->st.cpu_ns);
    assert_int_equal(vol, f->st.switches_voluntary);
    assert_int_equal(invol, f->st.switches_involuntary);
    /* every agent blocked on its inbox at least once per bar it waited for */
    assert_true(f->st.switches_voluntary >= f->st.cycles);
    hv_swarm_free(f->sw);
    f->sw = NULL;
    f->cfg.runner = HV_SWARM_RUNNER_ONE;
    run(f);
    assert_int_equal(f->st.runner, HV_SWARM_RUNNER_ONE);
    assert_int_equal(f->st.nthreads, 1);
    assert_true(f->st.threads[0].cpu_ns > 0);
    assert_int_equal(f->st.cpu_ns, f->st.threads[0].cpu_ns);
}

/* One thread for every agent, a thread each, and vote authentication by signature or MAC:
 * the same trades. */
static void every_runner_and_vote_authentication_gives_the_same_trades(void **state)
{
    fixture *f = *state;
    static const int modes[][2] = { { HV_SWARM_RUNNER_ONE, HV_SWARM_AUTH_MAC },
                                    { HV_SWARM_RUNNER_THREADS, HV_SWARM_AUTH_MAC },
                                    { HV_SWARM_RUNNER_ONE, HV_SWARM_AUTH_SIG },
                                    { HV_SWARM_RUNNER_THREADS, HV_SWARM_AUTH_SIG } };
    hv_swarm_stats first;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        f->cfg.runner = modes[i][0];
        f->cfg.vote_auth = modes[i][1];
        run(f);
        assert_int_equal(f->st.runner, modes[i][0]);
        assert_int_equal(f->st.vote_auth, modes[i][1]);
        if (i == 0)
            first = f->st;
        assert_true(f->st.fills > 0);
        assert_int_equal(first.trades_hash, f->st.trades_hash);
        assert_int_equal(first.accepted, f->st.accepted);
        assert_int_equal(first.rejected, f->st.rejected);
        assert_true(first.portfolio.equity == f->st.portfolio.equity);
        hv_swarm_free(f->sw);
        f->sw = NULL;
    }
}

static void a_swarm_runs_once(void **state)
{
    fixture *f = *state;
    f->cfg.cycles_max = 50;
    run(f);
    assert_int_equal(f->st.cycles, 50);
    assert_int_equal(hv_swarm_run(f->sw, NULL, NULL), HV_ESTATE);
}

static int stop_at_20(void *ud, uint64_t done, uint64_t total)
{
    (void)total;
    *(uint64_t *)ud = done;
    return done >= 20;
}

static void the_progress_callback_can_stop_the_run(void **state)
{
    fixture *f = *state;
    uint64_t seen = 0;
    assert_int_equal(hv_swarm_new(&f->cfg, f->bars.bars, f->bars.len, &f->sw), 0);
    assert_int_equal(hv_swarm_run(f->sw, stop_at_20, &seen), 0);
    hv_swarm_stats_get(f->sw, &f->st);
    assert_int_equal(seen, 20);
    assert_int_equal(f->st.cycles, 20);
}

/* Placement moves threads between CPUs, never the outcome; and the caller gets its CPUs back. */
static void placement_changes_no_trade_and_restores_the_callers_cpus(void **state)
{
    fixture *f = *state;
    cpu_set_t before, after;
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(before), &before), 0);
    f->cfg.runner = HV_SWARM_RUNNER_THREADS;
    f->cfg.placement = HV_SWARM_PLACE_NONE;
    run(f);
    hv_swarm_stats none = f->st;
    hv_swarm_free(f->sw);
    f->sw = NULL;
    f->cfg.placement = HV_SWARM_PLACE_AUTO;
    run(f);
    assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(after), &after), 0);
    assert_true(CPU_EQUAL(&before, &after));
    assert_true(none.fills > 0);
    assert_int_equal(none.trades_hash, f->st.trades_hash);
    assert_int_equal(none.orders_sent, f->st.orders_sent);
    assert_true(none.portfolio.equity == f->st.portfolio.equity);
}

static void bad_configurations_are_refused(void **state)
{
    fixture *f = *state;
    hv_swarm *sw = NULL;
    hv_swarm_opts c = f->cfg;
    c.patterns = 0;
    assert_int_equal(hv_swarm_new(&c, f->bars.bars, f->bars.len, &sw), HV_EINVAL);
    c = f->cfg;
    c.pattern[1].len = 2;
    assert_int_equal(hv_swarm_new(&c, f->bars.bars, f->bars.len, &sw), HV_EINVAL);
    c = f->cfg;
    c.var_q = 1.0;
    assert_int_equal(hv_swarm_new(&c, f->bars.bars, f->bars.len, &sw), HV_EINVAL);
    assert_int_equal(hv_swarm_new(&f->cfg, f->bars.bars, 1, &sw), HV_EINVAL);
    c = f->cfg;
    c.placement = 2;
    assert_int_equal(hv_swarm_new(&c, f->bars.bars, f->bars.len, &sw), HV_EINVAL);
    c = f->cfg;
    c.size = 8;
    assert_int_equal(hv_swarm_new(&c, f->bars.bars, f->bars.len, &sw), HV_EINVAL);
    assert_null(sw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(every_bar_is_one_cycle_and_every_proposal_is_decided),
        T(orders_reach_the_exchange_and_fills_come_back),
        T(the_same_seed_and_data_give_the_same_trades),
        T(placement_changes_no_trade_and_restores_the_callers_cpus),
        T(other_data_give_other_trades),
        T(a_tripped_kill_switch_halts_new_orders),
        T(a_position_limit_refuses_every_order_above_it),
        T(a_risk_agent_that_votes_no_blocks_orders_under_unanimity),
        T(the_profile_covers_every_stage_and_adds_up),
        T(every_thread_reports_what_it_cost),
        T(every_runner_and_vote_authentication_gives_the_same_trades),
        T(a_swarm_runs_once),
        T(the_progress_callback_can_stop_the_run),
        T(bad_configurations_are_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

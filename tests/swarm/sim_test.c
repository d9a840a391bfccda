/* The whole-swarm simulator: it gives hv_swarm_run()'s trades without faults, replays a seed
 * exactly, keeps every invariant under faults, and catches each invariant broken on purpose. */
#include <stdlib.h>
#include <string.h>

#include "hv_test.h"

#include <hivewire/swarm.h>

#include "swarm/sim_int.h"

#define BARS 300

typedef struct fixture {
    hv_series bars;
    hv_swarm_opts cfg;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    hv_gbm_params p;
    hv_synth g;
    hv_gbm_params_default(&p);
    hv_series_init(&f->bars);
    assert_int_equal(hv_synth_init(&g, &p, 11), 0);
    assert_int_equal(hv_synth_fill(&g, BARS, &f->bars), 0);
    hv_swarm_opts_default(&f->cfg);
    for (int i = 0; i < HV_SWARM_PATTERNS_MAX; i++) {
        f->cfg.pattern[i].capacity = 64;
        f->cfg.pattern[i].stride = 3;
    }
    f->cfg.signal_threshold = 0.0005;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hv__sw_sim_break = 0;
    hv__sw_mute_votes = 0;
    hv_series_fini(&f->bars);
    free(f);
    return 0;
}

static void sim(fixture *f, uint64_t seed, uint32_t faults, hv_swarm_sim_result *r,
                hv_swarm_stats *st)
{
    hv_swarm_sim_opts sc;
    hv_swarm_sim_opts_default(&sc);
    sc.seed = seed;
    sc.faults = faults;
    f->cfg.seed = seed;
    f->cfg.exchange.seed = seed;
    assert_int_equal(hv_swarm_sim(&f->cfg, f->bars.bars, f->bars.len, &sc, r, st), 0);
}

static void without_faults_it_trades_as_every_runner_does(void **state)
{
    fixture *f = *state;
    hv_swarm_sim_result r;
    hv_swarm_stats sim_st;
    sim(f, 7, 0, &r, &sim_st);
    assert_int_equal(r.violation, 0);
    assert_true(sim_st.fills > 0);
    assert_int_equal(sim_st.cycles, BARS);
    assert_int_equal(sim_st.agents_reported, 8);
    assert_int_equal(r.lost + r.duplicated + r.crashes, 0);
    static const int runners[] = { HV_SWARM_RUNNER_ONE, HV_SWARM_RUNNER_THREADS };
    for (size_t i = 0; i < 2; i++) {
        hv_swarm *sw = NULL;
        hv_swarm_stats st;
        f->cfg.runner = runners[i];
        assert_int_equal(hv_swarm_new(&f->cfg, f->bars.bars, f->bars.len, &sw), 0);
        assert_int_equal(hv_swarm_run(sw, NULL, NULL), 0);
        hv_swarm_stats_get(sw, &st);
        hv_swarm_free(sw);
        assert_int_equal(st.trades_hash, sim_st.trades_hash);
        assert_int_equal(st.accepted, sim_st.accepted);
        assert_true(st.portfolio.equity == sim_st.portfolio.equity);
    }
}

static void a_seed_replays_exactly_and_another_seed_differs(void **state)
{
    fixture *f = *state;
    hv_swarm_sim_result a, b, c;
    hv_swarm_stats st;
    sim(f, 42, HV_SIM_SWARM_ALL, &a, &st);
    sim(f, 42, HV_SIM_SWARM_ALL, &b, &st);
    sim(f, 43, HV_SIM_SWARM_ALL, &c, &st);
    assert_memory_equal(a.trace_hash, b.trace_hash, 32);
    assert_int_equal(a.events, b.events);
    assert_memory_not_equal(a.trace_hash, c.trace_hash, 32);
}

/* Every fault, many seeds: every invariant holds and every run ends. HV_SIM_SEEDS overrides
 * the count (make sim-long runs many more through the CLI). */
static void every_invariant_holds_under_every_fault(void **state)
{
    fixture *f = *state;
    const char *env = getenv("HV_SIM_SEEDS");
    uint64_t seeds = env ? strtoull(env, NULL, 10) : 60;
    uint64_t lost = 0, dup = 0, crashes = 0, restarts = 0;
    for (uint64_t s = 1; s <= seeds; s++) {
        hv_swarm_sim_result r;
        hv_swarm_stats st;
        sim(f, s, HV_SIM_SWARM_ALL, &r, &st);
        if (r.violation)
            fail_msg("seed %llu: %s", (unsigned long long)s, r.message);
        assert_int_equal(st.cycles, BARS);
        lost += r.lost;
        dup += r.duplicated;
        crashes += r.crashes;
        restarts += r.restarts;
    }
    /* the faults really happened */
    assert_true(lost > 0 && dup > 0 && crashes > 0 && restarts > 0);
}

/* Finds a seed (of the first 40) under `faults` whose run breaks with a message containing
 * `what`, with the swarm broken by `how`. */
static void caught(fixture *f, int how, uint32_t faults, const char *what)
{
    hv__sw_sim_break = how;
    for (uint64_t s = 1; s <= 40; s++) {
        hv_swarm_sim_result r;
        hv_swarm_stats st;
        sim(f, s, faults, &r, &st);
        if (r.violation) {
            hv__sw_sim_break = 0;
            if (strstr(r.message, what) == NULL)
                fail_msg("expected '%s', got: %s", what, r.message);
            return;
        }
    }
    hv__sw_sim_break = 0;
    fail_msg("no seed caught '%s'", what);
}

static void the_checker_catches_a_crashed_agent_that_talks(void **state)
{
    caught(*state, HV_SW_SIM_BREAK_CRASHED_TALKS, HV_SIM_CRASH, "after its crash");
}

static void the_checker_catches_an_order_executed_twice(void **state)
{
    caught(*state, HV_SW_SIM_BREAK_ORDER_TWICE, HV_SIM_DUP, "executed twice");
}

/* Two silent voters: without the engine's deadline their proposals would stay open. */
static void the_checker_catches_a_proposal_past_its_deadline(void **state)
{
    hv__sw_mute_votes = 0x3;
    caught(*state, HV_SW_SIM_BREAK_NO_DEADLINE, 0, "after its deadline");
}

static void the_checker_catches_an_order_without_an_accepted_decision(void **state)
{
    caught(*state, HV_SW_SIM_BREAK_UNACCEPTED_ORDER, 0, "without an accepted decision");
}

static void the_checker_catches_an_account_that_is_not_the_sum_of_its_fills(void **state)
{
    caught(*state, HV_SW_SIM_BREAK_ACCOUNT, 0, "the fills sum to");
}

/* Two of the five voters never answer: under BFT (4 of 5) no proposal can be accepted or
 * rejected by the votes alone, so each one ends as NO_QUORUM at its deadline, and the run goes
 * on to the end: in the simulator and under a real runner. */
static void silent_voters_end_proposals_as_no_quorum_at_their_deadline(void **state)
{
    fixture *f = *state;
    f->cfg.proposal_timeout_ns = 20000000ull;
    hv__sw_mute_votes = 0x3; /* pattern agents 0 and 1 */
    hv_swarm_sim_result r;
    hv_swarm_stats st;
    sim(f, 5, 0, &r, &st);
    assert_int_equal(r.violation, 0);
    assert_true(st.proposals > 0);
    assert_int_equal(st.cycles, BARS);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(st.no_quorum + st.rejected, st.proposals);
    assert_true(st.no_quorum > 0);
    hv_swarm *sw = NULL;
    f->cfg.runner = HV_SWARM_RUNNER_ONE;
    f->cfg.cycles_max = 60;
    assert_int_equal(hv_swarm_new(&f->cfg, f->bars.bars, f->bars.len, &sw), 0);
    assert_int_equal(hv_swarm_run(sw, NULL, NULL), 0);
    hv_swarm_stats_get(sw, &st);
    hv_swarm_free(sw);
    assert_int_equal(st.cycles, 60);
    assert_int_equal(st.accepted, 0);
    assert_int_equal(st.no_quorum + st.rejected, st.proposals);
}

static void bad_simulator_configurations_are_refused(void **state)
{
    fixture *f = *state;
    hv_swarm_sim_result r;
    hv_swarm_sim_opts sc;
    hv_swarm_sim_opts_default(&sc);
    sc.faults = HV_SIM_BYZANTINE;
    assert_int_equal(hv_swarm_sim(&f->cfg, f->bars.bars, f->bars.len, &sc, &r, NULL), HV_EINVAL);
    sc.faults = HV_SIM_CRASH;
    sc.crashed = 5;
    assert_int_equal(hv_swarm_sim(&f->cfg, f->bars.bars, f->bars.len, &sc, &r, NULL), HV_EINVAL);
    sc.crashed = 0;
    assert_int_equal(hv_swarm_sim(&f->cfg, f->bars.bars, 1, &sc, &r, NULL), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(without_faults_it_trades_as_every_runner_does),
        T(a_seed_replays_exactly_and_another_seed_differs),
        T(every_invariant_holds_under_every_fault),
        T(the_checker_catches_a_crashed_agent_that_talks),
        T(the_checker_catches_an_order_executed_twice),
        T(the_checker_catches_a_proposal_past_its_deadline),
        T(the_checker_catches_an_order_without_an_accepted_decision),
        T(the_checker_catches_an_account_that_is_not_the_sum_of_its_fills),
        T(silent_voters_end_proposals_as_no_quorum_at_their_deadline),
        T(bad_simulator_configurations_are_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

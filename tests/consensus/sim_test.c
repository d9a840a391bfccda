#include "hv_test.h"

#include <stdio.h>
#include <string.h>

#include <hivewire/sim.h>

#ifdef HV_SANITIZED
#define SEEDS 2500
#else
#define SEEDS 5000
#endif

static const uint32_t variants[] = {
    0,
    HV_SIM_DELAY | HV_SIM_DUP | HV_SIM_REORDER,
    HV_SIM_DELAY | HV_SIM_LOSS | HV_SIM_CRASH,
    HV_SIM_BYZANTINE | HV_SIM_DELAY,
    HV_SIM_ALL,
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static void config_for_seed(hv_sim_consensus_opts *c, uint64_t seed)
{
    hv_sim_consensus_opts_default(c);
    c->seed = seed;
    c->agents = 4 + (uint32_t)(seed / NVARIANTS % 7);
    c->proposals = 6;
    c->faults = variants[seed % NVARIANTS];
}

static void thousands_of_seeds_hold_every_invariant(void **state)
{
    (void)state;
    uint64_t failed = 0, equivocations = 0, forged = 0, early = 0, nq = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        hv_sim_consensus_opts c;
        hv_sim_consensus_result r;
        config_for_seed(&c, seed);
        assert_int_equal(hv_sim_consensus_run(&c, &r), 0);
        if (r.violation) {
            char faults[96];
            hv_sim_format_faults(c.faults, faults, sizeof(faults));
            fprintf(stderr,
                    "seed %llu violated: %s\nreplay: hivewire sim consensus --seed %llu "
                    "--agents %u --proposals %u --faults %s\n",
                    (unsigned long long)seed, r.message, (unsigned long long)seed, c.agents,
                    c.proposals, faults);
            failed++;
        }
        equivocations += r.equivocations_detected;
        forged += r.forged_sent;
        early += r.decided_early;
        nq += r.decided[HV_OUTCOME_NO_QUORUM];
    }
    assert_int_equal(failed, 0);
    /* The faults were really exercised. */
    assert_true(equivocations > 0);
    assert_true(forged > 0);
    assert_true(early > 0);
    assert_true(nq > 0);
}

static void same_seed_gives_the_same_trace(void **state)
{
    (void)state;
    hv_sim_consensus_opts c;
    hv_sim_consensus_result a, b;
    hv_sim_consensus_opts_default(&c);
    c.seed = 77;
    c.faults = HV_SIM_ALL;
    assert_int_equal(hv_sim_consensus_run(&c, &a), 0);
    assert_int_equal(hv_sim_consensus_run(&c, &b), 0);
    assert_memory_equal(a.trace_hash, b.trace_hash, 32);
    assert_int_equal(a.events, b.events);
    c.seed = 78;
    assert_int_equal(hv_sim_consensus_run(&c, &b), 0);
    assert_memory_not_equal(a.trace_hash, b.trace_hash, 32);
}

static void honest_fault_free_runs_decide_nothing_by_missing_votes(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        hv_sim_consensus_opts c;
        hv_sim_consensus_result r;
        hv_sim_consensus_opts_default(&c);
        c.seed = seed;
        assert_int_equal(hv_sim_consensus_run(&c, &r), 0);
        assert_int_equal(r.violation, 0);
        assert_int_equal(r.decided[HV_OUTCOME_NO_QUORUM], 0);
        assert_int_equal(r.votes_refused + r.votes_counted, r.votes_sent);
        assert_int_equal(r.decided[HV_OUTCOME_ACCEPTED] + r.decided[HV_OUTCOME_REJECTED],
                         c.proposals);
    }
}

static void runs_without_early_termination_hold_the_invariants(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        hv_sim_consensus_opts c;
        hv_sim_consensus_result r;
        config_for_seed(&c, seed);
        c.no_early = 1;
        assert_int_equal(hv_sim_consensus_run(&c, &r), 0);
        assert_int_equal(r.violation, 0);
        assert_int_equal(r.decided_early, 0);
    }
}

static void bad_configurations_and_fault_lists_are_refused(void **state)
{
    (void)state;
    hv_sim_consensus_opts c;
    hv_sim_consensus_result r;
    hv_sim_consensus_opts_default(&c);
    c.seed = 1;
    c.agents = 3;
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    c.agents = 4;
    c.faults = HV_SIM_BYZANTINE | HV_SIM_CRASH;
    c.byzantine = 3;
    c.crashed = 2;
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    uint32_t m;
    assert_int_equal(hv_sim_parse_faults("loss,byzantine", &m), 0);
    assert_int_equal(m, HV_SIM_LOSS | HV_SIM_BYZANTINE);
    assert_int_equal(hv_sim_parse_faults("all", &m), 0);
    assert_int_equal(m, HV_SIM_ALL);
    assert_int_equal(hv_sim_parse_faults("loss,lag", &m), HV_EPARSE);
    char buf[96];
    hv_sim_format_faults(HV_SIM_DELAY | HV_SIM_CRASH, buf, sizeof(buf));
    assert_string_equal(buf, "delay,crash");
    hv_sim_format_faults(0, buf, sizeof(buf));
    assert_string_equal(buf, "none");
}

static void fault_counts_need_their_fault_and_the_bft_bound(void **state)
{
    (void)state;
    hv_sim_consensus_opts c;
    hv_sim_consensus_result r;
    hv_sim_consensus_opts_default(&c);
    c.seed = 5;
    c.agents = 7;
    c.proposals = 4;
    c.byzantine = 2; /* without HV_SIM_BYZANTINE it would be ignored */
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    c.byzantine = 0;
    c.crashed = 1; /* without HV_SIM_CRASH */
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    c.crashed = 0;
    c.faults = HV_SIM_BYZANTINE;
    c.byzantine = 3; /* 7 < 3 * 3 + 1 */
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    c.byzantine = 2; /* 7 >= 3 * 2 + 1: the largest allowed */
    assert_int_equal(hv_sim_consensus_run(&c, &r), 0);
    assert_int_equal(r.violation, 0);
    c.faults = HV_SIM_BYZANTINE | HV_SIM_CRASH;
    c.crashed = 6; /* 2 + 6 > 7 */
    assert_int_equal(hv_sim_consensus_run(&c, &r), HV_EINVAL);
    c.crashed = 5;
    assert_int_equal(hv_sim_consensus_run(&c, &r), 0);
}

int hv_cmd_sim(int argc, char **argv);

static int sim_cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = { "sim", "consensus", "--seed",   "1",        "--agents", "7", "--proposals",
                     "3",   (char *)a1,  (char *)a2, (char *)a3, (char *)a4, NULL };
    int argc = 8;
    while (argv[argc] != NULL)
        argc++;
    return hv_cmd_sim(argc, argv);
}

static void cli_refuses_contradictory_fault_options(void **state)
{
    (void)state;
    assert_int_equal(sim_cli("--byzantine", "2", NULL, NULL), 2);
    assert_int_equal(sim_cli("--crashed", "1", NULL, NULL), 2);
    assert_int_equal(sim_cli("--crashed", "1", "--faults", "byzantine"), 2);
    assert_int_equal(sim_cli("--faults", "byzantine", "--byzantine", "3"), 2);
    assert_int_equal(sim_cli("--faults", "crash", "--crashed", "8"), 2);
    assert_int_equal(sim_cli("--faults", "all", "--crashed", "6"), 2); /* 2 byzantine + 6 > 7 */
    assert_int_equal(sim_cli("--seed", "18446744073709551615", "--seeds", "2"), 2);
    assert_int_equal(sim_cli("--faults", "byzantine,crash", "--byzantine", "2"), 0);
    assert_int_equal(sim_cli("--faults", "crash", "--crashed", "7"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thousands_of_seeds_hold_every_invariant),
        cmocka_unit_test(same_seed_gives_the_same_trace),
        cmocka_unit_test(honest_fault_free_runs_decide_nothing_by_missing_votes),
        cmocka_unit_test(runs_without_early_termination_hold_the_invariants),
        cmocka_unit_test(bad_configurations_and_fault_lists_are_refused),
        cmocka_unit_test(fault_counts_need_their_fault_and_the_bft_bound),
        cmocka_unit_test(cli_refuses_contradictory_fault_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

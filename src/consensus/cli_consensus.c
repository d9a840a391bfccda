/*
 * `hivewire sim consensus`: runs the deterministic consensus simulator for one seed or a
 * range of seeds and prints each run's trace hash, or the first violated invariant and the
 * exact command that replays it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/sim.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire sim consensus --seed N [--seeds COUNT] [--agents A] [--proposals P]\n"
            "                              [--faults LIST] [--byzantine K] [--crashed K]\n"
            "                              [--no-early] [--trace]\n\n"
            "Runs agents and the consensus engine over a simulated network and clock and checks\n"
            "the invariants after every step. The same seed gives the same trace hash.\n\n"
            "  --seed N        seed (required)\n"
            "  --seeds COUNT   run seeds N .. N+COUNT-1 (default 1)\n"
            "  --agents A      voting agents, 4..%d (default 7)\n"
            "  --proposals P   proposals to open, 1..%d (default 20)\n"
            "  --faults LIST   none | all | comma list of delay,loss,dup,reorder,crash,byzantine\n"
            "                  (default none)\n"
            "  --byzantine K   Byzantine agents; needs 'byzantine' in --faults and A >= 3K+1\n"
            "                  (default floor((A-1)/3))\n"
            "  --crashed K     crashing agents; needs 'crash' in --faults and, with the\n"
            "                  Byzantine agents, at most A in all (default 1)\n"
            "  --no-early      run the engine without early termination\n"
            "  --trace         print every event\n",
            HV_SIM_AGENTS_MAX, HV_SIM_PROPOSALS_MAX);
}

static void replay_command(const hv_sim_consensus_config *c, char *out, size_t cap)
{
    char faults[96];
    hv_sim_format_faults(c->faults, faults, sizeof(faults));
    int n = snprintf(out, cap,
                     "hivewire sim consensus --seed %llu --agents %u --proposals %u --faults %s",
                     (unsigned long long)c->seed, c->agents, c->proposals, faults);
    if (n > 0 && (size_t)n < cap && c->byzantine)
        n += snprintf(out + n, cap - (size_t)n, " --byzantine %u", c->byzantine);
    if (n > 0 && (size_t)n < cap && c->crashed)
        n += snprintf(out + n, cap - (size_t)n, " --crashed %u", c->crashed);
    if (n > 0 && (size_t)n < cap && c->no_early)
        snprintf(out + n, cap - (size_t)n, " --no-early");
}

static int parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
    uint64_t x;
    if (hv__cli_parse_u64(v, &x) != 0 || x < lo || x > hi)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

/* Options that parse one by one but contradict each other, or leave the engine's assumptions,
 * are usage errors rather than silently ignored or reported "ok". */
static int check_combination(const hv_sim_consensus_config *c, uint64_t seeds)
{
    uint32_t byz =
        (c->faults & HV_SIM_BYZANTINE) ? (c->byzantine ? c->byzantine : (c->agents - 1) / 3) : 0;
    uint32_t crashed = (c->faults & HV_SIM_CRASH) ? (c->crashed ? c->crashed : 1) : 0;
    if (c->byzantine != 0 && !(c->faults & HV_SIM_BYZANTINE)) {
        hv__cli_error("sim", "--byzantine %u needs 'byzantine' in --faults", c->byzantine);
        return -1;
    }
    if (c->crashed != 0 && !(c->faults & HV_SIM_CRASH)) {
        hv__cli_error("sim", "--crashed %u needs 'crash' in --faults", c->crashed);
        return -1;
    }
    if (3 * (uint64_t)byz + 1 > c->agents) {
        hv__cli_error("sim",
                      "--byzantine %u with %u agents breaks the BFT assumption agents >= "
                      "3K+1 (at most %u Byzantine agents here)",
                      byz, c->agents, (c->agents - 1) / 3);
        return -1;
    }
    if ((uint64_t)byz + crashed > c->agents) {
        hv__cli_error("sim", "%u Byzantine + %u crashed agents exceed the %u agents", byz, crashed,
                      c->agents);
        return -1;
    }
    if (seeds - 1 > UINT64_MAX - c->seed) {
        hv__cli_error("sim", "--seed %llu --seeds %llu runs past the largest seed",
                      (unsigned long long)c->seed, (unsigned long long)seeds);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, hv_sim_consensus_config *c, uint64_t *seeds)
{
    int have_seed = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--no-early") == 0) {
            c->no_early = 1;
            continue;
        }
        if (strcmp(a, "--trace") == 0) {
            c->trace = stdout;
            continue;
        }
        if (v == NULL) {
            hv__cli_error("sim", "option '%s' is unknown or lacks its value", a);
            return -1;
        }
        i++;
        if (strcmp(a, "--seed") == 0)
            bad = hv__cli_parse_u64(v, &c->seed) != 0, have_seed = 1;
        else if (strcmp(a, "--seeds") == 0)
            bad = hv__cli_parse_u64(v, seeds) != 0 || *seeds == 0 || *seeds > 100000000;
        else if (strcmp(a, "--agents") == 0)
            bad = parse_u32(v, 4, HV_SIM_AGENTS_MAX, &c->agents);
        else if (strcmp(a, "--proposals") == 0)
            bad = parse_u32(v, 1, HV_SIM_PROPOSALS_MAX, &c->proposals);
        else if (strcmp(a, "--byzantine") == 0)
            bad = parse_u32(v, 1, HV_SIM_AGENTS_MAX, &c->byzantine);
        else if (strcmp(a, "--crashed") == 0)
            bad = parse_u32(v, 1, HV_SIM_AGENTS_MAX, &c->crashed);
        else if (strcmp(a, "--faults") == 0)
            bad = hv_sim_parse_faults(v, &c->faults) != 0;
        else
            bad = 2;
        if (bad) {
            hv__cli_error("sim", bad == 2 ? "unknown option '%s'" : "bad value for %s", a);
            return -1;
        }
    }
    if (!have_seed)
        hv__cli_error("sim", "--seed is required");
    return have_seed ? check_combination(c, *seeds) : -1;
}

static int run_one(const hv_sim_consensus_config *c, int verbose)
{
    hv_sim_consensus_result r;
    char cmd[256];
    int rc = hv_sim_consensus_run(c, &r);
    if (rc != 0) {
        hv__cli_error("sim", "seed %llu: %s", (unsigned long long)c->seed, hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    if (r.violation) {
        replay_command(c, cmd, sizeof(cmd));
        printf("seed %llu: INVARIANT VIOLATED: %s\nreplay: %s\n", (unsigned long long)c->seed,
               r.message, cmd);
        return HV_EXIT_FAIL;
    }
    if (verbose)
        printf("seed %llu: ok  trace %s  events %llu  accepted %llu rejected %llu no_quorum "
               "%llu (early %llu)  votes sent %llu counted %llu refused %llu  lost %llu dup "
               "%llu  forged %llu  equivocations %llu/%llu  et-compared %llu\n",
               (unsigned long long)c->seed, r.trace_hex, (unsigned long long)r.events,
               (unsigned long long)r.decided[HV_OUTCOME_ACCEPTED],
               (unsigned long long)r.decided[HV_OUTCOME_REJECTED],
               (unsigned long long)r.decided[HV_OUTCOME_NO_QUORUM],
               (unsigned long long)r.decided_early, (unsigned long long)r.votes_sent,
               (unsigned long long)r.votes_counted, (unsigned long long)r.votes_refused,
               (unsigned long long)r.lost, (unsigned long long)r.duplicated,
               (unsigned long long)r.forged_sent, (unsigned long long)r.equivocations_detected,
               (unsigned long long)r.equivocations_sent, (unsigned long long)r.et_compared);
    return HV_EXIT_OK;
}

int hv_cmd_sim(int argc, char **argv);
int hv__cmd_sim_swarm(int argc, char **argv); /* src/swarm/cli_sim.c */

int hv_cmd_sim(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? HV_EXIT_USAGE : HV_EXIT_OK;
    }
    if (strcmp(argv[1], "swarm") == 0)
        return hv__cmd_sim_swarm(argc - 1, argv + 1);
    if (strcmp(argv[1], "consensus") != 0) {
        hv__cli_error("sim", "unknown simulation '%s' (available: consensus, swarm)", argv[1]);
        return HV_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return HV_EXIT_OK;
        }
    }
    hv_sim_consensus_config c;
    hv_sim_consensus_config_default(&c, 0);
    uint64_t seeds = 1;
    if (parse_args(argc, argv, &c, &seeds) != 0) {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    uint64_t first = c.seed, failed = 0;
    for (uint64_t k = 0; k < seeds; k++) {
        c.seed = first + k;
        failed += run_one(&c, seeds == 1 || c.trace != NULL) != HV_EXIT_OK;
    }
    if (seeds > 1)
        printf("%llu seeds from %llu: %llu failed\n", (unsigned long long)seeds,
               (unsigned long long)first, (unsigned long long)failed);
    return failed ? HV_EXIT_FAIL : HV_EXIT_OK;
}

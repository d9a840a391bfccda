/*
 * `hivewire sim consensus`: runs the deterministic consensus simulator for one seed or a
 * range of seeds and prints each run's trace hash, or the first violated invariant and the
 * exact command that replays it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/sim.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/report.h"
#include "swarm/cli_sim.h"

typedef struct sim_args {
    uint64_t seeds;
    int trace, json;
} sim_args;

static int apply_faults(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                        size_t cap)
{
    hv_sim_consensus_opts *c = target;
    (void)opt;
    if (hv_sim_parse_faults(v->s, &c->faults) == 0)
        return 0;
    snprintf(why, cap,
             "'%s' is not none, all, or a comma list of delay, loss, dup, reorder, crash, "
             "byzantine",
             v->s);
    return -1;
}

static const hv_opt config_rows[] = {
    { .name = "seed",
      .kind = HV_OPT_U64,
      .flags = HV_OPT_REQUIRED,
      HV_OPT_AT(hv_sim_consensus_opts, seed),
      .umax = UINT64_MAX,
      .help = "seed of the run" },
    { .name = "agents",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_sim_consensus_opts, agents),
      .umin = 4,
      .umax = HV_SIM_AGENTS_MAX,
      .dflt = "7",
      .help = "voting agents" },
    { .name = "proposals",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_sim_consensus_opts, proposals),
      .umin = 1,
      .umax = HV_SIM_PROPOSALS_MAX,
      .dflt = "20",
      .help = "proposals to open" },
    { .name = "faults",
      .kind = HV_OPT_STRING,
      .apply = apply_faults,
      .metavar = "LIST",
      .dflt = "none",
      .help = "none | all | comma list of delay, loss, dup, reorder, crash, byzantine" },
    { .name = "byzantine",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_sim_consensus_opts, byzantine),
      .umin = 1,
      .umax = HV_SIM_AGENTS_MAX,
      .metavar = "K",
      .help = "Byzantine agents; needs 'byzantine' in --faults and A >= 3K+1 (default "
              "floor((A-1)/3))" },
    { .name = "crashed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_sim_consensus_opts, crashed),
      .umin = 1,
      .umax = HV_SIM_AGENTS_MAX,
      .metavar = "K",
      .help = "crashing agents; needs 'crash' in --faults and, with the Byzantine agents, at "
              "most A in all (default 1)" },
    { .name = "no-early",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(hv_sim_consensus_opts, no_early),
      .help = "run the engine without early termination" },
    { 0 },
};

static const hv_opt run_rows[] = {
    { .name = "seeds",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, seeds),
      .umin = 1,
      .umax = 100000000,
      .metavar = "COUNT",
      .dflt = "1",
      .help = "run seeds N .. N+COUNT-1" },
    { .name = "trace",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(sim_args, trace),
      .help = "print every event" },
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(sim_args, json),
      .help = "the result as one JSON document on stdout (docs/REPORT.md)" },
    { 0 },
};

static const hv_opt_section sim_sections[] = {
    { NULL, config_rows, 1 },
    { NULL, run_rows, 0 },
    { 0 },
};

static const hv_cli_spec consensus_spec = {
    .name = "sim consensus",
    .synopsis = "--seed N [options]",
    .summary = "the consensus engine over a simulated network and clock",
    .about = "Runs agents and the consensus engine over a simulated network and clock and\n"
             "checks the invariants after every step. The same seed gives the same trace\n"
             "hash; a violated invariant prints the command that replays it.\n",
    .sections = sim_sections,
    .epilog = "Exit status: 0 every invariant held, 1 a violation or failed run, 2 bad usage.\n",
};

static void replay_command(const hv_sim_consensus_opts *c, char *out, size_t cap)
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

/* Options that parse one by one but contradict each other, or leave the engine's assumptions,
 * are usage errors rather than silently ignored or reported "ok". */
static int check_combination(const hv_sim_consensus_opts *c, uint64_t seeds)
{
    uint32_t byz =
        (c->faults & HV_SIM_BYZANTINE) ? (c->byzantine ? c->byzantine : (c->agents - 1) / 3) : 0;
    uint32_t crashed = (c->faults & HV_SIM_CRASH) ? (c->crashed ? c->crashed : 1) : 0;
    if (c->byzantine != 0 && !(c->faults & HV_SIM_BYZANTINE)) {
        hv__cli_error("sim consensus", "--byzantine: %u needs 'byzantine' in --faults",
                      c->byzantine);
        return -1;
    }
    if (c->crashed != 0 && !(c->faults & HV_SIM_CRASH)) {
        hv__cli_error("sim consensus", "--crashed: %u needs 'crash' in --faults", c->crashed);
        return -1;
    }
    if (3 * (uint64_t)byz + 1 > c->agents) {
        hv__cli_error("sim consensus",
                      "--byzantine: %u with %u agents breaks the BFT assumption agents >= "
                      "3K+1 (at most %u Byzantine agents here)",
                      byz, c->agents, (c->agents - 1) / 3);
        return -1;
    }
    if ((uint64_t)byz + crashed > c->agents) {
        hv__cli_error("sim consensus",
                      "--crashed: %u Byzantine + %u crashed agents exceed the %u agents", byz,
                      crashed, c->agents);
        return -1;
    }
    if (seeds - 1 > UINT64_MAX - c->seed) {
        hv__cli_error("sim consensus", "--seeds: %llu from --seed %llu runs past the largest seed",
                      (unsigned long long)seeds, (unsigned long long)c->seed);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, hv_sim_consensus_opts *c, sim_args *a)
{
    void *targets[] = { a, c };
    int rc = hv__opts_parse(&consensus_spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (a->trace && a->json)
        return hv__opts_usage_error(&consensus_spec,
                                    "--trace: prints on stdout, which --json owns; choose one");
    c->trace = a->trace ? stdout : NULL;
    return check_combination(c, a->seeds) == 0 ? HV_OPTS_PROCEED : HV_EXIT_USAGE;
}

static json_t *config_json(const hv_sim_consensus_opts *c, uint64_t seeds)
{
    char faults[96];
    hv_sim_format_faults(c->faults, faults, sizeof(faults));
    return json_pack("{s:I, s:I, s:i, s:i, s:s, s:i, s:i, s:b}", "seed", (json_int_t)c->seed,
                     "seeds", (json_int_t)seeds, "agents", c->agents, "proposals", c->proposals,
                     "faults", faults, "byzantine", c->byzantine, "crashed", c->crashed,
                     "early_termination", !c->no_early);
}

static json_t *run_json(const hv_sim_consensus_opts *c, const hv_sim_consensus_result *r)
{
    char cmd[256];
    replay_command(c, cmd, sizeof(cmd));
    return json_pack(
        "{s:I, s:b, s:o, s:s, s:s, s:I, s:f, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}, "
        "s:{s:I, s:I}, s:I, s:{s:I, s:I}, s:I}",
        "seed", (json_int_t)c->seed, "invariants_held", !r->violation, "violation",
        r->violation ? json_string(r->message) : json_null(), "replay", cmd, "trace_hash",
        r->trace_hex, "events", (json_int_t)r->events, "simulated_s", (double)r->sim_end_ns / 1e9,
        "decided", "accepted", (json_int_t)r->decided[HV_OUTCOME_ACCEPTED], "rejected",
        (json_int_t)r->decided[HV_OUTCOME_REJECTED], "no_quorum",
        (json_int_t)r->decided[HV_OUTCOME_NO_QUORUM], "early", (json_int_t)r->decided_early,
        "votes", "sent", (json_int_t)r->votes_sent, "counted", (json_int_t)r->votes_counted,
        "refused", (json_int_t)r->votes_refused, "network", "lost", (json_int_t)r->lost,
        "duplicated", (json_int_t)r->duplicated, "forged_sent", (json_int_t)r->forged_sent,
        "equivocations", "sent", (json_int_t)r->equivocations_sent, "detected",
        (json_int_t)r->equivocations_detected, "early_termination_compared",
        (json_int_t)r->et_compared);
}

/* One seed: its lines (verbose), the violation and its replay command, its JSON (runs, when
 * not NULL: every verbose run and every violation). */
static int run_one(const hv_sim_consensus_opts *c, int verbose, json_t *runs)
{
    hv_sim_consensus_result r;
    char cmd[256];
    int rc = hv_sim_consensus_run(c, &r);
    if (rc != 0) {
        hv__cli_error("sim consensus", "seed %llu: %s", (unsigned long long)c->seed,
                      hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    if (runs != NULL && (verbose || r.violation))
        json_array_append_new(runs, run_json(c, &r));
    if (runs != NULL)
        return r.violation ? HV_EXIT_FAIL : HV_EXIT_OK;
    if (r.violation) {
        replay_command(c, cmd, sizeof(cmd));
        printf("seed %llu: INVARIANT VIOLATED: %s\nreplay: %s\n", (unsigned long long)c->seed,
               r.message, cmd);
        return HV_EXIT_FAIL;
    }
    if (verbose)
        printf("seed %llu: ok\ntrace %s\nevents %llu, accepted %llu, rejected %llu, no quorum "
               "%llu (early %llu)\nvotes sent %llu, counted %llu, refused %llu; lost %llu, dup "
               "%llu\nforged %llu, equivocations detected %llu of %llu, et-compared %llu\n",
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

static int cmd_consensus(int argc, char **argv)
{
    hv_sim_consensus_opts c;
    hv_sim_consensus_opts_default(&c);
    sim_args a = { .seeds = 1 };
    int rc = parse_args(argc, argv, &c, &a);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    uint64_t first = c.seed, failed = 0;
    json_t *doc = a.json ? hv__cli_json_doc("sim consensus") : NULL;
    json_t *runs = a.json ? json_array() : NULL;
    if (doc != NULL)
        json_object_set_new(doc, "config", config_json(&c, a.seeds));
    for (uint64_t k = 0; k < a.seeds; k++) {
        c.seed = first + k;
        failed += run_one(&c, a.seeds == 1 || c.trace != NULL, runs) != HV_EXIT_OK;
    }
    if (doc != NULL) {
        json_object_set_new(doc, "result",
                            json_pack("{s:I, s:I, s:b, s:o}", "seeds", (json_int_t)a.seeds,
                                      "failed", (json_int_t)failed, "invariants_held", failed == 0,
                                      "runs", runs));
        if (hv__cli_json_print(doc) != 0)
            return HV_EXIT_FAIL;
    } else if (a.seeds > 1) {
        printf("%llu seeds from %llu: %llu failed\n", (unsigned long long)a.seeds,
               (unsigned long long)first, (unsigned long long)failed);
    }
    return failed ? HV_EXIT_FAIL : HV_EXIT_OK;
}

static const hv_cli_sub sim_subs[] = {
    { &consensus_spec, cmd_consensus },
    { &hv__sim_swarm_spec, hv__cmd_sim_swarm },
    { NULL, NULL },
};

static const hv_cli_group sim_group = {
    .name = "sim",
    .about = "Deterministic simulations: the same seed replays the same run exactly.\n",
    .subs = sim_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_sim = &sim_group;

int hv_cmd_sim(int argc, char **argv);

int hv_cmd_sim(int argc, char **argv)
{
    return hv__opts_dispatch(&sim_group, argc, argv);
}

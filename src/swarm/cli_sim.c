/*
 * hivewire sim swarm: the whole swarm on the deterministic simulator, one seed or many, with
 * faults; prints the trace hash and the trade list hash, and for a failing seed the command
 * that replays it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/swarm.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/sim.h"
#include "swarm/cli_sim.h"

#define CMD "sim swarm"

typedef struct sim_args {
    uint64_t seeds;
    const char *faults_text;
    const char *trace_path;
    int json, quiet, progress; /* progress: -1 auto, 0 off, 1 on */
    hv_swarm_sim_opts sc;
    hv_swarm_opts cfg;
    hv_cli_bars_opts bars;
} sim_args;

static int apply_faults(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                        size_t cap)
{
    (void)opt;
    sim_args *a = target;
    if (hv_sim_parse_fault_set(v->s, HV_SIM_SWARM_ALL, &a->sc.faults) != 0) {
        snprintf(why, cap,
                 "'%s' is not none, all, or a list of delay, loss, dup, reorder, crash, "
                 "restart, slow",
                 v->s);
        return -1;
    }
    a->faults_text = v->s;
    return 0;
}

static const hv_opt sim_rows[] = {
    { .name = "seed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, sc.seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "network, fault and swarm seed" },
    { .name = "seeds",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, seeds),
      .umin = 1,
      .umax = 1000000,
      .metavar = "K",
      .dflt = "1",
      .help = "run K seeds from --seed; print only the failures and a summary" },
    { .name = "faults",
      .kind = HV_OPT_STRING,
      .apply = apply_faults,
      .metavar = "LIST",
      .dflt = "none",
      .help = "none | all | comma list of delay, loss, dup, reorder, crash, restart, slow" },
    { .name = "crashed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, sc.crashed),
      .umin = 1,
      .umax = 4,
      .needs = "faults",
      .metavar = "N",
      .dflt = "1",
      .help = "agents that crash (with crash or restart in --faults)" },
    { .name = "trace",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_PATH,
      HV_OPT_AT(sim_args, trace_path),
      .help = "write one line per event to FILE (- for stdout)" },
    { 0 },
};

static const hv_opt swarm_rows[] = {
    { .name = "cycles",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, cfg.cycles_max),
      .umin = 1,
      .umax = HV_SWARM_BARS_MAX,
      .help = "stop after N cycles (default: the whole series)" },
    { .name = "patterns",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, cfg.patterns),
      .umin = 1,
      .umax = HV_SWARM_PATTERNS_MAX,
      .dflt = "4",
      .help = "pattern agents" },
    { .name = "proposal-ms",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, cfg.proposal_timeout_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "1000",
      .help = "a proposal still open this long (simulated) ends as no quorum" },
    { .name = "cycle-ms",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, cfg.cycle_timeout_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "2000",
      .help = "a cycle without its signal or order result this long ends as stalled" },
    { .name = "heartbeat-ms",
      .kind = HV_OPT_U64,
      HV_OPT_AT(sim_args, cfg.heartbeat_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "100",
      .help = "agents' heartbeat period; requests go again after one unanswered" },
    { 0 },
};

static const hv_opt output_rows[] = {
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(sim_args, json),
      .help = "the result as one JSON document on stdout (docs/REPORT.md)" },
    { .name = "progress",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(sim_args, progress),
      .help = "show the progress over the seeds (the default with --seeds, unless --quiet)" },
    { .name = "no-progress",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      HV_OPT_AT(sim_args, progress),
      .help = "no progress output" },
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(sim_args, quiet),
      .help = "no progress; with --seeds, only the failures and the last line" },
    { 0 },
};

enum { T_ARGS, T_BARS };

static const hv_opt_section sim_sections[] = {
    { "simulation", sim_rows, T_ARGS },
    { "data", hv__cli_bars_rows, T_BARS },
    { "swarm (hivewire run's defaults)", swarm_rows, T_ARGS },
    { "output", output_rows, T_ARGS },
    { 0 },
};

const hv_cli_spec hv__sim_swarm_spec = {
    .name = "sim swarm",
    .synopsis = "[options]",
    .summary = "every agent of the trading swarm on simulated time over a faulty network",
    .about = "Runs every agent of the trading swarm, built as hivewire run builds them, on\n"
             "simulated time over a seeded network, checking after every step: no order\n"
             "without an accepted decision, no order executed twice, every proposal ended by\n"
             "its deadline, the position and cash equal to the sum of the fills, no frame\n"
             "from a crashed agent, never stuck while every agent is alive. The same seed\n"
             "gives the same trace hash; with no faults the trade list hash is hivewire run's\n"
             "on the same data and seed.\n",
    .sections = sim_sections,
    .epilog = "Exit status: 0 every invariant held, 1 a violation (the command that replays it\n"
              "is printed) or bad data, 2 bad usage.\n",
};

static void replay_hint(const sim_args *o, uint64_t seed)
{
    printf("replay: hivewire sim swarm --seed %" PRIu64 " --faults %s", seed, o->faults_text);
    if (o->bars.synthetic)
        printf(" --synthetic %" PRIu64, o->bars.synthetic);
    else if (!o->bars.looked_up)
        printf(" --data %s", o->bars.data);
    if (o->bars.symbol != NULL)
        printf(" --symbol %s", o->bars.symbol);
    if (o->cfg.cycles_max)
        printf(" --cycles %" PRIu64, o->cfg.cycles_max);
    if (o->sc.crashed)
        printf(" --crashed %u", o->sc.crashed);
    printf(" --trace -\n");
}

static void print_one(const hv_swarm_sim_result *r, const hv_swarm_stats *st, const sim_args *o,
                      size_t nbars)
{
    printf("sim swarm: seed %" PRIu64 ", faults %s, %zu bars\n", o->sc.seed, o->faults_text, nbars);
    printf("events %" PRIu64 ", simulated %.3f s\n", r->events, (double)r->sim_end_ns / 1e9);
    printf("frames lost %" PRIu64 ", duplicated %" PRIu64 "; crashes %" PRIu64 ", restarts %" PRIu64
           "\n",
           r->lost, r->duplicated, r->crashes, r->restarts);
    printf("cycles %" PRIu64 " (stalled %" PRIu64 ")\n", st->cycles, st->cycles_stalled);
    printf("proposals %" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64 ", no quorum %" PRIu64
           ")\n",
           st->proposals, st->accepted, st->rejected, st->no_quorum);
    printf("orders %" PRIu64 " sent (%" PRIu64 " results unknown), fills %" PRIu64 "\n",
           st->orders_sent, st->orders_unknown, st->fills);
    printf("agents lost %u, rejoined %u, reports %u\n", st->agents_lost, st->agents_rejoined,
           st->agents_reported);
    printf("trade list hash %016" PRIx64 "\n", st->trades_hash);
    printf("trace hash %s\n", r->trace_hex);
}

/* ---- JSON ------------------------------------------------------------------------------------
 */

static json_t *config_json(const sim_args *o, const hv_series *bars, uint64_t first)
{
    json_t *j = json_object();
    json_object_set_new(j, "data", hv__cli_bars_json(&o->bars, bars));
    json_object_set_new(j, "seed", json_integer((json_int_t)first));
    json_object_set_new(j, "seeds", json_integer((json_int_t)o->seeds));
    json_object_set_new(j, "faults", json_string(o->faults_text));
    json_object_set_new(j, "crashed", json_integer(o->sc.crashed));
    json_object_set_new(j, "cycles_max",
                        o->cfg.cycles_max ? json_integer((json_int_t)o->cfg.cycles_max)
                                          : json_null());
    json_object_set_new(j, "patterns", json_integer(o->cfg.patterns));
    json_object_set_new(j, "proposal_ms",
                        json_integer((json_int_t)(o->cfg.proposal_timeout_ns / 1000000)));
    json_object_set_new(j, "cycle_ms",
                        json_integer((json_int_t)(o->cfg.cycle_timeout_ns / 1000000)));
    json_object_set_new(j, "heartbeat_ms",
                        json_integer((json_int_t)(o->cfg.heartbeat_ns / 1000000)));
    return j;
}

/* One seed's outcome, as print_one() shows it. */
static json_t *seed_json(const hv_swarm_sim_result *r, const hv_swarm_stats *st, uint64_t seed)
{
    char hash[17];
    snprintf(hash, sizeof(hash), "%016" PRIx64, st->trades_hash);
    json_t *j = json_object();
    json_object_set_new(j, "seed", json_integer((json_int_t)seed));
    json_object_set_new(j, "invariants_held", json_boolean(!r->violation));
    json_object_set_new(j, "violation", r->violation ? json_string(r->message) : json_null());
    json_object_set_new(j, "gave_up",
                        r->gave_up && !r->violation ? json_string(r->message) : json_null());
    json_object_set_new(j, "events", json_integer((json_int_t)r->events));
    json_object_set_new(j, "simulated_s", json_real((double)r->sim_end_ns / 1e9));
    json_object_set_new(j, "network",
                        json_pack("{s:I, s:I}", "frames_lost", (json_int_t)r->lost,
                                  "frames_duplicated", (json_int_t)r->duplicated));
    json_object_set_new(j, "agents",
                        json_pack("{s:I, s:I, s:i, s:i, s:i}", "crashes", (json_int_t)r->crashes,
                                  "restarts", (json_int_t)r->restarts, "lost", st->agents_lost,
                                  "rejoined", st->agents_rejoined, "reported",
                                  st->agents_reported));
    json_object_set_new(j, "cycles",
                        json_pack("{s:I, s:I}", "completed", (json_int_t)st->cycles, "stalled",
                                  (json_int_t)st->cycles_stalled));
    json_object_set_new(j, "proposals",
                        json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)st->proposals,
                                  "accepted", (json_int_t)st->accepted, "rejected",
                                  (json_int_t)st->rejected, "no_quorum",
                                  (json_int_t)st->no_quorum));
    json_object_set_new(j, "orders",
                        json_pack("{s:I, s:I}", "sent", (json_int_t)st->orders_sent,
                                  "results_unknown", (json_int_t)st->orders_unknown));
    json_object_set_new(j, "fills", json_integer((json_int_t)st->fills));
    json_object_set_new(j, "trade_list_hash", json_string(hash));
    json_object_set_new(j, "trace_hash", json_string(r->trace_hex));
    return j;
}

/* ---- Running the seeds -----------------------------------------------------------------------
 */

static int run_seeds(sim_args *o, const hv_series *bars)
{
    uint64_t first = o->sc.seed, failed = 0;
    hv_cli_progress line;
    hv__cli_progress_init(&line, CMD, "seeds", o->seeds > 1 ? o->progress : 0);
    json_t *doc = o->json ? hv__cli_json_doc(CMD) : NULL, *seeds = o->json ? json_array() : NULL;
    if (doc != NULL)
        json_object_set_new(doc, "config", config_json(o, bars, first));
    for (uint64_t k = 0; k < o->seeds; k++) {
        o->sc.seed = first + k;
        o->cfg.seed = o->sc.seed;
        o->cfg.exchange.seed = o->sc.seed;
        hv_swarm_sim_result r;
        hv_swarm_stats st;
        int rc = hv_swarm_sim(&o->cfg, bars->bars, bars->len, &o->sc, &r, &st);
        if (rc != 0) {
            hv__cli_progress_break(&line);
            hv__cli_error(CMD, "seed %" PRIu64 ": %s", o->sc.seed, hv_strerror(rc));
            json_decref(doc);
            json_decref(seeds);
            return HV_EXIT_FAIL;
        }
        if (seeds != NULL && (o->seeds == 1 || r.violation))
            json_array_append_new(seeds, seed_json(&r, &st, o->sc.seed));
        if (o->seeds == 1 && !o->json)
            print_one(&r, &st, o, bars->len);
        if (r.violation) {
            failed++;
            if (!o->json) {
                hv__cli_progress_break(&line);
                printf("seed %" PRIu64 ": VIOLATION: %s\n", o->sc.seed, r.message);
                replay_hint(o, o->sc.seed);
            }
        } else if (o->seeds == 1 && !o->json) {
            if (r.gave_up)
                printf("the coordinator gave up (an agent crashed for good): %s\n", r.message);
            printf("invariants: all held\n");
        }
        hv__cli_progress_update(&line, k + 1, o->seeds);
    }
    if (doc != NULL) {
        json_object_set_new(
            doc, "result",
            json_pack("{s:I, s:I, s:b, s:o}", "seeds", (json_int_t)o->seeds, "failed",
                      (json_int_t)failed, "invariants_held", failed == 0,
                      o->seeds == 1 ? "run" : "failures",
                      o->seeds == 1 ? json_incref(json_array_get(seeds, 0)) : json_incref(seeds)));
        json_decref(seeds);
        if (hv__cli_json_print(doc) != 0)
            return HV_EXIT_FAIL;
    } else if (o->seeds > 1) {
        printf("%" PRIu64 " seeds from %" PRIu64 ", faults %s: %" PRIu64 " failed\n", o->seeds,
               first, o->faults_text, failed);
    }
    return failed ? HV_EXIT_FAIL : HV_EXIT_OK;
}

int hv__cmd_sim_swarm(int argc, char **argv)
{
    sim_args o;
    memset(&o, 0, sizeof(o));
    o.seeds = 1;
    hv_swarm_sim_opts_default(&o.sc);
    o.faults_text = "none";
    o.progress = -1;
    hv_swarm_opts_default(&o.cfg);
    hv__cli_bars_opts_default(&o.bars);
    void *targets[] = { &o, &o.bars };
    int rc = hv__opts_parse(&hv__sim_swarm_spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o.sc.crashed > 0 && !(o.sc.faults & (HV_SIM_CRASH | HV_SIM_RESTART)))
        return hv__opts_usage_error(&hv__sim_swarm_spec,
                                    "--crashed: needs crash or restart in --faults");
    if (o.quiet && o.progress < 0)
        o.progress = 0;
    if (o.json && o.trace_path != NULL && strcmp(o.trace_path, "-") == 0)
        return hv__opts_usage_error(&hv__sim_swarm_spec,
                                    "--trace: - (stdout) cannot go with --json, which owns stdout");
    o.cfg.bar_ns = o.bars.bar_ns;
    hv_field_error fe;
    if (hv_swarm_opts_check(&o.cfg, &fe) != 0)
        return hv__opts_field_error(&hv__sim_swarm_spec, &fe);
    FILE *tf = NULL;
    if (o.trace_path != NULL) {
        tf = strcmp(o.trace_path, "-") == 0 ? stdout : fopen(o.trace_path, "w");
        if (tf == NULL) {
            hv__cli_error(CMD, "--trace: cannot write %s", o.trace_path);
            return HV_EXIT_FAIL;
        }
        o.sc.trace = tf;
    }
    hv_series bars;
    hv_series_init(&bars);
    rc = hv__cli_bars_load(CMD, &o.bars, o.sc.seed, &bars);
    if (rc == 0 && bars.len < 2) {
        hv__cli_error(CMD, "%s has %zu bar; the swarm needs at least 2",
                      o.bars.synthetic ? "the synthetic series" : o.bars.data, bars.len);
        rc = HV_EXIT_FAIL;
    }
    if (rc == 0)
        rc = run_seeds(&o, &bars);
    hv_series_fini(&bars);
    if (tf != NULL && tf != stdout)
        fclose(tf);
    return rc;
}

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
#include "trading/cli_trading.h"

#define CMD "sim swarm"

int hv__cmd_sim_swarm(int argc, char **argv);

typedef struct sim_opts {
    const char *data;
    uint64_t synthetic, seeds;
    const char *faults_text;
    const char *trace_path;
    hv_swarm_sim_config sc;
    hv_swarm_config cfg;
} sim_opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: hivewire sim swarm [options]\n\n"
               "Runs every agent of the trading swarm (hivewire run's defaults) on simulated time\n"
               "over a seeded network, checking after every step: no order without an accepted\n"
               "decision, no order executed twice, every proposal ended by its deadline, the\n"
               "position and cash equal to the sum of the fills, no frame from a crashed agent.\n"
               "The same seed gives the same trace hash. With no faults the trade list hash is\n"
               "hivewire run's on the same data and seed.\n\n"
               "  --seed N          network, fault and swarm seed (default 1)\n"
               "  --seeds K         run K seeds from N; print only failures and a summary\n"
               "  --faults LIST     none (default), all, or comma-separated: delay, loss, dup,\n"
               "                    reorder, crash, restart, slow\n"
               "  --crashed N       agents that crash with crash/restart, 1..4 (default 1)\n"
               "  --data FILE       CSV bars (default data/sp500-2000.csv)\n"
               "  --synthetic N     N synthetic bars instead (seeded by --seed)\n"
               "  --cycles N        stop after N cycles (default: the whole series)\n"
               "  --patterns N      pattern agents, 1..16 (default 4)\n"
               "  --proposal-ms N --cycle-ms N --heartbeat-ms N\n"
               "                    deadlines and heartbeat period on simulated time\n"
               "                    (defaults 1000, 2000, 100: hivewire run's)\n"
               "  --trace FILE      one line per event (- for stdout)\n");
}

static int parse_ms(const char *a, const char *v, uint64_t *out)
{
    uint64_t u;
    if (hv__cli_parse_u64(v, &u) != 0 || u == 0 || u > 3600000) {
        hv__cli_error(CMD, "%s takes milliseconds from 1 to 3600000", a);
        return HV_EXIT_USAGE;
    }
    *out = u * 1000000ull;
    return 0;
}

static int parse_num(const char *a, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (hv__cli_parse_u64(v, out) != 0 || *out < lo || *out > hi) {
        hv__cli_error(CMD, "%s takes a number from %llu to %llu", a, (unsigned long long)lo,
                      (unsigned long long)hi);
        return HV_EXIT_USAGE;
    }
    return 0;
}

static int parse_one(sim_opts *o, const char *a, const char *v)
{
    uint64_t u = 0;
    int rc = 0;
    if (strcmp(a, "--seed") == 0)
        rc = parse_num(a, v, 0, UINT64_MAX, &o->sc.seed);
    else if (strcmp(a, "--seeds") == 0)
        rc = parse_num(a, v, 1, 1000000, &o->seeds);
    else if (strcmp(a, "--crashed") == 0 && (rc = parse_num(a, v, 1, 4, &u)) == 0)
        o->sc.crashed = (uint32_t)u;
    else if (strcmp(a, "--synthetic") == 0)
        rc = parse_num(a, v, 2, HV_SWARM_BARS_MAX, &o->synthetic);
    else if (strcmp(a, "--cycles") == 0)
        rc = parse_num(a, v, 1, HV_SWARM_BARS_MAX, &o->cfg.cycles_max);
    else if (strcmp(a, "--patterns") == 0 &&
             (rc = parse_num(a, v, 1, HV_SWARM_PATTERNS_MAX, &u)) == 0)
        o->cfg.patterns = (uint32_t)u;
    else if (strcmp(a, "--proposal-ms") == 0)
        rc = parse_ms(a, v, &o->cfg.proposal_timeout_ns);
    else if (strcmp(a, "--cycle-ms") == 0)
        rc = parse_ms(a, v, &o->cfg.cycle_timeout_ns);
    else if (strcmp(a, "--heartbeat-ms") == 0)
        rc = parse_ms(a, v, &o->cfg.heartbeat_ns);
    else if (strcmp(a, "--data") == 0)
        o->data = v;
    else if (strcmp(a, "--trace") == 0)
        o->trace_path = v;
    else if (strcmp(a, "--faults") == 0) {
        o->faults_text = v;
        if (hv_sim_parse_fault_set(v, HV_SIM_SWARM_ALL, &o->sc.faults) != 0) {
            hv__cli_error(CMD,
                          "--faults takes none, all, or a list of delay, loss, dup, "
                          "reorder, crash, restart, slow (got '%s')",
                          v);
            rc = HV_EXIT_USAGE;
        }
    } else {
        hv__cli_error(CMD, "unknown option '%s' (see --help)", a);
        rc = HV_EXIT_USAGE;
    }
    return rc;
}

static int parse_args(int argc, char **argv, sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->data = "data/sp500-2000.csv";
    o->seeds = 1;
    o->sc.seed = 1;
    o->faults_text = "none";
    hv_swarm_config_default(&o->cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (i + 1 >= argc) {
            hv__cli_error(CMD, "option '%s' needs a value (see --help)", a);
            return HV_EXIT_USAGE;
        }
        int rc = parse_one(o, a, argv[++i]);
        if (rc != 0)
            return rc;
    }
    if (o->sc.crashed > 0 && !(o->sc.faults & (HV_SIM_CRASH | HV_SIM_RESTART))) {
        hv__cli_error(CMD, "--crashed needs --faults crash or restart");
        return HV_EXIT_USAGE;
    }
    return 0;
}

static void replay_hint(const sim_opts *o, uint64_t seed)
{
    printf("replay: hivewire sim swarm --seed %" PRIu64 " --faults %s", seed, o->faults_text);
    if (o->synthetic)
        printf(" --synthetic %" PRIu64, o->synthetic);
    else if (strcmp(o->data, "data/sp500-2000.csv") != 0)
        printf(" --data %s", o->data);
    if (o->cfg.cycles_max)
        printf(" --cycles %" PRIu64, o->cfg.cycles_max);
    if (o->sc.crashed)
        printf(" --crashed %u", o->sc.crashed);
    printf(" --trace -\n");
}

static void print_one(const hv_swarm_sim_result *r, const hv_swarm_stats *st, const sim_opts *o,
                      size_t nbars)
{
    printf("sim swarm: seed %" PRIu64 ", faults %s, %zu bars\n", o->sc.seed, o->faults_text, nbars);
    printf("events %" PRIu64 ", simulated %.3f s, frames lost %" PRIu64 ", duplicated %" PRIu64
           ", crashes %" PRIu64 ", restarts %" PRIu64 "\n",
           r->events, (double)r->sim_end_ns / 1e9, r->lost, r->duplicated, r->crashes, r->restarts);
    printf("cycles %" PRIu64 " (stalled %" PRIu64 "), proposals %" PRIu64 " (accepted %" PRIu64
           ", rejected %" PRIu64 ", no quorum %" PRIu64 ")\n",
           st->cycles, st->cycles_stalled, st->proposals, st->accepted, st->rejected,
           st->no_quorum);
    printf("orders %" PRIu64 " sent (%" PRIu64 " results unknown), fills %" PRIu64
           ", agents lost %u, rejoined %u, reports %u\n",
           st->orders_sent, st->orders_unknown, st->fills, st->agents_lost, st->agents_rejoined,
           st->agents_reported);
    printf("trade list hash %016" PRIx64 "\n", st->trades_hash);
    printf("trace hash %s\n", r->trace_hex);
}

static int run_seeds(sim_opts *o, const hv_series *bars)
{
    uint64_t first = o->sc.seed, failed = 0;
    for (uint64_t k = 0; k < o->seeds; k++) {
        o->sc.seed = first + k;
        o->cfg.seed = o->sc.seed;
        o->cfg.exchange.seed = o->sc.seed;
        hv_swarm_sim_result r;
        hv_swarm_stats st;
        int rc = hv_swarm_sim(&o->cfg, bars->bars, bars->len, &o->sc, &r, &st);
        if (rc != 0) {
            hv__cli_error(CMD, "seed %" PRIu64 ": %s", o->sc.seed, hv_strerror(rc));
            return rc == HV_EINVAL || rc == HV_ERANGE ? HV_EXIT_USAGE : HV_EXIT_FAIL;
        }
        if (o->seeds == 1)
            print_one(&r, &st, o, bars->len);
        if (r.violation) {
            failed++;
            printf("seed %" PRIu64 ": VIOLATION: %s\n", o->sc.seed, r.message);
            replay_hint(o, o->sc.seed);
        } else if (o->seeds == 1) {
            if (r.gave_up)
                printf("the coordinator gave up (an agent crashed for good): %s\n", r.message);
            printf("invariants: all held\n");
        }
    }
    if (o->seeds > 1)
        printf("%" PRIu64 " seeds from %" PRIu64 ", faults %s: %" PRIu64 " failed\n", o->seeds,
               first, o->faults_text, failed);
    return failed ? HV_EXIT_FAIL : HV_EXIT_OK;
}

int hv__cmd_sim_swarm(int argc, char **argv)
{
    sim_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? HV_EXIT_OK : rc;
    FILE *tf = NULL;
    if (o.trace_path != NULL) {
        tf = strcmp(o.trace_path, "-") == 0 ? stdout : fopen(o.trace_path, "w");
        if (tf == NULL) {
            hv__cli_error(CMD, "cannot write %s", o.trace_path);
            return HV_EXIT_FAIL;
        }
        o.sc.trace = tf;
    }
    hv_series bars;
    hv_series_init(&bars);
    rc = hv__cli_load_bars(CMD, o.data, o.synthetic, o.sc.seed, &bars);
    if (rc == 0)
        rc = run_seeds(&o, &bars);
    hv_series_fini(&bars);
    if (tf != NULL && tf != stdout)
        fclose(tf);
    return rc;
}

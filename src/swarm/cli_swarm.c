/*
 * hivewire run: the trading swarm over the real S&P 500 series (or synthetic bars), with a
 * progress bar, the stage table, trades, P&L, drawdown and consensus statistics, and the JSON
 * and HTML reports under out/.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hivewire/swarm.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/sim.h"
#include "obs/cli_obs.h"
#include "trading/cli_trading.h"

#define CMD "run"

typedef struct run_opts {
    hv_cli_bars_opts bars;
    const char *out;
    int no_report;
    int quiet, progress; /* progress: -1 auto (isatty), 0 off, 1 on */
    hv_swarm_config cfg;
    hv_obs_cli obs; /* --metrics, --serve, alerts (src/obs) */
} run_opts;

/* ---- Options ------------------------------------------------------------------------------- */

/* Options that set a field of every pattern agent (agent i's window is --window + 8 i). */
static int apply_patterns(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                          size_t cap)
{
    (void)why;
    (void)cap;
    hv_swarm_config *c = &((run_opts *)target)->cfg;
    for (uint32_t j = 0; j < HV_SWARM_PATTERNS_MAX; j++) {
        hv_swarm_pattern *p = &c->pattern[j];
        if (strcmp(opt->name, "window") == 0)
            p->len = (uint32_t)v->u + 8 * j;
        else if (strcmp(opt->name, "k") == 0)
            p->k = (uint32_t)v->u;
        else if (strcmp(opt->name, "horizon") == 0)
            p->horizon = (uint32_t)v->u;
        else if (strcmp(opt->name, "stride") == 0)
            p->stride = (uint32_t)v->u;
        else if (strcmp(opt->name, "capacity") == 0)
            p->capacity = (uint32_t)v->u;
        else
            p->band = v->d;
    }
    return 0;
}

static int apply_voters(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                        size_t cap)
{
    (void)opt;
    (void)why;
    (void)cap;
    hv_swarm_config *c = &((run_opts *)target)->cfg;
    c->patterns = (uint32_t)v->u - 1;
    c->risk_votes = 1;
    return 0;
}

static int apply_rule(void *target, const hv_opt *opt, const hv_opt_value *v, char *why, size_t cap)
{
    static const char *const names[HV_CRIT_COUNT] = { "rule-low", "rule-medium", "rule-high",
                                                      "rule-critical" };
    hv_swarm_config *c = &((run_opts *)target)->cfg;
    hv_policy p;
    unsigned n = 0, d = 0;
    memset(&p, 0, sizeof(p));
    if (strcmp(v->s, "majority") == 0)
        p.rule = HV_RULE_MAJORITY;
    else if (strcmp(v->s, "simple") == 0)
        p.rule = HV_RULE_SIMPLE_MAJORITY;
    else if (strcmp(v->s, "unanimous") == 0)
        p.rule = HV_RULE_UNANIMOUS;
    else if (strcmp(v->s, "bft") == 0)
        p.rule = HV_RULE_BFT;
    else if (sscanf(v->s, "threshold:%u/%u", &n, &d) == 2)
        p.rule = HV_RULE_THRESHOLD;
    else if (sscanf(v->s, "weighted:%u/%u", &n, &d) == 2)
        p.rule = HV_RULE_WEIGHTED;
    p.num = n;
    p.den = d;
    for (int i = 0; i < HV_CRIT_COUNT; i++)
        if (strcmp(opt->name, names[i]) == 0 && p.rule != HV_RULE_AUTO &&
            hv_crit_table_set_policy(&c->table, (hv_crit)i, &p) == 0)
            return 0;
    snprintf(why, cap,
             "'%s' is not a rule: majority, simple, threshold:N/D (0 < N <= D), weighted:N/D "
             "(N < D), unanimous, bft",
             v->s);
    return -1;
}

static int apply_crit(void *target, const hv_opt *opt, const hv_opt_value *v, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    hv_swarm_config *c = &((run_opts *)target)->cfg;
    uint32_t action = strcmp(opt->name, "crit-order") == 0 ? HV_ACTION_ORDER_EXECUTION
                                                           : HV_ACTION_POSITION_CHANGE;
    return hv_crit_table_set_action(&c->table, action, (hv_crit)v->e) == 0 ? 0 : -1;
}

static int apply_no_report(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                           size_t cap)
{
    (void)opt;
    (void)v;
    (void)why;
    (void)cap;
    ((run_opts *)target)->no_report = 1;
    return 0;
}

static const hv_opt_choice runners[] = {
    { "auto", HV_SWARM_RUNNER_AUTO, "one (the run summary says so)" },
    { "one", HV_SWARM_RUNNER_ONE, "every agent stepped by one thread: no hand-offs" },
    { "threads", HV_SWARM_RUNNER_THREADS, "a thread per agent" },
    { NULL, 0, NULL },
};
static const hv_opt_choice waits[] = {
    { "block", 0, NULL }, { "spin", 1, NULL }, { "yield", 2, NULL }, { NULL, 0, NULL }
};
static const hv_opt_choice placements[] = {
    { "auto", HV_SWARM_PLACE_AUTO, "the message chain on one CPU, pattern agents over two" },
    { "none", HV_SWARM_PLACE_NONE, "the OS places the threads" },
    { NULL, 0, NULL },
};
static const hv_opt_choice auths[] = {
    { "auto", HV_SWARM_AUTH_AUTO, "mac: every voter is in this process" },
    { "sig", HV_SWARM_AUTH_SIG, "Ed25519 signatures" },
    { "mac", HV_SWARM_AUTH_MAC, "keyed BLAKE2b-256 MACs (voters in one process only)" },
    { NULL, 0, NULL },
};
static const hv_opt_choice crits[] = {
    { "low", HV_CRIT_LOW, NULL },
    { "medium", HV_CRIT_MEDIUM, NULL },
    { "high", HV_CRIT_HIGH, NULL },
    { "critical", HV_CRIT_CRITICAL, NULL },
    { NULL, 0, NULL },
};

#define RUN_AT(member) HV_OPT_AT(run_opts, member)
#define PATTERN_ROW(n, lo, hi, d, h)                                                    \
    {                                                                                   \
        .name = n, .kind = HV_OPT_U64, .umin = lo, .umax = hi, .apply = apply_patterns, \
        .field = "pattern", .dflt = d, .help = h                                        \
    }

static const hv_opt agent_rows[] = {
    { .name = "cycles",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.cycles_max),
      .umin = 1,
      .umax = HV_SWARM_BARS_MAX,
      .help = "stop after N cycles (default: one per bar of the series)" },
    { .name = "patterns",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.patterns),
      .umin = 1,
      .umax = HV_SWARM_PATTERNS_MAX,
      .field = "patterns",
      .dflt = "4",
      .help = "pattern agents (each votes, with the risk agent)" },
    { .name = "voters",
      .kind = HV_OPT_U64,
      .umin = 2,
      .umax = HV_SWARM_PATTERNS_MAX + 1,
      .apply = apply_voters,
      .help = "voting agents: N-1 pattern agents and the risk agent" },
    { .name = "no-risk-vote",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      RUN_AT(cfg.risk_votes),
      .help = "the risk agent does not vote (its limits still bind)" },
    PATTERN_ROW("window", 4, 256, "16", "agent i's DTW window: N + 8 i bars (16/24/32/48)"),
    PATTERN_ROW("k", 1, 64, "8", "neighbours of each prediction"),
    { .name = "band",
      .kind = HV_OPT_DOUBLE,
      .dmin = 0,
      .dmax = 1,
      .apply = apply_patterns,
      .field = "pattern",
      .dflt = "0.1",
      .help = "Sakoe-Chiba band, as a fraction of the window" },
    PATTERN_ROW("horizon", 1, 64, "5", "label horizon in bars"),
    PATTERN_ROW("stride", 1, 1000, "10", "a new pattern every N bars"),
    PATTERN_ROW("capacity", 16, 65536, "512", "most patterns a library keeps"),
    { 0 },
};

static const hv_opt runner_rows[] = {
    { .name = "runner",
      .kind = HV_OPT_ENUM,
      RUN_AT(cfg.runner),
      .choices = runners,
      .dflt = "auto",
      .help = "what drives the agents" },
    { .name = "wait",
      .kind = HV_OPT_ENUM,
      RUN_AT(cfg.wait),
      .choices = waits,
      .dflt = "block",
      .help = "threads: how an idle agent waits for its inbox" },
    { .name = "placement",
      .kind = HV_OPT_ENUM,
      RUN_AT(cfg.placement),
      .choices = placements,
      .dflt = "auto",
      .help = "threads: where the agents' threads run" },
    { .name = "vote-auth",
      .kind = HV_OPT_ENUM,
      RUN_AT(cfg.vote_auth),
      .choices = auths,
      .dflt = "auto",
      .help = "how votes are authenticated" },
    { .name = "proposal-ms",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.proposal_timeout_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "1000",
      .help = "a proposal still open N ms after it opened ends as no quorum" },
    { .name = "cycle-ms",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.cycle_timeout_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "2000",
      .help = "a cycle without its signal or order result N ms after it began ends as stalled" },
    { .name = "stall-ms",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.stall_timeout_ns),
      .umin = 1,
      .umax = 3600000,
      .scale = 1000000,
      .dflt = "10000",
      .help = "no cycle completed for N ms fails the run, naming the silent agents" },
    { 0 },
};

static const hv_opt strategy_rows[] = {
    { .name = "qty",
      .kind = HV_OPT_I64,
      RUN_AT(cfg.qty),
      .imin = 1,
      .imax = 1000000000,
      .dflt = "100",
      .help = "shares per position (the target is -qty, 0 or +qty)" },
    { .name = "threshold",
      .kind = HV_OPT_DOUBLE,
      RUN_AT(cfg.signal_threshold),
      .dmax = 1,
      .dflt = "0.001",
      .help = "|combined expected return| needed to move the target" },
    { .name = "long-only",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      RUN_AT(cfg.allow_short),
      .help = "flat instead of short on a negative signal" },
    { .name = "cash",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN,
      RUN_AT(cfg.cash),
      .dmax = 1e15,
      .dflt = "1000000",
      .help = "initial cash" },
    { .name = "seed",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "exchange latency jitter, vote keys and --synthetic data" },
    { 0 },
};

static const hv_opt consensus_rows[] = {
    { .name = "rule-critical",
      .kind = HV_OPT_STRING,
      .apply = apply_rule,
      .metavar = "R",
      .help = "rule of CRITICAL actions (orders): majority, simple, threshold:N/D, "
              "weighted:N/D, unanimous, bft (default bft)" },
    { .name = "rule-high",
      .kind = HV_OPT_STRING,
      .apply = apply_rule,
      .metavar = "R",
      .help = "rule of HIGH actions (default bft)" },
    { .name = "rule-medium",
      .kind = HV_OPT_STRING,
      .apply = apply_rule,
      .metavar = "R",
      .help = "rule of MEDIUM actions (default threshold:3/4)" },
    { .name = "rule-low",
      .kind = HV_OPT_STRING,
      .apply = apply_rule,
      .metavar = "R",
      .help = "rule of LOW actions (default simple)" },
    { .name = "crit-order",
      .kind = HV_OPT_ENUM,
      .choices = crits,
      .apply = apply_crit,
      .help = "criticality of risk-reducing orders (default critical)" },
    { .name = "crit-position",
      .kind = HV_OPT_ENUM,
      .choices = crits,
      .apply = apply_crit,
      .help = "criticality of orders that open or flip a position (default critical)" },
    { .name = "no-early",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      RUN_AT(cfg.early),
      .help = "no early termination: wait for every vote" },
    { 0 },
};

static const hv_opt var_rows[] = {
    { .name = "var-window",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.var_window),
      .umin = 20,
      .umax = 100000,
      .dflt = "250",
      .help = "rolling VaR/ES window in bars" },
    { .name = "var-q",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN | HV_OPT_MAX_OPEN,
      RUN_AT(cfg.var_q),
      .dmin = 0.5,
      .dmax = 1,
      .dflt = "0.99",
      .help = "VaR confidence" },
    { .name = "var-budget",
      .kind = HV_OPT_DOUBLE,
      RUN_AT(cfg.var_budget),
      .dmax = 1e15,
      .help = "risk votes no when |position| x price x VaR would exceed X; 0 = off" },
    { 0 },
};

static const hv_opt output_rows[] = {
    { .name = "out",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      RUN_AT(out),
      .dflt = "out",
      .help = "write DIR/run.json and DIR/run.html" },
    { .name = "no-report",
      .kind = HV_OPT_FLAG,
      .apply = apply_no_report,
      .help = "write no report files" },
    { .name = "progress",
      .kind = HV_OPT_FLAG,
      RUN_AT(progress),
      .help = "draw the progress bar (default: when stderr is a terminal)" },
    { .name = "no-progress",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      RUN_AT(progress),
      .help = "no progress output" },
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      RUN_AT(quiet),
      .help = "summary only, no stage table" },
    { 0 },
};

enum { T_RUN, T_BARS, T_EXCHANGE, T_LIMITS, T_OBS };

static const hv_opt_section sections[] = {
    { "data", hv__cli_bars_rows, T_BARS },
    { "agents", agent_rows, T_RUN },
    { "runners", runner_rows, T_RUN },
    { "strategy", strategy_rows, T_RUN },
    { "consensus (default: the engine's table; orders are CRITICAL -> BFT)", consensus_rows,
      T_RUN },
    { "risk limits (each 0 = off, the default)", hv__cli_limits_rows, T_LIMITS },
    { "risk", var_rows, T_RUN },
    { "exchange", hv__cli_exchange_rows, T_EXCHANGE },
    { "output", output_rows, T_RUN },
    { "observability (docs/OBSERVABILITY.md)", hv__obs_rows, T_OBS },
    { 0 },
};

static const hv_cli_spec spec = {
    .name = CMD,
    .synopsis = "[options]",
    .summary = "run the trading swarm over the S&P 500 series (make run)",
    .about = "Runs the trading swarm: a market-data agent replays daily bars, pattern agents\n"
             "predict the next move with DTW (each with its own window, k and library), a risk\n"
             "agent keeps a rolling VaR/ES and the pre-trade limits, a strategy agent proposes\n"
             "orders, the pattern and risk agents vote on them (rule chosen by the order's\n"
             "criticality), and an execution agent trades on the simulated exchange. Every\n"
             "agent is a state machine; every message an HVW1 frame. One cycle per bar. The\n"
             "same seed and data give the same trades and P&L on every run, whatever the\n"
             "runner (docs/SWARM.md).\n",
    .sections = sections,
    .epilog = "Exit status: 0 done, 1 bad data or the swarm stopped (the message says which\n"
              "agent and why), 2 bad usage.\n",
};

/* Parses and checks everything that can be checked before the data is loaded. */
static int parse_args(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof(*o));
    hv__cli_bars_opts_default(&o->bars);
    o->out = "out";
    o->progress = -1;
    hv_swarm_config_default(&o->cfg);
    hv__obs_cli_default(&o->obs);
    void *targets[] = { o, &o->bars, &o->cfg.exchange, &o->cfg.limits, &o->obs };
    int rc = hv__opts_parse(&spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o->no_report)
        o->out = NULL;
    o->cfg.bar_ns = o->bars.bar_ns;
    o->cfg.exchange.seed = o->cfg.seed;
    if ((rc = hv__cli_check_trading(&spec, &o->cfg.exchange, &o->cfg.limits)) != 0)
        return rc;
    hv_field_error fe;
    if (hv_swarm_config_check(&o->cfg, &fe) != 0)
        return hv__opts_field_error(&spec, &fe);
    return HV_OPTS_PROCEED;
}

/* ---- Progress ------------------------------------------------------------------------------ */

typedef struct progress {
    int show, tty;
    uint64_t last_ns, start_ns;
    hv_obs_cli *obs;
} progress;

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    progress *p = ud;
    hv__obs_cli_progress(p->obs, done, total);
    if (!p->show)
        return 0;
    uint64_t now = hv_now_ns();
    uint64_t every = p->tty ? 100000000ull : 1000000000ull;
    if (done != total && now - p->last_ns < every)
        return 0;
    p->last_ns = now;
    double el = (double)(now - p->start_ns) / 1e9;
    double rate = el > 0 ? (double)done / el : 0;
    if (p->tty) {
        int w = 40, fill = (int)((double)w * (double)done / (double)total);
        fprintf(stderr, "\r[%.*s%*s] %3.0f%% %" PRIu64 "/%" PRIu64 " cycles, %.0f cycles/s", fill,
                "########################################", w - fill, "",
                100.0 * (double)done / (double)total, done, total, rate);
        if (done == total)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "hivewire %s: %" PRIu64 "/%" PRIu64 " cycles, %.0f cycles/s\n", CMD, done,
                total, rate);
    }
    return 0;
}

/* ---- Output -------------------------------------------------------------------------------- */

typedef struct summary {
    char v[HV_REPORT_SUMMARY_MAX][192];
    const char *keys[HV_REPORT_SUMMARY_MAX];
    const char *vals[HV_REPORT_SUMMARY_MAX];
    size_t n;
} summary;

static void add(summary *s, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(summary *s, const char *k, const char *fmt, ...)
{
    if (s->n == HV_REPORT_SUMMARY_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->v[s->n], sizeof(s->v[0]), fmt, ap);
    va_end(ap);
    s->keys[s->n] = k;
    s->vals[s->n] = s->v[s->n];
    s->n++;
}

/* CPU time and context switches per cycle, in total and by thread ("name us/switches"), from
 * getrusage (docs/SWARM.md). */
static void add_usage(summary *s, const hv_swarm_stats *st, int placement)
{
    double n = st->cycles > 0 ? (double)st->cycles : 1;
    add(s, "cpu per cycle", "%.1f us over %u threads, %.1f sleeps + %.1f preemptions",
        (double)st->cpu_ns / 1e3 / n, st->nthreads, (double)st->switches_voluntary / n,
        (double)st->switches_involuntary / n);
    char line[256];
    size_t used = 0;
    line[0] = 0;
    for (uint32_t i = 0; i < st->nthreads && used < sizeof(line); i++) {
        const hv_swarm_usage *u = &st->threads[i];
        char at[16] = "";
        if (u->cpu >= 0)
            snprintf(at, sizeof(at), "@%d", u->cpu);
        int w = snprintf(line + used, sizeof(line) - used, "%s%s%s %.0f/%.1f", i ? " " : "",
                         u->name, at, (double)u->cpu_ns / 1e3 / n,
                         (double)(u->switches_voluntary + u->switches_involuntary) / n);
        used += w > 0 ? (size_t)w : 0;
    }
    add(s, "  by thread", "%s", line); /* cut at the summary's width with 16 pattern agents */
    if (placement >= 0)
        add(s, "  placement", "%s",
            placement == HV_SWARM_PLACE_AUTO
                ? "auto (name@cpu: pinned there; unmarked: left to the OS)"
                : "none (the OS places the threads)");
}

static void summarise(const run_opts *o, const hv_swarm *sw, size_t nbars, summary *s)
{
    hv_swarm_stats st;
    hv_profiler_stage_stats cy;
    hv_swarm_stats_get(sw, &st);
    hv_profiler_stage_stats_get(hv_swarm_profiler(sw), HV_PROFILER_CYCLE, &cy);
    const hv_portfolio_stats *p = &st.portfolio;
    double wall = (double)st.wall_ns / 1e9;
    memset(s, 0, sizeof(*s));
    add(s, "data", "%s, %zu bars", o->bars.synthetic ? "synthetic GBM" : o->bars.data, nbars);
    add(s, "agents", "%u pattern + market data, risk, strategy, execution, coordinator (%u voters)",
        o->cfg.patterns, o->cfg.patterns + (o->cfg.risk_votes ? 1u : 0u));
    add(s, "cycles", "%" PRIu64, st.cycles);
    add(s, "wall time", "%.3f s", wall);
    add(s, "cycles/s", "%.0f", wall > 0 ? (double)st.cycles / wall : 0);
    add(s, "cycle latency p50 / p99", "%.1f us / %.1f us", (double)cy.p50_ns / 1e3,
        (double)cy.p99_ns / 1e3);
    add(s, "proposals",
        "%" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64 ", no quorum %" PRIu64 ")",
        st.proposals, st.accepted, st.rejected, st.no_quorum);
    add(s, "rules used", "bft %d, threshold %d, simple %d, majority %d, other %d",
        st.rules_used[HV_RULE_BFT], st.rules_used[HV_RULE_THRESHOLD],
        st.rules_used[HV_RULE_SIMPLE_MAJORITY], st.rules_used[HV_RULE_MAJORITY],
        st.rules_used[HV_RULE_WEIGHTED] + st.rules_used[HV_RULE_UNANIMOUS]);
    add(s, "votes",
        "%" PRIu64 " counted, %" PRIu64 " after the decision, %" PRIu64 " refused; %" PRIu64
        " decided early; auth %s",
        st.votes_counted, st.votes_late, st.votes_bad + st.votes_unknown, st.decided_early,
        st.vote_auth == HV_SWARM_AUTH_SIG ? "Ed25519 signatures"
                                          : "BLAKE2b MACs (every voter in this process)");
    if (st.cycles_stalled + st.orders_unknown + st.frames_bad + st.agents_lost > 0)
        add(s, "faults",
            "%" PRIu64 " cycles stalled, %" PRIu64 " order results unknown, %" PRIu64
            " frames refused, %u agents lost (%u rejoined)",
            st.cycles_stalled, st.orders_unknown, st.frames_bad, st.agents_lost,
            st.agents_rejoined);
    add(s, "orders",
        "%" PRIu64 " sent, %" PRIu64 " refused by limits, %" PRIu64 " by the kill switch, %" PRIu64
        " by the exchange",
        st.orders_sent, st.orders_refused_limit, st.orders_refused_halt,
        st.orders_refused_exchange);
    add(s, "trades (fills)", "%" PRIu64 ", %" PRId64 " shares", st.fills, p->shares_traded);
    add(s, "fees", "%.2f", p->fees);
    add(s, "realized P&L", "%.2f", p->realized_pnl);
    add(s, "final position", "%" PRId64, p->position);
    add(s, "final equity", "%.2f (P&L %.2f, %.3f%%)", p->equity, p->equity - p->cash_initial,
        (p->equity / p->cash_initial - 1) * 100);
    add(s, "max drawdown", "%.2f (%.3f%%)", p->max_drawdown, p->max_drawdown_frac * 100);
    if (st.halted) {
        char why[160];
        hv_limit_breach_format(&st.halt_breach, why, sizeof(why));
        add(s, "kill switch", "HALTED at cycle %" PRIu64 " (%s); new orders refused afterwards",
            st.halted_cycle, why);
    } else {
        add(s, "kill switch", "off");
    }
    add(s, "bus messages", "%" PRIu64, st.bus_messages);
    add(s, "runner", "%s",
        st.runner == HV_SWARM_RUNNER_THREADS ? "threads: a thread per agent"
        : o->cfg.runner == HV_SWARM_RUNNER_AUTO
            ? "one (auto): every agent stepped by one thread, no hand-offs between threads"
            : "one: every agent stepped by one thread");
    add_usage(s, &st, st.runner == HV_SWARM_RUNNER_THREADS ? o->cfg.placement : -1);
    add(s, "trade list hash", "%016" PRIx64, st.trades_hash);
}

static int write_report(run_opts *o, const char *name, const hv_swarm *sw, const summary *s,
                        const char *title)
{
    const uint64_t *t;
    const double *eq;
    size_t n = hv_swarm_equity_curve(sw, &t, &eq);
    hv_report_extra x = { .title = title,
                          .summary_n = s->n,
                          .summary_keys = s->keys,
                          .summary_values = s->vals,
                          .equity_n = n,
                          .equity_t_ns = t,
                          .equity = eq };
    hv__obs_cli_report(&o->obs, &x);
    return hv__cli_write_report(CMD, o->out, name, hv_swarm_profiler(sw), &x);
}

static int output(run_opts *o, const hv_swarm *sw, size_t nbars)
{
    summary s;
    summarise(o, sw, nbars, &s);
    for (size_t i = 0; i < s.n; i++)
        printf("%-24s %s\n", s.keys[i], s.vals[i]);
    if (!o->quiet) {
        printf("\nstages (critical path of each cycle; self time; see docs/SWARM.md)\n");
        hv_profiler_write_table(hv_swarm_profiler(sw), stdout);
    }
    fflush(stdout);
    if (o->out == NULL)
        return 0;
    if (hv__cli_make_dir(CMD, o->out) != 0)
        return HV_EXIT_FAIL;
    char title[160];
    snprintf(title, sizeof(title), "hivewire run: %s, seed %llu",
             o->bars.synthetic ? "synthetic" : o->bars.data, (unsigned long long)o->cfg.seed);
    if (write_report(o, "run.json", sw, &s, title) != 0)
        return HV_EXIT_FAIL;
    return write_report(o, "run.html", sw, &s, title);
}

int hv_cmd_run(int argc, char **argv);

int hv_cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o.out != NULL && hv__cli_make_dir(CMD, o.out) != 0) /* before the run, not after */
        return HV_EXIT_FAIL;
    hv_series bars;
    hv_series_init(&bars);
    if ((rc = hv__cli_bars_load(CMD, &o.bars, o.cfg.seed, &bars)) != 0) {
        hv_series_fini(&bars);
        return rc;
    }
    if (bars.len < 2) {
        hv__cli_error(CMD, "%s has %zu bar; the swarm needs at least 2",
                      o.bars.synthetic ? "the synthetic series" : o.bars.data, bars.len);
        hv_series_fini(&bars);
        return HV_EXIT_FAIL;
    }
    hv_swarm *sw = NULL;
    int err = hv_swarm_new(&o.cfg, bars.bars, bars.len, &sw);
    if (err != 0) {
        hv__cli_error(CMD, "cannot build the swarm: %s", hv_strerror(err));
        hv_series_fini(&bars);
        return HV_EXIT_FAIL;
    }
    if (hv__obs_cli_begin(&o.obs, CMD, sw, &o.cfg, bars.bars, bars.len,
                          o.bars.synthetic ? "synthetic" : o.bars.data) != 0) {
        hv_swarm_free(sw);
        hv_series_fini(&bars);
        return HV_EXIT_FAIL;
    }
    progress pr = { .show = o.progress != 0,
                    .tty = o.progress < 0 ? isatty(2) : o.progress,
                    .start_ns = hv_now_ns(),
                    .obs = &o.obs };
    pr.last_ns = pr.start_ns;
    err = hv_swarm_run(sw, on_progress, &pr);
    hv__obs_cli_end(&o.obs, err);
    if (err != 0) {
        hv__cli_error(CMD, "the swarm stopped: %s", hv_swarm_error(sw));
        rc = HV_EXIT_FAIL;
    } else {
        rc = output(&o, sw, bars.len);
    }
    hv__obs_cli_close(&o.obs);
    hv_swarm_free(sw);
    hv_series_fini(&bars);
    return rc;
}

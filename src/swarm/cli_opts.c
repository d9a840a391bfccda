/*
 * The option rows of the commands that build a trading swarm (cli_run.h).
 */
#include <stdio.h>
#include <string.h>

#include "swarm/cli_run.h"

/* ---- Options ------------------------------------------------------------------------------- */

/* Options that set a field of every pattern agent (agent i's window is --window + 8 i). */
static int apply_patterns(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                          size_t cap)
{
    (void)why;
    (void)cap;
    hv_swarm_opts *c = &((run_opts *)target)->cfg;
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
    hv_swarm_opts *c = &((run_opts *)target)->cfg;
    c->patterns = (uint32_t)v->u - 1;
    c->risk_votes = 1;
    return 0;
}

static int apply_rule(void *target, const hv_opt *opt, const hv_opt_value *v, char *why, size_t cap)
{
    static const char *const names[HV_CRIT_COUNT] = { "rule-low", "rule-medium", "rule-high",
                                                      "rule-critical" };
    hv_swarm_opts *c = &((run_opts *)target)->cfg;
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
    hv_swarm_opts *c = &((run_opts *)target)->cfg;
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

const hv_opt hv__run_agent_rows[] = {
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

const hv_opt hv__run_runner_rows[] = {
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
    { .name = "heartbeat-ms",
      .kind = HV_OPT_U64,
      RUN_AT(cfg.heartbeat_ns),
      .umin = 10,
      .umax = 60000,
      .scale = 1000000,
      .dflt = "100",
      .help = "every agent says it is alive every N ms, and one silent for 3 x N ms counts as "
              "lost; an agent following replicated coordinators (--connect X,Y,Z) counts its "
              "hub as lost after 3 x N ms too (give every process the same N)" },
    { .name = "state-dir",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(run_opts, cfg.state_dir),
      .help = "the execution agent journals what it acts on in DIR/execution.journal and, "
              "started again, replays it (default: no journal)" },
    { 0 },
};

const hv_opt hv__run_strategy_rows[] = {
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

const hv_opt hv__run_consensus_rows[] = {
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

const hv_opt hv__run_var_rows[] = {
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

const hv_opt hv__run_output_rows[] = {
    { .name = "out",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      RUN_AT(out),
      .dflt = "out",
      .help = "write DIR/run.json, DIR/run.html and DIR/trades.csv (checked before the run)" },
    { .name = "no-report",
      .kind = HV_OPT_FLAG,
      .apply = apply_no_report,
      .help = "write no report files" },
    { .name = "json",
      .kind = HV_OPT_FLAG,
      RUN_AT(json),
      .help = "the report's JSON document on stdout instead of the summary (docs/REPORT.md)" },
    { .name = "wide",
      .kind = HV_OPT_FLAG,
      RUN_AT(wide),
      .help = "rows as long as they are and every column of the stage table (default: 80 "
              "columns)" },
    { 0 },
};

const char *const hv__run_out_files[] = { "run.json", "run.html", "trades.csv", NULL };

const hv_opt hv__run_progress_rows[] = {
    { .name = "progress",
      .kind = HV_OPT_FLAG,
      RUN_AT(progress),
      .help = "show the progress: a bar on a terminal, a line a second otherwise (the default, "
              "unless --quiet)" },
    { .name = "no-progress",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      RUN_AT(progress),
      .help = "no progress output" },
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      RUN_AT(quiet),
      .help = "the summary only: no progress, no stage table, no \"wrote\" lines" },
    { 0 },
};

void hv__run_opts_default(run_opts *o)
{
    memset(o, 0, sizeof(*o));
    hv__cli_bars_opts_default(&o->bars);
    o->out = "out";
    o->progress = -1;
    hv_swarm_opts_default(&o->cfg);
    hv__obs_cli_default(&o->obs);
}

int hv__run_parse(const hv_cli_spec *spec, int argc, char **argv, run_opts *o)
{
    void *targets[] = { o, &o->bars, &o->cfg.exchange, &o->cfg.limits, &o->obs };
    int rc = hv__opts_parse(spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o->no_report)
        o->out = NULL;
    if (o->quiet && o->progress < 0)
        o->progress = 0; /* --quiet silences the progress unless --progress asks for it */
    o->cfg.bar_ns = o->bars.bar_ns;
    o->cfg.exchange.seed = o->cfg.seed;
    if ((rc = hv__cli_check_trading(spec, &o->cfg.exchange, &o->cfg.limits)) != 0)
        return rc;
    hv_field_error fe;
    if (hv_swarm_opts_check(&o->cfg, &fe) != 0)
        return hv__opts_field_error(spec, &fe);
    return HV_OPTS_PROCEED;
}

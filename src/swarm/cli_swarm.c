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
#include "trading/cli_trading.h"

#define CMD       "run"
#define SYNTH_MAX 10000000ull
#define BAR_NS    86400000000000ull

typedef struct run_opts {
    const char *data;
    uint64_t synthetic;
    const char *out;
    int quiet, progress; /* progress: -1 auto (isatty), 0 off, 1 on */
    uint64_t interval_days;
    hv_swarm_config cfg;
} run_opts;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: hivewire run [options]\n\n"
        "Runs the trading swarm: a market-data agent replays daily bars, pattern agents\n"
        "predict the next move with DTW (each with its own window, k and library), a risk agent\n"
        "keeps a rolling VaR/ES and the pre-trade limits, a strategy agent proposes orders, the\n"
        "pattern and risk agents vote on them (rule chosen by the order's criticality; BFT votes\n"
        "are Ed25519-signed), and an execution agent trades on the simulated exchange. Each agent\n"
        "is a thread with its own bus inbox; every message is an HVW1 frame. One cycle per bar.\n"
        "The same seed and data give the same trades and P&L on every run.\n\n"
        "data:\n"
        "  --data FILE          CSV bars (default data/sp500-2000.csv; run scripts/fetch-data)\n"
        "  --synthetic N        N synthetic GBM bars instead (seeded by --seed)\n"
        "  --cycles N           stop after N cycles (default: the whole series)\n"
        "agents:\n"
        "  --patterns N         pattern agents, 1..16 (default 4)\n"
        "  --voters N           voting agents: N-1 pattern agents + the risk agent (default 5)\n"
        "  --no-risk-vote       the risk agent does not vote (its limits still bind)\n"
        "  --window N --k N --band X --horizon N --stride N --capacity N\n"
        "                       the first pattern agent's DTW window, neighbours, band, label\n"
        "                       horizon, learning stride and library size; agent i uses\n"
        "                       window + 8 i (defaults 16/24/32/48, k 8, band 0.1, horizon 5,\n"
        "                       stride 10, capacity 512)\n"
        "runners:\n"
        "  --runner auto|one|threads  one: every agent stepped by one thread (no hand-offs);\n"
        "                       threads: a thread per agent; auto (default): one\n"
        "  --wait block|yield|spin   threads: how idle agents wait for their inbox (block)\n"
        "  --placement auto|none  threads: auto (default) pins the message chain to one CPU and\n"
        "                       alternates pattern agents over two; none: the OS places them\n"
        "  --vote-auth auto|sig|mac   votes Ed25519-signed (sig) or keyed-BLAKE2b MAC'd (mac,\n"
        "                       only when every voter shares this process); auto (default): mac\n"
        "  --proposal-ms N      a proposal still open N ms after it opened ends as no quorum\n"
        "                       (default 1000)\n"
        "strategy:\n"
        "  --qty N              shares per position (default 100)\n"
        "  --threshold X        |combined expected return| needed to trade (default 0.001)\n"
        "  --long-only          flat instead of short on a negative signal\n"
        "  --cash X             initial cash (default 1000000)\n"
        "consensus (default: the engine's table; orders are CRITICAL -> BFT):\n"
        "  --rule-critical R --rule-high R --rule-medium R --rule-low R\n"
        "                       R = majority | simple | threshold:N/D | weighted:N/D |\n"
        "                       unanimous | bft\n"
        "  --crit-order C       criticality of risk-reducing orders (low|medium|high|critical)\n"
        "  --crit-position C    criticality of orders that open or flip a position\n"
        "  --no-early           no early termination (wait for every vote)\n"
        "risk (0 = off, the default):\n"
        "  --max-position N --max-notional X --max-drawdown FRAC\n"
        "  --max-orders N --interval-days N   at most N orders in any N-day window\n"
        "  --var-window N --var-q X   rolling VaR/ES window and confidence (250, 0.99)\n"
        "  --var-budget X       risk votes no when |position| * price * VaR exceeds X\n"
        "exchange:\n"
        "  --seed N             latency jitter, keys and synthetic data seed (default 1)\n"
        "  --fee-bps X --latency-us N --jitter-us N   (defaults 1 bp, 50 + [0, 20] us)\n"
        "output:\n"
        "  --out DIR            write DIR/run.json and DIR/run.html (default out)\n"
        "  --no-report          write no report files\n"
        "  --progress | --no-progress   progress bar (default: when stderr is a terminal)\n"
        "  --quiet              summary only, no stage table\n");
}

static int bad(const char *a, const char *what)
{
    hv__cli_error(CMD, "%s takes %s", a, what);
    return HV_EXIT_USAGE;
}

static int parse_rule(const char *v, hv_policy *p)
{
    unsigned n = 0, d = 0;
    memset(p, 0, sizeof(*p));
    if (strcmp(v, "majority") == 0)
        p->rule = HV_RULE_MAJORITY;
    else if (strcmp(v, "simple") == 0)
        p->rule = HV_RULE_SIMPLE_MAJORITY;
    else if (strcmp(v, "unanimous") == 0)
        p->rule = HV_RULE_UNANIMOUS;
    else if (strcmp(v, "bft") == 0)
        p->rule = HV_RULE_BFT;
    else if (sscanf(v, "threshold:%u/%u", &n, &d) == 2)
        p->rule = HV_RULE_THRESHOLD;
    else if (sscanf(v, "weighted:%u/%u", &n, &d) == 2)
        p->rule = HV_RULE_WEIGHTED;
    else
        return -1;
    p->num = n;
    p->den = d;
    return 0;
}

static int parse_crit(const char *v, hv_crit *c)
{
    static const char *const names[HV_CRIT_COUNT] = { "low", "medium", "high", "critical" };
    for (int i = 0; i < HV_CRIT_COUNT; i++)
        if (strcmp(v, names[i]) == 0) {
            *c = (hv_crit)i;
            return 0;
        }
    return -1;
}

static int opt_consensus(run_opts *o, const char *a, const char *v)
{
    static const char *const rules[HV_CRIT_COUNT] = { "--rule-low", "--rule-medium", "--rule-high",
                                                      "--rule-critical" };
    for (int i = 0; i < HV_CRIT_COUNT; i++) {
        if (strcmp(a, rules[i]) != 0)
            continue;
        hv_policy p;
        if (parse_rule(v, &p) != 0 || hv_crit_table_set_policy(&o->cfg.table, (hv_crit)i, &p))
            return bad(a, "a rule: majority, simple, threshold:N/D, weighted:N/D, unanimous, bft");
        return 0;
    }
    hv_crit c;
    int action = strcmp(a, "--crit-order") == 0      ? HV_ACTION_ORDER_EXECUTION
                 : strcmp(a, "--crit-position") == 0 ? HV_ACTION_POSITION_CHANGE
                                                     : -1;
    if (action < 0)
        return 1;
    if (parse_crit(v, &c) != 0)
        return bad(a, "low, medium, high or critical");
    hv_crit_table_set_action(&o->cfg.table, (uint32_t)action, c);
    return 0;
}

static int opt_u64(run_opts *o, const char *a, const char *v)
{
    hv_swarm_config *c = &o->cfg;
    uint64_t u;
    static const char *const names[] = {
        "--synthetic",  "--seed",       "--cycles",       "--patterns",   "--voters",
        "--window",     "--k",          "--horizon",      "--stride",     "--capacity",
        "--qty",        "--var-window", "--max-position", "--max-orders", "--interval-days",
        "--latency-us", "--jitter-us",  "--proposal-ms"
    };
    size_t i = 0, n = sizeof(names) / sizeof(names[0]);
    while (i < n && strcmp(a, names[i]) != 0)
        i++;
    if (i == n)
        return 1;
    if (hv__cli_parse_u64(v, &u) != 0 || u > (1ull << 40))
        return bad(a, "a non-negative integer");
    uint32_t u32 = (uint32_t)(u > UINT32_MAX ? UINT32_MAX : u);
    switch (i) {
    case 0:
        o->synthetic = u;
        break;
    case 1:
        c->seed = u;
        break;
    case 2:
        c->cycles_max = u;
        break;
    case 3:
        c->patterns = u32;
        break;
    case 4:
        if (u < 2)
            return bad(a, "at least 2 (the risk agent and one pattern agent)");
        c->patterns = u32 - 1;
        c->risk_votes = 1;
        break;
    case 5:
        for (uint32_t j = 0; j < HV_SWARM_PATTERNS_MAX; j++)
            c->pattern[j].len = u32 + 8 * j;
        break;
    case 6:
    case 7:
    case 8:
    case 9:
        for (uint32_t j = 0; j < HV_SWARM_PATTERNS_MAX; j++) {
            uint32_t *f[4] = { &c->pattern[j].k, &c->pattern[j].horizon, &c->pattern[j].stride,
                               &c->pattern[j].capacity };
            *f[i - 6] = u32;
        }
        break;
    case 10:
        c->qty = (int64_t)u;
        break;
    case 11:
        c->var_window = u32;
        break;
    case 12:
        c->limits.position_max = (int64_t)u;
        break;
    case 13:
        c->limits.orders_per_interval_max = u32;
        break;
    case 14:
        o->interval_days = u;
        break;
    case 15:
        c->exchange.latency_fixed_ns = u * 1000;
        break;
    case 16:
        c->exchange.latency_jitter_ns = u * 1000;
        break;
    default:
        if (u == 0 || u > 3600000)
            return bad(a, "a number of milliseconds from 1 to 3600000");
        c->proposal_timeout_ns = u * 1000000ull;
        break;
    }
    return 0;
}

static int opt_double(run_opts *o, const char *a, const char *v)
{
    hv_swarm_config *c = &o->cfg;
    double *f = strcmp(a, "--band") == 0           ? &c->pattern[0].band
                : strcmp(a, "--threshold") == 0    ? &c->signal_threshold
                : strcmp(a, "--cash") == 0         ? &c->cash
                : strcmp(a, "--var-q") == 0        ? &c->var_q
                : strcmp(a, "--var-budget") == 0   ? &c->var_budget
                : strcmp(a, "--max-notional") == 0 ? &c->limits.order_notional_max
                : strcmp(a, "--max-drawdown") == 0 ? &c->limits.drawdown_max_frac
                : strcmp(a, "--fee-bps") == 0      ? &c->exchange.fee_bps
                                                   : NULL;
    if (f == NULL)
        return 1;
    if (hv__cli_parse_double(v, f) != 0 || *f < 0)
        return bad(a, "a non-negative number");
    if (f == &c->pattern[0].band)
        for (uint32_t j = 1; j < HV_SWARM_PATTERNS_MAX; j++)
            c->pattern[j].band = *f;
    return 0;
}

static int opt_string(run_opts *o, const char *a, const char *v)
{
    if (strcmp(a, "--data") == 0)
        o->data = v;
    else if (strcmp(a, "--out") == 0)
        o->out = v;
    else if (strcmp(a, "--wait") == 0) {
        int w = strcmp(v, "block") == 0   ? 0
                : strcmp(v, "spin") == 0  ? 1
                : strcmp(v, "yield") == 0 ? 2
                                          : -1;
        if (w < 0)
            return bad(a, "block, yield or spin");
        o->cfg.wait = w;
    } else if (strcmp(a, "--runner") == 0) {
        int r = strcmp(v, "auto") == 0      ? HV_SWARM_RUNNER_AUTO
                : strcmp(v, "one") == 0     ? HV_SWARM_RUNNER_ONE
                : strcmp(v, "threads") == 0 ? HV_SWARM_RUNNER_THREADS
                                            : -1;
        if (r < 0)
            return bad(a, "auto, one or threads");
        o->cfg.runner = r;
    } else if (strcmp(a, "--vote-auth") == 0) {
        int r = strcmp(v, "auto") == 0  ? HV_SWARM_AUTH_AUTO
                : strcmp(v, "sig") == 0 ? HV_SWARM_AUTH_SIG
                : strcmp(v, "mac") == 0 ? HV_SWARM_AUTH_MAC
                                        : -1;
        if (r < 0)
            return bad(a, "auto, sig or mac");
        o->cfg.vote_auth = r;
    } else if (strcmp(a, "--placement") == 0) {
        int p = strcmp(v, "auto") == 0   ? HV_SWARM_PLACE_AUTO
                : strcmp(v, "none") == 0 ? HV_SWARM_PLACE_NONE
                                         : -1;
        if (p < 0)
            return bad(a, "auto or none");
        o->cfg.placement = p;
    } else
        return 1;
    return 0;
}

static int opt_flag(run_opts *o, const char *a)
{
    if (strcmp(a, "--no-risk-vote") == 0)
        o->cfg.risk_votes = 0;
    else if (strcmp(a, "--long-only") == 0)
        o->cfg.allow_short = 0;
    else if (strcmp(a, "--no-early") == 0)
        o->cfg.early = 0;
    else if (strcmp(a, "--no-report") == 0)
        o->out = NULL;
    else if (strcmp(a, "--progress") == 0)
        o->progress = 1;
    else if (strcmp(a, "--no-progress") == 0)
        o->progress = 0;
    else if (strcmp(a, "--quiet") == 0)
        o->quiet = 1;
    else
        return 1;
    return 0;
}

static int parse_args(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->data = "data/sp500-2000.csv";
    o->out = "out";
    o->progress = -1;
    hv_swarm_config_default(&o->cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        int rc = opt_flag(o, a);
        if (rc <= 0) {
            if (rc < 0)
                return rc;
            continue;
        }
        if (v == NULL && strncmp(a, "--", 2) == 0) {
            hv__cli_error(CMD, "unknown option or missing value: '%s' (see --help)", a);
            return HV_EXIT_USAGE;
        }
        rc = opt_string(o, a, v);
        rc = rc == 1 ? opt_u64(o, a, v) : rc;
        rc = rc == 1 ? opt_double(o, a, v) : rc;
        rc = rc == 1 ? opt_consensus(o, a, v) : rc;
        if (rc == 1) {
            hv__cli_error(CMD, "unknown option '%s' (see --help)", a);
            return HV_EXIT_USAGE;
        }
        if (rc != 0)
            return rc;
        i++;
    }
    return 0;
}

static int check_opts(run_opts *o)
{
    hv_swarm_config *c = &o->cfg;
    if (c->limits.orders_per_interval_max > 0) {
        if (o->interval_days == 0 || o->interval_days > 100000) {
            hv__cli_error(CMD, "--max-orders needs --interval-days 1..100000");
            return HV_EXIT_USAGE;
        }
        c->limits.interval_ns = o->interval_days * BAR_NS;
    }
    c->exchange.seed = c->seed;
    if (o->synthetic > SYNTH_MAX || c->patterns < 1 || c->patterns > HV_SWARM_PATTERNS_MAX) {
        hv__cli_error(CMD, "--synthetic must be <= %llu and --patterns 1..%d",
                      (unsigned long long)SYNTH_MAX, HV_SWARM_PATTERNS_MAX);
        return HV_EXIT_USAGE;
    }
    return 0;
}

/* ---- Progress ------------------------------------------------------------------------------ */

typedef struct progress {
    int tty;
    uint64_t last_ns, start_ns;
} progress;

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    progress *p = ud;
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
    add(s, "data", "%s, %zu bars", o->synthetic ? "synthetic GBM" : o->data, nbars);
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

static int write_report(const char *dir, const char *name, const hv_swarm *sw, const summary *s,
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
    return hv__cli_write_report(CMD, dir, name, hv_swarm_profiler(sw), &x);
}

static int output(const run_opts *o, const hv_swarm *sw, size_t nbars)
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
             o->synthetic ? "synthetic" : o->data, (unsigned long long)o->cfg.seed);
    if (write_report(o->out, "run.json", sw, &s, title) != 0)
        return HV_EXIT_FAIL;
    return write_report(o->out, "run.html", sw, &s, title);
}

int hv_cmd_run(int argc, char **argv);

int hv_cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? HV_EXIT_OK : rc;
    if ((rc = check_opts(&o)) != 0)
        return rc;
    hv_series bars;
    hv_series_init(&bars);
    if ((rc = hv__cli_load_bars(CMD, o.data, o.synthetic, o.cfg.seed, &bars)) != 0) {
        hv_series_fini(&bars);
        return rc;
    }
    hv_swarm *sw = NULL;
    int err = hv_swarm_new(&o.cfg, bars.bars, bars.len, &sw);
    if (err == HV_ERANGE) {
        hv__cli_error(CMD,
                      "the series has %zu bars; at %.0f s of simulated time per bar, times "
                      "overflow 64-bit nanoseconds after %llu bars",
                      bars.len, (double)o.cfg.bar_ns / 1e9,
                      (unsigned long long)hv_swarm_bars_max(o.cfg.bar_ns));
        hv_series_fini(&bars);
        return HV_EXIT_FAIL;
    }
    if (err != 0) {
        hv__cli_error(CMD, "cannot build the swarm: %s (check the options against --help)",
                      hv_strerror(err));
        hv_series_fini(&bars);
        return err == HV_EINVAL ? HV_EXIT_USAGE : HV_EXIT_FAIL;
    }
    progress pr = { .tty = o.progress < 0 ? isatty(2) : o.progress, .start_ns = hv_now_ns() };
    pr.last_ns = pr.start_ns;
    err = hv_swarm_run(sw, o.progress == 0 ? NULL : on_progress, &pr);
    if (err != 0) {
        hv__cli_error(CMD, "the swarm stopped: %s", hv_swarm_error(sw));
        rc = HV_EXIT_FAIL;
    } else {
        rc = output(&o, sw, bars.len);
    }
    hv_swarm_free(sw);
    hv_series_fini(&bars);
    return rc;
}

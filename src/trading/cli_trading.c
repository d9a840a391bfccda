/*
 * hivewire backtest: replays bars through the simulated exchange with a moving-average
 * crossover strategy, pre-trade limits and a portfolio, profiles every stage of every cycle,
 * and prints the profile, trades, P&L and drawdown (plus JSON and HTML reports with --out).
 * Single-threaded: the reference path the swarm's execution agent follows, without the bus.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hivewire/exchange.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/sim.h"
#include "trading/cli_trading.h"

#define CMD      "backtest"
#define SLOW_MAX 1000

typedef struct bt_opts {
    hv_cli_bars_opts bars;
    uint64_t seed;
    uint64_t fast, slow;
    uint64_t qty;
    double cash;
    hv_exchange_config x;
    hv_limits_config lim;
    const char *out;
    int quiet;
} bt_opts;

enum { ST_CONFIRM, ST_MARKET, ST_SIGNAL, ST_RISK, ST_EXEC, ST_COUNT };
static const char *const stage_names[ST_COUNT] = { "order_confirmation", "market_data",
                                                   "strategy_signal", "risk_limits",
                                                   "order_execution" };

typedef struct bt {
    bt_opts o;
    hv_exchange *x;
    hv_portfolio *pf;
    hv_limits *lim;
    hv_profiler *prof;
    int st[ST_COUNT], lat_ack, lat_fill;
    double ring[SLOW_MAX], sum_fast, sum_slow;
    uint64_t seen;
    uint64_t orders, refusals, fills;
    uint64_t last_order_bar; /* bar of the last order sent, UINT64_MAX before the first */
    int failed;              /* an HV_E* code: a call failed for another reason than a limit */
    const char *fail_what;   /* ... and which call */
    int halted_reported;
} bt;

/* ---- Options ------------------------------------------------------------------------------- */

static const hv_opt strategy_rows[] = {
    { .name = "fast",
      .kind = HV_OPT_U64,
      HV_OPT_AT(bt_opts, fast),
      .umin = 1,
      .umax = SLOW_MAX - 1,
      .dflt = "10",
      .help = "fast moving-average length in bars (below --slow)" },
    { .name = "slow",
      .kind = HV_OPT_U64,
      HV_OPT_AT(bt_opts, slow),
      .umin = 2,
      .umax = SLOW_MAX,
      .dflt = "50",
      .help = "slow moving-average length in bars" },
    { .name = "qty",
      .kind = HV_OPT_U64,
      HV_OPT_AT(bt_opts, qty),
      .umin = 1,
      .umax = 1000000000,
      .dflt = "100",
      .help = "shares held when long" },
    { .name = "cash",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN,
      HV_OPT_AT(bt_opts, cash),
      .dmax = 1e15,
      .dflt = "1000000",
      .help = "initial cash" },
    { .name = "seed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(bt_opts, seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "seed of the latency jitter and of --synthetic data" },
    { 0 },
};

static const hv_opt output_rows[] = {
    { .name = "out",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(bt_opts, out),
      .help = "also write DIR/backtest.json and DIR/backtest.html" },
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(bt_opts, quiet),
      .help = "summary only, no stage table" },
    { 0 },
};

enum { T_OPTS, T_BARS, T_EXCHANGE, T_LIMITS };

static const hv_opt_section sections[] = {
    { "data", hv__cli_bars_rows, T_BARS },
    { "strategy", strategy_rows, T_OPTS },
    { "exchange", hv__cli_exchange_rows, T_EXCHANGE },
    { "limits (each 0 = off, the default)", hv__cli_limits_rows, T_LIMITS },
    { "output", output_rows, T_OPTS },
    { 0 },
};

static const hv_cli_spec spec = {
    .name = CMD,
    .synopsis = "[options]",
    .summary = "replay bars through the simulated exchange with limits and the profiler",
    .about = "Replays bars through the simulated exchange with a moving-average crossover\n"
             "(long when the fast average is above the slow one, flat otherwise), pre-trade\n"
             "risk limits and a portfolio; prints the stage profile, trades, P&L and max\n"
             "drawdown. Bar i is at i x --bar-seconds on the simulated clock. The same seed\n"
             "and data give the same trades and P&L on every run.\n",
    .sections = sections,
    .epilog = "Exit status: 0 done, 1 bad data or failed work, 2 bad usage.\n",
};

static int parse_args(int argc, char **argv, bt_opts *o)
{
    memset(o, 0, sizeof(*o));
    hv__cli_bars_opts_default(&o->bars);
    o->seed = 1;
    o->fast = 10;
    o->slow = 50;
    o->qty = 100;
    o->cash = 1e6;
    hv_exchange_config_default(&o->x);
    hv_limits_config_default(&o->lim);
    void *targets[] = { o, &o->bars, &o->x, &o->lim };
    int rc = hv__opts_parse(&spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o->fast >= o->slow)
        return hv__opts_usage_error(&spec, "--fast %llu must be below --slow %llu",
                                    (unsigned long long)o->fast, (unsigned long long)o->slow);
    o->x.seed = o->seed;
    rc = hv__cli_check_trading(&spec, &o->x, &o->lim);
    return rc != 0 ? rc : HV_OPTS_PROCEED;
}

static int load_bars(bt_opts *o, hv_series *s)
{
    int rc = hv__cli_bars_load(CMD, &o->bars, o->seed, s);
    if (rc != 0)
        return rc;
    if (s->len <= o->slow) {
        hv__cli_error(CMD, "%s has %zu bars; --slow %llu needs more",
                      o->bars.synthetic ? "the synthetic series" : o->bars.data, s->len,
                      (unsigned long long)o->slow);
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int bt_init(bt *b)
{
    hv_profiler_config pc;
    hv_profiler_config_default(&pc);
    pc.value_max_ns = 1ull << 48; /* simulated latencies of up to 3 days */
    b->x = hv_exchange_new(&b->o.x);
    b->pf = hv_portfolio_new(b->o.cash, 4096);
    b->lim = hv_limits_new(&b->o.lim);
    b->prof = hv_profiler_new(&pc);
    if (!b->x || !b->pf || !b->lim || !b->prof)
        return HV_EXIT_FAIL;
    hv_exchange_attach(b->x, b->pf, b->lim);
    for (int i = 0; i < ST_COUNT; i++)
        b->st[i] = hv_profiler_stage(b->prof, stage_names[i], HV_STAGE_TIMED);
    b->lat_ack = hv_profiler_stage(b->prof, "sim_exchange_ack_rtt", HV_STAGE_EXTERNAL);
    b->lat_fill = hv_profiler_stage(b->prof, "sim_order_to_fill_report", HV_STAGE_EXTERNAL);
    return 0;
}

static void bt_fini(bt *b)
{
    hv_exchange_free(b->x);
    hv_portfolio_free(b->pf);
    hv_limits_free(b->lim);
    hv_profiler_free(b->prof);
}

/* Records the first call the exchange, portfolio or limits refused for a reason other than a
 * limit: the run stops there and says so (no result is reported as if nothing happened). */
static void fail(bt *b, const char *what, int rc)
{
    if (b->failed == 0) {
        b->failed = rc;
        b->fail_what = what;
    }
}

static void drain(bt *b, uint64_t t)
{
    hv_exec_report r;
    int rc;
    while ((rc = hv_exchange_poll(b->x, t, &r)) == 1) {
        if (r.type == HV_EXEC_ACK)
            hv_profiler_record(b->prof, b->lat_ack, r.deliver_ns - r.submit_ns);
        if (r.type == HV_EXEC_FILL) {
            b->fills++;
            hv_profiler_record(b->prof, b->lat_fill, r.deliver_ns - r.submit_ns);
        }
    }
    if (rc < 0)
        fail(b, "hv_exchange_poll", rc);
}

/* Long `qty` when the fast average is above the slow one, else flat; 0 until warmed up. */
static int64_t target_position(bt *b, double close)
{
    uint64_t n = b->seen++;
    b->sum_slow += close;
    b->sum_fast += close;
    if (n >= b->o.fast)
        b->sum_fast -= b->ring[(n - b->o.fast) % SLOW_MAX];
    if (n >= b->o.slow)
        b->sum_slow -= b->ring[(n - b->o.slow) % SLOW_MAX];
    b->ring[n % SLOW_MAX] = close;
    if (n + 1 < b->o.slow)
        return 0;
    double fast = b->sum_fast / (double)b->o.fast, slow = b->sum_slow / (double)b->o.slow;
    return fast > slow ? (int64_t)b->o.qty : 0;
}

static void say_halt(bt *b, uint64_t bar_index)
{
    hv_limit_breach why;
    char msg[160];
    if (b->halted_reported || !hv_limits_halted(b->lim, &why))
        return;
    hv_limit_breach_format(&why, msg, sizeof(msg));
    fprintf(stderr, "hivewire %s: bar %llu: %s\n", CMD, (unsigned long long)bar_index, msg);
    b->halted_reported = 1;
}

static void submit_towards(bt *b, int64_t target, uint64_t t, uint64_t bar_index)
{
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(b->pf, &ps);
    hv_exchange_stats_get(b->x, &xs);
    int64_t delta = target - (ps.position + xs.open_buy_qty - xs.open_sell_qty);
    if (delta == 0)
        return;
    hv_order_request q = { .side = delta > 0 ? HV_SIDE_BUY : HV_SIDE_SELL,
                           .type = HV_ORDER_MARKET,
                           .tif = HV_TIF_GTC,
                           .qty = delta > 0 ? delta : -delta };
    int rc = hv_exchange_submit(b->x, &q, t, NULL);
    if (rc == 0) {
        b->orders++;
        b->last_order_bar = bar_index;
    } else if (rc == HV_ELIMIT || rc == HV_EHALTED) {
        b->refusals++;
    } else {
        fail(b, "hv_exchange_submit", rc);
    }
}

/* The exchange sees the bar; a full report queue is drained first (each round delivers). */
static void market_data(bt *b, const hv_bar *bar, uint64_t t)
{
    int rc;
    while ((rc = hv_exchange_on_bar(b->x, bar, t)) == HV_EFULL && b->failed == 0)
        drain(b, t);
    if (rc < 0 && rc != HV_EFULL)
        fail(b, "hv_exchange_on_bar", rc);
    if ((rc = hv_portfolio_mark(b->pf, bar->close, t)) != 0)
        fail(b, "hv_portfolio_mark", rc);
}

/* Bar i at t = i * bar_ns: the caller checked the series fits the clock (hv_sim_bars_max), so
 * neither t nor the events after it wrap. */
static void cycle(bt *b, const hv_bar *bar, uint64_t i)
{
    uint64_t t = i * b->o.bars.bar_ns;
    hv_profiler *p = b->prof;
    hv_profiler_cycle_begin(p);
    hv_profiler_begin(p, b->st[ST_CONFIRM]);
    drain(b, t);
    hv_profiler_end(p, b->st[ST_CONFIRM]);
    hv_profiler_begin(p, b->st[ST_MARKET]);
    market_data(b, bar, t);
    hv_profiler_end(p, b->st[ST_MARKET]);
    hv_profiler_begin(p, b->st[ST_SIGNAL]);
    int64_t target = target_position(b, bar->close);
    hv_profiler_end(p, b->st[ST_SIGNAL]);
    hv_profiler_begin(p, b->st[ST_RISK]);
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(b->pf, &ps);
    int rc = hv_limits_update_drawdown(b->lim, ps.drawdown_frac, t, NULL);
    if (rc != 0 && rc != HV_EHALTED)
        fail(b, "hv_limits_update_drawdown", rc);
    hv_profiler_end(p, b->st[ST_RISK]);
    hv_profiler_begin(p, b->st[ST_EXEC]);
    submit_towards(b, target, t + 1, i);
    hv_profiler_end(p, b->st[ST_EXEC]);
    hv_profiler_cycle_end(p);
    say_halt(b, i);
}

/* Delivers whatever is still in flight after the last bar (bounded: each step delivers). */
static void finish(bt *b)
{
    for (int i = 0; i < 1000000 && b->failed == 0; i++) {
        uint64_t t = hv_exchange_next_event_ns(b->x);
        if (t == UINT64_MAX)
            break;
        drain(b, t);
    }
}

typedef struct summary {
    char v[16][48];
    const char *keys[16];
    const char *vals[16];
    size_t n;
} summary;

static void add(summary *s, const char *k, const char *fmt, double x)
{
    snprintf(s->v[s->n], sizeof(s->v[0]), fmt, x);
    s->keys[s->n] = k;
    s->vals[s->n] = s->v[s->n];
    s->n++;
}

static void summarise(const bt *b, size_t nbars, summary *s)
{
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(b->pf, &ps);
    hv_exchange_stats_get(b->x, &xs);
    memset(s, 0, sizeof(*s));
    add(s, "bars", "%.0f", (double)nbars);
    add(s, "seconds per bar", "%.0f", (double)(b->o.bars.bar_ns / 1000000000ull));
    add(s, "orders", "%.0f", (double)b->orders);
    if (b->orders > 0)
        add(s, "last order at bar", "%.0f", (double)b->last_order_bar);
    add(s, "orders refused by limits", "%.0f", (double)b->refusals);
    add(s, "fills", "%.0f", (double)b->fills);
    add(s, "shares traded", "%.0f", (double)ps.shares_traded);
    add(s, "fees", "%.2f", ps.fees);
    add(s, "realized P&L", "%.2f", ps.realized_pnl);
    add(s, "final position", "%.0f", (double)ps.position);
    add(s, "final equity", "%.2f", ps.equity);
    add(s, "return", "%.2f%%", (ps.equity / ps.cash_initial - 1) * 100);
    add(s, "max drawdown", "%.2f%%", ps.max_drawdown_frac * 100);
    s->keys[s->n] = "kill switch";
    s->vals[s->n++] = hv_limits_halted(b->lim, NULL) ? "halted" : "off";
}

/* Shared with hivewire run (src/trading/cli_trading.h). */
int hv__cli_write_report(const char *cmd, const char *dir, const char *name, const hv_profiler *p,
                         const hv_report_extra *x)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        hv__cli_error(cmd, "cannot write %s: %s", path, strerror(errno));
        return HV_EXIT_FAIL;
    }
    int rc = 0;
    if (strstr(name, ".json")) {
        char *js = hv_profiler_json(p, x);
        rc = js && fputs(js, f) >= 0 && fputc('\n', f) != EOF ? 0 : HV_EIO;
        free(js);
    } else {
        rc = hv_profiler_write_html(p, x, f);
    }
    if (fclose(f) != 0 || rc != 0) {
        hv__cli_error(cmd, "cannot write %s", path);
        return HV_EXIT_FAIL;
    }
    fprintf(stderr, "hivewire %s: wrote %s\n", cmd, path);
    return 0;
}

int hv__cli_make_dir(const char *cmd, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        hv__cli_error(cmd, "cannot create %s: %s", dir, strerror(errno));
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const bt *b, const summary *s,
                      const char *title)
{
    const uint64_t *t;
    const double *eq;
    size_t n = hv_portfolio_curve(b->pf, &t, &eq);
    hv_report_extra x = { .title = title,
                          .summary_n = s->n,
                          .summary_keys = s->keys,
                          .summary_values = s->vals,
                          .equity_n = n,
                          .equity_t_ns = t,
                          .equity = eq };
    return hv__cli_write_report(CMD, dir, name, b->prof, &x);
}

static int output(const bt *b, size_t nbars)
{
    summary s;
    summarise(b, nbars, &s);
    for (size_t i = 0; i < s.n; i++)
        printf("%-26s %s\n", s.keys[i], s.vals[i]);
    if (!b->o.quiet) {
        printf("\n");
        hv_profiler_write_table(b->prof, stdout);
    }
    fflush(stdout);
    if (b->o.out == NULL)
        return 0;
    char title[160];
    snprintf(title, sizeof(title), "hivewire backtest: %s, seed %llu",
             b->o.bars.synthetic ? "synthetic" : b->o.bars.data, (unsigned long long)b->o.seed);
    if (write_file(b->o.out, "backtest.json", b, &s, title) != 0)
        return HV_EXIT_FAIL;
    return write_file(b->o.out, "backtest.html", b, &s, title);
}

/* Runs every bar, then delivers what is still in flight. Returns 0 or HV_EXIT_FAIL. */
static int run_bars(bt *b, const hv_series *s)
{
    for (size_t i = 0; i < s->len && b->failed == 0; i++) {
        cycle(b, &s->bars[i], i);
        if (b->failed != 0) {
            hv__cli_error(CMD, "bar %zu: %s: %s", i, b->fail_what, hv_strerror(b->failed));
            return HV_EXIT_FAIL;
        }
    }
    finish(b);
    if (b->failed != 0) {
        hv__cli_error(CMD, "after the last bar: %s: %s", b->fail_what, hv_strerror(b->failed));
        return HV_EXIT_FAIL;
    }
    return 0;
}

int hv_cmd_backtest(int argc, char **argv);

int hv_cmd_backtest(int argc, char **argv)
{
    static bt b; /* large ring; one backtest per process */
    memset(&b, 0, sizeof(b));
    int rc = parse_args(argc, argv, &b.o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (b.o.out != NULL && hv__cli_make_dir(CMD, b.o.out) != 0)
        return HV_EXIT_FAIL; /* checked before the run, not after it */
    hv_series s;
    hv_series_init(&s);
    rc = load_bars(&b.o, &s);
    if (rc == 0 && bt_init(&b) != 0) {
        hv__cli_error(CMD, "out of memory");
        rc = HV_EXIT_FAIL;
    }
    if (rc == 0)
        rc = run_bars(&b, &s);
    if (rc == 0)
        rc = output(&b, s.len);
    bt_fini(&b);
    hv_series_fini(&s);
    return rc;
}

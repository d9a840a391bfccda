/*
 * hivewire backtest: replays bars through the simulated exchange with a moving-average
 * crossover strategy, pre-trade limits and a portfolio, profiles every stage of every cycle,
 * and prints the profile, trades, P&L and drawdown (plus JSON and HTML reports with --out).
 * Single-threaded: the reference path the swarm's execution agent follows, without the bus.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
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
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/sim.h"

#define CMD      "backtest"
#define SLOW_MAX 1000

typedef struct bt_opts {
    hv_cli_bars_opts bars;
    uint64_t seed;
    uint64_t fast, slow;
    uint64_t qty;
    double cash;
    hv_exchange_opts x;
    hv_limits_opts lim;
    const char *out;
    int quiet, json, wide, progress; /* progress: -1 auto, 0 off, 1 on */
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
    uint64_t bars_run; /* bars traded (fewer than the series when stopped) */
    int stopped;       /* the signal that stopped it early, or 0 */
    hv_cli_report rep; /* the equity of every bar and the fills */
    int pending;       /* the last bar marked, kept until the next (or the end) */
    size_t pending_i;
    double pending_equity;
    int64_t pending_position;
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
      .help = "also write DIR/backtest.json, DIR/backtest.html and DIR/backtest-trades.csv "
              "(checked before the run)" },
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(bt_opts, quiet),
      .help = "the summary only: no progress, no stage table, no \"wrote\" lines" },
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(bt_opts, json),
      .help = "the report's JSON document on stdout instead of the summary (docs/REPORT.md)" },
    { .name = "wide",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(bt_opts, wide),
      .help = "rows as long as they are and every column of the stage table (default: 80 "
              "columns)" },
    { .name = "progress",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(bt_opts, progress),
      .help = "show the progress (default: when stderr is a terminal, unless --quiet)" },
    { .name = "no-progress",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      HV_OPT_AT(bt_opts, progress),
      .help = "no progress output" },
    { 0 },
};

static const char *const out_files[] = { "backtest.json", "backtest.html", "backtest-trades.csv",
                                         NULL };

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
    .epilog = "Ctrl-C (SIGINT or SIGTERM) stops after the bar that is running and writes the\n"
              "summary and reports, marked partial; a second one quits at once.\n"
              "\n"
              "Exit status: 0 done, 1 bad data or failed work, 2 bad usage, 130 (SIGINT) or\n"
              "143 (SIGTERM) stopped early with its partial reports written.\n",
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
    o->progress = -1;
    hv_exchange_opts_default(&o->x);
    hv_limits_opts_default(&o->lim);
    void *targets[] = { o, &o->bars, &o->x, &o->lim };
    int rc = hv__opts_parse(&spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o->fast >= o->slow)
        return hv__opts_usage_error(&spec, "--fast: %llu must be below --slow (%llu)",
                                    (unsigned long long)o->fast, (unsigned long long)o->slow);
    if (o->quiet && o->progress < 0)
        o->progress = 0;
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
    hv_profiler_opts pc;
    hv_profiler_opts_default(&pc);
    pc.value_max_ns = 1ull << 48; /* simulated latencies of up to 3 days */
    if (hv_exchange_new(&b->o.x, &b->x) != 0 || hv_portfolio_new(b->o.cash, 4096, &b->pf) != 0 ||
        hv_limits_new(&b->o.lim, &b->lim) != 0 || hv_profiler_new(&pc, &b->prof) != 0)
        return HV_EXIT_FAIL;
    hv_exchange_attach(b->x, b->pf, b->lim);
    for (int i = 0; i < ST_COUNT; i++)
        b->st[i] = hv_profiler_stage(b->prof, stage_names[i], HV_STAGE_TIMED);
    b->lat_ack = hv_profiler_stage(b->prof, "sim_exchange_ack_rtt", HV_STAGE_SIMULATED);
    b->lat_fill = hv_profiler_stage(b->prof, "sim_order_to_fill_report", HV_STAGE_SIMULATED);
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
            hv_report_trade fill = { .t_ns = r.exchange_ns,
                                     .side = (int)r.side,
                                     .qty = r.fill_qty,
                                     .price = r.fill_price,
                                     .fee = r.fee,
                                     .order_id = r.order_id };
            hv__cli_report_trade(&b->rep, &fill);
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

/* The bar marked before this one goes into the report; this one waits, so that the last bar
 * is reported with the book after what was still in flight (finish()). */
static void keep_bar(bt *b, size_t i)
{
    if (b->pending)
        hv__cli_report_bar(&b->rep, b->pending_i, b->pending_equity, b->pending_position);
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(b->pf, &ps);
    b->pending = 1;
    b->pending_i = i;
    b->pending_equity = ps.equity;
    b->pending_position = ps.position;
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
    keep_bar(b, (size_t)i); /* the mark of this bar (the order just sent changes no equity) */
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

/* ---- The report ------------------------------------------------------------------------- */

static void summarise(bt *b, size_t nbars)
{
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(b->pf, &ps);
    hv_cli_report *r = &b->rep;
    hv__cli_report_add(r, "bars", "%zu", nbars);
    if (b->stopped)
        hv__cli_report_add(r, "STOPPED",
                           "by %s after %" PRIu64 " of %zu bars: the reports cover only those "
                           "(partial)",
                           hv__cli_signal_name(b->stopped), b->bars_run, nbars);
    hv__cli_report_add(r, "seconds per bar", "%" PRIu64,
                       (uint64_t)(b->o.bars.bar_ns / 1000000000u));
    hv__cli_report_add(r, "orders", "%" PRIu64, b->orders);
    if (b->orders > 0)
        hv__cli_report_add(r, "last order at bar", "%" PRIu64, b->last_order_bar);
    hv__cli_report_add(r, "orders refused by limits", "%" PRIu64, b->refusals);
    hv__cli_report_add(r, "fills", "%" PRIu64, b->fills);
    hv__cli_report_add(r, "shares traded", "%" PRId64, ps.shares_traded);
    hv__cli_report_add(r, "fees", "%.2f", ps.fees);
    hv__cli_report_add(r, "realized P&L", "%.2f", ps.realized_pnl);
    hv__cli_report_add(r, "final position", "%" PRId64, ps.position);
    hv__cli_report_add(r, "final equity", "%.2f", ps.equity);
    hv__cli_report_add(r, "return", "%.2f%%", (ps.equity / ps.cash_initial - 1) * 100);
    hv__cli_report_add(r, "max drawdown", "%.2f%%", ps.max_drawdown_frac * 100);
    hv__cli_report_returns_rows(r);
    hv__cli_report_add(r, "kill switch", "%s", hv_limits_halted(b->lim, NULL) ? "halted" : "off");
}

static json_t *config_json(const bt *b, const hv_series *s)
{
    const bt_opts *o = &b->o;
    json_t *j = json_object();
    json_object_set_new(j, "data", hv__cli_bars_json(&o->bars, s));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "strategy",
                        json_pack("{s:I, s:I, s:I, s:f}", "fast", (json_int_t)o->fast, "slow",
                                  (json_int_t)o->slow, "qty", (json_int_t)o->qty, "cash", o->cash));
    json_object_set_new(j, "limits", hv__cli_limits_json(&o->lim));
    json_object_set_new(j, "exchange", hv__cli_exchange_json(&o->x));
    return j;
}

static json_t *result_json(const bt *b, size_t nbars)
{
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(b->pf, &ps);
    json_t *j = json_object();
    json_object_set_new(j, "completed", json_boolean(b->stopped == 0));
    json_object_set_new(j, "stopped_by",
                        b->stopped ? json_string(hv__cli_signal_name(b->stopped)) : json_null());
    json_object_set_new(j, "bars", json_integer((json_int_t)b->bars_run));
    json_object_set_new(j, "bars_planned", json_integer((json_int_t)nbars));
    json_object_set_new(j, "orders", json_integer((json_int_t)b->orders));
    json_object_set_new(j, "last_order_bar",
                        b->orders ? json_integer((json_int_t)b->last_order_bar) : json_null());
    json_object_set_new(j, "orders_refused_by_limits", json_integer((json_int_t)b->refusals));
    json_object_set_new(j, "fills", json_integer((json_int_t)b->fills));
    json_object_set_new(j, "shares_traded", json_integer((json_int_t)ps.shares_traded));
    json_object_set_new(j, "fees", hv__cli_json_num(ps.fees));
    json_object_set_new(j, "realized_pnl", hv__cli_json_num(ps.realized_pnl));
    json_object_set_new(j, "final_position", json_integer((json_int_t)ps.position));
    json_object_set_new(j, "final_equity", hv__cli_json_num(ps.equity));
    json_object_set_new(j, "return", hv__cli_json_num(ps.equity / ps.cash_initial - 1));
    json_object_set_new(j, "max_drawdown", hv__cli_json_num(ps.max_drawdown));
    json_object_set_new(j, "max_drawdown_frac", hv__cli_json_num(ps.max_drawdown_frac));
    json_object_set_new(j, "kill_switch", json_boolean(hv_limits_halted(b->lim, NULL)));
    return j;
}

static int output(bt *b, const hv_series *s)
{
    if (b->pending) /* the last bar, with the book after what was still in flight */
        hv__cli_report_bar(&b->rep, b->pending_i, b->pending_equity, b->pending_position);
    hv_cli_report *r = &b->rep;
    r->base = CMD;
    r->trades_file = "backtest-trades.csv";
    r->dir = b->o.out;
    r->json = b->o.json;
    r->wide = b->o.wide;
    r->quiet = b->o.quiet;
    r->partial = b->stopped != 0;
    r->stages_heading = "stages (self time per bar)";
    summarise(b, s->len);
    r->config = config_json(b, s);
    r->result = result_json(b, s->len);
    char title[160];
    snprintf(title, sizeof(title), "hivewire backtest: %s%s%s, seed %llu%s",
             b->o.bars.synthetic ? "synthetic" : b->o.bars.data, b->o.bars.symbol ? " " : "",
             b->o.bars.symbol ? b->o.bars.symbol : "", (unsigned long long)b->o.seed,
             b->stopped ? " (partial)" : "");
    return hv__cli_report_emit(r, b->prof, title, NULL);
}

/* Runs every bar (until a stop signal), then delivers what is still in flight. Returns 0 or
 * HV_EXIT_FAIL. */
static int run_bars(bt *b, const hv_series *s)
{
    hv_cli_progress line;
    hv__cli_progress_init(&line, CMD, "bars", b->o.progress);
    hv__cli_stop_catch();
    for (size_t i = 0; i < s->len && b->failed == 0 && b->stopped == 0; i++) {
        cycle(b, &s->bars[i], i);
        b->bars_run = i + 1;
        if (b->failed != 0) {
            hv__cli_stop_release();
            hv__cli_error(CMD, "bar %zu: %s: %s", i, b->fail_what, hv_strerror(b->failed));
            return HV_EXIT_FAIL;
        }
        b->stopped = hv__cli_stop_signal();
        hv__cli_progress_update(&line, i + 1, s->len);
    }
    hv__cli_stop_release();
    if (b->stopped) {
        hv__cli_progress_break(&line);
        hv__cli_error(CMD, "%s: stopped after bar %" PRIu64 " of %zu; the reports are partial",
                      hv__cli_signal_name(b->stopped), b->bars_run, s->len);
    }
    finish(b);
    if (b->failed != 0) {
        hv__cli_error(CMD, "after the last bar: %s: %s", b->fail_what, hv_strerror(b->failed));
        return HV_EXIT_FAIL;
    }
    return 0;
}

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_backtest = &spec;

int hv_cmd_backtest(int argc, char **argv);

int hv_cmd_backtest(int argc, char **argv)
{
    static bt b; /* large ring; one backtest per process */
    memset(&b, 0, sizeof(b));
    int rc = parse_args(argc, argv, &b.o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (b.o.out != NULL && hv__cli_out_check(CMD, "--out", b.o.out, out_files) != 0)
        return HV_EXIT_FAIL; /* checked before the run, not after it */
    hv_series s;
    hv_series_init(&s);
    rc = load_bars(&b.o, &s);
    if (rc == 0 &&
        (hv__cli_report_init(&b.rep, CMD, s.bars, s.len, b.o.bars.bar_ns, b.o.cash) != 0 ||
         bt_init(&b) != 0)) {
        hv__cli_error(CMD, "out of memory");
        rc = HV_EXIT_FAIL;
    }
    if (rc == 0)
        rc = run_bars(&b, &s);
    if (rc == 0)
        rc = output(&b, &s);
    if (rc == 0 && b.stopped)
        rc = 128 + b.stopped; /* 130 after SIGINT, 143 after SIGTERM */
    bt_fini(&b);
    hv__cli_report_fini(&b.rep);
    hv_series_fini(&s);
    return rc;
}

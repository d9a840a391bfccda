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
#include "trading/cli_trading.h"

#define CMD       "backtest"
#define SLOW_MAX  1000
#define BAR_NS    86400000000000ull /* one simulated day per bar */
#define BYTES_MAX (256u * 1024 * 1024)
#define SYNTH_MAX 10000000ull

typedef struct bt_opts {
    const char *data;
    uint64_t synthetic; /* bars; 0 = read data */
    uint64_t seed;
    uint64_t fast, slow;
    uint64_t qty;
    double cash;
    hv_exchange_config x;
    hv_limits_config lim;
    uint64_t interval_days;
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
    int halted_reported;
} bt;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire backtest [options]\n\n"
            "Replays daily bars through the simulated exchange with a moving-average crossover\n"
            "(long when the fast average is above the slow one, flat otherwise), pre-trade risk\n"
            "limits and a portfolio; prints the stage profile, trades, P&L and max drawdown.\n"
            "The same seed and data give the same trades and P&L on every run.\n\n"
            "data:\n"
            "  --data FILE          CSV bars (date, open, high, low, close[, adjclose, volume])\n"
            "                       (default data/sp500-2000.csv, fetched by scripts/fetch-data)\n"
            "  --synthetic N        N synthetic GBM bars instead (seeded by --seed)\n"
            "strategy:\n"
            "  --fast N --slow N    moving-average lengths in bars (default 10 and 50)\n"
            "  --qty N              shares held when long (default 100)\n"
            "  --cash X             initial cash (default 1000000)\n"
            "exchange:\n"
            "  --seed N             latency jitter (and synthetic data) seed (default 1)\n"
            "  --fee-bps X --fee-min X   fees (default 1 bp, minimum 1.0 per order)\n"
            "  --participation X    max share of a bar's volume we trade (default 0.1)\n"
            "  --latency-us N --jitter-us N   one-way latency (default 50 + [0, 20])\n"
            "limits (0 = off, the default):\n"
            "  --max-position N --max-notional X --max-drawdown FRAC\n"
            "  --max-orders N --interval-days N   at most N orders in any N-day window\n"
            "output:\n"
            "  --out DIR            also write DIR/backtest.json and DIR/backtest.html\n"
            "  --quiet              summary only, no stage table\n");
}

/* An integer option in [lo, hi]. */
static int want_u64(const char *a, const char *v, uint64_t *out, uint64_t lo, uint64_t hi)
{
    if (v == NULL || hv__cli_parse_u64(v, out) != 0 || *out < lo || *out > hi) {
        hv__cli_error(CMD, "%s takes an integer in %llu..%llu", a, (unsigned long long)lo,
                      (unsigned long long)hi);
        return HV_EXIT_USAGE;
    }
    return 0;
}

/* A finite number option in [lo, hi], or in (lo, hi] when open_lo (nan and inf are refused). */
static int want_double(const char *a, const char *v, double *out, double lo, double hi, int open_lo)
{
    if (v == NULL || hv__cli_parse_double(v, out) != 0 || !isfinite(*out) || *out > hi ||
        (open_lo ? *out <= lo : *out < lo)) {
        hv__cli_error(CMD, "%s takes a finite number in %s%g, %g]", a, open_lo ? "(" : "[", lo, hi);
        return HV_EXIT_USAGE;
    }
    return 0;
}

static int parse_number(bt_opts *o, const char *a, const char *v)
{
    uint64_t u = 0;
    int rc = 0;
#define U64(name, field, lo, hi) \
    if (strcmp(a, name) == 0)    \
        return want_u64(a, v, &(field), lo, hi);
#define DBL(name, field, lo, hi, open_lo) \
    if (strcmp(a, name) == 0)             \
        return want_double(a, v, &(field), lo, hi, open_lo);
    U64("--synthetic", o->synthetic, 1, SYNTH_MAX) /* 0 would silently mean "read --data" */
    U64("--seed", o->seed, 0, UINT64_MAX)
    U64("--fast", o->fast, 1, SLOW_MAX - 1)
    U64("--slow", o->slow, 2, SLOW_MAX)
    U64("--qty", o->qty, 1, 1000000000)
    U64("--interval-days", o->interval_days, 1, 100000)
    DBL("--cash", o->cash, 0, 1e15, 1)
    DBL("--fee-bps", o->x.fee_bps, 0, 10000, 0)
    DBL("--fee-min", o->x.fee_min, 0, 1e12, 0)
    DBL("--participation", o->x.participation_max, 0, 1, 1)
    DBL("--max-notional", o->lim.order_notional_max, 0, 1e15, 0)
    DBL("--max-drawdown", o->lim.drawdown_max_frac, 0, 1, 0)
#undef U64
#undef DBL
    /* One hour of latency at most: far beyond any exchange, and u * 1000 cannot overflow. */
    if (strcmp(a, "--latency-us") == 0 && (rc = want_u64(a, v, &u, 0, 3600000000ull)) == 0)
        o->x.latency_fixed_ns = u * 1000;
    else if (strcmp(a, "--jitter-us") == 0 && (rc = want_u64(a, v, &u, 0, 3600000000ull)) == 0)
        o->x.latency_jitter_ns = u * 1000;
    else if (strcmp(a, "--max-position") == 0 && (rc = want_u64(a, v, &u, 0, INT64_MAX)) == 0)
        o->lim.position_max = (int64_t)u;
    else if (strcmp(a, "--max-orders") == 0 && (rc = want_u64(a, v, &u, 0, 1000000)) == 0)
        o->lim.orders_per_interval_max = (uint32_t)u;
    else if (rc == 0) {
        hv__cli_error(CMD, "unknown option '%s' (see --help)", a);
        return HV_EXIT_USAGE;
    }
    return rc;
}

static int check_opts(bt_opts *o)
{
    if (o->fast < 1 || o->slow <= o->fast || o->slow > SLOW_MAX) {
        hv__cli_error(CMD, "need 1 <= --fast < --slow <= %d", SLOW_MAX);
        return HV_EXIT_USAGE;
    }
    if (o->qty < 1 || o->qty > 1000000000 || !isfinite(o->cash) || !(o->cash > 0) ||
        o->synthetic > SYNTH_MAX) {
        hv__cli_error(CMD, "--qty must be 1..1e9, --cash finite and > 0, --synthetic <= %llu",
                      (unsigned long long)SYNTH_MAX);
        return HV_EXIT_USAGE;
    }
    if (o->lim.orders_per_interval_max > 0) {
        if (o->interval_days == 0 || o->interval_days > 100000) {
            hv__cli_error(CMD, "--max-orders needs --interval-days 1..100000");
            return HV_EXIT_USAGE;
        }
        o->lim.interval_ns = o->interval_days * BAR_NS;
    }
    return 0;
}

static int parse_args(int argc, char **argv, bt_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->data = "data/sp500-2000.csv";
    o->seed = 1;
    o->fast = 10;
    o->slow = 50;
    o->qty = 100;
    o->cash = 1e6;
    hv_exchange_config_default(&o->x);
    hv_limits_config_default(&o->lim);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            continue;
        }
        if ((strcmp(a, "--data") == 0 || strcmp(a, "--out") == 0) && v == NULL) {
            hv__cli_error(CMD, "%s takes a path", a);
            return HV_EXIT_USAGE;
        }
        if (strcmp(a, "--data") == 0 || strcmp(a, "--out") == 0) {
            *(a[2] == 'd' ? &o->data : &o->out) = v;
            i++;
            continue;
        }
        int rc = parse_number(o, a, v);
        if (rc != 0)
            return rc;
        i++;
    }
    o->x.seed = o->seed;
    return check_opts(o);
}

/* Shared with hivewire run (src/trading/cli_trading.h). */
int hv__cli_load_bars(const char *cmd, const char *path, uint64_t synthetic, uint64_t seed,
                      hv_series *s)
{
    if (synthetic > 0) {
        hv_gbm_params p;
        hv_synth g;
        hv_gbm_defaults(&p);
        if (hv_synth_init(&g, &p, seed) != 0 || hv_synth_fill(&g, synthetic, s) != 0) {
            hv__cli_error(cmd, "cannot generate %llu bars", (unsigned long long)synthetic);
            return HV_EXIT_FAIL;
        }
        return 0;
    }
    hv_csv_report rep;
    int rc = hv_csv_load_bars(path, NULL, s, &rep);
    for (uint32_t i = 0; i < rep.issues_kept; i++) {
        char line[256];
        hv_csv_issue_format(rep.file, &rep.issues[i], line, sizeof(line));
        fprintf(stderr, "hivewire %s: %s %s\n", cmd, rep.issues[i].fatal ? "error" : "skipped",
                line);
    }
    if (rep.rows_bad > rep.issues_kept)
        fprintf(stderr, "hivewire %s: ... and %llu more bad rows skipped\n", cmd,
                (unsigned long long)(rep.rows_bad - rep.issues_kept));
    if (rc != 0) {
        hv__cli_error(cmd, "cannot load %s: %s%s", path, hv_strerror(rc),
                      rc == HV_ENOTFOUND ? " (run scripts/fetch-data, or use --synthetic N)" : "");
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int load_bars(const bt_opts *o, hv_series *s)
{
    int rc = hv__cli_load_bars(CMD, o->data, o->synthetic, o->seed, s);
    if (rc != 0)
        return rc;
    if (s->len <= o->slow) {
        hv__cli_error(CMD, "%s has %zu bars; --slow %llu needs more",
                      o->synthetic ? "the synthetic series" : o->data, s->len,
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

static void drain(bt *b, uint64_t t)
{
    hv_exec_report r;
    while (hv_exchange_poll(b->x, t, &r) == 1) {
        if (r.type == HV_EXEC_ACK)
            hv_profiler_record(b->prof, b->lat_ack, r.deliver_ns - r.submit_ns);
        if (r.type == HV_EXEC_FILL) {
            b->fills++;
            hv_profiler_record(b->prof, b->lat_fill, r.deliver_ns - r.submit_ns);
        }
    }
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

static void submit_towards(bt *b, int64_t target, uint64_t t)
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
    if (rc == 0)
        b->orders++;
    else
        b->refusals++;
}

static void cycle(bt *b, const hv_bar *bar, uint64_t i)
{
    uint64_t t = i * BAR_NS;
    hv_profiler *p = b->prof;
    hv_profiler_cycle_begin(p);
    hv_profiler_begin(p, b->st[ST_CONFIRM]);
    drain(b, t);
    hv_profiler_end(p, b->st[ST_CONFIRM]);
    hv_profiler_begin(p, b->st[ST_MARKET]);
    while (hv_exchange_on_bar(b->x, bar, t) == HV_EFULL)
        drain(b, t);
    hv_portfolio_mark(b->pf, bar->close, t);
    hv_profiler_end(p, b->st[ST_MARKET]);
    hv_profiler_begin(p, b->st[ST_SIGNAL]);
    int64_t target = target_position(b, bar->close);
    hv_profiler_end(p, b->st[ST_SIGNAL]);
    hv_profiler_begin(p, b->st[ST_RISK]);
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(b->pf, &ps);
    hv_limits_update_drawdown(b->lim, ps.drawdown_frac, t, NULL);
    hv_profiler_end(p, b->st[ST_RISK]);
    hv_profiler_begin(p, b->st[ST_EXEC]);
    submit_towards(b, target, t + 1);
    hv_profiler_end(p, b->st[ST_EXEC]);
    hv_profiler_cycle_end(p);
    say_halt(b, i);
}

/* Delivers whatever is still in flight after the last bar (bounded: each step delivers). */
static void finish(bt *b)
{
    for (int i = 0; i < 1000000; i++) {
        uint64_t t = hv_exchange_next_event_ns(b->x);
        if (t == UINT64_MAX)
            break;
        drain(b, t);
    }
}

typedef struct summary {
    char v[12][48];
    const char *keys[12];
    const char *vals[12];
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
    add(s, "orders", "%.0f", (double)b->orders);
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
    if (hv__cli_make_dir(CMD, b->o.out) != 0)
        return HV_EXIT_FAIL;
    char title[160];
    snprintf(title, sizeof(title), "hivewire backtest: %s, seed %llu",
             b->o.synthetic ? "synthetic" : b->o.data, (unsigned long long)b->o.seed);
    if (write_file(b->o.out, "backtest.json", b, &s, title) != 0)
        return HV_EXIT_FAIL;
    return write_file(b->o.out, "backtest.html", b, &s, title);
}

/* The library validates the settings: build both objects once and throw them away. */
static int settings_ok(const bt_opts *o)
{
    hv_exchange *x = hv_exchange_new(&o->x);
    hv_limits *l = hv_limits_new(&o->lim);
    int ok = x != NULL && l != NULL;
    hv_exchange_free(x);
    hv_limits_free(l);
    return ok;
}

int hv_cmd_backtest(int argc, char **argv);

int hv_cmd_backtest(int argc, char **argv)
{
    static bt b; /* large ring; one backtest per process */
    memset(&b, 0, sizeof(b));
    int rc = parse_args(argc, argv, &b.o);
    if (rc != 0)
        return rc < 0 ? HV_EXIT_OK : rc;
    if (!settings_ok(&b.o)) {
        hv__cli_error(CMD, "invalid exchange or limit settings (see --help)");
        return HV_EXIT_USAGE;
    }
    hv_series s;
    hv_series_init(&s);
    rc = load_bars(&b.o, &s);
    if (rc == 0 && bt_init(&b) != 0) {
        hv__cli_error(CMD, "out of memory");
        rc = HV_EXIT_FAIL;
    }
    if (rc == 0) {
        for (size_t i = 0; i < s.len; i++)
            cycle(&b, &s.bars[i], i);
        finish(&b);
        rc = output(&b, s.len);
    }
    bt_fini(&b);
    hv_series_fini(&s);
    return rc;
}

/*
 * `hivewire market`: inspect a bar file (stats), generate synthetic bars (synth), replay a
 * file on a schedule (replay).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <jansson.h>

#include <hivewire/hist.h>
#include <hivewire/market.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/sim.h"

/* ---- Options ------------------------------------------------------------------------------- */

typedef struct stats_args {
    const char *symbol;
    int strict, json;
} stats_args;

typedef struct synth_args {
    uint64_t bars, seed;
    const char *fit;
    int regimes;
} synth_args;

typedef struct replay_args {
    double speed;
    uint64_t ticks, limit, bar_ns;
    int quiet;
} replay_args;

static const hv_opt stats_rows[] = {
    { .name = "symbol",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(stats_args, symbol),
      .help = "keep only the rows of this symbol (files with a symbol column)" },
    { .name = "strict",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(stats_args, strict),
      .help = "stop at the first malformed row (exit 1) instead of skipping it" },
    { .name = "json", .kind = HV_OPT_FLAG, HV_OPT_AT(stats_args, json), .help = "JSON on stdout" },
    { 0 },
};

static const hv_opt synth_rows[] = {
    { .name = "bars",
      .kind = HV_OPT_U64,
      HV_OPT_AT(synth_args, bars),
      .umin = 1,
      .umax = 100000000,
      .dflt = "1000",
      .help = "bars to print; their weekday dates must end by 9999-12-31 (about 2.08 million "
              "bars from 2000)" },
    { .name = "seed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(synth_args, seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "generator seed" },
    { .name = "fit",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_PATH,
      HV_OPT_AT(synth_args, fit),
      .help = "fit drift, volatility, regimes, volume, start price and date to this CSV" },
    { .name = "regimes",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(synth_args, regimes),
      .help = "switch between a calm and a turbulent volatility regime" },
    { 0 },
};

static const hv_opt replay_rows[] = {
    { .name = "speed",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(replay_args, speed),
      .dmax = 1e15,
      .dflt = "0",
      .help = "market time per wall time (86400: a daily bar per second); 0 = as fast as "
              "possible" },
    { .name = "ticks",
      .kind = HV_OPT_U64,
      HV_OPT_AT(replay_args, ticks),
      .umin = 1,
      .umax = HV_REPLAY_TICKS_MAX,
      .dflt = "1",
      .help = "events per bar: 1 = the bars, K = ticks interpolated through open, low, high "
              "and close" },
    { .name = "limit",
      .kind = HV_OPT_U64,
      HV_OPT_AT(replay_args, limit),
      .umax = UINT64_MAX,
      .help = "stop after N events (default: all)" },
    HV_CLI_BAR_SECONDS_ROW(replay_args, bar_ns),
    { .name = "quiet",
      .short_name = 'q',
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(replay_args, quiet),
      .help = "print only the summary" },
    { 0 },
};

static const hv_opt_section stats_sections[] = { { NULL, stats_rows, 0 }, { 0 } };
static const hv_opt_section synth_sections[] = { { NULL, synth_rows, 0 }, { 0 } };
static const hv_opt_section replay_sections[] = { { NULL, replay_rows, 0 }, { 0 } };

static const hv_cli_spec stats_spec = {
    .name = "market stats",
    .synopsis = "FILE [options]",
    .summary = "rows, dates, malformed rows and the fitted model of a bar CSV",
    .about = "Loads a bar CSV (date, close; optional open, high, low, adjclose, volume,\n"
             "symbol) and prints rows, date range, malformed rows and the fitted geometric\n"
             "Brownian motion (drift, volatility, regimes).\n",
    .sections = stats_sections,
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = 1,
    .epilog = "example: hivewire market stats data/sp500-2000.csv\n"
              "Exit status: 0 done, 1 bad data (no valid bars; a fatal or, with --strict, any\n"
              "malformed row), 2 bad usage.\n",
};

static const hv_cli_spec synth_spec = {
    .name = "market synth",
    .synopsis = "[options]",
    .summary = "print synthetic bars as CSV",
    .about = "Prints N synthetic bars as CSV (the columns of the S&P 500 file): an index-like\n"
             "GBM (or one fitted to --fit FILE) whose trend grows at the drift for 6,300 bars\n"
             "(25 years) and then stays flat, the log price reverting to the trend with a\n"
             "1,260-bar half-life, so prices stay realistic over any length (see\n"
             "docs/MARKET_RISK.md).\n",
    .sections = synth_sections,
    .epilog = "example: hivewire market synth --bars 100000 --fit data/sp500-2000.csv --regimes\n",
};

static const hv_cli_spec replay_spec = {
    .name = "market replay",
    .synopsis = "FILE [options]",
    .summary = "emit a file's bars or ticks on the replay feed's schedule",
    .about = "Emits FILE's bars (or K interpolated ticks per bar) on the replay feed's\n"
             "schedule and prints each event and its lag behind its due time, then the lag\n"
             "distribution.\n",
    .sections = replay_sections,
    .operand = "FILE",
    .operands_min = 1,
    .operands_max = 1,
    .epilog = "example: hivewire market replay data/sp500-2000.csv --speed 864000 --limit 20\n"
              "Exit status: 0 done, 1 bad data (no valid bars), 2 bad usage.\n",
};

/* ---- stats --------------------------------------------------------------------------------- */

/* Bars per calendar year observed in the series (252-ish for daily, 12 for monthly). */
static double bars_per_year(const hv_series *s)
{
    double years = (s->bars[s->len - 1].day - s->bars[0].day) / 365.25;
    return years > 0 ? (double)(s->len - 1) / years : HV_TRADING_DAYS_YEAR;
}

static void stats_text(const hv_series *s, const hv_csv_report *rep, const hv_gbm_params *p,
                       int fitted)
{
    char d0[11], d1[11];
    hv_day_format(s->bars[0].day, d0);
    hv_day_format(s->bars[s->len - 1].day, d1);
    printf("file        %s\n", rep->file);
    printf("rows        %zu loaded, %llu malformed, %llu lines\n", s->len,
           (unsigned long long)rep->rows_bad, (unsigned long long)rep->lines);
    printf("dates       %s .. %s\n", d0, d1);
    printf("close       first %.6g, last %.6g\n", s->bars[0].close, s->bars[s->len - 1].close);
    if (!fitted)
        return;
    double y = bars_per_year(s);
    printf("drift       %.6f per bar (%.2f%% per year of %.1f bars)\n", p->mu, 100 * p->mu * y, y);
    printf("volatility  %.6f per bar (%.2f%% per year)\n", p->sigma, 100 * p->sigma * sqrt(y));
    printf("regimes     calm %.6f, turbulent %.6f per bar; leave prob %.4f / %.4f per bar\n",
           p->regime_sigma[0], p->regime_sigma[1], p->p_leave[0], p->p_leave[1]);
    printf("volume      ln mean %.4f, ln sd %.4f\n", p->log_volume_mean, p->log_volume_sd);
}

static void stats_json(const hv_series *s, const hv_csv_report *rep, const hv_gbm_params *p,
                       int fitted)
{
    char d0[11], d1[11];
    hv_day_format(s->bars[0].day, d0);
    hv_day_format(s->bars[s->len - 1].day, d1);
    json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}", "file", rep->file, "rows",
                          (json_int_t)s->len, "bad_rows", (json_int_t)rep->rows_bad, "lines",
                          (json_int_t)rep->lines, "first_date", d0, "last_date", d1);
    if (fitted)
        json_object_set_new(o, "gbm",
                            json_pack("{s:f,s:f,s:f,s:f,s:f,s:[f,f],s:[f,f]}", "mu_per_bar", p->mu,
                                      "sigma_per_bar", p->sigma, "bars_per_year", bars_per_year(s),
                                      "mu_annual", p->mu * bars_per_year(s), "sigma_annual",
                                      p->sigma * sqrt(bars_per_year(s)), "regime_sigma",
                                      p->regime_sigma[0], p->regime_sigma[1], "p_leave",
                                      p->p_leave[0], p->p_leave[1]));
    json_t *issues = json_array();
    for (uint32_t i = 0; i < rep->issues_kept; i++) {
        const hv_csv_issue *is = &rep->issues[i];
        json_array_append_new(issues, json_pack("{s:I,s:I,s:s,s:s}", "line", (json_int_t)is->line,
                                                "column", (json_int_t)is->column, "name",
                                                is->column_name, "reason", is->reason));
    }
    json_object_set_new(o, "issues", issues);
    char *txt = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (txt != NULL)
        puts(txt);
    free(txt);
    json_decref(o);
}

static int cmd_stats(int argc, char **argv)
{
    stats_args a = { 0 };
    hv_opts_result res;
    void *targets[] = { &a };
    int rc = hv__opts_parse(&stats_spec, targets, argc, argv, &res);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    rc = hv__cli_csv_bars("market stats", res.operands[0], a.symbol, a.strict, NULL, &s, &rep);
    if (rc == 0) {
        hv_gbm_params p;
        int fitted = hv_gbm_fit(&s, &p) == 0;
        (a.json ? stats_json : stats_text)(&s, &rep, &p, fitted);
    }
    hv_series_fini(&s);
    return rc;
}

/* ---- synth --------------------------------------------------------------------------------- */

/* The generator's parameters: the defaults, or fitted to a file. 0 or an exit code. */
static int synth_params(const synth_args *a, hv_gbm_params *p)
{
    hv_gbm_params_default(p);
    if (a->fit != NULL) {
        hv_series s;
        hv_series_init(&s);
        hv_csv_report rep;
        int rc = hv__cli_csv_bars("market synth", a->fit, NULL, 0, NULL, &s, &rep);
        int rv = rc == 0 ? hv_gbm_fit(&s, p) : 0;
        if (rv == HV_ETOOFEWOBS)
            hv__cli_error("market synth", "--fit %s: %zu bars; the fit needs at least %d", a->fit,
                          s.len, HV_GBM_FIT_MIN_BARS);
        else if (rv != 0)
            hv__cli_error("market synth", "--fit %s: %s", a->fit, hv_strerror(rv));
        hv_series_fini(&s);
        if (rc != 0 || rv != 0)
            return HV_EXIT_FAIL;
    }
    p->regimes = a->regimes;
    return 0;
}

static int cmd_synth(int argc, char **argv)
{
    synth_args a = { .bars = 1000, .seed = 1 };
    void *targets[] = { &a };
    int rc = hv__opts_parse(&synth_spec, targets, argc, argv, NULL);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    hv_gbm_params p;
    if ((rc = synth_params(&a, &p)) != 0)
        return rc;
    hv_synth g;
    if (hv_synth_init(&g, &p, a.seed) != 0) {
        hv__cli_error("market synth", "invalid generator parameters");
        return HV_EXIT_FAIL;
    }
    size_t left = hv_synth_bars_left(&g);
    if (a.bars > left) {
        char d[11];
        hv_day_format(g.day, d);
        return hv__opts_usage_error(&synth_spec,
                                    "--bars: %llu bars from %s would pass 9999-12-31; at most "
                                    "%llu fit",
                                    (unsigned long long)a.bars, d, (unsigned long long)left);
    }
    printf("date,open,high,low,close,adjclose,volume\n");
    for (uint64_t i = 0; i < a.bars; i++) {
        hv_bar b;
        if (hv_synth_next(&g, &b) != 0)
            return HV_EXIT_FAIL; /* not reached: the count was checked against the dates */
        char d[11];
        hv_day_format(b.day, d);
        printf("%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.0f\n", d, b.open, b.high, b.low, b.close, b.adjclose,
               b.volume);
    }
    return fflush(stdout) == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

/* ---- replay -------------------------------------------------------------------------------- */

/* The I/O side of the feed: sleeps until the due time the state machine reports. */
static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = { .tv_sec = (time_t)(t_ns / 1000000000u),
                           .tv_nsec = (long)(t_ns % 1000000000u) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
    }
}

static void replay_event(const hv_replay_event *ev, uint64_t lag_ns, int quiet)
{
    if (quiet)
        return;
    char d[11];
    hv_day_format(ev->day, d);
    printf("%8llu %s tick %u %12.6f %14.0f lag_us %.1f\n", (unsigned long long)ev->seq, d, ev->tick,
           ev->price, ev->volume, lag_ns / 1e3);
}

/* Starts the feed; a speed so slow that one event would take more than 1e18 ns is a usage
 * error of --speed. 0 or an exit code. */
static int replay_start(const replay_args *a, const hv_series *s, hv_replay *r)
{
    hv_replay_opts o = { .size = sizeof(o),
                         .speed = a->speed,
                         .bar_ns = a->bar_ns,
                         .ticks_per_bar = (uint32_t)a->ticks };
    int rc = hv_replay_init(r, s->bars, s->len, &o, hv_now_ns());
    if (rc == HV_ERANGE)
        return hv__opts_usage_error(&replay_spec,
                                    "--speed: %g is too slow: one event would take more than "
                                    "1e18 ns (31 years)",
                                    a->speed);
    if (rc != 0) {
        hv__cli_error("market replay", "%s", hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    replay_args a = { .ticks = 1, .limit = UINT64_MAX, .bar_ns = HV_SIM_BAR_NS_DEFAULT };
    hv_opts_result res;
    void *targets[] = { &a };
    int rc = hv__opts_parse(&replay_spec, targets, argc, argv, &res);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    hv_hist lag;
    hv_replay r;
    rc = hv__cli_csv_bars("market replay", res.operands[0], NULL, 0, NULL, &s, &rep);
    if (rc == 0)
        rc = replay_start(&a, &s, &r);
    if (rc != 0 || hv_hist_init(&lag, 3600000000000ull, 7) != 0) {
        hv_series_fini(&s);
        return rc != 0 ? rc : HV_EXIT_FAIL;
    }
    uint64_t emitted = 0, t0 = hv_now_ns();
    while (emitted < a.limit) {
        hv_replay_event ev;
        uint64_t next;
        uint64_t now = hv_now_ns();
        int rv = hv_replay_poll(&r, now, &ev, &next);
        if (rv < 0)
            break;
        if (rv == 0) {
            sleep_until(next);
            continue;
        }
        hv_hist_record(&lag, now - ev.due_ns);
        replay_event(&ev, now - ev.due_ns, a.quiet);
        emitted++;
    }
    double secs = (double)(hv_now_ns() - t0) / 1e9;
    fprintf(stderr,
            "replay: %llu events in %.3f s (%.0f/s), late %llu, lag p50 %.1f us, p99 %.1f us, "
            "max %.1f us\n",
            (unsigned long long)emitted, secs, secs > 0 ? emitted / secs : 0,
            (unsigned long long)r.late, hv_hist_quantile(&lag, 0.5) / 1e3,
            hv_hist_quantile(&lag, 0.99) / 1e3, (double)lag.max / 1e3);
    hv_hist_fini(&lag);
    hv_series_fini(&s);
    return HV_EXIT_OK;
}

static const hv_cli_sub market_subs[] = {
    { &stats_spec, cmd_stats },
    { &synth_spec, cmd_synth },
    { &replay_spec, cmd_replay },
    { NULL, NULL },
};

static const hv_cli_group market_group = {
    .name = "market",
    .about = "Market data: inspect a bar CSV, generate synthetic bars, replay a file on\n"
             "a schedule.\n",
    .subs = market_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_market = &market_group;

int hv_cmd_market(int argc, char **argv);
int hv_cmd_market(int argc, char **argv)
{
    return hv__opts_dispatch(&market_group, argc, argv);
}

/*
 * `hivewire market`: inspect a bar file (stats) and generate synthetic bars (synth).
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

#define ISSUES_PRINTED_MAX 10

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire market stats FILE [--symbol S] [--strict] [--json]\n"
            "       hivewire market synth [--bars N] [--seed N] [--fit FILE] [--regimes]\n"
            "       hivewire market replay FILE [--speed X] [--ticks K] [--limit N] [--quiet]\n\n"
            "  stats   load a bar CSV (date, close; optional open, high, low, adjclose, volume,\n"
            "          symbol) and print rows, date range, malformed rows and the fitted\n"
            "          geometric Brownian motion (drift, volatility, regimes)\n"
            "  synth   print N synthetic bars as CSV (same columns as the S&P 500 file),\n"
            "          with parameters fitted to FILE (default: built-in index-like values)\n"
            "  replay  emit FILE's bars (or K interpolated ticks per bar) on the replay feed's\n"
            "          schedule: X times market speed (a daily bar spans 86,400 s; 0 = as fast\n"
            "          as possible, the default); prints each event and its lag behind its due\n"
            "          time, then the lag distribution\n\n"
            "example: hivewire market stats data/sp500-2000.csv\n"
            "         hivewire market synth --bars 100000 --fit data/sp500-2000.csv --regimes\n"
            "         hivewire market replay data/sp500-2000.csv --speed 864000 --limit 20\n");
}

static void print_issue(void *user, const char *file, const hv_csv_issue *is)
{
    unsigned *printed = user;
    if (!is->fatal && ++*printed > ISSUES_PRINTED_MAX)
        return;
    char msg[256];
    hv_csv_issue_format(file, is, msg, sizeof(msg));
    fprintf(stderr, "hivewire market: %s%s\n", is->fatal ? "" : "skipped ", msg);
}

static int load_bars(const char *path, const char *symbol, int strict, hv_series *s,
                     hv_csv_report *rep)
{
    unsigned printed = 0;
    hv_csv_opts o = { .size = sizeof(o),
                      .strict = strict,
                      .symbol = symbol,
                      .on_issue = print_issue,
                      .user = &printed };
    int rv = hv_csv_load_bars(path, &o, s, rep);
    if (printed > ISSUES_PRINTED_MAX)
        fprintf(stderr, "hivewire market: ... %u more malformed rows\n",
                printed - ISSUES_PRINTED_MAX);
    if (rv != 0 && rv != HV_EBADROW && rv != HV_EPARSE)
        hv__cli_error("market", "%s: %s", path, hv_strerror(rv));
    return rv;
}

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
    const char *file = NULL, *symbol = NULL;
    int json = 0, strict = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--strict") == 0) {
            strict = 1;
        } else if (strcmp(argv[i], "--symbol") == 0 && i + 1 < argc) {
            symbol = argv[++i];
        } else if (argv[i][0] != '-' && file == NULL) {
            file = argv[i];
        } else {
            hv__cli_error("market", "unknown option '%s'", argv[i]);
            return HV_EXIT_USAGE;
        }
    }
    if (file == NULL) {
        hv__cli_error("market", "stats needs a FILE");
        return HV_EXIT_USAGE;
    }
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    int rv = load_bars(file, symbol, strict, &s, &rep);
    if (rv == 0 && s.len == 0) {
        hv__cli_error("market", "%s: no valid bars", file);
        rv = HV_ETOOFEWOBS;
    }
    if (rv == 0) {
        hv_gbm_params p;
        int fitted = hv_gbm_fit(&s, &p) == 0;
        (json ? stats_json : stats_text)(&s, &rep, &p, fitted);
    }
    hv_series_fini(&s);
    return rv == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

static int synth_args(int argc, char **argv, uint64_t *bars, uint64_t *seed, const char **fit,
                      int *regimes)
{
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--regimes") == 0) {
            *regimes = 1;
        } else if (strcmp(o, "--bars") == 0 && v != NULL) {
            i++;
            if (hv__cli_parse_u64(v, bars) != 0 || *bars == 0 || *bars > 100000000) {
                hv__cli_error("market", "--bars takes a number from 1 to 100000000");
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--seed") == 0 && v != NULL) {
            i++;
            if (hv__cli_parse_u64(v, seed) != 0) {
                hv__cli_error("market", "--seed takes a non-negative integer");
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--fit") == 0 && v != NULL) {
            *fit = argv[++i];
        } else {
            hv__cli_error("market", "unknown option or missing value: '%s'", o);
            return HV_EXIT_USAGE;
        }
    }
    return 0;
}

static int cmd_synth(int argc, char **argv)
{
    uint64_t bars = 1000, seed = 1;
    const char *fit = NULL;
    int regimes = 0;
    int rc = synth_args(argc, argv, &bars, &seed, &fit, &regimes);
    if (rc != 0)
        return rc;
    hv_gbm_params p;
    hv_gbm_defaults(&p);
    if (fit != NULL) {
        hv_series s;
        hv_series_init(&s);
        hv_csv_report rep;
        int rv = load_bars(fit, NULL, 0, &s, &rep);
        if (rv == 0)
            rv = hv_gbm_fit(&s, &p);
        hv_series_fini(&s);
        if (rv != 0) {
            hv__cli_error("market", "cannot fit %s: %s", fit, hv_strerror(rv));
            return HV_EXIT_FAIL;
        }
    }
    p.regimes = regimes;
    hv_synth g;
    if (hv_synth_init(&g, &p, seed) != 0) {
        hv__cli_error("market", "invalid generator parameters");
        return HV_EXIT_FAIL;
    }
    printf("date,open,high,low,close,adjclose,volume\n");
    for (uint64_t i = 0; i < bars; i++) {
        hv_bar b;
        hv_synth_next(&g, &b);
        char d[11];
        hv_day_format(b.day, d);
        printf("%s,%.6f,%.6f,%.6f,%.6f,%.6f,%.0f%s", d, b.open, b.high, b.low, b.close, b.adjclose,
               b.volume, "\n");
    }
    return fflush(stdout) == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

typedef struct replay_args {
    const char *file;
    double speed;
    uint64_t ticks, limit;
    int quiet;
} replay_args;

static int replay_parse(int argc, char **argv, replay_args *a)
{
    *a = (replay_args){ .speed = 0, .ticks = 1, .limit = UINT64_MAX };
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--quiet") == 0) {
            a->quiet = 1;
        } else if (strcmp(o, "--speed") == 0 && v != NULL) {
            i++;
            if (hv__cli_parse_double(v, &a->speed) != 0 || !(a->speed >= 0) ||
                !isfinite(a->speed)) {
                hv__cli_error("market", "--speed takes a number >= 0");
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--ticks") == 0 && v != NULL) {
            i++;
            if (hv__cli_parse_u64(v, &a->ticks) != 0 || a->ticks == 0 ||
                a->ticks > HV_REPLAY_TICKS_MAX) {
                hv__cli_error("market", "--ticks takes a number from 1 to %d", HV_REPLAY_TICKS_MAX);
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--limit") == 0 && v != NULL) {
            i++;
            if (hv__cli_parse_u64(v, &a->limit) != 0) {
                hv__cli_error("market", "--limit takes a non-negative integer");
                return HV_EXIT_USAGE;
            }
        } else if (o[0] != '-' && a->file == NULL) {
            a->file = o;
        } else {
            hv__cli_error("market", "unknown option or missing value: '%s'", o);
            return HV_EXIT_USAGE;
        }
    }
    if (a->file == NULL) {
        hv__cli_error("market", "replay needs a FILE");
        return HV_EXIT_USAGE;
    }
    return 0;
}

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

static int cmd_replay(int argc, char **argv)
{
    replay_args a;
    int rc = replay_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    hv_hist lag;
    if (load_bars(a.file, NULL, 0, &s, &rep) != 0 || hv_hist_init(&lag, 3600000000000ull, 7)) {
        hv_series_fini(&s);
        return HV_EXIT_FAIL;
    }
    hv_replay_opts o = { .size = sizeof(o), .speed = a.speed, .ticks_per_bar = (uint32_t)a.ticks };
    hv_replay r;
    rc = hv_replay_init(&r, s.bars, s.len, &o, hv_now_ns());
    if (rc != 0) {
        hv__cli_error("market", "replay: %s", hv_strerror(rc));
        hv_hist_fini(&lag);
        hv_series_fini(&s);
        return HV_EXIT_FAIL;
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

int hv_cmd_market(int argc, char **argv);
int hv_cmd_market(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? HV_EXIT_USAGE : HV_EXIT_OK;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return HV_EXIT_OK;
        }
    }
    if (strcmp(argv[1], "stats") == 0)
        return cmd_stats(argc, argv);
    if (strcmp(argv[1], "synth") == 0)
        return cmd_synth(argc, argv);
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc, argv);
    hv__cli_error("market", "unknown subcommand '%s'", argv[1]);
    usage(stderr);
    return HV_EXIT_USAGE;
}

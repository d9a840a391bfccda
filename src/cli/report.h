/*
 * The report of a simulated-market run, as `hivewire run` and `hivewire backtest` (and the
 * coordinator) write it: the summary on the terminal, the typed JSON document (on stdout with
 * --json, and DIR/<base>.json), the HTML page (DIR/<base>.html) and the trades (DIR/<trades
 * file>). docs/REPORT.md describes every field.
 *
 *   hv__cli_out_check(...)            before the run: the output directory and files
 *   hv__cli_report_init(&r, ...)      before the run
 *   hv__cli_report_bar(&r, ...)       once per bar, in order, after the bar's fills and mark
 *   hv__cli_report_trade(&r, ...)     once per fill
 *   hv__cli_report_add(&r, ...)       summary rows; r.config and r.result: the typed JSON
 *   hv__cli_report_returns_rows(&r)   the return statistics as summary rows
 *   hv__cli_report_emit(&r, ...)      prints and writes everything the options ask for
 *   hv__cli_report_fini(&r)
 *
 * One thread; the caller's.
 */
#ifndef HV_CLI_REPORT_H
#define HV_CLI_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <hivewire/exchange.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>

#include "profiler/returns.h"

#define HV_CLI_SUMMARY_COLS 80 /* the terminal width the summary fits without --wide */
#define HV_CLI_KEY_W        24 /* the summary's key column */
#define HV_CLI_ROW_MAX      512
#define HV_CLI_TRADES_MAX   (1u << 20) /* fills a report lists (the swarm keeps as many) */

typedef struct hv_cli_report {
    const char *cmd;         /* "run" */
    const char *dir;         /* where the files go, or NULL: none */
    const char *base;        /* "run": run.json, run.html */
    const char *trades_file; /* "trades.csv" */
    int json;                /* --json: the document on stdout instead of the summary */
    int wide;                /* --wide: rows as long as they are, every column of the stage table */
    int quiet;               /* --quiet: no stage table, no "wrote" lines */
    int partial;             /* the run stopped early */
    const char *stages_heading; /* above the stage table */
    /* the series */
    const hv_bar *bars;
    size_t nbars;
    uint64_t bar_ns;
    double cash;
    hv__report_series series;
    int64_t position_prev;
    /* the fills */
    hv_report_trade *trades;
    size_t ntrades, trades_cap;
    uint64_t trades_total;
    /* the summary */
    size_t nrows;
    const char *keys[HV_REPORT_SUMMARY_MAX];
    const char *vals[HV_REPORT_SUMMARY_MAX];
    char text[HV_REPORT_SUMMARY_MAX][HV_CLI_ROW_MAX];
    /* the typed members of the JSON document (owned; set by the caller) */
    json_t *config, *result;
    /* filled by hv__cli_report_emit() */
    hv_report_returns returns[2];
} hv_cli_report;

/*
 * Checks, before a long run, that the files a run will write can be written: makes `dir` (and
 * its parents) if missing, checks it is a directory where a file can be created, and that each
 * of names[] (ended by NULL) that exists is a file that opens for writing. Nothing is
 * truncated. Returns 0, or HV_EXIT_FAIL after "hivewire <cmd>: <option>: cannot ..." naming
 * the path and the reason.
 */
int hv__cli_out_check(const char *cmd, const char *option, const char *dir,
                      const char *const *names);

/* Sets r up for bars[0..n) at bar_ns apart, an initial cash (the benchmark buys the series with
 * it at its first close). Returns 0 or HV_EXIT_FAIL (out of memory, message printed). */
int hv__cli_report_init(hv_cli_report *r, const char *cmd, const hv_bar *bars, size_t n,
                        uint64_t bar_ns, double cash);
void hv__cli_report_fini(hv_cli_report *r);

/* The close of bar i is marked: the strategy's equity and position after it. */
void hv__cli_report_bar(hv_cli_report *r, size_t i, double equity, int64_t position);

/* One fill; its day is that of the bar it filled on (t_ns / bar_ns). Kept up to
 * HV_CLI_TRADES_MAX (trades_total counts all). */
void hv__cli_report_trade(hv_cli_report *r, const hv_report_trade *t);

/* A summary row (key borrowed, value formatted). */
void hv__cli_report_add(hv_cli_report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The return statistics as summary rows: the strategy's and buy-and-hold's. Call after the
 * last bar. */
void hv__cli_report_returns_rows(hv_cli_report *r);

/* One summary row on f: the key in its column, then the value, wrapped at spaces onto
 * indented lines to fit 80 columns unless wide. */
void hv__cli_print_row(FILE *f, const char *key, const char *val, int wide);

/* The summary rows on f: the key column, then the value, wrapped to fit 80 columns unless
 * --wide. */
void hv__cli_report_print_rows(const hv_cli_report *r, FILE *f);

/*
 * Prints the report and writes its files: with --json the JSON document on stdout (nothing
 * else there); otherwise the summary rows, then (unless quiet) the stage table, 80 columns
 * unless wide. Then, when r->dir is set, DIR/<base>.json, DIR/<base>.html and
 * DIR/<trades_file>, each announced on stderr unless quiet. alerts: the run's alerts for the
 * reports (may be NULL). Returns 0 or HV_EXIT_FAIL (message printed).
 */
int hv__cli_report_emit(hv_cli_report *r, const hv_profiler *p, const char *title,
                        const hv_report_extra *alerts);

/* JSON helpers for the typed members: a number, or null where it is not finite. */
json_t *hv__cli_json_num(double v);

/* The "limits" and "exchange" members of a configuration, as the options name them. */
json_t *hv__cli_limits_json(const hv_limits_opts *l);
json_t *hv__cli_exchange_json(const hv_exchange_opts *x);

struct hv_cli_bars_opts;
/* The "data" member of a configuration: file (or null), symbol, synthetic_bars, bar_seconds,
 * bars, first_date, last_date. */
json_t *hv__cli_bars_json(const struct hv_cli_bars_opts *o, const hv_series *s);

/* The document of a command without a profile (sim): {"schema_version", "command", ...}. */
json_t *hv__cli_json_doc(const char *command);

/* Prints a document on stdout (indented, in key order) and frees it. 0 or HV_EXIT_FAIL. */
int hv__cli_json_print(json_t *doc);

#endif /* HV_CLI_REPORT_H */

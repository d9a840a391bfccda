/*
 * What the simulated-market commands share (backtest, run, market): the option rows of the
 * bar source, the simulated clock, the exchange and the pre-trade limits, and the loading of
 * bars with every problem reported by file, row and option.
 *
 * The row tables are sections for hv__opts_parse() (cli/opts.h). Each writes into its own
 * struct, wherever the command keeps it: e.g. `run` puts { "exchange", hv__cli_exchange_rows,
 * k } in its spec and passes &cfg.exchange as targets[k].
 */
#ifndef HV_CLI_SIM_H
#define HV_CLI_SIM_H

#include <stdint.h>

#include <hivewire/exchange.h>
#include <hivewire/market.h>

#include "cli/opts.h"

#define HV_CLI_DATA_DEFAULT "data/sp500-2000.csv" /* as --help shows the default */
#define HV_CLI_DATA_NAME    "sp500-2000.csv"      /* the file the lookup looks for */
#define HV_CLI_DATA_ENV     "HIVEWIRE_DATA"       /* a directory to look in first */
#define HV_CLI_SYNTH_MAX    10000000ull

/* Where the bars come from and how long each lasts on the simulated clock. */
typedef struct hv_cli_bars_opts {
    const char *data;   /* CSV file; NULL: HV_CLI_DATA_NAME, looked up (hv__cli_data_find) */
    const char *symbol; /* the rows of this symbol (a file of several instruments), or NULL */
    uint64_t synthetic; /* bars to generate instead; 0 = read `data` */
    uint64_t bar_ns;    /* simulated duration of one bar (HV_SIM_BAR_NS_DEFAULT) */
    int looked_up;      /* set by hv__cli_bars_load(): `data` is where the default was found */
    char found[1024];   /* ... and holds that path */
} hv_cli_bars_opts;

void hv__cli_bars_opts_default(hv_cli_bars_opts *o);

/* --data FILE, --symbol S, --synthetic N, --bar-seconds S; target: hv_cli_bars_opts. */
extern const hv_opt hv__cli_bars_rows[];
/* --fee-bps, --fee-min, --participation, --latency-us, --jitter-us; target: hv_exchange_opts. */
extern const hv_opt hv__cli_exchange_rows[];
/* --max-position, --max-notional, --max-drawdown, --max-orders, --interval-days; target:
 * hv_limits_opts (0 = off for each limit). */
extern const hv_opt hv__cli_limits_rows[];

/* The --bar-seconds row for a command that keeps bar_ns in its own struct. */
#define HV_CLI_BAR_SECONDS_ROW(type, member)                                                     \
    {                                                                                            \
        .name = "bar-seconds", .kind = HV_OPT_U64, HV_OPT_AT(type, member), .umin = 1,           \
        .umax = HV_CLI_BAR_SECONDS_MAX, .scale = 1000000000ull, .metavar = "S", .dflt = "86400", \
        .help = "simulated duration of one bar, in seconds: a series of N bars spans N x S "     \
                "seconds of the 64-bit nanosecond clock, which holds about 584 years in all "    \
                "(213,503 daily bars)"                                                           \
    }
#define HV_CLI_BAR_SECONDS_MAX 1000000ull /* about 11.6 days */

/*
 * Checks the exchange and limits configs with the library's own checks and reports the first
 * bad field as the option that sets it (when the spec has that row). Returns 0 or
 * HV_EXIT_USAGE (message printed). Either config may be NULL.
 */
int hv__cli_check_trading(const hv_cli_spec *spec, const hv_exchange_opts *x,
                          const hv_limits_opts *lim);

/* Prints the CSV issues of a load: every fatal one and the first 10 skipped rows, as
 * "hivewire <cmd>: [skipped ]file:line:column (name): reason". Pass hv__cli_print_issue as
 * hv_csv_opts.on_issue with a hv_cli_issue_log as its user pointer, then call
 * hv__cli_issue_log_end() for the count of the rest. */
typedef struct hv_cli_issue_log {
    const char *cmd;
    unsigned skipped; /* bad rows seen */
    int fatal;        /* a fatal issue was printed (it named the file and the reason) */
} hv_cli_issue_log;

void hv__cli_print_issue(void *user, const char *file, const hv_csv_issue *is);
void hv__cli_issue_log_end(const hv_cli_issue_log *log);

/* What a missing --data file message suggests. */
#define HV_CLI_DATA_HINT "run scripts/fetch-data, or use --synthetic N"

/*
 * Loads a bar CSV into s (initialised by the caller), printing the first skipped rows, a count
 * of the rest, and any fatal problem by file and line ("hivewire <cmd>: ..."). When nothing
 * usable was loaded it says why (no such file, followed by missing_hint when not NULL; no data
 * rows after the header; every row malformed). Returns 0 with s->len > 0, or HV_EXIT_FAIL
 * (message printed).
 */
int hv__cli_csv_bars(const char *cmd, const char *path, const char *symbol, int strict,
                     const char *missing_hint, hv_series *s, hv_csv_report *rep);

/*
 * Loads the bars o describes: o->synthetic GBM bars seeded by `seed` (hv_gbm_params_default), or
 * the CSV at o->data (NULL: the default series, found by hv__cli_data_find(); o->data then points
 * at o->found), keeping the rows of o->symbol. Then refuses, with the reason and the fix, a
 * series whose simulated span does not fit the clock (hv_sim_bars_max(o->bar_ns)). Returns 0,
 * HV_EXIT_FAIL (bad, missing or too long data) or HV_EXIT_USAGE (a --synthetic count whose
 * dates would pass 9999-12-31; --symbol with --synthetic, a symbol the file does not hold, a
 * file of several symbols without --symbol); the message is printed.
 */
int hv__cli_bars_load(const char *cmd, hv_cli_bars_opts *o, uint64_t seed, hv_series *s);

/*
 * Finds the default series, `name`, when --data is not given. Looks, in order, in the
 * directory $HIVEWIRE_DATA (when set), ./data, and the data directory installed with the
 * executable: <prefix>/share/hivewire/data for <prefix>/bin/hivewire. Writes the first path
 * that exists into out[cap] and returns 0; otherwise prints where it looked and the exact
 * command that fetches the data (the installed <prefix>/share/hivewire/fetch-data DIR, or
 * scripts/fetch-data in a source tree) and returns HV_EXIT_FAIL.
 */
int hv__cli_data_find(const char *cmd, const char *name, char *out, size_t cap);

/* The span check alone: 0, or HV_EXIT_FAIL after saying how many bars fit at o->bar_ns and
 * which --bar-seconds would hold all n. `what` names the series ("data/x.csv"). */
int hv__cli_check_span(const char *cmd, const char *what, uint64_t n, uint64_t bar_ns);

#endif /* HV_CLI_SIM_H */

/*
 * Option rows and bar loading shared by the simulated-market commands (see cli/sim.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sim.h"

#define DAY_NS 86400000000000ull

void hv__cli_bars_opts_default(hv_cli_bars_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->bar_ns = HV_SIM_BAR_NS_DEFAULT;
}

const hv_opt hv__cli_bars_rows[] = {
    { .name = "data",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_PATH,
      HV_OPT_AT(hv_cli_bars_opts, data),
      .dflt = HV_CLI_DATA_DEFAULT,
      .help = "CSV bars (date, close; optional open, high, low, adjclose, volume, symbol); "
              "by default sp500-2000.csv from $HIVEWIRE_DATA, ./data or "
              "PREFIX/share/hivewire/data, fetched by scripts/fetch-data" },
    { .name = "symbol",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(hv_cli_bars_opts, symbol),
      .metavar = "S",
      .help = "the rows of symbol S of a file of several instruments (such as "
              "data/stocks.csv); a file of several symbols needs it" },
    { .name = "synthetic",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_cli_bars_opts, synthetic),
      .umin = 1,
      .umax = HV_CLI_SYNTH_MAX,
      .help = "N synthetic bars instead of --data, seeded by --seed (an index-like GBM whose "
              "trend grows for 25 years of bars and then stays flat, reverting to it with a "
              "5-year half-life: see docs/MARKET_RISK.md)" },
    HV_CLI_BAR_SECONDS_ROW(hv_cli_bars_opts, bar_ns),
    { 0 },
};

const hv_opt hv__cli_exchange_rows[] = {
    { .name = "fee-bps",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(hv_exchange_opts, fee_bps),
      .dmax = HV_EXCHANGE_BPS_MAX,
      .field = "fee_bps",
      .dflt = "1",
      .help = "fee in basis points of the notional" },
    { .name = "fee-min",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(hv_exchange_opts, fee_min),
      .dmax = HV_EXCHANGE_FEE_MIN_MAX,
      .field = "fee_min",
      .dflt = "1.0",
      .help = "minimum fee per order" },
    { .name = "participation",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN,
      HV_OPT_AT(hv_exchange_opts, participation_max),
      .dmax = 1,
      .field = "participation_max",
      .metavar = "FRAC",
      .dflt = "0.1",
      .help = "largest share of a bar's volume our orders take" },
    { .name = "latency-us",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_exchange_opts, latency_fixed_ns),
      .umax = HV_EXCHANGE_LATENCY_MAX_NS / 1000,
      .scale = 1000,
      .field = "latency_fixed_ns",
      .dflt = "50",
      .help = "fixed one-way latency to the simulated exchange, in microseconds" },
    { .name = "jitter-us",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_exchange_opts, latency_jitter_ns),
      .umax = HV_EXCHANGE_LATENCY_MAX_NS / 1000,
      .scale = 1000,
      .field = "latency_jitter_ns",
      .dflt = "20",
      .help = "seeded uniform jitter added to each one-way trip, in microseconds" },
    { 0 },
};

const hv_opt hv__cli_limits_rows[] = {
    { .name = "max-position",
      .kind = HV_OPT_I64,
      HV_OPT_AT(hv_limits_opts, position_max),
      .imax = 1000000000000000ll,
      .field = "position_max",
      .help = "largest |position| in shares, counting open orders; 0 = off" },
    { .name = "max-notional",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(hv_limits_opts, order_notional_max),
      .dmax = 1e15,
      .field = "order_notional_max",
      .help = "largest notional of one order; 0 = off" },
    { .name = "max-drawdown",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MAX_OPEN,
      HV_OPT_AT(hv_limits_opts, drawdown_max_frac),
      .dmax = 1,
      .field = "drawdown_max_frac",
      .metavar = "FRAC",
      .help = "kill switch: halt new orders once the drawdown exceeds this fraction of the "
              "equity peak; 0 = off" },
    { .name = "max-orders",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_limits_opts, orders_per_interval_max),
      .umax = 1000000,
      .needs = "interval-days",
      .field = "orders_per_interval_max",
      .help = "at most N orders in any --interval-days window; 0 = off" },
    { .name = "interval-days",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_limits_opts, interval_ns),
      .umin = 1,
      .umax = 100000,
      .scale = DAY_NS,
      .field = "interval_ns",
      .help = "the --max-orders window, in simulated days" },
    { 0 },
};

int hv__cli_check_trading(const hv_cli_spec *spec, const hv_exchange_opts *x,
                          const hv_limits_opts *lim)
{
    hv_field_error e;
    if (x != NULL && hv_exchange_opts_check(x, &e) != 0)
        return hv__opts_field_error(spec, &e);
    if (lim != NULL && hv_limits_opts_check(lim, &e) != 0)
        return hv__opts_field_error(spec, &e);
    return 0;
}

/* ---- Loading -------------------------------------------------------------------------------- */

#define ISSUES_PRINTED_MAX 10

void hv__cli_print_issue(void *user, const char *file, const hv_csv_issue *is)
{
    hv_cli_issue_log *log = user;
    log->fatal |= is->fatal;
    if (!is->fatal && ++log->skipped > ISSUES_PRINTED_MAX)
        return;
    char msg[256];
    hv_csv_issue_format(file, is, msg, sizeof(msg));
    fprintf(stderr, "hivewire %s: %s%s\n", log->cmd, is->fatal ? "" : "skipped ", msg);
}

void hv__cli_issue_log_end(const hv_cli_issue_log *log)
{
    if (log->skipped > ISSUES_PRINTED_MAX)
        fprintf(stderr, "hivewire %s: ... and %u more malformed rows skipped\n", log->cmd,
                log->skipped - ISSUES_PRINTED_MAX);
}

/* Why nothing was loaded, in the user's terms. */
static void say_empty(const char *cmd, const char *path, const hv_csv_report *rep)
{
    if (rep->rows == 0 && rep->rows_filtered == 0)
        hv__cli_error(cmd, "%s: no data rows after the header", path);
    else if (rep->rows_ok == 0 && rep->rows_bad > 0)
        hv__cli_error(cmd, "%s: no valid bars: all %" PRIu64 " data rows are malformed (see above)",
                      path, rep->rows_bad);
    else
        hv__cli_error(cmd, "%s: no bars of the chosen symbol (%" PRIu64 " rows of others)", path,
                      rep->rows_filtered);
}

#define SYMBOLS_LISTED_MAX 16

/* "MSFT, AMZN, IBM" (and "... (N or more)" past SYMBOLS_LISTED_MAX) into buf. */
static void list_symbols(char (*names)[HV_CSV_SYMBOL_BYTES], size_t n, int more, char *buf,
                         size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", names[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    if (more && used < cap)
        snprintf(buf + used, cap - used, ", ... (more than %d)", SYMBOLS_LISTED_MAX);
}

/*
 * The symbol check before a load: a file of several symbols needs --symbol, and --symbol must
 * name one of them (both usage errors, naming --symbol and listing the symbols). A file without
 * a symbol column passes here (the loader refuses --symbol on it with the file and line).
 * Returns 0 or HV_EXIT_USAGE (message printed).
 */
static int check_symbol(const char *cmd, const char *path, const char *symbol)
{
    char names[SYMBOLS_LISTED_MAX][HV_CSV_SYMBOL_BYTES], list[SYMBOLS_LISTED_MAX * 24];
    size_t n = 0;
    int rv = hv_csv_load_symbols(path, NULL, names, SYMBOLS_LISTED_MAX, &n);
    if (rv != 0 && rv != HV_EFULL)
        return 0; /* no symbol column, or a file the loader will report on */
    list_symbols(names, n, rv == HV_EFULL, list, sizeof(list));
    if (symbol == NULL) {
        if (n < 2)
            return 0;
        hv__cli_error(cmd, "--symbol: %s holds several symbols (%s): choose one with --symbol S",
                      path, list);
        return HV_EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], symbol) == 0)
            return 0;
    if (rv == HV_EFULL)
        return 0; /* past the ones listed: the loader says whether it is there */
    hv__cli_error(cmd, "--symbol: '%s' is not in %s (its symbols: %s)", symbol, path, list);
    return HV_EXIT_USAGE;
}

int hv__cli_csv_bars(const char *cmd, const char *path, const char *symbol, int strict,
                     const char *missing_hint, hv_series *s, hv_csv_report *rep)
{
    hv_cli_issue_log log = { .cmd = cmd };
    hv_csv_opts o = { .size = sizeof(o),
                      .strict = strict,
                      .symbol = symbol,
                      .on_issue = hv__cli_print_issue,
                      .user = &log };
    int rv = hv_csv_load_bars(path, &o, s, rep);
    hv__cli_issue_log_end(&log);
    if (rv == HV_ENOTFOUND && !log.fatal) {
        hv__cli_error(cmd, "%s: no such file%s%s%s", path, missing_hint ? " (" : "",
                      missing_hint ? missing_hint : "", missing_hint ? ")" : "");
        return HV_EXIT_FAIL;
    }
    if (rv != 0 && !log.fatal) {
        hv__cli_error(cmd, "%s: %s", path, hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    if (rv != 0)
        return HV_EXIT_FAIL; /* the fatal issue named the file, line and reason */
    if (s->len == 0) {
        say_empty(cmd, path, rep);
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int synth_bars(const char *cmd, uint64_t n, uint64_t seed, hv_series *s)
{
    hv_gbm_params p;
    hv_synth g;
    hv_gbm_params_default(&p);
    if (hv_synth_init(&g, &p, seed) != 0) {
        hv__cli_error(cmd, "invalid generator parameters");
        return HV_EXIT_FAIL;
    }
    uint64_t left = hv_synth_bars_left(&g);
    if (n > left) {
        char d[11];
        hv_day_format(g.day, d);
        hv__cli_error(cmd,
                      "--synthetic: %" PRIu64 " bars from %s would pass 9999-12-31; at most "
                      "%" PRIu64 " fit",
                      n, d, left);
        return HV_EXIT_USAGE;
    }
    int rv = hv_synth_fill(&g, (size_t)n, s);
    if (rv != 0) {
        hv__cli_error(cmd, "cannot generate %" PRIu64 " bars: %s", n, hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    return 0;
}

int hv__cli_check_span(const char *cmd, const char *what, uint64_t n, uint64_t bar_ns)
{
    uint64_t max = hv_sim_bars_max(bar_ns);
    if (n <= max)
        return 0;
    /* The longest bar that holds all n: (n - 1) * bar + margin <= UINT64_MAX. */
    uint64_t fit_s = (UINT64_MAX - HV_SIM_TIME_MARGIN_NS) / (n - 1) / 1000000000ull;
    hv__cli_error(cmd,
                  "%s has %" PRIu64 " bars, but at --bar-seconds %" PRIu64 " only %" PRIu64
                  " bars fit the simulated clock (64-bit nanoseconds from the first bar, about "
                  "584 years); use --bar-seconds %" PRIu64 " or less, or a shorter series",
                  what, n, (uint64_t)(bar_ns / 1000000000u), max, fit_s);
    return HV_EXIT_FAIL;
}

/* The CSV the options name, or the default series wherever the lookup finds it. */
static int csv_bars(const char *cmd, hv_cli_bars_opts *o, hv_series *s)
{
    hv_csv_report rep;
    if (o->data == NULL) {
        int rc = hv__cli_data_find(cmd, HV_CLI_DATA_NAME, o->found, sizeof(o->found));
        if (rc != 0)
            return rc;
        o->data = o->found;
        o->looked_up = 1;
    }
    int rc = check_symbol(cmd, o->data, o->symbol);
    if (rc != 0)
        return rc;
    return hv__cli_csv_bars(cmd, o->data, o->symbol, 0, HV_CLI_DATA_HINT, s, &rep);
}

int hv__cli_bars_load(const char *cmd, hv_cli_bars_opts *o, uint64_t seed, hv_series *s)
{
    if (o->synthetic > 0 && o->symbol != NULL) {
        hv__cli_error(cmd, "--symbol: only with a CSV file (--data), not with --synthetic");
        return HV_EXIT_USAGE;
    }
    int rc = o->synthetic > 0 ? synth_bars(cmd, o->synthetic, seed, s) : csv_bars(cmd, o, s);
    if (rc != 0)
        return rc;
    return hv__cli_check_span(cmd, o->synthetic > 0 ? "the synthetic series" : o->data, s->len,
                              o->bar_ns);
}

/* ---- Where the default data is ------------------------------------------------------------
 *
 * When --data is not given: in $HIVEWIRE_DATA, in ./data (a source tree, as `make run` runs), or
 * in the data directory installed with the executable (<prefix>/share/hivewire/data next to
 * <prefix>/bin/hivewire). Nothing is fetched from here: when the file is nowhere, the message
 * names the command that fetches it.
 */

#define PATH_CAP   1024
#define PLACES_MAX 3

/* <prefix>/share/hivewire for an executable at <prefix>/bin/hivewire (or <dir>/../share/hivewire
 * for one elsewhere). 0, or -1 when /proc/self/exe cannot be read. */
static int installed_share(char *out, size_t cap)
{
    char exe[PATH_CAP];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = 0; /* the executable's directory */
    size_t len = strlen(exe);
    if (len >= 4 && strcmp(exe + len - 4, "/bin") == 0)
        exe[len - 4] = 0;
    else
        strncat(exe, "/..", sizeof(exe) - strlen(exe) - 1);
    int w = snprintf(out, cap, "%s/share/hivewire", exe);
    return w > 0 && (size_t)w < cap ? 0 : -1;
}

/* The directories to look in, in order; returns how many. */
static size_t places(char dirs[PLACES_MAX][PATH_CAP])
{
    size_t n = 0;
    const char *env = getenv(HV_CLI_DATA_ENV);
    if (env != NULL && env[0] != 0)
        snprintf(dirs[n++], PATH_CAP, "%s", env);
    snprintf(dirs[n++], PATH_CAP, "data");
    char share[PATH_CAP];
    if (installed_share(share, sizeof(share)) == 0) {
        int w = snprintf(dirs[n], PATH_CAP, "%s/data", share);
        n += w > 0 && w < PATH_CAP;
    }
    return n;
}

/* The exact command that fetches the data: the installed fetch-data script into the directory
 * the lookup reads first, or scripts/fetch-data in a source tree. */
static void say_fetch(const char *cmd)
{
    char share[PATH_CAP], script[PATH_CAP + 16];
    const char *env = getenv(HV_CLI_DATA_ENV);
    if (installed_share(share, sizeof(share)) == 0) {
        snprintf(script, sizeof(script), "%s/fetch-data", share);
        if (access(script, X_OK) == 0) {
            if (env != NULL && env[0] != 0)
                hv__cli_error(cmd, "fetch it with: %s %s", script, env);
            else
                hv__cli_error(cmd, "fetch it with: %s %s/data", script, share);
            hv__cli_error(cmd, "or use --data FILE, or --synthetic N");
            return;
        }
    }
    if (access("scripts/fetch-data", X_OK) == 0)
        hv__cli_error(cmd, "fetch it with: scripts/fetch-data (or use --synthetic N)");
    else
        hv__cli_error(cmd, "fetch it with scripts/fetch-data [DIR] from the hivewire sources, "
                           "then set " HV_CLI_DATA_ENV "=DIR (or use --data FILE, or "
                           "--synthetic N)");
}

int hv__cli_data_find(const char *cmd, const char *name, char *out, size_t cap)
{
    char dirs[PLACES_MAX][PATH_CAP];
    size_t n = places(dirs);
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out, cap, "%s/%s", dirs[i], name);
        if (w > 0 && (size_t)w < cap && access(out, F_OK) == 0)
            return 0;
    }
    char looked[PLACES_MAX * (PATH_CAP + 2)];
    size_t used = 0;
    looked[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(looked + used, sizeof(looked) - used, "%s%s%s", i ? ", " : "",
                         dirs[i][0] == '/' || dirs[i][0] == '.' ? "" : "./", dirs[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    const char *env = getenv(HV_CLI_DATA_ENV);
    hv__cli_error(cmd, "cannot find %s: looked in %s%s", name, looked,
                  env == NULL || env[0] == 0 ? " (" HV_CLI_DATA_ENV " is not set)" : "");
    say_fetch(cmd);
    return HV_EXIT_FAIL;
}

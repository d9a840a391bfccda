/*
 * hivewire: market data. Bars, a bounded CSV reader, log returns, a seeded synthetic generator
 * (geometric Brownian motion with optional volatility regimes) and a replay feed.
 *
 * Everything here is pure computation on caller memory except hv_csv_load_*() (which read a
 * file) and the series/column containers (which grow with malloc while loading). The generator
 * and the replay feed never allocate, never read a clock and never sleep: the replay feed takes
 * `now_ns` from its caller and answers with the time of its next event.
 *
 * Thread safety: no global state. Each object (series, generator, feed) belongs to one thread
 * at a time; different objects may be used from different threads concurrently.
 *
 * See docs/MARKET_RISK.md for the file formats, the reader's rules and the models.
 */
#ifndef HIVEWIRE_MARKET_H
#define HIVEWIRE_MARKET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hivewire/common.h>
#include <hivewire/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Bars and series
 */

/* One OHLCV bar. `day` is the civil date as days since 1970-01-01 (so 2000-01-03 is 10959).
 * Prices are in the instrument's currency; volume in shares (or units). */
typedef struct hv_bar {
    int32_t day;
    double open, high, low, close, adjclose, volume;
} hv_bar;

/* A growable array of bars owned by the caller's hv_series value: hv_series_init() then any
 * number of pushes/loads, then hv_series_fini() frees the array. `bars[0..len)` are valid and
 * may be read directly; pointers into `bars` are invalidated by any call that grows it. */
typedef struct hv_series {
    hv_bar *bars;
    size_t len;
    size_t cap;
} hv_series;

/* Empties s without allocating. */
HV_EXTERN void hv_series_init(hv_series *s);

/* Frees the bars and leaves s empty (and reusable). */
HV_EXTERN void hv_series_fini(hv_series *s);

/* Ensures room for at least n bars in total. Returns 0, HV_ENOMEM, HV_EOVERFLOW. */
HV_EXTERN int hv_series_reserve(hv_series *s, size_t n);

/* Appends a copy of *b. Returns 0, HV_ENOMEM, HV_EOVERFLOW. */
HV_EXTERN int hv_series_push(hv_series *s, const hv_bar *b);

/* A growable array of doubles (one loaded column), same ownership rules as hv_series. */
typedef struct hv_column {
    double *v;
    size_t len;
    size_t cap;
} hv_column;

HV_EXTERN void hv_column_init(hv_column *c);
HV_EXTERN void hv_column_fini(hv_column *c);
/* Appends x. Returns 0, HV_ENOMEM, HV_EOVERFLOW. */
HV_EXTERN int hv_column_push(hv_column *c, double x);

/* Civil date <-> days since 1970-01-01 (proleptic Gregorian). hv_date_to_day() returns
 * HV_ERANGE for a month outside 1..12, a day outside the month, or a year outside 1..9999. */
HV_EXTERN int hv_date_to_day(int year, int month, int day, int32_t *out);
HV_EXTERN void hv_day_to_date(int32_t days, int *year, int *month, int *day);

/* Writes "YYYY-MM-DD" (and a NUL) into buf[11]. Days outside 0001-01-01..9999-12-31 (which
 * no loader or generator produces) are written as "outofrange". */
HV_EXTERN void hv_day_format(int32_t days, char buf[11]);

/* The first and last representable days, 0001-01-01 and 9999-12-31, as days since 1970-01-01. */
#define HV_DAY_MIN (-719162)
#define HV_DAY_MAX 2932896

/* ---------------------------------------------------------------------------------------------
 * Simulated time
 *
 * Simulations (backtest, the swarm) put bar i at i * bar_ns nanoseconds on a uint64_t clock
 * that starts at the first bar: one simulated day per bar by default. The clock holds about
 * 584 years, so a long series at one day per bar does not fit; such a series is refused up
 * front, never wrapped: shorten the bar (bar_ns) or the series.
 */

#define HV_SIM_BAR_NS_DEFAULT 86400000000000ull /* one simulated day per bar */

/* Room the clock keeps after the last bar's time for what a simulation schedules after it
 * (orders sent a few ns after the bar, their trip to the exchange and the reports' trip back:
 * at most 2 x 2 hours with hv_exchange_opts_check()'s latency bound). One day. */
#define HV_SIM_TIME_MARGIN_NS 86400000000000ull

/* The most bars n whose times (n - 1) * bar_ns plus HV_SIM_TIME_MARGIN_NS fit in uint64_t:
 * 213,503 at one day per bar, 5,124,072 at one hour. bar_ns == 0 (every bar at time 0) gives
 * SIZE_MAX. Pure. */
HV_EXTERN size_t hv_sim_bars_max(uint64_t bar_ns);

/* ---------------------------------------------------------------------------------------------
 * CSV reader
 *
 * RFC 4180 with the usual tolerances: fields separated by ',', rows by LF or CRLF (a lone CR
 * also ends a row), the final row may lack a newline, fields may be quoted with '"' (a quoted
 * field may hold commas, newlines and "" for a quote), surrounding spaces of unquoted fields are
 * trimmed, blank lines and a leading UTF-8 byte-order mark are skipped. The first non-blank
 * row is the header; columns are found by name (case-insensitive, ignoring spaces and
 * underscores), so their order does not matter and extra columns are ignored.
 *
 * A bad row is reported (file, line, column, reason), counted and skipped; in strict mode the
 * first bad row stops the load with HV_EBADROW. Input size and row count are bounded.
 */

#define HV_CSV_FIELDS_MAX      64                   /* fields per row */
#define HV_CSV_FIELD_BYTES_MAX 64                   /* bytes of one numeric/date/symbol field */
#define HV_CSV_BYTES_MAX       (256u * 1024 * 1024) /* default input bound */
#define HV_CSV_ROWS_MAX        (16u * 1024 * 1024)  /* default data-row bound */
#define HV_CSV_ISSUES_KEPT     16                   /* issues stored in an hv_csv_report */

/* One bad row. line is 1-based (the line the row starts on), 0 when the issue concerns the
 * whole input (over the byte bound); column is the 1-based field number the problem was found
 * in, 0 when it concerns the whole row (e.g. a wrong field count). column_name is the header's
 * name for that column ("" if none). Problems that stop the whole load (no header, missing
 * column, mixed symbols, a bound exceeded) are reported the same way with fatal = 1 and do not
 * count as bad rows. */
typedef struct hv_csv_issue {
    uint32_t line;
    uint32_t column;
    int err;   /* HV_EBADROW (bad value, wrong field count), HV_EPARSE (bad quoting, bad
                  header), HV_ENOTFOUND (named column missing), HV_ETOOBIG (input over
                  bytes_max: line 0; more than rows_max rows: the first row past it) */
    int fatal; /* 1: this issue stopped the load (bad header, strict mode); 0: row skipped */
    char column_name[32];
    char reason[96];
} hv_csv_issue;

/* Called once per bad row, in file order, before the row is skipped (or the load stops). */
typedef void (*hv_csv_issue_cb)(void *user, const char *file, const hv_csv_issue *issue);

typedef struct hv_csv_opts {
    size_t size;              /* sizeof(hv_csv_opts): lets the struct grow */
    const char *file;         /* name used in reports ("<memory>" if NULL) */
    int strict;               /* stop at the first bad row with HV_EBADROW */
    size_t bytes_max;         /* input bound, 0 = HV_CSV_BYTES_MAX */
    size_t rows_max;          /* data-row bound, 0 = HV_CSV_ROWS_MAX */
    const char *symbol;       /* bars: keep only rows whose "symbol" column equals this (NULL: all;
                                 a file with a symbol column and several symbols needs one) */
    hv_csv_issue_cb on_issue; /* optional */
    void *user;
    int positive; /* column loads: a value that is not > 0 is a bad row ("must be > 0") */
} hv_csv_opts;

/* Defaults: no file name, not strict, bytes_max HV_CSV_BYTES_MAX, rows_max HV_CSV_ROWS_MAX,
 * every symbol, no callback, any value. */
HV_EXTERN void hv_csv_opts_default(hv_csv_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the bad field (size). */
HV_EXTERN int hv_csv_opts_check(const hv_csv_opts *o, hv_field_error *err);

/* What a load saw. Filled by every hv_csv_* call (also on failure). */
typedef struct hv_csv_report {
    const char *file;       /* opts->file or "<memory>" */
    uint64_t lines;         /* physical lines read */
    uint64_t rows;          /* data rows seen (excluding header, blank lines, other symbols) */
    uint64_t rows_ok;       /* rows loaded */
    uint64_t rows_bad;      /* rows reported and skipped */
    uint64_t rows_filtered; /* rows of other symbols */
    uint32_t issues_kept;   /* issues[0..issues_kept) are the first bad rows */
    hv_csv_issue issues[HV_CSV_ISSUES_KEPT];
} hv_csv_report;

/*
 * Parses bars from buf[0..len) and appends them to `out` (which the caller has initialised and
 * owns). Header: "date" and "close" (alias "price") are required; "open", "high", "low",
 * "adjclose" (aliases "adj close", "adj_close"), "volume" and "symbol" are optional (a missing
 * open/high/low/adjclose takes the close, a missing volume is 0). Dates are "YYYY-MM-DD" or
 * "Mon D YYYY" ("Jan 1 2000"). A row is bad if a field is not a finite number, a price is not
 * > 0, the volume is < 0, low > min(open, close), high < max(open, close), the date does not
 * follow the previous loaded row's, or it has fewer fields than the header.
 *
 * opts may be NULL (defaults); rep may be NULL. Returns 0 (possibly with rows_bad > 0),
 * HV_EBADROW (strict mode, first bad row), HV_EPARSE (no header or a required column missing,
 * several symbols without opts->symbol, opts->symbol without a symbol column), HV_ETOOBIG (input
 * over bytes_max, or more than rows_max data rows: nothing past the bound is read), HV_ENOMEM,
 * HV_EINVAL (NULL buf with len > 0, NULL out, opts hv_csv_opts_check() refuses). On error,
 * bars already appended stay in `out`.
 */
HV_EXTERN int hv_csv_parse_bars(const char *buf, size_t len, const hv_csv_opts *opts,
                                hv_series *out, hv_csv_report *rep);

/*
 * Parses one numeric column, by header name (case-insensitive), appending to `out`.
 * name == NULL means the input has a single column: a first row that is not a number is taken
 * as a header, so "one return per line" files work with or without one. Empty fields and
 * non-finite or malformed numbers are bad rows. Same returns as hv_csv_parse_bars(), plus
 * HV_ENOTFOUND when the named column is not in the header and HV_EPARSE when name == NULL and
 * the header has several columns. With opts->positive, a value that is not > 0 is a bad row
 * ("must be > 0"), so a column of prices names the row of a zero or negative price.
 */
HV_EXTERN int hv_csv_parse_column(const char *buf, size_t len, const char *name,
                                  const hv_csv_opts *opts, hv_column *out, hv_csv_report *rep);

/* File forms of the two parsers: read `path` (at most opts->bytes_max bytes; a bigger file is
 * a fatal issue of line 0 and HV_ETOOBIG, with nothing parsed) and parse it; the report's file
 * is `path` unless opts->file is set. Extra errors: those of open/read mapped by
 * hv_err_from_errno() (HV_ENOTFOUND for a missing file), HV_EISDIR (path is a directory),
 * HV_EIO. Blocking file I/O: not for hot paths. */
HV_EXTERN int hv_csv_load_bars(const char *path, const hv_csv_opts *opts, hv_series *out,
                               hv_csv_report *rep);
HV_EXTERN int hv_csv_load_column(const char *path, const char *name, const hv_csv_opts *opts,
                                 hv_column *out, hv_csv_report *rep);

/* The same over an open stream (standard input, a pipe), read to its end; the report's file is
 * opts->file, or "<stream>". The stream stays open. */
HV_EXTERN int hv_csv_read_bars(FILE *f, const hv_csv_opts *opts, hv_series *out,
                               hv_csv_report *rep);
HV_EXTERN int hv_csv_read_column(FILE *f, const char *name, const hv_csv_opts *opts, hv_column *out,
                                 hv_csv_report *rep);

/* The bytes of one symbol as hv_csv_parse_symbols() stores it, with its NUL. */
#define HV_CSV_SYMBOL_BYTES (HV_CSV_FIELD_BYTES_MAX + 1)

/*
 * The distinct values of the "symbol" column of a bar CSV (a file of several instruments such
 * as data/stocks.csv), in the order they first appear: writes up to cap of them into names and
 * their number into *count. Rows too short to have the column, and symbols longer than
 * HV_CSV_FIELD_BYTES_MAX bytes, name no symbol; nothing else about a row is checked (that is
 * hv_csv_parse_bars()'s job; opts->strict does not apply), and no issue is reported. Returns
 * 0, HV_EFULL (more than cap distinct symbols: names holds the first cap), HV_ENOTFOUND (the
 * header has no symbol column), HV_EPARSE (no header), HV_ETOOBIG (over opts->bytes_max, or
 * more than opts->rows_max rows: names holds the symbols of the rows before the bound),
 * HV_EINVAL (NULL count, NULL names with cap > 0, NULL buf with len > 0, opts->size too small).
 */
HV_EXTERN int hv_csv_parse_symbols(const char *buf, size_t len, const hv_csv_opts *opts,
                                   char (*names)[HV_CSV_SYMBOL_BYTES], size_t cap, size_t *count);

/* The same over the file at path (read as hv_csv_load_bars() reads it), with its errors. */
HV_EXTERN int hv_csv_load_symbols(const char *path, const hv_csv_opts *opts,
                                  char (*names)[HV_CSV_SYMBOL_BYTES], size_t cap, size_t *count);

/* Formats an issue as "file:line:column (name): reason" ("file: reason" for line 0) into buf
 * (always NUL-terminated when cap > 0). Returns the length snprintf would have written. */
HV_EXTERN int hv_csv_issue_format(const char *file, const hv_csv_issue *issue, char *buf,
                                  size_t cap);

/* ---------------------------------------------------------------------------------------------
 * Returns
 */

/* out[i] = ln(prices[i+1] / prices[i]) for i < n-1. out may alias prices (it is written
 * behind the read position). Returns the number of returns (n - 1, or 0 for n < 2), HV_EINVAL
 * if a price is not finite and > 0 (out is then partially written), or HV_EOVERFLOW when
 * n - 1 > INT_MAX. */
HV_EXTERN int hv_log_returns(const double *prices, size_t n, double *out);

/* The same over a series' close (adjusted close if use_adj) into out[0..cap). Returns the
 * count, HV_ENOBUFS if cap < len - 1, HV_EINVAL for a price that is not finite and > 0,
 * HV_EOVERFLOW when len - 1 > INT_MAX. */
HV_EXTERN int hv_series_log_returns(const hv_series *s, int use_adj, double *out, size_t cap);

/* ---------------------------------------------------------------------------------------------
 * Synthetic generator: geometric Brownian motion, optionally with two volatility regimes, that
 * stays in a realistic range over any length.
 *
 * Per step (one bar) the log price moves by d + s * Z - c * (x - m), Z ~ N(0, 1), where s is
 * `sigma`, or with regimes on `regime_sigma[k]` for the current regime k; d = mu - s^2 / 2
 * during the first `drift_bars` bars and 0 after; m is the trend (the log start price plus the
 * drift d accumulated so far) and c the reversion rate that halves a deviation x - m every
 * `revert_bars` bars. So the deviation from the trend is a stationary AR(1) (standard
 * deviation about s / sqrt(2 ln 2 / revert_bars): 0.34 in log, a factor of 1.4, for the default
 * index), and the trend grows for drift_bars bars and then stays flat: prices stay within a
 * band around start_price * e^(d * drift_bars) however many bars are drawn. drift_bars = 0 and
 * revert_bars = 0 give plain GBM (unbounded over long runs). Day to day the returns keep the
 * model's volatility (the reversion adds a factor 1 + ln 2 / (4 revert_bars) to the variance).
 *
 * The regime is a two-state Markov chain: after each bar it leaves state k with probability
 * p_leave[k]. Each bar is built from `substeps` equal sub-steps of that move: open = previous
 * close, close = the last sub-step, high/low = the extremes of the path. Volume is lognormal.
 * Bars fall on weekdays (Saturdays and Sundays are skipped; holidays are not modelled), never
 * after 9999-12-31. The log price is clamped to +-HV_SYNTH_LOG_PRICE_MAX so prices stay finite
 * and > 0 with any parameters.
 */

typedef struct hv_gbm_params {
    double mu;              /* drift per step: E[dS/S] per bar */
    double sigma;           /* volatility per step, single regime */
    int regimes;            /* 0: single regime; 1: two-state Markov switching */
    double regime_sigma[2]; /* volatility per step in the calm (0) and turbulent (1) regime */
    double p_leave[2];      /* per-bar probability of leaving regime 0 / regime 1 */
    double log_volume_mean; /* mean and stdev of ln(volume); volume 0 when both are 0 */
    double log_volume_sd;
    double start_price;   /* first open; > 0 */
    int32_t start_day;    /* date of the first bar (moved to Monday if on a weekend) */
    uint32_t substeps;    /* path points per bar for high/low, 1..HV_SYNTH_SUBSTEPS_MAX */
    uint32_t drift_bars;  /* bars the trend grows at the drift, then flat; 0 = for ever */
    uint32_t revert_bars; /* half-life of the reversion to the trend, in bars; 0 = none */
} hv_gbm_params;

#define HV_SYNTH_SUBSTEPS_MAX  64
#define HV_SYNTH_LOG_PRICE_MAX 700.0
#define HV_TRADING_DAYS_YEAR   252.0
#define HV_GBM_FIT_MIN_BARS    30
#define HV_GBM_REGIME_WINDOW   21
#define HV_GBM_REGIME_FIT_MAX  262144 /* returns the regime fit reads: the most recent */
#define HV_SYNTH_DRIFT_BARS    6300   /* 25 years of trading days */
#define HV_SYNTH_REVERT_BARS   1260   /* 5 years of trading days */

/* Fits the parameters to a series: with r the log returns of the closes, mu = mean(r) +
 * var(r)/2 and sigma = stdev(r) (sample, n - 1). Regimes, from the last HV_GBM_REGIME_FIT_MAX
 * returns (about 1,000 years of daily bars; all of them in shorter series): a start from
 * classifying each day by
 * its trailing HV_GBM_REGIME_WINDOW-day realised volatility (above sigma: regime 1), then the
 * maximum-likelihood two-state Markov-switching volatility model by Baum-Welch EM (shared mean,
 * per-state volatility; regime 0 is the calmer state; p_leave[k] is the fitted probability of
 * leaving state k). `regimes` is left 0 (the caller opts in). Volume from ln(volume) of bars
 * with volume > 0; start price and day from the first bar; 8 substeps.
 * Allocates O(bars) temporary memory. Returns 0, HV_ETOOFEWOBS (fewer than
 * HV_GBM_FIT_MIN_BARS bars), HV_EINVAL (a close <= 0), HV_ENOMEM. */
HV_EXTERN int hv_gbm_fit(const hv_series *s, hv_gbm_params *out);

/* Defaults without data: an index with 8%/yr drift and 18%/yr volatility (in per-day units),
 * calm/turbulent regimes at 0.7x/1.8x that volatility, price 100 on 2000-01-03, 8 substeps,
 * volume around 1e9, a trend that grows for HV_SYNTH_DRIFT_BARS bars and a reversion half-life
 * of HV_SYNTH_REVERT_BARS bars (hv_gbm_fit() keeps these two). */
HV_EXTERN void hv_gbm_params_default(hv_gbm_params *p);

typedef struct hv_synth {
    hv_gbm_params p;
    hv_rng rng;
    double price;       /* last close */
    double trend;       /* log of the trend level */
    double revert_step; /* share of the deviation from the trend removed per sub-step */
    int32_t day;        /* date of the next bar */
    int regime;         /* current regime */
    uint64_t bars;      /* bars generated */
    uint64_t switches;  /* regime changes so far */
} hv_synth;

/* Checks parameters: mu finite and > -1; sigma, regime_sigma finite and >= 0; p_leave in
 * [0, 1]; log_volume_mean finite and log_volume_sd finite >= 0; start_price finite > 0;
 * start_day in 0001-01-01..9999-12-31; substeps in 1..HV_SYNTH_SUBSTEPS_MAX. Returns 0, or
 * HV_EINVAL with *err (may be NULL) naming the first bad field. Pure. */
HV_EXTERN int hv_gbm_params_check(const hv_gbm_params *p, hv_field_error *err);

/* Initialises a generator. Returns 0 or HV_EINVAL (parameters hv_gbm_params_check() refuses). */
HV_EXTERN int hv_synth_init(hv_synth *g, const hv_gbm_params *p, uint64_t seed);

/* Bars the generator can still produce before a date would pass 9999-12-31. O(1). */
HV_EXTERN size_t hv_synth_bars_left(const hv_synth *g);

/* Produces the next bar. Returns 0, or HV_ERANGE (nothing produced) when its date would pass
 * 9999-12-31. O(substeps), no allocation. */
HV_EXTERN int hv_synth_next(hv_synth *g, hv_bar *out);

/* Appends n generated bars to s. Returns 0, HV_ERANGE (n > hv_synth_bars_left(g): nothing is
 * appended), HV_ENOMEM, HV_EOVERFLOW. */
HV_EXTERN int hv_synth_fill(hv_synth *g, size_t n, hv_series *s);

/* ---------------------------------------------------------------------------------------------
 * Replay feed: a state machine that emits the bars of an array (or ticks interpolated within
 * each bar) on a schedule. It is driven by the caller's clock: hv_replay_poll(now_ns) either
 * emits the next due event or says when the next one is due. It never sleeps.
 *
 * Schedule: event i of the run is due at start_ns + i * interval_ns, where interval_ns =
 * bar_ns / speed / ticks_per_bar (speed = 0: every event is due immediately, "as fast as
 * possible"). Nothing is ever dropped: a caller that falls behind gets the overdue events back
 * to back, each stamped with its intended time (due_ns), and `late` counts events emitted more
 * than one interval after their due time.
 *
 * Ticks (ticks_per_bar = k >= 2): the bar's path is interpolated linearly through
 * open -> low -> high -> close when close >= open, else open -> high -> low -> close, sampled
 * at k evenly spaced points (so the first tick is the open and the last the close); each tick
 * carries volume / k. With k = 1 each event is the whole bar.
 */

#define HV_REPLAY_TICKS_MAX 4096

typedef struct hv_replay_opts {
    size_t size;            /* sizeof(hv_replay_opts) */
    double speed;           /* market time / wall time; 0 = as fast as possible */
    uint64_t bar_ns;        /* market time a bar spans; 0 = one day (86,400 s) */
    uint32_t ticks_per_bar; /* 0 or 1 = bars; 2..HV_REPLAY_TICKS_MAX = ticks */
} hv_replay_opts;

/* Defaults: as fast as possible, one day per bar, bars (not ticks). */
HV_EXTERN void hv_replay_opts_default(hv_replay_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size,
 * speed negative or not finite, ticks_per_bar above HV_REPLAY_TICKS_MAX). Pure. */
HV_EXTERN int hv_replay_opts_check(const hv_replay_opts *o, hv_field_error *err);

typedef struct hv_replay_event {
    uint64_t due_ns;  /* intended emit time (for latency without coordinated omission) */
    uint64_t seq;     /* event number in this run, from 0 */
    size_t bar_index; /* index into the bar array */
    uint32_t tick;    /* tick number within the bar (0 for bars) */
    int last_in_bar;  /* 1 on a bar, and on the last tick of a bar */
    int32_t day;
    double price;      /* tick price (the close for a bar) */
    double volume;     /* tick volume (the bar's volume for a bar) */
    const hv_bar *bar; /* the bar, borrowed from the array */
} hv_replay_event;

typedef struct hv_replay {
    const hv_bar *bars; /* borrowed: must outlive the feed */
    size_t nbars;
    uint32_t ticks;       /* events per bar (1 for bars) */
    uint64_t interval_ns; /* 0 = as fast as possible */
    uint64_t start_ns;
    uint64_t seq;  /* next event number */
    uint64_t late; /* events emitted more than one interval late */
} hv_replay;

/* Starts a feed over bars[0..n) whose first event is due at start_ns. The bars are borrowed.
 * Returns 0, HV_EINVAL (NULL bars with n > 0, opts hv_replay_opts_check() refuses, which
 * names the field), HV_ERANGE (an interval above 1e18 ns),
 * HV_EOVERFLOW (n * ticks_per_bar does not fit 64 bits). opts may be NULL (as fast as
 * possible, bars). */
HV_EXTERN int hv_replay_init(hv_replay *r, const hv_bar *bars, size_t n, const hv_replay_opts *opts,
                             uint64_t start_ns);

/* Emits the next event if it is due at now_ns: returns 1 and fills *ev. Returns 0 if it is not
 * due yet, HV_ECLOSED when every event has been emitted. In every case *next_ns (if not NULL)
 * is set to the due time of the next event not yet emitted (UINT64_MAX at the end). O(1). */
HV_EXTERN int hv_replay_poll(hv_replay *r, uint64_t now_ns, hv_replay_event *ev, uint64_t *next_ns);

/* Events remaining. */
HV_EXTERN uint64_t hv_replay_remaining(const hv_replay *r);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_MARKET_H */

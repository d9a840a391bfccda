/*
 * hivewire: the trading-cycle profiler.
 *
 * Scoped timers on a bounded stack. Each stage is registered once by name; a cycle is the
 * root scope (hv_profiler_cycle_begin/_end) and stages are timed with begin/end pairs that
 * nest. For every closed scope the profiler records:
 *   total (inclusive) time  = end - begin
 *   self time               = total - the total time of the scopes directly nested inside it
 * so a nested stage is never counted twice: the self times of all stages, plus the cycle's
 * own self time (shown as "(unattributed)"), add up exactly to the cycle time. Shares of cycle
 * time are self time divided by total cycle time. Latency distributions (p50, p99, max) are
 * taken over the inclusive time of each occurrence, in an hv_hist per stage.
 *
 * External stages hold durations measured elsewhere, e.g. the simulated exchange latency on
 * the simulated clock: they are recorded with hv_profiler_record(), are not CPU time, take no
 * share of the cycle and are listed apart.
 *
 * The clock is injected (hv_profiler_opts.clock, default hv_now_ns) so tests drive it. It
 * must be monotonic: a reading earlier than the previous one aborts (an assertion kept in
 * release builds).
 *
 * Threads: a profiler belongs to one thread (begin/end/record are not thread-safe). Give each
 * thread its own and combine them with hv_profiler_merge(). The report functions only read.
 */
#ifndef HIVEWIRE_PROFILER_H
#define HIVEWIRE_PROFILER_H

#include <stdio.h>

#include <hivewire/common.h>
#include <hivewire/hist.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t (*hv_profiler_clock_fn)(void *ctx);

typedef struct hv_profiler_opts {
    size_t size;                /* sizeof(hv_profiler_opts) */
    hv_profiler_clock_fn clock; /* NULL: hv_now_ns */
    void *clock_ctx;            /* passed to clock */
    uint32_t depth_max;         /* nesting bound including the cycle, 2..64; 0: 16 */
    uint32_t stages_max;        /* registered stages including the cycle, 2..256; 0: 32 */
    uint64_t value_max_ns;      /* histogram range; longer scopes clamp; 0: 60 s */
    uint32_t sub_bits;          /* histogram precision 2^-sub_bits; 0: 8 */
} hv_profiler_opts;

/* Stage id 0 is the cycle itself, registered by hv_profiler_new() under the name "cycle". */
#define HV_PROFILER_CYCLE 0

/* Stage kinds. */
#define HV_STAGE_TIMED    0 /* timed with begin/end on the profiler's clock */
#define HV_STAGE_EXTERNAL 1 /* durations fed with hv_profiler_record(); not CPU time */
#define HV_STAGE_SIMULATED                                             \
    2 /* like EXTERNAL, on a simulated clock (the exchange's latency): \
         the reports show them apart, under their own heading */

typedef struct hv_profiler hv_profiler;

/* Options with every field at its default. */
HV_EXTERN void hv_profiler_opts_default(hv_profiler_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size
 * wrong, a value out of the ranges above). Pure; any thread. */
HV_EXTERN int hv_profiler_opts_check(const hv_profiler_opts *o, hv_field_error *err);

/* Creates a profiler (opts NULL = defaults). Allocates the stack and stage table here. Returns
 * 0, HV_EINVAL (NULL out, or opts refused by hv_profiler_opts_check(), which names the field),
 * HV_ENOMEM. On success the caller owns *out (hv_profiler_free()); on failure *out is NULL. */
HV_EXTERN int hv_profiler_new(const hv_profiler_opts *opts, hv_profiler **out);
HV_EXTERN void hv_profiler_free(hv_profiler *p);

/* Registers a stage (name copied, 1..47 bytes) of kind HV_STAGE_TIMED, HV_STAGE_EXTERNAL or
 * HV_STAGE_SIMULATED and
 * returns its id (> 0); registering an existing name returns the existing id if the kind
 * matches. Allocates its histogram: call at start-up, not on the hot path.
 * Errors: HV_EINVAL (bad name or kind, or a name registered with the other kind), HV_EFULL
 * (stages_max reached), HV_ENOMEM. */
HV_EXTERN int hv_profiler_stage(hv_profiler *p, const char *name, int kind);

/* Looks a stage up by name: its id, or HV_ENOTFOUND. */
HV_EXTERN int hv_profiler_find(const hv_profiler *p, const char *name);

/*
 * Opens a scope of a timed stage. Returns 0, HV_EINVAL (unknown id or an external stage) or
 * HV_EFULL: the stack is at depth_max; the scope is then not timed, counted in `dropped`,
 * and its hv_profiler_end() is accepted and ignored, so callers need not branch.
 * No allocation.
 */
HV_EXTERN int hv_profiler_begin(hv_profiler *p, int stage);

/*
 * Closes the innermost scope, which must be `stage`, and records it. Returns 0, HV_EFULL (the
 * matching begin had overflowed; nothing recorded), HV_ESTATE (no open scope, or the innermost
 * scope is another stage: nothing changes, counted in `mismatched`). No allocation.
 */
HV_EXTERN int hv_profiler_end(hv_profiler *p, int stage);

/* A cycle is the root scope: begin/end of stage HV_PROFILER_CYCLE. cycle_begin fails with
 * HV_ESTATE when a scope is open. cycle_end also returns HV_ESTATE if stages are still open. */
HV_EXTERN int hv_profiler_cycle_begin(hv_profiler *p);
HV_EXTERN int hv_profiler_cycle_end(hv_profiler *p);

/* Records one duration of an external or simulated stage. Returns 0 or HV_EINVAL (unknown id,
 * a timed stage). No allocation. */
HV_EXTERN int hv_profiler_record(hv_profiler *p, int stage, uint64_t duration_ns);

/* Adds src's stages (matched by name and kind; missing ones are registered in dst) into dst.
 * Both must use the same histogram parameters. Returns 0, HV_EINVAL, HV_EFULL, HV_ENOMEM. */
HV_EXTERN int hv_profiler_merge(hv_profiler *dst, const hv_profiler *src);

/* Forgets every recorded value; keeps the registered stages. Fails with HV_ESTATE while a
 * scope is open. */
HV_EXTERN int hv_profiler_reset(hv_profiler *p);

typedef struct hv_profiler_stage_stats {
    const char *name; /* owned by the profiler */
    int id;
    int kind;
    uint64_t count;
    uint64_t total_ns; /* sum of inclusive times */
    uint64_t self_ns;  /* sum of self times (equal to total_ns for recorded stages) */
    double share;      /* self_ns / cycle total_ns (0 for recorded stages, or with no cycles) */
    double mean_ns;    /* total_ns / count */
    uint64_t min_ns, p50_ns, p99_ns, max_ns; /* of inclusive times */
} hv_profiler_stage_stats;

typedef struct hv_profiler_summary {
    uint32_t stages;          /* registered, including the cycle */
    uint64_t cycles;          /* completed cycles */
    uint64_t cycle_ns;        /* sum of cycle times */
    uint64_t unattributed_ns; /* cycle self time: inside a cycle, outside every stage */
    double cycles_per_s;      /* cycles / (cycle_ns / 1e9): busy throughput */
    uint64_t dropped;         /* scopes not timed because the stack was full */
    uint64_t mismatched;      /* hv_profiler_end calls refused with HV_ESTATE */
} hv_profiler_summary;

HV_EXTERN void hv_profiler_summary_get(const hv_profiler *p, hv_profiler_summary *out);

/* Statistics of one stage (id 0 = the cycle). Returns 0 or HV_EINVAL (unknown id). */
HV_EXTERN int hv_profiler_stage_stats_get(const hv_profiler *p, int stage,
                                          hv_profiler_stage_stats *out);

/* The histogram of a stage's inclusive times, owned by the profiler; NULL for unknown ids. */
HV_EXTERN const hv_hist *hv_profiler_stage_hist(const hv_profiler *p, int stage);

/* Timed stages ranked by self time (largest first, ties by id): writes up to n ids into ids and
 * returns how many timed stages there are (excluding the cycle). */
HV_EXTERN size_t hv_profiler_rank(const hv_profiler *p, int *ids, size_t n);

/* ---------------------------------------------------------------------------------------- */
/* Reports                                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define HV_REPORT_SUMMARY_MAX 48

/* The version of the JSON documents hivewire writes (hv_profiler_json(), the CLI's --json and
 * the reports in out/): every document has it as "schema_version"; it grows when a field changes
 * meaning or goes away (docs/REPORT.md). */
#define HV_REPORT_SCHEMA_VERSION 1

/* A calendar day unknown (no date in the data). Days otherwise count from 1970-01-01, as
 * hv_bar.day does (market.h). */
#define HV_REPORT_NO_DAY INT32_MIN

/* One fill, as the report's trades table and trades.csv list it. */
typedef struct hv_report_trade {
    uint64_t t_ns;        /* simulated time of the fill (the exchange's clock) */
    int32_t day;          /* the calendar day of the bar it filled on, or HV_REPORT_NO_DAY */
    int side;             /* HV_SIDE_BUY (0) or HV_SIDE_SELL (1), exchange.h */
    int64_t qty;          /* shares filled */
    double price, fee;    /* fill price; fee charged by this fill */
    uint64_t order_id;    /* the exchange's order id */
    uint64_t proposal_id; /* the consensus proposal that decided the order; 0: none */
    const char *rule;     /* the rule that accepted it ("bft"), or NULL: no vote or unknown */
    uint32_t approvals, rejections, abstentions, voters; /* the decision's votes (voters 0: none) */
} hv_report_trade;

/*
 * Return statistics of one equity series sampled once per period (bar). A figure that cannot
 * be known (fewer than two points, no variation, no calendar) is NaN, written as null in JSON
 * and "-" in HTML.
 */
typedef struct hv_report_returns {
    uint64_t periods;                /* returns counted: points - 1 */
    double years;                    /* calendar span of the points (periods / 252 without dates) */
    double periods_per_year;         /* periods / years: used to annualise */
    double start_equity, end_equity; /* the first and the last point */
    double total_return;             /* end / start - 1 */
    double annual_return;            /* (end / start)^(1 / years) - 1 */
    double volatility;   /* sample standard deviation of the period returns x sqrt(periods/yr) */
    double sharpe;       /* mean / standard deviation of the period returns x sqrt(periods/yr),
                            at a risk-free rate of 0 */
    double sortino;      /* mean / downside deviation sqrt(mean(min(r, 0)^2)) x sqrt(periods/yr) */
    double max_drawdown; /* largest fall from a running peak, as a fraction of that peak */
    uint64_t max_drawdown_peak_t_ns, max_drawdown_trough_t_ns; /* when (simulated clock) */
    int32_t max_drawdown_peak_day, max_drawdown_trough_day;    /* calendar days, or NO_DAY */
    uint64_t max_drawdown_recovery_t_ns; /* first time back at the peak; UINT64_MAX: never */
    int32_t max_drawdown_recovery_day;   /* ... its day, or NO_DAY (never, or no dates) */
    double win_rate; /* share of the periods with a non-zero return that gained */
    double exposure; /* share of the periods in which a position was held (at the start or
                        the end of the period) */
    double turnover; /* notional traded over the mean equity, per year */
} hv_report_returns;

/* One alert of the run (docs/OBSERVABILITY.md): raised at raised_s, cleared at cleared_s
 * (seconds since the run began; cleared_s < 0: still raised when the run ended). */
typedef struct hv_report_alert {
    const char *name;     /* "cycle_latency_p99" */
    const char *severity; /* "warning" or "critical" */
    const char *message;  /* the line written on stderr when it was raised */
    double raised_s, cleared_s;
} hv_report_alert;

/* Optional extra content for the JSON and HTML reports. Everything may be NULL / 0. Strings
 * and arrays are borrowed for the duration of the call. */
typedef struct hv_report_extra {
    const char *title;
    /* summary rows shown at the top: keys[i] = values[i], up to HV_REPORT_SUMMARY_MAX */
    size_t summary_n;
    const char *const *summary_keys;
    const char *const *summary_values;
    /* equity curve (e.g. from hv_portfolio_curve): equity_n points in time order */
    size_t equity_n;
    const uint64_t *equity_t_ns;
    const double *equity;
    /* alerts: when alerts_watched, the reports list alerts[0..alerts_n) (or say none came) */
    int alerts_watched;
    size_t alerts_n;
    const hv_report_alert *alerts;
    /* Per equity point, each optional: its calendar day (the time axes then show dates), the
     * equity of buy-and-hold of the same series (a benchmark line), the exact drawdown from
     * the running peak of every period (NULL: computed from the points given, which a thinned
     * curve may understate). */
    const int32_t *equity_day;
    const double *benchmark;
    const double *drawdown_frac;
    /* return statistics of the strategy and of buy-and-hold, or NULL */
    const hv_report_returns *returns;
    const hv_report_returns *benchmark_returns;
    /* the fills, in order; trades_total >= trades_n counts those not listed (0: all listed) */
    size_t trades_n;
    const hv_report_trade *trades;
    uint64_t trades_total;
    /* the run stopped before its end (Ctrl-C): the reports say they cover only what ran */
    int partial;
    /* members the caller adds to the JSON document, in order, after "schema_version" (e.g.
     * "command", "config", "result"): json_names[i] = json_values[i], each value one JSON text;
     * a value that does not parse makes hv_profiler_json() return NULL */
    size_t json_n;
    const char *const *json_names;
    const char *const *json_values;
} hv_report_extra;

/*
 * The text table: a cycle line (count, mean, p50, p99, max, cycles/s), then the timed stages
 * ranked by self time (rank, operation, % of cycle, self, total, count, mean, p50, p99, max),
 * the unattributed row, and the external and simulated stages apart. 120 columns wide.
 * Returns 0 or HV_EIO.
 */
HV_EXTERN int hv_profiler_write_table(const hv_profiler *p, FILE *f);

/* Flags of hv_profiler_write_table_flags(). */
#define HV_PROFILER_TABLE_WIDE 1u /* every column (hv_profiler_write_table()) */

/* The same table; without HV_PROFILER_TABLE_WIDE it fits 80 columns (rank, operation,
 * % of cycle, self, count, p50, p99). Returns 0 or HV_EIO. */
HV_EXTERN int hv_profiler_write_table_flags(const hv_profiler *p, FILE *f, unsigned flags);

/* The JSON document (schema in docs/REPORT.md): "schema_version", the caller's members, the
 * run's partial flag, return statistics, equity curve, trades and alerts from extra, then the
 * profile itself under "profile". Returns a malloc'd NUL-terminated string the caller frees,
 * or NULL on out of memory or a json_values[i] that is not JSON. extra may be NULL. */
HV_EXTERN char *hv_profiler_json(const hv_profiler *p, const hv_report_extra *extra);

/* A self-contained HTML page (inline CSS and SVG, no scripts, no network): summary, return
 * statistics against buy-and-hold, the equity curve with the benchmark and its drawdown on
 * calendar axes, the trades, the stage table, time-per-stage bar chart, a latency distribution
 * per stage, the simulated exchange latencies apart. Sections without data in extra are left
 * out. Returns 0 or HV_EIO. extra may be NULL. */
HV_EXTERN int hv_profiler_write_html(const hv_profiler *p, const hv_report_extra *extra, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_PROFILER_H */

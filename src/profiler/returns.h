/*
 * Internal: the per-period series of a backtest-grade report, in bounded memory whatever the
 * number of periods.
 *
 * A caller pushes one point per period (bar): its time, calendar day, and the equity of two
 * legs, the strategy (leg 0) and buy-and-hold of the same series (leg 1), with whether each
 * held a position during the period that ends there. The series keeps, in O(1) per point and
 * no allocation after init:
 *
 *   - the return statistics of each leg (hv_report_returns), from every point;
 *   - a curve to plot, thinned into at most `buckets_max` buckets of consecutive points, each
 *     keeping the points where the strategy's equity, the benchmark's equity and the strategy's
 *     drawdown reach their minimum and maximum in the bucket (at most 6 points), and the first
 *     and the last point pushed. So a chart of the curve shows every extreme of each series: the
 * deepest drawdown plotted is the true one, exactly, because each kept point carries the drawdown
 *     computed from every period before it.
 *
 * When the buckets are full, neighbours merge in pairs (each bucket then covers twice as many
 * points) and keep the extremes of the pair: what a bucket keeps is always the extremes of all
 * the points it covers.
 *
 * Not thread-safe; no I/O, no clock.
 */
#ifndef HV_PROFILER_RETURNS_H
#define HV_PROFILER_RETURNS_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/profiler.h>

#define HV__RS_LEGS         2 /* 0 the strategy, 1 buy-and-hold */
#define HV__RS_KEEP         6 /* points a bucket keeps at most */
#define HV__RS_BUCKETS_MIN  2
#define HV__RS_BUCKETS_MAX  (1u << 16)
#define HV__RS_BUCKETS_DFLT 2048

/* One point of the series as it is plotted. */
typedef struct hv__rs_point {
    uint64_t t_ns;
    int32_t day;                  /* HV_REPORT_NO_DAY when the data has no dates */
    double equity[HV__RS_LEGS];   /* strategy, benchmark */
    double drawdown[HV__RS_LEGS]; /* from each leg's running peak over every period so far */
} hv__rs_point;

/* What one leg accumulates over every period. */
typedef struct hv__rs_leg {
    double first, prev;        /* equity at the first and the previous point */
    double mean, m2;           /* Welford: mean and sum of squared deviations of returns */
    double down2;              /* sum of min(r, 0)^2 */
    uint64_t n, wins, nonzero; /* returns, positive ones, non-zero ones */
    uint64_t exposed;          /* periods that began with a position */
    double equity_sum;         /* over points, for the mean equity */
    double notional;           /* traded */
    double peak;               /* running peak */
    uint64_t peak_t_ns;        /* ... when it was reached */
    int32_t peak_day;
    double dd_max;  /* the largest drawdown so far */
    double dd_peak; /* the peak it fell from */
    uint64_t dd_peak_t_ns, dd_trough_t_ns, dd_recovery_t_ns;
    int32_t dd_peak_day, dd_trough_day, dd_recovery_day;
} hv__rs_leg;

typedef struct hv__rs_bucket {
    uint32_t n; /* points kept, in time order */
    hv__rs_point p[HV__RS_KEEP];
} hv__rs_bucket;

typedef struct hv__report_series {
    hv__rs_leg leg[HV__RS_LEGS];
    uint64_t points; /* pushed */
    int32_t first_day, last_day;
    hv__rs_point first, last; /* the first and the last point pushed */
    hv__rs_bucket *bucket;    /* buckets_max of them */
    uint32_t buckets_max;
    uint32_t nbuckets; /* closed ones, then the open one at [nbuckets] when open_n > 0 */
    uint64_t width;    /* points per bucket */
    uint64_t open_n;   /* points in the open bucket */
} hv__report_series;

/* Sets rs up for at most buckets_max buckets (0: HV__RS_BUCKETS_DFLT; otherwise in
 * [HV__RS_BUCKETS_MIN, HV__RS_BUCKETS_MAX]). Returns 0, HV_EINVAL or HV_ENOMEM. */
int hv__report_series_init(hv__report_series *rs, uint32_t buckets_max);
void hv__report_series_fini(hv__report_series *rs);

/* Adds the point of one period: its equity per leg, and whether each leg held a position
 * during the period that ends here. A period whose previous equity is not > 0 has no return
 * (it counts in no statistic but the drawdown). No allocation. */
void hv__report_series_push(hv__report_series *rs, uint64_t t_ns, int32_t day,
                            const double equity[HV__RS_LEGS], const int exposed[HV__RS_LEGS]);

/* Adds notional traded by a leg (for its turnover). */
void hv__report_series_traded(hv__report_series *rs, int leg, double notional);

/* The statistics of a leg over every point pushed. */
void hv__report_series_returns(const hv__report_series *rs, int leg, hv_report_returns *out);

/* The points to plot, in time order: writes at most cap of them into out and returns how many
 * there are (at most HV__RS_KEEP x buckets_max + 2). */
size_t hv__report_series_points(const hv__report_series *rs, hv__rs_point *out, size_t cap);

#endif /* HV_PROFILER_RETURNS_H */

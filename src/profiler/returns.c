/* The report's per-period series: return statistics and an extremes-keeping thinned curve
 * (returns.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "profiler/returns.h"

#define DAYS_PER_YEAR    365.25
#define PERIODS_NO_DATES 252.0 /* trading days a year, when the data has no dates */
#define SERIES_WATCHED   3     /* strategy equity, benchmark equity, strategy drawdown */

int hv__report_series_init(hv__report_series *rs, uint32_t buckets_max)
{
    memset(rs, 0, sizeof(*rs));
    if (buckets_max == 0)
        buckets_max = HV__RS_BUCKETS_DFLT;
    if (buckets_max < HV__RS_BUCKETS_MIN || buckets_max > HV__RS_BUCKETS_MAX)
        return HV_EINVAL;
    buckets_max &= ~1u; /* pairs merge */
    rs->bucket = calloc(buckets_max, sizeof(*rs->bucket));
    if (rs->bucket == NULL)
        return HV_ENOMEM;
    rs->buckets_max = buckets_max;
    rs->width = 1;
    rs->first_day = rs->last_day = HV_REPORT_NO_DAY;
    return 0;
}

void hv__report_series_fini(hv__report_series *rs)
{
    free(rs->bucket);
    memset(rs, 0, sizeof(*rs));
}

/* ---- Statistics ------------------------------------------------------------------------------
 */

static void leg_start(hv__rs_leg *l, double eq, uint64_t t_ns, int32_t day)
{
    double notional = l->notional; /* traded before the first point counts */
    memset(l, 0, sizeof(*l));
    l->notional = notional;
    l->first = l->prev = l->peak = eq;
    l->peak_t_ns = t_ns;
    l->peak_day = day;
    l->dd_peak = eq;
    l->dd_peak_t_ns = l->dd_trough_t_ns = t_ns;
    l->dd_peak_day = l->dd_trough_day = day;
    l->dd_recovery_t_ns = UINT64_MAX;
    l->dd_recovery_day = HV_REPORT_NO_DAY;
}

static void leg_return(hv__rs_leg *l, double eq, int exposed)
{
    if (!(l->prev > 0) || !isfinite(eq))
        return;
    double r = eq / l->prev - 1;
    l->n++;
    double delta = r - l->mean;
    l->mean += delta / (double)l->n;
    l->m2 += delta * (r - l->mean);
    if (r < 0)
        l->down2 += r * r;
    l->wins += r > 0;
    l->nonzero += r != 0;
    l->exposed += exposed != 0;
}

/* Updates the running peak and the largest drawdown; returns the drawdown at this point. */
static double leg_drawdown(hv__rs_leg *l, double eq, uint64_t t_ns, int32_t day)
{
    if (eq >= l->peak) {
        if (l->dd_max > 0 && l->dd_recovery_t_ns == UINT64_MAX && eq >= l->dd_peak) {
            l->dd_recovery_t_ns = t_ns;
            l->dd_recovery_day = day;
        }
        l->peak = eq;
        l->peak_t_ns = t_ns;
        l->peak_day = day;
    }
    double dd = l->peak > 0 ? (l->peak - eq) / l->peak : 0;
    if (dd > l->dd_max) {
        l->dd_max = dd;
        l->dd_peak = l->peak;
        l->dd_peak_t_ns = l->peak_t_ns;
        l->dd_peak_day = l->peak_day;
        l->dd_trough_t_ns = t_ns;
        l->dd_trough_day = day;
        l->dd_recovery_t_ns = UINT64_MAX;
        l->dd_recovery_day = HV_REPORT_NO_DAY;
    }
    return dd;
}

void hv__report_series_traded(hv__report_series *rs, int leg, double notional)
{
    if (leg >= 0 && leg < HV__RS_LEGS && isfinite(notional))
        rs->leg[leg].notional += fabs(notional);
}

void hv__report_series_returns(const hv__report_series *rs, int leg, hv_report_returns *out)
{
    const hv__rs_leg *l = &rs->leg[leg < 0 || leg >= HV__RS_LEGS ? 0 : leg];
    memset(out, 0, sizeof(*out));
    out->periods = rs->points > 0 ? rs->points - 1 : 0;
    out->max_drawdown_recovery_t_ns = UINT64_MAX;
    out->max_drawdown_peak_day = out->max_drawdown_trough_day = HV_REPORT_NO_DAY;
    out->max_drawdown_recovery_day = HV_REPORT_NO_DAY;
    out->years = out->periods_per_year = out->start_equity = out->end_equity = NAN;
    out->total_return = out->annual_return = out->volatility = out->sharpe = out->sortino = NAN;
    out->max_drawdown = out->win_rate = out->exposure = out->turnover = NAN;
    if (rs->points == 0)
        return;
    out->start_equity = l->first;
    out->end_equity = l->prev;
    out->max_drawdown = l->dd_max;
    out->max_drawdown_peak_t_ns = l->dd_peak_t_ns;
    out->max_drawdown_trough_t_ns = l->dd_trough_t_ns;
    out->max_drawdown_peak_day = l->dd_peak_day;
    out->max_drawdown_trough_day = l->dd_trough_day;
    out->max_drawdown_recovery_t_ns = l->dd_recovery_t_ns;
    out->max_drawdown_recovery_day = l->dd_recovery_day;
    if (l->first > 0)
        out->total_return = l->prev / l->first - 1;
    if (out->periods == 0)
        return;
    int dated = rs->first_day != HV_REPORT_NO_DAY && rs->last_day > rs->first_day;
    out->years = dated ? (double)(rs->last_day - rs->first_day) / DAYS_PER_YEAR
                       : (double)out->periods / PERIODS_NO_DATES;
    out->periods_per_year = (double)out->periods / out->years;
    if (l->first > 0 && l->prev > 0)
        out->annual_return = pow(l->prev / l->first, 1.0 / out->years) - 1;
    double root = sqrt(out->periods_per_year);
    if (l->n >= 2) {
        double sd = sqrt(l->m2 / (double)(l->n - 1));
        out->volatility = sd * root;
        if (sd > 0)
            out->sharpe = l->mean / sd * root;
    }
    if (l->n >= 1) {
        double down = sqrt(l->down2 / (double)l->n);
        if (down > 0)
            out->sortino = l->mean / down * root;
        out->exposure = (double)l->exposed / (double)l->n;
    }
    if (l->nonzero > 0)
        out->win_rate = (double)l->wins / (double)l->nonzero;
    double mean_equity = l->equity_sum / (double)rs->points;
    if (mean_equity > 0)
        out->turnover = l->notional / mean_equity / out->years;
}

/* ---- The thinned curve -----------------------------------------------------------------------
 */

static double watched(const hv__rs_point *p, int k)
{
    return k < HV__RS_LEGS ? p->equity[k] : p->drawdown[0];
}

/* Keeps, of n candidates in time order, those where a watched series is lowest or highest
 * (the first such on ties), in time order, into b. */
static void keep_extremes(hv__rs_bucket *b, const hv__rs_point *c, size_t n)
{
    HV_ASSERT(n > 0 && n <= 2 * HV__RS_KEEP);
    int mark[2 * HV__RS_KEEP] = { 0 };
    for (int k = 0; k < SERIES_WATCHED; k++) {
        size_t lo = 0, hi = 0;
        for (size_t i = 1; i < n; i++) {
            if (watched(&c[i], k) < watched(&c[lo], k))
                lo = i;
            if (watched(&c[i], k) > watched(&c[hi], k))
                hi = i;
        }
        mark[lo] = mark[hi] = 1;
    }
    hv__rs_point tmp[2 * HV__RS_KEEP];
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (mark[i])
            tmp[m++] = c[i];
    HV_ASSERT(m <= HV__RS_KEEP);
    memcpy(b->p, tmp, m * sizeof(tmp[0]));
    b->n = m;
}

/* Every pair of closed buckets becomes one, keeping the pair's extremes. */
static void merge_pairs(hv__report_series *rs)
{
    HV_ASSERT(rs->nbuckets == rs->buckets_max && rs->open_n == 0);
    for (uint32_t i = 0; i < rs->nbuckets / 2; i++) {
        hv__rs_point c[2 * HV__RS_KEEP];
        const hv__rs_bucket *a = &rs->bucket[2 * i], *b = &rs->bucket[2 * i + 1];
        memcpy(c, a->p, a->n * sizeof(c[0]));
        memcpy(c + a->n, b->p, b->n * sizeof(c[0]));
        keep_extremes(&rs->bucket[i], c, a->n + b->n);
    }
    rs->nbuckets /= 2;
    rs->width *= 2;
}

static void bucket_add(hv__report_series *rs, const hv__rs_point *p)
{
    if (rs->open_n == 0 && rs->nbuckets == rs->buckets_max)
        merge_pairs(rs);
    hv__rs_bucket *b = &rs->bucket[rs->nbuckets];
    if (rs->open_n == 0)
        b->n = 0;
    hv__rs_point c[2 * HV__RS_KEEP];
    memcpy(c, b->p, b->n * sizeof(c[0]));
    c[b->n] = *p;
    keep_extremes(b, c, b->n + 1u);
    if (++rs->open_n == rs->width) {
        rs->nbuckets++;
        rs->open_n = 0;
    }
}

void hv__report_series_push(hv__report_series *rs, uint64_t t_ns, int32_t day,
                            const double equity[HV__RS_LEGS], const int exposed[HV__RS_LEGS])
{
    hv__rs_point p = { .t_ns = t_ns, .day = day };
    for (int k = 0; k < HV__RS_LEGS; k++) {
        hv__rs_leg *l = &rs->leg[k];
        if (rs->points == 0)
            leg_start(l, equity[k], t_ns, day);
        else
            leg_return(l, equity[k], exposed[k]);
        l->equity_sum += equity[k];
        p.equity[k] = equity[k];
        p.drawdown[k] = leg_drawdown(l, equity[k], t_ns, day);
        l->prev = equity[k];
    }
    if (rs->points == 0) {
        rs->first_day = day;
        rs->first = p;
    }
    rs->last_day = day;
    rs->points++;
    rs->last = p;
    bucket_add(rs, &p);
}

size_t hv__report_series_points(const hv__report_series *rs, hv__rs_point *out, size_t cap)
{
    size_t n = 0;
    if (rs->points == 0)
        return 0;
    if (rs->bucket[0].p[0].t_ns != rs->first.t_ns) {
        if (n < cap)
            out[n] = rs->first;
        n++;
    }
    uint32_t nb = rs->nbuckets + (rs->open_n > 0);
    for (uint32_t i = 0; i < nb; i++) {
        const hv__rs_bucket *b = &rs->bucket[i];
        for (uint32_t j = 0; j < b->n; j++) {
            if (n < cap)
                out[n] = b->p[j];
            n++;
        }
    }
    const hv__rs_bucket *lb = &rs->bucket[nb - 1];
    if (lb->p[lb->n - 1].t_ns != rs->last.t_ns) {
        if (n < cap)
            out[n] = rs->last;
        n++;
    }
    return n;
}

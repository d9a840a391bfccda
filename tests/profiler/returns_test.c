/*
 * The report's per-period series (src/profiler/returns.h): every statistic against the same
 * figure computed here another way (two passes, brute force over every pair of points), and
 * the thinned curve against the full series it thins.
 */
#include "hv_test.h"

#include <math.h>

#include <hivewire/rng.h>

#include "profiler/returns.h"

#define DAY_NS 86400000000000ull

typedef struct series {
    size_t n;
    double *eq[HV__RS_LEGS];
    int *exposed[HV__RS_LEGS];
    int32_t *day;
} series;

/* A random walk per leg (the strategy in and out of the market), one point per weekday. */
static void make_series(series *s, size_t n, uint64_t seed)
{
    hv_rng r;
    hv_rng_seed(&r, seed);
    s->n = n;
    s->day = calloc(n, sizeof(int32_t));
    for (int k = 0; k < HV__RS_LEGS; k++) {
        s->eq[k] = calloc(n, sizeof(double));
        s->exposed[k] = calloc(n, sizeof(int));
    }
    int32_t day = 10959; /* 2000-01-03, a Monday */
    int in = 0;
    for (size_t i = 0; i < n; i++) {
        s->day[i] = day;
        day += (i % 5 == 4) ? 3 : 1;
        if (hv_rng_below(&r, 20) == 0)
            in = !in;
        double m = 0.01 * hv_rng_normal(&r);
        s->eq[0][i] = i == 0 ? 1e6 : s->eq[0][i - 1] * (1 + (in ? m : 0));
        s->eq[1][i] = i == 0 ? 1e6 : s->eq[1][i - 1] * (1 + m + 0.0002);
        s->exposed[0][i] = in;
        s->exposed[1][i] = 1;
    }
}

static void free_series(series *s)
{
    free(s->day);
    for (int k = 0; k < HV__RS_LEGS; k++) {
        free(s->eq[k]);
        free(s->exposed[k]);
    }
}

static void push_all(hv__report_series *rs, const series *s)
{
    for (size_t i = 0; i < s->n; i++) {
        double eq[HV__RS_LEGS] = { s->eq[0][i], s->eq[1][i] };
        int ex[HV__RS_LEGS] = { s->exposed[0][i], s->exposed[1][i] };
        hv__report_series_push(rs, i * DAY_NS, s->day[i], eq, ex);
    }
}

static void assert_near(double got, double want)
{
    double tol = 1e-9 * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g", got, want);
}

/* The statistics of one leg the plain way: two passes over the returns, drawdown by brute
 * force over every (peak, trough) pair. */
static void check_leg(const hv__report_series *rs, const series *s, int k, double notional)
{
    hv_report_returns got;
    hv__report_series_returns(rs, k, &got);
    const double *e = s->eq[k];
    size_t n = s->n, m = n - 1;
    double sum = 0, eq_sum = e[0];
    size_t wins = 0, nonzero = 0, exposed = 0;
    for (size_t i = 1; i < n; i++) {
        double r = e[i] / e[i - 1] - 1;
        sum += r;
        wins += r > 0;
        nonzero += r != 0;
        exposed += s->exposed[k][i] != 0;
        eq_sum += e[i];
    }
    double mean = sum / (double)m, var = 0, down = 0;
    for (size_t i = 1; i < n; i++) {
        double r = e[i] / e[i - 1] - 1;
        var += (r - mean) * (r - mean);
        down += r < 0 ? r * r : 0;
    }
    double sd = sqrt(var / (double)(m - 1)), dd = sqrt(down / (double)m);
    double years = (double)(s->day[n - 1] - s->day[0]) / 365.25, ppy = (double)m / years;
    assert_int_equal(got.periods, m);
    assert_near(got.years, years);
    assert_near(got.periods_per_year, ppy);
    assert_near(got.start_equity, e[0]);
    assert_near(got.end_equity, e[n - 1]);
    assert_near(got.total_return, e[n - 1] / e[0] - 1);
    assert_near(got.annual_return, pow(e[n - 1] / e[0], 1 / years) - 1);
    assert_near(got.volatility, sd * sqrt(ppy));
    assert_near(got.sharpe, mean / sd * sqrt(ppy));
    assert_near(got.sortino, mean / dd * sqrt(ppy));
    assert_near(got.win_rate, (double)wins / (double)nonzero);
    assert_near(got.exposure, (double)exposed / (double)m);
    assert_near(got.turnover, notional / (eq_sum / (double)n) / years);
    /* the deepest fall from an earlier (latest-equal) peak, its dates and its recovery */
    double best = 0;
    size_t peak = 0, trough = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i <= j; i++)
            if ((e[i] - e[j]) / e[i] > best) {
                best = (e[i] - e[j]) / e[i];
                trough = j;
            }
    for (size_t i = 0; i <= trough; i++)
        if (e[i] >= e[peak])
            peak = i;
    assert_near(got.max_drawdown, best);
    assert_int_equal(got.max_drawdown_peak_day, s->day[peak]);
    assert_int_equal(got.max_drawdown_trough_day, s->day[trough]);
    assert_int_equal(got.max_drawdown_trough_t_ns, trough * DAY_NS);
    size_t rec = n;
    for (size_t j = trough + 1; j < n && rec == n; j++)
        if (e[j] >= e[peak])
            rec = j;
    if (rec == n) {
        assert_int_equal(got.max_drawdown_recovery_day, HV_REPORT_NO_DAY);
        assert_true(got.max_drawdown_recovery_t_ns == UINT64_MAX);
    } else {
        assert_int_equal(got.max_drawdown_recovery_day, s->day[rec]);
    }
}

static void statistics_match_a_direct_computation(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        series s;
        make_series(&s, 700 + 150 * seed, seed);
        hv__report_series rs;
        assert_int_equal(hv__report_series_init(&rs, 64), 0);
        push_all(&rs, &s);
        hv__report_series_traded(&rs, 0, 12345.5);
        hv__report_series_traded(&rs, 0, -500);
        hv__report_series_traded(&rs, 1, 1e6);
        check_leg(&rs, &s, 0, 12845.5);
        check_leg(&rs, &s, 1, 1e6);
        hv__report_series_fini(&rs);
        free_series(&s);
    }
}

static double dd_at(const series *s, int k, size_t j)
{
    double peak = s->eq[k][0];
    for (size_t i = 0; i <= j; i++)
        peak = s->eq[k][i] > peak ? s->eq[k][i] : peak;
    return (peak - s->eq[k][j]) / peak;
}

/* Thinning keeps every extreme: the plotted minimum and maximum of each series, and the
 * plotted deepest drawdown, are the true ones; every plotted point is a real point, with its
 * true drawdown. The curve stays within its bound. */
static void the_thinned_curve_keeps_every_extreme(void **state)
{
    (void)state;
    const size_t n = 100000;
    series s;
    make_series(&s, n, 42);
    hv__report_series rs;
    assert_int_equal(hv__report_series_init(&rs, 64), 0);
    push_all(&rs, &s);
    hv__rs_point *pts = calloc(6 * 64 + 2, sizeof(*pts));
    size_t np = hv__report_series_points(&rs, pts, 6 * 64 + 2);
    assert_true(np > 64 && np <= 6 * 64 + 2);
    assert_true(pts[0].t_ns == 0 && pts[np - 1].t_ns == (n - 1) * DAY_NS);
    double want_lo[3], want_hi[3], got_lo[3], got_hi[3];
    for (int k = 0; k < 3; k++) {
        want_lo[k] = got_lo[k] = INFINITY;
        want_hi[k] = got_hi[k] = -INFINITY;
    }
    double peak = s.eq[0][0];
    for (size_t i = 0; i < n; i++) {
        peak = s.eq[0][i] > peak ? s.eq[0][i] : peak;
        double v[3] = { s.eq[0][i], s.eq[1][i], (peak - s.eq[0][i]) / peak };
        for (int k = 0; k < 3; k++) {
            want_lo[k] = fmin(want_lo[k], v[k]);
            want_hi[k] = fmax(want_hi[k], v[k]);
        }
    }
    for (size_t j = 0; j < np; j++) {
        if (j > 0)
            assert_true(pts[j].t_ns > pts[j - 1].t_ns);
        size_t i = (size_t)(pts[j].t_ns / DAY_NS);
        assert_true(pts[j].equity[0] == s.eq[0][i] && pts[j].equity[1] == s.eq[1][i]);
        assert_int_equal(pts[j].day, s.day[i]);
        if (j % 37 == 0) /* the brute-force drawdown of a sample of the points */
            assert_near(pts[j].drawdown[0], dd_at(&s, 0, i));
        double v[3] = { pts[j].equity[0], pts[j].equity[1], pts[j].drawdown[0] };
        for (int k = 0; k < 3; k++) {
            got_lo[k] = fmin(got_lo[k], v[k]);
            got_hi[k] = fmax(got_hi[k], v[k]);
        }
    }
    for (int k = 0; k < 3; k++) {
        assert_true(got_lo[k] == want_lo[k]);
        assert_true(got_hi[k] == want_hi[k]);
    }
    hv_report_returns r;
    hv__report_series_returns(&rs, 0, &r);
    assert_true(got_hi[2] == r.max_drawdown);
    free(pts);
    hv__report_series_fini(&rs);
    free_series(&s);
}

/* Up to the bucket bound every point is kept; one more and the curve starts thinning. */
static void short_series_are_kept_whole(void **state)
{
    (void)state;
    series s;
    make_series(&s, 65, 3);
    hv__report_series rs;
    hv__rs_point pts[6 * 64 + 2];
    assert_int_equal(hv__report_series_init(&rs, 64), 0);
    s.n = 64;
    push_all(&rs, &s);
    assert_int_equal(hv__report_series_points(&rs, pts, 6 * 64 + 2), 64);
    for (size_t i = 0; i < 64; i++)
        assert_true(pts[i].t_ns == i * DAY_NS);
    double eq[2] = { s.eq[0][64], s.eq[1][64] };
    int ex[2] = { 0, 1 };
    hv__report_series_push(&rs, 64 * DAY_NS, s.day[64], eq, ex);
    size_t np = hv__report_series_points(&rs, pts, 6 * 64 + 2);
    assert_true(np <= 65 && pts[np - 1].t_ns == 64 * DAY_NS);
    /* cap smaller than the curve: the count is still the whole */
    assert_int_equal(hv__report_series_points(&rs, pts, 3), np);
    hv__report_series_fini(&rs);
    free_series(&s);
}

static void what_cannot_be_known_is_nan(void **state)
{
    (void)state;
    hv__report_series rs;
    hv_report_returns r;
    assert_int_equal(hv__report_series_init(&rs, 0), 0);
    hv__report_series_returns(&rs, 0, &r);
    assert_int_equal(r.periods, 0);
    assert_true(isnan(r.total_return) && isnan(r.sharpe) && isnan(r.max_drawdown));
    double eq[2] = { 100, 100 };
    int ex[2] = { 0, 0 };
    hv__report_series_push(&rs, 0, HV_REPORT_NO_DAY, eq, ex);
    hv__report_series_returns(&rs, 0, &r);
    assert_true(r.total_return == 0 && r.max_drawdown == 0 && isnan(r.volatility));
    /* a flat series: no volatility, no Sharpe, no win rate; without dates, 252 periods a year */
    for (int i = 1; i < 253; i++)
        hv__report_series_push(&rs, (uint64_t)i, HV_REPORT_NO_DAY, eq, ex);
    hv__report_series_returns(&rs, 0, &r);
    assert_int_equal(r.periods, 252);
    assert_near(r.years, 1.0);
    assert_true(r.volatility == 0 && isnan(r.sharpe) && isnan(r.sortino) && isnan(r.win_rate));
    assert_true(r.exposure == 0 && r.turnover == 0 && r.annual_return == 0);
    assert_int_equal(r.max_drawdown_recovery_day, HV_REPORT_NO_DAY);
    hv__report_series_fini(&rs);
}

static void bucket_bounds_are_checked(void **state)
{
    (void)state;
    hv__report_series rs;
    assert_int_equal(hv__report_series_init(&rs, 1), HV_EINVAL);
    assert_int_equal(hv__report_series_init(&rs, HV__RS_BUCKETS_MAX + 1), HV_EINVAL);
    assert_int_equal(hv__report_series_init(&rs, HV__RS_BUCKETS_MIN), 0);
    hv__report_series_fini(&rs);
    assert_int_equal(hv__report_series_init(&rs, HV__RS_BUCKETS_MAX), 0);
    hv__report_series_fini(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statistics_match_a_direct_computation),
        cmocka_unit_test(the_thinned_curve_keeps_every_extreme),
        cmocka_unit_test(short_series_are_kept_whole),
        cmocka_unit_test(what_cannot_be_known_is_nan),
        cmocka_unit_test(bucket_bounds_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "hv_test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/market.h>

#include "market/testdata.h"

static int weekday(int32_t day)
{
    return (int)((((int64_t)day + 4) % 7 + 7) % 7);
}

static void gen(const hv_gbm_params *p, uint64_t seed, size_t n, hv_series *s)
{
    hv_synth g;
    assert_int_equal(hv_synth_init(&g, p, seed), 0);
    hv_series_init(s);
    assert_int_equal(hv_synth_fill(&g, n, s), 0);
    assert_int_equal(s->len, n);
}

/* The defaults, as plain GBM: a drift for ever and no reversion, for the model's moments. */
static void plain_gbm(hv_gbm_params *p)
{
    hv_gbm_params_default(p);
    p->drift_bars = 0;
    p->revert_bars = 0;
}

static void same_seed_gives_the_same_bars(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    p.regimes = 1;
    hv_series a, b, c;
    gen(&p, 42, 500, &a);
    gen(&p, 42, 500, &b);
    gen(&p, 43, 500, &c);
    assert_memory_equal(a.bars, b.bars, 500 * sizeof(hv_bar));
    assert_true(memcmp(a.bars, c.bars, 500 * sizeof(hv_bar)) != 0);
    hv_series_fini(&a);
    hv_series_fini(&b);
    hv_series_fini(&c);
}

static void bars_are_consistent_weekdays_in_order(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    p.start_day = 10957; /* 2000-01-01, a Saturday: moves to Monday */
    hv_series s;
    gen(&p, 1, 2000, &s);
    assert_int_equal(s.bars[0].day, 10959);
    assert_true(s.bars[0].open == p.start_price);
    for (size_t i = 0; i < s.len; i++) {
        const hv_bar *b = &s.bars[i];
        assert_true(b->low > 0 && b->low <= fmin(b->open, b->close));
        assert_true(b->high >= fmax(b->open, b->close));
        assert_true(b->volume > 0 && isfinite(b->volume));
        assert_true(weekday(b->day) >= 1 && weekday(b->day) <= 5);
        if (i > 0) {
            assert_true(b->day > s.bars[i - 1].day);
            assert_true(b->open == s.bars[i - 1].close);
        }
    }
    hv_series_fini(&s);
}

static void log_returns_have_the_model_mean_and_volatility(void **state)
{
    (void)state;
    hv_gbm_params p;
    plain_gbm(&p);
    p.mu = 0.001;
    p.sigma = 0.02;
    enum { N = 100000 };
    hv_series s;
    gen(&p, 7, N, &s);
    static double r[N];
    assert_int_equal(hv_series_log_returns(&s, 0, r, N), N - 1);
    double m = 0, m2 = 0;
    for (int i = 0; i < N - 1; i++)
        m += r[i];
    m /= N - 1;
    for (int i = 0; i < N - 1; i++)
        m2 += (r[i] - m) * (r[i] - m);
    double sd = sqrt(m2 / (N - 2));
    /* Standard error of the mean is 0.02 / sqrt(1e5) = 6.3e-5: allow 5 of them. */
    assert_true(fabs(m - (p.mu - p.sigma * p.sigma / 2)) < 3.2e-4);
    assert_true(fabs(sd - p.sigma) < 0.02 * 0.02);
    hv_series_fini(&s);
}

static void fit_recovers_the_parameters_of_a_generated_series(void **state)
{
    (void)state;
    hv_gbm_params p, f;
    plain_gbm(&p);
    p.mu = 0.0005;
    p.sigma = 0.015;
    hv_series s;
    gen(&p, 11, 50000, &s);
    assert_int_equal(hv_gbm_fit(&s, &f), 0);
    assert_true(fabs(f.sigma - p.sigma) < 0.0005);
    assert_true(fabs(f.mu - p.mu) < 5 * 0.015 / sqrt(50000.0));
    assert_true(fabs(f.log_volume_mean - p.log_volume_mean) < 0.01);
    assert_true(f.start_day == s.bars[0].day && f.start_price == s.bars[0].open);
    assert_true(f.regime_sigma[1] > f.regime_sigma[0]);
    hv_series_fini(&s);
}

static void regimes_switch_at_the_configured_rates(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    p.regimes = 1;
    p.p_leave[0] = 0.01;
    p.p_leave[1] = 0.04;
    hv_synth g;
    assert_int_equal(hv_synth_init(&g, &p, 5), 0);
    enum { N = 400000 };
    uint64_t in_hi = 0;
    for (int i = 0; i < N; i++) {
        hv_bar b;
        in_hi += g.regime == 1;
        hv_synth_next(&g, &b);
    }
    /* Stationary share of regime 1: p0 / (p0 + p1) = 0.2. Switches: 2 * N * p0 * p1 / (p0+p1). */
    double share = (double)in_hi / N;
    assert_true(fabs(share - 0.2) < 0.03);
    double want = 2.0 * N * 0.01 * 0.04 / 0.05;
    assert_true(fabs((double)g.switches - want) < 0.1 * want);
}

static void fit_recovers_known_volatility_regimes(void **state)
{
    (void)state;
    hv_gbm_params p, f;
    hv_gbm_params_default(&p);
    p.mu = 0.0003;
    p.regimes = 1;
    p.regime_sigma[0] = 0.006;
    p.regime_sigma[1] = 0.02;
    p.p_leave[0] = 0.01;
    p.p_leave[1] = 0.03;
    hv_series s;
    gen(&p, 21, 30000, &s);
    assert_int_equal(hv_gbm_fit(&s, &f), 0);
    printf("regime fit: sigma %.5f/%.5f p_leave %.4f/%.4f\n", f.regime_sigma[0], f.regime_sigma[1],
           f.p_leave[0], f.p_leave[1]);
    assert_true(fabs(f.regime_sigma[0] / 0.006 - 1) < 0.05);
    assert_true(fabs(f.regime_sigma[1] / 0.02 - 1) < 0.05);
    assert_true(fabs(f.p_leave[0] / 0.01 - 1) < 0.3);
    assert_true(fabs(f.p_leave[1] / 0.03 - 1) < 0.3);
    assert_int_equal(f.regimes, 0); /* the caller opts in */
    hv_series_fini(&s);
}

static void fit_needs_enough_bars_and_positive_prices(void **state)
{
    (void)state;
    hv_gbm_params p, f;
    hv_gbm_params_default(&p);
    hv_series s;
    gen(&p, 1, HV_GBM_FIT_MIN_BARS - 1, &s);
    assert_int_equal(hv_gbm_fit(&s, &f), HV_ETOOFEWOBS);
    hv_synth g;
    assert_int_equal(hv_synth_init(&g, &p, 1), 0);
    hv_synth_fill(&g, 10, &s);
    s.bars[5].close = 0;
    assert_int_equal(hv_gbm_fit(&s, &f), HV_EINVAL);
    hv_series_fini(&s);
}

static void init_rejects_bad_parameters(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_synth g;
    hv_gbm_params_default(&p);
    p.sigma = -1;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_params_default(&p);
    p.start_price = 0;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_params_default(&p);
    p.substeps = 0;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_params_default(&p);
    p.p_leave[1] = 1.5;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_params_default(&p);
    p.mu = NAN;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
}

static void extreme_parameters_keep_prices_finite(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    p.sigma = 5;
    hv_series s;
    gen(&p, 3, 5000, &s);
    for (size_t i = 0; i < s.len; i++)
        assert_true(isfinite(s.bars[i].close) && s.bars[i].close > 0);
    hv_series_fini(&s);
}

/* With the defaults the trend grows for drift_bars bars and then stays flat, and the log price
 * reverts to it: over 400,000 bars (1,600 years) every close stays within a factor e^2.5 of the
 * trend's final level (7 standard deviations of the stationary deviation), while the day-to-day
 * volatility is the model's. */
static void long_runs_stay_in_a_band_around_the_trend(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    enum { N = 400000 };
    hv_series s;
    gen(&p, 5, N, &s);
    double d = p.mu - p.sigma * p.sigma / 2;
    double level = log(p.start_price) + d * p.drift_bars;
    double worst = 0, m = 0, m2 = 0;
    for (size_t i = 1; i < s.len; i++) {
        double r = log(s.bars[i].close / s.bars[i - 1].close);
        m += r;
        m2 += r * r;
        if (i > 2 * p.drift_bars)
            worst = fmax(worst, fabs(log(s.bars[i].close) - level));
    }
    double n = (double)(s.len - 1), sd = sqrt(m2 / n - (m / n) * (m / n));
    printf("band: worst log deviation %.3f after the trend stopped; daily sd %.5f (sigma %.5f)\n",
           worst, sd, p.sigma);
    assert_true(worst < 2.5);
    assert_true(fabs(sd / p.sigma - 1) < 0.02);
    /* Over the whole run the price went nowhere near the plain model's e^(d N). */
    assert_true(fabs(log(s.bars[N - 1].close) - level) < 2.5);
    hv_series_fini(&s);
}

/* A deviation from the trend halves every revert_bars bars: start 1.0 (in log) above it with
 * no noise and no drift. */
static void the_deviation_halves_every_revert_bars(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    p.sigma = 0;
    p.mu = 0;
    p.revert_bars = 100;
    hv_synth g;
    assert_int_equal(hv_synth_init(&g, &p, 1), 0);
    g.trend -= 1.0; /* the price starts e^1 above the trend */
    hv_bar b;
    for (int i = 0; i < 100; i++)
        assert_int_equal(hv_synth_next(&g, &b), 0);
    assert_true(fabs(log(b.close) - g.trend - 0.5) < 1e-9);
    for (int i = 0; i < 100; i++)
        assert_int_equal(hv_synth_next(&g, &b), 0);
    assert_true(fabs(log(b.close) - g.trend - 0.25) < 1e-9);
}

/* Dates never pass 9999-12-31: the generator says how many bars are left, fill refuses more
 * (appending nothing) and next refuses past the end. */
static void dates_end_at_9999_12_31(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    assert_int_equal(hv_date_to_day(9999, 12, 20, &p.start_day), 0); /* a Monday */
    hv_synth g;
    assert_int_equal(hv_synth_init(&g, &p, 1), 0);
    assert_int_equal(hv_synth_bars_left(&g), 10); /* 20-24 and 27-31 December */
    hv_series s;
    hv_series_init(&s);
    assert_int_equal(hv_synth_fill(&g, 11, &s), HV_ERANGE);
    assert_int_equal(s.len, 0);
    assert_int_equal(hv_synth_fill(&g, 10, &s), 0);
    assert_int_equal(s.bars[9].day, HV_DAY_MAX);
    assert_int_equal(hv_synth_bars_left(&g), 0);
    hv_bar b;
    assert_int_equal(hv_synth_next(&g, &b), HV_ERANGE);
    hv_series_fini(&s);
    /* From the default start (2000-01-03) the weekdays to the end of 9999. */
    hv_gbm_params_default(&p);
    assert_int_equal(hv_synth_init(&g, &p, 1), 0);
    assert_int_equal(hv_synth_bars_left(&g), 2087100);
}

static void params_check_names_the_bad_field(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_field_error e;
    hv_gbm_params_default(&p);
    assert_int_equal(hv_gbm_params_check(&p, &e), 0);
    p.start_price = 0;
    assert_int_equal(hv_gbm_params_check(&p, &e), HV_EINVAL);
    assert_string_equal(e.field, "start_price");
    hv_gbm_params_default(&p);
    p.start_day = HV_DAY_MAX + 1;
    assert_int_equal(hv_gbm_params_check(&p, &e), HV_EINVAL);
    assert_string_equal(e.field, "start_day");
    p.start_day = HV_DAY_MIN;
    assert_int_equal(hv_gbm_params_check(&p, &e), 0);
    p.start_day = HV_DAY_MIN - 1;
    assert_int_equal(hv_gbm_params_check(&p, &e), HV_EINVAL);
    hv_gbm_params_default(&p);
    p.substeps = HV_SYNTH_SUBSTEPS_MAX + 1;
    assert_int_equal(hv_gbm_params_check(&p, &e), HV_EINVAL);
    assert_string_equal(e.field, "substeps");
    hv_gbm_params_default(&p);
    p.p_leave[1] = 1.5;
    assert_int_equal(hv_gbm_params_check(&p, NULL), HV_EINVAL);
}

static void fit_on_the_real_sp500_gives_plausible_parameters(void **state)
{
    (void)state;
    char path[1024];
    hv_test_data_file("sp500-2000.csv", path, sizeof(path));
    hv_series s;
    hv_series_init(&s);
    assert_int_equal(hv_csv_load_bars(path, NULL, &s, NULL), 0);
    hv_gbm_params f;
    assert_int_equal(hv_gbm_fit(&s, &f), 0);
    double vol_y = f.sigma * sqrt(HV_TRADING_DAYS_YEAR);
    printf("sp500 fit: mu %.6f/day sigma %.6f/day (%.1f%%/yr) regimes %.5f/%.5f "
           "p_leave %.4f/%.4f\n",
           f.mu, f.sigma, 100 * vol_y, f.regime_sigma[0], f.regime_sigma[1], f.p_leave[0],
           f.p_leave[1]);
    assert_true(vol_y > 0.12 && vol_y < 0.30);
    assert_true(fabs(f.mu * HV_TRADING_DAYS_YEAR) < 0.15);
    assert_true(f.regime_sigma[1] > 1.5 * f.regime_sigma[0]);
    assert_true(f.p_leave[0] > 0 && f.p_leave[0] < 0.1);
    assert_true(f.p_leave[1] > 0 && f.p_leave[1] < 0.2);
    hv_series_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_gives_the_same_bars),
        cmocka_unit_test(bars_are_consistent_weekdays_in_order),
        cmocka_unit_test(log_returns_have_the_model_mean_and_volatility),
        cmocka_unit_test(fit_recovers_the_parameters_of_a_generated_series),
        cmocka_unit_test(regimes_switch_at_the_configured_rates),
        cmocka_unit_test(fit_recovers_known_volatility_regimes),
        cmocka_unit_test(fit_needs_enough_bars_and_positive_prices),
        cmocka_unit_test(init_rejects_bad_parameters),
        cmocka_unit_test(extreme_parameters_keep_prices_finite),
        cmocka_unit_test(long_runs_stay_in_a_band_around_the_trend),
        cmocka_unit_test(the_deviation_halves_every_revert_bars),
        cmocka_unit_test(dates_end_at_9999_12_31),
        cmocka_unit_test(params_check_names_the_bad_field),
        cmocka_unit_test(fit_on_the_real_sp500_gives_plausible_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

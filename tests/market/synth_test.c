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

static void same_seed_gives_the_same_bars(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
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
    hv_gbm_defaults(&p);
    p.sigma = -1;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_defaults(&p);
    p.start_price = 0;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_defaults(&p);
    p.substeps = 0;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_defaults(&p);
    p.p_leave[1] = 1.5;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
    hv_gbm_defaults(&p);
    p.mu = NAN;
    assert_int_equal(hv_synth_init(&g, &p, 1), HV_EINVAL);
}

static void extreme_parameters_keep_prices_finite(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_defaults(&p);
    p.sigma = 5;
    hv_series s;
    gen(&p, 3, 5000, &s);
    for (size_t i = 0; i < s.len; i++)
        assert_true(isfinite(s.bars[i].close) && s.bars[i].close > 0);
    hv_series_fini(&s);
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
        cmocka_unit_test(fit_on_the_real_sp500_gives_plausible_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

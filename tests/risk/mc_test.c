#include "hv_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>
#include <hivewire/risk.h>
#include <hivewire/rng.h>

#include "market/testdata.h"

static void close_rel(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol * fmax(fabs(a), fabs(b)))) {
        print_error("%.17g != %.17g (tol %g)\n", a, b, tol);
        fail();
    }
}

static void cholesky_of_a_known_matrix(void **state)
{
    (void)state;
    const double a[9] = { 4, 12, -16, 12, 37, -43, -16, -43, 98 };
    const double want[9] = { 2, 0, 0, 6, 1, 0, -8, 5, 3 };
    double l[9];
    assert_int_equal(hv_cholesky(a, 3, l), 0);
    for (int i = 0; i < 9; i++)
        assert_true(fabs(l[i] - want[i]) < 1e-14);
}

static void cholesky_reconstructs_random_covariances(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 21);
    enum { NMAX = 24 };
    double b[NMAX * NMAX], a[NMAX * NMAX], l[NMAX * NMAX];
    for (size_t n = 1; n <= NMAX; n++) {
        for (size_t i = 0; i < n * n; i++)
            b[i] = hv_rng_normal(&rng);
        /* a = b b^T + 0.1 I is symmetric positive definite. */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                double s = i == j ? 0.1 : 0;
                for (size_t k = 0; k < n; k++)
                    s += b[i * n + k] * b[j * n + k];
                a[i * n + j] = s;
            }
        assert_int_equal(hv_cholesky(a, n, l), 0);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                if (j > i)
                    assert_true(l[i * n + j] == 0);
                double s = 0;
                for (size_t k = 0; k < n; k++)
                    s += l[i * n + k] * l[j * n + k];
                assert_true(fabs(s - a[i * n + j]) <= 1e-12 * (fabs(a[i * n + i]) + 1));
            }
    }
}

static void cholesky_rejects_matrices_that_are_not_positive_definite(void **state)
{
    (void)state;
    double l[9];
    const double indefinite[4] = { 1, 2, 2, 1 };
    const double singular[4] = { 1, 1, 1, 1 };
    const double negative[1] = { -1 };
    const double zero[4] = { 0, 0, 0, 0 };
    const double bad[4] = { 1, 0, NAN, 1 };
    assert_int_equal(hv_cholesky(indefinite, 2, l), HV_ENOTPOSDEF);
    assert_int_equal(hv_cholesky(singular, 2, l), HV_ENOTPOSDEF);
    assert_int_equal(hv_cholesky(negative, 1, l), HV_ENOTPOSDEF);
    assert_int_equal(hv_cholesky(zero, 2, l), HV_ENOTPOSDEF);
    assert_int_equal(hv_cholesky(bad, 2, l), HV_EINVAL);
    assert_int_equal(hv_cholesky(indefinite, 0, l), HV_EINVAL);
}

static void covariance_matches_hand_computed_values(void **state)
{
    (void)state;
    /* Two assets, three observations. */
    const double x[6] = { 1, 2, 2, 4, 3, 9 };
    double m[2], c[4];
    assert_int_equal(hv_covariance(x, 3, 2, m, c), 0);
    assert_true(m[0] == 2 && m[1] == 5);
    assert_true(fabs(c[0] - 1) < 1e-15 && fabs(c[3] - 13) < 1e-15);
    assert_true(fabs(c[1] - 3.5) < 1e-15 && c[1] == c[2]);
    assert_int_equal(hv_covariance(x, 1, 2, m, c), HV_ETOOFEWOBS);
}

static void montecarlo_converges_to_the_gaussian_for_one_asset(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 5);
    double r[1000];
    for (int i = 0; i < 1000; i++)
        r[i] = 0.0003 + 0.012 * hv_rng_normal(&rng);
    enum { SIMS = 400000 };
    double *s = malloc(SIMS * sizeof(double));
    hv_var_es mc, g;
    hv_rng_seed(&rng, 6);
    assert_int_equal(hv_var_montecarlo(r, 1000, 0.99, &rng, SIMS, s, &mc), 0);
    assert_int_equal(hv_var_gaussian(r, 1000, 0.99, &g), 0);
    close_rel(mc.var, g.var, 0.01);
    close_rel(mc.es, g.es, 0.015);
    free(s);
}

static void montecarlo_is_deterministic_for_a_seed(void **state)
{
    (void)state;
    double r[50], s[5000];
    for (int i = 0; i < 50; i++)
        r[i] = 0.001 * ((i * 37) % 23 - 11);
    hv_var_es a, b, c;
    hv_rng g1, g2, g3;
    hv_rng_seed(&g1, 77);
    hv_rng_seed(&g2, 77);
    hv_rng_seed(&g3, 78);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.95, &g1, 5000, s, &a), 0);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.95, &g2, 5000, s, &b), 0);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.95, &g3, 5000, s, &c), 0);
    assert_true(a.var == b.var && a.es == b.es);
    assert_true(a.var != c.var);
}

static void montecarlo_needs_a_draw_in_the_tail(void **state)
{
    (void)state;
    double r[50], s[200];
    for (int i = 0; i < 50; i++)
        r[i] = 0.001 * ((i * 37) % 23 - 11);
    hv_var_es o;
    hv_rng g;
    hv_rng_seed(&g, 3);
    /* 99 draws at q = 0.99 put no draw beyond the quantile; 100 put one. */
    assert_int_equal(hv_var_montecarlo(r, 50, 0.99, &g, 99, s, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.99, &g, 100, s, &o), 0);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.95, &g, 19, s, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_montecarlo(r, 50, 0.95, &g, 20, s, &o), 0);
    double w[1] = { 1 }, mean[1] = { 0 }, l[1] = { 0.01 };
    assert_int_equal(hv_var_montecarlo_portfolio(w, mean, l, 1, 0.99, &g, 99, s, &o),
                     HV_ETOOFEWOBS);
    assert_int_equal(hv_var_montecarlo_portfolio(w, mean, l, 1, 0.99, &g, 100, s, &o), 0);
}

static void portfolio_montecarlo_converges_to_the_gaussian(void **state)
{
    (void)state;
    const double cov[9] = { 4e-4, 1.2e-4, -0.5e-4, 1.2e-4, 2.5e-4, 0.3e-4, -0.5e-4, 0.3e-4, 1e-4 };
    const double mean[3] = { 0.0004, 0.0002, 0.0001 };
    const double w[3] = { 0.5, 0.3, 0.2 };
    double l[9];
    assert_int_equal(hv_cholesky(cov, 3, l), 0);
    enum { SIMS = 400000 };
    double *s = malloc((SIMS + 3) * sizeof(double));
    hv_rng rng;
    hv_rng_seed(&rng, 9);
    hv_var_es mc, g;
    assert_int_equal(hv_var_montecarlo_portfolio(w, mean, l, 3, 0.99, &rng, SIMS, s, &mc), 0);
    assert_int_equal(hv_var_gaussian_portfolio(w, mean, l, 3, 0.99, &g), 0);
    /* Closed form: s^2 = w^T cov w. */
    double s2 = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            s2 += w[i] * cov[i * 3 + j] * w[j];
    double m = 0.5 * 0.0004 + 0.3 * 0.0002 + 0.2 * 0.0001;
    close_rel(g.var, -m + sqrt(s2) * 2.3263478740408408, 1e-12);
    close_rel(mc.var, g.var, 0.01);
    close_rel(mc.es, g.es, 0.015);
    free(s);
}

/* The five monthly series of stocks.csv over their common months: a real covariance that must
 * factor, and a portfolio whose Monte Carlo VaR agrees with its Gaussian VaR. */
static void real_stocks_covariance_factors_and_montecarlo_agrees(void **state)
{
    (void)state;
    char path[1024];
    hv_test_data_file("stocks.csv", path, sizeof(path));
    static const char *syms[5] = { "MSFT", "AMZN", "IBM", "GOOG", "AAPL" };
    enum { M = 60 };
    double x[M * 5];
    int32_t last_day = 0;
    for (int j = 0; j < 5; j++) {
        hv_series s;
        hv_series_init(&s);
        hv_csv_opts o = { .size = sizeof(o), .symbol = syms[j] };
        assert_int_equal(hv_csv_load_bars(path, &o, &s, NULL), 0);
        assert_true(s.len > M);
        if (j == 0)
            last_day = s.bars[s.len - 1].day;
        assert_int_equal(s.bars[s.len - 1].day, last_day);
        for (int i = 0; i < M; i++) {
            size_t b = s.len - M - 1 + (size_t)i;
            x[i * 5 + j] = log(s.bars[b + 1].close / s.bars[b].close);
        }
        hv_series_fini(&s);
    }
    double mean[5], cov[25], l[25];
    assert_int_equal(hv_covariance(x, M, 5, mean, cov), 0);
    assert_int_equal(hv_cholesky(cov, 5, l), 0);
    const double w[5] = { 0.2, 0.2, 0.2, 0.2, 0.2 };
    enum { SIMS = 200000 };
    double *s = malloc((SIMS + 5) * sizeof(double));
    hv_rng rng;
    hv_rng_seed(&rng, 12);
    hv_var_es mc, g;
    assert_int_equal(hv_var_montecarlo_portfolio(w, mean, l, 5, 0.95, &rng, SIMS, s, &mc), 0);
    assert_int_equal(hv_var_gaussian_portfolio(w, mean, l, 5, 0.95, &g), 0);
    close_rel(mc.var, g.var, 0.02);
    close_rel(mc.es, g.es, 0.02);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cholesky_of_a_known_matrix),
        cmocka_unit_test(cholesky_reconstructs_random_covariances),
        cmocka_unit_test(cholesky_rejects_matrices_that_are_not_positive_definite),
        cmocka_unit_test(covariance_matches_hand_computed_values),
        cmocka_unit_test(montecarlo_converges_to_the_gaussian_for_one_asset),
        cmocka_unit_test(montecarlo_is_deterministic_for_a_seed),
        cmocka_unit_test(montecarlo_needs_a_draw_in_the_tail),
        cmocka_unit_test(portfolio_montecarlo_converges_to_the_gaussian),
        cmocka_unit_test(real_stocks_covariance_factors_and_montecarlo_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "hv_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>
#include <hivewire/risk.h>
#include <hivewire/rng.h>

#include "market/testdata.h"
#include "risk/risk_int.h"

static void close_to(double a, double b, double rel)
{
    double tol = rel * fmax(fabs(a), fabs(b)) + 1e-15;
    if (!(fabs(a - b) <= tol)) {
        print_error("%.17g != %.17g (rel %g)\n", a, b, rel);
        fail();
    }
}

/* Feeds r[0..n) through a rolling window and compares every step with the static functions
 * applied to the same window. */
static void check_rolling(const double *r, size_t n, size_t window, double q)
{
    hv_var_roll roll;
    assert_int_equal(hv_var_roll_init(&roll, window, q), 0);
    double *win = malloc(window * sizeof(double)), *scratch = malloc(window * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hv_var_roll_push(&roll, r[i]), 0);
        size_t len = i + 1 < window ? i + 1 : window;
        memcpy(win, r + i + 1 - len, len * sizeof(double));
        hv_var_es a, b;
        /* The historical tail needs len (1 - q) >= 1; both refuse a smaller window alike. */
        int want = hv__var_tail_ok(len, q) ? 0 : HV_ETOOFEWOBS;
        assert_int_equal(hv_var_roll_historical(&roll, &a), want);
        assert_int_equal(hv_var_historical(win, len, q, scratch, &b), want);
        if (want == 0) {
            assert_true(a.var == b.var);
            close_to(a.es, b.es, 1e-12);
        }
        int ra = hv_var_roll_gaussian(&roll, &a), rb = hv_var_gaussian(win, len, q, &b);
        assert_int_equal(ra, rb);
        if (ra == 0) {
            close_to(a.var, b.var, 1e-9);
            close_to(a.es, b.es, 1e-9);
        }
        ra = hv_var_roll_cornish_fisher(&roll, &a);
        rb = hv_var_cornish_fisher(win, len, q, &b);
        assert_int_equal(ra, rb);
        if (ra == 0) {
            close_to(a.var, b.var, 1e-8);
            close_to(a.es, b.es, 1e-8);
        }
    }
    free(win);
    free(scratch);
    hv_var_roll_fini(&roll);
}

static void rolling_equals_recomputed_from_scratch_at_every_step(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double r[N];
    hv_rng rng;
    hv_rng_seed(&rng, 31);
    for (int i = 0; i < N; i++) {
        double vol = (i / 500) % 2 ? 0.03 : 0.008; /* calm and turbulent stretches */
        r[i] = 0.0002 + vol * hv_rng_normal(&rng);
    }
    static const size_t windows[] = { 1, 2, 5, 64, 250 };
    static const double qs[] = { 0.5, 0.95, 0.99, 0.999 };
    for (size_t w = 0; w < 5; w++)
        for (size_t j = 0; j < 4; j++)
            check_rolling(r, N, windows[w], qs[j]);
}

static void rolling_handles_ties_and_constant_stretches(void **state)
{
    (void)state;
    enum { N = 2000 };
    static double r[N];
    hv_rng rng;
    hv_rng_seed(&rng, 32);
    for (int i = 0; i < N; i++)
        r[i] = (i / 300) % 3 == 1 ? 0.001 : round(100 * 0.01 * hv_rng_normal(&rng)) / 100;
    check_rolling(r, N, 100, 0.95);
    check_rolling(r, N, 37, 0.9);
}

static void rolling_on_the_real_sp500_returns(void **state)
{
    (void)state;
    char path[1024];
    hv_test_data_file("sp500-2000.csv", path, sizeof(path));
    hv_column c;
    hv_column_init(&c);
    assert_int_equal(hv_csv_load_column(path, "close", NULL, &c, NULL), 0);
    assert_int_equal(hv_log_returns(c.v, c.len, c.v), 5104);
    check_rolling(c.v, 5104, 250, 0.99);
    check_rolling(c.v, 5104, 500, 0.975);
    hv_column_fini(&c);
}

static void empty_window_and_bad_values_are_refused(void **state)
{
    (void)state;
    hv_var_roll roll;
    hv_var_es o;
    assert_int_equal(hv_var_roll_init(&roll, 0, 0.99), HV_EINVAL);
    assert_int_equal(hv_var_roll_init(&roll, 10, 1.0), HV_EBADCONF);
    assert_int_equal(hv_var_roll_init(&roll, 10, 0.99), 0);
    assert_int_equal(hv_var_roll_historical(&roll, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_roll_push(&roll, NAN), HV_EINVAL);
    assert_int_equal(hv_var_roll_push(&roll, INFINITY), HV_EINVAL);
    assert_int_equal(roll.n, 0);
    assert_int_equal(hv_var_roll_push(&roll, 0.01), 0);
    /* One return at 99%: no observation in the tail (a 10-return window never has one). */
    assert_int_equal(hv_var_roll_historical(&roll, &o), HV_ETOOFEWOBS);
    hv_var_roll half;
    assert_int_equal(hv_var_roll_init(&half, 4, 0.5), 0);
    assert_int_equal(hv_var_roll_push(&half, 0.01), 0);
    assert_int_equal(hv_var_roll_historical(&half, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_roll_push(&half, 0.02), 0);
    assert_int_equal(hv_var_roll_historical(&half, &o), 0);
    assert_true(o.var == -0.01);
    hv_var_roll_fini(&half);
    assert_int_equal(hv_var_roll_gaussian(&roll, &o), HV_ETOOFEWOBS);
    for (int i = 0; i < 3; i++)
        hv_var_roll_push(&roll, 0.01 * i);
    assert_int_equal(hv_var_roll_cornish_fisher(&roll, &o), 0);
    hv_var_roll_reset(&roll);
    assert_int_equal(roll.n, 0);
    assert_int_equal(hv_var_roll_historical(&roll, &o), HV_ETOOFEWOBS);
    hv_var_roll_fini(&roll);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rolling_equals_recomputed_from_scratch_at_every_step),
        cmocka_unit_test(rolling_handles_ties_and_constant_stretches),
        cmocka_unit_test(rolling_on_the_real_sp500_returns),
        cmocka_unit_test(empty_window_and_bad_values_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

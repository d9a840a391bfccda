#include "hv_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/risk.h>
#include <hivewire/rng.h>

#include "risk/risk_int.h"

static void close_rel(double a, double b, double tol)
{
    double scale = fmax(fabs(a), fabs(b));
    if (!(fabs(a - b) <= tol * fmax(scale, 1e-300))) {
        print_error("%.17g != %.17g (tol %g)\n", a, b, tol);
        fail();
    }
}

static void normal_quantile_matches_published_values(void **state)
{
    (void)state;
    close_rel(hv_norm_quantile(0.95), 1.6448536269514722, 1e-14);
    close_rel(hv_norm_quantile(0.975), 1.959963984540054, 1e-14);
    close_rel(hv_norm_quantile(0.99), 2.3263478740408408, 1e-14);
    close_rel(hv_norm_quantile(0.999), 3.090232306167813, 1e-14);
    close_rel(hv_norm_quantile(0.01), -2.3263478740408408, 1e-14);
    close_rel(hv_norm_quantile(1e-10), -6.361340902404056, 1e-13);
    assert_true(fabs(hv_norm_quantile(0.5)) < 1e-16);
    assert_true(isnan(hv_norm_quantile(0)) && isnan(hv_norm_quantile(1)));
    assert_true(isnan(hv_norm_quantile(NAN)));
}

static void normal_quantile_inverts_the_cdf(void **state)
{
    (void)state;
    for (double lp = -12; lp <= -0.31; lp += 0.01) {
        double p = pow(10, lp);
        close_rel(hv_norm_cdf(hv_norm_quantile(p)), p, 1e-12);
        if (p < 1e-6)
            continue; /* 1 - p itself is rounded by more than the tolerance */
        double z = hv_norm_quantile(1 - p);
        close_rel(0.5 * erfc(z / M_SQRT2), p, 1e-9);
    }
}

static void historical_matches_hand_computed_values(void **state)
{
    (void)state;
    /* Losses 5, 4, 3, 2, 1, -1 ... (%): with n = 10 and q = 0.8, k = ceil(10 * 0.2) = 2. */
    double r[10] = { -0.01, 0.02, -0.05, 0.03, -0.03, 0.01, -0.04, 0.04, -0.02, 0.05 };
    double scratch[10];
    hv_var_es o;
    assert_int_equal(hv_var_historical(r, 10, 0.8, scratch, &o), 0);
    close_rel(o.var, 0.04, 1e-15);
    close_rel(o.es, 0.045, 1e-15);
    /* q = 0.9: k = 1. */
    assert_int_equal(hv_var_historical(r, 10, 0.9, scratch, &o), 0);
    close_rel(o.var, 0.05, 1e-15);
    close_rel(o.es, 0.05, 1e-15);
    /* 100 * (1 - 0.99) is 1.0000000000000009 in binary: still k = 1, the worst loss. */
    assert_int_equal(hv__var_tail_k(100, 0.99), 1);
    assert_int_equal(hv__var_tail_k(20, 0.95), 1);
    assert_int_equal(hv__var_tail_k(250, 0.99), 3);
    assert_int_equal(hv__var_tail_k(250, 0.95), 13);
    assert_int_equal(hv__var_tail_k(5, 0.01), 5);
    /* q = 0.5: k = 5, losses 5,4,3,2,1. */
    assert_int_equal(hv_var_historical(r, 10, 0.5, scratch, &o), 0);
    close_rel(o.var, 0.01, 1e-15);
    close_rel(o.es, 0.03, 1e-15);
    /* A tail that is all gains gives a negative VaR: n = 2, q = 0.5, k = 1. */
    double g[2] = { 0.02, 0.03 };
    assert_int_equal(hv_var_historical(g, 2, 0.5, scratch, &o), 0);
    assert_true(o.var == -0.02 && o.es == -0.02);
}

static void historical_refuses_a_tail_with_no_observation(void **state)
{
    (void)state;
    double r[1000], scratch[1000];
    hv_var_es o;
    for (int i = 0; i < 1000; i++)
        r[i] = 0.001 * (i % 17) - 0.008;
    /* One return at 99%: n (1 - q) = 0.01 < 1, the quantile lies beyond the sample. */
    assert_int_equal(hv_var_historical(r, 1, 0.99, scratch, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_historical(r, 99, 0.99, scratch, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_historical(r, 19, 0.95, scratch, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_historical(r, 999, 0.999, scratch, &o), HV_ETOOFEWOBS);
    /* Exactly one observation in the tail, despite 100 * (1 - 0.99) being inexact in binary. */
    assert_int_equal(hv_var_historical(r, 100, 0.99, scratch, &o), 0);
    assert_int_equal(hv_var_historical(r, 20, 0.95, scratch, &o), 0);
    assert_int_equal(hv_var_historical(r, 1000, 0.999, scratch, &o), 0);
    assert_int_equal(hv_var_historical(r, 2, 0.5, scratch, &o), 0);
    assert_int_equal(hv_var_historical(r, 1, 0.5, scratch, &o), HV_ETOOFEWOBS);
    assert_true(hv__var_tail_ok(100, 0.99) && !hv__var_tail_ok(99, 0.99));
    assert_true(hv__var_tail_ok(3, 1.0 - 1.0 / 3.0) && !hv__var_tail_ok(2, 1.0 - 1.0 / 3.0));
    hv_var_opts op = { .size = sizeof(op), .method = HV_VAR_HISTORICAL, .confidence = 0.99 };
    assert_int_equal(hv_var_estimate(r, 50, &op, scratch, 1000, &o), HV_ETOOFEWOBS);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reference: full sort. */
static void sorted_reference(const double *r, size_t n, double q, hv_var_es *o)
{
    double *s = malloc(n * sizeof(double));
    memcpy(s, r, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    size_t k = hv__var_tail_k(n, q);
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += s[i];
    o->var = -s[k - 1];
    o->es = -sum / (double)k;
    free(s);
}

static void check_against_sort(const double *r, size_t n, double q)
{
    double *scratch = malloc(n * sizeof(double));
    hv_var_es a, b, c;
    if (!hv__var_tail_ok(n, q)) {
        assert_int_equal(hv_var_historical(r, n, q, scratch, &a), HV_ETOOFEWOBS);
        free(scratch);
        return;
    }
    assert_int_equal(hv_var_historical(r, n, q, scratch, &a), 0);
    sorted_reference(r, n, q, &b);
    memcpy(scratch, r, n * sizeof(double));
    hv__var_historical_select(scratch, n, q, &c);
    assert_true(a.var == b.var && c.var == b.var);
    /* Sums of mixed signs cancel: compare with an absolute floor. */
    assert_true(fabs(a.es - b.es) <= 1e-12 * fabs(b.es) + 1e-15);
    assert_true(fabs(c.es - b.es) <= 1e-12 * fabs(b.es) + 1e-15);
    free(scratch);
}

static void scan_and_quickselect_agree_with_a_full_sort(void **state)
{
    (void)state;
    static const double qs[] = { 0.01, 0.5, 0.9, 0.95, 0.975, 0.99, 0.999 };
    hv_rng rng;
    hv_rng_seed(&rng, 99);
    double *r = malloc(3000 * sizeof(double));
    for (int iter = 0; iter < 300; iter++) {
        size_t n = 1 + hv_rng_below(&rng, 3000);
        int dup = iter % 3 == 0;
        for (size_t i = 0; i < n; i++) {
            double x = 0.01 * hv_rng_normal(&rng);
            r[i] = dup ? round(x * 1000) / 1000 : x;
        }
        for (size_t j = 0; j < sizeof(qs) / sizeof(qs[0]); j++)
            check_against_sort(r, n, qs[j]);
    }
    free(r);
}

static void quickselect_survives_adversarial_orders(void **state)
{
    (void)state;
    enum { N = 5000 };
    static double r[N];
    for (int shape = 0; shape < 5; shape++) {
        for (int i = 0; i < N; i++) {
            switch (shape) {
            case 0:
                r[i] = i;
                break;
            case 1:
                r[i] = N - i;
                break;
            case 2:
                r[i] = 7;
                break;
            case 3:
                r[i] = i < N / 2 ? i : N - i;
                break;
            default:
                r[i] = (i % 2) ? i : -i;
                break;
            }
        }
        check_against_sort(r, N, 0.9);
        check_against_sort(r, N, 0.5);
        check_against_sort(r, N, 0.999);
    }
}

static void gaussian_matches_the_closed_form(void **state)
{
    (void)state;
    hv_var_es o;
    /* N(0, s): VaR = s z_q, ES = s phi(z_q) / (1 - q). */
    assert_int_equal(hv_var_gaussian_params(0, 0.02, 0.99, &o), 0);
    close_rel(o.var, 0.02 * 2.3263478740408408, 1e-14);
    close_rel(o.es, 0.02 * 0.026652142203458 / 0.01, 1e-12);
    assert_int_equal(hv_var_gaussian_params(0.001, 0.01, 0.95, &o), 0);
    close_rel(o.var, -0.001 + 0.01 * 1.6448536269514722, 1e-14);
    /* From data: the sample mean and (n - 1) stdev. */
    double r[4] = { -0.02, 0.0, 0.01, 0.03 };
    double m = 0.005,
           sd = sqrt((0.025 * 0.025 + 0.005 * 0.005 + 0.005 * 0.005 + 0.025 * 0.025) / 3);
    assert_int_equal(hv_var_gaussian(r, 4, 0.99, &o), 0);
    close_rel(o.var, -m + sd * 2.3263478740408408, 1e-13);
}

static void cornish_fisher_without_skew_or_kurtosis_is_gaussian(void **state)
{
    (void)state;
    hv_var_es g, c;
    assert_int_equal(hv_var_gaussian_params(0.0005, 0.012, 0.99, &g), 0);
    assert_int_equal(hv_var_cornish_fisher_params(0.0005, 0.012, 0, 0, 0.99, &c), 0);
    close_rel(c.var, g.var, 1e-14);
    close_rel(c.es, g.es, 1e-14);
}

/* ES as the mean of the CF quantile over u in (q, 1), by the midpoint rule in z-space:
 * E[z'(Z) | Z > z] = int_z^inf z'(t) phi(t) dt / (1 - q). */
static double cf_es_numeric(double skew_loss, double k, double q)
{
    double z = hv_norm_quantile(q), a = skew_loss / 6, b = k / 24, c = skew_loss * skew_loss / 36;
    double s = 0, h = 1e-4;
    for (double t = z + h / 2; t < z + 12; t += h) {
        double t2 = t * t, t3 = t2 * t;
        double zc = t + a * (t2 - 1) + b * (t3 - 3 * t) - c * (2 * t3 - 5 * t);
        s += zc * hv_norm_pdf(t) * h;
    }
    return s / (1 - q);
}

static void cornish_fisher_es_matches_numerical_integration(void **state)
{
    (void)state;
    static const double cases[][3] = {
        { -0.4, 8, 0.99 }, { 0.3, 2, 0.95 }, { -1, 5, 0.975 }, { 0, 3, 0.999 }
    };
    for (size_t i = 0; i < 4; i++) {
        double skew = cases[i][0], ku = cases[i][1], q = cases[i][2];
        hv_var_es o;
        assert_int_equal(hv_var_cornish_fisher_params(0, 1, skew, ku, q, &o), 0);
        close_rel(o.es, cf_es_numeric(-skew, ku, q), 1e-6);
        assert_true(o.es > o.var);
    }
}

static void fat_tails_and_negative_skew_raise_cornish_fisher_var(void **state)
{
    (void)state;
    hv_var_es g, fat, skewed;
    assert_int_equal(hv_var_gaussian_params(0, 0.01, 0.99, &g), 0);
    assert_int_equal(hv_var_cornish_fisher_params(0, 0.01, 0, 3, 0.99, &fat), 0);
    assert_int_equal(hv_var_cornish_fisher_params(0, 0.01, -0.8, 3, 0.99, &skewed), 0);
    assert_true(fat.var > g.var && fat.es > g.es);
    assert_true(skewed.var > fat.var && skewed.es > fat.es);
}

static void cornish_fisher_refuses_moments_it_cannot_represent(void **state)
{
    (void)state;
    hv_var_es o;
    assert_int_equal(hv_var_cornish_fisher_params(0, 0.01, 4, 0, 0.99, &o), HV_ERANGE);
    assert_int_equal(hv_var_cornish_fisher_params(0, 0.01, 0, -2.9, 0.99, &o), HV_ERANGE);
    /* A mildly platykurtic sample is fine. */
    assert_int_equal(hv_var_cornish_fisher_params(0, 0.01, 0, -1, 0.99, &o), 0);
}

static void confidence_outside_the_open_unit_interval_is_rejected(void **state)
{
    (void)state;
    static const double bad[] = { 0, 1, -0.5, 1.5, NAN, INFINITY };
    double r[8] = { 0.01, -0.02, 0.03, -0.01, 0.0, 0.02, -0.03, 0.01 }, s[100000];
    hv_var_es o;
    hv_rng rng;
    hv_rng_seed(&rng, 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double q = bad[i];
        assert_int_equal(hv_var_historical(r, 8, q, s, &o), HV_EBADCONF);
        assert_int_equal(hv_var_gaussian(r, 8, q, &o), HV_EBADCONF);
        assert_int_equal(hv_var_cornish_fisher(r, 8, q, &o), HV_EBADCONF);
        assert_int_equal(hv_var_montecarlo(r, 8, q, &rng, 100, s, &o), HV_EBADCONF);
        assert_int_equal(hv_var_gaussian_params(0, 1, q, &o), HV_EBADCONF);
    }
}

static void too_few_observations_are_rejected(void **state)
{
    (void)state;
    double r[3] = { 0.01, -0.02, 0.03 }, s[16];
    hv_var_es o;
    hv_rng rng;
    hv_rng_seed(&rng, 1);
    assert_int_equal(hv_var_historical(r, 0, 0.99, s, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_gaussian(r, 1, 0.99, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_cornish_fisher(r, 3, 0.99, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_montecarlo(r, 1, 0.99, &rng, 16, s, &o), HV_ETOOFEWOBS);
    assert_int_equal(hv_var_gaussian(r, 2, 0.99, &o), 0);
}

static void non_finite_returns_are_rejected(void **state)
{
    (void)state;
    double r[5] = { 0.01, -0.02, NAN, 0.03, 0.0 }, s[5];
    hv_var_es o;
    assert_int_equal(hv_var_historical(r, 5, 0.9, s, &o), HV_EINVAL);
    assert_int_equal(hv_var_gaussian(r, 5, 0.9, &o), HV_EINVAL);
    r[2] = -INFINITY;
    assert_int_equal(hv_var_cornish_fisher(r, 5, 0.9, &o), HV_EINVAL);
    assert_int_equal(hv_var_gaussian_params(0, -1, 0.9, &o), HV_EINVAL);
}

static void overflowing_inputs_give_a_range_error_not_infinity(void **state)
{
    (void)state;
    double r[6] = { 1e300, -1e300, 1e200, 5, -7, -1e308 }, s[6];
    hv_var_es o;
    hv_rng rng;
    hv_rng_seed(&rng, 1);
    assert_int_equal(hv_var_gaussian(r, 6, 0.99, &o), HV_ERANGE);
    assert_int_equal(hv_var_cornish_fisher(r, 6, 0.99, &o), HV_ERANGE);
    assert_int_equal(hv_var_montecarlo(r, 6, 0.5, &rng, 6, s, &o), HV_ERANGE);
    double tail[4] = { -1e308, -1e308, 1, 2 };
    assert_int_equal(hv_var_historical(tail, 4, 0.5, s, &o), HV_ERANGE);
    hv_var_roll roll;
    assert_int_equal(hv_var_roll_init(&roll, 4, 0.9), 0);
    assert_int_equal(hv_var_roll_push(&roll, 2e6), HV_ERANGE);
    assert_int_equal(roll.n, 0);
    hv_var_roll_fini(&roll);
}

static void estimate_dispatches_and_checks_scratch(void **state)
{
    (void)state;
    double r[300], s[300];
    hv_rng rng;
    hv_rng_seed(&rng, 4);
    for (int i = 0; i < 300; i++)
        r[i] = 0.01 * hv_rng_normal(&rng);
    hv_var_opts o = { .size = sizeof(o), .method = HV_VAR_HISTORICAL, .confidence = 0.99 };
    hv_var_es a, b;
    assert_int_equal(hv_var_scratch_len(&o, 300), 300);
    assert_int_equal(hv_var_estimate(r, 300, &o, s, 300, &a), 0);
    assert_int_equal(hv_var_historical(r, 300, 0.99, s, &b), 0);
    assert_true(a.var == b.var && a.es == b.es);
    assert_int_equal(hv_var_estimate(r, 300, &o, s, 299, &a), HV_ENOBUFS);
    o.method = HV_VAR_MONTECARLO;
    o.mc_sims = 200;
    assert_int_equal(hv_var_scratch_len(&o, 300), 200);
    assert_int_equal(hv_var_estimate(r, 300, &o, s, 300, &a), 0);
    o.method = (hv_var_method)9;
    assert_int_equal(hv_var_estimate(r, 300, &o, s, 300, &a), HV_EINVAL);
    hv_var_method m;
    assert_int_equal(hv_var_method_parse("cornish-fisher", &m), 0);
    assert_int_equal(m, HV_VAR_CORNISH_FISHER);
    assert_string_equal(hv_var_method_name(HV_VAR_MONTECARLO), "montecarlo");
    assert_int_equal(hv_var_method_parse("median", &m), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normal_quantile_matches_published_values),
        cmocka_unit_test(normal_quantile_inverts_the_cdf),
        cmocka_unit_test(historical_matches_hand_computed_values),
        cmocka_unit_test(historical_refuses_a_tail_with_no_observation),
        cmocka_unit_test(scan_and_quickselect_agree_with_a_full_sort),
        cmocka_unit_test(quickselect_survives_adversarial_orders),
        cmocka_unit_test(gaussian_matches_the_closed_form),
        cmocka_unit_test(cornish_fisher_without_skew_or_kurtosis_is_gaussian),
        cmocka_unit_test(cornish_fisher_es_matches_numerical_integration),
        cmocka_unit_test(fat_tails_and_negative_skew_raise_cornish_fisher_var),
        cmocka_unit_test(cornish_fisher_refuses_moments_it_cannot_represent),
        cmocka_unit_test(confidence_outside_the_open_unit_interval_is_rejected),
        cmocka_unit_test(too_few_observations_are_rejected),
        cmocka_unit_test(non_finite_returns_are_rejected),
        cmocka_unit_test(overflowing_inputs_give_a_range_error_not_infinity),
        cmocka_unit_test(estimate_dispatches_and_checks_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* DTW kernels: distance against the full-matrix reference, envelopes, lower bounds,
 * z-normalisation, SIMD == scalar. */
#include "hv_test.h"

#include "dtw/dtw_testutil.h"

static const size_t lengths[] = { 8, 9, 13, 16, 31, 64, 100, 128, 257, 512 };
static const double bands[] = { 0, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0 };
#define NLEN  (sizeof(lengths) / sizeof(lengths[0]))
#define NBAND (sizeof(bands) / sizeof(bands[0]))

static void window_is_floor_of_band_times_length_clamped(void **state)
{
    (void)state;
    assert_int_equal(hv_dtw_window(128, 0.1), 12);
    assert_int_equal(hv_dtw_window(10, 0.1), 1);
    assert_int_equal(hv_dtw_window(64, 0), 0);
    assert_int_equal(hv_dtw_window(64, 1), 63);
    assert_int_equal(hv_dtw_window(64, 0.999), 63);
    assert_int_equal(hv_dtw_window(1, 1), 0);
    assert_int_equal(hv_dtw_window(0, 0.5), 0);
}

/* For every length and band, z-normalised random walks and raw noise. */
static void distance_matches_full_matrix_reference(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 42);
    double *a = malloc(512 * sizeof(double)), *b = malloc(512 * sizeof(double));
    double *rows = malloc(2 * (512 + 2) * sizeof(double));
    for (size_t li = 0; li < NLEN; li++) {
        size_t n = lengths[li];
        for (size_t bi = 0; bi < NBAND; bi++) {
            for (int rep = 0; rep < 3; rep++) {
                size_t r = hv_dtw_window(n, bands[bi]);
                tu_random_walk(&rng, a, n);
                tu_random_walk(&rng, b, n);
                if (rep < 2) {
                    hv_dtw_znorm(a, n, a, HV_DTW_SIMD_AUTO);
                    hv_dtw_znorm(b, n, b, HV_DTW_SIMD_AUTO);
                }
                double want = tu_ref_dtw(a, n, b, n, r);
                double got = hv_dtw_distance(a, b, n, r, rows);
                if (!tu_rel_close(got, want, 1e-9))
                    fail_msg("n=%zu band=%g: %.17g != reference %.17g", n, bands[bi], got, want);
            }
        }
    }
    free(a);
    free(b);
    free(rows);
}

/* The same on real S&P 500 windows (z-normalised log closes), plus the lower bounds. */
static void distance_and_bounds_hold_on_real_windows(void **state)
{
    (void)state;
    size_t np = 0;
    double *p = tu_sp500_closes(&np);
    assert_non_null(p);
    hv_rng rng;
    hv_rng_seed(&rng, 43);
    double a[512], b[512], au[512], al[512], bu[512], bl[512], rows[2 * 514];
    size_t scratch[1024];
    for (size_t li = 0; li < NLEN; li++) {
        size_t n = lengths[li];
        for (size_t bi = 0; bi < NBAND; bi++) {
            size_t r = hv_dtw_window(n, bands[bi]);
            for (int rep = 0; rep < 3; rep++) {
                tu_log_window(p, n - 1 + hv_rng_below(&rng, np - n), n, a);
                tu_log_window(p, n - 1 + hv_rng_below(&rng, np - n), n, b);
                hv_dtw_znorm(a, n, a, HV_DTW_SIMD_AUTO);
                hv_dtw_znorm(b, n, b, HV_DTW_SIMD_AUTO);
                double want = tu_ref_dtw(a, n, b, n, r);
                double got = hv_dtw_distance(a, b, n, r, rows);
                if (!tu_rel_close(got, want, 1e-9))
                    fail_msg("n=%zu band=%g: %.17g != reference %.17g", n, bands[bi], got, want);
                hv_dtw_envelope(a, n, r, au, al, scratch);
                hv_dtw_envelope(b, n, r, bu, bl, scratch);
                double d = got * (1 + 1e-12);
                assert_true(hv_dtw_lb_kim(a, b, n, r) <= d);
                assert_true(hv_dtw_lb_keogh(b, au, al, n, HV_DTW_SIMD_AUTO) <= d);
                assert_true(hv_dtw_lb_keogh(a, bu, bl, n, HV_DTW_SIMD_SCALAR) <= d);
            }
        }
    }
    free(p);
}

static void band_zero_is_squared_euclidean(void **state)
{
    (void)state;
    double a[5] = { 1, 2, 3, 4, 5 }, b[5] = { 2, 2, 1, 4, 7 };
    double rows[2 * 7];
    assert_true(hv_dtw_distance(a, b, 5, 0, rows) == 1 + 0 + 4 + 0 + 4);
}

static void identical_series_have_distance_zero(void **state)
{
    (void)state;
    double a[6] = { 3, 1, 4, 1, 5, 9 }, rows[2 * 8];
    for (size_t r = 0; r < 6; r++)
        assert_true(hv_dtw_distance(a, a, 6, r, rows) == 0);
}

static void warping_absorbs_a_shift_that_euclidean_cannot(void **state)
{
    (void)state;
    double a[8] = { 0, 0, 1, 2, 1, 0, 0, 0 }, b[8] = { 0, 0, 0, 1, 2, 1, 0, 0 };
    double rows[2 * 10];
    assert_true(hv_dtw_distance(a, b, 8, 0, rows) == 4);
    assert_true(hv_dtw_distance(a, b, 8, 1, rows) == 0);
}

static void envelope_matches_naive_min_max(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 7);
    double x[300], u[300], l[300];
    size_t scratch[600];
    for (size_t n = 1; n <= 300; n += 37) {
        for (size_t r = 0; r < n + 3; r += 1 + n / 7) {
            for (size_t i = 0; i < n; i++) /* many ties: values on a coarse grid */
                x[i] = (double)hv_rng_below(&rng, 9);
            hv_dtw_envelope(x, n, r, u, l, scratch);
            for (size_t i = 0; i < n; i++) {
                double mx = -INFINITY, mn = INFINITY;
                for (size_t j = i > r ? i - r : 0; j <= i + r && j < n; j++) {
                    mx = x[j] > mx ? x[j] : mx;
                    mn = x[j] < mn ? x[j] : mn;
                }
                assert_true(u[i] == mx);
                assert_true(l[i] == mn);
            }
        }
    }
}

/* LB_Kim, LB_Keogh with the query envelope and with the candidate envelope, never above the
 * true distance (up to the documented rounding slack), on every length and band. */
static void lower_bounds_never_exceed_the_distance(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 99);
    double q[512], c[512], qu[512], ql[512], cu[512], cl[512], rows[2 * 514];
    size_t scratch[1024];
    for (size_t li = 0; li < NLEN; li++) {
        size_t n = lengths[li];
        for (size_t bi = 0; bi < NBAND; bi++) {
            size_t r = hv_dtw_window(n, bands[bi]);
            for (int rep = 0; rep < 10; rep++) {
                tu_random_walk(&rng, q, n);
                tu_random_walk(&rng, c, n);
                hv_dtw_znorm(q, n, q, HV_DTW_SIMD_AUTO);
                hv_dtw_znorm(c, n, c, HV_DTW_SIMD_AUTO);
                hv_dtw_envelope(q, n, r, qu, ql, scratch);
                hv_dtw_envelope(c, n, r, cu, cl, scratch);
                double d = hv_dtw_distance(q, c, n, r, rows) * (1 + 1e-12);
                assert_true(hv_dtw_lb_kim(q, c, n, r) <= d);
                assert_true(hv_dtw_lb_keogh(c, qu, ql, n, HV_DTW_SIMD_AUTO) <= d);
                assert_true(hv_dtw_lb_keogh(q, cu, cl, n, HV_DTW_SIMD_AUTO) <= d);
            }
        }
    }
}

static void lb_keogh_with_zero_band_equals_euclidean(void **state)
{
    (void)state;
    double a[7] = { 1, -2, 3, 0, 5, 1, 2 }, b[7] = { 0, 0, 1, 1, 1, 4, 2 }, u[7], l[7], rows[18];
    size_t scratch[14];
    hv_dtw_envelope(a, 7, 0, u, l, scratch);
    double lb = hv_dtw_lb_keogh(b, u, l, 7, HV_DTW_SIMD_SCALAR);
    assert_true(lb == hv_dtw_distance(a, b, 7, 0, rows));
}

static void simd_and_scalar_znorm_are_bit_identical(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 5);
    double x[600], s[600], v[600];
    for (size_t n = 1; n <= 600; n += 13) {
        for (size_t i = 0; i < n; i++)
            x[i] = 1e4 + 50 * hv_rng_normal(&rng);
        assert_int_equal(hv_dtw_znorm(x, n, s, HV_DTW_SIMD_SCALAR), 0);
        assert_int_equal(hv_dtw_znorm(x, n, v, HV_DTW_SIMD_AUTO), 0);
        assert_memory_equal(s, v, n * sizeof(double));
    }
}

static void simd_and_scalar_lb_keogh_are_bit_identical(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 6);
    double x[520], y[520], u[520], l[520];
    size_t scratch[1040];
    for (size_t n = 1; n <= 520; n += 7) {
        tu_random_walk(&rng, x, n);
        tu_random_walk(&rng, y, n);
        hv_dtw_znorm(x, n, x, HV_DTW_SIMD_SCALAR);
        hv_dtw_znorm(y, n, y, HV_DTW_SIMD_SCALAR);
        hv_dtw_envelope(y, n, n / 10, u, l, scratch);
        double a = hv_dtw_lb_keogh(x, u, l, n, HV_DTW_SIMD_SCALAR);
        double b = hv_dtw_lb_keogh(x, u, l, n, HV_DTW_SIMD_AUTO);
        assert_memory_equal(&a, &b, sizeof(a));
    }
}

static void znorm_gives_mean_zero_and_unit_deviation(void **state)
{
    (void)state;
    double x[100], z[100];
    for (int i = 0; i < 100; i++)
        x[i] = 3 + i * 0.5 + (i % 3);
    assert_int_equal(hv_dtw_znorm(x, 100, z, HV_DTW_SIMD_AUTO), 0);
    double m = 0, v = 0;
    for (int i = 0; i < 100; i++)
        m += z[i];
    m /= 100;
    for (int i = 0; i < 100; i++)
        v += (z[i] - m) * (z[i] - m);
    assert_true(fabs(m) < 1e-12);
    assert_true(fabs(v / 100 - 1) < 1e-12);
}

static void znorm_of_constant_series_is_all_zeros(void **state)
{
    (void)state;
    double x[9], z[9];
    for (int i = 0; i < 9; i++)
        x[i] = 4200.17;
    assert_int_equal(hv_dtw_znorm(x, 9, z, HV_DTW_SIMD_AUTO), 0);
    for (int i = 0; i < 9; i++)
        assert_true(z[i] == 0);
}

static void znorm_survives_values_near_the_double_limit(void **state)
{
    (void)state;
    double x[4] = { 1e300, 3, -1e300, 5e299 }, y[4], z[4], w[4];
    for (int i = 0; i < 4; i++)
        y[i] = x[i] / 1e300;
    assert_int_equal(hv_dtw_znorm(x, 4, z, HV_DTW_SIMD_AUTO), 0);
    assert_int_equal(hv_dtw_znorm(y, 4, w, HV_DTW_SIMD_SCALAR), 0);
    for (int i = 0; i < 4; i++)
        assert_true(isfinite(z[i]) && fabs(z[i] - w[i]) < 1e-12);
    assert_int_equal(hv_dtw_znorm(x, 4, w, HV_DTW_SIMD_SCALAR), 0);
    assert_memory_equal(z, w, sizeof(z));
}

static void znorm_rejects_non_finite_values_and_empty_input(void **state)
{
    (void)state;
    double x[5] = { 1, 2, NAN, 4, 5 }, z[5];
    assert_int_equal(hv_dtw_znorm(x, 5, z, HV_DTW_SIMD_AUTO), HV_EINVAL);
    x[2] = INFINITY;
    assert_int_equal(hv_dtw_znorm(x, 5, z, HV_DTW_SIMD_SCALAR), HV_EINVAL);
    assert_int_equal(hv_dtw_znorm(x, 0, z, HV_DTW_SIMD_SCALAR), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(window_is_floor_of_band_times_length_clamped),
        cmocka_unit_test(distance_matches_full_matrix_reference),
        cmocka_unit_test(distance_and_bounds_hold_on_real_windows),
        cmocka_unit_test(band_zero_is_squared_euclidean),
        cmocka_unit_test(identical_series_have_distance_zero),
        cmocka_unit_test(warping_absorbs_a_shift_that_euclidean_cannot),
        cmocka_unit_test(envelope_matches_naive_min_max),
        cmocka_unit_test(lower_bounds_never_exceed_the_distance),
        cmocka_unit_test(lb_keogh_with_zero_band_equals_euclidean),
        cmocka_unit_test(simd_and_scalar_znorm_are_bit_identical),
        cmocka_unit_test(simd_and_scalar_lb_keogh_are_bit_identical),
        cmocka_unit_test(znorm_gives_mean_zero_and_unit_deviation),
        cmocka_unit_test(znorm_of_constant_series_is_all_zeros),
        cmocka_unit_test(znorm_survives_values_near_the_double_limit),
        cmocka_unit_test(znorm_rejects_non_finite_values_and_empty_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

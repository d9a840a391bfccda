/* The cascade search: pruning never changes the answer; stats add up; errors. */
#include "hv_test.h"

#include "dtw/dtw_testutil.h"

typedef struct fixture {
    hv_dtw_set *set;
    hv_dtw_ws *ws;
} fixture;

/* A set of `count` patterns of length n: random walks, with a few exact duplicates (ties) and
 * shifted copies of earlier patterns (near neighbours, so pruning has work to do). */
static fixture make(size_t n, double band, size_t count, unsigned k_max, unsigned simd, hv_rng *rng)
{
    fixture f;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = n;
    p.band = band;
    p.simd = simd;
    assert_int_equal(hv_dtw_set_new(&p, count, &f.set), 0);
    assert_int_equal(hv_dtw_ws_new(&p, k_max, &f.ws), 0);
    double *x = malloc(n * sizeof(double));
    for (size_t i = 0; i < count; i++) {
        if (i > 4 && i % 9 == 0) {
            memcpy(x, hv_dtw_set_pattern(f.set, i / 3), n * sizeof(double));
        } else if (i > 4 && i % 7 == 0) {
            const double *src = hv_dtw_set_pattern(f.set, i / 2);
            for (size_t j = 0; j < n; j++)
                x[j] = src[j + 1 < n ? j + 1 : j] + 0.05 * hv_rng_normal(rng);
        } else {
            tu_random_walk(rng, x, n);
        }
        assert_int_equal(hv_dtw_set_add(f.set, x), (long)i);
    }
    free(x);
    return f;
}

static void unmake(fixture *f)
{
    hv_dtw_set_free(f->set);
    hv_dtw_ws_free(f->ws);
}

static void assert_same_matches(const hv_dtw_match *a, const hv_dtw_match *b, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        assert_int_equal(a[i].index, b[i].index);
        assert_memory_equal(&a[i].distance, &b[i].distance, sizeof(double));
    }
}

static const size_t lengths[] = { 8, 16, 33, 64, 128, 256, 512 };
static const double bands[] = { 0, 0.05, 0.1, 0.3, 1.0 };

/* Top-1 and top-k, every length and band: the cascade returns exactly the brute-force list. */
static void pruning_never_changes_the_top_k(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 1234);
    static const unsigned ks[] = { 1, 3, 10 };
    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        size_t n = lengths[li], count = n >= 256 ? 40 : 120;
        for (size_t bi = 0; bi < sizeof(bands) / sizeof(bands[0]); bi++) {
            fixture f = make(n, bands[bi], count, 10, HV_DTW_SIMD_AUTO, &rng);
            double *q = malloc(n * sizeof(double));
            for (int rep = 0; rep < 3; rep++) {
                if (rep == 0) /* a query identical to a stored pattern: distance 0 */
                    memcpy(q, hv_dtw_set_pattern(f.set, 5), n * sizeof(double));
                else
                    tu_random_walk(&rng, q, n);
                for (size_t ki = 0; ki < 3; ki++) {
                    hv_dtw_match got[10], want[10];
                    long m = hv_dtw_search(f.ws, f.set, count, q, ks[ki], got, NULL);
                    size_t wm = tu_brute_topk(f.ws, f.set, count, q, ks[ki], want);
                    assert_int_equal(m, (long)wm);
                    assert_same_matches(got, want, wm);
                }
            }
            free(q);
            unmake(&f);
        }
    }
}

/* Real S&P 500 windows: a library of windows (stride 5) and later query windows. */
static void pruning_never_changes_the_top_k_on_real_windows(void **state)
{
    (void)state;
    size_t np = 0;
    double *p = tu_sp500_closes(&np);
    assert_non_null(p);
    hv_rng rng;
    hv_rng_seed(&rng, 4321);
    static const size_t rl[] = { 8, 32, 128, 512 };
    double *x = malloc(512 * sizeof(double));
    for (size_t li = 0; li < 4; li++) {
        size_t n = rl[li], count = n >= 512 ? 60 : 300;
        for (size_t bi = 0; bi < sizeof(bands) / sizeof(bands[0]); bi++) {
            hv_dtw_opts prm;
            hv_dtw_opts_default(&prm);
            prm.len = n;
            prm.band = bands[bi];
            fixture f;
            assert_int_equal(hv_dtw_set_new(&prm, count, &f.set), 0);
            assert_int_equal(hv_dtw_ws_new(&prm, 5, &f.ws), 0);
            for (size_t i = 0; i < count; i++) {
                tu_log_window(p, n - 1 + 5 * i, n, x);
                assert_int_equal(hv_dtw_set_add(f.set, x), (long)i);
            }
            size_t first = n - 1 + 5 * count;
            for (int rep = 0; rep < 3; rep++) {
                tu_log_window(p, first + hv_rng_below(&rng, np - first), n, x);
                for (unsigned k = 1; k <= 5; k += 4) {
                    hv_dtw_match got[5], want[5];
                    long m = hv_dtw_search(f.ws, f.set, count, x, k, got, NULL);
                    size_t wm = tu_brute_topk(f.ws, f.set, count, x, k, want);
                    assert_int_equal(m, (long)wm);
                    assert_same_matches(got, want, wm);
                }
            }
            unmake(&f);
        }
    }
    free(x);
    free(p);
}

static void search_distances_equal_the_reference(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 77);
    size_t n = 96;
    fixture f = make(n, 0.1, 50, 50, HV_DTW_SIMD_AUTO, &rng);
    double q[96];
    tu_random_walk(&rng, q, n);
    hv_dtw_match got[50];
    assert_int_equal(hv_dtw_search(f.ws, f.set, 50, q, 50, got, NULL), 50);
    double qz[96];
    hv_dtw_znorm(q, n, qz, HV_DTW_SIMD_SCALAR);
    for (size_t i = 0; i < 50; i++) {
        double want = tu_ref_dtw(qz, n, hv_dtw_set_pattern(f.set, got[i].index), n, 9);
        assert_true(tu_rel_close(got[i].distance, want, 1e-9));
    }
    unmake(&f);
}

static void ties_go_to_the_lower_index(void **state)
{
    (void)state;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = 16;
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_set_new(&p, 6, &set), 0);
    assert_int_equal(hv_dtw_ws_new(&p, 3, &ws), 0);
    double a[16], b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = sin(i * 0.4);
        b[i] = cos(i * 0.9);
    }
    for (int i = 0; i < 6; i++)
        hv_dtw_set_add(set, i % 2 ? a : b); /* a at 1, 3, 5 */
    hv_dtw_match m[3];
    assert_int_equal(hv_dtw_search(ws, set, 6, a, 3, m, NULL), 3);
    assert_int_equal(m[0].index, 1);
    assert_int_equal(m[1].index, 3);
    assert_int_equal(m[2].index, 5);
    assert_true(m[0].distance == 0 && m[2].distance == 0);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

static void stats_account_for_every_candidate(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 3);
    fixture f = make(128, 0.1, 300, 5, HV_DTW_SIMD_AUTO, &rng);
    hv_dtw_stats st;
    hv_dtw_stats_reset(&st);
    double q[128];
    hv_dtw_match m[5];
    for (int i = 0; i < 5; i++) {
        tu_random_walk(&rng, q, 128);
        hv_dtw_search(f.ws, f.set, 300, q, 5, m, &st);
    }
    assert_int_equal(st.queries, 5);
    assert_int_equal(st.candidates, 1500);
    assert_int_equal(st.pruned_kim + st.pruned_keogh_eq + st.pruned_keogh_ec + st.abandoned_dtw +
                         st.full_dtw,
                     1500);
    /* Random walks with near duplicates: the bounds must prune something. */
    assert_true(st.full_dtw < 1500);
    unmake(&f);
}

static void simd_and_scalar_searches_give_identical_results_and_stats(void **state)
{
    (void)state;
    for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
        size_t n = lengths[li];
        hv_rng r1, r2, rq;
        hv_rng_seed(&r1, 55 + n);
        hv_rng_seed(&r2, 55 + n);
        hv_rng_seed(&rq, 8);
        fixture s = make(n, 0.1, 100, 5, HV_DTW_SIMD_SCALAR, &r1);
        fixture v = make(n, 0.1, 100, 5, HV_DTW_SIMD_AUTO, &r2);
        double *q = malloc(n * sizeof(double));
        for (int rep = 0; rep < 4; rep++) {
            tu_random_walk(&rq, q, n);
            hv_dtw_match a[5], b[5];
            hv_dtw_stats sa, sb;
            hv_dtw_stats_reset(&sa);
            hv_dtw_stats_reset(&sb);
            long ma = hv_dtw_search(s.ws, s.set, 100, q, 5, a, &sa);
            long mb = hv_dtw_search(v.ws, v.set, 100, q, 5, b, &sb);
            assert_int_equal(ma, mb);
            assert_same_matches(a, b, (size_t)ma);
            assert_memory_equal(&sa, &sb, sizeof(sa));
        }
        assert_memory_equal(hv_dtw_set_pattern(s.set, 99), hv_dtw_set_pattern(v.set, 99),
                            n * sizeof(double));
        free(q);
        unmake(&s);
        unmake(&v);
    }
}

static void search_over_a_prefix_ignores_later_patterns(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 12);
    fixture f = make(32, 0.2, 60, 3, HV_DTW_SIMD_AUTO, &rng);
    double q[32];
    memcpy(q, hv_dtw_set_pattern(f.set, 50), sizeof(q));
    hv_dtw_match m[3];
    assert_int_equal(hv_dtw_search(f.ws, f.set, 40, q, 3, m, NULL), 3);
    for (int i = 0; i < 3; i++)
        assert_true(m[i].index < 40);
    assert_int_equal(hv_dtw_search(f.ws, f.set, 0, q, 3, m, NULL), 0);
    unmake(&f);
}

static void no_znorm_compares_raw_values(void **state)
{
    (void)state;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = 4;
    p.znorm = 0;
    p.band = 0;
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_set_new(&p, 2, &set), 0);
    assert_int_equal(hv_dtw_ws_new(&p, 2, &ws), 0);
    double a[4] = { 1, 2, 3, 4 }, b[4] = { 10, 20, 30, 40 }, q[4] = { 2, 2, 3, 4 };
    hv_dtw_set_add(set, a);
    hv_dtw_set_add(set, b);
    hv_dtw_match m[2];
    assert_int_equal(hv_dtw_search(ws, set, 2, q, 2, m, NULL), 2);
    assert_int_equal(m[0].index, 0);
    assert_true(m[0].distance == 1);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

static void invalid_arguments_are_refused(void **state)
{
    (void)state;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = 16;
    hv_dtw_set *set;
    hv_dtw_ws *ws, *other;
    p.band = 1.5;
    assert_int_equal(hv_dtw_set_new(&p, 4, &set), HV_EINVAL);
    p.band = 0.1;
    p.len = 0;
    assert_int_equal(hv_dtw_ws_new(&p, 4, &ws), HV_EINVAL);
    p.len = 16;
    assert_int_equal(hv_dtw_ws_new(&p, 0, &ws), HV_EINVAL);
    assert_int_equal(hv_dtw_ws_new(&p, HV_DTW_K_MAX + 1, &ws), HV_EINVAL);
    assert_int_equal(hv_dtw_set_new(&p, 2, &set), 0);
    assert_int_equal(hv_dtw_ws_new(&p, 2, &ws), 0);
    p.band = 0.5;
    assert_int_equal(hv_dtw_ws_new(&p, 2, &other), 0);
    double x[16] = { 0 }, q[16];
    for (int i = 0; i < 16; i++)
        q[i] = i;
    hv_dtw_match m[2];
    assert_int_equal(hv_dtw_set_add(set, x), 0);
    assert_int_equal(hv_dtw_search(ws, set, 1, q, 3, m, NULL), HV_EINVAL);    /* k > k_max */
    assert_int_equal(hv_dtw_search(ws, set, 2, q, 1, m, NULL), HV_EINVAL);    /* count */
    assert_int_equal(hv_dtw_search(other, set, 1, q, 1, m, NULL), HV_EINVAL); /* band */
    q[3] = NAN;
    assert_int_equal(hv_dtw_search(ws, set, 1, q, 1, m, NULL), HV_EINVAL);
    x[0] = INFINITY;
    assert_int_equal(hv_dtw_set_add(set, x), HV_EINVAL);
    hv_dtw_ws_free(other);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

static void a_full_set_refuses_and_counts_additions(void **state)
{
    (void)state;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = 8;
    hv_dtw_set *set;
    assert_int_equal(hv_dtw_set_new(&p, 2, &set), 0);
    double x[8] = { 1, 2, 3, 4, 3, 2, 1, 0 };
    assert_int_equal(hv_dtw_set_add(set, x), 0);
    assert_int_equal(hv_dtw_set_add(set, x), 1);
    assert_int_equal(hv_dtw_set_add(set, x), HV_EFULL);
    assert_int_equal(hv_dtw_set_add(set, x), HV_EFULL);
    assert_int_equal(hv_dtw_set_count(set), 2);
    assert_int_equal(hv_dtw_set_rejected(set), 2);
    hv_dtw_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pruning_never_changes_the_top_k),
        cmocka_unit_test(pruning_never_changes_the_top_k_on_real_windows),
        cmocka_unit_test(search_distances_equal_the_reference),
        cmocka_unit_test(ties_go_to_the_lower_index),
        cmocka_unit_test(stats_account_for_every_candidate),
        cmocka_unit_test(simd_and_scalar_searches_give_identical_results_and_stats),
        cmocka_unit_test(search_over_a_prefix_ignores_later_patterns),
        cmocka_unit_test(no_znorm_compares_raw_values),
        cmocka_unit_test(invalid_arguments_are_refused),
        cmocka_unit_test(a_full_set_refuses_and_counts_additions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

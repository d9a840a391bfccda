/* The pattern library: labels, no look-ahead, the prediction formula, bounds. */
#include "hv_test.h"

#include "dtw/dtw_testutil.h"

#define BARS 1200

static hv_dtw_library *make_lib(size_t len, size_t horizon, size_t capacity)
{
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = len;
    o.horizon = horizon;
    o.capacity = capacity;
    hv_dtw_library *lib;
    assert_int_equal(hv_dtw_library_new(&o, &lib), 0);
    return lib;
}

static void labels_are_forward_log_returns_over_the_horizon(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 1);
    double p[BARS];
    tu_prices(&rng, p, BARS);
    hv_dtw_library *lib = make_lib(32, 5, 4096);
    long added = hv_dtw_library_build(lib, p, BARS, 3);
    /* ends 31, 34, ... while end + 5 <= 1199 */
    assert_int_equal(added, (1194 - 31) / 3 + 1);
    for (size_t i = 0; i < (size_t)added; i++) {
        size_t e = hv_dtw_library_end(lib, i);
        assert_int_equal(e, 31 + 3 * i);
        assert_true(fabs(hv_dtw_library_label(lib, i) - log(p[e + 5] / p[e])) < 1e-12);
    }
    hv_dtw_library_free(lib);
}

/* For every query bar t, the neighbours used are exactly the brute-force top-k among patterns
 * whose label horizon ended at or before t, and the prediction is their weighted label. */
static void check_no_lookahead(const double *p, size_t np, size_t len, size_t h, size_t step)
{
    hv_dtw_library *lib = make_lib(len, h, 8192);
    assert_true(hv_dtw_library_build(lib, p, np, 1) > 0);
    hv_dtw_ws *ws, *bws;
    assert_int_equal(hv_dtw_library_ws_new(lib, 5, &ws), 0);
    assert_int_equal(hv_dtw_library_ws_new(lib, 5, &bws), 0);
    const hv_dtw_set *set = hv_dtw_library_set(lib);
    double *lq = malloc(len * sizeof(double));
    for (size_t t = len - 1; t < np; t += step) {
        size_t elig = hv_dtw_library_eligible(lib, t);
        for (size_t i = 0; i < hv_dtw_set_count(set); i++)
            assert_int_equal(i < elig, hv_dtw_library_end(lib, i) + h <= t);
        hv_dtw_prediction pr;
        int rv = hv_dtw_library_predict(lib, ws, p, np, t, 5, &pr, NULL);
        if (elig == 0) {
            assert_int_equal(rv, HV_ETOOFEWOBS);
            continue;
        }
        assert_int_equal(rv, 0);
        tu_log_window(p, t, len, lq);
        hv_dtw_match want[5];
        size_t m = tu_brute_topk(bws, set, elig, lq, 5, want);
        assert_int_equal(pr.neighbours, m);
        assert_int_equal(pr.eligible, elig);
        double wsum = 0, ysum = 0;
        for (size_t i = 0; i < m; i++) {
            assert_true(hv_dtw_library_end(lib, want[i].index) + h <= t);
            double w = want[0].distance == 0 ? (want[i].distance == 0)
                                             : want[0].distance / want[i].distance;
            wsum += w;
            ysum += w * hv_dtw_library_label(lib, want[i].index);
        }
        assert_true(fabs(pr.expected_return - ysum / wsum) < 1e-12);
        assert_true(pr.distance_min == want[0].distance);
    }
    free(lq);
    hv_dtw_ws_free(ws);
    hv_dtw_ws_free(bws);
    hv_dtw_library_free(lib);
}

static void predictions_use_only_patterns_whose_label_is_known(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 2);
    double p[BARS];
    tu_prices(&rng, p, BARS);
    check_no_lookahead(p, BARS, 24, 10, 17);
}

static void real_predictions_use_only_patterns_whose_label_is_known(void **state)
{
    (void)state;
    size_t np = 0;
    double *p = tu_sp500_closes(&np);
    assert_non_null(p);
    check_no_lookahead(p, np, 32, 5, 97);
    free(p);
}

/* The query's own window is in the library (distance 0) but its label lies in the future:
 * it must not be used. */
static void the_query_window_itself_is_never_a_neighbour(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 3);
    double p[400];
    tu_prices(&rng, p, 400);
    hv_dtw_library *lib = make_lib(20, 4, 1000);
    assert_true(hv_dtw_library_build(lib, p, 400, 1) > 0);
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_library_ws_new(lib, 3, &ws), 0);
    for (size_t t = 100; t < 380; t += 11) {
        hv_dtw_prediction pr;
        assert_int_equal(hv_dtw_library_predict(lib, ws, p, 400, t, 3, &pr, NULL), 0);
        assert_true(pr.distance_min > 0);
        assert_int_equal(pr.eligible, t - 4 - 19 + 1);
    }
    hv_dtw_ws_free(ws);
    hv_dtw_library_free(lib);
}

/* A repeating price pattern: an exact earlier match (distance 0) takes all the weight. */
static void zero_distance_neighbours_share_the_weight_equally(void **state)
{
    (void)state;
    double base[25], p[200];
    for (int i = 0; i < 25; i++)
        base[i] = 100 + 10 * sin(i * 2 * M_PI / 25) + (i == 3 ? 2 : 0);
    for (int i = 0; i < 200; i++)
        p[i] = base[i % 25];
    hv_dtw_library *lib = make_lib(25, 5, 1000);
    assert_true(hv_dtw_library_build(lib, p, 200, 1) > 0);
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_library_ws_new(lib, 4, &ws), 0);
    hv_dtw_prediction pr;
    assert_int_equal(hv_dtw_library_predict(lib, ws, p, 200, 150, 4, &pr, NULL), 0);
    assert_true(pr.distance_min == 0);
    /* Every exact match is a whole period earlier, with the same label as the others. */
    size_t e = 150 - 25;
    double want = log(p[e + 5] / p[e]);
    assert_true(fabs(pr.expected_return - want) < 1e-12);
    assert_true(pr.agreement == 1);
    hv_dtw_ws_free(ws);
    hv_dtw_library_free(lib);
}

static void library_is_bounded_and_ordered(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 4);
    double p[300];
    tu_prices(&rng, p, 300);
    hv_dtw_library *lib = make_lib(16, 2, 10);
    assert_int_equal(hv_dtw_library_build(lib, p, 300, 1), 10);
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 200), HV_EFULL);
    assert_int_equal(hv_dtw_set_rejected(hv_dtw_library_set(lib)), 2);
    hv_dtw_library_free(lib);

    lib = make_lib(16, 2, 10);
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 50), 0);
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 50), HV_EINVAL);  /* not increasing */
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 14), HV_EINVAL);  /* window too early */
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 298), HV_EINVAL); /* label unknown */
    p[60] = -1;
    assert_int_equal(hv_dtw_library_add(lib, p, 300, 61), HV_ERANGE);
    hv_dtw_library_free(lib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels_are_forward_log_returns_over_the_horizon),
        cmocka_unit_test(predictions_use_only_patterns_whose_label_is_known),
        cmocka_unit_test(real_predictions_use_only_patterns_whose_label_is_known),
        cmocka_unit_test(the_query_window_itself_is_never_a_neighbour),
        cmocka_unit_test(zero_distance_neighbours_share_the_weight_equally),
        cmocka_unit_test(library_is_bounded_and_ordered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

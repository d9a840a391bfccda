/* The query path allocates nothing: searches, pool searches and predictions, counted by the
 * benchmark harness's malloc interposer (not available under sanitizers: skipped there). */
#include "hv_test.h"

#include "dtw/dtw_testutil.h"

/* From bench/alloc_count.c, linked into this test: heap allocations so far, or UINT64_MAX. */
uint64_t hv_bench_allocs(void);

#define N 64

static void searches_and_predictions_allocate_nothing(void **state)
{
    (void)state;
    if (hv_bench_allocs() == UINT64_MAX)
        skip();
    hv_rng rng;
    hv_rng_seed(&rng, 9);
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = N;
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    hv_dtw_pool *pool;
    assert_int_equal(hv_dtw_set_new(&p, 500, &set), 0);
    assert_int_equal(hv_dtw_ws_new(&p, HV_DTW_K_MAX, &ws), 0);
    assert_int_equal(hv_dtw_pool_new(&p, 3, HV_DTW_K_MAX, &pool), 0);
    double x[N];
    for (int i = 0; i < 500; i++) {
        tu_random_walk(&rng, x, N);
        hv_dtw_set_add(set, x);
    }
    static hv_dtw_match out[HV_DTW_K_MAX];
    double dist[500];
    double prices[600];
    tu_prices(&rng, prices, 600);
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = 32;
    hv_dtw_library *lib;
    assert_int_equal(hv_dtw_library_new(&o, &lib), 0);
    assert_true(hv_dtw_library_build(lib, prices, 600, 1) > 0);
    hv_dtw_ws *lws;
    assert_int_equal(hv_dtw_library_ws_new(lib, 8, &lws), 0);
    hv_dtw_pool_search(pool, set, 500, x, 1, out, NULL); /* workers have started */

    uint64_t before = hv_bench_allocs();
    static const unsigned ks[] = { 1, 5, 100, HV_DTW_K_MAX };
    for (int rep = 0; rep < 4; rep++) {
        tu_random_walk(&rng, x, N);
        hv_dtw_stats st;
        hv_dtw_stats_reset(&st);
        assert_true(hv_dtw_search(ws, set, 500, x, ks[rep], out, &st) >= 0);
        assert_true(hv_dtw_pool_search(pool, set, 500, x, ks[rep], out, &st) >= 0);
        assert_int_equal(hv_dtw_distances(ws, set, 500, x, dist), 0);
        hv_dtw_prediction pr;
        assert_int_equal(hv_dtw_library_predict(lib, lws, prices, 600, 300 + rep, 8, &pr, &st), 0);
    }
    assert_int_equal(hv_bench_allocs() - before, 0);

    hv_dtw_ws_free(lws);
    hv_dtw_library_free(lib);
    hv_dtw_pool_free(pool);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(searches_and_predictions_allocate_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Multi-threaded search: the pool equals the single-threaded search, however its threads
 * share the work; workspaces on separate threads share one set safely (run under TSan too). */
#include <pthread.h>
#include <unistd.h>

#include "hv_test.h"

#include "dtw/dtw_testutil.h"

#define N     64
#define COUNT 400
#define K     7

static hv_dtw_set *make_set(hv_dtw_opts *p, hv_rng *rng)
{
    hv_dtw_opts_default(p);
    p->len = N;
    hv_dtw_set *set;
    assert_int_equal(hv_dtw_set_new(p, COUNT, &set), 0);
    double x[N];
    for (int i = 0; i < COUNT; i++) {
        tu_random_walk(rng, x, N);
        assert_int_equal(hv_dtw_set_add(set, x), i);
    }
    return set;
}

static void pool_search_equals_single_threaded_search(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 21);
    hv_dtw_opts p;
    hv_dtw_set *set = make_set(&p, &rng);
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_ws_new(&p, K, &ws), 0);
    for (unsigned threads = 1; threads <= 4; threads++) {
        hv_dtw_pool *pool;
        assert_int_equal(hv_dtw_pool_new(&p, threads, K, &pool), 0);
        for (int rep = 0; rep < 8; rep++) {
            double q[N];
            tu_random_walk(&rng, q, N);
            size_t count = rep == 0 ? 3 : COUNT - (size_t)rep; /* shards smaller than k too */
            for (unsigned k = 1; k <= K; k += 3) {
                hv_dtw_match a[K], b[K];
                hv_dtw_stats st;
                hv_dtw_stats_reset(&st);
                long ma = hv_dtw_search(ws, set, count, q, k, a, NULL);
                long mb = hv_dtw_pool_search(pool, set, count, q, k, b, &st);
                assert_int_equal(ma, mb);
                for (long i = 0; i < ma; i++) {
                    assert_int_equal(a[i].index, b[i].index);
                    assert_memory_equal(&a[i].distance, &b[i].distance, sizeof(double));
                }
                assert_int_equal(st.candidates, count);
                assert_int_equal(st.queries, 1);
            }
        }
        hv_dtw_pool_free(pool);
    }
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

/* Many searches back to back, of every size around the claim granularity, with 2 and 3
 * threads: workers that wake late (their claims find nothing left) and workers that take part
 * alternate unpredictably, and every answer must still equal the single-threaded one. The
 * counts rise and fall, so a worker late for one job meets a larger next one (a worker that
 * used the new job's count for the old job's counter would overrun the count and hang the
 * caller: the alarm turns such a hang into a failure). */
static void back_to_back_searches_of_every_size_stay_exact(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 33);
    hv_dtw_opts p;
    hv_dtw_set *set = make_set(&p, &rng);
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_ws_new(&p, K, &ws), 0);
    alarm(120); /* far above the few seconds this takes even under TSan */
    for (unsigned threads = 2; threads <= 3; threads++) {
        hv_dtw_pool *pool;
        assert_int_equal(hv_dtw_pool_new(&p, threads, K, &pool), 0);
        for (int rep = 0; rep < 300; rep++) {
            double q[N];
            tu_random_walk(&rng, q, N);
            /* a sawtooth 0 .. COUNT, then small counts rising by a few patterns */
            size_t count = rep < 150 ? (size_t)(rep * 7) % (COUNT + 1) : (size_t)(rep % 40) * 3;
            unsigned k = 1 + (unsigned)rep % K;
            hv_dtw_match a[K], b[K];
            hv_dtw_stats st;
            hv_dtw_stats_reset(&st);
            long ma = hv_dtw_search(ws, set, count, q, k, a, NULL);
            long mb = hv_dtw_pool_search(pool, set, count, q, k, b, &st);
            assert_int_equal(ma, mb);
            for (long i = 0; i < ma; i++) {
                assert_int_equal(a[i].index, b[i].index);
                assert_memory_equal(&a[i].distance, &b[i].distance, sizeof(double));
            }
            assert_int_equal(st.candidates, count); /* every pattern searched exactly once */
        }
        hv_dtw_pool_free(pool);
    }
    alarm(0);
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

typedef struct job {
    const hv_dtw_set *set;
    const hv_dtw_opts *p;
    const double *queries; /* 16 * N */
    hv_dtw_match out[16];
    int rv;
} job;

static void *searcher(void *arg)
{
    job *j = arg;
    hv_dtw_ws *ws;
    j->rv = hv_dtw_ws_new(j->p, 1, &ws);
    for (int i = 0; i < 16 && j->rv == 0; i++) {
        long m = hv_dtw_search(ws, j->set, COUNT, j->queries + i * N, 1, &j->out[i], NULL);
        if (m != 1)
            j->rv = -1;
    }
    hv_dtw_ws_free(ws);
    return NULL;
}

static void separate_workspaces_search_one_set_from_many_threads(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 22);
    hv_dtw_opts p;
    hv_dtw_set *set = make_set(&p, &rng);
    double queries[16 * N];
    for (int i = 0; i < 16; i++)
        tu_random_walk(&rng, queries + i * N, N);
    job jobs[4];
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (job){ .set = set, .p = &p, .queries = queries };
        assert_int_equal(pthread_create(&th[t], NULL, searcher, &jobs[t]), 0);
    }
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    hv_dtw_ws *ws;
    assert_int_equal(hv_dtw_ws_new(&p, 1, &ws), 0);
    for (int i = 0; i < 16; i++) {
        hv_dtw_match want;
        assert_int_equal(tu_brute_topk(ws, set, COUNT, queries + i * N, 1, &want), 1);
        for (int t = 0; t < 4; t++) {
            assert_int_equal(jobs[t].rv, 0);
            assert_int_equal(jobs[t].out[i].index, want.index);
            assert_true(jobs[t].out[i].distance == want.distance);
        }
    }
    hv_dtw_ws_free(ws);
    hv_dtw_set_free(set);
}

typedef struct agent {
    const hv_dtw_library *lib;
    const double *prices;
    size_t np;
    hv_dtw_prediction out[32];
    int rv;
} agent;

/* A pattern-matcher agent: its own workspace, predictions at 32 bars. */
static void *predictor(void *arg)
{
    agent *a = arg;
    hv_dtw_ws *ws;
    a->rv = hv_dtw_library_ws_new(a->lib, 5, &ws);
    for (size_t i = 0; i < 32 && a->rv == 0; i++)
        a->rv =
            hv_dtw_library_predict(a->lib, ws, a->prices, a->np, 300 + 20 * i, 5, &a->out[i], NULL);
    hv_dtw_ws_free(ws);
    return NULL;
}

static void agents_predict_concurrently_from_one_library(void **state)
{
    (void)state;
    hv_rng rng;
    hv_rng_seed(&rng, 23);
    double prices[1000];
    tu_prices(&rng, prices, 1000);
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = 32;
    hv_dtw_library *lib;
    assert_int_equal(hv_dtw_library_new(&o, &lib), 0);
    assert_true(hv_dtw_library_build(lib, prices, 1000, 1) > 0);
    agent agents[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        agents[t] = (agent){ .lib = lib, .prices = prices, .np = 1000 };
        assert_int_equal(pthread_create(&th[t], NULL, predictor, &agents[t]), 0);
    }
    agent solo = { .lib = lib, .prices = prices, .np = 1000 };
    predictor(&solo);
    for (int t = 0; t < 3; t++)
        pthread_join(th[t], NULL);
    assert_int_equal(solo.rv, 0);
    for (int t = 0; t < 3; t++) {
        assert_int_equal(agents[t].rv, 0);
        assert_memory_equal(agents[t].out, solo.out, sizeof(solo.out));
    }
    hv_dtw_library_free(lib);
}

static void pool_refuses_bad_arguments(void **state)
{
    (void)state;
    hv_dtw_opts p;
    hv_dtw_opts_default(&p);
    p.len = 16;
    hv_dtw_pool *pool;
    assert_int_equal(hv_dtw_pool_new(&p, 0, 1, &pool), HV_EINVAL);
    assert_int_equal(hv_dtw_pool_new(&p, HV_DTW_THREADS_MAX + 1, 1, &pool), HV_EINVAL);
    assert_int_equal(hv_dtw_pool_new(&p, 2, 0, &pool), HV_EINVAL);
    assert_int_equal(hv_dtw_pool_new(&p, 2, 2, &pool), 0);
    hv_dtw_set *set;
    assert_int_equal(hv_dtw_set_new(&p, 1, &set), 0);
    double q[16] = { 0 };
    hv_dtw_match m[3];
    assert_int_equal(hv_dtw_pool_search(pool, set, 0, q, 3, m, NULL), HV_EINVAL);
    assert_int_equal(hv_dtw_pool_search(pool, set, 1, q, 1, m, NULL), HV_EINVAL);
    assert_int_equal(hv_dtw_pool_search(pool, set, 0, q, 1, m, NULL), 0);
    hv_dtw_set_free(set);
    hv_dtw_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_search_equals_single_threaded_search),
        cmocka_unit_test(back_to_back_searches_of_every_size_stay_exact),
        cmocka_unit_test(separate_workspaces_search_one_set_from_many_threads),
        cmocka_unit_test(agents_predict_concurrently_from_one_library),
        cmocka_unit_test(pool_refuses_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

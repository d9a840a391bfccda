#include "hv_test.h"

#include <pthread.h>
#include <stdlib.h>

#include <hivewire/hist.h>
#include <hivewire/rng.h>

static void small_values_are_exact(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1ull << 30, 10), 0);
    for (uint64_t v = 0; v < 2048; v++) {
        uint32_t i = hv_hist_index(&h, v);
        assert_int_equal(hv_hist_lowest_equivalent(&h, i), v);
        assert_int_equal(hv_hist_highest_equivalent(&h, i), v);
    }
    hv_hist_fini(&h);
}

static void bucket_bounds_tile_the_range_within_precision(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1ull << 40, 7), 0);
    uint64_t prev_hi = 0;
    for (uint32_t i = 0; i < h.nbuckets; i++) {
        uint64_t lo = hv_hist_lowest_equivalent(&h, i), hi = hv_hist_highest_equivalent(&h, i);
        if (i > 0)
            assert_int_equal(lo, prev_hi + 1);
        assert_true(hi >= lo);
        /* width <= lo / 2^sub_bits: the relative error bound */
        assert_true((hi - lo) * 128 <= (lo > 0 ? lo : 1));
        assert_int_equal(hv_hist_index(&h, lo), i);
        assert_int_equal(hv_hist_index(&h, hi), i);
        prev_hi = hi;
    }
    assert_true(prev_hi >= h.value_max);
    hv_hist_fini(&h);
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void quantiles_match_sorted_values_within_precision(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1ull << 36, 10), 0);
    hv_rng r;
    hv_rng_seed(&r, 42);
    enum { N = 20000 };
    uint64_t *vals = malloc(N * sizeof(uint64_t));
    for (int i = 0; i < N; i++) {
        vals[i] = 100 + hv_rng_below(&r, 10000000);
        hv_hist_record(&h, vals[i]);
    }
    qsort(vals, N, sizeof(uint64_t), cmp);
    const double qs[] = { 0.0, 0.5, 0.9, 0.99, 0.999, 1.0 };
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        size_t rank = (size_t)(qs[k] * N + 0.999999);
        if (rank < 1)
            rank = 1;
        uint64_t exact = vals[rank - 1];
        uint64_t got = hv_hist_quantile(&h, qs[k]);
        assert_true(got >= exact);
        assert_true((double)(got - exact) <= (double)exact / 1024.0 + 1);
    }
    assert_int_equal(h.count, N);
    assert_int_equal(h.min, vals[0]);
    assert_int_equal(h.max, vals[N - 1]);
    free(vals);
    hv_hist_fini(&h);
}

static void values_above_max_are_clamped_and_counted(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1u << 20, 8), 0);
    hv_hist_record(&h, 5);
    hv_hist_record(&h, 1ull << 40);
    assert_int_equal(h.overflow, 1);
    assert_int_equal(h.max, 1u << 20);
    assert_int_equal(hv_hist_quantile(&h, 1.0), 1u << 20);
    hv_hist_reset(&h);
    assert_int_equal(h.count, 0);
    assert_int_equal(hv_hist_quantile(&h, 0.5), 0);
    hv_hist_fini(&h);
}

static void bad_parameters_are_rejected(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 100, 10), HV_EINVAL);
    assert_int_equal(hv_hist_init(&h, 1ull << 30, 0), HV_EINVAL);
    assert_int_equal(hv_hist_init(&h, 1ull << 30, 17), HV_EINVAL);
    assert_int_equal(hv_hist_init(NULL, 1ull << 30, 10), HV_EINVAL);
}

static void merge_adds_counts_and_requires_same_shape(void **state)
{
    (void)state;
    hv_hist a, b, c;
    assert_int_equal(hv_hist_init(&a, 1u << 24, 8), 0);
    assert_int_equal(hv_hist_init(&b, 1u << 24, 8), 0);
    assert_int_equal(hv_hist_init(&c, 1u << 24, 9), 0);
    hv_hist_record(&a, 10);
    hv_hist_record(&b, 1000);
    assert_int_equal(hv_hist_merge(&a, &b), 0);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.min, 10);
    assert_true(a.max == 1000);
    assert_int_equal(hv_hist_merge(&a, &c), HV_EINVAL);
    hv_hist_fini(&a);
    hv_hist_fini(&b);
    hv_hist_fini(&c);
}

enum { THREADS = 4, PER_THREAD = 50000 };

static void *record_many(void *arg)
{
    hv_hist *h = arg;
    for (uint64_t i = 0; i < PER_THREAD; i++)
        hv_hist_record_atomic(h, 1 + (i % 5000));
    return NULL;
}

static void atomic_records_from_many_threads_are_all_counted(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1u << 24, 8), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, record_many, &h), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(h.count, (uint64_t)THREADS * PER_THREAD);
    uint64_t total = 0;
    for (uint32_t i = 0; i < h.nbuckets; i++)
        total += h.counts[i];
    assert_int_equal(total, (uint64_t)THREADS * PER_THREAD);
    assert_int_equal(h.min, 1);
    assert_int_equal(h.max, 5000);
    hv_hist_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_values_are_exact),
        cmocka_unit_test(bucket_bounds_tile_the_range_within_precision),
        cmocka_unit_test(quantiles_match_sorted_values_within_precision),
        cmocka_unit_test(values_above_max_are_clamped_and_counted),
        cmocka_unit_test(bad_parameters_are_rejected),
        cmocka_unit_test(merge_adds_counts_and_requires_same_shape),
        cmocka_unit_test(atomic_records_from_many_threads_are_all_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

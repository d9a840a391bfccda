/* Tests of the time queue (src/core/timeq.c): order by due time, ties first in first out,
 * bounds. */
#include "hv_test.h"

#include <hivewire/common.h>
#include <hivewire/rng.h>

#include "core/timeq.h"

static void pops_by_due_time_then_insertion_order(void **state)
{
    (void)state;
    enum { N = 500 };
    hv_timeq q;
    assert_int_equal(hv__timeq_init(&q, N), 0);
    static uint64_t due[N];
    hv_rng r;
    hv_rng_seed(&r, 7);
    for (uintptr_t i = 0; i < N; i++) {
        due[i] = hv_rng_below(&r, 50); /* many ties */
        assert_int_equal(hv__timeq_push(&q, due[i], (void *)(i + 1)), 0);
    }
    assert_int_equal(hv__timeq_push(&q, 0, (void *)1), HV_EFULL);
    uint64_t prev_due = 0;
    uintptr_t prev = 0;
    for (uint64_t now = 0; now < 50; now++) {
        assert_true(hv__timeq_next(&q) >= now);
        void *x;
        while ((x = hv__timeq_pop_due(&q, now)) != NULL) {
            uintptr_t i = (uintptr_t)x - 1;
            assert_int_equal(due[i], now);
            if (due[i] == prev_due && prev != 0)
                assert_true(i > prev - 1); /* ties: first in, first out */
            prev_due = due[i];
            prev = i + 1;
        }
        prev = 0;
    }
    assert_int_equal(q.n, 0);
    assert_int_equal(hv__timeq_next(&q), UINT64_MAX);
    assert_null(hv__timeq_pop_any(&q));
    hv__timeq_fini(&q);
}

static void zero_capacity_refuses_every_push(void **state)
{
    (void)state;
    hv_timeq q;
    assert_int_equal(hv__timeq_init(&q, 0), 0);
    assert_int_equal(hv__timeq_push(&q, 1, &q), HV_EFULL);
    assert_null(hv__timeq_pop_due(&q, UINT64_MAX));
    hv__timeq_fini(&q);
}

static void pop_due_leaves_items_that_are_not_due(void **state)
{
    (void)state;
    hv_timeq q;
    int x[3];
    assert_int_equal(hv__timeq_init(&q, 3), 0);
    assert_int_equal(hv__timeq_push(&q, 30, &x[2]), 0);
    assert_int_equal(hv__timeq_push(&q, 10, &x[0]), 0);
    assert_int_equal(hv__timeq_push(&q, 20, &x[1]), 0);
    assert_int_equal(hv__timeq_next(&q), 10);
    assert_null(hv__timeq_pop_due(&q, 9));
    assert_ptr_equal(hv__timeq_pop_due(&q, 25), &x[0]);
    assert_ptr_equal(hv__timeq_pop_due(&q, 25), &x[1]);
    assert_null(hv__timeq_pop_due(&q, 25));
    assert_ptr_equal(hv__timeq_pop_any(&q), &x[2]);
    hv__timeq_fini(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pops_by_due_time_then_insertion_order),
        cmocka_unit_test(zero_capacity_refuses_every_push),
        cmocka_unit_test(pop_due_leaves_items_that_are_not_due),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

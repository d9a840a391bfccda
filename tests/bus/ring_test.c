/* Tests of the SPSC ring and the MPMC queue (hivewire/ring.h). */
#include "hv_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include <hivewire/ring.h>

static void spsc_rejects_bad_capacity(void **state)
{
    (void)state;
    hv_spsc *r = NULL;
    assert_int_equal(hv_spsc_new(3, 8, &r), HV_EINVAL);
    assert_int_equal(hv_spsc_new(1, 8, &r), HV_EINVAL);
    assert_int_equal(hv_spsc_new(8, 0, &r), HV_EINVAL);
    assert_int_equal(hv_spsc_new(8, 65537, &r), HV_EINVAL);
    assert_int_equal(hv_spsc_new(8, 8, NULL), HV_EINVAL);
}

static void spsc_is_fifo_and_reports_full_and_empty(void **state)
{
    (void)state;
    hv_spsc *r;
    assert_int_equal(hv_spsc_new(4, sizeof(uint64_t), &r), 0);
    uint64_t v;
    assert_int_equal(hv_spsc_try_pop(r, &v), HV_EAGAIN);
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(hv_spsc_try_push(r, &i), 0);
    uint64_t x = 99;
    assert_int_equal(hv_spsc_try_push(r, &x), HV_EFULL);
    assert_int_equal(hv_spsc_size(r), 4);
    for (uint64_t i = 0; i < 4; i++) {
        assert_int_equal(hv_spsc_try_pop(r, &v), 0);
        assert_int_equal(v, i);
    }
    assert_int_equal(hv_spsc_try_pop(r, &v), HV_EAGAIN);
    hv_spsc_free(r);
}

static void spsc_batch_runs_stop_at_the_wrap(void **state)
{
    (void)state;
    hv_spsc *r;
    assert_int_equal(hv_spsc_new(8, 4, &r), 0);
    void *p;
    assert_int_equal(hv_spsc_reserve(r, 6, &p), 6);
    hv_spsc_commit(r, 6);
    assert_int_equal(hv_spsc_peek(r, 8, &p), 6);
    hv_spsc_release(r, 6);
    /* tail at 6: only 2 contiguous slots before the end of the array */
    assert_int_equal(hv_spsc_reserve(r, 8, &p), 2);
    hv_spsc_commit(r, 2);
    assert_int_equal(hv_spsc_reserve(r, 8, &p), 6);
    hv_spsc_commit(r, 6);
    assert_int_equal(hv_spsc_reserve(r, 1, &p), 0);
    assert_int_equal(hv_spsc_peek(r, 8, &p), 2);
    hv_spsc_release(r, 2);
    assert_int_equal(hv_spsc_peek(r, 8, &p), 6);
    hv_spsc_free(r);
}

#define SPSC_N 200000u

static void *spsc_producer(void *arg)
{
    hv_spsc *r = arg;
    uint64_t next = 0;
    while (next < SPSC_N) {
        void *p;
        uint32_t n = hv_spsc_reserve(r, 16, &p);
        for (uint32_t i = 0; i < n && next < SPSC_N; i++, next++)
            ((uint64_t *)p)[i] = next;
        if (n > 0)
            hv_spsc_commit(r, n);
    }
    return NULL;
}

static void spsc_two_threads_transfer_everything_in_order(void **state)
{
    (void)state;
    hv_spsc *r;
    assert_int_equal(hv_spsc_new(64, sizeof(uint64_t), &r), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, spsc_producer, r), 0);
    uint64_t expect = 0;
    while (expect < SPSC_N) {
        void *p;
        uint32_t n = hv_spsc_peek(r, 32, &p);
        for (uint32_t i = 0; i < n; i++, expect++)
            assert_int_equal(((uint64_t *)p)[i], expect);
        hv_spsc_release(r, n);
    }
    pthread_join(t, NULL);
    assert_int_equal(hv_spsc_size(r), 0);
    hv_spsc_free(r);
}

static void mpmc_pop_n_takes_the_ready_head_in_order(void **state)
{
    (void)state;
    hv_mpmc *q = aligned_alloc(HV_RING_ALIGN, sizeof(hv_mpmc));
    assert_int_equal(hv_mpmc_init(q, 8), 0);
    void *v[8];
    assert_int_equal(hv_mpmc_pop_n(q, v, 8), 0);
    for (uintptr_t round = 0; round < 5; round++) { /* wraps the ring several times */
        for (uintptr_t i = 1; i <= 6; i++)
            assert_int_equal(hv_mpmc_push(q, (void *)(round * 10 + i)), 0);
        assert_int_equal(hv_mpmc_pop_n(q, v, 4), 4);
        for (uintptr_t i = 0; i < 4; i++)
            assert_ptr_equal(v[i], (void *)(round * 10 + i + 1));
        assert_int_equal(hv_mpmc_pop_n(q, v, 8), 2);
        assert_ptr_equal(v[1], (void *)(round * 10 + 6));
    }
    hv_mpmc_fini(q);
    free(q);
}

static void mpmc_is_fifo_and_reports_full_and_empty(void **state)
{
    (void)state;
    hv_mpmc *q = aligned_alloc(HV_RING_ALIGN, sizeof(hv_mpmc));
    assert_int_equal(hv_mpmc_init(q, 3), HV_EINVAL);
    assert_int_equal(hv_mpmc_init(q, 4), 0);
    void *v;
    assert_false(hv_mpmc_ready(q));
    assert_int_equal(hv_mpmc_pop(q, &v), HV_EAGAIN);
    for (uintptr_t i = 1; i <= 4; i++)
        assert_int_equal(hv_mpmc_push(q, (void *)i), 0);
    assert_int_equal(hv_mpmc_push(q, (void *)5), HV_EFULL);
    assert_int_equal(hv_mpmc_size(q), 4);
    assert_true(hv_mpmc_ready(q));
    for (uintptr_t i = 1; i <= 4; i++) {
        assert_int_equal(hv_mpmc_pop(q, &v), 0);
        assert_ptr_equal(v, (void *)i);
    }
    assert_int_equal(hv_mpmc_pop(q, &v), HV_EAGAIN);
    hv_mpmc_fini(q);
    free(q);
}

static void mpmc_push_n_fills_what_fits_in_order(void **state)
{
    (void)state;
    hv_mpmc *q = aligned_alloc(HV_RING_ALIGN, sizeof(hv_mpmc));
    assert_int_equal(hv_mpmc_init(q, 8), 0);
    void *v[8];
    for (uintptr_t i = 0; i < 8; i++)
        v[i] = (void *)(i + 1);
    assert_int_equal(hv_mpmc_push(q, (void *)100), 0);
    assert_int_equal(hv_mpmc_push_n(q, v, 8), 7); /* only 7 cells free */
    assert_int_equal(hv_mpmc_push_n(q, v, 3), 0); /* full */
    void *out[8];
    assert_int_equal(hv_mpmc_pop_n(q, out, 3), 3);
    assert_ptr_equal(out[0], (void *)100);
    assert_ptr_equal(out[1], (void *)1);
    assert_ptr_equal(out[2], (void *)2);
    assert_int_equal(hv_mpmc_push_n(q, v, 8), 3); /* wraps around the end of the cells */
    assert_int_equal(hv_mpmc_pop_n(q, out, 8), 8);
    for (uintptr_t i = 0; i < 5; i++)
        assert_ptr_equal(out[i], (void *)(i + 3));
    for (uintptr_t i = 0; i < 3; i++)
        assert_ptr_equal(out[5 + i], (void *)(i + 1));
    assert_false(hv_mpmc_ready(q));
    assert_false(hv_mpmc_claimed(q));
    hv_mpmc_fini(q);
    free(q);
}

#define MP_PRODUCERS 4
#define MP_N         50000u

typedef struct mp_arg {
    hv_mpmc *q;
    uintptr_t producer;
} mp_arg;

/* Even producers push one at a time, odd ones in runs of 1 .. 7 with hv_mpmc_push_n. */
static void *mp_producer(void *arg)
{
    mp_arg *a = arg;
    for (uintptr_t i = 0; i < MP_N;) {
        void *v[7];
        uint32_t want = a->producer % 2 ? (uint32_t)(i % 7) + 1 : 1;
        if (want > MP_N - i)
            want = (uint32_t)(MP_N - i);
        for (uint32_t k = 0; k < want; k++)
            v[k] = (void *)((a->producer << 32) | (i + k + 1));
        uint32_t done = want == 1 ? hv_mpmc_push(a->q, v[0]) == 0 : hv_mpmc_push_n(a->q, v, want);
        if (done == 0)
            sched_yield();
        i += done;
    }
    return NULL;
}

static void mpmc_many_producers_lose_nothing_and_keep_per_producer_order(void **state)
{
    (void)state;
    hv_mpmc *q = aligned_alloc(HV_RING_ALIGN, sizeof(hv_mpmc));
    assert_int_equal(hv_mpmc_init(q, 256), 0);
    pthread_t t[MP_PRODUCERS];
    mp_arg args[MP_PRODUCERS];
    for (int i = 0; i < MP_PRODUCERS; i++) {
        args[i].q = q;
        args[i].producer = (uintptr_t)i;
        assert_int_equal(pthread_create(&t[i], NULL, mp_producer, &args[i]), 0);
    }
    uint64_t last[MP_PRODUCERS] = { 0 };
    uint64_t total = 0;
    while (total < (uint64_t)MP_PRODUCERS * MP_N) {
        void *v[8];
        uint32_t n = total % 2 ? hv_mpmc_pop_n(q, v, 8) : hv_mpmc_pop(q, v) == 0;
        if (n == 0) {
            sched_yield();
            continue;
        }
        for (uint32_t k = 0; k < n; k++) {
            uintptr_t x = (uintptr_t)v[k];
            uint32_t p = (uint32_t)(x >> 32), seq = (uint32_t)x;
            assert_true(p < MP_PRODUCERS);
            assert_int_equal(seq, last[p] + 1); /* no loss, no duplicate, in order */
            last[p] = seq;
        }
        total += n;
    }
    for (int i = 0; i < MP_PRODUCERS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(last[i], MP_N);
    }
    void *v;
    assert_int_equal(hv_mpmc_pop(q, &v), HV_EAGAIN);
    hv_mpmc_fini(q);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spsc_rejects_bad_capacity),
        cmocka_unit_test(spsc_is_fifo_and_reports_full_and_empty),
        cmocka_unit_test(spsc_batch_runs_stop_at_the_wrap),
        cmocka_unit_test(spsc_two_threads_transfer_everything_in_order),
        cmocka_unit_test(mpmc_is_fifo_and_reports_full_and_empty),
        cmocka_unit_test(mpmc_pop_n_takes_the_ready_head_in_order),
        cmocka_unit_test(mpmc_push_n_fills_what_fits_in_order),
        cmocka_unit_test(mpmc_many_producers_lose_nothing_and_keep_per_producer_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

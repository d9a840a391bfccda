#include "hv_test.h"

#include <math.h>

#include <hivewire/rng.h>

static void same_seed_gives_same_sequence(void **state)
{
    (void)state;
    hv_rng a, b;
    hv_rng_seed(&a, 7);
    hv_rng_seed(&b, 7);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hv_rng_next(&a), hv_rng_next(&b));
    hv_rng_seed(&b, 8);
    int differ = 0;
    for (int i = 0; i < 10; i++)
        differ += hv_rng_next(&a) != hv_rng_next(&b);
    assert_true(differ > 0);
}

static void below_stays_in_range_and_covers_it(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 1);
    int seen[7] = { 0 };
    for (int i = 0; i < 7000; i++) {
        uint64_t v = hv_rng_below(&r, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_true(seen[i] > 800 && seen[i] < 1200);
    assert_int_equal(hv_rng_below(&r, 0), 0);
}

static void uniform_and_normal_have_expected_moments(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 3);
    double su = 0, sn = 0, sn2 = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double u = hv_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        su += u;
        double z = hv_rng_normal(&r);
        sn += z;
        sn2 += z * z;
    }
    assert_true(fabs(su / N - 0.5) < 0.01);
    assert_true(fabs(sn / N) < 0.01);
    assert_true(fabs(sn2 / N - 1.0) < 0.02);
}

static void jump_makes_a_different_stream(void **state)
{
    (void)state;
    hv_rng a, b;
    hv_rng_seed(&a, 11);
    b = a;
    hv_rng_jump(&b);
    assert_int_not_equal(hv_rng_next(&a), hv_rng_next(&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_gives_same_sequence),
        cmocka_unit_test(below_stays_in_range_and_covers_it),
        cmocka_unit_test(uniform_and_normal_have_expected_moments),
        cmocka_unit_test(jump_makes_a_different_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

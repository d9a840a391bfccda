/* HV_ASSERT stays on in every build; HV_DEBUG_ASSERT only without NDEBUG. */
#include "hv_test.h"

#include "core/assert.h"

static int evaluated;

static int count_and_return(int v)
{
    evaluated++;
    return v;
}

static void holds(void *arg)
{
    int *x = arg;
    HV_ASSERT(*x == 1);
}

static void breaks(void *arg)
{
    int *x = arg;
    HV_ASSERT(*x == 2);
}

static void breaks_in_debug(void *arg)
{
    (void)arg;
    HV_DEBUG_ASSERT(count_and_return(0));
}

static void a_true_invariant_passes_quietly(void **state)
{
    (void)state;
    int x = 1;
    assert_int_equal(hv_test_aborts(holds, &x), 0);
}

static void a_false_invariant_aborts_in_every_build(void **state)
{
    (void)state;
    int x = 1;
    assert_int_equal(hv_test_aborts(breaks, &x), 1);
}

static void debug_asserts_are_evaluated_only_without_ndebug(void **state)
{
    (void)state;
    evaluated = 0;
    HV_DEBUG_ASSERT(count_and_return(1));
#ifdef NDEBUG
    assert_int_equal(evaluated, 0);
    assert_int_equal(hv_test_aborts(breaks_in_debug, NULL), 0);
#else
    assert_int_equal(evaluated, 1);
    assert_int_equal(hv_test_aborts(breaks_in_debug, NULL), 1);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_true_invariant_passes_quietly),
        cmocka_unit_test(a_false_invariant_aborts_in_every_build),
        cmocka_unit_test(debug_asserts_are_evaluated_only_without_ndebug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

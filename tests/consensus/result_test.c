#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/consensus.h>

static hv_agent_result bytes(uint64_t agent, const char *s)
{
    return (hv_agent_result){ .agent = agent,
                              .weight = 1,
                              .success = 1,
                              .output = (const uint8_t *)s,
                              .output_len = strlen(s) };
}

static hv_agent_result num(uint64_t agent, double v)
{
    return (hv_agent_result){ .agent = agent, .weight = 1, .success = 1, .value = v };
}

static const hv_result_opts BYTES_MAJ = { .rule = HV_RESULT_MAJORITY, .tolerance = -1 };

static void default_threshold_is_exactly_67_percent(void **state)
{
    (void)state;
    hv_agent_result r[3] = { bytes(1, "buy"), bytes(2, "buy"), bytes(3, "sell") };
    hv_result_decision d;
    assert_int_equal(hv_result_vote(r, 3, &BYTES_MAJ, &d), 0);
    assert_false(d.agreed); /* 2/3 = 0.666... < 0.67 */
    assert_int_equal(d.bound, 3);
    assert_int_equal(d.support, 2);
    hv_result_opts two_thirds = BYTES_MAJ;
    two_thirds.num = 2;
    two_thirds.den = 3;
    assert_int_equal(hv_result_vote(r, 3, &two_thirds, &d), 0);
    assert_true(d.agreed);
    assert_string_equal((const char *)r[d.winner].output, "buy");
    hv_agent_result r100[100];
    for (int i = 0; i < 100; i++)
        r100[i] = bytes((uint64_t)i, i < 67 ? "x" : "y");
    assert_int_equal(hv_result_vote(r100, 100, &BYTES_MAJ, &d), 0);
    assert_true(d.agreed); /* 67 of 100 reaches 0.67 */
    r100[66] = bytes(66, "y");
    assert_int_equal(hv_result_vote(r100, 100, &BYTES_MAJ, &d), 0);
    assert_false(d.agreed);
}

static void failed_results_count_against_agreement(void **state)
{
    (void)state;
    hv_agent_result r[4] = { bytes(1, "a"), bytes(2, "a"), bytes(3, "a"), bytes(4, "a") };
    r[3].success = 0;
    hv_result_decision d;
    hv_result_opts u = { .rule = HV_RESULT_UNANIMOUS, .tolerance = -1 };
    assert_int_equal(hv_result_vote(r, 4, &u, &d), 0);
    assert_false(d.agreed);
    assert_int_equal(d.failed, 1);
    assert_int_equal(hv_result_vote(r, 3, &u, &d), 0);
    assert_true(d.agreed);
}

static void ties_break_by_output_then_agent_not_input_order(void **state)
{
    (void)state;
    hv_agent_result r[4] = { bytes(9, "zeta"), bytes(8, "zeta"), bytes(7, "alfa"),
                             bytes(6, "alfa") };
    hv_result_opts half = { .rule = HV_RESULT_MAJORITY, .num = 1, .den = 2, .tolerance = -1 };
    hv_result_decision d1, d2;
    assert_int_equal(hv_result_vote(r, 4, &half, &d1), 0);
    hv_agent_result rev[4] = { r[3], r[2], r[1], r[0] };
    assert_int_equal(hv_result_vote(rev, 4, &half, &d2), 0);
    assert_true(d1.tied && d2.tied);
    assert_string_equal((const char *)r[d1.winner].output, "alfa");
    assert_int_equal(r[d1.winner].agent, 6);
    assert_int_equal(rev[d2.winner].agent, 6);
    hv_agent_result shorter[2] = { bytes(1, "bb"), bytes(2, "a") };
    assert_int_equal(hv_result_vote(shorter, 2, &half, &d1), 0);
    assert_int_equal(shorter[d1.winner].agent, 2);
}

static void numbers_agree_within_the_tolerance(void **state)
{
    (void)state;
    hv_agent_result r[5] = { num(1, 100.00), num(2, 100.04), num(3, 99.97), num(4, 100.2),
                             num(5, NAN) };
    hv_result_opts o = { .rule = HV_RESULT_MAJORITY, .num = 3, .den = 5, .tolerance = 0.05 };
    hv_result_decision d;
    assert_int_equal(hv_result_vote(r, 5, &o, &d), 0);
    assert_true(d.agreed);
    assert_int_equal(d.support, 3);
    assert_int_equal(d.failed, 1);
    assert_int_equal(r[d.winner].agent, 1);
    o.tolerance = 0.01;
    assert_int_equal(hv_result_vote(r, 5, &o, &d), 0);
    assert_false(d.agreed);
    assert_int_equal(d.support, 1);
    assert_true(d.tied);
    assert_int_equal(r[d.winner].agent, 3); /* equal support: the smallest number */
}

static void weighted_result_vote_uses_weights(void **state)
{
    (void)state;
    hv_agent_result r[3] = { bytes(1, "a"), bytes(2, "b"), bytes(3, "b") };
    r[0].weight = 5;
    hv_result_opts o = { .rule = HV_RESULT_WEIGHTED, .tolerance = -1 };
    hv_result_decision d;
    assert_int_equal(hv_result_vote(r, 3, &o, &d), 0);
    assert_true(d.agreed); /* 5 of 7 >= 0.67 */
    assert_int_equal(r[d.winner].agent, 1);
    assert_int_equal(d.support_weight, 5);
    r[0].weight = 4; /* 4 of 6 = 0.666.. < 0.67 */
    assert_int_equal(hv_result_vote(r, 3, &o, &d), 0);
    assert_false(d.agreed);
}

static void bft_result_vote_needs_two_f_plus_one(void **state)
{
    (void)state;
    hv_agent_result r[4] = { bytes(1, "a"), bytes(2, "a"), bytes(3, "b"), bytes(4, "c") };
    hv_result_opts o = { .rule = HV_RESULT_BFT, .tolerance = -1 };
    hv_result_decision d;
    assert_int_equal(hv_result_vote(r, 4, &o, &d), 0);
    assert_false(d.agreed);
    assert_int_equal(d.bound, 3);
    r[2] = bytes(3, "a");
    assert_int_equal(hv_result_vote(r, 4, &o, &d), 0);
    assert_true(d.agreed);
    assert_int_equal(hv_result_vote(r, 3, &o, &d), HV_ETOOFEWVOTERS);
}

static void bad_inputs_are_refused(void **state)
{
    (void)state;
    hv_agent_result r[1] = { bytes(1, "a") };
    hv_result_decision d;
    assert_int_equal(hv_result_vote(r, 0, &BYTES_MAJ, &d), HV_EINVAL);
    assert_int_equal(hv_result_vote(r, HV_RESULT_VOTE_MAX + 1, &BYTES_MAJ, &d), HV_ERANGE);
    hv_result_opts o = { .rule = HV_RESULT_MAJORITY, .num = 3, .den = 2, .tolerance = -1 };
    assert_int_equal(hv_result_vote(r, 1, &o, &d), HV_EINVAL);
    r[0].output = NULL;
    assert_int_equal(hv_result_vote(r, 1, &BYTES_MAJ, &d), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_threshold_is_exactly_67_percent),
        cmocka_unit_test(failed_results_count_against_agreement),
        cmocka_unit_test(ties_break_by_output_then_agent_not_input_order),
        cmocka_unit_test(numbers_agree_within_the_tolerance),
        cmocka_unit_test(weighted_result_vote_uses_weights),
        cmocka_unit_test(bft_result_vote_needs_two_f_plus_one),
        cmocka_unit_test(bad_inputs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

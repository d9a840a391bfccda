#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/consensus.h>
#include <hivewire/rng.h>

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

static const hv_result_opts BYTES_MAJ = { .size = sizeof(hv_result_opts),
                                          .rule = HV_RESULT_MAJORITY,
                                          .tolerance = -1 };

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
    hv_result_opts u = { .size = sizeof(hv_result_opts),
                         .rule = HV_RESULT_UNANIMOUS,
                         .tolerance = -1 };
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
    hv_result_opts half = { .size = sizeof(hv_result_opts),
                            .rule = HV_RESULT_MAJORITY,
                            .num = 1,
                            .den = 2,
                            .tolerance = -1 };
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
    hv_result_opts o = { .size = sizeof(hv_result_opts),
                         .rule = HV_RESULT_MAJORITY,
                         .num = 3,
                         .den = 5,
                         .tolerance = 0.05 };
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
    hv_result_opts o = { .size = sizeof(hv_result_opts),
                         .rule = HV_RESULT_WEIGHTED,
                         .tolerance = -1 };
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
    hv_result_opts o = { .size = sizeof(hv_result_opts), .rule = HV_RESULT_BFT, .tolerance = -1 };
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
    hv_result_opts o = { .size = sizeof(hv_result_opts),
                         .rule = HV_RESULT_MAJORITY,
                         .num = 3,
                         .den = 2,
                         .tolerance = -1 };
    assert_int_equal(hv_result_vote(r, 1, &o, &d), HV_EINVAL);
    r[0].output = NULL;
    assert_int_equal(hv_result_vote(r, 1, &BYTES_MAJ, &d), HV_EINVAL);
}

/* ---- brute-force reference: every candidate against every result ---- */

static int ref_valid(const hv_agent_result *r, double tol)
{
    return r->success && (tol < 0 || isfinite(r->value));
}

static int ref_agree(const hv_agent_result *x, const hv_agent_result *y, double tol)
{
    if (tol >= 0)
        return fabs(x->value - y->value) <= tol;
    return x->output_len == y->output_len && memcmp(x->output, y->output, x->output_len) == 0;
}

static int ref_before(const hv_agent_result *x, const hv_agent_result *y, double tol)
{
    if (tol >= 0 && x->value != y->value)
        return x->value < y->value;
    if (tol < 0 && x->output_len != y->output_len)
        return x->output_len < y->output_len;
    if (tol < 0 && memcmp(x->output, y->output, x->output_len) != 0)
        return memcmp(x->output, y->output, x->output_len) < 0;
    return x->agent < y->agent;
}

static void ref_vote(const hv_agent_result *r, size_t n, double tol, int weighted, size_t *win,
                     uint64_t *sup, int *tied)
{
    uint64_t s[64];
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        s[i] = 0;
        for (size_t j = 0; ref_valid(&r[i], tol) && j < n; j++)
            if (ref_valid(&r[j], tol) && ref_agree(&r[i], &r[j], tol))
                s[i] += weighted ? r[j].weight : 1;
        if (!ref_valid(&r[i], tol))
            continue;
        if (!found || s[i] > s[*win] || (s[i] == s[*win] && ref_before(&r[i], &r[*win], tol)))
            *win = i;
        found = 1;
    }
    *sup = found ? s[*win] : 0;
    *tied = 0;
    for (size_t i = 0; found && i < n; i++)
        if (ref_valid(&r[i], tol) && s[i] == *sup && !ref_agree(&r[i], &r[*win], tol))
            *tied = 1;
}

static void sorted_vote_matches_brute_force_reference(void **state)
{
    (void)state;
    static const char *const words[] = { "a", "b", "ab", "ba", "" };
    hv_rng rng;
    hv_rng_seed(&rng, 11);
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + hv_rng_below(&rng, 40);
        int numeric = hv_rng_below(&rng, 2), weighted = hv_rng_below(&rng, 2);
        double tol = numeric ? (double)hv_rng_below(&rng, 4) * 0.5 : -1;
        hv_agent_result r[64];
        for (size_t i = 0; i < n; i++) {
            const char *w = words[hv_rng_below(&rng, 5)];
            r[i] = (hv_agent_result){ .agent = 1000 - i * 7 + hv_rng_below(&rng, 7),
                                      .weight = (uint32_t)hv_rng_below(&rng, 4),
                                      .success = hv_rng_below(&rng, 8) != 0,
                                      .output = (const uint8_t *)w,
                                      .output_len = strlen(w),
                                      .value = (double)hv_rng_below(&rng, 9) * 0.5 };
            if (hv_rng_below(&rng, 30) == 0)
                r[i].value = NAN;
        }
        hv_result_opts o = { .size = sizeof(hv_result_opts),
                             .rule = weighted ? HV_RESULT_WEIGHTED : HV_RESULT_MAJORITY,
                             .num = 1,
                             .den = 2,
                             .tolerance = tol };
        hv_result_decision d;
        assert_int_equal(hv_result_vote(r, n, &o, &d), 0);
        size_t win = 0;
        uint64_t sup;
        int tied;
        ref_vote(r, n, tol, weighted, &win, &sup, &tied);
        if (sup == 0 && !d.support && !d.support_weight)
            continue; /* nothing valid: no winner to compare */
        assert_int_equal(d.winner, win);
        assert_int_equal(weighted ? d.support_weight : d.support, sup);
        assert_int_equal(d.tied, tied);
    }
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
        cmocka_unit_test(sorted_vote_matches_brute_force_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

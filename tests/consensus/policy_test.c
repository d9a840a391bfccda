#include "hv_test.h"

#include <hivewire/consensus.h>

static void default_table_maps_actions_to_the_issue_defaults(void **state)
{
    (void)state;
    hv_crit_table t;
    hv_crit_table_default(&t);
    static const struct {
        uint32_t action;
        hv_crit crit;
        hv_rule rule;
    } want[] = {
        { HV_ACTION_ORDER_EXECUTION, HV_CRIT_CRITICAL, HV_RULE_BFT },
        { HV_ACTION_POSITION_CHANGE, HV_CRIT_CRITICAL, HV_RULE_BFT },
        { HV_ACTION_RISK_LIMIT_CHANGE, HV_CRIT_CRITICAL, HV_RULE_BFT },
        { HV_ACTION_RISK_CALCULATION, HV_CRIT_HIGH, HV_RULE_BFT },
        { HV_ACTION_PATTERN_MATCH, HV_CRIT_MEDIUM, HV_RULE_THRESHOLD },
        { HV_ACTION_STRATEGY_SIGNAL, HV_CRIT_MEDIUM, HV_RULE_THRESHOLD },
        { HV_ACTION_OTHER, HV_CRIT_LOW, HV_RULE_SIMPLE_MAJORITY },
        { HV_ACTION_MAX - 1, HV_CRIT_LOW, HV_RULE_SIMPLE_MAJORITY },
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        hv_crit c;
        hv_policy p;
        assert_int_equal(hv_crit_table_lookup(&t, want[i].action, &c, &p), 0);
        assert_int_equal(c, want[i].crit);
        assert_int_equal(p.rule, want[i].rule);
        if (p.rule == HV_RULE_THRESHOLD) {
            assert_int_equal(p.num, 3);
            assert_int_equal(p.den, 4);
        }
    }
    assert_int_equal(hv_crit_table_lookup(&t, HV_ACTION_MAX, NULL, NULL), HV_ERANGE);
}

static void table_overrides_are_checked(void **state)
{
    (void)state;
    hv_crit_table t;
    hv_crit_table_default(&t);
    assert_int_equal(hv_crit_table_set_action(&t, 20, HV_CRIT_HIGH), 0);
    hv_crit c;
    assert_int_equal(hv_crit_table_lookup(&t, 20, &c, NULL), 0);
    assert_int_equal(c, HV_CRIT_HIGH);
    assert_int_equal(hv_crit_table_set_action(&t, HV_ACTION_MAX, HV_CRIT_HIGH), HV_ERANGE);
    assert_int_equal(hv_crit_table_set_action(&t, 1, (hv_crit)9), HV_ERANGE);
    hv_policy bad = { .rule = HV_RULE_THRESHOLD, .num = 0, .den = 4 };
    assert_int_equal(hv_crit_table_set_policy(&t, HV_CRIT_LOW, &bad), HV_EINVAL);
    hv_policy autop = { .rule = HV_RULE_AUTO };
    assert_int_equal(hv_crit_table_set_policy(&t, HV_CRIT_LOW, &autop), HV_EINVAL);
    hv_policy w = { .rule = HV_RULE_WEIGHTED, .num = 2, .den = 3 };
    assert_int_equal(hv_crit_table_set_policy(&t, HV_CRIT_LOW, &w), 0);
    hv_policy p;
    assert_int_equal(hv_crit_table_lookup(&t, HV_ACTION_OTHER, NULL, &p), 0);
    assert_int_equal(p.rule, HV_RULE_WEIGHTED);
}

static void bounds_for_common_sizes(void **state)
{
    (void)state;
    struct {
        hv_policy p;
        uint32_t n;
        uint64_t w, bound;
    } cases[] = {
        { { HV_RULE_MAJORITY, 0, 0, 0 }, 5, 5, 3 },
        { { HV_RULE_MAJORITY, 0, 0, 2 }, 5, 5, 2 },
        { { HV_RULE_SIMPLE_MAJORITY, 0, 0, 0 }, 4, 4, 3 },
        { { HV_RULE_SIMPLE_MAJORITY, 0, 0, 0 }, 5, 5, 3 },
        { { HV_RULE_THRESHOLD, 2, 3, 0 }, 4, 4, 3 },
        { { HV_RULE_THRESHOLD, 2, 3, 0 }, 3, 3, 2 },
        { { HV_RULE_THRESHOLD, 3, 4, 0 }, 5, 5, 4 },
        { { HV_RULE_THRESHOLD, 67, 100, 0 }, 3, 3, 3 },
        { { HV_RULE_WEIGHTED, 0, 0, 0 }, 4, 6, 4 },
        { { HV_RULE_WEIGHTED, 2, 3, 0 }, 4, 9, 7 },
        { { HV_RULE_UNANIMOUS, 0, 0, 0 }, 6, 6, 6 },
        { { HV_RULE_BFT, 0, 0, 0 }, 4, 4, 3 },
        { { HV_RULE_BFT, 0, 0, 0 }, 5, 5, 4 },
        { { HV_RULE_BFT, 0, 0, 0 }, 7, 7, 5 },
        { { HV_RULE_BFT, 0, 0, 0 }, 10, 10, 7 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t b = 0;
        assert_int_equal(hv_policy_bound(&cases[i].p, cases[i].n, cases[i].w, &b), 0);
        assert_int_equal(b, cases[i].bound);
    }
    hv_policy w = { .rule = HV_RULE_WEIGHTED };
    uint64_t b;
    assert_int_equal(hv_policy_bound(&w, 3, 0, &b), HV_EINVAL);
}

static void names_are_printable(void **state)
{
    (void)state;
    assert_string_equal(hv_rule_name(HV_RULE_BFT), "BFT");
    assert_string_equal(hv_outcome_name(HV_OUTCOME_NO_QUORUM), "NO_QUORUM");
    assert_string_equal(hv_crit_name(HV_CRIT_CRITICAL), "CRITICAL");
    assert_string_equal(hv_rule_name((hv_rule)99), "UNKNOWN");
    assert_string_equal(hv_err_name(HV_EVOTEMISMATCH), "HV_EVOTEMISMATCH");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_table_maps_actions_to_the_issue_defaults),
        cmocka_unit_test(table_overrides_are_checked),
        cmocka_unit_test(bounds_for_common_sizes),
        cmocka_unit_test(names_are_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

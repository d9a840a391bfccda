#include "hv_test.h"

#include <hivewire/exchange.h>

typedef struct pair {
    hv_order_state from, to;
} pair;

/* The complete list of valid transitions; every other pair must be refused. */
static const pair valid[] = {
    { HV_ORDER_NEW, HV_ORDER_SUBMITTED },
    { HV_ORDER_NEW, HV_ORDER_REJECTED },
    { HV_ORDER_SUBMITTED, HV_ORDER_ACCEPTED },
    { HV_ORDER_SUBMITTED, HV_ORDER_REJECTED },
    { HV_ORDER_ACCEPTED, HV_ORDER_PARTIALLY_FILLED },
    { HV_ORDER_ACCEPTED, HV_ORDER_FILLED },
    { HV_ORDER_ACCEPTED, HV_ORDER_CANCELLED },
    { HV_ORDER_ACCEPTED, HV_ORDER_EXPIRED },
    { HV_ORDER_PARTIALLY_FILLED, HV_ORDER_PARTIALLY_FILLED },
    { HV_ORDER_PARTIALLY_FILLED, HV_ORDER_FILLED },
    { HV_ORDER_PARTIALLY_FILLED, HV_ORDER_CANCELLED },
    { HV_ORDER_PARTIALLY_FILLED, HV_ORDER_EXPIRED },
};

static int is_valid(hv_order_state from, hv_order_state to)
{
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if (valid[i].from == from && valid[i].to == to)
            return 1;
    return 0;
}

static void every_listed_transition_is_accepted(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        assert_int_equal(hv_order_transition_check(valid[i].from, valid[i].to), 0);
        hv_order_state s = valid[i].from;
        assert_int_equal(hv_order_transition(&s, valid[i].to), 0);
        assert_int_equal(s, valid[i].to);
    }
}

static void every_other_pair_is_refused_and_leaves_the_state_alone(void **state)
{
    (void)state;
    int refused = 0;
    for (int f = 0; f < HV_ORDER_STATE_COUNT; f++) {
        for (int t = 0; t < HV_ORDER_STATE_COUNT; t++) {
            if (is_valid((hv_order_state)f, (hv_order_state)t))
                continue;
            assert_int_equal(hv_order_transition_check((hv_order_state)f, (hv_order_state)t),
                             HV_EBADTRANSITION);
            hv_order_state s = (hv_order_state)f;
            assert_int_equal(hv_order_transition(&s, (hv_order_state)t), HV_EBADTRANSITION);
            assert_int_equal(s, f);
            refused++;
        }
    }
    assert_int_equal(refused, 64 - 12);
}

static void terminal_states_have_no_way_out(void **state)
{
    (void)state;
    const hv_order_state terminal[] = { HV_ORDER_FILLED, HV_ORDER_CANCELLED, HV_ORDER_REJECTED,
                                        HV_ORDER_EXPIRED };
    for (size_t i = 0; i < 4; i++) {
        assert_true(hv_order_state_is_terminal(terminal[i]));
        for (int t = 0; t < HV_ORDER_STATE_COUNT; t++)
            assert_int_equal(hv_order_transition_check(terminal[i], (hv_order_state)t),
                             HV_EBADTRANSITION);
    }
    assert_false(hv_order_state_is_terminal(HV_ORDER_NEW));
    assert_false(hv_order_state_is_terminal(HV_ORDER_SUBMITTED));
    assert_false(hv_order_state_is_terminal(HV_ORDER_ACCEPTED));
    assert_false(hv_order_state_is_terminal(HV_ORDER_PARTIALLY_FILLED));
}

static void out_of_range_states_are_refused(void **state)
{
    (void)state;
    assert_int_equal(hv_order_transition_check((hv_order_state)8, HV_ORDER_NEW), HV_EBADTRANSITION);
    assert_int_equal(hv_order_transition_check(HV_ORDER_NEW, (hv_order_state)-1),
                     HV_EBADTRANSITION);
    assert_false(hv_order_state_is_terminal((hv_order_state)99));
    assert_string_equal(hv_order_state_name((hv_order_state)99), "unknown");
}

static void states_have_names(void **state)
{
    (void)state;
    assert_string_equal(hv_order_state_name(HV_ORDER_PARTIALLY_FILLED), "partially_filled");
    assert_string_equal(hv_order_state_name(HV_ORDER_EXPIRED), "expired");
    assert_string_equal(hv_order_state_name(HV_ORDER_NEW), "new");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_listed_transition_is_accepted),
        cmocka_unit_test(every_other_pair_is_refused_and_leaves_the_state_alone),
        cmocka_unit_test(terminal_states_have_no_way_out),
        cmocka_unit_test(out_of_range_states_are_refused),
        cmocka_unit_test(states_have_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

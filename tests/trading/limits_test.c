#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/exchange.h>

#include "trading/near.h"

static hv_limits *limits_with(int64_t pos, double notional, uint32_t rate, uint64_t interval,
                              double dd)
{
    hv_limits_opts c;
    hv_limits_opts_default(&c);
    c.position_max = pos;
    c.order_notional_max = notional;
    c.orders_per_interval_max = rate;
    c.interval_ns = interval;
    c.drawdown_max_frac = dd;
    hv_limits *l = NULL;
    assert_int_equal(hv_limits_new(&c, &l), 0);
    assert_non_null(l);
    return l;
}

static hv_limits_input order(hv_side side, int64_t qty, double price)
{
    return (hv_limits_input){ .side = side, .qty = qty, .price = price };
}

static void position_limit_allows_exactly_the_max_and_trips_one_above(void **state)
{
    (void)state;
    hv_limits *l = limits_with(100, 0, 0, 0, 0);
    hv_limit_breach b;
    hv_limits_input in = order(HV_SIDE_BUY, 20, 10);
    in.position = 60;
    in.open_buy_qty = 20;
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), 0); /* 60 + 20 + 20 = 100 */
    in.qty = 21;
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), HV_ELIMIT);
    assert_int_equal(b.limit, HV_LIMIT_POSITION);
    assert_near(b.value, 101, 0);
    assert_near(b.limit_value, 100, 0);
    hv_limits_free(l);
}

static void position_limit_applies_to_shorts_with_open_sells(void **state)
{
    (void)state;
    hv_limits *l = limits_with(100, 0, 0, 0, 0);
    hv_limit_breach b;
    hv_limits_input in = order(HV_SIDE_SELL, 20, 10);
    in.position = -60;
    in.open_sell_qty = 20;
    in.open_buy_qty = 1000; /* buys do not count against a sell */
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), 0);
    in.qty = 21;
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), HV_ELIMIT);
    assert_int_equal(b.limit, HV_LIMIT_POSITION);
    assert_near(b.value, 101, 0);
    /* A sell that reduces a long position passes even when large. */
    in.position = 150;
    in.open_sell_qty = 0;
    in.qty = 200;
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), 0);
    hv_limits_free(l);
}

static void notional_limit_allows_exactly_the_max_and_trips_above(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 10000, 0, 0, 0);
    hv_limit_breach b;
    hv_limits_input in = order(HV_SIDE_BUY, 100, 100);
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), 0);
    in.price = nextafter(100.0, 200.0);
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), HV_ELIMIT);
    assert_int_equal(b.limit, HV_LIMIT_ORDER_NOTIONAL);
    assert_true(b.value > 10000);
    assert_near(b.limit_value, 10000, 0);
    in = order(HV_SIDE_SELL, 101, 100);
    assert_int_equal(hv_limits_admit(l, &in, 0, &b), HV_ELIMIT);
    assert_near(b.value, 10100, 0);
    hv_limits_free(l);
}

static void rate_limit_counts_a_sliding_window(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 0, 3, 1000, 0);
    hv_limit_breach b;
    hv_limits_input in = order(HV_SIDE_BUY, 1, 1);
    assert_int_equal(hv_limits_admit(l, &in, 100, &b), 0);
    assert_int_equal(hv_limits_admit(l, &in, 101, &b), 0);
    assert_int_equal(hv_limits_admit(l, &in, 102, &b), 0); /* the third: exactly the max */
    assert_int_equal(hv_limits_admit(l, &in, 103, &b), HV_ELIMIT);
    assert_int_equal(b.limit, HV_LIMIT_ORDER_RATE);
    assert_near(b.value, 4, 0);
    assert_near(b.limit_value, 3, 0);
    /* At 1099 the order of t=100 is still inside (1099 - 1000, 1099]. */
    assert_int_equal(hv_limits_admit(l, &in, 1099, &b), HV_ELIMIT);
    /* At 1100 it has left the window; one slot frees. */
    assert_int_equal(hv_limits_admit(l, &in, 1100, &b), 0);
    assert_int_equal(hv_limits_admit(l, &in, 1100, &b), HV_ELIMIT);
    assert_int_equal(hv_limits_admit(l, &in, 1101, &b), 0);
    hv_limits_free(l);
}

static void refused_orders_do_not_use_up_the_rate(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 50, 2, 1000, 0);
    hv_limits_input big = order(HV_SIDE_BUY, 100, 1), small = order(HV_SIDE_BUY, 1, 1);
    for (int i = 0; i < 10; i++)
        assert_int_equal(hv_limits_admit(l, &big, 5, NULL), HV_ELIMIT);
    assert_int_equal(hv_limits_admit(l, &small, 5, NULL), 0);
    assert_int_equal(hv_limits_admit(l, &small, 5, NULL), 0);
    assert_int_equal(hv_limits_admit(l, &small, 5, NULL), HV_ELIMIT);
    hv_limits_stats s;
    hv_limits_stats_get(l, &s);
    assert_int_equal(s.checks, 13);
    assert_int_equal(s.admitted, 2);
    assert_int_equal(s.trips[HV_LIMIT_ORDER_NOTIONAL], 10);
    assert_int_equal(s.trips[HV_LIMIT_ORDER_RATE], 1);
    hv_limits_free(l);
}

static void kill_switch_trips_just_above_the_max_drawdown_and_latches(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 0, 0, 0, 0.1);
    hv_limit_breach b;
    hv_limits_input in = order(HV_SIDE_BUY, 1, 1);
    in.drawdown_frac = (1000.0 - 900.0) / 1000.0; /* exactly 10% */
    assert_int_equal(hv_limits_admit(l, &in, 1, &b), 0);
    assert_int_equal(hv_limits_halted(l, NULL), 0);
    in.drawdown_frac = nextafter(0.1, 1.0);
    assert_int_equal(hv_limits_admit(l, &in, 2, &b), HV_EHALTED);
    assert_int_equal(b.limit, HV_LIMIT_DRAWDOWN);
    assert_true(b.value > 0.1);
    assert_int_equal(b.now_ns, 2);
    /* Recovery does not lift the halt: it latches until an operator resumes. */
    in.drawdown_frac = 0;
    assert_int_equal(hv_limits_admit(l, &in, 3, &b), HV_EHALTED);
    assert_int_equal(b.now_ns, 2); /* still the breach that tripped it */
    hv_limit_breach why;
    assert_int_equal(hv_limits_halted(l, &why), 1);
    assert_int_equal(why.limit, HV_LIMIT_DRAWDOWN);
    char msg[128];
    hv_limit_breach_format(&why, msg, sizeof(msg));
    assert_non_null(strstr(msg, "halted"));
    hv_limits_resume(l);
    assert_int_equal(hv_limits_admit(l, &in, 4, &b), 0);
    hv_limits_free(l);
}

static void drawdown_updates_trip_the_kill_switch_without_an_order(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 0, 0, 0, 0.25);
    hv_limit_breach b;
    assert_int_equal(hv_limits_update_drawdown(l, 0.25, 10, &b), 0);
    assert_int_equal(hv_limits_update_drawdown(l, 0.3, 11, &b), HV_EHALTED);
    assert_near(b.value, 0.3, 0);
    assert_near(b.limit_value, 0.25, 0);
    hv_limits_stats s;
    hv_limits_stats_get(l, &s);
    assert_int_equal(s.halted, 1);
    assert_int_equal(s.trips[HV_LIMIT_DRAWDOWN], 1);
    hv_limits_input in = order(HV_SIDE_SELL, 1, 1);
    assert_int_equal(hv_limits_admit(l, &in, 12, &b), HV_EHALTED);
    hv_limits_free(l);
}

static void disabled_limits_never_trip(void **state)
{
    (void)state;
    hv_limits *l = limits_with(0, 0, 0, 0, 0);
    hv_limits_input in = order(HV_SIDE_BUY, INT64_MAX / 2, 1e300);
    in.position = INT64_MAX / 4;
    in.drawdown_frac = 0.99;
    for (uint64_t t = 0; t < 1000; t++)
        assert_int_equal(hv_limits_admit(l, &in, t, NULL), 0);
    hv_limits_free(l);
}

static void bad_config_and_input_are_refused(void **state)
{
    (void)state;
    hv_limits_opts c;
    hv_limits_opts_default(&c);
    c.orders_per_interval_max = 5; /* no interval */
    assert_int_equal(hv_limits_new(&c, &(hv_limits *){ NULL }), HV_EINVAL);
    hv_limits_opts_default(&c);
    c.position_max = -1;
    assert_int_equal(hv_limits_new(&c, &(hv_limits *){ NULL }), HV_EINVAL);
    hv_limits_opts_default(&c);
    c.drawdown_max_frac = NAN;
    assert_int_equal(hv_limits_new(&c, &(hv_limits *){ NULL }), HV_EINVAL);
    hv_limits_opts_default(&c);
    c.size = 4;
    assert_int_equal(hv_limits_new(&c, &(hv_limits *){ NULL }), HV_EINVAL);
    hv_limits *l = limits_with(0, 0, 0, 0, 0);
    hv_limits_input in = order(HV_SIDE_BUY, 0, 1);
    assert_int_equal(hv_limits_admit(l, &in, 0, NULL), HV_EINVAL);
    in = order(HV_SIDE_BUY, 1, NAN);
    assert_int_equal(hv_limits_admit(l, &in, 0, NULL), HV_EINVAL);
    in = order(HV_SIDE_BUY, 1, 1);
    assert_int_equal(hv_limits_admit(l, &in, 10, NULL), 0);
    assert_int_equal(hv_limits_admit(l, &in, 9, NULL), HV_ERANGE);
    hv_limits_free(l);
}

static void breaches_format_with_their_numbers(void **state)
{
    (void)state;
    hv_limit_breach b = { .limit = HV_LIMIT_ORDER_NOTIONAL, .value = 10500, .limit_value = 10000 };
    char msg[128];
    hv_limit_breach_format(&b, msg, sizeof(msg));
    assert_string_equal(msg, "limit order_notional: 10500.00 > max 10000.00");
    assert_string_equal(hv_limit_name(HV_LIMIT_ORDER_RATE), "order_rate");
    assert_string_equal(hv_limit_name((hv_limit_id)77), "none");
}

static void config_check_names_the_bad_field_at_each_edge(void **state)
{
    (void)state;
    hv_limits_opts c;
    hv_field_error e;
    hv_limits_opts_default(&c);
    assert_int_equal(hv_limits_opts_check(&c, &e), 0);
    c.drawdown_max_frac = 0.999999;
    assert_int_equal(hv_limits_opts_check(&c, &e), 0);
    c.drawdown_max_frac = 1;
    assert_int_equal(hv_limits_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "drawdown_max_frac");
    c.drawdown_max_frac = 1e308;
    assert_int_equal(hv_limits_opts_check(&c, &e), HV_EINVAL);
    assert_int_equal(hv_limits_new(&c, &(hv_limits *){ NULL }), HV_EINVAL);
    hv_limits_opts_default(&c);
    c.orders_per_interval_max = 1000000;
    c.interval_ns = 1;
    assert_int_equal(hv_limits_opts_check(&c, &e), 0);
    c.orders_per_interval_max = 1000001;
    assert_int_equal(hv_limits_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "orders_per_interval_max");
    c.orders_per_interval_max = 5;
    c.interval_ns = 0;
    assert_int_equal(hv_limits_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "interval_ns");
    hv_limits_opts_default(&c);
    c.order_notional_max = -1;
    assert_int_equal(hv_limits_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "order_notional_max");
    hv_limits_opts_default(&c);
    c.position_max = -1;
    assert_int_equal(hv_limits_opts_check(&c, NULL), HV_EINVAL);
    assert_int_equal(hv_limits_opts_check(NULL, &e), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(position_limit_allows_exactly_the_max_and_trips_one_above),
        cmocka_unit_test(position_limit_applies_to_shorts_with_open_sells),
        cmocka_unit_test(notional_limit_allows_exactly_the_max_and_trips_above),
        cmocka_unit_test(rate_limit_counts_a_sliding_window),
        cmocka_unit_test(refused_orders_do_not_use_up_the_rate),
        cmocka_unit_test(kill_switch_trips_just_above_the_max_drawdown_and_latches),
        cmocka_unit_test(drawdown_updates_trip_the_kill_switch_without_an_order),
        cmocka_unit_test(disabled_limits_never_trip),
        cmocka_unit_test(bad_config_and_input_are_refused),
        cmocka_unit_test(breaches_format_with_their_numbers),
        cmocka_unit_test(config_check_names_the_bad_field_at_each_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

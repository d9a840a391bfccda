#include "hv_test.h"

#include <math.h>

#include <hivewire/exchange.h>
#include <hivewire/rng.h>

#include "trading/near.h"

static hv_portfolio_stats stats_of(const hv_portfolio *p)
{
    hv_portfolio_stats s;
    hv_portfolio_stats_get(p, &s);
    return s;
}

static void round_trip_books_realised_pnl_and_fees_apart(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(10000, 16, &p), 0);
    assert_non_null(p);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 10, 100, 1.5), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 10, 110, 1.5), 0);
    hv_portfolio_stats s = stats_of(p);
    assert_int_equal(s.position, 20);
    assert_near(s.avg_cost, 105, 1e-12);
    assert_near(s.cash, 10000 - 1000 - 1100 - 3, 1e-9);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_SELL, 20, 120, 2), 0);
    s = stats_of(p);
    assert_int_equal(s.position, 0);
    assert_near(s.avg_cost, 0, 0);
    assert_near(s.realized_pnl, 20 * 15, 1e-9);
    assert_near(s.fees, 5, 1e-12);
    assert_near(s.cash, 10000 + 300 - 5, 1e-9);
    assert_near(s.equity, 10295, 1e-9);
    assert_int_equal(s.fills, 3);
    assert_int_equal(s.shares_traded, 40);
    assert_near(s.notional_traded, 1000 + 1100 + 2400, 1e-9);
    hv_portfolio_free(p);
}

static void short_positions_profit_when_price_falls(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(1000, 4, &p), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_SELL, 5, 50, 0), 0);
    assert_int_equal(hv_portfolio_mark(p, 40, 1), 0);
    hv_portfolio_stats s = stats_of(p);
    assert_int_equal(s.position, -5);
    assert_near(s.unrealized_pnl, 50, 1e-12);
    assert_near(s.equity, 1050, 1e-12);
    /* Buying 8 closes 5 (realising 50) and opens 3 long at 40. */
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 8, 40, 0), 0);
    s = stats_of(p);
    assert_int_equal(s.position, 3);
    assert_near(s.realized_pnl, 50, 1e-12);
    assert_near(s.avg_cost, 40, 0);
    hv_portfolio_free(p);
}

static void drawdown_is_measured_peak_to_trough(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(1000, 64, &p), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 10, 100, 0), 0);
    /* equity = 0 cash + 10 * price: 1000 at 100 */
    const double prices[] = { 100, 120, 90, 110, 80, 130, 117 };
    for (int i = 0; i < 7; i++)
        assert_int_equal(hv_portfolio_mark(p, prices[i], (uint64_t)i), 0);
    hv_portfolio_stats s = stats_of(p);
    /* Peak 1200 -> trough 800: 400, a third; later peak 1300 -> 1170 is only 10%. */
    assert_near(s.max_drawdown, 400, 1e-9);
    assert_near(s.max_drawdown_frac, 400.0 / 1200.0, 1e-12);
    assert_near(s.equity_peak, 1300, 1e-9);
    assert_near(s.drawdown, 130, 1e-9);
    assert_near(s.drawdown_frac, 0.1, 1e-12);
    hv_portfolio_free(p);
}

static void equity_always_equals_initial_cash_plus_pnl_minus_fees(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(1e6, 128, &p), 0);
    hv_rng r;
    hv_rng_seed(&r, 7);
    double price = 100;
    for (uint64_t t = 0; t < 5000; t++) {
        price *= 1 + 0.01 * hv_rng_normal(&r);
        if (price < 1)
            price = 1;
        hv_side side = hv_rng_below(&r, 2) ? HV_SIDE_BUY : HV_SIDE_SELL;
        int64_t qty = 1 + (int64_t)hv_rng_below(&r, 100);
        assert_int_equal(hv_portfolio_apply_fill(p, side, qty, price, 0.01 * (double)qty), 0);
        assert_int_equal(hv_portfolio_mark(p, price * (1 + 0.001 * hv_rng_normal(&r)), t), 0);
        hv_portfolio_stats s = stats_of(p);
        double rhs = s.cash_initial + s.realized_pnl + s.unrealized_pnl - s.fees;
        assert_near(s.equity, rhs, 1e-6 * (1 + fabs(s.equity)));
        assert_true(s.drawdown >= 0);
        assert_true(s.max_drawdown >= s.drawdown);
    }
    hv_portfolio_free(p);
}

static void equity_curve_stays_bounded_and_spans_the_whole_run(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(100, 8, &p), 0);
    for (uint64_t t = 0; t < 1001; t++)
        assert_int_equal(hv_portfolio_mark(p, 1 + (double)t, t * 10), 0);
    const uint64_t *ts;
    const double *eq;
    size_t n = hv_portfolio_curve(p, &ts, &eq);
    assert_true(n >= 2 && n <= 9);
    assert_int_equal(ts[0], 0);
    assert_int_equal(ts[n - 1], 10000); /* the latest mark is always present */
    for (size_t i = 1; i < n; i++)
        assert_true(ts[i] > ts[i - 1]);
    hv_portfolio_free(p);
}

static void curve_keeps_every_mark_until_full(void **state)
{
    (void)state;
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(100, 8, &p), 0);
    for (uint64_t t = 0; t < 8; t++)
        assert_int_equal(hv_portfolio_mark(p, 10, t), 0);
    const uint64_t *ts;
    const double *eq;
    assert_int_equal(hv_portfolio_curve(p, &ts, &eq), 8);
    assert_int_equal(hv_portfolio_mark(p, 10, 8), 0);
    size_t n = hv_portfolio_curve(p, &ts, &eq);
    assert_int_equal(n, 5); /* 0 2 4 6 kept, then 8 */
    assert_int_equal(ts[3], 6);
    assert_int_equal(ts[4], 8);
    hv_portfolio_free(p);
}

static void bad_numbers_are_refused(void **state)
{
    (void)state;
    assert_int_equal(hv_portfolio_new(0, 8, &(hv_portfolio *){ NULL }), HV_EINVAL);
    assert_int_equal(hv_portfolio_new(NAN, 8, &(hv_portfolio *){ NULL }), HV_EINVAL);
    assert_int_equal(hv_portfolio_new(10, 1, &(hv_portfolio *){ NULL }), HV_EINVAL);
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(100, 8, &p), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 0, 10, 0), HV_EINVAL);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 1, -1, 0), HV_EINVAL);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 1, INFINITY, 0), HV_EINVAL);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 1, 10, -1), HV_EINVAL);
    assert_int_equal(hv_portfolio_apply_fill(p, (hv_side)5, 1, 10, 0), HV_EINVAL);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, INT64_MAX, 1, 0), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 1, 1, 0), HV_EINVAL);
    assert_int_equal(hv_portfolio_mark(p, 0, 5), HV_EINVAL);
    assert_int_equal(hv_portfolio_mark(p, 1, 5), 0);
    assert_int_equal(hv_portfolio_mark(p, 1, 4), HV_ERANGE);
    hv_portfolio_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_books_realised_pnl_and_fees_apart),
        cmocka_unit_test(short_positions_profit_when_price_falls),
        cmocka_unit_test(drawdown_is_measured_peak_to_trough),
        cmocka_unit_test(equity_always_equals_initial_cash_plus_pnl_minus_fees),
        cmocka_unit_test(equity_curve_stays_bounded_and_spans_the_whole_run),
        cmocka_unit_test(curve_keeps_every_mark_until_full),
        cmocka_unit_test(bad_numbers_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

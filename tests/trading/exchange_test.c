#include "hv_test.h"

#include <string.h>

#include <hivewire/exchange.h>
#include <hivewire/rng.h>

#include "trading/exchange_sim.h"
#include "trading/near.h"

/* A quiet exchange: fixed 10 ns one-way latency, no fees, no slippage, no volume cap. */
static hv_exchange_opts quiet(void)
{
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.fee_bps = 0;
    c.fee_min = 0;
    c.half_spread_bps = 0;
    c.impact_bps = 0;
    c.participation_max = 1;
    c.latency_fixed_ns = 10;
    c.latency_jitter_ns = 0;
    c.price_band_frac = 0;
    return c;
}

static hv_exchange *exchange(const hv_exchange_opts *c)
{
    hv_exchange *x = NULL;
    assert_int_equal(hv_exchange_new(c, &x), 0);
    assert_non_null(x);
    return x;
}

static hv_bar bar(double open, double high, double low, double close, double volume)
{
    return (hv_bar){ .day = 0,
                     .open = open,
                     .high = high,
                     .low = low,
                     .close = close,
                     .adjclose = close,
                     .volume = volume };
}

static hv_order_request market(hv_side side, int64_t qty)
{
    return (
        hv_order_request){ .side = side, .type = HV_ORDER_MARKET, .tif = HV_TIF_GTC, .qty = qty };
}

static hv_order_request limit(hv_side side, int64_t qty, double price)
{
    return (hv_order_request){
        .side = side, .type = HV_ORDER_LIMIT, .tif = HV_TIF_GTC, .qty = qty, .limit_price = price
    };
}

static uint64_t submit(hv_exchange *x, hv_order_request r, uint64_t now)
{
    uint64_t id = 0;
    assert_int_equal(hv_exchange_submit(x, &r, now, &id), 0);
    return id;
}

/* Polls at `now` and expects exactly one report of `type`. */
static hv_exec_report expect(hv_exchange *x, uint64_t now, hv_exec_type type)
{
    hv_exec_report r;
    assert_int_equal(hv_exchange_poll(x, now, &r), 1);
    if (r.type != type)
        fail_msg("got report %s, expected %s", hv_exec_type_name(r.type), hv_exec_type_name(type));
    return r;
}

static void market_order_fills_at_the_next_bar_open_after_latency(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, market(HV_SIDE_BUY, 100), 0);
    assert_int_equal(id, 1);
    hv_exec_report r;
    assert_int_equal(hv_exchange_poll(x, 19, &r), 0); /* arrives at 10, ack back at 20 */
    r = expect(x, 20, HV_EXEC_ACK);
    assert_int_equal(r.state, HV_ORDER_ACCEPTED);
    assert_int_equal(r.exchange_ns, 10);
    assert_int_equal(r.deliver_ns, 20);
    hv_bar b = bar(100, 105, 95, 102, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 1);
    assert_int_equal(hv_exchange_poll(x, 109, &r), 0);
    r = expect(x, 110, HV_EXEC_FILL);
    assert_int_equal(r.state, HV_ORDER_FILLED);
    assert_int_equal(r.fill_qty, 100);
    assert_near(r.fill_price, 100, 0);
    assert_int_equal(r.leaves_qty, 0);
    assert_int_equal(r.exchange_ns, 100);
    hv_order o;
    assert_int_equal(hv_exchange_order(x, id, &o), HV_ENOTFOUND); /* done and reported */
    hv_exchange_free(x);
}

static void an_order_still_in_flight_misses_the_bar(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    submit(x, market(HV_SIDE_BUY, 5), 95); /* arrives at 105 */
    hv_bar b1 = bar(100, 101, 99, 100, 1e6), b2 = bar(110, 111, 109, 110, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b1, 100), 0);
    assert_int_equal(hv_exchange_on_bar(x, &b2, 200), 1);
    expect(x, 300, HV_EXEC_ACK);
    hv_exec_report r = expect(x, 300, HV_EXEC_FILL);
    assert_near(r.fill_price, 110, 0);
    hv_exchange_free(x);
}

static void slippage_grows_with_size_against_volume(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.half_spread_bps = 1;
    c.impact_bps = 100;
    hv_exchange *x = exchange(&c);
    submit(x, market(HV_SIDE_BUY, 2500), 0); /* sqrt(2500 / 10000) = 0.5: 1 + 50 bps */
    hv_bar b = bar(100, 110, 90, 100, 10000);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 1);
    expect(x, 200, HV_EXEC_ACK);
    hv_exec_report r = expect(x, 200, HV_EXEC_FILL);
    assert_near(r.fill_price, 100 * (1 + 51e-4), 1e-9);
    submit(x, market(HV_SIDE_SELL, 100), 300); /* sqrt(0.01) = 0.1: 1 + 10 bps */
    assert_int_equal(hv_exchange_on_bar(x, &b, 400), 1);
    expect(x, 500, HV_EXEC_ACK);
    r = expect(x, 500, HV_EXEC_FILL);
    assert_near(r.fill_price, 100 * (1 - 11e-4), 1e-9);
    hv_exchange_free(x);
}

static void slippage_never_leaves_the_bar_range(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.impact_bps = 10000;
    hv_exchange *x = exchange(&c);
    submit(x, market(HV_SIDE_BUY, 1000), 0);
    submit(x, market(HV_SIDE_SELL, 1000), 0);
    hv_bar b = bar(100, 101, 98, 100, 1e6); /* 10000 bp * sqrt(0.001): about 316 bp */
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 2);
    expect(x, 200, HV_EXEC_ACK);
    expect(x, 200, HV_EXEC_ACK);
    assert_near(expect(x, 200, HV_EXEC_FILL).fill_price, 101, 0);
    assert_near(expect(x, 200, HV_EXEC_FILL).fill_price, 98, 0);
    hv_exchange_free(x);
}

static void participation_cap_splits_an_order_over_bars(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.participation_max = 0.1;
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, market(HV_SIDE_BUY, 250), 0);
    hv_bar b = bar(100, 100, 100, 100, 1000); /* 100 shares per bar */
    expect(x, 50, HV_EXEC_ACK);
    const int64_t want[3] = { 100, 100, 50 };
    const hv_order_state st[3] = { HV_ORDER_PARTIALLY_FILLED, HV_ORDER_PARTIALLY_FILLED,
                                   HV_ORDER_FILLED };
    for (int i = 0; i < 3; i++) {
        uint64_t t = 100 * (uint64_t)(i + 1);
        assert_int_equal(hv_exchange_on_bar(x, &b, t), 1);
        hv_exec_report r = expect(x, t + 10, HV_EXEC_FILL);
        assert_int_equal(r.fill_qty, want[i]);
        assert_int_equal(r.state, st[i]);
        assert_int_equal(r.order_id, id);
        if (i < 2) {
            hv_order o;
            assert_int_equal(hv_exchange_order(x, id, &o), 0);
            assert_int_equal(o.filled_qty, 100 * (i + 1));
            assert_int_equal(o.leaves_qty, 250 - 100 * (i + 1));
        }
    }
    hv_exchange_free(x);
}

static void orders_share_the_bar_volume_in_time_priority(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.participation_max = 0.1;
    hv_exchange *x = exchange(&c);
    uint64_t a = submit(x, market(HV_SIDE_BUY, 70), 0);
    uint64_t b2 = submit(x, market(HV_SIDE_BUY, 70), 1);
    hv_bar b = bar(100, 100, 100, 100, 1000);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 2);
    expect(x, 200, HV_EXEC_ACK);
    expect(x, 200, HV_EXEC_ACK);
    hv_exec_report r = expect(x, 200, HV_EXEC_FILL);
    assert_int_equal(r.order_id, a);
    assert_int_equal(r.fill_qty, 70);
    r = expect(x, 200, HV_EXEC_FILL);
    assert_int_equal(r.order_id, b2);
    assert_int_equal(r.fill_qty, 30);
    hv_exchange_free(x);
}

static void fees_charge_bps_with_a_per_order_minimum(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.fee_bps = 10;
    c.fee_min = 5;
    c.participation_max = 0.1;
    hv_exchange *x = exchange(&c);
    submit(x, market(HV_SIDE_BUY, 100), 0); /* 10000 notional: 10 > minimum */
    hv_bar big = bar(100, 100, 100, 100, 1e9);
    assert_int_equal(hv_exchange_on_bar(x, &big, 100), 1);
    expect(x, 200, HV_EXEC_ACK);
    assert_near(expect(x, 200, HV_EXEC_FILL).fee, 10, 1e-9);
    /* An order filled in 10 pieces of 1000 notional: minimum first, then top-ups. */
    submit(x, market(HV_SIDE_BUY, 100), 300);
    expect(x, 350, HV_EXEC_ACK);
    hv_bar small = bar(100, 100, 100, 100, 100); /* 10 shares per bar */
    double fees = 0;
    const double want[10] = { 5, 0, 0, 0, 0, 1, 1, 1, 1, 1 };
    for (int i = 0; i < 10; i++) {
        uint64_t t = 400 + 100 * (uint64_t)i;
        assert_int_equal(hv_exchange_on_bar(x, &small, t), 1);
        hv_exec_report r = expect(x, t + 10, HV_EXEC_FILL);
        assert_near(r.fee, want[i], 1e-9);
        fees += r.fee;
    }
    assert_near(fees, 10, 1e-9); /* max(10000 * 10 bp, 5) */
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_near(s.fees, 20, 1e-9);
    hv_exchange_free(x);
}

static void an_order_that_never_fills_pays_no_fee(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.fee_min = 5;
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, limit(HV_SIDE_BUY, 10, 50), 0);
    hv_bar b = bar(100, 101, 99, 100, 1000);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 0);
    assert_int_equal(hv_exchange_cancel(x, id, 150), 0);
    expect(x, 200, HV_EXEC_ACK);
    hv_exec_report r = expect(x, 200, HV_EXEC_CANCELLED);
    assert_int_equal(r.state, HV_ORDER_CANCELLED);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_near(s.fees, 0, 0);
    hv_exchange_free(x);
}

static void limit_orders_fill_at_the_limit_when_the_bar_trades_through(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    uint64_t buy = submit(x, limit(HV_SIDE_BUY, 10, 97), 0);
    uint64_t sell = submit(x, limit(HV_SIDE_SELL, 10, 104), 0);
    uint64_t deep = submit(x, limit(HV_SIDE_BUY, 10, 95), 0);
    hv_bar b = bar(100, 105, 95, 101, 1e6); /* low 95 is not below 95: no trade-through */
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 2);
    for (int i = 0; i < 3; i++)
        expect(x, 200, HV_EXEC_ACK);
    hv_exec_report r = expect(x, 200, HV_EXEC_FILL);
    assert_int_equal(r.order_id, buy);
    assert_near(r.fill_price, 97, 0);
    r = expect(x, 200, HV_EXEC_FILL);
    assert_int_equal(r.order_id, sell);
    assert_near(r.fill_price, 104, 0);
    hv_order o;
    assert_int_equal(hv_exchange_order(x, deep, &o), 0);
    assert_int_equal(o.state, HV_ORDER_ACCEPTED);
    hv_exchange_free(x);
}

static void marketable_limits_fill_at_the_open_capped_by_the_limit(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.half_spread_bps = 50;
    hv_exchange *x = exchange(&c);
    submit(x, limit(HV_SIDE_BUY, 10, 100.2), 0); /* open 100 + 50 bps = 100.5 > limit */
    submit(x, limit(HV_SIDE_BUY, 10, 101), 0);   /* 100.5 < limit */
    hv_bar b = bar(100, 102, 99, 100, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 2);
    expect(x, 200, HV_EXEC_ACK);
    expect(x, 200, HV_EXEC_ACK);
    assert_near(expect(x, 200, HV_EXEC_FILL).fill_price, 100.2, 0);
    assert_near(expect(x, 200, HV_EXEC_FILL).fill_price, 100.5, 1e-9);
    hv_exchange_free(x);
}

static void cancel_after_the_fill_is_rejected_and_changes_nothing(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, market(HV_SIDE_BUY, 10), 0);
    hv_bar b = bar(100, 100, 100, 100, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 1);
    assert_int_equal(hv_exchange_cancel(x, id, 101), 0); /* fill already happened at 100 */
    assert_int_equal(hv_exchange_cancel(x, id, 101), HV_ESTATE);
    assert_int_equal(hv_exchange_cancel(x, 999, 101), HV_ENOTFOUND);
    expect(x, 200, HV_EXEC_ACK);
    assert_int_equal(expect(x, 200, HV_EXEC_FILL).state, HV_ORDER_FILLED);
    hv_exec_report r = expect(x, 200, HV_EXEC_CANCEL_REJECT);
    assert_int_equal(r.state, HV_ORDER_FILLED);
    assert_int_equal(r.reason, HV_ESTATE);
    assert_int_equal(hv_exchange_poll(x, 1000, &r), 0);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_int_equal(s.open_orders, 0);
    assert_int_equal(s.cancel_rejects, 1);
    /* the late cancel's answer leaves the order FILLED: it is not counted as filled again */
    assert_int_equal(s.filled, 1);
    assert_int_equal(s.filled + s.cancelled, s.submitted);
    hv_exchange_free(x);
}

static void a_cancel_sent_before_the_ack_still_cancels(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, limit(HV_SIDE_SELL, 10, 200), 0);
    assert_int_equal(hv_exchange_cancel(x, id, 1), 0); /* FIFO: arrives after the order */
    expect(x, 100, HV_EXEC_ACK);
    assert_int_equal(expect(x, 100, HV_EXEC_CANCELLED).leaves_qty, 0);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_int_equal(s.open_sell_qty, 0);
    hv_exchange_free(x);
}

static void gtd_orders_expire_at_their_time_and_ioc_after_one_bar(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.participation_max = 0.1;
    hv_exchange *x = exchange(&c);
    hv_order_request gtd = limit(HV_SIDE_BUY, 10, 50);
    gtd.tif = HV_TIF_GTD;
    gtd.expire_ns = 500;
    uint64_t g = submit(x, gtd, 0);
    hv_order_request ioc = market(HV_SIDE_BUY, 150);
    ioc.tif = HV_TIF_IOC;
    uint64_t i = submit(x, ioc, 0);
    expect(x, 20, HV_EXEC_ACK);
    expect(x, 20, HV_EXEC_ACK);
    assert_int_equal(hv_exchange_next_event_ns(x), 500);
    hv_bar b = bar(100, 100, 100, 100, 1000); /* cap 100 */
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 1);
    hv_exec_report r = expect(x, 110, HV_EXEC_FILL);
    assert_int_equal(r.order_id, i);
    assert_int_equal(r.fill_qty, 100);
    r = expect(x, 110, HV_EXEC_EXPIRED);
    assert_int_equal(r.order_id, i);
    assert_int_equal(r.state, HV_ORDER_EXPIRED);
    assert_int_equal(r.filled_qty, 100);
    assert_int_equal(hv_exchange_poll(x, 509, &r), 0);
    r = expect(x, 510, HV_EXEC_EXPIRED);
    assert_int_equal(r.order_id, g);
    assert_int_equal(r.exchange_ns, 500);
    hv_exchange_free(x);
}

static void limits_far_from_the_last_close_are_rejected_by_the_exchange(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.price_band_frac = 0.1;
    hv_exchange *x = exchange(&c);
    hv_bar b = bar(100, 100, 100, 100, 1000);
    assert_int_equal(hv_exchange_on_bar(x, &b, 0), 0);
    submit(x, limit(HV_SIDE_BUY, 1, 89.99), 1);
    submit(x, limit(HV_SIDE_BUY, 1, 90), 1);
    hv_exec_report r = expect(x, 100, HV_EXEC_REJECT);
    assert_int_equal(r.reason, HV_ERANGE);
    assert_int_equal(r.state, HV_ORDER_REJECTED);
    expect(x, 100, HV_EXEC_ACK);
    hv_exchange_free(x);
}

static void reports_arrive_in_order_with_jittered_latency(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.latency_fixed_ns = 1000;
    c.latency_jitter_ns = 5000;
    c.participation_max = 0.05;
    c.seed = 99;
    hv_exchange *x = exchange(&c);
    uint64_t t = 0;
    hv_order_state last[64] = { 0 };
    for (int i = 0; i < 40; i++)
        submit(x, market(i % 2 ? HV_SIDE_SELL : HV_SIDE_BUY, 10 + i), t += 100);
    hv_bar b = bar(100, 100, 100, 100, 1000);
    uint64_t prev_deliver = 0, acks = 0;
    for (int k = 0; k < 50; k++) {
        t += 3000;
        assert_true(hv_exchange_on_bar(x, &b, t) >= 0);
        hv_exec_report r;
        while (hv_exchange_poll(x, t, &r) == 1) {
            assert_true(r.deliver_ns >= prev_deliver);
            assert_true(r.deliver_ns <= t);
            assert_true(r.deliver_ns >= r.exchange_ns + 1000);
            /* one-way latency is at most 6000, unless FIFO holds it behind the previous */
            assert_true(r.deliver_ns <= r.exchange_ns + 6000 || r.deliver_ns == prev_deliver);
            assert_true(r.exchange_ns >= r.submit_ns + 1000);
            prev_deliver = r.deliver_ns;
            if (r.type == HV_EXEC_ACK)
                acks++;
            else
                assert_int_not_equal(last[r.order_id], HV_ORDER_SUBMITTED); /* ack came first */
            if (r.type != HV_EXEC_CANCEL_REJECT)
                assert_int_equal(hv_order_transition_check(last[r.order_id] ? last[r.order_id]
                                                                            : HV_ORDER_SUBMITTED,
                                                           r.state),
                                 0);
            last[r.order_id] = r.state;
        }
        if (k == 0) {
            hv_exchange_stats s;
            hv_exchange_stats_get(x, &s);
            assert_true(s.open_orders > 1); /* several orders in flight at once */
        }
    }
    assert_int_equal(acks, 40);
    const hv_hist *ack = hv_exchange_ack_latency(x);
    assert_int_equal(ack->count, 40);
    assert_true(ack->min >= 2000);
    hv_exchange_free(x);
}

static void an_undrained_report_queue_refuses_bars_without_losing_reports(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.orders_max = 1;
    c.participation_max = 0.001;
    hv_exchange *x = exchange(&c);
    submit(x, market(HV_SIDE_BUY, 1000000), 0);
    hv_bar b = bar(100, 100, 100, 100, 1000); /* 1 share per bar */
    uint64_t t = 100;
    int bars = 0, rc;
    while ((rc = hv_exchange_on_bar(x, &b, t)) == 1) {
        bars++;
        t += 100;
        assert_true(bars < 100);
    }
    assert_int_equal(rc, HV_EFULL);
    hv_exec_report r;
    int fills = 0;
    expect(x, t, HV_EXEC_ACK);
    while (hv_exchange_poll(x, t, &r) == 1)
        fills += r.type == HV_EXEC_FILL;
    assert_int_equal(fills, bars);
    assert_int_equal(hv_exchange_on_bar(x, &b, t), 1);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_int_equal(s.full_refusals, 1);
    hv_exchange_free(x);
}

static void next_event_leads_out_of_a_full_report_queue(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.orders_max = 1;
    c.participation_max = 0.001;
    hv_exchange *x = exchange(&c);
    uint64_t id = submit(x, market(HV_SIDE_BUY, 1000000), 0);
    hv_bar b = bar(100, 100, 100, 100, 1000);
    uint64_t t = 100;
    while (hv_exchange_on_bar(x, &b, t) == 1)
        t += 100;
    assert_int_equal(hv_exchange_cancel(x, id, t), 0);
    t += 10; /* the cancel has arrived, but the report queue has no room for its answer */
    hv_exec_report r = { 0 };
    int polls = 0;
    for (uint64_t next; (next = hv_exchange_next_event_ns(x)) != UINT64_MAX; polls++) {
        assert_true(polls < 1000);
        t = next > t ? next : t;
        while (hv_exchange_poll(x, t, &r) == 1) {
        }
    }
    assert_int_equal(r.type, HV_EXEC_CANCELLED);
    assert_int_equal(r.state, HV_ORDER_CANCELLED);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_int_equal(s.open_orders, 0);
    assert_true(s.backlog_stalls > 0);
    hv_exchange_free(x);
}

static void bad_requests_and_bars_are_refused(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.orders_max = 2;
    hv_exchange *x = exchange(&c);
    hv_order_request r = market(HV_SIDE_BUY, 0);
    assert_int_equal(hv_exchange_submit(x, &r, 0, NULL), HV_EINVAL);
    r = limit(HV_SIDE_BUY, 1, 0);
    assert_int_equal(hv_exchange_submit(x, &r, 0, NULL), HV_EINVAL);
    r = market((hv_side)3, 1);
    assert_int_equal(hv_exchange_submit(x, &r, 0, NULL), HV_EINVAL);
    r = market(HV_SIDE_BUY, 1);
    r.tif = HV_TIF_GTD;
    r.expire_ns = 5;
    assert_int_equal(hv_exchange_submit(x, &r, 5, NULL), HV_EINVAL);
    r = market(HV_SIDE_BUY, 1);
    assert_int_equal(hv_exchange_submit(x, &r, 10, NULL), 0);
    assert_int_equal(hv_exchange_submit(x, &r, 10, NULL), 0);
    assert_int_equal(hv_exchange_submit(x, &r, 10, NULL), HV_EFULL);
    assert_int_equal(hv_exchange_submit(x, &r, 9, NULL), HV_ERANGE);
    hv_bar b = bar(100, 90, 110, 100, 1); /* low > high */
    assert_int_equal(hv_exchange_on_bar(x, &b, 20), HV_EINVAL);
    b = bar(100, 110, 90, 100, -1);
    assert_int_equal(hv_exchange_on_bar(x, &b, 20), HV_EINVAL);
    b = bar(NAN, 110, 90, 100, 1);
    assert_int_equal(hv_exchange_on_bar(x, &b, 20), HV_EINVAL);
    hv_exchange_free(x);
    c.participation_max = 0;
    assert_int_equal(hv_exchange_new(&c, &(hv_exchange *){ NULL }), HV_EINVAL);
    c = quiet();
    c.orders_max = 0;
    assert_int_equal(hv_exchange_new(&c, &(hv_exchange *){ NULL }), HV_EINVAL);
}

static void kill_switch_halts_new_orders_but_cancels_still_work(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    hv_portfolio *pf = NULL;
    assert_int_equal(hv_portfolio_new(10000, 64, &pf), 0);
    hv_limits_opts lc;
    hv_limits_opts_default(&lc);
    lc.drawdown_max_frac = 0.05;
    hv_limits *lim = NULL;
    assert_int_equal(hv_limits_new(&lc, &lim), 0);
    hv_exchange_attach(x, pf, lim);
    hv_bar b = bar(100, 100, 100, 100, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b, 0), 0);
    submit(x, market(HV_SIDE_BUY, 50), 10);
    uint64_t resting = submit(x, limit(HV_SIDE_SELL, 10, 105), 10);
    assert_int_equal(hv_exchange_on_bar(x, &b, 100), 1);
    while (hv_exchange_poll(x, 200, NULL) == 1) {
    }
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(pf, &ps);
    assert_int_equal(ps.position, 50);
    /* price falls 12%: equity 10000 - 600 = 9400, a 6% drawdown */
    assert_int_equal(hv_portfolio_mark(pf, 88, 300), 0);
    hv_order_request r = market(HV_SIDE_SELL, 1);
    assert_int_equal(hv_exchange_submit(x, &r, 400, NULL), HV_EHALTED);
    hv_limit_breach why;
    hv_exchange_last_breach_get(x, &why);
    assert_int_equal(why.limit, HV_LIMIT_DRAWDOWN);
    assert_near(why.value, 0.06, 1e-12);
    char msg[128];
    hv_limit_breach_format(&why, msg, sizeof(msg));
    assert_non_null(strstr(msg, "halted"));
    /* still halted after a recovery, until an operator resumes */
    assert_int_equal(hv_portfolio_mark(pf, 100, 450), 0);
    assert_int_equal(hv_exchange_submit(x, &r, 460, NULL), HV_EHALTED);
    assert_int_equal(hv_exchange_cancel(x, resting, 500), 0);
    expect(x, 600, HV_EXEC_CANCELLED);
    hv_exchange_stats s;
    hv_exchange_stats_get(x, &s);
    assert_int_equal(s.limit_refusals, 2);
    assert_int_equal(s.submitted, 2);
    hv_limits_resume(lim);
    assert_int_equal(hv_exchange_submit(x, &r, 700, NULL), 0);
    hv_exchange_free(x);
    hv_limits_free(lim);
    hv_portfolio_free(pf);
}

static void attached_limits_count_open_orders_toward_the_position(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_exchange *x = exchange(&c);
    hv_limits_opts lc;
    hv_limits_opts_default(&lc);
    lc.position_max = 100;
    hv_limits *lim = NULL;
    assert_int_equal(hv_limits_new(&lc, &lim), 0);
    hv_exchange_attach(x, NULL, lim);
    hv_order_request r = market(HV_SIDE_BUY, 60);
    assert_int_equal(hv_exchange_submit(x, &r, 0, NULL), HV_ESTATE); /* no reference price */
    hv_bar b = bar(100, 100, 100, 100, 1e6);
    assert_int_equal(hv_exchange_on_bar(x, &b, 0), 0);
    assert_int_equal(hv_exchange_submit(x, &r, 1, NULL), 0);
    r.qty = 40;
    assert_int_equal(hv_exchange_submit(x, &r, 2, NULL), 0);
    r.qty = 1;
    assert_int_equal(hv_exchange_submit(x, &r, 3, NULL), HV_ELIMIT);
    hv_limit_breach why;
    hv_exchange_last_breach_get(x, &why);
    assert_int_equal(why.limit, HV_LIMIT_POSITION);
    assert_near(why.value, 101, 0);
    hv_exchange_free(x);
    hv_limits_free(lim);
}

/* A seeded random session; returns a digest of every report and the final P&L. */
static uint64_t session(uint64_t seed, double *pnl)
{
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.seed = seed;
    hv_exchange *x = exchange(&c);
    hv_portfolio *pf = NULL;
    assert_int_equal(hv_portfolio_new(1e6, 256, &pf), 0);
    hv_exchange_attach(x, pf, NULL);
    hv_rng r;
    hv_rng_seed(&r, 1234); /* the market and the strategy are the same for every seed */
    double px = 100;
    uint64_t digest = 1469598103934665603ull, t = 0;
    for (int k = 0; k < 400; k++) {
        t += 1000000;
        double o = px, cl = px * (1 + 0.01 * hv_rng_normal(&r));
        hv_bar b = bar(o, (o > cl ? o : cl) * 1.005, (o < cl ? o : cl) * 0.995, cl,
                       1000 + (double)hv_rng_below(&r, 5000));
        px = cl;
        assert_true(hv_exchange_on_bar(x, &b, t) >= 0);
        hv_order_request q =
            hv_rng_below(&r, 2)
                ? market(HV_SIDE_BUY, 1 + (int64_t)hv_rng_below(&r, 300))
                : limit(HV_SIDE_SELL, 1 + (int64_t)hv_rng_below(&r, 300), px * 1.01);
        hv_exchange_submit(x, &q, t + 10, NULL);
        hv_exec_report rep;
        while (hv_exchange_poll(x, t + 500000, &rep) == 1) {
            uint64_t words[4] = { rep.order_id, rep.deliver_ns, (uint64_t)rep.fill_qty,
                                  (uint64_t)rep.type };
            double f = rep.fill_price;
            for (int i = 0; i < 4; i++)
                digest = (digest ^ words[i]) * 1099511628211ull;
            uint64_t fb;
            memcpy(&fb, &f, sizeof(fb));
            digest = (digest ^ fb) * 1099511628211ull;
        }
        hv_portfolio_mark(pf, px, t + 500000);
    }
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(pf, &ps);
    *pnl = ps.equity;
    hv_exchange_free(x);
    hv_portfolio_free(pf);
    return digest;
}

static void the_same_seed_gives_the_same_trades_and_pnl(void **state)
{
    (void)state;
    double p1, p2, p3;
    uint64_t d1 = session(7, &p1), d2 = session(7, &p2), d3 = session(8, &p3);
    assert_int_equal(d1, d2);
    assert_true(p1 == p2);
    assert_int_not_equal(d1, d3); /* the seed drives the latency jitter */
}

static void random_operations_keep_every_invariant(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 2026);
    enum { STREAMS = 300, LEN = 3000 };
    static uint8_t buf[LEN];
    for (int i = 0; i < STREAMS; i++) {
        for (int j = 0; j < LEN; j++)
            buf[j] = (uint8_t)hv_rng_next(&r);
        int line = hv_sim_run(buf, LEN);
        if (line != 0)
            fail_msg("stream %d: invariant at exchange_sim.h:%d failed", i, line);
    }
}

/* Each check at its edge: the last valid value passes, the next one names its field. */
static void config_check_names_the_bad_field_at_each_edge(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    hv_field_error e;
    assert_int_equal(hv_exchange_opts_check(&c, &e), 0);
    c.fee_bps = HV_EXCHANGE_BPS_MAX;
    assert_int_equal(hv_exchange_opts_check(&c, &e), 0);
    c.fee_bps = 10000.001;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "fee_bps");
    c.fee_bps = 1e308;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    c = quiet();
    c.fee_min = HV_EXCHANGE_FEE_MIN_MAX * 2;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "fee_min");
    c = quiet();
    c.participation_max = 1;
    assert_int_equal(hv_exchange_opts_check(&c, &e), 0);
    c.participation_max = 1.0000001;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "participation_max");
    c = quiet();
    c.latency_fixed_ns = HV_EXCHANGE_LATENCY_MAX_NS;
    c.latency_jitter_ns = HV_EXCHANGE_LATENCY_MAX_NS;
    assert_int_equal(hv_exchange_opts_check(&c, &e), 0);
    c.latency_jitter_ns = HV_EXCHANGE_LATENCY_MAX_NS + 1;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "latency_jitter_ns");
    assert_int_equal(hv_exchange_new(&c, &(hv_exchange *){ NULL }), HV_EINVAL);
    c = quiet();
    c.impact_bps = NAN;
    assert_int_equal(hv_exchange_opts_check(&c, NULL), HV_EINVAL);
    c = quiet();
    c.orders_max = 65537;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "orders_max");
    c = quiet();
    c.size = 8;
    assert_int_equal(hv_exchange_opts_check(&c, &e), HV_EINVAL);
    assert_string_equal(e.field, "size");
}

/* Near the end of the 64-bit clock, events the exchange schedules saturate at UINT64_MAX - 1
 * instead of wrapping to time 0 (where they would be "due" at once, out of order). */
static void events_near_the_end_of_the_clock_saturate(void **state)
{
    (void)state;
    hv_exchange_opts c = quiet();
    c.latency_fixed_ns = 1000;
    hv_exchange *x = exchange(&c);
    uint64_t t = UINT64_MAX - 1500;
    hv_bar b = bar(100, 101, 99, 100, 0);
    assert_true(hv_exchange_on_bar(x, &b, t) >= 0);
    hv_order_request q = {
        .side = HV_SIDE_BUY, .type = HV_ORDER_MARKET, .tif = HV_TIF_GTC, .qty = 1
    };
    assert_int_equal(hv_exchange_submit(x, &q, t + 1, NULL), 0);
    uint64_t next = hv_exchange_next_event_ns(x);
    assert_true(next == t + 1001); /* the arrival still fits */
    assert_true(hv_exchange_on_bar(x, &b, next) >= 0);
    next = hv_exchange_next_event_ns(x); /* the ack would be due past the end: saturated */
    assert_true(next == UINT64_MAX - 1);
    hv_exec_report r;
    int got = 0;
    while (hv_exchange_poll(x, UINT64_MAX - 1, &r) == 1)
        got++;
    assert_int_equal(got, 2); /* the ack and the fill, in order, at the last tick */
    hv_exchange_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(market_order_fills_at_the_next_bar_open_after_latency),
        cmocka_unit_test(an_order_still_in_flight_misses_the_bar),
        cmocka_unit_test(slippage_grows_with_size_against_volume),
        cmocka_unit_test(slippage_never_leaves_the_bar_range),
        cmocka_unit_test(participation_cap_splits_an_order_over_bars),
        cmocka_unit_test(orders_share_the_bar_volume_in_time_priority),
        cmocka_unit_test(fees_charge_bps_with_a_per_order_minimum),
        cmocka_unit_test(an_order_that_never_fills_pays_no_fee),
        cmocka_unit_test(limit_orders_fill_at_the_limit_when_the_bar_trades_through),
        cmocka_unit_test(marketable_limits_fill_at_the_open_capped_by_the_limit),
        cmocka_unit_test(cancel_after_the_fill_is_rejected_and_changes_nothing),
        cmocka_unit_test(a_cancel_sent_before_the_ack_still_cancels),
        cmocka_unit_test(gtd_orders_expire_at_their_time_and_ioc_after_one_bar),
        cmocka_unit_test(limits_far_from_the_last_close_are_rejected_by_the_exchange),
        cmocka_unit_test(reports_arrive_in_order_with_jittered_latency),
        cmocka_unit_test(an_undrained_report_queue_refuses_bars_without_losing_reports),
        cmocka_unit_test(next_event_leads_out_of_a_full_report_queue),
        cmocka_unit_test(bad_requests_and_bars_are_refused),
        cmocka_unit_test(kill_switch_halts_new_orders_but_cancels_still_work),
        cmocka_unit_test(attached_limits_count_open_orders_toward_the_position),
        cmocka_unit_test(the_same_seed_gives_the_same_trades_and_pnl),
        cmocka_unit_test(random_operations_keep_every_invariant),
        cmocka_unit_test(config_check_names_the_bad_field_at_each_edge),
        cmocka_unit_test(events_near_the_end_of_the_clock_saturate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

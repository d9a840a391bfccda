/* State export of the exchange, the portfolio and the limits (what the replicated log
 * snapshots): a loaded copy behaves exactly as the original from then on; a state saved under
 * another configuration, cut short, followed by bytes or inconsistent is refused and changes
 * nothing. */
#include "hv_test.h"

#include <hivewire/exchange.h>

static const hv_bar bar = { 1, 100, 102, 98, 101, 101, 1e6 };

static hv_exchange *x_new(const hv_exchange_opts *c)
{
    hv_exchange *x = NULL;
    assert_int_equal(hv_exchange_new(c, &x), 0);
    return x;
}

static hv_portfolio *pf_new(double cash, size_t points)
{
    hv_portfolio *p = NULL;
    assert_int_equal(hv_portfolio_new(cash, points, &p), 0);
    return p;
}

static hv_limits *lim_new(const hv_limits_opts *c)
{
    hv_limits *l = NULL;
    assert_int_equal(hv_limits_new(c, &l), 0);
    return l;
}

static size_t save_x(const hv_exchange *x, uint8_t **out)
{
    size_t n = hv_exchange_state_save(x, NULL, 0);
    *out = malloc(n);
    assert_int_equal(hv_exchange_state_save(x, *out, n), n);
    return n;
}

/* An exchange with orders in both links and an open order at the exchange. */
static hv_exchange *busy_exchange(hv_portfolio *pf)
{
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.orders_max = 8;
    hv_exchange *x = x_new(&c);
    hv_exchange_attach(x, pf, NULL);
    hv_order_request q = {
        .side = HV_SIDE_BUY, .type = HV_ORDER_MARKET, .qty = 10, .client_tag = 1
    };
    uint64_t id;
    assert_int_equal(hv_exchange_on_bar(x, &bar, 1000), 0);
    assert_int_equal(hv_exchange_submit(x, &q, 2000, &id), 0);
    assert_true(hv_exchange_on_bar(x, &bar, 1000000) >= 0); /* acked and filled, not delivered */
    q.side = HV_SIDE_SELL;
    q.type = HV_ORDER_LIMIT;
    q.limit_price = 105;
    assert_int_equal(hv_exchange_submit(x, &q, 1000001, &id), 0); /* still travelling */
    return x;
}

static void drain(hv_exchange *x, uint64_t t, hv_exec_report *out, int *n)
{
    *n = 0;
    while (hv_exchange_poll(x, t, &out[*n]) == 1)
        (*n)++;
}

static void a_loaded_exchange_goes_on_like_the_original(void **state)
{
    (void)state;
    hv_portfolio *p1 = pf_new(1e6, 16), *p2 = pf_new(1e6, 16);
    hv_exchange *x = busy_exchange(p1);
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.orders_max = 8;
    hv_exchange *y = x_new(&c);
    hv_exchange_attach(y, p2, NULL);
    uint8_t *s;
    size_t n = save_x(x, &s);
    assert_int_equal(hv_exchange_state_load(y, s, n), 0);
    uint8_t *s2;
    assert_int_equal(save_x(y, &s2), n);
    assert_memory_equal(s, s2, n);
    hv_exec_report a[32], b[32];
    int na, nb;
    drain(x, 5000000, a, &na);
    drain(y, 5000000, b, &nb);
    assert_true(na >= 3);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof(a[0]) * (size_t)na);
    assert_int_equal(hv_exchange_on_bar(x, &bar, 9000000), hv_exchange_on_bar(y, &bar, 9000000));
    free(s);
    free(s2);
    hv_exchange_free(x);
    hv_exchange_free(y);
    hv_portfolio_free(p1);
    hv_portfolio_free(p2);
}

static void a_bad_exchange_state_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    hv_exchange *x = busy_exchange(NULL);
    uint8_t *s, *before;
    size_t n = save_x(x, &s);
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.orders_max = 8;
    hv_exchange *y = x_new(&c);
    size_t m = save_x(y, &before);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(hv_exchange_state_load(y, s, cut), 0);
    uint8_t *t = malloc(n + 1);
    memcpy(t, s, n);
    t[n] = 0;
    assert_int_equal(hv_exchange_state_load(y, t, n + 1), HV_ETRAILING);
    memcpy(t, s, n);
    t[0] ^= 1;
    assert_int_equal(hv_exchange_state_load(y, t, n), HV_EBADFIELD);
    uint8_t *after;
    assert_int_equal(save_x(y, &after), m); /* every refusal left y as it was */
    assert_memory_equal(before, after, m);
    for (size_t i = 4; i < n; i++) { /* any single damage: refused, or a consistent state */
        memcpy(t, s, n);
        t[i] ^= 0xff;
        (void)hv_exchange_state_load(y, t, n);
    }
    c.seed = 2; /* saved under another configuration */
    hv_exchange *z = x_new(&c);
    assert_int_equal(hv_exchange_state_load(z, s, n), HV_EINVAL);
    free(t);
    free(s);
    free(before);
    free(after);
    hv_exchange_free(x);
    hv_exchange_free(y);
    hv_exchange_free(z);
}

static void a_loaded_portfolio_and_limits_are_the_originals(void **state)
{
    (void)state;
    hv_portfolio *p = pf_new(1e5, 4), *q = pf_new(1e5, 4);
    for (int i = 0; i < 11; i++) /* past the curve's capacity: compacted, with a tail */
        assert_int_equal(hv_portfolio_mark(p, 100 + i, (uint64_t)i), 0);
    assert_int_equal(hv_portfolio_apply_fill(p, HV_SIDE_BUY, 5, 101, 1), 0);
    uint8_t buf[1024], buf2[1024];
    size_t n = hv_portfolio_state_save(p, buf, sizeof(buf));
    assert_int_equal(hv_portfolio_state_load(q, buf, n), 0);
    assert_int_equal(hv_portfolio_state_save(q, buf2, sizeof(buf2)), n);
    assert_memory_equal(buf, buf2, n);
    assert_int_equal(hv_portfolio_state_load(q, buf, n - 1), HV_EBADLEN);
    hv_portfolio *r = pf_new(1e5, 5);
    assert_int_equal(hv_portfolio_state_load(r, buf, n), HV_EINVAL);

    hv_limits_opts lc;
    hv_limits_opts_default(&lc);
    lc.orders_per_interval_max = 3;
    lc.interval_ns = 100;
    lc.drawdown_max_frac = 0.5;
    hv_limits *l = lim_new(&lc), *m = lim_new(&lc);
    hv_limits_input in = { .side = HV_SIDE_BUY, .qty = 1, .price = 10 };
    for (uint64_t t = 1; t <= 4; t++)
        (void)hv_limits_admit(l, &in, t * 10, NULL);
    assert_int_equal(hv_limits_update_drawdown(l, 0.6, 50, NULL), HV_EHALTED);
    n = hv_limits_state_save(l, buf, sizeof(buf));
    assert_int_equal(hv_limits_state_load(m, buf, n), 0);
    assert_int_equal(hv_limits_state_save(m, buf2, sizeof(buf2)), n);
    assert_memory_equal(buf, buf2, n);
    assert_int_equal(hv_limits_halted(m, NULL), 1);
    memcpy(buf2, buf, n);
    buf2[n - 8] = 0xff; /* the last admission after the clock */
    assert_int_equal(hv_limits_state_load(m, buf2, n), HV_EBADFIELD);
    lc.orders_per_interval_max = 4;
    hv_limits *o = lim_new(&lc);
    assert_int_equal(hv_limits_state_load(o, buf, n), HV_EINVAL);
    hv_portfolio_free(p);
    hv_portfolio_free(q);
    hv_portfolio_free(r);
    hv_limits_free(l);
    hv_limits_free(m);
    hv_limits_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_loaded_exchange_goes_on_like_the_original),
        cmocka_unit_test(a_bad_exchange_state_is_refused_and_changes_nothing),
        cmocka_unit_test(a_loaded_portfolio_and_limits_are_the_originals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

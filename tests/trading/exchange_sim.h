/*
 * A byte-driven simulation of the exchange, portfolio and limits that checks invariants after
 * every step. Shared by tests/trading/exchange_test.c (seeded random streams) and the fuzz
 * harness fuzz/trading_exchange.c (libFuzzer streams). hv_sim_run() returns 0, or the source
 * line of the first invariant that failed (the operations replay exactly from the bytes).
 */
#ifndef HV_TESTS_TRADING_EXCHANGE_SIM_H
#define HV_TESTS_TRADING_EXCHANGE_SIM_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/exchange.h>

typedef struct hv_sim_order {
    hv_side side;
    int64_t qty, filled;
    hv_order_state state;
    int seen;
} hv_sim_order;

typedef struct hv_sim {
    const uint8_t *p, *end;
    hv_exchange *x;
    hv_portfolio *pf;
    hv_limits *lim;
    hv_sim_order *orders; /* by id; ids never exceed the byte count */
    uint64_t norders_max, next_id;
    uint64_t t, last_deliver;
    double last_close;
    int64_t position;
    hv_bar bars[64]; /* bars the exchange accepted, by (exchange time / 8) % 64, for range checks */
    uint64_t bar_t[64];
} hv_sim;

#define HV_SIM_CHECK(c)      \
    do {                     \
        if (!(c))            \
            return __LINE__; \
    } while (0)

static inline uint64_t hv_sim_byte(hv_sim *s)
{
    return s->p < s->end ? *s->p++ : 0;
}

static inline uint64_t hv_sim_u16(hv_sim *s)
{
    return hv_sim_byte(s) | hv_sim_byte(s) << 8;
}

static inline int hv_sim_submit(hv_sim *s)
{
    uint64_t k = hv_sim_byte(s);
    hv_order_request r = { .side = (hv_side)(k & 1),
                           .type = (hv_order_type)((k >> 1) & 1),
                           .tif = (hv_tif)((k >> 2) % 3),
                           .qty = (int64_t)(hv_sim_u16(s) % 600),
                           .client_tag = s->next_id };
    double off = ((double)hv_sim_byte(s) - 128) / 1000;
    r.limit_price = s->last_close * (1 + off);
    r.expire_ns = s->t + hv_sim_u16(s) * 16;
    if ((k >> 4) == 15)
        r.side = (hv_side)7; /* occasionally invalid */
    uint64_t id = 0;
    int rc = hv_exchange_submit(s->x, &r, s->t, &id);
    if (rc != 0) {
        HV_SIM_CHECK(rc == HV_EINVAL || rc == HV_EFULL || rc == HV_ELIMIT || rc == HV_EHALTED ||
                     rc == HV_ESTATE);
        return 0;
    }
    HV_SIM_CHECK(id == s->next_id + 1 && id < s->norders_max);
    s->next_id = id;
    s->orders[id] =
        (hv_sim_order){ .side = r.side, .qty = r.qty, .state = HV_ORDER_SUBMITTED, .seen = 1 };
    return 0;
}

static inline int hv_sim_cancel(hv_sim *s)
{
    uint64_t id = s->next_id ? 1 + hv_sim_u16(s) % s->next_id : 0;
    int rc = hv_exchange_cancel(s->x, id, s->t);
    HV_SIM_CHECK(rc == 0 || rc == HV_ENOTFOUND || rc == HV_ESTATE);
    if (rc == HV_ENOTFOUND && id > 0)
        HV_SIM_CHECK(hv_order_state_is_terminal(s->orders[id].state));
    return 0;
}

static inline int hv_sim_bar(hv_sim *s)
{
    double o = s->last_close * (1 + ((double)hv_sim_byte(s) - 128) / 2000);
    double c = o * (1 + ((double)hv_sim_byte(s) - 128) / 2000);
    double hi = fmax(o, c) * (1 + (double)hv_sim_byte(s) / 5000);
    double lo = fmin(o, c) * (1 - (double)hv_sim_byte(s) / 5000);
    uint64_t v = hv_sim_byte(s);
    hv_bar b = { .open = o,
                 .high = hi,
                 .low = lo,
                 .close = c,
                 .adjclose = c,
                 .volume = v == 255 ? -1 : (double)(v * 40) };
    int rc = hv_exchange_on_bar(s->x, &b, s->t);
    if (v == 255) {
        HV_SIM_CHECK(rc == HV_EINVAL);
        return 0;
    }
    HV_SIM_CHECK(rc >= 0 || rc == HV_EFULL);
    if (rc >= 0) {
        size_t i = (s->t / 8) % 64;
        if (s->bar_t[i] == s->t && s->bars[i].high > 0) { /* two bars at one time: union */
            b.high = fmax(b.high, s->bars[i].high);
            b.low = fmin(b.low, s->bars[i].low);
        }
        s->last_close = c;
        s->bars[i] = b;
        s->bar_t[i] = s->t;
    }
    return 0;
}

static inline int hv_sim_check_fill(hv_sim *s, const hv_exec_report *r, hv_sim_order *o)
{
    HV_SIM_CHECK(r->fill_qty > 0 && r->fee >= 0 && r->fill_price > 0);
    o->filled += r->fill_qty;
    HV_SIM_CHECK(o->filled <= o->qty);
    s->position += o->side == HV_SIDE_BUY ? r->fill_qty : -r->fill_qty;
    size_t k = (r->exchange_ns / 8) % 64;
    if (s->bar_t[k] == r->exchange_ns) { /* the fill printed inside its bar's range */
        HV_SIM_CHECK(r->fill_price <= s->bars[k].high * (1 + 1e-12));
        HV_SIM_CHECK(r->fill_price >= s->bars[k].low * (1 - 1e-12));
    }
    return 0;
}

static inline int hv_sim_check_report(hv_sim *s, const hv_exec_report *r)
{
    HV_SIM_CHECK(r->order_id >= 1 && r->order_id <= s->next_id);
    hv_sim_order *o = &s->orders[r->order_id];
    HV_SIM_CHECK(r->deliver_ns >= s->last_deliver && r->deliver_ns <= s->t);
    HV_SIM_CHECK(r->exchange_ns <= r->deliver_ns && r->submit_ns <= r->exchange_ns);
    s->last_deliver = r->deliver_ns;
    if (r->type == HV_EXEC_CANCEL_REJECT)
        HV_SIM_CHECK(r->state == o->state);
    else
        HV_SIM_CHECK(hv_order_transition_check(o->state, r->state) == 0);
    o->state = r->state;
    if (r->type == HV_EXEC_FILL) {
        int rc = hv_sim_check_fill(s, r, o);
        if (rc)
            return rc;
    }
    HV_SIM_CHECK(r->filled_qty == o->filled);
    if (hv_order_state_is_terminal(o->state))
        HV_SIM_CHECK(r->leaves_qty == 0);
    else
        HV_SIM_CHECK(r->leaves_qty == o->qty - o->filled);
    return 0;
}

/* Open quantities and position agree with what the reports said. */
static inline int hv_sim_check_books(hv_sim *s)
{
    int64_t buy = 0, sell = 0;
    uint32_t open = 0;
    for (uint64_t id = 1; id <= s->next_id; id++) {
        const hv_sim_order *o = &s->orders[id];
        if (hv_order_state_is_terminal(o->state))
            continue;
        open++;
        *(o->side == HV_SIDE_BUY ? &buy : &sell) += o->qty - o->filled;
    }
    hv_exchange_stats st;
    hv_portfolio_stats ps;
    hv_exchange_stats_get(s->x, &st);
    hv_portfolio_stats_get(s->pf, &ps);
    HV_SIM_CHECK(st.open_buy_qty == buy && st.open_sell_qty == sell && st.open_orders == open);
    HV_SIM_CHECK(ps.position == s->position);
    return 0;
}

/* Delivers every report due; with `books`, then checks the books (O(orders)). */
static inline int hv_sim_poll(hv_sim *s, int books)
{
    hv_exec_report r;
    for (int i = 0; i < 100000 && hv_exchange_poll(s->x, s->t, &r) == 1; i++) {
        int bad = hv_sim_check_report(s, &r);
        if (bad)
            return bad;
    }
    return books ? hv_sim_check_books(s) : 0;
}

static inline int hv_sim_step(hv_sim *s)
{
    switch (hv_sim_byte(s) % 8) {
    case 0:
    case 1:
        return hv_sim_submit(s);
    case 2:
        return hv_sim_cancel(s);
    case 3:
        return hv_sim_bar(s);
    case 4:
        return hv_sim_poll(s, 1);
    case 5:
        hv_portfolio_mark(s->pf, s->last_close, s->t);
        return 0;
    default:
        s->t += 8 * (1 + hv_sim_u16(s));
        return 0;
    }
}

/* After the input: deliver everything in flight; every order must end terminal. */
static inline int hv_sim_finish(hv_sim *s)
{
    for (int i = 0; i < 100000; i++) {
        uint64_t next = hv_exchange_next_event_ns(s->x);
        if (next == UINT64_MAX)
            break;
        s->t = next > s->t ? next : s->t;
        int bad = hv_sim_poll(s, 0);
        if (bad)
            return bad;
    }
    HV_SIM_CHECK(hv_exchange_next_event_ns(s->x) == UINT64_MAX);
    for (uint64_t id = 1; id <= s->next_id; id++) {
        const hv_sim_order *o = &s->orders[id];
        /* GTC orders that never met a bar may still be working: that is their right */
        HV_SIM_CHECK(hv_order_state_is_terminal(o->state) || o->state == HV_ORDER_ACCEPTED ||
                     o->state == HV_ORDER_PARTIALLY_FILLED);
    }
    return hv_sim_check_books(s);
}

static inline int hv_sim_setup(hv_sim *s, const uint8_t *data, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->p = data;
    s->end = data + len;
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.seed = hv_sim_byte(s);
    c.orders_max = 1 + (uint32_t)(hv_sim_byte(s) % 16);
    c.latency_fixed_ns = hv_sim_byte(s) * 4;
    c.latency_jitter_ns = hv_sim_byte(s) * 4;
    c.participation_max = (1 + (double)hv_sim_byte(s)) / 256;
    c.fee_min = (double)(hv_sim_byte(s) % 4);
    hv_limits_opts lc;
    hv_limits_opts_default(&lc);
    uint64_t k = hv_sim_byte(s);
    lc.position_max = (k & 1) ? 800 : 0;
    lc.order_notional_max = (k & 2) ? 40000 : 0;
    lc.orders_per_interval_max = (k & 4) ? 4 : 0;
    lc.interval_ns = 4000;
    lc.drawdown_max_frac = (k & 8) ? 0.02 : 0;
    s->norders_max = len + 2;
    s->orders = calloc(s->norders_max, sizeof(hv_sim_order));
    s->last_close = 100;
    if (!s->orders || hv_exchange_new(&c, &s->x) != 0 || hv_portfolio_new(1e6, 64, &s->pf) != 0 ||
        hv_limits_new(&lc, &s->lim) != 0)
        return __LINE__;
    hv_exchange_attach(s->x, s->pf, (k & 16) ? s->lim : NULL);
    return 0;
}

static inline void hv_sim_teardown(hv_sim *s)
{
    hv_exchange_free(s->x);
    hv_portfolio_free(s->pf);
    hv_limits_free(s->lim);
    free(s->orders);
}

static inline int hv_sim_run(const uint8_t *data, size_t len)
{
    hv_sim s;
    int bad = hv_sim_setup(&s, data, len);
    while (bad == 0 && s.p < s.end)
        bad = hv_sim_step(&s);
    if (bad == 0)
        bad = hv_sim_finish(&s);
    hv_sim_teardown(&s);
    return bad;
}

#endif

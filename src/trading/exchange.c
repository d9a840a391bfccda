/*
 * The simulated exchange: a state machine on a simulated clock. Orders travel over a FIFO link
 * with seeded latency, trade against replayed bars, and their reports travel back over another
 * FIFO link; the owner's view of each order changes only when a report is delivered.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/exchange.h>
#include <hivewire/rng.h>

#include "core/assert.h"
#include "core/field.h"
#include "core/ser.h"

#define ORDERS_MAX_LIMIT 65536u
#define QTY_MAX          1000000000000000ll /* 10^15: exact in a double */

typedef struct slot {
    hv_order o; /* owner's view */
    int used;
    /* exchange side */
    int x_live;        /* arrived, accepted and still working */
    int64_t x_leaves;  /* shares still working at the exchange */
    double x_notional; /* filled notional, for fees */
    double x_fees;
} slot;

typedef struct inbound {
    int cancel; /* 0: new order, 1: cancel request */
    uint32_t slot;
    uint64_t submit_ns;
    uint64_t arrive_ns;
} inbound;

typedef struct outbound {
    hv_exec_report r; /* state, filled_qty, leaves_qty are set at delivery */
    uint32_t slot;
} outbound;

struct hv_exchange {
    hv_exchange_opts cfg;
    hv_rng rng;
    uint64_t now_ns;
    uint64_t next_id;
    /* order table: slots, a free stack, and open slots sorted by order id */
    slot *slots;
    uint32_t *free_stack, nfree;
    uint32_t *open, nopen;
    uint32_t x_live_count;
    uint32_t x_gtd_live; /* live GTD orders: the expiry scan is skipped when 0 */
    /* FIFO links */
    inbound *in;
    uint32_t in_cap, in_head, in_len;
    uint64_t in_last_ns;
    outbound *out;
    uint32_t out_cap, out_head, out_len;
    uint64_t out_last_ns;
    /* market */
    int have_bar;
    double last_close;
    /* attachments */
    hv_portfolio *portfolio;
    hv_limits *limits;
    hv_limit_breach last_breach;
    hv_exchange_stats stats;
    hv_hist ack_latency, report_latency;
};

void hv_exchange_opts_default(hv_exchange_opts *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->seed = 1;
    cfg->orders_max = 1024;
    cfg->fee_bps = 1.0;
    cfg->fee_min = 1.0;
    cfg->participation_max = 0.1;
    cfg->half_spread_bps = 1.0;
    cfg->impact_bps = 10.0;
    cfg->latency_fixed_ns = 50000;
    cfg->latency_jitter_ns = 20000;
    cfg->price_band_frac = 0.1;
}

/* A finite number in [lo, hi]. */
static int within(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int hv_exchange_opts_check(const hv_exchange_opts *c, hv_field_error *err)
{
    if (c == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (c->size != sizeof(hv_exchange_opts))
        return hv__field_fail(err, "size", "must be sizeof(hv_exchange_opts)");
    if (c->orders_max < 1 || c->orders_max > ORDERS_MAX_LIMIT)
        return hv__field_fail(err, "orders_max", "must be in [1, 65536]");
    if (!within(c->fee_bps, 0, HV_EXCHANGE_BPS_MAX))
        return hv__field_fail(err, "fee_bps", "must be a finite number in [0, 10000]");
    if (!within(c->fee_min, 0, HV_EXCHANGE_FEE_MIN_MAX))
        return hv__field_fail(err, "fee_min", "must be a finite number in [0, 1e12]");
    if (!within(c->participation_max, 0, 1) || c->participation_max == 0)
        return hv__field_fail(err, "participation_max", "must be a finite number in (0, 1]");
    if (!within(c->half_spread_bps, 0, HV_EXCHANGE_BPS_MAX))
        return hv__field_fail(err, "half_spread_bps", "must be a finite number in [0, 10000]");
    if (!within(c->impact_bps, 0, HV_EXCHANGE_BPS_MAX))
        return hv__field_fail(err, "impact_bps", "must be a finite number in [0, 10000]");
    if (!within(c->price_band_frac, 0, 1e6))
        return hv__field_fail(err, "price_band_frac", "must be a finite number in [0, 1e6]");
    if (c->latency_fixed_ns > HV_EXCHANGE_LATENCY_MAX_NS)
        return hv__field_fail(err, "latency_fixed_ns", "must be at most one hour (3.6e12 ns)");
    if (c->latency_jitter_ns > HV_EXCHANGE_LATENCY_MAX_NS)
        return hv__field_fail(err, "latency_jitter_ns", "must be at most one hour (3.6e12 ns)");
    return 0;
}

int hv_exchange_new(const hv_exchange_opts *opts, hv_exchange **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    if (opts != NULL)
        c = *opts;
    if (hv_exchange_opts_check(&c, NULL) != 0)
        return HV_EINVAL;
    hv_exchange *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return HV_ENOMEM;
    x->cfg = c;
    x->cfg.size = sizeof(x->cfg);
    hv_rng_seed(&x->rng, c.seed);
    x->next_id = 1;
    x->in_cap = 2 * c.orders_max;
    x->out_cap = 4 * c.orders_max + 16;
    x->slots = calloc(c.orders_max, sizeof(slot));
    x->free_stack = calloc(c.orders_max, sizeof(uint32_t));
    x->open = calloc(c.orders_max, sizeof(uint32_t));
    x->in = calloc(x->in_cap, sizeof(inbound));
    x->out = calloc(x->out_cap, sizeof(outbound));
    if (!x->slots || !x->free_stack || !x->open || !x->in || !x->out ||
        hv_hist_init(&x->ack_latency, 10000000000ull, 7) != 0 ||
        hv_hist_init(&x->report_latency, 10000000000ull, 7) != 0) {
        hv_exchange_free(x);
        return HV_ENOMEM;
    }
    for (uint32_t i = 0; i < c.orders_max; i++)
        x->free_stack[i] = c.orders_max - 1 - i; /* slot 0 on top */
    x->nfree = c.orders_max;
    *out = x;
    return 0;
}

void hv_exchange_free(hv_exchange *x)
{
    if (x == NULL)
        return;
    hv_hist_fini(&x->ack_latency);
    hv_hist_fini(&x->report_latency);
    free(x->slots);
    free(x->free_stack);
    free(x->open);
    free(x->in);
    free(x->out);
    free(x);
}

void hv_exchange_attach(hv_exchange *x, hv_portfolio *portfolio, hv_limits *limits)
{
    x->portfolio = portfolio;
    x->limits = limits;
}

/* ---- clock, latency, lookup -------------------------------------------------------------- */

static int advance_clock(hv_exchange *x, uint64_t now_ns)
{
    if (now_ns < x->now_ns)
        return HV_ERANGE;
    x->now_ns = now_ns;
    return 0;
}

static uint64_t one_way_ns(hv_exchange *x)
{
    uint64_t j = x->cfg.latency_jitter_ns;
    return x->cfg.latency_fixed_ns + (j ? hv_rng_below(&x->rng, j + 1) : 0);
}

/* t + one way, saturating below UINT64_MAX (which means "no event"): a caller at the end of
 * the clock sees late events pile up at its last tick instead of wrapping to time 0. */
static uint64_t after_one_way(hv_exchange *x, uint64_t t)
{
    uint64_t d = one_way_ns(x);
    return t < UINT64_MAX - 1 - d ? t + d : UINT64_MAX - 1;
}

/* Index into x->open of the order with this id, or -1. */
static long open_index(const hv_exchange *x, uint64_t id)
{
    uint32_t lo = 0, hi = x->nopen;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t v = x->slots[x->open[mid]].o.id;
        if (v == id)
            return (long)mid;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void release_slot(hv_exchange *x, uint32_t s)
{
    long i = open_index(x, x->slots[s].o.id);
    HV_ASSERT(i >= 0);
    memmove(&x->open[i], &x->open[i + 1], (x->nopen - (uint32_t)i - 1) * sizeof(uint32_t));
    x->nopen--;
    x->slots[s].used = 0;
    x->free_stack[x->nfree++] = s;
}

/* ---- links ------------------------------------------------------------------------------- */

static void in_push(hv_exchange *x, int cancel, uint32_t s)
{
    HV_ASSERT(x->in_len < x->in_cap); /* at most one order and one cancel per open slot */
    uint64_t arrive = after_one_way(x, x->now_ns);
    if (arrive < x->in_last_ns)
        arrive = x->in_last_ns;
    x->in_last_ns = arrive;
    inbound *e = &x->in[(x->in_head + x->in_len++) % x->in_cap];
    *e = (inbound){ .cancel = cancel, .slot = s, .submit_ns = x->now_ns, .arrive_ns = arrive };
}

/* Queues a report produced at exchange time t. The caller checked there is room. */
static outbound *emit(hv_exchange *x, uint32_t s, hv_exec_type type, uint64_t t, uint64_t submit_ns)
{
    HV_ASSERT(x->out_len < x->out_cap);
    uint64_t deliver = after_one_way(x, t);
    if (deliver < x->out_last_ns)
        deliver = x->out_last_ns;
    x->out_last_ns = deliver;
    outbound *e = &x->out[(x->out_head + x->out_len++) % x->out_cap];
    const hv_order *o = &x->slots[s].o;
    memset(e, 0, sizeof(*e));
    e->slot = s;
    e->r.type = type;
    e->r.order_id = o->id;
    e->r.client_tag = o->req.client_tag;
    e->r.side = o->req.side;
    e->r.submit_ns = submit_ns;
    e->r.exchange_ns = t;
    e->r.deliver_ns = deliver;
    return e;
}

static uint32_t out_room(const hv_exchange *x)
{
    return x->out_cap - x->out_len;
}

/* ---- exchange-side events ---------------------------------------------------------------- */

static void x_stop(hv_exchange *x, slot *sl)
{
    if (sl->x_live) {
        sl->x_live = 0;
        x->x_live_count--;
        x->x_gtd_live -= sl->o.req.tif == HV_TIF_GTD;
    }
}

static int outside_band(const hv_exchange *x, const hv_order_request *r)
{
    if (r->type != HV_ORDER_LIMIT || x->cfg.price_band_frac <= 0 || !x->have_bar)
        return 0;
    return fabs(r->limit_price - x->last_close) > x->cfg.price_band_frac * x->last_close;
}

static void arrive_new(hv_exchange *x, const inbound *e)
{
    slot *sl = &x->slots[e->slot];
    if (outside_band(x, &sl->o.req)) {
        emit(x, e->slot, HV_EXEC_REJECT, e->arrive_ns, e->submit_ns)->r.reason = HV_ERANGE;
        return;
    }
    sl->x_live = 1;
    sl->x_leaves = sl->o.req.qty;
    x->x_live_count++;
    x->x_gtd_live += sl->o.req.tif == HV_TIF_GTD;
    emit(x, e->slot, HV_EXEC_ACK, e->arrive_ns, e->submit_ns);
    if (sl->o.req.tif == HV_TIF_GTD && sl->o.req.expire_ns <= e->arrive_ns) {
        x_stop(x, sl);
        emit(x, e->slot, HV_EXEC_EXPIRED, e->arrive_ns, e->submit_ns);
    }
}

static void arrive_cancel(hv_exchange *x, const inbound *e)
{
    slot *sl = &x->slots[e->slot];
    if (!sl->x_live) {
        emit(x, e->slot, HV_EXEC_CANCEL_REJECT, e->arrive_ns, e->submit_ns)->r.reason = HV_ESTATE;
        return;
    }
    x_stop(x, sl);
    emit(x, e->slot, HV_EXEC_CANCELLED, e->arrive_ns, e->submit_ns);
}

/* The live GTD order expiring first (lowest id on ties), or -1. */
static long next_expiry(const hv_exchange *x, uint64_t *at)
{
    long best = -1;
    for (uint32_t i = 0; i < x->nopen && x->x_gtd_live > 0; i++) {
        const slot *sl = &x->slots[x->open[i]];
        if (!sl->x_live || sl->o.req.tif != HV_TIF_GTD)
            continue;
        if (best < 0 || sl->o.req.expire_ns < *at) {
            best = (long)x->open[i];
            *at = sl->o.req.expire_ns;
        }
    }
    return best;
}

/* Processes every message arrival and expiry due by t, in time order (arrivals first on
 * ties). Returns 0, or HV_EFULL when the report queue has no room for the next event. */
static int process_until(hv_exchange *x, uint64_t t)
{
    for (;;) {
        uint64_t exp_at = UINT64_MAX;
        long exp = next_expiry(x, &exp_at);
        const inbound *e = x->in_len ? &x->in[x->in_head] : NULL;
        int take_in = e && e->arrive_ns <= t && (exp < 0 || e->arrive_ns <= exp_at);
        if (!take_in && (exp < 0 || exp_at > t))
            return 0;
        if (out_room(x) < 2)
            return HV_EFULL;
        if (take_in) {
            inbound ev = *e;
            x->in_head = (x->in_head + 1) % x->in_cap;
            x->in_len--;
            if (ev.cancel)
                arrive_cancel(x, &ev);
            else
                arrive_new(x, &ev);
            continue;
        }
        x_stop(x, &x->slots[exp]);
        emit(x, (uint32_t)exp, HV_EXEC_EXPIRED, exp_at, x->slots[exp].o.submit_ns);
    }
}

/* ---- matching ---------------------------------------------------------------------------- */

static double market_price(const hv_exchange *x, hv_side side, int64_t q, const hv_bar *b)
{
    double frac = b->volume > 0 ? (double)q / b->volume : 0;
    double bps = x->cfg.half_spread_bps + x->cfg.impact_bps * sqrt(frac);
    double p = side == HV_SIDE_BUY ? b->open * (1 + bps * 1e-4) : b->open * (1 - bps * 1e-4);
    return p > b->high ? b->high : (p < b->low ? b->low : p);
}

/* The price at which order r trades q shares on bar b, or 0 if it does not trade. */
static double fill_price(const hv_exchange *x, const hv_order_request *r, int64_t q,
                         const hv_bar *b)
{
    double m = market_price(x, r->side, q, b), lim = r->limit_price;
    if (r->type == HV_ORDER_MARKET)
        return m;
    if (r->side == HV_SIDE_BUY) {
        if (b->open <= lim)
            return m < lim ? m : lim;
        return b->low < lim ? lim : 0;
    }
    if (b->open >= lim)
        return m > lim ? m : lim;
    return b->high > lim ? lim : 0;
}

static void trade(hv_exchange *x, uint32_t s, int64_t q, double price, uint64_t t)
{
    slot *sl = &x->slots[s];
    sl->x_leaves -= q;
    sl->x_notional += (double)q * price;
    double due = sl->x_notional * x->cfg.fee_bps * 1e-4;
    if (due < x->cfg.fee_min)
        due = x->cfg.fee_min;
    double fee = due - sl->x_fees;
    sl->x_fees = due;
    outbound *e = emit(x, s, HV_EXEC_FILL, t, sl->o.submit_ns);
    e->r.fill_qty = q;
    e->r.fill_price = price;
    e->r.fee = fee;
    if (sl->x_leaves == 0)
        x_stop(x, sl);
}

static int bar_ok(const hv_bar *b)
{
    return isfinite(b->open) && isfinite(b->high) && isfinite(b->low) && isfinite(b->close) &&
           b->open > 0 && b->low > 0 && b->close > 0 && b->low <= b->high && isfinite(b->volume) &&
           b->volume >= 0;
}

static int64_t bar_capacity(const hv_exchange *x, const hv_bar *b)
{
    if (b->volume <= 0)
        return INT64_MAX;
    double cap = floor(x->cfg.participation_max * b->volume);
    return cap >= (double)QTY_MAX ? QTY_MAX : (int64_t)cap;
}

static int match_bar(hv_exchange *x, const hv_bar *b, uint64_t t)
{
    int64_t room = bar_capacity(x, b);
    int fills = 0;
    for (uint32_t i = 0; i < x->nopen; i++) {
        uint32_t s = x->open[i];
        slot *sl = &x->slots[s];
        if (!sl->x_live)
            continue;
        int64_t q = sl->x_leaves < room ? sl->x_leaves : room;
        double price = q > 0 ? fill_price(x, &sl->o.req, q, b) : 0;
        if (price > 0) {
            trade(x, s, q, price, t);
            room -= q;
            fills++;
        }
        if (sl->x_live && sl->o.req.tif == HV_TIF_IOC) {
            x_stop(x, sl);
            emit(x, s, HV_EXEC_EXPIRED, t, sl->o.submit_ns);
        }
    }
    return fills;
}

int hv_exchange_on_bar(hv_exchange *x, const hv_bar *bar, uint64_t now_ns)
{
    if (bar == NULL || !bar_ok(bar))
        return HV_EINVAL;
    if (advance_clock(x, now_ns) != 0)
        return HV_ERANGE;
    if (process_until(x, now_ns) != 0 || out_room(x) < 2 * x->x_live_count) {
        x->stats.full_refusals++;
        return HV_EFULL;
    }
    int fills = match_bar(x, bar, now_ns);
    x->have_bar = 1;
    x->last_close = bar->close;
    x->stats.bars++;
    return fills;
}

/* ---- owner side -------------------------------------------------------------------------- */

static int request_ok(const hv_order_request *r, uint64_t now_ns)
{
    if ((r->side != HV_SIDE_BUY && r->side != HV_SIDE_SELL) ||
        (r->type != HV_ORDER_MARKET && r->type != HV_ORDER_LIMIT) ||
        (r->tif != HV_TIF_GTC && r->tif != HV_TIF_IOC && r->tif != HV_TIF_GTD))
        return 0;
    if (r->qty <= 0 || r->qty > QTY_MAX)
        return 0;
    if (r->type == HV_ORDER_LIMIT && (!isfinite(r->limit_price) || r->limit_price <= 0))
        return 0;
    return r->tif != HV_TIF_GTD || r->expire_ns > now_ns;
}

static int check_limits(hv_exchange *x, const hv_order_request *r, uint64_t now_ns)
{
    if (x->limits == NULL)
        return 0;
    if (r->type == HV_ORDER_MARKET && !x->have_bar)
        return HV_ESTATE;
    hv_limits_input in = { .side = r->side,
                           .qty = r->qty,
                           .price = r->type == HV_ORDER_LIMIT ? r->limit_price : x->last_close,
                           .open_buy_qty = x->stats.open_buy_qty,
                           .open_sell_qty = x->stats.open_sell_qty };
    if (x->portfolio != NULL) {
        hv_portfolio_stats ps;
        hv_portfolio_stats_get(x->portfolio, &ps);
        in.position = ps.position;
        in.drawdown_frac = ps.drawdown_frac;
    }
    int rc = hv_limits_admit(x->limits, &in, now_ns, &x->last_breach);
    if (rc == HV_ELIMIT || rc == HV_EHALTED)
        x->stats.limit_refusals++;
    return rc;
}

static int64_t *open_qty(hv_exchange *x, hv_side side)
{
    return side == HV_SIDE_BUY ? &x->stats.open_buy_qty : &x->stats.open_sell_qty;
}

int hv_exchange_submit(hv_exchange *x, const hv_order_request *req, uint64_t now_ns,
                       uint64_t *order_id)
{
    if (x == NULL || req == NULL || !request_ok(req, now_ns))
        return HV_EINVAL;
    if (advance_clock(x, now_ns) != 0)
        return HV_ERANGE;
    if (x->nfree == 0) {
        x->stats.full_refusals++;
        return HV_EFULL;
    }
    int rc = check_limits(x, req, now_ns);
    if (rc != 0)
        return rc;
    uint32_t s = x->free_stack[--x->nfree];
    slot *sl = &x->slots[s];
    memset(sl, 0, sizeof(*sl));
    sl->used = 1;
    sl->o.id = x->next_id++;
    sl->o.req = *req;
    sl->o.state = HV_ORDER_NEW;
    sl->o.leaves_qty = req->qty;
    sl->o.submit_ns = now_ns;
    rc = hv_order_transition(&sl->o.state, HV_ORDER_SUBMITTED);
    HV_ASSERT(rc == 0);
    x->open[x->nopen++] = s; /* ids grow, so the open list stays sorted */
    *open_qty(x, req->side) += req->qty;
    x->stats.submitted++;
    x->stats.open_orders++;
    in_push(x, 0, s);
    if (order_id != NULL)
        *order_id = sl->o.id;
    return 0;
}

int hv_exchange_cancel(hv_exchange *x, uint64_t order_id, uint64_t now_ns)
{
    if (advance_clock(x, now_ns) != 0)
        return HV_ERANGE;
    long i = open_index(x, order_id);
    if (i < 0)
        return HV_ENOTFOUND;
    slot *sl = &x->slots[x->open[i]];
    if (sl->o.cancel_pending || hv_order_state_is_terminal(sl->o.state))
        return HV_ESTATE;
    sl->o.cancel_pending = 1;
    in_push(x, 1, x->open[i]);
    return 0;
}

/* The state a report moves its order to; for CANCEL_REJECT the state is unchanged. */
static hv_order_state target_state(const hv_order *o, const hv_exec_report *r)
{
    switch (r->type) {
    case HV_EXEC_ACK:
        return HV_ORDER_ACCEPTED;
    case HV_EXEC_REJECT:
        return HV_ORDER_REJECTED;
    case HV_EXEC_FILL:
        return r->fill_qty == o->leaves_qty ? HV_ORDER_FILLED : HV_ORDER_PARTIALLY_FILLED;
    case HV_EXEC_CANCELLED:
        return HV_ORDER_CANCELLED;
    case HV_EXEC_EXPIRED:
        return HV_ORDER_EXPIRED;
    default:
        return o->state;
    }
}

static void count_report(hv_exchange *x, const hv_exec_report *r, hv_order_state to)
{
    hv_exchange_stats *st = &x->stats;
    st->reports_delivered++;
    st->accepted += r->type == HV_EXEC_ACK;
    st->rejected += r->type == HV_EXEC_REJECT;
    st->fills += r->type == HV_EXEC_FILL;
    st->filled += r->type == HV_EXEC_FILL && to == HV_ORDER_FILLED; /* not a late cancel's answer */
    st->cancelled += r->type == HV_EXEC_CANCELLED;
    st->expired += r->type == HV_EXEC_EXPIRED;
    st->cancel_rejects += r->type == HV_EXEC_CANCEL_REJECT;
    if (r->type == HV_EXEC_ACK)
        hv_hist_record(&x->ack_latency, r->deliver_ns - r->submit_ns);
    hv_hist_record(&x->report_latency, r->deliver_ns - r->exchange_ns);
}

/* Applies a delivered report to the owner's view (and the attached portfolio). */
static void deliver(hv_exchange *x, outbound *e)
{
    slot *sl = &x->slots[e->slot];
    hv_order *o = &sl->o;
    hv_exec_report *r = &e->r;
    hv_order_state to = target_state(o, r);
    if (r->type == HV_EXEC_CANCEL_REJECT) {
        o->cancel_pending = 0;
    } else {
        int rc = hv_order_transition(&o->state, to);
        HV_ASSERT(rc == 0);
        (void)rc;
    }
    if (r->type == HV_EXEC_FILL) {
        double cost =
            o->avg_fill_price * (double)o->filled_qty + r->fill_price * (double)r->fill_qty;
        o->filled_qty += r->fill_qty;
        o->leaves_qty -= r->fill_qty;
        o->avg_fill_price = cost / (double)o->filled_qty;
        o->fees += r->fee;
        *open_qty(x, o->req.side) -= r->fill_qty;
        x->stats.fees += r->fee;
        x->stats.notional += r->fill_price * (double)r->fill_qty;
        if (x->portfolio != NULL &&
            hv_portfolio_apply_fill(x->portfolio, o->req.side, r->fill_qty, r->fill_price, r->fee))
            x->stats.portfolio_errors++; /* only a position beyond int64 can cause this */
    }
    if (hv_order_state_is_terminal(o->state) && o->leaves_qty > 0) {
        *open_qty(x, o->req.side) -= o->leaves_qty;
        o->leaves_qty = 0;
    }
    count_report(x, r, to);
    r->state = o->state;
    r->filled_qty = o->filled_qty;
    r->leaves_qty = o->leaves_qty;
}

int hv_exchange_poll(hv_exchange *x, uint64_t now_ns, hv_exec_report *out)
{
    if (advance_clock(x, now_ns) != 0)
        return HV_ERANGE;
    if (process_until(x, now_ns) != 0)
        x->stats.backlog_stalls++;
    if (x->out_len == 0 || x->out[x->out_head].r.deliver_ns > now_ns)
        return 0;
    outbound *e = &x->out[x->out_head];
    x->out_head = (x->out_head + 1) % x->out_cap;
    x->out_len--;
    int was_terminal = hv_order_state_is_terminal(x->slots[e->slot].o.state);
    deliver(x, e);
    if (out != NULL)
        *out = e->r;
    slot *sl = &x->slots[e->slot];
    if (hv_order_state_is_terminal(sl->o.state) && !sl->o.cancel_pending) {
        if (!was_terminal)
            x->stats.open_orders--;
        release_slot(x, e->slot);
    } else if (!was_terminal && hv_order_state_is_terminal(sl->o.state)) {
        x->stats.open_orders--;
    }
    return 1;
}

uint64_t hv_exchange_next_event_ns(const hv_exchange *x)
{
    uint64_t t = UINT64_MAX, exp_at = UINT64_MAX;
    /* With the report queue full, nothing moves until the owner takes the oldest report. */
    if (out_room(x) < 2)
        return x->out[x->out_head].r.deliver_ns;
    if (x->in_len)
        t = x->in[x->in_head].arrive_ns;
    if (next_expiry(x, &exp_at) >= 0 && exp_at < t)
        t = exp_at;
    if (x->out_len && x->out[x->out_head].r.deliver_ns < t)
        t = x->out[x->out_head].r.deliver_ns;
    return t;
}

int hv_exchange_order(const hv_exchange *x, uint64_t order_id, hv_order *out)
{
    long i = open_index(x, order_id);
    if (i < 0)
        return HV_ENOTFOUND;
    *out = x->slots[x->open[i]].o;
    return 0;
}

void hv_exchange_last_breach_get(const hv_exchange *x, hv_limit_breach *out)
{
    *out = x->last_breach;
}

void hv_exchange_stats_get(const hv_exchange *x, hv_exchange_stats *out)
{
    *out = x->stats;
    out->reports_queued = x->out_len;
}

const hv_hist *hv_exchange_ack_latency(const hv_exchange *x)
{
    return &x->ack_latency;
}

const hv_hist *hv_exchange_report_latency(const hv_exchange *x)
{
    return &x->report_latency;
}

const char *hv_exec_type_name(hv_exec_type t)
{
    static const char *const names[] = { "ack",       "reject",  "fill",
                                         "cancelled", "expired", "cancel_reject" };
    return (unsigned)t < 6 ? names[t] : "unknown";
}

/* ---- state export (docs/LOG.md, "Snapshots") -------------------------------------------------
 * Everything that decides the exchange's future: the configuration (checked, not loaded), the
 * RNG, the clock, every order and both links in flight, the counters. The latency histograms
 * are statistics, not state: they are neither saved nor replaced. */

#define STATE_TAG 0x31585648u /* "HVX1" */

static void save_config(hv_wr *w, const hv_exchange_opts *c)
{
    hv__wr_u64(w, c->seed);
    hv__wr_u32(w, c->orders_max);
    hv__wr_f64(w, c->fee_bps);
    hv__wr_f64(w, c->fee_min);
    hv__wr_f64(w, c->participation_max);
    hv__wr_f64(w, c->half_spread_bps);
    hv__wr_f64(w, c->impact_bps);
    hv__wr_u64(w, c->latency_fixed_ns);
    hv__wr_u64(w, c->latency_jitter_ns);
    hv__wr_f64(w, c->price_band_frac);
}

static void save_stats(hv_wr *w, const hv_exchange_stats *s)
{
    const uint64_t c[] = { s->submitted,     s->accepted,         s->rejected,
                           s->fills,         s->filled,           s->cancelled,
                           s->expired,       s->cancel_rejects,   s->limit_refusals,
                           s->full_refusals, s->backlog_stalls,   s->portfolio_errors,
                           s->bars,          s->reports_delivered };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        hv__wr_u64(w, c[i]);
    hv__wr_u32(w, s->open_orders);
    hv__wr_i64(w, s->open_buy_qty);
    hv__wr_i64(w, s->open_sell_qty);
    hv__wr_f64(w, s->fees);
    hv__wr_f64(w, s->notional);
}

static void load_stats(hv_rd *r, hv_exchange_stats *s)
{
    uint64_t *c[] = { &s->submitted,     &s->accepted,         &s->rejected,
                      &s->fills,         &s->filled,           &s->cancelled,
                      &s->expired,       &s->cancel_rejects,   &s->limit_refusals,
                      &s->full_refusals, &s->backlog_stalls,   &s->portfolio_errors,
                      &s->bars,          &s->reports_delivered };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        *c[i] = hv__rd_u64(r);
    s->open_orders = hv__rd_u32(r);
    s->open_buy_qty = hv__rd_i64(r);
    s->open_sell_qty = hv__rd_i64(r);
    s->fees = hv__rd_f64(r);
    s->notional = hv__rd_f64(r);
}

static void save_order(hv_wr *w, const hv_order *o)
{
    hv__wr_u64(w, o->id);
    hv__wr_u8(w, (uint8_t)o->req.side);
    hv__wr_u8(w, (uint8_t)o->req.type);
    hv__wr_u8(w, (uint8_t)o->req.tif);
    hv__wr_u8(w, (uint8_t)o->state);
    hv__wr_u8(w, (uint8_t)o->cancel_pending);
    hv__wr_i64(w, o->req.qty);
    hv__wr_f64(w, o->req.limit_price);
    hv__wr_u64(w, o->req.expire_ns);
    hv__wr_u64(w, o->req.client_tag);
    hv__wr_i64(w, o->filled_qty);
    hv__wr_i64(w, o->leaves_qty);
    hv__wr_f64(w, o->avg_fill_price);
    hv__wr_f64(w, o->fees);
    hv__wr_u64(w, o->submit_ns);
}

static void load_order(hv_rd *r, hv_order *o)
{
    o->id = hv__rd_u64(r);
    o->req.side = (hv_side)hv__rd_u8(r);
    o->req.type = (hv_order_type)hv__rd_u8(r);
    o->req.tif = (hv_tif)hv__rd_u8(r);
    o->state = (hv_order_state)hv__rd_u8(r);
    o->cancel_pending = hv__rd_u8(r);
    o->req.qty = hv__rd_i64(r);
    o->req.limit_price = hv__rd_f64(r);
    o->req.expire_ns = hv__rd_u64(r);
    o->req.client_tag = hv__rd_u64(r);
    o->filled_qty = hv__rd_i64(r);
    o->leaves_qty = hv__rd_i64(r);
    o->avg_fill_price = hv__rd_f64(r);
    o->fees = hv__rd_f64(r);
    o->submit_ns = hv__rd_u64(r);
}

static void save_report(hv_wr *w, const hv_exec_report *e)
{
    hv__wr_u8(w, (uint8_t)e->type);
    hv__wr_u8(w, (uint8_t)e->side);
    hv__wr_u8(w, (uint8_t)e->state);
    hv__wr_u32(w, (uint32_t)e->reason);
    hv__wr_u64(w, e->order_id);
    hv__wr_u64(w, e->client_tag);
    hv__wr_i64(w, e->fill_qty);
    hv__wr_f64(w, e->fill_price);
    hv__wr_f64(w, e->fee);
    hv__wr_i64(w, e->filled_qty);
    hv__wr_i64(w, e->leaves_qty);
    hv__wr_u64(w, e->submit_ns);
    hv__wr_u64(w, e->exchange_ns);
    hv__wr_u64(w, e->deliver_ns);
}

static void load_report(hv_rd *r, hv_exec_report *e)
{
    e->type = (hv_exec_type)hv__rd_u8(r);
    e->side = (hv_side)hv__rd_u8(r);
    e->state = (hv_order_state)hv__rd_u8(r);
    e->reason = (int32_t)hv__rd_u32(r);
    e->order_id = hv__rd_u64(r);
    e->client_tag = hv__rd_u64(r);
    e->fill_qty = hv__rd_i64(r);
    e->fill_price = hv__rd_f64(r);
    e->fee = hv__rd_f64(r);
    e->filled_qty = hv__rd_i64(r);
    e->leaves_qty = hv__rd_i64(r);
    e->submit_ns = hv__rd_u64(r);
    e->exchange_ns = hv__rd_u64(r);
    e->deliver_ns = hv__rd_u64(r);
}

size_t hv_exchange_state_save(const hv_exchange *x, uint8_t *buf, size_t cap)
{
    hv_wr w = { buf, cap, 0 };
    hv__wr_u32(&w, STATE_TAG);
    save_config(&w, &x->cfg);
    for (int i = 0; i < 4; i++)
        hv__wr_u64(&w, x->rng.s[i]);
    hv__wr_u64(&w, x->now_ns);
    hv__wr_u64(&w, x->next_id);
    hv__wr_u8(&w, (uint8_t)x->have_bar);
    hv__wr_f64(&w, x->last_close);
    hv__wr_u32(&w, (uint32_t)x->last_breach.limit);
    hv__wr_f64(&w, x->last_breach.value);
    hv__wr_f64(&w, x->last_breach.limit_value);
    hv__wr_u64(&w, x->last_breach.now_ns);
    save_stats(&w, &x->stats);
    hv__wr_u32(&w, x->nopen); /* the used slots are exactly the open list, in id order */
    for (uint32_t i = 0; i < x->nopen; i++) {
        const slot *sl = &x->slots[x->open[i]];
        hv__wr_u32(&w, x->open[i]);
        save_order(&w, &sl->o);
        hv__wr_u8(&w, (uint8_t)sl->x_live);
        hv__wr_i64(&w, sl->x_leaves);
        hv__wr_f64(&w, sl->x_notional);
        hv__wr_f64(&w, sl->x_fees);
    }
    for (uint32_t i = 0; i < x->nfree; i++)
        hv__wr_u32(&w, x->free_stack[i]);
    hv__wr_u64(&w, x->in_last_ns);
    hv__wr_u32(&w, x->in_len);
    for (uint32_t i = 0; i < x->in_len; i++) {
        const inbound *e = &x->in[(x->in_head + i) % x->in_cap];
        hv__wr_u8(&w, (uint8_t)e->cancel);
        hv__wr_u32(&w, e->slot);
        hv__wr_u64(&w, e->submit_ns);
        hv__wr_u64(&w, e->arrive_ns);
    }
    hv__wr_u64(&w, x->out_last_ns);
    hv__wr_u32(&w, x->out_len);
    for (uint32_t i = 0; i < x->out_len; i++) {
        const outbound *e = &x->out[(x->out_head + i) % x->out_cap];
        hv__wr_u32(&w, e->slot);
        save_report(&w, &e->r);
    }
    return w.len;
}

/* What a loaded state must satisfy so that no later call trips an assertion or reads outside
 * its tables: enums in range, the open list sorted by id and made of exactly the used slots,
 * the free stack exactly the others, at most one order and one cancel in flight per order,
 * and every queued report a legal transition of its order's state in queue order. */
static int order_ok(const hv_exchange *x, const slot *sl)
{
    const hv_order *o = &sl->o;
    return o->id > 0 && o->id < x->next_id && (unsigned)o->req.side <= HV_SIDE_SELL &&
           (unsigned)o->req.type <= HV_ORDER_LIMIT && (unsigned)o->req.tif <= HV_TIF_GTD &&
           (unsigned)o->state < HV_ORDER_STATE_COUNT && o->cancel_pending <= 1 && o->req.qty > 0 &&
           o->req.qty <= QTY_MAX && o->filled_qty >= 0 && o->leaves_qty >= 0 &&
           o->filled_qty <= o->req.qty && o->leaves_qty <= o->req.qty && sl->x_live <= 1 &&
           sl->x_leaves >= 0 && sl->x_leaves <= o->req.qty;
}

static int tables_ok(const hv_exchange *x, uint8_t *seen)
{
    uint32_t n = x->cfg.orders_max;
    for (uint32_t i = 0; i < x->nopen; i++) {
        uint32_t s = x->open[i];
        if (s >= n || seen[s] || !order_ok(x, &x->slots[s]))
            return 0;
        if (i > 0 && x->slots[x->open[i - 1]].o.id >= x->slots[s].o.id)
            return 0;
        seen[s] = 1;
    }
    for (uint32_t i = 0; i < x->nfree; i++) {
        if (x->free_stack[i] >= n || seen[x->free_stack[i]])
            return 0;
        seen[x->free_stack[i]] = 2;
    }
    return 1;
}

static int links_ok(const hv_exchange *x, const uint8_t *seen, uint8_t *flight)
{
    for (uint32_t i = 0; i < x->in_len; i++) {
        const inbound *e = &x->in[i];
        uint8_t bit = e->cancel ? 2 : 1;
        if (e->slot >= x->cfg.orders_max || seen[e->slot] != 1 || e->cancel > 1 ||
            (flight[e->slot] & bit) || (i > 0 && e->arrive_ns < x->in[i - 1].arrive_ns) ||
            e->arrive_ns > x->in_last_ns)
            return 0;
        if (e->cancel && !x->slots[e->slot].o.cancel_pending)
            return 0;
        flight[e->slot] |= bit;
    }
    hv_order *view = malloc(x->cfg.orders_max * sizeof(*view)); /* the owner's, replayed */
    if (view == NULL)
        return 0;
    for (uint32_t i = 0; i < x->nopen; i++)
        view[x->open[i]] = x->slots[x->open[i]].o;
    int ok = 1;
    for (uint32_t i = 0; ok && i < x->out_len; i++) {
        const outbound *e = &x->out[i];
        const hv_exec_report *r = &e->r;
        ok = e->slot < x->cfg.orders_max && seen[e->slot] == 1 &&
             (unsigned)r->type <= HV_EXEC_CANCEL_REJECT && (unsigned)r->side <= HV_SIDE_SELL &&
             r->fill_qty >= 0 && r->fee >= 0 &&
             (i == 0 || r->deliver_ns >= x->out[i - 1].r.deliver_ns);
        if (!ok || r->type == HV_EXEC_CANCEL_REJECT)
            continue;
        hv_order *o = &view[e->slot];
        ok = hv_order_transition(&o->state, target_state(o, r)) == 0 &&
             (r->type != HV_EXEC_FILL || (r->fill_qty > 0 && r->fill_qty <= o->leaves_qty));
        if (ok && r->type == HV_EXEC_FILL)
            o->leaves_qty -= r->fill_qty;
        if (hv_order_state_is_terminal(o->state))
            o->leaves_qty = 0;
    }
    free(view);
    return ok;
}

static int state_ok(const hv_exchange *x)
{
    uint32_t n = x->cfg.orders_max;
    if (x->nopen + x->nfree != n || x->in_len > x->in_cap || x->out_len > x->out_cap ||
        x->have_bar > 1 || (unsigned)x->last_breach.limit > HV_LIMIT_DRAWDOWN)
        return 0;
    uint8_t *seen = calloc(2 * (size_t)n, 1);
    if (seen == NULL)
        return 0;
    int ok = tables_ok(x, seen) && links_ok(x, seen, seen + n);
    free(seen);
    return ok;
}

/* Reads the links and the tables of a saved state into y (whose arrays are its own). */
static void load_tables(hv_rd *r, hv_exchange *y)
{
    uint32_t n = y->cfg.orders_max;
    y->nopen = hv__rd_u32(r);
    if (y->nopen > n) {
        r->bad = 1;
        return;
    }
    for (uint32_t i = 0; i < y->nopen && !r->bad; i++) {
        uint32_t s = hv__rd_u32(r);
        slot tmp;
        memset(&tmp, 0, sizeof(tmp));
        load_order(r, &tmp.o);
        tmp.used = 1;
        tmp.x_live = hv__rd_u8(r);
        tmp.x_leaves = hv__rd_i64(r);
        tmp.x_notional = hv__rd_f64(r);
        tmp.x_fees = hv__rd_f64(r);
        y->open[i] = s < n ? s : n;
        if (s < n)
            y->slots[s] = tmp;
    }
    y->nfree = n - y->nopen;
    for (uint32_t i = 0; i < y->nfree; i++)
        y->free_stack[i] = hv__rd_u32(r);
    y->in_last_ns = hv__rd_u64(r);
    y->in_len = hv__rd_u32(r);
    for (uint32_t i = 0; i < y->in_len && i < y->in_cap && !r->bad; i++) {
        y->in[i].cancel = hv__rd_u8(r);
        y->in[i].slot = hv__rd_u32(r);
        y->in[i].submit_ns = hv__rd_u64(r);
        y->in[i].arrive_ns = hv__rd_u64(r);
    }
    y->out_last_ns = hv__rd_u64(r);
    y->out_len = hv__rd_u32(r);
    for (uint32_t i = 0; i < y->out_len && i < y->out_cap && !r->bad; i++) {
        y->out[i].slot = hv__rd_u32(r);
        load_report(r, &y->out[i].r);
    }
}

/* The counts a loaded state carries twice (derived ones) must agree. */
static void derive(hv_exchange *y)
{
    y->x_live_count = y->x_gtd_live = 0;
    for (uint32_t i = 0; i < y->nopen; i++) {
        const slot *sl = &y->slots[y->open[i]];
        y->x_live_count += (uint32_t)sl->x_live;
        y->x_gtd_live += sl->x_live && sl->o.req.tif == HV_TIF_GTD;
    }
}

int hv_exchange_state_load(hv_exchange *x, const uint8_t *buf, size_t len)
{
    if (x == NULL || buf == NULL)
        return HV_EINVAL;
    hv_rd r = { buf, len, 0, 0 };
    if (hv__rd_u32(&r) != STATE_TAG)
        return HV_EBADFIELD;
    uint8_t mine[128], theirs[128];
    hv_wr w = { mine, sizeof(mine), 0 };
    save_config(&w, &x->cfg);
    hv__rd_bytes(&r, theirs, w.len);
    if (r.bad)
        return HV_EBADLEN;
    if (memcmp(mine, theirs, w.len) != 0)
        return HV_EINVAL; /* saved by an exchange of another configuration */
    hv_exchange *y = NULL;
    int made = hv_exchange_new(&x->cfg, &y);
    if (made != 0)
        return made;
    for (int i = 0; i < 4; i++)
        y->rng.s[i] = hv__rd_u64(&r);
    y->now_ns = hv__rd_u64(&r);
    y->next_id = hv__rd_u64(&r);
    y->have_bar = hv__rd_u8(&r);
    y->last_close = hv__rd_f64(&r);
    y->last_breach.limit = (hv_limit_id)hv__rd_u32(&r);
    y->last_breach.value = hv__rd_f64(&r);
    y->last_breach.limit_value = hv__rd_f64(&r);
    y->last_breach.now_ns = hv__rd_u64(&r);
    load_stats(&r, &y->stats);
    load_tables(&r, y);
    int rc = r.bad ? HV_EBADLEN : r.off != len ? HV_ETRAILING : 0;
    if (rc == 0 && !state_ok(y))
        rc = HV_EBADFIELD;
    if (rc == 0) {
        derive(y);
        /* take y's tables, keep x's histograms and attachments */
        slot *sl = x->slots;
        uint32_t *fs = x->free_stack, *op = x->open;
        inbound *in = x->in;
        outbound *out = x->out;
        hv_hist ack = x->ack_latency, rep = x->report_latency;
        hv_portfolio *pf = x->portfolio;
        hv_limits *lim = x->limits;
        hv_hist yack = y->ack_latency, yrep = y->report_latency;
        *x = *y;
        x->ack_latency = ack;
        x->report_latency = rep;
        x->portfolio = pf;
        x->limits = lim;
        y->slots = sl;
        y->free_stack = fs;
        y->open = op;
        y->in = in;
        y->out = out;
        y->ack_latency = yack;
        y->report_latency = yrep;
    }
    hv_exchange_free(y);
    return rc;
}

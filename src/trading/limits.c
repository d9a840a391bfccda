/* Pre-trade risk limits: position, order notional, order rate (sliding window) and a latching
 * drawdown kill switch. Each check reports which limit and the numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/exchange.h>

#include "core/assert.h"
#include "core/field.h"
#include "core/ser.h"

#define RATE_MAX 1000000u

struct hv_limits {
    hv_limits_opts cfg;
    hv_limits_stats stats;
    hv_limit_breach halt; /* why the kill switch is on (valid while stats.halted) */
    uint64_t last_ns;
    /* Rate window: timestamps of admitted orders, oldest at head; capacity = the limit. */
    uint64_t *window;
    uint32_t head, count;
};

void hv_limits_opts_default(hv_limits_opts *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
}

int hv_limits_opts_check(const hv_limits_opts *c, hv_field_error *err)
{
    if (c == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (c->size != sizeof(hv_limits_opts))
        return hv__field_fail(err, "size", "must be sizeof(hv_limits_opts)");
    if (c->position_max < 0)
        return hv__field_fail(err, "position_max", "must be >= 0 (0 = off)");
    if (!isfinite(c->order_notional_max) || c->order_notional_max < 0)
        return hv__field_fail(err, "order_notional_max", "must be a finite number >= 0 (0 = off)");
    if (!isfinite(c->drawdown_max_frac) || c->drawdown_max_frac < 0 || c->drawdown_max_frac >= 1)
        return hv__field_fail(err, "drawdown_max_frac", "must be 0 (off) or in (0, 1)");
    if (c->orders_per_interval_max > RATE_MAX)
        return hv__field_fail(err, "orders_per_interval_max", "must be at most 1000000 (0 = off)");
    if (c->orders_per_interval_max > 0 && c->interval_ns == 0)
        return hv__field_fail(err, "interval_ns",
                              "must be > 0 when orders_per_interval_max is set");
    return 0;
}

int hv_limits_new(const hv_limits_opts *opts, hv_limits **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_limits_opts dflt;
    if (opts == NULL) {
        hv_limits_opts_default(&dflt);
        opts = &dflt;
    }
    if (hv_limits_opts_check(opts, NULL) != 0)
        return HV_EINVAL;
    hv_limits *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return HV_ENOMEM;
    l->cfg = *opts;
    l->cfg.size = sizeof(l->cfg);
    if (opts->orders_per_interval_max > 0) {
        l->window = calloc(opts->orders_per_interval_max, sizeof(uint64_t));
        if (l->window == NULL) {
            free(l);
            return HV_ENOMEM;
        }
    }
    *out = l;
    return 0;
}

void hv_limits_free(hv_limits *l)
{
    if (l == NULL)
        return;
    free(l->window);
    free(l);
}

static int breach_out(hv_limit_breach *out, hv_limit_id id, double value, double max,
                      uint64_t now_ns)
{
    if (out != NULL)
        *out =
            (hv_limit_breach){ .limit = id, .value = value, .limit_value = max, .now_ns = now_ns };
    return HV_ELIMIT;
}

static int clock_ok(hv_limits *l, uint64_t now_ns)
{
    if (now_ns < l->last_ns)
        return 0;
    l->last_ns = now_ns;
    return 1;
}

static int check_drawdown(hv_limits *l, double dd, uint64_t now_ns, hv_limit_breach *breach)
{
    if (!l->stats.halted && l->cfg.drawdown_max_frac > 0 && dd > l->cfg.drawdown_max_frac) {
        l->stats.halted = 1;
        l->stats.trips[HV_LIMIT_DRAWDOWN]++;
        breach_out(&l->halt, HV_LIMIT_DRAWDOWN, dd, l->cfg.drawdown_max_frac, now_ns);
    }
    if (!l->stats.halted)
        return 0;
    if (breach != NULL)
        *breach = l->halt;
    return HV_EHALTED;
}

int hv_limits_update_drawdown(hv_limits *l, double drawdown_frac, uint64_t now_ns,
                              hv_limit_breach *breach)
{
    if (!clock_ok(l, now_ns))
        return HV_ERANGE;
    return check_drawdown(l, drawdown_frac, now_ns, breach);
}

/* Drops timestamps that left the window (now - interval, now]. */
static void window_expire(hv_limits *l, uint64_t now_ns)
{
    uint32_t cap = l->cfg.orders_per_interval_max;
    HV_ASSERT(l->count <= cap && (l->count == 0 || now_ns >= l->window[l->head])); /* clock_ok */
    while (l->count > 0 && now_ns - l->window[l->head] >= l->cfg.interval_ns) {
        l->head = (l->head + 1) % cap;
        l->count--;
    }
}

static int check_order(hv_limits *l, const hv_limits_input *in, uint64_t now_ns,
                       hv_limit_breach *breach)
{
    const hv_limits_opts *c = &l->cfg;
    double notional = (double)in->qty * in->price;
    if (c->order_notional_max > 0 && notional > c->order_notional_max)
        return breach_out(breach, HV_LIMIT_ORDER_NOTIONAL, notional, c->order_notional_max, now_ns);
    if (c->position_max > 0) {
        /* int64 may overflow here only for absurd inputs; compute in double to be safe. */
        double worst = in->side == HV_SIDE_BUY
                           ? (double)in->position + (double)in->open_buy_qty + (double)in->qty
                           : (double)in->position - (double)in->open_sell_qty - (double)in->qty;
        if (fabs(worst) > (double)c->position_max)
            return breach_out(breach, HV_LIMIT_POSITION, fabs(worst), (double)c->position_max,
                              now_ns);
    }
    if (c->orders_per_interval_max > 0) {
        window_expire(l, now_ns);
        if (l->count >= c->orders_per_interval_max)
            return breach_out(breach, HV_LIMIT_ORDER_RATE, (double)l->count + 1,
                              (double)c->orders_per_interval_max, now_ns);
    }
    return 0;
}

static void window_push(hv_limits *l, uint64_t now_ns)
{
    uint32_t cap = l->cfg.orders_per_interval_max;
    if (cap == 0)
        return;
    l->window[(l->head + l->count) % cap] = now_ns;
    l->count++;
}

static int input_ok(const hv_limits_input *in)
{
    return in->qty > 0 && isfinite(in->price) && in->price > 0 && in->open_buy_qty >= 0 &&
           in->open_sell_qty >= 0 && isfinite(in->drawdown_frac) &&
           (in->side == HV_SIDE_BUY || in->side == HV_SIDE_SELL);
}

int hv_limits_admit(hv_limits *l, const hv_limits_input *in, uint64_t now_ns,
                    hv_limit_breach *breach)
{
    if (l == NULL || in == NULL || !input_ok(in))
        return HV_EINVAL;
    if (!clock_ok(l, now_ns))
        return HV_ERANGE;
    l->stats.checks++;
    int rc = check_drawdown(l, in->drawdown_frac, now_ns, breach);
    if (rc != 0)
        return rc;
    hv_limit_breach b;
    rc = check_order(l, in, now_ns, &b);
    if (rc != 0) {
        l->stats.trips[b.limit]++;
        if (breach != NULL)
            *breach = b;
        return rc;
    }
    window_push(l, now_ns);
    l->stats.admitted++;
    return 0;
}

int hv_limits_halted(const hv_limits *l, hv_limit_breach *why)
{
    if (!l->stats.halted)
        return 0;
    if (why != NULL)
        *why = l->halt;
    return 1;
}

void hv_limits_resume(hv_limits *l)
{
    l->stats.halted = 0;
    memset(&l->halt, 0, sizeof(l->halt));
}

void hv_limits_stats_get(const hv_limits *l, hv_limits_stats *out)
{
    *out = l->stats;
}

const char *hv_limit_name(hv_limit_id id)
{
    switch (id) {
    case HV_LIMIT_POSITION:
        return "position";
    case HV_LIMIT_ORDER_NOTIONAL:
        return "order_notional";
    case HV_LIMIT_ORDER_RATE:
        return "order_rate";
    case HV_LIMIT_DRAWDOWN:
        return "drawdown";
    default:
        return "none";
    }
}

int hv_limit_breach_format(const hv_limit_breach *b, char *buf, size_t n)
{
    switch (b->limit) {
    case HV_LIMIT_DRAWDOWN:
        return snprintf(buf, n, "kill switch: drawdown %.4f%% > max %.4f%%, new orders halted",
                        b->value * 100, b->limit_value * 100);
    case HV_LIMIT_ORDER_RATE:
        return snprintf(buf, n, "limit order_rate: order %.0f in the interval > max %.0f", b->value,
                        b->limit_value);
    case HV_LIMIT_NONE:
        return snprintf(buf, n, "no limit breached");
    default:
        return snprintf(buf, n, "limit %s: %.2f > max %.2f", hv_limit_name(b->limit), b->value,
                        b->limit_value);
    }
}

/* ---- state export (docs/LOG.md, "Snapshots") ------------------------------------------------ */

#define STATE_TAG 0x31525648u /* "HVR1" */

static void save_breach(hv_wr *w, const hv_limit_breach *b)
{
    hv__wr_u32(w, (uint32_t)b->limit);
    hv__wr_f64(w, b->value);
    hv__wr_f64(w, b->limit_value);
    hv__wr_u64(w, b->now_ns);
}

static void load_breach(hv_rd *r, hv_limit_breach *b)
{
    uint32_t id = hv__rd_u32(r);
    if (id > HV_LIMIT_DRAWDOWN)
        r->bad = 1;
    b->limit = (hv_limit_id)(id > HV_LIMIT_DRAWDOWN ? 0 : id);
    b->value = hv__rd_f64(r);
    b->limit_value = hv__rd_f64(r);
    b->now_ns = hv__rd_u64(r);
}

size_t hv_limits_state_save(const hv_limits *l, uint8_t *buf, size_t cap)
{
    hv_wr w = { buf, cap, 0 };
    hv__wr_u32(&w, STATE_TAG);
    hv__wr_u32(&w, l->cfg.orders_per_interval_max);
    hv__wr_u64(&w, l->stats.checks);
    hv__wr_u64(&w, l->stats.admitted);
    for (int i = 0; i < 5; i++)
        hv__wr_u64(&w, l->stats.trips[i]);
    hv__wr_u8(&w, (uint8_t)l->stats.halted);
    save_breach(&w, &l->halt);
    hv__wr_u64(&w, l->last_ns);
    hv__wr_u32(&w, l->count);
    for (uint32_t i = 0; i < l->count; i++)
        hv__wr_u64(&w, l->window[(l->head + i) % l->cfg.orders_per_interval_max]);
    return w.len;
}

int hv_limits_state_load(hv_limits *l, const uint8_t *buf, size_t len)
{
    if (l == NULL || buf == NULL)
        return HV_EINVAL;
    hv_rd r = { buf, len, 0, 0 };
    if (hv__rd_u32(&r) != STATE_TAG)
        return HV_EBADFIELD;
    uint32_t cap = hv__rd_u32(&r);
    if (!r.bad && cap != l->cfg.orders_per_interval_max)
        return HV_EINVAL; /* saved by limits of another configuration */
    hv_limits_stats st;
    memset(&st, 0, sizeof(st));
    st.checks = hv__rd_u64(&r);
    st.admitted = hv__rd_u64(&r);
    for (int i = 0; i < 5; i++)
        st.trips[i] = hv__rd_u64(&r);
    uint8_t halted = hv__rd_u8(&r);
    hv_limit_breach halt;
    load_breach(&r, &halt);
    uint64_t last = hv__rd_u64(&r);
    uint32_t count = hv__rd_u32(&r);
    if (r.bad)
        return HV_EBADLEN;
    if (halted > 1 || count > cap)
        return HV_EBADFIELD;
    if ((size_t)count * 8 != len - r.off)
        return len - r.off < (size_t)count * 8 ? HV_EBADLEN : HV_ETRAILING;
    /* the window holds admission times in order, none after the clock (window_expire) */
    uint64_t prev = 0;
    hv_rd check = r;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t t = hv__rd_u64(&check);
        if (t < prev || t > last)
            return HV_EBADFIELD;
        prev = t;
    }
    for (uint32_t i = 0; i < count; i++)
        l->window[i] = hv__rd_u64(&r);
    st.halted = halted;
    l->stats = st;
    l->halt = halt;
    l->last_ns = last;
    l->head = 0;
    l->count = count;
    return 0;
}

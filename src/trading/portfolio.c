/* Portfolio accounting for one instrument: average cost, realised/unrealised P&L, fees,
 * equity curve (bounded, decimated when full) and peak-to-trough drawdown. */
#include <math.h>
#include <stdlib.h>

#include <hivewire/exchange.h>

#include "core/ser.h"

struct hv_portfolio {
    hv_portfolio_stats s;
    int marked;
    uint64_t last_mark_ns;
    /* Equity curve: n kept points (every stride-th mark), plus a tail slot at index n holding
     * the latest mark when that mark was not kept. Arrays hold cap + 1 entries. */
    size_t cap, n, stride;
    int tail;
    uint64_t marks;
    uint64_t *t_ns;
    double *equity;
};

int hv_portfolio_new(double cash_initial, size_t curve_points_max, hv_portfolio **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    if (!isfinite(cash_initial) || cash_initial <= 0 || curve_points_max < 2 ||
        curve_points_max > ((size_t)1 << 28))
        return HV_EINVAL;
    hv_portfolio *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return HV_ENOMEM;
    p->t_ns = calloc(curve_points_max + 1, sizeof(uint64_t));
    p->equity = calloc(curve_points_max + 1, sizeof(double));
    if (p->t_ns == NULL || p->equity == NULL) {
        hv_portfolio_free(p);
        return HV_ENOMEM;
    }
    p->cap = curve_points_max;
    p->stride = 1;
    p->s.cash_initial = cash_initial;
    p->s.cash = cash_initial;
    p->s.equity = cash_initial;
    p->s.equity_peak = cash_initial;
    *out = p;
    return 0;
}

void hv_portfolio_free(hv_portfolio *p)
{
    if (p == NULL)
        return;
    free(p->t_ns);
    free(p->equity);
    free(p);
}

/* Recomputes unrealised P&L, equity and drawdown at the current mark. */
static void revalue(hv_portfolio *p)
{
    hv_portfolio_stats *s = &p->s;
    double pos = (double)s->position;
    s->unrealized_pnl = s->position == 0 ? 0 : pos * (s->mark_price - s->avg_cost);
    s->equity = s->cash + pos * s->mark_price;
    if (s->equity > s->equity_peak)
        s->equity_peak = s->equity;
    s->drawdown = s->equity_peak - s->equity;
    s->drawdown_frac = s->equity_peak > 0 ? s->drawdown / s->equity_peak : 0;
    if (s->drawdown > s->max_drawdown)
        s->max_drawdown = s->drawdown;
    if (s->drawdown_frac > s->max_drawdown_frac)
        s->max_drawdown_frac = s->drawdown_frac;
}

/* Moves the position by signed q at price, booking realised P&L on the closed part. */
static void move_position(hv_portfolio_stats *s, int64_t q, double price)
{
    int64_t pos = s->position;
    if (pos == 0 || (pos > 0) == (q > 0)) {
        double old_abs = (double)llabs(pos), add = (double)llabs(q);
        s->avg_cost = (s->avg_cost * old_abs + price * add) / (old_abs + add);
        s->position = pos + q;
        return;
    }
    int64_t closed = llabs(q) < llabs(pos) ? llabs(q) : llabs(pos);
    double dir = pos > 0 ? 1.0 : -1.0;
    s->realized_pnl += (price - s->avg_cost) * (double)closed * dir;
    s->position = pos + q;
    if (s->position == 0)
        s->avg_cost = 0;
    else if ((s->position > 0) != (pos > 0))
        s->avg_cost = price; /* flipped: the remainder opened at this price */
}

int hv_portfolio_apply_fill(hv_portfolio *p, hv_side side, int64_t qty, double price, double fee)
{
    if (p == NULL || qty <= 0 || !isfinite(price) || price <= 0 || !isfinite(fee) || fee < 0 ||
        (side != HV_SIDE_BUY && side != HV_SIDE_SELL))
        return HV_EINVAL;
    int64_t q = side == HV_SIDE_BUY ? qty : -qty, sum;
    if (__builtin_add_overflow(p->s.position, q, &sum) || sum == INT64_MIN)
        return HV_EINVAL;
    hv_portfolio_stats *s = &p->s;
    move_position(s, q, price);
    s->cash -= (double)q * price + fee;
    s->fees += fee;
    s->fills++;
    s->shares_traded += qty;
    s->notional_traded += (double)qty * price;
    if (!p->marked)
        s->mark_price = price;
    revalue(p);
    return 0;
}

static void curve_compact(hv_portfolio *p)
{
    size_t j = 0;
    for (size_t i = 0; i < p->n; i += 2, j++) {
        p->t_ns[j] = p->t_ns[i];
        p->equity[j] = p->equity[i];
    }
    p->n = j;
    p->stride *= 2;
}

static void curve_append(hv_portfolio *p, uint64_t now_ns, double equity)
{
    if (p->marks++ % p->stride != 0) {
        p->t_ns[p->n] = now_ns;
        p->equity[p->n] = equity;
        p->tail = 1;
        return;
    }
    if (p->n == p->cap)
        curve_compact(p);
    p->t_ns[p->n] = now_ns;
    p->equity[p->n] = equity;
    p->n++;
    p->tail = 0;
}

int hv_portfolio_mark(hv_portfolio *p, double price, uint64_t now_ns)
{
    if (p == NULL || !isfinite(price) || price <= 0)
        return HV_EINVAL;
    if (p->marked && now_ns < p->last_mark_ns)
        return HV_ERANGE;
    p->marked = 1;
    p->last_mark_ns = now_ns;
    p->s.mark_price = price;
    revalue(p);
    curve_append(p, now_ns, p->s.equity);
    return 0;
}

void hv_portfolio_stats_get(const hv_portfolio *p, hv_portfolio_stats *out)
{
    *out = p->s;
}

size_t hv_portfolio_curve(const hv_portfolio *p, const uint64_t **t_ns, const double **equity)
{
    *t_ns = p->t_ns;
    *equity = p->equity;
    return p->n + (size_t)p->tail;
}

/* ---- state export (docs/LOG.md, "Snapshots") ------------------------------------------------ */

#define STATE_TAG 0x31505648u /* "HVP1" */

static void save_pstats(hv_wr *w, const hv_portfolio_stats *s)
{
    const double f[] = { s->cash_initial,      s->cash,           s->avg_cost,      s->mark_price,
                         s->realized_pnl,      s->unrealized_pnl, s->fees,          s->equity,
                         s->equity_peak,       s->drawdown,       s->drawdown_frac, s->max_drawdown,
                         s->max_drawdown_frac, s->notional_traded };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        hv__wr_f64(w, f[i]);
    hv__wr_i64(w, s->position);
    hv__wr_u64(w, s->fills);
    hv__wr_i64(w, s->shares_traded);
}

static void load_pstats(hv_rd *r, hv_portfolio_stats *s)
{
    double *f[] = { &s->cash_initial,      &s->cash,           &s->avg_cost,      &s->mark_price,
                    &s->realized_pnl,      &s->unrealized_pnl, &s->fees,          &s->equity,
                    &s->equity_peak,       &s->drawdown,       &s->drawdown_frac, &s->max_drawdown,
                    &s->max_drawdown_frac, &s->notional_traded };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        *f[i] = hv__rd_f64(r);
    s->position = hv__rd_i64(r);
    s->fills = hv__rd_u64(r);
    s->shares_traded = hv__rd_i64(r);
}

size_t hv_portfolio_state_save(const hv_portfolio *p, uint8_t *buf, size_t cap)
{
    hv_wr w = { buf, cap, 0 };
    hv__wr_u32(&w, STATE_TAG);
    hv__wr_u64(&w, p->cap);
    save_pstats(&w, &p->s);
    hv__wr_u8(&w, (uint8_t)p->marked);
    hv__wr_u8(&w, (uint8_t)p->tail);
    hv__wr_u64(&w, p->last_mark_ns);
    hv__wr_u64(&w, p->stride);
    hv__wr_u64(&w, p->marks);
    hv__wr_u64(&w, p->n);
    for (size_t i = 0; i < p->n + (size_t)p->tail; i++) {
        hv__wr_u64(&w, p->t_ns[i]);
        hv__wr_f64(&w, p->equity[i]);
    }
    return w.len;
}

int hv_portfolio_state_load(hv_portfolio *p, const uint8_t *buf, size_t len)
{
    if (p == NULL || buf == NULL)
        return HV_EINVAL;
    hv_rd r = { buf, len, 0, 0 };
    if (hv__rd_u32(&r) != STATE_TAG)
        return HV_EBADFIELD;
    if (hv__rd_u64(&r) != p->cap)
        return r.bad ? HV_EBADLEN : HV_EINVAL; /* saved by a portfolio of another size */
    hv_portfolio_stats s;
    load_pstats(&r, &s);
    uint8_t marked = hv__rd_u8(&r), tail = hv__rd_u8(&r);
    uint64_t last = hv__rd_u64(&r), stride = hv__rd_u64(&r), marks = hv__rd_u64(&r);
    uint64_t n = hv__rd_u64(&r);
    if (r.bad)
        return HV_EBADLEN;
    /* stride a power of two, the curve within its capacity, the tail slot only past n */
    if (marked > 1 || tail > 1 || stride == 0 || (stride & (stride - 1)) != 0 || n > p->cap ||
        s.position == INT64_MIN || s.cash_initial <= 0)
        return HV_EBADFIELD;
    if ((n + tail) * 16 != len - r.off)
        return len - r.off < (n + tail) * 16 ? HV_EBADLEN : HV_ETRAILING;
    hv_rd check = r; /* every point finite before anything changes */
    for (size_t i = 0; i < n + tail; i++) {
        (void)hv__rd_u64(&check);
        (void)hv__rd_f64(&check);
    }
    if (check.bad)
        return HV_EBADFIELD;
    for (size_t i = 0; i < n + tail; i++) {
        p->t_ns[i] = hv__rd_u64(&r);
        p->equity[i] = hv__rd_f64(&r);
    }
    p->s = s;
    p->marked = marked;
    p->tail = tail;
    p->last_mark_ns = last;
    p->stride = stride;
    p->marks = marks;
    p->n = n;
    return 0;
}

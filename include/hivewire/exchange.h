/*
 * hivewire: simulated exchange, order state machine, portfolio accounting and pre-trade risk
 * limits. See docs/TRADING.md for the model and every policy in detail.
 *
 * Everything here is a state machine without I/O and without a clock: each call that depends
 * on time takes `now_ns`, a simulated time in nanoseconds chosen by the caller. Calls on one
 * object must pass non-decreasing times. Randomness (the exchange's latency jitter) comes from
 * a seeded hv_rng, so the same seed, inputs and call sequence give the same orders, fills and
 * P&L on every run and every machine.
 *
 * Threads: none of these objects is thread-safe. Each exchange, portfolio and limits object
 * belongs to one thread at a time (in the swarm, the execution agent owns the exchange and the
 * portfolio, the risk agent owns the limits). The free functions on order states are pure and
 * may be called from any thread.
 */
#ifndef HIVEWIRE_EXCHANGE_H
#define HIVEWIRE_EXCHANGE_H

#include <hivewire/common.h>
#include <hivewire/hist.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Order state machine                                                                       */
/* ---------------------------------------------------------------------------------------- */

/*
 * The life of an order, as its owner sees it:
 *
 *   NEW -> SUBMITTED        sent towards the exchange
 *   NEW -> REJECTED         refused before sending (e.g. by a pre-trade limit)
 *   SUBMITTED -> ACCEPTED   the exchange acknowledged it
 *   SUBMITTED -> REJECTED   the exchange refused it
 *   ACCEPTED -> PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED
 *   PARTIALLY_FILLED -> PARTIALLY_FILLED | FILLED | CANCELLED | EXPIRED
 *
 * FILLED, CANCELLED, REJECTED and EXPIRED are terminal: no transition leaves them. Every other
 * pair (including a state to itself, except another partial fill) is invalid.
 */
typedef enum hv_order_state {
    HV_ORDER_NEW = 0,
    HV_ORDER_SUBMITTED = 1,
    HV_ORDER_ACCEPTED = 2,
    HV_ORDER_PARTIALLY_FILLED = 3,
    HV_ORDER_FILLED = 4,
    HV_ORDER_CANCELLED = 5,
    HV_ORDER_REJECTED = 6,
    HV_ORDER_EXPIRED = 7,
} hv_order_state;

#define HV_ORDER_STATE_COUNT 8

/* 0 if `from -> to` is a valid transition, HV_EBADTRANSITION otherwise (also for states out of
 * range). Pure; any thread. */
HV_EXTERN int hv_order_transition_check(hv_order_state from, hv_order_state to);

/* Applies `to` to *state if the transition is valid. Returns 0 or HV_EBADTRANSITION (state
 * unchanged). */
HV_EXTERN int hv_order_transition(hv_order_state *state, hv_order_state to);

/* 1 for FILLED, CANCELLED, REJECTED, EXPIRED; 0 otherwise. */
HV_EXTERN int hv_order_state_is_terminal(hv_order_state s);

/* Lower-case name ("partially_filled"), or "unknown". Never NULL. */
HV_EXTERN const char *hv_order_state_name(hv_order_state s);

typedef enum hv_side { HV_SIDE_BUY = 0, HV_SIDE_SELL = 1 } hv_side;

typedef enum hv_order_type { HV_ORDER_MARKET = 0, HV_ORDER_LIMIT = 1 } hv_order_type;

/* Time in force. GTC: until filled or cancelled. IOC: whatever fills on the first bar the
 * order meets at the exchange; the rest expires. GTD: like GTC, but expires at expire_ns. */
typedef enum hv_tif { HV_TIF_GTC = 0, HV_TIF_IOC = 1, HV_TIF_GTD = 2 } hv_tif;

/* What the owner asks for. qty is in shares (> 0). limit_price is used by LIMIT orders only
 * (> 0). expire_ns is used by GTD only (must lie after the submission time). client_tag is
 * opaque to the exchange and copied into every report (e.g. the consensus proposal id). */
typedef struct hv_order_request {
    hv_side side;
    hv_order_type type;
    hv_tif tif;
    int64_t qty;
    double limit_price;
    uint64_t expire_ns;
    uint64_t client_tag;
} hv_order_request;

/* ---------------------------------------------------------------------------------------- */
/* Portfolio: one instrument, average-cost accounting                                        */
/* ---------------------------------------------------------------------------------------- */

/*
 * Cash, a signed position (negative = short), realised and unrealised P&L, fees, an equity
 * curve and peak-to-trough drawdown. Invariant, up to floating-point rounding:
 *   equity = cash + position * mark = cash_initial + realized_pnl + unrealized_pnl - fees.
 * Realised P&L is gross of fees; fees are accounted separately.
 */
typedef struct hv_portfolio hv_portfolio;

typedef struct hv_portfolio_stats {
    double cash_initial;
    double cash;
    int64_t position;
    double avg_cost;       /* average entry price of the open position (0 when flat) */
    double mark_price;     /* last price given to hv_portfolio_mark (or last fill price) */
    double realized_pnl;   /* gross of fees */
    double unrealized_pnl; /* position * (mark - avg_cost) */
    double fees;
    double equity;
    double equity_peak;
    double drawdown;          /* equity_peak - equity, >= 0 */
    double drawdown_frac;     /* drawdown / equity_peak (0 while equity_peak <= 0) */
    double max_drawdown;      /* largest drawdown seen (currency) */
    double max_drawdown_frac; /* largest drawdown_frac seen */
    uint64_t fills;
    int64_t shares_traded;
    double notional_traded;
} hv_portfolio_stats;

/* Creates a portfolio holding cash_initial (> 0 and finite) and no position. The equity curve
 * keeps at most curve_points_max (>= 2) points: when it is full, every other point is dropped
 * and from then on only every 2nd (4th, ...) mark is kept, so the curve always spans the whole
 * run in bounded memory. Drawdown statistics use every mark, not only the kept points.
 * Returns NULL for bad arguments or out of memory. Free with hv_portfolio_free(). */
HV_EXTERN hv_portfolio *hv_portfolio_new(double cash_initial, size_t curve_points_max);
HV_EXTERN void hv_portfolio_free(hv_portfolio *p);

/* Books a fill: qty > 0 shares at price > 0, paying fee >= 0. Updates cash, position, average
 * cost, realised P&L (when the fill reduces or flips the position), fees and drawdown (valued
 * at the last mark, or at this price if never marked). Returns 0 or HV_EINVAL (bad numbers,
 * or a position that would overflow int64). No allocation. */
HV_EXTERN int hv_portfolio_apply_fill(hv_portfolio *p, hv_side side, int64_t qty, double price,
                                      double fee);

/* Values the position at `price` (> 0) at simulated time now_ns: updates unrealised P&L,
 * equity, the peak and drawdown, and appends an equity-curve point. Returns 0, HV_EINVAL (bad
 * price) or HV_ERANGE (now_ns earlier than the previous mark). No allocation. */
HV_EXTERN int hv_portfolio_mark(hv_portfolio *p, double price, uint64_t now_ns);

HV_EXTERN void hv_portfolio_stats_get(const hv_portfolio *p, hv_portfolio_stats *out);

/* The kept equity curve: *t_ns and *equity point at n entries owned by the portfolio, valid
 * until the next call to hv_portfolio_mark() or hv_portfolio_free(). Returns n. */
HV_EXTERN size_t hv_portfolio_curve(const hv_portfolio *p, const uint64_t **t_ns,
                                    const double **equity);

/* ---------------------------------------------------------------------------------------- */
/* Pre-trade risk limits                                                                     */
/* ---------------------------------------------------------------------------------------- */

typedef enum hv_limit_id {
    HV_LIMIT_NONE = 0,
    HV_LIMIT_POSITION = 1,       /* |worst-case position| after the order */
    HV_LIMIT_ORDER_NOTIONAL = 2, /* qty * price of one order */
    HV_LIMIT_ORDER_RATE = 3,     /* orders admitted within a sliding interval */
    HV_LIMIT_DRAWDOWN = 4,       /* kill switch on drawdown_frac; latches */
} hv_limit_id;

/*
 * Every limit is a maximum that may be reached but not exceeded: a value equal to the limit
 * passes, anything above trips. A field set to 0 disables that limit.
 */
typedef struct hv_limits_config {
    size_t size;                      /* sizeof(hv_limits_config), for growth */
    int64_t position_max;             /* shares, both long and short */
    double order_notional_max;        /* currency per order */
    uint32_t orders_per_interval_max; /* at most this many admitted orders ... */
    uint64_t interval_ns;             /* ... in any window (now - interval_ns, now] */
    double drawdown_max_frac;         /* e.g. 0.2: halt once drawdown_frac > 0.2 */
} hv_limits_config;

/* Which limit tripped and the numbers: `value` is what the order (or the portfolio) would
 * reach, `limit` the configured maximum. */
typedef struct hv_limit_breach {
    hv_limit_id limit;
    double value;
    double limit_value;
    uint64_t now_ns;
} hv_limit_breach;

/* The order and the state it is checked against. position, open_buy_qty and open_sell_qty
 * (the unfilled quantity of live orders, >= 0) give the worst-case position: a buy is checked
 * as position + open_buy_qty + qty, a sell as position - open_sell_qty - qty. price is the
 * limit price, or for market orders the caller's reference price (last close). */
typedef struct hv_limits_input {
    hv_side side;
    int64_t qty;
    double price;
    int64_t position;
    int64_t open_buy_qty;
    int64_t open_sell_qty;
    double drawdown_frac;
} hv_limits_input;

typedef struct hv_limits_stats {
    uint64_t checks;
    uint64_t admitted;
    uint64_t trips[5]; /* indexed by hv_limit_id */
    int halted;
} hv_limits_stats;

typedef struct hv_limits hv_limits;

/* A config with every limit disabled. */
HV_EXTERN void hv_limits_config_default(hv_limits_config *cfg);

/* Creates a limits checker. Allocates the rate window (orders_per_interval_max timestamps)
 * here, never later. Returns NULL on bad config (size too small, negative or non-finite
 * values, a rate limit without interval_ns, orders_per_interval_max > 1,000,000) or out of
 * memory. */
HV_EXTERN hv_limits *hv_limits_new(const hv_limits_config *cfg);
HV_EXTERN void hv_limits_free(hv_limits *l);

/*
 * The pre-trade check. In order: the kill switch (halted already, or in->drawdown_frac above
 * the limit, which halts now), order notional, worst-case position, order rate. On success the
 * order is counted in the rate window (it is assumed sent) and 0 is returned. Otherwise:
 *   HV_EHALTED  the kill switch is (now) on; *breach says why (the drawdown that tripped it)
 *   HV_ELIMIT   a limit would be exceeded; *breach says which and by how much
 *   HV_EINVAL   qty <= 0, price not finite or <= 0, negative open quantities
 *   HV_ERANGE   now_ns earlier than a previous call's
 * breach may be NULL. Cancels are never checked: they reduce risk and stay allowed when
 * halted. No allocation.
 */
HV_EXTERN int hv_limits_admit(hv_limits *l, const hv_limits_input *in, uint64_t now_ns,
                              hv_limit_breach *breach);

/* Feeds the current drawdown so the kill switch trips as soon as it is exceeded, not only on
 * the next order. Returns 0, HV_EHALTED (tripped now or earlier; *breach filled) or HV_ERANGE
 * (time went backwards). */
HV_EXTERN int hv_limits_update_drawdown(hv_limits *l, double drawdown_frac, uint64_t now_ns,
                                        hv_limit_breach *breach);

/* 1 and the tripping breach if the kill switch is on, else 0. */
HV_EXTERN int hv_limits_halted(const hv_limits *l, hv_limit_breach *why);

/* Operator action: clears the kill switch (the rate window is kept). */
HV_EXTERN void hv_limits_resume(hv_limits *l);

HV_EXTERN void hv_limits_stats_get(const hv_limits *l, hv_limits_stats *out);

/* "position", "order_notional", "order_rate", "drawdown", "none". Never NULL. */
HV_EXTERN const char *hv_limit_name(hv_limit_id id);

/* Writes a one-line explanation ("limit order_notional: 10500.00 > max 10000.00") into buf
 * (always NUL-terminated when n > 0). Returns what snprintf returns. */
HV_EXTERN int hv_limit_breach_format(const hv_limit_breach *b, char *buf, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_EXCHANGE_H */

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
#include <hivewire/market.h>

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
 * keeps at most curve_points_max (2 .. 2^28) points: when it is full, every other point is
 * dropped and from then on only every 2nd (4th, ...) mark is kept, so the curve always spans
 * the whole run in bounded memory. Drawdown statistics use every mark, not only the kept points.
 * Returns 0, HV_EINVAL (bad arguments, NULL out), HV_ENOMEM. On success the caller owns *out
 * and frees it with hv_portfolio_free(); on failure *out is NULL. */
HV_EXTERN int hv_portfolio_new(double cash_initial, size_t curve_points_max, hv_portfolio **out);
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
typedef struct hv_limits_opts {
    size_t size;                      /* sizeof(hv_limits_opts), for growth */
    int64_t position_max;             /* shares, both long and short */
    double order_notional_max;        /* currency per order */
    uint32_t orders_per_interval_max; /* at most this many admitted orders ... */
    uint64_t interval_ns;             /* ... in any window (now - interval_ns, now] */
    double drawdown_max_frac;         /* e.g. 0.2: halt once drawdown_frac > 0.2 */
} hv_limits_opts;

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

/* Options with every limit disabled. */
HV_EXTERN void hv_limits_opts_default(hv_limits_opts *o);

/* Checks options: size is sizeof(hv_limits_opts); position_max >= 0;
 * order_notional_max finite and >= 0; drawdown_max_frac 0 (off) or in (0, 1);
 * orders_per_interval_max at most 1,000,000, and when it is set, interval_ns > 0. Returns 0,
 * or HV_EINVAL with *err (may be NULL) naming the first bad field and why. Pure. */
HV_EXTERN int hv_limits_opts_check(const hv_limits_opts *o, hv_field_error *err);

/* Creates a limits checker (opts NULL: every limit disabled). Allocates the rate window
 * (orders_per_interval_max timestamps) here, never later. Returns 0, HV_EINVAL (NULL out, or
 * opts refused by hv_limits_opts_check(), which names the field), HV_ENOMEM. On success the
 * caller owns *out (hv_limits_free()); on failure *out is NULL. */
HV_EXTERN int hv_limits_new(const hv_limits_opts *opts, hv_limits **out);
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

/* ---------------------------------------------------------------------------------------- */
/* Simulated exchange: one instrument, fills against replayed bars                            */
/* ---------------------------------------------------------------------------------------- */

/*
 * Model (details and formulas in docs/TRADING.md):
 *  - Latency: every message crosses a one-way link of latency_fixed_ns plus a seeded uniform
 *    jitter in [0, latency_jitter_ns]. Each direction is FIFO (as one ordered session): a
 *    message never overtakes an earlier one, so a cancel never arrives before its order and a
 *    fill report never arrives before the ack.
 *  - An order is live at the exchange from its arrival. A bar given to hv_exchange_on_bar() at
 *    time T trades every order live at T, in order-id (time) priority.
 *  - Market orders fill at the bar's open plus slippage: half_spread_bps + impact_bps *
 *    sqrt(qty / bar volume), against the order, clamped to [low, high].
 *  - Limit orders: a buy is marketable when open <= limit (fills like a market order, capped at
 *    the limit); otherwise it fills at the limit if the bar trades through it (low < limit).
 *    Sells mirror this.
 *  - Partial fills: all our orders together take at most floor(participation_max * volume)
 *    shares per bar; the rest waits for later bars (or expires: IOC, GTD). A bar with volume
 *    <= 0 carries no volume information: it fills without cap and without size impact.
 *  - Fees: fee_bps of the notional, with a minimum of fee_min per order: after each fill the
 *    order has paid exactly max(filled notional * fee_bps / 1e4, fee_min), so the first fill
 *    pays at least the minimum and an order that never fills pays nothing.
 *  - Rejections at the exchange: a limit price farther than price_band_frac from the last
 *    bar's close (HV_ERANGE in the report).
 */
typedef struct hv_exchange_opts {
    size_t size;               /* sizeof(hv_exchange_opts) */
    uint64_t seed;             /* latency jitter */
    uint32_t orders_max;       /* orders open at once, 1..65536 */
    double fee_bps;            /* [0, 10000] */
    double fee_min;            /* >= 0, per order */
    double participation_max;  /* (0, 1] of bar volume */
    double half_spread_bps;    /* >= 0 */
    double impact_bps;         /* >= 0, times sqrt(qty / volume) */
    uint64_t latency_fixed_ns; /* one-way */
    uint64_t latency_jitter_ns;
    double price_band_frac; /* > 0: reject limits farther than this from the last close; 0 off */
} hv_exchange_opts;

typedef enum hv_exec_type {
    HV_EXEC_ACK = 0,           /* SUBMITTED -> ACCEPTED */
    HV_EXEC_REJECT = 1,        /* SUBMITTED -> REJECTED; reason says why */
    HV_EXEC_FILL = 2,          /* -> PARTIALLY_FILLED or FILLED */
    HV_EXEC_CANCELLED = 3,     /* -> CANCELLED */
    HV_EXEC_EXPIRED = 4,       /* -> EXPIRED */
    HV_EXEC_CANCEL_REJECT = 5, /* the cancel came too late (order already done); no change */
} hv_exec_type;

/* An execution report as the owner receives it. */
typedef struct hv_exec_report {
    hv_exec_type type;
    uint64_t order_id;
    uint64_t client_tag;
    hv_side side;
    hv_order_state state; /* the order's state after this report */
    int64_t fill_qty;     /* FILL: shares in this fill */
    double fill_price;    /* FILL: price of this fill */
    double fee;           /* FILL: fee charged with this fill */
    int64_t filled_qty;   /* cumulative, after this report */
    int64_t leaves_qty;   /* still working, after this report (0 once terminal) */
    int reason;           /* REJECT, CANCEL_REJECT: an HV_E* code; else 0 */
    uint64_t submit_ns;   /* when the owner submitted the order (cancel: the cancel) */
    uint64_t exchange_ns; /* when the exchange produced the report (simulated) */
    uint64_t deliver_ns;  /* when the owner receives it (simulated) */
} hv_exec_report;

/* The owner's view of an order. */
typedef struct hv_order {
    uint64_t id;
    hv_order_request req;
    hv_order_state state;
    int64_t filled_qty;
    int64_t leaves_qty;
    double avg_fill_price;
    double fees;
    uint64_t submit_ns;
    int cancel_pending;
} hv_order;

typedef struct hv_exchange_stats {
    uint64_t submitted, accepted, rejected, fills, filled, cancelled, expired, cancel_rejects;
    uint64_t limit_refusals;   /* submits refused by attached limits (HV_ELIMIT, HV_EHALTED) */
    uint64_t full_refusals;    /* calls that returned HV_EFULL */
    uint64_t backlog_stalls;   /* polls that found arrivals or expiries waiting for report room */
    uint64_t portfolio_errors; /* fills the attached portfolio refused (position overflow) */
    uint64_t bars;
    uint64_t reports_delivered;
    uint32_t open_orders; /* orders not yet terminal in the owner's view */
    uint32_t reports_queued;
    int64_t open_buy_qty;  /* leaves of open buy orders */
    int64_t open_sell_qty; /* leaves of open sell orders */
    double fees;
    double notional;
} hv_exchange_stats;

typedef struct hv_exchange hv_exchange;

/* Defaults: seed 1, 1024 orders, 1 bp fee with 1.0 minimum, 10% participation, 1 bp half
 * spread, 10 bp impact at 100% of volume, 50 us + [0, 20 us] one-way latency, 10% band. */
HV_EXTERN void hv_exchange_opts_default(hv_exchange_opts *o);

#define HV_EXCHANGE_BPS_MAX        10000.0 /* fee, spread and impact: at most 100% */
#define HV_EXCHANGE_FEE_MIN_MAX    1e12
#define HV_EXCHANGE_LATENCY_MAX_NS 3600000000000ull /* one hour, for each latency field */

/* Checks options: size is sizeof(hv_exchange_opts); orders_max in [1, 65536];
 * fee_bps, half_spread_bps and impact_bps finite in [0, HV_EXCHANGE_BPS_MAX]; fee_min finite
 * in [0, HV_EXCHANGE_FEE_MIN_MAX]; participation_max in (0, 1]; price_band_frac finite in
 * [0, 1e6]; latency_fixed_ns and latency_jitter_ns at most HV_EXCHANGE_LATENCY_MAX_NS. With
 * that bound every event the exchange schedules lies within 2 x 2 hours (plus the caller's
 * own offsets) of the latest time it was given: HV_SIM_TIME_MARGIN_NS (market.h) covers it.
 * Returns 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why. Pure. */
HV_EXTERN int hv_exchange_opts_check(const hv_exchange_opts *o, hv_field_error *err);

/* Creates an exchange; every queue and table is allocated here (orders_max slots, a 2 x
 * orders_max inbound queue and a 4 x orders_max + 16 report queue), never later. opts NULL =
 * defaults. Returns 0, HV_EINVAL (NULL out, or opts refused by hv_exchange_opts_check(), which
 * names the field), HV_ENOMEM. On success the caller owns *out (hv_exchange_free()); on
 * failure *out is NULL. */
HV_EXTERN int hv_exchange_new(const hv_exchange_opts *opts, hv_exchange **out);
HV_EXTERN void hv_exchange_free(hv_exchange *x);

/* Optional: fills delivered by hv_exchange_poll() are booked into `portfolio`, and
 * hv_exchange_submit() first runs hv_limits_admit() with the portfolio's position and
 * drawdown, the exchange's open quantities and the order's price (limit price, or the last
 * bar's close for market orders). Either may be NULL. Both are borrowed: they must outlive the
 * exchange or be detached (attach NULL) first, and belong to the exchange's thread. */
HV_EXTERN void hv_exchange_attach(hv_exchange *x, hv_portfolio *portfolio, hv_limits *limits);

/*
 * Submits an order at now_ns. On success *order_id (may be NULL) gets its id (1, 2, ...), the
 * order is SUBMITTED and travels towards the exchange. Errors (nothing is submitted):
 *   HV_EINVAL   bad request (side/type/tif out of range, qty <= 0 or > 10^15, a LIMIT without
 *               a finite price > 0, a GTD with expire_ns <= now_ns)
 *   HV_EFULL    orders_max orders are open
 *   HV_ELIMIT   an attached limit would be exceeded (hv_exchange_last_breach_get says which)
 *   HV_EHALTED  the attached limits' kill switch is on (idem)
 *   HV_ESTATE   attached limits, a market order and no bar seen yet (no reference price)
 *   HV_ERANGE   now_ns is earlier than a previous call's
 * No allocation.
 */
HV_EXTERN int hv_exchange_submit(hv_exchange *x, const hv_order_request *req, uint64_t now_ns,
                                 uint64_t *order_id);

/* Requests a cancel at now_ns; the answer (CANCELLED or CANCEL_REJECT) comes as a report.
 * Never checked by limits: cancels stay allowed when the kill switch is on. Errors:
 * HV_ENOTFOUND (no open order with that id), HV_ESTATE (a cancel for it is already pending, or
 * its terminal report was delivered and it only waits for that cancel's answer), HV_ERANGE
 * (time went backwards). */
HV_EXTERN int hv_exchange_cancel(hv_exchange *x, uint64_t order_id, uint64_t now_ns);

/*
 * The exchange sees bar `bar` at time now_ns: first every message and expiry due by now_ns is
 * processed, then every live order trades against the bar. Returns the number of fills made
 * (reports follow through hv_exchange_poll) or:
 *   HV_EINVAL  a bar with non-finite or non-positive prices, low > high, or negative volume
 *   HV_EFULL   the report queue lacks room for the worst case (2 reports per live order): the
 *              bar is not processed; deliver reports with hv_exchange_poll() and retry
 *   HV_ERANGE  time went backwards
 * No allocation.
 */
HV_EXTERN int hv_exchange_on_bar(hv_exchange *x, const hv_bar *bar, uint64_t now_ns);

/*
 * Advances the exchange to now_ns and hands over the next report due by then: returns 1 and
 * fills *out, 0 if none is due, HV_ERANGE if time went backwards. The order's state changes
 * here, when its owner learns of it; an attached portfolio books fills here. Call until it
 * returns 0. No allocation.
 */
HV_EXTERN int hv_exchange_poll(hv_exchange *x, uint64_t now_ns, hv_exec_report *out);

/* The earliest simulated time at which something happens without new input (a message
 * arriving, an order expiring, a report becoming deliverable), or UINT64_MAX. While the report
 * queue is full it is the oldest report's delivery time: polling there always makes progress. */
HV_EXTERN uint64_t hv_exchange_next_event_ns(const hv_exchange *x);

/* Copies the owner's view of an open order. Returns 0 or HV_ENOTFOUND (unknown, or terminal
 * and already reported). */
HV_EXTERN int hv_exchange_order(const hv_exchange *x, uint64_t order_id, hv_order *out);

/* The breach behind the last HV_ELIMIT / HV_EHALTED from hv_exchange_submit(). */
HV_EXTERN void hv_exchange_last_breach_get(const hv_exchange *x, hv_limit_breach *out);

HV_EXTERN void hv_exchange_stats_get(const hv_exchange *x, hv_exchange_stats *out);

/* Simulated latencies, in ns, on the simulated clock (not CPU time): submit -> ack delivered
 * (round trip), and report produced -> delivered (one way). Owned by the exchange. */
HV_EXTERN const hv_hist *hv_exchange_ack_latency(const hv_exchange *x);
HV_EXTERN const hv_hist *hv_exchange_report_latency(const hv_exchange *x);

/* "ack", "reject", "fill", "cancelled", "expired", "cancel_reject", or "unknown". */
HV_EXTERN const char *hv_exec_type_name(hv_exec_type t);

/* ---------------------------------------------------------------------------------------- */
/* State export: what a replicated log snapshots (docs/LOG.md, "Snapshots")                   */
/* ---------------------------------------------------------------------------------------- */

/*
 * save writes the object's state into buf[0..cap) as little-endian fields and returns the
 * number of bytes the state takes: when that is more than cap nothing useful was written (call
 * with cap 0 to size a buffer). The exchange saves its RNG, clock, every order and both links
 * in flight and its counters (not its latency histograms, which are statistics); the portfolio
 * its accounting and equity curve; the limits their counters, kill switch and rate window.
 *
 * load replaces the state of an object created with the same configuration (the exchange's
 * whole config, the portfolio's curve capacity, the limits' rate-window size) with a saved one.
 * Everything is checked before anything changes (on failure the object is as it was): the
 * exchange's open list, free slots, links and every queued report must be consistent, so no
 * later call can trip an assertion. Returns 0, HV_EINVAL (NULL, or saved under another
 * configuration), HV_EBADLEN (cut short), HV_ETRAILING (bytes after the state), HV_EBADFIELD
 * (a bad tag, value or inconsistent state) or HV_ENOMEM. Attachments (portfolio and limits of
 * an exchange) are kept, not saved.
 */
HV_EXTERN size_t hv_exchange_state_save(const hv_exchange *x, uint8_t *buf, size_t cap);
HV_EXTERN int hv_exchange_state_load(hv_exchange *x, const uint8_t *buf, size_t len);
HV_EXTERN size_t hv_portfolio_state_save(const hv_portfolio *p, uint8_t *buf, size_t cap);
HV_EXTERN int hv_portfolio_state_load(hv_portfolio *p, const uint8_t *buf, size_t len);
HV_EXTERN size_t hv_limits_state_save(const hv_limits *l, uint8_t *buf, size_t cap);
HV_EXTERN int hv_limits_state_load(hv_limits *l, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_EXCHANGE_H */

/*
 * The agents' threads: one loop per agent that takes HVW1 frames from its bus inbox, decodes
 * them and hands them to its role. Every input an agent acts on carries the cycle it belongs
 * to, and an agent acts on cycle i only once it holds every input of cycle i, so what it
 * decides never depends on the order in which threads happened to run (docs/SWARM.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/resource.h>

#include <hivewire/bus.h>

#include "swarm/swarm_int.h"

#define RECV_SLICE_NS 200000000ull /* re-check the quit flag this often while idle */

/* ---- Sending and receiving ---------------------------------------------------------------- */

int hv__sw_send(sw_agent *a, sw_msg *m)
{
    uint8_t buf[SW_FRAME_MAX];
    m->sender = a->id;
    m->wall_ns = hv_now_ns();
    int n = hv__sw_encode(m, ++a->seq, buf, sizeof(buf));
    if (n < 0)
        return n;
    hv_send s = { .subject = hv__sw_subject(m->kind),
                  .type = (uint32_t)m->kind,
                  .prio = HV_PRIO_NORMAL,
                  .corr_id = m->cycle,
                  .data = buf,
                  .len = (size_t)n };
    hv_send_result r;
    int rc = hv_bus_publish(a->bus, &s, m->wall_ns, &r);
    if (rc < 0)
        return rc;
    if (r.rejected > 0 || r.dropped_oldest > 0)
        return HV_EFULL; /* inboxes are sized so that this never happens: a bug, not load */
    return rc == 0 ? HV_ENOSUBSCRIBER : 0;
}

/* Takes one frame (waiting up to timeout_ns) and decodes it. Returns 0, HV_ETIMEDOUT, or a
 * decode error (the frame is consumed either way). */
int hv__sw_recv_one(sw_agent *a, sw_msg *m, uint64_t timeout_ns)
{
    uint64_t start = hv_now_ns();
    for (;;) {
        hv_bus_msg *hm = NULL;
        uint64_t now = hv_now_ns();
        int n = hv_agent_recv(a->bus, &hm, 1, now);
        if (n < 0)
            return n;
        if (n == 1) {
            int rc = hv__sw_decode(hm->data, hm->len, m);
            hv_bus_msg_release(hm);
            return rc;
        }
        if (now - start >= timeout_ns)
            return HV_ETIMEDOUT;
        int w = hv_agent_wait(a->bus, timeout_ns - (now - start));
        if (w < 0 && w != HV_ETIMEDOUT)
            return w;
    }
}

static int subscribe(sw_agent *a, int kind)
{
    hv_sub_opts so;
    hv_sub_opts_default(&so);
    so.backpressure = HV_BP_REJECT_NEW;
    return hv_agent_subscribe(a->bus, hv__sw_subject(kind), &so, NULL);
}

int hv__sw_agent_subscribe(sw_agent *a)
{
    static const int subs[][6] = {
        [SW_ROLE_MD] = { SW_NEXT, 0 },
        [SW_ROLE_PATTERN] = { SW_BAR, SW_VOTE_REQ, 0 },
        /* nor does the risk agent: the state brings the close, so one wake-up a bar */
        [SW_ROLE_RISK] = { SW_STATE, SW_VOTE_REQ, SW_DECISION, 0 },
        /* not the bar: the state carries what the strategy needs of it, so the bar does not
         * wake the strategy for nothing (it cannot decide before the other inputs) */
        [SW_ROLE_STRATEGY] = { SW_PRED, SW_RISKREP, SW_STATE, 0 },
        [SW_ROLE_EXEC] = { SW_BAR, SW_ORDER, SW_FINISH, 0 },
        [SW_ROLE_COORD] = { SW_EOD, SW_HOLD, SW_PROPOSE, SW_VOTE, SW_ORDER_RESULT, SW_CONFIRM },
    };
    int rc = 0;
    for (int i = 0; i < 6 && rc == 0 && subs[a->role][i] != 0; i++)
        rc = subscribe(a, subs[a->role][i]);
    if (rc == 0 && a->role == SW_ROLE_COORD) {
        rc = subscribe(a, SW_FINISHED);
        rc = rc == 0 ? subscribe(a, SW_ERROR) : rc;
    }
    if (rc == 0 && a->role != SW_ROLE_COORD)
        rc = subscribe(a, SW_STOP);
    return rc < 0 ? rc : 0;
}

static uint64_t sim_ns(const sw_agent *a, uint64_t cycle)
{
    return cycle * a->sw->cfg.bar_ns;
}

/* ---- Market data --------------------------------------------------------------------------- */

static int md_next(sw_agent *a, const sw_msg *in)
{
    uint64_t t0 = hv_now_ns();
    hv_replay_event ev;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.cycle = in->cycle;
    int rc = hv_replay_poll(&a->replay, 0, &ev, NULL);
    if (rc == HV_ECLOSED || (rc == 1 && ev.seq != in->cycle)) {
        m.kind = SW_EOD;
        return hv__sw_send(a, &m);
    }
    if (rc != 1)
        return rc < 0 ? rc : HV_ESTATE;
    m.kind = SW_BAR;
    m.bar.sim_ns = sim_ns(a, ev.seq);
    m.bar.bar = *ev.bar;
    m.bar.md_ns = hv_now_ns() - t0;
    return hv__sw_send(a, &m);
}

/* ---- Voting (pattern and risk agents) -------------------------------------------------------- */

static int cast_vote(sw_agent *a, const sw_msg *req, hv_choice choice)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE;
    m.cycle = req->cycle;
    hv_vote *v = &m.vote.v;
    v->proposal_id = req->vreq.id;
    v->voter = a->id;
    v->round = req->vreq.round;
    v->choice = (uint8_t)choice;
    memcpy(v->payload_hash, req->vreq.hash, HV_PAYLOAD_HASH_BYTES);
    int rc;
    if (req->vreq.rule == HV_RULE_BFT) {
        m.vote.auth = 1;
        rc = hv_vote_sign(v, a->keys->sk);
    } else {
        m.vote.auth = 2;
        rc = hv_vote_mac(v, a->keys->mac);
    }
    return rc != 0 ? rc : hv__sw_send(a, &m);
}

/* A voter checks that the payload it is shown is the one whose hash it signs. */
static int payload_ok(const sw_msg *req)
{
    uint8_t h[HV_PAYLOAD_HASH_BYTES];
    return hv__sw_order_hash(&req->vreq.order, h) == 0 && memcmp(h, req->vreq.hash, sizeof(h)) == 0;
}

static int eligible(const sw_agent *a, const sw_msg *req)
{
    for (uint32_t i = 0; i < req->vreq.nvoters; i++)
        if (req->vreq.voters[i] == a->id)
            return 1;
    return 0;
}

/* ---- Pattern agents -------------------------------------------------------------------------- */

static void pattern_learn(sw_pattern_state *p)
{
    size_t t = p->count - 1;
    if (t < (size_t)p->p.len - 1 + p->p.horizon)
        return;
    size_t end = t - p->p.horizon;
    if ((end - (p->p.len - 1)) % p->p.stride != 0)
        return;
    (void)hv_dtw_library_add(p->lib, p->prices, p->count, end); /* HV_EFULL: counted there */
}

static int pattern_bar(sw_agent *a, const sw_msg *in)
{
    sw_pattern_state *p = &a->pat;
    uint64_t t0 = hv_now_ns();
    if (p->count >= a->sw->nbars)
        return HV_EFULL;
    p->prices[p->count++] = in->bar.bar.close;
    pattern_learn(p);
    p->have_pred = 0;
    size_t t = p->count - 1;
    if (t + 1 >= p->p.len) {
        int rc =
            hv_dtw_library_predict(p->lib, p->ws, p->prices, p->count, t, p->p.k, &p->pred, NULL);
        if (rc != 0 && rc != HV_ETOOFEWOBS)
            return rc;
        p->have_pred = rc == 0 && isfinite(p->pred.expected_return);
    }
    p->pred_cycle = in->cycle;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_PRED;
    m.cycle = in->cycle;
    m.pred.agent = a->index;
    m.pred.valid = p->have_pred;
    if (p->have_pred) {
        m.pred.expected = p->pred.expected_return;
        m.pred.agreement = p->pred.agreement;
        m.pred.distance_min = p->pred.distance_min;
    }
    m.pred.compute_ns = hv_now_ns() - t0;
    return hv__sw_send(a, &m);
}

/* Approve an order whose direction this agent's own prediction shares, reject one it
 * contradicts, abstain without a prediction. */
static int pattern_vote(sw_agent *a, const sw_msg *req)
{
    sw_pattern_state *p = &a->pat;
    if (!eligible(a, req))
        return 0;
    hv_choice c = HV_CHOICE_ABSTAIN;
    double dir = req->vreq.order.side == HV_SIDE_BUY ? 1.0 : -1.0;
    if (!payload_ok(req))
        c = HV_CHOICE_REJECT;
    else if (p->have_pred && p->pred_cycle == req->cycle && p->pred.expected_return != 0)
        c = p->pred.expected_return * dir > 0 ? HV_CHOICE_APPROVE : HV_CHOICE_REJECT;
    return cast_vote(a, req, c);
}

/* ---- Risk agent --------------------------------------------------------------------------------
 */

/* The bar's log return into the rolling window (the close comes with the execution state of
 * its cycle), then the VaR/ES report to the strategy. */
static int risk_bar(sw_agent *a, const sw_msg *in)
{
    sw_risk_state *r = &a->risk;
    uint64_t t0 = hv_now_ns();
    double c = in->state.close;
    if (r->prev_close > 0 && c > 0)
        (void)hv_var_roll_push(&r->roll, log(c / r->prev_close)); /* refusals leave a gap */
    r->prev_close = c;
    hv_var_es ve;
    r->var_valid = hv_var_roll_historical(&r->roll, &ve) == 0;
    r->last_var = r->var_valid ? ve.var : 0;
    r->bar_cycle = in->cycle;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_RISKREP;
    m.cycle = in->cycle;
    m.risk.valid = r->var_valid;
    m.risk.var = r->var_valid ? ve.var : 0;
    m.risk.es = r->var_valid ? ve.es : 0;
    m.risk.compute_ns = hv_now_ns() - t0;
    return hv__sw_send(a, &m);
}

static int risk_ready(const sw_risk_state *r, uint64_t cycle)
{
    return r->state_cycle != UINT64_MAX && r->state_cycle >= cycle;
}

static int64_t worst_after(const sw_risk_state *r, const sw_order *o)
{
    return o->side == HV_SIDE_BUY ? r->position + r->open_buy + o->qty
                                  : r->position - r->open_sell - o->qty;
}

/* Votes no when the kill switch is on, when the order would break the position or notional
 * limit, or when the position's one-bar VaR would exceed the budget; yes otherwise. */
static int risk_vote(sw_agent *a, const sw_msg *req)
{
    sw_risk_state *r = &a->risk;
    const hv_swarm_config *cfg = &a->sw->cfg;
    const sw_order *o = &req->vreq.order;
    hv_choice c = HV_CHOICE_APPROVE;
    int64_t after = worst_after(r, o);
    double notional = (double)o->qty * o->ref_price;
    if (!payload_ok(req) || hv_limits_halted(r->limits, NULL))
        c = HV_CHOICE_REJECT;
    else if (cfg->limits.position_max > 0 && llabs(after) > cfg->limits.position_max)
        c = HV_CHOICE_REJECT;
    else if (cfg->limits.order_notional_max > 0 && notional > cfg->limits.order_notional_max)
        c = HV_CHOICE_REJECT;
    else if (cfg->var_budget > 0 && r->var_valid &&
             fabs((double)after) * o->ref_price * r->last_var > cfg->var_budget)
        c = HV_CHOICE_REJECT;
    return cast_vote(a, req, c);
}

static int risk_send_result(sw_agent *a, const sw_msg *dec, int rc, const hv_limit_breach *b,
                            uint64_t risk_ns)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER_RESULT;
    m.cycle = dec->cycle;
    m.result.proposal_id = dec->decision.proposal_id;
    m.result.rc = rc;
    m.result.risk_ns = risk_ns;
    if (b != NULL)
        m.result.breach = *b;
    return hv__sw_send(a, &m);
}

/* An accepted proposal passes the binding pre-trade check here, then goes to execution. */
static int risk_decision(sw_agent *a, const sw_msg *dec)
{
    sw_risk_state *r = &a->risk;
    if (dec->decision.outcome != HV_OUTCOME_ACCEPTED)
        return 0;
    if (r->held.kind != SW_VOTE_REQ || r->held.vreq.id != dec->decision.proposal_id)
        return risk_send_result(a, dec, HV_ENOPROPOSAL, NULL, 0);
    uint64_t t0 = hv_now_ns();
    const sw_order *o = &r->held.vreq.order;
    hv_limits_input in = { .side = (hv_side)o->side,
                           .qty = o->qty,
                           .price = o->ref_price,
                           .position = r->position,
                           .open_buy_qty = r->open_buy,
                           .open_sell_qty = r->open_sell,
                           .drawdown_frac = r->drawdown_frac };
    hv_limit_breach b;
    memset(&b, 0, sizeof(b));
    int rc = hv_limits_admit(r->limits, &in, sim_ns(a, dec->cycle) + 1, &b);
    if (rc == HV_EHALTED && !r->halted_seen) {
        r->halted_seen = 1;
        r->halted_cycle = dec->cycle;
        r->halt_breach = b;
    }
    uint64_t risk_ns = hv_now_ns() - t0;
    if (rc != 0)
        return risk_send_result(a, dec, rc, &b, risk_ns);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER;
    m.cycle = dec->cycle;
    m.order.proposal_id = dec->decision.proposal_id;
    m.order.order = *o;
    m.order.risk_ns = risk_ns;
    return hv__sw_send(a, &m);
}

static int risk_flush(sw_agent *a)
{
    sw_risk_state *r = &a->risk;
    int rc = 0;
    if (r->have_vreq && risk_ready(r, r->vreq.cycle)) {
        r->have_vreq = 0;
        r->held = r->vreq;
        rc = risk_vote(a, &r->vreq);
    }
    if (rc == 0 && r->have_decision && !r->have_vreq && risk_ready(r, r->decision.cycle)) {
        r->have_decision = 0;
        rc = risk_decision(a, &r->decision);
    }
    return rc;
}

static int risk_state(sw_agent *a, const sw_msg *in)
{
    sw_risk_state *r = &a->risk;
    r->position = in->state.position;
    r->open_buy = in->state.open_buy;
    r->open_sell = in->state.open_sell;
    r->drawdown_frac = in->state.drawdown_frac;
    r->state_cycle = in->cycle;
    hv_limit_breach b;
    int rc = hv_limits_update_drawdown(r->limits, r->drawdown_frac, sim_ns(a, in->cycle), &b);
    if (rc == HV_EHALTED && !r->halted_seen) {
        r->halted_seen = 1;
        r->halted_cycle = in->cycle;
        r->halt_breach = b;
    }
    if (rc != 0 && rc != HV_EHALTED)
        return rc;
    return risk_flush(a);
}

static int risk_msg(sw_agent *a, const sw_msg *in)
{
    sw_risk_state *r = &a->risk;
    int rc;
    switch (in->kind) {
    case SW_STATE:
        rc = risk_bar(a, in);
        return rc != 0 ? rc : risk_state(a, in);
    case SW_VOTE_REQ:
        if (!eligible(a, in)) {
            r->held = *in;
            return 0;
        }
        if (r->have_vreq)
            return HV_ESTATE; /* one proposal per cycle: a second one is a protocol bug */
        r->vreq = *in;
        r->have_vreq = 1;
        return risk_flush(a);
    case SW_DECISION:
        if (r->have_decision)
            return HV_ESTATE;
        r->decision = *in;
        r->have_decision = 1;
        return risk_flush(a);
    default:
        return 0;
    }
}

/* ---- Strategy agent ----------------------------------------------------------------------------
 */

static void strat_reset(sw_strategy_state *s, uint64_t cycle)
{
    memset(s, 0, sizeof(*s));
    s->cycle = cycle;
}

static int strat_complete(const sw_agent *a)
{
    const sw_strategy_state *s = &a->strat;
    return s->have_risk && s->have_state && s->preds == a->sw->cfg.patterns;
}

/* Target position from the confidence-weighted mean of the agents' expected returns, summed
 * in agent order so the result does not depend on the order the predictions arrived in. */
static int64_t strat_target(const sw_agent *a, int64_t current)
{
    const sw_strategy_state *s = &a->strat;
    const hv_swarm_config *cfg = &a->sw->cfg;
    double sum_w = 0, sum_we = 0;
    for (uint32_t i = 0; i < cfg->patterns; i++) {
        sum_w += s->weight[i];
        sum_we += s->weight[i] * s->expected[i];
    }
    if (!(sum_w > 0))
        return current;
    double signal = sum_we / sum_w;
    if (signal > cfg->signal_threshold)
        return cfg->qty;
    if (signal < -cfg->signal_threshold)
        return cfg->allow_short ? -cfg->qty : 0;
    return current;
}

static int strat_decide(sw_agent *a)
{
    sw_strategy_state *s = &a->strat;
    uint64_t t0 = hv_now_ns();
    int64_t current = s->state.state.position + s->state.state.open_buy - s->state.state.open_sell;
    int64_t target = strat_target(a, current);
    int64_t delta = target - current;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.cycle = s->cycle;
    m.kind = delta == 0 ? SW_HOLD : SW_PROPOSE;
    if (delta != 0) {
        sw_order *o = &m.strat.order;
        o->side = delta > 0 ? HV_SIDE_BUY : HV_SIDE_SELL;
        o->qty = delta > 0 ? delta : -delta;
        o->ref_price = s->state.state.close;
        o->target = target;
        /* towards flat without crossing it reduces risk; anything else opens or flips */
        int reduce = (current > 0 && target >= 0 && target < current) ||
                     (current < 0 && target <= 0 && target > current);
        o->action = reduce ? HV_ACTION_ORDER_EXECUTION : HV_ACTION_POSITION_CHANGE;
    }
    sw_trace *t = &m.strat.trace;
    *t = s->trace;
    t->md_ns = s->state.state.bar_md_ns;
    uint64_t bar_sent = s->state.state.bar_sent_ns;
    t->par_ns = s->last_in_ns > bar_sent ? s->last_in_ns - bar_sent : 0;
    t->var_cpu_ns = s->risk.risk.compute_ns;
    t->exec_cpu_ns = s->state.state.compute_ns;
    t->strat_ns = hv_now_ns() - t0;
    uint64_t next = s->cycle + 1;
    int rc = hv__sw_send(a, &m);
    strat_reset(s, next);
    return rc;
}

static int strat_msg(sw_agent *a, const sw_msg *in)
{
    sw_strategy_state *s = &a->strat;
    if (in->cycle != s->cycle)
        return HV_ESTATE; /* the cycle barrier guarantees inputs of one cycle at a time */
    switch (in->kind) {
    case SW_PRED:
        if (in->pred.agent >= a->sw->cfg.patterns || (s->have_pred >> in->pred.agent & 1))
            return HV_ESTATE;
        s->have_pred |= 1u << in->pred.agent;
        s->preds++;
        s->trace.dtw_cpu_ns += in->pred.compute_ns;
        if (in->pred.valid && in->pred.agreement > 0) {
            s->weight[in->pred.agent] = in->pred.agreement;
            s->expected[in->pred.agent] = in->pred.expected;
        }
        break;
    case SW_RISKREP:
        s->risk = *in;
        s->have_risk = 1;
        break;
    case SW_STATE:
        s->state = *in;
        s->have_state = 1;
        break;
    default:
        return 0;
    }
    s->last_in_ns = hv_now_ns();
    return strat_complete(a) ? strat_decide(a) : 0;
}

/* ---- Execution agent --------------------------------------------------------------------------
 */

static int exec_drain(sw_agent *a, uint64_t t, uint64_t cycle)
{
    hv_exec_report r;
    int n;
    while ((n = hv_exchange_poll(a->exec.x, t, &r)) == 1) {
        sw_msg m;
        memset(&m, 0, sizeof(m));
        m.kind = SW_CONFIRM;
        m.cycle = cycle;
        m.confirm = r;
        int rc = hv__sw_send(a, &m);
        if (rc != 0)
            return rc;
    }
    return n;
}

static int exec_bar(sw_agent *a, const sw_msg *in)
{
    sw_exec_state *e = &a->exec;
    uint64_t t0 = hv_now_ns();
    uint64_t t = sim_ns(a, in->cycle);
    e->cycle = in->cycle;
    int rc = exec_drain(a, t, in->cycle);
    for (int i = 0; rc == 0 && i < 64; i++) {
        rc = hv_exchange_on_bar(e->x, &in->bar.bar, t);
        if (rc != HV_EFULL)
            break;
        rc = exec_drain(a, t, in->cycle);
    }
    if (rc < 0)
        return rc;
    if ((rc = hv_portfolio_mark(e->pf, in->bar.bar.close, t)) != 0)
        return rc;
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(e->pf, &ps);
    hv_exchange_stats_get(e->x, &xs);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_STATE;
    m.cycle = in->cycle;
    m.state.position = ps.position;
    m.state.open_buy = xs.open_buy_qty;
    m.state.open_sell = xs.open_sell_qty;
    m.state.cash = ps.cash;
    m.state.equity = ps.equity;
    m.state.drawdown_frac = ps.drawdown_frac;
    m.state.close = in->bar.bar.close;
    m.state.bar_md_ns = in->bar.md_ns;
    m.state.bar_sent_ns = in->wall_ns;
    m.state.compute_ns = hv_now_ns() - t0;
    return hv__sw_send(a, &m);
}

static int exec_order(sw_agent *a, const sw_msg *in)
{
    uint64_t t0 = hv_now_ns();
    const sw_order *o = &in->order.order;
    hv_order_request q = { .side = (hv_side)o->side,
                           .type = HV_ORDER_MARKET,
                           .tif = HV_TIF_GTC,
                           .qty = o->qty,
                           .client_tag = in->order.proposal_id };
    uint64_t id = 0;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER_RESULT;
    m.cycle = in->cycle;
    m.result.proposal_id = in->order.proposal_id;
    m.result.rc = hv_exchange_submit(a->exec.x, &q, sim_ns(a, in->cycle) + 1, &id);
    m.result.order_id = id;
    m.result.risk_ns = in->order.risk_ns;
    m.result.exec_ns = hv_now_ns() - t0;
    return hv__sw_send(a, &m);
}

/* After the last bar nothing can fill any more: cancel what is still working (cancels are
 * allowed even with the kill switch on). */
static int exec_cancel_open(sw_agent *a, uint64_t t)
{
    hv_exchange_stats xs;
    hv_exchange_stats_get(a->exec.x, &xs);
    for (uint64_t id = 1; id <= xs.submitted; id++) {
        hv_order o;
        if (hv_exchange_order(a->exec.x, id, &o) != 0 || o.cancel_pending)
            continue;
        int rc = hv_exchange_cancel(a->exec.x, id, t);
        if (rc != 0 && rc != HV_ESTATE)
            return rc;
    }
    return 0;
}

/* After the last bar: cancel open orders and deliver everything in flight (bounded: every
 * step delivers). */
static int exec_finish(sw_agent *a, const sw_msg *in)
{
    uint64_t now = sim_ns(a, in->cycle) + 2;
    int rc = exec_cancel_open(a, now);
    if (rc != 0)
        return rc;
    for (int i = 0; i < 1000000; i++) {
        uint64_t t = hv_exchange_next_event_ns(a->exec.x);
        if (t == UINT64_MAX)
            break;
        now = t > now ? t : now;
        if ((rc = exec_drain(a, now, in->cycle)) < 0)
            return rc;
    }
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_FINISHED;
    m.cycle = in->cycle;
    return hv__sw_send(a, &m);
}

/* ---- The loop
 * ------------------------------------------------------------------------------------ */

static int dispatch(sw_agent *a, const sw_msg *m)
{
    switch (a->role) {
    case SW_ROLE_MD:
        return m->kind == SW_NEXT ? md_next(a, m) : 0;
    case SW_ROLE_PATTERN:
        if (m->kind == SW_BAR)
            return pattern_bar(a, m);
        return m->kind == SW_VOTE_REQ ? pattern_vote(a, m) : 0;
    case SW_ROLE_RISK:
        return risk_msg(a, m);
    case SW_ROLE_STRATEGY:
        return strat_msg(a, m);
    case SW_ROLE_EXEC:
        if (m->kind == SW_BAR)
            return exec_bar(a, m);
        if (m->kind == SW_ORDER)
            return exec_order(a, m);
        return m->kind == SW_FINISH ? exec_finish(a, m) : 0;
    default:
        return 0;
    }
}

static void report_error(sw_agent *a, int rc, const char *what)
{
    int expected = 0;
    atomic_compare_exchange_strong(&a->sw->fail_rc, &expected, rc);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ERROR;
    m.error.code = rc;
    snprintf(m.error.text, sizeof(m.error.text), "%s: %s", what, hv_strerror(rc));
    (void)hv__sw_send(a, &m); /* best effort: the coordinator also polls fail_rc */
}

void hv__sw_usage_self(hv_swarm_usage *u)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return;
    u->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
                ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
    u->switches_voluntary = (uint64_t)ru.ru_nvcsw;
    u->switches_involuntary = (uint64_t)ru.ru_nivcsw;
}

int hv__sw_sched_batch(void)
{
    struct sched_param sp = { .sched_priority = 0 };
    return pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp) == 0;
}

int hv__sw_pin_self(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

void *hv__sw_agent_main(void *arg)
{
    sw_agent *a = arg;
    a->usage.cpu = hv__sw_pin_self(a->cpu) ? a->cpu : -1;
    a->usage.batch = hv__sw_sched_batch();
    while (!atomic_load_explicit(&a->sw->quit, memory_order_acquire)) {
        sw_msg m;
        int rc = hv__sw_recv_one(a, &m, RECV_SLICE_NS);
        if (rc == HV_ETIMEDOUT)
            continue;
        if (rc == 0 && m.kind == SW_STOP)
            break;
        if (rc == 0)
            rc = dispatch(a, &m);
        if (rc < 0)
            report_error(a, rc, hv_agent_name(a->bus));
    }
    hv__sw_usage_self(&a->usage);
    return NULL;
}

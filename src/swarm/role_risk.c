/*
 * The risk agent: a rolling VaR/ES over the closes the execution state brings (one wake-up a
 * bar), the pre-trade limits and the drawdown kill switch, a vote on every proposal, and the
 * binding pre-trade check of every accepted order before it reaches the execution agent.
 *
 * A vote request or a decision of cycle i waits until the execution state of cycle i has
 * arrived (the two come from different agents), so what the risk agent decides does not depend
 * on which arrived first. A decision that arrives before its proposal (possible when messages
 * are reordered) waits for it. Repeats and older messages are ignored and counted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/sim_int.h"
#include "swarm/swarm_int.h"

static int ready(const sw_risk *r, uint64_t cycle)
{
    return r->state_cycle != UINT64_MAX && r->state_cycle >= cycle;
}

static int64_t worst_after(const sw_risk *r, const sw_order *o)
{
    return o->side == HV_SIDE_BUY ? r->position + r->open_buy + o->qty
                                  : r->position - r->open_sell - o->qty;
}

static void note_halt(sw_risk *r, int rc, uint64_t cycle, const hv_limit_breach *b)
{
    if (rc == HV_EHALTED && !r->halted_seen) {
        r->halted_seen = 1;
        r->halted_cycle = cycle;
        r->halt_breach = *b;
    }
}

/* The bar's log return into the rolling window, then the VaR/ES report to the strategy. */
static int report_var(sw_risk *r, const sw_msg *in)
{
    sw_agent *a = &r->a;
    uint64_t t0 = hv__sw_clock(a);
    double c = in->state.close;
    if (r->prev_close > 0 && c > 0)
        (void)hv_var_roll_push(&r->roll, log(c / r->prev_close)); /* refusals leave a gap */
    r->prev_close = c;
    hv_var_es ve;
    r->var_valid = hv_var_roll_historical(&r->roll, &ve) == 0;
    r->last_var = r->var_valid ? ve.var : 0;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_RISKREP;
    m.cycle = in->cycle;
    m.risk.valid = r->var_valid;
    m.risk.var = r->var_valid ? ve.var : 0;
    m.risk.es = r->var_valid ? ve.es : 0;
    m.risk.compute_ns = hv__sw_clock(a) - t0;
    r->last_rep = m;
    return hv__sw_send(a, &m);
}

/* Votes no when the kill switch is on, when the order would break the position or notional
 * limit, or when the position's one-bar VaR would exceed the budget; yes otherwise. */
static int vote(sw_risk *r, const sw_msg *req)
{
    const hv_swarm_opts *cfg = &r->a.env.cfg;
    const sw_order *o = &req->vreq.order;
    hv_choice c = HV_CHOICE_APPROVE;
    int64_t after = worst_after(r, o);
    double notional = (double)o->qty * o->ref_price;
    if (!hv__sw_payload_ok(req) || hv_limits_halted(r->limits, NULL))
        c = HV_CHOICE_REJECT;
    else if (cfg->limits.position_max > 0 && llabs(after) > cfg->limits.position_max)
        c = HV_CHOICE_REJECT;
    else if (cfg->limits.order_notional_max > 0 && notional > cfg->limits.order_notional_max)
        c = HV_CHOICE_REJECT;
    else if (cfg->var_budget > 0 && r->var_valid &&
             fabs((double)after) * o->ref_price * r->last_var > cfg->var_budget)
        c = HV_CHOICE_REJECT;
    return hv__sw_cast_vote(&r->a, req, c);
}

static int send_result(sw_risk *r, const sw_msg *dec, int rc, const hv_limit_breach *b,
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
    r->last_result = m;
    return hv__sw_send(&r->a, &m);
}

int hv__sw_limits_admit(hv_limits *l, const sw_order *o, int64_t position, int64_t open_buy,
                        int64_t open_sell, double drawdown_frac, uint64_t t, hv_limit_breach *b)
{
    hv_limits_input in = { .side = (hv_side)o->side,
                           .qty = o->qty,
                           .price = o->ref_price,
                           .position = position,
                           .open_buy_qty = open_buy,
                           .open_sell_qty = open_sell,
                           .drawdown_frac = drawdown_frac };
    memset(b, 0, sizeof(*b));
    return hv_limits_admit(l, &in, t, b);
}

/* An accepted proposal passes the binding pre-trade check here, then goes to execution. */
static int act_on(sw_risk *r, const sw_msg *dec)
{
    sw_agent *a = &r->a;
    r->decided_id = dec->decision.proposal_id;
    r->last_result.kind = 0;
    if (dec->decision.outcome != HV_OUTCOME_ACCEPTED &&
        hv__sw_sim_break != HV_SW_SIM_BREAK_UNACCEPTED_ORDER)
        return 0;
    uint64_t t0 = hv__sw_clock(a);
    const sw_order *o = &r->held.vreq.order;
    hv_limit_breach b;
    int rc = hv__sw_limits_admit(r->limits, o, r->position, r->open_buy, r->open_sell,
                                 r->drawdown_frac, hv__sw_sim_ns(a, dec->cycle) + 1, &b);
    note_halt(r, rc, dec->cycle, &b);
    uint64_t risk_ns = hv__sw_clock(a) - t0;
    if (rc != 0)
        return send_result(r, dec, rc, &b, risk_ns);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER;
    m.cycle = dec->cycle;
    m.order.proposal_id = dec->decision.proposal_id;
    m.order.order = *o;
    m.order.risk_ns = risk_ns;
    r->last_result = m;
    return hv__sw_send(a, &m);
}

/* Acts on what was deferred, once the state of its cycle is there. */
static int flush(sw_risk *r)
{
    int rc = 0;
    if (r->have_vreq && ready(r, r->vreq.cycle)) {
        r->have_vreq = 0;
        rc = vote(r, &r->vreq);
    }
    if (rc == 0 && r->have_decision && !r->have_vreq && ready(r, r->decision.cycle) &&
        r->held.kind == SW_VOTE_REQ && r->held.vreq.id == r->decision.decision.proposal_id) {
        r->have_decision = 0;
        rc = act_on(r, &r->decision);
    }
    return rc;
}

static int on_state(sw_risk *r, const sw_msg *in)
{
    if (r->state_cycle != UINT64_MAX && in->cycle <= r->state_cycle) {
        r->a.rep.stale++;
        if (r->last_rep.kind == SW_RISKREP && r->last_rep.cycle == in->cycle)
            return hv__sw_send(&r->a, &r->last_rep); /* its report was lost: the same again */
        return 0;
    }
    int rc = report_var(r, in);
    if (rc != 0)
        return rc;
    r->position = in->state.position;
    r->open_buy = in->state.open_buy;
    r->open_sell = in->state.open_sell;
    r->drawdown_frac = in->state.drawdown_frac;
    r->state_cycle = in->cycle;
    hv__sw_seen(&r->a, in->cycle);
    hv_limit_breach b;
    memset(&b, 0, sizeof(b));
    rc =
        hv_limits_update_drawdown(r->limits, r->drawdown_frac, hv__sw_sim_ns(&r->a, in->cycle), &b);
    note_halt(r, rc, in->cycle, &b);
    if (rc != 0 && rc != HV_EHALTED)
        return rc;
    return flush(r);
}

static int on_vreq(sw_risk *r, const sw_msg *in)
{
    if (r->held.kind == SW_VOTE_REQ && in->vreq.id <= r->held.vreq.id) {
        r->a.rep.stale++;
        /* asked again: its vote was lost, unless it is still waiting for the state */
        if (in->vreq.id == r->held.vreq.id && hv__sw_eligible(&r->a, in) &&
            !(r->have_vreq && r->vreq.vreq.id == in->vreq.id))
            return vote(r, in);
        return 0;
    }
    r->held = *in;
    if (hv__sw_eligible(&r->a, in)) {
        r->vreq = *in; /* a newer proposal replaces one whose state never came */
        r->have_vreq = 1;
    }
    return flush(r);
}

static int on_decision(sw_risk *r, const sw_msg *in)
{
    uint64_t id = in->decision.proposal_id;
    if (id <= r->decided_id || (r->have_decision && id <= r->decision.decision.proposal_id)) {
        r->a.rep.stale++;
        if (id == r->decided_id && r->last_result.kind != 0) /* what it sent was lost */
            return hv__sw_send(&r->a, &r->last_result);
        return 0;
    }
    r->decision = *in;
    r->have_decision = 1;
    return flush(r);
}

static int risk_on_msg(sw_agent *a, const sw_msg *m, uint64_t now_ns)
{
    (void)now_ns;
    sw_risk *r = (sw_risk *)a;
    switch (m->kind) {
    case SW_STATE:
        return on_state(r, m);
    case SW_VOTE_REQ:
        return on_vreq(r, m);
    case SW_DECISION:
        return on_decision(r, m);
    default:
        return 0;
    }
}

static int risk_report(sw_agent *a, sw_report *rep, uint64_t now_ns)
{
    (void)now_ns;
    sw_risk *r = (sw_risk *)a;
    hv_limits_stats_get(r->limits, &rep->limits);
    rep->halted_seen = r->halted_seen;
    rep->halted_cycle = r->halted_cycle;
    rep->halt_breach = r->halt_breach;
    if (rep->limits.halted && !r->halted_seen)
        hv_limits_halted(r->limits, &rep->halt_breach);
    return 0;
}

/* Not the bar: the state brings the close, so one wake-up a bar. */
static const int risk_subs[] = { SW_STATE, SW_VOTE_REQ, SW_DECISION, 0 };

const sw_role_ops hv__sw_risk_ops = {
    .name = "risk",
    .subs = risk_subs,
    .on_msg = risk_on_msg,
    .report = risk_report,
};

int hv__sw_risk_init(sw_risk *r, const sw_env *env)
{
    memset(r, 0, sizeof(*r));
    hv__sw_agent_init(&r->a, env, &hv__sw_risk_ops);
    r->state_cycle = UINT64_MAX;
    int rc = hv__sw_derive_keys(env->cfg.seed, r->a.id, &r->a.keys);
    if (rc == 0)
        rc = hv_var_roll_init(&r->roll, env->cfg.var_window, env->cfg.var_q);
    if (rc != 0)
        return rc;
    return hv_limits_new(&env->cfg.limits, &r->limits);
}

void hv__sw_risk_fini(sw_risk *r)
{
    hv_var_roll_fini(&r->roll);
    hv_limits_free(r->limits);
    r->limits = NULL;
}

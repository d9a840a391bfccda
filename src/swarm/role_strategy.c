/*
 * The strategy agent: waits for every input of a cycle (one prediction per pattern agent, the
 * VaR report, the execution state), combines the predictions into a target position, and
 * proposes the order that reaches it, or says "hold".
 *
 * Inputs of an older cycle (repeats, or a cycle whose other inputs never came) are ignored and
 * counted; an input of a newer cycle means the current one will not complete, and the agent
 * moves on to the newer one.
 */
#include <string.h>

#include "swarm/swarm_int.h"

static void reset(sw_strategy *s, uint64_t cycle)
{
    s->cycle = cycle;
    s->preds = 0;
    s->have_risk = s->have_state = 0;
    s->have_pred = 0;
    memset(&s->trace, 0, sizeof(s->trace));
    memset(s->weight, 0, sizeof(s->weight));
    memset(s->expected, 0, sizeof(s->expected));
    s->last_in_ns = 0;
    s->wait_until_ns = UINT64_MAX;
}

static int complete(const sw_strategy *s)
{
    return s->have_risk && s->have_state && s->preds == s->a.env.cfg.patterns;
}

/* Target position from the confidence-weighted mean of the agents' expected returns, summed
 * in agent order so the result does not depend on the order the predictions arrived in. */
static int64_t target(const sw_strategy *s, int64_t current)
{
    const hv_swarm_opts *cfg = &s->a.env.cfg;
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

static int decide(sw_strategy *s)
{
    sw_agent *a = &s->a;
    uint64_t t0 = hv__sw_clock(a);
    const sw_msg *st = &s->state;
    int64_t current = st->state.position + st->state.open_buy - st->state.open_sell;
    int64_t tgt = target(s, current);
    int64_t delta = tgt - current;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.cycle = s->cycle;
    m.kind = delta == 0 ? SW_HOLD : SW_PROPOSE;
    if (delta != 0) {
        sw_order *o = &m.strat.order;
        o->side = delta > 0 ? HV_SIDE_BUY : HV_SIDE_SELL;
        o->qty = delta > 0 ? delta : -delta;
        o->ref_price = st->state.close;
        o->target = tgt;
        /* towards flat without crossing it reduces risk; anything else opens or flips */
        int reduce = (current > 0 && tgt >= 0 && tgt < current) ||
                     (current < 0 && tgt <= 0 && tgt > current);
        o->action = reduce ? HV_ACTION_ORDER_EXECUTION : HV_ACTION_POSITION_CHANGE;
    }
    sw_trace *t = &m.strat.trace;
    *t = s->trace;
    t->md_ns = st->state.bar_md_ns;
    uint64_t bar_sent = st->state.bar_sent_ns;
    if (a->env.other_clocks)
        t->par_ns = SW_SPAN_UNKNOWN; /* the bar's send time is another process's clock */
    else
        t->par_ns = s->last_in_ns > bar_sent ? s->last_in_ns - bar_sent : 0;
    t->var_cpu_ns = s->risk.risk.compute_ns;
    t->exec_cpu_ns = st->state.compute_ns;
    t->strat_ns = hv__sw_clock(a) - t0;
    hv__sw_seen(a, s->cycle);
    s->last = m;
    int rc = hv__sw_send(a, &m);
    reset(s, s->cycle + 1);
    return rc;
}

static int strategy_on_msg(sw_agent *a, const sw_msg *in, uint64_t now_ns)
{
    sw_strategy *s = (sw_strategy *)a;
    if (in->kind != SW_PRED && in->kind != SW_RISKREP && in->kind != SW_STATE)
        return 0;
    if (in->cycle < s->cycle) {
        a->rep.stale++;
        if (s->last.kind != 0 && s->last.cycle == in->cycle)
            return hv__sw_send(a, &s->last); /* its signal was lost: the same again */
        return 0;
    }
    if (in->cycle > s->cycle) /* the current cycle's missing inputs will not come */
        reset(s, in->cycle);
    switch (in->kind) {
    case SW_PRED:
        if (in->pred.agent >= a->env.cfg.patterns || (s->have_pred >> in->pred.agent & 1)) {
            a->rep.stale++;
            return 0;
        }
        s->have_pred |= 1u << in->pred.agent;
        s->preds++;
        s->trace.dtw_cpu_ns += in->pred.compute_ns;
        if (in->pred.valid && in->pred.agreement > 0) {
            s->weight[in->pred.agent] = in->pred.agreement;
            s->expected[in->pred.agent] = in->pred.expected;
        }
        break;
    case SW_RISKREP:
        if (s->have_risk) {
            a->rep.stale++;
            return 0;
        }
        s->risk = *in;
        s->have_risk = 1;
        break;
    default:
        if (s->have_state) {
            a->rep.stale++;
            return 0;
        }
        s->state = *in;
        s->have_state = 1;
        break;
    }
    s->last_in_ns = hv__sw_clock(a);
    if (complete(s))
        return decide(s);
    /* A pattern agent that is gone must not stop the swarm: once the state and the VaR report
     * are in, the missing predictions are given a quarter of the cycle timeout. */
    if (s->have_state && s->have_risk && s->wait_until_ns == UINT64_MAX)
        s->wait_until_ns = now_ns + a->env.cfg.cycle_timeout_ns / 4;
    return 0;
}

static uint64_t strategy_next_expiry(const sw_agent *a)
{
    return ((const sw_strategy *)a)->wait_until_ns;
}

static int strategy_on_expiry(sw_agent *a, uint64_t now_ns)
{
    sw_strategy *s = (sw_strategy *)a;
    if (now_ns < s->wait_until_ns)
        return 0;
    a->rep.missing += a->env.cfg.patterns - s->preds;
    return decide(s);
}

/* Not the bar: the state carries what the strategy needs of it, so the bar does not wake the
 * strategy for nothing (it cannot decide before the other inputs). */
static const int strategy_subs[] = { SW_PRED, SW_RISKREP, SW_STATE, 0 };

const sw_role_ops hv__sw_strategy_ops = {
    .name = "strategy",
    .subs = strategy_subs,
    .on_msg = strategy_on_msg,
    .on_expiry = strategy_on_expiry,
    .next_expiry = strategy_next_expiry,
};

int hv__sw_strategy_init(sw_strategy *s, const sw_env *env)
{
    memset(s, 0, sizeof(*s));
    hv__sw_agent_init(&s->a, env, &hv__sw_strategy_ops);
    reset(s, 0);
    return 0;
}

#include <string.h>

#include "log_util.h"

int logw_put(logw *w, hv_log_entry *e)
{
    e->seq = w->seq + 1;
    memcpy(e->prev, w->head, sizeof(e->prev));
    int rc = hv_log_entry_encode(e, w->buf, sizeof(w->buf), &w->len);
    if (rc != 0)
        return rc;
    w->seq = e->seq;
    hv_log_entry_hash(w->buf, w->head);
    return 0;
}

void log_genesis(hv_log_entry *e, uint64_t cycles)
{
    hv_swarm_opts cfg;
    hv_swarm_opts_default(&cfg);
    memset(e, 0, sizeof(*e));
    e->type = HV_LOG_GENESIS;
    e->genesis.swarm_seed = cfg.seed;
    e->genesis.bar_ns = cfg.bar_ns;
    e->genesis.cycles_max = cycles;
    e->genesis.cash = cfg.cash;
    e->genesis.curve_points = 4096;
    e->genesis.exchange = cfg.exchange;
    e->genesis.limits = cfg.limits;
    e->genesis.limits.position_max = 300; /* some orders refused by the limits */
}

static int book(void *ud, const hv_exec_report *r)
{
    uint64_t *h = ud;
    if (r->type == HV_EXEC_FILL)
        *h = hv__sw_trade_hash(*h, r);
    return 0;
}

int logrun_init(logrun *r, uint64_t cycles, uint64_t seed)
{
    memset(r, 0, sizeof(*r));
    log_genesis(&r->e, cycles);
    r->g = r->e.genesis;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    hv_rng_seed(&r->rng, seed);
    r->trades = HV_SW_TRADE_HASH_INIT;
    r->venue.bar_cycle = UINT64_MAX;
    int rc = hv_exchange_new(&r->g.exchange, &r->venue.x);
    if (rc == 0)
        rc = hv_portfolio_new(r->g.cash, r->g.curve_points, &r->venue.pf);
    if (rc == 0)
        rc = hv_limits_new(&r->g.limits, &r->limits);
    if (rc != 0)
        return rc;
    hv_exchange_attach(r->venue.x, r->venue.pf, NULL);
    r->cycle = UINT64_MAX; /* the genesis comes first */
    return hv_synth_init(&r->synth, &p, seed);
}

void logrun_fini(logrun *r)
{
    hv__sw_venue_fini(&r->venue);
    hv_limits_free(r->limits);
}

/* What the risk and execution agents answer for an accepted order. */
static void result_of(logrun *r, const hv_log_decision *d, hv_log_result *out)
{
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(r->venue.pf, &ps);
    hv_exchange_stats_get(r->venue.x, &xs);
    sw_order o = { .side = d->order.side,
                   .action = d->order.action,
                   .qty = d->order.qty,
                   .ref_price = d->order.ref_price,
                   .target = d->order.target };
    uint64_t t = d->cycle * r->g.bar_ns + 1;
    memset(out, 0, sizeof(*out));
    out->proposal_id = d->d.proposal_id;
    out->cycle = d->cycle;
    out->rc = hv__sw_limits_admit(r->limits, &o, ps.position, xs.open_buy_qty, xs.open_sell_qty,
                                  ps.drawdown_frac, t, &out->breach);
    if (out->rc == 0)
        out->rc = hv__sw_venue_order(&r->venue, d->d.proposal_id, &o, t, &out->order_id);
}

static void decision(logrun *r, hv_log_entry *e, double close)
{
    hv_log_decision *d = &e->decision;
    e->type = HV_LOG_DECISION;
    d->cycle = r->cycle;
    d->proposer = HV_SWARM_ID(1, 3);
    d->action = HV_ACTION_POSITION_CHANGE;
    d->d.proposal_id = r->cycle + 1;
    uint64_t u = hv_rng_below(&r->rng, 10);
    d->d.outcome = u < 6 ? HV_OUTCOME_ACCEPTED : u < 9 ? HV_OUTCOME_REJECTED : HV_OUTCOME_NO_QUORUM;
    d->d.rule = HV_RULE_BFT;
    d->d.crit = HV_CRIT_CRITICAL;
    d->d.reason = HV_REASON_EARLY;
    d->d.eligible = 5;
    d->order.side = (int32_t)hv_rng_below(&r->rng, 2);
    d->order.action = HV_ACTION_POSITION_CHANGE;
    d->order.qty = 100;
    d->order.ref_price = close;
    d->nvotes = (uint32_t)hv_rng_below(&r->rng, 6);
    for (uint32_t i = 0; i < d->nvotes; i++) {
        d->votes[i].v.voter = HV_SWARM_ID(1, 16 + i);
        d->votes[i].v.choice = HV_CHOICE_APPROVE;
        d->votes[i].auth = 2;
    }
    r->proposals++;
    r->accepted += d->d.outcome == HV_OUTCOME_ACCEPTED;
}

/* Steps within a cycle: 0 cycle, 1 decision (maybe), 2 result (if accepted), 3 end. */
int logrun_entry(logrun *r, hv_log_entry *e)
{
    if (r->finished)
        return 0;
    memset(e, 0, sizeof(*e));
    if (r->cycle == UINT64_MAX) {
        e->type = HV_LOG_GENESIS;
        e->genesis = r->g;
        r->cycle = 0;
        r->step = 0;
    } else if (r->cycle == r->g.cycles_max) {
        e->type = HV_LOG_FINISH;
        e->finish.cycles = r->cycle;
        hv__sw_venue_finish(&r->venue, r->cycle * r->g.bar_ns + 2, book, &r->trades);
        r->finished = 1;
    } else if (r->step == 0) {
        e->type = HV_LOG_CYCLE;
        e->cycle.cycle = r->cycle;
        hv_synth_next(&r->synth, &e->cycle.bar);
        r->close = e->cycle.bar.close;
        uint64_t t = r->cycle * r->g.bar_ns;
        hv__sw_venue_bar(&r->venue, &e->cycle.bar, t, book, &r->trades);
        hv_portfolio_stats ps;
        hv_portfolio_stats_get(r->venue.pf, &ps);
        hv_limits_update_drawdown(r->limits, ps.drawdown_frac, t, NULL);
        r->step = hv_rng_below(&r->rng, 3) == 0 ? 3 : 1;
    } else if (r->step == 1) {
        decision(r, e, r->close);
        r->last = *e;
        r->step = e->decision.d.outcome == HV_OUTCOME_ACCEPTED ? 2 : 3;
    } else if (r->step == 2) {
        e->type = HV_LOG_RESULT;
        result_of(r, &r->last.decision, &e->result);
        r->step = 3;
    } else {
        e->type = HV_LOG_CYCLE_END;
        e->end.cycle = r->cycle++;
        r->step = 0;
    }
    return 1;
}

int logrun_next(logrun *r, logw *w)
{
    return logrun_entry(r, &r->e) && logw_put(w, &r->e) == 0;
}

/*
 * The swarm's messages as HVW1 frames. Every message is one frame whose topic is the subject
 * it travels on, whose correlation id is the cycle, whose timestamp is the sender's link clock
 * at send and whose sender id is the sender's global agent id. The (type, subject) pair names
 * the kind; byte layouts carried in opaque fields (join, bar, order, trace, execution report,
 * final report) are little-endian and documented in docs/SWARM.md.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/codec.h>

#include "swarm/swarm_int.h"

typedef struct kind_info {
    const char *subject;
    uint8_t type;
} kind_info;

static const kind_info kinds[SW_KIND_COUNT] = {
    [SW_JOIN] = { "swarm.ctl.join", HV_MSG_PUBLISH },
    [SW_WELCOME] = { "swarm.ctl.welcome", HV_MSG_PUBLISH },
    [SW_HEARTBEAT] = { "swarm.ctl.heartbeat", HV_MSG_HEARTBEAT },
    [SW_NEXT] = { "swarm.md.next", HV_MSG_TASK_ASSIGN },
    [SW_STOP] = { "swarm.ctl.stop", HV_MSG_TASK_ASSIGN },
    [SW_REPORT] = { "swarm.report.agent", HV_MSG_TASK_RESULT },
    [SW_CURVE] = { "swarm.report.curve", HV_MSG_STREAM_START }, /* and STREAM_DATA, _END */
    [SW_EXIT] = { "swarm.ctl.exit", HV_MSG_TASK_ASSIGN },
    [SW_FINISH] = { "swarm.exec.finish", HV_MSG_TASK_ASSIGN },
    [SW_BAR] = { "swarm.md.bar", HV_MSG_PUBLISH },
    [SW_EOD] = { "swarm.md.eod", HV_MSG_TASK_RESULT },
    [SW_PRED] = { "swarm.pattern.result", HV_MSG_PATTERN_RESULT },
    [SW_RISKREP] = { "swarm.risk.report", HV_MSG_TASK_RESULT },
    [SW_STATE] = { "swarm.exec.state", HV_MSG_METRICS },
    [SW_HOLD] = { "swarm.strategy.hold", HV_MSG_TASK_RESULT },
    [SW_PROPOSE] = { "swarm.strategy.propose", HV_MSG_PROPOSAL },
    [SW_VOTE_REQ] = { "swarm.vote.request", HV_MSG_PROPOSAL },
    [SW_VOTE] = { "swarm.vote.cast", HV_MSG_VOTE },
    [SW_DECISION] = { "swarm.decision", HV_MSG_DECISION },
    [SW_ORDER] = { "swarm.exec.order", HV_MSG_TASK_ASSIGN },
    [SW_ORDER_RESULT] = { "swarm.order.result", HV_MSG_TASK_RESULT },
    [SW_CONFIRM] = { "swarm.exec.report", HV_MSG_TASK_RESULT },
    [SW_FINISHED] = { "swarm.exec.finished", HV_MSG_TASK_RESULT },
    [SW_ERROR] = { "swarm.error", HV_MSG_ERROR },
    [SW_REDIRECT] = { "swarm.ctl.redirect", HV_MSG_PUBLISH },
};

const char *hv__sw_subject(int kind)
{
    return kind > 0 && kind < SW_KIND_COUNT ? kinds[kind].subject : NULL;
}

/* ---- Little-endian packing --------------------------------------------------------------- */

typedef struct pk {
    uint8_t *p;
    size_t n, cap;
    const uint8_t *r;
    size_t rn, off;
    int bad;
} pk;

static void put_u64(pk *b, uint64_t v)
{
    if (b->n + 8 > b->cap) {
        b->bad = 1;
        return;
    }
    for (int i = 0; i < 8; i++)
        b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

static void put_f64(pk *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

static uint64_t get_u64(pk *b)
{
    if (b->off + 8 > b->rn) {
        b->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b->r[b->off + (size_t)i] << (8 * i);
    b->off += 8;
    return v;
}

static double get_f64(pk *b)
{
    uint64_t v = get_u64(b);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static int64_t get_i64(pk *b)
{
    return (int64_t)get_u64(b);
}

static void reader(pk *b, const uint8_t *p, size_t n)
{
    memset(b, 0, sizeof(*b));
    b->r = p;
    b->rn = n;
}

static void writer(pk *b, uint8_t *p, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->p = p;
    b->cap = cap;
}

/* Order: side, action, qty, ref_price, target (40 bytes). */
static void put_order(pk *b, const sw_order *o)
{
    put_u64(b, (uint64_t)(uint32_t)o->side);
    put_u64(b, (uint64_t)(uint32_t)o->action);
    put_u64(b, (uint64_t)o->qty);
    put_f64(b, o->ref_price);
    put_u64(b, (uint64_t)o->target);
}

static void get_order(pk *b, sw_order *o)
{
    o->side = (int32_t)get_u64(b);
    o->action = (int32_t)get_u64(b);
    o->qty = get_i64(b);
    o->ref_price = get_f64(b);
    o->target = get_i64(b);
    if (o->side < 0 || o->side > 1 || o->qty <= 0 || !isfinite(o->ref_price) || o->action < 0 ||
        o->action >= HV_ACTION_MAX)
        b->bad = 1;
}

static void put_trace(pk *b, const sw_trace *t)
{
    put_u64(b, t->md_ns);
    put_u64(b, t->par_ns);
    put_u64(b, t->dtw_cpu_ns);
    put_u64(b, t->var_cpu_ns);
    put_u64(b, t->exec_cpu_ns);
    put_u64(b, t->strat_ns);
}

static void get_trace(pk *b, sw_trace *t)
{
    t->md_ns = get_u64(b);
    t->par_ns = get_u64(b);
    t->dtw_cpu_ns = get_u64(b);
    t->var_cpu_ns = get_u64(b);
    t->exec_cpu_ns = get_u64(b);
    t->strat_ns = get_u64(b);
}

int hv__sw_order_hash(const sw_order *o, uint8_t out[HV_PAYLOAD_HASH_BYTES])
{
    uint8_t buf[64];
    pk b;
    writer(&b, buf, sizeof(buf));
    put_order(&b, o);
    return crypto_generichash(out, HV_PAYLOAD_HASH_BYTES, buf, b.n, NULL, 0) == 0 ? 0 : HV_ECRYPTO;
}

/* ---- Encoding ---------------------------------------------------------------------------- */

/* Scratch for the opaque byte fields and vectors of one message. */
typedef struct enc {
    uint8_t bytes[1024];
    pk b;
    uint64_t voters[SW_VOTERS_MAX];
    uint32_t weights[SW_VOTERS_MAX];
} enc;

static void enc_bar(const sw_msg *m, hv_msg *w, enc *e)
{
    put_u64(&e->b, m->bar.sim_ns);
    put_u64(&e->b, m->bar.md_ns);
    put_u64(&e->b, (uint64_t)(uint32_t)m->bar.bar.day);
    put_f64(&e->b, m->bar.bar.open);
    put_f64(&e->b, m->bar.bar.high);
    put_f64(&e->b, m->bar.bar.low);
    put_f64(&e->b, m->bar.bar.close);
    put_f64(&e->b, m->bar.bar.adjclose);
    put_f64(&e->b, m->bar.bar.volume);
    w->publish.priority = HV_WIRE_PRIO_NORMAL;
    w->publish.content_type = HV_WIRE_CONTENT_OCTETS;
    w->publish.data = (hv_bytes){ e->bytes, (uint32_t)e->b.n };
}

static void put_bytes(pk *b, const uint8_t *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->bad = 1;
        return;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void get_bytes(pk *b, uint8_t *p, size_t n)
{
    if (b->off + n > b->rn) {
        b->bad = 1;
        memset(p, 0, n);
        return;
    }
    memcpy(p, b->r + b->off, n);
    b->off += n;
}

/* JOIN: id, role, index, auth (4 x u64), Ed25519 public key (32), MAC key (32; zero unless
 * auth is MAC). WELCOME: id (u64). REDIRECT: replica, term (2 x u64), the address (64 bytes,
 * NUL-padded). All as octets. */
static void enc_ctl(const sw_msg *m, hv_msg *w, enc *e)
{
    if (m->kind == SW_REDIRECT) {
        uint8_t a[SW_ADDRESS_MAX];
        memset(a, 0, sizeof(a));
        memcpy(a, m->redirect.address, strnlen(m->redirect.address, sizeof(a) - 1));
        put_u64(&e->b, m->redirect.replica);
        put_u64(&e->b, m->redirect.term);
        put_bytes(&e->b, a, sizeof(a));
    } else if (m->kind == SW_JOIN) {
        put_u64(&e->b, m->join.id);
        put_u64(&e->b, m->join.role);
        put_u64(&e->b, m->join.index);
        put_u64(&e->b, m->join.auth);
        put_bytes(&e->b, m->join.pk, sizeof(m->join.pk));
        put_bytes(&e->b, m->join.mac, sizeof(m->join.mac));
    } else {
        put_u64(&e->b, m->welcome.id);
    }
    w->publish.priority = HV_WIRE_PRIO_NORMAL;
    w->publish.content_type = HV_WIRE_CONTENT_OCTETS;
    w->publish.data = (hv_bytes){ e->bytes, (uint32_t)e->b.n };
}

static void put_portfolio(pk *b, const hv_portfolio_stats *p)
{
    const double d[] = { p->cash_initial,      p->cash,           p->avg_cost,      p->mark_price,
                         p->realized_pnl,      p->unrealized_pnl, p->fees,          p->equity,
                         p->equity_peak,       p->drawdown,       p->drawdown_frac, p->max_drawdown,
                         p->max_drawdown_frac, p->notional_traded };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        put_f64(b, d[i]);
    put_u64(b, (uint64_t)p->position);
    put_u64(b, p->fills);
    put_u64(b, (uint64_t)p->shares_traded);
}

static void get_portfolio(pk *b, hv_portfolio_stats *p)
{
    double *d[] = { &p->cash_initial,      &p->cash,           &p->avg_cost,      &p->mark_price,
                    &p->realized_pnl,      &p->unrealized_pnl, &p->fees,          &p->equity,
                    &p->equity_peak,       &p->drawdown,       &p->drawdown_frac, &p->max_drawdown,
                    &p->max_drawdown_frac, &p->notional_traded };
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
        *d[i] = get_f64(b);
    p->position = get_i64(b);
    p->fills = get_u64(b);
    p->shares_traded = get_i64(b);
}

static void put_exchange(pk *b, const hv_exchange_stats *x)
{
    const uint64_t u[] = { x->submitted,
                           x->accepted,
                           x->rejected,
                           x->fills,
                           x->filled,
                           x->cancelled,
                           x->expired,
                           x->cancel_rejects,
                           x->limit_refusals,
                           x->full_refusals,
                           x->backlog_stalls,
                           x->portfolio_errors,
                           x->bars,
                           x->reports_delivered,
                           x->open_orders,
                           x->reports_queued,
                           (uint64_t)x->open_buy_qty,
                           (uint64_t)x->open_sell_qty };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        put_u64(b, u[i]);
    put_f64(b, x->fees);
    put_f64(b, x->notional);
}

static void get_exchange(pk *b, hv_exchange_stats *x)
{
    uint64_t *u[] = { &x->submitted,     &x->accepted,         &x->rejected,
                      &x->fills,         &x->filled,           &x->cancelled,
                      &x->expired,       &x->cancel_rejects,   &x->limit_refusals,
                      &x->full_refusals, &x->backlog_stalls,   &x->portfolio_errors,
                      &x->bars,          &x->reports_delivered };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        *u[i] = get_u64(b);
    x->open_orders = (uint32_t)get_u64(b);
    x->reports_queued = (uint32_t)get_u64(b);
    x->open_buy_qty = get_i64(b);
    x->open_sell_qty = get_i64(b);
    x->fees = get_f64(b);
    x->notional = get_f64(b);
}

/* REPORT: the counters (7 x u64), role, index, then the portfolio (14 f64, 3 u64), the
 * exchange (18 u64, 2 f64), the limits (checks, admitted, 5 trips, halted) and the halt
 * (seen, cycle, breach limit, value, limit value, time). */
static void enc_report(const sw_report *r, enc *e)
{
    pk *b = &e->b;
    const uint64_t c[] = { r->received,      r->sent,    r->bad,  r->stale, r->retried,
                           r->undeliverable, r->missing, r->role, r->index };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        put_u64(b, c[i]);
    put_portfolio(b, &r->portfolio);
    put_exchange(b, &r->exchange);
    put_u64(b, r->limits.checks);
    put_u64(b, r->limits.admitted);
    for (int i = 0; i < 5; i++)
        put_u64(b, r->limits.trips[i]);
    put_u64(b, (uint64_t)r->limits.halted);
    put_u64(b, (uint64_t)r->halted_seen);
    put_u64(b, r->halted_cycle);
    put_u64(b, (uint64_t)r->halt_breach.limit);
    put_f64(b, r->halt_breach.value);
    put_f64(b, r->halt_breach.limit_value);
    put_u64(b, r->halt_breach.now_ns);
}

static int dec_report_agent(pk *b, sw_report *r)
{
    uint64_t *c[] = { &r->received, &r->sent,          &r->bad,    &r->stale,
                      &r->retried,  &r->undeliverable, &r->missing };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        *c[i] = get_u64(b);
    uint64_t role = get_u64(b), index = get_u64(b);
    get_portfolio(b, &r->portfolio);
    get_exchange(b, &r->exchange);
    r->limits.checks = get_u64(b);
    r->limits.admitted = get_u64(b);
    for (int i = 0; i < 5; i++)
        r->limits.trips[i] = get_u64(b);
    r->limits.halted = get_u64(b) != 0;
    r->halted_seen = get_u64(b) != 0;
    r->halted_cycle = get_u64(b);
    r->halt_breach.limit = (hv_limit_id)get_u64(b);
    r->halt_breach.value = get_f64(b);
    r->halt_breach.limit_value = get_f64(b);
    r->halt_breach.now_ns = get_u64(b);
    if (b->bad || role >= SW_ROLE_COUNT || index >= HV_SWARM_PATTERNS_MAX ||
        (uint64_t)r->halt_breach.limit > 4)
        return HV_EBADFIELD;
    r->role = (uint32_t)role;
    r->index = (uint32_t)index;
    return 0;
}

static void enc_pred(const sw_msg *m, hv_msg *w)
{
    hv_msg_pattern_result *r = &w->pattern_result;
    r->pattern_id = m->pred.agent;
    r->compute_ns = m->pred.compute_ns;
    /* similarity 1 / (1 + nearest distance) in (0, 1]; 0 marks "no prediction" */
    r->similarity = m->pred.valid ? (float)(1.0 / (1.0 + m->pred.distance_min)) : 0.0f;
    r->confidence = m->pred.valid ? (float)m->pred.agreement : 0.0f;
    r->expected_outcome = m->pred.valid ? (float)m->pred.expected : 0.0f;
    r->context = hv_str_from("dtw");
}

static void enc_task_result(const sw_msg *m, hv_msg *w, enc *e)
{
    hv_msg_task_result *r = &w->task_result;
    r->task_id = m->cycle;
    r->success = 1;
    r->kind = HV_WIRE_TASK_GENERIC_COMPUTE;
    switch (m->kind) {
    case SW_EOD:
        r->success = 0;
        r->error_code = HV_ECLOSED;
        break;
    case SW_RISKREP:
        r->kind = HV_WIRE_TASK_RISK;
        r->success = (uint8_t)(m->risk.valid != 0);
        r->error_code = m->risk.valid ? 0 : HV_ETOOFEWOBS;
        r->duration_ns = m->risk.compute_ns;
        put_f64(&e->b, m->risk.var);
        put_f64(&e->b, m->risk.es);
        break;
    case SW_HOLD:
        r->kind = HV_WIRE_TASK_STRATEGY_CORRELATION;
        put_trace(&e->b, &m->strat.trace);
        break;
    case SW_ORDER_RESULT:
        r->task_id = m->result.proposal_id;
        r->success = (uint8_t)(m->result.rc == 0);
        r->error_code = m->result.rc;
        r->duration_ns = m->result.exec_ns;
        put_u64(&e->b, m->result.order_id);
        put_u64(&e->b, m->result.risk_ns);
        put_u64(&e->b, (uint64_t)m->result.breach.limit);
        put_f64(&e->b, m->result.breach.value);
        put_f64(&e->b, m->result.breach.limit_value);
        put_u64(&e->b, m->result.breach.now_ns);
        break;
    case SW_CONFIRM: {
        const hv_exec_report *x = &m->confirm;
        r->task_id = x->order_id;
        put_u64(&e->b, (uint64_t)x->type);
        put_u64(&e->b, x->order_id);
        put_u64(&e->b, x->client_tag);
        put_u64(&e->b, (uint64_t)x->side);
        put_u64(&e->b, (uint64_t)x->state);
        put_u64(&e->b, (uint64_t)x->fill_qty);
        put_f64(&e->b, x->fill_price);
        put_f64(&e->b, x->fee);
        put_u64(&e->b, (uint64_t)x->filled_qty);
        put_u64(&e->b, (uint64_t)x->leaves_qty);
        put_u64(&e->b, (uint64_t)(int64_t)x->reason);
        put_u64(&e->b, x->submit_ns);
        put_u64(&e->b, x->exchange_ns);
        put_u64(&e->b, x->deliver_ns);
        break;
    }
    case SW_REPORT:
        enc_report(&m->report, e);
        break;
    default: /* SW_FINISHED */
        break;
    }
    r->output = (hv_bytes){ e->bytes, (uint32_t)e->b.n };
}

#define STATE_METRICS 10
static const char *const metric_names[STATE_METRICS] = {
    "position",      "open_buy_qty", "open_sell_qty", "cash",      "equity",
    "drawdown_frac", "compute_ns",   "close",         "bar_md_ns", "bar_sent_ns"
};

static void enc_state(const sw_msg *m, hv_msg *w)
{
    double v[STATE_METRICS] = { (double)m->state.position,
                                (double)m->state.open_buy,
                                (double)m->state.open_sell,
                                m->state.cash,
                                m->state.equity,
                                m->state.drawdown_frac,
                                (double)m->state.compute_ns,
                                m->state.close,
                                (double)m->state.bar_md_ns,
                                (double)m->state.bar_sent_ns };
    w->metrics.count = STATE_METRICS;
    for (int i = 0; i < STATE_METRICS; i++) {
        w->metrics.entries[i].name = hv_str_from(metric_names[i]);
        w->metrics.entries[i].value = v[i];
        w->metrics.entries[i].kind =
            i == 6 || i == 8 ? HV_WIRE_METRIC_LATENCY_NS : HV_WIRE_METRIC_GAUGE;
    }
}

/* hv_rule / hv_action / hv_outcome numbering -> the wire enums. */
static uint8_t wire_action(int a)
{
    return a >= HV_ACTION_ORDER_EXECUTION && a <= HV_ACTION_STRATEGY_SIGNAL ? (uint8_t)(a - 1)
                                                                            : HV_WIRE_ACTION_OTHER;
}

static int from_wire_action(uint8_t a)
{
    return a < HV_WIRE_ACTION_OTHER ? a + 1 : HV_ACTION_OTHER;
}

static void enc_proposal(const sw_msg *m, hv_msg *w, enc *e)
{
    hv_msg_proposal *p = &w->proposal;
    put_order(&e->b, m->kind == SW_PROPOSE ? &m->strat.order : &m->vreq.order);
    if (m->kind == SW_PROPOSE) {
        put_trace(&e->b, &m->strat.trace);
        p->action = wire_action(m->strat.order.action);
        p->deadline_ns = UINT64_MAX;
    } else {
        p->proposal_id = m->vreq.id;
        p->round = m->vreq.round;
        p->action = wire_action(m->vreq.order.action);
        p->criticality = m->vreq.crit;
        p->rule = (uint8_t)(m->vreq.rule - 1);
        p->deadline_ns = m->vreq.deadline_ns;
        memcpy(p->payload_hash, m->vreq.hash, HV_HASH_BYTES);
        for (uint32_t i = 0; i < m->vreq.nvoters; i++) {
            e->voters[i] = m->vreq.voters[i];
            e->weights[i] = 1;
        }
        p->voters = (hv_u64v){ e->voters, m->vreq.nvoters };
        p->weights = (hv_u32v){ e->weights, m->vreq.nvoters };
    }
    p->payload = (hv_bytes){ e->bytes, (uint32_t)e->b.n };
}

static void enc_vote(const sw_msg *m, hv_msg *w)
{
    const hv_vote *v = &m->vote.v;
    w->vote.proposal_id = v->proposal_id;
    w->vote.voter = v->voter;
    w->vote.round = v->round;
    w->vote.weight = 1;
    w->vote.choice = (uint8_t)(v->choice - 1);
    w->vote.auth =
        m->vote.auth == HV_SWARM_AUTH_SIG ? HV_WIRE_AUTH_ED25519 : HV_WIRE_AUTH_BLAKE2B_MAC;
    memcpy(w->vote.payload_hash, v->payload_hash, HV_HASH_BYTES);
    memcpy(w->vote.signature, v->sig, HV_SIG_BYTES);
}

static void enc_decision(const sw_msg *m, hv_msg *w)
{
    const hv_decision *d = &m->decision;
    w->decision.proposal_id = d->proposal_id;
    w->decision.decided_ns = d->decided_ns;
    w->decision.approve_weight = d->approve_weight;
    w->decision.reject_weight = d->rejections;
    w->decision.abstain_weight = d->abstentions;
    w->decision.round = d->round;
    w->decision.approvals = d->approvals;
    w->decision.rejections = d->rejections;
    w->decision.abstentions = d->abstentions;
    w->decision.votes_needed = d->votes_needed;
    w->decision.outcome = (uint8_t)(d->outcome - 1);
    w->decision.rule = (uint8_t)(d->rule - 1);
}

static void enc_task_assign(const sw_msg *m, hv_msg *w, enc *e)
{
    w->task_assign.task_id = m->cycle;
    w->task_assign.kind = HV_WIRE_TASK_GENERIC_COMPUTE;
    w->task_assign.priority = 5;
    if (m->kind == SW_ORDER) {
        w->task_assign.task_id = m->order.proposal_id;
        put_order(&e->b, &m->order.order);
        put_u64(&e->b, m->order.risk_ns);
    }
    w->task_assign.input = (hv_bytes){ e->bytes, (uint32_t)e->b.n };
}

static int frame_encode(int kind, uint64_t cycle, uint64_t wall_ns, uint64_t sender, uint64_t seq,
                        const hv_msg *w, uint8_t *buf, size_t cap)
{
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.seq = seq;
    f.correlation_id = cycle;
    f.timestamp_ns = wall_ns;
    f.sender_id = sender;
    f.topic = hv_str_from(kinds[kind].subject);
    return hv_frame_encode(buf, cap, &f, w, NULL);
}

int hv__sw_encode(const sw_msg *m, uint64_t seq, uint8_t *buf, size_t cap)
{
    if (hv__sw_subject(m->kind) == NULL)
        return HV_EINVAL;
    enc e;
    hv_msg w;
    memset(&w, 0, sizeof(w));
    writer(&e.b, e.bytes, sizeof(e.bytes));
    w.type = kinds[m->kind].type;
    switch (m->kind) {
    case SW_BAR:
        enc_bar(m, &w, &e);
        break;
    case SW_PRED:
        enc_pred(m, &w);
        break;
    case SW_STATE:
        enc_state(m, &w);
        break;
    case SW_PROPOSE:
    case SW_VOTE_REQ:
        enc_proposal(m, &w, &e);
        break;
    case SW_VOTE:
        enc_vote(m, &w);
        break;
    case SW_DECISION:
        enc_decision(m, &w);
        break;
    case SW_NEXT:
    case SW_STOP:
    case SW_EXIT:
    case SW_FINISH:
    case SW_ORDER:
        enc_task_assign(m, &w, &e);
        break;
    case SW_JOIN:
    case SW_WELCOME:
    case SW_REDIRECT:
        enc_ctl(m, &w, &e);
        break;
    case SW_HEARTBEAT:
        break;
    case SW_CURVE:
        return HV_EINVAL; /* stream messages go through hv__sw_encode_stream */
    case SW_ERROR:
        w.error.code = m->error.code;
        w.error.message = hv_str_from(m->error.text);
        w.error.context = hv_str_from("swarm");
        break;
    default:
        enc_task_result(m, &w, &e);
        break;
    }
    if (e.b.bad)
        return HV_ENOBUFS;
    return frame_encode(m->kind, m->cycle, m->wall_ns, m->sender, seq, &w, buf, cap);
}

int hv__sw_encode_stream(const hv_msg *w, uint64_t sender, uint64_t seq, uint8_t *buf, size_t cap)
{
    if (w->type != HV_MSG_STREAM_START && w->type != HV_MSG_STREAM_DATA &&
        w->type != HV_MSG_STREAM_END)
        return HV_EINVAL;
    return frame_encode(SW_CURVE, 0, 0, sender, seq, w, buf, cap);
}

/* ---- Decoding ---------------------------------------------------------------------------- */

static int is_stream(uint8_t type)
{
    return type == HV_MSG_STREAM_START || type == HV_MSG_STREAM_DATA || type == HV_MSG_STREAM_END;
}

static int kind_of(const hv_frame *f)
{
    for (int k = 1; k < SW_KIND_COUNT; k++) {
        size_t n = strlen(kinds[k].subject);
        int type_ok = k == SW_CURVE ? is_stream(f->type) : kinds[k].type == f->type;
        if (type_ok && f->topic.len == n && memcmp(f->topic.ptr, kinds[k].subject, n) == 0)
            return k;
    }
    return HV_EBADTYPE;
}

/* A redirect names a leader (1..5) and its address: text up to the first NUL, zeros after. */
static int dec_redirect(pk *b, sw_msg *m)
{
    uint8_t a[SW_ADDRESS_MAX];
    m->redirect.replica = get_u64(b);
    m->redirect.term = get_u64(b);
    get_bytes(b, a, sizeof(a));
    if (b->bad || b->off != b->rn)
        return HV_EBADLEN;
    size_t n = strnlen((const char *)a, sizeof(a));
    if (m->redirect.replica < 1 || m->redirect.replica > HV_SW_REPLICAS_MAX || n == 0 ||
        n == sizeof(a) || memchr(a, ':', n) == NULL)
        return HV_EBADFIELD;
    for (size_t i = n; i < sizeof(a); i++)
        if (a[i] != 0)
            return HV_EBADFIELD;
    for (size_t i = 0; i < n; i++)
        if (a[i] <= ' ' || a[i] > '~')
            return HV_EBADFIELD;
    memcpy(m->redirect.address, a, sizeof(a));
    return 0;
}

static int dec_ctl(int kind, const hv_msg *w, sw_msg *m)
{
    pk b;
    reader(&b, w->publish.data.ptr, w->publish.data.len);
    if (kind == SW_REDIRECT)
        return dec_redirect(&b, m);
    if (kind == SW_WELCOME) {
        m->welcome.id = get_u64(&b);
        return b.bad || b.off != b.rn ? HV_EBADLEN : 0;
    }
    m->join.id = get_u64(&b);
    uint64_t role = get_u64(&b), index = get_u64(&b), auth = get_u64(&b);
    get_bytes(&b, m->join.pk, sizeof(m->join.pk));
    get_bytes(&b, m->join.mac, sizeof(m->join.mac));
    if (b.bad || b.off != b.rn)
        return HV_EBADLEN;
    if (role >= SW_ROLE_COUNT || index >= HV_SWARM_PATTERNS_MAX ||
        (auth != HV_SWARM_AUTH_SIG && auth != HV_SWARM_AUTH_MAC))
        return HV_EBADFIELD;
    m->join.role = (uint32_t)role;
    m->join.index = (uint32_t)index;
    m->join.auth = (uint8_t)auth;
    return 0;
}

static int dec_bar(const hv_msg *w, sw_msg *m)
{
    pk b;
    reader(&b, w->publish.data.ptr, w->publish.data.len);
    m->bar.sim_ns = get_u64(&b);
    m->bar.md_ns = get_u64(&b);
    m->bar.bar.day = (int32_t)(uint32_t)get_u64(&b);
    m->bar.bar.open = get_f64(&b);
    m->bar.bar.high = get_f64(&b);
    m->bar.bar.low = get_f64(&b);
    m->bar.bar.close = get_f64(&b);
    m->bar.bar.adjclose = get_f64(&b);
    m->bar.bar.volume = get_f64(&b);
    return b.bad || !(m->bar.bar.close > 0) ? HV_EBADLEN : 0;
}

static int dec_pred(const hv_msg *w, sw_msg *m)
{
    const hv_msg_pattern_result *r = &w->pattern_result;
    m->pred.agent = (uint32_t)r->pattern_id;
    m->pred.compute_ns = r->compute_ns;
    m->pred.valid = r->similarity > 0;
    m->pred.agreement = r->confidence;
    m->pred.expected = r->expected_outcome;
    m->pred.distance_min = r->similarity > 0 ? 1.0 / r->similarity - 1.0 : 0;
    return 0;
}

static int dec_report(pk *b, hv_exec_report *x)
{
    x->type = (hv_exec_type)get_u64(b);
    x->order_id = get_u64(b);
    x->client_tag = get_u64(b);
    x->side = (hv_side)get_u64(b);
    x->state = (hv_order_state)get_u64(b);
    x->fill_qty = get_i64(b);
    x->fill_price = get_f64(b);
    x->fee = get_f64(b);
    x->filled_qty = get_i64(b);
    x->leaves_qty = get_i64(b);
    x->reason = (int)get_i64(b);
    x->submit_ns = get_u64(b);
    x->exchange_ns = get_u64(b);
    x->deliver_ns = get_u64(b);
    if ((unsigned)x->type > HV_EXEC_CANCEL_REJECT || (unsigned)x->side > 1 ||
        (unsigned)x->state >= HV_ORDER_STATE_COUNT)
        b->bad = 1;
    return b->bad ? HV_EBADLEN : 0;
}

static int dec_task_result(int kind, const hv_msg *w, sw_msg *m)
{
    const hv_msg_task_result *r = &w->task_result;
    pk b;
    reader(&b, r->output.ptr, r->output.len);
    switch (kind) {
    case SW_RISKREP:
        m->risk.valid = r->success;
        m->risk.compute_ns = r->duration_ns;
        m->risk.var = get_f64(&b);
        m->risk.es = get_f64(&b);
        break;
    case SW_HOLD:
        get_trace(&b, &m->strat.trace);
        break;
    case SW_ORDER_RESULT:
        m->result.proposal_id = r->task_id;
        m->result.rc = r->error_code;
        m->result.exec_ns = r->duration_ns;
        m->result.order_id = get_u64(&b);
        m->result.risk_ns = get_u64(&b);
        m->result.breach.limit = (hv_limit_id)get_u64(&b);
        m->result.breach.value = get_f64(&b);
        m->result.breach.limit_value = get_f64(&b);
        m->result.breach.now_ns = get_u64(&b);
        break;
    case SW_CONFIRM:
        return dec_report(&b, &m->confirm);
    case SW_REPORT:
        return dec_report_agent(&b, &m->report);
    default:
        break;
    }
    return b.bad ? HV_EBADLEN : 0;
}

/* Quantities travel as doubles in METRICS: each must be a whole number a double holds exactly
 * (|v| <= 2^53), open quantities and the compute time non-negative. */
static int whole(double v, double lo)
{
    return isfinite(v) && v >= lo && v <= 9007199254740992.0 && v == floor(v);
}

static int dec_state(const hv_msg *w, sw_msg *m)
{
    double v[STATE_METRICS];
    if (w->metrics.count != STATE_METRICS)
        return HV_EBADLEN;
    for (int i = 0; i < STATE_METRICS; i++) {
        const hv_wire_metric *e = &w->metrics.entries[i];
        if (e->name.len != strlen(metric_names[i]) ||
            memcmp(e->name.ptr, metric_names[i], e->name.len) != 0)
            return HV_EBADFIELD;
        v[i] = e->value;
    }
    if (!whole(v[0], -9007199254740992.0) || !whole(v[1], 0) || !whole(v[2], 0) ||
        !whole(v[6], 0) || !isfinite(v[3]) || !isfinite(v[4]) || !(v[5] >= 0 && v[5] <= 1e9) ||
        !isfinite(v[7]) || !whole(v[8], 0) || !whole(v[9], 0))
        return HV_EBADFIELD;
    m->state.position = (int64_t)v[0];
    m->state.open_buy = (int64_t)v[1];
    m->state.open_sell = (int64_t)v[2];
    m->state.cash = v[3];
    m->state.equity = v[4];
    m->state.drawdown_frac = v[5];
    m->state.compute_ns = (uint64_t)v[6];
    m->state.close = v[7];
    m->state.bar_md_ns = (uint64_t)v[8];
    m->state.bar_sent_ns = (uint64_t)v[9];
    return 0;
}

static int dec_proposal(int kind, const hv_msg *w, sw_msg *m)
{
    const hv_msg_proposal *p = &w->proposal;
    pk b;
    reader(&b, p->payload.ptr, p->payload.len);
    get_order(&b, &m->strat.order);
    if (kind == SW_PROPOSE) {
        get_trace(&b, &m->strat.trace);
        return b.bad ? HV_EBADLEN : 0;
    }
    sw_order o = m->strat.order;
    if (b.bad || p->voters.n > SW_VOTERS_MAX || p->rule > HV_WIRE_RULE_BFT ||
        from_wire_action(p->action) != o.action)
        return HV_EBADFIELD;
    m->vreq.order = o;
    m->vreq.id = p->proposal_id;
    m->vreq.round = p->round;
    m->vreq.rule = (uint8_t)(p->rule + 1);
    m->vreq.crit = p->criticality;
    memcpy(m->vreq.hash, p->payload_hash, HV_HASH_BYTES);
    m->vreq.deadline_ns = p->deadline_ns;
    m->vreq.nvoters = p->voters.n;
    for (uint32_t i = 0; i < p->voters.n; i++)
        m->vreq.voters[i] = hv_u64v_get(p->voters, i);
    return 0;
}

static int dec_vote(const hv_msg *w, sw_msg *m)
{
    hv_vote *v = &m->vote.v;
    v->proposal_id = w->vote.proposal_id;
    v->voter = w->vote.voter;
    v->round = w->vote.round;
    v->choice = (uint8_t)(w->vote.choice + 1);
    m->vote.auth = w->vote.auth == HV_WIRE_AUTH_ED25519 ? HV_SWARM_AUTH_SIG : HV_SWARM_AUTH_MAC;
    memcpy(v->payload_hash, w->vote.payload_hash, HV_HASH_BYTES);
    memcpy(v->sig, w->vote.signature, HV_SIG_BYTES);
    return 0;
}

static int dec_decision(const hv_msg *w, sw_msg *m)
{
    hv_decision *d = &m->decision;
    d->proposal_id = w->decision.proposal_id;
    d->decided_ns = w->decision.decided_ns;
    d->approve_weight = w->decision.approve_weight;
    d->round = w->decision.round;
    d->approvals = w->decision.approvals;
    d->rejections = w->decision.rejections;
    d->abstentions = w->decision.abstentions;
    d->votes_needed = w->decision.votes_needed;
    d->outcome = (uint8_t)(w->decision.outcome + 1);
    d->rule = (uint8_t)(w->decision.rule + 1);
    return 0;
}

static int dec_task_assign(int kind, const hv_msg *w, sw_msg *m)
{
    if (kind != SW_ORDER)
        return 0;
    pk b;
    reader(&b, w->task_assign.input.ptr, w->task_assign.input.len);
    m->order.proposal_id = w->task_assign.task_id;
    get_order(&b, &m->order.order);
    m->order.risk_ns = get_u64(&b);
    return b.bad ? HV_EBADLEN : 0;
}

static int dec_body(int kind, const hv_msg *w, sw_msg *m)
{
    switch (kind) {
    case SW_BAR:
        return dec_bar(w, m);
    case SW_PRED:
        return dec_pred(w, m);
    case SW_STATE:
        return dec_state(w, m);
    case SW_PROPOSE:
    case SW_VOTE_REQ:
        return dec_proposal(kind, w, m);
    case SW_VOTE:
        return dec_vote(w, m);
    case SW_DECISION:
        return dec_decision(w, m);
    case SW_NEXT:
    case SW_STOP:
    case SW_EXIT:
    case SW_FINISH:
    case SW_ORDER:
        return dec_task_assign(kind, w, m);
    case SW_JOIN:
    case SW_WELCOME:
    case SW_REDIRECT:
        return dec_ctl(kind, w, m);
    case SW_HEARTBEAT:
        return 0;
    case SW_ERROR: {
        uint32_t n = w->error.message.len < sizeof(m->error.text) - 1
                         ? w->error.message.len
                         : (uint32_t)sizeof(m->error.text) - 1;
        m->error.code = w->error.code;
        memcpy(m->error.text, w->error.message.ptr, n);
        m->error.text[n] = 0;
        return 0;
    }
    default:
        return dec_task_result(kind, w, m);
    }
}

int hv__sw_decode(const uint8_t *buf, size_t len, sw_msg *m, hv_msg *w)
{
    hv_frame f;
    int rc = hv_decode(buf, len, NULL, NULL, 0, &f, w);
    if (rc < 0)
        return rc;
    memset(m, 0, sizeof(*m));
    int kind = kind_of(&f);
    if (kind < 0)
        return kind;
    m->kind = kind;
    m->cycle = f.correlation_id;
    m->wall_ns = f.timestamp_ns;
    m->sender = f.sender_id;
    if (kind == SW_CURVE) {
        m->curve = w;
        return 0;
    }
    return dec_body(kind, w, m);
}

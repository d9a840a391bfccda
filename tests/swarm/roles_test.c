/* Every role as a state machine, driven by hand-written messages and times on a recording
 * link: no threads, no bus, no clock. */
#include <stdlib.h>
#include <string.h>

#include "hv_test.h"

#include <hivewire/codec.h>

#include "swarm/swarm_int.h"
#include "log/log_util.h"

/* ---- A link that records what the agent publishes --------------------------------------- */

#define SENT_MAX 256

typedef struct rec_link {
    hv_link link;
    uint64_t now;
    size_t n;
    struct {
        int kind;
        size_t len;
        uint8_t frame[SW_FRAME_MAX];
    } sent[SENT_MAX];
    size_t nsubs;
} rec_link;

static int rl_publish(hv_link *l, const char *subject, int prio, const uint8_t *f, size_t len)
{
    (void)prio;
    rec_link *r = (rec_link *)l;
    assert_true(r->n < SENT_MAX);
    sw_msg m;
    hv_msg hm;
    assert_int_equal(hv__sw_decode(f, len, &m, &hm), 0);
    assert_string_equal(subject, hv__sw_subject(m.kind));
    r->sent[r->n].kind = m.kind;
    r->sent[r->n].len = len;
    memcpy(r->sent[r->n].frame, f, len);
    r->n++;
    return 0;
}

static int rl_subscribe(hv_link *l, const char *pattern)
{
    (void)pattern;
    ((rec_link *)l)->nsubs++;
    return 0;
}

static uint64_t rl_now(hv_link *l)
{
    return ((rec_link *)l)->now;
}

static const hv_link_ops rec_ops = { .publish = rl_publish,
                                     .subscribe = rl_subscribe,
                                     .now = rl_now };

/* The i-th frame of `kind` published since `from` (decoded into *m), or 0 if none. */
static int sent(const rec_link *r, size_t from, int kind, size_t i, sw_msg *m)
{
    hv_msg hm;
    for (size_t k = from; k < r->n; k++) {
        if (r->sent[k].kind != kind || i-- > 0)
            continue;
        assert_int_equal(hv__sw_decode(r->sent[k].frame, r->sent[k].len, m, &hm), 0);
        return 1;
    }
    return 0;
}

static size_t count(const rec_link *r, size_t from, int kind)
{
    size_t n = 0;
    for (size_t k = from; k < r->n; k++)
        n += r->sent[k].kind == kind;
    return n;
}

/* Encodes m as if `sender` sent it and hands it to the agent at time now. */
static int feed(sw_agent *a, sw_msg *m, uint64_t sender, uint64_t now)
{
    uint8_t buf[SW_FRAME_MAX];
    m->sender = sender;
    int n = hv__sw_encode(m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    return a->actor.ops->on_msg(&a->actor, buf, (size_t)n, now);
}

static sw_msg msg(int kind, uint64_t cycle)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.cycle = cycle;
    return m;
}

static hv_swarm_opts config(void)
{
    hv_swarm_opts c;
    hv_swarm_opts_default(&c);
    for (int i = 0; i < HV_SWARM_PATTERNS_MAX; i++) {
        c.pattern[i].capacity = 64;
        c.pattern[i].stride = 2;
    }
    return c;
}

static sw_env env(int role, uint32_t index)
{
    sw_env e;
    memset(&e, 0, sizeof(e));
    e.cfg = config();
    e.role = role;
    e.index = index;
    e.vote_auth = HV_SWARM_AUTH_MAC;
    e.nbars = 100;
    return e;
}

static uint64_t id_of(int role, uint32_t index)
{
    return HV_SWARM_ID(1, hv__sw_local_id(role, index));
}

static hv_bar bar(int day, double close)
{
    hv_bar b = { .day = day,
                 .open = close,
                 .high = close,
                 .low = close,
                 .close = close,
                 .adjclose = close,
                 .volume = 1e6 };
    return b;
}

static void attach(sw_agent *a, rec_link *l)
{
    memset(l, 0, sizeof(*l));
    l->link.ops = &rec_ops;
    a->actor.link = &l->link;
}

/* ---- What every agent does ------------------------------------------------------------------ */

static void an_agent_joins_until_welcomed_then_says_it_is_alive(void **state)
{
    (void)state;
    hv_bar bars[3] = { bar(1, 100), bar(2, 101), bar(3, 102) };
    sw_env e = env(SW_ROLE_MD, 0);
    e.bars = bars;
    e.nbars = 3;
    sw_md md;
    rec_link l;
    assert_int_equal(hv__sw_md_init(&md, &e), 0);
    attach(&md.a, &l);
    hv_actor *x = &md.a.actor;
    assert_int_equal(x->ops->start(x, 0), 0);
    assert_true(l.nsubs >= 4); /* NEXT, WELCOME, STOP, EXIT */
    sw_msg m;
    assert_true(sent(&l, 0, SW_JOIN, 0, &m));
    assert_int_equal(m.join.id, id_of(SW_ROLE_MD, 0));
    assert_int_equal(m.sender, id_of(SW_ROLE_MD, 0));
    /* no welcome: the join goes again at its retry time, and backs off */
    uint64_t t1 = x->ops->next_expiry(x);
    assert_true(t1 > 0 && t1 < e.cfg.heartbeat_ns);
    assert_int_equal(x->ops->on_expiry(x, t1), 0);
    assert_int_equal(count(&l, 0, SW_JOIN), 2);
    uint64_t t2 = x->ops->next_expiry(x);
    assert_true(t2 - t1 > t1);
    /* welcomed: no more joins; a heartbeat every heartbeat_ns with the last cycle worked on */
    sw_msg w = msg(SW_WELCOME, 0);
    w.welcome.id = md.a.id;
    assert_int_equal(feed(&md.a, &w, id_of(SW_ROLE_COORD, 0), t1 + 1), 0);
    assert_int_equal(x->ops->next_expiry(x), e.cfg.heartbeat_ns);
    sw_msg next = msg(SW_NEXT, 1);
    assert_int_equal(feed(&md.a, &next, id_of(SW_ROLE_COORD, 0), t1 + 2), 0);
    assert_int_equal(x->ops->on_expiry(x, e.cfg.heartbeat_ns), 0);
    assert_true(sent(&l, 0, SW_HEARTBEAT, 0, &m));
    assert_int_equal(m.cycle, 1);
    /* a malformed frame is counted and refused, never fatal */
    uint8_t junk[16] = { 1, 2, 3 };
    uint64_t hb = e.cfg.heartbeat_ns;
    assert_int_equal(x->ops->on_msg(x, junk, sizeof(junk), hb + 3), 0);
    assert_int_equal(md.a.rep.bad, 1);
    /* STOP: the final report; EXIT: done */
    sw_msg stop = msg(SW_STOP, 3);
    assert_int_equal(feed(&md.a, &stop, id_of(SW_ROLE_COORD, 0), hb + 4), 0);
    assert_true(sent(&l, 0, SW_REPORT, 0, &m));
    assert_int_equal(m.report.role, SW_ROLE_MD);
    assert_true(m.report.received >= 4);
    sw_msg ex = msg(SW_EXIT, 3);
    assert_int_equal(feed(&md.a, &ex, id_of(SW_ROLE_COORD, 0), hb + 5), 0);
    assert_true(x->done);
}

static void market_data_answers_each_request_with_its_bar_or_the_end(void **state)
{
    (void)state;
    hv_bar bars[3] = { bar(1, 100), bar(2, 101), bar(3, 102) };
    sw_env e = env(SW_ROLE_MD, 0);
    e.bars = bars;
    e.nbars = 3;
    sw_md md;
    rec_link l;
    assert_int_equal(hv__sw_md_init(&md, &e), 0);
    attach(&md.a, &l);
    sw_msg m = msg(SW_NEXT, 2), out;
    assert_int_equal(feed(&md.a, &m, 1, 10), 0);
    assert_true(sent(&l, 0, SW_BAR, 0, &out));
    assert_true(out.bar.bar.close == 102);
    assert_int_equal(out.bar.sim_ns, 2 * e.cfg.bar_ns);
    assert_int_equal(feed(&md.a, &m, 1, 11), 0); /* asked again: the same bar again */
    assert_int_equal(count(&l, 0, SW_BAR), 2);
    m = msg(SW_NEXT, 3);
    assert_int_equal(feed(&md.a, &m, 1, 12), 0);
    assert_true(sent(&l, 0, SW_EOD, 0, &out));
    assert_int_equal(out.cycle, 3);
}

/* ---- Pattern agents ----------------------------------------------------------------------------
 */

static void send_bar(sw_agent *a, uint64_t cycle, double close, uint64_t now)
{
    sw_msg m = msg(SW_BAR, cycle);
    m.bar.bar = bar((int)cycle, close);
    assert_int_equal(feed(a, &m, id_of(SW_ROLE_MD, 0), now), 0);
}

static sw_msg vote_request(uint64_t cycle, hv_side side, const uint64_t *voters, uint32_t n)
{
    sw_msg m = msg(SW_VOTE_REQ, cycle);
    m.vreq.id = cycle + 1;
    m.vreq.rule = HV_RULE_BFT;
    m.vreq.order = (sw_order){ .side = side,
                               .action = HV_ACTION_POSITION_CHANGE,
                               .qty = 100,
                               .ref_price = 100,
                               .target = side == HV_SIDE_BUY ? 100 : -100 };
    m.vreq.deadline_ns = 1000000000ull;
    assert_int_equal(hv__sw_order_hash(&m.vreq.order, m.vreq.hash), 0);
    m.vreq.nvoters = n;
    memcpy(m.vreq.voters, voters, n * sizeof(uint64_t));
    return m;
}

static void a_pattern_agent_predicts_repeats_a_lost_prediction_and_votes_its_view(void **state)
{
    (void)state;
    sw_env e = env(SW_ROLE_PATTERN, 0);
    sw_pattern p;
    rec_link l;
    assert_int_equal(hv__sw_pattern_init(&p, &e), 0);
    attach(&p.a, &l);
    double c = 100;
    for (uint64_t i = 0; i < 60; i++) {
        c *= 1.0 + ((int)((i * 7919) % 13) - 6) * 0.002;
        send_bar(&p.a, i, c, i);
    }
    assert_int_equal(count(&l, 0, SW_PRED), 60);
    sw_msg last, again;
    assert_true(sent(&l, 0, SW_PRED, 59, &last));
    assert_int_equal(last.cycle, 59);
    assert_true(last.pred.valid);
    /* the same bar again: its prediction was lost, the same one goes again */
    size_t before = l.n;
    send_bar(&p.a, 59, c, 60);
    assert_true(sent(&l, before, SW_PRED, 0, &again));
    assert_int_equal(again.cycle, 59);
    assert_true(again.pred.expected == last.pred.expected);
    assert_int_equal(p.a.rep.stale, 1);
    /* it votes for an order its prediction shares, against one it contradicts */
    uint64_t me = p.a.id;
    hv_side with = last.pred.expected > 0 ? HV_SIDE_BUY : HV_SIDE_SELL;
    hv_side against = with == HV_SIDE_BUY ? HV_SIDE_SELL : HV_SIDE_BUY;
    sw_msg req = vote_request(59, with, &me, 1), v, v2;
    before = l.n;
    assert_int_equal(feed(&p.a, &req, id_of(SW_ROLE_COORD, 0), 61), 0);
    assert_true(sent(&l, before, SW_VOTE, 0, &v));
    assert_int_equal(v.vote.v.choice, HV_CHOICE_APPROVE);
    assert_int_equal(v.vote.v.voter, me);
    assert_int_equal(hv_vote_mac_verify(&v.vote.v, p.a.keys.mac), 0);
    /* asked again: the same vote, byte for byte (never an equivocation) */
    assert_int_equal(feed(&p.a, &req, id_of(SW_ROLE_COORD, 0), 62), 0);
    assert_true(sent(&l, before, SW_VOTE, 1, &v2));
    assert_memory_equal(v.vote.v.sig, v2.vote.v.sig, HV_VOTE_SIG_BYTES);
    req = vote_request(59, against, &me, 1);
    req.vreq.id = 61;
    before = l.n;
    assert_int_equal(feed(&p.a, &req, id_of(SW_ROLE_COORD, 0), 63), 0);
    assert_true(sent(&l, before, SW_VOTE, 0, &v));
    assert_int_equal(v.vote.v.choice, HV_CHOICE_REJECT);
    /* a proposal it is not a voter of gets no vote */
    uint64_t other = me + 1;
    req = vote_request(59, with, &other, 1);
    req.vreq.id = 62;
    before = l.n;
    assert_int_equal(feed(&p.a, &req, id_of(SW_ROLE_COORD, 0), 64), 0);
    assert_int_equal(count(&l, before, SW_VOTE), 0);
    /* bars that never came are filled with the last close: the next prediction is for 63 */
    before = l.n;
    send_bar(&p.a, 63, c, 65);
    assert_true(sent(&l, before, SW_PRED, 0, &v));
    assert_int_equal(v.cycle, 63);
    assert_int_equal(p.count, 64);
    hv__sw_pattern_fini(&p);
}

/* ---- Risk -------------------------------------------------------------------------------------
 */

static void send_state(sw_agent *a, uint64_t cycle, int64_t position, double close, uint64_t now)
{
    sw_msg m = msg(SW_STATE, cycle);
    m.state.position = position;
    m.state.close = close;
    m.state.cash = 1e6;
    m.state.equity = 1e6;
    assert_int_equal(feed(a, &m, id_of(SW_ROLE_EXEC, 0), now), 0);
}

static void send_decision(sw_agent *a, uint64_t id, int outcome, uint64_t now)
{
    sw_msg m = msg(SW_DECISION, id - 1);
    m.decision.proposal_id = id;
    m.decision.outcome = (uint8_t)outcome;
    m.decision.rule = HV_RULE_BFT;
    assert_int_equal(feed(a, &m, id_of(SW_ROLE_COORD, 0), now), 0);
}

static void risk_votes_only_once_the_state_of_the_cycle_is_there(void **state)
{
    (void)state;
    sw_env e = env(SW_ROLE_RISK, 0);
    e.cfg.limits.position_max = 150;
    sw_risk r;
    rec_link l;
    assert_int_equal(hv__sw_risk_init(&r, &e), 0);
    attach(&r.a, &l);
    send_state(&r.a, 4, 0, 100, 1);
    assert_int_equal(count(&l, 0, SW_RISKREP), 1);
    uint64_t me = r.a.id;
    sw_msg req = vote_request(5, HV_SIDE_BUY, &me, 1), out;
    assert_int_equal(feed(&r.a, &req, id_of(SW_ROLE_COORD, 0), 2), 0);
    assert_int_equal(count(&l, 0, SW_VOTE), 0); /* the state of cycle 5 has not come */
    /* the decision overtakes: it waits too */
    send_decision(&r.a, 6, HV_OUTCOME_ACCEPTED, 3);
    assert_int_equal(count(&l, 0, SW_ORDER), 0);
    send_state(&r.a, 5, 0, 101, 4);
    assert_true(sent(&l, 0, SW_VOTE, 0, &out));
    assert_int_equal(out.vote.v.choice, HV_CHOICE_APPROVE);
    assert_true(sent(&l, 0, SW_ORDER, 0, &out));
    assert_int_equal(out.order.proposal_id, 6);
    assert_int_equal(out.order.order.qty, 100);
    /* the same decision again (the order was lost): the same order again */
    size_t before = l.n;
    send_decision(&r.a, 6, HV_OUTCOME_ACCEPTED, 5);
    assert_true(sent(&l, before, SW_ORDER, 0, &out));
    assert_int_equal(out.order.proposal_id, 6);
    /* an order past the position limit: it votes no, and the binding check refuses it */
    send_state(&r.a, 6, 100, 101, 6);
    req = vote_request(6, HV_SIDE_BUY, &me, 1);
    before = l.n;
    assert_int_equal(feed(&r.a, &req, id_of(SW_ROLE_COORD, 0), 7), 0);
    assert_true(sent(&l, before, SW_VOTE, 0, &out));
    assert_int_equal(out.vote.v.choice, HV_CHOICE_REJECT);
    send_decision(&r.a, 7, HV_OUTCOME_ACCEPTED, 8);
    assert_true(sent(&l, before, SW_ORDER_RESULT, 0, &out));
    assert_int_equal(out.result.rc, HV_ELIMIT);
    assert_int_equal(count(&l, before, SW_ORDER), 0);
    /* a rejected proposal goes nowhere */
    send_state(&r.a, 7, 100, 101, 9);
    req = vote_request(7, HV_SIDE_SELL, &me, 1);
    before = l.n;
    assert_int_equal(feed(&r.a, &req, id_of(SW_ROLE_COORD, 0), 10), 0);
    send_decision(&r.a, 8, HV_OUTCOME_REJECTED, 11);
    assert_int_equal(count(&l, before, SW_ORDER) + count(&l, before, SW_ORDER_RESULT), 0);
    hv__sw_risk_fini(&r);
}

/* ---- Strategy ---------------------------------------------------------------------------------
 */

static void strategy_inputs(sw_agent *a, uint64_t cycle, double expected, uint64_t now)
{
    for (uint32_t i = 0; i < 4; i++) {
        sw_msg p = msg(SW_PRED, cycle);
        p.pred.agent = i;
        p.pred.valid = 1;
        p.pred.expected = expected;
        p.pred.agreement = 0.8;
        assert_int_equal(feed(a, &p, id_of(SW_ROLE_PATTERN, i), now), 0);
    }
    sw_msg r = msg(SW_RISKREP, cycle);
    r.risk.valid = 1;
    assert_int_equal(feed(a, &r, id_of(SW_ROLE_RISK, 0), now), 0);
}

static void the_strategy_signals_once_every_input_is_there(void **state)
{
    (void)state;
    sw_env e = env(SW_ROLE_STRATEGY, 0);
    sw_strategy s;
    rec_link l;
    assert_int_equal(hv__sw_strategy_init(&s, &e), 0);
    attach(&s.a, &l);
    strategy_inputs(&s.a, 0, 0.01, 1);
    assert_int_equal(l.n, 0); /* no state yet */
    send_state(&s.a, 0, 0, 100, 2);
    sw_msg out;
    assert_true(sent(&l, 0, SW_PROPOSE, 0, &out));
    assert_int_equal(out.strat.order.side, HV_SIDE_BUY);
    assert_int_equal(out.strat.order.qty, 100);
    assert_int_equal(out.strat.order.action, HV_ACTION_POSITION_CHANGE);
    /* a repeated input of a decided cycle: the same signal again */
    size_t before = l.n;
    send_state(&s.a, 0, 0, 100, 3);
    assert_true(sent(&l, before, SW_PROPOSE, 0, &out));
    assert_int_equal(out.cycle, 0);
    /* cycle 1 misses its inputs; cycle 2's arrive: it moves on and holds (already long) */
    strategy_inputs(&s.a, 1, 0.01, 4);
    strategy_inputs(&s.a, 2, 0.0, 5);
    send_state(&s.a, 2, 100, 100, 6);
    assert_true(sent(&l, 0, SW_HOLD, 0, &out));
    assert_int_equal(out.cycle, 2);
    assert_int_equal(count(&l, 0, SW_PROPOSE), 2);
}

/* ---- Execution ----------------------------------------------------------------------------------
 */

static void execution_never_executes_an_order_twice(void **state)
{
    (void)state;
    sw_env e = env(SW_ROLE_EXEC, 0);
    sw_venue v;
    assert_int_equal(hv__sw_venue_init(&v, &e.cfg), 0);
    e.venue = &v;
    sw_exec x;
    rec_link l;
    assert_int_equal(hv__sw_exec_init(&x, &e), 0);
    attach(&x.a, &l);
    send_bar(&x.a, 0, 100, 1);
    sw_msg out;
    assert_true(sent(&l, 0, SW_STATE, 0, &out));
    assert_true(out.state.close == 100);
    sw_msg o = msg(SW_ORDER, 0);
    o.order.proposal_id = 1;
    o.order.order = (sw_order){ .side = HV_SIDE_BUY, .action = 2, .qty = 100, .ref_price = 100 };
    assert_int_equal(feed(&x.a, &o, id_of(SW_ROLE_RISK, 0), 2), 0);
    assert_true(sent(&l, 0, SW_ORDER_RESULT, 0, &out));
    assert_int_equal(out.result.rc, 0);
    uint64_t order_id = out.result.order_id;
    assert_true(order_id > 0);
    /* the same order again: the first answer again, not a second order */
    assert_int_equal(feed(&x.a, &o, id_of(SW_ROLE_RISK, 0), 3), 0);
    assert_true(sent(&l, 0, SW_ORDER_RESULT, 1, &out));
    assert_int_equal(out.result.order_id, order_id);
    hv_exchange_stats xs;
    hv_exchange_stats_get(v.x, &xs);
    assert_int_equal(xs.submitted, 1);
    /* a repeated bar sends the same state again and trades nothing */
    size_t before = l.n;
    send_bar(&x.a, 0, 100, 4);
    assert_true(sent(&l, before, SW_STATE, 0, &out));
    /* the next bar fills the order; the bar after delivers the fill: reports, then the state
     * with the position */
    send_bar(&x.a, 1, 101, 5);
    send_bar(&x.a, 2, 102, 6);
    assert_true(count(&l, before, SW_CONFIRM) >= 2); /* ack and fill */
    assert_true(sent(&l, before, SW_STATE, 2, &out));
    assert_int_equal(out.state.position, 100);
    /* a new agent on the same venue (a restart) still refuses the old order */
    sw_exec y;
    rec_link l2;
    assert_int_equal(hv__sw_exec_init(&y, &e), 0);
    attach(&y.a, &l2);
    assert_int_equal(feed(&y.a, &o, id_of(SW_ROLE_RISK, 0), 6), 0);
    hv_exchange_stats_get(v.x, &xs);
    assert_int_equal(xs.submitted, 1);
    /* FINISH: everything delivered, then FINISHED; STOP: the curve stream, then the report */
    sw_msg fin = msg(SW_FINISH, 3);
    assert_int_equal(feed(&x.a, &fin, id_of(SW_ROLE_COORD, 0), 7), 0);
    assert_true(sent(&l, before, SW_FINISHED, 0, &out));
    sw_msg stop = msg(SW_STOP, 3);
    before = l.n;
    assert_int_equal(feed(&x.a, &stop, id_of(SW_ROLE_COORD, 0), 8), 0);
    assert_true(count(&l, before, SW_CURVE) >= 3); /* start, data, end */
    assert_true(sent(&l, before, SW_REPORT, 0, &out));
    assert_int_equal(out.report.portfolio.position, 100);
    assert_int_equal(out.report.exchange.submitted, 1);
    hv__sw_venue_fini(&v);
}

/* ---- The coordinator ----------------------------------------------------------------------------
 */

typedef struct coord_fx {
    sw_coord c;
    rec_link l;
    sw_keys keys[5]; /* the voters' keys: patterns 0..3, risk */
} coord_fx;

static void join_all(coord_fx *f, uint64_t now)
{
    static const int roles[] = { SW_ROLE_MD,       SW_ROLE_PATTERN, SW_ROLE_PATTERN,
                                 SW_ROLE_PATTERN,  SW_ROLE_PATTERN, SW_ROLE_RISK,
                                 SW_ROLE_STRATEGY, SW_ROLE_EXEC };
    static const uint32_t index[] = { 0, 0, 1, 2, 3, 0, 0, 0 };
    for (int i = 0; i < 8; i++) {
        sw_msg j = msg(SW_JOIN, 0);
        j.join.id = id_of(roles[i], index[i]);
        j.join.role = (uint32_t)roles[i];
        j.join.index = index[i];
        j.join.auth = HV_SWARM_AUTH_MAC;
        int voter = roles[i] == SW_ROLE_PATTERN || roles[i] == SW_ROLE_RISK;
        if (voter) {
            sw_keys *k = &f->keys[roles[i] == SW_ROLE_RISK ? 4 : index[i]];
            assert_int_equal(hv__sw_derive_keys(1, j.join.id, k), 0);
            memcpy(j.join.pk, k->pk, sizeof(j.join.pk));
            memcpy(j.join.mac, k->mac, sizeof(j.join.mac));
        }
        assert_int_equal(feed(&f->c.a, &j, j.join.id, now), 0);
    }
}

static coord_fx *coord_setup(void)
{
    coord_fx *f = calloc(1, sizeof(*f));
    sw_env e = env(SW_ROLE_COORD, 0);
    e.cfg.proposal_timeout_ns = 1000;
    e.cfg.cycle_timeout_ns = 100000;
    e.cfg.heartbeat_ns = 10000;
    assert_int_equal(hv__sw_coord_init(&f->c, &e, NULL, NULL), 0);
    attach(&f->c.a, &f->l);
    hv_actor *x = &f->c.a.actor;
    assert_int_equal(x->ops->start(x, 0), 0);
    return f;
}

static void vote(coord_fx *f, uint32_t who, uint64_t id, hv_choice choice, uint64_t now)
{
    sw_msg req;
    assert_true(sent(&f->l, 0, SW_VOTE_REQ, 0, &req));
    sw_msg v = msg(SW_VOTE, id - 1);
    uint64_t voter = who == 4 ? id_of(SW_ROLE_RISK, 0) : id_of(SW_ROLE_PATTERN, who);
    v.vote.v = (hv_vote){ .proposal_id = id, .voter = voter, .choice = (uint8_t)choice };
    memcpy(v.vote.v.payload_hash, req.vreq.hash, HV_PAYLOAD_HASH_BYTES);
    v.vote.auth = HV_SWARM_AUTH_MAC;
    assert_int_equal(hv_vote_mac(&v.vote.v, f->keys[who].mac), 0);
    assert_int_equal(feed(&f->c.a, &v, voter, now), 0);
}

static void the_coordinator_starts_once_every_agent_joined_and_runs_the_cycle(void **state)
{
    (void)state;
    coord_fx *f = coord_setup();
    sw_msg out;
    join_all(f, 5);
    assert_int_equal(count(&f->l, 0, SW_WELCOME), 8);
    assert_true(sent(&f->l, 0, SW_NEXT, 0, &out));
    assert_int_equal(out.cycle, 0);
    /* hold: the next cycle */
    sw_msg h = msg(SW_HOLD, 0);
    assert_int_equal(feed(&f->c.a, &h, id_of(SW_ROLE_STRATEGY, 0), 10), 0);
    assert_true(sent(&f->l, 0, SW_NEXT, 1, &out));
    assert_int_equal(out.cycle, 1);
    /* propose: a vote request with a deadline; four approvals decide it early */
    sw_msg p = msg(SW_PROPOSE, 1);
    p.strat.order = (sw_order){ .side = HV_SIDE_BUY, .action = 2, .qty = 100, .ref_price = 1 };
    assert_int_equal(feed(&f->c.a, &p, id_of(SW_ROLE_STRATEGY, 0), 20), 0);
    assert_true(sent(&f->l, 0, SW_VOTE_REQ, 0, &out));
    assert_int_equal(out.vreq.id, 2);
    assert_int_equal(out.vreq.deadline_ns, 20 + 1000);
    assert_int_equal(out.vreq.nvoters, 5);
    for (uint32_t i = 0; i < 4; i++)
        vote(f, i, 2, HV_CHOICE_APPROVE, 30);
    assert_true(sent(&f->l, 0, SW_DECISION, 0, &out));
    assert_int_equal(out.decision.outcome, HV_OUTCOME_ACCEPTED);
    /* the order's result ends the cycle */
    sw_msg r = msg(SW_ORDER_RESULT, 1);
    r.result.proposal_id = 2;
    r.result.order_id = 1;
    assert_int_equal(feed(&f->c.a, &r, id_of(SW_ROLE_EXEC, 0), 40), 0);
    assert_true(sent(&f->l, 0, SW_NEXT, 2, &out));
    assert_int_equal(f->c.stats.orders_sent, 1);
    assert_int_equal(f->c.stats.cycles, 2);
    hv__sw_coord_fini(&f->c);
    free(f);
}

static void a_proposal_without_enough_votes_ends_at_its_deadline_and_the_run_goes_on(void **state)
{
    (void)state;
    coord_fx *f = coord_setup();
    hv_actor *x = &f->c.a.actor;
    join_all(f, 5);
    sw_msg p = msg(SW_PROPOSE, 0), out;
    p.strat.order = (sw_order){ .side = HV_SIDE_SELL, .action = 2, .qty = 100, .ref_price = 1 };
    assert_int_equal(feed(&f->c.a, &p, id_of(SW_ROLE_STRATEGY, 0), 10), 0);
    vote(f, 0, 1, HV_CHOICE_APPROVE, 11);
    vote(f, 1, 1, HV_CHOICE_APPROVE, 12);
    vote(f, 2, 1, HV_CHOICE_APPROVE, 13); /* two voters never answer */
    assert_int_equal(x->ops->next_expiry(x), 10 + 1000);
    assert_int_equal(x->ops->on_expiry(x, 10 + 1000), 0);
    assert_true(sent(&f->l, 0, SW_DECISION, 0, &out));
    assert_int_equal(out.decision.outcome, HV_OUTCOME_NO_QUORUM);
    assert_true(sent(&f->l, 0, SW_NEXT, 1, &out));
    assert_int_equal(f->c.stats.no_quorum, 1);
    /* a vote after the deadline is counted as late */
    vote(f, 3, 1, HV_CHOICE_APPROVE, 1100);
    assert_int_equal(f->c.stats.votes_late, 1);
    hv__sw_coord_fini(&f->c);
    free(f);
}

static void an_unanswered_request_is_sent_again_and_a_dead_cycle_ends_as_stalled(void **state)
{
    (void)state;
    coord_fx *f = coord_setup();
    hv_actor *x = &f->c.a.actor;
    join_all(f, 5);
    assert_int_equal(count(&f->l, 0, SW_NEXT), 1);
    /* no signal for a heartbeat: NEXT again, the same cycle */
    assert_int_equal(x->ops->next_expiry(x), 5 + 10000);
    assert_int_equal(x->ops->on_expiry(x, 5 + 10000), 0);
    sw_msg out;
    assert_true(sent(&f->l, 0, SW_NEXT, 1, &out));
    assert_int_equal(out.cycle, 0);
    assert_int_equal(f->c.stats.requests_resent, 1);
    /* no signal until the cycle's deadline: ended as stalled, the next cycle begins */
    uint64_t t = 5 + 100000;
    while (x->ops->next_expiry(x) < t)
        assert_int_equal(x->ops->on_expiry(x, x->ops->next_expiry(x)), 0);
    assert_int_equal(x->ops->on_expiry(x, t), 0);
    assert_int_equal(f->c.stats.cycles_stalled, 1);
    size_t n = count(&f->l, 0, SW_NEXT);
    assert_true(sent(&f->l, 0, SW_NEXT, n - 1, &out));
    assert_int_equal(out.cycle, 1);
    hv__sw_coord_fini(&f->c);
    free(f);
}

/* ---- A new leader's coordinator takes a run over from the log ------------------------------ */

typedef struct resume_fx {
    sw_coord c;
    rec_link l;
    hv_log_fsm *f;
    logw w;
} resume_fx;

static const int fx_roles[] = { SW_ROLE_MD,      SW_ROLE_PATTERN, SW_ROLE_PATTERN,  SW_ROLE_PATTERN,
                                SW_ROLE_PATTERN, SW_ROLE_RISK,    SW_ROLE_STRATEGY, SW_ROLE_EXEC };
static const uint32_t fx_index[] = { 0, 0, 1, 2, 3, 0, 0, 0 };

static void log_put(resume_fx *x, hv_log_entry *e)
{
    assert_int_equal(logw_put(&x->w, e), 0);
    assert_int_equal(hv_log_fsm_apply(x->f, x->w.buf, x->w.len), 0);
}

static void log_cycle(resume_fx *x, int type, uint64_t cycle)
{
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    if (type == HV_LOG_CYCLE) {
        e.cycle.cycle = cycle;
        e.cycle.bar = bar((int)cycle, 100.0 + (double)cycle);
    } else {
        e.end.cycle = cycle;
    }
    log_put(x, &e);
}

static void log_decision(resume_fx *x, uint64_t cycle, int outcome)
{
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_DECISION;
    e.decision.cycle = cycle;
    e.decision.proposer = id_of(SW_ROLE_STRATEGY, 0);
    e.decision.action = 2;
    e.decision.order = (hv_log_order){ HV_SIDE_BUY, 2, 100, 100.0 + (double)cycle, 100 };
    e.decision.d.proposal_id = cycle + 1;
    e.decision.d.outcome = (uint8_t)outcome;
    log_put(x, &e);
}

/* A log with the genesis, every agent registered (signatures), cycle 0 done and cycle 1 begun;
 * the coordinator (signatures) built on the recording link. */
static resume_fx *resume_setup(void)
{
    resume_fx *x = calloc(1, sizeof(*x));
    assert_int_equal(hv_log_fsm_new(NULL, &x->f), 0);
    hv_log_entry e;
    log_genesis(&e, 10);
    log_put(x, &e);
    for (int i = 0; i < 8; i++) {
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_MEMBER;
        e.member = (hv_log_member){ .id = id_of(fx_roles[i], fx_index[i]),
                                    .incarnation = 1,
                                    .role = (uint32_t)fx_roles[i],
                                    .index = fx_index[i],
                                    .auth = HV_SWARM_AUTH_SIG };
        sw_keys k;
        assert_int_equal(hv__sw_derive_keys(1, e.member.id, &k), 0);
        memcpy(e.member.pk, k.pk, sizeof(e.member.pk));
        log_put(x, &e);
    }
    log_cycle(x, HV_LOG_CYCLE, 0);
    log_cycle(x, HV_LOG_CYCLE_END, 0);
    log_cycle(x, HV_LOG_CYCLE, 1);
    sw_env en = env(SW_ROLE_COORD, 0);
    en.vote_auth = HV_SWARM_AUTH_SIG;
    en.cfg.cycle_timeout_ns = 100000;
    en.cfg.heartbeat_ns = 10000;
    assert_int_equal(hv__sw_coord_init(&x->c, &en, NULL, NULL), 0);
    attach(&x->c.a, &x->l);
    return x;
}

static void resume_start(resume_fx *x)
{
    assert_int_equal(hv__sw_coord_resume(&x->c, x->f, NULL), 0);
    hv_actor *a = &x->c.a.actor;
    assert_int_equal(a->ops->start(a, 0), 0);
}

/* Every registered agent is heard from again (a heartbeat); nothing is sent before the last. */
static void heartbeats(resume_fx *x, uint64_t now)
{
    for (int i = 0; i < 8; i++) {
        assert_int_equal(x->l.n, 0);
        sw_msg h = msg(SW_HEARTBEAT, 1);
        assert_int_equal(feed(&x->c.a, &h, id_of(fx_roles[i], fx_index[i]), now), 0);
    }
}

static void resume_free(resume_fx *x)
{
    hv__sw_coord_fini(&x->c);
    hv_log_fsm_free(x->f);
    free(x);
}

static void a_takeover_runs_an_undecided_cycle_again_once_every_agent_is_heard(void **state)
{
    (void)state;
    resume_fx *x = resume_setup();
    resume_start(x);
    assert_true(x->c.resume.active);
    assert_int_equal(x->c.resume.members, 8);
    assert_int_equal(x->c.stats.cycles, 1); /* cycle 0 is done */
    heartbeats(x, 5);
    sw_msg out;
    assert_true(sent(&x->l, 0, SW_NEXT, 0, &out)); /* cycle 1 again, not cycle 2 */
    assert_int_equal(out.cycle, 1);
    assert_int_equal(count(&x->l, 0, SW_WELCOME), 0); /* registered already */
    assert_int_equal(x->c.stats.agents_rejoined, 8);
    assert_int_equal(x->c.resume.again, 2);
    resume_free(x);
}

static void a_takeover_sends_a_decision_without_result_again_and_goes_on(void **state)
{
    (void)state;
    resume_fx *x = resume_setup();
    log_decision(x, 1, HV_OUTCOME_ACCEPTED);
    resume_start(x);
    assert_true(x->c.resume.pending);
    heartbeats(x, 5);
    sw_msg out;
    assert_true(sent(&x->l, 0, SW_DECISION, 0, &out));
    assert_int_equal(out.decision.proposal_id, 2);
    assert_int_equal(out.decision.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(out.decision.rule, HV_RULE_BFT); /* the table's, for a position change */
    assert_int_equal(count(&x->l, 0, SW_NEXT), 0);
    sw_msg r = msg(SW_ORDER_RESULT, 1); /* the execution agent's first answer, by tag */
    r.result.proposal_id = 2;
    r.result.order_id = 1;
    assert_int_equal(feed(&x->c.a, &r, id_of(SW_ROLE_EXEC, 0), 10), 0);
    assert_true(sent(&x->l, 0, SW_NEXT, 0, &out));
    assert_int_equal(out.cycle, 2);
    assert_int_equal(x->c.stats.cycles, 2);
    resume_free(x);
}

static void a_takeover_ends_a_decided_cycle_and_refuses_a_registry_not_its_swarm(void **state)
{
    (void)state;
    resume_fx *x = resume_setup();
    log_decision(x, 1, HV_OUTCOME_REJECTED);
    resume_start(x);
    assert_true(x->c.resume.decided && !x->c.resume.pending);
    heartbeats(x, 5);
    sw_msg out;
    assert_true(sent(&x->l, 0, SW_NEXT, 0, &out));
    assert_int_equal(out.cycle, 2); /* cycle 1 ended: the next one */
    resume_free(x);
    /* a member registered under another role than this swarm's */
    x = resume_setup();
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_MEMBER;
    e.member = (hv_log_member){ .id = id_of(SW_ROLE_PATTERN, 7),
                                .role = SW_ROLE_RISK,
                                .auth = HV_SWARM_AUTH_SIG };
    log_put(x, &e);
    assert_int_equal(hv__sw_coord_resume(&x->c, x->f, NULL), HV_EBADFIELD);
    assert_non_null(strstr(x->c.error, "the log registers agent"));
    resume_free(x);
}

static void joins_that_do_not_fit_are_refused_and_a_missing_agent_is_named(void **state)
{
    (void)state;
    coord_fx *f = coord_setup();
    hv_actor *x = &f->c.a.actor;
    sw_msg j = msg(SW_JOIN, 0);
    j.join.id = id_of(SW_ROLE_PATTERN, 0);
    j.join.role = SW_ROLE_RISK; /* the id of pattern-0 with another role */
    j.join.auth = HV_SWARM_AUTH_MAC;
    assert_int_equal(feed(&f->c.a, &j, j.join.id, 1), 0);
    j.join.id = HV_SWARM_ID(9, 99); /* nobody the coordinator expects */
    j.join.role = SW_ROLE_PATTERN;
    assert_int_equal(feed(&f->c.a, &j, j.join.id, 2), 0);
    assert_int_equal(f->c.stats.joins_refused, 2);
    assert_int_equal(count(&f->l, 0, SW_WELCOME), 0);
    /* nobody joins before the stall timeout: the run fails, naming who never came */
    uint64_t t = x->ops->next_expiry(x);
    assert_int_equal(t, f->c.a.env.cfg.stall_timeout_ns);
    assert_int_equal(x->ops->on_expiry(x, t), HV_ETIMEDOUT);
    assert_non_null(strstr(f->c.error, "pattern-2 (never joined)"));
    hv__sw_coord_fini(&f->c);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_agent_joins_until_welcomed_then_says_it_is_alive),
        cmocka_unit_test(market_data_answers_each_request_with_its_bar_or_the_end),
        cmocka_unit_test(a_pattern_agent_predicts_repeats_a_lost_prediction_and_votes_its_view),
        cmocka_unit_test(risk_votes_only_once_the_state_of_the_cycle_is_there),
        cmocka_unit_test(the_strategy_signals_once_every_input_is_there),
        cmocka_unit_test(execution_never_executes_an_order_twice),
        cmocka_unit_test(the_coordinator_starts_once_every_agent_joined_and_runs_the_cycle),
        cmocka_unit_test(a_takeover_runs_an_undecided_cycle_again_once_every_agent_is_heard),
        cmocka_unit_test(a_takeover_sends_a_decision_without_result_again_and_goes_on),
        cmocka_unit_test(a_takeover_ends_a_decided_cycle_and_refuses_a_registry_not_its_swarm),
        cmocka_unit_test(a_proposal_without_enough_votes_ends_at_its_deadline_and_the_run_goes_on),
        cmocka_unit_test(an_unanswered_request_is_sent_again_and_a_dead_cycle_ends_as_stalled),
        cmocka_unit_test(joins_that_do_not_fit_are_refused_and_a_missing_agent_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

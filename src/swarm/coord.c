/*
 * The coordinator: drives the cycle barrier, opens every proposal in the consensus engine,
 * counts the votes as they arrive, publishes the decision, collects the order's fate and the
 * execution reports, and replays each finished cycle's timeline into the profiler.
 */
#include <string.h>

#include <hivewire/bus.h>

#include "swarm/swarm_int.h"

static uint64_t sim_ns(const hv_swarm *s, uint64_t cycle)
{
    return cycle * s->cfg.bar_ns;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* ---- Execution reports ---------------------------------------------------------------------- */

static void on_fill(hv_swarm *s, const sw_msg *m)
{
    const hv_exec_report *r = &m->confirm;
    hv_swarm_stats *st = &s->stats;
    st->fills++;
    uint64_t h = st->trades_hash;
    int32_t side = (int32_t)r->side;
    h = fnv(h, &r->order_id, sizeof(r->order_id));
    h = fnv(h, &side, sizeof(side));
    h = fnv(h, &r->fill_qty, sizeof(r->fill_qty));
    h = fnv(h, &r->fill_price, sizeof(r->fill_price));
    h = fnv(h, &r->fee, sizeof(r->fee));
    st->trades_hash = h;
    hv_profiler_record(s->prof, s->ext_fill, r->deliver_ns - r->submit_ns);
    if (s->ntrades == s->trades_cap)
        return; /* the list is bounded; the hash and counts cover every fill */
    hv_swarm_trade *t = &s->trades[s->ntrades++];
    t->cycle = m->cycle;
    t->order_cycle = r->client_tag - 1; /* the tag is the proposal id, cycle + 1 */
    t->order_id = r->order_id;
    t->side = r->side;
    t->qty = r->fill_qty;
    t->price = r->fill_price;
    t->fee = r->fee;
}

static void on_confirm(hv_swarm *s, const sw_msg *m)
{
    uint64_t t0 = hv_now_ns();
    s->stats.confirmations++;
    if (m->confirm.type == HV_EXEC_ACK)
        hv_profiler_record(s->prof, s->ext_ack, m->confirm.deliver_ns - m->confirm.submit_ns);
    if (m->confirm.type == HV_EXEC_FILL)
        on_fill(s, m);
    s->cur.conf_local_ns += hv_now_ns() - t0;
}

/* ---- Votes -----------------------------------------------------------------------------------
 *
 * A vote is queued in the verifier on arrival (verify.c); the engine (created with
 * HV_CONSENSUS_SIGS_PREVERIFIED) counts it only once the coordinator side has checked its
 * Ed25519 signature, votes being handed over in arrival order. Votes on non-BFT proposals carry
 * a MAC that the engine verifies itself; votes on a proposal the engine does not know go
 * straight to the engine, which refuses them.
 */

static int voter_index(const hv_swarm *s, uint64_t voter)
{
    for (uint32_t i = 0; i < s->nvoters; i++)
        if (s->voters[i].id == voter)
            return (int)i;
    return -1;
}

static const uint8_t *voter_pk(const hv_swarm *s, uint64_t voter)
{
    int i = voter_index(s, voter);
    return i < 0 ? NULL : s->keys[i].pk;
}

/*
 * How the coordinator treats a vote: SW_CHECK_NONE when it is not on a known BFT proposal (the
 * engine checks its MAC or refuses it), SW_CHECK_SIG when its signature must be verified before
 * the engine sees it, SW_CHECK_LATE when the proposal is already decided and the vote cannot be
 * evidence: the engine would only answer "closed" to a vote that does not contradict what the
 * same voter had counted (docs/SWARM.md, voting), so verifying it is wasted. Without a record
 * of the proposal's counted votes (an older proposal) it is verified, as any vote.
 */
int hv__sw_vote_check(const hv_swarm *s, const hv_vote *v)
{
    hv_proposal_status ps;
    if (hv_consensus_status(s->cons, v->proposal_id, &ps) != 0 || ps.rule != HV_RULE_BFT)
        return SW_CHECK_NONE;
    if (ps.outcome == HV_OUTCOME_PENDING || v->proposal_id != s->counted_id)
        return SW_CHECK_SIG;
    int i = voter_index(s, v->voter);
    if (i < 0)
        return SW_CHECK_SIG; /* unknown voter: refused as a bad vote, as before the decision */
    uint8_t counted = s->counted[i];
    return counted != 0 && counted != v->choice ? SW_CHECK_SIG : SW_CHECK_LATE;
}

static int still_needed(void *ud, const sw_vjob *j)
{
    return hv__sw_vote_check(ud, &j->v) == SW_CHECK_SIG;
}

void hv__sw_record_counted(hv_swarm *s, const hv_vote *v)
{
    int i = voter_index(s, v->voter);
    if (v->proposal_id == s->counted_id && i >= 0)
        s->counted[i] = v->choice;
}

static void count_vote(hv_swarm *s, const hv_vote *v, uint64_t cycle)
{
    hv_decision d;
    memset(&d, 0, sizeof(d));
    int rc = hv_consensus_vote(s->cons, v, sim_ns(s, cycle), &d);
    if (rc == HV_EPROPOSALCLOSED) {
        s->stats.votes_late++;
        return;
    }
    if (rc != 0) {
        s->stats.votes_bad++;
        return;
    }
    s->stats.votes_counted++;
    hv__sw_record_counted(s, v);
    if (d.outcome != HV_OUTCOME_PENDING) /* the votes still queued for it may be dropped */
        hv__sw_verifier_drop(&s->verifier, still_needed, s);
    if (d.outcome != HV_OUTCOME_PENDING && s->cur.proposal && d.proposal_id == s->cur.cycle + 1) {
        s->cur.decided = 1;
        s->cur.decision = d;
        s->cur.t_dec = hv_now_ns();
    }
}

/* Hands every verified vote at the head of the queue to the engine, in arrival order. */
static void collect_votes(hv_swarm *s)
{
    const sw_vjob *j;
    while ((j = hv__sw_verifier_peek(&s->verifier)) != NULL) {
        if (j->check == SW_CHECK_LATE) { /* after the decision, not evidence: never verified */
            s->stats.votes_late++;
            s->stats.votes_late_unverified++;
        } else if (j->ok) {
            count_vote(s, &j->v, j->cycle);
        } else {
            s->stats.votes_bad++; /* bad signature or unknown voter: never reaches the engine */
        }
        hv__sw_verifier_pop(&s->verifier);
    }
}

static int wait_any(hv_swarm *s, uint64_t timeout_ns);

static int on_vote(hv_swarm *s, const sw_msg *m)
{
    const hv_vote *v = &m->vote.v;
    sw_verifier *vf = &s->verifier;
    uint64_t start = hv_now_ns();
    while (hv__sw_verifier_full(vf)) { /* the ring is full: finish its oldest jobs first */
        if (hv_now_ns() - start >= s->cfg.stall_timeout_ns)
            return HV_ETIMEDOUT;
        if (!hv__sw_verifier_run_one(vf)) {
            int rc = wait_any(s, s->cfg.stall_timeout_ns);
            if (rc != 0)
                return rc;
        }
        collect_votes(s);
    }
    hv__sw_verifier_push(vf, v, m->cycle, voter_pk(s, v->voter), hv__sw_vote_check(s, v));
    return 0;
}

static int on_result(hv_swarm *s, const sw_msg *m)
{
    if (m->result.proposal_id != s->cur.cycle + 1)
        return HV_ESTATE;
    s->cur.result = *m;
    s->cur.have_result = 1;
    return 0;
}

static int handle(hv_swarm *s, const sw_msg *m)
{
    switch (m->kind) {
    case SW_EOD:
        s->cur.eod = 1;
        return 0;
    case SW_HOLD:
    case SW_PROPOSE:
        if (m->cycle != s->cur.cycle || s->cur.have_out)
            return HV_ESTATE;
        s->cur.out = *m;
        s->cur.have_out = 1;
        s->cur.t_out = hv_now_ns();
        return 0;
    case SW_VOTE:
        return on_vote(s, m);
    case SW_ORDER_RESULT:
        return on_result(s, m);
    case SW_CONFIRM:
        on_confirm(s, m);
        return 0;
    case SW_FINISHED:
        s->finished = 1;
        return 0;
    case SW_ERROR:
        return m->error.code < 0 ? m->error.code : HV_ESTATE;
    default:
        return 0;
    }
}

/* Blocks until a message arrives or a verifier helper finishes a job (at most timeout_ns). */
static int wait_any(hv_swarm *s, uint64_t timeout_ns)
{
    int rc = hv__sw_verifier_wait(&s->verifier, s->coord->bus, timeout_ns);
    return rc == HV_ETIMEDOUT ? 0 : rc;
}

/*
 * Handles messages until *flag (or the end of data when eod_ok) is set; bounded by the stall
 * timeout. Between messages the coordinator verifies queued votes itself, and hands the
 * verified ones to the engine; it blocks only when its inbox is empty and nothing is left to
 * verify on this thread.
 */
static int wait_for(hv_swarm *s, const int *flag, int eod_ok)
{
    uint64_t start = hv_now_ns();
    for (;;) {
        collect_votes(s);
        if (*flag || (eod_ok && s->cur.eod))
            return 0;
        int fail = atomic_load(&s->fail_rc);
        if (fail != 0)
            return fail;
        uint64_t waited = hv_now_ns() - start;
        if (waited >= s->cfg.stall_timeout_ns)
            return HV_ETIMEDOUT;
        sw_msg m;
        int rc = hv__sw_recv_one(s->coord, &m, 0);
        if (rc == 0)
            rc = handle(s, &m);
        else if (rc == HV_ETIMEDOUT && !hv__sw_verifier_run_one(&s->verifier))
            rc = wait_any(s, s->cfg.stall_timeout_ns - waited);
        else if (rc == HV_ETIMEDOUT)
            rc = 0;
        if (rc < 0)
            return rc;
    }
}

/* ---- One cycle ------------------------------------------------------------------------------- */

static int open_proposal(hv_swarm *s)
{
    const sw_msg *out = &s->cur.out;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE_REQ;
    m.cycle = s->cur.cycle;
    m.vreq.id = s->cur.cycle + 1;
    m.vreq.order = out->strat.order;
    int rc = hv__sw_order_hash(&m.vreq.order, m.vreq.hash);
    if (rc != 0)
        return rc;
    hv_proposal p;
    memset(&p, 0, sizeof(p));
    p.id = m.vreq.id;
    p.proposer = out->sender;
    p.action = (uint32_t)out->strat.order.action;
    p.policy.rule = HV_RULE_AUTO;
    memcpy(p.payload_hash, m.vreq.hash, sizeof(p.payload_hash));
    p.voters = s->voters;
    p.nvoters = s->nvoters;
    p.deadline_ns = UINT64_MAX;
    if ((rc = hv_consensus_propose(s->cons, &p, sim_ns(s, s->cur.cycle))) != 0)
        return rc;
    s->counted_id = p.id;
    memset(s->counted, 0, sizeof(s->counted));
    hv_proposal_status ps;
    if ((rc = hv_consensus_status(s->cons, p.id, &ps)) != 0)
        return rc;
    m.vreq.rule = ps.rule;
    m.vreq.crit = ps.crit;
    m.vreq.nvoters = s->nvoters;
    for (uint32_t i = 0; i < s->nvoters; i++)
        m.vreq.voters[i] = s->voters[i].id;
    s->stats.proposals++;
    if (ps.rule < HV_RULE_COUNT)
        s->stats.rules_used[ps.rule]++;
    s->cur.proposal = 1;
    return hv__sw_send(s->coord, &m);
}

static void count_decision(hv_swarm *s, const hv_decision *d)
{
    if (d->outcome == HV_OUTCOME_ACCEPTED)
        s->stats.accepted++;
    else if (d->outcome == HV_OUTCOME_REJECTED)
        s->stats.rejected++;
    else
        s->stats.no_quorum++;
    if (d->reason == HV_REASON_EARLY)
        s->stats.decided_early++;
}

static void count_result(hv_swarm *s, const sw_msg *r)
{
    if (r->result.rc == 0) {
        s->stats.orders_sent++;
        s->stats.last_order_cycle = s->cur.cycle;
    } else if (r->result.rc == HV_ELIMIT)
        s->stats.orders_refused_limit++;
    else if (r->result.rc == HV_EHALTED)
        s->stats.orders_refused_halt++;
    else
        s->stats.orders_refused_exchange++;
}

static int decide(hv_swarm *s)
{
    int rc = open_proposal(s);
    if (rc == 0)
        rc = wait_for(s, &s->cur.decided, 0);
    if (rc != 0)
        return rc;
    count_decision(s, &s->cur.decision);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_DECISION;
    m.cycle = s->cur.cycle;
    m.decision = s->cur.decision;
    if ((rc = hv__sw_send(s->coord, &m)) != 0)
        return rc;
    if (s->cur.decision.outcome != HV_OUTCOME_ACCEPTED)
        return 0;
    if ((rc = wait_for(s, &s->cur.have_result, 0)) == 0)
        count_result(s, &s->cur.result);
    return rc;
}

/* Runs cycle `cycle`; *eod set when the market-data agent has no bar left. */
static int run_cycle(hv_swarm *s, uint64_t cycle, int *eod)
{
    memset(&s->cur, 0, sizeof(s->cur));
    s->cur.cycle = cycle;
    s->cur.t0 = hv_now_ns();
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_NEXT;
    m.cycle = cycle;
    int rc = hv__sw_send(s->coord, &m);
    if (rc == 0)
        rc = wait_for(s, &s->cur.have_out, 1);
    if (rc != 0 || s->cur.eod) {
        *eod = s->cur.eod;
        return rc;
    }
    if (s->cur.out.kind == SW_PROPOSE)
        rc = decide(s);
    s->cur.t_end = hv_now_ns();
    return rc;
}

/* ---- The timeline ------------------------------------------------------------------------------
 */

static void span(hv_swarm *s, int stage, uint64_t d)
{
    hv_profiler_begin(s->prof, stage);
    s->vclock += d;
    hv_profiler_end(s->prof, stage);
}

static uint64_t take(uint64_t *left, uint64_t want)
{
    uint64_t d = want < *left ? want : *left;
    *left -= d;
    return d;
}

/*
 * Replays the finished cycle on the profiler's clock: the cycle lasts exactly its measured
 * wall time; each stage gets the time it spent on the critical path (docs/SWARM.md), in path
 * order, and what is left is coordination over the bus. Work that ran in parallel (the pattern
 * agents, the VaR update, the execution agent's bar) is charged its CPU time, summed over the
 * agents, within the measured parallel section (scaled down if the sum exceeds it, as when two
 * cores run them at once); the rest of that section was spent waking agents and moving
 * messages, and is charged to the bus.
 */
static void replay(hv_swarm *s)
{
    const sw_cycle *c = &s->cur;
    const sw_trace *t = &c->out.strat.trace;
    uint64_t left = c->t_end - c->t0;
    uint64_t md = take(&left, t->md_ns);
    uint64_t par = take(&left, t->par_ns);
    uint64_t cpu = t->dtw_cpu_ns + t->var_cpu_ns + t->exec_cpu_ns;
    double scale = cpu > par ? (double)par / (double)cpu : 1.0;
    uint64_t p_var = (uint64_t)((double)t->var_cpu_ns * scale);
    uint64_t p_exec = (uint64_t)((double)t->exec_cpu_ns * scale);
    uint64_t p_dtw = (uint64_t)((double)t->dtw_cpu_ns * scale);
    if (p_var + p_exec + p_dtw > par)
        p_dtw = par - p_var - p_exec;
    left += par - (p_var + p_exec + p_dtw); /* waiting in the parallel section: the bus */
    uint64_t strat = take(&left, t->strat_ns);
    uint64_t cons = c->proposal ? take(&left, c->t_dec - c->t_out) : 0;
    uint64_t lim = c->have_result ? take(&left, c->result.result.risk_ns) : 0;
    uint64_t exe = c->have_result ? take(&left, c->result.result.exec_ns) : 0;
    uint64_t conf = take(&left, c->conf_local_ns);
    hv_profiler_cycle_begin(s->prof);
    span(s, s->st_md, md);
    span(s, s->st_dtw, p_dtw);
    span(s, s->st_var, p_var);
    span(s, s->st_conf, p_exec + conf);
    span(s, s->st_strat, strat);
    if (c->proposal)
        span(s, s->st_cons, cons);
    if (c->have_result) {
        span(s, s->st_lim, lim);
        span(s, s->st_exec, exe);
    }
    span(s, s->st_bus, left);
    hv_profiler_cycle_end(s->prof);
    hv_profiler_record(s->prof, s->ext_dtw_cpu, t->dtw_cpu_ns);
    hv_profiler_record(s->prof, s->ext_var_cpu, t->var_cpu_ns);
    hv_profiler_record(s->prof, s->ext_exec_cpu, t->exec_cpu_ns);
}

/* ---- The run -----------------------------------------------------------------------------------
 */

static int finish(hv_swarm *s, uint64_t cycle)
{
    memset(&s->cur, 0, sizeof(s->cur));
    s->cur.cycle = cycle;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_FINISH;
    m.cycle = cycle;
    int rc = hv__sw_send(s->coord, &m);
    if (rc == 0)
        rc = wait_for(s, &s->finished, 0);
    /* late votes still being verified are counted before the statistics are read */
    int drained = 0;
    while (rc == 0 && !drained) {
        if (!hv__sw_verifier_run_one(&s->verifier) && !hv__sw_verifier_empty(&s->verifier))
            rc = wait_any(s, s->cfg.stall_timeout_ns);
        collect_votes(s);
        drained = hv__sw_verifier_empty(&s->verifier);
    }
    return rc;
}

int hv__sw_coordinate(hv_swarm *s, hv_swarm_progress_fn progress, void *ud)
{
    uint64_t total = s->nbars;
    if (s->cfg.cycles_max > 0 && s->cfg.cycles_max < total)
        total = s->cfg.cycles_max;
    uint64_t start = hv_now_ns();
    int rc = 0, eod = 0;
    uint64_t cycle = 0;
    for (; cycle < total && rc == 0; cycle++) {
        rc = run_cycle(s, cycle, &eod);
        if (rc != 0 || eod)
            break;
        replay(s);
        s->stats.cycles++;
        if (progress != NULL && progress(ud, cycle + 1, total) != 0)
            break;
    }
    s->stats.wall_ns = hv_now_ns() - start;
    if (rc == 0)
        rc = finish(s, s->stats.cycles);
    return rc;
}

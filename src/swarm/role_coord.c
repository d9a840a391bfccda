/*
 * The coordinator: an event-driven state machine like the others. It registers the agents as
 * they join (their identities and vote keys), drives the cycle barrier, opens every proposal
 * in the consensus engine with a deadline, counts the votes as they arrive, publishes the
 * decision, collects the order's fate and the execution reports, replays each finished
 * cycle's timeline into the profiler, and at the end collects every agent's final report.
 *
 * Time: every deadline is on the clock the runner passes in (`now_ns`). A proposal still open
 * at its deadline ends as NO_QUORUM (or as the votes already decide it), and the run goes on;
 * a cycle whose signal or order result has not come by cycle_timeout_ns is ended as stalled;
 * only when no cycle has completed for stall_timeout_ns does the run fail, naming the agents
 * that went silent.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/sim_int.h"
#include "swarm/swarm_int.h"

#define FINISH_RETRY_NS 100000000ull /* FINISH / STOP sent again this often while unanswered */
#define LOST_AFTER      3u           /* heartbeats missed before an agent counts as lost */
#define TRADES_MAX      (1u << 20)   /* fills kept in the trade list (hash and counts: all) */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t hv__sw_trade_hash(uint64_t h, const hv_exec_report *r)
{
    int32_t side = (int32_t)r->side;
    h = fnv(h, &r->order_id, sizeof(r->order_id));
    h = fnv(h, &side, sizeof(side));
    h = fnv(h, &r->fill_qty, sizeof(r->fill_qty));
    h = fnv(h, &r->fill_price, sizeof(r->fill_price));
    return fnv(h, &r->fee, sizeof(r->fee));
}

static int fail_with(sw_coord *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_with(sw_coord *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof(c->error), fmt, ap);
    va_end(ap);
    c->failed = rc;
    return rc;
}

/* ---- The replicated log (sw_log_ops): nothing without one --------------------------------------
 */

static int log_append(sw_coord *c, hv_log_entry *e, uint64_t token)
{
    if (c->log == NULL)
        return 0;
    int rc = c->log->append(c->log_ud, e, token);
    return rc != 0 ? fail_with(c, rc, "the replicated log took no entry: %s", hv_strerror(rc)) : 0;
}

static int log_mark(sw_coord *c, int type, uint64_t n, uint8_t how)
{
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = (uint8_t)type;
    if (type == HV_LOG_CYCLE)
        e.cycle.cycle = n;
    else if (type == HV_LOG_CYCLE_END)
        e.end = (hv_log_cycle_end){ n, how };
    else
        e.finish.cycles = n;
    return log_append(c, &e, type == HV_LOG_FINISH ? SW_FINISH_TOKEN : 0);
}

static sw_member *member(sw_coord *c, uint64_t id)
{
    for (uint32_t i = 0; i < c->nmembers; i++)
        if (c->members[i].id == id)
            return &c->members[i];
    return NULL;
}

static const char *member_name(const sw_member *m, char *buf, size_t cap)
{
    if (m->role == SW_ROLE_PATTERN)
        snprintf(buf, cap, "pattern-%u", m->index);
    else
        snprintf(buf, cap, "%s", hv__sw_role_name(m->role));
    return buf;
}

static int publish(sw_coord *c, int kind, uint64_t cycle)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = kind;
    m.cycle = cycle;
    return hv__sw_send(&c->a, &m);
}

/* ---- Execution reports ------------------------------------------------------------------------
 */

static int keep_trade(sw_coord *c, const sw_msg *m)
{
    if (c->ntrades == c->trades_cap) {
        if (c->trades_cap == TRADES_MAX)
            return 0; /* the list is bounded; the hash and counts cover every fill */
        size_t cap = c->trades_cap ? c->trades_cap * 2 : 1024;
        cap = cap > TRADES_MAX ? TRADES_MAX : cap;
        hv_swarm_trade *t = realloc(c->trades, cap * sizeof(*t));
        if (t == NULL)
            return HV_ENOMEM;
        c->trades = t;
        c->trades_cap = cap;
    }
    const hv_exec_report *r = &m->confirm;
    hv_swarm_trade *t = &c->trades[c->ntrades++];
    memset(t, 0, sizeof(*t));
    t->cycle = m->cycle;
    t->order_cycle = r->client_tag - 1; /* the tag is the proposal id, cycle + 1 */
    t->order_id = r->order_id;
    t->side = r->side;
    t->qty = r->fill_qty;
    t->price = r->fill_price;
    t->fee = r->fee;
    t->exchange_ns = r->exchange_ns;
    t->proposal_id = r->client_tag;
    t->rule = -1;
    const hv_decision *d = &c->decided[r->client_tag % HV_SWARM_DECISIONS_KEPT];
    if (d->proposal_id == r->client_tag && r->client_tag != 0) {
        t->rule = d->rule;
        t->approvals = d->approvals;
        t->rejections = d->rejections;
        t->abstentions = d->abstentions;
        t->voters = d->eligible;
    }
    return 0;
}

static int on_confirm(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    const hv_exec_report *r = &m->confirm;
    hv_swarm_stats *st = &c->stats;
    uint64_t t0 = hv__sw_clock(&c->a);
    st->confirmations++;
    if (r->type == HV_EXEC_ACK)
        hv_profiler_record(c->prof, c->ext_ack, r->deliver_ns - r->submit_ns);
    int rc = 0;
    if (r->type == HV_EXEC_FILL) {
        st->fills++;
        st->trades_hash = hv__sw_trade_hash(st->trades_hash, r);
        hv_profiler_record(c->prof, c->ext_fill, r->deliver_ns - r->submit_ns);
        rc = keep_trade(c, m);
    }
    (void)now_ns;
    c->cur.conf_local_ns += hv__sw_clock(&c->a) - t0;
    return rc;
}

/* ---- Joining and liveness -----------------------------------------------------------------------
 */

static int start_cycles(sw_coord *c, uint64_t now_ns);
static int resume_cycles(sw_coord *c, uint64_t now_ns);

/* Every member joined (and, after a takeover, was heard from again): the run (re)starts. */
static int go_on_when_all_here(sw_coord *c, uint64_t now_ns)
{
    for (uint32_t i = 0; i < c->nmembers; i++)
        if (!c->members[i].joined || c->members[i].lost)
            return 0;
    return c->resume.active ? resume_cycles(c, now_ns) : start_cycles(c, now_ns);
}

static void note_event(sw_coord *c, const sw_member *mb, int back, uint64_t now_ns)
{
    if (back)
        c->stats.agents_rejoined++;
    else
        c->stats.agents_lost++;
    if (c->nevents == HV_SWARM_EVENTS_MAX)
        return;
    hv_swarm_event *e = &c->events[c->nevents++];
    e->t_ns = c->start_ns && now_ns > c->start_ns ? now_ns - c->start_ns : 0;
    e->cycle = c->cur.cycle;
    e->agent = mb->id;
    member_name(mb, e->name, sizeof(e->name));
    e->rejoined = back;
    /* told at once, not when the cycle it stalls ends */
    if (c->progress != NULL && c->phase == SW_PH_CYCLE &&
        c->progress(c->progress_ud, c->stats.cycles, c->total) != 0)
        c->stop_requested = 1;
}

static int on_join(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    sw_member *mb = member(c, m->join.id);
    if (mb == NULL || m->sender != m->join.id || (int)m->join.role != mb->role ||
        m->join.index != mb->index || m->join.auth != c->a.env.vote_auth) {
        c->stats.joins_refused++;
        return 0;
    }
    int voter =
        mb->role == SW_ROLE_PATTERN || (mb->role == SW_ROLE_RISK && c->a.env.cfg.risk_votes);
    if (voter && !mb->joined) {
        const uint8_t *mac = c->a.env.vote_auth == HV_SWARM_AUTH_MAC ? m->join.mac : NULL;
        int rc = hv_consensus_add_voter(c->cons, mb->id, m->join.pk, mac);
        if (rc != 0)
            return rc;
        memcpy(mb->pk, m->join.pk, sizeof(mb->pk));
    } else if (voter && memcmp(mb->pk, m->join.pk, sizeof(mb->pk)) != 0) {
        c->stats.joins_refused++; /* a key other than the one registered: not the same agent */
        return 0;
    }
    if (mb->joined && !mb->lost && m->cycle > mb->incarnation)
        note_event(c, mb, 0, now_ns); /* it restarted before its silence was noticed */
    if (mb->joined && (mb->lost || m->cycle > mb->incarnation))
        note_event(c, mb, 1, now_ns);
    mb->joined = 1;
    mb->lost = 0;
    mb->incarnation = m->cycle;
    mb->last_seen_ns = now_ns;
    if (c->log != NULL) {
        hv_log_entry e;
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_MEMBER;
        e.member = (hv_log_member){ .id = mb->id,
                                    .incarnation = mb->incarnation,
                                    .role = (uint32_t)mb->role,
                                    .index = mb->index,
                                    .auth = m->join.auth };
        memcpy(e.member.pk, m->join.pk, sizeof(e.member.pk));
        int rc = log_append(c, &e, 0);
        if (rc != 0)
            return rc;
    }
    sw_msg w;
    memset(&w, 0, sizeof(w));
    w.kind = SW_WELCOME;
    w.welcome.id = mb->id;
    int rc = hv__sw_send(&c->a, &w);
    if (rc != 0 || c->phase != SW_PH_JOIN)
        return rc;
    return go_on_when_all_here(c, now_ns);
}

static int on_heartbeat(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    sw_member *mb = member(c, m->sender);
    if (mb == NULL || !mb->joined)
        return 0;
    if (mb->lost)
        note_event(c, mb, 1, now_ns); /* after a takeover: this is its re-join */
    mb->lost = 0;
    mb->last_seen_ns = now_ns;
    mb->last_cycle = m->cycle;
    return c->phase == SW_PH_JOIN ? go_on_when_all_here(c, now_ns) : 0;
}

static uint64_t lost_after(const sw_coord *c)
{
    return LOST_AFTER * c->a.env.cfg.heartbeat_ns;
}

static uint64_t next_liveness_check(const sw_coord *c)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < c->nmembers; i++) {
        const sw_member *mb = &c->members[i];
        if (mb->joined && !mb->lost && mb->last_seen_ns + lost_after(c) < t)
            t = mb->last_seen_ns + lost_after(c);
    }
    return t;
}

static void check_liveness(sw_coord *c, uint64_t now_ns)
{
    for (uint32_t i = 0; i < c->nmembers; i++) {
        sw_member *mb = &c->members[i];
        if (mb->joined && !mb->lost && now_ns >= mb->last_seen_ns + lost_after(c)) {
            mb->lost = 1;
            note_event(c, mb, 0, now_ns);
        }
    }
}

/* "pattern-2 (silent 3.2 s, last at cycle 117), ..." for the agents not heard from lately. */
static void describe_silent(const sw_coord *c, uint64_t now_ns, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < c->nmembers && used < cap; i++) {
        const sw_member *mb = &c->members[i];
        char name[32];
        int n = 0;
        if (!mb->joined)
            n = snprintf(out + used, cap - used, "%s%s (never joined)", used ? ", " : "",
                         member_name(mb, name, sizeof(name)));
        else if (now_ns - mb->last_seen_ns >= lost_after(c))
            n = snprintf(out + used, cap - used, "%s%s (silent %.1f s, last at cycle %" PRId64 ")",
                         used ? ", " : "", member_name(mb, name, sizeof(name)),
                         (double)(now_ns - mb->last_seen_ns) / 1e9,
                         mb->last_cycle == UINT64_MAX ? (int64_t)-1 : (int64_t)mb->last_cycle);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used == 0)
        snprintf(out, cap, "none: every agent is alive, but the cycle's messages did not come");
}

/* ---- Votes and decisions ----------------------------------------------------------------------
 */

static int end_cycle(sw_coord *c, uint64_t now_ns, int stalled);

static void count_decision(sw_coord *c, const hv_decision *d)
{
    if (d->outcome == HV_OUTCOME_ACCEPTED)
        c->stats.accepted++;
    else if (d->outcome == HV_OUTCOME_REJECTED)
        c->stats.rejected++;
    else
        c->stats.no_quorum++;
    if (d->reason == HV_REASON_EARLY)
        c->stats.decided_early++;
}

/* A decision taken: published to the risk agent; for the cycle's own proposal, the cycle moves
 * on. Under the replicated log, only once its entry committed (drain_notices). */
static int publish_decision(sw_coord *c, const hv_decision *d, uint64_t now_ns)
{
    if (d->outcome == HV_OUTCOME_ACCEPTED) /* for the trade list: the fills of its order */
        c->decided[d->proposal_id % HV_SWARM_DECISIONS_KEPT] = *d;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_DECISION;
    m.cycle = d->proposal_id - 1;
    m.decision = *d;
    if (d->proposal_id == c->resume.again)
        c->resume.again_outcome = d->outcome;
    int rc = hv__sw_send(&c->a, &m);
    if (rc != 0)
        return rc;
    sw_cycle *cy = &c->cur;
    if (c->phase != SW_PH_CYCLE || cy->step != SW_ST_VOTE || d->proposal_id != cy->cycle + 1)
        return 0;
    cy->decided = 1;
    cy->decision = *d;
    cy->decided_msg = m;
    cy->retry_ns = now_ns + c->a.env.cfg.heartbeat_ns;
    cy->t_dec = now_ns;
    if (d->outcome != HV_OUTCOME_ACCEPTED)
        return end_cycle(c, now_ns, 0);
    cy->step = SW_ST_RESULT;
    return 0;
}

/* The decision of the cycle's proposal with its evidence (the votes counted), to the log. */
static int log_decision(sw_coord *c, const hv_decision *d)
{
    sw_cycle *cy = &c->cur;
    const sw_order *o = &cy->vreq.vreq.order;
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_DECISION;
    hv_log_decision *x = &e.decision;
    x->cycle = cy->cycle;
    x->proposer = cy->out.sender;
    x->action = (uint32_t)o->action;
    memcpy(x->payload_hash, cy->vreq.vreq.hash, sizeof(x->payload_hash));
    x->order = (hv_log_order){ o->side, o->action, o->qty, o->ref_price, o->target };
    x->d = *d;
    x->nvotes = cy->nvotes;
    memcpy(x->votes, cy->votes, cy->nvotes * sizeof(x->votes[0]));
    return log_append(c, &e, d->proposal_id);
}

static int on_decided(sw_coord *c, const hv_decision *d, uint64_t now_ns)
{
    count_decision(c, d);
    sw_cycle *cy = &c->cur;
    if (c->log == NULL)
        return publish_decision(c, d, now_ns);
    /* replicated: only the cycle's own proposal is carried out, once its entry committed; a
     * proposal whose cycle already ended (stalled) is decided but not acted on */
    if (c->phase != SW_PH_CYCLE || cy->step != SW_ST_VOTE || d->proposal_id != cy->cycle + 1)
        return 0;
    cy->decision = *d;
    cy->step = SW_ST_COMMIT;
    return log_decision(c, d);
}

/* Commit notices of the log: a committed decision is published now. */
static int drain_notices(sw_coord *c, uint64_t now_ns)
{
    uint64_t token;
    int status;
    while (c->log != NULL && c->log->notice(c->log_ud, &token, &status) == 1) {
        if (token == SW_FINISH_TOKEN && status == 0)
            c->finish_committed = 1;
        if (status == HV_ENOTLEADER && c->finish_committed)
            continue; /* the run's log is complete: the end of the run needs no leader */
        if (status == HV_ENOTLEADER)
            return fail_with(c, HV_ENOTLEADER,
                             "this replica stopped leading the decision log (a new leader "
                             "takes the run over)");
        if (status != 0)
            return fail_with(c, status, "the replicated log took no entry: %s",
                             hv_strerror(status));
        sw_cycle *cy = &c->cur;
        if (c->phase != SW_PH_CYCLE || cy->step != SW_ST_COMMIT || token != cy->cycle + 1)
            continue;
        cy->step = SW_ST_VOTE;
        int rc = publish_decision(c, &cy->decision, now_ns);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int on_vote(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    hv_decision d;
    memset(&d, 0, sizeof(d));
    int rc = hv_consensus_vote(c->cons, &m->vote.v, now_ns, &d);
    if (rc == HV_EPROPOSALCLOSED)
        c->stats.votes_late++;
    else if (rc == HV_ENOPROPOSAL)
        c->stats.votes_unknown++;
    else if (rc == HV_EDUPVOTE)
        c->stats.votes_repeated++;
    else if (rc != 0 && rc != HV_EEQUIVOCATION)
        c->stats.votes_bad++;
    else
        c->stats.votes_counted += rc == 0;
    sw_cycle *cy = &c->cur;
    if (rc == 0 && m->vote.v.proposal_id == cy->cycle + 1 && cy->nvotes < SW_VOTERS_MAX) {
        cy->votes[cy->nvotes].v = m->vote.v; /* the evidence the decision's entry carries */
        cy->votes[cy->nvotes++].auth = (uint8_t)m->vote.auth;
    }
    /* a late vote can find the deadline passed before the tick: the engine then decides */
    if (d.outcome != HV_OUTCOME_PENDING)
        return on_decided(c, &d, now_ns);
    return 0;
}

static int tick(sw_coord *c, uint64_t now_ns)
{
    hv_decision d[8];
    size_t n;
    do {
        n = hv_consensus_tick(c->cons, now_ns, d, 8);
        for (size_t i = 0; i < n; i++) {
            int rc = on_decided(c, &d[i], now_ns);
            if (rc != 0)
                return rc;
        }
    } while (n == 8);
    return 0;
}

static int open_proposal(sw_coord *c, uint64_t now_ns)
{
    sw_cycle *cy = &c->cur;
    const sw_msg *out = &cy->out;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE_REQ;
    m.cycle = cy->cycle;
    m.vreq.id = cy->cycle + 1;
    m.vreq.order = out->strat.order;
    m.vreq.deadline_ns = now_ns + c->a.env.cfg.proposal_timeout_ns;
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
    p.voters = c->voters;
    p.nvoters = c->nvoters;
    p.deadline_ns =
        hv__sw_sim_break == HV_SW_SIM_BREAK_NO_DEADLINE ? UINT64_MAX : m.vreq.deadline_ns;
    if ((rc = hv_consensus_propose(c->cons, &p, now_ns)) != 0)
        return rc;
    hv_proposal_status ps;
    if ((rc = hv_consensus_status(c->cons, p.id, &ps)) != 0)
        return rc;
    m.vreq.rule = ps.rule;
    m.vreq.crit = ps.crit;
    m.vreq.nvoters = c->nvoters;
    for (uint32_t i = 0; i < c->nvoters; i++)
        m.vreq.voters[i] = c->voters[i].id;
    c->stats.proposals++;
    if (ps.rule < HV_RULE_COUNT)
        c->stats.rules_used[ps.rule]++;
    cy->proposal = 1;
    cy->step = SW_ST_VOTE;
    cy->vreq = m;
    cy->retry_ns = now_ns + c->a.env.cfg.heartbeat_ns;
    return hv__sw_send(&c->a, &m);
}

/* ---- The cycle --------------------------------------------------------------------------------
 */

static int begin_finish(sw_coord *c, uint64_t now_ns);

static void enter_cycle(sw_coord *c, uint64_t cycle, uint64_t now_ns)
{
    memset(&c->cur, 0, sizeof(c->cur));
    c->cur.cycle = cycle;
    c->cur.t0 = now_ns;
    c->cur.step = SW_ST_OUT;
    c->cur.deadline_ns = now_ns + c->a.env.cfg.cycle_timeout_ns;
    c->cur.retry_ns = now_ns + c->a.env.cfg.heartbeat_ns;
    hv__sw_seen(&c->a, cycle);
}

static int begin_cycle(sw_coord *c, uint64_t cycle, uint64_t now_ns)
{
    enter_cycle(c, cycle, now_ns);
    int rc = log_mark(c, HV_LOG_CYCLE, cycle, 0);
    return rc != 0 ? rc : publish(c, SW_NEXT, cycle);
}

static int start_cycles(sw_coord *c, uint64_t now_ns)
{
    c->phase = SW_PH_CYCLE;
    c->start_ns = now_ns;
    c->last_progress_ns = now_ns;
    if (c->total == 0)
        return begin_finish(c, now_ns);
    return begin_cycle(c, 0, now_ns);
}

/* A takeover goes on from where the log is (hv__sw_coord_resume). */
static int resume_cycles(sw_coord *c, uint64_t now_ns)
{
    sw_resume *r = &c->resume;
    c->phase = SW_PH_CYCLE;
    c->start_ns = now_ns;
    c->last_progress_ns = now_ns;
    if (r->finished)
        return begin_finish(c, now_ns);
    if (!r->open) {
        uint64_t next = r->cycle == UINT64_MAX ? 0 : r->cycle + 1;
        return next >= c->total ? begin_finish(c, now_ns) : begin_cycle(c, next, now_ns);
    }
    enter_cycle(c, r->cycle, now_ns); /* begun in the log already */
    c->cur.resumed = 1;
    if (r->decided && !r->pending)
        return end_cycle(c, now_ns, 0); /* decided and, if accepted, its result is in */
    if (r->pending) { /* to the risk agent again: its order, or its result, as the first time */
        c->cur.step = SW_ST_VOTE;
        c->cur.proposal = 1;
        return publish_decision(c, &r->decision, now_ns);
    }
    r->again = r->cycle + 1; /* the cycle again: its proposal, if any, proposed again */
    r->again_outcome = -1;
    return publish(c, SW_NEXT, r->cycle);
}

int hv__sw_coord_resume(sw_coord *c, const hv_log_fsm *f, const hv_decision *last)
{
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    if (!st.genesis)
        return 0; /* no run yet: a run from the start */
    for (uint32_t i = 0; i < st.members; i++) {
        hv_log_member lm;
        sw_member *mb = hv_log_fsm_member(f, i, &lm) == 0 ? member(c, lm.id) : NULL;
        if (mb == NULL || (int)lm.role != mb->role || lm.index != mb->index ||
            lm.auth != c->a.env.vote_auth)
            return fail_with(c, HV_EBADFIELD,
                             "the log registers agent %016" PRIx64 " other than this swarm has it",
                             lm.id);
        int voter =
            mb->role == SW_ROLE_PATTERN || (mb->role == SW_ROLE_RISK && c->a.env.cfg.risk_votes);
        int rc = voter ? hv_consensus_add_voter(c->cons, mb->id, lm.pk, NULL) : 0;
        if (rc != 0)
            return rc;
        memcpy(mb->pk, lm.pk, sizeof(mb->pk));
        mb->joined = mb->lost = 1; /* registered, to be heard from again */
        mb->incarnation = lm.incarnation;
    }
    sw_resume *r = &c->resume;
    memset(r, 0, sizeof(*r));
    r->active = 1;
    r->members = st.members;
    r->finished = st.finished;
    r->cycle = st.cycle_last;
    r->open = st.cycle_open;
    c->stats.cycles = st.cycles_done + st.cycles_stalled;
    c->stats.trades_hash = st.trades_hash;
    c->stats.fills = st.fills;
    c->finish_logged = c->finish_committed = st.finished;
    uint64_t id = st.cycle_last + 1;
    r->decided = st.cycle_open && hv_log_fsm_applied(f, id);
    hv_log_pending p;
    for (uint32_t i = 0; r->decided && i < st.pending; i++) {
        if (hv_log_fsm_pending(f, i, &p) != 0 || p.proposal_id != id)
            continue;
        r->pending = 1;
        if (last != NULL && last->proposal_id == id) {
            r->decision = *last;
            continue;
        }
        /* applied before the snapshot this replica started from: the rule is the table's for
         * its action (the one the proposal was decided by); the counts are not known here */
        hv_crit crit = HV_CRIT_CRITICAL;
        hv_policy pol = { .rule = HV_RULE_BFT };
        (void)hv_crit_table_lookup(&c->a.env.cfg.table, (uint32_t)p.order.action, &crit, &pol);
        r->decision.proposal_id = id;
        r->decision.outcome = HV_OUTCOME_ACCEPTED;
        r->decision.rule = (uint8_t)pol.rule;
        r->decision.crit = (uint8_t)crit;
    }
    return 0;
}

static void count_result(sw_coord *c, const sw_msg *r)
{
    if (r->result.rc == 0) {
        c->stats.orders_sent++;
        c->stats.last_order_cycle = c->cur.cycle;
    } else if (r->result.rc == HV_ELIMIT)
        c->stats.orders_refused_limit++;
    else if (r->result.rc == HV_EHALTED)
        c->stats.orders_refused_halt++;
    else
        c->stats.orders_refused_exchange++;
}

static int end_cycle(sw_coord *c, uint64_t now_ns, int stalled)
{
    sw_cycle *cy = &c->cur;
    int rc =
        log_mark(c, HV_LOG_CYCLE_END, cy->cycle, stalled ? HV_LOG_END_STALLED : HV_LOG_END_DONE);
    if (rc != 0)
        return rc;
    cy->t_end = now_ns;
    c->stats.cycles++;
    if (stalled) {
        c->stats.cycles_stalled++;
        if (cy->step == SW_ST_RESULT)
            c->stats.orders_unknown++;
    } else {
        if (!cy->resumed)
            hv__sw_coord_replay(c);
        c->last_progress_ns = now_ns;
    }
    c->stats.wall_ns = now_ns - c->start_ns;
    uint64_t done = cy->cycle + 1;
    if (c->progress != NULL && c->progress(c->progress_ud, done, c->total) != 0)
        c->stop_requested = 1;
    if (done >= c->total || c->stop_requested)
        return begin_finish(c, now_ns);
    return begin_cycle(c, done, now_ns);
}

static int on_out(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    sw_cycle *cy = &c->cur;
    if (c->phase != SW_PH_CYCLE || m->cycle != cy->cycle || cy->step != SW_ST_OUT || cy->have_out) {
        c->a.rep.stale++;
        return 0;
    }
    cy->out = *m;
    cy->have_out = 1;
    cy->t_out = now_ns;
    if (m->kind == SW_HOLD)
        return end_cycle(c, now_ns, 0);
    return open_proposal(c, now_ns);
}

static int on_result(sw_coord *c, const sw_msg *m, uint64_t now_ns)
{
    sw_cycle *cy = &c->cur;
    if (c->phase != SW_PH_CYCLE || cy->step != SW_ST_RESULT ||
        m->result.proposal_id != cy->cycle + 1 || cy->have_result) {
        c->a.rep.stale++;
        return 0;
    }
    cy->result = *m;
    cy->have_result = 1;
    count_result(c, m);
    if (c->log != NULL) {
        hv_log_entry e;
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_RESULT;
        e.result = (hv_log_result){ .proposal_id = m->result.proposal_id,
                                    .cycle = cy->cycle,
                                    .order_id = m->result.order_id,
                                    .rc = m->result.rc > 0 ? 0 : m->result.rc,
                                    .breach = m->result.breach };
        int rc = log_append(c, &e, 0);
        if (rc != 0)
            return rc;
    }
    return end_cycle(c, now_ns, 0);
}

/* ---- The end of the run: FINISH, STOP and the reports, EXIT ---------------------------------- */

static int begin_finish(sw_coord *c, uint64_t now_ns)
{
    if (c->log != NULL && !c->finish_logged) {
        c->finish_logged = 1;
        int rc = log_mark(c, HV_LOG_FINISH, c->stats.cycles, 0);
        if (rc != 0)
            return rc;
    }
    c->phase = SW_PH_FINISH;
    c->phase_deadline_ns = now_ns + c->a.env.cfg.cycle_timeout_ns;
    c->retry_ns = now_ns + FINISH_RETRY_NS;
    return publish(c, SW_FINISH, c->stats.cycles);
}

static int begin_report(sw_coord *c, uint64_t now_ns)
{
    c->phase = SW_PH_REPORT;
    c->phase_deadline_ns = now_ns + c->a.env.cfg.cycle_timeout_ns;
    c->retry_ns = now_ns + FINISH_RETRY_NS;
    return publish(c, SW_STOP, c->stats.cycles);
}

static int all_reported(const sw_coord *c)
{
    for (uint32_t i = 0; i < c->nmembers; i++)
        if (!c->members[i].reported)
            return 0;
    return c->curve_done;
}

static int end_run(sw_coord *c)
{
    c->phase = SW_PH_DONE;
    c->stats.bus_messages += c->a.rep.received;
    c->stats.frames_bad += c->a.rep.bad;
    c->stats.frames_stale += c->a.rep.stale;
    int rc = publish(c, SW_EXIT, c->stats.cycles);
    c->a.actor.done = 1;
    return rc;
}

static void take_report(sw_coord *c, const sw_msg *m)
{
    sw_member *mb = member(c, m->sender);
    if (mb == NULL || mb->reported || (int)m->report.role != mb->role)
        return;
    const sw_report *r = &m->report;
    hv_swarm_stats *st = &c->stats;
    mb->reported = 1;
    st->agents_reported++;
    st->bus_messages += r->received;
    st->frames_bad += r->bad;
    st->frames_stale += r->stale;
    st->inputs_missing += r->missing;
    if (mb->role == SW_ROLE_EXEC) {
        st->portfolio = r->portfolio;
        st->exchange = r->exchange;
    } else if (mb->role == SW_ROLE_RISK) {
        st->limits = r->limits;
        st->halted = r->limits.halted;
        st->halted_cycle = r->halted_cycle;
        st->halt_breach = r->halt_breach;
    }
}

static void get_point(const uint8_t *p, uint64_t *t, double *eq)
{
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; i++) {
        a |= (uint64_t)p[i] << (8 * i);
        b |= (uint64_t)p[8 + i] << (8 * i);
    }
    *t = a;
    memcpy(eq, &b, 8);
}

/* The equity curve stream: a START (re)starts the reassembly (a STOP sent again makes the
 * execution agent send the whole curve again); a verified END unpacks the points. */
static void on_curve(sw_coord *c, const sw_msg *m)
{
    if (c->curve_done)
        return;
    if (m->curve->type == HV_MSG_STREAM_START)
        hv_stream_rx_init(&c->curve_rx, c->curve_buf, c->curve_cap);
    if (hv_stream_rx_feed(&c->curve_rx, m->curve) != 1)
        return;
    size_t n = c->curve_rx.received / 16;
    for (size_t i = 0; i < n; i++)
        get_point(c->curve_buf + 16 * i, &c->curve_t[i], &c->curve_eq[i]);
    c->curve_n = n;
    c->curve_done = 1;
}

/* ---- Dispatch ---------------------------------------------------------------------------------
 */

static int coord_on_msg(sw_agent *a, const sw_msg *m, uint64_t now_ns)
{
    sw_coord *c = (sw_coord *)a;
    switch (m->kind) {
    case SW_JOIN:
        return on_join(c, m, now_ns);
    case SW_HEARTBEAT:
        return on_heartbeat(c, m, now_ns);
    case SW_EOD:
        if (c->phase == SW_PH_CYCLE && m->cycle == c->cur.cycle)
            return begin_finish(c, now_ns);
        return 0;
    case SW_HOLD:
    case SW_PROPOSE:
        return on_out(c, m, now_ns);
    case SW_VOTE:
        return on_vote(c, m, now_ns);
    case SW_ORDER_RESULT:
        return on_result(c, m, now_ns);
    case SW_CONFIRM:
        return on_confirm(c, m, now_ns);
    case SW_FINISHED:
        return c->phase == SW_PH_FINISH ? begin_report(c, now_ns) : 0;
    case SW_REPORT:
        take_report(c, m);
        return c->phase == SW_PH_REPORT && all_reported(c) ? end_run(c) : 0;
    case SW_CURVE:
        on_curve(c, m);
        return c->phase == SW_PH_REPORT && all_reported(c) ? end_run(c) : 0;
    case SW_ERROR: {
        sw_member *mb = member(c, m->sender);
        char name[32] = "an unknown agent";
        if (mb != NULL)
            member_name(mb, name, sizeof(name));
        return fail_with(c, m->error.code < 0 ? m->error.code : HV_ESTATE, "%s failed: %s", name,
                         m->error.text);
    }
    default:
        return 0;
    }
}

/* The request the cycle waits on went unanswered for a heartbeat: it is sent again (every
 * agent answers a repeated request with what it sent the first time). */
static int resend(sw_coord *c, uint64_t now_ns)
{
    sw_cycle *cy = &c->cur;
    cy->retry_ns = now_ns + c->a.env.cfg.heartbeat_ns;
    if (cy->step == SW_ST_COMMIT)
        return 0; /* the log's commit: nothing of the agents' is awaited */
    c->stats.requests_resent++;
    if (cy->step == SW_ST_VOTE)
        return hv__sw_send(&c->a, &cy->vreq);
    if (cy->step == SW_ST_RESULT)
        return hv__sw_send(&c->a, &cy->decided_msg);
    return publish(c, SW_NEXT, cy->cycle);
}

static uint64_t coord_next_expiry(const sw_agent *a)
{
    const sw_coord *c = (const sw_coord *)a;
    uint64_t t = UINT64_MAX;
    if (c->log != NULL && c->log->pending(c->log_ud))
        return 0; /* a commit notice waits */
    switch (c->phase) {
    case SW_PH_JOIN:
        return c->phase_deadline_ns;
    case SW_PH_CYCLE:
        t = c->cur.deadline_ns < c->cur.retry_ns ? c->cur.deadline_ns : c->cur.retry_ns;
        if (c->last_progress_ns + c->a.env.cfg.stall_timeout_ns < t)
            t = c->last_progress_ns + c->a.env.cfg.stall_timeout_ns;
        break;
    case SW_PH_FINISH:
    case SW_PH_REPORT:
        t = c->retry_ns < c->phase_deadline_ns ? c->retry_ns : c->phase_deadline_ns;
        break;
    default:
        return UINT64_MAX;
    }
    uint64_t e = hv_consensus_next_deadline(c->cons);
    t = e < t ? e : t;
    uint64_t l = next_liveness_check(c);
    return l < t ? l : t;
}

static int coord_on_expiry(sw_agent *a, uint64_t now_ns)
{
    sw_coord *c = (sw_coord *)a;
    char who[160];
    check_liveness(c, now_ns);
    int rc = drain_notices(c, now_ns);
    if (rc == 0)
        rc = tick(c, now_ns);
    if (rc != 0 || c->phase == SW_PH_DONE)
        return rc;
    switch (c->phase) {
    case SW_PH_JOIN:
        if (now_ns < c->phase_deadline_ns)
            return 0;
        describe_silent(c, now_ns, who, sizeof(who));
        return fail_with(c, HV_ETIMEDOUT, "agents did not join in %.1f s: %s",
                         (double)c->a.env.cfg.stall_timeout_ns / 1e9, who);
    case SW_PH_CYCLE:
        if (now_ns >= c->last_progress_ns + c->a.env.cfg.stall_timeout_ns) {
            describe_silent(c, now_ns, who, sizeof(who));
            return fail_with(c, HV_ETIMEDOUT,
                             "no cycle completed for %.1f s (at cycle %" PRIu64
                             "); silent agents: %s",
                             (double)c->a.env.cfg.stall_timeout_ns / 1e9, c->cur.cycle, who);
        }
        if (now_ns >= c->cur.deadline_ns)
            return end_cycle(c, now_ns, 1);
        return now_ns >= c->cur.retry_ns ? resend(c, now_ns) : 0;
    case SW_PH_FINISH:
        if (now_ns >= c->phase_deadline_ns)
            return begin_report(c, now_ns); /* execution never answered: report without it */
        if (now_ns >= c->retry_ns) {
            c->retry_ns = now_ns + FINISH_RETRY_NS;
            return publish(c, SW_FINISH, c->stats.cycles);
        }
        return 0;
    default: /* SW_PH_REPORT */
        if (now_ns >= c->phase_deadline_ns)
            return end_run(c); /* the missing reports are counted as missing */
        if (now_ns >= c->retry_ns) {
            c->retry_ns = now_ns + FINISH_RETRY_NS;
            return publish(c, SW_STOP, c->stats.cycles);
        }
        return 0;
    }
}

static const int coord_subs[] = {
    SW_JOIN,     SW_HEARTBEAT,    SW_EOD,    SW_HOLD,  SW_PROPOSE, SW_VOTE, SW_CONFIRM,
    SW_FINISHED, SW_ORDER_RESULT, SW_REPORT, SW_CURVE, SW_ERROR,   0
};

static int coord_on_start(sw_agent *a, uint64_t now_ns)
{
    sw_coord *c = (sw_coord *)a;
    c->phase_deadline_ns = now_ns + c->a.env.cfg.stall_timeout_ns;
    for (uint32_t i = 0; i < c->nmembers; i++)
        c->members[i].last_seen_ns = now_ns;
    return 0;
}

const sw_role_ops hv__sw_coord_ops = {
    .name = "coordinator",
    .subs = coord_subs,
    .on_msg = coord_on_msg,
    .on_start = coord_on_start,
    .on_expiry = coord_on_expiry,
    .next_expiry = coord_next_expiry,
};

/* ---- Construction -----------------------------------------------------------------------------
 */

static void add_member(sw_coord *c, int role, uint32_t index)
{
    sw_member *mb = &c->members[c->nmembers++];
    memset(mb, 0, sizeof(*mb));
    mb->role = role;
    mb->index = index;
    mb->id = HV_SWARM_ID(c->a.env.cfg.node, hv__sw_local_id(role, index));
    mb->last_cycle = UINT64_MAX;
    int voter = role == SW_ROLE_PATTERN || (role == SW_ROLE_RISK && c->a.env.cfg.risk_votes);
    if (voter) {
        c->voters[c->nvoters].id = mb->id;
        c->voters[c->nvoters].weight = 1;
        c->nvoters++;
    }
}

static int make_engine(sw_coord *c)
{
    hv_consensus_opts co;
    hv_consensus_opts_default(&co);
    co.table = c->a.env.cfg.table;
    if (!c->a.env.cfg.early)
        co.flags |= HV_CONSENSUS_NO_EARLY;
    if (c->a.env.vote_auth == HV_SWARM_AUTH_MAC)
        co.flags |= HV_CONSENSUS_BFT_MAC;
    return hv_consensus_new(&co, &c->cons);
}

int hv__sw_coord_init(sw_coord *c, const sw_env *env, hv_swarm_progress_fn progress, void *ud)
{
    memset(c, 0, sizeof(*c));
    hv__sw_agent_init(&c->a, env, &hv__sw_coord_ops);
    c->progress = progress;
    c->progress_ud = ud;
    c->phase = SW_PH_JOIN;
    c->phase_deadline_ns = UINT64_MAX; /* set at start (the first time it is given) */
    const hv_swarm_opts *cfg = &env->cfg;
    c->total = env->nbars;
    if (cfg->cycles_max > 0 && cfg->cycles_max < c->total)
        c->total = cfg->cycles_max;
    c->stats.trades_hash = HV_SW_TRADE_HASH_INIT;
    c->stats.last_order_cycle = UINT64_MAX;
    c->stats.runner = cfg->runner;
    c->stats.vote_auth = env->vote_auth;
    add_member(c, SW_ROLE_MD, 0);
    for (uint32_t i = 0; i < cfg->patterns; i++)
        add_member(c, SW_ROLE_PATTERN, i);
    add_member(c, SW_ROLE_RISK, 0);
    add_member(c, SW_ROLE_STRATEGY, 0);
    add_member(c, SW_ROLE_EXEC, 0);
    c->decided = calloc(HV_SWARM_DECISIONS_KEPT, sizeof(*c->decided));
    c->curve_cap = 4096 * 16;
    c->curve_buf = malloc(c->curve_cap);
    c->curve_t = malloc(4096 * sizeof(uint64_t));
    c->curve_eq = malloc(4096 * sizeof(double));
    if (c->curve_buf == NULL || c->curve_t == NULL || c->curve_eq == NULL || c->decided == NULL)
        return HV_ENOMEM;
    int rc = make_engine(c);
    return rc != 0 ? rc : hv__sw_coord_profiler(c);
}

void hv__sw_coord_fini(sw_coord *c)
{
    hv_consensus_free(c->cons);
    hv_profiler_free(c->prof);
    free(c->trades);
    free(c->decided);
    free(c->curve_buf);
    free(c->curve_t);
    free(c->curve_eq);
    memset(c, 0, sizeof(*c));
}

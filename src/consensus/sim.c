/*
 * Deterministic simulation of the consensus engine (see include/hivewire/sim.h).
 *
 * The coordinator (node 0) hosts the engine under test and, unless early termination is off,
 * a shadow engine with early termination off that receives exactly the same calls: at the end
 * both must agree on every proposal no equivocator touched. Agents 1..A answer proposals over
 * the simulated network. The sim keeps its own ledger of the votes the engine counted and
 * re-derives every decision's justification from it with independent formulas.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/rng.h>
#include <hivewire/sim.h>

#include "core/field.h"
#include "core/timeq.h"
#include "sim/simnet.h"

#define GAP_NS      1000000u  /* mean time between proposal openings */
#define DEADLINE_NS 20000000u /* deadline after opening */
#define LEDGER_EXCL 0x80u

enum { EV_PROPOSAL = 1, EV_VOTE = 2 };
enum { BYZ_RANDOM, BYZ_EQUIVOCATE, BYZ_IMPERSONATE, BYZ_GARBAGE, BYZ_SILENT, BYZ_KINDS };

typedef struct agent {
    uint64_t id;
    uint8_t pk[32], sk[64], mac[32];
    int byz;
    uint64_t crash_ns;
} agent;

typedef struct prop {
    hv_proposal p;
    hv_policy pol;
    int all_approve;
    uint8_t outcome, shadow_outcome, main_excl, shadow_excl;
    uint8_t ledger[HV_SIM_AGENTS_MAX + 1];        /* votes the engine counted, by agent */
    uint8_t honest_choice[HV_SIM_AGENTS_MAX + 1]; /* an honest agent's vote, once chosen */
} prop;

typedef struct event {
    uint64_t t;
    uint8_t type, forged;
    uint32_t agent, prop;
    hv_vote v;
} event;

typedef struct sim {
    hv_sim_consensus_opts cfg;
    hv_sim_consensus_result *res;
    hv_rng rng;
    hv_simnet net;
    hv_consensus *eng, *shadow;
    hv_crit_table table;
    agent agents[HV_SIM_AGENTS_MAX + 1];
    hv_voter voters[HV_SIM_AGENTS_MAX];
    prop *props;
    uint32_t nopened;
    uint64_t next_open_ns;
    event *pool;      /* cap events; the queue holds pointers into it */
    uint32_t *unused; /* indices of free pool slots */
    uint32_t nunused, cap;
    hv_timeq queue; /* by time, ties in the order they were sent */
    uint64_t now;
    crypto_generichash_state hash;
} sim;

/* ---- faults ---- */

static const struct {
    const char *name;
    uint32_t bit;
} fault_names[] = {
    { "delay", HV_SIM_DELAY },     { "loss", HV_SIM_LOSS },   { "dup", HV_SIM_DUP },
    { "reorder", HV_SIM_REORDER }, { "crash", HV_SIM_CRASH }, { "byzantine", HV_SIM_BYZANTINE },
    { "restart", HV_SIM_RESTART }, { "slow", HV_SIM_SLOW },
};
#define NFAULTS (sizeof(fault_names) / sizeof(fault_names[0]))

int hv_sim_parse_faults(const char *s, uint32_t *mask)
{
    return hv_sim_parse_fault_set(s, HV_SIM_ALL, mask);
}

int hv_sim_parse_fault_set(const char *s, uint32_t all, uint32_t *mask)
{
    *mask = 0;
    if (strcmp(s, "none") == 0)
        return 0;
    if (strcmp(s, "all") == 0) {
        *mask = all;
        return 0;
    }
    while (*s) {
        size_t len = strcspn(s, ",");
        size_t i = 0;
        while (i < NFAULTS &&
               !(strlen(fault_names[i].name) == len && strncmp(s, fault_names[i].name, len) == 0))
            i++;
        if (i == NFAULTS || !(fault_names[i].bit & all))
            return HV_EPARSE;
        *mask |= fault_names[i].bit;
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

void hv_sim_format_faults(uint32_t mask, char *out, size_t cap)
{
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NFAULTS; i++) {
        if (!(mask & fault_names[i].bit))
            continue;
        int n = snprintf(out + at, cap - at, "%s%s", at ? "," : "", fault_names[i].name);
        if (n < 0 || (size_t)n >= cap - at)
            break;
        at += (size_t)n;
    }
    if (at == 0)
        snprintf(out, cap, "none");
}

void hv_sim_consensus_opts_default(hv_sim_consensus_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->agents = 7;
    o->proposals = 20;
}

/* ---- trace and violations ---- */

static void violate(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violate(sim *s, const char *fmt, ...)
{
    if (s->res->violation)
        return;
    s->res->violation = 1;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(s->res->message, sizeof(s->res->message), "t=%" PRIu64 " ns: ", s->now);
    vsnprintf(s->res->message + n, sizeof(s->res->message) - (size_t)n, fmt, ap);
    va_end(ap);
}

/* One readable trace line; the hash covers the same fields in binary. */
static void print_event(FILE *f, uint64_t now, const char *what, uint32_t who, uint64_t pid,
                        uint32_t a, int32_t b)
{
    static const char *const choices[] = { "-", "approve", "reject", "abstain" };
    fprintf(f, "%12" PRIu64 " ns  %-8s agent %-3u proposal %-6" PRIu64, now, what, who, pid);
    if (strcmp(what, "decide") == 0)
        fprintf(f, "  %s (%s)\n", hv_outcome_name((hv_outcome)a),
                b == HV_REASON_EARLY       ? "early"
                : b == HV_REASON_ALL_VOTED ? "all voted"
                                           : "deadline");
    else if (strcmp(what, "open") == 0)
        fprintf(f, "  rule %s rc %d\n", hv_rule_name((hv_rule)a), b);
    else if (strcmp(what, "send") == 0)
        fprintf(f, "  %s%s\n", a < 4 ? choices[a] : "?", b ? " FORGED" : "");
    else if (strcmp(what, "vote") == 0)
        fprintf(f, "  %s -> %s\n", a < 4 ? choices[a] : "?", b ? hv_err_name(b) : "counted");
    else
        fprintf(f, "\n");
}

static void trace(sim *s, const char *what, uint32_t who, uint64_t pid, uint32_t a, int32_t b)
{
    uint8_t rec[30];
    memcpy(rec, &s->now, 8);
    rec[8] = (uint8_t)what[0];
    rec[9] = (uint8_t)what[1];
    memcpy(rec + 10, &who, 4);
    memcpy(rec + 14, &pid, 8);
    memcpy(rec + 22, &a, 4);
    memcpy(rec + 26, &b, 4);
    crypto_generichash_update(&s->hash, rec, sizeof(rec));
    s->res->events++;
    if (s->cfg.trace != NULL)
        print_event(s->cfg.trace, s->now, what, who, pid, a, b);
}

/* ---- event queue (by time, then the order they were queued) ---- */

static void ev_push(sim *s, const event *e)
{
    if (s->nunused == 0) {
        violate(s, "event queue bound %u exceeded", s->cap);
        return;
    }
    uint32_t i = s->unused[--s->nunused];
    s->pool[i] = *e;
    hv__timeq_push(&s->queue, e->t, &s->pool[i]); /* cannot fail: as many slots as pool */
}

static event ev_pop(sim *s)
{
    event *p = hv__timeq_pop_any(&s->queue);
    s->unused[s->nunused++] = (uint32_t)(p - s->pool);
    return *p;
}

/* ---- network ---- */

/* Sends e through the shared network model (loss, duplication and delay applied). */
static void send(sim *s, event *e)
{
    uint64_t t[2];
    int copies = hv__simnet_send(&s->net, &s->rng, s->now, t);
    if (copies == 0) {
        s->res->lost++;
        trace(s, "lost", e->agent, e->type == EV_VOTE ? e->v.proposal_id : e->prop, e->type, 0);
        return;
    }
    s->res->duplicated += (uint64_t)(copies - 1);
    for (int i = 0; i < copies; i++) {
        e->t = t[i];
        ev_push(s, e);
    }
}

/* ---- reference rules (independent of the engine's closed forms) ---- */

typedef struct tally {
    uint64_t n, w, a, r, b, o, wa, wo;
} tally;

static tally count(const sim *s, const prop *p)
{
    tally t = { .n = p->p.nvoters };
    for (uint32_t i = 0; i < p->p.nvoters; i++) {
        uint8_t st = p->ledger[i + 1];
        uint64_t w = p->p.voters[i].weight;
        t.w += w;
        if (st & LEDGER_EXCL)
            continue;
        if (st == HV_CHOICE_APPROVE)
            t.a++, t.wa += w;
        else if (st == HV_CHOICE_REJECT)
            t.r++;
        else if (st == HV_CHOICE_ABSTAIN)
            t.b++;
        else
            t.o++, t.wo += w;
    }
    (void)s;
    return t;
}

static int ref_accepts(const hv_policy *pol, const tally *t)
{
    uint64_t cast = t->a + t->r + t->b, q = pol->quorum;
    if (pol->rule == HV_RULE_MAJORITY && q == 0)
        q = t->n / 2 + 1;
    if (cast < q)
        return 0;
    switch (pol->rule) {
    case HV_RULE_MAJORITY:
        return t->a > t->r;
    case HV_RULE_SIMPLE_MAJORITY:
        return 2 * t->a > t->n;
    case HV_RULE_THRESHOLD:
        return t->a * pol->den >= (uint64_t)pol->num * t->n;
    case HV_RULE_WEIGHTED:
        return pol->den ? t->wa * pol->den > (uint64_t)pol->num * t->w : 2 * t->wa > t->w;
    case HV_RULE_UNANIMOUS:
        return t->a == t->n;
    case HV_RULE_BFT:
        return 2 * t->a > t->n + (t->n - 1) / 3;
    default:
        return 0;
    }
}

/* The tally if every outstanding voter approved (best case) or rejected (worst case). */
static tally all_outstanding(tally t, int approve)
{
    if (approve)
        t.a += t.o, t.wa += t.wo;
    else
        t.r += t.o;
    t.o = t.wo = 0;
    return t;
}

static void check_justified(sim *s, const prop *p, const hv_decision *d)
{
    tally t = count(s, p);
    int now = ref_accepts(&p->pol, &t);
    tally tb = all_outstanding(t, 1), tw = all_outstanding(t, 0);
    int best = ref_accepts(&p->pol, &tb);
    int worst = ref_accepts(&p->pol, &tw);
    int ok;
    if (d->outcome == HV_OUTCOME_ACCEPTED)
        ok = d->reason == HV_REASON_DEADLINE ? now : worst;
    else if (d->outcome == HV_OUTCOME_REJECTED)
        ok = !best;
    else
        ok = d->reason == HV_REASON_DEADLINE && !now && best;
    if (!ok)
        violate(s,
                "proposal %" PRIu64 " decided %s (%s) without its bound: a=%" PRIu64 " r=%" PRIu64
                " b=%" PRIu64 " o=%" PRIu64,
                d->proposal_id, hv_outcome_name(d->outcome), hv_rule_name(p->pol.rule), t.a, t.r,
                t.b, t.o);
    if (d->approvals != t.a || d->rejections != t.r || d->abstentions != t.b)
        violate(s, "proposal %" PRIu64 " decision counts differ from the ledger", d->proposal_id);
}

static void on_decision(sim *s, const hv_decision *d)
{
    uint32_t k = (uint32_t)(d->proposal_id - 1);
    prop *p = &s->props[k];
    trace(s, "decide", 0, d->proposal_id, d->outcome, d->reason);
    if (p->outcome != HV_OUTCOME_PENDING)
        violate(s, "proposal %" PRIu64 " decided twice (%s then %s)", d->proposal_id,
                hv_outcome_name(p->outcome), hv_outcome_name(d->outcome));
    if (d->decided_ns > p->p.deadline_ns || d->decided_ns != s->now)
        violate(s, "proposal %" PRIu64 " decided at %" PRIu64 " after its deadline %" PRIu64,
                d->proposal_id, d->decided_ns, p->p.deadline_ns);
    check_justified(s, p, d);
    p->outcome = d->outcome;
    s->res->decided[d->outcome]++;
    s->res->decided_early += d->reason == HV_REASON_EARLY;
}

/* ---- agents ---- */

static void make_vote(sim *s, hv_vote *v, const prop *p, const agent *a, uint8_t choice)
{
    memset(v, 0, sizeof(*v));
    v->proposal_id = p->p.id;
    v->voter = a->id;
    v->round = p->p.round;
    v->choice = choice;
    memcpy(v->payload_hash, p->p.payload_hash, HV_PAYLOAD_HASH_BYTES);
    if (p->pol.rule == HV_RULE_BFT)
        hv_vote_sign(v, a->sk);
    else
        hv_vote_mac(v, a->mac);
    (void)s;
}

static void send_vote(sim *s, uint32_t agent_ix, uint32_t k, uint8_t choice, int forged_kind)
{
    const prop *p = &s->props[k];
    event e = { .type = EV_VOTE, .agent = agent_ix, .prop = k };
    make_vote(s, &e.v, p, &s->agents[agent_ix], choice);
    if (forged_kind == BYZ_IMPERSONATE) {
        /* Claims to be another agent, authenticated with its own key. */
        uint32_t victim = 1 + (uint32_t)hv_rng_below(&s->rng, s->cfg.agents);
        if (victim == agent_ix)
            victim = victim % s->cfg.agents + 1;
        e.v.voter = s->agents[victim].id;
        e.forged = 1;
    } else if (forged_kind == BYZ_GARBAGE) {
        for (int i = 0; i < HV_VOTE_SIG_BYTES; i++)
            e.v.sig[i] = (uint8_t)hv_rng_next(&s->rng);
        e.forged = 1;
    }
    s->res->votes_sent++;
    s->res->forged_sent += e.forged;
    trace(s, "send", agent_ix, p->p.id, choice, e.forged);
    send(s, &e);
}

static uint8_t random_choice(sim *s)
{
    uint64_t x = hv_rng_below(&s->rng, 20);
    return x < 10 ? HV_CHOICE_APPROVE : x < 17 ? HV_CHOICE_REJECT : HV_CHOICE_ABSTAIN;
}

static void byzantine_acts(sim *s, uint32_t ai, uint32_t k)
{
    uint8_t c1 = random_choice(s);
    switch (hv_rng_below(&s->rng, BYZ_KINDS)) {
    case BYZ_RANDOM:
        send_vote(s, ai, k, c1, 0);
        break;
    case BYZ_EQUIVOCATE: {
        uint8_t c2 = (uint8_t)(c1 % 3 + 1);
        send_vote(s, ai, k, c1, 0);
        send_vote(s, ai, k, c2, 0);
        s->res->equivocations_sent += s->props[k].pol.rule == HV_RULE_BFT;
        break;
    }
    case BYZ_IMPERSONATE:
        send_vote(s, ai, k, c1, BYZ_IMPERSONATE);
        send_vote(s, ai, k, random_choice(s), 0);
        break;
    case BYZ_GARBAGE:
        send_vote(s, ai, k, c1, BYZ_GARBAGE);
        break;
    default:
        trace(s, "silent", ai, s->props[k].p.id, 0, 0);
        break;
    }
}

static void agent_receives(sim *s, const event *e)
{
    const agent *a = &s->agents[e->agent];
    if (s->now >= a->crash_ns) {
        trace(s, "crashed", e->agent, s->props[e->prop].p.id, 0, 0);
        return;
    }
    if (a->byz) {
        byzantine_acts(s, e->agent, e->prop);
        return;
    }
    prop *p = &s->props[e->prop];
    uint8_t *c = &p->honest_choice[e->agent]; /* a duplicate delivery repeats the same vote */
    if (*c == 0)
        *c = p->all_approve ? HV_CHOICE_APPROVE : random_choice(s);
    send_vote(s, e->agent, e->prop, *c, 0);
}

/* ---- coordinator ---- */

static uint32_t voter_index(const sim *s, uint64_t id)
{
    for (uint32_t i = 1; i <= s->cfg.agents; i++)
        if (s->agents[i].id == id)
            return i;
    return 0;
}

static void check_vote_rc(sim *s, prop *p, const event *e, uint32_t vi, int rc, int expect_eq)
{
    if (e->forged && (rc == 0 || rc == HV_EEQUIVOCATION))
        violate(s, "forged vote on proposal %" PRIu64 " accepted (rc %d)", p->p.id, rc);
    if (expect_eq && rc != HV_EEQUIVOCATION)
        violate(s, "equivocation by agent %u on proposal %" PRIu64 " not detected (rc %s)", vi,
                p->p.id, hv_err_name(rc) ? hv_err_name(rc) : "0");
    if (!expect_eq && rc == HV_EEQUIVOCATION)
        violate(s, "agent %u falsely accused of equivocation on %" PRIu64, vi, p->p.id);
    if (rc == HV_ENOPROPOSAL || rc == HV_ENOTELIGIBLE || rc == HV_EVOTEMISMATCH)
        violate(s, "well-formed vote on %" PRIu64 " refused with %s", p->p.id, hv_err_name(rc));
    if (rc == 0 && (p->ledger[vi] != 0 || p->outcome != HV_OUTCOME_PENDING))
        violate(s, "vote by agent %u on %" PRIu64 " counted twice or after the decision", vi,
                p->p.id);
}

static void coordinator_receives(sim *s, const event *e)
{
    prop *p = &s->props[e->prop];
    uint32_t vi = voter_index(s, e->v.voter);
    uint8_t prev = p->ledger[vi];
    int expect_eq = !e->forged && p->pol.rule == HV_RULE_BFT && prev != 0 &&
                    !(prev & LEDGER_EXCL) && prev != e->v.choice;
    hv_decision d;
    int rc = hv_consensus_vote(s->eng, &e->v, s->now, &d);
    trace(s, "vote", vi, p->p.id, e->v.choice, rc);
    check_vote_rc(s, p, e, vi, rc, expect_eq);
    if (rc == 0) {
        p->ledger[vi] = e->v.choice;
        s->res->votes_counted++;
    } else {
        s->res->votes_refused++;
    }
    if (rc == HV_EEQUIVOCATION) {
        p->ledger[vi] |= LEDGER_EXCL;
        p->main_excl = 1;
        s->res->equivocations_detected++;
        if (hv_consensus_is_excluded(s->eng, p->p.id, e->v.voter) != 1)
            violate(s, "equivocating agent %u not excluded from %" PRIu64, vi, p->p.id);
    }
    if (d.outcome != HV_OUTCOME_PENDING)
        on_decision(s, &d);
    if (s->shadow != NULL) {
        hv_decision sd;
        int src = hv_consensus_vote(s->shadow, &e->v, s->now, &sd);
        p->shadow_excl |= src == HV_EEQUIVOCATION;
        if (sd.outcome != HV_OUTCOME_PENDING)
            p->shadow_outcome = sd.outcome;
    }
}

static void pick_policy(sim *s, prop *p)
{
    static const hv_rule rules[] = { HV_RULE_MAJORITY, HV_RULE_SIMPLE_MAJORITY, HV_RULE_THRESHOLD,
                                     HV_RULE_WEIGHTED, HV_RULE_UNANIMOUS,       HV_RULE_BFT };
    p->p.action = (uint32_t)hv_rng_below(&s->rng, 7);
    if (hv_rng_below(&s->rng, 2) == 0) {
        p->p.policy.rule = HV_RULE_AUTO;
        hv_crit_table_lookup(&s->table, p->p.action, NULL, &p->pol);
        return;
    }
    hv_policy pol = { .rule = rules[hv_rng_below(&s->rng, 6)] };
    if (pol.rule == HV_RULE_THRESHOLD) {
        pol.den = 2 + (uint32_t)hv_rng_below(&s->rng, 9);
        pol.num = 1 + (uint32_t)hv_rng_below(&s->rng, pol.den);
    } else if (pol.rule == HV_RULE_WEIGHTED && hv_rng_below(&s->rng, 2)) {
        pol.den = 2 + (uint32_t)hv_rng_below(&s->rng, 9);
        pol.num = 1 + (uint32_t)hv_rng_below(&s->rng, pol.den - 1);
    } else if (pol.rule == HV_RULE_MAJORITY && hv_rng_below(&s->rng, 2)) {
        pol.quorum = 1 + (uint32_t)hv_rng_below(&s->rng, s->cfg.agents);
    }
    p->p.policy = pol;
    p->p.crit = HV_CRIT_LOW;
    p->pol = pol;
}

static int open_next(sim *s)
{
    uint32_t k = s->nopened++;
    prop *p = &s->props[k];
    p->p.id = k + 1;
    p->p.proposer = 0;
    p->p.round = (uint32_t)hv_rng_below(&s->rng, 3);
    pick_policy(s, p);
    for (int i = 0; i < HV_PAYLOAD_HASH_BYTES; i++)
        p->p.payload_hash[i] = (uint8_t)hv_rng_next(&s->rng);
    p->p.voters = s->voters;
    p->p.nvoters = s->cfg.agents;
    p->p.deadline_ns = s->now + DEADLINE_NS;
    p->all_approve = hv_rng_below(&s->rng, 10) < 6;
    int rc = hv_consensus_propose(s->eng, &p->p, s->now);
    if (rc == 0 && s->shadow != NULL)
        rc = hv_consensus_propose(s->shadow, &p->p, s->now);
    trace(s, "open", 0, p->p.id, p->pol.rule, rc);
    if (rc != 0)
        return rc;
    for (uint32_t i = 1; i <= s->cfg.agents; i++) {
        event e = { .type = EV_PROPOSAL, .agent = i, .prop = k };
        send(s, &e);
    }
    s->next_open_ns = s->now + GAP_NS / 2 + hv_rng_below(&s->rng, GAP_NS);
    return 0;
}

static void tick_all(sim *s)
{
    hv_decision out[16];
    size_t n;
    do {
        n = hv_consensus_tick(s->eng, s->now, out, 16);
        for (size_t i = 0; i < n; i++)
            on_decision(s, &out[i]);
    } while (n == 16);
    if (s->shadow == NULL)
        return;
    do {
        n = hv_consensus_tick(s->shadow, s->now, out, 16);
        for (size_t i = 0; i < n; i++)
            s->props[out[i].proposal_id - 1].shadow_outcome = out[i].outcome;
    } while (n == 16);
}

/* ---- setup ---- */

static void derive_keys(sim *s, agent *a)
{
    uint8_t in[16], seed[32];
    memcpy(in, &s->cfg.seed, 8);
    memcpy(in + 8, &a->id, 8);
    crypto_generichash(seed, 32, in, sizeof(in), (const uint8_t *)"hivewire-sim-ed25519", 20);
    crypto_sign_seed_keypair(a->pk, a->sk, seed);
    crypto_generichash(a->mac, 32, in, sizeof(in), (const uint8_t *)"hivewire-sim-mac-key", 20);
}

/* Marks `count` distinct random honest agents with `flag` (1 = Byzantine, 2 = crashes). */
static void pick_agents(sim *s, uint32_t count, int flag)
{
    while (count > 0) {
        agent *a = &s->agents[1 + hv_rng_below(&s->rng, s->cfg.agents)];
        if (a->byz || a->crash_ns != UINT64_MAX)
            continue;
        if (flag == 1)
            a->byz = 1;
        else
            a->crash_ns = hv_rng_below(&s->rng, (uint64_t)s->cfg.proposals * GAP_NS + 1);
        count--;
    }
}

/* The Byzantine and crashed agents a valid configuration asks for. */
static void fault_counts(const hv_sim_consensus_opts *c, uint32_t *byz, uint32_t *crashed)
{
    *byz = (c->faults & HV_SIM_BYZANTINE) ? (c->byzantine ? c->byzantine : (c->agents - 1) / 3) : 0;
    *crashed = (c->faults & HV_SIM_CRASH) ? (c->crashed ? c->crashed : 1) : 0;
}

int hv_sim_consensus_opts_check(const hv_sim_consensus_opts *c, hv_field_error *err)
{
    if (c == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (c->size != sizeof(*c))
        return hv__field_fail(err, "size", "must be sizeof(hv_sim_consensus_opts)");
    if (c->agents < 4 || c->agents > HV_SIM_AGENTS_MAX)
        return hv__field_fail(err, "agents", "must be in [4, 64]");
    if (c->proposals == 0 || c->proposals > HV_SIM_PROPOSALS_MAX)
        return hv__field_fail(err, "proposals", "must be in [1, 100000]");
    if (c->faults & ~HV_SIM_ALL)
        return hv__field_fail(err, "faults",
                              "must hold only the consensus simulator's HV_SIM_* bits");
    /* A count for a fault class that is not enabled would be silently ignored: refuse it. */
    if (c->byzantine != 0 && !(c->faults & HV_SIM_BYZANTINE))
        return hv__field_fail(err, "byzantine", "must be 0 without HV_SIM_BYZANTINE in faults");
    if (c->crashed != 0 && !(c->faults & HV_SIM_CRASH))
        return hv__field_fail(err, "crashed", "must be 0 without HV_SIM_CRASH in faults");
    uint32_t byz, crashed;
    fault_counts(c, &byz, &crashed);
    /* The engine's guarantees assume n >= 3f + 1 Byzantine voters; beyond it a run proves
     * nothing, so it is not a configuration the simulator accepts. */
    if (3 * (uint64_t)byz + 1 > c->agents)
        return hv__field_fail(err, "byzantine", "must keep agents >= 3 * byzantine + 1");
    if ((uint64_t)byz + crashed > c->agents)
        return hv__field_fail(err, "crashed", "plus byzantine must not exceed agents");
    return 0;
}

static int new_engine(sim *s, hv_consensus **out, int early)
{
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    /* Every message of a proposal is delivered within 2 * (BASE + DELAY + HOLD) of its
     * opening, while at most 64 newer proposals open: 256 slots never forget one in use. */
    o.proposals_max = s->cfg.proposals < 256 ? s->cfg.proposals : 256;
    o.voters_max = s->cfg.agents;
    o.proposal_voters_max = s->cfg.agents;
    o.evidence_max = 1024;
    o.flags = early ? 0 : HV_CONSENSUS_NO_EARLY;
    int rc = hv_consensus_new(&o, out);
    for (uint32_t i = 1; rc == 0 && i <= s->cfg.agents; i++)
        rc = hv_consensus_add_voter(*out, s->agents[i].id, s->agents[i].pk, s->agents[i].mac);
    return rc;
}

static int setup(sim *s, uint32_t byz, uint32_t crashed)
{
    hv_rng_seed(&s->rng, s->cfg.seed);
    hv__simnet_default(&s->net, s->cfg.faults);
    hv_crit_table_default(&s->table);
    for (uint32_t i = 1; i <= s->cfg.agents; i++) {
        agent *a = &s->agents[i];
        a->id = 1000 + i * 7 + hv_rng_below(&s->rng, 7);
        a->crash_ns = UINT64_MAX;
        derive_keys(s, a);
        s->voters[i - 1] = (hv_voter){ a->id, 1 + (uint32_t)hv_rng_below(&s->rng, 5) };
    }
    pick_agents(s, byz, 1);
    pick_agents(s, crashed, 2);
    uint64_t overlap = (uint64_t)(2 * DEADLINE_NS) / (GAP_NS / 2) + 2;
    uint64_t per = 1 + 2 * (uint64_t)s->cfg.agents * (1 + 2 * 2);
    uint64_t cap = (overlap < s->cfg.proposals ? overlap : s->cfg.proposals) * per;
    if (cap > UINT32_MAX)
        return HV_EINVAL;
    s->cap = (uint32_t)cap;
    s->pool = calloc(s->cap, sizeof(*s->pool));
    s->unused = calloc(s->cap, sizeof(*s->unused));
    s->props = calloc(s->cfg.proposals, sizeof(*s->props));
    if (s->pool == NULL || s->unused == NULL || s->props == NULL ||
        hv__timeq_init(&s->queue, s->cap) != 0)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < s->cap; i++) /* pop order: slot 0 first */
        s->unused[i] = s->cap - 1 - i;
    s->nunused = s->cap;
    crypto_generichash_init(&s->hash, NULL, 0, 32);
    int rc = new_engine(s, &s->eng, !s->cfg.no_early);
    if (rc == 0 && !s->cfg.no_early)
        rc = new_engine(s, &s->shadow, 0);
    return rc;
}

/* ---- the run ---- */

static void step(sim *s)
{
    uint64_t t_ev = hv__timeq_next(&s->queue);
    uint64_t t_open = s->nopened < s->cfg.proposals ? s->next_open_ns : UINT64_MAX;
    uint64_t t_dl = hv_consensus_next_deadline(s->eng);
    if (s->shadow != NULL && hv_consensus_next_deadline(s->shadow) < t_dl)
        t_dl = hv_consensus_next_deadline(s->shadow);
    if (t_dl <= t_open && t_dl <= t_ev) {
        s->now = t_dl;
        tick_all(s);
    } else if (t_open <= t_ev) {
        s->now = t_open;
        int rc = open_next(s);
        if (rc != 0)
            violate(s, "propose failed: %s", hv_strerror(rc));
    } else {
        event e = ev_pop(s);
        s->now = e.t;
        if (e.type == EV_PROPOSAL)
            agent_receives(s, &e);
        else
            coordinator_receives(s, &e);
    }
    if (hv_consensus_next_deadline(s->eng) <= s->now)
        violate(s, "an open proposal is past its deadline");
}

static void check_end(sim *s, uint32_t byz, uint32_t crashed)
{
    hv_consensus_stats st;
    hv_consensus_stats_get(s->eng, &st);
    if (st.open != 0)
        violate(s, "%" PRIu64 " proposals still open at the end", st.open);
    if (st.equivocations != s->res->equivocations_detected)
        violate(s, "engine reports %" PRIu64 " equivocations, sim saw %" PRIu64, st.equivocations,
                s->res->equivocations_detected);
    int clean = byz == 0 && crashed == 0 && !(s->cfg.faults & HV_SIM_LOSS);
    for (uint32_t k = 0; k < s->cfg.proposals && !s->res->violation; k++) {
        prop *p = &s->props[k];
        if (p->outcome == HV_OUTCOME_PENDING)
            violate(s, "proposal %" PRIu64 " never decided", p->p.id);
        if (clean && p->all_approve && p->outcome != HV_OUTCOME_ACCEPTED)
            violate(s, "honest run: proposal %" PRIu64 " approved by all was %s", p->p.id,
                    hv_outcome_name(p->outcome));
        if (s->shadow == NULL || p->main_excl || p->shadow_excl)
            continue;
        s->res->et_compared++;
        if (p->shadow_outcome != p->outcome)
            violate(s, "proposal %" PRIu64 ": %s with early termination, %s without", p->p.id,
                    hv_outcome_name(p->outcome), hv_outcome_name(p->shadow_outcome));
    }
}

int hv_sim_consensus_run(const hv_sim_consensus_opts *cfg, hv_sim_consensus_result *out)
{
    uint32_t byz, crashed;
    int rc = hv_sim_consensus_opts_check(cfg, NULL);
    if (rc != 0)
        return rc;
    fault_counts(cfg, &byz, &crashed);
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    memset(out, 0, sizeof(*out));
    sim *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->cfg = *cfg;
    s->res = out;
    rc = setup(s, byz, crashed);
    /* Every message causes at most a bounded number of steps: the loop cannot run away. */
    uint64_t steps_max = (uint64_t)cfg->proposals * (4 + 2 * (uint64_t)cfg->agents * 10) + 64;
    for (uint64_t n = 0; rc == 0 && !out->violation; n++) {
        if (s->queue.n == 0 && s->nopened == cfg->proposals &&
            hv_consensus_next_deadline(s->eng) == UINT64_MAX &&
            (s->shadow == NULL || hv_consensus_next_deadline(s->shadow) == UINT64_MAX))
            break;
        if (n == steps_max)
            violate(s, "did not terminate within %" PRIu64 " steps", steps_max);
        else
            step(s);
    }
    if (rc == 0 && !out->violation)
        check_end(s, byz, crashed);
    out->sim_end_ns = s->now;
    crypto_generichash_final(&s->hash, out->trace_hash, 32);
    sodium_bin2hex(out->trace_hex, sizeof(out->trace_hex), out->trace_hash, 32);
    hv_consensus_free(s->eng);
    hv_consensus_free(s->shadow);
    hv__timeq_fini(&s->queue);
    free(s->pool);
    free(s->unused);
    free(s->props);
    free(s);
    return rc;
}

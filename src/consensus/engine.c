/*
 * The consensus engine: a state machine over bounded tables, no I/O, no clock.
 *
 * Layout: proposals live in `slots` (proposals_max of them). Each slot owns a row of
 * proposal_voters_max entries in the per-voter arrays (sorted voter ids, weights, registry
 * index, vote state, recorded signature). A linear-probing hash maps proposal ids to slots;
 * a binary min-heap orders open slots by (deadline, open sequence); a FIFO remembers closed
 * slots oldest first so they can be recycled. The voter registry is another linear-probing
 * hash (voter id -> keys).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/consensus.h>

#include "consensus/consensus_int.h"
#include "core/assert.h"
#include "core/field.h"

enum { SLOT_FREE = 0, SLOT_OPEN = 1, SLOT_CLOSED = 2 };
enum { VS_CHOICE_MASK = 0x3, VS_EXCLUDED = 0x80 };
#define NO_POS UINT32_MAX
#define EMPTY  UINT32_MAX

typedef struct slot {
    uint64_t id;
    uint64_t opened_ns, deadline_ns, seq;
    uint64_t bound;            /* approvals (weight for WEIGHTED) needed; quorum for MAJORITY */
    uint64_t wa, wo, wtot;     /* approving, outstanding and total weight */
    uint32_t round, n, quorum; /* quorum: minimum votes cast (0 = none) */
    uint32_t a, r, b, x, o;    /* approvals, rejections, abstentions, excluded, outstanding */
    uint32_t heap_pos;
    uint8_t state, rule, crit, early;
    uint8_t payload_hash[HV_PAYLOAD_HASH_BYTES];
    hv_decision decision;
} slot;

typedef struct reg_entry {
    crypto_generichash_state mac_st; /* BLAKE2b state with the MAC key absorbed */
    uint8_t pk[HV_VOTE_PK_BYTES];
    uint8_t has_pk, has_mac;
} reg_entry;

struct hv_consensus {
    hv_consensus_opts o;
    uint32_t P, V, R; /* proposals_max, proposal_voters_max, voters_max */
    slot *slots;
    uint64_t *vid;
    uint32_t *vweight, *vreg;
    uint8_t *vstate;
    uint8_t (*vsig)[HV_VOTE_SIG_BYTES];
    /* proposal id -> slot */
    uint64_t *pkeys;
    uint32_t *pvals, pmask;
    /* open slots by deadline */
    uint32_t *heap, nheap;
    /* free slots (stack) and closed slots (FIFO ring) */
    uint32_t *freestack, nfree;
    uint32_t *closedq, chead, nclosed;
    /* voter registry */
    uint64_t *rkeys;
    uint32_t *rvals, rmask, nreg;
    reg_entry *reg;
    /* evidence ring */
    hv_evidence *ev;
    uint32_t ev_head, nev;
    uint64_t seq;
    int early;
    uint64_t now_ns_last; /* the latest now_ns of a propose or tick */
    hv_consensus_stats st;
    hv_hist latency;
};

/* ---- small hash tables (linear probing, backward-shift deletion) ---- */

static uint32_t hash64(uint64_t k, uint32_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (uint32_t)k & mask;
}

static uint32_t ht_find(const uint64_t *keys, const uint32_t *vals, uint32_t mask, uint64_t k)
{
    for (uint32_t i = hash64(k, mask);; i = (i + 1) & mask) {
        if (vals[i] == EMPTY)
            return EMPTY;
        if (keys[i] == k)
            return vals[i];
    }
}

static void ht_insert(uint64_t *keys, uint32_t *vals, uint32_t mask, uint64_t k, uint32_t v)
{
    uint32_t i = hash64(k, mask);
    while (vals[i] != EMPTY)
        i = (i + 1) & mask;
    keys[i] = k;
    vals[i] = v;
}

static void ht_remove(uint64_t *keys, uint32_t *vals, uint32_t mask, uint64_t k)
{
    uint32_t i = hash64(k, mask);
    while (vals[i] != EMPTY && keys[i] != k)
        i = (i + 1) & mask;
    if (vals[i] == EMPTY)
        return;
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (vals[j] == EMPTY)
            break;
        uint32_t home = hash64(keys[j], mask);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        keys[i] = keys[j];
        vals[i] = vals[j];
        i = j;
    }
    vals[i] = EMPTY;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

/* ---- deadline heap ---- */

static int heap_less(const hv_consensus *c, uint32_t sa, uint32_t sb)
{
    const slot *a = &c->slots[sa], *b = &c->slots[sb];
    if (a->deadline_ns != b->deadline_ns)
        return a->deadline_ns < b->deadline_ns;
    return a->seq < b->seq;
}

static void heap_set(hv_consensus *c, uint32_t pos, uint32_t s)
{
    c->heap[pos] = s;
    c->slots[s].heap_pos = pos;
}

static void heap_up(hv_consensus *c, uint32_t pos)
{
    uint32_t s = c->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!heap_less(c, s, c->heap[parent]))
            break;
        heap_set(c, pos, c->heap[parent]);
        pos = parent;
    }
    heap_set(c, pos, s);
}

static void heap_down(hv_consensus *c, uint32_t pos)
{
    uint32_t s = c->heap[pos];
    for (;;) {
        uint32_t l = 2 * pos + 1, best = l;
        if (l >= c->nheap)
            break;
        if (l + 1 < c->nheap && heap_less(c, c->heap[l + 1], c->heap[l]))
            best = l + 1;
        if (!heap_less(c, c->heap[best], s))
            break;
        heap_set(c, pos, c->heap[best]);
        pos = best;
    }
    heap_set(c, pos, s);
}

static void heap_push(hv_consensus *c, uint32_t s)
{
    heap_set(c, c->nheap++, s);
    heap_up(c, c->nheap - 1);
}

static void heap_remove(hv_consensus *c, uint32_t s)
{
    uint32_t pos = c->slots[s].heap_pos;
    HV_ASSERT(pos < c->nheap && c->heap[pos] == s);
    c->slots[s].heap_pos = NO_POS;
    uint32_t last = c->heap[--c->nheap];
    if (pos == c->nheap)
        return;
    heap_set(c, pos, last);
    heap_up(c, pos);
    heap_down(c, c->slots[last].heap_pos);
}

/* ---- creation ---- */

void hv_consensus_opts_default(hv_consensus_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->proposals_max = 1024;
    o->voters_max = 256;
    o->proposal_voters_max = 64;
    o->evidence_max = 64;
    hv_crit_table_default(&o->table);
}

int hv_consensus_opts_check(const hv_consensus_opts *o, hv_field_error *err)
{
    const uint32_t flags_known = HV_CONSENSUS_NO_EARLY | HV_CONSENSUS_NO_MAC |
                                 HV_CONSENSUS_SIGS_PREVERIFIED | HV_CONSENSUS_BFT_MAC;
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_consensus_opts)");
    if (o->proposals_max == 0 || o->proposals_max > (1u << 20))
        return hv__field_fail(err, "proposals_max", "must be in [1, 2^20]");
    if (o->voters_max == 0 || o->voters_max > (1u << 20))
        return hv__field_fail(err, "voters_max", "must be in [1, 2^20]");
    if (o->proposal_voters_max == 0 || o->proposal_voters_max > HV_PROPOSAL_VOTERS_MAX)
        return hv__field_fail(err, "proposal_voters_max", "must be in [1, 4096]");
    if (o->evidence_max == 0 || o->evidence_max > (1u << 20))
        return hv__field_fail(err, "evidence_max", "must be in [1, 2^20]");
    if ((uint64_t)o->proposals_max * o->proposal_voters_max > (1u << 26))
        return hv__field_fail(err, "proposal_voters_max",
                              "times proposals_max must be at most 2^26");
    if (o->flags & ~flags_known)
        return hv__field_fail(err, "flags", "must hold only HV_CONSENSUS_* bits");
    for (int i = 0; i < HV_CRIT_COUNT; i++)
        if (hv__policy_valid(&o->table.crit_policy[i]) != 0)
            return hv__field_fail(err, "table.crit_policy",
                                  "holds a rule or ratio hv_crit_table_set_policy() refuses");
    for (int i = 0; i < HV_ACTION_MAX; i++)
        if (o->table.action_crit[i] >= HV_CRIT_COUNT)
            return hv__field_fail(err, "table.action_crit", "holds a criticality out of range");
    return 0;
}

static int alloc_tables(hv_consensus *c)
{
    size_t rows = ((size_t)c->P + 1) * c->V; /* + a scratch row for proposals being checked */
    uint32_t pcap = pow2_at_least(c->P * 2), rcap = pow2_at_least(c->R * 2);
    c->slots = calloc(c->P, sizeof(*c->slots));
    c->vid = calloc(rows, sizeof(*c->vid));
    c->vweight = calloc(rows, sizeof(*c->vweight));
    c->vreg = calloc(rows, sizeof(*c->vreg));
    c->vstate = calloc(rows, sizeof(*c->vstate));
    c->vsig = calloc(rows, sizeof(*c->vsig));
    c->pkeys = calloc(pcap, sizeof(*c->pkeys));
    c->pvals = malloc(pcap * sizeof(*c->pvals));
    c->heap = calloc(c->P, sizeof(*c->heap));
    c->freestack = calloc(c->P, sizeof(*c->freestack));
    c->closedq = calloc(c->P, sizeof(*c->closedq));
    c->rkeys = calloc(rcap, sizeof(*c->rkeys));
    c->rvals = malloc(rcap * sizeof(*c->rvals));
    size_t reg_bytes = ((size_t)c->R * sizeof(*c->reg) + 63) / 64 * 64;
    c->reg = aligned_alloc(64, reg_bytes); /* crypto_generichash_state is 64-byte aligned */
    if (c->reg != NULL)
        memset(c->reg, 0, reg_bytes);
    c->ev = calloc(c->o.evidence_max, sizeof(*c->ev));
    if (!c->slots || !c->vid || !c->vweight || !c->vreg || !c->vstate || !c->vsig || !c->pkeys ||
        !c->pvals || !c->heap || !c->freestack || !c->closedq || !c->rkeys || !c->rvals ||
        !c->reg || !c->ev)
        return HV_ENOMEM;
    memset(c->pvals, 0xff, pcap * sizeof(*c->pvals));
    memset(c->rvals, 0xff, rcap * sizeof(*c->rvals));
    c->pmask = pcap - 1;
    c->rmask = rcap - 1;
    for (uint32_t i = 0; i < c->P; i++)
        c->freestack[i] = c->P - 1 - i;
    c->nfree = c->P;
    return hv_hist_init(&c->latency, UINT64_C(1) << 40, 7);
}

int hv_consensus_new(const hv_consensus_opts *opts, hv_consensus **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_consensus_opts dflt;
    if (opts == NULL) {
        hv_consensus_opts_default(&dflt);
        opts = &dflt;
    }
    int rv = hv_consensus_opts_check(opts, NULL);
    if (rv != 0)
        return rv;
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    hv_consensus *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return HV_ENOMEM;
    c->o = *opts;
    c->P = opts->proposals_max;
    c->V = opts->proposal_voters_max;
    c->R = opts->voters_max;
    c->early = !(opts->flags & HV_CONSENSUS_NO_EARLY);
    rv = alloc_tables(c);
    if (rv != 0) {
        hv_consensus_free(c);
        return rv;
    }
    *out = c;
    return 0;
}

void hv_consensus_free(hv_consensus *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c->vid);
    free(c->vweight);
    free(c->vreg);
    free(c->vstate);
    free(c->vsig);
    free(c->pkeys);
    free(c->pvals);
    free(c->heap);
    free(c->freestack);
    free(c->closedq);
    free(c->rkeys);
    free(c->rvals);
    free(c->reg);
    free(c->ev);
    hv_hist_fini(&c->latency);
    free(c);
}

void hv_consensus_set_early(hv_consensus *c, int on)
{
    c->early = on != 0;
}

int hv_consensus_add_voter(hv_consensus *c, uint64_t id, const uint8_t *pk, const uint8_t *mac_key)
{
    if (id == 0)
        return HV_EINVAL;
    if (ht_find(c->rkeys, c->rvals, c->rmask, id) != EMPTY)
        return HV_EEXIST;
    if (c->nreg == c->R)
        return HV_EFULL;
    reg_entry *e = &c->reg[c->nreg];
    memset(e, 0, sizeof(*e));
    if (pk != NULL) {
        memcpy(e->pk, pk, HV_VOTE_PK_BYTES);
        e->has_pk = 1;
    }
    if (mac_key != NULL) {
        if (crypto_generichash_init(&e->mac_st, mac_key, HV_VOTE_MAC_KEY_BYTES,
                                    HV_VOTE_MAC_BYTES) != 0)
            return HV_ECRYPTO;
        e->has_mac = 1;
    }
    ht_insert(c->rkeys, c->rvals, c->rmask, id, c->nreg++);
    return 0;
}

/* ---- proposals ---- */

static size_t row(const hv_consensus *c, uint32_t s)
{
    return (size_t)s * c->V;
}

/* Shell sort of a slot's voter row by id (no allocation, n <= HV_PROPOSAL_VOTERS_MAX). */
static void sort_row(hv_consensus *c, size_t base, uint32_t n)
{
    static const uint32_t gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < n; i++) {
            uint64_t id = c->vid[base + i];
            uint32_t w = c->vweight[base + i], j = i;
            for (; j >= gap && c->vid[base + j - gap] > id; j -= gap) {
                c->vid[base + j] = c->vid[base + j - gap];
                c->vweight[base + j] = c->vweight[base + j - gap];
            }
            c->vid[base + j] = id;
            c->vweight[base + j] = w;
        }
    }
}

static int resolve_policy(const hv_consensus *c, const hv_proposal *p, hv_policy *pol,
                          hv_crit *crit)
{
    if (p->action >= HV_ACTION_MAX)
        return HV_ERANGE;
    if (p->policy.rule == HV_RULE_AUTO)
        return hv_crit_table_lookup(&c->o.table, p->action, crit, pol);
    if ((unsigned)p->crit >= HV_CRIT_COUNT)
        return HV_ERANGE;
    *pol = p->policy;
    *crit = p->crit;
    return hv__policy_valid(pol);
}

/* Copies, sorts and checks the voter list into slot s's row; sums the weights. */
static int load_voters(hv_consensus *c, uint32_t s, const hv_proposal *p, int rule, uint64_t *wtot)
{
    size_t base = row(c, s);
    *wtot = 0;
    for (uint32_t i = 0; i < p->nvoters; i++) {
        c->vid[base + i] = p->voters[i].id;
        c->vweight[base + i] = p->voters[i].weight;
        *wtot += p->voters[i].weight;
    }
    sort_row(c, base, p->nvoters);
    int bft_mac = (c->o.flags & HV_CONSENSUS_BFT_MAC) != 0;
    int need_mac = (rule != HV_RULE_BFT || bft_mac) && !(c->o.flags & HV_CONSENSUS_NO_MAC);
    int need_pk = rule == HV_RULE_BFT && !bft_mac;
    for (uint32_t i = 0; i < p->nvoters; i++) {
        if (i > 0 && c->vid[base + i] == c->vid[base + i - 1])
            return HV_EINVAL;
        uint32_t r = ht_find(c->rkeys, c->rvals, c->rmask, c->vid[base + i]);
        if (r == EMPTY)
            return HV_ENOAGENT;
        if ((need_pk && !c->reg[r].has_pk) || (need_mac && !c->reg[r].has_mac))
            return HV_EINVAL;
        c->vreg[base + i] = r;
        c->vstate[base + i] = 0;
    }
    return 0;
}

static void forget_slot(hv_consensus *c, uint32_t s)
{
    ht_remove(c->pkeys, c->pvals, c->pmask, c->slots[s].id);
    c->slots[s].state = SLOT_FREE;
    c->st.forgotten++;
}

/* A free slot: never used, or the oldest closed one (forgotten). EMPTY when all are open. */
static uint32_t take_slot(hv_consensus *c)
{
    if (c->nfree > 0)
        return c->freestack[--c->nfree];
    if (c->nclosed == 0)
        return EMPTY;
    uint32_t s = c->closedq[c->chead];
    c->chead = (c->chead + 1) % c->P;
    c->nclosed--;
    forget_slot(c, s);
    return s;
}

static int check_proposal(const hv_consensus *c, const hv_proposal *p, uint64_t now_ns)
{
    if (p->id == 0 || p->deadline_ns <= now_ns || p->nvoters == 0 || p->voters == NULL)
        return HV_EINVAL;
    if (p->nvoters > c->V)
        return HV_ERANGE;
    if (ht_find(c->pkeys, c->pvals, c->pmask, p->id) != EMPTY)
        return HV_EEXIST;
    return 0;
}

static void init_slot(hv_consensus *c, slot *sl, const hv_proposal *p, const hv_policy *pol,
                      hv_crit crit, uint64_t now_ns)
{
    sl->id = p->id;
    sl->round = p->round;
    sl->opened_ns = now_ns;
    sl->deadline_ns = p->deadline_ns;
    sl->seq = c->seq++;
    sl->rule = (uint8_t)pol->rule;
    sl->crit = (uint8_t)crit;
    sl->early = (uint8_t)c->early;
    sl->n = p->nvoters;
    sl->quorum = pol->rule == HV_RULE_MAJORITY ? (uint32_t)sl->bound : pol->quorum;
    sl->a = sl->r = sl->b = sl->x = 0;
    sl->o = p->nvoters;
    sl->wa = 0;
    sl->wo = sl->wtot;
    memcpy(sl->payload_hash, p->payload_hash, HV_PAYLOAD_HASH_BYTES);
    memset(&sl->decision, 0, sizeof(sl->decision));
    sl->state = SLOT_OPEN;
}

/* Moves the checked voter row from the scratch row (index P) into slot s. */
static void adopt_row(hv_consensus *c, uint32_t s, uint32_t n)
{
    size_t from = row(c, c->P), to = row(c, s);
    memcpy(&c->vid[to], &c->vid[from], n * sizeof(*c->vid));
    memcpy(&c->vweight[to], &c->vweight[from], n * sizeof(*c->vweight));
    memcpy(&c->vreg[to], &c->vreg[from], n * sizeof(*c->vreg));
    memset(&c->vstate[to], 0, n * sizeof(*c->vstate));
}

/*
 * The coordinator's own calls (propose, tick) read one monotonic clock or drive a simulated one
 * forward, so their time never runs backwards. Votes are not checked here: a caller may date a
 * vote with its own time for it (the swarm's coordinator, which passes its runner's clock, asserts
 * its time at its own entry instead).
 */
static void clock_advance(hv_consensus *c, uint64_t now_ns)
{
    HV_ASSERT(now_ns >= c->now_ns_last);
    c->now_ns_last = now_ns;
}

int hv_consensus_propose(hv_consensus *c, const hv_proposal *p, uint64_t now_ns)
{
    clock_advance(c, now_ns);
    int rv = check_proposal(c, p, now_ns);
    if (rv != 0)
        return rv;
    hv_policy pol;
    hv_crit crit;
    rv = resolve_policy(c, p, &pol, &crit);
    if (rv != 0)
        return rv;
    if (c->nfree == 0 && c->nclosed == 0)
        return HV_EFULL;
    /* Check everything in the scratch row first, so that a refused proposal never costs a
     * remembered one its slot. */
    uint64_t wtot, bound;
    rv = load_voters(c, c->P, p, pol.rule, &wtot);
    if (rv == 0)
        rv = hv_policy_bound(&pol, p->nvoters, wtot, &bound);
    if (rv != 0)
        return rv;
    uint32_t s = take_slot(c);
    HV_ASSERT(s != EMPTY && c->slots[s].state == SLOT_FREE);
    adopt_row(c, s, p->nvoters);
    slot *sl = &c->slots[s];
    sl->wtot = wtot;
    sl->bound = bound;
    init_slot(c, sl, p, &pol, crit, now_ns);
    ht_insert(c->pkeys, c->pvals, c->pmask, p->id, s);
    heap_push(c, s);
    c->st.open++;
    c->st.opened[pol.rule]++;
    return 0;
}

/* ---- deciding ---- */

/* The three predicates every rule reduces to (see docs/CONSENSUS.md, "Bounds"). */
static int acc_now(const slot *sl)
{
    uint32_t cast = sl->a + sl->r + sl->b;
    if (cast < sl->quorum)
        return 0;
    switch (sl->rule) {
    case HV_RULE_MAJORITY:
        return sl->a > sl->r;
    case HV_RULE_WEIGHTED:
        return sl->wa >= sl->bound;
    default:
        return sl->a >= sl->bound;
    }
}

/* Accepted whatever the outstanding voters do (or if they never vote). */
static int acc_certain(const slot *sl)
{
    if (sl->rule == HV_RULE_MAJORITY)
        return acc_now(sl) && sl->a > (uint64_t)sl->r + sl->o;
    return acc_now(sl);
}

/* Accepted if every outstanding voter approved. */
static int acc_possible(const slot *sl)
{
    uint32_t cast = sl->a + sl->r + sl->b;
    if ((uint64_t)cast + sl->o < sl->quorum)
        return 0;
    switch (sl->rule) {
    case HV_RULE_MAJORITY:
        return (uint64_t)sl->a + sl->o > sl->r;
    case HV_RULE_WEIGHTED:
        return sl->wa + sl->wo >= sl->bound;
    default:
        return (uint64_t)sl->a + sl->o >= sl->bound;
    }
}

static void close_slot(hv_consensus *c, uint32_t s, uint8_t outcome, uint8_t reason,
                       uint64_t now_ns, hv_decision *out)
{
    slot *sl = &c->slots[s];
    HV_ASSERT(sl->state == SLOT_OPEN && sl->heap_pos < c->nheap);
    HV_ASSERT(sl->a + sl->r + sl->b + sl->x + sl->o == sl->n);
    hv_decision *d = &sl->decision;
    d->proposal_id = sl->id;
    d->round = sl->round;
    d->outcome = outcome;
    d->rule = sl->rule;
    d->crit = sl->crit;
    d->reason = reason;
    d->votes_needed = sl->a + sl->r + sl->b;
    d->eligible = sl->n;
    d->approvals = sl->a;
    d->rejections = sl->r;
    d->abstentions = sl->b;
    d->excluded = sl->x;
    d->bound = (uint32_t)(sl->bound > UINT32_MAX ? UINT32_MAX : sl->bound);
    d->approve_weight = sl->wa;
    d->total_weight = sl->wtot;
    d->opened_ns = sl->opened_ns;
    d->decided_ns = now_ns;
    d->deadline_ns = sl->deadline_ns;
    sl->state = SLOT_CLOSED;
    heap_remove(c, s);
    c->closedq[(c->chead + c->nclosed) % c->P] = s;
    c->nclosed++;
    c->st.open--;
    c->st.decided[sl->rule][outcome]++;
    if (reason == HV_REASON_EARLY) {
        c->st.decided_early++;
        c->st.votes_saved += sl->o;
    }
    hv_hist_record(&c->latency, now_ns - sl->opened_ns);
    if (out != NULL)
        *out = *d;
}

/* Decides slot s if its outcome is now certain. */
static void evaluate(hv_consensus *c, uint32_t s, uint64_t now_ns, hv_decision *out)
{
    slot *sl = &c->slots[s];
    if (!sl->early && sl->o > 0)
        return;
    uint8_t reason = sl->o > 0 ? HV_REASON_EARLY : HV_REASON_ALL_VOTED;
    if (acc_certain(sl))
        close_slot(c, s, HV_OUTCOME_ACCEPTED, reason, now_ns, out);
    else if (!acc_possible(sl))
        close_slot(c, s, HV_OUTCOME_REJECTED, reason, now_ns, out);
}

/* Decides slot s with the votes it had at its deadline. The decision is dated at the
 * deadline even when the caller comes late: later votes were never counted. */
static void decide_at_deadline(hv_consensus *c, uint32_t s, hv_decision *out)
{
    slot *sl = &c->slots[s];
    uint8_t outcome = HV_OUTCOME_NO_QUORUM;
    if (acc_now(sl))
        outcome = HV_OUTCOME_ACCEPTED;
    else if (!acc_possible(sl))
        outcome = HV_OUTCOME_REJECTED;
    close_slot(c, s, outcome, HV_REASON_DEADLINE, sl->deadline_ns, out);
}

size_t hv_consensus_tick(hv_consensus *c, uint64_t now_ns, hv_decision *out, size_t cap)
{
    clock_advance(c, now_ns);
    size_t k = 0;
    while (k < cap && c->nheap > 0) {
        uint32_t s = c->heap[0];
        if (c->slots[s].deadline_ns > now_ns)
            break;
        decide_at_deadline(c, s, &out[k++]);
    }
    return k;
}

uint64_t hv_consensus_next_deadline(const hv_consensus *c)
{
    return c->nheap > 0 ? c->slots[c->heap[0]].deadline_ns : UINT64_MAX;
}

/* ---- voting ---- */

/* Index of voter in slot s's sorted row, or EMPTY. */
static uint32_t find_voter(const hv_consensus *c, uint32_t s, uint64_t voter)
{
    const uint64_t *ids = &c->vid[row(c, s)];
    uint32_t lo = 0, hi = c->slots[s].n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < voter)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->slots[s].n && ids[lo] == voter ? lo : EMPTY;
}

static int authenticate(const hv_consensus *c, const slot *sl, uint32_t reg, const hv_vote *v)
{
    const reg_entry *e = &c->reg[reg];
    if (sl->rule == HV_RULE_BFT && !(c->o.flags & HV_CONSENSUS_BFT_MAC))
        return (c->o.flags & HV_CONSENSUS_SIGS_PREVERIFIED) ? 0 : hv_vote_verify(v, e->pk);
    if (c->o.flags & HV_CONSENSUS_NO_MAC)
        return 0;
    return hv__vote_mac_verify_keyed(v, &e->mac_st);
}

static void tally(slot *sl, uint8_t choice, uint32_t weight, int sign)
{
    uint32_t *cnt = choice == HV_CHOICE_APPROVE  ? &sl->a
                    : choice == HV_CHOICE_REJECT ? &sl->r
                                                 : &sl->b;
    if (sign > 0) {
        HV_ASSERT(sl->o > 0 && sl->wo >= weight);
        (*cnt)++;
        sl->o--;
        sl->wo -= weight;
        if (choice == HV_CHOICE_APPROVE)
            sl->wa += weight;
    } else {
        HV_ASSERT(*cnt > 0 && (choice != HV_CHOICE_APPROVE || sl->wa >= weight));
        (*cnt)--;
        if (choice == HV_CHOICE_APPROVE)
            sl->wa -= weight;
    }
}

static void record_evidence(hv_consensus *c, const slot *sl, size_t i, const hv_vote *v,
                            uint64_t now_ns)
{
    uint32_t at;
    if (c->nev == c->o.evidence_max) {
        at = c->ev_head;
        c->ev_head = (c->ev_head + 1) % c->o.evidence_max;
        c->st.evidence_dropped++;
    } else {
        at = (c->ev_head + c->nev++) % c->o.evidence_max;
    }
    hv_evidence *e = &c->ev[at];
    e->proposal_id = sl->id;
    e->voter = v->voter;
    e->round = sl->round;
    memcpy(e->payload_hash, sl->payload_hash, HV_PAYLOAD_HASH_BYTES);
    e->choice[0] = c->vstate[i] & VS_CHOICE_MASK;
    memcpy(e->sig[0], c->vsig[i], HV_VOTE_SIG_BYTES);
    e->choice[1] = v->choice;
    memcpy(e->sig[1], v->sig, HV_VOTE_SIG_BYTES);
    e->detected_ns = now_ns;
    c->st.equivocations++;
    if (c->o.on_equivocation != NULL)
        c->o.on_equivocation(c->o.user, e);
}

/* A validly signed second vote that differs: keep evidence, exclude the voter, and (while
 * open) take its earlier vote out of the tally, which may decide the proposal. */
static int equivocate(hv_consensus *c, uint32_t s, size_t i, const hv_vote *v, uint64_t now_ns,
                      hv_decision *out)
{
    slot *sl = &c->slots[s];
    HV_ASSERT(sl->rule == HV_RULE_BFT && (c->vstate[i] & VS_CHOICE_MASK) != 0);
    record_evidence(c, sl, i, v, now_ns);
    uint8_t prev = c->vstate[i] & VS_CHOICE_MASK;
    c->vstate[i] |= VS_EXCLUDED;
    sl->x++;
    if (sl->state == SLOT_OPEN) {
        tally(sl, prev, c->vweight[i], -1);
        evaluate(c, s, now_ns, out);
    }
    return HV_EEQUIVOCATION;
}

static int refuse(hv_consensus *c, int err)
{
    c->st.rejected_votes++;
    switch (err) {
    case HV_ENOPROPOSAL:
        c->st.no_proposal++;
        break;
    case HV_ENOTELIGIBLE:
        c->st.not_eligible++;
        break;
    case HV_EVOTEMISMATCH:
        c->st.mismatch++;
        break;
    case HV_EPROPOSALCLOSED:
        c->st.closed++;
        break;
    case HV_EEXCLUDED:
        c->st.excluded++;
        break;
    case HV_EBADSIG:
        c->st.bad_sig++;
        break;
    case HV_EBADMAC:
        c->st.bad_mac++;
        break;
    case HV_EDUPVOTE:
        c->st.dup++;
        break;
    default:
        break;
    }
    return err;
}

/* Checks that need no cryptography; returns 0 with *slot_out and *idx_out set, or an error. */
static int locate(hv_consensus *c, const hv_vote *v, uint32_t *slot_out, size_t *idx_out)
{
    uint32_t s = ht_find(c->pkeys, c->pvals, c->pmask, v->proposal_id);
    if (s == EMPTY)
        return HV_ENOPROPOSAL;
    uint32_t k = find_voter(c, s, v->voter);
    if (k == EMPTY)
        return HV_ENOTELIGIBLE;
    if (v->choice < HV_CHOICE_APPROVE || v->choice > HV_CHOICE_ABSTAIN)
        return HV_EINVAL;
    const slot *sl = &c->slots[s];
    if (v->round != sl->round ||
        memcmp(v->payload_hash, sl->payload_hash, HV_PAYLOAD_HASH_BYTES) != 0)
        return HV_EVOTEMISMATCH;
    *slot_out = s;
    *idx_out = row(c, s) + k;
    return 0;
}

/* Vote on a decided proposal: only a BFT equivocation still matters (as evidence). */
static int vote_closed(hv_consensus *c, uint32_t s, size_t i, const hv_vote *v, uint64_t now_ns)
{
    const slot *sl = &c->slots[s];
    uint8_t st = c->vstate[i];
    if (st & VS_EXCLUDED)
        return HV_EEXCLUDED;
    int differs = (st & VS_CHOICE_MASK) != 0 && (st & VS_CHOICE_MASK) != v->choice;
    if (sl->rule != HV_RULE_BFT || !differs)
        return HV_EPROPOSALCLOSED;
    if (authenticate(c, sl, c->vreg[i], v) != 0)
        return HV_EPROPOSALCLOSED;
    return equivocate(c, s, i, v, now_ns, NULL);
}

int hv_consensus_vote(hv_consensus *c, const hv_vote *v, uint64_t now_ns, hv_decision *out)
{
    hv_decision scratch;
    if (out == NULL)
        out = &scratch;
    out->outcome = HV_OUTCOME_PENDING;
    uint32_t s;
    size_t i;
    int rv = locate(c, v, &s, &i);
    if (rv != 0)
        return refuse(c, rv);
    slot *sl = &c->slots[s];
    if (sl->state == SLOT_OPEN && now_ns >= sl->deadline_ns)
        decide_at_deadline(c, s, out); /* the caller has not ticked yet: too late to count */
    if (sl->state != SLOT_OPEN) {
        rv = vote_closed(c, s, i, v, now_ns);
        return rv == HV_EEQUIVOCATION ? rv : refuse(c, rv);
    }
    uint8_t st = c->vstate[i];
    if (st & VS_EXCLUDED)
        return refuse(c, HV_EEXCLUDED);
    if (st != 0 && sl->rule != HV_RULE_BFT)
        return refuse(c, HV_EDUPVOTE); /* first vote stands; nothing to verify */
    if (st == v->choice && memcmp(c->vsig[i], v->sig, HV_VOTE_SIG_BYTES) == 0)
        return refuse(c, HV_EDUPVOTE); /* byte-identical retransmission */
    rv = authenticate(c, sl, c->vreg[i], v);
    if (rv != 0)
        return refuse(c, rv);
    if (st == v->choice)
        return refuse(c, HV_EDUPVOTE);
    if (st != 0)
        return equivocate(c, s, i, v, now_ns, out);
    c->vstate[i] = v->choice;
    memcpy(c->vsig[i], v->sig, HV_VOTE_SIG_BYTES);
    tally(sl, v->choice, c->vweight[i], +1);
    c->st.votes++;
    evaluate(c, s, now_ns, out);
    return 0;
}

/* ---- inspection ---- */

int hv_consensus_status(const hv_consensus *c, uint64_t id, hv_proposal_status *out)
{
    uint32_t s = ht_find(c->pkeys, c->pvals, c->pmask, id);
    if (s == EMPTY)
        return HV_ENOPROPOSAL;
    const slot *sl = &c->slots[s];
    memset(out, 0, sizeof(*out));
    out->outcome = sl->state == SLOT_OPEN ? HV_OUTCOME_PENDING : sl->decision.outcome;
    out->rule = sl->rule;
    out->crit = sl->crit;
    out->eligible = sl->n;
    out->approvals = sl->a;
    out->rejections = sl->r;
    out->abstentions = sl->b;
    out->excluded = sl->x;
    out->deadline_ns = sl->deadline_ns;
    if (sl->state == SLOT_CLOSED)
        out->decision = sl->decision;
    return 0;
}

int hv_consensus_is_excluded(const hv_consensus *c, uint64_t id, uint64_t voter)
{
    uint32_t s = ht_find(c->pkeys, c->pvals, c->pmask, id);
    if (s == EMPTY)
        return HV_ENOPROPOSAL;
    uint32_t k = find_voter(c, s, voter);
    if (k == EMPTY)
        return HV_ENOTELIGIBLE;
    return (c->vstate[row(c, s) + k] & VS_EXCLUDED) != 0;
}

size_t hv_consensus_evidence_count(const hv_consensus *c)
{
    return c->nev;
}

int hv_consensus_evidence_get(const hv_consensus *c, size_t i, hv_evidence *out)
{
    if (i >= c->nev)
        return HV_ERANGE;
    *out = c->ev[(c->ev_head + i) % c->o.evidence_max];
    return 0;
}

void hv_consensus_stats_get(const hv_consensus *c, hv_consensus_stats *out)
{
    *out = c->st;
}

const hv_hist *hv_consensus_latency(const hv_consensus *c)
{
    return &c->latency;
}

/*
 * Fuzzes the consensus engine with arbitrary sequences of proposals, votes (well signed or
 * MAC'd, corrupted, mismatched, from strangers) and clock ticks. Checks that nothing crashes,
 * that a decided proposal never changes its outcome, that no open proposal outlives its
 * deadline after a tick, and that every decision is within its deadline.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/consensus.h>

#define VOTERS 6
#define IDS    8

typedef struct cursor {
    const uint8_t *p;
    size_t n;
} cursor;

static uint8_t next(cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

static uint8_t pk[VOTERS + 1][32], sk[VOTERS + 1][64], mac[VOTERS + 1][32];

static void keys_once(void)
{
    static int done;
    if (done)
        return;
    if (sodium_init() < 0)
        abort();
    for (int v = 1; v <= VOTERS; v++) {
        uint8_t seed[32] = { (uint8_t)v };
        crypto_sign_seed_keypair(pk[v], sk[v], seed);
        memset(mac[v], v, 32);
    }
    done = 1;
}

#define check(ok) check_at((ok), __LINE__)

static void check_at(int ok, int line)
{
    if (ok)
        return;
    fprintf(stderr, "consensus_engine fuzz: invariant at line %d violated\n", line);
    abort();
}

static void propose(hv_consensus *c, cursor *in, uint64_t now, uint8_t outcome[IDS + 1])
{
    hv_voter vs[VOTERS + 1];
    uint8_t mask = next(in), nv = 0;
    for (int v = 1; v <= VOTERS + 1; v++)
        if (mask & (1u << (v - 1)))
            vs[nv++] = (hv_voter){ v == VOTERS + 1 ? 99 : (uint64_t)v, next(in) % 4u };
    hv_proposal p = { .id = next(in) % (IDS + 1), .voters = vs, .nvoters = nv };
    p.policy = (hv_policy){ .rule = (hv_rule)(next(in) % 8),
                            .num = next(in) % 6,
                            .den = next(in) % 6,
                            .quorum = next(in) % 8 };
    p.crit = (hv_crit)(next(in) % 5);
    p.action = next(in) % 40;
    p.round = next(in) % 2;
    memset(p.payload_hash, next(in) % 2, 32);
    p.deadline_ns = now + (uint64_t)next(in) * 10;
    if (hv_consensus_propose(c, &p, now) == 0)
        outcome[p.id] = 0; /* a new proposal under a forgotten id */
}

static void vote(hv_consensus *c, cursor *in, uint64_t now, uint8_t outcome[IDS + 1])
{
    hv_vote v = { .proposal_id = next(in) % (IDS + 2),
                  .voter = next(in) % (VOTERS + 2),
                  .choice = next(in) % 5,
                  .round = next(in) % 2 };
    memset(v.payload_hash, next(in) % 2, 32);
    uint8_t mode = next(in) % 4;
    hv_proposal_status st;
    int bft = hv_consensus_status(c, v.proposal_id, &st) == 0 && st.rule == HV_RULE_BFT;
    uint64_t key = v.voter >= 1 && v.voter <= VOTERS ? v.voter : 1;
    if (bft)
        hv_vote_sign(&v, sk[key]);
    else
        hv_vote_mac(&v, mac[key]);
    if (mode == 1)
        v.sig[next(in) % 64] ^= (uint8_t)(1u << (next(in) % 8));
    hv_decision d;
    int rv = hv_consensus_vote(c, &v, now, &d);
    check(rv <= 0);
    if (d.outcome != HV_OUTCOME_PENDING) {
        check(rv == 0 || rv == HV_EEQUIVOCATION || rv == HV_EPROPOSALCLOSED);
        check(d.decided_ns <= d.deadline_ns);
        if (d.proposal_id <= IDS)
            outcome[d.proposal_id] = d.outcome;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keys_once();
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    o.proposals_max = 4;
    o.proposal_voters_max = VOTERS + 1;
    o.evidence_max = 2;
    cursor in = { data, size };
    o.flags = next(&in) % 4;
    hv_consensus *c;
    if (hv_consensus_new(&o, &c) != 0)
        return 0;
    for (int v = 1; v <= VOTERS; v++)
        hv_consensus_add_voter(c, (uint64_t)v, v % 3 ? pk[v] : NULL, v % 4 ? mac[v] : NULL);
    uint8_t outcome[IDS + 1] = { 0 };
    uint64_t now = 0;
    for (int steps = 0; in.n > 0 && steps < 256; steps++) {
        switch (next(&in) % 4) {
        case 0:
            propose(c, &in, now, outcome);
            break;
        case 1:
            vote(c, &in, now, outcome);
            break;
        case 2: {
            now += (uint64_t)next(&in) * 5;
            hv_decision d[2];
            size_t cap = 1 + next(&in) % 2;
            size_t k = hv_consensus_tick(c, now, d, cap);
            check(k == cap || hv_consensus_next_deadline(c) > now);
            for (size_t i = 0; i < k; i++) {
                check(d[i].decided_ns <= now && d[i].deadline_ns <= now);
                if (d[i].proposal_id <= IDS)
                    outcome[d[i].proposal_id] = d[i].outcome;
            }
            break;
        }
        default:
            hv_consensus_tick(c, now, NULL, 0);
            break;
        }
        /* A remembered, decided proposal keeps the outcome it was decided with. */
        for (uint64_t id = 1; id <= IDS; id++) {
            hv_proposal_status st;
            if (hv_consensus_status(c, id, &st) == 0 && st.outcome != HV_OUTCOME_PENDING)
                check(st.outcome == outcome[id]);
        }
    }
    hv_consensus_free(c);
    return 0;
}

/* Shared fixture for the consensus tests: an engine with voters 1..N whose Ed25519 and MAC
 * keys derive from their ids, and helpers that build signed or MAC'd votes. */
#ifndef HV_TESTS_CONSENSUS_FIXTURE_H
#define HV_TESTS_CONSENSUS_FIXTURE_H

#include <string.h>

#include <sodium.h>

#include <hivewire/consensus.h>

#define FX_VOTERS_MAX 16

typedef struct fx {
    hv_consensus *c;
    uint8_t pk[FX_VOTERS_MAX + 1][32];
    uint8_t sk[FX_VOTERS_MAX + 1][64];
    uint8_t mac[FX_VOTERS_MAX + 1][32];
    hv_voter voters[FX_VOTERS_MAX];
    uint8_t hash[32];
} fx;

static inline void fx_keys(fx *f, uint64_t id)
{
    uint8_t seed[32] = { 0 };
    seed[0] = (uint8_t)id;
    seed[1] = 0xa5;
    crypto_sign_seed_keypair(f->pk[id], f->sk[id], seed);
    memset(f->mac[id], (int)(0x40 + id), 32);
}

static inline int fx_init(fx *f, uint32_t flags)
{
    memset(f, 0, sizeof(*f));
    if (sodium_init() < 0)
        return -1;
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    o.flags = flags;
    o.proposals_max = 8;
    o.evidence_max = 4;
    int rv = hv_consensus_new(&o, &f->c);
    if (rv != 0)
        return rv;
    for (uint64_t id = 1; id <= FX_VOTERS_MAX; id++) {
        fx_keys(f, id);
        f->voters[id - 1] = (hv_voter){ .id = id, .weight = 1 };
        rv = hv_consensus_add_voter(f->c, id, f->pk[id], f->mac[id]);
        if (rv != 0)
            return rv;
    }
    memset(f->hash, 0x77, sizeof(f->hash));
    return 0;
}

static inline void fx_fini(fx *f)
{
    hv_consensus_free(f->c);
}

/* Opens proposal id over voters 1..n with the given policy at t = now, deadline now + 1000 ns. */
static inline int fx_open_at(fx *f, uint64_t id, hv_rule rule, uint32_t num, uint32_t den,
                             uint32_t n, uint64_t now)
{
    hv_proposal p = { .id = id, .proposer = 99, .action = HV_ACTION_OTHER };
    p.policy = (hv_policy){ .rule = rule, .num = num, .den = den };
    memcpy(p.payload_hash, f->hash, 32);
    p.voters = f->voters;
    p.nvoters = n;
    p.deadline_ns = now + 1000;
    return hv_consensus_propose(f->c, &p, now);
}

/* fx_open_at() at t = 0: deadline 1000 ns. */
static inline int fx_open(fx *f, uint64_t id, hv_rule rule, uint32_t num, uint32_t den, uint32_t n)
{
    return fx_open_at(f, id, rule, num, den, n, 0);
}

/* A vote from voter on proposal pid, signed (BFT) or MAC'd. */
static inline hv_vote fx_vote(fx *f, uint64_t pid, uint64_t voter, uint8_t choice, int bft)
{
    hv_vote v = { .proposal_id = pid, .voter = voter, .round = 0, .choice = choice };
    memcpy(v.payload_hash, f->hash, 32);
    if (bft)
        hv_vote_sign(&v, f->sk[voter]);
    else
        hv_vote_mac(&v, f->mac[voter]);
    return v;
}

static inline int fx_cast(fx *f, uint64_t pid, uint64_t voter, uint8_t choice, int bft,
                          uint64_t now, hv_decision *d)
{
    hv_vote v = fx_vote(f, pid, voter, choice, bft);
    return hv_consensus_vote(f->c, &v, now, d);
}

#endif

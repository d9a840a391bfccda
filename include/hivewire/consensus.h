/*
 * hivewire: the consensus engine, signed votes and result voting.
 *
 * The engine is a state machine with no I/O and no clock. The caller feeds it proposals and
 * votes together with the current time (now_ns, any monotonic nanosecond clock, simulated or
 * real: the now_ns of propose and tick never runs backwards, which the engine asserts, in
 * release builds too); it returns decisions and tells the caller when to call again (next
 * deadline). The same code runs in-process on the bus, behind the QUIC transport and in the
 * simulator.
 *
 * Memory is allocated once, in hv_consensus_new(): a bounded table of proposals, a bounded
 * registry of voters (with their Ed25519 public keys and MAC keys) and a bounded evidence
 * ring. Proposing, voting and ticking never allocate.
 *
 * Threads: an hv_consensus is not thread-safe; one thread (the coordinator's) calls every
 * function on it. The free functions (hv_vote_sign, hv_vote_verify, hv_vote_mac*,
 * hv_crit_table_*, hv_result_vote) are reentrant and may be called from any thread.
 *
 * The exact rules, bounds, abstention handling, byte encodings and error order are in
 * docs/CONSENSUS.md.
 */
#ifndef HIVEWIRE_CONSENSUS_H
#define HIVEWIRE_CONSENSUS_H

#include <hivewire/common.h>
#include <hivewire/hist.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HV_VOTE_SIG_BYTES      64 /* Ed25519 signature, or MAC in bytes 0..31 + 32 zero bytes */
#define HV_VOTE_MAC_BYTES      32 /* keyed BLAKE2b-256 */
#define HV_VOTE_PK_BYTES       32 /* Ed25519 public key */
#define HV_VOTE_SK_BYTES       64 /* Ed25519 secret key (libsodium layout: seed || pk) */
#define HV_VOTE_MAC_KEY_BYTES  32
#define HV_PAYLOAD_HASH_BYTES  32
#define HV_VOTE_ENCODED_BYTES  69 /* canonical bytes that are signed or MAC'd, see below */
#define HV_PROPOSAL_VOTERS_MAX 4096
#define HV_ACTION_MAX          32 /* action kinds 0..31 in the criticality table */

/* Criticality of an action. */
typedef enum hv_crit {
    HV_CRIT_LOW = 0,
    HV_CRIT_MEDIUM = 1,
    HV_CRIT_HIGH = 2,
    HV_CRIT_CRITICAL = 3,
    HV_CRIT_COUNT = 4
} hv_crit;

/* Voting rules. HV_RULE_AUTO in a proposal means "look the rule up in the criticality table
 * by the proposal's action kind". */
typedef enum hv_rule {
    HV_RULE_AUTO = 0,
    HV_RULE_MAJORITY = 1,        /* approvals > rejections among votes cast, with a quorum */
    HV_RULE_SIMPLE_MAJORITY = 2, /* approvals > half of all eligible voters */
    HV_RULE_THRESHOLD = 3,       /* approvals >= num/den of all eligible voters */
    HV_RULE_WEIGHTED = 4,        /* approval weight > num/den of all eligible weight */
    HV_RULE_UNANIMOUS = 5,       /* every eligible voter approves */
    HV_RULE_BFT = 6,             /* n >= 3f+1, floor((n+f)/2)+1 matching signed approvals */
    HV_RULE_COUNT = 7
} hv_rule;

/* Action kinds with a default criticality; kinds up to HV_ACTION_MAX-1 may be added by the
 * caller and mapped with hv_crit_table_set_action(). */
typedef enum hv_action {
    HV_ACTION_OTHER = 0,
    HV_ACTION_ORDER_EXECUTION = 1,
    HV_ACTION_POSITION_CHANGE = 2,
    HV_ACTION_RISK_LIMIT_CHANGE = 3,
    HV_ACTION_RISK_CALCULATION = 4,
    HV_ACTION_PATTERN_MATCH = 5,
    HV_ACTION_STRATEGY_SIGNAL = 6
} hv_action;

typedef enum hv_choice {
    HV_CHOICE_APPROVE = 1,
    HV_CHOICE_REJECT = 2,
    HV_CHOICE_ABSTAIN = 3
} hv_choice;

typedef enum hv_outcome {
    HV_OUTCOME_PENDING = 0,
    HV_OUTCOME_ACCEPTED = 1,
    HV_OUTCOME_REJECTED = 2,  /* the rule's bound could not be reached */
    HV_OUTCOME_NO_QUORUM = 3, /* deadline passed while acceptance was still possible */
    HV_OUTCOME_COUNT = 4
} hv_outcome;

typedef enum hv_decide_reason {
    HV_REASON_NONE = 0,
    HV_REASON_EARLY = 1,     /* outcome certain before every eligible voter voted */
    HV_REASON_ALL_VOTED = 2, /* every eligible (non-excluded) voter voted */
    HV_REASON_DEADLINE = 3   /* decided by hv_consensus_tick() at the deadline */
} hv_decide_reason;

/* A rule with its parameters. num/den is an exact integer ratio (THRESHOLD: 3/4; WEIGHTED:
 * 1/2 if den == 0). quorum is the minimum number of votes cast (approve + reject + abstain)
 * for acceptance; 0 means the rule's default (MAJORITY: floor(n/2)+1, others: none). */
typedef struct hv_policy {
    hv_rule rule;
    uint32_t num;
    uint32_t den;
    uint32_t quorum;
} hv_policy;

/* Configurable map: action kind -> criticality -> policy. A plain value. */
typedef struct hv_crit_table {
    uint8_t action_crit[HV_ACTION_MAX];
    hv_policy crit_policy[HV_CRIT_COUNT];
} hv_crit_table;

/* Fills the defaults: ORDER_EXECUTION, POSITION_CHANGE, RISK_LIMIT_CHANGE -> CRITICAL (BFT);
 * RISK_CALCULATION -> HIGH (BFT); PATTERN_MATCH, STRATEGY_SIGNAL -> MEDIUM (THRESHOLD 3/4);
 * every other kind -> LOW (SIMPLE_MAJORITY). */
HV_EXTERN void hv_crit_table_default(hv_crit_table *t);

/* Maps an action kind to a criticality. Returns 0 or HV_ERANGE (kind or crit out of range). */
HV_EXTERN int hv_crit_table_set_action(hv_crit_table *t, uint32_t action, hv_crit crit);

/* Sets the policy of a criticality. Returns 0, HV_ERANGE, or HV_EINVAL (AUTO rule, bad ratio:
 * THRESHOLD needs 0 < num <= den; WEIGHTED needs num < den or den == 0). */
HV_EXTERN int hv_crit_table_set_policy(hv_crit_table *t, hv_crit crit, const hv_policy *p);

/* Looks up an action kind: its criticality and policy. Returns 0 or HV_ERANGE. */
HV_EXTERN int hv_crit_table_lookup(const hv_crit_table *t, uint32_t action, hv_crit *crit,
                                   hv_policy *policy);

/* One eligible voter and its weight (weights matter to WEIGHTED only). */
typedef struct hv_voter {
    uint64_t id;
    uint32_t weight;
} hv_voter;

/* A proposal, as the coordinator opens it. The engine copies everything it needs, including
 * the voter list; the caller keeps ownership of `voters`. */
typedef struct hv_proposal {
    uint64_t id;       /* unique among proposals the engine still remembers; != 0 */
    uint64_t proposer; /* informational */
    uint32_t round;    /* votes must carry the same round */
    uint32_t action;   /* action kind, < HV_ACTION_MAX */
    hv_crit crit;      /* ignored (taken from the table) when policy.rule == HV_RULE_AUTO */
    hv_policy policy;  /* HV_RULE_AUTO: from the criticality table by `action` */
    uint8_t payload_hash[HV_PAYLOAD_HASH_BYTES];
    const hv_voter *voters;
    uint32_t nvoters;
    uint64_t deadline_ns; /* absolute, > now_ns at hv_consensus_propose(); UINT64_MAX = none */
} hv_proposal;

/* A vote. `sig` holds an Ed25519 signature (BFT proposals) or, for every other rule, a keyed
 * BLAKE2b-256 MAC in bytes 0..31 followed by 32 zero bytes; both are computed over
 * hv_vote_encode(). */
typedef struct hv_vote {
    uint64_t proposal_id;
    uint64_t voter;
    uint32_t round;
    uint8_t choice; /* hv_choice */
    uint8_t payload_hash[HV_PAYLOAD_HASH_BYTES];
    uint8_t sig[HV_VOTE_SIG_BYTES];
} hv_vote;

/* What the engine decided. */
typedef struct hv_decision {
    uint64_t proposal_id;
    uint32_t round;
    uint8_t outcome;       /* hv_outcome */
    uint8_t rule;          /* hv_rule actually applied */
    uint8_t crit;          /* hv_crit */
    uint8_t reason;        /* hv_decide_reason */
    uint32_t votes_needed; /* votes counted when the decision was taken */
    uint32_t eligible;     /* n */
    uint32_t approvals, rejections, abstentions, excluded;
    uint32_t bound;          /* approvals (or approval weight, WEIGHTED) needed to accept */
    uint64_t approve_weight; /* sum of approving voters' weights */
    uint64_t total_weight;   /* sum of eligible voters' weights */
    uint64_t opened_ns, decided_ns, deadline_ns;
} hv_decision;

/* Two validly signed, different votes from one voter on one proposal. */
typedef struct hv_evidence {
    uint64_t proposal_id;
    uint64_t voter;
    uint32_t round;
    uint8_t payload_hash[HV_PAYLOAD_HASH_BYTES];
    uint8_t choice[2];
    uint8_t sig[2][HV_VOTE_SIG_BYTES];
    uint64_t detected_ns;
} hv_evidence;

/* Canonical encoding signed/MAC'd (69 bytes, little-endian):
 *   "HIVEWIRE-VOTE-1\0" (16) | proposal_id u64 | round u32 | voter u64 | choice u8 |
 *   payload_hash (32). */
HV_EXTERN void hv_vote_encode(const hv_vote *v, uint8_t out[HV_VOTE_ENCODED_BYTES]);

/* Ed25519-signs v (fills v->sig) with a libsodium secret key. Returns 0 or HV_ECRYPTO. */
HV_EXTERN int hv_vote_sign(hv_vote *v, const uint8_t sk[HV_VOTE_SK_BYTES]);

/* Verifies v->sig against pk. Returns 0 or HV_EBADSIG. */
HV_EXTERN int hv_vote_verify(const hv_vote *v, const uint8_t pk[HV_VOTE_PK_BYTES]);

/* Fills v->sig with the keyed BLAKE2b-256 MAC (+32 zero bytes). Returns 0 or HV_ECRYPTO. */
HV_EXTERN int hv_vote_mac(hv_vote *v, const uint8_t key[HV_VOTE_MAC_KEY_BYTES]);

/* Checks v->sig as a MAC under key, in constant time. Returns 0 or HV_EBADMAC. */
HV_EXTERN int hv_vote_mac_verify(const hv_vote *v, const uint8_t key[HV_VOTE_MAC_KEY_BYTES]);

/* Engine flags.
 * HV_CONSENSUS_NO_EARLY: decide only when every voter voted or at the deadline.
 * HV_CONSENSUS_NO_MAC: count non-BFT votes without checking their MAC (an in-process bus
 * whose senders are already known).
 * HV_CONSENSUS_SIGS_PREVERIFIED: the caller verifies every BFT vote's signature itself with
 * hv_vote_verify() against the voter's registered key before handing it to the engine (for
 * example on several I/O threads in parallel), and passes only votes that verified; the engine
 * then skips Ed25519 verification. A caller that does not verify loses BFT safety.
 * HV_CONSENSUS_BFT_MAC: BFT votes carry a keyed BLAKE2b MAC (hv_vote_mac) under the voter's
 * registered MAC key instead of an Ed25519 signature. For voters that share the engine's
 * process: the rule (n >= 3f+1, floor((n+f)/2)+1 matching approvals), duplicate refusal and
 * equivocation detection are unchanged, but the evidence convinces only a holder of the MAC
 * key, not a third party. Voters then need a MAC key instead of a public key. */
#define HV_CONSENSUS_NO_EARLY         0x1u
#define HV_CONSENSUS_NO_MAC           0x2u
#define HV_CONSENSUS_SIGS_PREVERIFIED 0x4u
#define HV_CONSENSUS_BFT_MAC          0x8u

typedef void (*hv_equivocation_cb)(void *user, const hv_evidence *ev);

typedef struct hv_consensus_opts {
    size_t size;                        /* sizeof(hv_consensus_opts), set by _default() */
    uint32_t proposals_max;             /* open + remembered closed proposals; default 1024 */
    uint32_t voters_max;                /* voter registry capacity; default 256 */
    uint32_t proposal_voters_max;       /* eligible voters per proposal; default 64 */
    uint32_t evidence_max;              /* evidence ring; default 64 */
    uint32_t flags;                     /* HV_CONSENSUS_* */
    hv_crit_table table;                /* copied; default hv_crit_table_default() */
    hv_equivocation_cb on_equivocation; /* optional, called inside hv_consensus_vote() */
    void *user;
} hv_consensus_opts;

typedef struct hv_consensus hv_consensus;

/* Fills the defaults listed above. */
HV_EXTERN void hv_consensus_opts_default(hv_consensus_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size
 * mismatch, a zero or oversized capacity, unknown flags, a bad table). Pure; any thread. */
HV_EXTERN int hv_consensus_opts_check(const hv_consensus_opts *o, hv_field_error *err);

/* Creates an engine (all memory allocated here). opts may be NULL for the defaults.
 * Returns 0, HV_EINVAL (NULL out, or opts refused by hv_consensus_opts_check(), which names the
 * field), HV_ECRYPTO, HV_ENOMEM. On success the caller owns *out; on failure *out is NULL. */
HV_EXTERN int hv_consensus_new(const hv_consensus_opts *opts, hv_consensus **out);
HV_EXTERN void hv_consensus_free(hv_consensus *c);

/* Turns early termination on or off for proposals opened from now on. */
HV_EXTERN void hv_consensus_set_early(hv_consensus *c, int on);

/* Registers a voter with its Ed25519 public key (needed for BFT proposals) and its MAC key
 * (needed for the other rules unless HV_CONSENSUS_NO_MAC); either may be NULL. Keys are
 * copied. Returns 0, HV_EINVAL (id 0), HV_EEXIST, HV_EFULL, HV_ECRYPTO. */
HV_EXTERN int hv_consensus_add_voter(hv_consensus *c, uint64_t id, const uint8_t *pk,
                                     const uint8_t *mac_key);

/*
 * Opens a proposal at now_ns. Returns 0 or:
 *   HV_EINVAL        id 0, deadline <= now_ns, no voters, duplicate voter id, bad policy,
 *                    voter lacks the key its rule needs, WEIGHTED with zero total weight
 *   HV_ERANGE        action >= HV_ACTION_MAX, nvoters > proposal_voters_max
 *   HV_ENOAGENT      a voter is not registered
 *   HV_ETOOFEWVOTERS BFT with n < 4, or quorum > n
 *   HV_EEXIST        a proposal with this id is still remembered
 *   HV_EFULL         every slot holds an open proposal
 * When the table is full of open and closed proposals, the oldest closed one is forgotten
 * (later votes for it get HV_ENOPROPOSAL) and counted in stats.forgotten.
 */
HV_EXTERN int hv_consensus_propose(hv_consensus *c, const hv_proposal *p, uint64_t now_ns);

/*
 * Counts one vote at now_ns. On return out->outcome is HV_OUTCOME_PENDING unless this call
 * decided the proposal, in which case *out is the decision (out may be NULL if the caller
 * learns decisions from hv_consensus_status() instead). The vote is not retained: the engine
 * copies the 64 signature bytes it keeps as evidence. Returns 0 (vote counted) or, in
 * this order of checks:
 *   HV_ENOPROPOSAL     unknown (or forgotten) proposal id
 *   HV_ENOTELIGIBLE    voter not in the proposal's voter list
 *   HV_EINVAL          choice not approve/reject/abstain
 *   HV_EVOTEMISMATCH   round or payload hash differs from the proposal's
 *   HV_EEXCLUDED       the voter was excluded from this proposal for equivocating
 *   HV_EPROPOSALCLOSED already decided (but see EQUIVOCATION); also when now_ns has
 *                      reached the deadline before hv_consensus_tick() ran: the proposal is
 *                      then decided as of its deadline, as tick would, and *out holds that
 *                      decision (the late vote is not counted)
 *   HV_EBADSIG         BFT: signature does not verify (nothing recorded)
 *   HV_EBADMAC         other rules: MAC does not verify (nothing recorded)
 *   HV_EDUPVOTE        voter already voted: the same vote again, or, for non-BFT rules,
 *                      any second vote (refused before its MAC is even checked)
 *   HV_EEQUIVOCATION   BFT: a validly signed vote that differs from the voter's earlier one
 *                      (also on a decided proposal): both kept as evidence, the voter is
 *                      excluded and its earlier vote no longer counts; this may decide the
 *                      proposal (then *out holds the decision).
 */
HV_EXTERN int hv_consensus_vote(hv_consensus *c, const hv_vote *v, uint64_t now_ns,
                                hv_decision *out);

/* Decides every open proposal whose deadline is <= now_ns, up to cap of them, into out[],
 * earliest deadline first, with the votes counted before the deadline: ACCEPTED if the bound
 * is met, REJECTED if it could not have been met even had every missing voter approved, else
 * NO_QUORUM. decided_ns is the deadline itself (the caller may tick late). Returns the number
 * written; call again while it returns cap. */
HV_EXTERN size_t hv_consensus_tick(hv_consensus *c, uint64_t now_ns, hv_decision *out, size_t cap);

/* Earliest deadline among open proposals, or UINT64_MAX when none is open. O(1). */
HV_EXTERN uint64_t hv_consensus_next_deadline(const hv_consensus *c);

/* State of a remembered proposal. */
typedef struct hv_proposal_status {
    uint8_t outcome; /* HV_OUTCOME_PENDING while open */
    uint8_t rule;
    uint8_t crit;
    uint32_t eligible, approvals, rejections, abstentions, excluded;
    uint64_t deadline_ns;
    hv_decision decision; /* valid when outcome != PENDING */
} hv_proposal_status;

/* Returns 0 or HV_ENOPROPOSAL. */
HV_EXTERN int hv_consensus_status(const hv_consensus *c, uint64_t id, hv_proposal_status *out);

/* Whether voter is excluded from proposal id: 1, 0, or HV_ENOPROPOSAL / HV_ENOTELIGIBLE. */
HV_EXTERN int hv_consensus_is_excluded(const hv_consensus *c, uint64_t id, uint64_t voter);

/* Evidence ring: number held (<= evidence_max), and the i-th oldest. Returns 0 or HV_ERANGE. */
HV_EXTERN size_t hv_consensus_evidence_count(const hv_consensus *c);
HV_EXTERN int hv_consensus_evidence_get(const hv_consensus *c, size_t i, hv_evidence *out);

typedef struct hv_consensus_stats {
    uint64_t open;                                     /* proposals open now */
    uint64_t opened[HV_RULE_COUNT];                    /* by rule */
    uint64_t decided[HV_RULE_COUNT][HV_OUTCOME_COUNT]; /* by rule and outcome */
    uint64_t decided_early;                            /* reason EARLY */
    uint64_t votes;                                    /* votes counted */
    uint64_t votes_saved;    /* eligible votes not needed thanks to early termination */
    uint64_t rejected_votes; /* votes refused with an error, all kinds */
    uint64_t bad_sig, bad_mac, dup, not_eligible, no_proposal, closed, excluded, mismatch;
    uint64_t equivocations;    /* evidence records created */
    uint64_t evidence_dropped; /* evidence overwritten because the ring was full */
    uint64_t forgotten;        /* closed proposals evicted to make room */
} hv_consensus_stats;

HV_EXTERN void hv_consensus_stats_get(const hv_consensus *c, hv_consensus_stats *out);

/* Decision latency (decided_ns - opened_ns) histogram, owned by the engine. */
HV_EXTERN const hv_hist *hv_consensus_latency(const hv_consensus *c);

/* The bound helpers the engine uses, exposed for tests and tools. For policy p over n voters
 * with total weight w: the number of approvals (approval weight for WEIGHTED) needed to accept,
 * ignoring the quorum. Returns HV_EINVAL / HV_ETOOFEWVOTERS like hv_consensus_propose(). */
HV_EXTERN int hv_policy_bound(const hv_policy *p, uint32_t n, uint64_t w, uint64_t *bound);

/* ---- Result voting: the hive vote over agents' task outputs ---- */

typedef enum hv_result_rule {
    HV_RESULT_MAJORITY = 0,  /* support >= num/den of all results (default 67/100) */
    HV_RESULT_UNANIMOUS = 1, /* every result succeeded and agrees */
    HV_RESULT_WEIGHTED = 2,  /* support weight >= num/den of all weight (default 67/100) */
    HV_RESULT_BFT = 3        /* N >= 4, floor((N+f)/2)+1 (= 2f+1 at N=3f+1) agreeing results */
} hv_result_rule;

#define HV_RESULT_VOTE_MAX 4096

typedef struct hv_agent_result {
    uint64_t agent;
    uint32_t weight;
    uint8_t success;       /* failed results agree with nothing but count in N */
    const uint8_t *output; /* bytes mode (tolerance < 0); may be NULL when len == 0 */
    size_t output_len;
    double value; /* number mode (tolerance >= 0); NaN and infinities count as failed */
} hv_agent_result;

typedef struct hv_result_opts {
    size_t size; /* sizeof(hv_result_opts) */
    hv_result_rule rule;
    uint32_t num, den; /* threshold ratio; den == 0 means 67/100 */
    double tolerance;  /* < 0: compare output bytes; >= 0: numbers agree if |a - b| <= tol */
} hv_result_opts;

typedef struct hv_result_decision {
    int agreed;       /* 1 if the winning output meets the rule */
    int tied;         /* another output had the same support (tie broken, see docs) */
    size_t winner;    /* index into the input of the winning output's representative */
    uint32_t n;       /* results considered */
    uint32_t failed;  /* results with success == 0 (or NaN in number mode) */
    uint32_t support; /* results agreeing with the winner */
    uint64_t support_weight;
    uint64_t total_weight;
    uint32_t bound; /* support (count; weight for WEIGHTED) needed */
} hv_result_decision;

/* Defaults: MAJORITY at 67/100, outputs compared as bytes (tolerance -1). */
HV_EXTERN void hv_result_opts_default(hv_result_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size,
 * rule out of range, a ratio with num 0 or num > den, a NaN tolerance). Pure; any thread. */
HV_EXTERN int hv_result_opts_check(const hv_result_opts *o, hv_field_error *err);

/* Decides the agreed output among n results. Deterministic and independent of input order:
 * the highest support wins; equal support goes to the smaller output (shorter, then memcmp;
 * or the smaller number); equal outputs to the lowest agent id. O(n log n), no allocation
 * (an index array of HV_RESULT_VOTE_MAX * 2 bytes on the stack). Returns 0, HV_EINVAL
 * (n == 0, opts refused by hv_result_opts_check(), NULL output with len > 0), HV_ERANGE (n >
 * HV_RESULT_VOTE_MAX), HV_ETOOFEWVOTERS (BFT with n < 4). */
HV_EXTERN int hv_result_vote(const hv_agent_result *results, size_t n, const hv_result_opts *opts,
                             hv_result_decision *out);

/* Names for printing: "MAJORITY", "ACCEPTED", "CRITICAL", ... (never NULL). */
HV_EXTERN const char *hv_rule_name(hv_rule r);
HV_EXTERN const char *hv_outcome_name(hv_outcome o);
HV_EXTERN const char *hv_crit_name(hv_crit c);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_CONSENSUS_H */

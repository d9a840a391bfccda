/*
 * hivewire: the replicated decision log (docs/LOG.md; its bytes: docs/PROTOCOL.md, "The
 * decision log").
 *
 * Every decision of the swarm's coordinator (the proposal, its outcome and the votes counted
 * as evidence), every order result and every cycle mark is an entry of one log, replicated by
 * Raft (canonical/raft 0.15) over three or five coordinator replicas. Entries form a hash
 * chain: each carries its sequence number in the chain and the BLAKE2b-256 of the entry before
 * it. The log's state machine (hv_log_fsm) is the trading state that must survive a
 * coordinator's death: the venue (exchange, with its RNG, and the account), the limits, the
 * last committed cycle, the set of applied proposals, the agents' registry and the run's
 * ledger. It is a pure function of the entries applied: no clock, no I/O, no randomness of its
 * own; every replica that applied the same entries has the same state and the same state hash.
 *
 * Threads: an hv_log_fsm belongs to one thread at a time. Encoding and decoding are pure.
 */
#ifndef HIVEWIRE_LOG_H
#define HIVEWIRE_LOG_H

#include <hivewire/common.h>
#include <hivewire/consensus.h>
#include <hivewire/exchange.h>
#include <hivewire/market.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HV_LOG_MAGIC        0x454c5648u /* "HVLE", little-endian at offset 0 */
#define HV_LOG_VERSION      1
#define HV_LOG_HEADER_BYTES 56
#define HV_LOG_HASH_BYTES   32
#define HV_LOG_VOTES_MAX    32        /* votes carried by one decision entry */
#define HV_LOG_ENTRY_MAX    8192      /* bytes of one encoded entry */
#define HV_LOG_CYCLES_MAX   10000000u /* a genesis may announce at most this many cycles */
#define HV_LOG_MEMBERS_MAX  32        /* agents in the registry */
#define HV_LOG_PENDING_MAX  64        /* accepted decisions still waiting for their result */

/* Entry types (byte 5 of the header). */
typedef enum hv_log_type {
    HV_LOG_GENESIS = 1,   /* the trading state's configuration: the first entry of a log */
    HV_LOG_MEMBER = 2,    /* an agent registered with the coordinator, with its vote key */
    HV_LOG_CYCLE = 3,     /* cycle i begins: the bar it trades */
    HV_LOG_DECISION = 4,  /* a proposal, its outcome, the votes counted */
    HV_LOG_RESULT = 5,    /* what became of an accepted proposal's order */
    HV_LOG_CYCLE_END = 6, /* cycle i is over */
    HV_LOG_FINISH = 7,    /* the run is over: open orders cancelled, everything delivered */
    HV_LOG_TYPE_COUNT = 8
} hv_log_type;

/* How a cycle ended (HV_LOG_CYCLE_END). */
typedef enum hv_log_end {
    HV_LOG_END_DONE = 0,    /* hold, rejected, or its order's result is in */
    HV_LOG_END_STALLED = 1, /* ended at its deadline without its signal or result */
    HV_LOG_END_COUNT = 2
} hv_log_end;

typedef struct hv_log_genesis {
    uint64_t swarm_seed;
    uint64_t bar_ns;       /* simulated time per cycle: cycle i trades at i * bar_ns */
    uint64_t cycles_max;   /* proposals are numbered 1 .. cycles_max (1..HV_LOG_CYCLES_MAX) */
    double cash;           /* the account's initial cash (> 0) */
    uint32_t curve_points; /* equity curve points kept (2 .. 2^20) */
    hv_exchange_opts exchange;
    hv_limits_opts limits;
} hv_log_genesis;

typedef struct hv_log_member {
    uint64_t id;
    uint64_t incarnation;
    uint32_t role, index; /* the swarm's role numbers (docs/SWARM.md) */
    uint8_t auth;         /* enum hv_swarm_vote_auth: 1 signatures, 2 MACs */
    uint8_t pk[HV_VOTE_PK_BYTES];
} hv_log_member;

typedef struct hv_log_cycle {
    uint64_t cycle;
    hv_bar bar;
} hv_log_cycle;

typedef struct hv_log_cycle_end {
    uint64_t cycle;
    uint8_t how; /* hv_log_end */
} hv_log_cycle_end;

/* The order a proposal puts to the vote (the swarm's order: docs/SWARM.md). */
typedef struct hv_log_order {
    int32_t side;   /* hv_side */
    int32_t action; /* hv_action */
    int64_t qty;
    double ref_price;
    int64_t target;
} hv_log_order;

typedef struct hv_log_vote {
    hv_vote v;    /* v.proposal_id is the decision's */
    uint8_t auth; /* enum hv_swarm_vote_auth: 1 Ed25519 signature, 2 BLAKE2b MAC */
} hv_log_vote;

typedef struct hv_log_decision {
    uint64_t cycle;
    uint64_t proposer;
    uint32_t action;
    uint8_t payload_hash[HV_PAYLOAD_HASH_BYTES]; /* BLAKE2b-256 of the order as proposed */
    hv_log_order order;
    hv_decision d; /* d.proposal_id names the proposal */
    uint32_t nvotes;
    hv_log_vote votes[HV_LOG_VOTES_MAX];
} hv_log_decision;

typedef struct hv_log_result {
    uint64_t proposal_id;
    uint64_t cycle;
    uint64_t order_id; /* the exchange's, 0 when refused */
    int32_t rc;        /* 0 submitted, HV_ELIMIT / HV_EHALTED (risk), or the exchange's error */
    hv_limit_breach breach;
} hv_log_result;

typedef struct hv_log_finish {
    uint64_t cycles; /* cycles run */
} hv_log_finish;

typedef struct hv_log_entry {
    uint8_t type;                    /* hv_log_type */
    uint64_t seq;                    /* position in the chain: 1, 2, ... */
    uint8_t prev[HV_LOG_HASH_BYTES]; /* hash of entry seq - 1 (zeros for seq 1) */
    union {
        hv_log_genesis genesis;
        hv_log_member member;
        hv_log_cycle cycle;
        hv_log_cycle_end end;
        hv_log_decision decision;
        hv_log_result result;
        hv_log_finish finish;
    };
} hv_log_entry;

/*
 * Encodes e into buf[0..cap): the header, then the body. Every body is a multiple of 8 bytes, so
 * every entry is (Raft stores entries in 8-byte units). *len gets the encoded length, also when
 * cap is too small.
 * Applies the decoder's checks, so it never writes an entry the decoder refuses. Returns 0,
 * HV_ENOBUFS (nothing written), HV_EBADTYPE, HV_EBADFIELD, HV_ENONFINITE.
 */
HV_EXTERN int hv_log_entry_encode(const hv_log_entry *e, uint8_t *buf, size_t cap, size_t *len);

/*
 * Decodes one entry of exactly len bytes. Checks, in this order: HV_ETRUNCATED (fewer than 56
 * bytes), HV_EBADMAGIC, HV_EBADVERSION, HV_EBADTYPE, HV_EBADLEN (a body longer than
 * HV_LOG_ENTRY_MAX allows), HV_ETRUNCATED (fewer bytes than the header and the body), HV_EBADLEN
 * (a body length its type does not have), HV_ENONFINITE (a float that is not finite),
 * HV_EBADFIELD (a reserved byte not zero, seq 0, or a field outside its rule), HV_ETRAILING
 * (bytes after the body). Allocates nothing; after a failure *e holds whatever was read.
 */
HV_EXTERN int hv_log_entry_decode(const uint8_t *buf, size_t len, hv_log_entry *e);

/* BLAKE2b-256 of an encoded entry (header and body). buf must hold a whole entry (one
 * hv_log_entry_decode() accepts). */
HV_EXTERN void hv_log_entry_hash(const uint8_t *buf, uint8_t out[HV_LOG_HASH_BYTES]);

/* "genesis", "member", ... or "unknown". */
HV_EXTERN const char *hv_log_type_name(int type);

/* ---- The state machine ---------------------------------------------------------------------- */

typedef struct hv_log_fsm hv_log_fsm;

typedef struct hv_log_fsm_opts {
    size_t size;               /* sizeof(hv_log_fsm_opts) */
    size_t snapshot_bytes_max; /* hv_log_fsm_snapshot() refuses a bigger state (default 64 MiB) */
} hv_log_fsm_opts;

HV_EXTERN void hv_log_fsm_opts_default(hv_log_fsm_opts *o);

/* An empty state (no genesis yet). opts may be NULL. Returns 0, HV_EINVAL or HV_ENOMEM. */
HV_EXTERN int hv_log_fsm_new(const hv_log_fsm_opts *opts, hv_log_fsm **out);
HV_EXTERN void hv_log_fsm_free(hv_log_fsm *f);

/*
 * Applies one committed entry. An entry that decodes and carries the chain's next seq and the
 * hash of the entry before it joins the chain (seq and head advance) even if its content is
 * then refused; a refused entry changes nothing else but the refusal counters, on every replica
 * alike. Returns 0 (applied) or why it was refused:
 *   a decoder's code          the bytes are not an entry (the chain does not move)
 *   HV_ECHAIN                 not the chain's next entry (the chain does not move)
 *   HV_ESTATE                 anything before the genesis, a second genesis, anything after
 *                             the finish, a cycle end for a cycle that is not open
 *   HV_EEXIST                 a proposal already applied (no proposal is applied twice), a
 *                             cycle not after the last one, a result already known
 *   HV_ERANGE                 a proposal id beyond the genesis's cycles_max, or 0
 *   HV_ENOPROPOSAL            a result for no accepted decision that waits for one
 *   HV_EFULL                  the registry is full
 *   an exchange or limits error (a bar the exchange refuses)
 */
HV_EXTERN int hv_log_fsm_apply(hv_log_fsm *f, const uint8_t *entry, size_t len);

/*
 * The whole state as bytes (docs/LOG.md, "Snapshots"): *buf is malloc'd, the caller frees it;
 * *len gets the state's size, also when it is too big. Returns 0, HV_ETOOBIG (larger than
 * snapshot_bytes_max; *buf NULL) or HV_ENOMEM.
 */
HV_EXTERN int hv_log_fsm_snapshot(const hv_log_fsm *f, uint8_t **buf, size_t *len);
/* Replaces the state with a snapshot's, all or nothing. Returns 0, HV_EBADMAGIC,
 * HV_EBADVERSION, HV_EBADLEN, HV_ETRAILING, HV_EBADFIELD, HV_ETOOBIG or HV_ENOMEM; on failure
 * the state is as it was. */
HV_EXTERN int hv_log_fsm_restore(hv_log_fsm *f, const uint8_t *buf, size_t len);
/* BLAKE2b-256 of the snapshot bytes: equal states, equal hashes. 0, HV_ENOMEM. */
HV_EXTERN int hv_log_fsm_hash(const hv_log_fsm *f, uint8_t out[HV_LOG_HASH_BYTES]);

/* An accepted decision whose order's result the log does not have yet. */
typedef struct hv_log_pending {
    uint64_t proposal_id;
    uint64_t cycle;
    hv_log_order order;
    int32_t verdict; /* the limits' answer when the decision was applied: 0 or HV_ELIMIT... */
} hv_log_pending;

typedef struct hv_log_status {
    int genesis, finished;
    uint64_t seq;                    /* entries in the chain */
    uint8_t head[HV_LOG_HASH_BYTES]; /* hash of the last one */
    uint64_t cycle_last;             /* the last cycle begun, UINT64_MAX: none */
    int cycle_open;                  /* it has begun and not ended */
    uint64_t cycles_done, cycles_stalled;
    uint64_t proposal_last; /* the highest proposal decided, 0: none */
    uint64_t decisions, accepted, rejected, no_quorum, votes;
    uint64_t results, orders_sent, refused_limit, refused_halt, refused_exchange;
    uint64_t results_late; /* results that came after a later cycle began: booked, not traded */
    uint64_t divergences;  /* results the log's venue or limits answered otherwise */
    uint64_t refused;      /* entries refused (any reason) */
    uint64_t pending_evicted;
    uint32_t members, pending;
    uint64_t fills;
    uint64_t trades_hash; /* the swarm's `trade list hash` over the log's venue's fills */
    int64_t position;
    double cash, equity;
    int halted;
} hv_log_status;

HV_EXTERN void hv_log_fsm_status(const hv_log_fsm *f, hv_log_status *out);
/* The i-th registered member / pending decision (0 <= i < status.members / .pending, oldest
 * first). 0 or HV_ERANGE. */
HV_EXTERN int hv_log_fsm_member(const hv_log_fsm *f, uint32_t i, hv_log_member *out);
HV_EXTERN int hv_log_fsm_pending(const hv_log_fsm *f, uint32_t i, hv_log_pending *out);
/* The genesis applied (0), or HV_ESTATE when there is none yet. */
HV_EXTERN int hv_log_fsm_genesis(const hv_log_fsm *f, hv_log_genesis *out);
/* 1 if proposal id has been applied (decided), else 0. */
HV_EXTERN int hv_log_fsm_applied(const hv_log_fsm *f, uint64_t proposal_id);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_LOG_H */

/*
 * Swarm internals. This header includes neither codec.h nor bus.h: both define a type named
 * hv_msg, so the HVW1 mapping (wire.c) and the bus code (agents.c, coord.c, swarm.c) live in
 * separate translation units and meet here, on plain structs.
 */
#ifndef HIVEWIRE_SWARM_INT_H
#define HIVEWIRE_SWARM_INT_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#include <hivewire/consensus.h>
#include <hivewire/dtw.h>
#include <hivewire/exchange.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>
#include <hivewire/risk.h>
#include <hivewire/swarm.h>

typedef struct hv_bus hv_bus;
typedef struct hv_agent hv_agent;

/* ---- Messages --------------------------------------------------------------------------- */

/* Every message the agents exchange. Each kind has one subject and one HVW1 type (wire.c). */
enum sw_kind {
    SW_NEXT = 1,     /* coordinator -> market data: emit the bar of `cycle` */
    SW_STOP,         /* coordinator -> every agent: leave the loop */
    SW_FINISH,       /* coordinator -> execution: deliver everything still in flight */
    SW_BAR,          /* market data -> pattern, execution */
    SW_EOD,          /* market data -> coordinator: no bar left */
    SW_PRED,         /* pattern -> strategy */
    SW_RISKREP,      /* risk -> strategy: VaR / ES of the window */
    SW_STATE,        /* execution -> strategy, risk: position, open quantities, drawdown, the
                        bar's close */
    SW_HOLD,         /* strategy -> coordinator: no action this cycle */
    SW_PROPOSE,      /* strategy -> coordinator: an order to put to the vote */
    SW_VOTE_REQ,     /* coordinator -> voters: the proposal */
    SW_VOTE,         /* voter -> coordinator */
    SW_DECISION,     /* coordinator -> risk */
    SW_ORDER,        /* risk -> execution: an approved order that passed the limits */
    SW_ORDER_RESULT, /* risk or execution -> coordinator: submitted, or refused and why */
    SW_CONFIRM,      /* execution -> coordinator: one execution report */
    SW_FINISHED,     /* execution -> coordinator: nothing left in flight */
    SW_ERROR,        /* any agent -> coordinator: the agent failed and stops */
    SW_KIND_COUNT
};

/* What the strategy saw of the cycle's critical path, for the profiler (wall ns). */
typedef struct sw_trace {
    uint64_t md_ns;       /* market-data agent's handling of NEXT */
    uint64_t par_ns;      /* bar published -> last input (predictions, risk, state) received */
    uint64_t dtw_cpu_ns;  /* sum of the pattern agents' compute */
    uint64_t var_cpu_ns;  /* risk agent's VaR/ES update */
    uint64_t exec_cpu_ns; /* execution agent's bar handling (reports, fills, marking) */
    uint64_t strat_ns;    /* strategy's signal and proposal */
} sw_trace;

typedef struct sw_order {
    int32_t side;   /* hv_side */
    int32_t action; /* hv_action: ORDER_EXECUTION (reduce) or POSITION_CHANGE (open/flip) */
    int64_t qty;
    double ref_price; /* the cycle's close */
    int64_t target;   /* the position the strategy aims at */
} sw_order;

#define SW_VOTERS_MAX (HV_SWARM_PATTERNS_MAX + 1)

typedef struct sw_msg {
    int kind;
    uint64_t cycle;   /* frame correlation id */
    uint64_t wall_ns; /* frame timestamp: sender's monotonic clock at send */
    uint64_t sender;  /* frame sender id (bus agent id) */
    union {
        struct {
            uint64_t sim_ns;
            uint64_t md_ns;
            hv_bar bar;
        } bar;
        struct {
            uint32_t agent;
            int valid;
            double expected, agreement, distance_min;
            uint64_t compute_ns;
        } pred;
        struct {
            int valid;
            double var, es;
            uint64_t compute_ns;
        } risk;
        struct {
            int64_t position, open_buy, open_sell;
            double cash, equity, drawdown_frac;
            uint64_t compute_ns;
            /* the bar this state follows, for the strategy (which is not woken by the bar):
             * its close, the market-data agent's time and the bar frame's send time */
            double close;
            uint64_t bar_md_ns, bar_sent_ns;
        } state;
        struct {
            sw_order order;
            sw_trace trace;
        } strat; /* HOLD (order unused) and PROPOSE */
        struct {
            uint64_t id;
            uint32_t round;
            uint8_t rule; /* hv_rule */
            uint8_t crit;
            uint8_t hash[HV_PAYLOAD_HASH_BYTES];
            sw_order order;
            uint32_t nvoters;
            uint64_t voters[SW_VOTERS_MAX];
        } vreq;
        struct {
            hv_vote v;
            int auth; /* 1 Ed25519, 2 MAC */
        } vote;
        hv_decision decision;
        struct {
            uint64_t proposal_id;
            sw_order order;
            uint64_t risk_ns;
        } order;
        struct {
            uint64_t proposal_id;
            int32_t rc; /* 0 submitted, HV_ELIMIT, HV_EHALTED, other hv_exchange_submit error */
            uint64_t order_id;
            uint64_t risk_ns, exec_ns;
            hv_limit_breach breach;
        } result;
        hv_exec_report confirm;
        struct {
            int32_t code;
            char text[96];
        } error;
    };
} sw_msg;

#define SW_FRAME_MAX 1024

/* wire.c: the subject a kind travels on ("swarm.md.bar"), or NULL. */
const char *hv__sw_subject(int kind);
/* Encodes m as one HVW1 frame into buf; returns its length or a codec error. */
int hv__sw_encode(const sw_msg *m, uint64_t seq, uint8_t *buf, size_t cap);
/* Decodes one HVW1 frame into *m. Returns 0, a codec error, or HV_EBADTYPE (a frame whose
 * type and subject name no swarm message). */
int hv__sw_decode(const uint8_t *buf, size_t len, sw_msg *m);
/* BLAKE2b-256 of the proposal payload (the encoded order). */
int hv__sw_order_hash(const sw_order *o, uint8_t out[HV_PAYLOAD_HASH_BYTES]);

/* ---- Agents ----------------------------------------------------------------------------- */

enum sw_role {
    SW_ROLE_MD,
    SW_ROLE_PATTERN,
    SW_ROLE_RISK,
    SW_ROLE_STRATEGY,
    SW_ROLE_EXEC,
    SW_ROLE_COORD
};

typedef struct sw_agent sw_agent;

/* The calling thread's getrusage(RUSAGE_THREAD) into u (name and batch untouched). */
void hv__sw_usage_self(hv_swarm_usage *u);
/* Puts the calling thread under SCHED_BATCH (docs/SWARM.md, threading model): a woken agent
 * then waits for the next tick instead of preempting the thread that woke it. 1 on success. */
int hv__sw_sched_batch(void);

typedef struct sw_keys {
    uint8_t pk[HV_VOTE_PK_BYTES];
    uint8_t sk[HV_VOTE_SK_BYTES];
    uint8_t mac[HV_VOTE_MAC_KEY_BYTES];
} sw_keys;

typedef struct sw_pattern_state {
    hv_swarm_pattern p;
    hv_dtw_library *lib;
    hv_dtw_ws *ws;
    double *prices; /* every close seen, capacity = bars */
    size_t count;
    int have_pred;
    uint64_t pred_cycle;
    hv_dtw_prediction pred;
} sw_pattern_state;

typedef struct sw_risk_state {
    hv_var_roll roll;
    hv_limits *limits;
    double prev_close, last_var;
    int var_valid;
    uint64_t bar_cycle, state_cycle; /* last cycle seen of each; UINT64_MAX = none */
    int64_t position, open_buy, open_sell;
    double drawdown_frac;
    int have_vreq, have_decision;
    sw_msg vreq, decision; /* deferred until the state of their cycle arrives */
    sw_msg held;           /* the proposal being decided */
    int halted_seen;
    uint64_t halted_cycle;
    hv_limit_breach halt_breach;
} sw_risk_state;

typedef struct sw_strategy_state {
    uint64_t cycle;
    uint32_t preds;
    int have_risk, have_state;
    sw_msg risk, state; /* the state carries the bar's close and times */
    sw_trace trace;
    uint32_t have_pred; /* bit i: pattern agent i reported */
    double weight[HV_SWARM_PATTERNS_MAX], expected[HV_SWARM_PATTERNS_MAX];
    uint64_t last_in_ns;
} sw_strategy_state;

typedef struct sw_exec_state {
    hv_exchange *x;
    hv_portfolio *pf;
    uint64_t now_ns; /* simulated clock of the execution agent */
    uint64_t cycle;
} sw_exec_state;

struct sw_agent {
    hv_swarm *sw;
    hv_agent *bus;
    int role;
    uint32_t index; /* among agents of its role */
    uint64_t id;    /* bus agent id */
    uint64_t seq;   /* frames sent */
    int stop;
    pthread_t thread;
    int started;
    int cpu;              /* CPU the thread pins itself to, -1 = none (placement) */
    sw_keys *keys;        /* voters only */
    hv_swarm_usage usage; /* written by the agent's thread as it leaves, read after the join */
    union {
        sw_pattern_state pat;
        sw_risk_state risk;
        sw_strategy_state strat;
        sw_exec_state exec;
    };
    hv_replay replay; /* market data */
};

/* The coordinator's view of the cycle being run. */
typedef struct sw_cycle {
    uint64_t cycle;
    uint64_t t0, t_out, t_dec, t_end; /* wall */
    uint64_t conf_local_ns;           /* confirmations handled during the cycle */
    int have_out, eod, proposal, decided, have_result;
    sw_msg out, result;
    hv_decision decision;
} sw_cycle;

/* verify.c: the coordinator's vote verifier (a ring of jobs, helpers on their own threads). */
#define SW_VJOBS              64u
#define SW_VERIFY_THREADS_MAX 8u

/* What the verifier does with a vote (sw_vjob.check). */
enum sw_check {
    SW_CHECK_NONE = 0, /* nothing to verify: the engine checks the MAC or refuses the vote */
    SW_CHECK_SIG = 1,  /* an Ed25519 signature to verify (the proposal's rule is BFT) */
    SW_CHECK_LATE = 2  /* arrived after the decision and cannot be evidence: not verified, and
                          never handed to the engine (counted as late) */
};

typedef struct sw_vjob {
    _Atomic int state; /* FREE, QUEUED, CLAIMED, DONE (verify.c) */
    int check;         /* enum sw_check; a queued SW_CHECK_SIG job may become SW_CHECK_LATE */
    int ok;            /* the verdict, valid once DONE (0 for SW_CHECK_LATE) */
    uint64_t cycle;
    const uint8_t *pk; /* the voter's registered key; NULL = unknown voter (fails) */
    hv_vote v;
} sw_vjob;

typedef struct sw_verifier {
    sw_vjob job[SW_VJOBS];
    uint32_t head, tail; /* coordinator only */
    uint32_t nthreads, started;
    pthread_t thread[SW_VERIFY_THREADS_MAX];
    sem_t sem; /* one post per queued job */
    int sem_ok;
    int cpu;                                     /* CPU the helpers pin themselves to, -1 = none */
    int done_fd;                                 /* eventfd: a helper finished a job */
    _Atomic int quit;                            /* helpers leave */
    _Atomic uint32_t exited;                     /* helpers that recorded their usage */
    hv_swarm_usage usage[SW_VERIFY_THREADS_MAX]; /* each helper's, read after the join */
} sw_verifier;

int hv__sw_verifier_init(sw_verifier *vf, uint32_t threads);
void hv__sw_verifier_fini(sw_verifier *vf);
int hv__sw_verifier_start(sw_verifier *vf);
void hv__sw_verifier_stop(sw_verifier *vf);
int hv__sw_verifier_full(const sw_verifier *vf);
int hv__sw_verifier_empty(const sw_verifier *vf);
/* Queues a vote (coordinator; the ring must not be full); check is an enum sw_check. */
void hv__sw_verifier_push(sw_verifier *vf, const hv_vote *v, uint64_t cycle, const uint8_t *pk,
                          int check);
/* Coordinator. Every job still waiting for its signature check (not yet claimed by a helper)
 * for which still_needed(ud, job) returns 0 becomes SW_CHECK_LATE and done, unverified.
 * Returns how many. */
uint32_t hv__sw_verifier_drop(sw_verifier *vf, int (*still_needed)(void *ud, const sw_vjob *j),
                              void *ud);
/* Claims and verifies one queued job on the calling (coordinator) thread: 1, or 0 if none. */
int hv__sw_verifier_run_one(sw_verifier *vf);
/* The oldest job if it is done (then pop it), else NULL. Coordinator. */
const sw_vjob *hv__sw_verifier_peek(sw_verifier *vf);
void hv__sw_verifier_pop(sw_verifier *vf);
int hv__sw_verifier_wait(sw_verifier *vf, hv_agent *bus, uint64_t timeout_ns);

struct hv_swarm {
    hv_swarm_config cfg;
    const hv_bar *bars;
    size_t nbars;
    hv_bus *bus;
    uint32_t nagents;
    sw_agent agents[HV_SWARM_PATTERNS_MAX + 5];
    sw_agent *md, *risk, *strat, *exec, *coord;
    sw_agent *pattern[HV_SWARM_PATTERNS_MAX];
    sw_keys keys[SW_VOTERS_MAX];
    uint32_t nvoters;
    hv_voter voters[SW_VOTERS_MAX];
    uint64_t counted_id;            /* the last proposal opened (0 = none) ... */
    uint8_t counted[SW_VOTERS_MAX]; /* ... and each voter's counted choice on it (0 = none) */
    hv_consensus *cons;
    sw_verifier verifier;
    hv_profiler *prof;
    uint64_t vclock; /* the profiler's clock: the cycle timeline is replayed on it */
    int st_bus, st_md, st_dtw, st_var, st_conf, st_strat, st_cons, st_lim, st_exec;
    int ext_ack, ext_fill, ext_dtw_cpu, ext_var_cpu, ext_exec_cpu;
    sw_cycle cur;
    int ran;
    _Atomic int fail_rc; /* the first agent error */
    _Atomic int quit;    /* agents leave their loop */
    int finished;        /* execution delivered everything after the last cycle */
    hv_swarm_stats stats;
    hv_swarm_trade *trades;
    size_t ntrades, trades_cap;
};

/* agents.c */
void *hv__sw_agent_main(void *arg);
/* Pins the calling thread to cpu (-1: does nothing). Returns 1 if it is pinned there. */
int hv__sw_pin_self(int cpu);
int hv__sw_send(sw_agent *a, sw_msg *m);
int hv__sw_recv_one(sw_agent *a, sw_msg *m, uint64_t timeout_ns);
int hv__sw_agent_subscribe(sw_agent *a);

/* coord.c */
int hv__sw_coordinate(hv_swarm *s, hv_swarm_progress_fn progress, void *ud);
/* What the verifier must do with a vote that just arrived (enum sw_check): SW_CHECK_LATE for
 * a vote on a decided BFT proposal that does not contradict its voter's counted vote. */
int hv__sw_vote_check(const hv_swarm *s, const hv_vote *v);
/* Notes a vote the engine counted (on the last proposal opened) for hv__sw_vote_check. */
void hv__sw_record_counted(hv_swarm *s, const hv_vote *v);

#endif /* HIVEWIRE_SWARM_INT_H */

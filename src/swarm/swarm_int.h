/*
 * Swarm internals: the messages the agents exchange, each role's state machine, and what the
 * builders (swarm.c: real runners; sim.c: the simulator) need to assemble them.
 *
 * Every role is an actor (src/agent/agent.h): it is driven by on_msg / on_expiry with the
 * time passed in, owns its state, reads no clock (it measures its own work with its link's
 * clock, for the profiler only) and sends only through its link. It knows the other agents
 * only by subject and by global id.
 */
#ifndef HIVEWIRE_SWARM_INT_H
#define HIVEWIRE_SWARM_INT_H

#include <hivewire/codec.h>
#include <hivewire/consensus.h>
#include <hivewire/dtw.h>
#include <hivewire/exchange.h>
#include <hivewire/log.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>
#include <hivewire/risk.h>
#include <hivewire/swarm.h>

#include "agent/agent.h"

/* ---- Messages --------------------------------------------------------------------------- */

/* Every message the agents exchange. Each kind has one subject and one HVW1 type (wire.c). */
enum sw_kind {
    SW_JOIN = 1,     /* agent -> coordinator: id, role, index, its vote keys (until WELCOME) */
    SW_WELCOME,      /* coordinator -> agents: agent `id` is registered */
    SW_HEARTBEAT,    /* agent -> coordinator: alive; correlation id = last cycle worked on */
    SW_NEXT,         /* coordinator -> market data: emit the bar of `cycle` */
    SW_BAR,          /* market data -> pattern, execution */
    SW_EOD,          /* market data -> coordinator: no bar left */
    SW_PRED,         /* pattern -> strategy */
    SW_RISKREP,      /* risk -> strategy: VaR / ES of the window */
    SW_STATE,        /* execution -> strategy, risk: position, open quantities, drawdown, the
                        bar's close */
    SW_HOLD,         /* strategy -> coordinator: no action this cycle */
    SW_PROPOSE,      /* strategy -> coordinator: an order to put to the vote */
    SW_VOTE_REQ,     /* coordinator -> voters, risk: the proposal */
    SW_VOTE,         /* voter -> coordinator */
    SW_DECISION,     /* coordinator -> risk */
    SW_ORDER,        /* risk -> execution: an approved order that passed the limits */
    SW_ORDER_RESULT, /* risk or execution -> coordinator: submitted, or refused and why */
    SW_CONFIRM,      /* execution -> coordinator: one execution report */
    SW_FINISH,       /* coordinator -> execution: cancel what is open, deliver what is due */
    SW_FINISHED,     /* execution -> coordinator: nothing left in flight */
    SW_STOP,         /* coordinator -> agents: send your final report */
    SW_REPORT,       /* agent -> coordinator: final counters (and the role's statistics) */
    SW_CURVE,        /* execution -> coordinator: the equity curve, as an HVW1 stream */
    SW_EXIT,         /* coordinator -> agents: the run is over, leave */
    SW_ERROR,        /* any agent -> coordinator: the agent failed; the run stops */
    SW_REDIRECT,     /* a replica that does not lead -> one agent: the leader's agent address */
    SW_KIND_COUNT
};

enum sw_role {
    SW_ROLE_COORD,
    SW_ROLE_MD,
    SW_ROLE_PATTERN,
    SW_ROLE_RISK,
    SW_ROLE_STRATEGY,
    SW_ROLE_EXEC,
    SW_ROLE_COUNT
};

/* Local ids by role (HV_SWARM_ID): coordinator 1, market data 2, strategy 3, risk 4,
 * execution 5, pattern i 16 + i. */
uint32_t hv__sw_local_id(int role, uint32_t index);
const char *hv__sw_role_name(int role);

/* What the strategy saw of the cycle's critical path, for the profiler (ns of the senders'
 * own clocks: spans only, never compared across agents). */
typedef struct sw_trace {
    uint64_t md_ns;       /* market-data agent's handling of NEXT */
    uint64_t par_ns;      /* bar published -> last input (predictions, risk, state) received;
                             SW_SPAN_UNKNOWN when the market-data agent's clock is not the
                             strategy's (clocks of different hosts are never subtracted) */
    uint64_t dtw_cpu_ns;  /* sum of the pattern agents' compute */
    uint64_t var_cpu_ns;  /* risk agent's VaR/ES update */
    uint64_t exec_cpu_ns; /* execution agent's bar handling (reports, fills, marking) */
    uint64_t strat_ns;    /* strategy's signal and proposal */
} sw_trace;

#define SW_SPAN_UNKNOWN UINT64_MAX

typedef struct sw_order {
    int32_t side;   /* hv_side */
    int32_t action; /* hv_action: ORDER_EXECUTION (reduce) or POSITION_CHANGE (open/flip) */
    int64_t qty;
    double ref_price; /* the cycle's close */
    int64_t target;   /* the position the strategy aims at */
} sw_order;

#define SW_VOTERS_MAX (HV_SWARM_PATTERNS_MAX + 1)

/* An agent's final report: counters every agent has, and its role's statistics. */
typedef struct sw_report {
    uint64_t received;      /* frames taken from the link */
    uint64_t sent;          /* frames published */
    uint64_t bad;           /* frames refused as malformed */
    uint64_t stale;         /* duplicates and frames of a cycle already over */
    uint64_t retried;       /* publishes that met backpressure and went through the outbox */
    uint64_t undeliverable; /* publishes nobody was subscribed to (a receiver that left) */
    uint64_t missing;       /* inputs that never came and were decided without */
    uint32_t role, index;   /* who reports */
    /* execution */
    hv_portfolio_stats portfolio;
    hv_exchange_stats exchange;
    /* risk */
    hv_limits_stats limits;
    int halted_seen;
    uint64_t halted_cycle;
    hv_limit_breach halt_breach;
} sw_report;

#define SW_ADDRESS_MAX     64 /* bytes of a REDIRECT's address, its NUL padding included */
#define HV_SW_REPLICAS_MAX 5  /* replicas of the decision log (HV_REPLICAS_MAX) */

typedef struct sw_msg {
    int kind;
    uint64_t cycle;   /* frame correlation id */
    uint64_t wall_ns; /* frame timestamp: the sender's link clock at send (spans only) */
    uint64_t sender;  /* frame sender id: the global agent id */
    union {
        struct {
            uint64_t id;
            uint32_t role, index;
            uint8_t auth; /* enum hv_swarm_vote_auth of the keys below */
            uint8_t pk[HV_VOTE_PK_BYTES];
            uint8_t mac[HV_VOTE_MAC_KEY_BYTES]; /* MAC auth only (shared process) */
        } join;
        struct {
            uint64_t id;
        } welcome;
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
            uint64_t deadline_ns; /* the coordinator's clock */
            sw_order order;
            uint32_t nvoters;
            uint64_t voters[SW_VOTERS_MAX];
        } vreq;
        struct {
            hv_vote v;
            int auth; /* enum hv_swarm_vote_auth: SIG or MAC */
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
        sw_report report;
        const hv_msg *curve; /* SW_CURVE: the decoded stream message (valid during on_msg) */
        struct {
            int32_t code;
            char text[96];
        } error;
        struct {
            uint64_t replica;             /* the leader: 1 .. HV_SW_REPLICAS_MAX */
            uint64_t term;                /* the Raft term it leads in */
            char address[SW_ADDRESS_MAX]; /* its agents' "host:port", NUL-terminated */
        } redirect;
    };
} sw_msg;

/* Largest frame an agent sends (a bus payload buffer holds it: swarm.c sizes them). */
#define SW_FRAME_MAX 2048

/* wire.c: the subject a kind travels on ("swarm.md.bar"), or NULL. */
const char *hv__sw_subject(int kind);
/* Encodes m as one HVW1 frame into buf; returns its length or a codec error. */
int hv__sw_encode(const sw_msg *m, uint64_t seq, uint8_t *buf, size_t cap);
/* Decodes one HVW1 frame into *m. Returns 0, a codec error, or HV_EBADTYPE (a frame whose
 * type and subject name no swarm message). For SW_CURVE, *hm receives the decoded message and
 * m->curve points at it. */
int hv__sw_decode(const uint8_t *buf, size_t len, sw_msg *m, hv_msg *hm);
/* Encodes the stream messages of the equity curve (SW_CURVE): START, DATA..., END. */
int hv__sw_encode_stream(const hv_msg *w, uint64_t sender, uint64_t seq, uint8_t *buf, size_t cap);
/* BLAKE2b-256 of the proposal payload (the encoded order). */
int hv__sw_order_hash(const sw_order *o, uint8_t out[HV_PAYLOAD_HASH_BYTES]);

/* ---- The part every agent shares -------------------------------------------------------- */

typedef struct sw_keys {
    uint8_t pk[HV_VOTE_PK_BYTES];
    uint8_t sk[HV_VOTE_SK_BYTES];
    uint8_t mac[HV_VOTE_MAC_KEY_BYTES];
} sw_keys;

/* Frames a publish could not deliver yet (backpressure), in order: sent again before anything
 * newer. Full: the agent fails with HV_EFULL (the run stops and says so). */
#define SW_OUTBOX_MAX 32u

typedef struct sw_outbox {
    uint32_t head, n;
    uint64_t retry_ns;   /* next attempt */
    uint64_t backoff_ns; /* doubles with each refused attempt */
    struct {
        int kind;
        uint16_t len;
        uint8_t frame[SW_FRAME_MAX];
    } q[SW_OUTBOX_MAX];
} sw_outbox;

typedef struct sw_agent sw_agent;

/* The environment an agent is created with: a copy of everything it needs. */
typedef struct sw_env {
    hv_swarm_opts cfg;
    int role;
    uint32_t index;
    int vote_auth;          /* resolved: HV_SWARM_AUTH_SIG or _MAC */
    uint64_t incarnation;   /* 0, then one more at every restart (sent with JOIN) */
    int other_clocks;       /* some agents run on other clocks (other processes) */
    const hv_bar *bars;     /* market data: its data (borrowed) */
    size_t nbars;           /* every agent: the length of the series (sizes its buffers) */
    struct sw_venue *venue; /* execution: the exchange connection (borrowed) */
} sw_env;

struct sw_agent {
    hv_actor actor; /* first: what the runner sees */
    sw_env env;
    uint64_t id; /* global: HV_SWARM_ID(cfg.node, local) */
    uint64_t seq;
    sw_keys keys; /* voters: derived from the seed and the id by the agent itself */
    int joined;
    uint64_t join_next_ns, join_backoff_ns;
    uint64_t hb_next_ns;
    uint64_t cycle_seen; /* highest cycle worked on (UINT64_MAX: none yet) */
    uint64_t now_last;   /* the latest time it was given (asserted never to go back) */
    sw_report rep;       /* counters; the role adds its statistics when it reports */
    sw_msg last_vote;    /* voters: the last vote cast, cast again word for word if asked again */
    sw_outbox out;
    /* The role's hooks (a table per role, like hv_actor_ops one level down). */
    const struct sw_role_ops *role;
};

typedef struct sw_role_ops {
    const char *name;
    const int *subs; /* kinds it subscribes to, 0-terminated */
    int (*on_msg)(sw_agent *a, const sw_msg *m, uint64_t now_ns);
    /* optional: called once when the agent starts (after it subscribed) */
    int (*on_start)(sw_agent *a, uint64_t now_ns);
    /* optional: its own timers */
    int (*on_expiry)(sw_agent *a, uint64_t now_ns);
    uint64_t (*next_expiry)(const sw_agent *a);
    /* optional: fills the role's part of the final report / sends extra (the curve) */
    int (*report)(sw_agent *a, sw_report *r, uint64_t now_ns);
} sw_role_ops;

/* agent.c: the common machinery (join, heartbeats, outbox, reports, dispatch). */
void hv__sw_agent_init(sw_agent *a, const sw_env *env, const sw_role_ops *role);
/* Publishes m (fills sender, seq, the link-clock timestamp). Backpressure queues it. */
int hv__sw_send(sw_agent *a, sw_msg *m);
/* Publishes an already-encoded frame of kind `kind` (same outbox rules). */
int hv__sw_send_frame(sw_agent *a, int kind, const uint8_t *frame, size_t len);
/* Trading time of a cycle: cycle * bar_ns (hv_sim_bars_max() bounds it up front). */
static inline uint64_t hv__sw_sim_ns(const sw_agent *a, uint64_t cycle)
{
    return cycle * a->env.cfg.bar_ns;
}
static inline uint64_t hv__sw_clock(sw_agent *a)
{
    return hv__link_now(a->actor.link);
}
/* Marks the cycle as worked on (reported in heartbeats). */
static inline void hv__sw_seen(sw_agent *a, uint64_t cycle)
{
    if (a->cycle_seen == UINT64_MAX || cycle > a->cycle_seen)
        a->cycle_seen = cycle;
}
/* The Ed25519 key pair and MAC key of agent `id` in a swarm seeded `seed`: the agent derives
 * them itself (a remote agent would load its own). */
int hv__sw_derive_keys(uint64_t seed, uint64_t id, sw_keys *k);

/* ---- Roles ------------------------------------------------------------------------------ */

/* Voting, shared by the pattern and risk agents (role_pattern.c): signs or MACs the vote with
 * the agent's own key; whether the shown payload hashes to the hash it votes on; whether the
 * agent is among the proposal's voters. */
int hv__sw_cast_vote(sw_agent *a, const sw_msg *req, hv_choice choice);
int hv__sw_payload_ok(const sw_msg *req);
int hv__sw_eligible(const sw_agent *a, const sw_msg *req);

typedef struct sw_md {
    sw_agent a;
} sw_md;

typedef struct sw_pattern {
    sw_agent a;
    hv_swarm_pattern p;
    hv_dtw_library *lib;
    hv_dtw_ws *ws;
    double *prices; /* the last closes: bar base + i in prices[i], i < held */
    size_t cap, held, base;
    size_t count; /* closes known (bars 0 .. count - 1) */
    int have_pred;
    uint64_t pred_cycle;
    hv_dtw_prediction pred;
    sw_msg last; /* the last prediction sent, sent again when its bar comes again */
} sw_pattern;

typedef struct sw_risk {
    sw_agent a;
    hv_var_roll roll;
    hv_limits *limits;
    double prev_close, last_var;
    int var_valid;
    uint64_t state_cycle; /* last state seen; UINT64_MAX = none */
    int64_t position, open_buy, open_sell;
    double drawdown_frac;
    int have_vreq, have_decision;
    sw_msg vreq, decision; /* deferred until the state of their cycle arrives */
    sw_msg held;           /* the last proposal seen (decided against it) */
    uint64_t decided_id;   /* last proposal whose decision it acted on */
    sw_msg last_rep;       /* the last VaR report, sent again when its state comes again */
    sw_msg last_result;    /* what it sent for decided_id (an order or a refusal), if any */
    int halted_seen;
    uint64_t halted_cycle;
    hv_limit_breach halt_breach;
} sw_risk;

typedef struct sw_strategy {
    sw_agent a;
    uint64_t cycle; /* the cycle it collects inputs for (older ones are over) */
    uint32_t preds;
    int have_risk, have_state;
    sw_msg risk, state; /* the state carries the bar's close and times */
    sw_trace trace;
    uint32_t have_pred; /* bit i: pattern agent i reported */
    double weight[HV_SWARM_PATTERNS_MAX], expected[HV_SWARM_PATTERNS_MAX];
    uint64_t last_in_ns;
    uint64_t wait_until_ns; /* with state and risk in, missing predictions count as none then */
    sw_msg last; /* the last signal sent (kind 0: none), sent again on a repeated input */
} sw_strategy;

/* The exchange connection: the venue and the account it holds. It outlives an execution agent
 * that crashes (a broker keeps the account while a client reconnects). */
typedef struct sw_venue {
    hv_exchange *x;
    hv_portfolio *pf;
    uint64_t last_tag; /* client tags (proposal ids) only grow: a lower or equal one repeats */
    uint64_t last_order_id;
    int last_rc;
    uint64_t bar_cycle; /* last bar traded (UINT64_MAX: none) */
} sw_venue;

int hv__sw_venue_init(sw_venue *v, const hv_swarm_opts *cfg);
void hv__sw_venue_fini(sw_venue *v);

/* What the execution agent and the replicated log's state machine (src/log/fsm.c) both do to
 * the venue, so that the log's copy of the venue is the venue (role_exec.c). Each report
 * delivered goes to fn (0, or an error that stops the step). */
typedef int (*sw_report_fn)(void *ud, const hv_exec_report *r);
/* Trades bar at simulated time t: delivers the reports due, feeds the bar (delivering more
 * while the report queue is full), marks the account at the close. 0 or an HV_E* code. */
int hv__sw_venue_bar(sw_venue *v, const hv_bar *bar, uint64_t t, sw_report_fn fn, void *ud);
/* After the last bar, at time t: cancels what is still working and delivers everything in
 * flight. 0 or an HV_E* code. */
int hv__sw_venue_finish(sw_venue *v, uint64_t t, sw_report_fn fn, void *ud);
/* The exchange order an approved proposal becomes: market, good till cancelled, tagged. */
hv_order_request hv__sw_order_request(const sw_order *o, uint64_t tag);
/* Submits order o tagged with its proposal id at time t. Tags only grow: a tag at or below the
 * last one is never executed again and gets the last one's answer (its own) or HV_EEXIST (an
 * older one). Returns the exchange's answer; *id the order id (0 when refused). */
int hv__sw_venue_order(sw_venue *v, uint64_t tag, const sw_order *o, uint64_t t, uint64_t *id);
/* The risk agent's binding pre-trade check of order o against the account (role_risk.c). */
int hv__sw_limits_admit(hv_limits *l, const sw_order *o, int64_t position, int64_t open_buy,
                        int64_t open_sell, double drawdown_frac, uint64_t t, hv_limit_breach *b);
/* The trade list hash (FNV-1a) extended with one fill, as `trade list hash` prints it
 * (role_coord.c). */
uint64_t hv__sw_trade_hash(uint64_t h, const hv_exec_report *r);
#define HV_SW_TRADE_HASH_INIT 0xcbf29ce484222325ull

typedef struct sw_exec {
    sw_agent a;
    sw_venue *v;
    uint64_t finished_cycle; /* FINISH handled (UINT64_MAX: not yet) */
    uint64_t bar_now;        /* the cycle whose bar or finish is being handled */
    int journal;             /* fd of state_dir/execution.journal, or -1 */
    int replaying;           /* acting on the journal: nothing is sent */
    uint64_t replayed;       /* journal records replayed at start */
    sw_msg last_state;       /* the last state sent (kind 0: none), sent again on a repeated bar */
    uint64_t curve_stream;   /* stream ids sent */
} sw_exec;

/* ---- The coordinator ---------------------------------------------------------------------- */

enum sw_phase { SW_PH_JOIN, SW_PH_CYCLE, SW_PH_FINISH, SW_PH_REPORT, SW_PH_DONE };
enum sw_step { SW_ST_OUT, SW_ST_VOTE, SW_ST_COMMIT, SW_ST_RESULT };

/* The replicated decision log as the coordinator sees it (docs/LOG.md; src/swarm/replicated.c
 * implements it on hv_replica): borrowed, like the execution agent's venue, and called on the
 * coordinator's thread. Without it (NULL) decisions are published as soon as they are taken.
 * With it, the coordinator logs every member it registers, every cycle's start and end, every
 * decision of its cycle's proposal with the votes counted, every order result and the finish;
 * a decision is published only once its entry has committed. */
typedef struct sw_log_ops {
    /* Appends e (the log sets seq and prev; for a cycle entry, the bar from its own copy of the
     * data). A notice with this token follows when token is not 0. Returns 0, or an error that
     * stops the run (the log is full or lost its leadership). */
    int (*append)(void *ud, hv_log_entry *e, uint64_t token);
    /* 1 while a notice waits. */
    int (*pending)(void *ud);
    /* The next notice: 1 and *token, *status (0 committed, HV_ENOTLEADER: this replica stopped
     * leading, the entry may or may not commit), or 0. */
    int (*notice)(void *ud, uint64_t *token, int *status);
} sw_log_ops;

typedef struct sw_member {
    uint64_t id;
    int role;
    uint32_t index;
    int joined, reported, lost;
    uint64_t incarnation;         /* of its last JOIN */
    uint8_t pk[HV_VOTE_PK_BYTES]; /* voters: the key it registered */
    uint64_t last_seen_ns;        /* last frame from it (its heartbeat or any message) */
    uint64_t last_cycle;          /* last cycle it said it worked on */
} sw_member;

/* The coordinator's view of the cycle being run (its own clock). */
typedef struct sw_cycle {
    uint64_t cycle;
    int step;                         /* enum sw_step */
    uint64_t t0, t_out, t_dec, t_end; /* its clock */
    uint64_t deadline_ns;             /* cycle_timeout_ns after t0 */
    uint64_t retry_ns;                /* the request of the current step is sent again then */
    sw_msg vreq, decided_msg;         /* what was sent for the proposal, to send again */
    uint64_t conf_local_ns;           /* confirmations handled during the cycle */
    int have_out, proposal, decided, have_result;
    sw_msg out, result;
    hv_decision decision;
    uint32_t nvotes; /* the votes counted for its proposal: the decision's evidence */
    hv_log_vote votes[SW_VOTERS_MAX];
    int resumed; /* taken over from the log: its timeline is not the profiler's */
} sw_cycle;

/* What a coordinator that takes a run over reads from the log (hv__sw_coord_resume). */
typedef struct sw_resume {
    int active;           /* resumed: every member is heard from first, then the run goes on */
    int finished;         /* the log holds the finish */
    uint64_t cycle;       /* the last cycle begun (UINT64_MAX: none) */
    int open;             /* ... and not ended */
    int decided;          /* its proposal's decision is in the log */
    int pending;          /* ... accepted, and its order's result is not */
    hv_decision decision; /* the pending decision (sent again) */
    uint32_t members;     /* members registered from the log */
    uint64_t again;       /* the proposal proposed again (0: none) */
    int again_outcome;    /* its outcome (hv_outcome), -1 until decided */
} sw_resume;

/* The token of the finish entry: once it committed, the log is not needed any more. */
#define SW_FINISH_TOKEN UINT64_MAX

typedef struct sw_coord {
    sw_agent a;
    hv_swarm_progress_fn progress;
    void *progress_ud;
    int phase; /* enum sw_phase */
    uint32_t nmembers;
    sw_member members[HV_SWARM_THREADS_MAX];
    uint32_t nvoters;
    hv_voter voters[SW_VOTERS_MAX];
    hv_consensus *cons;
    hv_profiler *prof;
    uint64_t vclock; /* the profiler's clock: the cycle timeline is replayed on it */
    int st_bus, st_md, st_dtw, st_var, st_conf, st_strat, st_cons, st_lim, st_exec;
    int ext_ack, ext_fill, ext_dtw_cpu, ext_var_cpu, ext_exec_cpu;
    sw_cycle cur;
    uint64_t total; /* cycles to run */
    uint64_t start_ns, phase_deadline_ns, retry_ns, last_progress_ns;
    int stop_requested;
    hv_swarm_stats stats;
    hv_swarm_trade *trades;
    size_t ntrades, trades_cap;
    hv_decision *decided; /* accepted decisions by proposal id % HV_SWARM_DECISIONS_KEPT */
    /* the equity curve, received as a stream */
    hv_stream_rx curve_rx;
    uint8_t *curve_buf;
    size_t curve_cap;
    size_t curve_n;
    uint64_t *curve_t;
    double *curve_eq;
    int curve_done;
    hv_swarm_event events[HV_SWARM_EVENTS_MAX];
    uint32_t nevents;
    int failed;
    char error[192];
    const sw_log_ops *log; /* the replicated log (borrowed), or NULL */
    void *log_ud;
    int finish_logged, finish_committed;
    sw_resume resume;
} sw_coord;

/* What a role must implement (one table each, in role_*.c). */
extern const sw_role_ops hv__sw_md_ops, hv__sw_pattern_ops, hv__sw_risk_ops, hv__sw_strategy_ops,
    hv__sw_exec_ops, hv__sw_coord_ops;

/* Construction of each role's state (its own copy of env). Return 0 or an HV_E* code. */
int hv__sw_md_init(sw_md *m, const sw_env *env);
int hv__sw_pattern_init(sw_pattern *p, const sw_env *env);
void hv__sw_pattern_fini(sw_pattern *p);
int hv__sw_risk_init(sw_risk *r, const sw_env *env);
void hv__sw_risk_fini(sw_risk *r);
int hv__sw_strategy_init(sw_strategy *s, const sw_env *env);
int hv__sw_exec_init(sw_exec *e, const sw_env *env);
void hv__sw_exec_fini(sw_exec *e);
int hv__sw_coord_init(sw_coord *c, const sw_env *env, hv_swarm_progress_fn progress, void *ud);
/* coord_profile.c: the profiler's stages, and the replay of the finished cycle c->cur. */
int hv__sw_coord_profiler(sw_coord *c);
void hv__sw_coord_replay(sw_coord *c);
void hv__sw_coord_fini(sw_coord *c);
/*
 * A new leader's coordinator takes the run over from its log's state machine f (before the
 * run starts): the registry (every agent registered there counts as joined, with the vote key
 * it registered, and must be heard from again: a heartbeat or a JOIN over its authenticated
 * connection), the cycles run, the trade list hash. Then it goes on from where the log is:
 * after the last cycle ended, the next one; in an open cycle whose proposal has no decision in
 * the log, the cycle again (the agents answer the repeated requests with their first answers,
 * so the proposal is proposed again and voted as before, or ends as NO_QUORUM at its
 * deadline); an accepted decision without its order's result, the decision again (the risk
 * and execution agents answer by proposal id: an order is never executed twice); a decided
 * cycle, ended; after the finish, the end of the run. last: the last decision the replica
 * applied (its evidence for the decision sent again; proposal id 0 when unknown).
 * Returns 0, or HV_EBADFIELD when the log registers agents that are not this swarm's (the
 * coordinator's error says which).
 */
int hv__sw_coord_resume(sw_coord *c, const hv_log_fsm *f, const hv_decision *last);

/* ---- Assembling a swarm (swarm.c and sim.c) ---------------------------------------------- */

/* Every agent of one swarm, in runner order: the coordinator first. */
typedef struct sw_cast {
    sw_coord coord;
    sw_md md;
    sw_pattern pattern[HV_SWARM_PATTERNS_MAX];
    sw_risk risk;
    sw_strategy strat;
    sw_exec exec;
    hv_actor *actors[HV_SWARM_THREADS_MAX];
    uint32_t nactors;
    uint32_t patterns;
} sw_cast;

/* Validates cfg (0 or HV_EINVAL/HV_ERANGE with *why set). */
int hv__sw_config_check(const hv_swarm_opts *cfg, size_t nbars, const char **why);
/* Builds every agent of the cast over bars (links are attached by the caller afterwards). */
int hv__sw_cast_init(sw_cast *c, const hv_swarm_opts *cfg, int vote_auth, const hv_bar *bars,
                     size_t n, sw_venue *venue, hv_swarm_progress_fn progress, void *ud);
void hv__sw_cast_fini(sw_cast *c);
/* Some of the cast's agents run in other processes, on other clocks: spans that would subtract
 * one agent's clock from another's are not measured. */
void hv__sw_cast_other_clocks(sw_cast *c);
/* Re-creates agent i of the cast fresh (same identity and keys): a restart. */
int hv__sw_cast_restart(sw_cast *c, uint32_t i, const hv_bar *bars, size_t n, sw_venue *venue);

#endif /* HIVEWIRE_SWARM_INT_H */

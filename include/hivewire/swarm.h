/*
 * hivewire: the trading swarm. Agents by role, each an I/O-free state machine that talks only
 * through its link with HVW1 frames: a market-data agent replays bars, pattern agents predict
 * with DTW, a risk agent keeps rolling VaR/ES and the pre-trade limits, a strategy agent turns
 * predictions into proposals, a coordinator runs every proposal through the consensus engine
 * under a deadline, and an execution agent drives the simulated exchange. A runner drives the
 * agents: all of them on one thread, or a thread each; hv_swarm_sim() drives the same agents
 * over a seeded simulated network instead. See docs/SWARM.md for the message flow, the voting
 * setup, the determinism argument and the profiler stages.
 *
 * Threads: a swarm object belongs to the thread that created it. hv_swarm_run() runs every
 * cycle (starting and joining any threads its runner uses) before it returns; the progress
 * callback runs on the coordinator's thread. Every query below may be called after
 * hv_swarm_run() returned: the statistics are what the agents reported to the coordinator in
 * HVW1 messages at the end of the run, not read from their memory.
 */
#ifndef HIVEWIRE_SWARM_H
#define HIVEWIRE_SWARM_H

#include <hivewire/bus.h>
#include <hivewire/common.h>
#include <hivewire/consensus.h>
#include <hivewire/exchange.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>
#include <hivewire/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HV_SWARM_PATTERNS_MAX 16
#define HV_SWARM_BARS_MAX     10000000u
/* Agents (4 + patterns) and the coordinator. */
#define HV_SWARM_THREADS_MAX (HV_SWARM_PATTERNS_MAX + 5)
/* Global agent ids: (node << 32) | local, the same wherever the agent runs. Local ids by
 * role: coordinator 1, market data 2, strategy 3, risk 4, execution 5, pattern i 16 + i. */
#define HV_SWARM_ID(node, local) (((uint64_t)(node) << 32) | (uint32_t)(local))

/* Parameters of one pattern agent (its own library). */
typedef struct hv_swarm_pattern {
    uint32_t len;      /* window length in bars, 4..256 */
    uint32_t k;        /* neighbours, 1..64 */
    double band;       /* Sakoe-Chiba band fraction, 0..1 */
    uint32_t horizon;  /* label horizon in bars, 1..64 */
    uint32_t stride;   /* a new pattern every `stride` bars, 1..1000 */
    uint32_t capacity; /* most patterns kept, 16..65536 (learning stops when full) */
} hv_swarm_pattern;

/*
 * What drives the agents. ONE: every agent stepped by the calling thread (no hand-offs, no
 * wake-ups). THREADS: a thread per agent, placed by `placement`. AUTO: ONE (the run summary
 * says so and why); THREADS is kept for comparison and for machines with a core per agent.
 */
enum hv_swarm_runner {
    HV_SWARM_RUNNER_AUTO = 0,
    HV_SWARM_RUNNER_ONE = 1,
    HV_SWARM_RUNNER_THREADS = 2
};

/*
 * How votes are authenticated. SIG: Ed25519 signatures (required when any voter is in another
 * process). MAC: keyed BLAKE2b-256 MACs under a key each voter registers with the coordinator
 * when it joins (only when every voter shares the coordinator's process). AUTO: MAC when every
 * voter is in this process, else SIG. The voting rules, BFT's 2f+1 and equivocation detection
 * are the same under both.
 */
enum hv_swarm_vote_auth { HV_SWARM_AUTH_AUTO = 0, HV_SWARM_AUTH_SIG = 1, HV_SWARM_AUTH_MAC = 2 };

/*
 * Where the agents' threads run (runner THREADS only). AUTO, on a process allowed two or more CPUs:
 * the message chain (market data, risk, strategy, execution and the coordinator, which is the
 * thread that calls hv_swarm_run() and gets its own CPU set back when the run ends) on the first
 * allowed CPU; pattern agents round-robin over the other allowed CPUs and then the first (on two
 * CPUs: second, first, second, ...), except that a lone pattern agent stays with the chain; the
 * verifier helpers on the second. A hand-off between two threads of one CPU is a context
 * switch; between two CPUs of a virtual machine it also wakes the other vCPU, which costs
 * several times more (docs/SWARM.md). NONE leaves placement to the OS. A thread that cannot be
 * pinned runs where the OS puts it.
 */
enum hv_swarm_placement { HV_SWARM_PLACE_NONE = 0, HV_SWARM_PLACE_AUTO = 1 };

typedef struct hv_swarm_opts {
    size_t size;       /* sizeof(hv_swarm_opts) */
    uint64_t seed;     /* exchange latency jitter (and the key material's randomness) */
    uint32_t patterns; /* pattern agents, 1..HV_SWARM_PATTERNS_MAX; they and risk vote */
    hv_swarm_pattern pattern[HV_SWARM_PATTERNS_MAX];
    int risk_votes;          /* 1: the risk agent votes too (default) */
    uint64_t cycles_max;     /* stop after this many cycles; 0 = the whole series */
    int64_t qty;             /* shares per position (strategy target is -qty, 0 or +qty) */
    double signal_threshold; /* |combined expected return| needed to move the target */
    int allow_short;         /* 1: target -qty on a negative signal; 0: flat instead */
    double cash;             /* initial cash */
    uint32_t var_window;     /* rolling VaR/ES window in bars, 20..100000 */
    double var_q;            /* VaR confidence, (0.5, 1) */
    double var_budget;       /* risk votes no when position VaR would exceed it; 0 = off */
    hv_crit_table table;     /* consensus rule by criticality */
    int early;               /* early termination (default 1) */
    hv_exchange_opts exchange;
    hv_limits_opts limits;
    int wait;                     /* bus wait strategy for every agent: 0 block, 1 spin, 2 yield */
    uint64_t bar_ns;              /* simulated time per bar (default one day) */
    int placement;                /* enum hv_swarm_placement (default HV_SWARM_PLACE_AUTO) */
    int runner;                   /* enum hv_swarm_runner (default AUTO) */
    int vote_auth;                /* enum hv_swarm_vote_auth (default AUTO) */
    uint32_t node;                /* node part of every agent id, 1..2^32-1 (default 1) */
    uint64_t proposal_timeout_ns; /* a proposal still open this long after it opened ends as
                                     NO_QUORUM (default 1 s) */
    uint64_t cycle_timeout_ns;    /* a cycle whose signal or order result has not come this long
                                     after it began is ended as stalled, and the run goes on
                                     (default 2 s) */
    uint64_t heartbeat_ns;        /* every agent tells the coordinator it is alive this often
                                     (default 100 ms); 3 missed = lost */
    uint64_t stall_timeout_ns;    /* last resort: no cycle completed for this long fails the run
                                     with HV_ETIMEDOUT, naming the silent agents (default 10 s) */
    const char *state_dir;        /* the execution agent's journal (state_dir/execution.journal):
                                     every bar, order and finish it acts on is written there first,
                                     and an agent that starts again replays it to the exact same
                                     venue (NULL, the default: no journal). Borrowed. */
} hv_swarm_opts;

/* Defaults: 4 pattern agents (windows 16/24/32/48, k 8, band 0.1, horizon 5, stride 10,
 * capacity 512: the library covers 5,120 bars) + the risk agent voting (5 voters), qty 100,
 * threshold 0.001, long/short, cash 1e6, VaR 250 bars at 0.99, no VaR budget, the consensus
 * engine's default table (orders are CRITICAL: BFT), early termination on, default exchange,
 * no limits, block waits, one day per bar, seed 1, runner AUTO, vote authentication AUTO, node
 * 1, proposals 1 s, cycles 2 s, heartbeats 100 ms, stall timeout 10 s. */
HV_EXTERN void hv_swarm_opts_default(hv_swarm_opts *o);

typedef struct hv_swarm hv_swarm;

/*
 * Creates a swarm over bars[0..n) (borrowed: they must outlive the swarm), validating opts
 * (NULL: the defaults) and allocating every agent with its own copy of the options, its
 * identity and its keys (each voter derives its own Ed25519 key pair and MAC key from the seed
 * and its id, and registers them with the coordinator when it joins), the bus, the exchange
 * venue. Returns 0 and *out, or HV_EINVAL (NULL out or bars, opts refused by
 * hv_swarm_opts_check(), which names the field, or n < 2, n > HV_SWARM_BARS_MAX), HV_ERANGE
 * (n bars at bar_ns do not fit 64-bit simulated nanoseconds: see hv_sim_bars_max()),
 * HV_ENOMEM, HV_ECRYPTO, or an error of the component that refused its part of the options.
 * On failure *out is NULL.
 */
HV_EXTERN int hv_swarm_new(const hv_swarm_opts *opts, const hv_bar *bars, size_t n, hv_swarm **out);
HV_EXTERN void hv_swarm_free(hv_swarm *s);

/* Called on the coordinator thread after every cycle, and when an agent is lost or back
 * (hv_swarm_events); return nonzero to stop early. */
typedef int (*hv_swarm_progress_fn)(void *ud, uint64_t cycles_done, uint64_t cycles_total);

/*
 * Runs the swarm with its runner: every agent joins the coordinator (registering its keys),
 * one cycle runs per bar (or cycles_max), the exchange delivers what is still in flight, every
 * agent reports its final statistics in HVW1 messages and stops. Once per swarm. Returns 0,
 * HV_ESTATE (already run), HV_ETIMEDOUT (no cycle completed for stall_timeout_ns, or an agent
 * never joined: hv_swarm_error() names the silent agents), HV_EAGAIN (thread creation failed),
 * or the error that made an agent stop (hv_swarm_error() says which agent and why).
 */
HV_EXTERN int hv_swarm_run(hv_swarm *s, hv_swarm_progress_fn progress, void *ud);

/* Why the last hv_swarm_run() failed, in one line ("" after a success). Valid until the swarm
 * is freed. */
HV_EXTERN const char *hv_swarm_error(const hv_swarm *s);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why
 * (err->field is the hv_swarm_opts member, or the exchange / limits field for those). Pure. */
HV_EXTERN int hv_swarm_opts_check(const hv_swarm_opts *o, hv_field_error *err);

/* What one runner thread cost, from getrusage(RUSAGE_THREAD) over the run. */
typedef struct hv_swarm_usage {
    char name[32];                 /* "coordinator", "market-data", "pattern-0", ... */
    uint64_t cpu_ns;               /* user + system time */
    uint64_t switches_voluntary;   /* the thread slept (blocked on its inbox, ...) */
    uint64_t switches_involuntary; /* the scheduler preempted it */
    int batch;                     /* it ran under SCHED_BATCH (see docs/SWARM.md) */
    int cpu;                       /* the CPU placement pinned it to, -1 = not pinned */
} hv_swarm_usage;

typedef struct hv_swarm_stats {
    uint64_t cycles;
    uint64_t wall_ns;   /* from the first cycle's start to the last cycle's end */
    uint64_t proposals; /* consensus rounds opened */
    uint64_t accepted, rejected, no_quorum;
    uint64_t decided_early;
    uint64_t votes_counted, votes_late; /* late: arrived after an early decision */
    uint64_t votes_bad;                 /* refused by the engine for any other reason */
    uint64_t votes_repeated;            /* the same vote again (a request sent twice) */
    uint64_t requests_resent;           /* NEXT, proposals, decisions sent again unanswered */
    uint64_t votes_unknown;             /* for a proposal the coordinator never opened */
    uint64_t cycles_stalled;       /* ended by cycle_timeout_ns without a signal or order result */
    uint64_t orders_unknown;       /* accepted, but no order result came before the cycle ended */
    uint64_t orders_sent;          /* admitted by risk, submitted to the exchange */
    uint64_t last_order_cycle;     /* cycle of the last order sent (UINT64_MAX: none) */
    uint64_t orders_refused_limit; /* refused by a pre-trade limit (HV_ELIMIT) */
    uint64_t orders_refused_halt;  /* refused because the kill switch is on */
    uint64_t orders_refused_exchange; /* refused by hv_exchange_submit for another reason */
    uint64_t confirmations;           /* execution reports delivered to the coordinator */
    uint64_t fills;
    uint64_t trades_hash;     /* FNV-1a over every fill (order id, side, qty, price, fee) */
    uint64_t bus_messages;    /* frames the agents received (their own reports) */
    uint64_t frames_bad;      /* frames the agents refused as malformed */
    uint64_t frames_stale;    /* duplicates and frames of a cycle already over, ignored */
    uint64_t inputs_missing;  /* predictions the strategy decided without (an agent was gone) */
    uint32_t agents_reported; /* agents whose final report reached the coordinator */
    uint32_t joins_refused;   /* joins from an unknown id, a wrong role or a changed key */
    uint32_t agents_lost;     /* times an agent missed 3 heartbeats */
    uint32_t agents_rejoined; /* times a lost or restarted agent joined again */
    int runner;               /* enum hv_swarm_runner actually used (ONE or THREADS) */
    int vote_auth;            /* enum hv_swarm_vote_auth actually used (SIG or MAC) */
    int halted;               /* the kill switch tripped */
    uint64_t halted_cycle;    /* the cycle it tripped at */
    hv_limit_breach halt_breach;
    hv_portfolio_stats portfolio;
    hv_limits_stats limits;
    hv_exchange_stats exchange;
    int rules_used[HV_RULE_COUNT]; /* proposals per rule */
    uint32_t nthreads;             /* entries of `threads` */
    hv_swarm_usage threads[HV_SWARM_THREADS_MAX];
    uint64_t cpu_ns;                                   /* sum over `threads` */
    uint64_t switches_voluntary, switches_involuntary; /* sums over `threads` */
} hv_swarm_stats;

HV_EXTERN void hv_swarm_stats_get(const hv_swarm *s, hv_swarm_stats *out);

/* While the swarm runs, from the progress callback only (the coordinator's thread): the
 * coordinator's statistics so far (the agents' final reports and the runner's thread usage are
 * not in yet: those fields are zero), and its profiler via hv_swarm_profiler(). */
HV_EXTERN void hv_swarm_snapshot(const hv_swarm *s, hv_swarm_stats *out);

/* The cycle profiler (stages in docs/SWARM.md), owned by the swarm. */
HV_EXTERN const hv_profiler *hv_swarm_profiler(const hv_swarm *s);

/* The equity curve (see hv_portfolio_curve); valid until hv_swarm_free(). */
HV_EXTERN size_t hv_swarm_equity_curve(const hv_swarm *s, const uint64_t **t_ns,
                                       const double **equity);

/* An agent the coordinator lost (3 heartbeats missed) or got back (it joined again, or was
 * heard from again). */
typedef struct hv_swarm_event {
    uint64_t t_ns;  /* since the first cycle began, on the coordinator's clock */
    uint64_t cycle; /* the cycle running then */
    uint64_t agent; /* its id */
    char name[24];  /* "pattern-2" */
    int rejoined;   /* 0 lost, 1 back */
} hv_swarm_event;

#define HV_SWARM_EVENTS_MAX 256

/* The losses and rejoins, in order (the first HV_SWARM_EVENTS_MAX; agents_lost and
 * agents_rejoined count them all); *out valid until hv_swarm_free(). Returns the count. */
HV_EXTERN size_t hv_swarm_events(const hv_swarm *s, const hv_swarm_event **out);

/* One fill as the coordinator learned it. */
typedef struct hv_swarm_trade {
    uint64_t cycle;       /* the cycle during which the confirmation arrived */
    uint64_t order_cycle; /* the cycle that decided and sent the order */
    uint64_t order_id;
    hv_side side;
    int64_t qty;
    double price;
    double fee;
    uint64_t exchange_ns; /* when the exchange filled it, on the simulated clock */
    uint64_t proposal_id; /* the proposal whose decision sent the order (order_cycle + 1) */
    int rule;             /* the hv_rule that accepted the proposal; -1: not known (decided more
                             than HV_SWARM_DECISIONS_KEPT proposals before the fill) */
    uint32_t approvals, rejections, abstentions, voters; /* the votes counted in that decision */
} hv_swarm_trade;

/* Accepted decisions the coordinator remembers for the fills of their orders. */
#define HV_SWARM_DECISIONS_KEPT 4096

/* The fills, in delivery order; *out valid until hv_swarm_free(). Returns the count. Also
 * from the progress callback (the fills so far; *out then valid until the callback returns). */
HV_EXTERN size_t hv_swarm_trades(const hv_swarm *s, const hv_swarm_trade **out);

/* One agent as the coordinator sees it: its liveness. */
typedef struct hv_swarm_agent_info {
    char name[32];         /* "market-data", "pattern-0", "risk", ... */
    uint64_t id;           /* global id (HV_SWARM_ID) */
    int joined;            /* it registered with the coordinator */
    int lost;              /* silent for 3 heartbeats and not heard from since */
    int reported;          /* its final report arrived */
    uint64_t last_cycle;   /* the last cycle it said it worked on (UINT64_MAX: none yet) */
    uint64_t last_seen_ns; /* when the coordinator last heard from it, on the runner's clock
                              (hv_now_ns() under hv_swarm_run); 0: never */
} hv_swarm_agent_info;

/* The agents the coordinator expects (itself excluded), in its order: fills up to cap entries
 * of out and returns how many there are. From the progress callback or after hv_swarm_run(). */
HV_EXTERN size_t hv_swarm_agents(const hv_swarm *s, hv_swarm_agent_info *out, size_t cap);

/* The swarm's in-process bus, and agent i's endpoint on it (0 is the coordinator; NULL past the
 * last agent), for their statistics only: hv_bus_stats_get, hv_bus_latency_get,
 * hv_bus_latency_reset, hv_bus_check_alerts, hv_agent_stats_get and hv_agent_name, from any
 * thread while the swarm exists. The runner owns them: never send, receive or subscribe
 * through them. */
HV_EXTERN hv_bus *hv_swarm_bus(const hv_swarm *s);
HV_EXTERN hv_agent *hv_swarm_endpoint(const hv_swarm *s, uint32_t i);

/* The coordinator's consensus engine, for hv_consensus_stats_get() and hv_consensus_latency():
 * from the progress callback or after hv_swarm_run(). */
HV_EXTERN const hv_consensus *hv_swarm_consensus(const hv_swarm *s);

/* ---- The whole-swarm simulator ---------------------------------------------------------------
 *
 * The same agents, driven on simulated time over a seeded network (delay, loss, duplication,
 * reordering; the model of include/hivewire/sim.h, shared with the consensus simulator), with
 * agents that crash, restart or run slow. Every random choice comes from the seed, so a seed
 * replays the same trace, whose BLAKE2b hash the result carries. After every step it checks:
 * no order without an accepted decision; no order executed twice; every proposal ends by its
 * deadline; the position and cash equal the sum of the fills; no frame from a crashed agent
 * after its crash; and the swarm is never stuck while every agent is alive. With no faults it
 * gives the trade list hash of hv_swarm_run() on the same data and seed. The coordinator never
 * crashes (its failover is the replicated log's job).
 */

typedef struct hv_swarm_sim_opts {
    size_t size; /* sizeof(hv_swarm_sim_opts) */
    uint64_t seed;
    uint32_t faults;  /* HV_SIM_DELAY | LOSS | DUP | REORDER | CRASH | RESTART | SLOW */
    uint32_t crashed; /* agents that crash (CRASH or RESTART): default 1, at most 4 */
    FILE *trace;      /* if not NULL, one line per event */
} hv_swarm_sim_opts;

/* Defaults: seed 1, no faults, one crashed agent when CRASH or RESTART is on, no trace. */
HV_EXTERN void hv_swarm_sim_opts_default(hv_swarm_sim_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size,
 * fault bits outside HV_SIM_SWARM_ALL, crashed above 4 or set without CRASH or RESTART). */
HV_EXTERN int hv_swarm_sim_opts_check(const hv_swarm_sim_opts *o, hv_field_error *err);

typedef struct hv_swarm_sim_result {
    uint8_t trace_hash[32];
    char trace_hex[65];
    uint64_t events;     /* deliveries and expiries processed */
    uint64_t sim_end_ns; /* simulated time at the end */
    uint64_t lost, duplicated, crashes, restarts;
    int violation;     /* 0 if every invariant held */
    int gave_up;       /* the coordinator ended the run because an agent it cannot do without
                          (market data, risk, strategy, execution) crashed for good: the
                          designed outcome, not a violation; `message` says which */
    char message[256]; /* the first violation, or why the coordinator gave up */
} hv_swarm_sim_result;

/*
 * Runs one simulation of the swarm cfg over bars[0..n) (cfg->runner, placement, wait and
 * vote_auth are ignored: the simulator is the runner, and every agent shares its "process").
 * Fills *out and, if stats is not NULL, the coordinator's statistics as hv_swarm_stats_get()
 * would. Returns 0 when the run completed (check out->violation), HV_EINVAL (bad config), or
 * HV_ENOMEM.
 */
HV_EXTERN int hv_swarm_sim(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                           const hv_swarm_sim_opts *sc, hv_swarm_sim_result *out,
                           hv_swarm_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_SWARM_H */

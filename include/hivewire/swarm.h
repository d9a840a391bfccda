/*
 * hivewire: the trading swarm. Agents by role, each a thread with its own bus inbox, that talk
 * only through the bus with HVW1-encoded payloads: a market-data agent replays bars, pattern
 * agents predict with DTW, a risk agent keeps rolling VaR/ES and the pre-trade limits, a
 * strategy agent turns predictions into proposals, a coordinator runs every proposal through
 * the consensus engine, and an execution agent drives the simulated exchange. See
 * docs/SWARM.md for the message flow, the voting setup, the determinism argument and the
 * profiler stages.
 *
 * Threads: a swarm object belongs to the thread that created it. hv_swarm_run() starts the
 * agent threads, runs every cycle and joins them before it returns; the progress callback runs
 * on the coordinator's thread. Every query below may be called after hv_swarm_run() returned.
 */
#ifndef HIVEWIRE_SWARM_H
#define HIVEWIRE_SWARM_H

#include <hivewire/common.h>
#include <hivewire/consensus.h>
#include <hivewire/exchange.h>
#include <hivewire/market.h>
#include <hivewire/profiler.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HV_SWARM_PATTERNS_MAX 16
#define HV_SWARM_BARS_MAX     10000000u
/* Agents (4 + patterns), the coordinator and at most 8 verifier helpers. */
#define HV_SWARM_THREADS_MAX (HV_SWARM_PATTERNS_MAX + 5 + 8)

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
 * Where the agents' threads run. AUTO, on a process allowed two or more CPUs: the message chain
 * (market data, risk, strategy, execution and the coordinator, which is the thread that calls
 * hv_swarm_run() and gets its own CPU set back when the run ends) on the first allowed CPU;
 * pattern agents round-robin over the other allowed CPUs and then the first (on two CPUs:
 * second, first, second, ...), except that a lone pattern agent stays with the chain; the
 * verifier helpers on the second. A hand-off between two threads of one CPU is a context
 * switch; between two CPUs of a virtual machine it also wakes the other vCPU, which costs
 * several times more (docs/SWARM.md). NONE leaves placement to the OS. A thread that cannot be
 * pinned runs where the OS puts it.
 */
enum hv_swarm_placement { HV_SWARM_PLACE_NONE = 0, HV_SWARM_PLACE_AUTO = 1 };

typedef struct hv_swarm_config {
    size_t size;       /* sizeof(hv_swarm_config) */
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
    hv_exchange_config exchange;
    hv_limits_config limits;
    int wait;                  /* bus wait strategy for every agent: 0 block, 1 spin, 2 yield */
    uint64_t stall_timeout_ns; /* a cycle that waits longer fails the run (HV_ETIMEDOUT) */
    uint64_t bar_ns;           /* simulated time per bar (default one day) */
    uint32_t verify_threads;   /* coordinator-side signature verifier helpers, 0..8 (default
                                  1; 0 = the coordinator thread verifies alone; only with
                                  block waits) */
    int placement;             /* enum hv_swarm_placement (default HV_SWARM_PLACE_AUTO) */
} hv_swarm_config;

/* Defaults: 4 pattern agents (windows 16/24/32/48, k 8, band 0.1, horizon 5, stride 10,
 * capacity 512: the library covers 5,120 bars) + the risk agent voting (5 voters), qty 100,
 * threshold 0.001, long/short, cash 1e6, VaR 250 bars at 0.99, no VaR budget, the consensus
 * engine's default table (orders are CRITICAL: BFT with Ed25519 votes), early termination on,
 * default exchange, no limits, block waits, 10 s stall timeout, one day per bar, seed 1, one
 * signature verifier helper thread. */
HV_EXTERN void hv_swarm_config_default(hv_swarm_config *cfg);

typedef struct hv_swarm hv_swarm;

/*
 * Creates a swarm over bars[0..n) (borrowed: they must outlive the swarm), validating cfg and
 * allocating every agent's state, the bus, the consensus engine, the exchange, the portfolio,
 * the limits and the keys (an Ed25519 key pair and a MAC key per voter, created here).
 * Returns 0 and *out, or HV_EINVAL (bad config or n < 2, n > HV_SWARM_BARS_MAX), HV_ENOMEM,
 * HV_EIO (the signature verifier's eventfd), HV_ECRYPTO, or an error of the component that
 * refused its part of the config.
 */
HV_EXTERN int hv_swarm_new(const hv_swarm_config *cfg, const hv_bar *bars, size_t n,
                           hv_swarm **out);
HV_EXTERN void hv_swarm_free(hv_swarm *s);

/* Called on the coordinator thread after every cycle; return nonzero to stop early. */
typedef int (*hv_swarm_progress_fn)(void *ud, uint64_t cycles_done, uint64_t cycles_total);

/*
 * Runs the swarm: starts one thread per agent (and the coordinator's verify_threads signature
 * verifier helpers), runs one cycle per bar (or cycles_max), lets
 * the exchange deliver what is still in flight, stops and joins every thread. Once per swarm.
 * Returns 0, HV_ESTATE (already run), HV_ETIMEDOUT (an agent stalled past stall_timeout_ns:
 * a bug or a starved machine; the report says which cycle), HV_EAGAIN (thread creation
 * failed), or an error of the bus or the codec that made an agent stop (the first one seen).
 */
HV_EXTERN int hv_swarm_run(hv_swarm *s, hv_swarm_progress_fn progress, void *ud);

/* What one swarm thread cost, from getrusage(RUSAGE_THREAD): the agents' and helpers' whole
 * lives, the coordinator's from its first cycle to the end of the run. */
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
    uint64_t votes_late_unverified;     /* of votes_late: not evidence, signature not checked */
    uint64_t votes_bad;                 /* refused by the engine for any other reason */
    uint64_t orders_sent;               /* admitted by risk, submitted to the exchange */
    uint64_t last_order_cycle;          /* cycle of the last order sent (UINT64_MAX: none) */
    uint64_t orders_refused_limit;      /* refused by a pre-trade limit (HV_ELIMIT) */
    uint64_t orders_refused_halt;       /* refused because the kill switch is on */
    uint64_t orders_refused_exchange;   /* refused by hv_exchange_submit for another reason */
    uint64_t confirmations;             /* execution reports delivered to the coordinator */
    uint64_t fills;
    uint64_t trades_hash; /* FNV-1a over every fill (order id, side, qty, price, fee) */
    uint64_t bus_messages;
    int halted;            /* the kill switch tripped */
    uint64_t halted_cycle; /* the cycle it tripped at */
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

/* The cycle profiler (stages in docs/SWARM.md), owned by the swarm. */
HV_EXTERN const hv_profiler *hv_swarm_profiler(const hv_swarm *s);

/* The equity curve (see hv_portfolio_curve); valid until hv_swarm_free(). */
HV_EXTERN size_t hv_swarm_equity_curve(const hv_swarm *s, const uint64_t **t_ns,
                                       const double **equity);

/* One fill as the coordinator learned it. */
typedef struct hv_swarm_trade {
    uint64_t cycle;       /* the cycle during which the confirmation arrived */
    uint64_t order_cycle; /* the cycle that decided and sent the order */
    uint64_t order_id;
    hv_side side;
    int64_t qty;
    double price;
    double fee;
} hv_swarm_trade;

/* The fills, in delivery order; *out valid until hv_swarm_free(). Returns the count. */
HV_EXTERN size_t hv_swarm_trades(const hv_swarm *s, const hv_swarm_trade **out);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_SWARM_H */

/*
 * Internal to the bus (the files of src/bus/): the structs behind the opaque handles, the
 * constants, the small helpers every file inlines, and the functions one file offers the others
 * (hv__*).
 *
 * Files: pool.c (message and buffer pools), inbox.c (lanes, coalescing, backpressure, wake-ups),
 * publish.c (building messages, routing, publish, send, broadcast, request/reply), recv.c
 * (receive, request timeouts, redelivery), agent.c (agents, subscriptions, queue groups, the
 * writer side of the routing lock), bus.c (lifecycle, dead letters, metrics).
 *
 * Concurrency map (docs/BUS.md has the full story):
 *  - Routing state (trie, subscription table, agent table, groups) changes only under the
 *    writer side of a "big reader" lock: every agent has its own `reading` flag on its own cache
 *    line, so publishers never write a shared line to enter the read side. Writers (subscribe,
 *    unsubscribe, agent new/free) take a mutex, raise `writer`, then wait for every live agent's
 *    flag to drop. Reader: store reading=1; fence; load writer. Writer: store writer=1; fence;
 *    load each reading. With sequentially consistent accesses on both sides at least one of
 *    them sees the other's store, so a reader never runs beside a writer.
 *  - Inbox lanes are lock-free MPMC queues (hivewire/ring.h). Entries are message pointers, or
 *    a pointer to a coalescing cell with its low bit set.
 *  - The message and buffer pools are Treiber stacks of indices with an ABA tag.
 */
#ifndef HV_BUS_BUS_INT_H
#define HV_BUS_BUS_INT_H

#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include <hivewire/bus.h>
#include <hivewire/hist.h>
#include <hivewire/ring.h>

#include "core/assert.h"
#include "core/spin.h"
#include "core/timeq.h"
#include "topics.h"

#define LANES              HV_PRIO_COUNT
#define NIL                UINT32_MAX
#define EVICT_TRIES        8
#define COALESCE_PROBE     8
#define MAX_GROUPS         256
#define GROUP_NAME_MAX     31
#define LAT_MAX_NS         (60ull * 1000 * 1000 * 1000)
#define LAT_SUB_BITS       10
#define AGENT_LAT_SUB_BITS 7
#define RECV_CHUNK         32 /* entries claimed from a lane with one atomic operation */
#define ACACHE_MAX         16 /* messages a publishing agent takes from the pool at once */

_Static_assert(sizeof(hv_bus_msg) == 256, "hv_bus_msg is four cache lines");

/* Counter written by one thread only: a plain add, published with a relaxed store. */
static inline void own_add(uint64_t *c, uint64_t v)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline void shared_add(uint64_t *c, uint64_t v)
{
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

/* Deadlines saturate instead of wrapping: a huge TTL or timeout means "never". */
static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static inline uint64_t rd(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Lock-free LIFO free list of indices. head = (tag << 32) | index; the tag defeats ABA. */
typedef struct idx_stack {
    _Alignas(HV_RING_ALIGN) uint64_t head;
    uint32_t in_use;
    uint32_t cap;
    uint32_t *next;
} idx_stack;

struct hv_buf {
    uint32_t refs;
    uint32_t index;
    uint32_t cap;
    uint32_t reserved;
    hv_bus *bus;
    uint8_t *data;
};

typedef struct sub {
    hv_agent *agent; /* NULL: free slot */
    char *pattern;   /* owned */
    uint32_t pattern_len;
    uint32_t group; /* 0: none, else index + 1 into bus->groups */
    uint32_t next_free;
    int bp;
    uint64_t block_timeout_ns;
    uint32_t type_lo, type_hi; /* type_hi 0: any type */
    uint32_t sender;           /* 0: any sender */
    hv_sub_filter_fn filter;
    void *filter_ctx;
} sub;

typedef struct group {
    char name[GROUP_NAME_MAX + 1];
    uint32_t members; /* 0: free slot */
    int policy;
    uint32_t rr; /* round-robin cursor (atomic) */
} group;

/*
 * A coalescing cell: the pending message of one key in one inbox. Lanes hold markers, the
 * cell's address with the lane in bits 1-3 and bit 0 set (cells are 16-byte aligned). Beside
 * cell i, marks[i] (a separate array, so that a cell stays 16 bytes) says which lane's marker
 * is live and which lanes hold one. Under the inbox's coalescing lock: msg != NULL iff the
 * marker in lane `lane` is queued and will deliver it; a marker of another lane (left behind
 * when a more urgent update moved the message up) is stale and resolves to nothing; at most one
 * marker per lane and cell; a cell with no markers is free for any key.
 */
typedef struct coalesce_cell {
    _Alignas(16) uint64_t key;
    hv_bus_msg *msg;
} coalesce_cell;

typedef struct cell_marks {
    uint8_t lane;    /* the lane whose marker delivers msg */
    uint8_t markers; /* bit l: a marker of this cell is queued in lane l */
} cell_marks;

_Static_assert(LANES <= 8, "a marker keeps its lane in 3 bits");
_Static_assert(_Alignof(coalesce_cell) >= 16, "a marker keeps 4 bits under the address");
_Static_assert(sizeof(coalesce_cell) == 16, "a cell is a key and a message pointer");
_Static_assert(_Alignof(max_align_t) >= _Alignof(coalesce_cell), "calloc aligns the cells");

static inline void *marker_of(coalesce_cell *c, unsigned lane)
{
    return (void *)((uintptr_t)c | (uintptr_t)lane << 1 | 1u);
}

typedef struct pending_req {
    uint64_t corr_id;
    uint64_t deadline_ns;
} pending_req;

struct hv_agent {
    hv_mpmc lanes[LANES];
    /* read by every publisher */
    _Alignas(HV_RING_ALIGN) uint32_t waiting; /* owner asleep on efd, or armed */
    int efd;
    int wait;
    int bp;
    uint64_t block_timeout_ns;
    hv_bus *bus;
    uint32_t id;
    uint32_t coalesce_mask;
    coalesce_cell *cells;
    cell_marks *marks; /* marks[i] belongs to cells[i] */
    /* publishers blocked for space, and the coalescing lock */
    _Alignas(HV_RING_ALIGN) uint32_t space_seq;
    uint32_t space_waiters;
    uint32_t clock_;
    /* the owner's read-side flag of the bus lock */
    _Alignas(HV_RING_ALIGN) uint32_t reading;
    /* counters bumped by publishers (atomic read-modify-write) */
    _Alignas(HV_RING_ALIGN) uint64_t c_dropped_oldest;
    uint64_t c_rejected;
    uint64_t c_block_timeouts;
    uint64_t c_coalesced;
    uint64_t c_filtered;
    /* counters and state of the owner thread */
    _Alignas(HV_RING_ALIGN) uint64_t c_sent;
    uint64_t c_bytes_sent;
    uint64_t c_received;
    uint64_t c_bytes_received;
    uint64_t c_send_rejected;
    uint64_t c_unrouted;
    uint64_t c_expired;
    uint64_t c_request_timeouts;
    uint64_t c_late_replies;
    uint64_t c_errors;
    uint64_t c_retried;
    uint64_t c_retries_exhausted;
    uint64_t c_retry_overflow;
    uint64_t now_ns_last; /* the latest now_ns the owner passed in */
    uint32_t acache_n;    /* messages in the allocation cache (atomic: read by stats) */
    uint32_t acache[ACACHE_MAX];
    uint32_t passed[LANES];
    uint32_t starvation_k;
    uint32_t spin_iters;
    uint32_t max_pending;
    uint32_t npending;
    pending_req *pending;
    uint64_t next_deadline;
    uint64_t corr_seq;
    hv_match_cache cache;
    hv_hist *lat;   /* optional per-agent latency histogram */
    hv_timeq retry; /* messages handed back for redelivery, by due time */
    uint32_t retry_max;
    uint64_t retry_base_ns;
    uint64_t retry_max_delay_ns;
    uint32_t live_index;
    char name[32];
};

typedef struct dlq {
    pthread_mutex_t mu;
    hv_dead_letter *items;
    uint32_t cap;
    uint32_t head;
    uint32_t count;
    uint64_t total;
    uint64_t dropped;
} dlq;

/* Fields are grouped by who writes them, each group on its own 128-byte block, so that the
 * read-mostly routing fields never share a cache line with counters that every message
 * updates. */
struct hv_bus {
    _Alignas(HV_RING_ALIGN) uint32_t writer;
    _Alignas(HV_RING_ALIGN) idx_stack msg_free;
    _Alignas(HV_RING_ALIGN) idx_stack buf_free;
    /* written by every receive */
    _Alignas(HV_RING_ALIGN) hv_hist lat;
    /* written rarely (pool exhaustion, alerts) */
    _Alignas(HV_RING_ALIGN) uint64_t pool_empty;
    uint64_t alerts;
    /* read on every publish, written only by writers */
    _Alignas(HV_RING_ALIGN) hv_bus_opts opts;
    hv_bus_msg *msgs;
    hv_buf *bufs;
    uint8_t *buf_mem;
    hv_topics *topics;
    sub *subs;
    hv_agent **agents; /* by id - 1 */
    hv_agent **live;
    uint32_t nlive;
    /* writers only */
    _Alignas(HV_RING_ALIGN) pthread_mutex_t wmu;
    uint32_t sub_free;   /* list of released slots */
    uint32_t sub_unused; /* slots >= this were never used */
    uint32_t nsubs;
    _Alignas(HV_RING_ALIGN) dlq dlq;
    /* the round-robin cursors are written by publishers */
    _Alignas(HV_RING_ALIGN) group groups[MAX_GROUPS];
};

static inline int pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static inline uint64_t bus_clock(const hv_bus *b)
{
    return b->opts.clock_ns(b->opts.clock_ud);
}

/* Every call of the owner that takes now_ns: the owner reads one monotonic clock (or drives a
 * simulated one forward), so its time never runs backwards. TTLs, request deadlines and
 * redelivery times are computed from it. */
static inline void clock_advance(hv_agent *a, uint64_t now_ns)
{
    HV_ASSERT(now_ns >= a->now_ns_last);
    a->now_ns_last = now_ns;
}

static inline hv_agent *agent_by_id(hv_bus *b, uint32_t id)
{
    if (id == 0 || id > b->opts.max_agents)
        return NULL;
    return b->agents[id - 1];
}

/* ---------------------------------------------------------------------------------------- */
/* Big-reader lock, read side (publishers). The writer side is in agent.c.                   */

static inline void read_enter(hv_agent *a)
{
    hv_bus *b = a->bus;
    for (;;) {
        __atomic_store_n(&a->reading, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&b->writer, __ATOMIC_SEQ_CST) == 0)
            return;
        __atomic_store_n(&a->reading, 0, __ATOMIC_RELEASE);
        for (unsigned i = 0; __atomic_load_n(&b->writer, __ATOMIC_ACQUIRE) != 0; i++) {
            if (i < 64)
                hv__cpu_relax();
            else
                sched_yield();
        }
    }
}

static inline void read_exit(hv_agent *a)
{
    __atomic_store_n(&a->reading, 0, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------------------------------- */
/* Coalescing cells: the lock and the resolution of a lane entry                            */

static inline void spin_lock(uint32_t *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
            hv__cpu_relax();
    }
}

static inline void spin_unlock(uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

/* Turns a lane entry into its message (NULL for a stale marker, or a cell already emptied). */
static inline hv_bus_msg *resolve(hv_agent *a, void *entry)
{
    uintptr_t v = (uintptr_t)entry;
    if ((v & 1u) == 0)
        return entry;
    coalesce_cell *c = (coalesce_cell *)(v & ~(uintptr_t)15);
    unsigned lane = (unsigned)(v >> 1) & 7u;
    spin_lock(&a->clock_);
    cell_marks *k = &a->marks[c - a->cells];
    HV_DEBUG_ASSERT(k->markers & (1u << lane));
    k->markers = (uint8_t)(k->markers & ~(1u << lane));
    hv_bus_msg *m = NULL;
    if (lane == k->lane) { /* the live marker; any other is stale */
        m = c->msg;
        c->msg = NULL;
    }
    spin_unlock(&a->clock_);
    return m;
}

/*
 * A fan-out or a batch defers the wake-up checks until all its enqueues are done: every
 * claim is still a seq_cst operation before every check, and a batch to one agent owes it
 * only one check.
 */
#define WAKE_BATCH 64

typedef struct wake_list {
    uint32_t n;
    hv_agent *a[WAKE_BATCH];
} wake_list;

/* ---------------------------------------------------------------------------------------- */
/* pool.c                                                                                   */

/* Allocates the message and buffer pools of b (b->opts set). HV_ENOMEM; hv__pools_fini frees
 * what was allocated either way. */
int hv__pools_init(hv_bus *b);
void hv__pools_fini(hv_bus *b);
/* One message for the owner of a, from its cache or, refilling it, from the pool; NULL when
 * the pool is empty (counted in pool_empty). */
hv_bus_msg *hv__msg_alloc(hv_agent *a);
/* Gives a never-published message back to a's cache. */
void hv__msg_unalloc(hv_agent *a, hv_bus_msg *m);
/* Returns a's cached messages to the pool. */
void hv__acache_flush(hv_agent *a);

/* ---------------------------------------------------------------------------------------- */
/* inbox.c                                                                                  */

/*
 * Puts m (one reference owned by the caller, passed on success) into a's inbox under policy bp.
 * Returns 0, HV_EREJECTED or HV_ETIMEDOUT (the caller keeps its reference). Wake-ups owed go to
 * w (NULL: at once).
 */
int hv__deliver(hv_agent *a, hv_bus_msg *m, int bp, uint64_t block_ns, uint64_t now_ns,
                hv_send_result *res, wake_list *w);
/*
 * Delivers k messages of one priority to dst: plain messages go into the lane with one claim for
 * as many as fit (hv_mpmc_push_n); the rest (lane full, or a keyed message) one by one under the
 * receiver's policy. Returns how many were accepted; on a refusal *rc gets its error and the
 * refused and later messages are released.
 */
uint32_t hv__deliver_run(hv_agent *dst, hv_bus_msg **run, uint32_t k, uint64_t now_ns,
                         hv_send_result *res, wake_list *w, int *rc);
/* Runs the wake-up checks deferred in w. */
void hv__wake_flush(wake_list *w);
/* Owner, after popping: wakes publishers blocked for space. */
void hv__notify_space(hv_agent *a);

/* ---------------------------------------------------------------------------------------- */
/* agent.c, bus.c                                                                           */

/* Frees the agent's memory; it must already be out of the bus tables. */
void hv__agent_destroy(hv_agent *a);
/* Queues m (one reference, passed) as a dead letter for recipient. Any thread. */
void hv__dead_letter(hv_bus *b, hv_bus_msg *m, uint32_t recipient, int reason, uint64_t now_ns);

#endif

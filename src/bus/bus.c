/*
 * The bus: pools, agents and their inboxes, routing, delivery policies, dead letters, metrics.
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
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hivewire/bus.h>
#include <hivewire/hist.h>
#include <hivewire/ring.h>

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

/*
 * The owner's sequentially consistent fence in the wake-up protocol (publishers need none: their
 * seq_cst claim of a lane cell is the barrier, see wake_check()). ThreadSanitizer does not model
 * fences, so in TSan builds it is a seq_cst read-modify-write of one shared word instead.
 */
#if defined(__SANITIZE_THREAD__)
#define HV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HV_TSAN 1
#endif
#endif
#ifdef HV_TSAN
static uint64_t tsan_fence_word;
#define SC_FENCE() ((void)__atomic_fetch_add(&tsan_fence_word, 0, __ATOMIC_SEQ_CST))
#elif defined(__x86_64__)
/* On x86-64 any locked instruction is a full barrier and a locked add to the stack is cheaper
 * than mfence (the Linux kernel's smp_mb() does the same). */
#define SC_FENCE() __asm__ volatile("lock; addl $0, -8(%%rsp)" ::: "memory", "cc")
#else
#define SC_FENCE() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

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

/* ---------------------------------------------------------------------------------------- */
/* Index stack: lock-free LIFO free list. head = (tag << 32) | index; the tag defeats ABA.    */

typedef struct idx_stack {
    _Alignas(HV_RING_ALIGN) uint64_t head;
    uint32_t in_use;
    uint32_t cap;
    uint32_t *next;
} idx_stack;

static int stack_init(idx_stack *s, uint32_t n)
{
    s->next = malloc((size_t)n * sizeof(*s->next));
    if (s->next == NULL)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        s->next[i] = i + 1 < n ? i + 1 : NIL;
    s->head = 0;
    s->in_use = 0;
    s->cap = n;
    return 0;
}

static uint32_t stack_pop(idx_stack *s)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t idx = (uint32_t)old;
        if (idx == NIL)
            return NIL;
        uint32_t nx = __atomic_load_n(&s->next[idx], __ATOMIC_RELAXED);
        uint64_t nw = (((old >> 32) + 1) << 32) | nx;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&s->in_use, 1, __ATOMIC_RELAXED);
            return idx;
        }
    }
}

/*
 * Pops up to max indices with one compare-and-swap. The walk down the list is safe: nodes in
 * the stack change only when they reach the head, which changes the tag, so an unchanged head
 * (index and tag) at the CAS proves that the chain walked was the stack's chain.
 */
static uint32_t stack_pop_n(idx_stack *s, uint32_t *out, uint32_t max)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t cur = (uint32_t)old, n = 0;
        while (n < max && cur != NIL) {
            out[n++] = cur;
            cur = __atomic_load_n(&s->next[cur], __ATOMIC_RELAXED);
        }
        if (n == 0)
            return 0;
        uint64_t nw = (((old >> 32) + 1) << 32) | cur;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&s->in_use, n, __ATOMIC_RELAXED);
            return n;
        }
    }
}

/* Pushes the chain first -> ... -> last (n nodes, already linked through next[]). */
static void stack_push_chain(idx_stack *s, uint32_t first, uint32_t last, uint32_t n)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_RELAXED);
    for (;;) {
        __atomic_store_n(&s->next[last], (uint32_t)old, __ATOMIC_RELAXED);
        uint64_t nw = (((old >> 32) + 1) << 32) | first;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            break;
    }
    __atomic_fetch_sub(&s->in_use, n, __ATOMIC_RELAXED);
}

static void stack_push(idx_stack *s, uint32_t idx)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_RELAXED);
    for (;;) {
        __atomic_store_n(&s->next[idx], (uint32_t)old, __ATOMIC_RELAXED);
        uint64_t nw = (((old >> 32) + 1) << 32) | idx;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            break;
    }
    __atomic_fetch_sub(&s->in_use, 1, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------------------------- */

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

typedef struct coalesce_cell {
    uint64_t key;
    hv_bus_msg *msg; /* the pending message for key; non-NULL iff a marker is queued */
} coalesce_cell;

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
    uint32_t acache_n; /* messages in the allocation cache (atomic: read by stats) */
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

/* ---------------------------------------------------------------------------------------- */
/* Big-reader lock                                                                          */

static void read_enter(hv_agent *a)
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

static void read_exit(hv_agent *a)
{
    __atomic_store_n(&a->reading, 0, __ATOMIC_RELEASE);
}

static void write_enter(hv_bus *b)
{
    pthread_mutex_lock(&b->wmu);
    __atomic_store_n(&b->writer, 1, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < b->nlive; i++) {
        hv_agent *a = b->live[i];
        while (__atomic_load_n(&a->reading, __ATOMIC_SEQ_CST) != 0)
            sched_yield();
    }
}

static void write_exit(hv_bus *b)
{
    __atomic_store_n(&b->writer, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&b->wmu);
}

/* ---------------------------------------------------------------------------------------- */
/* Clock, futex, eventfd                                                                    */

static uint64_t default_clock(void *ud)
{
    (void)ud;
    return hv_now_ns();
}

static uint64_t bus_clock(const hv_bus *b)
{
    return b->opts.clock_ns(b->opts.clock_ud);
}

static void ns_to_ts(uint64_t ns, struct timespec *ts)
{
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
}

static void futex_wait(uint32_t *addr, uint32_t val, uint64_t timeout_ns)
{
    struct timespec ts;
    ns_to_ts(timeout_ns, &ts);
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, NULL, 0);
}

static void futex_wake_all(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void efd_drain(int fd)
{
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof(v));
    (void)n;
}

static void efd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof(one));
    (void)n;
}

/* ---------------------------------------------------------------------------------------- */
/* Pools                                                                                    */

int hv_bus_buf_alloc(hv_bus *b, hv_buf **out)
{
    if (b == NULL || out == NULL)
        return HV_EINVAL;
    uint32_t i = stack_pop(&b->buf_free);
    if (i == NIL) {
        shared_add(&b->pool_empty, 1);
        return HV_EAGAIN;
    }
    hv_buf *buf = &b->bufs[i];
    __atomic_store_n(&buf->refs, 1, __ATOMIC_RELAXED);
    *out = buf;
    return 0;
}

uint8_t *hv_buf_data(hv_buf *buf)
{
    return buf->data;
}

size_t hv_buf_capacity(const hv_buf *buf)
{
    return buf->cap;
}

void hv_buf_retain(hv_buf *buf)
{
    __atomic_fetch_add(&buf->refs, 1, __ATOMIC_RELAXED);
}

void hv_buf_release(hv_buf *buf)
{
    if (buf == NULL)
        return;
    if (__atomic_sub_fetch(&buf->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    stack_push(&buf->bus->buf_free, buf->index);
}

void hv_bus_msg_retain(hv_bus_msg *m)
{
    __atomic_fetch_add(&m->refs_, 1, __ATOMIC_RELAXED);
}

static int msg_unref(hv_bus_msg *m);

void hv_bus_msg_release(hv_bus_msg *m)
{
    if (m == NULL || !msg_unref(m))
        return;
    hv_bus *b = m->bus_;
    stack_push(&b->msg_free, (uint32_t)(m - b->msgs));
}

/* Takes one message for the owner of a, from its cache or, refilling it, from the pool. */
static hv_bus_msg *msg_alloc(hv_agent *a)
{
    hv_bus *b = a->bus;
    uint32_t n = a->acache_n;
    if (n == 0) {
        n = stack_pop_n(&b->msg_free, a->acache, ACACHE_MAX);
        if (n == 0) {
            shared_add(&b->pool_empty, 1);
            return NULL;
        }
    }
    n--;
    __atomic_store_n(&a->acache_n, n, __ATOMIC_RELAXED);
    hv_bus_msg *m = &b->msgs[a->acache[n]];
    m->bus_ = b;
    m->buf_ = NULL;
    return m;
}

/* Gives a never-published message back to a's cache. */
static void msg_unalloc(hv_agent *a, hv_bus_msg *m)
{
    a->acache[a->acache_n] = (uint32_t)(m - a->bus->msgs);
    __atomic_store_n(&a->acache_n, a->acache_n + 1, __ATOMIC_RELAXED);
}

/* Returns a's cached messages to the pool. */
static void acache_flush(hv_agent *a)
{
    hv_bus *b = a->bus;
    for (uint32_t i = 0; i < a->acache_n; i++)
        stack_push(&b->msg_free, a->acache[i]);
    __atomic_store_n(&a->acache_n, 0, __ATOMIC_RELAXED);
}

/* Drops one reference; returns 1 if it was the last (the caller then recycles m). */
static int msg_unref(hv_bus_msg *m)
{
    /* A holder that sees refs == 1 is the only holder: no atomic read-modify-write needed. */
    if (__atomic_load_n(&m->refs_, __ATOMIC_ACQUIRE) != 1 &&
        __atomic_sub_fetch(&m->refs_, 1, __ATOMIC_ACQ_REL) != 0)
        return 0;
    if (m->buf_ != NULL) {
        hv_buf_release(m->buf_);
        m->buf_ = NULL;
    }
    return 1;
}

void hv_bus_msg_release_n(hv_bus_msg **msgs, size_t n)
{
    uint32_t first = NIL, last = NIL, count = 0;
    hv_bus *b = NULL;
    for (size_t i = 0; i < n; i++) {
        hv_bus_msg *m = msgs[i];
        if (m == NULL || !msg_unref(m))
            continue;
        if (b != NULL && m->bus_ != b) { /* another bus: flush what we have */
            stack_push_chain(&b->msg_free, first, last, count);
            first = NIL;
            count = 0;
        }
        b = m->bus_;
        uint32_t idx = (uint32_t)(m - b->msgs);
        if (first == NIL)
            last = idx;
        else
            __atomic_store_n(&b->msg_free.next[idx], first, __ATOMIC_RELAXED);
        first = idx;
        count++;
    }
    if (count > 0)
        stack_push_chain(&b->msg_free, first, last, count);
}

/* ---------------------------------------------------------------------------------------- */
/* Dead letters                                                                             */

static void dead_letter(hv_bus *b, hv_bus_msg *m, uint32_t recipient, int reason, uint64_t now_ns)
{
    dlq *q = &b->dlq;
    hv_bus_msg *drop = NULL;
    pthread_mutex_lock(&q->mu);
    q->total++;
    if (q->cap == 0) {
        drop = m;
        q->dropped++;
    } else {
        if (q->count == q->cap) {
            drop = q->items[q->head].msg;
            q->head = (q->head + 1) % q->cap;
            q->count--;
            q->dropped++;
        }
        hv_dead_letter *d = &q->items[(q->head + q->count) % q->cap];
        d->msg = m;
        d->recipient = recipient;
        d->reason = reason;
        d->at_ns = now_ns;
        q->count++;
    }
    pthread_mutex_unlock(&q->mu);
    hv_bus_msg_release(drop);
}

int hv_bus_dlq_pop(hv_bus *b, hv_dead_letter *out)
{
    if (b == NULL || out == NULL)
        return HV_EINVAL;
    dlq *q = &b->dlq;
    int rc = HV_EAGAIN;
    pthread_mutex_lock(&q->mu);
    if (q->count > 0) {
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Bus lifecycle                                                                            */

void hv_bus_opts_default(hv_bus_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->max_agents = 1024;
    o->max_subs = 16384;
    o->msg_pool = 4096;
    o->buf_pool = 64;
    o->buf_bytes = 16384;
    o->dlq_capacity = 1024;
    o->alert_p95_ns = 1000000;
    o->alert_p99_ns = 5000000;
    o->clock_ns = default_clock;
}

static int pow2(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static int check_bus_opts(const hv_bus_opts *o)
{
    if (o->size != sizeof(*o) || o->max_agents == 0 || o->max_agents > (1u << 20))
        return HV_EINVAL;
    if (o->max_subs == 0 || o->max_subs >= NIL || !pow2(o->msg_pool) || !pow2(o->buf_pool))
        return HV_EINVAL;
    if (o->msg_pool > HV_RING_CAPACITY_MAX || o->buf_pool > (1u << 20))
        return HV_EINVAL;
    if (o->buf_bytes < HV_MSG_INLINE_MAX || o->buf_bytes > (1u << 30))
        return HV_EINVAL;
    if (o->dlq_capacity > (1u << 24))
        return HV_EINVAL;
    return 0;
}

static int init_pools(hv_bus *b)
{
    const hv_bus_opts *o = &b->opts;
    b->msgs = aligned_alloc(64, (size_t)o->msg_pool * sizeof(hv_bus_msg));
    b->bufs = calloc(o->buf_pool, sizeof(hv_buf));
    b->buf_mem = malloc((size_t)o->buf_pool * o->buf_bytes);
    if (b->msgs == NULL || b->bufs == NULL || b->buf_mem == NULL)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < o->buf_pool; i++) {
        b->bufs[i].index = i;
        b->bufs[i].cap = o->buf_bytes;
        b->bufs[i].bus = b;
        b->bufs[i].data = b->buf_mem + (size_t)i * o->buf_bytes;
    }
    if (stack_init(&b->msg_free, o->msg_pool) != 0 || stack_init(&b->buf_free, o->buf_pool) != 0)
        return HV_ENOMEM;
    return 0;
}

static int init_tables(hv_bus *b)
{
    const hv_bus_opts *o = &b->opts;
    b->subs = calloc(o->max_subs, sizeof(sub));
    b->agents = calloc(o->max_agents, sizeof(hv_agent *));
    b->live = calloc(o->max_agents, sizeof(hv_agent *));
    b->dlq.items = calloc(o->dlq_capacity ? o->dlq_capacity : 1, sizeof(hv_dead_letter));
    if (b->subs == NULL || b->agents == NULL || b->live == NULL || b->dlq.items == NULL)
        return HV_ENOMEM;
    b->sub_free = NIL; /* slots never used are taken from sub_unused upward */
    b->dlq.cap = o->dlq_capacity;
    if (hv__topics_new(&b->topics) != 0)
        return HV_ENOMEM;
    return hv_hist_init(&b->lat, LAT_MAX_NS, LAT_SUB_BITS);
}

int hv_bus_new(hv_bus **out, const hv_bus_opts *opts)
{
    if (out == NULL)
        return HV_EINVAL;
    hv_bus_opts o;
    if (opts == NULL)
        hv_bus_opts_default(&o);
    else
        o = *opts;
    if (o.clock_ns == NULL)
        o.clock_ns = default_clock;
    int rc = check_bus_opts(&o);
    if (rc != 0)
        return rc;
    hv_bus *b = aligned_alloc(HV_RING_ALIGN,
                              (sizeof(hv_bus) + HV_RING_ALIGN - 1) / HV_RING_ALIGN * HV_RING_ALIGN);
    if (b == NULL)
        return HV_ENOMEM;
    memset(b, 0, sizeof(*b));
    b->opts = o;
    pthread_mutex_init(&b->wmu, NULL);
    pthread_mutex_init(&b->dlq.mu, NULL);
    rc = init_pools(b);
    if (rc == 0)
        rc = init_tables(b);
    if (rc != 0) {
        hv_bus_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static void agent_destroy(hv_agent *a);

void hv_bus_free(hv_bus *b)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; b->live != NULL && i < b->nlive; i++)
        agent_destroy(b->live[i]);
    if (b->dlq.items != NULL) {
        hv_dead_letter d;
        while (hv_bus_dlq_pop(b, &d) == 0)
            hv_bus_msg_release(d.msg);
    }
    for (uint32_t i = 0; b->subs != NULL && i < b->sub_unused; i++)
        free(b->subs[i].pattern);
    hv__topics_free(b->topics);
    hv_hist_fini(&b->lat);
    free(b->dlq.items);
    free(b->subs);
    free(b->agents);
    free(b->live);
    free(b->msg_free.next);
    free(b->buf_free.next);
    free(b->msgs);
    free(b->bufs);
    free(b->buf_mem);
    pthread_mutex_destroy(&b->wmu);
    pthread_mutex_destroy(&b->dlq.mu);
    free(b);
}

void hv_bus_stats_get(hv_bus *b, hv_bus_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&b->wmu);
    out->agents = b->nlive;
    out->subs = b->nsubs;
    out->generation = hv__topics_generation(b->topics);
    uint32_t cached = 0;
    for (uint32_t i = 0; i < b->nlive; i++)
        cached += __atomic_load_n(&b->live[i]->acache_n, __ATOMIC_RELAXED);
    out->msgs_in_use = __atomic_load_n(&b->msg_free.in_use, __ATOMIC_RELAXED) - cached;
    pthread_mutex_unlock(&b->wmu);
    out->bufs_in_use = __atomic_load_n(&b->buf_free.in_use, __ATOMIC_RELAXED);
    out->pool_empty = rd(&b->pool_empty);
    out->alerts = rd(&b->alerts);
    pthread_mutex_lock(&b->dlq.mu);
    out->dead_letters = b->dlq.total;
    out->dlq_dropped = b->dlq.dropped;
    out->dlq_depth = b->dlq.count;
    pthread_mutex_unlock(&b->dlq.mu);
}

/* ---------------------------------------------------------------------------------------- */
/* Metrics                                                                                  */

static void latency_of(const hv_hist *h, hv_latency *out)
{
    out->count = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
    out->p50_ns = hv_hist_quantile(h, 0.50);
    out->p95_ns = hv_hist_quantile(h, 0.95);
    out->p99_ns = hv_hist_quantile(h, 0.99);
    out->p999_ns = hv_hist_quantile(h, 0.999);
    out->max_ns = out->count ? __atomic_load_n(&h->max, __ATOMIC_RELAXED) : 0;
}

void hv_bus_latency(hv_bus *b, hv_latency *out)
{
    latency_of(&b->lat, out);
}

int hv_agent_latency(hv_agent *a, hv_latency *out)
{
    if (a == NULL || out == NULL || a->lat == NULL)
        return HV_ENOTSUP;
    latency_of(a->lat, out);
    return 0;
}

void hv_bus_latency_reset(hv_bus *b)
{
    hv_hist *h = &b->lat;
    for (uint32_t i = 0; i < h->nbuckets; i++)
        __atomic_store_n(&h->counts[i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->overflow, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->min, UINT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&h->max, 0, __ATOMIC_RELAXED);
}

int hv_bus_check_alerts(hv_bus *b)
{
    hv_latency l;
    hv_bus_latency(b, &l);
    if (l.count == 0)
        return 0;
    int n = 0;
    const double qs[2] = { 0.95, 0.99 };
    const uint64_t vals[2] = { l.p95_ns, l.p99_ns };
    const uint64_t thr[2] = { b->opts.alert_p95_ns, b->opts.alert_p99_ns };
    for (int i = 0; i < 2; i++) {
        if (thr[i] == 0 || vals[i] <= thr[i])
            continue;
        n++;
        shared_add(&b->alerts, 1);
        if (b->opts.alert_cb != NULL)
            b->opts.alert_cb(b->opts.alert_ud, qs[i], vals[i], thr[i]);
    }
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Inbox: coalescing, enqueue with policies, wake-up                                        */

static void spin_lock(uint32_t *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) != 0) {
        while (__atomic_load_n(l, __ATOMIC_RELAXED) != 0)
            hv__cpu_relax();
    }
}

static void spin_unlock(uint32_t *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The cell for key (existing, else a free one in the probe window), or NULL. Lock held. */
static coalesce_cell *find_cell(hv_agent *a, uint64_t key)
{
    uint32_t probe = a->coalesce_mask + 1 < COALESCE_PROBE ? a->coalesce_mask + 1 : COALESCE_PROBE;
    uint32_t start = (uint32_t)mix64(key) & a->coalesce_mask;
    coalesce_cell *free_cell = NULL;
    for (uint32_t i = 0; i < probe; i++) {
        coalesce_cell *c = &a->cells[(start + i) & a->coalesce_mask];
        if (c->key == key)
            return c;
        if (c->msg == NULL && free_cell == NULL)
            free_cell = c;
    }
    return free_cell;
}

/* Turns a lane entry into its message (NULL if a coalescing cell was already emptied). */
static hv_bus_msg *resolve(hv_agent *a, void *entry)
{
    uintptr_t v = (uintptr_t)entry;
    if ((v & 1u) == 0)
        return entry;
    coalesce_cell *c = (coalesce_cell *)(v & ~(uintptr_t)1);
    spin_lock(&a->clock_);
    hv_bus_msg *m = c->msg;
    c->msg = NULL;
    spin_unlock(&a->clock_);
    return m;
}

enum { ENQ_OK, ENQ_COALESCED, ENQ_FULL };

static int try_enqueue(hv_agent *a, hv_bus_msg *m, hv_bus_msg **replaced)
{
    hv_mpmc *lane = &a->lanes[m->prio - 1];
    if (m->coalesce_key == 0)
        return hv_mpmc_push(lane, m) == 0 ? ENQ_OK : ENQ_FULL;
    /* Invariant under the lock: cell->msg != NULL iff the cell's marker is in a lane. */
    spin_lock(&a->clock_);
    coalesce_cell *c = find_cell(a, m->coalesce_key);
    int rc;
    if (c == NULL) {
        rc = hv_mpmc_push(lane, m) == 0 ? ENQ_OK : ENQ_FULL;
    } else if (c->msg != NULL) {
        *replaced = c->msg;
        c->msg = m;
        rc = ENQ_COALESCED;
    } else if (hv_mpmc_push(lane, (void *)((uintptr_t)c | 1u)) == 0) {
        c->key = m->coalesce_key;
        c->msg = m;
        rc = ENQ_OK;
    } else {
        rc = ENQ_FULL;
    }
    spin_unlock(&a->clock_);
    return rc;
}

/*
 * Wake-up, publisher side, run after the message is in the lane. No fence: the push claimed
 * its position with a sequentially consistent compare-and-swap on the lane's enqueue index,
 * and this load of `waiting` is sequentially consistent too, so the claim comes before the
 * load in the single total order of seq_cst operations. The owner does the mirror image
 * (store waiting = 1 (seq_cst); fence; seq_cst load of each lane's enqueue index, see
 * sleep_once()). So either the owner sees the claim and does not sleep (it waits for the
 * entry to be written instead), or this publisher sees waiting = 1 and signals the eventfd,
 * whose counter keeps the signal even if the owner has not reached poll() yet.
 * docs/BUS.md section 7 has the proof.
 */
static inline void wake_check(hv_agent *a)
{
    if (__atomic_load_n(&a->waiting, __ATOMIC_SEQ_CST) == 0)
        return;
    if (__atomic_exchange_n(&a->waiting, 0, __ATOMIC_ACQ_REL) != 0)
        efd_signal(a->efd);
}

static inline void wake(hv_agent *a)
{
    if (a->wait != HV_WAIT_BLOCK)
        return;
    wake_check(a);
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

static void wake_flush(wake_list *w)
{
    if (w == NULL || w->n == 0)
        return;
    for (uint32_t i = 0; i < w->n; i++)
        wake_check(w->a[i]);
    w->n = 0;
}

static void wake_later(wake_list *w, hv_agent *a)
{
    if (a->wait != HV_WAIT_BLOCK)
        return;
    if (w == NULL || w->n == WAKE_BATCH) {
        wake(a);
        return;
    }
    if (w->n > 0 && w->a[w->n - 1] == a)
        return; /* a batch to one agent owes it one check */
    w->a[w->n++] = a;
}

static int evict_oldest(hv_agent *a, hv_mpmc *lane, uint64_t now_ns)
{
    void *e;
    if (hv_mpmc_pop(lane, &e) != 0)
        return 0;
    hv_bus_msg *m = resolve(a, e);
    if (m == NULL)
        return 0;
    shared_add(&a->c_dropped_oldest, 1);
    dead_letter(a->bus, m, a->id, HV_DEAD_DROPPED, now_ns);
    return 1;
}

/*
 * Blocked publisher: announce (space_waiters++, seq_cst), read space_seq, re-check the lane
 * (seq_cst load of its dequeue index), sleep on space_seq. The owner's pop claims with a
 * seq_cst compare-and-swap on the dequeue index and then loads space_waiters (seq_cst): so
 * either this re-check sees the claim (the lane is not full: retry; if the slot is not written
 * yet the push fails again and we come back here), or the owner sees the waiter, bumps
 * space_seq and wakes; the futex compares space_seq, so a bump between our read and our sleep
 * makes the sleep return at once. Returns 0 (retry) or HV_ETIMEDOUT.
 */
static int wait_space(hv_agent *a, hv_mpmc *lane, uint64_t block_ns, uint64_t *deadline)
{
    uint64_t now = bus_clock(a->bus);
    if (*deadline == 0)
        *deadline = sat_add(now, block_ns);
    if (now >= *deadline)
        return HV_ETIMEDOUT;
    __atomic_fetch_add(&a->space_waiters, 1, __ATOMIC_SEQ_CST);
    uint32_t seq = __atomic_load_n(&a->space_seq, __ATOMIC_SEQ_CST);
    if (hv_mpmc_full_sc(lane))
        futex_wait(&a->space_seq, seq, *deadline - now);
    else
        hv__cpu_relax(); /* a slot is claimed by the owner and about to be freed */
    __atomic_fetch_sub(&a->space_waiters, 1, __ATOMIC_RELEASE);
    return 0;
}

/* Owner, after popping (the pops' seq_cst claims come before this seq_cst load). */
static void notify_space(hv_agent *a)
{
    if (__atomic_load_n(&a->space_waiters, __ATOMIC_SEQ_CST) == 0)
        return;
    __atomic_fetch_add(&a->space_seq, 1, __ATOMIC_RELEASE);
    futex_wake_all(&a->space_seq);
}

/*
 * Puts m (one reference owned by the caller, passed on success) into a's inbox under policy bp.
 * Returns 0, HV_EREJECTED or HV_ETIMEDOUT (the caller keeps its reference).
 */
static int deliver(hv_agent *a, hv_bus_msg *m, int bp, uint64_t block_ns, uint64_t now_ns,
                   hv_send_result *res, wake_list *w)
{
    hv_mpmc *lane = &a->lanes[m->prio - 1];
    uint64_t deadline = 0;
    for (int tries = 0;; tries++) {
        hv_bus_msg *old = NULL;
        int rc = try_enqueue(a, m, &old);
        if (rc == ENQ_OK) {
            res->delivered++;
            wake_later(w, a);
            return 0;
        }
        if (rc == ENQ_COALESCED) {
            res->delivered++;
            res->coalesced++;
            shared_add(&a->c_coalesced, 1);
            hv_bus_msg_release(old);
            return 0;
        }
        if (bp == HV_BP_DROP_OLDEST && tries < EVICT_TRIES) {
            res->dropped_oldest += (uint32_t)evict_oldest(a, lane, now_ns);
            continue;
        }
        if (bp == HV_BP_BLOCK) {
            wake_flush(w); /* never sleep on wake-ups we still owe */
            if (wait_space(a, lane, block_ns, &deadline) == 0)
                continue;
            shared_add(&a->c_block_timeouts, 1);
            shared_add(&a->c_rejected, 1);
            res->rejected++;
            return HV_ETIMEDOUT;
        }
        shared_add(&a->c_rejected, 1);
        res->rejected++;
        return HV_EREJECTED;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Building messages                                                                        */

typedef struct send_meta {
    uint32_t flags;
    uint32_t reply_to;
    uint64_t corr_id;
    const char *subject;
    size_t subject_len;
} send_meta;

static int check_send(const hv_bus *b, const hv_send *m)
{
    if (m->prio > HV_PRIO_BATCH)
        return HV_EINVAL;
    if (m->len > 0 && m->data == NULL && m->buf == NULL)
        return HV_EINVAL;
    if (m->buf != NULL && m->len > m->buf->cap)
        return HV_EINVAL;
    if (m->len > b->opts.buf_bytes || m->len > UINT32_MAX)
        return HV_ETOOBIG;
    return 0;
}

/*
 * Takes a message from the pool and fills it. A caller-supplied buffer gets one extra
 * reference here, which the caller of make_msg drops on success (the message then holds the
 * sender's reference) and keeps on failure (so the sender still owns its buffer).
 */
static int make_msg(hv_agent *from, const hv_send *m, const send_meta *meta, uint64_t now_ns,
                    hv_bus_msg **out)
{
    hv_bus *b = from->bus;
    int rc = check_send(b, m);
    if (rc != 0)
        return rc;
    hv_bus_msg *msg = msg_alloc(from);
    if (msg == NULL) {
        own_add(&from->c_errors, 1);
        return HV_EAGAIN;
    }
    msg->flags = (uint8_t)meta->flags;
    if (m->buf != NULL) {
        hv_buf_retain(m->buf);
        msg->buf_ = m->buf;
        msg->data = m->buf->data;
        msg->flags |= HV_MSG_F_BUF;
    } else if (m->len > HV_MSG_INLINE_MAX) {
        hv_buf *buf;
        if (hv_bus_buf_alloc(b, &buf) != 0) {
            msg_unalloc(from, msg);
            own_add(&from->c_errors, 1);
            return HV_EAGAIN;
        }
        memcpy(buf->data, m->data, m->len);
        msg->buf_ = buf;
        msg->data = buf->data;
        msg->flags |= HV_MSG_F_BUF;
    } else {
        if (m->len > 0)
            memcpy(msg->inline_, m->data, m->len);
        msg->data = msg->inline_;
    }
    msg->corr_id = meta->corr_id;
    msg->coalesce_key = m->coalesce_key;
    msg->deadline_ns = m->ttl_ns ? sat_add(now_ns, m->ttl_ns) : 0;
    msg->sent_ns = now_ns;
    msg->sender = from->id;
    msg->reply_to = meta->reply_to;
    msg->type = m->type;
    msg->len = (uint32_t)m->len;
    msg->prio = m->prio ? m->prio : HV_PRIO_NORMAL;
    msg->subject_len = (uint8_t)meta->subject_len;
    msg->attempts = 0;
    if (meta->subject_len > 0) /* direct sends have none: skip the library call */
        memcpy(msg->subject, meta->subject, meta->subject_len);
    msg->subject[meta->subject_len] = '\0';
    msg->refs_ = 1;
    *out = msg;
    return 0;
}

/* After the message was handed to the inboxes: settle the caller's buffer reference. A
 * negative outcome keeps it with the caller, else the message owns it. */
static void settle_buf(const hv_send *m, int caller_keeps)
{
    if (m->buf != NULL && !caller_keeps)
        hv_buf_release(m->buf);
}

/* ---------------------------------------------------------------------------------------- */
/* Publish                                                                                  */

static int cmp_by_group(const void *x, const void *y, void *ud)
{
    const sub *subs = ud;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    uint32_t ga = subs[a].group, gb = subs[b].group;
    if (ga != gb)
        return ga < gb ? -1 : 1;
    return (a > b) - (a < b);
}

static const hv_match_entry *route(hv_agent *from, const char *s, size_t len, int *err)
{
    hv_bus *b = from->bus;
    uint64_t gen = hv__topics_generation(b->topics);
    uint64_t h = hv__subject_hash(s, len);
    const hv_match_entry *e = hv__cache_lookup(&from->cache, gen, s, len, h);
    if (e != NULL)
        return e;
    hv_match_entry *f = hv__cache_fill(&from->cache, b->topics, gen, s, len, h, err);
    if (f == NULL)
        return NULL;
    int grouped = 0;
    for (uint32_t i = 0; i < f->n && !grouped; i++)
        grouped = b->subs[f->ids[i]].group != 0;
    if (grouped)
        qsort_r(f->ids, f->n, sizeof(uint32_t), cmp_by_group, b->subs);
    return f;
}

/* Inboxes a routed message goes to: each ungrouped subscription, one per group. */
static uint32_t count_targets(const hv_bus *b, const hv_match_entry *e)
{
    uint32_t n = 0, prev = 0;
    for (uint32_t i = 0; i < e->n; i++) {
        uint32_t g = b->subs[e->ids[i]].group;
        if (g == 0 || g != prev)
            n++;
        prev = g;
    }
    return n;
}

static const sub *pick_member(hv_bus *b, const uint32_t *ids, uint32_t n, int lane)
{
    group *g = &b->groups[b->subs[ids[0]].group - 1];
    if (g->policy == HV_GROUP_ROUND_ROBIN) {
        uint32_t k = __atomic_fetch_add(&g->rr, 1, __ATOMIC_RELAXED);
        return &b->subs[ids[k % n]];
    }
    const sub *best = &b->subs[ids[0]];
    uint32_t best_depth = hv_mpmc_size(&best->agent->lanes[lane]);
    for (uint32_t i = 1; i < n && best_depth > 0; i++) {
        const sub *s = &b->subs[ids[i]];
        uint32_t d = hv_mpmc_size(&s->agent->lanes[lane]);
        if (d < best_depth) {
            best = s;
            best_depth = d;
        }
    }
    return best;
}

/* The subscription's filters: 1 to deliver msg, 0 to skip it. */
static int sub_accepts(const sub *s, const hv_bus_msg *msg)
{
    if (s->type_hi != 0 && (msg->type < s->type_lo || msg->type > s->type_hi))
        return 0;
    if (s->sender != 0 && msg->sender != s->sender)
        return 0;
    return s->filter == NULL || s->filter(msg, s->filter_ctx) != 0;
}

static void deliver_routed(hv_bus *b, const hv_match_entry *e, hv_bus_msg *msg, uint64_t now_ns,
                           hv_send_result *res)
{
    int lane = msg->prio - 1;
    uint32_t n = e->n;
    wake_list w;
    w.n = 0;
    for (uint32_t i = 0; i < n;) {
        const sub *s = &b->subs[e->ids[i]];
        uint32_t j = i + 1;
        if (s->group != 0) {
            while (j < n && b->subs[e->ids[j]].group == s->group)
                j++;
            s = pick_member(b, e->ids + i, j - i, lane);
        } else if (!sub_accepts(s, msg)) { /* grouped subscriptions have no filters */
            res->filtered++;
            shared_add(&s->agent->c_filtered, 1);
            hv_bus_msg_release(msg);
            i = j;
            continue;
        }
        if (deliver(s->agent, msg, s->bp, s->block_timeout_ns, now_ns, res, &w) != 0)
            hv_bus_msg_release(msg);
        i = j;
    }
    wake_flush(&w);
}

static void count_send(hv_agent *from, const hv_send_result *res, size_t len)
{
    if (res->delivered > 0) {
        own_add(&from->c_sent, 1);
        own_add(&from->c_bytes_sent, len);
    }
    if (res->rejected > 0)
        own_add(&from->c_send_rejected, res->rejected);
}

static int publish_meta(hv_agent *from, const hv_send *m, const send_meta *meta, uint64_t now_ns,
                        hv_send_result *out)
{
    hv_bus *b = from->bus;
    hv_send_result res = { 0 };
    int err = 0;
    read_enter(from);
    const hv_match_entry *e = route(from, meta->subject, meta->subject_len, &err);
    if (e == NULL) {
        read_exit(from);
        return err;
    }
    uint32_t n = count_targets(b, e);
    res.matched = n;
    if (n == 0) {
        read_exit(from);
        own_add(&from->c_unrouted, 1);
        if (out != NULL)
            *out = res;
        return 0;
    }
    hv_bus_msg *msg;
    int rc = make_msg(from, m, meta, now_ns, &msg);
    if (rc != 0) {
        read_exit(from);
        return rc;
    }
    msg->refs_ = n;
    deliver_routed(b, e, msg, now_ns, &res);
    read_exit(from);
    count_send(from, &res, m->len);
    if (out != NULL)
        *out = res;
    return (int)res.delivered;
}

static int subject_meta(const hv_send *m, send_meta *meta)
{
    if (m->subject == NULL)
        return HV_EINVAL;
    meta->subject = m->subject;
    meta->subject_len = strnlen(m->subject, HV_SUBJECT_MAX + 1);
    if (meta->subject_len > HV_SUBJECT_MAX)
        return HV_EBADSUBJECT;
    return 0;
}

int hv_bus_publish(hv_agent *from, const hv_send *m, uint64_t now_ns, hv_send_result *r)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    send_meta meta = { .corr_id = m->corr_id };
    int rc = subject_meta(m, &meta);
    if (rc != 0)
        return rc;
    rc = publish_meta(from, m, &meta, now_ns, r);
    settle_buf(m, rc < 0);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Direct send, broadcast, request/reply                                                    */

static hv_agent *agent_by_id(hv_bus *b, uint32_t id)
{
    if (id == 0 || id > b->opts.max_agents)
        return NULL;
    return b->agents[id - 1];
}

static int send_meta_to(hv_agent *from, uint32_t to, const hv_send *m, const send_meta *meta,
                        uint64_t now_ns)
{
    hv_send_result res = { 0 };
    read_enter(from);
    hv_agent *dst = agent_by_id(from->bus, to);
    if (dst == NULL) {
        read_exit(from);
        return HV_ENOAGENT;
    }
    hv_bus_msg *msg;
    int rc = make_msg(from, m, meta, now_ns, &msg);
    if (rc == 0) {
        rc = deliver(dst, msg, dst->bp, dst->block_timeout_ns, now_ns, &res, NULL);
        if (rc != 0)
            hv_bus_msg_release(msg);
    }
    read_exit(from);
    count_send(from, &res, m->len);
    return rc;
}

int hv_bus_send(hv_agent *from, uint32_t to, const hv_send *m, uint64_t now_ns)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    send_meta meta = { .flags = HV_MSG_F_DIRECT, .corr_id = m->corr_id, .subject = "" };
    int rc = send_meta_to(from, to, m, &meta, now_ns);
    settle_buf(m, rc != 0);
    return rc;
}

/*
 * Builds up to `want` messages of one priority, without coalescing keys (a keyed message ends
 * the run and is built alone), into out[]. Returns how many; *rc gets the error that stopped
 * it early, if any.
 */
static uint32_t make_run(hv_agent *from, const hv_send *msgs, uint32_t want, uint64_t now_ns,
                         hv_bus_msg **out, int *rc)
{
    uint32_t k = 0;
    *rc = 0;
    while (k < want) {
        const hv_send *m = &msgs[k];
        uint8_t prio = m->prio ? m->prio : HV_PRIO_NORMAL;
        if (k > 0 && (m->coalesce_key != 0 || prio != out[0]->prio))
            break;
        send_meta meta = { .flags = HV_MSG_F_DIRECT, .corr_id = m->corr_id, .subject = "" };
        *rc = make_msg(from, m, &meta, now_ns, &out[k]);
        if (*rc != 0)
            break;
        if (out[k++]->coalesce_key != 0)
            break;
    }
    return k;
}

/*
 * Delivers a run made by make_run(): plain messages go into the lane with one claim for as many
 * as fit (hv_mpmc_push_n); the rest (lane full, or a keyed message) one by one under the
 * receiver's policy. Returns how many were accepted; on a refusal *rc gets its error and the
 * refused and later messages are released.
 */
static uint32_t deliver_run(hv_agent *dst, hv_bus_msg **run, uint32_t k, uint64_t now_ns,
                            hv_send_result *res, wake_list *w, int *rc)
{
    uint32_t done = 0;
    if (run[0]->coalesce_key == 0) {
        done = hv_mpmc_push_n(&dst->lanes[run[0]->prio - 1], (void *const *)run, k);
        res->delivered += done;
        if (done > 0)
            wake_later(w, dst);
    }
    for (; done < k; done++) {
        *rc = deliver(dst, run[done], dst->bp, dst->block_timeout_ns, now_ns, res, w);
        if (*rc != 0)
            break;
    }
    for (uint32_t i = done; i < k; i++)
        hv_bus_msg_release(run[i]);
    return done;
}

int hv_bus_send_n(hv_agent *from, uint32_t to, const hv_send *msgs, size_t n, uint64_t now_ns)
{
    if (from == NULL || msgs == NULL || n > INT_MAX)
        return HV_EINVAL;
    if (n == 0)
        return 0;
    hv_send_result res = { 0 };
    wake_list w;
    w.n = 0;
    size_t i = 0;
    uint64_t bytes = 0;
    int rc = 0;
    read_enter(from);
    hv_agent *dst = agent_by_id(from->bus, to);
    while (dst != NULL && i < n && rc == 0) {
        hv_bus_msg *run[RECV_CHUNK];
        uint32_t want = n - i < RECV_CHUNK ? (uint32_t)(n - i) : RECV_CHUNK;
        uint32_t k = make_run(from, &msgs[i], want, now_ns, run, &rc);
        int drc = 0;
        uint32_t done = k > 0 ? deliver_run(dst, run, k, now_ns, &res, &w, &drc) : 0;
        for (uint32_t j = 0; j < done; j++) {
            settle_buf(&msgs[i + j], 0);
            bytes += msgs[i + j].len;
        }
        i += done;
        if (drc != 0)
            rc = drc;
    }
    wake_flush(&w);
    read_exit(from);
    if (dst == NULL)
        return HV_ENOAGENT;
    own_add(&from->c_sent, i);
    own_add(&from->c_bytes_sent, bytes);
    if (res.rejected > 0)
        own_add(&from->c_send_rejected, res.rejected);
    return i > 0 ? (int)i : rc;
}

int hv_bus_broadcast(hv_agent *from, const hv_send *m, uint64_t now_ns, hv_send_result *r)
{
    if (from == NULL || m == NULL)
        return HV_EINVAL;
    hv_bus *b = from->bus;
    hv_send_result res = { 0 };
    send_meta meta = { .flags = HV_MSG_F_BROADCAST, .corr_id = m->corr_id, .subject = "" };
    read_enter(from);
    uint32_t n = b->nlive - 1;
    res.matched = n;
    int rc = 0;
    hv_bus_msg *msg = NULL;
    if (n > 0)
        rc = make_msg(from, m, &meta, now_ns, &msg);
    if (n > 0 && rc == 0) {
        msg->refs_ = n;
        wake_list w;
        w.n = 0;
        for (uint32_t i = 0; i < b->nlive; i++) {
            hv_agent *dst = b->live[i];
            if (dst == from)
                continue;
            if (deliver(dst, msg, dst->bp, dst->block_timeout_ns, now_ns, &res, &w) != 0)
                hv_bus_msg_release(msg);
        }
        wake_flush(&w);
    }
    read_exit(from);
    if (rc < 0)
        return rc;
    count_send(from, &res, m->len);
    settle_buf(m, 0);
    if (r != NULL)
        *r = res;
    return (int)res.delivered;
}

static void pending_add(hv_agent *a, uint64_t corr, uint64_t deadline_ns)
{
    a->pending[a->npending].corr_id = corr;
    a->pending[a->npending].deadline_ns = deadline_ns;
    a->npending++;
    if (deadline_ns < a->next_deadline)
        a->next_deadline = deadline_ns;
}

static int pending_take(hv_agent *a, uint64_t corr)
{
    for (uint32_t i = 0; i < a->npending; i++) {
        if (a->pending[i].corr_id != corr)
            continue;
        a->pending[i] = a->pending[--a->npending];
        return 1;
    }
    return 0;
}

int hv_agent_request(hv_agent *a, const hv_send *m, uint64_t timeout_ns, uint64_t now_ns,
                     uint64_t *corr_id)
{
    if (a == NULL || m == NULL || timeout_ns == 0)
        return HV_EINVAL;
    if (a->npending == a->max_pending)
        return HV_EFULL;
    uint64_t corr = ((uint64_t)a->id << 40) | (++a->corr_seq & ((1ull << 40) - 1));
    send_meta meta = { .flags = HV_MSG_F_REQUEST, .reply_to = a->id, .corr_id = corr };
    int rc = subject_meta(m, &meta);
    if (rc != 0)
        return rc;
    rc = publish_meta(a, m, &meta, now_ns, NULL);
    if (rc == 0)
        rc = HV_ENOSUBSCRIBER;
    settle_buf(m, rc < 0);
    if (rc < 0)
        return rc;
    pending_add(a, corr, sat_add(now_ns, timeout_ns));
    if (corr_id != NULL)
        *corr_id = corr;
    return rc;
}

int hv_agent_reply(hv_agent *a, const hv_bus_msg *req, const hv_send *m, uint64_t now_ns)
{
    if (a == NULL || req == NULL || m == NULL || (req->flags & HV_MSG_F_REQUEST) == 0)
        return HV_EINVAL;
    send_meta meta = { .flags = HV_MSG_F_REPLY | HV_MSG_F_DIRECT,
                       .corr_id = req->corr_id,
                       .subject = "" };
    int rc = send_meta_to(a, req->reply_to, m, &meta, now_ns);
    settle_buf(m, rc != 0);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Receive                                                                                  */

static int inbox_ready(hv_agent *a)
{
    for (int l = 0; l < LANES; l++)
        if (hv_mpmc_ready(&a->lanes[l]))
            return 1;
    return 0;
}

/* Owner's re-check of the wake-up protocol: has any push claimed a position in some lane
 * (written or not)? Seq_cst loads of the enqueue indices, see wake_check(). */
static int inbox_claimed(hv_agent *a)
{
    for (int l = 0; l < LANES; l++)
        if (hv_mpmc_claimed(&a->lanes[l]))
            return 1;
    return 0;
}

/*
 * Next lane to serve, with the starvation guard; -1 when every lane is empty. *limit comes in
 * as the most messages wanted and goes out as how many may be taken from that lane in a row:
 * no more than lets a waiting lower lane's "passed over" count reach starvation_k.
 */
static int pick_lane(hv_agent *a, uint32_t *ready_out, uint32_t *limit)
{
    uint32_t ready = 0;
    for (int l = 0; l < LANES; l++)
        ready |= (uint32_t)hv_mpmc_ready(&a->lanes[l]) << l;
    if (ready == 0)
        return -1;
    int chosen = __builtin_ctz(ready);
    for (int l = chosen + 1; l < LANES; l++) {
        if ((ready >> l & 1u) && a->passed[l] >= a->starvation_k) {
            chosen = l;
            break;
        }
    }
    for (int l = chosen + 1; l < LANES; l++) {
        if ((ready >> l & 1u) == 0)
            continue;
        uint32_t room = a->passed[l] < a->starvation_k ? a->starvation_k - a->passed[l] : 1;
        if (room < *limit)
            *limit = room;
    }
    *ready_out = ready;
    return chosen;
}

/* Bookkeeping of the starvation guard after k messages were served from lane `chosen`. */
static void served(hv_agent *a, int chosen, uint32_t ready, uint32_t k)
{
    a->passed[chosen] = 0;
    for (int l = chosen + 1; l < LANES; l++)
        if (ready >> l & 1u)
            a->passed[l] += k;
}

static hv_bus_msg *timeout_msg(hv_agent *a, uint64_t corr, uint64_t now_ns)
{
    hv_bus_msg *m = msg_alloc(a);
    if (m == NULL)
        return NULL;
    memset(m, 0, offsetof(hv_bus_msg, bus_));
    m->corr_id = corr;
    m->sent_ns = now_ns;
    m->sender = a->id;
    m->type = HV_MSG_TYPE_TIMEOUT;
    m->prio = HV_PRIO_CRITICAL;
    m->flags = HV_MSG_F_TIMEOUT;
    m->data = m->inline_;
    m->subject[0] = '\0';
    m->refs_ = 1;
    return m;
}

static uint32_t expire_requests(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now_ns)
{
    uint32_t n = 0;
    uint64_t next = UINT64_MAX;
    for (uint32_t i = 0; i < a->npending; i++) {
        pending_req *p = &a->pending[i];
        hv_bus_msg *m = NULL;
        if (p->deadline_ns <= now_ns && n < max)
            m = timeout_msg(a, p->corr_id, now_ns);
        if (m == NULL) {
            if (p->deadline_ns < next)
                next = p->deadline_ns;
            continue;
        }
        out[n++] = m;
        own_add(&a->c_request_timeouts, 1);
        a->pending[i--] = a->pending[--a->npending];
    }
    a->next_deadline = next;
    return n;
}

/* Applies TTL and reply matching; returns 1 if m should be handed to the caller. */
static int admit(hv_agent *a, hv_bus_msg *m, uint64_t now_ns)
{
    if (m->deadline_ns != 0 && now_ns >= m->deadline_ns) {
        own_add(&a->c_expired, 1);
        dead_letter(a->bus, m, a->id, HV_DEAD_EXPIRED, now_ns);
        return 0;
    }
    if ((m->flags & HV_MSG_F_REPLY) && !pending_take(a, m->corr_id)) {
        own_add(&a->c_late_replies, 1);
        dead_letter(a->bus, m, a->id, HV_DEAD_LATE_REPLY, now_ns);
        return 0;
    }
    return 1;
}

/*
 * Latencies of one receive call, recorded into a histogram that other receivers update too:
 * one relaxed atomic add per run of values in the same bucket and one for the count, instead
 * of two per message (values received together are usually in the same bucket).
 */
typedef struct lat_batch {
    hv_hist *h;
    uint32_t idx;
    uint32_t run;
    uint32_t n;
    uint32_t over;
    uint64_t min;
    uint64_t max;
} lat_batch;

static void lat_begin(lat_batch *b, hv_hist *h)
{
    b->h = h;
    b->idx = 0;
    b->run = b->n = b->over = 0;
    b->min = UINT64_MAX;
    b->max = 0;
}

static void lat_add(lat_batch *b, uint64_t v)
{
    if (v > b->h->value_max) {
        v = b->h->value_max;
        b->over++;
    }
    uint32_t i = hv_hist_index(b->h, v);
    if (b->run != 0 && i != b->idx) {
        __atomic_fetch_add(&b->h->counts[b->idx], b->run, __ATOMIC_RELAXED);
        b->run = 0;
    }
    b->idx = i;
    b->run++;
    b->n++;
    b->min = v < b->min ? v : b->min;
    b->max = v > b->max ? v : b->max;
}

static void lat_end(lat_batch *b)
{
    if (b->n == 0)
        return;
    hv_hist *h = b->h;
    __atomic_fetch_add(&h->counts[b->idx], b->run, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, b->n, __ATOMIC_RELAXED);
    if (b->over != 0)
        __atomic_fetch_add(&h->overflow, b->over, __ATOMIC_RELAXED);
    uint64_t cur = __atomic_load_n(&h->min, __ATOMIC_RELAXED);
    while (b->min < cur && !__atomic_compare_exchange_n(&h->min, &cur, b->min, 1, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
    }
    cur = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
    while (b->max > cur && !__atomic_compare_exchange_n(&h->max, &cur, b->max, 1, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
    }
}

/* Redeliveries that are due, ahead of the lanes. Only the TTL applies again: a reply was
 * matched against its request on first delivery. Not recorded as latency (the delay was
 * asked for). */
static uint32_t take_retries(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now_ns,
                             uint64_t *bytes)
{
    uint32_t n = 0;
    hv_bus_msg *m;
    while (n < max && (m = hv__timeq_pop_due(&a->retry, now_ns)) != NULL) {
        if (m->deadline_ns != 0 && now_ns >= m->deadline_ns) {
            own_add(&a->c_expired, 1);
            dead_letter(a->bus, m, a->id, HV_DEAD_EXPIRED, now_ns);
            continue;
        }
        *bytes += m->len;
        out[n++] = m;
    }
    return n;
}

int hv_agent_recv(hv_agent *a, hv_bus_msg **out, uint32_t max, uint64_t now_ns)
{
    if (a == NULL || out == NULL)
        return HV_EINVAL;
    uint32_t n = 0, popped = 0;
    uint64_t bytes = 0;
    if (now_ns >= a->next_deadline)
        n = expire_requests(a, out, max, now_ns);
    uint32_t had_timeouts = n;
    if (now_ns >= hv__timeq_next(&a->retry))
        n += take_retries(a, out + n, max - n, now_ns, &bytes);
    lat_batch lat, own_lat;
    lat_begin(&lat, &a->bus->lat);
    lat_begin(&own_lat, a->lat);
    /* Bounded: each round pops or finds every lane empty; a pop can fail only when a
     * drop-oldest publisher took the entry first. */
    for (uint32_t round = 0; n < max && round < max + 4 * LANES; round++) {
        uint32_t ready, limit = max - n < RECV_CHUNK ? max - n : RECV_CHUNK;
        int l = pick_lane(a, &ready, &limit);
        if (l < 0)
            break;
        void *e[RECV_CHUNK];
        uint32_t got = hv_mpmc_pop_n(&a->lanes[l], e, limit);
        if (got == 0)
            continue;
        served(a, l, ready, got);
        popped += got;
        for (uint32_t i = 0; i < got; i++) {
            hv_bus_msg *m = resolve(a, e[i]);
            if (m == NULL || !admit(a, m, now_ns))
                continue;
            if (now_ns >= m->sent_ns) {
                lat_add(&lat, now_ns - m->sent_ns);
                if (a->lat != NULL)
                    lat_add(&own_lat, now_ns - m->sent_ns);
            }
            bytes += m->len;
            out[n++] = m;
        }
    }
    lat_end(&lat);
    lat_end(&own_lat);
    if (popped > 0)
        notify_space(a);
    own_add(&a->c_received, n - had_timeouts);
    own_add(&a->c_bytes_received, bytes);
    return (int)n;
}

/* A message only this agent holds: m itself when it is the only holder, else a copy that
 * shares m's payload buffer (m's reference is then released). NULL when the pool is empty
 * (m untouched). */
static hv_bus_msg *private_copy(hv_agent *a, hv_bus_msg *m)
{
    if (__atomic_load_n(&m->refs_, __ATOMIC_ACQUIRE) == 1)
        return m;
    hv_bus_msg *c = msg_alloc(a);
    if (c == NULL)
        return NULL;
    c->corr_id = m->corr_id;
    c->coalesce_key = m->coalesce_key;
    c->deadline_ns = m->deadline_ns;
    c->sent_ns = m->sent_ns;
    c->sender = m->sender;
    c->reply_to = m->reply_to;
    c->type = m->type;
    c->len = m->len;
    c->prio = m->prio;
    c->flags = m->flags;
    c->subject_len = m->subject_len;
    c->attempts = m->attempts;
    memcpy(c->subject, m->subject, (size_t)m->subject_len + 1);
    if (m->buf_ != NULL) {
        hv_buf_retain(m->buf_);
        c->buf_ = m->buf_;
        c->data = m->data;
    } else {
        if (m->len > 0)
            memcpy(c->inline_, m->data, m->len);
        c->data = c->inline_;
    }
    c->refs_ = 1;
    hv_bus_msg_release(m);
    return c;
}

static uint64_t retry_delay(const hv_agent *a, unsigned attempts)
{
    if (attempts >= 63 || a->retry_base_ns > (a->retry_max_delay_ns >> attempts))
        return a->retry_max_delay_ns;
    return a->retry_base_ns << attempts;
}

int hv_agent_retry(hv_agent *a, hv_bus_msg *m, uint64_t now_ns)
{
    if (a == NULL || m == NULL)
        return HV_EINVAL;
    own_add(&a->c_retried, 1);
    if (m->attempts >= a->retry_max) {
        own_add(&a->c_retries_exhausted, 1);
        dead_letter(a->bus, m, a->id, HV_DEAD_RETRIES_EXHAUSTED, now_ns);
        return 1;
    }
    hv_bus_msg *own = a->retry.n < a->retry.cap ? private_copy(a, m) : NULL;
    if (own == NULL) {
        own_add(&a->c_retry_overflow, 1);
        dead_letter(a->bus, m, a->id, HV_DEAD_RETRY_OVERFLOW, now_ns);
        return 1;
    }
    uint64_t due = sat_add(now_ns, retry_delay(a, own->attempts));
    own->attempts++;
    hv__timeq_push(&a->retry, due, own); /* cannot fail: room was checked */
    return 0;
}

static int sleep_once(hv_agent *a, uint64_t deadline)
{
    /* Owner side of the wake-up protocol (see wake_check()): announce, fence, re-check the
     * lanes' claimed positions, sleep only if nothing is claimed. A claimed entry that is not
     * written yet belongs to a publisher mid-push, which may have checked `waiting` before we
     * set it: do not sleep, poll until it lands. */
    __atomic_store_n(&a->waiting, 1, __ATOMIC_SEQ_CST);
    SC_FENCE();
    if (inbox_claimed(a)) {
        hv__cpu_relax();
    } else {
        uint64_t now = bus_clock(a->bus);
        if (now < deadline) {
            struct pollfd pfd = { .fd = a->efd, .events = POLLIN };
            struct timespec ts;
            ns_to_ts(deadline - now, &ts);
            ppoll(&pfd, 1, &ts, NULL);
        }
    }
    __atomic_store_n(&a->waiting, 0, __ATOMIC_RELAXED);
    efd_drain(a->efd);
    return inbox_ready(a);
}

int hv_agent_wait(hv_agent *a, uint64_t timeout_ns)
{
    if (a == NULL)
        return HV_EINVAL;
    if (inbox_ready(a))
        return 0;
    if (timeout_ns == 0)
        return HV_ETIMEDOUT;
    uint64_t deadline = sat_add(bus_clock(a->bus), timeout_ns);
    for (uint32_t i = 0; i < a->spin_iters; i++) {
        if (inbox_ready(a))
            return 0;
        hv__cpu_relax();
    }
    for (;;) {
        if (a->wait == HV_WAIT_BLOCK) {
            if (sleep_once(a, deadline))
                return 0;
        } else {
            if (a->wait == HV_WAIT_YIELD)
                sched_yield();
            for (int i = 0; i < 64; i++) {
                if (inbox_ready(a))
                    return 0;
                hv__cpu_relax();
            }
        }
        if (inbox_ready(a))
            return 0;
        if (bus_clock(a->bus) >= deadline)
            return HV_ETIMEDOUT;
    }
}

int hv_agent_eventfd(const hv_agent *a)
{
    return a != NULL ? a->efd : -1;
}

int hv_agent_arm(hv_agent *a)
{
    if (a == NULL || a->efd < 0)
        return HV_ENOTSUP;
    __atomic_store_n(&a->waiting, 1, __ATOMIC_SEQ_CST);
    SC_FENCE();
    if (inbox_claimed(a)) { /* ready, or being written by a publisher mid-push */
        __atomic_store_n(&a->waiting, 0, __ATOMIC_RELAXED);
        return HV_EAGAIN;
    }
    return 0;
}

void hv_agent_disarm(hv_agent *a)
{
    if (a == NULL || a->efd < 0)
        return;
    __atomic_store_n(&a->waiting, 0, __ATOMIC_RELAXED);
    efd_drain(a->efd);
}

uint64_t hv_agent_next_deadline(const hv_agent *a)
{
    uint64_t req = a->npending ? a->next_deadline : UINT64_MAX;
    uint64_t redo = hv__timeq_next(&a->retry);
    return req < redo ? req : redo;
}

/* ---------------------------------------------------------------------------------------- */
/* Agents                                                                                   */

void hv_agent_opts_default(hv_agent_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->inbox_capacity = 256;
    o->wait = HV_WAIT_BLOCK;
    o->spin_iters = 2000;
    o->backpressure = HV_BP_DROP_OLDEST;
    o->block_timeout_ns = 1000000;
    o->starvation_k = 8;
    o->coalesce_slots = 64;
    o->max_pending = 64;
    o->cache_entries = 16;
    o->retry_capacity = 64;
    o->retry_max = 5;
    o->retry_base_ns = 1000000;
    o->retry_max_delay_ns = 1000000000;
}

void hv_sub_opts_default(hv_sub_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->group_policy = HV_GROUP_ROUND_ROBIN;
    o->backpressure = HV_BP_DROP_OLDEST;
    o->block_timeout_ns = 1000000;
}

static int check_agent_opts(const hv_agent_opts *o)
{
    if (o->size != sizeof(*o) || !pow2(o->inbox_capacity) || o->inbox_capacity < 2 ||
        o->inbox_capacity > (1u << 24))
        return HV_EINVAL;
    if (o->wait < HV_WAIT_BLOCK || o->wait > HV_WAIT_YIELD)
        return HV_EINVAL;
    if (o->backpressure < HV_BP_DROP_OLDEST || o->backpressure > HV_BP_BLOCK)
        return HV_EINVAL;
    if (o->starvation_k == 0 || !pow2(o->coalesce_slots) || o->coalesce_slots > (1u << 16))
        return HV_EINVAL;
    if (o->max_pending == 0 || o->max_pending > 65536 || !pow2(o->cache_entries) ||
        o->cache_entries > 4096)
        return HV_EINVAL;
    if (o->retry_capacity > 65536 || o->retry_max > 255 || o->retry_base_ns == 0 ||
        o->retry_max_delay_ns < o->retry_base_ns)
        return HV_EINVAL;
    return 0;
}

static void agent_drain(hv_agent *a)
{
    for (int l = 0; l < LANES; l++) {
        void *e;
        if (a->lanes[l].cells == NULL)
            continue;
        while (hv_mpmc_pop(&a->lanes[l], &e) == 0)
            hv_bus_msg_release(resolve(a, e));
    }
}

/* Frees the agent's memory; it must already be out of the bus tables. */
static void agent_destroy(hv_agent *a)
{
    agent_drain(a);
    hv_bus_msg *r;
    while ((r = hv__timeq_pop_any(&a->retry)) != NULL)
        hv_bus_msg_release(r);
    hv__timeq_fini(&a->retry);
    acache_flush(a);
    for (int l = 0; l < LANES; l++)
        hv_mpmc_fini(&a->lanes[l]);
    hv__cache_fini(&a->cache);
    free(a->cells);
    free(a->pending);
    if (a->efd >= 0)
        close(a->efd);
    if (a->lat != NULL)
        hv_hist_fini(a->lat);
    free(a->lat);
    free(a);
}

static int agent_alloc(hv_bus *b, const hv_agent_opts *o, hv_agent **out)
{
    hv_agent *a = aligned_alloc(HV_RING_ALIGN, (sizeof(hv_agent) + HV_RING_ALIGN - 1) /
                                                   HV_RING_ALIGN * HV_RING_ALIGN);
    if (a == NULL)
        return HV_ENOMEM;
    memset(a, 0, sizeof(*a));
    a->efd = -1;
    a->bus = b;
    a->wait = o->wait;
    a->bp = o->backpressure;
    a->block_timeout_ns = o->block_timeout_ns;
    a->starvation_k = o->starvation_k;
    a->spin_iters = o->spin_iters;
    a->max_pending = o->max_pending;
    a->next_deadline = UINT64_MAX;
    a->retry_max = o->retry_max;
    a->retry_base_ns = o->retry_base_ns;
    a->retry_max_delay_ns = o->retry_max_delay_ns;
    a->coalesce_mask = o->coalesce_slots - 1;
    *out = a;
    int rc = 0;
    for (int l = 0; l < LANES && rc == 0; l++)
        rc = hv_mpmc_init(&a->lanes[l], o->inbox_capacity);
    a->cells = calloc(o->coalesce_slots, sizeof(*a->cells));
    a->pending = calloc(o->max_pending, sizeof(*a->pending));
    if (rc == 0 && (a->cells == NULL || a->pending == NULL))
        rc = HV_ENOMEM;
    if (rc == 0)
        rc = hv__cache_init(&a->cache, o->cache_entries);
    if (rc == 0)
        rc = hv__timeq_init(&a->retry, o->retry_capacity);
    if (rc == 0 && o->latency_hist) {
        a->lat = calloc(1, sizeof(*a->lat));
        rc = a->lat == NULL ? HV_ENOMEM : hv_hist_init(a->lat, LAT_MAX_NS, AGENT_LAT_SUB_BITS);
    }
    if (rc == 0 && o->wait == HV_WAIT_BLOCK) {
        a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (a->efd < 0)
            rc = HV_EIO;
    }
    return rc;
}

int hv_agent_new(hv_bus *b, const hv_agent_opts *opts, hv_agent **out)
{
    if (b == NULL || out == NULL)
        return HV_EINVAL;
    hv_agent_opts o;
    if (opts == NULL)
        hv_agent_opts_default(&o);
    else
        o = *opts;
    int rc = check_agent_opts(&o);
    if (rc != 0)
        return rc;
    hv_agent *a = NULL;
    rc = agent_alloc(b, &o, &a);
    if (rc != 0) {
        if (a != NULL)
            agent_destroy(a);
        return rc;
    }
    write_enter(b);
    uint32_t id = 0;
    for (uint32_t i = 0; i < b->opts.max_agents && id == 0; i++)
        if (b->agents[i] == NULL)
            id = i + 1;
    if (id != 0) {
        a->id = id;
        a->live_index = b->nlive;
        b->agents[id - 1] = a;
        b->live[b->nlive++] = a;
    }
    write_exit(b);
    if (id == 0) {
        agent_destroy(a);
        return HV_EFULL;
    }
    if (o.name != NULL)
        snprintf(a->name, sizeof(a->name), "%s", o.name);
    else
        snprintf(a->name, sizeof(a->name), "agent-%u", id);
    *out = a;
    return 0;
}

static void group_leave(hv_bus *b, uint32_t gid)
{
    if (gid == 0)
        return;
    group *g = &b->groups[gid - 1];
    if (--g->members == 0)
        memset(g, 0, sizeof(*g));
}

/* Writer lock held. */
static void sub_remove(hv_bus *b, uint32_t id)
{
    sub *s = &b->subs[id];
    hv__topics_remove(b->topics, s->pattern, s->pattern_len, id);
    group_leave(b, s->group);
    free(s->pattern);
    s->pattern = NULL;
    s->agent = NULL;
    s->group = 0;
    s->next_free = b->sub_free;
    b->sub_free = id;
    b->nsubs--;
}

void hv_agent_free(hv_agent *a)
{
    if (a == NULL)
        return;
    hv_bus *b = a->bus;
    write_enter(b);
    for (uint32_t i = 0; i < b->sub_unused; i++)
        if (b->subs[i].agent == a)
            sub_remove(b, i);
    b->agents[a->id - 1] = NULL;
    hv_agent *last = b->live[--b->nlive];
    b->live[a->live_index] = last;
    last->live_index = a->live_index;
    write_exit(b);
    agent_destroy(a);
}

uint32_t hv_agent_id(const hv_agent *a)
{
    return a->id;
}

const char *hv_agent_name(const hv_agent *a)
{
    return a->name;
}

void hv_agent_stats_get(hv_agent *a, hv_agent_stats *o)
{
    memset(o, 0, sizeof(*o));
    o->sent = rd(&a->c_sent);
    o->bytes_sent = rd(&a->c_bytes_sent);
    o->received = rd(&a->c_received);
    o->bytes_received = rd(&a->c_bytes_received);
    o->dropped_oldest = rd(&a->c_dropped_oldest);
    o->rejected = rd(&a->c_rejected);
    o->block_timeouts = rd(&a->c_block_timeouts);
    o->send_rejected = rd(&a->c_send_rejected);
    o->unrouted = rd(&a->c_unrouted);
    o->expired = rd(&a->c_expired);
    o->coalesced = rd(&a->c_coalesced);
    o->request_timeouts = rd(&a->c_request_timeouts);
    o->late_replies = rd(&a->c_late_replies);
    o->errors = rd(&a->c_errors);
    o->filtered = rd(&a->c_filtered);
    o->retried = rd(&a->c_retried);
    o->retries_exhausted = rd(&a->c_retries_exhausted);
    o->retry_overflow = rd(&a->c_retry_overflow);
    for (int l = 0; l < LANES; l++)
        o->depth[l] = hv_mpmc_size(&a->lanes[l]);
}

/* ---------------------------------------------------------------------------------------- */
/* Subscriptions                                                                            */

static int check_group_name(const char *name, size_t *len)
{
    *len = strnlen(name, GROUP_NAME_MAX + 1);
    if (*len > GROUP_NAME_MAX)
        return HV_EBADSUBJECT;
    return hv_subject_check(name, *len, 0, NULL) == 1 ? 0 : HV_EBADSUBJECT;
}

/* Writer lock held. Returns the group id (index + 1) or HV_EFULL. */
static int group_join(hv_bus *b, const char *name, size_t len, int policy)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_GROUPS; i++) {
        group *g = &b->groups[i];
        if (g->members == 0) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        if (strlen(g->name) == len && memcmp(g->name, name, len) == 0) {
            g->members++;
            return i + 1;
        }
    }
    if (free_slot < 0)
        return HV_EFULL;
    group *g = &b->groups[free_slot];
    memcpy(g->name, name, len);
    g->name[len] = '\0';
    g->members = 1;
    g->policy = policy;
    g->rr = 0;
    return free_slot + 1;
}

static int check_sub_opts(const hv_sub_opts *o)
{
    if (o->size != sizeof(*o))
        return HV_EINVAL;
    if (o->backpressure < HV_BP_DROP_OLDEST || o->backpressure > HV_BP_BLOCK)
        return HV_EINVAL;
    if (o->group_policy < HV_GROUP_ROUND_ROBIN || o->group_policy > HV_GROUP_LEAST_LOADED)
        return HV_EINVAL;
    if (o->type_lo > o->type_hi) /* includes lo set without hi: "any" would ignore it */
        return HV_EINVAL;
    /* A group hands each message to one member: a member's filter refusing it would lose it. */
    if (o->group != NULL && (o->type_hi != 0 || o->sender != 0 || o->filter != NULL))
        return HV_EINVAL;
    return 0;
}

/* Writer lock held. */
static int sub_insert(hv_bus *b, hv_agent *a, char *pat, size_t plen, const hv_sub_opts *o,
                      size_t glen, uint32_t *sub_id)
{
    if (b->sub_free == NIL && b->sub_unused == b->opts.max_subs)
        return HV_EFULL;
    int gid = 0;
    if (o->group != NULL) {
        gid = group_join(b, o->group, glen, o->group_policy);
        if (gid < 0)
            return gid;
    }
    uint32_t id = b->sub_free != NIL ? b->sub_free : b->sub_unused;
    int rc = hv__topics_add(b->topics, pat, plen, id);
    if (rc != 0) {
        group_leave(b, (uint32_t)gid);
        return rc;
    }
    sub *s = &b->subs[id];
    if (id == b->sub_free)
        b->sub_free = s->next_free;
    else
        b->sub_unused++;
    s->agent = a;
    s->pattern = pat;
    s->pattern_len = (uint32_t)plen;
    s->group = (uint32_t)gid;
    s->bp = o->backpressure;
    s->block_timeout_ns = o->block_timeout_ns;
    s->type_lo = o->type_lo;
    s->type_hi = o->type_hi;
    s->sender = o->sender;
    s->filter = o->filter;
    s->filter_ctx = o->filter_ctx;
    b->nsubs++;
    if (sub_id != NULL)
        *sub_id = id;
    return 0;
}

int hv_agent_subscribe(hv_agent *a, const char *pattern, const hv_sub_opts *opts, uint32_t *sub_id)
{
    if (a == NULL || pattern == NULL)
        return HV_EINVAL;
    hv_sub_opts o;
    if (opts == NULL)
        hv_sub_opts_default(&o);
    else
        o = *opts;
    int rc = check_sub_opts(&o);
    if (rc != 0)
        return rc;
    size_t plen = strnlen(pattern, HV_SUBJECT_MAX + 1), glen = 0;
    if (hv_subject_check(pattern, plen, 1, NULL) < 0)
        return HV_EBADSUBJECT;
    if (o.group != NULL && check_group_name(o.group, &glen) != 0)
        return HV_EBADSUBJECT;
    char *pat = malloc(plen + 1);
    if (pat == NULL)
        return HV_ENOMEM;
    memcpy(pat, pattern, plen);
    pat[plen] = '\0';
    hv_bus *b = a->bus;
    write_enter(b);
    rc = sub_insert(b, a, pat, plen, &o, glen, sub_id);
    write_exit(b);
    if (rc != 0)
        free(pat);
    return rc;
}

int hv_agent_unsubscribe(hv_agent *a, uint32_t sub_id)
{
    if (a == NULL)
        return HV_EINVAL;
    hv_bus *b = a->bus;
    int rc = HV_ENOTFOUND;
    write_enter(b);
    if (sub_id < b->opts.max_subs && b->subs[sub_id].agent == a) {
        sub_remove(b, sub_id);
        rc = 0;
    }
    write_exit(b);
    return rc;
}

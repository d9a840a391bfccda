/*
 * hivewire: lock-free bounded rings, the building blocks of the bus.
 *
 * hv_spsc  single producer / single consumer ring of fixed-size slots (values are copied in
 *          place). Cache-line-padded indices, each side keeps a cached copy of the other side's
 *          index so that it touches the shared line only when its cached view says the ring is
 *          full (producer) or empty (consumer). Batch reserve/commit and batch peek/release work
 *          on contiguous runs of slots, so a batch costs one release store.
 *
 * hv_mpmc  bounded multi-producer / multi-consumer queue of pointers (Dmitry Vyukov's array
 *          queue: one sequence number per cell). The bus uses it as an agent's inbox lane
 *          (many publishers, one consumer, plus publishers that evict the oldest entry under the
 *          drop-oldest policy) and as the free list of its pools.
 *
 * Capacity is fixed at creation and must be a power of two (2 .. 2^30). Nothing here allocates
 * after creation, blocks, or reads a clock. Full and empty are reported, never waited on: the
 * bus layers its wait strategies on top.
 *
 * The structs are visible so the hot functions can be inlined; their fields are private.
 */
#ifndef HIVEWIRE_RING_H
#define HIVEWIRE_RING_H

#include <string.h>

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Padding unit: two cache lines, so the adjacent-line prefetcher cannot pull the other side's
 * index into a false-sharing pair. */
#define HV_RING_ALIGN 128

/* The alignment of each side's fields, spelled for C11 and for C++ (which includes this header
 * too: the structs must have the same layout in both). */
#ifdef __cplusplus
#define HV_RING_ALIGNED alignas(HV_RING_ALIGN)
#else
#define HV_RING_ALIGNED _Alignas(HV_RING_ALIGN)
#endif

#define HV_RING_CAPACITY_MAX (1u << 30)

/* ---------------------------------------------------------------------------------------- */
/* SPSC ring                                                                                 */

typedef struct hv_spsc {
    /* producer's line: written only by the producer */
    HV_RING_ALIGNED uint64_t tail; /* next slot to fill (released by commit) */
    uint64_t head_cache;           /* producer's last view of head */
    uint8_t *p_slots;
    uint64_t p_mask;
    uint32_t p_slot_bytes;
    /* consumer's line: written only by the consumer */
    HV_RING_ALIGNED uint64_t head; /* next slot to read (released by release) */
    uint64_t tail_cache;           /* consumer's last view of tail */
    uint8_t *c_slots;
    uint64_t c_mask;
    uint32_t c_slot_bytes;
    /* cold */
    HV_RING_ALIGNED uint32_t capacity;
    uint32_t slot_bytes;
} hv_spsc;

/*
 * Creates a ring of `capacity` slots of `slot_bytes` bytes each (1 .. 65536). Slots are packed:
 * a slot is 8-byte aligned when slot_bytes is a multiple of 8.
 * Returns 0, HV_EINVAL (capacity not a power of two in 2 .. 2^30, bad slot_bytes or NULL out),
 * HV_ENOMEM. The caller owns *out and frees it with hv_spsc_free(). Any thread may create.
 */
HV_EXTERN int hv_spsc_new(size_t capacity, size_t slot_bytes, hv_spsc **out);

/* Frees the ring. No other thread may use it any more. NULL is a no-op. */
HV_EXTERN void hv_spsc_free(hv_spsc *r);

/* Number of committed, unreleased slots. Any thread; a snapshot that may be stale at once. */
HV_EXTERN size_t hv_spsc_size(const hv_spsc *r);

/*
 * Producer only. Reserves up to `want` free slots that are contiguous in memory and sets
 * *first to the first one (slot i is at (uint8_t *)*first + i * slot_bytes). Returns the
 * number reserved, 0 when the ring is full. A run never wraps, so it may be shorter than the
 * free space; call again after committing to get the rest. Reserving twice without a commit
 * returns the same slots.
 */
static inline size_t hv_spsc_reserve(hv_spsc *r, size_t want, void **first)
{
    uint64_t tail = r->tail;
    uint64_t cap = r->p_mask + 1;
    uint64_t free_n = cap - (tail - r->head_cache);
    if (free_n < want) {
        r->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        free_n = cap - (tail - r->head_cache);
    }
    uint64_t idx = tail & r->p_mask;
    uint64_t run = cap - idx;
    uint64_t n = want < free_n ? want : free_n;
    if (n > run)
        n = run;
    *first = r->p_slots + idx * r->p_slot_bytes;
    return (size_t)n;
}

/* Producer only. Publishes the first n reserved slots to the consumer (release store). */
static inline void hv_spsc_commit(hv_spsc *r, size_t n)
{
    __atomic_store_n(&r->tail, r->tail + n, __ATOMIC_RELEASE);
}

/*
 * Consumer only. Sets *first to the oldest committed slot and returns how many committed
 * slots follow it contiguously (at most max), 0 when empty. The slots stay valid until
 * hv_spsc_release().
 */
static inline size_t hv_spsc_peek(hv_spsc *r, size_t max, void **first)
{
    uint64_t head = r->head;
    uint64_t avail = r->tail_cache - head;
    if (avail < max) {
        r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
        avail = r->tail_cache - head;
    }
    uint64_t idx = head & r->c_mask;
    uint64_t run = r->c_mask + 1 - idx;
    uint64_t n = max < avail ? max : avail;
    if (n > run)
        n = run;
    *first = r->c_slots + idx * r->c_slot_bytes;
    return (size_t)n;
}

/* Consumer only. Gives the n oldest peeked slots back to the producer (release store). */
static inline void hv_spsc_release(hv_spsc *r, size_t n)
{
    __atomic_store_n(&r->head, r->head + n, __ATOMIC_RELEASE);
}

/* Producer only. Copies slot_bytes bytes from src into the ring. 0 or HV_EFULL. */
static inline int hv_spsc_try_push(hv_spsc *r, const void *src)
{
    void *slot;
    if (hv_spsc_reserve(r, 1, &slot) == 0)
        return HV_EFULL;
    memcpy(slot, src, r->p_slot_bytes);
    hv_spsc_commit(r, 1);
    return 0;
}

/* Consumer only. Copies the oldest slot into dst and frees it. 0 or HV_EAGAIN (empty). */
static inline int hv_spsc_try_pop(hv_spsc *r, void *dst)
{
    void *slot;
    if (hv_spsc_peek(r, 1, &slot) == 0)
        return HV_EAGAIN;
    memcpy(dst, slot, r->c_slot_bytes);
    hv_spsc_release(r, 1);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* MPMC pointer queue                                                                        */

typedef struct hv_mpmc_cell {
    uint64_t seq; /* pos: free for the producer of pos; pos + 1: holds the value of pos */
    void *value;
} hv_mpmc_cell;

typedef struct hv_mpmc {
    HV_RING_ALIGNED uint64_t enq; /* next position to claim for a push */
    hv_mpmc_cell *e_cells;
    uint64_t e_mask;
    HV_RING_ALIGNED uint64_t deq; /* next position to claim for a pop */
    hv_mpmc_cell *d_cells;
    uint64_t d_mask;
    HV_RING_ALIGNED hv_mpmc_cell *cells; /* owned */
} hv_mpmc;

/*
 * Initialises a caller-embedded queue (the struct must be HV_RING_ALIGN-aligned, e.g. inside
 * an object from aligned_alloc) holding up to `capacity` pointers.
 * Returns 0, HV_EINVAL (capacity not a power of two in 2 .. 2^30), HV_ENOMEM.
 */
HV_EXTERN int hv_mpmc_init(hv_mpmc *q, size_t capacity);

/* Frees the cells. No thread may use the queue any more. Values still queued are not touched. */
HV_EXTERN void hv_mpmc_fini(hv_mpmc *q);

/*
 * Any thread. Appends v (which may be any pointer, including NULL). Returns 0 or HV_EFULL.
 * Lock-free: a failed compare-and-swap means another producer made progress. Pushes by one
 * thread are popped in the order that thread made them.
 * The successful claim of a position (the compare-and-swap on the enqueue index) is
 * sequentially consistent, so it is a full barrier between everything before the push and
 * any sequentially consistent load after it: the bus's wake-up protocol pairs it with
 * hv_mpmc_claimed() instead of paying for a separate fence per message (docs/BUS.md, 7).
 */
static inline int hv_mpmc_push(hv_mpmc *q, void *v)
{
    uint64_t pos = __atomic_load_n(&q->enq, __ATOMIC_RELAXED);
    hv_mpmc_cell *c;
    for (;;) {
        c = &q->e_cells[pos & q->e_mask];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&q->enq, &pos, pos + 1, 1, __ATOMIC_SEQ_CST,
                                            __ATOMIC_RELAXED))
                break;
        } else if (dif < 0) {
            return HV_EFULL;
        } else {
            pos = __atomic_load_n(&q->enq, __ATOMIC_RELAXED);
        }
    }
    c->value = v;
    __atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
    return 0;
}

/*
 * Any thread. Appends up to n values of v[] in order with one compare-and-swap: the run of
 * free cells at the tail (at most n) is claimed together, then filled. Returns how many were
 * appended (0 when the queue is full). Equivalent to that many hv_mpmc_push() calls by this
 * thread (same order, same seq_cst claim), but one atomic operation for the run.
 */
static inline size_t hv_mpmc_push_n(hv_mpmc *q, void *const *v, size_t n)
{
    uint64_t pos = __atomic_load_n(&q->enq, __ATOMIC_RELAXED);
    for (;;) {
        size_t k = 0;
        while (k < n) {
            hv_mpmc_cell *c = &q->e_cells[(pos + k) & q->e_mask];
            if (__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) != pos + k)
                break;
            k++;
        }
        if (k == 0) {
            hv_mpmc_cell *c = &q->e_cells[pos & q->e_mask];
            int64_t dif = (int64_t)(__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) - pos);
            if (dif < 0)
                return 0;                                     /* full */
            pos = __atomic_load_n(&q->enq, __ATOMIC_RELAXED); /* another producer moved on */
            continue;
        }
        if (__atomic_compare_exchange_n(&q->enq, &pos, pos + k, 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED)) {
            for (size_t i = 0; i < k; i++) {
                hv_mpmc_cell *c = &q->e_cells[(pos + i) & q->e_mask];
                c->value = v[i];
                __atomic_store_n(&c->seq, pos + i + 1, __ATOMIC_RELEASE);
            }
            return k;
        }
    }
}

/*
 * Any thread. Removes the oldest value into *out. Returns 0 or HV_EAGAIN when the queue is
 * empty (or its oldest entry is claimed but not yet written by a producer that is mid-push:
 * that producer's own push completes it, see the bus wake-up protocol).
 */
static inline int hv_mpmc_pop(hv_mpmc *q, void **out)
{
    uint64_t pos = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
    hv_mpmc_cell *c;
    for (;;) {
        c = &q->d_cells[pos & q->d_mask];
        uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (__atomic_compare_exchange_n(&q->deq, &pos, pos + 1, 1, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
        } else if (dif < 0) {
            return HV_EAGAIN;
        } else {
            pos = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
        }
    }
    *out = c->value;
    __atomic_store_n(&c->seq, pos + q->d_mask + 1, __ATOMIC_RELEASE);
    return 0;
}

/*
 * Any thread. Pops up to max of the oldest entries into out[] with one compare-and-swap: the
 * entries that are ready at the head are claimed together. Returns how many (0 when empty).
 * Safe against other consumers: the claim succeeds only if no one moved the head meanwhile,
 * and the head position is a 64-bit counter that never repeats. The successful claim is
 * sequentially consistent (a full barrier, paired with hv_mpmc_full_sc() by the bus's
 * blocked publishers).
 */
static inline size_t hv_mpmc_pop_n(hv_mpmc *q, void **out, size_t max)
{
    uint64_t pos = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
    for (;;) {
        size_t n = 0;
        while (n < max) {
            hv_mpmc_cell *c = &q->d_cells[(pos + n) & q->d_mask];
            uint64_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
            if (seq != pos + n + 1) {
                if (n == 0 && (int64_t)(seq - (pos + 1)) > 0) {
                    /* our head is stale: another consumer took it */
                    pos = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
                    continue;
                }
                break;
            }
            n++;
        }
        if (n == 0)
            return 0;
        if (__atomic_compare_exchange_n(&q->deq, &pos, pos + n, 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED)) {
            for (size_t i = 0; i < n; i++) {
                hv_mpmc_cell *c = &q->d_cells[(pos + i) & q->d_mask];
                out[i] = c->value;
                __atomic_store_n(&c->seq, pos + i + q->d_mask + 1, __ATOMIC_RELEASE);
            }
            return n;
        }
    }
}

/* Any thread. True if the oldest entry is ready to pop (acquire load of its sequence). */
static inline int hv_mpmc_ready(hv_mpmc *q)
{
    uint64_t pos = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
    hv_mpmc_cell *c = &q->d_cells[pos & q->d_mask];
    return __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE) == pos + 1;
}

/*
 * Any thread. True if some push has claimed a position that no pop has claimed yet: the entry
 * may still be being written (hv_mpmc_ready() is then false). The load of the enqueue index
 * is sequentially consistent: a thread that stores a flag (seq_cst) and then calls this either
 * sees a concurrent push's claim, or that push's next seq_cst load sees its flag.
 */
static inline int hv_mpmc_claimed(hv_mpmc *q)
{
    uint64_t e = __atomic_load_n(&q->enq, __ATOMIC_SEQ_CST);
    uint64_t d = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
    return (int64_t)(e - d) > 0;
}

/*
 * Any thread. True if every position is claimed by a push and not yet claimed by a pop. The
 * load of the dequeue index is sequentially consistent (the mirror image of
 * hv_mpmc_claimed(), for producers that wait for space). A stale view errs towards "not full".
 */
static inline int hv_mpmc_full_sc(hv_mpmc *q)
{
    uint64_t d = __atomic_load_n(&q->deq, __ATOMIC_SEQ_CST);
    uint64_t e = __atomic_load_n(&q->enq, __ATOMIC_RELAXED);
    return (int64_t)(e - d) > (int64_t)q->e_mask;
}

/* Any thread. Approximate number of queued entries (claimed pushes minus claimed pops). */
static inline size_t hv_mpmc_size(hv_mpmc *q)
{
    uint64_t e = __atomic_load_n(&q->enq, __ATOMIC_RELAXED);
    uint64_t d = __atomic_load_n(&q->deq, __ATOMIC_RELAXED);
    return e > d ? (size_t)(e - d) : 0;
}

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_RING_H */

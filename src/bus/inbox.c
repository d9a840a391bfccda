/* Inboxes: lanes, coalescing, enqueue under the backpressure policies, and the wake-ups of
 * sleeping owners (eventfd) and blocked publishers (futex). docs/BUS.md sections 5 to 7. */
#include <limits.h>
#include <string.h>

#include "bus_int.h"
#include "platform/platform.h"

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
        if (a->marks[c - a->cells].markers == 0 && free_cell == NULL)
            free_cell = c;
    }
    return free_cell;
}

/* ENQ_PROMOTED: coalesced, and queued anew in a more urgent lane (owes a wake-up check). */
enum { ENQ_OK, ENQ_COALESCED, ENQ_PROMOTED, ENQ_FULL };

/* Queues m as the live marker of cell c in lane l (c has no message pending; lock held). When
 * a stale marker of c still sits in lane l, m is queued as a plain entry instead: one marker
 * per lane and cell keeps the live one unambiguous. */
static int arm_cell(hv_agent *a, coalesce_cell *c, hv_bus_msg *m, unsigned l)
{
    cell_marks *k = &a->marks[c - a->cells];
    if (k->markers & (1u << l))
        return hv_mpmc_push(&a->lanes[l], m) == 0 ? ENQ_OK : ENQ_FULL;
    if (hv_mpmc_push(&a->lanes[l], marker_of(c, l)) != 0)
        return ENQ_FULL;
    c->key = m->coalesce_key;
    c->msg = m;
    k->lane = (uint8_t)l;
    k->markers = (uint8_t)(k->markers | 1u << l);
    return ENQ_OK;
}

/*
 * m replaces the message pending in c (lock held). It is served at the more urgent of the two
 * priorities: at the pending message's place when that one is at least as urgent, else from
 * the tail of m's own lane (the old marker goes stale). *replaced gets the pending message.
 */
static int coalesce(hv_agent *a, coalesce_cell *c, hv_bus_msg *m, unsigned l, hv_bus_msg **replaced)
{
    if (l >= a->marks[c - a->cells].lane) {
        *replaced = c->msg;
        c->msg = m;
        return ENQ_COALESCED;
    }
    hv_bus_msg *old = c->msg;
    c->msg = NULL; /* the old marker now resolves to nothing */
    if (arm_cell(a, c, m, l) == ENQ_FULL) {
        c->msg = old; /* refused: the pending message stays where it was */
        return ENQ_FULL;
    }
    *replaced = old;
    return ENQ_PROMOTED;
}

static int try_enqueue(hv_agent *a, hv_bus_msg *m, hv_bus_msg **replaced)
{
    unsigned l = (unsigned)m->prio - 1;
    if (m->coalesce_key == 0)
        return hv_mpmc_push(&a->lanes[l], m) == 0 ? ENQ_OK : ENQ_FULL;
    spin_lock(&a->clock_);
    coalesce_cell *c = find_cell(a, m->coalesce_key);
    int rc;
    if (c == NULL)
        rc = hv_mpmc_push(&a->lanes[l], m) == 0 ? ENQ_OK : ENQ_FULL;
    else if (c->msg != NULL)
        rc = coalesce(a, c, m, l, replaced);
    else
        rc = arm_cell(a, c, m, l);
    HV_DEBUG_ASSERT(c == NULL || c->msg == NULL ||
                    (a->marks[c - a->cells].markers & (1u << a->marks[c - a->cells].lane)));
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
        hv__efd_signal(a->efd);
}

static inline void wake(hv_agent *a)
{
    if (a->wait != HV_WAIT_BLOCK)
        return;
    wake_check(a);
}
void hv__wake_flush(wake_list *w)
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
    hv__dead_letter(a->bus, m, a->id, HV_DEAD_DROPPED, now_ns);
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
        (void)hv__futex_wait(&a->space_seq, seq, *deadline - now);
    else
        hv__cpu_relax(); /* a slot is claimed by the owner and about to be freed */
    __atomic_fetch_sub(&a->space_waiters, 1, __ATOMIC_RELEASE);
    return 0;
}

/* Owner, after popping (the pops' seq_cst claims come before this seq_cst load). */
void hv__notify_space(hv_agent *a)
{
    if (__atomic_load_n(&a->space_waiters, __ATOMIC_SEQ_CST) == 0)
        return;
    __atomic_fetch_add(&a->space_seq, 1, __ATOMIC_RELEASE);
    hv__futex_wake(&a->space_seq, INT_MAX);
}

/*
 * Puts m (one reference owned by the caller, passed on success) into a's inbox under policy bp.
 * Returns 0, HV_EREJECTED or HV_ETIMEDOUT (the caller keeps its reference).
 */
int hv__deliver(hv_agent *a, hv_bus_msg *m, int bp, uint64_t block_ns, uint64_t now_ns,
                hv_send_result *res, wake_list *w)
{
    HV_ASSERT(m->prio >= HV_PRIO_CRITICAL && m->prio <= LANES); /* checked by make_msg */
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
        if (rc == ENQ_COALESCED || rc == ENQ_PROMOTED) {
            res->delivered++;
            res->coalesced++;
            shared_add(&a->c_coalesced, 1);
            hv_bus_msg_release(old);
            if (rc == ENQ_PROMOTED)
                wake_later(w, a);
            return 0;
        }
        if (bp == HV_BP_DROP_OLDEST && tries < EVICT_TRIES) {
            res->dropped_oldest += (uint32_t)evict_oldest(a, lane, now_ns);
            continue;
        }
        if (bp == HV_BP_BLOCK) {
            hv__wake_flush(w); /* never sleep on wake-ups we still owe */
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

/*
 * Delivers a run made by make_run(): plain messages go into the lane with one claim for as many
 * as fit (hv_mpmc_push_n); the rest (lane full, or a keyed message) one by one under the
 * receiver's policy. Returns how many were accepted; on a refusal *rc gets its error and the
 * refused and later messages are released.
 */
uint32_t hv__deliver_run(hv_agent *dst, hv_bus_msg **run, uint32_t k, uint64_t now_ns,
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
        *rc = hv__deliver(dst, run[done], dst->bp, dst->block_timeout_ns, now_ns, res, w);
        if (*rc != 0)
            break;
    }
    for (uint32_t i = done; i < k; i++)
        hv_bus_msg_release(run[i]);
    return done;
}

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
        if (now < deadline)
            (void)hv__efd_wait(a->efd, deadline - now);
    }
    __atomic_store_n(&a->waiting, 0, __ATOMIC_RELAXED);
    hv__efd_drain(a->efd);
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
    hv__efd_drain(a->efd);
}

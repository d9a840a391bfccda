/*
 * Multi-threaded batch search. The calling thread and the worker threads claim ranges of
 * contiguous pattern indices from a shared counter (guided self-scheduling: each claim takes
 * 1/threads of what is left, see claim_size()), and each participant runs the cascade over its
 * ranges with its own workspace, keeping one top-k list across them. The caller merges the
 * lists by (distance, index). Each list is the exact top-k of the ranges its owner searched,
 * and the global top-k is contained in their union, so the merge equals the single-threaded
 * answer.
 *
 * Participants share their pruning threshold (hv__dtw_query.shared_thr): each prunes against
 * the smallest k-th best anyone has found, which is still an upper bound of the global k-th
 * best, so the merge stays exact.
 *
 * Claiming: the caller fills in the job, then publishes a new generation with position 0 in
 * `next` (release); a claim is a CAS of `next` to the end of the claimed range, so it succeeds
 * only for the current job and only while patterns remain, and after it the job's fields are
 * safe to read (the caller does not start another job before every claimed range has been
 * searched). Whoever finishes a range adds its size to `finished`; the caller, once nothing
 * is left to claim, waits until `finished` equals the count. A worker that wakes late finds
 * nothing left and goes back to sleep, so the search is never much slower than one thread; a
 * worker that wakes early shares the work.
 *
 * Workers are created once and sleep on a condition variable until the generation moves.
 * (Spinning workers were tried and lost on the shared, loaded 2-core test machine.) The
 * caller, once nothing is left to claim, spins a bounded time for the last ranges before it
 * sleeps. A search allocates nothing.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/spin.h"
#include "dtw/dtw_int.h"
#include "platform/platform.h"

#define CHUNK_MIN 32u /* patterns per claim, at least (unless fewer are left) */
#define MEMO_CAP                                                               \
    4096u /* a workspace remembers the seeding-pass bounds of a claim this big \
           * (64 KiB) so the cascade does not recompute them */
/* How long the caller spins for claims still being searched before it sleeps: about what
 * waking a sleeping thread costs (30 us on the 2-core VM this was measured on), and short, so
 * a spinning caller does not long keep a loaded machine's core from the worker it waits for. */
#define FINISH_SPIN_NS 50000u

typedef struct worker {
    struct hv_dtw_pool *pool;
    hv_dtw_ws *ws;
    pthread_t thread;
    size_t held;        /* matches in ws->top for job `job` */
    uint64_t job;       /* generation of the ranges `held` describes (written by the owner) */
    hv_dtw_stats stats; /* for job `job` */
    int started;
} worker;

struct hv_dtw_pool {
    hv_dtw_opts params;
    size_t threads, k_max;
    pthread_mutex_t mu;
    pthread_cond_t job_cv;  /* workers wait here for a new generation */
    pthread_cond_t done_cv; /* the caller waits here for the last range */
    uint64_t generation;    /* atomic; written by the caller under mu */
    char pad0[64];          /* claim traffic apart from the read-mostly job below */
    uint64_t next;          /* atomic: see NEXT_GEN() below */
    size_t finished;        /* atomic: patterns of the current job searched */
    char pad1[64];
    int stop;
    /* The current job: written before its generation is published, then read-only. */
    const hv_dtw_set *set;
    size_t count; /* written with generation, under mu; workers copy both together */
    hv__dtw_query qc;
    uint64_t shared_thr;
    size_t k;
    worker *w; /* threads entries; w[0] is the calling thread */
};

/* `next` packs (low 39 bits of the generation) << 25 | the first unclaimed pattern (at most
 * HV_DTW_SET_MAX = 2^24, so it never carries into the generation). Once a job's patterns are
 * all claimed, `next` stays at (its generation, its count) until the caller publishes the next
 * job, so a claim for a finished job always fails; a worker uses the count it copied together
 * with the generation, never a newer one. Only a worker stalled across exactly 2^39 searches
 * between reading the generation and its CAS could claim a wrong range. */
#define POS_BITS    25
#define NEXT_GEN(x) ((x) >> POS_BITS)
#define NEXT_POS(x) ((x) & ((UINT64_C(1) << POS_BITS) - 1))
#define GEN_BITS(g) ((g) & ((UINT64_C(1) << (64 - POS_BITS)) - 1))
_Static_assert(HV_DTW_SET_MAX < (UINT64_C(1) << POS_BITS), "positions fit below the generation");

/* Guided self-scheduling: a claim takes 1/threads of what is left (at least CHUNK_MIN), so a
 * one-thread pool takes everything at once (and searches exactly as hv_dtw_search() does),
 * the first claims are large (good seeding, good pruning) and the last ones small
 * (balance). */
static size_t claim_size(size_t left, size_t threads)
{
    size_t n = (left + threads - 1) / threads;
    if (n < CHUNK_MIN)
        n = CHUNK_MIN;
    return n < left ? n : left;
}

/* Claims the next range [*begin, *end) of job gen, whose pattern count is count; returns 0,
 * or -1 when nothing is left (or the job is over). */
static int claim(hv_dtw_pool *p, uint64_t gen, size_t count, size_t *begin, size_t *end)
{
    uint64_t cur = __atomic_load_n(&p->next, __ATOMIC_ACQUIRE);
    for (;;) {
        size_t pos = NEXT_POS(cur);
        if (NEXT_GEN(cur) != GEN_BITS(gen) || pos >= count)
            return -1;
        size_t n = claim_size(count - pos, p->threads);
        if (__atomic_compare_exchange_n(&p->next, &cur, cur + n, 1, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            *begin = pos;
            *end = pos + n;
            return 0;
        }
    }
}

/* Searches [begin, end) of job gen into w's list; returns 1 if that finished the job. */
static int run_range(hv_dtw_pool *p, worker *w, uint64_t gen, size_t count, size_t begin,
                     size_t end)
{
    if (w->job != gen) {
        w->job = gen;
        w->held = 0;
        hv_dtw_stats_reset(&w->stats);
    }
    w->held = hv__dtw_search_range(w->ws, &p->qc, p->set, begin, end, p->k, w->held, &w->stats);
    size_t total = __atomic_add_fetch(&p->finished, end - begin, __ATOMIC_ACQ_REL);
    return total == count;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    hv_dtw_pool *p = w->pool;
    uint64_t seen = 0;
    size_t count = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == seen)
            pthread_cond_wait(&p->job_cv, &p->mu);
        int stop = __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
        seen = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
        count = p->count; /* the same job's, both written under mu */
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        size_t b, e;
        while (claim(p, seen, count, &b, &e) == 0) {
            if (run_range(p, w, seen, count, b, e)) {
                pthread_mutex_lock(&p->mu);
                pthread_cond_signal(&p->done_cv);
                pthread_mutex_unlock(&p->mu);
            }
        }
    }
    return NULL;
}

void hv_dtw_pool_free(hv_dtw_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->job_cv);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 1; i < p->threads; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].thread, NULL);
    for (size_t i = 0; i < p->threads; i++)
        hv_dtw_ws_free(p->w[i].ws);
    pthread_cond_destroy(&p->job_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}

int hv_dtw_pool_new(const hv_dtw_opts *opts, size_t threads, size_t k_max, hv_dtw_pool **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_dtw_opts dflt;
    const hv_dtw_opts *params = hv__dtw_opts_or_default(opts, &dflt);
    if (hv_dtw_opts_check(params, NULL) != 0 || threads == 0 || threads > HV_DTW_THREADS_MAX ||
        k_max == 0 || k_max > HV_DTW_K_MAX)
        return HV_EINVAL;
    hv_dtw_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return HV_ENOMEM;
    p->w = calloc(threads, sizeof(worker));
    if (p->w == NULL) {
        free(p);
        return HV_ENOMEM;
    }
    p->params = *params;
    p->threads = threads;
    p->k_max = k_max;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->job_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    int rv = 0;
    for (size_t i = 0; i < threads && rv == 0; i++) {
        p->w[i].pool = p;
        rv = hv_dtw_ws_new(params, k_max, &p->w[i].ws);
        if (rv == 0)
            rv = hv__dtw_ws_memo(p->w[i].ws, MEMO_CAP);
    }
    for (size_t i = 1; i < threads && rv == 0; i++) {
        int e = pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]);
        if (e != 0)
            rv = hv_err_from_errno(e);
        else
            p->w[i].started = 1;
    }
    if (rv != 0) {
        hv_dtw_pool_free(p);
        return rv;
    }
    *out = p;
    return 0;
}

/* k-way merge of the lists of job gen's participants (each sorted) into out; returns the count
 * written. A participant that searched no range of the job holds nothing for it. */
static size_t merge_lists(hv_dtw_pool *p, uint64_t gen, size_t k, hv_dtw_match *out)
{
    size_t pos[HV_DTW_THREADS_MAX] = { 0 }, held[HV_DTW_THREADS_MAX], m = 0;
    for (size_t i = 0; i < p->threads; i++)
        held[i] = p->w[i].job == gen ? p->w[i].held : 0;
    while (m < k) {
        int best = -1;
        for (size_t i = 0; i < p->threads; i++) {
            if (pos[i] == held[i])
                continue;
            const hv_dtw_match *c = &p->w[i].ws->top[pos[i]];
            if (best < 0 ||
                hv__dtw_match_less(c->distance, c->index, p->w[best].ws->top[pos[best]].distance,
                                   p->w[best].ws->top[pos[best]].index))
                best = (int)i;
        }
        if (best < 0)
            break;
        out[m++] = p->w[best].ws->top[pos[best]++];
    }
    return m;
}

int hv_dtw_pool_search(hv_dtw_pool *p, const hv_dtw_set *set, size_t count, const double *query,
                       size_t k, hv_dtw_match *out, hv_dtw_stats *stats)
{
    hv_dtw_ws *ws0 = p->w[0].ws;
    if (k == 0 || k > p->k_max || count > set->count || ws0->params.len != set->params.len ||
        ws0->r != set->r || (ws0->params.znorm != 0) != (set->params.znorm != 0))
        return HV_EINVAL;
    int rv = hv__dtw_ws_prepare(ws0, query);
    if (rv != 0)
        return rv;
    p->set = set;
    double inf = INFINITY;
    memcpy(&p->shared_thr, &inf, sizeof(inf));
    p->qc = (hv__dtw_query){ ws0->q, ws0->qu, ws0->ql, &p->shared_thr };
    p->k = k;
    uint64_t gen = __atomic_load_n(&p->generation, __ATOMIC_RELAXED) + 1; /* caller writes it */
    __atomic_store_n(&p->finished, 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&p->mu);
    p->count = count;
    __atomic_store_n(&p->next, GEN_BITS(gen) << POS_BITS, __ATOMIC_RELEASE);
    __atomic_store_n(&p->generation, gen, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->job_cv);
    pthread_mutex_unlock(&p->mu);

    size_t b, e;
    while (claim(p, gen, count, &b, &e) == 0)
        run_range(p, &p->w[0], gen, count, b, e);
    uint64_t t0 = hv__mono_ns();
    while (__atomic_load_n(&p->finished, __ATOMIC_ACQUIRE) != count &&
           hv__mono_ns() - t0 < FINISH_SPIN_NS)
        hv__cpu_relax();
    if (__atomic_load_n(&p->finished, __ATOMIC_ACQUIRE) != count) {
        pthread_mutex_lock(&p->mu);
        while (__atomic_load_n(&p->finished, __ATOMIC_ACQUIRE) != count)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }

    size_t m = merge_lists(p, gen, k, out);
    if (stats != NULL) {
        stats->queries++;
        for (size_t i = 0; i < p->threads; i++)
            if (p->w[i].job == gen)
                hv_dtw_stats_add(stats, &p->w[i].stats);
    }
    return (int)m;
}

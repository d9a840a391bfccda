/*
 * Multi-threaded batch search: the patterns are split into contiguous shards, one per thread;
 * each thread runs the cascade on its shard with its own workspace and keeps its own top-k;
 * the caller merges the shard lists by (distance, index). Every shard's list is exact, and the
 * global top-k is contained in their union, so the merge equals the single-threaded answer.
 *
 * Shards share their pruning threshold (hv__dtw_query.shared_thr): each prunes against the
 * smallest k-th best any shard has found, which is still an upper bound of the global k-th
 * best, so the merge stays exact.
 *
 * Workers are created once and sleep on a condition variable until the job generation number
 * moves; the caller sleeps on another until every shard is done. (Spinning instead was tried
 * and lost on the shared, loaded 2-core test machine.) A search allocates nothing.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dtw/dtw_int.h"

typedef struct worker {
    struct hv_dtw_pool *pool;
    hv_dtw_ws *ws;
    pthread_t thread;
    size_t begin, end, held; /* this job's shard and result count */
    hv_dtw_stats stats;
    int started;
} worker;

struct hv_dtw_pool {
    hv_dtw_params params;
    unsigned threads, k_max;
    pthread_mutex_t mu;
    pthread_cond_t job_cv;  /* workers wait here for a new generation */
    pthread_cond_t done_cv; /* the caller waits here for pending == 0 */
    uint64_t generation;
    unsigned pending;
    int stop;
    /* The current job, read-only for workers while pending > 0. */
    const hv_dtw_set *set;
    hv__dtw_query qc;
    uint64_t shared_thr;
    unsigned k;
    worker *w; /* threads entries; w[0] is the calling thread */
};

static void run_shard(hv_dtw_pool *p, worker *w)
{
    hv_dtw_stats_reset(&w->stats);
    w->held = hv__dtw_search_range(w->ws, &p->qc, p->set, w->begin, w->end, p->k, &w->stats);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    hv_dtw_pool *p = w->pool;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == seen)
            pthread_cond_wait(&p->job_cv, &p->mu);
        int stop = __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
        seen = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        run_shard(p, w);
        pthread_mutex_lock(&p->mu);
        if (__atomic_sub_fetch(&p->pending, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
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
    for (unsigned i = 1; i < p->threads; i++)
        if (p->w[i].started)
            pthread_join(p->w[i].thread, NULL);
    for (unsigned i = 0; i < p->threads; i++)
        hv_dtw_ws_free(p->w[i].ws);
    pthread_cond_destroy(&p->job_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->w);
    free(p);
}

int hv_dtw_pool_new(const hv_dtw_params *params, unsigned threads, unsigned k_max,
                    hv_dtw_pool **out)
{
    *out = NULL;
    if (hv__dtw_params_check(params) != 0 || threads == 0 || threads > HV_DTW_THREADS_MAX ||
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
    for (unsigned i = 0; i < threads && rv == 0; i++) {
        p->w[i].pool = p;
        rv = hv_dtw_ws_new(params, k_max, &p->w[i].ws);
    }
    for (unsigned i = 1; i < threads && rv == 0; i++) {
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

/* k-way merge of the shard lists (each sorted) into out; returns the count written. */
static size_t merge_shards(hv_dtw_pool *p, unsigned k, hv_dtw_match *out)
{
    size_t pos[HV_DTW_THREADS_MAX] = { 0 }, m = 0;
    while (m < k) {
        int best = -1;
        for (unsigned i = 0; i < p->threads; i++) {
            worker *w = &p->w[i];
            if (pos[i] == w->held)
                continue;
            const hv_dtw_match *c = &w->ws->top[pos[i]];
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

long hv_dtw_pool_search(hv_dtw_pool *p, const hv_dtw_set *set, size_t count, const double *query,
                        unsigned k, hv_dtw_match *out, hv_dtw_stats *stats)
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
    for (unsigned i = 0; i < p->threads; i++) {
        p->w[i].begin = count * i / p->threads;
        p->w[i].end = count * (i + 1) / p->threads;
    }
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->pending, p->threads - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&p->generation, p->generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->job_cv);
    pthread_mutex_unlock(&p->mu);

    run_shard(p, &p->w[0]);

    pthread_mutex_lock(&p->mu);
    while (__atomic_load_n(&p->pending, __ATOMIC_ACQUIRE) > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);

    size_t m = merge_shards(p, k, out);
    if (stats != NULL) {
        stats->queries++;
        for (unsigned i = 0; i < p->threads; i++)
            hv_dtw_stats_add(stats, &p->w[i].stats);
    }
    return (long)m;
}

/*
 * Pattern sets, workspaces and the UCR cascade search.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/field.h"
#include "dtw/dtw_int.h"

void hv_dtw_opts_default(hv_dtw_opts *p)
{
    memset(p, 0, sizeof(*p));
    p->size = sizeof(*p);
    p->len = 64;
    p->band = 0.1;
    p->znorm = 1;
    p->simd = HV_DTW_SIMD_AUTO;
}

void hv_dtw_stats_reset(hv_dtw_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void hv_dtw_stats_add(hv_dtw_stats *dst, const hv_dtw_stats *src)
{
    dst->queries += src->queries;
    dst->candidates += src->candidates;
    dst->pruned_kim += src->pruned_kim;
    dst->pruned_keogh_eq += src->pruned_keogh_eq;
    dst->pruned_keogh_ec += src->pruned_keogh_ec;
    dst->abandoned_dtw += src->abandoned_dtw;
    dst->full_dtw += src->full_dtw;
}

int hv_dtw_opts_check(const hv_dtw_opts *p, hv_field_error *err)
{
    if (p == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (p->size != sizeof(hv_dtw_opts))
        return hv__field_fail(err, "size", "must be sizeof(hv_dtw_opts)");
    if (p->len == 0 || p->len > HV_DTW_LEN_MAX)
        return hv__field_fail(err, "len", "must be in [1, 65536]");
    if (!(p->band >= 0 && p->band <= 1))
        return hv__field_fail(err, "band", "must be a number in [0, 1]");
    if (p->simd != HV_DTW_SIMD_AUTO && p->simd != HV_DTW_SIMD_SCALAR)
        return hv__field_fail(err, "simd", "must be an enum hv_dtw_simd value");
    return 0;
}

const hv_dtw_opts *hv__dtw_opts_or_default(const hv_dtw_opts *opts, hv_dtw_opts *dflt)
{
    if (opts != NULL)
        return opts;
    hv_dtw_opts_default(dflt);
    return dflt;
}

/* --- Sets ---------------------------------------------------------------------------------- */

int hv_dtw_set_new(const hv_dtw_opts *opts, size_t capacity, hv_dtw_set **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_dtw_opts dflt;
    const hv_dtw_opts *params = hv__dtw_opts_or_default(opts, &dflt);
    if (hv_dtw_opts_check(params, NULL) != 0 || capacity == 0 || capacity > HV_DTW_SET_MAX)
        return HV_EINVAL;
    hv_dtw_set *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->params = *params;
    s->params.size = sizeof(s->params);
    s->r = hv_dtw_window(params->len, params->band);
    s->capacity = capacity;
    size_t cells = capacity * params->len;
    s->data = malloc(cells * sizeof(double));
    s->upper = malloc(cells * sizeof(double));
    s->lower = malloc(cells * sizeof(double));
    s->scratch = malloc(2 * params->len * sizeof(size_t));
    if (s->data == NULL || s->upper == NULL || s->lower == NULL || s->scratch == NULL) {
        hv_dtw_set_free(s);
        return HV_ENOMEM;
    }
    *out = s;
    return 0;
}

void hv_dtw_set_free(hv_dtw_set *s)
{
    if (s == NULL)
        return;
    free(s->data);
    free(s->upper);
    free(s->lower);
    free(s->scratch);
    free(s);
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

int hv_dtw_set_add(hv_dtw_set *s, const double *x)
{
    size_t n = s->params.len;
    if (s->count == s->capacity) {
        s->rejected++;
        return HV_EFULL;
    }
    if (!all_finite(x, n))
        return HV_EINVAL;
    double *dst = s->data + s->count * n;
    if (s->params.znorm) {
        int rv = hv__dtw_znorm(x, n, dst, hv__dtw_use_avx2(s->params.simd));
        if (rv != 0)
            return rv;
    } else {
        memcpy(dst, x, n * sizeof(double));
    }
    hv_dtw_envelope(dst, n, s->r, s->upper + s->count * n, s->lower + s->count * n, s->scratch);
    return (int)s->count++;
}

size_t hv_dtw_set_count(const hv_dtw_set *s)
{
    return s->count;
}

size_t hv_dtw_set_capacity(const hv_dtw_set *s)
{
    return s->capacity;
}

uint64_t hv_dtw_set_rejected(const hv_dtw_set *s)
{
    return s->rejected;
}

const hv_dtw_opts *hv_dtw_set_opts(const hv_dtw_set *s)
{
    return &s->params;
}

const double *hv_dtw_set_pattern(const hv_dtw_set *s, size_t i)
{
    return i < s->count ? s->data + i * s->params.len : NULL;
}

/* --- Workspaces ---------------------------------------------------------------------------- */

int hv_dtw_ws_new(const hv_dtw_opts *opts, size_t k_max, hv_dtw_ws **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_dtw_opts dflt;
    const hv_dtw_opts *params = hv__dtw_opts_or_default(opts, &dflt);
    if (hv_dtw_opts_check(params, NULL) != 0 || k_max == 0 || k_max > HV_DTW_K_MAX)
        return HV_EINVAL;
    size_t n = params->len;
    /* One block: 8 arrays of about n doubles, the 4-lane DTW buffers, the deque and the
     * top-k and seed lists. */
    size_t doubles = 7 * n + 1 + 2 * (n + 2) + HV__DTW_LANES * (2 * n + 1 + 2 * (n + 2));
    size_t bytes = sizeof(hv_dtw_ws) + doubles * sizeof(double) + 2 * n * sizeof(size_t) +
                   (2 * (size_t)k_max + HV__DTW_SEED_EXTRA) * sizeof(hv_dtw_match);
    hv_dtw_ws *ws = calloc(1, bytes);
    if (ws == NULL)
        return HV_ENOMEM;
    ws->params = *params;
    ws->params.size = sizeof(ws->params);
    ws->r = hv_dtw_window(n, params->band);
    ws->k_max = k_max;
    ws->avx2 = hv__dtw_use_avx2(params->simd);
    double *d = (double *)(ws + 1);
    ws->q = d;
    ws->qu = d + n;
    ws->ql = d + 2 * n;
    ws->cb1 = d + 3 * n;
    ws->cb2 = d + 4 * n;
    ws->tmp = d + 5 * n;
    ws->cb = d + 6 * n;                                 /* n + 1 */
    ws->rows = d + 7 * n + 1;                           /* 2 * (n + 2) */
    ws->lane_cb = ws->rows + 2 * (n + 2);               /* LANES * (n + 1) */
    ws->lane_b = ws->lane_cb + HV__DTW_LANES * (n + 1); /* LANES * n */
    ws->lane_rows = ws->lane_b + HV__DTW_LANES * n;     /* LANES * 2 * (n + 2) */
    ws->deque = (size_t *)(d + doubles);
    ws->top = (hv_dtw_match *)(ws->deque + 2 * n);
    ws->seed = ws->top + k_max;
    ws->seeding = 1;
    *out = ws;
    return 0;
}

void hv_dtw_ws_free(hv_dtw_ws *ws)
{
    if (ws != NULL)
        free(ws->mem);
    free(ws);
}

int hv__dtw_ws_prepare(hv_dtw_ws *ws, const double *query)
{
    size_t n = ws->params.len;
    if (!all_finite(query, n))
        return HV_EINVAL;
    if (ws->params.znorm) {
        int rv = hv__dtw_znorm(query, n, ws->q, ws->avx2);
        if (rv != 0)
            return rv;
    } else {
        memcpy(ws->q, query, n * sizeof(double));
    }
    hv_dtw_envelope(ws->q, n, ws->r, ws->qu, ws->ql, ws->deque);
    return 0;
}

/* --- The cascade --------------------------------------------------------------------------- */

/* Inserts (d, idx) into the sorted top list of size *held (capacity k) if it belongs there. */
static void top_insert(hv_dtw_match *top, size_t *held, size_t k, double d, size_t idx)
{
    size_t m = *held;
    if (m == k) {
        if (!hv__dtw_match_less(d, idx, top[m - 1].distance, top[m - 1].index))
            return;
        m--;
    } else {
        (*held)++;
    }
    while (m > 0 && hv__dtw_match_less(d, idx, top[m - 1].distance, top[m - 1].index)) {
        top[m] = top[m - 1];
        m--;
    }
    top[m].distance = d;
    top[m].index = idx;
}

/* Suffix sums of the chosen LB_Keogh terms: cb[i] = terms[i] + ... + terms[n-1], cb[n] = 0. */
static void suffix_sums(const double *terms, size_t n, double *cb)
{
    cb[n] = 0;
    for (size_t i = n; i-- > 0;)
        cb[i] = cb[i + 1] + terms[i];
}

/* Runs the cascade on one candidate against the current threshold; inserts it if it
 * survives. Returns the new threshold. */
/* Books one finished DTW: counts it, inserts it, returns the new threshold. */
static double settle(hv_dtw_ws *ws, size_t k, size_t *held, double thr, hv_dtw_stats *st,
                     size_t idx, double d, int abandoned)
{
    if (abandoned) {
        st->abandoned_dtw++;
        return thr;
    }
    st->full_dtw++;
    top_insert(ws->top, held, k, d, idx);
    if (*held == k)
        thr = ws->top[k - 1].distance * (1.0 + HV__DTW_PRUNE_SLACK);
    return thr;
}

/*
 * Runs the queued DTWs (all against the same threshold), in queue order. With AVX2 the lanes
 * run side by side in one vector (hv__dtw_core4); without, one by one through hv__dtw_core.
 * Each lane performs the same operations in both, so distances and abandon decisions match.
 */
static double flush(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set, size_t k,
                    size_t *held, double thr, hv_dtw_stats *st)
{
    size_t n = set->params.len, r = set->r;
    unsigned m = ws->npend;
    double d[HV__DTW_LANES];
    int ab[HV__DTW_LANES];
    ws->npend = 0;
    if (ws->avx2) {
        const double *c[HV__DTW_LANES];
        for (unsigned l = 0; l < HV__DTW_LANES; l++)
            c[l] = set->data + ws->pend[l < m ? l : 0] * n;
        hv__dtw_core4(qc->q, c, m, n, r, ws->lane_cb, thr, ws->lane_b, ws->lane_rows, d, ab);
    } else {
        for (unsigned l = 0; l < m; l++)
            d[l] = hv__dtw_core(qc->q, set->data + ws->pend[l] * n, n, r, ws->lane_cb + l * (n + 1),
                                thr, ws->rows, &ab[l]);
    }
    for (unsigned l = 0; l < m; l++)
        thr = settle(ws, k, held, thr, st, ws->pend[l], d[l], ab[l]);
    return thr;
}

static double cascade_one(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set, size_t idx,
                          size_t k, size_t *held, double thr, hv_dtw_stats *st)
{
    size_t n = set->params.len, r = set->r;
    const double *c = set->data + idx * n;
    st->candidates++;
    if (ws->mem_kim != NULL) { /* bounds the seeding pass computed: prune at no cost */
        if (ws->mem_kim[idx - ws->mem_begin] > thr) {
            st->pruned_kim++;
            return thr;
        }
        if (ws->mem_eq[idx - ws->mem_begin] > thr) {
            st->pruned_keogh_eq++;
            return thr;
        }
    }
    double lb = hv__dtw_lb_kim(qc->q, c, n, r, thr);
    if (lb > thr) {
        st->pruned_kim++;
        return thr;
    }
    double eq = hv__dtw_lb_keogh(c, qc->upper, qc->lower, n, thr, ws->cb1, ws->avx2);
    if (eq > thr) {
        st->pruned_keogh_eq++;
        return thr;
    }
    double ec = hv__dtw_lb_keogh(qc->q, set->upper + idx * n, set->lower + idx * n, n, thr, ws->cb2,
                                 ws->avx2);
    if (ec > thr) {
        st->pruned_keogh_ec++;
        return thr;
    }
    /* Both term arrays bound the rest of the path (docs/DTW.md); use the tighter one. */
    if (*held == k) {
        /* A finite threshold: queue the DTW and run it with up to three others at once. */
        suffix_sums(eq > ec ? ws->cb1 : ws->cb2, n, ws->lane_cb + ws->npend * (n + 1));
        ws->pend[ws->npend++] = idx;
        return ws->npend == HV__DTW_LANES ? flush(ws, qc, set, k, held, thr, st) : thr;
    }
    suffix_sums(eq > ec ? ws->cb1 : ws->cb2, n, ws->cb);
    int abandoned;
    double d = hv__dtw_core(qc->q, c, n, r, ws->cb, thr, ws->rows, &abandoned);
    return settle(ws, k, held, thr, st, idx, d, abandoned);
}

/*
 * Seeding: the k + HV__DTW_SEED_EXTRA candidates with the smallest LB_Keogh (query envelope)
 * go through the cascade first, in increasing bound order, so the best-so-far starts near its
 * final value instead of at infinity. Finding them is one streaming pass that abandons each
 * bound as soon as it exceeds the largest kept (ws->seed holds at most `want` entries, sorted
 * by bound). Order changes only which candidates get pruned, never the result. thr is the
 * threshold the range starts from (INFINITY for a fresh search; the k-th best so far for a
 * later chunk of a pool search): a candidate whose bound exceeds it cannot be a seed.
 */
static size_t pick_seeds(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set,
                         size_t begin, size_t end, size_t want, double thr)
{
    size_t n = set->params.len, held = 0;
    double *kim_mem = NULL, *eq_mem = NULL;
    if (ws->mem != NULL && end - begin <= ws->mem_cap) {
        kim_mem = ws->mem;
        eq_mem = ws->mem + ws->mem_cap;
    }
    for (size_t idx = begin; idx < end; idx++) {
        /* A candidate whose DTW provably exceeds the bounds kept so far is a poor seed. */
        double kim = hv__dtw_lb_kim(qc->q, set->data + idx * n, n, set->r, thr);
        if (kim_mem != NULL) {
            kim_mem[idx - begin] = kim;
            eq_mem[idx - begin] = 0; /* not computed: 0 bounds nothing */
        }
        if (kim > thr)
            continue;
        double eq =
            hv__dtw_lb_keogh(set->data + idx * n, qc->upper, qc->lower, n, thr, ws->cb1, ws->avx2);
        if (eq_mem != NULL)
            eq_mem[idx - begin] = eq;
        if (eq > thr)
            continue;
        top_insert(ws->seed, &held, want, eq, idx);
        if (held == want)
            thr = ws->seed[want - 1].distance;
    }
    return held;
}

/* Insertion sort by index (at most k_max + SEED_EXTRA entries; qsort may allocate, this never
 * does). */
static void sort_by_index(hv_dtw_match *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        hv_dtw_match x = m[i];
        size_t j = i;
        for (; j > 0 && m[j - 1].index > x.index; j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

static double shared_load(const uint64_t *shared)
{
    uint64_t bits = __atomic_load_n(shared, __ATOMIC_RELAXED);
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

/* Lowers the shared threshold to thr if thr is smaller (thr >= 0). */
static void shared_lower(uint64_t *shared, double thr)
{
    uint64_t bits, cur = __atomic_load_n(shared, __ATOMIC_RELAXED);
    memcpy(&bits, &thr, sizeof(bits));
    while (bits < cur &&
           !__atomic_compare_exchange_n(shared, &cur, bits, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* One candidate against min(local, shared) threshold; returns the new local threshold. */
static double visit(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set, size_t idx,
                    size_t k, size_t *held, double local, hv_dtw_stats *st)
{
    if (qc->shared_thr == NULL)
        return cascade_one(ws, qc, set, idx, k, held, local, st);
    double g = shared_load(qc->shared_thr);
    cascade_one(ws, qc, set, idx, k, held, g < local ? g : local, st);
    if (*held < k)
        return local;
    double mine = ws->top[k - 1].distance * (1.0 + HV__DTW_PRUNE_SLACK);
    if (mine < local)
        shared_lower(qc->shared_thr, mine);
    return mine;
}

int hv__dtw_ws_memo(hv_dtw_ws *ws, size_t cap)
{
    double *m = malloc(2 * cap * sizeof(double));
    if (m == NULL)
        return HV_ENOMEM;
    free(ws->mem);
    ws->mem = m;
    ws->mem_cap = cap;
    return 0;
}

size_t hv__dtw_search_range(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set,
                            size_t begin, size_t end, size_t k, size_t held, hv_dtw_stats *st)
{
    size_t nseed = 0, s = 0;
    double thr = held == k ? ws->top[k - 1].distance * (1.0 + HV__DTW_PRUNE_SLACK) : INFINITY;
    if (ws->seeding) {
        double start = thr;
        if (qc->shared_thr != NULL && shared_load(qc->shared_thr) < start)
            start = shared_load(qc->shared_thr);
        nseed = pick_seeds(ws, qc, set, begin, end, k + HV__DTW_SEED_EXTRA, start);
        if (ws->mem != NULL && end - begin <= ws->mem_cap) {
            ws->mem_kim = ws->mem;
            ws->mem_eq = ws->mem + ws->mem_cap;
            ws->mem_begin = begin;
        }
        for (size_t i = 0; i < nseed; i++)
            thr = visit(ws, qc, set, ws->seed[i].index, k, &held, thr, st);
        sort_by_index(ws->seed, nseed);
    }
    for (size_t idx = begin; idx < end; idx++) {
        if (s < nseed && ws->seed[s].index == idx) {
            s++;
            continue;
        }
        thr = visit(ws, qc, set, idx, k, &held, thr, st);
    }
    if (ws->npend > 0)
        flush(ws, qc, set, k, &held, thr, st);
    ws->mem_kim = ws->mem_eq = NULL;
    return held;
}

static int search_check(const hv_dtw_ws *ws, const hv_dtw_set *set, size_t count, size_t k)
{
    if (k == 0 || k > ws->k_max || count > set->count)
        return HV_EINVAL;
    if (ws->params.len != set->params.len || ws->r != set->r ||
        (ws->params.znorm != 0) != (set->params.znorm != 0))
        return HV_EINVAL;
    return 0;
}

int hv_dtw_search(hv_dtw_ws *ws, const hv_dtw_set *set, size_t count, const double *query, size_t k,
                  hv_dtw_match *out, hv_dtw_stats *stats)
{
    int rv = search_check(ws, set, count, k);
    if (rv == 0)
        rv = hv__dtw_ws_prepare(ws, query);
    if (rv != 0)
        return rv;
    hv_dtw_stats local;
    hv_dtw_stats_reset(&local);
    local.queries = 1;
    hv__dtw_query qc = { ws->q, ws->qu, ws->ql, NULL };
    size_t held = hv__dtw_search_range(ws, &qc, set, 0, count, k, 0, &local);
    memcpy(out, ws->top, held * sizeof(*out));
    if (stats != NULL)
        hv_dtw_stats_add(stats, &local);
    return (int)held;
}

int hv_dtw_distances(hv_dtw_ws *ws, const hv_dtw_set *set, size_t count, const double *query,
                     double *dist)
{
    int rv = search_check(ws, set, count, 1);
    if (rv == 0)
        rv = hv__dtw_ws_prepare(ws, query);
    if (rv != 0)
        return rv;
    size_t n = set->params.len;
    for (size_t i = 0; i < count; i++)
        dist[i] = hv_dtw_distance(ws->q, set->data + i * n, n, set->r, ws->rows);
    return 0;
}

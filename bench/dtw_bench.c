/*
 * `hivewire-bench dtw`: 1-NN DTW of a query against K = 1,000 stored patterns of length 64,
 * 128 and 256 with a 10% Sakoe-Chiba band, on real S&P 500 windows (data/sp500-2000.csv,
 * when present) and on seeded random walks.
 *
 * Rows per (data, n):
 *   1nn_<data>_n<n>          hivewire cascade, one query per sample, many queries (median,
 *                            p99 per query); params carry the share pruned at each stage.
 *   1nn_<data>_n<n>_vs       paired rounds, same query for every implementation, order
 *                            rotated each round: hivewire (AVX2 when available),
 *                            hivewire_scalar, banded_nolb (banded DTW on every pattern, no
 *                            lower bounds) and full_dtw (unconstrained DTW on every pattern,
 *                            no bounds: the original system's approach).
 *   1nn_<data>_n<n>_batch    the multi-threaded batch (hv_dtw_pool, 2 threads) against the
 *                            single-threaded search, paired per query.
 *   predict_sp500_n64_k5     hv_dtw_library_predict over a library of every S&P 500 window
 *                            (queries in the second half of the series; no look-ahead).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hivewire/dtw.h>
#include <hivewire/hist.h>
#include <hivewire/market.h>
#include <hivewire/rng.h>

#include "bench/bench.h"

#define K_PATTERNS 1000
#define BAND       0.1
#define THREADS    2

int hv_bench_dtw(const hv_bench_opts *opts);

typedef struct dataset {
    const char *name;
    /* Random walks: generated. Real: windows of log closes. */
    const double *prices; /* NULL for random walks */
    size_t nprices;
} dataset;

typedef struct ctx {
    const hv_bench_opts *opts;
    hv_bench_report *rep;
    hv_rng rng;
    size_t n;
    const dataset *ds;
    hv_dtw_opts params;
    hv_dtw_set *set;
    hv_dtw_ws *ws, *ws_scalar;
    hv_dtw_pool *pool;
    double *queries; /* nq * n */
    size_t nq;
    double *rows;
} ctx;

/* --- Workload construction ----------------------------------------------------------------- */

static void random_walk(hv_rng *rng, double *x, size_t n)
{
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        v += hv_rng_normal(rng);
        x[i] = v;
    }
}

/*
 * Real data: patterns are log-price windows ending at bars n-1, n-1+3, ... (stride 3, 1,000
 * windows); queries are windows that start after the last pattern ends, so no query is a
 * near copy of a stored pattern.
 */
static int real_window(const ctx *c, size_t end, double *out)
{
    for (size_t i = 0; i < c->n; i++)
        out[i] = log(c->ds->prices[end + 1 - c->n + i]);
    return 0;
}

static int build(ctx *c, size_t nq)
{
    size_t n = c->n;
    hv_dtw_opts_default(&c->params);
    c->params.len = n;
    c->params.band = BAND;
    hv_dtw_opts scalar = c->params;
    scalar.simd = HV_DTW_SIMD_SCALAR;
    if (hv_dtw_set_new(&c->params, K_PATTERNS, &c->set) != 0 ||
        hv_dtw_ws_new(&c->params, 1, &c->ws) != 0 ||
        hv_dtw_ws_new(&scalar, 1, &c->ws_scalar) != 0 ||
        hv_dtw_pool_new(&c->params, THREADS, 1, &c->pool) != 0)
        return HV_ENOMEM;
    c->queries = malloc(nq * n * sizeof(double));
    c->rows = malloc(2 * (n + 2) * sizeof(double));
    double *x = malloc(n * sizeof(double));
    if (c->queries == NULL || c->rows == NULL || x == NULL) {
        free(x);
        return HV_ENOMEM;
    }
    c->nq = nq;
    size_t stride = 3, last_end = n - 1 + (K_PATTERNS - 1) * stride;
    for (size_t i = 0; i < K_PATTERNS; i++) {
        if (c->ds->prices)
            real_window(c, n - 1 + i * stride, x);
        else
            random_walk(&c->rng, x, n);
        hv_dtw_set_add(c->set, x);
    }
    for (size_t q = 0; q < nq; q++) {
        if (c->ds->prices) {
            size_t lo = last_end + n, span = c->ds->nprices - lo;
            real_window(c, lo + hv_rng_below(&c->rng, span), c->queries + q * n);
        } else {
            random_walk(&c->rng, c->queries + q * n, n);
        }
    }
    free(x);
    return 0;
}

static void teardown(ctx *c)
{
    hv_dtw_pool_free(c->pool);
    hv_dtw_ws_free(c->ws);
    hv_dtw_ws_free(c->ws_scalar);
    hv_dtw_set_free(c->set);
    free(c->queries);
    free(c->rows);
}

/* --- The measured operations --------------------------------------------------------------- */

/* Brute force: z-normalise the query, DTW with window r against every pattern, keep the min. */
static double brute_1nn(ctx *c, const double *query, size_t r, double *qz)
{
    hv_dtw_znorm(query, c->n, qz, HV_DTW_SIMD_AUTO);
    double best = INFINITY;
    for (size_t i = 0; i < K_PATTERNS; i++) {
        double d = hv_dtw_distance(qz, hv_dtw_set_pattern(c->set, i), c->n, r, c->rows);
        best = d < best ? d : best;
    }
    return best;
}

static double time_impl(ctx *c, int impl, const double *q, double *qz, double *check)
{
    hv_dtw_match m = { 0, 0 };
    uint64_t t0 = hv_now_ns();
    switch (impl) {
    case 0:
        hv_dtw_search(c->ws, c->set, K_PATTERNS, q, 1, &m, NULL);
        break;
    case 1:
        hv_dtw_search(c->ws_scalar, c->set, K_PATTERNS, q, 1, &m, NULL);
        break;
    case 2:
        m.distance = brute_1nn(c, q, hv_dtw_window(c->n, BAND), qz);
        break;
    default:
        m.distance = brute_1nn(c, q, c->n - 1, qz);
        break;
    }
    uint64_t t1 = hv_now_ns();
    hv_bench_consume(&m);
    check[impl] = m.distance;
    return (double)(t1 - t0) / 1e3;
}

static void params_json(const ctx *c, char *buf, size_t cap, const char *extra)
{
    snprintf(buf, cap, "{\"data\": \"%s\", \"n\": %zu, \"K\": %d, \"band\": %g, \"window\": %zu%s}",
             c->ds->name, c->n, K_PATTERNS, BAND, hv_dtw_window(c->n, BAND), extra ? extra : "");
}

/* Many queries through the cascade: per-query latency histogram and pruning shares. */
static void run_latency(ctx *c, const char *name)
{
    hv_hist h;
    if (hv_hist_init(&h, 10000000000ull, 10) != 0)
        return;
    hv_dtw_stats st;
    hv_dtw_stats_reset(&st);
    hv_dtw_match m;
    for (size_t q = 0; q < c->nq && q < 16; q++) /* warm-up */
        hv_dtw_search(c->ws, c->set, K_PATTERNS, c->queries + q * c->n, 1, &m, NULL);
    uint64_t a0 = hv_bench_allocs();
    for (size_t q = 0; q < c->nq; q++) {
        uint64_t t0 = hv_now_ns();
        hv_dtw_search(c->ws, c->set, K_PATTERNS, c->queries + q * c->n, 1, &m, &st);
        hv_hist_record(&h, hv_now_ns() - t0);
    }
    uint64_t a1 = hv_bench_allocs();
    double cand = (double)st.candidates;
    char extra[512], params[768];
    snprintf(extra, sizeof(extra),
             ", \"queries\": %zu, \"simd\": \"%s\", \"pruned_lb_kim\": %.4f, "
             "\"pruned_lb_keogh_query_env\": %.4f, \"pruned_lb_keogh_candidate_env\": %.4f, "
             "\"dtw_abandoned\": %.4f, \"dtw_full\": %.4f, \"allocs_per_query\": %s",
             c->nq, hv_dtw_simd_available() ? "avx2" : "scalar", st.pruned_kim / cand,
             st.pruned_keogh_eq / cand, st.pruned_keogh_ec / cand, st.abandoned_dtw / cand,
             st.full_dtw / cand, a0 == UINT64_MAX ? "null" : (a1 == a0 ? "0" : "\"nonzero\""));
    params_json(c, params, sizeof(params), extra);
    hv_bench_add_hist(c->rep, name, "hivewire", "us", &h, params);
    if (a0 != UINT64_MAX && a1 != a0)
        hv_bench_note(c->rep, "%s: %llu allocations in %zu queries", name,
                      (unsigned long long)(a1 - a0), c->nq);
    hv_hist_fini(&h);
}

/* One run_versus() workload: round s searches query s % nq with every implementation. */
typedef struct versus {
    ctx *c;
    const char *name;
    double *qz;
    double check[4]; /* each implementation's nearest distance in the current round */
    unsigned mismatches;
} versus;

static double versus_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    versus *vs = x;
    const double *q = vs->c->queries + (s % vs->c->nq) * vs->c->n;
    return time_impl(vs->c, impl->variant, q, vs->qz, vs->check);
}

/* Same band: the cascade must find exactly the brute-force nearest distance. */
static void versus_check(void *x, unsigned s)
{
    versus *vs = x;
    if (vs->check[0] == vs->check[2] && vs->check[1] == vs->check[2])
        return;
    if (vs->mismatches++ == 0)
        hv_bench_fail(vs->c->rep,
                      "%s round %u: cascade and brute force disagree (hivewire %.17g, "
                      "scalar %.17g, banded brute force %.17g): a pruning bug",
                      vs->name, s, vs->check[0], vs->check[1], vs->check[2]);
}

/* variant: time_impl()'s implementation number. */
static const hv_bench_impl impls[4] = { { "hivewire", versus_sample, 0, NULL },
                                        { "hivewire_scalar", versus_sample, 1, NULL },
                                        { "banded_nolb", versus_sample, 2, NULL },
                                        { "full_dtw", versus_sample, 3, NULL } };

/* Paired rounds: the same query through all four implementations, order rotated. */
static void run_versus(ctx *c, const char *name, unsigned rounds)
{
    versus vs = { .c = c, .name = name, .qz = malloc(c->n * sizeof(double)) };
    hv_bench_plan p = { .impls = impls,
                        .nimpl = 4,
                        .samples = rounds,
                        .ctx = &vs,
                        .rotate = 1,
                        .after = versus_check };
    double *v = vs.qz != NULL ? hv_bench_interleave_new(&p) : NULL;
    if (v == NULL) {
        hv_bench_fail(c->rep, "%s: out of memory", name);
        free(vs.qz);
        return;
    }
    char params[512], extra[64];
    snprintf(extra, sizeof(extra), ", \"rounds\": %u", rounds);
    params_json(c, params, sizeof(params), extra);
    hv_bench_add_plan(c->rep, name, "us", &p, v, params, NULL);
    hv_bench_ratio(c->rep, name, "hivewire", "full_dtw");
    hv_bench_ratio(c->rep, name, "hivewire", "banded_nolb");
    hv_bench_ratio(c->rep, name, "hivewire", "hivewire_scalar");
    if (vs.mismatches > 1)
        hv_bench_fail(c->rep, "%s: %u of %u rounds disagreed with brute force", name, vs.mismatches,
                      rounds);
    free(v);
    free(vs.qz);
}

/* The multi-threaded batch against the single-threaded search, paired per query. */
static void run_batch(ctx *c, const char *name)
{
    size_t nq = c->nq;
    double *a = malloc(nq * sizeof(double)), *b = malloc(nq * sizeof(double));
    hv_dtw_match m1, m2;
    size_t mismatches = 0;
    for (size_t q = 0; q < nq; q++) {
        const double *x = c->queries + q * c->n;
        uint64_t t0 = hv_now_ns();
        long e1 = hv_dtw_pool_search(c->pool, c->set, K_PATTERNS, x, 1, &m1, NULL);
        uint64_t t1 = hv_now_ns();
        long e2 = hv_dtw_search(c->ws, c->set, K_PATTERNS, x, 1, &m2, NULL);
        uint64_t t2 = hv_now_ns();
        a[q] = (double)(t1 - t0) / 1e3;
        b[q] = (double)(t2 - t1) / 1e3;
        if (e1 < 0 || e2 < 0) {
            hv_bench_fail(c->rep, "%s query %zu: search failed: %s", name, q,
                          hv_strerror((int)(e1 < 0 ? e1 : e2)));
            mismatches++;
            break;
        }
        if (m1.index != m2.index || m1.distance != m2.distance) {
            if (mismatches++ == 0)
                hv_bench_fail(c->rep,
                              "%s query %zu: pool and single thread disagree (pattern %zu at "
                              "%.17g vs pattern %zu at %.17g)",
                              name, q, (size_t)m1.index, m1.distance, (size_t)m2.index,
                              m2.distance);
        }
    }
    char extra[96], params[512];
    snprintf(extra, sizeof(extra), ", \"threads\": %d, \"queries\": %zu", THREADS, nq);
    params_json(c, params, sizeof(params), extra);
    hv_bench_add(c->rep, name, "hivewire_pool2", "us", a, nq, params);
    hv_bench_add(c->rep, name, "hivewire_1thread", "us", b, nq, params);
    hv_bench_ratio(c->rep, name, "hivewire_pool2", "hivewire_1thread");
    if (mismatches > 1)
        hv_bench_fail(c->rep, "%s: %zu of %zu queries disagreed between pool and single thread",
                      name, mismatches, nq);
    free(a);
    free(b);
}

static void run_config(const hv_bench_opts *opts, hv_bench_report *rep, const dataset *ds, size_t n)
{
    char name[64], vs[80], batch[80];
    snprintf(name, sizeof(name), "1nn_%s_n%zu", ds->name, n);
    snprintf(vs, sizeof(vs), "%s_vs", name);
    snprintf(batch, sizeof(batch), "%s_batch", name);
    if (!hv_bench_selected(opts, name))
        return;
    ctx c = { .opts = opts, .rep = rep, .n = n, .ds = ds };
    hv_rng_seed(&c.rng, opts->seed * 1000003u + n);
    size_t nq = opts->quick ? 20 : hv_bench_samples(opts, 1000);
    if (build(&c, nq) != 0) {
        hv_bench_fail(rep, "%s: setup failed: out of memory", name);
        teardown(&c);
        return;
    }
    run_latency(&c, name);
    run_versus(&c, vs, opts->quick ? 2 : (n >= 256 ? 9 : 15));
    run_batch(&c, batch);
    teardown(&c);
}

/*
 * The pattern library as a pattern-matcher agent uses it: the library holds every window of
 * the series (stride 1); each prediction at bar t searches only the patterns whose label is
 * known by t (no look-ahead), top-5, distance-weighted.
 */
static void run_predict(const hv_bench_opts *opts, hv_bench_report *rep, const double *prices,
                        size_t np, size_t len)
{
    char name[64];
    snprintf(name, sizeof(name), "predict_sp500_n%zu_k5", len);
    if (!hv_bench_selected(opts, name))
        return;
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = len;
    o.capacity = np;
    hv_dtw_library *lib = NULL;
    hv_dtw_ws *ws = NULL;
    hv_hist h;
    if (hv_dtw_library_new(&o, &lib) != 0 || hv_dtw_library_build(lib, prices, np, 1) < 0 ||
        hv_dtw_library_ws_new(lib, 5, &ws) != 0 || hv_hist_init(&h, 10000000000ull, 10) != 0) {
        hv_bench_fail(rep, "%s: setup failed", name);
        hv_dtw_ws_free(ws);
        hv_dtw_library_free(lib);
        return;
    }
    hv_rng rng;
    hv_rng_seed(&rng, opts->seed + len);
    size_t nq = opts->quick ? 20 : hv_bench_samples(opts, 1000), lo = np / 2;
    hv_dtw_stats st;
    hv_dtw_stats_reset(&st);
    double elig = 0;
    for (size_t q = 0; q < nq; q++) {
        size_t t = lo + hv_rng_below(&rng, np - lo);
        hv_dtw_prediction pr;
        uint64_t t0 = hv_now_ns();
        hv_dtw_library_predict(lib, ws, prices, np, t, 5, &pr, &st);
        hv_hist_record(&h, hv_now_ns() - t0);
        elig += (double)pr.eligible;
    }
    char params[384];
    double cand = (double)st.candidates;
    snprintf(params, sizeof(params),
             "{\"data\": \"sp500\", \"n\": %zu, \"k\": 5, \"band\": %g, \"horizon\": %zu, "
             "\"eligible_mean\": %.0f, \"queries\": %zu, \"dtw_started\": %.4f}",
             len, o.band, o.horizon, elig / (double)nq, nq,
             (st.abandoned_dtw + st.full_dtw) / cand);
    hv_bench_add_hist(rep, name, "hivewire", "us", &h, params);
    hv_hist_fini(&h);
    hv_dtw_ws_free(ws);
    hv_dtw_library_free(lib);
}

/* --- Real data ----------------------------------------------------------------------------- */

#ifndef HV_DTW_SOURCE_DIR
#define HV_DTW_SOURCE_DIR "."
#endif

/* data/sp500-2000.csv from the working directory, else $HV_SOURCE_DIR, else the source tree
 * this binary was built from. */
static int find_sp500(char *path, size_t cap)
{
    const char *env = getenv("HV_SOURCE_DIR");
    const char *roots[3] = { ".", env, HV_DTW_SOURCE_DIR };
    for (int i = 0; i < 3; i++) {
        if (roots[i] == NULL)
            continue;
        if (snprintf(path, cap, "%s/data/sp500-2000.csv", roots[i]) >= (int)cap)
            continue;
        struct stat st;
        if (stat(path, &st) == 0)
            return 0;
    }
    return -1;
}

/* Daily closes of the S&P 500 through the market area's CSV reader. */
static int load_sp500(double **prices, size_t *count, char *why, size_t cap)
{
    char path[200];
    if (find_sp500(path, sizeof(path)) != 0) {
        snprintf(why, cap,
                 "real S&P 500 rows skipped: data/sp500-2000.csv not found (run "
                 "scripts/fetch-data)");
        return -1;
    }
    hv_series s;
    hv_series_init(&s);
    hv_csv_report rep;
    int rv = hv_csv_load_bars(path, NULL, &s, &rep);
    size_t need = 256 + 3 * (K_PATTERNS - 1) + 256 + 64;
    if (rv != 0 || s.len < need) {
        snprintf(why, cap, "real S&P 500 rows skipped: %s: %s (%zu bars)", path,
                 rv != 0 ? hv_strerror(rv) : "too few bars", s.len);
        hv_series_fini(&s);
        return -1;
    }
    *prices = malloc(s.len * sizeof(double));
    if (*prices == NULL) {
        hv_series_fini(&s);
        return -1;
    }
    for (size_t i = 0; i < s.len; i++)
        (*prices)[i] = s.bars[i].close;
    *count = s.len;
    snprintf(why, cap, "real data: %s, %zu daily closes (%llu bad rows skipped)", path, s.len,
             (unsigned long long)rep.rows_bad);
    hv_series_fini(&s);
    return 0;
}

int hv_bench_dtw(const hv_bench_opts *opts)
{
    hv_bench_report *rep = hv_bench_report_new("dtw", opts);
    if (rep == NULL)
        return 1;
    static const size_t lens[3] = { 64, 128, 256 };
    double *prices = NULL;
    size_t nprices = 0;
    char why[512];
    if (load_sp500(&prices, &nprices, why, sizeof(why)) == 0) {
        hv_bench_note(rep, "%s", why);
        dataset real = { "sp500", prices, nprices };
        for (int i = 0; i < 3; i++)
            run_config(opts, rep, &real, lens[i]);
        run_predict(opts, rep, prices, nprices, 64);
    } else {
        hv_bench_note(rep, "%s", why);
    }
    dataset rw = { "randwalk", NULL, 0 };
    for (int i = 0; i < 3; i++)
        run_config(opts, rep, &rw, lens[i]);
    free(prices);
    hv_bench_note(rep,
                  "K = %d patterns, band %.0f%%, 1-NN, z-normalised; distance = sum of "
                  "squared differences along the warping path",
                  K_PATTERNS, BAND * 100);
    hv_bench_note(rep, "SIMD: %s; pool: %d threads on %s",
                  hv_dtw_simd_available() ? "AVX2 (run-time dispatch)" : "scalar only", THREADS,
                  "a shared 2-core machine");
    hv_bench_note(rep, "reference (not measured here): the original system reported ~1 us per "
                       "short pattern and 126 ms for a batch of 1,000");
    hv_bench_note(rep, "peak RSS %.1f MiB", (double)hv_bench_peak_rss_bytes() / 1048576.0);
    return hv_bench_report_finish(rep);
}

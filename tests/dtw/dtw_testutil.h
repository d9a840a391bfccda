/* Shared helpers for the dtw tests: generators, the plain full-matrix reference DTW and a
 * brute-force top-k. Header-only (static functions) so each test stays one executable. */
#ifndef HV_TESTS_DTW_TESTUTIL_H
#define HV_TESTS_DTW_TESTUTIL_H

#include "hv_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include <hivewire/dtw.h>
#include <hivewire/market.h>
#include <hivewire/rng.h>

/* A Gaussian random walk of n steps starting at 100. */
static inline void tu_random_walk(hv_rng *rng, double *x, size_t n)
{
    double v = 100;
    for (size_t i = 0; i < n; i++) {
        v += hv_rng_normal(rng);
        x[i] = v;
    }
}

/* Positive prices from a geometric random walk (daily-like volatility). */
static inline void tu_prices(hv_rng *rng, double *p, size_t n)
{
    double lp = log(1000.0);
    for (size_t i = 0; i < n; i++) {
        lp += 0.0003 + 0.012 * hv_rng_normal(rng);
        p[i] = exp(lp);
    }
}

/*
 * The textbook DTW: the whole (n + 1) x (m + 1) cost matrix, D[0][0] = 0, every other border
 * cell infinite, D[i][j] = (a[i-1] - b[j-1])^2 + min(D[i-1][j-1], D[i-1][j], D[i][j-1]) for
 * |i - j| <= r, infinite outside the band. Deliberately naive: it is the oracle.
 */
static inline double tu_ref_dtw(const double *a, size_t n, const double *b, size_t m, size_t r)
{
    double *D = malloc((n + 1) * (m + 1) * sizeof(double));
    for (size_t i = 0; i <= n; i++)
        for (size_t j = 0; j <= m; j++)
            D[i * (m + 1) + j] = INFINITY;
    D[0] = 0;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t gap = i > j ? i - j : j - i;
            if (gap > r)
                continue;
            double c = (a[i - 1] - b[j - 1]) * (a[i - 1] - b[j - 1]);
            double best = D[(i - 1) * (m + 1) + (j - 1)];
            if (D[(i - 1) * (m + 1) + j] < best)
                best = D[(i - 1) * (m + 1) + j];
            if (D[i * (m + 1) + (j - 1)] < best)
                best = D[i * (m + 1) + (j - 1)];
            D[i * (m + 1) + j] = c + best;
        }
    }
    double d = D[n * (m + 1) + m];
    free(D);
    return d;
}

static inline int tu_rel_close(double a, double b, double rel)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= rel * scale || a == b;
}

static inline int tu_match_cmp(const void *x, const void *y)
{
    const hv_dtw_match *a = x, *b = y;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* Brute force: every distance (hv_dtw_distances), sorted by (distance, index), first k. */
static inline size_t tu_brute_topk(hv_dtw_ws *ws, const hv_dtw_set *set, size_t count,
                                   const double *q, unsigned k, hv_dtw_match *out)
{
    double *d = malloc((count ? count : 1) * sizeof(double));
    hv_dtw_match *all = malloc((count ? count : 1) * sizeof(hv_dtw_match));
    hv_dtw_distances(ws, set, count, q, d);
    for (size_t i = 0; i < count; i++) {
        all[i].index = i;
        all[i].distance = d[i];
    }
    qsort(all, count, sizeof(*all), tu_match_cmp);
    size_t m = count < k ? count : k;
    memcpy(out, all, m * sizeof(*out));
    free(d);
    free(all);
    return m;
}

/*
 * The real S&P 500 daily closes ($HV_SOURCE_DIR/data/sp500-2000.csv, fetched by
 * scripts/fetch-data), read with the market area's CSV reader. Returns a malloc'd array and
 * its length in *n. A missing file skips the test (fails it under HV_REQUIRE_DATA=1, see
 * hv_test_data_file()); a file that is present but does not load fails it. Test bodies only.
 */
static inline double *tu_sp500_closes(size_t *n)
{
    char path[1024];
    hv_test_data_file("sp500-2000.csv", path, sizeof(path));
    hv_series s;
    hv_series_init(&s);
    int rv = hv_csv_load_bars(path, NULL, &s, NULL);
    if (rv != 0 || s.len < 1000) {
        hv_series_fini(&s);
        fail_msg("%s: %s (%s)", path, rv != 0 ? hv_strerror(rv) : "fewer than 1000 bars",
                 "expected the file scripts/fetch-data writes");
    }
    double *p = malloc(s.len * sizeof(double));
    for (size_t i = 0; i < s.len; i++)
        p[i] = s.bars[i].close;
    *n = s.len;
    hv_series_fini(&s);
    return p;
}

/* Log closes of the window of length len ending at bar end. */
static inline void tu_log_window(const double *prices, size_t end, size_t len, double *out)
{
    for (size_t i = 0; i < len; i++)
        out[i] = log(prices[end + 1 - len + i]);
}

#endif

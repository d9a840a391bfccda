/*
 * DTW kernels: z-normalisation, envelopes, lower bounds and the banded DTW recurrence.
 *
 * Scalar and AVX2 paths give bit-identical results because they perform the same IEEE
 * operations in the same order: sums run in four interleaved lanes (element i goes to lane
 * i % 4 for the largest multiple of 4, then lanes are combined as (l0 + l1) + (l2 + l3) and
 * the tail is added in order), and this file is compiled with -ffp-contract=off so no
 * multiply-add is fused in one path and not the other.
 */
#include <math.h>
#include <string.h>

#include "core/assert.h"
#include "dtw/dtw_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HV_DTW_X86 1
#endif

/* --- SIMD selection ------------------------------------------------------------------------ */

int hv_dtw_simd_available(void)
{
#if HV_DTW_X86
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
#else
    return 0;
#endif
}

int hv__dtw_use_avx2(unsigned simd)
{
    return simd == HV_DTW_SIMD_AUTO && hv_dtw_simd_available();
}

size_t hv_dtw_window(size_t len, double band)
{
    if (len == 0)
        return 0;
    double w = floor(band * (double)len + 1e-9);
    if (!(w > 0))
        return 0;
    if (w >= (double)(len - 1))
        return len - 1;
    return (size_t)w;
}

/* --- z-normalisation ----------------------------------------------------------------------- */

static inline double lanes_total(const double acc[4], double tail)
{
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
}

static double sum_scalar(const double *x, size_t n, double mean, int centred)
{
    double acc[4] = { 0, 0, 0, 0 }, tail = 0;
    size_t n4 = n & ~(size_t)3, i = 0;
    for (; i < n4; i += 4) {
        for (int l = 0; l < 4; l++) {
            double v = x[i + l];
            acc[l] += centred ? (v - mean) * (v - mean) : v;
        }
    }
    for (; i < n; i++) {
        double v = x[i];
        tail += centred ? (v - mean) * (v - mean) : v;
    }
    return lanes_total(acc, tail);
}

#if HV_DTW_X86
__attribute__((target("avx2"))) static double sum_avx2(const double *x, size_t n, double mean,
                                                       int centred)
{
    __m256d acc = _mm256_setzero_pd(), m = _mm256_set1_pd(mean);
    size_t n4 = n & ~(size_t)3, i = 0;
    if (centred) {
        for (; i < n4; i += 4) {
            __m256d d = _mm256_sub_pd(_mm256_loadu_pd(x + i), m);
            acc = _mm256_add_pd(acc, _mm256_mul_pd(d, d));
        }
    } else {
        for (; i < n4; i += 4)
            acc = _mm256_add_pd(acc, _mm256_loadu_pd(x + i));
    }
    double lane[4], tail = 0;
    _mm256_storeu_pd(lane, acc);
    for (; i < n; i++) {
        double v = x[i];
        tail += centred ? (v - mean) * (v - mean) : v;
    }
    return lanes_total(lane, tail);
}

__attribute__((target("avx2"))) static void scale_avx2(const double *x, size_t n, double mean,
                                                       double sd, double *out)
{
    __m256d m = _mm256_set1_pd(mean), s = _mm256_set1_pd(sd);
    size_t n4 = n & ~(size_t)3, i = 0;
    for (; i < n4; i += 4)
        _mm256_storeu_pd(out + i, _mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(x + i), m), s));
    for (; i < n; i++)
        out[i] = (x[i] - mean) / sd;
}
#endif

/* Mean and sum of squared deviations; 0, or -1 when either is not finite. */
static int moments(const double *x, size_t n, int avx2, double *mean, double *ss)
{
    double sum;
#if HV_DTW_X86
    sum = avx2 ? sum_avx2(x, n, 0, 0) : sum_scalar(x, n, 0, 0);
#else
    sum = sum_scalar(x, n, 0, 0);
#endif
    if (!isfinite(sum))
        return -1;
    *mean = sum / (double)n;
#if HV_DTW_X86
    *ss = avx2 ? sum_avx2(x, n, *mean, 1) : sum_scalar(x, n, *mean, 1);
#else
    *ss = sum_scalar(x, n, *mean, 1);
#endif
    return isfinite(*ss) ? 0 : -1;
}

/*
 * When the sums overflow (values beyond about 1e150), normalise x / max|x| instead: the
 * z-normalisation of a series does not depend on its scale. Non-finite input is HV_EINVAL.
 */
static int rescale(const double *x, size_t n, double *out)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return HV_EINVAL;
        m = fabs(x[i]) > m ? fabs(x[i]) : m;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = x[i] / m;
    return 0;
}

int hv__dtw_znorm(const double *x, size_t n, double *out, int avx2)
{
    if (n == 0)
        return HV_EINVAL;
    double mean, ss;
    if (moments(x, n, avx2, &mean, &ss) != 0) {
        int rv = rescale(x, n, out);
        if (rv != 0)
            return rv;
        x = out;
        if (moments(x, n, avx2, &mean, &ss) != 0)
            return HV_EINVAL; /* cannot happen: |x| <= 1 */
    }
    double sd = sqrt(ss / (double)n);
    if (sd == 0 || sd <= 1e-9 * fabs(mean)) {
        memset(out, 0, n * sizeof(double));
        return 0;
    }
#if HV_DTW_X86
    if (avx2) {
        scale_avx2(x, n, mean, sd, out);
        return 0;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = (x[i] - mean) / sd;
    return 0;
}

int hv_dtw_znorm(const double *x, size_t n, double *out, unsigned simd)
{
    return hv__dtw_znorm(x, n, out, hv__dtw_use_avx2(simd));
}

/* --- Envelope (Lemire) --------------------------------------------------------------------- */

void hv_dtw_envelope(const double *x, size_t n, size_t r, double *upper, double *lower,
                     size_t *scratch)
{
    if (n == 0)
        return;
    if (r > n - 1)
        r = n - 1;
    /* Two monotone deques of indices (each index enters once, so n slots never wrap): du
     * holds decreasing values (front = window max), dl increasing (front = window min). */
    size_t *du = scratch, *dl = scratch + n;
    size_t uh = 0, ut = 0, lh = 0, lt = 0;
    for (size_t j = 0; j < n + r; j++) {
        if (j < n) {
            while (ut > uh && x[du[ut - 1]] <= x[j])
                ut--;
            du[ut++] = j;
            while (lt > lh && x[dl[lt - 1]] >= x[j])
                lt--;
            dl[lt++] = j;
        }
        if (j < r)
            continue;
        size_t i = j - r; /* window [i - r, i + r] is now complete */
        while (du[uh] + r < i)
            uh++;
        while (dl[lh] + r < i)
            lh++;
        upper[i] = x[du[uh]];
        lower[i] = x[dl[lh]];
    }
}

/* --- LB_Kim -------------------------------------------------------------------------------- */

static inline double sq(double v)
{
    return v * v;
}

static inline double min2(double a, double b)
{
    return b < a ? b : a;
}

/* Cheapest in-band cell of the front layer max(i, j) == k (k = 1 or 2). */
static double kim_front(const double *q, const double *c, size_t k, size_t r)
{
    double m = sq(q[k] - c[k]);
    for (size_t d = 1; d <= k && d <= r; d++) {
        m = min2(m, sq(q[k] - c[k - d]));
        m = min2(m, sq(q[k - d] - c[k]));
    }
    return m;
}

/* The same for the back layer (indices counted from the end). */
static double kim_back(const double *q, const double *c, size_t n, size_t k, size_t r)
{
    size_t e = n - 1 - k;
    double m = sq(q[e] - c[e]);
    for (size_t d = 1; d <= k && d <= r; d++) {
        m = min2(m, sq(q[e] - c[e + d]));
        m = min2(m, sq(q[e + d] - c[e]));
    }
    return m;
}

double hv__dtw_lb_kim(const double *q, const double *c, size_t n, size_t r, double thr)
{
    if (n == 0)
        return 0;
    double lb = sq(q[0] - c[0]);
    if (n == 1)
        return lb;
    lb += sq(q[n - 1] - c[n - 1]);
    /* Layers max(i, j) == k at the front and at the back are disjoint (and each holds one
     * cell of every path) while 2 * (k + 1) <= n. */
    for (size_t k = 1; k <= 2 && 2 * (k + 1) <= n; k++) {
        if (lb > thr)
            return lb;
        lb += kim_front(q, c, k, r);
        lb += kim_back(q, c, n, k, r);
    }
    return lb;
}

double hv_dtw_lb_kim(const double *q, const double *c, size_t n, size_t r)
{
    return hv__dtw_lb_kim(q, c, n, r, INFINITY);
}

/* --- LB_Keogh ------------------------------------------------------------------------------ */

/* The distance from x to [l, u]: exactly x - u above, x - l below, 0 inside (one of the two
 * terms is always an exact 0). */
static inline double keogh_gap(double x, double u, double l)
{
    double a = x - u, b = x - l;
    return (a > 0 ? a : 0) + (b < 0 ? b : 0);
}

static double lb_keogh_scalar(const double *x, const double *u, const double *l, size_t n,
                              double thr, double *terms)
{
    double acc[4] = { 0, 0, 0, 0 }, tail = 0;
    size_t n4 = n & ~(size_t)3, i = 0;
    while (i < n4) {
        size_t stop = i + 16 < n4 ? i + 16 : n4;
        for (; i < stop; i += 4) {
            for (int k = 0; k < 4; k++) {
                double g = keogh_gap(x[i + k], u[i + k], l[i + k]);
                double t = g * g;
                terms[i + k] = t;
                acc[k] += t;
            }
        }
        double part = (acc[0] + acc[1]) + (acc[2] + acc[3]);
        if (part > thr)
            return part;
    }
    for (; i < n; i++) {
        double g = keogh_gap(x[i], u[i], l[i]);
        terms[i] = g * g;
        tail += terms[i];
    }
    return lanes_total(acc, tail);
}

#if HV_DTW_X86
__attribute__((target("avx2"))) static double lb_keogh_avx2(const double *x, const double *u,
                                                            const double *l, size_t n, double thr,
                                                            double *terms)
{
    __m256d acc = _mm256_setzero_pd(), zero = _mm256_setzero_pd();
    size_t n4 = n & ~(size_t)3, i = 0;
    double lane[4], tail = 0;
    while (i < n4) {
        size_t stop = i + 16 < n4 ? i + 16 : n4;
        for (; i < stop; i += 4) {
            __m256d xv = _mm256_loadu_pd(x + i);
            __m256d a = _mm256_sub_pd(xv, _mm256_loadu_pd(u + i));
            __m256d b = _mm256_sub_pd(xv, _mm256_loadu_pd(l + i));
            /* Same selection as keogh_gap(): (a > 0 ? a : 0) + (b < 0 ? b : 0). */
            __m256d ga = _mm256_and_pd(a, _mm256_cmp_pd(a, zero, _CMP_GT_OQ));
            __m256d gb = _mm256_and_pd(b, _mm256_cmp_pd(b, zero, _CMP_LT_OQ));
            __m256d g = _mm256_add_pd(ga, gb);
            __m256d t = _mm256_mul_pd(g, g);
            _mm256_storeu_pd(terms + i, t);
            acc = _mm256_add_pd(acc, t);
        }
        _mm256_storeu_pd(lane, acc);
        double part = (lane[0] + lane[1]) + (lane[2] + lane[3]);
        if (part > thr)
            return part;
    }
    _mm256_storeu_pd(lane, acc);
    for (; i < n; i++) {
        double g = keogh_gap(x[i], u[i], l[i]);
        terms[i] = g * g;
        tail += terms[i];
    }
    return lanes_total(lane, tail);
}
#endif

double hv__dtw_lb_keogh(const double *x, const double *u, const double *l, size_t n, double thr,
                        double *terms, int avx2)
{
#if HV_DTW_X86
    if (avx2)
        return lb_keogh_avx2(x, u, l, n, thr, terms);
#endif
    (void)avx2;
    return lb_keogh_scalar(x, u, l, n, thr, terms);
}

double hv_dtw_lb_keogh(const double *x, const double *upper, const double *lower, size_t n,
                       unsigned simd)
{
    /* The public form has no scratch for the terms: recompute them in chunks on the stack. */
    double terms[64];
    int avx2 = hv__dtw_use_avx2(simd);
    double acc[4] = { 0, 0, 0, 0 }, tail = 0;
    size_t n4 = n & ~(size_t)3;
    /* Chunks of 64 keep the lane assignment i % 4, so the sum equals the one-pass sum. */
    for (size_t i = 0; i < n4; i += 64) {
        size_t m = n4 - i < 64 ? n4 - i : 64;
        hv__dtw_lb_keogh(x + i, upper + i, lower + i, m, INFINITY, terms, avx2);
        for (size_t j = 0; j < m; j += 4)
            for (int k = 0; k < 4; k++)
                acc[k] += terms[j + k];
    }
    for (size_t i = n4; i < n; i++) {
        double g = keogh_gap(x[i], upper[i], lower[i]);
        tail += g * g;
    }
    return lanes_total(acc, tail);
}

/* --- DTW ----------------------------------------------------------------------------------- */

static inline double min3(double a, double b, double c)
{
    double m = b < a ? b : a;
    return c < m ? c : m;
}

double hv__dtw_core(const double *a, const double *b, size_t n, size_t r, const double *cb,
                    double thr, double *rows, int *abandoned)
{
    *abandoned = 0;
    if (n == 0)
        return 0;
    if (r > n - 1)
        r = n - 1;
    /* Row arrays hold D[i][j] at index j + 1; index 0 is the column "-1" (INF, except the
     * virtual D[-1][-1] = 0 before the first row). Cells outside the band read INF. */
    double *prev = rows, *cur = rows + (n + 2);
    for (size_t j = 0; j < n + 2; j++) {
        prev[j] = INFINITY;
        cur[j] = INFINITY;
    }
    prev[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t jlo = i > r ? i - r : 0;
        size_t jhi = i + r < n - 1 ? i + r : n - 1;
        HV_DEBUG_ASSERT(jlo <= jhi && jhi < n); /* the band of row i, inside the rows */
        double ai = a[i], left = INFINITY, rowmin = INFINITY;
        cur[jlo] = INFINITY;
        for (size_t j = jlo; j <= jhi; j++) {
            double d = ai - b[j];
            double v = d * d + min3(prev[j], prev[j + 1], left);
            cur[j + 1] = v;
            left = v;
            rowmin = v < rowmin ? v : rowmin;
        }
        cur[jhi + 2 <= n + 1 ? jhi + 2 : n + 1] = INFINITY;
        if (cb != NULL) {
            size_t rest = i + r + 1 < n ? i + r + 1 : n;
            if (rowmin + cb[rest] > thr) {
                *abandoned = 1;
                return rowmin + cb[rest];
            }
        }
        double *t = prev;
        prev = cur;
        cur = t;
    }
    return prev[n];
}

#if HV_DTW_X86
__attribute__((target("avx2"))) void hv__dtw_core4(const double *q, const double *const *c,
                                                   unsigned m, size_t n, size_t r, const double *cb,
                                                   double thr, double *b, double *rows, double *d,
                                                   int *abandoned)
{
    if (r > n - 1)
        r = n - 1;
    /* Interleave the candidates: b[4j + l] = c[l][j]. */
    for (size_t j = 0; j < n; j++)
        _mm256_storeu_pd(b + 4 * j, _mm256_set_pd(c[3][j], c[2][j], c[1][j], c[0][j]));
    __m256d inf = _mm256_set1_pd(INFINITY), thrv = _mm256_set1_pd(thr);
    double *prev = rows, *cur = rows + 4 * (n + 2);
    for (size_t j = 0; j < n + 2; j++) {
        _mm256_storeu_pd(prev + 4 * j, inf);
        _mm256_storeu_pd(cur + 4 * j, inf);
    }
    _mm256_storeu_pd(prev, _mm256_setzero_pd());
    int used = (1 << m) - 1, dead = 0;
    const double *cbl[4];
    for (unsigned l = 0; l < 4; l++)
        cbl[l] = cb + (l < m ? l : 0) * (n + 1);
    for (size_t i = 0; i < n; i++) {
        size_t jlo = i > r ? i - r : 0;
        size_t jhi = i + r < n - 1 ? i + r : n - 1;
        __m256d ai = _mm256_set1_pd(q[i]), left = inf, rowmin = inf;
        _mm256_storeu_pd(cur + 4 * jlo, inf);
        for (size_t j = jlo; j <= jhi; j++) {
            /* Lane for lane the scalar recurrence: the same operations, the same order. */
            __m256d dd = _mm256_sub_pd(ai, _mm256_loadu_pd(b + 4 * j));
            __m256d mn =
                _mm256_min_pd(_mm256_loadu_pd(prev + 4 * (j + 1)), _mm256_loadu_pd(prev + 4 * j));
            mn = _mm256_min_pd(left, mn);
            __m256d v = _mm256_add_pd(_mm256_mul_pd(dd, dd), mn);
            _mm256_storeu_pd(cur + 4 * (j + 1), v);
            left = v;
            rowmin = _mm256_min_pd(v, rowmin);
        }
        _mm256_storeu_pd(cur + 4 * (jhi + 2 <= n + 1 ? jhi + 2 : n + 1), inf);
        size_t rest = i + r + 1 < n ? i + r + 1 : n;
        __m256d restv = _mm256_set_pd(cbl[3][rest], cbl[2][rest], cbl[1][rest], cbl[0][rest]);
        dead |= _mm256_movemask_pd(_mm256_cmp_pd(_mm256_add_pd(rowmin, restv), thrv, _CMP_GT_OQ));
        if ((dead & used) == used)
            break;
        double *t = prev;
        prev = cur;
        cur = t;
    }
    for (unsigned l = 0; l < m; l++) {
        abandoned[l] = (dead >> l) & 1;
        d[l] = abandoned[l] ? thr : prev[4 * n + l];
    }
}
#else
void hv__dtw_core4(const double *q, const double *const *c, unsigned m, size_t n, size_t r,
                   const double *cb, double thr, double *b, double *rows, double *d, int *abandoned)
{
    (void)b;
    for (unsigned l = 0; l < m; l++)
        d[l] = hv__dtw_core(q, c[l], n, r, cb + l * (n + 1), thr, rows, &abandoned[l]);
}
#endif

double hv_dtw_distance(const double *a, const double *b, size_t n, size_t r, double *rows)
{
    int abandoned;
    return hv__dtw_core(a, b, n, r, NULL, INFINITY, rows, &abandoned);
}

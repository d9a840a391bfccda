/*
 * Order statistics for the historical estimator: a top-k scan for small tails and introselect
 * (quickselect with median-of-3 pivots, a branchless partition and a heapsort fallback past
 * 2 log2 n levels) for the rest. Neither allocates.
 */
#include <string.h>

#include "risk/risk_int.h"

/* Inserts v (< buf[0]) into the descending buffer buf[0..k), dropping the old buf[0]. */
static void tail_insert(double *buf, size_t k, double v)
{
    size_t j = 0;
    while (j + 1 < k && buf[j + 1] > v) {
        buf[j] = buf[j + 1];
        j++;
    }
    buf[j] = v;
}

double hv__var_tail_scan(const double *x, size_t n, size_t k, double *sum)
{
    /* buf[0..m) holds the m smallest values seen, in descending order, so buf[0] is the
     * current k-th smallest: the one comparison most values fail. */
    double buf[HV_VAR_TAIL_SCAN_MAX];
    size_t m = 0, i = 0;
    for (; i < n && m < k; i++) {
        size_t j = m++;
        while (j > 0 && buf[j - 1] < x[i]) {
            buf[j] = buf[j - 1];
            j--;
        }
        buf[j] = x[i];
    }
    /* Blocks of 8: one (vectorisable) minimum and one well-predicted branch reject most. */
    for (; i + 8 <= n; i += 8) {
        const double *b = x + i;
        /* A tree of minimums: three dependent steps instead of seven. */
        double m0 = b[0] < b[1] ? b[0] : b[1], m1 = b[2] < b[3] ? b[2] : b[3];
        double m2 = b[4] < b[5] ? b[4] : b[5], m3 = b[6] < b[7] ? b[6] : b[7];
        m0 = m0 < m1 ? m0 : m1;
        m2 = m2 < m3 ? m2 : m3;
        if ((m0 < m2 ? m0 : m2) >= buf[0])
            continue;
        for (int j = 0; j < 8; j++)
            if (x[i + j] < buf[0])
                tail_insert(buf, k, x[i + j]);
    }
    for (; i < n; i++)
        if (x[i] < buf[0])
            tail_insert(buf, k, x[i]);
    double s = 0;
    for (size_t j = 0; j < k; j++)
        s += buf[j];
    *sum = s;
    return buf[0];
}

static void swap(double *a, double *b)
{
    double t = *a;
    *a = *b;
    *b = t;
}

static void insertion_sort(double *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void sift_down(double *a, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && a[c + 1] > a[c])
            c++;
        if (a[i] >= a[c])
            return;
        swap(&a[i], &a[c]);
        i = c;
    }
}

static void heapsort(double *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, n, i);
    for (size_t end = n; end-- > 1;) {
        swap(&a[0], &a[end]);
        sift_down(a, end, 0);
    }
}

void hv__var_select(double *a, size_t n, size_t kth)
{
    if (n < 2)
        return;
    size_t lo = 0, hi = n - 1;
    int depth = 2;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    while (hi - lo > 16) {
        if (depth-- == 0) {
            heapsort(a + lo, hi - lo + 1);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo])
            swap(&a[mid], &a[lo]);
        if (a[hi] < a[lo])
            swap(&a[hi], &a[lo]);
        if (a[hi] < a[mid])
            swap(&a[hi], &a[mid]);
        /* Median of three as the pivot, parked at a[hi]; then a branchless Lomuto partition:
         * every element is swapped into place and i advances only past smaller ones, so
         * random data costs no mispredicted branches. Leaves a[lo..i) < p <= a[i..hi]. */
        swap(&a[mid], &a[hi]);
        double p = a[hi];
        size_t i = lo;
        for (size_t t = lo; t < hi; t++) {
            double v = a[t];
            a[t] = a[i];
            a[i] = v;
            i += v < p;
        }
        a[hi] = a[i];
        a[i] = p;
        size_t j = i;
        if (j == kth)
            return;
        if (j > kth)
            hi = j - 1;
        else
            lo = j + 1;
    }
    insertion_sort(a + lo, hi - lo + 1);
}

void hv__var_historical_select(double *x, size_t n, double q, hv_var_es *out)
{
    size_t k = hv__var_tail_k(n, q);
    hv__var_select(x, n, k - 1);
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += x[i];
    out->var = -x[k - 1];
    out->es = -s / (double)k;
}

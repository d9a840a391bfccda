/*
 * Internal pieces of the risk engine shared by its files, the tests and the benchmark.
 */
#ifndef HV_RISK_RISK_INT_H
#define HV_RISK_RISK_INT_H

#include <math.h>
#include <stddef.h>

#include <hivewire/risk.h>
#include <hivewire/rng.h>

/* The historical tail holds at least one observation: n (1 - q) >= 1, with the same 1e-9
 * tolerance as hv__var_tail_k() (100 returns at 0.99 give 1.0000000000000009 or 0.99999...,
 * both "one"). Below it the q-quantile lies beyond the worst observed loss: HV_ETOOFEWOBS. */
static inline int hv__var_tail_ok(size_t n, double q)
{
    return n >= 1 && (double)n * (1.0 - q) >= 1.0 - 1e-9;
}

/* Tail size k = ceil(n (1 - q)) with a 1e-9 tolerance, clamped to [1, n] (n >= 1). */
static inline size_t hv__var_tail_k(size_t n, double q)
{
    double t = ceil((double)n * (1.0 - q) - 1e-9);
    if (t < 1)
        return 1;
    if (t > (double)n)
        return n;
    return (size_t)t;
}

/* The top-k scan beats quickselect while the tail is a small share of the sample: each scan
 * step is one compare, but the buffer insertions grow as k ln(n / k) times k. */
static inline int hv__var_use_scan(size_t n, size_t k)
{
    return k <= 2 || (k <= HV_VAR_TAIL_SCAN_MAX && 64 * k <= n);
}

static inline int hv__conf_ok(double q)
{
    return isfinite(q) && q > 0 && q < 1;
}

/* Neumaier compensated addition: the value is *sum + *comp. */
static inline void hv__nadd(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x))
        *comp += (*sum - t) + x;
    else
        *comp += (x - t) + *sum;
    *sum = t;
}

/* The k smallest of x[0..n) (k <= HV_VAR_TAIL_SCAN_MAX) by one scan with a sorted buffer:
 * returns the k-th smallest and sets *sum to the sum of the k smallest. x is not modified. */
double hv__var_tail_scan(const double *x, size_t n, size_t k, double *sum);

/* Introselect: reorders x[0..n) so that x[kth] holds the value of rank kth (0-based, ascending)
 * and x[0..kth) hold values <= it. */
void hv__var_select(double *x, size_t n, size_t kth);

/* Historical VaR/ES of the returns in x[0..n) by quickselect only (x is reordered). */
void hv__var_historical_select(double *x, size_t n, double q, hv_var_es *out);

/* Fills z[0..n) with standard normal deviates: Marsaglia's polar method, keeping both deviates
 * of each accepted pair (hv_rng_normal() returns one and drops the other), so half the
 * logarithms and square roots. Deterministic for the generator's state. */
static inline void hv__normal_fill(hv_rng *r, double *z, size_t n)
{
    size_t i = 0;
    while (i < n) {
        double u = 2.0 * hv_rng_uniform(r) - 1.0;
        double v = 2.0 * hv_rng_uniform(r) - 1.0;
        double s = u * u + v * v;
        if (!(s > 0.0 && s < 1.0))
            continue;
        double f = sqrt(-2.0 * log(s) / s);
        z[i++] = u * f;
        if (i < n)
            z[i++] = v * f;
    }
}

/* The historical estimator over n simulated returns in x (reordered). */
void hv__var_tail_of_sims(double *x, size_t n, double q, hv_var_es *out);

#endif

/*
 * hivewire: value at risk (VaR) and expected shortfall (ES).
 *
 * Conventions (every function): the inputs are per-period returns r (log or simple, the
 * caller's choice); the loss is L = -r. At confidence q in (0, 1), VaR is the q-quantile of L
 * and ES the mean of L beyond it, both reported as positive loss fractions (a VaR of 0.031
 * means "a loss of 3.1% of the position"; a negative value means even the tail is a gain).
 *
 * Methods:
 *  - historical: the empirical distribution. With n returns and k = ceil(n (1 - q)) (computed
 *    with a 1e-9 tolerance, so n (1 - q) that is an integer in exact arithmetic counts as
 *    one), VaR is the k-th largest loss and ES the mean of the k largest losses. Selection, not
 *    a sort: a bounded top-k scan when the tail is small (k <= 2, or k <= HV_VAR_TAIL_SCAN_MAX
 *    and 64 k <= n), else introselect (quickselect with median-of-3 pivots, a branchless
 *    partition and a heapsort fallback past 2 log2 n levels). Both give the same VaR.
 *  - gaussian: L ~ N(-m, s^2) with m the sample mean and s the sample stdev (n - 1):
 *    VaR = -m + s z, ES = -m + s phi(z) / (1 - q), z = Phi^-1(q).
 *  - cornish_fisher: the Gaussian quantile corrected for the losses' skewness S and excess
 *    kurtosis K (moment ratios m3 / m2^1.5 and m4 / m2^2 - 3 of the population central moments):
 *    z' = z + (z^2 - 1) S / 6 + (z^3 - 3z) K / 24 - (2z^3 - 5z) S^2 / 36, VaR = -m + s z',
 *    ES = -m + s E[z'(Z) | Z > z] (closed form in docs/MARKET_RISK.md). HV_ERANGE when the
 *    expansion is decreasing at z or gives ES < VaR (moments it cannot represent).
 *  - montecarlo: `sims` seeded draws from N(m, s^2) (one asset) or from N(mu, Sigma) through a
 *    Cholesky factor (a portfolio), then the historical estimator on the simulated losses.
 *    Normal deviates come from the caller's hv_rng by the polar method, both deviates of each
 *    accepted pair used.
 *
 * Every estimator returns HV_ERANGE instead of an infinite or NaN result when the inputs are so
 * large that the arithmetic overflows (|returns| beyond about 1e77 for the moments).
 *
 * No function here allocates except hv_var_roll_init(); the caller provides scratch memory.
 * Thread safety: no global state; objects belong to one thread at a time.
 */
#ifndef HIVEWIRE_RISK_H
#define HIVEWIRE_RISK_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/common.h>
#include <hivewire/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum hv_var_method {
    HV_VAR_HISTORICAL = 0,
    HV_VAR_GAUSSIAN = 1,
    HV_VAR_CORNISH_FISHER = 2,
    HV_VAR_MONTECARLO = 3,
} hv_var_method;

/* Minimum observations per method: below them, HV_ETOOFEWOBS. The historical method (static
 * and rolling) also needs n (1 - q) >= 1 (to 1e-9): at least one observation in the tail, so
 * 100 returns at q = 0.99, 20 at 0.95, 1000 at 0.999. */
#define HV_VAR_MIN_OBS_HISTORICAL 1
#define HV_VAR_MIN_OBS_GAUSSIAN   2
#define HV_VAR_MIN_OBS_CF         4
#define HV_VAR_MIN_OBS_MC         2

#define HV_VAR_TAIL_SCAN_MAX 32         /* largest tail size k served by the top-k scan */
#define HV_VAR_SIMS_MAX      (1u << 26) /* Monte Carlo draws bound */
#define HV_VAR_ASSETS_MAX    256        /* portfolio size bound */
#define HV_VAR_WINDOW_MAX    (1u << 24) /* rolling window bound */
#define HV_VAR_RETURN_MAX    1e6        /* largest |return| the rolling window accepts */

typedef struct hv_var_es {
    double var; /* positive loss fraction */
    double es;  /* positive loss fraction, >= var */
} hv_var_es;

/* Name of a method ("historical", "gaussian", "cornish-fisher", "montecarlo") and back.
 * hv_var_method_parse returns 0 or HV_EINVAL. */
HV_EXTERN const char *hv_var_method_name(hv_var_method m);
HV_EXTERN int hv_var_method_parse(const char *s, hv_var_method *out);

/* Standard normal quantile Phi^-1(p) for p in (0, 1) (Acklam's rational approximation plus
 * one Halley step: relative error below 1e-14); NaN outside. Density and CDF alongside. */
HV_EXTERN double hv_norm_quantile(double p);
HV_EXTERN double hv_norm_pdf(double x);
HV_EXTERN double hv_norm_cdf(double x);

/* Sample moments of x[0..n): mean, stdev (n - 1), and the population skewness and excess
 * kurtosis (0 when the variance is 0). Two-pass. Returns 0, HV_ETOOFEWOBS (n < 2),
 * HV_EINVAL (a value not finite), HV_ERANGE (the sums overflow; the third and fourth powers
 * only matter when skew or exkurt is asked for). Any output pointer may be NULL. */
HV_EXTERN int hv_moments(const double *x, size_t n, double *mean, double *sd, double *skew,
                         double *exkurt);

/* Historical VaR/ES of returns[0..n) at q. scratch holds n doubles (overwritten; it may not
 * alias returns). O(n) expected, no allocation. Returns 0, HV_EBADCONF, HV_ETOOFEWOBS (n == 0, or
 * n (1 - q) < 1: the tail would hold no observation),
 * HV_EINVAL (NULL pointer, non-finite return), HV_ERANGE (the tail's sum overflows). */
HV_EXTERN int hv_var_historical(const double *returns, size_t n, double q, double *scratch,
                                hv_var_es *out);

/* Gaussian VaR/ES from returns, or from given mean and stdev of returns (sd >= 0).
 * Returns 0, HV_EBADCONF, HV_ETOOFEWOBS (n < 2), HV_EINVAL, HV_ERANGE (overflow). */
HV_EXTERN int hv_var_gaussian(const double *returns, size_t n, double q, hv_var_es *out);
HV_EXTERN int hv_var_gaussian_params(double mean, double sd, double q, hv_var_es *out);

/* Cornish-Fisher VaR/ES from returns, or from the returns' mean, stdev, skewness and excess
 * kurtosis (the function flips the skew to the losses' side itself). Returns 0, HV_EBADCONF,
 * HV_ETOOFEWOBS (n < 4), HV_EINVAL, HV_ERANGE (expansion decreasing at z, or ES < VaR). */
HV_EXTERN int hv_var_cornish_fisher(const double *returns, size_t n, double q, hv_var_es *out);
HV_EXTERN int hv_var_cornish_fisher_params(double mean, double sd, double skew, double exkurt,
                                           double q, hv_var_es *out);

/* Monte Carlo VaR/ES for one asset: fits N(mean, sd^2) to returns and draws `sims` returns
 * with rng into scratch[0..sims). Deterministic for a seed. Returns 0, HV_EBADCONF,
 * HV_ETOOFEWOBS (n < 2, or sims (1 - q) < 1: no draw would fall in the tail, the same rule
 * as the historical method's), HV_EINVAL (sims 0 or above HV_VAR_SIMS_MAX, NULL pointers),
 * HV_ERANGE (overflow). */
HV_EXTERN int hv_var_montecarlo(const double *returns, size_t n, double q, hv_rng *rng, size_t sims,
                                double *scratch, hv_var_es *out);

/* Cholesky factor of a symmetric positive-definite n x n matrix a (row-major): writes the
 * lower-triangular l (row-major, zeros above the diagonal) with a = l l^T. Only the lower
 * triangle of a is read. l may not alias a. Returns 0, HV_EINVAL (n == 0 or above
 * HV_VAR_ASSETS_MAX, non-finite entry), HV_ENOTPOSDEF (a pivot <= n * DBL_EPSILON * the
 * largest diagonal entry, or not finite: a is not numerically positive definite). */
HV_EXTERN int hv_cholesky(const double *a, size_t n, double *l);

/* Sample mean vector and covariance matrix (n - 1) of nobs rows of nassets returns
 * (row-major: returns[i * nassets + j]). cov is nassets x nassets row-major. Returns 0,
 * HV_ETOOFEWOBS (nobs < 2), HV_EINVAL. */
HV_EXTERN int hv_covariance(const double *returns, size_t nobs, size_t nassets, double *mean,
                            double *cov);

/* Monte Carlo VaR/ES of a portfolio with weights w over nassets assets whose returns are
 * N(mean, L L^T), chol = L from hv_cholesky(). The portfolio return of a draw is w . (mean + L z).
 * scratch holds sims + nassets doubles. Returns 0, HV_EBADCONF, HV_ETOOFEWOBS (sims (1 - q) < 1),
 * HV_EINVAL, HV_ERANGE (overflow). */
HV_EXTERN int hv_var_montecarlo_portfolio(const double *w, const double *mean, const double *chol,
                                          size_t nassets, double q, hv_rng *rng, size_t sims,
                                          double *scratch, hv_var_es *out);

/* Gaussian VaR/ES of the same portfolio in closed form (m = w . mean, s^2 = w^T Sigma w with
 * Sigma = L L^T). Returns 0, HV_EBADCONF, HV_EINVAL. */
HV_EXTERN int hv_var_gaussian_portfolio(const double *w, const double *mean, const double *chol,
                                        size_t nassets, double q, hv_var_es *out);

/* One entry point for every single-asset method (the CLI uses it). */
typedef struct hv_var_opts {
    size_t size; /* sizeof(hv_var_opts) */
    hv_var_method method;
    double confidence; /* q in (0, 1) */
    size_t mc_sims;    /* Monte Carlo draws, 0 = 100,000 */
    uint64_t mc_seed;  /* Monte Carlo seed */
} hv_var_opts;

/* Defaults: historical at 0.99, 100,000 Monte Carlo draws, seed 1. */
HV_EXTERN void hv_var_opts_default(hv_var_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size,
 * method, confidence outside (0, 1), mc_sims above HV_VAR_SIMS_MAX). Pure; any thread. */
HV_EXTERN int hv_var_opts_check(const hv_var_opts *o, hv_field_error *err);

/* Doubles of scratch hv_var_estimate() needs for n returns. */
HV_EXTERN size_t hv_var_scratch_len(const hv_var_opts *o, size_t n);

/* Runs the chosen method. scratch holds hv_var_scratch_len() doubles. Returns what the method
 * returns, plus HV_EBADCONF when hv_var_opts_check() refuses the confidence, HV_EINVAL when it
 * refuses another field, HV_ENOBUFS for short scratch. */
HV_EXTERN int hv_var_estimate(const double *returns, size_t n, const hv_var_opts *o,
                              double *scratch, size_t scratch_len, hv_var_es *out);

/* ---------------------------------------------------------------------------------------------
 * Rolling window: VaR/ES over the last `window` returns, updated per new return.
 *
 * hv_var_roll_push() is O(log window): the ring drops its oldest return; the losses are split
 * between a min-heap holding the k largest (k = ceil(n (1 - q)) for the current count n) and a
 * max-heap holding the rest, both indexed by ring slot so the leaving return is deleted in
 * place; the sum of the top k and the shifted power sums of the returns (for the Gaussian and
 * Cornish-Fisher moments) are updated with compensated (Neumaier) summation and rebuilt from
 * the ring every `window` pushes, so rounding never drifts. Queries are O(1).
 * Results equal the static functions' on the same window (historical VaR exactly; the others
 * to rounding).
 */
typedef struct hv_var_roll {
    size_t window; /* capacity */
    double q;
    size_t n;         /* returns held, <= window */
    size_t head;      /* ring slot of the next push */
    size_t k;         /* current tail size */
    double *ring;     /* returns by slot */
    uint32_t *heap_t; /* min-heap of slots with the k largest losses */
    uint32_t *heap_r; /* max-heap of the other slots */
    uint32_t *pos;    /* each slot's index in its heap */
    uint8_t *side;    /* 1: slot is in heap_t */
    size_t nt, nr;
    double top_sum, top_comp; /* compensated sum of the k largest losses */
    double shift;             /* power sums are of (r - shift) */
    double ps[4], pc[4];      /* compensated power sums 1..4 */
    size_t since_rebuild;
    uint64_t pushes;
} hv_var_roll;

/* Allocates the window's memory once (about 25 bytes per slot). Returns 0, HV_EBADCONF,
 * HV_EINVAL (window 0 or above HV_VAR_WINDOW_MAX), HV_ENOMEM. Free with hv_var_roll_fini(). */
HV_EXTERN int hv_var_roll_init(hv_var_roll *r, size_t window, double q);
HV_EXTERN void hv_var_roll_fini(hv_var_roll *r);

/* Forgets every return, keeping the memory. */
HV_EXTERN void hv_var_roll_reset(hv_var_roll *r);

/* Adds one return (evicting the oldest when full). Returns 0, HV_EINVAL for a non-finite
 * value or HV_ERANGE for |ret| > HV_VAR_RETURN_MAX (either is not added: the power sums must
 * not overflow). O(log window), no allocation. */
HV_EXTERN int hv_var_roll_push(hv_var_roll *r, double ret);

/* VaR/ES over the current window. Return 0 or HV_ETOOFEWOBS (below the method's minimum; for
 * historical also while n (1 - q) < 1, so a window smaller than 1 / (1 - q) never gives a
 * historical VaR); Cornish-Fisher also HV_ERANGE. O(1). */
HV_EXTERN int hv_var_roll_historical(const hv_var_roll *r, hv_var_es *out);
HV_EXTERN int hv_var_roll_gaussian(const hv_var_roll *r, hv_var_es *out);
HV_EXTERN int hv_var_roll_cornish_fisher(const hv_var_roll *r, hv_var_es *out);

/* The window's moments (as hv_moments()). Returns 0 or HV_ETOOFEWOBS (n < 2). */
HV_EXTERN int hv_var_roll_moments(const hv_var_roll *r, double *mean, double *sd, double *skew,
                                  double *exkurt);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_RISK_H */

/*
 * Static VaR / ES: historical, Gaussian, Cornish-Fisher, single-asset Monte Carlo, and the
 * dispatching entry point.
 */
#include <float.h>
#include <string.h>

#include <hivewire/rng.h>

#include "core/field.h"
#include "risk/risk_int.h"

static const char *const method_names[] = { "historical", "gaussian", "cornish-fisher",
                                            "montecarlo" };

const char *hv_var_method_name(hv_var_method m)
{
    if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
        return "unknown";
    return method_names[m];
}

int hv_var_method_parse(const char *s, hv_var_method *out)
{
    if (s == NULL)
        return HV_EINVAL;
    for (unsigned i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++) {
        if (strcmp(s, method_names[i]) == 0) {
            *out = (hv_var_method)i;
            return 0;
        }
    }
    if (strcmp(s, "cf") == 0 || strcmp(s, "cornish_fisher") == 0) {
        *out = HV_VAR_CORNISH_FISHER;
        return 0;
    }
    if (strcmp(s, "mc") == 0 || strcmp(s, "monte-carlo") == 0) {
        *out = HV_VAR_MONTECARLO;
        return 0;
    }
    return HV_EINVAL;
}

/* 1 if every value is finite: an exponent field of all ones marks an infinity or a NaN, and
 * adding one to the exponent field carries into the sign bit exactly then. Integer AND, ADD
 * and OR with no floating-point dependency chain: the loop vectorises even on plain SSE2. */
static int all_finite(const double *x, size_t n)
{
    const uint64_t exp_mask = 0x7ff0000000000000ull, exp_one = 0x0010000000000000ull;
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &x[i], sizeof(bits));
        bad |= (bits & exp_mask) + exp_one;
    }
    return (bad >> 63) == 0;
}

/* Sums with four independent accumulators, so the additions pipeline instead of waiting on
 * one another: the sum of x, and the sums of the 2nd to 4th powers of x - m. */
static double sum4(const double *x, size_t n)
{
    double a[4] = { 0, 0, 0, 0 };
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int j = 0; j < 4; j++)
            a[j] += x[i + j];
    for (; i < n; i++)
        a[0] += x[i];
    return (a[0] + a[1]) + (a[2] + a[3]);
}

static void central4(const double *x, size_t n, double m, double out[3])
{
    double s2[4] = { 0, 0, 0, 0 }, s3[4] = { 0, 0, 0, 0 }, s4[4] = { 0, 0, 0, 0 };
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int j = 0; j < 4; j++) {
            double d = x[i + j] - m, d2 = d * d;
            s2[j] += d2;
            s3[j] += d2 * d;
            s4[j] += d2 * d2;
        }
    }
    for (; i < n; i++) {
        double d = x[i] - m, d2 = d * d;
        s2[0] += d2;
        s3[0] += d2 * d;
        s4[0] += d2 * d2;
    }
    out[0] = (s2[0] + s2[1]) + (s2[2] + s2[3]);
    out[1] = (s3[0] + s3[1]) + (s3[2] + s3[3]);
    out[2] = (s4[0] + s4[1]) + (s4[2] + s4[3]);
}

int hv_moments(const double *x, size_t n, double *mean, double *sd, double *skew, double *exkurt)
{
    if (x == NULL && n > 0)
        return HV_EINVAL;
    if (n < 2)
        return HV_ETOOFEWOBS;
    /* A NaN or an infinity makes the sum non-finite, so only then is each value checked
     * (to tell a bad value from finite values whose sum overflows). */
    double s = sum4(x, n);
    if (!isfinite(s))
        return all_finite(x, n) ? HV_ERANGE : HV_EINVAL;
    double nn = (double)n, m = s / nn, c[3];
    central4(x, n, m, c);
    /* Returns so large that their powers overflow (|r| beyond ~1e77) have no usable moments. */
    if (!isfinite(c[0]) ||
        ((skew != NULL || exkurt != NULL) && !(isfinite(c[1]) && isfinite(c[2]))))
        return HV_ERANGE;
    if (mean != NULL)
        *mean = m;
    if (sd != NULL)
        *sd = sqrt(c[0] / (nn - 1));
    double v = c[0] / nn;
    if (skew != NULL)
        *skew = v > 0 ? (c[1] / nn) / (v * sqrt(v)) : 0;
    if (exkurt != NULL)
        *exkurt = v > 0 ? (c[2] / nn) / (v * v) - 3 : 0;
    return 0;
}

int hv_var_historical(const double *returns, size_t n, double q, double *scratch, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (out == NULL || (returns == NULL && n > 0))
        return HV_EINVAL;
    if (n < HV_VAR_MIN_OBS_HISTORICAL)
        return HV_ETOOFEWOBS;
    if (!all_finite(returns, n))
        return HV_EINVAL;
    if (!hv__var_tail_ok(n, q))
        return HV_ETOOFEWOBS; /* fewer than one observation beyond the quantile */
    size_t k = hv__var_tail_k(n, q);
    if (hv__var_use_scan(n, k)) {
        double sum;
        out->var = -hv__var_tail_scan(returns, n, k, &sum);
        out->es = -sum / (double)k;
    } else {
        if (scratch == NULL)
            return HV_EINVAL;
        memcpy(scratch, returns, n * sizeof(double));
        hv__var_historical_select(scratch, n, q, out);
    }
    return isfinite(out->es) ? 0 : HV_ERANGE; /* the tail's sum overflowed */
}

int hv_var_gaussian_params(double mean, double sd, double q, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (out == NULL || !isfinite(mean) || !isfinite(sd) || sd < 0)
        return HV_EINVAL;
    double z = hv_norm_quantile(q);
    out->var = -mean + sd * z;
    out->es = -mean + sd * hv_norm_pdf(z) / (1 - q);
    return isfinite(out->var) && isfinite(out->es) ? 0 : HV_ERANGE;
}

int hv_var_gaussian(const double *returns, size_t n, double q, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    double m, sd;
    int rv = hv_moments(returns, n, &m, &sd, NULL, NULL);
    if (rv != 0)
        return rv;
    return hv_var_gaussian_params(m, sd, q, out);
}

/* The Cornish-Fisher map z -> z' is a cubic. Where its derivative A z^2 + B z + C is not
 * positive at z, a higher confidence would give a lower VaR: the moments are outside what the
 * expansion can represent. */
static int cf_increasing_at(double z, double a, double b, double c)
{
    double A = 3 * b - 6 * c, B = 2 * a, C = 1 - 3 * b + 5 * c;
    return A * z * z + B * z + C > 0;
}

int hv_var_cornish_fisher_params(double mean, double sd, double skew, double exkurt, double q,
                                 hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (out == NULL || !isfinite(mean) || !isfinite(sd) || sd < 0 || !isfinite(skew) ||
        !isfinite(exkurt))
        return HV_EINVAL;
    /* Losses are -returns: their skewness is the returns' with the sign flipped. */
    double s = -skew, z = hv_norm_quantile(q), p = 1 - q;
    double a = s / 6, b = exkurt / 24, c = s * s / 36;
    if (!cf_increasing_at(z, a, b, c))
        return HV_ERANGE;
    double z2 = z * z, z3 = z2 * z;
    double zcf = z + a * (z2 - 1) + b * (z3 - 3 * z) - c * (2 * z3 - 5 * z);
    /* Tail moments of Z beyond z: E[Z^j | Z > z] for j = 1, 2, 3. */
    double phi = hv_norm_pdf(z);
    double m1 = phi / p, m2 = 1 + z * phi / p, m3 = (z2 + 2) * phi / p;
    double ecf = m1 + a * (m2 - 1) + b * (m3 - 3 * m1) - c * (2 * m3 - 5 * m1);
    if (ecf < zcf)
        return HV_ERANGE;
    out->var = -mean + sd * zcf;
    out->es = -mean + sd * ecf;
    return isfinite(out->var) && isfinite(out->es) ? 0 : HV_ERANGE;
}

int hv_var_cornish_fisher(const double *returns, size_t n, double q, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (out == NULL || (returns == NULL && n > 0))
        return HV_EINVAL;
    if (n < HV_VAR_MIN_OBS_CF)
        return HV_ETOOFEWOBS;
    double m, sd, sk, ku;
    int rv = hv_moments(returns, n, &m, &sd, &sk, &ku);
    if (rv != 0)
        return rv;
    return hv_var_cornish_fisher_params(m, sd, sk, ku, q, out);
}

/* Historical estimator over simulated returns in x (reordered). */
static void tail_of(double *x, size_t n, double q, hv_var_es *out)
{
    size_t k = hv__var_tail_k(n, q);
    if (hv__var_use_scan(n, k)) {
        double sum;
        out->var = -hv__var_tail_scan(x, n, k, &sum);
        out->es = -sum / (double)k;
        return;
    }
    hv__var_historical_select(x, n, q, out);
}

int hv_var_montecarlo(const double *returns, size_t n, double q, hv_rng *rng, size_t sims,
                      double *scratch, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (rng == NULL || scratch == NULL || out == NULL || sims == 0 || sims > HV_VAR_SIMS_MAX)
        return HV_EINVAL;
    if (!hv__var_tail_ok(sims, q))
        return HV_ETOOFEWOBS; /* no draw would land beyond the quantile */
    double m, sd;
    int rv = hv_moments(returns, n, &m, &sd, NULL, NULL);
    if (rv != 0)
        return rv;
    hv__normal_fill(rng, scratch, sims);
    for (size_t i = 0; i < sims; i++)
        scratch[i] = m + sd * scratch[i];
    tail_of(scratch, sims, q, out);
    return isfinite(out->var) && isfinite(out->es) ? 0 : HV_ERANGE;
}

void hv__var_tail_of_sims(double *x, size_t n, double q, hv_var_es *out)
{
    tail_of(x, n, q, out);
}

#define DEFAULT_SIMS 100000

size_t hv_var_scratch_len(const hv_var_opts *o, size_t n)
{
    if (o != NULL && o->method == HV_VAR_MONTECARLO)
        return o->mc_sims ? o->mc_sims : DEFAULT_SIMS;
    return n;
}

void hv_var_opts_default(hv_var_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->method = HV_VAR_HISTORICAL;
    o->confidence = 0.99;
    o->mc_sims = DEFAULT_SIMS;
    o->mc_seed = 1;
}

int hv_var_opts_check(const hv_var_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_var_opts)");
    if (o->method < HV_VAR_HISTORICAL || o->method > HV_VAR_MONTECARLO)
        return hv__field_fail(err, "method", "must be an hv_var_method value");
    if (!(o->confidence > 0 && o->confidence < 1))
        return hv__field_fail(err, "confidence", "must lie in (0, 1)");
    if (o->mc_sims > HV_VAR_SIMS_MAX)
        return hv__field_fail(err, "mc_sims", "must be 0 (default 100,000) or at most 2^26");
    return 0;
}

int hv_var_estimate(const double *returns, size_t n, const hv_var_opts *o, double *scratch,
                    size_t scratch_len, hv_var_es *out)
{
    hv_field_error fe;
    if (hv_var_opts_check(o, &fe) != 0)
        return strcmp(fe.field, "confidence") == 0 ? HV_EBADCONF : HV_EINVAL;
    if (scratch_len < hv_var_scratch_len(o, n))
        return HV_ENOBUFS;
    double q = o->confidence;
    switch (o->method) {
    case HV_VAR_HISTORICAL:
        return hv_var_historical(returns, n, q, scratch, out);
    case HV_VAR_GAUSSIAN:
        return hv_var_gaussian(returns, n, q, out);
    case HV_VAR_CORNISH_FISHER:
        return hv_var_cornish_fisher(returns, n, q, out);
    case HV_VAR_MONTECARLO: {
        hv_rng rng;
        hv_rng_seed(&rng, o->mc_seed);
        return hv_var_montecarlo(returns, n, q, &rng, o->mc_sims ? o->mc_sims : DEFAULT_SIMS,
                                 scratch, out);
    }
    }
    return HV_EINVAL;
}

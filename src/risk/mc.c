/*
 * Multi-asset pieces: covariance, Cholesky factor, portfolio Monte Carlo and its Gaussian
 * closed form.
 */
#include <float.h>
#include <string.h>

#include <hivewire/rng.h>

#include "risk/risk_int.h"

int hv_cholesky(const double *a, size_t n, double *l)
{
    if (a == NULL || l == NULL || n == 0 || n > HV_VAR_ASSETS_MAX)
        return HV_EINVAL;
    double dmax = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j <= i; j++)
            if (!isfinite(a[i * n + j]))
                return HV_EINVAL;
        dmax = fmax(dmax, fabs(a[i * n + i]));
    }
    const double tol = (double)n * DBL_EPSILON * dmax;
    memset(l, 0, n * n * sizeof(double));
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t k = 0; k < j; k++)
            d -= l[j * n + k] * l[j * n + k];
        if (!(d > tol) || !isfinite(d))
            return HV_ENOTPOSDEF;
        double ljj = sqrt(d);
        l[j * n + j] = ljj;
        for (size_t i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (size_t k = 0; k < j; k++)
                s -= l[i * n + k] * l[j * n + k];
            l[i * n + j] = s / ljj;
        }
    }
    return 0;
}

int hv_covariance(const double *x, size_t nobs, size_t nassets, double *mean, double *cov)
{
    if (x == NULL || mean == NULL || cov == NULL || nassets == 0 || nassets > HV_VAR_ASSETS_MAX)
        return HV_EINVAL;
    if (nobs < 2)
        return HV_ETOOFEWOBS;
    for (size_t j = 0; j < nassets; j++) {
        double s = 0;
        for (size_t i = 0; i < nobs; i++)
            s += x[i * nassets + j];
        if (!isfinite(s))
            return HV_EINVAL;
        mean[j] = s / (double)nobs;
    }
    for (size_t j = 0; j < nassets; j++) {
        for (size_t k = 0; k <= j; k++) {
            double s = 0;
            for (size_t i = 0; i < nobs; i++)
                s += (x[i * nassets + j] - mean[j]) * (x[i * nassets + k] - mean[k]);
            cov[j * nassets + k] = cov[k * nassets + j] = s / (double)(nobs - 1);
        }
    }
    return 0;
}

static int portfolio_args_ok(const double *w, const double *mean, const double *chol,
                             size_t nassets)
{
    if (w == NULL || mean == NULL || chol == NULL || nassets == 0 || nassets > HV_VAR_ASSETS_MAX)
        return 0;
    for (size_t i = 0; i < nassets; i++)
        if (!isfinite(w[i]) || !isfinite(mean[i]))
            return 0;
    return 1;
}

int hv_var_montecarlo_portfolio(const double *w, const double *mean, const double *chol,
                                size_t nassets, double q, hv_rng *rng, size_t sims, double *scratch,
                                hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (!portfolio_args_ok(w, mean, chol, nassets) || rng == NULL || scratch == NULL ||
        out == NULL || sims == 0 || sims > HV_VAR_SIMS_MAX)
        return HV_EINVAL;
    if (!hv__var_tail_ok(sims, q))
        return HV_ETOOFEWOBS; /* no draw would land beyond the quantile */
    double wm = 0;
    for (size_t j = 0; j < nassets; j++)
        wm += w[j] * mean[j];
    double *z = scratch + sims;
    for (size_t s = 0; s < sims; s++) {
        hv__normal_fill(rng, z, nassets);
        /* Asset j's return is mean[j] + sum_{i <= j} L[j][i] z[i]; the portfolio's is w . x. */
        double port = wm;
        for (size_t j = 0; j < nassets; j++) {
            double x = 0;
            const double *row = chol + j * nassets;
            for (size_t i = 0; i <= j; i++)
                x += row[i] * z[i];
            port += w[j] * x;
        }
        scratch[s] = port;
    }
    hv__var_tail_of_sims(scratch, sims, q, out);
    return isfinite(out->var) && isfinite(out->es) ? 0 : HV_ERANGE;
}

int hv_var_gaussian_portfolio(const double *w, const double *mean, const double *chol,
                              size_t nassets, double q, hv_var_es *out)
{
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (!portfolio_args_ok(w, mean, chol, nassets) || out == NULL)
        return HV_EINVAL;
    /* s^2 = w^T L L^T w = |L^T w|^2. */
    double m = 0, s2 = 0;
    for (size_t j = 0; j < nassets; j++)
        m += w[j] * mean[j];
    for (size_t i = 0; i < nassets; i++) {
        double v = 0;
        for (size_t j = i; j < nassets; j++)
            v += chol[j * nassets + i] * w[j];
        s2 += v * v;
    }
    return hv_var_gaussian_params(m, sqrt(s2), q, out);
}

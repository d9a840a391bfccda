/*
 * The standard normal distribution: density, CDF and quantile.
 */
#include <math.h>

#include "risk/risk_int.h"

#define SQRT_2PI 2.50662827463100050242

double hv_norm_pdf(double x)
{
    return exp(-0.5 * x * x) / SQRT_2PI;
}

double hv_norm_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

/* Acklam's rational approximation (relative error 1.15e-9), refined by one Halley step on
 * erfc, which brings it to full double precision. */
double hv_norm_quantile(double p)
{
    static const double a[6] = { -3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[5] = { -5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01 };
    static const double c[6] = { -7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00 };
    static const double d[4] = { 7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00 };
    const double plow = 0.02425;
    if (!(p > 0 && p < 1))
        return NAN;
    double x;
    if (p < plow || p > 1 - plow) {
        double t = sqrt(-2 * log(p < plow ? p : 1 - p));
        x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) /
            ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
        if (p > plow)
            x = -x;
    } else {
        double t = p - 0.5, r = t * t;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * t /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    /* Halley step. In the upper tail, work with the complement to keep precision. */
    double e = p > 0.5 ? -(0.5 * erfc(x / M_SQRT2) - (1 - p)) : 0.5 * erfc(-x / M_SQRT2) - p;
    double u = e * SQRT_2PI * exp(0.5 * x * x);
    return x - u / (1 + 0.5 * x * u);
}

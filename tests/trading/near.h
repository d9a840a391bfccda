/* assert_near(a, b, eps): cmocka 1.1.5 has no double comparison; this one prints both values. */
#ifndef HV_TESTS_TRADING_NEAR_H
#define HV_TESTS_TRADING_NEAR_H

#include <math.h>

#include "hv_test.h"

static inline void hv__assert_near(double a, double b, double eps, const char *file, int line)
{
    if (fabs(a - b) <= eps)
        return;
    print_error("%.17g != %.17g (eps %g)\n", a, b, eps);
    _fail(file, line);
}

#define assert_near(a, b, eps) \
    hv__assert_near((double)(a), (double)(b), (double)(eps), __FILE__, __LINE__)

#endif

/*
 * Bar series and column containers, civil dates, log returns.
 */
#include <limits.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

/* Growth shared by both containers: doubles the capacity (at least 64), checked for overflow. */
static int grow(void **data, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap < 64 ? 64 : *cap;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return HV_EOVERFLOW;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return HV_EOVERFLOW;
    void *p = realloc(*data, ncap * elem);
    if (p == NULL)
        return HV_ENOMEM;
    *data = p;
    *cap = ncap;
    return 0;
}

void hv_series_init(hv_series *s)
{
    s->bars = NULL;
    s->len = 0;
    s->cap = 0;
}

void hv_series_fini(hv_series *s)
{
    free(s->bars);
    hv_series_init(s);
}

int hv_series_reserve(hv_series *s, size_t n)
{
    void *p = s->bars;
    int rv = grow(&p, &s->cap, n, sizeof(hv_bar));
    s->bars = p;
    return rv;
}

int hv_series_push(hv_series *s, const hv_bar *b)
{
    if (s->len == SIZE_MAX)
        return HV_EOVERFLOW;
    int rv = hv_series_reserve(s, s->len + 1);
    if (rv != 0)
        return rv;
    s->bars[s->len++] = *b;
    return 0;
}

void hv_column_init(hv_column *c)
{
    c->v = NULL;
    c->len = 0;
    c->cap = 0;
}

void hv_column_fini(hv_column *c)
{
    free(c->v);
    hv_column_init(c);
}

int hv_column_push(hv_column *c, double x)
{
    if (c->len == SIZE_MAX)
        return HV_EOVERFLOW;
    void *p = c->v;
    int rv = grow(&p, &c->cap, c->len + 1, sizeof(double));
    c->v = p;
    if (rv != 0)
        return rv;
    c->v[c->len++] = x;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms). */
int hv_date_to_day(int year, int month, int day, int32_t *out)
{
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month))
        return HV_ERANGE;
    int y = year - (month <= 2);
    int era = y / 400; /* y >= 0 here */
    int yoe = y - era * 400;
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    *out = (int32_t)(era * 146097 + doe - 719468);
    return 0;
}

void hv_day_to_date(int32_t days, int *year, int *month, int *day)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

void hv_day_format(int32_t days, char buf[11])
{
    int y, m, d;
    hv_day_to_date(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        snprintf(buf, 11, "%s", "outofrange");
    else
        snprintf(buf, 11, "%04d-%02d-%02d", y, m, d);
}

int hv_log_returns(const double *prices, size_t n, double *out)
{
    if (n < 2)
        return 0;
    if (n - 1 > (size_t)INT_MAX)
        return HV_EOVERFLOW;
    double prev = prices[0];
    if (!(isfinite(prev) && prev > 0))
        return HV_EINVAL;
    for (size_t i = 1; i < n; i++) {
        double p = prices[i];
        if (!(isfinite(p) && p > 0))
            return HV_EINVAL;
        /* p / prev can underflow or overflow for extreme (but valid) prices; the difference of
         * logs is then the exact-enough answer instead of -inf or +inf. */
        double ratio = p / prev;
        out[i - 1] = (ratio >= DBL_MIN && ratio <= DBL_MAX) ? log(ratio) : log(p) - log(prev);
        prev = p;
    }
    return (int)(n - 1);
}

int hv_series_log_returns(const hv_series *s, int use_adj, double *out, size_t cap)
{
    if (s->len < 2)
        return 0;
    if (s->len - 1 > (size_t)INT_MAX)
        return HV_EOVERFLOW;
    if (cap < s->len - 1)
        return HV_ENOBUFS;
    for (size_t i = 1; i < s->len; i++) {
        double a = use_adj ? s->bars[i - 1].adjclose : s->bars[i - 1].close;
        double b = use_adj ? s->bars[i].adjclose : s->bars[i].close;
        if (!(isfinite(a) && a > 0 && isfinite(b) && b > 0))
            return HV_EINVAL;
        out[i - 1] = log(b / a);
    }
    return (int)(s->len - 1);
}

/*
 * Seeded synthetic bars: geometric Brownian motion with optional two-state volatility regimes,
 * and the fit of its parameters to a real series.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

void hv_gbm_defaults(hv_gbm_params *p)
{
    memset(p, 0, sizeof(*p));
    p->mu = 0.08 / HV_TRADING_DAYS_YEAR;
    p->sigma = 0.18 / sqrt(HV_TRADING_DAYS_YEAR);
    p->regime_sigma[0] = 0.7 * p->sigma;
    p->regime_sigma[1] = 1.8 * p->sigma;
    p->p_leave[0] = 0.02;
    p->p_leave[1] = 0.05;
    p->log_volume_mean = log(1e9);
    p->log_volume_sd = 0.3;
    p->start_price = 100.0;
    hv_date_to_day(2000, 1, 3, &p->start_day);
    p->substeps = 8;
}

/* 0 = Sunday .. 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday(int32_t day)
{
    int w = (int)(((int64_t)day + 4) % 7);
    return w < 0 ? w + 7 : w;
}

static int32_t next_weekday(int32_t day)
{
    while (weekday(day) == 0 || weekday(day) == 6)
        day++;
    return day;
}

/* Mean and sample stdev of x[0..n) (n >= 2). */
static void moments(const double *x, size_t n, double *mean, double *sd)
{
    double m = 0, m2 = 0;
    for (size_t i = 0; i < n; i++) { /* Welford: stable for long series */
        double d = x[i] - m;
        m += d / (double)(i + 1);
        m2 += d * (x[i] - m);
    }
    *mean = m;
    *sd = n > 1 ? sqrt(m2 / (double)(n - 1)) : 0;
}

/* Classifies each return by its trailing realised volatility and fills the regime fields. */
static void fit_regimes(const double *r, size_t n, double sigma, hv_gbm_params *p)
{
    double sum[2] = { 0, 0 }, sum2[2] = { 0, 0 }, stay[2] = { 0, 0 }, leave[2] = { 0, 0 };
    double cnt[2] = { 0, 0 }, window = 0;
    int prev = -1;
    const size_t w = HV_GBM_REGIME_WINDOW;
    for (size_t i = 0; i < n; i++) {
        window += r[i] * r[i];
        if (i >= w)
            window -= r[i - w] * r[i - w];
        size_t k = i + 1 < w ? i + 1 : w;
        int state = sqrt(fmax(window, 0) / (double)k) > sigma;
        sum[state] += r[i];
        sum2[state] += r[i] * r[i];
        cnt[state] += 1;
        if (prev >= 0)
            (state == prev ? stay : leave)[prev] += 1;
        prev = state;
    }
    for (int k = 0; k < 2; k++) {
        double var = cnt[k] > 1 ? (sum2[k] - sum[k] * sum[k] / cnt[k]) / (cnt[k] - 1) : 0;
        p->regime_sigma[k] = cnt[k] > 1 ? sqrt(fmax(var, 0)) : sigma;
        double out = stay[k] + leave[k];
        p->p_leave[k] = out > 0 ? leave[k] / out : 0;
    }
}

static void fit_volume(const hv_series *s, hv_gbm_params *p)
{
    double m = 0, m2 = 0, k = 0;
    for (size_t i = 0; i < s->len; i++) {
        double v = s->bars[i].volume;
        if (!(v > 0) || !isfinite(v))
            continue;
        double x = log(v), d = x - m;
        k += 1;
        m += d / k;
        m2 += d * (x - m);
    }
    p->log_volume_mean = k > 0 ? m : 0;
    p->log_volume_sd = k > 1 ? sqrt(m2 / (k - 1)) : 0;
}

int hv_gbm_fit(const hv_series *s, hv_gbm_params *out)
{
    if (s == NULL || out == NULL)
        return HV_EINVAL;
    if (s->len < HV_GBM_FIT_MIN_BARS)
        return HV_ETOOFEWOBS;
    double *r = malloc((s->len - 1) * sizeof(double));
    if (r == NULL)
        return HV_ENOMEM;
    long n = hv_series_log_returns(s, 0, r, s->len - 1);
    if (n < 0) {
        free(r);
        return (int)n;
    }
    hv_gbm_params p;
    hv_gbm_defaults(&p);
    double mean, sd;
    moments(r, (size_t)n, &mean, &sd);
    p.mu = mean + sd * sd / 2;
    p.sigma = sd;
    fit_regimes(r, (size_t)n, sd, &p);
    free(r);
    fit_volume(s, &p);
    p.start_price = s->bars[0].open > 0 ? s->bars[0].open : s->bars[0].close;
    p.start_day = s->bars[0].day;
    *out = p;
    return 0;
}

static int finite_nonneg(double x)
{
    return isfinite(x) && x >= 0;
}

static int prob(double x)
{
    return isfinite(x) && x >= 0 && x <= 1;
}

int hv_synth_init(hv_synth *g, const hv_gbm_params *p, uint64_t seed)
{
    if (g == NULL || p == NULL || !isfinite(p->mu) || !finite_nonneg(p->sigma) ||
        !finite_nonneg(p->regime_sigma[0]) || !finite_nonneg(p->regime_sigma[1]) ||
        !prob(p->p_leave[0]) || !prob(p->p_leave[1]) || !isfinite(p->log_volume_mean) ||
        !finite_nonneg(p->log_volume_sd) || !(isfinite(p->start_price) && p->start_price > 0) ||
        p->substeps < 1 || p->substeps > HV_SYNTH_SUBSTEPS_MAX || p->mu <= -1.0)
        return HV_EINVAL;
    memset(g, 0, sizeof(*g));
    g->p = *p;
    hv_rng_seed(&g->rng, seed);
    g->price = p->start_price;
    g->day = next_weekday(p->start_day);
    return 0;
}

void hv_synth_next(hv_synth *g, hv_bar *out)
{
    const hv_gbm_params *p = &g->p;
    double s = p->regimes ? p->regime_sigma[g->regime] : p->sigma;
    double k = (double)p->substeps;
    double step_drift = (p->mu - s * s / 2) / k, step_sd = s / sqrt(k);
    double lp = log(g->price), hi = g->price, lo = g->price;
    out->open = g->price;
    for (uint32_t i = 0; i < p->substeps; i++) {
        lp += step_drift + step_sd * hv_rng_normal(&g->rng);
        lp = fmin(fmax(lp, -HV_SYNTH_LOG_PRICE_MAX), HV_SYNTH_LOG_PRICE_MAX);
        double x = exp(lp);
        hi = fmax(hi, x);
        lo = fmin(lo, x);
    }
    double close = exp(lp);
    out->day = g->day;
    out->close = close;
    out->adjclose = close;
    out->high = fmax(hi, close);
    out->low = fmin(lo, close);
    out->volume = p->log_volume_sd == 0 && p->log_volume_mean == 0
                      ? 0
                      : exp(p->log_volume_mean + p->log_volume_sd * hv_rng_normal(&g->rng));
    g->price = close;
    g->day = next_weekday(g->day + 1);
    g->bars++;
    if (p->regimes && hv_rng_uniform(&g->rng) < p->p_leave[g->regime]) {
        g->regime ^= 1;
        g->switches++;
    }
}

int hv_synth_fill(hv_synth *g, size_t n, hv_series *s)
{
    if (n > SIZE_MAX - s->len)
        return HV_EOVERFLOW;
    int rv = hv_series_reserve(s, s->len + n);
    if (rv != 0)
        return rv;
    for (size_t i = 0; i < n; i++)
        hv_synth_next(g, &s->bars[s->len++]);
    return 0;
}

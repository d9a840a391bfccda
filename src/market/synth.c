/*
 * Seeded synthetic bars: geometric Brownian motion with optional two-state volatility regimes,
 * a log price that reverts to a trend which grows only for a bounded number of bars (so any
 * length stays in a realistic range), and the fit of the parameters to a real series.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

void hv_gbm_params_default(hv_gbm_params *p)
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
    p->drift_bars = HV_SYNTH_DRIFT_BARS;
    p->revert_bars = HV_SYNTH_REVERT_BARS;
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

/*
 * Maximum-likelihood two-state Markov-switching volatility: Baum-Welch (EM) on a Gaussian
 * hidden Markov model with a shared mean m and per-state volatilities, started from the
 * classification above. Forward-backward with per-step scaling; emission densities are taken
 * relative to the larger of the two so a crash day cannot underflow both to zero.
 */
typedef struct hmm {
    const double *r;
    size_t n;
    double m, sd[2], p[2][2], pi[2];
    double *alpha, *beta, *c, *b; /* 2n, 2n, n, 2n */
} hmm;

/* Emission densities of every r[t], each pair relative to its larger one, into h->b; returns
 * the sum of the log scale factors. Computed once per EM iteration: the forward, backward and
 * M steps all read them. */
static double emit_all(hmm *h)
{
    double inv[2] = { 1 / h->sd[0], 1 / h->sd[1] }, lsd[2] = { log(h->sd[0]), log(h->sd[1]) };
    double shifts = 0;
    for (size_t t = 0; t < h->n; t++) {
        double z0 = (h->r[t] - h->m) * inv[0], z1 = (h->r[t] - h->m) * inv[1];
        double lb0 = -0.5 * z0 * z0 - lsd[0], lb1 = -0.5 * z1 * z1 - lsd[1];
        double shift = fmax(lb0, lb1);
        h->b[2 * t] = exp(lb0 - shift);
        h->b[2 * t + 1] = exp(lb1 - shift);
        shifts += shift;
    }
    return shifts;
}

/* Forward and backward passes; returns the log-likelihood (up to a constant). */
static double forward_backward(hmm *h)
{
    double ll = emit_all(h);
    for (size_t t = 0; t < h->n; t++) {
        const double *b = h->b + 2 * t;
        double *a = h->alpha + 2 * t;
        for (int l = 0; l < 2; l++) {
            double prior = t == 0 ? h->pi[l] : a[-2] * h->p[0][l] + a[-1] * h->p[1][l];
            a[l] = prior * b[l];
        }
        h->c[t] = a[0] + a[1];
        if (!(h->c[t] > 0))
            h->c[t] = DBL_MIN;
        a[0] /= h->c[t];
        a[1] /= h->c[t];
        ll += log(h->c[t]);
    }
    h->beta[2 * (h->n - 1)] = h->beta[2 * (h->n - 1) + 1] = 1;
    for (size_t t = h->n - 1; t-- > 0;) {
        const double *b = h->b + 2 * (t + 1);
        const double *bn = h->beta + 2 * (t + 1);
        for (int k = 0; k < 2; k++)
            h->beta[2 * t + k] =
                (h->p[k][0] * b[0] * bn[0] + h->p[k][1] * b[1] * bn[1]) / h->c[t + 1];
    }
    return ll;
}

/* One M-step from the posteriors. Returns 0, or -1 if a state lost all its weight. */
static int m_step(hmm *h)
{
    double g[2] = { 0, 0 }, gt[2] = { 0, 0 }, xi[2][2] = { { 0, 0 }, { 0, 0 } };
    double v[2] = { 0, 0 };
    for (size_t t = 0; t < h->n; t++) {
        const double *a = h->alpha + 2 * t, *be = h->beta + 2 * t;
        double d2 = (h->r[t] - h->m) * (h->r[t] - h->m);
        for (int k = 0; k < 2; k++) {
            double gk = a[k] * be[k];
            g[k] += gk;
            v[k] += gk * d2;
            if (t + 1 < h->n)
                gt[k] += gk;
        }
        if (t == 0)
            h->pi[0] = a[0] * be[0], h->pi[1] = a[1] * be[1];
        if (t + 1 == h->n)
            break;
        const double *b = h->b + 2 * (t + 1);
        const double *bn = h->beta + 2 * (t + 1);
        for (int k = 0; k < 2; k++)
            for (int l = 0; l < 2; l++)
                xi[k][l] += a[k] * h->p[k][l] * b[l] * bn[l] / h->c[t + 1];
    }
    for (int k = 0; k < 2; k++) {
        if (!(g[k] > 1e-9 * (double)h->n) || !(gt[k] > 0))
            return -1;
        h->sd[k] = sqrt(fmax(v[k] / g[k], 1e-300));
        double row = xi[k][0] + xi[k][1];
        h->p[k][0] = xi[k][0] / row;
        h->p[k][1] = xi[k][1] / row;
    }
    return 0;
}

#define EM_ITER_MAX 200

/* Refines p's regime fields by EM. Leaves them unchanged if memory or the fit fails. */
static void fit_regimes_em(const double *r, size_t n, double mean, hv_gbm_params *p)
{
    hmm h = { .r = r, .n = n, .m = mean };
    h.sd[0] = fmax(p->regime_sigma[0], 1e-12);
    h.sd[1] = fmax(p->regime_sigma[1], 1e-12);
    h.p[0][1] = fmin(fmax(p->p_leave[0], 1e-4), 0.5);
    h.p[1][0] = fmin(fmax(p->p_leave[1], 1e-4), 0.5);
    h.p[0][0] = 1 - h.p[0][1];
    h.p[1][1] = 1 - h.p[1][0];
    h.pi[0] = h.pi[1] = 0.5;
    double *mem = malloc(7 * n * sizeof(double));
    if (mem == NULL)
        return;
    h.alpha = mem;
    h.beta = mem + 2 * n;
    h.c = mem + 4 * n;
    h.b = mem + 5 * n;
    double ll_prev = -INFINITY;
    int ok = 1;
    for (int it = 0; it < EM_ITER_MAX && ok; it++) {
        double ll = forward_backward(&h);
        ok = isfinite(ll) && m_step(&h) == 0;
        if (fabs(ll - ll_prev) <= 1e-10 * fabs(ll))
            break;
        ll_prev = ll;
    }
    free(mem);
    if (!ok || !isfinite(h.sd[0]) || !isfinite(h.sd[1]))
        return;
    int lo = h.sd[0] <= h.sd[1] ? 0 : 1; /* regime 0 is the calm one */
    p->regime_sigma[0] = h.sd[lo];
    p->regime_sigma[1] = h.sd[1 - lo];
    p->p_leave[0] = h.p[lo][1 - lo];
    p->p_leave[1] = h.p[1 - lo][lo];
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
    int n = hv_series_log_returns(s, 0, r, s->len - 1);
    if (n < 0) {
        free(r);
        return (int)n;
    }
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    double mean, sd;
    moments(r, (size_t)n, &mean, &sd);
    p.mu = mean + sd * sd / 2;
    p.sigma = sd;
    /* Regimes from the most recent returns only: the EM costs O(returns) per iteration, and a
     * bounded window keeps `market stats` on a 16 M-row file to a second or so while holding
     * far more data than the two-state model needs. */
    size_t w = (size_t)n < HV_GBM_REGIME_FIT_MAX ? (size_t)n : HV_GBM_REGIME_FIT_MAX;
    fit_regimes(r + (size_t)n - w, w, sd, &p);
    fit_regimes_em(r + (size_t)n - w, w, mean, &p);
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

static int params_error(hv_field_error *err, const char *field, const char *reason)
{
    if (err != NULL)
        *err = (hv_field_error){ field, reason };
    return HV_EINVAL;
}

int hv_gbm_params_check(const hv_gbm_params *p, hv_field_error *err)
{
    if (p == NULL)
        return params_error(err, "p", "is NULL");
    if (!isfinite(p->mu) || p->mu <= -1.0)
        return params_error(err, "mu", "must be a finite number > -1");
    if (!finite_nonneg(p->sigma))
        return params_error(err, "sigma", "must be a finite number >= 0");
    if (!finite_nonneg(p->regime_sigma[0]) || !finite_nonneg(p->regime_sigma[1]))
        return params_error(err, "regime_sigma", "must be finite numbers >= 0");
    if (!prob(p->p_leave[0]) || !prob(p->p_leave[1]))
        return params_error(err, "p_leave", "must be probabilities in [0, 1]");
    if (!isfinite(p->log_volume_mean) || !finite_nonneg(p->log_volume_sd))
        return params_error(err, "log_volume_mean", "mean and sd must be finite, sd >= 0");
    if (!(isfinite(p->start_price) && p->start_price > 0))
        return params_error(err, "start_price", "must be a finite number > 0");
    if (p->start_day < HV_DAY_MIN || p->start_day > HV_DAY_MAX)
        return params_error(err, "start_day", "must lie in 0001-01-01..9999-12-31");
    if (p->substeps < 1 || p->substeps > HV_SYNTH_SUBSTEPS_MAX)
        return params_error(err, "substeps", "must be in [1, 64]");
    return 0;
}

int hv_synth_init(hv_synth *g, const hv_gbm_params *p, uint64_t seed)
{
    if (g == NULL || hv_gbm_params_check(p, NULL) != 0)
        return HV_EINVAL;
    memset(g, 0, sizeof(*g));
    g->p = *p;
    hv_rng_seed(&g->rng, seed);
    g->price = p->start_price;
    g->trend = log(p->start_price);
    g->day = next_weekday(p->start_day);
    /* Per sub-step share of the reversion, so that a whole bar halves a deviation from the
     * trend every revert_bars bars. */
    g->revert_step =
        p->revert_bars > 0 ? 1 - pow(0.5, 1.0 / ((double)p->revert_bars * p->substeps)) : 0;
    return 0;
}

size_t hv_synth_bars_left(const hv_synth *g)
{
    if (g->day > HV_DAY_MAX)
        return 0;
    int64_t days = (int64_t)HV_DAY_MAX - g->day + 1;
    uint64_t n = (uint64_t)(days / 7) * 5;
    for (int64_t d = g->day + days / 7 * 7; d <= HV_DAY_MAX; d++)
        n += weekday((int32_t)d) != 0 && weekday((int32_t)d) != 6;
    return n;
}

int hv_synth_next(hv_synth *g, hv_bar *out)
{
    if (g->day > HV_DAY_MAX)
        return HV_ERANGE;
    const hv_gbm_params *p = &g->p;
    double s = p->regimes ? p->regime_sigma[g->regime] : p->sigma;
    double k = (double)p->substeps;
    int drifting = p->drift_bars == 0 || g->bars < p->drift_bars;
    double step_drift = drifting ? (p->mu - s * s / 2) / k : 0, step_sd = s / sqrt(k);
    double lp = log(g->price), hi = g->price, lo = g->price;
    out->open = g->price;
    for (uint32_t i = 0; i < p->substeps; i++) {
        g->trend += step_drift;
        lp += step_drift + step_sd * hv_rng_normal(&g->rng) - g->revert_step * (lp - g->trend);
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
    return 0;
}

int hv_synth_fill(hv_synth *g, size_t n, hv_series *s)
{
    if (n > SIZE_MAX - s->len)
        return HV_EOVERFLOW;
    if (n > hv_synth_bars_left(g))
        return HV_ERANGE;
    int rv = hv_series_reserve(s, s->len + n);
    if (rv != 0)
        return rv;
    for (size_t i = 0; i < n; i++)
        hv_synth_next(g, &s->bars[s->len++]);
    return 0;
}

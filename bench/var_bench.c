/*
 * `hivewire-bench var`: VaR + ES by each method over 250 returns, against a full-sort
 * baseline for the historical method, and the rolling window against recomputing each window
 * from scratch.
 *
 * Workload: 250-return windows of the real S&P 500 daily log returns (data/sp500-2000.csv)
 * when the file is present, else of a seeded synthetic GBM series fitted to index-like
 * parameters; the `data` param says which. Every timed round walks a different set of windows
 * (offsets advance by a prime stride) so the branch predictor cannot learn one input.
 * One sample = the mean time per call over one round; peers run interleaved (A B A B ...).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>
#include <hivewire/risk.h>

#include "bench/bench.h"
#include "risk/risk_int.h"

#define WINDOW      250
#define CALLS       2000 /* calls per timed round */
#define STRIDE      37
#define SYNTH_LEN   5105
#define MC_SIMS     10000
#define ROLL_PUSHES 4000

typedef struct var_data {
    double *r;
    size_t n;
    const char *source; /* "sp500" or "synthetic" */
} var_data;

static int try_load(const char *path, var_data *d)
{
    hv_column c;
    hv_column_init(&c);
    hv_csv_opts o = { .size = sizeof(o), .strict = 1 };
    if (hv_csv_load_column(path, "close", &o, &c, NULL) != 0 || c.len < 2 * WINDOW) {
        hv_column_fini(&c);
        return -1;
    }
    long n = hv_log_returns(c.v, c.len, c.v);
    if (n < 0) {
        hv_column_fini(&c);
        return -1;
    }
    d->r = c.v; /* ownership moves to d */
    d->n = (size_t)n;
    d->source = "sp500";
    return 0;
}

static int load_data(var_data *d, uint64_t seed)
{
    const char *env = getenv("HV_DATA_DIR");
    char path[1024];
    if (env != NULL) {
        snprintf(path, sizeof(path), "%s/sp500-2000.csv", env);
        if (try_load(path, d) == 0)
            return 0;
    }
    if (try_load("data/sp500-2000.csv", d) == 0)
        return 0;
#ifdef HV_SOURCE_DIR_DEFAULT
    if (try_load(HV_SOURCE_DIR_DEFAULT "/data/sp500-2000.csv", d) == 0)
        return 0;
#endif
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    hv_synth g;
    hv_series s;
    hv_series_init(&s);
    if (hv_synth_init(&g, &p, seed) != 0 || hv_synth_fill(&g, SYNTH_LEN, &s) != 0)
        return -1;
    d->r = malloc(SYNTH_LEN * sizeof(double));
    long n = d->r ? hv_series_log_returns(&s, 0, d->r, SYNTH_LEN) : -1;
    hv_series_fini(&s);
    if (n < 0)
        return -1;
    d->n = (size_t)n;
    d->source = "synthetic";
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The peer: copy, full qsort, then the same tail statistics. */
static void var_by_sort(const double *r, size_t n, double q, double *scratch, hv_var_es *out)
{
    memcpy(scratch, r, n * sizeof(double));
    qsort(scratch, n, sizeof(double), cmp_double);
    size_t k = hv__var_tail_k(n, q);
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += scratch[i];
    out->var = -scratch[k - 1];
    out->es = -s / (double)k;
}

enum impl {
    I_HIST,
    I_HIST_QSELECT,
    I_QSORT,
    I_GAUSS,
    I_CF,
    I_MC,
};

typedef struct ctx {
    const var_data *d;
    double q;
    double *scratch;
    size_t offset; /* advances every round */
    hv_rng rng;
    double sink;
    unsigned calls; /* per sample */
} ctx;

static int call(ctx *c, enum impl which, const double *w)
{
    hv_var_es o = { 0, 0 };
    int rv = 0;
    switch (which) {
    case I_HIST:
        rv = hv_var_historical(w, WINDOW, c->q, c->scratch, &o);
        break;
    case I_HIST_QSELECT:
        memcpy(c->scratch, w, WINDOW * sizeof(double));
        hv__var_historical_select(c->scratch, WINDOW, c->q, &o);
        break;
    case I_QSORT:
        var_by_sort(w, WINDOW, c->q, c->scratch, &o);
        break;
    case I_GAUSS:
        rv = hv_var_gaussian(w, WINDOW, c->q, &o);
        break;
    case I_CF:
        rv = hv_var_cornish_fisher(w, WINDOW, c->q, &o);
        break;
    case I_MC:
        rv = hv_var_montecarlo(w, WINDOW, c->q, &c->rng, MC_SIMS, c->scratch, &o);
        break;
    }
    c->sink += o.var + o.es;
    return rv;
}

/* Times `calls` calls over successive windows starting at `start`; returns ns per call. */
static double round_ns(ctx *c, enum impl which, size_t start, unsigned calls)
{
    size_t span = c->d->n - WINDOW;
    uint64_t t0 = hv_now_ns();
    for (unsigned i = 0; i < calls; i++) {
        size_t off = (start + (size_t)i * STRIDE) % span;
        call(c, which, c->d->r + off);
    }
    uint64_t t1 = hv_now_ns();
    hv_bench_consume(&c->sink);
    return (double)(t1 - t0) / calls;
}

static void params(char *buf, size_t cap, const ctx *c, unsigned calls, const char *extra)
{
    snprintf(buf, cap,
             "{\"n\": %d, \"confidence\": %g, \"tail_k\": %zu, \"data\": \"%s\", "
             "\"calls_per_sample\": %u%s}",
             WINDOW, c->q, hv__var_tail_k(WINDOW, c->q), c->d->source, calls, extra ? extra : "");
}

/* Sample s of one implementation (variant: its enum impl): a round from window s * 7919. */
static double var_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    ctx *c = x;
    return round_ns(c, (enum impl)impl->variant, (size_t)s * 7919, c->calls);
}

/* Runs the listed implementations interleaved, one round each per sample, and adds them. */
static void run_set(hv_bench_report *rep, const hv_bench_opts *opts, ctx *c, const char *name,
                    const hv_bench_impl *impls, size_t nimpl, unsigned calls, const char *extra)
{
    for (size_t j = 0; j < nimpl; j++) /* warm-up */
        round_ns(c, (enum impl)impls[j].variant, 0, calls / 4 + 1);
    c->calls = calls;
    hv_bench_plan pl = {
        .impls = impls, .nimpl = nimpl, .samples = hv_bench_samples(opts, 31), .ctx = c
    };
    char p[256];
    params(p, sizeof(p), c, calls, extra);
    hv_bench_run(rep, name, "ns", &pl, p, NULL);
}

/* Rolling: push one return and query all three rolling estimators, against recomputing the
 * three static estimators over the window from scratch. */
static double roll_round(const var_data *d, double q, int rolling, size_t start, unsigned pushes,
                         double *scratch, double *sink)
{
    hv_var_roll roll;
    if (hv_var_roll_init(&roll, WINDOW, q) != 0)
        return -1;
    size_t span = d->n - WINDOW - pushes - 1;
    size_t base = start % span;
    for (size_t i = 0; i < WINDOW; i++) /* fill, untimed */
        hv_var_roll_push(&roll, d->r[base + i]);
    const double *w = d->r + base + 1;
    hv_var_es a, b, cf;
    uint64_t t0 = hv_now_ns();
    for (unsigned i = 0; i < pushes; i++, w++) {
        if (rolling) {
            hv_var_roll_push(&roll, w[WINDOW - 1]);
            hv_var_roll_historical(&roll, &a);
            hv_var_roll_gaussian(&roll, &b);
            hv_var_roll_cornish_fisher(&roll, &cf);
        } else {
            hv_var_historical(w, WINDOW, q, scratch, &a);
            hv_var_gaussian(w, WINDOW, q, &b);
            hv_var_cornish_fisher(w, WINDOW, q, &cf);
        }
        *sink += a.var + b.var + cf.es;
    }
    uint64_t t1 = hv_now_ns();
    hv_var_roll_fini(&roll);
    return (double)(t1 - t0) / pushes;
}

typedef struct roll_ctx {
    const var_data *d;
    double q;
    unsigned pushes;
    double *scratch;
    double sink;
} roll_ctx;

/* variant 1: the rolling window, 0: recomputing each window. */
static double roll_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    roll_ctx *c = x;
    return roll_round(c->d, c->q, impl->variant, (size_t)s * 7919, c->pushes, c->scratch, &c->sink);
}

static void run_rolling(hv_bench_report *rep, const hv_bench_opts *opts, const var_data *d,
                        double q, double *scratch)
{
    static const hv_bench_impl impls[] = { { "hivewire_rolling", roll_sample, 1, NULL },
                                           { "recompute", roll_sample, 0, NULL } };
    roll_ctx c = { .d = d, .q = q, .pushes = opts->quick ? 500 : ROLL_PUSHES, .scratch = scratch };
    if (d->n < WINDOW + c.pushes + 2)
        return;
    hv_bench_plan pl = {
        .impls = impls, .nimpl = 2, .samples = hv_bench_samples(opts, 31), .ctx = &c
    };
    double *v = hv_bench_interleave_new(&pl);
    if (v == NULL)
        return;
    hv_bench_consume(&c.sink);
    char p[256];
    snprintf(p, sizeof(p),
             "{\"window\": %d, \"confidence\": %g, \"data\": \"%s\", \"pushes_per_sample\": %u, "
             "\"per_push\": \"push + historical + gaussian + cornish-fisher\"}",
             WINDOW, q, d->source, c.pushes);
    hv_bench_add_plan(rep, "rolling_update_250", "ns", &pl, v, p, NULL);
    hv_bench_ratio(rep, "rolling_update_250", "hivewire_rolling", "recompute");
    free(v);
}

static void run_historical(hv_bench_report *rep, const hv_bench_opts *opts, ctx *c, unsigned calls)
{
    static const hv_bench_impl impls[] = { { "hivewire", var_sample, I_HIST, NULL },
                                           { "hivewire_quickselect", var_sample, I_HIST_QSELECT,
                                             NULL },
                                           { "qsort", var_sample, I_QSORT, NULL } };
    char name[64];
    snprintf(name, sizeof(name), "historical_250_q%g", c->q);
    if (!hv_bench_selected(opts, name))
        return;
    run_set(rep, opts, c, name, impls, 3, calls, NULL);
    hv_bench_ratio(rep, name, "hivewire", "qsort");
    hv_bench_ratio(rep, name, "hivewire_quickselect", "qsort");
}

static void run_parametric(hv_bench_report *rep, const hv_bench_opts *opts, ctx *c, unsigned calls)
{
    static const struct {
        const char *name;
        hv_bench_impl impl;
    } rows[] = { { "gaussian_250", { "hivewire", var_sample, I_GAUSS, NULL } },
                 { "cornish_fisher_250", { "hivewire", var_sample, I_CF, NULL } } };
    for (size_t i = 0; i < 2; i++) {
        if (!hv_bench_selected(opts, rows[i].name))
            continue;
        run_set(rep, opts, c, rows[i].name, &rows[i].impl, 1, calls, NULL);
    }
    if (hv_bench_selected(opts, "montecarlo_250")) {
        static const hv_bench_impl mc = { "hivewire", var_sample, I_MC, NULL };
        char extra[64];
        snprintf(extra, sizeof(extra), ", \"sims\": %d", MC_SIMS);
        run_set(rep, opts, c, "montecarlo_250", &mc, 1, opts->quick ? 4 : 40, extra);
    }
}

/* Five-asset portfolio: the monthly log returns of stocks.csv's symbols over their last 60
 * common months when the file is present, else a fixed synthetic covariance. */
#define PORT_N 5
#define PORT_M 60

static const char *port_load(double *mean, double *chol)
{
    static const char *syms[PORT_N] = { "MSFT", "AMZN", "IBM", "GOOG", "AAPL" };
    static const char *paths[] = {
        "data/stocks.csv",
#ifdef HV_SOURCE_DIR_DEFAULT
        HV_SOURCE_DIR_DEFAULT "/data/stocks.csv",
#endif
    };
    double x[PORT_M * PORT_N], cov[PORT_N * PORT_N];
    for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
        int ok = 1;
        for (int j = 0; j < PORT_N && ok; j++) {
            hv_series s;
            hv_series_init(&s);
            hv_csv_opts o = { .size = sizeof(o), .symbol = syms[j] };
            ok = hv_csv_load_bars(paths[p], &o, &s, NULL) == 0 && s.len > PORT_M;
            for (int i = 0; ok && i < PORT_M; i++) {
                size_t b = s.len - PORT_M - 1 + (size_t)i;
                x[i * PORT_N + j] = log(s.bars[b + 1].close / s.bars[b].close);
            }
            hv_series_fini(&s);
        }
        if (ok && hv_covariance(x, PORT_M, PORT_N, mean, cov) == 0 &&
            hv_cholesky(cov, PORT_N, chol) == 0)
            return "stocks";
    }
    for (int i = 0; i < PORT_N; i++) {
        mean[i] = 0.005;
        for (int j = 0; j < PORT_N; j++)
            cov[i * PORT_N + j] = (i == j ? 1.0 : 0.4) * 0.01;
    }
    hv_cholesky(cov, PORT_N, chol);
    return "synthetic";
}

static void run_portfolio(hv_bench_report *rep, const hv_bench_opts *opts, double *scratch)
{
    if (!hv_bench_selected(opts, "montecarlo_portfolio_5"))
        return;
    double mean[PORT_N], chol[PORT_N * PORT_N];
    const double w[PORT_N] = { 0.2, 0.2, 0.2, 0.2, 0.2 };
    const char *src = port_load(mean, chol);
    unsigned samples = hv_bench_samples(opts, 31), calls = opts->quick ? 2 : 20;
    double *v = calloc(samples, sizeof(double)), sink = 0;
    if (v == NULL)
        return;
    hv_rng rng;
    hv_rng_seed(&rng, opts->seed);
    for (unsigned s = 0; s < samples; s++) {
        uint64_t t0 = hv_now_ns();
        for (unsigned i = 0; i < calls; i++) {
            hv_var_es o;
            hv_var_montecarlo_portfolio(w, mean, chol, PORT_N, 0.99, &rng, MC_SIMS - PORT_N,
                                        scratch, &o);
            sink += o.var + o.es;
        }
        v[s] = (double)(hv_now_ns() - t0) / calls;
    }
    hv_bench_consume(&sink);
    char p[256];
    snprintf(p, sizeof(p),
             "{\"assets\": %d, \"sims\": %d, \"confidence\": 0.99, \"data\": \"%s\", "
             "\"calls_per_sample\": %u}",
             PORT_N, MC_SIMS - PORT_N, src, calls);
    hv_bench_add(rep, "montecarlo_portfolio_5", "hivewire", "ns", v, samples, p);
    free(v);
}

/* Heap allocations made by the query paths (expected 0). */
static void count_allocs(hv_bench_report *rep, ctx *c)
{
    uint64_t a0 = hv_bench_allocs();
    if (a0 == UINT64_MAX)
        return;
    static const enum impl impls[] = { I_HIST, I_GAUSS, I_CF, I_MC };
    for (size_t i = 0; i < sizeof(impls) / sizeof(impls[0]); i++)
        call(c, impls[i], c->d->r);
    hv_bench_note(rep, "heap allocations in 4 VaR/ES calls (one per method): %llu",
                  (unsigned long long)(hv_bench_allocs() - a0));
}

int hv_bench_var(const hv_bench_opts *opts);
int hv_bench_var(const hv_bench_opts *opts)
{
    hv_bench_report *rep = hv_bench_report_new("var", opts);
    if (rep == NULL)
        return 1;
    var_data d;
    double *scratch = malloc(MC_SIMS * sizeof(double));
    if (scratch == NULL || load_data(&d, opts->seed) != 0) {
        free(scratch);
        hv_bench_note(rep, "could not load or generate the returns");
        hv_bench_report_finish(rep);
        return 1;
    }
    unsigned calls = opts->quick ? 200 : CALLS;
    ctx c = { .d = &d, .scratch = scratch };
    hv_rng_seed(&c.rng, opts->seed);
    c.q = 0.99;
    run_historical(rep, opts, &c, calls);
    c.q = 0.95;
    run_historical(rep, opts, &c, calls);
    c.q = 0.99;
    run_parametric(rep, opts, &c, calls);
    run_portfolio(rep, opts, scratch);
    if (hv_bench_selected(opts, "rolling_update_250"))
        run_rolling(rep, opts, &d, 0.99, scratch);
    count_allocs(rep, &c);
    hv_bench_note(rep,
                  "returns: %s (%zu daily log returns); each call takes a different "
                  "250-return window",
                  strcmp(d.source, "sp500") == 0 ? "real S&P 500, data/sp500-2000.csv"
                                                 : "seeded synthetic GBM (data/ not found)",
                  d.n);
    hv_bench_note(rep,
                  "historical: hivewire picks the top-k scan for k <= 2 or (k <= %d and "
                  "64 k <= n), quickselect otherwise; hivewire_quickselect forces "
                  "quickselect; qsort is a full sort of a copy",
                  HV_VAR_TAIL_SCAN_MAX);
    free(d.r);
    free(scratch);
    return hv_bench_report_finish(rep);
}

/*
 * hivewire-bench profiler: what a profiler scope costs.
 *
 * scope_empty: an empty begin/end pair (two clock reads, the stack push/pop, self/total
 * arithmetic and a histogram record), against the floor it cannot beat: a bare pair of
 * clock_gettime(CLOCK_MONOTONIC) calls. cycle_8_stages: a whole profiled cycle of 8 sequential
 * empty stages (the trading cycle's shape) against 18 bare clock reads. Single thread; the
 * two implementations alternate sample by sample. Result unit: ns per scope (per cycle).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hivewire/profiler.h>

#include "bench.h"

static uint64_t clock_pair_round(uint64_t n)
{
    struct timespec a, b;
    uint64_t acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        acc += (uint64_t)(b.tv_nsec - a.tv_nsec);
    }
    return acc;
}

static void scope_round(hv_profiler *p, int stage, uint64_t n)
{
    hv_profiler_cycle_begin(p);
    for (uint64_t i = 0; i < n; i++) {
        hv_profiler_begin(p, stage);
        hv_profiler_end(p, stage);
    }
    hv_profiler_cycle_end(p);
}

static void cycle_round(hv_profiler *p, const int *stages, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        hv_profiler_cycle_begin(p);
        for (int s = 0; s < 8; s++) {
            hv_profiler_begin(p, stages[s]);
            hv_profiler_end(p, stages[s]);
        }
        hv_profiler_cycle_end(p);
    }
}

static uint64_t clock_reads_round(uint64_t n, int reads)
{
    struct timespec t;
    uint64_t acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        for (int r = 0; r < reads; r++) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            acc += (uint64_t)t.tv_nsec;
        }
    }
    return acc;
}

/* What every sample of one workload works on. */
typedef struct prof_ctx {
    hv_profiler *p;
    const int *stages; /* stages[0] for scope_empty, all 8 for cycle_8_stages */
    uint64_t n;        /* scopes (cycles) per sample */
    uint64_t sink;
} prof_ctx;

/* ns per scope (per cycle) of one timed round. */
static double scope_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    prof_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    scope_round(c->p, c->stages[0], c->n);
    return (double)(hv_now_ns() - t0) / (double)c->n;
}

static double clock_pair_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    prof_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    c->sink += clock_pair_round(c->n);
    return (double)(hv_now_ns() - t0) / (double)c->n;
}

static double cycle_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    prof_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    cycle_round(c->p, c->stages, c->n);
    return (double)(hv_now_ns() - t0) / (double)c->n;
}

static double clock_reads_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)s;
    prof_ctx *c = x;
    uint64_t t0 = hv_now_ns();
    c->sink += clock_reads_round(c->n, impl->variant);
    return (double)(hv_now_ns() - t0) / (double)c->n;
}

static const hv_bench_impl scope_impls[] = {
    { "hivewire", scope_sample, 0, NULL },
    { "clock_gettime_pair", clock_pair_sample, 0, NULL },
};

static const hv_bench_impl cycle_impls[] = {
    { "hivewire", cycle_sample, 0, NULL },
    { "clock_gettime_x18", clock_reads_sample, 18, NULL },
};

/* Warms both implementations up with n / 10, then takes the interleaved samples and adds them
 * with params. Returns the heap allocations made by the samples (UINT64_MAX: not counted). */
static uint64_t run_plan(hv_bench_report *r, const char *name, const hv_bench_impl impls[2],
                         prof_ctx *c, unsigned ns, const char *params)
{
    uint64_t n = c->n;
    c->n = n / 10;
    impls[0].sample(&impls[0], c, 0);
    impls[1].sample(&impls[1], c, 0);
    c->n = n;
    hv_bench_plan p = { .impls = impls, .nimpl = 2, .samples = ns, .ctx = c };
    double *v = calloc(2 * (size_t)ns, sizeof(double));
    uint64_t a0 = hv_bench_allocs();
    if (v != NULL)
        hv_bench_interleave(&p, v);
    uint64_t a1 = hv_bench_allocs();
    hv_bench_consume(&c->sink);
    if (v != NULL)
        hv_bench_add_plan(r, name, "ns", &p, v, params, NULL);
    hv_bench_ratio(r, name, impls[0].name, impls[1].name);
    free(v);
    return a0 == UINT64_MAX ? UINT64_MAX : a1 - a0;
}

static void bench_scope(hv_bench_report *r, const hv_bench_opts *o, hv_profiler *p, int stage)
{
    unsigned ns = hv_bench_samples(o, 21);
    prof_ctx c = { .p = p, .stages = &stage, .n = o->quick ? 20000 : 1000000 };
    char params[96];
    snprintf(params, sizeof(params), "{\"scopes_per_sample\": %llu, \"threads\": 1}",
             (unsigned long long)c.n);
    uint64_t allocs = run_plan(r, "scope_empty", scope_impls, &c, ns, params);
    if (allocs != UINT64_MAX)
        hv_bench_note(r, "scope_empty: %llu heap allocations over %llu scopes (plus peer)",
                      (unsigned long long)allocs, (unsigned long long)(c.n * ns));
}

static void bench_cycle(hv_bench_report *r, const hv_bench_opts *o, hv_profiler *p,
                        const int *stages)
{
    prof_ctx c = { .p = p, .stages = stages, .n = o->quick ? 5000 : 200000 };
    char params[96];
    snprintf(params, sizeof(params),
             "{\"cycles_per_sample\": %llu, \"stages\": 8, \"clock_reads\": 18}",
             (unsigned long long)c.n);
    run_plan(r, "cycle_8_stages", cycle_impls, &c, hv_bench_samples(o, 21), params);
}

int hv_bench_profiler(const hv_bench_opts *opts);

int hv_bench_profiler(const hv_bench_opts *opts)
{
    static const char *names[8] = { "market_data",     "dtw_pattern_matching", "risk_var",
                                    "strategy_signal", "coordination",         "consensus",
                                    "order_execution", "order_confirmation" };
    hv_bench_report *r = hv_bench_report_new("profiler", opts);
    hv_profiler *p = NULL;
    if (r == NULL || hv_profiler_new(NULL, &p) != 0) {
        fprintf(stderr, "hivewire-bench profiler: out of memory\n");
        hv_profiler_free(p);
        return r ? hv_bench_report_finish(r) : 1;
    }
    int stages[8];
    for (int i = 0; i < 8; i++)
        stages[i] = hv_profiler_stage(p, names[i], HV_STAGE_TIMED);
    if (hv_bench_selected(opts, "scope_empty"))
        bench_scope(r, opts, p, stages[0]);
    if (hv_bench_selected(opts, "cycle_8_stages"))
        bench_cycle(r, opts, p, stages);
    hv_bench_note(r, "ns per scope (per cycle); the peer is the bare clock reads a scope needs, "
                     "so the ratio shows the profiler's overhead above its floor");
    hv_profiler_free(p);
    return hv_bench_report_finish(r);
}

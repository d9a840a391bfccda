/*
 * hivewire bench profiler: what a profiler scope costs.
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

static void bench_scope(hv_bench_report *r, const hv_bench_opts *o, hv_profiler *p, int stage)
{
    unsigned ns = hv_bench_samples(o, 21);
    uint64_t n = o->quick ? 20000 : 1000000;
    double *a = calloc(ns, sizeof(double)), *b = calloc(ns, sizeof(double));
    scope_round(p, stage, n / 10); /* warm-up */
    clock_pair_round(n / 10);
    uint64_t allocs0 = hv_bench_allocs();
    for (unsigned i = 0; i < ns; i++) {
        uint64_t t0 = hv_now_ns();
        scope_round(p, stage, n);
        uint64_t t1 = hv_now_ns();
        uint64_t sink = clock_pair_round(n);
        uint64_t t2 = hv_now_ns();
        hv_bench_consume(&sink);
        a[i] = (double)(t1 - t0) / (double)n;
        b[i] = (double)(t2 - t1) / (double)n;
    }
    uint64_t allocs1 = hv_bench_allocs();
    char params[96];
    snprintf(params, sizeof(params), "{\"scopes_per_sample\": %llu, \"threads\": 1}",
             (unsigned long long)n);
    hv_bench_add(r, "scope_empty", "hivewire", "ns", a, ns, params);
    hv_bench_add(r, "scope_empty", "clock_gettime_pair", "ns", b, ns, params);
    hv_bench_ratio(r, "scope_empty", "hivewire", "clock_gettime_pair");
    if (allocs0 != UINT64_MAX)
        hv_bench_note(r, "scope_empty: %llu heap allocations over %llu scopes (plus peer)",
                      (unsigned long long)(allocs1 - allocs0), (unsigned long long)(n * ns));
    free(a);
    free(b);
}

static void bench_cycle(hv_bench_report *r, const hv_bench_opts *o, hv_profiler *p,
                        const int *stages)
{
    unsigned ns = hv_bench_samples(o, 21);
    uint64_t n = o->quick ? 5000 : 200000;
    double *a = calloc(ns, sizeof(double)), *b = calloc(ns, sizeof(double));
    cycle_round(p, stages, n / 10);
    for (unsigned i = 0; i < ns; i++) {
        uint64_t t0 = hv_now_ns();
        cycle_round(p, stages, n);
        uint64_t t1 = hv_now_ns();
        uint64_t sink = clock_reads_round(n, 18);
        uint64_t t2 = hv_now_ns();
        hv_bench_consume(&sink);
        a[i] = (double)(t1 - t0) / (double)n;
        b[i] = (double)(t2 - t1) / (double)n;
    }
    char params[96];
    snprintf(params, sizeof(params),
             "{\"cycles_per_sample\": %llu, \"stages\": 8, \"clock_reads\": 18}",
             (unsigned long long)n);
    hv_bench_add(r, "cycle_8_stages", "hivewire", "ns", a, ns, params);
    hv_bench_add(r, "cycle_8_stages", "clock_gettime_x18", "ns", b, ns, params);
    hv_bench_ratio(r, "cycle_8_stages", "hivewire", "clock_gettime_x18");
    free(a);
    free(b);
}

int hv_bench_profiler(const hv_bench_opts *opts);

int hv_bench_profiler(const hv_bench_opts *opts)
{
    static const char *names[8] = { "market_data",     "dtw_pattern_matching", "risk_var",
                                    "strategy_signal", "coordination",         "consensus",
                                    "order_execution", "order_confirmation" };
    hv_bench_report *r = hv_bench_report_new("profiler", opts);
    hv_profiler *p = hv_profiler_new(NULL);
    if (r == NULL || p == NULL) {
        fprintf(stderr, "hivewire bench profiler: out of memory\n");
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

/*
 * hivewire benchmark harness, shared by every `hivewire-bench <area>`.
 *
 * Follows ../shared/BENCHMARKING.md: each workload is measured as a set of samples (one sample
 * = one timed round); peers run the same workload interleaved with hivewire (A B A B ...) in
 * the same process; results carry median, p99 (p99.9 with >= 1000 samples), min, max and the
 * sample count; ratios are "how many times better hivewire is", computed per interleaved pair
 * and summarised by their median. With --json the report is one JSON object on stdout and the
 * human table goes to stderr.
 *
 * Not thread-safe: one report is built by one thread.
 */
#ifndef HV_BENCH_BENCH_H
#define HV_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/hist.h>

typedef struct hv_bench_opts {
    int json;           /* --json */
    int quick;          /* --quick: small sample counts, for smoke tests */
    unsigned samples;   /* --samples N: timed rounds per workload, 0 = the bench's default */
    const char *filter; /* --filter S: only workloads whose name contains S, NULL = all */
    uint64_t seed;      /* --seed N */
} hv_bench_opts;

typedef struct hv_bench_report hv_bench_report;

/* Starts a report for `hivewire-bench <bench>`. Returns NULL on allocation failure. */
hv_bench_report *hv_bench_report_new(const char *bench, const hv_bench_opts *opts);

/* True if the workload `name` passes the --filter option. */
int hv_bench_selected(const hv_bench_opts *opts, const char *name);

/* Number of samples a workload should take: --samples if given, else `dflt`, else (with
 * --quick) min(dflt, 3). */
unsigned hv_bench_samples(const hv_bench_opts *opts, unsigned dflt);

/*
 * Adds one result from n samples (copied). unit is one of "msg/s", "ops/s", "cycles/s"
 * (higher is better) or "ns", "us", "ms", "bytes" (lower is better). params_json is a JSON
 * object as text ("{\"msg_bytes\": 64}") or NULL. Returns 0, HV_EINVAL, HV_ENOMEM.
 */
int hv_bench_add(hv_bench_report *r, const char *name, const char *impl, const char *unit,
                 const double *samples, size_t n, const char *params_json);

/* Adds one latency result from a histogram of nanosecond values; `unit` scales the output
 * ("ns", "us" or "ms"). The sample count is the histogram's count. If the histogram clamped
 * values (h->overflow != 0), the row's params get "overflow": N. */
int hv_bench_add_hist(hv_bench_report *r, const char *name, const char *impl, const char *unit,
                      const hv_hist *h, const char *params_json);

/*
 * One implementation of a workload (hivewire or a peer), in the table a workload passes to
 * hv_bench_interleave(). sample() runs one timed round and returns its figure in the unit the
 * workload reports; s is the sample's number (a workload may vary its input with it).
 */
typedef struct hv_bench_impl {
    const char *name; /* the result's "impl" */
    double (*sample)(const struct hv_bench_impl *impl, void *ctx, unsigned s);
    int variant;      /* for the workload: which path, batched or not, ... */
    const char *path; /* what this implementation does (for params), or NULL */
} hv_bench_impl;

/* How to run a table of implementations. */
typedef struct hv_bench_plan {
    const hv_bench_impl *impls;
    size_t nimpl;
    unsigned samples;
    void *ctx;                             /* passed to every callback */
    int rotate;                            /* round s starts with impls[s % nimpl] */
    void (*before)(void *ctx, unsigned s); /* before round s, or NULL */
    void (*after)(void *ctx, unsigned s);  /* after round s, or NULL */
} hv_bench_plan;

/*
 * Takes p->samples samples of every implementation, interleaved (BENCHMARKING.md rule 2):
 * round s takes sample s of each implementation in table order (rotated with p->rotate), so
 * every peer sees the machine in the same state as hivewire. out[i * samples + s] gets sample
 * s of impls[i]; out holds nimpl * samples values.
 */
void hv_bench_interleave(const hv_bench_plan *p, double *out);

/* hv_bench_interleave() into a new array (free() it), NULL on allocation failure. */
double *hv_bench_interleave_new(const hv_bench_plan *p);

/*
 * Adds one result per implementation of p from the samples v of hv_bench_interleave(). params
 * (when not NULL) writes an implementation's params JSON into buf; else every result gets
 * params_json. Returns 0 or the first hv_bench_add() error.
 */
int hv_bench_add_plan(hv_bench_report *r, const char *name, const char *unit,
                      const hv_bench_plan *p, const double *v, const char *params_json,
                      void (*params)(const hv_bench_impl *impl, void *ctx, char *buf, size_t cap));

/* hv_bench_interleave() then hv_bench_add_plan(), for a workload that needs nothing else from
 * the samples. Returns 0, HV_ENOMEM, or hv_bench_add_plan()'s error. */
int hv_bench_run(hv_bench_report *r, const char *name, const char *unit, const hv_bench_plan *p,
                 const char *params_json,
                 void (*params)(const hv_bench_impl *impl, void *ctx, char *buf, size_t cap));

/* Adds the ratio "how many times better a is than b" for workload `name`. When both results
 * came from hv_bench_add() with the same sample count, the ratio is computed per interleaved
 * pair and the median taken; otherwise it is the ratio of medians. Returns HV_ENOTFOUND if
 * either result is missing (e.g. a peer that was not built). */
int hv_bench_ratio(hv_bench_report *r, const char *name, const char *a, const char *b);

/* Adds a free-text note (printed under the table, and in the JSON "notes" array). */
void hv_bench_note(hv_bench_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records a failure of the benchmark itself (a wrong answer, a failed operation): prints
 * "FAILED: ..." to stderr at once, keeps it as a note, and makes hv_bench_report_finish()
 * return 1 so `hivewire-bench` exits non-zero. The report is still printed in full. */
void hv_bench_fail(hv_bench_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the report (table, and JSON with --json: "dropped_notes", "dropped_results" count
 * what did not fit, "failures" the hv_bench_fail() calls), frees it. Returns the process exit
 * code: 1 if hv_bench_fail() was called, else 0. */
int hv_bench_report_finish(hv_bench_report *r);

/* Heap allocations (malloc, calloc, realloc, aligned) made by this process so far, or
 * UINT64_MAX when counting is not available (sanitizer builds). Thread-safe. */
uint64_t hv_bench_allocs(void);

/* Peak resident set size of this process in bytes (getrusage). */
uint64_t hv_bench_peak_rss_bytes(void);

/* Current resident set size in bytes (/proc/self/statm), 0 if unknown. */
uint64_t hv_bench_rss_bytes(void);

/* Sorts v in place and returns the value at quantile q (nearest rank). */
double hv_bench_quantile(double *v, size_t n, double q);

/* Keeps the optimiser from deleting a computed value. */
static inline void hv_bench_consume(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

#endif

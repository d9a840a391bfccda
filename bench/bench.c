#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <jansson.h>

#include <hivewire/common.h>

#include "bench.h"

#define MAX_RESULTS 512
#define MAX_NOTES   128

typedef struct result {
    char name[64];
    char impl[40];
    char unit[12];
    double median, p99, p999, min, max;
    int has_p999;
    size_t samples;
    double *raw; /* samples in the order taken (for per-pair ratios), or NULL */
    json_t *params;
} result;

struct hv_bench_report {
    char bench[32];
    hv_bench_opts opts;
    result results[MAX_RESULTS];
    size_t nresults;
    json_t *ratios;
    char *notes[MAX_NOTES];
    size_t nnotes;
    size_t dropped_results; /* results past MAX_RESULTS, not reported */
    size_t dropped_notes;   /* notes past MAX_NOTES (or out of memory), not reported */
    size_t failures;        /* hv_bench_fail() calls: the exit code becomes 1 */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double hv_bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(double), cmp_double);
    size_t rank = (size_t)(q * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static int higher_is_better(const char *unit)
{
    return strstr(unit, "/s") != NULL;
}

hv_bench_report *hv_bench_report_new(const char *bench, const hv_bench_opts *opts)
{
    hv_bench_report *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    snprintf(r->bench, sizeof(r->bench), "%s", bench);
    r->opts = *opts;
    r->ratios = json_array();
    return r;
}

int hv_bench_selected(const hv_bench_opts *opts, const char *name)
{
    return opts->filter == NULL || strstr(name, opts->filter) != NULL;
}

unsigned hv_bench_samples(const hv_bench_opts *opts, unsigned dflt)
{
    if (opts->samples)
        return opts->samples;
    if (opts->quick)
        return dflt < 3 ? dflt : 3;
    return dflt;
}

static result *new_result(hv_bench_report *r, const char *name, const char *impl, const char *unit,
                          const char *params_json)
{
    if (r->nresults == MAX_RESULTS) {
        r->dropped_results++;
        return NULL;
    }
    result *res = &r->results[r->nresults];
    memset(res, 0, sizeof(*res));
    snprintf(res->name, sizeof(res->name), "%s", name);
    snprintf(res->impl, sizeof(res->impl), "%s", impl);
    snprintf(res->unit, sizeof(res->unit), "%s", unit);
    if (params_json != NULL) {
        json_error_t err;
        res->params = json_loads(params_json, 0, &err);
        if (res->params == NULL || !json_is_object(res->params)) {
            fprintf(stderr, "bench: bad params JSON for %s/%s: %s\n", name, impl, params_json);
            json_decref(res->params);
            return NULL;
        }
    } else {
        res->params = json_object();
    }
    r->nresults++;
    return res;
}

int hv_bench_add(hv_bench_report *r, const char *name, const char *impl, const char *unit,
                 const double *samples, size_t n, const char *params_json)
{
    if (n == 0)
        return HV_EINVAL;
    result *res = new_result(r, name, impl, unit, params_json);
    if (res == NULL)
        return HV_EINVAL;
    res->raw = malloc(n * sizeof(double));
    double *sorted = malloc(n * sizeof(double));
    if (res->raw == NULL || sorted == NULL) {
        free(sorted);
        return HV_ENOMEM;
    }
    memcpy(res->raw, samples, n * sizeof(double));
    memcpy(sorted, samples, n * sizeof(double));
    int hib = higher_is_better(unit);
    /* For throughput the "p99" is the 1st percentile: the slow tail. */
    res->median = hv_bench_quantile(sorted, n, 0.5);
    res->p99 = hv_bench_quantile(sorted, n, hib ? 0.01 : 0.99);
    if (n >= 1000) {
        res->p999 = hv_bench_quantile(sorted, n, hib ? 0.001 : 0.999);
        res->has_p999 = 1;
    }
    res->min = sorted[0];
    res->max = sorted[n - 1];
    res->samples = n;
    free(sorted);
    return 0;
}

int hv_bench_add_hist(hv_bench_report *r, const char *name, const char *impl, const char *unit,
                      const hv_hist *h, const char *params_json)
{
    if (h->count == 0)
        return HV_EINVAL;
    double scale = 1.0;
    if (strcmp(unit, "us") == 0)
        scale = 1e-3;
    else if (strcmp(unit, "ms") == 0)
        scale = 1e-6;
    result *res = new_result(r, name, impl, unit, params_json);
    if (res == NULL)
        return HV_EINVAL;
    res->median = (double)hv_hist_quantile(h, 0.5) * scale;
    res->p99 = (double)hv_hist_quantile(h, 0.99) * scale;
    res->p999 = (double)hv_hist_quantile(h, 0.999) * scale;
    res->has_p999 = h->count >= 1000;
    res->min = (double)h->min * scale;
    res->max = (double)h->max * scale;
    res->samples = h->count;
    /* Values above the histogram's range were clamped to its top: say how many. */
    if (h->overflow != 0)
        json_object_set_new(res->params, "overflow", json_integer((json_int_t)h->overflow));
    return 0;
}

static result *find(hv_bench_report *r, const char *name, const char *impl)
{
    for (size_t i = 0; i < r->nresults; i++)
        if (strcmp(r->results[i].name, name) == 0 && strcmp(r->results[i].impl, impl) == 0)
            return &r->results[i];
    return NULL;
}

static double better(const char *unit, double a, double b)
{
    if (higher_is_better(unit))
        return b != 0 ? a / b : 0;
    return a != 0 ? b / a : 0;
}

int hv_bench_ratio(hv_bench_report *r, const char *name, const char *a, const char *b)
{
    result *ra = find(r, name, a), *rb = find(r, name, b);
    if (ra == NULL || rb == NULL)
        return HV_ENOTFOUND;
    double ratio;
    const char *method;
    if (ra->raw && rb->raw && ra->samples == rb->samples) {
        double *pairs = malloc(ra->samples * sizeof(double));
        if (pairs == NULL)
            return HV_ENOMEM;
        for (size_t i = 0; i < ra->samples; i++)
            pairs[i] = better(ra->unit, ra->raw[i], rb->raw[i]);
        ratio = hv_bench_quantile(pairs, ra->samples, 0.5);
        free(pairs);
        method = "median_of_pairs";
    } else {
        ratio = better(ra->unit, ra->median, rb->median);
        method = "ratio_of_medians";
    }
    json_array_append_new(r->ratios, json_pack("{s:s, s:s, s:s, s:f, s:s}", "name", name, "a", a,
                                               "b", b, "median_ratio", ratio, "method", method));
    return 0;
}

void hv_bench_interleave(const hv_bench_plan *p, double *out)
{
    for (unsigned s = 0; s < p->samples; s++) {
        if (p->before != NULL)
            p->before(p->ctx, s);
        for (size_t k = 0; k < p->nimpl; k++) {
            size_t i = p->rotate ? (s + k) % p->nimpl : k;
            out[i * p->samples + s] = p->impls[i].sample(&p->impls[i], p->ctx, s);
        }
        if (p->after != NULL)
            p->after(p->ctx, s);
    }
}

double *hv_bench_interleave_new(const hv_bench_plan *p)
{
    double *v = calloc(p->nimpl * p->samples + 1, sizeof(double));
    if (v != NULL)
        hv_bench_interleave(p, v);
    return v;
}

int hv_bench_add_plan(hv_bench_report *r, const char *name, const char *unit,
                      const hv_bench_plan *p, const double *v, const char *params_json,
                      void (*params)(const hv_bench_impl *impl, void *ctx, char *buf, size_t cap))
{
    for (size_t i = 0; i < p->nimpl; i++) {
        char buf[1024];
        if (params != NULL)
            params(&p->impls[i], p->ctx, buf, sizeof(buf));
        int rc = hv_bench_add(r, name, p->impls[i].name, unit, v + i * p->samples, p->samples,
                              params != NULL ? buf : params_json);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int hv_bench_run(hv_bench_report *r, const char *name, const char *unit, const hv_bench_plan *p,
                 const char *params_json,
                 void (*params)(const hv_bench_impl *impl, void *ctx, char *buf, size_t cap))
{
    double *v = hv_bench_interleave_new(p);
    if (v == NULL)
        return HV_ENOMEM;
    int rc = hv_bench_add_plan(r, name, unit, p, v, params_json, params);
    free(v);
    return rc;
}

static void add_note(hv_bench_report *r, const char *text)
{
    if (r->nnotes == MAX_NOTES) {
        r->dropped_notes++;
        return;
    }
    r->notes[r->nnotes] = strdup(text);
    if (r->notes[r->nnotes] != NULL)
        r->nnotes++;
    else
        r->dropped_notes++;
}

void hv_bench_note(hv_bench_report *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    add_note(r, buf);
}

void hv_bench_fail(hv_bench_report *r, const char *fmt, ...)
{
    char buf[512];
    int off = snprintf(buf, sizeof(buf), "FAILED: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + off, sizeof(buf) - (size_t)off, fmt, ap);
    va_end(ap);
    fprintf(stderr, "hivewire-bench %s: %s\n", r->bench, buf);
    r->failures++;
    add_note(r, buf);
}

uint64_t hv_bench_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_maxrss * 1024u;
}

uint64_t hv_bench_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ')
                    p++;
                p[strcspn(p, "\n")] = '\0';
                snprintf(out, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

static json_t *num_or_null(double v, int present)
{
    return present ? json_real(v) : json_null();
}

static json_t *to_json(hv_bench_report *r)
{
    char model[256];
    cpu_model(model, sizeof(model));
    json_t *root = json_object();
    json_object_set_new(root, "bench", json_string(r->bench));
    json_object_set_new(
        root, "machine",
        json_pack("{s:i, s:s}", "cpus", (int)sysconf(_SC_NPROCESSORS_ONLN), "model", model));
    json_t *arr = json_array();
    for (size_t i = 0; i < r->nresults; i++) {
        result *res = &r->results[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:o, s:f, s:f, s:I, s:O}", "name", res->name,
                              "impl", res->impl, "unit", res->unit, "median", res->median, "p99",
                              num_or_null(res->p99, res->samples > 1), "min", res->min, "max",
                              res->max, "samples", (json_int_t)res->samples, "params", res->params);
        if (res->has_p999)
            json_object_set_new(o, "p999", json_real(res->p999));
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "results", arr);
    json_object_set(root, "ratios", r->ratios);
    json_t *notes = json_array();
    for (size_t i = 0; i < r->nnotes; i++)
        json_array_append_new(notes, json_string(r->notes[i]));
    json_object_set_new(root, "notes", notes);
    json_object_set_new(root, "dropped_notes", json_integer((json_int_t)r->dropped_notes));
    json_object_set_new(root, "dropped_results", json_integer((json_int_t)r->dropped_results));
    json_object_set_new(root, "failures", json_integer((json_int_t)r->failures));
    json_object_set_new(root, "peak_rss_bytes",
                        json_integer((json_int_t)hv_bench_peak_rss_bytes()));
    return root;
}

static void fmt_num(char *out, size_t cap, double v)
{
    if (v != 0 && (v >= 1e6 || v < 1e-2))
        snprintf(out, cap, "%.3g", v);
    else
        snprintf(out, cap, "%.2f", v);
}

static void print_table(hv_bench_report *r, FILE *f)
{
    fprintf(f, "hivewire-bench %s\n", r->bench);
    fprintf(f, "%-34s %-18s %-9s %11s %11s %11s %11s %8s\n", "workload", "impl", "unit", "median",
            "p99", "min", "max", "samples");
    for (size_t i = 0; i < r->nresults; i++) {
        result *res = &r->results[i];
        char m[32], p[32], lo[32], hi[32];
        fmt_num(m, sizeof(m), res->median);
        fmt_num(p, sizeof(p), res->p99);
        fmt_num(lo, sizeof(lo), res->min);
        fmt_num(hi, sizeof(hi), res->max);
        fprintf(f, "%-34s %-18s %-9s %11s %11s %11s %11s %8zu\n", res->name, res->impl, res->unit,
                m, res->samples > 1 ? p : "-", lo, hi, res->samples);
    }
    size_t nr = json_array_size(r->ratios);
    if (nr) {
        fprintf(f, "\nratios (how many times better a is than b; median of interleaved pairs)\n");
        for (size_t i = 0; i < nr; i++) {
            json_t *o = json_array_get(r->ratios, i);
            fprintf(f, "  %-34s %s vs %s: %.2fx\n", json_string_value(json_object_get(o, "name")),
                    json_string_value(json_object_get(o, "a")),
                    json_string_value(json_object_get(o, "b")),
                    json_real_value(json_object_get(o, "median_ratio")));
        }
    }
    for (size_t i = 0; i < r->nnotes; i++)
        fprintf(f, "%s%s\n", i == 0 ? "\nnotes:\n  " : "  ", r->notes[i]);
    if (r->dropped_notes != 0 || r->dropped_results != 0)
        fprintf(f, "%zu notes/%zu results dropped (report capacity %d notes, %d results)\n",
                r->dropped_notes, r->dropped_results, MAX_NOTES, MAX_RESULTS);
    if (r->failures != 0)
        fprintf(f, "%zu FAILURE(S): see the FAILED notes above\n", r->failures);
    fprintf(f, "peak RSS: %.1f MiB\n", (double)hv_bench_peak_rss_bytes() / 1048576.0);
}

int hv_bench_report_finish(hv_bench_report *r)
{
    print_table(r, r->opts.json ? stderr : stdout);
    if (r->opts.json) {
        json_t *root = to_json(r);
        char *s = json_dumps(root, JSON_REAL_PRECISION(6));
        if (s) {
            fputs(s, stdout);
            fputc('\n', stdout);
            free(s);
        }
        json_decref(root);
    }
    for (size_t i = 0; i < r->nresults; i++) {
        free(r->results[i].raw);
        json_decref(r->results[i].params);
    }
    for (size_t i = 0; i < r->nnotes; i++)
        free(r->notes[i]);
    json_decref(r->ratios);
    int rc = r->failures != 0 ? 1 : 0;
    free(r);
    return rc;
}

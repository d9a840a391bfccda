/* Profiler reports: the text table and the JSON export. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profiler/profiler_int.h"

const char *hv__profiler_fmt_ns(char *buf, size_t n, double ns)
{
    if (ns < 1e3)
        snprintf(buf, n, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, n, "%.*f us", ns < 1e4 ? 2 : 1, ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, n, "%.*f ms", ns < 1e7 ? 2 : 1, ns / 1e6);
    else if (ns < 1e13)
        snprintf(buf, n, "%.2f s", ns / 1e9);
    else if (ns < 864e11 * 1000)
        snprintf(buf, n, "%.1f h", ns / 36e11);
    else
        snprintf(buf, n, "%.0f d", ns / 864e11);
    return buf;
}

size_t hv__profiler_log2_bins(const hv_hist *h, uint64_t counts[64])
{
    memset(counts, 0, 64 * sizeof(uint64_t));
    size_t used = 0;
    for (uint32_t i = 0; i < h->nbuckets; i++) {
        if (h->counts[i] == 0)
            continue;
        uint64_t lo = hv_hist_lowest_equivalent(h, i);
        size_t b = lo <= 1 ? 0 : (size_t)(63 - __builtin_clzll(lo));
        counts[b] += h->counts[i];
        if (b + 1 > used)
            used = b + 1;
    }
    return used;
}

/* ---- text table ------------------------------------------------------------------------ */

static void print_stage_row(FILE *f, const char *rank, const hv_profiler_stage_stats *s)
{
    char self[16], total[16], mean[16], p50[16], p99[16], max[16];
    fprintf(f, "%4s  %-28s %7.2f%% %10s %10s %9" PRIu64 " %10s %10s %10s %10s\n", rank, s->name,
            s->share * 100, hv__profiler_fmt_ns(self, sizeof(self), (double)s->self_ns),
            hv__profiler_fmt_ns(total, sizeof(total), (double)s->total_ns), s->count,
            hv__profiler_fmt_ns(mean, sizeof(mean), s->mean_ns),
            hv__profiler_fmt_ns(p50, sizeof(p50), (double)s->p50_ns),
            hv__profiler_fmt_ns(p99, sizeof(p99), (double)s->p99_ns),
            hv__profiler_fmt_ns(max, sizeof(max), (double)s->max_ns));
}

static void print_cycle_line(FILE *f, const hv_profiler *p)
{
    hv_profiler_summary sum;
    hv_profiler_stage_stats c;
    char busy[16], mean[16], p50[16], p99[16], max[16];
    hv_profiler_summary_get(p, &sum);
    hv_profiler_stage_stats_get(p, HV_PROFILER_CYCLE, &c);
    fprintf(f,
            "cycles %" PRIu64 "  busy %s  mean %s  p50 %s  p99 %s  max %s  %.0f cycles/s "
            "(busy)\n",
            sum.cycles, hv__profiler_fmt_ns(busy, sizeof(busy), (double)sum.cycle_ns),
            hv__profiler_fmt_ns(mean, sizeof(mean), c.mean_ns),
            hv__profiler_fmt_ns(p50, sizeof(p50), (double)c.p50_ns),
            hv__profiler_fmt_ns(p99, sizeof(p99), (double)c.p99_ns),
            hv__profiler_fmt_ns(max, sizeof(max), (double)c.max_ns), sum.cycles_per_s);
    if (sum.dropped || sum.mismatched)
        fprintf(f,
                "warning: %" PRIu64 " scopes dropped (stack full), %" PRIu64 " mismatched ends\n",
                sum.dropped, sum.mismatched);
}

static void print_external(FILE *f, const hv_profiler *p)
{
    int header = 0;
    for (uint32_t i = 1; i < p->nstages; i++) {
        if (p->stages[i].kind != HV_STAGE_EXTERNAL)
            continue;
        if (!header++)
            fprintf(f, "\nexternal stages (recorded, not CPU time; not in the cycle share)\n");
        hv_profiler_stage_stats s;
        hv_profiler_stage_stats_get(p, (int)i, &s);
        print_stage_row(f, "-", &s);
    }
}

int hv_profiler_write_table(const hv_profiler *p, FILE *f)
{
    int ids[256];
    size_t n = hv_profiler_rank(p, ids, 256);
    print_cycle_line(f, p);
    fprintf(f, "%4s  %-28s %8s %10s %10s %9s %10s %10s %10s %10s\n", "rank", "operation", "% cycle",
            "self", "total", "count", "mean", "p50", "p99", "max");
    double share_sum = 0;
    for (size_t i = 0; i < n; i++) {
        hv_profiler_stage_stats s;
        char rank[24];
        hv_profiler_stage_stats_get(p, ids[i], &s);
        snprintf(rank, sizeof(rank), "%zu", i + 1);
        print_stage_row(f, rank, &s);
        share_sum += s.share;
    }
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    double un = sum.cycle_ns ? (double)sum.unattributed_ns / (double)sum.cycle_ns : 0;
    char buf[16];
    fprintf(f, "%4s  %-28s %7.2f%% %10s\n", "-", "(unattributed)", un * 100,
            hv__profiler_fmt_ns(buf, sizeof(buf), (double)sum.unattributed_ns));
    fprintf(f, "%4s  %-28s %7.2f%% %10s\n", "", "total", (share_sum + un) * 100,
            hv__profiler_fmt_ns(buf, sizeof(buf), (double)sum.cycle_ns));
    print_external(f, p);
    return ferror(f) ? HV_EIO : 0;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static json_t *stage_json(const hv_profiler *p, int id, size_t rank)
{
    hv_profiler_stage_stats s;
    hv_profiler_stage_stats_get(p, id, &s);
    json_t *o = json_object();
    if (rank > 0)
        json_object_set_new(o, "rank", json_integer((json_int_t)rank));
    json_object_set_new(o, "name", json_string(s.name));
    json_object_set_new(o, "kind", json_string(s.kind == HV_STAGE_TIMED ? "timed" : "external"));
    json_object_set_new(o, "count", json_integer((json_int_t)s.count));
    json_object_set_new(o, "self_ns", json_integer((json_int_t)s.self_ns));
    json_object_set_new(o, "total_ns", json_integer((json_int_t)s.total_ns));
    json_object_set_new(o, "share", json_real(s.share));
    json_object_set_new(o, "mean_ns", json_real(s.mean_ns));
    json_object_set_new(o, "min_ns", json_integer((json_int_t)s.min_ns));
    json_object_set_new(o, "p50_ns", json_integer((json_int_t)s.p50_ns));
    json_object_set_new(o, "p99_ns", json_integer((json_int_t)s.p99_ns));
    json_object_set_new(o, "max_ns", json_integer((json_int_t)s.max_ns));
    uint64_t bins[64];
    size_t nb = hv__profiler_log2_bins(hv_profiler_stage_hist(p, id), bins);
    json_t *arr = json_array();
    for (size_t b = 0; b < nb; b++)
        json_array_append_new(arr, json_integer((json_int_t)bins[b]));
    json_object_set_new(o, "log2_bins", arr);
    return o;
}

static json_t *stages_json(const hv_profiler *p)
{
    int ids[256];
    size_t n = hv_profiler_rank(p, ids, 256);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, stage_json(p, ids[i], i + 1));
    return arr;
}

static json_t *external_json(const hv_profiler *p)
{
    json_t *arr = json_array();
    for (uint32_t i = 1; i < p->nstages; i++)
        if (p->stages[i].kind == HV_STAGE_EXTERNAL)
            json_array_append_new(arr, stage_json(p, (int)i, 0));
    return arr;
}

static json_t *equity_json(const hv_report_extra *x)
{
    json_t *o = json_object(), *t = json_array(), *e = json_array(), *d = json_array();
    double peak = 0;
    for (size_t i = 0; i < x->equity_n; i++) {
        double v = x->equity[i];
        peak = i == 0 || v > peak ? v : peak;
        json_array_append_new(t, json_integer((json_int_t)x->equity_t_ns[i]));
        double dd = peak > 0 ? (peak - v) / peak : 0;
        json_array_append_new(e, isfinite(v) ? json_real(v) : json_null());
        json_array_append_new(d, isfinite(dd) ? json_real(dd) : json_null());
    }
    json_object_set_new(o, "t_ns", t);
    json_object_set_new(o, "equity", e);
    json_object_set_new(o, "drawdown_frac", d);
    return o;
}

static json_t *alerts_json(const hv_report_extra *x)
{
    json_t *arr = json_array();
    for (size_t i = 0; x->alerts != NULL && i < x->alerts_n; i++) {
        const hv_report_alert *a = &x->alerts[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(a->name ? a->name : ""));
        json_object_set_new(o, "severity", json_string(a->severity ? a->severity : ""));
        json_object_set_new(o, "message", json_string(a->message ? a->message : ""));
        json_object_set_new(o, "raised_s", json_real(a->raised_s));
        json_object_set_new(o, "cleared_s",
                            a->cleared_s >= 0 ? json_real(a->cleared_s) : json_null());
        json_array_append_new(arr, o);
    }
    return arr;
}

static void extra_json(json_t *root, const hv_report_extra *x)
{
    if (x == NULL)
        return;
    if (x->title)
        json_object_set_new(root, "title", json_string(x->title));
    json_t *sum = json_object();
    size_t n = x->summary_n < HV_REPORT_SUMMARY_MAX ? x->summary_n : HV_REPORT_SUMMARY_MAX;
    for (size_t i = 0; i < n && x->summary_keys && x->summary_values; i++)
        if (x->summary_keys[i] && x->summary_values[i])
            json_object_set_new(sum, x->summary_keys[i], json_string(x->summary_values[i]));
    json_object_set_new(root, "summary", sum);
    if (x->equity_n > 0 && x->equity && x->equity_t_ns)
        json_object_set_new(root, "equity", equity_json(x));
    if (x->alerts_watched)
        json_object_set_new(root, "alerts", alerts_json(x));
}

char *hv_profiler_json(const hv_profiler *p, const hv_report_extra *extra)
{
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    json_object_set_new(root, "cycles", json_integer((json_int_t)sum.cycles));
    json_object_set_new(root, "cycle_ns", json_integer((json_int_t)sum.cycle_ns));
    json_object_set_new(root, "cycles_per_s", json_real(sum.cycles_per_s));
    json_object_set_new(root, "unattributed_ns", json_integer((json_int_t)sum.unattributed_ns));
    json_object_set_new(root, "dropped", json_integer((json_int_t)sum.dropped));
    json_object_set_new(root, "mismatched", json_integer((json_int_t)sum.mismatched));
    json_object_set_new(root, "cycle", stage_json(p, HV_PROFILER_CYCLE, 0));
    json_object_set_new(root, "stages", stages_json(p));
    json_object_set_new(root, "external", external_json(p));
    extra_json(root, extra);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

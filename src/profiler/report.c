/* Profiler reports: the text table and the JSON export. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/market.h>

#include "profiler/profiler_int.h"

const char *hv__profiler_fmt_ns(char *buf, size_t n, double ns)
{
    if (ns < 1e3)
        snprintf(buf, n, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, n, "%.*f us", ns < 1e4 ? 2 : 1, ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, n, "%.*f ms", ns < 1e7 ? 2 : 1, ns / 1e6);
    else if (ns < 6e11)
        snprintf(buf, n, "%.2f s", ns / 1e9);
    else if (ns < 36e11)
        snprintf(buf, n, "%.1f min", ns / 6e10);
    else if (ns < 3 * 864e11)
        snprintf(buf, n, "%.1f h", ns / 36e11);
    else
        snprintf(buf, n, "%.*f d", ns < 864e13 ? 1 : 0, ns / 864e11);
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

#define NARROW_NAME 26 /* the operation column of the 80-column table */

static void print_stage_row(FILE *f, const char *rank, const hv_profiler_stage_stats *s,
                            unsigned flags)
{
    char self[16], total[16], mean[16], p50[16], p99[16], max[16];
    hv__profiler_fmt_ns(self, sizeof(self), (double)s->self_ns);
    hv__profiler_fmt_ns(p50, sizeof(p50), (double)s->p50_ns);
    hv__profiler_fmt_ns(p99, sizeof(p99), (double)s->p99_ns);
    if (!(flags & HV_PROFILER_TABLE_WIDE)) {
        fprintf(f, "%4s  %-*s %7.2f%% %9s %8" PRIu64 " %9s %9s\n", rank, NARROW_NAME, s->name,
                s->share * 100, self, s->count, p50, p99);
        return;
    }
    fprintf(f, "%4s  %-28s %7.2f%% %10s %10s %9" PRIu64 " %10s %10s %10s %10s\n", rank, s->name,
            s->share * 100, self, hv__profiler_fmt_ns(total, sizeof(total), (double)s->total_ns),
            s->count, hv__profiler_fmt_ns(mean, sizeof(mean), s->mean_ns), p50, p99,
            hv__profiler_fmt_ns(max, sizeof(max), (double)s->max_ns));
}

static void print_header(FILE *f, unsigned flags)
{
    if (!(flags & HV_PROFILER_TABLE_WIDE))
        fprintf(f, "%4s  %-*s %8s %9s %8s %9s %9s\n", "rank", NARROW_NAME, "operation", "% cycle",
                "self", "count", "p50", "p99");
    else
        fprintf(f, "%4s  %-28s %8s %10s %10s %9s %10s %10s %10s %10s\n", "rank", "operation",
                "% cycle", "self", "total", "count", "mean", "p50", "p99", "max");
}

static void print_total_row(FILE *f, const char *rank, const char *name, double share, uint64_t ns,
                            unsigned flags)
{
    char buf[16];
    hv__profiler_fmt_ns(buf, sizeof(buf), (double)ns);
    if (!(flags & HV_PROFILER_TABLE_WIDE))
        fprintf(f, "%4s  %-*s %7.2f%% %9s\n", rank, NARROW_NAME, name, share * 100, buf);
    else
        fprintf(f, "%4s  %-28s %7.2f%% %10s\n", rank, name, share * 100, buf);
}

static void print_cycle_line(FILE *f, const hv_profiler *p, unsigned flags)
{
    hv_profiler_summary sum;
    hv_profiler_stage_stats c;
    char busy[16], mean[16], p50[16], p99[16], max[16];
    hv_profiler_summary_get(p, &sum);
    hv_profiler_stage_stats_get(p, HV_PROFILER_CYCLE, &c);
    hv__profiler_fmt_ns(busy, sizeof(busy), (double)sum.cycle_ns);
    hv__profiler_fmt_ns(mean, sizeof(mean), c.mean_ns);
    hv__profiler_fmt_ns(p50, sizeof(p50), (double)c.p50_ns);
    hv__profiler_fmt_ns(p99, sizeof(p99), (double)c.p99_ns);
    hv__profiler_fmt_ns(max, sizeof(max), (double)c.max_ns);
    if (flags & HV_PROFILER_TABLE_WIDE)
        fprintf(f,
                "cycles %" PRIu64 "  busy %s  mean %s  p50 %s  p99 %s  max %s  %.0f cycles/s "
                "(busy)\n",
                sum.cycles, busy, mean, p50, p99, max, sum.cycles_per_s);
    else
        fprintf(f,
                "cycles %" PRIu64 "  busy %s  %.0f cycles/s (busy)\n"
                "cycle  mean %s  p50 %s  p99 %s  max %s\n",
                sum.cycles, busy, sum.cycles_per_s, mean, p50, p99, max);
    if (sum.dropped || sum.mismatched)
        fprintf(f,
                "warning: %" PRIu64 " scopes dropped (stack full), %" PRIu64 " mismatched ends\n",
                sum.dropped, sum.mismatched);
}

/* The stages of one recorded kind, under their heading, if there are any. */
static void print_recorded(FILE *f, const hv_profiler *p, int kind, const char *heading,
                           unsigned flags)
{
    int header = 0;
    for (uint32_t i = 1; i < p->nstages; i++) {
        if (p->stages[i].kind != kind)
            continue;
        if (!header++)
            fprintf(f, "\n%s\n", heading);
        hv_profiler_stage_stats s;
        hv_profiler_stage_stats_get(p, (int)i, &s);
        print_stage_row(f, "-", &s, flags);
    }
}

int hv_profiler_write_table_flags(const hv_profiler *p, FILE *f, unsigned flags)
{
    int ids[256];
    size_t n = hv_profiler_rank(p, ids, 256);
    print_cycle_line(f, p, flags);
    print_header(f, flags);
    double share_sum = 0;
    for (size_t i = 0; i < n; i++) {
        hv_profiler_stage_stats s;
        char rank[24];
        hv_profiler_stage_stats_get(p, ids[i], &s);
        snprintf(rank, sizeof(rank), "%zu", i + 1);
        print_stage_row(f, rank, &s, flags);
        share_sum += s.share;
    }
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    double un = sum.cycle_ns ? (double)sum.unattributed_ns / (double)sum.cycle_ns : 0;
    print_total_row(f, "-", "(unattributed)", un, sum.unattributed_ns, flags);
    print_total_row(f, "", "total", share_sum + un, sum.cycle_ns, flags);
    print_recorded(f, p, HV_STAGE_EXTERNAL,
                   "external stages (recorded, not CPU time; not in the cycle share)", flags);
    print_recorded(f, p, HV_STAGE_SIMULATED,
                   "simulated exchange (on the simulated clock, not CPU time; not in the share)",
                   flags);
    return ferror(f) ? HV_EIO : 0;
}

int hv_profiler_write_table(const hv_profiler *p, FILE *f)
{
    return hv_profiler_write_table_flags(p, f, HV_PROFILER_TABLE_WIDE);
}

/* ---- JSON -------------------------------------------------------------------------------- */

static const char *kind_name(int kind)
{
    return kind == HV_STAGE_TIMED ? "timed" : kind == HV_STAGE_EXTERNAL ? "external" : "simulated";
}

static json_t *stage_json(const hv_profiler *p, int id, size_t rank)
{
    hv_profiler_stage_stats s;
    hv_profiler_stage_stats_get(p, id, &s);
    json_t *o = json_object();
    if (rank > 0)
        json_object_set_new(o, "rank", json_integer((json_int_t)rank));
    json_object_set_new(o, "name", json_string(s.name));
    json_object_set_new(o, "kind", json_string(kind_name(s.kind)));
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

static json_t *recorded_json(const hv_profiler *p, int kind)
{
    json_t *arr = json_array();
    for (uint32_t i = 1; i < p->nstages; i++)
        if (p->stages[i].kind == kind)
            json_array_append_new(arr, stage_json(p, (int)i, 0));
    return arr;
}

static json_t *profile_json(const hv_profiler *p)
{
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    json_t *o = json_object();
    json_object_set_new(o, "cycles", json_integer((json_int_t)sum.cycles));
    json_object_set_new(o, "cycle_ns", json_integer((json_int_t)sum.cycle_ns));
    json_object_set_new(o, "cycles_per_s", json_real(sum.cycles_per_s));
    json_object_set_new(o, "unattributed_ns", json_integer((json_int_t)sum.unattributed_ns));
    json_object_set_new(o, "dropped", json_integer((json_int_t)sum.dropped));
    json_object_set_new(o, "mismatched", json_integer((json_int_t)sum.mismatched));
    json_object_set_new(o, "cycle", stage_json(p, HV_PROFILER_CYCLE, 0));
    json_object_set_new(o, "stages", stages_json(p));
    json_object_set_new(o, "external", recorded_json(p, HV_STAGE_EXTERNAL));
    json_object_set_new(o, "simulated", recorded_json(p, HV_STAGE_SIMULATED));
    return o;
}

/* A number, or null where it cannot be known. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* "YYYY-MM-DD", or null for HV_REPORT_NO_DAY. */
static json_t *date_json(int32_t day)
{
    if (day == HV_REPORT_NO_DAY)
        return json_null();
    char d[11];
    hv_day_format(day, d);
    return json_string(d);
}

/* {"t_ns": ..., "date": ...} of a moment, or null (t_ns UINT64_MAX). */
static json_t *moment_json(uint64_t t_ns, int32_t day)
{
    if (t_ns == UINT64_MAX)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "t_ns", json_integer((json_int_t)t_ns));
    json_object_set_new(o, "date", date_json(day));
    return o;
}

static json_t *returns_json(const hv_report_returns *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "periods", json_integer((json_int_t)r->periods));
    json_object_set_new(o, "years", num(r->years));
    json_object_set_new(o, "periods_per_year", num(r->periods_per_year));
    json_object_set_new(o, "start_equity", num(r->start_equity));
    json_object_set_new(o, "end_equity", num(r->end_equity));
    json_object_set_new(o, "total_return", num(r->total_return));
    json_object_set_new(o, "annual_return", num(r->annual_return));
    json_object_set_new(o, "volatility", num(r->volatility));
    json_object_set_new(o, "sharpe", num(r->sharpe));
    json_object_set_new(o, "sortino", num(r->sortino));
    json_object_set_new(o, "max_drawdown", num(r->max_drawdown));
    json_object_set_new(o, "max_drawdown_peak",
                        moment_json(r->max_drawdown_peak_t_ns, r->max_drawdown_peak_day));
    json_object_set_new(o, "max_drawdown_trough",
                        moment_json(r->max_drawdown_trough_t_ns, r->max_drawdown_trough_day));
    json_object_set_new(o, "max_drawdown_recovery",
                        moment_json(r->max_drawdown_recovery_t_ns, r->max_drawdown_recovery_day));
    json_object_set_new(o, "win_rate", num(r->win_rate));
    json_object_set_new(o, "exposure", num(r->exposure));
    json_object_set_new(o, "turnover", num(r->turnover));
    return o;
}

/* The drawdown of each point: given, or from the running peak of the points given. */
static double point_drawdown(const hv_report_extra *x, size_t i, double *peak)
{
    double v = x->equity[i];
    *peak = i == 0 || v > *peak ? v : *peak;
    if (x->drawdown_frac != NULL)
        return x->drawdown_frac[i];
    return *peak > 0 ? (*peak - v) / *peak : 0;
}

static json_t *equity_json(const hv_report_extra *x)
{
    json_t *o = json_object(), *t = json_array(), *e = json_array(), *d = json_array();
    json_t *day = x->equity_day ? json_array() : NULL, *b = x->benchmark ? json_array() : NULL;
    double peak = 0;
    for (size_t i = 0; i < x->equity_n; i++) {
        json_array_append_new(t, json_integer((json_int_t)x->equity_t_ns[i]));
        if (day != NULL)
            json_array_append_new(day, date_json(x->equity_day[i]));
        json_array_append_new(e, num(x->equity[i]));
        if (b != NULL)
            json_array_append_new(b, num(x->benchmark[i]));
        json_array_append_new(d, num(point_drawdown(x, i, &peak)));
    }
    json_object_set_new(o, "t_ns", t);
    if (day != NULL)
        json_object_set_new(o, "date", day);
    json_object_set_new(o, "equity", e);
    if (b != NULL)
        json_object_set_new(o, "benchmark", b);
    json_object_set_new(o, "drawdown_frac", d);
    return o;
}

static json_t *trade_json(const hv_report_trade *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "t_ns", json_integer((json_int_t)t->t_ns));
    json_object_set_new(o, "date", date_json(t->day));
    json_object_set_new(o, "side", json_string(t->side == 0 ? "buy" : "sell"));
    json_object_set_new(o, "qty", json_integer((json_int_t)t->qty));
    json_object_set_new(o, "price", num(t->price));
    json_object_set_new(o, "fee", num(t->fee));
    json_object_set_new(o, "order_id", json_integer((json_int_t)t->order_id));
    json_object_set_new(o, "proposal_id",
                        t->proposal_id ? json_integer((json_int_t)t->proposal_id) : json_null());
    json_object_set_new(o, "rule", t->rule ? json_string(t->rule) : json_null());
    if (t->voters == 0) {
        json_object_set_new(o, "votes", json_null());
        return o;
    }
    json_t *v = json_object();
    json_object_set_new(v, "approvals", json_integer(t->approvals));
    json_object_set_new(v, "rejections", json_integer(t->rejections));
    json_object_set_new(v, "abstentions", json_integer(t->abstentions));
    json_object_set_new(v, "voters", json_integer(t->voters));
    json_object_set_new(o, "votes", v);
    return o;
}

static json_t *trades_json(const hv_report_extra *x)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < x->trades_n; i++)
        json_array_append_new(arr, trade_json(&x->trades[i]));
    return arr;
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

/* The caller's members; -1 when one is not JSON. */
static int members_json(json_t *root, const hv_report_extra *x)
{
    for (size_t i = 0; i < x->json_n; i++) {
        if (x->json_names == NULL || x->json_values == NULL || x->json_names[i] == NULL ||
            x->json_values[i] == NULL)
            return -1;
        json_t *v = json_loads(x->json_values[i], JSON_DECODE_ANY, NULL);
        if (v == NULL)
            return -1;
        json_object_set_new(root, x->json_names[i], v);
    }
    return 0;
}

static int extra_json(json_t *root, const hv_report_extra *x)
{
    if (members_json(root, x) != 0)
        return -1;
    json_object_set_new(root, "partial", json_boolean(x->partial));
    if (x->title)
        json_object_set_new(root, "title", json_string(x->title));
    if (x->returns != NULL) {
        json_t *r = json_object();
        json_object_set_new(r, "strategy", returns_json(x->returns));
        if (x->benchmark_returns != NULL)
            json_object_set_new(r, "benchmark", returns_json(x->benchmark_returns));
        json_object_set_new(root, "returns", r);
    }
    if (x->equity_n > 0 && x->equity && x->equity_t_ns)
        json_object_set_new(root, "equity", equity_json(x));
    if (x->trades != NULL) {
        json_object_set_new(root, "trades", trades_json(x));
        json_object_set_new(
            root, "trades_total",
            json_integer(
                (json_int_t)(x->trades_total > x->trades_n ? x->trades_total : x->trades_n)));
    }
    if (x->alerts_watched)
        json_object_set_new(root, "alerts", alerts_json(x));
    return 0;
}

char *hv_profiler_json(const hv_profiler *p, const hv_report_extra *extra)
{
    json_t *root = json_object();
    if (root == NULL)
        return NULL;
    json_object_set_new(root, "schema_version", json_integer(HV_REPORT_SCHEMA_VERSION));
    if (extra != NULL && extra_json(root, extra) != 0) {
        json_decref(root);
        return NULL;
    }
    json_object_set_new(root, "profile", profile_json(p));
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

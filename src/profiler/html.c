/* The HTML report: one self-contained page with inline CSS and SVG (no scripts, no network). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "profiler/profiler_int.h"

#define CHART_W  760
#define LABEL_W  230
#define BAR_AREA 430
#define ROW_H    22
#define LAT_W    340
#define LAT_H    150
#define EQ_H     220
#define PAD      36

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1100px;color:#1d2330;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;"
    "border-bottom:1px solid #ccd;padding-bottom:.2em}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
    "td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #e3e6ee}"
    "td:first-child,th:first-child,td.l,th.l{text-align:left}"
    "th{background:#f1f3f8}"
    "svg{background:#fafbfd;border:1px solid #e3e6ee;margin:4px}"
    "svg text{font:11px system-ui,sans-serif;fill:#333}"
    ".bar{fill:#3b6fd4}.other{fill:#9aa3b5}.bin{fill:#2f9e75}"
    ".p50{stroke:#d48a1a;stroke-width:1.5}.p99{stroke:#c23b3b;stroke-width:1.5}"
    ".eq{fill:none;stroke:#3b6fd4;stroke-width:1.5}.dd{fill:#e9a0a0;stroke:#c23b3b}"
    ".axis{stroke:#889;stroke-width:1}.grid{display:flex;flex-wrap:wrap}"
    "figure{margin:0 8px 8px 0}figcaption{font-weight:600}.note{color:#667}";

/* Writes s with &, <, >, " and ' escaped. */
static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void summary_section(FILE *f, const hv_profiler *p, const hv_report_extra *x)
{
    hv_profiler_summary sum;
    hv_profiler_stage_stats c;
    char b1[16], b2[16], b3[16], b4[16];
    hv_profiler_summary_get(p, &sum);
    hv_profiler_stage_stats_get(p, HV_PROFILER_CYCLE, &c);
    fputs("<h2>Summary</h2>\n<table class=\"summary\">\n", f);
    size_t n = x && x->summary_keys && x->summary_values ? x->summary_n : 0;
    if (n > HV_REPORT_SUMMARY_MAX)
        n = HV_REPORT_SUMMARY_MAX;
    for (size_t i = 0; i < n; i++) {
        if (!x->summary_keys[i] || !x->summary_values[i])
            continue;
        fputs("<tr><td>", f);
        esc(f, x->summary_keys[i]);
        fputs("</td><td class=\"l\">", f);
        esc(f, x->summary_values[i]);
        fputs("</td></tr>\n", f);
    }
    fprintf(f, "<tr><td>cycles</td><td class=\"l\">%llu (%.0f cycles/s busy)</td></tr>\n",
            (unsigned long long)sum.cycles, sum.cycles_per_s);
    fprintf(f,
            "<tr><td>cycle latency</td><td class=\"l\">mean %s, p50 %s, p99 %s, max %s</td></tr>\n",
            hv__profiler_fmt_ns(b1, sizeof(b1), c.mean_ns),
            hv__profiler_fmt_ns(b2, sizeof(b2), (double)c.p50_ns),
            hv__profiler_fmt_ns(b3, sizeof(b3), (double)c.p99_ns),
            hv__profiler_fmt_ns(b4, sizeof(b4), (double)c.max_ns));
    fputs("</table>\n", f);
}

static void stage_row(FILE *f, const char *rank, const hv_profiler_stage_stats *s)
{
    char b[6][16];
    fprintf(f, "<tr><td>%s</td><td class=\"l\">", rank);
    esc(f, s->name);
    fprintf(f,
            "</td><td>%.2f%%</td><td>%s</td><td>%s</td><td>%llu</td><td>%s</td><td>%s</td>"
            "<td>%s</td><td>%s</td></tr>\n",
            s->share * 100, hv__profiler_fmt_ns(b[0], 16, (double)s->self_ns),
            hv__profiler_fmt_ns(b[1], 16, (double)s->total_ns), (unsigned long long)s->count,
            hv__profiler_fmt_ns(b[2], 16, s->mean_ns),
            hv__profiler_fmt_ns(b[3], 16, (double)s->p50_ns),
            hv__profiler_fmt_ns(b[4], 16, (double)s->p99_ns),
            hv__profiler_fmt_ns(b[5], 16, (double)s->max_ns));
}

static void table_section(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    fputs("<h2>Stages</h2>\n<table class=\"stages\">\n<tr><th>rank</th><th class=\"l\">operation"
          "</th><th>% of cycle</th><th>self</th><th>total</th><th>count</th><th>mean</th>"
          "<th>p50</th><th>p99</th><th>max</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        hv_profiler_stage_stats s;
        char rank[24];
        hv_profiler_stage_stats_get(p, ids[i], &s);
        snprintf(rank, sizeof(rank), "%zu", i + 1);
        stage_row(f, rank, &s);
    }
    for (uint32_t i = 1; i < p->nstages; i++) {
        if (p->stages[i].kind != HV_STAGE_EXTERNAL)
            continue;
        hv_profiler_stage_stats s;
        hv_profiler_stage_stats_get(p, (int)i, &s);
        stage_row(f, "ext", &s);
    }
    fputs("</table>\n<p class=\"note\">Shares use self time (nested stages are not counted "
          "twice); latencies are inclusive times per occurrence. \"ext\" rows are external "
          "durations (e.g. simulated exchange latency), not CPU time.</p>\n",
          f);
}

static void bar_row(FILE *f, size_t row, const char *name, double share, uint64_t self_ns,
                    const char *cls)
{
    char b[16];
    double y = 10 + (double)row * ROW_H, w = share * BAR_AREA;
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 8, y + 14);
    esc(f, name);
    fprintf(f, "</text><rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"%d\"/>", cls,
            LABEL_W, y + 2, w < 0.5 && share > 0 ? 0.5 : w, ROW_H - 6);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.1f%% (%s)</text>\n", LABEL_W + w + 6, y + 14,
            share * 100, hv__profiler_fmt_ns(b, sizeof(b), (double)self_ns));
}

static void stage_time_chart(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    int h = 20 + (int)(n + 1) * ROW_H;
    fputs("<h2>Time per stage (self time, share of cycle)</h2>\n", f);
    fprintf(f,
            "<svg id=\"stage-time\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "role=\"img\">\n",
            CHART_W, h, CHART_W, h);
    for (size_t i = 0; i < n; i++) {
        hv_profiler_stage_stats s;
        hv_profiler_stage_stats_get(p, ids[i], &s);
        bar_row(f, i, s.name, s.share, s.self_ns, "bar");
    }
    double un = sum.cycle_ns ? (double)sum.unattributed_ns / (double)sum.cycle_ns : 0;
    bar_row(f, n, "(unattributed)", un, sum.unattributed_ns, "other");
    fputs("</svg>\n", f);
}

/* x position of value v on a log2 axis whose first bin starts at 2^b0. */
static double log_x(double v, size_t b0, size_t nb, double w)
{
    double l = v < 1 ? 0 : log2(v);
    double x = (l - (double)b0) / (double)nb * w;
    return x < 0 ? 0 : (x > w ? w : x);
}

static void latency_chart(FILE *f, const hv_profiler *p, int id)
{
    hv_profiler_stage_stats s;
    uint64_t bins[64], peak = 0;
    char b[16];
    hv_profiler_stage_stats_get(p, id, &s);
    size_t used = hv__profiler_log2_bins(hv_profiler_stage_hist(p, id), bins), b0 = used;
    for (size_t i = 0; i < used; i++) {
        if (bins[i] && b0 == used)
            b0 = i;
        peak = bins[i] > peak ? bins[i] : peak;
    }
    fputs("<figure><figcaption>", f);
    esc(f, s.name);
    fprintf(f,
            "</figcaption><svg class=\"latency\" id=\"latency-%d\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\">\n",
            id, LAT_W, LAT_H, LAT_W, LAT_H);
    if (s.count == 0) {
        fputs("<text x=\"10\" y=\"20\">no samples</text></svg></figure>\n", f);
        return;
    }
    size_t nb = used - b0;
    double w = LAT_W - 20, bw = w / (double)nb, base = LAT_H - 24, next_label = 0;
    for (size_t i = 0; i < nb; i++) {
        double h = (double)bins[b0 + i] / (double)peak * (base - 10), x0 = 10 + (double)i * bw;
        fprintf(f, "<rect class=\"bin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                x0 + 1, base - h, bw - 2 > 1 ? bw - 2 : 1, h);
        if (x0 < next_label)
            continue; /* labels about 50 px apart so they never overlap */
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x0, base + 14,
                hv__profiler_fmt_ns(b, sizeof(b), ldexp(1.0, (int)(b0 + i))));
        next_label = x0 + 50;
    }
    double x50 = 10 + log_x((double)s.p50_ns, b0, nb, w),
           x99 = 10 + log_x((double)s.p99_ns, b0, nb, w);
    fprintf(f, "\n<line class=\"p50\" x1=\"%.1f\" x2=\"%.1f\" y1=\"8\" y2=\"%.1f\"/>", x50, x50,
            base);
    fprintf(f, "<line class=\"p99\" x1=\"%.1f\" x2=\"%.1f\" y1=\"8\" y2=\"%.1f\"/>", x99, x99,
            base);
    fprintf(f, "<text x=\"%d\" y=\"12\" text-anchor=\"end\">p50 %s, ", LAT_W - 6,
            hv__profiler_fmt_ns(b, sizeof(b), (double)s.p50_ns));
    fprintf(f, "p99 %s</text>\n</svg></figure>\n",
            hv__profiler_fmt_ns(b, sizeof(b), (double)s.p99_ns));
}

static void latency_section(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    fputs("<h2>Latency distribution per stage</h2>\n<p class=\"note\">Inclusive time per "
          "occurrence, log2 bins; orange line p50, red line p99.</p>\n<div class=\"grid\">\n",
          f);
    latency_chart(f, p, HV_PROFILER_CYCLE);
    for (size_t i = 0; i < n; i++)
        latency_chart(f, p, ids[i]);
    for (uint32_t i = 1; i < p->nstages; i++)
        if (p->stages[i].kind == HV_STAGE_EXTERNAL)
            latency_chart(f, p, (int)i);
    fputs("</div>\n", f);
}

typedef struct scale {
    double x0, x1, y0, y1; /* data ranges */
    double w, h;           /* plot area */
} scale;

static double sx(const scale *s, double x)
{
    return PAD + (s->x1 > s->x0 ? (x - s->x0) / (s->x1 - s->x0) : 0.5) * s->w;
}

static double sy(const scale *s, double y)
{
    return 10 + (s->y1 > s->y0 ? (s->y1 - y) / (s->y1 - s->y0) : 0.5) * s->h;
}

static void equity_chart(FILE *f, const hv_report_extra *x, double lo, double hi)
{
    size_t n = x->equity_n;
    scale s = { (double)x->equity_t_ns[0],
                (double)x->equity_t_ns[n - 1],
                lo,
                hi,
                CHART_W - PAD - 10,
                EQ_H - 40 };
    fprintf(f, "<svg id=\"equity-curve\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            CHART_W, EQ_H, CHART_W, EQ_H);
    fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"10\" y2=\"%.1f\"/>", PAD, PAD,
            10 + s.h);
    fprintf(f, "<text x=\"%d\" y=\"20\">%.2f</text><text x=\"%d\" y=\"%.1f\">%.2f</text>\n",
            PAD + 4, hi, PAD + 4, 6 + s.h, lo);
    char b0[16], b1[16];
    fprintf(f, "<text x=\"%d\" y=\"%.1f\">t = %s</text>", PAD, 24 + s.h,
            hv__profiler_fmt_ns(b0, sizeof(b0), s.x0));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">t = %s (simulated)</text>\n",
            PAD + s.w, 24 + s.h, hv__profiler_fmt_ns(b1, sizeof(b1), s.x1));
    fputs("<polyline class=\"eq\" points=\"", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.1f,%.1f ", sx(&s, (double)x->equity_t_ns[i]), sy(&s, x->equity[i]));
    fputs("\"/>\n</svg>\n", f);
}

static void drawdown_chart(FILE *f, const hv_report_extra *x, double dd_max)
{
    size_t n = x->equity_n;
    double top = dd_max > 0 ? dd_max : 0.01;
    scale s = { (double)x->equity_t_ns[0],
                (double)x->equity_t_ns[n - 1],
                -top,
                0,
                CHART_W - PAD - 10,
                EQ_H / 2 - 30 };
    fprintf(f, "<svg id=\"drawdown\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", CHART_W,
            EQ_H / 2, CHART_W, EQ_H / 2);
    fprintf(f, "<text x=\"%d\" y=\"%.1f\">max drawdown of the plotted points %.2f%%</text>\n",
            PAD + 4, 6 + s.h, dd_max * 100);
    fprintf(f, "<polygon class=\"dd\" points=\"%.1f,%.1f ", sx(&s, s.x0), sy(&s, 0));
    double peak = x->equity[0];
    for (size_t i = 0; i < n; i++) {
        peak = x->equity[i] > peak ? x->equity[i] : peak;
        double dd = peak > 0 ? (peak - x->equity[i]) / peak : 0;
        fprintf(f, "%.1f,%.1f ", sx(&s, (double)x->equity_t_ns[i]), sy(&s, -dd));
    }
    fprintf(f, "%.1f,%.1f\"/>\n", sx(&s, s.x1), sy(&s, 0));
    fprintf(f, "<line class=\"axis\" x1=\"%d\" x2=\"%.1f\" y1=\"10\" y2=\"10\"/>\n</svg>\n", PAD,
            PAD + s.w);
}

static void equity_section(FILE *f, const hv_report_extra *x)
{
    if (x == NULL || x->equity_n < 2 || x->equity == NULL || x->equity_t_ns == NULL)
        return;
    double lo = x->equity[0], hi = x->equity[0], peak = x->equity[0], dd_max = 0;
    for (size_t i = 0; i < x->equity_n; i++) {
        double v = x->equity[i];
        if (!isfinite(v))
            return;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        peak = v > peak ? v : peak;
        if (peak > 0 && (peak - v) / peak > dd_max)
            dd_max = (peak - v) / peak;
    }
    fputs("<h2>Equity curve and drawdown</h2>\n", f);
    equity_chart(f, x, lo, hi);
    drawdown_chart(f, x, dd_max);
}

static void alerts_section(FILE *f, const hv_report_extra *x)
{
    if (x == NULL || !x->alerts_watched)
        return;
    fputs("<h2>Alerts</h2>\n", f);
    if (x->alerts_n == 0 || x->alerts == NULL) {
        fputs("<p id=\"alerts\" class=\"note\">No alert was raised.</p>\n", f);
        return;
    }
    fputs("<table id=\"alerts\">\n<tr><th class=\"l\">alert</th><th class=\"l\">severity</th>"
          "<th>raised (s)</th><th>cleared (s)</th><th class=\"l\">message</th></tr>\n",
          f);
    for (size_t i = 0; i < x->alerts_n; i++) {
        const hv_report_alert *a = &x->alerts[i];
        fputs("<tr><td class=\"l\">", f);
        esc(f, a->name ? a->name : "");
        fputs("</td><td class=\"l\">", f);
        esc(f, a->severity ? a->severity : "");
        fprintf(f, "</td><td>%.1f</td><td>", a->raised_s);
        if (a->cleared_s >= 0)
            fprintf(f, "%.1f", a->cleared_s);
        else
            fputs("still raised at the end", f);
        fputs("</td><td class=\"l\">", f);
        esc(f, a->message ? a->message : "");
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
}

int hv_profiler_write_html(const hv_profiler *p, const hv_report_extra *extra, FILE *f)
{
    const char *title = extra && extra->title ? extra->title : "hivewire trading-cycle profile";
    int ids[256];
    size_t n = hv_profiler_rank(p, ids, 256);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    esc(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", STYLE);
    esc(f, title);
    fputs("</h1>\n", f);
    summary_section(f, p, extra);
    alerts_section(f, extra);
    stage_time_chart(f, p, ids, n);
    table_section(f, p, ids, n);
    latency_section(f, p, ids, n);
    equity_section(f, extra);
    fputs("<p class=\"note\">Generated by hivewire " HV_VERSION_STRING ".</p>\n</body>\n</html>\n",
          f);
    return ferror(f) ? HV_EIO : 0;
}

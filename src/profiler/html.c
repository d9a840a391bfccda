/*
 * The HTML report: one self-contained page with inline CSS and SVG (no scripts, no network).
 *
 * Every chart is an <svg> with its plot area framed by axes whose ticks fall on round values
 * (calendar years or months when the points have dates), and whose text sits outside the plot
 * area or in the caption, so no label covers a bar or a line. Each chart says how many points
 * or bars it drew in data-points.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

#include "profiler/profiler_int.h"

#define CHART_W      900
#define LABEL_W      230
#define BAR_AREA     500
#define ROW_H        22
#define LAT_W        340
#define LAT_H        150
#define EQ_H         300
#define DD_H         180
#define PAD_L        70 /* room for the y labels */
#define PAD_R        16
#define PAD_T        12
#define PAD_B        34  /* room for the x labels */
#define CHAR_W       6.5 /* average width of an 11 px label character */
#define TICKS_MAX    24
#define TRADES_SHOWN 10000 /* rows of the HTML trades table; every fill is in trades.csv */

static const char STYLE[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;"
    "max-width:1100px;color:#1d2330;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;"
    "border-bottom:1px solid #ccd;padding-bottom:.2em}"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}"
    "td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #e3e6ee;vertical-align:top}"
    "td:first-child,th:first-child,td.l,th.l{text-align:left}"
    "table.summary td.l{white-space:normal;overflow-wrap:anywhere}"
    "th{background:#f1f3f8}.scroll{overflow-x:auto;max-width:100%}"
    "svg{background:#fafbfd;border:1px solid #e3e6ee;margin:4px 0;display:block}"
    "svg text{font:11px system-ui,sans-serif;fill:#333}"
    ".bar{fill:#3b6fd4}.other{fill:#9aa3b5}.bin{fill:#2f9e75}.inbar{fill:#fff}"
    ".p50{stroke:#d48a1a;stroke-width:1.5}.p99{stroke:#c23b3b;stroke-width:1.5}"
    ".eq{fill:none;stroke:#3b6fd4;stroke-width:1.5}"
    ".bench{fill:none;stroke:#8a93a6;stroke-width:1.2}"
    ".dd{fill:#e9a0a0;stroke:#c23b3b;stroke-width:.8}.ddmark{fill:#c23b3b}"
    ".axis{stroke:#667;stroke-width:1}.gridline{stroke:#e3e6ee;stroke-width:1}"
    ".grid{display:flex;flex-wrap:wrap}figure{margin:0 12px 12px 0}figure.lat{width:342px}"
    "figcaption{font-weight:600}figcaption .note{font-weight:400}.note{color:#667}"
    ".legend span{display:inline-block;width:14px;height:3px;margin:0 4px 3px 10px;"
    "vertical-align:middle}.legend .eq{background:#3b6fd4}.legend .bench{background:#8a93a6}"
    ".legend .p50{background:#d48a1a}.legend .p99{background:#c23b3b}"
    ".partial{background:#fff3cd;border:1px solid #e0c060;padding:.6em 1em;font-weight:600}"
    ".buy{color:#1f7a4d}.sell{color:#b03030}";

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

static const char *day_text(int32_t day, char buf[11])
{
    if (day == HV_REPORT_NO_DAY)
        snprintf(buf, 11, "-");
    else
        hv_day_format(day, buf);
    return buf;
}

/* ---- Axes ------------------------------------------------------------------------------------
 */

/* A plot area and the data ranges it shows. */
typedef struct plot {
    double x0, x1, y0, y1; /* data ranges */
    double left, top, w, h;
} plot;

static double px(const plot *p, double x)
{
    return p->left + (p->x1 > p->x0 ? (x - p->x0) / (p->x1 - p->x0) : 0.5) * p->w;
}

static double py(const plot *p, double y)
{
    return p->top + (p->y1 > p->y0 ? (p->y1 - y) / (p->y1 - p->y0) : 0.5) * p->h;
}

/* 1, 2 or 5 times a power of ten: a step that cuts range into about `ticks` parts. */
static double nice_step(double range, int ticks)
{
    double raw = range / ticks;
    if (!(raw > 0) || !isfinite(raw))
        return 1;
    double mag = pow(10, floor(log10(raw))), norm = raw / mag;
    return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
}

/* A money amount for a y label: "1.05M", "950k", "12.5". */
static void fmt_amount(char *buf, size_t cap, double v, double step)
{
    double a = fabs(v);
    if (a >= 1e9)
        snprintf(buf, cap, "%.*fB", step >= 1e9 ? 0 : step >= 1e8 ? 1 : 2, v / 1e9);
    else if (a >= 1e6)
        snprintf(buf, cap, "%.*fM", step >= 1e6 ? 0 : step >= 1e5 ? 1 : 2, v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, cap, "%.*fk", step >= 1e3 ? 0 : 1, v / 1e3);
    else
        snprintf(buf, cap, "%.*f", step >= 1 ? 0 : step >= 0.1 ? 1 : 2, v);
}

/* Widens [lo, hi] to whole steps and draws the horizontal grid lines with their labels at the
 * left of the plot. percent: labels are fractions shown in %. */
static void y_axis(FILE *f, plot *p, int percent)
{
    if (!(p->y1 > p->y0)) {
        double pad = p->y0 != 0 ? fabs(p->y0) * 0.01 : 1;
        p->y0 -= pad;
        p->y1 += pad;
    }
    double step = nice_step(p->y1 - p->y0, 5);
    p->y0 = floor(p->y0 / step) * step;
    p->y1 = ceil(p->y1 / step) * step;
    for (int i = 0; i <= TICKS_MAX; i++) {
        double v = p->y0 + i * step;
        if (v > p->y1 + step * 1e-9)
            break;
        char b[32];
        if (percent)
            snprintf(b, sizeof(b), "%.*f%%", step * 100 >= 1 ? 0 : 1, v * 100 + 0.0);
        else
            fmt_amount(b, sizeof(b), v, step);
        double y = py(p, v);
        fprintf(f, "<line class=\"gridline\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>",
                p->left, p->left + p->w, y, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", p->left - 6,
                y + 4, b);
    }
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", p->left,
            p->left, p->top, p->top + p->h);
}

static void x_tick(FILE *f, const plot *p, double x, const char *label, double *next_free)
{
    double at = px(p, x), half = (double)strlen(label) * CHAR_W / 2;
    if (at < p->left - 0.5 || at > p->left + p->w + 0.5 || at - half < *next_free)
        return; /* outside, or it would touch the previous label */
    double base = p->top + p->h;
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", at, at,
            base, base + 4);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", at, base + 17,
            label);
    *next_free = at + half + 8;
}

/* Calendar ticks for an x axis in days: years (every 1, 2, 5, ... years), else months, else
 * days. */
static void x_axis_days(FILE *f, const plot *p)
{
    double next_free = 0;
    int y0, m0, d0, y1, m1, d1;
    hv_day_to_date((int32_t)floor(p->x0), &y0, &m0, &d0);
    hv_day_to_date((int32_t)ceil(p->x1), &y1, &m1, &d1);
    double span = p->x1 - p->x0;
    char b[16];
    if (span > 2 * 365) {
        int step = (int)nice_step(span / 365.25, 8);
        step = step < 1 ? 1 : step;
        for (int y = (y0 / step) * step; y <= y1 + 1; y += step) {
            int32_t day;
            if (y < 1 || hv_date_to_day(y, 1, 1, &day) != 0)
                continue;
            snprintf(b, sizeof(b), "%d", y);
            x_tick(f, p, day, b, &next_free);
        }
    } else if (span > 60) {
        int step = span > 540 ? 6 : span > 270 ? 3 : span > 120 ? 2 : 1;
        for (int k = (y0 * 12 + m0 - 1) / step * step; k <= y1 * 12 + m1; k += step) {
            int32_t day;
            if (hv_date_to_day(k / 12, k % 12 + 1, 1, &day) != 0)
                continue;
            snprintf(b, sizeof(b), "%04d-%02d", k / 12, k % 12 + 1);
            x_tick(f, p, day, b, &next_free);
        }
    } else {
        double step = nice_step(span > 0 ? span : 1, 8);
        step = step < 1 ? 1 : step;
        for (double d = ceil(p->x0 / step) * step; d <= p->x1; d += step) {
            day_text((int32_t)d, b);
            x_tick(f, p, d, b, &next_free);
        }
    }
}

/* Ticks for an x axis of simulated nanoseconds. */
static void x_axis_ns(FILE *f, const plot *p)
{
    double next_free = 0, step = nice_step(p->x1 - p->x0 > 0 ? p->x1 - p->x0 : 1, 8);
    for (double t = ceil(p->x0 / step) * step; t <= p->x1; t += step) {
        char b[16];
        hv__profiler_fmt_ns(b, sizeof(b), t);
        x_tick(f, p, t, b, &next_free);
    }
}

static void x_axis(FILE *f, const plot *p, int dated)
{
    double base = p->top + p->h;
    fprintf(f, "<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>\n", p->left,
            p->left + p->w, base, base);
    if (dated)
        x_axis_days(f, p);
    else
        x_axis_ns(f, p);
}

/* ---- Summary and returns --------------------------------------------------------------------
 */

static void summary_section(FILE *f, const hv_profiler *p, const hv_report_extra *x)
{
    hv_profiler_summary sum;
    hv_profiler_stage_stats c;
    char b1[16], b2[16], b3[16], b4[16];
    hv_profiler_summary_get(p, &sum);
    hv_profiler_stage_stats_get(p, HV_PROFILER_CYCLE, &c);
    fputs("<h2>Summary</h2>\n<table class=\"summary\" id=\"summary\">\n", f);
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
    fprintf(f, "<tr><td>profiled cycles</td><td class=\"l\">%llu (%.0f cycles/s busy)</td></tr>\n",
            (unsigned long long)sum.cycles, sum.cycles_per_s);
    fprintf(f,
            "<tr><td>cycle latency</td><td class=\"l\">mean %s, p50 %s, p99 %s, max %s</td></tr>\n",
            hv__profiler_fmt_ns(b1, sizeof(b1), c.mean_ns),
            hv__profiler_fmt_ns(b2, sizeof(b2), (double)c.p50_ns),
            hv__profiler_fmt_ns(b3, sizeof(b3), (double)c.p99_ns),
            hv__profiler_fmt_ns(b4, sizeof(b4), (double)c.max_ns));
    fputs("</table>\n", f);
}

static void cell_pct(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "<td>%.2f%%</td>", v * 100);
    else
        fputs("<td>-</td>", f);
}

static void cell_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "<td>%.2f</td>", v);
    else
        fputs("<td>-</td>", f);
}

static void cell_moment(FILE *f, uint64_t t_ns, int32_t day)
{
    char b[16];
    if (t_ns == UINT64_MAX)
        fputs("<td>not recovered</td>", f);
    else if (day != HV_REPORT_NO_DAY)
        fprintf(f, "<td>%s</td>", day_text(day, b));
    else
        fprintf(f, "<td>t = %s</td>", hv__profiler_fmt_ns(b, sizeof(b), (double)t_ns));
}

typedef enum { R_PCT, R_NUM, R_PEAK, R_TROUGH, R_RECOVERY, R_COUNT } row_kind;

static void returns_row(FILE *f, const char *name, row_kind k, size_t off,
                        const hv_report_returns *const *legs, int nlegs)
{
    fprintf(f, "<tr><td>%s</td>", name);
    for (int i = 0; i < nlegs; i++) {
        const hv_report_returns *r = legs[i];
        double v;
        memcpy(&v, (const char *)r + off, sizeof(v));
        if (k == R_PCT)
            cell_pct(f, v);
        else if (k == R_NUM)
            cell_num(f, v);
        else if (k == R_PEAK)
            cell_moment(f, r->max_drawdown_peak_t_ns, r->max_drawdown_peak_day);
        else if (k == R_TROUGH)
            cell_moment(f, r->max_drawdown_trough_t_ns, r->max_drawdown_trough_day);
        else if (k == R_RECOVERY)
            cell_moment(f, r->max_drawdown_recovery_t_ns, r->max_drawdown_recovery_day);
        else
            fprintf(f, "<td>%" PRIu64 "</td>", r->periods);
    }
    fputs("</tr>\n", f);
}

static void returns_section(FILE *f, const hv_report_extra *x)
{
    if (x == NULL || x->returns == NULL)
        return;
    const hv_report_returns *legs[2] = { x->returns, x->benchmark_returns };
    int n = x->benchmark_returns != NULL ? 2 : 1;
    fputs("<h2>Returns</h2>\n<table id=\"returns\">\n<tr><th class=\"l\">statistic</th>"
          "<th>strategy</th>",
          f);
    if (n == 2)
        fputs("<th>buy and hold</th>", f);
    fputs("</tr>\n", f);
#define OFF(m) offsetof(hv_report_returns, m)
    returns_row(f, "total return", R_PCT, OFF(total_return), legs, n);
    returns_row(f, "annualised return", R_PCT, OFF(annual_return), legs, n);
    returns_row(f, "volatility (annualised)", R_PCT, OFF(volatility), legs, n);
    returns_row(f, "Sharpe ratio (risk-free 0)", R_NUM, OFF(sharpe), legs, n);
    returns_row(f, "Sortino ratio", R_NUM, OFF(sortino), legs, n);
    returns_row(f, "max drawdown", R_PCT, OFF(max_drawdown), legs, n);
    returns_row(f, "&nbsp;&nbsp;from the peak of", R_PEAK, 0, legs, n);
    returns_row(f, "&nbsp;&nbsp;to the trough of", R_TROUGH, 0, legs, n);
    returns_row(f, "&nbsp;&nbsp;back at the peak", R_RECOVERY, 0, legs, n);
    returns_row(f, "win rate (periods that gained)", R_PCT, OFF(win_rate), legs, n);
    returns_row(f, "exposure (periods in the market)", R_PCT, OFF(exposure), legs, n);
    returns_row(f, "turnover (per year, x mean equity)", R_NUM, OFF(turnover), legs, n);
    returns_row(f, "periods", R_COUNT, 0, legs, n);
    returns_row(f, "years", R_NUM, OFF(years), legs, n);
#undef OFF
    fputs("</table>\n<p class=\"note\">Per-period (bar) returns, annualised with the periods "
          "per year of the calendar span; buy and hold puts the initial cash into the same "
          "series at its first close, without fees.</p>\n",
          f);
}

/* ---- Equity and drawdown ---------------------------------------------------------------------
 */

/* The x of point i: its calendar day when there are dates, else its simulated time. */
static double point_x(const hv_report_extra *x, size_t i)
{
    return x->equity_day != NULL ? (double)x->equity_day[i] : (double)x->equity_t_ns[i];
}

static void polyline(FILE *f, const plot *p, const hv_report_extra *x, const double *y,
                     const char *cls)
{
    fprintf(f, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < x->equity_n; i++)
        fprintf(f, "%.1f,%.1f ", px(p, point_x(x, i)), py(p, y[i]));
    fputs("\"/>\n", f);
}

static void equity_chart(FILE *f, const hv_report_extra *x)
{
    int dated = x->equity_day != NULL;
    plot p = {
        point_x(x, 0),           point_x(x, x->equity_n - 1), INFINITY, -INFINITY, PAD_L, PAD_T,
        CHART_W - PAD_L - PAD_R, EQ_H - PAD_T - PAD_B
    };
    for (size_t i = 0; i < x->equity_n; i++) {
        p.y0 = fmin(p.y0, x->equity[i]);
        p.y1 = fmax(p.y1, x->equity[i]);
        if (x->benchmark != NULL) {
            p.y0 = fmin(p.y0, x->benchmark[i]);
            p.y1 = fmax(p.y1, x->benchmark[i]);
        }
    }
    fprintf(f,
            "<figure><figcaption>Equity <span class=\"note\">(%s)</span></figcaption>\n"
            "<svg id=\"equity-curve\" data-points=\"%zu\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\">\n",
            dated ? "calendar dates" : "simulated time", x->equity_n, CHART_W, EQ_H, CHART_W, EQ_H);
    y_axis(f, &p, 0);
    x_axis(f, &p, dated);
    if (x->benchmark != NULL)
        polyline(f, &p, x, x->benchmark, "bench");
    polyline(f, &p, x, x->equity, "eq");
    fputs("</svg>\n<div class=\"legend\"><span class=\"eq\"></span>strategy", f);
    if (x->benchmark != NULL)
        fputs("<span class=\"bench\"></span>buy and hold of the same series", f);
    fputs("</div></figure>\n", f);
}

static void drawdown_chart(FILE *f, const hv_report_extra *x, const double *dd)
{
    int dated = x->equity_day != NULL;
    size_t deepest = 0;
    for (size_t i = 0; i < x->equity_n; i++)
        deepest = dd[i] > dd[deepest] ? i : deepest;
    plot p = { point_x(x, 0),
               point_x(x, x->equity_n - 1),
               -(dd[deepest] > 0 ? dd[deepest] : 0.01),
               0,
               PAD_L,
               PAD_T,
               CHART_W - PAD_L - PAD_R,
               DD_H - PAD_T - PAD_B };
    char when[16];
    if (dated)
        day_text(x->equity_day[deepest], when);
    else
        hv__profiler_fmt_ns(when, sizeof(when), (double)x->equity_t_ns[deepest]);
    fprintf(f,
            "<figure><figcaption>Drawdown from the running peak <span class=\"note\">(deepest "
            "%.3f%% at %s%s)</span></figcaption>\n"
            "<svg id=\"drawdown\" data-points=\"%zu\" data-max=\"%.6f\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            dd[deepest] * 100, dated ? "" : "t = ", when, x->equity_n, dd[deepest], CHART_W, DD_H,
            CHART_W, DD_H);
    y_axis(f, &p, 1);
    x_axis(f, &p, dated);
    fprintf(f, "<polygon class=\"dd\" points=\"%.1f,%.1f ", px(&p, p.x0), py(&p, 0));
    for (size_t i = 0; i < x->equity_n; i++)
        fprintf(f, "%.1f,%.1f ", px(&p, point_x(x, i)), py(&p, -dd[i]));
    fprintf(f, "%.1f,%.1f\"/>\n", px(&p, p.x1), py(&p, 0));
    fprintf(f, "<circle class=\"ddmark\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n</svg></figure>\n",
            px(&p, point_x(x, deepest)), py(&p, -dd[deepest]));
}

static void equity_section(FILE *f, const hv_report_extra *x)
{
    if (x == NULL || x->equity_n < 2 || x->equity == NULL || x->equity_t_ns == NULL)
        return;
    double peak = x->equity[0];
    for (size_t i = 0; i < x->equity_n; i++)
        if (!isfinite(x->equity[i]) || (x->benchmark && !isfinite(x->benchmark[i])))
            return;
    fputs("<h2>Equity curve and drawdown</h2>\n", f);
    equity_chart(f, x);
    if (x->drawdown_frac != NULL) {
        drawdown_chart(f, x, x->drawdown_frac);
        return;
    }
    /* without the exact drawdown: from the points given (a thinned curve may understate it) */
    double *dd = malloc(x->equity_n * sizeof(double));
    if (dd == NULL)
        return;
    for (size_t i = 0; i < x->equity_n; i++) {
        peak = x->equity[i] > peak ? x->equity[i] : peak;
        dd[i] = peak > 0 ? (peak - x->equity[i]) / peak : 0;
    }
    drawdown_chart(f, x, dd);
    free(dd);
}

/* ---- Trades ----------------------------------------------------------------------------------
 */

static void trade_row(FILE *f, const hv_report_trade *t)
{
    char d[16], tb[16];
    fprintf(f, "<tr><td>%s</td><td>%s</td><td class=\"l %s\">%s</td><td>%" PRId64 "</td>",
            day_text(t->day, d), hv__profiler_fmt_ns(tb, sizeof(tb), (double)t->t_ns),
            t->side == 0 ? "buy" : "sell", t->side == 0 ? "buy" : "sell", t->qty);
    fprintf(f, "<td>%.2f</td><td>%.2f</td><td>%.2f</td><td>%" PRIu64 "</td>", t->price, t->fee,
            t->price * (double)t->qty, t->order_id);
    if (t->proposal_id)
        fprintf(f, "<td>%" PRIu64 "</td>", t->proposal_id);
    else
        fputs("<td>-</td>", f);
    fputs("<td class=\"l\">", f);
    esc(f, t->rule ? t->rule : "-");
    if (t->voters > 0)
        fprintf(f, "</td><td>%u / %u / %u of %u</td></tr>\n", t->approvals, t->rejections,
                t->abstentions, t->voters);
    else
        fputs("</td><td>-</td></tr>\n", f);
}

static void trades_section(FILE *f, const hv_report_extra *x)
{
    if (x == NULL || x->trades == NULL)
        return;
    uint64_t total = x->trades_total > x->trades_n ? x->trades_total : x->trades_n;
    size_t shown = x->trades_n < TRADES_SHOWN ? x->trades_n : TRADES_SHOWN;
    fprintf(f, "<h2>Trades</h2>\n<p class=\"note\">%" PRIu64 " fills", total);
    if (shown < total)
        fprintf(f,
                "; the first %zu are listed here, every one listed in trades.csv and the "
                "JSON report",
                shown);
    fputs(". Votes: for / against / abstained of the voters.</p>\n", f);
    fputs("<div class=\"scroll\"><table id=\"trades\">\n<tr><th class=\"l\">date</th>"
          "<th>simulated time</th><th class=\"l\">side</th><th>qty</th><th>price</th>"
          "<th>fee</th><th>notional</th><th>order</th><th>proposal</th>"
          "<th class=\"l\">rule</th><th>votes</th></tr>\n",
          f);
    for (size_t i = 0; i < shown; i++)
        trade_row(f, &x->trades[i]);
    fputs("</table></div>\n", f);
}

/* ---- Stages ----------------------------------------------------------------------------------
 */

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

/* A table of the stages recorded apart (kind EXTERNAL or SIMULATED): per occurrence only. */
static void recorded_table(FILE *f, const hv_profiler *p, int kind, const char *id,
                           const char *title, const char *note)
{
    int any = 0;
    for (uint32_t i = 1; i < p->nstages; i++)
        any |= p->stages[i].kind == kind;
    if (!any)
        return;
    fprintf(f,
            "<h3>%s</h3>\n<div class=\"scroll\"><table id=\"%s\">\n<tr><th class=\"l\">"
            "operation</th><th>count</th><th>mean</th><th>p50</th><th>p99</th><th>max</th>"
            "</tr>\n",
            title, id);
    for (uint32_t i = 1; i < p->nstages; i++) {
        if (p->stages[i].kind != kind)
            continue;
        hv_profiler_stage_stats s;
        char b[4][16];
        hv_profiler_stage_stats_get(p, (int)i, &s);
        fputs("<tr><td class=\"l\">", f);
        esc(f, s.name);
        fprintf(f, "</td><td>%llu</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                (unsigned long long)s.count, hv__profiler_fmt_ns(b[0], 16, s.mean_ns),
                hv__profiler_fmt_ns(b[1], 16, (double)s.p50_ns),
                hv__profiler_fmt_ns(b[2], 16, (double)s.p99_ns),
                hv__profiler_fmt_ns(b[3], 16, (double)s.max_ns));
    }
    fprintf(f, "</table></div>\n<p class=\"note\">%s</p>\n", note);
}

static void table_section(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    fputs("<h2>Stages</h2>\n<div class=\"scroll\"><table class=\"stages\" id=\"stages\">\n"
          "<tr><th>rank</th><th class=\"l\">operation</th><th>% of cycle</th><th>self</th>"
          "<th>total</th><th>count</th><th>mean</th><th>p50</th><th>p99</th><th>max</th></tr>\n",
          f);
    for (size_t i = 0; i < n; i++) {
        hv_profiler_stage_stats s;
        char rank[24];
        hv_profiler_stage_stats_get(p, ids[i], &s);
        snprintf(rank, sizeof(rank), "%zu", i + 1);
        stage_row(f, rank, &s);
    }
    fputs("</table></div>\n<p class=\"note\">Shares use self time (nested stages are not "
          "counted twice); latencies are inclusive times per occurrence.</p>\n",
          f);
    recorded_table(f, p, HV_STAGE_EXTERNAL, "external",
                   "Recorded apart (CPU time, not in the cycle share)",
                   "Durations measured elsewhere, such as the CPU time of work that runs in "
                   "parallel with the critical path.");
    recorded_table(f, p, HV_STAGE_SIMULATED, "simulated",
                   "Simulated exchange (simulated clock, not CPU time)",
                   "Times on the simulated exchange's clock: the latency model's round trips "
                   "and the wait for the next bar's fill. They cost no CPU time.");
}

static void bar_row(FILE *f, size_t row, const char *name, double share, uint64_t self_ns,
                    const char *cls)
{
    char b[16], label[48];
    double y = 10 + (double)row * ROW_H, w = share * BAR_AREA;
    snprintf(label, sizeof(label), "%.1f%% (%s)", share * 100,
             hv__profiler_fmt_ns(b, sizeof(b), (double)self_ns));
    double lw = (double)strlen(label) * CHAR_W;
    fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 8, y + 14);
    esc(f, name);
    fprintf(f, "</text><rect class=\"%s\" x=\"%d\" y=\"%.1f\" width=\"%.2f\" height=\"%d\"/>", cls,
            LABEL_W, y + 2, w < 0.5 && share > 0 ? 0.5 : w, ROW_H - 6);
    if (LABEL_W + w + 6 + lw <= CHART_W - 4) /* after the bar, or inside it when that overflows */
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", LABEL_W + w + 6, y + 14, label);
    else
        fprintf(f, "<text class=\"inbar\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                LABEL_W + w - 6, y + 14, label);
}

static void stage_time_chart(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    int h = 20 + (int)(n + 1) * ROW_H;
    fputs("<h2>Time per stage (self time, share of cycle)</h2>\n", f);
    fprintf(f,
            "<svg id=\"stage-time\" data-points=\"%zu\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" role=\"img\">\n",
            n + 1, CHART_W, h, CHART_W, h);
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
    char b[16], b2[16];
    hv_profiler_stage_stats_get(p, id, &s);
    size_t used = hv__profiler_log2_bins(hv_profiler_stage_hist(p, id), bins), b0 = used;
    for (size_t i = 0; i < used; i++) {
        if (bins[i] && b0 == used)
            b0 = i;
        peak = bins[i] > peak ? bins[i] : peak;
    }
    fputs("<figure class=\"lat\"><figcaption>", f);
    esc(f, s.name);
    if (s.count > 0)
        fprintf(f, " <span class=\"note\">p50 %s, p99 %s, n %llu</span>",
                hv__profiler_fmt_ns(b, sizeof(b), (double)s.p50_ns),
                hv__profiler_fmt_ns(b2, sizeof(b2), (double)s.p99_ns), (unsigned long long)s.count);
    size_t nb = s.count > 0 ? used - b0 : 0;
    fprintf(f,
            "</figcaption><svg class=\"latency\" id=\"latency-%d\" data-points=\"%zu\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            id, nb, LAT_W, LAT_H, LAT_W, LAT_H);
    if (s.count == 0) {
        fputs("<text x=\"10\" y=\"20\">no samples</text></svg></figure>\n", f);
        return;
    }
    double w = LAT_W - 20, bw = w / (double)nb, base = LAT_H - 24, next_label = 0;
    for (size_t i = 0; i < nb; i++) {
        double h = (double)bins[b0 + i] / (double)peak * (base - 10), x0 = 10 + (double)i * bw;
        fprintf(f, "<rect class=\"bin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                x0 + 1, base - h, bw - 2 > 1 ? bw - 2 : 1, h);
        hv__profiler_fmt_ns(b, sizeof(b), ldexp(1.0, (int)(b0 + i)));
        if (x0 < next_label || x0 + (double)strlen(b) * CHAR_W > LAT_W)
            continue; /* labels apart, and inside the chart */
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x0, base + 14, b);
        next_label = x0 + (double)strlen(b) * CHAR_W + 10;
    }
    double x50 = 10 + log_x((double)s.p50_ns, b0, nb, w),
           x99 = 10 + log_x((double)s.p99_ns, b0, nb, w);
    fprintf(f, "\n<line class=\"axis\" x1=\"10\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", 10 + w,
            base, base);
    fprintf(f, "<line class=\"p50\" x1=\"%.1f\" x2=\"%.1f\" y1=\"6\" y2=\"%.1f\"/>", x50, x50,
            base);
    fprintf(f,
            "<line class=\"p99\" x1=\"%.1f\" x2=\"%.1f\" y1=\"6\" y2=\"%.1f\"/>\n</svg></figure>\n",
            x99, x99, base);
}

static void latency_group(FILE *f, const hv_profiler *p, int kind, const char *title)
{
    int any = 0;
    for (uint32_t i = 1; i < p->nstages; i++)
        any |= p->stages[i].kind == kind;
    if (!any)
        return;
    fprintf(f, "<h3>%s</h3>\n<div class=\"grid\">\n", title);
    for (uint32_t i = 1; i < p->nstages; i++)
        if (p->stages[i].kind == kind)
            latency_chart(f, p, (int)i);
    fputs("</div>\n", f);
}

static void latency_section(FILE *f, const hv_profiler *p, const int *ids, size_t n)
{
    fputs("<h2>Latency distribution per stage</h2>\n<p class=\"note legend\">Inclusive time "
          "per occurrence, on log2 bins (each bar counts the occurrences from its label to "
          "twice it).<span class=\"p50\"></span>p50<span class=\"p99\"></span>p99</p>\n"
          "<div class=\"grid\">\n",
          f);
    latency_chart(f, p, HV_PROFILER_CYCLE);
    for (size_t i = 0; i < n; i++)
        latency_chart(f, p, ids[i]);
    fputs("</div>\n", f);
    latency_group(f, p, HV_STAGE_EXTERNAL, "Recorded apart (CPU time)");
    latency_group(f, p, HV_STAGE_SIMULATED, "Simulated exchange (simulated clock)");
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
    if (extra != NULL && extra->partial)
        fputs("<p class=\"partial\" id=\"partial\">Partial report: the run was stopped before "
              "its end. Every figure covers only the cycles that ran.</p>\n",
              f);
    summary_section(f, p, extra);
    returns_section(f, extra);
    equity_section(f, extra);
    alerts_section(f, extra);
    stage_time_chart(f, p, ids, n);
    table_section(f, p, ids, n);
    latency_section(f, p, ids, n);
    trades_section(f, extra);
    fputs("<p class=\"note\">Generated by hivewire " HV_VERSION_STRING ".</p>\n</body>\n</html>\n",
          f);
    return ferror(f) ? HV_EIO : 0;
}

/* The report of a simulated-market run: summary, JSON, HTML and trades (cli/report.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hivewire/consensus.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "cli/sim.h"

/* ---- Checking the outputs before the run ---------------------------------------------------
 */

/* mkdir -p: 0, or -1 with the path that could not be made in failed[cap] and errno set. */
static int make_dirs(const char *dir, char *failed, size_t cap)
{
    char path[4096];
    int w = snprintf(path, sizeof(path), "%s", dir);
    if (w <= 0 || (size_t)w >= sizeof(path)) {
        snprintf(failed, cap, "%s", dir);
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            snprintf(failed, cap, "%s", path);
            return -1;
        }
        *p = c;
        if (c == 0)
            return 0;
    }
}

int hv__cli_out_check(const char *cmd, const char *option, const char *dir,
                      const char *const *names)
{
    char failed[4096], path[4200];
    struct stat st;
    if (make_dirs(dir, failed, sizeof(failed)) != 0) {
        hv__cli_error(cmd, "%s: cannot create %s: %s", option, failed, strerror(errno));
        return HV_EXIT_FAIL;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        hv__cli_error(cmd, "%s: %s is not a directory", option, dir);
        return HV_EXIT_FAIL;
    }
    snprintf(path, sizeof(path), "%s/.hivewire-write-check-%ld", dir, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        hv__cli_error(cmd, "%s: cannot write in %s: %s", option, dir, strerror(errno));
        return HV_EXIT_FAIL;
    }
    close(fd);
    unlink(path);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) != 0)
            continue; /* made by the write */
        fd = S_ISDIR(st.st_mode) ? -1 : open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            hv__cli_error(cmd, "%s: cannot write %s: %s", option, path,
                          S_ISDIR(st.st_mode) ? "it is a directory" : strerror(errno));
            return HV_EXIT_FAIL;
        }
        close(fd);
    }
    return 0;
}

/* ---- Building the report ---------------------------------------------------------------------
 */

int hv__cli_report_init(hv_cli_report *r, const char *cmd, const hv_bar *bars, size_t n,
                        uint64_t bar_ns, double cash)
{
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    r->base = cmd;
    r->trades_file = "trades.csv";
    r->bars = bars;
    r->nbars = n;
    r->bar_ns = bar_ns;
    r->cash = cash;
    if (hv__report_series_init(&r->series, 0) != 0) {
        hv__cli_error(cmd, "out of memory");
        return HV_EXIT_FAIL;
    }
    hv__report_series_traded(&r->series, 1, cash); /* buy and hold buys once */
    return 0;
}

void hv__cli_report_fini(hv_cli_report *r)
{
    hv__report_series_fini(&r->series);
    free(r->trades);
    json_decref(r->config);
    json_decref(r->result);
    memset(r, 0, sizeof(*r));
}

void hv__cli_report_bar(hv_cli_report *r, size_t i, double equity, int64_t position)
{
    if (i >= r->nbars)
        return;
    double first = r->bars[0].close;
    double eq[HV__RS_LEGS] = { equity, first > 0 ? r->cash * r->bars[i].close / first : NAN };
    int exposed[HV__RS_LEGS] = { r->position_prev != 0 || position != 0, 1 };
    hv__report_series_push(&r->series, (uint64_t)i * r->bar_ns, r->bars[i].day, eq, exposed);
    r->position_prev = position;
}

void hv__cli_report_trade(hv_cli_report *r, const hv_report_trade *t)
{
    r->trades_total++;
    hv__report_series_traded(&r->series, 0, (double)t->qty * t->price);
    if (r->ntrades == r->trades_cap) {
        if (r->trades_cap >= HV_CLI_TRADES_MAX)
            return; /* counted in trades_total; the reports say how many are listed */
        size_t cap = r->trades_cap ? r->trades_cap * 2 : 256;
        hv_report_trade *nt = realloc(r->trades, cap * sizeof(*nt));
        if (nt == NULL)
            return;
        r->trades = nt;
        r->trades_cap = cap;
    }
    hv_report_trade *d = &r->trades[r->ntrades++];
    *d = *t;
    uint64_t bar = r->bar_ns ? t->t_ns / r->bar_ns : 0;
    d->day = r->nbars == 0 ? HV_REPORT_NO_DAY : r->bars[bar < r->nbars ? bar : r->nbars - 1].day;
}

void hv__cli_report_add(hv_cli_report *r, const char *key, const char *fmt, ...)
{
    if (r->nrows == HV_REPORT_SUMMARY_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->text[r->nrows], sizeof(r->text[0]), fmt, ap);
    va_end(ap);
    r->keys[r->nrows] = key;
    r->vals[r->nrows] = r->text[r->nrows];
    r->nrows++;
}

static const char *pct(char *buf, size_t cap, double v)
{
    if (isfinite(v))
        snprintf(buf, cap, "%.2f%%", v * 100);
    else
        snprintf(buf, cap, "-");
    return buf;
}

static const char *fixed2(char *buf, size_t cap, double v)
{
    if (isfinite(v))
        snprintf(buf, cap, "%.2f", v);
    else
        snprintf(buf, cap, "-");
    return buf;
}

/* A moment of the series: its date, or its simulated time without dates. */
static const char *when(char buf[32], int32_t day, uint64_t t_ns)
{
    if (t_ns == UINT64_MAX)
        snprintf(buf, 32, "not yet");
    else if (day != HV_REPORT_NO_DAY)
        hv_day_format(day, buf);
    else
        snprintf(buf, 32, "t = %.1f days", (double)t_ns / 864e11);
    return buf;
}

static void compute_returns(hv_cli_report *r)
{
    hv__report_series_returns(&r->series, 0, &r->returns[0]);
    hv__report_series_returns(&r->series, 1, &r->returns[1]);
}

void hv__cli_report_returns_rows(hv_cli_report *r)
{
    hv_report_returns *s = &r->returns[0], *b = &r->returns[1];
    compute_returns(r);
    char a[5][32], d[3][32];
    hv__cli_report_add(r, "annualised return", "%s over %.1f years (volatility %s)",
                       pct(a[0], 32, s->annual_return), isfinite(s->years) ? s->years : 0.0,
                       pct(a[1], 32, s->volatility));
    hv__cli_report_add(r, "sharpe / sortino", "%s / %s (annualised, risk-free rate 0)",
                       fixed2(a[0], 32, s->sharpe), fixed2(a[1], 32, s->sortino));
    hv__cli_report_add(r, "drawdown dates", "peak %s, trough %s, recovered %s",
                       when(d[0], s->max_drawdown_peak_day, s->max_drawdown_peak_t_ns),
                       when(d[1], s->max_drawdown_trough_day, s->max_drawdown_trough_t_ns),
                       when(d[2], s->max_drawdown_recovery_day, s->max_drawdown_recovery_t_ns));
    hv__cli_report_add(r, "win rate / exposure", "%s of moving bars gained; %s in the market",
                       pct(a[0], 32, s->win_rate), pct(a[1], 32, s->exposure));
    hv__cli_report_add(r, "turnover", "%s x the mean equity a year", fixed2(a[0], 32, s->turnover));
    hv__cli_report_add(r, "buy and hold", "return %s, annualised %s, max drawdown %s, Sharpe %s",
                       pct(a[0], 32, b->total_return), pct(a[1], 32, b->annual_return),
                       pct(a[2], 32, b->max_drawdown), fixed2(a[3], 32, b->sharpe));
}

/* ---- The terminal ---------------------------------------------------------------------------
 */

/* One row: the key, then the value in the columns left, wrapped at spaces (never inside a
 * word: a word longer than the line stands alone on its line). */
void hv__cli_print_row(FILE *f, const char *key, const char *val, int wide)
{
    const size_t width = HV_CLI_SUMMARY_COLS - HV_CLI_KEY_W - 1;
    fprintf(f, "%-*s ", HV_CLI_KEY_W, key);
    size_t len = strlen(val);
    if (wide || len <= width) {
        fprintf(f, "%s\n", val);
        return;
    }
    const char *p = val;
    while (*p) {
        size_t left = strlen(p), cut = left;
        if (left > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0) /* one long word: up to its end */
                for (cut = width; p[cut] != 0 && p[cut] != ' '; cut++)
                    ;
        }
        fprintf(f, "%.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
        if (*p)
            fprintf(f, "%-*s ", HV_CLI_KEY_W, "");
    }
}

void hv__cli_report_print_rows(const hv_cli_report *r, FILE *f)
{
    for (size_t i = 0; i < r->nrows; i++)
        hv__cli_print_row(f, r->keys[i], r->vals[i], r->wide);
}

/* ---- The files -------------------------------------------------------------------------------
 */

/* What goes into one file: the JSON text, the HTML page or the trades. */
typedef struct out_body {
    const char *text;     /* the JSON document */
    const hv_profiler *p; /* the HTML page */
    const hv_report_extra *x;
    int trades; /* the trades */
} out_body;

/* One line per fill: date, simulated time, side, quantity, price, fee, order, proposal, the
 * rule and votes of its decision (empty where there was none). */
static void trades_csv(const hv_cli_report *r, FILE *f)
{
    fputs("date,t_ns,side,qty,price,fee,order_id,proposal_id,rule,approvals,rejections,"
          "abstentions,voters\n",
          f);
    for (size_t i = 0; i < r->ntrades; i++) {
        const hv_report_trade *t = &r->trades[i];
        char d[11] = "";
        if (t->day != HV_REPORT_NO_DAY)
            hv_day_format(t->day, d);
        fprintf(f, "%s,%" PRIu64 ",%s,%" PRId64 ",%.17g,%.17g,%" PRIu64 ",", d, t->t_ns,
                t->side == 0 ? "buy" : "sell", t->qty, t->price, t->fee, t->order_id);
        if (t->proposal_id)
            fprintf(f, "%" PRIu64, t->proposal_id);
        fprintf(f, ",%s,", t->rule ? t->rule : "");
        if (t->voters)
            fprintf(f, "%u,%u,%u,%u", t->approvals, t->rejections, t->abstentions, t->voters);
        else
            fputs(",,,", f);
        fputc('\n', f);
    }
}

/* Writes DIR/name and says so (unless quiet). 0 or HV_EXIT_FAIL (message printed). */
static int write_file(const hv_cli_report *r, const char *name, const out_body *b)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", r->dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        hv__cli_error(r->cmd, "cannot write %s: %s", path, strerror(errno));
        return HV_EXIT_FAIL;
    }
    int ok = 1;
    if (b->text != NULL)
        ok = fputs(b->text, f) >= 0 && fputc('\n', f) != EOF;
    else if (b->p != NULL)
        ok = hv_profiler_write_html(b->p, b->x, f) == 0;
    else
        trades_csv(r, f);
    if (fclose(f) != 0 || !ok) {
        hv__cli_error(r->cmd, "cannot write %s", path);
        return HV_EXIT_FAIL;
    }
    if (!r->quiet)
        fprintf(stderr, "hivewire %s: wrote %s\n", r->cmd, path);
    return 0;
}

/* The points to plot, as the columns hv_report_extra takes. */
typedef struct columns {
    size_t n;
    hv__rs_point *pts;
    uint64_t *t_ns;
    int32_t *day;
    double *equity, *bench, *dd;
} columns;

static int columns_make(const hv_cli_report *r, columns *c)
{
    memset(c, 0, sizeof(*c));
    c->n = hv__report_series_points(&r->series, NULL, 0);
    if (c->n == 0)
        return 0;
    c->pts = calloc(c->n, sizeof(*c->pts));
    c->t_ns = calloc(c->n, sizeof(*c->t_ns));
    c->day = calloc(c->n, sizeof(*c->day));
    c->equity = calloc(c->n, sizeof(double));
    c->bench = calloc(c->n, sizeof(double));
    c->dd = calloc(c->n, sizeof(double));
    if (!c->pts || !c->t_ns || !c->day || !c->equity || !c->bench || !c->dd)
        return -1;
    hv__report_series_points(&r->series, c->pts, c->n);
    for (size_t i = 0; i < c->n; i++) {
        c->t_ns[i] = c->pts[i].t_ns;
        c->day[i] = c->pts[i].day;
        c->equity[i] = c->pts[i].equity[0];
        c->bench[i] = c->pts[i].equity[1];
        c->dd[i] = c->pts[i].drawdown[0];
    }
    return 0;
}

static void columns_free(columns *c)
{
    free(c->pts);
    free(c->t_ns);
    free(c->day);
    free(c->equity);
    free(c->bench);
    free(c->dd);
}

static char *dump(const json_t *j)
{
    return j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
                     : strdup("null");
}

/* A JSON text of the string s (malloc'd). */
static char *dump_string(const char *s)
{
    json_t *j = json_string(s);
    char *out = dump(j);
    json_decref(j);
    return out;
}

static int emit_files(hv_cli_report *r, const hv_profiler *p, const hv_report_extra *x,
                      const char *doc)
{
    char json[256], html[256];
    snprintf(json, sizeof(json), "%s.json", r->base);
    snprintf(html, sizeof(html), "%s.html", r->base);
    const out_body as_json = { .text = doc }, as_html = { .p = p, .x = x },
                   as_csv = { .trades = 1 };
    if (write_file(r, json, &as_json) != 0 || write_file(r, html, &as_html) != 0)
        return HV_EXIT_FAIL;
    return write_file(r, r->trades_file, &as_csv);
}

int hv__cli_report_emit(hv_cli_report *r, const hv_profiler *p, const char *title,
                        const hv_report_extra *alerts)
{
    static const hv_report_trade no_trades[1];
    static const char *const names[3] = { "command", "config", "result" };
    columns c;
    compute_returns(r);
    char *cmd = dump_string(r->cmd), *cfg = dump(r->config), *res = dump(r->result);
    const char *values[3] = { cmd, cfg, res };
    int rc = columns_make(r, &c);
    hv_report_extra x = { .title = title,
                          .summary_n = r->nrows,
                          .summary_keys = r->keys,
                          .summary_values = r->vals,
                          .equity_n = c.n,
                          .equity_t_ns = c.t_ns,
                          .equity = c.equity,
                          .equity_day = c.day,
                          .benchmark = c.bench,
                          .drawdown_frac = c.dd,
                          .returns = r->series.points > 0 ? &r->returns[0] : NULL,
                          .benchmark_returns = r->series.points > 0 ? &r->returns[1] : NULL,
                          .trades_n = r->ntrades,
                          .trades = r->ntrades > 0 ? r->trades : no_trades,
                          .trades_total = r->trades_total,
                          .partial = r->partial,
                          .json_n = 3,
                          .json_names = names,
                          .json_values = values };
    if (alerts != NULL) {
        x.alerts_watched = alerts->alerts_watched;
        x.alerts_n = alerts->alerts_n;
        x.alerts = alerts->alerts;
    }
    char *doc = rc == 0 && cmd && cfg && res ? hv_profiler_json(p, &x) : NULL;
    if (doc == NULL) {
        hv__cli_error(r->cmd, "out of memory");
        rc = HV_EXIT_FAIL;
    } else if (r->json) {
        rc = puts(doc) >= 0 ? 0 : HV_EXIT_FAIL;
    } else {
        hv__cli_report_print_rows(r, stdout);
        if (!r->quiet) {
            printf("\n%s\n", r->stages_heading ? r->stages_heading : "stages (self time)");
            hv_profiler_write_table_flags(p, stdout, r->wide ? HV_PROFILER_TABLE_WIDE : 0);
        }
    }
    fflush(stdout);
    if (rc == 0 && r->dir != NULL)
        rc = emit_files(r, p, &x, doc);
    free(doc);
    free(cmd);
    free(cfg);
    free(res);
    columns_free(&c);
    return rc;
}

/* ---- JSON helpers ----------------------------------------------------------------------------
 */

json_t *hv__cli_limits_json(const hv_limits_opts *l)
{
    return json_pack("{s:I, s:f, s:f, s:I, s:I}", "max_position", (json_int_t)l->position_max,
                     "max_notional", l->order_notional_max, "max_drawdown", l->drawdown_max_frac,
                     "max_orders", (json_int_t)l->orders_per_interval_max, "interval_days",
                     (json_int_t)(l->interval_ns / 86400000000000ull));
}

json_t *hv__cli_exchange_json(const hv_exchange_opts *x)
{
    return json_pack("{s:f, s:f, s:f, s:I, s:I}", "fee_bps", x->fee_bps, "fee_min", x->fee_min,
                     "participation", x->participation_max, "latency_us",
                     (json_int_t)(x->latency_fixed_ns / 1000), "jitter_us",
                     (json_int_t)(x->latency_jitter_ns / 1000));
}

json_t *hv__cli_bars_json(const hv_cli_bars_opts *o, const hv_series *s)
{
    json_t *d = json_object();
    json_object_set_new(d, "file", o->synthetic ? json_null() : json_string(o->data));
    json_object_set_new(d, "symbol", o->symbol ? json_string(o->symbol) : json_null());
    json_object_set_new(d, "synthetic_bars",
                        o->synthetic ? json_integer((json_int_t)o->synthetic) : json_null());
    json_object_set_new(d, "bar_seconds", json_integer((json_int_t)(o->bar_ns / 1000000000u)));
    json_object_set_new(d, "bars", json_integer((json_int_t)s->len));
    if (s->len > 0) {
        char a[11], b[11];
        hv_day_format(s->bars[0].day, a);
        hv_day_format(s->bars[s->len - 1].day, b);
        json_object_set_new(d, "first_date", json_string(a));
        json_object_set_new(d, "last_date", json_string(b));
    }
    return d;
}

json_t *hv__cli_json_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *hv__cli_json_doc(const char *command)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema_version", json_integer(HV_REPORT_SCHEMA_VERSION));
    json_object_set_new(doc, "command", json_string(command));
    return doc;
}

int hv__cli_json_print(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (s == NULL)
        return HV_EXIT_FAIL;
    int ok = puts(s) >= 0;
    free(s);
    fflush(stdout);
    return ok ? 0 : HV_EXIT_FAIL;
}

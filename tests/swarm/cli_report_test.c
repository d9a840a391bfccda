/*
 * The reports of `hivewire run` and `hivewire backtest`, end to end on the built binary
 * (HV_BIN): the --json document on stdout is the one written to run.json, typed, with its
 * schema version and configuration; trades.csv lists every fill of the JSON; and every return
 * statistic equals the one computed here, independently, by replaying the fills of trades.csv
 * on the bars of the input file (the fills of a bar are booked at the next bar, the position
 * marked at each close). The plotted curve holds the true extremes. Ctrl-C stops a run at a
 * cycle boundary with partial reports (and, with --serve, a second one ends the serving).
 */
#include "hv_test.h"

#include <math.h>
#include <sys/stat.h>

#include <jansson.h>

#include <hivewire/market.h>
#include <hivewire/profiler.h>

#include "obs/runproc.h"

#define BARS   1200
#define BAR_NS 86400000000000ull
#define CASH   1e6

static char dir[64], csv[128];
static hv_series bars;

/* The input: seeded synthetic bars written out as a CSV file (exact doubles). */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hv-cli-report-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(csv, sizeof(csv), "%s/bars.csv", dir);
    hv_gbm_params gp;
    hv_synth g;
    hv_gbm_params_default(&gp);
    hv_series_init(&bars);
    if (hv_synth_init(&g, &gp, 11) != 0 || hv_synth_fill(&g, BARS, &bars) != 0)
        return -1;
    FILE *f = fopen(csv, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "date,open,high,low,close,volume\n");
    for (size_t i = 0; i < bars.len; i++) {
        char d[11];
        const hv_bar *b = &bars.bars[i];
        hv_day_format(b->day, d);
        fprintf(f, "%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", d, b->open, b->high, b->low, b->close,
                b->volume);
    }
    return fclose(f);
}

static int teardown(void **state)
{
    (void)state;
    hv_series_fini(&bars);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs hivewire with args (a shell word list); its stdout (malloc'd) and exit status. */
static char *run_capture(const char *args, int *status)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' %s 2>/dev/null", rp_binary(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 4096)
            out = realloc(out, cap *= 2);
    }
    out[len] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (j == NULL)
        fail_msg("%s: %s (line %d)", path, e.text, e.line);
    return j;
}

/* ---- The replay --------------------------------------------------------------------------- */

typedef struct fill {
    uint64_t t_ns;
    int buy;
    int64_t qty;
    double price, fee;
} fill;

typedef struct book {
    size_t nfills;
    fill *fills;
    double equity[BARS], bench[BARS];
    int64_t position[BARS];
    double notional;
} book;

/* The fills of trades.csv, each checked against the JSON's trade at the same place. */
static void read_trades(const char *path, json_t *trades, book *b, int with_votes)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "date,t_ns,side,qty,price,fee,order_id,proposal_id,rule,approvals,"
                              "rejections,abstentions,voters\n");
    b->fills = calloc(json_array_size(trades) + 1, sizeof(fill));
    while (fgets(line, sizeof(line), f) != NULL) {
        char date[16], side[8], rule[32] = "";
        unsigned long long t, order;
        long long qty;
        double price, fee;
        int used = 0;
        assert_int_equal(sscanf(line, "%10[^,],%llu,%7[^,],%lld,%lf,%lf,%llu,%n", date, &t, side,
                                &qty, &price, &fee, &order, &used),
                         7);
        json_t *jt = json_array_get(trades, b->nfills);
        assert_non_null(jt);
        assert_string_equal(json_string_value(json_object_get(jt, "date")), date);
        assert_true((uint64_t)json_integer_value(json_object_get(jt, "t_ns")) == t);
        assert_string_equal(json_string_value(json_object_get(jt, "side")), side);
        assert_true(json_integer_value(json_object_get(jt, "qty")) == qty);
        assert_true(json_real_value(json_object_get(jt, "price")) == price);
        assert_true(json_real_value(json_object_get(jt, "fee")) == fee);
        assert_true((unsigned long long)json_integer_value(json_object_get(jt, "order_id")) ==
                    order);
        if (with_votes) { /* proposal, rule and the votes of its decision */
            unsigned long long prop;
            unsigned a, r, ab, v;
            assert_int_equal(
                sscanf(line + used, "%llu,%31[^,],%u,%u,%u,%u", &prop, rule, &a, &r, &ab, &v), 6);
            assert_true(json_integer_value(json_object_get(jt, "proposal_id")) == (long long)prop);
            assert_string_equal(json_string_value(json_object_get(jt, "rule")), rule);
            json_t *votes = json_object_get(jt, "votes");
            assert_true(json_integer_value(json_object_get(votes, "approvals")) == a);
            assert_true(a + r + ab <= v && v > 0);
        } else {
            assert_string_equal(line + used, ",,,,,\n");
            assert_true(json_is_null(json_object_get(jt, "proposal_id")));
        }
        fill *x = &b->fills[b->nfills++];
        *x = (fill){ t, strcmp(side, "buy") == 0, qty, price, fee };
        b->notional += (double)qty * price;
    }
    fclose(f);
    assert_int_equal(b->nfills, json_array_size(trades));
}

/* The book bar by bar: a fill is booked at the first bar after it (its report arrives then),
 * every remaining one at the last bar; the equity is cash + position x close. */
static void replay(book *b, size_t nbars)
{
    double cash = CASH;
    int64_t pos = 0;
    size_t k = 0;
    for (size_t i = 0; i < nbars; i++) {
        for (; k < b->nfills && (b->fills[k].t_ns < i * BAR_NS || i + 1 == nbars); k++) {
            const fill *x = &b->fills[k];
            double v = (double)x->qty * x->price;
            cash += x->buy ? -v - x->fee : v - x->fee;
            pos += x->buy ? x->qty : -x->qty;
        }
        b->equity[i] = cash + (double)pos * bars.bars[i].close;
        b->position[i] = pos;
        b->bench[i] = CASH * bars.bars[i].close / bars.bars[0].close;
    }
}

static void near(json_t *o, const char *key, double want)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("%s is not a number", key);
    double got = json_number_value(v), tol = 1e-8 * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.17g, want %.17g", key, got, want);
}

/* One leg's statistics, the plain way, against the JSON's. */
static void check_returns(json_t *r, const double *e, const int64_t *pos, size_t n, double notional)
{
    size_t m = n - 1, wins = 0, moved = 0, exposed = 0;
    double sum = 0, eq_sum = e[0];
    for (size_t i = 1; i < n; i++) {
        double x = e[i] / e[i - 1] - 1;
        sum += x;
        wins += x > 0;
        moved += x != 0;
        exposed += pos == NULL || pos[i - 1] != 0 || pos[i] != 0;
        eq_sum += e[i];
    }
    double mean = sum / (double)m, var = 0, down = 0;
    for (size_t i = 1; i < n; i++) {
        double x = e[i] / e[i - 1] - 1;
        var += (x - mean) * (x - mean);
        down += x < 0 ? x * x : 0;
    }
    double years = (double)(bars.bars[n - 1].day - bars.bars[0].day) / 365.25;
    double ppy = (double)m / years, sd = sqrt(var / (double)(m - 1));
    double best = 0, peak = e[0];
    size_t trough = 0;
    for (size_t i = 0; i < n; i++) {
        peak = e[i] > peak ? e[i] : peak;
        if ((peak - e[i]) / peak > best) {
            best = (peak - e[i]) / peak;
            trough = i;
        }
    }
    assert_int_equal(json_integer_value(json_object_get(r, "periods")), m);
    near(r, "total_return", e[n - 1] / e[0] - 1);
    near(r, "annual_return", pow(e[n - 1] / e[0], 1 / years) - 1);
    near(r, "volatility", sd * sqrt(ppy));
    near(r, "sharpe", mean / sd * sqrt(ppy));
    near(r, "sortino", mean / sqrt(down / (double)m) * sqrt(ppy));
    near(r, "max_drawdown", best);
    near(r, "win_rate", (double)wins / (double)moved);
    near(r, "exposure", (double)exposed / (double)m);
    near(r, "turnover", notional / (eq_sum / (double)n) / years);
    char d[11];
    hv_day_format(bars.bars[trough].day, d);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r, "max_drawdown_trough"), "date")), d);
}

/* The plotted points are real bars with their true equity, and hold the true extremes. */
static void check_curve(json_t *doc, const book *b, size_t n)
{
    json_t *eq = json_object_get(doc, "equity");
    json_t *date = json_object_get(eq, "date"), *e = json_object_get(eq, "equity"),
           *bench = json_object_get(eq, "benchmark"), *dd = json_object_get(eq, "drawdown_frac");
    size_t np = json_array_size(e);
    assert_true(np >= 2 && np <= n && json_array_size(date) == np && json_array_size(dd) == np);
    double lo = INFINITY, hi = -INFINITY, dd_max = 0, want_lo = INFINITY, want_hi = -INFINITY;
    size_t i = 0;
    for (size_t j = 0; j < np; j++) {
        const char *dj = json_string_value(json_array_get(date, j));
        char d[11];
        for (;; i++) { /* the bar of this date */
            assert_true(i < n);
            hv_day_format(bars.bars[i].day, d);
            if (strcmp(d, dj) == 0)
                break;
        }
        double v = json_real_value(json_array_get(e, j));
        assert_true(fabs(v - b->equity[i]) <= 1e-6 * fabs(b->equity[i]));
        assert_true(fabs(json_real_value(json_array_get(bench, j)) - b->bench[i]) <=
                    1e-6 * b->bench[i]);
        lo = fmin(lo, v);
        hi = fmax(hi, v);
        dd_max = fmax(dd_max, json_real_value(json_array_get(dd, j)));
    }
    for (size_t k = 0; k < n; k++) {
        want_lo = fmin(want_lo, b->equity[k]);
        want_hi = fmax(want_hi, b->equity[k]);
    }
    assert_true(fabs(lo - want_lo) <= 1e-6 * want_lo && fabs(hi - want_hi) <= 1e-6 * want_hi);
    near(json_object_get(json_object_get(doc, "returns"), "strategy"), "max_drawdown", dd_max);
}

static void check_common(json_t *doc, const char *command)
{
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")),
                     HV_REPORT_SCHEMA_VERSION);
    assert_string_equal(json_string_value(json_object_get(doc, "command")), command);
    assert_true(json_is_false(json_object_get(doc, "partial")));
    json_t *data = json_object_get(json_object_get(doc, "config"), "data");
    assert_string_equal(json_string_value(json_object_get(data, "file")), csv);
    assert_int_equal(json_integer_value(json_object_get(data, "bars")), BARS);
    assert_int_equal(json_integer_value(json_object_get(data, "bar_seconds")), 86400);
    json_t *res = json_object_get(doc, "result");
    assert_true(json_is_true(json_object_get(res, "completed")));
    assert_true(json_is_integer(json_object_get(res, "fills")));
    assert_true(json_is_integer(json_object_get(res, "final_position")));
    assert_true(json_is_real(json_object_get(res, "final_equity")));
    assert_true(json_is_object(json_object_get(json_object_get(doc, "profile"), "cycle")));
}

static void report_of(const char *cmd, const char *args, const char *base, const char *trades,
                      int with_votes)
{
    char line[1024], path[256];
    int status;
    snprintf(line, sizeof(line), "%s --data %s --out %s/%s --json --no-progress %s", cmd, csv, dir,
             cmd, args);
    char *out = run_capture(line, &status);
    assert_int_equal(status, 0);
    json_t *doc = json_loads(out, 0, NULL);
    assert_non_null(doc);
    free(out);
    snprintf(path, sizeof(path), "%s/%s/%s.json", dir, cmd, base);
    json_t *file = load_json(path);
    assert_true(json_equal(doc, file)); /* --json prints what the report holds */
    json_decref(file);
    check_common(doc, cmd);
    book *b = calloc(1, sizeof(*b));
    snprintf(path, sizeof(path), "%s/%s/%s", dir, cmd, trades);
    read_trades(path, json_object_get(doc, "trades"), b, with_votes);
    assert_true(b->nfills > 10);
    json_t *res = json_object_get(doc, "result");
    assert_int_equal(json_integer_value(json_object_get(res, "fills")), b->nfills);
    replay(b, BARS);
    near(res, "final_equity", b->equity[BARS - 1]);
    assert_true(json_integer_value(json_object_get(res, "final_position")) ==
                b->position[BARS - 1]);
    json_t *ret = json_object_get(doc, "returns");
    check_returns(json_object_get(ret, "strategy"), b->equity, b->position, BARS, b->notional);
    check_returns(json_object_get(ret, "benchmark"), b->bench, NULL, BARS, CASH);
    check_curve(doc, b, BARS);
    free(b->fills);
    free(b);
    json_decref(doc);
}

static void the_run_report_holds_what_the_fills_give(void **state)
{
    (void)state;
    report_of("run", "--seed 5 --capacity 64 --threshold 0.0005", "run", "trades.csv", 1);
}

static void the_backtest_report_holds_what_the_fills_give(void **state)
{
    (void)state;
    report_of("backtest", "--fast 5 --slow 20", "backtest", "backtest-trades.csv", 0);
}

/* ---- Ctrl-C -------------------------------------------------------------------------------- */

static void check_partial(const char *out)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/run.json", out);
    json_t *doc = load_json(path);
    assert_true(json_is_true(json_object_get(doc, "partial")));
    json_t *res = json_object_get(doc, "result");
    assert_true(json_is_false(json_object_get(res, "completed")));
    assert_string_equal(json_string_value(json_object_get(res, "stopped_by")), "SIGINT");
    json_int_t cycles = json_integer_value(json_object_get(res, "cycles"));
    assert_true(cycles > 0 && cycles < json_integer_value(json_object_get(res, "cycles_planned")));
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(doc, "returns"), "strategy"), "periods")),
                     cycles - 1);
    json_decref(doc);
    snprintf(path, sizeof(path), "%s/run.html", out);
    uint8_t *html;
    size_t len;
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    html = malloc(1 << 24);
    len = fread(html, 1, (1 << 24) - 1, f);
    html[len] = 0;
    fclose(f);
    assert_non_null(strstr((char *)html, "id=\"partial\""));
    assert_non_null(strstr((char *)html, "STOPPED"));
    free(html);
    snprintf(path, sizeof(path), "%s/trades.csv", out);
    assert_int_equal(access(path, R_OK), 0);
}

/* The first Ctrl-C stops the run after the cycle that is running: the summary and the reports
 * are written, marked partial, and the exit status is 130. */
static void ctrl_c_stops_the_run_with_partial_reports(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof(out), "%s/interrupted", dir);
    char *argv[] = { (char *)rp_binary(), "run",   "--synthetic", "200000",
                     "--bar-seconds",     "3600",  "--capacity",  "64",
                     "--progress",        "--out", out,           NULL };
    run_proc *p = calloc(1, sizeof(*p));
    assert_int_equal(rp_start(p, argv), 0);
    if (rp_wait_for(p, " cycles/s", 120000) == NULL) /* a progress line: it runs */
        fail_msg("no progress line; stderr: %s", p->err);
    assert_int_equal(rp_finish(p, SIGINT, 120000), 130);
    assert_non_null(strstr(p->err, "SIGINT: stopping after cycle"));
    assert_non_null(strstr(p->err, "wrote"));
    check_partial(out);
    free(p);
}

/* With --serve, the first Ctrl-C stops the run, the second the serving of its final state. */
static void ctrl_c_stops_the_run_then_the_serving(void **state)
{
    (void)state;
    char out[128];
    snprintf(out, sizeof(out), "%s/served", dir);
    char *argv[] = { (char *)rp_binary(), "run",         "--synthetic", "200000",
                     "--bar-seconds",     "3600",        "--capacity",  "64",
                     "--progress",        "--out",       out,           "--serve",
                     "127.0.0.1:0",       "--serve-for", "600",         NULL };
    run_proc *p = calloc(1, sizeof(*p));
    assert_int_equal(rp_start(p, argv), 0);
    if (rp_wait_for(p, " cycles/s", 120000) == NULL)
        fail_msg("no progress line; stderr: %s", p->err);
    kill(p->pid, SIGINT);
    if (rp_wait_for(p, "serving the final state", 120000) == NULL)
        fail_msg("the serving did not begin; stderr: %s", p->err);
    assert_int_equal(rp_finish(p, SIGINT, 60000), 130);
    check_partial(out);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_run_report_holds_what_the_fills_give),
        cmocka_unit_test(the_backtest_report_holds_what_the_fills_give),
        cmocka_unit_test(ctrl_c_stops_the_run_with_partial_reports),
        cmocka_unit_test(ctrl_c_stops_the_run_then_the_serving),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

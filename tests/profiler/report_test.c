#include "hv_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/profiler.h>

typedef struct fake_clock {
    uint64_t now;
} fake_clock;

static uint64_t fake_now(void *ctx)
{
    return ((fake_clock *)ctx)->now;
}

/* A profile of 20 cycles: market_data 10 ns, dtw 100..119 ns containing consensus 40 ns, and
 * an external exchange latency. */
static hv_profiler *sample_profile(fake_clock *clk)
{
    hv_profiler_opts cfg;
    hv_profiler_opts_default(&cfg);
    cfg.clock = fake_now;
    cfg.clock_ctx = clk;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(&cfg, &p), 0);
    int md = hv_profiler_stage(p, "market_data", HV_STAGE_TIMED);
    int dtw = hv_profiler_stage(p, "dtw_<match>", HV_STAGE_TIMED);
    int cons = hv_profiler_stage(p, "consensus", HV_STAGE_TIMED);
    int lat = hv_profiler_stage(p, "exchange_latency", HV_STAGE_EXTERNAL);
    int sim = hv_profiler_stage(p, "sim_fill", HV_STAGE_SIMULATED);
    for (uint64_t i = 0; i < 20; i++) {
        hv_profiler_cycle_begin(p);
        hv_profiler_begin(p, md);
        clk->now += 10;
        hv_profiler_end(p, md);
        hv_profiler_begin(p, dtw);
        clk->now += 60 + i;
        hv_profiler_begin(p, cons);
        clk->now += 40;
        hv_profiler_end(p, cons);
        hv_profiler_end(p, dtw);
        clk->now += 5;
        hv_profiler_cycle_end(p);
        hv_profiler_record(p, lat, 100000 + i * 1000);
        hv_profiler_record(p, sim, 86400000000000ull);
    }
    return p;
}

static char *capture(int (*fn)(const hv_profiler *, const hv_report_extra *, FILE *),
                     const hv_profiler *p, const hv_report_extra *x)
{
    /* The stream's buffer pointer lives on the heap: gcc's dangling-pointer analysis
     * otherwise mistakes the returned text for a pointer into this frame. */
    struct {
        char *buf;
        size_t len;
    } *m = calloc(1, sizeof(*m));
    FILE *f = open_memstream(&m->buf, &m->len);
    assert_non_null(f);
    assert_int_equal(fn(p, x, f), 0);
    fclose(f);
    char *out = m->buf;
    free(m);
    return out;
}

static int table_fn(const hv_profiler *p, const hv_report_extra *x, FILE *f)
{
    (void)x;
    return hv_profiler_write_table(p, f);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *s = strstr(hay, needle); s; s = strstr(s + 1, needle))
        n++;
    return n;
}

static void table_ranks_stages_and_adds_up_to_the_cycle(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    char *t = capture(table_fn, p, NULL);
    const char *r1 = strstr(t, "   1  dtw_<match>"), *r2 = strstr(t, "   2  consensus"),
               *r3 = strstr(t, "   3  market_data");
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    assert_true(r1 < r2 && r2 < r3);
    assert_non_null(strstr(t, "(unattributed)"));
    assert_non_null(strstr(t, "100.00%"));
    assert_non_null(strstr(t, "cycles 20 "));
    const char *ext = strstr(t, "external stages");
    assert_non_null(ext);
    assert_true(strstr(ext, "exchange_latency") != NULL);
    const char *sim = strstr(t, "simulated exchange");
    assert_non_null(sim);
    assert_true(sim > ext && strstr(sim, "sim_fill") != NULL && strstr(sim, "24.0 h") != NULL);
    assert_true(strstr(t, "sim_fill") > sim); /* under its own heading only */
    free(t);
    hv_profiler_free(p);
}

static int narrow_fn(const hv_profiler *p, const hv_report_extra *x, FILE *f)
{
    (void)x;
    return hv_profiler_write_table_flags(p, f, 0);
}

/* Without HV_PROFILER_TABLE_WIDE every line fits 80 columns; the wide table has more. */
static void the_default_table_fits_80_columns(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    char *t = capture(narrow_fn, p, NULL), *w = capture(table_fn, p, NULL);
    size_t longest = 0, wide_longest = 0;
    for (const char *l = t; *l;) {
        size_t n = strcspn(l, "\n");
        longest = n > longest ? n : longest;
        l += n + (l[n] != 0);
    }
    for (const char *l = w; *l;) {
        size_t n = strcspn(l, "\n");
        wide_longest = n > wide_longest ? n : wide_longest;
        l += n + (l[n] != 0);
    }
    assert_true(longest <= 80);
    assert_true(wide_longest > 80);
    assert_non_null(strstr(t, "   1  dtw_<match>"));
    assert_non_null(strstr(t, "sim_fill"));
    free(t);
    free(w);
    hv_profiler_free(p);
}

static void json_export_parses_and_carries_every_stage(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    const uint64_t t[4] = { 0, 10, 20, 30 };
    const double eq[4] = { 100, 120, 90, 110 };
    const char *keys[2] = { "trades", "seed" }, *vals[2] = { "12", "42" };
    const char *names[2] = { "command", "config" }, *values[2] = { "\"run\"", "{\"seed\": 42}" };
    hv_report_extra x = { .title = "t",
                          .summary_n = 2,
                          .summary_keys = keys,
                          .summary_values = vals,
                          .equity_n = 4,
                          .equity_t_ns = t,
                          .equity = eq,
                          .json_n = 2,
                          .json_names = names,
                          .json_values = values };
    char *s = hv_profiler_json(p, &x);
    assert_non_null(s);
    json_error_t err;
    json_t *doc = json_loads(s, 0, &err);
    assert_non_null(doc);
    /* the version first, then the caller's members in order, typed; no summary strings */
    assert_string_equal(json_object_iter_key(json_object_iter(doc)), "schema_version");
    assert_int_equal(json_integer_value(json_object_get(doc, "schema_version")),
                     HV_REPORT_SCHEMA_VERSION);
    assert_string_equal(json_string_value(json_object_get(doc, "command")), "run");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "config"), "seed")),
                     42);
    assert_null(json_object_get(doc, "summary"));
    assert_true(json_is_false(json_object_get(doc, "partial")));
    json_t *root = json_object_get(doc, "profile");
    assert_int_equal(json_integer_value(json_object_get(root, "cycles")), 20);
    json_t *stages = json_object_get(root, "stages");
    assert_int_equal(json_array_size(stages), 3);
    json_t *first = json_array_get(stages, 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "dtw_<match>");
    assert_int_equal(json_integer_value(json_object_get(first, "rank")), 1);
    assert_int_equal(json_integer_value(json_object_get(first, "count")), 20);
    double share = (double)json_integer_value(json_object_get(root, "unattributed_ns")) /
                   (double)json_integer_value(json_object_get(root, "cycle_ns"));
    for (size_t i = 0; i < 3; i++)
        share += json_real_value(json_object_get(json_array_get(stages, i), "share"));
    assert_true(share > 0.999999 && share < 1.000001);
    json_t *ext = json_object_get(root, "external");
    assert_int_equal(json_array_size(ext), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ext, 0), "kind")),
                        "external");
    json_t *sim = json_object_get(root, "simulated");
    assert_int_equal(json_array_size(sim), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(sim, 0), "kind")),
                        "simulated");
    json_t *dd = json_object_get(json_object_get(doc, "equity"), "drawdown_frac");
    assert_int_equal(json_array_size(dd), 4);
    assert_true(json_real_value(json_array_get(dd, 2)) == 0.25);
    json_decref(doc);
    free(s);
    /* a member that is not JSON fails the whole document */
    values[1] = "{seed";
    assert_null(hv_profiler_json(p, &x));
    hv_profiler_free(p);
}

/* Dates, the benchmark, the exact drawdown, the statistics and the trades: typed in JSON (null
 * where unknown), shown in HTML with calendar axes; a partial run says so in both. */
static void a_backtest_report_carries_returns_trades_and_dates(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    const uint64_t t[4] = { 0, 86400, 172800, 259200 };
    const int32_t day[4] = { 10959, 10960, 10961, 14000 };
    const double eq[4] = { 100, 120, 90, 110 }, bench[4] = { 100, 101, 102, 150 },
                 dd[4] = { 0, 0, 0.3, 0.1 };
    hv_report_returns r;
    memset(&r, 0, sizeof(r));
    r.periods = 3;
    r.total_return = 0.1;
    r.sharpe = NAN;
    r.max_drawdown = 0.3;
    r.max_drawdown_peak_day = 10960;
    r.max_drawdown_trough_day = 10961;
    r.max_drawdown_trough_t_ns = 172800;
    r.max_drawdown_recovery_t_ns = UINT64_MAX;
    r.max_drawdown_recovery_day = HV_REPORT_NO_DAY;
    const hv_report_trade tr[2] = {
        { .t_ns = 86400,
          .day = 10960,
          .side = 0,
          .qty = 100,
          .price = 12.5,
          .fee = 1,
          .order_id = 7,
          .proposal_id = 3,
          .rule = "bft",
          .approvals = 4,
          .rejections = 1,
          .voters = 5 },
        { .t_ns = 172800,
          .day = 10961,
          .side = 1,
          .qty = 100,
          .price = 9,
          .fee = 1,
          .order_id = 8 },
    };
    hv_report_extra x = { .title = "bt",
                          .equity_n = 4,
                          .equity_t_ns = t,
                          .equity = eq,
                          .equity_day = day,
                          .benchmark = bench,
                          .drawdown_frac = dd,
                          .returns = &r,
                          .benchmark_returns = &r,
                          .trades_n = 2,
                          .trades = tr,
                          .trades_total = 5,
                          .partial = 1 };
    char *s = hv_profiler_json(p, &x);
    json_t *doc = json_loads(s, 0, NULL);
    assert_non_null(doc);
    assert_true(json_is_true(json_object_get(doc, "partial")));
    json_t *st = json_object_get(json_object_get(doc, "returns"), "strategy");
    assert_true(json_real_value(json_object_get(st, "total_return")) == 0.1);
    assert_true(json_is_null(json_object_get(st, "sharpe")));
    assert_true(json_is_null(json_object_get(st, "max_drawdown_recovery")));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(st, "max_drawdown_trough"), "date")),
        "2000-01-05");
    json_t *e = json_object_get(doc, "equity");
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "date"), 3)),
                        "2008-05-01");
    assert_true(json_real_value(json_array_get(json_object_get(e, "benchmark"), 3)) == 150);
    assert_true(json_real_value(json_array_get(json_object_get(e, "drawdown_frac"), 3)) == 0.1);
    json_t *trades = json_object_get(doc, "trades");
    assert_int_equal(json_array_size(trades), 2);
    assert_int_equal(json_integer_value(json_object_get(doc, "trades_total")), 5);
    json_t *t0 = json_array_get(trades, 0), *t1 = json_array_get(trades, 1);
    assert_string_equal(json_string_value(json_object_get(t0, "side")), "buy");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(t0, "votes"), "approvals")),
                     4);
    assert_true(json_is_null(json_object_get(t1, "proposal_id")));
    assert_true(json_is_null(json_object_get(t1, "votes")));
    json_decref(doc);
    free(s);
    char *h = capture(hv_profiler_write_html, p, &x);
    assert_non_null(strstr(h, "id=\"partial\""));
    assert_non_null(strstr(h, "<table id=\"returns\">"));
    assert_non_null(strstr(h, "<polyline class=\"bench\""));
    assert_non_null(strstr(h, "data-max=\"0.300000\""));
    assert_non_null(strstr(h, ">2004</text>")); /* calendar ticks: years over 8 years */
    assert_non_null(strstr(h, "<table id=\"trades\">"));
    assert_non_null(strstr(h, "4 / 1 / 0 of 5"));
    assert_non_null(strstr(h, "the first 2 are listed here"));
    assert_non_null(strstr(h, "<table id=\"simulated\">"));
    assert_non_null(strstr(h, "<table id=\"external\">"));
    free(h);
    hv_profiler_free(p);
}

static void html_report_is_self_contained_with_the_expected_charts(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    const uint64_t t[5] = { 0, 10, 20, 30, 40 };
    const double eq[5] = { 100, 120, 90, 110, 130 };
    hv_report_extra x = { .title = "run <seed 1>", .equity_n = 5, .equity_t_ns = t, .equity = eq };
    char *h = capture(hv_profiler_write_html, p, &x);
    assert_true(strncmp(h, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(h, "</html>"));
    assert_non_null(strstr(h, "<title>run &lt;seed 1&gt;</title>"));
    assert_non_null(strstr(h, "dtw_&lt;match&gt;"));
    assert_null(strstr(h, "dtw_<match>"));
    assert_non_null(strstr(h, "<svg id=\"stage-time\""));
    /* one bar per timed stage plus the unattributed bar */
    const char *bars = strstr(h, "<svg id=\"stage-time\"");
    const char *bars_end = strstr(bars, "</svg>");
    size_t nrect = 0;
    for (const char *s = strstr(bars, "<rect"); s && s < bars_end; s = strstr(s + 1, "<rect"))
        nrect++;
    assert_int_equal(nrect, 4);
    /* a latency chart for the cycle, 3 timed stages, the external and the simulated one */
    assert_int_equal(count_of(h, "<svg class=\"latency\""), 6);
    assert_non_null(strstr(h, "class=\"p99\""));
    assert_non_null(strstr(h, "<svg id=\"equity-curve\""));
    assert_non_null(strstr(h, "<polyline class=\"eq\""));
    assert_non_null(strstr(h, "<svg id=\"drawdown\""));
    assert_non_null(strstr(h, "<polygon class=\"dd\""));
    assert_non_null(strstr(h, "deepest 25.000%"));
    assert_non_null(strstr(h, "(simulated time)")); /* no dates: the x axis is simulated */
    /* nothing fetched from anywhere */
    assert_null(strstr(h, "<script"));
    assert_null(strstr(h, "http"));
    assert_null(strstr(h, "src="));
    assert_null(strstr(h, "@import"));
    assert_null(strstr(h, "url("));
    free(h);
    hv_profiler_free(p);
}

/* The alerts of a run: listed in both reports with their times (null: still raised), or
 * "none" when alerts were watched and none came; absent when nobody watched. */
static void alerts_are_listed_in_both_reports(void **state)
{
    (void)state;
    fake_clock clk = { 0 };
    hv_profiler *p = sample_profile(&clk);
    const hv_report_alert al[2] = {
        { "cpu_contended", "warning", "CPU contended: <30%> waited", 1.0, 4.0 },
        { "cycle_latency_p99", "critical", "p99 7 ms > 5 ms", 2.5, -1 },
    };
    hv_report_extra x = { .title = "t", .alerts_watched = 1, .alerts_n = 2, .alerts = al };
    char *s = hv_profiler_json(p, &x);
    json_t *root = json_loads(s, 0, NULL);
    assert_non_null(root);
    json_t *arr = json_object_get(root, "alerts");
    assert_int_equal(json_array_size(arr), 2);
    json_t *a0 = json_array_get(arr, 0), *a1 = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(a0, "name")), "cpu_contended");
    assert_true(json_real_value(json_object_get(a0, "cleared_s")) == 4.0);
    assert_string_equal(json_string_value(json_object_get(a1, "severity")), "critical");
    assert_true(json_is_null(json_object_get(a1, "cleared_s")));
    json_decref(root);
    free(s);
    char *html = capture(hv_profiler_write_html, p, &x);
    assert_non_null(strstr(html, "<table id=\"alerts\">"));
    assert_non_null(strstr(html, "CPU contended: &lt;30%&gt; waited"));
    assert_non_null(strstr(html, "still raised at the end"));
    free(html);
    x.alerts_n = 0;
    html = capture(hv_profiler_write_html, p, &x);
    assert_non_null(strstr(html, "No alert was raised."));
    free(html);
    x.alerts_watched = 0;
    s = hv_profiler_json(p, &x);
    assert_null(strstr(s, "\"alerts\""));
    free(s);
    hv_profiler_free(p);
}

static void html_without_extras_or_samples_still_renders(void **state)
{
    (void)state;
    hv_profiler *p = NULL;
    assert_int_equal(hv_profiler_new(NULL, &p), 0);
    hv_profiler_stage(p, "idle", HV_STAGE_TIMED);
    char *h = capture(hv_profiler_write_html, p, NULL);
    assert_non_null(strstr(h, "no samples"));
    assert_null(strstr(h, "equity-curve"));
    assert_non_null(strstr(h, "</html>"));
    free(h);
    char *s = hv_profiler_json(p, NULL);
    json_t *root = json_loads(s, 0, NULL);
    assert_non_null(root);
    json_decref(root);
    free(s);
    hv_profiler_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_ranks_stages_and_adds_up_to_the_cycle),
        cmocka_unit_test(the_default_table_fits_80_columns),
        cmocka_unit_test(json_export_parses_and_carries_every_stage),
        cmocka_unit_test(a_backtest_report_carries_returns_trades_and_dates),
        cmocka_unit_test(html_report_is_self_contained_with_the_expected_charts),
        cmocka_unit_test(alerts_are_listed_in_both_reports),
        cmocka_unit_test(html_without_extras_or_samples_still_renders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

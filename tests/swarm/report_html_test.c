/*
 * out/run.html in a real browser: headless Chromium (tests/cdp.h) opens the report a `hivewire
 * run` wrote, saves a screenshot to out/run.png in the build directory, and checks in the DOM
 * that every chart has data (points, bars), that the equity chart shows the strategy and the
 * benchmark on calendar years, that the plotted deepest drawdown is the report's, that no two
 * labels of a chart overlap or leave it, that every table is there whole and the page needs no
 * horizontal scrolling. Skips, saying why, only where Chromium cannot start.
 */
#include "hv_test.h"

#include <math.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cdp.h"
#include "obs/runproc.h"

/* What the page shows, as JSON. */
static const char *const INSPECT =
    "(() => {"
    " const svgs = [...document.querySelectorAll('svg')];"
    " const boxes = (svg) => [...svg.querySelectorAll('text')].map((t) => "
    "t.getBoundingClientRect());"
    " const overlaps = [], outside = [];"
    " for (const svg of svgs) {"
    "  const r = svg.getBoundingClientRect(), b = boxes(svg);"
    "  for (let i = 0; i < b.length; i++) {"
    "   if (b[i].left < r.left - 0.5 || b[i].right > r.right + 0.5 || b[i].top < r.top - 0.5 ||"
    "       b[i].bottom > r.bottom + 0.5) outside.push(svg.id || svg.className.baseVal);"
    "   for (let j = i + 1; j < b.length; j++)"
    "    if (b[i].left < b[j].right - 0.5 && b[j].left < b[i].right - 0.5 &&"
    "        b[i].top < b[j].bottom - 0.5 && b[j].top < b[i].bottom - 0.5)"
    "     overlaps.push((svg.id || '') + ': ' + svg.querySelectorAll('text')[i].textContent +"
    "                   ' / ' + svg.querySelectorAll('text')[j].textContent);"
    "  }"
    " }"
    " const pts = (sel) => { const e = document.querySelector(sel);"
    "  return e ? e.points.numberOfItems : 0; };"
    " const rows = (id) => document.querySelectorAll('#' + id + ' tr').length;"
    " const eq = document.getElementById('equity-curve');"
    " const years = eq ? [...eq.querySelectorAll('text')].map((t) => t.textContent)"
    "  .filter((s) => /^[0-9]{4}$/.test(s)).length : 0;"
    " return JSON.stringify({"
    "  charts: svgs.length,"
    "  empty: svgs.filter((s) => !(+s.dataset.points > 0)).map((s) => s.id || s.className.baseVal),"
    "  latency: document.querySelectorAll('svg.latency').length,"
    "  latency_bars: Math.min(...[...document.querySelectorAll('svg.latency')]"
    "   .map((s) => s.querySelectorAll('rect.bin').length)),"
    "  stage_bars: document.querySelectorAll('#stage-time rect').length,"
    "  eq_points: pts('#equity-curve polyline.eq'), bench_points: pts('#equity-curve "
    "polyline.bench'),"
    "  dd_points: pts('#drawdown polygon.dd'),"
    "  dd_max: +(document.getElementById('drawdown') || {dataset: {}}).dataset.max,"
    "  years: years, overlaps: overlaps, outside: outside,"
    "  summary: rows('summary'), returns: rows('returns'), trades: rows('trades'),"
    "  stages: rows('stages'), simulated: rows('simulated'), external: rows('external'),"
    "  partial: !!document.getElementById('partial'),"
    "  page_width: document.documentElement.scrollWidth, view_width: window.innerWidth"
    " });"
    "})()";

static int64_t int_of(json_t *j, const char *k)
{
    return json_integer_value(json_object_get(j, k));
}

static void the_run_report_shows_every_chart_with_data(void **state)
{
    (void)state;
    hv_cdp *c = hv_cdp_open_or_skip(1280, 1800);
    char out[4200], cmd[8600], url[4300], png[4300], path[4300];
    snprintf(out, sizeof(out), "%s/out", getenv("HV_BUILD_DIR"));
    snprintf(cmd, sizeof(cmd),
             "'%s' run --synthetic 3000 --seed 4 --capacity 64 --no-progress --quiet --out '%s' "
             ">/dev/null",
             rp_binary(), out);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof(path), "%s/run.json", out);
    json_t *doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    double dd_report = json_real_value(json_object_get(
        json_object_get(json_object_get(doc, "returns"), "strategy"), "max_drawdown"));
    json_int_t fills = int_of(json_object_get(doc, "result"), "fills");
    json_decref(doc);

    snprintf(url, sizeof(url), "file://%s/run.html", out);
    if (hv_cdp_navigate(c, url, 60000) != 0)
        fail_msg("%s", c->err);
    snprintf(png, sizeof(png), "%s/run.png", out);
    long n = hv_cdp_screenshot(c, png);
    if (n < 0)
        fail_msg("screenshot: %s", c->err);
    print_message("screenshot: %s (%ld bytes)\n", png, n);
    char *s = hv_cdp_eval(c, INSPECT, 30000);
    if (s == NULL)
        fail_msg("inspect: %s", c->err);
    json_t *v = json_loads(s, 0, NULL);
    assert_non_null(v);
    print_message("%s\n", s);
    free(s);

    /* every chart has data */
    assert_true(int_of(v, "charts") >= 14);
    assert_int_equal(json_array_size(json_object_get(v, "empty")), 0);
    assert_true(int_of(v, "latency") >= 12 && int_of(v, "latency_bars") >= 1);
    assert_int_equal(int_of(v, "stage_bars"), 10); /* 9 stages and the unattributed time */
    assert_true(int_of(v, "eq_points") >= 100 &&
                int_of(v, "bench_points") == int_of(v, "eq_points"));
    assert_true(int_of(v, "dd_points") >= int_of(v, "eq_points"));
    assert_true(fabs(json_number_value(json_object_get(v, "dd_max")) - dd_report) < 1e-6);
    assert_true(int_of(v, "years") >= 3); /* 3000 business days on calendar years */
    /* captions and labels: none over another, none out of its chart */
    if (json_array_size(json_object_get(v, "overlaps")) != 0 ||
        json_array_size(json_object_get(v, "outside")) != 0) {
        char *dump = json_dumps(v, JSON_COMPACT);
        fail_msg("labels overlap or leave their chart: %s", dump);
    }
    /* the tables, whole */
    assert_true(int_of(v, "summary") >= 30);
    assert_int_equal(int_of(v, "returns"), 15);
    assert_int_equal(int_of(v, "trades"), fills + 1);
    assert_int_equal(int_of(v, "stages"), 10);
    assert_int_equal(int_of(v, "simulated"), 3);
    assert_int_equal(int_of(v, "external"), 4);
    assert_true(json_is_false(json_object_get(v, "partial")));
    assert_true(int_of(v, "page_width") <= int_of(v, "view_width"));
    json_decref(v);
    hv_cdp_close(c);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_run_report_shows_every_chart_with_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

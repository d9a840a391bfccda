/*
 * The dashboard in a real browser: headless Chromium (Debian `chromium`) driven over the
 * DevTools protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), on a
 * real `hivewire run --serve`. While the swarm runs the page must update again and again and
 * show the run's figures without an error; once it is over, the final state; then a screenshot
 * goes to out/dashboard.png in the build directory. Skips, saying why, only where Chromium
 * cannot start.
 */
#include "hv_test.h"

#include <math.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cdp.h"
#include "obs/runproc.h"

#ifndef HV_OBS_DASH_BARS
#define HV_OBS_DASH_BARS "100000"
#endif

/* ---- What the page shows ----------------------------------------------------------------------
 */

/* Waits in the page (up to 10 s) for an update newer than `after`, then reports what the DOM
 * shows, as JSON. */
static const char *const WATCH =
    "new Promise((resolve) => { const t0 = Date.now(); (function check() {"
    " const g = document.getElementById('gen');"
    " const gen = g ? +g.dataset.gen : 0;"
    " if (gen > %llu || Date.now() - t0 > 10000) {"
    "  const q = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; "
    "};"
    "  const rows = (id) => document.querySelectorAll('#' + id + ' tbody tr').length;"
    "  const pts = (id) => +(document.getElementById(id).dataset.points || 0);"
    "  resolve(JSON.stringify({ gen: gen, status: q('status'), cycles: q('cycles'),"
    "   cps: q('cps'), lat: q('cycle-lat'), pnl: q('pnl'), equity: q('equity'), kill: q('kill'),"
    "   orders: q('orders'), error: q('error'), stages: rows('stages'), agents: rows('agents'),"
    "   alerts: rows('alerts'), consensus: rows('consensus'), eq_points: pts('equity-chart'),"
    "   dd_points: pts('drawdown-chart'), rate_points: pts('rate-chart') }));"
    " } else setTimeout(check, 50); })(); })";

typedef struct view {
    json_t *j;
    uint64_t gen;
    const char *status, *error;
} view;

static int watch(hv_cdp *c, uint64_t after, view *v)
{
    char expr[2048];
    snprintf(expr, sizeof(expr), WATCH, (unsigned long long)after);
    char *s = hv_cdp_eval(c, expr, 20000);
    if (s == NULL)
        return -1;
    json_decref(v->j);
    v->j = json_loads(s, 0, NULL);
    free(s);
    if (v->j == NULL)
        return -1;
    v->gen = (uint64_t)json_integer_value(json_object_get(v->j, "gen"));
    v->status = json_string_value(json_object_get(v->j, "status"));
    v->error = json_string_value(json_object_get(v->j, "error"));
    return 0;
}

static double dom_number(const view *v, const char *key)
{
    const char *t = json_string_value(json_object_get(v->j, key));
    char digits[64];
    size_t n = 0;
    for (; t && *t && *t != ' ' && n + 1 < sizeof(digits); t++)
        if (*t != ',')
            digits[n++] = *t;
    digits[n] = 0;
    return n ? atof(digits) : NAN;
}

static int dom_int(const view *v, const char *key)
{
    return (int)json_integer_value(json_object_get(v->j, key));
}

static void check_no_error(const view *v, const char *when)
{
    if (v->error != NULL && v->error[0] != 0)
        fail_msg("the page shows an error %s: %s", when, v->error);
}

static json_t *get_state(uint16_t port)
{
    char *body;
    size_t len;
    int st = http_get(port, "/state", &body, &len, 10000);
    json_t *j = st == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    if (j == NULL)
        fail_msg("GET /state: status %d", st);
    return j;
}

static void save_screenshot(hv_cdp *c)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/out", getenv("HV_BUILD_DIR"));
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/out/dashboard.png", getenv("HV_BUILD_DIR"));
    long n = hv_cdp_screenshot(c, path);
    if (n < 0)
        fail_msg("screenshot: %s", c->err);
    assert_true(n > 1000);
    print_message("screenshot: %s (%ld bytes)\n", path, n);
}

/* ---- The test ------------------------------------------------------------------------------- */

static void live_updates_then_the_final_state_in_headless_chromium(void **state)
{
    (void)state;
    hv_cdp *c = hv_cdp_open_or_skip(1280, 1800);

    char *argv[] = { (char *)rp_binary(),
                     "run",
                     "--synthetic",
                     HV_OBS_DASH_BARS,
                     "--seed",
                     "9",
                     "--no-progress",
                     "--quiet",
                     "--no-report",
                     "--serve",
                     "127.0.0.1:0",
                     "--serve-for",
                     "300",
                     NULL };
    run_proc *p = calloc(1, sizeof(*p));
    uint16_t port = rp_serve(p, argv, "dashboard");
    if (port == 0)
        fail_msg("no dashboard port announced; stderr: %s", p->err);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)port);
    json_t *nav = hv_cdp_call(c, 1, "Page.navigate", json_pack("{s:s}", "url", url), 30000);
    if (nav == NULL)
        fail_msg("navigate: %s", c->err);
    json_decref(nav);

    /* While the swarm runs: update after update, the figures there, no error. */
    view v = { 0 };
    int live = 0;
    double cycles_before = -1;
    int64_t end = hv_cdp_now_ms() + 120000;
    while (live < 3 && hv_cdp_now_ms() < end) {
        uint64_t before = v.gen;
        if (watch(c, before, &v) != 0)
            continue; /* the page was still loading (its context changed): ask again */
        check_no_error(&v, "during the run");
        if (v.status == NULL || strcmp(v.status, "running") != 0 || v.gen <= before)
            continue;
        double cycles = dom_number(&v, "cycles");
        assert_true(cycles > cycles_before); /* it moves */
        cycles_before = cycles;
        assert_true(dom_int(&v, "stages") >= 10); /* the cycle and its 9 stages */
        assert_int_equal(dom_int(&v, "agents"), 9);
        assert_int_equal(dom_int(&v, "alerts"), 7);
        assert_true(dom_int(&v, "consensus") >= 8);
        assert_true(dom_number(&v, "cps") > 0);
        live++;
    }
    if (live < 3)
        fail_msg("the page did not update 3 times while the swarm ran (last: gen %llu, status "
                 "%s; %s)",
                 (unsigned long long)v.gen, v.status ? v.status : "?", c->err);

    /* The run ends: the final state, as /state has it. */
    end = hv_cdp_now_ms() + 240000;
    while ((v.status == NULL || strcmp(v.status, "finished") != 0) && hv_cdp_now_ms() < end)
        if (watch(c, v.gen, &v) == 0)
            check_no_error(&v, "at the end of the run");
    assert_string_equal(v.status, "finished");
    json_t *st = get_state(port);
    double planned = (double)json_integer_value(json_object_get(st, "planned"));
    double equity = json_number_value(json_object_get(json_object_get(st, "portfolio"), "equity"));
    assert_true(dom_number(&v, "cycles") == planned);
    assert_true(planned == atof(HV_OBS_DASH_BARS));
    assert_true(fabs(dom_number(&v, "equity") - equity) < 0.006);
    assert_true(json_is_true(json_object_get(json_object_get(st, "portfolio"), "final")));
    assert_true(dom_int(&v, "eq_points") >= 2 && dom_int(&v, "dd_points") >= 2);
    assert_true(dom_int(&v, "rate_points") >= 2);
    json_decref(st);
    save_screenshot(c);
    /* the page stays whole and quiet after the run */
    assert_int_equal(watch(c, v.gen - 1, &v), 0);
    check_no_error(&v, "after the run");
    json_decref(v.j);
    hv_cdp_close(c);
    free(c);
    assert_non_null(rp_wait_for(p, "serving the final state", 60000));
    assert_int_equal(rp_finish(p, SIGINT, 60000), 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_updates_then_the_final_state_in_headless_chromium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The dashboard in a real browser: headless Chromium (Debian `chromium`) driven over the
 * DevTools protocol on a pipe (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), on a
 * real `hivewire run --serve`. While the swarm runs the page must update again and again and
 * show the run's figures without an error; once it is over, the final state; then a screenshot
 * goes to out/dashboard.png in the build directory. Skips, saying why, only where Chromium
 * cannot start.
 */
#include "hv_test.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "obs/runproc.h"

#ifndef HV_OBS_DASH_BARS
#define HV_OBS_DASH_BARS "100000"
#endif
#define CHROMIUM "/usr/bin/chromium"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- A DevTools client over a pipe ---------------------------------------------------------- */

typedef struct cdp {
    pid_t pid;
    int to, from; /* our ends: commands to Chromium, replies and events from it */
    char *buf;
    size_t len, cap;
    int next_id;
    char session[128];
    char err[512];
    char dir[64];
} cdp;

static int cdp_start(cdp *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->dir, sizeof(c->dir), "/tmp/hv-obs-chromium-XXXXXX");
    if (mkdtemp(c->dir) == NULL)
        return -1;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    char udd[128];
    snprintf(udd, sizeof(udd), "--user-data-dir=%s", c->dir);
    c->pid = fork();
    if (c->pid == 0) {
        /* fd 3: what Chromium reads; fd 4: what it writes */
        int r = dup(in[0]), w = dup(out[1]);
        dup2(r, 3);
        dup2(w, 4);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        for (int fd = 5; fd < 1024; fd++)
            close(fd);
        execl(CHROMIUM, CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--remote-debugging-pipe", "--window-size=1280,1800", udd,
              "about:blank", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    c->to = in[1];
    c->from = out[0];
    signal(SIGPIPE, SIG_IGN);
    return c->pid > 0 ? 0 : -1;
}

/* Sends one command; returns its "result" (a new reference) or NULL with c->err set. */
static json_t *cdp_call(cdp *c, int in_session, const char *method, json_t *params, int ms)
{
    int id = ++c->next_id;
    json_t *m = json_pack("{s:i, s:s, s:o}", "id", id, "method", method, "params",
                          params ? params : json_object());
    if (in_session)
        json_object_set_new(m, "sessionId", json_string(c->session));
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    size_t n = strlen(s) + 1; /* the NUL ends the message */
    ssize_t w = write(c->to, s, n);
    free(s);
    if (w != (ssize_t)n) {
        snprintf(c->err, sizeof(c->err), "cannot write to chromium: %s", strerror(errno));
        return NULL;
    }
    int64_t end = now_ms() + ms;
    for (;;) {
        char *nul = c->len ? memchr(c->buf, 0, c->len) : NULL;
        if (nul != NULL) {
            json_t *r = json_loads(c->buf, 0, NULL);
            size_t used = (size_t)(nul - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            json_t *rid = r ? json_object_get(r, "id") : NULL;
            if (rid != NULL && json_integer_value(rid) == id) {
                json_t *res = json_incref(json_object_get(r, "result"));
                if (res == NULL)
                    snprintf(
                        c->err, sizeof(c->err), "%s failed: %s", method,
                        json_string_value(json_object_get(json_object_get(r, "error"), "message")));
                json_decref(r);
                return res;
            }
            json_decref(r); /* an event, or a late reply */
            continue;
        }
        int64_t left = end - now_ms();
        struct pollfd p = { .fd = c->from, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            snprintf(c->err, sizeof(c->err), "%s: no answer within %d ms", method, ms);
            return NULL;
        }
        if (c->len + 65536 > c->cap)
            c->buf = realloc(c->buf, c->cap = (c->cap ? c->cap * 2 : 1 << 20));
        ssize_t r = read(c->from, c->buf + c->len, c->cap - c->len);
        if (r <= 0) {
            snprintf(c->err, sizeof(c->err), "chromium closed the pipe (%s)", method);
            return NULL;
        }
        c->len += (size_t)r;
    }
}

static void cdp_stop(cdp *c)
{
    json_decref(cdp_call(c, 0, "Browser.close", NULL, 5000));
    close(c->to);
    close(c->from);
    int status;
    int pfd = (int)syscall(SYS_pidfd_open, c->pid, 0); /* readable once the browser exited */
    if (pfd >= 0) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        poll(&p, 1, 10000);
        close(pfd);
    }
    if (waitpid(c->pid, &status, WNOHANG) == 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, &status, 0);
    }
    free(c->buf);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", c->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", c->dir);
}

/* Evaluates a promise-returning expression in the page; its string value (malloc'd) or NULL. */
static char *page_eval(cdp *c, const char *expr, int ms)
{
    json_t *r = cdp_call(
        c, 1, "Runtime.evaluate",
        json_pack("{s:s, s:b, s:b}", "expression", expr, "awaitPromise", 1, "returnByValue", 1),
        ms);
    if (r == NULL)
        return NULL;
    const char *v = json_string_value(json_object_get(json_object_get(r, "result"), "value"));
    char *out = v ? strdup(v) : NULL;
    if (out == NULL)
        snprintf(c->err, sizeof(c->err), "evaluation gave no string (%s)",
                 json_dumps(r, JSON_COMPACT));
    json_decref(r);
    return out;
}

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

static int watch(cdp *c, uint64_t after, view *v)
{
    char expr[2048];
    snprintf(expr, sizeof(expr), WATCH, (unsigned long long)after);
    char *s = page_eval(c, expr, 20000);
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

static void save_screenshot(cdp *c)
{
    json_t *r =
        cdp_call(c, 1, "Page.captureScreenshot",
                 json_pack("{s:s, s:b}", "format", "png", "captureBeyondViewport", 1), 30000);
    if (r == NULL)
        fail_msg("screenshot: %s", c->err);
    const char *b64 = json_string_value(json_object_get(r, "data"));
    assert_non_null(b64);
    size_t cap = strlen(b64), n = 0;
    unsigned char *png = malloc(cap);
    assert_int_equal(sodium_base642bin(png, cap, b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_true(n > 1000 && memcmp(png, "\x89PNG", 4) == 0);
    char path[4200];
    snprintf(path, sizeof(path), "%s/out", getenv("HV_BUILD_DIR"));
    mkdir(path, 0777);
    snprintf(path, sizeof(path), "%s/out/dashboard.png", getenv("HV_BUILD_DIR"));
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(png, 1, n, f), n);
    fclose(f);
    print_message("screenshot: %s (%zu bytes)\n", path, n);
    free(png);
    json_decref(r);
}

/* ---- The test ------------------------------------------------------------------------------- */

static void live_updates_then_the_final_state_in_headless_chromium(void **state)
{
    (void)state;
    if (access(CHROMIUM, X_OK) != 0) {
        fprintf(stderr, "skipping: %s is not installed (scripts/install-deps installs it)\n",
                CHROMIUM);
        skip();
        return;
    }
    cdp *c = calloc(1, sizeof(*c));
    json_t *r = NULL;
    if (cdp_start(c) == 0)
        r = cdp_call(c, 0, "Target.createTarget", json_pack("{s:s}", "url", "about:blank"), 60000);
    if (r == NULL) {
        fprintf(stderr, "skipping: chromium cannot start here: %s\n", c->err);
        cdp_stop(c);
        free(c);
        skip();
        return;
    }
    json_t *a = cdp_call(
        c, 0, "Target.attachToTarget",
        json_pack("{s:O, s:b}", "targetId", json_object_get(r, "targetId"), "flatten", 1), 30000);
    json_decref(r);
    if (a == NULL)
        fail_msg("attach: %s", c->err);
    snprintf(c->session, sizeof(c->session), "%s",
             json_string_value(json_object_get(a, "sessionId")));
    json_decref(a);

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
    json_decref(cdp_call(c, 1, "Emulation.setDeviceMetricsOverride",
                         json_pack("{s:i, s:i, s:i, s:b}", "width", 1280, "height", 1800,
                                   "deviceScaleFactor", 1, "mobile", 0),
                         10000));
    json_t *nav = cdp_call(c, 1, "Page.navigate", json_pack("{s:s}", "url", url), 30000);
    if (nav == NULL)
        fail_msg("navigate: %s", c->err);
    json_decref(nav);

    /* While the swarm runs: update after update, the figures there, no error. */
    view v = { 0 };
    int live = 0;
    double cycles_before = -1;
    int64_t end = now_ms() + 120000;
    while (live < 3 && now_ms() < end) {
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
    end = now_ms() + 240000;
    while ((v.status == NULL || strcmp(v.status, "finished") != 0) && now_ms() < end)
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
    cdp_stop(c);
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

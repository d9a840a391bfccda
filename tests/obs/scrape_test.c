/*
 * /metrics during a real run: `hivewire run --metrics 127.0.0.1:0`, scraped while the swarm
 * runs and after; every page parsed strictly; counters only grow; histograms cumulative; every
 * metric docs/OBSERVABILITY.md documents is there; Ctrl-C ends the serving cleanly.
 */
#include "hv_test.h"

#include <math.h>
#include <signal.h>

#include "obs/promparse.h"
#include "obs/runproc.h"

#ifndef HV_OBS_SCRAPE_BARS
#define HV_OBS_SCRAPE_BARS "20000"
#endif

/* The metric names of docs/OBSERVABILITY.md's tables: those before "### Links" (links = 0), or
 * those of that section (links = 1). A row may name several. */
static size_t documented(char names[][96], size_t cap, int links)
{
    char path[4096];
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/docs/OBSERVABILITY.md", root ? root : ".");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot read %s", path);
    char line[2048];
    size_t n = 0;
    int in_links = 0, past_links = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "### Links", 9) == 0)
            in_links = 1;
        else if (line[0] == '#' && in_links)
            in_links = 0, past_links = 1;
        if (in_links != links || past_links || strncmp(line, "| `hivewire_", 12) != 0)
            continue;
        char *cell_end = strchr(line + 1, '|');
        for (char *p = line + 2; cell_end != NULL && p < cell_end && n < cap;) {
            char *x = strchr(p, '`'), *y = x ? strchr(x + 1, '`') : NULL;
            if (y == NULL || y > cell_end || y - x - 1 >= 96)
                break;
            memcpy(names[n], x + 1, (size_t)(y - x - 1));
            names[n++][y - x - 1] = 0;
            p = y + 1;
        }
    }
    fclose(f);
    return n;
}

static void scrape(uint16_t port, prom_page *page)
{
    char *body;
    size_t len;
    int status = http_get(port, "/metrics", &body, &len, 10000);
    if (status != 200)
        fail_msg("GET /metrics: status %d", status);
    char err[512];
    if (prom_parse(body, len, page, err, sizeof(err)) != 0 ||
        prom_check(page, err, sizeof(err)) != 0)
        fail_msg("/metrics is not valid: %s", err);
    free(body);
}

static void metrics_are_valid_grow_and_are_all_there_during_a_run(void **state)
{
    (void)state;
    char out[4096];
    snprintf(out, sizeof(out), "%s/obs-scrape-out", getenv("HV_BUILD_DIR"));
    char *argv[] = { (char *)rp_binary(), "run",         "--synthetic",
                     HV_OBS_SCRAPE_BARS,  "--seed",      "5",
                     "--capacity",        "64",          "--no-progress",
                     "--quiet",           "--out",       out,
                     "--metrics",         "127.0.0.1:0", NULL };
    run_proc *p = calloc(1, sizeof(*p));
    uint16_t port = rp_serve(p, argv, "metrics");
    if (port == 0)
        fail_msg("no port announced; stderr: %s", p->err);
    prom_page prev, cur;
    memset(&prev, 0, sizeof(prev));
    int have_prev = 0, running = 0, finished = 0;
    double first_cycles = NAN, last_running_cycles = NAN;
    for (int i = 0; i < 20000 && !finished; i++) {
        rp_pump(p, 50); /* the pace: up to 50 ms, or as soon as the run says something */
        scrape(port, &cur);
        char err[512];
        if (have_prev && prom_check_grow(&prev, &cur, err, sizeof(err)) != 0)
            fail_msg("between scrapes %d and %d: %s", i - 1, i, err);
        double cycles = prom_value(&cur, "hivewire_cycles_total", "");
        if (prom_value(&cur, "hivewire_run_running", "") == 1) {
            running++;
            if (isnan(first_cycles))
                first_cycles = cycles;
            last_running_cycles = cycles;
        }
        finished = prom_value(&cur, "hivewire_run_finished", "") == 1;
        if (have_prev)
            prom_free(&prev);
        prev = cur;
        have_prev = 1;
    }
    assert_true(finished);
    /* scraped while the swarm ran, and saw it move */
    if (running < 2 || !(last_running_cycles > first_cycles))
        fail_msg("only %d scrapes during the run (cycles %g -> %g)", running, first_cycles,
                 last_running_cycles);
    print_message("%d scrapes during the run, cycles %g -> %g\n", running, first_cycles,
                  last_running_cycles);
    char names[256][96];
    size_t n = documented(names, 256, 0);
    assert_true(n > 60);
    for (size_t k = 0; k < n; k++)
        if (prom_find(&prev, names[k]) == NULL)
            fail_msg("documented metric %s is missing from /metrics", names[k]);
    assert_true(prom_value(&prev, "hivewire_cycles_total", "") == atof(HV_OBS_SCRAPE_BARS));
    assert_true(prom_value(&prev, "hivewire_portfolio_final", "") == 1);
    assert_true(prom_value(&prev, "hivewire_agent_up", "agent=market-data") == 1);
    assert_true(prom_value(&prev, "hivewire_agents_reported", "") == 8);
    assert_true(prom_value(&prev, "hivewire_obs_scrapes_total", "") >= running);
    prom_free(&prev);
    /* the run is over: the summary and the reports are written, the final state is served
     * until Ctrl-C, which ends the command with the run's status */
    assert_non_null(rp_wait_for(p, "serving the final state until Ctrl-C", 60000));
    assert_int_equal(rp_finish(p, SIGINT, 30000), 0);
    char path[4200], *json;
    size_t len;
    snprintf(path, sizeof(path), "%s/run.json", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    json = calloc(1, 1 << 22);
    len = fread(json, 1, (1 << 22) - 1, f);
    fclose(f);
    assert_true(len > 0);
    assert_non_null(strstr(json, "\"alerts\": ["));
    free(json);
    free(p);
}

static void a_port_in_use_stops_the_run_before_it_starts(void **state)
{
    (void)state;
    char *argv[] = {
        (char *)rp_binary(), "run",         "--synthetic", "300", "--no-report", "--no-progress",
        "--serve",           "127.0.0.1:0", "--serve-for", "30",  NULL
    };
    run_proc *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    uint16_t port = rp_serve(a, argv, "dashboard");
    assert_true(port != 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)port);
    char *argv2[] = { (char *)rp_binary(), "run",       "--synthetic", "300",
                      "--no-report",       "--metrics", addr,          NULL };
    assert_int_equal(rp_start(b, argv2), 0);
    assert_int_equal(rp_finish(b, 0, 60000), 1);
    assert_non_null(strstr(b->err, "cannot listen on 127.0.0.1:"));
    assert_non_null(strstr(b->err, "Address already in use"));
    assert_null(strstr(b->err, "cycles/s")); /* no run */
    /* the first one ends its serving cleanly on SIGTERM (once it serves the final state) */
    assert_non_null(rp_wait_for(a, "serving the final state", 60000));
    assert_int_equal(rp_finish(a, SIGTERM, 60000), 0);
    free(a);
    free(b);
}

/* The value of name for the link whose labels end in ",name=agent"; NAN if absent. */
static double link_value(const prom_page *p, const char *name, const char *agent)
{
    char tail[64];
    snprintf(tail, sizeof(tail), ",name=%s", agent);
    for (size_t i = 0; i < p->ns; i++) {
        size_t ll = strlen(p->s[i].labels), tl = strlen(tail);
        if (strcmp(p->s[i].name, name) == 0 && ll > tl &&
            strcmp(p->s[i].labels + ll - tl, tail) == 0)
            return p->s[i].value;
    }
    return NAN;
}

/* run --remote all: every agent a process of its own over QUIC; after the run /metrics has every
 * documented link metric for each of the 8 agents, by name, with traffic on it. */
static void a_networked_run_shows_every_link(void **state)
{
    (void)state;
    char *argv[] = { (char *)rp_binary(),
                     "run",
                     "--synthetic",
                     "400",
                     "--remote",
                     "all",
                     "--no-report",
                     "--no-progress",
                     "--metrics",
                     "127.0.0.1:0",
                     "--serve-for",
                     "120",
                     NULL };
    run_proc *p = calloc(1, sizeof(*p));
    uint16_t port = rp_serve(p, argv, "metrics");
    if (port == 0)
        fail_msg("no port announced; stderr: %s", p->err);
    if (rp_wait_for(p, "serving the final state", 120000) == NULL)
        fail_msg("the run did not end; stderr: %s", p->err);
    prom_page page;
    scrape(port, &page);
    char names[64][96];
    size_t n = documented(names, 64, 1);
    assert_true(n >= 18);
    static const char *const agents[] = { "market-data", "pattern-0", "pattern-1", "pattern-2",
                                          "pattern-3",   "risk",      "strategy",  "execution" };
    for (size_t a = 0; a < sizeof(agents) / sizeof(agents[0]); a++) {
        const char *ag = agents[a];
        for (size_t k = 0; k < n; k++)
            if (isnan(link_value(&page, names[k], ag)))
                fail_msg("%s{name=%s} is missing", names[k], ag);
        assert_true(link_value(&page, "hivewire_link_sent_bytes_total", ag) > 0);
        assert_true(link_value(&page, "hivewire_link_frames_delivered_total", ag) > 0);
        assert_true(link_value(&page, "hivewire_link_rtt_seconds", ag) > 0);
    }
    prom_free(&page);
    assert_int_equal(rp_finish(p, SIGTERM, 60000), 0);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(metrics_are_valid_grow_and_are_all_there_during_a_run),
        cmocka_unit_test(a_port_in_use_stops_the_run_before_it_starts),
        cmocka_unit_test(a_networked_run_shows_every_link),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The alert engine: each alert over and under its threshold, raised and cleared once. */
#include "hv_test.h"

#include <math.h>

#include "obs/alerts.h"

enum level { OVER, BAND, UNDER, NODATA };

/* What each level means for each alert, as cumulative measurements one second apart. */
typedef struct driver {
    hv_obs_alert_input in;
    int use_psi;
} driver;

static void feed(driver *d, int id, enum level lv)
{
    hv_obs_alert_input *in = &d->in;
    in->now_ns += 1000000000ull;
    in->window_cycles = lv == NODATA ? 5 : 500;
    in->cycle_p95_ns = 100000;
    in->cycle_p99_ns = 200000;
    in->bus_valid = 1;
    in->bus_breached = 0;
    in->queue_depth_max = 10;
    in->rss_bytes = 10000000;
    in->have_wait = !d->use_psi;
    in->psi_some = NAN;
    /* over: 2x the threshold; band: 90% (above the 80% clear level); under: 50% */
    double f = lv == OVER ? 2.0 : lv == BAND ? 0.9 : 0.5;
    switch (id) {
    case HV_OBS_ALERT_CYCLE_P95:
        in->cycle_p95_ns = (uint64_t)(f * 1e6);
        break;
    case HV_OBS_ALERT_CYCLE_P99:
        in->cycle_p99_ns = (uint64_t)(f * 5e6);
        break;
    case HV_OBS_ALERT_BUS_LATENCY:
        in->bus_breached = lv == OVER ? 1 : 0;
        in->bus_valid = lv != NODATA;
        break;
    case HV_OBS_ALERT_QUEUE_DEPTH: /* always measured: its scripts have no NODATA */
        in->queue_depth_max = (uint64_t)(f * 10000);
        break;
    case HV_OBS_ALERT_MEMORY:
        in->rss_bytes = lv == NODATA ? 0 : (uint64_t)(f * 100e6);
        break;
    case HV_OBS_ALERT_ERROR_RATE:
        /* 20,000 messages a second; NODATA: 100, fewer than a verdict needs */
        in->messages += lv == NODATA ? 100 : 20000;
        in->errors += lv == NODATA ? 0 : (uint64_t)(f * 0.001 * 20000);
        break;
    default:
        in->have_wait = !d->use_psi && lv != NODATA;
        if (lv != NODATA && d->use_psi)
            in->psi_some = f * 0.10;
        else if (lv != NODATA)
            in->runq_wait_ns += (uint64_t)(f * 0.10 * 1e9);
        break;
    }
}

/* Drives alert id through a sequence and returns the events of that alert, one char per
 * evaluation: 'R' raised, 'C' cleared, '.' nothing. */
static void run_sequence(int id, int use_psi, const enum level *seq, size_t n, char *out)
{
    hv_obs_alert_config cfg;
    hv__obs_alert_config_default(&cfg);
    hv_obs_alerts a;
    hv__obs_alerts_init(&a, &cfg);
    driver d;
    memset(&d, 0, sizeof(d));
    d.use_psi = use_psi;
    feed(&d, id, UNDER); /* the first evaluation starts the windows */
    hv_obs_alert_event ev[HV_OBS_ALERT_COUNT];
    hv__obs_alerts_eval(&a, &d.in, ev, HV_OBS_ALERT_COUNT);
    for (size_t i = 0; i < n; i++) {
        feed(&d, id, seq[i]);
        int k = hv__obs_alerts_eval(&a, &d.in, ev, HV_OBS_ALERT_COUNT);
        out[i] = '.';
        for (int j = 0; j < k; j++) {
            assert_int_equal(ev[j].id, id); /* nothing else moves */
            assert_int_equal(ev[j].at_ns, d.in.now_ns);
            assert_true(strlen(ev[j].message) > 10);
            out[i] = ev[j].raised ? 'R' : 'C';
        }
    }
    out[n] = 0;
}

/* Over twice (raised once), in the band (stays raised), under twice, in the band again (the
 * count starts over), under three times (cleared once), under again (nothing), over (raised
 * again). Evaluations without data change nothing anywhere. */
static const enum level script[] = { OVER,  NODATA, OVER,   BAND,  UNDER, UNDER, BAND,
                                     UNDER, UNDER,  NODATA, UNDER, UNDER, OVER,  NODATA };
static const char expected[] = "R.........C.R.";
/* The same for a figure that is always measured. */
static const enum level script_always[] = { OVER,  OVER,  BAND,  UNDER, UNDER, BAND,
                                            UNDER, UNDER, UNDER, UNDER, OVER };
static const char expected_always[] = "R.......C.R";

static void check_alert(int id, int use_psi)
{
    char got[32];
    int always = id == HV_OBS_ALERT_QUEUE_DEPTH;
    run_sequence(id, use_psi, always ? script_always : script,
                 always ? sizeof(script_always) / sizeof(script_always[0])
                        : sizeof(script) / sizeof(script[0]),
                 got);
    if (strcmp(got, always ? expected_always : expected) != 0)
        fail_msg("alert %s: got %s, expected %s", hv__obs_alert_name(id), got,
                 always ? expected_always : expected);
}

static void cycle_latency_p95_is_raised_and_cleared_once(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_CYCLE_P95, 0);
}

static void cycle_latency_p99_is_raised_and_cleared_once(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_CYCLE_P99, 0);
}

static void bus_latency_follows_hv_bus_check_alerts(void **state)
{
    (void)state;
    /* the bus gives 0, 1 or 2 breaches: there is no band, so BAND and UNDER both read 0 */
    static const enum level seq[] = { OVER, OVER, UNDER, UNDER, UNDER, UNDER, NODATA, OVER };
    char got[16];
    run_sequence(HV_OBS_ALERT_BUS_LATENCY, 0, seq, 8, got);
    assert_string_equal(got, "R...C..R");
}

static void queue_depth_is_raised_and_cleared_once(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_QUEUE_DEPTH, 0);
}

static void memory_is_raised_and_cleared_once(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_MEMORY, 0);
}

static void error_rate_is_raised_and_cleared_once(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_ERROR_RATE, 0);
}

static void cpu_contention_from_the_run_queue_wait(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_CPU_CONTENDED, 0);
}

static void cpu_contention_from_pressure_where_no_schedstat(void **state)
{
    (void)state;
    check_alert(HV_OBS_ALERT_CPU_CONTENDED, 1);
}

static void the_threshold_itself_does_not_raise(void **state)
{
    (void)state;
    hv_obs_alert_config cfg;
    hv__obs_alert_config_default(&cfg);
    hv_obs_alerts a;
    hv__obs_alerts_init(&a, &cfg);
    hv_obs_alert_input in;
    memset(&in, 0, sizeof(in));
    in.psi_some = NAN;
    in.queue_depth_max = 10000; /* at the threshold: not over it */
    hv_obs_alert_event ev[HV_OBS_ALERT_COUNT];
    assert_int_equal(hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT), 0);
    in.now_ns = 1;
    in.queue_depth_max = 10001;
    assert_int_equal(hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT), 1);
    assert_int_equal(ev[0].id, HV_OBS_ALERT_QUEUE_DEPTH);
    assert_int_equal(a.st[HV_OBS_ALERT_QUEUE_DEPTH].raised, 1);
}

static void an_alert_at_zero_is_off(void **state)
{
    (void)state;
    hv_obs_alert_config cfg;
    hv__obs_alert_config_default(&cfg);
    cfg.threshold[HV_OBS_ALERT_MEMORY] = 0;
    hv_obs_alerts a;
    hv__obs_alerts_init(&a, &cfg);
    hv_obs_alert_input in;
    memset(&in, 0, sizeof(in));
    in.psi_some = NAN;
    in.rss_bytes = 1ull << 40;
    hv_obs_alert_event ev[HV_OBS_ALERT_COUNT];
    assert_int_equal(hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT), 0);
    assert_false(a.st[HV_OBS_ALERT_MEMORY].enabled);
}

static void the_error_window_grows_until_it_has_enough_messages(void **state)
{
    (void)state;
    hv_obs_alert_config cfg;
    hv__obs_alert_config_default(&cfg);
    hv_obs_alerts a;
    hv__obs_alerts_init(&a, &cfg);
    hv_obs_alert_input in;
    memset(&in, 0, sizeof(in));
    in.psi_some = NAN;
    hv_obs_alert_event ev[HV_OBS_ALERT_COUNT];
    hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT);
    /* 3 errors in 600 messages: no verdict yet; 1,200 messages later the window has 1,800 and
     * 3 errors: 0.17% > 0.1% */
    in.now_ns = 1000000000ull;
    in.messages = 600;
    in.errors = 3;
    assert_int_equal(hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT), 0);
    in.now_ns = 2000000000ull;
    in.messages = 1800;
    assert_int_equal(hv__obs_alerts_eval(&a, &in, ev, HV_OBS_ALERT_COUNT), 1);
    assert_int_equal(ev[0].id, HV_OBS_ALERT_ERROR_RATE);
    assert_true(ev[0].value > 0.0016 && ev[0].value < 0.0017);
}

static void the_line_names_the_alert_and_its_severity(void **state)
{
    (void)state;
    hv_obs_alert_event e;
    memset(&e, 0, sizeof(e));
    e.id = HV_OBS_ALERT_CYCLE_P99;
    e.raised = 1;
    e.at_ns = 2500000000ull;
    snprintf(e.message, sizeof(e.message),
             "cycle latency p99 7 ms over the last 900 cycles > 5 ms");
    char line[400];
    hv__obs_alert_line("run", &e, line, sizeof(line));
    assert_string_equal(line, "hivewire run: alert cycle_latency_p99 (critical) raised at 2.5 s: "
                              "cycle latency p99 7 ms over the last 900 cycles > 5 ms");
    assert_string_equal(hv__obs_severity_name(hv__obs_alert_severity(HV_OBS_ALERT_CPU_CONTENDED)),
                        "warning");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cycle_latency_p95_is_raised_and_cleared_once),
        cmocka_unit_test(cycle_latency_p99_is_raised_and_cleared_once),
        cmocka_unit_test(bus_latency_follows_hv_bus_check_alerts),
        cmocka_unit_test(queue_depth_is_raised_and_cleared_once),
        cmocka_unit_test(memory_is_raised_and_cleared_once),
        cmocka_unit_test(error_rate_is_raised_and_cleared_once),
        cmocka_unit_test(cpu_contention_from_the_run_queue_wait),
        cmocka_unit_test(cpu_contention_from_pressure_where_no_schedstat),
        cmocka_unit_test(the_threshold_itself_does_not_raise),
        cmocka_unit_test(an_alert_at_zero_is_off),
        cmocka_unit_test(the_error_window_grows_until_it_has_enough_messages),
        cmocka_unit_test(the_line_names_the_alert_and_its_severity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

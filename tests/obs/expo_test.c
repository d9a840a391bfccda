/* The exposition writer, histogram digests, the store and the /proc parsers, without a swarm. */
#include "hv_test.h"

#include <math.h>
#include <pthread.h>

#include "obs/expo.h"
#include "obs/promparse.h"
#include "obs/store.h"
#include "obs/sys.h"

static hv_obs_snap *snap_new(void)
{
    hv_obs_snap *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->cpu_pressure_some = NAN;
    return s;
}

static char *expose(const hv_obs_snap *s, size_t *len)
{
    hv_obs_buf b;
    hv__obs_buf_init(&b, 8u << 20);
    assert_int_equal(hv__obs_expo_write(s, &b), 0);
    *len = b.len;
    return b.p;
}

static void parse_ok(const char *text, size_t len, prom_page *p)
{
    char err[256];
    if (prom_parse(text, len, p, err, sizeof(err)) != 0 || prom_check(p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
}

static void an_empty_snapshot_is_a_valid_page(void **state)
{
    (void)state;
    hv_obs_snap *s = snap_new();
    size_t len;
    char *text = expose(s, &len);
    prom_page p;
    parse_ok(text, len, &p);
    assert_non_null(prom_find(&p, "hivewire_cycles_total"));
    assert_true(prom_value(&p, "hivewire_cycles_total", "") == 0);
    assert_true(isnan(prom_value(&p, "hivewire_cpu_pressure_some_ratio", "")));
    assert_null(prom_find(&p, "hivewire_link_rtt_seconds")); /* networked runs only */
    prom_free(&p);
    free(text);
    free(s);
}

static void histograms_are_cumulative_and_end_at_the_count(void **state)
{
    (void)state;
    hv_hist h;
    assert_int_equal(hv_hist_init(&h, 1ull << 40, 8), 0);
    for (uint64_t v = 1000; v < 20000000; v = v * 11 / 10) /* 1 us .. 20 ms */
        hv_hist_record(&h, v);
    hv_obs_snap *s = snap_new();
    hv__obs_hist_digest(&h, hv__obs_lat_bounds, HV_OBS_LAT_BUCKETS, &s->cycle);
    assert_int_equal(s->cycle.count, h.count);
    assert_int_equal(s->cycle.p50_ns, hv_hist_quantile(&h, 0.5));
    assert_int_equal(s->cycle.p99_ns, hv_hist_quantile(&h, 0.99));
    for (uint32_t i = 1; i < HV_OBS_LAT_BUCKETS; i++)
        assert_true(s->cycle.cum[i] >= s->cycle.cum[i - 1]);
    /* every value <= 1 ms lies at or below the 1 ms bucket (within the histogram's 0.4%) */
    uint64_t surely = 0, maybe = 0;
    for (uint64_t v = 1000; v < 20000000; v = v * 11 / 10) {
        surely += v <= 996000;
        maybe += v <= 1000000;
    }
    assert_true(s->cycle.cum[6] >= surely && s->cycle.cum[6] <= maybe);
    size_t len;
    char *text = expose(s, &len);
    prom_page p;
    parse_ok(text, len, &p);
    assert_true(prom_value(&p, "hivewire_cycle_duration_seconds_bucket", "le=+Inf") ==
                (double)h.count);
    assert_true(prom_value(&p, "hivewire_cycle_duration_seconds_bucket", "le=0.001") ==
                (double)s->cycle.cum[6]);
    assert_true(fabs(prom_value(&p, "hivewire_cycle_duration_seconds_sum", "") - h.sum / 1e9) <
                1e-9);
    prom_free(&p);
    free(text);
    free(s);
    hv_hist_fini(&h);
}

static void label_values_are_escaped(void **state)
{
    (void)state;
    hv_obs_snap *s = snap_new();
    s->nstages = 1;
    snprintf(s->stage[0].name, sizeof(s->stage[0].name), "a\"b\\c\nd");
    s->stage[0].h.nbounds = HV_OBS_LAT_BUCKETS;
    size_t len;
    char *text = expose(s, &len);
    assert_non_null(strstr(text, "stage=\"a\\\"b\\\\c\\nd\""));
    prom_page p;
    parse_ok(text, len, &p);
    assert_true(prom_value(&p, "hivewire_stage_self_seconds_total", "stage=a\"b\\c\nd") == 0);
    prom_free(&p);
    free(text);
    free(s);
}

static void the_parser_refuses_what_the_format_does_not_allow(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "x 1\n",                                        /* no HELP/TYPE */
        "# HELP x h\n# TYPE x gauge\nx 1",              /* no final newline */
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\",} 1\n",  /* trailing comma */
        "# HELP x h\n# TYPE x gauge\nx{a=\"\\t\"} 1\n", /* bad escape */
        "# HELP x h\n# TYPE x gauge\nx one\n",          /* bad value */
        "# HELP x_total h\n# TYPE x_total counter\nx_total -1\n",
        "# HELP x h\n# TYPE x counter\nx 1\n", /* counter without _total */
        ("# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
         "h_sum 1\nh_count 1\n"), /* not cumulative */
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* no +Inf */
        "# HELP x h\n# TYPE x gauge\nx 1\nx 2\n", /* the same series twice */
        "# HELP x h\n# TYPE x gauge\n\nx 1\n",    /* blank line */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        prom_page p;
        char err[256];
        int rc = prom_parse(bad[i], strlen(bad[i]), &p, err, sizeof(err));
        if (rc == 0)
            rc = prom_check(&p, err, sizeof(err));
        prom_free(&p);
        if (rc == 0)
            fail_msg("accepted bad page %zu: %s", i, bad[i]);
    }
}

static void counters_that_go_down_are_caught(void **state)
{
    (void)state;
    hv_obs_snap *s = snap_new();
    s->st.cycles = 10;
    size_t la, lb;
    char *a = expose(s, &la);
    s->st.cycles = 9;
    char *b = expose(s, &lb);
    prom_page pa, pb;
    parse_ok(a, la, &pa);
    parse_ok(b, lb, &pb);
    char err[256];
    assert_int_equal(prom_check_grow(&pa, &pb, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "hivewire_cycles_total"));
    assert_int_equal(prom_check_grow(&pb, &pa, err, sizeof(err)), 0);
    prom_free(&pa);
    prom_free(&pb);
    free(a);
    free(b);
    free(s);
}

static void link_figures_fed_to_the_store_are_exposed(void **state)
{
    (void)state;
    hv_obs_store st;
    assert_int_equal(hv__obs_store_init(&st), 0);
    hv_obs_snap *s = snap_new(), *out = snap_new();
    assert_int_equal(hv__obs_store_publish(&st, s, 1), 1);
    hv_obs_link l;
    memset(&l, 0, sizeof(l));
    snprintf(l.name, sizeof(l.name), "pattern-0");
    l.s.peer_id = 0x100000010ull;
    l.s.rtt_us = 250;
    l.s.bytes_sent = 4096;
    l.s.handshake_us = 1200;
    hv__obs_store_links(&st, &l, 1);
    assert_int_equal(hv__obs_store_read(&st, 0, 0, out), 1);
    assert_int_equal(out->gen, 1);
    size_t len;
    char *text = expose(out, &len);
    prom_page p;
    parse_ok(text, len, &p);
    const char *lb = "peer=0000000100000010,name=pattern-0";
    assert_true(fabs(prom_value(&p, "hivewire_link_rtt_seconds", lb) - 250e-6) < 1e-12);
    assert_true(prom_value(&p, "hivewire_link_sent_bytes_total", lb) == 4096);
    assert_true(fabs(prom_value(&p, "hivewire_link_handshake_seconds", lb) - 1200e-6) < 1e-12);
    prom_free(&p);
    free(text);
    /* nothing newer than generation 1: a reader waiting for one times out, then sees the end */
    assert_int_equal(hv__obs_store_read(&st, 1, 1000000, out), 0);
    hv__obs_store_close(&st);
    assert_int_equal(hv__obs_store_read(&st, 1, 1000000000, out), HV_ECLOSED);
    hv__obs_store_fini(&st);
    free(s);
    free(out);
}

/* ---- The store under a writer and readers (also under TSan) --------------------------------- */

typedef struct reader_arg {
    hv_obs_store *st;
    uint64_t reads, torn;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *r = p;
    hv_obs_snap *s = malloc(sizeof(*s));
    uint64_t gen = 0;
    for (;;) {
        int got = hv__obs_store_read(r->st, gen, 1000000000ull, s);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        /* the writer sets cycles = gen * 7 and the curve to gen: a torn copy would differ */
        if (s->gen <= gen || s->st.cycles != s->st.proposals * 7 ||
            s->curve_eq[HV_OBS_CURVE_MAX - 1] != (double)s->st.proposals)
            r->torn++;
        gen = s->gen;
        r->reads++;
    }
    free(s);
    return NULL;
}

static void readers_see_whole_snapshots_in_order(void **state)
{
    (void)state;
    hv_obs_store st;
    assert_int_equal(hv__obs_store_init(&st), 0);
    reader_arg ra[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        ra[i] = (reader_arg){ .st = &st };
        assert_int_equal(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
    }
    hv_obs_snap *w = snap_new();
    uint64_t published = 0, skipped = 0;
    for (uint64_t i = 1; i <= 2000; i++) {
        w->st.proposals = i;
        w->st.cycles = i * 7;
        w->curve_eq[HV_OBS_CURVE_MAX - 1] = (double)i;
        if (hv__obs_store_publish(&st, w, i == 2000))
            published++;
        else
            skipped++; /* a reader held the lock: the writer did not wait */
    }
    hv__obs_store_close(&st);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(ra[i].torn, 0);
        assert_true(ra[i].reads >= 1);
    }
    assert_int_equal(published + skipped, 2000);
    hv__obs_store_fini(&st);
    free(w);
}

/* ---- /proc -------------------------------------------------------------------------------------
 */

static void proc_files_parse_and_bad_ones_are_refused(void **state)
{
    (void)state;
    uint64_t run, wait, rss;
    double psi;
    assert_int_equal(hv__obs_parse_schedstat("111736 160720 2\n", &run, &wait), 0);
    assert_int_equal(run, 111736);
    assert_int_equal(wait, 160720);
    assert_int_equal(hv__obs_parse_schedstat("111736\n", &run, &wait), HV_EPARSE);
    assert_int_equal(hv__obs_parse_schedstat("99999999999999999999999 1 1", &run, &wait),
                     HV_EPARSE);
    assert_int_equal(hv__obs_parse_statm("1000 250 10 1 0 100 0\n", 4096, &rss), 0);
    assert_int_equal(rss, 250 * 4096);
    assert_int_equal(hv__obs_parse_statm("x", 4096, &rss), HV_EPARSE);
    assert_int_equal(hv__obs_parse_psi("some avg10=15.24 avg60=10.77 avg300=35.39 total=21\n"
                                       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                                       &psi),
                     0);
    assert_true(fabs(psi - 0.1524) < 1e-12);
    assert_int_equal(hv__obs_parse_psi("full avg10=1.00\n", &psi), HV_EPARSE);
    assert_int_equal(hv__obs_parse_psi("some avg60=1.00\nfull avg10=3.00\n", &psi), HV_EPARSE);
    assert_int_equal(hv__obs_parse_psi("some avg10=250.0\n", &psi), HV_EPARSE);
    hv_obs_thread t;
    memset(&t, 0, sizeof(t));
    hv__obs_thread_self(&t);
    assert_true(t.cpu_ns > 0 || t.switches_voluntary + t.switches_involuntary > 0);
    assert_true(hv__obs_rss_bytes() > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_empty_snapshot_is_a_valid_page),
        cmocka_unit_test(histograms_are_cumulative_and_end_at_the_count),
        cmocka_unit_test(label_values_are_escaped),
        cmocka_unit_test(the_parser_refuses_what_the_format_does_not_allow),
        cmocka_unit_test(counters_that_go_down_are_caught),
        cmocka_unit_test(link_figures_fed_to_the_store_are_exposed),
        cmocka_unit_test(readers_see_whole_snapshots_in_order),
        cmocka_unit_test(proc_files_parse_and_bad_ones_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

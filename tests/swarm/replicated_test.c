/*
 * The swarm's coordinator on the replicated decision log (src/swarm/replicated.c): three
 * replicas in the process, over mutual TLS on loopback. A replicated run trades exactly as the
 * unreplicated one; every replica ends with the run's trades and the same state; each log
 * verifies from disk to that state; the three replicas started again from their directories
 * come back to the same state hash.
 */
#include "hv_test.h"

#include <hivewire/market.h>
#include <hivewire/swarm.h>

#include "log/log_int.h"
#include "swarm/replicated.h"

static hv_series g_bars;

static int setup(void **state)
{
    (void)state;
    hv_gbm_params p;
    hv_gbm_params_default(&p);
    hv_synth g;
    hv_series_init(&g_bars);
    return hv_synth_init(&g, &p, 3) == 0 && hv_synth_fill(&g, 300, &g_bars) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hv_series_fini(&g_bars);
    return 0;
}

static void config(hv_swarm_opts *cfg)
{
    hv_swarm_opts_default(cfg);
    cfg->seed = 3;
    for (uint32_t i = 0; i < cfg->patterns; i++)
        cfg->pattern[i].capacity = 64;
}

static uint64_t run_plain(void)
{
    hv_swarm_opts cfg;
    config(&cfg);
    hv_swarm *s = NULL;
    assert_int_equal(hv_swarm_new(&cfg, g_bars.bars, g_bars.len, &s), 0);
    assert_int_equal(hv_swarm_run(s, NULL, NULL), 0);
    hv_swarm_stats st;
    hv_swarm_stats_get(s, &st);
    hv_swarm_free(s);
    return st.trades_hash;
}

static sw_replicas *open_replicas(const char *dir, const hv_swarm_opts *cfg)
{
    char certs[300], err[512];
    snprintf(certs, sizeof(certs), "%s/certs", dir);
    sw_replicas_opts o = { .n = 3,
                           .data_dir = dir,
                           .certs_dir = certs,
                           .node = cfg->node,
                           .snapshot_threshold = 256, /* snapshots during a 300-cycle run */
                           .cfg = cfg,
                           .bars = g_bars.bars,
                           .nbars = g_bars.len,
                           .cycles = g_bars.len };
    sw_replicas *r = NULL;
    int rc = hv__sw_replicas_new(&r, &o, err, sizeof(err));
    if (rc != 0)
        fail_msg("replicas: %s", err);
    return r;
}

static void a_replicated_run_trades_as_one_and_restarts_to_the_same_state(void **state)
{
    (void)state;
    uint64_t plain = run_plain();
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/hv-replicated-XXXXXX");
    assert_non_null(mkdtemp(dir));
    hv_swarm_opts cfg;
    config(&cfg);
    hv_swarm *s = NULL;
    assert_int_equal(hv_swarm_new(&cfg, g_bars.bars, g_bars.len, &s), 0);
    sw_replicas *r = open_replicas(dir, &cfg);
    assert_int_equal(hv__swarm_attach_log(s, hv__sw_replicas_ops(), r, hv__sw_replicas_actor(r)),
                     0);
    int rc = hv_swarm_run(s, NULL, NULL);
    if (rc != 0)
        fail_msg("the replicated run: %s (%s)", hv_strerror(rc), hv_swarm_error(s));
    hv_swarm_stats st;
    hv_swarm_stats_get(s, &st);
    assert_int_equal(st.trades_hash, plain); /* the log changes no trade */
    assert_int_equal(hv__sw_replicas_settle(r), 0);
    uint8_t live[32];
    for (uint32_t k = 0; k < 3; k++) {
        sw_replica_info in;
        hv__sw_replicas_info(r, k, &in);
        assert_true(in.st.finished);
        assert_int_equal(in.st.trades_hash, plain);
        assert_int_equal(in.st.decisions, st.proposals);
        assert_int_equal(in.st.accepted, st.accepted);
        assert_int_equal(in.st.orders_sent, st.orders_sent);
        assert_int_equal(in.st.divergences, 0);
        assert_int_equal(in.st.refused, 0);
        assert_int_equal(in.st.votes, st.votes_counted);
        if (k == 0)
            memcpy(live, in.state_hash, 32);
        assert_memory_equal(in.state_hash, live, 32);
    }
    hv__sw_replicas_free(r);
    hv_swarm_free(s);
    /* each log, read from disk without libraft, leads to the same state */
    for (uint32_t k = 1; k <= 3; k++) {
        char d[128], err[512];
        snprintf(d, sizeof(d), "%s/replica-%u", dir, k);
        hv_log_verify_report *rep = calloc(1, sizeof(*rep));
        assert_int_equal(hv__log_verify(d, rep, NULL, err, sizeof(err)), 0);
        assert_int_equal(rep->problems, 0);
        assert_memory_equal(rep->state_hash, live, 32);
        free(rep);
    }
    /* the three replicas started again from their directories: the same state */
    r = open_replicas(dir, &cfg);
    assert_int_equal(hv__sw_replicas_settle(r), 0);
    for (uint32_t k = 0; k < 3; k++) {
        sw_replica_info in;
        hv__sw_replicas_info(r, k, &in);
        assert_memory_equal(in.state_hash, live, 32);
    }
    hv__sw_replicas_free(r);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The replicas' loop runs on its own thread from the start: stopped without a run (the path of
 * a run that failed to start) and with entries still queued, it comes back and closes. */
static void replicas_stopped_without_a_run_close(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/hv-replicated-XXXXXX");
    assert_non_null(mkdtemp(dir));
    hv_swarm_opts cfg;
    config(&cfg);
    sw_replicas *r = open_replicas(dir, &cfg);
    hv__sw_replicas_free(r); /* straight away: the thread stops, the loop closes */
    r = open_replicas(dir, &cfg);
    const sw_log_ops *ops = hv__sw_replicas_ops();
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_CYCLE;
    assert_int_equal(ops->append(r, &e, 0), 0);
    hv__sw_replicas_halt(r);
    hv__sw_replicas_halt(r); /* twice: nothing more */
    sw_replica_info in;
    hv__sw_replicas_info(r, 0, &in);
    assert_true(in.term >= 1);
    hv__sw_replicas_free(r);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* src/log/replica.h */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_replicated_run_trades_as_one_and_restarts_to_the_same_state),
        cmocka_unit_test(replicas_stopped_without_a_run_close),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

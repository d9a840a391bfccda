/*
 * The one shape of the public options structs: every hv_X_opts has hv_X_opts_default(), whose
 * result its hv_X_opts_check() accepts, and the check names the first bad field (NULL, a wrong
 * size, then each struct's fields on both sides of an edge) in an hv_field_error.
 */
#include "hv_test.h"

#include <math.h>
#include <string.h>

#include <hivewire/hivewire.h>
#include <hivewire/net.h>

/* rc is HV_EINVAL and e names field, with a reason. */
static void refused(int rc, const hv_field_error *e, const char *field)
{
    assert_int_equal(rc, HV_EINVAL);
    assert_non_null(e->field);
    assert_string_equal(e->field, field);
    assert_non_null(e->reason);
    assert_true(strlen(e->reason) > 0);
}

/* Every check: NULL is "opts", a size one byte short is "size". The struct is restored. */
#define NULL_AND_SIZE_ARE_NAMED(check, o)       \
    do {                                        \
        hv_field_error e_ = { 0 };              \
        refused(check(NULL, &e_), &e_, "opts"); \
        (o).size = sizeof(o) - 1;               \
        refused(check(&(o), &e_), &e_, "size"); \
        (o).size = sizeof(o) + 1;               \
        refused(check(&(o), &e_), &e_, "size"); \
        (o).size = sizeof(o);                   \
        assert_int_equal(check(&(o), NULL), 0); \
    } while (0)

static void bus_agent_and_subscription_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_bus_opts b;
    hv_bus_opts_default(&b);
    NULL_AND_SIZE_ARE_NAMED(hv_bus_opts_check, b);
    b.max_agents = 1u << 20;
    assert_int_equal(hv_bus_opts_check(&b, &e), 0);
    b.max_agents++;
    refused(hv_bus_opts_check(&b, &e), &e, "max_agents");
    hv_bus_opts_default(&b);
    b.msg_pool = 100;
    refused(hv_bus_opts_check(&b, &e), &e, "msg_pool");
    hv_bus *bus = NULL;
    assert_int_equal(hv_bus_new(&b, &bus), HV_EINVAL);
    assert_null(bus);

    hv_agent_opts a;
    hv_agent_opts_default(&a);
    NULL_AND_SIZE_ARE_NAMED(hv_agent_opts_check, a);
    a.inbox_capacity = 2;
    assert_int_equal(hv_agent_opts_check(&a, &e), 0);
    a.inbox_capacity = 1;
    refused(hv_agent_opts_check(&a, &e), &e, "inbox_capacity");
    hv_agent_opts_default(&a);
    a.retry_max = 256;
    refused(hv_agent_opts_check(&a, &e), &e, "retry_max");

    hv_sub_opts s;
    hv_sub_opts_default(&s);
    NULL_AND_SIZE_ARE_NAMED(hv_sub_opts_check, s);
    s.group = "workers";
    s.sender = 3;
    refused(hv_sub_opts_check(&s, &e), &e, "group");
}

static void codec_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_codec_opts o;
    hv_codec_opts_default(&o);
    NULL_AND_SIZE_ARE_NAMED(hv_codec_opts_check, o);
    o.frame_max_bytes = HV_FRAME_MIN_LIMIT;
    assert_int_equal(hv_codec_opts_check(&o, &e), 0);
    o.frame_max_bytes = HV_FRAME_MIN_LIMIT - 1;
    refused(hv_codec_opts_check(&o, &e), &e, "frame_max_bytes");
    hv_codec_opts_default(&o);
    o.intern_max = HV_INTERN_MAX_CEILING + 1;
    refused(hv_codec_opts_check(&o, &e), &e, "intern_max");
    hv_codec *c = NULL;
    assert_int_equal(hv_codec_new(&o, &c), HV_EINVAL);
    assert_null(c);
    assert_int_equal(hv_codec_new(NULL, &c), 0);
    hv_codec_limits lim;
    hv_codec_limits_get(c, &lim);
    assert_int_equal(lim.frame_max_bytes, HV_FRAME_MAX_DEFAULT);
    hv_codec_free(c);
}

static void consensus_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    NULL_AND_SIZE_ARE_NAMED(hv_consensus_opts_check, o);
    o.proposal_voters_max = HV_PROPOSAL_VOTERS_MAX;
    assert_int_equal(hv_consensus_opts_check(&o, &e), 0);
    o.proposal_voters_max = HV_PROPOSAL_VOTERS_MAX + 1;
    refused(hv_consensus_opts_check(&o, &e), &e, "proposal_voters_max");
    hv_consensus_opts_default(&o);
    o.flags = 0x80u;
    refused(hv_consensus_opts_check(&o, &e), &e, "flags");

    hv_result_opts r;
    hv_result_opts_default(&r);
    NULL_AND_SIZE_ARE_NAMED(hv_result_opts_check, r);
    r.num = 3;
    r.den = 3;
    assert_int_equal(hv_result_opts_check(&r, &e), 0);
    r.num = 4;
    refused(hv_result_opts_check(&r, &e), &e, "num");
    hv_result_opts_default(&r);
    r.tolerance = NAN;
    refused(hv_result_opts_check(&r, &e), &e, "tolerance");

    hv_sim_consensus_opts s;
    hv_sim_consensus_opts_default(&s);
    NULL_AND_SIZE_ARE_NAMED(hv_sim_consensus_opts_check, s);
    s.agents = 4;
    assert_int_equal(hv_sim_consensus_opts_check(&s, &e), 0);
    s.agents = 3;
    refused(hv_sim_consensus_opts_check(&s, &e), &e, "agents");
    hv_sim_consensus_opts_default(&s);
    s.byzantine = 1;
    refused(hv_sim_consensus_opts_check(&s, &e), &e, "byzantine");
}

static void dtw_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_dtw_opts o;
    hv_dtw_opts_default(&o);
    NULL_AND_SIZE_ARE_NAMED(hv_dtw_opts_check, o);
    o.len = HV_DTW_LEN_MAX;
    assert_int_equal(hv_dtw_opts_check(&o, &e), 0);
    o.len = HV_DTW_LEN_MAX + 1;
    refused(hv_dtw_opts_check(&o, &e), &e, "len");
    hv_dtw_opts_default(&o);
    o.band = 1.0000001;
    refused(hv_dtw_opts_check(&o, &e), &e, "band");

    hv_dtw_library_opts l;
    hv_dtw_library_opts_default(&l);
    NULL_AND_SIZE_ARE_NAMED(hv_dtw_library_opts_check, l);
    l.len = 2;
    assert_int_equal(hv_dtw_library_opts_check(&l, &e), 0);
    l.len = 1;
    refused(hv_dtw_library_opts_check(&l, &e), &e, "len");
    hv_dtw_library_opts_default(&l);
    l.horizon = 0;
    refused(hv_dtw_library_opts_check(&l, &e), &e, "horizon");
}

static void market_and_risk_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_csv_opts c;
    hv_csv_opts_default(&c);
    NULL_AND_SIZE_ARE_NAMED(hv_csv_opts_check, c);

    hv_replay_opts r;
    hv_replay_opts_default(&r);
    NULL_AND_SIZE_ARE_NAMED(hv_replay_opts_check, r);
    r.ticks_per_bar = HV_REPLAY_TICKS_MAX;
    assert_int_equal(hv_replay_opts_check(&r, &e), 0);
    r.ticks_per_bar = HV_REPLAY_TICKS_MAX + 1;
    refused(hv_replay_opts_check(&r, &e), &e, "ticks_per_bar");
    hv_replay_opts_default(&r);
    r.speed = -1;
    refused(hv_replay_opts_check(&r, &e), &e, "speed");

    hv_var_opts v;
    hv_var_opts_default(&v);
    NULL_AND_SIZE_ARE_NAMED(hv_var_opts_check, v);
    v.confidence = 1;
    refused(hv_var_opts_check(&v, &e), &e, "confidence");
    double ret[4] = { 0.01, -0.02, 0.03, -0.01 }, scratch[4];
    hv_var_es es;
    assert_int_equal(hv_var_estimate(ret, 4, &v, scratch, 4, &es), HV_EBADCONF);
    hv_var_opts_default(&v);
    v.mc_sims = HV_VAR_SIMS_MAX + 1;
    refused(hv_var_opts_check(&v, &e), &e, "mc_sims");
}

static void trading_and_profiler_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_limits_opts l;
    hv_limits_opts_default(&l);
    NULL_AND_SIZE_ARE_NAMED(hv_limits_opts_check, l);
    hv_exchange_opts x;
    hv_exchange_opts_default(&x);
    NULL_AND_SIZE_ARE_NAMED(hv_exchange_opts_check, x);

    hv_profiler_opts p;
    hv_profiler_opts_default(&p);
    NULL_AND_SIZE_ARE_NAMED(hv_profiler_opts_check, p);
    p.depth_max = 64;
    assert_int_equal(hv_profiler_opts_check(&p, &e), 0);
    p.depth_max = 65;
    refused(hv_profiler_opts_check(&p, &e), &e, "depth_max");
    hv_profiler_opts_default(&p);
    p.value_max_ns = 3; /* below 2^(sub_bits + 1) */
    refused(hv_profiler_opts_check(&p, &e), &e, "value_max_ns");
    hv_profiler *prof = NULL;
    assert_int_equal(hv_profiler_new(&p, &prof), HV_EINVAL);
    assert_null(prof);
}

static void swarm_and_net_options_name_the_bad_field(void **state)
{
    (void)state;
    hv_field_error e;
    hv_swarm_opts s;
    hv_swarm_opts_default(&s);
    NULL_AND_SIZE_ARE_NAMED(hv_swarm_opts_check, s);
    s.stall_timeout_ns = 0;
    refused(hv_swarm_opts_check(&s, &e), &e, "stall_timeout_ns");
    hv_swarm_opts_default(&s);
    s.exchange.fee_bps = -1; /* a nested struct's field, by its own name */
    refused(hv_swarm_opts_check(&s, &e), &e, "fee_bps");

    hv_swarm_sim_opts m;
    hv_swarm_sim_opts_default(&m);
    NULL_AND_SIZE_ARE_NAMED(hv_swarm_sim_opts_check, m);
    m.faults = HV_SIM_CRASH;
    m.crashed = 4;
    assert_int_equal(hv_swarm_sim_opts_check(&m, &e), 0);
    m.crashed = 5;
    refused(hv_swarm_sim_opts_check(&m, &e), &e, "crashed");

    hv_net_opts n;
    hv_net_opts_default(&n);
    NULL_AND_SIZE_ARE_NAMED(hv_net_opts_check, n);
    n.lanes_max = 257;
    refused(hv_net_opts_check(&n, &e), &e, "lanes_max");
    hv_net *net = NULL;
    assert_int_equal(hv_net_listen(&n, &net), HV_EINVAL);
    assert_null(net);
    assert_non_null(strstr(hv_net_last_error(NULL), "lanes_max"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bus_agent_and_subscription_options_name_the_bad_field),
        cmocka_unit_test(codec_options_name_the_bad_field),
        cmocka_unit_test(consensus_options_name_the_bad_field),
        cmocka_unit_test(dtw_options_name_the_bad_field),
        cmocka_unit_test(market_and_risk_options_name_the_bad_field),
        cmocka_unit_test(trading_and_profiler_options_name_the_bad_field),
        cmocka_unit_test(swarm_and_net_options_name_the_bad_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

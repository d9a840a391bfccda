/* The swarm's messages as HVW1 frames: every kind survives encode -> decode. */
#include <string.h>

#include "hv_test.h"

#include <hivewire/codec.h>

#include "swarm/swarm_int.h"

static hv_msg hm; /* what a stream frame decodes into */

static void roundtrip(sw_msg *m, sw_msg *out)
{
    uint8_t buf[SW_FRAME_MAX];
    m->cycle = 41;
    m->wall_ns = 123456789;
    m->sender = 7;
    int n = hv__sw_encode(m, 3, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(hv__sw_decode(buf, (size_t)n, out, &hm), 0);
    assert_int_equal(out->kind, m->kind);
    assert_int_equal(out->cycle, 41);
    assert_int_equal(out->wall_ns, 123456789);
    assert_int_equal(out->sender, 7);
}

static sw_order order(void)
{
    sw_order o = { .side = HV_SIDE_SELL,
                   .action = HV_ACTION_POSITION_CHANGE,
                   .qty = 250,
                   .ref_price = 1402.5,
                   .target = -100 };
    return o;
}

static void a_bar_survives_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_BAR;
    m.bar.sim_ns = 86400;
    m.bar.md_ns = 99;
    m.bar.bar = (hv_bar){
        .day = 10959, .open = 1, .high = 2, .low = 0.5, .close = 1.5, .adjclose = 1.5, .volume = 1e9
    };
    roundtrip(&m, &d);
    assert_memory_equal(&d.bar, &m.bar, sizeof(m.bar));
}

static void a_proposal_and_its_vote_request_survive_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_PROPOSE;
    m.strat.order = order();
    m.strat.trace.par_ns = 5;
    m.strat.trace.strat_ns = 6;
    roundtrip(&m, &d);
    assert_memory_equal(&d.strat, &m.strat, sizeof(m.strat));
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE_REQ;
    m.vreq.id = 42;
    m.vreq.rule = HV_RULE_BFT;
    m.vreq.crit = HV_CRIT_CRITICAL;
    m.vreq.order = order();
    assert_int_equal(hv__sw_order_hash(&m.vreq.order, m.vreq.hash), 0);
    m.vreq.nvoters = 3;
    m.vreq.voters[0] = 3, m.vreq.voters[1] = 4, m.vreq.voters[2] = 9;
    roundtrip(&m, &d);
    assert_memory_equal(&d.vreq, &m.vreq, sizeof(m.vreq));
}

static void a_vote_and_a_decision_survive_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE;
    m.vote.auth = 1;
    m.vote.v.proposal_id = 42;
    m.vote.v.voter = 4;
    m.vote.v.choice = HV_CHOICE_REJECT;
    memset(m.vote.v.sig, 0xab, sizeof(m.vote.v.sig));
    memset(m.vote.v.payload_hash, 0x11, sizeof(m.vote.v.payload_hash));
    roundtrip(&m, &d);
    assert_memory_equal(&d.vote, &m.vote, sizeof(m.vote));
    memset(&m, 0, sizeof(m));
    m.kind = SW_DECISION;
    m.decision.proposal_id = 42;
    m.decision.outcome = HV_OUTCOME_ACCEPTED;
    m.decision.rule = HV_RULE_THRESHOLD;
    m.decision.approvals = 4;
    roundtrip(&m, &d);
    assert_int_equal(d.decision.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.decision.rule, HV_RULE_THRESHOLD);
    assert_int_equal(d.decision.approvals, 4);
}

static void reports_state_and_results_survive_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_CONFIRM;
    m.confirm = (hv_exec_report){ .type = HV_EXEC_FILL,
                                  .order_id = 5,
                                  .side = HV_SIDE_BUY,
                                  .state = HV_ORDER_PARTIALLY_FILLED,
                                  .fill_qty = 30,
                                  .fill_price = 99.5,
                                  .fee = 1,
                                  .filled_qty = 30,
                                  .leaves_qty = 70,
                                  .submit_ns = 1,
                                  .exchange_ns = 2,
                                  .deliver_ns = 3 };
    roundtrip(&m, &d);
    assert_memory_equal(&d.confirm, &m.confirm, sizeof(m.confirm));
    memset(&m, 0, sizeof(m));
    m.kind = SW_STATE;
    m.state.position = -300;
    m.state.open_buy = 100;
    m.state.drawdown_frac = 0.125;
    m.state.equity = 1e6;
    m.state.close = 1234.5;
    m.state.bar_md_ns = 250;
    m.state.bar_sent_ns = 123456789012345ull;
    roundtrip(&m, &d);
    assert_memory_equal(&d.state, &m.state, sizeof(m.state));
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER_RESULT;
    m.result.proposal_id = 42;
    m.result.rc = HV_ELIMIT;
    m.result.breach.limit = HV_LIMIT_POSITION;
    m.result.breach.value = 200;
    m.result.breach.limit_value = 50;
    roundtrip(&m, &d);
    assert_int_equal(d.result.rc, HV_ELIMIT);
    assert_int_equal(d.result.breach.limit, HV_LIMIT_POSITION);
    assert_true(d.result.breach.value == 200);
}

static void a_state_with_quantities_out_of_range_is_refused(void **state)
{
    (void)state;
    sw_msg m, d;
    uint8_t buf[SW_FRAME_MAX];
    const double bad[3] = { 3.4e40, 0.5, -1 }; /* too big, fractional, negative */
    for (int i = 0; i < 3; i++) {
        memset(&m, 0, sizeof(m));
        m.kind = SW_STATE;
        m.state.equity = 1e6;
        int n = hv__sw_encode(&m, 1, buf, sizeof(buf));
        assert_true(n > 0);
        /* patch open_buy_qty's value as it travels: find it after its name */
        uint8_t *p = memmem(buf, (size_t)n, "open_buy_qty", 12);
        assert_non_null(p);
        memcpy(p + 13, &bad[i], 8);
        assert_int_equal(hv__sw_decode(buf, (size_t)n, &d, &hm), HV_EBADFIELD);
    }
}

static void a_prediction_without_neighbours_stays_invalid(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_PRED;
    m.pred.agent = 2;
    roundtrip(&m, &d);
    assert_false(d.pred.valid);
    m.pred.valid = 1;
    m.pred.expected = 0.01;
    m.pred.agreement = 0.75;
    m.pred.distance_min = 3;
    roundtrip(&m, &d);
    assert_true(d.pred.valid);
    assert_int_equal(d.pred.agent, 2);
    assert_true(d.pred.agreement == 0.75);
}

static void frames_that_name_no_swarm_message_are_refused(void **state)
{
    (void)state;
    sw_msg m, d;
    uint8_t buf[SW_FRAME_MAX];
    memset(&m, 0, sizeof(m));
    m.kind = SW_BAR;
    m.bar.bar.close = 1;
    int n = hv__sw_encode(&m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    assert_true(hv__sw_decode(buf, (size_t)n - 1, &d, &hm) < 0); /* truncated */
    buf[0] ^= 0xff;                                              /* magic */
    assert_int_equal(hv__sw_decode(buf, (size_t)n, &d, &hm), HV_EBADMAGIC);
    /* a valid HVW1 frame on a subject the swarm does not use */
    hv_msg w;
    hv_frame f;
    memset(&w, 0, sizeof(w));
    memset(&f, 0, sizeof(f));
    w.type = HV_MSG_PUBLISH;
    f.topic = hv_str_from("swarm.md.elsewhere");
    n = hv_frame_encode(buf, sizeof(buf), &f, &w, NULL);
    assert_true(n > 0);
    assert_int_equal(hv__sw_decode(buf, (size_t)n, &d, &hm), HV_EBADTYPE);
    m.kind = SW_KIND_COUNT;
    assert_int_equal(hv__sw_encode(&m, 1, buf, sizeof(buf)), HV_EINVAL);
    assert_true(hv__sw_decode(buf, 3, &d, &hm) < 0);
}

static void joins_welcomes_and_heartbeats_survive_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_JOIN;
    m.join.id = HV_SWARM_ID(3, 17);
    m.join.role = SW_ROLE_PATTERN;
    m.join.index = 1;
    m.join.auth = HV_SWARM_AUTH_SIG;
    memset(m.join.pk, 0xab, sizeof(m.join.pk));
    roundtrip(&m, &d);
    assert_int_equal(d.join.id, HV_SWARM_ID(3, 17));
    assert_int_equal(d.join.role, SW_ROLE_PATTERN);
    assert_int_equal(d.join.index, 1);
    assert_int_equal(d.join.auth, HV_SWARM_AUTH_SIG);
    assert_memory_equal(d.join.pk, m.join.pk, sizeof(m.join.pk));
    m.join.role = SW_ROLE_COUNT; /* no such role */
    uint8_t buf[SW_FRAME_MAX];
    int n = hv__sw_encode(&m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(hv__sw_decode(buf, (size_t)n, &d, &hm), HV_EBADFIELD);
    memset(&m, 0, sizeof(m));
    m.kind = SW_WELCOME;
    m.welcome.id = 99;
    roundtrip(&m, &d);
    assert_int_equal(d.welcome.id, 99);
    memset(&m, 0, sizeof(m));
    m.kind = SW_HEARTBEAT;
    roundtrip(&m, &d);
}

/* A redirect's leader is 1..5 and its address printable text with a ':' and at most 63 bytes,
 * zeros after it: each edge on both sides. */
static int redirect_decodes(uint64_t replica, const char *address, int dirty_tail)
{
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_REDIRECT;
    m.redirect.replica = replica;
    m.redirect.term = 7;
    snprintf(m.redirect.address, sizeof(m.redirect.address), "%s", address);
    uint8_t buf[SW_FRAME_MAX];
    int n = hv__sw_encode(&m, 1, buf, sizeof(buf));
    assert_true(n > 0);
    if (dirty_tail)
        buf[n - 1] = 'x'; /* the last byte of the address's padding */
    int rc = hv__sw_decode(buf, (size_t)n, &d, &hm);
    if (rc == 0) {
        assert_int_equal(d.redirect.replica, replica);
        assert_int_equal(d.redirect.term, 7);
        assert_string_equal(d.redirect.address, address);
    }
    return rc;
}

static void a_redirect_survives_the_wire_and_bad_ones_are_refused(void **state)
{
    (void)state;
    char longest[SW_ADDRESS_MAX];
    memset(longest, '1', sizeof(longest));
    longest[0] = 'h';
    longest[1] = ':';
    longest[SW_ADDRESS_MAX - 1] = 0; /* 63 bytes and the NUL: the longest */
    assert_int_equal(redirect_decodes(1, "127.0.0.1:4433", 0), 0);
    assert_int_equal(redirect_decodes(5, longest, 0), 0);
    assert_int_equal(redirect_decodes(0, "127.0.0.1:4433", 0), HV_EBADFIELD);
    assert_int_equal(redirect_decodes(6, "127.0.0.1:4433", 0), HV_EBADFIELD);
    assert_int_equal(redirect_decodes(2, "", 0), HV_EBADFIELD);
    assert_int_equal(redirect_decodes(2, "no-port", 0), HV_EBADFIELD);
    assert_int_equal(redirect_decodes(2, "a b:1", 0), HV_EBADFIELD);
    assert_int_equal(redirect_decodes(2, "127.0.0.1:4433", 1), HV_EBADFIELD);
}

static void a_final_report_survives_the_wire(void **state)
{
    (void)state;
    sw_msg m, d;
    memset(&m, 0, sizeof(m));
    m.kind = SW_REPORT;
    sw_report *r = &m.report;
    r->received = 5;
    r->sent = 6;
    r->bad = 1;
    r->stale = 2;
    r->retried = 3;
    r->undeliverable = 4;
    r->role = SW_ROLE_EXEC;
    r->portfolio.cash = 123.5;
    r->portfolio.position = -300;
    r->portfolio.max_drawdown_frac = 0.25;
    r->exchange.submitted = 77;
    r->exchange.open_sell_qty = 9;
    r->exchange.notional = 1e9;
    r->limits.trips[4] = 2;
    r->limits.halted = 1;
    r->halted_seen = 1;
    r->halted_cycle = 1234;
    r->halt_breach.limit = HV_LIMIT_DRAWDOWN;
    r->halt_breach.value = 0.2;
    roundtrip(&m, &d);
    r->missing = 8;
    roundtrip(&m, &d);
    assert_memory_equal(&d.report.received, &r->received, 7 * sizeof(uint64_t));
    assert_int_equal(d.report.role, SW_ROLE_EXEC);
    assert_true(d.report.portfolio.cash == 123.5);
    assert_int_equal(d.report.portfolio.position, -300);
    assert_true(d.report.portfolio.max_drawdown_frac == 0.25);
    assert_int_equal(d.report.exchange.submitted, 77);
    assert_int_equal(d.report.exchange.open_sell_qty, 9);
    assert_true(d.report.exchange.notional == 1e9);
    assert_int_equal(d.report.limits.trips[4], 2);
    assert_int_equal(d.report.limits.halted, 1);
    assert_int_equal(d.report.halted_cycle, 1234);
    assert_int_equal(d.report.halt_breach.limit, HV_LIMIT_DRAWDOWN);
}

/* The equity curve travels as an HVW1 stream on its own subject. */
static void a_curve_stream_survives_the_wire(void **state)
{
    (void)state;
    uint8_t content[40], buf[SW_FRAME_MAX], back[64];
    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (uint8_t)i;
    hv_msg w[3];
    memset(w, 0, sizeof(w));
    w[0].type = HV_MSG_STREAM_START;
    w[0].stream_start.stream_id = 1;
    w[0].stream_start.chunk_bytes = 64;
    w[1].type = HV_MSG_STREAM_DATA;
    w[1].stream_data.stream_id = 1;
    w[1].stream_data.chunk = (hv_bytes){ content, sizeof(content) };
    w[2].type = HV_MSG_STREAM_END;
    w[2].stream_end.stream_id = 1;
    w[2].stream_end.total_bytes = sizeof(content);
    w[2].stream_end.chunks = 1;
    hv_stream_hash(content, sizeof(content), w[2].stream_end.content_hash);
    hv_stream_rx rx;
    hv_stream_rx_init(&rx, back, sizeof(back));
    for (int i = 0; i < 3; i++) {
        int n = hv__sw_encode_stream(&w[i], 5, 1, buf, sizeof(buf));
        assert_true(n > 0);
        sw_msg d;
        assert_int_equal(hv__sw_decode(buf, (size_t)n, &d, &hm), 0);
        assert_int_equal(d.kind, SW_CURVE);
        assert_int_equal(d.sender, 5);
        assert_int_equal(hv_stream_rx_feed(&rx, d.curve), i == 2 ? 1 : 0);
    }
    assert_memory_equal(back, content, sizeof(content));
    /* a stream message is not a swarm message of any other kind */
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_CURVE;
    assert_int_equal(hv__sw_encode(&m, 1, buf, sizeof(buf)), HV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_bar_survives_the_wire),
        cmocka_unit_test(a_proposal_and_its_vote_request_survive_the_wire),
        cmocka_unit_test(a_vote_and_a_decision_survive_the_wire),
        cmocka_unit_test(reports_state_and_results_survive_the_wire),
        cmocka_unit_test(a_state_with_quantities_out_of_range_is_refused),
        cmocka_unit_test(a_prediction_without_neighbours_stays_invalid),
        cmocka_unit_test(frames_that_name_no_swarm_message_are_refused),
        cmocka_unit_test(joins_welcomes_and_heartbeats_survive_the_wire),
        cmocka_unit_test(a_redirect_survives_the_wire_and_bad_ones_are_refused),
        cmocka_unit_test(a_final_report_survives_the_wire),
        cmocka_unit_test(a_curve_stream_survives_the_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The decision log's entries: every type survives encode -> decode, every check of the decoder
 * fires in its documented order, the encoder never writes what the decoder refuses, and the
 * bytes of docs/PROTOCOL.md's worked example. */
#include "hv_test.h"

#include <math.h>

#include <sodium.h>

#include <hivewire/log.h>

#include "log_util.h"

static void one_of_each(hv_log_entry *e, int type)
{
    memset(e, 0, sizeof(*e));
    e->type = (uint8_t)type;
    e->seq = 7;
    memset(e->prev, 0xab, sizeof(e->prev));
    switch (type) {
    case HV_LOG_GENESIS:
        log_genesis(e, 5105);
        e->seq = 7;
        memset(e->prev, 0xab, sizeof(e->prev));
        break;
    case HV_LOG_MEMBER:
        e->member = (hv_log_member){
            .id = HV_SWARM_ID(1, 16), .incarnation = 3, .role = 2, .index = 0, .auth = 1
        };
        memset(e->member.pk, 0x11, sizeof(e->member.pk));
        break;
    case HV_LOG_CYCLE:
        e->cycle.cycle = 42;
        e->cycle.bar = (hv_bar){ 730000, 100.5, 101.25, 99.75, 100.0, 100.0, 1e9 };
        break;
    case HV_LOG_CYCLE_END:
        e->end.cycle = 42;
        e->end.how = HV_LOG_END_STALLED;
        break;
    case HV_LOG_DECISION: {
        hv_log_decision *d = &e->decision;
        d->cycle = 42;
        d->proposer = HV_SWARM_ID(1, 3);
        d->action = HV_ACTION_ORDER_EXECUTION;
        d->d = (hv_decision){ .proposal_id = 43,
                              .outcome = HV_OUTCOME_ACCEPTED,
                              .rule = HV_RULE_BFT,
                              .crit = HV_CRIT_CRITICAL,
                              .reason = HV_REASON_EARLY,
                              .eligible = 5,
                              .approvals = 4,
                              .bound = 4,
                              .opened_ns = 1,
                              .decided_ns = 2,
                              .deadline_ns = 3 };
        d->order = (hv_log_order){ HV_SIDE_SELL, HV_ACTION_ORDER_EXECUTION, 100, 1234.5, 0 };
        d->nvotes = 4;
        for (uint32_t i = 0; i < d->nvotes; i++) {
            d->votes[i].v.proposal_id = 43;
            d->votes[i].v.voter = HV_SWARM_ID(1, 16 + i);
            d->votes[i].v.choice = HV_CHOICE_APPROVE;
            memset(d->votes[i].v.sig, (int)i + 1, sizeof(d->votes[i].v.sig));
            d->votes[i].auth = 1;
        }
        break;
    }
    case HV_LOG_RESULT:
        e->result =
            (hv_log_result){ .proposal_id = 43, .cycle = 42, .order_id = 17, .rc = HV_ELIMIT };
        e->result.breach = (hv_limit_breach){ HV_LIMIT_POSITION, 400, 300, 99 };
        break;
    default:
        e->finish.cycles = 5105;
        break;
    }
}

static void every_type_survives_encode_and_decode(void **state)
{
    (void)state;
    for (int type = 1; type < HV_LOG_TYPE_COUNT; type++) {
        hv_log_entry e, d, again;
        one_of_each(&e, type);
        uint8_t buf[HV_LOG_ENTRY_MAX], buf2[HV_LOG_ENTRY_MAX];
        size_t len = 0, len2 = 0;
        assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
        assert_int_equal(len % 8, 0);
        assert_int_equal(hv_log_entry_decode(buf, len, &d), 0);
        assert_int_equal(d.type, type);
        assert_int_equal(d.seq, 7);
        assert_int_equal(hv_log_entry_encode(&d, buf2, sizeof(buf2), &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        (void)again;
    }
}

static void the_hash_covers_header_and_body(void **state)
{
    (void)state;
    hv_log_entry e;
    one_of_each(&e, HV_LOG_CYCLE_END);
    uint8_t buf[128], h1[32], h2[32];
    size_t len;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 72);
    hv_log_entry_hash(buf, h1);
    crypto_generichash(h2, 32, buf, 72, NULL, 0);
    assert_memory_equal(h1, h2, 32);
    buf[71] ^= 1; /* a body byte changes the hash */
    hv_log_entry_hash(buf, h2);
    assert_memory_not_equal(h1, h2, 32);
}

static size_t encoded(int type, uint8_t *buf)
{
    hv_log_entry e;
    one_of_each(&e, type);
    size_t len = 0;
    assert_int_equal(hv_log_entry_encode(&e, buf, HV_LOG_ENTRY_MAX, &len), 0);
    return len;
}

static int decode(const uint8_t *buf, size_t len)
{
    hv_log_entry e;
    return hv_log_entry_decode(buf, len, &e);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void the_header_is_checked_in_its_order(void **state)
{
    (void)state;
    uint8_t buf[HV_LOG_ENTRY_MAX], b[HV_LOG_ENTRY_MAX];
    size_t len = encoded(HV_LOG_RESULT, buf);
    assert_int_equal(decode(buf, 55), HV_ETRUNCATED);
    memcpy(b, buf, len);
    b[0] ^= 1;
    assert_int_equal(decode(b, len), HV_EBADMAGIC);
    memcpy(b, buf, len);
    b[4] = 2;
    b[5] = 99; /* a bad version is reported before a bad type */
    assert_int_equal(decode(b, len), HV_EBADVERSION);
    memcpy(b, buf, len);
    b[5] = 0;
    assert_int_equal(decode(b, len), HV_EBADTYPE);
    b[5] = HV_LOG_TYPE_COUNT;
    assert_int_equal(decode(b, len), HV_EBADTYPE);
    memcpy(b, buf, len);
    put32(b + 8, HV_LOG_ENTRY_MAX - HV_LOG_HEADER_BYTES + 1); /* body bound, before truncation */
    assert_int_equal(decode(b, len), HV_EBADLEN);
    put32(b + 8, HV_LOG_ENTRY_MAX - HV_LOG_HEADER_BYTES);
    assert_int_equal(decode(b, len), HV_ETRUNCATED);
    assert_int_equal(decode(buf, len - 1), HV_ETRUNCATED);
    memcpy(b, buf, len);
    put32(b + 8, 48); /* a result's body is 56 bytes */
    assert_int_equal(decode(b, len - 8), HV_EBADLEN);
    memcpy(b, buf, len);
    b[6] = 1; /* reserved */
    assert_int_equal(decode(b, len), HV_EBADFIELD);
    memcpy(b, buf, len);
    memset(b + 16, 0, 8); /* seq 0 */
    assert_int_equal(decode(b, len), HV_EBADFIELD);
    memcpy(b, buf, len);
    b[len] = 0;
    assert_int_equal(decode(b, len + 1), HV_ETRAILING);
}

static void a_non_finite_float_is_reported_before_a_bad_field(void **state)
{
    (void)state;
    uint8_t buf[HV_LOG_ENTRY_MAX];
    size_t len = encoded(HV_LOG_CYCLE, buf);
    double inf = INFINITY;
    memcpy(buf + HV_LOG_HEADER_BYTES + 16, &inf, 8); /* open */
    assert_int_equal(decode(buf, len), HV_ENONFINITE);
    buf[6] = 1;
    assert_int_equal(decode(buf, len), HV_ENONFINITE);
}

static void every_entry_is_a_multiple_of_8_bytes(void **state)
{
    (void)state;
    uint8_t buf[HV_LOG_ENTRY_MAX];
    static const size_t want[HV_LOG_TYPE_COUNT] = { 0, 216, 120, 120, 680, 112, 72, 64 };
    for (int type = 1; type < HV_LOG_TYPE_COUNT; type++) {
        size_t len = encoded(type, buf);
        assert_int_equal(len, want[type]);
        assert_int_equal(len % 8, 0);
    }
}

static void a_decision_carries_zero_to_32_votes_and_no_more(void **state)
{
    (void)state;
    hv_log_entry e, d;
    uint8_t buf[HV_LOG_ENTRY_MAX];
    size_t len;
    one_of_each(&e, HV_LOG_DECISION);
    for (uint32_t n = 0; n <= HV_LOG_VOTES_MAX; n++) {
        e.decision.nvotes = n;
        for (uint32_t i = 0; i < n; i++) {
            e.decision.votes[i].v.voter = i + 1;
            e.decision.votes[i].v.choice = HV_CHOICE_REJECT;
            e.decision.votes[i].auth = 2;
        }
        assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, HV_LOG_HEADER_BYTES + 176 + 112 * n);
        assert_int_equal(hv_log_entry_decode(buf, len, &d), 0);
        assert_int_equal(d.decision.nvotes, n);
    }
    e.decision.nvotes = HV_LOG_VOTES_MAX + 1;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    /* the same count written into valid bytes: a length the type does not have */
    e.decision.nvotes = 1;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    put32(buf + HV_LOG_HEADER_BYTES + 168, HV_LOG_VOTES_MAX + 1);
    assert_int_equal(decode(buf, len), HV_EBADLEN);
    put32(buf + HV_LOG_HEADER_BYTES + 168, 2);
    assert_int_equal(decode(buf, len), HV_EBADLEN);
}

static void the_encoder_refuses_what_the_decoder_refuses_and_writes_nothing(void **state)
{
    (void)state;
    uint8_t buf[HV_LOG_ENTRY_MAX], zero[HV_LOG_ENTRY_MAX];
    memset(buf, 0, sizeof(buf));
    memset(zero, 0, sizeof(zero));
    size_t len;
    hv_log_entry e;
    one_of_each(&e, HV_LOG_GENESIS);
    e.genesis.cash = NAN;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_ENONFINITE);
    one_of_each(&e, HV_LOG_GENESIS);
    e.genesis.cycles_max = 0;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    e.genesis.cycles_max = HV_LOG_CYCLES_MAX + 1;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    e.genesis.bar_ns = 1000000000; /* 10 M one-day cycles do not fit 64-bit nanoseconds */
    e.genesis.cycles_max = HV_LOG_CYCLES_MAX;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    e.genesis.bar_ns = (UINT64_MAX - 4) / HV_LOG_CYCLES_MAX; /* the last cycle's times fit */
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    e.genesis.bar_ns++;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    memset(buf, 0, sizeof(buf));
    one_of_each(&e, HV_LOG_GENESIS);
    e.genesis.exchange.orders_max = 0; /* the exchange's own config check */
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    one_of_each(&e, HV_LOG_MEMBER);
    e.member.auth = 3;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    one_of_each(&e, HV_LOG_DECISION);
    e.decision.d.outcome = HV_OUTCOME_PENDING;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    one_of_each(&e, HV_LOG_CYCLE);
    e.cycle.bar.low = e.cycle.bar.high + 1; /* a bar the exchange would refuse */
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    one_of_each(&e, HV_LOG_RESULT);
    e.result.rc = 1;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADFIELD);
    e.type = 0;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), HV_EBADTYPE);
    assert_memory_equal(buf, zero, sizeof(buf));
}

static void a_small_buffer_gets_the_exact_length_needed(void **state)
{
    (void)state;
    hv_log_entry e;
    one_of_each(&e, HV_LOG_MEMBER);
    uint8_t buf[128];
    size_t len = 0;
    assert_int_equal(hv_log_entry_encode(&e, buf, 119, &len), HV_ENOBUFS);
    assert_int_equal(len, 120);
    assert_int_equal(hv_log_entry_encode(&e, buf, 120, &len), 0);
}

static void every_type_has_a_name(void **state)
{
    (void)state;
    assert_string_equal(hv_log_type_name(HV_LOG_GENESIS), "genesis");
    assert_string_equal(hv_log_type_name(HV_LOG_FINISH), "finish");
    assert_string_equal(hv_log_type_name(0), "unknown");
    assert_string_equal(hv_log_type_name(HV_LOG_TYPE_COUNT), "unknown");
}

/* docs/PROTOCOL.md, "The decision log", worked example: the bytes and the hash. */
static void the_worked_example_has_the_documented_bytes(void **state)
{
    (void)state;
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_CYCLE_END;
    e.seq = 2;
    memset(e.prev, 0x11, sizeof(e.prev));
    e.end.cycle = 5;
    e.end.how = HV_LOG_END_DONE;
    uint8_t buf[128], h[32];
    size_t len;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    static const char want[] = "48564c4501060000100000000000000002000000000000001111111111111111"
                               "1111111111111111111111111111111111111111111111110500000000000000"
                               "0000000000000000";
    char hex[2 * 72 + 1];
    sodium_bin2hex(hex, sizeof(hex), buf, len);
    assert_string_equal(hex, want);
    hv_log_entry_hash(buf, h);
    sodium_bin2hex(hex, 65, h, 32);
    assert_string_equal(hex, "f03d8b5176ec5a7b5e72990ba8f3931176ea847fb7fd61b5bbea0a574ab00291");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_survives_encode_and_decode),
        cmocka_unit_test(the_hash_covers_header_and_body),
        cmocka_unit_test(the_header_is_checked_in_its_order),
        cmocka_unit_test(a_non_finite_float_is_reported_before_a_bad_field),
        cmocka_unit_test(every_entry_is_a_multiple_of_8_bytes),
        cmocka_unit_test(a_decision_carries_zero_to_32_votes_and_no_more),
        cmocka_unit_test(the_encoder_refuses_what_the_decoder_refuses_and_writes_nothing),
        cmocka_unit_test(a_small_buffer_gets_the_exact_length_needed),
        cmocka_unit_test(every_type_has_a_name),
        cmocka_unit_test(the_worked_example_has_the_documented_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

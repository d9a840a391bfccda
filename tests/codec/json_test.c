/* The JSON form: binary -> JSON -> binary is the identity, and bad JSON gets clear errors. */
#include "hv_test.h"

#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#include "codec/gen.h"

static uint8_t arena[1 << 20];
static uint8_t buf[1 << 20];
static uint8_t again[1 << 20];

static void every_type_survives_binary_to_json_to_binary(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 1234);
    for (unsigned t = 0; t < HV__MSG_TYPES_COUNT; t++) {
        for (int i = 0; i < 150; i++) {
            hv_msg m, d;
            assert_int_equal(hv__msg_random(&r, hv__msg_types[t], 600, &m, arena, sizeof(arena)),
                             0);
            hv_frame f;
            memset(&f, 0, sizeof(f));
            f.seq = hv_rng_next(&r); /* above 2^53 half the time: travels as a string */
            f.correlation_id = hv_rng_below(&r, 1000);
            f.timestamp_ns = hv_rng_next(&r);
            f.sender_id = hv_rng_next(&r);
            f.flags = (uint8_t)(hv_rng_below(&r, 4) << 1);
            char topic[64];
            if (hv__msg_types[t] == HV_MSG_PUBLISH || hv_rng_below(&r, 2))
                hv__topic_random(&r, topic, sizeof(topic), &f.topic);
            int n = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
            assert_true(n > 0);
            hv_frame g;
            assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &g, &d), n);
            int err = 0;
            char *json = hv_json_from_msg(&g, &d, &err);
            assert_non_null(json);
            char msg[256];
            int n2 =
                hv_json_to_frame(json, strlen(json), again, sizeof(again), NULL, msg, sizeof(msg));
            if (n2 != n)
                fail_msg("type %u: %d vs %d: %s\n%s", t, n2, n, msg, json);
            assert_memory_equal(buf, again, (size_t)n);
            free(json);
        }
    }
}

static void batch_survives_binary_to_json_to_binary(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 77);
    hv_batch_writer w;
    assert_int_equal(hv_batch_begin(&w, buf, sizeof(buf), NULL, NULL), 0);
    size_t used = 0;
    for (int i = 0; i < 20; i++) {
        hv_msg m;
        int type = hv__msg_types[hv_rng_below(&r, HV__MSG_TYPES_COUNT)];
        if (type == HV_MSG_PUBLISH)
            type = HV_MSG_VOTE;
        assert_int_equal(hv__msg_random(&r, type, 100, &m, arena + used, 8192), 0);
        used += 8192;
        hv_frame f;
        memset(&f, 0, sizeof(f));
        f.seq = (uint64_t)i;
        assert_true(hv_batch_add(&w, &f, &m, NULL) > 0);
    }
    int n = hv_batch_finish(&w);
    hv_frame g;
    hv_msg b;
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &g, &b), n);
    char *json = hv_json_from_msg(&g, &b, NULL);
    assert_non_null(json);
    assert_int_equal(hv_json_to_frame(json, strlen(json), again, sizeof(again), NULL, NULL, 0), n);
    assert_memory_equal(buf, again, (size_t)n);
    free(json);
}

static int to_frame(const char *json, char *err, size_t errlen)
{
    return hv_json_to_frame(json, strlen(json), buf, sizeof(buf), NULL, err, errlen);
}

static void minimal_message_uses_zero_defaults(void **state)
{
    (void)state;
    int n = to_frame("{\"type\":\"heartbeat\"}", NULL, 0);
    assert_int_equal(n, 48 + 20);
    hv_frame f;
    hv_msg m;
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &m), n);
    assert_int_equal(m.heartbeat.active_tasks, 0);
    assert_int_equal(f.seq, 0);
}

static void bad_json_gets_a_clear_error(void **state)
{
    (void)state;
    struct {
        const char *json;
        const char *says;
    } cases[] = {
        { "{\"type\":", "line 1" },
        { "[1,2]", "expected a JSON object" },
        { "{\"payload\":{}}", "type" },
        { "{\"type\":\"gossip\"}", "unknown message type 'gossip'" },
        { "{\"type\":\"vote\",\"colour\":1}", "unknown field 'colour'" },
        { "{\"type\":\"vote\",\"payload\":{\"colour\":1}}", "unknown field 'colour'" },
        { "{\"type\":\"vote\",\"payload\":{\"choice\":\"maybe\"}}", "approve, reject, abstain" },
        { "{\"type\":\"vote\",\"payload\":{\"round\":-1}}", "payload.round" },
        { "{\"type\":\"vote\",\"payload\":{\"round\":4294967296}}", "payload.round" },
        { "{\"type\":\"vote\",\"payload\":{\"round\":\"1\"}}", "payload.round" },
        { "{\"type\":\"vote\",\"payload\":{\"payload_hash\":\"abcd\"}}", "64 hex digits" },
        { "{\"type\":\"vote\",\"payload\":{\"signature\":\"zz\"}}", "128 hex digits" },
        { "{\"type\":\"vote\",\"seq\":-5}", "seq" },
        { "{\"type\":\"vote\",\"seq\":\"18446744073709551616\"}", "seq" },
        { "{\"type\":\"publish\",\"topic\":\"a b\"}", "topic" },
        { "{\"type\":\"publish\",\"topic\":\"a\",\"payload\":{\"data\":\"!!!\"}}", "base64" },
        { "{\"type\":\"heartbeat\",\"payload\":{\"load\":\"high\"}}", "expected a number" },
        { "{\"type\":\"pattern_result\",\"payload\":{\"vector\":[1e39]}}",
          "rounds to infinity as a 32-bit float" },
        { "{\"type\":\"task_result\",\"payload\":{\"success\":1}}", "true or false" },
        { "{\"type\":\"vote\",\"flags\":[\"urgent\"]}", "flags" },
        { "{\"type\":\"batch\",\"payload\":{\"frames\":[]}}", "non-empty" },
        { "{\"type\":\"batch\",\"payload\":{\"frames\":[{\"type\":\"batch\"}]}}", "batch" },
        { "{\"type\":\"vote\",\"type\":\"ack\"}", "duplicate" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256];
        int rv = to_frame(cases[i].json, err, sizeof(err));
        if (rv != HV_EBADJSON || strstr(err, cases[i].says) == NULL)
            fail_msg("%s: rv %d, error '%s' (wanted '%s')", cases[i].json, rv, err, cases[i].says);
    }
}

static void invalid_message_from_json_is_rejected_by_the_encoder(void **state)
{
    (void)state;
    char err[256];
    /* The encoder's own code, and a message naming the field or header key. */
    assert_int_equal(to_frame("{\"type\":\"publish\"}", err, sizeof(err)), HV_EBADTOPIC);
    assert_string_equal(err, "topic: a publish needs a topic");
    assert_int_equal(
        to_frame("{\"type\":\"heartbeat\",\"payload\":{\"load\":2}}", err, sizeof(err)),
        HV_EBADFIELD);
    assert_string_equal(err, "payload.load: 2 is outside 0..1");
    assert_int_equal(to_frame("{\"type\":\"proposal\",\"payload\":{\"voters\":[1,2],"
                              "\"weights\":[1]}}",
                              err, sizeof(err)),
                     HV_EBADLEN);
    assert_string_equal(err, "payload.weights: needs one weight per voter");
}

static void u64_values_travel_as_numbers_or_strings(void **state)
{
    (void)state;
    int n = to_frame("{\"type\":\"unsubscribe\",\"seq\":\"18446744073709551615\",\"payload\":"
                     "{\"subscription_id\":9007199254740991}}",
                     NULL, 0);
    hv_frame f;
    hv_msg m;
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &m), n);
    assert_int_equal(f.seq, UINT64_MAX);
    assert_int_equal(m.unsubscribe.subscription_id, 9007199254740991ull);
    char *json = hv_json_from_msg(&f, &m, NULL);
    assert_non_null(strstr(json, "\"seq\":\"18446744073709551615\""));
    assert_non_null(strstr(json, "\"subscription_id\":9007199254740991"));
    free(json);
}

static void json_encoder_reports_the_size_it_needs(void **state)
{
    (void)state;
    const char *j = "{\"type\":\"heartbeat\"}";
    size_t need = 0;
    assert_int_equal(hv_json_to_frame(j, strlen(j), buf, 10, &need, NULL, 0), HV_ENOBUFS);
    assert_int_equal(need, 68);
    const char *b = "{\"type\":\"batch\",\"payload\":{\"frames\":[{\"type\":\"heartbeat\"},"
                    "{\"type\":\"unsubscribe\"}]}}";
    assert_int_equal(hv_json_to_frame(b, strlen(b), buf, 60, &need, NULL, 0), HV_ENOBUFS);
    assert_int_equal(need, 52 + 68 + 56);
    assert_int_equal(hv_json_to_frame(b, strlen(b), buf, need, &need, NULL, 0), 52 + 68 + 56);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_survives_binary_to_json_to_binary),
        cmocka_unit_test(batch_survives_binary_to_json_to_binary),
        cmocka_unit_test(minimal_message_uses_zero_defaults),
        cmocka_unit_test(bad_json_gets_a_clear_error),
        cmocka_unit_test(invalid_message_from_json_is_rejected_by_the_encoder),
        cmocka_unit_test(u64_values_travel_as_numbers_or_strings),
        cmocka_unit_test(json_encoder_reports_the_size_it_needs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* HVW1 frames: round trips of every type, header checks, payload bounds, forward compatibility. */
#include "hv_test.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#include "codec/codec_int.h"
#include "codec/gen.h"
#include "codec/le.h"

#define ARENA_BYTES (256u << 10)
#define BUF_BYTES   (512u << 10)

static uint8_t arena[ARENA_BYTES];
static uint8_t buf[BUF_BYTES];

static hv_frame header(uint64_t seq)
{
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.seq = seq;
    f.correlation_id = seq * 7 + 1;
    f.timestamp_ns = 1700000000000000000ull + seq;
    f.sender_id = 0xfeedfacecafebeefull;
    f.topic = hv_str_from("swarm.market.spx");
    return f;
}

static int encode_one(const hv_msg *m, uint64_t seq)
{
    hv_frame f = header(seq);
    return hv_frame_encode(buf, sizeof(buf), &f, m, NULL);
}

static void every_type_round_trips(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 42);
    for (unsigned t = 0; t < HV__MSG_TYPES_COUNT; t++) {
        for (int i = 0; i < 400; i++) {
            hv_msg m, d;
            assert_int_equal(hv__msg_random(&r, hv__msg_types[t], 2048, &m, arena, sizeof(arena)),
                             0);
            hv_frame f = header((uint64_t)i);
            f.flags = (uint8_t)(i & 3 ? HV_FLAG_ACK_REQUESTED : HV_FLAG_REPLY);
            int n = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
            assert_true(n >= HV_FRAME_HEADER_BYTES);
            assert_int_equal(n, HV_FRAME_HEADER_BYTES + (int)f.topic.len + hv_msg_encoded_size(&m));
            hv_frame g;
            assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &g), n);
            assert_int_equal(hv_msg_decode(&g, &d), 0);
            assert_true(hv_msg_equal(&m, &d));
            assert_int_equal(g.type, m.type);
            assert_int_equal(g.seq, f.seq);
            assert_int_equal(g.correlation_id, f.correlation_id);
            assert_int_equal(g.timestamp_ns, f.timestamp_ns);
            assert_int_equal(g.sender_id, f.sender_id);
            assert_int_equal(g.flags, f.flags);
            assert_int_equal(g.topic.len, f.topic.len);
            assert_memory_equal(g.topic.ptr, f.topic.ptr, f.topic.len);
        }
    }
}

static void reencoding_a_decoded_frame_reproduces_its_bytes(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 7);
    static uint8_t again[BUF_BYTES];
    for (unsigned t = 0; t < HV__MSG_TYPES_COUNT; t++) {
        hv_msg m, d;
        assert_int_equal(hv__msg_random(&r, hv__msg_types[t], 512, &m, arena, sizeof(arena)), 0);
        int n = encode_one(&m, 3);
        hv_frame g;
        assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &g, &d), n);
        assert_int_equal(hv_frame_encode(again, sizeof(again), &g, &d, NULL), n);
        assert_memory_equal(buf, again, (size_t)n);
    }
}

static void encoder_reports_the_size_it_needs(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_HEARTBEAT };
    m.heartbeat.load = 0.5f;
    hv_frame f = header(1);
    size_t needed = 0;
    int full = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    memset(buf, 0xaa, sizeof(buf));
    assert_int_equal(hv_frame_encode(buf, (size_t)full - 1, &f, &m, &needed), HV_ENOBUFS);
    assert_int_equal(needed, (size_t)full);
    for (size_t i = 0; i < (size_t)full; i++)
        assert_int_equal(buf[i], 0xaa); /* nothing written on failure */
    assert_int_equal(hv_frame_encode(buf, needed, &f, &m, &needed), full);
}

static void heartbeat_frame_has_the_documented_layout(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_HEARTBEAT };
    m.heartbeat.memory_bytes = 0x0102030405060708ull;
    m.heartbeat.load = 0.25f;
    m.heartbeat.active_tasks = 3;
    m.heartbeat.queue_depth = 9;
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.seq = 0x11;
    f.sender_id = 0x22;
    int n = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(n, 48 + 20);
    assert_memory_equal(buf, "HVW1", 4);
    assert_int_equal(buf[4], 1);
    assert_int_equal(buf[5], 0);
    assert_int_equal(buf[6], HV_MSG_HEARTBEAT);
    assert_int_equal(buf[8], 48);
    assert_int_equal(hv__ld32(buf + 12), 20);
    assert_int_equal(hv__ld64(buf + 16), 0x11);
    assert_int_equal(hv__ld64(buf + 40), 0x22);
    assert_int_equal(hv__ld64(buf + 48), 0x0102030405060708ull);
    assert_int_equal(hv__ld32(buf + 60), 3);
    assert_int_equal(hv__ld32(buf + 64), 9);
}

/* ---- Header checks ----------------------------------------------------------------------- */

static int vote_frame(void)
{
    hv_msg m = { .type = HV_MSG_VOTE };
    m.vote.proposal_id = 5;
    m.vote.choice = HV_WIRE_CHOICE_APPROVE;
    hv_frame f = header(2);
    return hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
}

static void every_truncation_is_reported_as_truncated(void **state)
{
    (void)state;
    int n = vote_frame();
    hv_frame f;
    for (int len = 0; len < n; len++)
        assert_int_equal(hv_frame_parse(buf, (size_t)len, NULL, &f), HV_ETRUNCATED);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &f), n);
    assert_int_equal(hv_frame_parse(buf, 48, NULL, &f), HV_ETRUNCATED);
    assert_int_equal(f.frame_len, (uint32_t)n); /* tells a stream reader how much to wait for */
}

static void bad_header_fields_have_distinct_errors(void **state)
{
    (void)state;
    int n = vote_frame();
    hv_frame f;
    static uint8_t copy[1024];
    struct {
        size_t off;
        uint8_t val;
        int err;
    } cases[] = {
        { 0, 'X', HV_EBADMAGIC },  { 4, 2, HV_EBADVERSION },   { 4, 0, HV_EBADVERSION },
        { 6, 0x00, HV_EBADTYPE },  { 6, 0x99, HV_EBADTYPE },   { 7, 0x08, HV_EBADFLAGS },
        { 7, 0x80, HV_EBADFLAGS }, { 8, 47, HV_EBADLEN },      { 8, 56, HV_EBADLEN },
        { 48, ' ', HV_EBADTOPIC }, { 48, 0x7f, HV_EBADTOPIC },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(copy, buf, (size_t)n);
        copy[cases[i].off] = cases[i].val;
        assert_int_equal(hv_frame_parse(copy, (size_t)n, NULL, &f), cases[i].err);
    }
}

static void frame_size_limit_is_enforced_on_both_sides_of_the_limit(void **state)
{
    (void)state;
    int n = vote_frame();
    hv_frame f;
    hv_codec_limits lim = { .frame_max_bytes = (uint32_t)n };
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    lim.frame_max_bytes = (uint32_t)n - 1;
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), HV_ETOOBIG);
    /* A huge declared payload is refused before any byte of it is read. */
    hv__st32(buf + 12, 0xffffffffu);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &f), HV_ETOOBIG);
}

static void newer_minor_versions_may_extend_header_and_payload(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_UNSUBSCRIBE }, d;
    m.unsubscribe.subscription_id = 77;
    hv_frame f;
    memset(&f, 0, sizeof(f));
    int n = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(n, 56);
    /* Build a 1.1 frame: 8 extra header bytes and 4 extra payload bytes. */
    static uint8_t ext[128];
    memcpy(ext, buf, 48);
    ext[5] = 1;
    ext[8] = 56;
    hv__st32(ext + 12, 12);
    memset(ext + 48, 0xee, 8);
    memcpy(ext + 56, buf + 48, 8);
    memset(ext + 64, 0xdd, 4);
    hv_frame g;
    assert_int_equal(hv_frame_parse(ext, 68, NULL, &g), 68);
    assert_int_equal(hv_msg_decode(&g, &d), 0);
    assert_int_equal(d.unsubscribe.subscription_id, 77);
    /* The same trailing bytes in a 1.0 frame are an error. */
    memcpy(ext, buf, 48);
    hv__st32(ext + 12, 12);
    memcpy(ext + 48, buf + 48, 8);
    memset(ext + 56, 0xdd, 4);
    assert_int_equal(hv_frame_parse(ext, 60, NULL, &g), 60);
    assert_int_equal(hv_msg_decode(&g, &d), HV_ETRAILING);
}

/* ---- Payload checks ---------------------------------------------------------------------- */

static int decode_payload(uint8_t type, const uint8_t *p, size_t len, hv_msg *m)
{
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.version_major = 1;
    f.type = type;
    f.payload.ptr = p;
    f.payload.len = (uint32_t)len;
    return hv_msg_decode(&f, m);
}

static void every_payload_truncation_is_bad_length(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 9);
    for (unsigned t = 0; t < HV__MSG_TYPES_COUNT; t++) {
        hv_msg m, d;
        assert_int_equal(hv__msg_random(&r, hv__msg_types[t], 64, &m, arena, sizeof(arena)), 0);
        int n = encode_one(&m, 1);
        hv_frame g;
        assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &g), n);
        for (uint32_t len = 0; len < g.payload.len; len++) {
            int rv = decode_payload(g.type, g.payload.ptr, len, &d);
            assert_true(rv == HV_EBADLEN || rv == HV_EBADUTF8);
        }
    }
}

static void string_length_limit_is_checked_on_both_sides(void **state)
{
    (void)state;
    static char text[HV_STR_MAX_BYTES + 1];
    memset(text, 'a', sizeof(text));
    hv_msg m = { .type = HV_MSG_ERROR }, d;
    m.error.message.ptr = text;
    m.error.message.len = HV_STR_MAX_BYTES;
    hv_frame f = header(1);
    int n = hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    assert_true(n > 0);
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &d), n);
    assert_int_equal(d.error.message.len, HV_STR_MAX_BYTES);
    m.error.message.len = HV_STR_MAX_BYTES + 1;
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &m, NULL), HV_EBADLEN);
}

static void topic_length_limit_is_checked_on_both_sides(void **state)
{
    (void)state;
    static char topic[HV_TOPIC_MAX_BYTES + 1];
    memset(topic, 't', sizeof(topic));
    hv_msg m = { .type = HV_MSG_PUBLISH };
    hv_frame f = header(1);
    f.topic.ptr = topic;
    f.topic.len = HV_TOPIC_MAX_BYTES;
    assert_true(hv_frame_encode(buf, sizeof(buf), &f, &m, NULL) > 0);
    f.topic.len = HV_TOPIC_MAX_BYTES + 1;
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &m, NULL), HV_EBADTOPIC);
    f.topic.len = 0;
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &m, NULL), HV_EBADTOPIC);
}

static void vector_count_beyond_payload_is_bad_length(void **state)
{
    (void)state;
    float v[4] = { 1, 2, 3, 4 };
    hv_msg m = { .type = HV_MSG_NEURAL_GRADIENTS }, d;
    m.neural_gradients.gradients.ptr = v;
    m.neural_gradients.gradients.n = 4;
    int n = encode_one(&m, 1);
    hv_frame g;
    assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &g), n);
    uint8_t *count = (uint8_t *)g.payload.ptr + 28;
    assert_int_equal(hv__ld32(count), 4);
    hv__st32(count, 5);
    assert_int_equal(hv_msg_decode(&g, &d), HV_EBADLEN);
    hv__st32(count, 0x40000001u); /* count * 4 overflows 32 bits */
    assert_int_equal(hv_msg_decode(&g, &d), HV_EBADLEN);
    hv__st32(count, 3);
    assert_int_equal(hv_msg_decode(&g, &d), HV_ETRAILING);
}

static void invalid_field_values_are_rejected_both_ways(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_VOTE }, d;
    m.vote.choice = 3;
    assert_int_equal(encode_one(&m, 1), HV_EBADFIELD);
    m.vote.choice = 2;
    int n = encode_one(&m, 1);
    assert_true(n > 0);
    hv_frame g;
    assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &g), n);
    ((uint8_t *)g.payload.ptr)[24] = 3; /* choice */
    assert_int_equal(hv_msg_decode(&g, &d), HV_EBADFIELD);

    hv_msg t = { .type = HV_MSG_TASK_ASSIGN };
    t.task_assign.priority = HV_PRIORITY_MAX;
    assert_true(encode_one(&t, 1) > 0);
    t.task_assign.priority = HV_PRIORITY_MAX + 1;
    assert_int_equal(encode_one(&t, 1), HV_EBADFIELD);

    hv_msg h = { .type = HV_MSG_HEARTBEAT };
    h.heartbeat.load = 1.0f;
    assert_true(encode_one(&h, 1) > 0);
    h.heartbeat.load = 1.0001f;
    assert_int_equal(encode_one(&h, 1), HV_EBADFIELD);
    h.heartbeat.load = -0.0001f;
    assert_int_equal(encode_one(&h, 1), HV_EBADFIELD);
}

static void non_finite_floats_are_rejected(void **state)
{
    (void)state;
    float v[3] = { 1, 0, 2 };
    v[1] = 1.0f / v[1];
    hv_msg m = { .type = HV_MSG_PATTERN_RESULT };
    m.pattern_result.vector.ptr = v;
    m.pattern_result.vector.n = 3;
    assert_int_equal(encode_one(&m, 1), HV_ENONFINITE);
    v[1] = 0;
    m.pattern_result.similarity = v[1] / v[1];
    assert_int_equal(encode_one(&m, 1), HV_ENONFINITE);
}

/* Every position of vectors of every length around the check's 16-lane steps (the vectorised
 * loop, its tail, and the tail alone) rejects NaN and both infinities and accepts the largest
 * finite values of either sign. */
static void non_finite_vector_elements_are_found_anywhere(void **state)
{
    (void)state;
    float v[67];
    hv_msg m = { .type = HV_MSG_PATTERN_RESULT };
    m.pattern_result.vector.ptr = v;
    const float bad[] = { INFINITY, -INFINITY, NAN, -NAN };
    const uint32_t lens[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 48, 64, 67 };
    for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
        uint32_t n = lens[l];
        m.pattern_result.vector.n = n;
        for (uint32_t k = 0; k < n; k++)
            v[k] = (k & 1) ? FLT_MAX : -FLT_MAX;
        assert_true(encode_one(&m, 1) > 0);
        for (uint32_t i = 0; i < n; i++) {
            for (uint32_t k = 0; k < n; k++)
                v[k] = (k & 1) ? FLT_MAX : -FLT_MAX;
            assert_true(encode_one(&m, 1) > 0);
            for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                v[i] = bad[b];
                assert_int_equal(encode_one(&m, 1), HV_ENONFINITE);
            }
        }
    }
}

/* The inline copy of short fields copies exactly n bytes, for every n on either side of its
 * width steps, and writes nothing past them. */
static void short_copies_are_exact(void **state)
{
    (void)state;
    uint8_t src[64], dst[80];
    for (int i = 0; i < 64; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    for (size_t n = 0; n <= 40; n++) {
        memset(dst, 0xee, sizeof(dst));
        hv__copy_short(dst + 8, src, n);
        for (size_t i = 0; i < 8; i++)
            assert_int_equal(dst[i], 0xee);
        assert_memory_equal(dst + 8, src, n);
        for (size_t i = 8 + n; i < sizeof(dst); i++)
            assert_int_equal(dst[i], 0xee);
    }
}

static void invalid_utf8_is_rejected(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_ERROR };
    const char *bad[] = { "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\0b" };
    size_t lens[] = { 1, 2, 3, 4, 3 };
    for (size_t i = 0; i < 5; i++) {
        m.error.message.ptr = bad[i];
        m.error.message.len = (uint32_t)lens[i];
        assert_int_equal(encode_one(&m, 1), HV_EBADUTF8);
    }
    m.error.message = hv_str_from("caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_true(encode_one(&m, 1) > 0);
}

static void cross_field_rules_are_enforced(void **state)
{
    (void)state;
    uint64_t ids[2] = { 1, 2 };
    uint32_t w[1] = { 1 };
    hv_msg p = { .type = HV_MSG_PROPOSAL };
    p.proposal.voters.ptr = ids;
    p.proposal.voters.n = 2;
    p.proposal.weights.ptr = w;
    p.proposal.weights.n = 1;
    assert_int_equal(encode_one(&p, 1), HV_EBADLEN);
    p.proposal.voters.n = 1;
    p.proposal.threshold_num = 3;
    p.proposal.threshold_den = 4;
    assert_true(encode_one(&p, 1) > 0);
    p.proposal.threshold_num = 5;
    assert_int_equal(encode_one(&p, 1), HV_EBADFIELD);

    float mat[4] = { 1, 0, 0, 1 };
    hv_msg s = { .type = HV_MSG_STRATEGY_CORRELATION };
    s.strategy_correlation.strategy_ids.ptr = ids;
    s.strategy_correlation.strategy_ids.n = 2;
    s.strategy_correlation.matrix.ptr = mat;
    s.strategy_correlation.matrix.n = 4;
    assert_true(encode_one(&s, 1) > 0);
    s.strategy_correlation.matrix.n = 3;
    assert_int_equal(encode_one(&s, 1), HV_EBADLEN);

    hv_msg sub = { .type = HV_MSG_SUBSCRIBE };
    sub.subscribe.pattern = hv_str_from("md.*.>");
    assert_true(encode_one(&sub, 1) > 0);
    sub.subscribe.pattern = hv_str_from("md .x");
    assert_int_equal(encode_one(&sub, 1), HV_EBADTOPIC);
}

static void metrics_and_streams_limits_are_checked(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_METRICS };
    m.metrics.count = HV_METRICS_MAX;
    for (int i = 0; i < HV_METRICS_MAX; i++)
        m.metrics.entries[i].name = hv_str_from("bus.p99");
    assert_true(encode_one(&m, 1) > 0);
    m.metrics.count = HV_METRICS_MAX + 1;
    assert_int_equal(encode_one(&m, 1), HV_EBADLEN);
    m.metrics.count = 1;
    static char name[HV_METRIC_NAME_MAX + 1];
    memset(name, 'n', sizeof(name));
    m.metrics.entries[0].name.ptr = name;
    m.metrics.entries[0].name.len = HV_METRIC_NAME_MAX;
    assert_true(encode_one(&m, 1) > 0);
    m.metrics.entries[0].name.len = HV_METRIC_NAME_MAX + 1;
    assert_int_equal(encode_one(&m, 1), HV_EBADLEN);
    m.metrics.entries[0].name.len = 0;
    assert_int_equal(encode_one(&m, 1), HV_EBADLEN);

    hv_msg a = { .type = HV_MSG_HANDSHAKE_ACK };
    a.handshake_ack.stream_count = HV_STREAMS_MAX;
    assert_true(encode_one(&a, 1) > 0);
    a.handshake_ack.stream_count = HV_STREAMS_MAX + 1;
    assert_int_equal(encode_one(&a, 1), HV_EBADLEN);
    a.handshake_ack.stream_count = 1;
    a.handshake_ack.streams[0].priority = HV_PRIORITY_MAX + 1;
    assert_int_equal(encode_one(&a, 1), HV_EBADFIELD);
}

/* The explanations behind error messages run the decoder's checks in its order: on damaged
 * frames of every type (bytes flipped anywhere, some frames compressed, some cut short) they
 * return the decoder's code, and say something whenever that is an error. */
static void explanations_agree_with_the_decoder_on_damaged_frames(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 31);
    static uint8_t scratch[BUF_BYTES], scratch2[BUF_BYTES], frame[BUF_BYTES];
    hv_codec_limits lim = { .frame_max_bytes = 1 << 16, .decompressed_max_bytes = 1 << 16 };
    hv_codec_opts o = { .size = sizeof(o), .compress_above_bytes = 32 };
    hv_codec *c = NULL;
    assert_int_equal(hv_codec_new(&o, &c), 0);
    unsigned errors = 0, kinds[128] = { 0 };
    for (int round = 0; round < 20000; round++) {
        hv_msg m, d;
        int type = hv__msg_types[hv_rng_below(&r, HV__MSG_TYPES_COUNT)];
        assert_int_equal(hv__msg_random(&r, type, 96, &m, arena, sizeof(arena)), 0);
        hv_frame f = header((uint64_t)round);
        int n = hv_rng_below(&r, 4) == 0 ? hv_codec_encode(c, frame, sizeof(frame), &f, &m, NULL)
                                         : hv_frame_encode(frame, sizeof(frame), &f, &m, NULL);
        assert_true(n > 0);
        for (uint64_t k = hv_rng_below(&r, 4); k > 0; k--)
            frame[hv_rng_below(&r, (uint64_t)n)] ^= (uint8_t)(1u << hv_rng_below(&r, 8));
        size_t len = hv_rng_below(&r, 8) == 0 ? hv_rng_below(&r, (uint64_t)n) : (size_t)n;
        hv_frame g;
        int rv = hv_decode(frame, len, &lim, scratch, sizeof(scratch), &g, &d);
        char why[256] = "";
        int ex = hv__frame_explain(frame, len, &lim, scratch2, sizeof(scratch2), why, sizeof(why));
        assert_int_equal(ex, rv < 0 ? rv : 0);
        if (rv < 0) {
            assert_true(why[0] != '\0');
            errors++;
            kinds[-rv & 127]++;
        }
    }
    hv_codec_free(c);
    /* Damage reached every kind of check. */
    assert_true(errors > 5000);
    const int codes[] = { HV_ETRUNCATED,  HV_EBADMAGIC, HV_EBADVERSION, HV_EBADTYPE,
                          HV_EBADLEN,     HV_EBADFLAGS, HV_EBADFIELD,   HV_EBADTOPIC,
                          HV_EDECOMPRESS, HV_ETRAILING, HV_EBADUTF8,    HV_ENONFINITE };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        assert_true(kinds[-codes[i] & 127] > 0);
}

/* The encoder's explanation agrees with its validator on whatever damaged payloads decode to. */
static void explanations_agree_with_the_validator(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 32);
    unsigned errors = 0;
    for (int round = 0; round < 20000; round++) {
        hv_msg m, d;
        int type = hv__msg_types[hv_rng_below(&r, HV__MSG_TYPES_COUNT)];
        assert_int_equal(hv__msg_random(&r, type, 96, &m, arena, sizeof(arena)), 0);
        int n = encode_one(&m, 1);
        hv_frame g;
        assert_int_equal(hv_frame_parse(buf, (size_t)n, NULL, &g), n);
        uint8_t *p = buf + (g.payload.ptr - buf);
        for (uint64_t k = 1 + hv_rng_below(&r, 2); k > 0 && g.payload.len > 0; k--)
            p[hv_rng_below(&r, g.payload.len)] ^= (uint8_t)(1u << hv_rng_below(&r, 8));
        memset(&d, 0, sizeof(d));
        hv_msg_decode(&g, &d);
        char why[256] = "";
        int rv = hv__msg_validate(&d);
        assert_int_equal(hv__msg_explain_rules(&d, why, sizeof(why)), rv);
        assert_true(rv == 0 || why[0] != '\0');
        errors += rv != 0;
    }
    assert_true(errors > 1000);
}

static void type_names_round_trip(void **state)
{
    (void)state;
    for (unsigned t = 0; t < HV__MSG_TYPES_COUNT; t++) {
        const char *name = hv_msg_type_name(hv__msg_types[t]);
        assert_non_null(name);
        assert_int_equal(hv_msg_type_from_name(name, strlen(name)), hv__msg_types[t]);
    }
    assert_null(hv_msg_type_name(0));
    assert_int_equal(hv_msg_type_from_name("nope", 4), HV_EBADTYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_round_trips),
        cmocka_unit_test(reencoding_a_decoded_frame_reproduces_its_bytes),
        cmocka_unit_test(encoder_reports_the_size_it_needs),
        cmocka_unit_test(heartbeat_frame_has_the_documented_layout),
        cmocka_unit_test(every_truncation_is_reported_as_truncated),
        cmocka_unit_test(bad_header_fields_have_distinct_errors),
        cmocka_unit_test(frame_size_limit_is_enforced_on_both_sides_of_the_limit),
        cmocka_unit_test(newer_minor_versions_may_extend_header_and_payload),
        cmocka_unit_test(every_payload_truncation_is_bad_length),
        cmocka_unit_test(string_length_limit_is_checked_on_both_sides),
        cmocka_unit_test(topic_length_limit_is_checked_on_both_sides),
        cmocka_unit_test(vector_count_beyond_payload_is_bad_length),
        cmocka_unit_test(invalid_field_values_are_rejected_both_ways),
        cmocka_unit_test(non_finite_floats_are_rejected),
        cmocka_unit_test(non_finite_vector_elements_are_found_anywhere),
        cmocka_unit_test(short_copies_are_exact),
        cmocka_unit_test(invalid_utf8_is_rejected),
        cmocka_unit_test(cross_field_rules_are_enforced),
        cmocka_unit_test(metrics_and_streams_limits_are_checked),
        cmocka_unit_test(type_names_round_trip),
        cmocka_unit_test(explanations_agree_with_the_decoder_on_damaged_frames),
        cmocka_unit_test(explanations_agree_with_the_validator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The HVW1 conformance vectors (tests/codec/vectors/, docs/PROTOCOL.md section 19) against this
 * implementation: the same files a second implementation checks itself against.
 */
#include "hv_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/codec.h>

#include "codec/json.h"

#define FRAME_BYTES (1u << 21)

static uint8_t frame[FRAME_BYTES], got[FRAME_BYTES], scratch[FRAME_BYTES];

/* The vectors of tests/codec/vectors/<name>. */
static json_t *load(const char *name)
{
    char path[512];
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/codec/vectors/%s", root ? root : ".", name);
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL)
        fail_msg("%s: line %d: %s", path, je.line, je.text);
    json_t *v = json_object_get(doc, "vectors");
    assert_true(json_is_array(v) && json_array_size(v) > 0);
    json_incref(v);
    json_decref(doc);
    return v;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (s == NULL)
        fail_msg("vector without \"%s\"", key);
    return s;
}

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;
    assert_true(n <= FRAME_BYTES);
    for (size_t i = 0; i < n; i++) {
        unsigned x;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &x), 1);
        out[i] = (uint8_t)x;
    }
    return n;
}

static uint32_t opt(json_t *o, const char *key)
{
    return (uint32_t)json_integer_value(json_object_get(o, key));
}

static hv_codec *codec_of(json_t *c)
{
    hv_codec_opts o = { .size = sizeof(o),
                        .frame_max_bytes = opt(c, "frame_max_bytes"),
                        .compress_above_bytes = opt(c, "compress_above_bytes"),
                        .intern_max = opt(c, "intern_max"),
                        .intern_bytes_max = opt(c, "intern_bytes_max") };
    hv_codec *codec = NULL;
    assert_int_equal(hv_codec_new(&o, &codec), 0);
    return codec;
}

static hv_codec_limits limits_of(json_t *l)
{
    hv_codec_limits lim = { opt(l, "frame_max_bytes"), opt(l, "decompressed_max_bytes") };
    return lim;
}

/* The error code named, e.g. "HV_EBADLEN". */
static int code_of(const char *name)
{
    for (int e = -1; e >= -200; e--)
        if (hv_err_name(e) != NULL && strcmp(hv_err_name(e), name) == 0)
            return e;
    fail_msg("unknown error name %s", name);
    return 0;
}

/* The JSON line of a decoded frame. */
static void json_line_is(const hv_frame *f, const hv_msg *m, const char *want, const char *name)
{
    int err = 0;
    char *s = hv_json_from_msg(f, m, &err);
    if (s == NULL || strcmp(s, want) != 0)
        fail_msg("%s: decodes to\n%s\nnot\n%s", name, s ? s : hv_strerror(err), want);
    free(s);
}

static void encode_vectors_encode_decode_and_round_trip_exactly(void **state)
{
    (void)state;
    json_t *vs = load("encode.json");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        const char *name = str(v, "name"), *in = str(v, "json"), *out = str(v, "json_out");
        size_t n = unhex(str(v, "frame"), frame);
        char err[256];
        int k = hv_json_to_frame(in, strlen(in), got, sizeof(got), NULL, err, sizeof(err));
        if (k != (int)n || memcmp(got, frame, n) != 0)
            fail_msg("%s: encodes to %d bytes (%s), not the vector's %zu", name, k,
                     k < 0 ? err : "different", n);
        hv_frame f;
        hv_msg m;
        assert_int_equal(hv_decode(frame, n, NULL, scratch, sizeof(scratch), &f, &m), (int)n);
        json_line_is(&f, &m, out, name);
        k = hv_json_to_frame(out, strlen(out), got, sizeof(got), NULL, err, sizeof(err));
        assert_int_equal(k, (int)n);
        assert_memory_equal(got, frame, n);
    }
    json_decref(vs);
}

static void decode_vectors_decode_exactly(void **state)
{
    (void)state;
    json_t *vs = load("decode.json");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        size_t n = unhex(str(v, "frame"), frame);
        hv_codec_limits lim = limits_of(json_object_get(v, "limits"));
        hv_frame f;
        hv_msg m;
        int k = hv_decode(frame, n, &lim, scratch, sizeof(scratch), &f, &m);
        if (k != (int)n)
            fail_msg("%s: %s", str(v, "name"), hv_strerror(k));
        json_line_is(&f, &m, str(v, "json_out"), str(v, "name"));
    }
    json_decref(vs);
}

/* One message of a sequence: encoded through tx (exactly `frame`, a compressed frame, or
 * `error`), then decoded through rx. */
static void sequence_step(hv_codec *tx, hv_codec *rx, json_t *s, const char *name)
{
    const char *in = str(s, "json");
    char err[256];
    hv__jctx cx;
    hv__jctx_init(&cx, err, sizeof(err));
    json_t *o = json_loads(in, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(o);
    size_t need = 0;
    int k = hv__json_encode(&cx, o, tx, got, sizeof(got), &need);
    json_decref(o);
    hv__jctx_free(&cx);
    json_t *e = json_object_get(s, "error");
    if (e != NULL) {
        if (k != code_of(json_string_value(e)))
            fail_msg("%s: %s gives %d (%s), not %s", name, in, k, err, json_string_value(e));
        return;
    }
    if (k <= 0)
        fail_msg("%s: %s does not encode: %s", name, in, err);
    if (json_is_true(json_object_get(s, "compressed"))) {
        assert_true(got[7] & HV_FLAG_COMPRESSED);
    } else {
        size_t n = unhex(str(s, "frame"), frame);
        if ((size_t)k != n || memcmp(got, frame, n) != 0)
            fail_msg("%s: %s encodes to other bytes than the vector's", name, in);
    }
    hv_frame f;
    hv_msg m;
    assert_int_equal(hv_codec_decode(rx, got, (size_t)k, &f, &m), k);
    const char *topic = str(s, "topic");
    if (f.topic.len != strlen(topic) || memcmp(f.topic.ptr, topic, f.topic.len) != 0)
        fail_msg("%s: %s resolves to topic '%.*s', not '%s'", name, in, (int)f.topic.len,
                 f.topic.ptr, topic);
    if (json_object_get(s, "json_out") != NULL)
        json_line_is(&f, &m, str(s, "json_out"), name);
}

static void sequences_encode_and_resolve_in_order(void **state)
{
    (void)state;
    json_t *vs = load("sequences.json");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i), *msgs = json_object_get(v, "messages");
        hv_codec *tx = codec_of(json_object_get(v, "codec"));
        hv_codec *rx = codec_of(json_object_get(v, "codec"));
        for (size_t k = 0; k < json_array_size(msgs); k++)
            sequence_step(tx, rx, json_array_get(msgs, k), str(v, "name"));
        hv_codec_free(tx);
        hv_codec_free(rx);
    }
    json_decref(vs);
}

/* A frame decoded on its own, and a batch's frames each in turn: the first error, or 0. */
static int decode_alone(const uint8_t *p, size_t n, const hv_codec_limits *lim)
{
    hv_frame f;
    hv_msg m;
    int rv = hv_decode(p, n, lim, scratch, sizeof(scratch), &f, &m);
    if (rv < 0 || f.type != HV_MSG_BATCH)
        return rv < 0 ? rv : 0;
    hv_batch_iter it;
    hv_batch_iter_init(&it, &m.batch, lim);
    const uint8_t *q;
    size_t len;
    static uint8_t inner_scratch[FRAME_BYTES];
    while ((rv = hv_batch_next(&it, &q, &len)) == 1) {
        hv_frame g;
        hv_msg d;
        rv = hv_decode(q, len, lim, inner_scratch, sizeof(inner_scratch), &g, &d);
        if (rv < 0)
            return rv;
    }
    return rv;
}

/* The frames through a codec in order, a batch's frames each in turn: the first error, or 0. */
static int decode_through(hv_codec *c, const uint8_t *p, size_t n)
{
    hv_frame f;
    hv_msg m;
    int rv = hv_codec_decode(c, p, n, &f, &m);
    if (rv < 0 || f.type != HV_MSG_BATCH)
        return rv < 0 ? rv : 0;
    hv_batch_iter it;
    hv_codec_limits lim;
    hv_codec_limits_get(c, &lim);
    hv_batch_iter_init(&it, &m.batch, &lim);
    const uint8_t *q;
    size_t len;
    while ((rv = hv_batch_next(&it, &q, &len)) == 1) {
        hv_frame g;
        hv_msg d;
        rv = hv_codec_decode(c, q, len, &g, &d);
        if (rv < 0)
            return rv;
    }
    return rv;
}

static void bad_frames_fail_with_their_code(void **state)
{
    (void)state;
    json_t *vs = load("bad_frames.json");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i), *frames = json_object_get(v, "frames");
        json_t *c = json_object_get(v, "codec");
        hv_codec_limits lim = limits_of(json_object_get(v, "limits"));
        hv_codec *codec = c != NULL ? codec_of(c) : NULL;
        int want = code_of(str(v, "error")), rv = 0;
        size_t count = json_array_size(frames);
        for (size_t k = 0; k < count; k++) {
            size_t n = unhex(json_string_value(json_array_get(frames, k)), frame);
            rv = codec ? decode_through(codec, frame, n) : decode_alone(frame, n, &lim);
            if (k + 1 < count && rv != 0)
                fail_msg("%s: frame %zu fails with %s before the last", str(v, "name"), k + 1,
                         hv_err_name(rv));
        }
        if (rv != want)
            fail_msg("%s: %s, not %s", str(v, "name"), rv ? hv_err_name(rv) : "no error",
                     str(v, "error"));
        hv_codec_free(codec);
    }
    json_decref(vs);
}

static void bad_json_fails_with_its_code_and_names_the_field(void **state)
{
    (void)state;
    json_t *vs = load("bad_json.json");
    for (size_t i = 0; i < json_array_size(vs); i++) {
        json_t *v = json_array_get(vs, i);
        const char *in = str(v, "json");
        char err[512] = "";
        int rv = hv_json_to_frame(in, strlen(in), got, sizeof(got), NULL, err, sizeof(err));
        json_t *path = json_object_get(v, "path");
        if (rv != code_of(str(v, "error")) ||
            (path != NULL &&
             strncmp(err, json_string_value(path), strlen(json_string_value(path))) != 0))
            fail_msg("%s: %s gives %s '%s', not %s '%s...'", str(v, "name"), in,
                     rv < 0 ? hv_err_name(rv) : "success", err, str(v, "error"),
                     path ? json_string_value(path) : "");
    }
    json_decref(vs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_vectors_encode_decode_and_round_trip_exactly),
        cmocka_unit_test(decode_vectors_decode_exactly),
        cmocka_unit_test(sequences_encode_and_resolve_in_order),
        cmocka_unit_test(bad_frames_fail_with_their_code),
        cmocka_unit_test(bad_json_fails_with_its_code_and_names_the_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

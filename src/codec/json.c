/*
 * The JSON form of HVW1 messages (jansson), both directions, expanded from the same schemas as
 * the binary codec. Not a hot path: it allocates.
 *
 * Mapping: integers as JSON integers (u64 above 2^53 - 1 as decimal strings, accepted either
 * way), floats as JSON numbers (exact: f32 and f64 print with 17 significant digits), enums as
 * their lower-case names, bools as true/false, hashes and signatures as lower-case hex, byte
 * fields as standard base64 with padding, vectors as arrays. Missing payload fields take their
 * zero value; unknown keys are errors.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/json.h"
#include "codec/schema.h"
#include "codec/text.h"

#define JSON_SAFE_INT_MAX 9007199254740991ull /* 2^53 - 1 */

/* ---- Errors and the allocation arena ------------------------------------------------------ */

static int jfail(hv__jctx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jfail(hv__jctx *cx, const char *fmt, ...)
{
    if (cx->err && cx->errlen && cx->err[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cx->err, cx->errlen, fmt, ap);
        va_end(ap);
    }
    return HV_EBADJSON;
}

static void *jalloc(hv__jctx *cx, size_t n)
{
    hv__jblock *b = malloc(sizeof(*b) + (n ? n : 1));
    if (b == NULL)
        return NULL;
    b->next = cx->blocks;
    cx->blocks = b;
    return b->data;
}

void hv__jctx_init(hv__jctx *cx, char *err, size_t errlen)
{
    memset(cx, 0, sizeof(*cx));
    cx->err = err;
    cx->errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
}

void hv__jctx_release(hv__jctx *cx, hv__jblock *mark)
{
    while (cx->blocks != NULL && cx->blocks != mark) {
        hv__jblock *b = cx->blocks;
        cx->blocks = b->next;
        free(b);
    }
}

void hv__jctx_free(hv__jctx *cx)
{
    hv__jctx_release(cx, NULL);
}

/* ---- Binary to JSON ---------------------------------------------------------------------- */

static json_t *ju64(uint64_t v)
{
    if (v <= JSON_SAFE_INT_MAX)
        return json_integer((json_int_t)v);
    char s[24];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
    return json_string(s);
}

static json_t *jhex(const uint8_t *p, size_t n)
{
    char s[2 * HV_SIG_BYTES + 1];
    sodium_bin2hex(s, sizeof(s), p, n);
    return json_string(s);
}

static json_t *jbase64(hv_bytes b)
{
    size_t n = sodium_base64_encoded_len(b.len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (s == NULL)
        return NULL;
    sodium_bin2base64(s, n, b.len ? b.ptr : (const uint8_t *)"", b.len,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *jf32v(hv_f32v v)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < v.n; i++)
        json_array_append_new(a, json_real((double)hv_f32v_get(v, i)));
    return a;
}

static json_t *ju64v(hv_u64v v)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < v.n; i++)
        json_array_append_new(a, ju64(hv_u64v_get(v, i)));
    return a;
}

static json_t *ju32v(hv_u32v v)
{
    json_t *a = json_array();
    for (uint32_t i = 0; a && i < v.n; i++)
        json_array_append_new(a, json_integer(hv_u32v_get(v, i)));
    return a;
}

static json_t *jstreams(uint8_t count, const hv_wire_stream *s)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < count; i++)
        json_array_append_new(a, json_pack("{s:i, s:s, s:i}", "stream_id", (int)s[i].stream_id,
                                           "purpose", hv__purpose_names.v[s[i].purpose], "priority",
                                           (int)s[i].priority));
    return a;
}

static json_t *jmetrics(uint8_t count, const hv_wire_metric *e)
{
    json_t *a = json_array();
    for (unsigned i = 0; a && i < count; i++)
        json_array_append_new(
            a, json_pack("{s:s%, s:s, s:f}", "name", e[i].name.ptr, (size_t)e[i].name.len, "kind",
                         hv__metric_kind_names.v[e[i].kind], "value", e[i].value));
    return a;
}

#define TJ_U8(m, f, aux)      json_integer((m)->f)
#define TJ_U16(m, f, aux)     json_integer((m)->f)
#define TJ_U32(m, f, aux)     json_integer((m)->f)
#define TJ_U64(m, f, aux)     ju64((m)->f)
#define TJ_I32(m, f, aux)     json_integer((m)->f)
#define TJ_F32(m, f, aux)     json_real((double)(m)->f)
#define TJ_F64(m, f, aux)     json_real((m)->f)
#define TJ_UNIT(m, f, aux)    json_real((double)(m)->f)
#define TJ_ENUM(m, f, aux)    json_string((aux).v[(m)->f])
#define TJ_PRIO(m, f, aux)    json_integer((m)->f)
#define TJ_BOOL(m, f, aux)    json_boolean((m)->f)
#define TJ_BITS(m, f, aux)    json_integer((m)->f)
#define TJ_H32(m, f, aux)     jhex((m)->f, HV_HASH_BYTES)
#define TJ_S64(m, f, aux)     jhex((m)->f, HV_SIG_BYTES)
#define TJ_STR(m, f, aux)     json_stringn((m)->f.len ? (m)->f.ptr : "", (m)->f.len)
#define TJ_BYTES(m, f, aux)   jbase64((m)->f)
#define TJ_F32V(m, f, aux)    jf32v((m)->f)
#define TJ_U64V(m, f, aux)    ju64v((m)->f)
#define TJ_U32V(m, f, aux)    ju32v((m)->f)
#define TJ_STREAMS(m, f, aux) jstreams((m)->stream_count, (m)->f)
#define TJ_METRICS(m, f, aux) jmetrics((m)->count, (m)->f)
#define TJ_(kind, f, aux)                                      \
    if (json_object_set_new(o, #f, TJ_##kind(m, f, aux)) != 0) \
        ok = 0;

#define TOJSON_FN_(NAME, val, lower)                       \
    static json_t *tojson_##lower(const hv_msg_##lower *m) \
    {                                                      \
        json_t *o = json_object();                         \
        int ok = o != NULL;                                \
        if (ok) {                                          \
            HV_S_##lower(TJ_)                              \
        }                                                  \
        if (!ok) {                                         \
            json_decref(o);                                \
            return NULL;                                   \
        }                                                  \
        return o;                                          \
    }
HV_MSG_SCHEMA_TYPE_MAP(TOJSON_FN_)
#undef TOJSON_FN_

static json_t *header_to_json(const hv_frame *f, int type)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int ok = json_object_set_new(o, "type", json_string(hv_msg_type_name(type))) == 0;
    ok &= json_object_set_new(o, "seq", ju64(f->seq)) == 0;
    ok &= json_object_set_new(o, "correlation_id", ju64(f->correlation_id)) == 0;
    ok &= json_object_set_new(o, "timestamp_ns", ju64(f->timestamp_ns)) == 0;
    ok &= json_object_set_new(o, "sender_id", ju64(f->sender_id)) == 0;
    if (f->topic.len)
        ok &= json_object_set_new(o, "topic", json_stringn(f->topic.ptr, f->topic.len)) == 0;
    if (f->topic_id)
        ok &= json_object_set_new(o, "topic_id", json_integer(f->topic_id)) == 0;
    if (f->flags & (HV_FLAG_ACK_REQUESTED | HV_FLAG_REPLY)) {
        json_t *fl = json_array();
        if (f->flags & HV_FLAG_ACK_REQUESTED)
            json_array_append_new(fl, json_string("ack_requested"));
        if (f->flags & HV_FLAG_REPLY)
            json_array_append_new(fl, json_string("reply"));
        ok &= json_object_set_new(o, "flags", fl) == 0;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *batch_to_json(const hv_msg_batch *b, int *err)
{
    json_t *frames = json_array();
    uint8_t *scratch = malloc(HV_FRAME_MAX_CEILING);
    if (frames == NULL || scratch == NULL) {
        json_decref(frames);
        free(scratch);
        *err = HV_ENOMEM;
        return NULL;
    }
    hv_codec_limits lim = { HV_FRAME_MAX_CEILING, HV_FRAME_MAX_CEILING };
    hv_batch_iter it;
    hv_batch_iter_init(&it, b, &lim);
    const uint8_t *p;
    size_t len;
    int rv;
    while ((rv = hv_batch_next(&it, &p, &len)) == 1) {
        hv_frame f;
        hv_msg m;
        rv = hv_decode(p, len, &lim, scratch, HV_FRAME_MAX_CEILING, &f, &m);
        json_t *j = rv < 0 ? NULL : hv__json_from_msg(&f, &m, &rv);
        if (j == NULL)
            break;
        json_array_append_new(frames, j);
    }
    free(scratch);
    if (rv != 0) {
        json_decref(frames);
        *err = rv;
        return NULL;
    }
    return json_pack("{s:o}", "frames", frames);
}

json_t *hv__json_from_msg(const hv_frame *f, const hv_msg *m, int *err)
{
    json_t *payload = NULL;
    *err = hv__msg_validate(m);
    if (*err != 0)
        return NULL;
    switch (m->type) {
#define JCASE_(NAME, val, lower)             \
    case HV_MSG_##NAME:                      \
        payload = tojson_##lower(&m->lower); \
        break;
        HV_MSG_SCHEMA_TYPE_MAP(JCASE_)
#undef JCASE_
    case HV_MSG_BATCH:
        payload = batch_to_json(&m->batch, err);
        if (payload == NULL)
            return NULL;
        break;
    default:
        *err = HV_EBADTYPE;
        return NULL;
    }
    json_t *o = payload ? header_to_json(f, m->type) : NULL;
    if (o == NULL || json_object_set_new(o, "payload", payload) != 0) {
        if (o == NULL)
            json_decref(payload);
        json_decref(o);
        *err = HV_ENOMEM;
        return NULL;
    }
    return o;
}

char *hv_json_from_msg(const hv_frame *f, const hv_msg *m, int *err)
{
    int e = 0;
    json_t *o = hv__json_from_msg(f, m, &e);
    char *s = NULL;
    if (o != NULL) {
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (s == NULL)
            e = HV_ENOMEM;
    }
    if (err)
        *err = e;
    return s;
}

/* ---- JSON to binary ---------------------------------------------------------------------- */

static int get_u64(hv__jctx *cx, const char *key, json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (s[0] >= '0' && s[0] <= '9' && strlen(s) <= 20) {
            unsigned long long x = strtoull(s, &end, 10);
            if (*end == '\0' && !(x == ~0ull && strcmp(s, "18446744073709551615") != 0)) {
                *out = x;
                return 0;
            }
        }
    }
    return jfail(cx, "%s: expected an unsigned 64-bit integer (number or decimal string)", key);
}

static int get_int(hv__jctx *cx, const char *key, json_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return jfail(cx, "%s: expected an integer in [%lld, %lld]", key, (long long)lo,
                     (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int get_f64(hv__jctx *cx, const char *key, json_t *v, double *out)
{
    if (!json_is_number(v))
        return jfail(cx, "%s: expected a number", key);
    *out = json_number_value(v);
    return 0;
}

static int get_f32(hv__jctx *cx, const char *key, json_t *v, float *out)
{
    double d = 0;
    int rv = get_f64(cx, key, v, &d);
    if (rv != 0)
        return rv;
    /* Rounded to the nearest f32 (ties to even): from FLT_MAX plus half its ulp up, that is an
     * infinity, refused; tiny values become subnormals or zero, as IEEE 754 rounds them. */
    if (fabs(d) >= 0x1.ffffffp+127)
        return jfail(cx, "%s: %.17g rounds to infinity as a 32-bit float", key, d);
    *out = (float)d;
    return 0;
}

static int get_enum(hv__jctx *cx, const char *key, json_t *v, const hv__names *names, uint8_t *out)
{
    if (json_is_string(v))
        for (unsigned i = 0; i < names->n; i++)
            if (strcmp(json_string_value(v), names->v[i]) == 0) {
                *out = (uint8_t)i;
                return 0;
            }
    char list[256] = "";
    for (unsigned i = 0; i < names->n; i++) {
        strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, names->v[i], sizeof(list) - strlen(list) - 1);
    }
    return jfail(cx, "%s: expected one of %s", key, list);
}

static int get_hex(hv__jctx *cx, const char *key, json_t *v, uint8_t *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    if (json_is_string(v) && json_string_length(v) == 2 * n &&
        sodium_hex2bin(out, n, json_string_value(v), 2 * n, NULL, &got, &end) == 0 && got == n &&
        end == json_string_value(v) + 2 * n)
        return 0;
    return jfail(cx, "%s: expected %zu hex digits", key, 2 * n);
}

static int get_str(hv__jctx *cx, const char *key, json_t *v, hv_str *out)
{
    if (!json_is_string(v))
        return jfail(cx, "%s: expected a string", key);
    out->ptr = json_string_value(v);
    out->len = (uint32_t)json_string_length(v);
    if (json_string_length(v) > HV_STR_MAX_BYTES)
        return jfail(cx, "%s: longer than %u bytes", key, HV_STR_MAX_BYTES);
    return 0;
}

static int get_bytes(hv__jctx *cx, const char *key, json_t *v, hv_bytes *out)
{
    if (!json_is_string(v))
        return jfail(cx, "%s: expected a base64 string", key);
    size_t n = json_string_length(v), got = 0;
    const char *s = json_string_value(v), *end = NULL;
    uint8_t *p = jalloc(cx, n / 4 * 3 + 3);
    if (p == NULL)
        return HV_ENOMEM;
    if (sodium_base642bin(p, n / 4 * 3 + 3, s, n, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + n || got > HV_FRAME_MAX_CEILING)
        return jfail(cx, "%s: invalid base64", key);
    out->ptr = p;
    out->len = (uint32_t)got;
    return 0;
}

static int get_array(hv__jctx *cx, const char *key, json_t *v, size_t max, size_t width, void **out)
{
    if (!json_is_array(v))
        return jfail(cx, "%s: expected an array", key);
    if (json_array_size(v) > max)
        return jfail(cx, "%s: more than %zu elements", key, max);
    *out = jalloc(cx, json_array_size(v) * width);
    return *out ? 0 : HV_ENOMEM;
}

/* "key[i]", for the errors of one element of an array. */
static const char *element_key(char *buf, size_t n, const char *key, size_t i)
{
    snprintf(buf, n, "%s[%zu]", key, i);
    return buf;
}

static int get_f32v(hv__jctx *cx, const char *key, json_t *v, hv_f32v *out)
{
    float *p = NULL;
    char k[96];
    int rv = get_array(cx, key, v, HV_FRAME_MAX_CEILING / 4, 4, (void **)&p);
    for (size_t i = 0; rv == 0 && i < json_array_size(v); i++)
        rv = get_f32(cx, element_key(k, sizeof(k), key, i), json_array_get(v, i), &p[i]);
    out->ptr = p;
    out->n = rv == 0 ? (uint32_t)json_array_size(v) : 0;
    return rv;
}

static int get_u64v(hv__jctx *cx, const char *key, json_t *v, hv_u64v *out)
{
    uint64_t *p = NULL;
    char k[96];
    int rv = get_array(cx, key, v, 65535, 8, (void **)&p);
    for (size_t i = 0; rv == 0 && i < json_array_size(v); i++)
        rv = get_u64(cx, element_key(k, sizeof(k), key, i), json_array_get(v, i), &p[i]);
    out->ptr = p;
    out->n = rv == 0 ? (uint32_t)json_array_size(v) : 0;
    return rv;
}

static int get_u32v(hv__jctx *cx, const char *key, json_t *v, hv_u32v *out)
{
    uint32_t *p = NULL;
    char k[96];
    int rv = get_array(cx, key, v, 65535, 4, (void **)&p);
    for (size_t i = 0; rv == 0 && i < json_array_size(v); i++) {
        int64_t x = 0;
        rv =
            get_int(cx, element_key(k, sizeof(k), key, i), json_array_get(v, i), 0, UINT32_MAX, &x);
        p[i] = (uint32_t)x;
    }
    out->ptr = p;
    out->n = rv == 0 ? (uint32_t)json_array_size(v) : 0;
    return rv;
}

static int check_keys(hv__jctx *cx, json_t *o, const char *where, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        int known = 0;
        for (const char *const *p = keys; *p && !known; p++)
            known = strcmp(*p, k) == 0;
        if (!known)
            return jfail(cx, "%sunknown field '%s'", where, k);
    }
    return 0;
}

/* "list[i].key", for the errors of one record of a list. */
static const char *record_key(char *buf, size_t n, const char *list, size_t i, const char *key)
{
    snprintf(buf, n, "%s[%zu]%s%s", list, i, key[0] == ':' ? "" : ".", key);
    return buf;
}

static int get_streams(hv__jctx *cx, json_t *v, uint8_t *count, hv_wire_stream *s)
{
    static const char *const keys[] = { "stream_id", "purpose", "priority", NULL };
    static const char list[] = "payload.streams";
    char k[96];
    if (!json_is_array(v) || json_array_size(v) > HV_STREAMS_MAX)
        return jfail(cx, "%s: expected an array of at most %d objects", list, HV_STREAMS_MAX);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i), *x;
        int64_t n = 0;
        int rv = json_is_object(e)
                     ? check_keys(cx, e, record_key(k, sizeof(k), list, i, ": "), keys)
                     : jfail(cx, "%s[%zu]: expected an object", list, i);
        memset(&s[i], 0, sizeof(s[i]));
        if (rv == 0 && (x = json_object_get(e, "stream_id")) != NULL)
            rv = get_int(cx, record_key(k, sizeof(k), list, i, "stream_id"), x, 0, 65535, &n);
        s[i].stream_id = (uint16_t)n;
        if (rv == 0 && (x = json_object_get(e, "purpose")) != NULL)
            rv = get_enum(cx, record_key(k, sizeof(k), list, i, "purpose"), x, &hv__purpose_names,
                          &s[i].purpose);
        n = 0;
        if (rv == 0 && (x = json_object_get(e, "priority")) != NULL)
            rv = get_int(cx, record_key(k, sizeof(k), list, i, "priority"), x, 0, HV_PRIORITY_MAX,
                         &n);
        s[i].priority = (uint8_t)n;
        if (rv != 0)
            return rv;
    }
    *count = (uint8_t)json_array_size(v);
    return 0;
}

static int get_metrics(hv__jctx *cx, json_t *v, uint8_t *count, hv_wire_metric *e)
{
    static const char *const keys[] = { "name", "kind", "value", NULL };
    static const char list[] = "payload.entries";
    char k[96];
    if (!json_is_array(v) || json_array_size(v) > HV_METRICS_MAX)
        return jfail(cx, "%s: expected an array of at most %d objects", list, HV_METRICS_MAX);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *o = json_array_get(v, i), *x;
        int rv = json_is_object(o)
                     ? check_keys(cx, o, record_key(k, sizeof(k), list, i, ": "), keys)
                     : jfail(cx, "%s[%zu]: expected an object", list, i);
        memset(&e[i], 0, sizeof(e[i]));
        if (rv == 0)
            rv = get_str(cx, record_key(k, sizeof(k), list, i, "name"), json_object_get(o, "name"),
                         &e[i].name);
        if (rv == 0 && (x = json_object_get(o, "kind")) != NULL)
            rv = get_enum(cx, record_key(k, sizeof(k), list, i, "kind"), x, &hv__metric_kind_names,
                          &e[i].kind);
        if (rv == 0 && (x = json_object_get(o, "value")) != NULL)
            rv = get_f64(cx, record_key(k, sizeof(k), list, i, "value"), x, &e[i].value);
        if (rv != 0)
            return rv;
    }
    *count = (uint8_t)json_array_size(v);
    return 0;
}

static int get_fixed_int(hv__jctx *cx, const char *key, json_t *v, int64_t lo, int64_t hi,
                         int64_t *out)
{
    return get_int(cx, key, v, lo, hi, out);
}

static int get_bool(hv__jctx *cx, const char *key, json_t *v, uint8_t *out)
{
    if (!json_is_boolean(v))
        return jfail(cx, "%s: expected true or false", key);
    *out = json_is_true(v) ? 1 : 0;
    return 0;
}

#define INT_INTO(m, f, lo, hi)                                 \
    do {                                                       \
        int64_t x_ = 0;                                        \
        rv = get_fixed_int(cx, "payload." #f, v, lo, hi, &x_); \
        (m)->f = (__typeof__((m)->f))x_;                       \
    } while (0)

#define FJ_U8(m, f, aux)      INT_INTO(m, f, 0, UINT8_MAX)
#define FJ_U16(m, f, aux)     INT_INTO(m, f, 0, UINT16_MAX)
#define FJ_U32(m, f, aux)     INT_INTO(m, f, 0, UINT32_MAX)
#define FJ_I32(m, f, aux)     INT_INTO(m, f, INT32_MIN, INT32_MAX)
#define FJ_PRIO(m, f, aux)    INT_INTO(m, f, 0, HV_PRIORITY_MAX)
#define FJ_BITS(m, f, aux)    INT_INTO(m, f, 0, aux)
#define FJ_U64(m, f, aux)     rv = get_u64(cx, "payload." #f, v, &(m)->f)
#define FJ_F32(m, f, aux)     rv = get_f32(cx, "payload." #f, v, &(m)->f)
#define FJ_UNIT(m, f, aux)    rv = get_f32(cx, "payload." #f, v, &(m)->f)
#define FJ_F64(m, f, aux)     rv = get_f64(cx, "payload." #f, v, &(m)->f)
#define FJ_ENUM(m, f, aux)    rv = get_enum(cx, "payload." #f, v, &(aux), &(m)->f)
#define FJ_BOOL(m, f, aux)    rv = get_bool(cx, "payload." #f, v, &(m)->f)
#define FJ_H32(m, f, aux)     rv = get_hex(cx, "payload." #f, v, (m)->f, HV_HASH_BYTES)
#define FJ_S64(m, f, aux)     rv = get_hex(cx, "payload." #f, v, (m)->f, HV_SIG_BYTES)
#define FJ_STR(m, f, aux)     rv = get_str(cx, "payload." #f, v, &(m)->f)
#define FJ_BYTES(m, f, aux)   rv = get_bytes(cx, "payload." #f, v, &(m)->f)
#define FJ_F32V(m, f, aux)    rv = get_f32v(cx, "payload." #f, v, &(m)->f)
#define FJ_U64V(m, f, aux)    rv = get_u64v(cx, "payload." #f, v, &(m)->f)
#define FJ_U32V(m, f, aux)    rv = get_u32v(cx, "payload." #f, v, &(m)->f)
#define FJ_STREAMS(m, f, aux) rv = get_streams(cx, v, &(m)->stream_count, (m)->f)
#define FJ_METRICS(m, f, aux) rv = get_metrics(cx, v, &(m)->count, (m)->f)
#define FJ_(kind, f, aux)                       \
    if ((v = json_object_get(o, #f)) != NULL) { \
        FJ_##kind(m, f, aux);                   \
        if (rv != 0)                            \
            return rv;                          \
    }
#define KEY_(kind, f, aux) #f,

#define FROMJSON_FN_(NAME, val, lower)                                      \
    static int fromjson_##lower(hv__jctx *cx, json_t *o, hv_msg_##lower *m) \
    {                                                                       \
        static const char *const keys[] = { HV_S_##lower(KEY_) NULL };      \
        int rv = check_keys(cx, o, "payload: ", keys);                      \
        json_t *v;                                                          \
        if (rv != 0)                                                        \
            return rv;                                                      \
        HV_S_##lower(FJ_) return 0;                                         \
    }
HV_MSG_SCHEMA_TYPE_MAP(FROMJSON_FN_)
#undef FROMJSON_FN_

static int header_from_json(hv__jctx *cx, json_t *o, hv_frame *f, int *type)
{
    static const char *const keys[] = { "type",      "seq",   "correlation_id", "timestamp_ns",
                                        "sender_id", "topic", "topic_id",       "flags",
                                        "payload",   NULL };
    if (!json_is_object(o))
        return jfail(cx, "expected a JSON object {\"type\": ..., \"payload\": {...}}");
    int rv = check_keys(cx, o, "", keys);
    if (rv != 0)
        return rv;
    json_t *t = json_object_get(o, "type"), *v;
    if (!json_is_string(t))
        return jfail(cx, "type: expected a message type name");
    *type = hv_msg_type_from_name(json_string_value(t), json_string_length(t));
    if (*type < 0)
        return jfail(cx, "type: unknown message type '%s'", json_string_value(t));
    memset(f, 0, sizeof(*f));
    if (rv == 0 && (v = json_object_get(o, "seq")) != NULL)
        rv = get_u64(cx, "seq", v, &f->seq);
    if (rv == 0 && (v = json_object_get(o, "correlation_id")) != NULL)
        rv = get_u64(cx, "correlation_id", v, &f->correlation_id);
    if (rv == 0 && (v = json_object_get(o, "timestamp_ns")) != NULL)
        rv = get_u64(cx, "timestamp_ns", v, &f->timestamp_ns);
    if (rv == 0 && (v = json_object_get(o, "sender_id")) != NULL)
        rv = get_u64(cx, "sender_id", v, &f->sender_id);
    if (rv == 0 && (v = json_object_get(o, "topic")) != NULL) {
        rv = get_str(cx, "topic", v, &f->topic);
        if (rv == 0 && !hv__topic_valid(f->topic.ptr, f->topic.len, 0))
            rv = jfail(cx, "topic: 1..255 bytes of 0x21..0x7e, no '*' or '>'");
    }
    int64_t id = 0;
    if (rv == 0 && (v = json_object_get(o, "topic_id")) != NULL)
        rv = get_int(cx, "topic_id", v, 0, 65535, &id);
    f->topic_id = (uint16_t)id;
    if (rv == 0 && (v = json_object_get(o, "flags")) != NULL) {
        if (!json_is_array(v))
            return jfail(cx, "flags: expected an array of \"ack_requested\", \"reply\"");
        for (size_t i = 0; i < json_array_size(v); i++) {
            const char *s = json_string_value(json_array_get(v, i));
            if (s && strcmp(s, "ack_requested") == 0)
                f->flags |= HV_FLAG_ACK_REQUESTED;
            else if (s && strcmp(s, "reply") == 0)
                f->flags |= HV_FLAG_REPLY;
            else
                return jfail(cx, "flags: expected \"ack_requested\" or \"reply\"");
        }
    }
    return rv;
}

int hv__json_parse_msg(hv__jctx *cx, json_t *o, hv_frame *f, hv_msg *m)
{
    int type = 0;
    int rv = header_from_json(cx, o, f, &type);
    if (rv != 0)
        return rv;
    json_t *p = json_object_get(o, "payload");
    if (p == NULL)
        p = json_object();
    else
        json_incref(p);
    if (!json_is_object(p)) {
        json_decref(p);
        return jfail(cx, "payload: expected an object");
    }
    memset(m, 0, sizeof(*m));
    m->type = (uint8_t)type;
    switch (type) {
#define FCASE_(NAME, val, lower)                 \
    case HV_MSG_##NAME:                          \
        rv = fromjson_##lower(cx, p, &m->lower); \
        break;
        HV_MSG_SCHEMA_TYPE_MAP(FCASE_)
#undef FCASE_
    case HV_MSG_BATCH:
        rv = HV_ENESTED;
        break;
    default:
        rv = jfail(cx, "type: unknown");
    }
    json_decref(p);
    return rv;
}

int hv__json_encode_failed(hv__jctx *cx, hv_codec *c, const hv_frame *f, const hv_msg *m, int rv,
                           size_t frame_max)
{
    char why[256] = "";
    if (rv == HV_EBADINTERN && c != NULL)
        return jfail(cx, "topic_id: %s", hv_codec_error_detail(c));
    if (rv == HV_EBADTOPIC && f->topic.len == 0 && f->topic_id == 0 && m->type == HV_MSG_PUBLISH)
        return jfail(cx, "topic: a publish needs a topic");
    if (rv == HV_ETOOBIG && hv_msg_encoded_size(m) >= 0)
        return jfail(cx, "the frame would be %llu bytes, over the frame limit of %zu",
                     (unsigned long long)HV_FRAME_HEADER_BYTES + f->topic.len +
                         (unsigned long long)hv_msg_encoded_size(m),
                     frame_max);
    if (hv__msg_explain_rules(m, why, sizeof(why)) == rv && why[0] != '\0')
        return jfail(cx, "%s", why);
    return jfail(cx, "%s message does not encode: %s", hv_msg_type_name(m->type), hv_strerror(rv));
}

/* The frame size limit an encode through c (or without a codec) is held to. */
static uint32_t frame_max_of(const hv_codec *c)
{
    if (c == NULL)
        return HV_FRAME_MAX_CEILING;
    hv_codec_limits lim;
    hv_codec_limits_get(c, &lim);
    return lim.frame_max_bytes;
}

static int encode_one(hv__jctx *cx, hv_codec *c, const hv_frame *f, const hv_msg *m, uint8_t *buf,
                      size_t cap, size_t *needed)
{
    int n =
        c ? hv_codec_encode(c, buf, cap, f, m, needed) : hv_frame_encode(buf, cap, f, m, needed);
    if (n < 0 && n != HV_ENOBUFS)
        hv__json_encode_failed(cx, c, f, m, n, frame_max_of(c));
    return n;
}

/* Frame i of a batch object did not encode: the reason, with the frame's place in the batch. */
static int batch_frame_failed(hv__jctx *cx, hv_codec *c, const hv_frame *f, const hv_msg *m, int rv,
                              size_t i)
{
    char why[256];
    hv__jctx inner;
    hv__jctx_init(&inner, why, sizeof(why));
    hv__json_encode_failed(&inner, c, f, m, rv, frame_max_of(c));
    jfail(cx, "payload.frames[%zu]: %s", i, why);
    return rv;
}

static int encode_batch(hv__jctx *cx, json_t *o, hv_codec *c, uint8_t *buf, size_t cap,
                        size_t *needed)
{
    hv_frame h;
    int type;
    int rv = header_from_json(cx, o, &h, &type);
    if (rv != 0)
        return rv;
    json_t *p = json_object_get(o, "payload"), *frames = json_object_get(p, "frames");
    static const char *const keys[] = { "frames", NULL };
    if (!json_is_object(p) || !json_is_array(frames) || json_array_size(frames) == 0)
        return jfail(cx, "payload.frames: expected a non-empty array of messages");
    if ((rv = check_keys(cx, p, "payload: ", keys)) != 0)
        return rv;
    if (h.topic.len || h.topic_id)
        return jfail(cx, "topic: a batch has no topic");
    hv_batch_writer w;
    size_t need = 0, total = 0;
    rv = hv_batch_begin(&w, buf, cap, &h, &need);
    if (rv == HV_ENOBUFS)
        total = need;
    for (size_t i = 0; (rv == 0 || rv == HV_ENOBUFS) && i < json_array_size(frames); i++) {
        hv_frame f;
        hv_msg m;
        hv__jblock *mark = cx->blocks;
        int r = hv__json_parse_msg(cx, json_array_get(frames, i), &f, &m);
        if (r == HV_ENESTED)
            return jfail(cx, "payload.frames[%zu]: a batch cannot contain a batch", i);
        if (r != 0)
            return r;
        if (rv == HV_ENOBUFS) {
            /* Past the end of the buffer: keep measuring so one retry is enough. */
            int sz = hv_msg_encoded_size(&m);
            if (sz < 0)
                return batch_frame_failed(cx, c, &f, &m, sz, i);
            total += HV_FRAME_HEADER_BYTES + f.topic.len + (size_t)sz;
            hv__jctx_release(cx, mark);
            continue;
        }
        r = c ? hv_codec_batch_add(c, &w, &f, &m, &need) : hv_batch_add(&w, &f, &m, &need);
        if (r == HV_ENOBUFS) {
            total = need;
            rv = r;
        } else if (r < 0) {
            return batch_frame_failed(cx, c, &f, &m, r, i);
        }
        hv__jctx_release(cx, mark); /* the frame is in the batch now */
    }
    if (rv == HV_ENOBUFS) {
        if (needed)
            *needed = total;
        return rv;
    }
    if (rv != 0)
        return rv;
    int n = hv_batch_finish(&w);
    return c && n > 0 ? hv_codec_compress_frame(c, buf, (size_t)n) : n;
}

int hv__json_encode(hv__jctx *cx, json_t *o, hv_codec *c, uint8_t *buf, size_t cap, size_t *needed)
{
    json_t *t = json_is_object(o) ? json_object_get(o, "type") : NULL;
    if (json_is_string(t) && strcmp(json_string_value(t), "batch") == 0)
        return encode_batch(cx, o, c, buf, cap, needed);
    hv_frame f;
    hv_msg m;
    int rv = hv__json_parse_msg(cx, o, &f, &m);
    if (rv != 0)
        return rv;
    return encode_one(cx, c, &f, &m, buf, cap, needed);
}

int hv_json_to_frame(const char *json, size_t len, uint8_t *buf, size_t cap, size_t *needed,
                     char *errbuf, size_t errlen)
{
    hv__jctx cx;
    hv__jctx_init(&cx, errbuf, errlen);
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (o == NULL) {
        jfail(&cx, "line %d column %d: %s", je.line, je.column, je.text);
        return HV_EBADJSON;
    }
    int rv = hv__json_encode(&cx, o, NULL, buf, cap, needed);
    json_decref(o);
    hv__jctx_free(&cx);
    return rv;
}

/*
 * `hivewire-bench codec`: encode + decode of a realistic message mix with hivewire's HVW1 codec
 * and, interleaved in the same run, msgpack-c, protobuf-c and jansson JSON.
 *
 * Workloads: heartbeat, task result (32-byte output), pattern result with a 64-float vector,
 * signed vote (32-byte hash + 64-byte signature), publish of 256 bytes on a topic, and the mix
 * of all five in turn. Every implementation encodes all header fields (type, sequence,
 * correlation id, timestamp, sender, topic) and all payload fields, then decodes into the same
 * hv_frame + hv_msg structures (vectors, hashes and signatures copied out where the format
 * cannot hand out a view), and the benchmark reads a field of each result. Before timing, each
 * implementation's decoded messages are checked equal to the originals (hv_msg_equal).
 *
 * One sample = one round of `iters` encode+decode pairs of one workload by one implementation;
 * rounds run hivewire, msgpack, protobuf, json, hivewire, ... so ratios compare neighbours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#include "bench.h"

#ifdef HV_CODEC_PEERS
#include <msgpack.h>

#include "codec_bench.pb-c.h"
#endif

enum { W_HEARTBEAT, W_TASK_RESULT, W_PATTERN, W_VOTE, W_PUBLISH, W_COUNT, W_MIX = W_COUNT };
static const char *const wnames[] = { "heartbeat",   "task_result",  "pattern_result_64f",
                                      "vote_signed", "publish_256B", "mix" };

#define VARIANTS  64
#define VEC_N     64
#define DATA_N    256
#define OUTPUT_N  32
#define BUF_BYTES 8192

typedef struct workload {
    hv_frame f[W_COUNT][VARIANTS];
    hv_msg m[W_COUNT][VARIANTS];
    float vec[VARIANTS][VEC_N];
    uint8_t data[VARIANTS][DATA_N];
    uint8_t output[VARIANTS][OUTPUT_N];
} workload;

/* Decoded values land here; peers copy vectors and blobs the format cannot lend. */
typedef struct decoded {
    hv_frame f;
    hv_msg m;
    float vec[VEC_N];
    uint8_t blob[DATA_N * 2];
} decoded;

typedef struct impl {
    const char *name;
    /* Encodes workload message (w, v) into out; returns bytes or 0 on failure. */
    size_t (*enc)(const workload *wl, int w, int v, uint8_t *out, size_t cap);
    /* Decodes into d; returns 0 or nonzero on failure. */
    int (*dec)(int w, const uint8_t *in, size_t len, decoded *d);
} impl;

static workload WL;
static uint8_t BUF[BUF_BYTES];
static volatile uint64_t sink;

/* ---- The workload ------------------------------------------------------------------------ */

static void build_workload(uint64_t seed)
{
    hv_rng r;
    hv_rng_seed(&r, seed);
    for (int v = 0; v < VARIANTS; v++) {
        for (int w = 0; w < W_COUNT; w++) {
            hv_frame *f = &WL.f[w][v];
            memset(f, 0, sizeof(*f));
            f->seq = 1000 + hv_rng_below(&r, 1u << 30);
            f->correlation_id = hv_rng_below(&r, 1u << 20);
            f->timestamp_ns = 1700000000000000000ull + hv_rng_below(&r, 1ull << 40);
            f->sender_id = 1 + hv_rng_below(&r, 1000);
            memset(&WL.m[w][v], 0, sizeof(hv_msg));
        }
        for (int i = 0; i < VEC_N; i++)
            WL.vec[v][i] = (float)hv_rng_normal(&r);
        for (int i = 0; i < DATA_N; i++)
            WL.data[v][i] = (uint8_t)hv_rng_next(&r);
        for (int i = 0; i < OUTPUT_N; i++)
            WL.output[v][i] = (uint8_t)hv_rng_next(&r);

        hv_msg *m = &WL.m[W_HEARTBEAT][v];
        m->type = HV_MSG_HEARTBEAT;
        m->heartbeat.memory_bytes = hv_rng_below(&r, 1ull << 34);
        m->heartbeat.load = (float)hv_rng_uniform(&r);
        m->heartbeat.active_tasks = (uint32_t)hv_rng_below(&r, 64);
        m->heartbeat.queue_depth = (uint32_t)hv_rng_below(&r, 4096);

        m = &WL.m[W_TASK_RESULT][v];
        m->type = HV_MSG_TASK_RESULT;
        m->task_result.task_id = hv_rng_below(&r, 1ull << 40);
        m->task_result.duration_ns = hv_rng_below(&r, 1ull << 24);
        m->task_result.kind = HV_WIRE_TASK_PATTERN_MATCH;
        m->task_result.success = 1;
        m->task_result.output.ptr = WL.output[v];
        m->task_result.output.len = OUTPUT_N;
        m->task_result.error = hv_str_from("");

        m = &WL.m[W_PATTERN][v];
        m->type = HV_MSG_PATTERN_RESULT;
        m->pattern_result.pattern_id = hv_rng_below(&r, 1ull << 32);
        m->pattern_result.compute_ns = hv_rng_below(&r, 1ull << 20);
        m->pattern_result.similarity = (float)hv_rng_uniform(&r);
        m->pattern_result.confidence = (float)hv_rng_uniform(&r);
        m->pattern_result.expected_outcome = (float)hv_rng_normal(&r);
        m->pattern_result.actual_outcome = (float)hv_rng_normal(&r);
        m->pattern_result.has_actual = 1;
        m->pattern_result.vector.ptr = WL.vec[v];
        m->pattern_result.vector.n = VEC_N;
        m->pattern_result.context = hv_str_from("spx.5m.trend");

        m = &WL.m[W_VOTE][v];
        m->type = HV_MSG_VOTE;
        m->vote.proposal_id = hv_rng_below(&r, 1ull << 40);
        m->vote.voter = 1 + hv_rng_below(&r, 7);
        m->vote.round = (uint32_t)hv_rng_below(&r, 5);
        m->vote.weight = 1;
        m->vote.choice = (uint8_t)hv_rng_below(&r, 3);
        m->vote.auth = HV_WIRE_AUTH_ED25519;
        for (int i = 0; i < HV_HASH_BYTES; i++)
            m->vote.payload_hash[i] = (uint8_t)hv_rng_next(&r);
        for (int i = 0; i < HV_SIG_BYTES; i++)
            m->vote.signature[i] = (uint8_t)hv_rng_next(&r);

        m = &WL.m[W_PUBLISH][v];
        m->type = HV_MSG_PUBLISH;
        m->publish.coalesce_key = hv_rng_below(&r, 1u << 16);
        m->publish.ttl_ms = 300000;
        m->publish.priority = HV_WIRE_PRIO_NORMAL;
        m->publish.content_type = HV_WIRE_CONTENT_OCTETS;
        m->publish.data.ptr = WL.data[v];
        m->publish.data.len = DATA_N;
        WL.f[W_PUBLISH][v].topic = hv_str_from("md.spx.bar.1m");
    }
}

/* Reads one field of a decoded message, so no decoder's work can be optimised away. */
static uint64_t use(const decoded *d)
{
    const hv_msg *m = &d->m;
    uint64_t x = d->f.seq ^ d->f.sender_id;
    switch (m->type) {
    case HV_MSG_HEARTBEAT:
        return x + m->heartbeat.active_tasks;
    case HV_MSG_TASK_RESULT:
        return x + m->task_result.output.ptr[OUTPUT_N - 1];
    case HV_MSG_PATTERN_RESULT:
        return x + (uint64_t)(hv_f32v_get(m->pattern_result.vector, VEC_N - 1) > 0);
    case HV_MSG_VOTE:
        return x + m->vote.signature[HV_SIG_BYTES - 1];
    case HV_MSG_PUBLISH:
        return x + m->publish.data.ptr[DATA_N - 1] + d->f.topic.len;
    default:
        return x;
    }
}

/* ---- hivewire ---------------------------------------------------------------------------- */

static size_t hw_enc(const workload *wl, int w, int v, uint8_t *out, size_t cap)
{
    int n = hv_frame_encode(out, cap, &wl->f[w][v], &wl->m[w][v], NULL);
    return n > 0 ? (size_t)n : 0;
}

static int hw_dec(int w, const uint8_t *in, size_t len, decoded *d)
{
    (void)w;
    return hv_decode(in, len, NULL, NULL, 0, &d->f, &d->m) < 0;
}

/* ---- jansson JSON ------------------------------------------------------------------------ */

static void j_set(json_t *o, const char *k, json_t *v)
{
    json_object_set_new_nocheck(o, k, v);
}

static json_t *j_b64(const uint8_t *p, size_t n)
{
    char s[DATA_N * 2];
    sodium_bin2base64(s, sizeof(s), p, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string_nocheck(s);
}

static int j_unb64(json_t *v, uint8_t *out, size_t cap, size_t *n)
{
    const char *s = json_string_value(v);
    return s == NULL || sodium_base642bin(out, cap, s, json_string_length(v), NULL, n, NULL,
                                          sodium_base64_VARIANT_ORIGINAL) != 0;
}

static size_t js_enc(const workload *wl, int w, int v, uint8_t *out, size_t cap)
{
    const hv_frame *f = &wl->f[w][v];
    const hv_msg *m = &wl->m[w][v];
    json_t *o = json_object(), *p = json_object();
    j_set(o, "type", json_integer(m->type));
    j_set(o, "seq", json_integer((json_int_t)f->seq));
    j_set(o, "correlation_id", json_integer((json_int_t)f->correlation_id));
    j_set(o, "timestamp_ns", json_integer((json_int_t)f->timestamp_ns));
    j_set(o, "sender_id", json_integer((json_int_t)f->sender_id));
    switch (w) {
    case W_HEARTBEAT:
        j_set(p, "memory_bytes", json_integer((json_int_t)m->heartbeat.memory_bytes));
        j_set(p, "load", json_real(m->heartbeat.load));
        j_set(p, "active_tasks", json_integer(m->heartbeat.active_tasks));
        j_set(p, "queue_depth", json_integer(m->heartbeat.queue_depth));
        break;
    case W_TASK_RESULT:
        j_set(p, "task_id", json_integer((json_int_t)m->task_result.task_id));
        j_set(p, "duration_ns", json_integer((json_int_t)m->task_result.duration_ns));
        j_set(p, "error_code", json_integer(m->task_result.error_code));
        j_set(p, "kind", json_integer(m->task_result.kind));
        j_set(p, "success", json_boolean(m->task_result.success));
        j_set(p, "output", j_b64(m->task_result.output.ptr, m->task_result.output.len));
        j_set(p, "error", json_stringn(m->task_result.error.ptr, m->task_result.error.len));
        break;
    case W_PATTERN: {
        const hv_msg_pattern_result *x = &m->pattern_result;
        j_set(p, "pattern_id", json_integer((json_int_t)x->pattern_id));
        j_set(p, "compute_ns", json_integer((json_int_t)x->compute_ns));
        j_set(p, "similarity", json_real(x->similarity));
        j_set(p, "confidence", json_real(x->confidence));
        j_set(p, "expected_outcome", json_real(x->expected_outcome));
        j_set(p, "actual_outcome", json_real(x->actual_outcome));
        j_set(p, "has_actual", json_boolean(x->has_actual));
        json_t *a = json_array();
        for (uint32_t i = 0; i < x->vector.n; i++)
            json_array_append_new(a, json_real(hv_f32v_get(x->vector, i)));
        j_set(p, "vector", a);
        j_set(p, "context", json_stringn(x->context.ptr, x->context.len));
        break;
    }
    case W_VOTE:
        j_set(p, "proposal_id", json_integer((json_int_t)m->vote.proposal_id));
        j_set(p, "voter", json_integer((json_int_t)m->vote.voter));
        j_set(p, "round", json_integer(m->vote.round));
        j_set(p, "weight", json_integer(m->vote.weight));
        j_set(p, "choice", json_integer(m->vote.choice));
        j_set(p, "auth", json_integer(m->vote.auth));
        j_set(p, "payload_hash", j_b64(m->vote.payload_hash, HV_HASH_BYTES));
        j_set(p, "signature", j_b64(m->vote.signature, HV_SIG_BYTES));
        break;
    default:
        j_set(o, "topic", json_stringn(f->topic.ptr, f->topic.len));
        j_set(p, "coalesce_key", json_integer((json_int_t)m->publish.coalesce_key));
        j_set(p, "ttl_ms", json_integer(m->publish.ttl_ms));
        j_set(p, "priority", json_integer(m->publish.priority));
        j_set(p, "content_type", json_integer(m->publish.content_type));
        j_set(p, "data", j_b64(m->publish.data.ptr, m->publish.data.len));
        break;
    }
    j_set(o, "payload", p);
    size_t n = json_dumpb(o, (char *)out, cap, JSON_COMPACT);
    json_decref(o);
    return n <= cap ? n : 0;
}

static uint64_t jint(json_t *o, const char *k)
{
    return (uint64_t)json_integer_value(json_object_get(o, k));
}

static float jflt(json_t *o, const char *k)
{
    return (float)json_real_value(json_object_get(o, k));
}

static int js_dec_payload(int w, json_t *p, decoded *d)
{
    hv_msg *m = &d->m;
    size_t n = 0;
    int bad = 0;
    switch (w) {
    case W_HEARTBEAT:
        m->heartbeat.memory_bytes = jint(p, "memory_bytes");
        m->heartbeat.load = jflt(p, "load");
        m->heartbeat.active_tasks = (uint32_t)jint(p, "active_tasks");
        m->heartbeat.queue_depth = (uint32_t)jint(p, "queue_depth");
        return 0;
    case W_TASK_RESULT:
        m->task_result.task_id = jint(p, "task_id");
        m->task_result.duration_ns = jint(p, "duration_ns");
        m->task_result.error_code = (int32_t)jint(p, "error_code");
        m->task_result.kind = (uint8_t)jint(p, "kind");
        m->task_result.success = json_is_true(json_object_get(p, "success"));
        bad = j_unb64(json_object_get(p, "output"), d->blob, sizeof(d->blob), &n);
        m->task_result.output.ptr = d->blob;
        m->task_result.output.len = (uint32_t)n;
        m->task_result.error.ptr = "";
        m->task_result.error.len = (uint32_t)json_string_length(json_object_get(p, "error"));
        return bad;
    case W_PATTERN: {
        hv_msg_pattern_result *x = &m->pattern_result;
        x->pattern_id = jint(p, "pattern_id");
        x->compute_ns = jint(p, "compute_ns");
        x->similarity = jflt(p, "similarity");
        x->confidence = jflt(p, "confidence");
        x->expected_outcome = jflt(p, "expected_outcome");
        x->actual_outcome = jflt(p, "actual_outcome");
        x->has_actual = json_is_true(json_object_get(p, "has_actual"));
        json_t *a = json_object_get(p, "vector");
        size_t k = json_array_size(a);
        if (k > VEC_N)
            return 1;
        for (size_t i = 0; i < k; i++)
            d->vec[i] = (float)json_real_value(json_array_get(a, i));
        x->vector.ptr = d->vec;
        x->vector.n = (uint32_t)k;
        json_t *c = json_object_get(p, "context");
        size_t cl = json_string_length(c);
        if (cl > sizeof(d->blob))
            return 1;
        memcpy(d->blob, json_string_value(c), cl); /* the string dies with the JSON tree */
        x->context.ptr = (const char *)d->blob;
        x->context.len = (uint32_t)cl;
        return 0;
    }
    case W_VOTE:
        m->vote.proposal_id = jint(p, "proposal_id");
        m->vote.voter = jint(p, "voter");
        m->vote.round = (uint32_t)jint(p, "round");
        m->vote.weight = (uint32_t)jint(p, "weight");
        m->vote.choice = (uint8_t)jint(p, "choice");
        m->vote.auth = (uint8_t)jint(p, "auth");
        bad |= j_unb64(json_object_get(p, "payload_hash"), m->vote.payload_hash, HV_HASH_BYTES, &n);
        bad |= j_unb64(json_object_get(p, "signature"), m->vote.signature, HV_SIG_BYTES, &n);
        return bad;
    default:
        m->publish.coalesce_key = jint(p, "coalesce_key");
        m->publish.ttl_ms = (uint32_t)jint(p, "ttl_ms");
        m->publish.priority = (uint8_t)jint(p, "priority");
        m->publish.content_type = (uint8_t)jint(p, "content_type");
        bad = j_unb64(json_object_get(p, "data"), d->blob, sizeof(d->blob), &n);
        m->publish.data.ptr = d->blob;
        m->publish.data.len = (uint32_t)n;
        return bad;
    }
}

static int js_dec(int w, const uint8_t *in, size_t len, decoded *d)
{
    json_t *o = json_loadb((const char *)in, len, 0, NULL);
    if (o == NULL)
        return 1;
    d->m.type = (uint8_t)jint(o, "type");
    d->f.seq = jint(o, "seq");
    d->f.correlation_id = jint(o, "correlation_id");
    d->f.timestamp_ns = jint(o, "timestamp_ns");
    d->f.sender_id = jint(o, "sender_id");
    json_t *t = json_object_get(o, "topic");
    d->f.topic.len = (uint32_t)json_string_length(t);
    d->f.topic.ptr = t ? WL.f[W_PUBLISH][0].topic.ptr : NULL; /* compared by content below */
    if (t && memcmp(json_string_value(t), d->f.topic.ptr, d->f.topic.len) != 0)
        d->f.topic.len = 0;
    int bad = js_dec_payload(w, json_object_get(o, "payload"), d);
    json_decref(o);
    return bad;
}

#ifdef HV_CODEC_PEERS
/* ---- msgpack-c --------------------------------------------------------------------------- */

static msgpack_zone MP_ZONE;

/* Packs straight into the caller's buffer (no sbuffer copy), as hivewire and protobuf-c do. */
typedef struct mp_out {
    uint8_t *p;
    size_t len, cap;
} mp_out;

static int mp_write(void *data, const char *buf, size_t len)
{
    mp_out *o = data;
    if (len > o->cap - o->len)
        return -1;
    memcpy(o->p + o->len, buf, len);
    o->len += len;
    return 0;
}

static size_t mp_enc(const workload *wl, int w, int v, uint8_t *out, size_t cap)
{
    const hv_frame *f = &wl->f[w][v];
    const hv_msg *m = &wl->m[w][v];
    static const int nfields[W_COUNT] = { 4, 7, 9, 8, 6 };
    msgpack_packer pk;
    mp_out o = { out, 0, cap };
    msgpack_packer_init(&pk, &o, mp_write);
    msgpack_pack_array(&pk, 5 + (size_t)nfields[w]);
    msgpack_pack_uint32(&pk, m->type);
    msgpack_pack_uint64(&pk, f->seq);
    msgpack_pack_uint64(&pk, f->correlation_id);
    msgpack_pack_uint64(&pk, f->timestamp_ns);
    msgpack_pack_uint64(&pk, f->sender_id);
    switch (w) {
    case W_HEARTBEAT:
        msgpack_pack_uint64(&pk, m->heartbeat.memory_bytes);
        msgpack_pack_float(&pk, m->heartbeat.load);
        msgpack_pack_uint32(&pk, m->heartbeat.active_tasks);
        msgpack_pack_uint32(&pk, m->heartbeat.queue_depth);
        break;
    case W_TASK_RESULT:
        msgpack_pack_uint64(&pk, m->task_result.task_id);
        msgpack_pack_uint64(&pk, m->task_result.duration_ns);
        msgpack_pack_int32(&pk, m->task_result.error_code);
        msgpack_pack_uint8(&pk, m->task_result.kind);
        m->task_result.success ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        msgpack_pack_bin_with_body(&pk, m->task_result.output.ptr, m->task_result.output.len);
        msgpack_pack_str_with_body(&pk, m->task_result.error.ptr, m->task_result.error.len);
        break;
    case W_PATTERN: {
        const hv_msg_pattern_result *x = &m->pattern_result;
        msgpack_pack_uint64(&pk, x->pattern_id);
        msgpack_pack_uint64(&pk, x->compute_ns);
        msgpack_pack_float(&pk, x->similarity);
        msgpack_pack_float(&pk, x->confidence);
        msgpack_pack_float(&pk, x->expected_outcome);
        msgpack_pack_float(&pk, x->actual_outcome);
        x->has_actual ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
        msgpack_pack_array(&pk, x->vector.n);
        for (uint32_t i = 0; i < x->vector.n; i++)
            msgpack_pack_float(&pk, hv_f32v_get(x->vector, i));
        msgpack_pack_str_with_body(&pk, x->context.ptr, x->context.len);
        break;
    }
    case W_VOTE:
        msgpack_pack_uint64(&pk, m->vote.proposal_id);
        msgpack_pack_uint64(&pk, m->vote.voter);
        msgpack_pack_uint32(&pk, m->vote.round);
        msgpack_pack_uint32(&pk, m->vote.weight);
        msgpack_pack_uint8(&pk, m->vote.choice);
        msgpack_pack_uint8(&pk, m->vote.auth);
        msgpack_pack_bin_with_body(&pk, m->vote.payload_hash, HV_HASH_BYTES);
        msgpack_pack_bin_with_body(&pk, m->vote.signature, HV_SIG_BYTES);
        break;
    default:
        msgpack_pack_str_with_body(&pk, f->topic.ptr, f->topic.len);
        msgpack_pack_uint64(&pk, m->publish.coalesce_key);
        msgpack_pack_uint32(&pk, m->publish.ttl_ms);
        msgpack_pack_uint8(&pk, m->publish.priority);
        msgpack_pack_uint8(&pk, m->publish.content_type);
        msgpack_pack_bin_with_body(&pk, m->publish.data.ptr, m->publish.data.len);
        break;
    }
    return o.len;
}

static int mp_bad;

static uint64_t mpu(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        mp_bad = 1;
    return o->via.u64;
}

static float mpf(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_FLOAT32 && o->type != MSGPACK_OBJECT_FLOAT64)
        mp_bad = 1;
    return (float)o->via.f64;
}

static int mpb(const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_BOOLEAN)
        mp_bad = 1;
    return o->via.boolean;
}

static hv_bytes mpbin(const msgpack_object *o)
{
    hv_bytes b = { NULL, 0 };
    if (o->type != MSGPACK_OBJECT_BIN) {
        mp_bad = 1;
        return b;
    }
    b.ptr = (const uint8_t *)o->via.bin.ptr;
    b.len = o->via.bin.size;
    return b;
}

static hv_str mpstr(const msgpack_object *o)
{
    hv_str s = { NULL, 0 };
    if (o->type != MSGPACK_OBJECT_STR) {
        mp_bad = 1;
        return s;
    }
    s.ptr = o->via.str.ptr;
    s.len = o->via.str.size;
    return s;
}

static void mp_copy(uint8_t *dst, const msgpack_object *o, size_t n)
{
    hv_bytes b = mpbin(o);
    if (b.len != n) {
        mp_bad = 1;
        return;
    }
    memcpy(dst, b.ptr, n);
}

static void mp_dec_payload(int w, const msgpack_object *a, decoded *d)
{
    hv_msg *m = &d->m;
    switch (w) {
    case W_HEARTBEAT:
        m->heartbeat.memory_bytes = mpu(&a[5]);
        m->heartbeat.load = mpf(&a[6]);
        m->heartbeat.active_tasks = (uint32_t)mpu(&a[7]);
        m->heartbeat.queue_depth = (uint32_t)mpu(&a[8]);
        break;
    case W_TASK_RESULT:
        m->task_result.task_id = mpu(&a[5]);
        m->task_result.duration_ns = mpu(&a[6]);
        m->task_result.error_code = (int32_t)a[7].via.i64;
        m->task_result.kind = (uint8_t)mpu(&a[8]);
        m->task_result.success = (uint8_t)mpb(&a[9]);
        m->task_result.output = mpbin(&a[10]);
        m->task_result.error = mpstr(&a[11]);
        break;
    case W_PATTERN: {
        hv_msg_pattern_result *x = &m->pattern_result;
        x->pattern_id = mpu(&a[5]);
        x->compute_ns = mpu(&a[6]);
        x->similarity = mpf(&a[7]);
        x->confidence = mpf(&a[8]);
        x->expected_outcome = mpf(&a[9]);
        x->actual_outcome = mpf(&a[10]);
        x->has_actual = (uint8_t)mpb(&a[11]);
        if (a[12].type != MSGPACK_OBJECT_ARRAY || a[12].via.array.size > VEC_N) {
            mp_bad = 1;
            break;
        }
        for (uint32_t i = 0; i < a[12].via.array.size; i++)
            d->vec[i] = mpf(&a[12].via.array.ptr[i]);
        x->vector.ptr = d->vec;
        x->vector.n = a[12].via.array.size;
        x->context = mpstr(&a[13]);
        break;
    }
    case W_VOTE:
        m->vote.proposal_id = mpu(&a[5]);
        m->vote.voter = mpu(&a[6]);
        m->vote.round = (uint32_t)mpu(&a[7]);
        m->vote.weight = (uint32_t)mpu(&a[8]);
        m->vote.choice = (uint8_t)mpu(&a[9]);
        m->vote.auth = (uint8_t)mpu(&a[10]);
        mp_copy(m->vote.payload_hash, &a[11], HV_HASH_BYTES);
        mp_copy(m->vote.signature, &a[12], HV_SIG_BYTES);
        break;
    default:
        d->f.topic = mpstr(&a[5]);
        m->publish.coalesce_key = mpu(&a[6]);
        m->publish.ttl_ms = (uint32_t)mpu(&a[7]);
        m->publish.priority = (uint8_t)mpu(&a[8]);
        m->publish.content_type = (uint8_t)mpu(&a[9]);
        m->publish.data = mpbin(&a[10]);
        break;
    }
}

static int mp_dec(int w, const uint8_t *in, size_t len, decoded *d)
{
    static const uint32_t nfields[W_COUNT] = { 9, 12, 14, 13, 11 };
    msgpack_object o;
    size_t off = 0;
    msgpack_zone_clear(&MP_ZONE);
    if (msgpack_unpack((const char *)in, len, &off, &MP_ZONE, &o) != MSGPACK_UNPACK_SUCCESS ||
        o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != nfields[w])
        return 1;
    const msgpack_object *a = o.via.array.ptr;
    mp_bad = 0;
    d->m.type = (uint8_t)mpu(&a[0]);
    d->f.seq = mpu(&a[1]);
    d->f.correlation_id = mpu(&a[2]);
    d->f.timestamp_ns = mpu(&a[3]);
    d->f.sender_id = mpu(&a[4]);
    d->f.topic.len = 0;
    mp_dec_payload(w, a, d);
    return mp_bad;
}

/* ---- protobuf-c -------------------------------------------------------------------------- */

#define PB_HEADER(x, f, m)                        \
    do {                                          \
        (x).type = (m)->type;                     \
        (x).seq = (f)->seq;                       \
        (x).correlation_id = (f)->correlation_id; \
        (x).timestamp_ns = (f)->timestamp_ns;     \
        (x).sender_id = (f)->sender_id;           \
    } while (0)

static size_t pb_enc(const workload *wl, int w, int v, uint8_t *out, size_t cap)
{
    const hv_frame *f = &wl->f[w][v];
    const hv_msg *m = &wl->m[w][v];
    (void)cap; /* every message here packs to well under BUF_BYTES */
    switch (w) {
    case W_HEARTBEAT: {
        Hvbench__Heartbeat x = HVBENCH__HEARTBEAT__INIT;
        PB_HEADER(x, f, m);
        x.memory_bytes = m->heartbeat.memory_bytes;
        x.load = m->heartbeat.load;
        x.active_tasks = m->heartbeat.active_tasks;
        x.queue_depth = m->heartbeat.queue_depth;
        return hvbench__heartbeat__pack(&x, out);
    }
    case W_TASK_RESULT: {
        Hvbench__TaskResult x = HVBENCH__TASK_RESULT__INIT;
        PB_HEADER(x, f, m);
        x.task_id = m->task_result.task_id;
        x.duration_ns = m->task_result.duration_ns;
        x.error_code = m->task_result.error_code;
        x.kind = m->task_result.kind;
        x.success = m->task_result.success;
        x.output.data = (uint8_t *)m->task_result.output.ptr;
        x.output.len = m->task_result.output.len;
        x.error = (char *)m->task_result.error.ptr; /* NUL-terminated literal */
        return hvbench__task_result__pack(&x, out);
    }
    case W_PATTERN: {
        const hv_msg_pattern_result *p = &m->pattern_result;
        Hvbench__PatternResult x = HVBENCH__PATTERN_RESULT__INIT;
        PB_HEADER(x, f, m);
        x.pattern_id = p->pattern_id;
        x.compute_ns = p->compute_ns;
        x.similarity = p->similarity;
        x.confidence = p->confidence;
        x.expected_outcome = p->expected_outcome;
        x.actual_outcome = p->actual_outcome;
        x.has_actual = p->has_actual;
        x.n_vector = p->vector.n;
        x.vector = (float *)p->vector.ptr;
        x.context = (char *)p->context.ptr;
        return hvbench__pattern_result__pack(&x, out);
    }
    case W_VOTE: {
        Hvbench__Vote x = HVBENCH__VOTE__INIT;
        PB_HEADER(x, f, m);
        x.proposal_id = m->vote.proposal_id;
        x.voter = m->vote.voter;
        x.round = m->vote.round;
        x.weight = m->vote.weight;
        x.choice = m->vote.choice;
        x.auth = m->vote.auth;
        x.payload_hash.data = (uint8_t *)m->vote.payload_hash;
        x.payload_hash.len = HV_HASH_BYTES;
        x.signature.data = (uint8_t *)m->vote.signature;
        x.signature.len = HV_SIG_BYTES;
        return hvbench__vote__pack(&x, out);
    }
    default: {
        Hvbench__Publish x = HVBENCH__PUBLISH__INIT;
        PB_HEADER(x, f, m);
        x.topic = (char *)f->topic.ptr;
        x.coalesce_key = m->publish.coalesce_key;
        x.ttl_ms = m->publish.ttl_ms;
        x.priority = m->publish.priority;
        x.content_type = m->publish.content_type;
        x.data.data = (uint8_t *)m->publish.data.ptr;
        x.data.len = m->publish.data.len;
        return hvbench__publish__pack(&x, out);
    }
    }
}

#define PB_HEADER_OUT(x, d)                          \
    do {                                             \
        (d)->m.type = (uint8_t)(x)->type;            \
        (d)->f.seq = (x)->seq;                       \
        (d)->f.correlation_id = (x)->correlation_id; \
        (d)->f.timestamp_ns = (x)->timestamp_ns;     \
        (d)->f.sender_id = (x)->sender_id;           \
        (d)->f.topic.len = 0;                        \
    } while (0)

/* Decodes, copies what the caller keeps into d, frees the unpacked message (the usual use). */
static int pb_dec(int w, const uint8_t *in, size_t len, decoded *d)
{
    hv_msg *m = &d->m;
    switch (w) {
    case W_HEARTBEAT: {
        Hvbench__Heartbeat *x = hvbench__heartbeat__unpack(NULL, len, in);
        if (x == NULL)
            return 1;
        PB_HEADER_OUT(x, d);
        m->heartbeat.memory_bytes = x->memory_bytes;
        m->heartbeat.load = x->load;
        m->heartbeat.active_tasks = x->active_tasks;
        m->heartbeat.queue_depth = x->queue_depth;
        hvbench__heartbeat__free_unpacked(x, NULL);
        return 0;
    }
    case W_TASK_RESULT: {
        Hvbench__TaskResult *x = hvbench__task_result__unpack(NULL, len, in);
        if (x == NULL || x->output.len > sizeof(d->blob))
            return 1;
        PB_HEADER_OUT(x, d);
        m->task_result.task_id = x->task_id;
        m->task_result.duration_ns = x->duration_ns;
        m->task_result.error_code = x->error_code;
        m->task_result.kind = (uint8_t)x->kind;
        m->task_result.success = x->success;
        memcpy(d->blob, x->output.data, x->output.len);
        m->task_result.output.ptr = d->blob;
        m->task_result.output.len = (uint32_t)x->output.len;
        m->task_result.error.ptr = "";
        m->task_result.error.len = (uint32_t)strlen(x->error);
        hvbench__task_result__free_unpacked(x, NULL);
        return 0;
    }
    case W_PATTERN: {
        Hvbench__PatternResult *x = hvbench__pattern_result__unpack(NULL, len, in);
        if (x == NULL || x->n_vector > VEC_N)
            return 1;
        PB_HEADER_OUT(x, d);
        hv_msg_pattern_result *p = &m->pattern_result;
        p->pattern_id = x->pattern_id;
        p->compute_ns = x->compute_ns;
        p->similarity = x->similarity;
        p->confidence = x->confidence;
        p->expected_outcome = x->expected_outcome;
        p->actual_outcome = x->actual_outcome;
        p->has_actual = x->has_actual;
        memcpy(d->vec, x->vector, x->n_vector * sizeof(float));
        p->vector.ptr = d->vec;
        p->vector.n = (uint32_t)x->n_vector;
        p->context.len = (uint32_t)strlen(x->context);
        memcpy(d->blob, x->context, p->context.len);
        p->context.ptr = (const char *)d->blob;
        hvbench__pattern_result__free_unpacked(x, NULL);
        return 0;
    }
    case W_VOTE: {
        Hvbench__Vote *x = hvbench__vote__unpack(NULL, len, in);
        if (x == NULL || x->payload_hash.len != HV_HASH_BYTES || x->signature.len != HV_SIG_BYTES)
            return 1;
        PB_HEADER_OUT(x, d);
        m->vote.proposal_id = x->proposal_id;
        m->vote.voter = x->voter;
        m->vote.round = x->round;
        m->vote.weight = x->weight;
        m->vote.choice = (uint8_t)x->choice;
        m->vote.auth = (uint8_t)x->auth;
        memcpy(m->vote.payload_hash, x->payload_hash.data, HV_HASH_BYTES);
        memcpy(m->vote.signature, x->signature.data, HV_SIG_BYTES);
        hvbench__vote__free_unpacked(x, NULL);
        return 0;
    }
    default: {
        Hvbench__Publish *x = hvbench__publish__unpack(NULL, len, in);
        if (x == NULL || x->data.len > sizeof(d->blob) - 64)
            return 1;
        PB_HEADER_OUT(x, d);
        m->publish.coalesce_key = x->coalesce_key;
        m->publish.ttl_ms = x->ttl_ms;
        m->publish.priority = (uint8_t)x->priority;
        m->publish.content_type = (uint8_t)x->content_type;
        memcpy(d->blob, x->data.data, x->data.len);
        m->publish.data.ptr = d->blob;
        m->publish.data.len = (uint32_t)x->data.len;
        size_t tl = strlen(x->topic);
        memcpy(d->blob + DATA_N + 32, x->topic, tl < 64 ? tl : 64);
        d->f.topic.ptr = (const char *)d->blob + DATA_N + 32;
        d->f.topic.len = (uint32_t)(tl < 64 ? tl : 64);
        hvbench__publish__free_unpacked(x, NULL);
        return 0;
    }
    }
}
#endif

/* ---- Driver ------------------------------------------------------------------------------ */

static const impl IMPLS[] = {
    { "hivewire", hw_enc, hw_dec },
#ifdef HV_CODEC_PEERS
    { "msgpack-c", mp_enc, mp_dec },
    { "protobuf-c", pb_enc, pb_dec },
#endif
    { "jansson", js_enc, js_dec },
};
#define NIMPLS (sizeof(IMPLS) / sizeof(IMPLS[0]))

static int wtype(int w, unsigned i)
{
    return w == W_MIX ? (int)(i % W_COUNT) : w;
}

/* One timed round: ns per encode+decode pair. Also reports allocations and bytes per message,
 * and adds to *fails the messages that failed to encode or decode (a failure the bench must not
 * time as if it were a success). */
static double run_round(const impl *im, int w, unsigned iters, double *allocs, double *bytes,
                        unsigned long *fails)
{
    decoded d;
    uint64_t acc = 0, total = 0;
    unsigned long bad = 0;
    uint64_t a0 = hv_bench_allocs();
    uint64_t t0 = hv_now_ns();
    for (unsigned i = 0; i < iters; i++) {
        int ww = wtype(w, i);
        size_t n = im->enc(&WL, ww, (int)(i % VARIANTS), BUF, sizeof(BUF));
        if (n == 0 || im->dec(ww, BUF, n, &d) != 0) {
            bad++;
            continue;
        }
        acc += use(&d);
        total += n;
    }
    uint64_t t1 = hv_now_ns();
    uint64_t a1 = hv_bench_allocs();
    sink += acc;
    *fails += bad;
    *allocs = a0 == UINT64_MAX ? -1 : (double)(a1 - a0) / iters;
    *bytes = (double)total / iters;
    return (double)(t1 - t0) / iters;
}

/* Checks that an implementation decodes every workload message back to the original. */
static int verify(const impl *im)
{
    for (int w = 0; w < W_COUNT; w++)
        for (int v = 0; v < VARIANTS; v++) {
            decoded d;
            memset(&d, 0, sizeof(d));
            size_t n = im->enc(&WL, w, v, BUF, sizeof(BUF));
            const hv_frame *f = &WL.f[w][v];
            if (n == 0 || im->dec(w, BUF, n, &d) != 0 || !hv_msg_equal(&WL.m[w][v], &d.m) ||
                d.f.seq != f->seq || d.f.sender_id != f->sender_id ||
                d.f.timestamp_ns != f->timestamp_ns || d.f.correlation_id != f->correlation_id ||
                d.f.topic.len != f->topic.len ||
                (f->topic.len && memcmp(d.f.topic.ptr, f->topic.ptr, f->topic.len) != 0)) {
                fprintf(stderr, "bench codec: %s does not round-trip %s\n", im->name, wnames[w]);
                return -1;
            }
        }
    return 0;
}

/* Target length of one timed round. */
#define SAMPLE_NS 1e6

/* Timed rounds (ns per message) per workload, implementation and sample, and the core probe
 * taken before each sample's rounds. */
#define MAX_SAMPLES 1024
static double NS[W_COUNT + 1][NIMPLS][MAX_SAMPLES];
static double PROBE[W_COUNT + 1][MAX_SAMPLES];

/* ---- Core probe -------------------------------------------------------------------------- */

#define PROBE_STEPS 20000
#define FAST_SLACK  1.15 /* a probe within 15% of the run's fastest: the core at its fastest */

/* ns per step of six independent integer chains: the issue rate this core gives one thread.
 * Only another thread on the same physical core changes it (on a shared VM host, another
 * tenant on the sibling hyperthread); memory, branches and the clock rate barely do. */
static double core_probe(void)
{
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, g = 6;
    uint64_t t0 = hv_now_ns();
    for (uint64_t i = 0; i < PROBE_STEPS; i++) {
        a += i;
        b ^= i;
        c += a;
        d ^= b;
        e += c;
        g ^= d;
        __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(g));
    }
    uint64_t t1 = hv_now_ns();
    sink += a ^ b ^ c ^ d ^ e ^ g;
    return (double)(t1 - t0) / PROBE_STEPS;
}

/* Notes, for workload w, each peer's median ratio over the pairs taken while the core ran at
 * the run's fastest and over the rest, so a reader can tell the codecs apart from the
 * neighbours. */
static void note_by_core(hv_bench_report *r, int w, unsigned samples, double fastest)
{
    static double fast[MAX_SAMPLES], slow[MAX_SAMPLES];
    for (size_t k = 1; k < NIMPLS; k++) {
        size_t nf = 0, ns = 0;
        for (unsigned s = 0; s < samples; s++) {
            double ratio = NS[w][k][s] / NS[w][0][s];
            if (PROBE[w][s] <= fastest * FAST_SLACK)
                fast[nf++] = ratio;
            else
                slow[ns++] = ratio;
        }
        char a[64] = "none", b[64] = "none";
        if (nf)
            snprintf(a, sizeof(a), "%zu pairs, median %.2fx", nf, hv_bench_quantile(fast, nf, 0.5));
        if (ns)
            snprintf(b, sizeof(b), "%zu pairs, median %.2fx", ns, hv_bench_quantile(slow, ns, 0.5));
        hv_bench_note(r, "%s: hivewire vs %s by core probe: fastest core %s; slower core %s",
                      wnames[w], IMPLS[k].name, a, b);
    }
}

/* Messages per round for workload w: about sample_ns, given ns per message from a probe, and
 * rounded up to whole passes over the workload's messages (each variant, and for the mix each
 * type with each variant), so every implementation times the same messages. */
static unsigned sample_iters(int w, double sample_ns, double per_msg_ns)
{
    unsigned pass = w == W_MIX ? VARIANTS * W_COUNT : VARIANTS;
    double n = per_msg_ns > 0 ? sample_ns / per_msg_ns : 1e6;
    unsigned passes = n >= 1e6 ? 1000000u / pass : (unsigned)(n / pass + 0.999);
    return (passes ? passes : 1) * pass;
}

int hv_bench_codec(const hv_bench_opts *opts);
int hv_bench_codec(const hv_bench_opts *opts)
{
    build_workload(opts->seed);
#ifdef HV_CODEC_PEERS
    msgpack_zone_init(&MP_ZONE, 4096);
#endif
    for (size_t k = 0; k < NIMPLS; k++)
        if (verify(&IMPLS[k]) != 0)
            return 1;
    hv_bench_report *r = hv_bench_report_new("codec", opts);
    if (r == NULL)
        return 1;
    unsigned samples = hv_bench_samples(opts, 21);
    /* Every sample of every implementation lasts about the same time (SAMPLE_NS), so the two
     * rounds of a pair see the same stretch of the machine's noise: a fixed count would time
     * hivewire over tens of microseconds and JSON over tens of milliseconds. */
    double sample_ns = opts->quick ? 2e5 : SAMPLE_NS;
    unsigned probe = opts->quick ? 20 : 200;
    double allocs[W_COUNT + 1][NIMPLS], bytes[W_COUNT + 1][NIMPLS];
    double fastest = 1e300;
    if (samples > MAX_SAMPLES)
        samples = MAX_SAMPLES;
    for (int w = 0; w <= W_MIX; w++) {
        if (!hv_bench_selected(opts, wnames[w]))
            continue;
        unsigned long fails[NIMPLS] = { 0 }, done[NIMPLS] = { 0 };
        unsigned iters[NIMPLS];
        for (size_t k = 0; k < NIMPLS; k++) { /* warm-up, and the count for SAMPLE_NS */
            run_round(&IMPLS[k], w, probe, &allocs[w][k], &bytes[w][k], &fails[k]);
            double per = run_round(&IMPLS[k], w, probe, &allocs[w][k], &bytes[w][k], &fails[k]);
            iters[k] = sample_iters(w, sample_ns, per);
            done[k] = 2ul * probe;
        }
        for (unsigned s = 0; s < samples; s++) {
            PROBE[w][s] = core_probe();
            fastest = PROBE[w][s] < fastest ? PROBE[w][s] : fastest;
            for (size_t k = 0; k < NIMPLS; k++) {
                /* Each timed round follows an untimed one of the same implementation, so no
                 * implementation is timed on caches and branch history its peer left cold. */
                unsigned warm = iters[k] / 4 + 1;
                run_round(&IMPLS[k], w, warm, &allocs[w][k], &bytes[w][k], &fails[k]);
                NS[w][k][s] =
                    run_round(&IMPLS[k], w, iters[k], &allocs[w][k], &bytes[w][k], &fails[k]);
                done[k] += warm + iters[k];
            }
        }
        for (size_t k = 0; k < NIMPLS; k++)
            if (fails[k] != 0)
                hv_bench_fail(r, "%s: %s failed to encode/decode %lu of %lu messages", wnames[w],
                              IMPLS[k].name, fails[k], done[k]);
        for (size_t k = 0; k < NIMPLS; k++) {
            char params[256], name[64];
            snprintf(params, sizeof(params),
                     "{\"iters_per_sample\": %u, \"variants\": %d, \"wire_bytes\": %.1f, "
                     "\"allocs_per_msg\": %.2f, \"threads\": 1, \"batch\": 1, "
                     "\"op\": \"encode+decode\"}",
                     iters[k], VARIANTS, bytes[w][k], allocs[w][k]);
            hv_bench_add(r, wnames[w], IMPLS[k].name, "ns", NS[w][k], samples, params);
            snprintf(name, sizeof(name), "%s/wire", wnames[w]);
            hv_bench_add(r, name, IMPLS[k].name, "bytes", &bytes[w][k], 1, NULL);
        }
        for (size_t k = 1; k < NIMPLS; k++) {
            char name[64];
            hv_bench_ratio(r, wnames[w], "hivewire", IMPLS[k].name);
            snprintf(name, sizeof(name), "%s/wire", wnames[w]);
            hv_bench_ratio(r, name, "hivewire", IMPLS[k].name);
        }
        hv_bench_note(r, "%s: heap allocations per message: hivewire %.2f%s", wnames[w],
                      allocs[w][0], allocs[w][0] < 0 ? " (not counted in this build)" : "");
        for (size_t k = 1; k < NIMPLS; k++)
            hv_bench_note(r, "%s: heap allocations per message: %s %.2f", wnames[w], IMPLS[k].name,
                          allocs[w][k]);
    }
    for (int w = 0; w <= W_MIX; w++) {
        if (!hv_bench_selected(opts, wnames[w]))
            continue;
        char name[64];
        snprintf(name, sizeof(name), "%s/core_probe", wnames[w]);
        hv_bench_add(r, name, "core", "ns", PROBE[w], samples, "{\"steps\": 20000}");
        note_by_core(r, w, samples, fastest);
    }
    hv_bench_note(r,
                  "core_probe: ns per step of six integer chains, taken before each sample's "
                  "rounds; it rises when another thread shares the physical core. Fastest "
                  "core = within 15%% of the run's fastest probe, %.3f ns",
                  fastest);
    hv_bench_note(r, "one thread encodes then decodes each message into hv_frame + hv_msg; "
                     "peers copy out what their format cannot lend; all decoders were checked "
                     "to reproduce every message before timing");
#ifndef HV_CODEC_PEERS
    hv_bench_note(r, "msgpack-c and protobuf-c peers not built (HV_WITH_PEERS off or not found)");
#else
    msgpack_zone_destroy(&MP_ZONE);
#endif
    return hv_bench_report_finish(r);
}

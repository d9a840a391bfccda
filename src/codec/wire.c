/*
 * HVW1 frames: header parsing and writing, payload encoding, decoding and validation.
 *
 * Payload code is expanded from the schemas in schema.h into straight-line loads and stores:
 * one bounds check for the fixed part of a payload, one per variable-size field.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/intern.h"
#include "codec/le.h"
#include "codec/schema.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NAMES(var, ...)                                   \
    static const char *const var##_v[] = { __VA_ARGS__ }; \
    const hv__names var = { var##_v, ARRAY_LEN(var##_v) }

NAMES(hv__role_names, "worker", "pattern_matcher", "strategy_correlator", "feature_engineer",
      "neural_trainer", "reasoning_banker", "coordinator", "market_data", "risk", "strategy",
      "execution");
NAMES(hv__purpose_names, "control", "task_assignment", "pattern_matching", "strategy_correlation",
      "feature_engineering", "neural_training", "reasoning_exchange", "market_data", "consensus");
NAMES(hv__hs_status_names, "accepted", "rejected");
NAMES(hv__ack_status_names, "received", "processed", "failed", "rejected");
NAMES(hv__task_kind_names, "pattern_match", "strategy_correlation", "feature_engineering",
      "neural_training", "generic_compute", "risk");
NAMES(hv__corr_method_names, "pearson", "spearman", "kendall");
NAMES(hv__priority_names, "critical", "high", "normal", "low", "batch");
NAMES(hv__content_names, "octets", "json", "text", "hvw1");
NAMES(hv__policy_names, "block", "drop_oldest", "reject");
NAMES(hv__action_names, "order_execution", "position_change", "risk_limit_change",
      "risk_calculation", "pattern_match", "strategy_signal", "other");
NAMES(hv__criticality_names, "low", "medium", "high", "critical");
NAMES(hv__rule_names, "majority", "simple_majority", "threshold", "weighted", "unanimous", "bft");
NAMES(hv__choice_names, "approve", "reject", "abstain");
NAMES(hv__auth_names, "none", "ed25519", "blake2b_mac");
NAMES(hv__outcome_names, "accepted", "rejected", "no_quorum", "expired");
NAMES(hv__metric_kind_names, "counter", "gauge", "latency_ns");
NAMES(hv__stream_status_names, "complete", "aborted");

/* ---- Type table -------------------------------------------------------------------------- */

static const char *const type_names[256] = {
#define TYPE_NAME_(name, val, lower) [val] = #lower,
    HV_MSG_TYPE_MAP(TYPE_NAME_)
#undef TYPE_NAME_
};

int hv__type_known(unsigned type)
{
    return type < 256 && type_names[type] != NULL;
}

const char *hv_msg_type_name(int type)
{
    return type >= 0 && type < 256 ? type_names[type] : NULL;
}

int hv_msg_type_from_name(const char *name, size_t len)
{
    for (int t = 0; t < 256; t++)
        if (type_names[t] && strlen(type_names[t]) == len && memcmp(type_names[t], name, len) == 0)
            return t;
    return HV_EBADTYPE;
}

/* ---- Text checks ------------------------------------------------------------------------- */

static int utf8_slow(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if ((c & 0xe0) == 0xc0) {
            k = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        /* Reject overlong forms, surrogates and values beyond U+10FFFF. */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += k + 1;
    }
    return 1;
}

/* The rest of hv__utf8_valid(), for text that is not plain ASCII. */
int hv__utf8_valid_slow(const uint8_t *s, size_t n)
{
    if (memchr(s, 0, n) != NULL)
        return 0;
    return utf8_slow(s, n);
}

/* x86-64 glibc: one AVX2 clone picked at load time where the CPU has it (eight lanes a vector).
 * Not in sanitizer or fuzzing builds: their runtimes are not up yet when the loader runs the
 * ifunc resolver, and those builds then test the portable loop. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__ELF__) && defined(__GLIBC__) && \
    !defined(HV_SANITIZED)
#define HV_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define HV_VECTOR_CLONES
#endif

typedef uint32_t v8u32 __attribute__((vector_size(32)));

/* |x| with all exponent bits set is infinity or NaN: |x| + 2^23 carries into bit 31 exactly for
 * those, so an or-accumulator holds the answer. */
#define F32_BAD(x) (((x)&0x7fffffffu) + 0x00800000u)

HV_VECTOR_CLONES static int f32s_finite(const uint8_t *p, uint32_t n)
{
    uint32_t bad = 0, i = 0;
#if HV_HOST_LE
    /* Sixteen lanes a step in two accumulators: in the AVX2 clone, load-and, add, or. */
    v8u32 acc0 = { 0 }, acc1 = { 0 };
    for (; i + 16 <= n; i += 16) {
        v8u32 a, b;
        memcpy(&a, p + (size_t)i * 4, 32);
        memcpy(&b, p + (size_t)i * 4 + 32, 32);
        acc0 |= F32_BAD(a);
        acc1 |= F32_BAD(b);
    }
    uint64_t w[4];
    acc0 |= acc1;
    memcpy(w, &acc0, 32);
    w[0] |= w[1] | w[2] | w[3];
    bad = (uint32_t)(w[0] | w[0] >> 32);
#endif
    for (; i < n; i++)
        bad |= F32_BAD(hv__ld32(p + (size_t)i * 4));
    return (bad & 0x80000000u) == 0;
}

/* ---- Validation (shared by encoder and decoder) ------------------------------------------ */

static inline int val_str(hv_str s)
{
    if (s.len > HV_STR_MAX_BYTES)
        return HV_EBADLEN;
    if (s.len && s.ptr == NULL)
        return HV_EINVAL;
    return hv__utf8_valid((const uint8_t *)s.ptr, s.len) ? 0 : HV_EBADUTF8;
}

static inline int val_bytes(hv_bytes b)
{
    if (b.len > HV_FRAME_MAX_CEILING)
        return HV_EBADLEN;
    return b.len && b.ptr == NULL ? HV_EINVAL : 0;
}

static inline int val_f32v(hv_f32v v)
{
    if (v.n > HV_FRAME_MAX_CEILING / 4)
        return HV_EBADLEN;
    if (v.n && v.ptr == NULL)
        return HV_EINVAL;
    return v.n == 0 || f32s_finite(v.ptr, v.n) ? 0 : HV_ENONFINITE;
}

static inline int val_vec16(const void *ptr, uint32_t n)
{
    if (n > 65535)
        return HV_EBADLEN;
    return n && ptr == NULL ? HV_EINVAL : 0;
}

static inline int val_f32(float f)
{
    return isfinite(f) ? 0 : HV_ENONFINITE;
}

static inline int val_f64(double d)
{
    return isfinite(d) ? 0 : HV_ENONFINITE;
}

static inline int val_unit(float f)
{
    if (!isfinite(f))
        return HV_ENONFINITE;
    return f >= 0.0f && f <= 1.0f ? 0 : HV_EBADFIELD;
}

static int val_streams(uint8_t count, const hv_wire_stream *s)
{
    if (count > HV_STREAMS_MAX)
        return HV_EBADLEN;
    for (unsigned i = 0; i < count; i++)
        if (s[i].purpose >= hv__purpose_names.n || s[i].priority > HV_PRIORITY_MAX)
            return HV_EBADFIELD;
    return 0;
}

static int val_metrics(uint8_t count, const hv_wire_metric *e)
{
    if (count > HV_METRICS_MAX)
        return HV_EBADLEN;
    for (unsigned i = 0; i < count; i++) {
        if (e[i].name.len == 0 || e[i].name.len > HV_METRIC_NAME_MAX)
            return HV_EBADLEN;
        int rv = val_str(e[i].name);
        if (rv != 0)
            return rv;
        if (e[i].kind >= hv__metric_kind_names.n)
            return HV_EBADFIELD;
        if (!isfinite(e[i].value))
            return HV_ENONFINITE;
    }
    return 0;
}

#define VAL_U8(m, f, aux)      0
#define VAL_U16(m, f, aux)     0
#define VAL_U32(m, f, aux)     0
#define VAL_U64(m, f, aux)     0
#define VAL_I32(m, f, aux)     0
#define VAL_F32(m, f, aux)     val_f32((m)->f)
#define VAL_F64(m, f, aux)     val_f64((m)->f)
#define VAL_UNIT(m, f, aux)    val_unit((m)->f)
#define VAL_ENUM(m, f, aux)    ((m)->f < (aux).n ? 0 : HV_EBADFIELD)
#define VAL_PRIO(m, f, aux)    ((m)->f <= HV_PRIORITY_MAX ? 0 : HV_EBADFIELD)
#define VAL_BOOL(m, f, aux)    ((m)->f <= 1 ? 0 : HV_EBADFIELD)
#define VAL_BITS(m, f, aux)    (((m)->f & ~(unsigned)(aux)) == 0 ? 0 : HV_EBADFIELD)
#define VAL_H32(m, f, aux)     0
#define VAL_S64(m, f, aux)     0
#define VAL_STR(m, f, aux)     val_str((m)->f)
#define VAL_BYTES(m, f, aux)   val_bytes((m)->f)
#define VAL_F32V(m, f, aux)    val_f32v((m)->f)
#define VAL_U64V(m, f, aux)    val_vec16((m)->f.ptr, (m)->f.n)
#define VAL_U32V(m, f, aux)    val_vec16((m)->f.ptr, (m)->f.n)
#define VAL_STREAMS(m, f, aux) val_streams((m)->stream_count, (m)->f)
#define VAL_METRICS(m, f, aux) val_metrics((m)->count, (m)->f)

#define VAL_(kind, f, aux)                 \
    if ((rv = VAL_##kind(m, f, aux)) != 0) \
        return rv;

/* Cross-field rules, one per type, checked after every field's own rule. On failure *why names
 * the fields (the validator ignores it; hv__msg_explain() reports it). */
static inline int check_handshake(const hv_msg_handshake *m, const char **why)
{
    if (m->version_min <= m->version_max)
        return 0;
    *why = "payload.version_min: above version_max";
    return HV_EBADFIELD;
}

static inline int check_handshake_ack(const hv_msg_handshake_ack *m, const char **why)
{
    if ((m->encoding & (m->encoding - 1)) == 0)
        return 0;
    *why = "payload.encoding: more than one encoding chosen";
    return HV_EBADFIELD;
}

static inline int check_strategy_correlation(const hv_msg_strategy_correlation *m, const char **why)
{
    uint64_t n = m->strategy_ids.n;
    if ((uint64_t)m->matrix.n == n * n)
        return 0;
    *why = "payload.matrix: needs n * n values for the n strategy_ids";
    return HV_EBADLEN;
}

static inline int check_proposal(const hv_msg_proposal *m, const char **why)
{
    if (m->weights.n != m->voters.n) {
        *why = "payload.weights: needs one weight per voter";
        return HV_EBADLEN;
    }
    if (m->threshold_den == 0 ? m->threshold_num == 0 : m->threshold_num <= m->threshold_den)
        return 0;
    *why = "payload.threshold_num: above threshold_den (or not 0 when threshold_den is 0)";
    return HV_EBADFIELD;
}

static inline int check_subscribe(const hv_msg_subscribe *m, const char **why)
{
    if (!hv__topic_valid(m->pattern.ptr, m->pattern.len, 1)) {
        *why = "payload.pattern: needs 1..255 bytes of 0x21..0x7e";
        return HV_EBADTOPIC;
    }
    if (m->queue_group.len && !hv__topic_valid(m->queue_group.ptr, m->queue_group.len, 0)) {
        *why = "payload.queue_group: needs 0..255 bytes of 0x21..0x7e without '*' or '>'";
        return HV_EBADTOPIC;
    }
    return 0;
}

static inline int check_stream_start(const hv_msg_stream_start *m, const char **why)
{
    if (m->stream_id != 0 && m->chunk_bytes != 0)
        return 0;
    *why = m->stream_id == 0 ? "payload.stream_id: 0" : "payload.chunk_bytes: 0";
    return HV_EBADFIELD;
}

static inline int check_stream_data(const hv_msg_stream_data *m, const char **why)
{
    if (m->stream_id != 0 && m->chunk.len != 0)
        return 0;
    *why = m->stream_id == 0 ? "payload.stream_id: 0" : "payload.chunk: empty";
    return HV_EBADFIELD;
}

static inline int check_stream_end(const hv_msg_stream_end *m, const char **why)
{
    if (m->stream_id != 0)
        return 0;
    *why = "payload.stream_id: 0";
    return HV_EBADFIELD;
}

#define CHECK_NONE_(lower)                                                     \
    static inline int check_##lower(const hv_msg_##lower *m, const char **why) \
    {                                                                          \
        (void)m;                                                               \
        (void)why;                                                             \
        return 0;                                                              \
    }
CHECK_NONE_(ack)
CHECK_NONE_(heartbeat)
CHECK_NONE_(error)
CHECK_NONE_(task_assign)
CHECK_NONE_(task_result)
CHECK_NONE_(pattern_result)
CHECK_NONE_(reasoning_experience)
CHECK_NONE_(neural_gradients)
CHECK_NONE_(publish)
CHECK_NONE_(unsubscribe)
CHECK_NONE_(vote)
CHECK_NONE_(decision)
CHECK_NONE_(metrics)

/* ---- Sizes ------------------------------------------------------------------------------- */

static size_t metrics_size(uint8_t count, const hv_wire_metric *e)
{
    size_t n = 1;
    for (unsigned i = 0; i < count && i < HV_METRICS_MAX; i++)
        n += 10 + (size_t)e[i].name.len;
    return n;
}

#define VSZ_U8(m, f)       0
#define VSZ_U16(m, f)      0
#define VSZ_U32(m, f)      0
#define VSZ_U64(m, f)      0
#define VSZ_I32(m, f)      0
#define VSZ_F32(m, f)      0
#define VSZ_F64(m, f)      0
#define VSZ_UNIT(m, f)     0
#define VSZ_ENUM(m, f)     0
#define VSZ_PRIO(m, f)     0
#define VSZ_BOOL(m, f)     0
#define VSZ_BITS(m, f)     0
#define VSZ_H32(m, f)      0
#define VSZ_S64(m, f)      0
#define VSZ_STR(m, f)      (2 + (size_t)(m)->f.len)
#define VSZ_BYTES(m, f)    (4 + (size_t)(m)->f.len)
#define VSZ_F32V(m, f)     (4 + (size_t)(m)->f.n * 4)
#define VSZ_U64V(m, f)     (2 + (size_t)(m)->f.n * 8)
#define VSZ_U32V(m, f)     (2 + (size_t)(m)->f.n * 4)
#define VSZ_STREAMS(m, f)  (1 + (size_t)(m)->stream_count * 4)
#define VSZ_METRICS(m, f)  metrics_size((m)->count, (m)->f)
#define VSZ_(kind, f, aux) +VSZ_##kind(m, f)

/* ---- Encoding ---------------------------------------------------------------------------- */

#define EF_U8(p, v)      (*(p) = (uint8_t)(v))
#define EF_U16(p, v)     hv__st16(p, v)
#define EF_U32(p, v)     hv__st32(p, v)
#define EF_U64(p, v)     hv__st64(p, v)
#define EF_I32(p, v)     hv__st32(p, (uint32_t)(v))
#define EF_F32(p, v)     hv__stf32(p, v)
#define EF_F64(p, v)     hv__stf64(p, v)
#define EF_UNIT(p, v)    hv__stf32(p, v)
#define EF_ENUM          EF_U8
#define EF_PRIO          EF_U8
#define EF_BOOL          EF_U8
#define EF_BITS          EF_U8
#define EF_H32(p, v)     memcpy(p, v, HV_HASH_BYTES)
#define EF_S64(p, v)     memcpy(p, v, HV_SIG_BYTES)
#define EF_STR(p, v)     (void)0
#define EF_BYTES(p, v)   (void)0
#define EF_F32V(p, v)    (void)0
#define EF_U64V(p, v)    (void)0
#define EF_U32V(p, v)    (void)0
#define EF_STREAMS(p, v) (void)0
#define EF_METRICS(p, v) (void)0
#define EF_(kind, f, aux) \
    EF_##kind(p, m->f);   \
    p += HV_FSZ_##kind;

static inline uint8_t *ev_str(uint8_t *p, hv_str s)
{
    hv__st16(p, (uint16_t)s.len);
    if (s.len)
        hv__copy_short(p + 2, s.ptr, s.len);
    return p + 2 + s.len;
}

static inline uint8_t *ev_bytes(uint8_t *p, hv_bytes b)
{
    hv__st32(p, b.len);
    if (b.len)
        hv__copy_short(p + 4, b.ptr, b.len);
    return p + 4 + b.len;
}

static inline uint8_t *ev_f32v(uint8_t *p, hv_f32v v)
{
    hv__st32(p, v.n);
    if (v.n)
        hv__copy_le(p + 4, v.ptr, v.n, 4);
    return p + 4 + (size_t)v.n * 4;
}

static inline uint8_t *ev_vec16(uint8_t *p, const void *ptr, uint32_t n, size_t width)
{
    hv__st16(p, (uint16_t)n);
    if (n)
        hv__copy_le(p + 2, ptr, n, width);
    return p + 2 + (size_t)n * width;
}

static uint8_t *ev_streams(uint8_t *p, uint8_t count, const hv_wire_stream *s)
{
    *p++ = count;
    for (unsigned i = 0; i < count; i++) {
        hv__st16(p, s[i].stream_id);
        p[2] = s[i].purpose;
        p[3] = s[i].priority;
        p += 4;
    }
    return p;
}

static uint8_t *ev_metrics(uint8_t *p, uint8_t count, const hv_wire_metric *e)
{
    *p++ = count;
    for (unsigned i = 0; i < count; i++) {
        p[0] = e[i].kind;
        hv__stf64(p + 1, e[i].value);
        p[9] = (uint8_t)e[i].name.len;
        memcpy(p + 10, e[i].name.ptr, e[i].name.len);
        p += 10 + e[i].name.len;
    }
    return p;
}

#define EV_U8(p, m, f)      (void)0
#define EV_U16(p, m, f)     (void)0
#define EV_U32(p, m, f)     (void)0
#define EV_U64(p, m, f)     (void)0
#define EV_I32(p, m, f)     (void)0
#define EV_F32(p, m, f)     (void)0
#define EV_F64(p, m, f)     (void)0
#define EV_UNIT(p, m, f)    (void)0
#define EV_ENUM(p, m, f)    (void)0
#define EV_PRIO(p, m, f)    (void)0
#define EV_BOOL(p, m, f)    (void)0
#define EV_BITS(p, m, f)    (void)0
#define EV_H32(p, m, f)     (void)0
#define EV_S64(p, m, f)     (void)0
#define EV_STR(p, m, f)     p = ev_str(p, (m)->f)
#define EV_BYTES(p, m, f)   p = ev_bytes(p, (m)->f)
#define EV_F32V(p, m, f)    p = ev_f32v(p, (m)->f)
#define EV_U64V(p, m, f)    p = ev_vec16(p, (m)->f.ptr, (m)->f.n, 8)
#define EV_U32V(p, m, f)    p = ev_vec16(p, (m)->f.ptr, (m)->f.n, 4)
#define EV_STREAMS(p, m, f) p = ev_streams(p, (m)->stream_count, (m)->f)
#define EV_METRICS(p, m, f) p = ev_metrics(p, (m)->count, (m)->f)
#define EV_(kind, f, aux)   EV_##kind(p, m, f);

/* ---- Decoding ---------------------------------------------------------------------------- */

#define DF_U8(p, v)      (v) = *(p)
#define DF_U16(p, v)     (v) = hv__ld16(p)
#define DF_U32(p, v)     (v) = hv__ld32(p)
#define DF_U64(p, v)     (v) = hv__ld64(p)
#define DF_I32(p, v)     (v) = (int32_t)hv__ld32(p)
#define DF_F32(p, v)     (v) = hv__ldf32(p)
#define DF_F64(p, v)     (v) = hv__ldf64(p)
#define DF_UNIT(p, v)    (v) = hv__ldf32(p)
#define DF_ENUM          DF_U8
#define DF_PRIO          DF_U8
#define DF_BOOL          DF_U8
#define DF_BITS          DF_U8
#define DF_H32(p, v)     memcpy(v, p, HV_HASH_BYTES)
#define DF_S64(p, v)     memcpy(v, p, HV_SIG_BYTES)
#define DF_STR(p, v)     (void)0
#define DF_BYTES(p, v)   (void)0
#define DF_F32V(p, v)    (void)0
#define DF_U64V(p, v)    (void)0
#define DF_U32V(p, v)    (void)0
#define DF_STREAMS(p, v) (void)0
#define DF_METRICS(p, v) (void)0
#define DF_(kind, f, aux) \
    DF_##kind(p, m->f);   \
    p += HV_FSZ_##kind;

static inline int dv_str(const uint8_t **pp, const uint8_t *end, hv_str *out)
{
    const uint8_t *p = *pp;
    if (end - p < 2)
        return HV_EBADLEN;
    uint32_t n = hv__ld16(p);
    if ((size_t)(end - p - 2) < n)
        return HV_EBADLEN;
    out->ptr = (const char *)p + 2;
    out->len = n;
    *pp = p + 2 + n;
    return 0;
}

static inline int dv_bytes(const uint8_t **pp, const uint8_t *end, hv_bytes *out)
{
    const uint8_t *p = *pp;
    if (end - p < 4)
        return HV_EBADLEN;
    uint32_t n = hv__ld32(p);
    if ((size_t)(end - p - 4) < n)
        return HV_EBADLEN;
    out->ptr = p + 4;
    out->len = n;
    *pp = p + 4 + n;
    return 0;
}

/* A counted vector: `hdr` bytes of count (2 or 4), then count * width bytes. */
static inline int dv_vec(const uint8_t **pp, const uint8_t *end, size_t hdr, size_t width,
                         const void **ptr, uint32_t *count)
{
    const uint8_t *p = *pp;
    if ((size_t)(end - p) < hdr)
        return HV_EBADLEN;
    uint32_t n = hdr == 2 ? hv__ld16(p) : hv__ld32(p);
    if ((size_t)(end - p - (ptrdiff_t)hdr) / width < n)
        return HV_EBADLEN;
    *ptr = p + hdr;
    *count = n;
    *pp = p + hdr + (size_t)n * width;
    return 0;
}

static int dv_streams(const uint8_t **pp, const uint8_t *end, uint8_t *count, hv_wire_stream *s)
{
    const uint8_t *p = *pp;
    if (end - p < 1)
        return HV_EBADLEN;
    unsigned n = *p++;
    if (n > HV_STREAMS_MAX)
        return HV_EBADLEN;
    if ((size_t)(end - p) < (size_t)n * 4)
        return HV_EBADLEN;
    for (unsigned i = 0; i < n; i++, p += 4) {
        s[i].stream_id = hv__ld16(p);
        s[i].purpose = p[2];
        s[i].priority = p[3];
    }
    *count = (uint8_t)n;
    *pp = p;
    return 0;
}

static int dv_metrics(const uint8_t **pp, const uint8_t *end, uint8_t *count, hv_wire_metric *e)
{
    const uint8_t *p = *pp;
    if (end - p < 1)
        return HV_EBADLEN;
    unsigned n = *p++;
    if (n > HV_METRICS_MAX)
        return HV_EBADLEN;
    for (unsigned i = 0; i < n; i++) {
        if (end - p < 10)
            return HV_EBADLEN;
        e[i].kind = p[0];
        e[i].value = hv__ldf64(p + 1);
        e[i].name.len = p[9];
        if ((size_t)(end - p - 10) < e[i].name.len)
            return HV_EBADLEN;
        e[i].name.ptr = (const char *)p + 10;
        p += 10 + e[i].name.len;
    }
    *count = (uint8_t)n;
    *pp = p;
    return 0;
}

#define DV_U8(m, f)      0
#define DV_U16(m, f)     0
#define DV_U32(m, f)     0
#define DV_U64(m, f)     0
#define DV_I32(m, f)     0
#define DV_F32(m, f)     0
#define DV_F64(m, f)     0
#define DV_UNIT(m, f)    0
#define DV_ENUM(m, f)    0
#define DV_PRIO(m, f)    0
#define DV_BOOL(m, f)    0
#define DV_BITS(m, f)    0
#define DV_H32(m, f)     0
#define DV_S64(m, f)     0
#define DV_STR(m, f)     dv_str(&p, end, &(m)->f)
#define DV_BYTES(m, f)   dv_bytes(&p, end, &(m)->f)
#define DV_F32V(m, f)    dv_vec(&p, end, 4, 4, &(m)->f.ptr, &(m)->f.n)
#define DV_U64V(m, f)    dv_vec(&p, end, 2, 8, &(m)->f.ptr, &(m)->f.n)
#define DV_U32V(m, f)    dv_vec(&p, end, 2, 4, &(m)->f.ptr, &(m)->f.n)
#define DV_STREAMS(m, f) dv_streams(&p, end, &(m)->stream_count, (m)->f)
#define DV_METRICS(m, f) dv_metrics(&p, end, &(m)->count, (m)->f)
#define DV_(kind, f, aux)            \
    if ((rv = DV_##kind(m, f)) != 0) \
        return rv;

/* ---- Per-type functions, expanded from the schemas --------------------------------------- */

#define GEN_TYPE_(NAME, val, lower)                                                           \
    static int validate_##lower(const hv_msg_##lower *m)                                      \
    {                                                                                         \
        int rv = 0;                                                                           \
        const char *why;                                                                      \
        HV_S_##lower(VAL_) return check_##lower(m, &why);                                     \
    }                                                                                         \
    enum { fixed_##lower = 0 HV_S_##lower(HV_FSZ_) };                                         \
    static inline size_t size_##lower(const hv_msg_##lower *m)                                \
    {                                                                                         \
        return (size_t)fixed_##lower HV_S_##lower(VSZ_);                                      \
    }                                                                                         \
    static inline uint8_t *encode_##lower(uint8_t *p, const hv_msg_##lower *m)                \
    {                                                                                         \
        HV_S_##lower(EF_) HV_S_##lower(EV_) return p;                                         \
    }                                                                                         \
    static inline int decode_##lower(const uint8_t *p, const uint8_t *end, hv_msg_##lower *m, \
                                     const uint8_t **stop)                                    \
    {                                                                                         \
        int rv = 0;                                                                           \
        if ((size_t)(end - p) < (size_t)fixed_##lower)                                        \
            return HV_EBADLEN;                                                                \
        HV_S_##lower(DF_) HV_S_##lower(DV_) *stop = p;                                        \
        return rv;                                                                            \
    }
HV_SCHEMA_TYPES(GEN_TYPE_)
#undef GEN_TYPE_

/* ---- Batches as payloads ----------------------------------------------------------------- */

static int validate_batch(const hv_msg_batch *m)
{
    if (m->count == 0 || m->count > HV_BATCH_FRAMES_MAX)
        return HV_EBADLEN;
    if (m->frames.len / HV_FRAME_HEADER_BYTES < m->count)
        return HV_EBADLEN;
    return val_bytes(m->frames);
}

/* ---- Public: messages -------------------------------------------------------------------- */

int hv__msg_validate(const hv_msg *m)
{
    switch (m->type) {
#define VCASE_(NAME, val, lower) \
    case HV_MSG_##NAME:          \
        return validate_##lower(&m->lower);
        HV_SCHEMA_TYPES(VCASE_)
#undef VCASE_
    case HV_MSG_BATCH:
        return validate_batch(&m->batch);
    default:
        return HV_EBADTYPE;
    }
}

/* Validates m and returns its payload size, or an error. */
static int64_t prepare(const hv_msg *m)
{
    int rv;
    switch (m->type) {
#define PCASE_(NAME, val, lower)                     \
    case HV_MSG_##NAME:                              \
        if ((rv = validate_##lower(&m->lower)) != 0) \
            return rv;                               \
        return (int64_t)size_##lower(&m->lower);
        HV_SCHEMA_TYPES(PCASE_)
#undef PCASE_
    case HV_MSG_BATCH:
        if ((rv = validate_batch(&m->batch)) != 0)
            return rv;
        return 4 + (int64_t)m->batch.frames.len;
    default:
        return HV_EBADTYPE;
    }
}

int hv_msg_encoded_size(const hv_msg *m)
{
    int64_t n = prepare(m);
    if (n > (int64_t)HV_FRAME_MAX_CEILING)
        return HV_ETOOBIG;
    return (int)n;
}

static uint8_t *encode_payload(uint8_t *p, const hv_msg *m)
{
    hv__st32(p, m->batch.count);
    memcpy(p + 4, m->batch.frames.ptr, m->batch.frames.len);
    return p + 4 + m->batch.frames.len;
}

static inline int msg_decode(const hv_frame *f, hv_msg *m)
{
    if (f->flags & HV_FLAG_COMPRESSED)
        return HV_EBADFLAGS;
    const uint8_t *p = f->payload.ptr, *end = p + f->payload.len, *stop = end;
    int rv;
    m->type = f->type;
    switch (f->type) {
#define DCASE_(NAME, val, lower)                                  \
    case HV_MSG_##NAME:                                           \
        if ((rv = decode_##lower(p, end, &m->lower, &stop)) != 0) \
            return rv;                                            \
        if ((rv = validate_##lower(&m->lower)) != 0)              \
            return rv;                                            \
        break;
        HV_SCHEMA_TYPES(DCASE_)
#undef DCASE_
    case HV_MSG_BATCH:
        if (f->payload.len < 4)
            return HV_EBADLEN;
        m->batch.count = hv__ld32(p);
        m->batch.frames.ptr = p + 4;
        m->batch.frames.len = f->payload.len - 4;
        return validate_batch(&m->batch);
    default:
        return HV_EBADTYPE;
    }
    /* Newer minor versions may append fields; this decoder's own versions may not. */
    if (stop != end && f->version_minor <= HV_WIRE_VERSION_MINOR)
        return HV_ETRAILING;
    return 0;
}

/* ---- Public: frames ---------------------------------------------------------------------- */

static inline uint32_t limits_frame_max(const hv_codec_limits *lim)
{
    uint32_t fm = lim && lim->frame_max_bytes ? lim->frame_max_bytes : HV_FRAME_MAX_DEFAULT;
    return fm < HV_FRAME_MAX_CEILING ? fm : HV_FRAME_MAX_CEILING;
}

static void limits_resolve(const hv_codec_limits *lim, uint32_t *frame_max, uint32_t *raw_max)
{
    uint32_t fm = limits_frame_max(lim);
    uint32_t rm = lim && lim->decompressed_max_bytes ? lim->decompressed_max_bytes : fm;
    if (rm > HV_FRAME_MAX_CEILING)
        rm = HV_FRAME_MAX_CEILING;
    *frame_max = fm;
    *raw_max = rm;
}

static int topic_rules(unsigned type, size_t topic_len, unsigned topic_id)
{
    int has_topic = topic_len > 0 || topic_id != 0;
    if (type == HV_MSG_PUBLISH && !has_topic)
        return HV_EBADTOPIC;
    if (type == HV_MSG_BATCH && has_topic)
        return HV_EBADTOPIC;
    return 0;
}

/* Any frame frame_parse() does not take on its fast path: tells each error apart, and reads
 * frames of newer minor versions, whose headers may be longer. */
__attribute__((noinline, cold)) static int frame_parse_slow(const uint8_t *buf, size_t len,
                                                            const hv_codec_limits *lim, hv_frame *f)
{
    f->frame_len = 0;
    if (len < HV_FRAME_HEADER_BYTES)
        return HV_ETRUNCATED;
    if (hv__ld32(buf) != HV_WIRE_MAGIC)
        return HV_EBADMAGIC;
    f->version_major = buf[4];
    f->version_minor = buf[5];
    f->type = buf[6];
    f->flags = buf[7];
    f->header_len = buf[8];
    if (f->version_major != HV_WIRE_VERSION_MAJOR)
        return HV_EBADVERSION;
    if (!hv__type_known(f->type))
        return HV_EBADTYPE;
    if (f->flags & ~HV_FLAGS_KNOWN)
        return HV_EBADFLAGS;
    if (f->header_len < HV_FRAME_HEADER_BYTES ||
        (f->version_minor <= HV_WIRE_VERSION_MINOR && f->header_len != HV_FRAME_HEADER_BYTES))
        return HV_EBADLEN;
    uint32_t topic_len = buf[9], payload_len = hv__ld32(buf + 12);
    f->topic_id = hv__ld16(buf + 10);
    uint32_t frame_max, raw_max;
    limits_resolve(lim, &frame_max, &raw_max);
    uint64_t total = (uint64_t)f->header_len + topic_len + payload_len;
    if (total > frame_max)
        return HV_ETOOBIG;
    f->frame_len = (uint32_t)total;
    if (len < total)
        return HV_ETRUNCATED;
    f->seq = hv__ld64(buf + 16);
    f->correlation_id = hv__ld64(buf + 24);
    f->timestamp_ns = hv__ld64(buf + 32);
    f->sender_id = hv__ld64(buf + 40);
    f->topic.ptr = (const char *)buf + f->header_len;
    f->topic.len = topic_len;
    if (topic_len && !hv__topic_valid(f->topic.ptr, topic_len, 0))
        return HV_EBADTOPIC;
    f->payload.ptr = buf + f->header_len + topic_len;
    f->payload.len = payload_len;
    int rv = topic_rules(f->type, topic_len, f->topic_id);
    if (rv != 0)
        return rv;
    return (int)total;
}

/* Bytes 0..5 of a header of this decoder's own version: magic, major, minor. */
#define OWN_HEADER_START                                               \
    ((uint64_t)HV_WIRE_MAGIC | (uint64_t)HV_WIRE_VERSION_MAJOR << 32 | \
     (uint64_t)HV_WIRE_VERSION_MINOR << 40)

/* The usual frame, of this decoder's own version, is checked with a few word compares; every
 * other one, bad or newer, goes to frame_parse_slow(). The header is read into locals before
 * anything is stored, so the stores to f need not wait on reloads from buf. */
static inline int frame_parse(const uint8_t *buf, size_t len, const hv_codec_limits *lim,
                              hv_frame *f)
{
    if (len < HV_FRAME_HEADER_BYTES)
        return frame_parse_slow(buf, len, lim, f);
    uint64_t w0 = hv__ld64(buf), w1 = hv__ld64(buf + 8);
    unsigned type = (unsigned)(w0 >> 48) & 0xff, flags = (unsigned)(w0 >> 56);
    uint32_t topic_len = (uint32_t)(w1 >> 8) & 0xff, payload_len = (uint32_t)(w1 >> 32);
    uint64_t total = HV_FRAME_HEADER_BYTES + (uint64_t)topic_len + payload_len;
    if ((w0 & 0xffffffffffffull) != OWN_HEADER_START || (w1 & 0xff) != HV_FRAME_HEADER_BYTES ||
        !hv__type_known(type) || (flags & ~HV_FLAGS_KNOWN) != 0 || total > limits_frame_max(lim) ||
        len < total)
        return frame_parse_slow(buf, len, lim, f);
    uint64_t seq = hv__ld64(buf + 16), cid = hv__ld64(buf + 24);
    uint64_t ts = hv__ld64(buf + 32), sender = hv__ld64(buf + 40);
    f->version_major = HV_WIRE_VERSION_MAJOR;
    f->version_minor = HV_WIRE_VERSION_MINOR;
    f->type = (uint8_t)type;
    f->flags = (uint8_t)flags;
    f->header_len = HV_FRAME_HEADER_BYTES;
    f->topic_id = (uint16_t)(w1 >> 16);
    f->frame_len = (uint32_t)total;
    f->seq = seq;
    f->correlation_id = cid;
    f->timestamp_ns = ts;
    f->sender_id = sender;
    f->topic.ptr = (const char *)buf + HV_FRAME_HEADER_BYTES;
    f->topic.len = topic_len;
    if (topic_len && !hv__topic_valid(f->topic.ptr, topic_len, 0))
        return HV_EBADTOPIC;
    f->payload.ptr = buf + HV_FRAME_HEADER_BYTES + topic_len;
    f->payload.len = payload_len;
    int rv = topic_rules(type, topic_len, f->topic_id);
    return rv != 0 ? rv : (int)total;
}

/* Public entry points call the inline bodies, so hv_decode() gets one inlined fast path. */
int hv_frame_parse(const uint8_t *buf, size_t len, const hv_codec_limits *lim, hv_frame *f)
{
    return frame_parse(buf, len, lim, f);
}

int hv_msg_decode(const hv_frame *f, hv_msg *m)
{
    return msg_decode(f, m);
}

void hv__frame_header_write(uint8_t *p, unsigned type, unsigned flags, size_t topic_len,
                            uint16_t topic_id, size_t payload_len, const hv_frame *f)
{
    /* Two composed words for bytes 0..15, then the four 64-bit fields. */
    uint64_t w0 = (uint64_t)HV_WIRE_MAGIC | (uint64_t)HV_WIRE_VERSION_MAJOR << 32 |
                  (uint64_t)HV_WIRE_VERSION_MINOR << 40 | (uint64_t)(type & 0xff) << 48 |
                  (uint64_t)(flags & 0xff) << 56;
    uint64_t w1 = (uint64_t)HV_FRAME_HEADER_BYTES | (uint64_t)(topic_len & 0xff) << 8 |
                  (uint64_t)topic_id << 16 | (uint64_t)(uint32_t)payload_len << 32;
    hv__st64(p, w0);
    hv__st64(p + 8, w1);
#if HV_HOST_LE
    /* seq, correlation id, timestamp and sender lie in hv_frame as on the wire: one block, in
     * 16-byte stores that a decoder's 16-byte loads of the same bytes can forward from. */
    if (f != NULL)
        memcpy(p + 16, &f->seq, 32);
    else
        memset(p + 16, 0, 32);
#else
    hv__st64(p + 16, f ? f->seq : 0);
    hv__st64(p + 24, f ? f->correlation_id : 0);
    hv__st64(p + 32, f ? f->timestamp_ns : 0);
    hv__st64(p + 40, f ? f->sender_id : 0);
#endif
}
_Static_assert(offsetof(hv_frame, correlation_id) == offsetof(hv_frame, seq) + 8 &&
                   offsetof(hv_frame, timestamp_ns) == offsetof(hv_frame, seq) + 16 &&
                   offsetof(hv_frame, sender_id) == offsetof(hv_frame, seq) + 24,
               "hv_frame keeps the header's four 64-bit fields together, in wire order");

/* Checks the frame size, writes header and topic; returns the frame length or an error. */
static inline int64_t frame_begin(uint8_t *buf, size_t cap, const hv_frame *f, unsigned type,
                                  size_t plen, size_t *needed)
{
    uint64_t total = HV_FRAME_HEADER_BYTES + (uint64_t)f->topic.len + plen;
    if (total > HV_FRAME_MAX_CEILING)
        return HV_ETOOBIG;
    if (needed)
        *needed = (size_t)total;
    if (total > cap)
        return HV_ENOBUFS;
    hv__frame_header_write(buf, type, f->flags, f->topic.len, f->topic_id, plen, f);
    if (f->topic.len)
        hv__copy_short(buf + HV_FRAME_HEADER_BYTES, f->topic.ptr, f->topic.len);
    return (int64_t)total;
}

int hv_frame_encode(uint8_t *buf, size_t cap, const hv_frame *f, const hv_msg *m, size_t *needed)
{
    if (f->flags & ~(HV_FLAG_ACK_REQUESTED | HV_FLAG_REPLY))
        return HV_EINVAL;
    if (f->topic.len && f->topic.ptr == NULL)
        return HV_EINVAL;
    if (f->topic.len && !hv__topic_valid(f->topic.ptr, f->topic.len, 0))
        return HV_EBADTOPIC;
    int rv = topic_rules(m->type, f->topic.len, f->topic_id);
    if (rv != 0)
        return rv;
    uint8_t *p = buf + HV_FRAME_HEADER_BYTES + f->topic.len;
    int64_t total;
    switch (m->type) {
#define FCASE_(NAME, val, lower)                                                    \
    case HV_MSG_##NAME:                                                             \
        if ((rv = validate_##lower(&m->lower)) != 0)                                \
            return rv;                                                              \
        total = frame_begin(buf, cap, f, m->type, size_##lower(&m->lower), needed); \
        if (total > 0)                                                              \
            encode_##lower(p, &m->lower);                                           \
        return (int)total;
        HV_SCHEMA_TYPES(FCASE_)
#undef FCASE_
    case HV_MSG_BATCH:
        if ((rv = validate_batch(&m->batch)) != 0)
            return rv;
        total = frame_begin(buf, cap, f, m->type, 4 + (size_t)m->batch.frames.len, needed);
        if (total > 0)
            encode_payload(p, m);
        return (int)total;
    default:
        return HV_EBADTYPE;
    }
}

int hv_decode(const uint8_t *buf, size_t len, const hv_codec_limits *lim, uint8_t *scratch,
              size_t scratch_cap, hv_frame *f, hv_msg *m)
{
    int n = frame_parse(buf, len, lim, f);
    if (n < 0)
        return n;
    if (f->flags & HV_FLAG_COMPRESSED) {
        int rv = hv_frame_decompress(f, lim, scratch, scratch_cap);
        if (rv < 0)
            return rv;
    }
    int rv = msg_decode(f, m);
    return rv < 0 ? rv : n;
}

/* ---- Equality ---------------------------------------------------------------------------- */

static int eq_mem(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static int eq_streams(const hv_msg_handshake_ack *a, const hv_msg_handshake_ack *b)
{
    if (a->stream_count != b->stream_count)
        return 0;
    for (unsigned i = 0; i < a->stream_count; i++)
        if (a->streams[i].stream_id != b->streams[i].stream_id ||
            a->streams[i].purpose != b->streams[i].purpose ||
            a->streams[i].priority != b->streams[i].priority)
            return 0;
    return 1;
}

static int eq_metrics(const hv_msg_metrics *a, const hv_msg_metrics *b)
{
    if (a->count != b->count)
        return 0;
    for (unsigned i = 0; i < a->count; i++) {
        const hv_wire_metric *x = &a->entries[i], *y = &b->entries[i];
        if (x->kind != y->kind || memcmp(&x->value, &y->value, 8) != 0 ||
            x->name.len != y->name.len || !eq_mem(x->name.ptr, y->name.ptr, x->name.len))
            return 0;
    }
    return 1;
}

#define EQ_SCALAR(a, b, f) ((a)->f == (b)->f)
#define EQ_BITS_(a, b, f)  (memcmp(&(a)->f, &(b)->f, sizeof((a)->f)) == 0)
#define EQ_U8              EQ_SCALAR
#define EQ_U16             EQ_SCALAR
#define EQ_U32             EQ_SCALAR
#define EQ_U64             EQ_SCALAR
#define EQ_I32             EQ_SCALAR
#define EQ_F32             EQ_BITS_
#define EQ_F64             EQ_BITS_
#define EQ_UNIT            EQ_BITS_
#define EQ_ENUM            EQ_SCALAR
#define EQ_PRIO            EQ_SCALAR
#define EQ_BOOL            EQ_SCALAR
#define EQ_BITS            EQ_SCALAR
#define EQ_H32(a, b, f)    (memcmp((a)->f, (b)->f, HV_HASH_BYTES) == 0)
#define EQ_S64(a, b, f)    (memcmp((a)->f, (b)->f, HV_SIG_BYTES) == 0)
#define EQ_STR(a, b, f)    ((a)->f.len == (b)->f.len && eq_mem((a)->f.ptr, (b)->f.ptr, (a)->f.len))
#define EQ_BYTES           EQ_STR
#define EQ_VEC_(a, b, f, w) \
    ((a)->f.n == (b)->f.n && eq_mem((a)->f.ptr, (b)->f.ptr, (size_t)(a)->f.n * (w)))
#define EQ_F32V(a, b, f)    EQ_VEC_(a, b, f, 4)
#define EQ_U32V(a, b, f)    EQ_VEC_(a, b, f, 4)
#define EQ_U64V(a, b, f)    EQ_VEC_(a, b, f, 8)
#define EQ_STREAMS(a, b, f) eq_streams(a, b)
#define EQ_METRICS(a, b, f) eq_metrics(a, b)
#define EQ_(kind, f, aux)   &&EQ_##kind(x, y, f)

int hv_msg_equal(const hv_msg *a, const hv_msg *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
#define QCASE_(NAME, val, lower)                             \
    case HV_MSG_##NAME: {                                    \
        const hv_msg_##lower *x = &a->lower, *y = &b->lower; \
        return 1 HV_S_##lower(EQ_);                          \
    }
        HV_SCHEMA_TYPES(QCASE_)
#undef QCASE_
    case HV_MSG_BATCH:
        return a->batch.count == b->batch.count && EQ_STR(&a->batch, &b->batch, frames);
    default:
        return 0;
    }
}

/* ---- Explanations ------------------------------------------------------------------------ */

/* The validator and decoder above answer with a code; these cold functions run the same checks
 * (the same macros, in the same order) and say in words which field broke which rule. They
 * return the code the fast path returns for the same input. */

int hv__why(char *why, size_t n, int rv, const char *fmt, ...)
{
    if (why != NULL && n > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return rv;
}

/* A variable-size field (string, bytes, vector, list) that failed its rule. */
__attribute__((cold)) static int why_view(char *why, size_t n, const char *field, int rv)
{
    const char *what = rv == HV_EBADLEN      ? "over its length limit"
                       : rv == HV_EBADUTF8   ? "not valid UTF-8, or holds a NUL byte"
                       : rv == HV_ENONFINITE ? "holds a value that is not finite"
                       : rv == HV_EINVAL     ? "a NULL pointer with a nonzero length"
                                             : hv_strerror(rv);
    return hv__why(why, n, rv, "%s: %s", field, what);
}

__attribute__((cold)) static int why_enum(char *why, size_t n, const char *field, unsigned v,
                                          const hv__names *names)
{
    char list[256] = "";
    for (unsigned i = 0; i < names->n; i++) {
        strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, names->v[i], sizeof(list) - strlen(list) - 1);
    }
    return hv__why(why, n, HV_EBADFIELD, "%s: %u is not a value of its enumeration (%s = 0..%u)",
                   field, v, list, names->n - 1);
}

/* A list of records (streams, metrics) over its count limit. */
__attribute__((cold)) static int why_count(char *why, size_t n, int rv, const char *list,
                                           unsigned count, unsigned max)
{
    return hv__why(why, n, rv, "%s: %u records, more than %u", list, count, max);
}

__attribute__((cold)) static int why_streams(char *why, size_t n, uint8_t count,
                                             const hv_wire_stream *s, int rv)
{
    if (count > HV_STREAMS_MAX)
        return why_count(why, n, rv, "payload.streams", count, HV_STREAMS_MAX);
    for (unsigned i = 0; i < count; i++) {
        if (s[i].purpose >= hv__purpose_names.n)
            return hv__why(why, n, rv, "payload.streams[%u].purpose: %u is not a purpose (0..%u)",
                           i, s[i].purpose, hv__purpose_names.n - 1);
        if (s[i].priority > HV_PRIORITY_MAX)
            return hv__why(why, n, rv, "payload.streams[%u].priority: %u is above %d", i,
                           s[i].priority, HV_PRIORITY_MAX);
    }
    return hv__why(why, n, rv, "payload.streams: %s", hv_strerror(rv));
}

__attribute__((cold)) static int why_metrics(char *why, size_t n, uint8_t count,
                                             const hv_wire_metric *e, int rv)
{
    if (count > HV_METRICS_MAX)
        return why_count(why, n, rv, "payload.entries", count, HV_METRICS_MAX);
    for (unsigned i = 0; i < count; i++) {
        if (e[i].name.len == 0 || e[i].name.len > HV_METRIC_NAME_MAX)
            return hv__why(why, n, rv, "payload.entries[%u].name: %u bytes, not 1..%d", i,
                           e[i].name.len, HV_METRIC_NAME_MAX);
        if (val_str(e[i].name) != 0)
            return why_view(why, n, "payload.entries[].name", val_str(e[i].name));
        if (e[i].kind >= hv__metric_kind_names.n)
            return why_enum(why, n, "payload.entries[].kind", e[i].kind, &hv__metric_kind_names);
        if (!isfinite(e[i].value))
            return hv__why(why, n, rv, "payload.entries[%u].value: not finite", i);
    }
    return hv__why(why, n, rv, "payload.entries: %s", hv_strerror(rv));
}

#define XD_NEVER(m, f, aux) rv
#define XD_U8               XD_NEVER
#define XD_U16              XD_NEVER
#define XD_U32              XD_NEVER
#define XD_U64              XD_NEVER
#define XD_I32              XD_NEVER
#define XD_H32              XD_NEVER
#define XD_S64              XD_NEVER
#define XD_F32(m, f, aux)   hv__why(why, n, rv, "payload." #f ": %g is not finite", (double)(m)->f)
#define XD_F64(m, f, aux)   hv__why(why, n, rv, "payload." #f ": %g is not finite", (m)->f)
#define XD_UNIT(m, f, aux)                                          \
    hv__why(why, n, rv, "payload." #f ": %g is %s", (double)(m)->f, \
            rv == HV_ENONFINITE ? "not finite" : "outside 0..1")
#define XD_ENUM(m, f, aux) why_enum(why, n, "payload." #f, (m)->f, &(aux))
#define XD_PRIO(m, f, aux) \
    hv__why(why, n, rv, "payload." #f ": %u is above %d", (m)->f, HV_PRIORITY_MAX)
#define XD_BOOL(m, f, aux) hv__why(why, n, rv, "payload." #f ": %u is neither 0 nor 1", (m)->f)
#define XD_BITS(m, f, aux)                                                                  \
    hv__why(why, n, rv, "payload." #f ": 0x%02x has bits outside 0x%02x", (unsigned)(m)->f, \
            (unsigned)(aux))
#define XD_STR(m, f, aux)     why_view(why, n, "payload." #f, rv)
#define XD_BYTES              XD_STR
#define XD_F32V               XD_STR
#define XD_U64V               XD_STR
#define XD_U32V               XD_STR
#define XD_STREAMS(m, f, aux) why_streams(why, n, (m)->stream_count, (m)->f, rv)
#define XD_METRICS(m, f, aux) why_metrics(why, n, (m)->count, (m)->f, rv)
#define XV_(kind, f, aux)                  \
    if ((rv = VAL_##kind(m, f, aux)) != 0) \
        return XD_##kind(m, f, aux);

/* A variable-size field whose length or count does not fit the payload. */
#define XS_(kind, f, aux)                                                                     \
    if ((rv = DV_##kind(m, f)) != 0)                                                          \
        return hv__why(why, n, rv,                                                            \
                       "payload." #f ": its length or count at payload byte %zu is over its " \
                       "limit or reaches past the end of the payload",                        \
                       (size_t)(p - start));

#define EXPLAIN_TYPE_(NAME, val, lower)                                                            \
    __attribute__((cold)) static int explain_##lower(const hv_msg_##lower *m, char *why, size_t n) \
    {                                                                                              \
        int rv = 0;                                                                                \
        const char *w = "";                                                                        \
        HV_S_##lower(XV_) rv = check_##lower(m, &w);                                               \
        return rv != 0 ? hv__why(why, n, rv, "%s", w) : 0;                                         \
    }                                                                                              \
    __attribute__((cold)) static int explain_decode_##lower(                                       \
        const uint8_t *p, const uint8_t *end, hv_msg_##lower *m, const uint8_t **stop, char *why,  \
        size_t n)                                                                                  \
    {                                                                                              \
        int rv = 0;                                                                                \
        const uint8_t *start = p;                                                                  \
        if ((size_t)(end - p) < (size_t)fixed_##lower)                                             \
            return hv__why(why, n, HV_EBADLEN,                                                     \
                           "payload: %zu bytes, fewer than the %d of its fixed part",              \
                           (size_t)(end - p), (int)fixed_##lower);                                 \
        HV_S_##lower(DF_) HV_S_##lower(XS_) *stop = p;                                             \
        return explain_##lower(m, why, n);                                                         \
    }
HV_SCHEMA_TYPES(EXPLAIN_TYPE_)
#undef EXPLAIN_TYPE_

__attribute__((cold)) static int explain_batch(const hv_msg_batch *m, char *why, size_t n)
{
    int rv = validate_batch(m);
    if (rv == 0)
        return 0;
    if (m->count == 0 || m->count > HV_BATCH_FRAMES_MAX)
        return hv__why(why, n, rv, "payload.count: %u, not 1..%d", m->count, HV_BATCH_FRAMES_MAX);
    if (m->frames.len / HV_FRAME_HEADER_BYTES < m->count)
        return hv__why(why, n, rv, "payload.count: %u frames cannot fit in %u bytes", m->count,
                       m->frames.len);
    return why_view(why, n, "payload.frames", rv);
}

int hv__msg_explain_rules(const hv_msg *m, char *why, size_t n)
{
    switch (m->type) {
#define XCASE_(NAME, val, lower) \
    case HV_MSG_##NAME:          \
        return explain_##lower(&m->lower, why, n);
        HV_SCHEMA_TYPES(XCASE_)
#undef XCASE_
    case HV_MSG_BATCH:
        return explain_batch(&m->batch, why, n);
    default:
        return hv__why(why, n, HV_EBADTYPE, "type %u is not a message type", m->type);
    }
}

int hv__msg_explain(const hv_frame *f, char *why, size_t n)
{
    if (f->flags & HV_FLAG_COMPRESSED)
        return hv__why(why, n, HV_EBADFLAGS, "payload: still compressed");
    const uint8_t *p = f->payload.ptr, *end = p + f->payload.len, *stop = end;
    hv_msg m;
    int rv;
    switch (f->type) {
#define XCASE_(NAME, val, lower)                                                 \
    case HV_MSG_##NAME:                                                          \
        if ((rv = explain_decode_##lower(p, end, &m.lower, &stop, why, n)) != 0) \
            return rv;                                                           \
        break;
        HV_SCHEMA_TYPES(XCASE_)
#undef XCASE_
    case HV_MSG_BATCH:
        if (f->payload.len < 4)
            return hv__why(why, n, HV_EBADLEN, "payload: %u bytes, fewer than its 4-byte count",
                           f->payload.len);
        m.batch.count = hv__ld32(p);
        m.batch.frames.ptr = p + 4;
        m.batch.frames.len = f->payload.len - 4;
        return explain_batch(&m.batch, why, n);
    default:
        return hv__why(why, n, HV_EBADTYPE, "type 0x%02x is not a message type", f->type);
    }
    if (stop != end && f->version_minor <= HV_WIRE_VERSION_MINOR)
        return hv__why(why, n, HV_ETRAILING, "payload: %zu bytes after its last field",
                       (size_t)(end - stop));
    return 0;
}

/* Why hv_frame_parse() refused buf with rv. */
__attribute__((cold)) static int explain_header(const uint8_t *buf, size_t len,
                                                const hv_codec_limits *lim, int rv, char *why,
                                                size_t n)
{
    uint64_t total = len >= 16 ? (uint64_t)buf[8] + buf[9] + hv__ld32(buf + 12) : 0;
    switch (rv) {
    case HV_ETRUNCATED:
        if (len < HV_FRAME_HEADER_BYTES)
            return hv__why(why, n, rv, "%zu bytes, fewer than the %d of a frame header", len,
                           HV_FRAME_HEADER_BYTES);
        return hv__why(why, n, rv, "the frame is %llu bytes; only %zu are there",
                       (unsigned long long)total, len);
    case HV_EBADMAGIC:
        return hv__why(why, n, rv, "starts %02x %02x %02x %02x, not 48 56 57 31 (\"HVW1\")", buf[0],
                       buf[1], buf[2], buf[3]);
    case HV_EBADVERSION:
        return hv__why(why, n, rv, "version %u.%u; this decoder reads version %d", buf[4], buf[5],
                       HV_WIRE_VERSION_MAJOR);
    case HV_EBADTYPE:
        return hv__why(why, n, rv, "type 0x%02x is not a message type", buf[6]);
    case HV_EBADFLAGS:
        return hv__why(why, n, rv, "flags 0x%02x: reserved bits 0x%02x are set", buf[7],
                       buf[7] & ~HV_FLAGS_KNOWN & 0xffu);
    case HV_EBADLEN:
        return hv__why(why, n, rv, "header_len %u: version %u.%u headers are %d bytes", buf[8],
                       buf[4], buf[5], HV_FRAME_HEADER_BYTES);
    case HV_ETOOBIG:
        return hv__why(why, n, rv, "the frame is %llu bytes, over the frame limit of %u",
                       (unsigned long long)total, limits_frame_max(lim));
    case HV_EBADTOPIC:
        for (unsigned i = 0; i < buf[9]; i++)
            if (!hv__topic_valid((const char *)buf + buf[8] + i, 1, 0))
                return hv__why(why, n, rv,
                               "topic byte %u is 0x%02x; topics are 0x21..0x7e without '*' or '>'",
                               i, buf[buf[8] + i]);
        return hv__why(why, n, rv,
                       buf[6] == HV_MSG_BATCH ? "a batch cannot have a topic"
                                              : "a publish needs a topic");
    default:
        return hv__why(why, n, rv, "%s", hv_strerror(rv));
    }
}

/* Why hv_frame_decompress() refused f with rv. */
__attribute__((cold)) static int explain_decompress(const hv_frame *f, const hv_codec_limits *lim,
                                                    int rv, size_t cap, char *why, size_t n)
{
    uint32_t raw = f->payload.len >= 4 ? hv__ld32(f->payload.ptr) : 0, fm, rm;
    limits_resolve(lim, &fm, &rm);
    switch (rv) {
    case HV_EBADLEN:
        return f->payload.len < 5
                   ? hv__why(why, n, rv, "compressed payload of %u bytes, fewer than 5",
                             f->payload.len)
                   : hv__why(why, n, rv, "compressed payload declares 0 bytes");
    case HV_ETOOBIG:
        return hv__why(why, n, rv,
                       "compressed payload declares %u bytes, over the decompression limit of %u",
                       raw, rm);
    case HV_ENOBUFS:
        return hv__why(why, n, rv, "compressed payload declares %u bytes, over the %zu-byte buffer",
                       raw, cap);
    default:
        return hv__why(why, n, rv,
                       "the LZ4 block is corrupt or does not yield the %u bytes declared", raw);
    }
}

int hv__frame_explain(const uint8_t *buf, size_t len, const hv_codec_limits *lim, uint8_t *scratch,
                      size_t cap, char *why, size_t n)
{
    hv_frame f;
    int rv = hv_frame_parse(buf, len, lim, &f);
    if (rv < 0)
        return explain_header(buf, len, lim, rv, why, n);
    if (f.flags & HV_FLAG_COMPRESSED) {
        hv_frame g = f;
        rv = hv_frame_decompress(&f, lim, scratch, cap);
        if (rv < 0)
            return explain_decompress(&g, lim, rv, cap, why, n);
    }
    return hv__msg_explain(&f, why, n);
}

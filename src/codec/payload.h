/*
 * HVW1 payloads, internal: what the schemas (schema.h) expand into, per kind of field: its rule
 * (VAL_), its fixed-part load (DF_) and its bounds-checked variable-part view (DV_), and each
 * type's cross-field rule and fixed-part size. The encoder and decoder (payload.c) and the
 * explanations of their errors (explain.c) both expand these, so they check the same things in
 * the same order.
 */
#ifndef HV_CODEC_PAYLOAD_H
#define HV_CODEC_PAYLOAD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/le.h"
#include "codec/schema.h"
#include "codec/text.h"

/* payload.c: whether all n f32 at p are finite (vectorised; an AVX2 clone where it helps). */
int hv__f32s_finite(const uint8_t *p, uint32_t n);

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
    return v.n == 0 || hv__f32s_finite(v.ptr, v.n) ? 0 : HV_ENONFINITE;
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

static inline int val_streams(uint8_t count, const hv_wire_stream *s)
{
    if (count > HV_STREAMS_MAX)
        return HV_EBADLEN;
    for (unsigned i = 0; i < count; i++)
        if (s[i].purpose >= hv__purpose_names_count || s[i].priority > HV_PRIORITY_MAX)
            return HV_EBADFIELD;
    return 0;
}

static inline int val_metrics(uint8_t count, const hv_wire_metric *e)
{
    if (count > HV_METRICS_MAX)
        return HV_EBADLEN;
    for (unsigned i = 0; i < count; i++) {
        if (e[i].name.len == 0 || e[i].name.len > HV_METRIC_NAME_MAX)
            return HV_EBADLEN;
        int rv = val_str(e[i].name);
        if (rv != 0)
            return rv;
        if (e[i].kind >= hv__metric_kind_names_count)
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
#define VAL_ENUM(m, f, aux)    ((m)->f < aux##_count ? 0 : HV_EBADFIELD)
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

static inline int dv_streams(const uint8_t **pp, const uint8_t *end, uint8_t *count,
                             hv_wire_stream *s)
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

static inline int dv_metrics(const uint8_t **pp, const uint8_t *end, uint8_t *count,
                             hv_wire_metric *e)
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

/* ---- Fixed-part sizes -------------------------------------------------------------------- */

#define HV__FIXED_(NAME, val, lower) enum { hv__fixed_##lower = 0 HV_S_##lower(HV_FSZ_) };
HV_MSG_SCHEMA_TYPE_MAP(HV__FIXED_)
#undef HV__FIXED_

/* ---- Batches as payloads ----------------------------------------------------------------- */

/* A batch payload: a count of 1..65535, and room for that many headers. */
static inline int validate_batch(const hv_msg_batch *m)
{
    if (m->count == 0 || m->count > HV_BATCH_FRAMES_MAX)
        return HV_EBADLEN;
    if (m->frames.len / HV_FRAME_HEADER_BYTES < m->count)
        return HV_EBADLEN;
    return val_bytes(m->frames);
}

#endif

/*
 * HVW1 payloads: validation, sizes, encoding and decoding of every message type, expanded from
 * the schemas in schema.h (through payload.h) into straight-line loads and stores: one bounds
 * check for the fixed part of a payload, one per variable-size field. Whole frames, encoded
 * (hv_frame_encode) and decoded (hv_decode), with the header code of frame.h inline.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/frame.h"
#include "codec/le.h"
#include "codec/payload.h"

/* ---- Finiteness of f32 vectors ----------------------------------------------------------- */

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

HV_VECTOR_CLONES int hv__f32s_finite(const uint8_t *p, uint32_t n)
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

/* ---- Per-type functions, expanded from the schemas --------------------------------------- */

#define GEN_TYPE_(NAME, val, lower)                                                           \
    static int validate_##lower(const hv_msg_##lower *m)                                      \
    {                                                                                         \
        int rv = 0;                                                                           \
        const char *why;                                                                      \
        HV_S_##lower(VAL_) return check_##lower(m, &why);                                     \
    }                                                                                         \
    static inline size_t size_##lower(const hv_msg_##lower *m)                                \
    {                                                                                         \
        return (size_t)hv__fixed_##lower HV_S_##lower(VSZ_);                                  \
    }                                                                                         \
    static inline uint8_t *encode_##lower(uint8_t *p, const hv_msg_##lower *m)                \
    {                                                                                         \
        HV_S_##lower(EF_) HV_S_##lower(EV_) return p;                                         \
    }                                                                                         \
    static inline int decode_##lower(const uint8_t *p, const uint8_t *end, hv_msg_##lower *m, \
                                     const uint8_t **stop)                                    \
    {                                                                                         \
        int rv = 0;                                                                           \
        if ((size_t)(end - p) < (size_t)hv__fixed_##lower)                                    \
            return HV_EBADLEN;                                                                \
        HV_S_##lower(DF_) HV_S_##lower(DV_) *stop = p;                                        \
        return rv;                                                                            \
    }
HV_MSG_SCHEMA_TYPE_MAP(GEN_TYPE_)
#undef GEN_TYPE_

/* ---- Public: messages -------------------------------------------------------------------- */

int hv__msg_validate(const hv_msg *m)
{
    switch (m->type) {
#define VCASE_(NAME, val, lower) \
    case HV_MSG_##NAME:          \
        return validate_##lower(&m->lower);
        HV_MSG_SCHEMA_TYPE_MAP(VCASE_)
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
        HV_MSG_SCHEMA_TYPE_MAP(PCASE_)
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
        HV_MSG_SCHEMA_TYPE_MAP(DCASE_)
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

int hv_msg_decode(const hv_frame *f, hv_msg *m)
{
    return msg_decode(f, m);
}

/* ---- Public: frames ---------------------------------------------------------------------- */

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
    int rv = hv__topic_rules(m->type, f->topic.len, f->topic_id);
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
        HV_MSG_SCHEMA_TYPE_MAP(FCASE_)
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
    int n = hv__frame_parse(buf, len, lim, f);
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

/*
 * Explanations of the codec's errors, for messages (cold; they allocate nothing). The fast
 * validator and decoder answer with a code; these run the same checks, from the same macros
 * (payload.h) in the same order, and say in words which field or byte broke which rule. Each
 * returns the code its fast counterpart returns for the same input (the tests and the
 * codec_decode fuzzer check that).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/frame.h"
#include "codec/le.h"
#include "codec/payload.h"

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
        if ((size_t)(end - p) < (size_t)hv__fixed_##lower)                                         \
            return hv__why(why, n, HV_EBADLEN,                                                     \
                           "payload: %zu bytes, fewer than the %d of its fixed part",              \
                           (size_t)(end - p), (int)hv__fixed_##lower);                             \
        HV_S_##lower(DF_) HV_S_##lower(XS_) *stop = p;                                             \
        return explain_##lower(m, why, n);                                                         \
    }
HV_MSG_SCHEMA_TYPE_MAP(EXPLAIN_TYPE_)
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
        HV_MSG_SCHEMA_TYPE_MAP(XCASE_)
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
        HV_MSG_SCHEMA_TYPE_MAP(XCASE_)
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
                       (unsigned long long)total, hv__frame_max_of(lim));
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
    hv__limits_resolve(lim, &fm, &rm);
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

/*
 * HVW1 frame headers, internal to the codec: the limits a decoder applies, the topic rules of a
 * frame, and the 48-byte header read (a fast path for this decoder's own version, inline, so
 * that hv_decode() is one straight run) and written. Used by the payload, compression, batch
 * and codec layers above it; it uses only the text checks and the type table below it.
 */
#ifndef HV_CODEC_FRAME_H
#define HV_CODEC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/le.h"
#include "codec/text.h"
#include "codec/types.h"

/* The frame limit lim sets (NULL or 0: the default), never above the ceiling. */
static inline uint32_t hv__frame_max_of(const hv_codec_limits *lim)
{
    uint32_t fm = lim && lim->frame_max_bytes ? lim->frame_max_bytes : HV_FRAME_MAX_DEFAULT;
    return fm < HV_FRAME_MAX_CEILING ? fm : HV_FRAME_MAX_CEILING;
}

/* Both limits lim sets: frames, and decompressed payloads (by default the frame limit). */
static inline void hv__limits_resolve(const hv_codec_limits *lim, uint32_t *frame_max,
                                      uint32_t *raw_max)
{
    uint32_t fm = hv__frame_max_of(lim);
    uint32_t rm = lim && lim->decompressed_max_bytes ? lim->decompressed_max_bytes : fm;
    if (rm > HV_FRAME_MAX_CEILING)
        rm = HV_FRAME_MAX_CEILING;
    *frame_max = fm;
    *raw_max = rm;
}

/* A publish carries a topic (literal or interned); a batch carries none. */
static inline int hv__topic_rules(unsigned type, size_t topic_len, unsigned topic_id)
{
    int has_topic = topic_len > 0 || topic_id != 0;
    if (type == HV_MSG_PUBLISH && !has_topic)
        return HV_EBADTOPIC;
    if (type == HV_MSG_BATCH && has_topic)
        return HV_EBADTOPIC;
    return 0;
}

/* Every frame check, each error told apart (frame.c): frames the fast path does not take. */
__attribute__((noinline, cold)) int hv__frame_parse_slow(const uint8_t *buf, size_t len,
                                                         const hv_codec_limits *lim, hv_frame *f);

/* Bytes 0..5 of a header of this decoder's own version: magic, major, minor. */
#define HV__OWN_HEADER_START                                           \
    ((uint64_t)HV_WIRE_MAGIC | (uint64_t)HV_WIRE_VERSION_MAJOR << 32 | \
     (uint64_t)HV_WIRE_VERSION_MINOR << 40)

/* The usual frame, of this decoder's own version, is checked with a few word compares; every
 * other one, bad or newer, goes to hv__frame_parse_slow(). The header is read into locals before
 * anything is stored, so the stores to f need not wait on reloads from buf. */
static inline int hv__frame_parse(const uint8_t *buf, size_t len, const hv_codec_limits *lim,
                                  hv_frame *f)
{
    if (len < HV_FRAME_HEADER_BYTES)
        return hv__frame_parse_slow(buf, len, lim, f);
    uint64_t w0 = hv__ld64(buf), w1 = hv__ld64(buf + 8);
    unsigned type = (unsigned)(w0 >> 48) & 0xff, flags = (unsigned)(w0 >> 56);
    uint32_t topic_len = (uint32_t)(w1 >> 8) & 0xff, payload_len = (uint32_t)(w1 >> 32);
    uint64_t total = HV_FRAME_HEADER_BYTES + (uint64_t)topic_len + payload_len;
    if ((w0 & 0xffffffffffffull) != HV__OWN_HEADER_START || (w1 & 0xff) != HV_FRAME_HEADER_BYTES ||
        !hv__type_known(type) || (flags & ~HV_FLAGS_KNOWN) != 0 || total > hv__frame_max_of(lim) ||
        len < total)
        return hv__frame_parse_slow(buf, len, lim, f);
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
    int rv = hv__topic_rules(type, topic_len, f->topic_id);
    return rv != 0 ? rv : (int)total;
}

/* Writes the 48-byte header of this encoder's version (1.0) at p. f gives seq, correlation
 * id, timestamp and sender (NULL: zeros). */
static inline void hv__frame_header_write(uint8_t *p, unsigned type, unsigned flags,
                                          size_t topic_len, uint16_t topic_id, size_t payload_len,
                                          const hv_frame *f)
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

#endif

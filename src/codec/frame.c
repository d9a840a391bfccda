/*
 * HVW1 frame headers: every header check in order, each error told apart (the slow path of
 * hv__frame_parse() in frame.h), and the public hv_frame_parse().
 */
#include <stddef.h>
#include <stdint.h>

#include <hivewire/codec.h>

#include "codec/frame.h"

/* Any frame hv__frame_parse() does not take on its fast path: tells each error apart, and reads
 * frames of newer minor versions, whose headers may be longer. */
int hv__frame_parse_slow(const uint8_t *buf, size_t len, const hv_codec_limits *lim, hv_frame *f)
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
    hv__limits_resolve(lim, &frame_max, &raw_max);
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
    int rv = hv__topic_rules(f->type, topic_len, f->topic_id);
    if (rv != 0)
        return rv;
    return (int)total;
}

/* The public entry point calls the inline body, as hv_decode() does. */
int hv_frame_parse(const uint8_t *buf, size_t len, const hv_codec_limits *lim, hv_frame *f)
{
    return hv__frame_parse(buf, len, lim, f);
}

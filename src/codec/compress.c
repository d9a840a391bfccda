/*
 * LZ4 payloads (docs/PROTOCOL.md section 8): decompression with a bomb limit, and compression of
 * a finished frame that keeps it only when strictly smaller.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lz4.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/frame.h"
#include "codec/le.h"

int hv_frame_decompress(hv_frame *f, const hv_codec_limits *lim, uint8_t *dst, size_t cap)
{
    if (!(f->flags & HV_FLAG_COMPRESSED))
        return (int)f->payload.len;
    if (f->payload.len < 5)
        return HV_EBADLEN;
    uint32_t raw = hv__ld32(f->payload.ptr), frame_max, raw_max;
    hv__limits_resolve(lim, &frame_max, &raw_max);
    if (raw == 0)
        return HV_EBADLEN;
    if (raw > raw_max)
        return HV_ETOOBIG;
    if (raw > cap || dst == NULL)
        return HV_ENOBUFS;
    int n = LZ4_decompress_safe((const char *)f->payload.ptr + 4, (char *)dst,
                                (int)(f->payload.len - 4), (int)raw);
    if (n < 0 || (uint32_t)n != raw)
        return HV_EDECOMPRESS;
    f->payload.ptr = dst;
    f->payload.len = raw;
    f->flags &= (uint8_t)~HV_FLAG_COMPRESSED;
    return (int)raw;
}

size_t hv__frame_compress(void *lz4_state, uint8_t *dst, size_t cap, const uint8_t *src, size_t n,
                          size_t off)
{
    size_t raw = n - off;
    /* The 4-byte length prefix and LZ4's token byte make payloads below 6 bytes grow. */
    if (raw < 6 || cap <= off + 4 || raw > (size_t)LZ4_MAX_INPUT_SIZE)
        return 0;
    size_t room = cap - off - 4;
    if (room > raw - 5) /* at most n - 1 bytes in all: strictly smaller than the original */
        room = raw - 5;
    int clen = LZ4_compress_fast_extState(lz4_state, (const char *)src + off, (char *)dst + off + 4,
                                          (int)raw, (int)room, 1);
    if (clen <= 0)
        return 0;
    memcpy(dst, src, off);
    dst[7] |= HV_FLAG_COMPRESSED;
    hv__st32(dst + 12, (uint32_t)clen + 4);
    hv__st32(dst + off, (uint32_t)raw);
    return off + 4 + (size_t)clen;
}

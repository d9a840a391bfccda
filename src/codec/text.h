/*
 * Text checks for the codec: UTF-8 strings and topics. They run on every string and topic a
 * frame carries, in the encoder and the decoder, so the common case (ASCII, at most a few dozen
 * bytes) is inline. Where the target has 16-byte vectors (SSE2 on x86-64, NEON on arm) it checks
 * sixteen bytes at a time with GCC/Clang vector extensions, in which a lane compare yields 0 or
 * all ones per byte; elsewhere it checks byte by byte.
 */
#ifndef HV_CODEC_TEXT_H
#define HV_CODEC_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hivewire/codec.h>

#ifndef HV__TEXT_V16 /* tests set it to 0 to test the byte-by-byte checks */
#if defined(__SSE2__) || defined(__ARM_NEON)
#define HV__TEXT_V16 1
#else
#define HV__TEXT_V16 0
#endif
#endif

#if HV__TEXT_V16

typedef uint8_t hv__v16u __attribute__((vector_size(16)));
typedef int8_t hv__v16s __attribute__((vector_size(16)));

/* Bytes s[0..n), 1 <= n <= 16, in all sixteen lanes; lanes past n repeat bytes of s, so a
 * per-byte check sees only bytes of the text and nothing is read outside it. */
static inline hv__v16u hv__v16_load_short(const uint8_t *s, size_t n)
{
    uint64_t w[2];
    if (n >= 8) {
        memcpy(&w[0], s, 8);
        memcpy(&w[1], s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w[0] = w[1] = a | (uint64_t)b << 32;
    } else {
        uint64_t x = s[0] | (uint64_t)s[n >> 1] << 8 | (uint64_t)s[n - 1] << 16;
        x |= x << 24;
        w[0] = w[1] = x | x << 48;
    }
    hv__v16u v;
    memcpy(&v, w, 16);
    return v;
}

static inline int hv__v16_any(hv__v16u v)
{
    uint64_t w[2];
    memcpy(w, &v, 16);
    return (w[0] | w[1]) != 0;
}

/* ORs CHECK(v) over s[0..n) into the hv__v16u `acc`; the last block overlaps the one before
 * it, so there is no byte loop. n = 0 reads nothing. */
#define HV__V16_SCAN(s, n, acc, CHECK)                      \
    do {                                                    \
        if ((n) <= 16) {                                    \
            if ((n) > 0)                                    \
                acc |= CHECK(hv__v16_load_short((s), (n))); \
            break;                                          \
        }                                                   \
        hv__v16u v_;                                        \
        for (size_t i_ = 0; i_ + 16 < (n); i_ += 16) {      \
            memcpy(&v_, (s) + i_, 16);                      \
            acc |= CHECK(v_);                               \
        }                                                   \
        memcpy(&v_, (s) + (n)-16, 16);                      \
        acc |= CHECK(v_);                                   \
    } while (0)

/* NUL or a byte >= 0x80: as a signed byte, below 1. */
#define HV__UTF8_ASCII_CHECK(v) ((hv__v16u)((hv__v16s)(v) < 1))

/* Outside 0x21..0x7e: adding 0x5f maps that range onto the signed bytes -128..-35. */
#define HV__TOPIC_CHECK(v) ((hv__v16u)((hv__v16s)((v) + 0x5f) > -35))
#define HV__TOPIC_LITERAL_CHECK(v) \
    (HV__TOPIC_CHECK(v) | (hv__v16u)((v) == '*') | (hv__v16u)((v) == '>'))

#endif

/* Text that is not plain ASCII: NUL bytes refused, multibyte sequences checked one by one. */
int hv__utf8_valid_slow(const uint8_t *s, size_t n);

/* Valid UTF-8 without NUL bytes (JSON strings and C consumers both need that). */
static inline int hv__utf8_valid(const uint8_t *s, size_t n)
{
    if (n == 0)
        return 1;
#if HV__TEXT_V16
    hv__v16u bad = { 0 };
    HV__V16_SCAN(s, n, bad, HV__UTF8_ASCII_CHECK);
    return hv__v16_any(bad) ? hv__utf8_valid_slow(s, n) : 1;
#else
    for (size_t i = 0; i < n; i++)
        if (s[i] == 0 || s[i] >= 0x80)
            return hv__utf8_valid_slow(s, n);
    return 1;
#endif
}

/* Topics: 1..255 bytes of 0x21..0x7e; literal topics (not patterns) without '*' or '>'. */
static inline int hv__topic_valid(const char *s, size_t n, int allow_wildcards)
{
    if (n == 0 || n > HV_TOPIC_MAX_BYTES)
        return 0;
#if HV__TEXT_V16
    hv__v16u bad = { 0 };
    if (allow_wildcards)
        HV__V16_SCAN((const uint8_t *)s, n, bad, HV__TOPIC_CHECK);
    else
        HV__V16_SCAN((const uint8_t *)s, n, bad, HV__TOPIC_LITERAL_CHECK);
    return !hv__v16_any(bad);
#else
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || (!allow_wildcards && (c == '*' || c == '>')))
            return 0;
    }
    return 1;
#endif
}

#endif

/* Little-endian loads and stores for the codec: one memcpy each on little-endian hosts. */
#ifndef HV_CODEC_LE_H
#define HV_CODEC_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HV_HOST_LE 1
#else
#define HV_HOST_LE 0
#endif

static inline uint16_t hv__ld16(const uint8_t *p)
{
#if HV_HOST_LE
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
#else
    return (uint16_t)(p[0] | p[1] << 8);
#endif
}

static inline uint32_t hv__ld32(const uint8_t *p)
{
#if HV_HOST_LE
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
#endif
}

static inline uint64_t hv__ld64(const uint8_t *p)
{
#if HV_HOST_LE
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)hv__ld32(p) | (uint64_t)hv__ld32(p + 4) << 32;
#endif
}

static inline void hv__st16(uint8_t *p, uint16_t v)
{
#if HV_HOST_LE
    memcpy(p, &v, 2);
#else
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
#endif
}

static inline void hv__st32(uint8_t *p, uint32_t v)
{
#if HV_HOST_LE
    memcpy(p, &v, 4);
#else
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline void hv__st64(uint8_t *p, uint64_t v)
{
#if HV_HOST_LE
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline float hv__ldf32(const uint8_t *p)
{
    uint32_t u = hv__ld32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double hv__ldf64(const uint8_t *p)
{
    uint64_t u = hv__ld64(p);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static inline void hv__stf32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    hv__st32(p, u);
}

static inline void hv__stf64(uint8_t *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    hv__st64(p, u);
}

/* Copies n little-endian words of `width` bytes from a view to the wire (or back). */
static inline void hv__copy_le(uint8_t *dst, const void *src, size_t n, size_t width)
{
#if HV_HOST_LE
    memcpy(dst, src, n * width);
#else
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < width; b++)
            dst[i * width + b] = s[i * width + (width - 1 - b)];
#endif
}

/* Copies s[0..n) for w <= n <= 2w as the first and the last w bytes (they may overlap); with
 * a constant w each move is one load and one store. */
__attribute__((always_inline)) static inline void hv__copy_ends(uint8_t *dst, const uint8_t *s,
                                                                size_t n, size_t w)
{
    uint8_t a[16], b[16];
    memcpy(a, s, w);
    memcpy(b, s + n - w, w);
    memcpy(dst, a, w);
    memcpy(dst + n - w, b, w);
}

/* memcpy() for the short variable-length fields frames carry (topics, names, small blobs): up
 * to 32 bytes inline, with no call and no byte loop; longer through memcpy(). */
static inline void hv__copy_short(uint8_t *dst, const void *src, size_t n)
{
    const uint8_t *s = src;
    if (n > 32) {
        memcpy(dst, s, n);
    } else if (n >= 16) {
        hv__copy_ends(dst, s, n, 16);
    } else if (n >= 8) {
        hv__copy_ends(dst, s, n, 8);
    } else if (n >= 4) {
        hv__copy_ends(dst, s, n, 4);
    } else if (n > 0) {
        uint8_t a = s[0], b = s[n >> 1], c = s[n - 1];
        dst[0] = a;
        dst[n >> 1] = b;
        dst[n - 1] = c;
    }
}

#endif

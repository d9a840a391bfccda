/*
 * Internal: a bounded little-endian writer and a checked reader, for the state that the
 * replicated log snapshots (the exchange, the portfolio, the limits, the log's own state).
 *
 * The writer never writes past `cap`: once full it keeps counting, so one pass with
 * buf == NULL (or too small) gives the exact size needed. The reader never reads past `len`:
 * a read beyond the end sets `bad` and returns 0, so a decoder reads every field, then checks
 * `bad` once (and its own field rules) before it changes anything.
 */
#ifndef HV_CORE_SER_H
#define HV_CORE_SER_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct hv_wr {
    uint8_t *p;
    size_t cap, len; /* len: bytes the value needs, written or not */
} hv_wr;

typedef struct hv_rd {
    const uint8_t *p;
    size_t len, off;
    int bad; /* a read went past the end */
} hv_rd;

static inline void hv__wr_bytes(hv_wr *w, const void *src, size_t n)
{
    if (w->p != NULL && w->len <= w->cap && n <= w->cap - w->len)
        memcpy(w->p + w->len, src, n);
    w->len += n;
}

static inline void hv__wr_u64(hv_wr *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hv__wr_bytes(w, b, 8);
}

static inline void hv__wr_u32(hv_wr *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    hv__wr_bytes(w, b, 4);
}

static inline void hv__wr_u8(hv_wr *w, uint8_t v)
{
    hv__wr_bytes(w, &v, 1);
}

static inline void hv__wr_i64(hv_wr *w, int64_t v)
{
    hv__wr_u64(w, (uint64_t)v);
}

static inline void hv__wr_f64(hv_wr *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    hv__wr_u64(w, u);
}

/* 1 when everything written fit in cap. */
static inline int hv__wr_fits(const hv_wr *w)
{
    return w->p != NULL && w->len <= w->cap;
}

static inline const uint8_t *hv__rd_take(hv_rd *r, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

static inline uint64_t hv__rd_u64(hv_rd *r)
{
    const uint8_t *p = hv__rd_take(r, 8);
    uint64_t v = 0;
    for (int i = 0; p != NULL && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline uint32_t hv__rd_u32(hv_rd *r)
{
    const uint8_t *p = hv__rd_take(r, 4);
    uint32_t v = 0;
    for (int i = 0; p != NULL && i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static inline uint8_t hv__rd_u8(hv_rd *r)
{
    const uint8_t *p = hv__rd_take(r, 1);
    return p != NULL ? p[0] : 0;
}

static inline int64_t hv__rd_i64(hv_rd *r)
{
    return (int64_t)hv__rd_u64(r);
}

/* A double; a non-finite one marks the reader bad (no state of ours holds one). */
static inline double hv__rd_f64(hv_rd *r)
{
    uint64_t u = hv__rd_u64(r);
    double v;
    memcpy(&v, &u, 8);
    if (!isfinite(v)) {
        r->bad = 1;
        return 0;
    }
    return v;
}

static inline void hv__rd_bytes(hv_rd *r, void *dst, size_t n)
{
    const uint8_t *p = hv__rd_take(r, n);
    if (p != NULL)
        memcpy(dst, p, n);
    else
        memset(dst, 0, n);
}

#endif

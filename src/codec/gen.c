/*
 * Seeded random messages of every type, for property tests, fuzz seeds and benchmarks. Every
 * generated message is valid (it encodes); variable fields live in a caller arena.
 */
#include <string.h>

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#include "codec/gen.h"
#include "codec/schema.h"

typedef struct arena {
    uint8_t *p;
    size_t left;
    int oom;
} arena;

static void *take(arena *a, size_t n)
{
    if (n > a->left) {
        a->oom = 1;
        return NULL;
    }
    void *p = a->p;
    a->p += n;
    a->left -= n;
    return p;
}

static uint32_t rlen(hv_rng *r, uint32_t max)
{
    /* Mostly short, sometimes empty, sometimes the maximum. */
    uint64_t k = hv_rng_below(r, 16);
    if (k == 0)
        return 0;
    if (k == 1)
        return max;
    return (uint32_t)hv_rng_below(r, max + 1);
}

static float rf32(hv_rng *r)
{
    uint32_t u = (uint32_t)hv_rng_next(r);
    if ((u & 0x7f800000u) == 0x7f800000u)
        u &= ~0x40000000u; /* keep it finite */
    if (hv_rng_below(r, 4) == 0)
        return (float)(hv_rng_normal(r) * 100.0);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double rf64(hv_rng *r)
{
    uint64_t u = hv_rng_next(r);
    if ((u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull)
        u &= ~0x4000000000000000ull;
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static float runit(hv_rng *r)
{
    uint64_t k = hv_rng_below(r, 8);
    return k == 0 ? 0.0f : k == 1 ? 1.0f : (float)hv_rng_uniform(r);
}

static hv_str rstr(hv_rng *r, arena *a, uint32_t max)
{
    static const char *const pieces[] = { "a",
                                          "b",
                                          "z",
                                          "0",
                                          " ",
                                          ".",
                                          "\"",
                                          "\\",
                                          "\n",
                                          "\xc3\xa9",
                                          "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80" };
    uint32_t want = rlen(r, max);
    hv_str s = { NULL, 0 };
    char *p = take(a, want);
    if (p == NULL)
        return s;
    uint32_t n = 0;
    while (n < want) {
        const char *pc = pieces[hv_rng_below(r, sizeof(pieces) / sizeof(pieces[0]))];
        size_t l = strlen(pc);
        if (n + l > want)
            pc = "x", l = 1;
        memcpy(p + n, pc, l);
        n += (uint32_t)l;
    }
    s.ptr = p;
    s.len = n;
    return s;
}

static hv_bytes rbytes(hv_rng *r, arena *a, uint32_t max)
{
    hv_bytes b = { NULL, 0 };
    uint32_t n = rlen(r, max);
    uint8_t *p = take(a, n);
    if (p == NULL)
        return b;
    for (uint32_t i = 0; i < n; i++)
        p[i] = (uint8_t)hv_rng_next(r);
    b.ptr = p;
    b.len = n;
    return b;
}

static hv_f32v rf32v_n(hv_rng *r, arena *a, uint32_t n)
{
    hv_f32v v = { NULL, 0 };
    float *p = take(a, (size_t)n * 4);
    if (p == NULL)
        return v;
    for (uint32_t i = 0; i < n; i++)
        p[i] = rf32(r);
    v.ptr = p;
    v.n = n;
    return v;
}

static void rraw(hv_rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)hv_rng_next(r);
}

static void rtopic_into(hv_rng *r, char *p, uint32_t n, int wild)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789_-";
    for (uint32_t i = 0; i < n; i++)
        p[i] = alpha[hv_rng_below(r, sizeof(alpha) - 1)];
    for (uint32_t i = 1; i + 1 < n; i += 1 + (uint32_t)hv_rng_below(r, 6))
        p[i] = '.';
    if (wild && n >= 1 && hv_rng_below(r, 2))
        p[n - 1] = hv_rng_below(r, 2) ? '*' : '>';
}

static hv_str rtopic(hv_rng *r, arena *a, int wild)
{
    hv_str s = { NULL, 0 };
    uint32_t n = 1 + (uint32_t)hv_rng_below(r, 40);
    char *p = take(a, n);
    if (p == NULL)
        return s;
    rtopic_into(r, p, n, wild);
    s.ptr = p;
    s.len = n;
    return s;
}

static void rstreams(hv_rng *r, uint8_t *count, hv_wire_stream *s)
{
    *count = (uint8_t)hv_rng_below(r, HV_STREAMS_MAX + 1);
    for (unsigned i = 0; i < *count; i++) {
        s[i].stream_id = (uint16_t)hv_rng_next(r);
        s[i].purpose = (uint8_t)hv_rng_below(r, hv__purpose_names.n);
        s[i].priority = (uint8_t)hv_rng_below(r, HV_PRIORITY_MAX + 1);
    }
}

static void rmetrics(hv_rng *r, arena *a, uint8_t *count, hv_wire_metric *e)
{
    *count = (uint8_t)hv_rng_below(r, HV_METRICS_MAX + 1);
    for (unsigned i = 0; i < *count; i++) {
        uint32_t n = 1 + (uint32_t)hv_rng_below(r, HV_METRIC_NAME_MAX);
        char *p = take(a, n);
        if (p == NULL) {
            *count = (uint8_t)i;
            return;
        }
        rtopic_into(r, p, n, 0);
        e[i].name.ptr = p;
        e[i].name.len = n;
        e[i].kind = (uint8_t)hv_rng_below(r, hv__metric_kind_names.n);
        e[i].value = rf64(r);
    }
}

#define G_U8(m, f, aux)    (m)->f = (uint8_t)hv_rng_next(r)
#define G_U16(m, f, aux)   (m)->f = (uint16_t)hv_rng_next(r)
#define G_U32(m, f, aux)   (m)->f = (uint32_t)hv_rng_next(r)
#define G_U64(m, f, aux)   (m)->f = hv_rng_next(r)
#define G_I32(m, f, aux)   (m)->f = (int32_t)hv_rng_next(r)
#define G_F32(m, f, aux)   (m)->f = rf32(r)
#define G_F64(m, f, aux)   (m)->f = rf64(r)
#define G_UNIT(m, f, aux)  (m)->f = runit(r)
#define G_ENUM(m, f, aux)  (m)->f = (uint8_t)hv_rng_below(r, (aux).n)
#define G_PRIO(m, f, aux)  (m)->f = (uint8_t)hv_rng_below(r, HV_PRIORITY_MAX + 1)
#define G_BOOL(m, f, aux)  (m)->f = (uint8_t)hv_rng_below(r, 2)
#define G_BITS(m, f, aux)  (m)->f = (uint8_t)(hv_rng_next(r) & (aux))
#define G_H32(m, f, aux)   rraw(r, (m)->f, HV_HASH_BYTES)
#define G_S64(m, f, aux)   rraw(r, (m)->f, HV_SIG_BYTES)
#define G_STR(m, f, aux)   (m)->f = rstr(r, a, 48)
#define G_BYTES(m, f, aux) (m)->f = rbytes(r, a, scale)
#define G_F32V(m, f, aux)  (m)->f = rf32v_n(r, a, rlen(r, scale / 4))
#define G_U64V(m, f, aux)                          \
    do {                                           \
        uint32_t n_ = rlen(r, 16);                 \
        uint64_t *p_ = take(a, (size_t)n_ * 8);    \
        for (uint32_t i_ = 0; p_ && i_ < n_; i_++) \
            p_[i_] = hv_rng_next(r);               \
        (m)->f.ptr = p_;                           \
        (m)->f.n = p_ ? n_ : 0;                    \
    } while (0)
#define G_U32V(m, f, aux)                          \
    do {                                           \
        uint32_t n_ = rlen(r, 16);                 \
        uint32_t *p_ = take(a, (size_t)n_ * 4);    \
        for (uint32_t i_ = 0; p_ && i_ < n_; i_++) \
            p_[i_] = (uint32_t)hv_rng_next(r);     \
        (m)->f.ptr = p_;                           \
        (m)->f.n = p_ ? n_ : 0;                    \
    } while (0)
#define G_STREAMS(m, f, aux) rstreams(r, &(m)->stream_count, (m)->f)
#define G_METRICS(m, f, aux) rmetrics(r, a, &(m)->count, (m)->f)
#define G_(kind, f, aux)     G_##kind(m, f, aux);

#define GEN_FN_(NAME, val, lower)                                                   \
    static void gen_##lower(hv_rng *r, arena *a, uint32_t scale, hv_msg_##lower *m) \
    {                                                                               \
        (void)a;                                                                    \
        (void)scale;                                                                \
        HV_S_##lower(G_)                                                            \
    }
HV_MSG_SCHEMA_TYPE_MAP(GEN_FN_)
#undef GEN_FN_

/* Cross-field rules the schema cannot express. */
static void fixup(hv_rng *r, arena *a, hv_msg *m)
{
    switch (m->type) {
    case HV_MSG_HANDSHAKE:
        if (m->handshake.version_min > m->handshake.version_max) {
            uint16_t t = m->handshake.version_min;
            m->handshake.version_min = m->handshake.version_max;
            m->handshake.version_max = t;
        }
        break;
    case HV_MSG_HANDSHAKE_ACK:
        m->handshake_ack.encoding &= (uint8_t)(1u << hv_rng_below(r, 2));
        break;
    case HV_MSG_STRATEGY_CORRELATION: {
        uint32_t n = m->strategy_correlation.strategy_ids.n;
        if (n > 8)
            m->strategy_correlation.strategy_ids.n = n = 8;
        m->strategy_correlation.matrix = rf32v_n(r, a, n * n);
        break;
    }
    case HV_MSG_PROPOSAL: {
        hv_msg_proposal *p = &m->proposal;
        if (p->weights.n > p->voters.n)
            p->weights.n = p->voters.n;
        else
            p->voters.n = p->weights.n;
        p->threshold_den = (uint16_t)hv_rng_below(r, 100);
        p->threshold_num = p->threshold_den ? (uint16_t)hv_rng_below(r, p->threshold_den + 1u) : 0;
        break;
    }
    case HV_MSG_STREAM_START:
        m->stream_start.stream_id |= 1;
        m->stream_start.chunk_bytes |= 1;
        break;
    case HV_MSG_STREAM_DATA:
        m->stream_data.stream_id |= 1;
        if (m->stream_data.chunk.len == 0) {
            static const uint8_t one = 0x5a;
            m->stream_data.chunk = (hv_bytes){ &one, 1 };
        }
        break;
    case HV_MSG_STREAM_END:
        m->stream_end.stream_id |= 1;
        break;
    case HV_MSG_SUBSCRIBE:
        m->subscribe.pattern = rtopic(r, a, 1);
        m->subscribe.queue_group = hv_rng_below(r, 2) ? rtopic(r, a, 0) : (hv_str){ NULL, 0 };
        break;
    default:
        break;
    }
}

int hv__msg_random(hv_rng *r, int type, uint32_t scale, hv_msg *m, uint8_t *buf, size_t cap)
{
    arena a = { buf, cap, 0 };
    memset(m, 0, sizeof(*m));
    m->type = (uint8_t)type;
    switch (type) {
#define RCASE_(NAME, val, lower)              \
    case HV_MSG_##NAME:                       \
        gen_##lower(r, &a, scale, &m->lower); \
        break;
        HV_MSG_SCHEMA_TYPE_MAP(RCASE_)
#undef RCASE_
    default:
        return HV_EBADTYPE;
    }
    fixup(r, &a, m);
    return a.oom ? HV_ENOBUFS : 0;
}

int hv__topic_random(hv_rng *r, char *buf, size_t cap, hv_str *out)
{
    arena a = { (uint8_t *)buf, cap, 0 };
    *out = rtopic(r, &a, 0);
    return a.oom ? HV_ENOBUFS : 0;
}

const uint8_t hv__msg_types[HV__MSG_TYPES_COUNT] = {
#define TLIST_(NAME, val, lower) val,
    HV_MSG_SCHEMA_TYPE_MAP(TLIST_)
#undef TLIST_
};

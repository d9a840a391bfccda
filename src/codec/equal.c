/* Structural equality of two messages (hv_msg_equal), expanded from the schemas in schema.h. */
#include <stddef.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/schema.h"

static int eq_mem(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static int eq_streams(const hv_msg_handshake_ack *a, const hv_msg_handshake_ack *b)
{
    if (a->stream_count != b->stream_count)
        return 0;
    for (unsigned i = 0; i < a->stream_count; i++)
        if (a->streams[i].stream_id != b->streams[i].stream_id ||
            a->streams[i].purpose != b->streams[i].purpose ||
            a->streams[i].priority != b->streams[i].priority)
            return 0;
    return 1;
}

static int eq_metrics(const hv_msg_metrics *a, const hv_msg_metrics *b)
{
    if (a->count != b->count)
        return 0;
    for (unsigned i = 0; i < a->count; i++) {
        const hv_wire_metric *x = &a->entries[i], *y = &b->entries[i];
        if (x->kind != y->kind || memcmp(&x->value, &y->value, 8) != 0 ||
            x->name.len != y->name.len || !eq_mem(x->name.ptr, y->name.ptr, x->name.len))
            return 0;
    }
    return 1;
}

#define EQ_SCALAR(a, b, f) ((a)->f == (b)->f)
#define EQ_BITS_(a, b, f)  (memcmp(&(a)->f, &(b)->f, sizeof((a)->f)) == 0)
#define EQ_U8              EQ_SCALAR
#define EQ_U16             EQ_SCALAR
#define EQ_U32             EQ_SCALAR
#define EQ_U64             EQ_SCALAR
#define EQ_I32             EQ_SCALAR
#define EQ_F32             EQ_BITS_
#define EQ_F64             EQ_BITS_
#define EQ_UNIT            EQ_BITS_
#define EQ_ENUM            EQ_SCALAR
#define EQ_PRIO            EQ_SCALAR
#define EQ_BOOL            EQ_SCALAR
#define EQ_BITS            EQ_SCALAR
#define EQ_H32(a, b, f)    (memcmp((a)->f, (b)->f, HV_HASH_BYTES) == 0)
#define EQ_S64(a, b, f)    (memcmp((a)->f, (b)->f, HV_SIG_BYTES) == 0)
#define EQ_STR(a, b, f)    ((a)->f.len == (b)->f.len && eq_mem((a)->f.ptr, (b)->f.ptr, (a)->f.len))
#define EQ_BYTES           EQ_STR
#define EQ_VEC_(a, b, f, w) \
    ((a)->f.n == (b)->f.n && eq_mem((a)->f.ptr, (b)->f.ptr, (size_t)(a)->f.n * (w)))
#define EQ_F32V(a, b, f)    EQ_VEC_(a, b, f, 4)
#define EQ_U32V(a, b, f)    EQ_VEC_(a, b, f, 4)
#define EQ_U64V(a, b, f)    EQ_VEC_(a, b, f, 8)
#define EQ_STREAMS(a, b, f) eq_streams(a, b)
#define EQ_METRICS(a, b, f) eq_metrics(a, b)
#define EQ_(kind, f, aux)   &&EQ_##kind(x, y, f)

int hv_msg_equal(const hv_msg *a, const hv_msg *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
#define QCASE_(NAME, val, lower)                             \
    case HV_MSG_##NAME: {                                    \
        const hv_msg_##lower *x = &a->lower, *y = &b->lower; \
        return 1 HV_S_##lower(EQ_);                          \
    }
        HV_MSG_SCHEMA_TYPE_MAP(QCASE_)
#undef QCASE_
    case HV_MSG_BATCH:
        return a->batch.count == b->batch.count && EQ_STR(&a->batch, &b->batch, frames);
    default:
        return 0;
    }
}

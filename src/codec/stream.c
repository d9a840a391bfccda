/* Stream reassembly: a state machine over STREAM_START / STREAM_DATA / STREAM_END (codec.h). */
#include <string.h>

#include <sodium.h>

#include <hivewire/codec.h>

void hv_stream_hash(const void *data, size_t len, uint8_t out[HV_HASH_BYTES])
{
    crypto_generichash(out, HV_HASH_BYTES, data, len, NULL, 0);
}

void hv_stream_rx_init(hv_stream_rx *rx, uint8_t *dst, size_t cap)
{
    memset(rx, 0, sizeof(*rx));
    rx->state = HV_STREAM_IDLE;
    rx->dst = dst;
    rx->cap = dst != NULL ? cap : 0;
}

static int fail(hv_stream_rx *rx, int err)
{
    rx->state = HV_STREAM_FAILED;
    rx->error = err;
    return err;
}

static int on_start(hv_stream_rx *rx, const hv_msg_stream_start *s)
{
    if (rx->state != HV_STREAM_IDLE)
        return fail(rx, HV_ESTATE);
    if (s->total_bytes > rx->cap)
        return fail(rx, HV_ETOOBIG);
    rx->state = HV_STREAM_OPEN;
    rx->stream_id = s->stream_id;
    rx->announced = s->total_bytes;
    rx->chunk_max = s->chunk_bytes;
    rx->content_type = s->content_type;
    return 0;
}

/* DATA and END need an open stream with the same id. */
static int check_open(hv_stream_rx *rx, uint64_t stream_id)
{
    if (rx->state != HV_STREAM_OPEN)
        return fail(rx, HV_ESTATE);
    if (stream_id != rx->stream_id)
        return fail(rx, HV_ENOTFOUND);
    return 0;
}

static int on_data(hv_stream_rx *rx, const hv_msg_stream_data *d)
{
    int rv = check_open(rx, d->stream_id);
    if (rv != 0)
        return rv;
    if (d->offset != rx->received)
        return fail(rx, HV_ESTREAMGAP);
    uint64_t limit = rx->announced != 0 ? rx->announced : rx->cap;
    if (d->chunk.len > rx->chunk_max || d->chunk.len > limit - rx->received ||
        rx->chunks == UINT32_MAX)
        return fail(rx, HV_ETOOBIG);
    memcpy(rx->dst + rx->received, d->chunk.ptr, d->chunk.len);
    rx->received += d->chunk.len;
    rx->chunks++;
    return 0;
}

static int on_end(hv_stream_rx *rx, const hv_msg_stream_end *e)
{
    int rv = check_open(rx, e->stream_id);
    if (rv != 0)
        return rv;
    if (e->status != HV_WIRE_STREAM_COMPLETE)
        return fail(rx, HV_ECLOSED);
    if (e->total_bytes != rx->received || e->chunks != rx->chunks ||
        (rx->announced != 0 && rx->announced != rx->received))
        return fail(rx, HV_EBADLEN);
    uint8_t h[HV_HASH_BYTES];
    hv_stream_hash(rx->dst, rx->received, h);
    if (sodium_memcmp(h, e->content_hash, HV_HASH_BYTES) != 0)
        return fail(rx, HV_ECHECKSUM);
    rx->state = HV_STREAM_COMPLETE;
    return 1;
}

int hv_stream_rx_feed(hv_stream_rx *rx, const hv_msg *m)
{
    if (rx->state == HV_STREAM_FAILED)
        return rx->error;
    if (rx->state == HV_STREAM_COMPLETE)
        return fail(rx, HV_ESTATE);
    switch (m->type) {
    case HV_MSG_STREAM_START:
        return on_start(rx, &m->stream_start);
    case HV_MSG_STREAM_DATA:
        return on_data(rx, &m->stream_data);
    case HV_MSG_STREAM_END:
        return on_end(rx, &m->stream_end);
    default:
        return fail(rx, HV_EBADTYPE);
    }
}

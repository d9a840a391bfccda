/*
 * Batches (docs/PROTOCOL.md section 9): a writer that appends frames in place behind one
 * header, and an iterator that hands out the frames of a decoded batch, allocating nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/frame.h"
#include "codec/le.h"

#define BATCH_PREFIX (HV_FRAME_HEADER_BYTES + 4)

int hv_batch_begin(hv_batch_writer *w, uint8_t *buf, size_t cap, const hv_frame *hdr,
                   size_t *needed)
{
    memset(w, 0, sizeof(*w));
    if (hdr != NULL)
        w->header = *hdr;
    if (cap < BATCH_PREFIX) {
        if (needed)
            *needed = BATCH_PREFIX;
        return HV_ENOBUFS;
    }
    w->buf = buf;
    w->cap = cap > HV_FRAME_MAX_CEILING ? HV_FRAME_MAX_CEILING : cap;
    w->len = BATCH_PREFIX;
    return 0;
}

int hv__batch_precheck(const hv_batch_writer *w, const hv_msg *m)
{
    if (w->buf == NULL)
        return HV_EINVAL;
    if (m->type == HV_MSG_BATCH)
        return HV_ENESTED;
    return w->count >= HV_BATCH_FRAMES_MAX ? HV_EFULL : 0;
}

int hv__batch_commit(hv_batch_writer *w, int n, size_t need, size_t *needed)
{
    if (n == HV_ENOBUFS && needed)
        *needed = w->len + need;
    if (n < 0)
        return n;
    w->len += (size_t)n;
    w->count++;
    return n;
}

int hv_batch_add(hv_batch_writer *w, const hv_frame *f, const hv_msg *m, size_t *needed)
{
    int rv = hv__batch_precheck(w, m);
    if (rv != 0)
        return rv;
    size_t need = 0;
    int n = hv_frame_encode(w->buf + w->len, w->cap - w->len, f, m, &need);
    return hv__batch_commit(w, n, need, needed);
}

int hv_batch_finish(hv_batch_writer *w)
{
    if (w->buf == NULL || w->count == 0)
        return HV_EINVAL;
    unsigned flags = w->header.flags & (HV_FLAG_ACK_REQUESTED | HV_FLAG_REPLY);
    hv__frame_header_write(w->buf, HV_MSG_BATCH, flags, 0, 0, w->len - HV_FRAME_HEADER_BYTES,
                           &w->header);
    hv__st32(w->buf + HV_FRAME_HEADER_BYTES, w->count);
    return (int)w->len;
}

void hv_batch_iter_init(hv_batch_iter *it, const hv_msg_batch *b, const hv_codec_limits *lim)
{
    it->p = b->frames.ptr;
    it->left = b->frames.len;
    it->remaining = b->count;
    memset(&it->lim, 0, sizeof(it->lim));
    if (lim != NULL)
        it->lim = *lim;
}

int hv_batch_next(hv_batch_iter *it, const uint8_t **frame, size_t *len)
{
    if (it->remaining == 0)
        return it->left ? HV_EBADLEN : 0;
    hv_frame f;
    int n = hv_frame_parse(it->p, it->left, &it->lim, &f);
    if (n == HV_ETRUNCATED)
        return HV_EBADLEN;
    if (n < 0)
        return n;
    if (f.type == HV_MSG_BATCH)
        return HV_ENESTED;
    *frame = it->p;
    *len = (size_t)n;
    it->p += n;
    it->left -= (size_t)n;
    it->remaining--;
    return 1;
}

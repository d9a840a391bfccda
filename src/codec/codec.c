/*
 * The per-connection codec: interning both ways, LZ4 above a threshold, the limits, and the
 * buffers compressed frames decompress into; it adds a connection's state to the stateless
 * layers below it (codec_int.h) and is the only file that does.
 */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/intern.h"
#include "codec/text.h"
#include "core/field.h"

struct hv_codec {
    hv_codec_limits lim;
    uint32_t compress_above;
    hv_intern tx, rx;
    uint8_t *scratch;  /* uncompressed frame before compression */
    uint8_t *rx_frame; /* decompressed payloads of single frames */
    uint8_t *rx_batch; /* decompressed payloads of batches */
    void *lz4_state;
    hv_codec_stats stats;
    char why[192]; /* hv_codec_error_detail() */
};

/* ---- Codec lifetime ---------------------------------------------------------------------- */

void hv_codec_opts_default(hv_codec_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->frame_max_bytes = HV_FRAME_MAX_DEFAULT;
    o->intern_bytes_max = HV_INTERN_BYTES_DEFAULT;
}

int hv_codec_opts_check(const hv_codec_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_codec_opts)");
    if (o->frame_max_bytes != 0 &&
        (o->frame_max_bytes < HV_FRAME_MIN_LIMIT || o->frame_max_bytes > HV_FRAME_MAX_CEILING))
        return hv__field_fail(err, "frame_max_bytes", "must be 0 (default) or in [256, 16 MiB]");
    if (o->intern_max > HV_INTERN_MAX_CEILING)
        return hv__field_fail(err, "intern_max", "must be at most 65535");
    if (o->intern_bytes_max > HV_INTERN_BYTES_CEILING)
        return hv__field_fail(err, "intern_bytes_max", "must be at most 1 MiB");
    return 0;
}

int hv_codec_new(const hv_codec_opts *opts, hv_codec **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_codec_opts o;
    if (opts == NULL)
        hv_codec_opts_default(&o);
    else
        o = *opts;
    if (hv_codec_opts_check(&o, NULL) != 0)
        return HV_EINVAL;
    uint32_t frame_max = o.frame_max_bytes ? o.frame_max_bytes : HV_FRAME_MAX_DEFAULT;
    hv_codec *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return HV_ENOMEM;
    c->lim.frame_max_bytes = frame_max;
    c->lim.decompressed_max_bytes = frame_max;
    c->compress_above = o.compress_above_bytes;
    uint32_t ib = o.intern_bytes_max ? o.intern_bytes_max : HV_INTERN_BYTES_DEFAULT;
    int rv = hv_intern_init(&c->tx, o.intern_max, ib);
    if (rv == 0)
        rv = hv_intern_init(&c->rx, o.intern_max, ib);
    c->scratch = malloc(frame_max);
    c->rx_frame = malloc(frame_max);
    c->rx_batch = malloc(frame_max);
    c->lz4_state = malloc((size_t)LZ4_sizeofState());
    if (rv == 0 && (!c->scratch || !c->rx_frame || !c->rx_batch || !c->lz4_state))
        rv = HV_ENOMEM;
    if (rv != 0) {
        hv_codec_free(c);
        return rv;
    }
    *out = c;
    return 0;
}

void hv_codec_free(hv_codec *c)
{
    if (c == NULL)
        return;
    hv_intern_fini(&c->tx);
    hv_intern_fini(&c->rx);
    free(c->scratch);
    free(c->rx_frame);
    free(c->rx_batch);
    free(c->lz4_state);
    free(c);
}

void hv_codec_reset(hv_codec *c)
{
    hv_intern_reset(&c->tx);
    hv_intern_reset(&c->rx);
    memset(&c->stats, 0, sizeof(c->stats));
}

void hv_codec_stats_get(const hv_codec *c, hv_codec_stats *out)
{
    *out = c->stats;
    out->intern_full = c->tx.full_misses;
}

void hv_codec_limits_get(const hv_codec *c, hv_codec_limits *out)
{
    *out = c->lim;
}

const char *hv_codec_error_detail(const hv_codec *c)
{
    return c->why;
}

/* ---- Encoding ---------------------------------------------------------------------------- */

static int codec_encode(hv_codec *c, uint8_t *buf, size_t cap, const hv_frame *f, const hv_msg *m,
                        size_t *needed, int may_compress)
{
    if (f->topic.len && (f->topic.ptr == NULL || !hv__topic_valid(f->topic.ptr, f->topic.len, 0)))
        return f->topic.ptr == NULL ? HV_EINVAL : HV_EBADTOPIC;
    hv_frame h = *f;
    int define = 0;
    if (f->topic_id != 0) {
        /* A topic id the caller chose (to reproduce an interned frame): it must follow the
         * table's rules as the receiver will apply them. */
        int rv = hv__intern_check(&c->tx, f, c->why, sizeof(c->why));
        if (rv != 0)
            return rv;
        define = f->topic.len != 0;
    } else if (f->topic.len && c->tx.max_entries) {
        uint16_t id = hv__intern_find(&c->tx, f->topic);
        if (id != 0) {
            h.topic.ptr = NULL;
            h.topic.len = 0;
            h.topic_id = id;
        } else if (hv__intern_has_room(&c->tx, f->topic.len)) {
            h.topic_id = (uint16_t)(c->tx.count + 1);
            define = 1;
        } else {
            h.topic_id = 0;
            c->tx.full_misses++;
        }
    }
    int plen = hv_msg_encoded_size(m);
    if (plen < 0)
        return plen;
    size_t off = HV_FRAME_HEADER_BYTES + h.topic.len;
    if (off + (size_t)plen > c->lim.frame_max_bytes)
        return HV_ETOOBIG;
    int n;
    if (may_compress && c->compress_above && (uint32_t)plen > c->compress_above) {
        n = hv_frame_encode(c->scratch, c->lim.frame_max_bytes, &h, m, NULL);
        if (n < 0)
            return n;
        size_t z = hv__frame_compress(c->lz4_state, buf, cap, c->scratch, (size_t)n, off);
        if (z > 0) {
            c->stats.compressed++;
            n = (int)z;
        } else if ((size_t)n > cap) {
            if (needed)
                *needed = (size_t)n;
            return HV_ENOBUFS;
        } else {
            c->stats.compress_skipped++;
            memcpy(buf, c->scratch, (size_t)n);
        }
    } else {
        n = hv_frame_encode(buf, cap, &h, m, needed);
        if (n < 0)
            return n;
    }
    if (define) {
        hv__intern_add(&c->tx, f->topic);
        c->stats.intern_defined_tx++;
    }
    c->stats.frames_encoded++;
    c->stats.bytes_encoded += (uint64_t)n;
    return n;
}

int hv_codec_encode(hv_codec *c, uint8_t *buf, size_t cap, const hv_frame *f, const hv_msg *m,
                    size_t *needed)
{
    return codec_encode(c, buf, cap, f, m, needed, 1);
}

int hv_codec_compress_frame(hv_codec *c, uint8_t *frame, size_t len)
{
    hv_frame f;
    int n = hv_frame_parse(frame, len, &c->lim, &f);
    if (n < 0)
        return n == HV_ETRUNCATED ? HV_EINVAL : n;
    if ((f.flags & HV_FLAG_COMPRESSED) || !c->compress_above || f.payload.len <= c->compress_above)
        return n;
    /* Compressed into the scratch buffer first: LZ4 writes as it goes, and a frame that does not
     * shrink must stay as it was. */
    size_t off = (size_t)(f.payload.ptr - frame);
    size_t z = hv__frame_compress(c->lz4_state, c->scratch, (size_t)n, frame, (size_t)n, off);
    if (z == 0) {
        c->stats.compress_skipped++;
        return n;
    }
    memcpy(frame, c->scratch, z);
    c->stats.compressed++;
    return (int)z;
}

/* ---- Decoding ---------------------------------------------------------------------------- */

int hv_codec_decode(hv_codec *c, const uint8_t *buf, size_t len, hv_frame *f, hv_msg *m)
{
    int n = hv_frame_parse(buf, len, &c->lim, f);
    int rv = n;
    if (rv >= 0 && (f->flags & HV_FLAG_COMPRESSED)) {
        uint8_t *dst = f->type == HV_MSG_BATCH ? c->rx_batch : c->rx_frame;
        rv = hv_frame_decompress(f, &c->lim, dst, c->lim.frame_max_bytes);
    }
    if (rv >= 0)
        rv = hv_msg_decode(f, m);
    if (rv >= 0) {
        int had_def = f->topic_id != 0 && f->topic.len != 0;
        rv = hv_intern_rx(&c->rx, f);
        if (rv == 0 && had_def)
            c->stats.intern_defined_rx++;
        else if (rv != 0)
            hv__intern_check(&c->rx, f, c->why, sizeof(c->why)); /* the table is unchanged */
    }
    if (rv < 0) {
        if (rv != HV_ETRUNCATED)
            c->stats.decode_errors++;
        return rv;
    }
    c->stats.frames_decoded++;
    c->stats.bytes_decoded += (uint64_t)n;
    return n;
}

/* ---- Batches ----------------------------------------------------------------------------- */

int hv_codec_batch_add(hv_codec *c, hv_batch_writer *w, const hv_frame *f, const hv_msg *m,
                       size_t *needed)
{
    int rv = hv__batch_precheck(w, m);
    if (rv != 0)
        return rv;
    size_t need = 0;
    size_t cap = w->cap - w->len;
    size_t lim = c->lim.frame_max_bytes > w->len ? c->lim.frame_max_bytes - w->len : 0;
    int n = codec_encode(c, w->buf + w->len, cap < lim ? cap : lim, f, m, &need, 0);
    if (n == HV_ENOBUFS && w->len + need > c->lim.frame_max_bytes)
        return HV_ETOOBIG;
    return hv__batch_commit(w, n, need, needed);
}

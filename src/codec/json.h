/* Internal JSON helpers shared by json.c and the CLI. */
#ifndef HV_CODEC_JSON_H
#define HV_CODEC_JSON_H

#include <stddef.h>

#include <jansson.h>

#include <hivewire/codec.h>

/* One allocation that parsed views point into; blocks are chained, so their number has no
 * bound but the input's. */
typedef struct hv__jblock {
    struct hv__jblock *next;
    max_align_t data[];
} hv__jblock;

/* Parsing context: the error text and the allocations that parsed views point into. */
typedef struct hv__jctx {
    char *err;
    size_t errlen;
    hv__jblock *blocks; /* newest first */
} hv__jctx;

void hv__jctx_init(hv__jctx *cx, char *err, size_t errlen);
/* Frees the allocations: views from hv__json_parse_msg() die with it. */
void hv__jctx_free(hv__jctx *cx);
/* Frees the allocations made since mark = cx->blocks was read (a batch frees each message's
 * once it is encoded, so its memory does not grow with the batch). */
void hv__jctx_release(hv__jctx *cx, hv__jblock *mark);

/* The JSON object for a decoded frame (new reference), or NULL with *err set. */
json_t *hv__json_from_msg(const hv_frame *f, const hv_msg *m, int *err);

/* Parses a non-batch message object; views point into o and cx. HV_ENESTED for a batch. */
int hv__json_parse_msg(hv__jctx *cx, json_t *o, hv_frame *f, hv_msg *m);

/* Encodes a message or batch object, through codec c when not NULL (interning, compression). */
int hv__json_encode(hv__jctx *cx, json_t *o, hv_codec *c, uint8_t *buf, size_t cap, size_t *needed);

/* After encoding f and m (through c when not NULL) failed with rv: puts in cx's error text what
 * was wrong, naming the field ("payload.load: 1.5 is outside 0..1") or the header key, and
 * returns rv. frame_max is the limit the encode ran under. */
int hv__json_encode_failed(hv__jctx *cx, hv_codec *c, const hv_frame *f, const hv_msg *m, int rv,
                           size_t frame_max);

#endif

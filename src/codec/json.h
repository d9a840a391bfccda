/* Internal JSON helpers shared by json.c and the CLI. */
#ifndef HV_CODEC_JSON_H
#define HV_CODEC_JSON_H

#include <jansson.h>

#include <hivewire/codec.h>

#define HV__JCTX_BLOCKS 64

/* Parsing context: the error text and the allocations that parsed views point into. */
typedef struct hv__jctx {
    char *err;
    size_t errlen;
    void *blocks[HV__JCTX_BLOCKS];
    int nblocks;
} hv__jctx;

void hv__jctx_init(hv__jctx *cx, char *err, size_t errlen);
/* Frees the allocations: views from hv__json_parse_msg() die with it. */
void hv__jctx_free(hv__jctx *cx);

/* The JSON object for a decoded frame (new reference), or NULL with *err set. */
json_t *hv__json_from_msg(const hv_frame *f, const hv_msg *m, int *err);

/* Parses a non-batch message object; views point into o and cx. HV_ENESTED for a batch. */
int hv__json_parse_msg(hv__jctx *cx, json_t *o, hv_frame *f, hv_msg *m);

/* Encodes a message or batch object, through codec c when not NULL (interning, compression). */
int hv__json_encode(hv__jctx *cx, json_t *o, hv_codec *c, uint8_t *buf, size_t cap, size_t *needed);

#endif

/*
 * What the codec's commands (encode, decode, stream) share: reading HVW1
 * frames from a whole input (decode, stream join) with one codec with the largest interning
 * tables, frames numbered from 1, batches walked frame by frame, and every failure reported as
 * "hivewire <cmd>: frame N at byte X[, its frame K]: <why> (HV_E...)".
 */
#ifndef HV_CODEC_CLI_UTIL_H
#define HV_CODEC_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/codec.h>

typedef struct hv__frame_reader {
    const char *cmd;
    hv_codec *codec;
    const uint8_t *in;
    size_t len;
    size_t next;      /* offset of the next top-level frame */
    size_t frame;     /* 1-based number of the current top-level frame */
    size_t at;        /* its offset */
    uint8_t *scratch; /* for explaining a failed compressed frame; allocated then */
    size_t frame_max;
} hv__frame_reader;

/* Reads in[0..len) (the caller keeps it) with frames up to frame_max bytes. 0 or an HV_E code. */
int hv__frame_reader_init(hv__frame_reader *r, const char *cmd, const uint8_t *in, size_t len,
                          size_t frame_max);
void hv__frame_reader_fini(hv__frame_reader *r);

/* The next top-level frame: 1 with *f and *m, 0 at the end of the input, or -1 after saying
 * why it does not decode (trailing bytes and a frame cut short included). */
int hv__frame_reader_next(hv__frame_reader *r, hv_frame *f, hv_msg *m);

/* Calls fn for each frame of batch b (the current top-level frame) in order, with its 1-based
 * place k. Returns 0, or -1 after saying why a frame or the batch's count is wrong, or fn's
 * nonzero return. */
typedef int (*hv__frame_fn)(void *arg, const hv_frame *f, const hv_msg *m, size_t k);
int hv__frame_reader_batch(hv__frame_reader *r, const hv_msg_batch *b, hv__frame_fn fn, void *arg);

/* Prints "hivewire <cmd>: frame N at byte X[, its frame K]: <what>" (printf-style); returns -1. */
int hv__frame_reader_fail(const hv__frame_reader *r, size_t k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

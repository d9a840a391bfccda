/*
 * What the codec's files call in each other, internal. The layers, each using only those before
 * it: names (types.c) and text checks (text.c); frame headers (frame.h, frame.c); compression
 * (compress.c); payloads (payload.h, payload.c) and equality (equal.c); explanations of errors
 * (explain.c); batches (batch.c) and interning (intern.c); the per-connection codec (codec.c);
 * then the JSON form (json.c), streams (stream.c) and the commands.
 */
#ifndef HV_CODEC_CODEC_INT_H
#define HV_CODEC_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/codec.h>

/* payload.c: the field and cross-field rules of m, as the encoder and decoder apply them. */
int hv__msg_validate(const hv_msg *m);

/* compress.c: writes the finished uncompressed frame at src (n bytes, payload at off) into dst,
 * its payload LZ4-compressed with lz4_state; src is left as it was. Returns the new length, or
 * 0 when that is not strictly smaller than n or does not fit in cap (dst's bytes are then
 * undefined). */
size_t hv__frame_compress(void *lz4_state, uint8_t *dst, size_t cap, const uint8_t *src, size_t n,
                          size_t off);

/* batch.c: the checks before a frame joins batch w, and the commit of one that was encoded
 * (n bytes, or an error with need the frame's size), shared with hv_codec_batch_add(). */
int hv__batch_precheck(const hv_batch_writer *w, const hv_msg *m);
int hv__batch_commit(hv_batch_writer *w, int n, size_t need, size_t *needed);

/*
 * explain.c: explanations, for error messages (cold; they allocate nothing). Each runs the same
 * checks in the same order as its fast counterpart, returns the same code, and on failure writes
 * to why[0..n) which field or byte broke which rule ("payload.load: 1.5 is outside 0..1"):
 *   hv__msg_explain_rules()  as hv__msg_validate(): a message about to be encoded;
 *   hv__msg_explain()        as hv_msg_decode(): an uncompressed frame's payload;
 *   hv__frame_explain()      as hv_decode(): a whole frame (header, decompression into
 *                            scratch[0..cap), payload).
 */
int hv__msg_explain_rules(const hv_msg *m, char *why, size_t n);
int hv__msg_explain(const hv_frame *f, char *why, size_t n);
int hv__frame_explain(const uint8_t *buf, size_t len, const hv_codec_limits *lim, uint8_t *scratch,
                      size_t cap, char *why, size_t n);

/* Writes an explanation (printf-style) to why[0..n) when why is not NULL; returns rv. */
int hv__why(char *why, size_t n, int rv, const char *fmt, ...)
    __attribute__((cold, format(printf, 4, 5)));

#endif

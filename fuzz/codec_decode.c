/*
 * libFuzzer harness: HVW1 frames and batches from untrusted bytes.
 *
 * Decodes every frame of the input (stateless, then through a per-connection codec with
 * interning), iterates batches, and checks the round trips: every decoded message re-encodes,
 * decodes to an equal message, reproduces the original bytes when the frame was a plain 1.0
 * frame, and survives binary -> JSON -> binary unchanged. The stream messages among them go
 * through a stream reassembler whose bounds and sticky failure are checked. The encoder's
 * compression is fuzzed too: every decoded message is encoded again through a compressing,
 * interning codec (on its own and gathered into batches that are compressed whole), at a
 * threshold the input picks, and must decode to the same message. The explanations behind error
 * messages must give the decoder's code for every frame. Any violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"

#define FUZZ_FRAME_MAX (256u << 10)

static uint8_t scratch[FUZZ_FRAME_MAX];
static uint8_t again[FUZZ_FRAME_MAX];
static uint8_t json_bin[FUZZ_FRAME_MAX];

#define CHECK(c)              \
    do {                      \
        if (!(c))             \
            __builtin_trap(); \
    } while (0)

static void round_trip(const uint8_t *frame, size_t len, const hv_frame *f, const hv_msg *m,
                       int compressed)
{
    int n = hv_frame_encode(again, sizeof(again), f, m, NULL);
    CHECK(n > 0);
    hv_frame g;
    hv_msg d;
    static uint8_t scratch2[FUZZ_FRAME_MAX];
    CHECK(hv_decode(again, (size_t)n, NULL, scratch2, sizeof(scratch2), &g, &d) == n);
    CHECK(hv_msg_equal(m, &d));
    CHECK(g.seq == f->seq && g.sender_id == f->sender_id && g.topic_id == f->topic_id);
    if (!compressed && f->version_minor == 0)
        CHECK((size_t)n == len && memcmp(frame, again, len) == 0);
    if (m->type == HV_MSG_BATCH)
        return; /* inner frames may not all be valid; the batch path checks them below */
    int err = 0;
    char *json = hv_json_from_msg(f, m, &err);
    CHECK(json != NULL);
    int k = hv_json_to_frame(json, strlen(json), json_bin, sizeof(json_bin), NULL, NULL, 0);
    CHECK(k == n && memcmp(json_bin, again, (size_t)n) == 0);
    free(json);
}

/* The input's stream reassembler: fed every stream message, at top level and inside batches,
 * and started afresh after a stream completes or fails so later frames still exercise it. */
static uint8_t stream_content[4096];
static hv_stream_rx stream_rx;

/* Feeds m to the stream reassembler and checks what the API promises. */
static void stream_feed(const hv_msg *m)
{
    if (m->type != HV_MSG_STREAM_START && m->type != HV_MSG_STREAM_DATA &&
        m->type != HV_MSG_STREAM_END)
        return;
    hv_stream_rx *rx = &stream_rx;
    int rc = hv_stream_rx_feed(rx, m);
    CHECK(rx->received <= rx->cap);
    if (rc < 0)
        CHECK(rx->state == HV_STREAM_FAILED && rx->error == rc);
    else if (rc == 1)
        CHECK(rx->state == HV_STREAM_COMPLETE && m->type == HV_MSG_STREAM_END &&
              m->stream_end.total_bytes == rx->received);
    else
        CHECK(rc == 0 && rx->state == HV_STREAM_OPEN);
    if (rx->state == HV_STREAM_FAILED) {
        CHECK(hv_stream_rx_feed(rx, m) == rx->error); /* sticky */
        hv_stream_rx_init(rx, stream_content, sizeof(stream_content));
    } else if (rx->state == HV_STREAM_COMPLETE) {
        hv_stream_rx_init(rx, stream_content, sizeof(stream_content));
    }
}

/* ---- The encoder's compression path ------------------------------------------------------ */

/* Two connections: single frames, and batches. Each has a compressing, interning sender and
 * a receiver; a few thresholds around small payload sizes, one picked per input. The codecs
 * are made once and reset per input (a fresh connection). */
typedef struct link {
    hv_codec *tx, *rx;
} link;

static const uint32_t thresholds[] = { 1, 6, 12, 24, 48, 96, 160, 255 };
#define THRESHOLDS (sizeof(thresholds) / sizeof(thresholds[0]))

static link singles[THRESHOLDS], batches[THRESHOLDS];
static link single, batched;
static hv_batch_writer batch_w;
static uint8_t batch_buf[FUZZ_FRAME_MAX], batch_raw[FUZZ_FRAME_MAX];
static uint8_t single_buf[FUZZ_FRAME_MAX];

static void link_open(link *l, uint32_t compress_above)
{
    if (l->tx == NULL) {
        hv_codec_opts o = { .size = sizeof(o),
                            .frame_max_bytes = FUZZ_FRAME_MAX,
                            .compress_above_bytes = compress_above,
                            .intern_max = 4,
                            .intern_bytes_max = 64 };
        CHECK(hv_codec_new(&o, &l->tx) == 0);
        o.compress_above_bytes = 0;
        CHECK(hv_codec_new(&o, &l->rx) == 0);
    }
    hv_codec_reset(l->tx);
    hv_codec_reset(l->rx);
}

/* The receiver gives back m, with f's header fields and topic. */
static void check_received(hv_codec *rx, const uint8_t *p, size_t n, const hv_frame *f,
                           const hv_msg *m)
{
    hv_frame g;
    hv_msg d;
    CHECK(hv_codec_decode(rx, p, n, &g, &d) == (int)n);
    CHECK(hv_msg_equal(m, &d));
    CHECK(g.seq == f->seq && g.sender_id == f->sender_id && g.topic.len == f->topic.len);
    CHECK(f->topic.len == 0 || memcmp(g.topic.ptr, f->topic.ptr, f->topic.len) == 0);
}

/* Compresses the finished batch whole and checks the receiver gets its exact bytes back. */
static void batch_flush(void)
{
    if (batch_w.count == 0)
        return;
    int n = hv_batch_finish(&batch_w);
    CHECK(n > 0);
    memcpy(batch_raw, batch_buf, (size_t)n);
    int z = hv_codec_compress_frame(batched.tx, batch_buf, (size_t)n);
    CHECK(z > 0);
    if (batch_buf[7] & HV_FLAG_COMPRESSED)
        CHECK(z < n);
    else
        CHECK(z == n && memcmp(batch_buf, batch_raw, (size_t)n) == 0);
    hv_frame f;
    hv_msg b;
    CHECK(hv_codec_decode(batched.rx, batch_buf, (size_t)z, &f, &b) == z);
    CHECK(b.batch.frames.len == (uint32_t)n - 52 &&
          memcmp(b.batch.frames.ptr, batch_raw + 52, (size_t)n - 52) == 0);
    hv_batch_iter it;
    hv_codec_limits lim;
    hv_codec_limits_get(batched.rx, &lim);
    hv_batch_iter_init(&it, &b.batch, &lim);
    const uint8_t *p;
    size_t len;
    while (hv_batch_next(&it, &p, &len) == 1) {
        hv_frame g;
        hv_msg d;
        CHECK(hv_codec_decode(batched.rx, p, len, &g, &d) == (int)len);
        CHECK(g.topic_id == 0 || g.topic.len > 0);
    }
    CHECK(hv_batch_begin(&batch_w, batch_buf, sizeof(batch_buf), NULL, NULL) == 0);
}

/* m (decoded from the input) through both compressing connections. */
static void compress_round_trip(const hv_frame *f, const hv_msg *m)
{
    hv_frame h = *f;
    h.flags &= HV_FLAG_ACK_REQUESTED | HV_FLAG_REPLY;
    h.topic_id = 0; /* the codecs intern */
    if (h.topic.len == 0 && m->type == HV_MSG_PUBLISH)
        h.topic = hv_str_from("fuzz.topic"); /* it came as an unresolved reference */
    int n = hv_codec_encode(single.tx, single_buf, sizeof(single_buf), &h, m, NULL);
    if (n == HV_ETOOBIG)
        return; /* at the frame limit, and the topic above made it longer */
    CHECK(n > 0);
    check_received(single.rx, single_buf, (size_t)n, &h, m);
    int k = hv_codec_batch_add(batched.tx, &batch_w, &h, m, NULL);
    if (k == HV_ENOBUFS || k == HV_ETOOBIG || k == HV_EFULL) {
        batch_flush();
        k = hv_codec_batch_add(batched.tx, &batch_w, &h, m, NULL);
    }
    CHECK(k > 0 || (k == HV_ETOOBIG && batch_w.count == 0)); /* too big for any batch */
}

static void compress_begin(const uint8_t *data, size_t size)
{
    /* The last byte picks, as the first is nearly always the magic's 'H'. */
    size_t k = size > 0 ? data[size - 1] % THRESHOLDS : 0;
    link_open(&singles[k], thresholds[k]);
    link_open(&batches[k], thresholds[k]);
    single = singles[k];
    batched = batches[k];
    CHECK(hv_batch_begin(&batch_w, batch_buf, sizeof(batch_buf), NULL, NULL) == 0);
}

/* ---- Decoding ---------------------------------------------------------------------------- */

static void decode_batch(const hv_msg_batch *b, int depth)
{
    hv_codec_limits lim = { FUZZ_FRAME_MAX, FUZZ_FRAME_MAX };
    hv_batch_iter it;
    hv_batch_iter_init(&it, b, &lim);
    const uint8_t *p;
    size_t len;
    static uint8_t inner_scratch[FUZZ_FRAME_MAX];
    while (hv_batch_next(&it, &p, &len) == 1) {
        hv_frame f;
        hv_msg m;
        int compressed = len > 7 && (p[7] & HV_FLAG_COMPRESSED);
        if (hv_decode(p, len, &lim, inner_scratch, sizeof(inner_scratch), &f, &m) < 0)
            continue;
        CHECK(m.type != HV_MSG_BATCH && depth == 0);
        round_trip(p, len, &f, &m, compressed);
        compress_round_trip(&f, &m);
        stream_feed(&m);
    }
}

static void stateless(const uint8_t *data, size_t size)
{
    hv_codec_limits lim = { FUZZ_FRAME_MAX, FUZZ_FRAME_MAX };
    hv_stream_rx_init(&stream_rx, stream_content, sizeof(stream_content));
    compress_begin(data, size);
    size_t off = 0;
    while (off < size) {
        hv_frame f;
        hv_msg m;
        int compressed = size - off > 7 && (data[off + 7] & HV_FLAG_COMPRESSED);
        int n = hv_decode(data + off, size - off, &lim, scratch, sizeof(scratch), &f, &m);
        /* The explanation behind error messages runs the same checks to the same code. */
        static uint8_t explain_scratch[FUZZ_FRAME_MAX];
        char why[256] = "";
        CHECK(hv__frame_explain(data + off, size - off, &lim, explain_scratch,
                                sizeof(explain_scratch), why, sizeof(why)) == (n < 0 ? n : 0));
        CHECK(n >= 0 || why[0] != '\0');
        if (n < 0) {
            if (f.frame_len == 0 || f.frame_len > size - off)
                break;
            off += f.frame_len; /* skip a well-framed but invalid frame */
            continue;
        }
        CHECK((size_t)n <= size - off);
        round_trip(data + off, (size_t)n, &f, &m, compressed);
        if (m.type == HV_MSG_BATCH) {
            decode_batch(&m.batch, 0);
        } else {
            compress_round_trip(&f, &m);
            stream_feed(&m);
        }
        off += (size_t)n;
    }
    batch_flush();
}

static void stateful(const uint8_t *data, size_t size)
{
    /* One codec for the process, reset per input: every input is a fresh connection. */
    static hv_codec *c;
    if (c == NULL) {
        hv_codec_opts o = { .size = sizeof(o),
                            .frame_max_bytes = FUZZ_FRAME_MAX,
                            .intern_max = 8,
                            .intern_bytes_max = 256 };
        if (hv_codec_new(&o, &c) != 0)
            abort();
    }
    hv_codec_reset(c);
    size_t off = 0;
    while (off < size) {
        hv_frame f;
        hv_msg m;
        int n = hv_codec_decode(c, data + off, size - off, &f, &m);
        if (n < 0)
            break;
        if (m.type == HV_MSG_BATCH) {
            hv_batch_iter it;
            hv_codec_limits lim;
            hv_codec_limits_get(c, &lim);
            hv_batch_iter_init(&it, &m.batch, &lim);
            const uint8_t *p;
            size_t len;
            while (hv_batch_next(&it, &p, &len) == 1) {
                hv_frame g;
                hv_msg d;
                if (hv_codec_decode(c, p, len, &g, &d) < 0)
                    break;
                CHECK(g.topic_id == 0 || g.topic.len > 0); /* references resolve */
            }
        }
        off += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stateless(data, size);
    stateful(data, size);
    return 0;
}

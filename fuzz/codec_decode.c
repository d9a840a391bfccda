/*
 * libFuzzer harness: HVW1 frames and batches from untrusted bytes.
 *
 * Decodes every frame of the input (stateless, then through a per-connection codec with
 * interning), iterates batches, and checks the round trips: every decoded message re-encodes,
 * decodes to an equal message, reproduces the original bytes when the frame was a plain 1.0
 * frame, and survives binary -> JSON -> binary unchanged. The stream messages among them go
 * through a stream reassembler whose bounds and sticky failure are checked. Any violation
 * traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

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
        stream_feed(&m);
    }
}

static void stateless(const uint8_t *data, size_t size)
{
    hv_codec_limits lim = { FUZZ_FRAME_MAX, FUZZ_FRAME_MAX };
    hv_stream_rx_init(&stream_rx, stream_content, sizeof(stream_content));
    size_t off = 0;
    while (off < size) {
        hv_frame f;
        hv_msg m;
        int compressed = size - off > 7 && (data[off + 7] & HV_FLAG_COMPRESSED);
        int n = hv_decode(data + off, size - off, &lim, scratch, sizeof(scratch), &f, &m);
        if (n < 0) {
            if (f.frame_len == 0 || f.frame_len > size - off)
                return;
            off += f.frame_len; /* skip a well-framed but invalid frame */
            continue;
        }
        CHECK((size_t)n <= size - off);
        round_trip(data + off, (size_t)n, &f, &m, compressed);
        if (m.type == HV_MSG_BATCH)
            decode_batch(&m.batch, 0);
        else
            stream_feed(&m);
        off += (size_t)n;
    }
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
            hv_batch_iter_init(&it, &m.batch, hv_codec_get_limits(c));
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

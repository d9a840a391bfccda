/* Tests of streams: STREAM_START / DATA / END on the wire and their reassembly. */
#include "hv_test.h"

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#define CONTENT 10000

static uint8_t content[CONTENT];

static void fill_content(uint64_t seed)
{
    hv_rng r;
    hv_rng_seed(&r, seed);
    for (size_t i = 0; i < CONTENT; i++)
        content[i] = (uint8_t)hv_rng_next(&r);
}

static hv_msg start_msg(uint64_t id, uint64_t total, uint32_t chunk)
{
    hv_msg m = { .type = HV_MSG_STREAM_START };
    m.stream_start.stream_id = id;
    m.stream_start.total_bytes = total;
    m.stream_start.chunk_bytes = chunk;
    m.stream_start.content_type = HV_WIRE_CONTENT_OCTETS;
    m.stream_start.name = hv_str_from("patterns/spx.5m");
    return m;
}

static hv_msg data_msg(uint64_t id, uint64_t off, size_t len)
{
    hv_msg m = { .type = HV_MSG_STREAM_DATA };
    m.stream_data.stream_id = id;
    m.stream_data.offset = off;
    m.stream_data.chunk = (hv_bytes){ content + off, (uint32_t)len };
    return m;
}

static hv_msg end_msg(uint64_t id, uint64_t total, uint32_t chunks)
{
    hv_msg m = { .type = HV_MSG_STREAM_END };
    m.stream_end.stream_id = id;
    m.stream_end.total_bytes = total;
    m.stream_end.chunks = chunks;
    m.stream_end.status = HV_WIRE_STREAM_COMPLETE;
    hv_stream_hash(content, total, m.stream_end.content_hash);
    return m;
}

/* Encodes m into a frame and decodes it again: what a receiver would see. */
static hv_msg over_the_wire(const hv_msg *m, uint8_t *buf, size_t cap)
{
    hv_frame f = { .seq = 1, .sender_id = 9 };
    int n = hv_frame_encode(buf, cap, &f, m, NULL);
    assert_true(n > 0);
    hv_frame g;
    hv_msg d;
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &g, &d), n);
    assert_true(hv_msg_equal(m, &d));
    return d;
}

static void content_reassembles_from_frames_of_random_chunks(void **state)
{
    (void)state;
    static uint8_t out[CONTENT], frames[64][2048];
    hv_rng r;
    hv_rng_seed(&r, 3);
    for (int round = 0; round < 50; round++) {
        fill_content((uint64_t)round);
        size_t total = 1 + hv_rng_below(&r, CONTENT);
        uint32_t chunk_max = 1 + (uint32_t)hv_rng_below(&r, 1024);
        uint64_t announced = hv_rng_below(&r, 2) ? total : 0;
        hv_stream_rx rx;
        hv_stream_rx_init(&rx, out, sizeof(out));
        hv_msg s = start_msg(77, announced, chunk_max);
        assert_int_equal(hv_stream_rx_feed(&rx, &s), 0);
        size_t off = 0;
        uint32_t chunks = 0;
        while (off < total) {
            size_t len = 1 + hv_rng_below(&r, chunk_max);
            if (len > total - off)
                len = total - off;
            hv_msg d = data_msg(77, off, len);
            hv_msg w = over_the_wire(&d, frames[chunks % 64], sizeof(frames[0]));
            assert_int_equal(hv_stream_rx_feed(&rx, &w), 0);
            off += len;
            chunks++;
        }
        hv_msg e = end_msg(77, total, chunks);
        hv_msg w = over_the_wire(&e, frames[0], sizeof(frames[0]));
        assert_int_equal(hv_stream_rx_feed(&rx, &w), 1);
        assert_int_equal(rx.state, HV_STREAM_COMPLETE);
        assert_int_equal(rx.received, total);
        assert_int_equal(rx.chunks, chunks);
        assert_memory_equal(out, content, total);
    }
}

/* Runs start, the chunks given as (offset, len) pairs, then end; returns the first error. */
static int run(hv_stream_rx *rx, const hv_msg *start, const size_t (*chunks)[2], size_t n,
               const hv_msg *end)
{
    int rc = hv_stream_rx_feed(rx, start);
    for (size_t i = 0; i < n && rc >= 0; i++) {
        hv_msg d = data_msg(5, chunks[i][0], chunks[i][1]);
        rc = hv_stream_rx_feed(rx, &d);
    }
    if (rc >= 0 && end != NULL)
        rc = hv_stream_rx_feed(rx, end);
    return rc;
}

static void lost_repeated_and_reordered_chunks_are_gaps(void **state)
{
    (void)state;
    static uint8_t out[CONTENT];
    fill_content(1);
    hv_msg s = start_msg(5, 0, 100);
    const size_t lost[][2] = { { 0, 100 }, { 200, 100 } };
    const size_t repeated[][2] = { { 0, 100 }, { 0, 100 } };
    const size_t reordered[][2] = { { 100, 100 }, { 0, 100 } };
    const size_t(*cases[])[2] = { lost, repeated, reordered };
    for (int i = 0; i < 3; i++) {
        hv_stream_rx rx;
        hv_stream_rx_init(&rx, out, sizeof(out));
        assert_int_equal(run(&rx, &s, cases[i], 2, NULL), HV_ESTREAMGAP);
        assert_int_equal(rx.state, HV_STREAM_FAILED);
        /* sticky: the right next chunk does not revive it */
        hv_msg d = data_msg(5, rx.received, 10);
        assert_int_equal(hv_stream_rx_feed(&rx, &d), HV_ESTREAMGAP);
    }
}

static void sizes_are_bounded_by_chunk_total_and_buffer(void **state)
{
    (void)state;
    static uint8_t out[1000];
    fill_content(2);
    hv_stream_rx rx;
    const size_t big_chunk[][2] = { { 0, 101 } };
    hv_msg s = start_msg(5, 0, 100);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, big_chunk, 1, NULL), HV_ETOOBIG);
    /* beyond the announced total */
    const size_t past_total[][2] = { { 0, 100 }, { 100, 100 } };
    s = start_msg(5, 150, 100);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, past_total, 2, NULL), HV_ETOOBIG);
    /* beyond the buffer, total unknown */
    const size_t past_cap[][2] = { { 0, 600 }, { 600, 600 } };
    s = start_msg(5, 0, 1000);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, past_cap, 2, NULL), HV_ETOOBIG);
    assert_int_equal(rx.received, 600);
    /* an announced total above the buffer fails at once */
    s = start_msg(5, 1001, 100);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &s), HV_ETOOBIG);
}

static void end_must_match_what_arrived(void **state)
{
    (void)state;
    static uint8_t out[1000];
    fill_content(3);
    const size_t two[][2] = { { 0, 100 }, { 100, 50 } };
    hv_msg s = start_msg(5, 0, 100);
    hv_stream_rx rx;

    hv_msg e = end_msg(5, 149, 2); /* total differs */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, two, 2, &e), HV_EBADLEN);

    e = end_msg(5, 150, 3); /* chunk count differs */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, two, 2, &e), HV_EBADLEN);

    hv_msg s200 = start_msg(5, 200, 100); /* announced 200, 150 arrived */
    e = end_msg(5, 150, 2);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s200, two, 2, &e), HV_EBADLEN);

    e = end_msg(5, 150, 2); /* one bit of the hash flipped */
    e.stream_end.content_hash[31] ^= 1;
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, two, 2, &e), HV_ECHECKSUM);

    e = end_msg(5, 150, 2); /* the content was altered in transit */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &s), 0);
    hv_msg d = data_msg(5, 0, 100);
    assert_int_equal(hv_stream_rx_feed(&rx, &d), 0);
    uint8_t evil[50];
    memcpy(evil, content + 100, 50);
    evil[7] ^= 0x80;
    d = data_msg(5, 100, 50);
    d.stream_data.chunk.ptr = evil;
    assert_int_equal(hv_stream_rx_feed(&rx, &d), 0);
    assert_int_equal(hv_stream_rx_feed(&rx, &e), HV_ECHECKSUM);

    e = end_msg(5, 150, 2); /* aborted by the sender */
    e.stream_end.status = HV_WIRE_STREAM_ABORTED;
    e.stream_end.error_code = HV_ECLOSED;
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, two, 2, &e), HV_ECLOSED);

    e = end_msg(5, 150, 2); /* and the good end completes */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(run(&rx, &s, two, 2, &e), 1);
    assert_int_equal(hv_stream_rx_feed(&rx, &e), HV_ESTATE); /* nothing after END */
    assert_int_equal(rx.state, HV_STREAM_FAILED);
}

static void messages_out_of_place_are_state_errors(void **state)
{
    (void)state;
    static uint8_t out[100];
    fill_content(4);
    hv_stream_rx rx;
    hv_msg d = data_msg(5, 0, 10);
    hv_msg e = end_msg(5, 0, 0);
    hv_msg s = start_msg(5, 0, 10);
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &d), HV_ESTATE); /* data before start */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &e), HV_ESTATE); /* end before start */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &s), 0);
    assert_int_equal(hv_stream_rx_feed(&rx, &s), HV_ESTATE); /* second start */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &s), 0);
    hv_msg other = data_msg(6, 0, 10);
    assert_int_equal(hv_stream_rx_feed(&rx, &other), HV_ENOTFOUND); /* another stream */
    hv_stream_rx_init(&rx, out, sizeof(out));
    hv_msg hb = { .type = HV_MSG_HEARTBEAT };
    assert_int_equal(hv_stream_rx_feed(&rx, &hb), HV_EBADTYPE);
    /* an empty stream is complete */
    hv_stream_rx_init(&rx, out, sizeof(out));
    assert_int_equal(hv_stream_rx_feed(&rx, &s), 0);
    assert_int_equal(hv_stream_rx_feed(&rx, &e), 1);
    assert_int_equal(rx.received, 0);
}

static void encoder_refuses_invalid_stream_fields(void **state)
{
    (void)state;
    uint8_t buf[256];
    hv_frame f = { 0 };
    hv_msg s = start_msg(0, 0, 10); /* stream id 0 */
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &s, NULL), HV_EBADFIELD);
    s = start_msg(1, 0, 0); /* chunk_bytes 0 */
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &s, NULL), HV_EBADFIELD);
    hv_msg d = data_msg(1, 0, 0); /* empty chunk */
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &d, NULL), HV_EBADFIELD);
    hv_msg e = end_msg(1, 0, 0);
    e.stream_end.status = 2; /* no such status */
    assert_true(hv_frame_encode(buf, sizeof(buf), &f, &e, NULL) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_reassembles_from_frames_of_random_chunks),
        cmocka_unit_test(lost_repeated_and_reordered_chunks_are_gaps),
        cmocka_unit_test(sizes_are_bounded_by_chunk_total_and_buffer),
        cmocka_unit_test(end_must_match_what_arrived),
        cmocka_unit_test(messages_out_of_place_are_state_errors),
        cmocka_unit_test(encoder_refuses_invalid_stream_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

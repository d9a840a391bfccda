/* Per-connection codec: topic interning, LZ4 compression and its limits, batches. */
#include "hv_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include <hivewire/codec.h>
#include <hivewire/rng.h>

#include "codec/gen.h"
#include "codec/le.h"

static uint8_t arena[4 << 20];
static uint8_t buf[1 << 20];
static uint8_t out[1 << 20];

static hv_codec *codec(uint32_t compress_above, uint32_t intern_max, uint32_t intern_bytes)
{
    hv_codec_opts o = { .size = sizeof(o),
                        .compress_above_bytes = compress_above,
                        .intern_max = intern_max,
                        .intern_bytes_max = intern_bytes };
    hv_codec *c = NULL;
    assert_int_equal(hv_codec_new(&o, &c), 0);
    return c;
}

static hv_msg publish(const void *data, uint32_t len)
{
    hv_msg m;
    memset(&m, 0, sizeof(m));
    m.type = HV_MSG_PUBLISH;
    m.publish.data.ptr = data;
    m.publish.data.len = len;
    return m;
}

static hv_frame on_topic(const char *topic)
{
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.topic = hv_str_from(topic);
    return f;
}

/* ---- Interning --------------------------------------------------------------------------- */

static void repeated_topic_travels_as_its_id_after_first_use(void **state)
{
    (void)state;
    hv_codec *tx = codec(0, 8, 0), *rx = codec(0, 8, 0);
    hv_msg m = publish("x", 1), d;
    hv_frame f = on_topic("md.spx.bar"), g;
    int n1 = hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[9], 10);            /* literal sent ... */
    assert_int_equal(hv__ld16(buf + 10), 1); /* ... and defined as id 1 */
    assert_int_equal(hv_codec_decode(rx, buf, (size_t)n1, &g, &d), n1);
    int n2 = hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(n2, n1 - 10);
    assert_int_equal(buf[9], 0);
    assert_int_equal(hv__ld16(buf + 10), 1);
    assert_int_equal(hv_codec_decode(rx, buf, (size_t)n2, &g, &d), n2);
    assert_int_equal(g.topic.len, 10);
    assert_memory_equal(g.topic.ptr, "md.spx.bar", 10);
    hv_codec_free(tx);
    hv_codec_free(rx);
}

static void reset_codec_starts_a_fresh_connection(void **state)
{
    (void)state;
    hv_codec *tx = codec(0, 8, 0);
    hv_msg m = publish("x", 1);
    hv_frame f = on_topic("a.b");
    hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
    hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[9], 0); /* a reference */
    hv_codec_reset(tx);
    hv_codec_stats st;
    hv_codec_stats_get(tx, &st);
    assert_int_equal(st.frames_encoded, 0);
    hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[9], 3); /* defined again */
    assert_int_equal(hv__ld16(buf + 10), 1);
    hv_codec_free(tx);
}

static void full_table_sends_literals_and_counts_them(void **state)
{
    (void)state;
    hv_codec *tx = codec(0, 2, 0), *rx = codec(0, 2, 0);
    const char *topics[] = { "a.1", "a.2", "a.3", "a.1", "a.3" };
    uint16_t want_id[] = { 1, 2, 0, 1, 0 };
    hv_msg m = publish(NULL, 0), d;
    for (int i = 0; i < 5; i++) {
        hv_frame f = on_topic(topics[i]), g;
        int n = hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
        assert_int_equal(hv__ld16(buf + 10), want_id[i]);
        assert_int_equal(hv_codec_decode(rx, buf, (size_t)n, &g, &d), n);
        assert_int_equal(g.topic.len, strlen(topics[i]));
        assert_memory_equal(g.topic.ptr, topics[i], g.topic.len);
    }
    hv_codec_stats st;
    hv_codec_stats_get(tx, &st);
    assert_int_equal(st.intern_full, 2);
    hv_codec_free(tx);
    hv_codec_free(rx);
}

static void intern_byte_bound_is_checked_on_both_sides(void **state)
{
    (void)state;
    hv_intern t;
    assert_int_equal(hv_intern_init(&t, 10, 6), 0);
    uint16_t id;
    int def;
    hv_intern_tx(&t, hv_str_from("abc"), &id, &def);
    assert_int_equal(id, 1);
    hv_intern_tx(&t, hv_str_from("def"), &id, &def); /* exactly fills 6 bytes */
    assert_int_equal(id, 2);
    hv_intern_tx(&t, hv_str_from("g"), &id, &def);
    assert_int_equal(id, 0);
    assert_int_equal(def, 0);
    hv_intern_fini(&t);
}

static void receiver_rejects_inconsistent_interning(void **state)
{
    (void)state;
    hv_intern t;
    assert_int_equal(hv_intern_init(&t, 4, 64), 0);
    hv_frame f;
    memset(&f, 0, sizeof(f));
    f.topic_id = 1; /* reference before definition */
    assert_int_equal(hv_intern_rx(&t, &f), HV_EBADINTERN);
    f.topic = hv_str_from("a.b");
    f.topic_id = 2; /* definition out of order */
    assert_int_equal(hv_intern_rx(&t, &f), HV_EBADINTERN);
    f.topic_id = 1;
    assert_int_equal(hv_intern_rx(&t, &f), 0);
    f.topic_id = 2; /* same topic defined twice */
    assert_int_equal(hv_intern_rx(&t, &f), HV_EBADINTERN);
    for (uint16_t id = 2; id <= 4; id++) {
        char s[8];
        snprintf(s, sizeof(s), "t.%u", id);
        hv_frame d = { .topic = hv_str_from(s), .topic_id = id };
        assert_int_equal(hv_intern_rx(&t, &d), 0);
        d.topic.ptr = NULL;
        d.topic.len = 0;
        assert_int_equal(hv_intern_rx(&t, &d), 0);
        assert_int_equal(d.topic.len, strlen(s));
    }
    hv_frame over = { .topic = hv_str_from("t.5"), .topic_id = 5 }; /* beyond max_entries */
    assert_int_equal(hv_intern_rx(&t, &over), HV_EBADINTERN);
    hv_intern_fini(&t);

    hv_intern off;
    assert_int_equal(hv_intern_init(&off, 0, 0), 0);
    assert_int_equal(hv_intern_rx(&off, &f), HV_EBADINTERN);
    hv_intern_fini(&off);
}

static void failed_encode_leaves_interning_unchanged(void **state)
{
    (void)state;
    hv_codec *tx = codec(0, 8, 0);
    hv_msg m = publish("x", 1);
    hv_frame f = on_topic("a.b");
    size_t need = 0;
    assert_int_equal(hv_codec_encode(tx, buf, 10, &f, &m, &need), HV_ENOBUFS);
    int n = hv_codec_encode(tx, buf, need, &f, &m, NULL);
    assert_int_equal(n, (int)need);
    assert_int_equal(buf[9], 3); /* still the defining frame */
    hv_codec_free(tx);
}

/* ---- Compression ------------------------------------------------------------------------- */

static void payload_above_threshold_is_compressed_and_below_is_not(void **state)
{
    (void)state;
    static uint8_t data[4096];
    memset(data, 'q', sizeof(data));
    hv_msg m = publish(data, sizeof(data)), d;
    int plen = hv_msg_encoded_size(&m);
    hv_frame f = on_topic("a"), g;
    hv_codec *at = codec((uint32_t)plen, 0, 0), *below = codec((uint32_t)plen - 1, 0, 0);
    hv_codec *rx = codec(0, 0, 0);
    int n = hv_codec_encode(at, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[7] & HV_FLAG_COMPRESSED, 0);
    assert_int_equal(n, 48 + 1 + plen);
    n = hv_codec_encode(below, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[7] & HV_FLAG_COMPRESSED, HV_FLAG_COMPRESSED);
    assert_true(n < 200);
    assert_int_equal(hv_codec_decode(rx, buf, (size_t)n, &g, &d), n);
    assert_true(hv_msg_equal(&m, &d));
    hv_codec_free(at);
    hv_codec_free(below);
    hv_codec_free(rx);
}

static void tiny_payloads_are_never_compressed(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_UNSUBSCRIBE }, d; /* an 8-byte payload */
    hv_frame f, g;
    memset(&f, 0, sizeof(f));
    hv_codec *c = codec(1, 0, 0), *rx = codec(0, 0, 0);
    int n = hv_codec_encode(c, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(n, 56);
    assert_int_equal(buf[7] & HV_FLAG_COMPRESSED, 0);
    assert_int_equal(hv_codec_decode(rx, buf, (size_t)n, &g, &d), n);
    hv_codec_free(c);
    hv_codec_free(rx);
}

static void incompressible_payload_is_sent_raw(void **state)
{
    (void)state;
    static uint8_t data[2048];
    hv_rng r;
    hv_rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)hv_rng_next(&r);
    hv_msg m = publish(data, sizeof(data));
    hv_frame f = on_topic("a");
    hv_codec *c = codec(16, 0, 0);
    hv_codec_encode(c, buf, sizeof(buf), &f, &m, NULL);
    assert_int_equal(buf[7] & HV_FLAG_COMPRESSED, 0);
    hv_codec_stats st;
    hv_codec_stats_get(c, &st);
    assert_int_equal(st.compress_skipped, 1);
    hv_codec_free(c);
}

/* A compressed frame whose payload declares `raw` bytes and holds the LZ4 block of src. */
static int make_compressed(const uint8_t *src, int src_len, uint32_t raw)
{
    hv_msg m = publish(NULL, 0);
    hv_frame f = on_topic("a");
    hv_frame_encode(buf, sizeof(buf), &f, &m, NULL);
    int clen = LZ4_compress_default((const char *)src, (char *)buf + 53, src_len, 1 << 19);
    hv__st32(buf + 49, raw);
    hv__st32(buf + 12, (uint32_t)clen + 4);
    buf[7] |= HV_FLAG_COMPRESSED;
    return 49 + 4 + clen;
}

static void decompression_limits_are_enforced(void **state)
{
    (void)state;
    static uint8_t raw[8192];
    memset(raw, 0, sizeof(raw));
    /* 4096 zero bytes compress to a few bytes: a small-scale decompression bomb. */
    hv_frame f;
    hv_msg d;
    hv_codec_limits lim = { .frame_max_bytes = 1 << 20, .decompressed_max_bytes = 4096 };
    int n = make_compressed(raw, 4096, 4096);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, sizeof(out)), 4096);
    n = make_compressed(raw, 4097, 4097);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, sizeof(out)), HV_ETOOBIG);
    n = make_compressed(raw, 4096, 4096);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, 4095), HV_ENOBUFS);
    n = make_compressed(raw, 4096, 4000); /* declared length disagrees with the block */
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, sizeof(out)), HV_EDECOMPRESS);
    n = make_compressed(raw, 4096, 0);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, sizeof(out)), HV_EBADLEN);
    n = make_compressed(raw, 4096, 4096);
    n -= 2; /* a block cut short (LZ4 has no checksum: only structural damage is detectable) */
    hv__st32(buf + 12, hv__ld32(buf + 12) - 2);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_frame_decompress(&f, &lim, out, sizeof(out)), HV_EDECOMPRESS);
    n = make_compressed(raw, 4096, 4096);
    assert_int_equal(hv_frame_parse(buf, (size_t)n, &lim, &f), n);
    assert_int_equal(hv_msg_decode(&f, &d), HV_EBADFLAGS); /* still compressed */
}

/* ---- Codec property test ----------------------------------------------------------------- */

static void codec_round_trips_random_traffic_with_interning_and_compression(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 11);
    hv_codec *tx = codec(128, 16, 4096), *rx = codec(0, 16, 4096);
    static char topics[32][48];
    hv_str names[32];
    for (int i = 0; i < 32; i++)
        hv__topic_random(&r, topics[i], sizeof(topics[i]), &names[i]);
    for (int i = 0; i < 3000; i++) {
        hv_msg m, d;
        int type = hv__msg_types[hv_rng_below(&r, HV__MSG_TYPES_COUNT)];
        assert_int_equal(hv__msg_random(&r, type, 1024, &m, arena, sizeof(arena)), 0);
        hv_frame f, g;
        memset(&f, 0, sizeof(f));
        f.seq = (uint64_t)i;
        if (type == HV_MSG_PUBLISH || hv_rng_below(&r, 2))
            f.topic = names[hv_rng_below(&r, 32)];
        int n = hv_codec_encode(tx, buf, sizeof(buf), &f, &m, NULL);
        assert_true(n > 0);
        assert_int_equal(hv_codec_decode(rx, buf, (size_t)n, &g, &d), n);
        assert_true(hv_msg_equal(&m, &d));
        assert_int_equal(g.seq, f.seq);
        assert_int_equal(g.topic.len, f.topic.len);
        if (f.topic.len)
            assert_memory_equal(g.topic.ptr, f.topic.ptr, f.topic.len);
    }
    hv_codec_stats st;
    hv_codec_stats_get(tx, &st);
    assert_true(st.compressed > 0);
    assert_int_equal(st.intern_defined_tx, 16);
    hv_codec_stats_get(rx, &st);
    assert_int_equal(st.frames_decoded, 3000);
    assert_int_equal(st.intern_defined_rx, 16);
    hv_codec_free(tx);
    hv_codec_free(rx);
}

static void codec_options_are_checked(void **state)
{
    (void)state;
    hv_codec *c = NULL;
    hv_codec_opts o = { .size = sizeof(o), .frame_max_bytes = HV_FRAME_MAX_CEILING + 1 };
    assert_int_equal(hv_codec_new(&o, &c), HV_EINVAL);
    o.frame_max_bytes = HV_FRAME_MIN_LIMIT - 1;
    assert_int_equal(hv_codec_new(&o, &c), HV_EINVAL);
    o.frame_max_bytes = HV_FRAME_MIN_LIMIT;
    assert_int_equal(hv_codec_new(&o, &c), 0);
    /* A message that does not fit the codec's frame limit. */
    static uint8_t data[HV_FRAME_MIN_LIMIT];
    hv_msg m = publish(data, sizeof(data));
    hv_frame f = on_topic("a");
    assert_int_equal(hv_codec_encode(c, buf, sizeof(buf), &f, &m, NULL), HV_ETOOBIG);
    hv_codec_free(c);
    o.frame_max_bytes = 0;
    o.intern_max = HV_INTERN_MAX_CEILING + 1;
    assert_int_equal(hv_codec_new(&o, &c), HV_EINVAL);
    /* Both interning bounds at their ceilings, and one byte of topic text over. */
    o.intern_max = HV_INTERN_MAX_CEILING;
    o.intern_bytes_max = HV_INTERN_BYTES_CEILING;
    assert_int_equal(hv_codec_new(&o, &c), 0);
    hv_codec_free(c);
    o.intern_bytes_max = HV_INTERN_BYTES_CEILING + 1;
    assert_int_equal(hv_codec_new(&o, &c), HV_EINVAL);
}

/* ---- Batches ----------------------------------------------------------------------------- */

static int build_batch(hv_rng *r, int count, hv_msg *msgs)
{
    hv_batch_writer w;
    hv_frame h;
    memset(&h, 0, sizeof(h));
    h.seq = 99;
    assert_int_equal(hv_batch_begin(&w, buf, sizeof(buf), &h, NULL), 0);
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        int type = hv__msg_types[hv_rng_below(r, HV__MSG_TYPES_COUNT)];
        if (type == HV_MSG_PUBLISH)
            type = HV_MSG_HEARTBEAT;
        assert_int_equal(hv__msg_random(r, type, 64, &msgs[i], arena + used, 4096), 0);
        used += 4096;
        hv_frame f;
        memset(&f, 0, sizeof(f));
        f.seq = (uint64_t)i;
        assert_true(hv_batch_add(&w, &f, &msgs[i], NULL) > 0);
    }
    return hv_batch_finish(&w);
}

static void batch_of_a_thousand_frames_iterates_in_order(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 5);
    static hv_msg msgs[1000];
    int n = build_batch(&r, 1000, msgs);
    assert_true(n > 0);
    hv_frame f;
    hv_msg b;
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &b), n);
    assert_int_equal(f.type, HV_MSG_BATCH);
    assert_int_equal(f.seq, 99);
    assert_int_equal(b.batch.count, 1000);
    hv_batch_iter it;
    hv_batch_iter_init(&it, &b.batch, NULL);
    const uint8_t *p;
    size_t len;
    int i = 0, rv;
    while ((rv = hv_batch_next(&it, &p, &len)) == 1) {
        hv_frame g;
        hv_msg d;
        assert_int_equal(hv_decode(p, len, NULL, NULL, 0, &g, &d), (int)len);
        assert_int_equal(g.seq, (uint64_t)i);
        assert_true(hv_msg_equal(&msgs[i], &d));
        i++;
    }
    assert_int_equal(rv, 0);
    assert_int_equal(i, 1000);
}

static void batch_count_must_match_its_frames(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 6);
    static hv_msg msgs[3];
    int n = build_batch(&r, 3, msgs);
    hv_frame f;
    hv_msg b;
    const uint8_t *p;
    size_t len;
    hv_batch_iter it;
    hv__st32(buf + 48, 4); /* one more than present */
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &b), n);
    hv_batch_iter_init(&it, &b.batch, NULL);
    int rv;
    while ((rv = hv_batch_next(&it, &p, &len)) == 1)
        ;
    assert_int_equal(rv, HV_EBADLEN);
    hv__st32(buf + 48, 2); /* one fewer: the rest is unaccounted for */
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &b), n);
    hv_batch_iter_init(&it, &b.batch, NULL);
    while ((rv = hv_batch_next(&it, &p, &len)) == 1)
        ;
    assert_int_equal(rv, HV_EBADLEN);
    hv__st32(buf + 48, 0);
    assert_int_equal(hv_decode(buf, (size_t)n, NULL, NULL, 0, &f, &b), HV_EBADLEN);
}

static void batch_inside_a_batch_is_rejected(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 8);
    static hv_msg msgs[1];
    int inner = build_batch(&r, 1, msgs);
    static uint8_t outer[4096];
    memcpy(outer + 52, buf, (size_t)inner);
    hv_frame h;
    memset(&h, 0, sizeof(h));
    hv_msg m = { .type = HV_MSG_BATCH };
    m.batch.count = 1;
    m.batch.frames.ptr = buf;
    m.batch.frames.len = (uint32_t)inner;
    int n = hv_frame_encode(outer, sizeof(outer), &h, &m, NULL);
    assert_true(n > 0);
    hv_frame f;
    hv_msg b;
    assert_int_equal(hv_decode(outer, (size_t)n, NULL, NULL, 0, &f, &b), n);
    hv_batch_iter it;
    hv_batch_iter_init(&it, &b.batch, NULL);
    const uint8_t *p;
    size_t len;
    assert_int_equal(hv_batch_next(&it, &p, &len), HV_ENESTED);
    hv_batch_writer w;
    assert_int_equal(hv_batch_begin(&w, outer, sizeof(outer), NULL, NULL), 0);
    assert_int_equal(hv_batch_add(&w, &h, &m, NULL), HV_ENESTED);
    assert_int_equal(hv_batch_finish(&w), HV_EINVAL); /* empty */
}

static void batch_writer_reports_the_size_it_needs(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_UNSUBSCRIBE };
    hv_frame f;
    memset(&f, 0, sizeof(f));
    hv_batch_writer w;
    size_t need = 0;
    assert_int_equal(hv_batch_begin(&w, buf, 51, NULL, &need), HV_ENOBUFS);
    assert_int_equal(need, 52);
    assert_int_equal(hv_batch_begin(&w, buf, 52 + 56 + 10, NULL, NULL), 0);
    assert_int_equal(hv_batch_add(&w, &f, &m, NULL), 56);
    assert_int_equal(hv_batch_add(&w, &f, &m, &need), HV_ENOBUFS);
    assert_int_equal(need, 52 + 56 + 56);
    assert_int_equal(hv_batch_finish(&w), 52 + 56);
}

static void compressed_batch_round_trips_through_codecs(void **state)
{
    (void)state;
    hv_codec *tx = codec(64, 8, 0), *rx = codec(0, 8, 0);
    hv_batch_writer w;
    assert_int_equal(hv_batch_begin(&w, buf, sizeof(buf), NULL, NULL), 0);
    static uint8_t data[100];
    memset(data, 'z', sizeof(data));
    hv_msg m = publish(data, sizeof(data));
    for (int i = 0; i < 50; i++) {
        hv_frame f = on_topic(i % 2 ? "md.a" : "md.b");
        f.seq = (uint64_t)i;
        assert_true(hv_codec_batch_add(tx, &w, &f, &m, NULL) > 0);
    }
    int n = hv_batch_finish(&w);
    int z = hv_codec_compress_frame(tx, buf, (size_t)n);
    assert_true(z > 0 && z < n / 4);
    hv_frame f;
    hv_msg b;
    assert_int_equal(hv_codec_decode(rx, buf, (size_t)z, &f, &b), z);
    hv_batch_iter it;
    hv_codec_limits lim;
    hv_codec_limits_get(rx, &lim);
    hv_batch_iter_init(&it, &b.batch, &lim);
    const uint8_t *p;
    size_t len;
    int i = 0;
    while (hv_batch_next(&it, &p, &len) == 1) {
        hv_frame g;
        hv_msg d;
        assert_int_equal(hv_codec_decode(rx, p, len, &g, &d), (int)len);
        assert_int_equal(g.seq, (uint64_t)i);
        assert_memory_equal(g.topic.ptr, i % 2 ? "md.a" : "md.b", 4);
        assert_true(hv_msg_equal(&m, &d));
        i++;
    }
    assert_int_equal(i, 50);
    hv_codec_free(tx);
    hv_codec_free(rx);
}

/* Random inner frames for the threshold property test: message i's views live in its own slice
 * of the arena, so all of a batch's messages stay valid until it is checked. */
#define PROP_FRAMES_MAX 4
#define PROP_SLICE      (64u << 10)

static void random_frame(hv_rng *r, const hv_str *topics, int i, hv_frame *f, hv_msg *m)
{
    int type = hv__msg_types[hv_rng_below(r, HV__MSG_TYPES_COUNT)];
    assert_int_equal(hv__msg_random(r, type, 160, m, arena + (size_t)i * PROP_SLICE, PROP_SLICE),
                     0);
    memset(f, 0, sizeof(*f));
    f->seq = hv_rng_next(r);
    f->timestamp_ns = hv_rng_next(r);
    if (type == HV_MSG_PUBLISH || hv_rng_below(r, 2))
        f->topic = topics[hv_rng_below(r, 3)];
}

static void decodes_to(hv_codec *rx, const uint8_t *p, size_t len, const hv_frame *f,
                       const hv_msg *m)
{
    hv_frame g;
    hv_msg d;
    assert_int_equal(hv_codec_decode(rx, p, len, &g, &d), (int)len);
    assert_true(hv_msg_equal(m, &d));
    assert_true(g.seq == f->seq && g.timestamp_ns == f->timestamp_ns);
    assert_int_equal(g.topic.len, f->topic.len);
    if (f->topic.len)
        assert_memory_equal(g.topic.ptr, f->topic.ptr, f->topic.len);
}

/* Issue 20: a batch that LZ4 could not shrink went out marked raw, its bytes already overwritten
 * by the attempt. Every threshold from 0 (off) to past the largest payload, with a random batch
 * and a random single frame each: decode(encode(x)) = x, and a compressed frame is strictly
 * smaller than its raw form. */
static void every_compression_threshold_round_trips_random_batches(void **state)
{
    (void)state;
    hv_rng r;
    hv_rng_seed(&r, 20);
    static char names[3][48];
    hv_str topics[3];
    for (int i = 0; i < 3; i++)
        hv__topic_random(&r, names[i], sizeof(names[i]), &topics[i]);
    static uint8_t raw[1 << 20];
    uint64_t compressed = 0, skipped = 0;
    for (uint32_t above = 0; above <= 1400; above++) {
        hv_codec *tx = codec(above, 2, 0), *rx = codec(0, 2, 0);
        hv_frame fs[PROP_FRAMES_MAX], hdr = { .seq = above };
        hv_msg ms[PROP_FRAMES_MAX];
        hv_batch_writer w;
        assert_int_equal(hv_batch_begin(&w, buf, sizeof(buf), &hdr, NULL), 0);
        int k = 1 + (int)hv_rng_below(&r, PROP_FRAMES_MAX);
        for (int i = 0; i < k; i++) {
            random_frame(&r, topics, i, &fs[i], &ms[i]);
            assert_true(hv_codec_batch_add(tx, &w, &fs[i], &ms[i], NULL) > 0);
        }
        int n = hv_batch_finish(&w);
        memcpy(raw, buf, (size_t)n);
        int z = hv_codec_compress_frame(tx, buf, (size_t)n);
        assert_true(z > 0);
        if (buf[7] & HV_FLAG_COMPRESSED) {
            if (!(z < n))
                printf("above %u z %d n %d\n", above, z, n);
            assert_true(z < n);
        } else
            assert_true(z == n && memcmp(buf, raw, (size_t)n) == 0);
        hv_frame bf;
        hv_msg b;
        assert_int_equal(hv_codec_decode(rx, buf, (size_t)z, &bf, &b), z);
        assert_int_equal(bf.seq, above);
        assert_int_equal(b.batch.frames.len, (uint32_t)n - 52);
        assert_memory_equal(b.batch.frames.ptr, raw + 52, (size_t)n - 52);
        hv_batch_iter it;
        hv_codec_limits lim;
        hv_codec_limits_get(rx, &lim);
        hv_batch_iter_init(&it, &b.batch, &lim);
        const uint8_t *p;
        size_t len;
        for (int i = 0; i < k; i++) {
            assert_int_equal(hv_batch_next(&it, &p, &len), 1);
            decodes_to(rx, p, len, &fs[i], &ms[i]);
        }
        assert_int_equal(hv_batch_next(&it, &p, &len), 0);
        /* One frame on its own, after the batch on the same connection. */
        random_frame(&r, topics, 0, &fs[0], &ms[0]);
        n = hv_codec_encode(tx, buf, sizeof(buf), &fs[0], &ms[0], NULL);
        assert_true(n > 0);
        decodes_to(rx, buf, (size_t)n, &fs[0], &ms[0]);
        hv_codec_stats st;
        hv_codec_stats_get(tx, &st);
        compressed += st.compressed;
        skipped += st.compress_skipped;
        hv_codec_free(tx);
        hv_codec_free(rx);
    }
    /* Both outcomes happened many times over. */
    assert_true(compressed > 250 && skipped > 100);
}

static void batch_frame_may_not_carry_a_topic(void **state)
{
    (void)state;
    hv_msg m = { .type = HV_MSG_BATCH };
    m.batch.count = 1;
    m.batch.frames.ptr = arena;
    m.batch.frames.len = 48;
    hv_frame f = on_topic("a");
    assert_int_equal(hv_frame_encode(buf, sizeof(buf), &f, &m, NULL), HV_EBADTOPIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(repeated_topic_travels_as_its_id_after_first_use),
        cmocka_unit_test(reset_codec_starts_a_fresh_connection),
        cmocka_unit_test(full_table_sends_literals_and_counts_them),
        cmocka_unit_test(intern_byte_bound_is_checked_on_both_sides),
        cmocka_unit_test(receiver_rejects_inconsistent_interning),
        cmocka_unit_test(failed_encode_leaves_interning_unchanged),
        cmocka_unit_test(payload_above_threshold_is_compressed_and_below_is_not),
        cmocka_unit_test(tiny_payloads_are_never_compressed),
        cmocka_unit_test(incompressible_payload_is_sent_raw),
        cmocka_unit_test(decompression_limits_are_enforced),
        cmocka_unit_test(codec_round_trips_random_traffic_with_interning_and_compression),
        cmocka_unit_test(codec_options_are_checked),
        cmocka_unit_test(batch_of_a_thousand_frames_iterates_in_order),
        cmocka_unit_test(batch_count_must_match_its_frames),
        cmocka_unit_test(batch_inside_a_batch_is_rejected),
        cmocka_unit_test(batch_writer_reports_the_size_it_needs),
        cmocka_unit_test(compressed_batch_round_trips_through_codecs),
        cmocka_unit_test(batch_frame_may_not_carry_a_topic),
        cmocka_unit_test(every_compression_threshold_round_trips_random_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

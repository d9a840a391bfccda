/*
 * `hivewire encode` / `decode` / `stream`: round trips, and a table of bad inputs and options,
 * each with the exit status it must give (1 bad input, 2 bad usage) and a fragment its message
 * must hold (the line, element, frame, field or option it names). The repro inputs of issues 13
 * and 20 are in tests/codec/data/; the streams are made here.
 */
#include "hv_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/codec.h>

#include "codec/le.h"

int hv_cmd_encode(int argc, char **argv);
int hv_cmd_decode(int argc, char **argv);
int hv_cmd_stream(int argc, char **argv);

static char in_path[64], out_path[64], mid_path[64], err_path[64];

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static size_t read_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return n;
}

/* tests/codec/data/<name>: the repro inputs of issues 13 and 20, kept with the tests. */
static const char *data_path(const char *name)
{
    static char path[512];
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/codec/data/%s", root ? root : ".", name);
    return path;
}

/* Runs a command with stdin from `in`, stdout to `out` and stderr to err_path. */
static int run(int (*cmd)(int, char **), const char *in, const char *out, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    fflush(stderr);
    int saved_in = dup(0), saved_out = dup(1), saved_err = dup(2);
    int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fi >= 0 && fo >= 0 && fe >= 0);
    dup2(fi, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fi);
    close(fo);
    close(fe);
    clearerr(stdin);
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_in);
    close(saved_out);
    close(saved_err);
    clearerr(stdin);
    return rc;
}

static const char lines[] =
    "{\"type\":\"heartbeat\",\"seq\":1,\"sender_id\":7,\"payload\":{\"load\":0.5}}\n"
    "\n"
    "{\"type\":\"publish\",\"seq\":2,\"topic\":\"md.spx\",\"payload\":{\"data\":"
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}\n"
    "{\"type\":\"publish\",\"seq\":3,\"topic\":\"md.spx\",\"payload\":{\"priority\":\"low\"}}\n"
    "{\"type\":\"vote\",\"seq\":4,\"payload\":{\"choice\":\"reject\",\"round\":2}}\n";

static int setup(void **state)
{
    (void)state;
    strcpy(in_path, "/tmp/hv_cli_in_XXXXXX");
    strcpy(out_path, "/tmp/hv_cli_out_XXXXXX");
    strcpy(mid_path, "/tmp/hv_cli_mid_XXXXXX");
    strcpy(err_path, "/tmp/hv_cli_err_XXXXXX");
    close(mkstemp(in_path));
    close(mkstemp(out_path));
    close(mkstemp(mid_path));
    close(mkstemp(err_path));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(in_path);
    unlink(out_path);
    unlink(mid_path);
    unlink(err_path);
    return 0;
}

/* ---- Round trips ------------------------------------------------------------------------- */

static void decode_of_encode_gives_the_messages_back(char **enc_argv, char *out, size_t cap)
{
    char *dec[] = { "decode", NULL };
    write_file(in_path, lines, strlen(lines));
    assert_int_equal(run(hv_cmd_encode, in_path, mid_path, enc_argv), 0);
    assert_int_equal(run(hv_cmd_decode, mid_path, out_path, dec), 0);
    read_file(out_path, out, cap);
}

static void encode_then_decode_round_trips_lines(void **state)
{
    (void)state;
    static char plain[8192], batched[8192];
    char *enc[] = { "encode", NULL };
    decode_of_encode_gives_the_messages_back(enc, plain, sizeof(plain));
    assert_non_null(strstr(plain, "\"type\":\"heartbeat\",\"seq\":1"));
    assert_non_null(strstr(plain, "\"choice\":\"reject\""));
    assert_non_null(strstr(plain, "\"priority\":\"low\""));
    int count = 0;
    for (const char *p = plain; (p = strchr(p, '\n')) != NULL; p++)
        count++;
    assert_int_equal(count, 4);
    /* Batching, compression and interning change the bytes, not the messages. */
    char *enc2[] = { "encode", "--batch",  "--batch-max", "3", "--compress-above",
                     "32",     "--intern", "4",           NULL };
    decode_of_encode_gives_the_messages_back(enc2, batched, sizeof(batched));
    assert_string_equal(plain, batched);
}

static void encode_accepts_a_json_array(void **state)
{
    (void)state;
    const char *arr = " [ {\"type\":\"heartbeat\"} ,\n{\"type\":\"unsubscribe\"} ] \n";
    write_file(in_path, arr, strlen(arr));
    char *enc[] = { "encode", NULL };
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, enc), 0);
    char out[256];
    assert_int_equal(read_file(out_path, out, sizeof(out)), 68 + 56);
    write_file(in_path, "[]", 2);
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, enc), 0);
    assert_int_equal(read_file(out_path, out, sizeof(out)), 0);
}

static void empty_input_decodes_to_nothing(void **state)
{
    (void)state;
    char *dec[] = { "decode", NULL };
    write_file(in_path, "", 0);
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, dec), 0);
}

/* Issue 20: a one-frame batch that LZ4 cannot shrink came out corrupted (HV_EBADMAGIC). */
static void batch_that_does_not_compress_decodes_at_every_threshold(void **state)
{
    (void)state;
    static char plain[4096], squeezed[4096];
    char *enc[] = { "encode", NULL }, *dec[] = { "decode", NULL };
    assert_int_equal(run(hv_cmd_encode, data_path("F13_lz4_batch_no_gain.jsonl"), mid_path, enc),
                     0);
    assert_int_equal(run(hv_cmd_decode, mid_path, out_path, dec), 0);
    read_file(out_path, plain, sizeof(plain));
    for (int above = 0; above <= 128; above++) {
        char arg[16];
        snprintf(arg, sizeof(arg), "%d", above);
        char *encz[] = { "encode", "--compress-above", arg, NULL };
        assert_int_equal(
            run(hv_cmd_encode, data_path("F13_lz4_batch_no_gain.jsonl"), mid_path, encz), 0);
        assert_int_equal(run(hv_cmd_decode, mid_path, out_path, dec), 0);
        read_file(out_path, squeezed, sizeof(squeezed));
        assert_string_equal(plain, squeezed);
    }
}

/* Issue 13: a batch of 65 publishes with data (or 22 proposals) said "out of memory". */
static void batches_of_many_variable_fields_encode(void **state)
{
    (void)state;
    static char out[1 << 16];
    const char *files[] = { "F01_batch65_publish.json", "F01_batch22_proposals.json" };
    char *enc[] = { "encode", NULL }, *dec[] = { "decode", NULL };
    for (int i = 0; i < 2; i++) {
        assert_int_equal(run(hv_cmd_encode, data_path(files[i]), mid_path, enc), 0);
        assert_int_equal(run(hv_cmd_decode, mid_path, out_path, dec), 0);
        read_file(out_path, out, sizeof(out));
        int count = 0;
        for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
            count++;
        assert_int_equal(count, i == 0 ? 65 : 22);
    }
}

/* ---- Streams made for the table ---------------------------------------------------------- */

#define CONTENT 10000
static uint8_t content[CONTENT];

static void put(FILE *f, const hv_msg *m)
{
    static uint8_t frame[2 * CONTENT];
    static uint64_t seq;
    hv_frame h = { .seq = ++seq, .sender_id = 1 };
    int n = hv_frame_encode(frame, sizeof(frame), &h, m, NULL);
    assert_true(n > 0);
    assert_int_equal(fwrite(frame, 1, (size_t)n, f), (size_t)n);
}

static void put_start(FILE *f, uint64_t id, uint64_t total, uint32_t chunk)
{
    hv_msg m = { .type = HV_MSG_STREAM_START };
    m.stream_start.stream_id = id;
    m.stream_start.total_bytes = total;
    m.stream_start.chunk_bytes = chunk;
    m.stream_start.name = hv_str_from("c.bin");
    put(f, &m);
}

static void put_data(FILE *f, uint64_t id, uint64_t off, uint32_t len)
{
    hv_msg m = { .type = HV_MSG_STREAM_DATA };
    m.stream_data = (hv_msg_stream_data){ id, off, { content + off, len } };
    put(f, &m);
}

static void put_end(FILE *f, uint64_t id, uint64_t total, uint32_t chunks, uint8_t status)
{
    hv_msg m = { .type = HV_MSG_STREAM_END };
    m.stream_end.stream_id = id;
    m.stream_end.total_bytes = total;
    m.stream_end.chunks = chunks;
    m.stream_end.status = status;
    hv_stream_hash(content, (size_t)total, m.stream_end.content_hash);
    put(f, &m);
}

/* Stream 77: 10000 bytes in chunks of 1000, announced. */
static void put_stream(FILE *f)
{
    put_start(f, 77, CONTENT, 1000);
    for (uint32_t off = 0; off < CONTENT; off += 1000)
        put_data(f, 77, off, 1000);
    put_end(f, 77, CONTENT, 10, HV_WIRE_STREAM_COMPLETE);
}

static void two_streams(FILE *f)
{
    put_stream(f);
    put_start(f, 78, 6, 6);
    put_data(f, 78, 0, 6);
    put_end(f, 78, 6, 1, HV_WIRE_STREAM_COMPLETE);
}

static void same_stream_twice(FILE *f)
{
    put_stream(f);
    put_stream(f);
}

static void second_end(FILE *f)
{
    put_stream(f);
    put_end(f, 77, CONTENT, 10, HV_WIRE_STREAM_COMPLETE);
}

static void trailing_garbage(FILE *f)
{
    put_stream(f);
    fputs("garbage after the stream, garbage after the stream, garbage after the stream", f);
}

static void trailing_cut_frame(FILE *f)
{
    put_stream(f);
    static const uint8_t part[30] = { 'H', 'V', 'W', '1', 1, 0, 0x04 };
    fwrite(part, 1, sizeof(part), f);
}

static void missing_chunk(FILE *f)
{
    put_start(f, 77, CONTENT, 1000);
    put_data(f, 77, 0, 1000);
    put_data(f, 77, 2000, 1000);
}

static void chunk_over_chunk_bytes(FILE *f)
{
    put_start(f, 77, CONTENT, 100);
    put_data(f, 77, 0, 1000);
}

static void unannounced_over_max(FILE *f)
{
    put_start(f, 77, 0, 1000);
    put_data(f, 77, 0, 1000);
    put_data(f, 77, 1000, 1000);
}

static void altered_content(FILE *f)
{
    put_start(f, 77, 2000, 1000);
    put_data(f, 77, 0, 1000);
    content[1500] ^= 1;
    put_data(f, 77, 1000, 1000);
    content[1500] ^= 1;
    put_end(f, 77, 2000, 2, HV_WIRE_STREAM_COMPLETE);
}

static void end_counts_differ(FILE *f)
{
    put_start(f, 77, 0, 1000);
    put_data(f, 77, 0, 1000);
    put_end(f, 77, 1000, 2, HV_WIRE_STREAM_COMPLETE);
}

static void aborted(FILE *f)
{
    put_start(f, 77, 0, 1000);
    put_end(f, 77, 0, 0, HV_WIRE_STREAM_ABORTED);
}

static void data_first(FILE *f)
{
    put_data(f, 77, 0, 1000);
}

static void other_stream_inside(FILE *f)
{
    put_start(f, 77, 0, 1000);
    put_data(f, 9, 0, 1000);
}

static void cut_before_end(FILE *f)
{
    put_start(f, 77, CONTENT, 1000);
    put_data(f, 77, 0, 1000);
}

static void second_start(FILE *f)
{
    put_start(f, 77, CONTENT, 1000);
    put_start(f, 78, CONTENT, 1000);
}

/* ---- Frames made for the table ----------------------------------------------------------- */

/* A heartbeat frame with the given load (written past the encoder's checks), cut to len. */
static void heartbeat_frame(FILE *f, float load, size_t len)
{
    hv_msg m = { .type = HV_MSG_HEARTBEAT };
    m.heartbeat.load = 0.5f;
    static uint8_t frame[128];
    hv_frame h = { .seq = 1 };
    int n = hv_frame_encode(frame, sizeof(frame), &h, &m, NULL);
    assert_int_equal(n, 68);
    hv__stf32(frame + 48 + 8, load);
    fwrite(frame, 1, len < (size_t)n ? len : (size_t)n, f);
}

static void heartbeat_load_1_5(FILE *f)
{
    heartbeat_frame(f, 1.5f, 68);
}

static void heartbeat_cut_short(FILE *f)
{
    heartbeat_frame(f, 0.5f, 68);
    heartbeat_frame(f, 0.5f, 67);
}

static void heartbeat_bad_type(FILE *f)
{
    heartbeat_frame(f, 0.5f, 68);
    fseek(f, 6, SEEK_SET);
    fputc(0x66, f);
}

static void publish_300_bytes(FILE *f)
{
    static uint8_t data[240];
    hv_msg m = { .type = HV_MSG_PUBLISH };
    m.publish.data = (hv_bytes){ data, sizeof(data) };
    hv_frame h = { .topic = hv_str_from("t") };
    static uint8_t frame[512];
    int n = hv_frame_encode(frame, sizeof(frame), &h, &m, NULL);
    assert_int_equal(n, 48 + 1 + 14 + 4 + 240);
    fwrite(frame, 1, (size_t)n, f);
}

/* ---- The table --------------------------------------------------------------------------- */

typedef struct cli_case {
    int (*cmd)(int, char **);
    const char *argv[8];
    const char *text;      /* stdin, or */
    const char *file;      /* a file under tests/codec/data, or */
    void (*make)(FILE *f); /* stdin made by this */
    int status;            /* exit status */
    const char *fragment;  /* must appear on stderr ("" = anything) */
    int output;            /* 1: stdout may have bytes; 0: stdout must be empty */
} cli_case;

#define ENC hv_cmd_encode
#define DEC hv_cmd_decode
#define STR hv_cmd_stream

/* A publish whose data is 204 bytes: its frame is 271 bytes. */
#define DATA_204                                                                                   \
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AA"                                                                                           \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"     \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "\""
#define PUBLISH_271 "{\"type\":\"publish\",\"topic\":\"t\",\"payload\":{\"data\":" DATA_204 "}}"
#define NAME_65     "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\""

/* Rows: command and arguments, stdin (TEXT, DATA file under tests/codec/data, or MADE by a
 * function), exit status, a fragment stderr must hold, and whether stdout may have bytes (frames or
 * lines written before the failure). */
#define TEXT(s) s, NULL, NULL
#define DATA(s) NULL, s, NULL
#define MADE(f) NULL, NULL, f

/* clang-format off */
static const cli_case cases[] = {
    /* encode: usage */
    { ENC, { "encode", "--frobnicate" }, TEXT(""), 2, "unknown option '--frobnicate'", 0 },
    { ENC, { "encode", "--batch-max" }, TEXT(""), 2, "option --batch-max needs a value", 0 },
    { ENC, { "encode", "--batch-max", "0" }, TEXT(""), 2,
      "--batch-max: 0 is out of range [1, 65535]", 0 },
    { ENC, { "encode", "--frame-max", "255" }, TEXT(""), 2,
      "--frame-max: 255 is out of range [256, 16777216]", 0 },
    { ENC, { "encode", "--intern-bytes", "1048577" }, TEXT(""), 2,
      "--intern-bytes: 1048577 is out of range", 0 },
    { ENC, { "encode", "--compress-above", "lots" }, TEXT(""), 2,
      "--compress-above: 'lots' is not an integer", 0 },
    { ENC, { "encode", "--help" }, TEXT(""), 0, "", 1 },
    /* encode: JSON syntax and shape, with the line and column or element */
    { ENC, { "encode" }, TEXT("{\"type\":\"vote\"\n"), 1, "line 1 column", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"heartbeat\"}\n{\"type\":\"nope\"}\n"), 1,
      "line 2: type: unknown message type 'nope'", 1 },
    { ENC, { "encode" }, TEXT("[{\"type\":\"vote\"}, 3]"), 1,
      "element 2 (line 1): expected a JSON object", 1 },
    { ENC, { "encode" }, TEXT("[{\"type\":\"vote\"}] x"), 1,
      "line 1 column 19: text after the array", 1 },
    { ENC, { "encode" }, TEXT("[{\"type\":\"vote\"}\n\n"), 1, "expected ',' or ']'", 1 },
    { ENC, { "encode" }, TEXT("{\"type\":\"vote\",\"type\":\"vote\"}"), 1, "duplicate", 0 },
    /* encode: the field named */
    { ENC, { "encode" }, TEXT("{\"type\":\"heartbeat\",\"payload\":{\"load\":1.5}}"), 1,
      "line 1: payload.load: 1.5 is outside 0..1 (HV_EBADFIELD)", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"heartbeat\",\"payload\":{\"lode\":1}}"), 1,
      "payload: unknown field 'lode'", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"vote\",\"payload\":{\"choice\":\"maybe\"}}"), 1,
      "payload.choice: expected one of approve, reject, abstain", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"task_result\",\"payload\":{\"task_id\":-1}}"), 1,
      "payload.task_id: expected an unsigned 64-bit integer", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"neural_gradients\",\"payload\":{\"gradients\":[1,\"x\"]}}"), 1,
      "payload.gradients[1]: expected a number", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"pattern_result\",\"payload\":{\"similarity\":1e39}}"),
      1, "payload.similarity: 9.9999999999999994e+38 rounds to infinity as a 32-bit float", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"strategy_correlation\",\"payload\":{\"strategy_ids\":[1,2],"
           "\"matrix\":[1]}}"), 1,
      "payload.matrix: needs n * n values", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"proposal\",\"payload\":{\"voters\":[1,2],\"weights\":[1]}}"), 1,
      "payload.weights: needs one weight per voter", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"handshake\",\"payload\":{\"version_min\":2}}"), 1,
      "payload.version_min: above version_max", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"stream_start\",\"payload\":{\"chunk_bytes\":1}}"), 1,
      "payload.stream_id: 0 (HV_EBADFIELD)", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"subscribe\",\"payload\":{\"pattern\":\"a b\"}}"), 1,
      "payload.pattern: needs 1..255 bytes of 0x21..0x7e (HV_EBADTOPIC)", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"metrics\",\"payload\":{\"entries\":[{\"name\":\"a\"},{\"name\":"
           NAME_65 "}]}}"), 1,
      "payload.entries[1].name: 65 bytes, not 1..64", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"metrics\",\"payload\":{\"entries\":[{\"kind\":\"x\"}]}}"),
      1, "payload.entries[0].name: expected a string", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"publish\"}"), 1, "topic: a publish needs a topic", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"publish\",\"topic\":\"a*\"}"), 1, "topic: 1..255 bytes",
      0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"heartbeat\",\"flags\":[\"urgent\"]}"), 1, "flags:", 0 },
    /* encode: topic ids a receiver would refuse (F07) */
    { ENC, { "encode" }, DATA("F07_def_out_of_order.json"), 1,
      "topic_id: topic id 5, but this connection interns no topics (encode interns topics only "
      "with --intern N)", 0 },
    { ENC, { "encode", "--intern", "8" }, DATA("F07_def_out_of_order.json"), 1,
      "topic id 5 is defined out of order: the next id is 1", 0 },
    { ENC, { "encode", "--intern", "8" }, DATA("F07_ref_undefined.json"), 1,
      "topic id 5 is not defined (no id is yet)", 0 },
    { ENC, { "encode", "--intern", "8" }, DATA("F07_heartbeat_topic_id.json"), 1,
      "topic id 3 is not defined", 0 },
    { ENC, { "encode", "--intern", "8" },
      TEXT("{\"type\":\"publish\",\"topic\":\"a\",\"topic_id\":1}\n"
           "{\"type\":\"publish\",\"topic_id\":1}\n"
           "{\"type\":\"publish\",\"topic\":\"a\",\"topic_id\":2}\n"), 1,
      "line 3: topic_id: topic 'a' is already defined as id 1", 1 },
    { ENC, { "encode", "--intern", "1" },
      TEXT("{\"type\":\"publish\",\"topic\":\"a\"}\n"
           "{\"type\":\"publish\",\"topic\":\"b\",\"topic_id\":2}\n"), 1,
      "topic id 2 does not fit: the table holds 1 of 1 entries", 1 },
    /* encode: sizes */
    { ENC, { "encode", "--frame-max", "256" }, TEXT(PUBLISH_271), 1,
      "line 1: the frame would be 271 bytes, over the frame limit of 256 (HV_ETOOBIG)", 0 },
    { ENC, { "encode", "--batch", "--frame-max", "256" }, TEXT(PUBLISH_271), 1,
      "line 1: the frame would be 271 bytes, over the frame limit of 204 (HV_ETOOBIG)", 0 },
    /* encode: batches */
    { ENC, { "encode", "--batch" },
      TEXT("{\"type\":\"batch\",\"payload\":{\"frames\":[{\"type\":\"ack\"}]}}"), 1,
      "line 1: a batch cannot go inside --batch", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"batch\",\"payload\":{\"frames\":[{\"type\":\"batch\",\"payload\":{}}]}}"),
      1, "payload.frames[0]: a batch cannot contain a batch", 0 },
    { ENC, { "encode" },
      TEXT("{\"type\":\"batch\",\"payload\":{\"frames\":[{\"type\":\"ack\"},"
           "{\"type\":\"heartbeat\",\"payload\":{\"load\":3}}]}}"), 1,
      "payload.frames[1]: payload.load: 3 is outside 0..1", 0 },
    { ENC, { "encode" }, TEXT("{\"type\":\"batch\",\"payload\":{\"frames\":[]}}"), 1,
      "payload.frames: expected a non-empty array", 0 },
    /* encode: the repro inputs that must work (F01, F13) */
    { ENC, { "encode" }, DATA("F01_batch65_publish.json"), 0, "", 1 },
    { ENC, { "encode", "--compress-above", "16" }, DATA("F01_batch22_proposals.json"), 0,
      "", 1 },
    { ENC, { "encode", "--compress-above", "16" }, DATA("F13_lz4_batch_no_gain.jsonl"), 0, "", 1 },
    /* decode: usage */
    { DEC, { "decode", "--batch" }, TEXT(""), 2, "unknown option '--batch'", 0 },
    { DEC, { "decode", "--frame-max" }, TEXT(""), 2, "option --frame-max needs a value", 0 },
    { DEC, { "decode", "--frame-max", "lots" }, TEXT(""), 2,
      "--frame-max: 'lots' is not an integer", 0 },
    { DEC, { "decode", "-h" }, TEXT(""), 0, "", 1 },
    /* decode: which frame, and what is wrong with it */
    { DEC, { "decode" }, TEXT("garbage"), 1,
      "frame 1 at byte 0: 7 bytes, fewer than the 48 of a frame header (HV_ETRUNCATED)", 0 },
    { DEC, { "decode" }, TEXT("garbage garbage garbage garbage garbage garbage garbage"), 1,
      "frame 1 at byte 0: starts 67 61 72 62, not 48 56 57 31", 0 },
    { DEC, { "decode" }, MADE(heartbeat_cut_short), 1,
      "frame 2 at byte 68: the frame is 68 bytes; only 67 are there (HV_ETRUNCATED)", 1 },
    { DEC, { "decode" }, MADE(heartbeat_bad_type), 1,
      "frame 1 at byte 0: type 0x66 is not a message type (HV_EBADTYPE)", 0 },
    { DEC, { "decode" }, MADE(heartbeat_load_1_5), 1,
      "frame 1 at byte 0: payload.load: 1.5 is outside 0..1 (HV_EBADFIELD)", 0 },
    { DEC, { "decode", "--frame-max", "300" }, MADE(publish_300_bytes), 1,
      "frame 1 at byte 0: the frame is 307 bytes, over the frame limit of 300 (HV_ETOOBIG)", 0 },
    /* decode: each interning error in its own words (F08d) */
    { DEC, { "decode" }, DATA("F08d_def_id2_first.bin"), 1,
      "frame 1 at byte 0: topic id 2 is defined out of order: the next id is 1 (HV_EBADINTERN)",
      0 },
    { DEC, { "decode" }, DATA("F08d_def_same_id_twice.bin"), 1,
      "frame 2 at byte 67: topic id 1 is defined out of order: the next id is 2", 1 },
    { DEC, { "decode" }, DATA("F08d_def_dup_topic.bin"), 1,
      "frame 2 at byte 67: topic 'a' is already defined as id 1", 1 },
    /* decode: nothing of a batch is printed when its count is wrong (F09) */
    { DEC, { "decode" }, DATA("F09_batch_count1_two_frames.bin"), 1,
      "frame 1 at byte 0: the batch's count is 1, but 68 bytes follow its frame 1 (HV_EBADLEN)",
      0 },
    /* stream: usage */
    { STR, { "stream" }, TEXT(""), 2, "usage: hivewire stream <command>", 0 },
    { STR, { "stream", "--help" }, TEXT(""), 0, "", 1 },
    { STR, { "stream", "split", "--help" }, TEXT(""), 0, "", 1 },
    { STR, { "stream", "join", "--help" }, TEXT(""), 0, "", 1 },
    { STR, { "stream", "merge" }, TEXT(""), 2, "hivewire stream: unknown command 'merge'", 0 },
    { STR, { "stream", "split", "--name" }, TEXT(""), 2, "option --name needs a value", 0 },
    { STR, { "stream", "split", "--chunk", "0" }, TEXT(""), 2,
      "hivewire stream split: --chunk: 0 is out of range [1, 1048320]", 0 },
    { STR, { "stream", "join", "--max" }, TEXT(""), 2, "option --max needs a value", 0 },
    { STR, { "stream", "join", "--chunk", "5" }, TEXT(""), 2, "unknown option '--chunk'", 0 },
    /* stream join: one stream, and every frame of the input read (F04) */
    { STR, { "stream", "join" }, MADE(two_streams), 1,
      "frame 13 at byte 10861: stream_start of a second stream (78) after stream 77 ended; "
      "stream join takes one stream (HV_ESTATE)", 0 },
    { STR, { "stream", "join" }, MADE(same_stream_twice), 1,
      "frame 13 at byte 10861: stream_start of stream 77 after its stream_end", 0 },
    { STR, { "stream", "join" }, MADE(second_end), 1,
      "frame 13 at byte 10861: stream_end of stream 77 after its stream_end", 0 },
    { STR, { "stream", "join" }, MADE(trailing_garbage), 1,
      "frame 13 at byte 10861: starts 67 61 72 62, not 48 56 57 31", 0 },
    { STR, { "stream", "join" }, MADE(trailing_cut_frame), 1,
      "frame 13 at byte 10861: 30 bytes, fewer than the 48 of a frame header (HV_ETRUNCATED)", 0 },
    /* stream join: each way a stream fails, with the sizes and ids involved */
    { STR, { "stream", "join", "--max", "3" }, MADE(two_streams), 1,
      "frame 1 at byte 0: stream_start announces 10000 bytes, over --max 3 (HV_ETOOBIG)", 0 },
    { STR, { "stream", "join", "--max", "1500" }, MADE(unannounced_over_max), 1,
      "frame 3 at byte 1144: the content grows to 2000 bytes, over --max 1500 (HV_ETOOBIG)", 0 },
    { STR, { "stream", "join" }, MADE(chunk_over_chunk_bytes), 1,
      "frame 2 at byte 76: a chunk of 1000 bytes, over the chunk_bytes 100 that stream_start "
      "announced", 0 },
    { STR, { "stream", "join" }, MADE(missing_chunk), 1,
      "frame 3 at byte 1144: stream_data at offset 2000, but 1000 bytes have arrived", 0 },
    { STR, { "stream", "join" }, MADE(altered_content), 1,
      "frame 4 at byte 2212: the content's BLAKE2b-256 differs", 0 },
    { STR, { "stream", "join" }, MADE(end_counts_differ), 1,
      "stream_end counts 1000 bytes in 2 chunks; 1000 bytes in 1 chunks arrived (HV_EBADLEN)", 0 },
    { STR, { "stream", "join" }, MADE(aborted), 1, "the sender aborted the stream", 0 },
    { STR, { "stream", "join" }, MADE(data_first), 1,
      "frame 1 at byte 0: stream_data before any stream_start (HV_ESTATE)", 0 },
    { STR, { "stream", "join" }, MADE(second_start), 1,
      "frame 2 at byte 76: a second stream_start (stream 78) while stream 77 is open", 0 },
    { STR, { "stream", "join" }, MADE(other_stream_inside), 1,
      "frame 2 at byte 76: stream_data of stream 9 inside stream 77", 0 },
    { STR, { "stream", "join" }, MADE(cut_before_end), 1,
      "the input ended before stream_end (1000 bytes in 1 chunks of stream 77 arrived)", 0 },
    { STR, { "stream", "join" }, TEXT(""), 1, "no stream_start in the input", 0 },
    { STR, { "stream", "join" }, MADE(put_stream), 0, "", 1 },
};
/* clang-format on */

/* The case's stdin in in_path. */
static void make_input(const cli_case *c)
{
    if (c->file != NULL) {
        static char data[1 << 16];
        FILE *f = fopen(data_path(c->file), "rb");
        assert_non_null(f);
        size_t n = fread(data, 1, sizeof(data), f);
        fclose(f);
        write_file(in_path, data, n);
        return;
    }
    FILE *f = fopen(in_path, "w+b");
    assert_non_null(f);
    if (c->make != NULL)
        c->make(f);
    else
        fputs(c->text, f);
    fclose(f);
}

static void bad_inputs_and_options_fail_with_their_status_and_say_where(void **state)
{
    (void)state;
    for (size_t i = 0; i < CONTENT; i++)
        content[i] = (uint8_t)(i * 2654435761u >> 13);
    static char err[4096], out[1 << 16];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const cli_case *c = &cases[i];
        make_input(c);
        char *argv[8] = { 0 };
        for (int k = 0; k < 7 && c->argv[k]; k++)
            argv[k] = (char *)c->argv[k];
        int status = run(c->cmd, in_path, out_path, argv);
        read_file(err_path, err, sizeof(err));
        size_t out_len = read_file(out_path, out, sizeof(out));
        if (status != c->status || strstr(err, c->fragment) == NULL || (!c->output && out_len))
            fail_msg("case %zu (%s %s): status %d (want %d), %zu bytes out, stderr:\n%s\nwant: %s",
                     i, c->argv[0], c->argv[1] ? c->argv[1] : "", status, c->status, out_len, err,
                     c->fragment);
    }
}

/* `decode < dir` fails ("is a directory") rather than succeeding on no input. */
static void reading_a_directory_is_an_error(void **state)
{
    (void)state;
    char *dec[] = { "decode", NULL };
    assert_int_equal(run(hv_cmd_decode, "/tmp", out_path, dec), 1);
    static char err[1024];
    read_file(err_path, err, sizeof(err));
    assert_non_null(strstr(err, "stdin:"));
}

static void stream_split_then_join_gives_the_bytes_back(void **state)
{
    (void)state;
    static char data[200000], back[200001];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 2654435761u >> 13);
    write_file(in_path, data, sizeof(data));
    char *split[] = { "stream", "split", "--chunk", "1000", "--name", "blob", NULL };
    assert_int_equal(run(hv_cmd_stream, in_path, mid_path, split), 0);
    char *join[] = { "stream", "join", NULL };
    assert_int_equal(run(hv_cmd_stream, mid_path, out_path, join), 0);
    assert_int_equal(read_file(out_path, back, sizeof(back)), sizeof(data));
    assert_memory_equal(back, data, sizeof(data));
    /* The same frames batched, compressed and interned join too. */
    char *dec[] = { "decode", NULL };
    char *enc[] = { "encode", "--batch",  "--batch-max", "7", "--compress-above",
                    "10",     "--intern", "2",           NULL };
    assert_int_equal(run(hv_cmd_decode, mid_path, out_path, dec), 0);
    assert_int_equal(run(hv_cmd_encode, out_path, in_path, enc), 0);
    assert_int_equal(run(hv_cmd_stream, in_path, out_path, join), 0);
    assert_int_equal(read_file(out_path, back, sizeof(back)), sizeof(data));
    assert_memory_equal(back, data, sizeof(data));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_then_decode_round_trips_lines),
        cmocka_unit_test(encode_accepts_a_json_array),
        cmocka_unit_test(empty_input_decodes_to_nothing),
        cmocka_unit_test(batch_that_does_not_compress_decodes_at_every_threshold),
        cmocka_unit_test(batches_of_many_variable_fields_encode),
        cmocka_unit_test(bad_inputs_and_options_fail_with_their_status_and_say_where),
        cmocka_unit_test(reading_a_directory_is_an_error),
        cmocka_unit_test(stream_split_then_join_gives_the_bytes_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

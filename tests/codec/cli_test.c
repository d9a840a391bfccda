/* `hivewire encode` / `decode` / `stream`: round trips, options, exit codes on bad input. */
#include "hv_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/codec.h>

int hv_cmd_encode(int argc, char **argv);
int hv_cmd_decode(int argc, char **argv);
int hv_cmd_stream(int argc, char **argv);

static char in_path[64], out_path[64], mid_path[64];

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

/* Runs a command with stdin from `in` and stdout to `out`. */
static int run(int (*cmd)(int, char **), const char *in, const char *out, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    fflush(stdout);
    int saved_in = dup(0), saved_out = dup(1);
    int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fi >= 0 && fo >= 0);
    dup2(fi, 0);
    dup2(fo, 1);
    close(fi);
    close(fo);
    clearerr(stdin);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved_in, 0);
    dup2(saved_out, 1);
    close(saved_in);
    close(saved_out);
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
    close(mkstemp(in_path));
    close(mkstemp(out_path));
    close(mkstemp(mid_path));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(in_path);
    unlink(out_path);
    unlink(mid_path);
    return 0;
}

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
    const char *arr = "[{\"type\":\"heartbeat\"},{\"type\":\"unsubscribe\"}]";
    write_file(in_path, arr, strlen(arr));
    char *enc[] = { "encode", NULL };
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, enc), 0);
    char out[256];
    assert_int_equal(read_file(out_path, out, sizeof(out)), 68 + 56);
}

static void encode_fails_with_status_1_on_bad_json(void **state)
{
    (void)state;
    const char *bad[] = { "{\"type\":\"vote\"\n", "{\"type\":\"nope\"}\n",
                          "{\"type\":\"publish\"}\n", "[{\"type\":\"vote\"}, 3]" };
    char *enc[] = { "encode", NULL };
    for (size_t i = 0; i < 4; i++) {
        write_file(in_path, bad[i], strlen(bad[i]));
        assert_int_equal(run(hv_cmd_encode, in_path, out_path, enc), 1);
    }
}

static void decode_fails_with_status_1_on_bad_frames(void **state)
{
    (void)state;
    char *enc[] = { "encode", NULL }, *dec[] = { "decode", NULL };
    write_file(in_path, lines, strlen(lines));
    assert_int_equal(run(hv_cmd_encode, in_path, mid_path, enc), 0);
    static char frames[8192];
    size_t n = read_file(mid_path, frames, sizeof(frames));
    write_file(in_path, frames, n - 1); /* truncated last frame */
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, dec), 1);
    frames[6] = 0x66; /* unknown type in the first frame */
    write_file(in_path, frames, n);
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, dec), 1);
    write_file(in_path, "garbage", 7);
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, dec), 1);
    write_file(in_path, "", 0); /* nothing to decode is fine */
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, dec), 0);
    /* `hivewire decode < dir`: a failure ("is a directory"), not an empty success. */
    assert_int_equal(run(hv_cmd_decode, "/tmp", out_path, dec), 1);
}

static void stream_split_then_join_gives_the_bytes_back(void **state)
{
    (void)state;
    static char content[200000], back[200001];
    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (char)(i * 2654435761u >> 13);
    write_file(in_path, content, sizeof(content));
    char *split[] = { "stream", "split", "--chunk", "1000", "--name", "blob", NULL };
    assert_int_equal(run(hv_cmd_stream, in_path, mid_path, split), 0);
    char *join[] = { "stream", "join", NULL };
    assert_int_equal(run(hv_cmd_stream, mid_path, out_path, join), 0);
    assert_int_equal(read_file(out_path, back, sizeof(back)), sizeof(content));
    assert_memory_equal(back, content, sizeof(content));
    /* too small a --max, then one flipped content byte: status 1 and no output */
    char *small[] = { "stream", "join", "--max", "1000", NULL };
    assert_int_equal(run(hv_cmd_stream, mid_path, out_path, small), 1);
    assert_int_equal(read_file(out_path, back, sizeof(back)), 0);
    static char frames[400000];
    FILE *f = fopen(mid_path, "rb");
    assert_non_null(f);
    size_t n = fread(frames, 1, sizeof(frames), f);
    fclose(f);
    frames[n / 2] ^= 0x40; /* inside some chunk's bytes */
    write_file(mid_path, frames, n);
    assert_int_equal(run(hv_cmd_stream, mid_path, out_path, join), 1);
    assert_int_equal(read_file(out_path, back, sizeof(back)), 0);
    /* a stream cut short */
    write_file(mid_path, frames, 2000);
    assert_int_equal(run(hv_cmd_stream, mid_path, out_path, join), 1);
    char *bad[] = { "stream", "split", "--chunk", "0", NULL };
    assert_int_equal(run(hv_cmd_stream, in_path, out_path, bad), 2);
    char *unknown[] = { "stream", "merge", NULL };
    assert_int_equal(run(hv_cmd_stream, in_path, out_path, unknown), 2);
}

/* tests/codec/data/<name>: the repro inputs of issues 13 and 20, kept with the tests. */
static const char *data_path(const char *name)
{
    static char path[512];
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/codec/data/%s", root ? root : ".", name);
    return path;
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

static void bad_usage_exits_with_status_2(void **state)
{
    (void)state;
    write_file(in_path, "", 0);
    char *a[] = { "encode", "--frobnicate", NULL };
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, a), 2);
    char *b[] = { "encode", "--batch-max", "0", NULL };
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, b), 2);
    char *c[] = { "decode", "--frame-max", "lots", NULL };
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, c), 2);
    char *d[] = { "decode", "--batch", NULL };
    assert_int_equal(run(hv_cmd_decode, in_path, out_path, d), 2);
    char *e[] = { "encode", "--help", NULL };
    assert_int_equal(run(hv_cmd_encode, in_path, out_path, e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_then_decode_round_trips_lines),
        cmocka_unit_test(encode_accepts_a_json_array),
        cmocka_unit_test(encode_fails_with_status_1_on_bad_json),
        cmocka_unit_test(decode_fails_with_status_1_on_bad_frames),
        cmocka_unit_test(stream_split_then_join_gives_the_bytes_back),
        cmocka_unit_test(bad_usage_exits_with_status_2),
        cmocka_unit_test(batch_that_does_not_compress_decodes_at_every_threshold),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

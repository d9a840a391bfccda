/*
 * `hivewire stream split` (stdin's bytes to STREAM_START / DATA / END frames) and
 * `hivewire stream join` (those frames back to the bytes, verified by hv_stream_rx).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#include "cli/cli.h"

#define STREAM_INPUT_MAX (256u << 20)
#define CHUNK_DEFAULT    (64u << 10)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire stream split [--chunk N] [--id N] [--name S] < file > frames.bin\n"
            "       hivewire stream join [--max N] < frames.bin > file\n\n"
            "split  sends stdin as one HVW1 stream: stream_start, stream_data chunks of at most\n"
            "       N bytes (default 65536), stream_end with the BLAKE2b-256 of the content.\n"
            "join   reassembles one stream from frames on stdin and writes the content only if\n"
            "       every offset, size, count and the hash check out (at most --max bytes,\n"
            "       default 256 MiB). Frames of other types are skipped.\n\n"
            "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n");
}

static int put_frame(hv_frame *f, const hv_msg *m, uint8_t *buf, size_t cap)
{
    int n = hv_frame_encode(buf, cap, f, m, NULL);
    if (n < 0) {
        hv__cli_error("stream", "encode: %s", hv_strerror(n));
        return HV_EXIT_FAIL;
    }
    f->seq++;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
        hv__cli_error("stream", "write failed");
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int split(const uint8_t *in, size_t len, uint32_t chunk, uint64_t id, const char *name)
{
    size_t cap = HV_FRAME_HEADER_BYTES + 64 + (size_t)chunk + strlen(name);
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return HV_EXIT_FAIL;
    hv_frame f = { .seq = 1, .sender_id = 1 };
    hv_msg m = { .type = HV_MSG_STREAM_START };
    m.stream_start = (hv_msg_stream_start){ .stream_id = id,
                                            .total_bytes = len,
                                            .chunk_bytes = chunk,
                                            .content_type = HV_WIRE_CONTENT_OCTETS,
                                            .name = hv_str_from(name) };
    int rv = put_frame(&f, &m, buf, cap);
    uint32_t chunks = 0;
    for (size_t off = 0; rv == 0 && off < len; off += chunk, chunks++) {
        size_t n = len - off < chunk ? len - off : chunk;
        m = (hv_msg){ .type = HV_MSG_STREAM_DATA };
        m.stream_data = (hv_msg_stream_data){ id, off, { in + off, (uint32_t)n } };
        rv = put_frame(&f, &m, buf, cap);
    }
    if (rv == 0) {
        m = (hv_msg){ .type = HV_MSG_STREAM_END };
        m.stream_end.stream_id = id;
        m.stream_end.total_bytes = len;
        m.stream_end.chunks = chunks;
        m.stream_end.status = HV_WIRE_STREAM_COMPLETE;
        hv_stream_hash(in, len, m.stream_end.content_hash);
        rv = put_frame(&f, &m, buf, cap);
    }
    free(buf);
    return rv;
}

static int join(const uint8_t *in, size_t len, uint64_t max)
{
    uint8_t *out = malloc(max ? max : 1);
    if (out == NULL)
        return HV_EXIT_FAIL;
    hv_stream_rx rx;
    hv_stream_rx_init(&rx, out, max);
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && off < len) {
        hv_frame f;
        hv_msg m;
        int n = hv_decode(in + off, len - off, NULL, NULL, 0, &f, &m);
        if (n < 0) {
            hv__cli_error("stream", "frame at byte %zu: %s", off, hv_strerror(n));
            free(out);
            return HV_EXIT_FAIL;
        }
        off += (size_t)n;
        if (m.type == HV_MSG_STREAM_START || m.type == HV_MSG_STREAM_DATA ||
            m.type == HV_MSG_STREAM_END)
            rc = hv_stream_rx_feed(&rx, &m);
    }
    if (rc != 1) {
        hv__cli_error("stream", "%s after %llu bytes in %u chunks",
                      rc < 0 ? hv_strerror(rc) : "input ended before stream_end",
                      (unsigned long long)rx.received, rx.chunks);
        free(out);
        return HV_EXIT_FAIL;
    }
    int ok = fwrite(out, 1, (size_t)rx.received, stdout) == rx.received && fflush(stdout) == 0;
    free(out);
    return ok ? 0 : HV_EXIT_FAIL;
}

int hv_cmd_stream(int argc, char **argv);
int hv_cmd_stream(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? HV_EXIT_USAGE : HV_EXIT_OK;
    }
    int is_split = strcmp(argv[1], "split") == 0;
    if (!is_split && strcmp(argv[1], "join") != 0) {
        hv__cli_error("stream", "unknown subcommand '%s'", argv[1]);
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    uint64_t chunk = CHUNK_DEFAULT, id = 1, max = STREAM_INPUT_MAX;
    const char *name = "";
    for (int i = 2; i < argc; i++) {
        uint64_t *target = NULL, lo = 1, hi = UINT64_MAX;
        if (is_split && strcmp(argv[i], "--chunk") == 0)
            target = &chunk, hi = HV_FRAME_MAX_DEFAULT - 256;
        else if (is_split && strcmp(argv[i], "--id") == 0)
            target = &id;
        else if (!is_split && strcmp(argv[i], "--max") == 0)
            target = &max, lo = 0, hi = STREAM_INPUT_MAX;
        else if (is_split && strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
            continue;
        } else {
            hv__cli_error("stream", "unknown option '%s'", argv[i]);
            usage(stderr);
            return HV_EXIT_USAGE;
        }
        if (i + 1 >= argc || hv__cli_parse_u64(argv[i + 1], target) != 0 || *target < lo ||
            *target > hi) {
            hv__cli_error("stream", "%s takes a number from %llu to %llu", argv[i],
                          (unsigned long long)lo, (unsigned long long)hi);
            return HV_EXIT_USAGE;
        }
        i++;
    }
    uint8_t *in = NULL;
    size_t len = 0;
    int rv =
        hv__cli_read_all(stdin, is_split ? STREAM_INPUT_MAX : 2u * STREAM_INPUT_MAX, &in, &len);
    if (rv != 0) {
        hv__cli_error("stream", "reading stdin: %s", hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    rv = is_split ? split(in, len, (uint32_t)chunk, id, name) : join(in, len, max);
    if (rv == 0 && is_split && fflush(stdout) != 0)
        rv = HV_EXIT_FAIL;
    free(in);
    return rv;
}

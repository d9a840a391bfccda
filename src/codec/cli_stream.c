/*
 * `hivewire stream split` (stdin's bytes to STREAM_START / DATA / END frames) and
 * `hivewire stream join` (those frames back to the bytes, verified by hv_stream_rx).
 *
 * join takes exactly one stream: it reads every frame of its input (batched, compressed and
 * interned frames as `decode` does), skips the frames of other types, and refuses trailing
 * bytes, a frame cut short, a second stream and anything of the stream after its end, each
 * with the frame that broke the rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#include "cli/cli.h"
#include "codec/cli_util.h"

#define STREAM_INPUT_MAX (256u << 20)
#define CHUNK_DEFAULT    (64u << 10)
#define CHUNK_MAX        (HV_FRAME_MAX_DEFAULT - 256)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire stream split [--chunk N] [--id N] [--name S] < file > frames.bin\n"
            "       hivewire stream join [--max N] < frames.bin > file\n\n"
            "split  sends stdin (at most 256 MiB) as one HVW1 stream: stream_start, stream_data\n"
            "       chunks of at most --chunk bytes (1..1048320, default 65536), stream_end with\n"
            "       the BLAKE2b-256 of the content. --id is the stream id (default 1), --name\n"
            "       its name (default empty).\n"
            "join   reassembles the one stream in the frames on stdin and writes the content\n"
            "       only if every offset, size, count and the hash check out (at most --max\n"
            "       bytes, default and most 256 MiB). Frames of other types are skipped; a\n"
            "       second stream, trailing bytes or a frame cut short fail.\n\n"
            "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n");
}

/* ---- split ------------------------------------------------------------------------------- */

static int put_frame(hv_frame *f, const hv_msg *m, uint8_t *buf, size_t cap)
{
    int n = hv_frame_encode(buf, cap, f, m, NULL);
    if (n < 0) {
        hv__cli_error("stream split", "%s frame %llu does not encode: %s",
                      hv_msg_type_name(m->type), (unsigned long long)f->seq, hv_strerror(n));
        return HV_EXIT_FAIL;
    }
    f->seq++;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
        hv__cli_error("stream split", "stdout: write failed");
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

/* ---- join -------------------------------------------------------------------------------- */

typedef struct joiner {
    hv__frame_reader r;
    hv_stream_rx rx;
    uint64_t max; /* --max */
} joiner;

static int is_stream_msg(int type)
{
    return type == HV_MSG_STREAM_START || type == HV_MSG_STREAM_DATA || type == HV_MSG_STREAM_END;
}

static uint64_t stream_id_of(const hv_msg *m)
{
    return m->type == HV_MSG_STREAM_START  ? m->stream_start.stream_id
           : m->type == HV_MSG_STREAM_DATA ? m->stream_data.stream_id
                                           : m->stream_end.stream_id;
}

/* What the reassembler's refusal (rc) of m means, given its state before m (was). */
static int explain_refusal(const joiner *j, const hv_stream_rx *was, const hv_msg *m, size_t k,
                           int rc)
{
    const hv__frame_reader *r = &j->r;
    const char *type = hv_msg_type_name(m->type);
    const char *name = hv_err_name(rc) ? hv_err_name(rc) : "?";
    switch (rc) {
    case HV_ESTATE:
        if (m->type == HV_MSG_STREAM_START)
            return hv__frame_reader_fail(r, k,
                                         "a second stream_start (stream %llu) while stream %llu "
                                         "is open; stream join takes one stream (%s)",
                                         (unsigned long long)m->stream_start.stream_id,
                                         (unsigned long long)was->stream_id, name);
        return hv__frame_reader_fail(r, k, "%s before any stream_start (%s)", type, name);
    case HV_ENOTFOUND:
        return hv__frame_reader_fail(r, k,
                                     "%s of stream %llu inside stream %llu; stream join takes one "
                                     "stream (%s)",
                                     type, (unsigned long long)stream_id_of(m),
                                     (unsigned long long)was->stream_id, name);
    case HV_ESTREAMGAP:
        return hv__frame_reader_fail(r, k,
                                     "stream_data at offset %llu, but %llu bytes have arrived: a "
                                     "chunk is missing, repeated or out of order (%s)",
                                     (unsigned long long)m->stream_data.offset,
                                     (unsigned long long)was->received, name);
    case HV_ETOOBIG:
        if (m->type == HV_MSG_STREAM_START)
            return hv__frame_reader_fail(
                r, k, "stream_start announces %llu bytes, over --max %llu (%s)",
                (unsigned long long)m->stream_start.total_bytes, (unsigned long long)j->max, name);
        if (m->stream_data.chunk.len > was->chunk_max)
            return hv__frame_reader_fail(r, k,
                                         "a chunk of %u bytes, over the chunk_bytes %u that "
                                         "stream_start announced (%s)",
                                         m->stream_data.chunk.len, was->chunk_max, name);
        if (was->announced != 0)
            return hv__frame_reader_fail(
                r, k,
                "the content grows to %llu bytes, past the %llu that "
                "stream_start announced (%s)",
                (unsigned long long)(was->received + m->stream_data.chunk.len),
                (unsigned long long)was->announced, name);
        return hv__frame_reader_fail(r, k, "the content grows to %llu bytes, over --max %llu (%s)",
                                     (unsigned long long)(was->received + m->stream_data.chunk.len),
                                     (unsigned long long)j->max, name);
    case HV_EBADLEN:
        return hv__frame_reader_fail(
            r, k,
            "stream_end counts %llu bytes in %u chunks; %llu bytes in %u chunks arrived%s (%s)",
            (unsigned long long)m->stream_end.total_bytes, m->stream_end.chunks,
            (unsigned long long)was->received, was->chunks,
            was->announced && was->announced != was->received ? ", short of the announced total"
                                                              : "",
            name);
    case HV_ECHECKSUM:
        return hv__frame_reader_fail(r, k,
                                     "the content's BLAKE2b-256 differs from stream_end's "
                                     "content_hash: the content changed on the way (%s)",
                                     name);
    case HV_ECLOSED:
        return hv__frame_reader_fail(r, k, "the sender aborted the stream (error %d) (%s)",
                                     m->stream_end.error_code, name);
    default:
        return hv__frame_reader_fail(r, k, "%s (%s)", hv_strerror(rc), name);
    }
}

/* A stream message after the stream completed: the same stream again, or another one. */
static int after_end(const joiner *j, const hv_msg *m, size_t k)
{
    uint64_t id = stream_id_of(m);
    if (id == j->rx.stream_id)
        return hv__frame_reader_fail(&j->r, k, "%s of stream %llu after its stream_end (%s)",
                                     hv_msg_type_name(m->type), (unsigned long long)id,
                                     hv_err_name(HV_ESTATE));
    return hv__frame_reader_fail(&j->r, k,
                                 "%s of a second stream (%llu) after stream %llu ended; stream "
                                 "join takes one stream (%s)",
                                 hv_msg_type_name(m->type), (unsigned long long)id,
                                 (unsigned long long)j->rx.stream_id, hv_err_name(HV_ESTATE));
}

/* Feeds one decoded message (frame k of a batch, or 0) to the reassembler. 0 or -1. */
static int join_msg(void *arg, const hv_frame *f, const hv_msg *m, size_t k)
{
    (void)f;
    joiner *j = arg;
    if (!is_stream_msg(m->type))
        return 0;
    if (j->rx.state == HV_STREAM_COMPLETE)
        return after_end(j, m, k);
    hv_stream_rx was = j->rx;
    int rc = hv_stream_rx_feed(&j->rx, m);
    return rc < 0 ? explain_refusal(j, &was, m, k, rc) : 0;
}

static int join(const uint8_t *in, size_t len, uint64_t max)
{
    joiner j = { .max = max };
    uint8_t *out = malloc(max ? max : 1);
    int rv = out == NULL
                 ? HV_ENOMEM
                 : hv__frame_reader_init(&j.r, "stream join", in, len, HV_FRAME_MAX_CEILING);
    if (rv != 0) {
        hv__cli_error("stream join", "%s", hv_strerror(rv));
        free(out);
        return HV_EXIT_FAIL;
    }
    hv_stream_rx_init(&j.rx, out, max);
    hv_frame f;
    hv_msg m;
    while (rv == 0 && (rv = hv__frame_reader_next(&j.r, &f, &m)) == 1)
        rv = f.type == HV_MSG_BATCH ? hv__frame_reader_batch(&j.r, &m.batch, join_msg, &j)
                                    : join_msg(&j, &f, &m, 0);
    if (rv == 0 && j.rx.state != HV_STREAM_COMPLETE) {
        if (j.rx.state == HV_STREAM_IDLE)
            hv__cli_error("stream join", "no stream_start in the input");
        else
            hv__cli_error("stream join",
                          "the input ended before stream_end (%llu bytes in %u "
                          "chunks of stream %llu arrived)",
                          (unsigned long long)j.rx.received, j.rx.chunks,
                          (unsigned long long)j.rx.stream_id);
        rv = -1;
    }
    if (rv == 0 &&
        (fwrite(out, 1, (size_t)j.rx.received, stdout) != j.rx.received || fflush(stdout) != 0)) {
        hv__cli_error("stream join", "stdout: write failed");
        rv = -1;
    }
    hv__frame_reader_fini(&j.r);
    free(out);
    return rv == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

/* ---- options ----------------------------------------------------------------------------- */

typedef struct stream_opts {
    uint64_t chunk, id, max;
    const char *name;
} stream_opts;

/* Parses the options of split (is_split) or join. Returns -1 to continue, else an exit code. */
static int parse_opts(int argc, char **argv, int is_split, stream_opts *o)
{
    const char *cmd = is_split ? "stream split" : "stream join";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *target = NULL, lo = 1, hi = UINT64_MAX;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return HV_EXIT_OK;
        } else if (is_split && strcmp(a, "--chunk") == 0) {
            target = &o->chunk, hi = CHUNK_MAX;
        } else if (is_split && strcmp(a, "--id") == 0) {
            target = &o->id;
        } else if (!is_split && strcmp(a, "--max") == 0) {
            target = &o->max, lo = 0, hi = STREAM_INPUT_MAX;
        } else if (is_split && strcmp(a, "--name") == 0) {
            if (i + 1 >= argc) {
                hv__cli_error(cmd, "--name needs a value: the stream's name");
                return HV_EXIT_USAGE;
            }
            o->name = argv[++i];
            continue;
        } else {
            hv__cli_error(cmd, "unknown option '%s'", a);
            usage(stderr);
            return HV_EXIT_USAGE;
        }
        int rv = hv__cli_option_number(cmd, argc, argv, i, lo, hi, target);
        if (rv >= 0)
            return rv;
        i++;
    }
    return -1;
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
        hv__cli_error("stream", "unknown subcommand '%s' (split or join)", argv[1]);
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    stream_opts o = { .chunk = CHUNK_DEFAULT, .id = 1, .max = STREAM_INPUT_MAX, .name = "" };
    int rv = parse_opts(argc, argv, is_split, &o);
    if (rv >= 0)
        return rv;
    uint8_t *in = NULL;
    size_t len = 0;
    size_t in_max = is_split ? STREAM_INPUT_MAX : 2u * STREAM_INPUT_MAX;
    rv = hv__cli_read_all(stdin, in_max, &in, &len);
    if (rv != 0) {
        if (rv == HV_ETOOBIG)
            hv__cli_error("stream", "%s: stdin: more than %zu MiB of input", argv[1], in_max >> 20);
        else
            hv__cli_error("stream", "%s: stdin: %s", argv[1], hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    rv = is_split ? split(in, len, (uint32_t)o.chunk, o.id, o.name) : join(in, len, o.max);
    if (rv == 0 && is_split && fflush(stdout) != 0)
        rv = HV_EXIT_FAIL;
    free(in);
    return rv;
}

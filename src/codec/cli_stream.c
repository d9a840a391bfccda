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
#include "cli/opts.h"
#include "codec/cli_util.h"

#define STREAM_INPUT_MAX (256u << 20)
#define CHUNK_DEFAULT    (64u << 10)
#define CHUNK_MAX        (HV_FRAME_MAX_DEFAULT - 256)

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

/* ---- commands ---------------------------------------------------------------------------- */

typedef struct stream_opts {
    uint64_t chunk, id, max;
    const char *name;
} stream_opts;

static const hv_opt split_rows[] = {
    { .name = "chunk",
      .kind = HV_OPT_U64,
      HV_OPT_AT(stream_opts, chunk),
      .umin = 1,
      .umax = CHUNK_MAX,
      .metavar = "BYTES",
      .dflt = "65536",
      .help = "largest stream_data chunk" },
    { .name = "id",
      .kind = HV_OPT_U64,
      HV_OPT_AT(stream_opts, id),
      .umin = 1,
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "the stream id" },
    { .name = "name",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(stream_opts, name),
      .metavar = "S",
      .dflt = "empty",
      .help = "the stream's name" },
    { 0 },
};

static const hv_opt join_rows[] = {
    { .name = "max",
      .kind = HV_OPT_U64,
      HV_OPT_AT(stream_opts, max),
      .umax = STREAM_INPUT_MAX,
      .metavar = "BYTES",
      .dflt = "268435456",
      .help = "most content bytes to accept" },
    { 0 },
};

static const hv_opt_section split_sections[] = { { NULL, split_rows, 0 }, { 0 } };
static const hv_opt_section join_sections[] = { { NULL, join_rows, 0 }, { 0 } };

static const hv_cli_spec split_spec = {
    .name = "stream split",
    .synopsis = "[options] < file > frames.bin",
    .summary = "stdin as one HVW1 stream: stream_start, stream_data chunks, stream_end",
    .about = "Sends stdin (at most 256 MiB) as one HVW1 stream: stream_start, stream_data\n"
             "chunks of at most --chunk bytes, stream_end with the BLAKE2b-256 of the content.\n",
    .sections = split_sections,
    .epilog = "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n",
};

static const hv_cli_spec join_spec = {
    .name = "stream join",
    .synopsis = "[--max BYTES] < frames.bin > file",
    .summary = "the one stream in the frames on stdin back to its bytes, verified",
    .about = "Reassembles the one stream in the frames on stdin and writes the content only if\n"
             "every offset, size, count and the hash check out. Frames of other types are\n"
             "skipped; a second stream, trailing bytes or a frame cut short fail.\n",
    .sections = join_sections,
    .epilog = "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n",
};

/* Reads stdin whole (at most in_max bytes): 0, or HV_EXIT_FAIL after saying why. */
static int read_stdin(const char *cmd, size_t in_max, uint8_t **in, size_t *len)
{
    int rv = hv__cli_read_all(stdin, in_max, in, len);
    if (rv == HV_ETOOBIG)
        hv__cli_error(cmd, "stdin: more than %zu MiB of input", in_max >> 20);
    else if (rv != 0)
        hv__cli_error(cmd, "stdin: %s", hv_strerror(rv));
    return rv == 0 ? 0 : HV_EXIT_FAIL;
}

static int cmd_split(int argc, char **argv)
{
    stream_opts o = { .chunk = CHUNK_DEFAULT, .id = 1, .name = "" };
    void *targets[] = { &o };
    int rv = hv__opts_parse(&split_spec, targets, argc, argv, NULL);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    uint8_t *in = NULL;
    size_t len = 0;
    if ((rv = read_stdin("stream split", STREAM_INPUT_MAX, &in, &len)) != 0)
        return rv;
    rv = split(in, len, (uint32_t)o.chunk, o.id, o.name);
    if (rv == 0 && fflush(stdout) != 0)
        rv = HV_EXIT_FAIL;
    free(in);
    return rv;
}

static int cmd_join(int argc, char **argv)
{
    stream_opts o = { .max = STREAM_INPUT_MAX };
    void *targets[] = { &o };
    int rv = hv__opts_parse(&join_spec, targets, argc, argv, NULL);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    uint8_t *in = NULL;
    size_t len = 0;
    if ((rv = read_stdin("stream join", 2u * STREAM_INPUT_MAX, &in, &len)) != 0)
        return rv;
    rv = join(in, len, o.max);
    free(in);
    return rv;
}

static const hv_cli_sub stream_subs[] = {
    { &split_spec, cmd_split },
    { &join_spec, cmd_join },
    { NULL, NULL },
};

static const hv_cli_group stream_group = {
    .name = "stream",
    .about = "A file as HVW1 stream frames and back: content larger than a frame, chunked and\n"
             "hash-verified.\n",
    .subs = stream_subs,
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_group *const hv__cmd_group_stream = &stream_group;

int hv_cmd_stream(int argc, char **argv);
int hv_cmd_stream(int argc, char **argv)
{
    return hv__opts_dispatch(&stream_group, argc, argv);
}

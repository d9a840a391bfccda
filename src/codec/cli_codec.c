/*
 * `hivewire encode` (JSON messages to HVW1 frames) and `hivewire decode` (HVW1 frames and
 * batches to JSON lines).
 *
 * Memory: both read their whole input (at most INPUT_MAX_BYTES) and then work through it one
 * message at a time: encode parses one line, or one element of a top-level array, at a time,
 * so it holds the input, one message's JSON tree and one frame; decode holds the input and the
 * JSON lines of one batch.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/codec.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "codec/cli_util.h"
#include "codec/json.h"
#include "codec/codec_int.h"

#define INPUT_MAX_BYTES (256u << 20)
#define WHY_BYTES       384

typedef struct opts {
    int batch;
    uint64_t batch_max;
    uint64_t compress_above;
    uint64_t intern;
    uint64_t intern_bytes;
    uint64_t frame_max;
} opts;

/* --frame-max, which both commands take (with their own defaults). */
#define FRAME_MAX_ROW(dflt_, help_)                                                   \
    {                                                                                 \
        .name = "frame-max", .kind = HV_OPT_U64, HV_OPT_AT(opts, frame_max),          \
        .umin = HV_FRAME_MIN_LIMIT, .umax = HV_FRAME_MAX_CEILING, .metavar = "BYTES", \
        .dflt = dflt_, .help = help_                                                  \
    }

#define EXIT_STATUS "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n"

static const hv_opt encode_rows[] = {
    { .name = "batch",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(opts, batch),
      .help = "wrap the frames in batch frames (up to --batch-max each)" },
    { .name = "batch-max",
      .kind = HV_OPT_U64,
      HV_OPT_AT(opts, batch_max),
      .umin = 1,
      .umax = HV_BATCH_FRAMES_MAX,
      .dflt = "1000",
      .help = "frames per batch" },
    { .name = "compress-above",
      .kind = HV_OPT_U64,
      HV_OPT_AT(opts, compress_above),
      .umax = HV_FRAME_MAX_CEILING,
      .metavar = "BYTES",
      .dflt = "0: never",
      .help = "LZ4-compress payloads (and batches) larger than this" },
    { .name = "intern",
      .kind = HV_OPT_U64,
      HV_OPT_AT(opts, intern),
      .umax = HV_INTERN_MAX_CEILING,
      .dflt = "0: topics as literals",
      .help = "intern up to N topics; a message's own topic_id must then follow the table's "
              "rules" },
    { .name = "intern-bytes",
      .kind = HV_OPT_U64,
      HV_OPT_AT(opts, intern_bytes),
      .umin = 1,
      .umax = HV_INTERN_BYTES_CEILING,
      .metavar = "BYTES",
      .dflt = "16384",
      .help = "at most this much interned topic text" },
    FRAME_MAX_ROW("1048576", "largest frame"),
    { 0 },
};

static const hv_opt_section encode_sections[] = { { NULL, encode_rows, 0 }, { 0 } };

static const hv_cli_spec encode_spec = {
    .name = "encode",
    .synopsis = "[options] < messages.json > frames.bin",
    .summary = "JSON messages on stdin to HVW1 frames on stdout",
    .about = "Reads JSON messages {\"type\": ..., \"payload\": {...}} from stdin, one per line or\n"
             "one JSON array of them, and writes HVW1 frames to stdout. Reads at most 256 MiB;\n"
             "holds the input and one message at a time (an array is read element by element).\n",
    .sections = encode_sections,
    .epilog = EXIT_STATUS,
};

static const hv_opt decode_rows[] = {
    FRAME_MAX_ROW("16777216", "largest frame accepted"),
    { 0 },
};

static const hv_opt_section decode_sections[] = { { NULL, decode_rows, 0 }, { 0 } };

static const hv_cli_spec decode_spec = {
    .name = "decode",
    .synopsis = "[--frame-max BYTES] < frames.bin > messages.jsonl",
    .summary = "HVW1 frames or batches on stdin to JSON lines",
    .about = "Reads HVW1 frames and batches from stdin (at most 256 MiB) and prints one JSON\n"
             "message per line (the frames of a batch each on their own line, once the whole\n"
             "batch has decoded). Interned topics are resolved (tables of up to 65535 topics\n"
             "and 1 MiB of topic text).\n",
    .sections = decode_sections,
    .epilog = EXIT_STATUS,
};

/* The commands' tables, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_encode = &encode_spec;
const hv_cli_spec *const hv__cmd_spec_decode = &decode_spec;

/* Reads stdin whole; on failure says why and returns HV_EXIT_FAIL. */
static int read_input(const char *cmd, uint8_t **in, size_t *len)
{
    int rv = hv__cli_read_all(stdin, INPUT_MAX_BYTES, in, len);
    if (rv == HV_ETOOBIG)
        hv__cli_error(cmd, "stdin: more than %u MiB of input, the most %s reads",
                      INPUT_MAX_BYTES >> 20, cmd);
    else if (rv != 0)
        hv__cli_error(cmd, "stdin: %s", hv_strerror(rv));
    return rv == 0 ? 0 : HV_EXIT_FAIL;
}

/* ---- encode ------------------------------------------------------------------------------ */

typedef struct encoder {
    hv_codec *codec;
    opts o;
    uint8_t *buf;
    size_t cap;
    hv_batch_writer w;
    int in_batch;
    char where[64]; /* "line 3", "element 5 (line 2)": the message being encoded */
} encoder;

/* Prints "hivewire encode: <where>: <what> (<HV_E name>)" and returns HV_EXIT_FAIL. */
static int encode_error(const encoder *e, int rv, const char *what)
{
    const char *hint = rv == HV_EBADINTERN && e->o.intern == 0
                           ? " (encode interns topics only with --intern N)"
                           : "";
    hv__cli_error("encode", "%s: %s%s (%s)", e->where, what, hint,
                  hv_err_name(rv) ? hv_err_name(rv) : "?");
    return HV_EXIT_FAIL;
}

static int write_out(const uint8_t *p, size_t n)
{
    if (fwrite(p, 1, n, stdout) != n) {
        hv__cli_error("encode", "stdout: write failed");
        return HV_EXIT_FAIL;
    }
    return 0;
}

static int flush_batch(encoder *e)
{
    if (!e->in_batch)
        return 0;
    e->in_batch = 0;
    int n = hv_batch_finish(&e->w);
    if (n > 0)
        n = hv_codec_compress_frame(e->codec, e->buf, (size_t)n);
    if (n < 0)
        return encode_error(e, n, "the batch does not finish");
    return write_out(e->buf, (size_t)n);
}

static int add_to_batch(encoder *e, json_t *o, hv__jctx *cx)
{
    hv_frame f;
    hv_msg m;
    int rv = hv__json_parse_msg(cx, o, &f, &m);
    if (rv == HV_ENESTED)
        return encode_error(e, rv, "a batch cannot go inside --batch");
    if (rv != 0)
        return encode_error(e, rv, cx->err[0] ? cx->err : hv_strerror(rv));
    for (;;) {
        if (!e->in_batch) {
            hv_frame h;
            memset(&h, 0, sizeof(h));
            hv_batch_begin(&e->w, e->buf, e->cap, &h, NULL);
            e->in_batch = 1;
        }
        if (e->w.count >= e->o.batch_max) {
            if (flush_batch(e) != 0)
                return HV_EXIT_FAIL;
            continue;
        }
        size_t need = 0;
        rv = hv_codec_batch_add(e->codec, &e->w, &f, &m, &need);
        if (rv > 0)
            return 0;
        if ((rv == HV_ENOBUFS || rv == HV_ETOOBIG || rv == HV_EFULL) && e->w.count > 0) {
            if (flush_batch(e) != 0)
                return HV_EXIT_FAIL;
            continue;
        }
        /* Alone in a batch, it does not fit either: say how big it is. */
        if (rv == HV_ENOBUFS || rv == HV_ETOOBIG)
            rv = HV_ETOOBIG;
        /* Alone in a batch, a frame has the frame limit less the batch's header and count. */
        hv__json_encode_failed(cx, e->codec, &f, &m, rv,
                               e->o.frame_max - HV_FRAME_HEADER_BYTES - 4);
        return encode_error(e, rv, cx->err);
    }
}

static int encode_value(encoder *e, json_t *o)
{
    char err[WHY_BYTES];
    hv__jctx cx;
    hv__jctx_init(&cx, err, sizeof(err));
    int rv;
    if (e->o.batch) {
        rv = add_to_batch(e, o, &cx);
        hv__jctx_free(&cx);
        return rv;
    }
    size_t need = 0;
    int n = hv__json_encode(&cx, o, e->codec, e->buf, e->cap, &need);
    hv__jctx_free(&cx);
    if (n == HV_ENOBUFS) {
        snprintf(err, sizeof(err), "the frame would be %zu bytes, over --frame-max %llu", need,
                 (unsigned long long)e->o.frame_max);
        return encode_error(e, HV_ETOOBIG, err);
    }
    if (n < 0)
        return encode_error(e, n, err[0] ? err : hv_strerror(n));
    return write_out(e->buf, (size_t)n);
}

/* A place in the input text, for messages: lines are counted as the reader moves forward. */
typedef struct cursor {
    const char *text;
    size_t len;
    size_t pos;
    size_t line;       /* 1-based line of pos */
    size_t line_start; /* offset of that line's first byte */
} cursor;

static void cursor_move(cursor *c, size_t to)
{
    for (; c->pos < to && c->pos < c->len; c->pos++)
        if (c->text[c->pos] == '\n') {
            c->line++;
            c->line_start = c->pos + 1;
        }
}

static void cursor_skip_space(cursor *c)
{
    size_t p = c->pos;
    while (p < c->len && isspace((unsigned char)c->text[p]))
        p++;
    cursor_move(c, p);
}

/* A JSON syntax error at offset `at` of the text. */
static int syntax_error(encoder *e, cursor c, size_t at, const char *what)
{
    cursor_move(&c, at);
    snprintf(e->where, sizeof(e->where), "line %zu column %zu", c.line, c.pos - c.line_start + 1);
    return encode_error(e, HV_EBADJSON, what);
}

#define ELEMENT_FLAGS (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES)

/* A top-level array, parsed and encoded one element at a time. c is at the '['. */
static int encode_array(encoder *e, cursor c)
{
    cursor_move(&c, c.pos + 1);
    cursor_skip_space(&c);
    int close = c.pos < c.len && c.text[c.pos] == ']';
    for (size_t k = 1; !close; k++) {
        json_error_t je;
        json_t *o = json_loadb(c.text + c.pos, c.len - c.pos, ELEMENT_FLAGS, &je);
        if (o == NULL)
            return syntax_error(e, c, c.pos + (size_t)je.position, je.text);
        snprintf(e->where, sizeof(e->where), "element %zu (line %zu)", k, c.line);
        int rv = encode_value(e, o);
        json_decref(o);
        if (rv != 0)
            return rv;
        cursor_move(&c, c.pos + (size_t)je.position);
        cursor_skip_space(&c);
        if (c.pos >= c.len || (c.text[c.pos] != ',' && c.text[c.pos] != ']'))
            return syntax_error(e, c, c.pos, "expected ',' or ']' after an array element");
        close = c.text[c.pos] == ']';
        cursor_move(&c, c.pos + 1);
        cursor_skip_space(&c);
    }
    if (c.text[c.pos] == ']')
        cursor_move(&c, c.pos + 1); /* the empty array's */
    cursor_skip_space(&c);
    return c.pos < c.len ? syntax_error(e, c, c.pos, "text after the array") : 0;
}

/* One message per line; blank lines are skipped. */
static int encode_lines(encoder *e, cursor c)
{
    while (c.pos < c.len) {
        const char *nl = memchr(c.text + c.pos, '\n', c.len - c.pos);
        size_t end = nl ? (size_t)(nl - c.text) : c.len, s = c.pos;
        while (s < end && isspace((unsigned char)c.text[s]))
            s++;
        if (s < end) {
            json_error_t je;
            json_t *o = json_loadb(c.text + s, end - s, JSON_REJECT_DUPLICATES, &je);
            if (o == NULL)
                return syntax_error(e, c, s + (size_t)je.position, je.text);
            snprintf(e->where, sizeof(e->where), "line %zu", c.line);
            int rv = encode_value(e, o);
            json_decref(o);
            if (rv != 0)
                return rv;
        }
        cursor_move(&c, end + 1);
    }
    return 0;
}

static int encode_text(encoder *e, const char *text, size_t len)
{
    cursor c = { text, len, 0, 1, 0 };
    cursor_skip_space(&c);
    return c.pos < len && text[c.pos] == '[' ? encode_array(e, c) : encode_lines(e, c);
}

int hv_cmd_encode(int argc, char **argv);
int hv_cmd_encode(int argc, char **argv)
{
    opts o = { .batch_max = 1000,
               .frame_max = HV_FRAME_MAX_DEFAULT,
               .intern_bytes = HV_INTERN_BYTES_DEFAULT };
    void *targets[] = { &o };
    int rv = hv__opts_parse(&encode_spec, targets, argc, argv, NULL);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    encoder e = { .o = o, .where = "input" };
    hv_codec_opts co = { .size = sizeof(co),
                         .frame_max_bytes = (uint32_t)o.frame_max,
                         .compress_above_bytes = (uint32_t)o.compress_above,
                         .intern_max = (uint32_t)o.intern,
                         .intern_bytes_max = (uint32_t)o.intern_bytes };
    if ((rv = hv_codec_new(&co, &e.codec)) != 0) {
        hv__cli_error("encode", "%s", hv_strerror(rv));
        return HV_EXIT_FAIL;
    }
    uint8_t *in = NULL;
    size_t len = 0;
    e.cap = (size_t)o.frame_max;
    e.buf = malloc(e.cap);
    rv = e.buf == NULL ? HV_EXIT_FAIL : read_input("encode", &in, &len);
    if (rv == 0)
        rv = encode_text(&e, (const char *)in, len);
    if (rv == 0)
        rv = flush_batch(&e);
    if (rv == 0 && fflush(stdout) != 0)
        rv = HV_EXIT_FAIL;
    free(e.buf);
    free(in);
    hv_codec_free(e.codec);
    return rv;
}

/* ---- decode ------------------------------------------------------------------------------ */

/* The JSON line of a decoded frame (malloc'd), or NULL after saying why. */
static char *to_json(const hv__frame_reader *r, const hv_frame *f, const hv_msg *m, size_t k)
{
    /* Interning is a transport detail: print resolved topics without their ids. */
    hv_frame g = *f;
    if (g.topic.len)
        g.topic_id = 0;
    int err = 0;
    char *s = hv_json_from_msg(&g, m, &err);
    if (s == NULL)
        hv__frame_reader_fail(r, k, "%s", hv_strerror(err));
    return s;
}

/* The lines of one batch, printed only once every frame of it has decoded. */
typedef struct batch_lines {
    const hv__frame_reader *r;
    char **line;
} batch_lines;

static int keep_line(void *arg, const hv_frame *f, const hv_msg *m, size_t k)
{
    batch_lines *b = arg;
    b->line[k - 1] = to_json(b->r, f, m, k);
    return b->line[k - 1] != NULL ? 0 : -1;
}

static int decode_batch(hv__frame_reader *r, const hv_msg_batch *b)
{
    batch_lines lines = { r, calloc(b->count, sizeof(char *)) };
    if (lines.line == NULL)
        return hv__frame_reader_fail(r, 0, "%s", hv_strerror(HV_ENOMEM));
    int rv = hv__frame_reader_batch(r, b, keep_line, &lines);
    for (uint32_t i = 0; i < b->count; i++) {
        if (rv == 0)
            puts(lines.line[i]);
        free(lines.line[i]);
    }
    free(lines.line);
    return rv;
}

int hv_cmd_decode(int argc, char **argv);
int hv_cmd_decode(int argc, char **argv)
{
    opts o = { .frame_max = HV_FRAME_MAX_CEILING };
    void *targets[] = { &o };
    int rv = hv__opts_parse(&decode_spec, targets, argc, argv, NULL);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    uint8_t *in = NULL;
    size_t len = 0;
    if (read_input("decode", &in, &len) != 0)
        return HV_EXIT_FAIL;
    hv__frame_reader r;
    if ((rv = hv__frame_reader_init(&r, "decode", in, len, (size_t)o.frame_max)) != 0) {
        hv__cli_error("decode", "%s", hv_strerror(rv));
        free(in);
        return HV_EXIT_FAIL;
    }
    hv_frame f;
    hv_msg m;
    while (rv == 0 && (rv = hv__frame_reader_next(&r, &f, &m)) == 1) {
        if (f.type == HV_MSG_BATCH) {
            rv = decode_batch(&r, &m.batch);
            continue;
        }
        char *s = to_json(&r, &f, &m, 0);
        rv = s != NULL ? 0 : -1;
        if (s != NULL)
            puts(s);
        free(s);
    }
    if (rv == 0 && fflush(stdout) != 0) {
        hv__cli_error("decode", "stdout: write failed");
        rv = -1;
    }
    hv__frame_reader_fini(&r);
    free(in);
    return rv == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

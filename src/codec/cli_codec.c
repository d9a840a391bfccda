/*
 * `hivewire encode` (JSON messages to HVW1 frames) and `hivewire decode` (HVW1 frames and
 * batches to JSON lines).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/codec.h>

#include "cli/cli.h"
#include "codec/json.h"

#define INPUT_MAX_BYTES (256u << 20)

typedef struct opts {
    int batch;
    uint64_t batch_max;
    uint64_t compress_above;
    uint64_t intern;
    uint64_t frame_max;
} opts;

static void encode_usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire encode [--batch] [--batch-max N] [--compress-above N] [--intern N]\n"
            "                       [--frame-max N] < messages.json > frames.bin\n\n"
            "Reads JSON messages {\"type\": ..., \"payload\": {...}} from stdin, one per line or\n"
            "one JSON array of them, and writes HVW1 frames to stdout.\n\n"
            "  --batch             wrap the frames in batch frames (up to --batch-max each)\n"
            "  --batch-max N       frames per batch, 1..65535 (default 1000)\n"
            "  --compress-above N  LZ4-compress payloads (and batches) larger than N bytes\n"
            "  --intern N          intern up to N topics (default 0: topics as literals)\n"
            "  --frame-max N       largest frame in bytes (default 1 MiB, at most 16 MiB)\n\n"
            "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n");
}

static void decode_usage(FILE *f)
{
    fprintf(f, "usage: hivewire decode [--frame-max N] < frames.bin > messages.jsonl\n\n"
               "Reads HVW1 frames and batches from stdin and prints one JSON message per line\n"
               "(the frames of a batch each on their own line). Interned topics are resolved.\n\n"
               "  --frame-max N  largest frame accepted in bytes (default 16 MiB)\n\n"
               "Exit status: 0 ok, 1 bad input (message on stderr), 2 bad usage.\n");
}

/* Parses the options both commands share. Returns -1 to continue, else an exit code. */
static int parse_opts(const char *cmd, int argc, char **argv, opts *o, void (*usage)(FILE *))
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *target = NULL, lo = 0, hi = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return HV_EXIT_OK;
        } else if (strcmp(a, "--batch") == 0 && usage == encode_usage) {
            o->batch = 1;
            continue;
        } else if (strcmp(a, "--batch-max") == 0 && usage == encode_usage) {
            target = &o->batch_max, lo = 1, hi = HV_BATCH_FRAMES_MAX;
        } else if (strcmp(a, "--compress-above") == 0 && usage == encode_usage) {
            target = &o->compress_above, lo = 0, hi = HV_FRAME_MAX_CEILING;
        } else if (strcmp(a, "--intern") == 0 && usage == encode_usage) {
            target = &o->intern, lo = 0, hi = HV_INTERN_MAX_CEILING;
        } else if (strcmp(a, "--frame-max") == 0) {
            target = &o->frame_max, lo = HV_FRAME_MIN_LIMIT, hi = HV_FRAME_MAX_CEILING;
        } else {
            hv__cli_error(cmd, "unknown option '%s'", a);
            usage(stderr);
            return HV_EXIT_USAGE;
        }
        if (i + 1 >= argc || hv__cli_parse_u64(argv[i + 1], target) != 0 || *target < lo ||
            *target > hi) {
            hv__cli_error(cmd, "%s takes a number from %llu to %llu", a, (unsigned long long)lo,
                          (unsigned long long)hi);
            return HV_EXIT_USAGE;
        }
        i++;
    }
    return -1;
}

/* ---- encode ------------------------------------------------------------------------------ */

typedef struct encoder {
    hv_codec *codec;
    opts o;
    uint8_t *buf;
    size_t cap;
    hv_batch_writer w;
    int in_batch;
    size_t item;
} encoder;

static int write_out(const uint8_t *p, size_t n)
{
    if (fwrite(p, 1, n, stdout) != n) {
        hv__cli_error("encode", "write failed");
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
    if (n < 0) {
        hv__cli_error("encode", "batch: %s", hv_strerror(n));
        return HV_EXIT_FAIL;
    }
    return write_out(e->buf, (size_t)n);
}

static int add_to_batch(encoder *e, json_t *o, hv__jctx *cx)
{
    hv_frame f;
    hv_msg m;
    int rv = hv__json_parse_msg(cx, o, &f, &m);
    if (rv == HV_ENESTED) {
        hv__cli_error("encode", "message %zu: a batch cannot go inside --batch", e->item);
        return HV_EXIT_FAIL;
    }
    while (rv == 0) {
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
            rv = 0;
        }
    }
    hv__cli_error("encode", "message %zu: %s%s%s", e->item, cx->err[0] ? cx->err : "",
                  cx->err[0] ? ": " : "", hv_strerror(rv));
    return HV_EXIT_FAIL;
}

static int encode_value(encoder *e, json_t *o)
{
    char err[512];
    hv__jctx cx;
    hv__jctx_init(&cx, err, sizeof(err));
    e->item++;
    int rv;
    if (e->o.batch) {
        rv = add_to_batch(e, o, &cx);
        hv__jctx_free(&cx);
        return rv;
    }
    size_t need = 0;
    int n = hv__json_encode(&cx, o, e->codec, e->buf, e->cap, &need);
    hv__jctx_free(&cx);
    if (n < 0) {
        if (n == HV_ENOBUFS)
            hv__cli_error("encode", "message %zu: needs %zu bytes, over --frame-max", e->item,
                          need);
        else
            hv__cli_error("encode", "message %zu: %s", e->item, err[0] ? err : hv_strerror(n));
        return HV_EXIT_FAIL;
    }
    return write_out(e->buf, (size_t)n);
}

static int encode_text(encoder *e, const char *text, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    json_error_t je;
    if (i < len && text[i] == '[') {
        json_t *a = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (a == NULL) {
            hv__cli_error("encode", "line %d column %d: %s", je.line, je.column, je.text);
            return HV_EXIT_FAIL;
        }
        int rv = 0;
        for (size_t k = 0; rv == 0 && k < json_array_size(a); k++)
            rv = encode_value(e, json_array_get(a, k));
        json_decref(a);
        return rv;
    }
    size_t line = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        size_t s = i;
        while (s < end && isspace((unsigned char)text[s]))
            s++;
        if (s < end) {
            json_t *o = json_loadb(text + s, end - s, JSON_REJECT_DUPLICATES, &je);
            if (o == NULL) {
                hv__cli_error("encode", "line %zu column %d: %s", line, je.column, je.text);
                return HV_EXIT_FAIL;
            }
            int rv = encode_value(e, o);
            json_decref(o);
            if (rv != 0)
                return rv;
        }
        i = end + 1;
    }
    return 0;
}

int hv_cmd_encode(int argc, char **argv);
int hv_cmd_encode(int argc, char **argv)
{
    opts o = { .batch_max = 1000, .frame_max = HV_FRAME_MAX_DEFAULT };
    int rv = parse_opts("encode", argc, argv, &o, encode_usage);
    if (rv >= 0)
        return rv;
    encoder e = { .o = o };
    hv_codec_opts co = { .size = sizeof(co),
                         .frame_max_bytes = (uint32_t)o.frame_max,
                         .compress_above_bytes = (uint32_t)o.compress_above,
                         .intern_max = (uint32_t)o.intern };
    uint8_t *in = NULL;
    size_t len = 0;
    if ((rv = hv_codec_new(&co, &e.codec)) != 0 ||
        (rv = hv__cli_read_all(stdin, INPUT_MAX_BYTES, &in, &len)) != 0) {
        hv__cli_error("encode", "%s", hv_strerror(rv));
        hv_codec_free(e.codec);
        return HV_EXIT_FAIL;
    }
    e.cap = (size_t)o.frame_max;
    e.buf = malloc(e.cap);
    rv = e.buf ? encode_text(&e, (const char *)in, len) : HV_EXIT_FAIL;
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

static int print_json(const hv_frame *f, const hv_msg *m, size_t off)
{
    /* Interning is a transport detail: print resolved topics without their ids. */
    hv_frame g = *f;
    if (g.topic.len)
        g.topic_id = 0;
    int err = 0;
    char *s = hv_json_from_msg(&g, m, &err);
    if (s == NULL) {
        hv__cli_error("decode", "frame at byte %zu: %s", off, hv_strerror(err));
        return HV_EXIT_FAIL;
    }
    puts(s);
    free(s);
    return 0;
}

static int decode_error(size_t off, int rv)
{
    hv__cli_error("decode", "frame at byte %zu: %s (%s)", off, hv_strerror(rv),
                  hv_err_name(rv) ? hv_err_name(rv) : "?");
    return HV_EXIT_FAIL;
}

static int decode_batch(hv_codec *c, const hv_msg_batch *b, size_t off)
{
    hv_batch_iter it;
    hv_batch_iter_init(&it, b, hv_codec_get_limits(c));
    const uint8_t *p;
    size_t len;
    int rv;
    while ((rv = hv_batch_next(&it, &p, &len)) == 1) {
        hv_frame f;
        hv_msg m;
        int n = hv_codec_decode(c, p, len, &f, &m);
        if (n < 0)
            return decode_error(off, n);
        if (print_json(&f, &m, off) != 0)
            return HV_EXIT_FAIL;
    }
    return rv == 0 ? 0 : decode_error(off, rv);
}

int hv_cmd_decode(int argc, char **argv);
int hv_cmd_decode(int argc, char **argv)
{
    opts o = { .frame_max = HV_FRAME_MAX_CEILING };
    int rv = parse_opts("decode", argc, argv, &o, decode_usage);
    if (rv >= 0)
        return rv;
    hv_codec *c = NULL;
    hv_codec_opts co = { .size = sizeof(co),
                         .frame_max_bytes = (uint32_t)o.frame_max,
                         .intern_max = HV_INTERN_MAX_CEILING,
                         .intern_bytes_max = HV_FRAME_MAX_CEILING };
    uint8_t *in = NULL;
    size_t len = 0;
    if ((rv = hv_codec_new(&co, &c)) != 0 ||
        (rv = hv__cli_read_all(stdin, INPUT_MAX_BYTES, &in, &len)) != 0) {
        hv__cli_error("decode", "%s", hv_strerror(rv));
        hv_codec_free(c);
        return HV_EXIT_FAIL;
    }
    size_t off = 0;
    rv = 0;
    while (rv == 0 && off < len) {
        hv_frame f;
        hv_msg m;
        int n = hv_codec_decode(c, in + off, len - off, &f, &m);
        if (n < 0) {
            rv = decode_error(off, n);
            break;
        }
        rv = f.type == HV_MSG_BATCH ? decode_batch(c, &m.batch, off) : print_json(&f, &m, off);
        off += (size_t)n;
    }
    if (rv == 0 && fflush(stdout) != 0)
        rv = HV_EXIT_FAIL;
    free(in);
    hv_codec_free(c);
    return rv;
}

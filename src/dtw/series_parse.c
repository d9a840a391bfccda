/*
 * The CLI's series file format: one series per line, values separated by commas. Outside
 * input, so every failure is an error with a line and column, never a crash (fuzzed by
 * fuzz/dtw_series.c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtw/dtw_int.h"

#define NUMBER_CHARS_MAX 63

typedef struct parser {
    const char *buf;
    size_t len, pos;
    size_t line, line_start;
    hv__dtw_series_file *out;
    size_t cap_values, cap_rows;
    hv__dtw_parse_error *err;
} parser;

static int fail(parser *p, size_t at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parser *p, size_t at, int code, const char *fmt, ...)
{
    p->err->line = p->line;
    p->err->column = at - p->line_start + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
    va_end(ap);
    return code;
}

static int push_value(parser *p, double v)
{
    hv__dtw_series_file *f = p->out;
    if (f->nvalues == p->cap_values) {
        size_t ncap = p->cap_values ? p->cap_values * 2 : 256;
        double *nv = realloc(f->values, ncap * sizeof(double));
        if (nv == NULL)
            return HV_ENOMEM;
        f->values = nv;
        p->cap_values = ncap;
    }
    f->values[f->nvalues++] = v;
    return 0;
}

static int push_row_end(parser *p)
{
    hv__dtw_series_file *f = p->out;
    if (f->rows + 2 > p->cap_rows) {
        size_t ncap = p->cap_rows ? p->cap_rows * 2 : 64;
        size_t *no = realloc(f->offsets, ncap * sizeof(size_t));
        if (no == NULL)
            return HV_ENOMEM;
        f->offsets = no;
        p->cap_rows = ncap;
    }
    f->offsets[0] = 0;
    f->offsets[++f->rows] = f->nvalues;
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses one field [pos, stop) of the current line as a finite double. */
static int parse_field(parser *p, size_t pos, size_t stop)
{
    while (pos < stop && is_blank(p->buf[pos]))
        pos++;
    size_t e = stop;
    while (e > pos && is_blank(p->buf[e - 1]))
        e--;
    if (e == pos)
        return fail(p, pos, HV_EPARSE, "empty field (expected a number)");
    if (e - pos > NUMBER_CHARS_MAX)
        return fail(p, pos, HV_EPARSE, "number longer than %d characters", NUMBER_CHARS_MAX);
    char tmp[NUMBER_CHARS_MAX + 1];
    memcpy(tmp, p->buf + pos, e - pos);
    tmp[e - pos] = '\0';
    for (size_t i = 0; i < e - pos; i++) {
        char c = tmp[i];
        /* Plain decimal notation only: no hex floats, no "inf"/"nan", no embedded NUL. */
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
            if ((unsigned char)c < 32 || (unsigned char)c > 126)
                return fail(p, pos + i, HV_EPARSE, "unexpected byte 0x%02x in number",
                            (unsigned char)c);
            return fail(p, pos + i, HV_EPARSE, "unexpected character '%c' in number", c);
        }
    }
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + (e - pos))
        return fail(p, pos, HV_EPARSE, "malformed number '%.40s'", tmp);
    if (!isfinite(v))
        return fail(p, pos, HV_EPARSE, "number out of range '%.40s'", tmp);
    if (p->out->nvalues >= HV__DTW_PARSE_VALUES_MAX)
        return fail(p, pos, HV_ETOOBIG, "more than %u values in the file",
                    HV__DTW_PARSE_VALUES_MAX);
    return push_value(p, v);
}

/* Parses the line starting at p->pos up to (not including) its '\n' at `eol`. */
static int parse_line(parser *p, size_t eol)
{
    size_t stop = eol;
    if (stop > p->pos && p->buf[stop - 1] == '\r')
        stop--;
    size_t s = p->pos;
    while (s < stop && is_blank(p->buf[s]))
        s++;
    if (s == stop)
        return fail(p, p->pos, HV_EPARSE, "empty line (expected comma-separated numbers)");
    if (p->out->rows >= HV__DTW_PARSE_ROWS_MAX)
        return fail(p, p->pos, HV_ETOOBIG, "more than %u lines", HV__DTW_PARSE_ROWS_MAX);
    size_t f = p->pos;
    for (;;) {
        const char *comma = memchr(p->buf + f, ',', stop - f);
        size_t fe = comma ? (size_t)(comma - p->buf) : stop;
        int rv = parse_field(p, f, fe);
        if (rv != 0)
            return rv;
        if (comma == NULL)
            break;
        f = fe + 1;
    }
    return push_row_end(p);
}

int hv__dtw_parse_series(const char *buf, size_t len, hv__dtw_series_file *out,
                         hv__dtw_parse_error *err)
{
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    parser p = { .buf = buf, .len = len, .line = 1, .out = out, .err = err };
    while (p.pos < len) {
        const char *nl = memchr(buf + p.pos, '\n', len - p.pos);
        size_t eol = nl ? (size_t)(nl - buf) : len;
        int rv = parse_line(&p, eol);
        if (rv != 0) {
            hv__dtw_series_file_fini(out);
            return rv;
        }
        p.pos = eol + 1;
        p.line++;
        p.line_start = p.pos;
    }
    if (out->rows == 0) {
        p.line = 1;
        p.line_start = 0;
        hv__dtw_series_file_fini(out);
        return fail(&p, 0, HV_EPARSE, "no series in the file");
    }
    return 0;
}

void hv__dtw_series_file_fini(hv__dtw_series_file *f)
{
    free(f->values);
    free(f->offsets);
    memset(f, 0, sizeof(*f));
}

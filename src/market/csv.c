/*
 * The bounded CSV reader: a row tokenizer over a memory buffer, header-driven column mapping,
 * field conversion with per-row error reports, and the bar/column parsers built on them. No
 * file I/O here: csv_file.c reads files into memory and hands them to these parsers.
 *
 * The tokenizer never copies: a field is a slice of the input (quoted fields keep their ""
 * escapes and are unescaped only when converted, into a bounded stack buffer).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/market.h>

#include "core/field.h"
#include "market/csv_int.h"

typedef struct field {
    const char *p;
    size_t len;
    uint32_t line; /* line the field starts on */
    uint8_t quoted;
    uint8_t escapes; /* contains "" pairs */
} field;

typedef struct cursor {
    const char *p;
    const char *end;
    uint32_t line; /* current 1-based line */
} cursor;

enum { ROW_EOF = 1, ROW_OK = 0 };

/* A tokenizer problem in the current row: which field and why. */
typedef struct row_error {
    uint32_t column;
    int err;
    const char *reason;
} row_error;

typedef struct reader {
    const hv_csv_opts *o;
    hv_csv_report *rep;
    const char *file;
    const char *start;
    cursor c;
    field f[HV_CSV_FIELDS_MAX];
    size_t nf;
    uint32_t row_line;
    char names[HV_CSV_FIELDS_MAX][32]; /* header names, lowercased */
    size_t ncols;
} reader;

static void inc_line(cursor *c)
{
    if (c->line < UINT32_MAX)
        c->line++;
}

/* Consumes a row terminator at c->p if there is one (LF, CRLF or CR). Returns 1 if consumed. */
static int eat_eol(cursor *c)
{
    if (c->p >= c->end)
        return 0;
    if (*c->p == '\n') {
        c->p++;
        inc_line(c);
        return 1;
    }
    if (*c->p == '\r') {
        c->p++;
        if (c->p < c->end && *c->p == '\n')
            c->p++;
        inc_line(c);
        return 1;
    }
    return 0;
}

/* Skips the rest of a physical line, including its terminator. */
static void skip_line(cursor *c)
{
    while (c->p < c->end && *c->p != '\n' && *c->p != '\r')
        c->p++;
    eat_eol(c);
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Reads a quoted field whose opening quote is at c->p. On error leaves c->p unchanged. */
static int read_quoted(cursor *c, field *f, row_error *e)
{
    const char *p = c->p + 1;
    uint32_t line = c->line;
    f->p = p;
    for (;;) {
        if (p >= c->end) {
            *e = (row_error){ 0, HV_EPARSE, "unterminated quoted field" };
            return -1;
        }
        if (*p == '"') {
            if (p + 1 < c->end && p[1] == '"') {
                f->escapes = 1;
                p += 2;
                continue;
            }
            break;
        }
        if (*p == '\n' || (*p == '\r' && !(p + 1 < c->end && p[1] == '\n')))
            line = line < UINT32_MAX ? line + 1 : line;
        p++;
    }
    f->len = (size_t)(p - f->p);
    f->quoted = 1;
    p++; /* closing quote */
    while (p < c->end && is_blank(*p))
        p++;
    if (p < c->end && *p != ',' && *p != '\n' && *p != '\r') {
        *e = (row_error){ 0, HV_EPARSE, "text after a closing quote" };
        return -1;
    }
    c->p = p;
    c->line = line;
    return 0;
}

static int read_plain(cursor *c, field *f, row_error *e)
{
    const char *p = c->p;
    f->p = p;
    while (p < c->end && *p != ',' && *p != '\n' && *p != '\r') {
        if (*p == '"') {
            *e = (row_error){ 0, HV_EPARSE, "quote inside an unquoted field" };
            return -1;
        }
        p++;
    }
    const char *q = p;
    while (q > f->p && is_blank(q[-1]))
        q--;
    f->len = (size_t)(q - f->p);
    c->p = p;
    return 0;
}

/*
 * Reads one row into r->f. Returns ROW_OK, ROW_EOF (no more input), or -1 with *e set; after
 * an error the cursor is past the offending physical line, so reading resumes on the next one.
 */
static int read_row(reader *r, row_error *e)
{
    cursor *c = &r->c;
    if (c->p >= c->end)
        return ROW_EOF;
    r->nf = 0;
    r->row_line = c->line;
    for (;;) {
        if (r->nf == HV_CSV_FIELDS_MAX) {
            *e = (row_error){ 0, HV_EBADROW, "too many fields" };
            skip_line(c);
            return -1;
        }
        field *f = &r->f[r->nf];
        memset(f, 0, sizeof(*f));
        while (c->p < c->end && is_blank(*c->p))
            c->p++;
        f->line = c->line;
        int rv = c->p < c->end && *c->p == '"' ? read_quoted(c, f, e) : read_plain(c, f, e);
        if (rv != 0) {
            e->column = (uint32_t)r->nf + 1;
            skip_line(c);
            return -1;
        }
        r->nf++;
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        eat_eol(c);
        return ROW_OK;
    }
}

static int row_is_blank(const reader *r)
{
    return r->nf == 1 && r->f[0].len == 0 && !r->f[0].quoted;
}

/* Copies a field (unescaping "") into buf[cap] as a NUL-terminated string. Returns the length,
 * or -1 if it does not fit. */
static long field_text(const field *f, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < f->len; i++) {
        char ch = f->p[i];
        if (f->escapes && ch == '"' && i + 1 < f->len && f->p[i + 1] == '"')
            i++;
        if (n + 1 >= cap)
            return -1;
        buf[n++] = ch;
    }
    buf[n] = '\0';
    return (long)n;
}

/* Makes a field printable for a message: at most 24 bytes, control and non-ASCII as '?'. */
static void field_excerpt(const field *f, char out[32])
{
    size_t n = f->len < 24 ? f->len : 24, j = 0;
    for (size_t i = 0; i < n; i++)
        out[j++] = (f->p[i] >= 0x20 && f->p[i] < 0x7f) ? f->p[i] : '?';
    if (f->len > 24) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

/* Records an issue (kept, passed to the callback) without counting a bad row. */
static void record(reader *r, uint32_t line, uint32_t column, int err, int fatal, const char *fmt,
                   va_list ap)
{
    hv_csv_issue is;
    memset(&is, 0, sizeof(is));
    is.line = line;
    is.column = column;
    is.err = err;
    is.fatal = fatal;
    if (column > 0 && column <= r->ncols)
        snprintf(is.column_name, sizeof(is.column_name), "%s", r->names[column - 1]);
    vsnprintf(is.reason, sizeof(is.reason), fmt, ap);
    hv__csv_issue_emit(r->o, r->rep, &is);
}

void hv__csv_issue_emit(const hv_csv_opts *o, hv_csv_report *rep, const hv_csv_issue *is)
{
    if (rep->issues_kept < HV_CSV_ISSUES_KEPT)
        rep->issues[rep->issues_kept++] = *is;
    if (o->on_issue != NULL)
        o->on_issue(o->user, rep->file, is);
}

void hv__csv_too_big(const hv_csv_opts *o, hv_csv_report *rep)
{
    hv_csv_issue is;
    memset(&is, 0, sizeof(is));
    is.err = HV_ETOOBIG;
    is.fatal = 1;
    int n = snprintf(is.reason, sizeof(is.reason), "larger than the input bound of %zu bytes",
                     o->bytes_max);
    if (n > 0 && (size_t)n < sizeof(is.reason) && o->bytes_max >= (1u << 20))
        snprintf(is.reason + n, sizeof(is.reason) - (size_t)n, " (%zu MiB)", o->bytes_max >> 20);
    hv__csv_issue_emit(o, rep, &is);
}

/* Reports a problem that stops the load (bad header, mixed symbols, a bound); returns err. */
static int fail(reader *r, uint32_t line, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(reader *r, uint32_t line, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(r, line, 0, err, 1, fmt, ap);
    va_end(ap);
    return err;
}

/* Reports a bad row. Returns HV_EBADROW in strict mode (stop), else 0 (skip the row). */
static int report(reader *r, uint32_t line, uint32_t column, int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int report(reader *r, uint32_t line, uint32_t column, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(r, line, column, err, r->o->strict, fmt, ap);
    va_end(ap);
    r->rep->rows_bad++;
    return r->o->strict ? HV_EBADROW : 0;
}

static int report_row_error(reader *r, const row_error *e)
{
    return report(r, r->row_line, e->column, e->err, "%s", e->reason);
}

/*
 * The common case of a price or a return, "-1455.219971": an optional sign, at most 15 digits
 * and a decimal point, no exponent. Then m (< 10^15 < 2^53) and 10^k (k <= 15) are exact
 * doubles and one division rounds correctly, so the result is the value strtod() gives (Clinger's
 * fast path), at a fraction of its cost. Returns 0, or -1 when the text is not of that form.
 */
static int parse_simple_decimal(const char *s, long n, double *out)
{
    static const double pow10[16] = { 1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
    long i = s[0] == '-' || s[0] == '+';
    uint64_t m = 0;
    int digits = 0, frac = 0, dot = 0;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || ++digits > 15)
            return -1;
        m = m * 10 + (uint64_t)(s[i] - '0');
        frac += dot;
    }
    if (digits == 0)
        return -1;
    double v = (double)m / pow10[frac];
    *out = s[0] == '-' ? -v : v;
    return 0;
}

/* Parses a finite decimal number. Returns 0 or -1 with why set. */
static int parse_number(const field *f, double *out, const char **why)
{
    char buf[HV_CSV_FIELD_BYTES_MAX + 1];
    long n = field_text(f, buf, sizeof(buf));
    if (n < 0) {
        *why = "field too long";
        return -1;
    }
    if (n == 0) {
        *why = "empty field";
        return -1;
    }
    for (long i = 0; i < n; i++) {
        char ch = buf[i];
        if (!((ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' ||
              ch == 'E')) {
            *why = "not a number";
            return -1;
        }
    }
    if (parse_simple_decimal(buf, n, out) == 0)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (end != buf + n || end == buf) {
        *why = "not a number";
        return -1;
    }
    if (!isfinite(v)) {
        *why = "number out of range";
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_uint(const char *s, size_t len, int *out)
{
    int v = 0;
    if (len == 0 || len > 4)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD" */
static int parse_iso_date(const char *s, size_t n, int32_t *out)
{
    int y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    if (parse_uint(s, 4, &y) || parse_uint(s + 5, 2, &m) || parse_uint(s + 8, 2, &d))
        return -1;
    return hv_date_to_day(y, m, d, out) == 0 ? 0 : -1;
}

/* "Mon D YYYY" (month name in English, any case; one or more spaces). */
static int parse_named_date(const char *s, size_t n, int32_t *out)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 10)
        return -1;
    int m = 0;
    for (int i = 0; i < 12 && m == 0; i++)
        if (strncasecmp(s, months + 3 * i, 3) == 0)
            m = i + 1;
    if (m == 0 || s[3] != ' ')
        return -1;
    size_t i = 3;
    while (i < n && s[i] == ' ')
        i++;
    size_t ds = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t de = i;
    while (i < n && s[i] == ' ')
        i++;
    int d, y;
    if (de == i || de - ds > 2 || parse_uint(s + ds, de - ds, &d) || n - i != 4 ||
        parse_uint(s + i, 4, &y))
        return -1;
    return hv_date_to_day(y, m, d, out) == 0 ? 0 : -1;
}

static int parse_date(const field *f, int32_t *out, const char **why)
{
    char buf[HV_CSV_FIELD_BYTES_MAX + 1];
    long n = field_text(f, buf, sizeof(buf));
    if (n < 0) {
        *why = "field too long";
        return -1;
    }
    if (parse_iso_date(buf, (size_t)n, out) == 0 || parse_named_date(buf, (size_t)n, out) == 0)
        return 0;
    *why = "not a valid date (YYYY-MM-DD or Mon D YYYY)";
    return -1;
}

static void reader_start(reader *r, const char *buf, size_t len, const hv_csv_opts *o,
                         hv_csv_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    r->o = o;
    r->rep = rep;
    r->file = o->file != NULL ? o->file : "<memory>";
    rep->file = r->file;
    r->start = buf;
    r->c.p = buf;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->c.p += 3; /* a UTF-8 byte-order mark, as spreadsheets write */
    r->c.end = buf + len;
    r->c.line = 1;
    r->nf = 0;
    r->ncols = 0;
}

/* Reads rows until a non-blank one (or EOF / a tokenizer error). */
static int next_nonblank(reader *r, row_error *e)
{
    for (;;) {
        int rv = read_row(r, e);
        if (rv != ROW_OK || !row_is_blank(r))
            return rv;
    }
}

/* Physical lines consumed: a final line without a terminator counts. */
static void finish_lines(reader *r)
{
    const cursor *c = &r->c;
    if (c->p == r->start)
        r->rep->lines = 0;
    else if (c->p[-1] == '\n' || c->p[-1] == '\r')
        r->rep->lines = c->line - 1;
    else
        r->rep->lines = c->line;
}

/* Stores the header row's names (lowercased, with inner runs of ' ', '_' removed so that
 * "Adj Close" and "adj_close" both read "adjclose"). */
static void take_header(reader *r)
{
    r->ncols = r->nf;
    for (size_t i = 0; i < r->nf; i++) {
        char tmp[HV_CSV_FIELD_BYTES_MAX + 1];
        long n = field_text(&r->f[i], tmp, sizeof(tmp));
        if (n < 0)
            n = 0, tmp[0] = '\0';
        size_t j = 0;
        for (long k = 0; k < n && j + 1 < sizeof(r->names[i]); k++) {
            char ch = tmp[k];
            if (ch == ' ' || ch == '_')
                continue;
            r->names[i][j++] = (char)tolower((unsigned char)ch);
        }
        r->names[i][j] = '\0';
    }
}

static int find_col(const reader *r, const char *name)
{
    for (size_t i = 0; i < r->ncols; i++)
        if (strcmp(r->names[i], name) == 0)
            return (int)i;
    return -1;
}

/* Normalises a user-supplied column name the way take_header() does. */
static void norm_name(const char *in, char out[32])
{
    size_t j = 0;
    for (; *in && j + 1 < 32; in++) {
        if (*in == ' ' || *in == '_')
            continue;
        out[j++] = (char)tolower((unsigned char)*in);
    }
    out[j] = '\0';
}

void hv_csv_opts_default(hv_csv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->bytes_max = HV_CSV_BYTES_MAX;
    o->rows_max = HV_CSV_ROWS_MAX;
}

int hv_csv_opts_check(const hv_csv_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_csv_opts)");
    return 0;
}

int hv__csv_opts_resolve(const hv_csv_opts *o, hv_csv_opts *local)
{
    if (o == NULL) {
        hv_csv_opts_default(local);
        return 0;
    }
    if (hv_csv_opts_check(o, NULL) != 0)
        return HV_EINVAL;
    *local = *o;
    if (local->bytes_max == 0)
        local->bytes_max = HV_CSV_BYTES_MAX;
    if (local->rows_max == 0)
        local->rows_max = HV_CSV_ROWS_MAX;
    return 0;
}

/* Counts a data row against the bound. Past it, reports the row and returns HV_ETOOBIG. */
static int count_row(reader *r)
{
    if (r->rep->rows >= r->o->rows_max)
        return fail(r, r->row_line, HV_ETOOBIG,
                    "more than %zu data rows (the row bound): the rest is not read",
                    r->o->rows_max);
    r->rep->rows++;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Bars */

enum { C_DATE, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_ADJ, C_VOL, C_SYMBOL, C_N };

typedef struct bar_map {
    int col[C_N];
    char symbol[HV_CSV_FIELD_BYTES_MAX + 1]; /* wanted or locked-in symbol */
    int have_symbol;
    int32_t last_day;
    int have_last;
} bar_map;

static int map_bar_header(reader *r, bar_map *m)
{
    static const char *names[C_N] = { "date",  "open",     "high",   "low",
                                      "close", "adjclose", "volume", "symbol" };
    for (int i = 0; i < C_N; i++)
        m->col[i] = find_col(r, names[i]);
    if (m->col[C_CLOSE] < 0)
        m->col[C_CLOSE] = find_col(r, "price");
    if (m->col[C_DATE] < 0 || m->col[C_CLOSE] < 0)
        return fail(r, r->row_line, HV_EPARSE, "the header needs 'date' and 'close' columns");
    return 0;
}

/* Reads one numeric column of the bar; a missing optional column gives `dflt`. */
static int bar_num(reader *r, const bar_map *m, int which, double dflt, double *out)
{
    int c = m->col[which];
    if (c < 0) {
        *out = dflt;
        return 0;
    }
    const char *why = NULL;
    if (parse_number(&r->f[c], out, &why) == 0)
        return 0;
    char ex[32];
    field_excerpt(&r->f[c], ex);
    return report(r, r->row_line, (uint32_t)c + 1, HV_EBADROW, "%s: '%s'", why, ex) == 0 ? 1 : -1;
}

/* Semantic checks of a parsed bar. Returns 0 or the column (1-based) at fault with why set. */
static uint32_t bar_invalid(const bar_map *m, const hv_bar *b, const char **why)
{
    if (!(b->close > 0)) {
        *why = "close must be > 0";
        return (uint32_t)m->col[C_CLOSE] + 1;
    }
    if (!(b->open > 0) || !(b->adjclose > 0) || !(b->high > 0) || !(b->low > 0)) {
        *why = "prices must be > 0";
        return 0;
    }
    if (b->volume < 0) {
        *why = "volume must be >= 0";
        return (uint32_t)m->col[C_VOL] + 1;
    }
    if (b->low > fmin(b->open, b->close)) {
        *why = "low above open or close";
        return (uint32_t)m->col[C_LOW] + 1;
    }
    if (b->high < fmax(b->open, b->close)) {
        *why = "high below open or close";
        return (uint32_t)m->col[C_HIGH] + 1;
    }
    return 0;
}

/* Symbol filter. Returns 1 to keep, 0 to skip as filtered, HV_EPARSE for mixed symbols. */
static int symbol_keep(reader *r, bar_map *m)
{
    if (m->col[C_SYMBOL] < 0)
        return 1;
    char sym[HV_CSV_FIELD_BYTES_MAX + 1];
    if (field_text(&r->f[m->col[C_SYMBOL]], sym, sizeof(sym)) < 0)
        sym[0] = '\0';
    if (!m->have_symbol) {
        snprintf(m->symbol, sizeof(m->symbol), "%s", sym);
        m->have_symbol = 1;
        return 1;
    }
    if (strcmp(sym, m->symbol) == 0)
        return 1;
    if (r->o->symbol != NULL)
        return 0;
    return fail(r, r->row_line, HV_EPARSE, "several symbols ('%.20s', '%.20s'): choose one",
                m->symbol, sym);
}

/* Converts the current row. Returns 0 (loaded or skipped), or a negative error to stop. */
static int bar_row(reader *r, bar_map *m, hv_series *out)
{
    if (r->nf == r->ncols) {
        int keep = symbol_keep(r, m);
        if (keep <= 0) {
            r->rep->rows_filtered += keep == 0;
            return keep;
        }
    }
    if (count_row(r) != 0)
        return HV_ETOOBIG;
    if (r->nf != r->ncols)
        return report(r, r->row_line, 0, HV_EBADROW, "%zu fields, the header has %zu", r->nf,
                      r->ncols);
    hv_bar b;
    const char *why = NULL;
    int c = m->col[C_DATE];
    if (parse_date(&r->f[c], &b.day, &why) != 0) {
        char ex[32];
        field_excerpt(&r->f[c], ex);
        return report(r, r->row_line, (uint32_t)c + 1, HV_EBADROW, "%s: '%s'", why, ex);
    }
    int rv = bar_num(r, m, C_CLOSE, 0, &b.close);
    rv = rv ? rv : bar_num(r, m, C_OPEN, b.close, &b.open);
    rv = rv ? rv : bar_num(r, m, C_HIGH, fmax(b.open, b.close), &b.high);
    rv = rv ? rv : bar_num(r, m, C_LOW, fmin(b.open, b.close), &b.low);
    rv = rv ? rv : bar_num(r, m, C_ADJ, b.close, &b.adjclose);
    rv = rv ? rv : bar_num(r, m, C_VOL, 0, &b.volume);
    if (rv != 0)
        return rv > 0 ? 0 : HV_EBADROW;
    uint32_t bad = bar_invalid(m, &b, &why);
    if (why != NULL)
        return report(r, r->row_line, bad, HV_EBADROW, "%s", why);
    if (m->have_last && b.day <= m->last_day)
        return report(r, r->row_line, (uint32_t)c + 1, HV_EBADROW,
                      "date not after the previous row's");
    int prv = hv_series_push(out, &b);
    if (prv != 0)
        return prv;
    m->last_day = b.day;
    m->have_last = 1;
    r->rep->rows_ok++;
    return 0;
}

/* Reads the first non-blank row as the header. */
static int read_header(reader *r)
{
    row_error e;
    int rv = next_nonblank(r, &e);
    if (rv == ROW_EOF)
        return fail(r, r->c.line, HV_EPARSE, "no header row");
    if (rv != ROW_OK)
        return fail(r, r->row_line, HV_EPARSE, "bad header: %s", e.reason);
    take_header(r);
    return 0;
}

/* The row loop shared by both loaders. */
typedef int (*row_fn)(reader *r, void *ctx);

static int each_row(reader *r, row_fn fn, void *ctx)
{
    for (;;) {
        row_error e;
        int rv = next_nonblank(r, &e);
        if (rv == ROW_EOF)
            return 0;
        if (rv != ROW_OK) {
            if (count_row(r) != 0)
                return HV_ETOOBIG;
            rv = report_row_error(r, &e);
        } else {
            rv = fn(r, ctx);
        }
        if (rv != 0)
            return rv;
    }
}

typedef struct bar_ctx {
    bar_map m;
    hv_series *out;
} bar_ctx;

static int bar_row_fn(reader *r, void *ctx)
{
    bar_ctx *b = ctx;
    return bar_row(r, &b->m, b->out);
}

static int finish(reader *r, int rv)
{
    finish_lines(r);
    return rv;
}

int hv_csv_parse_bars(const char *buf, size_t len, const hv_csv_opts *opts, hv_series *out,
                      hv_csv_report *rep)
{
    hv_csv_report local_rep;
    hv_csv_opts o;
    if (rep == NULL)
        rep = &local_rep;
    memset(rep, 0, sizeof(*rep));
    rep->file = opts != NULL && opts->file != NULL ? opts->file : "<memory>";
    if (out == NULL || (buf == NULL && len > 0) || hv__csv_opts_resolve(opts, &o) != 0)
        return HV_EINVAL;
    if (len > o.bytes_max) {
        hv__csv_too_big(&o, rep);
        return HV_ETOOBIG;
    }
    reader r;
    reader_start(&r, buf, len, &o, rep);
    int rv = read_header(&r);
    if (rv != 0)
        return finish(&r, rv);
    bar_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.out = out;
    rv = map_bar_header(&r, &ctx.m);
    if (rv != 0)
        return finish(&r, rv);
    if (o.symbol != NULL) {
        if (ctx.m.col[C_SYMBOL] < 0)
            return finish(&r, fail(&r, 1, HV_EPARSE,
                                   "a symbol was asked for but the header "
                                   "has no 'symbol' column"));
        snprintf(ctx.m.symbol, sizeof(ctx.m.symbol), "%s", o.symbol);
        ctx.m.have_symbol = 1;
    }
    return finish(&r, each_row(&r, bar_row_fn, &ctx));
}

/* ------------------------------------------------------------------------------------------ */
/* One numeric column */

typedef struct col_ctx {
    size_t col;
    hv_column *out;
} col_ctx;

static int col_row_fn(reader *r, void *ctx)
{
    col_ctx *c = ctx;
    if (count_row(r) != 0)
        return HV_ETOOBIG;
    if (r->nf != r->ncols)
        return report(r, r->row_line, 0, HV_EBADROW, "%zu fields, the header has %zu", r->nf,
                      r->ncols);
    double v;
    const char *why = NULL;
    const field *f = &r->f[c->col];
    if (parse_number(f, &v, &why) != 0) {
        char ex[32];
        field_excerpt(f, ex);
        return report(r, r->row_line, (uint32_t)c->col + 1, HV_EBADROW, "%s: '%s'", why, ex);
    }
    if (r->o->positive && !(v > 0)) {
        char ex[32];
        field_excerpt(f, ex);
        return report(r, r->row_line, (uint32_t)c->col + 1, HV_EBADROW, "must be > 0: '%s'", ex);
    }
    int rv = hv_column_push(c->out, v);
    if (rv != 0)
        return rv;
    r->rep->rows_ok++;
    return 0;
}

/* name == NULL: a single column whose first row is a header only if it is not a number. */
static int headerless_start(reader *r, col_ctx *ctx)
{
    if (r->nf != 1)
        return fail(r, r->row_line, HV_EPARSE, "%zu columns: name the one to read", r->nf);
    double v;
    const char *why;
    if (parse_number(&r->f[0], &v, &why) != 0) {
        take_header(r);
        return 0;
    }
    r->ncols = 1;
    r->names[0][0] = '\0';
    return col_row_fn(r, ctx);
}

int hv_csv_parse_column(const char *buf, size_t len, const char *name, const hv_csv_opts *opts,
                        hv_column *out, hv_csv_report *rep)
{
    hv_csv_report local_rep;
    hv_csv_opts o;
    if (rep == NULL)
        rep = &local_rep;
    memset(rep, 0, sizeof(*rep));
    rep->file = opts != NULL && opts->file != NULL ? opts->file : "<memory>";
    if (out == NULL || (buf == NULL && len > 0) || hv__csv_opts_resolve(opts, &o) != 0)
        return HV_EINVAL;
    if (len > o.bytes_max) {
        hv__csv_too_big(&o, rep);
        return HV_ETOOBIG;
    }
    reader r;
    reader_start(&r, buf, len, &o, rep);
    int rv = read_header(&r);
    if (rv != 0)
        return finish(&r, rv);
    col_ctx ctx = { 0, out };
    if (name == NULL) {
        rv = headerless_start(&r, &ctx);
        if (rv != 0)
            return finish(&r, rv);
    } else {
        char want[32];
        norm_name(name, want);
        int c = find_col(&r, want);
        if (c < 0)
            return finish(
                &r, fail(&r, r.row_line, HV_ENOTFOUND, "no column '%.40s' in the header", name));
        ctx.col = (size_t)c;
    }
    return finish(&r, each_row(&r, col_row_fn, &ctx));
}

/* ------------------------------------------------------------------------------------------ */
/* The symbols of a file */

typedef struct sym_ctx {
    int col;
    char (*names)[HV_CSV_SYMBOL_BYTES];
    size_t cap, n;
    int more;
} sym_ctx;

static int sym_row_fn(reader *r, void *ctx)
{
    sym_ctx *s = ctx;
    if (count_row(r) != 0)
        return HV_ETOOBIG;
    char sym[HV_CSV_SYMBOL_BYTES];
    if ((size_t)s->col >= r->nf || field_text(&r->f[s->col], sym, sizeof(sym)) < 0)
        return 0; /* a short row or an over-long symbol names no symbol */
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], sym) == 0)
            return 0;
    if (s->n == s->cap) {
        s->more = 1;
        return 0;
    }
    memcpy(s->names[s->n++], sym, strlen(sym) + 1);
    return 0;
}

int hv_csv_parse_symbols(const char *buf, size_t len, const hv_csv_opts *opts,
                         char (*names)[HV_CSV_SYMBOL_BYTES], size_t cap, size_t *count)
{
    hv_csv_report rep;
    hv_csv_opts o;
    if (count != NULL)
        *count = 0;
    if (count == NULL || (names == NULL && cap > 0) || (buf == NULL && len > 0) ||
        hv__csv_opts_resolve(opts, &o) != 0)
        return HV_EINVAL;
    o.on_issue = NULL; /* the rows' own problems are the bar loader's to report */
    o.strict = 0;
    memset(&rep, 0, sizeof(rep));
    if (len > o.bytes_max)
        return HV_ETOOBIG;
    reader r;
    reader_start(&r, buf, len, &o, &rep);
    int rv = read_header(&r);
    if (rv != 0)
        return finish(&r, rv);
    sym_ctx ctx = { .col = find_col(&r, "symbol"), .names = names, .cap = cap };
    if (ctx.col < 0)
        return finish(&r, HV_ENOTFOUND);
    rv = finish(&r, each_row(&r, sym_row_fn, &ctx));
    *count = ctx.n;
    return rv != 0 ? rv : ctx.more ? HV_EFULL : 0;
}

int hv_csv_issue_format(const char *file, const hv_csv_issue *is, char *buf, size_t cap)
{
    const char *fn = file != NULL ? file : "<memory>";
    if (is->line == 0)
        return snprintf(buf, cap, "%s: %s", fn, is->reason);
    if (is->column == 0)
        return snprintf(buf, cap, "%s:%u: %s", fn, is->line, is->reason);
    if (is->column_name[0] != '\0')
        return snprintf(buf, cap, "%s:%u:%u (%s): %s", fn, is->line, is->column, is->column_name,
                        is->reason);
    return snprintf(buf, cap, "%s:%u:%u: %s", fn, is->line, is->column, is->reason);
}

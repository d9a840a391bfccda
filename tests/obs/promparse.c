/* A strict Prometheus text-format parser for the tests (promparse.h). */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "obs/promparse.h"

typedef struct parser {
    const char *p, *end;
    int line;
    char *err;
    size_t cap;
    prom_page *page;
    size_t cap_fam, cap_s;
} parser;

static int fail(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(parser *ps, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->cap, "line %d: %s", ps->line, why);
    return -1;
}

static int name_start(int c, int label)
{
    return isalpha(c) || c == '_' || (!label && c == ':');
}

static int name_char(int c, int label)
{
    return name_start(c, label) || isdigit(c);
}

/* A metric or label name at *s into out; advances *s. */
static int read_name(const char **s, const char *end, char *out, size_t cap, int label)
{
    const char *p = *s;
    if (p >= end || !name_start((unsigned char)*p, label))
        return -1;
    size_t n = 0;
    while (p < end && name_char((unsigned char)*p, label)) {
        if (n + 1 >= cap)
            return -1;
        out[n++] = *p++;
    }
    out[n] = 0;
    *s = p;
    return 0;
}

/* A float as Go's ParseFloat reads it (what Prometheus accepts). */
static int read_float(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (strcmp(buf, "NaN") == 0 || strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0 ||
        strcmp(buf, "Inf") == 0) {
        *out = buf[0] == 'N' ? NAN : buf[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)buf[i]) && strchr("+-.eE", buf[i]) == NULL)
            return -1;
    char *e;
    *out = strtod(buf, &e);
    return *e == 0 ? 0 : -1;
}

static prom_family *current(parser *ps)
{
    return ps->page->nfam ? &ps->page->fam[ps->page->nfam - 1] : NULL;
}

static prom_family *family_of(parser *ps, const char *name)
{
    for (size_t i = 0; i < ps->page->nfam; i++)
        if (strcmp(ps->page->fam[i].name, name) == 0)
            return &ps->page->fam[i];
    return NULL;
}

static int new_family(parser *ps, const char *name)
{
    prom_page *pg = ps->page;
    if (pg->nfam == ps->cap_fam) {
        ps->cap_fam = ps->cap_fam ? ps->cap_fam * 2 : 64;
        pg->fam = realloc(pg->fam, ps->cap_fam * sizeof(pg->fam[0]));
    }
    prom_family *f = &pg->fam[pg->nfam++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->first = pg->ns;
    return 0;
}

/* "# HELP name text" and "# TYPE name type": both before the family's samples, once each; the
 * HELP first. */
static int comment(parser *ps, const char *s, const char *eol)
{
    int help = eol - s > 7 && strncmp(s, "# HELP ", 7) == 0;
    int type = eol - s > 7 && strncmp(s, "# TYPE ", 7) == 0;
    if (!help && !type)
        return fail(ps, "a comment other than HELP or TYPE");
    s += 7;
    char name[128];
    if (read_name(&s, eol, name, sizeof(name), 0) != 0 || s >= eol || *s != ' ')
        return fail(ps, "bad metric name after # %s", help ? "HELP" : "TYPE");
    s++;
    prom_family *f = family_of(ps, name);
    if (help) {
        if (f != NULL)
            return fail(ps, "second HELP of %s (or HELP after its samples)", name);
        return new_family(ps, name);
    }
    if (f == NULL || f != current(ps) || f->type[0] != 0 || f->n != 0)
        return fail(ps, "TYPE of %s not right after its HELP", name);
    size_t n = (size_t)(eol - s);
    static const char *const types[] = { "counter", "gauge", "histogram", "summary", "untyped" };
    for (size_t i = 0; i < 5; i++)
        if (strlen(types[i]) == n && strncmp(s, types[i], n) == 0) {
            snprintf(f->type, sizeof(f->type), "%s", types[i]);
            if (i == 0 && (strlen(name) < 6 || strcmp(name + strlen(name) - 6, "_total") != 0))
                return fail(ps, "counter %s does not end in _total", name);
            return 0;
        }
    return fail(ps, "unknown type '%.*s'", (int)n, s);
}

/* The label set {a="x",b="y"}: names, escapes, no duplicates; fills labels, le, rest. */
static int read_labels(parser *ps, const char **sp, const char *eol, prom_sample *smp)
{
    const char *s = *sp + 1;
    char seen[16][64];
    int nseen = 0;
    size_t lo = 0, ro = 0;
    while (s < eol && *s != '}') {
        char ln[64], val[256];
        size_t vn = 0;
        if (read_name(&s, eol, ln, sizeof(ln), 1) != 0 || strncmp(ln, "__", 2) == 0)
            return fail(ps, "bad label name");
        for (int i = 0; i < nseen; i++)
            if (strcmp(seen[i], ln) == 0)
                return fail(ps, "label %s twice", ln);
        if (nseen < 16)
            snprintf(seen[nseen++], sizeof(seen[0]), "%s", ln);
        if (s + 1 >= eol || s[0] != '=' || s[1] != '"')
            return fail(ps, "label %s: expected =\"", ln);
        s += 2;
        while (s < eol && *s != '"') {
            char c = *s++;
            if (c == '\\') {
                if (s >= eol || strchr("\\\"n", *s) == NULL)
                    return fail(ps, "bad escape in label %s", ln);
                c = *s == 'n' ? '\n' : *s;
                s++;
            }
            if (vn + 1 < sizeof(val))
                val[vn++] = c;
        }
        val[vn] = 0;
        if (s >= eol)
            return fail(ps, "unterminated label value");
        s++;
        if (strcmp(ln, "le") == 0 && vn >= sizeof(smp->le))
            return fail(ps, "le value too long");
        if (strcmp(ln, "le") == 0)
            memcpy(smp->le, val, vn + 1);
        else
            ro += (size_t)snprintf(smp->rest + ro, sizeof(smp->rest) - ro, "%s%s=%s", ro ? "," : "",
                                   ln, val);
        lo += (size_t)snprintf(smp->labels + lo, sizeof(smp->labels) - lo, "%s%s=%s", lo ? "," : "",
                               ln, val);
        if (ro >= sizeof(smp->rest) || lo >= sizeof(smp->labels))
            return fail(ps, "labels too long for the test");
        if (s < eol && *s == ',') {
            s++;
            if (s < eol && *s == '}')
                return fail(ps, "trailing comma in labels");
        } else if (s < eol && *s != '}') {
            return fail(ps, "expected , or } in labels");
        }
    }
    if (s >= eol)
        return fail(ps, "unterminated labels");
    *sp = s + 1;
    return 0;
}

/* Which family a sample name belongs to, given the current family. */
static int belongs(const prom_family *f, const char *name)
{
    size_t n = strlen(f->name);
    if (strcmp(f->type, "histogram") != 0)
        return strcmp(name, f->name) == 0;
    return strncmp(name, f->name, n) == 0 &&
           (strcmp(name + n, "_bucket") == 0 || strcmp(name + n, "_sum") == 0 ||
            strcmp(name + n, "_count") == 0);
}

static int sample(parser *ps, const char *s, const char *eol)
{
    prom_sample smp;
    memset(&smp, 0, sizeof(smp));
    if (read_name(&s, eol, smp.name, sizeof(smp.name), 0) != 0)
        return fail(ps, "bad metric name");
    prom_family *f = current(ps);
    if (f == NULL || f->type[0] == 0 || !belongs(f, smp.name))
        return fail(ps, "sample %s outside its family (no HELP/TYPE, or not contiguous)", smp.name);
    if (s < eol && *s == '{' && read_labels(ps, &s, eol, &smp) != 0)
        return -1;
    if (s >= eol || *s != ' ')
        return fail(ps, "%s: expected a space before the value", smp.name);
    s++;
    const char *sp = memchr(s, ' ', (size_t)(eol - s));
    if (read_float(s, (size_t)((sp ? sp : eol) - s), &smp.value) != 0)
        return fail(ps, "%s: bad value '%.*s'", smp.name, (int)(eol - s), s);
    if (sp != NULL) { /* a timestamp: an integer */
        for (const char *t = sp + 1 + (sp[1] == '-'); t < eol; t++)
            if (!isdigit((unsigned char)*t))
                return fail(ps, "%s: bad timestamp", smp.name);
    }
    prom_page *pg = ps->page;
    for (size_t i = f->first; i < pg->ns; i++)
        if (strcmp(pg->s[i].name, smp.name) == 0 && strcmp(pg->s[i].labels, smp.labels) == 0)
            return fail(ps, "series %s{%s} twice", smp.name, smp.labels);
    if (pg->ns == ps->cap_s) {
        ps->cap_s = ps->cap_s ? ps->cap_s * 2 : 256;
        pg->s = realloc(pg->s, ps->cap_s * sizeof(pg->s[0]));
    }
    smp.family = (size_t)(f - pg->fam);
    pg->s[pg->ns++] = smp;
    f->n++;
    return 0;
}

int prom_parse(const char *text, size_t len, prom_page *out, char *err, size_t cap)
{
    memset(out, 0, sizeof(*out));
    parser ps = { .p = text, .end = text + len, .line = 0, .err = err, .cap = cap, .page = out };
    if (len == 0 || text[len - 1] != '\n') {
        snprintf(err, cap, "the page is empty or does not end with a newline");
        return -1;
    }
    while (ps.p < ps.end) {
        ps.line++;
        const char *eol = memchr(ps.p, '\n', (size_t)(ps.end - ps.p));
        if (eol == ps.p)
            return fail(&ps, "blank line");
        int rc = *ps.p == '#' ? comment(&ps, ps.p, eol) : sample(&ps, ps.p, eol);
        if (rc != 0)
            return -1;
        ps.p = eol + 1;
    }
    for (size_t i = 0; i < out->nfam; i++)
        if (out->fam[i].n == 0) {
            snprintf(err, cap, "family %s has no sample", out->fam[i].name);
            return -1;
        }
    return 0;
}

void prom_free(prom_page *p)
{
    free(p->fam);
    free(p->s);
    memset(p, 0, sizeof(*p));
}

const prom_family *prom_find(const prom_page *p, const char *name)
{
    for (size_t i = 0; i < p->nfam; i++)
        if (strcmp(p->fam[i].name, name) == 0)
            return &p->fam[i];
    return NULL;
}

double prom_value(const prom_page *p, const char *name, const char *labels)
{
    for (size_t i = 0; i < p->ns; i++)
        if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels) == 0)
            return p->s[i].value;
    return NAN;
}

/* One histogram series (the samples of family f whose labels besides le are `rest`). */
static int check_series(const prom_page *p, const prom_family *f, const char *rest, char *err,
                        size_t cap)
{
    double prev_le = -INFINITY, prev = 0, inf = NAN, count = NAN, sum = NAN;
    char bucket[160], sname[160], cname[160];
    snprintf(bucket, sizeof(bucket), "%s_bucket", f->name);
    snprintf(sname, sizeof(sname), "%s_sum", f->name);
    snprintf(cname, sizeof(cname), "%s_count", f->name);
    for (size_t i = f->first; i < f->first + f->n; i++) {
        const prom_sample *s = &p->s[i];
        if (strcmp(s->rest, rest) != 0)
            continue;
        if (strcmp(s->name, sname) == 0)
            sum = s->value;
        if (strcmp(s->name, cname) == 0)
            count = s->value;
        if (strcmp(s->name, bucket) != 0)
            continue;
        double le;
        if (s->le[0] == 0 || read_float(s->le, strlen(s->le), &le) != 0 || !(le > prev_le)) {
            snprintf(err, cap, "%s{%s}: le '%s' missing, bad or not increasing", bucket, rest,
                     s->le);
            return -1;
        }
        if (s->value < prev) {
            snprintf(err, cap, "%s{%s}: bucket le=%s holds %g < %g: not cumulative", bucket, rest,
                     s->le, s->value, prev);
            return -1;
        }
        prev_le = le;
        prev = s->value;
        if (isinf(le))
            inf = s->value;
    }
    if (isnan(inf) || isnan(count) || isnan(sum) || inf != count) {
        snprintf(err, cap, "%s{%s}: +Inf bucket %g, _count %g, _sum %g", f->name, rest, inf, count,
                 sum);
        return -1;
    }
    return 0;
}

int prom_check(const prom_page *p, char *err, size_t cap)
{
    for (size_t i = 0; i < p->nfam; i++) {
        const prom_family *f = &p->fam[i];
        for (size_t k = f->first; k < f->first + f->n; k++) {
            const prom_sample *s = &p->s[k];
            if (strcmp(f->type, "counter") == 0 && !(s->value >= 0)) {
                snprintf(err, cap, "counter %s{%s} = %g", s->name, s->labels, s->value);
                return -1;
            }
            if (strcmp(f->type, "histogram") == 0 && s->le[0] == 0 &&
                strstr(s->name, "_bucket") == s->name + strlen(s->name) - 7) {
                snprintf(err, cap, "%s without le", s->name);
                return -1;
            }
            if (strcmp(f->type, "histogram") == 0 &&
                strcmp(s->name + strlen(f->name), "_count") == 0 &&
                check_series(p, f, s->rest, err, cap) != 0)
                return -1;
        }
    }
    return 0;
}

int prom_check_grow(const prom_page *a, const prom_page *b, char *err, size_t cap)
{
    for (size_t i = 0; i < a->ns; i++) {
        const prom_sample *s = &a->s[i];
        const char *type = a->fam[s->family].type;
        if (strcmp(type, "counter") != 0 && strcmp(type, "histogram") != 0)
            continue;
        double v = prom_value(b, s->name, s->labels);
        if (isnan(v)) {
            snprintf(err, cap, "%s{%s} disappeared", s->name, s->labels);
            return -1;
        }
        if (v < s->value) {
            snprintf(err, cap, "%s{%s} went down: %.17g -> %.17g", s->name, s->labels, s->value, v);
            return -1;
        }
    }
    return 0;
}

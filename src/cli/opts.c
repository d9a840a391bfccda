/*
 * The table-driven option parser: lookup by name, conversion and range checks by kind,
 * stores by field width, --help rendered from the same rows.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/opts.h"

#define HELP_WIDTH 80
#define HELP_COL   24
#define WHY_MAX    256

/* A row and where it sits: section s, row r. */
typedef struct row_ref {
    const hv_opt *o;
    unsigned s, r;
} row_ref;

static int find_row(const hv_cli_spec *spec, const char *name, size_t len, char short_name,
                    row_ref *out)
{
    for (unsigned s = 0; spec->sections != NULL && spec->sections[s].opts != NULL; s++) {
        const hv_opt *rows = spec->sections[s].opts;
        for (unsigned r = 0; rows[r].name != NULL; r++) {
            const hv_opt *o = &rows[r];
            int hit = name != NULL ? strlen(o->name) == len && strncmp(o->name, name, len) == 0
                                   : short_name != 0 && o->short_name == short_name;
            if (hit) {
                *out = (row_ref){ o, s, r };
                return 1;
            }
        }
    }
    return 0;
}

const hv_opt *hv__opts_find(const hv_cli_spec *spec, const char *name)
{
    row_ref ref;
    return find_row(spec, name, strlen(name), 0, &ref) ? ref.o : NULL;
}

int hv__opts_given(const hv_cli_spec *spec, const hv_opts_result *res, const char *name)
{
    row_ref ref;
    if (res == NULL || !find_row(spec, name, strlen(name), 0, &ref))
        return 0;
    return (int)((res->given[ref.s] >> ref.r) & 1u);
}

/* How the user types a command: "hivewire run", "hivewire market stats", "hivewire-bench". */
#define CMD_FMT        "%s%s%s"
#define CMD_ARGS(spec) prog_of(spec), (spec)->name[0] ? " " : "", (spec)->name

static const char *prog_of(const hv_cli_spec *spec)
{
    return spec->program != NULL ? spec->program : "hivewire";
}

static void verror(const hv_cli_spec *spec, const char *fmt, va_list ap)
{
    fprintf(stderr, CMD_FMT ": ", CMD_ARGS(spec));
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int hv__opts_usage_error(const hv_cli_spec *spec, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(spec, fmt, ap);
    va_end(ap);
    return HV_EXIT_USAGE;
}

/* ---- Ranges --------------------------------------------------------------------------------- */

/* "[1, 999]", "(0, 1]": the accepted values of a numeric row. */
static void format_range(const hv_opt *o, char *buf, size_t cap)
{
    switch (o->kind) {
    case HV_OPT_U64:
        snprintf(buf, cap, "[%llu, %llu]", (unsigned long long)o->umin,
                 (unsigned long long)o->umax);
        break;
    case HV_OPT_I64:
        snprintf(buf, cap, "[%lld, %lld]", (long long)o->imin, (long long)o->imax);
        break;
    case HV_OPT_DOUBLE:
        snprintf(buf, cap, "%c%.15g, %.15g%c", (o->flags & HV_OPT_MIN_OPEN) ? '(' : '[', o->dmin,
                 o->dmax, (o->flags & HV_OPT_MAX_OPEN) ? ')' : ']');
        break;
    default:
        buf[0] = '\0';
    }
}

/* Whether --help should show the range: not for integers that take any value of their type. */
static int range_is_informative(const hv_opt *o)
{
    if (o->kind == HV_OPT_U64)
        return o->umin > 0 || o->umax < UINT64_MAX;
    if (o->kind == HV_OPT_I64)
        return o->imin > INT64_MIN || o->imax < INT64_MAX;
    return o->kind == HV_OPT_DOUBLE;
}

/* ---- Conversion ----------------------------------------------------------------------------- */

static int out_of_range(const hv_opt *o, const char *text, char *why, size_t cap)
{
    char range[96];
    format_range(o, range, sizeof(range));
    snprintf(why, cap, "%s is out of range %s", text, range);
    return -1;
}

/* An integer written in exponent or decimal-point form ("1e6", "2.0") that is exact. */
static int integral_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(d) || d != floor(d))
        return -1;
    *out = d;
    return 0;
}

static int is_integer_syntax(const char *t)
{
    if (*t == '+' || *t == '-')
        t++;
    if (*t == '\0')
        return 0;
    for (; *t; t++)
        if (*t < '0' || *t > '9')
            return 0;
    return 1;
}

/* Parses a signed integer of any magnitude as far as it goes: sets *neg, *mag (saturating at
 * UINT64_MAX, *big = 1 past it). Returns 0 or -1 when the text is not an integer. */
static int parse_integer(const char *text, int *neg, uint64_t *mag, int *big)
{
    *neg = text[0] == '-';
    *big = 0;
    if (is_integer_syntax(text)) {
        const char *digits = text + (text[0] == '+' || text[0] == '-');
        errno = 0;
        unsigned long long v = strtoull(digits, NULL, 10);
        *big = errno == ERANGE;
        *mag = *big ? UINT64_MAX : (uint64_t)v;
        return 0;
    }
    double d;
    if (integral_double(text, &d) != 0)
        return -1;
    *neg = d < 0;
    double m = fabs(d);
    *big = m >= 18446744073709551616.0;
    *mag = *big ? UINT64_MAX : (uint64_t)m;
    return 0;
}

static int convert_u64(const hv_opt *o, const char *text, hv_opt_value *v, char *why, size_t cap)
{
    int neg, big;
    uint64_t m;
    if (parse_integer(text, &neg, &m, &big) != 0) {
        snprintf(why, cap, "'%s' is not an integer", text);
        return -1;
    }
    if ((neg && m > 0) || big || m < o->umin || m > o->umax)
        return out_of_range(o, text, why, cap);
    v->u = m * (o->scale ? o->scale : 1);
    return 0;
}

static int convert_i64(const hv_opt *o, const char *text, hv_opt_value *v, char *why, size_t cap)
{
    int neg, big;
    uint64_t m;
    if (parse_integer(text, &neg, &m, &big) != 0) {
        snprintf(why, cap, "'%s' is not an integer", text);
        return -1;
    }
    if (big || m > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return out_of_range(o, text, why, cap);
    int64_t x = neg ? (int64_t)(0 - m) : (int64_t)m;
    if (x < o->imin || x > o->imax)
        return out_of_range(o, text, why, cap);
    v->i = x;
    return 0;
}

static int convert_double(const hv_opt *o, const char *text, hv_opt_value *v, char *why, size_t cap)
{
    char *end;
    errno = 0;
    double d = strtod(text, &end);
    if (end == text || *end != '\0') {
        snprintf(why, cap, "'%s' is not a number", text);
        return -1;
    }
    if (isnan(d)) {
        snprintf(why, cap, "'%s' is not a finite number", text);
        return -1;
    }
    int lo_ok = (o->flags & HV_OPT_MIN_OPEN) ? d > o->dmin : d >= o->dmin;
    int hi_ok = (o->flags & HV_OPT_MAX_OPEN) ? d < o->dmax : d <= o->dmax;
    if (!isfinite(d) || !lo_ok || !hi_ok)
        return out_of_range(o, text, why, cap);
    v->d = d;
    return 0;
}

static void choice_list(const hv_opt *o, const char *sep, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const hv_opt_choice *c = o->choices; c != NULL && c->name != NULL && n < cap; c++) {
        int w = snprintf(buf + n, cap - n, "%s%s", c == o->choices ? "" : sep, c->name);
        n += w > 0 ? (size_t)w : 0;
    }
}

static int convert_enum(const hv_opt *o, const char *text, hv_opt_value *v, char *why, size_t cap)
{
    for (const hv_opt_choice *c = o->choices; c != NULL && c->name != NULL; c++) {
        if (strcmp(c->name, text) == 0) {
            v->e = c->value;
            return 0;
        }
    }
    char list[160];
    choice_list(o, ", ", list, sizeof(list));
    snprintf(why, cap, "'%s' is not one of %s", text, list);
    return -1;
}

static int convert(const hv_opt *o, const char *text, hv_opt_value *v, char *why, size_t cap)
{
    switch (o->kind) {
    case HV_OPT_FLAG:
        v->e = (o->flags & HV_OPT_STORE_ZERO) ? 0 : 1;
        return 0;
    case HV_OPT_U64:
        return convert_u64(o, text, v, why, cap);
    case HV_OPT_I64:
        return convert_i64(o, text, v, why, cap);
    case HV_OPT_DOUBLE:
        return convert_double(o, text, v, why, cap);
    case HV_OPT_ENUM:
        return convert_enum(o, text, v, why, cap);
    case HV_OPT_STRING:
        v->s = text;
        return 0;
    }
    snprintf(why, cap, "has an unknown kind");
    return -1;
}

/* Writes v into the row's field, at the field's width (checked by hv__opts_check_spec). */
static void store(const hv_opt *o, void *target, const hv_opt_value *v)
{
    char *f = (char *)target + o->offset;
    switch (o->kind) {
    case HV_OPT_U64:
        if (o->size == sizeof(uint32_t)) {
            uint32_t x = (uint32_t)v->u;
            memcpy(f, &x, sizeof(x));
        } else {
            memcpy(f, &v->u, sizeof(v->u));
        }
        break;
    case HV_OPT_I64:
        if (o->size == sizeof(int32_t)) {
            int32_t x = (int32_t)v->i;
            memcpy(f, &x, sizeof(x));
        } else {
            memcpy(f, &v->i, sizeof(v->i));
        }
        break;
    case HV_OPT_DOUBLE:
        memcpy(f, &v->d, sizeof(v->d));
        break;
    case HV_OPT_STRING:
        memcpy(f, &v->s, sizeof(v->s));
        break;
    case HV_OPT_FLAG:
    case HV_OPT_ENUM:
        memcpy(f, &v->e, sizeof(v->e));
        break;
    }
}

/* ---- The argument loop ---------------------------------------------------------------------- */

typedef struct parser {
    const hv_cli_spec *spec;
    void *const *targets;
    hv_opts_result *res;
    int argc;
    char **argv;
    int i; /* current argument */
} parser;

/* "--name" or "-s" as the user wrote the option, for messages. */
static void spelled(const row_ref *ref, int is_short, char *buf, size_t cap)
{
    if (is_short)
        snprintf(buf, cap, "-%c", ref->o->short_name);
    else
        snprintf(buf, cap, "--%s", ref->o->name);
}

/* A following argument that is itself an option is not taken as a value. */
static int looks_like_option(const char *a)
{
    return a[0] == '-' && a[1] == '-' && a[2] != '\0';
}

static int take_value(parser *p, const char *inline_value, const char *who, const char **out)
{
    if (inline_value != NULL) {
        *out = inline_value;
    } else if (p->i + 1 < p->argc && !looks_like_option(p->argv[p->i + 1])) {
        *out = p->argv[++p->i];
    } else {
        return hv__opts_usage_error(p->spec, "option %s needs a value", who);
    }
    if ((*out)[0] == '\0')
        return hv__opts_usage_error(p->spec, "%s: the value is empty", who);
    return 0;
}

static int apply_option(parser *p, const row_ref *ref, int is_short, const char *inline_value)
{
    const hv_opt *o = ref->o;
    char who[80], why[WHY_MAX];
    spelled(ref, is_short, who, sizeof(who));
    const char *text = NULL;
    if (o->kind == HV_OPT_FLAG) {
        if (inline_value != NULL)
            return hv__opts_usage_error(p->spec, "option %s takes no value", who);
    } else {
        int rc = take_value(p, inline_value, who, &text);
        if (rc != 0)
            return rc;
    }
    hv_opt_value v;
    memset(&v, 0, sizeof(v));
    if (convert(o, text, &v, why, sizeof(why)) != 0)
        return hv__opts_usage_error(p->spec, "%s: %s", who, why);
    void *target = p->targets[p->spec->sections[ref->s].target];
    if (o->apply != NULL) {
        why[0] = '\0';
        if (o->apply(target, o, &v, why, sizeof(why)) != 0)
            return hv__opts_usage_error(p->spec, "%s: %s", who, why[0] ? why : "invalid value");
    } else {
        store(o, target, &v);
    }
    p->res->given[ref->s] |= 1ull << ref->r;
    return 0;
}

static int is_negative_number(const char *a)
{
    return a[0] == '-' && ((a[1] >= '0' && a[1] <= '9') || a[1] == '.');
}

static int long_option(parser *p, const char *a)
{
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    row_ref ref;
    if (!find_row(p->spec, name, len, 0, &ref))
        return hv__opts_usage_error(p->spec,
                                    "unknown option '--%.*s' (" CMD_FMT " --help lists the "
                                    "options)",
                                    (int)(len > 64 ? 64 : len), name, CMD_ARGS(p->spec));
    return apply_option(p, &ref, 0, eq ? eq + 1 : NULL);
}

static int short_option(parser *p, const char *a)
{
    row_ref ref;
    if (!find_row(p->spec, NULL, 0, a[1], &ref))
        return hv__opts_usage_error(p->spec,
                                    "unknown option '-%c' (" CMD_FMT " --help lists the options)",
                                    a[1], CMD_ARGS(p->spec));
    if (a[2] != '\0' && ref.o->kind == HV_OPT_FLAG)
        return hv__opts_usage_error(p->spec,
                                    "unknown option '%s' (" CMD_FMT " --help lists the "
                                    "options)",
                                    a, CMD_ARGS(p->spec));
    return apply_option(p, &ref, 1, a[2] != '\0' ? a + 2 : NULL);
}

static int operand(parser *p, const char *a)
{
    hv_opts_result *r = p->res;
    if (p->spec->operand == NULL)
        return hv__opts_usage_error(p->spec, "unexpected argument '%s' (" CMD_FMT " --help)", a,
                                    CMD_ARGS(p->spec));
    if (r->noperands >= p->spec->operands_max || r->noperands >= HV_OPTS_OPERANDS_MAX)
        return hv__opts_usage_error(p->spec, "unexpected argument '%s': at most %u %s", a,
                                    p->spec->operands_max, p->spec->operand);
    r->operands[r->noperands++] = a;
    return 0;
}

/* Required options, options that need another, and the operand count. */
static int check_complete(parser *p)
{
    const hv_cli_spec *spec = p->spec;
    for (unsigned s = 0; spec->sections != NULL && spec->sections[s].opts != NULL; s++) {
        const hv_opt *rows = spec->sections[s].opts;
        for (unsigned r = 0; rows[r].name != NULL; r++) {
            int given = (int)((p->res->given[s] >> r) & 1u);
            if ((rows[r].flags & HV_OPT_REQUIRED) && !given)
                return hv__opts_usage_error(spec, "option --%s is required", rows[r].name);
            if (given && rows[r].needs != NULL && !hv__opts_given(spec, p->res, rows[r].needs))
                return hv__opts_usage_error(spec, "option --%s needs --%s too", rows[r].name,
                                            rows[r].needs);
        }
    }
    if (p->res->noperands < spec->operands_min)
        return hv__opts_usage_error(spec, "missing %s (" CMD_FMT " --help)", spec->operand,
                                    CMD_ARGS(spec));
    return HV_OPTS_PROCEED;
}

/* A table that breaks its own rules is a programmer's error, found by any run of the command
 * (the check costs microseconds, so it stays on in every build). */
static void assert_spec(const hv_cli_spec *spec)
{
    char why[WHY_MAX];
    if (hv__opts_check_spec(spec, why, sizeof(why)) != 0) {
        fprintf(stderr, CMD_FMT ": internal error in the option table: %s\n", CMD_ARGS(spec), why);
        abort();
    }
}

int hv__opts_parse(const hv_cli_spec *spec, void *const *targets, int argc, char **argv,
                   hv_opts_result *res)
{
    assert_spec(spec);
    hv_opts_result local;
    parser p = { spec, targets, res != NULL ? res : &local, argc, argv, 1 };
    memset(p.res, 0, sizeof(*p.res));
    int operands_only = 0;
    for (; p.i < argc; p.i++) {
        const char *a = argv[p.i];
        int rc = 0;
        if (operands_only || a[0] != '-' || a[1] == '\0' || is_negative_number(a)) {
            rc = operand(&p, a);
        } else if (strcmp(a, "--") == 0) {
            operands_only = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            hv__opts_help(spec, stdout);
            return HV_EXIT_OK;
        } else {
            rc = a[1] == '-' ? long_option(&p, a) : short_option(&p, a);
        }
        if (rc != 0)
            return rc;
    }
    return check_complete(&p);
}

int hv__opts_field_error(const hv_cli_spec *spec, const hv_field_error *e)
{
    const char *field = e->field != NULL ? e->field : "?";
    const char *reason = e->reason != NULL ? e->reason : "invalid";
    for (unsigned s = 0; spec->sections != NULL && spec->sections[s].opts != NULL; s++)
        for (const hv_opt *o = spec->sections[s].opts; o->name != NULL; o++)
            if (o->field != NULL && strcmp(o->field, field) == 0)
                return hv__opts_usage_error(spec, "--%s: %s", o->name, reason);
    return hv__opts_usage_error(spec, "invalid setting %s: %s", field, reason);
}

/* ---- Help ----------------------------------------------------------------------------------- */

/* Writes text word-wrapped from column `col` (the cursor is at column `at`), lines indented
 * to `col`. */
static void wrap(FILE *f, const char *text, int at, int col)
{
    const char *p = text;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t w = strcspn(p, " ");
        if (w == 0)
            break;
        if (at > col && at + 1 + (int)w > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fwrite(p, 1, w, f);
        at += (int)w;
        p += w;
    }
    fputc('\n', f);
}

static const char *default_metavar(const hv_opt *o)
{
    switch (o->kind) {
    case HV_OPT_U64:
    case HV_OPT_I64:
        return "N";
    case HV_OPT_DOUBLE:
        return "X";
    case HV_OPT_STRING:
        return (o->flags & HV_OPT_PATH) ? "FILE" : (o->flags & HV_OPT_DIR) ? "DIR" : "S";
    default:
        return "";
    }
}

void hv__opts_describe(const hv_opt *o, char *label, size_t label_cap, char *text, size_t text_cap)
{
    char meta[160], dash[8] = "";
    if (o->kind == HV_OPT_ENUM && o->metavar == NULL)
        choice_list(o, "|", meta, sizeof(meta));
    else
        snprintf(meta, sizeof(meta), "%s", o->metavar ? o->metavar : default_metavar(o));
    if (o->short_name)
        snprintf(dash, sizeof(dash), "-%c, ", o->short_name);
    snprintf(label, label_cap, "%s--%s%s%s", dash, o->name, o->kind == HV_OPT_FLAG ? "" : " ",
             o->kind == HV_OPT_FLAG ? "" : meta);
    char range[96] = "";
    if (range_is_informative(o))
        format_range(o, range, sizeof(range));
    const char *req = (o->flags & HV_OPT_REQUIRED) ? " (required)" : "";
    if (range[0] && o->dflt)
        snprintf(text, text_cap, "%s%s (in %s; default %s)", o->help, req, range, o->dflt);
    else if (range[0])
        snprintf(text, text_cap, "%s%s (in %s)", o->help, req, range);
    else if (o->dflt)
        snprintf(text, text_cap, "%s%s (default %s)", o->help, req, o->dflt);
    else
        snprintf(text, text_cap, "%s%s", o->help, req);
}

static void option_help(FILE *f, const hv_opt *o)
{
    char label[256], text[640];
    hv__opts_describe(o, label, sizeof(label), text, sizeof(text));
    int len = 2 + (int)strlen(label);
    fprintf(f, "  %s", label);
    if (len >= HELP_COL - 1) /* a long label: its help starts on the next line */
        fprintf(f, "\n%*s", HELP_COL, "");
    else
        fprintf(f, "%*s", HELP_COL - len, "");
    wrap(f, text, HELP_COL, HELP_COL);
}

void hv__opts_help(const hv_cli_spec *spec, FILE *f)
{
    fprintf(f, "usage: " CMD_FMT " %s\n", CMD_ARGS(spec), spec->synopsis ? spec->synopsis : "");
    if (spec->about != NULL)
        fprintf(f, "\n%s", spec->about);
    for (unsigned s = 0; spec->sections != NULL && spec->sections[s].opts != NULL; s++) {
        const hv_opt_section *sec = &spec->sections[s];
        fprintf(f, "\n%s:\n", sec->title ? sec->title : "options");
        for (const hv_opt *o = sec->opts; o->name != NULL; o++)
            option_help(f, o);
    }
    fprintf(f, "\n  -h, --help            this text\n");
    if (spec->epilog != NULL)
        fprintf(f, "\n%s", spec->epilog);
}

/* ---- Subcommands ---------------------------------------------------------------------------- */

static void group_help(const hv_cli_group *g, FILE *f)
{
    fprintf(f, "usage: hivewire %s <command> [options]\n", g->name);
    if (g->about != NULL)
        fprintf(f, "\n%s", g->about);
    fprintf(f, "\ncommands:\n");
    for (const hv_cli_sub *c = g->subs; c->spec != NULL; c++) {
        const char *sub = strchr(c->spec->name, ' ');
        fprintf(f, "  %-10s %s\n", sub ? sub + 1 : c->spec->name, c->spec->summary);
    }
    fprintf(f, "\nhivewire %s <command> --help shows a command's options.\n", g->name);
}

int hv__opts_dispatch(const hv_cli_group *g, int argc, char **argv)
{
    if (argc < 2) {
        group_help(g, stderr);
        return HV_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        group_help(g, stdout);
        return HV_EXIT_OK;
    }
    for (const hv_cli_sub *c = g->subs; c->spec != NULL; c++) {
        const char *sub = strchr(c->spec->name, ' ');
        if (strcmp(sub ? sub + 1 : c->spec->name, argv[1]) == 0)
            return c->fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "hivewire %s: unknown command '%s'\n", g->name, argv[1]);
    group_help(g, stderr);
    return HV_EXIT_USAGE;
}

/* ---- Self-check ----------------------------------------------------------------------------- */

static int fits_field(const hv_opt *o, char *why, size_t cap)
{
    uint64_t scale = o->scale ? o->scale : 1;
    switch (o->kind) {
    case HV_OPT_U64:
        if (o->size != 4 && o->size != 8)
            break;
        if (o->umin > o->umax || o->umax > UINT64_MAX / scale ||
            (o->size == 4 && o->umax * scale > UINT32_MAX)) {
            snprintf(why, cap, "--%s: range or scale does not fit its field", o->name);
            return -1;
        }
        return 0;
    case HV_OPT_I64:
        if (o->size != 4 && o->size != 8)
            break;
        if (o->imin > o->imax || (o->size == 4 && (o->imin < INT32_MIN || o->imax > INT32_MAX))) {
            snprintf(why, cap, "--%s: range does not fit its field", o->name);
            return -1;
        }
        return 0;
    case HV_OPT_DOUBLE:
        if (o->size != sizeof(double))
            break;
        if (!isfinite(o->dmin) || !isfinite(o->dmax) || o->dmin > o->dmax) {
            snprintf(why, cap, "--%s: the range must be finite and ordered", o->name);
            return -1;
        }
        return 0;
    case HV_OPT_STRING:
        if (o->size != sizeof(const char *))
            break;
        return 0;
    case HV_OPT_ENUM:
        if (o->choices == NULL || o->choices[0].name == NULL) {
            snprintf(why, cap, "--%s: an enum without choices", o->name);
            return -1;
        }
        /* fallthrough */
    case HV_OPT_FLAG:
        if (o->size != sizeof(int))
            break;
        return 0;
    }
    snprintf(why, cap, "--%s: a field of %zu bytes does not fit its kind", o->name, o->size);
    return -1;
}

static int check_row(const hv_cli_spec *spec, const hv_opt *o, char *why, size_t cap)
{
    row_ref ref;
    if (o->help == NULL || o->name[0] == '\0' || o->name[0] == '-') {
        snprintf(why, cap, "a row without a name or help ('%s')", o->name);
        return -1;
    }
    if (find_row(spec, o->name, strlen(o->name), 0, &ref) && ref.o != o) {
        snprintf(why, cap, "--%s is declared twice", o->name);
        return -1;
    }
    if (o->short_name == 'h') {
        snprintf(why, cap, "--%s: -h is --help", o->name);
        return -1;
    }
    if (o->short_name && find_row(spec, NULL, 0, o->short_name, &ref) && ref.o != o) {
        snprintf(why, cap, "-%c is declared twice", o->short_name);
        return -1;
    }
    if (o->needs != NULL && hv__opts_find(spec, o->needs) == NULL) {
        snprintf(why, cap, "--%s needs --%s, which is not an option", o->name, o->needs);
        return -1;
    }
    if (o->apply != NULL)
        return 0;
    return fits_field(o, why, cap);
}

int hv__opts_check_spec(const hv_cli_spec *spec, char *why, size_t cap)
{
    unsigned s = 0;
    for (; spec->sections != NULL && spec->sections[s].opts != NULL; s++) {
        if (s >= HV_OPTS_SECTIONS_MAX) {
            snprintf(why, cap, "more than %d sections", HV_OPTS_SECTIONS_MAX);
            return -1;
        }
        unsigned r = 0;
        for (const hv_opt *o = spec->sections[s].opts; o->name != NULL; o++, r++) {
            if (r >= HV_OPTS_ROWS_MAX) {
                snprintf(why, cap, "section %u has more than %d rows", s, HV_OPTS_ROWS_MAX);
                return -1;
            }
            if (check_row(spec, o, why, cap) != 0)
                return -1;
        }
    }
    if (spec->operand == NULL ? spec->operands_max != 0
                              : spec->operands_min > spec->operands_max ||
                                    spec->operands_max > HV_OPTS_OPERANDS_MAX) {
        snprintf(why, cap, "operand counts out of order");
        return -1;
    }
    return 0;
}

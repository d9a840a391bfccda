/*
 * `hivewire var`: VaR and expected shortfall of a return series read from a file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <hivewire/market.h>
#include <hivewire/risk.h>

#include "cli/cli.h"

#define ISSUES_PRINTED_MAX 10

typedef struct var_args {
    const char *file;
    const char *column;
    double confidence;
    int method; /* hv_var_method, or -1 for all */
    int prices;
    int json;
    int strict;
    uint64_t sims;
    uint64_t seed;
} var_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire var --returns FILE [--confidence Q] [--method M] [--column NAME]\n"
            "                    [--prices] [--sims N] [--seed N] [--strict] [--json]\n\n"
            "Value at risk and expected shortfall of the returns in FILE, printed as positive\n"
            "loss fractions (0.031 = a loss of 3.1%%); a negative VaR means no loss at this\n"
            "confidence (the tail is a gain). Historical VaR needs n (1 - Q) >= 1: at least\n"
            "100 returns at 0.99.\n\n"
            "  --returns FILE    one number per line (a header line is optional), or a CSV file\n"
            "                    with a header; '-' reads standard input\n"
            "  --column NAME     the CSV column to read (needed when FILE has several)\n"
            "  --prices          the column holds prices: use their log returns\n"
            "  --confidence Q    confidence in (0, 1), default 0.99\n"
            "  --method M        historical (default), gaussian, cornish-fisher, montecarlo, all\n"
            "  --sims N          Monte Carlo draws, default 100000\n"
            "  --seed N          Monte Carlo seed, default 1\n"
            "  --strict          stop at the first malformed row instead of skipping it\n"
            "  --json            one JSON object on stdout\n\n"
            "example: hivewire var --returns data/sp500-2000.csv --column close --prices\n");
}

/* Parses the options. Returns 0, or an exit code. */
static int parse_args(int argc, char **argv, var_args *a)
{
    *a = (var_args){ .confidence = 0.99, .method = HV_VAR_HISTORICAL, .sims = 100000, .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(o, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(o, "--prices") == 0) {
            a->prices = 1;
        } else if (strcmp(o, "--strict") == 0) {
            a->strict = 1;
        } else if (v == NULL) {
            hv__cli_error("var", "unknown option or missing value: '%s'", o);
            return HV_EXIT_USAGE;
        } else if (strcmp(o, "--returns") == 0) {
            a->file = argv[++i];
        } else if (strcmp(o, "--column") == 0) {
            a->column = argv[++i];
        } else if (strcmp(o, "--confidence") == 0) {
            i++;
            if (hv__cli_parse_double(v, &a->confidence) != 0 ||
                !(a->confidence > 0 && a->confidence < 1)) {
                hv__cli_error("var", "--confidence takes a number in (0, 1), not '%s'", v);
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--method") == 0) {
            i++;
            hv_var_method m;
            if (strcmp(v, "all") == 0) {
                a->method = -1;
            } else if (hv_var_method_parse(v, &m) == 0) {
                a->method = (int)m;
            } else {
                hv__cli_error("var",
                              "unknown method '%s' (historical, gaussian, "
                              "cornish-fisher, montecarlo, all)",
                              v);
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--sims") == 0) {
            i++;
            if (hv__cli_parse_u64(v, &a->sims) != 0 || a->sims == 0 || a->sims > HV_VAR_SIMS_MAX) {
                hv__cli_error("var", "--sims takes a number from 1 to %u", HV_VAR_SIMS_MAX);
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(o, "--seed") == 0) {
            i++;
            if (hv__cli_parse_u64(v, &a->seed) != 0) {
                hv__cli_error("var", "--seed takes a non-negative integer");
                return HV_EXIT_USAGE;
            }
        } else {
            hv__cli_error("var", "unknown option '%s'", o);
            return HV_EXIT_USAGE;
        }
    }
    if (a->file == NULL) {
        hv__cli_error("var", "--returns FILE is required");
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    return 0;
}

typedef struct issue_log {
    unsigned printed;
    int fatal;
} issue_log;

static void print_issue(void *user, const char *file, const hv_csv_issue *is)
{
    issue_log *log = user;
    log->fatal |= is->fatal;
    if (!is->fatal && ++log->printed > ISSUES_PRINTED_MAX)
        return;
    char msg[256];
    hv_csv_issue_format(file, is, msg, sizeof(msg));
    fprintf(stderr, "hivewire var: %s%s\n", is->fatal ? "" : "skipped ", msg);
}

/* Loads the column (or the single column) of the file. Returns 0 or an exit code. */
static int load(const var_args *a, hv_column *col, hv_csv_report *rep)
{
    issue_log log = { 0, 0 };
    const char *name = strcmp(a->file, "-") == 0 ? "<stdin>" : a->file;
    hv_csv_opts o = {
        .size = sizeof(o), .file = name, .strict = a->strict, .on_issue = print_issue, .user = &log
    };
    int rv;
    if (strcmp(a->file, "-") == 0) {
        uint8_t *buf;
        size_t len;
        rv = hv__cli_read_all(stdin, HV_CSV_BYTES_MAX, &buf, &len);
        if (rv == 0) {
            rv = hv_csv_parse_column((const char *)buf, len, a->column, &o, col, rep);
            free(buf);
        }
    } else {
        rv = hv_csv_load_column(a->file, a->column, &o, col, rep);
    }
    if (log.printed > ISSUES_PRINTED_MAX)
        fprintf(stderr, "hivewire var: ... %u more malformed rows\n",
                log.printed - ISSUES_PRINTED_MAX);
    if (rv == HV_ENOTFOUND && !log.fatal)
        hv__cli_error("var", "%s: no such file", name);
    else if (rv != 0 && !log.fatal)
        hv__cli_error("var", "%s: %s", name, hv_strerror(rv));
    if (rv == HV_EPARSE && a->column == NULL)
        fprintf(stderr, "hivewire var: name the column with --column NAME\n");
    return rv == 0 ? 0 : HV_EXIT_FAIL;
}

static int to_returns(const var_args *a, hv_column *col)
{
    if (!a->prices)
        return 0;
    long n = hv_log_returns(col->v, col->len, col->v);
    if (n < 0) {
        hv__cli_error("var", "--prices: every price must be a finite number > 0");
        return HV_EXIT_FAIL;
    }
    col->len = (size_t)n;
    return 0;
}

static int run_method(const var_args *a, const hv_column *col, hv_var_method m, double *scratch,
                      size_t scratch_len, hv_var_es *out)
{
    hv_var_opts o = { .size = sizeof(o),
                      .method = m,
                      .confidence = a->confidence,
                      .mc_sims = (size_t)a->sims,
                      .mc_seed = a->seed };
    return hv_var_estimate(col->v, col->len, &o, scratch, scratch_len, out);
}

/* Why a method failed, in the user's terms. */
static void report_failure(const var_args *a, const hv_column *col, hv_var_method m, int rv)
{
    const char *name = hv_var_method_name(m);
    if (rv == HV_ETOOFEWOBS && m == HV_VAR_HISTORICAL && col->len > 0) {
        /* The tail beyond the q-quantile must hold one observation: n (1 - q) >= 1. */
        double need = ceil((1.0 - 1e-9) / (1.0 - a->confidence));
        hv__cli_error("var",
                      "historical over %zu returns: too few observations: at confidence %g "
                      "the tail needs n (1 - q) >= 1, i.e. at least %.0f returns",
                      col->len, a->confidence, need);
        return;
    }
    if (rv == HV_ETOOFEWOBS && m == HV_VAR_MONTECARLO && col->len >= HV_VAR_MIN_OBS_MC) {
        double need = ceil((1.0 - 1e-9) / (1.0 - a->confidence));
        hv__cli_error("var",
                      "montecarlo: too few draws: --sims %llu at confidence %g leaves no draw "
                      "in the tail; use --sims %.0f or more",
                      (unsigned long long)a->sims, a->confidence, need);
        return;
    }
    hv__cli_error("var", "%s over %zu returns: %s", name, col->len, hv_strerror(rv));
}

static void print_row(const var_args *a, const char *name, const hv_var_es *o)
{
    printf("%-16s %10g %12.6f %12.6f\n", name, a->confidence, o->var, o->es);
    if (o->var < 0)
        printf("%-16s no loss at this confidence: the tail is a gain (VaR < 0)\n", "");
}

static void print_text(const var_args *a, const hv_column *col, const hv_csv_report *rep)
{
    printf("%zu returns from %s%s%s%s", col->len, rep->file, a->column ? " (column " : "",
           a->column ? a->column : "", a->column ? ")" : "");
    printf("%s, %llu malformed rows skipped\n", a->prices ? ", log returns of prices" : "",
           (unsigned long long)rep->rows_bad);
    printf("%-16s %10s %12s %12s\n", "method", "confidence", "VaR", "ES");
}

int hv_cmd_var(int argc, char **argv);
int hv_cmd_var(int argc, char **argv)
{
    var_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? HV_EXIT_OK : rc;
    hv_column col;
    hv_column_init(&col);
    hv_csv_report rep;
    rc = load(&a, &col, &rep);
    if (rc == 0)
        rc = to_returns(&a, &col);
    size_t scratch_len = col.len > a.sims ? col.len : (size_t)a.sims;
    double *scratch = rc == 0 ? malloc((scratch_len ? scratch_len : 1) * sizeof(double)) : NULL;
    if (rc == 0 && scratch == NULL) {
        hv__cli_error("var", "%s", hv_strerror(HV_ENOMEM));
        rc = HV_EXIT_FAIL;
    }
    json_t *res = json_array();
    if (rc == 0 && !a.json)
        print_text(&a, &col, &rep);
    int first = a.method < 0 ? 0 : a.method, last = a.method < 0 ? 3 : a.method, failed = 0;
    for (int m = first; rc == 0 && m <= last; m++) {
        hv_var_es o;
        int rv = run_method(&a, &col, (hv_var_method)m, scratch, scratch_len, &o);
        const char *name = hv_var_method_name((hv_var_method)m);
        if (rv != 0) {
            /* Report the method's failure and go on with the others. */
            report_failure(&a, &col, (hv_var_method)m, rv);
            if (a.json)
                json_array_append_new(res, json_pack("{s:s,s:s,s:s}", "method", name, "error",
                                                     hv_err_name(rv), "message", hv_strerror(rv)));
            failed = 1;
            continue;
        }
        if (a.json)
            json_array_append_new(
                res, json_pack("{s:s,s:f,s:f}", "method", name, "var", o.var, "es", o.es));
        else
            print_row(&a, name, &o);
    }
    if (rc == 0 && a.json) {
        json_t *doc = json_pack("{s:s,s:s?,s:b,s:I,s:I,s:f,s:o}", "file", rep.file, "column",
                                a.column, "prices", a.prices, "observations", (json_int_t)col.len,
                                "bad_rows", (json_int_t)rep.rows_bad, "confidence", a.confidence,
                                "results", json_incref(res));
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        if (s != NULL)
            puts(s);
        free(s);
        json_decref(doc);
    }
    json_decref(res);
    free(scratch);
    hv_column_fini(&col);
    return rc == 0 && failed ? HV_EXIT_FAIL : rc;
}

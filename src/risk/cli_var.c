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
#include "cli/opts.h"
#include "cli/sim.h"

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

static const hv_opt_choice method_choices[] = {
    { "historical", HV_VAR_HISTORICAL, NULL },
    { "gaussian", HV_VAR_GAUSSIAN, NULL },
    { "cornish-fisher", HV_VAR_CORNISH_FISHER, NULL },
    { "montecarlo", HV_VAR_MONTECARLO, NULL },
    { "all", -1, NULL },
    { NULL, 0, NULL },
};

static const hv_opt var_rows[] = {
    { .name = "returns",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_REQUIRED | HV_OPT_PATH,
      HV_OPT_AT(var_args, file),
      .help = "one number per line (a header line is optional), or a CSV file with a header; "
              "'-' reads standard input" },
    { .name = "column",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(var_args, column),
      .metavar = "NAME",
      .help = "the CSV column to read (needed when FILE has several)" },
    { .name = "prices",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(var_args, prices),
      .help = "the column holds prices (each must be > 0): use their log returns" },
    { .name = "confidence",
      .kind = HV_OPT_DOUBLE,
      .flags = HV_OPT_MIN_OPEN | HV_OPT_MAX_OPEN,
      HV_OPT_AT(var_args, confidence),
      .dmax = 1,
      .metavar = "Q",
      .dflt = "0.99",
      .help = "confidence level" },
    { .name = "method",
      .kind = HV_OPT_ENUM,
      HV_OPT_AT(var_args, method),
      .choices = method_choices,
      .dflt = "historical",
      .help = "estimator, or all four" },
    { .name = "sims",
      .kind = HV_OPT_U64,
      HV_OPT_AT(var_args, sims),
      .umin = 1,
      .umax = HV_VAR_SIMS_MAX,
      .dflt = "100000",
      .help = "Monte Carlo draws" },
    { .name = "seed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(var_args, seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "Monte Carlo seed" },
    { .name = "strict",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(var_args, strict),
      .help = "stop at the first malformed row instead of skipping it" },
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(var_args, json),
      .help = "one JSON object on stdout" },
    { 0 },
};

static const hv_opt_section var_sections[] = { { NULL, var_rows, 0 }, { 0 } };

static const hv_cli_spec spec = {
    .name = "var",
    .synopsis = "--returns FILE [options]",
    .summary = "VaR and expected shortfall of a return series",
    .about = "Value at risk and expected shortfall of the returns in FILE, printed as positive\n"
             "loss fractions (0.031 = a loss of 3.1%); a negative VaR means no loss at this\n"
             "confidence (the tail is a gain). Historical VaR needs n (1 - Q) >= 1: at least\n"
             "100 returns at 0.99.\n",
    .sections = var_sections,
    .epilog = "example: hivewire var --returns data/sp500-2000.csv --column close --prices\n"
              "Exit status: 0 done, 1 bad data or a method that cannot estimate, 2 bad usage.\n",
};

/* Parses the options. Returns HV_OPTS_PROCEED or an exit code. */
static int parse_args(int argc, char **argv, var_args *a)
{
    *a = (var_args){ .confidence = 0.99, .method = HV_VAR_HISTORICAL, .sims = 100000, .seed = 1 };
    void *targets[] = { a };
    return hv__opts_parse(&spec, targets, argc, argv, NULL);
}

/* Loads the column (or the single column) of the file. Returns 0 or an exit code. */
static int load(const var_args *a, hv_column *col, hv_csv_report *rep)
{
    hv_cli_issue_log log = { .cmd = "var" };
    int is_stdin = strcmp(a->file, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : a->file;
    hv_csv_opts o = { .size = sizeof(o),
                      .file = name,
                      .strict = a->strict,
                      .positive = a->prices,
                      .on_issue = hv__cli_print_issue,
                      .user = &log };
    int rv = is_stdin ? hv_csv_read_column(stdin, a->column, &o, col, rep)
                      : hv_csv_load_column(a->file, a->column, &o, col, rep);
    hv__cli_issue_log_end(&log);
    if (rv == HV_ENOTFOUND && !log.fatal)
        hv__cli_error("var", "%s: no such file", name);
    else if (rv != 0 && !log.fatal)
        hv__cli_error("var", "%s: %s", name, hv_strerror(rv));
    if (rv == HV_EPARSE && a->column == NULL)
        fprintf(stderr, "hivewire var: name the column with --column NAME\n");
    if (rv == 0 && col->len == 0) {
        hv__cli_error("var", "%s: no values%s", name,
                      rep->rows_bad > 0 ? ": every data row is malformed (see above)"
                                        : " after the header");
        return HV_EXIT_FAIL;
    }
    return rv == 0 ? 0 : HV_EXIT_FAIL;
}

static int to_returns(const var_args *a, hv_column *col)
{
    if (!a->prices)
        return 0;
    int n = hv_log_returns(col->v, col->len, col->v);
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

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_var = &spec;

int hv_cmd_var(int argc, char **argv);
int hv_cmd_var(int argc, char **argv)
{
    var_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != HV_OPTS_PROCEED)
        return rc;
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

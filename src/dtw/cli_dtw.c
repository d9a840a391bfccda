/*
 * `hivewire dtw`: DTW search of query series against a file of patterns.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/dtw.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "dtw/dtw_int.h"

#define FILE_BYTES_MAX ((size_t)256 << 20)

typedef struct dtw_args {
    const char *query_path, *patterns_path;
    double band;
    uint32_t k;
    int all, znorm, json;
    uint32_t threads;
} dtw_args;

static const hv_opt dtw_rows[] = {
    { .name = "query",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_REQUIRED | HV_OPT_PATH,
      HV_OPT_AT(dtw_args, query_path),
      .help = "query series, one per line as comma-separated numbers" },
    { .name = "patterns",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_REQUIRED | HV_OPT_PATH,
      HV_OPT_AT(dtw_args, patterns_path),
      .help = "pattern series, one per line" },
    { .name = "band",
      .kind = HV_OPT_DOUBLE,
      HV_OPT_AT(dtw_args, band),
      .dmax = 1,
      .metavar = "F",
      .dflt = "0.1",
      .help = "Sakoe-Chiba band as a fraction of the length (1 = unconstrained DTW, 0 = "
              "squared Euclidean distance)" },
    { .name = "k",
      .kind = HV_OPT_U64,
      HV_OPT_AT(dtw_args, k),
      .umin = 1,
      .umax = HV_DTW_K_MAX,
      .dflt = "5",
      .help = "number of nearest patterns to report" },
    { .name = "all",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(dtw_args, all),
      .help = "print every pattern's distance instead (no pruning)" },
    { .name = "no-znorm",
      .kind = HV_OPT_FLAG,
      .flags = HV_OPT_STORE_ZERO,
      HV_OPT_AT(dtw_args, znorm),
      .help = "compare raw values (default: z-normalise every series)" },
    { .name = "threads",
      .kind = HV_OPT_U64,
      HV_OPT_AT(dtw_args, threads),
      .umin = 1,
      .umax = HV_DTW_THREADS_MAX,
      .dflt = "1",
      .help = "top-k search with N threads (the same answer)" },
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(dtw_args, json),
      .help = "one JSON object on stdout" },
    { 0 },
};

static const hv_opt_section dtw_sections[] = { { NULL, dtw_rows, 0 }, { 0 } };

static const hv_cli_spec spec = {
    .name = "dtw",
    .synopsis = "--query FILE --patterns FILE [options]",
    .summary = "DTW top-k search of query series against patterns",
    .about = "DTW nearest-neighbour search. Each file holds one series per line as\n"
             "comma-separated numbers; every series in both files must have the same length.\n"
             "For each query line, prints the k nearest patterns (index = 0-based line number\n"
             "in the patterns file) with their distances and how many candidates each pruning\n"
             "stage removed. A distance is the sum of squared differences along the best\n"
             "warping path.\n",
    .sections = dtw_sections,
    .epilog = "Exit status: 0 done, 1 bad input (located by file:line:column), 2 bad usage.\n",
};

static int parse_args(int argc, char **argv, dtw_args *a)
{
    *a = (dtw_args){ .band = 0.1, .k = 5, .znorm = 1, .threads = 1 };
    void *targets[] = { a };
    return hv__opts_parse(&spec, targets, argc, argv, NULL);
}

/* Reads and parses one series file, printing a located error on failure. */
static int load(const char *path, hv__dtw_series_file *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rv = hv__cli_read_file(path, FILE_BYTES_MAX, &buf, &len);
    if (rv != 0) {
        hv__cli_error("dtw", "%s: %s", path, hv_strerror(rv));
        return rv;
    }
    hv__dtw_parse_error err;
    rv = hv__dtw_parse_series((const char *)buf, len, f, &err);
    free(buf);
    if (rv != 0)
        hv__cli_error("dtw", "%s:%zu:%zu: %s", path, err.line, err.column, err.msg);
    return rv;
}

static size_t row_len(const hv__dtw_series_file *f, size_t row)
{
    return f->offsets[row + 1] - f->offsets[row];
}

/* All rows of f must have `len` values. */
static int check_lengths(const char *path, const hv__dtw_series_file *f, size_t len,
                         const char *what)
{
    for (size_t i = 0; i < f->rows; i++) {
        if (row_len(f, i) != len) {
            hv__cli_error("dtw",
                          "%s:%zu: series has %zu values but %s has %zu (all series "
                          "must have the same length)",
                          path, i + 1, row_len(f, i), what, len);
            return HV_EINVAL;
        }
    }
    if (len > HV_DTW_LEN_MAX) {
        hv__cli_error("dtw", "%s:1: series of %zu values exceeds the limit of %u", path, len,
                      HV_DTW_LEN_MAX);
        return HV_EINVAL;
    }
    return 0;
}

typedef struct run {
    dtw_args *a;
    hv_dtw_opts params;
    hv_dtw_set *set;
    hv_dtw_ws *ws;
    hv_dtw_pool *pool;
    hv_dtw_match *top;
    double *dist;
    json_t *jq; /* JSON array of query results, or NULL */
} run;

static json_t *stats_json(const hv_dtw_stats *s)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "candidates", (json_int_t)s->candidates,
                     "pruned_lb_kim", (json_int_t)s->pruned_kim, "pruned_lb_keogh_query_env",
                     (json_int_t)s->pruned_keogh_eq, "pruned_lb_keogh_candidate_env",
                     (json_int_t)s->pruned_keogh_ec, "dtw_abandoned", (json_int_t)s->abandoned_dtw,
                     "dtw_full", (json_int_t)s->full_dtw);
}

static void print_stats(const hv_dtw_stats *s)
{
    printf("  pruning: %llu candidates; LB_Kim %llu, LB_Keogh(query envelope) %llu, "
           "LB_Keogh(candidate envelope) %llu, DTW abandoned %llu, DTW computed %llu\n",
           (unsigned long long)s->candidates, (unsigned long long)s->pruned_kim,
           (unsigned long long)s->pruned_keogh_eq, (unsigned long long)s->pruned_keogh_ec,
           (unsigned long long)s->abandoned_dtw, (unsigned long long)s->full_dtw);
}

static int run_all(run *r, size_t qi, const double *q, size_t count)
{
    int rv = hv_dtw_distances(r->ws, r->set, count, q, r->dist);
    if (rv != 0)
        return rv;
    if (r->jq == NULL) {
        printf("query %zu (line %zu): distance to each of %zu patterns\n", qi, qi + 1, count);
        for (size_t i = 0; i < count; i++)
            printf("  %zu\t%.17g\n", i, r->dist[i]);
        return 0;
    }
    json_t *d = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(d, json_real(r->dist[i]));
    json_array_append_new(r->jq, json_pack("{s:I,s:o}", "query", (json_int_t)qi, "distances", d));
    return 0;
}

static int run_top(run *r, size_t qi, const double *q, size_t count)
{
    hv_dtw_stats st;
    hv_dtw_stats_reset(&st);
    int m = r->pool ? hv_dtw_pool_search(r->pool, r->set, count, q, r->a->k, r->top, &st)
                    : hv_dtw_search(r->ws, r->set, count, q, r->a->k, r->top, &st);
    if (m < 0)
        return m;
    if (r->jq == NULL) {
        printf("query %zu (line %zu): %d nearest of %zu patterns\n  rank\tpattern\tdistance\n", qi,
               qi + 1, m, count);
        for (int i = 0; i < m; i++)
            printf("  %d\t%zu\t%.17g\n", i + 1, r->top[i].index, r->top[i].distance);
        print_stats(&st);
        return 0;
    }
    json_t *t = json_array();
    for (int i = 0; i < m; i++)
        json_array_append_new(t, json_pack("{s:I,s:f}", "pattern", (json_int_t)r->top[i].index,
                                           "distance", r->top[i].distance));
    json_array_append_new(r->jq, json_pack("{s:I,s:o,s:o}", "query", (json_int_t)qi, "top", t,
                                           "pruning", stats_json(&st)));
    return 0;
}

static int setup(run *r, const hv__dtw_series_file *pf)
{
    size_t len = row_len(pf, 0);
    hv_dtw_opts_default(&r->params);
    r->params.len = len;
    r->params.band = r->a->band;
    r->params.znorm = r->a->znorm;
    int rv = hv_dtw_set_new(&r->params, pf->rows, &r->set);
    if (rv == 0)
        rv = hv_dtw_ws_new(&r->params, r->a->k, &r->ws);
    if (rv == 0 && r->a->threads > 1)
        rv = hv_dtw_pool_new(&r->params, r->a->threads, r->a->k, &r->pool);
    if (rv != 0)
        return rv;
    r->top = malloc(r->a->k * sizeof(hv_dtw_match));
    r->dist = malloc(pf->rows * sizeof(double));
    if (r->top == NULL || r->dist == NULL)
        return HV_ENOMEM;
    for (size_t i = 0; i < pf->rows; i++) {
        int idx = hv_dtw_set_add(r->set, pf->values + pf->offsets[i]);
        if (idx < 0) {
            hv__cli_error("dtw", "%s:%zu: pattern refused: %s", r->a->patterns_path, i + 1,
                          hv_strerror((int)idx));
            return (int)idx;
        }
    }
    return 0;
}

static void teardown(run *r)
{
    hv_dtw_pool_free(r->pool);
    hv_dtw_ws_free(r->ws);
    hv_dtw_set_free(r->set);
    free(r->top);
    free(r->dist);
    json_decref(r->jq);
}

static int search_all(run *r, const hv__dtw_series_file *qf, size_t count)
{
    for (size_t qi = 0; qi < qf->rows; qi++) {
        const double *q = qf->values + qf->offsets[qi];
        int rv = r->a->all ? run_all(r, qi, q, count) : run_top(r, qi, q, count);
        if (rv != 0)
            return rv;
    }
    return 0;
}

static int print_json(run *r, size_t count)
{
    json_t *o = json_pack("{s:I,s:f,s:I,s:b,s:I,s:O}", "length", (json_int_t)r->params.len, "band",
                          r->params.band, "window",
                          (json_int_t)hv_dtw_window(r->params.len, r->params.band), "znorm",
                          r->params.znorm, "patterns", (json_int_t)count, "queries", r->jq);
    if (o == NULL)
        return HV_ENOMEM;
    json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(o);
    return 0;
}

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_dtw = &spec;

int hv_cmd_dtw(int argc, char **argv);

int hv_cmd_dtw(int argc, char **argv)
{
    dtw_args a;
    int rv = parse_args(argc, argv, &a);
    if (rv != HV_OPTS_PROCEED)
        return rv;
    hv__dtw_series_file qf = { 0 }, pf = { 0 };
    run r = { .a = &a };
    int code = HV_EXIT_FAIL;
    if (load(a.query_path, &qf) != 0 || load(a.patterns_path, &pf) != 0)
        goto out;
    size_t len = row_len(&qf, 0);
    if (check_lengths(a.query_path, &qf, len, "the first query") != 0 ||
        check_lengths(a.patterns_path, &pf, len, "the query") != 0)
        goto out;
    rv = setup(&r, &pf);
    if (rv == 0 && a.json)
        r.jq = json_array();
    if (rv == 0)
        rv = search_all(&r, &qf, pf.rows);
    if (rv == 0 && a.json)
        rv = print_json(&r, pf.rows);
    if (rv != 0) {
        hv__cli_error("dtw", "%s", hv_strerror(rv));
        goto out;
    }
    if (!a.json)
        printf("length %zu, band %g (window %zu cells), %s; distance = sum of squared "
               "differences along the warping path\n",
               len, a.band, hv_dtw_window(len, a.band), a.znorm ? "z-normalised" : "raw values");
    code = HV_EXIT_OK;
out:
    teardown(&r);
    hv__dtw_series_file_fini(&qf);
    hv__dtw_series_file_fini(&pf);
    return code;
}

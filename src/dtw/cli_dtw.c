/*
 * `hivewire dtw`: DTW search of query series against a file of patterns.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/dtw.h>

#include "cli/cli.h"
#include "dtw/dtw_int.h"

#define FILE_BYTES_MAX ((size_t)256 << 20)

typedef struct dtw_args {
    const char *query_path, *patterns_path;
    double band;
    unsigned k;
    int all, znorm, json;
    unsigned threads;
} dtw_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire dtw --query FILE --patterns FILE [--band 0.1] [--k 5] [--all]\n"
            "                    [--no-znorm] [--threads N] [--json]\n\n"
            "DTW nearest-neighbour search. Each file holds one series per line as comma-separated\n"
            "numbers; every series in both files must have the same length. For each query\n"
            "line, prints the k nearest patterns (index = 0-based line number in the patterns\n"
            "file) with their distances and how many candidates each pruning stage removed.\n"
            "A distance is the sum of squared differences along the best warping path.\n\n"
            "  --query FILE     query series, one per line\n"
            "  --patterns FILE  pattern series, one per line\n"
            "  --band F         Sakoe-Chiba band as a fraction of the length, 0..1 (default 0.1;\n"
            "                   1 = unconstrained DTW, 0 = squared Euclidean distance)\n"
            "  --k N            number of nearest patterns to report, 1..%u (default 5)\n"
            "  --all            print every pattern's distance instead (no pruning)\n"
            "  --no-znorm       compare raw values (default: z-normalise every series)\n"
            "  --threads N      top-k search with N threads, 1..%u (default 1; same answer)\n"
            "  --json           one JSON object on stdout\n",
            HV_DTW_K_MAX, HV_DTW_THREADS_MAX);
}

static int parse_args(int argc, char **argv, dtw_args *a)
{
    *a = (dtw_args){ .band = 0.1, .k = 5, .znorm = 1, .threads = 1 };
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(o, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(o, "--all") == 0) {
            a->all = 1;
        } else if (strcmp(o, "--no-znorm") == 0) {
            a->znorm = 0;
        } else if (strcmp(o, "--query") == 0 && v) {
            a->query_path = argv[++i];
        } else if (strcmp(o, "--patterns") == 0 && v) {
            a->patterns_path = argv[++i];
        } else if (strcmp(o, "--band") == 0 && v) {
            if (hv__cli_parse_double(argv[++i], &a->band) != 0 || !(a->band >= 0) ||
                !(a->band <= 1)) {
                hv__cli_error("dtw", "--band takes a fraction from 0 to 1, got '%s'", v);
                return -1;
            }
        } else if (strcmp(o, "--k") == 0 && v) {
            if (hv__cli_parse_u64(argv[++i], &u) != 0 || u == 0 || u > HV_DTW_K_MAX) {
                hv__cli_error("dtw", "--k takes a number from 1 to %u, got '%s'", HV_DTW_K_MAX, v);
                return -1;
            }
            a->k = (unsigned)u;
        } else if (strcmp(o, "--threads") == 0 && v) {
            if (hv__cli_parse_u64(argv[++i], &u) != 0 || u == 0 || u > HV_DTW_THREADS_MAX) {
                hv__cli_error("dtw", "--threads takes a number from 1 to %u, got '%s'",
                              HV_DTW_THREADS_MAX, v);
                return -1;
            }
            a->threads = (unsigned)u;
        } else {
            hv__cli_error("dtw", "unknown option or missing value: '%s'", o);
            return -1;
        }
    }
    if (a->query_path == NULL || a->patterns_path == NULL) {
        hv__cli_error("dtw", "--query FILE and --patterns FILE are both required");
        return -1;
    }
    return 0;
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
    hv_dtw_params params;
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
    long m = r->pool ? hv_dtw_pool_search(r->pool, r->set, count, q, r->a->k, r->top, &st)
                     : hv_dtw_search(r->ws, r->set, count, q, r->a->k, r->top, &st);
    if (m < 0)
        return (int)m;
    if (r->jq == NULL) {
        printf("query %zu (line %zu): %ld nearest of %zu patterns\n  rank\tpattern\tdistance\n", qi,
               qi + 1, m, count);
        for (long i = 0; i < m; i++)
            printf("  %ld\t%zu\t%.17g\n", i + 1, r->top[i].index, r->top[i].distance);
        print_stats(&st);
        return 0;
    }
    json_t *t = json_array();
    for (long i = 0; i < m; i++)
        json_array_append_new(t, json_pack("{s:I,s:f}", "pattern", (json_int_t)r->top[i].index,
                                           "distance", r->top[i].distance));
    json_array_append_new(r->jq, json_pack("{s:I,s:o,s:o}", "query", (json_int_t)qi, "top", t,
                                           "pruning", stats_json(&st)));
    return 0;
}

static int setup(run *r, const hv__dtw_series_file *pf)
{
    size_t len = row_len(pf, 0);
    hv_dtw_params_default(&r->params, len);
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
        long idx = hv_dtw_set_add(r->set, pf->values + pf->offsets[i]);
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

int hv_cmd_dtw(int argc, char **argv);

int hv_cmd_dtw(int argc, char **argv)
{
    dtw_args a;
    int rv = parse_args(argc, argv, &a);
    if (rv != 0)
        return rv > 0 ? HV_EXIT_OK : HV_EXIT_USAGE;
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

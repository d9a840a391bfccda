/*
 * DTW internals shared by the dtw sources (not installed).
 */
#ifndef HV_DTW_DTW_INT_H
#define HV_DTW_DTW_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/dtw.h>

/*
 * Relative slack on every pruning decision. A candidate is pruned only if its computed bound
 * exceeds best_so_far * (1 + HV__DTW_PRUNE_SLACK). The computed bound and the computed DTW
 * are sums of at most 2n non-negative terms, each within a relative error of about n * 2^-53
 * of the exact value (n <= 65536 gives < 1e-11), so a candidate whose computed distance is at
 * most the best so far is never pruned by a rounding artefact.
 */
#define HV__DTW_PRUNE_SLACK 1e-9

/* Seeding visits the k + HV__DTW_SEED_EXTRA candidates with the smallest LB_Keogh first. */
#define HV__DTW_SEED_EXTRA 7u

/* DTWs that survive every bound are queued and computed this many at a time (AVX2 lanes). */
#define HV__DTW_LANES 4u

struct hv_dtw_set {
    hv_dtw_opts params;
    size_t r;        /* warping window in cells */
    size_t capacity; /* patterns */
    size_t count;
    uint64_t rejected;
    double *data;  /* capacity * len normalised patterns */
    double *upper; /* capacity * len envelopes */
    double *lower;
    size_t *scratch; /* 2 * len, for envelopes while adding */
};

/* The query side of a search: normalised query and its envelope (read-only while searching). */
typedef struct hv__dtw_query {
    const double *q;
    const double *upper;
    const double *lower;
    /* Pool searches only (else NULL): the smallest pruning threshold any shard has reached,
     * as the bits of a non-negative double (whose bit patterns order like the values), so
     * every shard prunes against the best threshold found so far. Safe: a shard's k-th best
     * is never below the global k-th best. */
    uint64_t *shared_thr;
} hv__dtw_query;

struct hv_dtw_ws {
    hv_dtw_opts params;
    size_t r;
    size_t k_max;
    int avx2;   /* resolved SIMD choice */
    double *q;  /* len: normalised query */
    double *qu; /* len: query envelope */
    double *ql;
    double *cb1;        /* len: LB_Keogh terms, query envelope */
    double *cb2;        /* len: LB_Keogh terms, candidate envelope */
    double *cb;         /* len + 1: suffix sums of the chosen terms, cb[len] = 0 */
    double *rows;       /* 2 * (len + 2): DTW rows */
    double *tmp;        /* len: log prices for the library */
    size_t *deque;      /* 2 * len: envelope scratch */
    hv_dtw_match *top;  /* k_max: current best, sorted by (distance, index) */
    hv_dtw_match *seed; /* k_max + SEED_EXTRA: seed candidates (distance = their LB_Keogh) */
    int seeding;        /* visit the k smallest-LB_Keogh candidates first */
    size_t pend[HV__DTW_LANES]; /* queued DTW candidates */
    unsigned npend;
    double *lane_cb;   /* LANES * (len + 1): suffix sums per queued candidate */
    double *lane_b;    /* LANES * len: queued candidates, interleaved */
    double *lane_rows; /* LANES * 2 * (len + 2): interleaved DTW rows */
    /* Optional (a library's workspace): the seeding pass's LB_Kim and LB_Keogh (query
     * envelope) per candidate, 2 * mem_cap doubles, so the cascade prunes a candidate that
     * they already rule out without computing them again. Partial sums of an abandoned bound
     * are kept: they are still lower bounds of the DTW. NULL = recompute. */
    double *mem;
    size_t mem_cap;
    const double *mem_kim, *mem_eq; /* set during one search over [mem_begin, ...) */
    size_t mem_begin;
};

/* Resolves a simd setting to "use AVX2" (1) or not (0). */
int hv__dtw_use_avx2(unsigned simd);

/* opts, or the defaults written into *dflt when opts is NULL. */
const hv_dtw_opts *hv__dtw_opts_or_default(const hv_dtw_opts *opts, hv_dtw_opts *dflt);

/* znorm with the resolved choice. */
int hv__dtw_znorm(const double *x, size_t n, double *out, int avx2);

/*
 * LB_Keogh of x against (u, l), abandoning once the partial sum exceeds thr (checked every 16
 * terms); writes each term to terms[i] (all n only if not abandoned). Returns the sum, or a
 * partial sum > thr when abandoned.
 */
double hv__dtw_lb_keogh(const double *x, const double *u, const double *l, size_t n, double thr,
                        double *terms, int avx2);

/* LB_Kim with early exit above thr. */
double hv__dtw_lb_kim(const double *q, const double *c, size_t n, size_t r, double thr);

/*
 * Banded DTW of a (rows) against b (columns). If cb is not NULL, abandons when a row's
 * minimum plus cb[i + r + 1] (cb has n + 1 entries, cb[n] = 0) exceeds thr and sets
 * *abandoned. rows: 2 * (n + 2) doubles.
 */
double hv__dtw_core(const double *a, const double *b, size_t n, size_t r, const double *cb,
                    double thr, double *rows, int *abandoned);

/*
 * hv__dtw_core for m <= HV__DTW_LANES candidates c[0..m) at once (c has HV__DTW_LANES valid
 * pointers; lanes >= m are ignored), each with its suffix sums at cb + l * (n + 1), all against
 * thr, in AVX2 lanes. d[l] and abandoned[l] equal what hv__dtw_core would give lane l, bit for
 * bit. b: LANES * n scratch, rows: LANES * 2 * (n + 2) scratch. Requires AVX2.
 */
void hv__dtw_core4(const double *q, const double *const *c, unsigned m, size_t n, size_t r,
                   const double *cb, double thr, double *b, double *rows, double *d,
                   int *abandoned);

/* Gives ws room to remember the seeding pass's bounds of up to cap patterns per range (2 cap
 * doubles), so the cascade does not recompute them. Returns 0 or HV_ENOMEM. */
int hv__dtw_ws_memo(hv_dtw_ws *ws, size_t cap);

/* Prepares ws->q / qu / ql from a raw query. Returns 0 or HV_EINVAL (non-finite value). */
int hv__dtw_ws_prepare(hv_dtw_ws *ws, const double *query);

/*
 * Runs the cascade over patterns [begin, end) of set, keeping the best k (k <= ws->k_max) in
 * ws->top, which already holds `held` matches of earlier ranges (0 for a fresh search).
 * Returns the number of matches held (<= k). Adds to st.
 */
size_t hv__dtw_search_range(hv_dtw_ws *ws, const hv__dtw_query *qc, const hv_dtw_set *set,
                            size_t begin, size_t end, size_t k, size_t held, hv_dtw_stats *st);

/* Orders matches by (distance, index). */
static inline int hv__dtw_match_less(double da, size_t ia, double db, size_t ib)
{
    return da < db || (da == db && ia < ib);
}

/* --- Series text parser (CLI input; fuzzed) --- */

typedef struct hv__dtw_series_file {
    double *values;  /* all values, row after row (malloc'd; caller frees via _fini) */
    size_t *offsets; /* rows + 1 offsets into values */
    size_t rows;
    size_t nvalues;
} hv__dtw_series_file;

typedef struct hv__dtw_parse_error {
    size_t line;   /* 1-based */
    size_t column; /* 1-based byte column */
    char msg[96];
} hv__dtw_parse_error;

#define HV__DTW_PARSE_ROWS_MAX   (1u << 20)
#define HV__DTW_PARSE_VALUES_MAX (1u << 26)

/*
 * Parses text holding one series per line, values separated by commas (spaces and tabs
 * around values ignored, CRLF accepted, a final newline optional). Empty lines, bad or
 * non-finite numbers, empty fields and too many rows/values are errors with line and column.
 * Returns 0, HV_EPARSE (err filled), HV_ETOOBIG (limits; err filled), HV_ENOMEM.
 */
int hv__dtw_parse_series(const char *buf, size_t len, hv__dtw_series_file *out,
                         hv__dtw_parse_error *err);
void hv__dtw_series_file_fini(hv__dtw_series_file *f);

#endif

/*
 * hivewire: dynamic time warping (DTW) pattern matching and the pattern library.
 *
 * Definitions (docs/DTW.md has the long form):
 *
 *   - Series are arrays of doubles of one length n per pattern set. With `znorm` on, every
 *     query and pattern is z-normalised (mean 0, population standard deviation 1) before use;
 *     a constant series normalises to all zeros.
 *   - The cell cost is the squared difference (a_i - b_j)^2. A reported distance is the sum
 *     of cell costs along the cheapest warping path: a sum of squares, never its square root.
 *   - The Sakoe-Chiba band is a fraction of n in [0, 1]; the warping window is
 *     r = floor(band * n) cells, clamped to n - 1 (band 0 is the squared Euclidean distance,
 *     band 1 is unconstrained DTW). See hv_dtw_window().
 *
 * Search is the UCR Suite cascade: LB_Kim (first/last points), LB_Keogh with the query's
 * envelope, LB_Keogh with the candidate's envelope, then DTW that abandons as soon as its
 * partial cost plus the remaining LB_Keogh terms exceed the k-th best distance so far. The
 * pruning is exact: a search returns the same matches, bit for bit, as computing every
 * distance (ties broken by the lower pattern index).
 *
 * Objects:
 *   hv_dtw_set      K stored patterns of one length, normalised, with precomputed envelopes.
 *                   Built by one thread; after that read-only and shareable by any number of
 *                   threads that search it concurrently (as long as nobody adds to it).
 *   hv_dtw_ws       a search workspace: every buffer a query needs, sized at creation, so a
 *                   search allocates nothing. One thread at a time per workspace.
 *   hv_dtw_pool     a multi-threaded batch searcher: worker threads, each with its own
 *                   workspace, created once; results identical to a single-threaded search.
 *   hv_dtw_library  a set built from a price series, each pattern labelled with its forward
 *                   return; predictions by the top-k neighbours without look-ahead.
 */
#ifndef HIVEWIRE_DTW_H
#define HIVEWIRE_DTW_H

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest series, largest k, most pool threads and largest pattern set we accept. */
#define HV_DTW_LEN_MAX     65536u
#define HV_DTW_K_MAX       1024u
#define HV_DTW_THREADS_MAX 64u
#define HV_DTW_SET_MAX     (1u << 24)

/* SIMD choice for a workspace or pool. Results are identical either way (a tested property);
 * only speed differs. */
enum hv_dtw_simd {
    HV_DTW_SIMD_AUTO = 0,  /* AVX2 when the CPU has it (checked at run time), else scalar */
    HV_DTW_SIMD_SCALAR = 1 /* always the portable scalar code */
};

/* Options shared by a pattern set and the workspaces that search it. */
typedef struct hv_dtw_opts {
    size_t size;   /* sizeof(hv_dtw_opts): lets the struct grow */
    size_t len;    /* series length n, 1 .. HV_DTW_LEN_MAX */
    double band;   /* Sakoe-Chiba band as a fraction of len, 0 .. 1 */
    int znorm;     /* nonzero: z-normalise queries and patterns */
    unsigned simd; /* enum hv_dtw_simd, for workspaces and pools */
} hv_dtw_opts;

/* Fills o with defaults: len 64, band 0.1, znorm on, SIMD auto. */
HV_EXTERN void hv_dtw_opts_default(hv_dtw_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why (size,
 * len outside 1 .. HV_DTW_LEN_MAX, band outside [0, 1], an unknown simd). Pure; any thread. */
HV_EXTERN int hv_dtw_opts_check(const hv_dtw_opts *o, hv_field_error *err);

/* One match: a pattern index and its DTW distance. */
typedef struct hv_dtw_match {
    size_t index;    /* pattern index in the set */
    double distance; /* sum of squared differences along the best warping path */
} hv_dtw_match;

/* Counts of what the cascade did, per candidate. Every candidate lands in exactly one of the
 * last five fields: candidates = pruned_kim + pruned_keogh_eq + pruned_keogh_ec +
 * abandoned_dtw + full_dtw. Accumulates: callers zero it (hv_dtw_stats_reset) when they want
 * per-query figures. */
typedef struct hv_dtw_stats {
    uint64_t queries;         /* searches run */
    uint64_t candidates;      /* patterns considered */
    uint64_t pruned_kim;      /* rejected by LB_Kim */
    uint64_t pruned_keogh_eq; /* rejected by LB_Keogh with the query's envelope */
    uint64_t pruned_keogh_ec; /* rejected by LB_Keogh with the candidate's envelope */
    uint64_t abandoned_dtw;   /* DTW started and abandoned early */
    uint64_t full_dtw;        /* DTW computed to the end */
} hv_dtw_stats;

HV_EXTERN void hv_dtw_stats_reset(hv_dtw_stats *s);
/* dst += src, field by field. */
HV_EXTERN void hv_dtw_stats_add(hv_dtw_stats *dst, const hv_dtw_stats *src);

/* --- Building blocks (pure functions; any thread) ------------------------------------------ */

/* The warping window r in cells for a series of length len and a band fraction:
 * floor(band * len) clamped to len - 1 (0 for len 0). band must be in [0, 1] (not checked). */
HV_EXTERN size_t hv_dtw_window(size_t len, double band);

/* True if this process uses AVX2 for HV_DTW_SIMD_AUTO. */
HV_EXTERN int hv_dtw_simd_available(void);

/*
 * Z-normalises x[0..n) into out (may equal x): (x - mean) / sd with the population standard
 * deviation. A series whose sd is 0 or below 1e-9 * |mean| (constant up to rounding) becomes
 * all zeros. Values so large that the sums overflow are first divided by the largest
 * magnitude. Returns 0, or HV_EINVAL for n == 0 or a non-finite value in x (out is then
 * unspecified). The result does not depend on `simd`.
 */
HV_EXTERN int hv_dtw_znorm(const double *x, size_t n, double *out, unsigned simd);

/*
 * The Keogh envelope of x for window r: upper[i] = max x[i-r .. i+r], lower[i] = min, clipped
 * to the series. Lemire's streaming min/max, O(n). scratch holds 2 * n size_t values.
 */
HV_EXTERN void hv_dtw_envelope(const double *x, size_t n, size_t r, double *upper, double *lower,
                               size_t *scratch);

/*
 * LB_Kim for z-normalised data: the cost of the first and last cells, plus (n >= 4, n >= 6)
 * the cheapest in-band cell of the next one and two layers at each end. O(1); a lower bound
 * of hv_dtw_distance(q, c, n, r).
 */
HV_EXTERN double hv_dtw_lb_kim(const double *q, const double *c, size_t n, size_t r);

/*
 * LB_Keogh of x against an envelope (upper, lower) of the other series for the same r:
 * sum over i of (x_i - upper_i)^2 where x_i > upper_i, (x_i - lower_i)^2 where x_i < lower_i.
 * A lower bound of the DTW distance. Summed in four interleaved lanes (docs/DTW.md), so the
 * scalar and AVX2 paths give bit-identical results.
 */
HV_EXTERN double hv_dtw_lb_keogh(const double *x, const double *upper, const double *lower,
                                 size_t n, unsigned simd);

/*
 * The banded DTW distance of a and b (both of length n) with window r, computed exactly (no
 * bounds, no abandoning). rows holds 2 * (n + 2) doubles of scratch. O(n * (2r + 1)).
 * Returns the distance; n == 0 gives 0.
 */
HV_EXTERN double hv_dtw_distance(const double *a, const double *b, size_t n, size_t r,
                                 double *rows);

/* --- Pattern sets ------------------------------------------------------------------------- */

typedef struct hv_dtw_set hv_dtw_set;

/*
 * Creates an empty set for up to `capacity` patterns (1 .. HV_DTW_SET_MAX) with the given
 * options (NULL: the defaults); all memory (capacity * len * 3 doubles) is allocated here.
 * Returns 0, HV_EINVAL (NULL out, capacity out of range, or opts refused by
 * hv_dtw_opts_check(), which names the field), HV_ENOMEM. On success the caller owns *out and
 * frees it with hv_dtw_set_free(); on failure *out is NULL.
 */
HV_EXTERN int hv_dtw_set_new(const hv_dtw_opts *opts, size_t capacity, hv_dtw_set **out);
HV_EXTERN void hv_dtw_set_free(hv_dtw_set *s);

/*
 * Appends a copy of series x (opts.len values), normalised if the set z-normalises, and its
 * envelope. Returns the new pattern's index (>= 0), HV_EFULL when the set holds `capacity`
 * patterns (the pattern is not added; see hv_dtw_set_rejected), or HV_EINVAL for a non-finite
 * value. Not thread-safe: no search may run on the set meanwhile.
 */
HV_EXTERN int hv_dtw_set_add(hv_dtw_set *s, const double *x);

HV_EXTERN size_t hv_dtw_set_count(const hv_dtw_set *s);
HV_EXTERN size_t hv_dtw_set_capacity(const hv_dtw_set *s);
/* Adds refused with HV_EFULL since creation. */
HV_EXTERN uint64_t hv_dtw_set_rejected(const hv_dtw_set *s);
HV_EXTERN const hv_dtw_opts *hv_dtw_set_opts(const hv_dtw_set *s);
/* The stored (normalised) pattern i, or NULL if i >= count. Valid until the set is freed. */
HV_EXTERN const double *hv_dtw_set_pattern(const hv_dtw_set *s, size_t i);

/* --- Workspaces and search ---------------------------------------------------------------- */

typedef struct hv_dtw_ws hv_dtw_ws;

/*
 * Creates a workspace for queries of opts->len values (NULL: the defaults) and k up to k_max
 * (1 .. HV_DTW_K_MAX). Returns 0, HV_EINVAL (as hv_dtw_set_new, or k_max out of range),
 * HV_ENOMEM. Owned by the caller; free with hv_dtw_ws_free().
 */
HV_EXTERN int hv_dtw_ws_new(const hv_dtw_opts *opts, size_t k_max, hv_dtw_ws **out);
HV_EXTERN void hv_dtw_ws_free(hv_dtw_ws *ws);

/*
 * Top-k search of `query` (len values, raw: it is normalised here if the set z-normalises)
 * among the first `count` patterns of the set (count <= hv_dtw_set_count; a prefix, so a
 * caller can exclude later patterns). Writes min(k, count) matches to out, sorted by distance
 * then index, and returns that number. stats (may be NULL) is added to, not reset.
 * Allocates nothing. The workspace's len and window must match the set's.
 * Returns >= 0, HV_EINVAL (k == 0 or > k_max, count too big, mismatched set, non-finite
 * query value). Thread-safety: one thread per workspace; many workspaces may search one set.
 */
HV_EXTERN int hv_dtw_search(hv_dtw_ws *ws, const hv_dtw_set *set, size_t count, const double *query,
                            size_t k, hv_dtw_match *out, hv_dtw_stats *stats);

/*
 * The exact distance from `query` to each of the first `count` patterns, in index order,
 * into dist[0..count). No pruning (every DTW runs to the end). Returns 0 or HV_EINVAL.
 */
HV_EXTERN int hv_dtw_distances(hv_dtw_ws *ws, const hv_dtw_set *set, size_t count,
                               const double *query, double *dist);

/* --- Multi-threaded batch ----------------------------------------------------------------- */

typedef struct hv_dtw_pool hv_dtw_pool;

/*
 * Creates a pool of `threads` searchers (1 .. HV_DTW_THREADS_MAX): threads - 1 worker threads
 * plus the calling thread, each with its own workspace. Returns 0, HV_EINVAL, HV_ENOMEM, or
 * an HV_E* code from pthread_create. Free with hv_dtw_pool_free() (joins the workers).
 */
HV_EXTERN int hv_dtw_pool_new(const hv_dtw_opts *opts, size_t threads, size_t k_max,
                              hv_dtw_pool **out);
HV_EXTERN void hv_dtw_pool_free(hv_dtw_pool *p);

/*
 * Same contract and result as hv_dtw_search(), with the patterns cut into chunks of
 * contiguous indices that the calling thread and the workers claim one at a time (a worker
 * that wakes late finds nothing left, so the call is never much slower than one thread); the
 * per-thread results are merged by (distance, index), so the matches are identical to a
 * single-threaded search. The stats differ and depend on thread timing (the threads share
 * their pruning threshold). Allocates nothing. One caller at a time per pool.
 */
HV_EXTERN int hv_dtw_pool_search(hv_dtw_pool *p, const hv_dtw_set *set, size_t count,
                                 const double *query, size_t k, hv_dtw_match *out,
                                 hv_dtw_stats *stats);

/* --- Pattern library ----------------------------------------------------------------------
 * Ownership and threads as for hv_dtw_set: one thread adds (hv_dtw_library_add/build); once
 * built, any number of threads may call hv_dtw_library_predict concurrently, each with its
 * own workspace from hv_dtw_library_ws_new. Adding while predictions run is not allowed.
 */

typedef struct hv_dtw_library hv_dtw_library;

typedef struct hv_dtw_library_opts {
    size_t size;     /* sizeof(hv_dtw_library_opts) */
    size_t len;      /* window length in bars, 2 .. HV_DTW_LEN_MAX */
    double band;     /* Sakoe-Chiba band fraction, 0 .. 1 */
    size_t horizon;  /* label horizon in bars, >= 1 */
    size_t capacity; /* most patterns kept, 1 .. HV_DTW_SET_MAX */
    unsigned simd;   /* enum hv_dtw_simd */
} hv_dtw_library_opts;

/* Defaults: len 64, band 0.1, horizon 5, capacity 4096, SIMD auto. */
HV_EXTERN void hv_dtw_library_opts_default(hv_dtw_library_opts *o);

/* Checks o: 0, or HV_EINVAL with *err (may be NULL) naming the first bad field and why. */
HV_EXTERN int hv_dtw_library_opts_check(const hv_dtw_library_opts *o, hv_field_error *err);

/* A prediction from the k nearest eligible patterns. */
typedef struct hv_dtw_prediction {
    double expected_return; /* distance-weighted mean of the neighbours' forward log returns */
    double agreement;       /* weighted share of neighbours whose label has the sign of the
                               prediction, 0 .. 1 */
    double distance_min;    /* distance of the nearest neighbour */
    size_t neighbours;      /* neighbours used: min(k, eligible patterns) */
    size_t eligible;        /* patterns whose label was known at the query time */
} hv_dtw_prediction;

/* Creates an empty library (o NULL: the defaults). Returns 0, HV_EINVAL (NULL out, or o
 * refused by hv_dtw_library_opts_check(), which names the field), HV_ENOMEM; free with
 * hv_dtw_library_free. On failure *out is NULL. */
HV_EXTERN int hv_dtw_library_new(const hv_dtw_library_opts *o, hv_dtw_library **out);
HV_EXTERN void hv_dtw_library_free(hv_dtw_library *lib);

/*
 * Adds the window of prices ending at bar `end` (prices[end - len + 1 .. end]), stored as
 * z-normalised log prices, labelled with its forward log return log(prices[end + horizon] /
 * prices[end]). Its label becomes known at bar end + horizon. Windows must be added in
 * increasing `end` order. Returns the pattern index, HV_EINVAL (end < len - 1, end + horizon
 * >= count, end not after the previous one), HV_ERANGE (a price <= 0 or not finite),
 * HV_EFULL (capacity reached; counted in hv_dtw_set_rejected of the library's set).
 */
HV_EXTERN int hv_dtw_library_add(hv_dtw_library *lib, const double *prices, size_t count,
                                 size_t end);

/*
 * Adds every window ending at len - 1 + i * stride whose label is known within the series,
 * until the library is full. Returns the number added (>= 0) or an error of
 * hv_dtw_library_add other than HV_EFULL.
 */
HV_EXTERN int hv_dtw_library_build(hv_dtw_library *lib, const double *prices, size_t count,
                                   size_t stride);

/* Patterns usable for a query at bar t: those whose label horizon ends at or before t. */
HV_EXTERN size_t hv_dtw_library_eligible(const hv_dtw_library *lib, size_t t);

/*
 * Predicts the forward return after bar t from the window prices[t - len + 1 .. t], using
 * only eligible patterns (no look-ahead). Neighbour i with distance d_i gets weight
 * d_min / d_i; if the nearest distance is 0, only the zero-distance neighbours count, equally.
 * ws must come from hv_dtw_library_ws_new. Allocates nothing.
 * Returns 0, HV_EINVAL (t < len - 1, t >= count, k out of range), HV_ERANGE (bad price),
 * HV_ETOOFEWOBS (no eligible pattern). stats may be NULL.
 */
HV_EXTERN int hv_dtw_library_predict(const hv_dtw_library *lib, hv_dtw_ws *ws, const double *prices,
                                     size_t count, size_t t, size_t k, hv_dtw_prediction *out,
                                     hv_dtw_stats *stats);

/*
 * The same two calls on a window the caller already holds, for a caller that keeps only the
 * last bars of a long series (a sliding buffer) instead of all of them. add_window: `window`
 * is the len prices ending at bar `end`, `future` the price at end + horizon; same returns as
 * hv_dtw_library_add. predict_window: `window` is the len prices ending at bar t; same returns
 * as hv_dtw_library_predict. Bar numbers are absolute: they decide which patterns are
 * eligible, exactly as in the calls above, so both give identical results.
 */
HV_EXTERN int hv_dtw_library_add_window(hv_dtw_library *lib, const double *window, double future,
                                        size_t end);
HV_EXTERN int hv_dtw_library_predict_window(const hv_dtw_library *lib, hv_dtw_ws *ws,
                                            const double *window, size_t t, size_t k,
                                            hv_dtw_prediction *out, hv_dtw_stats *stats);

/* A workspace fitting the library (one per thread). Same contract as hv_dtw_ws_new. */
HV_EXTERN int hv_dtw_library_ws_new(const hv_dtw_library *lib, size_t k_max, hv_dtw_ws **out);

HV_EXTERN const hv_dtw_set *hv_dtw_library_set(const hv_dtw_library *lib);
/* Label (forward log return) and end bar of pattern i; i < count (not checked). */
HV_EXTERN double hv_dtw_library_label(const hv_dtw_library *lib, size_t i);
HV_EXTERN size_t hv_dtw_library_end(const hv_dtw_library *lib, size_t i);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_DTW_H */

/*
 * The pattern library: historical windows of a price series (z-normalised log prices), each
 * labelled with its forward log return over a horizon, stored in time order so that the
 * patterns usable at bar t (label known by t) are always a prefix of the set.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/field.h"
#include "dtw/dtw_int.h"

#define WS_MEM_MAX ((size_t)65536)

struct hv_dtw_library {
    hv_dtw_library_opts opts;
    hv_dtw_set *set;
    double *label; /* capacity: forward log return */
    size_t *end;   /* capacity: last bar of the window */
    double *logs;  /* len: scratch for the window being added */
};

void hv_dtw_library_opts_default(hv_dtw_library_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->len = 64;
    o->band = 0.1;
    o->horizon = 5;
    o->capacity = 4096;
    o->simd = HV_DTW_SIMD_AUTO;
}

static void set_params(const hv_dtw_library_opts *o, hv_dtw_opts *p)
{
    hv_dtw_opts_default(p);
    p->len = o->len;
    p->band = o->band;
    p->znorm = 1;
    p->simd = o->simd;
}

int hv_dtw_library_opts_check(const hv_dtw_library_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_dtw_library_opts)");
    if (o->len < 2 || o->len > HV_DTW_LEN_MAX)
        return hv__field_fail(err, "len", "must be in [2, 65536]");
    if (!(o->band >= 0 && o->band <= 1))
        return hv__field_fail(err, "band", "must be a number in [0, 1]");
    if (o->horizon == 0 || o->horizon > ((size_t)1 << 40))
        return hv__field_fail(err, "horizon", "must be in [1, 2^40]");
    if (o->capacity == 0 || o->capacity > HV_DTW_SET_MAX)
        return hv__field_fail(err, "capacity", "must be in [1, 2^24]");
    if (o->simd != HV_DTW_SIMD_AUTO && o->simd != HV_DTW_SIMD_SCALAR)
        return hv__field_fail(err, "simd", "must be an enum hv_dtw_simd value");
    return 0;
}

int hv_dtw_library_new(const hv_dtw_library_opts *opts, hv_dtw_library **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_dtw_library_opts dflt;
    const hv_dtw_library_opts *o = opts;
    if (o == NULL) {
        hv_dtw_library_opts_default(&dflt);
        o = &dflt;
    }
    if (hv_dtw_library_opts_check(o, NULL) != 0)
        return HV_EINVAL;
    hv_dtw_opts p;
    set_params(o, &p);
    hv_dtw_library *lib = calloc(1, sizeof(*lib));
    if (lib == NULL)
        return HV_ENOMEM;
    lib->opts = *o;
    lib->opts.size = sizeof(lib->opts);
    int rv = hv_dtw_set_new(&p, o->capacity, &lib->set);
    lib->label = malloc(o->capacity * sizeof(double));
    lib->end = malloc(o->capacity * sizeof(size_t));
    lib->logs = malloc(o->len * sizeof(double));
    if (rv == 0 && (lib->label == NULL || lib->end == NULL || lib->logs == NULL))
        rv = HV_ENOMEM;
    if (rv != 0) {
        hv_dtw_library_free(lib);
        return rv;
    }
    *out = lib;
    return 0;
}

void hv_dtw_library_free(hv_dtw_library *lib)
{
    if (lib == NULL)
        return;
    hv_dtw_set_free(lib->set);
    free(lib->label);
    free(lib->end);
    free(lib->logs);
    free(lib);
}

/* log of prices[end - len + 1 .. end] into out; HV_ERANGE for a price <= 0 or not finite. */
static int window_logs(const double *prices, size_t end, size_t len, double *out)
{
    const double *w = prices + (end + 1 - len);
    for (size_t i = 0; i < len; i++) {
        if (!(w[i] > 0) || !isfinite(w[i]))
            return HV_ERANGE;
        out[i] = log(w[i]);
    }
    return 0;
}

int hv_dtw_library_add(hv_dtw_library *lib, const double *prices, size_t count, size_t end)
{
    size_t len = lib->opts.len, h = lib->opts.horizon;
    if (end + 1 < len || end >= count || count - end <= h)
        return HV_EINVAL;
    return hv_dtw_library_add_window(lib, prices + (end + 1 - len), prices[end + h], end);
}

int hv_dtw_library_add_window(hv_dtw_library *lib, const double *window, double future, size_t end)
{
    size_t len = lib->opts.len, n = lib->set->count;
    if (end + 1 < len || end > SIZE_MAX - lib->opts.horizon)
        return HV_EINVAL;
    if (n > 0 && end <= lib->end[n - 1])
        return HV_EINVAL;
    if (n == lib->set->capacity) {
        lib->set->rejected++;
        return HV_EFULL;
    }
    if (!(future > 0) || !isfinite(future))
        return HV_ERANGE;
    int rv = window_logs(window, len - 1, len, lib->logs);
    if (rv != 0)
        return rv;
    int idx = hv_dtw_set_add(lib->set, lib->logs);
    if (idx < 0)
        return idx;
    lib->label[idx] = log(future) - lib->logs[len - 1];
    lib->end[idx] = end;
    return idx;
}

int hv_dtw_library_build(hv_dtw_library *lib, const double *prices, size_t count, size_t stride)
{
    size_t len = lib->opts.len, h = lib->opts.horizon;
    if (stride == 0)
        return HV_EINVAL;
    int added = 0;
    for (size_t end = len - 1; end < count && count - end > h; end += stride) {
        if (lib->set->count > 0 && end <= lib->end[lib->set->count - 1])
            continue;
        int rv = hv_dtw_library_add(lib, prices, count, end);
        if (rv == HV_EFULL)
            break;
        if (rv < 0)
            return rv;
        added++;
    }
    return added;
}

size_t hv_dtw_library_eligible(const hv_dtw_library *lib, size_t t)
{
    /* end[] increases, so "end + horizon <= t" holds on a prefix: binary search its length. */
    size_t lo = 0, hi = lib->set->count, h = lib->opts.horizon;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lib->end[mid] + h <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int hv_dtw_library_ws_new(const hv_dtw_library *lib, size_t k_max, hv_dtw_ws **out)
{
    int rv = hv_dtw_ws_new(&lib->set->params, k_max, out);
    if (rv != 0)
        return rv;
    /* Room for the seeding pass's bounds of every pattern the library can hold, up to
     * WS_MEM_MAX patterns (1 MiB); searches over more recompute the bounds. */
    rv = hv__dtw_ws_memo(*out, lib->set->capacity < WS_MEM_MAX ? lib->set->capacity : WS_MEM_MAX);
    if (rv != 0) {
        hv_dtw_ws_free(*out);
        *out = NULL;
    }
    return rv;
}

/* The weighted prediction from sorted matches (m >= 1). */
static void weigh(const hv_dtw_library *lib, const hv_dtw_match *mt, size_t m,
                  hv_dtw_prediction *out)
{
    double dmin = mt[0].distance, wsum = 0, ysum = 0;
    for (size_t i = 0; i < m; i++) {
        double w = dmin == 0 ? (mt[i].distance == 0 ? 1.0 : 0.0) : dmin / mt[i].distance;
        wsum += w;
        ysum += w * lib->label[mt[i].index];
    }
    double pred = ysum / wsum;
    double agree = 0;
    for (size_t i = 0; i < m; i++) {
        double w = dmin == 0 ? (mt[i].distance == 0 ? 1.0 : 0.0) : dmin / mt[i].distance;
        double y = lib->label[mt[i].index];
        int same = (y > 0 && pred > 0) || (y < 0 && pred < 0) || (y == 0 && pred == 0);
        agree += same ? w : 0;
    }
    out->expected_return = pred;
    out->agreement = agree / wsum;
    out->distance_min = dmin;
    out->neighbours = m;
}

int hv_dtw_library_predict(const hv_dtw_library *lib, hv_dtw_ws *ws, const double *prices,
                           size_t count, size_t t, size_t k, hv_dtw_prediction *out,
                           hv_dtw_stats *stats)
{
    size_t len = lib->opts.len;
    if (t + 1 < len || t >= count)
        return HV_EINVAL;
    return hv_dtw_library_predict_window(lib, ws, prices + (t + 1 - len), t, k, out, stats);
}

int hv_dtw_library_predict_window(const hv_dtw_library *lib, hv_dtw_ws *ws, const double *window,
                                  size_t t, size_t k, hv_dtw_prediction *out, hv_dtw_stats *stats)
{
    size_t len = lib->opts.len;
    if (t + 1 < len || k == 0 || k > ws->k_max || ws->params.len != len)
        return HV_EINVAL;
    int rv = window_logs(window, len - 1, len, ws->tmp);
    if (rv != 0)
        return rv;
    memset(out, 0, sizeof(*out));
    out->eligible = hv_dtw_library_eligible(lib, t);
    if (out->eligible == 0)
        return HV_ETOOFEWOBS;
    if (ws->r != lib->set->r || !ws->params.znorm)
        return HV_EINVAL;
    rv = hv__dtw_ws_prepare(ws, ws->tmp);
    if (rv != 0)
        return rv;
    hv_dtw_stats local;
    hv_dtw_stats_reset(&local);
    local.queries = 1;
    hv__dtw_query qc = { ws->q, ws->qu, ws->ql, NULL };
    size_t m = hv__dtw_search_range(ws, &qc, lib->set, 0, out->eligible, k, 0, &local);
    if (stats != NULL)
        hv_dtw_stats_add(stats, &local);
    weigh(lib, ws->top, m, out);
    return 0;
}

const hv_dtw_set *hv_dtw_library_set(const hv_dtw_library *lib)
{
    return lib->set;
}

double hv_dtw_library_label(const hv_dtw_library *lib, size_t i)
{
    return lib->label[i];
}

size_t hv_dtw_library_end(const hv_dtw_library *lib, size_t i)
{
    return lib->end[i];
}

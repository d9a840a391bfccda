/* The snapshot's pure helpers: histogram digests, thinned series, alert names. */
#include <assert.h>
#include <math.h>

#include "obs/snap.h"

/* 10 us .. 10 s in 1-2.5-5 steps: a cycle takes about 100 us here, a stalled one seconds. */
const double hv__obs_lat_bounds[HV_OBS_LAT_BUCKETS] = {
    1e-5,   2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
    2.5e-2, 5e-2,   0.1,  0.25, 0.5,    1,    2.5,  5,      10,
};

/* 1 us .. 1e6 s by decades: CPU times of microseconds, simulated latencies of a day. */
const double hv__obs_ext_bounds[HV_OBS_EXT_BUCKETS] = {
    1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6,
};

static uint64_t rank_of(double q, uint64_t total)
{
    double want = q * (double)total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    return rank == 0 ? 1 : rank;
}

static uint64_t clamp(const hv_hist *h, uint64_t v)
{
    if (v > h->max)
        v = h->max;
    if (v < h->min)
        v = h->min;
    return v;
}

void hv__obs_hist_digest(const hv_hist *h, const double *bounds_s, uint32_t nbounds,
                         hv_obs_hist *out)
{
    assert(nbounds <= HV_OBS_BUCKETS_MAX);
    uint64_t bound_ns[HV_OBS_BUCKETS_MAX];
    for (uint32_t b = 0; b < nbounds; b++) {
        out->cum[b] = 0;
        bound_ns[b] = (uint64_t)llround(bounds_s[b] * 1e9);
    }
    out->nbounds = nbounds;
    out->count = h->count;
    out->sum_s = h->sum / 1e9;
    out->max_ns = h->count ? h->max : 0;
    out->p50_ns = out->p99_ns = 0;
    if (h->count == 0)
        return;
    uint64_t r50 = rank_of(0.50, h->count), r99 = rank_of(0.99, h->count);
    uint64_t seen = 0;
    uint32_t b = 0;
    for (uint32_t i = 0; i < h->nbuckets; i++) {
        uint64_t c = h->counts[i];
        if (c == 0)
            continue;
        uint64_t hi = hv_hist_highest_equivalent(h, i);
        if (seen < r50 && seen + c >= r50)
            out->p50_ns = clamp(h, hi);
        if (seen < r99 && seen + c >= r99)
            out->p99_ns = clamp(h, hi);
        seen += c;
        while (b < nbounds && bound_ns[b] < hi)
            b++;
        if (b < nbounds)
            out->cum[b] += c;
        if (seen >= h->count)
            break; /* the rest is empty: most values sit in the first buckets */
    }
    for (uint32_t k = 1; k < nbounds; k++)
        out->cum[k] += out->cum[k - 1];
}

void hv__obs_series_add(hv_obs_series *s, double t, double v)
{
    if (s->stride == 0)
        s->stride = 1;
    if (s->seen++ % s->stride != 0)
        return;
    if (s->n == HV_OBS_RATE_MAX) {
        uint32_t j = 0;
        for (uint32_t i = 0; i < s->n; i += 2, j++) {
            s->t[j] = s->t[i];
            s->v[j] = s->v[i];
        }
        s->n = j;
        s->stride *= 2;
        s->epoch++;
    }
    s->t[s->n] = t;
    s->v[s->n] = v;
    s->n++;
}

static const struct {
    const char *name;
    int severity;
} alerts[HV_OBS_ALERT_COUNT] = {
    [HV_OBS_ALERT_CYCLE_P95] = { "cycle_latency_p95", HV_OBS_WARNING },
    [HV_OBS_ALERT_CYCLE_P99] = { "cycle_latency_p99", HV_OBS_CRITICAL },
    [HV_OBS_ALERT_BUS_LATENCY] = { "bus_latency", HV_OBS_WARNING },
    [HV_OBS_ALERT_QUEUE_DEPTH] = { "queue_depth", HV_OBS_WARNING },
    [HV_OBS_ALERT_MEMORY] = { "memory", HV_OBS_WARNING },
    [HV_OBS_ALERT_ERROR_RATE] = { "error_rate", HV_OBS_CRITICAL },
    [HV_OBS_ALERT_CPU_CONTENDED] = { "cpu_contended", HV_OBS_WARNING },
};

const char *hv__obs_alert_name(int id)
{
    return id >= 0 && id < HV_OBS_ALERT_COUNT ? alerts[id].name : "?";
}

int hv__obs_alert_severity(int id)
{
    return id >= 0 && id < HV_OBS_ALERT_COUNT ? alerts[id].severity : HV_OBS_WARNING;
}

const char *hv__obs_severity_name(int severity)
{
    return severity == HV_OBS_CRITICAL ? "critical" : "warning";
}

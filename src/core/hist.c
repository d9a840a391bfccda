#include <stdlib.h>
#include <string.h>

#include <hivewire/hist.h>

#include "core/assert.h"

/*
 * Index of v: values below 2^(M+1) map to themselves; above, shift = floor(log2 v) - M and
 * index = shift * 2^M + (v >> shift). Consecutive shifts tile the index space without gaps
 * because v >> shift always lies in [2^M, 2^(M+1)).
 */
static inline uint32_t shift_of(uint64_t v, uint32_t m)
{
    if (v < (2ull << m))
        return 0;
    uint32_t e = 63u - (uint32_t)__builtin_clzll(v);
    return e - m;
}

static inline uint32_t index_of(uint64_t v, uint32_t m)
{
    uint32_t shift = shift_of(v, m);
    return (uint32_t)(((uint64_t)shift << m) + (v >> shift));
}

size_t hv_hist_memory_bytes(uint64_t value_max, uint32_t sub_bits)
{
    if (sub_bits < 1 || sub_bits > 16 || value_max < (2ull << sub_bits))
        return 0;
    return ((size_t)index_of(value_max, sub_bits) + 1) * sizeof(uint64_t);
}

int hv_hist_init(hv_hist *h, uint64_t value_max, uint32_t sub_bits)
{
    size_t bytes = hv_hist_memory_bytes(value_max, sub_bits);
    if (h == NULL || bytes == 0)
        return HV_EINVAL;
    memset(h, 0, sizeof(*h));
    h->counts = calloc(1, bytes);
    if (h->counts == NULL)
        return HV_ENOMEM;
    h->sub_bits = sub_bits;
    h->nbuckets = (uint32_t)(bytes / sizeof(uint64_t));
    h->value_max = value_max;
    h->min = UINT64_MAX;
    return 0;
}

void hv_hist_fini(hv_hist *h)
{
    if (h == NULL)
        return;
    free(h->counts);
    h->counts = NULL;
    h->nbuckets = 0;
}

void hv_hist_reset(hv_hist *h)
{
    memset(h->counts, 0, (size_t)h->nbuckets * sizeof(uint64_t));
    h->count = 0;
    h->overflow = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

void hv_hist_record_n(hv_hist *h, uint64_t v, uint64_t n)
{
    if (v > h->value_max) {
        v = h->value_max;
        h->overflow += n;
    }
    HV_DEBUG_ASSERT(index_of(v, h->sub_bits) < h->nbuckets); /* v <= value_max */
    h->counts[index_of(v, h->sub_bits)] += n;
    h->count += n;
    h->sum += (double)v * (double)n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void hv_hist_record(hv_hist *h, uint64_t v)
{
    hv_hist_record_n(h, v, 1);
}

static void atomic_max(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v > cur &&
           !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

static void atomic_min(uint64_t *p, uint64_t v)
{
    uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (v < cur &&
           !__atomic_compare_exchange_n(p, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void hv_hist_record_atomic(hv_hist *h, uint64_t v)
{
    if (v > h->value_max) {
        v = h->value_max;
        __atomic_fetch_add(&h->overflow, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&h->counts[index_of(v, h->sub_bits)], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
    atomic_min(&h->min, v);
    atomic_max(&h->max, v);
}

int hv_hist_merge(hv_hist *dst, const hv_hist *src)
{
    if (dst->sub_bits != src->sub_bits || dst->value_max != src->value_max)
        return HV_EINVAL;
    for (uint32_t i = 0; i < dst->nbuckets; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->overflow += src->overflow;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

uint32_t hv_hist_index(const hv_hist *h, uint64_t v)
{
    if (v > h->value_max)
        v = h->value_max;
    return index_of(v, h->sub_bits);
}

uint64_t hv_hist_lowest_equivalent(const hv_hist *h, uint32_t index)
{
    uint32_t m = h->sub_bits;
    uint32_t b = index >> m;
    if (b <= 1)
        return index;
    uint32_t shift = b - 1;
    uint64_t q = index - ((uint64_t)shift << m);
    return q << shift;
}

uint64_t hv_hist_highest_equivalent(const hv_hist *h, uint32_t index)
{
    uint32_t m = h->sub_bits;
    uint32_t b = index >> m;
    if (b <= 1)
        return index;
    uint32_t shift = b - 1;
    uint64_t q = index - ((uint64_t)shift << m);
    return ((q + 1) << shift) - 1;
}

uint64_t hv_hist_quantile(const hv_hist *h, double q)
{
    uint64_t total = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
    if (total == 0)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    /* rank of the q-th value, 1-based: ceil(q * total), at least 1 */
    double want = q * (double)total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < h->nbuckets; i++) {
        seen += __atomic_load_n(&h->counts[i], __ATOMIC_RELAXED);
        if (seen >= rank) {
            uint64_t v = hv_hist_highest_equivalent(h, i);
            uint64_t mx = __atomic_load_n(&h->max, __ATOMIC_RELAXED);
            uint64_t mn = __atomic_load_n(&h->min, __ATOMIC_RELAXED);
            if (v > mx)
                v = mx;
            if (v < mn)
                v = mn;
            return v;
        }
    }
    return h->max;
}

double hv_hist_mean(const hv_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

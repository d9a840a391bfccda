/*
 * hivewire: log-linear latency histogram (HdrHistogram-style), fixed memory.
 *
 * A value v is kept exactly while v < 2^(sub_bits+1); above that it falls into a bucket whose
 * width is at most v / 2^sub_bits, so every reported value is within a relative error of
 * 2^-sub_bits (sub_bits = 10 gives about three significant digits). Memory is fixed at
 * creation: (shift_max + 2) * 2^sub_bits counters of 8 bytes, where shift_max is set by the
 * largest trackable value. Larger values are clamped to the largest and counted in `overflow`.
 *
 * Thread safety: hv_hist_record() is not thread-safe; give each thread its own histogram and
 * merge with hv_hist_merge(), or use hv_hist_record_atomic(), which may be called from many
 * threads at once (readers then see a consistent-enough snapshot: counts only ever grow).
 */
#ifndef HIVEWIRE_HIST_H
#define HIVEWIRE_HIST_H

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hv_hist {
    uint32_t sub_bits;  /* precision: relative error <= 2^-sub_bits */
    uint32_t nbuckets;  /* number of counters */
    uint64_t value_max; /* largest trackable value; larger ones are clamped */
    uint64_t count;     /* number of recorded values */
    uint64_t overflow;  /* values that exceeded value_max */
    uint64_t min;       /* exact smallest recorded value (UINT64_MAX when empty) */
    uint64_t max;       /* exact largest recorded value (clamped) */
    double sum;         /* sum of recorded values, for the mean */
    uint64_t *counts;   /* nbuckets counters, owned by the histogram */
} hv_hist;

/* Bytes of counter memory hv_hist_init() will allocate for these parameters. */
HV_EXTERN size_t hv_hist_memory_bytes(uint64_t value_max, uint32_t sub_bits);

/* Initialises a caller-embedded histogram, allocating its counters.
 * value_max >= 2^(sub_bits+1); 1 <= sub_bits <= 16.
 * Returns 0, HV_EINVAL for bad parameters, HV_ENOMEM. Free with hv_hist_fini(). */
HV_EXTERN int hv_hist_init(hv_hist *h, uint64_t value_max, uint32_t sub_bits);
HV_EXTERN void hv_hist_fini(hv_hist *h);

/* Forgets every recorded value, keeping the memory. */
HV_EXTERN void hv_hist_reset(hv_hist *h);

/* Records one value (count times for _n). O(1), no allocation. */
HV_EXTERN void hv_hist_record(hv_hist *h, uint64_t v);
HV_EXTERN void hv_hist_record_n(hv_hist *h, uint64_t v, uint64_t n);

/* Thread-safe record with relaxed atomics (sum is not updated by this call). */
HV_EXTERN void hv_hist_record_atomic(hv_hist *h, uint64_t v);

/* Adds src's counts into dst. Both must have the same sub_bits and value_max: else HV_EINVAL. */
HV_EXTERN int hv_hist_merge(hv_hist *dst, const hv_hist *src);

/* The value at quantile q in [0, 1] (0.99 for p99): the highest value equivalent to the bucket
 * holding the q-th value, clamped to the exact max. Returns 0 when the histogram is empty. */
HV_EXTERN uint64_t hv_hist_quantile(const hv_hist *h, double q);

/* Mean of recorded values (0 when empty). */
HV_EXTERN double hv_hist_mean(const hv_hist *h);

/* Internal mapping, exposed for tests: the bucket index of v, and the lowest and highest
 * values that share that bucket. */
HV_EXTERN uint32_t hv_hist_index(const hv_hist *h, uint64_t v);
HV_EXTERN uint64_t hv_hist_lowest_equivalent(const hv_hist *h, uint32_t index);
HV_EXTERN uint64_t hv_hist_highest_equivalent(const hv_hist *h, uint32_t index);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_HIST_H */

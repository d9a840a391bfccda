/*
 * Internal: the Prometheus text exposition format (version 0.0.4), written by hand from a
 * snapshot. Pure functions: a snapshot in, text out (docs/OBSERVABILITY.md lists every
 * family). Each family is written as "# HELP", "# TYPE" and its samples, contiguous; a
 * histogram as cumulative _bucket{le=...} lines ending with le="+Inf", then _sum and _count.
 * Label values are escaped (backslash, double quote, newline).
 */
#ifndef HV_OBS_EXPO_H
#define HV_OBS_EXPO_H

#include <stdarg.h>
#include <stddef.h>

#include "obs/snap.h"

/* A growing text buffer with a hard bound: past `max` bytes it stops growing and sets
 * `failed` (so does an allocation failure); what was written stays valid text up to len. */
typedef struct hv_obs_buf {
    char *p;
    size_t len, cap, max;
    int failed;
} hv_obs_buf;

void hv__obs_buf_init(hv_obs_buf *b, size_t max);
void hv__obs_buf_fini(hv_obs_buf *b);
void hv__obs_buf_printf(hv_obs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hv__obs_buf_put(hv_obs_buf *b, const char *s, size_t n);

/* The content type of the page. */
#define HV_OBS_EXPO_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes every metric family of s. Returns 0, or HV_NOBUFS when the buffer hit its bound (or
 * memory ran out). */
int hv__obs_expo_write(const hv_obs_snap *s, hv_obs_buf *b);

/* Writes v as a Prometheus float: shortest round-trip form, NaN, +Inf or -Inf. */
void hv__obs_expo_double(hv_obs_buf *b, double v);

/* Writes a label value with \\, \" and \n escaped. */
void hv__obs_expo_label_value(hv_obs_buf *b, const char *v);

#endif /* HV_OBS_EXPO_H */

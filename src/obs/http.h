/*
 * Internal: the HTTP side (libmicrohttpd, a thread per connection, at most
 * HV_OBS_HTTP_CONNECTIONS at once). It reads only the store.
 *
 *   GET /metrics      the Prometheus text exposition of the latest snapshot
 *   GET /             the dashboard (dashboard servers only): one self-contained page
 *   GET /events       Server-Sent Events: the whole state on connect, then what changed, one
 *                     event per new snapshot but at most 4 a second per client, a comment
 *                     every 10 s to keep the line up
 *   GET /state        the whole state as one JSON object
 *
 * Anything else is 404 (405 for methods other than GET and HEAD).
 */
#ifndef HV_OBS_HTTP_H
#define HV_OBS_HTTP_H

#include "obs/obs.h"
#include "obs/store.h"

#define HV_OBS_HTTP_CONNECTIONS 32

typedef struct hv_obs_http hv_obs_http;

/* Listens on a and starts serving. dashboard = 0: /metrics only. Returns 0, or HV_EIO /
 * HV_ENOMEM with the reason in err[cap]. */
int hv__obs_http_start(hv_obs_store *st, const hv_obs_addr *a, int dashboard, hv_obs_http **out,
                       char *err, size_t cap);
uint16_t hv__obs_http_port(const hv_obs_http *h);
/* Stops serving (call hv__obs_store_close() first so open event streams end). */
void hv__obs_http_stop(hv_obs_http *h);

/* The dashboard's JSON (state_json.c): the whole state, or what changed since a client got
 * curve/rate points up to *_sent in epoch *_epoch (updated). Returns a malloc'd string or
 * NULL. */
typedef struct hv_obs_cursor {
    uint32_t curve_epoch, curve_sent, rate_epoch, rate_sent;
    int full_sent;
} hv_obs_cursor;
char *hv__obs_state_json(const hv_obs_snap *s, hv_obs_cursor *c);

/* The dashboard page (dashboard.html, compiled in). */
extern const char hv__obs_dashboard_html[];
extern const size_t hv__obs_dashboard_html_len;

#endif /* HV_OBS_HTTP_H */

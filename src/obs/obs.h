/*
 * Internal: observability of a running swarm (docs/OBSERVABILITY.md). Prometheus /metrics, a
 * live dashboard over Server-Sent Events, and alerts with hysteresis.
 *
 * Threads. hv__obs_new(), hv__obs_attach(), hv__obs_done() and hv__obs_free() run on the
 * thread that calls hv_swarm_run() (the coordinator's thread); hv__obs_progress() runs in the
 * swarm's progress callback on that same thread. Only that thread reads the swarm, and only
 * through what swarm.h allows there (the snapshot, the profiler, the consensus engine's
 * statistics, the fills, the agents' liveness, the bus's counters). It publishes a snapshot
 * every publish_ns (100 ms) of wall time into the store, without ever waiting for a reader;
 * the HTTP threads (libmicrohttpd) read only the store. hv__obs_links() may be called from
 * any thread.
 *
 * Cost on the coordinator's thread: one clock read and a few loads per cycle; a snapshot every
 * 100 ms (a pass over the profiler's histograms, the bus counters, a memcpy into the store);
 * the alerts once a second (two small /proc reads). It measures itself:
 * hivewire_obs_publish_seconds_total.
 */
#ifndef HV_OBS_OBS_H
#define HV_OBS_OBS_H

#include <stdio.h>

#include <hivewire/market.h>
#include <hivewire/swarm.h>

#include "obs/alerts.h"
#include "obs/snap.h"

/* A listening address: a numeric IPv4 or IPv6 address (or "localhost") and a port. */
typedef struct hv_obs_addr {
    char host[64];
    int port; /* 0..65535 (0: any free port); -1: not set */
} hv_obs_addr;

/* Parses "HOST:PORT", "[V6]:PORT" or "PORT" (= 127.0.0.1:PORT). Returns 0, or HV_EINVAL with
 * the reason in why[cap]. */
int hv__obs_parse_addr(const char *text, hv_obs_addr *out, char *why, size_t cap);

typedef struct hv_obs_opts {
    const char *cmd;     /* "run": the prefix of the lines on `log` */
    hv_obs_addr metrics; /* /metrics only */
    hv_obs_addr serve;   /* the dashboard, its event stream and /metrics */
    int alerts;          /* run the alert engine */
    hv_obs_alert_config alert_cfg;
    uint64_t publish_ns; /* 100 ms */
    uint64_t eval_ns;    /* alerts every 1 s */
    FILE *log;           /* alert lines: stderr; NULL: none */
} hv_obs_opts;

void hv__obs_opts_default(hv_obs_opts *o);

typedef struct hv_obs hv_obs;

/* Starts the servers the options ask for (none is fine: alerts only). Returns 0 and *out, or
 * HV_EIO / HV_EINVAL / HV_ENOMEM with a one-line reason in err[cap] ("cannot listen on
 * 127.0.0.1:9464: Address already in use"). */
int hv__obs_new(const hv_obs_opts *o, hv_obs **out, char *err, size_t cap);

/* The port a server listens on (after port 0 picked one), or 0 when it is not running. */
uint16_t hv__obs_port(const hv_obs *o, int dashboard);

/* Watches sw (built from cfg over bars[0..n); all borrowed until hv__obs_free()). Publishes
 * the first snapshot. Returns 0 or HV_ENOMEM. */
int hv__obs_attach(hv_obs *o, hv_swarm *sw, const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                   const char *title);

/* From the swarm's progress callback. Always returns 0 (never stops the run). */
int hv__obs_progress(hv_obs *o, uint64_t done, uint64_t total);

/* After hv_swarm_run() returned run_rc: publishes the final state (blocking, once). */
void hv__obs_done(hv_obs *o, int run_rc);

/* Every alert event of the run, oldest first (at most HV_OBS_LOG_MAX; *dropped says how many
 * more there were). */
#define HV_OBS_LOG_MAX 1024
size_t hv__obs_alert_log(const hv_obs *o, const hv_obs_alert_event **ev, uint64_t *dropped);

/* Any thread: a copy of the latest published snapshot. Returns 1, or 0 before the first. */
int hv__obs_read(hv_obs *o, hv_obs_snap *out);

/* Any thread: the per-link figures of a networked run (docs/OBSERVABILITY.md, "Links"). */
void hv__obs_links(hv_obs *o, const hv_obs_link *links, uint32_t n);

/* Stops the servers (open event streams end) and frees everything. */
void hv__obs_free(hv_obs *o);

#endif /* HV_OBS_OBS_H */

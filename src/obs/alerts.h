/*
 * Internal: the alert engine, a state machine over measurements with the time passed in (no
 * clock, no I/O). The caller measures (sample.c) and prints; the engine decides.
 *
 * Every alert compares one value with its threshold at each evaluation:
 *   raised  when the value is above the threshold (one evaluation is enough);
 *   cleared when the value is at or below threshold x clear_ratio (0.8) at clear_after (3)
 *           evaluations in a row; a value between the two keeps the alert as it is.
 * So a value hovering at the threshold raises once and does not flap. An evaluation without
 * enough data for a verdict (fewer than min_cycles cycles or min_messages messages since the
 * last verdict, a figure the machine does not give) changes nothing, and the window of the
 * rates grows until it has enough.
 *
 * The values (docs/OBSERVABILITY.md, "Alerts"):
 *   cycle_latency_p95 / _p99  p95 / p99 of the cycles since the last verdict (seconds)
 *   bus_latency               thresholds hv_bus_check_alerts() found breached (0, 1 or 2)
 *   queue_depth               messages in the deepest inbox (all priorities)
 *   memory                    resident set size (bytes)
 *   error_rate                errors / messages received since the last verdict
 *   cpu_contended             share of the wall time the runner thread spent runnable but
 *                             waiting for a CPU (schedstat), since the last verdict; where the
 *                             kernel has no schedstat: /proc/pressure/cpu "some" avg10
 */
#ifndef HV_OBS_ALERTS_H
#define HV_OBS_ALERTS_H

#include "obs/snap.h"

typedef struct hv_obs_alert_config {
    double threshold[HV_OBS_ALERT_COUNT]; /* 0: the alert is off */
    double clear_ratio;                   /* (0, 1]: 0.8 */
    uint32_t clear_after;                 /* >= 1: 3 */
    uint64_t min_cycles;                  /* for a latency verdict: 20 */
    uint64_t min_messages;                /* for an error-rate verdict: 1000 */
} hv_obs_alert_config;

/* The origin's thresholds: p95 1 ms, p99 5 ms, the bus's own thresholds (0.5: any breach),
 * queue depth 10,000, memory 100 MB (1e8 bytes), error rate 0.1%, CPU wait 10%. */
void hv__obs_alert_config_default(hv_obs_alert_config *c);

/* One evaluation's measurements. Counters are cumulative: the engine takes the differences. */
typedef struct hv_obs_alert_input {
    uint64_t now_ns; /* never goes back */
    /* the cycles since the caller's window began (the caller resets it after a verdict: see
     * latency_verdict) */
    uint64_t window_cycles;
    uint64_t cycle_p95_ns, cycle_p99_ns;
    int bus_valid;    /* hv_bus_check_alerts() ran on at least one message */
    int bus_breached; /* its return value */
    uint64_t bus_p95_ns, bus_p99_ns;
    uint64_t queue_depth_max;
    uint64_t rss_bytes; /* 0: unknown */
    uint64_t errors, messages;
    int have_wait;         /* runq_wait_ns is measured (schedstat) */
    uint64_t runq_wait_ns; /* cumulative, the runner thread */
    double psi_some;       /* /proc/pressure/cpu some avg10 as a ratio; NaN: unknown */
} hv_obs_alert_input;

typedef struct hv_obs_alerts {
    hv_obs_alert_config cfg;
    hv_obs_alert_state st[HV_OBS_ALERT_COUNT];
    uint32_t under[HV_OBS_ALERT_COUNT]; /* consecutive evaluations at or below the clear level */
    int started;
    uint64_t last_ns;
    uint64_t err_ns, err_errors, err_messages; /* start of the error-rate window */
    uint64_t wait_at_ns, wait_ns;              /* start of the CPU-wait window */
    int latency_verdict; /* the last evaluation used the latency window: reset it */
} hv_obs_alerts;

/* Starts an engine with cfg (copied). */
void hv__obs_alerts_init(hv_obs_alerts *a, const hv_obs_alert_config *cfg);

/*
 * Evaluates every alert on in. Writes the alerts raised or cleared, in alert order, into
 * ev[0..cap) (at most HV_OBS_ALERT_COUNT happen at once) and returns how many.
 */
int hv__obs_alerts_eval(hv_obs_alerts *a, const hv_obs_alert_input *in, hv_obs_alert_event *ev,
                        int cap);

/* "hivewire run: alert cpu_contended (warning) raised: ..." into buf. */
void hv__obs_alert_line(const char *cmd, const hv_obs_alert_event *ev, char *buf, size_t cap);

#endif /* HV_OBS_ALERTS_H */

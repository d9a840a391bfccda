/*
 * Internal: the observed state of one run, as plain data (docs/OBSERVABILITY.md).
 *
 * The sampler (sample.c) fills an hv_obs_snap on the coordinator's thread from the swarm's
 * progress callback; the store (store.h) hands copies to the HTTP threads; the exposition
 * writer (expo.h) and the dashboard's JSON (state_json.c) turn a copy into text. Nothing here
 * points into the swarm: a snapshot stays valid after the swarm is gone.
 *
 * Every array has a fixed bound; what does not fit is left out and counted (stages_dropped,
 * alert_events_dropped), never written past.
 */
#ifndef HV_OBS_SNAP_H
#define HV_OBS_SNAP_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/bus.h>
#include <hivewire/hist.h>
#include <hivewire/net.h>
#include <hivewire/swarm.h>

#define HV_OBS_STAGES_MAX  32
#define HV_OBS_AGENTS_MAX  HV_SWARM_THREADS_MAX
#define HV_OBS_THREADS_MAX HV_SWARM_THREADS_MAX
#define HV_OBS_CURVE_MAX   4097 /* the execution agent's curve: 4096 kept points + a tail */
#define HV_OBS_RATE_MAX    512  /* cycles/s history points (thinned when full) */
#define HV_OBS_EVENTS_MAX  64   /* alert events kept for the dashboard (the newest) */
#define HV_OBS_LINKS_MAX   64   /* QUIC links of a networked run */
#define HV_OBS_NAME_MAX    48

/* Bucket bounds (seconds) of the latency histograms: cycle and stages. */
#define HV_OBS_LAT_BUCKETS 19
extern const double hv__obs_lat_bounds[HV_OBS_LAT_BUCKETS];
/* ... and of the external stages (simulated exchange latencies reach a day). */
#define HV_OBS_EXT_BUCKETS 13
extern const double hv__obs_ext_bounds[HV_OBS_EXT_BUCKETS];
#define HV_OBS_BUCKETS_MAX 19

/* One histogram in Prometheus form: cum[i] = occurrences <= bounds[i] (cumulative), count =
 * all of them (the +Inf bucket), sum_s = their sum in seconds. */
typedef struct hv_obs_hist {
    uint64_t cum[HV_OBS_BUCKETS_MAX];
    uint32_t nbounds;
    uint64_t count;
    double sum_s;
    uint64_t p50_ns, p99_ns, max_ns;
} hv_obs_hist;

/*
 * Digests an hv_hist of nanoseconds in one pass: cumulative counts at the bounds (a value is
 * counted at the first bound >= the highest value of its hv_hist bucket, so within the
 * histogram's precision), count, sum, p50 and p99 exactly as hv_hist_quantile() gives them.
 * nbounds <= HV_OBS_BUCKETS_MAX.
 */
void hv__obs_hist_digest(const hv_hist *h, const double *bounds_s, uint32_t nbounds,
                         hv_obs_hist *out);

typedef struct hv_obs_stage {
    char name[HV_OBS_NAME_MAX];
    int external;     /* not a share of the cycle (HV_STAGE_EXTERNAL) */
    uint64_t self_ns; /* timed stages: the critical-path time charged to the stage */
    hv_obs_hist h;
} hv_obs_stage;

/* One agent: the coordinator's view (liveness) and its bus endpoint's counters. */
typedef struct hv_obs_agent {
    char name[32];
    int member; /* the coordinator expects it (0 for the coordinator itself) */
    int joined, lost, reported;
    uint64_t last_cycle; /* UINT64_MAX: none yet */
    double silent_s;     /* since the coordinator last heard from it; -1: never */
    hv_agent_stats bus;
} hv_obs_agent;

/* A runner thread's CPU time and scheduling. */
typedef struct hv_obs_thread {
    char name[32];
    uint64_t cpu_ns;
    uint64_t switches_voluntary, switches_involuntary;
    uint64_t runq_wait_ns; /* time runnable but waiting for a CPU (schedstat) */
    int have_wait;         /* runq_wait_ns was measured */
} hv_obs_thread;

/* A bounded time series, thinned (every other point dropped, then every 2nd, 4th ... kept)
 * when full, so it always spans the whole run. `epoch` changes whenever points already in the
 * series change (a thinning, or a replacement), so a client holding a prefix knows to start
 * again. */
typedef struct hv_obs_series {
    uint32_t n, epoch;
    uint64_t stride, seen;
    double t[HV_OBS_RATE_MAX], v[HV_OBS_RATE_MAX];
} hv_obs_series;

void hv__obs_series_add(hv_obs_series *s, double t, double v);

/* Alerts (alerts.h has the engine). */
enum hv_obs_alert_id {
    HV_OBS_ALERT_CYCLE_P95,     /* warning: p95 of the recent cycles > 1 ms */
    HV_OBS_ALERT_CYCLE_P99,     /* critical: p99 of the recent cycles > 5 ms */
    HV_OBS_ALERT_BUS_LATENCY,   /* warning: hv_bus_check_alerts() found a threshold breached */
    HV_OBS_ALERT_QUEUE_DEPTH,   /* warning: the deepest inbox > 10,000 messages */
    HV_OBS_ALERT_MEMORY,        /* warning: resident memory > 100 MB */
    HV_OBS_ALERT_ERROR_RATE,    /* critical: errors / messages > 0.1% */
    HV_OBS_ALERT_CPU_CONTENDED, /* warning: the runner waited for a CPU > 10% of the time */
    HV_OBS_ALERT_COUNT
};

enum hv_obs_severity { HV_OBS_WARNING = 1, HV_OBS_CRITICAL = 2 };

typedef struct hv_obs_alert_state {
    int active;
    uint64_t raised; /* times raised */
    double value;    /* at the last evaluation that gave a verdict */
    double threshold;
    int enabled; /* threshold > 0 */
} hv_obs_alert_state;

typedef struct hv_obs_alert_event {
    int id;         /* enum hv_obs_alert_id */
    int raised;     /* 1 raised, 0 cleared */
    uint64_t at_ns; /* since the run began */
    double value, threshold;
    char message[256];
} hv_obs_alert_event;

/* One QUIC link of a networked run (fed with hv__obs_links_publish()). */
typedef struct hv_obs_link {
    char name[32]; /* the peer's name, or its id in hex */
    hv_net_link_stats s;
} hv_obs_link;

typedef struct hv_obs_snap {
    uint64_t gen;    /* publication number, 1, 2, ... */
    uint64_t t_ns;   /* since hv__obs_attach() */
    int running;     /* the swarm is running (0 before the first cycle and after the end) */
    int finished;    /* hv_swarm_run() returned; the figures are final */
    int failed;      /* ... with an error */
    char error[192]; /* hv_swarm_error() when failed */
    char title[128]; /* what runs ("data/sp500-2000.csv, seed 1") */
    uint64_t cycles_planned;
    hv_swarm_stats st;   /* hv_swarm_snapshot(), or hv_swarm_stats_get() once finished */
    double cycles_per_s; /* over the last second or so */
    double wall_s;       /* since the first cycle */
    hv_obs_series rate;  /* cycles/s over time (t in seconds since attach) */
    /* latency */
    hv_obs_hist cycle;
    uint32_t nstages, stages_dropped;
    hv_obs_stage stage[HV_OBS_STAGES_MAX];
    /* consensus: the coordinator's engine */
    hv_consensus_stats cons;
    hv_obs_hist decision; /* proposal opened -> decided */
    /* portfolio: marked live from the fills, replaced by the execution agent's book at the end */
    hv_portfolio_stats pf;
    int pf_final;
    int kill_switch;
    double traded_shares, fees;
    uint32_t curve_n, curve_epoch;
    uint64_t bar_ns;
    uint64_t curve_t_ns[HV_OBS_CURVE_MAX];
    double curve_eq[HV_OBS_CURVE_MAX];
    /* bus */
    hv_bus_stats bus;
    hv_latency bus_latency; /* over the last alert window */
    uint32_t nagents;
    hv_obs_agent agent[HV_OBS_AGENTS_MAX];
    uint64_t queue_depth_max;
    /* machine */
    uint32_t nthreads;
    hv_obs_thread thread[HV_OBS_THREADS_MAX];
    uint64_t rss_bytes;
    double cpu_pressure_some; /* /proc/pressure/cpu some avg10 as a ratio; NaN: not there */
    /* alerts */
    hv_obs_alert_state alert[HV_OBS_ALERT_COUNT];
    uint32_t nevents;
    uint64_t events_total;
    hv_obs_alert_event event[HV_OBS_EVENTS_MAX]; /* the newest, oldest first */
    /* links (networked runs only) */
    uint32_t nlinks;
    hv_obs_link link[HV_OBS_LINKS_MAX];
    /* the cost of observing, on the coordinator's thread */
    uint64_t publishes;
    uint64_t publish_ns; /* wall time spent sampling and publishing */
    uint32_t sse_clients;
    uint64_t scrapes;
} hv_obs_snap;

/* Names and severities of the alerts. */
const char *hv__obs_alert_name(int id);
int hv__obs_alert_severity(int id);
const char *hv__obs_severity_name(int severity);

#endif /* HV_OBS_SNAP_H */

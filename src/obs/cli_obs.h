/*
 * Internal: the observability options of the long-running commands (`hivewire run` and
 * `hivewire coordinator`) and the hooks a command calls around its run:
 *
 *   hv__obs_cli_default(&c)              before parsing (the defaults)
 *   { "observability", hv__obs_rows, T }  a section of the command's table, target &c
 *   hv__obs_cli_begin(&c, ...)           after the swarm is built: starts the servers
 *   hv__obs_cli_progress(&c, done, n)    in the swarm's progress callback
 *   hv__obs_cli_end(&c, rc)              after hv_swarm_run() returned: the final state
 *   hv__obs_cli_report(&c, &extra)       the alerts into the run report
 *   hv__obs_cli_close(&c)                serves the final state until Ctrl-C or --serve-for,
 *                                        then stops
 *
 * All on the thread that runs the swarm (docs/OBSERVABILITY.md).
 */
#ifndef HV_OBS_CLI_OBS_H
#define HV_OBS_CLI_OBS_H

#include <hivewire/profiler.h>

#include "cli/opts.h"
#include "obs/obs.h"

typedef struct hv_obs_cli {
    hv_obs_opts opts;
    uint64_t serve_for_s; /* after the run; UINT64_MAX: until Ctrl-C (the default) */
    int no_alerts;
    double p95_ms, p99_ms, memory_mb, error_rate, cpu_wait;
    uint64_t queue_depth;
    /* while running */
    hv_obs *obs;
    size_t nreport;
    hv_report_alert report[HV_OBS_LOG_MAX];
} hv_obs_cli;

extern const hv_opt hv__obs_rows[];

void hv__obs_cli_default(hv_obs_cli *c);

/* Starts the servers the options ask for and watches sw. Prints where they listen on stderr.
 * Returns 0, or HV_EXIT_FAIL after printing why (a port in use, ...). */
int hv__obs_cli_begin(hv_obs_cli *c, const char *cmd, hv_swarm *sw, const hv_swarm_opts *cfg,
                      const hv_bar *bars, size_t n, const char *title);
void hv__obs_cli_progress(hv_obs_cli *c, uint64_t done, uint64_t total);
void hv__obs_cli_end(hv_obs_cli *c, int run_rc);
/* Sets x->alerts_watched and the alerts of the run (valid until hv__obs_cli_close()). */
void hv__obs_cli_report(hv_obs_cli *c, hv_report_extra *x);
/* With a server running: waits for SIGINT/SIGTERM or serve_for_s seconds. Then frees. */
void hv__obs_cli_close(hv_obs_cli *c);

#endif /* HV_OBS_CLI_OBS_H */

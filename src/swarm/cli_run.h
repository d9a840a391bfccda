/*
 * The options of the commands that build a trading swarm (run, coordinator, agent): one set of
 * rows (cli/opts.h) so every process of a swarm is configured by the same options, and the
 * checks that follow the parse.
 */
#ifndef HV_SWARM_CLI_RUN_H
#define HV_SWARM_CLI_RUN_H

#include <hivewire/swarm.h>

#include "cli/opts.h"
#include "cli/sim.h"
#include "obs/cli_obs.h"

typedef struct run_opts {
    hv_cli_bars_opts bars;
    const char *out;
    int no_report;
    int quiet, progress; /* progress: -1 auto (isatty), 0 off, 1 on */
    int json, wide;      /* --json: the report's JSON on stdout; --wide: rows past 80 columns */
    hv_swarm_opts cfg;
    /* the swarm over processes (run --remote, coordinator, agent) */
    const char *remote;      /* run: roles started as child processes ("all" or a list) */
    const char *listen;      /* coordinator: HOST:PORT */
    const char *connect;     /* agent: the coordinator's HOST:PORT */
    const char *agents;      /* coordinator: roles placed with it; agent: roles it runs */
    const char *certs;       /* directory of ca.pem and <name>.pem/.key/.vote */
    int insecure;            /* no certificates at all (tests and demos only) */
    int issue_certs;         /* coordinator: make the CA and every certificate in --certs */
    uint64_t soak;           /* coordinator: a soak of this many load agents (no swarm) */
    uint64_t soak_s;         /* coordinator: its length once every agent joined, seconds */
    uint64_t count;          /* agent: this many load agents (a soak) */
    hv_obs_cli obs;          /* run, coordinator: --metrics, --serve, alerts (src/obs) */
    uint64_t replicas;       /* run: the coordinator on a replicated log of this many (0: none) */
    const char *data_dir;    /* run, coordinator --replica: the replicas' directory */
    uint64_t snapshot_every; /* run --replicas, coordinator --replica: entries between snapshots */
    uint64_t replica;        /* coordinator: this process is replica K of the log (0: none) */
    const char *peers;       /* coordinator --replica: every replica's Raft HOST:PORT, in order */
} run_opts;

/* The rows: target run_opts (T_RUN), except the shared data, exchange and limits rows of
 * cli/sim.h. */
extern const hv_opt hv__run_agent_rows[], hv__run_runner_rows[], hv__run_strategy_rows[],
    hv__run_consensus_rows[], hv__run_var_rows[], hv__run_output_rows[], hv__run_progress_rows[];

enum { T_RUN, T_BARS, T_EXCHANGE, T_LIMITS, T_OBS };

/* The swarm configuration sections every such command has, in order (ended by { 0 } only when
 * the caller appends its own, then its { 0 }). */
#define HV_RUN_CONFIG_SECTIONS                                                                   \
    { "data", hv__cli_bars_rows, T_BARS }, { "agents", hv__run_agent_rows, T_RUN },              \
        { "runners", hv__run_runner_rows, T_RUN }, { "strategy", hv__run_strategy_rows, T_RUN }, \
        { "consensus (default: the engine's table; orders are CRITICAL -> BFT)",                 \
          hv__run_consensus_rows, T_RUN },                                                       \
        { "risk limits (each 0 = off, the default)", hv__cli_limits_rows, T_LIMITS },            \
        { "risk", hv__run_var_rows, T_RUN },                                                     \
    {                                                                                            \
        "exchange", hv__cli_exchange_rows, T_EXCHANGE                                            \
    }

/* run --replicas (cli_replicas.c): its rows; the replicas started and attached to sw before
 * the run (0, or an exit code after a message), and after it settled, compared with the run and
 * stopped (0, or an exit code). */
struct sw_replicas;
extern const hv_opt hv__run_replica_rows[];
int hv__run_replicas_begin(const run_opts *o, hv_swarm *sw, const hv_bar *bars, size_t n,
                           struct sw_replicas **out);
int hv__run_replicas_end(const run_opts *o, struct sw_replicas *r, const hv_swarm *sw, int ok);

/* coordinator --replica K (cli_replicas.c): its rows, and the process: replica K of the log
 * follows (redirecting the agents that connect to it to the leader) until it leads, then calls
 * lead(ud), which builds and runs the coordinator (its hv__run_replicas_begin takes the run
 * over from this replica's log); when it stops leading it follows again. Ends once the log
 * holds the finished run. Returns an exit code. */
extern const hv_opt hv__coord_replica_rows[];
int hv__run_replica_process(run_opts *o, const hv_series *bars, int (*lead)(void *ud), void *ud);

/* Fills o with every default (before hv__run_parse). */
void hv__run_opts_default(run_opts *o);

/* Parses argv against spec (whose sections target run_opts as above) and checks the swarm's
 * configuration, naming the option that is wrong. Returns HV_OPTS_PROCEED or an exit code. */
int hv__run_parse(const hv_cli_spec *spec, int argc, char **argv, run_opts *o);

/* The report of a run that ended (cli_report.c): the summary on stdout (or, with --json, the
 * JSON document), then DIR/run.json, DIR/run.html and DIR/trades.csv when --out is set.
 * stopped_by: the signal that stopped the run early ("SIGINT"), or NULL; the reports then say
 * they are partial. cmd: "run" or "coordinator". Returns 0 or HV_EXIT_FAIL. */
int hv__run_report(run_opts *o, const hv_swarm *sw, const hv_series *bars, const char *stopped_by,
                   hv_obs_cli *obs, const char *cmd);

/* The files hv__run_report() writes in --out (for the check before the run). */
extern const char *const hv__run_out_files[];

#endif

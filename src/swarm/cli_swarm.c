/*
 * hivewire run: the trading swarm over the real S&P 500 series (or synthetic bars), with a
 * progress bar, the stage table, trades, P&L, drawdown and consensus statistics, and the JSON
 * and HTML reports under out/.
 */
#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/swarm.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/sim.h"
#include "swarm/cli_node.h"
#include "swarm/cli_run.h"
#include "swarm/soak.h"

#define CMD "run"

static const char *cmd_name = CMD; /* "coordinator" for hivewire coordinator */

static const hv_opt remote_rows[] = {
    { .name = "remote",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, remote),
      .metavar = "ROLES",
      .help = "start these agents as child processes on loopback, over QUIC with certificates "
              "made on the fly: all, or a list of market-data, pattern (every pattern agent) "
              "or pattern-I, risk, strategy, execution" },
    { 0 },
};

static const hv_opt_section sections[] = {
    HV_RUN_CONFIG_SECTIONS,
    { "output", hv__run_output_rows, T_RUN },
    { "progress", hv__run_progress_rows, T_RUN },
    { "processes", remote_rows, T_RUN },
    { "replicated decision log (docs/LOG.md)", hv__run_replica_rows, T_RUN },
    { "observability (docs/OBSERVABILITY.md)", hv__obs_rows, T_OBS },
    { 0 },
};

static const hv_cli_spec spec = {
    .name = CMD,
    .synopsis = "[options]",
    .summary = "run the trading swarm over the S&P 500 series (make run)",
    .about = "Runs the trading swarm: a market-data agent replays daily bars, pattern agents\n"
             "predict the next move with DTW (each with its own window, k and library), a risk\n"
             "agent keeps a rolling VaR/ES and the pre-trade limits, a strategy agent proposes\n"
             "orders, the pattern and risk agents vote on them (rule chosen by the order's\n"
             "criticality), and an execution agent trades on the simulated exchange. Every\n"
             "agent is a state machine; every message an HVW1 frame. One cycle per bar. The\n"
             "same seed and data give the same trades and P&L on every run, whatever the\n"
             "runner (docs/SWARM.md).\n",
    .sections = sections,
    .epilog = "Ctrl-C (SIGINT or SIGTERM) stops the run at the end of the cycle that is running\n"
              "and writes the summary and reports, marked partial; a second one quits at once.\n"
              "\n"
              "Exit status: 0 done, 1 bad data or the swarm stopped (the message says which\n"
              "agent and why), 2 bad usage, 130 (SIGINT) or 143 (SIGTERM) stopped early with\n"
              "its partial reports written.\n",
};

/* ---- Progress ------------------------------------------------------------------------------ */

typedef struct progress {
    hv_cli_progress line;
    const hv_swarm *sw; /* for the events, read on the coordinator's thread */
    size_t events_shown;
    hv_obs_cli *obs;
    int stopping; /* a stop signal was seen: the run finishes after this cycle */
} progress;

/* An agent lost or back is told at once, one line each (operators and tests wait for them). */
static void show_events(progress *p)
{
    const hv_swarm_event *ev;
    size_t n = hv_swarm_events(p->sw, &ev);
    for (; p->events_shown < n; p->events_shown++) {
        const hv_swarm_event *e = &ev[p->events_shown];
        hv__cli_progress_break(&p->line);
        fprintf(stderr, "hivewire %s: %s %s at cycle %" PRIu64 " (%.2f s)\n", cmd_name, e->name,
                e->rejoined ? "back" : "lost", e->cycle, (double)e->t_ns / 1e9);
    }
}

/* On the coordinator's thread after every cycle: the events, the observer, the progress line;
 * a stop signal ends the run after this cycle. */
static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    progress *p = ud;
    show_events(p);
    hv__obs_cli_progress(p->obs, done, total);
    int sig = hv__cli_stop_signal();
    if (sig != 0 && !p->stopping) {
        p->stopping = sig;
        hv__cli_progress_break(&p->line);
        fprintf(stderr,
                "hivewire %s: %s: stopping after cycle %" PRIu64 " of %" PRIu64
                "; the reports will be partial (again to quit at once)\n",
                cmd_name, hv__cli_signal_name(sig), done, total);
    }
    if (p->stopping)
        return 1;
    hv__cli_progress_update(&p->line, done, total);
    return 0;
}

/* ---- Running, in one process or over several ----------------------------------------------------
 */

typedef struct node_run {
    int coordinator;  /* hivewire coordinator (else run --remote) */
    uint32_t remote;  /* cast slots in other processes */
    char certs[1024]; /* the directory of the certificates */
    int temp_certs;   /* made for this run: removed after it */
    pid_t pids[HV_SWARM_THREADS_MAX];
    uint32_t npids;
} node_run;

static const hv_cli_spec *cmd_spec(const node_run *nr);

static int prepare_node(run_opts *o, node_run *nr, sw_node_opts *node, char *paths, size_t cap,
                        char *host, size_t hcap)
{
    char why[256];
    uint32_t p = o->cfg.patterns, mask = 0;
    const char *list = nr->coordinator ? o->agents : o->remote;
    if (list != NULL && hv__node_roles(list, p, &mask, why, sizeof(why)) != 0)
        return hv__opts_usage_error(cmd_spec(nr), "--%s: %s", nr->coordinator ? "agents" : "remote",
                                    why);
    nr->remote = nr->coordinator ? (((1u << (p + 5)) - 1u) & ~1u) & ~mask : mask;
    memset(node, 0, sizeof(*node));
    node->remote_mask = nr->remote;
    uint16_t port = 0;
    if (nr->coordinator) {
        snprintf(nr->certs, sizeof(nr->certs), "%s", o->certs);
        if (hv__node_host_port(o->listen, host, hcap, &port) != 0)
            return hv__opts_usage_error(cmd_spec(nr), "--listen: '%s' is not HOST:PORT", o->listen);
    } else {
        snprintf(nr->certs, sizeof(nr->certs), "/tmp/hivewire-certs-XXXXXX");
        if (mkdtemp(nr->certs) == NULL) {
            hv__cli_error(cmd_name, "cannot make a directory for the certificates: %s",
                          strerror(errno));
            return HV_EXIT_FAIL;
        }
        nr->temp_certs = 1;
        snprintf(host, hcap, "127.0.0.1");
    }
    if ((!nr->coordinator || o->issue_certs) && !o->insecure &&
        hv__node_issue_certs(nr->certs, p, o->cfg.node, why, sizeof(why)) != 0) {
        hv__cli_error(cmd_name, "%s", why);
        return HV_EXIT_FAIL;
    }
    hv__node_net_opts(&node->net, nr->certs, "coordinator", o->insecure, paths, cap);
    node->net.host = host;
    node->net.port = port;
    if (o->insecure)
        fprintf(stderr, "hivewire %s: INSECURE: no certificates, nothing verified\n",
                nr->coordinator ? "coordinator" : CMD);
    return 0;
}

/* The hub's per-link figures to the observer, named after the agents at the other end. */
typedef struct obs_links {
    hv_obs *obs;
    hv_swarm_agent_info agents[HV_SWARM_THREADS_MAX];
    uint32_t nagents;
} obs_links;

static void links_to_obs(void *ud, const hv_net_link_stats *ls, uint32_t n)
{
    const obs_links *ol = ud;
    hv_obs_link out[HV_SWARM_THREADS_MAX];
    for (uint32_t i = 0; i < n && i < HV_SWARM_THREADS_MAX; i++) {
        out[i].s = ls[i];
        snprintf(out[i].name, sizeof(out[i].name), "%016" PRIx64, ls[i].peer_id);
        for (uint32_t a = 0; a < ol->nagents; a++)
            if (ol->agents[a].id == ls[i].peer_id)
                snprintf(out[i].name, sizeof(out[i].name), "%s", ol->agents[a].name);
    }
    hv__obs_links(ol->obs, out, n < HV_SWARM_THREADS_MAX ? n : HV_SWARM_THREADS_MAX);
}

/* Starts the observer (servers, alerts) on sw; a networked run's links feed it 4 times a
 * second from the gateway's thread. */
static int observe(run_opts *o, hv_swarm *sw, const hv_series *bars, obs_links *ol)
{
    const char *title = o->bars.synthetic ? "synthetic" : o->bars.data;
    if (hv__obs_cli_begin(&o->obs, cmd_name, sw, &o->cfg, bars->bars, bars->len, title) != 0)
        return HV_EXIT_FAIL;
    sw_gateway *gw = hv__swarm_gateway(sw);
    if (gw != NULL && o->obs.obs != NULL) {
        ol->obs = o->obs.obs;
        ol->nagents = hv_swarm_agents(sw, ol->agents, HV_SWARM_THREADS_MAX);
        hv__sw_gateway_watch(gw, links_to_obs, ol, 250000000ull);
    }
    return 0;
}

static int run_swarm(run_opts *o, const hv_series *bars, node_run *nr, int argc, char **argv)
{
    hv_swarm *sw = NULL;
    sw_node_opts node;
    char paths[3 * 1024], host[256];
    int err;
    if (nr != NULL) {
        int rc = prepare_node(o, nr, &node, paths, sizeof(paths), host, sizeof(host));
        if (rc != 0)
            return rc;
        err = hv__swarm_new_node(&o->cfg, bars->bars, bars->len, &node, &sw);
    } else {
        err = hv_swarm_new(&o->cfg, bars->bars, bars->len, &sw);
    }
    if (err != 0) {
        hv__cli_error(cmd_name, "cannot build the swarm: %s%s%s", hv_strerror(err),
                      nr != NULL ? ": " : "", nr != NULL ? hv_net_last_error(NULL) : "");
        return HV_EXIT_FAIL;
    }
    struct sw_replicas *reps = NULL;
    obs_links ol;
    if (hv__run_replicas_begin(o, sw, bars->bars, bars->len, &reps) != 0 ||
        observe(o, sw, bars, &ol) != 0) {
        hv__run_replicas_end(o, reps, sw, 0);
        hv_swarm_free(sw);
        return HV_EXIT_FAIL;
    }
    sw_gateway *gw = hv__swarm_gateway(sw);
    if (gw != NULL && nr != NULL && !nr->coordinator) {
        hv_node_children kids = { .quiet_children = 1 };
        err = hv__node_spawn(&kids, argc, argv, nr->certs, hv_net_port(gw->hub), nr->remote,
                             o->cfg.patterns, nr->pids, &nr->npids);
    } else if (gw != NULL) {
        fprintf(stderr, "hivewire coordinator: listening on %s:%u for %u agents\n", node.net.host,
                hv_net_port(gw->hub), (unsigned)__builtin_popcount(nr->remote));
    }
    /* a bar on a terminal, lines else; the agents' events always */
    progress pr = { .sw = sw, .obs = &o->obs };
    hv__cli_progress_init(&pr.line, cmd_name, "cycles", o->progress);
    hv__cli_stop_catch();
    if (err == 0)
        err = hv_swarm_run(sw, on_progress, &pr);
    hv__cli_stop_release(); /* after the run, Ctrl-C is for the serving (src/obs/cli_obs.c) */
    if (gw != NULL)
        hv__sw_gateway_links(gw); /* the final figures, when watched */
    hv__obs_cli_end(&o->obs, err);
    int rc;
    if (err != 0) {
        hv__cli_error(cmd_name, "the swarm stopped: %s",
                      hv_swarm_error(sw)[0] ? hv_swarm_error(sw) : hv_strerror(err));
        rc = HV_EXIT_FAIL;
    } else {
        rc = hv__run_report(o, sw, bars, hv__cli_signal_name(pr.stopping), &o->obs, cmd_name);
        if (gw != NULL && !o->json)
            hv__node_print_links(gw->hub, stdout, o->wide);
        if (rc == 0 && pr.stopping)
            rc = 128 + pr.stopping; /* stopped early: 130 after SIGINT, 143 after SIGTERM */
    }
    int rrc = hv__run_replicas_end(o, reps, sw, err == 0);
    rc = rc == 0 ? rrc : rc;
    if (nr != NULL)
        hv__node_reap(nr->pids, nr->npids, 5000);
    hv__obs_cli_close(&o->obs);
    hv_swarm_free(sw);
    if (nr != NULL && nr->temp_certs)
        hv__node_remove_certs(nr->certs, o->cfg.patterns);
    return rc;
}

typedef struct lead_ctx {
    run_opts *o;
    const hv_series *bars;
    int argc;
    char **argv;
} lead_ctx;

/* coordinator --replica: this replica leads; its coordinator, resumed from the log. */
static int lead(void *ud)
{
    lead_ctx *x = ud;
    node_run nr;
    memset(&nr, 0, sizeof(nr));
    nr.coordinator = 1;
    return run_swarm(x->o, x->bars, &nr, x->argc, x->argv);
}

static int load_and_run(run_opts *o, node_run *nr, int argc, char **argv)
{
    if (o->out != NULL && hv__cli_out_check(cmd_name, "--out", o->out, hv__run_out_files) != 0)
        return HV_EXIT_FAIL; /* before the run, not after it */
    hv_series bars;
    hv_series_init(&bars);
    int rc = hv__cli_bars_load(CMD, &o->bars, o->cfg.seed, &bars);
    if (rc == 0 && bars.len < 2) {
        hv__cli_error(CMD, "%s has %zu bar; the swarm needs at least 2",
                      o->bars.synthetic ? "the synthetic series" : o->bars.data, bars.len);
        rc = HV_EXIT_FAIL;
    }
    lead_ctx x = { o, &bars, argc, argv };
    if (rc == 0 && o->replica != 0)
        rc = hv__run_replica_process(o, &bars, lead, &x);
    else if (rc == 0)
        rc = run_swarm(o, &bars, nr, argc, argv);
    hv_series_fini(&bars);
    return rc;
}

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_run = &spec;

int hv_cmd_run(int argc, char **argv);

int hv_cmd_run(int argc, char **argv)
{
    run_opts o;
    hv__run_opts_default(&o);
    int rc = hv__run_parse(&spec, argc, argv, &o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    node_run nr;
    memset(&nr, 0, sizeof(nr));
    return load_and_run(&o, o.remote != NULL ? &nr : NULL, argc, argv);
}

/* ---- hivewire coordinator
 * ------------------------------------------------------------------------ */

static const hv_opt coord_net_rows[] = {
    { .name = "listen",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, listen),
      .metavar = "HOST:PORT",
      .dflt = "127.0.0.1:4433",
      .help = "where the agents connect (with --replica: X,Y,Z, every replica's, in --peers's "
              "order)" },
    { .name = "agents",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(run_opts, agents),
      .metavar = "ROLES",
      .help = "agents placed with the coordinator (default none: every agent connects): a "
              "list of market-data, pattern, pattern-I, risk, strategy, execution" },
    { .name = "certs",
      .kind = HV_OPT_STRING,
      .flags = HV_OPT_DIR,
      HV_OPT_AT(run_opts, certs),
      .dflt = "certs",
      .help = "ca.pem, coordinator.pem/.key and the agents' certificates" },
    { .name = "issue-certs",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(run_opts, issue_certs),
      .help = "make the CA and every member's certificate in --certs first (those present "
              "are kept); copy the directory to the agents' machines" },
    { .name = "insecure",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(run_opts, insecure),
      .help = "INSECURE: no certificates, nothing verified (tests and demos only)" },
    { .name = "soak",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, soak),
      .umin = 1,
      .umax = HV_SOAK_AGENTS_MAX,
      .metavar = "N",
      .help = "a soak instead of a swarm: wait for N load agents (hivewire agent --count N), "
              "answer their heartbeats, and report who was lost and the memory per agent" },
    { .name = "for",
      .kind = HV_OPT_U64,
      HV_OPT_AT(run_opts, soak_s),
      .umin = 1,
      .umax = 86400,
      .needs = "soak",
      .dflt = "10",
      .help = "the soak's length once every agent joined, in seconds" },
    { 0 },
};

static const hv_opt_section coord_sections[] = {
    { "network", coord_net_rows, T_RUN },
    { "replicated decision log (docs/LOG.md)", hv__coord_replica_rows, T_RUN },
    HV_RUN_CONFIG_SECTIONS,
    { "output", hv__run_output_rows, T_RUN },
    { "progress", hv__run_progress_rows, T_RUN },
    { "observability (docs/OBSERVABILITY.md)", hv__obs_rows, T_OBS },
    { 0 },
};

static const hv_cli_spec coord_spec = {
    .name = "coordinator",
    .synopsis = "[--listen HOST:PORT] [--agents ROLES] [options]",
    .summary = "run a trading swarm's coordinator; its agents connect over QUIC",
    .about = "Runs the coordinator of a trading swarm (and the agents placed with it) and\n"
             "waits for the other agents to connect over QUIC with mutual TLS (hivewire agent\n"
             "--agents ROLES --connect HOST:PORT, on this machine or others, with the same swarm\n"
             "options). Then it runs the swarm as hivewire run does and prints the same summary\n"
             "and reports, with per-link figures.\n",
    .sections = coord_sections,
    .epilog = "Exit status: 0 done, 1 bad data or the swarm stopped (the message says which\n"
              "agent and why), 2 bad usage.\n",
};

static const hv_cli_spec *cmd_spec(const node_run *nr)
{
    return nr->coordinator ? &coord_spec : &spec;
}

/* hivewire coordinator --soak N: the hub side of a soak. */
static int soak_hub(const run_opts *o)
{
    char why[256], host[256], paths[3 * 1024];
    hv_soak_opts so;
    memset(&so, 0, sizeof(so));
    so.agents = (uint32_t)o->soak;
    so.run_ms = (o->soak_s ? o->soak_s : 10) * 1000u;
    so.join_ms = 60000;
    uint16_t port;
    if (hv__node_host_port(o->listen, host, sizeof(host), &port) != 0)
        return hv__opts_usage_error(&coord_spec, "--listen: '%s' is not HOST:PORT", o->listen);
    if (o->issue_certs && !o->insecure &&
        (hv__node_issue_certs(o->certs, o->cfg.patterns, o->cfg.node, why, sizeof(why)) != 0 ||
         hv__node_issue_load_certs(o->certs, so.agents, why, sizeof(why)) != 0)) {
        hv__cli_error("coordinator", "%s", why);
        return HV_EXIT_FAIL;
    }
    hv__node_net_opts(&so.net, o->certs, "coordinator", o->insecure, paths, sizeof(paths));
    so.net.acl = hv_net_acl_default(); /* load agents are workers: the transport's table */
    so.net.host = host;
    so.net.port = port;
    fprintf(stderr, "hivewire coordinator: soak: waiting for %u agents on %s:%u\n", so.agents, host,
            port);
    hv_soak_result r;
    int rc = hv__soak_hub(&so, &r);
    if (rc != 0) {
        hv__cli_error("coordinator", "%s", r.error[0] ? r.error : hv_strerror(rc));
        return HV_EXIT_FAIL;
    }
    uint64_t grew = r.rss_after > r.rss_before ? r.rss_after - r.rss_before : 0;
    char val[256];
    snprintf(val, sizeof(val), "%u of %u (%u refused)", r.joined, so.agents, r.refused);
    hv__cli_print_row(stdout, "agents joined", val, o->wide);
    snprintf(val, sizeof(val), "%u", r.lost);
    hv__cli_print_row(stdout, "agents lost", val, o->wide);
    snprintf(val, sizeof(val), "%" PRIu64 ", task results %" PRIu64, r.heartbeats, r.results);
    hv__cli_print_row(stdout, "heartbeats answered", val, o->wide);
    snprintf(val, sizeof(val), "%.1f MiB resident with every agent connected, %.1f KiB per agent",
             (double)r.rss_after / 1048576.0, r.joined ? (double)grew / 1024.0 / r.joined : 0.0);
    hv__cli_print_row(stdout, "coordinator memory", val, o->wide);
    return r.joined == so.agents && r.lost == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_coordinator = &coord_spec;

int hv_cmd_coordinator(int argc, char **argv);

int hv_cmd_coordinator(int argc, char **argv)
{
    run_opts o;
    hv__run_opts_default(&o);
    o.listen = "127.0.0.1:4433";
    o.certs = "certs";
    int rc = hv__run_parse(&coord_spec, argc, argv, &o);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (o.soak > 0)
        return soak_hub(&o);
    node_run nr;
    memset(&nr, 0, sizeof(nr));
    nr.coordinator = 1;
    cmd_name = "coordinator";
    return load_and_run(&o, &nr, argc, argv);
}

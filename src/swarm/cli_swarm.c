/*
 * hivewire run: the trading swarm over the real S&P 500 series (or synthetic bars), with a
 * progress bar, the stage table, trades, P&L, drawdown and consensus statistics, and the JSON
 * and HTML reports under out/.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hivewire/swarm.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/sim.h"
#include "swarm/cli_node.h"
#include "swarm/cli_run.h"
#include "swarm/soak.h"
#include "trading/cli_trading.h"

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
    { "processes", remote_rows, T_RUN },
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
    .epilog = "Exit status: 0 done, 1 bad data or the swarm stopped (the message says which\n"
              "agent and why), 2 bad usage.\n",
};

/* ---- Progress ------------------------------------------------------------------------------ */

typedef struct progress {
    int tty;
    int show;           /* draw the bar or the lines (else only the agents' events) */
    const hv_swarm *sw; /* for the events, read on the coordinator's thread */
    size_t events_shown;
    uint64_t last_ns, start_ns;
    hv_obs_cli *obs;
} progress;

/* An agent lost or back is told at once, one line each (operators and tests wait for them). */
static void show_events(progress *p)
{
    const hv_swarm_event *ev;
    size_t n = hv_swarm_events(p->sw, &ev);
    for (; p->events_shown < n; p->events_shown++) {
        const hv_swarm_event *e = &ev[p->events_shown];
        fprintf(stderr, "%shivewire %s: %s %s at cycle %" PRIu64 " (%.2f s)\n", p->tty ? "\r" : "",
                cmd_name, e->name, e->rejoined ? "back" : "lost", e->cycle, (double)e->t_ns / 1e9);
    }
}

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    progress *p = ud;
    show_events(p);
    hv__obs_cli_progress(p->obs, done, total);
    if (!p->show)
        return 0;
    uint64_t now = hv_now_ns();
    uint64_t every = p->tty ? 100000000ull : 1000000000ull;
    if (done != total && now - p->last_ns < every)
        return 0;
    p->last_ns = now;
    double el = (double)(now - p->start_ns) / 1e9;
    double rate = el > 0 ? (double)done / el : 0;
    if (p->tty) {
        int w = 40, fill = (int)((double)w * (double)done / (double)total);
        fprintf(stderr, "\r[%.*s%*s] %3.0f%% %" PRIu64 "/%" PRIu64 " cycles, %.0f cycles/s", fill,
                "########################################", w - fill, "",
                100.0 * (double)done / (double)total, done, total, rate);
        if (done == total)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "hivewire %s: %" PRIu64 "/%" PRIu64 " cycles, %.0f cycles/s\n", cmd_name,
                done, total, rate);
    }
    return 0;
}

/* ---- Output -------------------------------------------------------------------------------- */

typedef struct summary {
    char v[HV_REPORT_SUMMARY_MAX][192];
    const char *keys[HV_REPORT_SUMMARY_MAX];
    const char *vals[HV_REPORT_SUMMARY_MAX];
    size_t n;
} summary;

static void add(summary *s, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(summary *s, const char *k, const char *fmt, ...)
{
    if (s->n == HV_REPORT_SUMMARY_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->v[s->n], sizeof(s->v[0]), fmt, ap);
    va_end(ap);
    s->keys[s->n] = k;
    s->vals[s->n] = s->v[s->n];
    s->n++;
}

/* CPU time and context switches per cycle, in total and by thread ("name us/switches"), from
 * getrusage (docs/SWARM.md). */
static void add_usage(summary *s, const hv_swarm_stats *st, int placement)
{
    double n = st->cycles > 0 ? (double)st->cycles : 1;
    add(s, "cpu per cycle", "%.1f us over %u threads, %.1f sleeps + %.1f preemptions",
        (double)st->cpu_ns / 1e3 / n, st->nthreads, (double)st->switches_voluntary / n,
        (double)st->switches_involuntary / n);
    char line[256];
    size_t used = 0;
    line[0] = 0;
    for (uint32_t i = 0; i < st->nthreads && used < sizeof(line); i++) {
        const hv_swarm_usage *u = &st->threads[i];
        char at[16] = "";
        if (u->cpu >= 0)
            snprintf(at, sizeof(at), "@%d", u->cpu);
        int w = snprintf(line + used, sizeof(line) - used, "%s%s%s %.0f/%.1f", i ? " " : "",
                         u->name, at, (double)u->cpu_ns / 1e3 / n,
                         (double)(u->switches_voluntary + u->switches_involuntary) / n);
        used += w > 0 ? (size_t)w : 0;
    }
    add(s, "  by thread", "%s", line); /* cut at the summary's width with 16 pattern agents */
    if (placement >= 0)
        add(s, "  placement", "%s",
            placement == HV_SWARM_PLACE_AUTO
                ? "auto (name@cpu: pinned there; unmarked: left to the OS)"
                : "none (the OS places the threads)");
}

/* The agents lost and back, a few per summary row ("pattern-0 lost at cycle 812 (1.42 s)"). */
static void add_events(summary *s, const hv_swarm *sw)
{
    const hv_swarm_event *ev;
    size_t n = hv_swarm_events(sw, &ev);
    char line[180];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char one[80];
        snprintf(one, sizeof(one), "%s%s %s at cycle %" PRIu64 " (%.2f s)", used ? "; " : "",
                 ev[i].name, ev[i].rejoined ? "back" : "lost", ev[i].cycle,
                 (double)ev[i].t_ns / 1e9);
        if (used + strlen(one) >= sizeof(line)) {
            add(s, "  agent events", "%s", line);
            used = 0;
            snprintf(one, sizeof(one), "%s %s at cycle %" PRIu64 " (%.2f s)", ev[i].name,
                     ev[i].rejoined ? "back" : "lost", ev[i].cycle, (double)ev[i].t_ns / 1e9);
        }
        memcpy(line + used, one, strlen(one) + 1);
        used += strlen(one);
    }
    if (used > 0)
        add(s, "  agent events", "%s", line);
}

static void summarise(const run_opts *o, const hv_swarm *sw, size_t nbars, summary *s)
{
    hv_swarm_stats st;
    hv_profiler_stage_stats cy;
    hv_swarm_stats_get(sw, &st);
    hv_profiler_stage_stats_get(hv_swarm_profiler(sw), HV_PROFILER_CYCLE, &cy);
    const hv_portfolio_stats *p = &st.portfolio;
    double wall = (double)st.wall_ns / 1e9;
    memset(s, 0, sizeof(*s));
    add(s, "data", "%s%s%s%s, %zu bars", o->bars.synthetic ? "synthetic GBM" : o->bars.data,
        o->bars.symbol ? " (" : "", o->bars.symbol ? o->bars.symbol : "", o->bars.symbol ? ")" : "",
        nbars);
    add(s, "agents", "%u pattern + market data, risk, strategy, execution, coordinator (%u voters)",
        o->cfg.patterns, o->cfg.patterns + (o->cfg.risk_votes ? 1u : 0u));
    add(s, "cycles", "%" PRIu64, st.cycles);
    add(s, "wall time", "%.3f s", wall);
    add(s, "cycles/s", "%.0f", wall > 0 ? (double)st.cycles / wall : 0);
    add(s, "cycle latency p50 / p99", "%.1f us / %.1f us", (double)cy.p50_ns / 1e3,
        (double)cy.p99_ns / 1e3);
    add(s, "proposals",
        "%" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64 ", no quorum %" PRIu64 ")",
        st.proposals, st.accepted, st.rejected, st.no_quorum);
    add(s, "rules used", "bft %d, threshold %d, simple %d, majority %d, other %d",
        st.rules_used[HV_RULE_BFT], st.rules_used[HV_RULE_THRESHOLD],
        st.rules_used[HV_RULE_SIMPLE_MAJORITY], st.rules_used[HV_RULE_MAJORITY],
        st.rules_used[HV_RULE_WEIGHTED] + st.rules_used[HV_RULE_UNANIMOUS]);
    add(s, "votes",
        "%" PRIu64 " counted, %" PRIu64 " after the decision, %" PRIu64 " refused; %" PRIu64
        " decided early; auth %s",
        st.votes_counted, st.votes_late, st.votes_bad + st.votes_unknown, st.decided_early,
        st.vote_auth == HV_SWARM_AUTH_SIG ? "Ed25519 signatures"
                                          : "BLAKE2b MACs (every voter in this process)");
    if (st.cycles_stalled + st.orders_unknown + st.frames_bad + st.agents_lost > 0)
        add(s, "faults",
            "%" PRIu64 " cycles stalled, %" PRIu64 " order results unknown, %" PRIu64
            " frames refused, %u agents lost (%u rejoined)",
            st.cycles_stalled, st.orders_unknown, st.frames_bad, st.agents_lost,
            st.agents_rejoined);
    add_events(s, sw);
    add(s, "orders",
        "%" PRIu64 " sent, %" PRIu64 " refused by limits, %" PRIu64 " by the kill switch, %" PRIu64
        " by the exchange",
        st.orders_sent, st.orders_refused_limit, st.orders_refused_halt,
        st.orders_refused_exchange);
    add(s, "trades (fills)", "%" PRIu64 ", %" PRId64 " shares", st.fills, p->shares_traded);
    add(s, "fees", "%.2f", p->fees);
    add(s, "realized P&L", "%.2f", p->realized_pnl);
    add(s, "final position", "%" PRId64, p->position);
    add(s, "final equity", "%.2f (P&L %.2f, %.3f%%)", p->equity, p->equity - p->cash_initial,
        (p->equity / p->cash_initial - 1) * 100);
    add(s, "max drawdown", "%.2f (%.3f%%)", p->max_drawdown, p->max_drawdown_frac * 100);
    if (st.halted) {
        char why[160];
        hv_limit_breach_format(&st.halt_breach, why, sizeof(why));
        add(s, "kill switch", "HALTED at cycle %" PRIu64 " (%s); new orders refused afterwards",
            st.halted_cycle, why);
    } else {
        add(s, "kill switch", "off");
    }
    add(s, "bus messages", "%" PRIu64, st.bus_messages);
    add(s, "runner", "%s",
        st.runner == HV_SWARM_RUNNER_THREADS ? "threads: a thread per agent"
        : o->cfg.runner == HV_SWARM_RUNNER_AUTO
            ? "one (auto): every agent stepped by one thread, no hand-offs between threads"
            : "one: every agent stepped by one thread");
    add_usage(s, &st, st.runner == HV_SWARM_RUNNER_THREADS ? o->cfg.placement : -1);
    add(s, "trade list hash", "%016" PRIx64, st.trades_hash);
}

static int write_report(run_opts *o, const char *name, const hv_swarm *sw, const summary *s,
                        const char *title)
{
    const uint64_t *t;
    const double *eq;
    size_t n = hv_swarm_equity_curve(sw, &t, &eq);
    hv_report_extra x = { .title = title,
                          .summary_n = s->n,
                          .summary_keys = s->keys,
                          .summary_values = s->vals,
                          .equity_n = n,
                          .equity_t_ns = t,
                          .equity = eq };
    hv__obs_cli_report(&o->obs, &x);
    return hv__cli_write_report(CMD, o->out, name, hv_swarm_profiler(sw), &x);
}

static int output(run_opts *o, const hv_swarm *sw, size_t nbars)
{
    summary s;
    summarise(o, sw, nbars, &s);
    for (size_t i = 0; i < s.n; i++)
        printf("%-24s %s\n", s.keys[i], s.vals[i]);
    if (!o->quiet) {
        printf("\nstages (critical path of each cycle; self time; see docs/SWARM.md)\n");
        hv_profiler_write_table(hv_swarm_profiler(sw), stdout);
    }
    fflush(stdout);
    if (o->out == NULL)
        return 0;
    if (hv__cli_make_dir(CMD, o->out) != 0)
        return HV_EXIT_FAIL;
    char title[160];
    snprintf(title, sizeof(title), "hivewire run: %s, seed %llu",
             o->bars.synthetic ? "synthetic" : o->bars.data, (unsigned long long)o->cfg.seed);
    if (write_report(o, "run.json", sw, &s, title) != 0)
        return HV_EXIT_FAIL;
    return write_report(o, "run.html", sw, &s, title);
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
    obs_links ol;
    if (observe(o, sw, bars, &ol) != 0) {
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
    progress pr = { .tty = isatty(2),
                    .show = o->progress != 0,
                    .sw = sw,
                    .start_ns = hv_now_ns(),
                    .obs = &o->obs };
    pr.last_ns = pr.start_ns;
    if (err == 0)
        err = hv_swarm_run(sw, on_progress, &pr);
    if (gw != NULL)
        hv__sw_gateway_links(gw); /* the final figures, when watched */
    hv__obs_cli_end(&o->obs, err);
    int rc;
    if (err != 0) {
        hv__cli_error(cmd_name, "the swarm stopped: %s",
                      hv_swarm_error(sw)[0] ? hv_swarm_error(sw) : hv_strerror(err));
        rc = HV_EXIT_FAIL;
    } else {
        rc = output(o, sw, bars->len);
        if (gw != NULL)
            hv__node_print_links(gw->hub, stdout);
    }
    if (nr != NULL)
        hv__node_reap(nr->pids, nr->npids, 5000);
    hv__obs_cli_close(&o->obs);
    hv_swarm_free(sw);
    if (nr != NULL && nr->temp_certs)
        hv__node_remove_certs(nr->certs, o->cfg.patterns);
    return rc;
}

static int load_and_run(run_opts *o, node_run *nr, int argc, char **argv)
{
    if (o->out != NULL && hv__cli_make_dir(CMD, o->out) != 0) /* before the run, not after */
        return HV_EXIT_FAIL;
    hv_series bars;
    hv_series_init(&bars);
    int rc = hv__cli_bars_load(CMD, &o->bars, o->cfg.seed, &bars);
    if (rc == 0 && bars.len < 2) {
        hv__cli_error(CMD, "%s has %zu bar; the swarm needs at least 2",
                      o->bars.synthetic ? "the synthetic series" : o->bars.data, bars.len);
        rc = HV_EXIT_FAIL;
    }
    if (rc == 0)
        rc = run_swarm(o, &bars, nr, argc, argv);
    hv_series_fini(&bars);
    return rc;
}

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
      .help = "where the agents connect" },
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
    HV_RUN_CONFIG_SECTIONS,
    { "output", hv__run_output_rows, T_RUN },
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
    so.net.acl = NULL; /* load agents are workers: the transport's default table */
    hv_net_opts_default(&so.net);
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
    printf("agents joined            %u of %u (%u refused)\n", r.joined, so.agents, r.refused);
    printf("agents lost              %u\n", r.lost);
    printf("heartbeats answered      %" PRIu64 ", task results %" PRIu64 "\n", r.heartbeats,
           r.results);
    printf("coordinator memory       %.1f MiB resident with every agent connected, %.1f KiB "
           "per agent\n",
           (double)r.rss_after / 1048576.0, r.joined ? (double)grew / 1024.0 / r.joined : 0.0);
    return r.joined == so.agents && r.lost == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
}

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

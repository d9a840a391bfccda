/* The observability options and the run hooks (cli_obs.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "obs/cli_obs.h"

/* ---- Options ----------------------------------------------------------------------------------
 */

static int apply_addr(void *target, const hv_opt *opt, const hv_opt_value *v, char *why, size_t cap)
{
    hv_obs_cli *c = target;
    hv_obs_addr *a = strcmp(opt->name, "metrics") == 0 ? &c->opts.metrics : &c->opts.serve;
    return hv__obs_parse_addr(v->s, a, why, cap) == 0 ? 0 : -1;
}

#define OBS_AT(member) HV_OPT_AT(hv_obs_cli, member)

const hv_opt hv__obs_rows[] = {
    { .name = "metrics",
      .kind = HV_OPT_STRING,
      .apply = apply_addr,
      .metavar = "HOST:PORT",
      .help = "serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free one)" },
    { .name = "serve",
      .kind = HV_OPT_STRING,
      .apply = apply_addr,
      .metavar = "HOST:PORT",
      .help = "serve the live dashboard at http://HOST:PORT/ (and /metrics)" },
    { .name = "serve-for",
      .kind = HV_OPT_U64,
      OBS_AT(serve_for_s),
      .umax = 31536000,
      .metavar = "SECONDS",
      .help = "after the run, serve the final state this long (default: until Ctrl-C)" },
    { .name = "no-alerts",
      .kind = HV_OPT_FLAG,
      OBS_AT(no_alerts),
      .help = "no alerts (on stderr, in /metrics, the dashboard and the report)" },
    { .name = "alert-p95-ms",
      .kind = HV_OPT_DOUBLE,
      OBS_AT(p95_ms),
      .dmax = 3600000,
      .dflt = "1",
      .help = "warning: p95 of the recent cycles above X ms (0: off)" },
    { .name = "alert-p99-ms",
      .kind = HV_OPT_DOUBLE,
      OBS_AT(p99_ms),
      .dmax = 3600000,
      .dflt = "5",
      .help = "critical: p99 of the recent cycles above X ms (0: off)" },
    { .name = "alert-queue-depth",
      .kind = HV_OPT_U64,
      OBS_AT(queue_depth),
      .umax = 1000000000,
      .dflt = "10000",
      .help = "warning: an inbox holds more than N messages (0: off)" },
    { .name = "alert-memory-mb",
      .kind = HV_OPT_DOUBLE,
      OBS_AT(memory_mb),
      .dmax = 1e9,
      .dflt = "100",
      .help = "warning: resident memory above X MB (0: off)" },
    { .name = "alert-error-rate",
      .kind = HV_OPT_DOUBLE,
      OBS_AT(error_rate),
      .dmax = 1,
      .dflt = "0.001",
      .help = "critical: errors per message received above X (0: off)" },
    { .name = "alert-cpu-wait",
      .kind = HV_OPT_DOUBLE,
      OBS_AT(cpu_wait),
      .dmax = 1,
      .dflt = "0.1",
      .help = "warning: the runner waited for a CPU more than this share of the time (0: off)" },
    { 0 },
};

void hv__obs_cli_default(hv_obs_cli *c)
{
    memset(c, 0, sizeof(*c));
    hv__obs_opts_default(&c->opts);
    c->serve_for_s = UINT64_MAX;
    const hv_obs_alert_config *a = &c->opts.alert_cfg;
    c->p95_ms = a->threshold[HV_OBS_ALERT_CYCLE_P95] * 1e3;
    c->p99_ms = a->threshold[HV_OBS_ALERT_CYCLE_P99] * 1e3;
    c->queue_depth = (uint64_t)a->threshold[HV_OBS_ALERT_QUEUE_DEPTH];
    c->memory_mb = a->threshold[HV_OBS_ALERT_MEMORY] / 1e6;
    c->error_rate = a->threshold[HV_OBS_ALERT_ERROR_RATE];
    c->cpu_wait = a->threshold[HV_OBS_ALERT_CPU_CONTENDED];
}

/* ---- Hooks ------------------------------------------------------------------------------------
 */

static void say_where(const char *cmd, const hv_obs_addr *a, uint16_t port, const char *path)
{
    int v6 = strchr(a->host, ':') != NULL;
    fprintf(stderr, "hivewire %s: %s at http://%s%s%s:%u%s\n", cmd,
            strcmp(path, "/metrics") == 0 ? "metrics" : "dashboard", v6 ? "[" : "", a->host,
            v6 ? "]" : "", (unsigned)port, path);
}

int hv__obs_cli_begin(hv_obs_cli *c, const char *cmd, hv_swarm *sw, const hv_swarm_opts *cfg,
                      const hv_bar *bars, size_t n, const char *title)
{
    hv_obs_opts *o = &c->opts;
    o->cmd = cmd;
    o->alerts = !c->no_alerts;
    double *t = o->alert_cfg.threshold;
    t[HV_OBS_ALERT_CYCLE_P95] = c->p95_ms / 1e3;
    t[HV_OBS_ALERT_CYCLE_P99] = c->p99_ms / 1e3;
    t[HV_OBS_ALERT_QUEUE_DEPTH] = (double)c->queue_depth;
    t[HV_OBS_ALERT_MEMORY] = c->memory_mb * 1e6;
    t[HV_OBS_ALERT_ERROR_RATE] = c->error_rate;
    t[HV_OBS_ALERT_CPU_CONTENDED] = c->cpu_wait;
    if (c->no_alerts)
        for (int i = 0; i < HV_OBS_ALERT_COUNT; i++)
            t[i] = 0;
    char err[256] = "";
    int rc = hv__obs_new(o, &c->obs, err, sizeof(err));
    if (rc == 0 && (rc = hv__obs_attach(c->obs, sw, cfg, bars, n, title)) != 0)
        snprintf(err, sizeof(err), "%s", hv_strerror(rc));
    if (rc != 0) {
        hv__cli_error(cmd, "%s", err);
        hv__obs_free(c->obs);
        c->obs = NULL;
        return HV_EXIT_FAIL;
    }
    if (o->metrics.port >= 0)
        say_where(cmd, &o->metrics, hv__obs_port(c->obs, 0), "/metrics");
    if (o->serve.port >= 0)
        say_where(cmd, &o->serve, hv__obs_port(c->obs, 1), "/");
    return 0;
}

void hv__obs_cli_progress(hv_obs_cli *c, uint64_t done, uint64_t total)
{
    if (c->obs != NULL)
        hv__obs_progress(c->obs, done, total);
}

void hv__obs_cli_end(hv_obs_cli *c, int run_rc)
{
    if (c->obs != NULL)
        hv__obs_done(c->obs, run_rc);
}

void hv__obs_cli_report(hv_obs_cli *c, hv_report_extra *x)
{
    if (c->obs == NULL || c->no_alerts)
        return;
    const hv_obs_alert_event *ev;
    size_t n = hv__obs_alert_log(c->obs, &ev, NULL);
    c->nreport = 0;
    for (size_t i = 0; i < n; i++) {
        const hv_obs_alert_event *e = &ev[i];
        if (e->raised) {
            hv_report_alert *r = &c->report[c->nreport++];
            r->name = hv__obs_alert_name(e->id);
            r->severity = hv__obs_severity_name(hv__obs_alert_severity(e->id));
            r->message = e->message;
            r->raised_s = (double)e->at_ns / 1e9;
            r->cleared_s = -1;
            continue;
        }
        for (size_t k = c->nreport; k-- > 0;)
            if (strcmp(c->report[k].name, hv__obs_alert_name(e->id)) == 0) {
                c->report[k].cleared_s = (double)e->at_ns / 1e9;
                break;
            }
    }
    x->alerts_watched = 1;
    x->alerts_n = c->nreport;
    x->alerts = c->report;
}

/* ---- Serving the final state ------------------------------------------------------------------
 */

static int wake[2] = { -1, -1 };

static void on_signal(int sig)
{
    (void)sig;
    ssize_t w = write(wake[1], "x", 1);
    (void)w;
}

/* Waits for SIGINT or SIGTERM, at most seconds (UINT64_MAX: forever). Says so on stderr once
 * the signals are caught, so whoever reads the line may send one. */
static void wait_for_stop(const char *cmd, uint64_t seconds)
{
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0)
        return;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    if (seconds == UINT64_MAX)
        fprintf(stderr, "hivewire %s: serving the final state until Ctrl-C\n", cmd);
    else
        fprintf(stderr, "hivewire %s: serving the final state for %llu s (Ctrl-C stops)\n", cmd,
                (unsigned long long)seconds);
    uint64_t deadline = seconds == UINT64_MAX ? UINT64_MAX : hv_now_ns() + seconds * 1000000000ull;
    for (;;) {
        uint64_t now = hv_now_ns();
        if (now >= deadline)
            break;
        uint64_t left_ms = deadline == UINT64_MAX ? 60000 : (deadline - now) / 1000000 + 1;
        struct pollfd p = { .fd = wake[0], .events = POLLIN };
        int rc = poll(&p, 1, (int)(left_ms > 60000 ? 60000 : left_ms));
        if (rc > 0 || (rc < 0 && errno != EINTR))
            break;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(wake[0]);
    close(wake[1]);
    wake[0] = wake[1] = -1;
}

void hv__obs_cli_close(hv_obs_cli *c)
{
    if (c->obs == NULL)
        return;
    int serving = hv__obs_port(c->obs, 0) != 0 || hv__obs_port(c->obs, 1) != 0;
    if (serving && c->serve_for_s > 0)
        wait_for_stop(c->opts.cmd, c->serve_for_s);
    hv__obs_free(c->obs);
    c->obs = NULL;
}

/*
 * The observer (obs.h): samples the swarm on the coordinator's thread, evaluates the alerts,
 * publishes snapshots into the store, and runs the HTTP servers.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/consensus.h>
#include <hivewire/exchange.h>

#include "obs/http.h"
#include "obs/obs.h"
#include "obs/store.h"
#include "obs/sys.h"

struct hv_obs {
    hv_obs_opts opts;
    hv_obs_store store;
    int store_ready;
    hv_obs_http *http[2]; /* metrics, dashboard */
    /* what it watches (borrowed) */
    hv_swarm *sw;
    hv_swarm_opts cfg;
    const hv_bar *bars;
    size_t nbars;
    hv_obs_snap *work; /* built here, copied into the store */
    uint64_t t0_ns, next_publish_ns, next_eval_ns, first_cycle_ns;
    /* the cycles since the last latency verdict (the p95/p99 alerts) */
    hv_hist window;
    uint64_t seen_count;
    double seen_sum;
    /* cycles/s over about a second */
    uint64_t rate_t_ns, rate_cycles;
    /* the portfolio marked live from the fills and the closes */
    hv_portfolio *pf;
    size_t next_bar, next_trade;
    double max_dd_at_close;
    uint32_t curve_n_last;
    /* the coordinator thread's usage when the run began */
    hv_obs_thread base;
    /* alerts */
    hv_obs_alerts alerts;
    hv_obs_alert_event log[HV_OBS_LOG_MAX];
    size_t nlog;
    uint64_t log_dropped;
    int done;
};

void hv__obs_opts_default(hv_obs_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cmd = "run";
    o->metrics.port = -1;
    o->serve.port = -1;
    o->alerts = 1;
    hv__obs_alert_config_default(&o->alert_cfg);
    o->publish_ns = 100000000ull;
    o->eval_ns = 1000000000ull;
    o->log = stderr;
}

/* ---- Addresses --------------------------------------------------------------------------------
 */

static int parse_port(const char *s, int *port)
{
    if (*s == 0 || strlen(s) > 5)
        return -1;
    int v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

int hv__obs_parse_addr(const char *text, hv_obs_addr *out, char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    out->port = -1;
    char host[64] = "127.0.0.1";
    const char *port = text;
    const char *colon = strrchr(text, ':');
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (end == NULL || end[1] != ':' || (size_t)(end - text - 1) >= sizeof(host))
            goto bad;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = 0;
        port = end + 2;
    } else if (colon != NULL) {
        if ((size_t)(colon - text) >= sizeof(host) || colon == text)
            goto bad;
        memcpy(host, text, (size_t)(colon - text));
        host[colon - text] = 0;
        port = colon + 1;
        if (strchr(host, ':') != NULL) /* an IPv6 address needs its brackets */
            goto bad;
    }
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof(host), "127.0.0.1");
    unsigned char addr[16];
    int v6 = strchr(host, ':') != NULL;
    if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1 || parse_port(port, &out->port) != 0)
        goto bad;
    snprintf(out->host, sizeof(out->host), "%s", host);
    return 0;
bad:
    out->port = -1;
    snprintf(why, cap,
             "'%s' is not HOST:PORT (a numeric IPv4 address, [IPv6] or localhost, and a port "
             "0..65535; 0 picks a free one), e.g. 127.0.0.1:9464",
             text);
    return HV_EINVAL;
}

/* ---- Life cycle -------------------------------------------------------------------------------
 */

static int same_addr(const hv_obs_addr *a, const hv_obs_addr *b)
{
    return a->port == b->port && a->port > 0 && strcmp(a->host, b->host) == 0;
}

int hv__obs_new(const hv_obs_opts *opts, hv_obs **out, char *err, size_t cap)
{
    *out = NULL;
    hv_obs *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return HV_ENOMEM;
    o->opts = *opts;
    int rc = hv__obs_store_init(&o->store);
    o->store_ready = rc == 0;
    o->work = rc == 0 ? calloc(1, sizeof(*o->work)) : NULL;
    if (rc == 0 && o->work == NULL)
        rc = HV_ENOMEM;
    if (rc == 0)
        rc = hv_hist_init(&o->window, 60000000000ull, 7);
    if (rc == 0 && opts->serve.port >= 0)
        rc = hv__obs_http_start(&o->store, &opts->serve, 1, &o->http[1], err, cap);
    if (rc == 0 && opts->metrics.port >= 0 && !same_addr(&opts->metrics, &opts->serve))
        rc = hv__obs_http_start(&o->store, &opts->metrics, 0, &o->http[0], err, cap);
    if (rc != 0) {
        if (err[0] == 0)
            snprintf(err, cap, "%s", hv_strerror(rc));
        hv__obs_free(o);
        return rc;
    }
    hv__obs_alerts_init(&o->alerts, &opts->alert_cfg);
    *out = o;
    return 0;
}

uint16_t hv__obs_port(const hv_obs *o, int dashboard)
{
    const hv_obs_http *h = o->http[dashboard ? 1 : 0];
    if (h == NULL && !dashboard && same_addr(&o->opts.metrics, &o->opts.serve))
        h = o->http[1];
    return h != NULL ? hv__obs_http_port(h) : 0;
}

void hv__obs_free(hv_obs *o)
{
    if (o == NULL)
        return;
    if (o->store_ready)
        hv__obs_store_close(&o->store);
    for (int i = 0; i < 2; i++)
        hv__obs_http_stop(o->http[i]);
    if (o->store_ready)
        hv__obs_store_fini(&o->store);
    hv_hist_fini(&o->window);
    hv_portfolio_free(o->pf);
    free(o->work);
    free(o);
}

/* ---- Sampling ---------------------------------------------------------------------------------
 */

/* The profiler's stages, the cycle and the consensus engine's decision latency. */
static void sample_latency(hv_obs *o, hv_obs_snap *w)
{
    const hv_profiler *p = hv_swarm_profiler(o->sw);
    hv__obs_hist_digest(hv_profiler_stage_hist(p, HV_PROFILER_CYCLE), hv__obs_lat_bounds,
                        HV_OBS_LAT_BUCKETS, &w->cycle);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    w->nstages = 0;
    w->stages_dropped = 0;
    for (int id = 1; id < (int)sum.stages; id++) {
        hv_profiler_stage_stats ss;
        if (hv_profiler_stage_stats_get(p, id, &ss) != 0)
            continue;
        if (w->nstages == HV_OBS_STAGES_MAX) {
            w->stages_dropped++;
            continue;
        }
        hv_obs_stage *st = &w->stage[w->nstages++];
        snprintf(st->name, sizeof(st->name), "%s", ss.name);
        st->external = ss.kind != HV_STAGE_TIMED;
        st->self_ns = ss.self_ns;
        hv__obs_hist_digest(hv_profiler_stage_hist(p, id),
                            st->external ? hv__obs_ext_bounds : hv__obs_lat_bounds,
                            st->external ? HV_OBS_EXT_BUCKETS : HV_OBS_LAT_BUCKETS, &st->h);
    }
    const hv_consensus *c = hv_swarm_consensus(o->sw);
    hv_consensus_stats_get(c, &w->cons);
    hv__obs_hist_digest(hv_consensus_latency(c), hv__obs_lat_bounds, HV_OBS_LAT_BUCKETS,
                        &w->decision);
}

/* Replays the fills the coordinator received on a portfolio of our own, bar by bar, in the
 * execution agent's order: at bar b, the fills reported during cycle b, then the mark at b's
 * close. So the live curve is the execution agent's, up to the last completed cycle. */
static void sample_portfolio(hv_obs *o, hv_obs_snap *w, uint64_t done)
{
    const hv_swarm_trade *t;
    size_t nt = hv_swarm_trades(o->sw, &t);
    while (o->next_bar < done && o->next_bar < o->nbars) {
        uint64_t b = o->next_bar;
        for (; o->next_trade < nt && t[o->next_trade].cycle <= b; o->next_trade++)
            (void)hv_portfolio_apply_fill(o->pf, t[o->next_trade].side, t[o->next_trade].qty,
                                          t[o->next_trade].price, t[o->next_trade].fee);
        (void)hv_portfolio_mark(o->pf, o->bars[b].close, b * o->cfg.bar_ns);
        hv_portfolio_stats ps;
        hv_portfolio_stats_get(o->pf, &ps);
        if (ps.drawdown_frac > o->max_dd_at_close)
            o->max_dd_at_close = ps.drawdown_frac;
        o->next_bar++;
    }
    hv_portfolio_stats_get(o->pf, &w->pf);
    w->traded_shares = (double)w->pf.shares_traded;
    w->fees = w->pf.fees;
    double dd_max = o->cfg.limits.drawdown_max_frac;
    w->kill_switch = w->st.orders_refused_halt > 0 || (dd_max > 0 && o->max_dd_at_close > dd_max);
    const uint64_t *ct;
    const double *ce;
    size_t n = hv_portfolio_curve(o->pf, &ct, &ce);
    if (n > HV_OBS_CURVE_MAX)
        n = HV_OBS_CURVE_MAX;
    if (n < o->curve_n_last)
        w->curve_epoch++; /* thinned: the points already sent changed */
    o->curve_n_last = (uint32_t)n;
    memcpy(w->curve_t_ns, ct, n * sizeof(ct[0]));
    memcpy(w->curve_eq, ce, n * sizeof(ce[0]));
    w->curve_n = (uint32_t)n;
}

static void sample_bus(hv_obs *o, hv_obs_snap *w, uint64_t now_ns)
{
    hv_bus_stats_get(hv_swarm_bus(o->sw), &w->bus);
    hv_swarm_agent_info info[HV_OBS_AGENTS_MAX];
    uint32_t nm = hv_swarm_agents(o->sw, info, HV_OBS_AGENTS_MAX);
    nm = nm > HV_OBS_AGENTS_MAX ? HV_OBS_AGENTS_MAX : nm;
    w->nagents = 0;
    w->queue_depth_max = 0;
    hv_agent *ep;
    for (uint32_t i = 0; i < HV_OBS_AGENTS_MAX && (ep = hv_swarm_endpoint(o->sw, i)) != NULL; i++) {
        hv_obs_agent *a = &w->agent[w->nagents++];
        memset(a, 0, sizeof(*a));
        snprintf(a->name, sizeof(a->name), "%s", hv_agent_name(ep));
        hv_agent_stats_get(ep, &a->bus);
        uint64_t depth = 0;
        for (int l = 0; l < HV_PRIO_COUNT; l++)
            depth += a->bus.depth[l];
        w->queue_depth_max = depth > w->queue_depth_max ? depth : w->queue_depth_max;
        a->last_cycle = UINT64_MAX;
        a->silent_s = -1;
        for (uint32_t m = 0; m < nm; m++) {
            if (strcmp(info[m].name, a->name) != 0)
                continue;
            a->member = 1;
            a->joined = info[m].joined;
            a->lost = info[m].lost;
            a->reported = info[m].reported;
            a->last_cycle = info[m].last_cycle;
            if (info[m].last_seen_ns != 0 && now_ns >= info[m].last_seen_ns)
                a->silent_s = (double)(now_ns - info[m].last_seen_ns) / 1e9;
        }
    }
}

/* The coordinator's thread (the caller of hv_swarm_run: every agent under runner one). */
static void sample_thread(hv_obs *o, hv_obs_snap *w)
{
    hv_obs_thread now;
    memset(&now, 0, sizeof(now));
    hv__obs_thread_self(&now);
    hv_obs_thread *t = &w->thread[0];
    snprintf(t->name, sizeof(t->name), "%s",
             w->st.runner == HV_SWARM_RUNNER_THREADS ? "coordinator" : "runner");
    t->cpu_ns = now.cpu_ns - o->base.cpu_ns;
    t->switches_voluntary = now.switches_voluntary - o->base.switches_voluntary;
    t->switches_involuntary = now.switches_involuntary - o->base.switches_involuntary;
    t->have_wait = now.have_wait && o->base.have_wait;
    t->runq_wait_ns = t->have_wait ? now.runq_wait_ns - o->base.runq_wait_ns : 0;
    if (w->nthreads == 0)
        w->nthreads = 1;
}

/* Per cycle: the cycle just profiled goes into the alerts' window. */
static void window_record(hv_obs *o)
{
    const hv_hist *h = hv_profiler_stage_hist(hv_swarm_profiler(o->sw), HV_PROFILER_CYCLE);
    if (h->count == o->seen_count)
        return;
    uint64_t k = h->count - o->seen_count;
    double v = (h->sum - o->seen_sum) / (double)k;
    hv_hist_record_n(&o->window, v > 0 ? (uint64_t)v : 0, k);
    o->seen_count = h->count;
    o->seen_sum = h->sum;
}

/* ---- Alerts -----------------------------------------------------------------------------------
 */

static uint64_t error_count(const hv_obs_snap *w)
{
    const hv_swarm_stats *s = &w->st;
    return s->votes_bad + s->votes_unknown + s->frames_bad + s->cycles_stalled + s->orders_unknown +
           w->bus.dead_letters + w->bus.pool_empty;
}

static void log_event(hv_obs *o, hv_obs_snap *w, const hv_obs_alert_event *e)
{
    if (o->nlog < HV_OBS_LOG_MAX)
        o->log[o->nlog++] = *e;
    else
        o->log_dropped++;
    if (w->nevents == HV_OBS_EVENTS_MAX) {
        memmove(w->event, w->event + 1, sizeof(w->event[0]) * (HV_OBS_EVENTS_MAX - 1));
        w->nevents--;
    }
    w->event[w->nevents++] = *e;
    w->events_total++;
    if (o->opts.log != NULL) {
        char line[400];
        hv__obs_alert_line(o->opts.cmd, e, line, sizeof(line));
        fprintf(o->opts.log, "%s\n", line);
        fflush(o->opts.log);
    }
}

static void evaluate(hv_obs *o, hv_obs_snap *w, uint64_t now_ns)
{
    hv_bus *bus = hv_swarm_bus(o->sw);
    hv_obs_alert_input in;
    memset(&in, 0, sizeof(in));
    in.now_ns = now_ns - o->t0_ns;
    in.window_cycles = o->window.count;
    in.cycle_p95_ns = hv_hist_quantile(&o->window, 0.95);
    in.cycle_p99_ns = hv_hist_quantile(&o->window, 0.99);
    hv_bus_latency_get(bus, &w->bus_latency);
    in.bus_valid = w->bus_latency.count > 0;
    in.bus_breached = hv_bus_check_alerts(bus); /* the bus's own thresholds, counted there */
    in.bus_p95_ns = w->bus_latency.p95_ns;
    in.bus_p99_ns = w->bus_latency.p99_ns;
    hv_bus_latency_reset(bus); /* so each verdict is on the last window, and can clear */
    in.queue_depth_max = w->queue_depth_max;
    w->rss_bytes = in.rss_bytes = hv__obs_rss_bytes();
    in.errors = error_count(w);
    for (uint32_t i = 0; i < w->nagents; i++)
        in.messages += w->agent[i].bus.received;
    in.have_wait = w->thread[0].have_wait;
    in.runq_wait_ns = w->thread[0].runq_wait_ns;
    w->cpu_pressure_some = in.psi_some = hv__obs_cpu_pressure();
    hv_obs_alert_event ev[HV_OBS_ALERT_COUNT];
    int n = o->opts.alerts ? hv__obs_alerts_eval(&o->alerts, &in, ev, HV_OBS_ALERT_COUNT) : 0;
    if (o->alerts.latency_verdict)
        hv_hist_reset(&o->window);
    for (int i = 0; i < n; i++)
        log_event(o, w, &ev[i]);
    memcpy(w->alert, o->alerts.st, sizeof(w->alert));
}

/* ---- Publishing -------------------------------------------------------------------------------
 */

static void rate(hv_obs *o, hv_obs_snap *w, uint64_t now_ns)
{
    if (now_ns - o->rate_t_ns < 900000000ull && w->cycles_per_s > 0)
        return;
    uint64_t dt = now_ns - o->rate_t_ns;
    if (dt > 0 && w->st.cycles >= o->rate_cycles)
        w->cycles_per_s = (double)(w->st.cycles - o->rate_cycles) * 1e9 / (double)dt;
    o->rate_t_ns = now_ns;
    o->rate_cycles = w->st.cycles;
    hv__obs_series_add(&w->rate, (double)(now_ns - o->t0_ns) / 1e9, w->cycles_per_s);
}

static void publish(hv_obs *o, uint64_t now_ns, uint64_t done, int block)
{
    hv_obs_snap *w = o->work;
    hv_swarm_snapshot(o->sw, &w->st);
    w->t_ns = now_ns - o->t0_ns;
    w->running = !w->finished && done > 0;
    w->wall_s = o->first_cycle_ns ? (double)(now_ns - o->first_cycle_ns) / 1e9 : 0;
    sample_latency(o, w);
    sample_portfolio(o, w, done);
    sample_bus(o, w, now_ns);
    sample_thread(o, w);
    rate(o, w, now_ns);
    if (now_ns >= o->next_eval_ns) {
        evaluate(o, w, now_ns);
        o->next_eval_ns = now_ns + o->opts.eval_ns;
    }
    w->publishes++;
    w->publish_ns += hv_now_ns() - now_ns;
    if (hv__obs_store_publish(&o->store, w, block))
        o->next_publish_ns = now_ns + o->opts.publish_ns;
}

int hv__obs_attach(hv_obs *o, hv_swarm *sw, const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                   const char *title)
{
    o->sw = sw;
    o->cfg = *cfg;
    o->bars = bars;
    o->nbars = n;
    int rc = hv_portfolio_new(cfg->cash, HV_OBS_CURVE_MAX - 1, &o->pf);
    if (rc != 0)
        return rc;
    hv_obs_snap *w = o->work;
    snprintf(w->title, sizeof(w->title), "%s", title ? title : "");
    w->cycles_planned = cfg->cycles_max > 0 && cfg->cycles_max < n ? cfg->cycles_max : n;
    w->bar_ns = cfg->bar_ns;
    w->cpu_pressure_some = NAN;
    memset(&o->base, 0, sizeof(o->base));
    hv__obs_thread_self(&o->base);
    o->t0_ns = o->rate_t_ns = hv_now_ns();
    o->next_eval_ns = o->t0_ns + o->opts.eval_ns;
    memcpy(w->alert, o->alerts.st, sizeof(w->alert));
    publish(o, o->t0_ns, 0, 1);
    return 0;
}

int hv__obs_progress(hv_obs *o, uint64_t done, uint64_t total)
{
    uint64_t now = hv_now_ns();
    if (o->first_cycle_ns == 0)
        o->first_cycle_ns = now;
    window_record(o);
    if (now < o->next_publish_ns && done != total)
        return 0;
    publish(o, now, done, 0);
    return 0;
}

/* The execution agent's book, the final curve, every runner thread. */
static void final_figures(hv_obs *o, hv_obs_snap *w, const hv_swarm_stats *st)
{
    w->pf = st->portfolio;
    w->pf_final = 1;
    w->traded_shares = fmax(w->traded_shares, (double)st->portfolio.shares_traded);
    w->fees = fmax(w->fees, st->portfolio.fees);
    w->kill_switch = w->kill_switch || st->halted;
    const uint64_t *t;
    const double *eq;
    size_t n = hv_swarm_equity_curve(o->sw, &t, &eq);
    if (n > 0) {
        n = n > HV_OBS_CURVE_MAX ? HV_OBS_CURVE_MAX : n;
        memcpy(w->curve_t_ns, t, n * sizeof(t[0]));
        memcpy(w->curve_eq, eq, n * sizeof(eq[0]));
        w->curve_n = (uint32_t)n;
        w->curve_epoch++;
    }
    hv_obs_thread live = w->thread[0];
    w->nthreads = 0;
    for (uint32_t i = 0; i < st->nthreads && w->nthreads < HV_OBS_THREADS_MAX; i++) {
        hv_obs_thread *d = &w->thread[w->nthreads++];
        memset(d, 0, sizeof(*d));
        snprintf(d->name, sizeof(d->name), "%s", st->threads[i].name);
        d->cpu_ns = st->threads[i].cpu_ns;
        d->switches_voluntary = st->threads[i].switches_voluntary;
        d->switches_involuntary = st->threads[i].switches_involuntary;
        if (strcmp(d->name, live.name) != 0)
            continue;
        /* the same thread measured live: counters must not go back */
        d->cpu_ns = d->cpu_ns > live.cpu_ns ? d->cpu_ns : live.cpu_ns;
        if (live.switches_voluntary > d->switches_voluntary)
            d->switches_voluntary = live.switches_voluntary;
        if (live.switches_involuntary > d->switches_involuntary)
            d->switches_involuntary = live.switches_involuntary;
        d->have_wait = live.have_wait;
        d->runq_wait_ns = live.runq_wait_ns;
    }
    if (w->nthreads == 0)
        w->thread[w->nthreads++] = live;
}

void hv__obs_done(hv_obs *o, int run_rc)
{
    if (o->sw == NULL || o->done)
        return;
    o->done = 1;
    uint64_t now = hv_now_ns();
    hv_obs_snap *w = o->work;
    hv_swarm_stats st;
    hv_swarm_stats_get(o->sw, &st);
    w->finished = 1;
    w->failed = run_rc != 0;
    snprintf(w->error, sizeof(w->error), "%s", run_rc != 0 ? hv_swarm_error(o->sw) : "");
    window_record(o);
    publish(o, now, st.cycles, 1); /* live figures, thread usage and a last verdict... */
    w->st = st;                    /* ... then the agents' final reports over them */
    w->running = 0;
    final_figures(o, w, &st);
    hv__obs_store_publish(&o->store, w, 1);
}

size_t hv__obs_alert_log(const hv_obs *o, const hv_obs_alert_event **ev, uint64_t *dropped)
{
    *ev = o->log;
    if (dropped != NULL)
        *dropped = o->log_dropped;
    return o->nlog;
}

void hv__obs_links(hv_obs *o, const hv_obs_link *links, uint32_t n)
{
    hv__obs_store_links(&o->store, links, n);
}

int hv__obs_read(hv_obs *o, hv_obs_snap *out)
{
    return hv__obs_store_read(&o->store, 0, 0, out) == 1;
}

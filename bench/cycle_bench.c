/*
 * hivewire-bench cycle: full trading cycles of the swarm (hivewire run's defaults: 4 pattern
 * agents + the risk agent voting = 5 voters, market data, strategy, execution, coordinator)
 * over the real S&P 500 series and a long synthetic one, under every runner: all agents
 * stepped by one thread (the default), a thread per agent with the default placement, and a
 * thread per agent placed by the OS. The modes run interleaved, sample by sample (A B C A B C
 * ...), on an idle machine and again with a competing busy process that the bench starts and
 * stops itself (rows "..._contended"; --filter contended selects them). One sample = one whole
 * swarm run (fresh swarm, keys, threads): cycles/s over the run, CPU time of every runner
 * thread per cycle. Cycle latency and the per-stage critical-path times come from the swarm's
 * profiler, histograms merged over the samples.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hivewire/swarm.h>

#include "bench.h"
#include "swarm/cli_node.h"
#include "obs/obs.h"

#ifndef HV_CYCLE_SOURCE_DIR
#define HV_CYCLE_SOURCE_DIR "."
#endif

#define STAGES_MAX  16
#define SAMPLES_MAX 16
#define MODES_MAX   4

typedef struct mode {
    const char *impl;
    int runner, placement, vote_auth;
    int remote; /* every agent in a process of its own, over QUIC on loopback */
} mode;

/* The default (runner AUTO = one thread), the thread-per-agent runner two ways, and every agent
 * in a process of its own (sp500 only). */
static const mode every_runner[] = {
    { "hivewire", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 0 },
    { "hivewire_threads", HV_SWARM_RUNNER_THREADS, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 0 },
    { "hivewire_threads_os_placement", HV_SWARM_RUNNER_THREADS, HV_SWARM_PLACE_NONE,
      HV_SWARM_AUTH_AUTO, 0 },
    { "hivewire_multiprocess", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 1 },
};

/* The default, and the same observed (docs/OBSERVABILITY.md): --metrics and --serve on, a
 * scraper every 100 ms and a dashboard connected. Sample by sample, interleaved. */
static const mode every_observation[] = {
    { "hivewire", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 0 },
    { "hivewire_observed", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 0 },
};
#define OBSERVATION_SAMPLES 9

/* Vote authentication: MACs (the default in one process) against Ed25519 signatures. */
static const mode every_auth[] = {
    { "hivewire", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_AUTO, 0 },
    { "hivewire_ed25519_votes", HV_SWARM_RUNNER_AUTO, HV_SWARM_PLACE_AUTO, HV_SWARM_AUTH_SIG, 0 },
};

typedef struct workload {
    const char *name;
    const hv_bar *bars;
    size_t n;
    uint64_t cycles_max;
    uint32_t patterns;
    int contended; /* a busy process competes for the CPUs */
    const mode *modes;
    size_t nmodes;
} workload;

typedef struct acc {
    hv_hist cycle;
    hv_hist stage[STAGES_MAX];
    char stage_name[STAGES_MAX][48];
    uint64_t stage_self[STAGES_MAX];
    uint64_t cycle_ns;
    size_t nstages;
    uint64_t proposals, cycles;
    double cps[SAMPLES_MAX];
    double cpu_us[SAMPLES_MAX];   /* per sample: CPU time of every runner thread per cycle */
    double switches[SAMPLES_MAX]; /* per sample: context switches per cycle */
    double bytes[SAMPLES_MAX];    /* per sample (multi-process): bytes on the wire per cycle */
    double datagrams[SAMPLES_MAX];
    double obs_us[SAMPLES_MAX];  /* observed runs: wall time per snapshot on the coordinator */
    double scrapes[SAMPLES_MAX]; /* observed runs: /metrics requests answered */
    size_t n;
    int observed;
    hv_swarm_stats last;
} acc;

static int acc_init(acc *a)
{
    memset(a, 0, sizeof(*a));
    if (hv_hist_init(&a->cycle, 1ull << 48, 8) != 0)
        return HV_ENOMEM;
    for (size_t i = 0; i < STAGES_MAX; i++)
        if (hv_hist_init(&a->stage[i], 1ull << 48, 8) != 0)
            return HV_ENOMEM;
    return 0;
}

static void acc_fini(acc *a)
{
    hv_hist_fini(&a->cycle);
    for (size_t i = 0; i < STAGES_MAX; i++)
        hv_hist_fini(&a->stage[i]);
}

/* Adds one run's profile: cycle histogram and every timed stage's histogram and self time. */
static void acc_profile(acc *a, const hv_swarm *sw)
{
    const hv_profiler *p = hv_swarm_profiler(sw);
    int ids[STAGES_MAX];
    size_t n = hv_profiler_rank(p, ids, STAGES_MAX);
    hv_profiler_summary sum;
    hv_profiler_summary_get(p, &sum);
    hv_hist_merge(&a->cycle, hv_profiler_stage_hist(p, HV_PROFILER_CYCLE));
    a->cycle_ns += sum.cycle_ns;
    a->cycles += sum.cycles;
    for (size_t i = 0; i < n && i < STAGES_MAX; i++) {
        hv_profiler_stage_stats ss;
        hv_profiler_stage_stats_get(p, ids[i], &ss);
        size_t k = 0;
        while (k < a->nstages && strcmp(a->stage_name[k], ss.name) != 0)
            k++;
        if (k == a->nstages) {
            if (a->nstages == STAGES_MAX)
                continue;
            snprintf(a->stage_name[a->nstages++], sizeof(a->stage_name[0]), "%s", ss.name);
        }
        hv_hist_merge(&a->stage[k], hv_profiler_stage_hist(p, ids[i]));
        a->stage_self[k] += ss.self_ns;
    }
}

/* The data file the real-series workloads load (the children of a multi-process run read
 * their own copy of it). */
static char sp500_path[4096];

/* Every agent in a `hivewire agent` child of its own, on loopback, with the same data, seed
 * and options. */
static int remote_run(const workload *w, const hv_swarm_opts *cfg, hv_swarm **sw,
                      uint64_t *children_cpu)
{
    char seed[32], cycles[32], why[256];
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)cfg->seed);
    snprintf(cycles, sizeof(cycles), "%llu",
             (unsigned long long)(cfg->cycles_max ? cfg->cycles_max : w->n));
    char *argv[] = { "run", "--data", sp500_path, "--seed", seed, "--cycles", cycles, NULL };
    uint32_t all = ((1u << (cfg->patterns + 5)) - 1u) & ~1u;
    int rc = hv__node_remote_run(cfg, w->bars, w->n, all, 7, argv, NULL, NULL, sw, children_cpu,
                                 why, sizeof(why));
    if (rc != 0)
        fprintf(stderr, "hivewire-bench cycle: multi-process run: %s\n", why);
    return rc;
}

/* ---- Watching a run: a Prometheus scraper and a dashboard, on loopback ---------------------- */

typedef struct watcher {
    uint16_t metrics_port, serve_port;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    uint64_t scrapes, sse_bytes;
} watcher;

static int connect_local(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* GET path; reads the answer to its end. Returns the bytes read, or -1. */
static ssize_t get(uint16_t port, const char *path, watcher *w)
{
    int fd = connect_local(port);
    char buf[16384];
    int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\n\r\n", path);
    if (fd < 0 || write(fd, buf, (size_t)n) != n) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    ssize_t total = 0, r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        total += r;
        if (w != NULL) { /* the event stream: count as it comes */
            pthread_mutex_lock(&w->mu);
            w->sse_bytes += (uint64_t)r;
            pthread_mutex_unlock(&w->mu);
        }
    }
    close(fd);
    return total;
}

/* Scrapes /metrics every 100 ms until told to stop. */
static void *scraper(void *p)
{
    watcher *w = p;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        ssize_t n = get(w->metrics_port, "/metrics", NULL);
        pthread_mutex_lock(&w->mu);
        w->scrapes += n > 0;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* A dashboard: reads /events until the server closes it. */
static void *dashboard(void *p)
{
    watcher *w = p;
    (void)get(w->serve_port, "/events", w);
    return NULL;
}

static int observed_progress(void *ud, uint64_t done, uint64_t total)
{
    return hv__obs_progress(ud, done, total);
}

/* Runs sw observed: servers on loopback, the scraper and a dashboard connected. */
static int run_observed(hv_swarm *sw, const hv_swarm_opts *cfg, const workload *wl, double *obs_us,
                        double *scrapes)
{
    hv_obs_opts o;
    hv__obs_opts_default(&o);
    o.log = NULL; /* alerts are evaluated, not printed */
    char why[160], err[256] = "";
    hv__obs_parse_addr("127.0.0.1:0", &o.metrics, why, sizeof(why));
    hv__obs_parse_addr("127.0.0.1:0", &o.serve, why, sizeof(why));
    hv_obs *obs = NULL;
    int rc = hv__obs_new(&o, &obs, err, sizeof(err));
    if (rc == 0)
        rc = hv__obs_attach(obs, sw, cfg, wl->bars, wl->n, wl->name);
    if (rc != 0) {
        hv__obs_free(obs);
        return rc;
    }
    watcher w = { .metrics_port = hv__obs_port(obs, 0), .serve_port = hv__obs_port(obs, 1) };
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_t ts, td;
    int started = pthread_create(&ts, NULL, scraper, &w) == 0;
    started += pthread_create(&td, NULL, dashboard, &w) == 0;
    rc = started == 2 ? hv_swarm_run(sw, observed_progress, obs) : HV_EAGAIN;
    hv__obs_done(obs, rc);
    hv_obs_snap *s = malloc(sizeof(*s));
    if (s != NULL && hv__obs_read(obs, s)) {
        *obs_us = s->publishes ? (double)s->publish_ns / 1e3 / (double)s->publishes : 0;
        *scrapes = (double)s->scrapes;
    }
    free(s);
    pthread_mutex_lock(&w.mu);
    w.stop = 1;
    pthread_cond_broadcast(&w.cv);
    pthread_mutex_unlock(&w.mu);
    if (started >= 1)
        pthread_join(ts, NULL);
    hv__obs_free(obs); /* ends the event stream: the dashboard thread returns */
    if (started == 2)
        pthread_join(td, NULL);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    return rc;
}

static int one_run_as(const workload *w, const mode *m, uint64_t seed, acc *a, int observed)
{
    hv_swarm_opts cfg;
    hv_swarm_opts_default(&cfg);
    cfg.seed = seed;
    cfg.exchange.seed = seed;
    cfg.cycles_max = w->cycles_max;
    cfg.patterns = w->patterns;
    if (w->patterns < 3) { /* BFT needs 4 voters: orders and risk decisions by MAJORITY */
        hv_policy p = { .rule = HV_RULE_MAJORITY };
        hv_crit_table_set_policy(&cfg.table, HV_CRIT_CRITICAL, &p);
        hv_crit_table_set_policy(&cfg.table, HV_CRIT_HIGH, &p);
    }
    cfg.runner = m->runner;
    cfg.placement = m->placement;
    cfg.vote_auth = m->vote_auth;
    hv_swarm *sw = NULL;
    uint64_t children_cpu = 0;
    double obs_us = 0, scrapes = 0;
    int rc = m->remote ? remote_run(w, &cfg, &sw, &children_cpu)
                       : hv_swarm_new(&cfg, w->bars, w->n, &sw);
    if (rc == 0 && observed)
        rc = run_observed(sw, &cfg, w, &obs_us, &scrapes);
    else if (rc == 0 && !m->remote)
        rc = hv_swarm_run(sw, NULL, NULL);
    if (rc == 0 && a != NULL && a->n < SAMPLES_MAX) {
        hv_swarm_stats st;
        hv_swarm_stats_get(sw, &st);
        double n = st.cycles > 0 ? (double)st.cycles : 1;
        a->cps[a->n] = st.wall_ns ? (double)st.cycles * 1e9 / (double)st.wall_ns : 0;
        a->cpu_us[a->n] = (double)(st.cpu_ns + children_cpu) / 1e3 / n;
        if (m->remote) {
            uint64_t bytes, dgrams;
            hv__node_link_totals(hv__swarm_gateway(sw)->hub, &bytes, &dgrams);
            a->bytes[a->n] = (double)bytes / n;
            a->datagrams[a->n] = (double)dgrams / n;
        }
        a->switches[a->n] = (double)(st.switches_voluntary + st.switches_involuntary) / n;
        a->obs_us[a->n] = obs_us;
        a->scrapes[a->n] = scrapes;
        a->n++;
        a->proposals += st.proposals;
        a->last = st;
        acc_profile(a, sw);
    }
    hv_swarm_free(sw);
    return rc;
}

static int one_run(const workload *w, const mode *m, uint64_t seed, acc *a)
{
    return one_run_as(w, m, seed, a, 0);
}

static void report(hv_bench_report *r, const workload *w, const mode *m, acc *a)
{
    char params[384], name[96];
    const hv_swarm_stats *st = &a->last;
    snprintf(params, sizeof(params),
             "{\"bars\": %zu, \"cycles_per_run\": %llu, \"voters\": %u, \"pattern_agents\": %u, "
             "\"runner\": \"%s\", \"threads\": %u, \"placement\": \"%s\", \"vote_auth\": \"%s\", "
             "\"cpus\": %ld, \"competing_busy_processes\": %d, \"proposal_share\": %.3f}",
             w->n, (unsigned long long)st->cycles, w->patterns + 1, w->patterns,
             st->runner == HV_SWARM_RUNNER_THREADS ? "threads" : "one", st->nthreads,
             st->runner != HV_SWARM_RUNNER_THREADS ? "-"
             : m->placement == HV_SWARM_PLACE_AUTO ? "auto"
                                                   : "none",
             st->vote_auth == HV_SWARM_AUTH_SIG ? "ed25519" : "mac", sysconf(_SC_NPROCESSORS_ONLN),
             w->contended, a->cycles ? (double)a->proposals / (double)a->cycles : 0);
    snprintf(name, sizeof(name), "cycles_per_s_%s", w->name);
    hv_bench_add(r, name, m->impl, "cycles/s", a->cps, a->n, params);
    snprintf(name, sizeof(name), "cpu_per_cycle_%s", w->name);
    hv_bench_add(r, name, m->impl, "us", a->cpu_us, a->n,
                 "{\"what\": \"user+system time of every runner thread (getrusage) per cycle\"}");
    snprintf(name, sizeof(name), "switches_per_cycle_%s", w->name);
    hv_bench_add(r, name, m->impl, "ops/s", a->switches, a->n,
                 "{\"what\": \"context switches (sleeps + preemptions) per cycle\"}");
    snprintf(name, sizeof(name), "cycle_latency_%s", w->name);
    hv_bench_add_hist(r, name, m->impl, "us", &a->cycle, params);
    if (m->remote) {
        snprintf(name, sizeof(name), "bytes_per_cycle_%s", w->name);
        hv_bench_add(r, name, m->impl, "bytes", a->bytes, a->n,
                     "{\"what\": \"QUIC payload and headers both ways, all links\"}");
        snprintf(name, sizeof(name), "datagrams_per_cycle_%s", w->name);
        hv_bench_add(r, name, m->impl, "ops/s", a->datagrams, a->n,
                     "{\"what\": \"UDP datagrams both ways, all links, per cycle\"}");
    }
    if (a->observed) {
        snprintf(name, sizeof(name), "obs_publish_%s", w->name);
        hv_bench_add(r, name, m->impl, "us", a->obs_us, a->n,
                     "{\"what\": \"coordinator-thread wall time per published snapshot (one per "
                     "100 ms)\"}");
        snprintf(name, sizeof(name), "obs_scrapes_%s", w->name);
        hv_bench_add(r, name, m->impl, "ops/s", a->scrapes, a->n,
                     "{\"what\": \"/metrics requests answered during the run (one per 100 ms "
                     "asked)\"}");
    }
    if (strcmp(w->name, "sp500") != 0 || m != &w->modes[0])
        return;
    for (size_t i = 0; i < a->nstages; i++) {
        char sp[160];
        snprintf(name, sizeof(name), "stage_%s_%s", a->stage_name[i], w->name);
        snprintf(sp, sizeof(sp), "{\"share_of_cycle_time\": %.4f, \"count\": %llu}",
                 a->cycle_ns ? (double)a->stage_self[i] / (double)a->cycle_ns : 0,
                 (unsigned long long)a->stage[i].count);
        hv_bench_add_hist(r, name, m->impl, "us", &a->stage[i], sp);
    }
}

/* ---- A competing busy process ---------------------------------------------------------------- */

static pid_t start_busy(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        volatile uint64_t x = 0;
        for (;;)
            x = x * 6364136223846793005ull + 1;
    }
    return pid;
}

static void stop_busy(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---- Running the modes interleaved ------------------------------------------------------------
 */

/* Runs every mode of w sample by sample, interleaved, after one discarded warm-up run each,
 * and reports each; ratios of cycles/s (and CPU per cycle) of the first mode to each other. */
static int run_workload(hv_bench_report *r, const hv_bench_opts *o, const workload *w)
{
    char name[96];
    snprintf(name, sizeof(name), "cycle_%s", w->name);
    if (!hv_bench_selected(o, name))
        return 0;
    acc a[MODES_MAX];
    size_t ready = 0;
    int rc = 0;
    for (; ready < w->nmodes && rc == 0; ready++)
        rc = acc_init(&a[ready]);
    pid_t busy = rc == 0 && w->contended ? start_busy() : 0;
    if (busy < 0)
        rc = HV_EAGAIN;
    unsigned n = hv_bench_samples(o, 3);
    n = n > SAMPLES_MAX ? SAMPLES_MAX : n;
    for (size_t j = 0; j < w->nmodes && rc == 0; j++)
        rc = one_run(w, &w->modes[j], o->seed + 1000, NULL);
    for (unsigned i = 0; rc == 0 && i < n; i++)
        for (size_t j = 0; rc == 0 && j < w->nmodes; j++)
            rc = one_run(w, &w->modes[j], o->seed + i, &a[j]);
    stop_busy(busy);
    for (size_t j = 0; j < w->nmodes && rc == 0; j++)
        report(r, w, &w->modes[j], &a[j]);
    for (size_t j = 1; j < w->nmodes && rc == 0; j++) {
        snprintf(name, sizeof(name), "cycles_per_s_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[j].impl);
        snprintf(name, sizeof(name), "cpu_per_cycle_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[j].impl);
        snprintf(name, sizeof(name), "cycle_latency_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[j].impl);
    }
    for (size_t j = 2; j < w->nmodes && rc == 0; j++) {
        if (!w->modes[j].remote)
            continue; /* the multi-process swarm against a thread per agent: the target */
        snprintf(name, sizeof(name), "cycle_latency_%s", w->name);
        hv_bench_ratio(r, name, w->modes[1].impl, w->modes[j].impl);
    }
    if (rc != 0)
        hv_bench_fail(r, "%s: %s", w->name, hv_strerror(rc));
    for (size_t j = 0; j < ready; j++)
        acc_fini(&a[j]);
    return rc;
}

/* The default swarm unobserved and observed, interleaved sample by sample after a warm-up run
 * of each; the ratio of cycles/s is the cost of watching. */
static int run_observation(hv_bench_report *r, const hv_bench_opts *o, const workload *w)
{
    char name[96];
    snprintf(name, sizeof(name), "cycle_%s", w->name);
    if (!hv_bench_selected(o, name))
        return 0;
    acc a[2];
    memset(a, 0, sizeof(a));
    int rc = acc_init(&a[0]);
    if (rc == 0)
        rc = acc_init(&a[1]);
    a[1].observed = 1;
    unsigned n = hv_bench_samples(o, OBSERVATION_SAMPLES);
    n = n > SAMPLES_MAX ? SAMPLES_MAX : n;
    for (int j = 0; j < 2 && rc == 0; j++)
        rc = one_run_as(w, &w->modes[j], o->seed + 1000, NULL, j);
    for (unsigned i = 0; rc == 0 && i < n; i++)
        for (int j = 0; rc == 0 && j < 2; j++)
            rc = one_run_as(w, &w->modes[j], o->seed + i, &a[j], j);
    for (int j = 0; j < 2 && rc == 0; j++)
        report(r, w, &w->modes[j], &a[j]);
    if (rc == 0) {
        snprintf(name, sizeof(name), "cycles_per_s_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[1].impl);
        snprintf(name, sizeof(name), "cpu_per_cycle_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[1].impl);
        snprintf(name, sizeof(name), "cycle_latency_%s", w->name);
        hv_bench_ratio(r, name, w->modes[0].impl, w->modes[1].impl);
    } else {
        hv_bench_fail(r, "%s: %s", w->name, hv_strerror(rc));
    }
    acc_fini(&a[0]);
    acc_fini(&a[1]);
    return rc;
}

static int load_sp500(hv_series *s)
{
    const char *roots[2] = { ".", HV_CYCLE_SOURCE_DIR };
    for (int i = 0; i < 2; i++) {
        char path[4096];
        hv_csv_report rep;
        snprintf(path, sizeof(path), "%s/data/sp500-2000.csv", roots[i]);
        if (hv_csv_load_bars(path, NULL, s, &rep) == 0) {
            if (realpath(path, sp500_path) == NULL)
                snprintf(sp500_path, sizeof(sp500_path), "%s", path);
            return 0;
        }
        hv_series_fini(s);
        hv_series_init(s);
    }
    return HV_ENOTFOUND;
}

static void notes(hv_bench_report *r)
{
    hv_bench_note(r, "a cycle = coordinator asks for the next bar -> market-data agent publishes "
                     "it -> 4 pattern agents (DTW), risk (rolling VaR) and execution (fills, "
                     "marking) -> strategy -> coordinator; when the strategy proposes an order, "
                     "5 voters vote (BFT) -> risk pre-trade check -> execution submits. Every "
                     "hop is a bus message carrying an HVW1 frame");
    hv_bench_note(r, "impl hivewire: the default, runner auto = one thread steps every agent, "
                     "votes MAC'd (every voter in the process); hivewire_threads: a thread per "
                     "agent, the message chain pinned to one CPU (placement auto); "
                     "hivewire_threads_os_placement: a thread per agent placed by the OS");
    hv_bench_note(r,
                  "hivewire_multiprocess (sp500 only): every agent a `hivewire agent` process of "
                  "its own, the coordinator and its gateway in the bench's process, over QUIC "
                  "with mutual TLS on loopback, votes Ed25519-signed; CPU per cycle includes "
                  "the children's; target: p50 at most 3x hivewire_threads' in the same run");
    hv_bench_note(r, "rows *_contended: the same with one busy process (a spinning child the "
                     "bench forks and kills) competing for the CPUs; 1,000 cycles per run");
    hv_bench_note(r,
                  "targets (issue 12): the best mode >= 2x the cycles/s of the thread-per-agent "
                  "mode idle; contended, the best mode's cycle p99 <= 1/3 of thread-per-agent's; "
                  "CPU per cycle of the default <= 150 us idle; and the original 100 us p50, "
                  "10,000 cycles/s");
    hv_bench_note(r, "sp500_observed: the default swarm with --metrics and --serve on loopback, a "
                     "scraper polling /metrics every 100 ms and a dashboard on /events "
                     "(hivewire_observed), interleaved with the same run unobserved; target "
                     "(issue 18): at most 3%% fewer cycles/s");
    hv_bench_note(r, "sp500_1_pattern: one pattern agent instead of four (2 voters, orders by "
                     "MAJORITY): how much of a cycle is left when compute is taken away");
    hv_bench_note(r, "reference, not measured here: the original system reported 21.30 ms per "
                     "cycle and 47 cycles/s (from a simulation with busy-wait loops)");
}

int hv_bench_cycle(const hv_bench_opts *opts);

int hv_bench_cycle(const hv_bench_opts *opts)
{
    hv_bench_report *r = hv_bench_report_new("cycle", opts);
    if (r == NULL)
        return 1;
    hv_series real, synth;
    hv_series_init(&real);
    hv_series_init(&synth);
    int rc = 0;
    uint64_t cmax = opts->quick ? 300 : 0;
    uint64_t cmax_contended = opts->quick ? 100 : 1000;
    if (load_sp500(&real) == 0) {
        workload ws[] = {
            { "sp500", real.bars, real.len, cmax, 4, 0, every_runner, 4 },
            { "sp500_contended", real.bars, real.len, cmax_contended, 4, 1, every_runner, 3 },
            { "sp500_vote_auth", real.bars, real.len, cmax, 4, 0, every_auth, 2 },
            { "sp500_1_pattern", real.bars, real.len, cmax, 1, 0, every_runner, 3 },
        };
        for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]) && rc == 0; i++)
            rc = run_workload(r, opts, &ws[i]);
        workload wo = { "sp500_observed", real.bars, real.len, cmax, 4, 0, every_observation, 2 };
        if (rc == 0)
            rc = run_observation(r, opts, &wo);
    } else {
        hv_bench_note(r, "data/sp500-2000.csv not found: run scripts/fetch-data; real-series "
                         "rows skipped");
    }
    hv_gbm_params gp;
    hv_synth g;
    hv_gbm_params_default(&gp);
    size_t n = opts->quick ? 600 : 20000;
    if (rc == 0 &&
        (hv_synth_init(&g, &gp, opts->seed + 77) != 0 || hv_synth_fill(&g, n, &synth) != 0))
        rc = HV_ENOMEM;
    if (rc == 0) {
        workload w = { opts->quick ? "synthetic_600" : "synthetic_20000",
                       synth.bars,
                       synth.len,
                       0,
                       4,
                       0,
                       every_runner,
                       1 };
        rc = run_workload(r, opts, &w);
    }
    notes(r);
    hv_series_fini(&real);
    hv_series_fini(&synth);
    int exit_code = hv_bench_report_finish(r);
    return rc != 0 ? 1 : exit_code;
}

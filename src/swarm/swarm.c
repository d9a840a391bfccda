/*
 * hv_swarm: the swarm in this process. The agents are state machines (role_*.c) on the bus
 * (one bus endpoint each, the bus link), driven by a runner: every agent on the calling
 * thread, or a thread each with placement. Statistics come from the coordinator, which had
 * them from the agents' final reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/bus.h>

#include "agent/bus_link.h"
#include "platform/platform.h"
#include "swarm/node.h"
#include "swarm/replicated.h"
#include "swarm/swarm_int.h"

struct hv_swarm {
    hv_swarm_opts cfg;
    const hv_bar *bars;
    size_t nbars;
    int runner, vote_auth; /* resolved */
    hv_bus *bus;
    sw_venue venue;
    sw_cast *cast;
    hv_bus_link links[HV_SWARM_THREADS_MAX];
    uint32_t nlinks;
    sw_gateway *gw;       /* members in other processes: NULL when every agent is here */
    uint32_t remote_mask; /* cast slots that run elsewhere */
    hv_actor *run_actors[HV_SWARM_THREADS_MAX + 2]; /* what the runner drives */
    uint32_t nrun;
    int ran;
    hv_swarm_stats stats;
    char error[256];
};

/* ---- Construction ------------------------------------------------------------------------- */

/* A bus endpoint for every agent of this process; the runner drives them (and the gateway). */
static int make_links(hv_swarm *s)
{
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.buf_pool = 1024;
    bo.buf_bytes = SW_FRAME_MAX;
    int rc = hv_bus_new(&bo, &s->bus);
    for (uint32_t i = 0; rc == 0 && i < s->cast->nactors; i++) {
        hv_actor *a = s->cast->actors[i];
        if (s->remote_mask >> i & 1u)
            continue; /* it runs in another process, behind the gateway */
        /* the coordinator takes every execution report and the curve: a deeper inbox */
        uint32_t cap = i == 0 ? 4096 : 256;
        rc = hv__bus_link_init(&s->links[s->nlinks], s->bus, a->name, cap, s->cfg.wait);
        if (rc == 0) {
            a->link = &s->links[s->nlinks++].link;
            s->run_actors[s->nrun++] = a;
        }
    }
    return rc;
}

static int make_gateway(hv_swarm *s, const sw_node_opts *o)
{
    uint64_t remote[HV_SWARM_THREADS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->cast->nactors; i++)
        if (s->remote_mask >> i & 1u)
            remote[n++] = ((const sw_agent *)s->cast->actors[i])->id;
    s->gw = calloc(1, sizeof(*s->gw));
    if (s->gw == NULL)
        return HV_ENOMEM;
    int rc = hv__sw_gateway_init(s->gw, s->bus, &o->net, remote, n);
    if (rc == 0)
        s->run_actors[s->nrun++] = &s->gw->actor;
    return rc;
}

static int swarm_new(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                     const sw_node_opts *node, hv_swarm **out);

int hv_swarm_new(const hv_swarm_opts *opts, const hv_bar *bars, size_t n, hv_swarm **out)
{
    hv_swarm_opts dflt;
    if (opts == NULL) {
        hv_swarm_opts_default(&dflt);
        opts = &dflt;
    }
    return swarm_new(opts, bars, n, NULL, out);
}

int hv__swarm_new_node(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                       const sw_node_opts *o, hv_swarm **out)
{
    return swarm_new(cfg, bars, n, o, out);
}

sw_gateway *hv__swarm_gateway(hv_swarm *s)
{
    return s->gw;
}

int hv__swarm_attach_log(hv_swarm *s, const sw_log_ops *ops, void *ud, hv_actor *actor)
{
    if (s->runner != HV_SWARM_RUNNER_ONE || s->ran)
        return HV_EINVAL; /* the log and the coordinator share one thread */
    if (s->nrun == sizeof(s->run_actors) / sizeof(s->run_actors[0]))
        return HV_EFULL;
    s->cast->coord.log = ops;
    s->cast->coord.log_ud = ud;
    s->run_actors[s->nrun++] = actor;
    return 0;
}

int hv__swarm_resume(hv_swarm *s, const hv_log_fsm *f, const hv_decision *last)
{
    if (s->ran)
        return HV_ESTATE;
    int rc = hv__sw_coord_resume(&s->cast->coord, f, last);
    if (rc != 0)
        snprintf(s->error, sizeof(s->error), "%s", s->cast->coord.error);
    return rc;
}

const sw_resume *hv__swarm_resumed(const hv_swarm *s)
{
    return &s->cast->coord.resume;
}

static int swarm_new(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                     const sw_node_opts *node, hv_swarm **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    const char *why = NULL;
    if (cfg == NULL || bars == NULL)
        return HV_EINVAL;
    int rc = hv__sw_config_check(cfg, n, &why);
    if (rc != 0)
        return rc;
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    hv_swarm *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->cfg = *cfg;
    s->bars = bars;
    s->nbars = n;
    s->remote_mask = node ? node->remote_mask & 0xfffffffeu : 0; /* never the coordinator */
    /* AUTO: one thread steps every agent (docs/SWARM.md, runners); MAC votes when every voter
     * shares this process, signatures as soon as one does not. */
    s->runner = cfg->runner == HV_SWARM_RUNNER_AUTO ? HV_SWARM_RUNNER_ONE : cfg->runner;
    s->vote_auth = cfg->vote_auth;
    if (s->vote_auth == HV_SWARM_AUTH_AUTO)
        s->vote_auth = s->remote_mask ? HV_SWARM_AUTH_SIG : HV_SWARM_AUTH_MAC;
    if (s->remote_mask && s->vote_auth == HV_SWARM_AUTH_MAC) {
        free(s);
        return HV_EINVAL; /* MAC keys never leave the process */
    }
    s->cast = calloc(1, sizeof(*s->cast));
    rc = s->cast ? hv__sw_venue_init(&s->venue, cfg) : HV_ENOMEM;
    if (rc == 0)
        rc = hv__sw_cast_init(s->cast, cfg, s->vote_auth, bars, n, &s->venue, NULL, NULL);
    if (rc == 0)
        rc = make_links(s);
    if (rc == 0 && s->remote_mask) {
        hv__sw_cast_other_clocks(s->cast);
        rc = make_gateway(s, node);
    }
    if (rc != 0) {
        hv_swarm_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void hv_swarm_free(hv_swarm *s)
{
    if (s == NULL)
        return;
    if (s->cast != NULL)
        hv__sw_cast_fini(s->cast);
    if (s->gw != NULL)
        hv__sw_gateway_fini(s->gw);
    free(s->gw);
    for (uint32_t i = 0; i < s->nlinks; i++)
        hv__bus_link_fini(&s->links[i]);
    hv_bus_free(s->bus);
    hv__sw_venue_fini(&s->venue);
    free(s->cast);
    free(s);
}

/* ---- Placement (runner THREADS) ------------------------------------------------------------- */

/* AUTO (see swarm.h): the message chain and the coordinator on the first CPU this process may
 * use; pattern agents round-robin over the others and then the first (on two CPUs: second,
 * first, second, ...), except that a lone pattern agent stays with the chain, since its work
 * is too short to pay for the cross-CPU wake-ups. */
static int plan_placement(const hv_swarm *s, hv_runner_opts *o)
{
    enum { CPUS_USED_MAX = 64 };
    for (uint32_t i = 0; i < HV_RUNNER_ACTORS_MAX; i++)
        o->cpu[i] = -1;
    int cpus[CPUS_USED_MAX];
    int n = s->cfg.placement == HV_SWARM_PLACE_AUTO ? hv__cpu_allowed(cpus, CPUS_USED_MAX) : 0;
    n = n > CPUS_USED_MAX ? CPUS_USED_MAX : n;
    if (n < 2)
        return -1;
    for (uint32_t i = 0; i < s->nrun; i++) {
        o->cpu[i] = cpus[0];
        if (s->gw != NULL && s->run_actors[i] == &s->gw->actor)
            continue; /* the gateway is part of the chain */
        const sw_agent *a = (const sw_agent *)s->run_actors[i];
        if (a->env.role == SW_ROLE_PATTERN && s->cfg.patterns > 1)
            o->cpu[i] = cpus[(1 + a->env.index % (uint32_t)n) % (uint32_t)n];
    }
    return cpus[0];
}

static int pin_caller(int cpu, hv__cpu_mask *saved)
{
    return cpu >= 0 && hv__cpu_mask_save(saved) == 0 && hv__cpu_pin_self(cpu) == 0;
}

/* ---- Running ------------------------------------------------------------------------------- */

static void add_usage(hv_swarm_stats *st, const hv_runner_usage *u)
{
    if (st->nthreads == HV_SWARM_THREADS_MAX)
        return;
    hv_swarm_usage *d = &st->threads[st->nthreads++];
    snprintf(d->name, sizeof(d->name), "%s", u->name);
    d->cpu_ns = u->cpu_ns;
    d->switches_voluntary = u->switches_voluntary;
    d->switches_involuntary = u->switches_involuntary;
    d->batch = u->batch;
    d->cpu = u->cpu;
    st->cpu_ns += u->cpu_ns;
    st->switches_voluntary += u->switches_voluntary;
    st->switches_involuntary += u->switches_involuntary;
}

int hv_swarm_run(hv_swarm *s, hv_swarm_progress_fn progress, void *ud)
{
    if (s->ran)
        return HV_ESTATE;
    s->ran = 1;
    sw_coord *c = &s->cast->coord;
    c->progress = progress;
    c->progress_ud = ud;
    hv_runner_opts o;
    memset(&o, 0, sizeof(o));
    o.mode = s->runner == HV_SWARM_RUNNER_THREADS ? HV_RUNNER_THREADS : HV_RUNNER_ONE;
    o.sched_batch = 1;
    hv__cpu_mask saved;
    int pinned = 0;
    if (o.mode == HV_RUNNER_THREADS) {
        int coord_cpu = plan_placement(s, &o);
        pinned = pin_caller(coord_cpu, &saved);
    } else {
        for (uint32_t i = 0; i < HV_RUNNER_ACTORS_MAX; i++)
            o.cpu[i] = -1;
    }
    hv_runner_stats rs;
    const char *who = NULL;
    int rc = hv__runner_run(s->run_actors, s->nrun, &o, &rs, &who);
    if (pinned)
        (void)hv__cpu_mask_restore(&saved);
    s->stats = c->stats;
    s->stats.runner = s->runner;
    s->stats.vote_auth = s->vote_auth;
    s->stats.nthreads = 0;
    s->stats.cpu_ns = s->stats.switches_voluntary = s->stats.switches_involuntary = 0;
    for (uint32_t i = 0; i < rs.nthreads; i++) {
        if (pinned && i == 0)
            rs.threads[0].cpu = o.cpu[0];
        add_usage(&s->stats, &rs.threads[i]);
    }
    if (rc != 0 && c->error[0] != 0)
        snprintf(s->error, sizeof(s->error), "%s", c->error);
    else if (rc != 0 && s->gw != NULL && s->gw->error[0] != 0)
        snprintf(s->error, sizeof(s->error), "%s", s->gw->error);
    else if (rc != 0)
        snprintf(s->error, sizeof(s->error), "%s stopped: %s", who ? who : "an agent",
                 hv_strerror(rc));
    return rc;
}

const char *hv_swarm_error(const hv_swarm *s)
{
    return s->error;
}

void hv_swarm_stats_get(const hv_swarm *s, hv_swarm_stats *out)
{
    *out = s->stats;
}

void hv_swarm_snapshot(const hv_swarm *s, hv_swarm_stats *out)
{
    *out = s->cast->coord.stats;
    out->runner = s->runner;
    out->vote_auth = s->vote_auth;
}

const hv_profiler *hv_swarm_profiler(const hv_swarm *s)
{
    return s->cast->coord.prof;
}

size_t hv_swarm_equity_curve(const hv_swarm *s, const uint64_t **t_ns, const double **equity)
{
    *t_ns = s->cast->coord.curve_t;
    *equity = s->cast->coord.curve_eq;
    return s->cast->coord.curve_n;
}

size_t hv_swarm_events(const hv_swarm *s, const hv_swarm_event **out)
{
    *out = s->cast->coord.events;
    return s->cast->coord.nevents;
}

size_t hv_swarm_trades(const hv_swarm *s, const hv_swarm_trade **out)
{
    *out = s->cast->coord.trades;
    return s->cast->coord.ntrades;
}

size_t hv_swarm_agents(const hv_swarm *s, hv_swarm_agent_info *out, size_t cap)
{
    const sw_coord *c = &s->cast->coord;
    for (uint32_t i = 0; i < c->nmembers && i < cap; i++) {
        const sw_member *m = &c->members[i];
        hv_swarm_agent_info *o = &out[i];
        if (m->role == SW_ROLE_PATTERN)
            snprintf(o->name, sizeof(o->name), "pattern-%u", m->index);
        else
            snprintf(o->name, sizeof(o->name), "%s", hv__sw_role_name(m->role));
        o->id = m->id;
        o->joined = m->joined;
        o->lost = m->lost;
        o->reported = m->reported;
        o->last_cycle = m->last_cycle;
        o->last_seen_ns = m->last_seen_ns;
    }
    return c->nmembers;
}

hv_bus *hv_swarm_bus(const hv_swarm *s)
{
    return s->bus;
}

hv_agent *hv_swarm_endpoint(const hv_swarm *s, uint32_t i)
{
    return i < s->nlinks ? s->links[i].ep : NULL;
}

const hv_consensus *hv_swarm_consensus(const hv_swarm *s)
{
    return s->cast->coord.cons;
}

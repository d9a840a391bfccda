/*
 * Swarm lifecycle: configuration, agents and their state, keys, threads, statistics.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/bus.h>
#include <hivewire/rng.h>

#include "swarm/swarm_int.h"

#define BAR_NS_DEFAULT 86400000000000ull

void hv_swarm_config_default(hv_swarm_config *cfg)
{
    static const uint32_t lens[4] = { 16, 24, 32, 48 };
    memset(cfg, 0, sizeof(*cfg));
    cfg->size = sizeof(*cfg);
    cfg->seed = 1;
    cfg->patterns = 4;
    for (uint32_t i = 0; i < HV_SWARM_PATTERNS_MAX; i++) {
        hv_swarm_pattern *p = &cfg->pattern[i];
        p->len = i < 4 ? lens[i] : 16 + 8 * i;
        p->k = 8;
        p->band = 0.1;
        p->horizon = 5;
        p->stride = 10;
        p->capacity = 512;
    }
    cfg->risk_votes = 1;
    cfg->qty = 100;
    cfg->signal_threshold = 0.001;
    cfg->allow_short = 1;
    cfg->cash = 1e6;
    cfg->var_window = 250;
    cfg->var_q = 0.99;
    hv_crit_table_default(&cfg->table);
    cfg->early = 1;
    hv_exchange_config_default(&cfg->exchange);
    hv_limits_config_default(&cfg->limits);
    cfg->wait = HV_WAIT_BLOCK;
    cfg->stall_timeout_ns = 10000000000ull;
    cfg->bar_ns = BAR_NS_DEFAULT;
    cfg->verify_threads = 1;
    cfg->placement = HV_SWARM_PLACE_AUTO;
}

static int pattern_ok(const hv_swarm_pattern *p)
{
    return p->len >= 4 && p->len <= 256 && p->k >= 1 && p->k <= 64 && p->band >= 0 &&
           p->band <= 1 && p->horizon >= 1 && p->horizon <= 64 && p->stride >= 1 &&
           p->stride <= 1000 && p->capacity >= 16 && p->capacity <= 65536;
}

static int config_ok(const hv_swarm_config *c)
{
    if (c->size < sizeof(*c) || c->patterns < 1 || c->patterns > HV_SWARM_PATTERNS_MAX)
        return 0;
    for (uint32_t i = 0; i < c->patterns; i++)
        if (!pattern_ok(&c->pattern[i]))
            return 0;
    if (c->qty < 1 || c->qty > 1000000000 || !(c->cash > 0) || !isfinite(c->cash))
        return 0;
    if (!(c->signal_threshold >= 0) || !isfinite(c->signal_threshold))
        return 0;
    if (c->var_window < 20 || c->var_window > 100000 || !(c->var_q > 0.5 && c->var_q < 1))
        return 0;
    if (!(c->var_budget >= 0) || !isfinite(c->var_budget) || c->wait < 0 || c->wait > 2)
        return 0;
    if (c->verify_threads > SW_VERIFY_THREADS_MAX)
        return 0;
    if (c->placement != HV_SWARM_PLACE_NONE && c->placement != HV_SWARM_PLACE_AUTO)
        return 0;
    return c->stall_timeout_ns > 0 && c->bar_ns > 0 && c->bar_ns <= (1ull << 50);
}

/* ---- Construction -------------------------------------------------------------------------------
 */

static int make_keys(hv_swarm *s)
{
    hv_rng rng;
    hv_rng_seed(&rng, s->cfg.seed ^ 0x5377a12dull);
    for (uint32_t i = 0; i < SW_VOTERS_MAX; i++) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        for (size_t j = 0; j < sizeof(seed); j++)
            seed[j] = (uint8_t)hv_rng_next(&rng);
        for (size_t j = 0; j < sizeof(s->keys[i].mac); j++)
            s->keys[i].mac[j] = (uint8_t)hv_rng_next(&rng);
        if (crypto_sign_seed_keypair(s->keys[i].pk, s->keys[i].sk, seed) != 0)
            return HV_ECRYPTO;
    }
    return 0;
}

static int add_agent(hv_swarm *s, int role, uint32_t index, const char *name, sw_agent **out)
{
    sw_agent *a = &s->agents[s->nagents++];
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.name = name;
    ao.wait = s->cfg.wait;
    /* Eight agent threads share few cores: a blocked agent that spins steals the CPU the
     * agent it waits for needs, so block waits go straight to the eventfd (measured: p50
     * 200 us with 0 polls, 275 us with 200, 550 us with 2000 on 2 cores). */
    ao.spin_iters = s->cfg.wait == HV_WAIT_BLOCK ? 0 : ao.spin_iters;
    ao.inbox_capacity = role == SW_ROLE_COORD ? 4096 : 256;
    a->sw = s;
    a->role = role;
    a->index = index;
    int rc = hv_agent_new(s->bus, &ao, &a->bus);
    if (rc != 0)
        return rc;
    a->id = hv_agent_id(a->bus);
    *out = a;
    return hv__sw_agent_subscribe(a);
}

static int init_pattern(hv_swarm *s, sw_agent *a)
{
    sw_pattern_state *p = &a->pat;
    p->p = s->cfg.pattern[a->index];
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = p->p.len;
    o.band = p->p.band;
    o.horizon = p->p.horizon;
    o.capacity = p->p.capacity;
    int rc = hv_dtw_library_new(&o, &p->lib);
    if (rc == 0)
        rc = hv_dtw_library_ws_new(p->lib, p->p.k, &p->ws);
    if (rc == 0 && (p->prices = malloc(s->nbars * sizeof(double))) == NULL)
        rc = HV_ENOMEM;
    return rc;
}

static int init_risk(hv_swarm *s, sw_agent *a)
{
    sw_risk_state *r = &a->risk;
    r->bar_cycle = r->state_cycle = UINT64_MAX;
    int rc = hv_var_roll_init(&r->roll, s->cfg.var_window, s->cfg.var_q);
    if (rc != 0)
        return rc;
    r->limits = hv_limits_new(&s->cfg.limits);
    return r->limits ? 0 : HV_EINVAL;
}

static int init_exec(hv_swarm *s, sw_agent *a)
{
    a->exec.x = hv_exchange_new(&s->cfg.exchange);
    a->exec.pf = hv_portfolio_new(s->cfg.cash, 4096);
    if (a->exec.x == NULL || a->exec.pf == NULL)
        return HV_EINVAL;
    hv_exchange_attach(a->exec.x, a->exec.pf, NULL); /* limits live with the risk agent */
    return 0;
}

static int add_voter(hv_swarm *s, sw_agent *a)
{
    sw_keys *k = &s->keys[s->nvoters];
    a->keys = k;
    s->voters[s->nvoters].id = a->id;
    s->voters[s->nvoters].weight = 1;
    s->nvoters++;
    return hv_consensus_add_voter(s->cons, a->id, k->pk, k->mac);
}

static int make_agents(hv_swarm *s)
{
    char name[32];
    int rc = add_agent(s, SW_ROLE_COORD, 0, "coordinator", &s->coord);
    rc = rc ? rc : add_agent(s, SW_ROLE_MD, 0, "market-data", &s->md);
    rc = rc ? rc : hv_replay_init(&s->md->replay, s->bars, s->nbars, NULL, 0);
    for (uint32_t i = 0; rc == 0 && i < s->cfg.patterns; i++) {
        snprintf(name, sizeof(name), "pattern-%u", i);
        rc = add_agent(s, SW_ROLE_PATTERN, i, name, &s->pattern[i]);
        rc = rc ? rc : init_pattern(s, s->pattern[i]);
        rc = rc ? rc : add_voter(s, s->pattern[i]);
    }
    rc = rc ? rc : add_agent(s, SW_ROLE_RISK, 0, "risk", &s->risk);
    rc = rc ? rc : init_risk(s, s->risk);
    if (rc == 0 && s->cfg.risk_votes)
        rc = add_voter(s, s->risk);
    rc = rc ? rc : add_agent(s, SW_ROLE_STRATEGY, 0, "strategy", &s->strat);
    rc = rc ? rc : add_agent(s, SW_ROLE_EXEC, 0, "execution", &s->exec);
    return rc ? rc : init_exec(s, s->exec);
}

static uint64_t vclock(void *ctx)
{
    return ((const hv_swarm *)ctx)->vclock;
}

static int make_profiler(hv_swarm *s)
{
    hv_profiler_config pc;
    hv_profiler_config_default(&pc);
    pc.clock = vclock; /* the cycle timeline is replayed on a clock the coordinator advances */
    pc.clock_ctx = s;
    pc.value_max_ns = 1ull << 48; /* simulated latencies of up to 3 days */
    s->prof = hv_profiler_new(&pc);
    if (s->prof == NULL)
        return HV_ENOMEM;
    struct {
        int *id;
        const char *name;
        int kind;
    } st[] = {
        { &s->st_md, "market_data_ingestion", HV_STAGE_TIMED },
        { &s->st_dtw, "dtw_pattern_matching", HV_STAGE_TIMED },
        { &s->st_var, "risk_var", HV_STAGE_TIMED },
        { &s->st_conf, "order_confirmation", HV_STAGE_TIMED },
        { &s->st_strat, "strategy_signal", HV_STAGE_TIMED },
        { &s->st_cons, "consensus", HV_STAGE_TIMED },
        { &s->st_lim, "risk_limits", HV_STAGE_TIMED },
        { &s->st_exec, "order_execution", HV_STAGE_TIMED },
        { &s->st_bus, "coordination_bus", HV_STAGE_TIMED },
        { &s->ext_ack, "sim_exchange_ack_rtt", HV_STAGE_EXTERNAL },
        { &s->ext_fill, "sim_order_to_fill_report", HV_STAGE_EXTERNAL },
        { &s->ext_dtw_cpu, "cpu_dtw_all_pattern_agents", HV_STAGE_EXTERNAL },
        { &s->ext_var_cpu, "cpu_risk_var_update", HV_STAGE_EXTERNAL },
        { &s->ext_exec_cpu, "cpu_execution_bar", HV_STAGE_EXTERNAL },
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        int id = hv_profiler_stage(s->prof, st[i].name, st[i].kind);
        if (id < 0)
            return id;
        *st[i].id = id;
    }
    return 0;
}

static int make_core(hv_swarm *s)
{
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    bo.buf_pool = 1024;
    bo.buf_bytes = 2048;
    int rc = hv_bus_new(&s->bus, &bo);
    if (rc != 0)
        return rc;
    hv_consensus_opts co;
    hv_consensus_opts_default(&co);
    co.table = s->cfg.table;
    if (!s->cfg.early)
        co.flags |= HV_CONSENSUS_NO_EARLY;
    /* The coordinator verifies every BFT vote's signature itself before the engine sees it,
     * on its own thread and its verifier helpers (verify.c). */
    co.flags |= HV_CONSENSUS_SIGS_PREVERIFIED;
    if ((rc = hv_consensus_new(&s->cons, &co)) != 0)
        return rc;
    if ((rc = make_keys(s)) != 0)
        return rc;
    /* Helpers wake the coordinator through an eventfd it polls next to its inbox's: only
     * block waits have one, so spin and yield coordinators verify every vote themselves. */
    uint32_t helpers = s->cfg.wait == HV_WAIT_BLOCK ? s->cfg.verify_threads : 0;
    if ((rc = hv__sw_verifier_init(&s->verifier, helpers)) != 0)
        return rc;
    s->trades_cap = 4 * s->nbars + 1024;
    s->trades = calloc(s->trades_cap, sizeof(*s->trades));
    return s->trades ? 0 : HV_ENOMEM;
}

int hv_swarm_new(const hv_swarm_config *cfg, const hv_bar *bars, size_t n, hv_swarm **out)
{
    *out = NULL;
    if (cfg == NULL || !config_ok(cfg) || bars == NULL || n < 2 || n > HV_SWARM_BARS_MAX)
        return HV_EINVAL;
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    hv_swarm *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->cfg = *cfg;
    s->bars = bars;
    s->nbars = n;
    s->stats.trades_hash = 0xcbf29ce484222325ull;
    s->stats.last_order_cycle = UINT64_MAX;
    int rc = make_core(s);
    rc = rc ? rc : make_agents(s);
    rc = rc ? rc : make_profiler(s);
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
    for (uint32_t i = 0; i < s->nagents; i++) {
        sw_agent *a = &s->agents[i];
        if (a->role == SW_ROLE_PATTERN) {
            hv_dtw_ws_free(a->pat.ws);
            hv_dtw_library_free(a->pat.lib);
            free(a->pat.prices);
        } else if (a->role == SW_ROLE_RISK) {
            hv_var_roll_fini(&a->risk.roll);
            hv_limits_free(a->risk.limits);
        } else if (a->role == SW_ROLE_EXEC) {
            hv_exchange_free(a->exec.x);
            hv_portfolio_free(a->exec.pf);
        }
        hv_agent_free(a->bus);
    }
    hv_consensus_free(s->cons);
    hv__sw_verifier_fini(&s->verifier);
    hv_profiler_free(s->prof);
    hv_bus_free(s->bus);
    free(s->trades);
    sodium_memzero(s->keys, sizeof(s->keys));
    free(s);
}

/* ---- Running ------------------------------------------------------------------------------------
 */

/* Placement AUTO (see swarm.h): the message chain and the coordinator on the first CPU this
 * process may use; pattern agents round-robin over the others and then the first (on two CPUs:
 * second, first, second, ...), except that a lone pattern agent stays with the chain, since its
 * work is too short to pay for the cross-CPU wake-ups; verifier helpers on the second. */
static void plan_placement(hv_swarm *s, int *coord_cpu)
{
    enum { CPUS_USED_MAX = 64 };
    *coord_cpu = -1;
    for (uint32_t i = 0; i < s->nagents; i++)
        s->agents[i].cpu = s->agents[i].usage.cpu = -1;
    s->verifier.cpu = -1;
    cpu_set_t allowed;
    int cpus[CPUS_USED_MAX], n = 0;
    if (s->cfg.placement != HV_SWARM_PLACE_AUTO ||
        sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
        return;
    for (int c = 0; c < CPU_SETSIZE && n < CPUS_USED_MAX; c++)
        if (CPU_ISSET(c, &allowed))
            cpus[n++] = c;
    if (n < 2)
        return;
    for (uint32_t i = 0; i < s->nagents; i++) {
        sw_agent *a = &s->agents[i];
        a->cpu = cpus[0];
        if (a->role == SW_ROLE_PATTERN && s->cfg.patterns > 1)
            a->cpu = cpus[(1 + a->index % (uint32_t)n) % (uint32_t)n];
    }
    s->verifier.cpu = cpus[1];
    *coord_cpu = cpus[0];
}

static int start_threads(hv_swarm *s)
{
    if (hv__sw_verifier_start(&s->verifier) != 0)
        return HV_EAGAIN;
    for (uint32_t i = 0; i < s->nagents; i++) {
        sw_agent *a = &s->agents[i];
        if (a->role == SW_ROLE_COORD)
            continue;
        if (pthread_create(&a->thread, NULL, hv__sw_agent_main, a) != 0)
            return HV_EAGAIN;
        a->started = 1;
    }
    return 0;
}

/* Sets the quit flag, wakes every agent with STOP and joins them. */
static void stop_threads(hv_swarm *s)
{
    atomic_store_explicit(&s->quit, 1, memory_order_release);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_STOP;
    (void)hv__sw_send(s->coord, &m); /* if this fails the agents see quit within a slice */
    for (uint32_t i = 0; i < s->nagents; i++) {
        sw_agent *a = &s->agents[i];
        if (a->started)
            pthread_join(a->thread, NULL);
        a->started = 0;
    }
    hv__sw_verifier_stop(&s->verifier);
}

static void add_usage(hv_swarm_stats *st, const hv_swarm_usage *u)
{
    if (st->nthreads == HV_SWARM_THREADS_MAX)
        return;
    st->threads[st->nthreads++] = *u;
    st->cpu_ns += u->cpu_ns;
    st->switches_voluntary += u->switches_voluntary;
    st->switches_involuntary += u->switches_involuntary;
}

/* What every thread cost: the coordinator's (already in s->coord->usage), the agents', the
 * helpers'. */
static void collect_usage(hv_swarm *s)
{
    hv_swarm_stats *st = &s->stats;
    for (uint32_t i = 0; i < s->nagents; i++) {
        hv_swarm_usage *u = &s->agents[i].usage;
        snprintf(u->name, sizeof(u->name), "%s", hv_agent_name(s->agents[i].bus));
        add_usage(st, u);
    }
    uint32_t helpers = atomic_load(&s->verifier.exited);
    for (uint32_t i = 0; i < helpers && i < SW_VERIFY_THREADS_MAX; i++)
        add_usage(st, &s->verifier.usage[i]);
}

static void collect(hv_swarm *s)
{
    hv_swarm_stats *st = &s->stats;
    sw_risk_state *r = &s->risk->risk;
    hv_portfolio_stats_get(s->exec->exec.pf, &st->portfolio);
    hv_exchange_stats_get(s->exec->exec.x, &st->exchange);
    hv_limits_stats_get(r->limits, &st->limits);
    st->halted = hv_limits_halted(r->limits, NULL);
    st->halted_cycle = r->halted_cycle;
    st->halt_breach = r->halt_breach;
    if (st->halted && !r->halted_seen)
        hv_limits_halted(r->limits, &st->halt_breach);
    for (uint32_t i = 0; i < s->nagents; i++) {
        hv_agent_stats as;
        hv_agent_stats_get(s->agents[i].bus, &as);
        st->bus_messages += as.received;
    }
    collect_usage(s);
}

int hv_swarm_run(hv_swarm *s, hv_swarm_progress_fn progress, void *ud)
{
    if (s->ran)
        return HV_ESTATE;
    s->ran = 1;
    int coord_cpu;
    cpu_set_t caller;
    plan_placement(s, &coord_cpu);
    int restore = coord_cpu >= 0 &&
                  pthread_getaffinity_np(pthread_self(), sizeof(caller), &caller) == 0 &&
                  hv__sw_pin_self(coord_cpu);
    int rc = start_threads(s);
    hv_swarm_usage before, after;
    memset(&before, 0, sizeof(before));
    memset(&after, 0, sizeof(after));
    hv__sw_usage_self(&before);
    if (rc == 0)
        rc = hv__sw_coordinate(s, progress, ud);
    hv__sw_usage_self(&after);
    hv_swarm_usage *cu = &s->coord->usage;
    cu->cpu_ns = after.cpu_ns - before.cpu_ns;
    cu->switches_voluntary = after.switches_voluntary - before.switches_voluntary;
    cu->switches_involuntary = after.switches_involuntary - before.switches_involuntary;
    cu->cpu = restore ? coord_cpu : -1;
    stop_threads(s);
    if (restore)
        (void)pthread_setaffinity_np(pthread_self(), sizeof(caller), &caller);
    collect(s);
    int fail = atomic_load(&s->fail_rc);
    return rc != 0 ? rc : fail;
}

void hv_swarm_stats_get(const hv_swarm *s, hv_swarm_stats *out)
{
    *out = s->stats;
}

const hv_profiler *hv_swarm_profiler(const hv_swarm *s)
{
    return s->prof;
}

size_t hv_swarm_equity_curve(const hv_swarm *s, const uint64_t **t_ns, const double **equity)
{
    return hv_portfolio_curve(s->exec->exec.pf, t_ns, equity);
}

size_t hv_swarm_trades(const hv_swarm *s, const hv_swarm_trade **out)
{
    *out = s->trades;
    return s->ntrades;
}

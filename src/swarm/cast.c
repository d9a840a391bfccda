/*
 * The cast of one swarm: configuration checks, and every agent built with its own environment
 * (a copy of the configuration, its identity, its keys, its data or exchange connection). Both
 * the real runners (swarm.c) and the simulator (sim.c) assemble their swarm from here.
 */
#include <math.h>
#include <string.h>

#include "core/field.h"
#include "swarm/swarm_int.h"

#define BAR_NS_DEFAULT 86400000000000ull
#define TIME_MARGIN_NS (1ull << 40) /* room after the last bar for the exchange's events */

void hv_swarm_opts_default(hv_swarm_opts *cfg)
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
    hv_exchange_opts_default(&cfg->exchange);
    hv_limits_opts_default(&cfg->limits);
    cfg->wait = 0; /* HV_WAIT_BLOCK */
    cfg->bar_ns = HV_SIM_BAR_NS_DEFAULT;
    cfg->placement = HV_SWARM_PLACE_AUTO;
    cfg->runner = HV_SWARM_RUNNER_AUTO;
    cfg->vote_auth = HV_SWARM_AUTH_AUTO;
    cfg->node = 1;
    cfg->proposal_timeout_ns = 1000000000ull;
    cfg->cycle_timeout_ns = 2000000000ull;
    cfg->heartbeat_ns = 100000000ull;
    cfg->stall_timeout_ns = 10000000000ull;
}

static int pattern_ok(const hv_swarm_pattern *p)
{
    return p->len >= 4 && p->len <= 256 && p->k >= 1 && p->k <= 64 && p->band >= 0 &&
           p->band <= 1 && p->horizon >= 1 && p->horizon <= 64 && p->stride >= 1 &&
           p->stride <= 1000 && p->capacity >= 16 && p->capacity <= 65536;
}

int hv_swarm_opts_check(const hv_swarm_opts *c, hv_field_error *e)
{
    if (c == NULL)
        return hv__field_fail(e, "opts", "is NULL");
    if (c->size != sizeof(*c))
        return hv__field_fail(e, "size", "must be sizeof(hv_swarm_opts)");
    if (c->patterns < 1 || c->patterns > HV_SWARM_PATTERNS_MAX)
        return hv__field_fail(e, "patterns", "must be 1..16");
    for (uint32_t i = 0; i < c->patterns; i++)
        if (!pattern_ok(&c->pattern[i]))
            return hv__field_fail(
                e, "pattern",
                "every pattern agent needs window 4..256 (agent i: window + 8 i), k "
                "1..64, band 0..1, horizon 1..64, stride 1..1000, capacity 16..65536");
    if (c->qty < 1 || c->qty > 1000000000)
        return hv__field_fail(e, "qty", "must be 1..1e9");
    if (!(c->cash > 0) || !isfinite(c->cash))
        return hv__field_fail(e, "cash", "must be a finite number > 0");
    if (!(c->signal_threshold >= 0) || !isfinite(c->signal_threshold))
        return hv__field_fail(e, "signal_threshold", "must be a finite number >= 0");
    if (c->var_window < 20 || c->var_window > 100000)
        return hv__field_fail(e, "var_window", "must be 20..100000");
    if (!(c->var_q > 0.5 && c->var_q < 1))
        return hv__field_fail(e, "var_q", "must be in (0.5, 1)");
    if (!(c->var_budget >= 0) || !isfinite(c->var_budget))
        return hv__field_fail(e, "var_budget", "must be a finite number >= 0");
    if (c->wait < 0 || c->wait > 2)
        return hv__field_fail(e, "wait", "must be block, spin or yield");
    if (c->placement != HV_SWARM_PLACE_NONE && c->placement != HV_SWARM_PLACE_AUTO)
        return hv__field_fail(e, "placement", "must be auto or none");
    if (c->runner < HV_SWARM_RUNNER_AUTO || c->runner > HV_SWARM_RUNNER_THREADS)
        return hv__field_fail(e, "runner", "must be auto, one or threads");
    if (c->vote_auth < HV_SWARM_AUTH_AUTO || c->vote_auth > HV_SWARM_AUTH_MAC)
        return hv__field_fail(e, "vote_auth", "must be auto, sig or mac");
    if (c->node == 0)
        return hv__field_fail(e, "node", "must be 1..2^32-1");
    if (c->bar_ns == 0)
        return hv__field_fail(e, "bar_ns", "must be > 0");
    if (c->proposal_timeout_ns == 0)
        return hv__field_fail(e, "proposal_timeout_ns", "must be > 0");
    if (c->cycle_timeout_ns == 0)
        return hv__field_fail(e, "cycle_timeout_ns", "must be > 0");
    if (c->heartbeat_ns == 0)
        return hv__field_fail(e, "heartbeat_ns", "must be > 0");
    if (c->stall_timeout_ns == 0)
        return hv__field_fail(e, "stall_timeout_ns", "must be > 0");
    if (hv_exchange_opts_check(&c->exchange, e) != 0)
        return HV_EINVAL;
    return hv_limits_opts_check(&c->limits, e);
}

int hv__sw_config_check(const hv_swarm_opts *cfg, size_t nbars, const char **why)
{
    hv_field_error e;
    if (hv_swarm_opts_check(cfg, &e) != 0) {
        *why = e.reason;
        return HV_EINVAL;
    }
    *why = NULL;
    if (nbars < 2 || nbars > HV_SWARM_BARS_MAX) {
        *why = "bars: 2..10,000,000";
        return HV_EINVAL;
    }
    if (nbars > hv_sim_bars_max(cfg->bar_ns)) {
        *why = "bars: the series is too long for 64-bit simulated nanoseconds at this bar_ns";
        return HV_ERANGE;
    }
    return 0;
}

/* ---- The cast ------------------------------------------------------------------------------ */

static void env_for(sw_env *e, const hv_swarm_opts *cfg, int vote_auth, int role, uint32_t index,
                    const hv_bar *bars, size_t n, sw_venue *venue)
{
    memset(e, 0, sizeof(*e));
    e->cfg = *cfg;
    e->role = role;
    e->index = index;
    e->vote_auth = vote_auth;
    e->nbars = n;
    if (role == SW_ROLE_MD)
        e->bars = bars;
    if (role == SW_ROLE_EXEC)
        e->venue = venue;
}

/* The agent in slot i of the runner order: coordinator, market data, pattern agents, execution,
 * risk, strategy (the order the messages of a cycle flow in, so one sweep of the single-thread
 * runner carries a cycle through). */
static sw_agent *slot(sw_cast *c, uint32_t i, int *role, uint32_t *index)
{
    uint32_t p = c->patterns;
    *index = 0;
    if (i == 0) {
        *role = SW_ROLE_COORD;
        return &c->coord.a;
    }
    if (i == 1) {
        *role = SW_ROLE_MD;
        return &c->md.a;
    }
    if (i < 2 + p) {
        *role = SW_ROLE_PATTERN;
        *index = i - 2;
        return &c->pattern[i - 2].a;
    }
    static const int tail[3] = { SW_ROLE_EXEC, SW_ROLE_RISK, SW_ROLE_STRATEGY };
    *role = tail[i - 2 - p];
    return *role == SW_ROLE_EXEC ? &c->exec.a : *role == SW_ROLE_RISK ? &c->risk.a : &c->strat.a;
}

static int init_role(sw_cast *c, uint32_t i, const sw_env *e, hv_swarm_progress_fn progress,
                     void *ud)
{
    switch (e->role) {
    case SW_ROLE_COORD:
        return hv__sw_coord_init(&c->coord, e, progress, ud);
    case SW_ROLE_MD:
        return hv__sw_md_init(&c->md, e);
    case SW_ROLE_PATTERN:
        return hv__sw_pattern_init(&c->pattern[e->index], e);
    case SW_ROLE_RISK:
        return hv__sw_risk_init(&c->risk, e);
    case SW_ROLE_STRATEGY:
        return hv__sw_strategy_init(&c->strat, e);
    default:
        (void)i;
        return hv__sw_exec_init(&c->exec, e);
    }
}

static void fini_role(sw_cast *c, int role, uint32_t index)
{
    if (role == SW_ROLE_PATTERN)
        hv__sw_pattern_fini(&c->pattern[index]);
    else if (role == SW_ROLE_RISK)
        hv__sw_risk_fini(&c->risk);
    else if (role == SW_ROLE_COORD)
        hv__sw_coord_fini(&c->coord);
    else if (role == SW_ROLE_EXEC)
        hv__sw_exec_fini(&c->exec);
}

int hv__sw_cast_init(sw_cast *c, const hv_swarm_opts *cfg, int vote_auth, const hv_bar *bars,
                     size_t n, sw_venue *venue, hv_swarm_progress_fn progress, void *ud)
{
    memset(c, 0, sizeof(*c));
    c->patterns = cfg->patterns;
    c->nactors = cfg->patterns + 5;
    for (uint32_t i = 0; i < c->nactors; i++) {
        int role;
        uint32_t index;
        sw_agent *a = slot(c, i, &role, &index);
        sw_env e;
        env_for(&e, cfg, vote_auth, role, index, bars, n, venue);
        int rc = init_role(c, i, &e, progress, ud);
        c->actors[i] = &a->actor;
        if (rc != 0) {
            c->nactors = i + 1;
            return rc;
        }
    }
    return 0;
}

void hv__sw_cast_fini(sw_cast *c)
{
    for (uint32_t i = 0; i < c->nactors; i++) {
        int role;
        uint32_t index;
        (void)slot(c, i, &role, &index);
        fini_role(c, role, index);
    }
    c->nactors = 0;
}

int hv__sw_cast_restart(sw_cast *c, uint32_t i, const hv_bar *bars, size_t n, sw_venue *venue)
{
    int role;
    uint32_t index;
    sw_agent *a = slot(c, i, &role, &index);
    if (role == SW_ROLE_COORD)
        return HV_EINVAL;
    sw_env e = a->env;
    hv_link *link = a->actor.link;
    e.incarnation++;
    e.bars = role == SW_ROLE_MD ? bars : NULL;
    e.nbars = n;
    e.venue = role == SW_ROLE_EXEC ? venue : NULL;
    fini_role(c, role, index);
    int rc = init_role(c, i, &e, NULL, NULL);
    a->actor.link = link;
    return rc;
}

void hv__sw_cast_other_clocks(sw_cast *c)
{
    for (uint32_t i = 0; i < c->nactors; i++)
        ((sw_agent *)c->actors[i])->env.other_clocks = 1;
}

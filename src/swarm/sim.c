/*
 * The whole-swarm simulator (hv_swarm_sim, swarm.h): the same agents as hv_swarm_run(), each
 * on a simulated link, driven on simulated time by a discrete-event loop that is its own
 * runner. Frames cross the seeded network model shared with the consensus simulator
 * (src/sim/simnet.h); agents crash, come back fresh, or run slow, all from the seed.
 *
 * One step = the earliest of: a fault (crash, restart), a frame delivered, an agent's timer.
 * Ties go to faults, then deliveries in the order they were sent, then timers by agent order.
 * After every step the checker (an observer that reads every published frame and the venue)
 * tests the invariants listed in swarm.h; the first violation stops the run.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/bus.h>
#include <hivewire/rng.h>

#include "core/field.h"
#include "core/timeq.h"
#include "sim/simnet.h"
#include "swarm/sim_int.h"
#include "swarm/swarm_int.h"

#define EVENTS_MAX   (1u << 20) /* frames in flight at once */
#define SUBS_MAX     16u
#define SLOW_MIN_NS  2000000ull /* a slow agent takes 2 .. 20 ms per frame */
#define SLOW_SPAN_NS 18000000ull
#define DOWN_MIN_NS  50000000ull /* a crashed agent is back after 50 .. 500 ms */
#define DOWN_SPAN_NS 450000000ull
#define OPEN_MAX     64u /* proposals the checker watches at once */

int hv__sw_sim_break;
uint32_t hv__sw_mute_votes;

typedef struct simlink {
    hv_link link;
    struct swsim *sim;
    uint32_t idx;
    uint32_t nsubs;
    char subs[SUBS_MAX][HV_SUBJECT_MAX + 1];
} simlink;

typedef struct ev {
    uint32_t src, dst, len;
    uint8_t frame[];
} ev;

typedef struct watch {
    uint64_t id, deadline_ns;
} watch;

typedef struct swsim {
    hv_swarm_opts cfg;
    const hv_bar *bars;
    size_t n;
    hv_swarm_sim_opts sc;
    hv_swarm_sim_result *res;
    hv_rng rng;
    hv_simnet net;
    sw_venue venue;
    sw_cast *cast;
    simlink links[HV_SWARM_THREADS_MAX];
    hv_timeq q;
    uint32_t inflight;
    uint64_t now;
    /* faults */
    int crashed[HV_SWARM_THREADS_MAX];
    uint64_t crash_at[HV_SWARM_THREADS_MAX], restart_at[HV_SWARM_THREADS_MAX];
    int slow;              /* the slow agent, -1 none */
    uint64_t slow_busy_ns; /* it handles nothing before this */
    /* checker */
    uint8_t *outcome; /* by proposal id: hv_outcome of its published decision, 0 none */
    uint8_t *ordered; /* by proposal id: 1 once an order with that tag reached the venue */
    watch open[OPEN_MAX];
    uint32_t nopen;
    uint64_t orders_seen; /* venue submissions checked */
    int64_t fill_pos;
    double fill_cash;
    crypto_generichash_state hash;
} swsim;

static void violate(swsim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violate(swsim *s, const char *fmt, ...)
{
    if (s->res->violation)
        return;
    s->res->violation = 1;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(s->res->message, sizeof(s->res->message), "t=%.6f s: ", (double)s->now / 1e9);
    vsnprintf(s->res->message + n, sizeof(s->res->message) - (size_t)n, fmt, ap);
    va_end(ap);
}

static void hash_step(swsim *s, uint8_t what, uint32_t who, const uint8_t *frame, size_t len)
{
    uint8_t h[13];
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(s->now >> (8 * i));
    h[8] = what;
    for (int i = 0; i < 4; i++)
        h[9 + i] = (uint8_t)(who >> (8 * i));
    crypto_generichash_update(&s->hash, h, sizeof(h));
    if (len > 0)
        crypto_generichash_update(&s->hash, frame, len);
    s->res->events++;
}

static void trace(swsim *s, const char *what, uint32_t a, uint32_t b, const uint8_t *frame,
                  size_t len)
{
    if (s->sc.trace == NULL)
        return;
    sw_msg m;
    hv_msg hm;
    const char *subject = "-";
    uint64_t cycle = 0;
    if (len > 0 && hv__sw_decode(frame, len, &m, &hm) == 0) {
        subject = hv__sw_subject(m.kind);
        cycle = m.cycle;
    }
    fprintf(s->sc.trace, "%.6f %-8s %-12s %-12s %-24s cycle %" PRIu64 "\n", (double)s->now / 1e9,
            what, s->cast->actors[a]->name,
            b < HV_SWARM_THREADS_MAX ? s->cast->actors[b]->name : "", subject, cycle);
}

/* ---- The checker: what every published frame tells it ---------------------------------------- */

static void watch_open(swsim *s, uint64_t id, uint64_t deadline)
{
    for (uint32_t i = 0; i < s->nopen; i++)
        if (s->open[i].id == id)
            return; /* the same proposal asked again */
    if (s->nopen == OPEN_MAX) {
        violate(s, "more than %u proposals open at once", OPEN_MAX);
        return;
    }
    s->open[s->nopen++] = (watch){ id, deadline };
}

static void watch_close(swsim *s, uint64_t id)
{
    for (uint32_t i = 0; i < s->nopen; i++)
        if (s->open[i].id == id) {
            s->open[i] = s->open[--s->nopen];
            return;
        }
}

static void observe(swsim *s, uint32_t src, const uint8_t *frame, size_t len)
{
    sw_msg m;
    hv_msg hm;
    int rc = hv__sw_decode(frame, len, &m, &hm);
    if (rc != 0) {
        violate(s, "%s published a frame the swarm cannot decode (%s, %zu bytes)",
                s->cast->actors[src]->name, hv_strerror(rc), len);
        return;
    }
    if (s->crashed[src])
        violate(s, "%s sent %s after its crash", s->cast->actors[src]->name,
                hv__sw_subject(m.kind));
    if (m.kind == SW_VOTE_REQ && m.vreq.id <= s->n + 1 && s->outcome[m.vreq.id] == 0)
        watch_open(s, m.vreq.id, m.vreq.deadline_ns);
    if (m.kind == SW_DECISION && m.decision.proposal_id <= s->n + 1) {
        s->outcome[m.decision.proposal_id] = m.decision.outcome;
        watch_close(s, m.decision.proposal_id);
    }
    if (m.kind == SW_CONFIRM && m.confirm.type == HV_EXEC_FILL) {
        double sign = m.confirm.side == HV_SIDE_BUY ? 1.0 : -1.0;
        s->fill_pos += m.confirm.side == HV_SIDE_BUY ? m.confirm.fill_qty : -m.confirm.fill_qty;
        s->fill_cash -= sign * (double)m.confirm.fill_qty * m.confirm.fill_price + m.confirm.fee;
    }
}

/* After every step: orders, deadlines, the account. */
static void check(swsim *s)
{
    hv_exchange_stats xs;
    hv_exchange_stats_get(s->venue.x, &xs);
    for (uint64_t id = s->orders_seen + 1; id <= xs.submitted; id++) {
        hv_order o;
        if (hv_exchange_order(s->venue.x, id, &o) != 0) {
            violate(s, "order %" PRIu64 " left the venue before the checker saw it", id);
            continue;
        }
        uint64_t tag = o.req.client_tag;
        if (tag == 0 || tag > s->n + 1 || s->outcome[tag] != HV_OUTCOME_ACCEPTED)
            violate(s, "order %" PRIu64 " (proposal %" PRIu64 ") without an accepted decision", id,
                    tag);
        else if (s->ordered[tag])
            violate(s, "proposal %" PRIu64 " executed twice (order %" PRIu64 ")", tag, id);
        else
            s->ordered[tag] = 1;
    }
    s->orders_seen = xs.submitted;
    for (uint32_t i = 0; i < s->nopen; i++)
        if (s->now > s->open[i].deadline_ns)
            violate(s, "proposal %" PRIu64 " still open after its deadline (%.6f s)", s->open[i].id,
                    (double)s->open[i].deadline_ns / 1e9);
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(s->venue.pf, &ps);
    double tol = 1e-6 * (1.0 + (ps.cash < 0 ? -ps.cash : ps.cash));
    if (ps.position != s->fill_pos)
        violate(s, "position %" PRId64 " but the fills sum to %" PRId64, ps.position, s->fill_pos);
    else if (ps.cash - s->fill_cash > tol || s->fill_cash - ps.cash > tol)
        violate(s, "cash %.6f but the fills sum to %.6f", ps.cash, s->fill_cash);
}

/* ---- The simulated link -----------------------------------------------------------------------
 */

static void deliver_later(swsim *s, uint32_t src, uint32_t dst, uint64_t t, const uint8_t *f,
                          size_t len)
{
    if (s->inflight == EVENTS_MAX) {
        violate(s, "more than %u frames in flight", EVENTS_MAX);
        return;
    }
    ev *e = malloc(sizeof(*e) + len);
    if (e == NULL) {
        violate(s, "out of memory");
        return;
    }
    e->src = src;
    e->dst = dst;
    e->len = (uint32_t)len;
    memcpy(e->frame, f, len);
    if (hv__timeq_push(&s->q, t, e) != 0) {
        free(e);
        violate(s, "event queue full");
        return;
    }
    s->inflight++;
}

static int matches(const simlink *l, const char *subject)
{
    for (uint32_t i = 0; i < l->nsubs; i++)
        if (hv_subject_matches(l->subs[i], subject))
            return 1;
    return 0;
}

static int sl_publish(hv_link *lk, const char *subject, int prio, const uint8_t *frame, size_t len)
{
    (void)prio;
    simlink *l = (simlink *)lk;
    swsim *s = l->sim;
    observe(s, l->idx, frame, len);
    int any = 0;
    for (uint32_t j = 0; j < s->cast->nactors; j++) {
        if (j == l->idx || !matches(&s->links[j], subject))
            continue;
        any = 1;
        uint64_t t[2];
        int copies = hv__simnet_send(&s->net, &s->rng, s->now, t);
        s->res->lost += copies == 0;
        s->res->duplicated += copies == 2;
        for (int c = 0; c < copies; c++)
            deliver_later(s, l->idx, j, t[c], frame, len);
    }
    return any ? 0 : HV_ENOSUBSCRIBER;
}

static int sl_subscribe(hv_link *lk, const char *pattern)
{
    simlink *l = (simlink *)lk;
    if (strlen(pattern) > HV_SUBJECT_MAX)
        return HV_EINVAL;
    for (uint32_t i = 0; i < l->nsubs; i++)
        if (strcmp(l->subs[i], pattern) == 0)
            return 0; /* a restarted agent subscribes again */
    if (l->nsubs == SUBS_MAX)
        return HV_EFULL;
    snprintf(l->subs[l->nsubs++], HV_SUBJECT_MAX + 1, "%s", pattern);
    return 0;
}

static uint64_t sl_now(hv_link *lk)
{
    return ((simlink *)lk)->sim->now;
}

static const hv_link_ops sim_link_ops = {
    .publish = sl_publish,
    .subscribe = sl_subscribe,
    .now = sl_now,
};

/* ---- Faults -----------------------------------------------------------------------------------
 */

static void plan_faults(swsim *s)
{
    uint32_t nact = s->cast->nactors;
    s->slow = -1;
    for (uint32_t i = 0; i < nact; i++)
        s->crash_at[i] = s->restart_at[i] = UINT64_MAX;
    uint64_t span = (uint64_t)s->n * 400000ull; /* within a fault-free run's simulated length */
    if (s->sc.faults & (HV_SIM_CRASH | HV_SIM_RESTART)) {
        uint32_t k = s->sc.crashed ? s->sc.crashed : 1;
        for (uint32_t c = 0; c < k; c++) {
            uint32_t i = 1 + (uint32_t)hv_rng_below(&s->rng, nact - 1); /* never the coordinator */
            s->crash_at[i] = 1000000ull + hv_rng_below(&s->rng, span);
        }
    }
    if (s->sc.faults & HV_SIM_SLOW)
        s->slow = 1 + (int)hv_rng_below(&s->rng, nact - 1);
}

static uint64_t next_fault(const swsim *s, uint32_t *who)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < s->cast->nactors; i++) {
        uint64_t f = s->crashed[i] ? s->restart_at[i] : s->crash_at[i];
        if (f < t) {
            t = f;
            *who = i;
        }
    }
    return t;
}

static int apply_fault(swsim *s, uint32_t i)
{
    hv_actor *a = s->cast->actors[i];
    if (!s->crashed[i]) {
        s->crashed[i] = 1;
        s->crash_at[i] = UINT64_MAX;
        s->res->crashes++;
        if (s->sc.faults & HV_SIM_RESTART)
            s->restart_at[i] = s->now + DOWN_MIN_NS + hv_rng_below(&s->rng, DOWN_SPAN_NS);
        hash_step(s, 'C', i, NULL, 0);
        trace(s, "crash", i, UINT32_MAX, NULL, 0);
        return 0;
    }
    s->crashed[i] = 0;
    s->restart_at[i] = UINT64_MAX;
    s->res->restarts++;
    int rc = hv__sw_cast_restart(s->cast, i, s->bars, s->n, &s->venue);
    hash_step(s, 'R', i, NULL, 0);
    trace(s, "restart", i, UINT32_MAX, NULL, 0);
    return rc != 0 ? rc : a->ops->start(a, hv__actor_time(a, s->now));
}

/* ---- The loop ---------------------------------------------------------------------------------
 */

static uint64_t next_timer(const swsim *s, uint32_t *who)
{
    uint64_t t = UINT64_MAX;
    for (uint32_t i = 0; i < s->cast->nactors; i++) {
        const hv_actor *a = s->cast->actors[i];
        if (s->crashed[i] && hv__sw_sim_break != HV_SW_SIM_BREAK_CRASHED_TALKS)
            continue;
        uint64_t e = a->ops->next_expiry(a);
        if (e < t) {
            t = e;
            *who = i;
        }
    }
    return t;
}

static int deliver(swsim *s)
{
    ev *e = hv__timeq_pop_any(&s->q);
    s->inflight--;
    hv_actor *a = s->cast->actors[e->dst];
    int rc = 0;
    if (s->crashed[e->dst] && hv__sw_sim_break != HV_SW_SIM_BREAK_CRASHED_TALKS) {
        trace(s, "dropped", e->src, e->dst, e->frame, e->len);
    } else if ((int)e->dst == s->slow && s->now < s->slow_busy_ns) {
        /* the slow agent is still busy: the frame waits its turn, in order */
        deliver_later(s, e->src, e->dst, s->slow_busy_ns, e->frame, e->len);
    } else {
        if ((int)e->dst == s->slow)
            s->slow_busy_ns = s->now + SLOW_MIN_NS + hv_rng_below(&s->rng, SLOW_SPAN_NS);
        hash_step(s, 'D', e->dst, e->frame, e->len);
        trace(s, "deliver", e->src, e->dst, e->frame, e->len);
        rc = a->ops->on_msg(a, e->frame, e->len, hv__actor_time(a, s->now));
    }
    free(e);
    return rc;
}

static int step(swsim *s)
{
    uint32_t fwho = 0, twho = 0;
    uint64_t tf = next_fault(s, &fwho);
    uint64_t te = hv__timeq_next(&s->q);
    uint64_t tt = next_timer(s, &twho);
    uint64_t t = tf < te ? tf : te;
    t = tt < t ? tt : t;
    if (t == UINT64_MAX) {
        violate(s, "nothing left to happen, but the run has not ended");
        return 0;
    }
    s->now = t > s->now ? t : s->now;
    if (tf == t)
        return apply_fault(s, fwho);
    if (te == t)
        return deliver(s);
    hv_actor *a = s->cast->actors[twho];
    hash_step(s, 'T', twho, NULL, 0);
    return a->ops->on_expiry(a, hv__actor_time(a, s->now));
}

static void sabotage(swsim *s)
{
    if (hv__sw_sim_break == HV_SW_SIM_BREAK_ORDER_TWICE)
        s->venue.last_tag = 0;
    if (hv__sw_sim_break == HV_SW_SIM_BREAK_ACCOUNT && s->res->events == 1000)
        (void)hv_portfolio_apply_fill(s->venue.pf, HV_SIDE_BUY, 1, 100.0, 0.0);
}

/* Some agent crashed and will not come back. */
static int dead_for_good(const swsim *s)
{
    for (uint32_t i = 1; i < s->cast->nactors; i++)
        if (s->crashed[i] && s->restart_at[i] == UINT64_MAX)
            return 1;
    return 0;
}

static int run(swsim *s)
{
    for (uint32_t i = 0; i < s->cast->nactors; i++) {
        hv_actor *a = s->cast->actors[i];
        int rc = a->ops->start(a, hv__actor_time(a, 0));
        if (rc != 0)
            return rc;
    }
    plan_faults(s);
    while (!s->cast->actors[0]->done && !s->res->violation) {
        sabotage(s);
        int rc = step(s);
        if (rc != 0) {
            const sw_coord *c = &s->cast->coord;
            if (rc == HV_ETIMEDOUT && dead_for_good(s)) {
                s->res->gave_up = 1;
                snprintf(s->res->message, sizeof(s->res->message), "%s", c->error);
            } else {
                violate(s, "an agent failed: %s", c->error[0] ? c->error : hv_strerror(rc));
            }
            break;
        }
        check(s);
    }
    return 0;
}

/* ---- Entry ------------------------------------------------------------------------------------
 */

static int setup(swsim *s)
{
    hv_rng_seed(&s->rng, s->sc.seed);
    hv__simnet_default(&s->net, s->sc.faults);
    crypto_generichash_init(&s->hash, NULL, 0, 32);
    s->fill_cash = s->cfg.cash;
    s->outcome = calloc(s->n + 2, 1);
    s->ordered = calloc(s->n + 2, 1);
    s->cast = calloc(1, sizeof(*s->cast));
    if (s->outcome == NULL || s->ordered == NULL || s->cast == NULL)
        return HV_ENOMEM;
    int rc = hv__timeq_init(&s->q, EVENTS_MAX);
    rc = rc ? rc : hv__sw_venue_init(&s->venue, &s->cfg);
    rc = rc ? rc
            : hv__sw_cast_init(s->cast, &s->cfg, HV_SWARM_AUTH_MAC, s->bars, s->n, &s->venue, NULL,
                               NULL);
    for (uint32_t i = 0; rc == 0 && i < s->cast->nactors; i++) {
        s->links[i].link.ops = &sim_link_ops;
        s->links[i].sim = s;
        s->links[i].idx = i;
        s->cast->actors[i]->link = &s->links[i].link;
    }
    return rc;
}

static void teardown(swsim *s)
{
    ev *e;
    while ((e = hv__timeq_pop_any(&s->q)) != NULL)
        free(e);
    hv__timeq_fini(&s->q);
    if (s->cast != NULL)
        hv__sw_cast_fini(s->cast);
    hv__sw_venue_fini(&s->venue);
    free(s->cast);
    free(s->outcome);
    free(s->ordered);
}

void hv_swarm_sim_opts_default(hv_swarm_sim_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->seed = 1;
}

int hv_swarm_sim_opts_check(const hv_swarm_sim_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_swarm_sim_opts)");
    if (o->faults & ~HV_SIM_SWARM_ALL)
        return hv__field_fail(err, "faults", "must hold only HV_SIM_SWARM_ALL bits");
    if (o->crashed > 4)
        return hv__field_fail(err, "crashed", "must be at most 4");
    if (o->crashed > 0 && !(o->faults & (HV_SIM_CRASH | HV_SIM_RESTART)))
        return hv__field_fail(err, "crashed", "must be 0 without HV_SIM_CRASH or HV_SIM_RESTART");
    return 0;
}

int hv_swarm_sim(const hv_swarm_opts *cfg, const hv_bar *bars, size_t n,
                 const hv_swarm_sim_opts *sc, hv_swarm_sim_result *out, hv_swarm_stats *stats)
{
    const char *why;
    memset(out, 0, sizeof(*out));
    if (cfg == NULL || bars == NULL || hv_swarm_sim_opts_check(sc, NULL) != 0)
        return HV_EINVAL;
    int rc = hv__sw_config_check(cfg, n, &why);
    if (rc != 0)
        return rc;
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    swsim *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return HV_ENOMEM;
    s->cfg = *cfg;
    s->bars = bars;
    s->n = n;
    s->sc = *sc;
    s->res = out;
    rc = setup(s);
    if (rc == 0)
        rc = run(s);
    if (rc == 0) {
        out->sim_end_ns = s->now;
        crypto_generichash_final(&s->hash, out->trace_hash, 32);
        for (int i = 0; i < 32; i++)
            snprintf(out->trace_hex + 2 * i, 3, "%02x", out->trace_hash[i]);
        if (stats != NULL) {
            *stats = s->cast->coord.stats;
            stats->runner = 0;
        }
    }
    teardown(s);
    free(s);
    return rc;
}

/*
 * The dashboard's JSON (http.h): one object per event. The curve and the cycles/s series are
 * sent as what the client lacks: from index `from` on (the client keeps the points before it
 * and replaces the rest), everything again when their epoch changed or on the first event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "obs/http.h"

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *u64(uint64_t v)
{
    return json_integer((json_int_t)(v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v));
}

static void set(json_t *o, const char *k, json_t *v)
{
    json_object_set_new(o, k, v);
}

static json_t *lat(const hv_obs_hist *h)
{
    json_t *o = json_object();
    set(o, "count", u64(h->count));
    set(o, "p50_ms", num((double)h->p50_ns / 1e6));
    set(o, "p99_ms", num((double)h->p99_ns / 1e6));
    set(o, "max_ms", num((double)h->max_ns / 1e6));
    return o;
}

static json_t *stages(const hv_obs_snap *s)
{
    json_t *a = json_array();
    double cycle_s = s->cycle.sum_s;
    for (uint32_t i = 0; i < s->nstages; i++) {
        const hv_obs_stage *st = &s->stage[i];
        json_t *o = lat(&st->h);
        set(o, "name", json_string(st->name));
        set(o, "external", json_boolean(st->external));
        set(o, "share",
            num(!st->external && cycle_s > 0 ? (double)st->self_ns / 1e9 / cycle_s : 0));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *consensus(const hv_obs_snap *s)
{
    static const char *const rules[HV_RULE_COUNT] = {
        "auto", "majority", "simple_majority", "threshold", "weighted", "unanimous", "bft",
    };
    const hv_swarm_stats *st = &s->st;
    json_t *o = json_object(), *r = json_object(), *v = json_object();
    set(o, "proposals", u64(st->proposals));
    set(o, "accepted", u64(st->accepted));
    set(o, "rejected", u64(st->rejected));
    set(o, "no_quorum", u64(st->no_quorum));
    set(o, "decided_early", u64(st->decided_early));
    for (int i = 1; i < HV_RULE_COUNT; i++)
        set(r, rules[i], u64((uint64_t)st->rules_used[i]));
    set(o, "rules", r);
    set(v, "counted", u64(st->votes_counted));
    set(v, "late", u64(st->votes_late));
    set(v, "refused", u64(st->votes_bad));
    set(v, "repeated", u64(st->votes_repeated));
    set(v, "unknown", u64(st->votes_unknown));
    set(o, "votes", v);
    set(o, "decision", lat(&s->decision));
    return o;
}

static json_t *orders(const hv_obs_snap *s)
{
    const hv_swarm_stats *st = &s->st;
    json_t *o = json_object();
    set(o, "sent", u64(st->orders_sent));
    set(o, "refused_limit", u64(st->orders_refused_limit));
    set(o, "refused_kill_switch", u64(st->orders_refused_halt));
    set(o, "refused_exchange", u64(st->orders_refused_exchange));
    set(o, "result_unknown", u64(st->orders_unknown));
    set(o, "fills", u64(st->fills));
    return o;
}

static json_t *portfolio(const hv_obs_snap *s)
{
    const hv_portfolio_stats *p = &s->pf;
    json_t *o = json_object();
    set(o, "equity", num(p->equity));
    set(o, "cash_initial", num(p->cash_initial));
    set(o, "pnl", num(p->equity - p->cash_initial));
    set(o, "cash", num(p->cash));
    set(o, "position", json_integer(p->position));
    set(o, "drawdown", num(p->drawdown_frac));
    set(o, "max_drawdown", num(p->max_drawdown_frac));
    set(o, "fees", num(s->fees));
    set(o, "final", json_boolean(s->pf_final));
    set(o, "kill_switch", json_boolean(s->kill_switch));
    return o;
}

/* The points of a series the client lacks. */
static json_t *points(uint32_t epoch, uint32_t n, uint32_t *c_epoch, uint32_t *c_sent, int first,
                      json_t *(*point)(const hv_obs_snap *, uint32_t, int), const hv_obs_snap *s)
{
    uint32_t from = first || epoch != *c_epoch || *c_sent > n ? 0 : *c_sent;
    from = from > 0 ? from - 1 : 0; /* the last point may have moved (a tail point) */
    json_t *o = json_object(), *t = json_array(), *v = json_array();
    for (uint32_t i = from; i < n; i++) {
        json_array_append_new(t, point(s, i, 0));
        json_array_append_new(v, point(s, i, 1));
    }
    set(o, "epoch", json_integer(epoch));
    set(o, "from", json_integer(from));
    set(o, "t", t);
    set(o, "v", v);
    *c_epoch = epoch;
    *c_sent = n;
    return o;
}

static json_t *curve_point(const hv_obs_snap *s, uint32_t i, int value)
{
    if (value)
        return num(s->curve_eq[i]);
    return json_integer((json_int_t)(s->bar_ns ? s->curve_t_ns[i] / s->bar_ns : i));
}

static json_t *rate_point(const hv_obs_snap *s, uint32_t i, int value)
{
    return num(value ? s->rate.v[i] : s->rate.t[i]);
}

static json_t *bus(const hv_obs_snap *s)
{
    json_t *o = json_object(), *d = json_object();
    uint64_t received = 0, dropped = 0, rejected = 0, expired = 0;
    for (uint32_t i = 0; i < s->nagents; i++) {
        received += s->agent[i].bus.received;
        dropped += s->agent[i].bus.dropped_oldest;
        rejected += s->agent[i].bus.rejected;
        expired += s->agent[i].bus.expired;
    }
    set(o, "messages", u64(received));
    set(o, "dead_letters", u64(s->bus.dead_letters));
    set(o, "in_flight", u64(s->bus.msgs_in_use));
    set(o, "queue_depth_max", u64(s->queue_depth_max));
    set(o, "latency_p99_ms", num((double)s->bus_latency.p99_ns / 1e6));
    set(d, "dropped_oldest", u64(dropped));
    set(d, "rejected_full", u64(rejected));
    set(d, "expired", u64(expired));
    set(d, "pool_empty", u64(s->bus.pool_empty));
    set(d, "dlq_overflow", u64(s->bus.dlq_dropped));
    set(o, "drops", d);
    return o;
}

static json_t *agents(const hv_obs_snap *s)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < s->nagents; i++) {
        const hv_obs_agent *g = &s->agent[i];
        json_t *o = json_object();
        uint64_t depth = 0;
        for (int l = 0; l < HV_PRIO_COUNT; l++)
            depth += g->bus.depth[l];
        set(o, "name", json_string(g->name));
        set(o, "member", json_boolean(g->member));
        set(o, "up", json_boolean(!g->member || (g->joined && !g->lost)));
        set(o, "joined", json_boolean(g->joined));
        set(o, "lost", json_boolean(g->lost));
        set(o, "reported", json_boolean(g->reported));
        set(o, "last_cycle", g->last_cycle == UINT64_MAX ? json_null() : u64(g->last_cycle));
        set(o, "silent_s", g->silent_s >= 0 ? num(g->silent_s) : json_null());
        set(o, "depth", u64(depth));
        set(o, "received", u64(g->bus.received));
        set(o, "sent", u64(g->bus.sent));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *machine(const hv_obs_snap *s)
{
    json_t *o = json_object(), *t = json_array();
    for (uint32_t i = 0; i < s->nthreads; i++) {
        const hv_obs_thread *th = &s->thread[i];
        json_t *x = json_object();
        set(x, "name", json_string(th->name));
        set(x, "cpu_s", num((double)th->cpu_ns / 1e9));
        set(x, "preempted", u64(th->switches_involuntary));
        set(x, "wait_s", th->have_wait ? num((double)th->runq_wait_ns / 1e9) : json_null());
        json_array_append_new(t, x);
    }
    set(o, "threads", t);
    set(o, "rss_bytes", u64(s->rss_bytes));
    set(o, "cpu_pressure", num(s->cpu_pressure_some));
    return o;
}

static json_t *alerts(const hv_obs_snap *s)
{
    json_t *a = json_array();
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++) {
        const hv_obs_alert_state *st = &s->alert[i];
        json_t *o = json_object();
        set(o, "name", json_string(hv__obs_alert_name(i)));
        set(o, "severity", json_string(hv__obs_severity_name(hv__obs_alert_severity(i))));
        set(o, "enabled", json_boolean(st->enabled));
        set(o, "active", json_boolean(st->active));
        set(o, "raised", u64(st->raised));
        set(o, "value", num(st->value));
        set(o, "threshold", num(st->threshold));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *events(const hv_obs_snap *s)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < s->nevents; i++) {
        const hv_obs_alert_event *e = &s->event[i];
        json_t *o = json_object();
        set(o, "name", json_string(hv__obs_alert_name(e->id)));
        set(o, "severity", json_string(hv__obs_severity_name(hv__obs_alert_severity(e->id))));
        set(o, "raised", json_boolean(e->raised));
        set(o, "at_s", num((double)e->at_ns / 1e9));
        set(o, "message", json_string(e->message));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *links(const hv_obs_snap *s)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < s->nlinks; i++) {
        const hv_net_link_stats *l = &s->link[i].s;
        json_t *o = json_object();
        set(o, "name", json_string(s->link[i].name));
        set(o, "rtt_us", num(l->rtt_us));
        set(o, "bytes_sent", u64(l->bytes_sent));
        set(o, "bytes_recv", u64(l->bytes_recv));
        set(o, "packets_lost", u64(l->packets_lost));
        set(o, "handshake_us", num(l->handshake_us));
        json_array_append_new(a, o);
    }
    return a;
}

static void header(json_t *o, const hv_obs_snap *s)
{
    set(o, "gen", u64(s->gen));
    set(o, "t_s", num((double)s->t_ns / 1e9));
    set(o, "title", json_string(s->title));
    set(o, "running", json_boolean(s->running));
    set(o, "finished", json_boolean(s->finished));
    set(o, "failed", json_boolean(s->failed));
    set(o, "error", json_string(s->error));
    set(o, "runner", json_string(s->st.runner == HV_SWARM_RUNNER_THREADS ? "threads" : "one"));
    set(o, "cycles", u64(s->st.cycles));
    set(o, "planned", u64(s->cycles_planned));
    set(o, "stalled", u64(s->st.cycles_stalled));
    set(o, "cycles_per_s", num(s->cycles_per_s));
    set(o, "wall_s", num(s->wall_s));
    set(o, "agents_lost", json_integer(s->st.agents_lost));
    set(o, "agents_rejoined", json_integer(s->st.agents_rejoined));
    set(o, "publish_ms",
        num(s->publishes ? (double)s->publish_ns / 1e6 / (double)s->publishes : 0));
}

char *hv__obs_state_json(const hv_obs_snap *s, hv_obs_cursor *c)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int first = !c->full_sent;
    header(o, s);
    set(o, "full", json_boolean(first));
    set(o, "cycle", lat(&s->cycle));
    set(o, "stages", stages(s));
    set(o, "consensus", consensus(s));
    set(o, "orders", orders(s));
    set(o, "portfolio", portfolio(s));
    set(o, "curve",
        points(s->curve_epoch, s->curve_n, &c->curve_epoch, &c->curve_sent, first, curve_point, s));
    set(o, "rate",
        points(s->rate.epoch, s->rate.n, &c->rate_epoch, &c->rate_sent, first, rate_point, s));
    set(o, "bus", bus(s));
    set(o, "agents", agents(s));
    set(o, "machine", machine(s));
    set(o, "alerts", alerts(s));
    set(o, "events", events(s));
    set(o, "links", links(s));
    c->full_sent++;
    char *js = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return js;
}

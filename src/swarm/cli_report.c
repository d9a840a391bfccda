/*
 * The report of `hivewire run` and `hivewire coordinator` (cli_run.h): the summary rows, the
 * typed configuration and result of the JSON document, the equity of every bar (the fills the
 * coordinator received, replayed on a portfolio of our own in the execution agent's order) and
 * the trades with the consensus decision behind each. Printed and written by cli/report.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <hivewire/swarm.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "swarm/cli_run.h"

/* ---- The configuration -----------------------------------------------------------------------
 */

static const char *enum_name(int v, const char *const *names, size_t n)
{
    return v >= 0 && (size_t)v < n ? names[v] : "?";
}

#define NAMES(a) a, sizeof(a) / sizeof(a[0])

/* The JSON names of the rules and criticalities: the engine's, in lower case. */
static const char *const rule_names[HV_RULE_COUNT] = {
    "auto", "majority", "simple_majority", "threshold", "weighted", "unanimous", "bft",
};
static const char *const crit_names[HV_CRIT_COUNT] = { "low", "medium", "high", "critical" };

static json_t *agents_json(const hv_swarm_opts *c)
{
    json_t *a = json_object(), *arr = json_array();
    json_object_set_new(a, "patterns", json_integer(c->patterns));
    json_object_set_new(a, "risk_votes", json_boolean(c->risk_votes));
    json_object_set_new(a, "voters", json_integer(c->patterns + (c->risk_votes ? 1 : 0)));
    for (uint32_t i = 0; i < c->patterns; i++) {
        const hv_swarm_pattern *p = &c->pattern[i];
        json_array_append_new(arr, json_pack("{s:i, s:i, s:f, s:i, s:i, s:i}", "window", p->len,
                                             "k", p->k, "band", p->band, "horizon", p->horizon,
                                             "stride", p->stride, "capacity", p->capacity));
    }
    json_object_set_new(a, "pattern", arr);
    return a;
}

static json_t *runner_json(const hv_swarm_opts *c)
{
    static const char *const runners[] = { "auto", "one", "threads" };
    static const char *const waits[] = { "block", "spin", "yield" };
    static const char *const places[] = { "none", "auto" };
    static const char *const auths[] = { "auto", "sig", "mac" };
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "runner",
                     enum_name(c->runner, NAMES(runners)), "wait", enum_name(c->wait, NAMES(waits)),
                     "placement", enum_name(c->placement, NAMES(places)), "vote_auth",
                     enum_name(c->vote_auth, NAMES(auths)), "proposal_ms",
                     (json_int_t)(c->proposal_timeout_ns / 1000000), "cycle_ms",
                     (json_int_t)(c->cycle_timeout_ns / 1000000), "heartbeat_ms",
                     (json_int_t)(c->heartbeat_ns / 1000000), "stall_ms",
                     (json_int_t)(c->stall_timeout_ns / 1000000));
}

static json_t *policy_json(const hv_policy *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "rule", json_string(enum_name((int)p->rule, NAMES(rule_names))));
    if (p->rule == HV_RULE_THRESHOLD || p->rule == HV_RULE_WEIGHTED) {
        json_object_set_new(o, "num", json_integer(p->num));
        json_object_set_new(o, "den", json_integer(p->den));
    }
    return o;
}

static json_t *consensus_json(const hv_swarm_opts *c)
{
    json_t *o = json_object(), *rules = json_object();
    for (int i = 0; i < HV_CRIT_COUNT; i++)
        json_object_set_new(rules, crit_names[i], policy_json(&c->table.crit_policy[i]));
    json_object_set_new(o, "rules", rules);
    json_object_set_new(
        o, "order_criticality",
        json_string(enum_name(c->table.action_crit[HV_ACTION_ORDER_EXECUTION], NAMES(crit_names))));
    json_object_set_new(
        o, "position_criticality",
        json_string(enum_name(c->table.action_crit[HV_ACTION_POSITION_CHANGE], NAMES(crit_names))));
    json_object_set_new(o, "early_termination", json_boolean(c->early));
    return o;
}

static json_t *config_json(const run_opts *o, const hv_series *bars)
{
    const hv_swarm_opts *c = &o->cfg;
    json_t *j = json_object();
    json_object_set_new(j, "data", hv__cli_bars_json(&o->bars, bars));
    json_object_set_new(j, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(j, "cycles_max",
                        c->cycles_max ? json_integer((json_int_t)c->cycles_max) : json_null());
    json_object_set_new(j, "agents", agents_json(c));
    json_object_set_new(j, "runner", runner_json(c));
    json_object_set_new(j, "strategy",
                        json_pack("{s:I, s:f, s:b, s:f}", "qty", (json_int_t)c->qty, "threshold",
                                  c->signal_threshold, "allow_short", c->allow_short, "cash",
                                  c->cash));
    json_object_set_new(j, "consensus", consensus_json(c));
    json_object_set_new(j, "risk",
                        json_pack("{s:i, s:f, s:f}", "var_window", c->var_window, "var_q", c->var_q,
                                  "var_budget", c->var_budget));
    json_object_set_new(j, "limits", hv__cli_limits_json(&c->limits));
    json_object_set_new(j, "exchange", hv__cli_exchange_json(&c->exchange));
    json_object_set_new(j, "remote", o->remote ? json_string(o->remote) : json_null());
    return j;
}

/* ---- The result ------------------------------------------------------------------------------
 */

static json_t *usage_json(const hv_swarm_stats *st)
{
    double n = st->cycles > 0 ? (double)st->cycles : 1;
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "cpu_per_cycle_ns", json_real((double)st->cpu_ns / n));
    json_object_set_new(o, "sleeps_per_cycle", json_real((double)st->switches_voluntary / n));
    json_object_set_new(o, "preemptions_per_cycle",
                        json_real((double)st->switches_involuntary / n));
    for (uint32_t i = 0; i < st->nthreads; i++) {
        const hv_swarm_usage *u = &st->threads[i];
        json_array_append_new(arr,
                              json_pack("{s:s, s:I, s:I, s:I, s:o}", "name", u->name, "cpu_ns",
                                        (json_int_t)u->cpu_ns, "switches_voluntary",
                                        (json_int_t)u->switches_voluntary, "switches_involuntary",
                                        (json_int_t)u->switches_involuntary, "cpu",
                                        u->cpu >= 0 ? json_integer(u->cpu) : json_null()));
    }
    json_object_set_new(o, "threads", arr);
    return o;
}

static json_t *events_json(const hv_swarm *sw)
{
    const hv_swarm_event *ev;
    size_t n = hv_swarm_events(sw, &ev);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:I, s:f}", "agent", ev[i].name, "event",
                                        ev[i].rejoined ? "back" : "lost", "cycle",
                                        (json_int_t)ev[i].cycle, "t_s", (double)ev[i].t_ns / 1e9));
    return arr;
}

static json_t *rules_json(const hv_swarm_stats *st)
{
    json_t *o = json_object();
    for (int r = HV_RULE_MAJORITY; r < HV_RULE_COUNT; r++)
        json_object_set_new(o, rule_names[r], json_integer(st->rules_used[r]));
    return o;
}

static json_t *kill_json(const hv_swarm_stats *st)
{
    if (!st->halted)
        return json_pack("{s:b, s:n, s:n}", "halted", 0, "cycle", "message");
    char why[160];
    hv_limit_breach_format(&st->halt_breach, why, sizeof(why));
    return json_pack("{s:b, s:I, s:s}", "halted", 1, "cycle", (json_int_t)st->halted_cycle,
                     "message", why);
}

static json_t *result_json(const hv_swarm *sw, const hv_swarm_stats *st, uint64_t planned,
                           const char *stopped_by)
{
    hv_profiler_stage_stats cy;
    hv_profiler_stage_stats_get(hv_swarm_profiler(sw), HV_PROFILER_CYCLE, &cy);
    const hv_portfolio_stats *p = &st->portfolio;
    double wall = (double)st->wall_ns / 1e9;
    json_t *j = json_object();
    json_object_set_new(j, "completed", json_boolean(stopped_by == NULL));
    json_object_set_new(j, "stopped_by", stopped_by ? json_string(stopped_by) : json_null());
    json_object_set_new(j, "cycles", json_integer((json_int_t)st->cycles));
    json_object_set_new(j, "cycles_planned", json_integer((json_int_t)planned));
    json_object_set_new(j, "wall_s", json_real(wall));
    json_object_set_new(j, "cycles_per_s", json_real(wall > 0 ? (double)st->cycles / wall : 0));
    json_object_set_new(
        j, "cycle_latency_ns",
        json_pack("{s:I, s:I}", "p50", (json_int_t)cy.p50_ns, "p99", (json_int_t)cy.p99_ns));
    json_object_set_new(j, "proposals",
                        json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)st->proposals,
                                  "accepted", (json_int_t)st->accepted, "rejected",
                                  (json_int_t)st->rejected, "no_quorum",
                                  (json_int_t)st->no_quorum));
    json_object_set_new(j, "rules_used", rules_json(st));
    json_object_set_new(j, "votes",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "counted",
                                  (json_int_t)st->votes_counted, "after_decision",
                                  (json_int_t)st->votes_late, "refused", (json_int_t)st->votes_bad,
                                  "unknown_proposal", (json_int_t)st->votes_unknown, "repeated",
                                  (json_int_t)st->votes_repeated, "decided_early",
                                  (json_int_t)st->decided_early, "auth",
                                  st->vote_auth == HV_SWARM_AUTH_SIG ? "sig" : "mac"));
    json_object_set_new(
        j, "faults",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:I}", "cycles_stalled",
                  (json_int_t)st->cycles_stalled, "orders_unknown", (json_int_t)st->orders_unknown,
                  "frames_bad", (json_int_t)st->frames_bad, "frames_stale",
                  (json_int_t)st->frames_stale, "inputs_missing", (json_int_t)st->inputs_missing,
                  "agents_lost", st->agents_lost, "agents_rejoined", st->agents_rejoined,
                  "joins_refused", st->joins_refused, "requests_resent",
                  (json_int_t)st->requests_resent));
    json_object_set_new(j, "agent_events", events_json(sw));
    json_object_set_new(j, "orders",
                        json_pack("{s:I, s:I, s:I, s:I, s:o}", "sent", (json_int_t)st->orders_sent,
                                  "refused_limit", (json_int_t)st->orders_refused_limit,
                                  "refused_kill_switch", (json_int_t)st->orders_refused_halt,
                                  "refused_exchange", (json_int_t)st->orders_refused_exchange,
                                  "last_order_cycle",
                                  st->last_order_cycle == UINT64_MAX
                                      ? json_null()
                                      : json_integer((json_int_t)st->last_order_cycle)));
    json_object_set_new(j, "fills", json_integer((json_int_t)st->fills));
    json_object_set_new(j, "shares_traded", json_integer((json_int_t)p->shares_traded));
    json_object_set_new(j, "fees", hv__cli_json_num(p->fees));
    json_object_set_new(j, "realized_pnl", hv__cli_json_num(p->realized_pnl));
    json_object_set_new(j, "final_position", json_integer((json_int_t)p->position));
    json_object_set_new(j, "final_equity", hv__cli_json_num(p->equity));
    json_object_set_new(j, "pnl", hv__cli_json_num(p->equity - p->cash_initial));
    json_object_set_new(j, "return", hv__cli_json_num(p->equity / p->cash_initial - 1));
    json_object_set_new(j, "max_drawdown", hv__cli_json_num(p->max_drawdown));
    json_object_set_new(j, "max_drawdown_frac", hv__cli_json_num(p->max_drawdown_frac));
    json_object_set_new(j, "kill_switch", kill_json(st));
    json_object_set_new(j, "bus_messages", json_integer((json_int_t)st->bus_messages));
    json_object_set_new(j, "runner",
                        json_string(st->runner == HV_SWARM_RUNNER_THREADS ? "threads" : "one"));
    json_object_set_new(j, "usage", usage_json(st));
    char hash[17];
    snprintf(hash, sizeof(hash), "%016" PRIx64, st->trades_hash);
    json_object_set_new(j, "trade_list_hash", json_string(hash));
    return j;
}

/* ---- The summary rows ------------------------------------------------------------------------
 */

/* CPU time and context switches per cycle, in total and by thread ("name us/switches"), from
 * getrusage (docs/SWARM.md). */
static void add_usage(hv_cli_report *r, const hv_swarm_stats *st, int placement)
{
    double n = st->cycles > 0 ? (double)st->cycles : 1;
    hv__cli_report_add(r, "cpu per cycle",
                       "%.1f us over %u threads, %.1f sleeps + %.1f preemptions",
                       (double)st->cpu_ns / 1e3 / n, st->nthreads,
                       (double)st->switches_voluntary / n, (double)st->switches_involuntary / n);
    char line[HV_CLI_ROW_MAX];
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
    hv__cli_report_add(r, "  by thread", "%s", line);
    if (placement >= 0)
        hv__cli_report_add(r, "  placement", "%s",
                           placement == HV_SWARM_PLACE_AUTO
                               ? "auto (name@cpu: pinned there; unmarked: left to the OS)"
                               : "none (the OS places the threads)");
}

/* The agents lost and back, a few per row ("pattern-0 lost at cycle 812 (1.42 s)"). */
static void add_events(hv_cli_report *r, const hv_swarm *sw)
{
    const hv_swarm_event *ev;
    size_t n = hv_swarm_events(sw, &ev);
    char line[HV_CLI_ROW_MAX];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char one[96];
        snprintf(one, sizeof(one), "%s%s %s at cycle %" PRIu64 " (%.2f s)", used ? "; " : "",
                 ev[i].name, ev[i].rejoined ? "back" : "lost", ev[i].cycle,
                 (double)ev[i].t_ns / 1e9);
        if (used + strlen(one) >= sizeof(line)) {
            hv__cli_report_add(r, "  agent events", "%s", line);
            used = 0;
            snprintf(one, sizeof(one), "%s %s at cycle %" PRIu64 " (%.2f s)", ev[i].name,
                     ev[i].rejoined ? "back" : "lost", ev[i].cycle, (double)ev[i].t_ns / 1e9);
        }
        memcpy(line + used, one, strlen(one) + 1);
        used += strlen(one);
    }
    if (used > 0)
        hv__cli_report_add(r, "  agent events", "%s", line);
}

static void add_data(hv_cli_report *r, const run_opts *o, const hv_series *bars)
{
    char span[40] = "";
    size_t nbars = bars->len;
    if (nbars > 0) {
        char a[11], b[11];
        hv_day_format(bars->bars[0].day, a);
        hv_day_format(bars->bars[nbars - 1].day, b);
        snprintf(span, sizeof(span), ", %s..%s", a, b);
    }
    hv__cli_report_add(r, "data", "%s%s%s%s, %zu bars%s",
                       o->bars.synthetic ? "synthetic GBM" : o->bars.data,
                       o->bars.symbol ? " (" : "", o->bars.symbol ? o->bars.symbol : "",
                       o->bars.symbol ? ")" : "", nbars, span);
}

static void add_consensus(hv_cli_report *r, const hv_swarm_stats *st)
{
    hv__cli_report_add(r, "proposals",
                       "%" PRIu64 " (accepted %" PRIu64 ", rejected %" PRIu64 ", no quorum %" PRIu64
                       ")",
                       st->proposals, st->accepted, st->rejected, st->no_quorum);
    hv__cli_report_add(r, "rules used", "bft %d, threshold %d, simple %d, majority %d, other %d",
                       st->rules_used[HV_RULE_BFT], st->rules_used[HV_RULE_THRESHOLD],
                       st->rules_used[HV_RULE_SIMPLE_MAJORITY], st->rules_used[HV_RULE_MAJORITY],
                       st->rules_used[HV_RULE_WEIGHTED] + st->rules_used[HV_RULE_UNANIMOUS]);
    hv__cli_report_add(
        r, "votes",
        "%" PRIu64 " counted, %" PRIu64 " after the decision, %" PRIu64 " refused; %" PRIu64
        " decided early; auth %s",
        st->votes_counted, st->votes_late, st->votes_bad + st->votes_unknown, st->decided_early,
        st->vote_auth == HV_SWARM_AUTH_SIG ? "Ed25519 signatures"
                                           : "BLAKE2b MACs (every voter in this process)");
    if (st->cycles_stalled + st->orders_unknown + st->frames_bad + st->agents_lost > 0)
        hv__cli_report_add(r, "faults",
                           "%" PRIu64 " cycles stalled, %" PRIu64 " order results unknown, %" PRIu64
                           " frames refused, %u agents lost (%u rejoined)",
                           st->cycles_stalled, st->orders_unknown, st->frames_bad, st->agents_lost,
                           st->agents_rejoined);
}

static void add_book(hv_cli_report *r, const hv_swarm_stats *st)
{
    const hv_portfolio_stats *p = &st->portfolio;
    hv__cli_report_add(r, "orders",
                       "%" PRIu64 " sent, %" PRIu64 " refused by limits, %" PRIu64
                       " by the kill switch, %" PRIu64 " by the exchange",
                       st->orders_sent, st->orders_refused_limit, st->orders_refused_halt,
                       st->orders_refused_exchange);
    hv__cli_report_add(r, "trades (fills)", "%" PRIu64 ", %" PRId64 " shares", st->fills,
                       p->shares_traded);
    hv__cli_report_add(r, "fees", "%.2f", p->fees);
    hv__cli_report_add(r, "realized P&L", "%.2f", p->realized_pnl);
    hv__cli_report_add(r, "final position", "%" PRId64, p->position);
    hv__cli_report_add(r, "final equity", "%.2f (P&L %.2f, %.3f%%)", p->equity,
                       p->equity - p->cash_initial, (p->equity / p->cash_initial - 1) * 100);
    hv__cli_report_add(r, "max drawdown", "%.2f (%.3f%%)", p->max_drawdown,
                       p->max_drawdown_frac * 100);
}

static void summarise(hv_cli_report *r, const run_opts *o, const hv_swarm *sw,
                      const hv_swarm_stats *st, const hv_series *bars, uint64_t planned,
                      const char *stopped_by)
{
    hv_profiler_stage_stats cy;
    hv_profiler_stage_stats_get(hv_swarm_profiler(sw), HV_PROFILER_CYCLE, &cy);
    double wall = (double)st->wall_ns / 1e9;
    add_data(r, o, bars);
    if (stopped_by != NULL)
        hv__cli_report_add(r, "STOPPED",
                           "by %s after %" PRIu64 " of %" PRIu64
                           " cycles: the reports cover only those (partial)",
                           stopped_by, st->cycles, planned);
    hv__cli_report_add(r, "agents",
                       "%u pattern + market data, risk, strategy, execution, coordinator (%u "
                       "voters)",
                       o->cfg.patterns, o->cfg.patterns + (o->cfg.risk_votes ? 1u : 0u));
    hv__cli_report_add(r, "cycles", "%" PRIu64, st->cycles);
    hv__cli_report_add(r, "wall time", "%.3f s", wall);
    hv__cli_report_add(r, "cycles/s", "%.0f", wall > 0 ? (double)st->cycles / wall : 0);
    hv__cli_report_add(r, "cycle latency p50 / p99", "%.1f us / %.1f us", (double)cy.p50_ns / 1e3,
                       (double)cy.p99_ns / 1e3);
    add_consensus(r, st);
    add_events(r, sw);
    add_book(r, st);
    hv__cli_report_returns_rows(r);
    if (st->halted) {
        char why[160];
        hv_limit_breach_format(&st->halt_breach, why, sizeof(why));
        hv__cli_report_add(r, "kill switch",
                           "HALTED at cycle %" PRIu64 " (%s); new orders refused afterwards",
                           st->halted_cycle, why);
    } else {
        hv__cli_report_add(r, "kill switch", "off");
    }
    hv__cli_report_add(r, "bus messages", "%" PRIu64, st->bus_messages);
    hv__cli_report_add(r, "runner", "%s",
                       st->runner == HV_SWARM_RUNNER_THREADS ? "threads: a thread per agent"
                       : o->cfg.runner == HV_SWARM_RUNNER_AUTO
                           ? "one (auto): every agent on one thread, no hand-offs"
                           : "one: every agent stepped by one thread");
    add_usage(r, st, st->runner == HV_SWARM_RUNNER_THREADS ? o->cfg.placement : -1);
    hv__cli_report_add(r, "trade list hash", "%016" PRIx64, st->trades_hash);
}

/* ---- The equity of every bar, and the trades -------------------------------------------------
 */

static void add_trade(hv_cli_report *r, const hv_swarm_trade *t)
{
    hv_report_trade rt = { .t_ns = t->exchange_ns,
                           .side = (int)t->side,
                           .qty = t->qty,
                           .price = t->price,
                           .fee = t->fee,
                           .order_id = t->order_id,
                           .proposal_id = t->proposal_id };
    if (t->rule >= 0) {
        rt.rule = enum_name(t->rule, NAMES(rule_names));
        rt.approvals = t->approvals;
        rt.rejections = t->rejections;
        rt.abstentions = t->abstentions;
        rt.voters = t->voters;
    }
    hv__cli_report_trade(r, &rt);
}

/* Bar by bar as the execution agent booked them: the fills reported during cycle b, then the
 * mark at b's close; at the last bar, every fill still to come (delivered while the run
 * finished), so the last point is the final book. */
static int replay(hv_cli_report *r, const hv_swarm *sw, const hv_bar *bars, uint64_t cycles,
                  double cash, uint64_t bar_ns)
{
    const hv_swarm_trade *t;
    size_t nt = hv_swarm_trades(sw, &t), k = 0;
    hv_portfolio *pf;
    if (hv_portfolio_new(cash, 2, &pf) != 0)
        return HV_EXIT_FAIL;
    for (uint64_t b = 0; b < cycles; b++) {
        for (; k < nt && (t[k].cycle <= b || b + 1 == cycles); k++) {
            (void)hv_portfolio_apply_fill(pf, t[k].side, t[k].qty, t[k].price, t[k].fee);
            add_trade(r, &t[k]);
        }
        (void)hv_portfolio_mark(pf, bars[b].close, b * bar_ns);
        hv_portfolio_stats ps;
        hv_portfolio_stats_get(pf, &ps);
        hv__cli_report_bar(r, (size_t)b, ps.equity, ps.position);
    }
    hv_portfolio_free(pf);
    return 0;
}

int hv__run_report(run_opts *o, const hv_swarm *sw, const hv_series *bars, const char *stopped_by,
                   hv_obs_cli *obs, const char *cmd)
{
    hv_swarm_stats st;
    hv_swarm_stats_get(sw, &st);
    uint64_t planned =
        o->cfg.cycles_max && o->cfg.cycles_max < bars->len ? o->cfg.cycles_max : bars->len;
    hv_cli_report r;
    if (hv__cli_report_init(&r, cmd, bars->bars, bars->len, o->bars.bar_ns, o->cfg.cash) != 0)
        return HV_EXIT_FAIL;
    r.base = "run";
    r.dir = o->out;
    r.json = o->json;
    r.wide = o->wide;
    r.quiet = o->quiet;
    r.partial = stopped_by != NULL;
    r.stages_heading = "stages (critical path of each cycle; self time; see docs/SWARM.md)";
    uint64_t cycles = st.cycles < bars->len ? st.cycles : bars->len;
    int rc = replay(&r, sw, bars->bars, cycles, o->cfg.cash, o->bars.bar_ns);
    if (rc == 0) {
        summarise(&r, o, sw, &st, bars, planned, stopped_by);
        r.config = config_json(o, bars);
        r.result = result_json(sw, &st, planned, stopped_by);
        char title[160];
        snprintf(title, sizeof(title), "hivewire %s: %s%s%s, seed %llu%s", cmd,
                 o->bars.synthetic ? "synthetic" : o->bars.data, o->bars.symbol ? " " : "",
                 o->bars.symbol ? o->bars.symbol : "", (unsigned long long)o->cfg.seed,
                 stopped_by ? " (partial)" : "");
        hv_report_extra alerts;
        memset(&alerts, 0, sizeof(alerts));
        hv__obs_cli_report(obs, &alerts);
        rc = hv__cli_report_emit(&r, hv_swarm_profiler(sw), title, &alerts);
    }
    hv__cli_report_fini(&r);
    return rc;
}

/* The Prometheus text exposition of a snapshot (expo.h; families in docs/OBSERVABILITY.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/common.h>

#include "obs/expo.h"

/* ---- The buffer ------------------------------------------------------------------------------ */

void hv__obs_buf_init(hv_obs_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void hv__obs_buf_fini(hv_obs_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static int reserve(hv_obs_buf *b, size_t n)
{
    if (b->failed)
        return -1;
    if (b->len + n + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    char *p = b->len + n + 1 <= cap ? realloc(b->p, cap) : NULL;
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void hv__obs_buf_put(hv_obs_buf *b, const char *s, size_t n)
{
    if (reserve(b, n) != 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void hv__obs_buf_printf(hv_obs_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        hv__obs_buf_put(b, small, (size_t)n);
        return;
    }
    if (reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- Values and labels ----------------------------------------------------------------------- */

/* v in the shortest form that reads back as v; NaN, +Inf, -Inf as Prometheus spells them. */
static void format_double(double v, char *s, size_t cap)
{
    if (isnan(v)) {
        snprintf(s, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(s, cap, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, cap, "%.*g", prec, v);
        if (strtod(s, NULL) == v)
            return;
    }
}

void hv__obs_expo_double(hv_obs_buf *b, double v)
{
    char s[40];
    format_double(v, s, sizeof(s));
    hv__obs_buf_put(b, s, strlen(s));
}

void hv__obs_expo_label_value(hv_obs_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            hv__obs_buf_put(b, "\\\\", 2);
        else if (*v == '"')
            hv__obs_buf_put(b, "\\\"", 2);
        else if (*v == '\n')
            hv__obs_buf_put(b, "\\n", 2);
        else
            hv__obs_buf_put(b, v, 1);
    }
}

/* Label pairs: { "k1", "v1", "k2", "v2", NULL }. */
#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOKV    ((const char *const *)NULL)

static void labels(hv_obs_buf *b, const char *const *kv, const char *le)
{
    int any = (kv != NULL && kv[0] != NULL) || le != NULL;
    if (!any)
        return;
    hv__obs_buf_put(b, "{", 1);
    int first = 1;
    for (size_t i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2) {
        hv__obs_buf_printf(b, "%s%s=\"", first ? "" : ",", kv[i]);
        hv__obs_expo_label_value(b, kv[i + 1]);
        hv__obs_buf_put(b, "\"", 1);
        first = 0;
    }
    if (le != NULL)
        hv__obs_buf_printf(b, "%sle=\"%s\"", first ? "" : ",", le);
    hv__obs_buf_put(b, "}", 1);
}

static void family(hv_obs_buf *b, const char *name, const char *type, const char *help)
{
    hv__obs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void line_d(hv_obs_buf *b, const char *name, const char *const *kv, double v)
{
    hv__obs_buf_put(b, name, strlen(name));
    labels(b, kv, NULL);
    hv__obs_buf_put(b, " ", 1);
    hv__obs_expo_double(b, v);
    hv__obs_buf_put(b, "\n", 1);
}

static void line_u(hv_obs_buf *b, const char *name, const char *const *kv, uint64_t v)
{
    hv__obs_buf_put(b, name, strlen(name));
    labels(b, kv, NULL);
    hv__obs_buf_printf(b, " %llu\n", (unsigned long long)v);
}

static void counter(hv_obs_buf *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    line_u(b, name, NOKV, v);
}

static void gauge(hv_obs_buf *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    line_d(b, name, NOKV, v);
}

/* One histogram series: cumulative buckets, +Inf, _sum, _count. */
static void hist(hv_obs_buf *b, const char *name, const char *const *kv, const hv_obs_hist *h,
                 const double *bounds)
{
    char n[96], le[40];
    snprintf(n, sizeof(n), "%s_bucket", name);
    for (uint32_t i = 0; i < h->nbounds; i++) {
        format_double(bounds[i], le, sizeof(le));
        hv__obs_buf_put(b, n, strlen(n));
        labels(b, kv, le);
        hv__obs_buf_printf(b, " %llu\n", (unsigned long long)h->cum[i]);
    }
    hv__obs_buf_put(b, n, strlen(n));
    labels(b, kv, "+Inf");
    hv__obs_buf_printf(b, " %llu\n", (unsigned long long)h->count);
    snprintf(n, sizeof(n), "%s_sum", name);
    line_d(b, n, kv, h->sum_s);
    snprintf(n, sizeof(n), "%s_count", name);
    line_u(b, n, kv, h->count);
}

static double maybe(int known, double v)
{
    return known ? v : NAN;
}

/* ---- The families -------------------------------------------------------------------------- */

static const char *runner_name(int r)
{
    return r == HV_SWARM_RUNNER_THREADS ? "threads" : "one";
}

static void run_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    family(b, "hivewire_run_info", "gauge", "What runs: runner, vote authentication, version.");
    line_d(b, "hivewire_run_info",
           KV("runner", runner_name(s->st.runner), "vote_auth",
              s->st.vote_auth == HV_SWARM_AUTH_SIG ? "sig" : "mac", "version", hv_version()),
           1);
    gauge(b, "hivewire_run_running", "1 while the swarm runs cycles.", s->running);
    gauge(b, "hivewire_run_finished", "1 once the run is over (the figures are final).",
          s->finished);
    gauge(b, "hivewire_run_failed", "1 if the swarm stopped with an error.", s->failed);
    gauge(b, "hivewire_run_cycles_planned", "Cycles the run will do (one per bar).",
          (double)s->cycles_planned);
    gauge(b, "hivewire_run_wall_seconds", "Wall time since the first cycle began.", s->wall_s);
    counter(b, "hivewire_cycles_total", "Trading cycles completed.", s->st.cycles);
    counter(b, "hivewire_cycles_stalled_total",
            "Cycles ended by the cycle timeout without a signal or order result.",
            s->st.cycles_stalled);
    gauge(b, "hivewire_cycles_per_second", "Cycles per second over the last second or so.",
          s->cycles_per_s);
}

/* Stages of one kind (external or timed). A family with no series is left out: a family must
 * have samples. */
static uint32_t stages_of(const hv_obs_snap *s, int external)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nstages; i++)
        n += s->stage[i].external == external;
    return n;
}

static void timed_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    family(b, "hivewire_stage_duration_seconds", "histogram",
           "Critical-path time of each occurrence of a cycle stage (docs/SWARM.md).");
    for (uint32_t i = 0; i < s->nstages; i++)
        if (!s->stage[i].external)
            hist(b, "hivewire_stage_duration_seconds", KV("stage", s->stage[i].name),
                 &s->stage[i].h, hv__obs_lat_bounds);
    family(b, "hivewire_stage_self_seconds_total", "counter",
           "Cycle time charged to each stage (the stages' self times add up to the cycles').");
    for (uint32_t i = 0; i < s->nstages; i++)
        if (!s->stage[i].external)
            line_d(b, "hivewire_stage_self_seconds_total", KV("stage", s->stage[i].name),
                   (double)s->stage[i].self_ns / 1e9);
}

static void latency_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    family(b, "hivewire_cycle_duration_seconds", "histogram",
           "Time of each trading cycle (the profiler's cycle).");
    hist(b, "hivewire_cycle_duration_seconds", NOKV, &s->cycle, hv__obs_lat_bounds);
    if (stages_of(s, 0) > 0)
        timed_families(s, b);
    if (stages_of(s, 1) == 0)
        return;
    family(b, "hivewire_stage_external_seconds", "histogram",
           "Durations measured apart from the cycle: CPU time of the parallel stages, simulated "
           "exchange latencies.");
    for (uint32_t i = 0; i < s->nstages; i++)
        if (s->stage[i].external)
            hist(b, "hivewire_stage_external_seconds", KV("stage", s->stage[i].name),
                 &s->stage[i].h, hv__obs_ext_bounds);
}

static const char *const rule_labels[HV_RULE_COUNT] = {
    "auto", "majority", "simple_majority", "threshold", "weighted", "unanimous", "bft",
};
static const char *const outcome_labels[HV_OUTCOME_COUNT] = { "pending", "accepted", "rejected",
                                                              "no_quorum" };

static void consensus_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    const hv_swarm_stats *st = &s->st;
    counter(b, "hivewire_proposals_total", "Consensus rounds opened.", st->proposals);
    family(b, "hivewire_consensus_outcomes_total", "counter", "Proposals decided, by outcome.");
    line_u(b, "hivewire_consensus_outcomes_total", KV("outcome", "accepted"), st->accepted);
    line_u(b, "hivewire_consensus_outcomes_total", KV("outcome", "rejected"), st->rejected);
    line_u(b, "hivewire_consensus_outcomes_total", KV("outcome", "no_quorum"), st->no_quorum);
    family(b, "hivewire_consensus_decisions_total", "counter",
           "Proposals the engine decided, by rule and outcome.");
    for (int r = 1; r < HV_RULE_COUNT; r++)
        for (int o = 1; o < HV_OUTCOME_COUNT; o++)
            line_u(b, "hivewire_consensus_decisions_total",
                   KV("rule", rule_labels[r], "outcome", outcome_labels[o]), s->cons.decided[r][o]);
    counter(b, "hivewire_consensus_decided_early_total",
            "Proposals decided before every vote arrived (no remaining vote could change them).",
            st->decided_early);
    family(b, "hivewire_consensus_decision_seconds", "histogram",
           "Time from a proposal's opening to its decision.");
    hist(b, "hivewire_consensus_decision_seconds", NOKV, &s->decision, hv__obs_lat_bounds);
    family(b, "hivewire_votes_total", "counter",
           "Votes by what became of them: counted, late (after the decision), refused by the "
           "engine, repeated, for an unknown proposal.");
    line_u(b, "hivewire_votes_total", KV("result", "counted"), st->votes_counted);
    line_u(b, "hivewire_votes_total", KV("result", "late"), st->votes_late);
    line_u(b, "hivewire_votes_total", KV("result", "refused"), st->votes_bad);
    line_u(b, "hivewire_votes_total", KV("result", "repeated"), st->votes_repeated);
    line_u(b, "hivewire_votes_total", KV("result", "unknown_proposal"), st->votes_unknown);
    counter(b, "hivewire_requests_resent_total",
            "Requests (next bar, proposal, decision) sent again after going unanswered.",
            st->requests_resent);
}

static void order_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    const hv_swarm_stats *st = &s->st;
    family(b, "hivewire_orders_total", "counter", "Accepted orders, by what became of them.");
    line_u(b, "hivewire_orders_total", KV("state", "sent"), st->orders_sent);
    line_u(b, "hivewire_orders_total", KV("state", "refused_limit"), st->orders_refused_limit);
    line_u(b, "hivewire_orders_total", KV("state", "refused_kill_switch"), st->orders_refused_halt);
    line_u(b, "hivewire_orders_total", KV("state", "refused_exchange"),
           st->orders_refused_exchange);
    line_u(b, "hivewire_orders_total", KV("state", "result_unknown"), st->orders_unknown);
    family(b, "hivewire_exchange_orders_total", "counter",
           "Orders by exchange state (the execution agent's final report: 0 until the end).");
    const hv_exchange_stats *x = &st->exchange;
    line_u(b, "hivewire_exchange_orders_total", KV("state", "submitted"), x->submitted);
    line_u(b, "hivewire_exchange_orders_total", KV("state", "accepted"), x->accepted);
    line_u(b, "hivewire_exchange_orders_total", KV("state", "rejected"), x->rejected);
    line_u(b, "hivewire_exchange_orders_total", KV("state", "filled"), x->filled);
    line_u(b, "hivewire_exchange_orders_total", KV("state", "cancelled"), x->cancelled);
    line_u(b, "hivewire_exchange_orders_total", KV("state", "expired"), x->expired);
    counter(b, "hivewire_fills_total", "Fills reported to the coordinator.", st->fills);
    counter(b, "hivewire_execution_reports_total", "Execution reports the coordinator received.",
            st->confirmations);
}

static void portfolio_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    const hv_portfolio_stats *p = &s->pf;
    gauge(b, "hivewire_portfolio_equity", "Cash plus the position at the last close.", p->equity);
    gauge(b, "hivewire_portfolio_pnl", "Equity minus the initial cash.",
          p->equity - p->cash_initial);
    gauge(b, "hivewire_portfolio_realized_pnl", "Realized P&L, gross of fees.", p->realized_pnl);
    gauge(b, "hivewire_portfolio_cash", "Cash.", p->cash);
    gauge(b, "hivewire_portfolio_position_shares", "Position in shares (negative: short).",
          (double)p->position);
    gauge(b, "hivewire_portfolio_drawdown_ratio", "Drawdown from the equity peak, as a fraction.",
          p->drawdown_frac);
    gauge(b, "hivewire_portfolio_max_drawdown_ratio", "Largest drawdown so far, as a fraction.",
          p->max_drawdown_frac);
    gauge(b, "hivewire_portfolio_max_drawdown", "Largest drawdown so far, in currency.",
          p->max_drawdown);
    family(b, "hivewire_traded_shares_total", "counter", "Shares traded (fills).");
    line_d(b, "hivewire_traded_shares_total", NOKV, s->traded_shares);
    family(b, "hivewire_fees_total", "counter", "Fees paid.");
    line_d(b, "hivewire_fees_total", NOKV, s->fees);
    gauge(b, "hivewire_kill_switch_engaged", "1 once the drawdown kill switch halted new orders.",
          s->kill_switch);
    gauge(b, "hivewire_portfolio_final",
          "1: the portfolio figures are the execution agent's final book; 0: marked live from "
          "the fills the coordinator received.",
          s->pf_final);
}

static const char *const prio_labels[HV_PRIO_COUNT] = { "critical", "high", "normal", "low",
                                                        "batch" };

typedef struct per_agent {
    const char *name, *help;
    size_t offset; /* of a uint64_t in hv_agent_stats */
} per_agent;

#define AGENT_FIELD(f) offsetof(hv_agent_stats, f)

static void bus_agent_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    static const per_agent rows[] = {
        { "hivewire_bus_received_messages_total", "Messages each agent took from its inbox.",
          AGENT_FIELD(received) },
        { "hivewire_bus_sent_messages_total", "Messages each agent published.", AGENT_FIELD(sent) },
        { "hivewire_bus_received_bytes_total", "Payload bytes each agent received.",
          AGENT_FIELD(bytes_received) },
        { "hivewire_bus_sent_bytes_total", "Payload bytes each agent published.",
          AGENT_FIELD(bytes_sent) },
        { "hivewire_bus_send_refused_total",
          "Publishes of each agent a full inbox refused (backpressure: the agent keeps the frame "
          "and sends it again).",
          AGENT_FIELD(send_rejected) },
    };
    if (s->nagents == 0)
        return;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        family(b, rows[r].name, "counter", rows[r].help);
        for (uint32_t i = 0; i < s->nagents; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&s->agent[i].bus + rows[r].offset, sizeof(v));
            line_u(b, rows[r].name, KV("agent", s->agent[i].name), v);
        }
    }
    family(b, "hivewire_queue_depth_messages", "gauge",
           "Messages waiting in each agent's inbox, by priority lane.");
    for (uint32_t i = 0; i < s->nagents; i++)
        for (int l = 0; l < HV_PRIO_COUNT; l++)
            line_u(b, "hivewire_queue_depth_messages",
                   KV("agent", s->agent[i].name, "priority", prio_labels[l]),
                   s->agent[i].bus.depth[l]);
}

static void bus_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    uint64_t drop[8] = { 0 };
    for (uint32_t i = 0; i < s->nagents; i++) {
        const hv_agent_stats *a = &s->agent[i].bus;
        drop[0] += a->dropped_oldest;
        drop[1] += a->rejected;
        drop[2] += a->expired;
        drop[5] += a->unrouted;
        drop[6] += a->retries_exhausted;
        drop[7] += a->retry_overflow;
    }
    drop[3] = s->bus.pool_empty;
    drop[4] = s->bus.dlq_dropped;
    static const char *const causes[8] = { "dropped_oldest",    "rejected_full", "expired",
                                           "pool_empty",        "dlq_overflow",  "unrouted",
                                           "retries_exhausted", "retry_overflow" };
    family(b, "hivewire_bus_drops_total", "counter",
           "Messages the bus did not deliver, by cause (docs/BUS.md; rejected_full: refused by a "
           "full inbox and sent again by the agent).");
    for (int c = 0; c < 8; c++)
        line_u(b, "hivewire_bus_drops_total", KV("cause", causes[c]), drop[c]);
    counter(b, "hivewire_dead_letters_total", "Messages put on the bus's dead-letter queue.",
            s->bus.dead_letters);
    gauge(b, "hivewire_dead_letters_queued", "Dead letters waiting to be read.", s->bus.dlq_depth);
    bus_agent_families(s, b);
    gauge(b, "hivewire_queue_depth_max_messages", "Messages in the deepest inbox.",
          (double)s->queue_depth_max);
    gauge(b, "hivewire_bus_messages_in_flight", "Bus messages taken from the pool and not freed.",
          s->bus.msgs_in_use);
    family(b, "hivewire_bus_latency_window_seconds", "gauge",
           "Bus message latency (publish to receive) over the last alert window, by quantile.");
    line_d(b, "hivewire_bus_latency_window_seconds", KV("q", "0.5"),
           (double)s->bus_latency.p50_ns / 1e9);
    line_d(b, "hivewire_bus_latency_window_seconds", KV("q", "0.95"),
           (double)s->bus_latency.p95_ns / 1e9);
    line_d(b, "hivewire_bus_latency_window_seconds", KV("q", "0.99"),
           (double)s->bus_latency.p99_ns / 1e9);
    counter(b, "hivewire_bus_latency_alerts_total",
            "Latency thresholds the bus found breached (hv_bus_check_alerts).", s->bus.alerts);
}

static void agent_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    const hv_swarm_stats *st = &s->st;
    counter(b, "hivewire_frames_bad_total",
            "Frames the agents refused as malformed (from their final reports).", st->frames_bad);
    counter(b, "hivewire_frames_stale_total",
            "Duplicates and frames of a cycle already over, ignored (from the final reports).",
            st->frames_stale);
    counter(b, "hivewire_inputs_missing_total",
            "Predictions the strategy decided without (from the final reports).",
            st->inputs_missing);
    counter(b, "hivewire_agents_lost_total", "Times an agent missed 3 heartbeats.",
            st->agents_lost);
    counter(b, "hivewire_agents_rejoined_total", "Times a lost or restarted agent joined again.",
            st->agents_rejoined);
    counter(b, "hivewire_joins_refused_total",
            "Joins refused (unknown id, wrong role, changed key).", st->joins_refused);
    gauge(b, "hivewire_agents_reported", "Agents whose final report reached the coordinator.",
          st->agents_reported);
    uint32_t members = 0;
    for (uint32_t i = 0; i < s->nagents; i++)
        members += s->agent[i].member != 0;
    if (members == 0)
        return;
    family(b, "hivewire_agent_up", "gauge", "1: the agent joined and is not lost.");
    for (uint32_t i = 0; i < s->nagents; i++)
        if (s->agent[i].member)
            line_d(b, "hivewire_agent_up", KV("agent", s->agent[i].name),
                   s->agent[i].joined && !s->agent[i].lost);
    family(b, "hivewire_agent_silent_seconds", "gauge",
           "Time since the coordinator last heard from the agent (NaN: never).");
    for (uint32_t i = 0; i < s->nagents; i++)
        if (s->agent[i].member)
            line_d(b, "hivewire_agent_silent_seconds", KV("agent", s->agent[i].name),
                   maybe(s->agent[i].silent_s >= 0, s->agent[i].silent_s));
    family(b, "hivewire_agent_last_cycle", "gauge",
           "The last cycle the agent said it worked on (NaN: none yet).");
    for (uint32_t i = 0; i < s->nagents; i++)
        if (s->agent[i].member)
            line_d(b, "hivewire_agent_last_cycle", KV("agent", s->agent[i].name),
                   maybe(s->agent[i].last_cycle != UINT64_MAX, (double)s->agent[i].last_cycle));
}

static void thread_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    family(b, "hivewire_runner_cpu_seconds_total", "counter",
           "User + system CPU time of each runner thread.");
    for (uint32_t i = 0; i < s->nthreads; i++)
        line_d(b, "hivewire_runner_cpu_seconds_total", KV("thread", s->thread[i].name),
               (double)s->thread[i].cpu_ns / 1e9);
    family(b, "hivewire_runner_context_switches_total", "counter",
           "Context switches of each runner thread: voluntary (it slept) and involuntary (it "
           "was preempted).");
    for (uint32_t i = 0; i < s->nthreads; i++) {
        line_u(b, "hivewire_runner_context_switches_total",
               KV("thread", s->thread[i].name, "kind", "voluntary"),
               s->thread[i].switches_voluntary);
        line_u(b, "hivewire_runner_context_switches_total",
               KV("thread", s->thread[i].name, "kind", "involuntary"),
               s->thread[i].switches_involuntary);
    }
    uint32_t measured = 0;
    for (uint32_t i = 0; i < s->nthreads; i++)
        measured += s->thread[i].have_wait != 0;
    if (measured == 0)
        return;
    family(b, "hivewire_runner_runqueue_wait_seconds_total", "counter",
           "Time a runner thread was runnable but waited for a CPU (schedstat; the threads this "
           "process could measure).");
    for (uint32_t i = 0; i < s->nthreads; i++)
        if (s->thread[i].have_wait)
            line_d(b, "hivewire_runner_runqueue_wait_seconds_total",
                   KV("thread", s->thread[i].name), (double)s->thread[i].runq_wait_ns / 1e9);
}

static void machine_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    if (s->nthreads > 0)
        thread_families(s, b);
    gauge(b, "hivewire_process_resident_memory_bytes", "Resident memory of the process.",
          (double)s->rss_bytes);
    gauge(b, "hivewire_cpu_pressure_some_ratio",
          "Share of the last 10 s some task waited for a CPU (/proc/pressure/cpu; NaN: not "
          "available).",
          s->cpu_pressure_some);
}

static void alert_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    family(b, "hivewire_alert_active", "gauge", "1 while the alert is raised.");
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++)
        line_d(b, "hivewire_alert_active",
               KV("alert", hv__obs_alert_name(i), "severity",
                  hv__obs_severity_name(hv__obs_alert_severity(i))),
               s->alert[i].active);
    family(b, "hivewire_alerts_raised_total", "counter", "Times each alert was raised.");
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++)
        line_u(b, "hivewire_alerts_raised_total",
               KV("alert", hv__obs_alert_name(i), "severity",
                  hv__obs_severity_name(hv__obs_alert_severity(i))),
               s->alert[i].raised);
    family(b, "hivewire_alert_value", "gauge",
           "The value each alert compared at its last verdict (units: docs/OBSERVABILITY.md).");
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++)
        line_d(b, "hivewire_alert_value", KV("alert", hv__obs_alert_name(i)), s->alert[i].value);
    family(b, "hivewire_alert_threshold", "gauge", "Each alert's threshold (0: off).");
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++)
        line_d(b, "hivewire_alert_threshold", KV("alert", hv__obs_alert_name(i)),
               s->alert[i].threshold);
}

static void obs_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    counter(b, "hivewire_obs_publishes_total", "Snapshots published to the HTTP side.",
            s->publishes);
    family(b, "hivewire_obs_publish_seconds_total", "counter",
           "Wall time the coordinator's thread spent sampling and publishing snapshots.");
    line_d(b, "hivewire_obs_publish_seconds_total", NOKV, (double)s->publish_ns / 1e9);
    gauge(b, "hivewire_obs_sse_clients", "Dashboards connected.", s->sse_clients);
    counter(b, "hivewire_obs_scrapes_total", "Requests for /metrics answered.", s->scrapes);
}

typedef struct link_row {
    const char *name, *type, *help;
    size_t offset; /* of a uint64_t (counters) or a double (gauges, in us) in hv_net_link_stats */
} link_row;

#define LINK_FIELD(f) offsetof(hv_net_link_stats, f)

static void link_families(const hv_obs_snap *s, hv_obs_buf *b)
{
    static const link_row rows[] = {
        { "hivewire_link_rtt_seconds", "gauge", "Smoothed QUIC round-trip time.",
          LINK_FIELD(rtt_us) },
        { "hivewire_link_rtt_min_seconds", "gauge", "Smallest QUIC round-trip time seen.",
          LINK_FIELD(rtt_min_us) },
        { "hivewire_link_rtt_deviation_seconds", "gauge", "QUIC round-trip time variation.",
          LINK_FIELD(rtt_var_us) },
        { "hivewire_link_sent_bytes_total", "counter", "UDP payload bytes sent.",
          LINK_FIELD(bytes_sent) },
        { "hivewire_link_received_bytes_total", "counter", "UDP payload bytes received.",
          LINK_FIELD(bytes_recv) },
        { "hivewire_link_sent_datagrams_total", "counter", "Datagrams sent.",
          LINK_FIELD(datagrams_sent) },
        { "hivewire_link_received_datagrams_total", "counter", "Datagrams received.",
          LINK_FIELD(datagrams_recv) },
        { "hivewire_link_packets_lost_total", "counter", "Packets QUIC declared lost.",
          LINK_FIELD(packets_lost) },
        { "hivewire_link_handshake_seconds", "gauge",
          "Last connection: QUIC start to HVW1 session open (TLS + HVW1).",
          LINK_FIELD(handshake_us) },
        { "hivewire_link_frames_sent_total", "counter", "HVW1 frames sent.",
          LINK_FIELD(frames_sent) },
        { "hivewire_link_frames_delivered_total", "counter", "HVW1 frames delivered.",
          LINK_FIELD(frames_delivered) },
        { "hivewire_link_frames_replayed_total", "counter", "Frames sent again after a reconnect.",
          LINK_FIELD(frames_replayed) },
        { "hivewire_link_duplicates_total", "counter", "Duplicate frames dropped.",
          LINK_FIELD(duplicates) },
        { "hivewire_link_backpressure_total", "counter", "Publishes answered HV_EFULL.",
          LINK_FIELD(full) },
        { "hivewire_link_refused_total", "counter", "Frames refused (authorization, rate, size).",
          LINK_FIELD(refused) },
        { "hivewire_link_connections_total", "counter",
          "Connections the link ran over (1 + reconnects).", LINK_FIELD(connections) },
        { "hivewire_link_resumptions_total", "counter", "Connections resumed at TLS level.",
          LINK_FIELD(resumed) },
        { "hivewire_link_early_accepted_total", "counter",
          "Connections whose 0-RTT data the hub accepted.", LINK_FIELD(early_accepted) },
        { "hivewire_link_buffered_bytes", "gauge", "Bytes the session holds now.",
          LINK_FIELD(buffered_bytes) },
    };
    if (s->nlinks == 0)
        return;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        family(b, rows[r].name, rows[r].type, rows[r].help);
        int us = strstr(rows[r].name, "_seconds") != NULL; /* doubles in us */
        for (uint32_t i = 0; i < s->nlinks; i++) {
            const char *p = (const char *)&s->link[i].s + rows[r].offset;
            char id[24];
            snprintf(id, sizeof(id), "%016llx", (unsigned long long)s->link[i].s.peer_id);
            double dv;
            uint64_t uv;
            if (us) {
                memcpy(&dv, p, sizeof(dv));
                line_d(b, rows[r].name, KV("peer", id, "name", s->link[i].name), dv / 1e6);
            } else {
                memcpy(&uv, p, sizeof(uv));
                line_u(b, rows[r].name, KV("peer", id, "name", s->link[i].name), uv);
            }
        }
    }
}

int hv__obs_expo_write(const hv_obs_snap *s, hv_obs_buf *b)
{
    run_families(s, b);
    latency_families(s, b);
    consensus_families(s, b);
    order_families(s, b);
    portfolio_families(s, b);
    bus_families(s, b);
    agent_families(s, b);
    machine_families(s, b);
    alert_families(s, b);
    obs_families(s, b);
    link_families(s, b);
    return b->failed ? HV_ENOBUFS : 0;
}

/*
 * The coordinator's profiler: the stages of a cycle, and the replay of each finished cycle's
 * timeline on the profiler's own clock (docs/SWARM.md, "The profiler").
 */
#include <string.h>

#include "swarm/swarm_int.h"

static uint64_t vclock(void *ctx)
{
    return ((const sw_coord *)ctx)->vclock;
}

int hv__sw_coord_profiler(sw_coord *c)
{
    hv_profiler_opts pc;
    hv_profiler_opts_default(&pc);
    pc.clock = vclock; /* the cycle timeline is replayed on a clock the coordinator advances */
    pc.clock_ctx = c;
    pc.value_max_ns = 1ull << 48; /* simulated latencies of up to 3 days */
    int rc = hv_profiler_new(&pc, &c->prof);
    if (rc != 0)
        return rc;
    struct {
        int *id;
        const char *name;
        int kind;
    } st[] = {
        { &c->st_md, "market_data_ingestion", HV_STAGE_TIMED },
        { &c->st_dtw, "dtw_pattern_matching", HV_STAGE_TIMED },
        { &c->st_var, "risk_var", HV_STAGE_TIMED },
        { &c->st_conf, "order_confirmation", HV_STAGE_TIMED },
        { &c->st_strat, "strategy_signal", HV_STAGE_TIMED },
        { &c->st_cons, "consensus", HV_STAGE_TIMED },
        { &c->st_lim, "risk_limits", HV_STAGE_TIMED },
        { &c->st_exec, "order_execution", HV_STAGE_TIMED },
        { &c->st_bus, "coordination_bus", HV_STAGE_TIMED },
        { &c->ext_ack, "sim_exchange_ack_rtt", HV_STAGE_SIMULATED },
        { &c->ext_fill, "sim_order_to_fill_report", HV_STAGE_SIMULATED },
        { &c->ext_dtw_cpu, "cpu_dtw_all_pattern_agents", HV_STAGE_EXTERNAL },
        { &c->ext_var_cpu, "cpu_risk_var_update", HV_STAGE_EXTERNAL },
        { &c->ext_exec_cpu, "cpu_execution_bar", HV_STAGE_EXTERNAL },
    };
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        int id = hv_profiler_stage(c->prof, st[i].name, st[i].kind);
        if (id < 0)
            return id;
        *st[i].id = id;
    }
    return 0;
}

static void span(sw_coord *c, int stage, uint64_t d)
{
    hv_profiler_begin(c->prof, stage);
    c->vclock += d;
    hv_profiler_end(c->prof, stage);
}

static uint64_t take(uint64_t *left, uint64_t want)
{
    uint64_t d = want < *left ? want : *left;
    *left -= d;
    return d;
}

/*
 * Replays the finished cycle on the profiler's clock: the cycle lasts exactly its measured
 * time; each stage gets the time it spent on the critical path (docs/SWARM.md), in path
 * order, and what is left is coordination over the link. Work that ran in parallel (the
 * pattern agents, the VaR update, the execution agent's bar) is charged its CPU time, summed
 * over the agents, within the measured parallel section (scaled down if the sum exceeds it, as
 * when two cores run them at once); the rest of that section was spent waking agents and
 * moving messages, and is charged to the bus.
 */
void hv__sw_coord_replay(sw_coord *c)
{
    const sw_cycle *cy = &c->cur;
    const sw_trace *t = &cy->out.strat.trace;
    uint64_t left = cy->t_end - cy->t0;
    uint64_t md = take(&left, t->md_ns);
    uint64_t cpu = t->dtw_cpu_ns + t->var_cpu_ns + t->exec_cpu_ns;
    /* Across processes the parallel section cannot be measured on one clock: it is taken to
     * last at least the work done in it, and the rest of the cycle is coordination. */
    uint64_t par = take(&left, t->par_ns == SW_SPAN_UNKNOWN ? cpu : t->par_ns);
    double scale = cpu > par ? (double)par / (double)cpu : 1.0;
    uint64_t p_var = (uint64_t)((double)t->var_cpu_ns * scale);
    uint64_t p_exec = (uint64_t)((double)t->exec_cpu_ns * scale);
    uint64_t p_dtw = (uint64_t)((double)t->dtw_cpu_ns * scale);
    if (p_var + p_exec + p_dtw > par)
        p_dtw = par - p_var - p_exec;
    left += par - (p_var + p_exec + p_dtw); /* waiting in the parallel section: the bus */
    uint64_t strat = take(&left, t->strat_ns);
    uint64_t cons = cy->proposal && cy->decided ? take(&left, cy->t_dec - cy->t_out) : 0;
    uint64_t lim = cy->have_result ? take(&left, cy->result.result.risk_ns) : 0;
    uint64_t exe = cy->have_result ? take(&left, cy->result.result.exec_ns) : 0;
    uint64_t conf = take(&left, cy->conf_local_ns);
    hv_profiler_cycle_begin(c->prof);
    span(c, c->st_md, md);
    span(c, c->st_dtw, p_dtw);
    span(c, c->st_var, p_var);
    span(c, c->st_conf, p_exec + conf);
    span(c, c->st_strat, strat);
    if (cy->proposal)
        span(c, c->st_cons, cons);
    if (cy->have_result) {
        span(c, c->st_lim, lim);
        span(c, c->st_exec, exe);
    }
    span(c, c->st_bus, left);
    hv_profiler_cycle_end(c->prof);
    hv_profiler_record(c->prof, c->ext_dtw_cpu, t->dtw_cpu_ns);
    hv_profiler_record(c->prof, c->ext_var_cpu, t->var_cpu_ns);
    hv_profiler_record(c->prof, c->ext_exec_cpu, t->exec_cpu_ns);
}

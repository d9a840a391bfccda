/* The alert engine (alerts.h): thresholds with hysteresis, on measurements passed in. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "obs/alerts.h"

void hv__obs_alert_config_default(hv_obs_alert_config *c)
{
    memset(c, 0, sizeof(*c));
    c->threshold[HV_OBS_ALERT_CYCLE_P95] = 1e-3;
    c->threshold[HV_OBS_ALERT_CYCLE_P99] = 5e-3;
    c->threshold[HV_OBS_ALERT_BUS_LATENCY] = 0.5;
    c->threshold[HV_OBS_ALERT_QUEUE_DEPTH] = 10000;
    c->threshold[HV_OBS_ALERT_MEMORY] = 100e6;
    c->threshold[HV_OBS_ALERT_ERROR_RATE] = 0.001;
    c->threshold[HV_OBS_ALERT_CPU_CONTENDED] = 0.10;
    c->clear_ratio = 0.8;
    c->clear_after = 3;
    c->min_cycles = 20;
    c->min_messages = 1000;
}

void hv__obs_alerts_init(hv_obs_alerts *a, const hv_obs_alert_config *cfg)
{
    memset(a, 0, sizeof(*a));
    a->cfg = *cfg;
    if (!(a->cfg.clear_ratio > 0 && a->cfg.clear_ratio <= 1))
        a->cfg.clear_ratio = 0.8;
    if (a->cfg.clear_after == 0)
        a->cfg.clear_after = 1;
    for (int i = 0; i < HV_OBS_ALERT_COUNT; i++) {
        a->st[i].threshold = a->cfg.threshold[i];
        a->st[i].enabled = a->cfg.threshold[i] > 0;
    }
}

/* ---- The measured value of each alert (0: no verdict this time) ----------------------------- */

typedef struct verdict {
    int valid;
    double value;
    char why[160]; /* what was measured, for the message */
} verdict;

static void ms(char *buf, size_t cap, double s)
{
    snprintf(buf, cap, "%.3g ms", s * 1e3);
}

static void latency(const hv_obs_alert_input *in, int p99, verdict *v)
{
    uint64_t ns = p99 ? in->cycle_p99_ns : in->cycle_p95_ns;
    v->value = (double)ns / 1e9;
    char a[32];
    ms(a, sizeof(a), v->value);
    snprintf(v->why, sizeof(v->why), "cycle latency %s %s over the last %llu cycles",
             p99 ? "p99" : "p95", a, (unsigned long long)in->window_cycles);
}

static void bus(const hv_obs_alert_input *in, verdict *v)
{
    char a[32], b[32];
    v->valid = in->bus_valid;
    v->value = in->bus_breached;
    ms(a, sizeof(a), (double)in->bus_p95_ns / 1e9);
    ms(b, sizeof(b), (double)in->bus_p99_ns / 1e9);
    snprintf(v->why, sizeof(v->why),
             "bus message latency p95 %s, p99 %s: %d of the bus's thresholds (p95 1 ms, p99 "
             "5 ms) breached",
             a, b, in->bus_breached);
}

static void errors(hv_obs_alerts *a, const hv_obs_alert_input *in, verdict *v)
{
    uint64_t e = in->errors - a->err_errors, m = in->messages - a->err_messages;
    if (in->errors < a->err_errors || in->messages < a->err_messages) { /* counters reset */
        a->err_errors = in->errors;
        a->err_messages = in->messages;
        a->err_ns = in->now_ns;
        return;
    }
    if (m < a->cfg.min_messages)
        return;
    v->valid = 1;
    v->value = (double)e / (double)m;
    snprintf(v->why, sizeof(v->why), "error rate %.3g%% (%llu errors in %llu messages, %.1f s)",
             v->value * 100, (unsigned long long)e, (unsigned long long)m,
             (double)(in->now_ns - a->err_ns) / 1e9);
    a->err_errors = in->errors;
    a->err_messages = in->messages;
    a->err_ns = in->now_ns;
}

static void cpu(hv_obs_alerts *a, const hv_obs_alert_input *in, verdict *v)
{
    char psi[48] = "";
    if (!isnan(in->psi_some))
        snprintf(psi, sizeof(psi), "; machine CPU pressure %.0f%%", in->psi_some * 100);
    if (in->have_wait) {
        uint64_t wall = in->now_ns - a->wait_at_ns;
        if (wall == 0 || in->runq_wait_ns < a->wait_ns)
            return;
        v->valid = 1;
        v->value = (double)(in->runq_wait_ns - a->wait_ns) / (double)wall;
        snprintf(v->why, sizeof(v->why),
                 "CPU contended: the runner thread waited for a CPU %.0f%% of the last %.1f s%s",
                 v->value * 100, (double)wall / 1e9, psi);
        a->wait_at_ns = in->now_ns;
        a->wait_ns = in->runq_wait_ns;
        return;
    }
    if (isnan(in->psi_some))
        return;
    v->valid = 1;
    v->value = in->psi_some;
    snprintf(v->why, sizeof(v->why),
             "CPU contended: tasks waited for a CPU %.0f%% of the last 10 s (/proc/pressure/cpu)",
             v->value * 100);
}

static void measure(hv_obs_alerts *a, const hv_obs_alert_input *in, int id, verdict *v)
{
    memset(v, 0, sizeof(*v));
    switch (id) {
    case HV_OBS_ALERT_CYCLE_P95:
    case HV_OBS_ALERT_CYCLE_P99:
        v->valid = in->window_cycles >= a->cfg.min_cycles;
        latency(in, id == HV_OBS_ALERT_CYCLE_P99, v);
        return;
    case HV_OBS_ALERT_BUS_LATENCY:
        bus(in, v);
        return;
    case HV_OBS_ALERT_QUEUE_DEPTH:
        v->valid = 1;
        v->value = (double)in->queue_depth_max;
        snprintf(v->why, sizeof(v->why), "the deepest inbox holds %llu messages",
                 (unsigned long long)in->queue_depth_max);
        return;
    case HV_OBS_ALERT_MEMORY:
        v->valid = in->rss_bytes > 0;
        v->value = (double)in->rss_bytes;
        snprintf(v->why, sizeof(v->why), "resident memory %.1f MB", v->value / 1e6);
        return;
    case HV_OBS_ALERT_ERROR_RATE:
        errors(a, in, v);
        return;
    default:
        cpu(a, in, v);
        return;
    }
}

/* ---- Hysteresis ------------------------------------------------------------------------------ */

static const char *limit_text(int id, double t, char *buf, size_t cap)
{
    switch (id) {
    case HV_OBS_ALERT_CYCLE_P95:
    case HV_OBS_ALERT_CYCLE_P99:
        ms(buf, cap, t);
        break;
    case HV_OBS_ALERT_MEMORY:
        snprintf(buf, cap, "%.1f MB", t / 1e6);
        break;
    case HV_OBS_ALERT_ERROR_RATE:
    case HV_OBS_ALERT_CPU_CONTENDED:
        snprintf(buf, cap, "%.3g%%", t * 100);
        break;
    default:
        snprintf(buf, cap, "%.6g", t);
    }
    return buf;
}

/* The line's text: what was measured, and the limit it crossed. The bus alert is the bus's own
 * verdict, with no number of ours to compare. */
static void message(const hv_obs_alerts *a, int id, const verdict *v, int raised,
                    hv_obs_alert_event *ev)
{
    char lim[32];
    double t = a->st[id].threshold;
    if (id == HV_OBS_ALERT_BUS_LATENCY && raised)
        snprintf(ev->message, sizeof(ev->message), "%s", v->why);
    else if (id == HV_OBS_ALERT_BUS_LATENCY)
        snprintf(ev->message, sizeof(ev->message), "%s, %u times in a row", v->why,
                 a->cfg.clear_after);
    else if (raised)
        snprintf(ev->message, sizeof(ev->message), "%s > %s", v->why,
                 limit_text(id, t, lim, sizeof(lim)));
    else
        snprintf(ev->message, sizeof(ev->message), "%s, at or below %s %u times in a row", v->why,
                 limit_text(id, t * a->cfg.clear_ratio, lim, sizeof(lim)), a->cfg.clear_after);
}

static int step(hv_obs_alerts *a, int id, const verdict *v, uint64_t now_ns, hv_obs_alert_event *ev)
{
    hv_obs_alert_state *s = &a->st[id];
    if (!s->enabled || !v->valid)
        return 0;
    s->value = v->value;
    int change = -1;
    if (!s->active && v->value > s->threshold) {
        s->active = 1;
        s->raised++;
        a->under[id] = 0;
        change = 1;
        message(a, id, v, 1, ev);
    } else if (s->active && v->value <= s->threshold * a->cfg.clear_ratio) {
        if (++a->under[id] >= a->cfg.clear_after) {
            s->active = 0;
            change = 0;
            message(a, id, v, 0, ev);
        }
    } else {
        a->under[id] = 0;
    }
    if (change < 0)
        return 0;
    ev->id = id;
    ev->raised = change;
    ev->at_ns = now_ns;
    ev->value = v->value;
    ev->threshold = s->threshold;
    return 1;
}

int hv__obs_alerts_eval(hv_obs_alerts *a, const hv_obs_alert_input *in, hv_obs_alert_event *ev,
                        int cap)
{
    assert(!a->started || in->now_ns >= a->last_ns);
    if (!a->started) {
        a->started = 1;
        a->err_ns = a->wait_at_ns = in->now_ns;
        a->err_errors = in->errors;
        a->err_messages = in->messages;
        a->wait_ns = in->runq_wait_ns;
    }
    a->last_ns = in->now_ns;
    a->latency_verdict = in->window_cycles >= a->cfg.min_cycles;
    int n = 0;
    for (int id = 0; id < HV_OBS_ALERT_COUNT; id++) {
        verdict v;
        measure(a, in, id, &v);
        hv_obs_alert_event e;
        if (step(a, id, &v, in->now_ns, &e) && n < cap)
            ev[n++] = e;
    }
    return n;
}

void hv__obs_alert_line(const char *cmd, const hv_obs_alert_event *ev, char *buf, size_t cap)
{
    snprintf(buf, cap, "hivewire %s: alert %s (%s) %s at %.1f s: %s", cmd,
             hv__obs_alert_name(ev->id), hv__obs_severity_name(hv__obs_alert_severity(ev->id)),
             ev->raised ? "raised" : "cleared", (double)ev->at_ns / 1e9, ev->message);
}

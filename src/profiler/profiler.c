/* The trading-cycle profiler: scoped timers with self and total time on a bounded stack. */
#include <stdlib.h>
#include <string.h>

#include "core/assert.h"
#include "core/field.h"
#include "platform/platform.h"
#include "profiler/profiler_int.h"

/* The profiler's job is to read a clock, so without an injected one it reads the clock behind
 * hv_now_ns inline: one call less on every begin and end. Either clock is monotonic: time
 * never runs backwards between two readings. */
static inline uint64_t read_clock(hv_profiler *p)
{
    uint64_t t = p->clock != NULL ? p->clock(p->clock_ctx) : hv__mono_ns();
    HV_ASSERT(t >= p->now_ns_last);
    p->now_ns_last = t;
    return t;
}

void hv_profiler_opts_default(hv_profiler_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->depth_max = 16;
    o->stages_max = 32;
    o->value_max_ns = 60ull * 1000000000ull;
    o->sub_bits = 8;
}

int hv_profiler_opts_check(const hv_profiler_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(hv_profiler_opts))
        return hv__field_fail(err, "size", "must be sizeof(hv_profiler_opts)");
    if (o->depth_max != 0 && (o->depth_max < 2 || o->depth_max > 64))
        return hv__field_fail(err, "depth_max", "must be 0 (default 16) or in [2, 64]");
    if (o->stages_max != 0 && (o->stages_max < 2 || o->stages_max > 256))
        return hv__field_fail(err, "stages_max", "must be 0 (default 32) or in [2, 256]");
    if (o->sub_bits > 16)
        return hv__field_fail(err, "sub_bits", "must be 0 (default 8) or in [1, 16]");
    uint64_t value_max = o->value_max_ns ? o->value_max_ns : 60ull * 1000000000ull;
    uint32_t sub_bits = o->sub_bits ? o->sub_bits : 8;
    if (hv_hist_memory_bytes(value_max, sub_bits) == 0)
        return hv__field_fail(err, "value_max_ns", "must be at least 2^(sub_bits + 1)");
    return 0;
}

/* The options with every 0 replaced by its default. o is checked. */
static void opts_resolve(const hv_profiler_opts *in, hv_profiler_opts *out)
{
    hv_profiler_opts_default(out);
    out->clock = in->clock;
    out->clock_ctx = in->clock_ctx;
    if (in->depth_max)
        out->depth_max = in->depth_max;
    if (in->stages_max)
        out->stages_max = in->stages_max;
    if (in->value_max_ns)
        out->value_max_ns = in->value_max_ns;
    if (in->sub_bits)
        out->sub_bits = in->sub_bits;
}

int hv_profiler_new(const hv_profiler_opts *opts, hv_profiler **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_profiler_opts c;
    if (opts == NULL)
        hv_profiler_opts_default(&c);
    else if (hv_profiler_opts_check(opts, NULL) != 0)
        return HV_EINVAL;
    else
        opts_resolve(opts, &c);
    hv_profiler *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return HV_ENOMEM;
    p->cfg = c;
    p->clock = c.clock; /* NULL: CLOCK_MONOTONIC, read inline */
    p->clock_ctx = c.clock_ctx;
    p->stack = calloc(c.depth_max, sizeof(*p->stack));
    p->stages = calloc(c.stages_max, sizeof(*p->stages));
    if (p->stack == NULL || p->stages == NULL || hv_profiler_stage(p, "cycle", 0) != 0) {
        hv_profiler_free(p);
        return HV_ENOMEM;
    }
    *out = p;
    return 0;
}

void hv_profiler_free(hv_profiler *p)
{
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < p->nstages; i++)
        hv_hist_fini(&p->stages[i].hist);
    free(p->stages);
    free(p->stack);
    free(p);
}

int hv_profiler_find(const hv_profiler *p, const char *name)
{
    for (uint32_t i = 0; i < p->nstages; i++)
        if (strcmp(p->stages[i].name, name) == 0)
            return (int)i;
    return HV_ENOTFOUND;
}

int hv_profiler_stage(hv_profiler *p, const char *name, int kind)
{
    if (p == NULL || name == NULL ||
        (kind != HV_STAGE_TIMED && kind != HV_STAGE_EXTERNAL && kind != HV_STAGE_SIMULATED))
        return HV_EINVAL;
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof(p->stages[0].name))
        return HV_EINVAL;
    int id = hv_profiler_find(p, name);
    if (id >= 0)
        return p->stages[id].kind == kind ? id : HV_EINVAL;
    if (p->nstages >= p->cfg.stages_max)
        return HV_EFULL;
    hv__profiler_stage *s = &p->stages[p->nstages];
    int rc = hv_hist_init(&s->hist, p->cfg.value_max_ns, p->cfg.sub_bits);
    if (rc != 0)
        return rc;
    memcpy(s->name, name, len + 1);
    s->kind = kind;
    return (int)p->nstages++;
}

int hv_profiler_begin(hv_profiler *p, int stage)
{
    if ((unsigned)stage - 1u >= p->nstages - 1u || p->stages[stage].kind != HV_STAGE_TIMED)
        return HV_EINVAL;
    if (p->depth >= p->cfg.depth_max) {
        p->overflow++;
        p->dropped++;
        return HV_EFULL;
    }
    hv__profiler_frame *f = &p->stack[p->depth++];
    f->stage = stage;
    f->child_ns = 0;
    f->start_ns = read_clock(p);
    return 0;
}

/* Pops the innermost frame, which the caller checked is `stage`, and books it at now_ns. */
static void close_frame(hv_profiler *p, uint64_t now_ns)
{
    hv__profiler_frame *f = &p->stack[--p->depth];
    uint64_t total = now_ns > f->start_ns ? now_ns - f->start_ns : 0;
    uint64_t self = total > f->child_ns ? total - f->child_ns : 0;
    if (p->depth > 0)
        p->stack[p->depth - 1].child_ns += total;
    hv__profiler_stage *s = &p->stages[f->stage];
    s->count++;
    s->total_ns += total;
    s->self_ns += self;
    hv_hist_record(&s->hist, total);
}

int hv_profiler_end(hv_profiler *p, int stage)
{
    uint64_t now_ns = read_clock(p);
    if (p->overflow > 0) {
        p->overflow--;
        return HV_EFULL;
    }
    if (p->depth == 0 || p->stack[p->depth - 1].stage != stage || stage == HV_PROFILER_CYCLE) {
        p->mismatched++;
        return HV_ESTATE;
    }
    close_frame(p, now_ns);
    return 0;
}

int hv_profiler_cycle_begin(hv_profiler *p)
{
    if (p->depth != 0 || p->overflow != 0)
        return HV_ESTATE;
    hv__profiler_frame *f = &p->stack[p->depth++];
    f->stage = HV_PROFILER_CYCLE;
    f->child_ns = 0;
    f->start_ns = read_clock(p);
    return 0;
}

int hv_profiler_cycle_end(hv_profiler *p)
{
    uint64_t now_ns = read_clock(p);
    if (p->depth != 1 || p->overflow != 0) {
        p->mismatched++;
        return HV_ESTATE;
    }
    close_frame(p, now_ns);
    return 0;
}

int hv_profiler_record(hv_profiler *p, int stage, uint64_t duration_ns)
{
    if ((unsigned)stage >= p->nstages || p->stages[stage].kind == HV_STAGE_TIMED)
        return HV_EINVAL;
    hv__profiler_stage *s = &p->stages[stage];
    s->count++;
    s->total_ns += duration_ns;
    s->self_ns += duration_ns;
    hv_hist_record(&s->hist, duration_ns);
    return 0;
}

int hv_profiler_merge(hv_profiler *dst, const hv_profiler *src)
{
    if (dst == NULL || src == NULL || dst == src || dst->cfg.sub_bits != src->cfg.sub_bits ||
        dst->cfg.value_max_ns != src->cfg.value_max_ns)
        return HV_EINVAL;
    for (uint32_t i = 0; i < src->nstages; i++) {
        const hv__profiler_stage *s = &src->stages[i];
        int id = hv_profiler_stage(dst, s->name, s->kind);
        if (id < 0)
            return id;
        hv__profiler_stage *d = &dst->stages[id];
        int rc = hv_hist_merge(&d->hist, &s->hist);
        if (rc != 0)
            return rc;
        d->count += s->count;
        d->total_ns += s->total_ns;
        d->self_ns += s->self_ns;
    }
    dst->dropped += src->dropped;
    dst->mismatched += src->mismatched;
    return 0;
}

int hv_profiler_reset(hv_profiler *p)
{
    if (p->depth != 0 || p->overflow != 0)
        return HV_ESTATE;
    for (uint32_t i = 0; i < p->nstages; i++) {
        hv__profiler_stage *s = &p->stages[i];
        hv_hist_reset(&s->hist);
        s->count = s->total_ns = s->self_ns = 0;
    }
    p->dropped = p->mismatched = 0;
    return 0;
}

void hv_profiler_summary_get(const hv_profiler *p, hv_profiler_summary *out)
{
    const hv__profiler_stage *c = &p->stages[HV_PROFILER_CYCLE];
    memset(out, 0, sizeof(*out));
    out->stages = p->nstages;
    out->cycles = c->count;
    out->cycle_ns = c->total_ns;
    out->unattributed_ns = c->self_ns;
    out->cycles_per_s = c->total_ns ? (double)c->count * 1e9 / (double)c->total_ns : 0;
    out->dropped = p->dropped;
    out->mismatched = p->mismatched;
}

int hv_profiler_stage_stats_get(const hv_profiler *p, int stage, hv_profiler_stage_stats *out)
{
    if ((unsigned)stage >= p->nstages)
        return HV_EINVAL;
    const hv__profiler_stage *s = &p->stages[stage];
    uint64_t cycle_ns = p->stages[HV_PROFILER_CYCLE].total_ns;
    memset(out, 0, sizeof(*out));
    out->name = s->name;
    out->id = stage;
    out->kind = s->kind;
    out->count = s->count;
    out->total_ns = s->total_ns;
    out->self_ns = s->self_ns;
    if (s->kind == HV_STAGE_TIMED && cycle_ns > 0)
        out->share = (double)s->self_ns / (double)cycle_ns;
    if (s->count > 0) {
        out->mean_ns = (double)s->total_ns / (double)s->count;
        out->min_ns = s->hist.min;
        out->p50_ns = hv_hist_quantile(&s->hist, 0.5);
        out->p99_ns = hv_hist_quantile(&s->hist, 0.99);
        out->max_ns = s->hist.max;
    }
    return 0;
}

const hv_hist *hv_profiler_stage_hist(const hv_profiler *p, int stage)
{
    return (unsigned)stage < p->nstages ? &p->stages[stage].hist : NULL;
}

size_t hv_profiler_rank(const hv_profiler *p, int *ids, size_t n)
{
    size_t k = 0;
    for (uint32_t i = 1; i < p->nstages; i++) {
        if (p->stages[i].kind != HV_STAGE_TIMED)
            continue;
        /* insertion into the first min(n, k) slots, largest self time first, ties by id */
        size_t j = k < n ? k : n;
        while (j > 0 && p->stages[ids[j - 1]].self_ns < p->stages[i].self_ns) {
            if (j < n)
                ids[j] = ids[j - 1];
            j--;
        }
        if (j < n)
            ids[j] = (int)i;
        k++;
    }
    return k;
}

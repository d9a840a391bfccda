/*
 * The market-data agent: asked for the bar of cycle i (NEXT), it publishes bar i of its data,
 * or end-of-data. It keeps no other state, so a repeated or late NEXT is answered again and a
 * restarted market-data agent carries on where the coordinator is.
 */
#include <string.h>

#include "swarm/swarm_int.h"

static int md_next(sw_agent *a, const sw_msg *in)
{
    uint64_t t0 = hv__sw_clock(a);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.cycle = in->cycle;
    hv__sw_seen(a, in->cycle);
    if (in->cycle >= a->env.nbars) {
        m.kind = SW_EOD;
        return hv__sw_send(a, &m);
    }
    m.kind = SW_BAR;
    m.bar.sim_ns = hv__sw_sim_ns(a, in->cycle);
    m.bar.bar = a->env.bars[in->cycle];
    m.bar.md_ns = hv__sw_clock(a) - t0;
    return hv__sw_send(a, &m);
}

static int md_on_msg(sw_agent *a, const sw_msg *m, uint64_t now_ns)
{
    (void)now_ns;
    return m->kind == SW_NEXT ? md_next(a, m) : 0;
}

static const int md_subs[] = { SW_NEXT, 0 };

const sw_role_ops hv__sw_md_ops = {
    .name = "market-data",
    .subs = md_subs,
    .on_msg = md_on_msg,
};

int hv__sw_md_init(sw_md *m, const sw_env *env)
{
    memset(m, 0, sizeof(*m));
    hv__sw_agent_init(&m->a, env, &hv__sw_md_ops);
    return env->bars != NULL && env->nbars > 0 ? 0 : HV_EINVAL;
}

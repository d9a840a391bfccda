/* The seeded network model (simnet.h). */
#include "sim/simnet.h"

void hv__simnet_default(hv_simnet *n, uint32_t faults)
{
    n->faults = faults;
    n->base_ns = 100000u;
    n->delay_ns = 4000000u;
    n->hold_ns = 3000000u;
}

static uint64_t delay(const hv_simnet *n, hv_rng *rng)
{
    uint64_t d = n->base_ns;
    if ((n->faults & HV_SIM_DELAY) && n->delay_ns > 0)
        d += hv_rng_below(rng, n->delay_ns);
    if ((n->faults & HV_SIM_REORDER) && hv_rng_below(rng, 5) == 0 && n->hold_ns > 0)
        d += hv_rng_below(rng, n->hold_ns);
    return d;
}

int hv__simnet_send(const hv_simnet *n, hv_rng *rng, uint64_t now_ns, uint64_t t[2])
{
    if ((n->faults & HV_SIM_LOSS) && hv_rng_below(rng, 10) == 0)
        return 0;
    int copies = (n->faults & HV_SIM_DUP) && hv_rng_below(rng, 10) == 0 ? 2 : 1;
    for (int i = 0; i < copies; i++)
        t[i] = now_ns + delay(n, rng);
    return copies;
}

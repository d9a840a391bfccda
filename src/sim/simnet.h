/*
 * Internal: the seeded network model both simulators use (the consensus simulator and the
 * whole-swarm simulator). One call decides the fate of one message: lost, delivered once, or
 * delivered twice, and when each copy arrives. Every random choice comes from the caller's
 * hv_rng, in a fixed order, so a seed replays the same network.
 *
 * Model (each fault on only when its HV_SIM_* bit is set):
 *   delivery = now + base_ns                         (always)
 *            + uniform [0, delay_ns)                 (HV_SIM_DELAY)
 *            + uniform [0, hold_ns) for 1 in 5       (HV_SIM_REORDER: later messages overtake)
 *   1 in 10 messages lost                            (HV_SIM_LOSS)
 *   1 in 10 delivered twice, each copy delayed on its own (HV_SIM_DUP)
 */
#ifndef HV_SIM_SIMNET_H
#define HV_SIM_SIMNET_H

#include <stdint.h>

#include <hivewire/rng.h>
#include <hivewire/sim.h>

typedef struct hv_simnet {
    uint32_t faults;  /* HV_SIM_* bits; only DELAY, LOSS, DUP and REORDER matter here */
    uint64_t base_ns; /* fixed one-way delay */
    uint64_t delay_ns;
    uint64_t hold_ns;
} hv_simnet;

/* The consensus simulator's figures: 100 us fixed, up to 4 ms random, 3 ms holds. */
void hv__simnet_default(hv_simnet *n, uint32_t faults);

/* Decides one message sent at now_ns: returns the number of copies (0: lost, 1, or 2) and
 * their delivery times in t[0 .. copies). */
int hv__simnet_send(const hv_simnet *n, hv_rng *rng, uint64_t now_ns, uint64_t t[2]);

#endif

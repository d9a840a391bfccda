/*
 * hivewire: seeded pseudo-random numbers (xoshiro256**, seeded by splitmix64).
 *
 * Every piece of hivewire that needs randomness (simulators, synthetic market data, Monte
 * Carlo, benchmarks) takes an hv_rng so a seed replays a run exactly. Not cryptographic: keys
 * and nonces come from libsodium. An hv_rng is a plain value owned by its caller; it is not
 * thread-safe, give each thread its own (hv_rng_jump() makes non-overlapping streams).
 */
#ifndef HIVEWIRE_RNG_H
#define HIVEWIRE_RNG_H

#include <hivewire/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hv_rng {
    uint64_t s[4];
} hv_rng;

/* Seeds the generator; any seed, including 0, is valid. */
HV_EXTERN void hv_rng_seed(hv_rng *r, uint64_t seed);

/* Uniform 64-bit value. */
HV_EXTERN uint64_t hv_rng_next(hv_rng *r);

/* Uniform integer in [0, n) without modulo bias; n == 0 returns 0. */
HV_EXTERN uint64_t hv_rng_below(hv_rng *r, uint64_t n);

/* Uniform double in [0, 1) with 53 random bits. */
HV_EXTERN double hv_rng_uniform(hv_rng *r);

/* Standard normal deviate (Marsaglia polar method; deterministic for a seed). */
HV_EXTERN double hv_rng_normal(hv_rng *r);

/* Advances the state by 2^128 steps: call on a copy to make an independent stream. */
HV_EXTERN void hv_rng_jump(hv_rng *r);

#ifdef __cplusplus
}
#endif

#endif /* HIVEWIRE_RNG_H */

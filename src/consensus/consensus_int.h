/* Internal helpers shared by the consensus sources. */
#ifndef HV_CONSENSUS_CONSENSUS_INT_H
#define HV_CONSENSUS_CONSENSUS_INT_H

#include <sodium.h>

#include <hivewire/consensus.h>

/* 0 if the policy's rule and ratio are valid (not AUTO), else HV_EINVAL. */
int hv__policy_valid(const hv_policy *p);

/* The number of faulty voters a BFT vote over n voters tolerates: floor((n-1)/3). */
uint32_t hv__bft_f(uint32_t n);

/* hv_vote_mac_verify() with the key already absorbed into `keyed` (crypto_generichash_init
 * with the MAC key, 32-byte output): one BLAKE2b compression per vote instead of two. */
int hv__vote_mac_verify_keyed(const hv_vote *v, const crypto_generichash_state *keyed);

#endif

/* Internal helpers shared by the consensus sources. */
#ifndef HV_CONSENSUS_CONSENSUS_INT_H
#define HV_CONSENSUS_CONSENSUS_INT_H

#include <hivewire/consensus.h>

/* 0 if the policy's rule and ratio are valid (not AUTO), else HV_EINVAL. */
int hv__policy_valid(const hv_policy *p);

/* The number of faulty voters a BFT vote over n voters tolerates: floor((n-1)/3). */
uint32_t hv__bft_f(uint32_t n);

#endif

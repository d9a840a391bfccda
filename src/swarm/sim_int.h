/*
 * Internal, for tests only: breaking the swarm on purpose, to prove that the simulator's
 * checker catches each kind of invariant violation. 0 (the default) breaks nothing; a test
 * sets hv__sw_sim_break before hv_swarm_sim() and clears it after. Not thread-safe (tests run
 * one simulation at a time when they use it).
 */
#ifndef HV_SWARM_SIM_INT_H
#define HV_SWARM_SIM_INT_H

#include <stdint.h>

enum {
    HV_SW_SIM_BREAK_NONE = 0,
    HV_SW_SIM_BREAK_CRASHED_TALKS,    /* crashed agents keep running */
    HV_SW_SIM_BREAK_ORDER_TWICE,      /* the venue forgets which proposals it executed */
    HV_SW_SIM_BREAK_NO_DEADLINE,      /* the coordinator opens proposals without a deadline */
    HV_SW_SIM_BREAK_UNACCEPTED_ORDER, /* the risk agent forwards rejected proposals too */
    HV_SW_SIM_BREAK_ACCOUNT,          /* a fill appears in the account from nowhere */
};

extern int hv__sw_sim_break;

/* Voters that never answer (bit i: pattern agent i; bit 16: the risk agent): their votes are
 * not sent, under any runner. 0 (the default) mutes nobody. */
extern uint32_t hv__sw_mute_votes;

#endif

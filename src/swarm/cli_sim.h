/* hivewire sim swarm (cli_sim.c), a subcommand of `hivewire sim` (src/consensus/cli_consensus.c).
 */
#ifndef HV_SWARM_CLI_SIM_H
#define HV_SWARM_CLI_SIM_H

#include "cli/opts.h"

extern const hv_cli_spec hv__sim_swarm_spec;
int hv__cmd_sim_swarm(int argc, char **argv);

#endif

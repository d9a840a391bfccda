/*
 * CLI pieces shared by hivewire backtest (cli_trading.c, where they live) and hivewire run
 * (src/swarm/cli_swarm.c). Both commands are linked into the one hivewire executable.
 */
#ifndef HIVEWIRE_CLI_TRADING_H
#define HIVEWIRE_CLI_TRADING_H

#include <stdint.h>

#include <hivewire/market.h>
#include <hivewire/profiler.h>

#include "cli/sim.h"

/* Writes dir/name: the profiler JSON when name contains ".json", else the HTML report. Says
 * "wrote <path>" on stderr. Returns 0 or HV_EXIT_FAIL (message printed). */
int hv__cli_write_report(const char *cmd, const char *dir, const char *name, const hv_profiler *p,
                         const hv_report_extra *x);

/* Creates dir if missing. Returns 0 or HV_EXIT_FAIL (message printed). */
int hv__cli_make_dir(const char *cmd, const char *dir);

#endif /* HIVEWIRE_CLI_TRADING_H */

/*
 * What hivewire generates from its commands' option tables (src/cli/opts.h): the man page and
 * the bash completion (`hivewire help --man`, `hivewire help --bash-completion`; the build
 * writes both next to the executable and `make install` installs them).
 */
#ifndef HV_CLI_DOC_H
#define HV_CLI_DOC_H

#include <stdio.h>

#include "cli/cli.h"
#include "cli/opts.h"

/* hivewire-bench's options (src/cli/bench_spec.c): `hivewire bench` runs that program. */
extern const hv_cli_spec hv__bench_spec;

/* The man page, hivewire(1), in roff: every command and subcommand of cmds (ended by a NULL
 * name) with its options, then bench, help and version. Returns 0 or HV_EIO. */
int hv__cli_man(FILE *f, const struct hv_cli_cmd *cmds);

/* A bash completion script for hivewire: commands, subcommands, every option of each, the
 * choices of enum options and file or directory names for path options. Returns 0 or HV_EIO. */
int hv__cli_bash_completion(FILE *f, const struct hv_cli_cmd *cmds);

#endif

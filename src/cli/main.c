/*
 * hivewire: the command-line front end. Commands are registered by each area (see
 * cmake/hivewire.cmake); this file dispatches, answers `help`, and hands `bench` to
 * hivewire-bench.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/common.h>

#include "bench_areas.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/opts.h"
#include "cli_tables.h"
#include "platform/platform.h"

static void usage(FILE *f)
{
    fprintf(f, "hivewire %s: microsecond coordination for swarms of trading agents\n\n",
            hv_version());
    fprintf(f, "usage: hivewire <command> [options]    (hivewire help <command> for more)\n\n");
    fprintf(f, "commands:\n");
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->help);
    fprintf(f, "  %-12s %s\n", "bench",
            "run benchmarks: hivewire bench <area>|all (hivewire-bench)");
    fprintf(f, "  %-12s %s\n", "version", "print the version");
    fprintf(f, "  %-12s %s\n", "help", "this text, or a command's options: help CMD [SUB]");
}

/*
 * `hivewire bench ...`: the benchmarks are hivewire-bench, a program of their own (so hivewire
 * links no benchmark peer and no malloc shim). Runs the hivewire-bench beside this executable
 * with the same arguments; without one, says where it comes from.
 */
static int cmd_bench(int argc, char **argv)
{
    (void)argc;
    char path[PATH_MAX];
    int n = hv__exe_path(path, sizeof(path));
    char *slash = n > 0 ? strrchr(path, '/') : NULL;
    if (slash != NULL && (size_t)(slash + 1 - path) + sizeof("hivewire-bench") <= sizeof(path)) {
        memcpy(slash + 1, "hivewire-bench", sizeof("hivewire-bench"));
        argv[0] = path;
        execv(path, argv);
        if (errno != ENOENT) {
            hv__cli_error("bench", "%s: %s", path, strerror(errno));
            return HV_EXIT_FAIL;
        }
        *slash = '\0';
    }
    hv__cli_error("bench",
                  "the benchmarks are a program of their own, hivewire-bench, and there is none "
                  "in %s: `make build` makes build/release/hivewire-bench, `make install` "
                  "installs it beside hivewire",
                  slash != NULL ? path : "this program's directory");
    return HV_EXIT_FAIL;
}

static const struct hv_cli_cmd *find_cmd(const char *name)
{
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

/* hivewire-bench's --help, from its table (hivewire does not run it for that). */
static int bench_help(void)
{
    hv__opts_help(&hv__bench_spec, stdout);
    printf("\nareas:\n");
    for (const struct hv_cli_area *a = hv_cli_bench_areas; a->name; a++)
        printf("  %-10s %s\n", a->name, a->help);
    printf("  %-10s %s\n", "all", "every area above, in this order");
    return HV_EXIT_OK;
}

/*
 * `hivewire help [CMD [SUB]]`: the list of commands, or CMD's (SUB's) own --help, with the
 * same exit status. `help --man` and `help --bash-completion` write the generated man page and
 * completion script.
 */
static int cmd_help(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return HV_EXIT_OK;
    }
    if (strcmp(argv[1], "--man") == 0)
        return hv__cli_man(stdout, hv_cli_cmds) == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
    if (strcmp(argv[1], "--bash-completion") == 0)
        return hv__cli_bash_completion(stdout, hv_cli_cmds) == 0 ? HV_EXIT_OK : HV_EXIT_FAIL;
    if (argc > 3) {
        hv__cli_error("help", "unexpected argument '%s' (hivewire help [CMD [SUB]])", argv[3]);
        return HV_EXIT_USAGE;
    }
    if (strcmp(argv[1], "bench") == 0 && argc == 2)
        return bench_help();
    const struct hv_cli_cmd *c = find_cmd(argv[1]);
    if (c == NULL) {
        hv__cli_error("help", "unknown command '%s'", argv[1]);
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    if (argc == 3 && c->group == NULL) {
        hv__cli_error("help", "%s has no subcommands ('%s')", c->name, argv[2]);
        return HV_EXIT_USAGE;
    }
    char help[] = "--help";
    char *args[] = { argv[1], argc == 3 ? argv[2] : help, argc == 3 ? help : NULL, NULL };
    return c->fn(argc == 3 ? 3 : 2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hivewire %s\n", hv_version());
        return HV_EXIT_OK;
    }
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 1, argv + 1);
    const struct hv_cli_cmd *c = find_cmd(cmd);
    if (c != NULL)
        return c->fn(argc - 1, argv + 1);
    hv__cli_error(cmd, "unknown command");
    usage(stderr);
    return HV_EXIT_USAGE;
}

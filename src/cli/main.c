/*
 * hivewire: the command-line front end. Commands and benchmarks are registered by each area
 * (see cmake/hivewire.cmake); this file only dispatches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/common.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli_tables.h"

static void usage(FILE *f)
{
    fprintf(f, "hivewire %s: microsecond coordination for swarms of trading agents\n\n",
            hv_version());
    fprintf(f, "usage: hivewire <command> [options]    (hivewire help <command> for more)\n\n");
    fprintf(f, "commands:\n");
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->help);
    fprintf(f, "  %-12s %s\n", "bench", "run benchmarks: hivewire bench <area>|all [--json]");
    fprintf(f, "  %-12s %s\n", "version", "print the version");
    fprintf(f, "  %-12s %s\n", "help [CMD]", "this text, or CMD's options");
}

static const hv_opt bench_rows[] = {
    { .name = "json",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(hv_bench_opts, json),
      .help = "one JSON object per area on stdout (the table on stderr)" },
    { .name = "quick",
      .kind = HV_OPT_FLAG,
      HV_OPT_AT(hv_bench_opts, quick),
      .help = "few samples: a smoke run, not a measurement" },
    { .name = "samples",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_bench_opts, samples),
      .umin = 1,
      .umax = 1000000,
      .help = "timed rounds per workload (default: the area's own)" },
    { .name = "filter",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(hv_bench_opts, filter),
      .help = "only workloads whose name contains S" },
    { .name = "seed",
      .kind = HV_OPT_U64,
      HV_OPT_AT(hv_bench_opts, seed),
      .umax = UINT64_MAX,
      .dflt = "1",
      .help = "seed for generated workloads" },
    { 0 },
};

static const hv_opt_section bench_sections[] = { { NULL, bench_rows, 0 }, { 0 } };

static const hv_cli_spec bench_spec = {
    .name = "bench",
    .synopsis = "<area>|all [options]",
    .summary = "run benchmarks: hivewire bench <area>|all [--json]",
    .sections = bench_sections,
    .operand = "AREA",
    .operands_min = 1,
    .operands_max = 1,
};

static void bench_areas(FILE *f)
{
    fprintf(f, "\nareas:\n");
    for (const struct hv_cli_bench *b = hv_cli_benches; b->name; b++)
        fprintf(f, "  %-10s %s\n", b->name, b->help);
}

static int cmd_bench(int argc, char **argv)
{
    hv_bench_opts opts = { .seed = 1 };
    hv_opts_result res;
    void *targets[] = { &opts };
    int rc = hv__opts_parse(&bench_spec, targets, argc, argv, &res);
    if (rc == HV_EXIT_OK)
        bench_areas(stdout);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    const char *area = res.operands[0];
    int all = strcmp(area, "all") == 0, found = 0;
    rc = HV_EXIT_OK;
    for (const struct hv_cli_bench *b = hv_cli_benches; b->name; b++) {
        if (!all && strcmp(b->name, area) != 0)
            continue;
        found = 1;
        int r = b->fn(&opts);
        if (r != 0)
            rc = r;
        fflush(stdout);
    }
    if (!found) {
        hv__cli_error("bench", "no benchmark area '%s'", area);
        bench_areas(stderr);
        return HV_EXIT_USAGE;
    }
    return rc;
}

/* `hivewire help CMD`: the command's own --help. */
static int cmd_help(const char *name)
{
    char help[] = "--help";
    char *argv[] = { (char *)name, help, NULL };
    if (strcmp(name, "bench") == 0)
        return cmd_bench(2, argv);
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->fn(2, argv);
    hv__cli_error("help", "unknown command '%s'", name);
    usage(stderr);
    return HV_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 && argc > 2)
        return cmd_help(argv[2]);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return HV_EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("hivewire %s\n", hv_version());
        return HV_EXIT_OK;
    }
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc - 1, argv + 1);
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        if (strcmp(c->name, cmd) == 0)
            return c->fn(argc - 1, argv + 1);
    hv__cli_error(cmd, "unknown command");
    usage(stderr);
    return HV_EXIT_USAGE;
}

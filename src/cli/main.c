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
#include "cli_tables.h"

static void usage(FILE *f)
{
    fprintf(f, "hivewire %s: microsecond coordination for swarms of trading agents\n\n",
            hv_version());
    fprintf(f, "usage: hivewire <command> [options]    (hivewire <command> --help for more)\n\n");
    fprintf(f, "commands:\n");
    for (const struct hv_cli_cmd *c = hv_cli_cmds; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->help);
    fprintf(f, "  %-12s %s\n", "bench", "run benchmarks: hivewire bench <area>|all [--json]");
    fprintf(f, "  %-12s %s\n", "version", "print the version");
    fprintf(f, "  %-12s %s\n", "help", "this text");
}

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: hivewire bench <area>|all [--json] [--quick] [--samples N] [--filter S] "
               "[--seed N]\n\nareas:\n");
    for (const struct hv_cli_bench *b = hv_cli_benches; b->name; b++)
        fprintf(f, "  %-10s %s\n", b->name, b->help);
    fprintf(f, "\n  --json       one JSON object per area on stdout (table on stderr)\n"
               "  --quick      few samples: a smoke run, not a measurement\n"
               "  --samples N  timed rounds per workload\n"
               "  --filter S   only workloads whose name contains S\n"
               "  --seed N     seed for generated workloads (default 1)\n");
}

static int cmd_bench(int argc, char **argv)
{
    hv_bench_opts opts = { .seed = 1 };
    const char *area = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            opts.json = 1;
        } else if (strcmp(a, "--quick") == 0) {
            opts.quick = 1;
        } else if (strcmp(a, "--samples") == 0 && i + 1 < argc) {
            uint64_t v;
            if (hv__cli_parse_u64(argv[++i], &v) != 0 || v == 0 || v > 1000000) {
                hv__cli_error("bench", "--samples takes a number from 1 to 1000000");
                return HV_EXIT_USAGE;
            }
            opts.samples = (unsigned)v;
        } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
            opts.filter = argv[++i];
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            if (hv__cli_parse_u64(argv[++i], &opts.seed) != 0) {
                hv__cli_error("bench", "--seed takes a non-negative integer");
                return HV_EXIT_USAGE;
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bench_usage(stdout);
            return HV_EXIT_OK;
        } else if (a[0] != '-' && area == NULL) {
            area = a;
        } else {
            hv__cli_error("bench", "unknown option '%s'", a);
            bench_usage(stderr);
            return HV_EXIT_USAGE;
        }
    }
    if (area == NULL) {
        bench_usage(stderr);
        return HV_EXIT_USAGE;
    }
    int all = strcmp(area, "all") == 0, found = 0, rc = HV_EXIT_OK;
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
        bench_usage(stderr);
        return HV_EXIT_USAGE;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    const char *cmd = argv[1];
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

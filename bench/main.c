/*
 * hivewire-bench: every benchmark area, in a program of its own so that the installed
 * `hivewire` links neither the peers it is measured against (ZeroMQ, ck, msgpack-c,
 * protobuf-c, NATS) nor the allocation-counting malloc shim (alloc_count.c). Areas register
 * with hv_bench_area() in their area.cmake; `hivewire bench ...` runs this program.
 */
#include <stdio.h>
#include <string.h>

#include <hivewire/common.h>

#include "bench/bench.h"
#include "bench_tables.h"
#include "cli/cli.h"
#include "cli/opts.h"

extern const hv_cli_spec hv__bench_spec; /* src/cli/bench_spec.c */

static void bench_areas(FILE *f)
{
    fprintf(f, "\nareas:\n");
    for (const struct hv_cli_bench *b = hv_cli_benches; b->name; b++)
        fprintf(f, "  %-10s %s\n", b->name, b->help);
    fprintf(f, "  %-10s %s\n", "all", "every area above, in this order");
}

int main(int argc, char **argv)
{
    hv_bench_opts opts = { .seed = 1 };
    hv_opts_result res;
    void *targets[] = { &opts };
    int rc = hv__opts_parse(&hv__bench_spec, targets, argc, argv, &res);
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
        hv__opts_usage_error(&hv__bench_spec, "no benchmark area '%s'", area);
        bench_areas(stderr);
        return HV_EXIT_USAGE;
    }
    return rc;
}

/*
 * The options of hivewire-bench, in the table both programs read: hivewire-bench parses them,
 * hivewire puts them in its man page and completion (`hivewire bench` runs hivewire-bench).
 */
#include <stdint.h>

#include "bench/bench.h"
#include "cli/opts.h"

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

const hv_cli_spec hv__bench_spec = {
    .name = "",
    .program = "hivewire-bench",
    .synopsis = "<area>|all [options]",
    .summary = "run benchmarks: hivewire-bench <area>|all [--json]",
    .about = "Runs the benchmarks of one area, or of all of them, each workload interleaved\n"
             "with its peers in the same process; a table on stdout, or with --json one JSON\n"
             "object per area on stdout and the table on stderr. A program of its own, so that\n"
             "hivewire links neither the peers nor the allocation-counting malloc shim;\n"
             "`hivewire bench ...` runs the hivewire-bench installed beside it.\n",
    .sections = bench_sections,
    .operand = "AREA",
    .operands_min = 1,
    .operands_max = 1,
    .epilog = "Exit status: 0 every area ran, 1 an area failed, 2 bad usage.\n",
};

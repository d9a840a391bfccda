/*
 * hivewire CLI: the command table and small helpers shared by the commands.
 * Commands register themselves with hv_cli_command() in their area's area.cmake.
 */
#ifndef HV_CLI_CLI_H
#define HV_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hv_bench_opts;
struct hv_cli_spec;
struct hv_cli_group;

/* One command of `hivewire` (the table cmake/hivewire.cmake generates). Its options are one
 * table (spec) or, for a command with subcommands, a group of them (src/cli/opts.h). */
struct hv_cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
    const struct hv_cli_spec *const *spec;
    const struct hv_cli_group *const *group;
};

struct hv_cli_bench {
    const char *name;
    int (*fn)(const struct hv_bench_opts *opts);
    const char *help;
};

/* Exit codes of every command: 0 success, 1 bad input or failed work, 2 bad usage. */
enum { HV_EXIT_OK = 0, HV_EXIT_FAIL = 1, HV_EXIT_USAGE = 2 };

/* Reads a whole stream into a malloc'd buffer (caller frees). Fails with HV_ETOOBIG above
 * max_bytes, so hostile input cannot exhaust memory, and with HV_EISDIR when f is a directory
 * (`hivewire decode < dir`). Returns 0 or a negative HV_E* code. */
int hv__cli_read_all(FILE *f, size_t max_bytes, uint8_t **out, size_t *out_len);

/* Reads a whole file by path; same contract as hv__cli_read_all(). */
int hv__cli_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *out_len);

/* Parses a whole decimal/float argument; 0 or HV_EINVAL. */
int hv__cli_parse_u64(const char *s, uint64_t *out);
int hv__cli_parse_double(const char *s, double *out);

/* The path of the hivewire program into buf[cap]: this process's executable when it is
 * hivewire, else the hivewire beside it (hivewire-bench starts hivewire agents and echo
 * servers). Returns 0, HV_ENOBUFS, or the error of reading /proc/self/exe. */
int hv__cli_hivewire_path(char *buf, size_t cap);

/* Prints "hivewire <cmd>: <message>" to stderr (printf-style). */
void hv__cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

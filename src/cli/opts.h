/*
 * The table-driven option parser every hivewire command uses.
 *
 * A command declares its options once, as rows of `hv_opt` grouped in sections; from those
 * rows the parser converts and range-checks every value, writes it into the command's option
 * struct, prints `--help`, and names the one option that is wrong in each error:
 *
 *   hivewire backtest: --fee-bps: 1e308 is out of range [0, 10000]
 *   hivewire backtest: option --data needs a value
 *   hivewire backtest: unknown option '--fee' (hivewire backtest --help lists the options)
 *
 * Rows are matched by name, never by position: reordering or inserting rows cannot swap two
 * options. Each row stores into a field named by HV_OPT_AT(type, member) (offset and size),
 * so a row cannot write a value of the wrong width. A section's rows refer to one target
 * struct; a command passes one target per section index, so rows can be shared between
 * commands whose option structs differ (the exchange and limits rows of `backtest` and `run`
 * target an hv_exchange_opts and an hv_limits_opts wherever each command keeps them).
 *
 * Everything a man page or a shell completion needs is in the tables: names, short names,
 * value kinds, metavariables, ranges, enum choices, defaults, which values are paths, and the
 * help text. hv__opts_help() is the one renderer today.
 *
 * Not thread-safe only in that it prints to stdout/stderr; it keeps no global state and never
 * allocates, so a test may call a command's entry point any number of times.
 */
#ifndef HV_CLI_OPTS_H
#define HV_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <hivewire/common.h>

#include "cli/cli.h"

typedef enum hv_opt_kind {
    HV_OPT_FLAG,   /* no value; stores 1 (0 with HV_OPT_STORE_ZERO) into an int field */
    HV_OPT_U64,    /* decimal integer in [umin, umax], stored times `scale` (0 means 1) into a
                      uint32_t or uint64_t field */
    HV_OPT_I64,    /* decimal integer (sign allowed) in [imin, imax]; int32_t or int64_t field */
    HV_OPT_DOUBLE, /* finite number in [dmin, dmax] (ends open with HV_OPT_MIN_OPEN/MAX_OPEN);
                      double field */
    HV_OPT_STRING, /* any text, stored as a const char * into argv */
    HV_OPT_ENUM,   /* one of `choices` by name; stores the choice's value into an int field */
} hv_opt_kind;

enum {
    HV_OPT_REQUIRED = 1u << 0,   /* the command cannot run without it */
    HV_OPT_MIN_OPEN = 1u << 1,   /* DOUBLE: value must be > dmin, not >= */
    HV_OPT_MAX_OPEN = 1u << 2,   /* DOUBLE: value must be < dmax, not <= */
    HV_OPT_PATH = 1u << 3,       /* the value names a file ('-' may mean standard input) */
    HV_OPT_DIR = 1u << 4,        /* the value names a directory */
    HV_OPT_STORE_ZERO = 1u << 5, /* FLAG: stores 0 (for --no-xxx switches) */
};

typedef struct hv_opt_choice {
    const char *name; /* NULL ends the list */
    int value;
    const char *help; /* optional, for --help and generated docs */
} hv_opt_choice;

/* A converted value, as handed to an `apply` hook. */
typedef union hv_opt_value {
    uint64_t u;    /* U64, already multiplied by scale */
    int64_t i;     /* I64 */
    double d;      /* DOUBLE */
    const char *s; /* STRING */
    int e;         /* FLAG (1 or 0), ENUM (the choice's value) */
} hv_opt_value;

typedef struct hv_opt hv_opt;

/* A hook for options whose value does not go into one field (it sets several, or needs
 * parsing of its own). Called after the value passed the row's kind and range checks, instead
 * of the store. `target` is the section's target struct. Returns 0, or -1 with a reason in
 * why[cap] (printed as "--name: <why>", exit 2). */
typedef int (*hv_opt_apply_fn)(void *target, const hv_opt *opt, const hv_opt_value *v, char *why,
                               size_t cap);

struct hv_opt {
    const char *name; /* long name without the dashes ("fee-bps"); NULL ends a table */
    char short_name;  /* 'q' for -q, or 0 */
    hv_opt_kind kind;
    unsigned flags; /* HV_OPT_* above */
    size_t offset;  /* the field in the target struct: HV_OPT_AT(type, member) */
    size_t size;
    uint64_t umin, umax, scale;   /* U64 */
    int64_t imin, imax;           /* I64 */
    double dmin, dmax;            /* DOUBLE */
    const hv_opt_choice *choices; /* ENUM */
    hv_opt_apply_fn apply;        /* optional; then offset/size are unused */
    const char *needs;   /* long name of an option that must be given with this one, or NULL */
    const char *field;   /* the library config field this sets ("fee_bps"), so a library
                            hv_field_error can be reported as this option; or NULL */
    const char *metavar; /* "N", "X", "FILE"; NULL: from the kind */
    const char *dflt;    /* the default as --help shows it, or NULL */
    const char *help;
};

/* The field a row stores into: HV_OPT_AT(bt_opts, fast). */
#define HV_OPT_AT(type, member) \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

#define HV_OPTS_SECTIONS_MAX 16
#define HV_OPTS_ROWS_MAX     64 /* per section */
#define HV_OPTS_OPERANDS_MAX 256

typedef struct hv_opt_section {
    const char *title;  /* heading in --help ("exchange"), or NULL */
    const hv_opt *opts; /* rows, ended by a row with name NULL; NULL ends the sections */
    unsigned target;    /* index into the targets array given to hv__opts_parse() */
} hv_opt_section;

/* One command (or subcommand) as its user sees it. */
typedef struct hv_cli_spec {
    const char *name;     /* "backtest", "market stats": what follows "hivewire " */
    const char *synopsis; /* after the name in the usage line: "[options] FILE" */
    const char *summary;  /* one line, for command lists */
    const char *about;    /* paragraphs shown by --help before the options, or NULL */
    const hv_opt_section *sections;
    const char *operand; /* name of the positional operands ("FILE"), NULL for none */
    unsigned operands_min, operands_max;
    const char *epilog;  /* shown after the options (examples, exit status), or NULL */
    const char *program; /* the program, NULL: "hivewire" ("hivewire-bench" has name "") */
} hv_cli_spec;

typedef struct hv_opts_result {
    const char *operands[HV_OPTS_OPERANDS_MAX];
    unsigned noperands;
    uint64_t given[HV_OPTS_SECTIONS_MAX]; /* bit r of given[s]: row r of section s was given */
} hv_opts_result;

/* hv__opts_parse() returns this when the command should go on; anything else is the exit
 * code the command must return at once. */
#define HV_OPTS_PROCEED (-1)

/*
 * Parses argv[1..argc) (argv[0] is the command's own name) against spec. targets[k] is the
 * struct the rows of sections with target k write into; values the user does not give are
 * left as the caller initialised them (the defaults). Accepts "--name value", "--name=value",
 * "-s value" for rows with a short name, "--" to end the options, and -h/--help anywhere.
 * res may be NULL when the command takes no operands and asks nothing about what was given.
 *
 * Returns HV_OPTS_PROCEED, or: HV_EXIT_OK after printing --help on stdout; HV_EXIT_USAGE after
 * printing one error naming the option (unknown option, missing value, a value of the wrong
 * kind or out of range, a missing required option, an option without the one it needs, the
 * wrong number of operands) on stderr.
 */
int hv__opts_parse(const hv_cli_spec *spec, void *const *targets, int argc, char **argv,
                   hv_opts_result *res);

/* 1 if the option with this long name was given, else 0. */
int hv__opts_given(const hv_cli_spec *spec, const hv_opts_result *res, const char *name);

/* Writes the command's --help text (usage, about, options by section, epilog), at most 80
 * columns wide. */
void hv__opts_help(const hv_cli_spec *spec, FILE *f);

/* One option as --help shows it: label "-s, --name METAVAR" (or "--name A|B" for choices) and
 * text: its help, "(required)", its range and default. Both truncated to their capacity. */
void hv__opts_describe(const hv_opt *o, char *label, size_t label_cap, char *text, size_t text_cap);

/* Prints "hivewire <spec name>: <message>" on stderr and returns HV_EXIT_USAGE. */
int hv__opts_usage_error(const hv_cli_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports a library config error as the option that sets the field ("--fee-bps: must be a
 * finite number in [0, 10000]"), or as the field when no row sets it. Returns HV_EXIT_USAGE. */
int hv__opts_field_error(const hv_cli_spec *spec, const hv_field_error *e);

/* The row with this long name, or NULL. */
const hv_opt *hv__opts_find(const hv_cli_spec *spec, const char *name);

/*
 * Self-check of a spec (hv__opts_parse() runs it first and aborts on a broken table, so every
 * run of a command checks its table): every row's field width fits its kind, ranges are ordered
 * and their scaled maximum fits the field, enum rows have choices, `needs` names a row, no
 * two rows share a long or short name, no section has more than HV_OPTS_ROWS_MAX rows.
 * Returns 0, or -1 with the first problem in why[cap].
 */
int hv__opts_check_spec(const hv_cli_spec *spec, char *why, size_t cap);

/* A command with subcommands ("market stats", "sim consensus"). */
typedef struct hv_cli_sub {
    const hv_cli_spec *spec;          /* spec->name is "<group> <sub>" */
    int (*fn)(int argc, char **argv); /* argv[0] is the subcommand's name */
} hv_cli_sub;

typedef struct hv_cli_group {
    const char *name;       /* "market" */
    const char *about;      /* shown by `hivewire <group> --help` */
    const hv_cli_sub *subs; /* ended by { NULL, NULL } */
} hv_cli_group;

/* Runs `hivewire <group> <sub> ...` (argv[0] is the group's name): --help or no subcommand
 * lists the subcommands (exit 0 or 2); an unknown one is exit 2. */
int hv__opts_dispatch(const hv_cli_group *g, int argc, char **argv);

#endif /* HV_CLI_OPTS_H */

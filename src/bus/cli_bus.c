/*
 * `hivewire subject`: checks subjects and patterns with the bus's rules and shows which
 * subjects a pattern matches. Exit 0 when everything is valid (and, with --pattern, every
 * subject was checked), 1 when some input is invalid, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <hivewire/bus.h>

#include "cli/cli.h"
#include "cli/opts.h"

#define STR_(x) #x
#define STR(x)  STR_(x)

typedef struct subject_args {
    const char *pattern;
} subject_args;

static const hv_opt subject_rows[] = {
    { .name = "pattern",
      .kind = HV_OPT_STRING,
      HV_OPT_AT(subject_args, pattern),
      .metavar = "PATTERN",
      .help = "also validate this pattern ('*' = one token, '>' = one or more trailing tokens) "
              "and print whether each subject matches it" },
    { 0 },
};

static const hv_opt_section subject_sections[] = { { NULL, subject_rows, 0 }, { 0 } };

static const hv_cli_spec spec = {
    .name = "subject",
    .synopsis = "[--pattern PATTERN] SUBJECT...",
    .summary = "check bus subjects/patterns and show which subjects a pattern matches",
    .about = "Validates each SUBJECT with the bus's rules (NATS: dot-separated tokens, at "
             "most\n" STR(HV_SUBJECT_MAX) " bytes and " STR(
                 HV_SUBJECT_TOKENS_MAX) " tokens, no spaces or control "
                                        "bytes, no wildcards). A subject\n"
                                        "that starts with '-' goes after "
                                        "'--'.\n",
    .sections = subject_sections,
    .operand = "SUBJECT",
    .operands_min = 1,
    .operands_max = HV_OPTS_OPERANDS_MAX,
    .epilog = "Exit status: 0 all valid, 1 some input invalid, 2 bad usage.\n",
};

/* The command's table, for the generated man page and completion (cmake/hivewire.cmake). */
const hv_cli_spec *const hv__cmd_spec_subject = &spec;

int hv_cmd_subject(int argc, char **argv);

static int check(const char *s, int is_pattern)
{
    const char *reason = NULL;
    int n = hv_subject_check(s, strlen(s), is_pattern, &reason);
    if (n < 0) {
        hv__cli_error("subject", "invalid %s '%s': %s", is_pattern ? "pattern" : "subject", s,
                      reason);
        return n;
    }
    return n;
}

int hv_cmd_subject(int argc, char **argv)
{
    subject_args a = { NULL };
    hv_opts_result res;
    void *targets[] = { &a };
    int rc = hv__opts_parse(&spec, targets, argc, argv, &res);
    if (rc != HV_OPTS_PROCEED)
        return rc;
    if (a.pattern != NULL && check(a.pattern, 1) < 0)
        return HV_EXIT_FAIL;
    int bad = 0;
    for (unsigned i = 0; i < res.noperands; i++) {
        const char *subj = res.operands[i];
        int n = check(subj, 0);
        if (n < 0) {
            bad = 1;
            continue;
        }
        if (a.pattern == NULL)
            printf("%s: valid subject, %d token%s\n", subj, n, n == 1 ? "" : "s");
        else
            printf("%s: %s '%s'\n", subj,
                   hv_subject_matches(a.pattern, subj) ? "matches" : "does not match", a.pattern);
    }
    return bad ? HV_EXIT_FAIL : HV_EXIT_OK;
}

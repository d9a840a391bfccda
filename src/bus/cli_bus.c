/*
 * `hivewire subject`: checks subjects and patterns with the bus's rules and shows which
 * subjects a pattern matches. Exit 0 when everything is valid (and, with --pattern, every
 * subject was checked), 1 when some input is invalid, 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include <hivewire/bus.h>

#include "cli/cli.h"

int hv_cmd_subject(int argc, char **argv);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivewire subject [--pattern PATTERN] SUBJECT...\n"
            "  Validates each SUBJECT (NATS rules: dot-separated tokens, at most %d bytes and\n"
            "  %d tokens, no spaces or control bytes, no wildcards). With --pattern, also\n"
            "  validates PATTERN ('*' = one token, '>' = one or more trailing tokens) and\n"
            "  prints whether each subject matches it.\n"
            "  Exit status: 0 all valid, 1 some input invalid, 2 bad usage.\n",
            HV_SUBJECT_MAX, HV_SUBJECT_TOKENS_MAX);
}

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
    const char *pattern = NULL;
    int first = 1;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return HV_EXIT_OK;
    }
    if (argc > 2 && strcmp(argv[1], "--pattern") == 0) {
        pattern = argv[2];
        first = 3;
    }
    if (first >= argc || argv[first][0] == '-') {
        usage(stderr);
        return HV_EXIT_USAGE;
    }
    int bad = 0;
    if (pattern != NULL && check(pattern, 1) < 0)
        return HV_EXIT_FAIL;
    for (int i = first; i < argc; i++) {
        int n = check(argv[i], 0);
        if (n < 0) {
            bad = 1;
            continue;
        }
        if (pattern == NULL)
            printf("%s: valid subject, %d token%s\n", argv[i], n, n == 1 ? "" : "s");
        else
            printf("%s: %s '%s'\n", argv[i],
                   hv_subject_matches(pattern, argv[i]) ? "matches" : "does not match", pattern);
    }
    return bad ? HV_EXIT_FAIL : HV_EXIT_OK;
}

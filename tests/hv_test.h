/* Shared includes for cmocka tests. cmocka needs these headers before its own. */
#ifndef HV_TESTS_HV_TEST_H
#define HV_TESTS_HV_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Runs fn(arg) in a forked child: returns 1 if the child died of SIGABRT (a failed HV_ASSERT),
 * 0 if fn returned, -1 if the child could not be run. The child writes nothing to stderr and
 * dumps no core. fn must not use cmocka's assertions (they cannot report from the child).
 */
static inline int hv_test_aborts(void (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        (void)setrlimit(RLIMIT_CORE, &no_core);
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(2);
        fn(arg);
        _exit(0);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED(status))
        return WTERMSIG(status) == SIGABRT ? 1 : -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * The real market data file data/<name> (fetched by scripts/fetch-data / `make deps`), for the
 * tests that use it: writes $HV_SOURCE_DIR/data/<name> (or ./data/<name>) into buf and returns
 * only if the file is readable. Otherwise it ends the current test: by default it skips it
 * (developers without the data), but with HV_REQUIRE_DATA=1 in the environment (the Makefile's
 * test targets) it FAILS it, so a missing data file cannot pass as a silent skip. Call it only
 * from a test body (skip() and fail_msg() jump out of the test).
 */
static inline void hv_test_data_file(const char *name, char *buf, size_t cap)
{
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(buf, cap, "%s/data/%s", root != NULL ? root : ".", name);
    if (access(buf, R_OK) == 0)
        return;
    const char *req = getenv("HV_REQUIRE_DATA");
    if (req != NULL && strcmp(req, "1") == 0)
        fail_msg("%s is missing and HV_REQUIRE_DATA=1: run scripts/fetch-data (make deps)", buf);
    fprintf(stderr, "skipping: %s is missing (run scripts/fetch-data or make deps)\n", buf);
    skip();
}

#endif

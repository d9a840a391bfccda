/* Locates the real market data fetched by scripts/fetch-data, for tests that use it. */
#ifndef HV_TESTS_MARKET_TESTDATA_H
#define HV_TESTS_MARKET_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes $HV_SOURCE_DIR/data/<name> (or data/<name>) into buf. Returns 1 if the file is
 * readable, else 0 after printing why the caller is about to skip. */
static inline int hv_test_data_path(const char *name, char *buf, size_t cap)
{
    const char *root = getenv("HV_SOURCE_DIR");
    snprintf(buf, cap, "%s/data/%s", root != NULL ? root : ".", name);
    if (access(buf, R_OK) == 0)
        return 1;
    fprintf(stderr, "skipping: %s is missing (run scripts/fetch-data or make deps)\n", buf);
    return 0;
}

#endif

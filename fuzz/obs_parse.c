/*
 * Fuzz harness for what the observer parses: the HOST:PORT of --metrics and --serve (from the
 * command line) and the /proc texts (schedstat, statm, pressure). Input: one byte choosing the
 * parser, then its text. Checks that nothing crashes, that a refusal says why, and that what is
 * accepted is in range.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obs/obs.h"
#include "obs/sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 4096)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = 0;
    switch (data[0] % 4) {
    case 0: {
        hv_obs_addr a;
        char why[256] = "";
        int rc = hv__obs_parse_addr(text, &a, why, sizeof(why));
        must(rc == 0 || (rc == HV_EINVAL && why[0] != 0 && a.port == -1));
        must(rc != 0 || (a.port >= 0 && a.port <= 65535 && a.host[0] != 0));
        break;
    }
    case 1: {
        uint64_t run = 0, wait = 0;
        int rc = hv__obs_parse_schedstat(text, &run, &wait);
        must(rc == 0 || rc == HV_EPARSE);
        break;
    }
    case 2: {
        uint64_t rss = 0;
        int rc = hv__obs_parse_statm(text, 4096, &rss);
        must(rc == 0 || rc == HV_EPARSE);
        must(rc != 0 || rss % 4096 == 0);
        break;
    }
    default: {
        double v = -1;
        int rc = hv__obs_parse_psi(text, &v);
        must(rc == 0 || rc == HV_EPARSE);
        must(rc != 0 || (v >= 0 && v <= 1 && !isnan(v)));
        break;
    }
    }
    free(text);
    return 0;
}

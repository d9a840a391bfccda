/*
 * hv_test_gen: generates the large or odd inputs of the CLI case tables on the fly (they are
 * too big to keep in git). Deterministic: the same arguments give the same bytes.
 *
 *   hv_test_gen bars N      N daily bars (every calendar day from 2000-01-03, as
 *                           ../shared/repro/F11_gen_bars.py wrote them), index-like prices
 *                           that wander between 700 and 2900, so a moving-average strategy
 *                           trades all along the series
 *   hv_test_gen column N    a one-column CSV: a header and N values
 *   hv_test_gen sparse N    "date,close" and then zeros up to N bytes (a sparse file: no
 *                           disk is used for the zeros)
 *
 * Output goes to stdout, except `sparse`, which needs a file: hv_test_gen sparse N PATH.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hivewire/market.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: uniform in [0, 1). */
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545f4914f6cdd1dull) >> 11) / 9007199254740992.0;
}

/* A log price reverting to ln 1500 with a 250-bar half-life, 1.2% daily moves, within
 * [700, 2900]. */
static int bars(uint64_t n)
{
    int32_t day;
    if (hv_date_to_day(2000, 1, 3, &day) != 0 || n > (uint64_t)(HV_DAY_MAX - day) + 1)
        return 2;
    double center = log(1500), x = center, k = 1 - pow(0.5, 1.0 / 250);
    printf("date,open,high,low,close,adjclose,volume\n");
    for (uint64_t i = 0; i < n; i++, day++) {
        double open = exp(x);
        x += -k * (x - center) + 0.012 * (uniform() + uniform() + uniform() - 1.5) * 2;
        x = fmin(fmax(x, log(700)), log(2900));
        double close = exp(x), hi = fmax(open, close) * 1.002, lo = fmin(open, close) * 0.998;
        char d[11];
        hv_day_format(day, d);
        printf("%s,%.2f,%.2f,%.2f,%.2f,%.2f,%d\n", d, open, hi, lo, close, close,
               900000000 + (int)(uniform() * 2e8));
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int column(uint64_t n)
{
    printf("r\n");
    for (uint64_t i = 0; i < n; i++)
        fputs(i % 2 ? "1\n" : "2\n", stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int sparse(uint64_t n, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputs("date,close\n", f) < 0 || fflush(f) != 0 ||
        ftruncate(fileno(f), (off_t)n) != 0) {
        fprintf(stderr, "hv_test_gen: %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return 1;
    }
    return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    char *end = NULL;
    uint64_t n = argc >= 3 ? strtoull(argv[2], &end, 10) : 0;
    if (argc < 3 || end == argv[2] || *end != '\0') {
        fprintf(stderr, "usage: hv_test_gen bars|column N | sparse N PATH\n");
        return 2;
    }
    if (strcmp(argv[1], "bars") == 0)
        return bars(n);
    if (strcmp(argv[1], "column") == 0)
        return column(n);
    if (strcmp(argv[1], "sparse") == 0 && argc == 4)
        return sparse(n, argv[3]);
    fprintf(stderr, "hv_test_gen: unknown kind '%s'\n", argv[1]);
    return 2;
}

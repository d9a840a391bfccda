/*
 * Test helper: a strict parser of the Prometheus text exposition format 0.0.4, stricter than
 * the format where our writer promises more (every family has HELP and TYPE before its
 * samples, a family's samples are contiguous, counters end in _total, no comments or blank
 * lines besides HELP and TYPE). Then checks on a page (histograms cumulative with +Inf equal
 * to _count, counters non-negative) and between two pages (counters only grow, no series
 * disappears).
 */
#ifndef HV_TESTS_OBS_PROMPARSE_H
#define HV_TESTS_OBS_PROMPARSE_H

#include <stddef.h>

typedef struct prom_sample {
    char name[128];
    char labels[512]; /* as written between the braces, "" when none */
    char le[48];      /* the le label's value, "" when none */
    char rest[512];   /* the labels without le */
    double value;
    size_t family;
} prom_sample;

typedef struct prom_family {
    char name[128];
    char type[16];
    int help;
    size_t first, n; /* its samples */
} prom_family;

typedef struct prom_page {
    prom_family *fam;
    size_t nfam;
    prom_sample *s;
    size_t ns;
} prom_page;

/* Parses text[0..len). Returns 0, or -1 with "line N: why" in err[cap]. */
int prom_parse(const char *text, size_t len, prom_page *out, char *err, size_t cap);
void prom_free(prom_page *p);

/* The family of that name, or NULL. */
const prom_family *prom_find(const prom_page *p, const char *name);
/* The value of the first sample of that name and labels ("" for none); NAN if absent. */
double prom_value(const prom_page *p, const char *name, const char *labels);

/* Histograms: per series, le increasing, buckets non-decreasing, a +Inf bucket equal to
 * _count, one _sum and one _count. Counters: >= 0. Returns 0 or -1 with the reason. */
int prom_check(const prom_page *p, char *err, size_t cap);

/* Every counter sample (and histogram bucket, sum, count) of a is in b with a value >= a's.
 * Returns 0 or -1 with the reason. */
int prom_check_grow(const prom_page *a, const prom_page *b, char *err, size_t cap);

#endif

/* /proc readers and their parsers (sys.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "obs/sys.h"

/* Reads one unsigned decimal number at *p, skipping leading blanks. 0 or HV_EPARSE. */
static int number(const char **p, uint64_t *out)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return HV_EPARSE;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return HV_EPARSE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    *p = s;
    return 0;
}

int hv__obs_parse_schedstat(const char *text, uint64_t *run_ns, uint64_t *wait_ns)
{
    const char *p = text;
    uint64_t slices;
    if (number(&p, run_ns) != 0 || number(&p, wait_ns) != 0 || number(&p, &slices) != 0)
        return HV_EPARSE;
    return 0;
}

int hv__obs_parse_statm(const char *text, uint64_t page_bytes, uint64_t *rss_bytes)
{
    const char *p = text;
    uint64_t size, resident;
    if (number(&p, &size) != 0 || number(&p, &resident) != 0)
        return HV_EPARSE;
    if (page_bytes != 0 && resident > UINT64_MAX / page_bytes)
        return HV_EPARSE;
    *rss_bytes = resident * page_bytes;
    return 0;
}

int hv__obs_parse_psi(const char *text, double *some_avg10)
{
    const char *line = text;
    while (line != NULL && strncmp(line, "some ", 5) != 0) {
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    if (line == NULL)
        return HV_EPARSE;
    const char *eol = strchr(line, '\n');
    size_t len = eol != NULL ? (size_t)(eol - line) : strlen(line);
    const char *p = memmem(line, len, "avg10=", 6);
    if (p == NULL)
        return HV_EPARSE;
    char *end;
    errno = 0;
    double v = strtod(p + 6, &end);
    if (end == p + 6 || errno != 0 || !isfinite(v) || v < 0 || v > 100)
        return HV_EPARSE;
    *some_avg10 = v / 100;
    return 0;
}

int hv__obs_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hv_err_from_errno(errno);
    ssize_t n = read(fd, buf, cap - 1);
    int err = n < 0 ? hv_err_from_errno(errno) : 0;
    close(fd);
    if (err != 0)
        return err;
    buf[n] = 0;
    return 0;
}

void hv__obs_thread_self(hv_obs_thread *t)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        t->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
                    ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
        t->switches_voluntary = (uint64_t)ru.ru_nvcsw;
        t->switches_involuntary = (uint64_t)ru.ru_nivcsw;
    }
    char buf[128];
    uint64_t run;
    t->have_wait = hv__obs_read_file("/proc/thread-self/schedstat", buf, sizeof(buf)) == 0 &&
                   hv__obs_parse_schedstat(buf, &run, &t->runq_wait_ns) == 0;
}

uint64_t hv__obs_rss_bytes(void)
{
    char buf[256];
    uint64_t rss = 0;
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || hv__obs_read_file("/proc/self/statm", buf, sizeof(buf)) != 0 ||
        hv__obs_parse_statm(buf, (uint64_t)page, &rss) != 0)
        return 0;
    return rss;
}

double hv__obs_cpu_pressure(void)
{
    char buf[512];
    double v;
    if (hv__obs_read_file("/proc/pressure/cpu", buf, sizeof(buf)) != 0 ||
        hv__obs_parse_psi(buf, &v) != 0)
        return NAN;
    return v;
}

/* CPU affinity, scheduling policy and per-thread resource usage. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>

#include "platform/platform.h"

int hv__cpu_pin_self(int cpu)
{
    if (cpu < 0 || cpu >= CPU_SETSIZE)
        return HV_EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    return e == 0 ? 0 : hv_err_from_errno(e);
}

int hv__cpu_allowed(int *cpus, int max)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return hv_err_from_errno(errno);
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &set))
            continue;
        if (n < max)
            cpus[n] = c;
        n++;
    }
    return n;
}

int hv__cpu_mask_save(hv__cpu_mask *m)
{
    int e = pthread_getaffinity_np(pthread_self(), sizeof(m->set), &m->set);
    return e == 0 ? 0 : hv_err_from_errno(e);
}

int hv__cpu_mask_restore(const hv__cpu_mask *m)
{
    int e = pthread_setaffinity_np(pthread_self(), sizeof(m->set), &m->set);
    return e == 0 ? 0 : hv_err_from_errno(e);
}

int hv__sched_batch_self(void)
{
    struct sched_param sp = { .sched_priority = 0 };
    int e = pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    return e == 0 ? 0 : hv_err_from_errno(e);
}

int hv__thread_usage_self(hv__thread_usage *u)
{
    struct rusage ru;
    memset(u, 0, sizeof(*u));
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return hv_err_from_errno(errno);
    u->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
                ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
    u->switches_voluntary = (uint64_t)ru.ru_nvcsw;
    u->switches_involuntary = (uint64_t)ru.ru_nivcsw;
    return 0;
}

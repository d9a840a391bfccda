/*
 * Internal: the operating-system layer. Every call into Linux that is not plain C11 or POSIX
 * threads lives under src/platform/: the monotonic clock (clock.c), futex and eventfd waits
 * (wait.c), CPU affinity, scheduling policy and per-thread resource usage (cpu.c). Sockets will
 * live here too (the QUIC transport's UDP file). State machines never call these: they take
 * now_ns and bytes; the bus's blocking calls, the thread pools, the swarm's runners, the CLI and
 * the benchmarks do.
 *
 * Errors are HV_E* codes (errno is translated by hv_err_from_errno). Every function may be
 * called from any thread; the *_self functions act on the calling thread only.
 */
#ifndef HV_PLATFORM_PLATFORM_H
#define HV_PLATFORM_PLATFORM_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

#include <hivewire/common.h>

/* ---------------------------------------------------------------------------------------- */
/* Clock (clock.c): hv_now_ns() in common.h is the public name of the same clock.           */

/* CLOCK_MONOTONIC in nanoseconds, inline for callers whose job is to read the clock often
 * (the profiler). Never goes backwards; not related to the wall clock. */
static inline uint64_t hv__mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------- */
/* Futex and eventfd waits (wait.c)                                                         */

/*
 * Sleeps while *addr == expected, at most timeout_ns, on a process-private futex. Returns 0
 * when woken, when *addr no longer held `expected` at the call, or on a signal (callers re-check
 * their condition in a loop either way); HV_ETIMEDOUT when the timeout passed.
 */
int hv__futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns);

/* Wakes up to n threads sleeping on addr (INT_MAX: all). */
void hv__futex_wake(uint32_t *addr, int n);

/* Creates a non-blocking, close-on-exec eventfd with counter 0 into *fd. Returns 0 or the
 * translated errno (HV_ENOMEM, HV_EIO, ...); *fd is -1 on failure. Close it with
 * hv__efd_close(). */
int hv__efd_open(int *fd);

/* Closes fd (-1: nothing). */
void hv__efd_close(int fd);

/* Adds one to the counter: wakes a poller of fd. The counter keeps the signal until drained,
 * so a signal sent before the waiter sleeps is not lost. */
void hv__efd_signal(int fd);

/* Resets the counter to 0 (non-blocking; nothing to drain is fine). */
void hv__efd_drain(int fd);

/* Waits until fd is readable (its counter is non-zero), at most timeout_ns. Returns 0 when
 * readable or interrupted by a signal (callers re-check), HV_ETIMEDOUT after the timeout.
 * Does not drain. */
int hv__efd_wait(int fd, uint64_t timeout_ns);

/* Waits until any of fds[0..n) is readable, at most timeout_ns (an agent's eventfd beside a
 * helper's, say). Returns a mask with bit i set for each readable fds[i] (0 after a signal:
 * callers re-check), HV_ETIMEDOUT after the timeout, HV_EINVAL when n is 0 or above
 * HV_EFD_WAIT_MAX. Drains nothing. */
#define HV_EFD_WAIT_MAX 8
int hv__efd_wait_any(const int *fds, unsigned n, uint64_t timeout_ns);

/* ---------------------------------------------------------------------------------------- */
/* CPUs, scheduling, resource usage (cpu.c)                                                  */

/* A saved CPU affinity of one thread. */
typedef struct hv__cpu_mask {
    cpu_set_t set;
} hv__cpu_mask;

/* Pins the calling thread to CPU cpu. Returns 0, HV_EINVAL (cpu < 0 or not a CPU this
 * process may use) or the translated errno. */
int hv__cpu_pin_self(int cpu);

/* The CPUs this process may use (its affinity mask, sched_getaffinity), in ascending order:
 * writes up to max ids into cpus and returns how many there are in all (which may exceed max),
 * or the translated errno. */
int hv__cpu_allowed(int *cpus, int max);

/* Saves the calling thread's affinity into m (for hv__cpu_mask_restore after a pin). Returns 0
 * or the translated errno. */
int hv__cpu_mask_save(hv__cpu_mask *m);

/* Gives the calling thread the affinity saved in m. Returns 0 or the translated errno. */
int hv__cpu_mask_restore(const hv__cpu_mask *m);

/* Puts the calling thread under SCHED_BATCH: a woken thread then waits for the next scheduler
 * tick instead of preempting the thread that woke it (docs/SWARM.md, threading model).
 * Returns 0 or the translated errno. */
int hv__sched_batch_self(void);

/* Resource usage of one thread. */
typedef struct hv__thread_usage {
    uint64_t cpu_ns;               /* user + system time */
    uint64_t switches_voluntary;   /* the thread slept (blocked on a wait, ...) */
    uint64_t switches_involuntary; /* the scheduler preempted it */
} hv__thread_usage;

/* The calling thread's getrusage(RUSAGE_THREAD) into u. Returns 0 or the translated errno
 * (u is then zeroed). */
int hv__thread_usage_self(hv__thread_usage *u);

/* A loopback port nobody uses now (type SOCK_STREAM or SOCK_DGRAM), 0 if none: for tests,
 * benchmarks and local clusters that start their own servers (a race with another process that
 * takes it first is possible and then shows as a failed bind). */
uint16_t hv__loopback_free_port(int type);

/* The absolute path of this process's executable (/proc/self/exe) into buf[cap], so a program
 * finds files installed beside it. Returns the path's length, HV_ENOBUFS when it does not fit,
 * or the translated errno. */
int hv__exe_path(char *buf, size_t cap);

#endif

/* Futex and eventfd waits: how the bus's owners and blocked publishers sleep (docs/BUS.md 7). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "platform/platform.h"

static struct timespec ns_to_timespec(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

int hv__futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
    struct timespec ts = ns_to_timespec(timeout_ns);
    if (syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0) == 0)
        return 0;
    return errno == ETIMEDOUT ? HV_ETIMEDOUT : 0; /* EAGAIN: *addr changed; EINTR */
}

void hv__futex_wake(uint32_t *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int hv__efd_open(int *fd)
{
    *fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return *fd < 0 ? hv_err_from_errno(errno) : 0;
}

void hv__efd_close(int fd)
{
    if (fd >= 0)
        close(fd);
}

void hv__efd_signal(int fd)
{
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof(one));
    (void)n; /* EAGAIN only if the counter is at its maximum: the fd is readable anyway */
}

void hv__efd_drain(int fd)
{
    uint64_t v;
    ssize_t n = read(fd, &v, sizeof(v));
    (void)n; /* EAGAIN: nothing to drain */
}

int hv__efd_wait(int fd, uint64_t timeout_ns)
{
    int rc = hv__efd_wait_any(&fd, 1, timeout_ns);
    return rc < 0 ? rc : 0;
}

int hv__efd_wait_any(const int *fds, unsigned n, uint64_t timeout_ns)
{
    if (n == 0 || n > HV_EFD_WAIT_MAX)
        return HV_EINVAL;
    struct pollfd p[HV_EFD_WAIT_MAX];
    for (unsigned i = 0; i < n; i++)
        p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
    struct timespec ts = ns_to_timespec(timeout_ns);
    int k = ppoll(p, n, &ts, NULL);
    if (k == 0)
        return HV_ETIMEDOUT;
    int mask = 0;
    for (unsigned i = 0; k > 0 && i < n; i++)
        if (p[i].revents & POLLIN)
            mask |= 1 << i;
    return mask; /* k < 0: a signal, mask 0 */
}

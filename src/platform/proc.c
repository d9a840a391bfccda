/* What the process knows about itself from /proc. */
#include <errno.h>
#include <unistd.h>

#include <hivewire/common.h>

#include "platform/platform.h"

int hv__exe_path(char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return HV_EINVAL;
    ssize_t n = readlink("/proc/self/exe", buf, cap);
    if (n < 0)
        return hv_err_from_errno(errno);
    if ((size_t)n >= cap) /* readlink truncates silently */
        return HV_ENOBUFS;
    buf[n] = '\0';
    return (int)n;
}

#include <errno.h>

#include <hivewire/common.h>

#include "core/field.h"

const char *hv_strerror(int err)
{
    switch (err) {
#define HV_ERR_STR_(name, val, cls, msg) \
    case (val):                          \
        return (msg);
        HV_ERRNO_MAP(HV_ERR_STR_)
#undef HV_ERR_STR_
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *hv_err_name(int err)
{
    switch (err) {
#define HV_ERR_NAME_(name, val, cls, msg) \
    case (val):                           \
        return "HV_E" #name;
        HV_ERRNO_MAP(HV_ERR_NAME_)
#undef HV_ERR_NAME_
    default:
        return NULL;
    }
}

/* The classes of the table in common.h. */
#define HV_ERR_CLASS_FATAL 0
#define HV_ERR_CLASS_RETRY 1

int hv_err_retryable(int err)
{
    switch (err) {
#define HV_ERR_CLASS_(name, val, cls, msg) \
    case (val):                            \
        return HV_ERR_CLASS_##cls;
        HV_ERRNO_MAP(HV_ERR_CLASS_)
#undef HV_ERR_CLASS_
    default:
        return 0;
    }
}

int hv_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return 0;
    case EINVAL:
        return HV_EINVAL;
    case ENOMEM:
        return HV_ENOMEM;
    case ENOBUFS:
        return HV_ENOBUFS;
    case ERANGE:
        return HV_ERANGE;
    case EAGAIN:
        return HV_EAGAIN;
    case ETIMEDOUT:
        return HV_ETIMEDOUT;
    case ENOENT:
        return HV_ENOTFOUND;
    case EEXIST:
        return HV_EEXIST;
    case EOVERFLOW:
        return HV_EOVERFLOW;
    case ENOTSUP:
        return HV_ENOTSUP;
    case EISDIR:
        return HV_EISDIR;
    case EPIPE:
    case ECONNRESET:
        return HV_EPEERCLOSED;
    default:
        return HV_EIO;
    }
}

const char *hv_version(void)
{
    return HV_VERSION_STRING;
}

int hv__field_fail(hv_field_error *err, const char *field, const char *reason)
{
    if (err != NULL)
        *err = (hv_field_error){ field, reason };
    return HV_EINVAL;
}

/*
 * How every *_opts_check() function of the library reports the first bad field of an options
 * struct (hv_field_error, include/hivewire/common.h).
 */
#ifndef HV_CORE_FIELD_H
#define HV_CORE_FIELD_H

#include <hivewire/common.h>

/* Sets *err (when not NULL) to { field, reason } and returns HV_EINVAL. Both strings must be
 * static: the caller keeps the hv_field_error after the check returns. */
int hv__field_fail(hv_field_error *err, const char *field, const char *reason);

#endif /* HV_CORE_FIELD_H */

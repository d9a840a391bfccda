/* The monotonic clock behind hv_now_ns() (common.h). */
#include "platform/platform.h"

uint64_t hv_now_ns(void)
{
    return hv__mono_ns();
}

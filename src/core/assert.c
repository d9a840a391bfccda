/* The failure path of HV_ASSERT (core/assert.h). */
#include <stdio.h>
#include <stdlib.h>

#include "core/assert.h"

void hv__assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "hivewire: assertion failed: %s (%s:%d in %s)\n", cond, file, line, func);
    fflush(stderr);
    abort();
}

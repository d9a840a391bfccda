/*
 * The C side of the C++ header test: the size and alignment of every public struct as the C
 * compiler lays it out, for cxx_test.cpp to compare with its own.
 */
#include <stdalign.h>
#include <stddef.h>

#include <hivewire/hivewire.h>
#include <hivewire/net.h>

#include "hv_api_types.h"

#include "api/layout.h"

const hv_api_layout hv_api_c_layout[] = {
#define HV_API_LAYOUT_(t) { #t, sizeof(t), alignof(t) },
    HV_API_TYPES(HV_API_LAYOUT_)
#undef HV_API_LAYOUT_
        { NULL, 0, 0 },
};

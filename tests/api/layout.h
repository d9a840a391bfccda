/* The layout of one public struct, as one compiler sees it (tests/api). */
#ifndef HV_TESTS_API_LAYOUT_H
#define HV_TESTS_API_LAYOUT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hv_api_layout {
    const char *name;
    size_t size;
    size_t align;
} hv_api_layout;

/* Every public struct as the C compiler lays it out, ended by a NULL name. */
extern const hv_api_layout hv_api_c_layout[];

#ifdef __cplusplus
}
#endif

#endif

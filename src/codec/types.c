/* The codec's names: message types and the values of the payload enumerations (types.h). */
#include <stddef.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/types.h"

/* ---- Enumerations ------------------------------------------------------------------------ */

#define NAME_(value) #value,
#define NAMES_(e)                                               \
    static const char *const e##_v[] = { HV__ENUM_##e(NAME_) }; \
    const hv__names hv__##e##_names = { e##_v, hv__##e##_names_count };
HV__ENUMS(NAMES_)
#undef NAMES_
#undef NAME_

/* ---- Message types ----------------------------------------------------------------------- */

const char *const hv__type_names[256] = {
#define TYPE_NAME_(name, val, lower) [val] = #lower,
    HV_MSG_TYPE_MAP(TYPE_NAME_)
#undef TYPE_NAME_
};

const char *hv_msg_type_name(int type)
{
    return type >= 0 && type < 256 ? hv__type_names[type] : NULL;
}

int hv_msg_type_from_name(const char *name, size_t len)
{
    for (int t = 0; t < 256; t++)
        if (hv__type_names[t] && strlen(hv__type_names[t]) == len &&
            memcmp(hv__type_names[t], name, len) == 0)
            return t;
    return HV_EBADTYPE;
}

/*
 * The codec's names, internal: which wire values are message types (from the one table of
 * types, HV_MSG_TYPE_MAP in codec.h) and the names of the payload enumerations' values (the
 * JSON form). Depends on nothing but the public header.
 */
#ifndef HV_CODEC_TYPES_H
#define HV_CODEC_TYPES_H

#include <stdint.h>

#include <hivewire/codec.h>

/* Names of enum values (JSON form), indexed by wire value. */
typedef struct hv__names {
    const char *const *v;
    unsigned n;
} hv__names;

extern const hv__names hv__role_names, hv__hs_status_names, hv__ack_status_names,
    hv__task_kind_names, hv__corr_method_names, hv__priority_names, hv__content_names,
    hv__policy_names, hv__action_names, hv__criticality_names, hv__rule_names, hv__choice_names,
    hv__auth_names, hv__outcome_names, hv__metric_kind_names, hv__purpose_names,
    hv__stream_status_names;

/* One bit per wire value that is a message type, in four words made from HV_MSG_TYPE_MAP, so the
 * frame checks test a type inline. */
#define HV__TYPE_BIT_(w, val)          ((val) >> 6 == (w) ? 1ull << ((val)&63) : 0)
#define HV__TYPE_W0_(name, val, lower) | HV__TYPE_BIT_(0, val)
#define HV__TYPE_W1_(name, val, lower) | HV__TYPE_BIT_(1, val)
#define HV__TYPE_W2_(name, val, lower) | HV__TYPE_BIT_(2, val)
#define HV__TYPE_W3_(name, val, lower) | HV__TYPE_BIT_(3, val)

static inline int hv__type_known(unsigned type)
{
    static const uint64_t known[4] = { 0 HV_MSG_TYPE_MAP(HV__TYPE_W0_),
                                       0 HV_MSG_TYPE_MAP(HV__TYPE_W1_),
                                       0 HV_MSG_TYPE_MAP(HV__TYPE_W2_),
                                       0 HV_MSG_TYPE_MAP(HV__TYPE_W3_) };
    return type < 256 && (known[type >> 6] >> (type & 63) & 1) != 0;
}

#endif

/*
 * The codec's names, internal: which wire values are message types (from the one table of
 * types, HV_MSG_TYPE_MAP in codec.h) and the names of the payload enumerations' values (the
 * JSON form). Depends on nothing but the public header.
 */
#ifndef HV_CODEC_TYPES_H
#define HV_CODEC_TYPES_H

#include <stdint.h>

#include <hivewire/codec.h>

/*
 * The payload enumerations (docs/PROTOCOL.md section 6): each one's value names, in wire order,
 * in one list. From it come its count, a compile-time constant hv__<enum>_names_count (the
 * validator compares against it as an immediate), and its table hv__<enum>_names (types.c), for
 * the JSON form and the error messages.
 */
#define HV__ENUM_role(X)   \
    X(worker)              \
    X(pattern_matcher)     \
    X(strategy_correlator) \
    X(feature_engineer)    \
    X(neural_trainer)      \
    X(reasoning_banker)    \
    X(coordinator)         \
    X(market_data)         \
    X(risk)                \
    X(strategy)            \
    X(execution)

#define HV__ENUM_purpose(X) \
    X(control)              \
    X(task_assignment)      \
    X(pattern_matching)     \
    X(strategy_correlation) \
    X(feature_engineering)  \
    X(neural_training)      \
    X(reasoning_exchange)   \
    X(market_data)          \
    X(consensus)

#define HV__ENUM_hs_status(X) \
    X(accepted)               \
    X(rejected)

#define HV__ENUM_ack_status(X) \
    X(received)                \
    X(processed)               \
    X(failed)                  \
    X(rejected)

#define HV__ENUM_task_kind(X) \
    X(pattern_match)          \
    X(strategy_correlation)   \
    X(feature_engineering)    \
    X(neural_training)        \
    X(generic_compute)        \
    X(risk)

#define HV__ENUM_corr_method(X) \
    X(pearson)                  \
    X(spearman)                 \
    X(kendall)

#define HV__ENUM_priority(X) \
    X(critical)              \
    X(high)                  \
    X(normal)                \
    X(low)                   \
    X(batch)

#define HV__ENUM_content(X) \
    X(octets)               \
    X(json)                 \
    X(text)                 \
    X(hvw1)

#define HV__ENUM_policy(X) \
    X(block)               \
    X(drop_oldest)         \
    X(reject)

#define HV__ENUM_action(X) \
    X(order_execution)     \
    X(position_change)     \
    X(risk_limit_change)   \
    X(risk_calculation)    \
    X(pattern_match)       \
    X(strategy_signal)     \
    X(other)

#define HV__ENUM_criticality(X) \
    X(low)                      \
    X(medium)                   \
    X(high)                     \
    X(critical)

#define HV__ENUM_rule(X) \
    X(majority)          \
    X(simple_majority)   \
    X(threshold)         \
    X(weighted)          \
    X(unanimous)         \
    X(bft)

#define HV__ENUM_choice(X) \
    X(approve)             \
    X(reject)              \
    X(abstain)

#define HV__ENUM_auth(X) \
    X(none)              \
    X(ed25519)           \
    X(blake2b_mac)

#define HV__ENUM_outcome(X) \
    X(accepted)             \
    X(rejected)             \
    X(no_quorum)            \
    X(expired)

#define HV__ENUM_metric_kind(X) \
    X(counter)                  \
    X(gauge)                    \
    X(latency_ns)

#define HV__ENUM_stream_status(X) \
    X(complete)                   \
    X(aborted)

/* Every enumeration, E(name). */
#define HV__ENUMS(E) \
    E(role)          \
    E(purpose)       \
    E(hs_status)     \
    E(ack_status)    \
    E(task_kind)     \
    E(corr_method)   \
    E(priority)      \
    E(content)       \
    E(policy)        \
    E(action)        \
    E(criticality)   \
    E(rule)          \
    E(choice)        \
    E(auth)          \
    E(outcome)       \
    E(metric_kind)   \
    E(stream_status)

/* Names of enum values (JSON form), indexed by wire value. */
typedef struct hv__names {
    const char *const *v;
    unsigned n;
} hv__names;

#define HV__ENUM_ONE_(value) +1
#define HV__ENUM_COUNT_(e)   hv__##e##_names_count = 0 HV__ENUM_##e(HV__ENUM_ONE_),
enum { HV__ENUMS(HV__ENUM_COUNT_) };
#undef HV__ENUM_COUNT_

#define HV__ENUM_EXTERN_(e) extern const hv__names hv__##e##_names;
HV__ENUMS(HV__ENUM_EXTERN_)
#undef HV__ENUM_EXTERN_

/* The name of each message type by wire value, NULL where no type is (types.c, from
 * HV_MSG_TYPE_MAP); the frame checks test a type with it inline. */
extern const char *const hv__type_names[256];

static inline int hv__type_known(unsigned type)
{
    return type < 256 && hv__type_names[type] != NULL;
}

#endif

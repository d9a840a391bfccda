/* The codec's names: message types and the values of the payload enumerations (types.h). */
#include <stddef.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/types.h"

/* ---- Enumerations ------------------------------------------------------------------------ */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NAMES(var, ...)                                   \
    static const char *const var##_v[] = { __VA_ARGS__ }; \
    const hv__names var = { var##_v, ARRAY_LEN(var##_v) }

NAMES(hv__role_names, "worker", "pattern_matcher", "strategy_correlator", "feature_engineer",
      "neural_trainer", "reasoning_banker", "coordinator", "market_data", "risk", "strategy",
      "execution");
NAMES(hv__purpose_names, "control", "task_assignment", "pattern_matching", "strategy_correlation",
      "feature_engineering", "neural_training", "reasoning_exchange", "market_data", "consensus");
NAMES(hv__hs_status_names, "accepted", "rejected");
NAMES(hv__ack_status_names, "received", "processed", "failed", "rejected");
NAMES(hv__task_kind_names, "pattern_match", "strategy_correlation", "feature_engineering",
      "neural_training", "generic_compute", "risk");
NAMES(hv__corr_method_names, "pearson", "spearman", "kendall");
NAMES(hv__priority_names, "critical", "high", "normal", "low", "batch");
NAMES(hv__content_names, "octets", "json", "text", "hvw1");
NAMES(hv__policy_names, "block", "drop_oldest", "reject");
NAMES(hv__action_names, "order_execution", "position_change", "risk_limit_change",
      "risk_calculation", "pattern_match", "strategy_signal", "other");
NAMES(hv__criticality_names, "low", "medium", "high", "critical");
NAMES(hv__rule_names, "majority", "simple_majority", "threshold", "weighted", "unanimous", "bft");
NAMES(hv__choice_names, "approve", "reject", "abstain");
NAMES(hv__auth_names, "none", "ed25519", "blake2b_mac");
NAMES(hv__outcome_names, "accepted", "rejected", "no_quorum", "expired");
NAMES(hv__metric_kind_names, "counter", "gauge", "latency_ns");
NAMES(hv__stream_status_names, "complete", "aborted");

/* ---- Message types ----------------------------------------------------------------------- */

static const char *const type_names[256] = {
#define TYPE_NAME_(name, val, lower) [val] = #lower,
    HV_MSG_TYPE_MAP(TYPE_NAME_)
#undef TYPE_NAME_
};

const char *hv_msg_type_name(int type)
{
    return type >= 0 && type < 256 ? type_names[type] : NULL;
}

int hv_msg_type_from_name(const char *name, size_t len)
{
    for (int t = 0; t < 256; t++)
        if (type_names[t] && strlen(type_names[t]) == len && memcmp(type_names[t], name, len) == 0)
            return t;
    return HV_EBADTYPE;
}

/*
 * Rules, exact integer bounds and the criticality table.
 */
#include <hivewire/consensus.h>

#include "consensus/consensus_int.h"

static const char *const rule_names[HV_RULE_COUNT] = {
    "AUTO", "MAJORITY", "SIMPLE_MAJORITY", "THRESHOLD", "WEIGHTED", "UNANIMOUS", "BFT",
};
static const char *const outcome_names[HV_OUTCOME_COUNT] = {
    "PENDING",
    "ACCEPTED",
    "REJECTED",
    "NO_QUORUM",
};
static const char *const crit_names[HV_CRIT_COUNT] = { "LOW", "MEDIUM", "HIGH", "CRITICAL" };

const char *hv_rule_name(hv_rule r)
{
    return (unsigned)r < HV_RULE_COUNT ? rule_names[r] : "UNKNOWN";
}

const char *hv_outcome_name(hv_outcome o)
{
    return (unsigned)o < HV_OUTCOME_COUNT ? outcome_names[o] : "UNKNOWN";
}

const char *hv_crit_name(hv_crit c)
{
    return (unsigned)c < HV_CRIT_COUNT ? crit_names[c] : "UNKNOWN";
}

void hv_crit_table_default(hv_crit_table *t)
{
    for (uint32_t i = 0; i < HV_ACTION_MAX; i++)
        t->action_crit[i] = HV_CRIT_LOW;
    t->action_crit[HV_ACTION_ORDER_EXECUTION] = HV_CRIT_CRITICAL;
    t->action_crit[HV_ACTION_POSITION_CHANGE] = HV_CRIT_CRITICAL;
    t->action_crit[HV_ACTION_RISK_LIMIT_CHANGE] = HV_CRIT_CRITICAL;
    t->action_crit[HV_ACTION_RISK_CALCULATION] = HV_CRIT_HIGH;
    t->action_crit[HV_ACTION_PATTERN_MATCH] = HV_CRIT_MEDIUM;
    t->action_crit[HV_ACTION_STRATEGY_SIGNAL] = HV_CRIT_MEDIUM;
    t->crit_policy[HV_CRIT_LOW] = (hv_policy){ .rule = HV_RULE_SIMPLE_MAJORITY };
    t->crit_policy[HV_CRIT_MEDIUM] = (hv_policy){ .rule = HV_RULE_THRESHOLD, .num = 3, .den = 4 };
    t->crit_policy[HV_CRIT_HIGH] = (hv_policy){ .rule = HV_RULE_BFT };
    t->crit_policy[HV_CRIT_CRITICAL] = (hv_policy){ .rule = HV_RULE_BFT };
}

int hv_crit_table_set_action(hv_crit_table *t, uint32_t action, hv_crit crit)
{
    if (action >= HV_ACTION_MAX || (unsigned)crit >= HV_CRIT_COUNT)
        return HV_ERANGE;
    t->action_crit[action] = (uint8_t)crit;
    return 0;
}

int hv__policy_valid(const hv_policy *p)
{
    switch (p->rule) {
    case HV_RULE_MAJORITY:
    case HV_RULE_SIMPLE_MAJORITY:
    case HV_RULE_UNANIMOUS:
    case HV_RULE_BFT:
        return 0;
    case HV_RULE_THRESHOLD:
        return p->den > 0 && p->num > 0 && p->num <= p->den ? 0 : HV_EINVAL;
    case HV_RULE_WEIGHTED:
        return p->den == 0 || p->num < p->den ? 0 : HV_EINVAL;
    default:
        return HV_EINVAL;
    }
}

int hv_crit_table_set_policy(hv_crit_table *t, hv_crit crit, const hv_policy *p)
{
    if ((unsigned)crit >= HV_CRIT_COUNT)
        return HV_ERANGE;
    int rv = hv__policy_valid(p);
    if (rv != 0)
        return rv;
    t->crit_policy[crit] = *p;
    return 0;
}

int hv_crit_table_lookup(const hv_crit_table *t, uint32_t action, hv_crit *crit, hv_policy *policy)
{
    if (action >= HV_ACTION_MAX || t->action_crit[action] >= HV_CRIT_COUNT)
        return HV_ERANGE;
    hv_crit c = (hv_crit)t->action_crit[action];
    if (crit != NULL)
        *crit = c;
    if (policy != NULL)
        *policy = t->crit_policy[c];
    return 0;
}

uint32_t hv__bft_f(uint32_t n)
{
    return n == 0 ? 0 : (n - 1) / 3;
}

/* ceil(num * n / den) in exact integer arithmetic. */
static uint64_t ceil_frac(uint64_t n, uint32_t num, uint32_t den)
{
    unsigned __int128 x = (unsigned __int128)n * num;
    return (uint64_t)((x + den - 1) / den);
}

/* floor(num * w / den) + 1: the smallest integer strictly above num/den of w. */
static uint64_t above_frac(uint64_t w, uint32_t num, uint32_t den)
{
    unsigned __int128 x = (unsigned __int128)w * num;
    return (uint64_t)(x / den) + 1;
}

int hv_policy_bound(const hv_policy *p, uint32_t n, uint64_t w, uint64_t *bound)
{
    int rv = hv__policy_valid(p);
    if (rv != 0)
        return rv;
    if (n == 0)
        return HV_EINVAL;
    switch (p->rule) {
    case HV_RULE_MAJORITY:
        *bound = p->quorum ? p->quorum : n / 2 + 1;
        break;
    case HV_RULE_SIMPLE_MAJORITY:
        *bound = n / 2 + 1;
        break;
    case HV_RULE_THRESHOLD:
        *bound = ceil_frac(n, p->num, p->den);
        break;
    case HV_RULE_WEIGHTED:
        if (w == 0)
            return HV_EINVAL;
        *bound = p->den ? above_frac(w, p->num, p->den) : w / 2 + 1;
        break;
    case HV_RULE_UNANIMOUS:
        *bound = n;
        break;
    case HV_RULE_BFT:
        if (n < 4)
            return HV_ETOOFEWVOTERS;
        *bound = (n + hv__bft_f(n)) / 2 + 1;
        break;
    default:
        return HV_EINVAL;
    }
    if (p->quorum > n)
        return HV_ETOOFEWVOTERS;
    return 0;
}

/* The order state machine: one transition table, consulted by everything that moves an order. */
#include <hivewire/exchange.h>

#define S(x) (1u << HV_ORDER_##x)

/* allowed[from] is the set of states `from` may move to. */
static const uint32_t allowed[HV_ORDER_STATE_COUNT] = {
    [HV_ORDER_NEW] = S(SUBMITTED) | S(REJECTED),
    [HV_ORDER_SUBMITTED] = S(ACCEPTED) | S(REJECTED),
    [HV_ORDER_ACCEPTED] = S(PARTIALLY_FILLED) | S(FILLED) | S(CANCELLED) | S(EXPIRED),
    [HV_ORDER_PARTIALLY_FILLED] = S(PARTIALLY_FILLED) | S(FILLED) | S(CANCELLED) | S(EXPIRED),
    [HV_ORDER_FILLED] = 0,
    [HV_ORDER_CANCELLED] = 0,
    [HV_ORDER_REJECTED] = 0,
    [HV_ORDER_EXPIRED] = 0,
};

static const char *const names[HV_ORDER_STATE_COUNT] = {
    "new",    "submitted", "accepted", "partially_filled",
    "filled", "cancelled", "rejected", "expired",
};

static int in_range(hv_order_state s)
{
    return (unsigned)s < HV_ORDER_STATE_COUNT;
}

int hv_order_transition_check(hv_order_state from, hv_order_state to)
{
    if (!in_range(from) || !in_range(to))
        return HV_EBADTRANSITION;
    return (allowed[from] & (1u << to)) ? 0 : HV_EBADTRANSITION;
}

int hv_order_transition(hv_order_state *state, hv_order_state to)
{
    int rc = hv_order_transition_check(*state, to);
    if (rc == 0)
        *state = to;
    return rc;
}

int hv_order_state_is_terminal(hv_order_state s)
{
    return in_range(s) && allowed[s] == 0;
}

const char *hv_order_state_name(hv_order_state s)
{
    return in_range(s) ? names[s] : "unknown";
}

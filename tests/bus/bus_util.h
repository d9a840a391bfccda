/* Set-up shared by the bus suites: buses and agents that must be created for a test to run. */
#ifndef HV_TESTS_BUS_UTIL_H
#define HV_TESTS_BUS_UTIL_H

#include "hv_test.h"

#include <hivewire/bus.h>

/* A bus with default options but msg_pool pooled messages and, when nonzero, dlq_capacity
 * dead letters. */
static inline hv_bus *test_bus(uint32_t msg_pool, uint32_t dlq_capacity)
{
    hv_bus_opts o;
    hv_bus_opts_default(&o);
    o.msg_pool = msg_pool;
    if (dlq_capacity != 0)
        o.dlq_capacity = dlq_capacity;
    hv_bus *b = NULL;
    assert_int_equal(hv_bus_new(&o, &b), 0);
    return b;
}

/* Default agent options with an inbox of cap messages. */
static inline hv_agent_opts test_agent_opts(uint32_t cap)
{
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.inbox_capacity = cap;
    return o;
}

/* An agent on b with options o (NULL: the defaults). */
static inline hv_agent *test_agent(hv_bus *b, const hv_agent_opts *o)
{
    hv_agent *a = NULL;
    assert_int_equal(hv_agent_new(b, o, &a), 0);
    return a;
}

/* Every pooled message is back in b's pool: none queued, none held. */
static inline void expect_all_msgs_returned(hv_bus *b)
{
    hv_bus_stats bs;
    hv_bus_stats_get(b, &bs);
    assert_int_equal(bs.msgs_in_use, 0);
}

#endif

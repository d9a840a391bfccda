/*
 * A bus with two agents: a market-data agent publishes quotes on md.<symbol>.quote, a
 * strategy agent subscribed to md.*.quote receives them, highest priority first, and answers
 * a request from the market-data agent.
 *
 *   cc bus_two_agents.c $(pkg-config --cflags --libs hivewire) -o bus_two_agents
 */
#include <stdio.h>
#include <string.h>

#include <hivewire/bus.h>

typedef struct quote {
    double bid, ask;
} quote;

static int fail(const char *what, int rc)
{
    fprintf(stderr, "bus_two_agents: %s: %s\n", what, hv_strerror(rc));
    return 1;
}

int main(void)
{
    hv_bus *bus;
    int rc = hv_bus_new(NULL, &bus); /* defaults: hv_bus_opts_default() */
    if (rc != 0)
        return fail("hv_bus_new", rc);
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.name = "market-data";
    hv_agent *md, *strat;
    if ((rc = hv_agent_new(bus, &ao, &md)) != 0)
        return fail("hv_agent_new", rc);
    ao.name = "strategy";
    if ((rc = hv_agent_new(bus, &ao, &strat)) != 0)
        return fail("hv_agent_new", rc);
    if ((rc = hv_agent_subscribe(strat, "md.*.quote", NULL, NULL)) != 0)
        return fail("hv_agent_subscribe", rc);

    /* One thread owns both agents here; each may as well run on a thread of its own. */
    uint64_t now = hv_now_ns();
    const char *symbols[] = { "AAPL", "MSFT", "SPY" };
    for (int i = 0; i < 3; i++) {
        quote q = { 100.0 + i, 100.1 + i };
        char subject[HV_SUBJECT_MAX + 1];
        snprintf(subject, sizeof(subject), "md.%s.quote", symbols[i]);
        hv_send m = { .subject = subject,
                      .type = 1,
                      .data = &q,
                      .len = sizeof(q),
                      .prio = i == 2 ? HV_PRIO_HIGH : HV_PRIO_NORMAL };
        if ((rc = hv_bus_publish(md, &m, now, NULL)) != 1)
            return fail("hv_bus_publish", rc < 0 ? rc : HV_ENOSUBSCRIBER);
    }

    hv_bus_msg *in[8];
    int n = hv_agent_recv(strat, in, 8, hv_now_ns());
    for (int i = 0; i < n; i++) {
        quote q;
        memcpy(&q, in[i]->data, sizeof(q));
        printf("%s received %s from %s: bid %.2f ask %.2f (priority %u)\n", hv_agent_name(strat),
               in[i]->subject, hv_agent_name(md), q.bid, q.ask, in[i]->prio);
    }
    hv_bus_msg_release_n(in, (size_t)n);

    hv_agent_stats st;
    hv_agent_stats_get(strat, &st);
    printf("strategy: %llu received, %llu dropped\n", (unsigned long long)st.received,
           (unsigned long long)st.dropped_oldest);
    hv_bus_free(bus); /* frees the agents too */
    return n == 3 && st.received == 3 ? 0 : 1;
}

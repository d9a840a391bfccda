/* memory_100_agents: resident growth of a forked child that builds a bus with 100 agents
 * subscribed to "md.>" and runs 10 fan-outs; ZeroMQ: a context with 1 PUB and 100 SUB. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

static uint64_t mem_hivewire(void)
{
    hv_bus *b = hv__bb_new_bus();
    hv_agent *a[NAGENTS];
    for (int i = 0; i < NAGENTS; i++) {
        a[i] = hv__bb_new_agent(b, HV_WAIT_BLOCK, HV_BP_DROP_OLDEST);
        hv_agent_subscribe(a[i], "md.>", NULL, NULL);
    }
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    for (uint64_t k = 0; k < 10; k++) { /* a[0]'s time moves forward: 1, 2, 3, ... */
        hv_bus_publish(a[0], &m, 2 * k + 1, NULL);
        for (int i = 0; i < NAGENTS; i++) {
            hv_bus_msg *x[16];
            int n = hv_agent_recv(a[i], x, 16, 2 * k + 2);
            for (int j = 0; j < n; j++)
                hv_bus_msg_release(x[j]);
        }
    }
    uint64_t rss = hv_bench_rss_bytes();
    hv_bench_consume(b);
    return rss;
}

#ifdef HV_HAVE_ZMQ
static uint64_t mem_zmq(void)
{
    void *ctx = zmq_ctx_new();
    void *pub = zmq_socket(ctx, ZMQ_PUB);
    zmq_bind(pub, "inproc://mem");
    void *subs[NAGENTS];
    for (int i = 0; i < NAGENTS; i++) {
        subs[i] = zmq_socket(ctx, ZMQ_SUB);
        zmq_setsockopt(subs[i], ZMQ_SUBSCRIBE, "md.", 3);
        zmq_connect(subs[i], "inproc://mem");
    }
    uint8_t payload[64] = "md.AAPL.quote";
    for (int k = 0; k < 10; k++) {
        zmq_send(pub, payload, sizeof(payload), 0);
        for (int i = 0; i < NAGENTS; i++) {
            uint8_t buf[64];
            while (zmq_recv(subs[i], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
            }
        }
    }
    uint64_t rss = hv_bench_rss_bytes();
    hv_bench_consume(ctx);
    return rss;
}
#endif

/* The set-up of each implementation (hv_bench_impl.variant): returns the RSS after it. */
static uint64_t (*const setups[])(void) = {
    mem_hivewire,
#ifdef HV_HAVE_ZMQ
    mem_zmq,
#endif
};

/* Runs the implementation's set-up in a forked child and returns its RSS growth in bytes. A
 * child that cannot report fails the bench: a missing figure must not pass as a number. */
static double rss_growth_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)x;
    (void)s;
    int fd[2];
    if (pipe(fd) != 0)
        hv__bb_fail("memory_100_agents: pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        uint64_t before = hv_bench_rss_bytes();
        uint64_t after = setups[impl->variant]();
        double delta = after > before ? (double)(after - before) : 0;
        ssize_t w = write(fd[1], &delta, sizeof(delta));
        _exit(w == sizeof(delta) ? 0 : 1);
    }
    close(fd[1]);
    double delta = -1;
    ssize_t rd = read(fd[0], &delta, sizeof(delta));
    close(fd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (rd != sizeof(delta) || delta < 0)
        hv__bb_fail("memory_100_agents: the measuring child did not report");
    return delta;
}

/* path: the row's params. */
static const hv_bench_impl impls[] = {
    { "hivewire", rss_growth_sample, 0,
      "{\"agents\": 100, \"inbox_capacity_per_lane\": 256, \"lanes\": 5, \"msg_pool\": 4096, "
      "\"subscription\": \"md.>\", \"measured\": \"RSS growth of a forked child after setup and "
      "10 fan-outs\"}" },
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", rss_growth_sample, 1,
      "{\"agents\": 100, \"sockets\": \"1 PUB + 100 SUB\", \"measured\": \"RSS growth of a "
      "forked child after setup and 10 fan-outs\"}" },
#endif
};

static void params(const hv_bench_impl *impl, void *x, char *buf, size_t cap)
{
    (void)x;
    snprintf(buf, cap, "%s", impl->path);
}

void hv__bb_memory(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "memory_100_agents";
    if (!hv_bench_selected(o, name))
        return;
    hv_bench_plan p = { .impls = impls,
                        .nimpl = sizeof(impls) / sizeof(impls[0]),
                        .samples = hv_bench_samples(o, 3) };
    if (hv_bench_run(r, name, "bytes", &p, NULL, params) != 0)
        hv__bb_fail("out of memory");
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
}

/* paced_latency_64B: one-way latency at 100,000 msg/s, each message recorded against its
 * intended send time (no coordinated omission). Consumers busy-poll, except
 * hivewire_bus_blocking (eventfd). */
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/hist.h>
#include <hivewire/ring.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

enum { PACED_SPSC, PACED_BUS, PACED_BUS_BLOCKING, PACED_CK, PACED_ZMQ };

typedef struct paced_job {
    int variant;
    uint64_t n;
    uint64_t period_ns;
    uint64_t warm;
    hv_hist *h;
    hv_spsc *ring;
    hv_agent *src, *dst;
#ifdef HV_HAVE_CK
    ck_ring_t ck;
    struct m64 *ck_buf;
#endif
#ifdef HV_HAVE_ZMQ
    hv__bb_zmq z;
#endif
} paced_job;

static void paced_send_one(paced_job *j, const uint8_t *msg)
{
    switch (j->variant) {
    case PACED_SPSC:
        while (hv_spsc_try_push(j->ring, msg) != 0)
            relax();
        return;
    case PACED_BUS:
    case PACED_BUS_BLOCKING: {
        hv_send m = { .data = msg, .len = 64 };
        while (hv_bus_send(j->src, hv_agent_id(j->dst), &m, hv_now_ns()) != 0)
            relax();
        return;
    }
#ifdef HV_HAVE_CK
    case PACED_CK:
        while (!ck_ring_enqueue_spsc_m64(&j->ck, j->ck_buf, (struct m64 *)(uintptr_t)msg))
            relax();
        return;
#endif
#ifdef HV_HAVE_ZMQ
    case PACED_ZMQ:
        if (zmq_send(j->z.tx, msg, 64, 0) != 64)
            hv__bb_fail("zmq_send");
        return;
#endif
    }
}

/* Busy-polls (or, for hivewire_bus_blocking, waits on the eventfd) for one message; returns
 * its intended send time. */
static uint64_t paced_recv_one(paced_job *j)
{
    uint8_t buf[64] = { 0 };
    switch (j->variant) {
    case PACED_SPSC:
        while (hv_spsc_try_pop(j->ring, buf) != 0)
            relax();
        break;
    case PACED_BUS:
    case PACED_BUS_BLOCKING: {
        hv_bus_msg *m;
        while (hv_agent_recv(j->dst, &m, 1, hv_now_ns()) != 1)
            hv_agent_wait(j->dst, 1000000000);
        memcpy(buf, m->data, 64);
        hv_bus_msg_release(m);
        break;
    }
#ifdef HV_HAVE_CK
    case PACED_CK:
        while (!ck_ring_dequeue_spsc_m64(&j->ck, j->ck_buf, (struct m64 *)buf))
            relax();
        break;
#endif
#ifdef HV_HAVE_ZMQ
    case PACED_ZMQ:
        while (zmq_recv(j->z.rx, buf, sizeof(buf), ZMQ_DONTWAIT) != (int)sizeof(buf))
            relax();
        break;
#endif
    }
    uint64_t intended;
    memcpy(&intended, buf, sizeof(intended));
    return intended;
}

static void paced_prod(void *x)
{
    paced_job *j = x;
    uint8_t msg[64] = { 0 };
    uint64_t start = hv_now_ns() + 1000000;
    for (uint64_t i = 0; i < j->n; i++) {
        uint64_t intended = start + i * j->period_ns;
        while (hv_now_ns() < intended)
            relax();
        memcpy(msg, &intended, sizeof(intended)); /* late sends keep their intended time */
        paced_send_one(j, msg);
    }
}

static void paced_cons(void *x)
{
    paced_job *j = x;
    for (uint64_t i = 0; i < j->n; i++) {
        uint64_t intended = paced_recv_one(j);
        uint64_t now = hv_now_ns();
        if (i >= j->warm)
            hv_hist_record(j->h, now > intended ? now - intended : 0);
    }
}

static void job_open(paced_job *j, hv_bus **b)
{
    *b = NULL;
    switch (j->variant) {
    case PACED_SPSC:
        hv_spsc_new(RING_CAP, 64, &j->ring);
        return;
    case PACED_BUS:
    case PACED_BUS_BLOCKING:
        *b = hv__bb_new_bus();
        j->src = hv__bb_new_agent(*b, HV_WAIT_SPIN, HV_BP_BLOCK);
        j->dst = hv__bb_new_agent(
            *b, j->variant == PACED_BUS_BLOCKING ? HV_WAIT_BLOCK : HV_WAIT_SPIN, HV_BP_BLOCK);
        return;
#ifdef HV_HAVE_CK
    case PACED_CK:
        j->ck_buf = aligned_alloc(64, RING_CAP * sizeof(struct m64));
        ck_ring_init(&j->ck, RING_CAP);
        return;
#endif
#ifdef HV_HAVE_ZMQ
    case PACED_ZMQ:
        hv__bb_zmq_open(&j->z, 0);
        return;
#endif
    }
}

static void job_close(paced_job *j, hv_bus *b)
{
    hv_spsc_free(j->ring);
    if (b != NULL)
        hv_bus_free(b);
#ifdef HV_HAVE_CK
    free(j->ck_buf);
#endif
#ifdef HV_HAVE_ZMQ
    if (j->variant == PACED_ZMQ)
        hv__bb_zmq_close(&j->z);
#endif
}

typedef struct paced_ctx {
    const hv_bench_impl *impls; /* h[i] is impls[i]'s histogram */
    hv_hist h[8];
    uint64_t n, period_ns;
} paced_ctx;

/* A round records into the implementation's histogram; its return value is not used. */
static double paced_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)s;
    paced_ctx *c = x;
    paced_job j = { .variant = impl->variant,
                    .n = c->n,
                    .period_ns = c->period_ns,
                    .warm = c->n / 10,
                    .h = &c->h[impl - c->impls] };
    hv_bus *b;
    job_open(&j, &b);
    hv__bb_run_pair(paced_prod, paced_cons, &j);
    job_close(&j, b);
    return 0;
}

static const hv_bench_impl impls[] = {
    { "hivewire_spsc", paced_sample, PACED_SPSC, "busy-poll" },
    { "hivewire_bus", paced_sample, PACED_BUS, "busy-poll" },
    { "hivewire_bus_blocking", paced_sample, PACED_BUS_BLOCKING, "spin 2000 polls, then eventfd" },
#ifdef HV_HAVE_CK
    { "ck_ring", paced_sample, PACED_CK, "busy-poll" },
#endif
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", paced_sample, PACED_ZMQ, "busy-poll" },
#endif
};

void hv__bb_paced(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "paced_latency_64B";
    if (!hv_bench_selected(o, name))
        return;
    const uint64_t rate = 100000;
    paced_ctx c = { .impls = impls, .n = o->quick ? 2000 : 50000, .period_ns = 1000000000 / rate };
    hv_bench_plan p = { .impls = impls,
                        .nimpl = sizeof(impls) / sizeof(impls[0]),
                        .samples = hv_bench_samples(o, 5),
                        .ctx = &c };
    _Static_assert(sizeof(impls) / sizeof(impls[0]) <= sizeof(c.h) / sizeof(c.h[0]),
                   "one histogram per implementation");
    for (size_t i = 0; i < p.nimpl; i++)
        hv_hist_init(&c.h[i], 10ull * 1000 * 1000 * 1000, 10);
    double *v = hv_bench_interleave_new(&p);
    if (v == NULL)
        hv__bb_fail("out of memory");
    for (size_t i = 0; i < p.nimpl; i++) {
        char params[320];
        snprintf(params, sizeof(params),
                 "{\"msg_bytes\": 64, \"rate_msg_s\": %llu, \"msgs_per_round\": %llu, "
                 "\"rounds\": %u, \"warmup_per_round\": %llu, \"threads\": 2, \"pinned\": %s, "
                 "\"consumer\": \"%s\", \"measured_from\": \"intended send time\"}",
                 (unsigned long long)rate, (unsigned long long)c.n, p.samples,
                 (unsigned long long)(c.n / 10), hv__bb_pinned ? "true" : "false", impls[i].path);
        hv_bench_add_hist(r, name, impls[i].name, "ns", &c.h[i], params);
        hv_hist_fini(&c.h[i]);
    }
    free(v);
    hv_bench_ratio(r, name, "hivewire_spsc", "ck_ring");
    hv_bench_ratio(r, name, "hivewire_bus", "zeromq_inproc");
    hv_bench_note(r,
                  "paced_latency_64B: measured from intended send times, so a thread preempted "
                  "by another process shows up as milliseconds for every message queued behind "
                  "it; on a shared machine the upper quantiles and the ratios of this row mostly "
                  "measure the scheduler (compare min and p50, re-run on a quiet machine)");
}

/*
 * hivewire-bench trading: simulated-exchange throughput.
 *
 * Orders per second of wall-clock time (CLOCK_MONOTONIC via hv_now_ns(), so time the thread
 * spends descheduled counts against it) through the whole life of an order on the simulated clock:
 * submit -> arrival and ack -> fill against a bar -> fill report delivered to the owner (the
 * state machine moving SUBMITTED -> ACCEPTED -> FILLED). `in_flight` orders are submitted
 * before each bar, so that many are open at once. The _risk variant also runs the pre-trade
 * limits on every submit and books every fill into a portfolio, as the swarm's execution path
 * does. Single thread; there is no peer for this workload, so no ratio.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/exchange.h>

#include "bench.h"

typedef struct rig {
    hv_exchange *x;
    hv_portfolio *pf;
    hv_limits *lim;
    uint64_t t;
} rig;

static int rig_init(rig *r, int risk, uint64_t seed)
{
    hv_exchange_opts c;
    hv_exchange_opts_default(&c);
    c.seed = seed;
    r->t = 0;
    r->x = NULL;
    r->pf = NULL;
    r->lim = NULL;
    int rc = hv_exchange_new(&c, &r->x);
    if (rc == 0 && risk)
        rc = hv_portfolio_new(1e12, 1024, &r->pf);
    if (risk) {
        hv_limits_opts lc;
        hv_limits_opts_default(&lc);
        lc.position_max = 1000000000;
        lc.order_notional_max = 1e9;
        lc.orders_per_interval_max = 100000;
        lc.interval_ns = 1000000000;
        lc.drawdown_max_frac = 0.99;
        if (rc == 0)
            rc = hv_limits_new(&lc, &r->lim);
    }
    if (rc != 0)
        return rc;
    hv_exchange_attach(r->x, r->pf, r->lim);
    hv_bar b = { .open = 100, .high = 101, .low = 99, .close = 100, .volume = 1e9 };
    return hv_exchange_on_bar(r->x, &b, 0) < 0 ? HV_EINVAL : 0;
}

static void rig_fini(rig *r)
{
    hv_exchange_free(r->x);
    hv_portfolio_free(r->pf);
    hv_limits_free(r->lim);
}

/* Runs n orders in batches of in_flight; returns the fill reports delivered (or < 0). */
static long round_orders(rig *r, uint64_t n, uint32_t in_flight)
{
    hv_bar b = { .open = 100, .high = 101, .low = 99, .close = 100, .volume = 1e9 };
    hv_exec_report rep;
    long filled = 0;
    for (uint64_t done = 0; done < n; done += in_flight) {
        for (uint32_t i = 0; i < in_flight; i++) {
            hv_order_request q = { .side = (i & 1) ? HV_SIDE_SELL : HV_SIDE_BUY,
                                   .type = HV_ORDER_MARKET,
                                   .qty = 10 };
            if (hv_exchange_submit(r->x, &q, r->t + i, NULL) != 0)
                return -1;
        }
        r->t += 1000000; /* next bar 1 ms later on the simulated clock */
        if (hv_exchange_on_bar(r->x, &b, r->t) < 0)
            return -1;
        r->t += 1000000;
        while (hv_exchange_poll(r->x, r->t, &rep) == 1)
            filled += rep.type == HV_EXEC_FILL;
        if (r->pf)
            hv_portfolio_mark(r->pf, 100, r->t);
    }
    return filled;
}

static void bench_one(hv_bench_report *rep, const hv_bench_opts *o, const char *name, int risk,
                      uint32_t in_flight)
{
    if (!hv_bench_selected(o, name))
        return;
    unsigned ns = hv_bench_samples(o, 15);
    uint64_t n = o->quick ? 2048 : 200000;
    n -= n % in_flight;
    double *v = calloc(ns, sizeof(double));
    rig r;
    if (v == NULL || rig_init(&r, risk, o->seed) != 0) {
        hv_bench_fail(rep, "%s: setup failed", name);
        if (v != NULL)
            rig_fini(&r);
        free(v);
        return;
    }
    long f = round_orders(&r, n / 10 - (n / 10) % in_flight, in_flight); /* warm-up */
    uint64_t a0 = hv_bench_allocs();
    long fills = 0;
    for (unsigned i = 0; i < ns && f >= 0; i++) {
        uint64_t t0 = hv_now_ns();
        f = round_orders(&r, n, in_flight);
        uint64_t t1 = hv_now_ns();
        fills += f;
        v[i] = (double)n * 1e9 / (double)(t1 - t0);
    }
    if (f < 0) {
        /* A failed round timed nothing meaningful: report it instead of a throughput. */
        hv_bench_fail(rep, "%s: submitting or filling an order failed; no result recorded", name);
        rig_fini(&r);
        free(v);
        return;
    }
    uint64_t a1 = hv_bench_allocs();
    char params[160];
    snprintf(params, sizeof(params),
             "{\"orders_per_sample\": %llu, \"in_flight\": %u, \"limits_and_portfolio\": %s}",
             (unsigned long long)n, in_flight, risk ? "true" : "false");
    hv_bench_add(rep, name, "hivewire", "ops/s", v, ns, params);
    if (fills != (long)(n * ns))
        hv_bench_note(rep, "%s: only %ld of %llu orders filled", name, fills,
                      (unsigned long long)(n * ns));
    if (a0 != UINT64_MAX)
        hv_bench_note(rep, "%s: %.3f heap allocations per order", name,
                      (double)(a1 - a0) / (double)(n * ns));
    const hv_hist *ack = hv_exchange_ack_latency(r.x);
    hv_bench_note(rep,
                  "%s: simulated ack round trip p50 %.1f us, p99 %.1f us (simulated clock, "
                  "not wall-clock time)",
                  name, (double)hv_hist_quantile(ack, 0.5) / 1e3,
                  (double)hv_hist_quantile(ack, 0.99) / 1e3);
    rig_fini(&r);
    free(v);
}

int hv_bench_trading(const hv_bench_opts *opts);

int hv_bench_trading(const hv_bench_opts *opts)
{
    hv_bench_report *rep = hv_bench_report_new("trading", opts);
    if (rep == NULL)
        return 1;
    bench_one(rep, opts, "order_lifecycle_1", 0, 1);
    bench_one(rep, opts, "order_lifecycle_64", 0, 64);
    bench_one(rep, opts, "order_lifecycle_64_risk", 1, 64);
    hv_bench_note(
        rep,
        "ops/s = orders through submit, ack, fill and fill report per second of "
        "wall-clock time (CLOCK_MONOTONIC); one thread; exchange latency is simulated, not slept");
    return hv_bench_report_finish(rep);
}

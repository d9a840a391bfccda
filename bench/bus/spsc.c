/* spsc_<n>B: two threads through one ring, n-byte values copied in and out; the consumer sums
 * the sequence numbers. Before each sample, the round trip of one cache line between the two
 * CPUs (line_rtt_spsc_<n>B), which every cross-thread figure follows (docs/BUS.md). */
#include <stdio.h>
#include <stdlib.h>

#include <hivewire/ring.h>

#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bus_bench.h"

typedef struct ring_job {
    uint32_t bytes;
    uint64_t n;
    uint64_t sum; /* consumer's checksum of the sequence numbers */
    hv_spsc *hv;
    int batch;
#ifdef HV_HAVE_CK
    ck_ring_t ck;
    void *ck_buf;
#endif
#ifdef HV_HAVE_ZMQ
    hv__bb_zmq z;
#endif
} ring_job;

/* The value copy of the ring loops, with the sizes inlined as ck_ring's typed rings do. */
static inline void copy_fixed(void *dst, const void *src, uint32_t n)
{
    switch (n) {
    case 8:
        memcpy(dst, src, 8);
        return;
    case 64:
        memcpy(dst, src, 64);
        return;
    case 256:
        memcpy(dst, src, 256);
        return;
    default:
        memcpy(dst, src, n);
    }
}

static void hv_ring_prod(void *x)
{
    ring_job *j = x;
    uint8_t msg[256] = { 0 };
    uint32_t want = j->batch ? BATCH : 1;
    for (uint64_t i = 0; i < j->n;) {
        void *p;
        uint32_t k = hv_spsc_reserve(j->hv, want, &p);
        if (k == 0) {
            relax();
            continue;
        }
        if (k > j->n - i)
            k = (uint32_t)(j->n - i);
        for (uint32_t s = 0; s < k; s++, i++) {
            memcpy(msg, &i, sizeof(i));
            copy_fixed((uint8_t *)p + (size_t)s * j->bytes, msg, j->bytes);
        }
        hv_spsc_commit(j->hv, k);
    }
}

static void hv_ring_cons(void *x)
{
    ring_job *j = x;
    uint8_t msg[256];
    uint64_t got = 0, sum = 0;
    uint32_t want = j->batch ? BATCH : 1;
    while (got < j->n) {
        void *p;
        uint32_t k = hv_spsc_peek(j->hv, want, &p);
        if (k == 0) {
            relax();
            continue;
        }
        for (uint32_t s = 0; s < k; s++) {
            copy_fixed(msg, (uint8_t *)p + (size_t)s * j->bytes, j->bytes);
            uint64_t v = 0;
            memcpy(&v, msg, j->bytes < 8 ? j->bytes : 8);
            sum += v;
        }
        hv_spsc_release(j->hv, k);
        got += k;
    }
    j->sum = sum;
}

#ifdef HV_HAVE_CK
#define CK_PROD(T)                                                   \
    static void ck_prod_##T(ring_job *j)                             \
    {                                                                \
        struct T m;                                                  \
        memset(&m, 0, sizeof(m));                                    \
        for (uint64_t i = 0; i < j->n; i++) {                        \
            memcpy(m.b, &i, sizeof(m.b) < 8 ? sizeof(m.b) : 8);      \
            while (!ck_ring_enqueue_spsc_##T(&j->ck, j->ck_buf, &m)) \
                relax();                                             \
        }                                                            \
    }                                                                \
    static void ck_cons_##T(ring_job *j)                             \
    {                                                                \
        struct T m;                                                  \
        uint64_t sum = 0;                                            \
        for (uint64_t i = 0; i < j->n; i++) {                        \
            while (!ck_ring_dequeue_spsc_##T(&j->ck, j->ck_buf, &m)) \
                relax();                                             \
            uint64_t v = 0;                                          \
            memcpy(&v, m.b, sizeof(m.b) < 8 ? sizeof(m.b) : 8);      \
            sum += v;                                                \
        }                                                            \
        j->sum = sum;                                                \
    }
CK_PROD(m8)
CK_PROD(m64)
CK_PROD(m256)

static void ck_prod(void *x)
{
    ring_job *j = x;
    if (j->bytes == 8)
        ck_prod_m8(j);
    else if (j->bytes == 64)
        ck_prod_m64(j);
    else
        ck_prod_m256(j);
}

static void ck_cons(void *x)
{
    ring_job *j = x;
    if (j->bytes == 8)
        ck_cons_m8(j);
    else if (j->bytes == 64)
        ck_cons_m64(j);
    else
        ck_cons_m256(j);
}

#endif

#ifdef HV_HAVE_ZMQ
/* The same work as hv_ring_prod/hv_ring_cons one value at a time: the sequence number is
 * written into an n-byte value, zmq_send copies it in, zmq_recv copies it out, the consumer
 * sums the sequence numbers. */
static void zmq_ring_prod(void *x)
{
    ring_job *j = x;
    uint8_t msg[256] = { 0 };
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(msg, &i, sizeof(i));
        if (zmq_send(j->z.tx, msg, j->bytes, 0) != (int)j->bytes)
            hv__bb_fail("zmq_send");
    }
}

static void zmq_ring_cons(void *x)
{
    ring_job *j = x;
    uint8_t msg[256];
    uint64_t sum = 0;
    for (uint64_t i = 0; i < j->n; i++) {
        if (zmq_recv(j->z.rx, msg, j->bytes, 0) != (int)j->bytes)
            hv__bb_fail("zmq_recv");
        uint64_t v = 0;
        memcpy(&v, msg, j->bytes < 8 ? j->bytes : 8);
        sum += v;
    }
    j->sum = sum;
}

#endif

/* One workload: the value size and count, and the line round trip taken before each sample. */
typedef struct spsc_ctx {
    uint32_t bytes;
    uint64_t n;
    uint64_t rtt_rounds;
    double *rtt; /* per sample */
} spsc_ctx;

/* Checks the consumer's sum and turns a round's seconds into msg/s. The full sequence number
 * travels even in 8-byte values, so the sum is exact for every size. */
static double rate(const ring_job *j, double secs)
{
    return hv__bb_rate(j->n, j->sum, secs, "ring");
}

/* variant 1: batches of BATCH, else one slot at a time. */
static double hv_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)s;
    const spsc_ctx *c = x;
    ring_job j = { .bytes = c->bytes, .n = c->n, .batch = impl->variant };
    if (hv_spsc_new(RING_CAP, j.bytes, &j.hv) != 0)
        hv__bb_fail("hv_spsc_new");
    double secs = hv__bb_run_pair(hv_ring_prod, hv_ring_cons, &j);
    hv_spsc_free(j.hv);
    return rate(&j, secs);
}

#ifdef HV_HAVE_CK
static double ck_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    const spsc_ctx *c = x;
    ring_job j = { .bytes = c->bytes, .n = c->n };
    j.ck_buf = aligned_alloc(64, (size_t)RING_CAP * j.bytes);
    ck_ring_init(&j.ck, RING_CAP);
    double secs = hv__bb_run_pair(ck_prod, ck_cons, &j);
    free(j.ck_buf);
    return rate(&j, secs);
}
#endif

#ifdef HV_HAVE_ZMQ
static double zmq_sample(const hv_bench_impl *impl, void *x, unsigned s)
{
    (void)impl;
    (void)s;
    const spsc_ctx *c = x;
    ring_job j = { .bytes = c->bytes, .n = c->n };
    hv__bb_zmq_open(&j.z, 0);
    double secs = hv__bb_run_pair(zmq_ring_prod, zmq_ring_cons, &j);
    hv__bb_zmq_close(&j.z);
    return rate(&j, secs);
}
#endif

static const hv_bench_impl impls[] = {
    { "hivewire_batch", hv_sample, 1,
      "hv_spsc_reserve/commit and peek/release of up to " BATCH_S " slots" },
    { "hivewire_single", hv_sample, 0,
      "hv_spsc_reserve/commit and peek/release of 1 slot per message" },
#ifdef HV_HAVE_CK
    { "ck_ring", ck_sample, 0, "ck_ring_enqueue_spsc/dequeue_spsc typed ring, 1 value per call" },
#endif
#ifdef HV_HAVE_ZMQ
    { "zeromq_inproc", zmq_sample, 0,
      "ZeroMQ inproc PUSH/PULL, one zmq_send and one zmq_recv per message" },
#endif
};

/* The machine's state: one cache line bounced between the two pinned threads. A VM's two
 * vCPUs can sit on one core complex or on two, and move between the two placements while the
 * benchmark runs; every cross-thread figure follows this round trip, so each sample records it. */
typedef struct pingpong {
    _Alignas(128) uint64_t line;
    uint64_t rounds;
    uint64_t rtt_ns;
} pingpong;

static void pp_ping(void *x)
{
    pingpong *pp = x;
    uint64_t t0 = hv_now_ns();
    for (uint64_t i = 0; i < pp->rounds; i++) {
        __atomic_store_n(&pp->line, 2 * i + 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&pp->line, __ATOMIC_ACQUIRE) != 2 * i + 2)
            relax();
    }
    pp->rtt_ns = (hv_now_ns() - t0) / pp->rounds;
}

static void pp_pong(void *x)
{
    pingpong *pp = x;
    for (uint64_t i = 0; i < pp->rounds; i++) {
        while (__atomic_load_n(&pp->line, __ATOMIC_ACQUIRE) != 2 * i + 1)
            relax();
        __atomic_store_n(&pp->line, 2 * i + 2, __ATOMIC_RELEASE);
    }
}

/* Before each sample: the mean round trip of one cache line between CPU 0 and CPU 1, in ns. */
static void line_rtt(void *x, unsigned s)
{
    spsc_ctx *c = x;
    pingpong *pp = aligned_alloc(128, sizeof(*pp));
    if (pp == NULL)
        hv__bb_fail("out of memory");
    memset(pp, 0, sizeof(*pp));
    pp->rounds = c->rtt_rounds;
    hv__bb_run_pair(pp_ping, pp_pong, pp);
    c->rtt[s] = (double)pp->rtt_ns;
    free(pp);
}

static void params(const hv_bench_impl *impl, void *x, char *buf, size_t cap)
{
    const spsc_ctx *c = x;
    snprintf(buf, cap,
             "{\"msg_bytes\": %u, \"batch\": %d, \"capacity\": %s, \"msgs\": %llu, "
             "\"threads\": 2, \"pinned\": %s, \"path\": \"%s\"}",
             c->bytes, impl->variant ? BATCH : 1,
             strcmp(impl->name, "zeromq_inproc") == 0 ? "\"HWM 1000 send + 1000 recv\""
                                                      : RING_CAP_S,
             (unsigned long long)c->n, hv__bb_pinned ? "true" : "false", impl->path);
}

static void one_size(hv_bench_report *r, const hv_bench_opts *o, uint32_t bytes)
{
    char name[32];
    snprintf(name, sizeof(name), "spsc_%uB", bytes);
    if (!hv_bench_selected(o, name))
        return;
    unsigned ns = hv_bench_samples(o, 7);
    uint64_t n = o->quick ? 50000 : 4000000;
    spsc_ctx c = { .bytes = bytes, .n = n / 10, .rtt_rounds = o->quick ? 1000 : 20000 };
    c.rtt = calloc(ns, sizeof(double));
    if (c.rtt == NULL)
        hv__bb_fail("out of memory");
    impls[0].sample(&impls[0], &c, 0); /* warm-up */
    c.n = n;
    hv_bench_plan p = { .impls = impls,
                        .nimpl = sizeof(impls) / sizeof(impls[0]),
                        .samples = ns,
                        .ctx = &c,
                        .before = line_rtt };
    double *v = hv_bench_interleave_new(&p);
    if (v == NULL)
        hv__bb_fail("out of memory");
    char rname[48];
    snprintf(rname, sizeof(rname), "line_rtt_%s", name);
    hv_bench_add(r, rname, "machine", "ns", c.rtt, ns,
                 "{\"what\": \"one cache line bounced between CPU 0 and CPU 1 before each "
                 "sample\", \"threads\": 2}");
    hv_bench_add_plan(r, name, "msg/s", &p, v, NULL, params);
    char pairs[512];
    size_t len = 0;
    for (unsigned s = 0; s < ns && len + 32 < sizeof(pairs); s++)
        len += (size_t)snprintf(pairs + len, sizeof(pairs) - len, "%s%.0f ns %.3g", s ? ", " : "",
                                c.rtt[s], v[s]);
    hv_bench_note(r, "%s per sample, line round trip then hivewire_batch msg/s: %s", name, pairs);
    hv_bench_ratio(r, name, "hivewire_batch", "ck_ring");
    hv_bench_ratio(r, name, "hivewire_single", "ck_ring");
    hv_bench_ratio(r, name, "hivewire_batch", "zeromq_inproc");
    hv_bench_ratio(r, name, "hivewire_single", "zeromq_inproc");
    free(v);
    free(c.rtt);
}

void hv__bb_spsc(hv_bench_report *r, const hv_bench_opts *o)
{
    static const uint32_t sizes[] = { 8, 64, 256 };
    for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++)
        one_size(r, o, sizes[z]);
}

/*
 * hivewire bench bus: the bus and its rings against ck_ring and ZeroMQ inproc, on the same
 * workloads, in the same run, interleaved (hivewire, then each peer, per sample).
 *
 * - spsc_<n>B: two threads, one ring, n-byte values copied in and out. hivewire's SPSC ring
 *   with batches of 32 and one value at a time (reserve/commit of 1), against ck_ring's SPSC
 *   typed ring (one value at a time: ck has no batch API).
 * - bus_send_64B: two agents on two threads: hv_bus_send + hv_agent_recv (pooled messages,
 *   inbox lanes, counters, latency histogram, backpressure "block") against ZeroMQ inproc
 *   PUSH/PULL.
 * - bus_publish_64B: the same through subject routing (publish "md.AAPL.quote", one subscriber
 *   on "md.*.quote") against ZeroMQ inproc PUB/SUB with a prefix subscription.
 * - paced_latency_64B: one-way latency at a fixed send rate, measured from each message's
 *   intended send time (no coordinated omission); consumers busy-poll.
 * - fanout_100: 1 publisher thread -> 100 agents subscribed by wildcard, drained by a second
 *   thread; deliveries per second. ZeroMQ: PUB -> 100 SUB sockets.
 * - all_to_all_100: 100 agents on 2 threads (50 each); every agent sends to every other agent.
 *   ZeroMQ: 100 PULL sockets, one PUSH per (thread, destination).
 * - topic_match_*: ns per match, 10,000 five-token subscriptions: the trie (uncached), the
 *   publisher's match cache (hit), and a brute-force scan of every pattern.
 * - memory_100_agents: resident bytes for a bus with 100 agents and their inboxes (a forked
 *   child measures its RSS growth); ZeroMQ: context + 100 SUB + 1 PUB.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hivewire/bus.h>
#include <hivewire/hist.h>
#include <hivewire/ring.h>
#include <hivewire/rng.h>

#include "bench.h"
#include "bus/topics.h"

#ifdef HV_HAVE_CK
#include <ck_ring.h>
#endif
#ifdef HV_HAVE_ZMQ
#include <zmq.h>
#endif

#define BATCH      32
#define BATCH_S    "32"
#define RING_CAP   1024
#define RING_CAP_S "1024"
#define NAGENTS    100

int hv_bench_bus(const hv_bench_opts *opts);

/* ---------------------------------------------------------------------------------------- */
/* Two pinned threads                                                                       */

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

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

static int g_pinned; /* 1 if both threads could be pinned to different CPUs */

static int pin_self(int cpu)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

typedef struct pair {
    void (*fn[2])(void *arg);
    void *arg;
    pthread_barrier_t start;
    int pinned[2];
    uint64_t t0, t1;
} pair;

typedef struct pair_thread {
    pair *p;
    int side; /* 0 producer (CPU 0), 1 consumer (CPU 1) */
} pair_thread;

static void *pair_main(void *x)
{
    pair_thread *pt = x;
    pair *p = pt->p;
    p->pinned[pt->side] = pin_self(pt->side);
    pthread_barrier_wait(&p->start);
    if (pt->side == 0)
        p->t0 = hv_now_ns();
    p->fn[pt->side](p->arg);
    if (pt->side == 1)
        p->t1 = hv_now_ns();
    return NULL;
}

/* Runs producer on CPU 0 and consumer on CPU 1; returns seconds from the producer's start to
 * the consumer's end. */
static double run_pair(void (*producer)(void *), void (*consumer)(void *), void *arg)
{
    pair p = { .fn = { producer, consumer }, .arg = arg };
    pthread_barrier_init(&p.start, NULL, 2);
    pair_thread pt[2] = { { &p, 0 }, { &p, 1 } };
    pthread_t t[2];
    pthread_create(&t[1], NULL, pair_main, &pt[1]);
    pthread_create(&t[0], NULL, pair_main, &pt[0]);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    pthread_barrier_destroy(&p.start);
    g_pinned = p.pinned[0] && p.pinned[1];
    return (double)(p.t1 - p.t0) / 1e9;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench bus: %s\n", what);
    exit(1);
}

/* ---------------------------------------------------------------------------------------- */
/* SPSC throughput                                                                          */

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
    void *ctx, *tx, *rx;
#endif
} ring_job;

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
struct m8 {
    uint8_t b[8];
};
struct m64 {
    uint8_t b[64];
};
struct m256 {
    uint8_t b[256];
};
CK_RING_PROTOTYPE(m8, m8)
CK_RING_PROTOTYPE(m64, m64)
CK_RING_PROTOTYPE(m256, m256)

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
static void zmq_ring_setup(ring_job *j);
static void zmq_ring_teardown(ring_job *j);

/* The same work as hv_ring_prod/hv_ring_cons one value at a time: the sequence number is
 * written into an n-byte value, zmq_send copies it in, zmq_recv copies it out, the consumer
 * sums the sequence numbers. */
static void zmq_ring_prod(void *x)
{
    ring_job *j = x;
    uint8_t msg[256] = { 0 };
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(msg, &i, sizeof(i));
        if (zmq_send(j->tx, msg, j->bytes, 0) != (int)j->bytes)
            fail("zmq_send");
    }
}

static void zmq_ring_cons(void *x)
{
    ring_job *j = x;
    uint8_t msg[256];
    uint64_t sum = 0;
    for (uint64_t i = 0; i < j->n; i++) {
        if (zmq_recv(j->rx, msg, j->bytes, 0) != (int)j->bytes)
            fail("zmq_recv");
        uint64_t v = 0;
        memcpy(&v, msg, j->bytes < 8 ? j->bytes : 8);
        sum += v;
    }
    j->sum = sum;
}
#endif

static double ring_round(const char *impl, uint32_t bytes, uint64_t n)
{
    ring_job j = { .bytes = bytes, .n = n };
    double secs = 0;
    if (strncmp(impl, "hivewire", 8) == 0) {
        j.batch = strcmp(impl, "hivewire_batch") == 0;
        if (hv_spsc_new(&j.hv, RING_CAP, bytes) != 0)
            fail("hv_spsc_new");
        secs = run_pair(hv_ring_prod, hv_ring_cons, &j);
        hv_spsc_free(j.hv);
    }
#ifdef HV_HAVE_CK
    else if (strcmp(impl, "ck_ring") == 0) {
        j.ck_buf = aligned_alloc(64, (size_t)RING_CAP * bytes);
        ck_ring_init(&j.ck, RING_CAP);
        secs = run_pair(ck_prod, ck_cons, &j);
        free(j.ck_buf);
    }
#endif
#ifdef HV_HAVE_ZMQ
    else if (strcmp(impl, "zeromq_inproc") == 0) {
        zmq_ring_setup(&j);
        secs = run_pair(zmq_ring_prod, zmq_ring_cons, &j);
        zmq_ring_teardown(&j);
    }
#endif
    /* sequence numbers are truncated to the value width for 8-byte values: full sum still */
    if (j.sum != n * (n - 1) / 2)
        fail("ring lost or duplicated values");
    return (double)n / secs;
}

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

/* Mean round trip of one cache line between CPU 0 and CPU 1, in ns. */
static double line_rtt_ns(uint64_t rounds)
{
    pingpong *pp = aligned_alloc(128, sizeof(*pp));
    if (pp == NULL)
        fail("out of memory");
    memset(pp, 0, sizeof(*pp));
    pp->rounds = rounds;
    run_pair(pp_ping, pp_pong, pp);
    double ns = (double)pp->rtt_ns;
    free(pp);
    return ns;
}

static const char *ring_path(const char *impl)
{
    if (strcmp(impl, "hivewire_batch") == 0)
        return "hv_spsc_reserve/commit and peek/release of up to " BATCH_S " slots";
    if (strcmp(impl, "hivewire_single") == 0)
        return "hv_spsc_reserve/commit and peek/release of 1 slot per message";
    if (strcmp(impl, "ck_ring") == 0)
        return "ck_ring_enqueue_spsc/dequeue_spsc typed ring, 1 value per call";
    return "ZeroMQ inproc PUSH/PULL, one zmq_send and one zmq_recv per message";
}

static void bench_spsc(hv_bench_report *r, const hv_bench_opts *o)
{
    static const uint32_t sizes[] = { 8, 64, 256 };
    const char *impls[] = {
        "hivewire_batch",
        "hivewire_single",
#ifdef HV_HAVE_CK
        "ck_ring",
#endif
#ifdef HV_HAVE_ZMQ
        "zeromq_inproc",
#endif
    };
    size_t nimpl = sizeof(impls) / sizeof(impls[0]);
    unsigned ns = hv_bench_samples(o, 7);
    uint64_t n = o->quick ? 50000 : 4000000;
    for (size_t z = 0; z < 3; z++) {
        char name[32];
        snprintf(name, sizeof(name), "spsc_%uB", sizes[z]);
        if (!hv_bench_selected(o, name))
            continue;
        double *v = calloc((nimpl + 1) * ns, sizeof(double));
        if (v == NULL)
            fail("out of memory");
        double *rtt = v + nimpl * ns;
        ring_round(impls[0], sizes[z], n / 10); /* warm-up */
        for (unsigned s = 0; s < ns; s++) {
            rtt[s] = line_rtt_ns(o->quick ? 1000 : 20000);
            for (size_t i = 0; i < nimpl; i++)
                v[i * ns + s] = ring_round(impls[i], sizes[z], n);
        }
        char rname[48];
        snprintf(rname, sizeof(rname), "line_rtt_%s", name);
        hv_bench_add(r, rname, "machine", "ns", rtt, ns,
                     "{\"what\": \"one cache line bounced between CPU 0 and CPU 1 before each "
                     "sample\", \"threads\": 2}");
        for (size_t i = 0; i < nimpl; i++) {
            char params[320];
            snprintf(params, sizeof(params),
                     "{\"msg_bytes\": %u, \"batch\": %d, \"capacity\": %s, \"msgs\": %llu, "
                     "\"threads\": 2, \"pinned\": %s, \"path\": \"%s\"}",
                     sizes[z], i == 0 ? BATCH : 1,
                     strcmp(impls[i], "zeromq_inproc") == 0 ? "\"HWM 1000 send + 1000 recv\""
                                                            : RING_CAP_S,
                     (unsigned long long)n, g_pinned ? "true" : "false", ring_path(impls[i]));
            hv_bench_add(r, name, impls[i], "msg/s", v + i * ns, ns, params);
        }
        char pairs[512];
        size_t len = 0;
        for (unsigned s = 0; s < ns && len + 32 < sizeof(pairs); s++)
            len += (size_t)snprintf(pairs + len, sizeof(pairs) - len, "%s%.0f ns %.3g",
                                    s ? ", " : "", rtt[s], v[s]);
        hv_bench_note(r, "%s per sample, line round trip then hivewire_batch msg/s: %s", name,
                      pairs);
        hv_bench_ratio(r, name, "hivewire_batch", "ck_ring");
        hv_bench_ratio(r, name, "hivewire_single", "ck_ring");
        hv_bench_ratio(r, name, "hivewire_batch", "zeromq_inproc");
        hv_bench_ratio(r, name, "hivewire_single", "zeromq_inproc");
        free(v);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Bus point-to-point vs ZeroMQ                                                             */

typedef struct bus_job {
    hv_bus *bus;
    hv_agent *src, *dst;
    uint64_t n;
    int publish;
    int batch; /* hv_bus_send_n with BATCH messages and one clock read per call */
    uint64_t sum;
#ifdef HV_HAVE_ZMQ
    void *ctx, *tx, *rx;
#endif
} bus_job;

static hv_bus *new_bus(void)
{
    hv_bus *b;
    if (hv_bus_new(&b, NULL) != 0)
        fail("hv_bus_new");
    return b;
}

static hv_agent *new_agent(hv_bus *b, int wait, int bp)
{
    hv_agent_opts o;
    hv_agent_opts_default(&o);
    o.wait = wait;
    o.backpressure = bp;
    o.block_timeout_ns = 5ull * 1000 * 1000 * 1000;
    hv_agent *a;
    if (hv_agent_new(b, &o, &a) != 0)
        fail("hv_agent_new");
    return a;
}

static void bus_prod_batch(bus_job *j)
{
    uint8_t payload[BATCH][64];
    hv_send m[BATCH];
    memset(payload, 0, sizeof(payload));
    for (int k = 0; k < BATCH; k++)
        m[k] = (hv_send){ .data = payload[k], .len = 64 };
    uint32_t to = hv_agent_id(j->dst);
    for (uint64_t i = 0; i < j->n;) {
        uint32_t k = j->n - i < BATCH ? (uint32_t)(j->n - i) : BATCH;
        for (uint32_t s = 0; s < k; s++) {
            uint64_t seq = i + s;
            memcpy(payload[s], &seq, sizeof(seq));
        }
        int rc = hv_bus_send_n(j->src, to, m, k, hv_now_ns());
        if (rc == HV_EAGAIN)
            continue; /* pool empty: the consumer is behind */
        if (rc <= 0)
            fail("bus send_n failed");
        i += (uint64_t)rc; /* a short batch resends the rest with fresh sequence numbers */
    }
}

static void bus_prod(void *x)
{
    bus_job *j = x;
    if (j->batch) {
        bus_prod_batch(j);
        return;
    }
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    uint32_t to = hv_agent_id(j->dst);
    uint64_t now = 0;
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload, &i, sizeof(i));
        if (i % BATCH == 0) /* a throughput loop: one clock read per BATCH messages */
            now = hv_now_ns();
        int rc;
        do {
            rc = j->publish ? hv_bus_publish(j->src, &m, now, NULL) - 1
                            : hv_bus_send(j->src, to, &m, now);
        } while (rc == HV_EAGAIN); /* pool empty: the consumer is behind */
        if (rc != 0)
            fail("bus send failed");
    }
}

static void bus_cons(void *x)
{
    bus_job *j = x;
    uint64_t got = 0, sum = 0;
    hv_bus_msg *m[BATCH];
    while (got < j->n) {
        int k = hv_agent_recv(j->dst, m, BATCH, hv_now_ns());
        if (k == 0) {
            hv_agent_wait(j->dst, 1000000000);
            continue;
        }
        for (int i = 0; i < k; i++) {
            uint64_t v;
            memcpy(&v, m[i]->data, sizeof(v));
            sum += v;
        }
        hv_bus_msg_release_n(m, (size_t)k);
        got += (uint64_t)k;
    }
    j->sum = sum;
}

#ifdef HV_HAVE_ZMQ
static void zmq_prod(void *x)
{
    bus_job *j = x;
    uint8_t payload[64] = { 0 };
    size_t off = j->publish ? 14 : 0;
    if (j->publish)
        memcpy(payload, "md.AAPL.quote ", 14);
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload + off, &i, sizeof(i));
        if (zmq_send(j->tx, payload, sizeof(payload), 0) != (int)sizeof(payload))
            fail("zmq_send");
    }
}

static void zmq_cons(void *x)
{
    bus_job *j = x;
    uint8_t buf[64];
    uint64_t sum = 0;
    size_t off = j->publish ? 14 : 0;
    for (uint64_t i = 0; i < j->n; i++) {
        if (zmq_recv(j->rx, buf, sizeof(buf), 0) != (int)sizeof(buf))
            fail("zmq_recv");
        uint64_t v;
        memcpy(&v, buf + off, sizeof(v));
        sum += v;
    }
    j->sum = sum;
}

static void zmq_pair(bus_job *j, int publish)
{
    static int seq;
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://bench-%d", seq++);
    int zero = 0;
    j->ctx = zmq_ctx_new();
    j->rx = zmq_socket(j->ctx, publish ? ZMQ_SUB : ZMQ_PULL);
    j->tx = zmq_socket(j->ctx, publish ? ZMQ_PUB : ZMQ_PUSH);
    if (publish) {
        /* unbounded queues: PUB would otherwise drop at the high-water mark */
        zmq_setsockopt(j->rx, ZMQ_RCVHWM, &zero, sizeof(zero));
        zmq_setsockopt(j->tx, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(j->rx, ZMQ_SUBSCRIBE, "md.", 3);
    }
    int timeout_ms = 30000; /* a lost message fails the run instead of hanging it */
    zmq_setsockopt(j->rx, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
    if (zmq_bind(j->rx, ep) != 0 || zmq_connect(j->tx, ep) != 0)
        fail("zmq bind/connect");
    if (!publish)
        return;
    /* PUB/SUB subscriptions travel asynchronously: probe until the SUB receives */
    uint8_t probe[64] = "md.probe";
    uint64_t deadline = hv_now_ns() + 5000000000ull;
    for (;;) {
        zmq_send(j->tx, probe, sizeof(probe), 0);
        uint8_t buf[64];
        if (zmq_recv(j->rx, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
            break;
        if (hv_now_ns() > deadline)
            fail("zmq subscription never arrived");
        sched_yield();
    }
    uint8_t buf[64];
    while (zmq_recv(j->rx, buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
    }
}

static void zmq_close_all(bus_job *j)
{
    zmq_close(j->tx);
    zmq_close(j->rx);
    zmq_ctx_term(j->ctx);
}

/* spsc_<n>B's ZeroMQ peer: the same PUSH/PULL pair as bus_send_64B. */
static void zmq_ring_setup(ring_job *j)
{
    bus_job z = { 0 };
    zmq_pair(&z, 0);
    j->ctx = z.ctx;
    j->tx = z.tx;
    j->rx = z.rx;
}

static void zmq_ring_teardown(ring_job *j)
{
    bus_job z = { .ctx = j->ctx, .tx = j->tx, .rx = j->rx };
    zmq_close_all(&z);
}
#endif

static double bus_round(const char *impl, int publish, uint64_t n)
{
    bus_job j = { .n = n, .publish = publish, .batch = strcmp(impl, "hivewire_batch") == 0 };
    double secs = 0;
    if (strncmp(impl, "hivewire", 8) == 0) {
        j.bus = new_bus();
        j.src = new_agent(j.bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
        j.dst = new_agent(j.bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
        if (publish) {
            hv_sub_opts so;
            hv_sub_opts_default(&so);
            so.backpressure = HV_BP_BLOCK;
            so.block_timeout_ns = 5ull * 1000 * 1000 * 1000;
            hv_agent_subscribe(j.dst, "md.*.quote", &so, NULL);
        }
        secs = run_pair(bus_prod, bus_cons, &j);
        hv_agent_stats s;
        hv_agent_stats_get(j.dst, &s);
        if (s.dropped_oldest + s.rejected != 0)
            fail("bus dropped messages in a throughput run");
        hv_bus_free(j.bus);
    }
#ifdef HV_HAVE_ZMQ
    else {
        zmq_pair(&j, publish);
        secs = run_pair(zmq_prod, zmq_cons, &j);
        zmq_close_all(&j);
    }
#endif
    if (j.sum != n * (n - 1) / 2)
        fail("bus/zmq lost or duplicated messages");
    return (double)n / secs;
}

static const char *p2p_path(const char *impl, int publish)
{
    if (strcmp(impl, "hivewire_batch") == 0)
        return "hv_bus_send_n of 32 messages (one clock read per call), block policy";
    if (strcmp(impl, "hivewire") == 0)
        return publish ? "hv_bus_publish per message (one clock read per 32 messages), "
                         "wildcard subscriber, block policy"
                       : "hv_bus_send per message (one clock read per 32 messages), block policy";
    return publish ? "PUB/SUB prefix, HWM unbounded, one zmq_send per message"
                   : "PUSH/PULL, one zmq_send per message";
}

static void bench_bus_p2p(hv_bench_report *r, const hv_bench_opts *o)
{
    unsigned ns = hv_bench_samples(o, 7);
    uint64_t n = o->quick ? 50000 : 1000000;
    for (int publish = 0; publish <= 1; publish++) {
        const char *name = publish ? "bus_publish_64B" : "bus_send_64B";
        if (!hv_bench_selected(o, name))
            continue;
        const char *impls[3];
        size_t nimpl = 0;
        impls[nimpl++] = "hivewire";
        if (!publish) /* the batch call exists for direct sends */
            impls[nimpl++] = "hivewire_batch";
#ifdef HV_HAVE_ZMQ
        impls[nimpl++] = "zeromq_inproc";
#endif
        double *v = calloc(nimpl * ns, sizeof(double));
        uint64_t a0 = hv_bench_allocs();
        bus_round("hivewire", publish, n / 10);
        uint64_t a1 = hv_bench_allocs();
        for (unsigned s = 0; s < ns; s++)
            for (size_t i = 0; i < nimpl; i++)
                v[i * ns + s] = bus_round(impls[i], publish, n);
        for (size_t i = 0; i < nimpl; i++) {
            char params[320];
            snprintf(params, sizeof(params),
                     "{\"msg_bytes\": 64, \"msgs\": %llu, \"threads\": 2, \"pinned\": %s, "
                     "\"recv_batch\": %d, \"path\": \"%s\"}",
                     (unsigned long long)n, g_pinned ? "true" : "false", BATCH,
                     p2p_path(impls[i], publish));
            hv_bench_add(r, name, impls[i], "msg/s", v + i * ns, ns, params);
        }
        hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
        if (!publish)
            hv_bench_ratio(r, name, "hivewire_batch", "zeromq_inproc");
        if (a0 != UINT64_MAX)
            hv_bench_note(r,
                          "%s: %llu heap allocations for a whole warm-up run of %llu messages "
                          "(bus + agents setup included; 0 per message on the hot path)",
                          name, (unsigned long long)(a1 - a0), (unsigned long long)(n / 10));
        free(v);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Paced latency                                                                            */

typedef struct paced_job {
    const char *impl;
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
    void *ctx, *tx, *rx;
#endif
} paced_job;

static void paced_send_one(paced_job *j, const uint8_t *msg)
{
    const char *impl = j->impl;
    if (strcmp(impl, "hivewire_spsc") == 0) {
        while (hv_spsc_try_push(j->ring, msg) != 0)
            relax();
    } else if (strncmp(impl, "hivewire_bus", 12) == 0) {
        hv_send m = { .data = msg, .len = 64 };
        while (hv_bus_send(j->src, hv_agent_id(j->dst), &m, hv_now_ns()) != 0)
            relax();
    }
#ifdef HV_HAVE_CK
    else if (strcmp(impl, "ck_ring") == 0) {
        while (!ck_ring_enqueue_spsc_m64(&j->ck, j->ck_buf, (struct m64 *)(uintptr_t)msg))
            relax();
    }
#endif
#ifdef HV_HAVE_ZMQ
    else if (zmq_send(j->tx, msg, 64, 0) != 64) {
        fail("zmq_send");
    }
#endif
}

/* Busy-polls (or, for hivewire_bus_blocking, waits on the eventfd) for one message; returns
 * its intended send time. */
static uint64_t paced_recv_one(paced_job *j)
{
    uint8_t buf[64];
    const char *impl = j->impl;
    if (strcmp(impl, "hivewire_spsc") == 0) {
        while (hv_spsc_try_pop(j->ring, buf) != 0)
            relax();
    } else if (strncmp(impl, "hivewire_bus", 12) == 0) {
        hv_bus_msg *m;
        while (hv_agent_recv(j->dst, &m, 1, hv_now_ns()) != 1)
            hv_agent_wait(j->dst, 1000000000);
        memcpy(buf, m->data, 64);
        hv_bus_msg_release(m);
    }
#ifdef HV_HAVE_CK
    else if (strcmp(impl, "ck_ring") == 0) {
        while (!ck_ring_dequeue_spsc_m64(&j->ck, j->ck_buf, (struct m64 *)buf))
            relax();
    }
#endif
#ifdef HV_HAVE_ZMQ
    else {
        while (zmq_recv(j->rx, buf, sizeof(buf), ZMQ_DONTWAIT) != (int)sizeof(buf))
            relax();
    }
#endif
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

static void paced_round(const char *impl, hv_hist *h, uint64_t n, uint64_t period_ns)
{
    paced_job j = { .impl = impl, .n = n, .period_ns = period_ns, .warm = n / 10, .h = h };
    hv_bus *b = NULL;
    if (strcmp(impl, "hivewire_spsc") == 0) {
        hv_spsc_new(&j.ring, RING_CAP, 64);
    } else if (strncmp(impl, "hivewire_bus", 12) == 0) {
        b = new_bus();
        int blocking = strcmp(impl, "hivewire_bus_blocking") == 0;
        j.src = new_agent(b, HV_WAIT_SPIN, HV_BP_BLOCK);
        j.dst = new_agent(b, blocking ? HV_WAIT_BLOCK : HV_WAIT_SPIN, HV_BP_BLOCK);
    }
#ifdef HV_HAVE_CK
    else if (strcmp(impl, "ck_ring") == 0) {
        j.ck_buf = aligned_alloc(64, RING_CAP * sizeof(struct m64));
        ck_ring_init(&j.ck, RING_CAP);
    }
#endif
#ifdef HV_HAVE_ZMQ
    else {
        bus_job z = { 0 };
        zmq_pair(&z, 0);
        j.ctx = z.ctx;
        j.tx = z.tx;
        j.rx = z.rx;
    }
#endif
    run_pair(paced_prod, paced_cons, &j);
    hv_spsc_free(j.ring);
    if (b != NULL)
        hv_bus_free(b);
#ifdef HV_HAVE_CK
    free(j.ck_buf);
#endif
#ifdef HV_HAVE_ZMQ
    if (j.ctx != NULL) {
        bus_job z = { .ctx = j.ctx, .tx = j.tx, .rx = j.rx };
        zmq_close_all(&z);
    }
#endif
}

static void bench_paced(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "paced_latency_64B";
    if (!hv_bench_selected(o, name))
        return;
    const char *impls[] = {
        "hivewire_spsc", "hivewire_bus", "hivewire_bus_blocking",
#ifdef HV_HAVE_CK
        "ck_ring",
#endif
#ifdef HV_HAVE_ZMQ
        "zeromq_inproc",
#endif
    };
    size_t nimpl = sizeof(impls) / sizeof(impls[0]);
    const uint64_t rate = 100000, period = 1000000000 / rate;
    uint64_t n = o->quick ? 2000 : 50000;
    unsigned rounds = hv_bench_samples(o, 5);
    hv_hist h[8];
    for (size_t i = 0; i < nimpl; i++)
        hv_hist_init(&h[i], 10ull * 1000 * 1000 * 1000, 10);
    for (unsigned s = 0; s < rounds; s++)
        for (size_t i = 0; i < nimpl; i++)
            paced_round(impls[i], &h[i], n, period);
    for (size_t i = 0; i < nimpl; i++) {
        char params[320];
        snprintf(params, sizeof(params),
                 "{\"msg_bytes\": 64, \"rate_msg_s\": %llu, \"msgs_per_round\": %llu, "
                 "\"rounds\": %u, \"warmup_per_round\": %llu, \"threads\": 2, \"pinned\": %s, "
                 "\"consumer\": \"%s\", \"measured_from\": \"intended send time\"}",
                 (unsigned long long)rate, (unsigned long long)n, rounds,
                 (unsigned long long)(n / 10), g_pinned ? "true" : "false",
                 strcmp(impls[i], "hivewire_bus_blocking") == 0 ? "spin 2000 polls, then eventfd"
                                                                : "busy-poll");
        hv_bench_add_hist(r, name, impls[i], "ns", &h[i], params);
        hv_hist_fini(&h[i]);
    }
    hv_bench_ratio(r, name, "hivewire_spsc", "ck_ring");
    hv_bench_ratio(r, name, "hivewire_bus", "zeromq_inproc");
    hv_bench_note(r,
                  "paced_latency_64B: measured from intended send times, so a thread preempted "
                  "by another process shows up as milliseconds for every message queued behind "
                  "it; on a shared machine the upper quantiles and the ratios of this row mostly "
                  "measure the scheduler (compare min and p50, re-run on a quiet machine)");
}

/* ---------------------------------------------------------------------------------------- */
/* Fan-out: 1 publisher -> 100 wildcard subscribers                                         */

typedef struct fan_job {
    uint64_t n;   /* messages published */
    uint64_t got; /* deliveries */
    hv_bus *bus;
    hv_agent *src;
    hv_agent *agents[NAGENTS];
#ifdef HV_HAVE_ZMQ
    void *ctx, *pub, *subs[NAGENTS];
#endif
} fan_job;

static void fan_prod(void *x)
{
    fan_job *j = x;
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload, &i, sizeof(i));
        int rc;
        while ((rc = hv_bus_publish(j->src, &m, hv_now_ns(), NULL)) == HV_EAGAIN)
            sched_yield();
        if (rc != NAGENTS)
            fail("fan-out publish did not reach every agent");
    }
}

static void fan_cons(void *x)
{
    fan_job *j = x;
    hv_bus_msg *m[BATCH];
    uint64_t want = j->n * NAGENTS;
    while (j->got < want) {
        uint64_t before = j->got;
        for (int a = 0; a < NAGENTS; a++) {
            int k = hv_agent_recv(j->agents[a], m, BATCH, hv_now_ns());
            hv_bus_msg_release_n(m, (size_t)k);
            j->got += (uint64_t)k;
        }
        if (j->got == before)
            sched_yield();
    }
}

#ifdef HV_HAVE_ZMQ
static void zfan_prod(void *x)
{
    fan_job *j = x;
    uint8_t payload[64] = { 0 };
    memcpy(payload, "md.AAPL.quote ", 14);
    for (uint64_t i = 0; i < j->n; i++) {
        memcpy(payload + 14, &i, sizeof(i));
        zmq_send(j->pub, payload, sizeof(payload), 0);
    }
}

static void zfan_cons(void *x)
{
    fan_job *j = x;
    uint8_t buf[64];
    uint64_t want = j->n * NAGENTS;
    while (j->got < want) {
        uint64_t before = j->got;
        for (int a = 0; a < NAGENTS; a++) {
            for (int k = 0; k < BATCH; k++) {
                if (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) < 0)
                    break;
                j->got++;
            }
        }
        if (j->got == before)
            sched_yield();
    }
}
#endif

static double fan_round(const char *impl, uint64_t n)
{
    fan_job *j = calloc(1, sizeof(*j));
    j->n = n;
    double secs = 0;
    if (strcmp(impl, "hivewire") == 0) {
        j->bus = new_bus();
        j->src = new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
        hv_sub_opts so;
        hv_sub_opts_default(&so);
        so.backpressure = HV_BP_BLOCK;
        so.block_timeout_ns = 5ull * 1000 * 1000 * 1000;
        for (int a = 0; a < NAGENTS; a++) {
            j->agents[a] = new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_BLOCK);
            hv_agent_subscribe(j->agents[a], "md.>", &so, NULL);
        }
        secs = run_pair(fan_prod, fan_cons, j);
        hv_bus_free(j->bus);
    }
#ifdef HV_HAVE_ZMQ
    else {
        int zero = 0;
        j->ctx = zmq_ctx_new();
        j->pub = zmq_socket(j->ctx, ZMQ_PUB);
        zmq_setsockopt(j->pub, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_bind(j->pub, "inproc://fan");
        for (int a = 0; a < NAGENTS; a++) {
            j->subs[a] = zmq_socket(j->ctx, ZMQ_SUB);
            zmq_setsockopt(j->subs[a], ZMQ_RCVHWM, &zero, sizeof(zero));
            zmq_setsockopt(j->subs[a], ZMQ_SUBSCRIBE, "md.", 3);
            zmq_connect(j->subs[a], "inproc://fan");
        }
        /* PUB/SUB joins are asynchronous: wait until every SUB receives a probe */
        uint8_t probe[64] = "md.probe";
        int ready = 0;
        uint64_t deadline = hv_now_ns() + 5000000000ull;
        while (ready < NAGENTS && hv_now_ns() < deadline) {
            zmq_send(j->pub, probe, sizeof(probe), 0);
            ready = 0;
            for (int a = 0; a < NAGENTS; a++) {
                uint8_t buf[64];
                int got = 0;
                while (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
                    got = 1;
                ready += got;
            }
        }
        for (int a = 0; a < NAGENTS; a++) {
            uint8_t buf[64];
            while (zmq_recv(j->subs[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0) {
            }
        }
        secs = run_pair(zfan_prod, zfan_cons, j);
        for (int a = 0; a < NAGENTS; a++)
            zmq_close(j->subs[a]);
        zmq_close(j->pub);
        zmq_ctx_term(j->ctx);
    }
#endif
    double rate = (double)j->got / secs;
    free(j);
    return rate;
}

static void bench_fanout(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "fanout_100";
    if (!hv_bench_selected(o, name))
        return;
    const char *impls[] = {
        "hivewire",
#ifdef HV_HAVE_ZMQ
        "zeromq_inproc",
#endif
    };
    size_t nimpl = sizeof(impls) / sizeof(impls[0]);
    unsigned ns = hv_bench_samples(o, 5);
    uint64_t n = o->quick ? 300 : 20000;
    double *v = calloc(nimpl * ns, sizeof(double));
    for (unsigned s = 0; s < ns; s++)
        for (size_t i = 0; i < nimpl; i++)
            v[i * ns + s] = fan_round(impls[i], n);
    for (size_t i = 0; i < nimpl; i++) {
        char params[256];
        snprintf(params, sizeof(params),
                 "{\"msg_bytes\": 64, \"published\": %llu, \"subscribers\": %d, "
                 "\"pattern\": \"md.>\", \"threads\": 2, \"pinned\": %s, \"unit_counts\": "
                 "\"deliveries\"}",
                 (unsigned long long)n, NAGENTS, g_pinned ? "true" : "false");
        hv_bench_add(r, name, impls[i], "msg/s", v + i * ns, ns, params);
    }
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
    free(v);
}

/* ---------------------------------------------------------------------------------------- */
/* All-to-all: 100 agents on 2 threads                                                      */

typedef struct a2a_job {
    uint64_t rounds;
    hv_bus *bus;
    hv_agent *agents[NAGENTS];
    uint64_t got[2];
#ifdef HV_HAVE_ZMQ
    void *ctx, *pull[NAGENTS], *push[2][NAGENTS];
#endif
    int zmq;
} a2a_job;

static uint64_t a2a_drain(a2a_job *j, int side)
{
    uint64_t got = 0;
    for (int a = side * (NAGENTS / 2); a < (side + 1) * (NAGENTS / 2); a++) {
#ifdef HV_HAVE_ZMQ
        if (j->zmq) {
            uint8_t buf[64];
            while (zmq_recv(j->pull[a], buf, sizeof(buf), ZMQ_DONTWAIT) >= 0)
                got++;
            continue;
        }
#endif
        hv_bus_msg *m[BATCH];
        int k;
        while ((k = hv_agent_recv(j->agents[a], m, BATCH, hv_now_ns())) > 0) {
            hv_bus_msg_release_n(m, (size_t)k);
            got += (uint64_t)k;
        }
    }
    return got;
}

static int a2a_send(a2a_job *j, int side, int from, int to, const uint8_t *payload)
{
#ifdef HV_HAVE_ZMQ
    if (j->zmq)
        return zmq_send(j->push[side][to], payload, 64, ZMQ_DONTWAIT) == 64 ? 0 : HV_EAGAIN;
#endif
    hv_send m = { .data = payload, .len = 64 };
    return hv_bus_send(j->agents[from], hv_agent_id(j->agents[to]), &m, hv_now_ns());
}

static void a2a_side(a2a_job *j, int side)
{
    uint8_t payload[64] = { 0 };
    uint64_t want = j->rounds * (NAGENTS / 2) * (NAGENTS - 1);
    for (uint64_t r = 0; r < j->rounds; r++) {
        for (int a = side * (NAGENTS / 2); a < (side + 1) * (NAGENTS / 2); a++) {
            for (int b = 0; b < NAGENTS; b++) {
                if (b == a)
                    continue;
                while (a2a_send(j, side, a, b, payload) != 0) {
                    j->got[side] += a2a_drain(j, side); /* full: make progress, retry */
                    sched_yield();
                }
            }
        }
        j->got[side] += a2a_drain(j, side);
    }
    while (j->got[side] < want) {
        uint64_t k = a2a_drain(j, side);
        j->got[side] += k;
        if (k == 0)
            sched_yield();
    }
}

static void a2a_side0(void *x)
{
    a2a_side(x, 0);
}

static void a2a_side1(void *x)
{
    a2a_side(x, 1);
}

static double a2a_round(const char *impl, uint64_t rounds)
{
    a2a_job *j = calloc(1, sizeof(*j));
    j->rounds = rounds;
    j->zmq = strcmp(impl, "hivewire") != 0;
    if (!j->zmq) {
        j->bus = new_bus();
        for (int a = 0; a < NAGENTS; a++)
            j->agents[a] = new_agent(j->bus, HV_WAIT_BLOCK, HV_BP_REJECT_NEW);
    }
#ifdef HV_HAVE_ZMQ
    else {
        j->ctx = zmq_ctx_new();
        for (int a = 0; a < NAGENTS; a++) {
            char ep[32];
            snprintf(ep, sizeof(ep), "inproc://a2a-%d", a);
            j->pull[a] = zmq_socket(j->ctx, ZMQ_PULL);
            zmq_bind(j->pull[a], ep);
            for (int s = 0; s < 2; s++) {
                j->push[s][a] = zmq_socket(j->ctx, ZMQ_PUSH);
                zmq_connect(j->push[s][a], ep);
            }
        }
    }
#endif
    double secs = run_pair(a2a_side0, a2a_side1, j);
    double rate = (double)(j->got[0] + j->got[1]) / secs;
    if (j->got[0] + j->got[1] != rounds * NAGENTS * (NAGENTS - 1))
        fail("all-to-all lost messages");
    if (!j->zmq)
        hv_bus_free(j->bus);
#ifdef HV_HAVE_ZMQ
    else {
        for (int a = 0; a < NAGENTS; a++) {
            zmq_close(j->pull[a]);
            zmq_close(j->push[0][a]);
            zmq_close(j->push[1][a]);
        }
        zmq_ctx_term(j->ctx);
    }
#endif
    free(j);
    return rate;
}

static void bench_a2a(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "all_to_all_100";
    if (!hv_bench_selected(o, name))
        return;
    const char *impls[] = {
        "hivewire",
#ifdef HV_HAVE_ZMQ
        "zeromq_inproc",
#endif
    };
    size_t nimpl = sizeof(impls) / sizeof(impls[0]);
    unsigned ns = hv_bench_samples(o, 5);
    uint64_t rounds = o->quick ? 3 : 100;
    double *v = calloc(nimpl * ns, sizeof(double));
    for (unsigned s = 0; s < ns; s++)
        for (size_t i = 0; i < nimpl; i++)
            v[i * ns + s] = a2a_round(impls[i], rounds);
    for (size_t i = 0; i < nimpl; i++) {
        char params[256];
        snprintf(params, sizeof(params),
                 "{\"msg_bytes\": 64, \"agents\": %d, \"rounds\": %llu, \"threads\": 2, "
                 "\"agents_per_thread\": %d, \"pinned\": %s, \"full_inbox\": \"%s\"}",
                 NAGENTS, (unsigned long long)rounds, NAGENTS / 2, g_pinned ? "true" : "false",
                 i == 0 ? "reject-new, sender drains its own inboxes and retries"
                        : "EAGAIN at HWM, sender drains and retries");
        hv_bench_add(r, name, impls[i], "msg/s", v + i * ns, ns, params);
    }
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
    free(v);
}

/* ---------------------------------------------------------------------------------------- */
/* Topic match cost                                                                         */

#define NSUBS_MATCH 10000
#define NSUBJECTS   1024

static void make_name(hv_rng *rng, char *out, size_t cap, int pattern)
{
    static const char *t0[] = { "md", "risk", "order", "signal" };
    static const char *t3[] = { "bid", "ask", "last", "vol", "oi", "iv", "delta", "gamma" };
    char syms[8], venue[8], k[8];
    snprintf(syms, sizeof(syms), "S%03u", (unsigned)hv_rng_below(rng, 500));
    snprintf(venue, sizeof(venue), "V%u", (unsigned)hv_rng_below(rng, 8));
    snprintf(k, sizeof(k), "k%u", (unsigned)hv_rng_below(rng, 4));
    const char *tok[5] = { t0[hv_rng_below(rng, 4)], syms, venue, t3[hv_rng_below(rng, 8)], k };
    if (pattern) {
        uint64_t w = hv_rng_below(rng, 20);
        if (w < 2)
            tok[1 + hv_rng_below(rng, 4)] = "*";
        else if (w == 2)
            tok[4] = ">";
    }
    snprintf(out, cap, "%s.%s.%s.%s.%s", tok[0], tok[1], tok[2], tok[3], tok[4]);
}

static void bench_match(hv_bench_report *r, const hv_bench_opts *o)
{
    if (!hv_bench_selected(o, "topic_match"))
        return;
    hv_rng rng;
    hv_rng_seed(&rng, o->seed);
    hv_topics *t;
    hv__topics_new(&t);
    static char pats[NSUBS_MATCH][48];
    static char subj[NSUBJECTS][48];
    for (uint32_t i = 0; i < NSUBS_MATCH; i++) {
        make_name(&rng, pats[i], sizeof(pats[i]), 1);
        hv__topics_add(t, pats[i], strlen(pats[i]), i);
    }
    for (uint32_t i = 0; i < NSUBJECTS; i++) {
        /* half the subjects are taken from the patterns so that they match something */
        if (i % 2 == 0 && strchr(pats[i * 7], '*') == NULL && strchr(pats[i * 7], '>') == NULL)
            memcpy(subj[i], pats[i * 7], sizeof(subj[i]));
        else
            make_name(&rng, subj[i], sizeof(subj[i]), 0);
    }
    size_t lens[NSUBJECTS];
    for (uint32_t i = 0; i < NSUBJECTS; i++)
        lens[i] = strlen(subj[i]);
    hv_match_cache cache;
    hv__cache_init(&cache, 2048);
    uint64_t gen = hv__topics_generation(t);
    uint32_t ids[256];
    unsigned ns = hv_bench_samples(o, 9);
    uint32_t iters = o->quick ? 20000 : 1000000;
    uint32_t brute_iters = o->quick ? 4 : 64;
    double *v = calloc(3 * ns, sizeof(double));
    uint64_t matched = 0;
    for (uint32_t i = 0; i < NSUBJECTS; i++) { /* fill the cache (and warm up) */
        int err;
        hv__cache_fill(&cache, t, gen, subj[i], lens[i], hv__subject_hash(subj[i], lens[i]), &err);
    }
    for (unsigned s = 0; s < ns; s++) {
        /* uncached: the trie walk with validation and tokenising */
        uint64_t t0 = hv_now_ns();
        for (uint32_t i = 0; i < iters; i++) {
            uint32_t k = i & (NSUBJECTS - 1);
            matched += (uint64_t)hv__topics_match(t, subj[k], lens[k], ids, 256);
        }
        uint64_t t1 = hv_now_ns();
        v[0 * ns + s] = (double)(t1 - t0) / iters;
        /* cached: hash + lookup of a subject whose result is cached (the publish path) */
        t0 = hv_now_ns();
        for (uint32_t i = 0; i < iters; i++) {
            uint32_t k = i & (NSUBJECTS - 1);
            const hv_match_entry *e =
                hv__cache_lookup(&cache, gen, subj[k], lens[k], hv__subject_hash(subj[k], lens[k]));
            matched += e != NULL ? e->n : 1000000;
        }
        t1 = hv_now_ns();
        v[1 * ns + s] = (double)(t1 - t0) / iters;
        /* brute force: every pattern against the subject */
        t0 = hv_now_ns();
        for (uint32_t i = 0; i < brute_iters; i++) {
            uint32_t k = (i * 37) & (NSUBJECTS - 1);
            for (uint32_t p = 0; p < NSUBS_MATCH; p++)
                matched += (uint64_t)hv_subject_matches(pats[p], subj[k]);
        }
        t1 = hv_now_ns();
        v[2 * ns + s] = (double)(t1 - t0) / brute_iters;
    }
    hv_bench_consume(&matched);
    char params[256];
    snprintf(params, sizeof(params),
             "{\"subscriptions\": %d, \"tokens\": 5, \"distinct_subjects\": %d, "
             "\"wildcard_patterns\": \"~15%%\", \"iters\": %u, \"trie_nodes\": %zu}",
             NSUBS_MATCH, NSUBJECTS, iters, hv__topics_nodes(t));
    hv_bench_add(r, "topic_match_uncached", "hivewire_trie", "ns", v, ns, params);
    hv_bench_add(r, "topic_match_uncached", "brute_force", "ns", v + 2 * ns, ns, params);
    hv_bench_add(r, "topic_match_cached", "hivewire_cache", "ns", v + ns, ns, params);
    hv_bench_add(r, "topic_match_cached", "brute_force", "ns", v + 2 * ns, ns, params);
    hv_bench_ratio(r, "topic_match_uncached", "hivewire_trie", "brute_force");
    hv_bench_ratio(r, "topic_match_cached", "hivewire_cache", "brute_force");
    hv_bench_note(r,
                  "topic_match_cached includes hashing the subject; the cache is direct-mapped "
                  "(2048 entries here, 16 per agent by default) and keyed by subject + generation");
    free(v);
    hv__cache_fini(&cache);
    hv__topics_free(t);
}

/* ---------------------------------------------------------------------------------------- */
/* Resident memory for 100 agents (measured in a forked child)                              */

static uint64_t mem_hivewire(void)
{
    hv_bus *b = new_bus();
    hv_agent *a[NAGENTS];
    for (int i = 0; i < NAGENTS; i++) {
        a[i] = new_agent(b, HV_WAIT_BLOCK, HV_BP_DROP_OLDEST);
        hv_agent_subscribe(a[i], "md.>", NULL, NULL);
    }
    uint8_t payload[64] = { 0 };
    hv_send m = { .subject = "md.AAPL.quote", .data = payload, .len = sizeof(payload) };
    for (int k = 0; k < 10; k++) {
        hv_bus_publish(a[0], &m, 1, NULL);
        for (int i = 0; i < NAGENTS; i++) {
            hv_bus_msg *x[16];
            int n = hv_agent_recv(a[i], x, 16, 2);
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

static double mem_in_child(int zmq)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        uint64_t before = hv_bench_rss_bytes();
        uint64_t after = before;
#ifdef HV_HAVE_ZMQ
        after = zmq ? mem_zmq() : mem_hivewire();
#else
        after = mem_hivewire();
#endif
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
    return rd == sizeof(delta) ? delta : -1;
}

static void bench_memory(hv_bench_report *r, const hv_bench_opts *o)
{
    const char *name = "memory_100_agents";
    if (!hv_bench_selected(o, name))
        return;
    unsigned ns = hv_bench_samples(o, 3);
    int nimpl = 1;
#ifdef HV_HAVE_ZMQ
    nimpl = 2;
#endif
    double *v = calloc((size_t)nimpl * ns, sizeof(double));
    for (unsigned s = 0; s < ns; s++)
        for (int i = 0; i < nimpl; i++)
            v[(size_t)i * ns + s] = mem_in_child(i);
    const char *params = "{\"agents\": 100, \"inbox_capacity_per_lane\": 256, \"lanes\": 5, "
                         "\"msg_pool\": 4096, \"subscription\": \"md.>\", \"measured\": "
                         "\"RSS growth of a forked child after setup and 10 fan-outs\"}";
    hv_bench_add(r, name, "hivewire", "bytes", v, ns, params);
#ifdef HV_HAVE_ZMQ
    hv_bench_add(r, name, "zeromq_inproc", "bytes", v + ns, ns,
                 "{\"agents\": 100, \"sockets\": \"1 PUB + 100 SUB\", \"measured\": \"RSS growth "
                 "of a forked child after setup and 10 fan-outs\"}");
    hv_bench_ratio(r, name, "hivewire", "zeromq_inproc");
#endif
    free(v);
}

int hv_bench_bus(const hv_bench_opts *opts)
{
    hv_bench_report *r = hv_bench_report_new("bus", opts);
    if (r == NULL)
        return 1;
    bench_memory(r, opts);
    bench_spsc(r, opts);
    bench_bus_p2p(r, opts);
    bench_paced(r, opts);
    bench_fanout(r, opts);
    bench_a2a(r, opts);
    bench_match(r, opts);
    hv_bench_note(r, "two-thread workloads pin the producer to CPU 0 and the consumer to CPU 1 "
                     "(params.pinned says whether pinning succeeded)");
#ifndef HV_HAVE_CK
    hv_bench_note(r, "ck_ring peer not built (pkg-config ck not found)");
#endif
#ifndef HV_HAVE_ZMQ
    hv_bench_note(r, "ZeroMQ peer not built (pkg-config libzmq not found)");
#endif
    return hv_bench_report_finish(r);
}

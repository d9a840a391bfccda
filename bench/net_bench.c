/*
 * hivewire-bench net: HVW1 over QUIC (ngtcp2 + GnuTLS, mutual TLS) against the floor of a
 * secure stream (GnuTLS over TCP, the small peer below) and NATS (nats-server started by the
 * bench on free loopback ports, libnats C client), plain and with mutual TLS. Everything runs
 * on loopback in one run; per round every implementation runs the same workload in turn
 * (A B C D A B C D ...), and ratios are taken per round and summarised by their median.
 *
 * Placement: the server side (hivewire hub, GnuTLS echo server) is a thread of this process,
 * the client is the main thread; nats-server is its own process and libnats runs its own
 * threads. Nothing is pinned (the machine is shared). CPU rows add up every thread of this
 * process (getrusage) and, for NATS, the nats-server process (/proc/PID/stat, 10 ms ticks).
 *
 * Workloads:
 * - rr_256B: request/reply with one outstanding, 256 payload bytes each way. hivewire: the
 *   client publishes a frame (48-byte header, topic, 256 data bytes) to the hub, whose on_frame
 *   answers it with hv_net_send; gnutls_tcp: 256 bytes written and echoed by a server thread
 *   (TLS 1.3, the same certificates, TCP_NODELAY); nats, nats_tls: natsConnection_Request to a
 *   responder on a second connection (both send at once: SendAsap), through the server.
 *   Rows: the distribution of every round trip (rr_256B), the per-round median (rr_256B_p50,
 *   for ratios) and CPU per round trip (rr_256B_cpu).
 * - oneway_64B_batched / _unbatched: 64 payload bytes per message over one connection, as fast
 *   as the sender can go, until the receiver has them all. hivewire: hub counts in on_frame;
 *   batched = the default flush policy, unbatched = flush_frames 1 (one write per message).
 *   nats: publish to a subscriber connection (unlimited pending), buffered by libnats
 *   (batched) or SendAsap (unbatched). params carry datagrams (hivewire) or TCP segments
 *   (NATS: the host-wide /proc/net/snmp counter, so other traffic on the host adds to it) per
 *   1,000 messages.
 * - handshake_full / handshake_resumed: hivewire: the link's handshake time (QUIC + TLS 1.3
 *   mutual + the HVW1 handshake, until the session is open); resumed = TLS session ticket and
 *   HVW1 session token after a broken connection. gnutls_tcp: TCP connect + TLS 1.3 mutual
 *   handshake, fresh or with the session ticket. nats(_tls): natsConnection_Connect.
 * - reconnect_after_restart: the server goes away and a new one starts on the same port: time
 *   from the new server's start (hivewire: listening; nats: "Server is ready" in its log) to
 *   the client's link being back (hivewire: session open; nats: the reconnected callback, with
 *   ReconnectWait set to hivewire's first backoff, 50 ms).
 * - flush_sweep_*: the one-way rate, datagrams per 1,000 and the request/reply p50 of hivewire
 *   for a few (flush_frames, flush_delay_us) pairs, to show where the defaults sit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <uv.h>

#include <hivewire/codec.h>
#include <hivewire/hist.h>
#include <hivewire/net.h>

#include "bench.h"
#include "bench/nats_server.h"
#include "cli/cli.h"
#include "net/net_int.h"

#ifdef HV_HAVE_NATS
#include <nats/nats.h>
#endif

#define RR_BYTES      256
#define OW_BYTES      64
#define HUB_ID        1
#define HUB_RATE      20000000u
#define WAIT_NS       (20ull * 1000000000ull)
#define NATS_READY_NS (10ull * 1000000000ull)
#define SUBJECT_RR    "swarm.bench.rr"
#define SUBJECT_OW    "swarm.bench.ow"
#define TLS_PRIORITY                                                                          \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
    "-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"

int hv_bench_net(const hv_bench_opts *opts);

/* ---- Shared set-up ----------------------------------------------------------------------- */

typedef struct env {
    hv_bench_report *r;
    const hv_bench_opts *opts;
    char dir[128];
    char ca[192], hub_crt[192], hub_key[192], cli_crt[192], cli_key[192];
    char ver_quic[96], ver_gnutls[64], ver_nats[96];
    unsigned rounds, rr_ops, ow_msgs, hs_samples, rc_samples;
    int failed;
} env;

static uint64_t now(void)
{
    return hv_now_ns();
}

static double cpu_self_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* CPU time of another process (utime + stime), in us; 0 when unreadable. */
static double cpu_pid_us(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* Host-wide TCP segments sent (/proc/net/snmp OutSegs), or 0. */
static uint64_t tcp_out_segs(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (f == NULL)
        return 0;
    char hdr[1024], val[1024];
    uint64_t segs = 0;
    while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
        if (strncmp(hdr, "Tcp:", 4) != 0)
            continue;
        /* Find the column of OutSegs in the header line, read that column of the values. */
        int col = 0, want = -1;
        for (char *t = strtok(hdr, " \n"); t; t = strtok(NULL, " \n"), col++)
            if (strcmp(t, "OutSegs") == 0)
                want = col;
        col = 0;
        for (char *t = strtok(val, " \n"); t; t = strtok(NULL, " \n"), col++)
            if (col == want)
                segs = strtoull(t, NULL, 10);
        break;
    }
    fclose(f);
    return segs;
}

static double median_of(double *v, size_t n)
{
    double tmp[256];
    if (n > 256)
        n = 256;
    memcpy(tmp, v, n * sizeof(double));
    return hv_bench_quantile(tmp, n, 0.5);
}

static int env_certs(env *e)
{
    snprintf(e->dir, sizeof(e->dir), "/tmp/hv_bench_net_XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return HV_EIO;
    const char *err = NULL;
    /* mkdtemp made the directory; certs init makes its files inside. */
    int rv = hv_net_certs_init(e->dir, &err);
    if (rv == 0)
        rv = hv_net_certs_issue(e->dir, "hub", HV_WIRE_ROLE_COORDINATOR, HUB_ID, &err);
    if (rv == 0)
        rv = hv_net_certs_issue(e->dir, "agent", HV_WIRE_ROLE_PATTERN_MATCHER, (2ull << 32) | 1,
                                &err);
    if (rv < 0) {
        hv_bench_fail(e->r, "certificates in %s: %s (%s)", e->dir, err ? err : "?",
                      hv_strerror(rv));
        return rv;
    }
    snprintf(e->ca, sizeof(e->ca), "%s/ca.pem", e->dir);
    snprintf(e->hub_crt, sizeof(e->hub_crt), "%s/hub.pem", e->dir);
    snprintf(e->hub_key, sizeof(e->hub_key), "%s/hub.key", e->dir);
    snprintf(e->cli_crt, sizeof(e->cli_crt), "%s/agent.pem", e->dir);
    snprintf(e->cli_key, sizeof(e->cli_key), "%s/agent.key", e->dir);
    return 0;
}

static void env_cleanup(env *e)
{
    if (e->dir[0] == 0)
        return;
    static const char *const files[] = { "ca.pem",     "ca.key",     "hub.pem",   "hub.key",
                                         "hub.vote",   "agent.pem",  "agent.key", "agent.vote",
                                         "nats0.conf", "nats1.conf", "nats0.log", "nats1.log" };
    char p[300];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", e->dir, files[i]);
        unlink(p);
    }
    rmdir(e->dir);
}

static size_t make_frame(uint8_t *buf, size_t cap, uint64_t sender, uint64_t seq, const char *topic,
                         const uint8_t *data, size_t len)
{
    hv_msg m = { .type = HV_MSG_PUBLISH };
    m.publish.data = (hv_bytes){ data, (uint32_t)len };
    hv_frame f = { .seq = seq, .sender_id = sender, .topic = hv_str_from(topic) };
    int n = hv_frame_encode(buf, cap, &f, &m, NULL);
    return n > 0 ? (size_t)n : 0;
}

/* ---- hivewire: a hub on its own thread, a client on this one ------------------------------ */

enum { HUB_ECHO, HUB_COUNT };

typedef struct hw {
    env *e;
    hv_net *hub, *cli;
    uint16_t port;
    pthread_t th;
    int running;
    atomic_int stop;
    atomic_int mode;
    atomic_uint_fast64_t received;
    uint64_t target;           /* HUB_COUNT: the count at which the hub snapshots */
    hv_net_stats snap0, snap1; /* hub stats at the first and the target-th frame */
    atomic_int snap_done;      /* release: snap1 is written */
    uint64_t hub_seq;          /* hub thread only */
    uint8_t reply[1024];       /* hub thread only */
    uint64_t replies;          /* client thread only */
    uint64_t seq, me;          /* client sequence and id */
    uint32_t flush_frames, flush_delay_us;
} hw;

static void hub_on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    hw *h = user;
    (void)verdict;
    if (atomic_load_explicit(&h->mode, memory_order_relaxed) == HUB_ECHO) {
        hv_frame fr;
        hv_msg m;
        if (hv_decode(f->frame, f->len, NULL, NULL, 0, &fr, &m) < 0)
            return;
        size_t n = make_frame(h->reply, sizeof(h->reply), HUB_ID, ++h->hub_seq, SUBJECT_RR,
                              m.publish.data.ptr, m.publish.data.len);
        (void)hv_net_send(h->hub, f->peer->id, 1, h->reply, n);
        return;
    }
    uint64_t k = atomic_fetch_add_explicit(&h->received, 1, memory_order_relaxed) + 1;
    if (k == 1)
        hv_net_stats_get(h->hub, &h->snap0);
    if (k == h->target) {
        hv_net_stats_get(h->hub, &h->snap1);
        atomic_store_explicit(&h->snap_done, 1, memory_order_release);
    }
}

static void cli_on_frame(void *user, const hv_net_frame *f, int *verdict)
{
    (void)f;
    (void)verdict;
    hw *h = user;
    h->replies++;
}

static void *hub_main(void *arg)
{
    hw *h = arg;
    while (!atomic_load_explicit(&h->stop, memory_order_acquire))
        hv_net_run(h->hub, 2);
    return NULL;
}

static void hw_opts(const hw *h, hv_net_opts *o, int hub)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->ca_file = h->e->ca;
    o->cert_file = hub ? h->e->hub_crt : h->e->cli_crt;
    o->key_file = hub ? h->e->hub_key : h->e->cli_key;
    o->port = h->port;
    o->flush_frames = h->flush_frames;
    o->flush_delay_us = h->flush_delay_us;
    /* The hub's per-connection rate limit (default 200,000 frames/s) refuses what is above it;
     * the one-way rows measure the link, so the limit is set above what it can carry. */
    o->rate_frames_per_s = HUB_RATE;
    o->rate_burst = HUB_RATE / 10;
    o->on_frame = hub ? hub_on_frame : cli_on_frame;
    o->user = (void *)h;
}

static int hw_hub_start(hw *h)
{
    hv_net_opts o;
    hw_opts(h, &o, 1);
    int rv = hv_net_listen(&o, &h->hub);
    if (rv < 0) {
        hv_bench_fail(h->e->r, "hivewire hub: %s", hv_net_last_error(NULL));
        return rv;
    }
    h->port = hv_net_port(h->hub);
    atomic_store(&h->stop, 0);
    if (pthread_create(&h->th, NULL, hub_main, h) != 0) {
        hv_net_free(h->hub);
        h->hub = NULL;
        return HV_ENOMEM;
    }
    h->running = 1;
    return 0;
}

static void hw_hub_stop(hw *h)
{
    if (!h->running)
        return;
    atomic_store_explicit(&h->stop, 1, memory_order_release);
    pthread_join(h->th, NULL);
    hv_net_free(h->hub);
    h->hub = NULL;
    h->running = 0;
}

/* Runs the client until cond holds; 0, or HV_ETIMEDOUT after WAIT_NS. */
#define HW_WAIT(h, cond)                 \
    ({                                   \
        int rv_ = 0;                     \
        uint64_t t0_ = now();            \
        while (!(cond)) {                \
            if (now() - t0_ > WAIT_NS) { \
                rv_ = HV_ETIMEDOUT;      \
                break;                   \
            }                            \
            hv_net_run((h)->cli, 1);     \
        }                                \
        rv_;                             \
    })

static int hw_connect(hw *h)
{
    hv_net_opts o;
    hw_opts(h, &o, 0);
    int rv = hv_net_connect(&o, &h->cli);
    if (rv < 0) {
        hv_bench_fail(h->e->r, "hivewire client: %s", hv_net_last_error(NULL));
        return rv;
    }
    h->me = hv_net_self(h->cli)->id;
    if (HW_WAIT(h, hv_net_ready(h->cli)) < 0) {
        hv_bench_fail(h->e->r, "hivewire client: no session within 20 s (%s)",
                      hv_net_last_error(h->cli));
        return HV_ETIMEDOUT;
    }
    return 0;
}

static int hw_start(hw *h, env *e, uint32_t flush_frames, uint32_t flush_delay_us)
{
    memset(h, 0, sizeof(*h));
    h->e = e;
    hv_net_opts d = { 0 };
    hv_net_opts_default(&d); /* 0: the default, named in the rows' params */
    h->flush_frames = flush_frames ? flush_frames : d.flush_frames;
    h->flush_delay_us = flush_delay_us ? flush_delay_us : d.flush_delay_us;
    int rv = hw_hub_start(h);
    if (rv == 0)
        rv = hw_connect(h);
    return rv;
}

static void hw_stop(hw *h)
{
    if (h->cli)
        hv_net_free(h->cli);
    h->cli = NULL;
    hw_hub_stop(h);
}

/* One request/reply: 0 and the round trip in ns, or an error. */
static int hw_rr_once(hw *h, const uint8_t *data, uint64_t *rtt)
{
    uint8_t buf[1024];
    uint64_t t0 = now();
    size_t n = make_frame(buf, sizeof(buf), h->me, ++h->seq, SUBJECT_RR, data, RR_BYTES);
    uint64_t want = h->replies + 1;
    int rv = hv_net_publish(h->cli, SUBJECT_RR, 1, buf, n);
    if (rv < 0)
        return rv;
    while (h->replies < want) {
        if (now() - t0 > WAIT_NS)
            return HV_ETIMEDOUT;
        hv_net_run(h->cli, 5);
    }
    *rtt = now() - t0;
    return 0;
}

/* One-way: n messages; *rate msg/s, *dgrams datagrams sent per 1,000, *acks the hub's. */
static int hw_oneway(hw *h, uint32_t n, const uint8_t *data, double *rate, double *dgrams,
                     double *acks, double *cpu_ns)
{
    atomic_store(&h->mode, HUB_COUNT);
    atomic_store(&h->received, 0);
    atomic_store(&h->snap_done, 0);
    h->target = n;
    hv_net_stats c0, c1;
    hv_net_stats_get(h->cli, &c0);
    double cpu0 = cpu_self_us();
    uint64_t t0 = now();
    uint8_t buf[256];
    for (uint32_t i = 0; i < n; i++) {
        size_t len = make_frame(buf, sizeof(buf), h->me, ++h->seq, SUBJECT_OW, data, OW_BYTES);
        int rv;
        while ((rv = hv_net_publish(h->cli, SUBJECT_OW, 3, buf, len)) == HV_EFULL) {
            if (now() - t0 > WAIT_NS)
                return HV_ETIMEDOUT;
            hv_net_run(h->cli, 1);
        }
        if (rv < 0)
            return rv;
    }
    int rv = HW_WAIT(h, atomic_load_explicit(&h->snap_done, memory_order_acquire));
    uint64_t t1 = now();
    double cpu1 = cpu_self_us();
    atomic_store(&h->mode, HUB_ECHO);
    if (rv < 0)
        return rv;
    hv_net_stats_get(h->cli, &c1);
    *rate = (double)n / ((double)(t1 - t0) * 1e-9);
    *dgrams = (double)(c1.datagrams_sent - c0.datagrams_sent) * 1000.0 / n;
    *acks = (double)(h->snap1.datagrams_sent - h->snap0.datagrams_sent) * 1000.0 / n;
    *cpu_ns = (cpu1 - cpu0) * 1e3 / n;
    return 0;
}

/* ---- GnuTLS over TCP: the floor for a secure stream -------------------------------------- */

typedef struct gt {
    env *e;
    int lfd;
    uint16_t port;
    pthread_t th;
    int running;
    gnutls_certificate_credentials_t scred, ccred;
    gnutls_datum_t ticket_key;
    int fd;
    gnutls_session_t s;
    gnutls_datum_t resume;
} gt;

static int tls_io_all(gnutls_session_t s, uint8_t *buf, size_t n, int send)
{
    size_t off = 0;
    while (off < n) {
        ssize_t k = send ? gnutls_record_send(s, buf + off, n - off)
                         : gnutls_record_recv(s, buf + off, n - off);
        if (k == GNUTLS_E_AGAIN || k == GNUTLS_E_INTERRUPTED)
            continue;
        if (k <= 0)
            return -1;
        off += (size_t)k;
    }
    return 0;
}

static int tls_handshake(gnutls_session_t s)
{
    int rv;
    do {
        rv = gnutls_handshake(s);
    } while (rv < 0 && gnutls_error_is_fatal(rv) == 0);
    return rv;
}

static void gt_serve(gt *g, int fd)
{
    gnutls_session_t s;
    if (gnutls_init(&s, GNUTLS_SERVER) < 0)
        return;
    gnutls_priority_set_direct(s, TLS_PRIORITY, NULL);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, g->scred);
    gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(s, NULL, 0);
    gnutls_session_ticket_enable_server(s, &g->ticket_key);
    gnutls_transport_set_int(s, fd);
    if (tls_handshake(s) == 0) {
        uint8_t buf[RR_BYTES];
        while (tls_io_all(s, buf, sizeof(buf), 0) == 0 && tls_io_all(s, buf, sizeof(buf), 1) == 0)
            ;
    }
    gnutls_deinit(s);
}

static void *gt_main(void *arg)
{
    gt *g = arg;
    for (;;) {
        int fd = accept(g->lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL; /* shut down */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        gt_serve(g, fd);
        close(fd);
    }
}

static int gt_creds(gt *g)
{
    env *e = g->e;
    if (gnutls_certificate_allocate_credentials(&g->scred) < 0 ||
        gnutls_certificate_allocate_credentials(&g->ccred) < 0)
        return HV_ENOMEM;
    if (gnutls_certificate_set_x509_trust_file(g->scred, e->ca, GNUTLS_X509_FMT_PEM) <= 0 ||
        gnutls_certificate_set_x509_trust_file(g->ccred, e->ca, GNUTLS_X509_FMT_PEM) <= 0 ||
        gnutls_certificate_set_x509_key_file(g->scred, e->hub_crt, e->hub_key,
                                             GNUTLS_X509_FMT_PEM) < 0 ||
        gnutls_certificate_set_x509_key_file(g->ccred, e->cli_crt, e->cli_key,
                                             GNUTLS_X509_FMT_PEM) < 0 ||
        gnutls_session_ticket_key_generate(&g->ticket_key) < 0)
        return HV_ECRYPTO;
    return 0;
}

static int gt_start(gt *g, env *e)
{
    memset(g, 0, sizeof(*g));
    g->e = e;
    g->fd = -1;
    g->lfd = -1;
    if (gt_creds(g) < 0) {
        hv_bench_fail(e->r, "gnutls_tcp: credentials");
        return HV_ECRYPTO;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof(a);
    g->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g->lfd < 0 || bind(g->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        listen(g->lfd, 16) < 0 || getsockname(g->lfd, (struct sockaddr *)&a, &al) < 0) {
        hv_bench_fail(e->r, "gnutls_tcp: listen: %s", strerror(errno));
        return HV_EIO;
    }
    g->port = ntohs(a.sin_port);
    if (pthread_create(&g->th, NULL, gt_main, g) != 0)
        return HV_ENOMEM;
    g->running = 1;
    return 0;
}

static void gt_disconnect(gt *g)
{
    if (g->s) {
        gnutls_bye(g->s, GNUTLS_SHUT_WR);
        gnutls_deinit(g->s);
        g->s = NULL;
    }
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
}

/* Connects and handshakes (with the saved ticket when resume); *us the time taken. */
static int gt_connect(gt *g, int resume, double *us, int *resumed)
{
    gt_disconnect(g);
    uint64_t t0 = now();
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                             .sin_port = htons(g->port) };
    g->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g->fd < 0 || connect(g->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        return HV_EIO;
    int one = 1;
    setsockopt(g->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (gnutls_init(&g->s, GNUTLS_CLIENT) < 0)
        return HV_ECRYPTO;
    gnutls_priority_set_direct(g->s, TLS_PRIORITY, NULL);
    gnutls_credentials_set(g->s, GNUTLS_CRD_CERTIFICATE, g->ccred);
    gnutls_server_name_set(g->s, GNUTLS_NAME_DNS, "localhost", 9);
    gnutls_session_set_verify_cert(g->s, NULL, 0);
    if (resume && g->resume.data)
        gnutls_session_set_data(g->s, g->resume.data, g->resume.size);
    gnutls_transport_set_int(g->s, g->fd);
    if (tls_handshake(g->s) < 0)
        return HV_EAUTH;
    *us = (double)(now() - t0) / 1e3;
    *resumed = gnutls_session_is_resumed(g->s) != 0;
    return 0;
}

static int gt_rr_once(gt *g, uint8_t *data, uint64_t *rtt)
{
    uint64_t t0 = now();
    if (tls_io_all(g->s, data, RR_BYTES, 1) < 0 || tls_io_all(g->s, data, RR_BYTES, 0) < 0)
        return HV_EIO;
    *rtt = now() - t0;
    return 0;
}

/* After one exchange the client has read the server's session ticket: keep it. */
static void gt_save_ticket(gt *g)
{
    gnutls_datum_t d;
    if (gnutls_session_get_data2(g->s, &d) == 0) {
        gnutls_free(g->resume.data);
        g->resume = d;
    }
}

static void gt_stop(gt *g)
{
    gt_disconnect(g);
    if (g->running) {
        shutdown(g->lfd, SHUT_RDWR);
        pthread_join(g->th, NULL);
        g->running = 0;
    }
    if (g->lfd >= 0)
        close(g->lfd);
    g->lfd = -1;
    if (g->scred)
        gnutls_certificate_free_credentials(g->scred);
    if (g->ccred)
        gnutls_certificate_free_credentials(g->ccred);
    g->scred = g->ccred = NULL;
    gnutls_free(g->ticket_key.data);
    gnutls_free(g->resume.data);
    g->ticket_key.data = g->resume.data = NULL;
}

/* ---- NATS: nats-server (a child process) and libnats ------------------------------------- */

#ifdef HV_HAVE_NATS

typedef struct ns {
    env *e;
    int tls;
    pid_t pid;
    uint16_t port;
    char conf[300], log[300];
    natsConnection *req, *rsp, *pub, *sub;
    natsSubscription *rsp_sub, *ow_sub;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t ow_count, ow_target;
    int reconnected;
    uint64_t reconnected_ns;
    const char *impl;
} ns;

static int write_conf(ns *s)
{
    env *e = s->e;
    FILE *f = fopen(s->conf, "w");
    if (f == NULL)
        return HV_EIO;
    fprintf(f, "listen: 127.0.0.1:%u\nmax_payload: 1048576\nwrite_deadline: \"10s\"\n",
            (unsigned)s->port);
    if (s->tls)
        fprintf(f,
                "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  ca_file: \"%s\"\n"
                "  verify: true\n  timeout: 5\n}\n",
                e->hub_crt, e->hub_key, e->ca);
    return fclose(f) == 0 ? 0 : HV_EIO;
}

/* Starts nats-server on s->port (0: a free one) and waits until it says it is ready. */
static int nats_spawn(ns *s)
{
    if (s->port == 0)
        s->port = hv_bench_free_port(SOCK_STREAM);
    if (s->port == 0 || write_conf(s) < 0)
        return HV_EIO;
    hv_nats_server srv;
    memset(&srv, 0, sizeof(srv));
    snprintf(srv.conf, sizeof(srv.conf), "%s", s->conf);
    snprintf(srv.log, sizeof(srv.log), "%s", s->log);
    int rc = hv_nats_server_spawn(&srv, NATS_READY_NS);
    s->pid = srv.pid;
    return rc;
}

static void nats_kill(ns *s)
{
    hv_nats_server srv = { .pid = s->pid };
    hv_nats_server_kill(&srv);
    s->pid = 0;
}

static void on_reconnected(natsConnection *nc, void *closure)
{
    (void)nc;
    ns *s = closure;
    pthread_mutex_lock(&s->mu);
    s->reconnected++;
    s->reconnected_ns = now();
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static natsStatus nats_dial(ns *s, int asap, natsConnection **out)
{
    env *e = s->e;
    natsOptions *o = NULL;
    char url[64];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%u", s->tls ? "tls" : "nats", (unsigned)s->port);
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = natsOptions_SetURL(o, url);
    if (st == NATS_OK && s->tls) {
        st = natsOptions_SetSecure(o, true);
        if (st == NATS_OK)
            st = natsOptions_LoadCATrustedCertificates(o, e->ca);
        if (st == NATS_OK)
            st = natsOptions_LoadCertificatesChain(o, e->cli_crt, e->cli_key);
        if (st == NATS_OK)
            st = natsOptions_SetExpectedHostname(o, "localhost");
    }
    if (st == NATS_OK)
        st = natsOptions_SetSendAsap(o, asap != 0);
    if (st == NATS_OK)
        st = natsOptions_SetTimeout(o, 5000);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(o, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(o, 50);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectedCB(o, on_reconnected, s);
    if (st == NATS_OK)
        st = natsConnection_Connect(out, o);
    natsOptions_Destroy(o);
    return st;
}

static void on_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    const char *reply = natsMsg_GetReply(msg);
    if (reply)
        natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

static void on_oneway(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)nc;
    (void)sub;
    ns *s = closure;
    natsMsg_Destroy(msg);
    pthread_mutex_lock(&s->mu);
    if (++s->ow_count == s->ow_target)
        pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void ns_close_conns(ns *s)
{
    natsSubscription_Destroy(s->rsp_sub);
    natsSubscription_Destroy(s->ow_sub);
    natsConnection_Destroy(s->req);
    natsConnection_Destroy(s->rsp);
    natsConnection_Destroy(s->pub);
    natsConnection_Destroy(s->sub);
    s->rsp_sub = s->ow_sub = NULL;
    s->req = s->rsp = s->pub = s->sub = NULL;
}

static int ns_start(ns *s, env *e, int tls, int idx)
{
    memset(s, 0, sizeof(*s));
    s->e = e;
    s->tls = tls;
    s->impl = tls ? "nats_tls" : "nats";
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    snprintf(s->conf, sizeof(s->conf), "%s/nats%d.conf", e->dir, idx);
    snprintf(s->log, sizeof(s->log), "%s/nats%d.log", e->dir, idx);
    int rv = nats_spawn(s);
    if (rv < 0) {
        hv_bench_note(e->r, "%s: nats-server did not start (%s): its rows are skipped", s->impl,
                      rv == HV_ETIMEDOUT ? "not ready within 10 s" : "not installed or exited");
        nats_kill(s);
        return rv;
    }
    natsStatus st = nats_dial(s, 1, &s->req);
    if (st == NATS_OK)
        st = nats_dial(s, 1, &s->rsp);
    if (st == NATS_OK)
        st = natsConnection_Subscribe(&s->rsp_sub, s->rsp, "bench.rr", on_request, s);
    if (st == NATS_OK)
        st = natsConnection_Flush(s->rsp);
    if (st != NATS_OK) {
        hv_bench_note(e->r, "%s: libnats could not connect (%s): its rows are skipped", s->impl,
                      natsStatus_GetText(st));
        ns_close_conns(s);
        nats_kill(s);
        return HV_EIO;
    }
    return 0;
}

static void ns_stop(ns *s)
{
    ns_close_conns(s);
    nats_kill(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

static int ns_rr_once(ns *s, const uint8_t *data, uint64_t *rtt)
{
    natsMsg *reply = NULL;
    uint64_t t0 = now();
    natsStatus st = natsConnection_Request(&reply, s->req, "bench.rr", data, RR_BYTES, 5000);
    *rtt = now() - t0;
    if (st != NATS_OK || natsMsg_GetDataLength(reply) != RR_BYTES) {
        natsMsg_Destroy(reply);
        return HV_EIO;
    }
    natsMsg_Destroy(reply);
    return 0;
}

/* Publisher and subscriber connections for one-way (asap: unbatched). */
static int ns_oneway_open(ns *s, int asap)
{
    natsStatus st = nats_dial(s, asap, &s->pub);
    if (st == NATS_OK)
        st = nats_dial(s, 0, &s->sub);
    if (st == NATS_OK)
        st = natsConnection_Subscribe(&s->ow_sub, s->sub, "bench.ow", on_oneway, s);
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(s->ow_sub, -1, -1);
    if (st == NATS_OK)
        st = natsConnection_Flush(s->sub);
    return st == NATS_OK ? 0 : HV_EIO;
}

static void ns_oneway_close(ns *s)
{
    natsSubscription_Destroy(s->ow_sub);
    natsConnection_Destroy(s->pub);
    natsConnection_Destroy(s->sub);
    s->ow_sub = NULL;
    s->pub = s->sub = NULL;
}

static int ns_oneway(ns *s, uint32_t n, const uint8_t *data, double *rate, double *segs,
                     double *cpu_ns)
{
    pthread_mutex_lock(&s->mu);
    s->ow_count = 0;
    s->ow_target = n;
    pthread_mutex_unlock(&s->mu);
    uint64_t seg0 = tcp_out_segs();
    double cpu0 = cpu_self_us() + cpu_pid_us(s->pid);
    uint64_t t0 = now();
    for (uint32_t i = 0; i < n; i++) {
        if (natsConnection_Publish(s->pub, "bench.ow", data, OW_BYTES) != NATS_OK)
            return HV_EIO;
    }
    natsConnection_Flush(s->pub);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    int rv = 0;
    pthread_mutex_lock(&s->mu);
    while (s->ow_count < n && rv == 0)
        rv = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
    uint64_t got = s->ow_count;
    pthread_mutex_unlock(&s->mu);
    uint64_t t1 = now();
    double cpu1 = cpu_self_us() + cpu_pid_us(s->pid);
    if (got < n) {
        hv_bench_note(s->e->r, "%s one-way: %llu of %u messages arrived within 20 s", s->impl,
                      (unsigned long long)got, n);
        return HV_ETIMEDOUT;
    }
    *rate = (double)n / ((double)(t1 - t0) * 1e-9);
    *segs = (double)(tcp_out_segs() - seg0) * 1000.0 / n;
    *cpu_ns = (cpu1 - cpu0) * 1e3 / n;
    return 0;
}

#endif /* HV_HAVE_NATS */

/* ---- Rows -------------------------------------------------------------------------------- */

enum { IMPL_HW, IMPL_GT, IMPL_NATS, IMPL_NATS_TLS, IMPLS };
static const char *const impl_name[IMPLS] = { "hivewire_quic", "gnutls_tcp", "nats", "nats_tls" };

typedef struct peers {
    hw h;
    gt g;
    int have[IMPLS];
#ifdef HV_HAVE_NATS
    ns n[2];
#endif
} peers;

static void params_json(const env *e, int impl, char *out, size_t cap, const char *extra)
{
    const char *ver = impl == IMPL_HW ? e->ver_quic : impl == IMPL_GT ? e->ver_gnutls : e->ver_nats;
    snprintf(out, cap, "{%s%s\"versions\": \"%s\", \"placement\": \"%s\"}", extra ? extra : "",
             extra ? ", " : "", ver,
             impl >= IMPL_NATS ? "client threads here, nats-server a process"
                               : "server thread + client thread, unpinned");
}

static int rr_once(peers *p, int impl, uint8_t *data, uint64_t *rtt)
{
    switch (impl) {
    case IMPL_HW:
        return hw_rr_once(&p->h, data, rtt);
    case IMPL_GT:
        return gt_rr_once(&p->g, data, rtt);
#ifdef HV_HAVE_NATS
    case IMPL_NATS:
    case IMPL_NATS_TLS:
        return ns_rr_once(&p->n[impl - IMPL_NATS], data, rtt);
#endif
    default:
        return HV_ENOTSUP;
    }
}

static double impl_cpu_us(peers *p, int impl)
{
    double c = cpu_self_us();
#ifdef HV_HAVE_NATS
    if (impl >= IMPL_NATS)
        c += cpu_pid_us(p->n[impl - IMPL_NATS].pid);
#else
    (void)p;
    (void)impl;
#endif
    return c;
}

/* --filter matches "workload/impl", so one implementation can run alone (for a profiler). */
static int sel(const env *e, const char *name, int impl)
{
    char k[128];
    snprintf(k, sizeof(k), "%s/%s", name, impl_name[impl]);
    return hv_bench_selected(e->opts, k);
}

static void bench_rr(env *e, peers *p)
{
    int run[IMPLS], any = 0;
    for (int i = 0; i < IMPLS; i++)
        any |= run[i] = p->have[i] && sel(e, "rr_256B", i);
    if (!any)
        return;
    hv_hist hist[IMPLS];
    double p50[IMPLS][64], cpu[IMPLS][64];
    for (int i = 0; i < IMPLS; i++)
        hv_hist_init(&hist[i], 10ull * 1000000000ull, 10);
    hv_hist round;
    hv_hist_init(&round, 10ull * 1000000000ull, 10);
    uint8_t data[RR_BYTES];
    memset(data, 0xa5, sizeof(data));
    unsigned rounds = e->rounds;
    for (unsigned r = 0; r <= rounds; r++) { /* round 0 warms up */
        for (int i = 0; i < IMPLS; i++) {
            if (!run[i])
                continue;
            hv_hist_reset(&round);
            double c0 = impl_cpu_us(p, i);
            for (unsigned k = 0; k < e->rr_ops; k++) {
                uint64_t rtt;
                int rv = rr_once(p, i, data, &rtt);
                if (rv < 0) {
                    hv_bench_fail(e->r, "rr_256B %s: %s", impl_name[i], hv_strerror(rv));
                    run[i] = 0;
                    break;
                }
                hv_hist_record(&round, rtt);
            }
            double c1 = impl_cpu_us(p, i);
            if (r == 0 || !run[i])
                continue;
            hv_hist_merge(&hist[i], &round);
            p50[i][r - 1] = (double)hv_hist_quantile(&round, 0.5) / 1e3;
            cpu[i][r - 1] = (c1 - c0) / e->rr_ops;
        }
    }
    char params[512], extra[160];
    snprintf(extra, sizeof(extra),
             "\"payload_bytes\": %d, \"outstanding\": 1, \"ops_per_round\": %u", RR_BYTES,
             e->rr_ops);
    for (int i = 0; i < IMPLS; i++) {
        if (!run[i])
            continue;
        params_json(e, i, params, sizeof(params), extra);
        hv_bench_add_hist(e->r, "rr_256B", impl_name[i], "us", &hist[i], params);
        hv_bench_add(e->r, "rr_256B_p50", impl_name[i], "us", p50[i], rounds, params);
        hv_bench_add(e->r, "rr_256B_cpu", impl_name[i], "us", cpu[i], rounds, params);
    }
    for (int i = 1; i < IMPLS; i++) {
        hv_bench_ratio(e->r, "rr_256B_p50", impl_name[IMPL_HW], impl_name[i]);
        hv_bench_ratio(e->r, "rr_256B_cpu", impl_name[IMPL_HW], impl_name[i]);
    }
    for (int i = 0; i < IMPLS; i++)
        hv_hist_fini(&hist[i]);
    hv_hist_fini(&round);
}

/* One-way rows for hivewire (the running pair h, whose flush policy says batched or not) and
 * the NATS servers (asap: unbatched). */
static void bench_oneway(env *e, peers *p, const char *name, hw *h, int asap)
{
    uint8_t data[OW_BYTES];
    memset(data, 0x5a, sizeof(data));
    /* Unbatched runs are a few times slower: a quarter of the messages keeps rounds short. */
    uint32_t msgs = asap ? e->ow_msgs / 4 : e->ow_msgs;
    double rate[3][64], dg[3][64], cpu[3][64], acks[64];
    int have[3] = { h != NULL && sel(e, name, IMPL_HW), 0, 0 };
#ifdef HV_HAVE_NATS
    for (int k = 0; k < 2; k++)
        have[1 + k] = p->have[IMPL_NATS + k] && sel(e, name, IMPL_NATS + k) &&
                      ns_oneway_open(&p->n[k], asap) == 0;
#else
    (void)p;
    (void)asap;
#endif
    if (!have[0] && !have[1] && !have[2])
        return;
    unsigned rounds = e->rounds;
    for (unsigned r = 0; r <= rounds; r++) {
        for (int k = 0; k < 3; k++) {
            if (!have[k])
                continue;
            double rt = 0, d = 0, a = 0, c = 0;
            int rv = HV_ENOTSUP;
            if (k == 0)
                rv = hw_oneway(h, msgs, data, &rt, &d, &a, &c);
#ifdef HV_HAVE_NATS
            else
                rv = ns_oneway(&p->n[k - 1], msgs, data, &rt, &d, &c);
#endif
            if (rv < 0) {
                hv_bench_fail(e->r, "%s %s: %s", name, impl_name[k ? IMPL_NATS + k - 1 : 0],
                              hv_strerror(rv));
                have[k] = 0;
                continue;
            }
            if (r == 0)
                continue;
            rate[k][r - 1] = rt;
            dg[k][r - 1] = d;
            cpu[k][r - 1] = c;
            if (k == 0)
                acks[r - 1] = a;
        }
    }
    char params[640], extra[320], cname[64];
    snprintf(cname, sizeof(cname), "%s_cpu", name);
    for (int k = 0; k < 3; k++) {
        if (!have[k])
            continue;
        int impl = k ? IMPL_NATS + k - 1 : IMPL_HW;
        if (k == 0)
            snprintf(extra, sizeof(extra),
                     "\"payload_bytes\": %d, \"messages\": %u, \"flush_frames\": %u, "
                     "\"flush_delay_us\": %u, \"datagrams_per_1000\": %.1f, "
                     "\"ack_datagrams_per_1000\": %.1f, \"hub_rate_frames_per_s\": %u",
                     OW_BYTES, msgs, h->flush_frames, h->flush_delay_us, median_of(dg[0], rounds),
                     median_of(acks, rounds), HUB_RATE);
        else
            snprintf(extra, sizeof(extra),
                     "\"payload_bytes\": %d, \"messages\": %u, \"send_asap\": %d, "
                     "\"tcp_segments_per_1000_hostwide\": %.1f",
                     OW_BYTES, msgs, asap, median_of(dg[k], rounds));
        params_json(e, impl, params, sizeof(params), extra);
        hv_bench_add(e->r, name, impl_name[impl], "msg/s", rate[k], rounds, params);
        hv_bench_add(e->r, cname, impl_name[impl], "ns", cpu[k], rounds, params);
    }
    for (int k = 1; k < 3; k++) {
        hv_bench_ratio(e->r, name, impl_name[IMPL_HW], impl_name[IMPL_NATS + k - 1]);
        hv_bench_ratio(e->r, cname, impl_name[IMPL_HW], impl_name[IMPL_NATS + k - 1]);
    }
#ifdef HV_HAVE_NATS
    for (int k = 0; k < 2; k++)
        ns_oneway_close(&p->n[k]);
#endif
}

/* ---- Handshakes and reconnects ------------------------------------------------------------ */

/* A fresh hivewire client: the link's handshake time. */
static int hw_handshake_full(hw *h, double *us)
{
    if (h->cli)
        hv_net_free(h->cli);
    h->cli = NULL;
    int rv = hw_connect(h);
    if (rv < 0)
        return rv;
    hv_net_link_stats ls;
    hv_net_link_stats_get(h->cli, 0, &ls);
    *us = ls.handshake_us;
    return 0;
}

/* The connection breaks; the client resumes (TLS ticket + HVW1 token, its handshake in 0-RTT). */
static int hw_handshake_resumed(hw *h, double *us, int *resumed, int *early)
{
    hv_net_link_stats before, ls;
    hv_net_link_stats_get(h->cli, 0, &before);
    hv__net_break(h->cli);
    if (HW_WAIT(h, hv_net_ready(h->cli)) < 0)
        return HV_ETIMEDOUT;
    hv_net_link_stats_get(h->cli, 0, &ls);
    *us = ls.handshake_us;
    *resumed = ls.resumed > before.resumed;
    *early = ls.early_accepted > before.early_accepted;
    return 0;
}

#ifdef HV_HAVE_NATS
static int ns_handshake(ns *s, double *us)
{
    natsConnection *nc = NULL;
    uint64_t t0 = now();
    natsStatus st = nats_dial(s, 0, &nc);
    *us = (double)(now() - t0) / 1e3;
    natsConnection_Destroy(nc);
    return st == NATS_OK ? 0 : HV_EIO;
}
#endif

static void bench_handshake(env *e, peers *p)
{
    if (!hv_bench_selected(e->opts, "handshake"))
        return;
    double full[IMPLS][64], res[2][64];
    int ok[IMPLS] = { 0 }, resumed_all[2] = { 1, 1 }, early_all = 1;
    for (int i = 0; i < IMPLS; i++)
        ok[i] = p->have[i];
    unsigned n = e->hs_samples;
    for (unsigned s = 0; s <= n; s++) {
        double us = 0;
        int resumed = 0;
        if (ok[IMPL_HW] && hw_handshake_full(&p->h, &us) < 0)
            ok[IMPL_HW] = 0;
        if (s)
            full[IMPL_HW][s - 1] = us;
        int early = 0;
        if (ok[IMPL_HW] && hw_handshake_resumed(&p->h, &us, &resumed, &early) < 0)
            ok[IMPL_HW] = 0;
        if (s) {
            res[0][s - 1] = us;
            resumed_all[0] &= resumed;
            early_all &= early;
        }
        if (ok[IMPL_GT] && gt_connect(&p->g, 0, &us, &resumed) < 0)
            ok[IMPL_GT] = 0;
        if (s)
            full[IMPL_GT][s - 1] = us;
        uint64_t rtt;
        if (ok[IMPL_GT] && gt_rr_once(&p->g, (uint8_t[RR_BYTES]){ 0 }, &rtt) == 0)
            gt_save_ticket(&p->g);
        if (ok[IMPL_GT] && gt_connect(&p->g, 1, &us, &resumed) < 0)
            ok[IMPL_GT] = 0;
        if (s) {
            res[1][s - 1] = us;
            resumed_all[1] &= resumed;
        }
#ifdef HV_HAVE_NATS
        for (int k = 0; k < 2; k++) {
            if (ok[IMPL_NATS + k] && ns_handshake(&p->n[k], &us) < 0)
                ok[IMPL_NATS + k] = 0;
            if (s)
                full[IMPL_NATS + k][s - 1] = us;
        }
#endif
    }
    char params[512];
    for (int i = 0; i < IMPLS; i++) {
        if (!ok[i]) {
            if (p->have[i])
                hv_bench_fail(e->r, "handshake %s failed", impl_name[i]);
            continue;
        }
        params_json(e, i, params, sizeof(params),
                    i == IMPL_HW   ? "\"includes\": \"QUIC + TLS 1.3 mutual + HVW1 handshake\""
                    : i == IMPL_GT ? "\"includes\": \"TCP connect + TLS 1.3 mutual\""
                                   : "\"includes\": \"natsConnection_Connect (TCP, TLS if any, "
                                     "INFO/CONNECT/PING/PONG)\"");
        hv_bench_add(e->r, "handshake_full", impl_name[i], "us", full[i], n, params);
        if (i > IMPL_GT)
            continue;
        char extra[128];
        if (i == IMPL_HW)
            snprintf(extra, sizeof(extra),
                     "\"every_sample_resumed\": %d, \"every_sample_0rtt\": %d", resumed_all[i],
                     early_all);
        else
            snprintf(extra, sizeof(extra), "\"every_sample_resumed\": %d", resumed_all[i]);
        params_json(e, i, params, sizeof(params), extra);
        hv_bench_add(e->r, "handshake_resumed", impl_name[i], "us", res[i], n, params);
    }
    for (int i = 1; i < IMPLS; i++)
        hv_bench_ratio(e->r, "handshake_full", impl_name[IMPL_HW], impl_name[i]);
    hv_bench_ratio(e->r, "handshake_resumed", impl_name[IMPL_HW], impl_name[IMPL_GT]);
    /* gnutls_tcp stays connected for later workloads. */
    double us;
    int resumed;
    if (ok[IMPL_GT])
        gt_connect(&p->g, 0, &us, &resumed);
}

/* hivewire: the hub goes away and a new one starts on the same port. */
static int hw_reconnect(hw *h, double *us)
{
    hw_hub_stop(h);
    /* The hub closed with CONNECTION_CLOSE: the client knows before the new hub starts. */
    if (HW_WAIT(h, !hv_net_ready(h->cli)) < 0)
        return HV_ETIMEDOUT;
    int rv = hw_hub_start(h);
    if (rv < 0)
        return rv;
    uint64_t t0 = now();
    if (HW_WAIT(h, hv_net_ready(h->cli)) < 0)
        return HV_ETIMEDOUT;
    *us = (double)(now() - t0) / 1e3;
    return 0;
}

#ifdef HV_HAVE_NATS
static int ns_reconnect(ns *s, double *us)
{
    pthread_mutex_lock(&s->mu);
    int before = s->reconnected;
    pthread_mutex_unlock(&s->mu);
    nats_kill(s);
    if (nats_spawn(s) < 0)
        return HV_EIO;
    uint64_t t0 = now();
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 20;
    int rv = 0;
    pthread_mutex_lock(&s->mu);
    while (s->reconnected == before && rv == 0)
        rv = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
    uint64_t t1 = s->reconnected_ns;
    int ok = s->reconnected > before;
    pthread_mutex_unlock(&s->mu);
    if (!ok)
        return HV_ETIMEDOUT;
    /* The requester reconnects too; wait for it so the next sample starts clean. */
    natsConnection_Flush(s->req);
    natsConnection_Flush(s->rsp);
    *us = t1 > t0 ? (double)(t1 - t0) / 1e3 : 0;
    return 0;
}
#endif

static void bench_reconnect(env *e, peers *p)
{
    if (!hv_bench_selected(e->opts, "reconnect"))
        return;
    double v[3][64];
    int ok[3] = { p->have[IMPL_HW], 0, 0 };
#ifdef HV_HAVE_NATS
    ok[1] = p->have[IMPL_NATS];
    ok[2] = p->have[IMPL_NATS_TLS];
#endif
    unsigned n = e->rc_samples;
    for (unsigned s = 0; s < n; s++) {
        for (int k = 0; k < 3; k++) {
            if (!ok[k])
                continue;
            int rv = HV_ENOTSUP;
            if (k == 0)
                rv = hw_reconnect(&p->h, &v[0][s]);
#ifdef HV_HAVE_NATS
            else
                rv = ns_reconnect(&p->n[k - 1], &v[k][s]);
#endif
            if (rv < 0) {
                hv_bench_fail(e->r, "reconnect %s: %s", impl_name[k ? IMPL_NATS + k - 1 : 0],
                              hv_strerror(rv));
                ok[k] = 0;
                if (k == 0)
                    p->have[IMPL_HW] = 0;
            }
        }
    }
    char params[512];
    for (int k = 0; k < 3; k++) {
        if (!ok[k])
            continue;
        int impl = k ? IMPL_NATS + k - 1 : IMPL_HW;
        params_json(e, impl, params, sizeof(params),
                    k == 0 ? "\"from\": \"new hub listening\", \"to\": \"session open\", "
                             "\"backoff_ms\": \"50 doubling to 5000, drawn from the upper half\""
                           : "\"from\": \"new server ready\", \"to\": \"reconnected callback\", "
                             "\"reconnect_wait_ms\": 50");
        for (unsigned s = 0; s < n; s++)
            v[k][s] /= 1e3;
        hv_bench_add(e->r, "reconnect_after_restart", impl_name[impl], "ms", v[k], n, params);
    }
    for (int k = 1; k < 3; k++)
        hv_bench_ratio(e->r, "reconnect_after_restart", impl_name[IMPL_HW],
                       impl_name[IMPL_NATS + k - 1]);
}

/* ---- The flush policy: a small sweep ------------------------------------------------------ */

static void bench_sweep(env *e)
{
    if (!hv_bench_selected(e->opts, "flush_sweep"))
        return;
    static const uint32_t pts[][2] = { { 1, 50 },   { 4, 50 },    { 16, 50 },  { 64, 50 },
                                       { 256, 50 }, { 16, 1000 }, { 64, 5000 } };
    uint8_t data[RR_BYTES];
    memset(data, 0x3c, sizeof(data));
    unsigned rounds = e->opts->quick ? 1 : 3;
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        hw h;
        if (hw_start(&h, e, pts[i][0], pts[i][1]) < 0) {
            hw_stop(&h);
            continue;
        }
        double rate[8], dg[8], rr[8], a, c;
        int ok = 1;
        for (unsigned r = 0; r < rounds && ok; r++) {
            ok = hw_oneway(&h, e->ow_msgs / 2, data, &rate[r], &dg[r], &a, &c) == 0;
            hv_hist hh;
            hv_hist_init(&hh, 10ull * 1000000000ull, 10);
            for (unsigned k = 0; ok && k < e->rr_ops / 4; k++) {
                uint64_t rtt;
                ok = hw_rr_once(&h, data, &rtt) == 0;
                hv_hist_record(&hh, rtt);
            }
            rr[r] = (double)hv_hist_quantile(&hh, 0.5) / 1e3;
            hv_hist_fini(&hh);
        }
        if (!ok) {
            hv_bench_fail(e->r, "flush_sweep %u frames / %u us failed", pts[i][0], pts[i][1]);
            hw_stop(&h);
            continue;
        }
        char impl[48], params[512], extra[256];
        snprintf(impl, sizeof(impl), "hivewire_f%u_d%uus", pts[i][0], pts[i][1]);
        snprintf(extra, sizeof(extra),
                 "\"flush_frames\": %u, \"flush_delay_us\": %u, \"payload_bytes\": %d, "
                 "\"datagrams_per_1000\": %.1f",
                 pts[i][0], pts[i][1], OW_BYTES, median_of(dg, rounds));
        params_json(e, IMPL_HW, params, sizeof(params), extra);
        hv_bench_add(e->r, "flush_sweep_oneway_64B", impl, "msg/s", rate, rounds, params);
        snprintf(extra, sizeof(extra),
                 "\"flush_frames\": %u, \"flush_delay_us\": %u, \"payload_bytes\": %d", pts[i][0],
                 pts[i][1], RR_BYTES);
        params_json(e, IMPL_HW, params, sizeof(params), extra);
        hv_bench_add(e->r, "flush_sweep_rr_256B_p50", impl, "us", rr, rounds, params);
        hw_stop(&h);
    }
}

/* ---- Memory per idle connection ---------------------------------------------------------- */

/* A hub in its own process (`hivewire net echo`) and many idle agents (distinct certificates)
 * on one loop here: the hub's resident memory grows by so much per connection. */

typedef struct idle {
    env *e;
    pid_t hub;
    uint16_t port;
    uv_loop_t loop;
    hv_net **cli;
    uint32_t n;
} idle;

static uint64_t rss_of(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    uint64_t kb = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtoull(line + 6, NULL, 10);
    }
    if (f)
        fclose(f);
    return kb * 1024;
}

static int idle_spawn_hub(idle *d)
{
    char listen[64], hivewire[4096];
    int rc = hv__cli_hivewire_path(hivewire, sizeof(hivewire));
    if (rc != 0)
        return rc;
    d->port = hv_bench_free_port(SOCK_DGRAM);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)d->port);
    pid_t pid = fork();
    if (pid < 0)
        return HV_EIO;
    if (pid == 0) {
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) {
            dup2(dn, 1);
            dup2(dn, 2);
        }
        execl(hivewire, "hivewire", "net", "echo", "--listen", listen, "--certs", d->e->dir,
              "--name", "hub", (char *)NULL);
        _exit(127);
    }
    d->hub = pid;
    return 0;
}

static void stop_loop(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the agents' loop for ms milliseconds. */
static void idle_run(idle *d, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(&d->loop, &t);
    uv_timer_start(&t, stop_loop, ms, 0);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&d->loop, UV_RUN_NOWAIT);
}

/* Connects agents [d->n, upto) and waits until every one has its session. */
static int idle_grow(idle *d, uint32_t upto)
{
    env *e = d->e;
    for (; d->n < upto; d->n++) {
        char name[32], crt[256], key[256];
        const char *err;
        snprintf(name, sizeof(name), "idle%u", d->n);
        if (hv_net_certs_issue(e->dir, name, HV_WIRE_ROLE_WORKER, (3ull << 32) | d->n, &err) < 0)
            return HV_EIO;
        snprintf(crt, sizeof(crt), "%s/%s.pem", e->dir, name);
        snprintf(key, sizeof(key), "%s/%s.key", e->dir, name);
        hv_net_opts o = { .size = sizeof(o),
                          .ca_file = e->ca,
                          .cert_file = crt,
                          .key_file = key,
                          .port = d->port,
                          .loop = &d->loop };
        int rv = hv_net_connect(&o, &d->cli[d->n]);
        if (rv < 0)
            return rv;
    }
    uint64_t t0 = now();
    for (;;) {
        uint32_t ready = 0;
        for (uint32_t i = 0; i < d->n; i++)
            ready += hv_net_ready(d->cli[i]) > 0;
        if (ready == d->n)
            return 0;
        if (now() - t0 > 3 * WAIT_NS)
            return HV_ETIMEDOUT;
        idle_run(d, 20);
    }
}

static void idle_cleanup(idle *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        char p[300];
        hv_net_free(d->cli[i]);
        static const char *const ext[] = { "pem", "key", "vote" };
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof(p), "%s/idle%u.%s", d->e->dir, i, ext[k]);
            unlink(p);
        }
    }
    uv_run(&d->loop, UV_RUN_NOWAIT);
    uv_loop_close(&d->loop);
    free(d->cli);
    if (d->hub > 0) {
        kill(d->hub, SIGKILL);
        waitpid(d->hub, NULL, 0);
    }
}

static void bench_idle(env *e)
{
    if (!hv_bench_selected(e->opts, "idle_conn_bytes"))
        return;
    uint32_t steps = e->opts->quick ? 2 : 5, per = e->opts->quick ? 10 : 200;
    idle d = { .e = e };
    d.cli = calloc((size_t)steps * per + per, sizeof(*d.cli));
    uv_loop_init(&d.loop);
    double slope[8];
    uint64_t rss[8] = { 0 };
    int rv = d.cli ? idle_spawn_hub(&d) : HV_ENOMEM;
    /* A first step warms the hub up (allocator arenas, code, TLS tables): slopes from there. */
    for (uint32_t k = 0; rv == 0 && k <= steps; k++) {
        rv = idle_grow(&d, (k + 1) * per);
        if (rv == 0) {
            /* Two heartbeats each way: the steady state of an idle link (--quick: a glimpse). */
            idle_run(&d, e->opts->quick ? 200 : 2500);
            rss[k] = rss_of(d.hub);
        }
        if (rv == 0 && k > 0)
            slope[k - 1] = (double)(int64_t)(rss[k] - rss[k - 1]) / per;
    }
    if (rv < 0) {
        hv_bench_fail(e->r, "idle_conn_bytes: %s with %u agents", hv_strerror(rv), d.n);
    } else {
        char params[512], extra[256];
        snprintf(extra, sizeof(extra),
                 "\"agents\": %u, \"per_step\": %u, \"hub_rss_bytes\": %llu, \"mutual_tls\": 1, "
                 "\"heartbeat_ms\": 1000",
                 d.n, per, (unsigned long long)rss[steps]);
        params_json(e, IMPL_HW, params, sizeof(params), extra);
        hv_bench_add(e->r, "idle_conn_bytes", impl_name[IMPL_HW], "bytes", slope, steps, params);
    }
    idle_cleanup(&d);
}

/* ---- Entry ------------------------------------------------------------------------------- */

static void versions(env *e)
{
    const ngtcp2_info *ni = ngtcp2_version(0);
    snprintf(e->ver_quic, sizeof(e->ver_quic), "hivewire HVW1 1.0, ngtcp2 %s, GnuTLS %s, libuv %s",
             ni ? ni->version_str : "?", gnutls_check_version(NULL), uv_version_string());
    snprintf(e->ver_gnutls, sizeof(e->ver_gnutls), "GnuTLS %s, TCP", gnutls_check_version(NULL));
    hv_nats_versions(e->ver_nats, sizeof(e->ver_nats));
}

static void sizes(env *e)
{
    int quick = e->opts->quick;
    e->rounds = hv_bench_samples(e->opts, 11);
    if (e->rounds > 64)
        e->rounds = 64;
    e->rr_ops = quick ? 50 : 2000;
    e->ow_msgs = quick ? 2000 : 200000;
    e->hs_samples = quick ? 2 : 21;
    e->rc_samples = quick ? 1 : 7;
}

int hv_bench_net(const hv_bench_opts *opts)
{
    hv_bench_report *r = hv_bench_report_new("net", opts);
    if (r == NULL)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    static env e;
    static peers p;
    memset(&e, 0, sizeof(e));
    memset(&p, 0, sizeof(p));
    e.r = r;
    e.opts = opts;
    sizes(&e);
    versions(&e);
    if (env_certs(&e) == 0) {
        p.have[IMPL_HW] = hw_start(&p.h, &e, 0, 0) == 0;
        double us;
        int resumed;
        p.have[IMPL_GT] = gt_start(&p.g, &e) == 0 && gt_connect(&p.g, 0, &us, &resumed) == 0;
#ifdef HV_HAVE_NATS
        nats_Open(-1);
        for (int k = 0; k < 2; k++)
            p.have[IMPL_NATS + k] = ns_start(&p.n[k], &e, k, k) == 0;
#else
        hv_bench_note(r, "NATS rows skipped: built without libnats (HV_WITH_PEERS off or "
                         "libnats-dev missing)");
#endif
        bench_rr(&e, &p);
        if (p.have[IMPL_HW])
            bench_oneway(&e, &p, "oneway_64B_batched", &p.h, 0);
        hw unb;
        memset(&unb, 0, sizeof(unb));
        if (p.have[IMPL_HW] && hv_bench_selected(opts, "oneway_64B_unbatched") &&
            hw_start(&unb, &e, 1, 0) == 0) {
            bench_oneway(&e, &p, "oneway_64B_unbatched", &unb, 1);
        }
        hw_stop(&unb);
        bench_handshake(&e, &p);
        bench_reconnect(&e, &p);
        bench_sweep(&e);
        bench_idle(&e);
        hw_stop(&p.h);
        gt_stop(&p.g);
#ifdef HV_HAVE_NATS
        for (int k = 0; k < 2; k++)
            if (p.have[IMPL_NATS + k])
                ns_stop(&p.n[k]);
        nats_Close();
#endif
    }
    hv_bench_note(r, "loopback on a shared 2-vCPU VM: other helpers' builds and tests load the "
                     "machine, so absolute figures move between runs; compare within a round");
    env_cleanup(&e);
    return hv_bench_report_finish(r);
}

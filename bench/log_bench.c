/*
 * hivewire bench log: the replicated decision log against NATS JetStream, on loopback, in one
 * run, interleaved round by round (BENCHMARKING.md).
 *
 * hivewire: three replica processes (forked by the bench), canonical/raft 0.15 with raft_uv
 * storing the log in a directory under the bench's temporary directory (durable: raft_uv
 * writes with O_DIRECT or fdatasync), talking over mutual TLS 1.3 with certificates the bench
 * makes. The leader proposes the entries itself, as the leader's coordinator does: a commit is
 * timed in the leader from hv_replica_propose() to its commit callback (appended, replicated to
 * a majority, applied by the state machine). The entry is a real decision: a proposal with five
 * signed votes as evidence, 792 bytes.
 *
 * JetStream: three nats-server processes (JetStream on, clustered on loopback), a stream with 3
 * replicas and file storage in the same temporary directory, the bench a libnats client
 * publishing the same 792 bytes and waiting for the ack (js_Publish), or with up to N in
 * flight (js_PublishAsync). A publish-ack means stored by a majority, as a Raft commit does.
 *
 * Workloads: commit_decision (latency of one decision at a time, every commit a sample),
 * decisions_per_s (many in flight), failover (the leader killed with SIGKILL: hivewire until a
 * surviving replica is leader and has committed its barrier, JetStream until a publish is
 * acked again; then the killed process is started again). The placement differs and the rows
 * say so: hivewire's proposer lives in the leader's process (where the coordinator runs),
 * JetStream's publisher is a client one hop away.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include <hivewire/codec.h>
#include <hivewire/log.h>
#include <hivewire/market.h>
#include <hivewire/net.h>
#include <hivewire/swarm.h>

#ifdef HV_HAVE_NATS
#include <nats/nats.h>
#endif

#include "bench.h"
#include "bench/nats_server.h"
#include "log/replica.h"
#include "log/tls.h"
#include "swarm/replicated.h"

#ifndef HV_LOG_SOURCE_DIR
#define HV_LOG_SOURCE_DIR "."
#endif

#define REPLICAS 3
#define VOTES    5
#define READY_NS (20ull * 1000000000ull)

int hv_bench_log(const hv_bench_opts *opts);

/* ---- The replica processes ------------------------------------------------------------------ */

enum { OP_LAT = 1, OP_THR = 2 };

typedef struct rchild {
    pid_t pid;
    int cmd, ev;       /* parent's ends: commands to it, events from it */
    uint64_t ready_ns; /* its last "ready as leader" */
    int alive;
} rchild;

typedef struct rig {
    char dir[300];
    char addr[REPLICAS][64];
    rchild c[REPLICAS];
    int leader; /* index, -1 unknown */
} rig;

/* In the child: the replica and the operation in progress. */
typedef struct child {
    uv_loop_t loop;
    struct raft_uv_transport t;
    hv_replica *r;
    uv_pipe_t cmd;
    int ev;
    uint64_t next_id;
    int genesis_sent;
    int op;
    uint32_t n, inflight_max, done, sent;
    uint64_t t0;
    uint64_t *lat;
    uint64_t sent_ns[1]; /* OP_LAT: one in flight */
} child;

static void put(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(3);
        b += w;
        n -= (size_t)w;
    }
}

/* A decision of proposal id with five signed votes: what the coordinator logs. */
static void decision(hv_log_entry *e, uint64_t id)
{
    memset(e, 0, sizeof(*e));
    e->type = HV_LOG_DECISION;
    hv_log_decision *d = &e->decision;
    d->cycle = id - 1;
    d->proposer = HV_SWARM_ID(1, 3);
    d->action = HV_ACTION_POSITION_CHANGE;
    d->d = (hv_decision){ .proposal_id = id,
                          .outcome = HV_OUTCOME_REJECTED,
                          .rule = HV_RULE_BFT,
                          .crit = HV_CRIT_CRITICAL,
                          .reason = HV_REASON_EARLY,
                          .eligible = VOTES,
                          .rejections = 2,
                          .approvals = 3,
                          .bound = 4 };
    d->order = (hv_log_order){ HV_SIDE_BUY, HV_ACTION_POSITION_CHANGE, 100, 1234.5, 100 };
    randombytes_buf(d->payload_hash, sizeof(d->payload_hash));
    d->nvotes = VOTES;
    for (uint32_t i = 0; i < VOTES; i++) {
        hv_log_vote *v = &d->votes[i];
        v->v.proposal_id = id;
        v->v.voter = HV_SWARM_ID(1, 16 + i);
        v->v.choice = i < 3 ? HV_CHOICE_APPROVE : HV_CHOICE_REJECT;
        memcpy(v->v.payload_hash, d->payload_hash, 32);
        randombytes_buf(v->v.sig, sizeof(v->v.sig));
        v->auth = 1;
    }
}

static void genesis(hv_log_entry *e)
{
    hv_swarm_opts cfg;
    hv_swarm_opts_default(&cfg);
    memset(e, 0, sizeof(*e));
    e->type = HV_LOG_GENESIS;
    e->genesis.bar_ns = 1000000000ull;
    e->genesis.cycles_max = HV_LOG_CYCLES_MAX;
    e->genesis.cash = cfg.cash;
    e->genesis.curve_points = 4096;
    e->genesis.exchange = cfg.exchange;
    e->genesis.limits = cfg.limits;
}

static void op_end(child *c, int ok)
{
    uint8_t tag = ok ? (c->op == OP_LAT ? 'L' : 'T') : 'N';
    put(c->ev, &tag, 1);
    if (ok && c->op == OP_LAT) {
        put(c->ev, &c->n, 4);
        put(c->ev, c->lat, sizeof(uint64_t) * c->n);
    } else if (ok) {
        uint64_t elapsed = hv_now_ns() - c->t0;
        put(c->ev, &elapsed, 8);
    }
    c->op = 0;
}

static void pump(child *c)
{
    while (c->op != 0 && c->sent < c->n && hv_replica_inflight(c->r) < c->inflight_max) {
        hv_log_entry e;
        decision(&e, c->next_id);
        uint64_t t = hv_now_ns();
        if (hv_replica_propose(c->r, &e, c->next_id) != 0) {
            op_end(c, 0);
            return;
        }
        c->next_id++;
        c->sent_ns[0] = t;
        c->sent++;
    }
}

static void on_role(void *ud, int leader)
{
    child *c = ud;
    if (!leader) {
        if (c->op != 0)
            op_end(c, 0);
        return;
    }
    hv_log_status st;
    hv_log_fsm_status(hv_replica_fsm(c->r), &st);
    c->next_id = st.proposal_last + 1;
    if (!st.genesis && !c->genesis_sent) {
        hv_log_entry e;
        genesis(&e);
        c->genesis_sent = hv_replica_propose(c->r, &e, 0) == 0;
    }
    uint8_t tag = 'R';
    uint64_t t = hv_now_ns();
    put(c->ev, &tag, 1);
    put(c->ev, &t, 8);
}

static void on_commit(void *ud, uint64_t token, int status, int verdict)
{
    child *c = ud;
    (void)verdict;
    if (token == 0 || c->op == 0)
        return;
    if (status != 0) {
        op_end(c, 0);
        return;
    }
    if (c->op == OP_LAT)
        c->lat[c->done] = hv_now_ns() - c->sent_ns[0];
    if (++c->done == c->n) {
        op_end(c, 1);
        return;
    }
    pump(c);
}

static void cmd_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    static char buf[64];
    (void)h;
    (void)n;
    *b = uv_buf_init(buf, sizeof(buf));
}

/* Commands are 9 bytes: op, count (u32), in flight (u32). */
static void cmd_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    child *c = s->data;
    static uint8_t acc[9];
    static size_t have;
    if (n < 0)
        _exit(0); /* the bench is gone */
    for (ssize_t i = 0; i < n; i++) {
        acc[have++] = (uint8_t)b->base[i];
        if (have < 9)
            continue;
        have = 0;
        c->op = acc[0];
        memcpy(&c->n, acc + 1, 4);
        memcpy(&c->inflight_max, acc + 5, 4);
        if (c->op == OP_LAT)
            c->inflight_max = 1;
        free(c->lat);
        c->lat = calloc(c->n ? c->n : 1, sizeof(uint64_t));
        c->done = c->sent = 0;
        c->t0 = hv_now_ns();
        if (!hv_replica_ready(c->r) || c->lat == NULL) {
            op_end(c, 0);
            continue;
        }
        pump(c);
    }
}

static void child_main(rig *g, int k, const char *certs, int cmd_fd, int ev_fd)
{
    static child c;
    c.ev = ev_fd;
    signal(SIGPIPE, SIG_IGN); /* a peer that died: its socket's write fails, not the process */
    if (uv_loop_init(&c.loop) != 0)
        _exit(4);
    char ca[300], crt[300], key[300], dir[300], err[512];
    snprintf(ca, sizeof(ca), "%.250s/ca.pem", certs);
    snprintf(crt, sizeof(crt), "%.250s/replica-%d.pem", certs, k + 1);
    snprintf(key, sizeof(key), "%.250s/replica-%d.key", certs, k + 1);
    snprintf(dir, sizeof(dir), "%.250s/replica-%d", g->dir, k + 1);
    hv_log_tls_opts to = { ca, crt, key, 1 };
    if (hv__log_tls_init(&c.t, &c.loop, &to, err, sizeof(err)) != 0)
        _exit(5);
    hv_replica_opts o;
    hv_replica_opts_default(&o);
    o.id = (uint64_t)k + 1;
    o.n = REPLICAS;
    for (int i = 0; i < REPLICAS; i++)
        o.addresses[i] = g->addr[i];
    o.data_dir = dir;
    o.loop = &c.loop;
    o.transport = &c.t;
    o.ud = &c;
    o.on_role = on_role;
    o.on_commit = on_commit;
    if (hv_replica_start(&c.r, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench log: replica %d: %s\n", k + 1, err);
        _exit(6);
    }
    uv_pipe_init(&c.loop, &c.cmd, 0);
    uv_pipe_open(&c.cmd, cmd_fd);
    c.cmd.data = &c;
    uv_read_start((uv_stream_t *)&c.cmd, cmd_alloc, cmd_read);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    _exit(0);
}

static int start_child(rig *g, int k, const char *certs)
{
    int cmd[2], ev[2];
    if (pipe(cmd) != 0 || pipe(ev) != 0)
        return HV_EIO;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return HV_EIO;
    if (pid == 0) {
        close(cmd[1]);
        close(ev[0]);
        for (int i = 0; i < REPLICAS; i++)
            if (i != k && g->c[i].alive) {
                close(g->c[i].cmd);
                close(g->c[i].ev);
            }
        child_main(g, k, certs, cmd[0], ev[1]);
    }
    close(cmd[0]);
    close(ev[1]);
    g->c[k] = (rchild){ .pid = pid, .cmd = cmd[1], .ev = ev[0], .alive = 1 };
    return 0;
}

static void stop_child(rig *g, int k)
{
    rchild *c = &g->c[k];
    if (!c->alive)
        return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    close(c->cmd);
    close(c->ev);
    c->alive = 0;
}

static int get(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t r = read(fd, b, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Reads one event from any child within timeout_ns: returns its index and tag, -1 if none. */
static int next_event(rig *g, uint64_t timeout_ns, uint8_t *tag)
{
    struct pollfd p[REPLICAS];
    int map[REPLICAS], n = 0;
    for (int k = 0; k < REPLICAS; k++)
        if (g->c[k].alive) {
            p[n] = (struct pollfd){ .fd = g->c[k].ev, .events = POLLIN };
            map[n++] = k;
        }
    int rc = poll(p, (nfds_t)n, (int)(timeout_ns / 1000000));
    if (rc <= 0)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!(p[i].revents & (POLLIN | POLLHUP)))
            continue;
        int k = map[i];
        if (get(g->c[k].ev, tag, 1) != 0) {
            int st = 0;
            waitpid(g->c[k].pid, &st, WNOHANG);
            if (getenv("HV_BENCH_DEBUG"))
                fprintf(stderr, "replica %d ended: status %x\n", k + 1, st);
            stop_child(g, k);
            return -1;
        }
        if (*tag == 'R') {
            if (get(g->c[k].ev, &g->c[k].ready_ns, 8) != 0)
                return -1;
            g->leader = k;
        }
        return k;
    }
    return -1;
}

/* Waits until some replica is ready as leader. */
static int wait_leader(rig *g)
{
    uint64_t end = hv_now_ns() + READY_NS;
    uint8_t tag;
    while (g->leader < 0 && hv_now_ns() < end)
        (void)next_event(g, 100000000, &tag);
    return g->leader >= 0 ? 0 : HV_ETIMEDOUT;
}

/* Runs an operation on the leader; for OP_LAT fills lat[0..n). Returns the elapsed ns (THR) or
 * 0, or -1 (leadership moved: the caller tries again). */
static int64_t leader_op(rig *g, int op, uint32_t n, uint32_t inflight, uint64_t *lat)
{
    if (wait_leader(g) != 0)
        return -1;
    int k = g->leader;
    uint8_t cmd[9];
    cmd[0] = (uint8_t)op;
    memcpy(cmd + 1, &n, 4);
    memcpy(cmd + 5, &inflight, 4);
    put(g->c[k].cmd, cmd, 9);
    uint64_t end = hv_now_ns() + 60ull * 1000000000ull;
    while (hv_now_ns() < end) {
        uint8_t tag;
        int from = next_event(g, 1000000000, &tag);
        if (from != k || tag == 'R')
            continue;
        if (tag == 'N') {
            g->leader = -1;
            return -1;
        }
        if (tag == 'L') {
            uint32_t m;
            if (get(g->c[k].ev, &m, 4) != 0 || m != n || get(g->c[k].ev, lat, 8ull * n) != 0)
                return -1;
            return 0;
        }
        uint64_t elapsed;
        return get(g->c[k].ev, &elapsed, 8) == 0 ? (int64_t)elapsed : -1;
    }
    return -1;
}

static int make_certs(const char *certs)
{
    const char *err = "";
    if (hv_net_certs_init(certs, &err) != 0)
        return HV_EIO;
    for (int k = 1; k <= REPLICAS; k++) {
        char name[32];
        snprintf(name, sizeof(name), "replica-%d", k);
        if (hv_net_certs_issue(certs, name, HV_WIRE_ROLE_COORDINATOR,
                               HV_SWARM_ID(1, HV_LOG_REPLICA_LOCAL(k)), &err) != 0)
            return HV_EIO;
    }
    return 0;
}

static int rig_start(rig *g, const char base[200])
{
    memset(g, 0, sizeof(*g));
    g->leader = -1;
    snprintf(g->dir, sizeof(g->dir), "%.200s/hv", base);
    char certs[300];
    snprintf(certs, sizeof(certs), "%.250s/certs", g->dir);
    if (mkdir(g->dir, 0700) != 0 || mkdir(certs, 0700) != 0 || make_certs(certs) != 0)
        return HV_EIO;
    for (int k = 0; k < REPLICAS; k++) {
        char d[300];
        snprintf(d, sizeof(d), "%.250s/replica-%d", g->dir, k + 1);
        if (mkdir(d, 0700) != 0)
            return HV_EIO;
        snprintf(g->addr[k], sizeof(g->addr[k]), "127.0.0.1:%u",
                 (unsigned)hv_bench_free_port(SOCK_STREAM));
    }
    for (int k = 0; k < REPLICAS; k++)
        if (start_child(g, k, certs) != 0)
            return HV_EIO;
    return wait_leader(g);
}

static void rig_stop(rig *g)
{
    for (int k = 0; k < REPLICAS; k++)
        stop_child(g, k);
}

/* kill -9 of the leader; the time until another replica is leader with its barrier applied;
 * then the killed one starts again from its directory. */
static double hv_failover_ms(rig *g)
{
    if (wait_leader(g) != 0)
        return -1;
    int old = g->leader;
    char certs[300];
    snprintf(certs, sizeof(certs), "%.250s/certs", g->dir);
    uint64_t t0 = hv_now_ns();
    stop_child(g, old);
    g->leader = -1;
    uint64_t end = t0 + READY_NS;
    uint8_t tag;
    while (g->leader < 0 && hv_now_ns() < end)
        (void)next_event(g, 100000000, &tag);
    double ms = g->leader >= 0 ? (double)(g->c[g->leader].ready_ns - t0) / 1e6 : -1;
    if (getenv("HV_BENCH_DEBUG"))
        fprintf(stderr, "failover: old %d new %d ms %.1f\n", old, g->leader, ms);
    if (start_child(g, old, certs) != 0)
        return -1;
    return ms;
}

/* ---- NATS JetStream ---------------------------------------------------------------------------
 */

#ifdef HV_HAVE_NATS

typedef struct jet {
    hv_nats_server srv[REPLICAS];
    uint16_t port[REPLICAS], route[REPLICAS];
    char dir[300];
    natsConnection *nc;
    jsCtx *js;
    int ok;
} jet;

static int jet_conf(jet *j, int k)
{
    hv_nats_server *s = &j->srv[k];
    snprintf(s->conf, sizeof(s->conf), "%.250s/n%d.conf", j->dir, k + 1);
    snprintf(s->log, sizeof(s->log), "%.250s/n%d.log", j->dir, k + 1);
    FILE *f = fopen(s->conf, "w");
    if (f == NULL)
        return HV_EIO;
    fprintf(f,
            "server_name: n%d\nlisten: 127.0.0.1:%u\nmax_payload: 1048576\n"
            "jetstream { store_dir: \"%s/n%d\" }\n"
            "cluster {\n  name: hvbench\n  listen: 127.0.0.1:%u\n  routes: [",
            k + 1, (unsigned)j->port[k], j->dir, k + 1, (unsigned)j->route[k]);
    int first = 1;
    for (int i = 0; i < REPLICAS; i++)
        if (i != k) {
            fprintf(f, "%s \"nats-route://127.0.0.1:%u\"", first ? "" : ",", (unsigned)j->route[i]);
            first = 0;
        }
    fprintf(f, " ]\n}\n");
    return fclose(f) == 0 ? 0 : HV_EIO;
}

static natsStatus jet_stream(jet *j)
{
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subjects[] = { "hv.log" };
    cfg.Name = "HVLOG";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = REPLICAS;
    jsErrCode jerr = 0;
    natsStatus st = NATS_ERR;
    /* the cluster elects its meta leader after the servers are up: ask until it answers */
    uint64_t end = hv_now_ns() + READY_NS;
    while (hv_now_ns() < end) {
        jsStreamInfo *si = NULL;
        st = js_AddStream(&si, j->js, &cfg, NULL, &jerr);
        jsStreamInfo_Destroy(si);
        if (st == NATS_OK)
            break;
        poll(NULL, 0, 100);
    }
    return st;
}

static int jet_start(jet *j, const char base[200], hv_bench_report *r)
{
    memset(j, 0, sizeof(*j));
    snprintf(j->dir, sizeof(j->dir), "%.200s/nats", base);
    if (mkdir(j->dir, 0700) != 0)
        return HV_EIO;
    for (int k = 0; k < REPLICAS; k++) {
        j->port[k] = hv_bench_free_port(SOCK_STREAM);
        j->route[k] = hv_bench_free_port(SOCK_STREAM);
    }
    for (int k = 0; k < REPLICAS; k++)
        if (jet_conf(j, k) != 0 || hv_nats_server_spawn(&j->srv[k], READY_NS) != 0) {
            hv_bench_note(r, "nats-server did not start: the JetStream rows are skipped");
            return HV_EIO;
        }
    char url[REPLICAS][64];
    const char *urls[REPLICAS];
    for (int k = 0; k < REPLICAS; k++) {
        snprintf(url[k], sizeof(url[k]), "nats://127.0.0.1:%u", (unsigned)j->port[k]);
        urls[k] = url[k];
    }
    natsOptions *o = NULL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = natsOptions_SetServers(o, urls, REPLICAS);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(o, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(o, 20);
    if (st == NATS_OK)
        st = natsConnection_Connect(&j->nc, o);
    natsOptions_Destroy(o);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = 4096;
    if (st == NATS_OK)
        st = natsConnection_JetStream(&j->js, j->nc, &jo);
    if (st == NATS_OK)
        st = jet_stream(j);
    if (st != NATS_OK) {
        hv_bench_note(r, "JetStream did not come up (%s): its rows are skipped",
                      natsStatus_GetText(st));
        return HV_EIO;
    }
    j->ok = 1;
    return 0;
}

static void jet_stop(jet *j)
{
    jsCtx_Destroy(j->js);
    natsConnection_Destroy(j->nc);
    for (int k = 0; k < REPLICAS; k++)
        hv_nats_server_kill(&j->srv[k]);
}

static int jet_publish(jet *j, const void *data, int len, int64_t wait_ms)
{
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = wait_ms;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_Publish(&ack, j->js, "hv.log", data, len, &po, &jerr);
    jsPubAck_Destroy(ack);
    return st == NATS_OK ? 0 : -1;
}

/* The stream leader's server index, -1 if unknown. */
static int jet_leader(jet *j)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int k = -1;
    if (js_GetStreamInfo(&si, j->js, "HVLOG", NULL, &jerr) == NATS_OK && si->Cluster != NULL &&
        si->Cluster->Leader != NULL)
        k = atoi(si->Cluster->Leader + 1) - 1; /* "nK" */
    jsStreamInfo_Destroy(si);
    return k >= 0 && k < REPLICAS ? k : -1;
}

static double jet_failover_ms(jet *j, const uint8_t *data, int len)
{
    int k = jet_leader(j);
    if (k < 0)
        return -1;
    uint64_t t0 = hv_now_ns();
    hv_nats_server_kill(&j->srv[k]);
    uint64_t end = t0 + READY_NS;
    double ms = -1;
    while (hv_now_ns() < end)
        if (jet_publish(j, data, len, 250) == 0) {
            ms = (double)(hv_now_ns() - t0) / 1e6;
            break;
        }
    if (hv_nats_server_spawn(&j->srv[k], READY_NS) != 0)
        return -1;
    return ms;
}

#endif

/* ---- The workloads ----------------------------------------------------------------------------
 */

typedef struct bctx {
    hv_bench_report *r;
    rig g;
#ifdef HV_HAVE_NATS
    jet j;
#endif
    uint8_t entry[HV_LOG_ENTRY_MAX];
    int entry_len;
    uint32_t per_round, thr_n, thr_inflight;
    uint64_t *lat;
    double *lat_hv, *lat_js;
    size_t nlat_hv, nlat_js;
    int failed;
} bctx;

static double s_commit_hv(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    for (int attempt = 0; attempt < 3; attempt++)
        if (leader_op(&b->g, OP_LAT, b->per_round, 1, b->lat) == 0) {
            for (uint32_t i = 0; i < b->per_round; i++)
                b->lat_hv[b->nlat_hv++] = (double)b->lat[i] / 1e3;
            return hv_bench_quantile(b->lat_hv + b->nlat_hv - b->per_round, b->per_round, 0.5);
        }
    b->failed = 1;
    return 0;
}

static double s_thr_hv(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    for (int attempt = 0; attempt < 3; attempt++) {
        int64_t ns = leader_op(&b->g, OP_THR, b->thr_n, b->thr_inflight, b->lat);
        if (ns > 0)
            return (double)b->thr_n / ((double)ns / 1e9);
    }
    b->failed = 1;
    return 0;
}

static double s_failover_hv(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    double ms = hv_failover_ms(&b->g);
    b->failed |= ms < 0;
    return ms;
}

#ifdef HV_HAVE_NATS
static double s_commit_js(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    size_t first = b->nlat_js;
    for (uint32_t i = 0; i < b->per_round; i++) {
        uint64_t t = hv_now_ns();
        if (jet_publish(&b->j, b->entry, b->entry_len, 5000) != 0) {
            b->failed = 1;
            return 0;
        }
        b->lat_js[b->nlat_js++] = (double)(hv_now_ns() - t) / 1e3;
    }
    return hv_bench_quantile(b->lat_js + first, b->per_round, 0.5);
}

static double s_thr_js(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    uint64_t t = hv_now_ns();
    jsPubOptions po;
    jsPubOptions_Init(&po);
    uint32_t sent = 0;
    while (sent < b->thr_n) {
        /* keep at most thr_inflight unacknowledged, as the hivewire leader does */
        int n = 0;
        for (; n < (int)b->thr_inflight && sent < b->thr_n; n++, sent++)
            if (js_PublishAsync(b->j.js, "hv.log", b->entry, b->entry_len, &po) != NATS_OK) {
                b->failed = 1;
                return 0;
            }
        jsPubOptions wait;
        jsPubOptions_Init(&wait);
        wait.MaxWait = 10000;
        if (js_PublishAsyncComplete(b->j.js, &wait) != NATS_OK) {
            b->failed = 1;
            return 0;
        }
    }
    return (double)b->thr_n / ((double)(hv_now_ns() - t) / 1e9);
}

static double s_failover_js(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)impl;
    (void)s;
    bctx *b = ctx;
    double ms = jet_failover_ms(&b->j, b->entry, b->entry_len);
    b->failed |= ms < 0;
    return ms;
}
#endif

static const char *fs_name(const char *dir)
{
    struct statfs s;
    if (statfs(dir, &s) != 0)
        return "unknown";
    switch ((unsigned long)s.f_type) {
    case 0x01021994ul:
        return "tmpfs";
    case 0xef53ul:
        return "ext4";
    case 0x58465342ul:
        return "xfs";
    case 0x9123683eul:
        return "btrfs";
    case 0x794c7630ul:
        return "overlayfs";
    default:
        return "other";
    }
}

static void params(bctx *b, char *out, size_t cap, const char *extra)
{
    char vn[128];
    hv_nats_versions(vn, sizeof(vn));
    snprintf(out, cap,
             "{\"entry_bytes\": %d, \"replicas\": %d, \"storage\": \"%s\", \"filesystem\": "
             "\"%s\", \"raft\": \"canonical/raft 0.15 raft_uv, mTLS 1.3 (GnuTLS %s)\", "
             "\"peer\": \"%s, JetStream R3 file storage\", \"placement\": \"hivewire: proposer "
             "in the leader's process; JetStream: libnats client in the bench process\"%s%s}",
             b->entry_len, REPLICAS, b->g.dir, fs_name(b->g.dir), gnutls_check_version(NULL), vn,
             extra ? ", " : "", extra ? extra : "");
}

static void commit_rows(bctx *b, unsigned rounds, hv_bench_plan *p)
{
    char pj[1024], extra[128];
    snprintf(extra, sizeof(extra), "\"in_flight\": 1, \"per_round\": %u, \"rounds\": %u",
             b->per_round, rounds);
    params(b, pj, sizeof(pj), extra);
    double *v = hv_bench_interleave_new(p);
    if (v == NULL)
        return;
    hv_bench_add(b->r, "commit_decision", "hivewire", "us", b->lat_hv, b->nlat_hv, pj);
    if (p->nimpl > 1)
        hv_bench_add(b->r, "commit_decision", "nats_jetstream", "us", b->lat_js, b->nlat_js, pj);
    hv_bench_add_plan(b->r, "commit_decision_round_p50", "us", p, v, pj, NULL);
    hv_bench_ratio(b->r, "commit_decision_round_p50", "hivewire", "nats_jetstream");
    free(v);
}

/* ---- The default swarm with and without the log ------------------------------------------- */

typedef struct swctx {
    hv_series bars;
    uint64_t cycles;
    char base[200];
    unsigned runs;
    int failed;
} swctx;

/* One whole run of the default swarm (the one-thread runner): cycles per second of wall time;
 * with three replicas in the process when replicated (a new log each run). */
static double s_swarm(const hv_bench_impl *impl, void *ctx, unsigned s)
{
    (void)s;
    swctx *w = ctx;
    hv_swarm_opts cfg;
    hv_swarm_opts_default(&cfg);
    cfg.cycles_max = w->cycles;
    hv_swarm *sw = NULL;
    sw_replicas *r = NULL;
    char dir[300], certs[320], err[512];
    snprintf(dir, sizeof(dir), "%.200s/run-%u", w->base, w->runs++);
    snprintf(certs, sizeof(certs), "%.200s/certs", w->base);
    int rc = hv_swarm_new(&cfg, w->bars.bars, w->bars.len, &sw);
    if (rc == 0 && impl->variant) {
        sw_replicas_opts o = { .n = 3,
                               .data_dir = dir,
                               .certs_dir = certs,
                               .node = cfg.node,
                               .cfg = &cfg,
                               .bars = w->bars.bars,
                               .nbars = w->bars.len,
                               .cycles = w->cycles,
                               .fresh = 1 };
        rc = hv__sw_replicas_new(&r, &o, err, sizeof(err));
        if (rc == 0)
            rc = hv__swarm_attach_log(sw, hv__sw_replicas_ops(), r, hv__sw_replicas_actor(r));
    }
    uint64_t t0 = hv_now_ns();
    if (rc == 0)
        rc = hv_swarm_run(sw, NULL, NULL);
    double secs = (double)(hv_now_ns() - t0) / 1e9;
    if (r != NULL && rc == 0)
        rc = hv__sw_replicas_settle(r);
    hv__sw_replicas_free(r);
    hv_swarm_free(sw);
    w->failed |= rc != 0;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    w->failed |= system(cmd) != 0;
    return rc == 0 ? (double)w->cycles / secs : 0;
}

static void swarm_rows(hv_bench_report *r, const hv_bench_opts *opts, const char *base)
{
    swctx *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return;
    hv_series_init(&w->bars);
    const char *roots[2] = { ".", HV_LOG_SOURCE_DIR };
    const char *what = "synthetic";
    for (int i = 0; i < 2 && w->bars.len == 0; i++) {
        char path[4096];
        hv_csv_report rep;
        snprintf(path, sizeof(path), "%s/data/sp500-2000.csv", roots[i]);
        if (hv_csv_load_bars(path, NULL, &w->bars, &rep) == 0)
            what = "sp500-2000.csv";
        else {
            hv_series_fini(&w->bars);
            hv_series_init(&w->bars);
        }
    }
    if (w->bars.len == 0) {
        hv_gbm_params p;
        hv_gbm_params_default(&p);
        hv_synth g;
        if (hv_synth_init(&g, &p, 1) != 0 || hv_synth_fill(&g, 5105, &w->bars) != 0) {
            hv_bench_fail(r, "log: no bars for the swarm");
            free(w);
            return;
        }
    }
    w->cycles = opts->quick ? 300 : w->bars.len;
    snprintf(w->base, sizeof(w->base), "%.150s/swarm", base);
    mkdir(w->base, 0700);
    hv_bench_impl impls[2] = { { .name = "unreplicated", .sample = s_swarm, .variant = 0 },
                               { .name = "replicated_3", .sample = s_swarm, .variant = 1 } };
    hv_bench_plan p = {
        .impls = impls, .nimpl = 2, .samples = hv_bench_samples(opts, 5), .ctx = w, .rotate = 1
    };
    char pj[512];
    snprintf(pj, sizeof(pj),
             "{\"data\": \"%s\", \"cycles\": %" PRIu64 ", \"swarm\": \"default (4 pattern "
             "agents, 5 voters), runner one\", \"replicas\": \"3 in the coordinator's process, "
             "mTLS on loopback, raft_uv in %s\", \"filesystem\": \"%s\"}",
             what, w->cycles, w->base, fs_name(w->base));
    hv_bench_run(r, "swarm_cycles_per_s", "cycles/s", &p, pj, NULL);
    hv_bench_ratio(r, "swarm_cycles_per_s", "replicated_3", "unreplicated");
    if (w->failed)
        hv_bench_fail(r, "log: a swarm run failed");
    hv_bench_note(r, "swarm_cycles_per_s: the ratio replicated_3 vs unreplicated is the share of "
                     "its cycles/s the default swarm keeps on the replicated log (the target: at "
                     "least 0.7)");
    hv_series_fini(&w->bars);
    free(w);
}

int hv_bench_log(const hv_bench_opts *opts)
{
    hv_bench_report *r = hv_bench_report_new("log", opts);
    if (r == NULL)
        return 1;
    bctx *b = calloc(1, sizeof(*b));
    const char *tmp = getenv("TMPDIR");
    char basebuf[200];
    snprintf(basebuf, sizeof(basebuf), "%.150s/hv-bench-log-XXXXXX", tmp ? tmp : "/tmp");
    if (b == NULL || mkdtemp(basebuf) == NULL) {
        hv_bench_fail(r, "log: no temporary directory");
        free(b);
        return hv_bench_report_finish(r);
    }
    b->r = r;
    unsigned rounds = hv_bench_samples(opts, 7);
    b->per_round = opts->quick ? 20 : 200;
    b->thr_n = opts->quick ? 200 : 5000;
    b->thr_inflight = 256;
    unsigned failovers = opts->quick ? 1 : hv_bench_samples(opts, 5);
    b->lat = calloc(b->thr_n > b->per_round ? b->thr_n : b->per_round, sizeof(uint64_t));
    b->lat_hv = calloc((size_t)rounds * b->per_round, sizeof(double));
    b->lat_js = calloc((size_t)rounds * b->per_round, sizeof(double));
    hv_log_entry e;
    decision(&e, 1);
    size_t len = 0;
    hv_log_entry_encode(&e, b->entry, sizeof(b->entry), &len);
    b->entry_len = (int)len;
    if (rig_start(&b->g, basebuf) != 0) {
        hv_bench_fail(r, "log: the replicas did not elect a leader");
        rig_stop(&b->g);
        return hv_bench_report_finish(r);
    }
    hv_bench_impl impls[2] = { { .name = "hivewire", .sample = s_commit_hv } };
    size_t nimpl = 1;
#ifdef HV_HAVE_NATS
    if (jet_start(&b->j, basebuf, r) == 0) {
        impls[1] = (hv_bench_impl){ .name = "nats_jetstream", .sample = s_commit_js };
        nimpl = 2;
    }
#endif
    hv_bench_plan p = { .impls = impls, .nimpl = nimpl, .samples = rounds, .ctx = b, .rotate = 1 };
    char pj[1024], extra[128];
    if (hv_bench_selected(opts, "commit_decision"))
        commit_rows(b, rounds, &p);
    if (hv_bench_selected(opts, "decisions_per_s")) {
        impls[0].sample = s_thr_hv;
#ifdef HV_HAVE_NATS
        impls[1].sample = s_thr_js;
#endif
        snprintf(extra, sizeof(extra), "\"in_flight\": %u, \"per_round\": %u", b->thr_inflight,
                 b->thr_n);
        params(b, pj, sizeof(pj), extra);
        hv_bench_run(r, "decisions_per_s", "msg/s", &p, pj, NULL);
        hv_bench_ratio(r, "decisions_per_s", "hivewire", "nats_jetstream");
    }
    if (hv_bench_selected(opts, "failover")) {
        impls[0].sample = s_failover_hv;
#ifdef HV_HAVE_NATS
        impls[1].sample = s_failover_js;
#endif
        p.samples = failovers;
        snprintf(extra, sizeof(extra),
                 "\"kill\": \"SIGKILL of the leader's process\", \"election_timeout_ms\": 300");
        params(b, pj, sizeof(pj), extra);
        hv_bench_run(r, "failover", "ms", &p, pj, NULL);
        hv_bench_ratio(r, "failover", "hivewire", "nats_jetstream");
    }
    if (b->failed)
        hv_bench_fail(r, "log: an operation failed (a commit, a publish, or a failover)");
    if (hv_bench_selected(opts, "swarm_cycles_per_s"))
        swarm_rows(r, opts, basebuf);
    hv_bench_note(r, "hivewire's commit is timed in the leader's process (where the swarm's "
                     "coordinator proposes); JetStream's publish-ack in a client process: the "
                     "JetStream figure includes a loopback hop the hivewire one does not");
    rig_stop(&b->g);
#ifdef HV_HAVE_NATS
    if (b->j.ok || b->j.nc != NULL)
        jet_stop(&b->j);
#endif
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", basebuf);
    if (system(cmd) != 0)
        hv_bench_note(r, "could not remove %s", basebuf);
    free(b->lat);
    free(b->lat_hv);
    free(b->lat_js);
    free(b);
    return hv_bench_report_finish(r);
}

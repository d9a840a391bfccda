/*
 * The coordinator on the replicated decision log: its replicas (all N, or this process's one),
 * on one loop (replicated.h). With every replica here, the loop has a thread of its own while
 * the swarm runs; with one, the swarm's runner drives it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hivewire/codec.h>
#include <hivewire/net.h>

#include "log/replica.h"
#include "log/tls.h"
#include "platform/platform.h"
#include "swarm/replicated.h"

#define QUEUE_MAX   1024u /* entries waiting for a leader, or for the replicas' thread */
#define NOTICES_MAX 1024u /* commit notices the coordinator has not taken yet */
#define WAIT_NS     (10ull * 1000000000ull)

typedef struct member {
    sw_replicas *rs;
    uint32_t k;
    struct raft_uv_transport t;
    hv_replica *r;
    int t_ok;
    hv_decision last_decision; /* the last decision entry it applied */
    char dir[4200];
} member;

typedef struct queued {
    hv_log_entry e;
    uint64_t token;
} queued;

struct sw_replicas {
    hv_actor actor; /* first: what the runner sees */
    hv_link link;
    uv_loop_t loop;
    uint32_t n;
    uint32_t self; /* 0: every replica here; k: replica k only */
    void (*on_lead)(void *ud, int leading);
    void *ud;
    member m[HV_REPLICAS_MAX];
    char addr[HV_REPLICAS_MAX][64];
    int leader;   /* the ready one, -1 */
    int led_once; /* some replica led: a change after that stops the run */
    int had_run;  /* the log held a genesis already when the first leader took over */
    int lost;     /* leadership moved during the run */
    hv_log_genesis genesis;
    const hv_bar *bars;
    size_t nbars;
    queued *q;
    uint32_t qhead, qn;
    struct {
        uint64_t token;
        int status;
    } notes[NOTICES_MAX];
    uint32_t nhead, nn;
    uint64_t proposed; /* chain position of the last entry proposed */
    uint32_t closed;
    /* The loop's own thread (self 0, from the end of hv__sw_replicas_new to the settle): the
     * coordinator appends to q and takes notes under mu, then wakes the loop with `wake`; the
     * loop wakes the runner with efd (written once per `kicked`). leader, lost, led_once and
     * had_run are the loop's, also under mu. Without the thread mu is taken all the same. */
    pthread_mutex_t mu;
    pthread_cond_t room; /* q has room again, or the leader is lost */
    pthread_t thread;
    int threaded;        /* the thread runs */
    int stopping;        /* under mu: the thread is asked to stop */
    uint64_t full_waits; /* under mu: appends that waited for room in q */
    uv_async_t wake;
    uv_check_t again; /* after every turn of the loop: what waits, proposed */
    int wake_ok;
    int efd;
    atomic_int kicked;
};

/* ---- Proposals ----------------------------------------------------------------------------- */

/* Tells the runner, on the coordinator's thread, that a notice waits. */
static void kick(sw_replicas *rs)
{
    if (rs->threaded && atomic_exchange(&rs->kicked, 1) == 0) {
        uint64_t one = 1;
        while (write(rs->efd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
    }
}

/* Under mu. */
static void note_locked(sw_replicas *rs, uint64_t token, int status)
{
    if (rs->nn == NOTICES_MAX)
        return; /* the coordinator waits for one decision at a time: cannot fill */
    rs->notes[(rs->nhead + rs->nn++) % NOTICES_MAX].token = token;
    rs->notes[(rs->nhead + rs->nn - 1) % NOTICES_MAX].status = status;
}

static void note(sw_replicas *rs, uint64_t token, int status)
{
    pthread_mutex_lock(&rs->mu);
    note_locked(rs, token, status);
    pthread_mutex_unlock(&rs->mu);
    kick(rs);
}

static int propose(sw_replicas *rs, hv_log_entry *e, uint64_t token)
{
    member *m = &rs->m[rs->leader];
    if (e->type == HV_LOG_CYCLE) { /* the bar, from the log's own copy of the data */
        if (e->cycle.cycle >= rs->nbars)
            return HV_ERANGE;
        e->cycle.bar = rs->bars[e->cycle.cycle];
    }
    int rc = hv_replica_propose(m->r, e, token);
    if (rc == 0)
        rs->proposed = e->seq;
    return rc;
}

/* On the loop's thread: proposes what waits, in order. The coordinator only adds at the tail,
 * so the head read under mu stays while it is proposed. No leader, or Raft's in-flight bound
 * reached: the entry waits (for the next leader, or the next turn of the loop); an entry the
 * leader refuses otherwise is a notice with that error. */
static void flush(sw_replicas *rs)
{
    for (;;) {
        pthread_mutex_lock(&rs->mu);
        int more = rs->leader >= 0 && rs->qn > 0;
        queued x;
        if (more)
            x = rs->q[rs->qhead];
        pthread_mutex_unlock(&rs->mu);
        if (!more)
            return;
        int rc = propose(rs, &x.e, x.token);
        if (rc == HV_ENOTLEADER || rc == HV_EFULL)
            return;
        pthread_mutex_lock(&rs->mu);
        rs->qhead = (rs->qhead + 1) % QUEUE_MAX;
        rs->qn--;
        if (rc != 0)
            note_locked(rs, x.token, rc);
        pthread_cond_signal(&rs->room);
        pthread_mutex_unlock(&rs->mu);
        if (rc != 0)
            kick(rs);
    }
}

/* Under mu: a full queue (the coordinator ran ahead of the replicas' thread) holds the
 * coordinator until there is room, the leader is lost, or WAIT_NS. */
static void wait_for_room(sw_replicas *rs)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(WAIT_NS / 1000000000ull);
    while (rs->qn == QUEUE_MAX && !rs->lost)
        if (pthread_cond_timedwait(&rs->room, &rs->mu, &until) == ETIMEDOUT)
            return;
}

/* The coordinator's thread, with the loop on its own: the entry waits for that thread. */
static int append_threaded(sw_replicas *rs, const hv_log_entry *e, uint64_t token)
{
    pthread_mutex_lock(&rs->mu);
    if (rs->qn == QUEUE_MAX && !rs->lost) {
        rs->full_waits++;
        wait_for_room(rs);
    }
    int rc = rs->lost ? HV_ENOTLEADER : rs->qn == QUEUE_MAX ? HV_EFULL : 0;
    if (rc == 0) {
        queued *x = &rs->q[(rs->qhead + rs->qn++) % QUEUE_MAX];
        x->e = *e;
        x->token = token;
    }
    pthread_mutex_unlock(&rs->mu);
    if (rc == 0)
        uv_async_send(&rs->wake);
    return rc;
}

static int log_append(void *ud, hv_log_entry *e, uint64_t token)
{
    sw_replicas *rs = ud;
    if (rs->threaded)
        return append_threaded(rs, e, token);
    if (rs->lost)
        return HV_ENOTLEADER;
    if (rs->leader >= 0 && rs->qn == 0) {
        int rc = propose(rs, e, token);
        if (rc != HV_ENOTLEADER && rc != HV_EFULL)
            return rc;
    }
    if (rs->qn == QUEUE_MAX)
        return HV_EFULL;
    queued *x = &rs->q[(rs->qhead + rs->qn++) % QUEUE_MAX];
    x->e = *e;
    x->token = token;
    return 0;
}

static int log_pending(void *ud)
{
    sw_replicas *rs = ud;
    pthread_mutex_lock(&rs->mu);
    int n = rs->nn > 0;
    pthread_mutex_unlock(&rs->mu);
    return n;
}

static int log_notice(void *ud, uint64_t *token, int *status)
{
    sw_replicas *rs = ud;
    pthread_mutex_lock(&rs->mu);
    int got = rs->nn > 0;
    if (got) {
        *token = rs->notes[rs->nhead].token;
        *status = rs->notes[rs->nhead].status;
        rs->nhead = (rs->nhead + 1) % NOTICES_MAX;
        rs->nn--;
    }
    pthread_mutex_unlock(&rs->mu);
    return got;
}

static const sw_log_ops log_ops = {
    .append = log_append,
    .pending = log_pending,
    .notice = log_notice,
};

const sw_log_ops *hv__sw_replicas_ops(void)
{
    return &log_ops;
}

/* ---- The replicas' events ------------------------------------------------------------------ */

/* Under mu. A new leader here: nothing of an earlier coordinator of this process is proposed. */
static void forget(sw_replicas *rs)
{
    rs->qhead = rs->qn = 0;
    rs->nhead = rs->nn = 0;
    rs->lost = 0;
}

/* Under mu: this replica stopped leading. Returns 1 when that ends the coordinator's run. */
static int stepped_down(sw_replicas *rs, const member *m)
{
    if (rs->leader != (int)m->k)
        return 0;
    rs->leader = -1;
    rs->lost = rs->led_once;
    rs->qhead = rs->qn = 0; /* the coordinator that appended them stops */
    note_locked(rs, 0, HV_ENOTLEADER);
    pthread_cond_broadcast(&rs->room);
    return 1;
}

static void on_role(void *ud, int leader)
{
    member *m = ud;
    sw_replicas *rs = m->rs;
    pthread_mutex_lock(&rs->mu);
    int told = 0;
    if (!leader)
        told = stepped_down(rs, m);
    else if (rs->led_once && rs->self == 0) { /* another leader after the first, in one process */
        rs->lost = 1;
        note_locked(rs, 0, HV_ENOTLEADER);
        pthread_cond_broadcast(&rs->room);
        told = 1;
    }
    int ends = !leader || told;
    if (!ends) {
        if (rs->self != 0)
            forget(rs);
        rs->leader = (int)m->k;
        rs->led_once = 1;
    }
    pthread_mutex_unlock(&rs->mu);
    if (told)
        kick(rs);
    if (!leader && told && rs->on_lead != NULL)
        rs->on_lead(rs->ud, 0);
    if (ends)
        return;
    hv_log_status st;
    hv_log_fsm_status(hv_replica_fsm(m->r), &st);
    rs->had_run = st.genesis;
    if (!st.genesis) {
        hv_log_entry e;
        memset(&e, 0, sizeof(e));
        e.type = HV_LOG_GENESIS;
        e.genesis = rs->genesis;
        (void)propose(rs, &e, 0);
    }
    flush(rs);
    if (rs->on_lead != NULL)
        rs->on_lead(rs->ud, 1);
}

static void on_apply(void *ud, const hv_log_entry *e, int rc)
{
    member *m = ud;
    if (e != NULL && rc == 0 && e->type == HV_LOG_DECISION)
        m->last_decision = e->decision.d;
}

static void on_commit(void *ud, uint64_t token, int status, int verdict)
{
    member *m = ud;
    (void)verdict;
    if (token != 0)
        note(m->rs, token, status);
}

/* ---- The actor and its link: the replicas' loop ------------------------------------------- */

static sw_replicas *of_link(const hv_link *l)
{
    return (sw_replicas *)((const char *)l - offsetof(sw_replicas, link));
}

static int lk_publish(hv_link *l, const char *subject, int prio, const uint8_t *f, size_t n)
{
    (void)l;
    (void)subject;
    (void)prio;
    (void)f;
    (void)n;
    return HV_ENOSUBSCRIBER; /* the log says nothing on the bus */
}

static int lk_subscribe(hv_link *l, const char *pattern)
{
    (void)l;
    (void)pattern;
    return 0;
}

static uint64_t lk_now(hv_link *l)
{
    (void)l;
    return hv_now_ns();
}

/* With the loop on its thread: takes the wake-up (written at most once per kick; one that is
 * still on its way is taken at the next call, when poll() says it came). */
static void unkick(sw_replicas *rs)
{
    uint64_t v;
    if (atomic_load(&rs->kicked) && read(rs->efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
        atomic_store(&rs->kicked, 0);
}

/* Runs the replicas' loop once (or, on its own thread, takes its wake-up); never a frame. */
static int lk_recv(hv_link *l, hv_link_msg *out, uint64_t now_ns)
{
    (void)out;
    (void)now_ns;
    sw_replicas *rs = of_link(l);
    if (rs->threaded) {
        unkick(rs);
        return 0;
    }
    uv_run(&rs->loop, UV_RUN_NOWAIT);
    flush(rs);
    return 0;
}

static void lk_release(hv_link *l, hv_link_msg *m)
{
    (void)l;
    (void)m;
}

static int lk_wait(hv_link *l, uint64_t timeout_ns)
{
    sw_replicas *rs = of_link(l);
    struct pollfd p = { .fd = rs->threaded ? rs->efd : uv_backend_fd(&rs->loop), .events = POLLIN };
    int ms = (int)((timeout_ns + 999999) / 1000000);
    int t = rs->threaded ? -1 : uv_backend_timeout(&rs->loop);
    if (t >= 0 && t < ms)
        ms = t;
    while (poll(&p, 1, ms) < 0 && errno == EINTR)
        ;
    if (rs->threaded)
        unkick(rs);
    else
        uv_run(&rs->loop, UV_RUN_NOWAIT);
    return 0;
}

static int lk_fd(const hv_link *l)
{
    const sw_replicas *rs = of_link(l);
    return rs->threaded ? rs->efd : uv_backend_fd(&of_link(l)->loop);
}

static int lk_arm(hv_link *l)
{
    (void)l;
    return 0;
}

static void lk_disarm(hv_link *l)
{
    (void)l;
}

static uint64_t lk_next_expiry(const hv_link *l)
{
    if (of_link(l)->threaded)
        return UINT64_MAX; /* the loop's timers are its thread's */
    int t = uv_backend_timeout(&of_link(l)->loop);
    return t < 0 ? UINT64_MAX : hv_now_ns() + (uint64_t)t * 1000000ull;
}

static const hv_link_ops link_ops = {
    .publish = lk_publish,
    .subscribe = lk_subscribe,
    .now = lk_now,
    .recv = lk_recv,
    .release = lk_release,
    .wait = lk_wait,
    .fd = lk_fd,
    .arm = lk_arm,
    .disarm = lk_disarm,
    .next_expiry = lk_next_expiry,
};

static int ac_start(hv_actor *a, uint64_t now_ns)
{
    (void)a;
    (void)now_ns;
    return 0;
}

static int ac_on_msg(hv_actor *a, const uint8_t *f, size_t n, uint64_t now_ns)
{
    (void)a;
    (void)f;
    (void)n;
    (void)now_ns;
    return 0;
}

static int ac_on_expiry(hv_actor *a, uint64_t now_ns)
{
    (void)a;
    (void)now_ns;
    return 0;
}

static uint64_t ac_next_expiry(const hv_actor *a)
{
    (void)a;
    return UINT64_MAX; /* its link's timers are the loop's */
}

static const hv_actor_ops actor_ops = {
    .start = ac_start,
    .on_msg = ac_on_msg,
    .on_expiry = ac_on_expiry,
    .next_expiry = ac_next_expiry,
};

hv_actor *hv__sw_replicas_actor(sw_replicas *r)
{
    return &r->actor;
}

/* ---- Start and stop ------------------------------------------------------------------------ */

int hv__sw_replicas_certs(const char *certs_dir, uint32_t n, uint32_t node, char *err, size_t cap)
{
    char ca[4200];
    snprintf(ca, sizeof(ca), "%s/ca.pem", certs_dir);
    const char *why = "";
    if (mkdir(certs_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, cap, "%s: %s", certs_dir, strerror(errno));
        return HV_EIO;
    }
    if (access(ca, R_OK) != 0 && hv_net_certs_init(certs_dir, &why) != 0) {
        snprintf(err, cap, "%s: cannot make the CA (%s)", certs_dir, why);
        return HV_EIO;
    }
    for (uint32_t k = 1; k <= n; k++) {
        char name[32], pem[4300];
        snprintf(name, sizeof(name), "replica-%u", k);
        snprintf(pem, sizeof(pem), "%s/%s.pem", certs_dir, name);
        if (access(pem, R_OK) == 0)
            continue;
        if (hv_net_certs_issue(certs_dir, name, HV_WIRE_ROLE_COORDINATOR,
                               HV_SWARM_ID(node, HV_LOG_REPLICA_LOCAL(k)), &why) != 0) {
            snprintf(err, cap, "%s/%s: cannot issue the certificate (%s)", certs_dir, name, why);
            return HV_EIO;
        }
    }
    return 0;
}

static void genesis_of(const sw_replicas_opts *o, hv_log_genesis *g)
{
    memset(g, 0, sizeof(*g));
    g->swarm_seed = o->cfg->seed;
    g->bar_ns = o->cfg->bar_ns;
    g->cycles_max = o->cycles > 0 ? o->cycles : 1;
    g->cash = o->cfg->cash;
    g->curve_points = 4096; /* the venue's (hv__sw_venue_init) */
    g->exchange = o->cfg->exchange;
    g->limits = o->cfg->limits;
}

static int start_member(sw_replicas *rs, uint32_t k, const sw_replicas_opts *o, char *err,
                        size_t cap)
{
    member *m = &rs->m[k];
    m->rs = rs;
    m->k = k;
    char ca[4200], crt[4300], key[4300];
    snprintf(ca, sizeof(ca), "%s/ca.pem", o->certs_dir);
    snprintf(crt, sizeof(crt), "%s/replica-%u.pem", o->certs_dir, k + 1);
    snprintf(key, sizeof(key), "%s/replica-%u.key", o->certs_dir, k + 1);
    snprintf(m->dir, sizeof(m->dir), "%s/replica-%u", o->data_dir, k + 1);
    if (mkdir(m->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, cap, "%s: %s", m->dir, strerror(errno));
        return HV_EIO;
    }
    hv_log_tls_opts to = { ca, crt, key, o->node };
    int rc = hv__log_tls_init(&m->t, &rs->loop, &to, err, cap);
    if (rc != 0)
        return rc;
    m->t_ok = 1;
    hv_replica_opts ro;
    hv_replica_opts_default(&ro);
    ro.id = k + 1;
    ro.n = rs->n;
    for (uint32_t i = 0; i < rs->n; i++)
        ro.addresses[i] = rs->addr[i];
    ro.data_dir = m->dir;
    ro.loop = &rs->loop;
    ro.transport = &m->t;
    if (o->snapshot_threshold > 0)
        ro.snapshot_threshold = ro.snapshot_trailing = o->snapshot_threshold;
    if (o->election_timeout_ms > 0)
        ro.election_timeout_ms = o->election_timeout_ms;
    ro.ud = m;
    ro.on_role = on_role;
    ro.on_apply = on_apply;
    ro.on_commit = on_commit;
    return hv_replica_start(&m->r, &ro, err, cap);
}

/* The replicas' addresses are in their logs' configuration: chosen once (free loopback ports),
 * kept in DIR/addresses, and the same at every start from that directory. */
static int addresses(sw_replicas *rs, const sw_replicas_opts *o, char *err, size_t cap)
{
    if (o->addresses != NULL) { /* replicas in processes of their own: given */
        for (uint32_t k = 0; k < rs->n; k++)
            snprintf(rs->addr[k], sizeof(rs->addr[k]), "%s", o->addresses[k]);
        return 0;
    }
    char path[4200];
    snprintf(path, sizeof(path), "%s/addresses", o->data_dir);
    FILE *f = fopen(path, "r");
    uint32_t n = 0;
    while (f != NULL && n < rs->n && fscanf(f, "%63s", rs->addr[n]) == 1)
        n++;
    if (f != NULL)
        fclose(f);
    if (f != NULL && n != rs->n) {
        snprintf(err, cap, "%s: %u addresses, for %u replicas", path, n, rs->n);
        return HV_EINVAL;
    }
    if (f != NULL)
        return 0;
    f = fopen(path, "w");
    for (uint32_t k = 0; f != NULL && k < rs->n; k++) {
        snprintf(rs->addr[k], sizeof(rs->addr[k]), "127.0.0.1:%u",
                 (unsigned)hv__loopback_free_port(SOCK_STREAM));
        fprintf(f, "%s\n", rs->addr[k]);
    }
    if (f == NULL || fclose(f) != 0) {
        snprintf(err, cap, "%s: cannot write", path);
        return HV_EIO;
    }
    return 0;
}

/* ---- The loop's own thread ------------------------------------------------------------------ */

static void on_wake(uv_async_t *h)
{
    sw_replicas *rs = h->data;
    pthread_mutex_lock(&rs->mu);
    int stop = rs->stopping;
    pthread_mutex_unlock(&rs->mu);
    flush(rs);
    if (stop)
        uv_stop(&rs->loop);
}

static void on_turn(uv_check_t *h)
{
    flush(h->data);
}

static void *loop_main(void *arg)
{
    sw_replicas *rs = arg;
    int stop = 0;
    while (!stop) { /* uv_run returns at uv_stop (asked) or with nothing left to run */
        uv_run(&rs->loop, UV_RUN_DEFAULT);
        pthread_mutex_lock(&rs->mu);
        stop = rs->stopping;
        pthread_mutex_unlock(&rs->mu);
    }
    return NULL;
}

/* Gives the loop a thread of its own: from now on the coordinator's thread touches only q and
 * the notes (under mu). 0, or an error with the loop still the caller's. */
static int thread_start(sw_replicas *rs)
{
    rs->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (rs->efd < 0)
        return HV_EIO;
    if (uv_async_init(&rs->loop, &rs->wake, on_wake) != 0)
        return HV_EIO;
    rs->wake.data = rs;
    rs->wake_ok = 1;
    uv_check_init(&rs->loop, &rs->again);
    rs->again.data = rs;
    uv_check_start(&rs->again, on_turn);
    rs->threaded = 1;
    int rc = pthread_create(&rs->thread, NULL, loop_main, rs);
    if (rc != 0) {
        rs->threaded = 0;
        errno = rc; /* for the caller's message */
        return HV_EIO;
    }
    return 0;
}

/* The loop back on the caller's thread (after the run: settling, figures, closing). */
static void thread_stop(sw_replicas *rs)
{
    if (!rs->threaded)
        return;
    pthread_mutex_lock(&rs->mu);
    rs->stopping = 1;
    pthread_mutex_unlock(&rs->mu);
    uv_async_send(&rs->wake);
    pthread_join(rs->thread, NULL);
    rs->threaded = 0;
    unkick(rs);
}

void hv__sw_replicas_halt(sw_replicas *r)
{
    thread_stop(r);
}

/* Runs the loop until pred(rs) or WAIT_NS; returns pred's last answer. */
static int run_until(sw_replicas *rs, int (*pred)(const sw_replicas *))
{
    uint64_t end = hv_now_ns() + WAIT_NS;
    while (!pred(rs) && hv_now_ns() < end) {
        hv_link_msg m;
        lk_wait(&rs->link, 20000000ull);
        (void)lk_recv(&rs->link, &m, 0);
    }
    return pred(rs);
}

static int has_leader(const sw_replicas *rs)
{
    return rs->leader >= 0;
}

int hv__sw_replicas_new(sw_replicas **out, const sw_replicas_opts *o, char *err, size_t cap)
{
    *out = NULL;
    err[0] = 0;
    if (o->n < 1 || o->n > HV_REPLICAS_MAX || o->data_dir == NULL || o->certs_dir == NULL ||
        o->cfg == NULL || o->bars == NULL || o->self > o->n ||
        (o->self != 0 && o->addresses == NULL)) {
        snprintf(err, cap, "replicas: 1 to %d, with a data directory", HV_REPLICAS_MAX);
        return HV_EINVAL;
    }
    if (mkdir(o->data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, cap, "%s: %s", o->data_dir, strerror(errno));
        return HV_EIO;
    }
    int rc = o->self == 0 || o->issue_certs
                 ? hv__sw_replicas_certs(o->certs_dir, o->n, o->node, err, cap)
                 : 0;
    if (rc != 0)
        return rc;
    sw_replicas *rs = calloc(1, sizeof(*rs));
    queued *q = calloc(QUEUE_MAX, sizeof(*q));
    if (rs == NULL || q == NULL || uv_loop_init(&rs->loop) != 0) {
        free(rs);
        free(q);
        return HV_ENOMEM;
    }
    rs->q = q;
    rs->efd = -1;
    pthread_mutex_init(&rs->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&rs->room, &ca);
    pthread_condattr_destroy(&ca);
    rs->n = o->n;
    rs->self = o->self;
    rs->on_lead = o->on_lead;
    rs->ud = o->ud;
    rs->leader = -1;
    rs->bars = o->bars;
    rs->nbars = o->nbars;
    genesis_of(o, &rs->genesis);
    rs->actor.ops = &actor_ops;
    rs->actor.link = &rs->link;
    rs->link.ops = &link_ops;
    snprintf(rs->actor.name, sizeof(rs->actor.name), "decision log");
    rc = addresses(rs, o, err, cap);
    for (uint32_t k = 0; rc == 0 && k < rs->n; k++)
        if (rs->self == 0 || k + 1 == rs->self)
            rc = start_member(rs, k, o, err, cap);
    *out = rs;
    if (rs->self != 0)
        return rc; /* the others are elsewhere: on_lead tells */
    if (rc == 0 && !run_until(rs, has_leader)) {
        snprintf(err, cap, "the %u replicas elected no leader in %.0f s", rs->n, WAIT_NS / 1e9);
        rc = HV_ETIMEDOUT;
    }
    if (rc == 0 && o->fresh && rs->had_run) {
        snprintf(err, cap,
                 "%s holds the log of a run already (hivewire log show --data-dir "
                 "%s/replica-1): give a new directory",
                 o->data_dir, o->data_dir);
        rc = HV_EEXIST;
    }
    if (rc == 0 && thread_start(rs) != 0) {
        snprintf(err, cap, "the replicas' thread: %s", strerror(errno));
        rc = HV_EIO;
    }
    return rc;
}

/* Every replica applied every entry: what was proposed here, and (after a restart) all the
 * leader's barrier applied. */
static int settled(const sw_replicas *rs)
{
    if (rs->leader < 0 || rs->qn > 0)
        return 0;
    hv_log_status lead;
    hv_log_fsm_status(hv_replica_fsm(rs->m[rs->leader].r), &lead);
    for (uint32_t k = 0; k < rs->n; k++) {
        hv_log_status st;
        if (rs->m[k].r == NULL)
            continue; /* in another process */
        hv_log_fsm_status(hv_replica_fsm(rs->m[k].r), &st);
        if (st.seq < rs->proposed || st.seq != lead.seq)
            return 0;
    }
    return 1;
}

int hv__sw_replicas_settle(sw_replicas *r)
{
    thread_stop(r);
    flush(r);
    return run_until(r, settled) ? 0 : HV_ETIMEDOUT;
}

static void member_closed(void *ud)
{
    member *m = ud;
    if (m->t_ok)
        hv__log_tls_fini(&m->t);
    m->t_ok = 0;
    m->rs->closed++;
}

void hv__sw_replicas_free(sw_replicas *rs)
{
    if (rs == NULL)
        return;
    thread_stop(rs);
    if (rs->wake_ok) {
        uv_close((uv_handle_t *)&rs->wake, NULL);
        uv_close((uv_handle_t *)&rs->again, NULL);
    }
    uint32_t want = 0;
    for (uint32_t k = 0; k < rs->n; k++) {
        if (rs->m[k].r != NULL) {
            want++;
            hv_replica_close(rs->m[k].r, member_closed, &rs->m[k]);
        } else if (rs->m[k].t_ok) {
            want++;
            rs->m[k].t.close(&rs->m[k].t, NULL);
            uv_run(&rs->loop, UV_RUN_NOWAIT);
            member_closed(&rs->m[k]);
        }
    }
    while (rs->closed < want && uv_run(&rs->loop, UV_RUN_ONCE) != 0)
        ;
    uv_run(&rs->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&rs->loop);
    if (rs->efd >= 0)
        close(rs->efd);
    pthread_cond_destroy(&rs->room);
    pthread_mutex_destroy(&rs->mu);
    free(rs->q);
    free(rs);
}

uint32_t hv__sw_replicas_count(const sw_replicas *r)
{
    return r->n;
}

static const member *here(const sw_replicas *r)
{
    return &r->m[r->self != 0 ? r->self - 1 : (r->leader >= 0 ? (uint32_t)r->leader : 0)];
}

const hv_log_fsm *hv__sw_replicas_fsm(const sw_replicas *r)
{
    return hv_replica_fsm(here(r)->r);
}

const hv_decision *hv__sw_replicas_last_decision(const sw_replicas *r)
{
    return &here(r)->last_decision;
}

void hv__sw_replicas_leader(const sw_replicas *r, uint64_t *replica, uint64_t *term)
{
    const char *address = NULL;
    uint64_t commit, applied;
    hv_replica_leader(here(r)->r, replica, &address);
    hv_replica_raft_stats(here(r)->r, term, &commit, &applied);
}

struct uv_loop_s *hv__sw_replicas_loop(sw_replicas *r)
{
    return &r->loop;
}

void hv__sw_replicas_info(const sw_replicas *r, uint32_t k, sw_replica_info *out)
{
    memset(out, 0, sizeof(*out));
    const hv_replica *x = r->m[k].r;
    if (x == NULL)
        return; /* in another process */
    hv_replica_raft_stats(x, &out->term, &out->commit, &out->applied);
    hv_log_fsm_status(hv_replica_fsm(x), &out->st);
    (void)hv_log_fsm_hash(hv_replica_fsm(x), out->state_hash);
    out->leader = r->leader == (int)k;
    out->full_waits = r->full_waits;
}

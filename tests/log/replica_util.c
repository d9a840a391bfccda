#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <raft/uv.h>

#include "log/replica.h"
#include "platform/platform.h"
#include "log_util.h"
#include "replica_util.h"

/* ---- The child ------------------------------------------------------------------------------ */

typedef struct child {
    uv_loop_t loop;
    hv_replica *r;
    logrun run;
    int out;
    int propose;
    int started;      /* the run was fast-forwarded to where the log ends */
    uint64_t skipped; /* entries of the run already in the log */
    int ended;        /* every entry proposed */
    hv_log_entry e;
    int have_e;
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

static void closed(void *ud)
{
    child *c = ud;
    uv_stop(&c->loop);
}

static void finish(child *c)
{
    solo_end end;
    memset(&end, 0, sizeof(end));
    const hv_log_fsm *f = hv_replica_fsm(c->r);
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    end.seq = st.seq;
    end.trades_hash = st.trades_hash;
    end.finished = st.finished;
    hv_log_fsm_hash(f, end.state_hash);
    uint8_t tag = 'E';
    put(c->out, &tag, 1);
    put(c->out, &end, sizeof(end));
    hv_replica_close(c->r, closed, c);
}

/* Keeps up to 16 entries in flight; the run starts where the log ends. */
static void feed(child *c)
{
    if (!c->started) {
        hv_log_status st;
        hv_log_fsm_status(hv_replica_fsm(c->r), &st);
        for (; c->skipped < st.seq; c->skipped++)
            if (!logrun_entry(&c->run, &c->e))
                break;
        c->started = 1;
    }
    while (c->propose && !c->ended && hv_replica_inflight(c->r) < 16) {
        if (!c->have_e && !logrun_entry(&c->run, &c->e)) {
            c->ended = 1;
            break;
        }
        c->have_e = 1;
        if (hv_replica_propose(c->r, &c->e, 0) != 0)
            return;
        c->have_e = 0;
    }
    if ((c->ended || !c->propose) && hv_replica_inflight(c->r) == 0)
        finish(c);
}

static void on_role(void *ud, int leader)
{
    if (leader)
        feed(ud);
}

static void on_apply(void *ud, const hv_log_entry *e, int rc)
{
    child *c = ud;
    uint8_t tag = rc == 0 ? 'A' : 'R';
    (void)e;
    put(c->out, &tag, 1);
}

static void on_commit(void *ud, uint64_t token, int status, int verdict)
{
    (void)token;
    (void)verdict;
    if (status == 0)
        feed(ud);
}

static void child_main(int out, const char *dir, uint64_t cycles, uint64_t seed, int propose,
                       size_t seg_bytes, unsigned threshold)
{
    static child c;
    c.out = out;
    c.propose = propose;
    if (uv_loop_init(&c.loop) != 0 || logrun_init(&c.run, cycles, seed) != 0)
        _exit(4);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", hv__loopback_free_port(SOCK_STREAM));
    static struct raft_uv_transport tcp;
    if (raft_uv_tcp_init(&tcp, &c.loop) != 0)
        _exit(5);
    hv_replica_opts o;
    hv_replica_opts_default(&o);
    o.id = 1;
    o.n = 1;
    o.addresses[0] = addr;
    o.data_dir = dir;
    o.loop = &c.loop;
    o.transport = &tcp; /* one replica: raft never connects; plain TCP is a test's choice */
    o.segment_bytes = seg_bytes;
    o.snapshot_threshold = threshold;
    o.snapshot_trailing = threshold;
    o.ud = &c;
    o.on_role = on_role;
    o.on_apply = on_apply;
    o.on_commit = on_commit;
    char err[512];
    if (hv_replica_start(&c.r, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "replica: %s\n", err);
        _exit(6);
    }
    uv_run(&c.loop, UV_RUN_DEFAULT);
    raft_uv_tcp_close(&tcp);
    _exit(0);
}

/* ---- The parent ----------------------------------------------------------------------------- */

int solo_start(solo *s, const char *dir, uint64_t cycles, uint64_t seed, int propose,
               size_t seg_bytes, unsigned threshold)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        close(p[0]);
        child_main(p[1], dir, cycles, seed, propose, seg_bytes, threshold);
    }
    close(p[1]);
    s->fd = p[0];
    return 0;
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

int solo_wait_applied(solo *s, uint64_t n)
{
    uint64_t got = 0;
    uint8_t tag;
    while (got < n && get(s->fd, &tag, 1) == 0) {
        if (tag == 'E')
            return 0;
        got++;
    }
    return got == n;
}

int solo_wait_end(solo *s, solo_end *out)
{
    uint8_t tag = 0;
    int rc = -1;
    while (get(s->fd, &tag, 1) == 0)
        if (tag == 'E') {
            rc = get(s->fd, out, sizeof(*out));
            break;
        }
    close(s->fd);
    int status = 0;
    waitpid(s->pid, &status, 0);
    return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void solo_kill(solo *s)
{
    kill(s->pid, SIGKILL);
    int status;
    waitpid(s->pid, &status, 0);
    close(s->fd);
}

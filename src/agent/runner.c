/*
 * Runners: move frames from links to actors and keep each actor's timer (agent.h).
 *
 * HV_RUNNER_ONE steps every actor on the calling thread: a sweep drains each actor's link and
 * fires its expiry when due; a sweep that found nothing to do blocks in poll() on every link's
 * fd until the earliest expiry. A frame one actor publishes to another is handled in the same
 * or the next sweep, by the same thread: no hand-off, no wake-up.
 *
 * HV_RUNNER_THREADS gives each actor but the first a thread of its own (the first runs on the
 * calling thread), optionally pinned to a CPU and under SCHED_BATCH; each thread drains its
 * actor's link, fires its expiry and otherwise blocks on the link until the next expiry.
 * The run ends when actors[0] is done; threads then leave at their next wake-up (the actors'
 * own protocol stops them first: the swarm's coordinator sends STOP).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "platform/platform.h"

#define DRAIN_MAX    64u          /* frames taken from one link before moving on */
#define IDLE_DEFAULT 200000000ull /* longest wait before re-checking the quit flag */

/* ---- Thread helpers (src/platform) ------------------------------------------------------------
 */

static void usage_self(hv_runner_usage *u)
{
    hv__thread_usage t;
    if (hv__thread_usage_self(&t) != 0)
        return;
    u->cpu_ns = t.cpu_ns;
    u->switches_voluntary = t.switches_voluntary;
    u->switches_involuntary = t.switches_involuntary;
}

static void usage_delta(hv_runner_usage *u, const hv_runner_usage *before)
{
    u->cpu_ns -= before->cpu_ns;
    u->switches_voluntary -= before->switches_voluntary;
    u->switches_involuntary -= before->switches_involuntary;
}

/* ---- Stepping one actor -----------------------------------------------------------------------
 */

typedef struct run {
    hv_actor **actors;
    size_t n;
    const hv_runner_opts *o;
    _Atomic int quit;
    _Atomic int fail_rc;
    _Atomic(const char *) failed;
    _Atomic uint64_t steps, waits;
} run;

static void fail(run *r, hv_actor *a, int rc)
{
    int expected = 0;
    if (atomic_compare_exchange_strong(&r->fail_rc, &expected, rc))
        atomic_store(&r->failed, a->name);
    atomic_store(&r->quit, 1);
}

/* Drains up to DRAIN_MAX frames and fires a due expiry. Returns the steps taken, or an error. */
static int step(run *r, hv_actor *a)
{
    int steps = 0;
    for (unsigned i = 0; i < DRAIN_MAX && !a->done; i++) {
        hv_link_msg m;
        uint64_t now = hv_now_ns();
        int got = a->link->ops->recv(a->link, &m, now);
        if (got < 0)
            return got;
        if (got == 0)
            break;
        int rc = a->ops->on_msg(a, m.frame, m.len, hv__actor_time(a, now));
        a->link->ops->release(a->link, &m);
        steps++;
        if (rc < 0)
            return rc;
    }
    if (!a->done) {
        uint64_t now = hv_now_ns();
        if (a->ops->next_expiry(a) <= now) {
            int rc = a->ops->on_expiry(a, hv__actor_time(a, now));
            steps++;
            if (rc < 0)
                return rc;
        }
    }
    atomic_fetch_add_explicit(&r->steps, (uint64_t)steps, memory_order_relaxed);
    return steps;
}

static uint64_t wait_bound(const run *r, const hv_actor *a, uint64_t now)
{
    uint64_t idle = r->o->idle_ns ? r->o->idle_ns : IDLE_DEFAULT;
    uint64_t next = a->ops->next_expiry(a);
    const hv_link *l = a->link;
    if (l->ops->next_expiry != NULL) {
        uint64_t ln = l->ops->next_expiry(l);
        next = ln < next ? ln : next;
    }
    if (next <= now)
        return 0;
    return next - now < idle ? next - now : idle;
}

/* ---- HV_RUNNER_ONE ----------------------------------------------------------------------------
 */

/* Blocks until some link may have input or the earliest expiry comes. */
static int idle_all(run *r)
{
    struct pollfd pfd[HV_RUNNER_ACTORS_MAX];
    hv_actor *armed[HV_RUNNER_ACTORS_MAX];
    size_t np = 0;
    uint64_t now = hv_now_ns();
    uint64_t t = UINT64_MAX;
    for (size_t i = 0; i < r->n; i++) {
        if (r->actors[i]->done)
            continue;
        uint64_t b = wait_bound(r, r->actors[i], now);
        t = b < t ? b : t;
    }
    if (t == 0)
        return 0;
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        hv_actor *a = r->actors[i];
        if (a->done)
            continue;
        rc = a->link->ops->arm(a->link);
        if (rc != 0)
            break;
        armed[np] = a;
        pfd[np].fd = a->link->ops->fd(a->link);
        pfd[np].events = POLLIN;
        pfd[np].revents = 0;
        np++;
    }
    if (rc == 0) {
        int ms = (int)((t + 999999) / 1000000);
        atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        while (poll(pfd, (nfds_t)np, ms) < 0 && errno == EINTR)
            ;
    }
    for (size_t i = 0; i < np; i++)
        armed[i]->link->ops->disarm(armed[i]->link);
    return rc == HV_EAGAIN ? 0 : rc;
}

static int all_done(const run *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (!r->actors[i]->done)
            return 0;
    return 1;
}

static int run_one(run *r)
{
    while (r->o->until_all ? !all_done(r) : !r->actors[0]->done) {
        int progress = 0;
        for (size_t i = 0; i < r->n; i++) {
            hv_actor *a = r->actors[i];
            if (a->done)
                continue;
            int s = step(r, a);
            if (s < 0) {
                fail(r, a, s);
                return s;
            }
            progress += s;
        }
        if (progress == 0) {
            int rc = idle_all(r);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- HV_RUNNER_THREADS ------------------------------------------------------------------------
 */

typedef struct worker {
    run *r;
    hv_actor *a;
    int cpu;
    pthread_t thread;
    int started;
    hv_runner_usage usage;
} worker;

/* One actor's loop on its own thread (or the caller's, for actors[0]). */
static void actor_loop(run *r, hv_actor *a)
{
    while (!a->done && !atomic_load_explicit(&r->quit, memory_order_acquire)) {
        int s = step(r, a);
        if (s < 0) {
            fail(r, a, s);
            return;
        }
        if (s > 0 || a->done)
            continue;
        uint64_t t = wait_bound(r, a, hv_now_ns());
        if (t == 0)
            continue;
        atomic_fetch_add_explicit(&r->waits, 1, memory_order_relaxed);
        int rc = a->link->ops->wait(a->link, t);
        if (rc < 0 && rc != HV_ETIMEDOUT) {
            fail(r, a, rc);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    w->usage.cpu = w->cpu >= 0 && hv__cpu_pin_self(w->cpu) == 0 ? w->cpu : -1;
    w->usage.batch = w->r->o->sched_batch ? hv__sched_batch_self() == 0 : 0;
    int rc = w->a->ops->start(w->a, hv__actor_time(w->a, hv_now_ns()));
    if (rc < 0)
        fail(w->r, w->a, rc);
    else
        actor_loop(w->r, w->a);
    usage_self(&w->usage);
    return NULL;
}

static int run_threads(run *r, worker *w, hv_runner_stats *st)
{
    hv_runner_usage before, after;
    memset(&before, 0, sizeof(before));
    memset(&after, 0, sizeof(after));
    int rc = 0;
    /* The first actor (the run's owner) subscribes before any other actor announces itself. */
    rc = r->actors[0]->ops->start(r->actors[0], hv__actor_time(r->actors[0], hv_now_ns()));
    for (size_t i = 1; i < r->n && rc == 0; i++) {
        w[i].r = r;
        w[i].a = r->actors[i];
        w[i].cpu = r->o->cpu[i];
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            rc = HV_EAGAIN;
            break;
        }
        w[i].started = 1;
    }
    if (rc == 0) {
        usage_self(&before);
        actor_loop(r, r->actors[0]);
        usage_self(&after);
    } else {
        fail(r, r->actors[0], rc);
    }
    atomic_store_explicit(&r->quit, 1, memory_order_release);
    for (size_t i = 1; i < r->n; i++)
        if (w[i].started)
            pthread_join(w[i].thread, NULL);
    usage_delta(&after, &before);
    after.cpu = -1;
    snprintf(after.name, sizeof(after.name), "%s", r->actors[0]->name);
    st->threads[st->nthreads++] = after;
    for (size_t i = 1; i < r->n; i++) {
        if (!w[i].started)
            continue;
        snprintf(w[i].usage.name, sizeof(w[i].usage.name), "%s", r->actors[i]->name);
        st->threads[st->nthreads++] = w[i].usage;
    }
    return rc;
}

/* ---- Entry ------------------------------------------------------------------------------------
 */

static int start_all(run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        hv_actor *a = r->actors[i];
        int rc = a->ops->start(a, hv__actor_time(a, hv_now_ns()));
        if (rc < 0) {
            fail(r, a, rc);
            return rc;
        }
    }
    return 0;
}

int hv__runner_run(hv_actor **actors, size_t n, const hv_runner_opts *o, hv_runner_stats *st,
                   const char **failed_out)
{
    memset(st, 0, sizeof(*st));
    if (failed_out)
        *failed_out = NULL;
    if (n == 0 || n > HV_RUNNER_ACTORS_MAX ||
        (o->mode != HV_RUNNER_ONE && o->mode != HV_RUNNER_THREADS))
        return HV_EINVAL;
    run rr;
    memset(&rr, 0, sizeof(rr));
    run *r = &rr;
    r->actors = actors;
    r->n = n;
    r->o = o;
    int rc;
    if (o->mode == HV_RUNNER_ONE) {
        hv_runner_usage before, after;
        memset(&before, 0, sizeof(before));
        memset(&after, 0, sizeof(after));
        usage_self(&before);
        rc = start_all(r);
        if (rc == 0)
            rc = run_one(r);
        usage_self(&after);
        usage_delta(&after, &before);
        after.cpu = -1;
        snprintf(after.name, sizeof(after.name), "runner");
        st->threads[st->nthreads++] = after;
    } else {
        worker w[HV_RUNNER_ACTORS_MAX];
        memset(w, 0, sizeof(w));
        rc = run_threads(r, w, st);
    }
    int frc = atomic_load(&r->fail_rc);
    if (failed_out && frc != 0)
        *failed_out = atomic_load(&r->failed);
    st->steps = atomic_load(&r->steps);
    st->waits = atomic_load(&r->waits);
    return frc != 0 ? frc : rc;
}

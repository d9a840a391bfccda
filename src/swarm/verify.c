/*
 * The coordinator's vote verifier: every vote the coordinator receives is queued here, in
 * arrival order, and every vote on a BFT proposal has its Ed25519 signature checked against
 * the voter's registered key before it reaches the consensus engine (which runs with
 * HV_CONSENSUS_SIGS_PREVERIFIED). The checks run on the coordinator's own thread and on
 * `verify_threads` helper threads owned by the coordinator, so the ~50 us verifications of
 * one proposal's votes overlap instead of running one after another. Nothing leaves the
 * coordinator: the helpers are not agents and the trust boundary stays on this side.
 *
 * Queue: a ring of SW_VJOBS jobs, written only by the coordinator (head), consumed in order
 * only by the coordinator (tail). Each job's state moves FREE -> QUEUED (coordinator) ->
 * CLAIMED (whoever wins the CAS: a helper or the coordinator) -> DONE (the claimer) -> FREE
 * (coordinator, after handing the vote to the engine). The state is the only shared field;
 * release/acquire on it publishes the job's data.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <hivewire/bus.h>

#include "swarm/swarm_int.h"

enum { VJ_FREE, VJ_QUEUED, VJ_CLAIMED, VJ_DONE };

static void run_job(sw_vjob *j)
{
    j->ok = j->check == SW_CHECK_NONE ||
            (j->check == SW_CHECK_SIG && j->pk != NULL && hv_vote_verify(&j->v, j->pk) == 0);
    atomic_store_explicit(&j->state, VJ_DONE, memory_order_release);
}

static int claim(sw_vjob *j)
{
    int expected = VJ_QUEUED;
    return atomic_compare_exchange_strong_explicit(&j->state, &expected, VJ_CLAIMED,
                                                   memory_order_acquire, memory_order_relaxed);
}

/* Each helper records what it cost as it leaves (read after the join). */
static void helper_exit(sw_verifier *vf, int batch, int cpu)
{
    uint32_t i = atomic_fetch_add_explicit(&vf->exited, 1, memory_order_relaxed);
    if (i >= SW_VERIFY_THREADS_MAX)
        return;
    hv_swarm_usage *u = &vf->usage[i];
    snprintf(u->name, sizeof(u->name), "verify-helper-%u", i);
    u->batch = batch;
    u->cpu = cpu;
    hv__sw_usage_self(u);
}

static void *helper_main(void *arg)
{
    sw_verifier *vf = arg;
    int cpu = hv__sw_pin_self(vf->cpu) ? vf->cpu : -1;
    int batch = hv__sw_sched_batch();
    for (;;) {
        while (sem_wait(&vf->sem) != 0 && errno == EINTR)
            ;
        if (atomic_load_explicit(&vf->quit, memory_order_acquire)) {
            helper_exit(vf, batch, cpu);
            return NULL;
        }
        for (uint32_t i = 0; i < SW_VJOBS; i++) {
            sw_vjob *j = &vf->job[i];
            if (atomic_load_explicit(&j->state, memory_order_relaxed) == VJ_QUEUED && claim(j)) {
                run_job(j);
                uint64_t one = 1;
                (void)!write(vf->done_fd, &one, sizeof(one)); /* wakes the coordinator */
                break;
            }
        }
    }
}

int hv__sw_verifier_init(sw_verifier *vf, uint32_t threads)
{
    memset(vf, 0, sizeof(*vf));
    vf->done_fd = -1;
    vf->cpu = -1;
    vf->nthreads = threads;
    if (threads == 0)
        return 0;
    if (sem_init(&vf->sem, 0, 0) != 0)
        return HV_ENOMEM;
    vf->sem_ok = 1;
    vf->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return vf->done_fd < 0 ? HV_EIO : 0;
}

void hv__sw_verifier_fini(sw_verifier *vf)
{
    if (!vf->sem_ok)
        return; /* never initialised, or no helpers: no descriptor, no semaphore */
    if (vf->done_fd >= 0)
        close(vf->done_fd);
    sem_destroy(&vf->sem);
    vf->done_fd = -1;
    vf->sem_ok = 0;
}

int hv__sw_verifier_start(sw_verifier *vf)
{
    for (uint32_t i = 0; i < vf->nthreads; i++) {
        if (pthread_create(&vf->thread[i], NULL, helper_main, vf) != 0)
            return HV_EAGAIN;
        vf->started++;
    }
    return 0;
}

void hv__sw_verifier_stop(sw_verifier *vf)
{
    atomic_store_explicit(&vf->quit, 1, memory_order_release);
    for (uint32_t i = 0; i < vf->started; i++)
        sem_post(&vf->sem);
    for (uint32_t i = 0; i < vf->started; i++)
        pthread_join(vf->thread[i], NULL);
    vf->started = 0;
}

int hv__sw_verifier_full(const sw_verifier *vf)
{
    return vf->head - vf->tail == SW_VJOBS;
}

int hv__sw_verifier_empty(const sw_verifier *vf)
{
    return vf->head == vf->tail;
}

/* Jobs queued or being verified (coordinator). */
static uint32_t pending_checks(const sw_verifier *vf)
{
    uint32_t n = 0;
    for (uint32_t i = vf->tail; i != vf->head; i++) {
        int st = atomic_load_explicit(&vf->job[i % SW_VJOBS].state, memory_order_relaxed);
        n += st == VJ_QUEUED || st == VJ_CLAIMED;
    }
    return n;
}

void hv__sw_verifier_push(sw_verifier *vf, const hv_vote *v, uint64_t cycle, const uint8_t *pk,
                          int check)
{
    sw_vjob *j = &vf->job[vf->head % SW_VJOBS];
    j->v = *v;
    j->cycle = cycle;
    j->pk = pk;
    j->check = check;
    j->ok = check == SW_CHECK_NONE; /* the engine checks the MAC itself */
    vf->head++;
    if (check != SW_CHECK_SIG) {
        atomic_store_explicit(&j->state, VJ_DONE, memory_order_relaxed);
        return;
    }
    atomic_store_explicit(&j->state, VJ_QUEUED, memory_order_release);
    /* A lone vote is verified by the coordinator itself as soon as its inbox is empty: a
     * helper is worth its wake-up only when a second check is waiting behind it. */
    if (vf->nthreads > 0 && pending_checks(vf) >= 2)
        sem_post(&vf->sem);
}

uint32_t hv__sw_verifier_drop(sw_verifier *vf, int (*still_needed)(void *ud, const sw_vjob *j),
                              void *ud)
{
    uint32_t n = 0;
    for (uint32_t i = vf->tail; i != vf->head; i++) {
        sw_vjob *j = &vf->job[i % SW_VJOBS];
        if (atomic_load_explicit(&j->state, memory_order_relaxed) != VJ_QUEUED ||
            still_needed(ud, j) || !claim(j))
            continue;
        j->check = SW_CHECK_LATE;
        run_job(j);
        n++;
    }
    return n;
}

int hv__sw_verifier_run_one(sw_verifier *vf)
{
    for (uint32_t i = vf->tail; i != vf->head; i++) {
        sw_vjob *j = &vf->job[i % SW_VJOBS];
        if (atomic_load_explicit(&j->state, memory_order_relaxed) == VJ_QUEUED && claim(j)) {
            run_job(j);
            return 1;
        }
    }
    return 0;
}

const sw_vjob *hv__sw_verifier_peek(sw_verifier *vf)
{
    if (vf->tail == vf->head)
        return NULL;
    sw_vjob *j = &vf->job[vf->tail % SW_VJOBS];
    return atomic_load_explicit(&j->state, memory_order_acquire) == VJ_DONE ? j : NULL;
}

void hv__sw_verifier_pop(sw_verifier *vf)
{
    sw_vjob *j = &vf->job[vf->tail % SW_VJOBS];
    atomic_store_explicit(&j->state, VJ_FREE, memory_order_relaxed);
    vf->tail++;
}

/* Blocks until the coordinator's inbox has a message or a helper finished a job, at most
 * timeout_ns. Returns 0 or HV_ETIMEDOUT (a wake-up may be spurious: callers re-check). */
int hv__sw_verifier_wait(sw_verifier *vf, hv_agent *bus, uint64_t timeout_ns)
{
    int efd = hv_agent_eventfd(bus);
    if (vf->nthreads == 0 || efd < 0)
        return hv_agent_wait(bus, timeout_ns);
    if (hv_agent_arm(bus) == HV_EAGAIN)
        return 0;
    struct pollfd p[2] = { { .fd = efd, .events = POLLIN },
                           { .fd = vf->done_fd, .events = POLLIN } };
    struct timespec ts = { .tv_sec = (time_t)(timeout_ns / 1000000000u),
                           .tv_nsec = (long)(timeout_ns % 1000000000u) };
    int n = ppoll(p, 2, &ts, NULL);
    hv_agent_disarm(bus);
    if (n > 0 && (p[1].revents & POLLIN)) {
        uint64_t count;
        (void)!read(vf->done_fd, &count, sizeof(count));
    }
    return n == 0 ? HV_ETIMEDOUT : 0;
}

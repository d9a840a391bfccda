/*
 * Internal: agents as I/O-free state machines (actors), the links they send through, and the
 * runners that drive them.
 *
 * An actor does no I/O, reads no clock, sleeps never, spawns no thread and touches no other
 * actor's memory. It is driven by three calls that take the time from the caller (ngtcp2's
 * read_pkt / handle_expiry / get_expiry shape):
 *
 *   on_msg(actor, frame, len, now_ns)   one HVW1 frame from its link
 *   on_expiry(actor, now_ns)            the time returned by next_expiry has come
 *   next_expiry(actor)                  earliest time it wants on_expiry (UINT64_MAX: none)
 *
 * and sends only through its link, a small function table (nng's pipe ops, raft's raft_io):
 * publish one encoded frame on a subject, subscribe to a pattern, and a clock used only to
 * measure spans of its own work for the profiler (never to decide anything). Three links
 * exist or will: the in-process bus (bus_link.c), the whole-swarm simulator's seeded network
 * (src/swarm/sim.c), and the QUIC transport (src/net/, planned).
 *
 * A runner moves frames from links to actors and arms one timer per actor. The same actor
 * runs in a thread of its own (HV_RUNNER_THREADS, the Aeron agent-runner shape), with every
 * other actor in one shared thread (HV_RUNNER_ONE: the composite agent, no hand-offs, no
 * wake-ups), or under the simulator, which is its own runner on simulated time.
 *
 * Ownership: an actor and its link belong to whoever created them; the runner borrows them for
 * the duration of hv__runner_run(). A frame passed to on_msg is valid only during the call.
 * publish copies the frame before it returns (on success and on failure).
 */
#ifndef HV_AGENT_AGENT_H
#define HV_AGENT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include <hivewire/common.h>

typedef struct hv_link hv_link;
typedef struct hv_actor hv_actor;

/* One frame handed from a link to a runner: valid until released with the link's release. */
typedef struct hv_link_msg {
    const uint8_t *frame;
    size_t len;
    void *handle; /* the link's own reference */
} hv_link_msg;

typedef struct hv_link_ops {
    /* ---- the actor's side ---- */
    /* Publishes one encoded HVW1 frame on `subject` (which must equal the frame's topic) with
     * bus priority prio (HV_PRIO_*). The link copies the frame. Returns 0 when every
     * subscriber took it, HV_ENOSUBSCRIBER when nobody is subscribed (nothing sent), HV_EFULL
     * when a receiver had no room (backpressure: the caller keeps the frame and retries
     * later; nothing was dropped silently), or another HV_E* code. */
    int (*publish)(hv_link *l, const char *subject, int prio, const uint8_t *frame, size_t len);
    /* Subscribes to a subject pattern (NATS wildcards). Returns 0 or an HV_E* code. */
    int (*subscribe)(hv_link *l, const char *pattern);
    /* The link's monotonic clock in ns: for measuring the actor's own work only. */
    uint64_t (*now)(hv_link *l);

    /* ---- the runner's side (links driven by hv__runner_run) ---- */
    /* Takes the next frame without blocking: 1 and *out, 0 when none is waiting, or an
     * HV_E* code. */
    int (*recv)(hv_link *l, hv_link_msg *out, uint64_t now_ns);
    void (*release)(hv_link *l, hv_link_msg *m);
    /* Blocks until a frame may be waiting or timeout_ns passes (0 or HV_ETIMEDOUT). */
    int (*wait)(hv_link *l, uint64_t timeout_ns);
    /* Event-loop integration: a readable fd, armed with arm() (HV_EAGAIN: input slipped in,
     * drain again) and cleared with disarm() after poll. */
    int (*fd)(const hv_link *l);
    int (*arm)(hv_link *l);
    void (*disarm)(hv_link *l);
    /* Optional (NULL: none): when the link itself must be serviced (its own timers: a
     * transport's flush, retransmission, heartbeat); the runner then calls recv(). */
    uint64_t (*next_expiry)(const hv_link *l);
} hv_link_ops;

struct hv_link {
    const hv_link_ops *ops;
};

static inline int hv__link_publish(hv_link *l, const char *subject, int prio, const uint8_t *f,
                                   size_t n)
{
    return l->ops->publish(l, subject, prio, f, n);
}

static inline int hv__link_subscribe(hv_link *l, const char *pattern)
{
    return l->ops->subscribe(l, pattern);
}

static inline uint64_t hv__link_now(hv_link *l)
{
    return l->ops->now(l);
}

typedef struct hv_actor_ops {
    /* Called once before any other call: subscribe, announce itself. */
    int (*start)(hv_actor *a, uint64_t now_ns);
    int (*on_msg)(hv_actor *a, const uint8_t *frame, size_t len, uint64_t now_ns);
    int (*on_expiry)(hv_actor *a, uint64_t now_ns);
    uint64_t (*next_expiry)(const hv_actor *a);
} hv_actor_ops;

/* The part of every actor that runners read. An actor sets `done` when it has finished (the
 * runner then stops stepping it); an error returned by any call stops the whole run. */
struct hv_actor {
    const hv_actor_ops *ops;
    hv_link *link;
    char name[32];
    int done;
    uint64_t last_ns; /* the latest time it was given: time never runs backwards */
};

/* ---- Runners ------------------------------------------------------------------------------ */

enum hv_runner_mode {
    HV_RUNNER_ONE = 1,     /* every actor stepped by the calling thread */
    HV_RUNNER_THREADS = 2, /* one thread per actor; the first actor on the calling thread */
};

/* What one runner thread cost (getrusage RUSAGE_THREAD over its life in the run). */
typedef struct hv_runner_usage {
    char name[32];
    uint64_t cpu_ns;
    uint64_t switches_voluntary, switches_involuntary;
    int cpu;   /* the CPU it was pinned to, -1 = left to the OS */
    int batch; /* it ran under SCHED_BATCH */
} hv_runner_usage;

#define HV_RUNNER_ACTORS_MAX 64

typedef struct hv_runner_opts {
    int mode;                      /* enum hv_runner_mode */
    int cpu[HV_RUNNER_ACTORS_MAX]; /* THREADS: CPU to pin each actor's thread to, -1 = none */
    int sched_batch;               /* THREADS: agent threads under SCHED_BATCH */
    uint64_t idle_ns;              /* longest single wait before re-checking (default 200 ms) */
    int until_all;                 /* run until every actor is done, not only actors[0] */
} hv_runner_opts;

typedef struct hv_runner_stats {
    uint32_t nthreads;
    hv_runner_usage threads[HV_RUNNER_ACTORS_MAX];
    uint64_t steps; /* on_msg + on_expiry calls */
    uint64_t waits; /* times a thread blocked */
} hv_runner_stats;

/*
 * Starts every actor, then drives them until actors[0] is done (the run's owner, e.g. the
 * coordinator; with o->until_all, until every actor is) or any call fails; the other actors
 * are stopped then, wherever they are.
 * Returns 0, the first actor error, HV_EINVAL (n == 0 or > HV_RUNNER_ACTORS_MAX, bad mode),
 * or HV_EAGAIN (a thread could not be created). *name_out (may be NULL) gets the failing
 * actor's name.
 */
int hv__runner_run(hv_actor **actors, size_t n, const hv_runner_opts *o, hv_runner_stats *st,
                   const char **failed_out);

/* Time handed to an actor never runs backwards: the runner keeps a per-actor floor. */
static inline uint64_t hv__actor_time(hv_actor *a, uint64_t now_ns)
{
    if (now_ns < a->last_ns)
        now_ns = a->last_ns;
    a->last_ns = now_ns;
    return now_ns;
}

#endif /* HV_AGENT_AGENT_H */

/*
 * Internal: a bounded queue of pointers ordered by due time (a binary min-heap). Entries with
 * equal due times come out in the order they went in. One owner thread; no locks, no clock:
 * callers pass times in. The bus keeps one per agent for redeliveries (hv_agent_retry()); the
 * consensus simulator orders its events with one.
 */
#ifndef HV_CORE_TIMEQ_H
#define HV_CORE_TIMEQ_H

#include <stdint.h>

typedef struct hv_timeq_entry {
    uint64_t due_ns;
    uint64_t seq; /* insertion order: ties on due_ns go first-in first-out */
    void *item;
} hv_timeq_entry;

typedef struct hv_timeq {
    hv_timeq_entry *e; /* owned */
    uint32_t n;
    uint32_t cap;
    uint64_t seq;
} hv_timeq;

/* cap 0 is allowed (every push fails). Returns 0 or HV_ENOMEM. */
int hv__timeq_init(hv_timeq *q, uint32_t cap);
void hv__timeq_fini(hv_timeq *q);

/* Adds item due at due_ns. Returns 0, or HV_EFULL (the queue is unchanged). */
int hv__timeq_push(hv_timeq *q, uint64_t due_ns, void *item);

/* Earliest due time, UINT64_MAX when empty. */
static inline uint64_t hv__timeq_next(const hv_timeq *q)
{
    return q->n ? q->e[0].due_ns : UINT64_MAX;
}

/* Removes and returns the earliest item if it is due at now_ns, else NULL. */
void *hv__timeq_pop_due(hv_timeq *q, uint64_t now_ns);

/* Removes and returns the earliest item whether due or not (ordered draining, teardown); NULL
 * when empty. */
void *hv__timeq_pop_any(hv_timeq *q);

#endif

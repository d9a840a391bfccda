/*
 * Internal: where the coordinator's thread publishes snapshots and the HTTP threads read them.
 *
 * One published snapshot behind a mutex. The writer never waits: hv__obs_store_publish() with
 * block = 0 only try-locks, and when a reader holds the lock it returns 0 and the writer
 * publishes at its next turn (the final publication blocks, once). Readers copy the snapshot
 * out under the lock (a memcpy) and format it after they let go, so no formatting, socket
 * or client ever holds up the swarm. Readers may wait for a newer generation (the dashboard's
 * event stream) on a condition variable the writer signals.
 *
 * Figures fed by other threads (the QUIC links of a networked run) and the HTTP side's own
 * counters live in the store and are laid over each copy a reader takes.
 */
#ifndef HV_OBS_STORE_H
#define HV_OBS_STORE_H

#include <pthread.h>

#include "obs/snap.h"

typedef struct hv_obs_store {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hv_obs_snap *snap; /* the published one; gen 0: none yet */
    int closing;
    uint32_t sse_clients;
    uint64_t scrapes;
    uint32_t nlinks;
    hv_obs_link links[HV_OBS_LINKS_MAX];
} hv_obs_store;

/* 0, HV_ENOMEM, or an error of the pthread calls. */
int hv__obs_store_init(hv_obs_store *s);
void hv__obs_store_fini(hv_obs_store *s);

/* Writer (one thread): copies src in as the next generation (src->gen is set). block = 0:
 * gives up at once if a reader holds the lock (returns 0); else returns 1. */
int hv__obs_store_publish(hv_obs_store *s, hv_obs_snap *src, int block);

/* Reader (any thread): waits up to timeout_ns for a snapshot newer than generation `after`
 * and copies it into *out. Returns 1 (copied; also while closing, so a late reader still gets
 * the last one), 0 (timed out: *out unchanged) or HV_ECLOSED (closing, nothing newer). */
int hv__obs_store_read(hv_obs_store *s, uint64_t after, uint64_t timeout_ns, hv_obs_snap *out);

/* Waits up to timeout_ns for the store to close. Returns 1 if it is closing, else 0. */
int hv__obs_store_wait_closed(hv_obs_store *s, uint64_t timeout_ns);

/* Wakes every waiting reader and makes further reads return HV_ECLOSED. */
void hv__obs_store_close(hv_obs_store *s);

/* Any thread: replaces the QUIC link figures (n <= HV_OBS_LINKS_MAX, more are cut). */
void hv__obs_store_links(hv_obs_store *s, const hv_obs_link *links, uint32_t n);

/* The HTTP side's counters. */
void hv__obs_store_count_scrape(hv_obs_store *s);
void hv__obs_store_sse(hv_obs_store *s, int delta);

#endif /* HV_OBS_STORE_H */

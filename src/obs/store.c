/* The published snapshot (store.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "obs/store.h"

int hv__obs_store_init(hv_obs_store *s)
{
    memset(s, 0, sizeof(*s));
    s->snap = calloc(1, sizeof(*s->snap));
    if (s->snap == NULL)
        return HV_ENOMEM;
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc == 0)
        rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc == 0 && (rc = pthread_mutex_init(&s->mu, NULL)) != 0)
        pthread_cond_destroy(&s->cv);
    if (rc != 0) {
        free(s->snap);
        s->snap = NULL;
        return hv_err_from_errno(rc);
    }
    return 0;
}

void hv__obs_store_fini(hv_obs_store *s)
{
    if (s->snap == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->snap);
    s->snap = NULL;
}

int hv__obs_store_publish(hv_obs_store *s, hv_obs_snap *src, int block)
{
    if (block)
        pthread_mutex_lock(&s->mu);
    else if (pthread_mutex_trylock(&s->mu) != 0)
        return 0;
    src->gen = s->snap->gen + 1;
    memcpy(s->snap, src, sizeof(*src));
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static struct timespec deadline(uint64_t timeout_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns % 1000000000ull;
    ts.tv_sec += (time_t)(timeout_ns / 1000000000ull + ns / 1000000000ull);
    ts.tv_nsec = (long)(ns % 1000000000ull);
    return ts;
}

int hv__obs_store_read(hv_obs_store *s, uint64_t after, uint64_t timeout_ns, hv_obs_snap *out)
{
    struct timespec until = deadline(timeout_ns);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (!s->closing && s->snap->gen <= after && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    int got = s->closing ? HV_ECLOSED : 0;
    if (s->snap->gen > after) { /* newer: handed out even while closing (the final state) */
        memcpy(out, s->snap, sizeof(*out));
        out->nlinks = s->nlinks;
        memcpy(out->link, s->links, sizeof(s->links[0]) * s->nlinks);
        out->sse_clients = s->sse_clients;
        out->scrapes = s->scrapes;
        got = 1;
    }
    pthread_mutex_unlock(&s->mu);
    return got;
}

int hv__obs_store_wait_closed(hv_obs_store *s, uint64_t timeout_ns)
{
    struct timespec until = deadline(timeout_ns);
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (!s->closing && rc == 0)
        rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
    int closing = s->closing;
    pthread_mutex_unlock(&s->mu);
    return closing;
}

void hv__obs_store_close(hv_obs_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void hv__obs_store_links(hv_obs_store *s, const hv_obs_link *links, uint32_t n)
{
    if (n > HV_OBS_LINKS_MAX)
        n = HV_OBS_LINKS_MAX;
    pthread_mutex_lock(&s->mu);
    memcpy(s->links, links, sizeof(links[0]) * n);
    s->nlinks = n;
    pthread_mutex_unlock(&s->mu);
}

void hv__obs_store_count_scrape(hv_obs_store *s)
{
    pthread_mutex_lock(&s->mu);
    s->scrapes++;
    pthread_mutex_unlock(&s->mu);
}

void hv__obs_store_sse(hv_obs_store *s, int delta)
{
    pthread_mutex_lock(&s->mu);
    s->sse_clients = (uint32_t)((int)s->sse_clients + delta);
    pthread_mutex_unlock(&s->mu);
}

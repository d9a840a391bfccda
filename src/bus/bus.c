/* The bus: lifecycle, dead letters, statistics and latency metrics. */
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"
#include "core/field.h"

static uint64_t default_clock(void *ud)
{
    (void)ud;
    return hv_now_ns();
}

/* ---------------------------------------------------------------------------------------- */
/* Dead letters                                                                             */

void hv__dead_letter(hv_bus *b, hv_bus_msg *m, uint32_t recipient, int reason, uint64_t now_ns)
{
    dlq *q = &b->dlq;
    hv_bus_msg *drop = NULL;
    pthread_mutex_lock(&q->mu);
    q->total++;
    if (q->cap == 0) {
        drop = m;
        q->dropped++;
    } else {
        if (q->count == q->cap) {
            drop = q->items[q->head].msg;
            q->head = (q->head + 1) % q->cap;
            q->count--;
            q->dropped++;
        }
        hv_dead_letter *d = &q->items[(q->head + q->count) % q->cap];
        d->msg = m;
        d->recipient = recipient;
        d->reason = reason;
        d->at_ns = now_ns;
        q->count++;
    }
    HV_ASSERT(q->count <= q->cap);
    pthread_mutex_unlock(&q->mu);
    hv_bus_msg_release(drop);
}

int hv_bus_dlq_pop(hv_bus *b, hv_dead_letter *out)
{
    if (b == NULL || out == NULL)
        return HV_EINVAL;
    dlq *q = &b->dlq;
    int rc = HV_EAGAIN;
    pthread_mutex_lock(&q->mu);
    if (q->count > 0) {
        *out = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        rc = 0;
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Bus lifecycle                                                                            */

void hv_bus_opts_default(hv_bus_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->max_agents = 1024;
    o->max_subs = 16384;
    o->msg_pool = 4096;
    o->buf_pool = 64;
    o->buf_bytes = 16384;
    o->dlq_capacity = 1024;
    o->alert_p95_ns = 1000000;
    o->alert_p99_ns = 5000000;
    o->clock_ns = default_clock;
}

int hv_bus_opts_check(const hv_bus_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_bus_opts)");
    if (o->max_agents == 0 || o->max_agents > (1u << 20))
        return hv__field_fail(err, "max_agents", "must be in [1, 1048576]");
    if (o->max_subs == 0 || o->max_subs >= NIL)
        return hv__field_fail(err, "max_subs", "must be in [1, 2^32 - 2]");
    if (!pow2(o->msg_pool) || o->msg_pool > HV_RING_CAPACITY_MAX)
        return hv__field_fail(err, "msg_pool", "must be a power of two in [1, 2^30]");
    if (!pow2(o->buf_pool) || o->buf_pool > (1u << 20))
        return hv__field_fail(err, "buf_pool", "must be a power of two in [1, 2^20]");
    if (o->buf_bytes < HV_MSG_INLINE_MAX || o->buf_bytes > (1u << 30))
        return hv__field_fail(err, "buf_bytes", "must be in [80, 2^30]");
    if (o->dlq_capacity > (1u << 24))
        return hv__field_fail(err, "dlq_capacity", "must be at most 2^24");
    return 0;
}

static int init_tables(hv_bus *b)
{
    const hv_bus_opts *o = &b->opts;
    b->subs = calloc(o->max_subs, sizeof(sub));
    b->agents = calloc(o->max_agents, sizeof(hv_agent *));
    b->live = calloc(o->max_agents, sizeof(hv_agent *));
    b->dlq.items = calloc(o->dlq_capacity ? o->dlq_capacity : 1, sizeof(hv_dead_letter));
    if (b->subs == NULL || b->agents == NULL || b->live == NULL || b->dlq.items == NULL)
        return HV_ENOMEM;
    b->sub_free = NIL; /* slots never used are taken from sub_unused upward */
    b->dlq.cap = o->dlq_capacity;
    if (hv__topics_new(&b->topics) != 0)
        return HV_ENOMEM;
    return hv_hist_init(&b->lat, LAT_MAX_NS, LAT_SUB_BITS);
}

int hv_bus_new(const hv_bus_opts *opts, hv_bus **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    hv_bus_opts o;
    if (opts == NULL)
        hv_bus_opts_default(&o);
    else
        o = *opts;
    if (o.clock_ns == NULL)
        o.clock_ns = default_clock;
    int rc = hv_bus_opts_check(&o, NULL);
    if (rc != 0)
        return rc;
    hv_bus *b = aligned_alloc(HV_RING_ALIGN,
                              (sizeof(hv_bus) + HV_RING_ALIGN - 1) / HV_RING_ALIGN * HV_RING_ALIGN);
    if (b == NULL)
        return HV_ENOMEM;
    memset(b, 0, sizeof(*b));
    b->opts = o;
    pthread_mutex_init(&b->wmu, NULL);
    pthread_mutex_init(&b->dlq.mu, NULL);
    rc = hv__pools_init(b);
    if (rc == 0)
        rc = init_tables(b);
    if (rc != 0) {
        hv_bus_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

void hv_bus_free(hv_bus *b)
{
    if (b == NULL)
        return;
    for (uint32_t i = 0; b->live != NULL && i < b->nlive; i++)
        hv__agent_destroy(b->live[i]);
    if (b->dlq.items != NULL) {
        hv_dead_letter d;
        while (hv_bus_dlq_pop(b, &d) == 0)
            hv_bus_msg_release(d.msg);
    }
    for (uint32_t i = 0; b->subs != NULL && i < b->sub_unused; i++)
        free(b->subs[i].pattern);
    hv__topics_free(b->topics);
    hv_hist_fini(&b->lat);
    free(b->dlq.items);
    free(b->subs);
    free(b->agents);
    free(b->live);
    hv__pools_fini(b);
    pthread_mutex_destroy(&b->wmu);
    pthread_mutex_destroy(&b->dlq.mu);
    free(b);
}

void hv_bus_stats_get(hv_bus *b, hv_bus_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&b->wmu);
    out->agents = b->nlive;
    out->subs = b->nsubs;
    out->generation = hv__topics_generation(b->topics);
    uint32_t cached = 0;
    for (uint32_t i = 0; i < b->nlive; i++)
        cached += __atomic_load_n(&b->live[i]->acache_n, __ATOMIC_RELAXED);
    out->msgs_in_use = __atomic_load_n(&b->msg_free.in_use, __ATOMIC_RELAXED) - cached;
    pthread_mutex_unlock(&b->wmu);
    out->bufs_in_use = __atomic_load_n(&b->buf_free.in_use, __ATOMIC_RELAXED);
    out->pool_empty = rd(&b->pool_empty);
    out->alerts = rd(&b->alerts);
    pthread_mutex_lock(&b->dlq.mu);
    out->dead_letters = b->dlq.total;
    out->dlq_dropped = b->dlq.dropped;
    out->dlq_depth = b->dlq.count;
    pthread_mutex_unlock(&b->dlq.mu);
}

/* ---------------------------------------------------------------------------------------- */
/* Metrics                                                                                  */

static void latency_of(const hv_hist *h, hv_latency *out)
{
    out->count = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
    out->p50_ns = hv_hist_quantile(h, 0.50);
    out->p95_ns = hv_hist_quantile(h, 0.95);
    out->p99_ns = hv_hist_quantile(h, 0.99);
    out->p999_ns = hv_hist_quantile(h, 0.999);
    out->max_ns = out->count ? __atomic_load_n(&h->max, __ATOMIC_RELAXED) : 0;
}

void hv_bus_latency_get(hv_bus *b, hv_latency *out)
{
    latency_of(&b->lat, out);
}

int hv_agent_latency_get(hv_agent *a, hv_latency *out)
{
    if (a == NULL || out == NULL || a->lat == NULL)
        return HV_ENOTSUP;
    latency_of(a->lat, out);
    return 0;
}

void hv_bus_latency_reset(hv_bus *b)
{
    hv_hist *h = &b->lat;
    for (uint32_t i = 0; i < h->nbuckets; i++)
        __atomic_store_n(&h->counts[i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->overflow, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&h->min, UINT64_MAX, __ATOMIC_RELAXED);
    __atomic_store_n(&h->max, 0, __ATOMIC_RELAXED);
}

int hv_bus_check_alerts(hv_bus *b)
{
    hv_latency l;
    hv_bus_latency_get(b, &l);
    if (l.count == 0)
        return 0;
    int n = 0;
    const double qs[2] = { 0.95, 0.99 };
    const uint64_t vals[2] = { l.p95_ns, l.p99_ns };
    const uint64_t thr[2] = { b->opts.alert_p95_ns, b->opts.alert_p99_ns };
    for (int i = 0; i < 2; i++) {
        if (thr[i] == 0 || vals[i] <= thr[i])
            continue;
        n++;
        shared_add(&b->alerts, 1);
        if (b->opts.alert_cb != NULL)
            b->opts.alert_cb(b->opts.alert_ud, qs[i], vals[i], thr[i]);
    }
    return n;
}

void hv_agent_stats_get(hv_agent *a, hv_agent_stats *o)
{
    memset(o, 0, sizeof(*o));
    o->sent = rd(&a->c_sent);
    o->bytes_sent = rd(&a->c_bytes_sent);
    o->received = rd(&a->c_received);
    o->bytes_received = rd(&a->c_bytes_received);
    o->dropped_oldest = rd(&a->c_dropped_oldest);
    o->rejected = rd(&a->c_rejected);
    o->block_timeouts = rd(&a->c_block_timeouts);
    o->send_rejected = rd(&a->c_send_rejected);
    o->unrouted = rd(&a->c_unrouted);
    o->expired = rd(&a->c_expired);
    o->coalesced = rd(&a->c_coalesced);
    o->request_timeouts = rd(&a->c_request_timeouts);
    o->late_replies = rd(&a->c_late_replies);
    o->errors = rd(&a->c_errors);
    o->filtered = rd(&a->c_filtered);
    o->retried = rd(&a->c_retried);
    o->retries_exhausted = rd(&a->c_retries_exhausted);
    o->retry_overflow = rd(&a->c_retry_overflow);
    for (int l = 0; l < LANES; l++)
        o->depth[l] = hv_mpmc_size(&a->lanes[l]);
}

/* Agents and subscriptions: creation and release, queue groups, and the writer side of the
 * routing lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"
#include "core/field.h"
#include "platform/platform.h"

/* ---------------------------------------------------------------------------------------- */
/* Big-reader lock, writer side (the read side is in bus_int.h)                             */

static void write_enter(hv_bus *b)
{
    pthread_mutex_lock(&b->wmu);
    __atomic_store_n(&b->writer, 1, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < b->nlive; i++) {
        hv_agent *a = b->live[i];
        while (__atomic_load_n(&a->reading, __ATOMIC_SEQ_CST) != 0)
            sched_yield();
    }
}

static void write_exit(hv_bus *b)
{
    __atomic_store_n(&b->writer, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&b->wmu);
}

/* ---------------------------------------------------------------------------------------- */
/* Agents                                                                                   */

void hv_agent_opts_default(hv_agent_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->inbox_capacity = 256;
    o->wait = HV_WAIT_BLOCK;
    o->spin_iters = 2000;
    o->backpressure = HV_BP_DROP_OLDEST;
    o->block_timeout_ns = 1000000;
    o->starvation_k = 8;
    o->coalesce_slots = 64;
    o->max_pending = 64;
    o->cache_entries = 16;
    o->retry_capacity = 64;
    o->retry_max = 5;
    o->retry_base_ns = 1000000;
    o->retry_max_delay_ns = 1000000000;
}

void hv_sub_opts_default(hv_sub_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->group_policy = HV_GROUP_ROUND_ROBIN;
    o->backpressure = HV_BP_DROP_OLDEST;
    o->block_timeout_ns = 1000000;
}

int hv_agent_opts_check(const hv_agent_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_agent_opts)");
    if (!pow2(o->inbox_capacity) || o->inbox_capacity < 2 || o->inbox_capacity > (1u << 24))
        return hv__field_fail(err, "inbox_capacity", "must be a power of two in [2, 2^24]");
    if (o->wait < HV_WAIT_BLOCK || o->wait > HV_WAIT_YIELD)
        return hv__field_fail(err, "wait", "must be an enum hv_wait value");
    if (o->backpressure < HV_BP_DROP_OLDEST || o->backpressure > HV_BP_BLOCK)
        return hv__field_fail(err, "backpressure", "must be an enum hv_backpressure value");
    if (o->starvation_k == 0)
        return hv__field_fail(err, "starvation_k", "must be at least 1");
    if (!pow2(o->coalesce_slots) || o->coalesce_slots > (1u << 16))
        return hv__field_fail(err, "coalesce_slots", "must be a power of two in [1, 65536]");
    if (o->max_pending == 0 || o->max_pending > 65536)
        return hv__field_fail(err, "max_pending", "must be in [1, 65536]");
    if (!pow2(o->cache_entries) || o->cache_entries > 4096)
        return hv__field_fail(err, "cache_entries", "must be a power of two in [1, 4096]");
    if (o->retry_capacity > 65536)
        return hv__field_fail(err, "retry_capacity", "must be at most 65536");
    if (o->retry_max > 255)
        return hv__field_fail(err, "retry_max", "must be at most 255");
    if (o->retry_base_ns == 0)
        return hv__field_fail(err, "retry_base_ns", "must be at least 1");
    if (o->retry_max_delay_ns < o->retry_base_ns)
        return hv__field_fail(err, "retry_max_delay_ns", "must be at least retry_base_ns");
    return 0;
}

static void agent_drain(hv_agent *a)
{
    for (int l = 0; l < LANES; l++) {
        void *e;
        if (a->lanes[l].cells == NULL)
            continue;
        while (hv_mpmc_pop(&a->lanes[l], &e) == 0)
            hv_bus_msg_release(resolve(a, e));
    }
}

/* Frees the agent's memory; it must already be out of the bus tables. */
void hv__agent_destroy(hv_agent *a)
{
    agent_drain(a);
    hv_bus_msg *r;
    while ((r = hv__timeq_pop_any(&a->retry)) != NULL)
        hv_bus_msg_release(r);
    hv__timeq_fini(&a->retry);
    hv__acache_flush(a);
    for (int l = 0; l < LANES; l++)
        hv_mpmc_fini(&a->lanes[l]);
    hv__cache_fini(&a->cache);
    free(a->cells);
    free(a->marks);
    free(a->pending);
    hv__efd_close(a->efd);
    if (a->lat != NULL)
        hv_hist_fini(a->lat);
    free(a->lat);
    free(a);
}

static int agent_alloc(hv_bus *b, const hv_agent_opts *o, hv_agent **out)
{
    hv_agent *a = aligned_alloc(HV_RING_ALIGN, (sizeof(hv_agent) + HV_RING_ALIGN - 1) /
                                                   HV_RING_ALIGN * HV_RING_ALIGN);
    if (a == NULL)
        return HV_ENOMEM;
    memset(a, 0, sizeof(*a));
    a->efd = -1;
    a->bus = b;
    a->wait = o->wait;
    a->bp = o->backpressure;
    a->block_timeout_ns = o->block_timeout_ns;
    a->starvation_k = o->starvation_k;
    a->spin_iters = o->spin_iters;
    a->max_pending = o->max_pending;
    a->next_deadline = UINT64_MAX;
    a->retry_max = o->retry_max;
    a->retry_base_ns = o->retry_base_ns;
    a->retry_max_delay_ns = o->retry_max_delay_ns;
    a->coalesce_mask = o->coalesce_slots - 1;
    *out = a;
    int rc = 0;
    for (int l = 0; l < LANES && rc == 0; l++)
        rc = hv_mpmc_init(&a->lanes[l], o->inbox_capacity);
    a->cells = calloc(o->coalesce_slots, sizeof(*a->cells)); /* aligned for max_align_t */
    a->marks = calloc(o->coalesce_slots, sizeof(*a->marks));
    a->pending = calloc(o->max_pending, sizeof(*a->pending));
    if (rc == 0 && (a->cells == NULL || a->marks == NULL || a->pending == NULL))
        rc = HV_ENOMEM;
    if (rc == 0)
        rc = hv__cache_init(&a->cache, o->cache_entries);
    if (rc == 0)
        rc = hv__timeq_init(&a->retry, o->retry_capacity);
    if (rc == 0 && o->latency_hist) {
        a->lat = calloc(1, sizeof(*a->lat));
        rc = a->lat == NULL ? HV_ENOMEM : hv_hist_init(a->lat, LAT_MAX_NS, AGENT_LAT_SUB_BITS);
    }
    if (rc == 0 && o->wait == HV_WAIT_BLOCK && hv__efd_open(&a->efd) != 0)
        rc = HV_EIO;
    return rc;
}

int hv_agent_new(hv_bus *b, const hv_agent_opts *opts, hv_agent **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    if (b == NULL)
        return HV_EINVAL;
    hv_agent_opts o;
    if (opts == NULL)
        hv_agent_opts_default(&o);
    else
        o = *opts;
    int rc = hv_agent_opts_check(&o, NULL);
    if (rc != 0)
        return rc;
    hv_agent *a = NULL;
    rc = agent_alloc(b, &o, &a);
    if (rc != 0) {
        if (a != NULL)
            hv__agent_destroy(a);
        return rc;
    }
    write_enter(b);
    uint32_t id = 0;
    for (uint32_t i = 0; i < b->opts.max_agents && id == 0; i++)
        if (b->agents[i] == NULL)
            id = i + 1;
    if (id != 0) {
        a->id = id;
        a->live_index = b->nlive;
        b->agents[id - 1] = a;
        b->live[b->nlive++] = a;
    }
    write_exit(b);
    if (id == 0) {
        hv__agent_destroy(a);
        return HV_EFULL;
    }
    if (o.name != NULL)
        snprintf(a->name, sizeof(a->name), "%s", o.name);
    else
        snprintf(a->name, sizeof(a->name), "agent-%u", id);
    *out = a;
    return 0;
}

static void group_leave(hv_bus *b, uint32_t gid)
{
    if (gid == 0)
        return;
    group *g = &b->groups[gid - 1];
    HV_ASSERT(g->members > 0);
    if (--g->members == 0)
        memset(g, 0, sizeof(*g));
}

/* Writer lock held. */
static void sub_remove(hv_bus *b, uint32_t id)
{
    sub *s = &b->subs[id];
    HV_ASSERT(s->agent != NULL && b->nsubs > 0);
    hv__topics_remove(b->topics, s->pattern, s->pattern_len, id);
    group_leave(b, s->group);
    free(s->pattern);
    s->pattern = NULL;
    s->agent = NULL;
    s->group = 0;
    s->next_free = b->sub_free;
    b->sub_free = id;
    b->nsubs--;
}

void hv_agent_free(hv_agent *a)
{
    if (a == NULL)
        return;
    hv_bus *b = a->bus;
    write_enter(b);
    HV_ASSERT(b->agents[a->id - 1] == a && b->live[a->live_index] == a);
    for (uint32_t i = 0; i < b->sub_unused; i++)
        if (b->subs[i].agent == a)
            sub_remove(b, i);
    b->agents[a->id - 1] = NULL;
    hv_agent *last = b->live[--b->nlive];
    b->live[a->live_index] = last;
    last->live_index = a->live_index;
    write_exit(b);
    hv__agent_destroy(a);
}

uint32_t hv_agent_id(const hv_agent *a)
{
    return a->id;
}

const char *hv_agent_name(const hv_agent *a)
{
    return a->name;
}

/* ---------------------------------------------------------------------------------------- */
/* Subscriptions                                                                            */

static int check_group_name(const char *name, size_t *len)
{
    *len = strnlen(name, GROUP_NAME_MAX + 1);
    if (*len > GROUP_NAME_MAX)
        return HV_EBADSUBJECT;
    return hv_subject_check(name, *len, 0, NULL) == 1 ? 0 : HV_EBADSUBJECT;
}

/* Writer lock held. Returns the group id (index + 1) or HV_EFULL. */
static int group_join(hv_bus *b, const char *name, size_t len, int policy)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_GROUPS; i++) {
        group *g = &b->groups[i];
        if (g->members == 0) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        if (strlen(g->name) == len && memcmp(g->name, name, len) == 0) {
            g->members++;
            return i + 1;
        }
    }
    if (free_slot < 0)
        return HV_EFULL;
    group *g = &b->groups[free_slot];
    memcpy(g->name, name, len);
    g->name[len] = '\0';
    g->members = 1;
    g->policy = policy;
    g->rr = 0;
    return free_slot + 1;
}

int hv_sub_opts_check(const hv_sub_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_sub_opts)");
    if (o->backpressure < HV_BP_DROP_OLDEST || o->backpressure > HV_BP_BLOCK)
        return hv__field_fail(err, "backpressure", "must be an enum hv_backpressure value");
    if (o->group_policy < HV_GROUP_ROUND_ROBIN || o->group_policy > HV_GROUP_LEAST_LOADED)
        return hv__field_fail(err, "group_policy", "must be an enum hv_group_policy value");
    if (o->type_lo > o->type_hi) /* includes lo set without hi: "any" would ignore it */
        return hv__field_fail(err, "type_lo", "must not exceed type_hi");
    /* A group hands each message to one member: a member's filter refusing it would lose it. */
    if (o->group != NULL && (o->type_hi != 0 || o->sender != 0 || o->filter != NULL))
        return hv__field_fail(err, "group",
                              "cannot be combined with a filter (type, sender, filter)");
    return 0;
}

/* Writer lock held. */
static int sub_insert(hv_bus *b, hv_agent *a, char *pat, size_t plen, const hv_sub_opts *o,
                      size_t glen, uint32_t *sub_id)
{
    if (b->sub_free == NIL && b->sub_unused == b->opts.max_subs)
        return HV_EFULL;
    int gid = 0;
    if (o->group != NULL) {
        gid = group_join(b, o->group, glen, o->group_policy);
        if (gid < 0)
            return gid;
    }
    uint32_t id = b->sub_free != NIL ? b->sub_free : b->sub_unused;
    int rc = hv__topics_add(b->topics, pat, plen, id);
    if (rc != 0) {
        group_leave(b, (uint32_t)gid);
        return rc;
    }
    sub *s = &b->subs[id];
    if (id == b->sub_free)
        b->sub_free = s->next_free;
    else
        b->sub_unused++;
    s->agent = a;
    s->pattern = pat;
    s->pattern_len = (uint32_t)plen;
    s->group = (uint32_t)gid;
    s->bp = o->backpressure;
    s->block_timeout_ns = o->block_timeout_ns;
    s->type_lo = o->type_lo;
    s->type_hi = o->type_hi;
    s->sender = o->sender;
    s->filter = o->filter;
    s->filter_ctx = o->filter_ctx;
    b->nsubs++;
    if (sub_id != NULL)
        *sub_id = id;
    return 0;
}

int hv_agent_subscribe(hv_agent *a, const char *pattern, const hv_sub_opts *opts, uint32_t *sub_id)
{
    if (a == NULL || pattern == NULL)
        return HV_EINVAL;
    hv_sub_opts o;
    if (opts == NULL)
        hv_sub_opts_default(&o);
    else
        o = *opts;
    int rc = hv_sub_opts_check(&o, NULL);
    if (rc != 0)
        return rc;
    size_t plen = strnlen(pattern, HV_SUBJECT_MAX + 1), glen = 0;
    if (hv_subject_check(pattern, plen, 1, NULL) < 0)
        return HV_EBADSUBJECT;
    if (o.group != NULL && check_group_name(o.group, &glen) != 0)
        return HV_EBADSUBJECT;
    char *pat = malloc(plen + 1);
    if (pat == NULL)
        return HV_ENOMEM;
    memcpy(pat, pattern, plen);
    pat[plen] = '\0';
    hv_bus *b = a->bus;
    write_enter(b);
    rc = sub_insert(b, a, pat, plen, &o, glen, sub_id);
    write_exit(b);
    if (rc != 0)
        free(pat);
    return rc;
}

int hv_agent_unsubscribe(hv_agent *a, uint32_t sub_id)
{
    if (a == NULL)
        return HV_EINVAL;
    hv_bus *b = a->bus;
    int rc = HV_ENOTFOUND;
    write_enter(b);
    if (sub_id < b->opts.max_subs && b->subs[sub_id].agent == a) {
        sub_remove(b, sub_id);
        rc = 0;
    }
    write_exit(b);
    return rc;
}

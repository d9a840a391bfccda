/* The bus's message and buffer pools: lock-free index stacks, the per-agent allocation cache,
 * reference counting. */
#include <stdlib.h>
#include <string.h>

#include "bus_int.h"

static int stack_init(idx_stack *s, uint32_t n)
{
    s->next = malloc((size_t)n * sizeof(*s->next));
    if (s->next == NULL)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        s->next[i] = i + 1 < n ? i + 1 : NIL;
    s->head = 0;
    s->in_use = 0;
    s->cap = n;
    return 0;
}

static uint32_t stack_pop(idx_stack *s)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t idx = (uint32_t)old;
        if (idx == NIL)
            return NIL;
        uint32_t nx = __atomic_load_n(&s->next[idx], __ATOMIC_RELAXED);
        uint64_t nw = (((old >> 32) + 1) << 32) | nx;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&s->in_use, 1, __ATOMIC_RELAXED);
            return idx;
        }
    }
}

/*
 * Pops up to max indices with one compare-and-swap. The walk down the list is safe: nodes in
 * the stack change only when they reach the head, which changes the tag, so an unchanged head
 * (index and tag) at the CAS proves that the chain walked was the stack's chain.
 */
static uint32_t stack_pop_n(idx_stack *s, uint32_t *out, uint32_t max)
{
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    for (;;) {
        uint32_t cur = (uint32_t)old, n = 0;
        while (n < max && cur != NIL) {
            out[n++] = cur;
            cur = __atomic_load_n(&s->next[cur], __ATOMIC_RELAXED);
        }
        if (n == 0)
            return 0;
        uint64_t nw = (((old >> 32) + 1) << 32) | cur;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_ACQUIRE,
                                        __ATOMIC_ACQUIRE)) {
            __atomic_fetch_add(&s->in_use, n, __ATOMIC_RELAXED);
            return n;
        }
    }
}

/* Pushes the chain first -> ... -> last (n nodes, already linked through next[]). */
static inline void stack_push_chain(idx_stack *s, uint32_t first, uint32_t last, uint32_t n)
{
    HV_DEBUG_ASSERT(first < s->cap && last < s->cap && n <= s->cap);
    uint64_t old = __atomic_load_n(&s->head, __ATOMIC_RELAXED);
    for (;;) {
        __atomic_store_n(&s->next[last], (uint32_t)old, __ATOMIC_RELAXED);
        uint64_t nw = (((old >> 32) + 1) << 32) | first;
        if (__atomic_compare_exchange_n(&s->head, &old, nw, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            break;
    }
    __atomic_fetch_sub(&s->in_use, n, __ATOMIC_RELAXED);
}

static inline void stack_push(idx_stack *s, uint32_t idx)
{
    stack_push_chain(s, idx, idx, 1);
}

int hv_bus_buf_alloc(hv_bus *b, hv_buf **out)
{
    if (b == NULL || out == NULL)
        return HV_EINVAL;
    uint32_t i = stack_pop(&b->buf_free);
    if (i == NIL) {
        shared_add(&b->pool_empty, 1);
        return HV_EAGAIN;
    }
    hv_buf *buf = &b->bufs[i];
    __atomic_store_n(&buf->refs, 1, __ATOMIC_RELAXED);
    *out = buf;
    return 0;
}

uint8_t *hv_buf_data(hv_buf *buf)
{
    return buf->data;
}

size_t hv_buf_capacity(const hv_buf *buf)
{
    return buf->cap;
}

void hv_buf_retain(hv_buf *buf)
{
    __atomic_fetch_add(&buf->refs, 1, __ATOMIC_RELAXED);
}

void hv_buf_release(hv_buf *buf)
{
    if (buf == NULL)
        return;
    uint32_t left = __atomic_sub_fetch(&buf->refs, 1, __ATOMIC_ACQ_REL);
    HV_ASSERT(left != UINT32_MAX); /* released once more than it was retained */
    if (left != 0)
        return;
    stack_push(&buf->bus->buf_free, buf->index);
}

void hv_bus_msg_retain(hv_bus_msg *m)
{
    __atomic_fetch_add(&m->refs_, 1, __ATOMIC_RELAXED);
}

static int msg_unref(hv_bus_msg *m);

void hv_bus_msg_release(hv_bus_msg *m)
{
    if (m == NULL || !msg_unref(m))
        return;
    hv_bus *b = m->bus_;
    stack_push(&b->msg_free, (uint32_t)(m - b->msgs));
}

/* Takes one message for the owner of a, from its cache or, refilling it, from the pool. */
hv_bus_msg *hv__msg_alloc(hv_agent *a)
{
    hv_bus *b = a->bus;
    uint32_t n = a->acache_n;
    if (n == 0) {
        n = stack_pop_n(&b->msg_free, a->acache, ACACHE_MAX);
        if (n == 0) {
            shared_add(&b->pool_empty, 1);
            return NULL;
        }
    }
    n--;
    __atomic_store_n(&a->acache_n, n, __ATOMIC_RELAXED);
    hv_bus_msg *m = &b->msgs[a->acache[n]];
    m->bus_ = b;
    m->buf_ = NULL;
    return m;
}

/* Gives a never-published message back to a's cache. */
void hv__msg_unalloc(hv_agent *a, hv_bus_msg *m)
{
    a->acache[a->acache_n] = (uint32_t)(m - a->bus->msgs);
    __atomic_store_n(&a->acache_n, a->acache_n + 1, __ATOMIC_RELAXED);
}

/* Returns a's cached messages to the pool. */
void hv__acache_flush(hv_agent *a)
{
    hv_bus *b = a->bus;
    for (uint32_t i = 0; i < a->acache_n; i++)
        stack_push(&b->msg_free, a->acache[i]);
    __atomic_store_n(&a->acache_n, 0, __ATOMIC_RELAXED);
}

/* Drops one reference; returns 1 if it was the last (the caller then recycles m). */
static int msg_unref(hv_bus_msg *m)
{
    /* A holder that sees refs == 1 is the only holder: no atomic read-modify-write needed. */
    uint32_t refs = __atomic_load_n(&m->refs_, __ATOMIC_ACQUIRE);
    HV_ASSERT(refs != 0); /* released once more than it was retained */
    if (refs != 1 && __atomic_sub_fetch(&m->refs_, 1, __ATOMIC_ACQ_REL) != 0)
        return 0;
    if (m->buf_ != NULL) {
        hv_buf_release(m->buf_);
        m->buf_ = NULL;
    }
    return 1;
}

void hv_bus_msg_release_n(hv_bus_msg **msgs, size_t n)
{
    uint32_t first = NIL, last = NIL, count = 0;
    hv_bus *b = NULL;
    for (size_t i = 0; i < n; i++) {
        hv_bus_msg *m = msgs[i];
        if (m == NULL || !msg_unref(m))
            continue;
        if (b != NULL && m->bus_ != b) { /* another bus: flush what we have */
            stack_push_chain(&b->msg_free, first, last, count);
            first = NIL;
            count = 0;
        }
        b = m->bus_;
        uint32_t idx = (uint32_t)(m - b->msgs);
        if (first == NIL)
            last = idx;
        else
            __atomic_store_n(&b->msg_free.next[idx], first, __ATOMIC_RELAXED);
        first = idx;
        count++;
    }
    if (count > 0)
        stack_push_chain(&b->msg_free, first, last, count);
}

int hv__pools_init(hv_bus *b)
{
    const hv_bus_opts *o = &b->opts;
    b->msgs = aligned_alloc(64, (size_t)o->msg_pool * sizeof(hv_bus_msg));
    b->bufs = calloc(o->buf_pool, sizeof(hv_buf));
    b->buf_mem = malloc((size_t)o->buf_pool * o->buf_bytes);
    if (b->msgs == NULL || b->bufs == NULL || b->buf_mem == NULL)
        return HV_ENOMEM;
    for (uint32_t i = 0; i < o->buf_pool; i++) {
        b->bufs[i].index = i;
        b->bufs[i].cap = o->buf_bytes;
        b->bufs[i].bus = b;
        b->bufs[i].data = b->buf_mem + (size_t)i * o->buf_bytes;
    }
    if (stack_init(&b->msg_free, o->msg_pool) != 0 || stack_init(&b->buf_free, o->buf_pool) != 0)
        return HV_ENOMEM;
    return 0;
}

void hv__pools_fini(hv_bus *b)
{
    free(b->msg_free.next);
    free(b->buf_free.next);
    free(b->msgs);
    free(b->bufs);
    free(b->buf_mem);
}

/* Bounded min-heap of pointers by due time; see timeq.h. */
#include "core/timeq.h"

#include <stdlib.h>

#include <hivewire/common.h>

int hv__timeq_init(hv_timeq *q, uint32_t cap)
{
    q->n = 0;
    q->cap = cap;
    q->seq = 0;
    q->e = NULL;
    if (cap == 0)
        return 0;
    q->e = calloc(cap, sizeof(*q->e));
    return q->e == NULL ? HV_ENOMEM : 0;
}

void hv__timeq_fini(hv_timeq *q)
{
    free(q->e);
    q->e = NULL;
    q->n = q->cap = 0;
}

static int before(const hv_timeq_entry *a, const hv_timeq_entry *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int hv__timeq_push(hv_timeq *q, uint64_t due_ns, void *item)
{
    if (q->n == q->cap)
        return HV_EFULL;
    hv_timeq_entry x = { .due_ns = due_ns, .seq = q->seq++, .item = item };
    uint32_t i = q->n++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!before(&x, &q->e[parent]))
            break;
        q->e[i] = q->e[parent];
        i = parent;
    }
    q->e[i] = x;
    return 0;
}

static void *take_root(hv_timeq *q)
{
    void *item = q->e[0].item;
    hv_timeq_entry last = q->e[--q->n];
    uint32_t i = 0;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && before(&q->e[c + 1], &q->e[c]))
            c++;
        if (!before(&q->e[c], &last))
            break;
        q->e[i] = q->e[c];
        i = c;
    }
    if (q->n > 0)
        q->e[i] = last;
    return item;
}

void *hv__timeq_pop_due(hv_timeq *q, uint64_t now_ns)
{
    if (q->n == 0 || q->e[0].due_ns > now_ns)
        return NULL;
    return take_root(q);
}

void *hv__timeq_pop_any(hv_timeq *q)
{
    return q->n == 0 ? NULL : take_root(q);
}

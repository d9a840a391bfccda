/* Creation and teardown of the rings; the hot operations are inline in hivewire/ring.h. */
#include <stdlib.h>
#include <string.h>

#include <hivewire/ring.h>

static int valid_capacity(size_t capacity)
{
    return capacity >= 2 && capacity <= HV_RING_CAPACITY_MAX && (capacity & (capacity - 1)) == 0;
}

int hv_spsc_new(size_t capacity, size_t slot_bytes, hv_spsc **out)
{
    if (out == NULL)
        return HV_EINVAL;
    *out = NULL;
    if (!valid_capacity(capacity) || slot_bytes == 0 || slot_bytes > 65536)
        return HV_EINVAL;
    hv_spsc *r = aligned_alloc(HV_RING_ALIGN, sizeof(*r));
    if (r == NULL)
        return HV_ENOMEM;
    memset(r, 0, sizeof(*r));
    size_t bytes = capacity * slot_bytes;
    bytes = (bytes + HV_RING_ALIGN - 1) / HV_RING_ALIGN * HV_RING_ALIGN;
    uint8_t *slots = aligned_alloc(HV_RING_ALIGN, bytes);
    if (slots == NULL) {
        free(r);
        return HV_ENOMEM;
    }
    r->p_slots = r->c_slots = slots;
    r->p_mask = r->c_mask = capacity - 1;
    r->p_slot_bytes = r->c_slot_bytes = (uint32_t)slot_bytes;
    r->capacity = (uint32_t)capacity;
    r->slot_bytes = (uint32_t)slot_bytes;
    *out = r;
    return 0;
}

void hv_spsc_free(hv_spsc *r)
{
    if (r == NULL)
        return;
    free(r->p_slots);
    free(r);
}

size_t hv_spsc_size(const hv_spsc *r)
{
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    return tail > head ? (size_t)(tail - head) : 0;
}

int hv_mpmc_init(hv_mpmc *q, size_t capacity)
{
    if (q == NULL || !valid_capacity(capacity))
        return HV_EINVAL;
    memset(q, 0, sizeof(*q));
    hv_mpmc_cell *cells =
        aligned_alloc(HV_RING_ALIGN, (size_t)capacity * sizeof(*cells) < HV_RING_ALIGN
                                         ? HV_RING_ALIGN
                                         : (size_t)capacity * sizeof(*cells));
    if (cells == NULL)
        return HV_ENOMEM;
    for (size_t i = 0; i < capacity; i++) {
        cells[i].seq = i;
        cells[i].value = NULL;
    }
    q->cells = q->e_cells = q->d_cells = cells;
    q->e_mask = q->d_mask = capacity - 1;
    return 0;
}

void hv_mpmc_fini(hv_mpmc *q)
{
    if (q == NULL)
        return;
    free(q->cells);
    q->cells = q->e_cells = q->d_cells = NULL;
}

/*
 * Per-connection topic interning. Ids 1..count in order of first use; never evicted; both
 * bounds (entries, bytes) fixed at init, so the memory of a table is known up front.
 */
#include <stdlib.h>
#include <string.h>

#include <hivewire/codec.h>

#include "codec/codec_int.h"
#include "codec/intern.h"

static uint32_t hash_topic(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

int hv_intern_init(hv_intern *t, size_t max_entries, size_t max_bytes)
{
    memset(t, 0, sizeof(*t));
    if (max_entries > HV_INTERN_MAX_CEILING || max_bytes > HV_INTERN_BYTES_CEILING)
        return HV_EINVAL;
    t->max_entries = (uint32_t)max_entries;
    t->max_bytes = max_entries ? (uint32_t)max_bytes : 0;
    if (max_entries == 0)
        return 0;
    uint32_t slots = 2;
    while (slots < 2 * max_entries)
        slots *= 2;
    t->hash_mask = slots - 1;
    t->offsets = calloc((size_t)max_entries + 1, sizeof(uint32_t));
    t->slots = calloc(slots, sizeof(uint16_t));
    t->arena = malloc(t->max_bytes ? t->max_bytes : 1);
    if (t->offsets == NULL || t->slots == NULL || t->arena == NULL) {
        hv_intern_fini(t);
        return HV_ENOMEM;
    }
    return 0;
}

void hv_intern_fini(hv_intern *t)
{
    free(t->offsets);
    free(t->slots);
    free(t->arena);
    memset(t, 0, sizeof(*t));
}

void hv_intern_reset(hv_intern *t)
{
    if (t->max_entries)
        memset(t->slots, 0, ((size_t)t->hash_mask + 1) * sizeof(uint16_t));
    t->count = 0;
    t->bytes_used = 0;
    t->full_misses = 0;
}

hv_str hv_intern_lookup(const hv_intern *t, uint16_t id)
{
    hv_str s = { NULL, 0 };
    if (id == 0 || id > t->count)
        return s;
    s.ptr = t->arena + t->offsets[id - 1];
    s.len = t->offsets[id] - t->offsets[id - 1];
    return s;
}

uint16_t hv__intern_find(const hv_intern *t, hv_str topic)
{
    if (t->count == 0)
        return 0;
    for (uint32_t i = hash_topic(topic.ptr, topic.len) & t->hash_mask;;
         i = (i + 1) & t->hash_mask) {
        uint16_t id = t->slots[i];
        if (id == 0)
            return 0;
        hv_str s = hv_intern_lookup(t, id);
        if (s.len == topic.len && memcmp(s.ptr, topic.ptr, s.len) == 0)
            return id;
    }
}

int hv__intern_has_room(const hv_intern *t, size_t len)
{
    return t->count < t->max_entries && (size_t)t->max_bytes - t->bytes_used >= len;
}

uint16_t hv__intern_add(hv_intern *t, hv_str topic)
{
    uint16_t id = (uint16_t)(t->count + 1);
    memcpy(t->arena + t->bytes_used, topic.ptr, topic.len);
    t->bytes_used += topic.len;
    t->offsets[id] = t->bytes_used;
    t->count = id;
    uint32_t i = hash_topic(topic.ptr, topic.len) & t->hash_mask;
    while (t->slots[i] != 0)
        i = (i + 1) & t->hash_mask;
    t->slots[i] = id;
    return id;
}

void hv_intern_tx(hv_intern *t, hv_str topic, uint16_t *id, int *define)
{
    *define = 0;
    *id = 0;
    if (topic.len == 0 || t->max_entries == 0)
        return;
    *id = hv__intern_find(t, topic);
    if (*id != 0)
        return;
    if (!hv__intern_has_room(t, topic.len)) {
        t->full_misses++;
        return;
    }
    *id = hv__intern_add(t, topic);
    *define = 1;
}

/* The receiver's rules for f's topic_id against table t, in the order they are checked. */
static inline int intern_check(const hv_intern *t, const hv_frame *f, char *why, size_t n)
{
    unsigned id = f->topic_id;
    if (id == 0)
        return 0;
    if (t->max_entries == 0)
        return hv__why(why, n, HV_EBADINTERN, "topic id %u, but this connection interns no topics",
                       id);
    if (f->topic.len == 0) {
        if (id > t->count)
            return t->count ? hv__why(why, n, HV_EBADINTERN,
                                      "topic id %u is not defined (ids 1..%u are)", id, t->count)
                            : hv__why(why, n, HV_EBADINTERN,
                                      "topic id %u is not defined (no id is yet)", id);
        return 0;
    }
    if (id != t->count + 1)
        return hv__why(why, n, HV_EBADINTERN,
                       "topic id %u is defined out of order: the next id is %u", id, t->count + 1);
    uint16_t dup = hv__intern_find(t, f->topic);
    if (dup != 0)
        return hv__why(why, n, HV_EBADINTERN, "topic '%.*s' is already defined as id %u",
                       (int)f->topic.len, f->topic.ptr, dup);
    if (!hv__intern_has_room(t, f->topic.len))
        return hv__why(why, n, HV_EBADINTERN,
                       "topic id %u does not fit: the table holds %u of %u entries and %u of %u "
                       "bytes of topic text",
                       id, t->count, t->max_entries, t->bytes_used, t->max_bytes);
    return 0;
}

int hv__intern_check(const hv_intern *t, const hv_frame *f, char *why, size_t n)
{
    return intern_check(t, f, why, n);
}

int hv_intern_rx(hv_intern *t, hv_frame *f)
{
    int rv = intern_check(t, f, NULL, 0);
    if (rv != 0 || f->topic_id == 0)
        return rv;
    if (f->topic.len == 0)
        f->topic = hv_intern_lookup(t, f->topic_id);
    else
        hv__intern_add(t, f->topic);
    return 0;
}

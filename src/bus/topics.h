/*
 * Internal: subject routing for the bus. A trie of subscription patterns (one node per token,
 * '*' and '>' as special children) and a per-publisher match cache keyed by subject and
 * invalidated by the trie's generation counter. Pure data structures: no locks, no clock; the
 * bus serialises writers against readers.
 */
#ifndef HV_BUS_TOPICS_H
#define HV_BUS_TOPICS_H

#include <string.h>

#include <hivewire/bus.h>

typedef struct hv_topics hv_topics;

/* Creates an empty trie. 0, HV_ENOMEM. */
int hv__topics_new(hv_topics **out);
void hv__topics_free(hv_topics *t);

/* Adds sub_id under pattern (validated). 0, HV_EBADSUBJECT, HV_ENOMEM. Bumps the generation. */
int hv__topics_add(hv_topics *t, const char *pattern, size_t len, uint32_t sub_id);

/* Removes sub_id from pattern. 0, HV_ENOTFOUND. Bumps the generation. */
int hv__topics_remove(hv_topics *t, const char *pattern, size_t len, uint32_t sub_id);

/* Generation: changes with every add/remove. */
uint64_t hv__topics_generation(const hv_topics *t);

/* Number of trie nodes (for memory accounting and tests). */
size_t hv__topics_nodes(const hv_topics *t);

/*
 * Matches a subject (validated here) and writes up to max matching sub ids into ids. Returns
 * the total number of matches (which may exceed max: call again with a larger array), or
 * HV_EBADSUBJECT. Readers may run concurrently with each other, not with add/remove.
 */
int hv__topics_match(const hv_topics *t, const char *subject, size_t len, uint32_t *ids,
                     uint32_t max);

/* 64-bit hash of a subject (used by the match cache). */
uint64_t hv__subject_hash(const char *s, size_t len);

/* A direct-mapped match cache owned by one thread. */
typedef struct hv_match_entry {
    uint64_t hash;
    uint64_t gen; /* generation the result belongs to; 0 = empty */
    uint32_t n;   /* number of ids */
    uint32_t cap; /* capacity of ids */
    uint32_t *ids;
    uint32_t len;
    char subject[HV_SUBJECT_MAX + 1];
} hv_match_entry;

typedef struct hv_match_cache {
    hv_match_entry *entries;
    uint32_t mask;
} hv_match_cache;

int hv__cache_init(hv_match_cache *c, uint32_t entries);
void hv__cache_fini(hv_match_cache *c);

/* The entry for (subject, hash) if it holds a result of generation gen, else NULL. */
static inline const hv_match_entry *hv__cache_lookup(const hv_match_cache *c, uint64_t gen,
                                                     const char *s, size_t len, uint64_t hash)
{
    const hv_match_entry *e = &c->entries[hash & c->mask];
    if (e->hash != hash || e->gen != gen || e->len != len || memcmp(e->subject, s, len) != 0)
        return NULL;
    return e;
}

/*
 * Fills the slot of (subject, hash) with a fresh match from t at generation gen. The subject
 * must be valid. Returns the entry, or NULL with *err = HV_EBADSUBJECT / HV_ENOMEM.
 */
hv_match_entry *hv__cache_fill(hv_match_cache *c, const hv_topics *t, uint64_t gen, const char *s,
                               size_t len, uint64_t hash, int *err);

#endif

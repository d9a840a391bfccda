/* The transport's hash map from connection ids and agent ids to connections (idmap.h). */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <hivewire/common.h>

#include "net/idmap.h"

#define SLOTS_MIN 16u

static uint32_t home(const hv_idmap *m, const uint8_t *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, len, m->hkey);
    uint32_t v;
    memcpy(&v, h, sizeof(v));
    return v & m->mask;
}

static int slot_is(const hv_idmap_slot *s, const uint8_t *key, size_t len)
{
    return s->len == len && memcmp(s->key, key, len) == 0;
}

int hv__idmap_init(hv_idmap *m)
{
    memset(m, 0, sizeof(*m));
    if (sodium_init() < 0)
        return HV_ECRYPTO;
    m->slots = calloc(SLOTS_MIN, sizeof(*m->slots));
    if (m->slots == NULL)
        return HV_ENOMEM;
    m->mask = SLOTS_MIN - 1;
    crypto_shorthash_keygen(m->hkey);
    return 0;
}

void hv__idmap_fini(hv_idmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* Index of key's slot, or of the empty slot where it would go. */
static uint32_t find(const hv_idmap *m, const uint8_t *key, size_t len)
{
    uint32_t i = home(m, key, len);
    while (m->slots[i].len != 0 && !slot_is(&m->slots[i], key, len))
        i = (i + 1) & m->mask;
    return i;
}

static int grow(hv_idmap *m)
{
    uint32_t n = (m->mask + 1) * 2;
    hv_idmap_slot *ns = calloc(n, sizeof(*ns));
    if (ns == NULL)
        return HV_ENOMEM;
    hv_idmap old = *m;
    m->slots = ns;
    m->mask = n - 1;
    for (uint32_t i = 0; i <= old.mask; i++) {
        if (old.slots[i].len != 0)
            m->slots[find(m, old.slots[i].key, old.slots[i].len)] = old.slots[i];
    }
    free(old.slots);
    return 0;
}

int hv__idmap_put(hv_idmap *m, const uint8_t *key, size_t len, void *val)
{
    if (len == 0 || len > HV_IDMAP_KEY_MAX)
        return HV_EINVAL;
    uint32_t i = find(m, key, len);
    if (m->slots[i].len != 0) {
        m->slots[i].val = val;
        return 0;
    }
    if ((m->count + 1) * 2 > m->mask + 1) {
        int rv = grow(m);
        if (rv < 0)
            return rv;
        i = find(m, key, len);
    }
    hv_idmap_slot *s = &m->slots[i];
    s->len = (uint8_t)len;
    memcpy(s->key, key, len);
    s->val = val;
    m->count++;
    return 0;
}

void *hv__idmap_get(const hv_idmap *m, const uint8_t *key, size_t len)
{
    if (len == 0 || len > HV_IDMAP_KEY_MAX)
        return NULL;
    const hv_idmap_slot *s = &m->slots[find(m, key, len)];
    return s->len ? s->val : NULL;
}

int hv__idmap_del(hv_idmap *m, const uint8_t *key, size_t len)
{
    if (len == 0 || len > HV_IDMAP_KEY_MAX)
        return HV_ENOTFOUND;
    uint32_t i = find(m, key, len);
    if (m->slots[i].len == 0)
        return HV_ENOTFOUND;
    /* Backward shift: pull later entries of the run into the hole while their home allows. */
    for (uint32_t j = (i + 1) & m->mask;; j = (j + 1) & m->mask) {
        hv_idmap_slot *s = &m->slots[j];
        if (s->len == 0)
            break;
        uint32_t h = home(m, s->key, s->len);
        /* The entry at j may move to the hole at i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
        if (stays)
            continue;
        m->slots[i] = *s;
        i = j;
    }
    memset(&m->slots[i], 0, sizeof(m->slots[i]));
    assert(m->count > 0);
    m->count--;
    return 0;
}

/*
 * Internal: a hash map from short byte strings (QUIC connection ids, 8-byte agent ids) to
 * pointers, for the transport's per-packet lookups. Open addressing with linear probing and
 * backward-shift deletion (no tombstones), at most half full, doubling as it grows. Keys come
 * from the network, so the hash is SipHash-2-4 (libsodium's crypto_shorthash) under a random
 * key per map: nobody outside can choose keys that collide.
 *
 * Threads: one at a time. Memory: 32 bytes per slot, slots = a power of two >= 2 x count.
 */
#ifndef HV_NET_IDMAP_H
#define HV_NET_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define HV_IDMAP_KEY_MAX 20 /* NGTCP2_MAX_CIDLEN */

typedef struct hv_idmap_slot {
    uint8_t len; /* 0: empty */
    uint8_t key[HV_IDMAP_KEY_MAX];
    void *val;
} hv_idmap_slot;

typedef struct hv_idmap {
    hv_idmap_slot *slots;
    uint32_t mask; /* slots - 1 */
    uint32_t count;
    uint8_t hkey[16];
} hv_idmap;

/* An empty map with 16 slots and a fresh random hash key. 0 or HV_ENOMEM. */
int hv__idmap_init(hv_idmap *m);
void hv__idmap_fini(hv_idmap *m);

/* Maps key (1..HV_IDMAP_KEY_MAX bytes) to val, replacing an earlier value. 0, HV_EINVAL (key
 * length), HV_ENOMEM (growing failed: the map is unchanged). */
int hv__idmap_put(hv_idmap *m, const uint8_t *key, size_t len, void *val);
/* The value for key, or NULL. */
void *hv__idmap_get(const hv_idmap *m, const uint8_t *key, size_t len);
/* Removes key. 0 or HV_ENOTFOUND. */
int hv__idmap_del(hv_idmap *m, const uint8_t *key, size_t len);

/* An agent id as a key (8 bytes, little-endian). */
static inline void hv__idmap_u64(uint64_t id, uint8_t key[8])
{
    for (int i = 0; i < 8; i++)
        key[i] = (uint8_t)(id >> (8 * i));
}

#endif

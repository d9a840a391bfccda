/* Internal: seeded random HVW1 messages (tests, fuzz seeds, benchmarks). */
#ifndef HV_CODEC_GEN_H
#define HV_CODEC_GEN_H

#include <hivewire/codec.h>
#include <hivewire/rng.h>

/* The schema types (every type but HV_MSG_BATCH), in wire-value order: counted from the table. */
#define HV__MSG_TYPE_ONE_(NAME, val, lower) +1
#define HV__MSG_TYPES_COUNT                 (0 HV_MSG_SCHEMA_TYPE_MAP(HV__MSG_TYPE_ONE_))
extern const uint8_t hv__msg_types[HV__MSG_TYPES_COUNT];

/*
 * Fills *m with a random valid message of `type`; strings, bytes and vectors are placed in
 * buf[0..cap). `scale` bounds byte fields (bytes) and vectors (scale / 4 floats).
 * Returns 0, HV_EBADTYPE, or HV_ENOBUFS when buf is too small (m is then still valid but with
 * some fields truncated or empty).
 */
int hv__msg_random(hv_rng *r, int type, uint32_t scale, hv_msg *m, uint8_t *buf, size_t cap);

/* A random valid literal topic (1..40 bytes, no wildcards) in buf. */
int hv__topic_random(hv_rng *r, char *buf, size_t cap, hv_str *out);

#endif

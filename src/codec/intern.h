/* Internal interning helpers: lookup and insert as separate steps, so an encoder can commit an
 * insert only once the frame it belongs to is known to fit. */
#ifndef HV_CODEC_INTERN_H
#define HV_CODEC_INTERN_H

#include <hivewire/codec.h>

uint16_t hv__intern_find(const hv_intern *t, hv_str topic);
int hv__intern_has_room(const hv_intern *t, size_t len);
uint16_t hv__intern_add(hv_intern *t, hv_str topic);

/* The receiver's rules (hv_intern_rx()) for f's topic_id against t, without changing t: 0, or
 * HV_EBADINTERN with why[0..n) saying which rule and the ids involved (why may be NULL). A
 * sender checks a caller-chosen topic_id with it, so it never emits what a receiver refuses. */
int hv__intern_check(const hv_intern *t, const hv_frame *f, char *why, size_t n);

#endif

/*
 * Internal: what the log's files share. The entry codec's genesis and member bodies (the
 * snapshot reuses them), the state machine as a canonical/raft raft_fsm, the raft_uv data
 * directory reader (store.c) and the replica (replica.c).
 */
#ifndef HV_LOG_LOG_INT_H
#define HV_LOG_LOG_INT_H

#include <raft.h>

#include <hivewire/log.h>

#include "core/ser.h"

/* entry.c: bodies the snapshot writes the same way. */
void hv__log_put_genesis(hv_wr *w, const hv_log_genesis *g);
/* Reads a genesis body; *bad is set when a field breaks its rule. */
void hv__log_get_genesis(hv_rd *r, hv_log_genesis *g, int *bad);
void hv__log_put_member(hv_wr *w, const hv_log_member *m);
void hv__log_get_member(hv_rd *r, hv_log_member *m, int *bad);
void hv__log_put_order(hv_wr *w, const hv_log_order *o);
void hv__log_get_order(hv_rd *r, hv_log_order *o, int *bad);

/* fsm.c: the state machine behind canonical/raft's raft_fsm (version 2). apply never fails
 * towards raft (a refusal is the state machine's own business, the same on every replica):
 * *result points at an int holding hv_log_fsm_apply()'s answer, valid until the next apply.
 * snapshot gives one buffer that snapshot_finalize frees; restore takes ownership of
 * buf->base (raft_free) on success. fsm must outlive the raft instance using it. */
void hv__log_fsm_raft(hv_log_fsm *f, struct raft_fsm *out);

/* The answer of the last apply (what *result points at). */
int hv__log_fsm_last_rc(const hv_log_fsm *f);

#endif

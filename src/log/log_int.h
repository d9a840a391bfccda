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
/* The entry the last apply decoded (valid until the next apply), NULL if it did not decode. */
const hv_log_entry *hv__log_fsm_last_entry(const hv_log_fsm *f);

/* ---- store.c: a raft_uv data directory, read-only ---------------------------------------- */

/* CRC32 as canonical/raft computes it (polynomial 0x04c11db7, MSB first, init `crc`). */
uint32_t hv__log_crc32(const uint8_t *p, size_t n, uint32_t crc);

/* One Raft entry as stored: index, term, type (1 command, 2 barrier, 3 configuration), the
 * data (valid during the callback), where it is. */
typedef struct hv_log_store_entry {
    uint64_t index, term;
    uint8_t type;
    const uint8_t *data;
    size_t len;
    const char *file; /* the segment's name */
    size_t offset;    /* of the data in it */
} hv_log_store_entry;

/* Gets every stored entry in index order; a nonzero return stops the reading with that code. */
typedef int (*hv_log_store_fn)(void *ud, const hv_log_store_entry *e);

typedef struct hv_log_segment {
    char name[64];
    int open;
    uint64_t first, end; /* closed: from its name; open: where it continues */
    uint64_t counter;    /* open */
} hv_log_segment;

typedef struct hv_log_segment_result {
    uint64_t entries, batches;
    size_t torn_bytes, torn_at; /* open segment: a batch cut short at its end (dropped) */
} hv_log_segment_result;

/* Parses one segment file's bytes. A closed segment must hold exactly its named entries, every
 * batch whole; an open one may end in zeros or in a batch cut short (a crash mid-write, which
 * raft drops too: reported in res). Returns 0, fn's code, or an error whose message (naming
 * the segment and the byte offset) is in err: HV_EBADVERSION, HV_ETRUNCATED, HV_EBADLEN,
 * HV_EBADFIELD, HV_ECHECKSUM. */
int hv__log_segment_parse(const uint8_t *b, size_t len, const hv_log_segment *seg,
                          hv_log_store_fn fn, void *ud, hv_log_segment_result *res, char *err,
                          size_t cap);

typedef struct hv_log_store_info {
    uint64_t meta_version, term, voted_for; /* metadata1/2 (version 0: none) */
    int snapshot;
    uint64_t snap_term, snap_index, snap_timestamp, snap_conf_index;
    uint64_t segments, entries, first_index, last_index;
    size_t torn_bytes, torn_at; /* a write cut short at the end of an open segment */
    char torn_file[4400];
} hv_log_store_info;

typedef struct hv_log_store {
    char dir[4096];
    hv_log_store_info info;
    hv_log_segment *segs; /* as raft loads them: closed by first index, then open ones */
    size_t nsegs;
    uint8_t *snap; /* the newest snapshot's data (decompressed if raft compressed it), or NULL */
    size_t snap_len;
} hv_log_store;

/* Opens directory dir without writing anything: lists the segments, reads the metadata and the
 * newest snapshot. Returns 0, or an error with its message in err (the file, the byte):
 * HV_EINVAL, HV_ENOTFOUND, HV_EIO, HV_ETOOBIG, HV_EBADFIELD, HV_ETRUNCATED, HV_ECHECKSUM,
 * HV_EDECOMPRESS, HV_ENOMEM. Close with hv__log_store_close() after a success. */
int hv__log_store_open(hv_log_store *s, const char *dir, char *err, size_t cap);
/* Gives every stored entry, in index order, to fn. Returns 0, fn's code, or an error with its
 * message in err: a segment's (hv__log_segment_parse), HV_EBADLEN for a gap (a segment that
 * does not start where the one before ended, a log that starts neither at 1 nor right after
 * the snapshot). */
int hv__log_store_entries(hv_log_store *s, hv_log_store_fn fn, void *ud, char *err, size_t cap);
void hv__log_store_close(hv_log_store *s);

/* ---- verify.c ---------------------------------------------------------------------------------
 */

typedef struct hv_log_verify_report {
    hv_log_store_info store;
    uint64_t commands, barriers, configs; /* Raft entries by type */
    uint64_t problems;
    char first_problem[512];
    hv_log_status snap_status; /* the snapshot's state, when there is one */
    hv_log_status status;      /* after every entry */
    uint8_t state_hash[HV_LOG_HASH_BYTES];
} hv_log_verify_report;

typedef struct hv_log_verify_cb {
    void *ud;
    /* every stored entry: e is NULL for Raft's own entries and undecodable ones; rc the state
     * machine's verdict (0 for entries the snapshot covers) */
    void (*entry)(void *ud, const hv_log_store_entry *se, const hv_log_entry *e, int rc);
    void (*problem)(void *ud, const char *line);
} hv_log_verify_cb;

/* Reads and checks a replica's directory: the store (segments, checksums, no gap), the chain
 * (every entry's seq and previous hash), the state machine's verdict on every entry after the
 * snapshot (a repeated proposal id, a result for nothing, anything out of place), the entries
 * kept from before the snapshot against the snapshot's chain head. Problems are counted in
 * rep (and given to cb); the return is 0 when the directory could be read, else an error with
 * its message in err. cb may be NULL. */
int hv__log_verify(const char *dir, hv_log_verify_report *rep, const hv_log_verify_cb *cb,
                   char *err, size_t cap);

#endif

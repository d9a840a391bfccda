/*
 * Verification of a replica's data directory: the store as raft_uv left it (store.c), then
 * the hash chain, the sequence numbers, the proposal ids, the state machine's verdict on every
 * entry after the snapshot, and where the chain before the snapshot leads.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log/log_int.h"

typedef struct vstate {
    hv_log_verify_report *rep;
    const hv_log_verify_cb *cb;
    hv_log_fsm *fsm;
    hv_log_entry e;
    /* the chain of entries kept from before the snapshot */
    int pre_started;
    uint64_t pre_seq;
    uint8_t pre_head[HV_LOG_HASH_BYTES];
    uint64_t *pre_ids; /* decisions seen there */
    size_t npre_ids, pre_cap;
} vstate;

static void problem(vstate *v, const hv_log_store_entry *se, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(vstate *v, const hv_log_store_entry *se, const char *fmt, ...)
{
    char msg[400], line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "entry %" PRIu64 " (%s, byte %zu): %s", se->index, se->file,
             se->offset, msg);
    if (v->rep->problems++ == 0)
        snprintf(v->rep->first_problem, sizeof(v->rep->first_problem), "%s", line);
    if (v->cb->problem != NULL)
        v->cb->problem(v->cb->ud, line);
}

static const char *why(int rc, const hv_log_entry *e)
{
    switch (rc) {
    case HV_ECHAIN:
        return "does not extend the hash chain (its seq or its previous hash is not the chain's)";
    case HV_EEXIST:
        return e->type == HV_LOG_DECISION ? "a proposal id decided before (repeated)"
                                          : "repeats what the log already holds";
    case HV_ESTATE:
        return "out of place (before the genesis, after the finish, or out of cycle order)";
    case HV_ENOPROPOSAL:
        return "a result for no accepted decision";
    case HV_ERANGE:
        return "a number outside the genesis's range";
    default:
        return hv_strerror(rc);
    }
}

/* Decisions kept from before the snapshot: no id twice, and each one the snapshot applied. */
static void pre_decision(vstate *v, const hv_log_store_entry *se, uint64_t id)
{
    for (size_t i = 0; i < v->npre_ids; i++)
        if (v->pre_ids[i] == id)
            problem(v, se, "proposal id %" PRIu64 " decided twice", id);
    if (!hv_log_fsm_applied(v->fsm, id))
        problem(v, se, "decides proposal %" PRIu64 ", which the snapshot does not hold", id);
    if (v->npre_ids == v->pre_cap) {
        size_t cap = v->pre_cap ? 2 * v->pre_cap : 256;
        uint64_t *ids = realloc(v->pre_ids, cap * sizeof(*ids));
        if (ids == NULL)
            return;
        v->pre_ids = ids;
        v->pre_cap = cap;
    }
    v->pre_ids[v->npre_ids++] = id;
}

/* An entry the snapshot already covers: it must chain to the entries around it, and the last
 * one must be where the snapshot's chain ends. */
static void before_snapshot(vstate *v, const hv_log_store_entry *se, const hv_log_status *snap)
{
    const hv_log_entry *e = &v->e;
    if (v->pre_started && (e->seq != v->pre_seq + 1 || memcmp(e->prev, v->pre_head, 32) != 0))
        problem(v, se, "does not extend the hash chain (seq %" PRIu64 " after %" PRIu64 ")", e->seq,
                v->pre_seq);
    v->pre_started = 1;
    v->pre_seq = e->seq;
    hv_log_entry_hash(se->data, v->pre_head);
    if (e->type == HV_LOG_DECISION)
        pre_decision(v, se, e->decision.d.proposal_id);
    if (e->seq > snap->seq)
        problem(v, se,
                "chain position %" PRIu64 " is past the snapshot's %" PRIu64
                ", yet before the snapshot's entry %" PRIu64,
                e->seq, snap->seq, v->rep->store.snap_index);
    if (e->seq == snap->seq && memcmp(v->pre_head, snap->head, 32) != 0)
        problem(v, se, "the snapshot's chain head is not this entry's hash");
}

static int on_entry(void *ud, const hv_log_store_entry *se)
{
    vstate *v = ud;
    hv_log_verify_report *rep = v->rep;
    if (se->type != RAFT_COMMAND) {
        rep->barriers += se->type == RAFT_BARRIER;
        rep->configs += se->type == RAFT_CHANGE;
        if (v->cb->entry != NULL)
            v->cb->entry(v->cb->ud, se, NULL, 0);
        return 0;
    }
    rep->commands++;
    int rc = hv_log_entry_decode(se->data, se->len, &v->e);
    if (rc != 0) {
        problem(v, se, "not a log entry: %s", hv_strerror(rc));
        if (v->cb->entry != NULL)
            v->cb->entry(v->cb->ud, se, NULL, rc);
        return 0;
    }
    if (rep->store.snapshot && se->index <= rep->store.snap_index) {
        before_snapshot(v, se, &rep->snap_status);
        rc = 0;
    } else {
        rc = hv_log_fsm_apply(v->fsm, se->data, se->len);
        if (rc != 0)
            problem(v, se, "%s entry (chain position %" PRIu64 ") refused: %s",
                    hv_log_type_name(v->e.type), v->e.seq, why(rc, &v->e));
    }
    if (v->cb->entry != NULL)
        v->cb->entry(v->cb->ud, se, &v->e, rc);
    return 0;
}

int hv__log_verify(const char *dir, hv_log_verify_report *rep, const hv_log_verify_cb *cb,
                   char *err, size_t cap)
{
    static const hv_log_verify_cb none = { 0 };
    memset(rep, 0, sizeof(*rep));
    vstate *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return HV_ENOMEM;
    v->rep = rep;
    v->cb = cb != NULL ? cb : &none;
    hv_log_store st;
    int rc = hv_log_fsm_new(NULL, &v->fsm);
    if (rc == 0)
        rc = hv__log_store_open(&st, dir, err, cap);
    if (rc != 0) {
        hv_log_fsm_free(v->fsm);
        free(v);
        return rc;
    }
    rep->store = st.info;
    /* restored, the snapshot is the state the entries after it apply to */
    if (st.snap != NULL && (rc = hv_log_fsm_restore(v->fsm, st.snap, st.snap_len)) != 0)
        snprintf(
            err, cap,
            "%s/snapshot-%" PRIu64 "-%" PRIu64 "-%" PRIu64 ": not a state of the decision log: %s",
            dir, st.info.snap_term, st.info.snap_index, st.info.snap_timestamp, hv_strerror(rc));
    hv_log_fsm_status(v->fsm, &rep->snap_status);
    if (rc == 0)
        rc = hv__log_store_entries(&st, on_entry, v, err, cap);
    rep->store = st.info;
    hv__log_store_close(&st);
    if (rc == 0) {
        hv_log_fsm_status(v->fsm, &rep->status);
        rc = hv_log_fsm_hash(v->fsm, rep->state_hash);
    }
    hv_log_fsm_free(v->fsm);
    free(v->pre_ids);
    free(v);
    return rc;
}

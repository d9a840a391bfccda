/*
 * One replica of the decision log: canonical/raft + raft_uv + the log's state machine, on the
 * caller's libuv loop (replica.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log_int.h"
#include "log/replica.h"

#define INFLIGHT_MAX 4096u

typedef struct proposal {
    struct raft_apply req;
    hv_replica *r;
    uint64_t token;
} proposal;

struct hv_replica {
    hv_replica_opts o;
    char addr[HV_REPLICAS_MAX][128];
    char dir[4096];
    struct raft_io io;
    struct raft_fsm inner, fsm; /* the state machine's glue, and ours around it */
    struct raft raft;
    hv_log_fsm *state;
    uv_timer_t watch; /* raft 0.15 tells no one when it becomes leader: we look */
    struct raft_barrier barrier;
    int barrier_pending;
    raft_term ready_term; /* the term whose barrier applied (0: not ready) */
    int ready, leading;
    uint64_t seq; /* the chain as proposed: position and hash of the last entry */
    uint8_t head[HV_LOG_HASH_BYTES];
    uint32_t inflight;
    int closing, pending_closes;
    uint64_t close_by_ms; /* the close waits for the disk until then at most (loop time) */
    void (*close_cb)(void *);
    void *close_ud;
};

void hv_replica_opts_default(hv_replica_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->election_timeout_ms = 300;
    o->heartbeat_ms = 50;
    o->snapshot_threshold = 4096;
    o->snapshot_trailing = 4096;
    o->snapshot_bytes_max = 64u << 20;
    o->segment_bytes = 8u << 20;
}

/* ---- The state machine, and what this replica learns from it ------------------------------ */

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    hv_replica *r = fsm->data;
    int rc = r->inner.apply(&r->inner, buf, result);
    if (r->o.on_apply != NULL)
        r->o.on_apply(r->o.ud, hv__log_fsm_last_entry(r->state), **(int **)result);
    return rc;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    hv_replica *r = fsm->data;
    return r->inner.snapshot(&r->inner, bufs, n);
}

static int fsm_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    hv_replica *r = fsm->data;
    return r->inner.snapshot_finalize(&r->inner, bufs, n);
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    hv_replica *r = fsm->data;
    return r->inner.restore(&r->inner, buf);
}

/* ---- Leadership ---------------------------------------------------------------------------- */

static void not_ready(hv_replica *r)
{
    int was = r->ready;
    r->ready = 0;
    r->ready_term = 0;
    if (was && r->o.on_role != NULL)
        r->o.on_role(r->o.ud, 0);
}

static void barrier_cb(struct raft_barrier *b, int status)
{
    hv_replica *r = b->data;
    r->barrier_pending = 0;
    if (r->closing || status != 0 || raft_state(&r->raft) != RAFT_LEADER)
        return;
    /* every entry before the barrier is applied: the chain ends where the state machine's does */
    hv_log_status st;
    hv_log_fsm_status(r->state, &st);
    r->seq = st.seq;
    memcpy(r->head, st.head, sizeof(r->head));
    r->ready_term = r->raft.current_term;
    r->ready = 1;
    if (r->o.on_role != NULL)
        r->o.on_role(r->o.ud, 1);
}

static void look(hv_replica *r)
{
    if (r->closing)
        return;
    int leader = raft_state(&r->raft) == RAFT_LEADER;
    if (!leader || (r->ready && r->ready_term != r->raft.current_term))
        not_ready(r);
    if (leader && !r->ready && !r->barrier_pending) {
        r->barrier.data = r;
        if (raft_barrier(&r->raft, &r->barrier, barrier_cb) == 0)
            r->barrier_pending = 1;
    }
    r->leading = leader;
}

static void watch_cb(uv_timer_t *t)
{
    look(t->data);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    proposal *p = req->data;
    hv_replica *r = p->r;
    r->inflight--;
    if (status != 0 && !r->closing)
        not_ready(r); /* the chain after it is not the log's: a new barrier will say */
    if (r->o.on_commit != NULL)
        r->o.on_commit(r->o.ud, p->token, status == 0 ? 0 : HV_ENOTLEADER,
                       status == 0 ? *(int *)result : 0);
    free(p);
}

int hv_replica_propose(hv_replica *r, hv_log_entry *e, uint64_t token)
{
    look(r);
    if (!r->ready || r->closing)
        return HV_ENOTLEADER;
    if (r->inflight >= INFLIGHT_MAX)
        return HV_EFULL;
    e->seq = r->seq + 1;
    memcpy(e->prev, r->head, sizeof(e->prev));
    size_t len = 0;
    uint8_t tmp[HV_LOG_ENTRY_MAX];
    int rc = hv_log_entry_encode(e, tmp, sizeof(tmp), &len);
    if (rc != 0)
        return rc;
    proposal *p = calloc(1, sizeof(*p));
    struct raft_buffer b = { raft_malloc(len), len };
    if (p == NULL || b.base == NULL) {
        free(p);
        raft_free(b.base);
        return HV_ENOMEM;
    }
    memcpy(b.base, tmp, len);
    p->r = r;
    p->token = token;
    p->req.data = p;
    if (raft_apply(&r->raft, &p->req, &b, 1, apply_cb) != 0) {
        raft_free(b.base);
        free(p);
        not_ready(r);
        return HV_ENOTLEADER;
    }
    r->inflight++;
    r->seq++;
    hv_log_entry_hash(tmp, r->head);
    return 0;
}

/* ---- Start and stop ------------------------------------------------------------------------ */

static int bootstrap(hv_replica *r, char *err, size_t cap)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rv = 0;
    for (uint32_t i = 0; rv == 0 && i < r->o.n; i++)
        rv = raft_configuration_add(&conf, i + 1, r->addr[i], RAFT_VOTER);
    if (rv == 0)
        rv = raft_bootstrap(&r->raft, &conf); /* a directory used before: CANTBOOTSTRAP */
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
        snprintf(err, cap, "%s: bootstrap: %s", r->dir, raft_errmsg(&r->raft));
        return HV_EIO;
    }
    return 0;
}

static int check(const hv_replica_opts *o)
{
    if (o == NULL || o->size < sizeof(*o) || o->n < 1 || o->n > HV_REPLICAS_MAX || o->id < 1 ||
        o->id > o->n || o->data_dir == NULL || o->loop == NULL || o->transport == NULL ||
        o->election_timeout_ms < 2 * o->heartbeat_ms || o->heartbeat_ms == 0 ||
        o->snapshot_threshold == 0)
        return 0;
    for (uint32_t i = 0; i < o->n; i++)
        if (o->addresses[i] == NULL || strlen(o->addresses[i]) >= 128)
            return 0;
    return strlen(o->data_dir) < 4096;
}

static int start(hv_replica *r, char *err, size_t cap)
{
    const hv_replica_opts *o = &r->o;
    if (raft_uv_init(&r->io, o->loop, r->dir, o->transport) != 0) {
        snprintf(err, cap, "%s: %s", r->dir, r->io.errmsg);
        return HV_EIO;
    }
    raft_uv_set_snapshot_compression(&r->io, false); /* `hivewire log` reads it as written */
    raft_uv_set_segment_size(&r->io, o->segment_bytes);
    raft_uv_set_connect_retry_delay(&r->io, 50);
    if (raft_init(&r->raft, &r->io, &r->fsm, o->id, r->addr[o->id - 1]) != 0) {
        snprintf(err, cap, "raft_init: %s", raft_errmsg(&r->raft));
        raft_uv_close(&r->io);
        return HV_EIO;
    }
    r->raft.data = r;
    raft_set_election_timeout(&r->raft, o->election_timeout_ms);
    raft_set_heartbeat_timeout(&r->raft, o->heartbeat_ms);
    raft_set_snapshot_threshold(&r->raft, o->snapshot_threshold);
    raft_set_snapshot_trailing(&r->raft, o->snapshot_trailing);
    raft_set_pre_vote(&r->raft, true);
    int rc = bootstrap(r, err, cap);
    if (rc == 0 && raft_start(&r->raft) != 0) {
        snprintf(err, cap, "%s: %s", r->dir, raft_errmsg(&r->raft));
        rc = HV_EIO;
    }
    return rc;
}

int hv_replica_start(hv_replica **out, const hv_replica_opts *o, char *err, size_t cap)
{
    *out = NULL;
    err[0] = 0;
    if (!check(o)) {
        snprintf(err, cap, "bad replica options");
        return HV_EINVAL;
    }
    hv_replica *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return HV_ENOMEM;
    r->o = *o;
    for (uint32_t i = 0; i < o->n; i++) {
        snprintf(r->addr[i], sizeof(r->addr[i]), "%s", o->addresses[i]);
        r->o.addresses[i] = r->addr[i];
    }
    snprintf(r->dir, sizeof(r->dir), "%s", o->data_dir);
    hv_log_fsm_opts fo;
    hv_log_fsm_opts_default(&fo);
    fo.snapshot_bytes_max = o->snapshot_bytes_max;
    int rc = hv_log_fsm_new(&fo, &r->state);
    if (rc != 0) {
        free(r);
        return rc;
    }
    hv__log_fsm_raft(r->state, &r->inner);
    r->fsm = r->inner;
    r->fsm.data = r;
    r->fsm.apply = fsm_apply;
    r->fsm.snapshot = fsm_snapshot;
    r->fsm.snapshot_finalize = fsm_finalize;
    r->fsm.restore = fsm_restore;
    if ((rc = start(r, err, cap)) != 0) {
        hv_log_fsm_free(r->state);
        free(r);
        return rc;
    }
    uv_timer_init(o->loop, &r->watch);
    r->watch.data = r;
    uv_timer_start(&r->watch, watch_cb, o->heartbeat_ms / 2 + 1, o->heartbeat_ms / 2 + 1);
    *out = r;
    return 0;
}

static void closed_one(hv_replica *r)
{
    if (--r->pending_closes > 0)
        return;
    void (*cb)(void *) = r->close_cb;
    void *ud = r->close_ud;
    hv_log_fsm_free(r->state);
    free(r);
    if (cb != NULL)
        cb(ud);
}

static void raft_closed(struct raft *raft)
{
    hv_replica *r = raft->data;
    raft_uv_close(&r->io);
    closed_one(r);
}

static void watch_closed(uv_handle_t *h)
{
    closed_one(h->data);
}

/* Outside every raft callback: raft may not be closed from inside one of its own. Nor while an
 * append is still being written: raft 0.15 closed then crashes when the write ends (seen with an
 * entry proposed just before the close), so the close waits for its disk, 1 s at most. (A
 * snapshot being stored is not waited for: raft 0.15 gives no reliable sign of one.) */
static void close_now(uv_timer_t *t)
{
    hv_replica *r = t->data;
    if (r->raft.last_stored < raft_last_index(&r->raft) && uv_now(t->loop) < r->close_by_ms) {
        uv_timer_start(&r->watch, close_now, 1, 0);
        return;
    }
    uv_close((uv_handle_t *)&r->watch, watch_closed);
    raft_close(&r->raft, raft_closed);
}

void hv_replica_close(hv_replica *r, void (*cb)(void *ud), void *ud)
{
    if (r->closing)
        return;
    r->closing = 1;
    r->close_cb = cb;
    r->close_ud = ud;
    r->pending_closes = 2;
    r->ready = 0;
    uv_update_time(r->watch.loop); /* the loop may have been idle: its time is old */
    r->close_by_ms = uv_now(r->watch.loop) + 1000;
    uv_timer_stop(&r->watch);
    uv_timer_start(&r->watch, close_now, 0, 0);
}

int hv_replica_ready(const hv_replica *r)
{
    return r->ready;
}

void hv_replica_leader(const hv_replica *r, uint64_t *id, const char **address)
{
    raft_id i = 0;
    const char *a = NULL;
    raft_leader((struct raft *)&r->raft, &i, &a);
    *id = i;
    *address = a;
}

const hv_log_fsm *hv_replica_fsm(const hv_replica *r)
{
    return r->state;
}

void hv_replica_raft_stats(const hv_replica *r, uint64_t *term, uint64_t *commit, uint64_t *applied)
{
    *term = r->raft.current_term;
    *commit = r->raft.commit_index;
    *applied = r->raft.last_applied;
}

uint32_t hv_replica_inflight(const hv_replica *r)
{
    return r->inflight;
}

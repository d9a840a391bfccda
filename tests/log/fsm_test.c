/* The log's state machine: a scripted run's log rebuilds the venue fill for fill; the chain,
 * the applied set and every refusal leave the state as it was; snapshots restore to the same
 * state hash at every point, and are bounded; the raft_fsm glue. */
#include "hv_test.h"

#include <hivewire/log.h>

#include "log/log_int.h"
#include "log_util.h"

static hv_log_fsm *fsm_new(void)
{
    hv_log_fsm *f = NULL;
    assert_int_equal(hv_log_fsm_new(NULL, &f), 0);
    return f;
}

static void hash_of(const hv_log_fsm *f, uint8_t h[32])
{
    assert_int_equal(hv_log_fsm_hash(f, h), 0);
}

/* Applies the whole scripted run; every entry must be accepted. */
static void run_all(hv_log_fsm *f, logrun *r, logw *w)
{
    while (logrun_next(r, w))
        assert_int_equal(hv_log_fsm_apply(f, w->buf, w->len), 0);
}

/* A whole scripted run applied, and the snapshot of its end. */
typedef struct ran {
    logrun r;
    logw w;
    hv_log_fsm *f;
    uint8_t *snap;
    size_t len;
} ran;

static ran *ran_new(uint64_t cycles, uint64_t seed)
{
    ran *x = calloc(1, sizeof(*x));
    assert_non_null(x);
    assert_int_equal(logrun_init(&x->r, cycles, seed), 0);
    x->f = fsm_new();
    run_all(x->f, &x->r, &x->w);
    assert_int_equal(hv_log_fsm_snapshot(x->f, &x->snap, &x->len), 0);
    return x;
}

static void ran_free(ran *x)
{
    free(x->snap);
    hv_log_fsm_free(x->f);
    logrun_fini(&x->r);
    free(x);
}

static void a_runs_log_rebuilds_the_venue_fill_for_fill(void **state)
{
    (void)state;
    logrun r;
    logw w = { 0 };
    assert_int_equal(logrun_init(&r, 400, 11), 0);
    hv_log_fsm *f = fsm_new();
    run_all(f, &r, &w);
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_true(st.finished);
    assert_int_equal(st.seq, w.seq);
    assert_memory_equal(st.head, w.head, 32);
    assert_int_equal(st.cycles_done, 400);
    assert_int_equal(st.decisions, r.proposals);
    assert_int_equal(st.accepted, r.accepted);
    assert_int_equal(st.results, r.accepted);
    assert_true(st.fills > 0);
    assert_true(st.refused_limit > 0); /* the run met the position limit */
    assert_int_equal(st.trades_hash, r.trades);
    assert_int_equal(st.divergences, 0);
    assert_int_equal(st.refused, 0);
    assert_int_equal(st.pending, 0);
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(r.venue.pf, &ps);
    assert_int_equal(st.position, ps.position);
    assert_true(st.cash == ps.cash);
    hv_log_fsm_free(f);
    logrun_fini(&r);
}

/* Two logs that differ in one bar give two states. */
static void different_entries_give_different_state_hashes(void **state)
{
    (void)state;
    uint8_t h[2][32];
    for (int i = 0; i < 2; i++) {
        logrun r;
        logw w = { 0 };
        assert_int_equal(logrun_init(&r, 50, 3 + (uint64_t)i), 0);
        hv_log_fsm *f = fsm_new();
        run_all(f, &r, &w);
        hash_of(f, h[i]);
        hv_log_fsm_free(f);
        logrun_fini(&r);
    }
    assert_memory_not_equal(h[0], h[1], 32);
}

/* Applies w's entry and checks it was refused with rc, moving only the refusal counter (and
 * the chain, when the entry extended it). */
static void refused(hv_log_fsm *f, logw *w, int rc, int chain_moves)
{
    hv_log_status before, after;
    hv_log_fsm_status(f, &before);
    assert_int_equal(hv_log_fsm_apply(f, w->buf, w->len), rc);
    hv_log_fsm_status(f, &after);
    assert_int_equal(after.refused, before.refused + 1);
    assert_int_equal(after.seq, before.seq + (chain_moves ? 1 : 0));
    after.refused = before.refused;
    after.seq = before.seq;
    memcpy(after.head, before.head, 32);
    assert_memory_equal(&after, &before, sizeof(after));
}

static void an_entry_off_the_chain_changes_nothing(void **state)
{
    (void)state;
    logrun r;
    logw w = { 0 };
    assert_int_equal(logrun_init(&r, 20, 5), 0);
    hv_log_fsm *f = fsm_new();
    for (int i = 0; i < 10 && logrun_next(&r, &w); i++)
        assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
    uint8_t h1[32], h2[32];
    hash_of(f, h1);
    /* the same entry again: its seq is taken */
    assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), HV_ECHAIN);
    /* the next entry with a wrong previous hash, then with a gap in seq */
    hv_log_entry e;
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_MEMBER;
    e.member = (hv_log_member){ .id = 9, .role = 2, .auth = 1 };
    logw bad = w;
    bad.head[0] ^= 1;
    assert_int_equal(logw_put(&bad, &e), 0);
    assert_int_equal(hv_log_fsm_apply(f, bad.buf, bad.len), HV_ECHAIN);
    bad = w;
    bad.seq++;
    assert_int_equal(logw_put(&bad, &e), 0);
    assert_int_equal(hv_log_fsm_apply(f, bad.buf, bad.len), HV_ECHAIN);
    /* not an entry at all */
    assert_int_equal(hv_log_fsm_apply(f, w.buf, 10), HV_ETRUNCATED);
    hash_of(f, h2);
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_int_equal(st.refused, 4);
    /* the refusals are counted: the hashes differ only by that counter */
    assert_memory_not_equal(h1, h2, 32);
    hv_log_fsm_free(f);
    logrun_fini(&r);
}

static void logw_put_ok(logw *w, hv_log_entry *e)
{
    assert_int_equal(logw_put(w, e), 0);
}

static void genesis_then(hv_log_fsm *f, logw *w, uint64_t cycles)
{
    hv_log_entry e;
    log_genesis(&e, cycles);
    logw_put_ok(w, &e);
    assert_int_equal(hv_log_fsm_apply(f, w->buf, w->len), 0);
}

/* Chains e and applies it: accepted when rc is 0, else refused with rc. */
static void feed(hv_log_fsm *f, logw *w, hv_log_entry *e, int rc)
{
    logw_put_ok(w, e);
    if (rc == 0)
        assert_int_equal(hv_log_fsm_apply(f, w->buf, w->len), 0);
    else
        refused(f, w, rc, 1);
}

static void cycle(hv_log_fsm *f, logw *w, uint64_t c, int rc)
{
    hv_log_entry e = { .type = HV_LOG_CYCLE };
    e.cycle.cycle = c;
    e.cycle.bar = (hv_bar){ 730000 + (int32_t)c, 100, 101, 99, 100, 100, 1e9 };
    feed(f, w, &e, rc);
}

static void end(hv_log_fsm *f, logw *w, uint64_t c, int rc)
{
    hv_log_entry e = { .type = HV_LOG_CYCLE_END };
    e.end.cycle = c;
    feed(f, w, &e, rc);
}

static void decide(hv_log_fsm *f, logw *w, uint64_t c, uint64_t id, int outcome, int rc)
{
    hv_log_entry e = { .type = HV_LOG_DECISION };
    e.decision.cycle = c;
    e.decision.d.proposal_id = id;
    e.decision.d.outcome = (uint8_t)outcome;
    e.decision.order = (hv_log_order){ HV_SIDE_BUY, HV_ACTION_POSITION_CHANGE, 100, 100, 100 };
    feed(f, w, &e, rc);
}

static void result(hv_log_fsm *f, logw *w, uint64_t c, uint64_t id, uint64_t order_id, int rc)
{
    hv_log_entry e = { .type = HV_LOG_RESULT };
    e.result.proposal_id = id;
    e.result.cycle = c;
    e.result.order_id = order_id;
    feed(f, w, &e, rc);
}

static void no_proposal_is_applied_twice(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 10);
    cycle(f, &w, 0, 0);
    decide(f, &w, 0, 1, HV_OUTCOME_ACCEPTED, 0);
    decide(f, &w, 0, 1, HV_OUTCOME_ACCEPTED, HV_EEXIST);
    decide(f, &w, 0, 1, HV_OUTCOME_REJECTED, HV_EEXIST);
    assert_true(hv_log_fsm_applied(f, 1));
    assert_false(hv_log_fsm_applied(f, 2));
    result(f, &w, 0, 1, 1, 0);
    result(f, &w, 0, 1, 1, HV_EEXIST);      /* its result is known */
    result(f, &w, 0, 2, 2, HV_ENOPROPOSAL); /* never decided */
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_int_equal(st.decisions, 1);
    assert_int_equal(st.orders_sent, 1);
    assert_int_equal(st.divergences, 0);
    hv_log_fsm_free(f);
}

static void proposal_ids_run_from_1_to_cycles_max(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 10);
    cycle(f, &w, 9, 0); /* the last cycle there is */
    decide(f, &w, 9, 10, HV_OUTCOME_REJECTED, 0);
    decide(f, &w, 9, 11, HV_OUTCOME_REJECTED, HV_ERANGE);
    end(f, &w, 9, 0);
    cycle(f, &w, 10, HV_ERANGE);
    hv_log_fsm_free(f);
}

static void cycles_only_move_forward_one_at_a_time(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 10);
    end(f, &w, 0, HV_ESTATE); /* nothing open */
    cycle(f, &w, 3, 0);
    cycle(f, &w, 4, HV_ESTATE); /* 3 is still open */
    end(f, &w, 4, HV_ESTATE);
    end(f, &w, 3, 0);
    cycle(f, &w, 3, HV_EEXIST);
    cycle(f, &w, 2, HV_EEXIST);
    cycle(f, &w, 4, 0);
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_int_equal(st.cycle_last, 4);
    assert_true(st.cycle_open);
    assert_int_equal(st.cycles_done, 1);
    hv_log_fsm_free(f);
}

static void the_genesis_comes_first_and_once_and_nothing_follows_the_finish(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    cycle(f, &w, 0, HV_ESTATE);
    hv_log_entry e;
    log_genesis(&e, 10);
    logw_put_ok(&w, &e);
    assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
    logw_put_ok(&w, &e);
    refused(f, &w, HV_ESTATE, 1);
    cycle(f, &w, 0, 0);
    memset(&e, 0, sizeof(e));
    e.type = HV_LOG_FINISH;
    e.finish.cycles = 1;
    logw_put_ok(&w, &e);
    refused(f, &w, HV_ESTATE, 1); /* cycle 0 is open */
    end(f, &w, 0, 0);
    logw_put_ok(&w, &e);
    assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
    cycle(f, &w, 1, HV_ESTATE);
    hv_log_fsm_free(f);
}

static void a_result_the_venue_did_not_give_is_a_divergence(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 10);
    cycle(f, &w, 0, 0);
    decide(f, &w, 0, 1, HV_OUTCOME_ACCEPTED, 0);
    result(f, &w, 0, 1, 99, 0); /* the log's venue numbers this order 1 */
    end(f, &w, 0, 0);
    cycle(f, &w, 1, 0);
    decide(f, &w, 1, 2, HV_OUTCOME_ACCEPTED, 0);
    end(f, &w, 1, 0);
    cycle(f, &w, 2, 0);
    result(f, &w, 1, 2, 2, 0); /* late: cycle 2 traded already */
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_int_equal(st.results_late, 1);
    assert_int_equal(st.divergences, 2);
    hv_log_fsm_free(f);
}

static void pending_decisions_are_bounded_and_the_oldest_is_counted_out(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 100);
    for (uint64_t c = 0; c <= HV_LOG_PENDING_MAX; c++) {
        cycle(f, &w, c, 0);
        decide(f, &w, c, c + 1, HV_OUTCOME_ACCEPTED, 0);
        end(f, &w, c, 0);
    }
    hv_log_status st;
    hv_log_fsm_status(f, &st);
    assert_int_equal(st.pending, HV_LOG_PENDING_MAX);
    assert_int_equal(st.pending_evicted, 1);
    hv_log_pending p;
    assert_int_equal(hv_log_fsm_pending(f, 0, &p), 0);
    assert_int_equal(p.proposal_id, 2);
    assert_int_equal(hv_log_fsm_pending(f, HV_LOG_PENDING_MAX, &p), HV_ERANGE);
    hv_log_fsm_free(f);
}

static void member(hv_log_fsm *f, logw *w, uint64_t id, uint64_t inc, uint8_t key, int rc)
{
    hv_log_entry e = { .type = HV_LOG_MEMBER };
    e.member = (hv_log_member){ .id = id, .incarnation = inc, .role = 2, .auth = 1 };
    memset(e.member.pk, key, sizeof(e.member.pk));
    feed(f, w, &e, rc);
}

static void the_registry_keeps_each_agent_once_and_is_bounded(void **state)
{
    (void)state;
    hv_log_fsm *f = fsm_new();
    logw w = { 0 };
    genesis_then(f, &w, 10);
    for (uint64_t id = 1; id <= HV_LOG_MEMBERS_MAX; id++)
        member(f, &w, id, 0, 1, 0);
    member(f, &w, HV_LOG_MEMBERS_MAX + 1, 0, 1, HV_EFULL);
    member(f, &w, 5, 1, 1, 0);         /* a restart: a new incarnation */
    member(f, &w, 5, 2, 2, HV_EEXIST); /* another key under a registered id */
    hv_log_member m;
    assert_int_equal(hv_log_fsm_member(f, 4, &m), 0);
    assert_int_equal(m.id, 5);
    assert_int_equal(m.incarnation, 1);
    assert_int_equal(hv_log_fsm_member(f, HV_LOG_MEMBERS_MAX, &m), HV_ERANGE);
    hv_log_fsm_free(f);
}

/* At every point of a run, a snapshot restores into another state machine with the same hash,
 * and both go on to the same end. */
static void a_snapshot_restores_the_same_state_at_every_point(void **state)
{
    (void)state;
    logrun r;
    logw w = { 0 };
    assert_int_equal(logrun_init(&r, 60, 21), 0);
    hv_log_fsm *f = fsm_new(), *g = fsm_new();
    uint8_t h1[32], h2[32];
    int n = 0;
    while (logrun_next(&r, &w)) {
        assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
        uint8_t *snap = NULL;
        size_t len = 0;
        assert_int_equal(hv_log_fsm_snapshot(f, &snap, &len), 0);
        hv_log_fsm_free(g);
        g = fsm_new();
        assert_int_equal(hv_log_fsm_restore(g, snap, len), 0);
        hash_of(f, h1);
        hash_of(g, h2);
        assert_memory_equal(h1, h2, 32);
        uint8_t *again = NULL;
        size_t len2 = 0;
        assert_int_equal(hv_log_fsm_snapshot(g, &again, &len2), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(snap, again, len);
        free(again);
        free(snap);
        n++;
    }
    assert_true(n > 100);
    hv_log_fsm_free(f);
    hv_log_fsm_free(g);
    logrun_fini(&r);
}

/* A state restored mid-run and the original apply the rest of the log to the same end. */
static void a_restored_state_goes_on_like_the_original(void **state)
{
    (void)state;
    logrun r;
    logw w = { 0 };
    assert_int_equal(logrun_init(&r, 120, 8), 0);
    hv_log_fsm *f = fsm_new(), *g = fsm_new();
    for (int i = 0; i < 150 && logrun_next(&r, &w); i++)
        assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
    uint8_t *snap = NULL;
    size_t len = 0;
    assert_int_equal(hv_log_fsm_snapshot(f, &snap, &len), 0);
    assert_int_equal(hv_log_fsm_restore(g, snap, len), 0);
    free(snap);
    while (logrun_next(&r, &w)) {
        assert_int_equal(hv_log_fsm_apply(f, w.buf, w.len), 0);
        assert_int_equal(hv_log_fsm_apply(g, w.buf, w.len), 0);
    }
    uint8_t h1[32], h2[32];
    hash_of(f, h1);
    hash_of(g, h2);
    assert_memory_equal(h1, h2, 32);
    hv_log_status st;
    hv_log_fsm_status(g, &st);
    assert_int_equal(st.trades_hash, r.trades);
    hv_log_fsm_free(f);
    hv_log_fsm_free(g);
    logrun_fini(&r);
}

static void snapshots_are_bounded_by_their_configured_size(void **state)
{
    (void)state;
    ran *x = ran_new(30, 2);
    hv_log_fsm_opts o;
    hv_log_fsm_opts_default(&o);
    o.snapshot_bytes_max = x->len;
    hv_log_fsm *g = NULL, *h = NULL;
    assert_int_equal(hv_log_fsm_new(&o, &g), 0);
    assert_int_equal(hv_log_fsm_restore(g, x->snap, x->len), 0);
    uint8_t *b = NULL;
    size_t n = 0;
    assert_int_equal(hv_log_fsm_snapshot(g, &b, &n), 0);
    free(b);
    o.snapshot_bytes_max = x->len - 1;
    assert_int_equal(hv_log_fsm_new(&o, &h), 0);
    assert_int_equal(hv_log_fsm_restore(h, x->snap, x->len), HV_ETOOBIG);
    hv_log_fsm_free(h);
    o.size = 1;
    assert_int_equal(hv_log_fsm_new(&o, &h), HV_EINVAL);
    o.size = sizeof(o);
    o.snapshot_bytes_max = 0;
    assert_int_equal(hv_log_fsm_new(&o, &h), HV_EINVAL);
    hv_log_fsm_free(g);
    ran_free(x);
}

/* Every prefix of a snapshot and every flipped byte: refused or restored, never a crash, and a
 * refusal leaves the state as it was. */
static void a_damaged_snapshot_is_refused_and_changes_nothing(void **state)
{
    (void)state;
    ran *x = ran_new(25, 4);
    hv_log_fsm *g = fsm_new();
    uint8_t h0[32], h1[32];
    hash_of(g, h0);
    for (size_t cut = 0; cut < x->len; cut++) {
        assert_int_not_equal(hv_log_fsm_restore(g, x->snap, cut), 0);
        hash_of(g, h1);
        assert_memory_equal(h0, h1, 32);
    }
    uint8_t *b = malloc(x->len + 1);
    memcpy(b, x->snap, x->len);
    b[x->len] = 0;
    assert_int_equal(hv_log_fsm_restore(g, b, x->len + 1), HV_ETRAILING);
    b[0] ^= 1;
    assert_int_equal(hv_log_fsm_restore(g, b, x->len), HV_EBADMAGIC);
    for (size_t i = 0; i < x->len; i += 3) {
        memcpy(b, x->snap, x->len);
        b[i] ^= 0x80;
        (void)hv_log_fsm_restore(g, b, x->len);
    }
    free(b);
    hv_log_fsm_free(g);
    ran_free(x);
}

/* canonical/raft's side: apply never fails towards raft, the answer is in *result; the
 * snapshot buffer is finalized by us; restore takes the buffer. */
static void the_raft_fsm_glue_applies_snapshots_and_restores(void **state)
{
    (void)state;
    logrun r;
    logw w = { 0 };
    assert_int_equal(logrun_init(&r, 10, 1), 0);
    hv_log_fsm *f = fsm_new(), *g = fsm_new();
    struct raft_fsm rf, rg;
    hv__log_fsm_raft(f, &rf);
    hv__log_fsm_raft(g, &rg);
    while (logrun_next(&r, &w)) {
        struct raft_buffer b = { w.buf, w.len };
        void *res = NULL;
        assert_int_equal(rf.apply(&rf, &b, &res), 0);
        assert_int_equal(*(int *)res, 0);
        assert_int_equal(rf.apply(&rf, &b, &res), 0); /* again: refused, not failed */
        assert_int_equal(*(int *)res, HV_ECHAIN);
    }
    struct raft_buffer *bufs = NULL;
    unsigned n = 0;
    assert_int_equal(rf.snapshot(&rf, &bufs, &n), 0);
    assert_int_equal(n, 1);
    struct raft_buffer copy = { raft_malloc(bufs[0].len), bufs[0].len };
    memcpy(copy.base, bufs[0].base, copy.len);
    assert_int_equal(rf.snapshot_finalize(&rf, &bufs, &n), 0);
    assert_null(bufs);
    assert_int_equal(rg.restore(&rg, &copy), 0); /* takes copy.base */
    uint8_t h1[32], h2[32];
    hash_of(f, h1);
    hash_of(g, h2);
    assert_memory_equal(h1, h2, 32);
    hv_log_fsm_free(f);
    hv_log_fsm_free(g);
    logrun_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_runs_log_rebuilds_the_venue_fill_for_fill),
        cmocka_unit_test(different_entries_give_different_state_hashes),
        cmocka_unit_test(an_entry_off_the_chain_changes_nothing),
        cmocka_unit_test(no_proposal_is_applied_twice),
        cmocka_unit_test(proposal_ids_run_from_1_to_cycles_max),
        cmocka_unit_test(cycles_only_move_forward_one_at_a_time),
        cmocka_unit_test(the_genesis_comes_first_and_once_and_nothing_follows_the_finish),
        cmocka_unit_test(a_result_the_venue_did_not_give_is_a_divergence),
        cmocka_unit_test(pending_decisions_are_bounded_and_the_oldest_is_counted_out),
        cmocka_unit_test(the_registry_keeps_each_agent_once_and_is_bounded),
        cmocka_unit_test(a_snapshot_restores_the_same_state_at_every_point),
        cmocka_unit_test(a_restored_state_goes_on_like_the_original),
        cmocka_unit_test(snapshots_are_bounded_by_their_configured_size),
        cmocka_unit_test(a_damaged_snapshot_is_refused_and_changes_nothing),
        cmocka_unit_test(the_raft_fsm_glue_applies_snapshots_and_restores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

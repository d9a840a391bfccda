/*
 * The decision log on canonical/raft's test fixture: simulated time, a simulated network and
 * disk, every replica's state machine an hv_log_fsm. A seeded schedule kills and revives
 * replicas (the leader more often than the others), partitions them, drops messages on chosen
 * links and changes network and disk latencies, while a client plays the coordinator: it
 * proposes the entries of a scripted run to whoever leads, and when the leader changes it does
 * what a new coordinator does (a barrier, then it resumes from the log's last entry, proposing
 * again what had not committed). Snapshots are taken every few entries, so lagging replicas
 * catch up by InstallSnapshot.
 *
 * After every step: a replica's chain position k always holds the entry every other replica
 * holds at k (no committed entry replaced). At the end, with the faults healed: every replica
 * applied every entry of the run exactly once (none lost, none refused as a repeat), their
 * state hashes are equal, the log's venue holds the scripted run's trades, and all replicas'
 * Raft logs are equal up to their commit index.
 *
 * `test_log_raft` runs a few seeds; `test_log_raft --seeds N --first S` runs N seeds from S (a
 * failing seed prints the command that replays it).
 */
#include "hv_test.h"

#include <inttypes.h>

#include <raft.h>
#include <raft/fixture.h>

#include <hivewire/log.h>
#include <hivewire/rng.h>

#include "log/log_int.h"
#include "log_util.h"

#define SERVERS_MAX  5
#define INFLIGHT_MAX 4
#define CYCLES       12
#define STEPS_MAX    400000u
#define HEAL_AFTER   40000u /* fixture ms: faults stop, the cluster must converge */
#define ENTRIES_MAX  (CYCLES * 4 + 2)

typedef struct client client;

/* One apply or barrier request, tagged with the epoch (leader and term) it belongs to. */
typedef struct req {
    union {
        struct raft_apply apply;
        struct raft_barrier barrier;
    };
    client *c;
    uint64_t epoch;
} req;

struct client {
    struct raft_fixture f;
    unsigned n;
    struct raft_fsm fsm[SERVERS_MAX];
    hv_log_fsm *state[SERVERS_MAX];
    hv_rng rng;
    /* the scripted run, all its entries made in advance (unchained) */
    hv_log_entry *script;
    size_t nscript;
    uint64_t trades; /* the run's trade list hash */
    /* the coordinator */
    uint64_t epoch;  /* one more at every leader it follows */
    unsigned leader; /* index it proposes to */
    raft_term term;  /* that leader's term */
    int ready;       /* its barrier applied: it knows where the log ends */
    int failed;      /* a request of this epoch failed: wait for the next leader */
    size_t next;     /* next script entry to propose */
    uint64_t seq;    /* chain position of the last proposed entry */
    uint8_t head[HV_LOG_HASH_BYTES];
    unsigned inflight;
    raft_time propose_at; /* the coordinator's pace: a cycle's entries come over time */
    uint64_t epochs, resumed_from_log, proposed;
    /* safety: the chain head every replica must have at each position one has reached */
    uint8_t heads[ENTRIES_MAX + 1][HV_LOG_HASH_BYTES];
    uint8_t known[ENTRIES_MAX + 1];
    uint64_t seen[SERVERS_MAX];
    unsigned snapshots; /* snapshot threshold (and trailing), 0: none */
    /* faults */
    int dead[SERVERS_MAX];
    uint8_t cut[SERVERS_MAX][SERVERS_MAX];   /* disconnected (partitions) */
    uint8_t lossy[SERVERS_MAX][SERVERS_MAX]; /* saturated by us: messages dropped */
    uint64_t kills, partitions, losses;
};

/* ---- The coordinator ------------------------------------------------------------------------ */

static void apply_cb(struct raft_apply *a, int status, void *result)
{
    req *r = a->data;
    client *c = r->c;
    if (r->epoch == c->epoch) {
        c->inflight--;
        if (status != 0)
            c->failed = 1; /* not committed by this leader (it may still commit later) */
        else
            assert_int_equal(*(int *)result, 0); /* the state machine took it */
    }
    free(r);
}

static void barrier_cb(struct raft_barrier *b, int status)
{
    req *r = b->data;
    client *c = r->c;
    if (r->epoch == c->epoch) {
        if (status != 0) {
            c->failed = 1;
        } else {
            /* everything before the barrier is applied: the log says where the run stands */
            hv_log_status st;
            hv_log_fsm_status(c->state[c->leader], &st);
            c->seq = st.seq;
            memcpy(c->head, st.head, sizeof(c->head));
            c->next = (size_t)st.seq; /* every entry applied once, in order: seq = entries in */
            c->ready = 1;
            c->resumed_from_log++;
        }
    }
    free(r);
}

/* The alive replica that leads with the highest term, or n. */
static unsigned find_leader(client *c)
{
    unsigned best = c->n;
    for (unsigned i = 0; i < c->n; i++) {
        struct raft *r = raft_fixture_get(&c->f, i);
        if (c->dead[i] || raft_state(r) != RAFT_LEADER)
            continue;
        if (best == c->n || r->current_term > raft_fixture_get(&c->f, best)->current_term)
            best = i;
    }
    return best;
}

static void follow(client *c, unsigned leader)
{
    c->epoch++;
    c->epochs++;
    c->leader = leader;
    c->term = raft_fixture_get(&c->f, leader)->current_term;
    c->ready = c->failed = 0;
    c->inflight = 0;
    req *r = calloc(1, sizeof(*r));
    r->c = c;
    r->epoch = c->epoch;
    r->barrier.data = r;
    if (raft_barrier(raft_fixture_get(&c->f, leader), &r->barrier, barrier_cb) != 0) {
        free(r);
        c->failed = 1;
    }
}

static void propose(client *c)
{
    hv_log_entry e = c->script[c->next];
    e.seq = c->seq + 1;
    memcpy(e.prev, c->head, sizeof(e.prev));
    uint8_t buf[HV_LOG_ENTRY_MAX];
    size_t len;
    assert_int_equal(hv_log_entry_encode(&e, buf, sizeof(buf), &len), 0);
    struct raft_buffer b = { raft_malloc(len), len };
    memcpy(b.base, buf, len);
    req *r = calloc(1, sizeof(*r));
    r->c = c;
    r->epoch = c->epoch;
    r->apply.data = r;
    if (raft_apply(raft_fixture_get(&c->f, c->leader), &r->apply, &b, 1, apply_cb) != 0) {
        raft_free(b.base);
        free(r);
        c->failed = 1;
        return;
    }
    c->inflight++;
    c->proposed++;
    c->seq++;
    hv_log_entry_hash(buf, c->head);
    c->next++;
}

/* Follows the leader (a new one, or the same after a failed request: a barrier tells where
 * the log stands), then keeps a few entries in flight. */
static void coordinate(client *c)
{
    unsigned l = find_leader(c);
    if (l == c->n)
        return;
    if (l != c->leader || raft_fixture_get(&c->f, l)->current_term != c->term || c->failed) {
        follow(c, l);
        return;
    }
    raft_time now = raft_fixture_time(&c->f);
    while (c->ready && !c->failed && c->inflight < INFLIGHT_MAX && c->next < c->nscript &&
           now >= c->propose_at) {
        propose(c);
        c->propose_at = now + 20 + hv_rng_below(&c->rng, 150);
    }
}

/* ---- Faults --------------------------------------------------------------------------------- */

static unsigned alive_count(const client *c)
{
    unsigned k = 0;
    for (unsigned i = 0; i < c->n; i++)
        k += !c->dead[i];
    return k;
}

/* The fixture's links: a kill saturates every link of the replica and a revive clears that,
 * both only over connected links; so cuts are made and repaired here, around them. */
static int any_cut(const client *c)
{
    for (unsigned i = 0; i < c->n; i++)
        for (unsigned j = 0; j < c->n; j++)
            if (c->cut[i][j])
                return 1;
    return 0;
}

static void repair(client *c)
{
    for (unsigned a = 0; a < c->n; a++)
        for (unsigned b = 0; b < c->n; b++) {
            if (c->cut[a][b])
                raft_fixture_reconnect(&c->f, a, b);
            c->cut[a][b] = 0;
        }
    for (unsigned a = 0; a < c->n; a++)
        for (unsigned b = 0; b < c->n; b++) {
            if (c->lossy[a][b] && !c->dead[a] && !c->dead[b])
                raft_fixture_desaturate(&c->f, a, b);
            c->lossy[a][b] = 0;
        }
}

static void kill_one(client *c, unsigned i)
{
    if (i >= c->n || c->dead[i] || any_cut(c) || alive_count(c) <= c->n / 2 + 1)
        return;
    raft_fixture_kill(&c->f, i);
    c->dead[i] = 1;
    c->kills++;
    if (getenv("HV_RAFT_VERBOSE"))
        fprintf(stderr, "t=%llu kill %u (state %d term %llu)\n", raft_fixture_time(&c->f), i,
                raft_state(raft_fixture_get(&c->f, i)), raft_fixture_get(&c->f, i)->current_term);
}

static void revive_one(client *c, unsigned i)
{
    if (!c->dead[i] || any_cut(c))
        return;
    raft_fixture_revive(&c->f, i);
    c->dead[i] = 0;
    if (getenv("HV_RAFT_VERBOSE"))
        fprintf(stderr, "t=%llu revive %u\n", raft_fixture_time(&c->f), i);
    for (unsigned j = 0; j < c->n; j++) /* the revive cleared every link of i */
        c->lossy[i][j] = c->lossy[j][i] = 0;
}

static void heal(client *c)
{
    repair(c);
    for (unsigned i = 0; i < c->n; i++)
        revive_one(c, i);
}

/* One fault, or a repair, drawn from the seed. A majority stays alive. */
static void disturb(client *c)
{
    hv_rng *g = &c->rng;
    unsigned i = (unsigned)hv_rng_below(g, c->n), j = (unsigned)hv_rng_below(g, c->n);
    switch (hv_rng_below(g, 8)) {
    case 0: /* kill the leader */
        kill_one(c, find_leader(c));
        break;
    case 1: /* kill anyone */
        kill_one(c, i);
        break;
    case 2: /* bring one back: its memory as it was, behind the others */
        revive_one(c, i);
        break;
    case 3: /* partition a replica from the others */
        for (unsigned k = 0; k < c->n; k++)
            if (k != i && !c->cut[i][k]) {
                raft_fixture_disconnect(&c->f, i, k);
                raft_fixture_disconnect(&c->f, k, i);
                c->cut[i][k] = c->cut[k][i] = 1;
            }
        c->partitions++;
        break;
    case 4: /* lose the messages of one direction of one link */
        if (i != j && !c->dead[i] && !c->dead[j] && !c->cut[i][j] && !c->lossy[i][j]) {
            raft_fixture_saturate(&c->f, i, j);
            c->lossy[i][j] = 1;
            c->losses++;
        }
        break;
    case 5: /* delay: another network and disk latency for one replica */
        raft_fixture_set_network_latency(&c->f, i, 1 + (unsigned)hv_rng_below(g, 80));
        raft_fixture_set_disk_latency(&c->f, i, 1 + (unsigned)hv_rng_below(g, 5));
        break;
    default: /* repair the network (not the dead) */
        repair(c);
        break;
    }
}

/* ---- Checks --------------------------------------------------------------------------------- */

/* libraft stops a replica (RAFT_UNAVAILABLE) that finds the leader's log contradicting an entry
 * it counted as committed: its own bug (docs/LOG.md, "libraft 0.15"). Such a replica is left
 * out of the convergence checks; the chain check still covers what it applied. */
static int stopped(client *c, unsigned i)
{
    return raft_state(raft_fixture_get(&c->f, i)) == RAFT_UNAVAILABLE;
}

/* A replica's chain position k always holds what every other replica holds there (the head at
 * k is the hash of the whole chain up to k). */
static void check_safety(client *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        hv_log_status st;
        hv_log_fsm_status(c->state[i], &st);
        if (st.seq == c->seen[i])
            continue;
        assert_true(st.seq > c->seen[i]); /* nothing applied is ever taken back */
        assert_true(st.seq <= ENTRIES_MAX);
        assert_int_equal(st.refused, 0); /* nothing applied twice, nothing off the chain */
        if (!c->known[st.seq]) {
            memcpy(c->heads[st.seq], st.head, sizeof(st.head));
            c->known[st.seq] = 1;
        } else if (memcmp(c->heads[st.seq], st.head, sizeof(st.head)) != 0) {
            fail_msg("replica %u holds another entry at chain position %" PRIu64, i, st.seq);
        }
        c->seen[i] = st.seq;
    }
}

static const struct raft_entry *entry_at(const struct raft_log *l, raft_index i)
{
    size_t n = l->back >= l->front ? l->back - l->front : l->size - l->front + l->back;
    if (i <= l->offset || i > l->offset + n)
        return NULL;
    return &l->entries[(l->front + (i - l->offset - 1)) % l->size];
}

/* Every pair of replicas holds the same Raft entries up to the lower commit index (where both
 * still hold them: a snapshot compacts the front). */
static void check_logs_equal(client *c)
{
    for (unsigned i = 0; i < c->n; i++)
        for (unsigned j = i + 1; j < c->n; j++) {
            if (stopped(c, i) || stopped(c, j))
                continue;
            struct raft *a = raft_fixture_get(&c->f, i), *b = raft_fixture_get(&c->f, j);
            raft_index top = a->commit_index < b->commit_index ? a->commit_index : b->commit_index;
            for (raft_index k = 1; k <= top; k++) {
                const struct raft_entry *x = entry_at(&a->log, k), *y = entry_at(&b->log, k);
                /* a configuration entry's encoding has padding raft leaves unset: the
                 * entries compared byte for byte are the log's own */
                if (x == NULL || y == NULL || (x->type != RAFT_COMMAND && x->type == y->type))
                    continue;
                if (x->term != y->term || x->type != y->type || x->buf.len != y->buf.len ||
                    (x->buf.len && memcmp(x->buf.base, y->buf.base, x->buf.len) != 0))
                    fail_msg("replicas %u and %u differ at index %llu (terms %llu %llu, commit "
                             "%llu %llu, applied %llu %llu)",
                             i, j, k, x->term, y->term, a->commit_index, b->commit_index,
                             a->last_applied, b->last_applied);
            }
        }
}

/* ---- One seed ------------------------------------------------------------------------------- */

static void make_script(client *c, uint64_t seed)
{
    logrun r;
    assert_int_equal(logrun_init(&r, CYCLES, seed), 0);
    c->script = calloc(ENTRIES_MAX, sizeof(*c->script));
    while (c->nscript < ENTRIES_MAX && logrun_entry(&r, &c->script[c->nscript]))
        c->nscript++;
    assert_true(r.finished);
    c->trades = r.trades;
    logrun_fini(&r);
}

static void start_cluster(client *c, unsigned n, uint64_t seed)
{
    c->n = n ? n : hv_rng_below(&c->rng, 4) == 0 ? 5 : 3;
    n = c->n;
    assert_int_equal(raft_fixture_initialize(&c->f), 0);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(hv_log_fsm_new(NULL, &c->state[i]), 0);
        hv__log_fsm_raft(c->state[i], &c->fsm[i]);
        assert_int_equal(raft_fixture_grow(&c->f, &c->fsm[i]), 0);
    }
    struct raft_configuration conf;
    assert_int_equal(raft_fixture_configuration(&c->f, n, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&c->f, &conf), 0);
    raft_configuration_close(&conf);
    /* snapshots only where libraft 0.15 survives them (docs/LOG.md, "libraft 0.15") */
    unsigned threshold = c->snapshots ? c->snapshots : 100000, trailing = threshold;
    for (unsigned i = 0; i < n; i++) {
        struct raft *r = raft_fixture_get(&c->f, i);
        raft_set_snapshot_threshold(r, threshold);
        raft_set_snapshot_trailing(r, trailing);
        /* the fixture's timeouts do not vary: two equal ones would split every vote */
        raft_fixture_set_randomized_election_timeout(
            &c->f, i, 1000 + 150 * i + (unsigned)hv_rng_below(&c->rng, 100));
        raft_fixture_set_network_latency(&c->f, i, 1 + (unsigned)hv_rng_below(&c->rng, 30));
        raft_fixture_set_disk_latency(&c->f, i, 1 + (unsigned)hv_rng_below(&c->rng, 5));
    }
    (void)seed;
    assert_int_equal(raft_fixture_start(&c->f), 0);
}

static int all_applied(client *c)
{
    for (unsigned i = 0; i < c->n; i++) {
        hv_log_status st;
        if (stopped(c, i))
            continue;
        hv_log_fsm_status(c->state[i], &st);
        if (st.seq != c->nscript)
            return 0;
    }
    return 1;
}

/* What the seeds did, summed: a sweep in which no fault happened proves nothing. */
static struct {
    uint64_t kills, partitions, losses, epochs, proposed_again, snapshots_installed;
    uint64_t libraft_stops;
} g_sum;

static client *client_new(uint64_t seed, unsigned n, unsigned snapshots)
{
    client *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    hv_rng_seed(&c->rng, seed);
    c->snapshots = snapshots;
    make_script(c, seed);
    start_cluster(c, n, seed);
    c->leader = c->n;
    return c;
}

static void client_free(client *c)
{
    g_sum.kills += c->kills;
    g_sum.partitions += c->partitions;
    g_sum.losses += c->losses;
    g_sum.epochs += c->epochs;
    g_sum.proposed_again += c->proposed - c->nscript;
    for (unsigned i = 0; i < c->n; i++)
        g_sum.snapshots_installed += raft_fixture_n_recv(&c->f, i, RAFT_IO_INSTALL_SNAPSHOT);
    raft_fixture_close(&c->f);
    for (unsigned i = 0; i < c->n; i++)
        hv_log_fsm_free(c->state[i]);
    free(c->script);
    free(c);
}

/* One step of the cluster, the safety check, the coordinator's turn. */
static void step(client *c)
{
    raft_fixture_step(&c->f);
    check_safety(c);
    coordinate(c);
}

static int done(client *c)
{
    return c->next == c->nscript && c->inflight == 0 && !c->failed && all_applied(c);
}

static void explain_and_fail(client *c, uint64_t seed, const char *replay)
{
    for (unsigned i = 0; i < c->n; i++) {
        hv_log_status st;
        struct raft *r = raft_fixture_get(&c->f, i);
        hv_log_fsm_status(c->state[i], &st);
        fprintf(stderr,
                "replica %u: dead %d state %d term %llu commit %llu applied %llu last %llu "
                "seq %" PRIu64 " refused %" PRIu64 "\n",
                i, c->dead[i], raft_state(r), r->current_term, r->commit_index, r->last_applied,
                raft_last_index(r), st.seq, st.refused);
    }
    fail_msg("seed %" PRIu64 ": the run did not complete (%zu of %zu entries proposed, %" PRIu64
             " leaders followed, leader %u ready %d failed %d inflight %u, time %llu); replay: "
             "test_log_raft %s --seeds 1 --first %" PRIu64,
             seed, c->next, c->nscript, c->epochs, c->leader, c->ready, c->failed, c->inflight,
             raft_fixture_time(&c->f), replay, seed);
}

/* Every replica libraft keeps running applied every entry once: equal state hashes, the run's
 * trades, and equal Raft logs. */
static void check_end(client *c)
{
    uint8_t h0[32], h[32];
    unsigned first = 0;
    while (first < c->n && stopped(c, first))
        first++;
    assert_true(first < c->n);
    assert_int_equal(hv_log_fsm_hash(c->state[first], h0), 0);
    for (unsigned i = 0; i < c->n; i++) {
        hv_log_status st;
        if (stopped(c, i)) {
            g_sum.libraft_stops++;
            continue;
        }
        hv_log_fsm_status(c->state[i], &st);
        assert_int_equal(st.refused, 0);
        assert_true(st.finished);
        assert_int_equal(st.trades_hash, c->trades);
        assert_int_equal(st.divergences, 0);
        assert_int_equal(hv_log_fsm_hash(c->state[i], h), 0);
        assert_memory_equal(h0, h, 32);
    }
    check_logs_equal(c);
}

/* Faults from the seed for HEAL_AFTER ms, then healed; the run must complete. */
static void run_seed(uint64_t seed)
{
    client *c = client_new(seed, 0, 0);
    uint64_t next_fault = 100 + hv_rng_below(&c->rng, 400);
    unsigned steps = 0;
    int healed = 0;
    while (steps++ < STEPS_MAX && !done(c)) {
        step(c);
        raft_time now = raft_fixture_time(&c->f);
        if (!healed && now >= HEAL_AFTER) {
            heal(c);
            healed = 1;
        }
        if (!healed && now >= next_fault) {
            disturb(c);
            next_fault = now + 100 + hv_rng_below(&c->rng, 1500);
        }
    }
    if (!done(c))
        explain_and_fail(c, seed, "");
    check_end(c);
    client_free(c);
}

/* Steps until the leader applied `entries` entries of the run (or fails). */
static void run_until_entries(client *c, uint64_t seed, uint64_t entries)
{
    for (unsigned steps = 0; steps < STEPS_MAX; steps++) {
        hv_log_status st;
        unsigned l = find_leader(c);
        if (l < c->n) {
            hv_log_fsm_status(c->state[l], &st);
            if (st.seq >= entries)
                return;
        }
        step(c);
    }
    explain_and_fail(c, seed, "--catch-up");
}

/* A follower down while the leader's log moves past a snapshot comes back, gets the snapshot
 * (InstallSnapshot, restored by the state machine) and the tail, and ends like the others. */
static void run_catch_up(uint64_t seed)
{
    client *c = client_new(seed, 3, 8);
    run_until_entries(c, seed, 6);
    unsigned l = find_leader(c), f = (l + 1) % c->n;
    kill_one(c, f);
    assert_true(c->dead[f]);
    run_until_entries(c, seed, c->nscript - 4);
    struct raft *lr = raft_fixture_get(&c->f, find_leader(c));
    assert_true(lr->log.offset > raft_fixture_get(&c->f, f)->last_stored); /* compacted past it */
    revive_one(c, f);
    for (unsigned steps = 0; steps < STEPS_MAX && !done(c); steps++)
        step(c);
    if (!done(c))
        explain_and_fail(c, seed, "--catch-up");
    assert_true(raft_fixture_n_recv(&c->f, f, RAFT_IO_INSTALL_SNAPSHOT) >= 1);
    check_end(c);
    client_free(c);
}

static uint64_t g_first = 1, g_seeds = 20;
static int g_catch_up = -1; /* -1 both, 0 faults only, 1 catch-up only */

static void every_seed_keeps_every_committed_entry_once_on_every_replica(void **state)
{
    (void)state;
    if (g_catch_up == 1)
        skip();
    for (uint64_t s = g_first; s < g_first + g_seeds; s++) {
        if (getenv("HV_RAFT_VERBOSE"))
            fprintf(stderr, "seed %" PRIu64 "\n", s);
        run_seed(s);
    }
    printf("raft fixture: %" PRIu64 " seeds from %" PRIu64 ": %" PRIu64 " kills, %" PRIu64
           " partitions, %" PRIu64 " lossy links, %" PRIu64 " leaders followed, %" PRIu64
           " entries proposed again, %" PRIu64 " replicas libraft stopped\n",
           g_seeds, g_first, g_sum.kills, g_sum.partitions, g_sum.losses, g_sum.epochs,
           g_sum.proposed_again, g_sum.libraft_stops);
    /* the faults really happened, and the recovery paths really ran */
    if (g_seeds >= 20) {
        assert_true(g_sum.kills > 0 && g_sum.partitions > 0 && g_sum.losses > 0);
        assert_true(g_sum.epochs > g_seeds);
        assert_true(g_sum.proposed_again > 0);
    }
    printf("raft fixture: %" PRIu64 " seeds: 0 failed\n", g_seeds);
}

static void a_replica_behind_a_snapshot_catches_up_from_it(void **state)
{
    (void)state;
    if (g_catch_up == 0)
        skip();
    uint64_t before = g_sum.snapshots_installed;
    uint64_t n = g_seeds < 200 ? g_seeds : 200;
    for (uint64_t s = g_first; s < g_first + n; s++)
        run_catch_up(s);
    assert_true(g_sum.snapshots_installed - before >= n);
    printf("raft fixture: %" PRIu64 " catch-ups from a snapshot: 0 failed\n", n);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--catch-up") == 0)
            g_catch_up = 1;
        else if (strcmp(argv[i], "--faults") == 0)
            g_catch_up = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--seeds") == 0)
            g_seeds = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--first") == 0)
            g_first = strtoull(argv[i + 1], NULL, 10);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_seed_keeps_every_committed_entry_once_on_every_replica),
        cmocka_unit_test(a_replica_behind_a_snapshot_catches_up_from_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The log's state machine: the trading state that must survive a coordinator's death, as a
 * pure function of the committed entries. Its venue is driven through the very functions the
 * execution agent uses (hv__sw_venue_*), its limits through the risk agent's check, so a log
 * that saw every bar and every order result holds the venue the execution agent holds, fill
 * for fill, and the swarm's trade list hash comes out of the log alone.
 *
 * Nothing here reads a clock, allocates on apply (except the genesis) or does I/O: an entry's
 * effect depends only on the state and the entry, so every replica that applied the same
 * entries has the same bytes in its snapshot, and the same state hash.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log/log_int.h"
#include "swarm/swarm_int.h"

#define SNAP_MAGIC   0x4e535648u /* "HVSN" */
#define SNAP_VERSION 1u
#define SNAP_DEFAULT (64u << 20)

struct hv_log_fsm {
    hv_log_fsm_opts opts;
    hv_log_genesis g;
    hv_log_status st; /* counters; the account's figures are read when asked */
    uint8_t *applied; /* bit id: proposal id (1 .. cycles_max) applied */
    size_t applied_bytes;
    hv_log_member members[HV_LOG_MEMBERS_MAX];
    hv_log_pending pending[HV_LOG_PENDING_MAX]; /* oldest first */
    sw_venue venue;
    hv_limits *limits;
    int last_rc;
    int last_decoded;     /* scratch holds the last entry applied */
    hv_log_entry scratch; /* the entry being applied (too big for the stack of a callback) */
};

void hv_log_fsm_opts_default(hv_log_fsm_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->snapshot_bytes_max = SNAP_DEFAULT;
}

int hv_log_fsm_new(const hv_log_fsm_opts *opts, hv_log_fsm **out)
{
    *out = NULL;
    if (opts != NULL && (opts->size < sizeof(*opts) || opts->snapshot_bytes_max == 0))
        return HV_EINVAL;
    hv_log_fsm *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return HV_ENOMEM;
    if (opts != NULL)
        f->opts = *opts;
    else
        hv_log_fsm_opts_default(&f->opts);
    f->st.cycle_last = UINT64_MAX;
    f->st.trades_hash = HV_SW_TRADE_HASH_INIT;
    f->venue.bar_cycle = UINT64_MAX;
    *out = f;
    return 0;
}

static void drop_state(hv_log_fsm *f)
{
    hv__sw_venue_fini(&f->venue);
    hv_limits_free(f->limits);
    free(f->applied);
    f->limits = NULL;
    f->applied = NULL;
}

void hv_log_fsm_free(hv_log_fsm *f)
{
    if (f == NULL)
        return;
    drop_state(f);
    free(f);
}

/* ---- Pieces of the state ------------------------------------------------------------------ */

static int applied(const hv_log_fsm *f, uint64_t id)
{
    return id >= 1 && id <= f->g.cycles_max && (f->applied[id / 8] >> (id % 8) & 1);
}

int hv_log_fsm_applied(const hv_log_fsm *f, uint64_t proposal_id)
{
    return f->st.genesis && applied(f, proposal_id);
}

static sw_order sw_of(const hv_log_order *o)
{
    sw_order s = { .side = o->side,
                   .action = o->action,
                   .qty = o->qty,
                   .ref_price = o->ref_price,
                   .target = o->target };
    return s;
}

/* Every fill the log's venue delivers extends the trade list hash, as the coordinator's does. */
static int book(void *ud, const hv_exec_report *r)
{
    hv_log_fsm *f = ud;
    if (r->type == HV_EXEC_FILL) {
        f->st.fills++;
        f->st.trades_hash = hv__sw_trade_hash(f->st.trades_hash, r);
    }
    return 0;
}

/* The trading state a genesis describes, fresh: venue, account, limits, the applied set. */
static int build(hv_log_fsm *f, const hv_log_genesis *g)
{
    f->g = *g;
    int rc = hv_exchange_new(&g->exchange, &f->venue.x);
    if (rc == 0)
        rc = hv_portfolio_new(g->cash, g->curve_points, &f->venue.pf);
    if (rc == 0)
        rc = hv_limits_new(&g->limits, &f->limits);
    f->applied_bytes = (size_t)(g->cycles_max / 8 + 1);
    f->applied = rc == 0 ? calloc(f->applied_bytes, 1) : NULL;
    if (rc == 0 && f->applied == NULL)
        rc = HV_ENOMEM;
    if (rc != 0) {
        drop_state(f);
        return rc;
    }
    hv_exchange_attach(f->venue.x, f->venue.pf, NULL); /* limits live apart, as in the swarm */
    f->venue.bar_cycle = UINT64_MAX;
    return 0;
}

static uint64_t sim_ns(const hv_log_fsm *f, uint64_t cycle)
{
    return cycle * f->g.bar_ns;
}

/* ---- Applying entries --------------------------------------------------------------------- */

static int on_member(hv_log_fsm *f, const hv_log_member *m)
{
    hv_log_status *st = &f->st;
    for (uint32_t i = 0; i < st->members; i++) {
        hv_log_member *x = &f->members[i];
        if (x->id != m->id)
            continue;
        if (x->role != m->role || x->index != m->index || x->auth != m->auth ||
            memcmp(x->pk, m->pk, sizeof(x->pk)) != 0)
            return HV_EEXIST; /* another agent under a registered id */
        x->incarnation = m->incarnation;
        return 0;
    }
    if (st->members == HV_LOG_MEMBERS_MAX)
        return HV_EFULL;
    f->members[st->members++] = *m;
    return 0;
}

static int on_cycle(hv_log_fsm *f, const hv_log_cycle *c)
{
    hv_log_status *st = &f->st;
    if (st->cycle_open)
        return HV_ESTATE;
    if (c->cycle >= f->g.cycles_max)
        return HV_ERANGE;
    if (st->cycle_last != UINT64_MAX && c->cycle <= st->cycle_last)
        return HV_EEXIST;
    uint64_t t = sim_ns(f, c->cycle);
    st->cycle_last = c->cycle;
    st->cycle_open = 1;
    f->venue.bar_cycle = c->cycle;
    /* the execution agent's bar, then the risk agent's look at the account */
    int rc = hv__sw_venue_bar(&f->venue, &c->bar, t, book, f);
    if (rc != 0)
        return rc;
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(f->venue.pf, &ps);
    rc = hv_limits_update_drawdown(f->limits, ps.drawdown_frac, t, NULL);
    return rc == HV_EHALTED ? 0 : rc;
}

static int on_end(hv_log_fsm *f, const hv_log_cycle_end *e)
{
    hv_log_status *st = &f->st;
    if (!st->cycle_open || e->cycle != st->cycle_last)
        return HV_ESTATE;
    st->cycle_open = 0;
    if (e->how == HV_LOG_END_STALLED)
        st->cycles_stalled++;
    else
        st->cycles_done++;
    return 0;
}

/* The account as the risk agent sees it in the execution state. */
static int admit(hv_log_fsm *f, const hv_log_order *o, uint64_t cycle)
{
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(f->venue.pf, &ps);
    hv_exchange_stats_get(f->venue.x, &xs);
    sw_order so = sw_of(o);
    hv_limit_breach b;
    return hv__sw_limits_admit(f->limits, &so, ps.position, xs.open_buy_qty, xs.open_sell_qty,
                               ps.drawdown_frac, sim_ns(f, cycle) + 1, &b);
}

static void add_pending(hv_log_fsm *f, const hv_log_decision *d, int verdict)
{
    hv_log_status *st = &f->st;
    if (st->pending == HV_LOG_PENDING_MAX) { /* bounded: the oldest is forgotten, and counted */
        memmove(&f->pending[0], &f->pending[1], (HV_LOG_PENDING_MAX - 1) * sizeof(f->pending[0]));
        st->pending--;
        st->pending_evicted++;
    }
    hv_log_pending *p = &f->pending[st->pending++];
    p->proposal_id = d->d.proposal_id;
    p->cycle = d->cycle;
    p->order = d->order;
    p->verdict = verdict;
}

static int on_decision(hv_log_fsm *f, const hv_log_decision *d)
{
    hv_log_status *st = &f->st;
    uint64_t id = d->d.proposal_id;
    if (id > f->g.cycles_max)
        return HV_ERANGE;
    if (applied(f, id))
        return HV_EEXIST;
    f->applied[id / 8] |= (uint8_t)(1u << (id % 8));
    st->decisions++;
    st->votes += d->nvotes;
    st->proposal_last = id > st->proposal_last ? id : st->proposal_last;
    if (d->d.outcome == HV_OUTCOME_REJECTED)
        st->rejected++;
    else if (d->d.outcome == HV_OUTCOME_NO_QUORUM)
        st->no_quorum++;
    if (d->d.outcome != HV_OUTCOME_ACCEPTED)
        return 0;
    st->accepted++;
    /* the binding check, at the time the risk agent makes it: only in the cycle it belongs to */
    int now = st->cycle_open && d->cycle == st->cycle_last;
    add_pending(f, d, now ? admit(f, &d->order, d->cycle) : HV_ERANGE);
    return 0;
}

static void count_result(hv_log_status *st, int rc)
{
    st->results++;
    if (rc == 0)
        st->orders_sent++;
    else if (rc == HV_ELIMIT)
        st->refused_limit++;
    else if (rc == HV_EHALTED)
        st->refused_halt++;
    else
        st->refused_exchange++;
}

/* What the venue did with the order must be what the log's venue does with it. */
static void trade_result(hv_log_fsm *f, const hv_log_pending *p, const hv_log_result *r)
{
    hv_log_status *st = &f->st;
    if (p->verdict != 0) {
        st->divergences += r->rc != p->verdict;
        return;
    }
    if (r->rc == HV_ELIMIT || r->rc == HV_EHALTED) {
        st->divergences++; /* risk refused what the log's limits admitted */
        return;
    }
    sw_order so = sw_of(&p->order);
    uint64_t id = 0;
    int rc = hv__sw_venue_order(&f->venue, p->proposal_id, &so, sim_ns(f, p->cycle) + 1, &id);
    st->divergences += rc != r->rc || id != r->order_id;
}

static int on_result(hv_log_fsm *f, const hv_log_result *r)
{
    hv_log_status *st = &f->st;
    uint32_t i = 0;
    while (i < st->pending && f->pending[i].proposal_id != r->proposal_id)
        i++;
    if (i == st->pending)
        return applied(f, r->proposal_id) ? HV_EEXIST : HV_ENOPROPOSAL;
    hv_log_pending p = f->pending[i];
    memmove(&f->pending[i], &f->pending[i + 1], (st->pending - i - 1) * sizeof(f->pending[0]));
    st->pending--;
    count_result(st, r->rc);
    if (st->cycle_open && p.cycle == st->cycle_last && p.verdict != HV_ERANGE) {
        trade_result(f, &p, r);
        return 0;
    }
    /* a later cycle traded already: booked, but the log's venue cannot go back in time */
    st->results_late++;
    st->divergences += r->rc == 0;
    return 0;
}

static int on_finish(hv_log_fsm *f, const hv_log_finish *x)
{
    hv_log_status *st = &f->st;
    if (st->cycle_open)
        return HV_ESTATE;
    uint64_t t = sim_ns(f, x->cycles < f->g.cycles_max ? x->cycles : f->g.cycles_max) + 2;
    st->finished = 1;
    return hv__sw_venue_finish(&f->venue, t, book, f);
}

static int apply_entry(hv_log_fsm *f, const hv_log_entry *e)
{
    hv_log_status *st = &f->st;
    if (e->type == HV_LOG_GENESIS) {
        if (st->genesis)
            return HV_ESTATE;
        int rc = build(f, &e->genesis);
        st->genesis = rc == 0;
        return rc;
    }
    if (!st->genesis || st->finished)
        return HV_ESTATE;
    switch (e->type) {
    case HV_LOG_MEMBER:
        return on_member(f, &e->member);
    case HV_LOG_CYCLE:
        return on_cycle(f, &e->cycle);
    case HV_LOG_CYCLE_END:
        return on_end(f, &e->end);
    case HV_LOG_DECISION:
        return on_decision(f, &e->decision);
    case HV_LOG_RESULT:
        return on_result(f, &e->result);
    default:
        return on_finish(f, &e->finish);
    }
}

int hv_log_fsm_apply(hv_log_fsm *f, const uint8_t *entry, size_t len)
{
    hv_log_status *st = &f->st;
    hv_log_entry *e = &f->scratch;
    int rc = hv_log_entry_decode(entry, len, e);
    f->last_decoded = rc == 0;
    if (rc == 0 && (e->seq != st->seq + 1 || memcmp(e->prev, st->head, sizeof(st->head)) != 0))
        rc = HV_ECHAIN;
    if (rc == 0) {
        st->seq = e->seq;
        hv_log_entry_hash(entry, st->head);
        rc = apply_entry(f, e);
    }
    st->refused += rc != 0;
    f->last_rc = rc;
    return rc;
}

/* ---- What it holds ------------------------------------------------------------------------ */

void hv_log_fsm_status(const hv_log_fsm *f, hv_log_status *out)
{
    *out = f->st;
    if (!f->st.genesis)
        return;
    hv_portfolio_stats ps;
    hv_portfolio_stats_get(f->venue.pf, &ps);
    out->position = ps.position;
    out->cash = ps.cash;
    out->equity = ps.equity;
    out->halted = hv_limits_halted(f->limits, NULL);
}

int hv_log_fsm_member(const hv_log_fsm *f, uint32_t i, hv_log_member *out)
{
    if (i >= f->st.members)
        return HV_ERANGE;
    *out = f->members[i];
    return 0;
}

int hv_log_fsm_pending(const hv_log_fsm *f, uint32_t i, hv_log_pending *out)
{
    if (i >= f->st.pending)
        return HV_ERANGE;
    *out = f->pending[i];
    return 0;
}

int hv_log_fsm_genesis(const hv_log_fsm *f, hv_log_genesis *out)
{
    if (!f->st.genesis)
        return HV_ESTATE;
    *out = f->g;
    return 0;
}

int hv__log_fsm_last_rc(const hv_log_fsm *f)
{
    return f->last_rc;
}

const hv_log_entry *hv__log_fsm_last_entry(const hv_log_fsm *f)
{
    return f->last_decoded ? &f->scratch : NULL;
}

/* ---- Snapshots (docs/LOG.md, "Snapshots") ------------------------------------------------- */

static void put_counters(hv_wr *w, const hv_log_status *s)
{
    const uint64_t c[] = { s->cycle_last,    s->cycles_done,      s->cycles_stalled,
                           s->proposal_last, s->decisions,        s->accepted,
                           s->rejected,      s->no_quorum,        s->votes,
                           s->results,       s->orders_sent,      s->refused_limit,
                           s->refused_halt,  s->refused_exchange, s->results_late,
                           s->divergences,   s->refused,          s->pending_evicted,
                           s->fills,         s->trades_hash };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        hv__wr_u64(w, c[i]);
}

static void get_counters(hv_rd *r, hv_log_status *s)
{
    uint64_t *c[] = { &s->cycle_last,   &s->cycles_done,      &s->cycles_stalled, &s->proposal_last,
                      &s->decisions,    &s->accepted,         &s->rejected,       &s->no_quorum,
                      &s->votes,        &s->results,          &s->orders_sent,    &s->refused_limit,
                      &s->refused_halt, &s->refused_exchange, &s->results_late,   &s->divergences,
                      &s->refused,      &s->pending_evicted,  &s->fills,          &s->trades_hash };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        *c[i] = hv__rd_u64(r);
}

/* A trading object's state behind its u32 length. */
static void put_part(hv_wr *w, size_t (*save)(const void *, uint8_t *, size_t), const void *obj)
{
    size_t n = save(obj, NULL, 0);
    hv__wr_u32(w, (uint32_t)n);
    uint8_t *dst = w->p != NULL && w->len <= w->cap && n <= w->cap - w->len ? w->p + w->len : NULL;
    if (dst != NULL)
        save(obj, dst, n);
    w->len += n;
}

static size_t save_x(const void *o, uint8_t *b, size_t n)
{
    return hv_exchange_state_save(o, b, n);
}

static size_t save_pf(const void *o, uint8_t *b, size_t n)
{
    return hv_portfolio_state_save(o, b, n);
}

static size_t save_lim(const void *o, uint8_t *b, size_t n)
{
    return hv_limits_state_save(o, b, n);
}

static void put_state(hv_wr *w, const hv_log_fsm *f)
{
    const hv_log_status *s = &f->st;
    hv__wr_u32(w, SNAP_MAGIC);
    hv__wr_u32(w, SNAP_VERSION);
    hv__wr_u8(w, (uint8_t)s->genesis);
    hv__wr_u8(w, (uint8_t)s->finished);
    hv__wr_u8(w, (uint8_t)s->cycle_open);
    hv__wr_u8(w, 0);
    hv__wr_u32(w, 0);
    hv__wr_u64(w, s->seq);
    hv__wr_bytes(w, s->head, sizeof(s->head));
    put_counters(w, s);
    if (!s->genesis)
        return;
    hv__log_put_genesis(w, &f->g);
    hv__wr_bytes(w, f->applied, f->applied_bytes);
    hv__wr_u32(w, s->members);
    for (uint32_t i = 0; i < s->members; i++)
        hv__log_put_member(w, &f->members[i]);
    hv__wr_u32(w, s->pending);
    for (uint32_t i = 0; i < s->pending; i++) {
        const hv_log_pending *p = &f->pending[i];
        hv__wr_u64(w, p->proposal_id);
        hv__wr_u64(w, p->cycle);
        hv__log_put_order(w, &p->order);
        hv__wr_u32(w, (uint32_t)p->verdict);
    }
    hv__wr_u64(w, f->venue.last_tag);
    hv__wr_u64(w, f->venue.last_order_id);
    hv__wr_u32(w, (uint32_t)f->venue.last_rc);
    hv__wr_u64(w, f->venue.bar_cycle);
    put_part(w, save_x, f->venue.x);
    put_part(w, save_pf, f->venue.pf);
    put_part(w, save_lim, f->limits);
}

int hv_log_fsm_snapshot(const hv_log_fsm *f, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    hv_wr w = { NULL, 0, 0 };
    put_state(&w, f);
    *len = w.len;
    if (w.len > f->opts.snapshot_bytes_max)
        return HV_ETOOBIG;
    uint8_t *b = malloc(w.len);
    if (b == NULL)
        return HV_ENOMEM;
    hv_wr out = { b, w.len, 0 };
    put_state(&out, f);
    *buf = b;
    return 0;
}

int hv_log_fsm_hash(const hv_log_fsm *f, uint8_t out[HV_LOG_HASH_BYTES])
{
    hv_wr w = { NULL, 0, 0 };
    put_state(&w, f);
    uint8_t *b = malloc(w.len);
    if (b == NULL)
        return HV_ENOMEM;
    hv_wr full = { b, w.len, 0 };
    put_state(&full, f);
    crypto_generichash(out, HV_LOG_HASH_BYTES, b, w.len, NULL, 0);
    free(b);
    return 0;
}

/* A trading object's state: its length, then load() on those bytes. */
static int get_part(hv_rd *r, int (*load)(void *, const uint8_t *, size_t), void *obj)
{
    uint32_t n = hv__rd_u32(r);
    const uint8_t *p = hv__rd_take(r, n);
    return p == NULL ? HV_EBADLEN : load(obj, p, n);
}

static int load_x(void *o, const uint8_t *b, size_t n)
{
    return hv_exchange_state_load(o, b, n);
}

static int load_pf(void *o, const uint8_t *b, size_t n)
{
    return hv_portfolio_state_load(o, b, n);
}

static int load_lim(void *o, const uint8_t *b, size_t n)
{
    return hv_limits_state_load(o, b, n);
}

static int get_tables(hv_rd *r, hv_log_fsm *f)
{
    int bad = 0;
    hv_log_status *s = &f->st;
    s->members = hv__rd_u32(r);
    if (s->members > HV_LOG_MEMBERS_MAX)
        return HV_EBADFIELD;
    for (uint32_t i = 0; i < s->members; i++)
        hv__log_get_member(r, &f->members[i], &bad);
    s->pending = hv__rd_u32(r);
    if (s->pending > HV_LOG_PENDING_MAX)
        return HV_EBADFIELD;
    for (uint32_t i = 0; i < s->pending; i++) {
        hv_log_pending *p = &f->pending[i];
        p->proposal_id = hv__rd_u64(r);
        p->cycle = hv__rd_u64(r);
        hv__log_get_order(r, &p->order, &bad);
        p->verdict = (int32_t)hv__rd_u32(r);
        bad |= p->verdict > 0 || !applied(f, p->proposal_id);
    }
    return r->bad ? HV_EBADLEN : bad ? HV_EBADFIELD : 0;
}

/* The state after the genesis, into f (built fresh from that genesis). */
static int get_trading(hv_rd *r, hv_log_fsm *f)
{
    hv__rd_bytes(r, f->applied, f->applied_bytes);
    if (f->applied[0] & 1 || f->applied[f->applied_bytes - 1] >> (f->g.cycles_max % 8 + 1))
        return HV_EBADFIELD; /* bits outside 1 .. cycles_max */
    int rc = get_tables(r, f);
    if (rc != 0)
        return rc;
    f->venue.last_tag = hv__rd_u64(r);
    f->venue.last_order_id = hv__rd_u64(r);
    f->venue.last_rc = (int32_t)hv__rd_u32(r);
    f->venue.bar_cycle = hv__rd_u64(r);
    if ((rc = get_part(r, load_x, f->venue.x)) != 0 ||
        (rc = get_part(r, load_pf, f->venue.pf)) != 0 ||
        (rc = get_part(r, load_lim, f->limits)) != 0)
        return rc;
    return r->bad ? HV_EBADLEN : 0;
}

static int get_state(hv_rd *r, hv_log_fsm *f)
{
    if (hv__rd_u32(r) != SNAP_MAGIC)
        return r->bad ? HV_EBADLEN : HV_EBADMAGIC;
    if (hv__rd_u32(r) != SNAP_VERSION)
        return r->bad ? HV_EBADLEN : HV_EBADVERSION;
    hv_log_status *s = &f->st;
    s->genesis = hv__rd_u8(r);
    s->finished = hv__rd_u8(r);
    s->cycle_open = hv__rd_u8(r);
    int bad = hv__rd_u8(r) != 0 || hv__rd_u32(r) != 0;
    s->seq = hv__rd_u64(r);
    hv__rd_bytes(r, s->head, sizeof(s->head));
    get_counters(r, s);
    if (r->bad)
        return HV_EBADLEN;
    if (bad || s->genesis > 1 || s->finished > 1 || s->cycle_open > 1 ||
        (!s->genesis && (s->finished || s->cycle_open)))
        return HV_EBADFIELD;
    if (!s->genesis)
        return 0;
    hv_log_genesis g;
    hv__log_get_genesis(r, &g, &bad);
    if (r->bad || bad)
        return r->bad ? HV_EBADLEN : HV_EBADFIELD;
    int rc = build(f, &g);
    return rc != 0 ? rc : get_trading(r, f);
}

int hv_log_fsm_restore(hv_log_fsm *f, const uint8_t *buf, size_t len)
{
    if (len > f->opts.snapshot_bytes_max)
        return HV_ETOOBIG;
    hv_log_fsm *n = NULL;
    int rc = hv_log_fsm_new(&f->opts, &n);
    if (rc != 0)
        return rc;
    hv_rd r = { buf, len, 0, 0 };
    rc = get_state(&r, n);
    if (rc == 0 && r.off != len)
        rc = HV_ETRAILING;
    if (rc != 0) {
        hv_log_fsm_free(n);
        return rc;
    }
    drop_state(f);
    *f = *n; /* n's tables move to f */
    free(n);
    return 0;
}

/* ---- canonical/raft's raft_fsm ------------------------------------------------------------ */

static int fsm_apply_cb(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    hv_log_fsm *f = fsm->data;
    hv_log_fsm_apply(f, buf->base, buf->len);
    *result = &f->last_rc;
    return 0;
}

static int fsm_snapshot_cb(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    hv_log_fsm *f = fsm->data;
    uint8_t *b = NULL;
    size_t len = 0;
    if (hv_log_fsm_snapshot(f, &b, &len) != 0)
        return RAFT_TOOBIG; /* raft skips this snapshot and tries again later */
    *bufs = malloc(sizeof(**bufs));
    if (*bufs == NULL) {
        free(b);
        return RAFT_NOMEM;
    }
    (*bufs)[0].base = b;
    (*bufs)[0].len = len;
    *n = 1;
    return 0;
}

static int fsm_finalize_cb(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    (void)fsm;
    if (*bufs != NULL) {
        for (unsigned i = 0; i < *n; i++)
            free((*bufs)[i].base);
        free(*bufs);
    }
    *bufs = NULL;
    *n = 0;
    return 0;
}

static int fsm_restore_cb(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    hv_log_fsm *f = fsm->data;
    if (hv_log_fsm_restore(f, buf->base, buf->len) != 0)
        return RAFT_CORRUPT;
    raft_free(buf->base);
    return 0;
}

void hv__log_fsm_raft(hv_log_fsm *f, struct raft_fsm *out)
{
    memset(out, 0, sizeof(*out));
    out->version = 2;
    out->data = f;
    out->apply = fsm_apply_cb;
    out->snapshot = fsm_snapshot_cb;
    out->snapshot_finalize = fsm_finalize_cb;
    out->restore = fsm_restore_cb;
}

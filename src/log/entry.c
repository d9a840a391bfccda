/*
 * The decision log's entries: a 56-byte header (magic, version, type, body length, chain seq,
 * previous entry's hash), a positional little-endian body per type. Every body is a multiple
 * of 8 bytes, so every entry is, as Raft's segments require.
 * docs/PROTOCOL.md ("The decision log") gives every byte; this file is that table in C.
 */
#include <string.h>

#include <sodium.h>

#include <hivewire/log.h>

#include "core/ser.h"
#include "log/log_int.h"

#define DECISION_FIXED 176u
#define VOTE_BYTES     112u
#define ENTRY_BODY_MAX (HV_LOG_ENTRY_MAX - HV_LOG_HEADER_BYTES)
#define ROLE_COUNT     6u /* the swarm's roles: coordinator .. execution */
#define AUTH_SIG       1u
#define AUTH_MAC       2u
#define POINTS_MAX     (1u << 20) /* 16 MiB of equity curve at most for a replica */
#define REASON_MAX     3u         /* HV_REASON_DEADLINE */

const char *hv_log_type_name(int type)
{
    static const char *const names[HV_LOG_TYPE_COUNT] = { "unknown",   "genesis",  "member",
                                                          "cycle",     "decision", "result",
                                                          "cycle_end", "finish" };
    return type > 0 && type < HV_LOG_TYPE_COUNT ? names[type] : "unknown";
}

/* ---- Bodies ----------------------------------------------------------------------------- */

void hv__log_put_genesis(hv_wr *w, const hv_log_genesis *g)
{
    hv__wr_u64(w, g->swarm_seed);
    hv__wr_u64(w, g->bar_ns);
    hv__wr_u64(w, g->cycles_max);
    hv__wr_f64(w, g->cash);
    hv__wr_u32(w, g->curve_points);
    hv__wr_u32(w, 0);
    const hv_exchange_opts *x = &g->exchange;
    hv__wr_u64(w, x->seed);
    hv__wr_u32(w, x->orders_max);
    hv__wr_u32(w, 0);
    hv__wr_f64(w, x->fee_bps);
    hv__wr_f64(w, x->fee_min);
    hv__wr_f64(w, x->participation_max);
    hv__wr_f64(w, x->half_spread_bps);
    hv__wr_f64(w, x->impact_bps);
    hv__wr_u64(w, x->latency_fixed_ns);
    hv__wr_u64(w, x->latency_jitter_ns);
    hv__wr_f64(w, x->price_band_frac);
    const hv_limits_opts *l = &g->limits;
    hv__wr_i64(w, l->position_max);
    hv__wr_f64(w, l->order_notional_max);
    hv__wr_u32(w, l->orders_per_interval_max);
    hv__wr_u32(w, 0);
    hv__wr_u64(w, l->interval_ns);
    hv__wr_f64(w, l->drawdown_max_frac);
}

static int genesis_ok(const hv_log_genesis *g)
{
    return g->bar_ns > 0 && g->cycles_max > 0 && g->cycles_max <= HV_LOG_CYCLES_MAX &&
           g->cycles_max <= (UINT64_MAX - 4) / g->bar_ns && g->cash > 0 && g->curve_points >= 2 &&
           g->curve_points <= POINTS_MAX && hv_exchange_opts_check(&g->exchange, NULL) == 0 &&
           hv_limits_opts_check(&g->limits, NULL) == 0;
}

/* Reads a reserved field: it must be zero. */
static void zero32(hv_rd *r, int *bad)
{
    *bad |= hv__rd_u32(r) != 0;
}

void hv__log_get_genesis(hv_rd *r, hv_log_genesis *g, int *bad)
{
    g->swarm_seed = hv__rd_u64(r);
    g->bar_ns = hv__rd_u64(r);
    g->cycles_max = hv__rd_u64(r);
    g->cash = hv__rd_f64(r);
    g->curve_points = hv__rd_u32(r);
    zero32(r, bad);
    hv_exchange_opts *x = &g->exchange;
    hv_exchange_opts_default(x);
    x->seed = hv__rd_u64(r);
    x->orders_max = hv__rd_u32(r);
    zero32(r, bad);
    x->fee_bps = hv__rd_f64(r);
    x->fee_min = hv__rd_f64(r);
    x->participation_max = hv__rd_f64(r);
    x->half_spread_bps = hv__rd_f64(r);
    x->impact_bps = hv__rd_f64(r);
    x->latency_fixed_ns = hv__rd_u64(r);
    x->latency_jitter_ns = hv__rd_u64(r);
    x->price_band_frac = hv__rd_f64(r);
    hv_limits_opts *l = &g->limits;
    hv_limits_opts_default(l);
    l->position_max = hv__rd_i64(r);
    l->order_notional_max = hv__rd_f64(r);
    l->orders_per_interval_max = hv__rd_u32(r);
    zero32(r, bad);
    l->interval_ns = hv__rd_u64(r);
    l->drawdown_max_frac = hv__rd_f64(r);
    *bad |= !r->bad && !genesis_ok(g);
}

void hv__log_put_member(hv_wr *w, const hv_log_member *m)
{
    hv__wr_u64(w, m->id);
    hv__wr_u64(w, m->incarnation);
    hv__wr_u32(w, m->role);
    hv__wr_u32(w, m->index);
    hv__wr_u8(w, m->auth);
    for (int i = 0; i < 7; i++)
        hv__wr_u8(w, 0);
    hv__wr_bytes(w, m->pk, sizeof(m->pk));
}

void hv__log_get_member(hv_rd *r, hv_log_member *m, int *bad)
{
    m->id = hv__rd_u64(r);
    m->incarnation = hv__rd_u64(r);
    m->role = hv__rd_u32(r);
    m->index = hv__rd_u32(r);
    m->auth = hv__rd_u8(r);
    for (int i = 0; i < 7; i++)
        *bad |= hv__rd_u8(r) != 0;
    hv__rd_bytes(r, m->pk, sizeof(m->pk));
    *bad |= m->id == 0 || m->role >= ROLE_COUNT || (m->auth != AUTH_SIG && m->auth != AUTH_MAC);
}

static void put_bar(hv_wr *w, const hv_bar *b)
{
    hv__wr_u32(w, (uint32_t)b->day);
    hv__wr_u32(w, 0);
    hv__wr_f64(w, b->open);
    hv__wr_f64(w, b->high);
    hv__wr_f64(w, b->low);
    hv__wr_f64(w, b->close);
    hv__wr_f64(w, b->adjclose);
    hv__wr_f64(w, b->volume);
}

static void get_bar(hv_rd *r, hv_bar *b, int *bad)
{
    b->day = (int32_t)hv__rd_u32(r);
    zero32(r, bad);
    b->open = hv__rd_f64(r);
    b->high = hv__rd_f64(r);
    b->low = hv__rd_f64(r);
    b->close = hv__rd_f64(r);
    b->adjclose = hv__rd_f64(r);
    b->volume = hv__rd_f64(r);
    /* a bar the exchange and the account take (a log's venue must not refuse it halfway) */
    *bad |= !(b->open > 0 && b->low > 0 && b->close > 0 && b->low <= b->high && b->volume >= 0);
}

void hv__log_put_order(hv_wr *w, const hv_log_order *o)
{
    hv__wr_u32(w, (uint32_t)o->side);
    hv__wr_u32(w, (uint32_t)o->action);
    hv__wr_i64(w, o->qty);
    hv__wr_f64(w, o->ref_price);
    hv__wr_i64(w, o->target);
}

void hv__log_get_order(hv_rd *r, hv_log_order *o, int *bad)
{
    o->side = (int32_t)hv__rd_u32(r);
    o->action = (int32_t)hv__rd_u32(r);
    o->qty = hv__rd_i64(r);
    o->ref_price = hv__rd_f64(r);
    o->target = hv__rd_i64(r);
    *bad |= (o->side != HV_SIDE_BUY && o->side != HV_SIDE_SELL) || o->action < 0 ||
            o->action >= HV_ACTION_MAX || o->qty <= 0;
}

static void put_decision(hv_wr *w, const hv_log_decision *x)
{
    const hv_decision *d = &x->d;
    hv__wr_u64(w, d->proposal_id);
    hv__wr_u64(w, x->cycle);
    hv__wr_u64(w, x->proposer);
    hv__wr_u32(w, d->round);
    hv__wr_u32(w, x->action);
    hv__wr_u8(w, d->outcome);
    hv__wr_u8(w, d->rule);
    hv__wr_u8(w, d->crit);
    hv__wr_u8(w, d->reason);
    const uint32_t c[] = { d->eligible,    d->votes_needed, d->approvals, d->rejections,
                           d->abstentions, d->excluded,     d->bound };
    for (int i = 0; i < 7; i++)
        hv__wr_u32(w, c[i]);
    hv__wr_u64(w, d->approve_weight);
    hv__wr_u64(w, d->total_weight);
    hv__wr_u64(w, d->opened_ns);
    hv__wr_u64(w, d->decided_ns);
    hv__wr_u64(w, d->deadline_ns);
    hv__wr_bytes(w, x->payload_hash, sizeof(x->payload_hash));
    hv__log_put_order(w, &x->order);
    hv__wr_u32(w, x->nvotes);
    hv__wr_u32(w, 0);
    for (uint32_t i = 0; i < x->nvotes && i < HV_LOG_VOTES_MAX; i++) {
        const hv_log_vote *v = &x->votes[i];
        hv__wr_u64(w, v->v.voter);
        hv__wr_u32(w, v->v.round);
        hv__wr_u8(w, v->v.choice);
        hv__wr_u8(w, v->auth);
        hv__wr_u8(w, 0);
        hv__wr_u8(w, 0);
        hv__wr_bytes(w, v->v.payload_hash, sizeof(v->v.payload_hash));
        hv__wr_bytes(w, v->v.sig, sizeof(v->v.sig));
    }
}

static void get_votes(hv_rd *r, hv_log_decision *x, int *bad)
{
    for (uint32_t i = 0; i < x->nvotes; i++) {
        hv_log_vote *v = &x->votes[i];
        memset(v, 0, sizeof(*v));
        v->v.proposal_id = x->d.proposal_id;
        v->v.voter = hv__rd_u64(r);
        v->v.round = hv__rd_u32(r);
        v->v.choice = hv__rd_u8(r);
        v->auth = hv__rd_u8(r);
        *bad |= hv__rd_u8(r) != 0;
        *bad |= hv__rd_u8(r) != 0;
        hv__rd_bytes(r, v->v.payload_hash, sizeof(v->v.payload_hash));
        hv__rd_bytes(r, v->v.sig, sizeof(v->v.sig));
        *bad |= v->v.choice < HV_CHOICE_APPROVE || v->v.choice > HV_CHOICE_ABSTAIN ||
                (v->auth != AUTH_SIG && v->auth != AUTH_MAC);
    }
}

static void get_decision(hv_rd *r, hv_log_decision *x, int *bad)
{
    hv_decision *d = &x->d;
    memset(d, 0, sizeof(*d));
    d->proposal_id = hv__rd_u64(r);
    x->cycle = hv__rd_u64(r);
    x->proposer = hv__rd_u64(r);
    d->round = hv__rd_u32(r);
    x->action = hv__rd_u32(r);
    d->outcome = hv__rd_u8(r);
    d->rule = hv__rd_u8(r);
    d->crit = hv__rd_u8(r);
    d->reason = hv__rd_u8(r);
    uint32_t *c[] = { &d->eligible,    &d->votes_needed, &d->approvals, &d->rejections,
                      &d->abstentions, &d->excluded,     &d->bound };
    for (int i = 0; i < 7; i++)
        *c[i] = hv__rd_u32(r);
    d->approve_weight = hv__rd_u64(r);
    d->total_weight = hv__rd_u64(r);
    d->opened_ns = hv__rd_u64(r);
    d->decided_ns = hv__rd_u64(r);
    d->deadline_ns = hv__rd_u64(r);
    hv__rd_bytes(r, x->payload_hash, sizeof(x->payload_hash));
    hv__log_get_order(r, &x->order, bad);
    x->nvotes = hv__rd_u32(r);
    zero32(r, bad);
    *bad |= d->proposal_id == 0 || x->action >= HV_ACTION_MAX || d->outcome == HV_OUTCOME_PENDING ||
            d->outcome >= HV_OUTCOME_COUNT || d->rule >= HV_RULE_COUNT ||
            d->crit >= HV_CRIT_COUNT || d->reason > REASON_MAX;
    if (x->nvotes > HV_LOG_VOTES_MAX) {
        *bad = 1;
        x->nvotes = 0;
    }
    get_votes(r, x, bad);
}

static void put_result(hv_wr *w, const hv_log_result *x)
{
    hv__wr_u64(w, x->proposal_id);
    hv__wr_u64(w, x->cycle);
    hv__wr_u64(w, x->order_id);
    hv__wr_u32(w, (uint32_t)x->rc);
    hv__wr_u32(w, (uint32_t)x->breach.limit);
    hv__wr_f64(w, x->breach.value);
    hv__wr_f64(w, x->breach.limit_value);
    hv__wr_u64(w, x->breach.now_ns);
}

static void get_result(hv_rd *r, hv_log_result *x, int *bad)
{
    x->proposal_id = hv__rd_u64(r);
    x->cycle = hv__rd_u64(r);
    x->order_id = hv__rd_u64(r);
    x->rc = (int32_t)hv__rd_u32(r);
    uint32_t lim = hv__rd_u32(r);
    x->breach.limit = (hv_limit_id)(lim <= HV_LIMIT_DRAWDOWN ? lim : 0);
    x->breach.value = hv__rd_f64(r);
    x->breach.limit_value = hv__rd_f64(r);
    x->breach.now_ns = hv__rd_u64(r);
    *bad |= x->proposal_id == 0 || lim > HV_LIMIT_DRAWDOWN || x->rc > 0;
}

/* The body length each type has (a decision's depends on its vote count). */
static size_t body_len(const hv_log_entry *e)
{
    switch (e->type) {
    case HV_LOG_GENESIS:
        return 160;
    case HV_LOG_MEMBER:
    case HV_LOG_CYCLE:
        return 64;
    case HV_LOG_CYCLE_END:
        return 16;
    case HV_LOG_DECISION:
        return DECISION_FIXED + VOTE_BYTES * e->decision.nvotes;
    case HV_LOG_RESULT:
        return 56;
    default: /* HV_LOG_FINISH */
        return 8;
    }
}

static void put_body(hv_wr *w, const hv_log_entry *e)
{
    switch (e->type) {
    case HV_LOG_GENESIS:
        hv__log_put_genesis(w, &e->genesis);
        break;
    case HV_LOG_MEMBER:
        hv__log_put_member(w, &e->member);
        break;
    case HV_LOG_CYCLE:
        hv__wr_u64(w, e->cycle.cycle);
        put_bar(w, &e->cycle.bar);
        break;
    case HV_LOG_CYCLE_END:
        hv__wr_u64(w, e->end.cycle);
        hv__wr_u64(w, e->end.how);
        break;
    case HV_LOG_DECISION:
        put_decision(w, &e->decision);
        break;
    case HV_LOG_RESULT:
        put_result(w, &e->result);
        break;
    default:
        hv__wr_u64(w, e->finish.cycles);
        break;
    }
}

static void get_body(hv_rd *r, hv_log_entry *e, int *bad)
{
    switch (e->type) {
    case HV_LOG_GENESIS:
        hv__log_get_genesis(r, &e->genesis, bad);
        break;
    case HV_LOG_MEMBER:
        hv__log_get_member(r, &e->member, bad);
        break;
    case HV_LOG_CYCLE:
        e->cycle.cycle = hv__rd_u64(r);
        get_bar(r, &e->cycle.bar, bad);
        break;
    case HV_LOG_CYCLE_END: {
        e->end.cycle = hv__rd_u64(r);
        uint64_t how = hv__rd_u64(r);
        e->end.how = (uint8_t)how;
        *bad |= how >= HV_LOG_END_COUNT;
        break;
    }
    case HV_LOG_DECISION:
        get_decision(r, &e->decision, bad);
        break;
    case HV_LOG_RESULT:
        get_result(r, &e->result, bad);
        break;
    default:
        e->finish.cycles = hv__rd_u64(r);
        break;
    }
}

/* ---- Entries ------------------------------------------------------------------------------ */

void hv_log_entry_hash(const uint8_t *buf, uint8_t out[HV_LOG_HASH_BYTES])
{
    hv_rd r = { buf, HV_LOG_HEADER_BYTES, 8, 0 };
    uint32_t body = hv__rd_u32(&r);
    crypto_generichash(out, HV_LOG_HASH_BYTES, buf, HV_LOG_HEADER_BYTES + (size_t)body, NULL, 0);
}

int hv_log_entry_encode(const hv_log_entry *e, uint8_t *buf, size_t cap, size_t *len)
{
    if (e->type == 0 || e->type >= HV_LOG_TYPE_COUNT)
        return HV_EBADTYPE;
    if (e->type == HV_LOG_DECISION && e->decision.nvotes > HV_LOG_VOTES_MAX)
        return HV_EBADFIELD;
    size_t body = body_len(e), total = HV_LOG_HEADER_BYTES + body;
    *len = total;
    if (total > cap)
        return HV_ENOBUFS;
    uint8_t tmp[HV_LOG_ENTRY_MAX];
    hv_wr w = { tmp, sizeof(tmp), 0 };
    hv__wr_u32(&w, HV_LOG_MAGIC);
    hv__wr_u8(&w, HV_LOG_VERSION);
    hv__wr_u8(&w, e->type);
    hv__wr_u8(&w, 0);
    hv__wr_u8(&w, 0);
    hv__wr_u32(&w, (uint32_t)body);
    hv__wr_u32(&w, 0);
    hv__wr_u64(&w, e->seq);
    hv__wr_bytes(&w, e->prev, sizeof(e->prev));
    put_body(&w, e);
    hv_log_entry check;
    int rc = hv_log_entry_decode(tmp, total, &check);
    if (rc != 0)
        return rc; /* the decoder's verdict: never write what it would refuse */
    memcpy(buf, tmp, total);
    return 0;
}

/* The header, checked in the documented order; *body gets the body length, *bad whether a
 * reserved byte is set or seq is 0 (reported after the body's length and floats). */
static int decode_header(hv_rd *r, size_t len, hv_log_entry *e, uint32_t *body, int *bad)
{
    if (len < HV_LOG_HEADER_BYTES)
        return HV_ETRUNCATED;
    if (hv__rd_u32(r) != HV_LOG_MAGIC)
        return HV_EBADMAGIC;
    if (hv__rd_u8(r) != HV_LOG_VERSION)
        return HV_EBADVERSION;
    e->type = hv__rd_u8(r);
    if (e->type == 0 || e->type >= HV_LOG_TYPE_COUNT)
        return HV_EBADTYPE;
    *bad |= hv__rd_u8(r) != 0;
    *bad |= hv__rd_u8(r) != 0;
    *body = hv__rd_u32(r);
    *bad |= hv__rd_u32(r) != 0;
    e->seq = hv__rd_u64(r);
    hv__rd_bytes(r, e->prev, sizeof(e->prev));
    *bad |= e->seq == 0;
    if (*body > ENTRY_BODY_MAX)
        return HV_EBADLEN;
    if (len < HV_LOG_HEADER_BYTES + (size_t)*body)
        return HV_ETRUNCATED;
    return 0;
}

/* The body length fits the type (a decision's vote count is read from its body). */
static int length_ok(const uint8_t *buf, hv_log_entry *e, uint32_t body)
{
    if (e->type == HV_LOG_DECISION) {
        if (body < DECISION_FIXED)
            return 0;
        hv_rd r = { buf + HV_LOG_HEADER_BYTES, body, 168, 0 };
        uint32_t n = hv__rd_u32(&r);
        if (n > HV_LOG_VOTES_MAX)
            return 0;
        e->decision.nvotes = n;
    }
    return body == body_len(e);
}

int hv_log_entry_decode(const uint8_t *buf, size_t len, hv_log_entry *e)
{
    hv_rd r = { buf, len, 0, 0 };
    uint32_t body = 0;
    int bad = 0;
    int rc = decode_header(&r, len, e, &body, &bad);
    if (rc != 0)
        return rc;
    if (!length_ok(buf, e, body))
        return HV_EBADLEN;
    /* the length fits the type exactly, so the reader fails only on a non-finite float */
    hv_rd b = { buf + HV_LOG_HEADER_BYTES, body, 0, 0 };
    get_body(&b, e, &bad);
    if (b.bad)
        return HV_ENONFINITE;
    if (bad)
        return HV_EBADFIELD;
    return len == HV_LOG_HEADER_BYTES + (size_t)body ? 0 : HV_ETRAILING;
}

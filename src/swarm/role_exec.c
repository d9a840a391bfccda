/*
 * The execution agent and its exchange connection (the venue). Each bar it delivers the
 * execution reports due, trades the bar on the simulated exchange, marks the account and
 * publishes the state; it submits the orders the risk agent approved; after the last bar it
 * cancels what is still working and delivers everything in flight.
 *
 * The venue (exchange + account) is the outside world: it outlives an execution agent that
 * crashes, as a broker keeps the account while its client reconnects. Orders carry their
 * proposal id as the client tag and tags only grow, so a repeated order (a duplicate message,
 * or one sent again after a restart) is answered with the first one's result and never
 * executed twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "swarm/swarm_int.h"

#define CURVE_CHUNK_BYTES 1024u

int hv__sw_venue_init(sw_venue *v, const hv_swarm_opts *cfg)
{
    memset(v, 0, sizeof(*v));
    v->bar_cycle = UINT64_MAX;
    int rc = hv_exchange_new(&cfg->exchange, &v->x);
    if (rc == 0)
        rc = hv_portfolio_new(cfg->cash, 4096, &v->pf);
    if (rc != 0) {
        hv__sw_venue_fini(v);
        return rc;
    }
    hv_exchange_attach(v->x, v->pf, NULL); /* limits live with the risk agent */
    return 0;
}

void hv__sw_venue_fini(sw_venue *v)
{
    hv_exchange_free(v->x);
    hv_portfolio_free(v->pf);
    v->x = NULL;
    v->pf = NULL;
}

hv_order_request hv__sw_order_request(const sw_order *o, uint64_t tag)
{
    hv_order_request q = { .side = (hv_side)o->side,
                           .type = HV_ORDER_MARKET,
                           .tif = HV_TIF_GTC,
                           .qty = o->qty,
                           .client_tag = tag };
    return q;
}

/* Delivers every report due by t to fn. */
static int drain(sw_venue *v, uint64_t t, sw_report_fn fn, void *ud)
{
    hv_exec_report r;
    int n;
    while ((n = hv_exchange_poll(v->x, t, &r)) == 1) {
        int rc = fn(ud, &r);
        if (rc != 0)
            return rc;
    }
    return n;
}

int hv__sw_venue_bar(sw_venue *v, const hv_bar *bar, uint64_t t, sw_report_fn fn, void *ud)
{
    int rc = drain(v, t, fn, ud);
    for (int i = 0; rc == 0 && i < 64; i++) {
        rc = hv_exchange_on_bar(v->x, bar, t);
        if (rc != HV_EFULL)
            break;
        rc = drain(v, t, fn, ud);
    }
    if (rc < 0)
        return rc;
    return hv_portfolio_mark(v->pf, bar->close, t);
}

/* After the last bar nothing can fill any more: cancel what is still working (cancels are
 * allowed even with the kill switch on). */
static int cancel_open(sw_venue *v, uint64_t t)
{
    hv_exchange_stats xs;
    hv_exchange_stats_get(v->x, &xs);
    for (uint64_t id = 1; id <= xs.submitted; id++) {
        hv_order o;
        if (hv_exchange_order(v->x, id, &o) != 0 || o.cancel_pending)
            continue;
        int rc = hv_exchange_cancel(v->x, id, t);
        if (rc != 0 && rc != HV_ESTATE)
            return rc;
    }
    return 0;
}

int hv__sw_venue_finish(sw_venue *v, uint64_t t, sw_report_fn fn, void *ud)
{
    int rc = cancel_open(v, t);
    for (int i = 0; rc == 0 && i < 1000000; i++) {
        uint64_t next = hv_exchange_next_event_ns(v->x);
        if (next == UINT64_MAX)
            break;
        t = next > t ? next : t;
        rc = drain(v, t, fn, ud);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

static int publish_report(void *ud, const hv_exec_report *r)
{
    sw_exec *e = ud;
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_CONFIRM;
    m.cycle = e->bar_now;
    m.confirm = *r;
    return hv__sw_send(&e->a, &m);
}

static int on_bar(sw_exec *e, const sw_msg *in)
{
    sw_agent *a = &e->a;
    sw_venue *v = e->v;
    if (v->bar_cycle != UINT64_MAX && in->cycle <= v->bar_cycle) {
        a->rep.stale++;
        if (e->last_state.kind == SW_STATE && e->last_state.cycle == in->cycle)
            return hv__sw_send(a, &e->last_state); /* its state was lost: the same again */
        return 0;
    }
    uint64_t t0 = hv__sw_clock(a);
    uint64_t t = hv__sw_sim_ns(a, in->cycle);
    v->bar_cycle = in->cycle;
    e->bar_now = in->cycle;
    hv__sw_seen(a, in->cycle);
    int rc = hv__sw_venue_bar(v, &in->bar.bar, t, publish_report, e);
    if (rc != 0)
        return rc;
    hv_portfolio_stats ps;
    hv_exchange_stats xs;
    hv_portfolio_stats_get(v->pf, &ps);
    hv_exchange_stats_get(v->x, &xs);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_STATE;
    m.cycle = in->cycle;
    m.state.position = ps.position;
    m.state.open_buy = xs.open_buy_qty;
    m.state.open_sell = xs.open_sell_qty;
    m.state.cash = ps.cash;
    m.state.equity = ps.equity;
    m.state.drawdown_frac = ps.drawdown_frac;
    m.state.close = in->bar.bar.close;
    m.state.bar_md_ns = in->bar.md_ns;
    m.state.bar_sent_ns = in->wall_ns;
    m.state.compute_ns = hv__sw_clock(a) - t0;
    e->last_state = m;
    return hv__sw_send(a, &m);
}

static int send_result(sw_exec *e, const sw_msg *in, int rc, uint64_t order_id, uint64_t exec_ns)
{
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_ORDER_RESULT;
    m.cycle = in->cycle;
    m.result.proposal_id = in->order.proposal_id;
    m.result.rc = rc;
    m.result.order_id = order_id;
    m.result.risk_ns = in->order.risk_ns;
    m.result.exec_ns = exec_ns;
    return hv__sw_send(&e->a, &m);
}

int hv__sw_venue_order(sw_venue *v, uint64_t tag, const sw_order *o, uint64_t t, uint64_t *id)
{
    if (tag <= v->last_tag) { /* sent before: answer as the first time, never execute again */
        *id = tag == v->last_tag ? v->last_order_id : 0;
        return tag == v->last_tag ? v->last_rc : HV_EEXIST;
    }
    hv_order_request q = hv__sw_order_request(o, tag);
    *id = 0;
    int rc = hv_exchange_submit(v->x, &q, t, id);
    v->last_tag = tag;
    v->last_rc = rc;
    v->last_order_id = *id;
    return rc;
}

static int on_order(sw_exec *e, const sw_msg *in)
{
    sw_agent *a = &e->a;
    uint64_t id = 0, t0 = hv__sw_clock(a);
    int repeat = in->order.proposal_id <= e->v->last_tag;
    int rc = hv__sw_venue_order(e->v, in->order.proposal_id, &in->order.order,
                                hv__sw_sim_ns(a, in->cycle) + 1, &id);
    if (repeat) {
        a->rep.stale++;
        return send_result(e, in, rc, id, 0);
    }
    hv__sw_seen(a, in->cycle);
    return send_result(e, in, rc, id, hv__sw_clock(a) - t0);
}

/* After the last bar: cancel open orders and deliver everything in flight (bounded: every step
 * delivers). A repeated FINISH finds nothing left and answers again. */
static int on_finish(sw_exec *e, const sw_msg *in)
{
    if (e->finished_cycle == UINT64_MAX) {
        e->bar_now = in->cycle;
        int rc = hv__sw_venue_finish(e->v, hv__sw_sim_ns(&e->a, in->cycle) + 2, publish_report, e);
        if (rc != 0)
            return rc;
        e->finished_cycle = in->cycle;
    }
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_FINISHED;
    m.cycle = in->cycle;
    return hv__sw_send(&e->a, &m);
}

/* ---- The journal --------------------------------------------------------------------------------
 * Every input that changes the venue (a new bar, a new order, the first FINISH) is written to
 * state_dir/execution.journal before the agent acts on it, as [u32 length LE][HVW1 frame]. An
 * agent that starts again (after a kill -9) replays the journal through the same handlers with
 * nothing sent, which rebuilds the exact venue, since the exchange is deterministic for its
 * seed and inputs; then it goes on. write() without fsync: it survives the process, not the
 * machine. A record cut short by a crash mid-write is dropped (the input it held was never
 * acted on). */

static int changes_venue(const sw_exec *e, const sw_msg *m)
{
    const sw_venue *v = e->v;
    if (m->kind == SW_BAR)
        return v->bar_cycle == UINT64_MAX || m->cycle > v->bar_cycle;
    if (m->kind == SW_ORDER)
        return m->order.proposal_id > v->last_tag;
    return m->kind == SW_FINISH && e->finished_cycle == UINT64_MAX;
}

static int journal_append(sw_exec *e, const sw_msg *m)
{
    uint8_t buf[4 + SW_FRAME_MAX];
    int n = hv__sw_encode(m, 0, buf + 4, SW_FRAME_MAX);
    if (n < 0)
        return n;
    for (int i = 0; i < 4; i++)
        buf[i] = (uint8_t)((uint32_t)n >> (8 * i));
    size_t len = (size_t)n + 4, off = 0;
    while (off < len) {
        ssize_t w = write(e->journal, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return HV_EIO;
        off += (size_t)w;
    }
    return 0;
}

static int exec_on_msg(sw_agent *a, const sw_msg *m, uint64_t now_ns)
{
    (void)now_ns;
    sw_exec *e = (sw_exec *)a;
    if (e->journal >= 0 && !e->replaying && changes_venue(e, m)) {
        int rc = journal_append(e, m);
        if (rc != 0)
            return rc;
    }
    switch (m->kind) {
    case SW_BAR:
        return on_bar(e, m);
    case SW_ORDER:
        return on_order(e, m);
    case SW_FINISH:
        return on_finish(e, m);
    default:
        return 0;
    }
}

static int discard_publish(hv_link *l, const char *subject, int prio, const uint8_t *f, size_t n)
{
    (void)l;
    (void)subject;
    (void)prio;
    (void)f;
    (void)n;
    return 0;
}

static uint64_t zero_clock(hv_link *l)
{
    (void)l;
    return 0;
}

static const hv_link_ops discard_ops = { .publish = discard_publish, .now = zero_clock };

/* Replays the journal read into buf[0 .. n); returns the length of its whole records. */
static size_t replay(sw_exec *e, const uint8_t *buf, size_t n)
{
    hv_link discard = { .ops = &discard_ops };
    hv_link *mine = e->a.actor.link;
    e->a.actor.link = &discard;
    e->replaying = 1;
    size_t off = 0;
    while (n - off >= 4) {
        uint32_t len = (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 |
                       (uint32_t)buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;
        if (len > SW_FRAME_MAX || n - off - 4 < len)
            break;
        sw_msg m;
        hv_msg hm;
        if (hv__sw_decode(buf + off + 4, len, &m, &hm) != 0 || exec_on_msg(&e->a, &m, 0) != 0)
            break;
        off += 4 + len;
        e->replayed++;
    }
    e->replaying = 0;
    e->a.actor.link = mine;
    return off;
}

static int open_journal(sw_exec *e, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/execution.journal", dir);
    e->journal = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (e->journal < 0)
        return HV_EIO;
    struct stat st;
    if (fstat(e->journal, &st) != 0)
        return HV_EIO;
    size_t n = (size_t)st.st_size;
    uint8_t *buf = n ? malloc(n) : NULL;
    if (n && buf == NULL)
        return HV_ENOMEM;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(e->journal, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    size_t whole = replay(e, buf, got);
    free(buf);
    /* drop a torn tail, then append after the whole records */
    if (ftruncate(e->journal, (off_t)whole) != 0 || lseek(e->journal, 0, SEEK_END) < 0)
        return HV_EIO;
    return 0;
}

/* ---- The equity curve as an HVW1 stream --------------------------------------------------------
 * Points as (t_ns u64, equity f64) little-endian, 16 bytes each: START, DATA chunks of
 * CURVE_CHUNK_BYTES, END with the BLAKE2b-256 of the whole content. */

static int send_stream_msg(sw_exec *e, const hv_msg *w)
{
    uint8_t buf[SW_FRAME_MAX];
    int n = hv__sw_encode_stream(w, e->a.id, ++e->a.seq, buf, sizeof(buf));
    return n < 0 ? n : hv__sw_send_frame(&e->a, SW_CURVE, buf, (size_t)n);
}

static void put_point(uint8_t *p, uint64_t t, double eq)
{
    uint64_t v;
    memcpy(&v, &eq, 8);
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(t >> (8 * i));
        p[8 + i] = (uint8_t)(v >> (8 * i));
    }
}

static int send_curve(sw_exec *e)
{
    const uint64_t *t;
    const double *eq;
    size_t n = hv_portfolio_curve(e->v->pf, &t, &eq);
    size_t total = n * 16;
    uint8_t hash_in[CURVE_CHUNK_BYTES];
    hv_msg w;
    memset(&w, 0, sizeof(w));
    w.type = HV_MSG_STREAM_START;
    uint64_t id = ++e->curve_stream;
    w.stream_start.stream_id = id;
    w.stream_start.total_bytes = total;
    w.stream_start.chunk_bytes = CURVE_CHUNK_BYTES;
    w.stream_start.content_type = HV_WIRE_CONTENT_OCTETS;
    w.stream_start.name = hv_str_from("equity_curve");
    int rc = send_stream_msg(e, &w);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, HV_HASH_BYTES);
    uint32_t chunks = 0;
    for (size_t off = 0; rc == 0 && off < total; off += CURVE_CHUNK_BYTES, chunks++) {
        size_t len = total - off < CURVE_CHUNK_BYTES ? total - off : CURVE_CHUNK_BYTES;
        for (size_t i = 0; i < len / 16; i++)
            put_point(hash_in + 16 * i, t[off / 16 + i], eq[off / 16 + i]);
        crypto_generichash_update(&st, hash_in, len);
        memset(&w, 0, sizeof(w));
        w.type = HV_MSG_STREAM_DATA;
        w.stream_data.stream_id = id;
        w.stream_data.offset = off;
        w.stream_data.chunk = (hv_bytes){ hash_in, (uint32_t)len };
        rc = send_stream_msg(e, &w);
    }
    if (rc != 0)
        return rc;
    memset(&w, 0, sizeof(w));
    w.type = HV_MSG_STREAM_END;
    w.stream_end.stream_id = id;
    w.stream_end.total_bytes = total;
    w.stream_end.chunks = chunks;
    w.stream_end.status = HV_WIRE_STREAM_COMPLETE;
    crypto_generichash_final(&st, w.stream_end.content_hash, HV_HASH_BYTES);
    return send_stream_msg(e, &w);
}

static int exec_report(sw_agent *a, sw_report *rep, uint64_t now_ns)
{
    (void)now_ns;
    sw_exec *e = (sw_exec *)a;
    hv_portfolio_stats_get(e->v->pf, &rep->portfolio);
    hv_exchange_stats_get(e->v->x, &rep->exchange);
    return send_curve(e);
}

static const int exec_subs[] = { SW_BAR, SW_ORDER, SW_FINISH, 0 };

const sw_role_ops hv__sw_exec_ops = {
    .name = "execution",
    .subs = exec_subs,
    .on_msg = exec_on_msg,
    .report = exec_report,
};

int hv__sw_exec_init(sw_exec *e, const sw_env *env)
{
    memset(e, 0, sizeof(*e));
    hv__sw_agent_init(&e->a, env, &hv__sw_exec_ops);
    e->v = env->venue;
    e->finished_cycle = UINT64_MAX;
    e->journal = -1;
    if (e->v == NULL)
        return HV_EINVAL;
    return env->cfg.state_dir != NULL ? open_journal(e, env->cfg.state_dir) : 0;
}

void hv__sw_exec_fini(sw_exec *e)
{
    if (e->journal >= 0)
        close(e->journal);
    e->journal = -1;
}

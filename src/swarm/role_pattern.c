/*
 * A pattern agent: it learns its own DTW library online from the closes it sees (a window
 * enters once its forward return is known: no look-ahead), predicts the return after every
 * bar, and votes on proposals from that prediction.
 *
 * It keeps the last closes in a sliding buffer (PRICES_KEEP bars at most), not the whole
 * series, so a long run holds a bounded amount. A bar that never arrived (a lost message) is
 * filled with the previous close; a repeated or older bar is ignored and counted.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "swarm/sim_int.h"
#include "swarm/swarm_int.h"

#define PRICES_KEEP 4096u /* closes held at once; the window needs len + horizon of them */

static double *close_at(sw_pattern *p, size_t t)
{
    return &p->prices[t - p->base];
}

/* Appends the close of bar `count` (sliding the buffer when it is full). */
static void push_close(sw_pattern *p, double c)
{
    if (p->held == p->cap) {
        size_t keep = p->p.len + p->p.horizon;
        memmove(p->prices, p->prices + (p->held - keep), keep * sizeof(double));
        p->base += p->held - keep;
        p->held = keep;
    }
    p->prices[p->held++] = c;
    p->count++;
}

/* Adds the window whose label became known with the newest close. */
static void learn(sw_pattern *p)
{
    size_t t = p->count - 1, len = p->p.len, h = p->p.horizon;
    if (t < len - 1 + h)
        return;
    size_t end = t - h;
    if ((end - (len - 1)) % p->p.stride != 0)
        return;
    /* HV_EFULL (learning stops when the library is full) is counted in the library's set */
    (void)hv_dtw_library_add_window(p->lib, close_at(p, end + 1 - len), *close_at(p, t), end);
}

static int predict(sw_pattern *p)
{
    size_t t = p->count - 1;
    p->have_pred = 0;
    if (t + 1 < p->p.len)
        return 0;
    int rc = hv_dtw_library_predict_window(p->lib, p->ws, close_at(p, t + 1 - p->p.len), t, p->p.k,
                                           &p->pred, NULL);
    if (rc != 0 && rc != HV_ETOOFEWOBS)
        return rc;
    p->have_pred = rc == 0 && isfinite(p->pred.expected_return);
    return 0;
}

static int pattern_bar(sw_pattern *p, const sw_msg *in)
{
    sw_agent *a = &p->a;
    if (in->cycle < p->count) { /* a repeat, or older than what it already has */
        a->rep.stale++;
        if (p->last.kind == SW_PRED && p->last.cycle == in->cycle)
            return hv__sw_send(a, &p->last); /* its prediction was lost: the same again */
        return 0;
    }
    uint64_t t0 = hv__sw_clock(a);
    double c = in->bar.bar.close;
    while (p->count < in->cycle) { /* bars that never came: the last close carries on */
        push_close(p, p->count > 0 ? *close_at(p, p->count - 1) : c);
        learn(p);
    }
    push_close(p, c);
    learn(p);
    int rc = predict(p);
    if (rc != 0)
        return rc;
    p->pred_cycle = in->cycle;
    hv__sw_seen(a, in->cycle);
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_PRED;
    m.cycle = in->cycle;
    m.pred.agent = a->env.index;
    m.pred.valid = p->have_pred;
    if (p->have_pred) {
        m.pred.expected = p->pred.expected_return;
        m.pred.agreement = p->pred.agreement;
        m.pred.distance_min = p->pred.distance_min;
    }
    m.pred.compute_ns = hv__sw_clock(a) - t0;
    p->last = m;
    return hv__sw_send(a, &m);
}

/* ---- Voting (shared with the risk agent) ------------------------------------------------------
 */

int hv__sw_cast_vote(sw_agent *a, const sw_msg *req, hv_choice choice)
{
    uint32_t bit = a->env.role == SW_ROLE_RISK ? 16u : a->env.index;
    if (hv__sw_mute_votes >> bit & 1u)
        return 0; /* a test's silent voter */
    if (a->last_vote.kind == SW_VOTE && a->last_vote.vote.v.proposal_id == req->vreq.id)
        return hv__sw_send(a, &a->last_vote); /* asked again: the vote it cast, unchanged */
    sw_msg m;
    memset(&m, 0, sizeof(m));
    m.kind = SW_VOTE;
    m.cycle = req->cycle;
    hv_vote *v = &m.vote.v;
    v->proposal_id = req->vreq.id;
    v->voter = a->id;
    v->round = req->vreq.round;
    v->choice = (uint8_t)choice;
    memcpy(v->payload_hash, req->vreq.hash, HV_PAYLOAD_HASH_BYTES);
    m.vote.auth = a->env.vote_auth;
    int rc = a->env.vote_auth == HV_SWARM_AUTH_SIG ? hv_vote_sign(v, a->keys.sk)
                                                   : hv_vote_mac(v, a->keys.mac);
    if (rc != 0)
        return rc;
    a->last_vote = m;
    return hv__sw_send(a, &m);
}

int hv__sw_payload_ok(const sw_msg *req)
{
    uint8_t h[HV_PAYLOAD_HASH_BYTES];
    return hv__sw_order_hash(&req->vreq.order, h) == 0 && memcmp(h, req->vreq.hash, sizeof(h)) == 0;
}

int hv__sw_eligible(const sw_agent *a, const sw_msg *req)
{
    for (uint32_t i = 0; i < req->vreq.nvoters; i++)
        if (req->vreq.voters[i] == a->id)
            return 1;
    return 0;
}

/* Approve an order whose direction this agent's own prediction for the cycle shares, reject
 * one it contradicts, abstain without a prediction. */
static int pattern_vote(sw_pattern *p, const sw_msg *req)
{
    if (!hv__sw_eligible(&p->a, req))
        return 0;
    hv_choice c = HV_CHOICE_ABSTAIN;
    double dir = req->vreq.order.side == HV_SIDE_BUY ? 1.0 : -1.0;
    if (!hv__sw_payload_ok(req))
        c = HV_CHOICE_REJECT;
    else if (p->have_pred && p->pred_cycle == req->cycle && p->pred.expected_return != 0)
        c = p->pred.expected_return * dir > 0 ? HV_CHOICE_APPROVE : HV_CHOICE_REJECT;
    return hv__sw_cast_vote(&p->a, req, c);
}

static int pattern_on_msg(sw_agent *a, const sw_msg *m, uint64_t now_ns)
{
    (void)now_ns;
    sw_pattern *p = (sw_pattern *)a;
    if (m->kind == SW_BAR)
        return pattern_bar(p, m);
    return m->kind == SW_VOTE_REQ ? pattern_vote(p, m) : 0;
}

static const int pattern_subs[] = { SW_BAR, SW_VOTE_REQ, 0 };

const sw_role_ops hv__sw_pattern_ops = {
    .name = "pattern",
    .subs = pattern_subs,
    .on_msg = pattern_on_msg,
};

int hv__sw_pattern_init(sw_pattern *p, const sw_env *env)
{
    memset(p, 0, sizeof(*p));
    hv__sw_agent_init(&p->a, env, &hv__sw_pattern_ops);
    int rc = hv__sw_derive_keys(env->cfg.seed, p->a.id, &p->a.keys);
    if (rc != 0)
        return rc;
    p->p = env->cfg.pattern[env->index];
    hv_dtw_library_opts o;
    hv_dtw_library_opts_default(&o);
    o.len = p->p.len;
    o.band = p->p.band;
    o.horizon = p->p.horizon;
    o.capacity = p->p.capacity;
    rc = hv_dtw_library_new(&o, &p->lib);
    if (rc == 0)
        rc = hv_dtw_library_ws_new(p->lib, p->p.k, &p->ws);
    p->cap = PRICES_KEEP;
    if (rc == 0 && (p->prices = malloc(p->cap * sizeof(double))) == NULL)
        rc = HV_ENOMEM;
    return rc;
}

void hv__sw_pattern_fini(sw_pattern *p)
{
    hv_dtw_ws_free(p->ws);
    hv_dtw_library_free(p->lib);
    free(p->prices);
    p->ws = NULL;
    p->lib = NULL;
    p->prices = NULL;
}

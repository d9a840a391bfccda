/*
 * Result voting: which of N agents' outputs is the agreed one.
 *
 * O(N^2) comparisons with no allocation: for every valid result i, its support is the set of
 * valid results that agree with it (equal bytes, or numbers within the tolerance). The
 * candidate with the most support wins; ties are broken by the output itself (never by input
 * or hash order), then by the lowest agent id.
 */
#include <math.h>
#include <string.h>

#include <hivewire/consensus.h>

#include "consensus/consensus_int.h"

static int valid_result(const hv_agent_result *r, int numeric)
{
    if (!r->success)
        return 0;
    return !numeric || !isnan(r->value);
}

static int agree(const hv_agent_result *x, const hv_agent_result *y, double tol)
{
    if (tol >= 0)
        return fabs(x->value - y->value) <= tol;
    if (x->output_len != y->output_len)
        return 0;
    return x->output_len == 0 || memcmp(x->output, y->output, x->output_len) == 0;
}

/* <0 if x's output orders before y's: shorter first then memcmp; numbers ascending. */
static int out_cmp(const hv_agent_result *x, const hv_agent_result *y, double tol)
{
    if (tol >= 0)
        return x->value < y->value ? -1 : x->value > y->value ? 1 : 0;
    if (x->output_len != y->output_len)
        return x->output_len < y->output_len ? -1 : 1;
    return x->output_len == 0 ? 0 : memcmp(x->output, y->output, x->output_len);
}

static int check_inputs(const hv_agent_result *res, size_t n, const hv_result_opts *o)
{
    if (n == 0 || res == NULL || o == NULL)
        return HV_EINVAL;
    if (n > HV_RESULT_VOTE_MAX)
        return HV_ERANGE;
    if (o->den != 0 && (o->num == 0 || o->num > o->den))
        return HV_EINVAL;
    if (o->rule > HV_RESULT_BFT || isnan(o->tolerance))
        return HV_EINVAL;
    if (o->rule == HV_RESULT_BFT && n < 4)
        return HV_ETOOFEWVOTERS;
    for (size_t i = 0; i < n; i++)
        if (o->tolerance < 0 && res[i].output == NULL && res[i].output_len > 0)
            return HV_EINVAL;
    return 0;
}

/* Support of candidate i: count and weight of valid results agreeing with it. */
static void support_of(const hv_agent_result *res, size_t n, size_t i, double tol, uint32_t *cnt,
                       uint64_t *w)
{
    int numeric = tol >= 0;
    *cnt = 0;
    *w = 0;
    for (size_t j = 0; j < n; j++) {
        if (!valid_result(&res[j], numeric) || !agree(&res[i], &res[j], tol))
            continue;
        (*cnt)++;
        *w += res[j].weight;
    }
}

/* 1 if candidate (sc, sw, i) beats the best so far (bc, bw, b). */
static int better(const hv_agent_result *res, int weighted, double tol, uint32_t sc, uint64_t sw,
                  size_t i, uint32_t bc, uint64_t bw, size_t b)
{
    uint64_t s = weighted ? sw : sc, best = weighted ? bw : bc;
    if (s != best)
        return s > best;
    int c = out_cmp(&res[i], &res[b], tol);
    if (c != 0)
        return c < 0;
    return res[i].agent < res[b].agent;
}

static void fill_bound(const hv_result_opts *o, hv_result_decision *d)
{
    uint32_t num = o->den ? o->num : 67, den = o->den ? o->den : 100;
    switch (o->rule) {
    case HV_RESULT_MAJORITY:
        d->bound = (uint32_t)(((uint64_t)d->n * num + den - 1) / den);
        d->agreed = (uint64_t)d->support * den >= (uint64_t)num * d->n;
        break;
    case HV_RESULT_WEIGHTED: {
        unsigned __int128 need = (unsigned __int128)d->total_weight * num;
        d->bound =
            (uint32_t)((need + den - 1) / den > UINT32_MAX ? UINT32_MAX : (need + den - 1) / den);
        d->agreed = d->total_weight > 0 && (unsigned __int128)d->support_weight * den >= need;
        break;
    }
    case HV_RESULT_UNANIMOUS:
        d->bound = d->n;
        d->agreed = d->support == d->n;
        break;
    case HV_RESULT_BFT:
        d->bound = (d->n + hv__bft_f(d->n)) / 2 + 1;
        d->agreed = d->support >= d->bound;
        break;
    }
}

int hv_result_vote(const hv_agent_result *res, size_t n, const hv_result_opts *o,
                   hv_result_decision *d)
{
    int rv = check_inputs(res, n, o);
    if (rv != 0)
        return rv;
    memset(d, 0, sizeof(*d));
    d->n = (uint32_t)n;
    int numeric = o->tolerance >= 0, weighted = o->rule == HV_RESULT_WEIGHTED, found = 0;
    uint32_t bc = 0;
    uint64_t bw = 0;
    size_t b = 0;
    for (size_t i = 0; i < n; i++) {
        d->total_weight += res[i].weight;
        if (!valid_result(&res[i], numeric)) {
            d->failed++;
            continue;
        }
        uint32_t sc;
        uint64_t sw;
        support_of(res, n, i, o->tolerance, &sc, &sw);
        int equal = found && (weighted ? sw == bw : sc == bc);
        if (!found || better(res, weighted, o->tolerance, sc, sw, i, bc, bw, b)) {
            if (!equal)
                d->tied = 0;
            else if (!agree(&res[i], &res[b], o->tolerance))
                d->tied = 1;
            bc = sc, bw = sw, b = i, found = 1;
        } else if (equal && !agree(&res[i], &res[b], o->tolerance)) {
            d->tied = 1;
        }
    }
    d->winner = b;
    d->support = bc;
    d->support_weight = bw;
    fill_bound(o, d);
    d->agreed = found && d->agreed;
    return 0;
}

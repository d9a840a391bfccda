/*
 * Result voting: which of N agents' outputs is the agreed one.
 *
 * The valid results are sorted (bytes: by length, content, then agent id; numbers: by value,
 * then agent id) into a bounded index array on the stack, so equal outputs are contiguous and
 * the numbers agreeing with a candidate form a window: O(N log N) comparisons, no
 * allocation. The candidate with the most support wins; ties go to the first in sorted order
 * (the smaller output, then the lowest agent id), never to input or hash order.
 */
#include <math.h>
#include <string.h>

#include <hivewire/consensus.h>

#include "consensus/consensus_int.h"
#include "core/field.h"

static int valid_result(const hv_agent_result *r, int numeric)
{
    if (!r->success)
        return 0;
    return !numeric || isfinite(r->value);
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

void hv_result_opts_default(hv_result_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof(*o);
    o->rule = HV_RESULT_MAJORITY;
    o->tolerance = -1;
}

int hv_result_opts_check(const hv_result_opts *o, hv_field_error *err)
{
    if (o == NULL)
        return hv__field_fail(err, "opts", "is NULL");
    if (o->size != sizeof(*o))
        return hv__field_fail(err, "size", "must be sizeof(hv_result_opts)");
    if (o->rule > HV_RESULT_BFT)
        return hv__field_fail(err, "rule", "must be an hv_result_rule value");
    if (o->den != 0 && o->num == 0)
        return hv__field_fail(err, "num", "must be at least 1 when den is set");
    if (o->den != 0 && o->num > o->den)
        return hv__field_fail(err, "num", "must not exceed den");
    if (isnan(o->tolerance))
        return hv__field_fail(err, "tolerance", "must be a number (< 0: compare bytes)");
    return 0;
}

static int check_inputs(const hv_agent_result *res, size_t n, const hv_result_opts *o)
{
    if (n == 0 || res == NULL || hv_result_opts_check(o, NULL) != 0)
        return HV_EINVAL;
    if (n > HV_RESULT_VOTE_MAX)
        return HV_ERANGE;
    if (o->rule == HV_RESULT_BFT && n < 4)
        return HV_ETOOFEWVOTERS;
    for (size_t i = 0; i < n; i++)
        if (o->tolerance < 0 && res[i].output == NULL && res[i].output_len > 0)
            return HV_EINVAL;
    return 0;
}

/* Sort order: output (see out_cmp), then agent id. */
static int before(const hv_agent_result *res, double tol, uint16_t x, uint16_t y)
{
    int c = out_cmp(&res[x], &res[y], tol);
    if (c != 0)
        return c < 0;
    return res[x].agent < res[y].agent;
}

/* Shell sort of idx[0..m) (qsort may allocate). */
static void sort_idx(const hv_agent_result *res, double tol, uint16_t *idx, size_t m)
{
    static const size_t gaps[] = { 1750, 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        size_t gap = gaps[g];
        for (size_t i = gap; i < m; i++) {
            uint16_t x = idx[i];
            size_t j = i;
            for (; j >= gap && before(res, tol, x, idx[j - gap]); j -= gap)
                idx[j] = idx[j - gap];
            idx[j] = x;
        }
    }
}

typedef struct best {
    int found, tied;
    uint16_t at; /* index into the input */
    uint32_t count;
    uint64_t weight;
} best;

/* Offers a candidate in sorted order: the first with the highest support wins. */
static void offer(best *b, const hv_agent_result *res, double tol, int weighted, uint16_t at,
                  uint32_t count, uint64_t weight)
{
    uint64_t s = weighted ? weight : count, top = weighted ? b->weight : b->count;
    if (!b->found || s > top) {
        *b = (best){ .found = 1, .at = at, .count = count, .weight = weight };
        return;
    }
    if (s == top && !agree(&res[at], &res[b->at], tol))
        b->tied = 1;
}

/* Bytes: groups of equal outputs are contiguous; each group is one candidate. */
static void scan_groups(const hv_agent_result *res, const uint16_t *idx, size_t m, int weighted,
                        best *b)
{
    for (size_t g = 0; g < m;) {
        size_t e = g;
        uint64_t w = 0;
        while (e < m && agree(&res[idx[g]], &res[idx[e]], -1))
            w += res[idx[e++]].weight;
        offer(b, res, -1, weighted, idx[g], (uint32_t)(e - g), w);
        g = e;
    }
}

/* Numbers: the results agreeing with candidate i form a window [lo, hi] of the sorted order
 * that only moves forward as i does. */
static void scan_windows(const hv_agent_result *res, const uint16_t *idx, size_t m, double tol,
                         int weighted, best *b)
{
    size_t lo = 0, hi = 0; /* window [lo, hi) */
    uint64_t w = 0;
    for (size_t i = 0; i < m; i++) {
        while (hi < m && agree(&res[idx[i]], &res[idx[hi]], tol))
            w += res[idx[hi++]].weight;
        while (!agree(&res[idx[i]], &res[idx[lo]], tol))
            w -= res[idx[lo++]].weight;
        offer(b, res, tol, weighted, idx[i], (uint32_t)(hi - lo), w);
    }
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
    int numeric = o->tolerance >= 0, weighted = o->rule == HV_RESULT_WEIGHTED;
    uint16_t idx[HV_RESULT_VOTE_MAX];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        d->total_weight += res[i].weight;
        if (valid_result(&res[i], numeric))
            idx[m++] = (uint16_t)i;
    }
    d->failed = (uint32_t)(n - m);
    sort_idx(res, o->tolerance, idx, m);
    best b = { 0 };
    if (numeric)
        scan_windows(res, idx, m, o->tolerance, weighted, &b);
    else
        scan_groups(res, idx, m, weighted, &b);
    d->winner = b.at;
    d->tied = b.tied;
    d->support = b.count;
    d->support_weight = b.weight;
    fill_bound(o, d);
    d->agreed = b.found && d->agreed;
    return 0;
}

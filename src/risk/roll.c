/*
 * Rolling-window VaR / ES in O(log window) per return: a ring of returns, a pair of indexed
 * heaps splitting the window's losses into the k largest and the rest, and compensated
 * running sums rebuilt once per window so rounding cannot drift.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "risk/risk_int.h"

enum { SIDE_REST = 0, SIDE_TOP = 1 };

/* Both heaps are max-heaps on a key: the top heap keys a slot by its return (its root is the
 * smallest loss among the k largest, the VaR), the rest heap by minus its return (its root is
 * the largest loss outside the tail). */
static double key(const hv_var_roll *r, int side, uint32_t slot)
{
    return side == SIDE_TOP ? r->ring[slot] : -r->ring[slot];
}

static uint32_t *heap(hv_var_roll *r, int side)
{
    return side == SIDE_TOP ? r->heap_t : r->heap_r;
}

static size_t *count(hv_var_roll *r, int side)
{
    return side == SIDE_TOP ? &r->nt : &r->nr;
}

static void place(hv_var_roll *r, int side, size_t idx, uint32_t slot)
{
    heap(r, side)[idx] = slot;
    r->pos[slot] = (uint32_t)idx;
    r->side[slot] = (uint8_t)side;
}

static void sift_up(hv_var_roll *r, int side, size_t idx)
{
    uint32_t *h = heap(r, side), slot = h[idx];
    double k = key(r, side, slot);
    while (idx > 0) {
        size_t parent = (idx - 1) / 2;
        if (key(r, side, h[parent]) >= k)
            break;
        place(r, side, idx, h[parent]);
        idx = parent;
    }
    place(r, side, idx, slot);
}

static void sift_down(hv_var_roll *r, int side, size_t idx)
{
    uint32_t *h = heap(r, side), slot = h[idx];
    size_t n = *count(r, side);
    double k = key(r, side, slot);
    for (;;) {
        size_t c = 2 * idx + 1;
        if (c >= n)
            break;
        if (c + 1 < n && key(r, side, h[c + 1]) > key(r, side, h[c]))
            c++;
        if (k >= key(r, side, h[c]))
            break;
        place(r, side, idx, h[c]);
        idx = c;
    }
    place(r, side, idx, slot);
}

static void heap_insert(hv_var_roll *r, int side, uint32_t slot)
{
    size_t *n = count(r, side);
    place(r, side, (*n)++, slot);
    sift_up(r, side, *n - 1);
}

static void heap_remove_at(hv_var_roll *r, int side, size_t idx)
{
    size_t *n = count(r, side);
    uint32_t last = heap(r, side)[--*n];
    if (idx == *n)
        return;
    place(r, side, idx, last);
    sift_up(r, side, idx);
    sift_down(r, side, r->pos[last]);
}

static uint32_t heap_pop(hv_var_roll *r, int side)
{
    uint32_t root = heap(r, side)[0];
    heap_remove_at(r, side, 0);
    return root;
}

static void add_powers(hv_var_roll *r, double x, double sign)
{
    double d = x - r->shift, p = d;
    for (int j = 0; j < 4; j++) {
        hv__nadd(&r->ps[j], &r->pc[j], sign * p);
        p *= d;
    }
}

/* Recomputes the shift, the power sums and the tail sum from the ring. O(window). */
static void rebuild(hv_var_roll *r)
{
    double s = 0;
    for (size_t i = 0; i < r->n; i++)
        s += r->ring[i];
    r->shift = r->n ? s / (double)r->n : 0;
    memset(r->ps, 0, sizeof(r->ps));
    memset(r->pc, 0, sizeof(r->pc));
    for (size_t i = 0; i < r->n; i++)
        add_powers(r, r->ring[i], 1);
    r->top_sum = 0;
    r->top_comp = 0;
    for (size_t i = 0; i < r->nt; i++)
        hv__nadd(&r->top_sum, &r->top_comp, -r->ring[r->heap_t[i]]);
    r->since_rebuild = 0;
}

int hv_var_roll_init(hv_var_roll *r, size_t window, double q)
{
    if (r == NULL)
        return HV_EINVAL;
    memset(r, 0, sizeof(*r));
    if (!hv__conf_ok(q))
        return HV_EBADCONF;
    if (window == 0 || window > HV_VAR_WINDOW_MAX)
        return HV_EINVAL;
    size_t bytes = window * (sizeof(double) + 3 * sizeof(uint32_t) + 1);
    char *mem = malloc(bytes);
    if (mem == NULL)
        return HV_ENOMEM;
    r->ring = (double *)mem;
    r->heap_t = (uint32_t *)(mem + window * sizeof(double));
    r->heap_r = r->heap_t + window;
    r->pos = r->heap_r + window;
    r->side = (uint8_t *)(r->pos + window);
    r->window = window;
    r->q = q;
    return 0;
}

void hv_var_roll_fini(hv_var_roll *r)
{
    free(r->ring);
    memset(r, 0, sizeof(*r));
}

void hv_var_roll_reset(hv_var_roll *r)
{
    r->n = r->head = r->k = r->nt = r->nr = 0;
    r->pushes = 0;
    rebuild(r);
}

/* Moves values across the split until the top heap holds exactly k. */
static void rebalance(hv_var_roll *r)
{
    while (r->nt > r->k) {
        uint32_t s = heap_pop(r, SIDE_TOP);
        hv__nadd(&r->top_sum, &r->top_comp, r->ring[s]);
        heap_insert(r, SIDE_REST, s);
    }
    while (r->nt < r->k && r->nr > 0) {
        uint32_t s = heap_pop(r, SIDE_REST);
        hv__nadd(&r->top_sum, &r->top_comp, -r->ring[s]);
        heap_insert(r, SIDE_TOP, s);
    }
}

static void evict(hv_var_roll *r, uint32_t slot)
{
    double x = r->ring[slot];
    if (r->side[slot] == SIDE_TOP)
        hv__nadd(&r->top_sum, &r->top_comp, x);
    heap_remove_at(r, r->side[slot], r->pos[slot]);
    add_powers(r, x, -1);
    r->n--;
}

int hv_var_roll_push(hv_var_roll *r, double ret)
{
    if (!isfinite(ret))
        return HV_EINVAL;
    if (fabs(ret) > HV_VAR_RETURN_MAX)
        return HV_ERANGE;
    uint32_t slot = (uint32_t)r->head;
    if (r->n == r->window)
        evict(r, slot);
    r->ring[slot] = ret;
    r->head = r->head + 1 == r->window ? 0 : r->head + 1;
    r->n++;
    add_powers(r, ret, 1);
    /* A loss above the smallest of the tail joins the tail; rebalance restores its size. */
    if (r->nt > 0 && -ret > -r->ring[r->heap_t[0]]) {
        hv__nadd(&r->top_sum, &r->top_comp, -ret);
        heap_insert(r, SIDE_TOP, slot);
    } else {
        heap_insert(r, SIDE_REST, slot);
    }
    r->k = hv__var_tail_k(r->n, r->q);
    rebalance(r);
    r->pushes++;
    if (++r->since_rebuild >= r->window)
        rebuild(r);
    return 0;
}

int hv_var_roll_historical(const hv_var_roll *r, hv_var_es *out)
{
    if (r->n < HV_VAR_MIN_OBS_HISTORICAL || !hv__var_tail_ok(r->n, r->q))
        return HV_ETOOFEWOBS;
    out->var = -r->ring[r->heap_t[0]];
    out->es = (r->top_sum + r->top_comp) / (double)r->k;
    return 0;
}

int hv_var_roll_moments(const hv_var_roll *r, double *mean, double *sd, double *skew,
                        double *exkurt)
{
    if (r->n < 2)
        return HV_ETOOFEWOBS;
    double n = (double)r->n, s[4];
    for (int j = 0; j < 4; j++)
        s[j] = (r->ps[j] + r->pc[j]) / n;
    double md = s[0], md2 = md * md;
    double m2 = s[1] - md2;
    double m3 = s[2] - 3 * md * s[1] + 2 * md2 * md;
    double m4 = s[3] - 4 * md * s[2] + 6 * md2 * s[1] - 3 * md2 * md2;
    /* A variance within rounding of zero is zero (a constant window). */
    if (m2 <= 16 * DBL_EPSILON * s[1])
        m2 = 0;
    if (mean != NULL)
        *mean = r->shift + md;
    if (sd != NULL)
        *sd = sqrt(m2 * n / (n - 1));
    if (skew != NULL)
        *skew = m2 > 0 ? m3 / (m2 * sqrt(m2)) : 0;
    if (exkurt != NULL)
        *exkurt = m2 > 0 ? m4 / (m2 * m2) - 3 : 0;
    return 0;
}

int hv_var_roll_gaussian(const hv_var_roll *r, hv_var_es *out)
{
    double m, sd;
    int rv = hv_var_roll_moments(r, &m, &sd, NULL, NULL);
    if (rv != 0)
        return rv;
    return hv_var_gaussian_params(m, sd, r->q, out);
}

int hv_var_roll_cornish_fisher(const hv_var_roll *r, hv_var_es *out)
{
    if (r->n < HV_VAR_MIN_OBS_CF)
        return HV_ETOOFEWOBS;
    double m, sd, sk, ku;
    int rv = hv_var_roll_moments(r, &m, &sd, &sk, &ku);
    if (rv != 0)
        return rv;
    return hv_var_cornish_fisher_params(m, sd, sk, ku, r->q, out);
}

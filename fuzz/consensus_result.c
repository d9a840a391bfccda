/*
 * Fuzzes result voting with arbitrary agent outputs (bytes or numbers, weights, failures,
 * rules and thresholds). Checks that nothing crashes and that the decision is consistent:
 * the winner is a valid result, its support is what agreeing results add up to, the outcome
 * follows the rule, and reversing the input order changes nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hivewire/consensus.h>

#define RESULTS_MAX 64

#define check(ok) check_at((ok), __LINE__)

static void check_at(int ok, int line)
{
    if (ok)
        return;
    fprintf(stderr, "consensus_result fuzz: invariant at line %d violated\n", line);
    abort();
}

static int agree(const hv_agent_result *x, const hv_agent_result *y, double tol)
{
    if (tol >= 0)
        return fabs(x->value - y->value) <= tol;
    return x->output_len == y->output_len &&
           (x->output_len == 0 || memcmp(x->output, y->output, x->output_len) == 0);
}

static int valid(const hv_agent_result *r, double tol)
{
    return r->success && (tol < 0 || isfinite(r->value));
}

static void check_decision(const hv_agent_result *r, size_t n, const hv_result_opts *o,
                           const hv_result_decision *d)
{
    check(d->n == n && d->failed <= n);
    if (d->failed == n) {
        check(!d->agreed);
        return;
    }
    check(d->winner < n && valid(&r[d->winner], o->tolerance));
    uint32_t cnt = 0;
    uint64_t w = 0;
    for (size_t j = 0; j < n; j++) {
        if (valid(&r[j], o->tolerance) && agree(&r[d->winner], &r[j], o->tolerance)) {
            cnt++;
            w += r[j].weight;
        }
    }
    check(cnt == d->support && w == d->support_weight);
    if (o->rule == HV_RESULT_UNANIMOUS)
        check(d->agreed == (cnt == n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    hv_result_opts o = { .size = sizeof(hv_result_opts),
                         .rule = (hv_result_rule)(data[0] % 4),
                         .num = data[1] % 8,
                         .den = data[2] % 8,
                         .tolerance = data[3] & 0x80 ? -1.0 : (double)(data[3] & 0x7f) / 16 };
    data += 4;
    size -= 4;
    hv_agent_result r[RESULTS_MAX], rev[RESULTS_MAX];
    size_t n = 0;
    while (size >= 4 && n < RESULTS_MAX) {
        size_t len = data[3] % 5 < size - 4 ? data[3] % 5 : size - 4;
        double v = (double)(int8_t)data[2] / 4;
        if (data[1] == 0xff)
            v = data[2] & 1 ? NAN : INFINITY;
        r[n] = (hv_agent_result){ .agent = data[0],
                                  .weight = data[1] % 5,
                                  .success = (data[1] & 0x40) == 0,
                                  .output = data + 4,
                                  .output_len = len,
                                  .value = v };
        n++;
        data += 4 + len;
        size -= 4 + len;
    }
    hv_result_decision d, dr;
    int rv = hv_result_vote(r, n, &o, &d);
    if (rv != 0) {
        check(rv == HV_EINVAL || rv == HV_ETOOFEWVOTERS);
        return 0;
    }
    check_decision(r, n, &o, &d);
    for (size_t i = 0; i < n; i++)
        rev[i] = r[n - 1 - i];
    check(hv_result_vote(rev, n, &o, &dr) == 0);
    /* Order independence holds when agent ids are distinct (they are the last tie-break). */
    int distinct = 1;
    for (size_t i = 0; i < n && distinct; i++)
        for (size_t j = i + 1; j < n; j++)
            distinct &= r[i].agent != r[j].agent;
    if (distinct && d.failed < n) {
        check(rev[dr.winner].agent == r[d.winner].agent);
        check(dr.support == d.support && dr.agreed == d.agreed && dr.tied == d.tied);
    }
    return 0;
}

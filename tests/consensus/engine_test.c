#include "hv_test.h"

#include <hivewire/rng.h>

#include "fixture.h"

enum { A = HV_CHOICE_APPROVE, R = HV_CHOICE_REJECT, B = HV_CHOICE_ABSTAIN };

static int setup(void **state)
{
    static fx f;
    if (fx_init(&f, 0) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int setup_no_early(void **state)
{
    static fx f;
    if (fx_init(&f, HV_CONSENSUS_NO_EARLY) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx_fini(*state);
    return 0;
}

static void cast_ok(fx *f, uint64_t pid, uint64_t voter, uint8_t choice, int bft, hv_decision *d)
{
    assert_int_equal(fx_cast(f, pid, voter, choice, bft, 10, d), 0);
}

static uint8_t outcome_of(fx *f, uint64_t pid)
{
    hv_proposal_status st;
    assert_int_equal(hv_consensus_status(f->c, pid, &st), 0);
    return st.outcome;
}

/* ---- bounds, both sides ---- */

static void majority_accepts_once_approvals_cannot_be_outvoted(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 5), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 3, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.votes_needed, 3);
    assert_int_equal(d.reason, HV_REASON_EARLY);
}

static void majority_tie_is_rejected(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 4), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, R, 0, &d);
    cast_ok(f, 1, 3, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 4, R, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.reason, HV_REASON_ALL_VOTED);
}

static void majority_abstentions_make_quorum_but_not_approval(void **state)
{
    fx *f = *state;
    hv_decision d, out[2];
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 5), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, B, 0, &d);
    cast_ok(f, 1, 3, B, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING); /* 2 outstanding could still reject */
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 2), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_ACCEPTED); /* quorum 3 met, 1 > 0 */
    assert_int_equal(out[0].abstentions, 2);
}

static void majority_below_quorum_at_deadline_is_no_quorum(void **state)
{
    fx *f = *state;
    hv_decision d, out[2];
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 5), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 2), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_NO_QUORUM);
    assert_int_equal(out[0].reason, HV_REASON_DEADLINE);
}

static void simple_majority_needs_more_than_half_of_all_eligible(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 4), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 3, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(fx_open(f, 2, HV_RULE_SIMPLE_MAJORITY, 0, 0, 4), 0);
    cast_ok(f, 2, 1, A, 0, &d);
    cast_ok(f, 2, 2, A, 0, &d);
    cast_ok(f, 2, 3, B, 0, &d); /* an abstention is not an approval */
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 2, 4, B, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
}

static void two_thirds_threshold_refuses_two_of_four(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_THRESHOLD, 2, 3, 4), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    cast_ok(f, 1, 3, R, 0, &d);
    cast_ok(f, 1, 4, B, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.bound, 3);
    assert_int_equal(fx_open(f, 2, HV_RULE_THRESHOLD, 2, 3, 4), 0);
    cast_ok(f, 2, 1, A, 0, &d);
    cast_ok(f, 2, 2, A, 0, &d);
    cast_ok(f, 2, 3, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
}

static void threshold_three_quarters_of_eight_needs_six(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_THRESHOLD, 3, 4, 8), 0);
    for (uint64_t v = 1; v <= 5; v++)
        cast_ok(f, 1, v, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 6, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.votes_needed, 6);
}

static void weighted_needs_more_than_half_of_the_weight(void **state)
{
    fx *f = *state;
    hv_decision d;
    f->voters[0].weight = 3; /* weights 3,1,1,1: total 6, bound 4 */
    assert_int_equal(fx_open(f, 1, HV_RULE_WEIGHTED, 0, 0, 4), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING); /* exactly half is not a majority */
    cast_ok(f, 1, 2, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.approve_weight, 4);
    assert_int_equal(d.bound, 4);
    assert_int_equal(fx_open(f, 2, HV_RULE_WEIGHTED, 0, 0, 4), 0);
    cast_ok(f, 2, 1, R, 0, &d); /* 3 of 6 gone: at most 3 left, not > 3 */
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    f->voters[0].weight = 1;
}

static void weighted_abstaining_weight_is_not_approval(void **state)
{
    fx *f = *state;
    hv_decision d;
    f->voters[0].weight = 4; /* weights 4,1,1: total 6, bound 4 */
    assert_int_equal(fx_open(f, 1, HV_RULE_WEIGHTED, 0, 0, 3), 0);
    cast_ok(f, 1, 1, B, 0, &d); /* 4 of 6 abstains: at most 2 can approve */
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.approve_weight, 0);
    assert_int_equal(fx_open(f, 2, HV_RULE_WEIGHTED, 2, 3, 3), 0); /* > 2/3 of 6: 5 */
    cast_ok(f, 2, 1, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 2, 2, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.bound, 5);
    f->voters[0].weight = 1;
}

static void majority_quorum_holds_back_early_acceptance(void **state)
{
    fx *f = *state;
    hv_decision d, out[1];
    hv_proposal p = { .id = 1, .voters = f->voters, .nvoters = 5, .deadline_ns = 1000 };
    p.policy = (hv_policy){ .rule = HV_RULE_MAJORITY, .quorum = 5 };
    memcpy(p.payload_hash, f->hash, 32);
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    for (uint64_t v = 1; v <= 4; v++)
        cast_ok(f, 1, v, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING); /* every voter must take part */
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 1), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_NO_QUORUM);
    p.id = 2;
    p.deadline_ns = 2000;
    assert_int_equal(hv_consensus_propose(f->c, &p, 1000), 0);
    cast_ok(f, 2, 1, R, 0, &d);
    for (uint64_t v = 2; v <= 5; v++)
        cast_ok(f, 2, v, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.reason, HV_REASON_ALL_VOTED);
}

static void engine_options_are_checked(void **state)
{
    (void)state;
    hv_consensus *c = NULL;
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    o.size = 8;
    assert_int_equal(hv_consensus_new(&o, &c), HV_EINVAL);
    hv_consensus_opts_default(&o);
    o.proposals_max = 0;
    assert_int_equal(hv_consensus_new(&o, &c), HV_EINVAL);
    hv_consensus_opts_default(&o);
    o.proposal_voters_max = HV_PROPOSAL_VOTERS_MAX + 1;
    assert_int_equal(hv_consensus_new(&o, &c), HV_EINVAL);
    hv_consensus_opts_default(&o);
    o.table.crit_policy[HV_CRIT_LOW].rule = HV_RULE_AUTO;
    assert_int_equal(hv_consensus_new(&o, &c), HV_EINVAL);
    hv_consensus_opts_default(&o);
    o.voters_max = 2;
    assert_int_equal(hv_consensus_new(&o, &c), 0);
    assert_int_equal(hv_consensus_add_voter(c, 0, NULL, NULL), HV_EINVAL);
    assert_int_equal(hv_consensus_add_voter(c, 1, NULL, NULL), 0);
    assert_int_equal(hv_consensus_add_voter(c, 1, NULL, NULL), HV_EEXIST);
    assert_int_equal(hv_consensus_add_voter(c, 2, NULL, NULL), 0);
    assert_int_equal(hv_consensus_add_voter(c, 3, NULL, NULL), HV_EFULL);
    hv_voter vs[2] = { { 1, 1 }, { 2, 1 } };
    hv_proposal p = { .id = 1, .voters = vs, .nvoters = 2, .deadline_ns = 10 };
    p.policy.rule = HV_RULE_MAJORITY; /* needs MAC keys, which these voters lack */
    assert_int_equal(hv_consensus_propose(c, &p, 0), HV_EINVAL);
    hv_consensus_free(c);
    hv_consensus_free(NULL);
}

static void unanimous_fails_on_a_single_abstention(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_UNANIMOUS, 0, 0, 3), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, B, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(fx_open(f, 2, HV_RULE_UNANIMOUS, 0, 0, 3), 0);
    for (uint64_t v = 1; v <= 3; v++)
        cast_ok(f, 2, v, A, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
}

static void bft_four_voters_accept_on_three_not_two(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    cast_ok(f, 1, 1, A, 1, &d);
    cast_ok(f, 1, 2, A, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 3, A, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.bound, 3);
    assert_int_equal(fx_open(f, 2, HV_RULE_BFT, 0, 0, 4), 0);
    cast_ok(f, 2, 1, R, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 2, 2, B, 1, &d); /* 2 approvals can no longer reach 3 */
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.votes_needed, 2);
}

static void bft_seven_voters_accept_on_five_not_four(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 7), 0);
    for (uint64_t v = 1; v <= 4; v++)
        cast_ok(f, 1, v, A, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    cast_ok(f, 1, 5, A, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.bound, 5);
}

static void bft_refuses_fewer_than_four_voters(void **state)
{
    fx *f = *state;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 3), HV_ETOOFEWVOTERS);
}

/* Exhaustive: every bound equals the smallest count that satisfies the rule's inequality. */
static void integer_bounds_match_the_inequalities(void **state)
{
    (void)state;
    for (uint32_t n = 1; n <= 40; n++) {
        for (uint32_t den = 1; den <= 12; den++) {
            for (uint32_t num = 1; num <= den; num++) {
                hv_policy p = { .rule = HV_RULE_THRESHOLD, .num = num, .den = den };
                uint64_t b;
                assert_int_equal(hv_policy_bound(&p, n, n, &b), 0);
                for (uint64_t a = 0; a <= n; a++)
                    assert_int_equal(a >= b, a * den >= (uint64_t)num * n);
                if (num == den)
                    continue;
                p.rule = HV_RULE_WEIGHTED;
                assert_int_equal(hv_policy_bound(&p, n, n, &b), 0);
                for (uint64_t a = 0; a <= n; a++)
                    assert_int_equal(a >= b, a * den > (uint64_t)num * n);
            }
        }
        hv_policy bft = { .rule = HV_RULE_BFT };
        uint64_t b;
        if (n < 4) {
            assert_int_equal(hv_policy_bound(&bft, n, n, &b), HV_ETOOFEWVOTERS);
            continue;
        }
        assert_int_equal(hv_policy_bound(&bft, n, n, &b), 0);
        uint32_t f = (n - 1) / 3;
        assert_true(2 * b > n + f); /* two quorums share > f voters: one is honest */
        if (n == 3 * f + 1)
            assert_int_equal(b, 2 * f + 1);
    }
}

/* ---- early termination ---- */

static void early_termination_records_votes_needed_and_saved(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 7), 0);
    for (uint64_t v = 1; v <= 4; v++)
        cast_ok(f, 1, v, R, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.votes_needed, 4);
    assert_int_equal(d.reason, HV_REASON_EARLY);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.votes_saved, 3);
    assert_int_equal(st.decided_early, 1);
}

static void without_early_termination_all_votes_are_awaited(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 5), 0);
    for (uint64_t v = 1; v <= 4; v++) {
        cast_ok(f, 1, v, A, 0, &d);
        assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    }
    cast_ok(f, 1, 5, R, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(d.reason, HV_REASON_ALL_VOTED);
    assert_int_equal(d.votes_needed, 5);
}

/* Property: for random rules, voter counts and vote sequences (honest, no equivocation), an
 * engine with early termination reaches the same outcome as one without. */
static void early_termination_never_changes_the_outcome(void **state)
{
    (void)state;
    fx on, off;
    assert_int_equal(fx_init(&on, 0), 0);
    assert_int_equal(fx_init(&off, HV_CONSENSUS_NO_EARLY), 0);
    hv_rng rng;
    hv_rng_seed(&rng, 42);
    static const hv_rule rules[] = { HV_RULE_MAJORITY, HV_RULE_SIMPLE_MAJORITY, HV_RULE_THRESHOLD,
                                     HV_RULE_WEIGHTED, HV_RULE_UNANIMOUS,       HV_RULE_BFT };
    for (uint64_t pid = 1; pid <= 3000; pid++) {
        hv_rule rule = rules[hv_rng_below(&rng, 6)];
        uint32_t n = 4 + (uint32_t)hv_rng_below(&rng, 9), den = 1 + hv_rng_below(&rng, 9);
        uint32_t num = 1 + (uint32_t)hv_rng_below(&rng, den);
        if (rule == HV_RULE_WEIGHTED && num == den) {
            num = den - 1;
            den = num == 0 ? 0 : den; /* 0/0: the default, more than half */
        }
        for (uint32_t i = 0; i < n; i++)
            on.voters[i].weight = off.voters[i].weight = 1 + (uint32_t)hv_rng_below(&rng, 5);
        uint64_t t0 = (pid - 1) * 1000; /* each proposal opens where the last one's time ended */
        assert_int_equal(fx_open_at(&on, pid, rule, num, den, n, t0), 0);
        assert_int_equal(fx_open_at(&off, pid, rule, num, den, n, t0), 0);
        uint64_t approve_bias = hv_rng_below(&rng, 4);
        int bft = rule == HV_RULE_BFT;
        for (uint64_t v = 1; v <= n; v++) {
            if (hv_rng_below(&rng, 6) == 0)
                continue; /* this voter never votes */
            uint64_t x = hv_rng_below(&rng, 4);
            uint8_t ch = x < approve_bias ? A : x == 3 ? B : R;
            hv_decision d;
            int r1 = fx_cast(&on, pid, v, ch, bft, t0 + 10, &d);
            assert_true(r1 == 0 || r1 == HV_EPROPOSALCLOSED);
            assert_int_equal(fx_cast(&off, pid, v, ch, bft, t0 + 10, &d), 0);
        }
        hv_decision out[8];
        hv_consensus_tick(on.c, t0 + 1000, out, 8);
        hv_consensus_tick(off.c, t0 + 1000, out, 8);
        assert_int_equal(outcome_of(&on, pid), outcome_of(&off, pid));
        assert_int_not_equal(outcome_of(&on, pid), HV_OUTCOME_PENDING);
    }
    fx_fini(&on);
    fx_fini(&off);
}

/* ---- deadlines ---- */

static void deadline_states_no_quorum_when_acceptance_was_still_possible(void **state)
{
    fx *f = *state;
    hv_decision d, out[4];
    assert_int_equal(fx_open(f, 1, HV_RULE_THRESHOLD, 3, 4, 4), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    assert_int_equal(hv_consensus_tick(f->c, 999, out, 4), 0);
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 4), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_NO_QUORUM);
    assert_int_equal(out[0].decided_ns, 1000);
    assert_int_equal(fx_cast(f, 1, 3, A, 0, 1001, &d), HV_EPROPOSALCLOSED);
}

static void deadline_rejects_when_acceptance_was_impossible(void **state)
{
    fx *f = *state;
    hv_decision d, out[4];
    assert_int_equal(fx_open(f, 1, HV_RULE_THRESHOLD, 3, 4, 4), 0);
    cast_ok(f, 1, 1, R, 0, &d);
    cast_ok(f, 1, 2, R, 0, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING); /* no early termination here */
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 4), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_REJECTED);
}

static void deadline_accepts_when_the_bound_is_met(void **state)
{
    fx *f = *state;
    hv_decision d, out[4];
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 5), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d);
    cast_ok(f, 1, 3, R, 0, &d);
    assert_int_equal(hv_consensus_tick(f->c, 5000, out, 4), 1);
    assert_int_equal(out[0].outcome, HV_OUTCOME_ACCEPTED);
}

static void a_late_vote_before_the_tick_is_not_counted(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 3), 0);
    cast_ok(f, 1, 1, A, 0, &d);
    assert_int_equal(fx_cast(f, 1, 2, A, 0, 1000, &d), HV_EPROPOSALCLOSED);
    assert_int_equal(d.outcome, HV_OUTCOME_NO_QUORUM); /* decided as of the deadline */
    assert_int_equal(d.reason, HV_REASON_DEADLINE);
    assert_int_equal(d.decided_ns, 1000);
    assert_int_equal(d.approvals, 1);
    hv_decision out[1];
    assert_int_equal(hv_consensus_tick(f->c, 2000, out, 1), 0);
}

static void late_tick_dates_the_decision_at_the_deadline(void **state)
{
    fx *f = *state;
    hv_decision out[1];
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 3), 0);
    assert_int_equal(hv_consensus_tick(f->c, 5000, out, 1), 1);
    assert_int_equal(out[0].decided_ns, 1000);
}

static void next_deadline_is_the_earliest_open_one(void **state)
{
    fx *f = *state;
    assert_int_equal(hv_consensus_next_deadline(f->c), UINT64_MAX);
    static const uint64_t dl[] = { 500, 300, 900, 700 };
    for (uint64_t i = 0; i < 4; i++) {
        hv_proposal p = { .id = i + 1, .voters = f->voters, .nvoters = 3, .deadline_ns = dl[i] };
        p.policy.rule = HV_RULE_SIMPLE_MAJORITY;
        memcpy(p.payload_hash, f->hash, 32);
        assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    }
    assert_int_equal(hv_consensus_next_deadline(f->c), 300);
    hv_decision d, out[1];
    cast_ok(f, 1, 1, A, 0, &d);
    cast_ok(f, 1, 2, A, 0, &d); /* proposal 1 (deadline 500) decided early */
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(hv_consensus_tick(f->c, 800, out, 1), 1); /* cap respected */
    assert_int_equal(out[0].proposal_id, 2);
    assert_int_equal(hv_consensus_next_deadline(f->c), 700);
    assert_int_equal(hv_consensus_tick(f->c, 800, out, 1), 1);
    assert_int_equal(out[0].proposal_id, 4);
    assert_int_equal(hv_consensus_next_deadline(f->c), 900);
}

/* ---- errors ---- */

static void propose_refuses_bad_proposals(void **state)
{
    fx *f = *state;
    hv_proposal p = { .id = 1, .voters = f->voters, .nvoters = 3, .deadline_ns = 100 };
    p.policy.rule = HV_RULE_SIMPLE_MAJORITY;
    p.id = 0;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_EINVAL);
    p.id = 1;
    p.action = HV_ACTION_MAX;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_ERANGE);
    p.action = 0;
    p.policy = (hv_policy){ .rule = HV_RULE_THRESHOLD, .num = 5, .den = 4 };
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_EINVAL);
    p.policy = (hv_policy){ .rule = HV_RULE_MAJORITY, .quorum = 4 };
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_ETOOFEWVOTERS);
    hv_voter dup[2] = { { 1, 1 }, { 1, 1 } };
    p.policy = (hv_policy){ .rule = HV_RULE_MAJORITY };
    p.voters = dup;
    p.nvoters = 2;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_EINVAL);
    hv_voter stranger[1] = { { 1000, 1 } };
    p.voters = stranger;
    p.nvoters = 1;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_ENOAGENT);
    p.voters = f->voters;
    p.nvoters = 3;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), HV_EEXIST);
    p.id = 2;
    assert_int_equal(hv_consensus_propose(f->c, &p, 100), HV_EINVAL); /* deadline passed */
}

static void votes_get_a_distinct_error_per_fault(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 3), 0);
    assert_int_equal(fx_cast(f, 2, 1, A, 0, 10, &d), HV_ENOPROPOSAL);
    assert_int_equal(fx_cast(f, 1, 9, A, 0, 10, &d), HV_ENOTELIGIBLE);
    assert_int_equal(fx_cast(f, 1, 1, 7, 0, 10, &d), HV_EINVAL);
    hv_vote v = fx_vote(f, 1, 1, A, 0);
    v.round = 3;
    hv_vote_mac(&v, f->mac[1]);
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EVOTEMISMATCH);
    v = fx_vote(f, 1, 1, A, 0);
    v.payload_hash[5] ^= 1;
    hv_vote_mac(&v, f->mac[1]);
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EVOTEMISMATCH);
    assert_int_equal(fx_cast(f, 1, 1, A, 0, 10, &d), 0);
    assert_int_equal(fx_cast(f, 1, 1, A, 0, 10, &d), HV_EDUPVOTE);
    assert_int_equal(fx_cast(f, 1, 1, R, 0, 10, &d), HV_EDUPVOTE); /* non-BFT: first stands */
    assert_int_equal(fx_cast(f, 1, 2, A, 0, 10, &d), 0);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(fx_cast(f, 1, 3, A, 0, 10, &d), HV_EPROPOSALCLOSED);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.no_proposal, 1);
    assert_int_equal(st.not_eligible, 1);
    assert_int_equal(st.mismatch, 2);
    assert_int_equal(st.dup, 2);
    assert_int_equal(st.closed, 1);
    assert_int_equal(st.votes, 2);
}

static void status_and_exclusion_queries_report_unknowns(void **state)
{
    fx *f = *state;
    hv_proposal_status st;
    assert_int_equal(hv_consensus_status(f->c, 5, &st), HV_ENOPROPOSAL);
    assert_int_equal(hv_consensus_is_excluded(f->c, 5, 1), HV_ENOPROPOSAL);
    assert_int_equal(fx_open(f, 5, HV_RULE_BFT, 0, 0, 4), 0);
    assert_int_equal(hv_consensus_is_excluded(f->c, 5, 9), HV_ENOTELIGIBLE);
    assert_int_equal(hv_consensus_status(f->c, 5, &st), 0);
    assert_int_equal(st.outcome, HV_OUTCOME_PENDING);
    assert_int_equal(st.eligible, 4);
    assert_int_equal(st.deadline_ns, 1000);
    assert_int_equal(hv_consensus_next_deadline(f->c), 1000);
}

static void full_table_forgets_the_oldest_closed_proposal(void **state)
{
    fx *f = *state;
    hv_decision d;
    for (uint64_t id = 1; id <= 8; id++)
        assert_int_equal(fx_open(f, id, HV_RULE_SIMPLE_MAJORITY, 0, 0, 1), 0);
    assert_int_equal(fx_open(f, 9, HV_RULE_SIMPLE_MAJORITY, 0, 0, 1), HV_EFULL);
    cast_ok(f, 3, 1, A, 0, &d);
    cast_ok(f, 5, 1, A, 0, &d);
    /* A refused proposal does not cost a remembered one its slot. */
    assert_int_equal(fx_open(f, 9, HV_RULE_BFT, 0, 0, 1), HV_ETOOFEWVOTERS);
    assert_int_equal(fx_cast(f, 3, 1, A, 0, 10, &d), HV_EPROPOSALCLOSED);
    assert_int_equal(fx_open(f, 9, HV_RULE_SIMPLE_MAJORITY, 0, 0, 1), 0);
    assert_int_equal(fx_cast(f, 3, 1, A, 0, 10, &d), HV_ENOPROPOSAL); /* forgotten */
    assert_int_equal(fx_cast(f, 5, 1, A, 0, 10, &d), HV_EPROPOSALCLOSED);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.forgotten, 1);
    assert_int_equal(st.open, 7);
}

/* ---- authentication ---- */

static void bft_vote_with_a_flipped_bit_is_refused_and_not_counted(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    hv_vote v = fx_vote(f, 1, 1, A, 1);
    v.sig[10] ^= 0x20;
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EBADSIG);
    hv_proposal_status st;
    hv_consensus_status(f->c, 1, &st);
    assert_int_equal(st.approvals, 0);
    v.sig[10] ^= 0x20;
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), 0); /* the genuine one still counts */
}

static void bft_vote_signed_with_another_voters_key_is_forged(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    hv_vote v = fx_vote(f, 1, 1, A, 0);
    hv_vote_sign(&v, f->sk[2]);
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EBADSIG);
    hv_vote m = fx_vote(f, 1, 1, A, 0); /* a MAC where a signature is required */
    assert_int_equal(hv_consensus_vote(f->c, &m, 10, &d), HV_EBADSIG);
}

static void mac_votes_with_a_wrong_key_or_padding_are_refused(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_MAJORITY, 0, 0, 3), 0);
    hv_vote v = fx_vote(f, 1, 1, A, 0);
    hv_vote_mac(&v, f->mac[2]);
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EBADMAC);
    v = fx_vote(f, 1, 1, A, 0);
    v.sig[40] = 1;
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EBADMAC);
    v = fx_vote(f, 1, 1, A, 0);
    v.choice = R; /* MAC was over "approve" */
    assert_int_equal(hv_consensus_vote(f->c, &v, 10, &d), HV_EBADMAC);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.bad_mac, 3);
    assert_int_equal(st.votes, 0);
}

static void no_mac_flag_counts_unauthenticated_votes(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_init(&f, HV_CONSENSUS_NO_MAC), 0);
    hv_decision d;
    assert_int_equal(fx_open(&f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 1), 0);
    hv_vote v = { .proposal_id = 1, .voter = 1, .choice = A };
    memcpy(v.payload_hash, f.hash, 32);
    assert_int_equal(hv_consensus_vote(f.c, &v, 5, &d), 0);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    fx_fini(&f);
}

static void preverified_flag_leaves_bft_signature_checks_to_the_caller(void **state)
{
    (void)state;
    fx f;
    assert_int_equal(fx_init(&f, HV_CONSENSUS_SIGS_PREVERIFIED), 0);
    hv_decision d;
    assert_int_equal(fx_open(&f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    hv_vote v = fx_vote(&f, 1, 1, A, 1);
    assert_int_equal(hv_vote_verify(&v, f.pk[1]), 0); /* what the caller must do */
    assert_int_equal(hv_consensus_vote(f.c, &v, 5, &d), 0);
    hv_vote w = fx_vote(&f, 1, 1, R, 1); /* equivocation is still detected */
    assert_int_equal(hv_consensus_vote(f.c, &w, 6, &d), HV_EEQUIVOCATION);
    hv_vote m = fx_vote(&f, 1, 2, A, 0); /* MACs of other rules are still checked */
    assert_int_equal(fx_open(&f, 2, HV_RULE_MAJORITY, 0, 0, 3), 0);
    m.proposal_id = 2;
    assert_int_equal(hv_consensus_vote(f.c, &m, 7, &d), HV_EBADMAC);
    fx_fini(&f);
}

/* ---- equivocation ---- */

static int ev_calls;
static uint64_t ev_voter;

static void on_ev(void *user, const hv_evidence *ev)
{
    (void)user;
    ev_calls++;
    ev_voter = ev->voter;
}

static void equivocation_keeps_both_votes_and_excludes_the_voter(void **state)
{
    (void)state;
    fx f;
    memset(&f, 0, sizeof(f));
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    o.on_equivocation = on_ev;
    assert_int_equal(hv_consensus_new(&o, &f.c), 0);
    for (uint64_t id = 1; id <= 4; id++) {
        fx_keys(&f, id);
        f.voters[id - 1] = (hv_voter){ id, 1 };
        assert_int_equal(hv_consensus_add_voter(f.c, id, f.pk[id], NULL), 0);
    }
    memset(f.hash, 0x77, 32);
    ev_calls = 0;
    hv_decision d;
    assert_int_equal(fx_open(&f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    hv_vote first = fx_vote(&f, 1, 2, A, 1), second = fx_vote(&f, 1, 2, R, 1);
    assert_int_equal(hv_consensus_vote(f.c, &first, 10, &d), 0);
    assert_int_equal(hv_consensus_vote(f.c, &second, 11, &d), HV_EEQUIVOCATION);
    assert_int_equal(ev_calls, 1);
    assert_int_equal(ev_voter, 2);
    assert_int_equal(hv_consensus_is_excluded(f.c, 1, 2), 1);
    assert_int_equal(hv_consensus_is_excluded(f.c, 1, 3), 0);
    hv_evidence ev;
    assert_int_equal(hv_consensus_evidence_count(f.c), 1);
    assert_int_equal(hv_consensus_evidence_get(f.c, 0, &ev), 0);
    assert_int_equal(ev.proposal_id, 1);
    assert_int_equal(ev.choice[0], A);
    assert_int_equal(ev.choice[1], R);
    assert_memory_equal(ev.sig[0], first.sig, 64);
    assert_memory_equal(ev.sig[1], second.sig, 64);
    assert_int_equal(hv_vote_verify(&second, f.pk[2]), 0);
    hv_proposal_status st;
    hv_consensus_status(f.c, 1, &st);
    assert_int_equal(st.approvals, 0); /* the earlier approval no longer counts */
    assert_int_equal(st.excluded, 1);
    assert_int_equal(hv_consensus_vote(f.c, &first, 12, &d), HV_EEXCLUDED);
    /* 3 of the 3 remaining voters could still reach the bound of 3: still open */
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    hv_consensus_free(f.c);
}

static void equivocation_that_makes_the_bound_unreachable_rejects_at_once(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    cast_ok(f, 1, 1, A, 1, &d);
    cast_ok(f, 1, 2, A, 1, &d);
    cast_ok(f, 1, 3, R, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING);
    assert_int_equal(fx_cast(f, 1, 1, R, 1, 20, &d), HV_EEQUIVOCATION);
    assert_int_equal(d.outcome, HV_OUTCOME_REJECTED);
    assert_int_equal(d.excluded, 1);
    assert_int_equal(d.approvals, 1);
}

static void equivocation_after_the_decision_is_still_evidence(void **state)
{
    fx *f = *state;
    hv_decision d;
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    for (uint64_t v = 1; v <= 3; v++)
        cast_ok(f, 1, v, A, 1, &d);
    assert_int_equal(d.outcome, HV_OUTCOME_ACCEPTED);
    assert_int_equal(fx_cast(f, 1, 2, R, 1, 30, &d), HV_EEQUIVOCATION);
    assert_int_equal(d.outcome, HV_OUTCOME_PENDING); /* the decision stands */
    assert_int_equal(outcome_of(f, 1), HV_OUTCOME_ACCEPTED);
    assert_int_equal(hv_consensus_is_excluded(f->c, 1, 2), 1);
    hv_vote bad = fx_vote(f, 1, 3, R, 1);
    bad.sig[0] ^= 1; /* a forged conflicting vote is not evidence */
    assert_int_equal(hv_consensus_vote(f->c, &bad, 31, &d), HV_EPROPOSALCLOSED);
    assert_int_equal(hv_consensus_evidence_count(f->c), 1);
}

static void evidence_ring_drops_the_oldest_and_counts_it(void **state)
{
    fx *f = *state; /* evidence_max 4 */
    hv_decision d;
    for (uint64_t pid = 1; pid <= 6; pid++) {
        assert_int_equal(fx_open(f, pid, HV_RULE_BFT, 0, 0, 4), 0);
        cast_ok(f, pid, 1, B, 1, &d);
        assert_int_equal(fx_cast(f, pid, 1, R, 1, 10, &d), HV_EEQUIVOCATION);
    }
    assert_int_equal(hv_consensus_evidence_count(f->c), 4);
    hv_evidence ev;
    assert_int_equal(hv_consensus_evidence_get(f->c, 0, &ev), 0);
    assert_int_equal(ev.proposal_id, 3);
    assert_int_equal(hv_consensus_evidence_get(f->c, 3, &ev), 0);
    assert_int_equal(ev.proposal_id, 6);
    assert_int_equal(hv_consensus_evidence_get(f->c, 4, &ev), HV_ERANGE);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.equivocations, 6);
    assert_int_equal(st.evidence_dropped, 2);
}

/* ---- criticality table and stats ---- */

static void auto_rule_comes_from_the_criticality_table(void **state)
{
    fx *f = *state;
    hv_proposal p = { .id = 1,
                      .action = HV_ACTION_ORDER_EXECUTION,
                      .voters = f->voters,
                      .nvoters = 4,
                      .deadline_ns = 100 };
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    p.id = 2;
    p.action = HV_ACTION_PATTERN_MATCH;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    p.id = 3;
    p.action = 17;
    assert_int_equal(hv_consensus_propose(f->c, &p, 0), 0);
    hv_proposal_status st;
    hv_consensus_status(f->c, 1, &st);
    assert_int_equal(st.rule, HV_RULE_BFT);
    assert_int_equal(st.crit, HV_CRIT_CRITICAL);
    hv_consensus_status(f->c, 2, &st);
    assert_int_equal(st.rule, HV_RULE_THRESHOLD);
    assert_int_equal(st.crit, HV_CRIT_MEDIUM);
    hv_consensus_status(f->c, 3, &st);
    assert_int_equal(st.rule, HV_RULE_SIMPLE_MAJORITY);
}

static void overridden_table_changes_the_rule(void **state)
{
    (void)state;
    hv_consensus_opts o;
    hv_consensus_opts_default(&o);
    assert_int_equal(hv_crit_table_set_action(&o.table, HV_ACTION_ORDER_EXECUTION, HV_CRIT_LOW), 0);
    hv_policy maj = { .rule = HV_RULE_MAJORITY, .quorum = 2 };
    assert_int_equal(hv_crit_table_set_policy(&o.table, HV_CRIT_LOW, &maj), 0);
    o.flags = HV_CONSENSUS_NO_MAC;
    hv_consensus *c;
    assert_int_equal(hv_consensus_new(&o, &c), 0);
    hv_voter vs[3] = { { 1, 1 }, { 2, 1 }, { 3, 1 } };
    for (int i = 0; i < 3; i++)
        assert_int_equal(hv_consensus_add_voter(c, vs[i].id, NULL, NULL), 0);
    hv_proposal p = {
        .id = 1, .action = HV_ACTION_ORDER_EXECUTION, .voters = vs, .nvoters = 3, .deadline_ns = 100
    };
    assert_int_equal(hv_consensus_propose(c, &p, 0), 0);
    hv_proposal_status st;
    hv_consensus_status(c, 1, &st);
    assert_int_equal(st.rule, HV_RULE_MAJORITY);
    assert_int_equal(st.crit, HV_CRIT_LOW);
    hv_consensus_free(c);
}

static void stats_count_by_rule_outcome_and_latency(void **state)
{
    fx *f = *state;
    hv_decision d, out[4];
    assert_int_equal(fx_open(f, 1, HV_RULE_BFT, 0, 0, 4), 0);
    assert_int_equal(fx_open(f, 2, HV_RULE_MAJORITY, 0, 0, 3), 0);
    assert_int_equal(fx_open(f, 3, HV_RULE_MAJORITY, 0, 0, 3), 0);
    for (uint64_t v = 1; v <= 3; v++)
        assert_int_equal(fx_cast(f, 1, v, A, 1, 250, &d), 0);
    assert_int_equal(fx_cast(f, 2, 1, R, 0, 300, &d), 0);
    assert_int_equal(fx_cast(f, 2, 2, R, 0, 400, &d), 0);
    assert_int_equal(hv_consensus_tick(f->c, 1000, out, 4), 1);
    hv_consensus_stats st;
    hv_consensus_stats_get(f->c, &st);
    assert_int_equal(st.open, 0);
    assert_int_equal(st.opened[HV_RULE_BFT], 1);
    assert_int_equal(st.opened[HV_RULE_MAJORITY], 2);
    assert_int_equal(st.decided[HV_RULE_BFT][HV_OUTCOME_ACCEPTED], 1);
    assert_int_equal(st.decided[HV_RULE_MAJORITY][HV_OUTCOME_REJECTED], 1);
    assert_int_equal(st.decided[HV_RULE_MAJORITY][HV_OUTCOME_NO_QUORUM], 1);
    assert_int_equal(st.votes, 5);
    assert_int_equal(st.votes_saved, 2);
    const hv_hist *h = hv_consensus_latency(f->c);
    assert_int_equal(h->count, 3);
    assert_int_equal(h->min, 250);
    assert_int_equal(h->max, 1000);
    assert_int_equal(out[0].decided_ns, 1000);
}

#define T(fn)   cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TNE(fn) cmocka_unit_test_setup_teardown(fn, setup_no_early, teardown)

/* Ticks at t_ns[0], then opens a proposal at t_ns[1] (in a forked child). */
static void tick_then_propose(void *arg)
{
    const uint64_t *t_ns = arg;
    fx f;
    hv_decision out[1];
    if (fx_init(&f, 0) != 0)
        exit(3);
    (void)hv_consensus_tick(f.c, t_ns[0], out, 1);
    (void)fx_open_at(&f, 1, HV_RULE_SIMPLE_MAJORITY, 0, 0, 3, t_ns[1]);
    fx_fini(&f);
}

static void the_coordinators_time_never_runs_backwards(void **state)
{
    (void)state;
    const uint64_t still[2] = { 1000, 1000 }, back[2] = { 1000, 999 };
    assert_int_equal(hv_test_aborts(tick_then_propose, (void *)still), 0);
    assert_int_equal(hv_test_aborts(tick_then_propose, (void *)back), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(majority_accepts_once_approvals_cannot_be_outvoted),
        T(majority_tie_is_rejected),
        T(majority_abstentions_make_quorum_but_not_approval),
        T(majority_below_quorum_at_deadline_is_no_quorum),
        T(simple_majority_needs_more_than_half_of_all_eligible),
        T(two_thirds_threshold_refuses_two_of_four),
        T(threshold_three_quarters_of_eight_needs_six),
        T(weighted_needs_more_than_half_of_the_weight),
        T(weighted_abstaining_weight_is_not_approval),
        T(majority_quorum_holds_back_early_acceptance),
        cmocka_unit_test(engine_options_are_checked),
        T(unanimous_fails_on_a_single_abstention),
        T(bft_four_voters_accept_on_three_not_two),
        T(bft_seven_voters_accept_on_five_not_four),
        T(bft_refuses_fewer_than_four_voters),
        cmocka_unit_test(integer_bounds_match_the_inequalities),
        T(early_termination_records_votes_needed_and_saved),
        TNE(without_early_termination_all_votes_are_awaited),
        cmocka_unit_test(early_termination_never_changes_the_outcome),
        T(deadline_states_no_quorum_when_acceptance_was_still_possible),
        TNE(deadline_rejects_when_acceptance_was_impossible),
        T(deadline_accepts_when_the_bound_is_met),
        T(a_late_vote_before_the_tick_is_not_counted),
        T(late_tick_dates_the_decision_at_the_deadline),
        T(next_deadline_is_the_earliest_open_one),
        T(propose_refuses_bad_proposals),
        T(votes_get_a_distinct_error_per_fault),
        T(status_and_exclusion_queries_report_unknowns),
        T(full_table_forgets_the_oldest_closed_proposal),
        T(bft_vote_with_a_flipped_bit_is_refused_and_not_counted),
        T(bft_vote_signed_with_another_voters_key_is_forged),
        T(mac_votes_with_a_wrong_key_or_padding_are_refused),
        cmocka_unit_test(no_mac_flag_counts_unauthenticated_votes),
        cmocka_unit_test(preverified_flag_leaves_bft_signature_checks_to_the_caller),
        cmocka_unit_test(equivocation_keeps_both_votes_and_excludes_the_voter),
        T(equivocation_that_makes_the_bound_unreachable_rejects_at_once),
        T(equivocation_after_the_decision_is_still_evidence),
        T(evidence_ring_drops_the_oldest_and_counts_it),
        T(auto_rule_comes_from_the_criticality_table),
        cmocka_unit_test(overridden_table_changes_the_rule),
        T(stats_count_by_rule_outcome_and_latency),
        cmocka_unit_test(the_coordinators_time_never_runs_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The coordinator's choice of which votes to verify: every vote that can count or be evidence,
 * never one that arrives after the decision and agrees with (or adds to) what was counted. */
#include <string.h>

#include "hv_test.h"

#include <hivewire/swarm.h>

#include "swarm/swarm_int.h"

typedef struct fixture {
    hv_series bars;
    hv_swarm *sw;
} fixture;

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof(f));
    hv_gbm_params p;
    hv_synth g;
    hv_gbm_defaults(&p);
    hv_series_init(&f.bars);
    assert_int_equal(hv_synth_init(&g, &p, 3), 0);
    assert_int_equal(hv_synth_fill(&g, 50, &f.bars), 0);
    hv_swarm_config c;
    hv_swarm_config_default(&c);
    assert_int_equal(hv_swarm_new(&c, f.bars.bars, f.bars.len, &f.sw), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hv_swarm_free(f->sw);
    hv_series_fini(&f->bars);
    return 0;
}

/* Opens proposal id under rule, as the coordinator does (which also resets its record). */
static void open_proposal(hv_swarm *s, uint64_t id, hv_rule rule)
{
    hv_proposal p;
    memset(&p, 0, sizeof(p));
    p.id = id;
    p.action = HV_ACTION_POSITION_CHANGE;
    p.policy.rule = rule;
    memset(p.payload_hash, 0xab, sizeof(p.payload_hash));
    p.voters = s->voters;
    p.nvoters = s->nvoters;
    p.deadline_ns = UINT64_MAX;
    assert_int_equal(hv_consensus_propose(s->cons, &p, 0), 0);
    s->counted_id = id;
    memset(s->counted, 0, sizeof(s->counted));
}

static hv_vote vote(const hv_swarm *s, uint64_t id, uint32_t voter, hv_choice choice)
{
    hv_vote v;
    memset(&v, 0, sizeof(v));
    v.proposal_id = id;
    v.voter = s->voters[voter].id;
    v.choice = (uint8_t)choice;
    memset(v.payload_hash, 0xab, sizeof(v.payload_hash));
    assert_int_equal(hv_vote_sign(&v, s->keys[voter].sk), 0);
    return v;
}

/* Counts v in the engine and in the coordinator's record, as count_vote does. */
static void count(hv_swarm *s, const hv_vote *v)
{
    hv_decision d;
    assert_int_equal(hv_consensus_vote(s->cons, v, 0, &d), 0);
    hv__sw_record_counted(s, v);
}

static void late_votes_are_verified_only_when_they_could_be_evidence(void **state)
{
    fixture *f = *state;
    hv_swarm *s = f->sw;
    assert_int_equal(s->nvoters, 5);
    open_proposal(s, 1, HV_RULE_BFT);
    hv_vote first = vote(s, 1, 0, HV_CHOICE_APPROVE);
    assert_int_equal(hv__sw_vote_check(s, &first), SW_CHECK_SIG); /* open: every vote counts */
    for (uint32_t i = 0; i < 4; i++) {
        hv_vote v = vote(s, 1, i, HV_CHOICE_APPROVE);
        count(s, &v);
    }
    hv_proposal_status ps;
    assert_int_equal(hv_consensus_status(s->cons, 1, &ps), 0);
    assert_int_equal(ps.outcome, HV_OUTCOME_ACCEPTED); /* 4 of 5 under BFT */
    hv_vote fifth = vote(s, 1, 4, HV_CHOICE_REJECT);
    hv_vote again = vote(s, 1, 0, HV_CHOICE_APPROVE);
    hv_vote flip = vote(s, 1, 1, HV_CHOICE_REJECT);
    hv_vote unknown = vote(s, 99, 0, HV_CHOICE_APPROVE);
    assert_int_equal(hv__sw_vote_check(s, &fifth), SW_CHECK_LATE);   /* no counted vote */
    assert_int_equal(hv__sw_vote_check(s, &again), SW_CHECK_LATE);   /* the same choice */
    assert_int_equal(hv__sw_vote_check(s, &flip), SW_CHECK_SIG);     /* equivocation */
    assert_int_equal(hv__sw_vote_check(s, &unknown), SW_CHECK_NONE); /* the engine refuses */
    /* the equivocation, once verified, is evidence in the engine */
    assert_int_equal(hv_consensus_vote(s->cons, &flip, 0, NULL), HV_EEQUIVOCATION);
    /* a newer proposal replaces the record: late votes on the old one are verified again */
    open_proposal(s, 2, HV_RULE_BFT);
    assert_int_equal(hv__sw_vote_check(s, &fifth), SW_CHECK_SIG);
}

static void votes_under_a_mac_rule_go_to_the_engine(void **state)
{
    fixture *f = *state;
    hv_swarm *s = f->sw;
    open_proposal(s, 5, HV_RULE_MAJORITY);
    hv_vote v = vote(s, 5, 2, HV_CHOICE_APPROVE);
    assert_int_equal(hv__sw_vote_check(s, &v), SW_CHECK_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(late_votes_are_verified_only_when_they_could_be_evidence,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(votes_under_a_mac_rule_go_to_the_engine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

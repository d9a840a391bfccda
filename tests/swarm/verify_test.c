/* The coordinator's vote verifier: signatures checked on helper threads, verdicts in order. */
#include <string.h>

#include <sodium.h>

#include "hv_test.h"

#include <hivewire/bus.h>

#include "swarm/swarm_int.h"

typedef struct fixture {
    sw_verifier vf;
    hv_bus *bus;
    hv_agent *coord;
    uint8_t pk[HV_VOTE_PK_BYTES], sk[HV_VOTE_SK_BYTES];
    uint8_t other_pk[HV_VOTE_PK_BYTES], other_sk[HV_VOTE_SK_BYTES];
} fixture;

static int setup(void **state, uint32_t helpers)
{
    static fixture f;
    memset(&f, 0, sizeof(f));
    assert_true(sodium_init() >= 0);
    crypto_sign_keypair(f.pk, f.sk);
    crypto_sign_keypair(f.other_pk, f.other_sk);
    hv_bus_opts bo;
    hv_bus_opts_default(&bo);
    assert_int_equal(hv_bus_new(&f.bus, &bo), 0);
    hv_agent_opts ao;
    hv_agent_opts_default(&ao);
    ao.name = "coordinator";
    ao.wait = HV_WAIT_BLOCK;
    assert_int_equal(hv_agent_new(f.bus, &ao, &f.coord), 0);
    assert_int_equal(hv__sw_verifier_init(&f.vf, helpers), 0);
    assert_int_equal(hv__sw_verifier_start(&f.vf), 0);
    *state = &f;
    return 0;
}

static int setup_helpers(void **state)
{
    return setup(state, 2);
}

static int setup_alone(void **state)
{
    return setup(state, 0);
}

static int teardown(void **state)
{
    fixture *f = *state;
    hv__sw_verifier_stop(&f->vf);
    hv__sw_verifier_fini(&f->vf);
    hv_agent_free(f->coord);
    hv_bus_free(f->bus);
    return 0;
}

static hv_vote make_vote(uint64_t proposal, uint8_t choice, const uint8_t *sk)
{
    hv_vote v;
    memset(&v, 0, sizeof(v));
    v.proposal_id = proposal;
    v.voter = 7;
    v.choice = choice;
    memset(v.payload_hash, 0xab, sizeof(v.payload_hash));
    assert_int_equal(hv_vote_sign(&v, sk), 0);
    return v;
}

/* Waits (bounded) until the oldest job is done, verifying on this thread when one is queued. */
static const sw_vjob *next_done(fixture *f)
{
    for (int i = 0; i < 10000; i++) {
        const sw_vjob *j = hv__sw_verifier_peek(&f->vf);
        if (j != NULL)
            return j;
        if (!hv__sw_verifier_run_one(&f->vf))
            (void)hv__sw_verifier_wait(&f->vf, f->coord, 100000000ull);
    }
    return NULL;
}

/* Good, forged, unknown-voter and unchecked votes, queued together: the verdicts come back in
 * arrival order whichever thread verified each one. */
static void verdicts_come_back_in_arrival_order(void **state)
{
    fixture *f = *state;
    for (uint64_t round = 0; round < 8; round++) {
        hv_vote good = make_vote(10 + round, HV_CHOICE_APPROVE, f->sk);
        hv_vote forged = make_vote(10 + round, HV_CHOICE_REJECT, f->other_sk); /* wrong key */
        hv_vote tampered = good;
        tampered.choice = HV_CHOICE_REJECT; /* signed as approve */
        hv__sw_verifier_push(&f->vf, &good, round, f->pk, 1);
        hv__sw_verifier_push(&f->vf, &forged, round, f->pk, 1);
        hv__sw_verifier_push(&f->vf, &tampered, round, f->pk, 1);
        hv__sw_verifier_push(&f->vf, &good, round, NULL, 1);    /* unknown voter */
        hv__sw_verifier_push(&f->vf, &forged, round, f->pk, 0); /* MAC rule: engine's job */
        const int want[5] = { 1, 0, 0, 0, 1 };
        for (int i = 0; i < 5; i++) {
            const sw_vjob *j = next_done(f);
            assert_non_null(j);
            assert_int_equal(j->ok, want[i]);
            assert_int_equal(j->cycle, round);
            assert_int_equal(j->v.proposal_id, 10 + round);
            hv__sw_verifier_pop(&f->vf);
        }
        assert_true(hv__sw_verifier_empty(&f->vf));
    }
}

/* The ring holds SW_VJOBS jobs and says when it is full; draining frees every slot. */
static void a_full_ring_says_so_and_drains(void **state)
{
    fixture *f = *state;
    hv_vote good = make_vote(3, HV_CHOICE_APPROVE, f->sk);
    for (uint32_t i = 0; i < SW_VJOBS; i++) {
        assert_false(hv__sw_verifier_full(&f->vf));
        hv__sw_verifier_push(&f->vf, &good, i, f->pk, 1);
    }
    assert_true(hv__sw_verifier_full(&f->vf));
    for (uint32_t i = 0; i < SW_VJOBS; i++) {
        const sw_vjob *j = next_done(f);
        assert_non_null(j);
        assert_int_equal(j->ok, 1);
        assert_int_equal(j->cycle, i);
        hv__sw_verifier_pop(&f->vf);
    }
    assert_true(hv__sw_verifier_empty(&f->vf));
}

static int not_proposal_2(void *ud, const sw_vjob *j)
{
    (void)ud;
    return j->v.proposal_id != 2;
}

/* Queued jobs the coordinator no longer needs come back late and unverified, in their place;
 * a job already verified is not touched. */
static void jobs_no_longer_needed_are_dropped_unverified(void **state)
{
    fixture *f = *state;
    hv_vote v1 = make_vote(1, HV_CHOICE_APPROVE, f->sk);
    hv_vote v2 = make_vote(2, HV_CHOICE_APPROVE, f->sk);
    hv_vote v3 = make_vote(3, HV_CHOICE_APPROVE, f->sk);
    hv_vote v2_done = v2;
    hv__sw_verifier_push(&f->vf, &v2_done, 0, f->pk, SW_CHECK_SIG);
    assert_int_equal(hv__sw_verifier_run_one(&f->vf), 1); /* verified before the drop */
    hv__sw_verifier_push(&f->vf, &v1, 1, f->pk, SW_CHECK_SIG);
    hv__sw_verifier_push(&f->vf, &v2, 2, f->pk, SW_CHECK_SIG);
    hv__sw_verifier_push(&f->vf, &v3, 3, f->pk, SW_CHECK_SIG);
    assert_int_equal(hv__sw_verifier_drop(&f->vf, not_proposal_2, NULL), 1);
    const int want_ok[4] = { 1, 1, 0, 1 };
    const int want_check[4] = { SW_CHECK_SIG, SW_CHECK_SIG, SW_CHECK_LATE, SW_CHECK_SIG };
    for (int i = 0; i < 4; i++) {
        const sw_vjob *j = next_done(f);
        assert_non_null(j);
        assert_int_equal(j->cycle, (uint64_t)i);
        assert_int_equal(j->ok, want_ok[i]);
        assert_int_equal(j->check, want_check[i]);
        hv__sw_verifier_pop(&f->vf);
    }
    assert_true(hv__sw_verifier_empty(&f->vf));
}

/* A late job pushed as such is done at once and never verified, even with a bad signature. */
static void a_late_vote_is_never_verified(void **state)
{
    fixture *f = *state;
    hv_vote forged = make_vote(4, HV_CHOICE_REJECT, f->other_sk);
    hv__sw_verifier_push(&f->vf, &forged, 9, f->pk, SW_CHECK_LATE);
    assert_int_equal(hv__sw_verifier_run_one(&f->vf), 0);
    const sw_vjob *j = hv__sw_verifier_peek(&f->vf);
    assert_non_null(j);
    assert_int_equal(j->check, SW_CHECK_LATE);
    assert_int_equal(j->ok, 0);
    hv__sw_verifier_pop(&f->vf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(verdicts_come_back_in_arrival_order, setup_helpers,
                                        teardown),
        cmocka_unit_test_setup_teardown(verdicts_come_back_in_arrival_order, setup_alone, teardown),
        cmocka_unit_test_setup_teardown(a_full_ring_says_so_and_drains, setup_helpers, teardown),
        cmocka_unit_test_setup_teardown(jobs_no_longer_needed_are_dropped_unverified, setup_alone,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_late_vote_is_never_verified, setup_helpers, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

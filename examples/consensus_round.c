/*
 * A consensus round: five agents vote on an order under the MAJORITY rule with MAC-authenticated
 * votes; the engine decides as soon as the outcome is certain (early termination).
 *
 *   cc consensus_round.c $(pkg-config --cflags --libs hivewire) -o consensus_round
 */
#include <stdio.h>
#include <string.h>

#include <hivewire/consensus.h>

#define VOTERS 5

int main(void)
{
    hv_consensus *c;
    int rc = hv_consensus_new(NULL, &c); /* defaults: hv_consensus_opts_default() */
    if (rc != 0) {
        fprintf(stderr, "consensus_round: %s\n", hv_strerror(rc));
        return 1;
    }
    uint8_t keys[VOTERS][HV_VOTE_MAC_KEY_BYTES];
    hv_voter voters[VOTERS];
    for (int i = 0; i < VOTERS; i++) {
        memset(keys[i], 0x10 + i, sizeof(keys[i])); /* each agent's own secret in practice */
        voters[i] = (hv_voter){ .id = 100 + (uint64_t)i, .weight = 1 };
        if ((rc = hv_consensus_add_voter(c, voters[i].id, NULL, keys[i])) != 0)
            break;
    }
    uint64_t now = 1000000; /* any monotonic clock, real or simulated */
    hv_proposal p = { .id = 1,
                      .round = 1,
                      .action = HV_ACTION_ORDER_EXECUTION,
                      .policy = { .rule = HV_RULE_MAJORITY },
                      .voters = voters,
                      .nvoters = VOTERS,
                      .deadline_ns = now + 5000000 };
    memset(p.payload_hash, 0xab, sizeof(p.payload_hash)); /* the hash of the order */
    if (rc == 0)
        rc = hv_consensus_propose(c, &p, now);

    hv_decision d = { .outcome = HV_OUTCOME_PENDING };
    for (int i = 0; rc == 0 && i < VOTERS && d.outcome == HV_OUTCOME_PENDING; i++) {
        hv_vote v = { .proposal_id = p.id,
                      .voter = voters[i].id,
                      .round = p.round,
                      .choice = i == 1 ? HV_CHOICE_REJECT : HV_CHOICE_APPROVE };
        memcpy(v.payload_hash, p.payload_hash, sizeof(v.payload_hash));
        rc = hv_vote_mac(&v, keys[i]);
        if (rc == 0)
            rc = hv_consensus_vote(c, &v, now + 1000 * (uint64_t)(i + 1), &d);
        printf("voter %llu: %s\n", (unsigned long long)v.voter,
               v.choice == HV_CHOICE_APPROVE ? "approve" : "reject");
    }
    if (rc != 0) {
        fprintf(stderr, "consensus_round: %s\n", hv_strerror(rc));
        hv_consensus_free(c);
        return 1;
    }
    printf("proposal %llu: %s by %s, %u approvals, %u rejections, %u of %u votes needed\n",
           (unsigned long long)d.proposal_id, hv_outcome_name((hv_outcome)d.outcome),
           hv_rule_name((hv_rule)d.rule), d.approvals, d.rejections, d.votes_needed, d.eligible);
    hv_consensus_free(c);
    return d.outcome == HV_OUTCOME_ACCEPTED ? 0 : 1;
}

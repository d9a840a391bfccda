#include "hv_test.h"

#include <string.h>

#include <sodium.h>

#include <hivewire/consensus.h>

static hv_vote sample_vote(void)
{
    hv_vote v = { .proposal_id = 0x0102030405060708ULL,
                  .voter = 0x1112131415161718ULL,
                  .round = 0xa1a2a3a4u,
                  .choice = HV_CHOICE_REJECT };
    for (int i = 0; i < 32; i++)
        v.payload_hash[i] = (uint8_t)(0xc0 + i);
    return v;
}

static void encoding_has_the_documented_bytes(void **state)
{
    (void)state;
    hv_vote v = sample_vote();
    uint8_t m[HV_VOTE_ENCODED_BYTES];
    hv_vote_encode(&v, m);
    static const uint8_t head[37] = { 'H',
                                      'I',
                                      'V',
                                      'E',
                                      'W',
                                      'I',
                                      'R',
                                      'E',
                                      '-',
                                      'V',
                                      'O',
                                      'T',
                                      'E',
                                      '-',
                                      '1',
                                      0,
                                      0x08,
                                      0x07,
                                      0x06,
                                      0x05,
                                      0x04,
                                      0x03,
                                      0x02,
                                      0x01,
                                      0xa4,
                                      0xa3,
                                      0xa2,
                                      0xa1,
                                      0x18,
                                      0x17,
                                      0x16,
                                      0x15,
                                      0x14,
                                      0x13,
                                      0x12,
                                      0x11,
                                      HV_CHOICE_REJECT };
    assert_memory_equal(m, head, sizeof(head));
    assert_memory_equal(m + 37, v.payload_hash, 32);
}

static void signature_verifies_and_binds_every_field(void **state)
{
    (void)state;
    uint8_t pk[32], sk[64], seed[32] = { 1 };
    crypto_sign_seed_keypair(pk, sk, seed);
    hv_vote v = sample_vote();
    assert_int_equal(hv_vote_sign(&v, sk), 0);
    assert_int_equal(hv_vote_verify(&v, pk), 0);
    hv_vote w = v;
    w.choice = HV_CHOICE_APPROVE;
    assert_int_equal(hv_vote_verify(&w, pk), HV_EBADSIG);
    w = v;
    w.round++;
    assert_int_equal(hv_vote_verify(&w, pk), HV_EBADSIG);
    w = v;
    w.voter++;
    assert_int_equal(hv_vote_verify(&w, pk), HV_EBADSIG);
    w = v;
    w.proposal_id++;
    assert_int_equal(hv_vote_verify(&w, pk), HV_EBADSIG);
    w = v;
    w.payload_hash[31] ^= 1;
    assert_int_equal(hv_vote_verify(&w, pk), HV_EBADSIG);
    uint8_t pk2[32], sk2[64], seed2[32] = { 2 };
    crypto_sign_seed_keypair(pk2, sk2, seed2);
    assert_int_equal(hv_vote_verify(&v, pk2), HV_EBADSIG);
}

static void mac_verifies_only_with_its_key(void **state)
{
    (void)state;
    uint8_t k1[32], k2[32];
    memset(k1, 1, 32);
    memset(k2, 2, 32);
    hv_vote v = sample_vote();
    assert_int_equal(hv_vote_mac(&v, k1), 0);
    for (int i = 32; i < 64; i++)
        assert_int_equal(v.sig[i], 0);
    assert_int_equal(hv_vote_mac_verify(&v, k1), 0);
    assert_int_equal(hv_vote_mac_verify(&v, k2), HV_EBADMAC);
    v.choice = HV_CHOICE_ABSTAIN;
    assert_int_equal(hv_vote_mac_verify(&v, k1), HV_EBADMAC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_has_the_documented_bytes),
        cmocka_unit_test(signature_verifies_and_binds_every_field),
        cmocka_unit_test(mac_verifies_only_with_its_key),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Canonical vote bytes, Ed25519 signatures and keyed BLAKE2b MACs.
 */
#include <string.h>

#include <sodium.h>

#include <hivewire/consensus.h>

#include "consensus/consensus_int.h"

static const uint8_t vote_domain[16] = "HIVEWIRE-VOTE-1";

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void hv_vote_encode(const hv_vote *v, uint8_t out[HV_VOTE_ENCODED_BYTES])
{
    memcpy(out, vote_domain, 16);
    put_u64(out + 16, v->proposal_id);
    put_u32(out + 24, v->round);
    put_u64(out + 28, v->voter);
    out[36] = v->choice;
    memcpy(out + 37, v->payload_hash, HV_PAYLOAD_HASH_BYTES);
}

int hv_vote_sign(hv_vote *v, const uint8_t sk[HV_VOTE_SK_BYTES])
{
    uint8_t m[HV_VOTE_ENCODED_BYTES];
    hv_vote_encode(v, m);
    if (crypto_sign_detached(v->sig, NULL, m, sizeof(m), sk) != 0)
        return HV_ECRYPTO;
    return 0;
}

int hv_vote_verify(const hv_vote *v, const uint8_t pk[HV_VOTE_PK_BYTES])
{
    uint8_t m[HV_VOTE_ENCODED_BYTES];
    hv_vote_encode(v, m);
    if (crypto_sign_verify_detached(v->sig, m, sizeof(m), pk) != 0)
        return HV_EBADSIG;
    return 0;
}

static int compute_mac(const hv_vote *v, const uint8_t *key, uint8_t mac[HV_VOTE_MAC_BYTES])
{
    uint8_t m[HV_VOTE_ENCODED_BYTES];
    hv_vote_encode(v, m);
    if (crypto_generichash(mac, HV_VOTE_MAC_BYTES, m, sizeof(m), key, HV_VOTE_MAC_KEY_BYTES) != 0)
        return HV_ECRYPTO;
    return 0;
}

int hv_vote_mac(hv_vote *v, const uint8_t key[HV_VOTE_MAC_KEY_BYTES])
{
    uint8_t mac[HV_VOTE_MAC_BYTES];
    int rv = compute_mac(v, key, mac);
    if (rv != 0)
        return rv;
    memcpy(v->sig, mac, HV_VOTE_MAC_BYTES);
    memset(v->sig + HV_VOTE_MAC_BYTES, 0, HV_VOTE_SIG_BYTES - HV_VOTE_MAC_BYTES);
    return 0;
}

int hv_vote_mac_verify(const hv_vote *v, const uint8_t key[HV_VOTE_MAC_KEY_BYTES])
{
    static const uint8_t zero[HV_VOTE_SIG_BYTES - HV_VOTE_MAC_BYTES];
    uint8_t mac[HV_VOTE_MAC_BYTES];
    if (compute_mac(v, key, mac) != 0)
        return HV_EBADMAC;
    int bad = sodium_memcmp(mac, v->sig, HV_VOTE_MAC_BYTES) != 0;
    bad |= sodium_memcmp(zero, v->sig + HV_VOTE_MAC_BYTES, sizeof(zero)) != 0;
    return bad ? HV_EBADMAC : 0;
}

int hv__vote_mac_verify_keyed(const hv_vote *v, const crypto_generichash_state *keyed)
{
    static const uint8_t zero[HV_VOTE_SIG_BYTES - HV_VOTE_MAC_BYTES];
    uint8_t m[HV_VOTE_ENCODED_BYTES], mac[HV_VOTE_MAC_BYTES];
    crypto_generichash_state st = *keyed;
    hv_vote_encode(v, m);
    if (crypto_generichash_update(&st, m, sizeof(m)) != 0 ||
        crypto_generichash_final(&st, mac, sizeof(mac)) != 0)
        return HV_EBADMAC;
    int bad = sodium_memcmp(mac, v->sig, HV_VOTE_MAC_BYTES) != 0;
    bad |= sodium_memcmp(zero, v->sig + HV_VOTE_MAC_BYTES, sizeof(zero)) != 0;
    return bad ? HV_EBADMAC : 0;
}

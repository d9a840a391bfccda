/*
 * Certificates and identities with GnuTLS: a CA, per-agent certificates that carry the agent's
 * id, role and Ed25519 vote key in a URI subject alternative name
 *   urn:hivewire:agent:<id, decimal>:<role name>:<vote public key, 64 hex digits>
 * and the reading of that identity from a peer's verified certificate.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include <hivewire/codec.h>
#include <hivewire/net.h>

#include "net/net_int.h"

#define URI_PREFIX "urn:hivewire:agent:"
#define DAYS_CA    3650
#define DAYS_LEAF  825

static const char *const role_names[] = {
    "worker",         "pattern_matcher",  "strategy_correlator", "feature_engineer",
    "neural_trainer", "reasoning_banker", "coordinator",         "market_data",
    "risk",           "strategy",         "execution",
};
#define ROLE_COUNT ((int)(sizeof(role_names) / sizeof(role_names[0])))

int hv_net_role_from_name(const char *name)
{
    for (int i = 0; i < ROLE_COUNT; i++) {
        if (strcmp(role_names[i], name) == 0)
            return i;
    }
    return -1;
}

const char *hv_net_role_name(int role)
{
    return role >= 0 && role < ROLE_COUNT ? role_names[role] : NULL;
}

/* ---- Files ------------------------------------------------------------------------------- */

static int write_file(const char *path, const gnutls_datum_t *d, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return errno == EEXIST ? HV_EEXIST : HV_EIO;
    ssize_t n = write(fd, d->data, d->size);
    int ok = n == (ssize_t)d->size;
    ok &= close(fd) == 0;
    return ok ? 0 : HV_EIO;
}

static int load_crt(const char *path, gnutls_x509_crt_t *crt)
{
    gnutls_datum_t d;
    if (gnutls_load_file(path, &d) < 0)
        return HV_EIO;
    int rv = gnutls_x509_crt_init(crt);
    if (rv == 0)
        rv = gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_PEM);
    gnutls_free(d.data);
    if (rv < 0) {
        gnutls_x509_crt_deinit(*crt);
        return HV_EAUTH;
    }
    return 0;
}

static int load_key(const char *path, gnutls_x509_privkey_t *key)
{
    gnutls_datum_t d;
    if (gnutls_load_file(path, &d) < 0)
        return HV_EIO;
    int rv = gnutls_x509_privkey_init(key);
    if (rv == 0)
        rv = gnutls_x509_privkey_import(*key, &d, GNUTLS_X509_FMT_PEM);
    gnutls_free(d.data);
    if (rv < 0) {
        gnutls_x509_privkey_deinit(*key);
        return HV_EAUTH;
    }
    return 0;
}

/* ---- Issuing ----------------------------------------------------------------------------- */

static int new_key(gnutls_x509_privkey_t *key)
{
    if (gnutls_x509_privkey_init(key) < 0)
        return HV_ECRYPTO;
    if (gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0) {
        gnutls_x509_privkey_deinit(*key);
        return HV_ECRYPTO;
    }
    return 0;
}

static int crt_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days)
{
    uint8_t serial[16];
    randombytes_buf(serial, sizeof(serial));
    serial[0] &= 0x7f; /* a positive serial */
    time_t now = time(NULL);
    int rv = gnutls_x509_crt_set_version(crt, 3);
    rv = rv < 0 ? rv : gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
    rv = rv < 0 ? rv : gnutls_x509_crt_set_activation_time(crt, now - 3600);
    rv = rv < 0 ? rv : gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * 86400);
    rv = rv < 0 ? rv
                : gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                (unsigned)strlen(cn));
    rv = rv < 0 ? rv : gnutls_x509_crt_set_key(crt, key);
    return rv < 0 ? HV_ECRYPTO : 0;
}

static int export_pair(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *crt_path,
                       const char *key_path)
{
    gnutls_datum_t c = { 0 }, k = { 0 };
    int rv = HV_ECRYPTO;
    if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c) >= 0 &&
        gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k) >= 0) {
        rv = write_file(key_path, &k, 0600);
        if (rv == 0)
            rv = write_file(crt_path, &c, 0644);
    }
    gnutls_free(c.data);
    gnutls_free(k.data);
    return rv;
}

int hv_net_certs_init(const char *dir, const char **err)
{
    char cp[4096], kp[4096];
    snprintf(cp, sizeof(cp), "%s/ca.pem", dir);
    snprintf(kp, sizeof(kp), "%s/ca.key", dir);
    *err = "ca.pem";
    if (access(cp, F_OK) == 0 || access(kp, F_OK) == 0)
        return HV_EEXIST;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        *err = "the directory";
        return HV_EIO;
    }
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    *err = "generating the CA key";
    if (new_key(&key) < 0)
        return HV_ECRYPTO;
    if (gnutls_x509_crt_init(&crt) < 0) {
        gnutls_x509_privkey_deinit(key);
        return HV_ECRYPTO;
    }
    int rv = crt_common(crt, key, "hivewire CA", DAYS_CA);
    if (rv == 0 &&
        (gnutls_x509_crt_set_basic_constraints(crt, 1, 0) < 0 ||
         gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN) < 0 ||
         gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0))
        rv = HV_ECRYPTO;
    *err = "writing ca.pem / ca.key";
    if (rv == 0)
        rv = export_pair(crt, key, cp, kp);
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return rv;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return name[0] != '.';
}

static int write_vote_key(const char *path, const uint8_t sk[64])
{
    char hex[129];
    sodium_bin2hex(hex, sizeof(hex), sk, 64);
    hex[128] = '\n';
    gnutls_datum_t d = { (unsigned char *)hex, 129 };
    return write_file(path, &d, 0600);
}

int hv_net_certs_issue(const char *dir, const char *name, uint8_t role, uint64_t id,
                       const char **err)
{
    *err = "name (1..63 of A-Z a-z 0-9 - _ .)";
    if (!name_ok(name) || hv_net_role_name(role) == NULL)
        return HV_EINVAL;
    char cap[4096], cak[4096], cp[4096], kp[4096], vp[4096];
    snprintf(cap, sizeof(cap), "%s/ca.pem", dir);
    snprintf(cak, sizeof(cak), "%s/ca.key", dir);
    snprintf(cp, sizeof(cp), "%s/%s.pem", dir, name);
    snprintf(kp, sizeof(kp), "%s/%s.key", dir, name);
    snprintf(vp, sizeof(vp), "%s/%s.vote", dir, name);
    *err = "a certificate of that name already exists";
    if (access(cp, F_OK) == 0 || access(kp, F_OK) == 0 || access(vp, F_OK) == 0)
        return HV_EEXIST;
    gnutls_x509_crt_t ca;
    gnutls_x509_privkey_t ca_key;
    *err = "ca.pem (run `hivewire certs init` first)";
    int rv = load_crt(cap, &ca);
    if (rv < 0)
        return rv;
    *err = "ca.key";
    if ((rv = load_key(cak, &ca_key)) < 0) {
        gnutls_x509_crt_deinit(ca);
        return rv;
    }
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char pkhex[2 * crypto_sign_PUBLICKEYBYTES + 1];
    sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
    char uri[256];
    snprintf(uri, sizeof(uri), URI_PREFIX "%llu:%s:%s", (unsigned long long)id,
             hv_net_role_name(role), pkhex);
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    *err = "generating the key";
    rv = new_key(&key);
    if (rv == 0 && gnutls_x509_crt_init(&crt) < 0)
        rv = HV_ECRYPTO;
    if (rv == 0)
        rv = crt_common(crt, key, name, DAYS_LEAF);
    if (rv == 0 && (gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
                    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
                    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0) < 0 ||
                    gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0) < 0 ||
                    gnutls_x509_crt_set_subject_alt_name(
                        crt, GNUTLS_SAN_URI, uri, (unsigned)strlen(uri), GNUTLS_FSAN_APPEND) < 0 ||
                    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                         GNUTLS_FSAN_APPEND) < 0 ||
                    gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0) < 0))
        rv = HV_ECRYPTO;
    *err = "writing the certificate files";
    if (rv == 0)
        rv = export_pair(crt, key, cp, kp);
    if (rv == 0)
        rv = write_vote_key(vp, sk);
    sodium_memzero(sk, sizeof(sk));
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_privkey_deinit(ca_key);
    return rv;
}

/* ---- Reading identities ------------------------------------------------------------------ */

static int parse_uri(const char *uri, size_t len, hv_net_peer *out)
{
    size_t pl = strlen(URI_PREFIX);
    if (len <= pl || len > 200 || memcmp(uri, URI_PREFIX, pl) != 0)
        return HV_EAUTH;
    char buf[256];
    memcpy(buf, uri + pl, len - pl);
    buf[len - pl] = 0;
    char *role = strchr(buf, ':');
    if (role == NULL)
        return HV_EAUTH;
    *role++ = 0;
    char *key = strchr(role, ':');
    if (key == NULL)
        return HV_EAUTH;
    *key++ = 0;
    char *end;
    errno = 0;
    unsigned long long id = strtoull(buf, &end, 10);
    int r = hv_net_role_from_name(role);
    size_t kl;
    if (errno || *end || end == buf || r < 0 ||
        sodium_hex2bin(out->vote_key, sizeof(out->vote_key), key, strlen(key), NULL, &kl, NULL) !=
            0 ||
        kl != HV_NET_VOTE_KEY_BYTES)
        return HV_EAUTH;
    out->id = id;
    out->role = (uint8_t)r;
    out->has_vote_key = 1;
    return 0;
}

int hv__net_crt_identity(gnutls_x509_crt_t crt, hv_net_peer *out)
{
    memset(out, 0, sizeof(*out));
    size_t n = sizeof(out->name) - 1;
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, out->name, &n) < 0)
        out->name[0] = 0;
    for (unsigned seq = 0; seq < 16; seq++) {
        char san[512];
        size_t sl = sizeof(san);
        int t = gnutls_x509_crt_get_subject_alt_name(crt, seq, san, &sl, NULL);
        if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (t == GNUTLS_SAN_URI && parse_uri(san, sl, out) == 0)
            return 0;
    }
    return HV_EAUTH;
}

int hv_net_cert_identity(const char *cert_file, hv_net_peer *out)
{
    gnutls_x509_crt_t crt;
    int rv = load_crt(cert_file, &crt);
    if (rv < 0)
        return rv;
    rv = hv__net_crt_identity(crt, out);
    gnutls_x509_crt_deinit(crt);
    return rv;
}

int hv__net_session_peer(gnutls_session_t tls, hv_net_peer *out)
{
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
    if (certs == NULL || n == 0)
        return HV_EAUTH;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return HV_ENOMEM;
    int rv = HV_EAUTH;
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0)
        rv = hv__net_crt_identity(crt, out);
    gnutls_x509_crt_deinit(crt);
    return rv;
}

/* An insecure hub given no certificate: TLS 1.3 still needs one from the server, so it makes a
 * throwaway self-signed one in memory (nobody verifies it). */
static int throwaway_crt(gnutls_certificate_credentials_t cred)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crt_t crt;
    int rv = new_key(&key);
    if (rv < 0)
        return rv;
    if (gnutls_x509_crt_init(&crt) < 0) {
        gnutls_x509_privkey_deinit(key);
        return HV_ECRYPTO;
    }
    rv = crt_common(crt, key, "hivewire insecure hub", 1);
    if (rv == 0 && (gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0 ||
                    gnutls_certificate_set_x509_key(cred, &crt, 1, key) < 0))
        rv = HV_ECRYPTO;
    gnutls_x509_crt_deinit(crt);
    gnutls_x509_privkey_deinit(key);
    return rv;
}

int hv__net_credentials(const hv_net_opts *o, int hub, gnutls_certificate_credentials_t *cred,
                        char *err, size_t errlen)
{
    if (gnutls_certificate_allocate_credentials(cred) < 0)
        return HV_ENOMEM;
    if (o->flags & HV_NET_INSECURE) {
        if (o->cert_file && o->key_file &&
            gnutls_certificate_set_x509_key_file(*cred, o->cert_file, o->key_file,
                                                 GNUTLS_X509_FMT_PEM) < 0) {
            snprintf(err, errlen, "%s / %s: cannot load the certificate or key", o->cert_file,
                     o->key_file);
            return HV_EAUTH;
        }
        if (hub && !(o->cert_file && o->key_file) && throwaway_crt(*cred) < 0) {
            snprintf(err, errlen, "cannot make a throwaway certificate for the insecure hub");
            return HV_ECRYPTO;
        }
        return 0;
    }
    if (o->ca_file == NULL || o->cert_file == NULL || o->key_file == NULL) {
        snprintf(err, errlen,
                 "mutual TLS needs --ca, --cert and --key (make them with "
                 "`hivewire certs init` and `hivewire certs issue`)");
        return HV_EINVAL;
    }
    int n = gnutls_certificate_set_x509_trust_file(*cred, o->ca_file, GNUTLS_X509_FMT_PEM);
    if (n <= 0) {
        snprintf(err, errlen, "%s: no CA certificate could be read", o->ca_file);
        return HV_EAUTH;
    }
    int rv =
        gnutls_certificate_set_x509_key_file(*cred, o->cert_file, o->key_file, GNUTLS_X509_FMT_PEM);
    if (rv < 0) {
        snprintf(err, errlen, "%s / %s: %s", o->cert_file, o->key_file, gnutls_strerror(rv));
        return HV_EAUTH;
    }
    return 0;
}

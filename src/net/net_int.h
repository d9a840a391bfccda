/* Internal: pieces of the QUIC transport shared between its files. */
#ifndef HV_NET_INT_H
#define HV_NET_INT_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <hivewire/net.h>

/* The identity a certificate carries (tls.c). 0 or HV_EAUTH. */
int hv__net_crt_identity(gnutls_x509_crt_t crt, hv_net_peer *out);
/* The identity of the peer of a finished TLS handshake. 0, HV_EAUTH, HV_ENOMEM. */
int hv__net_session_peer(gnutls_session_t tls, hv_net_peer *out);
/* Credentials from opts (CA trust, own certificate and key; an insecure hub without a
 * certificate gets a throwaway self-signed one). err gets a message. */
int hv__net_credentials(const hv_net_opts *o, int hub, gnutls_certificate_credentials_t *cred,
                        char *err, size_t errlen);

/* Tests: a client's connection fails now (as a network error would); it reconnects. */
void hv__net_break(hv_net *n);

#endif

/* ca-dtls-cert: the agent's self-signed DTLS certificate and SDP fingerprints (RFC 8122). */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define CA_DTLS_FINGERPRINT_LEN 32 /* SHA-256 */

typedef struct _CaDtlsCert CaDtlsCert;

/* A fresh ECDSA P-256 key and a self-signed certificate for it (SHA-256, 30 days), as WebRTC
 * endpoints do: its identity is the fingerprint in the SDP, not a CA. Refcounted, immutable. */
CaDtlsCert *ca_dtls_cert_new (GError **error);
CaDtlsCert *ca_dtls_cert_ref (CaDtlsCert *cert);
void ca_dtls_cert_unref (CaDtlsCert *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaDtlsCert, ca_dtls_cert_unref)

/* "AB:CD:..." (upper-case hex), the value of "a=fingerprint:sha-256 <value>". */
const char *ca_dtls_cert_get_fingerprint (CaDtlsCert *cert);
X509 *ca_dtls_cert_get_x509 (CaDtlsCert *cert);
EVP_PKEY *ca_dtls_cert_get_key (CaDtlsCert *cert);

/* Parses the value of a sha-256 a=fingerprint: 32 hex pairs separated by ':', either case
 * (RFC 8122 §5). Pure; FALSE for anything else. */
gboolean ca_dtls_fingerprint_parse (const char *text, guint8 out[CA_DTLS_FINGERPRINT_LEN]);

/* SHA-256 of a certificate's DER encoding. */
gboolean ca_dtls_fingerprint_of (X509 *cert, guint8 out[CA_DTLS_FINGERPRINT_LEN]);

G_END_DECLS

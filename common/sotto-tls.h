/* sotto-tls: OpenSSL helpers shared by every Sotto program. */
#pragma once

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MAC, EVP_MAC_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MAC_CTX, EVP_MAC_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SSL_CTX, SSL_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SSL, SSL_free)

#define SOTTO_TLS_ERROR (sotto_tls_error_quark ())
GQuark sotto_tls_error_quark (void);

typedef enum
{
  SOTTO_TLS_ERROR_OPENSSL,
  SOTTO_TLS_ERROR_LAST
} SottoTlsError;

/* The cipher policy every Sotto TLS endpoint uses: TLS 1.2 with ECDHE and AEAD ciphers only,
 * and TLS 1.3's defaults. */
#define SOTTO_TLS_CIPHERS_TLS12 \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* Makes every SSL_CTX this process creates from now on use TLS >= 1.2 and the policy above.
 * Sofia-SIP builds its own SSL_CTX with TLS_method() and has no tag for either (Debian ignores
 * TPTAG_TLS_VERSION), so the policy goes through OpenSSL's own "system_default" configuration,
 * loaded from memory. Call it before any library creates a context. */
gboolean sotto_tls_apply_policy (GError **error);

/* Moves OpenSSL's error queue into a GError, prefixed with @what. Always returns FALSE. */
gboolean sotto_tls_set_error (GError **error, const char *what);

/* "AB:CD:..." SHA-256 fingerprint of a certificate (DER). */
char *sotto_tls_fingerprint_sha256 (X509 *cert);

G_END_DECLS

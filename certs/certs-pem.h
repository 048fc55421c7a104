/* certs-pem: reading and writing PEM files. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* Every certificate in a PEM file, in file order (elements are X509 *, freed with the array).
 * Fails when the file is missing, unreadable, damaged or holds no certificate. */
GPtrArray *sotto_certs_pem_read_certs (const char *path, GError **error);

/* The private key in a PEM file. Encrypted keys are refused rather than prompting. */
EVP_PKEY *sotto_certs_pem_read_key (const char *path, GError **error);

/* PKCS#8 PEM of @key: a secret, free it with sotto_util_secret_free (SottoSecret). */
char *sotto_certs_pem_key (EVP_PKEY *key, GError **error);

/* PEM of @cert, appended to @out. */
gboolean sotto_certs_pem_append_cert (GString *out, X509 *cert, GError **error);

G_END_DECLS

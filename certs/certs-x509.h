/* certs-x509: making keys and certificates, and reading what a certificate says. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* A fresh ECDSA P-256 key: TLS 1.2 ECDHE-ECDSA-AES-GCM and every TLS 1.3 client take it. */
EVP_PKEY *sotto_certs_key_new (GError **error);

/* A self-signed CA: CN "Sotto private CA <random hex>", basicConstraints critical CA:TRUE
 * pathlen:0, keyUsage critical keyCertSign+cRLSign, subjectKeyIdentifier. */
X509 *sotto_certs_ca_new (EVP_PKEY *key, int days, GError **error);

/* A server certificate for @names (DNS SANs), signed by @ca / @ca_key: CA:FALSE,
 * keyUsage digitalSignature, extendedKeyUsage serverAuth+clientAuth, random 128-bit serial. */
X509 *sotto_certs_server_new (EVP_PKEY *key, GPtrArray *names, X509 *ca, EVP_PKEY *ca_key,
                              int days, GError **error);

/* The DNS names in the subjectAltName (lower case); never NULL. */
GPtrArray *sotto_certs_cert_dns_names (X509 *cert);
/* How many IP-address SANs the certificate has. */
guint sotto_certs_cert_ip_count (X509 *cert);

/* TRUE when @ca issued @cert and its signature checks out with @ca's key. */
gboolean sotto_certs_cert_signed_by (X509 *cert, X509 *ca);
/* TRUE when @cert's notAfter is less than @days days from now (or already past). */
gboolean sotto_certs_cert_expires_within (X509 *cert, int days);
/* "2028-02-01 12:00:00 UTC" */
char *sotto_certs_time_to_string (const ASN1_TIME *t);
/* The subject as one line, "CN=..." */
char *sotto_certs_cert_subject (X509 *cert);

G_END_DECLS

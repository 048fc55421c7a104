/* ca-dtls-cert: the agent's self-signed DTLS certificate and SDP fingerprints (RFC 8122). */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-dtls-cert.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "sotto-tls.h"

#define VALIDITY_DAYS 30

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)

struct _CaDtlsCert
{
  gint ref_count;
  EVP_PKEY *key;
  X509 *x509;
  char *fingerprint;
};

static gboolean
sign_new_cert (EVP_PKEY *key, X509 **out, GError **error)
{
  g_autoptr (X509) x509 = X509_new ();
  g_autoptr (BIGNUM) serial = BN_new ();
  X509_NAME *name;

  /* A random 64-bit serial, positive. */
  if (x509 == NULL || serial == NULL || !BN_rand (serial, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)
      || !BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (x509))
      || !X509_set_version (x509, 2))
    return sotto_tls_set_error (error, "preparing the DTLS certificate");

  name = X509_get_subject_name (x509);
  if (!X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) "sotto-agent",
                                   -1, -1, 0)
      || !X509_set_issuer_name (x509, name))
    return sotto_tls_set_error (error, "naming the DTLS certificate");

  /* Back-dated by a day so a peer with a slow clock accepts it. */
  if (!X509_gmtime_adj (X509_getm_notBefore (x509), -24 * 3600)
      || !X509_gmtime_adj (X509_getm_notAfter (x509), (long) VALIDITY_DAYS * 24 * 3600)
      || !X509_set_pubkey (x509, key) || !X509_sign (x509, key, EVP_sha256 ()))
    return sotto_tls_set_error (error, "signing the DTLS certificate");

  *out = g_steal_pointer (&x509);
  return TRUE;
}

CaDtlsCert *
ca_dtls_cert_new (GError **error)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509) x509 = NULL;
  CaDtlsCert *cert;

  if (key == NULL)
    {
      sotto_tls_set_error (error, "generating the DTLS key (P-256)");
      return NULL;
    }
  if (!sign_new_cert (key, &x509, error))
    return NULL;

  cert = g_new0 (CaDtlsCert, 1);
  cert->ref_count = 1;
  cert->fingerprint = sotto_tls_fingerprint_sha256 (x509);
  cert->key = g_steal_pointer (&key);
  cert->x509 = g_steal_pointer (&x509);
  if (cert->fingerprint == NULL)
    {
      ca_dtls_cert_unref (cert);
      sotto_tls_set_error (error, "hashing the DTLS certificate");
      return NULL;
    }
  return cert;
}

CaDtlsCert *
ca_dtls_cert_ref (CaDtlsCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  g_atomic_int_inc (&cert->ref_count);
  return cert;
}

void
ca_dtls_cert_unref (CaDtlsCert *cert)
{
  if (cert == NULL || !g_atomic_int_dec_and_test (&cert->ref_count))
    return;
  EVP_PKEY_free (cert->key);
  X509_free (cert->x509);
  g_free (cert->fingerprint);
  g_free (cert);
}

const char *
ca_dtls_cert_get_fingerprint (CaDtlsCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->fingerprint;
}

X509 *
ca_dtls_cert_get_x509 (CaDtlsCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->x509;
}

EVP_PKEY *
ca_dtls_cert_get_key (CaDtlsCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);
  return cert->key;
}

gboolean
ca_dtls_fingerprint_parse (const char *text, guint8 out[CA_DTLS_FINGERPRINT_LEN])
{
  guint8 bytes[CA_DTLS_FINGERPRINT_LEN];

  if (text == NULL)
    return FALSE;
  for (gsize i = 0; i < CA_DTLS_FINGERPRINT_LEN; i++)
    {
      const char *p = text + 3 * i;
      int hi, lo;

      /* Stops at the first wrong character, so it never reads past the terminator. */
      if ((hi = g_ascii_xdigit_value (p[0])) < 0 || (lo = g_ascii_xdigit_value (p[1])) < 0)
        return FALSE;
      if (p[2] != (i + 1 < CA_DTLS_FINGERPRINT_LEN ? ':' : '\0'))
        return FALSE;
      bytes[i] = (guint8) (hi << 4 | lo);
    }
  memcpy (out, bytes, sizeof bytes);
  return TRUE;
}

gboolean
ca_dtls_fingerprint_of (X509 *cert, guint8 out[CA_DTLS_FINGERPRINT_LEN])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  if (cert == NULL || !X509_digest (cert, EVP_sha256 (), md, &len)
      || len != CA_DTLS_FINGERPRINT_LEN)
    return FALSE;
  memcpy (out, md, CA_DTLS_FINGERPRINT_LEN);
  return TRUE;
}

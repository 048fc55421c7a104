/* certs-x509: certificates through OpenSSL's X509 API (RFC 5280 profile). */
#include "config.h"

#include "certs-x509.h"

#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sotto-certs.h"
#include "sotto-tls.h"
#include "sotto-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAMES, GENERAL_NAMES_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_free)

/* How far notBefore is set back, so clients with a slightly slow clock accept a new certificate. */
#define BACKDATE_SECONDS (60 * 60)

EVP_PKEY *
sotto_certs_key_new (GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  if (key == NULL)
    sotto_tls_set_error (error, "making an ECDSA P-256 key");
  return key;
}

/* A positive serial of 128 random bits (RFC 5280 4.1.2.2 allows up to 20 octets). */
static gboolean
set_random_serial (X509 *cert, GError **error)
{
  guint8 bytes[16];
  g_autoptr (BIGNUM) bn = NULL;

  if (!sotto_util_random (bytes, sizeof bytes, error))
    return FALSE;
  bytes[0] &= 0x7f;
  bytes[0] |= 0x40; /* never zero, always 16 octets */
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  if (bn == NULL || BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) == NULL)
    return sotto_tls_set_error (error, "setting the serial number");
  return TRUE;
}

static gboolean
add_ext (X509 *cert, X509V3_CTX *ctx, int nid, const char *value, GError **error)
{
  g_autoptr (X509_EXTENSION) ext = X509V3_EXT_conf_nid (NULL, ctx, nid, value);

  if (ext == NULL || !X509_add_ext (cert, ext, -1))
    {
      g_autofree char *what = g_strdup_printf ("adding the %s extension", OBJ_nid2sn (nid));
      return sotto_tls_set_error (error, what);
    }
  return TRUE;
}

/* Version 3, serial, validity and public key: what every certificate here shares. */
static X509 *
cert_skeleton (EVP_PKEY *key, int days, GError **error)
{
  g_autoptr (X509) cert = X509_new ();

  if (cert == NULL || !X509_set_version (cert, X509_VERSION_3))
    {
      sotto_tls_set_error (error, "making a certificate");
      return NULL;
    }
  if (!set_random_serial (cert, error))
    return NULL;
  if (X509_gmtime_adj (X509_getm_notBefore (cert), -BACKDATE_SECONDS) == NULL
      || X509_time_adj_ex (X509_getm_notAfter (cert), days, 0, NULL) == NULL
      || !X509_set_pubkey (cert, key))
    {
      sotto_tls_set_error (error, "setting the validity and key");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

static gboolean
set_subject_cn (X509 *cert, const char *cn, GError **error)
{
  g_autoptr (X509_NAME) subject = X509_NAME_new ();

  if (subject == NULL
      || !X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_UTF8, (const guchar *) cn, -1, -1, 0)
      || !X509_set_subject_name (cert, subject))
    return sotto_tls_set_error (error, "setting the subject");
  return TRUE;
}

X509 *
sotto_certs_ca_new (EVP_PKEY *key, int days, GError **error)
{
  g_autoptr (X509) cert = NULL;
  g_autofree char *hex = NULL;
  g_autofree char *cn = NULL;
  guint8 tag[4];
  X509V3_CTX ctx;

  if (!sotto_util_random (tag, sizeof tag, error))
    return NULL;
  hex = sotto_util_hex (tag, sizeof tag);
  cn = g_strdup_printf ("Sotto private CA %s", hex);

  cert = cert_skeleton (key, days, error);
  if (cert == NULL || !set_subject_cn (cert, cn, error))
    return NULL;
  if (!X509_set_issuer_name (cert, X509_get_subject_name (cert)))
    {
      sotto_tls_set_error (error, "setting the issuer");
      return NULL;
    }

  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  if (!add_ext (cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", error)
      || !add_ext (cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", error)
      || !add_ext (cert, &ctx, NID_subject_key_identifier, "hash", error))
    return NULL;

  if (X509_sign (cert, key, EVP_sha256 ()) <= 0)
    {
      sotto_tls_set_error (error, "signing the CA certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

static gboolean
add_dns_sans (X509 *cert, GPtrArray *names, GError **error)
{
  g_autoptr (GENERAL_NAMES) gens = sk_GENERAL_NAME_new_null ();

  if (gens == NULL)
    return sotto_tls_set_error (error, "making the subjectAltName");
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      GENERAL_NAME *gen = GENERAL_NAME_new ();
      ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new ();

      if (gen == NULL || ia5 == NULL || !ASN1_STRING_set (ia5, name, -1))
        {
          GENERAL_NAME_free (gen);
          ASN1_IA5STRING_free (ia5);
          return sotto_tls_set_error (error, "making the subjectAltName");
        }
      GENERAL_NAME_set0_value (gen, GEN_DNS, ia5);
      if (!sk_GENERAL_NAME_push (gens, gen))
        {
          GENERAL_NAME_free (gen);
          return sotto_tls_set_error (error, "making the subjectAltName");
        }
    }
  if (!X509_add1_ext_i2d (cert, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT))
    return sotto_tls_set_error (error, "adding the subjectAltName");
  return TRUE;
}

X509 *
sotto_certs_server_new (EVP_PKEY *key, GPtrArray *names, X509 *ca, EVP_PKEY *ca_key, int days,
                        GError **error)
{
  g_autoptr (X509) cert = NULL;
  const char *first;
  X509V3_CTX ctx;

  g_return_val_if_fail (names != NULL && names->len > 0, NULL);
  first = names->pdata[0];

  cert = cert_skeleton (key, days, error);
  if (cert == NULL)
    return NULL;
  /* Clients match the SANs (RFC 6125); a CN is kept only for old tools that print it. The CN
   * attribute holds at most 64 characters (RFC 5280 appendix A.1). */
  if (!set_subject_cn (cert, strlen (first) <= 64 ? first : "Sotto server", error))
    return NULL;
  if (!X509_set_issuer_name (cert, X509_get_subject_name (ca)))
    {
      sotto_tls_set_error (error, "setting the issuer");
      return NULL;
    }

  X509V3_set_ctx (&ctx, ca, cert, NULL, NULL, 0);
  if (!add_ext (cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", error)
      || !add_ext (cert, &ctx, NID_key_usage, "critical,digitalSignature", error)
      || !add_ext (cert, &ctx, NID_ext_key_usage, "serverAuth,clientAuth", error)
      || !add_ext (cert, &ctx, NID_subject_key_identifier, "hash", error)
      || !add_ext (cert, &ctx, NID_authority_key_identifier, "keyid:always", error)
      || !add_dns_sans (cert, names, error))
    return NULL;

  if (X509_sign (cert, ca_key, EVP_sha256 ()) <= 0)
    {
      sotto_tls_set_error (error, "signing the server certificate");
      return NULL;
    }
  return g_steal_pointer (&cert);
}

static GENERAL_NAMES *
get_sans (X509 *cert)
{
  return X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
}

GPtrArray *
sotto_certs_cert_dns_names (X509 *cert)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GENERAL_NAMES) gens = get_sans (cert);

  for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num (gens); i++)
    {
      const GENERAL_NAME *gen = sk_GENERAL_NAME_value (gens, i);
      const ASN1_IA5STRING *s;

      if (gen->type != GEN_DNS)
        continue;
      s = gen->d.dNSName;
      g_ptr_array_add (out, g_ascii_strdown ((const char *) ASN1_STRING_get0_data (s),
                                             ASN1_STRING_length (s)));
    }
  return out;
}

guint
sotto_certs_cert_ip_count (X509 *cert)
{
  g_autoptr (GENERAL_NAMES) gens = get_sans (cert);
  guint n = 0;

  for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num (gens); i++)
    if (sk_GENERAL_NAME_value (gens, i)->type == GEN_IPADD)
      n++;
  return n;
}

gboolean
sotto_certs_cert_signed_by (X509 *cert, X509 *ca)
{
  EVP_PKEY *ca_pub = X509_get0_pubkey (ca);
  gboolean ok;

  ok = X509_check_issued (ca, cert) == X509_V_OK && ca_pub != NULL && X509_verify (cert, ca_pub) == 1;
  ERR_clear_error ();
  return ok;
}

gboolean
sotto_certs_cert_expires_within (X509 *cert, int days)
{
  time_t limit = time (NULL) + (time_t) days * 24 * 60 * 60;
  int cmp = X509_cmp_time (X509_get0_notAfter (cert), &limit);

  /* 0 means the time could not be read: treat it as expiring, so it gets re-issued. */
  return cmp <= 0;
}

char *
sotto_certs_time_to_string (const ASN1_TIME *t)
{
  struct tm tm;
  char buf[64];

  if (t == NULL || !ASN1_TIME_to_tm (t, &tm) || strftime (buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
    return g_strdup ("(unreadable time)");
  return g_strdup (buf);
}

char *
sotto_certs_cert_subject (X509 *cert)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (bio == NULL
      || X509_NAME_print_ex (bio, X509_get_subject_name (cert), 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) < 0)
    return g_strdup ("(unreadable subject)");
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, (gsize) len);
}

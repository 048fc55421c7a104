/* cmd-import: `sotto-certs import`, a certificate from elsewhere (an ACME client, a company
 * CA) put into the layout Sofia-SIP reads. Everything is checked before the first write. */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#include "certs-layout.h"
#include "certs-names.h"
#include "certs-pem.h"
#include "certs-x509.h"
#include "sotto-certs.h"
#include "sotto-tls.h"
#include "sotto-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)

static gboolean
refuse (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_CERT, message);
  return FALSE;
}

static gboolean
check_validity (X509 *leaf, const char *path, GError **error)
{
  g_autofree char *not_before = sotto_certs_time_to_string (X509_get0_notBefore (leaf));
  g_autofree char *not_after = sotto_certs_time_to_string (X509_get0_notAfter (leaf));

  if (X509_cmp_current_time (X509_get0_notAfter (leaf)) <= 0)
    return refuse (error, "the certificate in %s expired on %s", path, not_after);
  if (X509_cmp_current_time (X509_get0_notBefore (leaf)) >= 0)
    return refuse (error, "the certificate in %s is not valid before %s (is the clock right?)",
                   path, not_before);
  if (sotto_certs_cert_expires_within (leaf, SOTTO_CERTS_RENEW_DAYS))
    g_printerr ("sotto-certs: warning: the certificate in %s expires soon, on %s\n", path,
                not_after);
  return TRUE;
}

static gboolean
check_names (X509 *leaf, const char *path, GError **error)
{
  g_autoptr (GPtrArray) dns = sotto_certs_cert_dns_names (leaf);
  guint ips = sotto_certs_cert_ip_count (leaf);

  if (dns->len == 0 && ips > 0)
    return refuse (error,
                   "the certificate in %s names only IP addresses. The SIP server (Sofia-SIP) "
                   "checks certificates by DNS name and ignores IP addresses, so no client could "
                   "verify it; get one issued for a DNS name",
                   path);
  if (dns->len == 0)
    return refuse (error, "the certificate in %s has no DNS name (subjectAltName)", path);
  if (ips > 0)
    g_printerr ("sotto-certs: warning: the certificate's IP addresses are ignored by the SIP "
                "server; clients must connect by DNS name\n");
  return TRUE;
}

/* The store of trust anchors: --ca, or the system bundle. @anchors_pem receives the file. */
static X509_STORE *
load_anchors (const char *ca_path, GString *anchors_pem, GError **error)
{
  g_autoptr (X509_STORE) store = X509_STORE_new ();
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (store == NULL)
    {
      sotto_tls_set_error (error, "making a certificate store");
      return NULL;
    }
  if (ca_path != NULL)
    {
      g_autoptr (GPtrArray) cas = sotto_certs_pem_read_certs (ca_path, error);
      if (cas == NULL)
        return NULL;
      for (guint i = 0; i < cas->len; i++)
        if (!X509_STORE_add_cert (store, cas->pdata[i]))
          {
            sotto_tls_set_error (error, "adding a CA certificate");
            return NULL;
          }
    }
  else if (!X509_STORE_load_file (store, SOTTO_CERTS_SYSTEM_BUNDLE))
    {
      g_autofree char *what = g_strdup_printf (
          "loading the system CA bundle %s (install ca-certificates, or give --ca)",
          SOTTO_CERTS_SYSTEM_BUNDLE);
      sotto_tls_set_error (error, what);
      return NULL;
    }
  if (!g_file_get_contents (ca_path ? ca_path : SOTTO_CERTS_SYSTEM_BUNDLE, &contents, &len, error))
    return NULL;
  g_string_append_len (anchors_pem, contents, len);
  if (len > 0 && contents[len - 1] != '\n')
    g_string_append_c (anchors_pem, '\n');
  return g_steal_pointer (&store);
}

/* Verifies @leaf for TLS server use and returns the chain it verified through, leaf first and
 * trust anchor last (X509 *). */
static GPtrArray *
verify_chain (X509 *leaf, STACK_OF (X509) *untrusted, X509_STORE *store, const char *path,
              GError **error)
{
  g_autoptr (X509_STORE_CTX) ctx = X509_STORE_CTX_new ();
  GPtrArray *out;
  STACK_OF (X509) *chain;

  if (ctx == NULL || !X509_STORE_CTX_init (ctx, store, leaf, untrusted)
      || !X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER))
    {
      sotto_tls_set_error (error, "preparing to verify the certificate");
      return NULL;
    }
  if (X509_verify_cert (ctx) != 1)
    {
      int code = X509_STORE_CTX_get_error (ctx);
      ERR_clear_error ();
      refuse (error, "the certificate in %s does not verify: %s (at depth %d)%s", path,
              X509_verify_cert_error_string (code), X509_STORE_CTX_get_error_depth (ctx),
              code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                  ? "; give the intermediate certificates with --chain, and the CA with --ca "
                    "if it is not a public one"
                  : "");
      return NULL;
    }
  chain = X509_STORE_CTX_get0_chain (ctx);
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  for (int i = 0; i < sk_X509_num (chain); i++)
    {
      X509 *cert = sk_X509_value (chain, i);
      X509_up_ref (cert);
      g_ptr_array_add (out, cert);
    }
  return out;
}

gboolean
sotto_certs_import (const SottoCertsImportOptions *opts, GError **error)
{
  g_autoptr (GPtrArray) given = NULL;
  g_autoptr (GPtrArray) extra = NULL;
  g_autoptr (GPtrArray) chain = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (X509_STORE) store = NULL;
  g_autoptr (GString) cafile = g_string_new (NULL);
  g_autoptr (SottoSecret) key_pem = NULL;
  g_autoptr (SottoCertsLayout) layout = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *until = NULL;
  g_autofree char *fingerprint = NULL;
  STACK_OF (X509) *untrusted = NULL;
  X509 *leaf;
  gboolean changed = FALSE;

  g_return_val_if_fail (opts != NULL && opts->dir && opts->cert && opts->key, FALSE);

  given = sotto_certs_pem_read_certs (opts->cert, error);
  if (given == NULL)
    return FALSE;
  if (opts->chain != NULL && (extra = sotto_certs_pem_read_certs (opts->chain, error)) == NULL)
    return FALSE;
  key = sotto_certs_pem_read_key (opts->key, error);
  if (key == NULL)
    return FALSE;
  leaf = given->pdata[0];

  if (X509_check_private_key (leaf, key) != 1)
    {
      ERR_clear_error ();
      return refuse (error, "the private key in %s does not belong to the certificate in %s",
                     opts->key, opts->cert);
    }
  if (!check_validity (leaf, opts->cert, error) || !check_names (leaf, opts->cert, error))
    return FALSE;

  store = load_anchors (opts->ca, cafile, error);
  if (store == NULL)
    return FALSE;
  /* Certificates after the first in --cert (a "fullchain" file) and those in --chain. */
  untrusted = sk_X509_new_null ();
  for (guint i = 1; i < given->len; i++)
    sk_X509_push (untrusted, given->pdata[i]);
  for (guint i = 0; extra != NULL && i < extra->len; i++)
    sk_X509_push (untrusted, extra->pdata[i]);
  chain = verify_chain (leaf, untrusted, store, opts->cert, error);
  sk_X509_free (untrusted);
  if (chain == NULL)
    return FALSE;

  /* Sofia-SIP loads only the first certificate of agent.pem (SSL_CTX_use_certificate_file), and
   * OpenSSL then builds the chain it sends from the trust store, that is cafile.pem. So the
   * intermediates go into cafile.pem too, or clients that know only the root would fail. */
  for (guint i = 1; i + 1 < chain->len; i++)
    if (!sotto_certs_pem_append_cert (cafile, chain->pdata[i], error))
      return FALSE;

  key_pem = sotto_certs_pem_key (key, error);
  if (key_pem == NULL)
    return FALSE;

  layout = sotto_certs_layout_new (opts->dir);
  if (!sotto_certs_layout_ensure_dir (layout, error)
      || !sotto_certs_layout_write_server (layout, key_pem, chain, cafile->str, cafile->len,
                                           &changed, error))
    return FALSE;

  names = sotto_certs_cert_dns_names (leaf);
  joined = sotto_certs_names_join (names);
  until = sotto_certs_time_to_string (X509_get0_notAfter (leaf));
  g_print ("%s the certificate for %s, valid until %s, into %s.\n",
           changed ? "Imported" : "Up to date: already imported", joined, until, layout->dir);
  fingerprint = sotto_tls_fingerprint_sha256 (chain->pdata[chain->len - 1]);
  g_print ("CA SHA-256 fingerprint: %s\n", fingerprint);
  return TRUE;
}

/* cmd-init: `sotto-certs init`, a private CA and a server certificate signed by it.
 * Running it again changes nothing unless the names changed, the server certificate is near
 * its end, or it does not belong to the CA; the CA itself is replaced only with --force-ca. */
#include "config.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certs-layout.h"
#include "certs-names.h"
#include "certs-pem.h"
#include "certs-x509.h"
#include "sotto-certs.h"
#include "sotto-tls.h"
#include "sotto-util.h"

typedef struct
{
  X509 *cert;
  EVP_PKEY *key;
} KeyPair;

static void
key_pair_clear (KeyPair *pair)
{
  g_clear_pointer (&pair->cert, X509_free);
  g_clear_pointer (&pair->key, EVP_PKEY_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KeyPair, key_pair_clear)

static gboolean
make_ca (SottoCertsLayout *layout, KeyPair *ca, gboolean *changed, GError **error)
{
  g_autoptr (EVP_PKEY) key = sotto_certs_key_new (error);
  g_autoptr (X509) cert = NULL;
  g_autoptr (SottoSecret) key_pem = NULL;
  g_autoptr (GString) cert_pem = g_string_new (NULL);
  g_autofree char *until = NULL;
  g_autofree char *subject = NULL;

  if (key == NULL || (cert = sotto_certs_ca_new (key, SOTTO_CERTS_CA_DAYS, error)) == NULL)
    return FALSE;
  key_pem = sotto_certs_pem_key (key, error);
  if (key_pem == NULL || !sotto_certs_pem_append_cert (cert_pem, cert, error))
    return FALSE;
  /* The key first: a ca.pem without its key would be useless. */
  if (!sotto_util_write_file_atomic (layout->ca_key, key_pem, strlen (key_pem),
                                     SOTTO_CERTS_SECRET_MODE, error)
      || !sotto_util_write_file_atomic (layout->ca_cert, cert_pem->str, cert_pem->len,
                                        SOTTO_CERTS_PUBLIC_MODE, error))
    return FALSE;
  *changed = TRUE;

  until = sotto_certs_time_to_string (X509_get0_notAfter (cert));
  subject = sotto_certs_cert_subject (cert);
  g_print ("Created a new private CA: %s (valid until %s)\n", subject, until);
  ca->cert = g_steal_pointer (&cert);
  ca->key = g_steal_pointer (&key);
  return TRUE;
}

static gboolean
load_ca (SottoCertsLayout *layout, KeyPair *ca, GError **error)
{
  g_autoptr (GPtrArray) certs = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  X509 *cert;

  if (!g_file_test (layout->ca_cert, G_FILE_TEST_EXISTS)
      || !g_file_test (layout->ca_key, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_CA,
                   "%s has only half a CA (one of ca.pem and ca.key is missing); restore it, "
                   "or make a new CA with --force-ca (clients must then trust the new one)",
                   layout->dir);
      return FALSE;
    }
  certs = sotto_certs_pem_read_certs (layout->ca_cert, error);
  if (certs == NULL)
    return FALSE;
  key = sotto_certs_pem_read_key (layout->ca_key, error);
  if (key == NULL)
    return FALSE;
  cert = certs->pdata[0];
  if (X509_check_private_key (cert, key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_CA,
                   "%s does not belong to %s; restore the pair, or make a new CA with --force-ca",
                   layout->ca_key, layout->ca_cert);
      return FALSE;
    }
  if (X509_check_ca (cert) == 0)
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_CA,
                   "%s is not a CA certificate; make a new CA with --force-ca", layout->ca_cert);
      return FALSE;
    }
  if (sotto_certs_cert_expires_within (cert, SOTTO_CERTS_RENEW_DAYS))
    {
      g_autofree char *until = sotto_certs_time_to_string (X509_get0_notAfter (cert));
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_CA,
                   "the CA in %s expires on %s; make a new one with --force-ca (clients must then "
                   "trust the new CA)",
                   layout->ca_cert, until);
      return FALSE;
    }
  ca->cert = X509_dup (cert);
  ca->key = g_steal_pointer (&key);
  if (ca->cert == NULL)
    return sotto_tls_set_error (error, "copying the CA certificate");
  return TRUE;
}

/* Why the server certificate in @layout must be issued again, or NULL when it can stay
 * (then @server holds it). Damaged or missing files are a reason, not an error. */
static const char *
server_reissue_reason (SottoCertsLayout *layout, GPtrArray *names, KeyPair *ca, KeyPair *server)
{
  g_autoptr (GPtrArray) certs = NULL;
  g_autoptr (GPtrArray) have = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  X509 *cert;

  if (!g_file_test (layout->server_cert, G_FILE_TEST_EXISTS)
      && !g_file_test (layout->server_key, G_FILE_TEST_EXISTS))
    return "there was none";
  certs = sotto_certs_pem_read_certs (layout->server_cert, NULL);
  key = sotto_certs_pem_read_key (layout->server_key, NULL);
  ERR_clear_error ();
  if (certs == NULL || key == NULL)
    return "server.pem or server.key was missing or unreadable";
  cert = certs->pdata[0];
  if (X509_check_private_key (cert, key) != 1)
    {
      ERR_clear_error ();
      return "server.key did not match server.pem";
    }
  if (!sotto_certs_cert_signed_by (cert, ca->cert))
    return "it was not signed by the present CA";
  have = sotto_certs_cert_dns_names (cert);
  if (!sotto_certs_names_equal (have, names))
    return "the names changed";
  if (sotto_certs_cert_expires_within (cert, SOTTO_CERTS_RENEW_DAYS))
    return "it expires within 30 days";

  server->cert = X509_dup (cert);
  server->key = g_steal_pointer (&key);
  return server->cert ? NULL : "it could not be copied";
}

static gboolean
issue_server (GPtrArray *names, KeyPair *ca, int days, KeyPair *server, GError **error)
{
  g_autoptr (EVP_PKEY) key = sotto_certs_key_new (error);
  g_autoptr (X509) cert = NULL;

  if (key == NULL)
    return FALSE;
  cert = sotto_certs_server_new (key, names, ca->cert, ca->key, days, error);
  if (cert == NULL)
    return FALSE;
  server->cert = g_steal_pointer (&cert);
  server->key = g_steal_pointer (&key);
  return TRUE;
}

gboolean
sotto_certs_init (const SottoCertsInitOptions *opts, GError **error)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (SottoCertsLayout) layout = NULL;
  g_auto (KeyPair) ca = { 0 };
  g_auto (KeyPair) server = { 0 };
  g_autoptr (SottoSecret) key_pem = NULL;
  g_autoptr (GPtrArray) chain = NULL;
  g_autoptr (GString) cafile = g_string_new (NULL);
  g_autofree char *joined = NULL;
  g_autofree char *until = NULL;
  g_autofree char *fingerprint = NULL;
  const char *reason;
  gboolean changed = FALSE;

  g_return_val_if_fail (opts != NULL && opts->dir != NULL, FALSE);

  /* Everything the user gave is checked before anything is touched. */
  names = sotto_certs_names_normalize (opts->names, error);
  if (names == NULL)
    return FALSE;
  if (opts->days < SOTTO_CERTS_SERVER_DAYS_MIN || opts->days > SOTTO_CERTS_SERVER_DAYS_MAX)
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_USAGE,
                   "--days must be between %d and %d (a certificate is renewed %d days before "
                   "it ends)",
                   SOTTO_CERTS_SERVER_DAYS_MIN, SOTTO_CERTS_SERVER_DAYS_MAX,
                   SOTTO_CERTS_RENEW_DAYS);
      return FALSE;
    }

  layout = sotto_certs_layout_new (opts->dir);
  if (!sotto_certs_layout_ensure_dir (layout, error))
    return FALSE;

  if (opts->force_ca
      || (!g_file_test (layout->ca_cert, G_FILE_TEST_EXISTS)
          && !g_file_test (layout->ca_key, G_FILE_TEST_EXISTS)))
    {
      if (!make_ca (layout, &ca, &changed, error))
        return FALSE;
    }
  else if (!load_ca (layout, &ca, error))
    return FALSE;

  joined = sotto_certs_names_join (names);
  reason = server_reissue_reason (layout, names, &ca, &server);
  if (reason != NULL)
    {
      if (!issue_server (names, &ca, opts->days, &server, error))
        return FALSE;
      until = sotto_certs_time_to_string (X509_get0_notAfter (server.cert));
      g_print ("Issued a server certificate for %s, valid until %s (%s).\n", joined, until, reason);
    }
  else
    until = sotto_certs_time_to_string (X509_get0_notAfter (server.cert));

  key_pem = sotto_certs_pem_key (server.key, error);
  if (key_pem == NULL || !sotto_certs_pem_append_cert (cafile, ca.cert, error))
    return FALSE;
  chain = g_ptr_array_new ();
  g_ptr_array_add (chain, server.cert);
  g_ptr_array_add (chain, ca.cert);
  if (!sotto_certs_layout_write_server (layout, key_pem, chain, cafile->str, cafile->len, &changed,
                                        error))
    return FALSE;

  if (!changed)
    g_print ("Up to date: the server certificate for %s is valid until %s.\n", joined, until);
  else if (reason == NULL)
    g_print ("Repaired the files in %s for %s.\n", layout->dir, joined);
  fingerprint = sotto_tls_fingerprint_sha256 (ca.cert);
  g_print ("CA SHA-256 fingerprint: %s\n", fingerprint);
  return TRUE;
}

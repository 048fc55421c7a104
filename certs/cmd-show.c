/* cmd-show: `sotto-certs show`, what a certificate directory holds. */
#include "config.h"

#include <openssl/err.h>

#include "certs-layout.h"
#include "certs-names.h"
#include "certs-pem.h"
#include "certs-x509.h"
#include "sotto-certs.h"
#include "sotto-tls.h"

static void
show_ca (SottoCertsLayout *layout, X509 *leaf)
{
  g_autoptr (GPtrArray) cas = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *until = NULL;
  g_autofree char *fingerprint = NULL;
  X509 *ca;

  if (!g_file_test (layout->ca_cert, G_FILE_TEST_EXISTS))
    {
      g_print ("CA: none kept here (an imported certificate; cafile.pem holds the trusted CAs)\n");
      return;
    }
  cas = sotto_certs_pem_read_certs (layout->ca_cert, NULL);
  ERR_clear_error ();
  if (cas == NULL)
    {
      g_print ("CA: %s is unreadable\n", layout->ca_cert);
      return;
    }
  ca = cas->pdata[0];
  subject = sotto_certs_cert_subject (ca);
  until = sotto_certs_time_to_string (X509_get0_notAfter (ca));
  fingerprint = sotto_tls_fingerprint_sha256 (ca);
  g_print ("CA: %s\n", subject);
  g_print ("CA valid until: %s\n", until);
  if (leaf != NULL && !sotto_certs_cert_signed_by (leaf, ca))
    g_print ("CA note: the server certificate was not issued by this CA\n");
  g_print ("CA SHA-256 fingerprint: %s\n", fingerprint);
}

gboolean
sotto_certs_show (const char *dir, GError **error)
{
  g_autoptr (SottoCertsLayout) layout = sotto_certs_layout_new (dir);
  g_autoptr (GPtrArray) certs = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *until = NULL;
  g_autofree char *fingerprint = NULL;
  X509 *leaf;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   "%s is not a directory; make one with `sotto-certs init`", dir);
      return FALSE;
    }
  certs = sotto_certs_pem_read_certs (layout->server_cert, error);
  if (certs == NULL)
    return FALSE;
  leaf = certs->pdata[0];
  names = sotto_certs_cert_dns_names (leaf);
  joined = sotto_certs_names_join (names);
  subject = sotto_certs_cert_subject (leaf);
  until = sotto_certs_time_to_string (X509_get0_notAfter (leaf));
  fingerprint = sotto_tls_fingerprint_sha256 (leaf);

  g_print ("Directory: %s\n", dir);
  g_print ("Names: %s\n", names->len ? joined : "(none)");
  g_print ("Subject: %s\n", subject);
  g_print ("Valid until: %s%s\n", until,
           X509_cmp_current_time (X509_get0_notAfter (leaf)) <= 0 ? " (EXPIRED)"
           : sotto_certs_cert_expires_within (leaf, SOTTO_CERTS_RENEW_DAYS) ? " (expires soon)"
                                                                          : "");
  g_print ("Server SHA-256 fingerprint: %s\n", fingerprint);
  show_ca (layout, leaf);
  return TRUE;
}

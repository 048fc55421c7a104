/* sotto-tls: a process-wide TLS policy, and OpenSSL errors turned into GError. */
#include "config.h"

#include "sotto-tls.h"

#include <openssl/conf.h>
#include <openssl/err.h>

G_DEFINE_QUARK (sotto-tls-error-quark, sotto_tls_error)

gboolean
sotto_tls_set_error (GError **error, const char *what)
{
  g_autoptr (GString) detail = g_string_new (NULL);
  unsigned long code;
  char buf[256];

  while ((code = ERR_get_error ()) != 0)
    {
      ERR_error_string_n (code, buf, sizeof buf);
      if (detail->len)
        g_string_append (detail, "; ");
      g_string_append (detail, buf);
    }
  g_set_error (error, SOTTO_TLS_ERROR, SOTTO_TLS_ERROR_OPENSSL, "%s%s%s", what,
               detail->len ? ": " : "", detail->str);
  return FALSE;
}

/* OpenSSL applies the ssl_conf "system_default" section to each SSL_CTX in SSL_CTX_new(). */
static const char policy_conf[] =
  "openssl_conf = sotto_init\n"
  "[sotto_init]\n"
  "ssl_conf = sotto_ssl\n"
  "[sotto_ssl]\n"
  "system_default = sotto_tls_policy\n"
  "[sotto_tls_policy]\n"
  "MinProtocol = TLSv1.2\n"
  "CipherString = " SOTTO_TLS_CIPHERS_TLS12 "\n"
  "Options = ServerPreference,-SessionTicket,NoRenegotiation\n"
  /* No TLS 1.3 tickets either: with tickets off, OpenSSL would keep every session in the
   * server's cache instead. */
  "NumTickets = 0\n";

gboolean
sotto_tls_apply_policy (GError **error)
{
  static gboolean applied;
  g_autoptr (BIO) bio = NULL;
  CONF *conf;
  long line = -1;
  int ok;

  if (applied)
    return TRUE;
  if (!OPENSSL_init_ssl (OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL))
    return sotto_tls_set_error (error, "initialising OpenSSL");

  bio = BIO_new_mem_buf (policy_conf, -1);
  conf = NCONF_new (NULL);
  if (bio == NULL || conf == NULL || NCONF_load_bio (conf, bio, &line) <= 0)
    {
      NCONF_free (conf);
      return sotto_tls_set_error (error, "parsing the built-in TLS policy");
    }
  ok = CONF_modules_load (conf, NULL, 0);
  NCONF_free (conf);
  if (ok <= 0)
    return sotto_tls_set_error (error, "applying the TLS policy");
  applied = TRUE;
  return TRUE;
}

char *
sotto_tls_fingerprint_sha256 (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *out;

  g_return_val_if_fail (cert != NULL, NULL);
  if (!X509_digest (cert, EVP_sha256 (), md, &len))
    return NULL;
  out = g_string_sized_new (len * 3);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (out, i ? ":%02X" : "%02X", md[i]);
  return g_string_free (out, FALSE);
}

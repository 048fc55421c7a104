/* certs-pem: PEM through OpenSSL's BIO API. */
#include "config.h"

#include "certs-pem.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "sotto-certs.h"
#include "sotto-tls.h"

static BIO *
open_file (const char *path, GError **error)
{
  BIO *bio;

  /* BIO_new_file's own error says little; check first so the message names the cause. */
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such file", path);
      return NULL;
    }
  bio = BIO_new_file (path, "r");
  if (bio == NULL)
    {
      g_autofree char *what = g_strdup_printf ("opening %s", path);
      sotto_tls_set_error (error, what);
    }
  return bio;
}

/* PEM_read_bio_* reports "no start line" once the file holds no more objects. */
static gboolean
reached_end (void)
{
  unsigned long e = ERR_peek_last_error ();

  return ERR_GET_LIB (e) == ERR_LIB_PEM && ERR_GET_REASON (e) == PEM_R_NO_START_LINE;
}

GPtrArray *
sotto_certs_pem_read_certs (const char *path, GError **error)
{
  g_autoptr (GPtrArray) certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  g_autoptr (BIO) bio = NULL;
  X509 *cert;

  ERR_clear_error ();
  bio = open_file (path, error);
  if (bio == NULL)
    return NULL;
  while ((cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    g_ptr_array_add (certs, cert);
  if (!reached_end ())
    {
      g_autofree char *what = g_strdup_printf ("reading certificates from %s", path);
      sotto_tls_set_error (error, what);
      return NULL;
    }
  ERR_clear_error ();
  if (certs->len == 0)
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_CERT,
                   "%s holds no PEM certificate", path);
      return NULL;
    }
  return g_steal_pointer (&certs);
}

/* Refuses to decrypt instead of prompting on the terminal. */
static int
no_passphrase (char *buf, int size, int rwflag, void *user_data)
{
  gboolean *asked = user_data;

  *asked = TRUE;
  return -1;
}

EVP_PKEY *
sotto_certs_pem_read_key (const char *path, GError **error)
{
  g_autoptr (BIO) bio = NULL;
  gboolean asked = FALSE;
  EVP_PKEY *key;

  ERR_clear_error ();
  bio = open_file (path, error);
  if (bio == NULL)
    return NULL;
  key = PEM_read_bio_PrivateKey (bio, NULL, no_passphrase, &asked);
  if (key == NULL && asked)
    {
      ERR_clear_error ();
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_CERT,
                   "the private key in %s is encrypted; give an unencrypted key (the servers "
                   "read it unattended)",
                   path);
      return NULL;
    }
  if (key == NULL)
    {
      g_autofree char *what = g_strdup_printf ("%s holds no readable PEM private key", path);
      sotto_tls_set_error (error, what);
      return NULL;
    }
  return key;
}

char *
sotto_certs_pem_key (EVP_PKEY *key, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_secmem ());
  char *data = NULL;
  char *out;
  long len;

  if (bio == NULL || !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    {
      sotto_tls_set_error (error, "encoding the private key");
      return NULL;
    }
  len = BIO_get_mem_data (bio, &data);
  out = g_strndup (data, (gsize) len);
  OPENSSL_cleanse (data, (gsize) len);
  return out;
}

gboolean
sotto_certs_pem_append_cert (GString *out, X509 *cert, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (bio == NULL || !PEM_write_bio_X509 (bio, cert))
    return sotto_tls_set_error (error, "encoding a certificate");
  len = BIO_get_mem_data (bio, &data);
  g_string_append_len (out, data, len);
  return TRUE;
}

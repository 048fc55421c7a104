/* tua-loopback: an in-test TLS server thread and a self-signed certificate, with OpenSSL. */
#include "config.h"

#include "tua-loopback.h"

#include "sotto-tls.h"

#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

struct _TuaLoopback
{
  int listen_fd;
  guint16 port;
  SSL_CTX *ctx;
  TuaLoopbackScript script;
  gpointer user_data;
  GThread *thread;
  gint stop;
  GError *error; /* written by the thread, read after join */
  gboolean joined;
};

static gboolean
add_ext (X509 *cert, int nid, const char *value)
{
  X509V3_CTX v3;
  X509_EXTENSION *ext;
  int ok;

  X509V3_set_ctx (&v3, cert, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &v3, nid, value);
  if (ext == NULL)
    return FALSE;
  ok = X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  return ok == 1;
}

static gboolean
write_pem (const char *path, X509 *cert, EVP_PKEY *key, GError **error)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (bio == NULL || (cert && !PEM_write_bio_X509 (bio, cert)) ||
      (key && !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL)))
    return sotto_tls_set_error (error, "writing PEM");
  len = BIO_get_mem_data (bio, &data);
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

gboolean
tua_loopback_make_cert (const char *dir, const char *name, char **cert_path, char **key_path,
                        GError **error)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509) cert = X509_new ();
  g_autofree char *san = g_strdup_printf ("DNS:%s,IP:127.0.0.1", name);
  g_autofree char *cpath = g_build_filename (dir, "cert.pem", NULL);
  g_autofree char *kpath = g_build_filename (dir, "key.pem", NULL);
  X509_NAME *subject;

  if (key == NULL || cert == NULL)
    return sotto_tls_set_error (error, "generating a key");
  subject = X509_get_subject_name (cert);
  if (!X509_set_version (cert, X509_VERSION_3) ||
      !ASN1_INTEGER_set (X509_get_serialNumber (cert), (long) g_random_int_range (1, G_MAXINT32)) ||
      !X509_gmtime_adj (X509_getm_notBefore (cert), -3600) ||
      !X509_gmtime_adj (X509_getm_notAfter (cert), 86400) ||
      !X509_NAME_add_entry_by_txt (subject, "CN", MBSTRING_UTF8, (const unsigned char *) name, -1,
                                   -1, 0) ||
      !X509_set_issuer_name (cert, subject) || !X509_set_pubkey (cert, key) ||
      !add_ext (cert, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext (cert, NID_subject_alt_name, san) ||
      !X509_sign (cert, key, EVP_sha256 ()))
    return sotto_tls_set_error (error, "building the certificate");
  if (!write_pem (cpath, cert, NULL, error) || !write_pem (kpath, NULL, key, error))
    return FALSE;
  *cert_path = g_steal_pointer (&cpath);
  *key_path = g_steal_pointer (&kpath);
  return TRUE;
}

static gpointer
server_thread (gpointer data)
{
  TuaLoopback *lb = data;
  gint64 deadline = g_get_monotonic_time () + (gint64) TUA_CONN_IO_TIMEOUT_MS * 1000;
  g_autoptr (TuaConn) conn = NULL;
  int fd = -1;

  /* poll in short slices so tua_loopback_free() can stop a server nobody connects to */
  while (fd < 0)
    {
      struct pollfd pfd = { .fd = lb->listen_fd, .events = POLLIN };

      if (g_atomic_int_get (&lb->stop) || g_get_monotonic_time () > deadline)
        {
          g_set_error (&lb->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no client connected");
          return NULL;
        }
      if (poll (&pfd, 1, 50) > 0)
        fd = accept (lb->listen_fd, NULL, NULL);
    }
  conn = tua_conn_new_accepted (fd, lb->ctx, TUA_CONN_IO_TIMEOUT_MS, &lb->error);
  if (conn == NULL)
    return NULL;
  lb->script (conn, lb->user_data, &lb->error);
  return NULL;
}

TuaLoopback *
tua_loopback_new (const char *cert_path, const char *key_path, int min_version,
                  int max_version, TuaLoopbackScript script, gpointer user_data, GError **error)
{
  g_autoptr (TuaLoopback) lb = g_new0 (TuaLoopback, 1);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t sl = sizeof sin;

  lb->listen_fd = -1;
  lb->script = script;
  lb->user_data = user_data;
  lb->joined = TRUE;
  ERR_clear_error ();
  lb->ctx = SSL_CTX_new (TLS_server_method ());
  if (lb->ctx == NULL)
    return sotto_tls_set_error (error, "creating the server TLS context"), NULL;
  if (min_version == 0)
    min_version = TLS1_2_VERSION;
  if (min_version < TLS1_2_VERSION)
    {
      SSL_CTX_set_security_level (lb->ctx, 0);
      SSL_CTX_set_cipher_list (lb->ctx, "DEFAULT:@SECLEVEL=0");
    }
  SSL_CTX_set_options (lb->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (!SSL_CTX_set_min_proto_version (lb->ctx, min_version) ||
      !SSL_CTX_set_max_proto_version (lb->ctx, max_version) ||
      SSL_CTX_use_certificate_chain_file (lb->ctx, cert_path) != 1 ||
      SSL_CTX_use_PrivateKey_file (lb->ctx, key_path, SSL_FILETYPE_PEM) != 1)
    return sotto_tls_set_error (error, "configuring the server TLS context"), NULL;

  lb->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lb->listen_fd < 0 || bind (lb->listen_fd, (struct sockaddr *) &sin, sizeof sin) != 0 ||
      listen (lb->listen_fd, 4) != 0 ||
      getsockname (lb->listen_fd, (struct sockaddr *) &sin, &sl) != 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "listening: %s", g_strerror (e));
      return NULL;
    }
  lb->port = ntohs (sin.sin_port);
  lb->joined = FALSE;
  lb->thread = g_thread_new ("tua-loopback", server_thread, lb);
  return g_steal_pointer (&lb);
}

guint16
tua_loopback_port (TuaLoopback *lb)
{
  return lb->port;
}

static void
join (TuaLoopback *lb)
{
  if (!lb->joined)
    {
      g_thread_join (lb->thread);
      lb->thread = NULL;
      lb->joined = TRUE;
    }
}

gboolean
tua_loopback_finish (TuaLoopback *lb, GError **error)
{
  join (lb);
  if (lb->error)
    {
      g_propagate_error (error, g_error_copy (lb->error));
      return FALSE;
    }
  return TRUE;
}

void
tua_loopback_free (TuaLoopback *lb)
{
  if (lb == NULL)
    return;
  g_atomic_int_set (&lb->stop, 1);
  join (lb);
  if (lb->listen_fd >= 0)
    close (lb->listen_fd);
  if (lb->ctx)
    SSL_CTX_free (lb->ctx);
  g_clear_error (&lb->error);
  g_free (lb);
}

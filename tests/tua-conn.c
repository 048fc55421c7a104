/* tua-conn: blocking TLS client with deadlines: non-blocking socket + SSL + poll(). */
#include "config.h"

#include "tua-conn.h"

#include "sotto-tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct _TuaConn
{
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
  GByteArray *in;   /* bytes read, not yet framed */
  GQueue queue;     /* TuaMsg * read but not yet returned */
  guint pongs;
  gboolean closed;  /* the peer closed or the connection broke */
  GError *broken;   /* a framing/parse failure: the stream is out of sync */
  char *sent_by;
  guint16 local_port;
};

static gint64
deadline_after (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

/* Milliseconds left until @deadline, at least 0. */
static int
ms_left (gint64 deadline)
{
  gint64 left = (deadline - g_get_monotonic_time () + 999) / 1000;

  return (int) CLAMP (left, 0, G_MAXINT);
}

/* Waits for @events on @fd until @deadline: 1 ready, 0 timed out, -1 error (errno). */
static int
wait_fd (int fd, short events, gint64 deadline)
{
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = events };
      int r = poll (&pfd, 1, ms_left (deadline));

      if (r < 0 && errno == EINTR)
        continue;
      return r;
    }
}

static gboolean
timed_out (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out %s", what);
  return FALSE;
}

static int
connect_with_deadline (const char *host, guint16 port, gint64 deadline, GError **error)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
  struct addrinfo *res = NULL;
  char service[8];
  int gai, saved = 0;

  g_snprintf (service, sizeof service, "%u", port);
  gai = getaddrinfo (host, service, &hints, &res);
  if (gai != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_HOST_NOT_FOUND, "resolving %s: %s", host,
                   gai_strerror (gai));
      return -1;
    }
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
    {
      int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai->ai_protocol);
      int one = 1, soerr = 0, r;
      socklen_t sl = sizeof soerr;

      if (fd < 0)
        {
          saved = errno;
          continue;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
        {
          freeaddrinfo (res);
          return fd;
        }
      if (errno == EINPROGRESS)
        {
          r = wait_fd (fd, POLLOUT, deadline);
          if (r == 0)
            {
              close (fd);
              freeaddrinfo (res);
              timed_out (error, "connecting");
              return -1;
            }
          if (r > 0 && getsockopt (fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            {
              freeaddrinfo (res);
              return fd;
            }
          saved = soerr ? soerr : errno;
        }
      else
        saved = errno;
      close (fd);
    }
  freeaddrinfo (res);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "connecting to %s:%u: %s",
               host, port, g_strerror (saved));
  return -1;
}

/* Waits as SSL asks after a WANT_READ/WANT_WRITE: 1 go on, 0 deadline, -1 error. */
static int
wait_ssl (TuaConn *c, int ssl_err, gint64 deadline)
{
  return wait_fd (c->fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline);
}

static void
fill_local_address (TuaConn *c)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[NI_MAXHOST], serv[NI_MAXSERV];

  if (getsockname (c->fd, (struct sockaddr *) &ss, &sl) != 0 ||
      getnameinfo ((struct sockaddr *) &ss, sl, host, sizeof host, serv, sizeof serv,
                   NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    {
      c->sent_by = g_strdup ("127.0.0.1:0");
      return;
    }
  c->local_port = (guint16) g_ascii_strtoull (serv, NULL, 10);
  c->sent_by = strchr (host, ':') ? g_strdup_printf ("[%s]:%s", host, serv)
                                  : g_strdup_printf ("%s:%s", host, serv);
}

static gboolean
is_ip_literal (const char *name)
{
  struct in6_addr a6;
  struct in_addr a4;

  return inet_pton (AF_INET, name, &a4) == 1 || inet_pton (AF_INET6, name, &a6) == 1;
}

TuaConn *
tua_conn_new (const char *host, guint16 port, const char *cafile, const char *verify_name,
              GError **error)
{
  return tua_conn_new_full (host, port, cafile, verify_name, 0, 0, error);
}

TuaConn *
tua_conn_new_full (const char *host, guint16 port, const char *cafile, const char *verify_name,
                   int min_version, int max_version, GError **error)
{
  g_autoptr (TuaConn) c = g_new0 (TuaConn, 1);
  gint64 deadline = deadline_after (TUA_CONN_IO_TIMEOUT_MS);

  g_return_val_if_fail (host != NULL, NULL);
  c->fd = -1;
  c->in = g_byte_array_new ();
  g_queue_init (&c->queue);

  ERR_clear_error ();
  c->ctx = SSL_CTX_new (TLS_client_method ());
  if (c->ctx == NULL)
    return sotto_tls_set_error (error, "creating the TLS context"), NULL;
  if (min_version == 0)
    min_version = TLS1_2_VERSION;
  if (min_version < TLS1_2_VERSION || (max_version != 0 && max_version < TLS1_2_VERSION))
    {
      /* OpenSSL 3 needs security level 0 for TLS < 1.2 (SHA-1/MD5 signatures). */
      SSL_CTX_set_security_level (c->ctx, 0);
      SSL_CTX_set_cipher_list (c->ctx, "DEFAULT:@SECLEVEL=0");
    }
  if (!SSL_CTX_set_min_proto_version (c->ctx, min_version) ||
      !SSL_CTX_set_max_proto_version (c->ctx, max_version))
    return sotto_tls_set_error (error, "setting the TLS versions"), NULL;
  /* A peer closing without close_notify is a normal close for a test, not an SSL error. */
  SSL_CTX_set_options (c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (cafile)
    {
      if (SSL_CTX_load_verify_locations (c->ctx, cafile, NULL) != 1)
        return sotto_tls_set_error (error, "loading the CA file"), NULL;
      SSL_CTX_set_verify (c->ctx, SSL_VERIFY_PEER, NULL);
    }
  else
    SSL_CTX_set_verify (c->ctx, SSL_VERIFY_NONE, NULL);

  c->fd = connect_with_deadline (host, port, deadline, error);
  if (c->fd < 0)
    return NULL;
  fill_local_address (c);

  c->ssl = SSL_new (c->ctx);
  if (c->ssl == NULL || !SSL_set_fd (c->ssl, c->fd))
    return sotto_tls_set_error (error, "creating the TLS connection"), NULL;
  if (verify_name)
    {
      if (cafile && !X509_VERIFY_PARAM_set1_host (SSL_get0_param (c->ssl), verify_name, 0))
        return sotto_tls_set_error (error, "setting the host name to verify"), NULL;
      if (!is_ip_literal (verify_name) && !SSL_set_tlsext_host_name (c->ssl, verify_name))
        return sotto_tls_set_error (error, "setting SNI"), NULL;
    }

  for (;;)
    {
      int r = SSL_connect (c->ssl), err, w;

      if (r == 1)
        break;
      err = SSL_get_error (c->ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
        {
          long v = SSL_get_verify_result (c->ssl);
          g_autofree char *what = NULL;

          if (v != X509_V_OK)
            what = g_strdup_printf ("TLS handshake (certificate verification: %s)",
                                    X509_verify_cert_error_string (v));
          else if (err == SSL_ERROR_SYSCALL || (err == SSL_ERROR_SSL && ERR_peek_error () == 0))
            what = g_strdup_printf ("TLS handshake (connection closed by the server%s%s)",
                                    errno ? ": " : "", errno ? g_strerror (errno) : "");
          else
            what = g_strdup ("TLS handshake");
          return sotto_tls_set_error (error, what), NULL;
        }
      w = wait_ssl (c, err, deadline);
      if (w == 0)
        return timed_out (error, "in the TLS handshake"), NULL;
      if (w < 0)
        {
          int e = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "TLS handshake: %s",
                       g_strerror (e));
          return NULL;
        }
    }
  return g_steal_pointer (&c);
}

TuaConn *
tua_conn_new_accepted (int fd, SSL_CTX *ctx, guint timeout_ms, GError **error)
{
  g_autoptr (TuaConn) c = g_new0 (TuaConn, 1);
  gint64 deadline = deadline_after (timeout_ms);
  int flags;

  c->fd = fd;
  c->in = g_byte_array_new ();
  g_queue_init (&c->queue);
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags | O_NONBLOCK) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "fcntl: %s", g_strerror (e));
      return NULL;
    }
  fill_local_address (c);
  if (!SSL_CTX_up_ref (ctx))
    return sotto_tls_set_error (error, "referencing the TLS context"), NULL;
  c->ctx = ctx;
  ERR_clear_error ();
  c->ssl = SSL_new (ctx);
  if (c->ssl == NULL || !SSL_set_fd (c->ssl, fd))
    return sotto_tls_set_error (error, "creating the TLS connection"), NULL;
  for (;;)
    {
      int r = SSL_accept (c->ssl), err, w;

      if (r == 1)
        return g_steal_pointer (&c);
      err = SSL_get_error (c->ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
        {
          c->closed = TRUE;
          return sotto_tls_set_error (error, "TLS accept"), NULL;
        }
      w = wait_ssl (c, err, deadline);
      if (w == 0)
        {
          c->closed = TRUE;
          return timed_out (error, "in the TLS accept"), NULL;
        }
      if (w < 0)
        {
          int e = errno;
          c->closed = TRUE;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "TLS accept: %s",
                       g_strerror (e));
          return NULL;
        }
    }
}

void
tua_conn_abort (TuaConn *c)
{
  struct linger lg = { .l_onoff = 1, .l_linger = 0 };

  /* No close_notify, and a TCP reset: the way a laptop lid or a NAT drops a connection. */
  if (c->fd >= 0)
    {
      setsockopt (c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close (c->fd);
      c->fd = -1;
    }
  c->closed = TRUE;
}

void
tua_conn_free (TuaConn *c)
{
  if (c == NULL)
    return;
  if (c->ssl)
    {
      if (!c->closed && SSL_is_init_finished (c->ssl))
        SSL_shutdown (c->ssl); /* best effort close_notify; no wait for the peer's */
      SSL_free (c->ssl);
    }
  if (c->ctx)
    SSL_CTX_free (c->ctx);
  if (c->fd >= 0)
    close (c->fd);
  g_byte_array_unref (c->in);
  g_queue_clear_full (&c->queue, (GDestroyNotify) tua_msg_unref);
  g_clear_error (&c->broken);
  g_free (c->sent_by);
  g_free (c);
}

gboolean
tua_conn_send (TuaConn *c, const char *data, gssize len, GError **error)
{
  gint64 deadline = deadline_after (TUA_CONN_IO_TIMEOUT_MS);
  gsize total, done = 0;

  g_return_val_if_fail (c != NULL && data != NULL, FALSE);
  total = len < 0 ? strlen (data) : (gsize) len;
  if (c->closed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection closed");
      return FALSE;
    }
  while (done < total)
    {
      size_t written = 0;
      int err, w;

      ERR_clear_error ();
      if (SSL_write_ex (c->ssl, data + done, total - done, &written) == 1)
        {
          done += written;
          continue;
        }
      err = SSL_get_error (c->ssl, 0);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        {
          w = wait_ssl (c, err, deadline);
          if (w == 0)
            return timed_out (error, "sending");
          if (w > 0)
            continue;
        }
      c->closed = TRUE;
      if (err == SSL_ERROR_SSL)
        return sotto_tls_set_error (error, "sending");
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "sending: %s",
                   errno ? g_strerror (errno) : "connection closed");
      return FALSE;
    }
  return TRUE;
}

gboolean
tua_conn_send_ping (TuaConn *c, GError **error)
{
  return tua_conn_send (c, "\r\n\r\n", 4, error);
}

/* Moves every complete message and CRLF out of the input buffer into the queue. */
static gboolean
drain_input (TuaConn *c, GError **error)
{
  for (;;)
    {
      gsize n = 0;
      g_autoptr (GError) local = NULL;
      TuaMsg *msg = NULL;
      TuaFrameResult r = tua_msg_frame ((const char *) c->in->data, c->in->len, &n, &local);

      switch (r)
        {
        case TUA_FRAME_NEED_MORE:
          return TRUE;
        case TUA_FRAME_CRLF:
          c->pongs++;
          break;
        case TUA_FRAME_MESSAGE:
          if (!tua_msg_parse ((const char *) c->in->data, n, &msg, &local))
            {
              c->broken = g_steal_pointer (&local);
              g_propagate_error (error, g_error_copy (c->broken));
              return FALSE;
            }
          g_queue_push_tail (&c->queue, msg);
          break;
        case TUA_FRAME_INVALID:
        case TUA_FRAME_LAST:
        default:
          c->broken = g_steal_pointer (&local);
          g_propagate_error (error, g_error_copy (c->broken));
          return FALSE;
        }
      g_byte_array_remove_range (c->in, 0, (guint) n);
    }
}

/* Reads whatever arrives until @deadline or until at least one read succeeded. */
static gboolean
read_some (TuaConn *c, gint64 deadline, GError **error)
{
  if (c->broken)
    {
      g_propagate_error (error, g_error_copy (c->broken));
      return FALSE;
    }
  if (c->closed)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection closed");
      return FALSE;
    }
  for (;;)
    {
      guint8 buf[16384];
      size_t got = 0;
      int err, w;

      ERR_clear_error ();
      errno = 0;
      if (SSL_read_ex (c->ssl, buf, sizeof buf, &got) == 1)
        {
          g_byte_array_append (c->in, buf, (guint) got);
          return drain_input (c, error);
        }
      err = SSL_get_error (c->ssl, 0);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        {
          w = wait_ssl (c, err, deadline);
          if (w == 0)
            return timed_out (error, "waiting for data");
          if (w > 0)
            continue;
        }
      /* close_notify, EOF, reset, or a fatal TLS error: the connection is over. */
      c->closed = TRUE;
      if (err == SSL_ERROR_SSL && ERR_peek_error () != 0)
        {
          g_autoptr (GError) tls = NULL;
          sotto_tls_set_error (&tls, "connection closed on a TLS error");
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, tls->message);
          return FALSE;
        }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "connection closed%s%s",
                   errno ? ": " : "", errno ? g_strerror (errno) : "");
      return FALSE;
    }
}

static gboolean
match_any (const TuaMsg *msg, gpointer user_data)
{
  return TRUE;
}

TuaMsg *
tua_conn_recv (TuaConn *c, guint timeout_ms, GError **error)
{
  return tua_conn_recv_match (c, match_any, NULL, timeout_ms, error);
}

TuaMsg *
tua_conn_recv_match (TuaConn *c, TuaMsgMatchFunc match, gpointer user_data, guint timeout_ms,
                     GError **error)
{
  gint64 deadline = deadline_after (timeout_ms);
  guint checked = 0;

  g_return_val_if_fail (c != NULL && match != NULL, NULL);
  for (;;)
    {
      /* only look at messages not checked before: a match function may have side effects */
      for (GList *l = g_queue_peek_nth_link (&c->queue, checked); l; l = l->next, checked++)
        if (match (l->data, user_data))
          {
            TuaMsg *msg = l->data;
            g_queue_delete_link (&c->queue, l);
            return msg;
          }
      if (!read_some (c, deadline, error))
        return NULL;
    }
}

guint
tua_conn_queued (TuaConn *c)
{
  return c->queue.length;
}

guint
tua_conn_pongs (TuaConn *c)
{
  return c->pongs;
}

gboolean
tua_conn_wait_pong (TuaConn *c, guint timeout_ms, GError **error)
{
  gint64 deadline = deadline_after (timeout_ms);
  guint before = c->pongs;

  while (c->pongs == before)
    if (!read_some (c, deadline, error))
      return FALSE;
  return TRUE;
}

gboolean
tua_conn_is_closed (TuaConn *c, guint timeout_ms)
{
  gint64 deadline = deadline_after (timeout_ms);

  for (;;)
    {
      g_autoptr (GError) error = NULL;

      if (read_some (c, deadline, &error))
        continue;
      return !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    }
}

const char *
tua_conn_local_sent_by (TuaConn *c)
{
  return c->sent_by;
}

guint16
tua_conn_local_port (TuaConn *c)
{
  return c->local_port;
}

int
tua_conn_tls_version (TuaConn *c)
{
  return SSL_version (c->ssl);
}

const char *
tua_conn_tls_version_name (TuaConn *c)
{
  return SSL_get_version (c->ssl);
}

X509 *
tua_conn_peer_certificate (TuaConn *c)
{
  return SSL_get1_peer_certificate (c->ssl);
}

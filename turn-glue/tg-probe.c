/* tg-probe: blocking STUN/TURN probes with deadlines. See tg-probe.h. */
#include "config.h"

#define G_LOG_DOMAIN "tg-probe"

#include "tg-probe.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "sotto-tls.h"
#include "sotto-util.h"

G_DEFINE_QUARK (tg-probe-error-quark, tg_probe_error)
G_DEFINE_QUARK (tg-probe-stun-error-quark, tg_probe_stun_error)

#define SOFTWARE "sotto-turn"
#define RX_MAX (TG_STUN_MAX_LEN + TG_STUN_HEADER_LEN)

const char *
tg_probe_transport_to_string (TgProbeTransport transport)
{
  static const char *const names[] = { "UDP", "TCP", "TLS" };
  return transport < TG_PROBE_TRANSPORT_LAST ? names[transport] : "invalid";
}

struct _TgProbeConn
{
  TgProbeTransport transport;
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
  char *peer;
  GByteArray *rx; /* stream transports: bytes read but not yet framed */
};

void
tg_probe_conn_free (TgProbeConn *conn)
{
  if (conn == NULL)
    return;
  if (conn->ssl)
    {
      SSL_shutdown (conn->ssl); /* best effort close_notify; the socket is non-blocking */
      SSL_free (conn->ssl);
    }
  if (conn->ctx)
    SSL_CTX_free (conn->ctx);
  if (conn->fd >= 0)
    close (conn->fd);
  g_free (conn->peer);
  g_byte_array_unref (conn->rx);
  g_free (conn);
}

const char *
tg_probe_conn_peer (const TgProbeConn *conn)
{
  return conn->peer;
}

static int
ms_left (gint64 deadline)
{
  gint64 left = deadline - g_get_monotonic_time ();
  if (left <= 0)
    return 0;
  return (int) MIN ((left + 999) / 1000, G_MAXINT);
}

/* Waits until @fd is ready for @events; FALSE with TIMEOUT at the deadline. */
static gboolean
wait_fd (int fd, short events, gint64 deadline, const char *what, GError **error)
{
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = events };
      int left = ms_left (deadline);
      int r;

      if (left == 0)
        {
          g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_TIMEOUT, "no answer (%s timed out)",
                       what);
          return FALSE;
        }
      r = poll (&pfd, 1, left);
      if (r > 0)
        return TRUE;
      if (r < 0 && errno != EINTR)
        {
          g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_CONNECT, "poll: %s",
                       g_strerror (errno));
          return FALSE;
        }
    }
}

static char *
sockaddr_to_string (const struct sockaddr *sa, socklen_t len)
{
  char host[NI_MAXHOST], serv[NI_MAXSERV];

  if (getnameinfo (sa, len, host, sizeof host, serv, sizeof serv,
                   NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return g_strdup ("?");
  return sa->sa_family == AF_INET6 ? g_strdup_printf ("[%s]:%s", host, serv)
                                   : g_strdup_printf ("%s:%s", host, serv);
}

static gboolean
set_connect_error (GError **error, int err, const char *peer)
{
  g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_CONNECT, "%s: %s", peer,
               err == ECONNREFUSED ? "connection refused (nothing listens there?)"
                                   : g_strerror (err));
  return FALSE;
}

/* A connected socket to one of @host's addresses (tried in order for TCP). */
static gboolean
connect_socket (TgProbeConn *conn, const TgProbeTarget *t, gint64 deadline, GError **error)
{
  struct addrinfo hints = { 0 }, *res = NULL;
  char port[8];
  int rc;
  g_autoptr (GError) last = NULL;

  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = t->transport == TG_PROBE_UDP ? SOCK_DGRAM : SOCK_STREAM;
  g_snprintf (port, sizeof port, "%u", t->port);
  rc = getaddrinfo (t->host, port, &hints, &res);
  if (rc != 0 || res == NULL)
    {
      g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_RESOLVE, "cannot resolve %s: %s",
                   t->host, rc ? gai_strerror (rc) : "no address");
      return FALSE;
    }
  for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next)
    {
      g_autofree char *peer = sockaddr_to_string (ai->ai_addr, ai->ai_addrlen);
      int fd = socket (ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int err = 0;

      if (fd < 0)
        {
          g_clear_error (&last);
          set_connect_error (&last, errno, peer);
          continue;
        }
      if (connect (fd, ai->ai_addr, ai->ai_addrlen) < 0)
        {
          err = errno;
          if (err == EINPROGRESS)
            {
              socklen_t elen = sizeof err;
              g_clear_error (&last);
              if (!wait_fd (fd, POLLOUT, deadline, "TCP connect", &last))
                {
                  close (fd);
                  break; /* the deadline is spent: no other address has time left */
                }
              getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &elen);
            }
        }
      if (err != 0)
        {
          g_clear_error (&last);
          set_connect_error (&last, err, peer);
          close (fd);
          continue;
        }
      conn->fd = fd;
      conn->peer = g_steal_pointer (&peer);
      break;
    }
  freeaddrinfo (res);
  if (conn->fd < 0)
    {
      g_propagate_error (error, g_steal_pointer (&last));
      return FALSE;
    }
  return TRUE;
}

static gboolean
tls_error (GError **error, const char *what, SSL *ssl)
{
  long vr = ssl ? SSL_get_verify_result (ssl) : X509_V_OK;
  unsigned long e = ERR_peek_last_error ();
  char buf[256] = "";

  if (vr != X509_V_OK)
    g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_TLS, "%s: certificate not accepted: %s",
                 what, X509_verify_cert_error_string (vr));
  else
    {
      if (e)
        ERR_error_string_n (e, buf, sizeof buf);
      g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_TLS, "%s: %s", what,
                   e ? buf : "connection closed during the handshake");
    }
  ERR_clear_error ();
  return FALSE;
}

/* Runs an SSL operation's want-read/want-write loop against the deadline. */
static gboolean
ssl_wait (TgProbeConn *conn, int ret, gint64 deadline, const char *what, GError **error)
{
  int e = SSL_get_error (conn->ssl, ret);

  if (e == SSL_ERROR_WANT_READ)
    return wait_fd (conn->fd, POLLIN, deadline, what, error);
  if (e == SSL_ERROR_WANT_WRITE)
    return wait_fd (conn->fd, POLLOUT, deadline, what, error);
  if (e == SSL_ERROR_ZERO_RETURN)
    {
      g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_CONNECT, "%s: server closed the TLS "
                   "connection", conn->peer);
      return FALSE;
    }
  if (e == SSL_ERROR_SYSCALL && ERR_peek_error () == 0)
    {
      int err = errno ? errno : ECONNRESET;
      g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_CONNECT, "%s: %s", conn->peer,
                   ret == 0 ? "server closed the connection" : g_strerror (err));
      return FALSE;
    }
  return tls_error (error, what, conn->ssl);
}

static gboolean
start_tls (TgProbeConn *conn, const TgProbeTarget *t, gint64 deadline, GError **error)
{
  const char *name = t->tls_name ? t->tls_name : t->host;
  X509_VERIFY_PARAM *param;

  ERR_clear_error ();
  conn->ctx = SSL_CTX_new (TLS_client_method ());
  if (conn->ctx == NULL)
    return tls_error (error, "SSL_CTX_new", NULL);
  SSL_CTX_set_min_proto_version (conn->ctx, TLS1_2_VERSION);
  if (!t->no_verify)
    {
      gboolean ok = t->ca_file ? SSL_CTX_load_verify_locations (conn->ctx, t->ca_file, NULL)
                               : SSL_CTX_set_default_verify_paths (conn->ctx);
      if (!ok)
        return tls_error (error, t->ca_file ? t->ca_file : "system CA store", NULL);
      SSL_CTX_set_verify (conn->ctx, SSL_VERIFY_PEER, NULL);
    }
  conn->ssl = SSL_new (conn->ctx);
  if (conn->ssl == NULL || !SSL_set_fd (conn->ssl, conn->fd))
    return tls_error (error, "SSL_new", NULL);
  param = SSL_get0_param (conn->ssl);
  if (g_hostname_is_ip_address (name))
    {
      if (!t->no_verify && !X509_VERIFY_PARAM_set1_ip_asc (param, name))
        return tls_error (error, "bad IP address", NULL);
    }
  else
    {
      /* SNI, and the name the certificate must carry (no wildcards across labels). */
      SSL_set_tlsext_host_name (conn->ssl, name);
      X509_VERIFY_PARAM_set_hostflags (param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (!t->no_verify && !SSL_set1_host (conn->ssl, name))
        return tls_error (error, "bad host name", NULL);
    }
  for (;;)
    {
      int r = SSL_connect (conn->ssl);
      if (r == 1)
        return TRUE;
      if (!ssl_wait (conn, r, deadline, "TLS handshake", error))
        return FALSE;
    }
}

TgProbeConn *
tg_probe_conn_open (const TgProbeTarget *target, gint64 deadline, GError **error)
{
  g_autoptr (TgProbeConn) conn = g_new0 (TgProbeConn, 1);

  g_return_val_if_fail (target->transport < TG_PROBE_TRANSPORT_LAST && target->host, NULL);
  conn->transport = target->transport;
  conn->fd = -1;
  conn->rx = g_byte_array_new ();
  if (!connect_socket (conn, target, deadline, error))
    return NULL;
  if (target->transport == TG_PROBE_TLS && !start_tls (conn, target, deadline, error))
    return NULL;
  return g_steal_pointer (&conn);
}

static gboolean
stream_write (TgProbeConn *conn, const guint8 *data, gsize len, gint64 deadline, GError **error)
{
  while (len > 0)
    {
      ssize_t n;

      if (conn->ssl)
        {
          size_t w = 0;
          int r = SSL_write_ex (conn->ssl, data, len, &w);
          if (r <= 0)
            {
              if (!ssl_wait (conn, r, deadline, "TLS write", error))
                return FALSE;
              continue;
            }
          n = (ssize_t) w;
        }
      else
        {
          n = send (conn->fd, data, len, MSG_NOSIGNAL);
          if (n < 0)
            {
              if (errno == EAGAIN || errno == EINTR)
                {
                  if (!wait_fd (conn->fd, POLLOUT, deadline, "TCP write", error))
                    return FALSE;
                  continue;
                }
              return set_connect_error (error, errno, conn->peer);
            }
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* Reads more bytes into conn->rx. */
static gboolean
stream_fill (TgProbeConn *conn, gint64 deadline, GError **error)
{
  guint8 buf[2048];

  for (;;)
    {
      ssize_t n;

      if (conn->ssl)
        {
          size_t got = 0;
          int r = SSL_read_ex (conn->ssl, buf, sizeof buf, &got);
          if (r <= 0)
            {
              if (!ssl_wait (conn, r, deadline, "waiting for the answer", error))
                return FALSE;
              continue;
            }
          n = (ssize_t) got;
        }
      else
        {
          n = recv (conn->fd, buf, sizeof buf, 0);
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            {
              if (!wait_fd (conn->fd, POLLIN, deadline, "waiting for the answer", error))
                return FALSE;
              continue;
            }
          if (n < 0)
            return set_connect_error (error, errno, conn->peer);
          if (n == 0)
            {
              g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_CONNECT,
                           "%s: server closed the connection", conn->peer);
              return FALSE;
            }
        }
      if (conn->rx->len + (gsize) n > 2 * RX_MAX)
        {
          g_set_error_literal (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                               "server sent more than a STUN message holds");
          return FALSE;
        }
      g_byte_array_append (conn->rx, buf, (guint) n);
      return TRUE;
    }
}

/* The next STUN message from a stream (RFC 8489 §6.2.2: messages are self-delimiting). */
static TgStunMessage *
stream_next (TgProbeConn *conn, gint64 deadline, GError **error)
{
  gsize total;
  TgStunMessage *m;

  while (conn->rx->len < TG_STUN_HEADER_LEN)
    if (!stream_fill (conn, deadline, error))
      return NULL;
  total = tg_stun_frame_length (conn->rx->data);
  if (total == 0)
    {
      g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                   "%s answered something that is not STUN", conn->peer);
      return NULL;
    }
  while (conn->rx->len < total)
    if (!stream_fill (conn, deadline, error))
      return NULL;
  m = tg_stun_message_parse (conn->rx->data, total, error);
  g_byte_array_remove_range (conn->rx, 0, (guint) total);
  if (m == NULL)
    g_prefix_error (error, "%s: ", conn->peer);
  return m;
}

static gboolean
is_answer (TgStunMessage *m, GBytes *request)
{
  const guint8 *req = g_bytes_get_data (request, NULL);
  TgStunClass k = tg_stun_message_class (m);

  return (k == TG_STUN_CLASS_SUCCESS || k == TG_STUN_CLASS_ERROR)
         && memcmp (tg_stun_message_tid (m), req + 8, TG_STUN_TID_LEN) == 0;
}

static TgStunMessage *
udp_transact (TgProbeConn *conn, GBytes *request, gint64 deadline, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (request, &len);
  gint64 rto = 250 * 1000;

  for (;;)
    {
      gint64 resend = MIN (deadline, g_get_monotonic_time () + rto);

      if (send (conn->fd, data, len, 0) < 0 && errno != EAGAIN && errno != EINTR)
        return set_connect_error (error, errno, conn->peer), NULL;
      for (;;)
        {
          g_autoptr (GError) local = NULL;
          guint8 buf[RX_MAX];
          ssize_t n;
          TgStunMessage *m;

          if (!wait_fd (conn->fd, POLLIN, resend, "UDP request", &local))
            {
              if (g_get_monotonic_time () >= deadline)
                {
                  g_propagate_error (error, g_steal_pointer (&local));
                  return NULL;
                }
              break; /* retransmit */
            }
          n = recv (conn->fd, buf, sizeof buf, 0);
          if (n < 0)
            {
              if (errno == EAGAIN || errno == EINTR)
                continue;
              /* A connected UDP socket reports ICMP port unreachable as ECONNREFUSED. */
              return set_connect_error (error, errno, conn->peer), NULL;
            }
          m = tg_stun_message_parse (buf, (gsize) n, NULL);
          if (m != NULL && is_answer (m, request))
            return m;
          tg_stun_message_free (m); /* stray or damaged datagram: ignore (§6.3) */
        }
      rto = MIN (rto * 2, 4 * G_USEC_PER_SEC);
    }
}

TgStunMessage *
tg_probe_conn_transact (TgProbeConn *conn, GBytes *request, gint64 deadline, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (request, &len);

  if (conn->transport == TG_PROBE_UDP)
    return udp_transact (conn, request, deadline, error);
  if (!stream_write (conn, data, len, deadline, error))
    return NULL;
  for (;;)
    {
      TgStunMessage *m = stream_next (conn, deadline, error);
      if (m == NULL || is_answer (m, request))
        return m;
      tg_stun_message_free (m); /* an indication or an old answer */
    }
}

static void
new_tid (guint8 tid[TG_STUN_TID_LEN])
{
  if (!sotto_util_random (tid, TG_STUN_TID_LEN, NULL))
    g_error ("no random bytes for a STUN transaction id"); /* RAND_bytes never fails in practice */
}

static gboolean
set_stun_error (TgStunMessage *m, GError **error)
{
  guint code = 0;
  g_autofree char *reason = NULL;

  if (!tg_stun_message_get_error_code (m, &code, &reason, NULL))
    {
      g_set_error_literal (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                           "error response without a valid ERROR-CODE");
      return FALSE;
    }
  g_set_error (error, TG_PROBE_STUN_ERROR, (gint) code, "%u %s", code, reason);
  return FALSE;
}

gboolean
tg_probe_binding (const TgProbeTarget *target, gint64 deadline, TgStunAddress *mapped,
                  GError **error)
{
  g_autoptr (TgProbeConn) conn = NULL;
  g_autoptr (TgStunBuilder) b = NULL;
  g_autoptr (GBytes) req = NULL;
  g_autoptr (TgStunMessage) resp = NULL;
  guint8 tid[TG_STUN_TID_LEN];
  TgStunAddress a;

  conn = tg_probe_conn_open (target, deadline, error);
  if (conn == NULL)
    return FALSE;
  new_tid (tid);
  b = tg_stun_builder_new (TG_STUN_METHOD_BINDING, TG_STUN_CLASS_REQUEST, tid);
  tg_stun_builder_add_fingerprint (b);
  req = tg_stun_builder_end (b);
  resp = tg_probe_conn_transact (conn, req, deadline, error);
  if (resp == NULL)
    return FALSE;
  if (tg_stun_message_method (resp) != TG_STUN_METHOD_BINDING)
    {
      g_set_error_literal (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                           "answer to Binding is of another method");
      return FALSE;
    }
  if (tg_stun_message_class (resp) == TG_STUN_CLASS_ERROR)
    return set_stun_error (resp, error);
  if (!tg_stun_message_get_xor_address (resp, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a, NULL)
      && !tg_stun_message_get_address (resp, TG_STUN_ATTR_MAPPED_ADDRESS, &a, NULL))
    {
      g_set_error_literal (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                           "Binding response without a valid mapped address");
      return FALSE;
    }
  if (mapped)
    *mapped = a;
  return TRUE;
}

/* TURN */

struct _TgProbeTurn
{
  TgProbeConn *conn;
  char *username;
  char *realm;
  char *nonce;
  guint8 key[16];
  TgStunAddress relayed;
  TgStunAddress mapped;
  guint32 lifetime;
};

void
tg_probe_turn_free (TgProbeTurn *turn)
{
  if (turn == NULL)
    return;
  tg_probe_conn_free (turn->conn);
  g_free (turn->username);
  g_free (turn->realm);
  g_free (turn->nonce);
  OPENSSL_cleanse (turn->key, sizeof turn->key);
  g_free (turn);
}

const TgStunAddress *
tg_probe_turn_relayed (const TgProbeTurn *turn)
{
  return &turn->relayed;
}

const TgStunAddress *
tg_probe_turn_mapped (const TgProbeTurn *turn)
{
  return &turn->mapped;
}

guint32
tg_probe_turn_lifetime (const TgProbeTurn *turn)
{
  return turn->lifetime;
}

/* Optional attributes for a request: a peer (CreatePermission) and a lifetime (Refresh). */
typedef struct
{
  const TgStunAddress *peer;
  gboolean has_lifetime;
  guint32 lifetime;
} Extra;

static GBytes *
build (TgProbeTurn *turn, guint16 method, const Extra *x, gboolean auth)
{
  g_autoptr (TgStunBuilder) b = NULL;
  guint8 tid[TG_STUN_TID_LEN];

  new_tid (tid);
  b = tg_stun_builder_new (method, TG_STUN_CLASS_REQUEST, tid);
  tg_stun_builder_add_string (b, TG_STUN_ATTR_SOFTWARE, SOFTWARE);
  if (method == TG_STUN_METHOD_ALLOCATE)
    tg_stun_builder_add_u32 (b, TG_STUN_ATTR_REQUESTED_TRANSPORT, TG_STUN_TRANSPORT_UDP << 24);
  if (x && x->peer)
    tg_stun_builder_add_xor_address (b, TG_STUN_ATTR_XOR_PEER_ADDRESS, x->peer);
  if (x && x->has_lifetime)
    tg_stun_builder_add_u32 (b, TG_STUN_ATTR_LIFETIME, x->lifetime);
  if (auth)
    {
      /* Each add fails only past TG_STUN_MAX_LEN; the server's REALM and NONCE are bounded
       * (763 bytes each), so a request with them still fits. */
      tg_stun_builder_add_string (b, TG_STUN_ATTR_USERNAME, turn->username);
      tg_stun_builder_add_string (b, TG_STUN_ATTR_REALM, turn->realm);
      tg_stun_builder_add_string (b, TG_STUN_ATTR_NONCE, turn->nonce);
      tg_stun_builder_add_integrity (b, turn->key, sizeof turn->key);
    }
  tg_stun_builder_add_fingerprint (b);
  return tg_stun_builder_end (b);
}

/* Takes REALM and NONCE from a 401 or 438 answer (RFC 8489 §9.2.4). */
static gboolean
take_challenge (TgProbeTurn *turn, TgStunMessage *m, const char *password, GError **error)
{
  g_autofree char *realm = tg_stun_message_get_string (m, TG_STUN_ATTR_REALM, error);
  g_autofree char *nonce = realm ? tg_stun_message_get_string (m, TG_STUN_ATTR_NONCE, error)
                                 : NULL;

  if (nonce == NULL)
    {
      g_prefix_error (error, "challenge: ");
      return FALSE;
    }
  if (password)
    tg_stun_long_term_key (turn->username, realm, password, turn->key);
  g_free (turn->realm);
  turn->realm = g_steal_pointer (&realm);
  g_free (turn->nonce);
  turn->nonce = g_steal_pointer (&nonce);
  return TRUE;
}

/* An authenticated request, retried once on 438 Stale Nonce. Returns the answer (success or
 * error) of the right method; a success must carry a valid MESSAGE-INTEGRITY. */
static TgStunMessage *
auth_transact (TgProbeTurn *turn, guint16 method, const Extra *x, gint64 deadline,
               GError **error)
{
  for (int attempt = 0;; attempt++)
    {
      g_autoptr (GBytes) req = build (turn, method, x, TRUE);
      g_autoptr (TgStunMessage) m = tg_probe_conn_transact (turn->conn, req, deadline, error);
      guint code = 0;

      if (m == NULL)
        return NULL;
      if (tg_stun_message_method (m) != method)
        {
          g_set_error (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                       "answer to %s is of another method", tg_stun_method_to_string (method));
          return NULL;
        }
      if (tg_stun_message_class (m) == TG_STUN_CLASS_SUCCESS)
        {
          if (!tg_stun_message_check_integrity (m, turn->key, sizeof turn->key, error))
            {
              g_prefix_error (error, "%s response: ", tg_stun_method_to_string (method));
              return NULL;
            }
          return g_steal_pointer (&m);
        }
      if (attempt == 0 && tg_stun_message_get_error_code (m, &code, NULL, NULL) && code == 438)
        {
          if (!take_challenge (turn, m, NULL, error))
            return NULL;
          continue;
        }
      return g_steal_pointer (&m);
    }
}

TgProbeTurn *
tg_probe_turn_allocate (const TgProbeTarget *target, const char *username, const char *password,
                        gint64 deadline, GError **error)
{
  g_autoptr (TgProbeTurn) turn = g_new0 (TgProbeTurn, 1);
  g_autoptr (GBytes) req = NULL;
  g_autoptr (TgStunMessage) m = NULL;
  guint code = 0;

  turn->username = g_strdup (username);
  turn->conn = tg_probe_conn_open (target, deadline, error);
  if (turn->conn == NULL)
    return NULL;

  /* RFC 8656 §7.1 with §9.2.3: the first request goes without credentials to learn the realm
   * and a nonce from the 401. */
  req = build (turn, TG_STUN_METHOD_ALLOCATE, NULL, FALSE);
  m = tg_probe_conn_transact (turn->conn, req, deadline, error);
  if (m == NULL)
    return NULL;
  if (tg_stun_message_class (m) != TG_STUN_CLASS_ERROR
      || !tg_stun_message_get_error_code (m, &code, NULL, NULL) || code != 401)
    {
      if (tg_stun_message_class (m) == TG_STUN_CLASS_ERROR)
        return set_stun_error (m, error), NULL;
      g_set_error_literal (error, TG_PROBE_ERROR, TG_PROBE_ERROR_PROTOCOL,
                           "server allocated without asking for credentials");
      return NULL;
    }
  if (!take_challenge (turn, m, password, error))
    return NULL;
  g_clear_pointer (&m, tg_stun_message_free);

  m = auth_transact (turn, TG_STUN_METHOD_ALLOCATE, NULL, deadline, error);
  if (m == NULL)
    return NULL;
  if (tg_stun_message_class (m) == TG_STUN_CLASS_ERROR)
    return set_stun_error (m, error), NULL;
  if (!tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_RELAYED_ADDRESS, &turn->relayed,
                                        error)
      || !tg_stun_message_get_xor_address (m, TG_STUN_ATTR_XOR_MAPPED_ADDRESS, &turn->mapped,
                                           error)
      || !tg_stun_message_get_u32 (m, TG_STUN_ATTR_LIFETIME, &turn->lifetime, error))
    {
      g_prefix_error (error, "Allocate response: ");
      return NULL;
    }
  return g_steal_pointer (&turn);
}

gboolean
tg_probe_turn_create_permission (TgProbeTurn *turn, const TgStunAddress *peer, gint64 deadline,
                                 guint *stun_code, char **reason, GError **error)
{
  Extra x = { .peer = peer };
  g_autoptr (TgStunMessage) m = NULL;
  guint code = 0;
  g_autofree char *why = NULL;

  m = auth_transact (turn, TG_STUN_METHOD_CREATE_PERMISSION, &x, deadline, error);
  if (m == NULL)
    return FALSE;
  if (tg_stun_message_class (m) == TG_STUN_CLASS_ERROR
      && !tg_stun_message_get_error_code (m, &code, &why, error))
    return FALSE;
  *stun_code = code;
  if (reason)
    *reason = g_steal_pointer (&why);
  return TRUE;
}

void
tg_probe_turn_release (TgProbeTurn *turn, gint64 deadline)
{
  Extra x = { .has_lifetime = TRUE, .lifetime = 0 };

  if (turn == NULL)
    return;
  tg_stun_message_free (auth_transact (turn, TG_STUN_METHOD_REFRESH, &x, deadline, NULL));
  tg_probe_turn_free (turn);
}

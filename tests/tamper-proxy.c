/* tamper-proxy: a fingerprint-swapping TLS man in the middle, for tests (see tamper-proxy.h).
 * One thread, poll() with a short timeout, blocking-free SSL on non-blocking sockets. */
#include "config.h"

#include "tamper-proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_PAIRS 8
#define PATTERN   "a=fingerprint:sha-256 "
#define FP_LEN    95 /* 32 hex pairs and 31 colons */
#define HOLD      (sizeof PATTERN - 1 + FP_LEN)

typedef struct
{
  int fd[2];      /* 0: client side, 1: server side */
  SSL *ssl[2];
  gboolean up[2]; /* handshake done */
  GByteArray *to_client; /* held back so a fingerprint split across reads is still seen */
  gsize scanned;         /* patterns starting before this offset were handled */
} Pair;

struct _TamperProxy
{
  int listen_fd;
  guint16 port;
  guint16 server_port;
  SSL_CTX *server_ctx; /* we are the server for the client */
  SSL_CTX *client_ctx; /* we are a client of the real server */
  Pair pairs[MAX_PAIRS];
  guint n_pairs;
  gint rewrites;
  gint stop;
  GThread *thread;
};

static void
nonblock (int fd)
{
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
}

/* Swaps every complete fingerprint starting in @buf[*from..len) for a different value of the
 * same length, and moves *from past every start already judged. */
static guint
rewrite (guint8 *buf, gsize *from, gsize len)
{
  guint n = 0;
  gsize plen = sizeof PATTERN - 1;
  gsize i;

  for (i = *from; i + plen + FP_LEN <= len; i++)
    if (memcmp (buf + i, PATTERN, plen) == 0)
      {
        guint8 *fp = buf + i + plen;

        /* Flip the first hex digit: a valid fingerprint, of another certificate. */
        fp[0] = fp[0] == '0' ? '1' : '0';
        n++;
        i += plen + FP_LEN - 1;
      }
  *from = MAX (*from, i);
  return n;
}

static gboolean
ssl_write_all (SSL *ssl, const guint8 *data, gsize len)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (len > 0 && g_get_monotonic_time () < deadline)
    {
      int n = SSL_write (ssl, data, (int) len);

      if (n > 0)
        {
          data += n;
          len -= n;
          continue;
        }
      if (SSL_get_error (ssl, n) != SSL_ERROR_WANT_WRITE
          && SSL_get_error (ssl, n) != SSL_ERROR_WANT_READ)
        return FALSE;
      g_usleep (1000);
    }
  return len == 0;
}

static void
pair_close (Pair *p)
{
  for (int i = 0; i < 2; i++)
    {
      if (p->ssl[i] != NULL)
        SSL_free (p->ssl[i]);
      if (p->fd[i] >= 0)
        close (p->fd[i]);
      p->ssl[i] = NULL;
      p->fd[i] = -1;
    }
  if (p->to_client != NULL)
    g_byte_array_free (p->to_client, TRUE);
  p->to_client = NULL;
}

static void
accept_one (TamperProxy *self)
{
  int cfd = accept (self->listen_fd, NULL, NULL);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (self->server_port) };
  Pair *p;
  int sfd;

  if (cfd < 0)
    return;
  if (self->n_pairs == MAX_PAIRS)
    {
      close (cfd);
      return;
    }
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  sfd = socket (AF_INET, SOCK_STREAM, 0);
  if (connect (sfd, (struct sockaddr *) &sa, sizeof sa) != 0)
    {
      close (cfd);
      close (sfd);
      return;
    }
  nonblock (cfd);
  nonblock (sfd);
  p = &self->pairs[self->n_pairs++];
  p->fd[0] = cfd;
  p->fd[1] = sfd;
  p->ssl[0] = SSL_new (self->server_ctx);
  p->ssl[1] = SSL_new (self->client_ctx);
  SSL_set_fd (p->ssl[0], cfd);
  SSL_set_fd (p->ssl[1], sfd);
  SSL_set_tlsext_host_name (p->ssl[1], "localhost");
  SSL_set_accept_state (p->ssl[0]);
  SSL_set_connect_state (p->ssl[1]);
  p->up[0] = p->up[1] = FALSE;
  p->to_client = g_byte_array_new ();
  p->scanned = 0;
}

/* Moves what side @from has to the other side; FALSE when the pair is finished. */
static gboolean
pump (TamperProxy *self, Pair *p, int from, gboolean flush)
{
  guint8 buf[16384];

  for (;;)
    {
      int n = SSL_read (p->ssl[from], buf, sizeof buf);

      if (n <= 0)
        {
          int e = SSL_get_error (p->ssl[from], n);

          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
          return FALSE;
        }
      if (from == 0)
        {
          if (!ssl_write_all (p->ssl[1], buf, n))
            return FALSE;
        }
      else
        g_byte_array_append (p->to_client, buf, n);
    }
  if (p->to_client->len > 0)
    {
      gsize keep = flush ? 0 : MIN (p->to_client->len, HOLD);
      gsize send = p->to_client->len - keep;

      g_atomic_int_add (&self->rewrites,
                        rewrite (p->to_client->data, &p->scanned, p->to_client->len));
      if (send > 0)
        {
          if (!ssl_write_all (p->ssl[0], p->to_client->data, send))
            return FALSE;
          g_byte_array_remove_range (p->to_client, 0, send);
          p->scanned = p->scanned > send ? p->scanned - send : 0;
        }
    }
  return TRUE;
}

static gpointer
run (gpointer data)
{
  TamperProxy *self = data;

  while (!g_atomic_int_get (&self->stop))
    {
      struct pollfd pfd[1 + 2 * MAX_PAIRS];
      nfds_t n = 0;
      int r;

      pfd[n++] = (struct pollfd){ .fd = self->listen_fd, .events = POLLIN };
      for (guint i = 0; i < self->n_pairs; i++)
        for (int s = 0; s < 2; s++)
          pfd[n++] = (struct pollfd){ .fd = self->pairs[i].fd[s], .events = POLLIN };
      r = poll (pfd, n, 20);
      if (r < 0 && errno != EINTR)
        break;
      if (pfd[0].revents & POLLIN)
        accept_one (self);
      for (guint i = 0; i < self->n_pairs; i++)
        {
          Pair *p = &self->pairs[i];
          gboolean ok = TRUE;

          if (p->fd[0] < 0)
            continue;
          for (int s = 0; s < 2 && ok; s++)
            if (!p->up[s])
              {
                int h = SSL_do_handshake (p->ssl[s]);

                if (h == 1)
                  p->up[s] = TRUE;
                else if (SSL_get_error (p->ssl[s], h) != SSL_ERROR_WANT_READ
                         && SSL_get_error (p->ssl[s], h) != SSL_ERROR_WANT_WRITE)
                  ok = FALSE;
              }
          if (ok && p->up[0] && p->up[1])
            /* Flush the held tail when the peer has gone quiet (r == 0: a poll timeout). */
            ok = pump (self, p, 0, FALSE) && pump (self, p, 1, r == 0);
          if (!ok)
            pair_close (p);
        }
    }
  return NULL;
}

TamperProxy *
tamper_proxy_start (guint16 server_port, const char *cert_pem, const char *key_pem)
{
  TamperProxy *self = g_new0 (TamperProxy, 1);
  struct sockaddr_in sa = { .sin_family = AF_INET };
  socklen_t len = sizeof sa;

  self->server_port = server_port;
  self->server_ctx = SSL_CTX_new (TLS_server_method ());
  g_assert_cmpint (SSL_CTX_use_certificate_chain_file (self->server_ctx, cert_pem), ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey_file (self->server_ctx, key_pem, SSL_FILETYPE_PEM),
                   ==, 1);
  self->client_ctx = SSL_CTX_new (TLS_client_method ());
  self->listen_fd = socket (AF_INET, SOCK_STREAM, 0);
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (self->listen_fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (self->listen_fd, 8), ==, 0);
  g_assert_cmpint (getsockname (self->listen_fd, (struct sockaddr *) &sa, &len), ==, 0);
  self->port = ntohs (sa.sin_port);
  for (guint i = 0; i < MAX_PAIRS; i++)
    self->pairs[i].fd[0] = self->pairs[i].fd[1] = -1;
  self->thread = g_thread_new ("tamper-proxy", run, self);
  return self;
}

guint16
tamper_proxy_port (TamperProxy *self)
{
  return self->port;
}

guint
tamper_proxy_rewrites (TamperProxy *self)
{
  return (guint) g_atomic_int_get (&self->rewrites);
}

void
tamper_proxy_stop (TamperProxy *self)
{
  if (self == NULL)
    return;
  g_atomic_int_set (&self->stop, 1);
  g_thread_join (self->thread);
  for (guint i = 0; i < self->n_pairs; i++)
    pair_close (&self->pairs[i]);
  close (self->listen_fd);
  SSL_CTX_free (self->server_ctx);
  SSL_CTX_free (self->client_ctx);
  g_free (self);
}

#include "config.h"

#include "bench-conn.h"
#include "bench-sip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef enum
{
  CONN_CONNECTING,
  CONN_HANDSHAKING,
  CONN_OPEN,
  CONN_DEAD,
  CONN_LAST
} ConnState;

/* Every epoll entry starts with this, so the loop can dispatch on it. */
typedef struct
{
  gboolean is_conn;
} Watch;

typedef struct
{
  Watch w;
  int fd;
  void (*cb) (int fd, gpointer user);
  gpointer user;
} FdWatch;

struct _BenchConn
{
  Watch w;
  BenchLoop *loop;
  int fd;
  SSL *ssl;
  ConnState state;
  guint32 events;
  GByteArray *rbuf;
  GByteArray *wbuf;
  const BenchConnHandlers *handlers;
  gpointer user;
  int connect_errno; /* a connect() that failed at once, reported on the first event */
  char local[32];
};

struct _BenchLoop
{
  int epfd;
  SSL_CTX *ctx;
  GPtrArray *graveyard; /* closed connections, freed after the current iteration */
  GPtrArray *fd_watches;
};

gint64
bench_now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
conn_free (gpointer data)
{
  BenchConn *c = data;
  g_byte_array_unref (c->rbuf);
  g_byte_array_unref (c->wbuf);
  g_free (c);
}

BenchLoop *
bench_loop_new (SSL_CTX *ctx, GError **error)
{
  int epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "epoll_create1: %s",
                   g_strerror (errno));
      return NULL;
    }
  BenchLoop *loop = g_new0 (BenchLoop, 1);
  loop->epfd = epfd;
  loop->ctx = ctx;
  loop->graveyard = g_ptr_array_new_with_free_func (conn_free);
  loop->fd_watches = g_ptr_array_new_with_free_func (g_free);
  return loop;
}

void
bench_loop_free (BenchLoop *loop)
{
  close (loop->epfd);
  g_ptr_array_unref (loop->graveyard);
  g_ptr_array_unref (loop->fd_watches);
  g_free (loop);
}

gboolean
bench_loop_watch_fd (BenchLoop *loop, int fd, void (*cb) (int fd, gpointer user), gpointer user,
                     GError **error)
{
  FdWatch *fw = g_new0 (FdWatch, 1);
  fw->fd = fd;
  fw->cb = cb;
  fw->user = user;
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = fw };
  if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "epoll_ctl: %s",
                   g_strerror (errno));
      g_free (fw);
      return FALSE;
    }
  g_ptr_array_add (loop->fd_watches, fw);
  return TRUE;
}

static void
conn_set_events (BenchConn *c, guint32 events)
{
  if (events == c->events || c->state == CONN_DEAD)
    return;
  struct epoll_event ev = { .events = events, .data.ptr = c };
  epoll_ctl (c->loop->epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->events = events;
}

static void
conn_teardown (BenchConn *c)
{
  if (c->state == CONN_DEAD)
    return;
  epoll_ctl (c->loop->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  if (c->ssl)
    SSL_free (c->ssl);
  c->ssl = NULL;
  close (c->fd);
  c->fd = -1;
  c->state = CONN_DEAD;
  g_ptr_array_add (c->loop->graveyard, c);
}

static void
conn_fail (BenchConn *c, const char *why)
{
  if (c->state == CONN_DEAD)
    return;
  ERR_clear_error ();
  const BenchConnHandlers *h = c->handlers;
  gpointer user = c->user;
  conn_teardown (c);
  if (h->closed)
    h->closed (c, why, user);
}

void
bench_conn_close (BenchConn *c)
{
  if (c->state == CONN_DEAD)
    return;
  if (c->state == CONN_OPEN)
    (void) SSL_shutdown (c->ssl);
  ERR_clear_error ();
  conn_teardown (c);
}

const char *
bench_conn_local (BenchConn *c)
{
  return c->local;
}

static void
conn_flush (BenchConn *c)
{
  while (c->state == CONN_OPEN && c->wbuf->len > 0)
    {
      int n = SSL_write (c->ssl, c->wbuf->data, (int) MIN (c->wbuf->len, (guint) G_MAXINT));
      if (n > 0)
        {
          g_byte_array_remove_range (c->wbuf, 0, (guint) n);
          continue;
        }
      int err = SSL_get_error (c->ssl, n);
      if (err == SSL_ERROR_WANT_WRITE)
        {
          conn_set_events (c, EPOLLIN | EPOLLOUT);
          return;
        }
      if (err == SSL_ERROR_WANT_READ)
        return;
      conn_fail (c, "write failed");
      return;
    }
  if (c->state == CONN_OPEN)
    conn_set_events (c, EPOLLIN);
}

void
bench_conn_send (BenchConn *c, const char *data, gsize len)
{
  if (c->state == CONN_DEAD)
    return;
  g_byte_array_append (c->wbuf, (const guint8 *) data, (guint) len);
  if (c->state == CONN_OPEN)
    conn_flush (c);
}

/* Hands every complete message in rbuf to the handler. */
static void
conn_deliver (BenchConn *c)
{
  gsize off = 0;
  while (c->state == CONN_OPEN)
    {
      const char *p = (const char *) c->rbuf->data + off;
      gsize avail = c->rbuf->len - off;
      /* CRLF keep-alives (RFC 5626 §3.5.1) between messages. */
      while (avail > 0 && (*p == '\r' || *p == '\n'))
        p++, avail--, off++;
      if (avail == 0)
        break;
      gssize n = bench_sip_frame (p, avail);
      if (n == 0)
        break;
      if (n < 0)
        {
          conn_fail (c, "unparseable message");
          return;
        }
      off += (gsize) n;
      c->handlers->message (c, p, (gsize) n, c->user);
    }
  if (c->state != CONN_DEAD && off > 0)
    g_byte_array_remove_range (c->rbuf, 0, (guint) off);
}

static void
conn_read (BenchConn *c)
{
  guint8 buf[16384];
  while (c->state == CONN_OPEN)
    {
      int n = SSL_read (c->ssl, buf, sizeof buf);
      if (n > 0)
        {
          g_byte_array_append (c->rbuf, buf, (guint) n);
          continue;
        }
      int err = SSL_get_error (c->ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        break;
      conn_deliver (c);
      conn_fail (c, err == SSL_ERROR_ZERO_RETURN ? "closed by the server" : "read failed");
      return;
    }
  conn_deliver (c);
}

static void
conn_handshake (BenchConn *c)
{
  int r = SSL_do_handshake (c->ssl);
  if (r == 1)
    {
      c->state = CONN_OPEN;
      conn_set_events (c, EPOLLIN);
      if (c->handlers->opened)
        c->handlers->opened (c, c->user);
      if (c->state == CONN_OPEN)
        conn_flush (c);
      if (c->state == CONN_OPEN)
        conn_read (c); /* data may have come with the last handshake flight */
      return;
    }
  int err = SSL_get_error (c->ssl, r);
  if (err == SSL_ERROR_WANT_READ)
    conn_set_events (c, EPOLLIN);
  else if (err == SSL_ERROR_WANT_WRITE)
    conn_set_events (c, EPOLLIN | EPOLLOUT);
  else
    conn_fail (c, "TLS handshake failed");
}

static void
conn_connected (BenchConn *c)
{
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (c->connect_errno != 0 || getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0
      || soerr != 0)
    {
      conn_fail (c, "connect failed");
      return;
    }
  struct sockaddr_in local;
  socklen_t ll = sizeof local;
  char ip[INET_ADDRSTRLEN] = "0.0.0.0";
  if (getsockname (c->fd, (struct sockaddr *) &local, &ll) == 0)
    inet_ntop (AF_INET, &local.sin_addr, ip, sizeof ip);
  g_snprintf (c->local, sizeof c->local, "%s:%u", ip, ntohs (local.sin_port));
  c->ssl = SSL_new (c->loop->ctx);
  if (!c->ssl || !SSL_set_fd (c->ssl, c->fd))
    {
      conn_fail (c, "SSL_new failed");
      return;
    }
  /* The certificate names localhost (FACTS: Sofia ignores IP SANs). */
  SSL_set_tlsext_host_name (c->ssl, "localhost");
  SSL_set1_host (c->ssl, "localhost");
  SSL_set_connect_state (c->ssl);
  c->state = CONN_HANDSHAKING;
  conn_handshake (c);
}

static void
conn_event (BenchConn *c, guint32 events)
{
  switch (c->state)
    {
    case CONN_CONNECTING:
      conn_connected (c);
      break;
    case CONN_HANDSHAKING:
      conn_handshake (c);
      break;
    case CONN_OPEN:
      if (events & EPOLLOUT)
        conn_flush (c);
      if (c->state == CONN_OPEN && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        conn_read (c);
      break;
    default:
      break;
    }
}

void
bench_loop_iterate (BenchLoop *loop, int timeout_ms)
{
  struct epoll_event evs[256];
  int n = epoll_wait (loop->epfd, evs, G_N_ELEMENTS (evs), timeout_ms);
  for (int i = 0; i < n; i++)
    {
      Watch *w = evs[i].data.ptr;
      if (w->is_conn)
        conn_event ((BenchConn *) w, evs[i].events);
      else
        {
          FdWatch *fw = (FdWatch *) w;
          fw->cb (fw->fd, fw->user);
        }
    }
  /* Safe now: no event of this batch can name them any more. */
  g_ptr_array_set_size (loop->graveyard, 0);
}

BenchConn *
bench_conn_open (BenchLoop *loop, const struct sockaddr_in *src, const struct sockaddr_in *server,
                 const BenchConnHandlers *handlers, gpointer user, GError **error)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socket: %s",
                   g_strerror (errno));
      return NULL;
    }
  int one = 1;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (src)
    {
#ifdef IP_BIND_ADDRESS_NO_PORT
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      if (bind (fd, (const struct sockaddr *) src, sizeof *src) < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "bind: %s",
                       g_strerror (errno));
          close (fd);
          return NULL;
        }
    }
  BenchConn *c = g_new0 (BenchConn, 1);
  c->w.is_conn = TRUE;
  c->loop = loop;
  c->fd = fd;
  c->rbuf = g_byte_array_new ();
  c->wbuf = g_byte_array_new ();
  c->handlers = handlers;
  c->user = user;
  c->state = CONN_CONNECTING;
  c->events = EPOLLOUT;
  struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
  epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev);
  /* A failure is reported through the handler on the next iteration, like any other, so that
   * callers have one path; EPOLLOUT fires at once on a socket whose connect failed. */
  if (connect (fd, (const struct sockaddr *) server, sizeof *server) < 0 && errno != EINPROGRESS)
    c->connect_errno = errno;
  return c;
}

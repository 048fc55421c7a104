/* sotto-signald stops promptly on SIGTERM even with thousands of clients connected: a
 * deployment's restart must not hang behind its own connections. */
#include "config.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "sig-harness.h"
#include "sotto-tls.h"

/* Thousands: with Debian's Sofia-SIP GLib source, closing them one by one took minutes (each
 * removal re-registered all the others); ours (patch 9006) closes each at O(1). Fewer under
 * AddressSanitizer, where everything is several times slower. */
#if defined(__SANITIZE_ADDRESS__)
#define N_CONNECTIONS 600
#else
#define N_CONNECTIONS 2000
#endif
#define PER_ADDRESS 25

typedef struct
{
  int fd;
  SSL *ssl;
} RawConn;

/* A verified TLS connection from 127.0.0.@src that has asked the server one OPTIONS, so the
 * server knows it as a client connection. */
static gboolean
raw_connect (SSL_CTX *ctx, guint16 port, int src, RawConn *out)
{
  static const char options[] = "OPTIONS sips:localhost SIP/2.0\r\n"
                                "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKmany\r\n"
                                "Max-Forwards: 70\r\nFrom: <sips:x@localhost>;tag=1\r\n"
                                "To: <sips:localhost>\r\nCall-ID: many\r\nCSeq: 1 OPTIONS\r\n"
                                "Content-Length: 0\r\n\r\n";
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval tv = { .tv_sec = 5 };
  char buf[512];
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  from.sin_addr.s_addr = htonl (0x7f000000 | (guint32) src);
  to.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (bind (fd, (struct sockaddr *) &from, sizeof from) < 0
      || connect (fd, (struct sockaddr *) &to, sizeof to) < 0)
    {
      close (fd);
      return FALSE;
    }
  out->fd = fd;
  out->ssl = SSL_new (ctx);
  SSL_set_fd (out->ssl, fd);
  SSL_set1_host (out->ssl, "localhost");
  return SSL_connect (out->ssl) == 1 && SSL_write (out->ssl, options, sizeof options - 1) > 0
         && SSL_read (out->ssl, buf, sizeof buf) > 0;
}

static void
test_shutdown_many (void)
{
  g_autoptr (SigHarness) h = NULL;
  g_autoptr (SSL_CTX) ctx = NULL;
  g_autofree RawConn *conns = g_new0 (RawConn, N_CONNECTIONS);
  struct rlimit rl;
  gint64 start;
  int status;
  guint opened = 0;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_max < 2 * N_CONNECTIONS + 200)
    {
      g_test_skip ("the file descriptor limit is too low for this test");
      return;
    }
  rl.rlim_cur = rl.rlim_max; /* the server, started next, inherits it */
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);

  h = sig_harness_new ();
  g_string_append (h->config_extra, "[limits]\nunauthenticated-timeout = 600\n");
  sig_harness_start (h);

  ctx = SSL_CTX_new (TLS_client_method ());
  g_assert_true (SSL_CTX_load_verify_locations (ctx, h->cafile, NULL));
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  for (guint i = 0; i < N_CONNECTIONS; i++)
    {
      g_assert_true (raw_connect (ctx, h->port, 2 + (int) (i / PER_ADDRESS), &conns[i]));
      opened++;
    }
  g_test_message ("%u connections open; server RSS %" G_GUINT64_FORMAT " KiB", opened,
                  sig_harness_rss_kib (h));

  start = g_get_monotonic_time ();
  status = sig_harness_stop (h); /* fails the test if the server takes over 10 s */
  g_test_message ("stopped in %.2f s", (g_get_monotonic_time () - start) / 1e6);
  g_assert_cmpint (status, ==, 0);

  for (guint i = 0; i < opened; i++)
    {
      SSL_free (conns[i].ssl);
      close (conns[i].fd);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signal/shutdown/many-connections", test_shutdown_many);
  return g_test_run ();
}

/* test-sofia-tls-read-ahead: a real sotto-signald answers every request of a TLS connection,
 * also requests whose records arrive together in one TCP segment, and requests that arrive in
 * the same segment as the client's last handshake message.
 *
 * Guards debian/patches/9009-sotto-tls-read-ahead.patch (tools/sofia-sip-fix). With it, the
 * server's OpenSSL reads ahead: one read() takes in everything the socket holds, so records
 * after the first wait inside OpenSSL, where SSL_pending() (which Debian's Sofia-SIP asks) does
 * not see them and no socket event will announce them. The patch makes Sofia ask
 * SSL_has_pending() and read at once when the handshake ends with data pending; without those
 * two changes, read-ahead stalls exactly these connections (a trial with read-ahead alone left
 * 466 of 10,000 benchmark connections unanswered). A library without read-ahead passes too.
 *
 * To put the records in one segment for sure, the client's TLS runs over memory BIOs: this
 * test moves the bytes between them and the socket itself, and sends the client's Finished and
 * its requests with a single send(). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sig-harness.h"
#include "sotto-test.h"

#define T_MS 5000 /* deadline for the handshake and for all answers */

typedef struct
{
  SigHarness *h;
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in;  /* bytes from the server, for the SSL to read */
  BIO *out; /* bytes the SSL wrote, for us to send */
  GString *received; /* decrypted bytes from the server */
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  int one = 1;

  f->h = sig_harness_new ();
  sig_harness_start (f->h);

  f->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (f->fd, >=, 0);
  sin.sin_port = htons (f->h->port);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (f->fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  /* Each send() goes out at once, as one segment on loopback. */
  g_assert_cmpint (setsockopt (f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), ==, 0);

  f->ctx = SSL_CTX_new (TLS_client_method ());
  g_assert_nonnull (f->ctx);
  g_assert_cmpint (SSL_CTX_load_verify_locations (f->ctx, f->h->cafile, NULL), ==, 1);
  SSL_CTX_set_verify (f->ctx, SSL_VERIFY_PEER, NULL);
  f->ssl = SSL_new (f->ctx);
  g_assert_nonnull (f->ssl);
  g_assert_cmpint (SSL_set1_host (f->ssl, SIG_HARNESS_DOMAIN), ==, 1);
  SSL_set_tlsext_host_name (f->ssl, SIG_HARNESS_DOMAIN);
  f->in = BIO_new (BIO_s_mem ());
  f->out = BIO_new (BIO_s_mem ());
  SSL_set_bio (f->ssl, f->in, f->out); /* the SSL owns both */
  SSL_set_connect_state (f->ssl);
  f->received = g_string_new (NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  SSL_free (f->ssl);
  SSL_CTX_free (f->ctx);
  close (f->fd);
  g_string_free (f->received, TRUE);
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

/* Sends everything the SSL has written so far, in one send(). */
static void
flush_out (Fixture *f)
{
  char *data;
  long len = BIO_get_mem_data (f->out, &data);

  if (len <= 0)
    return;
  g_assert_cmpint (send (f->fd, data, (size_t) len, MSG_NOSIGNAL), ==, len);
  (void) BIO_reset (f->out);
}

/* Waits for bytes from the server until @deadline (monotonic µs) and hands them to the SSL.
 * FALSE at the deadline or at end of stream. */
static gboolean
pump_in (Fixture *f, gint64 deadline)
{
  struct pollfd p = { .fd = f->fd, .events = POLLIN };
  char buf[16384];
  gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
  ssize_t n;

  if (left_ms <= 0 || poll (&p, 1, (int) left_ms) <= 0)
    return FALSE;
  n = recv (f->fd, buf, sizeof buf, 0);
  if (n <= 0)
    return FALSE;
  g_assert_cmpint (BIO_write (f->in, buf, (int) n), ==, n);
  return TRUE;
}

/* Completes the handshake but keeps the client's last flight (its Finished) unsent. */
static void
handshake_keep_finished (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + T_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      int r = SSL_do_handshake (f->ssl);

      if (r == 1)
        break;
      g_assert_cmpint (SSL_get_error (f->ssl, r), ==, SSL_ERROR_WANT_READ);
      flush_out (f);
      if (!pump_in (f, deadline))
        g_error ("TLS handshake with sotto-signald did not finish within %d ms", T_MS);
    }
  g_assert_cmpint (SSL_get_verify_result (f->ssl), ==, X509_V_OK);
  /* With TLS 1.3 the client's Finished is still in f->out; with TLS 1.2 the server spoke
   * last, and nothing of ours waits. */
}

static void
queue_options (Fixture *f, guint cseq)
{
  g_autofree char *req = g_strdup_printf (
    "OPTIONS sips:" SIG_HARNESS_DOMAIN " SIP/2.0\r\n"
    "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-read-ahead-%u;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sips:nobody@" SIG_HARNESS_DOMAIN ">;tag=ra%u\r\n"
    "To: <sips:" SIG_HARNESS_DOMAIN ">\r\n"
    "Call-ID: read-ahead-%u@192.0.2.1\r\n"
    "CSeq: %u OPTIONS\r\n"
    "Content-Length: 0\r\n"
    "\r\n",
    cseq, cseq, cseq, cseq);

  /* One record each: SSL_write() never merges two calls. */
  g_assert_cmpint (SSL_write (f->ssl, req, (int) strlen (req)), ==, (int) strlen (req));
}

/* Reads until a response for each CSeq 1..@n has come, within T_MS. */
static void
expect_answers (Fixture *f, guint n)
{
  gint64 deadline = g_get_monotonic_time () + T_MS * G_TIME_SPAN_MILLISECOND;

  for (;;)
    {
      char buf[4096];
      int r;
      guint got = 0;

      while ((r = SSL_read (f->ssl, buf, sizeof buf)) > 0)
        g_string_append_len (f->received, buf, r);
      g_assert_cmpint (SSL_get_error (f->ssl, r), ==, SSL_ERROR_WANT_READ);
      flush_out (f); /* anything the SSL must answer (TLS 1.3 key updates) */
      for (guint i = 1; i <= n; i++)
        {
          g_autofree char *cseq = g_strdup_printf ("CSeq: %u OPTIONS\r\n", i);

          got += sotto_test_count (f->received->str, cseq) > 0;
        }
      if (got == n)
        break;
      if (!pump_in (f, deadline))
        {
          g_test_message ("the server left requests unanswered: records read ahead of the "
                          "one it processed wait unseen; install the fixed build with "
                          "tools/sofia-sip-fix");
          g_test_fail_printf ("%u of %u requests answered within %d ms; got:\n%s", got, n, T_MS,
                              f->received->str);
          return;
        }
    }
  g_assert_cmpuint (sotto_test_count (f->received->str, "SIP/2.0 "), ==, n);
}

/* The client's Finished and three requests, in one segment. */
static void
test_with_finished (Fixture *f, gconstpointer data)
{
  handshake_keep_finished (f);
  for (guint i = 1; i <= 3; i++)
    queue_options (f, i);
  flush_out (f);
  expect_answers (f, 3);
}

/* After an answered request, five more records back to back in one segment. */
static void
test_back_to_back (Fixture *f, gconstpointer data)
{
  handshake_keep_finished (f);
  queue_options (f, 1);
  flush_out (f);
  expect_answers (f, 1);
  for (guint i = 2; i <= 6; i++)
    queue_options (f, i);
  flush_out (f);
  expect_answers (f, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sofia/tls-read-ahead/with-finished", Fixture, NULL, setup, test_with_finished,
              teardown);
  g_test_add ("/sofia/tls-read-ahead/back-to-back", Fixture, NULL, setup, test_back_to_back,
              teardown);
  return g_test_run ();
}

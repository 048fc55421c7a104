/* RFC 5626 §4.4.1 CRLF keepalives against a real sotto-signald: a client's "\r\n\r\n" ping on
 * its TLS connection must be answered with one "\r\n" pong, also when several pings or a
 * request share its TLS record, and a lone CRLF must not be answered.
 *
 * Debian's Sofia-SIP never answers pings on TLS; tools/sofia-sip-fix installs a build that does
 * (debian/patches/9002-sotto-tls-crlf-pong.patch). On a library without it this test fails at
 * the first wait for a pong. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "sig-harness.h"

#define T 5000        /* ms: waits for responses */
#define PONG_WAIT 2000 /* ms: a pong must come within this */

typedef struct
{
  SigHarness *h;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->h = sig_harness_new ();
  sig_harness_add_user (f->h, "alice", "alice-secret-1");
  sig_harness_start (f->h);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  /* SIGTERM must stop the server cleanly (exit 0): a sanitizer report makes this fail. */
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

/* Reads until @conn has counted @want pongs in all, within PONG_WAIT ms. */
static void
wait_pongs (TuaConn *conn, guint want)
{
  gint64 deadline = g_get_monotonic_time () + PONG_WAIT * G_TIME_SPAN_MILLISECOND;

  while (tua_conn_pongs (conn) < want)
    {
      g_autoptr (GError) error = NULL;
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND;

      if (left_ms <= 0 || !tua_conn_wait_pong (conn, (guint) MAX (left_ms, 1), &error))
        {
          g_test_message ("no pong: libsofia-sip-ua does not answer CRLF pings on TLS; "
                          "install the fixed build with tools/sofia-sip-fix");
          g_test_fail_printf ("%u of %u pongs within %d ms: %s", tua_conn_pongs (conn), want,
                              PONG_WAIT, error ? error->message : "deadline");
          return;
        }
    }
}

/* OPTIONS sips:localhost, answered 200 by the server itself. Everything the server sent before
 * the response has been read (and every pong in it counted) when this returns. */
static void
assert_options_ok (SigClient *c)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = tua_ua_options (c->ua, "sips:" SIG_HARNESS_DOMAIN, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
}

/* Sends @prefix and @req in one write, hence one TLS record, and returns the final response. */
static TuaMsg *
send_after (SigClient *c, const char *prefix, TuaRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = tua_request_serialize (req, NULL);
  g_autofree char *both = g_strconcat (prefix, wire, NULL);
  TuaMsg *r;

  g_assert_true (tua_conn_send (c->conn, both, -1, &error));
  g_assert_no_error (error);
  r = tua_ua_wait_final (c->ua, req, T, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static void
test_crlf_pong (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) c = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (GError) error = NULL;
  guint base;

  sig_client_register (c, 600);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, 0);

  /* One ping, exactly one pong. */
  g_assert_true (tua_conn_send_ping (c->conn, &error));
  g_assert_no_error (error);
  wait_pongs (c->conn, 1);
  if (g_test_failed ())
    return;
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, 1);

  /* Three pings in one write, three pongs. */
  g_assert_true (tua_conn_send (c->conn, "\r\n\r\n\r\n\r\n\r\n\r\n", -1, &error));
  g_assert_no_error (error);
  wait_pongs (c->conn, 4);
  if (g_test_failed ())
    return;
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, 4);

  /* A ping and an OPTIONS in one write: the pong and the 200. */
  {
    g_autoptr (TuaRequest) req =
        tua_ua_new_request (c->ua, "OPTIONS", "sips:" SIG_HARNESS_DOMAIN, NULL);
    g_autoptr (TuaMsg) r = send_after (c, "\r\n\r\n", req);

    g_assert_cmpuint (r->status, ==, 200);
    wait_pongs (c->conn, 5);
    if (g_test_failed ())
      return;
  }

  /* A ping and a re-REGISTER in one write: the pong and the 401, then with credentials and a
   * ping again: the pong and the 200. */
  {
    g_autoptr (TuaRequest) req = tua_ua_register_request (c->ua, 600);
    g_autoptr (TuaMsg) r1 = send_after (c, "\r\n\r\n", req);
    g_autoptr (TuaMsg) r2 = NULL;

    g_assert_cmpuint (r1->status, ==, 401);
    wait_pongs (c->conn, 6);
    if (g_test_failed ())
      return;
    g_assert_true (tua_ua_answer_challenge (c->ua, req, r1, &error));
    g_assert_no_error (error);
    tua_ua_prepare_retry (c->ua, req);
    r2 = send_after (c, "\r\n\r\n", req);
    g_assert_cmpuint (r2->status, ==, 200);
    wait_pongs (c->conn, 7);
    if (g_test_failed ())
      return;
  }
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, 7);

  /* A lone CRLF (a pong, or a stray line end) is not a ping: no answer, alone or before a
   * request. */
  base = tua_conn_pongs (c->conn);
  g_assert_true (tua_conn_send (c->conn, "\r\n", -1, &error));
  g_assert_no_error (error);
  assert_options_ok (c);
  {
    g_autoptr (TuaRequest) req =
        tua_ua_new_request (c->ua, "OPTIONS", "sips:" SIG_HARNESS_DOMAIN, NULL);
    g_autoptr (TuaMsg) r = send_after (c, "\r\n", req);

    g_assert_cmpuint (r->status, ==, 200);
  }
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, base);

  /* The connection still works, and still answers pings. */
  g_assert_true (tua_conn_send_ping (c->conn, &error));
  g_assert_no_error (error);
  wait_pongs (c->conn, base + 1);
  if (g_test_failed ())
    return;
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, base + 1);

  /* A ping in its own record after a lone CRLF (which leaves the parser an empty message). */
  g_assert_true (tua_conn_send (c->conn, "\r\n", -1, &error));
  g_assert_no_error (error);
  g_assert_true (tua_conn_send_ping (c->conn, &error));
  g_assert_no_error (error);
  wait_pongs (c->conn, base + 2);
  if (g_test_failed ())
    return;
  assert_options_ok (c);
  g_assert_cmpuint (tua_conn_pongs (c->conn), ==, base + 2);
  g_assert_cmpuint (tua_conn_queued (c->conn), ==, 0);
}

/* ---- Back-pressure: a raw client with a tiny receive buffer ---- */

/* A client that sends pings (one TLS record each) without reading piles the server's pongs up
 * in the socket buffers; once they are full, a pong's write would block. The server must
 * neither block nor mix a pong's TLS record into the next message: the response that follows
 * must arrive intact (a broken stream fails TLS decryption or SIP framing), and pings work
 * afterwards. Whether a pong write really blocks depends on the kernel's buffers: on Linux 6.x
 * loopback even 250,000 unread pongs (6 MB) did not, so this checks stream integrity under a
 * flood, not the blocked-pong path itself. TuaConn cannot shrink its receive buffer, so this
 * uses its own blocking socket with SO_RCVBUF set before connect() and SO_RCVTIMEO/SO_SNDTIMEO
 * as deadlines. */
#define FLOOD_PINGS 20000
#define RAW_IO_TIMEOUT_S 10

typedef struct
{
  int fd;
  SSL_CTX *ctx;
  SSL *ssl;
  GByteArray *in;
  guint pongs;
} RawConn;

static void
raw_conn_free (RawConn *rc)
{
  if (rc->ssl)
    SSL_free (rc->ssl);
  if (rc->ctx)
    SSL_CTX_free (rc->ctx);
  if (rc->fd >= 0)
    close (rc->fd);
  g_byte_array_unref (rc->in);
  g_free (rc);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawConn, raw_conn_free)

static RawConn *
raw_conn_new (SigHarness *h, int rcvbuf)
{
  RawConn *rc = g_new0 (RawConn, 1);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (h->port) };
  struct timeval tv = { .tv_sec = RAW_IO_TIMEOUT_S };

  rc->in = g_byte_array_new ();
  rc->fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (rc->fd, >=, 0);
  g_assert_cmpint (setsockopt (rc->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), ==, 0);
  g_assert_cmpint (setsockopt (rc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), ==, 0);
  g_assert_cmpint (setsockopt (rc->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), ==, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (connect (rc->fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);

  rc->ctx = SSL_CTX_new (TLS_client_method ());
  g_assert_nonnull (rc->ctx);
  SSL_CTX_set_verify (rc->ctx, SSL_VERIFY_PEER, NULL);
  g_assert_cmpint (SSL_CTX_load_verify_locations (rc->ctx, h->cafile, NULL), ==, 1);
  rc->ssl = SSL_new (rc->ctx);
  g_assert_nonnull (rc->ssl);
  g_assert_cmpint (SSL_set1_host (rc->ssl, SIG_HARNESS_DOMAIN), ==, 1);
  g_assert_cmpint (SSL_set_fd (rc->ssl, rc->fd), ==, 1);
  g_assert_cmpint (SSL_connect (rc->ssl), ==, 1);
  return rc;
}

/* One SSL_write, hence one TLS record. */
static void
raw_send (RawConn *rc, const char *data)
{
  size_t len = strlen (data), done = 0;

  g_assert_cmpint (SSL_write_ex (rc->ssl, data, len, &done), ==, 1);
  g_assert_cmpuint (done, ==, len);
}

static void
raw_send_options (RawConn *rc, guint n)
{
  g_autofree char *req = g_strdup_printf (
      "OPTIONS sips:%s SIP/2.0\r\n"
      "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK-keepalive-%u;rport;alias\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sips:probe@%s>;tag=bp%u\r\n"
      "To: <sips:%s>\r\n"
      "Call-ID: keepalive-backpressure-%u\r\n"
      "CSeq: %u OPTIONS\r\n"
      "Content-Length: 0\r\n\r\n",
      SIG_HARNESS_DOMAIN, n, SIG_HARNESS_DOMAIN, n, SIG_HARNESS_DOMAIN, n, n);
  raw_send (rc, req);
}

/* Reads, counting CRLFs as pongs, until a SIP message has arrived; returns it. Every read has
 * the socket's deadline; a TLS or framing error fails the test. */
static TuaMsg *
raw_recv_message (RawConn *rc)
{
  for (;;)
    {
      guint8 buf[16384];
      size_t got = 0;

      for (;;)
        {
          g_autoptr (GError) error = NULL;
          gsize n = 0;
          TuaMsg *msg = NULL;
          TuaFrameResult fr = tua_msg_frame ((const char *) rc->in->data, rc->in->len, &n, &error);

          if (fr == TUA_FRAME_NEED_MORE)
            break;
          g_assert_no_error (error);
          g_assert_cmpint (fr, !=, TUA_FRAME_INVALID);
          if (fr == TUA_FRAME_MESSAGE)
            {
              g_assert_true (tua_msg_parse ((const char *) rc->in->data, n, &msg, &error));
              g_assert_no_error (error);
            }
          else
            rc->pongs++;
          g_byte_array_remove_range (rc->in, 0, (guint) n);
          if (msg)
            return msg;
        }
      ERR_clear_error ();
      if (SSL_read_ex (rc->ssl, buf, sizeof buf, &got) != 1)
        g_error ("read failed after %u pongs (SSL error %d, %s)", rc->pongs,
                 SSL_get_error (rc->ssl, 0), g_strerror (errno));
      g_byte_array_append (rc->in, buf, (guint) got);
    }
}

static void
test_backpressure (Fixture *f, gconstpointer data)
{
  g_autoptr (RawConn) rc = raw_conn_new (f->h, 4096);
  g_autoptr (TuaMsg) r1 = NULL, r2 = NULL;
  guint pongs;

  for (guint i = 0; i < FLOOD_PINGS; i++)
    raw_send (rc, "\r\n\r\n");
  raw_send_options (rc, 1);
  r1 = raw_recv_message (rc);
  g_assert_cmpuint (r1->status, ==, 200);
  pongs = rc->pongs;
  g_test_message ("%u pings sent without reading, %u pongs before the response", FLOOD_PINGS,
                  pongs);
  g_assert_cmpuint (pongs, >, 0);
  g_assert_cmpuint (pongs, <=, FLOOD_PINGS);

  /* Reading again, the connection answers pings and requests as before. */
  raw_send (rc, "\r\n\r\n");
  raw_send_options (rc, 2);
  r2 = raw_recv_message (rc);
  g_assert_cmpuint (r2->status, ==, 200);
  g_assert_cmpuint (rc->pongs, ==, pongs + 1);
  g_assert_cmpuint (rc->in->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/signal/keepalive/crlf-pong", Fixture, NULL, setup, test_crlf_pong, teardown);
  g_test_add ("/signal/keepalive/backpressure", Fixture, NULL, setup, test_backpressure,
              teardown);
  return g_test_run ();
}

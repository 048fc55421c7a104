/* test-sofia-tls-keepalive: a Sofia-SIP TLS client keeps its flow alive with RFC 5626 section
 * 4.4.1 CRLF keepalives and notices when the server stops answering them.
 *
 * Guards debian/patches/9005-sotto-tls-keepalive.patch (tools/sofia-sip-fix). Debian's TLS
 * transport has no keepalive timer: TPTAG_KEEPALIVE works on TCP only (and TCP's ping writes to
 * the raw socket, which must never happen on TLS). With the patch, a TLS connection the client
 * opened sends "\r\n\r\n" through the SSL after TPTAG_KEEPALIVE ms without sending, any data
 * from the server (its "\r\n" pong, patch 9002) answers it, and a ping left unanswered for
 * TPTAG_PINGPONG ms closes the connection as an error.
 *
 * The client is an nta agent in this process; the server is a real sotto-signald (sig-harness)
 * with Sofia's transport log on (TPORT_DEBUG=7, which its debug log carries), so both ends count
 * what they saw: the client's "sending PING" lines (its Sofia log, caught here) and the
 * server's "keepalive ping(s), N pong(s) sent" lines. Stopping the server (SIGSTOP) must close
 * the client's connection within a bounded time.
 *
 * Requests go to sips:localhost:PORT, so this needs patch 9004 too (localhost without DNS). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "sig-harness.h"
#include "sotto-test.h"

#define WAIT_MS 10000
#define KEEPALIVE_MS 200 /* TPTAG_KEEPALIVE: ping after this long without sending */
#define PINGPONG_MS 600  /* TPTAG_PINGPONG: close when a ping is unanswered this long */
#define IDLE_MS 2000     /* idle time in which pings must flow */
/* Once the server stops, the next ping comes within KEEPALIVE_MS and its timeout PINGPONG_MS
 * later; Sofia's timer is set at the next event, so allow a generous margin. */
#define CLOSE_WITHIN_MS (KEEPALIVE_MS + PINGPONG_MS + 2000)
#define SERVER_PING_LINE "keepalive ping(s), 1 pong(s) sent"
#define CLIENT_PING_LINE "sending PING"

typedef struct
{
  SigHarness *h;
  char *client_dir;
  su_root_t *root;
  nta_agent_t *agent;
  guint status;
  tport_t *tport; /* the connection the last response came on, referenced */
  gboolean stopped; /* the server is SIGSTOPped */
} Fixture;

/* Sofia-SIP 1.12.11's tls_post_connection_check() (inlined into tls_connect) never frees the
 * subjectAltName it decodes: about 200 bytes per verified client connection, not ours (see
 * tests/test-ca-sip.c, which keeps the same one report out the same way). The suppression
 * needs the slow unwinder: libcrypto has no frame pointers, so the fast one stops inside it
 * and never sees tls_connect. The environment's ASAN_OPTIONS still override these defaults. */
const char *__lsan_default_suppressions (void);
const char *__asan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:tls_connect\n";
}

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

/* Sofia's log lines in this process (single-threaded: nta runs on this thread's su_root). */
static guint client_pings;
static gboolean client_log_echo;

static void
client_logger (void *stream, char const *fmt, va_list ap)
{
  g_autofree char *text = g_strdup_vprintf (fmt, ap);

  if (strstr (text, CLIENT_PING_LINE))
    client_pings++;
  if (client_log_echo || strstr (text, "PONG timeout"))
    g_test_message ("client sofia: %s", g_strchomp (text));
}

static void
copy_into (const char *from_dir, const char *to_dir, const char *name)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (from, &text, &len, &error));
  g_assert_true (g_file_set_contents_full (to, text, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0600,
                                           &error));
  g_assert_no_error (error);
}

static void
setup (Fixture *f, gconstpointer data)
{
  gboolean keepalive = GPOINTER_TO_INT (data);

  f->h = sig_harness_new ();
  sig_harness_start (f->h);

  f->client_dir = g_build_filename (f->h->dir, "client", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->client_dir, 0700), ==, 0);
  copy_into (f->h->cert_dir, f->client_dir, "agent.pem");
  copy_into (f->h->cert_dir, f->client_dir, "cafile.pem");

  client_pings = 0;
  f->root = su_root_create (NULL);
  g_assert_nonnull (f->root);
  f->agent = nta_agent_create (f->root, URL_STRING_MAKE ("sips:127.0.0.1:0"), NULL, NULL,
                               TPTAG_CERTIFICATE (f->client_dir),
                               TPTAG_TLS_VERIFY_POLICY (TPTLS_VERIFY_SUBJECTS_OUT),
                               TPTAG_TLS_VERIFY_DATE (1), TPTAG_TLS_VERIFY_DEPTH (4),
                               TAG_IF (keepalive, TPTAG_KEEPALIVE (KEEPALIVE_MS)),
                               TAG_IF (keepalive, TPTAG_PINGPONG (PINGPONG_MS)),
                               TAG_END ());
  g_assert_nonnull (f->agent);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->tport)
    tport_unref (f->tport);
  if (f->agent)
    nta_agent_destroy (f->agent);
  if (f->root)
    su_root_destroy (f->root);
  g_free (f->client_dir);
  if (f->stopped)
    kill (f->h->pid, SIGCONT);
  /* SIGTERM must stop the server cleanly (exit 0): a sanitizer report makes this fail. */
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

static int
on_response (nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
  Fixture *f = (Fixture *) magic;
  int status = nta_outgoing_status (orq);

  if (status < 200)
    return 0;
  f->status = (guint) status;
  if (f->tport)
    tport_unref (f->tport);
  f->tport = nta_outgoing_transport (orq); /* referenced */
  nta_outgoing_destroy (orq);
  return 0;
}

/* Steps the client's loop for @ms. */
static void
spin (Fixture *f, guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    su_root_step (f->root, 20);
}

/* OPTIONS sips:localhost:PORT, answered by the server itself; returns the final status. */
static guint
send_options (Fixture *f)
{
  g_autofree char *uri = g_strdup_printf ("sips:localhost:%u", f->h->port);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  nta_leg_t *leg = nta_leg_tcreate (f->agent, NULL, NULL,
                                    SIPTAG_FROM_STR ("<sips:probe@localhost>;tag=probe"),
                                    SIPTAG_TO_STR ("<sips:localhost>"), TAG_END ());
  nta_outgoing_t *orq;

  g_assert_nonnull (leg);
  f->status = 0;
  orq = nta_outgoing_tcreate (leg, on_response, (nta_outgoing_magic_t *) f, NULL,
                              SIP_METHOD_OPTIONS, URL_STRING_MAKE (uri), TAG_END ());
  g_assert_nonnull (orq);
  while (f->status == 0 && g_get_monotonic_time () < deadline)
    su_root_step (f->root, 20);
  nta_leg_destroy (leg);
  if (f->status == 0)
    g_error ("no final response to OPTIONS %s within %d ms", uri, WAIT_MS);
  return f->status;
}

static guint
server_pings (Fixture *f)
{
  g_autofree char *log = sig_harness_log (f->h);

  return sotto_test_count (log, SERVER_PING_LINE);
}

/* Idle with keepalives: pings leave the client, arrive at the server and are answered (else
 * the PONG timeout would close the connection), and the connection stays usable. */
static void
test_ping_pong (Fixture *f, gconstpointer data)
{
  tport_t *first;
  guint server_before, client_n, server_n;

  g_assert_cmpuint (send_options (f), ==, 200);
  g_assert_nonnull (f->tport);
  g_assert_true (tport_is_verified (f->tport) == 1);
  first = tport_ref (f->tport);
  server_before = server_pings (f);

  spin (f, IDLE_MS);
  client_n = client_pings;
  server_n = server_pings (f) - server_before;
  g_test_message ("in %d ms idle: %u pings sent, %u answered by the server", IDLE_MS, client_n,
                  server_n);
  if (client_n == 0)
    g_test_message ("no ping: libsofia-sip-ua lacks patch 9005 (TLS keepalives); install the "
                    "fixed build with tools/sofia-sip-fix");
  /* One every KEEPALIVE_MS at most, and not much less often. */
  g_assert_cmpuint (client_n, >=, IDLE_MS / KEEPALIVE_MS / 3);
  g_assert_cmpuint (client_n, <=, IDLE_MS / KEEPALIVE_MS + 1);
  g_assert_false (tport_is_closed (first));

  /* The same connection still carries requests. */
  g_assert_cmpuint (send_options (f), ==, 200);
  g_assert_true (f->tport == first);
  g_assert_false (tport_is_closed (first));
  tport_unref (first);

  /* Every ping arrived whole and got its pong (the server logs each after its write). Counted
   * once the OPTIONS came back over the same connection: the server has handled everything
   * sent before it by then, while the last ping of the idle window may still have been in
   * flight when the window ended (seen under AddressSanitizer). */
  client_n = client_pings;
  server_n = server_pings (f) - server_before;
  g_assert_cmpuint (server_n, ==, client_n);
}

/* A server that stops answering: the client closes the connection in bounded time. */
static void
test_pong_timeout (Fixture *f, gconstpointer data)
{
  gint64 start, deadline, took_ms;
  guint pings_before;

  g_assert_cmpuint (send_options (f), ==, 200);
  g_assert_nonnull (f->tport);
  spin (f, 3 * KEEPALIVE_MS); /* pings answered meanwhile */
  g_assert_false (tport_is_closed (f->tport));

  g_assert_cmpint (kill (f->h->pid, SIGSTOP), ==, 0);
  f->stopped = TRUE;
  pings_before = client_pings;
  start = g_get_monotonic_time ();
  deadline = start + CLOSE_WITHIN_MS * G_TIME_SPAN_MILLISECOND;
  while (!tport_is_closed (f->tport) && g_get_monotonic_time () < deadline)
    su_root_step (f->root, 20);
  took_ms = (g_get_monotonic_time () - start) / G_TIME_SPAN_MILLISECOND;
  g_test_message ("connection %s %" G_GINT64_FORMAT " ms after SIGSTOP, %u pings meanwhile",
                  tport_is_closed (f->tport) ? "closed" : "still open", took_ms,
                  client_pings - pings_before);
  g_assert_true (tport_is_closed (f->tport));
  /* Not before a ping could have gone unanswered (the first unanswered one may have left
   * just before the SIGSTOP, but not a whole interval before it). */
  g_assert_cmpint (took_ms, >=, PINGPONG_MS - KEEPALIVE_MS);
  g_assert_cmpuint (client_pings - pings_before, >=, 1);

  g_assert_cmpint (kill (f->h->pid, SIGCONT), ==, 0);
  f->stopped = FALSE;
}

/* Without TPTAG_KEEPALIVE nothing is sent: the timer is the tag's, not always on. */
static void
test_no_keepalive (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (send_options (f), ==, 200);
  spin (f, 1000);
  g_assert_cmpuint (client_pings, ==, 0);
  g_assert_false (tport_is_closed (f->tport));
}

int
main (int argc, char *argv[])
{
  /* Sofia's transport log at level 7 in this process and in sotto-signald (inherited), which
   * logs Sofia's lines at debug level into the harness log. Before any thread exists. */
  g_setenv ("TPORT_DEBUG", "7", TRUE);
  client_log_echo = g_getenv ("SOTTO_TEST_SOFIA_ECHO") != NULL;
  g_test_init (&argc, &argv, NULL);
  su_init ();
  su_log_redirect (NULL, client_logger, NULL);

  g_test_add ("/sofia/tls-keepalive/ping-pong", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_ping_pong, teardown);
  g_test_add ("/sofia/tls-keepalive/pong-timeout", Fixture, GINT_TO_POINTER (TRUE), setup,
              test_pong_timeout, teardown);
  g_test_add ("/sofia/tls-keepalive/off", Fixture, GINT_TO_POINTER (FALSE), setup,
              test_no_keepalive, teardown);

  int ret = g_test_run ();
  su_deinit ();
  return ret;
}

/* test-signald-memory: sotto-signald must not grow with connection churn.
 *
 * A real server (through the harness) sees thousands of TLS connections that each connect,
 * REGISTER through the 401 challenge and close. Its resident set after a warm-up and at the end
 * must differ by less than 5 MiB, and its open descriptors must come back to the baseline, so
 * closed connections really are closed and forgotten (flows, bindings, tports, SSL objects).
 * Debian's unfixed Sofia-SIP leaks ~47 KB per TLS connection, which fails this by far.
 *
 * Each device registers with its own +sip.instance, so every cycle adds a new binding: one that
 * survived its connection would accumulate here and be found by the final fetch of bindings. */
#include "config.h"

#include <string.h>

#include "sig-harness.h"

#define USER "alice"
#define PASSWORD "alice-secret-1"

enum
{
  CYCLES = 5000,
  WARMUP = 500,
  MAX_GROWTH_KIB = 5 * 1024,
  DEADLINE_S = 240,         /* the whole loop */
  SETTLE_S = 10,            /* for the server to close the last connections */
  FD_SLACK = 4,             /* descriptors above the baseline still accepted at the end */
};

/* Open descriptors of process @pid, or -1 when /proc cannot tell. */
static int
count_fds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) pid);
  GDir *d = g_dir_open (path, 0, NULL);
  int n = 0;

  if (d == NULL)
    return -1;
  while (g_dir_read_name (d) != NULL)
    n++;
  g_dir_close (d);
  return n;
}

/* Waits (SETTLE_S at most) until the server has no more than @limit descriptors open. */
static int
wait_fds_at_most (SigHarness *h, int limit)
{
  gint64 deadline = g_get_monotonic_time () + SETTLE_S * G_USEC_PER_SEC;
  int n;

  while ((n = count_fds (h->pid)) > limit && g_get_monotonic_time () < deadline)
    g_usleep (50 * 1000);
  return n;
}

/* One device: connect, register through the challenge, close. */
static void
churn_once (SigHarness *h, guint i)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaConn) conn = tua_conn_new ("127.0.0.1", h->port, h->cafile, "localhost", &error);
  g_autoptr (TuaUa) ua = NULL;
  g_autoptr (TuaMsg) r = NULL;
  g_autofree char *instance = NULL;

  g_assert_no_error (error);
  ua = tua_ua_new (conn, USER, SIG_HARNESS_DOMAIN, PASSWORD);
  instance = g_strdup_printf ("urn:uuid:00000000-0000-4000-8000-%012u", i);
  tua_ua_set_instance (ua, instance, 1);
  r = tua_ua_register (ua, 600, &error);
  if (error != NULL || r == NULL || r->status != 200)
    g_error ("cycle %u: REGISTER failed: %s (status %u)", i, error ? error->message : "-",
             r ? r->status : 0);
}

/* The Contacts the registrar reports for USER, fetched over a fresh connection with a
 * REGISTER that carries no Contact (RFC 3261 §10.2.3). */
static guint
count_live_bindings (SigHarness *h)
{
  g_autoptr (SigClient) c = sig_client_new (h, USER, PASSWORD);
  g_autoptr (TuaRequest) req = tua_ua_register_request (c->ua, 600);
  g_autoptr (TuaMsg) r = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) contacts = NULL;

  g_clear_pointer (&req->contact, g_free);
  r = tua_ua_transaction (c->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 200);
  contacts = tua_msg_headers (r, "Contact");
  return contacts ? g_strv_length (contacts) : 0;
}

static void
test_tls_churn (void)
{
  g_autoptr (SigHarness) h = NULL;
  gint64 start, deadline;
  guint64 rss_warm = 0, rss_end;
  int fds_base, fds_end;

#if defined(__SANITIZE_ADDRESS__)
  g_test_skip ("RSS is not meaningful under AddressSanitizer");
  return;
#endif

  h = sig_harness_new ();
  /* Per-cycle info lines would only bury the result. */
  g_string_append (h->config_extra, "log-level = warning\n");
  sig_harness_add_user (h, USER, PASSWORD);
  sig_harness_start (h);
  fds_base = count_fds (h->pid);
  if (fds_base < 0)
    {
      g_test_skip ("/proc/PID/fd is not readable here");
      return;
    }

  start = g_get_monotonic_time ();
  deadline = start + DEADLINE_S * G_USEC_PER_SEC;
  for (guint i = 0; i < CYCLES; i++)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("only %u of %u cycles within %u s", i, CYCLES, (guint) DEADLINE_S);
      churn_once (h, i);
      if (i + 1 == WARMUP)
        {
          wait_fds_at_most (h, fds_base + FD_SLACK);
          rss_warm = sig_harness_rss_kib (h);
        }
    }

  fds_end = wait_fds_at_most (h, fds_base + FD_SLACK);
  rss_end = sig_harness_rss_kib (h);
  g_test_message ("%u cycles in %.1f s; RSS %" G_GUINT64_FORMAT " KiB after %u, %" G_GUINT64_FORMAT
                  " KiB at the end (%+" G_GINT64_FORMAT " KiB, %.2f KiB per connection); "
                  "fds %d at start, %d at the end",
                  (guint) CYCLES, (g_get_monotonic_time () - start) / 1e6, rss_warm,
                  (guint) WARMUP, rss_end, (gint64) rss_end - (gint64) rss_warm,
                  ((double) rss_end - (double) rss_warm) / (CYCLES - WARMUP), fds_base, fds_end);

  g_assert_cmpuint (rss_warm, >, 0);
  g_assert_cmpuint (rss_end, >, 0);
  g_assert_cmpint ((gint64) rss_end - (gint64) rss_warm, <, MAX_GROWTH_KIB);
  g_assert_cmpint (fds_end, <=, fds_base + FD_SLACK);
  /* Every device's connection is closed, so none of its bindings may remain. */
  g_assert_cmpuint (count_live_bindings (h), ==, 0);

  g_assert_cmpint (sig_harness_stop (h), ==, 0);
}

/* SIGTERM while transactions are in flight: an INVITE and a MESSAGE the callee never answers,
 * and one whose callee has just closed its connection. Shutdown closes the connections, nta
 * fails the pending branches back into sig-proxy, and the server must still exit 0 within the
 * harness's 10 s: no crash, hang or sanitizer error on that path. It does not prove that every
 * proxy transaction is freed: a build that leaks them all still passes, because nta holds
 * references to them in memory it keeps until exit, which LeakSanitizer counts as reachable. */
static void
test_shutdown_in_flight (void)
{
  g_autoptr (SigHarness) h = sig_harness_new ();
  g_autoptr (SigClient) a = NULL, b = NULL, c = NULL;
  g_autoptr (TuaCall) call = NULL, call_c = NULL;
  g_autoptr (TuaMsg) r = NULL, inv = NULL, msg = NULL;
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (GError) error = NULL;

  sig_harness_add_user (h, USER, PASSWORD);
  sig_harness_add_user (h, "bob", "bob-secret-2");
  sig_harness_add_user (h, "carol", "carol-secret-3");
  sig_harness_start (h);
  a = sig_client_new (h, USER, PASSWORD);
  b = sig_client_new (h, "bob", "bob-secret-2");
  c = sig_client_new (h, "carol", "carol-secret-3");
  sig_client_register (a, 600);
  sig_client_register (b, 600);
  sig_client_register (c, 600);

  /* alice -> bob: INVITE, answered with nothing but the proxy's own 100. */
  tua_ua_set_auto_auth (a->ua, FALSE);
  call = tua_ua_invite (a->ua, "bob", NULL, &error);
  g_assert_no_error (error);
  r = tua_call_wait_response (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_call_authenticate (call, r, &error));
  inv = tua_ua_wait_request (b->ua, "INVITE", 5000, &error);
  g_assert_no_error (error);

  /* alice -> bob: MESSAGE, never answered. */
  tua_ua_set_auto_auth (a->ua, TRUE);
  req = tua_ua_new_request (a->ua, "MESSAGE", "sips:bob@" SIG_HARNESS_DOMAIN, NULL);
  tua_request_set_body (req, "hello", -1);
  g_assert_true (tua_ua_send (a->ua, req, &error));
  g_clear_pointer (&r, tua_msg_unref);
  r = tua_ua_wait_final (a->ua, req, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_ua_answer_challenge (a->ua, req, r, &error));
  tua_ua_prepare_retry (a->ua, req);
  g_assert_true (tua_ua_send (a->ua, req, &error));
  msg = tua_ua_wait_request (b->ua, "MESSAGE", 5000, &error);
  g_assert_no_error (error);

  /* alice -> carol: INVITE, then carol's connection drops while it rings. */
  tua_ua_set_auto_auth (a->ua, FALSE);
  call_c = tua_ua_invite (a->ua, "carol", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&r, tua_msg_unref);
  r = tua_call_wait_response (call_c, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_call_authenticate (call_c, r, &error));
  g_clear_pointer (&inv, tua_msg_unref);
  inv = tua_ua_wait_request (c->ua, "INVITE", 5000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&c, sig_client_free);
  g_usleep (200 * 1000);

  g_assert_cmpint (sig_harness_stop (h), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/signal/memory/tls-churn", test_tls_churn);
  g_test_add_func ("/signal/memory/shutdown-in-flight", test_shutdown_in_flight);
  return g_test_run ();
}

/* Integration tests of sotto-agentd: real agents calling through a real sotto-signald (and a
 * real coturn for the relayed path), driven over their control sockets.
 *
 *   /agent/call/direct      host path, DTLS-SRTP, and the recording matches what was sent
 *   /agent/call/relay       force-relay through coturn; audio arrives
 *   /agent/call/refusals    unencrypted and hostile offers get 488/400, never a crash
 *   /agent/call/outcomes    cancel, decline, callee hangup, offline (480), unknown (404)
 *   /agent/call/tampered    a server in the middle swaps the callee's fingerprint: the caller
 *                           ends the call, saying why, and no audio flows
 *   /agent/call/sas         ZRTP gives both sides the same SAS, bound to their DTLS session;
 *                           once both users confirm it, the next call is verified by itself
 *   /agent/call/restart     killing sotto-signald mid-call does not cut the media; the
 *                           agents register again when it is back */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "agent-harness.h"
#include "ca-audio-compare.h"
#include "sig-harness.h"
#include "sotto-test.h"
#include "tamper-proxy.h"
#include "tgp-coturn.h"
#include "tua.h"

#define T_REG   15000
#define T_STATE 15000

typedef struct
{
  SigHarness *h;
  char *dir;
  char *speech;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("sotto-agent-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->h = sig_harness_new ();
  sig_harness_add_user (f->h, "alice", "alice-secret-1");
  sig_harness_add_user (f->h, "bob", "bob-secret-22");
  sig_harness_add_user (f->h, "carol", "carol-secret-333");
  sig_harness_add_user (f->h, "mallory", "mallory-secret-4444");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->h->proc != NULL)
    g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
  if (g_getenv ("SOTTO_KEEP_TEST_DIRS") == NULL)
    sotto_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->speech);
}

static gboolean
need_speech (Fixture *f)
{
  f->speech = agent_make_speech (f->dir, "speech.wav",
                                 "Sotto carries this sentence end to end, encrypted. "
                                 "One, two, three, four, five. The quick brown fox jumps.");
  if (f->speech == NULL)
    {
      g_test_skip ("espeak-ng is not installed (tools/install-deps installs it)");
      return FALSE;
    }
  return TRUE;
}

static guint
dial (AgentProc *a, const char *target)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = agent_proc_invoke (a, "Call", g_variant_new ("(s)", target), &error);
  guint id = 0;

  g_assert_no_error (error);
  g_variant_get (r, "(u)", &id);
  g_assert_cmpuint (id, >, 0);
  return id;
}

static void
invoke_ok (AgentProc *a, const char *method, guint id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = agent_proc_invoke (a, method, g_variant_new ("(u)", id), &error);

  g_assert_no_error (error);
}

static void
assert_active (AgentProc *a, guint id)
{
  if (!agent_proc_wait_state (a, id, "active", T_STATE))
    {
      g_autofree char *log = agent_proc_log (a);

      g_printerr ("%s\n", log);
      g_error ("%s: call %u never became active", a->name, id);
    }
}

/* Waits for call @id to end; its reason must start with @status_prefix (NULL: any). */
static void
assert_ended_with (AgentProc *a, guint id, const char *status_prefix)
{
  gint64 deadline = g_get_monotonic_time () + T_STATE * 1000;
  g_autofree char *state = NULL;
  g_autofree char *reason = NULL;

  while (g_get_monotonic_time () < deadline)
    {
      g_free (state);
      state = agent_proc_call_string (a, id, "state");
      if (g_strcmp0 (state, "ended") == 0)
        break;
      agent_sleep_ms (50);
    }
  g_assert_cmpstr (state, ==, "ended");
  reason = agent_proc_call_string (a, id, "reason");
  g_test_message ("%s call %u ended: %s", a->name, id, reason);
  if (status_prefix != NULL)
    g_assert_true (g_str_has_prefix (reason, status_prefix));
}

/* Compares @recording with the source and asserts the speech is in it. */
static void
assert_recording_matches (const char *source, const char *recording)
{
  CaAudioMatch m;
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_audio_compare_files (source, recording, 3000, &m, &error));
  g_assert_no_error (error);
  g_test_message ("recording: %.2f s, correlation %.3f at lag %d ms, rms %.4f (source %.4f)",
                  m.recording_s, m.correlation, m.lag_ms, m.recording_rms, m.source_rms);
  g_assert_cmpfloat (m.recording_rms, >, 0.001);
  g_assert_cmpfloat (m.correlation, >, 0.6);
}

/* A call from alice (playing @speech) to bob (recording), answered by bob, held for the
 * length of the speech, hung up by alice. Returns alice's and bob's call ids. */
static void
talk (Fixture *f, AgentProc *alice, AgentProc *bob, guint *out_a, guint *out_b,
      guint hold_ms)
{
  guint a_id, b_id;

  a_id = dial (alice, "bob");
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  g_assert_cmpuint (b_id, >, 0);
  invoke_ok (bob, "Answer", b_id);
  assert_active (alice, a_id);
  assert_active (bob, b_id);
  agent_sleep_ms (hold_ms);
  *out_a = a_id;
  *out_b = b_id;
}

/* Starts the server, then alice and bob with their [media] groups (NULL: no extra lines and
 * no extra arguments), and waits until both are registered. */
static void
start_two (Fixture *f, const char *conf_a, const char *const *args_a, const char *conf_b,
           const char *const *args_b, AgentProc **alice, AgentProc **bob)
{
  sig_harness_start (f->h);
  *alice = agent_proc_start (f->h, "alice", "alice-secret-1", conf_a, args_a);
  *bob = agent_proc_start (f->h, "bob", "bob-secret-22", conf_b, args_b);
  g_assert_true (agent_proc_wait_registered (*alice, T_REG));
  g_assert_true (agent_proc_wait_registered (*bob, T_REG));
}

/* The [media] group of an agent on 127.0.0.1 that plays and records files (NULL: none). */
static char *
media_conf (const char *play, const char *record)
{
  return g_strdup_printf ("[media]\nlocal-addresses = 127.0.0.1;\nsilence = true\n%s%s%s%s%s%s",
                          play ? "play = " : "", play ? play : "", play ? "\n" : "",
                          record ? "record = " : "", record ? record : "",
                          record ? "\n" : "");
}

typedef struct
{
  guint incoming_id;
  char *incoming_from;
  gboolean saw_active;
} Signals;

static void
on_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *name, GVariant *params, gpointer data)
{
  Signals *sig = data;

  if (g_str_equal (name, "IncomingCall"))
    {
      g_free (sig->incoming_from);
      g_variant_get (params, "(us)", &sig->incoming_id, &sig->incoming_from);
    }
  else if (g_str_equal (name, "CallStateChanged"))
    {
      const char *state = NULL;

      g_variant_get (params, "(u&s&s)", NULL, &state, NULL);
      sig->saw_active |= g_strcmp0 (state, "active") == 0;
    }
}

static void
test_direct (Fixture *f, gconstpointer data)
{
  g_autofree char *record = NULL;
  g_autofree char *ca = NULL, *cb = NULL;
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  guint a_id, b_id;

  if (!need_speech (f))
    return;
  record = g_build_filename (f->dir, "bob.wav", NULL);
  ca = media_conf (f->speech, NULL);
  cb = media_conf (NULL, record);
  start_two (f, ca, NULL, cb, NULL, &alice, &bob);

  /* Bob's agent announces the call with the IncomingCall signal, and every state with
   * CallStateChanged (what a desktop notifier listens for). */
  {
    Signals sig = { 0 };
    guint sub = g_dbus_connection_signal_subscribe (bob->bus, NULL, "org.sotto.Agent1", NULL,
                                                    "/org/sotto/Agent", NULL,
                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &sig,
                                                    NULL);

    talk (f, alice, bob, &a_id, &b_id, 7000);
    g_dbus_connection_signal_unsubscribe (bob->bus, sub);
    g_assert_cmpuint (sig.incoming_id, ==, b_id);
    g_assert_cmpstr (sig.incoming_from, ==, "sips:alice@" SIG_HARNESS_DOMAIN);
    g_assert_true (sig.saw_active);
    g_free (sig.incoming_from);
  }
  {
    g_autofree char *path_a = agent_proc_call_string (alice, a_id, "path");
    g_autofree char *path_b = agent_proc_call_string (bob, b_id, "path");
    g_autofree char *suite = agent_proc_call_string (alice, a_id, "suite");
    g_autoptr (GVariant) info = agent_proc_call_info (bob, b_id);
    gboolean verified = FALSE;

    /* Both on 127.0.0.1: host candidates must win (RFC 8445 priorities). */
    g_assert_cmpstr (path_a, ==, "host");
    g_assert_cmpstr (path_b, ==, "host");
    g_assert_true (g_str_has_prefix (suite, "DTLS-SRTP SRTP_"));
    g_assert_true (g_variant_lookup (info, "fingerprint-verified", "b", &verified));
    g_assert_true (verified);
    g_assert_cmpuint (agent_proc_call_u64 (bob, b_id, "packets-received"), >, 100);
    g_assert_cmpuint (agent_proc_call_u64 (alice, a_id, "packets-sent"), >, 100);
  }
  {
    /* RTCP sender and receiver reports give a round-trip time (RFC 3550 §6.4.1): reports go
     * every 2.5-7.5 s, so allow two rounds. A sane value, not a timing target: on loopback it
     * is well under a millisecond, but a sanitizer build can take hundreds. */
    gint64 deadline = g_get_monotonic_time () + 16 * G_USEC_PER_SEC;
    double rtt = -1;

    while (g_get_monotonic_time () < deadline)
      {
        g_autoptr (GVariant) info = agent_proc_call_info (alice, a_id);

        g_assert_true (g_variant_lookup (info, "rtt-ms", "d", &rtt));
        if (rtt >= 0)
          break;
        agent_sleep_ms (200);
      }
    g_test_message ("alice's RTT to bob: %.2f ms", rtt);
    g_assert_cmpfloat (rtt, >=, 0);
    g_assert_cmpfloat (rtt, <, 10000);
  }
  invoke_ok (alice, "Hangup", a_id);
  /* The caller's BYE reaches the callee as a normal end. */
  assert_ended_with (bob, b_id, NULL);
  assert_ended_with (alice, a_id, NULL);
  agent_proc_stop (alice);
  agent_proc_stop (bob);
  assert_recording_matches (f->speech, record);
}

static void
test_relay (Fixture *f, gconstpointer data)
{
  g_autoptr (TgpCoturn) coturn = NULL;
  g_autofree char *secret_file = NULL;
  g_autofree char *record = NULL;
  g_autofree char *ca = NULL, *cb = NULL;
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  g_autoptr (GError) error = NULL;
  const char *relay_args[] = { "--force-relay", NULL };
  guint a_id, b_id;

  if (tgp_turnserver () == NULL)
    {
      g_test_skip ("coturn's turnserver is not installed (tools/install-deps installs it)");
      return;
    }
  if (!need_speech (f))
    return;
  coturn = tgp_coturn_new ();
  /* Test only: both agents are on 127.0.0.1, which a production relay must refuse. */
  g_string_append (coturn->extra, "allow-loopback-peers\n");
  tgp_coturn_start (coturn);
  secret_file = g_build_filename (f->h->dir, "turn-secrets", NULL);
  g_assert_true (g_file_set_contents (secret_file, TGP_SECRET "\n", -1, &error));
  g_assert_cmpint (chmod (secret_file, 0600), ==, 0);
  g_string_append_printf (f->h->config_extra,
                          "[turn]\nserver-name = localhost\nport = %u\ntls-port = %u\n"
                          "min-port = 20000\nmax-port = 20999\nsecret-file = %s\n",
                          coturn->port, coturn->tls_port, secret_file);
  record = g_build_filename (f->dir, "bob.wav", NULL);
  ca = media_conf (f->speech, NULL);
  cb = media_conf (NULL, record);
  start_two (f, ca, relay_args, cb, relay_args, &alice, &bob);
  {
    /* The TURN header of the REGISTER 200 is resolved asynchronously. */
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (g_get_monotonic_time () < deadline)
      {
        g_autofree char *na = agent_proc_status_string (alice, "turn-servers");
        g_autofree char *nb = agent_proc_status_string (bob, "turn-servers");

        if (g_strcmp0 (na, "0") != 0 && g_strcmp0 (nb, "0") != 0)
          break;
        agent_sleep_ms (50);
      }
  }

  talk (f, alice, bob, &a_id, &b_id, 7000);
  {
    g_autofree char *path_a = agent_proc_call_string (alice, a_id, "path");
    g_autofree char *path_b = agent_proc_call_string (bob, b_id, "path");

    g_assert_cmpstr (path_a, ==, "relay");
    g_assert_cmpstr (path_b, ==, "relay");
    g_assert_cmpuint (agent_proc_call_u64 (bob, b_id, "packets-received"), >, 100);
  }
  invoke_ok (bob, "Hangup", b_id);
  assert_ended_with (alice, a_id, NULL);
  agent_proc_stop (alice);
  agent_proc_stop (bob);
  assert_recording_matches (f->speech, record);
  tgp_coturn_stop (coturn);
}

/* ---- refusals, from a test UA that can send anything ---- */

#define PLAIN_OFFER                                                                           \
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"                  \
  "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

static guint
offer_status (SigClient *m, const char *sdp)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaCall) call = NULL;
  g_autoptr (TuaMsg) r = NULL;
  gint64 deadline = g_get_monotonic_time () + T_STATE * 1000;

  tua_ua_set_auto_auth (m->ua, FALSE);
  call = tua_ua_invite (m->ua, "bob", sdp, &error);
  g_assert_no_error (error);
  r = tua_call_wait_response (call, 5000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r->status, ==, 407);
  g_assert_true (tua_call_authenticate (call, r, &error));
  while (g_get_monotonic_time () < deadline)
    {
      g_clear_pointer (&r, tua_msg_unref);
      r = tua_call_wait_response (call, 5000, &error);
      g_assert_no_error (error);
      if (r->status >= 200)
        return r->status;
    }
  g_error ("no final response to the INVITE");
}

static char *
hostile_candidates (void)
{
  GString *s = g_string_new ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                             "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                             "a=setup:actpass\r\na=rtcp-mux\r\na=fingerprint:sha-256 ");
  for (int i = 0; i < 32; i++)
    g_string_append_printf (s, "%s0A", i ? ":" : "");
  g_string_append (s, "\r\n");
  /* Above the agent's cap (CA_SDP_MAX_CANDIDATES) yet under the server's message size limit,
   * so the agent itself must refuse it. */
  for (int i = 0; i < 200; i++)
    g_string_append_printf (s, "a=candidate:%d 1 udp 100 127.0.0.1 %d typ host\r\n", i,
                            10000 + i);
  return g_string_free (s, FALSE);
}

static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (AgentProc) bob = NULL;
  g_autofree char *cb = media_conf (NULL, NULL);
  g_autofree char *hostile = hostile_candidates ();
  const char *no_ice = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                       "t=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                       "a=setup:actpass\r\na=fingerprint:sha-256 "
                       "0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:"
                       "0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A:0A\r\n";
  const char *garbage = "this is not SDP\r\n";

  sig_harness_start (f->h);
  bob = agent_proc_start (f->h, "bob", "bob-secret-22", cb, NULL);
  g_assert_true (agent_proc_wait_registered (bob, T_REG));
  {
    g_autoptr (SigClient) m = sig_client_new (f->h, "mallory", "mallory-secret-4444");

    sig_client_register (m, 600);
    /* Plain RTP: Sotto never sends or accepts unencrypted media. */
    g_assert_cmpuint (offer_status (m, PLAIN_OFFER), ==, 488);
    g_assert_cmpuint (offer_status (m, no_ice), ==, 488);
    g_assert_cmpuint (offer_status (m, hostile), ==, 488);
    g_assert_cmpuint (offer_status (m, garbage), ==, 400);
  }
  /* Still alive and registered, and each refusal is a clear ended call. */
  g_assert_true (agent_proc_wait_registered (bob, 1000));
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) r = agent_proc_invoke (bob, "ListCalls", NULL, &error);
    g_autofree char *text = g_variant_print (r, FALSE);

    g_assert_no_error (error);
    g_assert_nonnull (strstr (text, "refused the offer"));
  }
  agent_proc_stop (bob);
}

/* ---- how calls end ---- */

static void
test_outcomes (Fixture *f, gconstpointer data)
{
  g_autofree char *c = media_conf (NULL, NULL);
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  guint a_id, b_id;

  start_two (f, c, NULL, c, NULL, &alice, &bob);

  /* Caller cancels before an answer. */
  a_id = dial (alice, "bob");
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  g_assert_cmpuint (b_id, >, 0);
  g_assert_true (agent_proc_wait_state (alice, a_id, "ringing", T_STATE));
  invoke_ok (alice, "Hangup", a_id);
  assert_ended_with (alice, a_id, "487");
  assert_ended_with (bob, b_id, NULL);

  /* Callee declines. */
  a_id = dial (alice, "bob");
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  g_assert_cmpuint (b_id, >, 0);
  invoke_ok (bob, "Hangup", b_id);
  assert_ended_with (alice, a_id, "603");

  /* Callee hangs up an established call. */
  a_id = dial (alice, "bob");
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  invoke_ok (bob, "Answer", b_id);
  assert_active (alice, a_id);
  assert_active (bob, b_id);
  invoke_ok (bob, "Hangup", b_id);
  assert_ended_with (alice, a_id, NULL);
  assert_ended_with (bob, b_id, NULL);

  /* A known user who is offline, and one who does not exist. */
  a_id = dial (alice, "carol");
  assert_ended_with (alice, a_id, "480");
  a_id = dial (alice, "nobody");
  assert_ended_with (alice, a_id, "404");

  /* SIGHUP (systemctl reload) re-reads the log level and registers again; it never stops the
   * agent. */
  {
    g_autofree char *log = NULL;

    g_subprocess_send_signal (alice->proc, SIGHUP);
    agent_sleep_ms (500);
    g_assert_true (agent_proc_wait_registered (alice, T_REG));
    log = agent_proc_log (alice);
    g_assert_nonnull (strstr (log, "SIGHUP: log level"));
  }

  agent_proc_stop (alice);
  agent_proc_stop (bob);
}

/* ---- a malicious server swaps the DTLS fingerprint ---- */

static void
test_tampered (Fixture *f, gconstpointer data)
{
  g_autofree char *c = media_conf (NULL, NULL);
  g_autofree char *cert = NULL, *key = NULL, *registrar = NULL;
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  g_autofree char *reason = NULL;
  TamperProxy *proxy;
  guint a_id, b_id;

  sig_harness_start (f->h);
  cert = g_build_filename (f->h->cert_dir, "server.pem", NULL);
  key = g_build_filename (f->h->cert_dir, "server.key", NULL);
  proxy = tamper_proxy_start (f->h->port, cert, key);
  registrar = g_strdup_printf ("sips:localhost:%u", tamper_proxy_port (proxy));
  {
    const char *via_proxy[] = { "--registrar", registrar, NULL };

    alice = agent_proc_start (f->h, "alice", "alice-secret-1", c, via_proxy);
  }
  bob = agent_proc_start (f->h, "bob", "bob-secret-22", c, NULL);
  g_assert_true (agent_proc_wait_registered (alice, T_REG));
  g_assert_true (agent_proc_wait_registered (bob, T_REG));

  a_id = dial (alice, "bob");
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  g_assert_cmpuint (b_id, >, 0);
  invoke_ok (bob, "Answer", b_id);
  assert_ended_with (alice, a_id, NULL);
  reason = agent_proc_call_string (alice, a_id, "reason");
  g_assert_nonnull (strstr (reason, "fingerprint"));
  /* The proxy really did rewrite bob's answer: the failure is the check working. */
  g_assert_cmpuint (tamper_proxy_rewrites (proxy), >=, 1);
  /* Nothing was decrypted on either side. */
  g_assert_cmpuint (agent_proc_call_u64 (alice, a_id, "packets-received"), ==, 0);
  assert_ended_with (bob, b_id, NULL);
  {
    g_autofree char *bob_reason = agent_proc_call_string (bob, b_id, "reason");

    /* The caller's BYE carries the reason (RFC 3326) to the callee. */
    g_assert_nonnull (strstr (bob_reason, "fingerprint"));
  }
  agent_proc_stop (alice);
  agent_proc_stop (bob);
  tamper_proxy_stop (proxy);
}

/* ---- the Short Authentication String ---- */

/* Waits until call @id has finished ZRTP; returns its SAS. */
static char *
wait_sas (AgentProc *a, guint id)
{
  gint64 deadline = g_get_monotonic_time () + T_STATE * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *zrtp = agent_proc_call_string (a, id, "zrtp");

      g_assert_cmpstr (zrtp, !=, "failed");
      g_assert_cmpstr (zrtp, !=, "off");
      if (g_strcmp0 (zrtp, "secure") == 0)
        return agent_proc_call_string (a, id, "sas");
      agent_sleep_ms (50);
    }
  g_error ("%s: no SAS for call %u", a->name, id);
}

static gboolean
call_bool (AgentProc *a, guint id, const char *key)
{
  g_autoptr (GVariant) info = agent_proc_call_info (a, id);
  gboolean v = FALSE;

  g_assert_true (g_variant_lookup (info, key, "b", &v));
  return v;
}

static void
verify (AgentProc *a, guint id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r
      = agent_proc_invoke (a, "Verify", g_variant_new ("(ub)", id, TRUE), &error);

  g_assert_no_error (error);
}

static void
test_sas (Fixture *f, gconstpointer data)
{
  g_autofree char *c = media_conf (NULL, NULL);
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  guint a_id, b_id;

  start_two (f, c, NULL, c, NULL, &alice, &bob);

  /* First call: the same SAS on both sides, bound to the same DTLS session, not verified. */
  talk (f, alice, bob, &a_id, &b_id, 0);
  {
    g_autofree char *sas_a = wait_sas (alice, a_id);
    g_autofree char *sas_b = wait_sas (bob, b_id);
    g_autofree char *bind_a = agent_proc_call_string (alice, a_id, "zrtp-dtls-binding");
    g_autofree char *bind_b = agent_proc_call_string (bob, b_id, "zrtp-dtls-binding");

    g_test_message ("SAS: alice \"%s\", bob \"%s\"", sas_a, sas_b);
    g_assert_cmpuint (strlen (sas_a), ==, 4);
    g_assert_cmpstr (sas_a, ==, sas_b);
    g_assert_cmpstr (bind_a, ==, "match");
    g_assert_cmpstr (bind_b, ==, "match");
    g_assert_false (call_bool (alice, a_id, "sas-verified"));
    g_assert_false (call_bool (alice, a_id, "key-verified"));
  }
  /* Alice and Bob read it aloud; it matched. */
  verify (alice, a_id);
  verify (bob, b_id);
  g_assert_true (call_bool (alice, a_id, "key-verified"));
  invoke_ok (alice, "Hangup", a_id);
  assert_ended_with (bob, b_id, NULL);

  /* Second call: verified without asking. */
  talk (f, alice, bob, &a_id, &b_id, 0);
  {
    g_autofree char *sas_a = wait_sas (alice, a_id);
    g_autofree char *sas_b = wait_sas (bob, b_id);

    g_assert_cmpstr (sas_a, ==, sas_b);
    g_assert_true (call_bool (alice, a_id, "sas-verified"));
    g_assert_true (call_bool (bob, b_id, "sas-verified"));
    g_assert_true (call_bool (alice, a_id, "key-verified"));
    g_assert_true (call_bool (bob, b_id, "key-verified"));
  }
  invoke_ok (bob, "Hangup", b_id);
  assert_ended_with (alice, a_id, NULL);
  agent_proc_stop (alice);
  agent_proc_stop (bob);
}

/* ---- the server goes away mid-call ---- */

static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *c = media_conf (NULL, NULL);
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  guint a_id, b_id;
  guint64 before, after;

  start_two (f, c, NULL, c, NULL, &alice, &bob);
  talk (f, alice, bob, &a_id, &b_id, 500);

  sig_harness_kill9 (f->h);
  before = agent_proc_call_u64 (bob, b_id, "packets-received");
  agent_sleep_ms (3000);
  after = agent_proc_call_u64 (bob, b_id, "packets-received");
  g_test_message ("bob received %" G_GUINT64_FORMAT " packets in 3 s without a server",
                  after - before);
  /* 20 ms frames: 150 in 3 s. Media goes peer to peer; the server's death must not cut it. */
  g_assert_cmpuint (after - before, >, 100);
  {
    g_autofree char *state = agent_proc_call_string (bob, b_id, "state");

    g_assert_cmpstr (state, ==, "active");
  }

  /* The server comes back on the same port; both agents register again by themselves. */
  sig_harness_start (f->h);
  g_assert_true (agent_proc_wait_registered (alice, 2 * T_REG));
  g_assert_true (agent_proc_wait_registered (bob, 2 * T_REG));

  invoke_ok (alice, "Hangup", a_id);
  agent_proc_stop (alice);
  agent_proc_stop (bob);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/agent/call/direct", Fixture, NULL, setup, test_direct, teardown);
  g_test_add ("/agent/call/relay", Fixture, NULL, setup, test_relay, teardown);
  g_test_add ("/agent/call/refusals", Fixture, NULL, setup, test_refusals, teardown);
  g_test_add ("/agent/call/outcomes", Fixture, NULL, setup, test_outcomes, teardown);
  g_test_add ("/agent/call/tampered", Fixture, NULL, setup, test_tampered, teardown);
  g_test_add ("/agent/call/sas", Fixture, NULL, setup, test_sas, teardown);
  g_test_add ("/agent/call/restart", Fixture, NULL, setup, test_restart, teardown);
  return g_test_run ();
}

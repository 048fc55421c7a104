/* ICE restarts of ca-session in one process: two real sessions (libnice on 127.0.0.1, DTLS-SRTP,
 * GStreamer audio from a silent source into WAV files) whose SDP goes straight from one to the
 * other, as SIP would carry it.
 *
 *   /agent/session/restart           a restart offer and its answer: both sides stay ACTIVE,
 *                                    ICE runs with new credentials, audio keeps arriving
 *   /agent/session/restart-refused   new descriptions that would change the DTLS fingerprint,
 *                                    swap the DTLS roles, drop the codec, or answer without
 *                                    new ICE credentials are refused, and change nothing
 *   /agent/session/restart-glare     both sides restart at once: the one with its own offer
 *                                    out refuses the other's (491 in SIP), and the loser's
 *                                    restart can run afterwards
 *   /agent/session/hold-then-consent-lost  a peer on hold sends nothing, which restarts
 *                                    nothing; when it vanishes, consent loss restarts ICE
 *   /agent/session/file-ended        a played file ends: RTP keepalives follow, the peer
 *                                    restarts nothing */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "client-agent/ca-dtls-cert.h"
#include "client-agent/ca-sdp.h"
#include "client-agent/ca-session.h"

#define T_ACTIVE_MS 15000
#define T_AUDIO_MS  10000
#define MIN_PACKETS 25

typedef struct _Fixture Fixture;

typedef struct
{
  Fixture *f;
  const char *name;
  CaSession *session;
  char *sdp;     /* the last initial SDP it produced */
  char *reoffer; /* the last restart offer it produced */
  guint n_reoffers;
} Side;

struct _Fixture
{
  GMainContext *context;
  GSource *tick;
  char *dir;
  CaDtlsCert *cert_a, *cert_b;
  Side a; /* caller, offerer */
  Side b; /* callee */
};

static const char *const loopback[] = { "127.0.0.1", NULL };

static gboolean
on_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

#define WAIT_FOR(f, cond, ms)                                                                  \
  ({                                                                                           \
    gint64 deadline_ = g_get_monotonic_time () + (gint64) (ms) * 1000;                         \
    while (!(cond) && g_get_monotonic_time () < deadline_)                                     \
      g_main_context_iteration ((f)->context, TRUE);                                           \
    (cond);                                                                                    \
  })

static void
on_sdp (CaSession *session, const char *sdp, gpointer user_data)
{
  Side *s = user_data;

  g_free (s->sdp);
  s->sdp = g_strdup (sdp);
}

static void
on_reoffer (CaSession *session, const char *sdp, gpointer user_data)
{
  Side *s = user_data;

  g_free (s->reoffer);
  s->reoffer = g_strdup (sdp);
  s->n_reoffers++;
}

static CaSession *
new_session (Fixture *f, Side *s, CaSessionRole role, CaDtlsCert *cert, const char *play)
{
  g_autofree char *rec = g_strdup_printf ("%s/%s.wav", f->dir, s->name);
  g_autoptr (GError) error = NULL;
  CaSessionConfig config = {
    .context = f->context,
    .role = role,
    .cert = cert,
    .local_addresses = loopback,
    .record_path = rec,
    .play_path = play,
    .silent_source = play == NULL,
    .local_sdp = on_sdp,
    .reoffer = on_reoffer,
    .user_data = s,
  };
  CaSession *session = ca_session_new (&config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (session);
  return session;
}

static CaSessionState
state_of (Side *s)
{
  return ca_session_get_state (s->session);
}

static guint64
info_u64 (Side *s, const char *key)
{
  g_autoptr (GVariant) info = g_variant_ref_sink (ca_session_get_info (s->session));
  guint64 v = 0;

  g_variant_lookup (info, key, "t", &v);
  return v;
}

static guint32
restarts_of (Side *s)
{
  g_autoptr (GVariant) info = g_variant_ref_sink (ca_session_get_info (s->session));
  guint32 v = 0;

  g_assert_true (g_variant_lookup (info, "ice-restarts", "u", &v));
  return v;
}

static char *
ufrag_of (const char *sdp)
{
  g_autoptr (CaSdpMedia) m = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_sdp_parse (sdp, strlen (sdp), &m, &error));
  g_assert_no_error (error);
  return g_strdup (m->ice_ufrag);
}

/* A 16-bit mono 8 kHz WAV of @seconds of silence. */
static void
write_silent_wav (const char *path, guint seconds)
{
  guint32 data_len = seconds * 8000 * 2;
  g_autofree guint8 *wav = g_malloc0 (44 + data_len);
  const guint32 riff_len = 36 + data_len, fmt_len = 16, rate = 8000, byte_rate = 16000;
  const guint16 pcm = 1, channels = 1, align = 2, bits = 16;

  memcpy (wav, "RIFF", 4);
  memcpy (wav + 4, &riff_len, 4);
  memcpy (wav + 8, "WAVEfmt ", 8);
  memcpy (wav + 16, &fmt_len, 4);
  memcpy (wav + 20, &pcm, 2);
  memcpy (wav + 22, &channels, 2);
  memcpy (wav + 24, &rate, 4);
  memcpy (wav + 28, &byte_rate, 4);
  memcpy (wav + 32, &align, 2);
  memcpy (wav + 34, &bits, 2);
  memcpy (wav + 36, "data", 4);
  memcpy (wav + 40, &data_len, 4);
  g_assert_true (g_file_set_contents (path, (const char *) wav, 44 + data_len, NULL));
}

/* Both sessions up and carrying audio both ways. */
static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *play = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->tick = g_timeout_source_new (20);
  g_source_set_callback (f->tick, on_tick, NULL, NULL);
  g_source_attach (f->tick, f->context);
  f->dir = g_dir_make_tmp ("sotto-session-XXXXXX", &error);
  g_assert_no_error (error);
  f->cert_a = ca_dtls_cert_new (&error);
  g_assert_no_error (error);
  f->cert_b = ca_dtls_cert_new (&error);
  g_assert_no_error (error);
  f->a.f = f->b.f = f;
  f->a.name = "caller";
  f->b.name = "callee";

  if (data != NULL)
    {
      /* @data: seconds of silence the caller plays from a WAV file, then nothing more */
      guint seconds = GPOINTER_TO_UINT (data);

      play = g_build_filename (f->dir, "play.wav", NULL);
      write_silent_wav (play, seconds);
    }
  f->a.session = new_session (f, &f->a, CA_SESSION_OFFERER, f->cert_a, play);
  f->b.session = new_session (f, &f->b, CA_SESSION_ANSWERER, f->cert_b, NULL);
  g_assert_true (ca_session_start_offer (f->a.session, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f, f->a.sdp != NULL, T_ACTIVE_MS));
  g_assert_true (ca_session_set_remote_sdp (f->b.session, f->a.sdp, &error));
  g_assert_no_error (error);
  g_assert_true (ca_session_accept (f->b.session, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f, f->b.sdp != NULL, T_ACTIVE_MS));
  g_assert_true (ca_session_set_remote_sdp (f->a.session, f->b.sdp, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f,
                           state_of (&f->a) == CA_SESSION_STATE_ACTIVE
                               && state_of (&f->b) == CA_SESSION_STATE_ACTIVE,
                           T_ACTIVE_MS));
  g_assert_true (WAIT_FOR (f,
                           info_u64 (&f->a, "packets-received") > MIN_PACKETS
                               && info_u64 (&f->b, "packets-received") > MIN_PACKETS,
                           T_AUDIO_MS));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  for (Side *s = &f->a; s != NULL; s = s == &f->a ? &f->b : NULL)
    {
      if (s->session != NULL)
        ca_session_close (s->session);
      g_clear_pointer (&s->session, ca_session_unref);
      g_free (s->sdp);
      g_free (s->reoffer);
    }
  /* let the media pipelines and libnice finish closing */
  {
    gint64 deadline = g_get_monotonic_time () + 300 * 1000;

    while (g_get_monotonic_time () < deadline)
      g_main_context_iteration (f->context, TRUE);
  }
  g_clear_pointer (&f->cert_a, ca_dtls_cert_unref);
  g_clear_pointer (&f->cert_b, ca_dtls_cert_unref);
  {
    g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
    const char *name;

    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (f->dir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (f->dir);
  }
  g_free (f->dir);
  g_source_destroy (f->tick);
  g_source_unref (f->tick);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

/* Replaces the first @from in @text by @to. */
static char *
replace_once (const char *text, const char *from, const char *to)
{
  const char *at = strstr (text, from);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int) (at - text), text, to, at + strlen (from));
}

/* The value of the first "a=NAME:" line. */
static char *
attr_value (const char *sdp, const char *name)
{
  g_autofree char *key = g_strdup_printf ("a=%s:", name);
  const char *at = strstr (sdp, key);
  const char *end;

  g_assert_nonnull (at);
  at += strlen (key);
  end = strpbrk (at, "\r\n");
  return g_strndup (at, end - at);
}

static void
restart_once (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;

  g_assert_true (ca_session_restart_ice (f->a.session, "test", &error));
  g_assert_no_error (error);
  g_assert_nonnull (f->a.reoffer);
  answer = ca_session_answer_reoffer (f->b.session, f->a.reoffer, &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  g_assert_true (ca_session_set_reanswer (f->a.session, answer, &error));
  g_assert_no_error (error);
}

static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *old_a = ufrag_of (f->a.sdp), *old_b = ufrag_of (f->b.sdp);
  g_autofree char *new_a = NULL;
  g_autofree char *o_before = NULL, *o_after = NULL;
  guint64 rx_a, rx_b;

  g_assert_cmpuint (restarts_of (&f->a), ==, 0);
  restart_once (f);
  new_a = ufrag_of (f->a.reoffer);
  g_assert_cmpstr (new_a, !=, old_a);
  /* The same session in o= with a higher version (RFC 3264 §8). */
  o_before = g_strdup (strstr (f->a.sdp, "o=- "));
  o_after = g_strdup (strstr (f->a.reoffer, "o=- "));
  *strchr (o_before, '\r') = '\0';
  *strchr (o_after, '\r') = '\0';
  g_test_message ("o= %s -> %s", o_before, o_after);
  g_assert_cmpstr (o_before, !=, o_after);
  g_assert_cmpuint (strlen (o_before), >, 10);
  g_assert_true (strncmp (o_before, o_after, strcspn (o_before + 4, " ") + 4) == 0);
  /* The fingerprint is the one of the call: the DTLS association carries on. */
  {
    g_autofree char *fp1 = attr_value (f->a.sdp, "fingerprint");
    g_autofree char *fp2 = attr_value (f->a.reoffer, "fingerprint");
    g_assert_cmpstr (fp1, ==, fp2);
  }
  g_assert_cmpuint (restarts_of (&f->a), ==, 1);
  g_assert_cmpuint (restarts_of (&f->b), ==, 1);

  rx_a = info_u64 (&f->a, "packets-received");
  rx_b = info_u64 (&f->b, "packets-received");
  g_assert_true (WAIT_FOR (f,
                           info_u64 (&f->a, "packets-received") > rx_a + MIN_PACKETS
                               && info_u64 (&f->b, "packets-received") > rx_b + MIN_PACKETS,
                           T_AUDIO_MS));
  g_assert_cmpint (state_of (&f->a), ==, CA_SESSION_STATE_ACTIVE);
  g_assert_cmpint (state_of (&f->b), ==, CA_SESSION_STATE_ACTIVE);
  g_assert_cmpuint (f->a.n_reoffers, ==, 1);
  g_assert_cmpuint (f->b.n_reoffers, ==, 0);
  (void) old_b;

  /* A second restart works the same way. */
  restart_once (f);
  g_assert_cmpuint (restarts_of (&f->a), ==, 2);
}

static void
refuse (Fixture *f, const char *offer, GQuark domain, gint code, const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *b_sdp_before = g_strdup (f->b.sdp);
  guint32 restarts = restarts_of (&f->b);

  answer = ca_session_answer_reoffer (f->b.session, offer, &error);
  g_test_message ("%s: %s", what, error ? error->message : "(accepted)");
  g_assert_null (answer);
  g_assert_error (error, domain, code);
  g_assert_cmpuint (ca_session_error_sip_status (error), ==, 488);
  /* nothing changed: no restart counted, still ACTIVE */
  g_assert_cmpuint (restarts_of (&f->b), ==, restarts);
  g_assert_cmpint (state_of (&f->b), ==, CA_SESSION_STATE_ACTIVE);
}

static void
test_restart_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *fp = NULL, *bad_fp = NULL, *tampered = NULL, *swapped = NULL;
  g_autofree char *nocodec = NULL, *answer = NULL, *stale = NULL;
  guint64 rx;

  g_assert_true (ca_session_restart_ice (f->a.session, "test", &error));
  g_assert_no_error (error);
  /* only one at a time */
  g_assert_false (ca_session_restart_ice (f->a.session, "again", &error));
  g_assert_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_ICE);
  g_clear_error (&error);

  /* A man in the middle (or a server) swapping the fingerprint of a running call. */
  fp = attr_value (f->a.reoffer, "fingerprint");
  bad_fp = g_strdup (fp);
  bad_fp[strlen (bad_fp) - 1] = bad_fp[strlen (bad_fp) - 1] == 'A' ? 'B' : 'A';
  tampered = replace_once (f->a.reoffer, fp, bad_fp);
  refuse (f, tampered, CA_SDP_ERROR, CA_SDP_ERROR_NO_FINGERPRINT, "fingerprint swapped");

  /* The callee is the DTLS client (it answered active to actpass): an offer saying the caller
   * is now active would swap the roles. */
  swapped = replace_once (f->a.reoffer, "a=setup:actpass", "a=setup:active");
  refuse (f, swapped, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP, "DTLS roles swapped");

  /* The call's codec dropped (Opus at 111 renamed to PCMU's number). */
  nocodec = replace_once (f->a.reoffer, "a=rtpmap:111 opus/48000/2", "a=rtpmap:112 opus/48000/2");
  {
    char *tmp = replace_once (nocodec, "UDP/TLS/RTP/SAVP 111", "UDP/TLS/RTP/SAVP 112");
    g_free (nocodec);
    nocodec = tmp;
    tmp = replace_once (nocodec, "a=fmtp:111", "a=fmtp:112");
    g_free (nocodec);
    nocodec = tmp;
  }
  refuse (f, nocodec, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC, "codec changed");

  /* The callee's answer with its old ICE credentials: not a restart. */
  answer = ca_session_answer_reoffer (f->b.session, f->a.reoffer, &error);
  g_assert_no_error (error);
  {
    g_autofree char *new_ufrag = attr_value (answer, "ice-ufrag");
    g_autofree char *new_pwd = attr_value (answer, "ice-pwd");
    g_autofree char *old_ufrag = attr_value (f->b.sdp, "ice-ufrag");
    g_autofree char *old_pwd = attr_value (f->b.sdp, "ice-pwd");
    g_autofree char *tmp = replace_once (answer, new_ufrag, old_ufrag);

    g_assert_cmpstr (new_ufrag, !=, old_ufrag);
    stale = replace_once (tmp, new_pwd, old_pwd);
  }
  g_clear_pointer (&answer, g_free);
  g_assert_false (ca_session_set_reanswer (f->a.session, stale, &error));
  g_test_message ("answer without new ICE credentials: %s", error->message);
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS);
  g_clear_error (&error);
  /* That attempt is over; a new one goes through, and the call is as good as before. */
  g_assert_false (ca_session_set_reanswer (f->a.session, stale, &error));
  g_assert_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP);
  g_clear_error (&error);
  restart_once (f);
  rx = info_u64 (&f->a, "packets-received");
  g_assert_true (WAIT_FOR (f, info_u64 (&f->a, "packets-received") > rx + MIN_PACKETS,
                           T_AUDIO_MS));
  /* Not SDP at all */
  answer = ca_session_answer_reoffer (f->b.session, "hello", &error);
  g_assert_null (answer);
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_MALFORMED);
}

static void
test_restart_glare (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;

  g_assert_true (ca_session_restart_ice (f->a.session, "test", &error));
  g_assert_no_error (error);
  g_assert_true (ca_session_restart_ice (f->b.session, "test", &error));
  g_assert_no_error (error);
  /* Each has its own offer out: each refuses the other's (SIP: 491 Request Pending). */
  answer = ca_session_answer_reoffer (f->b.session, f->a.reoffer, &error);
  g_assert_null (answer);
  g_assert_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP);
  g_clear_error (&error);
  ca_session_reoffer_failed (f->a.session, 491);
  ca_session_reoffer_failed (f->b.session, 491);
  /* Nothing pending now: the callee's restart (it may retry first, RFC 3261 §14.1) goes
   * through. */
  g_assert_true (ca_session_restart_ice (f->b.session, "retry", &error));
  g_assert_no_error (error);
  answer = ca_session_answer_reoffer (f->a.session, f->b.reoffer, &error);
  g_assert_no_error (error);
  g_assert_true (ca_session_set_reanswer (f->b.session, answer, &error));
  g_assert_no_error (error);
  {
    guint64 rx = info_u64 (&f->b, "packets-received");
    g_assert_true (WAIT_FOR (f, info_u64 (&f->b, "packets-received") > rx + MIN_PACKETS,
                             T_AUDIO_MS));
  }
}

/* On hold the peer sends no RTP, so silence restarts nothing; when the peer then vanishes,
 * consent (RFC 7675, libnice: 10 s) is what notices, and the restart follows. */
static void
test_hold_then_consent_lost (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hold = NULL, *answer = NULL, *at = NULL, *first = NULL;
  gint64 deadline;

  /* The callee puts the call on hold: its new offer says a=inactive. */
  g_assert_true (ca_session_restart_ice (f->b.session, "hold", &error));
  g_assert_no_error (error);
  hold = replace_once (f->b.reoffer, "a=ice-ufrag:", "a=inactive\r\na=ice-ufrag:");
  answer = ca_session_answer_reoffer (f->a.session, hold, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (answer, "a=inactive"));
  g_assert_true (ca_session_set_reanswer (f->b.session, answer, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->a.n_reoffers, ==, 0);

  /* The callee vanishes without a word (its host lost power). */
  ca_session_close (f->b.session);
  g_clear_pointer (&f->b.session, ca_session_unref);

  /* 5 s of silence: the caller would restart after 2 s if the callee were sending. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpuint (f->a.n_reoffers, ==, 0);
  g_assert_cmpint (state_of (&f->a), ==, CA_SESSION_STATE_ACTIVE);

  /* Consent runs out: the caller restarts ICE rather than ending the call. */
  g_assert_true (WAIT_FOR (f, f->a.n_reoffers > 0, 30000));
  g_assert_cmpint (state_of (&f->a), ==, CA_SESSION_STATE_ACTIVE);
  at = ufrag_of (f->a.reoffer);
  first = ufrag_of (f->a.sdp);
  g_assert_cmpstr (at, !=, first);
}

/* The caller's file ends after a second: its media stops, and RTP keepalives (RFC 6263 §4.6)
 * keep the callee from taking the silence for a broken path. */
static void
test_file_ended (Fixture *f, gconstpointer data)
{
  guint64 rx;
  gint64 deadline = g_get_monotonic_time () + 7 * G_USEC_PER_SEC;

  /* the file's second of audio is over within 7 s; by then the callee would have restarted
   * ICE after 4 s of silence, without keepalives */
  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (f->context, TRUE);
  rx = info_u64 (&f->b, "packets-received");
  g_assert_cmpuint (rx, >=, 40);  /* about 50 packets of 20 ms */
  g_assert_cmpuint (rx, <=, 60);  /* the keepalives are not audio */
  g_assert_cmpuint (f->b.n_reoffers, ==, 0);
  g_assert_cmpuint (f->a.n_reoffers, ==, 0);
  g_assert_cmpuint (restarts_of (&f->b), ==, 0);
  g_assert_cmpint (state_of (&f->a), ==, CA_SESSION_STATE_ACTIVE);
  g_assert_cmpint (state_of (&f->b), ==, CA_SESSION_STATE_ACTIVE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/agent/session/restart", Fixture, NULL, setup, test_restart, teardown);
  g_test_add ("/agent/session/restart-refused", Fixture, NULL, setup, test_restart_refused,
              teardown);
  g_test_add ("/agent/session/restart-glare", Fixture, NULL, setup, test_restart_glare,
              teardown);
  g_test_add ("/agent/session/hold-then-consent-lost", Fixture, NULL, setup,
              test_hold_then_consent_lost, teardown);
  g_test_add ("/agent/session/file-ended", Fixture, GUINT_TO_POINTER (1), setup, test_file_ended,
              teardown);
  return g_test_run ();
}

/* Tests for ca-media: two media objects back to back in one process, RTP handed from one's
 * send callback straight into the other's ca_media_push_rtp() (no network), spoken WAVs from
 * espeak-ng, the recording checked with ca-audio-compare; hostile packets, bad sources; and
 * the RFC 3550 receive statistics on their own. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

#include "client-agent/ca-audio-compare.h"
#include "client-agent/ca-media.h"
#include "client-agent/ca-rtp-stats.h"

#define PHRASE_ONE "Testing the media path of sotto. One, two, three, four, five, six, seven."
#define PHRASE_TWO "A quiet harbour at dawn; gulls, ropes and a single lantern swinging."
#define OPUS_PT 111
#define PLAY_DEADLINE_MS 30000
#define STOP_MS 5000
#define MAX_LAG_MS 2000

typedef struct
{
  const char *name;
  CaMedia *media;
  gpointer to; /* Peer *: where sent packets go, or NULL */
  guint n_first_audio, n_play_done, n_error;
  guint64 pushed; /* packets handed to the peer */
} Peer;

typedef struct
{
  GMainContext *context;
  char *dir;
  Peer a, b;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->dir = g_dir_make_tmp ("ca-media-XXXXXX", &error);
  g_assert_no_error (error);
  f->a.name = "A";
  f->b.name = "B";
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->a.media, ca_media_free);
  g_clear_pointer (&f->b.media, ca_media_free);
  /* what the media objects left queued on the context */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  if (g_getenv ("CA_MEDIA_TEST_KEEP") == NULL)
    remove_dir (f->dir);
  g_free (f->dir);
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
}

static gboolean
on_wait_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (Fixture *f);

/* Runs the loop until @done or @ms pass; returns @done's verdict. */
static gboolean
run_until (Fixture *f, Predicate done, guint ms)
{
  gboolean expired = FALSE;
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_callback (timer, on_wait_deadline, &expired, NULL);
  g_source_attach (timer, f->context);
  while ((done == NULL || !done (f)) && !expired)
    g_main_context_iteration (f->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return done != NULL && done (f);
}

static void
on_send (CaMedia *media, const guint8 *rtp, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  Peer *to = p->to;

  g_assert_true (media == p->media);
  g_assert_cmpuint (len, >=, 12);
  if (to != NULL && to->media != NULL)
    {
      ca_media_push_rtp (to->media, rtp, len);
      p->pushed++;
    }
}

static void
on_event (CaMedia *media, CaMediaEvent event, gpointer user_data)
{
  Peer *p = user_data;

  g_assert_true (media == p->media);
  switch (event)
    {
    case CA_MEDIA_EVENT_FIRST_AUDIO:
      p->n_first_audio++;
      break;
    case CA_MEDIA_EVENT_PLAY_DONE:
      p->n_play_done++;
      break;
    case CA_MEDIA_EVENT_ERROR:
      p->n_error++;
      g_test_message ("%s: media error: %s", p->name, ca_media_get_error (media)->message);
      break;
    case CA_MEDIA_EVENT_LAST:
      g_assert_not_reached ();
    }
}

static CaMedia *
peer_media (Fixture *f, Peer *p, CaMediaCodec codec, const char *play, const char *record,
            GError **error)
{
  CaMediaConfig config = {
    .context = f->context,
    .codec = codec,
    .payload_type = codec == CA_MEDIA_CODEC_OPUS ? OPUS_PT : 0,
    .play_path = play,
    .record_path = record,
    .silent_source = play == NULL,
    .send = on_send,
    .event = on_event,
    .user_data = p,
  };

  p->media = ca_media_new (&config, error);
  return p->media;
}

static char *
speak (Fixture *f, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr (GError) error = NULL;
  int status = -1;
  const char *argv[] = { "espeak-ng", "-w", path, text, NULL };

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
                               G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                                   | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_steal_pointer (&path);
}

static gboolean
have_espeak (void)
{
  g_autofree char *path = g_find_program_in_path ("espeak-ng");

  if (path == NULL)
    g_test_skip ("espeak-ng is not installed: no speech to send");
  return path != NULL;
}

static gboolean
played_and_heard (Fixture *f)
{
  return f->a.n_play_done > 0 && f->b.n_first_audio > 0;
}

/* A plays @play_wav to B, B records; B sends silence back to A. Returns B's recording. */
static char *
play_across (Fixture *f, CaMediaCodec codec, const char *play_wav)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *rec_a = g_build_filename (f->dir, "a-rec.wav", NULL);
  g_autofree char *rec_b = g_build_filename (f->dir, "b-rec.wav", NULL);
  CaMediaStats sa, sb;
  gint64 t0;

  g_assert_nonnull (peer_media (f, &f->a, codec, play_wav, rec_a, &error));
  g_assert_no_error (error);
  g_assert_nonnull (peer_media (f, &f->b, codec, NULL, rec_b, &error));
  g_assert_no_error (error);
  f->a.to = &f->b;
  f->b.to = &f->a;

  t0 = g_get_monotonic_time ();
  g_assert_true (ca_media_start (f->b.media, &error));
  g_assert_no_error (error);
  g_assert_true (ca_media_start (f->a.media, &error));
  g_assert_no_error (error);
  g_assert_true (run_until (f, played_and_heard, PLAY_DEADLINE_MS));
  g_test_message ("%s: played in %.2f s", ca_media_codec_to_string (codec),
                  (g_get_monotonic_time () - t0) / 1e6);
  /* the tail still in B's jitter buffer is drained by the EOS in ca_media_stop() */
  ca_media_stop (f->b.media, STOP_MS);
  ca_media_stop (f->a.media, STOP_MS);
  ca_media_stop (f->a.media, STOP_MS); /* idempotent */

  g_assert_cmpuint (f->a.n_error, ==, 0);
  g_assert_cmpuint (f->b.n_error, ==, 0);
  g_assert_null (ca_media_get_error (f->a.media));
  g_assert_cmpuint (f->a.n_play_done, ==, 1);
  g_assert_cmpuint (f->b.n_play_done, ==, 0); /* a live silence source never ends */
  g_assert_cmpuint (f->b.n_first_audio, ==, 1);

  ca_media_get_stats (f->a.media, &sa);
  ca_media_get_stats (f->b.media, &sb);
  g_test_message ("A sent %" G_GUINT64_FORMAT " (%" G_GUINT64_FORMAT " B), received %" G_GUINT64_FORMAT
                  "; B received %" G_GUINT64_FORMAT " lost %" G_GUINT64_FORMAT
                  " jitter %.2f ms, first audio after %.0f ms",
                  sa.packets_sent, sa.bytes_sent, sa.packets_received, sb.packets_received,
                  sb.packets_lost, sb.jitter_ms, (sb.first_audio_us - t0) / 1e3);
  /* a spoken phrase of several seconds at 20 ms per packet */
  g_assert_cmpuint (sa.packets_sent, >, 100);
  g_assert_cmpuint (sa.packets_sent, ==, f->a.pushed);
  g_assert_cmpuint (sb.packets_received, ==, sa.packets_sent);
  g_assert_cmpuint (sb.bytes_received, ==, sa.bytes_sent);
  g_assert_cmpuint (sb.packets_lost, ==, 0);
  g_assert_cmpfloat (sb.jitter_ms, >=, 0.0);
  g_assert_cmpint (sb.first_audio_us, >, t0);
  g_assert_cmpint (sa.first_audio_us, >, t0); /* B's silence decoded at A */
  g_assert_cmpuint (sb.packets_sent, >, 0);
  g_assert_cmpuint (sa.packets_received, ==, sb.packets_sent);
  g_assert_cmpuint (sa.bytes_received, ==, sb.bytes_sent);
  return g_steal_pointer (&rec_b);
}

static void
check_match (const char *source, const char *recording, gboolean expect_match)
{
  g_autoptr (GError) error = NULL;
  CaAudioMatch m;

  g_assert_true (ca_audio_compare_files (source, recording, MAX_LAG_MS, &m, &error));
  g_assert_no_error (error);
  g_test_message ("correlation %.3f at %d ms; rms source %.3f recording %.3f; %.2f s recorded",
                  m.correlation, m.lag_ms, m.source_rms, m.recording_rms, m.recording_s);
  if (expect_match)
    {
      g_assert_cmpfloat (m.correlation, >, 0.7);
      g_assert_cmpfloat (m.recording_rms, >, 0.01);
    }
  else
    g_assert_cmpfloat (m.correlation, <, 0.5);
}

static void
test_loop (Fixture *f, CaMediaCodec codec)
{
  g_autofree char *one = NULL;
  g_autofree char *rec = NULL;
  g_autofree char *rec_a = g_build_filename (f->dir, "a-rec.wav", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree float *x = NULL;
  gsize n = 0;
  guint rate = 0;

  if (!have_espeak ())
    return;
  one = speak (f, "one.wav", PHRASE_ONE);
  rec = play_across (f, codec, one);
  check_match (one, rec, TRUE);
  /* A recorded B's silence: a valid, finalized WAV holding nothing audible */
  g_assert_true (ca_audio_read_wav (rec_a, &x, &n, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, >, 0);
}

static void
test_opus_loop (Fixture *f, gconstpointer data)
{
  test_loop (f, CA_MEDIA_CODEC_OPUS);
}

static void
test_pcmu_loop (Fixture *f, gconstpointer data)
{
  test_loop (f, CA_MEDIA_CODEC_PCMU);
}

/* The comparison can fail: B hears phrase two, which does not match phrase one. */
static void
test_negative (Fixture *f, gconstpointer data)
{
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;
  g_autofree char *rec = NULL;

  if (!have_espeak ())
    return;
  one = speak (f, "one.wav", PHRASE_ONE);
  two = speak (f, "two.wav", PHRASE_TWO);
  rec = play_across (f, CA_MEDIA_CODEC_OPUS, two);
  check_match (one, rec, FALSE);
  check_match (two, rec, TRUE); /* and it is not just a broken recording */
}

static gsize
rtp_header (guint8 *b, guint8 pt, guint16 seq, guint32 ts)
{
  b[0] = 0x80;
  b[1] = pt;
  b[2] = seq >> 8;
  b[3] = seq & 0xff;
  b[4] = ts >> 24;
  b[5] = (ts >> 16) & 0xff;
  b[6] = (ts >> 8) & 0xff;
  b[7] = ts & 0xff;
  b[8] = 0x12;
  b[9] = 0x34;
  b[10] = 0x56;
  b[11] = 0x78;
  return 12;
}

/* An Opus packet that decodes to 20 ms of silence (TOC 0xf8: CELT fullband 20 ms, one frame). */
static gsize
opus_silence (guint8 *b, guint16 seq)
{
  gsize n = rtp_header (b, OPUS_PT, seq, seq * 960u);

  b[n++] = 0xf8;
  b[n++] = 0xff;
  b[n++] = 0xfe;
  return n;
}

static CaMediaStats
stats_of (CaMedia *media)
{
  CaMediaStats s;

  ca_media_get_stats (media, &s);
  return s;
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *rec = g_build_filename (f->dir, "b-rec.wav", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (4242);
  g_autofree guint8 *huge = g_malloc0 (65536);
  guint8 b[256];
  gsize n, i;

  g_assert_nonnull (peer_media (f, &f->b, CA_MEDIA_CODEC_OPUS, NULL, rec, &error));
  g_assert_no_error (error);
  n = opus_silence (b, 1);
  ca_media_push_rtp (f->b.media, b, n); /* before start: dropped */
  g_assert_cmpuint (stats_of (f->b.media).packets_received, ==, 0);
  g_assert_true (ca_media_start (f->b.media, &error));
  g_assert_no_error (error);

  /* random garbage of every short length, and longer */
  for (i = 0; i < 2000; i++)
    {
      gsize len = i < 64 ? i : (gsize) g_rand_int_range (rand, 0, sizeof b);
      gsize k;

      for (k = 0; k < len; k++)
        b[k] = (guint8) g_rand_int_range (rand, 0, 256);
      if (len >= 2 && (b[1] & 0x7f) == OPUS_PT)
        b[1] ^= 0x01; /* random bytes that happen to look like ours are not garbage */
      ca_media_push_rtp (f->b.media, b, len);
    }
  ca_media_push_rtp (f->b.media, NULL, 0);
  /* every truncation of a good packet that leaves no payload */
  n = opus_silence (b, 2);
  for (i = 0; i <= 12; i++)
    ca_media_push_rtp (f->b.media, b, i);
  /* version 1, version 0, version 3 */
  for (i = 0; i < 3; i++)
    {
      n = opus_silence (b, 3);
      b[0] = (guint8) ((i == 2 ? 3 : i) << 6);
      ca_media_push_rtp (f->b.media, b, n);
    }
  /* another payload type (PCMU, a different dynamic one, ours with only the marker bit off) */
  n = opus_silence (b, 4);
  b[1] = 0;
  ca_media_push_rtp (f->b.media, b, n);
  b[1] = OPUS_PT + 1;
  ca_media_push_rtp (f->b.media, b, n);
  b[1] = 0x80 | (OPUS_PT - 1);
  ca_media_push_rtp (f->b.media, b, n);
  /* 15 CSRCs announced, none present */
  n = opus_silence (b, 5);
  b[0] |= 0x0f;
  ca_media_push_rtp (f->b.media, b, n);
  /* a header extension longer than the packet */
  n = rtp_header (b, OPUS_PT, 6, 0);
  b[0] |= 0x10;
  memcpy (b + n, "\xbe\xde\x00\x40\xf8\xff\xfe", 7);
  ca_media_push_rtp (f->b.media, b, n + 7);
  /* padding that eats more than the payload, and a zero padding count */
  n = opus_silence (b, 7);
  b[0] |= 0x20;
  b[n - 1] = 200;
  ca_media_push_rtp (f->b.media, b, n);
  b[n - 1] = 0;
  ca_media_push_rtp (f->b.media, b, n);
  /* huge packets with a good header */
  rtp_header (huge, OPUS_PT, 8, 0);
  huge[12] = 0xf8;
  ca_media_push_rtp (f->b.media, huge, 65536);
  ca_media_push_rtp (f->b.media, huge, 1501);

  g_assert_true (run_until (f, NULL, 200) == FALSE);
  g_assert_cmpuint (stats_of (f->b.media).packets_received, ==, 0);
  g_assert_cmpuint (stats_of (f->b.media).bytes_received, ==, 0);
  g_assert_cmpuint (f->b.n_first_audio, ==, 0);
  g_assert_cmpuint (f->b.n_error, ==, 0);

  /* the receive path still works: real packets are counted and decoded (marker bit allowed) */
  for (i = 0; i < 10; i++)
    {
      n = opus_silence (b, (guint16) (100 + i));
      if (i == 0)
        b[1] |= 0x80;
      ca_media_push_rtp (f->b.media, b, n);
    }
  g_assert_cmpuint (stats_of (f->b.media).packets_received, ==, 10);
  g_assert_cmpuint (stats_of (f->b.media).bytes_received, ==, 30);
  g_assert_cmpuint (stats_of (f->b.media).packets_lost, ==, 0);
  ca_media_stop (f->b.media, STOP_MS);
  n = opus_silence (b, 110);
  ca_media_push_rtp (f->b.media, b, n); /* after stop: dropped */
  g_assert_cmpuint (stats_of (f->b.media).packets_received, ==, 10);
  g_assert_cmpuint (f->b.n_error, ==, 0);
  g_assert_null (ca_media_get_error (f->b.media));
}

static gboolean
a_failed (Fixture *f)
{
  return f->a.n_error > 0;
}

static void
test_bad_source (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_build_filename (f->dir, "notes.wav", NULL);
  g_autofree char *broken = g_build_filename (f->dir, "broken.wav", NULL);
  g_autofree char *rec = g_build_filename (f->dir, "rec.wav", NULL);
  const GError *runtime;

  /* missing */
  g_assert_null (peer_media (f, &f->a, CA_MEDIA_CODEC_OPUS, "/nonexistent/sotto.wav", rec,
                             &error));
  g_assert_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  /* not a WAV at all */
  g_assert_true (g_file_set_contents (text, "just some text, no RIFF here\n", -1, NULL));
  g_assert_null (peer_media (f, &f->a, CA_MEDIA_CODEC_PCMU, text, rec, &error));
  g_assert_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  /* a directory */
  g_assert_null (peer_media (f, &f->a, CA_MEDIA_CODEC_OPUS, f->dir, rec, &error));
  g_assert_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE);
  g_clear_error (&error);

  /* a RIFF/WAVE header over garbage gets past the quick check and fails while streaming */
  g_assert_true (g_file_set_contents (broken, "RIFF\x24\x00\x00\x00WAVEjunk\x04\x00\x00\x00zzzz", 24,
                                      NULL));
  g_assert_nonnull (peer_media (f, &f->a, CA_MEDIA_CODEC_OPUS, broken, rec, &error));
  g_assert_no_error (error);
  if (ca_media_start (f->a.media, &error))
    {
      g_assert_true (run_until (f, a_failed, 5000));
      runtime = ca_media_get_error (f->a.media);
      g_assert_error (runtime, CA_MEDIA_ERROR, CA_MEDIA_ERROR_RUNTIME);
      g_test_message ("while streaming: %s", runtime->message);
    }
  else
    {
      g_assert_error (error, CA_MEDIA_ERROR, CA_MEDIA_ERROR_SOURCE);
      g_test_message ("at start: %s", error->message);
    }
  g_assert_cmpuint (f->a.n_play_done, ==, 0);
}


/* ---- RFC 3550 statistics ---- */

static void
test_stats_loss (void)
{
  CaRtpStats s;
  guint16 seq;

  ca_rtp_stats_init (&s, 8000);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 0);
  /* 65530 .. 65535, 0 .. 9 across the wrap, with 3 and 65533 missing */
  for (seq = 65530; seq != 10; seq++)
    if (seq != 3 && seq != 65533)
      ca_rtp_stats_update (&s, seq, seq * 160u, 1000000 + (gint64) (guint16) (seq + 6) * 20000);
  g_assert_cmpuint (s.received, ==, 14);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 2);
  /* late arrival of one of them and a duplicate (A.3: lost may go down, never below 0) */
  ca_rtp_stats_update (&s, 3, 3 * 160u, 2000000);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 1);
  ca_rtp_stats_update (&s, 9, 9 * 160u, 2000000);
  ca_rtp_stats_update (&s, 9, 9 * 160u, 2000000);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 0);
}

static void
test_stats_restart (void)
{
  CaRtpStats s;
  guint16 i;

  ca_rtp_stats_init (&s, 48000);
  for (i = 0; i < 5; i++)
    ca_rtp_stats_update (&s, 100 + i, 0, 0);
  /* one stray packet far away is ignored (A.1) ... */
  ca_rtp_stats_update (&s, 30000, 0, 0);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 0);
  g_assert_cmpuint (s.max_seq, ==, 104);
  /* ... two in sequence mean the source restarted, counted from the second (A.1 init_seq) */
  ca_rtp_stats_update (&s, 40000, 0, 0);
  ca_rtp_stats_update (&s, 40001, 0, 0);
  g_assert_cmpuint (s.base_seq, ==, 40001);
  g_assert_cmpuint (s.received, ==, 1);
  ca_rtp_stats_update (&s, 40003, 0, 0);
  g_assert_cmpuint (s.max_seq, ==, 40003);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 1);
}

static void
test_stats_jitter (void)
{
  CaRtpStats s;
  guint i;

  /* constant transit time: no jitter */
  ca_rtp_stats_init (&s, 8000);
  for (i = 0; i < 100; i++)
    ca_rtp_stats_update (&s, (guint16) i, i * 160u, 5000000 + (gint64) i * 20000);
  g_assert_cmpfloat (ca_rtp_stats_jitter_ms (&s), <, 0.2);
  /* every other packet 10 ms late: |D| is 10 ms each time, so J converges to 10 ms */
  ca_rtp_stats_init (&s, 48000);
  for (i = 0; i < 400; i++)
    ca_rtp_stats_update (&s, (guint16) i, 0xfffff000u + i * 960u,
                         (gint64) i * 20000 + (i % 2 ? 10000 : 0));
  g_assert_cmpfloat_with_epsilon (ca_rtp_stats_jitter_ms (&s), 10.0, 0.1);
  g_assert_cmpuint (ca_rtp_stats_lost (&s), ==, 0);
}

static void
test_codec_names (void)
{
  g_assert_cmpstr (ca_media_codec_to_string (CA_MEDIA_CODEC_OPUS), ==, "opus");
  g_assert_cmpstr (ca_media_codec_to_string (CA_MEDIA_CODEC_PCMU), ==, "pcmu");
  g_assert_cmpstr (ca_media_codec_to_string (CA_MEDIA_CODEC_LAST), ==, "unknown");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/media/rtp-stats/loss", test_stats_loss);
  g_test_add_func ("/agent/media/rtp-stats/restart", test_stats_restart);
  g_test_add_func ("/agent/media/rtp-stats/jitter", test_stats_jitter);
  g_test_add_func ("/agent/media/codec-names", test_codec_names);
  g_test_add ("/agent/media/opus-loop", Fixture, NULL, fixture_setup, test_opus_loop,
              fixture_teardown);
  g_test_add ("/agent/media/pcmu-loop", Fixture, NULL, fixture_setup, test_pcmu_loop,
              fixture_teardown);
  g_test_add ("/agent/media/negative", Fixture, NULL, fixture_setup, test_negative,
              fixture_teardown);
  g_test_add ("/agent/media/hostile", Fixture, NULL, fixture_setup, test_hostile,
              fixture_teardown);
  g_test_add ("/agent/media/bad-source", Fixture, NULL, fixture_setup, test_bad_source,
              fixture_teardown);
  ret = g_test_run ();
  gst_deinit ();
  return ret;
}

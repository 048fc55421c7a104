/* Tests for ca-audio-compare: the envelope correlation on synthetic signals (a shifted copy,
 * a different rhythm, silence, different rates), the WAV reader on well-formed and malformed
 * files, and two different espeak-ng phrases. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "client-agent/ca-audio-compare.h"

#define MAX_LAG_MS 2000

/* Speech-like test signal: tone bursts ("syllables") of random length and gap, from @seed, so
 * two seeds give two different rhythms and the same seed the same one at any rate. */
static float *
make_bursts (guint32 seed, guint rate, double seconds, double lead_s, gsize *n_out)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gsize n = (gsize) ((seconds + lead_s) * rate), i = (gsize) (lead_s * rate);
  float *x = g_new0 (float, n);

  while (i < n)
    {
      gsize on = (gsize) (g_rand_double_range (rand, 0.08, 0.25) * rate);
      gsize off = (gsize) (g_rand_double_range (rand, 0.05, 0.3) * rate);
      double amp = g_rand_double_range (rand, 0.2, 0.8);
      double freq = g_rand_double_range (rand, 150, 400);
      gsize k;

      for (k = 0; k < on && i + k < n; k++)
        x[i + k] = (float) (amp * sin (2 * G_PI * freq * k / rate) * sin (G_PI * k / on));
      i += on + off;
    }
  *n_out = n;
  return x;
}

static void
add_noise (float *x, gsize n, double level, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gsize i;

  for (i = 0; i < n; i++)
    x[i] += (float) g_rand_double_range (rand, -level, level);
}

static void
test_shifted (void)
{
  gsize n_src, n_rec;
  g_autofree float *src = make_bursts (7, 16000, 3.0, 0.0, &n_src);
  /* the "recording": 300 ms late, another rate, a little noise, and a second longer */
  g_autofree float *rec = make_bursts (7, 48000, 4.0, 0.3, &n_rec);
  CaAudioMatch m;

  add_noise (rec, n_rec, 0.01, 99);
  ca_audio_compare (src, n_src, 16000, rec, n_rec, 48000, MAX_LAG_MS, &m);
  g_test_message ("shifted: correlation %.3f at %d ms", m.correlation, m.lag_ms);
  g_assert_cmpfloat (m.correlation, >, 0.95);
  g_assert_cmpint (m.lag_ms, >=, 290);
  g_assert_cmpint (m.lag_ms, <=, 310);
  g_assert_cmpfloat (m.source_rms, >, 0.05);
  g_assert_cmpfloat_with_epsilon (m.recording_s, 4.3, 0.001);
}

static void
test_lag_beyond_window (void)
{
  gsize n_src, n_rec;
  g_autofree float *src = make_bursts (7, 16000, 3.0, 0.0, &n_src);
  g_autofree float *rec = make_bursts (7, 16000, 3.0, 1.0, &n_rec);
  CaAudioMatch m;

  /* the same audio 1 s late is found within 2 s, not within 500 ms */
  ca_audio_compare (src, n_src, 16000, rec, n_rec, 16000, MAX_LAG_MS, &m);
  g_assert_cmpfloat (m.correlation, >, 0.95);
  g_assert_cmpint (m.lag_ms, ==, 1000);
  ca_audio_compare (src, n_src, 16000, rec, n_rec, 16000, 500, &m);
  g_test_message ("1 s late, 500 ms window: correlation %.3f", m.correlation);
  g_assert_cmpfloat (m.correlation, <, 0.5);
}

static void
test_different (void)
{
  gsize n_src, n_rec;
  g_autofree float *src = make_bursts (7, 16000, 6.0, 0.0, &n_src);
  g_autofree float *rec = make_bursts (8, 48000, 6.5, 0.2, &n_rec);
  CaAudioMatch m;

  ca_audio_compare (src, n_src, 16000, rec, n_rec, 48000, MAX_LAG_MS, &m);
  g_test_message ("different rhythm: correlation %.3f at %d ms", m.correlation, m.lag_ms);
  g_assert_cmpfloat (m.correlation, <, 0.5);
}

static void
test_noise_vs_bursts (void)
{
  gsize n_src, n_rec = 3 * 16000;
  g_autofree float *src = make_bursts (7, 16000, 3.0, 0.0, &n_src);
  g_autofree float *rec = g_new0 (float, n_rec);
  CaAudioMatch m;

  add_noise (rec, n_rec, 0.5, 5);
  ca_audio_compare (src, n_src, 16000, rec, n_rec, 16000, MAX_LAG_MS, &m);
  g_test_message ("steady noise: correlation %.3f", m.correlation);
  g_assert_cmpfloat (m.correlation, <, 0.5);
  g_assert_cmpfloat (m.recording_rms, >, 0.2);
}

static void
test_silence (void)
{
  gsize n_src, n_rec = 4 * 8000;
  g_autofree float *src = make_bursts (7, 16000, 3.0, 0.0, &n_src);
  g_autofree float *rec = g_new0 (float, n_rec);
  CaAudioMatch m;

  ca_audio_compare (src, n_src, 16000, rec, n_rec, 8000, MAX_LAG_MS, &m);
  g_assert_cmpfloat (fabs (m.correlation), <, 0.01);
  g_assert_cmpfloat (m.recording_rms, <, 1e-6);
  g_assert_cmpfloat_with_epsilon (m.recording_s, 4.0, 0.001);
}

static void
test_empty (void)
{
  gsize n_src;
  g_autofree float *src = make_bursts (7, 16000, 1.0, 0.0, &n_src);
  CaAudioMatch m;

  ca_audio_compare (src, n_src, 16000, NULL, 0, 48000, MAX_LAG_MS, &m);
  g_assert_cmpfloat (m.correlation, ==, 0.0);
  g_assert_cmpfloat (m.recording_s, ==, 0.0);
  /* a recording much shorter than the source does not match on a sliver of overlap */
  ca_audio_compare (src, n_src, 16000, src, n_src / 4, 16000, MAX_LAG_MS, &m);
  g_test_message ("first quarter only: correlation %.3f", m.correlation);
  g_assert_cmpfloat (m.correlation, <, 0.7);
}

/* ---- WAV files ---- */

static void
put16 (GByteArray *a, guint16 v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };

  g_byte_array_append (a, b, 2);
}

static void
put32 (GByteArray *a, guint32 v)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  g_byte_array_append (a, b, 4);
}

static void
put_id (GByteArray *a, const char *id)
{
  g_byte_array_append (a, (const guint8 *) id, 4);
}

static void
put_fmt (GByteArray *a, guint16 format, guint16 channels, guint32 rate, guint16 bits)
{
  put_id (a, "fmt ");
  put32 (a, 16);
  put16 (a, format);
  put16 (a, channels);
  put32 (a, rate);
  put32 (a, rate * channels * bits / 8);
  put16 (a, channels * bits / 8);
  put16 (a, bits);
}

static void
put_data (GByteArray *a, const gint16 *s, guint n, guint32 declared)
{
  guint i;

  put_id (a, "data");
  put32 (a, declared);
  for (i = 0; i < n; i++)
    put16 (a, (guint16) s[i]);
}

static GByteArray *
riff_start (void)
{
  GByteArray *a = g_byte_array_new ();

  put_id (a, "RIFF");
  put32 (a, 0); /* fixed in write_wav */
  put_id (a, "WAVE");
  return a;
}

static char *
write_wav (GByteArray *a)
{
  g_autoptr (GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("ca-audio-XXXXXX.wav", &path, &error);

  g_assert_no_error (error);
  close (fd);
  if (a->len >= 8)
    {
      guint32 riff = a->len - 8;

      a->data[4] = riff & 0xff;
      a->data[5] = (riff >> 8) & 0xff;
      a->data[6] = (riff >> 16) & 0xff;
      a->data[7] = riff >> 24;
    }
  g_assert_true (g_file_set_contents (path, (const char *) a->data, a->len, &error));
  g_assert_no_error (error);
  return path;
}

static const gint16 samples4[] = { 0, 16384, -16384, 32767, -32768, 100, 200, 300 };

static void
test_wav_mono_with_extra_chunks (void)
{
  g_autoptr (GByteArray) a = riff_start ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree float *x = NULL;
  gsize n = 0;
  guint rate = 0;

  /* an odd-sized LIST chunk (padded) before fmt, a fact chunk between fmt and data */
  put_id (a, "LIST");
  put32 (a, 5);
  g_byte_array_append (a, (const guint8 *) "INFOx\0", 6);
  put_fmt (a, 1, 1, 11025, 16);
  put_id (a, "fact");
  put32 (a, 4);
  put32 (a, 8);
  put_data (a, samples4, 8, 16);
  path = write_wav (a);
  g_assert_true (ca_audio_read_wav (path, &x, &n, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 8);
  g_assert_cmpuint (rate, ==, 11025);
  g_assert_cmpfloat (x[1], ==, 0.5f);
  g_assert_cmpfloat (x[4], ==, -1.0f);
  g_unlink (path);
}

static void
test_wav_stereo_extensible (void)
{
  g_autoptr (GByteArray) a = riff_start ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree float *x = NULL;
  gsize n = 0;
  guint rate = 0;
  static const guint8 pcm_guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                            0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };

  put_id (a, "fmt ");
  put32 (a, 40);
  put16 (a, 0xfffe);
  put16 (a, 2);
  put32 (a, 48000);
  put32 (a, 48000 * 4);
  put16 (a, 4);
  put16 (a, 16);
  put16 (a, 22); /* cbSize */
  put16 (a, 16); /* valid bits */
  put32 (a, 3);  /* channel mask */
  put16 (a, 1);  /* sub-format: PCM */
  g_byte_array_append (a, pcm_guid_tail, sizeof pcm_guid_tail);
  put_data (a, samples4, 8, 16);
  path = write_wav (a);
  g_assert_true (ca_audio_read_wav (path, &x, &n, &rate, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpuint (rate, ==, 48000);
  g_assert_cmpfloat_with_epsilon (x[0], 0.25, 1e-6);  /* (0 + 16384) / 2 */
  g_assert_cmpfloat_with_epsilon (x[2], (-32768 + 100) / 65536.0, 1e-6);
  g_unlink (path);
}

typedef enum
{
  BAD_NOT_RIFF,
  BAD_SHORT,
  BAD_8_BIT,
  BAD_FLOAT,
  BAD_THREE_CHANNELS,
  BAD_BLOCK_ALIGN,
  BAD_DATA_BEFORE_FMT,
  BAD_NO_DATA,
  BAD_DATA_PAST_END,
  BAD_CHUNK_PAST_END,
  BAD_ZERO_RATE,
  BAD_LAST
} BadKind;

static GByteArray *
make_bad (BadKind kind)
{
  GByteArray *a = riff_start ();

  switch (kind)
    {
    case BAD_NOT_RIFF:
      memcpy (a->data, "RIFX", 4);
      put_fmt (a, 1, 1, 8000, 16);
      put_data (a, samples4, 8, 16);
      break;
    case BAD_SHORT:
      g_byte_array_set_size (a, 10);
      break;
    case BAD_8_BIT:
      put_fmt (a, 1, 1, 8000, 8);
      put_data (a, samples4, 8, 16);
      break;
    case BAD_FLOAT:
      put_fmt (a, 3, 1, 8000, 16);
      put_data (a, samples4, 8, 16);
      break;
    case BAD_THREE_CHANNELS:
      put_fmt (a, 1, 3, 8000, 16);
      put_data (a, samples4, 6, 12);
      break;
    case BAD_BLOCK_ALIGN:
      put_fmt (a, 1, 1, 8000, 16);
      a->data[12 + 8 + 12] = 4; /* block align of a mono 16-bit file must be 2 */
      put_data (a, samples4, 8, 16);
      break;
    case BAD_DATA_BEFORE_FMT:
      put_data (a, samples4, 8, 16);
      put_fmt (a, 1, 1, 8000, 16);
      break;
    case BAD_NO_DATA:
      put_fmt (a, 1, 1, 8000, 16);
      break;
    case BAD_DATA_PAST_END:
      put_fmt (a, 1, 1, 8000, 16);
      put_data (a, samples4, 8, 0xffffffffu);
      break;
    case BAD_CHUNK_PAST_END:
      put_fmt (a, 1, 1, 8000, 16);
      put_id (a, "LIST");
      put32 (a, 1000);
      break;
    case BAD_ZERO_RATE:
      put_fmt (a, 1, 1, 0, 16);
      put_data (a, samples4, 8, 16);
      break;
    case BAD_LAST:
      g_assert_not_reached ();
    }
  return a;
}

static void
test_wav_malformed (void)
{
  BadKind kind;

  for (kind = 0; kind < BAD_LAST; kind++)
    {
      g_autoptr (GByteArray) a = make_bad (kind);
      g_autofree char *path = write_wav (a);
      g_autoptr (GError) error = NULL;
      float *x = (float *) &kind; /* must stay untouched */
      gsize n = 12345;
      guint rate = 777;
      CaAudioMatch m = { .correlation = 42 };

      g_assert_false (ca_audio_read_wav (path, &x, &n, &rate, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_test_message ("bad %d: %s", kind, error->message);
      g_assert_true (x == (float *) &kind);
      g_assert_cmpuint (n, ==, 12345);
      g_assert_cmpuint (rate, ==, 777);
      g_clear_error (&error);
      g_assert_false (ca_audio_compare_files (path, path, MAX_LAG_MS, &m, &error));
      g_assert_nonnull (error);
      g_assert_cmpfloat (m.correlation, ==, 42);
      g_unlink (path);
    }
}

static void
test_wav_missing (void)
{
  g_autoptr (GError) error = NULL;
  float *x = NULL;
  gsize n = 0;
  guint rate = 0;

  g_assert_false (ca_audio_read_wav ("/nonexistent/sotto.wav", &x, &n, &rate, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_null (x);
}

/* ---- real speech ---- */

static char *
speak (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
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

static void
test_phrases (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;
  g_autofree char *espeak = g_find_program_in_path ("espeak-ng");
  CaAudioMatch m;

  if (espeak == NULL)
    {
      g_test_skip ("espeak-ng is not installed");
      return;
    }
  dir = g_dir_make_tmp ("ca-audio-XXXXXX", &error);
  g_assert_no_error (error);
  one = speak (dir, "one.wav", "The quick brown fox jumps over the lazy dog, twice in a row.");
  two = speak (dir, "two.wav", "Seven hundred and twelve kilometres north of here, it rains.");

  g_assert_true (ca_audio_compare_files (one, one, MAX_LAG_MS, &m, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (m.correlation, >, 0.999);
  g_assert_cmpint (m.lag_ms, ==, 0);

  g_assert_true (ca_audio_compare_files (one, two, MAX_LAG_MS, &m, &error));
  g_test_message ("two phrases: correlation %.3f at %d ms", m.correlation, m.lag_ms);
  g_assert_cmpfloat (m.correlation, <, 0.5);
  g_assert_true (ca_audio_compare_files (two, one, MAX_LAG_MS, &m, &error));
  g_test_message ("two phrases, reversed: correlation %.3f at %d ms", m.correlation, m.lag_ms);
  g_assert_cmpfloat (m.correlation, <, 0.5);

  g_unlink (one);
  g_unlink (two);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/audio/compare/shifted", test_shifted);
  g_test_add_func ("/agent/audio/compare/lag-window", test_lag_beyond_window);
  g_test_add_func ("/agent/audio/compare/different", test_different);
  g_test_add_func ("/agent/audio/compare/noise", test_noise_vs_bursts);
  g_test_add_func ("/agent/audio/compare/silence", test_silence);
  g_test_add_func ("/agent/audio/compare/empty", test_empty);
  g_test_add_func ("/agent/audio/compare/phrases", test_phrases);
  g_test_add_func ("/agent/audio/wav/extra-chunks", test_wav_mono_with_extra_chunks);
  g_test_add_func ("/agent/audio/wav/stereo-extensible", test_wav_stereo_extensible);
  g_test_add_func ("/agent/audio/wav/malformed", test_wav_malformed);
  g_test_add_func ("/agent/audio/wav/missing", test_wav_missing);
  return g_test_run ();
}

/* ca-audio-compare: a 16-bit PCM WAV reader and an envelope cross-correlation. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-audio-compare.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define FRAME_MS 10
/* A larger file is not a test recording; refuse before allocating for it. */
#define MAX_WAV_BYTES (512u * 1024u * 1024u)

#define WAVE_FORMAT_PCM 0x0001
#define WAVE_FORMAT_EXTENSIBLE 0xFFFE

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static gboolean
invalid (GError **error, const char *path, const char *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a 16-bit PCM WAV: %s", path,
               why);
  return FALSE;
}

typedef struct
{
  guint16 channels;
  guint32 rate;
  const guint8 *data;
  gsize data_len;
} WavInfo;

/* The fmt chunk (RIFF WAVE, WAVEFORMATEX or WAVEFORMATEXTENSIBLE with the PCM sub-format). */
static gboolean
parse_fmt (const guint8 *p, guint32 size, WavInfo *info, const char *path, GError **error)
{
  guint16 format, block_align, bits;

  if (size < 16)
    return invalid (error, path, "fmt chunk too short");
  format = le16 (p);
  if (format == WAVE_FORMAT_EXTENSIBLE)
    {
      /* cbSize(2) validBits(2) channelMask(4) then the sub-format GUID, whose first two bytes
       * are the format tag. */
      if (size < 40)
        return invalid (error, path, "extensible fmt chunk too short");
      format = le16 (p + 24);
    }
  if (format != WAVE_FORMAT_PCM)
    return invalid (error, path, "not PCM");
  info->channels = le16 (p + 2);
  info->rate = le32 (p + 4);
  block_align = le16 (p + 12);
  bits = le16 (p + 14);
  if (bits != 16)
    return invalid (error, path, "not 16 bits per sample");
  if (info->channels != 1 && info->channels != 2)
    return invalid (error, path, "neither mono nor stereo");
  if (info->rate == 0 || info->rate > 384000)
    return invalid (error, path, "implausible sample rate");
  if (block_align != info->channels * 2)
    return invalid (error, path, "block alignment does not match the channels");
  return TRUE;
}

static gboolean
parse_wav (const guint8 *buf, gsize len, WavInfo *out, const char *path, GError **error)
{
  WavInfo info = { 0 };
  gboolean have_fmt = FALSE;
  gsize pos = 12;

  if (len < 12 || memcmp (buf, "RIFF", 4) != 0 || memcmp (buf + 8, "WAVE", 4) != 0)
    return invalid (error, path, "no RIFF/WAVE header");
  /* Walk the chunks; anything but fmt and data (LIST, fact, ...) is skipped. */
  while (pos + 8 <= len)
    {
      const guint8 *id = buf + pos;
      guint32 size = le32 (buf + pos + 4);
      gsize body = pos + 8;

      if (size > len - body)
        {
          if (memcmp (id, "data", 4) == 0)
            return invalid (error, path, "data chunk runs past the end of the file");
          return invalid (error, path, "truncated chunk");
        }
      if (memcmp (id, "fmt ", 4) == 0)
        {
          if (!parse_fmt (buf + body, size, &info, path, error))
            return FALSE;
          have_fmt = TRUE;
        }
      else if (memcmp (id, "data", 4) == 0)
        {
          if (!have_fmt)
            return invalid (error, path, "data chunk before the fmt chunk");
          info.data = buf + body;
          info.data_len = size - size % (info.channels * 2u);
          *out = info;
          return TRUE;
        }
      /* chunks are padded to an even size */
      pos = body + size + (size & 1u);
    }
  return invalid (error, path, have_fmt ? "no data chunk" : "no fmt chunk");
}

gboolean
ca_audio_read_wav (const char *path, float **samples, gsize *n_samples, guint *rate,
                   GError **error)
{
  g_autofree char *contents = NULL;
  g_autofree float *mono = NULL;
  gsize len, n, i;
  WavInfo info;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (samples != NULL && n_samples != NULL && rate != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (path, &contents, &len, error))
    return FALSE;
  if (len > MAX_WAV_BYTES)
    return invalid (error, path, "file too large");
  if (!parse_wav ((const guint8 *) contents, len, &info, path, error))
    return FALSE;

  n = info.data_len / (info.channels * 2u);
  mono = g_new (float, MAX (n, 1));
  for (i = 0; i < n; i++)
    {
      const guint8 *frame = info.data + i * info.channels * 2u;
      double sum = 0;
      guint c;

      for (c = 0; c < info.channels; c++)
        sum += (gint16) le16 (frame + 2 * c);
      mono[i] = (float) (sum / info.channels / 32768.0);
    }
  *samples = g_steal_pointer (&mono);
  *n_samples = n;
  *rate = info.rate;
  return TRUE;
}

/* RMS of every whole 10 ms frame; returns the number of frames. */
static gsize
envelope (const float *x, gsize n, guint rate, double **out)
{
  gsize frame = MAX (rate * FRAME_MS / 1000u, 1u);
  gsize n_frames = n / frame, f, i;
  double *env = g_new0 (double, MAX (n_frames, 1));

  for (f = 0; f < n_frames; f++)
    {
      double sum = 0;

      for (i = 0; i < frame; i++)
        sum += (double) x[f * frame + i] * x[f * frame + i];
      env[f] = sqrt (sum / frame);
    }
  *out = env;
  return n_frames;
}

static double
rms (const float *x, gsize n)
{
  double sum = 0;
  gsize i;

  if (n == 0)
    return 0.0;
  for (i = 0; i < n; i++)
    sum += (double) x[i] * x[i];
  return sqrt (sum / n);
}

/* Pearson correlation of a[0..n) with b[0..n_b) followed by zeros (the recording ended: what
 * is missing is silence, so a truncated recording scores lower instead of matching on a
 * sliver); 0 when either is flat (silence). */
static double
pearson (const double *a, const double *b, gsize n_b, gsize n)
{
  double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
  gsize i;

  for (i = 0; i < n; i++)
    {
      ma += a[i];
      mb += i < n_b ? b[i] : 0.0;
    }
  ma /= n;
  mb /= n;
  for (i = 0; i < n; i++)
    {
      double da = a[i] - ma, db = (i < n_b ? b[i] : 0.0) - mb;

      sab += da * db;
      saa += da * da;
      sbb += db * db;
    }
  /* below ~1e-6 of full scale per frame there is nothing to correlate */
  if (saa < 1e-12 * n || sbb < 1e-12 * n)
    return 0.0;
  return sab / sqrt (saa * sbb);
}

void
ca_audio_compare (const float *source, gsize n_source, guint source_rate,
                  const float *recording, gsize n_recording, guint recording_rate,
                  guint max_lag_ms, CaAudioMatch *out)
{
  g_autofree double *src_env = NULL;
  g_autofree double *rec_env = NULL;
  gsize n_src, n_rec, lag, max_lag;
  CaAudioMatch m = { 0 };

  g_return_if_fail (out != NULL);
  g_return_if_fail (source != NULL || n_source == 0);
  g_return_if_fail (recording != NULL || n_recording == 0);
  g_return_if_fail (source_rate > 0 && recording_rate > 0);

  m.source_rms = rms (source, n_source);
  m.recording_rms = rms (recording, n_recording);
  m.recording_s = (double) n_recording / recording_rate;

  n_src = envelope (source, n_source, source_rate, &src_env);
  n_rec = envelope (recording, n_recording, recording_rate, &rec_env);
  max_lag = max_lag_ms / FRAME_MS;
  /* the whole source against the recording from each lag on */
  for (lag = 0; n_src > 0 && lag <= max_lag && lag < n_rec; lag++)
    {
      double c = pearson (src_env, rec_env + lag, MIN (n_src, n_rec - lag), n_src);

      if (lag == 0 || c > m.correlation)
        {
          m.correlation = c;
          m.lag_ms = (int) (lag * FRAME_MS);
        }
    }
  *out = m;
}

gboolean
ca_audio_compare_files (const char *source_wav, const char *recording_wav, guint max_lag_ms,
                        CaAudioMatch *out, GError **error)
{
  g_autofree float *src = NULL;
  g_autofree float *rec = NULL;
  gsize n_src, n_rec;
  guint src_rate, rec_rate;

  g_return_val_if_fail (out != NULL, FALSE);

  if (!ca_audio_read_wav (source_wav, &src, &n_src, &src_rate, error)
      || !ca_audio_read_wav (recording_wav, &rec, &n_rec, &rec_rate, error))
    return FALSE;
  ca_audio_compare (src, n_src, src_rate, rec, n_rec, rec_rate, max_lag_ms, out);
  return TRUE;
}

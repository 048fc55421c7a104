/* ca-audio-compare: does a recording carry what was sent? Pure functions over WAV files.
 *
 * Compares the loudness envelopes (RMS over 10 ms frames, so sample rate and codec do not
 * matter) with a normalized cross-correlation over lags up to @max_lag_ms: the recording may
 * start late (setup time, jitter buffer) and be longer or shorter than the source. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double correlation;  /* best normalized cross-correlation of the envelopes, -1..1 */
  int lag_ms;          /* where the source starts inside the recording */
  double source_rms;   /* over the whole file, full scale = 1.0 */
  double recording_rms;
  double recording_s;  /* length of the recording in seconds */
} CaAudioMatch;

/* Reads a 16-bit PCM WAV (mono or stereo, any rate; stereo is mixed down) into mono samples
 * scaled to -1..1. FALSE with a G_IO_ERROR or G_FILE_ERROR on anything else. */
gboolean ca_audio_read_wav (const char *path, float **samples, gsize *n_samples, guint *rate,
                            GError **error);

/* The envelope comparison described above. FALSE only when a file cannot be read. */
gboolean ca_audio_compare_files (const char *source_wav, const char *recording_wav,
                                 guint max_lag_ms, CaAudioMatch *out, GError **error);

/* The same over samples already in memory (for tests and fuzzers). */
void ca_audio_compare (const float *source, gsize n_source, guint source_rate,
                       const float *recording, gsize n_recording, guint recording_rate,
                       guint max_lag_ms, CaAudioMatch *out);

G_END_DECLS

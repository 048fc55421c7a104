/* sotto-wavcmp SOURCE.wav RECORDING.wav: did the recording carry the source? Prints the
 * envelope correlation (ca-audio-compare) and exits 0 when the speech is there, 1 when not,
 * 2 on a usage or file error. The demo and the benchmarks use it. */
#include "config.h"

#include <stdio.h>

#include "ca-audio-compare.h"

#define MIN_CORRELATION 0.5
#define MIN_RMS         0.001

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  CaAudioMatch m;

  if (argc != 3)
    {
      fprintf (stderr, "usage: sotto-wavcmp SOURCE.wav RECORDING.wav\n");
      return 2;
    }
  if (!ca_audio_compare_files (argv[1], argv[2], 5000, &m, &error))
    {
      fprintf (stderr, "sotto-wavcmp: %s\n", error->message);
      return 2;
    }
  printf ("recording %.2f s, rms %.4f; correlation with the source %.3f at %d ms\n",
          m.recording_s, m.recording_rms, m.correlation, m.lag_ms);
  return m.correlation >= MIN_CORRELATION && m.recording_rms >= MIN_RMS ? 0 : 1;
}

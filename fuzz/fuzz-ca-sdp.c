/* libFuzzer target for the agent's SDP reader (ca_sdp_parse, ca_sdp_candidate_parse) and its
 * printer. Not built by configure. From a configured build directory BUILD:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icommon -Iclient-agent -IBUILD \
 *     fuzz/fuzz-ca-sdp.c client-agent/ca-sdp.c client-agent/ca-sdp-build.c \
 *     client-agent/ca-sdp-candidate.c client-agent/ca-sdp-media.c \
 *     $(pkg-config --cflags --libs glib-2.0 libcrypto sofia-sip-ua) -o fuzz-ca-sdp
 *   ./fuzz-ca-sdp -max_len=8192 -max_total_time=60
 *
 * Every input either parses or fails with a CA_SDP_ERROR that maps to 400 or 488. A parsed offer
 * must be answerable, and the answer must parse again with the same ICE credentials. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ca-sdp.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaSdpMedia) offer = NULL;
  g_autoptr (CaSdpMedia) local = NULL;
  g_autoptr (CaSdpMedia) again = NULL;
  g_autofree char *line = g_strndup ((const char *) data, size);
  g_autofree char *answer = NULL;
  CaSdpCandidate c;

  /* The same bytes as one candidate line. */
  if (ca_sdp_candidate_parse (line, &c, &error))
    {
      g_autofree char *s = ca_sdp_candidate_to_string (&c);
      CaSdpCandidate back;

      g_assert_true (ca_sdp_candidate_parse (s, &back, NULL));
      g_assert_cmpint (memcmp (&back, &c, sizeof c), ==, 0);
    }
  g_clear_error (&error);

  if (!ca_sdp_parse ((const char *) data, size, &offer, &error))
    {
      guint status = ca_sdp_error_sip_status (error);

      g_assert_true (status == 400 || status == 488);
      g_assert_null (offer);
      return 0;
    }

  local = ca_sdp_media_new ();
  local->ice_ufrag = g_strdup ("fuzz");
  local->ice_pwd = g_strdup ("fuzzfuzzfuzzfuzzfuzzfuzz");
  local->setup = ca_sdp_setup_for_answer (offer->setup);
  memset (local->fingerprint, 0xab, sizeof local->fingerprint);
  local->has_fingerprint = TRUE;
  ca_sdp_media_add_codec (local, CA_SDP_CODEC_OPUS, 111, 48000, NULL);
  ca_sdp_media_add_codec (local, CA_SDP_CODEC_PCMU, 0, 8000, NULL);
  answer = ca_sdp_build_answer (local, offer, &error);
  g_assert_no_error (error);
  g_assert_true (ca_sdp_parse (answer, strlen (answer), &again, &error));
  g_assert_cmpstr (again->ice_ufrag, ==, "fuzz");
  return 0;
}

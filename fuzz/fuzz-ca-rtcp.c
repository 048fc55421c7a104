/* libFuzzer target for the agent's RTCP reader (ca_rtcp_parse) and its RTP header reading.
 * Not built by configure. From a configured build directory BUILD:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Icommon -Iclient-agent -IBUILD \
 *     fuzz/fuzz-ca-rtcp.c client-agent/ca-rtcp.c client-agent/ca-rtp-stats.c common/sotto-util.c \
 *     $(pkg-config --cflags --libs gio-2.0 libcrypto) -o fuzz-ca-rtcp
 *   ./fuzz-ca-rtcp -max_len=2048 -max_total_time=60
 *
 * Every input is read twice over a state that has already talked with a peer: as a compound
 * RTCP packet and as an RTP packet. A refused packet must leave the state exactly as a twin
 * that never saw it (same next report, same round trip, same loss); an accepted one must
 * still let us build a report that a fresh peer accepts. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "ca-rtcp.h"

#define OURS 0x0a0b0c0du
#define PEER 0x01020304u
#define NTP0 G_GUINT64_CONSTANT (0xe900000080000000) /* middle bits 0x00008000 */

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

/* The same history every time: RTP both ways, one SR of ours, the peer's answer. */
static CaRtcp *
primed (void)
{
  CaRtcp *r = ca_rtcp_new (OURS, 8000, NULL);
  guint8 pkt[12 + 160] = { 0x80, 0 }, buf[CA_RTCP_REPORT_MAX_SIZE];
  static const guint32 answer[] = { 0x81c8000c, PEER,       0xe9000000, 0x80000000, 0,
                                    10,         1600,       OURS,       0x10000001, 9,
                                    3,          0x00008000, 0x1000 };

  g_assert_nonnull (r);
  for (guint i = 0; i < 10; i++)
    {
      put32 (pkt + 4, i * 160);
      pkt[3] = (guint8) i;
      put32 (pkt + 8, OURS);
      ca_rtcp_on_rtp_sent (r, pkt, sizeof pkt, 20000 * i);
      put32 (pkt + 8, PEER);
      ca_rtcp_on_rtp_received (r, pkt, sizeof pkt, 20000 * i + 30000);
    }
  g_assert_cmpuint (ca_rtcp_build_report (r, 250000, NTP0, buf, sizeof buf), >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (answer); i++)
    put32 (buf + 4 * i, answer[i]);
  g_assert_true (ca_rtcp_parse (r, buf, 4 * G_N_ELEMENTS (answer), 300000,
                                NTP0 + ((guint64) 0x4000 << 16), NULL));
  return r;
}

/* The SR/RR part of the next report: the SDES differs (random CNAMEs). */
static gsize
next_report (CaRtcp *r, guint8 *buf)
{
  gsize len = ca_rtcp_build_report (r, 900000, NTP0 + G_GUINT64_CONSTANT (0x100000000), buf,
                                    CA_RTCP_REPORT_MAX_SIZE);

  g_assert_cmpuint (len, >, 0);
  return 4 * (((gsize) buf[2] << 8 | buf[3]) + 1);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (CaRtcp) r = primed ();
  g_autoptr (CaRtcp) twin = primed ();
  g_autoptr (CaRtcp) fresh = ca_rtcp_new (PEER, 8000, NULL);
  g_autoptr (GError) error = NULL;
  guint8 a[CA_RTCP_REPORT_MAX_SIZE], b[CA_RTCP_REPORT_MAX_SIZE];
  double rtt_r = 0, rtt_twin = 0;
  gsize na, nb;

  if (!ca_rtcp_parse (r, data, size, 600000, NTP0 + ((guint64) 0x9000 << 16), &error))
    {
      g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA));
      g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt_r));
      g_assert_true (ca_rtcp_get_rtt_ms (twin, &rtt_twin));
      g_assert_true (rtt_r == rtt_twin);
      g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==,
                        ca_rtcp_get_remote_fraction_lost (twin));
      g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (r), ==,
                        ca_rtcp_get_remote_cumulative_lost (twin));
      na = next_report (r, a);
      nb = next_report (twin, b);
      g_assert_true (na == nb && memcmp (a, b, na) == 0);
    }
  else
    {
      g_assert_no_error (error);
      g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt_r));
      g_assert_true (rtt_r >= 0);
    }

  /* The same bytes as RTP, both ways; then our report must still be valid RTCP. */
  g_clear_error (&error);
  ca_rtcp_on_rtp_received (r, data, size, 700000);
  ca_rtcp_on_rtp_sent (r, data, size, 700000);
  na = ca_rtcp_build_report (r, 800000, NTP0 + G_GUINT64_CONSTANT (0x80000000), a, sizeof a);
  g_assert_cmpuint (na, >, 0);
  g_assert_true (ca_rtcp_parse (fresh, a, na, 0, 0, &error));
  g_assert_no_error (error);
  return 0;
}

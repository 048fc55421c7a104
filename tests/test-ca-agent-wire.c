/* /agent/wire/no-plain-rtp: a capture (tcpdump on lo) of a real call between two sotto-agentd
 * shows only STUN, DTLS and SRTP on the media ports: not one plaintext RTP packet.
 *
 * How SRTP is told from RTP: both start with the same header, so the test plays speech padded
 * with a second of silence, in PCMU. Plain PCMU silence is one byte value repeated (0xFF or
 * 0x7F); an SRTP payload looks random. A packet whose commonest payload byte fills more than a
 * quarter of it is plaintext. /agent/wire/detector-sees-plaintext runs that detector on plain
 * RTP made by the same audio code, in memory, and checks that it fires: the capture test could
 * fail. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gst/gst.h>

#include "agent-harness.h"
#include "ca-demux.h"
#include "ca-media.h"
#include "sig-harness.h"
#include "sotto-test.h"

#define T 15000

/* TRUE when an RTP packet's payload looks like plain PCMU/Opus rather than ciphertext. */
static gboolean
looks_plaintext (const guint8 *pkt, gsize len)
{
  guint counts[256] = { 0 };
  guint max = 0;
  gsize hdr = 12 + 4 * (pkt[0] & 0x0f);

  if (len <= hdr + 40)
    return FALSE; /* too short to judge */
  for (gsize i = hdr; i < len; i++)
    max = MAX (max, ++counts[pkt[i]]);
  return max * 4 > len - hdr;
}

typedef struct
{
  guint stun, dtls, zrtp, rtp, other, plaintext;
} WireCount;

/* A host-order 32-bit field of the pcap file, which need not be aligned. */
static guint32
u32_at (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return v;
}

/* Reads a classic pcap file (tcpdump -w, link type EN10MB on Linux lo) and classifies the UDP
 * payloads to or from @port_a or @port_b. */
static void
classify_pcap (const char *path, guint16 port_a, guint16 port_b, WireCount *out)
{
  g_autofree guint8 *data = NULL;
  gsize len = 0, off = 24;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (path, (char **) &data, &len, &error));
  g_assert_cmpuint (len, >=, 24);
  g_assert_cmphex (u32_at (data), ==, 0xa1b2c3d4);
  g_assert_cmpuint (u32_at (data + 20), ==, 1); /* DLT_EN10MB */
  memset (out, 0, sizeof *out);
  while (off + 16 <= len)
    {
      guint32 incl = u32_at (data + off + 8);
      const guint8 *frame = data + off + 16;
      const guint8 *ip, *udp, *payload;
      gsize ihl, plen;
      guint16 sport, dport;

      if (off + 16 + incl > len)
        break;
      off += 16 + incl;
      if (incl < 14 + 20 + 8 || frame[12] != 0x08 || frame[13] != 0x00)
        continue; /* not IPv4 */
      ip = frame + 14;
      ihl = (ip[0] & 0x0f) * 4;
      if (ip[9] != 17 || incl < 14 + ihl + 8)
        continue; /* not UDP */
      udp = ip + ihl;
      sport = (udp[0] << 8) | udp[1];
      dport = (udp[2] << 8) | udp[3];
      if (sport != port_a && sport != port_b && dport != port_a && dport != port_b)
        continue;
      payload = udp + 8;
      plen = incl - 14 - ihl - 8;
      if (plen == 0)
        continue;
      switch (ca_demux_classify (payload[0]))
        {
        case CA_DEMUX_STUN:
          out->stun++;
          break;
        case CA_DEMUX_DTLS:
          out->dtls++;
          break;
        case CA_DEMUX_ZRTP:
          /* The SAS key agreement (RFC 6189), recognised by its magic cookie; never media. */
          if (plen >= 8 && memcmp (payload + 4, "ZRTP", 4) == 0)
            out->zrtp++;
          else
            out->other++;
          break;
        case CA_DEMUX_RTP_RTCP:
          out->rtp++;
          out->plaintext += looks_plaintext (payload, plen);
          break;
        default:
          out->other++;
          break;
        }
    }
}

static char *
padded_speech (const char *dir)
{
  g_autofree char *speech = agent_make_speech (dir, "speech.wav", "Nothing but ciphertext.");
  g_autofree char *sox = g_find_program_in_path ("sox");
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;
  char *out;

  if (speech == NULL || sox == NULL)
    return NULL;
  out = g_build_filename (dir, "padded.wav", NULL);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "timeout", "20", sox, speech, out,
                        "pad", "1", "1", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (p, NULL, &error));
  return out;
}

static guint16
port_of (const char *endpoint)
{
  const char *colon = strrchr (endpoint, ':');

  g_assert_nonnull (colon);
  return (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
}

/* Starts tcpdump on lo and waits (10 s) until it listens. */
static GSubprocess *
start_capture (const char *pcap, const char *tcpdump, const char *err_path)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  GSubprocess *p;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (l, err_path);
  p = g_subprocess_launcher_spawn (l, &error, tcpdump, "-i", "lo", "-n", "-U", "-s", "0", "-w",
                                   pcap, "udp", NULL);
  g_assert_no_error (error);
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (err_path, &text, NULL, NULL) && strstr (text, "listening on"))
        return p;
      g_usleep (50 * 1000);
    }
  g_error ("tcpdump did not start listening within 10 s");
}

static void
test_no_plain_rtp (void)
{
  g_autofree char *tcpdump = g_find_program_in_path ("tcpdump");
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL, *play = NULL, *pcap = NULL, *err_path = NULL;
  g_autofree char *ca = NULL, *cb = NULL, *la = NULL, *lb = NULL;
  g_autoptr (SigHarness) h = NULL;
  g_autoptr (AgentProc) alice = NULL;
  g_autoptr (AgentProc) bob = NULL;
  g_autoptr (GSubprocess) cap = NULL;
  guint a_id, b_id;
  WireCount w;

  if (tcpdump == NULL)
    {
      g_test_skip ("tcpdump is not installed (tools/install-deps installs it)");
      return;
    }
  if (geteuid () != 0)
    {
      g_test_skip ("capturing on lo needs root (CI runs as root)");
      return;
    }
  dir = g_dir_make_tmp ("sotto-wire-XXXXXX", &error);
  g_assert_no_error (error);
  play = padded_speech (dir);
  if (play == NULL)
    {
      g_test_skip ("espeak-ng or sox is missing (tools/install-deps installs them)");
      sotto_test_remove_tree (dir);
      return;
    }
  pcap = g_build_filename (dir, "call.pcap", NULL);
  err_path = g_build_filename (dir, "tcpdump.err", NULL);

  h = sig_harness_new ();
  sig_harness_add_user (h, "alice", "alice-secret-1");
  sig_harness_add_user (h, "bob", "bob-secret-22");
  sig_harness_start (h);
  ca = g_strdup_printf ("[media]\nlocal-addresses = 127.0.0.1;\ncodecs = pcmu;\nplay = %s\n",
                        play);
  cb = g_strdup_printf ("[media]\nlocal-addresses = 127.0.0.1;\ncodecs = pcmu;\nplay = %s\n",
                        play);
  alice = agent_proc_start (h, "alice", "alice-secret-1", ca, NULL);
  bob = agent_proc_start (h, "bob", "bob-secret-22", cb, NULL);
  g_assert_true (agent_proc_wait_registered (alice, T));
  g_assert_true (agent_proc_wait_registered (bob, T));

  cap = start_capture (pcap, tcpdump, err_path);
  {
    g_autoptr (GVariant) r = agent_proc_invoke (alice, "Call", g_variant_new ("(s)", "bob"),
                                                &error);
    g_assert_no_error (error);
    g_variant_get (r, "(u)", &a_id);
  }
  b_id = agent_proc_wait_incoming (bob, T);
  g_assert_cmpuint (b_id, >, 0);
  {
    g_autoptr (GVariant) r = agent_proc_invoke (bob, "Answer", g_variant_new ("(u)", b_id),
                                                &error);
    g_assert_no_error (error);
  }
  g_assert_true (agent_proc_wait_state (alice, a_id, "active", T));
  g_assert_true (agent_proc_wait_state (bob, b_id, "active", T));
  agent_sleep_ms (4000); /* covers the silence, the speech and the silence again */
  la = agent_proc_call_string (alice, a_id, "local");
  lb = agent_proc_call_string (bob, b_id, "local");
  g_test_message ("alice %s, bob %s", la, lb);
  {
    g_autoptr (GVariant) r = agent_proc_invoke (alice, "Hangup", g_variant_new ("(u)", a_id),
                                                &error);
    g_assert_no_error (error);
  }
  agent_sleep_ms (500);
  g_subprocess_send_signal (cap, SIGINT);
  g_assert_true (g_subprocess_wait (cap, NULL, &error));

  classify_pcap (pcap, port_of (la), port_of (lb), &w);
  g_test_message ("on the wire: %u STUN, %u DTLS, %u ZRTP, %u SRTP-shaped, %u other; %u "
                  "plaintext",
                  w.stun, w.dtls, w.zrtp, w.rtp, w.other, w.plaintext);
  g_assert_cmpuint (w.stun, >, 0);
  g_assert_cmpuint (w.dtls, >=, 2);
  g_assert_cmpuint (w.rtp, >, 200); /* both directions, 20 ms frames, 4 s */
  g_assert_cmpuint (w.other, ==, 0);
  g_assert_cmpuint (w.plaintext, ==, 0);

  agent_proc_stop (alice);
  agent_proc_stop (bob);
  g_assert_cmpint (sig_harness_stop (h), ==, 0);
  if (g_getenv ("SOTTO_KEEP_TEST_DIRS") == NULL)
    sotto_test_remove_tree (dir);
}

/* ---- the detector itself fires on plaintext ---- */

typedef struct
{
  guint packets, plaintext;
} Sink;

static void
collect (CaMedia *media, const guint8 *rtp, gsize len, gpointer user_data)
{
  Sink *s = user_data;

  s->packets++;
  s->plaintext += looks_plaintext (rtp, len);
}

static void
test_detector (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sotto-wire-XXXXXX", &error);
  g_autofree char *play = padded_speech (dir);
  g_autoptr (CaMedia) media = NULL;
  Sink sink = { 0 };
  CaMediaConfig config = {
    .codec = CA_MEDIA_CODEC_PCMU,
    .payload_type = 0,
    .play_path = play,
    .silent_source = FALSE,
    .send = collect,
    .user_data = &sink,
  };
  guint8 random_payload[172];

  if (play == NULL)
    {
      g_test_skip ("espeak-ng or sox is missing (tools/install-deps installs them)");
      sotto_test_remove_tree (dir);
      return;
    }
  /* A record path keeps ca-media away from the sound card, which CI does not have. */
  config.record_path = g_build_filename (dir, "unused.wav", NULL);
  media = ca_media_new (&config, &error);
  g_assert_no_error (error);
  g_assert_true (ca_media_start (media, &error));
  agent_sleep_ms (1500); /* the first second is silence */
  ca_media_stop (media, 2000);
  g_free ((char *) config.record_path);
  g_test_message ("%u plain RTP packets, %u flagged", sink.packets, sink.plaintext);
  g_assert_cmpuint (sink.packets, >, 30);
  g_assert_cmpuint (sink.plaintext, >, 20);

  /* And it stays quiet on random bytes (what SRTP looks like). */
  random_payload[0] = 0x80;
  for (gsize i = 1; i < sizeof random_payload; i++)
    random_payload[i] = (guint8) g_random_int ();
  g_assert_false (looks_plaintext (random_payload, sizeof random_payload));
  sotto_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (NULL, NULL);
  g_test_add_func ("/agent/wire/detector-sees-plaintext", test_detector);
  g_test_add_func ("/agent/wire/no-plain-rtp", test_no_plain_rtp);
  return g_test_run ();
}

/* ca-rtcp: two RTCP states over a simulated link with known delays (round-trip time, loss the
 * peer sees), SR or RR, the SDES CNAME, one SR checked byte by byte against RFC 3550 §6.4.1,
 * and hostile compound packets that must change nothing. Time is simulated: no test sleeps. */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "client-agent/ca-rtcp.h"

#define SSRC_A 0xa1a2a3a4u
#define SSRC_B 0xb1b2b3b4u
#define RATE 48000
#define FRAME_MS 20
#define ONE_WAY_MS 40

/* One end of the simulated call: its own monotonic clock and its own (unsynchronized) wall
 * clock, both moving with the simulated time. */
typedef struct
{
  CaRtcp *rtcp;
  guint32 ssrc;
  gint64 mono_base_us;
  gint64 real_base_us;
  guint16 seq;
} End;

static void
end_init (End *e, guint32 ssrc, gint64 mono_base_us, gint64 real_base_us)
{
  g_autoptr (GError) error = NULL;

  e->rtcp = ca_rtcp_new (ssrc, RATE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (e->rtcp);
  e->ssrc = ssrc;
  e->mono_base_us = mono_base_us;
  e->real_base_us = real_base_us;
  e->seq = (guint16) (ssrc >> 3);
}

static gint64
end_now (const End *e, gint64 t_us)
{
  return e->mono_base_us + t_us;
}

static guint64
end_ntp (const End *e, gint64 t_us)
{
  return ca_rtcp_ntp_from_real_time (e->real_base_us + t_us);
}

/* A plain RTP packet of @payload zero bytes. */
static gsize
make_rtp (guint8 *buf, guint32 ssrc, guint16 seq, guint32 ts, gsize payload)
{
  buf[0] = 0x80;
  buf[1] = 111;
  buf[2] = (guint8) (seq >> 8);
  buf[3] = (guint8) seq;
  for (int i = 0; i < 4; i++)
    {
      buf[4 + i] = (guint8) (ts >> (24 - 8 * i));
      buf[8 + i] = (guint8) (ssrc >> (24 - 8 * i));
    }
  memset (buf + 12, 0, payload);
  return 12 + payload;
}

/* @from sends frame number @frame at simulated time @t_us; @to receives it ONE_WAY_MS later
 * unless @drop. */
static void
send_frame (End *from, End *to, guint frame, gint64 t_us, gboolean drop)
{
  guint8 pkt[12 + 80];
  gsize len = make_rtp (pkt, from->ssrc, from->seq++, frame * (RATE / 1000 * FRAME_MS), 80);

  ca_rtcp_on_rtp_sent (from->rtcp, pkt, len, end_now (from, t_us));
  if (!drop)
    ca_rtcp_on_rtp_received (to->rtcp, pkt, len, end_now (to, t_us + ONE_WAY_MS * 1000));
}

/* @from builds its report at @t_us; @to parses it ONE_WAY_MS later. Returns the length. */
static gsize
send_report (End *from, End *to, gint64 t_us, guint8 *out)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE];
  gsize len = ca_rtcp_build_report (from->rtcp, end_now (from, t_us), end_ntp (from, t_us), buf,
                                    sizeof buf);
  gint64 arrival = t_us + ONE_WAY_MS * 1000;

  g_assert_cmpuint (len, >, 0);
  g_assert_true (ca_rtcp_parse (to->rtcp, buf, len, end_now (to, arrival), end_ntp (to, arrival),
                                &error));
  g_assert_no_error (error);
  if (out != NULL)
    memcpy (out, buf, len);
  return len;
}

static void
test_rtt (void)
{
  End a, b;
  double rtt = -1;
  gint64 t;

  /* Different monotonic origins and wall clocks 3.7 s apart: RTT needs neither in common. */
  end_init (&a, SSRC_A, G_GINT64_CONSTANT (1000000000), G_GINT64_CONSTANT (1763800000000000));
  end_init (&b, SSRC_B, G_GINT64_CONSTANT (5000000), G_GINT64_CONSTANT (1763800003700000));

  for (guint i = 0; i < 50; i++)
    {
      send_frame (&a, &b, i, i * FRAME_MS * 1000, FALSE);
      send_frame (&b, &a, i, i * FRAME_MS * 1000 + 7000, FALSE);
    }
  g_assert_false (ca_rtcp_get_rtt_ms (a.rtcp, &rtt));
  g_assert_cmpfloat (rtt, ==, -1);

  /* A's SR at 1000 ms reaches B at 1040 ms; B holds it 100 ms, its report reaches A at
   * 1180 ms: 180 ms elapsed, minus B's 100 ms, is 80 ms (§6.4.1). */
  t = 1000 * 1000;
  send_report (&a, &b, t, NULL);
  g_assert_false (ca_rtcp_get_rtt_ms (b.rtcp, &rtt)); /* B has sent no SR yet */
  send_report (&b, &a, t + 140 * 1000, NULL);
  g_assert_true (ca_rtcp_get_rtt_ms (a.rtcp, &rtt));
  g_test_message ("A's round trip: %.3f ms", rtt);
  g_assert_cmpfloat_with_epsilon (rtt, 2.0 * ONE_WAY_MS, 0.5);

  /* A answers B's SR 100 ms after it came. */
  send_report (&a, &b, t + 280 * 1000, NULL);
  g_assert_true (ca_rtcp_get_rtt_ms (b.rtcp, &rtt));
  g_test_message ("B's round trip: %.3f ms", rtt);
  g_assert_cmpfloat_with_epsilon (rtt, 2.0 * ONE_WAY_MS, 0.5);

  ca_rtcp_free (a.rtcp);
  ca_rtcp_free (b.rtcp);
}

static void
test_loss (void)
{
  End a, b;
  gint64 t = 0;

  end_init (&a, SSRC_A, 0, G_GINT64_CONSTANT (1763800000000000));
  end_init (&b, SSRC_B, 0, G_GINT64_CONSTANT (1763800000000000));
  g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (a.rtcp), ==, 0);
  g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (a.rtcp), ==, 0);

  /* The link drops 10 of A's 100 packets, never the last. */
  for (guint i = 0; i < 100; i++, t += FRAME_MS * 1000)
    send_frame (&a, &b, i, t, i % 10 == 3);
  send_report (&b, &a, t + 100 * 1000, NULL);
  g_test_message ("fraction lost %u/256", ca_rtcp_get_remote_fraction_lost (a.rtcp));
  g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (a.rtcp), ==, 10 * 256 / 100);
  g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (a.rtcp), ==, 10);

  /* A clean second interval: the fraction is per interval (A.3), the count cumulative. */
  for (guint i = 100; i < 200; i++, t += FRAME_MS * 1000)
    send_frame (&a, &b, i, t, FALSE);
  send_report (&b, &a, t + 100 * 1000, NULL);
  g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (a.rtcp), ==, 0);
  g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (a.rtcp), ==, 10);

  /* Half of the third interval lost. */
  for (guint i = 200; i < 300; i++, t += FRAME_MS * 1000)
    send_frame (&a, &b, i, t, i % 2 == 0);
  send_report (&b, &a, t + 100 * 1000, NULL);
  g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (a.rtcp), ==, 128);
  g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (a.rtcp), ==, 60);

  ca_rtcp_free (a.rtcp);
  ca_rtcp_free (b.rtcp);
}

static void
test_sr_or_rr (void)
{
  End a, b;
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE];
  gsize len;
  gint64 t = 0;

  end_init (&a, SSRC_A, 0, G_GINT64_CONSTANT (1763800000000000));
  end_init (&b, SSRC_B, 0, G_GINT64_CONSTANT (1763800000000000));

  /* Nothing sent, nothing received: an empty RR (RC 0, length 1) and the SDES. */
  len = ca_rtcp_build_report (b.rtcp, 0, end_ntp (&b, 0), buf, sizeof buf);
  g_assert_cmpuint (len, ==, 8 + 28);
  g_assert_cmpuint (buf[0], ==, 0x80);
  g_assert_cmpuint (buf[1], ==, 201);
  g_assert_cmpuint (buf[3], ==, 1);

  for (guint i = 0; i < 10; i++, t += FRAME_MS * 1000)
    send_frame (&a, &b, i, t, FALSE);

  /* B only receives: an RR with one block about A (RC 1, 32 bytes). */
  len = send_report (&b, &a, t, buf);
  g_assert_cmpuint (len, ==, 32 + 28);
  g_assert_cmpuint (buf[0], ==, 0x81);
  g_assert_cmpuint (buf[1], ==, 201);
  g_assert_cmpuint ((buf[2] << 8) | buf[3], ==, 32 / 4 - 1);
  g_assert_cmpuint ((guint32) buf[8] << 24 | buf[9] << 16 | buf[10] << 8 | buf[11], ==, SSRC_A);

  /* A sent: an SR without a block (it has received nothing). */
  len = send_report (&a, &b, t, buf);
  g_assert_cmpuint (len, ==, 28 + 28);
  g_assert_cmpuint (buf[0], ==, 0x80);
  g_assert_cmpuint (buf[1], ==, 200);
  g_assert_cmpuint ((buf[2] << 8) | buf[3], ==, 28 / 4 - 1);
  g_assert_cmpuint (buf[23], ==, 10); /* packet count */

  /* A stops sending: still an SR for the report after (§6.4: "since the last report or the
   * one before"), then RRs. */
  len = send_report (&a, &b, t + 5000 * 1000, buf);
  g_assert_cmpuint (buf[1], ==, 200);
  len = send_report (&a, &b, t + 10000 * 1000, buf);
  g_assert_cmpuint (buf[1], ==, 201);
  g_assert_cmpuint (len, ==, 8 + 28);

  ca_rtcp_free (a.rtcp);
  ca_rtcp_free (b.rtcp);
}

/* The SDES packet of a built report (§6.5): one chunk, our SSRC, CNAME, null item, padding. */
static void
test_sdes_cname (void)
{
  g_autoptr (CaRtcp) a = ca_rtcp_new (SSRC_A, RATE, NULL);
  g_autoptr (CaRtcp) b = ca_rtcp_new (SSRC_B, RATE, NULL);
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE];
  gsize len = ca_rtcp_build_report (a, 0, 0, buf, sizeof buf);
  const guint8 *sdes = buf + 8;
  const char *cname = ca_rtcp_get_cname (a);
  gsize sdes_len;

  g_assert_cmpuint (len, ==, 36);
  g_assert_cmpuint (sdes[0], ==, 0x81); /* V=2, one chunk */
  g_assert_cmpuint (sdes[1], ==, 202);
  sdes_len = 4 * (((gsize) sdes[2] << 8 | sdes[3]) + 1);
  g_assert_cmpuint (8 + sdes_len, ==, len);
  g_assert_cmpuint ((guint32) sdes[4] << 24 | sdes[5] << 16 | sdes[6] << 8 | sdes[7], ==, SSRC_A);
  g_assert_cmpuint (sdes[8], ==, 1); /* CNAME */
  g_assert_cmpuint (sdes[9], ==, strlen (cname));
  g_assert_cmpmem (sdes + 10, sdes[9], cname, strlen (cname));
  /* Then at least one null octet, and zeros to the end. */
  g_assert_cmpuint (10 + sdes[9], <, sdes_len);
  for (gsize i = 10 + sdes[9]; i < sdes_len; i++)
    g_assert_cmpuint (sdes[i], ==, 0);

  /* 96 random bits in base64 (RFC 7022 §5): nothing of the user, different per call. */
  g_assert_cmpuint (strlen (cname), ==, 16);
  g_assert_cmpuint (strspn (cname, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
                    ==, 16);
  g_assert_cmpstr (cname, !=, ca_rtcp_get_cname (b));
}

/* Small big-endian writer for hand-made packets. */
static guint8 *
w32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
  return p + 4;
}

/* One SR checked against RFC 3550 §6.4.1 by hand: 8 kHz, two packets sent, four of five
 * received from the peer, the peer's SR received 0.5 s before. */
static void
test_sr_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaRtcp) r = ca_rtcp_new (0x11223344, 8000, &error);
  static const guint16 seqs[] = { 100, 101, 102, 104 };
  guint8 pkt[256], peer_sr[28], buf[CA_RTCP_REPORT_MAX_SIZE + 20], *p;
  gsize len;
  const char *cname;
  static const guint8 want_sr[52] = {
    0x81, 0xc8, 0x00, 0x0c,                         /* V=2 RC=1, SR, 13 words */
    0x11, 0x22, 0x33, 0x44,                         /* our SSRC */
    0xe8, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, /* NTP as given */
    0x01, 0x00, 0x03, 0x20, /* last RTP ts 0x010000a0 + 80 ms × 8000/s = 640 */
    0x00, 0x00, 0x00, 0x02, /* packets */
    0x00, 0x00, 0x01, 0x04, /* octets: payloads only, 160 + 100 */
    0x55, 0x66, 0x77, 0x88, /* the peer */
    0x33, 0x00, 0x00, 0x01, /* fraction 1/5 = 51/256, cumulative 1 */
    0x00, 0x00, 0x00, 0x68, /* extended highest sequence number 104 */
    0x00, 0x00, 0x00, 0x00, /* jitter: constant transit */
    0x56, 0x78, 0x9a, 0xbc, /* LSR: middle of 0x12345678 9abcdef0 */
    0x00, 0x00, 0x80, 0x00, /* DLSR: 0.5 s in 1/65536 s */
  };

  g_assert_no_error (error);

  /* Received: transit constant (timestamps advance 160 per 20 ms, as arrivals), 103 lost. */
  for (guint i = 0; i < G_N_ELEMENTS (seqs); i++)
    {
      guint k = seqs[i] - 100u;

      len = make_rtp (pkt, 0x55667788, seqs[i], 16000 + 160 * k, 160);
      ca_rtcp_on_rtp_received (r, pkt, len, 2000000 + 20000 * k);
    }

  /* The peer's SR, RC 0, no SDES (A.2 does not ask for one). */
  p = peer_sr;
  p = w32 (p, 0x80c80006);
  p = w32 (p, 0x55667788);
  p = w32 (p, 0x12345678);
  p = w32 (p, 0x9abcdef0);
  p = w32 (p, 0xdeadbeef);
  p = w32 (p, 4);
  w32 (p, 640);
  g_assert_true (ca_rtcp_parse (r, peer_sr, sizeof peer_sr, 2100000, 0, &error));
  g_assert_no_error (error);

  /* Sent: 160 bytes plain; then CC=1, an extension of one word, 100 bytes and 3 of padding. */
  len = make_rtp (pkt, 0x11223344, 7, 0x01000000, 160);
  ca_rtcp_on_rtp_sent (r, pkt, len, 2500000);
  memset (pkt, 0, sizeof pkt);
  make_rtp (pkt, 0x11223344, 8, 0x010000a0, 0);
  pkt[0] = 0x80 | 0x20 | 0x10 | 1;
  pkt[12 + 4 + 2] = 0;
  pkt[12 + 4 + 3] = 1; /* extension length: one word */
  len = 12 + 4 + 8 + 100 + 3;
  pkt[len - 1] = 3;
  ca_rtcp_on_rtp_sent (r, pkt, len, 2520000);
  /* Not ours: another SSRC, and RTCP. Neither counts. */
  len = make_rtp (pkt, 0x99999999, 9, 0, 200);
  ca_rtcp_on_rtp_sent (r, pkt, len, 2530000);
  ca_rtcp_on_rtp_sent (r, peer_sr, sizeof peer_sr, 2530000);

  len = ca_rtcp_build_report (r, 2600000, G_GUINT64_CONSTANT (0xe800000040000000), buf,
                              sizeof buf);
  g_assert_cmpuint (len, ==, CA_RTCP_REPORT_MAX_SIZE);
  g_assert_cmpmem (buf, sizeof want_sr, want_sr, sizeof want_sr);

  cname = ca_rtcp_get_cname (r);
  p = buf + sizeof want_sr;
  g_assert_cmpmem (p, 10, "\x81\xca\x00\x06\x11\x22\x33\x44\x01\x10", 10);
  g_assert_cmpmem (p + 10, 16, cname, 16);
  g_assert_cmpmem (p + 26, 2, "\0\0", 2);
}

/* A primed state: 20 packets each way, one SR of ours answered by the peer. */
#define PEER_NTP1 G_GUINT64_CONSTANT (0xe9000001a0000000)
#define OUR_NTP1 G_GUINT64_CONSTANT (0xe900000180000000)

static guint32
mid (guint64 ntp)
{
  return (guint32) (ntp >> 16);
}

/* A valid compound from the peer: SR (RC 1, block about A) + SDES. */
static gsize
peer_compound (guint8 *buf, guint64 ntp, guint8 fraction, guint32 cumulative, guint32 lsr,
               guint32 dlsr)
{
  guint8 *p = buf;

  p = w32 (p, 0x81c8000c);
  p = w32 (p, SSRC_B);
  p = w32 (p, (guint32) (ntp >> 32));
  p = w32 (p, (guint32) ntp);
  p = w32 (p, 1234);
  p = w32 (p, 20);
  p = w32 (p, 1600);
  p = w32 (p, SSRC_A);
  p = w32 (p, (guint32) fraction << 24 | cumulative);
  p = w32 (p, 0x10064);
  p = w32 (p, 7);
  p = w32 (p, lsr);
  p = w32 (p, dlsr);
  p = w32 (p, 0x81ca0003); /* SDES, one chunk: SSRC, CNAME "b", null, pad */
  p = w32 (p, SSRC_B);
  p = w32 (p, 0x01016200);
  p = w32 (p, 0);
  return (gsize) (p - buf);
}

static CaRtcp *
primed (void)
{
  CaRtcp *r = ca_rtcp_new (SSRC_A, RATE, NULL);
  guint8 pkt[12 + 80], buf[CA_RTCP_REPORT_MAX_SIZE];
  gsize len;

  for (guint i = 0; i < 20; i++)
    {
      len = make_rtp (pkt, SSRC_A, (guint16) i, i * 960, 80);
      ca_rtcp_on_rtp_sent (r, pkt, len, 20000 * i);
      len = make_rtp (pkt, SSRC_B, (guint16) (500 + i), i * 960, 80);
      if (i != 5)
        ca_rtcp_on_rtp_received (r, pkt, len, 20000 * i + 40000);
    }
  g_assert_cmpuint (ca_rtcp_build_report (r, 400000, OUR_NTP1, buf, sizeof buf), >, 0);
  len = peer_compound (buf, PEER_NTP1, 0x10, 5, mid (OUR_NTP1), 0x1000);
  g_assert_true (ca_rtcp_parse (r, buf, len, 500000, OUR_NTP1 + ((guint64) 0x3000 << 16), NULL));
  return r;
}

/* The SR/RR part of the next report (the SDES differs: CNAMEs are random). */
static gsize
first_packet (CaRtcp *r, guint8 *buf)
{
  gsize len = ca_rtcp_build_report (r, 900000, OUR_NTP1 + G_GUINT64_CONSTANT (0x100000000), buf,
                                    CA_RTCP_REPORT_MAX_SIZE);

  g_assert_cmpuint (len, >, 28);
  return 4 * (((gsize) buf[2] << 8 | buf[3]) + 1);
}

/* @bad must be refused, and leave everything as a twin that never saw it. */
static void
assert_refused (const char *what, const guint8 *bad, gsize len)
{
  g_autoptr (CaRtcp) r = primed ();
  g_autoptr (CaRtcp) twin = primed ();
  g_autoptr (GError) error = NULL;
  double rtt = 0, twin_rtt = 0;
  guint8 got[CA_RTCP_REPORT_MAX_SIZE], want[CA_RTCP_REPORT_MAX_SIZE];
  gsize got_len, want_len;

  g_test_message ("%s (%" G_GSIZE_FORMAT " bytes)", what, len);
  g_assert_false (ca_rtcp_parse (r, bad, len, 600000, OUR_NTP1 + ((guint64) 0x9000 << 16),
                                 &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt));
  g_assert_true (ca_rtcp_get_rtt_ms (twin, &twin_rtt));
  g_assert_cmpfloat (rtt, ==, twin_rtt);
  g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==,
                    ca_rtcp_get_remote_fraction_lost (twin));
  g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (r), ==,
                    ca_rtcp_get_remote_cumulative_lost (twin));
  got_len = first_packet (r, got);
  want_len = first_packet (twin, want);
  g_assert_cmpmem (got, got_len, want, want_len);
}

static void
test_hostile (void)
{
  g_autoptr (CaRtcp) check = primed ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (3550);
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *big = g_malloc (64 * 1024);
  guint8 good[128], bad[128];
  gsize good_len = peer_compound (good, PEER_NTP1 + 0x10000000, 0x40, 9, mid (OUR_NTP1), 0x2000);
  double rtt_before = 0, rtt_after = 0;
  guint8 report_before[CA_RTCP_REPORT_MAX_SIZE], report_after[CA_RTCP_REPORT_MAX_SIZE];

  /* The base of the bad inputs is accepted and changes what the twin check looks at, so a
   * refusal that still changed state could not pass unnoticed. */
  {
    g_autoptr (CaRtcp) before = primed ();
    gsize n1 = first_packet (before, report_before);
    gsize n2;

    g_assert_true (ca_rtcp_get_rtt_ms (check, &rtt_before));
    g_assert_true (ca_rtcp_parse (check, good, good_len, 600000,
                                  OUR_NTP1 + ((guint64) 0x9000 << 16), &error));
    g_assert_no_error (error);
    g_assert_true (ca_rtcp_get_rtt_ms (check, &rtt_after));
    g_assert_cmpfloat (rtt_before, !=, rtt_after);
    g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (check), ==, 0x40);
    g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (check), ==, 9);
    n2 = first_packet (check, report_after);
    g_assert_cmpuint (n1, ==, n2);
    g_assert_true (memcmp (report_before, report_after, n1) != 0);
  }

  assert_refused ("empty", good, 0);
  assert_refused ("NULL, empty", NULL, 0);
  assert_refused ("three bytes", good, 3);
  /* Every truncation but the one at the SR's end (a valid compound of one packet). */
  for (gsize n = 1; n < good_len; n++)
    if (n != 52)
      assert_refused ("truncated", good, n);

  memcpy (bad, good, good_len);
  bad[0] = (bad[0] & 0x3f) | 0x40;
  assert_refused ("version 1", bad, good_len);
  memcpy (bad, good, good_len);
  bad[52] = (bad[52] & 0x3f) | 0xc0;
  assert_refused ("version 3 in the second packet", bad, good_len);

  memcpy (bad, good, good_len);
  bad[2] = bad[3] = 0xff;
  assert_refused ("length 0xffff", bad, good_len);
  memcpy (bad, good, good_len);
  bad[55]++;
  assert_refused ("second length one word too long", bad, good_len);
  memcpy (bad, good, good_len);
  bad[55]--;
  assert_refused ("second length one word too short", bad, good_len);
  memcpy (bad, good, good_len);
  memset (bad + good_len, 0, 4);
  assert_refused ("four zero bytes after the last packet", bad, good_len + 4);

  memcpy (bad, good, good_len);
  bad[0] = 0x82;
  assert_refused ("report count 2 in a one-block SR", bad, good_len);
  memcpy (bad, good, good_len);
  bad[0] = 0x9f;
  assert_refused ("report count 31", bad, good_len);
  memcpy (bad, good, good_len);
  bad[0] = 0x82;
  bad[1] = 201; /* as an RR, 52 bytes hold 8 + 24 + 20: not a second block */
  assert_refused ("RR with report count 2", bad, good_len);

  memcpy (bad, good + 52, good_len - 52);
  memcpy (bad + good_len - 52, good, 52);
  assert_refused ("SDES first", bad, good_len);
  memcpy (bad, good, good_len);
  bad[1] = 203;
  assert_refused ("BYE first", bad, good_len);

  memcpy (bad, good, good_len);
  bad[0] |= 0x20;
  assert_refused ("padding in the first packet", bad, good_len);
  memcpy (bad, good, good_len);
  bad[52] |= 0x20;
  bad[good_len - 1] = 0;
  assert_refused ("padding count 0", bad, good_len);
  memcpy (bad, good, good_len);
  bad[52] |= 0x20;
  bad[good_len - 1] = 17;
  assert_refused ("padding beyond the packet", bad, good_len);

  /* Zero-length packets: length 0 is one word, the header alone. */
  memset (bad, 0, 8);
  bad[0] = 0x80;
  bad[1] = 201;
  bad[4] = 0x80;
  bad[5] = 202;
  assert_refused ("RR and SDES of one word each, RR too short for its SSRC", bad, 8);

  for (gsize i = 0; i < 64 * 1024; i += 4)
    {
      guint32 v = g_rand_int (rand);
      memcpy (big + i, &v, 4);
    }
  assert_refused ("64 KiB random", big, 64 * 1024);
  big[0] = 0x80;
  big[1] = 200;
  assert_refused ("64 KiB random behind an SR header", big, 64 * 1024);
  memset (big, 0xff, 64 * 1024);
  assert_refused ("64 KiB of 0xff", big, 64 * 1024);
  memset (big, 0, 64 * 1024);
  assert_refused ("64 KiB of zeros", big, 64 * 1024);
  /* A chain of minimal valid headers that overruns by one word at the very end. */
  for (gsize i = 0; i < 64 * 1024; i += 4)
    {
      big[i] = 0x80;
      big[i + 1] = i == 0 ? 201 : 204;
      big[i + 2] = 0;
      big[i + 3] = 0;
    }
  big[0] = 0x80;
  big[3] = 1;
  big[64 * 1024 - 4 + 3] = 1;
  assert_refused ("64 KiB of headers, the last one too long", big, 64 * 1024);
}

/* What A.2 lets through: padding in the last packet, unknown types, profile extensions, a
 * one-packet compound; and what teaches nothing: blocks about others, an LSR we never sent. */
static void
test_liberal (void)
{
  g_autoptr (GError) error = NULL;
  guint8 buf[256], *p;
  double rtt = 0, rtt2 = 0;
  gsize len;

  {
    g_autoptr (CaRtcp) r = primed ();

    /* RR with a 4-byte profile extension, APP, then a padded BYE. */
    p = buf;
    p = w32 (p, 0x81c90008);
    p = w32 (p, SSRC_B);
    p = w32 (p, SSRC_A);
    p = w32 (p, 0x20000021); /* fraction 32, cumulative 33 */
    p = w32 (p, 0x10064);
    p = w32 (p, 0);
    p = w32 (p, 0); /* no LSR: no RTT update */
    p = w32 (p, 0);
    p = w32 (p, 0xcafef00d); /* extension */
    p = w32 (p, 0x80cc0002);
    p = w32 (p, SSRC_B);
    p = w32 (p, 0x74657374);
    p = w32 (p, 0xa1cb0002); /* BYE, SC 1, padded */
    p = w32 (p, SSRC_B);
    p = w32 (p, 0x00000004);
    len = (gsize) (p - buf);
    g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt));
    g_assert_true (ca_rtcp_parse (r, buf, len, 600000, OUR_NTP1, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==, 32);
    g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (r), ==, 33);
    g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt2));
    g_assert_cmpfloat (rtt, ==, rtt2);

    /* A negative cumulative count (duplicates) reads as 0. */
    buf[13] = 0xff;
    buf[14] = 0xff;
    buf[15] = 0xfe;
    g_assert_true (ca_rtcp_parse (r, buf, len, 600000, OUR_NTP1, &error));
    g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (r), ==, 0);
  }
  {
    g_autoptr (CaRtcp) r = primed ();

    /* An LSR we never sent, and a block about someone else: no new RTT, no new loss. */
    len = peer_compound (buf, PEER_NTP1, 0x77, 77, mid (OUR_NTP1) + 1, 0);
    g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt));
    g_assert_true (ca_rtcp_parse (r, buf, len, 600000, OUR_NTP1 + ((guint64) 0x9000 << 16),
                                  &error));
    g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt2));
    g_assert_cmpfloat (rtt, ==, rtt2);
    g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==, 0x77);

    len = peer_compound (buf, PEER_NTP1, 0x55, 55, mid (OUR_NTP1), 0);
    buf[28] ^= 0xff; /* the block's SSRC: not ours */
    g_assert_true (ca_rtcp_parse (r, buf, len, 600000, OUR_NTP1, &error));
    g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==, 0x77);
    g_assert_cmpuint (ca_rtcp_get_remote_cumulative_lost (r), ==, 77);

    /* A report sent from our own SSRC (looped back) teaches nothing either. */
    len = peer_compound (buf, PEER_NTP1, 0x11, 11, mid (OUR_NTP1), 0);
    w32 (buf + 4, SSRC_A);
    g_assert_true (ca_rtcp_parse (r, buf, len, 600000, OUR_NTP1 + ((guint64) 0x9000 << 16),
                                  &error));
    g_assert_cmpuint (ca_rtcp_get_remote_fraction_lost (r), ==, 0x77);
    g_assert_true (ca_rtcp_get_rtt_ms (r, &rtt2));
    g_assert_cmpfloat (rtt, ==, rtt2);
  }
}

/* Too small a buffer: 0, and nothing moves (the next report equals a twin's). */
static void
test_small_buffer (void)
{
  g_autoptr (CaRtcp) r = primed ();
  g_autoptr (CaRtcp) twin = primed ();
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE], want[CA_RTCP_REPORT_MAX_SIZE];
  gsize n1, n2;

  for (gsize size = 0; size < CA_RTCP_REPORT_MAX_SIZE; size++)
    g_assert_cmpuint (ca_rtcp_build_report (r, 800000, OUR_NTP1, buf, size), ==, 0);
  n1 = first_packet (r, buf);
  n2 = first_packet (twin, want);
  g_assert_cmpmem (buf, n1, want, n2);
}

static void
test_ntp (void)
{
  guint64 now = ca_rtcp_ntp_from_real_time (g_get_real_time ());

  g_assert_cmphex (ca_rtcp_ntp_from_real_time (0), ==, G_GUINT64_CONSTANT (2208988800) << 32);
  g_assert_cmphex (ca_rtcp_ntp_from_real_time (1500000), ==,
                   (G_GUINT64_CONSTANT (2208988801) << 32) | 0x80000000);
  g_assert_cmphex (ca_rtcp_ntp_from_real_time (-250000), ==,
                   (G_GUINT64_CONSTANT (2208988799) << 32) | 0xc0000000);
  /* 2024-01-01 is 3913056000 s after 1900. */
  g_assert_cmpuint (now >> 32, >, G_GUINT64_CONSTANT (3913056000));
}

static void
test_interval (void)
{
  g_autoptr (CaRtcp) r = ca_rtcp_new (SSRC_A, RATE, NULL);
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE];
  guint lo = G_MAXUINT, hi = 0;

  for (guint i = 0; i < 200; i++)
    {
      guint ms = ca_rtcp_next_interval_ms (r);

      lo = MIN (lo, ms);
      hi = MAX (hi, ms);
    }
  g_assert_cmpuint (lo, >=, 500);
  g_assert_cmpuint (hi, <=, 1000);
  g_assert_cmpuint (lo, <, hi);

  g_assert_cmpuint (ca_rtcp_build_report (r, 0, 0, buf, sizeof buf), >, 0);
  lo = G_MAXUINT;
  hi = 0;
  for (guint i = 0; i < 200; i++)
    {
      guint ms = ca_rtcp_next_interval_ms (r);

      lo = MIN (lo, ms);
      hi = MAX (hi, ms);
    }
  g_assert_cmpuint (lo, >=, 2500);
  g_assert_cmpuint (hi, <=, 7500);
  /* 200 draws from 5000 values: both ends of the range are reached roughly. */
  g_assert_cmpuint (lo, <, 3500);
  g_assert_cmpuint (hi, >, 6500);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/agent/rtcp/rtt", test_rtt);
  g_test_add_func ("/agent/rtcp/loss", test_loss);
  g_test_add_func ("/agent/rtcp/sr-or-rr", test_sr_or_rr);
  g_test_add_func ("/agent/rtcp/sdes-cname", test_sdes_cname);
  g_test_add_func ("/agent/rtcp/sr-bytes", test_sr_bytes);
  g_test_add_func ("/agent/rtcp/hostile", test_hostile);
  g_test_add_func ("/agent/rtcp/liberal", test_liberal);
  g_test_add_func ("/agent/rtcp/small-buffer", test_small_buffer);
  g_test_add_func ("/agent/rtcp/ntp", test_ntp);
  g_test_add_func ("/agent/rtcp/interval", test_interval);
  return g_test_run ();
}

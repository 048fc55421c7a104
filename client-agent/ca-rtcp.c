/* ca-rtcp: RFC 3550 §6 sender and receiver reports of a two-party call, over buffers. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-rtcp.h"

#include <string.h>

#include "ca-rtp-stats.h"
#include "sotto-util.h"

/* RFC 3550 §12.1 */
#define RTCP_SR 200
#define RTCP_RR 201
#define RTCP_SDES 202
#define SDES_CNAME 1

#define RTP_HEADER 12
#define RTCP_HEADER 4
#define SR_FIXED 28     /* header, SSRC, NTP (8), RTP timestamp, packet and octet counts */
#define RR_FIXED 8      /* header, SSRC */
#define REPORT_BLOCK 24 /* §6.4.1 */

/* RFC 7022 §5: 96 random bits, base64 without padding. */
#define CNAME_RANDOM_BYTES 12
#define CNAME_LEN 16
/* SDES: header, SSRC, CNAME item (type, length, text), the null item, padded to 32 bits. */
#define SDES_LEN ((RTCP_HEADER + 4 + 2 + CNAME_LEN + 1 + 3) & ~3)

G_STATIC_ASSERT (SR_FIXED + REPORT_BLOCK + SDES_LEN == CA_RTCP_REPORT_MAX_SIZE);

/* Seconds from 1900 (NTP) to 1970 (Unix). */
#define NTP_UNIX_OFFSET G_GINT64_CONSTANT (2208988800)

/* How many of our recent SRs a report block's LSR may name. At one SR per 2.5 s or more,
 * four cover ten seconds of answers in flight. */
#define SR_HISTORY 4

/* §6.2 with two participants: the 5 s minimum; the first report comes sooner (see header). */
#define INTERVAL_MIN_MS 5000
#define INTERVAL_FIRST_LOW_MS 500
#define INTERVAL_FIRST_HIGH_MS 1000

struct _CaRtcp
{
  guint32 local_ssrc;
  guint clock_rate;
  char cname[CNAME_LEN + 1];
  guint reports_built;

  /* What we send: the SR's sender info (§6.4.1). The counts wrap as the RFC says. */
  guint32 packets_sent;
  guint32 octets_sent;
  gboolean have_sent;
  guint32 last_rtp_ts;
  gint64 last_rtp_us;
  gboolean sent_this_interval;
  gboolean sent_prev_interval;
  guint32 sr_mid[SR_HISTORY]; /* middle 32 bits of the NTP time of our last SRs; 0: none */
  guint sr_next;

  /* What we receive: one source, the peer's first SSRC. */
  gboolean have_remote;
  guint32 remote_ssrc;
  CaRtpStats stats;
  guint64 expected_prior; /* A.3: at the last report */
  guint64 received_prior;

  /* The peer's last SR, for our LSR and DLSR (§6.4.1). */
  gboolean have_peer_sr;
  guint32 peer_sr_ssrc;
  guint32 peer_sr_mid;
  gint64 peer_sr_us;

  /* What the peer's report blocks about us say. */
  gboolean have_rtt;
  guint32 rtt; /* 1/65536 s */
  guint8 remote_fraction_lost;
  guint32 remote_cumulative_lost;
};

/* What a valid compound packet teaches; applied only once the whole packet has passed. */
typedef struct
{
  gboolean sr;
  guint32 sr_ssrc;
  guint32 sr_mid;
  gboolean block;
  guint8 fraction_lost;
  gint32 cumulative_lost;
  guint32 lsr;
  guint32 dlsr;
} Learned;

static guint16
get16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint8 *
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
  return p + 2;
}

static guint8 *
put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
  return p + 4;
}

/* The middle 32 bits of an NTP timestamp: the unit of LSR, DLSR and RTT (§6.4.1). */
static guint32
ntp_mid (guint64 ntp)
{
  return (guint32) (ntp >> 16);
}

gboolean
ca_rtcp_read_rtp (const guint8 *p, gsize len, CaRtpInfo *out)
{
  gsize header, pad = 0;

  if (p == NULL || len < RTP_HEADER || (p[0] >> 6) != 2 || (p[1] >= 192 && p[1] <= 223))
    return FALSE;
  header = RTP_HEADER + 4 * (gsize) (p[0] & 0x0f);
  if (p[0] & 0x10)
    {
      if (len < header + 4)
        return FALSE;
      header += 4 + 4 * (gsize) get16 (p + header + 2);
    }
  if (header > len)
    return FALSE;
  if (p[0] & 0x20)
    {
      pad = p[len - 1];
      if (pad == 0 || pad > len - header)
        return FALSE;
    }
  out->seq = get16 (p + 2);
  out->timestamp = get32 (p + 4);
  out->ssrc = get32 (p + 8);
  out->payload_len = len - header - pad;
  return TRUE;
}

CaRtcp *
ca_rtcp_new (guint32 local_ssrc, guint clock_rate, GError **error)
{
  g_autofree CaRtcp *self = g_new0 (CaRtcp, 1);
  guint8 random[CNAME_RANDOM_BYTES];
  g_autofree char *cname = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!sotto_util_random (random, sizeof random, error))
    return NULL;
  cname = g_base64_encode (random, sizeof random);
  g_assert (strlen (cname) == CNAME_LEN);
  memcpy (self->cname, cname, CNAME_LEN + 1);

  self->local_ssrc = local_ssrc;
  self->clock_rate = clock_rate;
  ca_rtp_stats_init (&self->stats, clock_rate);
  return g_steal_pointer (&self);
}

void
ca_rtcp_free (CaRtcp *self)
{
  g_free (self);
}

const char *
ca_rtcp_get_cname (const CaRtcp *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->cname;
}

void
ca_rtcp_on_rtp_sent (CaRtcp *self, const guint8 *rtp, gsize len, gint64 now_us)
{
  CaRtpInfo info;

  g_return_if_fail (self != NULL);

  if (!ca_rtcp_read_rtp (rtp, len, &info) || info.ssrc != self->local_ssrc)
    return;
  self->packets_sent++;
  self->octets_sent += (guint32) info.payload_len;
  self->have_sent = TRUE;
  self->last_rtp_ts = info.timestamp;
  self->last_rtp_us = now_us;
  self->sent_this_interval = TRUE;
}

void
ca_rtcp_on_rtp_received (CaRtcp *self, const guint8 *rtp, gsize len, gint64 now_us)
{
  CaRtpInfo info;

  g_return_if_fail (self != NULL);

  if (!ca_rtcp_read_rtp (rtp, len, &info) || info.ssrc == self->local_ssrc)
    return;
  if (!self->have_remote)
    {
      self->have_remote = TRUE;
      self->remote_ssrc = info.ssrc;
    }
  else if (info.ssrc != self->remote_ssrc)
    return;
  ca_rtp_stats_update (&self->stats, info.seq, info.timestamp, now_us);
}

/* The RTP timestamp of the instant @now_us, extrapolated from our last packet (§6.4.1: same
 * units and random offset as the RTP timestamps). Modular, so a wrap is harmless. */
static guint32
rtp_timestamp_at (const CaRtcp *self, gint64 now_us)
{
  guint64 delta = now_us > self->last_rtp_us ? (guint64) (now_us - self->last_rtp_us) : 0;
  guint64 ticks = (delta / G_USEC_PER_SEC) * self->clock_rate
                  + (delta % G_USEC_PER_SEC) * self->clock_rate / G_USEC_PER_SEC;

  return self->last_rtp_ts + (guint32) ticks;
}

/* One report block about the peer (§6.4.1, loss as in A.3). Moves the A.3 interval on. */
static guint8 *
write_report_block (CaRtcp *self, guint8 *p, gint64 now_us)
{
  const CaRtpStats *s = &self->stats;
  guint32 extended_max = s->cycles + s->max_seq;
  guint64 expected = (guint64) s->cycles + s->max_seq - s->base_seq + 1;
  guint64 expected_interval, received_interval;
  gint64 lost = (gint64) expected - (gint64) s->received;
  guint32 fraction = 0, lsr = 0, dlsr = 0;

  /* A restart of the source (A.1) starts the counts again: so does the interval. */
  if (expected < self->expected_prior || s->received < self->received_prior)
    self->expected_prior = self->received_prior = 0;
  expected_interval = expected - self->expected_prior;
  received_interval = s->received - self->received_prior;
  if (expected_interval > 0 && expected_interval > received_interval)
    fraction = (guint32) MIN (((expected_interval - received_interval) << 8) / expected_interval,
                              255);
  self->expected_prior = expected;
  self->received_prior = s->received;

  /* 24-bit signed cumulative count, clamped (§6.4.1). */
  lost = CLAMP (lost, -0x800000, 0x7fffff);

  if (self->have_peer_sr && self->peer_sr_ssrc == self->remote_ssrc)
    {
      gint64 delay = MAX (now_us - self->peer_sr_us, 0);

      lsr = self->peer_sr_mid;
      dlsr = (guint32) MIN ((guint64) delay * 65536 / G_USEC_PER_SEC, G_MAXUINT32);
    }

  p = put32 (p, self->remote_ssrc);
  p = put32 (p, (fraction << 24) | ((guint32) lost & 0xffffff));
  p = put32 (p, extended_max);
  p = put32 (p, (guint32) MIN (s->jitter, (double) G_MAXUINT32));
  p = put32 (p, lsr);
  return put32 (p, dlsr);
}

gsize
ca_rtcp_build_report (CaRtcp *self, gint64 now_us, guint64 ntp_now, guint8 *buf, gsize size)
{
  gboolean sender;
  guint rc;
  gsize first_len, total;
  guint8 *p = buf, *end;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (buf != NULL || size == 0, 0);

  sender = self->sent_this_interval || self->sent_prev_interval;
  rc = self->have_remote ? 1 : 0;
  first_len = (sender ? SR_FIXED : RR_FIXED) + rc * REPORT_BLOCK;
  total = first_len + SDES_LEN;
  if (size < total)
    return 0;

  /* §6.4.1/§6.4.2: V=2, P=0, RC; length in 32-bit words minus one. */
  *p++ = (guint8) (0x80 | rc);
  *p++ = sender ? RTCP_SR : RTCP_RR;
  p = put16 (p, (guint16) (first_len / 4 - 1));
  p = put32 (p, self->local_ssrc);
  if (sender)
    {
      p = put32 (p, (guint32) (ntp_now >> 32));
      p = put32 (p, (guint32) ntp_now);
      p = put32 (p, rtp_timestamp_at (self, now_us));
      p = put32 (p, self->packets_sent);
      p = put32 (p, self->octets_sent);
      /* An LSR of 0 means "no SR" (§6.4.1): an SR whose middle bits happen to be 0 can
       * never be answered, so it is not remembered. */
      self->sr_mid[self->sr_next] = ntp_mid (ntp_now);
      self->sr_next = (self->sr_next + 1) % SR_HISTORY;
    }
  if (rc > 0)
    p = write_report_block (self, p, now_us);

  /* §6.5: one chunk, our SSRC with the CNAME, then null items up to a 32-bit boundary. */
  *p++ = 0x80 | 1;
  *p++ = RTCP_SDES;
  p = put16 (p, SDES_LEN / 4 - 1);
  p = put32 (p, self->local_ssrc);
  *p++ = SDES_CNAME;
  *p++ = CNAME_LEN;
  memcpy (p, self->cname, CNAME_LEN);
  p += CNAME_LEN;
  end = buf + total;
  while (p < end)
    *p++ = 0;

  self->sent_prev_interval = self->sent_this_interval;
  self->sent_this_interval = FALSE;
  self->reports_built++;
  return total;
}

static gboolean
invalid (GError **error, const char *what, gsize offset)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "RTCP: %s at byte %" G_GSIZE_FORMAT,
               what, offset);
  return FALSE;
}

/* The report blocks of one SR or RR: only one about us matters. */
static void
read_report_blocks (const CaRtcp *self, const guint8 *p, guint count, Learned *learned)
{
  for (guint i = 0; i < count; i++, p += REPORT_BLOCK)
    {
      guint32 lost24;

      if (get32 (p) != self->local_ssrc)
        continue;
      lost24 = get32 (p + 4) & 0xffffff;
      learned->block = TRUE;
      learned->fraction_lost = p[4];
      learned->cumulative_lost
        = (lost24 & 0x800000) ? (gint32) lost24 - 0x1000000 : (gint32) lost24;
      learned->lsr = get32 (p + 16);
      learned->dlsr = get32 (p + 20);
    }
}

static gboolean
sr_was_ours (const CaRtcp *self, guint32 lsr)
{
  for (guint i = 0; i < SR_HISTORY; i++)
    if (self->sr_mid[i] == lsr)
      return TRUE;
  return FALSE;
}

gboolean
ca_rtcp_parse (CaRtcp *self, const guint8 *buf, gsize len, gint64 now_us, guint64 ntp_now,
               GError **error)
{
  Learned learned = { 0 };
  gsize offset = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len < RTCP_HEADER)
    return invalid (error, "shorter than a header", 0);

  /* RFC 3550 A.2, packet by packet; nothing is kept until the whole compound passed. */
  while (offset < len)
    {
      const guint8 *p = buf + offset;
      gsize packet_len, body_len;
      guint count, type;
      guint32 ssrc;

      if (len - offset < RTCP_HEADER)
        return invalid (error, "truncated header", offset);
      if ((p[0] >> 6) != 2)
        return invalid (error, "not version 2", offset);
      count = p[0] & 0x1f;
      type = p[1];
      packet_len = 4 * ((gsize) get16 (p + 2) + 1);
      if (packet_len > len - offset)
        return invalid (error, "length beyond the end", offset);
      if (offset == 0 && type != RTCP_SR && type != RTCP_RR)
        return invalid (error, "compound packet not starting with SR or RR", offset);
      body_len = packet_len;
      if (p[0] & 0x20)
        {
          guint8 pad = p[packet_len - 1];

          /* Only the last packet of a compound may be padded (A.2), and so never the
           * first (SRTCP pads nothing: it is a stream cipher). */
          if (offset == 0 || offset + packet_len != len)
            return invalid (error, "padding before the last packet", offset);
          if (pad == 0 || pad > packet_len - RTCP_HEADER)
            return invalid (error, "bad padding count", offset);
          body_len = packet_len - pad;
        }

      if (type == RTCP_SR || type == RTCP_RR)
        {
          gsize fixed = type == RTCP_SR ? SR_FIXED : RR_FIXED;

          /* Anything after the blocks is a profile-specific extension (§6.4.1): allowed. */
          if (body_len < fixed + (gsize) count * REPORT_BLOCK)
            return invalid (error, "report count larger than the packet", offset);
          ssrc = get32 (p + 4);
          /* Our own report looped back teaches nothing. */
          if (ssrc != self->local_ssrc)
            {
              if (type == RTCP_SR)
                {
                  learned.sr = TRUE;
                  learned.sr_ssrc = ssrc;
                  learned.sr_mid = get32 (p + 10);
                }
              read_report_blocks (self, p + fixed, count, &learned);
            }
        }
      /* SDES, BYE, APP, feedback, XR...: their length is all A.2 asks about. */
      offset += packet_len;
    }

  if (learned.sr)
    {
      self->have_peer_sr = TRUE;
      self->peer_sr_ssrc = learned.sr_ssrc;
      self->peer_sr_mid = learned.sr_mid;
      self->peer_sr_us = now_us;
    }
  if (learned.block)
    {
      self->remote_fraction_lost = learned.fraction_lost;
      self->remote_cumulative_lost = (guint32) MAX (learned.cumulative_lost, 0);
      /* §6.4.1: A - LSR - DLSR, when LSR names an SR we sent. A result that is negative as a
       * signed number means a clock or peer that is off: keep the old value. */
      if (learned.lsr != 0 && sr_was_ours (self, learned.lsr))
        {
          guint32 rtt = ntp_mid (ntp_now) - learned.lsr - learned.dlsr;

          if ((gint32) rtt >= 0)
            {
              self->have_rtt = TRUE;
              self->rtt = rtt;
            }
        }
    }
  return TRUE;
}

gboolean
ca_rtcp_get_rtt_ms (const CaRtcp *self, double *out)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!self->have_rtt)
    return FALSE;
  *out = self->rtt * 1000.0 / 65536.0;
  return TRUE;
}

guint8
ca_rtcp_get_remote_fraction_lost (const CaRtcp *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->remote_fraction_lost;
}

guint32
ca_rtcp_get_remote_cumulative_lost (const CaRtcp *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->remote_cumulative_lost;
}

guint64
ca_rtcp_ntp_from_real_time (gint64 real_us)
{
  gint64 secs = real_us / G_USEC_PER_SEC;
  gint64 us = real_us % G_USEC_PER_SEC;
  guint64 fraction;

  if (us < 0)
    {
      us += G_USEC_PER_SEC;
      secs--;
    }
  fraction = ((guint64) us << 32) / G_USEC_PER_SEC;
  return ((guint64) (secs + NTP_UNIX_OFFSET) << 32) | fraction;
}

guint
ca_rtcp_next_interval_ms (const CaRtcp *self)
{
  g_return_val_if_fail (self != NULL, INTERVAL_MIN_MS);

  if (self->reports_built == 0)
    return (guint) g_random_int_range (INTERVAL_FIRST_LOW_MS, INTERVAL_FIRST_HIGH_MS + 1);
  /* §6.3.1: T × [0.5, 1.5]. Without timer reconsideration there is no e-3/2 correction. */
  return (guint) g_random_int_range (INTERVAL_MIN_MS / 2, INTERVAL_MIN_MS * 3 / 2 + 1);
}

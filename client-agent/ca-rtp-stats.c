/* ca-rtp-stats: RFC 3550 A.1, A.3 and A.8 over the headers of received packets. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-rtp-stats.h"

/* RFC 3550 A.1 */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define RTP_SEQ_MOD (1u << 16)

void
ca_rtp_stats_init (CaRtpStats *stats, guint32 clock_rate)
{
  g_return_if_fail (stats != NULL);

  *stats = (CaRtpStats){ .clock_rate = clock_rate, .bad_seq = RTP_SEQ_MOD + 1 };
}

static void
restart_seq (CaRtpStats *stats, guint16 seq)
{
  stats->base_seq = seq;
  stats->max_seq = seq;
  stats->bad_seq = RTP_SEQ_MOD + 1;
  stats->cycles = 0;
  stats->received = 0;
}

/* A.1 update_seq() without the probation (the caller has already checked the packet is ours):
 * TRUE when the packet counts. */
static gboolean
update_seq (CaRtpStats *stats, guint16 seq)
{
  guint16 udelta = (guint16) (seq - stats->max_seq);

  if (udelta < MAX_DROPOUT)
    {
      if (seq < stats->max_seq)
        stats->cycles += RTP_SEQ_MOD; /* wrapped */
      stats->max_seq = seq;
    }
  else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER)
    {
      /* A very large jump: believe it only if the next packet follows it. */
      if (seq == stats->bad_seq)
        restart_seq (stats, seq);
      else
        {
          stats->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
          return FALSE;
        }
    }
  /* else: a duplicate or reordered packet, counted but not moving max_seq */
  return TRUE;
}

void
ca_rtp_stats_update (CaRtpStats *stats, guint16 seq, guint32 rtp_timestamp, gint64 arrival_us)
{
  guint32 arrival, transit;
  gint32 d;

  g_return_if_fail (stats != NULL);

  if (!stats->started)
    {
      restart_seq (stats, seq);
      stats->started = TRUE;
    }
  else if (!update_seq (stats, seq))
    return;
  stats->received++;

  if (stats->clock_rate == 0 || arrival_us < 0)
    return;
  /* A.8: the arrival time in timestamp units; only differences matter, so the 32-bit wrap
   * of both clocks cancels out. */
  arrival = (guint32) (((guint64) arrival_us * stats->clock_rate) / G_USEC_PER_SEC);
  transit = arrival - rtp_timestamp;
  if (stats->received > 1)
    {
      d = (gint32) (transit - stats->last_transit);
      if (d < 0)
        d = -d;
      stats->jitter += ((double) d - stats->jitter) / 16.0;
    }
  stats->last_transit = transit;
}

guint64
ca_rtp_stats_lost (const CaRtpStats *stats)
{
  guint64 extended_max, expected;

  g_return_val_if_fail (stats != NULL, 0);

  if (!stats->started)
    return 0;
  extended_max = (guint64) stats->cycles + stats->max_seq;
  expected = extended_max - stats->base_seq + 1;
  return expected > stats->received ? expected - stats->received : 0;
}

double
ca_rtp_stats_jitter_ms (const CaRtpStats *stats)
{
  g_return_val_if_fail (stats != NULL, 0.0);

  if (stats->clock_rate == 0)
    return 0.0;
  return stats->jitter * 1000.0 / stats->clock_rate;
}

/* ca-rtp-stats: receive statistics of one RTP source, pure arithmetic over the sequence
 * numbers and timestamps of the packets as they arrive (no sockets, no clock of its own).
 *
 * Loss follows RFC 3550 A.3 (expected from the extended highest sequence number, minus what
 * arrived), with the sequence tracking of A.1 (wraps, and a resynchronisation after a jump
 * larger than MAX_DROPOUT). Jitter is the estimator of A.8 in timestamp units. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint32 clock_rate;  /* RTP timestamp units per second */
  gboolean started;
  guint16 max_seq;     /* highest sequence number seen */
  guint32 cycles;      /* shifted count of sequence number wraps (A.1) */
  guint32 base_seq;    /* first sequence number of this source */
  guint32 bad_seq;     /* the number after a large jump: a restart if the next follows it */
  guint64 received;
  guint32 last_transit;
  double jitter;       /* in timestamp units */
} CaRtpStats;

void ca_rtp_stats_init (CaRtpStats *stats, guint32 clock_rate);
/* One packet, @arrival_us on any monotonic microsecond clock. */
void ca_rtp_stats_update (CaRtpStats *stats, guint16 seq, guint32 rtp_timestamp,
                          gint64 arrival_us);
/* Packets expected minus packets received (A.3); 0 when duplicates outnumber the gaps. */
guint64 ca_rtp_stats_lost (const CaRtpStats *stats);
double ca_rtp_stats_jitter_ms (const CaRtpStats *stats);

G_END_DECLS

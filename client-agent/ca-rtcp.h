/* ca-rtcp: the RTCP of one two-party call (RFC 3550 §6), pure: functions over buffers and a
 * small state object, no sockets, no loop, no clock of its own. The caller passes the time:
 * @now_us on any monotonic microsecond clock (g_get_monotonic_time()) and @ntp_now as a 64-bit
 * NTP timestamp of the wall clock (ca_rtcp_ntp_from_real_time (g_get_real_time ())).
 *
 * It builds our compound report (SR or RR, one report block about the peer's SSRC, SDES CNAME)
 * and reads the peer's, from which it learns the round-trip time (§6.4.1) and the loss the
 * peer sees. SRTCP protection and the sending schedule are the caller's business;
 * ca_rtcp_next_interval_ms() says when to send next. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Our compound report is never longer than this: SR (28) + one report block (24) + SDES with
 * a 16-character CNAME (28). */
#define CA_RTCP_REPORT_MAX_SIZE 80

typedef struct _CaRtcp CaRtcp;

/* A new state for one call. @local_ssrc is the SSRC of the RTP we send; @clock_rate the RTP
 * timestamp rate of it and of what we receive (one codec per call). The CNAME is 96 random
 * bits, base64 (RFC 7022 §5): it names nobody. NULL only when the random source fails. */
CaRtcp *ca_rtcp_new (guint32 local_ssrc, guint clock_rate, GError **error);
void ca_rtcp_free (CaRtcp *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaRtcp, ca_rtcp_free)

const char *ca_rtcp_get_cname (const CaRtcp *self);

/* One RTP packet of ours, as it goes to SRTP (plain RTP). Counts it for the SR's sender info
 * (octets: payload only, §6.4.1) and remembers its timestamp and @now_us. Packets that are
 * not RTP version 2 are ignored. */
void ca_rtcp_on_rtp_sent (CaRtcp *self, const guint8 *rtp, gsize len, gint64 now_us);
/* One RTP packet from the peer, after SRTP. The first SSRC seen is the peer's; packets from
 * any other SSRC (and anything not RTP version 2) are ignored. */
void ca_rtcp_on_rtp_received (CaRtcp *self, const guint8 *rtp, gsize len, gint64 now_us);

/* Writes our compound report into @buf (before SRTCP): an SR if we sent RTP since the last
 * or the previous report (§6.4), else an RR; one report block about the peer once we have
 * received its RTP; then SDES CNAME (§6.1). Returns its length, or 0 (state untouched) when
 * @size is too small; CA_RTCP_REPORT_MAX_SIZE is always enough. Starts a new reporting
 * interval for the fraction lost (A.3). */
gsize ca_rtcp_build_report (CaRtcp *self, gint64 now_us, guint64 ntp_now, guint8 *buf,
                            gsize size);

/* Reads a compound RTCP packet from the peer (after SRTCP), checked as RFC 3550 A.2 says:
 * version 2, SR or RR first, no padding but in the last packet, lengths adding up exactly,
 * report counts fitting their packets. Anything else is G_IO_ERROR_INVALID_DATA and changes
 * nothing. A valid packet updates the peer's last SR (for our LSR/DLSR) and, from a report
 * block about our SSRC, the round-trip time and the loss the peer sees. Packet types we do
 * not use (BYE, APP, feedback, XR) are skipped. */
gboolean ca_rtcp_parse (CaRtcp *self, const guint8 *buf, gsize len, gint64 now_us,
                        guint64 ntp_now, GError **error);

/* The last round-trip time (§6.4.1), in milliseconds; FALSE (and @out untouched) until a
 * report block answered one of our recent SRs. */
gboolean ca_rtcp_get_rtt_ms (const CaRtcp *self, double *out);
/* The loss the peer reports about our RTP, from its last report block about us (0 before
 * one): the fraction lost in its last interval, in 1/256, and the cumulative count
 * (negative counts, from duplicates, read as 0). */
guint8 ca_rtcp_get_remote_fraction_lost (const CaRtcp *self);
guint32 ca_rtcp_get_remote_cumulative_lost (const CaRtcp *self);

/* What one RTP header says that we use. */
typedef struct
{
  guint16 seq;
  guint32 timestamp;
  guint32 ssrc;
  gsize payload_len;
} CaRtpInfo;

/* Reads a plain RTP header (RFC 3550 §5.1), bounds checked; RTCP under rtcp-mux (RFC 5761 §4:
 * second byte 192..223) is not RTP. */
gboolean ca_rtcp_read_rtp (const guint8 *rtp, gsize len, CaRtpInfo *out);

/* The 64-bit NTP timestamp (seconds since 1900 in the upper 32 bits, fraction in the lower)
 * of @real_us microseconds since the Unix epoch. It wraps in 2036 like NTP era 0; the
 * arithmetic on its middle 32 bits (LSR, DLSR, RTT) is modular, so the wrap does no harm. */
guint64 ca_rtcp_ntp_from_real_time (gint64 real_us);

/* How long to wait before the next report (§6.2, §6.3.1 reduced to two participants, where
 * the 5 s minimum always exceeds the bandwidth term): 5 s randomized by [0.5, 1.5], so
 * 2.5..7.5 s. Before our first report it is 0.5..1 s, shorter than §6.2's halved minimum
 * (2.5 s), so that a call shows its round-trip time within about a second and a half. */
guint ca_rtcp_next_interval_ms (const CaRtcp *self);

G_END_DECLS

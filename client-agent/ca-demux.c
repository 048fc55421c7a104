/* ca-demux: what a datagram on an ICE component is, from its first byte (RFC 7983 §7). */
#include "config.h"

#include "ca-demux.h"

const char *
ca_demux_kind_to_string (CaDemuxKind kind)
{
  static const char *const names[CA_DEMUX_LAST] = {
    [CA_DEMUX_STUN] = "stun",
    [CA_DEMUX_ZRTP] = "zrtp",
    [CA_DEMUX_DTLS] = "dtls",
    [CA_DEMUX_TURN_CHANNEL] = "turn-channel",
    [CA_DEMUX_RTP_RTCP] = "rtp-rtcp",
    [CA_DEMUX_UNKNOWN] = "unknown",
  };

  if ((guint) kind >= CA_DEMUX_LAST)
    return "invalid";
  return names[kind];
}

CaDemuxKind
ca_demux_classify (guint8 b)
{
  if (b <= 3)
    return CA_DEMUX_STUN;
  if (b >= 16 && b <= 19)
    return CA_DEMUX_ZRTP;
  if (b >= 20 && b <= 63)
    return CA_DEMUX_DTLS;
  if (b >= 64 && b <= 79)
    return CA_DEMUX_TURN_CHANNEL;
  if (b >= 128 && b <= 191)
    return CA_DEMUX_RTP_RTCP;
  return CA_DEMUX_UNKNOWN;
}

gboolean
ca_demux_is_rtcp (const guint8 *packet, gsize len)
{
  if (packet == NULL || len < 2)
    return FALSE;
  return packet[1] >= 192 && packet[1] <= 223;
}

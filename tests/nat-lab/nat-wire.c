/* nat-wire: classifies a capture of the lab's internet (see nat-wire.h). */
#include "config.h"

#include "nat-wire.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <string.h>

#include "ca-demux.h"

gboolean
nat_wire_looks_plaintext (const guint8 *pkt, gsize len)
{
  guint counts[256] = { 0 };
  guint max = 0;
  gsize hdr;

  if (len < 12)
    return FALSE;
  hdr = 12 + 4 * (pkt[0] & 0x0f);
  if (len <= hdr + 40)
    return FALSE; /* too short to judge */
  for (gsize i = hdr; i < len; i++)
    max = MAX (max, ++counts[pkt[i]]);
  return max * 4 > len - hdr;
}

static gboolean
has_sip (const guint8 *p, gsize len)
{
  for (gsize i = 0; i + 7 <= len; i++)
    if (p[i] == 'S' && memcmp (p + i, "SIP/2.0", 7) == 0)
      return TRUE;
  return FALSE;
}

/* One datagram (or a TURN ChannelData's inner payload, @depth 1). */
static void
classify (const guint8 *p, gsize len, NatWireCount *c, int depth)
{
  if (len == 0)
    return;
  switch (ca_demux_classify (p[0]))
    {
    case CA_DEMUX_STUN:
      c->stun++;
      break;
    case CA_DEMUX_DTLS:
      c->dtls++;
      break;
    case CA_DEMUX_ZRTP:
      /* Only with the 'ZRTP' magic cookie at offset 4 (RFC 6189 §5): anything else in
       * 16..19 is of no known class. */
      if (len >= 8 && memcmp (p + 4, "ZRTP", 4) == 0)
        c->zrtp++;
      else
        c->other++;
      break;
    case CA_DEMUX_TURN_CHANNEL:
      c->channel++;
      /* 2 bytes channel number, 2 bytes length, then the peer's datagram. */
      if (depth == 0 && len > 4)
        classify (p + 4, MIN (len - 4, (gsize) ((p[2] << 8) | p[3])), c, 1);
      break;
    case CA_DEMUX_RTP_RTCP:
      c->rtp++;
      c->plaintext_rtp += nat_wire_looks_plaintext (p, len);
      break;
    default:
      c->other++;
      break;
    }
}

/* pcap records follow each other unaligned. */
static guint32
read_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, sizeof v);
  return v;
}

gboolean
nat_wire_scan (const char *path, const char *only_host, NatWireCount *out, GError **error)
{
  g_autofree guint8 *data = NULL;
  gsize len = 0, off = 24;
  guint32 host = 0;
  NatWireCount c = { 0 };

  if (!g_file_get_contents (path, (char **) &data, &len, error))
    return FALSE;
  if (len < 24 || read_u32 (data) != 0xa1b2c3d4 || read_u32 (data + 20) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: not a little-endian Ethernet pcap", path);
      return FALSE;
    }
  if (only_host != NULL && inet_pton (AF_INET, only_host, &host) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad address %s", only_host);
      return FALSE;
    }
  while (off + 16 <= len)
    {
      guint32 incl = read_u32 (data + off + 8);
      const guint8 *frame = data + off + 16;
      const guint8 *ip, *l4, *payload;
      gsize ihl, plen, l4len, hlen;
      guint16 sport, dport;
      guint32 src, dst;

      if (off + 16 + incl > len)
        break;
      off += 16 + incl;
      if (incl < 14 + 20 || frame[12] != 0x08 || frame[13] != 0x00)
        continue; /* not IPv4 (ARP) */
      ip = frame + 14;
      ihl = (ip[0] & 0x0f) * 4;
      memcpy (&src, ip + 12, 4);
      memcpy (&dst, ip + 16, 4);
      if (only_host != NULL && src != host && dst != host)
        continue;
      c.packets++;
      l4 = ip + ihl;
      l4len = MIN ((gsize) ((ip[2] << 8) | ip[3]), incl - 14);
      if (l4len < ihl + 8)
        continue;
      l4len -= ihl;
      sport = (l4[0] << 8) | l4[1];
      dport = (l4[2] << 8) | l4[3];
      if (ip[9] == 17)
        {
          payload = l4 + 8;
          plen = l4len - 8;
          if (sport == 53 || dport == 53)
            {
              c.dns++;
              continue;
            }
          c.udp_5060 += sport == 5060 || dport == 5060;
          c.plaintext_sip += has_sip (payload, plen);
          classify (payload, plen, &c, 0);
        }
      else if (ip[9] == 6)
        {
          hlen = (l4[12] >> 4) * 4;
          if (l4len <= hlen)
            continue;
          payload = l4 + hlen;
          plen = l4len - hlen;
          c.tcp_segments++;
          c.plaintext_sip += has_sip (payload, plen);
          if (sport == 3478 || dport == 3478)
            {
              c.tcp_3478++;
              /* TURN over TCP frames ChannelData like UDP (padded to 4): look inside when a
               * segment starts with one (small media packets usually do). */
              if (plen > 4 && ca_demux_classify (payload[0]) == CA_DEMUX_TURN_CHANNEL)
                classify (payload, plen, &c, 0);
            }
        }
    }
  *out = c;
  return TRUE;
}

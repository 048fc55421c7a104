/* ca-demux: what a datagram on an ICE component is, from its first byte (RFC 7983 §7). Pure. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CA_DEMUX_STUN,         /* 0..3 */
  CA_DEMUX_ZRTP,         /* 16..19 */
  CA_DEMUX_DTLS,         /* 20..63 */
  CA_DEMUX_TURN_CHANNEL, /* 64..79 */
  CA_DEMUX_RTP_RTCP,     /* 128..191 */
  CA_DEMUX_UNKNOWN,      /* everything else: drop it */
  CA_DEMUX_LAST
} CaDemuxKind;

const char *ca_demux_kind_to_string (CaDemuxKind kind);
CaDemuxKind ca_demux_classify (guint8 first_byte);

/* With rtcp-mux, tells RTCP from RTP by the payload-type byte (RFC 5761 §4: 192..223 is RTCP,
 * i.e. packet types 64..95 with the marker bit). FALSE for a packet shorter than 2 bytes. */
gboolean ca_demux_is_rtcp (const guint8 *packet, gsize len);

G_END_DECLS

/* nat-wire: what crossed the NAT lab's internet, from a tcpdump capture of its bridge (classic
 * pcap, Ethernet). Pure: reads a file, counts. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint packets;     /* IPv4 frames read */
  guint dns;         /* UDP to or from port 53: the lab's resolver, plaintext by nature */
  guint stun;        /* RFC 7983 classes of the other UDP payloads */
  guint dtls;
  guint zrtp;        /* ZRTP (RFC 6189): key agreement for the SAS, never media */
  guint channel;     /* TURN ChannelData (RFC 8656 section 12.4); its inner payload is
                      * classified too */
  guint rtp;         /* SRTP-shaped: RTP/RTCP header, judged by plaintext_rtp below */
  guint other;       /* UDP of no known class */
  guint plaintext_rtp; /* RTP whose payload is not random: plain PCMU (silence is one byte) */
  guint plaintext_sip; /* "SIP/2.0" anywhere in a TCP or UDP payload */
  guint udp_5060;    /* UDP from or to port 5060 */
  guint tcp_segments; /* TCP segments with a payload */
  guint tcp_3478;    /* ... of which to or from port 3478 (TURN over TCP) */
} NatWireCount;

/* TRUE when an RTP packet's payload looks like plain PCMU/Opus rather than ciphertext: its
 * commonest byte fills more than a quarter of it. */
gboolean nat_wire_looks_plaintext (const guint8 *rtp, gsize len);

/* Counts @path's packets; with @only_host (an IPv4 address, may be NULL), only those from or
 * to it. FALSE with @error when the file is not a capture this reads. */
gboolean nat_wire_scan (const char *path, const char *only_host, NatWireCount *out,
                        GError **error);

G_END_DECLS

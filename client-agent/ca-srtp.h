/* ca-srtp: SRTP/SRTCP sessions (libsrtp2) keyed from a DTLS-SRTP handshake (RFC 5764). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CA_SRTP_ERROR (ca_srtp_error_quark ())
GQuark ca_srtp_error_quark (void);

typedef enum
{
  CA_SRTP_ERROR_INIT,   /* libsrtp could not be set up or keyed */
  CA_SRTP_ERROR_AUTH,   /* authentication failed (tampered or wrong key) */
  CA_SRTP_ERROR_REPLAY, /* replayed or too old */
  CA_SRTP_ERROR_PACKET, /* malformed, too short, or no room for the trailer */
  CA_SRTP_ERROR_LAST
} CaSrtpError;

/* The DTLS-SRTP protection profiles we offer, in our order of preference (RFC 7714, RFC 5764). */
typedef enum
{
  CA_SRTP_PROFILE_AEAD_AES_128_GCM,
  CA_SRTP_PROFILE_AES128_CM_SHA1_80,
  CA_SRTP_PROFILE_LAST
} CaSrtpProfile;

#define CA_SRTP_PROFILE_MASK(p) (1u << (p))
#define CA_SRTP_PROFILES_ALL    ((1u << CA_SRTP_PROFILE_LAST) - 1)

/* Room a caller must leave after a packet for ca_srtp_protect*(): tag, MKI and SRTCP index. */
#define CA_SRTP_MAX_TRAILER 148

/* The IANA/OpenSSL name, e.g. "SRTP_AEAD_AES_128_GCM". */
const char *ca_srtp_profile_to_string (CaSrtpProfile profile);
/* Maps the DTLS use_srtp profile id (RFC 5764 §4.1.2) to ours. */
gboolean ca_srtp_profile_from_id (gulong id, CaSrtpProfile *out);
/* Master key and salt lengths, and the length of the exported keying material
 * (2 * (key + salt), RFC 5764 §4.2). */
gsize ca_srtp_profile_key_len (CaSrtpProfile profile);
gsize ca_srtp_profile_salt_len (CaSrtpProfile profile);
gsize ca_srtp_profile_material_len (CaSrtpProfile profile);

typedef struct _CaSrtp CaSrtp;

/* Builds the outbound and inbound sessions from "EXTRACTOR-dtls_srtp" material laid out as
 * client key | server key | client salt | server salt. The DTLS client sends with the client
 * half and receives with the server half; the server does the opposite. The caller still owns
 * and wipes @material. */
CaSrtp *ca_srtp_new (CaSrtpProfile profile, gboolean is_dtls_client, const guint8 *material,
                     gsize material_len, GError **error);
void ca_srtp_free (CaSrtp *srtp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaSrtp, ca_srtp_free)

CaSrtpProfile ca_srtp_get_profile (CaSrtp *srtp);

/* Protect in place: @buf holds *@len bytes of RTP (RTCP) and has room for @buf_size bytes,
 * which must be at least *@len + CA_SRTP_MAX_TRAILER. On success *@len is the SRTP length. */
gboolean ca_srtp_protect (CaSrtp *srtp, guint8 *buf, gsize *len, gsize buf_size, GError **error);
gboolean ca_srtp_protect_rtcp (CaSrtp *srtp, guint8 *buf, gsize *len, gsize buf_size,
                               GError **error);
/* Unprotect in place; on success *@len is the plaintext length. A packet that fails
 * (CA_SRTP_ERROR_AUTH, _REPLAY) must be dropped. */
gboolean ca_srtp_unprotect (CaSrtp *srtp, guint8 *buf, gsize *len, GError **error);
gboolean ca_srtp_unprotect_rtcp (CaSrtp *srtp, guint8 *buf, gsize *len, GError **error);

G_END_DECLS

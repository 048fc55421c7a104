/* ca-sdp: the SDP of an end-to-end encrypted ICE audio call, as a pure description.
 *
 * Parsing and printing go through Sofia-SIP's SDP parser and printer; this module only reads
 * and writes the attributes we care about (RFC 8839 ICE, RFC 8122/5763 DTLS-SRTP, RFC 5761
 * rtcp-mux, RFC 7587 Opus, PCMU). No sockets, no loop: easy to test and to fuzz.
 *
 * Errors say what a SIP user agent should answer: ca_sdp_error_sip_status() gives 400 for SDP
 * that breaks a grammar and 488 for SDP that is well formed but not acceptable (no end-to-end
 * encryption, no common codec, too many candidates...). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CA_SDP_ERROR (ca_sdp_error_quark ())
GQuark ca_sdp_error_quark (void);

typedef enum {
  CA_SDP_ERROR_MALFORMED,          /* not SDP, or a line Sofia or we cannot read: 400 */
  CA_SDP_ERROR_TOO_LARGE,          /* body or line counts above our caps: 488 */
  CA_SDP_ERROR_NO_AUDIO,           /* no audio m-line with a profile we speak: 488 */
  CA_SDP_ERROR_UNENCRYPTED,        /* RTP/AVP or SDES without a DTLS fingerprint: 488 */
  CA_SDP_ERROR_NO_ICE_CREDENTIALS, /* a=ice-ufrag or a=ice-pwd missing: 488 */
  CA_SDP_ERROR_BAD_ICE_CREDENTIALS,/* RFC 8839 length or charset broken: 400 */
  CA_SDP_ERROR_TOO_MANY_CANDIDATES,/* above CA_SDP_MAX_CANDIDATES in one m-line: 488 */
  CA_SDP_ERROR_BAD_CANDIDATE,      /* an a=candidate that breaks RFC 8839's grammar: 400 */
  CA_SDP_ERROR_CANDIDATE_IGNORED,  /* well formed, but not for us (unknown transport...) */
  CA_SDP_ERROR_NO_FINGERPRINT,     /* DTLS profile without a sha-256 fingerprint: 488 */
  CA_SDP_ERROR_BAD_FINGERPRINT,    /* a=fingerprint unreadable: 400 */
  CA_SDP_ERROR_BAD_SETUP,          /* a=setup unknown, holdconn, or wrong for the role: 488 */
  CA_SDP_ERROR_NO_COMMON_CODEC,    /* neither opus/48000/2 nor PCMU/8000: 488 */
  CA_SDP_ERROR_LAST
} CaSdpError;

const char *ca_sdp_error_to_string (CaSdpError code);
/* 400 or 488 for a CA_SDP_ERROR, 500 for anything else (a bug, or another domain). */
guint ca_sdp_error_sip_status (const GError *error);

/* Caps against hostile offers (more -> refused, never truncated silently). */
#define CA_SDP_MAX_SIZE (64 * 1024)
#define CA_SDP_MAX_CANDIDATES 64
#define CA_SDP_MAX_MEDIA 8
#define CA_SDP_MAX_CODECS 16

/* ---- candidates (RFC 8839 §5.1, RFC 6544 tcptype) ---- */

typedef enum {
  CA_SDP_TRANSPORT_UDP,
  CA_SDP_TRANSPORT_TCP,
  CA_SDP_TRANSPORT_LAST
} CaSdpTransport;

typedef enum {
  CA_SDP_TCPTYPE_NONE, /* UDP */
  CA_SDP_TCPTYPE_ACTIVE,
  CA_SDP_TCPTYPE_PASSIVE,
  CA_SDP_TCPTYPE_SO,
  CA_SDP_TCPTYPE_LAST
} CaSdpTcpType;

typedef enum {
  CA_SDP_CANDIDATE_HOST,
  CA_SDP_CANDIDATE_SRFLX,
  CA_SDP_CANDIDATE_PRFLX,
  CA_SDP_CANDIDATE_RELAY,
  CA_SDP_CANDIDATE_LAST
} CaSdpCandidateType;

const char *ca_sdp_transport_to_string (CaSdpTransport t);
const char *ca_sdp_tcptype_to_string (CaSdpTcpType t);
const char *ca_sdp_candidate_type_to_string (CaSdpCandidateType t);

#define CA_SDP_ADDR_LEN 46 /* INET6_ADDRSTRLEN */

/* A plain value: copy it with '='. Addresses are numeric IPv4 or IPv6 (no brackets). */
typedef struct {
  char foundation[33]; /* 1*32 ice-char */
  guint component;     /* 1 (RTP) or 2 (RTCP without rtcp-mux) */
  CaSdpTransport transport;
  CaSdpTcpType tcptype;
  guint32 priority; /* 1 .. 2^31-1 */
  char address[CA_SDP_ADDR_LEN];
  guint16 port;
  CaSdpCandidateType type;
  gboolean has_related;
  char raddr[CA_SDP_ADDR_LEN];
  guint16 rport;
} CaSdpCandidate;

/* Reads one candidate: the value after "a=candidate:", with or without "a=candidate:" or
 * "candidate:" in front and a trailing CR/LF. TRUE and @out filled when usable. FALSE with
 * CA_SDP_ERROR_BAD_CANDIDATE when it breaks the grammar (the whole SDP is bad), or with
 * CA_SDP_ERROR_CANDIDATE_IGNORED when it is well formed but not for us: unknown transport or
 * type, TCP without tcptype, a host name (mDNS) address, priority 0 or above 2^31-1, component
 * above 2. @out is written only on success. */
gboolean ca_sdp_candidate_parse (const char *text, CaSdpCandidate *out, GError **error);

/* The attribute value ("1 1 udp 2130706431 192.0.2.1 5000 typ host"), without "candidate:". */
char *ca_sdp_candidate_to_string (const CaSdpCandidate *c);

/* ---- the media description ---- */

typedef enum {
  CA_SDP_PROFILE_UDP_TLS_RTP_SAVP,
  CA_SDP_PROFILE_UDP_TLS_RTP_SAVPF,
  CA_SDP_PROFILE_RTP_SAVP,  /* only with a fingerprint (Linphone's DTLS style) */
  CA_SDP_PROFILE_RTP_SAVPF,
  CA_SDP_PROFILE_RTP_AVP,   /* only with a fingerprint */
  CA_SDP_PROFILE_RTP_AVPF,
  CA_SDP_PROFILE_LAST
} CaSdpProfile;

typedef enum {
  CA_SDP_SETUP_ACTPASS,
  CA_SDP_SETUP_ACTIVE,
  CA_SDP_SETUP_PASSIVE,
  CA_SDP_SETUP_LAST
} CaSdpSetup;

typedef enum {
  CA_SDP_DIRECTION_SENDRECV,
  CA_SDP_DIRECTION_SENDONLY,
  CA_SDP_DIRECTION_RECVONLY,
  CA_SDP_DIRECTION_INACTIVE,
  CA_SDP_DIRECTION_LAST
} CaSdpDirection;

typedef enum {
  CA_SDP_CODEC_OPUS,            /* opus/48000/2 */
  CA_SDP_CODEC_PCMU,            /* PCMU/8000 */
  CA_SDP_CODEC_TELEPHONE_EVENT, /* telephone-event/8000 or /48000 */
  CA_SDP_CODEC_LAST
} CaSdpCodecKind;

typedef struct {
  CaSdpCodecKind kind;
  guint8 pt;   /* 0..127 */
  guint rate;  /* 48000 or 8000 */
  char *fmtp;  /* a=fmtp value after the payload type, or NULL */
} CaSdpCodec;

const char *ca_sdp_profile_to_string (CaSdpProfile p);
const char *ca_sdp_setup_to_string (CaSdpSetup s);
const char *ca_sdp_direction_to_string (CaSdpDirection d);
const char *ca_sdp_codec_kind_to_string (CaSdpCodecKind k);

/* One audio stream of a call. Fill it by hand to build, or get it from ca_sdp_parse(). */
typedef struct {
  /* o= line; 0 in session_id makes the builder pick a random one. */
  guint64 session_id;
  guint64 session_version;

  CaSdpProfile profile;
  CaSdpDirection direction;
  GArray *codecs; /* CaSdpCodec, in order of preference; owns each fmtp */

  char *ice_ufrag; /* 4..256 ice-char */
  char *ice_pwd;   /* 22..256 ice-char; a secret: wiped on free, never logged */
  gboolean ice_lite;
  gboolean ice_trickle;       /* a=ice-options:trickle */
  GArray *candidates;         /* CaSdpCandidate */
  gboolean end_of_candidates; /* a=end-of-candidates */
  guint ignored_candidates;   /* parse only: well formed but not for us */

  gboolean has_fingerprint;
  guint8 fingerprint[32]; /* sha-256 of the DTLS certificate */
  CaSdpSetup setup;
  gboolean rtcp_mux;
  char *zrtp_hash; /* a=zrtp-hash value ("1.10 <hex>") or NULL */

  /* parse only: the m-line's index, and every m-line as "type proto fmt" so an answer can
   * reject the others (RFC 3264 §6: same number of m-lines, port 0). */
  guint audio_index;
  GPtrArray *mlines;
} CaSdpMedia;

CaSdpMedia *ca_sdp_media_new (void);
void ca_sdp_media_free (CaSdpMedia *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaSdpMedia, ca_sdp_media_free)

void ca_sdp_media_add_codec (CaSdpMedia *m, CaSdpCodecKind kind, guint8 pt, guint rate,
                             const char *fmtp);
void ca_sdp_media_add_candidate (CaSdpMedia *m, const CaSdpCandidate *c);
const CaSdpCodec *ca_sdp_media_find_codec (const CaSdpMedia *m, CaSdpCodecKind kind);

/* "AB:CD:..." (upper-case, 95 characters; the form of sotto_tls_fingerprint_sha256) into
 * @m->fingerprint. Hex may be either case. */
gboolean ca_sdp_media_set_fingerprint (CaSdpMedia *m, const char *hex, GError **error);
char *ca_sdp_media_fingerprint_string (const CaSdpMedia *m);

/* Reads an offer or an answer: the first audio m-line we can use. Strict: every error above.
 * @out is written only on success. */
gboolean ca_sdp_parse (const char *text, gsize len, CaSdpMedia **out, GError **error);

/* Our offer. @local->setup must be actpass (RFC 5763 §5). c= and the m= port carry the default
 * candidate (relay, then srflx, then host), or 0.0.0.0 and 9 when there is none yet. */
char *ca_sdp_build_offer (const CaSdpMedia *local, GError **error);

/* Our answer to @offer (from ca_sdp_parse). @local carries our ICE, fingerprint, setup (active
 * or passive; never actpass) and the codecs we accept; the answer keeps the offer's payload
 * types and order for the common ones, and a=rtcp-mux only when both want it (RFC 5761 §5.1.1).
 * Other m-lines of the offer are rejected with port 0. */
char *ca_sdp_build_answer (const CaSdpMedia *local, const CaSdpMedia *offer, GError **error);

/* The a=setup an answerer takes (RFC 5763 §5): active to actpass or passive, passive to active. */
CaSdpSetup ca_sdp_setup_for_answer (CaSdpSetup offered);

/* Checks a parsed answer against the offer we sent: setup active or passive, codecs among ours.
 * Gives the DTLS role: TRUE when we are the DTLS client. */
gboolean ca_sdp_check_answer (const CaSdpMedia *offer, const CaSdpMedia *answer,
                              gboolean *out_dtls_client, GError **error);

G_END_DECLS

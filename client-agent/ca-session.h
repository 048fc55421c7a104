/* ca-session: the media side of one call, end to end encrypted.
 *
 * It ties the blocks together: the SDP offer/answer (ca-sdp), ICE (ca-ice), DTLS-SRTP over the
 * selected ICE pair (ca-dtls, ca-srtp, RFC 7983 demux) and the audio (ca-media). The SIP layer
 * only carries the SDP text it produces and consumes.
 *
 * The rule it keeps: an RTP packet reaches ICE only after SRTP protected it. Before DTLS has
 * keyed SRTP, and after anything failed, media packets are dropped in memory.
 *
 * Offerer (caller):  new(OFFERER) -> GATHERING -> local_sdp(offer) -> set_remote_sdp(answer)
 * Answerer (callee): new(ANSWERER) -> set_remote_sdp(offer) -> GATHERING -> local_sdp(answer)
 *                    -> start() when the user answers
 * then CONNECTING (ICE) -> SECURING (DTLS) -> ACTIVE (audio) ... CLOSED or FAILED. */
#pragma once

#include <glib.h>

#include "ca-dtls-cert.h"
#include "ca-ice.h"
#include "ca-media.h"

G_BEGIN_DECLS

#define CA_SESSION_ERROR (ca_session_error_quark ())
GQuark ca_session_error_quark (void);

typedef enum
{
  CA_SESSION_ERROR_SDP,         /* the peer's SDP is unusable; see ca_session_error_sip_status */
  CA_SESSION_ERROR_ICE,         /* no path: checks failed or consent lost */
  CA_SESSION_ERROR_FINGERPRINT, /* the DTLS certificate does not match the SDP fingerprint */
  CA_SESSION_ERROR_DTLS,        /* handshake failure or timeout */
  CA_SESSION_ERROR_MEDIA,       /* the audio pipeline failed */
  CA_SESSION_ERROR_LAST
} CaSessionError;

typedef enum
{
  CA_SESSION_STATE_NEW,
  CA_SESSION_STATE_GATHERING,
  CA_SESSION_STATE_NEGOTIATING, /* our SDP is out; waiting for the answer or the user */
  CA_SESSION_STATE_CONNECTING,  /* ICE checks */
  CA_SESSION_STATE_SECURING,    /* DTLS handshake on the selected pair */
  CA_SESSION_STATE_ACTIVE,      /* SRTP keyed, audio flowing */
  CA_SESSION_STATE_FAILED,      /* terminal: ca_session_get_error() */
  CA_SESSION_STATE_CLOSED,      /* terminal */
  CA_SESSION_STATE_LAST
} CaSessionState;

const char *ca_session_state_to_string (CaSessionState state);

typedef enum
{
  CA_SESSION_OFFERER,
  CA_SESSION_ANSWERER,
  CA_SESSION_ROLE_LAST
} CaSessionRole;

typedef struct _CaSession CaSession;

/* Our SDP (offer or answer) is ready to go into SIP. */
typedef void (*CaSessionSdpFunc) (CaSession *session, const char *sdp, gpointer user_data);
typedef void (*CaSessionStateFunc) (CaSession *session, CaSessionState state,
                                    gpointer user_data);

typedef struct
{
  GMainContext *context;
  CaSessionRole role;
  CaDtlsCert *cert;               /* the agent's DTLS identity; the session takes a ref */
  /* ICE */
  gboolean force_relay;
  gboolean ice_tcp;
  const char *stun_address;       /* numeric */
  guint16 stun_port;
  const CaIceTurnServer *turn;
  guint n_turn;
  const char *const *local_addresses;
  /* audio */
  const CaMediaCodec *codecs;     /* preference order; NULL: opus then pcmu */
  guint n_codecs;
  const char *play_path;
  const char *record_path;
  gboolean silent_source;
  /* ZRTP (RFC 6189) for a Short Authentication String, bound to the DTLS session: the ZID
   * cache file, our AOR and the peer's. NULL cache: no ZRTP. It runs only when the peer's SDP
   * carries a=zrtp-hash too. */
  const char *zrtp_cache_path;
  const char *self_uri;
  const char *peer_uri;
  CaSessionSdpFunc local_sdp;     /* required */
  /* Optional: an ICE restart offer to send in a re-INVITE. The session restarts ICE when, in
   * ACTIVE, nothing has come from the peer for a while or consent was lost (RFC 7675), as after
   * a NAT rebinding; NULL: no restarts, a lost path ends the call. */
  CaSessionSdpFunc reoffer;
  CaSessionStateFunc state_changed;
  gpointer user_data;
} CaSessionConfig;

CaSession *ca_session_new (const CaSessionConfig *config, GError **error);
CaSession *ca_session_ref (CaSession *session);
void ca_session_unref (CaSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaSession, ca_session_unref)

/* The offerer starts gathering here; the answerer after its offer is set. */
gboolean ca_session_start_offer (CaSession *session, GError **error);
/* The peer's SDP: the offer (answerer) or the answer (offerer). FALSE with the CA_SDP_ERROR
 * that makes it unusable (or CA_SESSION_ERROR_SDP when it comes at the wrong time); nothing
 * changes then, so the caller can answer 488/400 or hang up. */
gboolean ca_session_set_remote_sdp (CaSession *session, const char *sdp, GError **error);
/* Answerer only: the user accepted the call; ICE checks and DTLS may now run. */
gboolean ca_session_accept (CaSession *session, GError **error);
/* ICE restarts (RFC 8445 §9, RFC 8839 §4.4.1.1.1) in an established call. DTLS, SRTP and
 * ZRTP carry on: a new description must keep the DTLS fingerprint and roles, the codec and its
 * payload type, or it is refused (CA_SDP_ERROR, for ca_session_error_sip_status).
 *
 * The peer's new offer (a re-INVITE): returns our answer, restarting ICE when the offer's ICE
 * credentials are new, or NULL with the error to refuse it with. Nothing changes on error. */
char *ca_session_answer_reoffer (CaSession *session, const char *sdp, GError **error);
/* Restarts ICE now (in ACTIVE, with a reoffer callback, none pending): the offer comes to
 * reoffer before this returns. The session also does this by itself on silence. */
gboolean ca_session_restart_ice (CaSession *session, const char *why, GError **error);
/* This host's network changed: when the call's path lost its local address, restart ICE at
 * once with freshly gathered candidates (the offer follows when they are there). The silence
 * watchdog would get there too, a few seconds later. */
gboolean ca_session_network_changed (CaSession *session); /* TRUE: the path's address is gone */
/* The answer to our reoffer. FALSE with the reason when it is unusable; the restart is then
 * abandoned and tried again later. */
gboolean ca_session_set_reanswer (CaSession *session, const char *sdp, GError **error);
/* Our reoffer got no answer: @status 491 (glare: retried after RFC 3261 §14.1's delay), or
 * any other failure (tried again later, until the session gives up). */
void ca_session_reoffer_failed (CaSession *session, guint status);

/* -> CLOSED; stops the audio (finalizing a recording) and frees ICE. No callback after. */
void ca_session_close (CaSession *session);

/* The users compared the SAS and it matched (TRUE), or they want to forget it (FALSE).
 * FALSE with an error when this call has no SAS yet. */
gboolean ca_session_set_sas_verified (CaSession *session, gboolean verified, GError **error);

/* 400 or 488 for an error from ca_session_set_remote_sdp() (ca_sdp_error_sip_status). */
guint ca_session_error_sip_status (const GError *error);

CaSessionState ca_session_get_state (CaSession *session);
const GError *ca_session_get_error (CaSession *session);

/* What a user may ask: a{sv} with "path" (host, srflx, relay, or "" before ICE), "local",
 * "remote" ("addr:port/udp typ host"), "suite" (e.g. "DTLS-SRTP SRTP_AEAD_AES_128_GCM"),
 * "codec", "peer-fingerprint", "fingerprint-verified" (b: the peer's DTLS certificate matched
 * the SDP; says nothing about who holds it: that is what the SAS is for), "zrtp" (off,
 * running, secure, failed), "sas" (4 characters to compare aloud, "" before), "sas-verified"
 * (b: both users confirmed it, in this or an earlier call), "zrtp-dtls-binding" (match,
 * mismatch, unknown: whether ZRTP saw the same DTLS session on both ends), "key-verified" (b:
 * SAS verified and binding matched: no one in the middle), "packets-sent", "bytes-sent", "packets-received",
 * "bytes-received", "packets-lost" (t), "jitter-ms", "rtt-ms" (d; -1 when unknown),
 * "setup-ms" (d: from creation to the first decoded audio, -1 before), "ice-restarts" (u: ICE
 * restarts begun in this call, by either side). Floating. */
GVariant *ca_session_get_info (CaSession *session);

G_END_DECLS

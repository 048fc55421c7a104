/* ca-sip: the agent's SIP side on Sofia-SIP's nua, over TLS only.
 *
 * One registration (RFC 3261 + RFC 5626 outbound: +sip.instance, reg-id, CRLF keepalives over
 * the TLS connection, refresh before expiry, reconnect with back-off), Digest with SHA-256
 * preferred over MD5, the server certificate verified against a pinned CA by DNS name, and
 * calls: INVITE out (with the SDP offer), INVITE in (the SDP offer handed up), answer,
 * reject, CANCEL, BYE. It never looks inside SDP: bodies go up and down as opaque text.
 * Sofia runs on the given GMainContext through su_glib. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CA_SIP_ERROR (ca_sip_error_quark ())
GQuark ca_sip_error_quark (void);

typedef enum
{
  CA_SIP_ERROR_SETUP,     /* nua or TLS could not start (cert dir, CA, bind) */
  CA_SIP_ERROR_ARGUMENT,  /* a bad URI, or a call id that does not exist / wrong state */
  CA_SIP_ERROR_LAST
} CaSipError;

typedef enum
{
  CA_SIP_REG_IDLE,
  CA_SIP_REG_REGISTERING,
  CA_SIP_REG_REGISTERED,
  CA_SIP_REG_FAILED,   /* a final failure (403, auth refused, TLS verification): no retry */
  CA_SIP_REG_RETRYING, /* lost or refused transiently; retries with back-off */
  CA_SIP_REG_LAST
} CaSipRegState;

const char *ca_sip_reg_state_to_string (CaSipRegState state);

typedef enum
{
  CA_SIP_CALL_CALLING,    /* INVITE sent, no answer yet */
  CA_SIP_CALL_RINGING,    /* 180/183 */
  CA_SIP_CALL_INCOMING,   /* INVITE received, not answered */
  CA_SIP_CALL_CONNECTED,  /* 200 sent or received and ACKed */
  CA_SIP_CALL_ENDED,      /* terminal: see the status and reason */
  CA_SIP_CALL_LAST
} CaSipCallState;

const char *ca_sip_call_state_to_string (CaSipCallState state);

typedef struct _CaSip CaSip;

/* The account's registration changed. @status/@phrase: the last SIP final response (0 if
 * none, e.g. a transport failure: then @phrase says what). */
typedef void (*CaSipRegFunc) (CaSip *sip, CaSipRegState state, guint status,
                              const char *phrase, gpointer user_data);
/* The value of the X-Sotto-Turn header of a REGISTER 200 OK (turn-glue), when present. */
typedef void (*CaSipTurnFunc) (CaSip *sip, const char *x_sotto_turn, gpointer user_data);
/* A call changed state. @sdp: the peer's body when this event carried one (an incoming offer
 * in INCOMING, the answer in CONNECTED), else NULL. In ENDED, @status is the SIP status that
 * ended it (e.g. 486, 603, 404, 480, 487, 488, or 200 for a BYE) and @reason a readable
 * sentence, including the Reason header's text when the peer sent one. */
typedef void (*CaSipCallFunc) (CaSip *sip, guint call_id, CaSipCallState state, guint status,
                               const char *reason, const char *sdp, gpointer user_data);

/* A new offer in an established call (a re-INVITE, RFC 3261 §14), e.g. an ICE restart:
 * OFFER: the peer sent one (@sdp); answer with ca_sip_reoffer_reply(). ANSWERED: ours got a
 * 2xx with @sdp. REFUSED: ours failed with @status (491 when it crossed the peer's, §14.1);
 * the call goes on unless the status ends the dialog (then ENDED follows). */
typedef enum
{
  CA_SIP_REOFFER_OFFER,
  CA_SIP_REOFFER_ANSWERED,
  CA_SIP_REOFFER_REFUSED,
  CA_SIP_REOFFER_LAST
} CaSipReofferEvent;

typedef void (*CaSipReofferFunc) (CaSip *sip, guint call_id, CaSipReofferEvent event,
                                  guint status, const char *sdp, gpointer user_data);

typedef struct
{
  GMainContext *context;   /* NULL: the default context (su_glib attaches there) */
  const char *aor;         /* "sips:alice@example.org" */
  const char *registrar;   /* "sips:host:port": host is the DNS name the certificate carries */
  const char *username;    /* Digest user; NULL: the AOR's user part */
  const char *password;    /* Digest password (copied, wiped on free) */
  const char *ca_file;     /* PEM CA(s) to pin; NULL: the system store */
  const char *state_dir;   /* 0700 dir for Sofia's TLS files (agent.pem, cafile.pem) */
  const char *instance_id; /* "urn:uuid:..." for +sip.instance; NULL: a fresh one */
  guint expires_s;         /* REGISTER expiry asked for; 0: 600 */
  guint keepalive_s;       /* RFC 5626 CRLF keepalive interval; 0: 30 */
  CaSipRegFunc reg_changed;
  CaSipTurnFunc turn_received;
  CaSipCallFunc call_changed;
  CaSipReofferFunc reoffer_changed; /* NULL: re-INVITEs are refused with 488 */
  gpointer user_data;
} CaSipConfig;

CaSip *ca_sip_new (const CaSipConfig *config, GError **error);
void ca_sip_free (CaSip *sip); /* unregisters (bounded wait), then tears nua down */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaSip, ca_sip_free)

/* Starts registering; the state callback reports progress. */
gboolean ca_sip_start (CaSip *sip, GError **error);
/* Re-registers at once on a fresh connection (a network change). */
void ca_sip_reregister (CaSip *sip);
/* Shuts down every TCP connection of this process whose local address the host no longer has
 * (see ca-sip-stale.c); returns how many. Call it on a network change, before registering. */
guint ca_sip_shutdown_stale_connections (void);
CaSipRegState ca_sip_get_reg_state (CaSip *sip);

/* An INVITE to @target ("sips:bob@example.org", or just "bob", taken in our domain) with an
 * SDP offer. Returns the new call id (> 0), or 0 with an error. */
guint ca_sip_call (CaSip *sip, const char *target, const char *sdp_offer, GError **error);
/* 200 with our SDP answer for an INCOMING call. */
gboolean ca_sip_answer (CaSip *sip, guint call_id, const char *sdp_answer, GError **error);
/* Declines an INCOMING call (e.g. 486, 488 with @reason in a Reason/Warning header, 603). */
gboolean ca_sip_reject (CaSip *sip, guint call_id, guint status, const char *reason,
                        GError **error);
/* CANCEL before an answer, BYE after; @reason (may be NULL) goes in a Reason header
 * (RFC 3326), e.g. "DTLS fingerprint mismatch". */
gboolean ca_sip_hangup (CaSip *sip, guint call_id, const char *reason, GError **error);

/* A re-INVITE with a new SDP offer in a CONNECTED call; the outcome comes to
 * reoffer_changed. One at a time, and not while the peer's is unanswered. */
gboolean ca_sip_reoffer (CaSip *sip, guint call_id, const char *sdp_offer, GError **error);
/* Our reply to the peer's re-INVITE: 200 with @sdp_answer, or an error @status (e.g. 488,
 * with @reason in Reason and Warning headers) that leaves the call as it was. */
gboolean ca_sip_reoffer_reply (CaSip *sip, guint call_id, guint status, const char *sdp_answer,
                               const char *reason, GError **error);

/* The peer's URI for a call ("sips:bob@example.org"), owned by @sip, or NULL. */
const char *ca_sip_call_get_peer (CaSip *sip, guint call_id);

G_END_DECLS

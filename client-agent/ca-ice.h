/* ca-ice: one libnice agent per call (RFC 8445 mode), one stream, one component (rtcp-mux).
 *
 * Gathers host, server-reflexive (STUN) and relayed (TURN over UDP and TCP) candidates,
 * exchanges them as CaSdpCandidate values, runs the connectivity checks with consent
 * freshness (RFC 7675) on, and carries datagrams once a pair is selected. Everything runs on
 * the given GMainContext; callbacks come from that context only. */
#pragma once

#include <glib.h>

#include "ca-sdp.h"

G_BEGIN_DECLS

#define CA_ICE_ERROR (ca_ice_error_quark ())
GQuark ca_ice_error_quark (void);

typedef enum
{
  CA_ICE_ERROR_SETUP,    /* libnice refused the agent, stream, or a server address */
  CA_ICE_ERROR_REMOTE,   /* remote credentials or candidates unusable */
  CA_ICE_ERROR_FAILED,   /* checks failed, or consent was lost */
  CA_ICE_ERROR_LAST
} CaIceError;

typedef enum
{
  CA_ICE_STATE_NEW,
  CA_ICE_STATE_GATHERING,
  CA_ICE_STATE_GATHERED,  /* local candidates complete (end-of-candidates) */
  CA_ICE_STATE_CHECKING,  /* remote side known, checks running */
  CA_ICE_STATE_CONNECTED, /* a pair is selected; ca_ice_send() works */
  /* Consent to send was lost (RFC 7675), or the checks after an ICE restart found no pair:
   * nothing may be sent. Not terminal: ca_ice_restart() and a new remote description may
   * find a path again; ca_ice_get_error() says what happened. */
  CA_ICE_STATE_DISCONNECTED,
  CA_ICE_STATE_FAILED,    /* terminal; ca_ice_get_error() says why */
  CA_ICE_STATE_CLOSED,    /* terminal */
  CA_ICE_STATE_LAST
} CaIceState;

const char *ca_ice_state_to_string (CaIceState state);

typedef enum
{
  CA_ICE_TURN_UDP,
  CA_ICE_TURN_TCP, /* plain TCP to the TURN server: libnice has no TLS for TURN */
  CA_ICE_TURN_LAST
} CaIceTurnTransport;

typedef struct
{
  char *address; /* numeric IPv4 or IPv6: resolve names before */
  guint16 port;
  CaIceTurnTransport transport;
  char *username;
  char *password;
} CaIceTurnServer;

typedef struct _CaIce CaIce;

/* One datagram from the selected pair (STUN already consumed by libnice). */
typedef void (*CaIceRecvFunc) (CaIce *ice, const guint8 *data, gsize len, gpointer user_data);
/* Once per state change, after the object is consistent. May call ca_ice_close(). */
typedef void (*CaIceStateFunc) (CaIce *ice, CaIceState state, gpointer user_data);

typedef struct
{
  GMainContext *context;        /* NULL: thread-default */
  gboolean controlling;         /* the offerer controls (RFC 8445 §6.1.1) */
  gboolean force_relay;         /* only relayed candidates leave this host */
  gboolean ice_tcp;             /* also ICE-TCP host candidates (default FALSE) */
  const char *stun_address;     /* numeric; NULL: no STUN */
  guint16 stun_port;
  const CaIceTurnServer *turn;  /* n_turn entries */
  guint n_turn;
  /* Numeric addresses to gather host candidates on; NULL: every interface libnice finds
   * (it skips loopback unless nothing else exists). Tests and the NAT lab set it. */
  const char *const *local_addresses;
  guint consent_timeout_s;      /* informational; libnice's consent freshness is used */
  CaIceRecvFunc recv;           /* required */
  CaIceStateFunc state_changed; /* optional */
  gpointer user_data;
} CaIceConfig;

CaIce *ca_ice_new (const CaIceConfig *config, GError **error);
CaIce *ca_ice_ref (CaIce *ice);
void ca_ice_unref (CaIce *ice);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaIce, ca_ice_unref)

/* NEW -> GATHERING; GATHERED when every candidate is known (no trickle over SIP). */
gboolean ca_ice_gather (CaIce *ice, GError **error);

/* Our ice-ufrag / ice-pwd (owned by @ice, valid until it is freed). */
const char *ca_ice_get_local_ufrag (CaIce *ice);
const char *ca_ice_get_local_pwd (CaIce *ice);
/* In GATHERED or later: our candidates, in a fresh array of CaSdpCandidate. */
GArray *ca_ice_get_local_candidates (CaIce *ice);

/* The peer's credentials and candidates from its SDP: -> CHECKING. Candidates libnice cannot
 * use are skipped with a debug line; none usable fails with CA_ICE_ERROR_REMOTE. */
gboolean ca_ice_set_remote (CaIce *ice, const char *ufrag, const char *pwd,
                            const CaSdpCandidate *candidates, guint n_candidates,
                            GError **error);

/* An ICE restart (RFC 8445 §9; RFC 8839 §4.4.1.1.1): new local ufrag and password, the
 * peer's candidates forgotten, the local candidates kept. In CONNECTED the selected pair keeps
 * carrying media until the checks with the peer's new description (ca_ice_set_remote() again)
 * select another; in DISCONNECTED nothing is sent until then. The new credentials go in a new
 * offer or answer with ca_ice_get_local_candidates(). FALSE in any other state. */
gboolean ca_ice_restart (CaIce *ice, GError **error);

/* An ICE restart with new candidates too, for when this host's addresses changed (another
 * network): the stream is replaced by a new one (new sockets, new TURN allocations, new
 * credentials) and gathered again. CONNECTED or DISCONNECTED -> GATHERING -> GATHERED, then
 * ca_ice_set_remote() with the peer's new description as for a first call. Nothing is sent
 * until a new pair is selected. With no address to gather on: FALSE, DISCONNECTED, and a later
 * regather may succeed. */
gboolean ca_ice_regather (CaIce *ice, GError **error);
/* TRUE when the selected pair's local address (its base) is no longer one of this host's, or
 * the last regather found no address (then DISCONNECTED): a plain restart could not help,
 * only ca_ice_regather(). */
gboolean ca_ice_local_base_gone (CaIce *ice);

/* One datagram on the selected pair. FALSE (no error) when not CONNECTED or libnice would
 * block; the datagram is then dropped, as a lossy network would. */
gboolean ca_ice_send (CaIce *ice, const guint8 *data, gsize len);

typedef struct
{
  CaSdpCandidateType local_type; /* host, srflx, prflx, relay */
  CaSdpCandidateType remote_type;
  CaSdpTransport transport;
  char local_address[CA_SDP_ADDR_LEN];
  guint16 local_port;
  char remote_address[CA_SDP_ADDR_LEN];
  guint16 remote_port;
} CaIcePair;

/* In CONNECTED: the selected pair. FALSE otherwise; @out is written only on TRUE. */
gboolean ca_ice_get_selected_pair (CaIce *ice, CaIcePair *out);
/* The path kind users see: "relay" if either end is relayed, else "srflx" if either end is
 * server- or peer-reflexive, else "host". */
const char *ca_ice_pair_path_kind (const CaIcePair *pair);

CaIceState ca_ice_get_state (CaIce *ice);
const GError *ca_ice_get_error (CaIce *ice);
/* Stops the checks and frees libnice's agent; -> CLOSED; no callback afterwards. */
void ca_ice_close (CaIce *ice);

G_END_DECLS

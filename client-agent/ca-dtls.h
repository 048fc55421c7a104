/* ca-dtls: one DTLS-SRTP endpoint per call (RFC 5763, RFC 5764) over OpenSSL memory BIOs.
 *
 * Datagrams come in through ca_dtls_feed() and go out through the send callback; the ICE layer
 * sits on both ends. Retransmission timers run on the given GMainContext. Once the handshake is
 * over, the peer certificate must hash to the SDP's a=fingerprint, and only then are the SRTP
 * keys exported and the state CONNECTED. */
#pragma once

#include <glib.h>

#include "ca-dtls-cert.h"
#include "ca-srtp.h"

G_BEGIN_DECLS

#define CA_DTLS_ERROR (ca_dtls_error_quark ())
GQuark ca_dtls_error_quark (void);

typedef enum
{
  CA_DTLS_ERROR_SETUP,       /* OpenSSL could not build the endpoint */
  CA_DTLS_ERROR_FINGERPRINT, /* malformed, or the peer certificate does not match */
  CA_DTLS_ERROR_HANDSHAKE,   /* a TLS alert or protocol failure */
  CA_DTLS_ERROR_TIMEOUT,     /* no handshake within the deadline */
  CA_DTLS_ERROR_NO_SRTP,     /* the peer negotiated none of our SRTP profiles */
  CA_DTLS_ERROR_LAST
} CaDtlsError;

typedef enum
{
  CA_DTLS_ROLE_ACTIVE,  /* DTLS client: a=setup:active */
  CA_DTLS_ROLE_PASSIVE, /* DTLS server: a=setup:passive */
  CA_DTLS_ROLE_LAST
} CaDtlsRole;

typedef enum
{
  CA_DTLS_STATE_NEW,
  CA_DTLS_STATE_CONNECTING, /* handshaking, or done and waiting for the remote fingerprint */
  CA_DTLS_STATE_CONNECTED,  /* fingerprint verified, SRTP keyed */
  CA_DTLS_STATE_FAILED,     /* terminal; ca_dtls_get_error() says why */
  CA_DTLS_STATE_CLOSED,     /* terminal; either side closed */
  CA_DTLS_STATE_LAST
} CaDtlsState;

const char *ca_dtls_role_to_string (CaDtlsRole role);
const char *ca_dtls_state_to_string (CaDtlsState state);

/* Our role from the peer's a=setup value (RFC 5763 §5, RFC 4145 §4): "active" makes us
 * passive; "passive" and "actpass" make us active. FALSE for "holdconn" or anything else. */
gboolean ca_dtls_role_from_remote_setup (const char *remote_setup, CaDtlsRole *out);
/* The a=setup value that announces @role: "active" or "passive". */
const char *ca_dtls_role_to_setup (CaDtlsRole role);

typedef struct _CaDtls CaDtls;

/* Sends one datagram; called from inside ca_dtls_start/feed/close and from timers, after the
 * endpoint is consistent. It may feed the peer synchronously. */
typedef void (*CaDtlsSendFunc) (CaDtls *dtls, const guint8 *data, gsize len, gpointer user_data);
/* Called once per state change, after the endpoint is consistent. It may call ca_dtls_close()
 * and drop its reference. */
typedef void (*CaDtlsStateFunc) (CaDtls *dtls, CaDtlsState state, gpointer user_data);

typedef struct
{
  CaDtlsCert *cert;               /* required; the endpoint takes a reference */
  CaDtlsRole role;
  guint profiles;                 /* CA_SRTP_PROFILE_MASK() bits; 0 offers all, GCM first */
  guint handshake_timeout_ms;     /* 0: 20 s */
  GMainContext *context;          /* NULL: the thread-default context */
  CaDtlsSendFunc send;            /* required */
  CaDtlsStateFunc state_changed;  /* optional */
  gpointer user_data;
} CaDtlsConfig;

CaDtls *ca_dtls_new (const CaDtlsConfig *config, GError **error);
CaDtls *ca_dtls_ref (CaDtls *dtls);
void ca_dtls_unref (CaDtls *dtls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaDtls, ca_dtls_unref)

/* The peer's "a=fingerprint:sha-256" value. It may come after the handshake has started, or
 * even finished (an answer can trail the first DTLS flight): the endpoint then waits in
 * CONNECTING and checks it here. FALSE only if @fingerprint is malformed. */
gboolean ca_dtls_set_remote_fingerprint (CaDtls *dtls, const char *fingerprint, GError **error);

/* NEW -> CONNECTING. The active side sends its ClientHello now. Feeding a datagram in NEW
 * starts the endpoint too. */
void ca_dtls_start (CaDtls *dtls);
/* One datagram from the peer. Anything that is not DTLS (RFC 7983) is ignored, and so is a
 * record OpenSSL cannot authenticate. */
void ca_dtls_feed (CaDtls *dtls, const guint8 *data, gsize len);
/* Sends close_notify if the handshake finished, goes to CLOSED (unless already terminal) and
 * detaches: no callback is called afterwards. */
void ca_dtls_close (CaDtls *dtls);

CaDtlsState ca_dtls_get_state (CaDtls *dtls);
CaDtlsRole ca_dtls_get_role (CaDtls *dtls);
/* Why the endpoint FAILED (or NULL). Owned by the endpoint. */
const GError *ca_dtls_get_error (CaDtls *dtls);
/* In CONNECTED: @len bytes of RFC 5705 keying material under @label, unique to this DTLS
 * session: the handshake must have used the extended master secret (RFC 7627), checked here.
 * sotto-agentd binds ZRTP to the DTLS session with it (ca-session). */
gboolean ca_dtls_export (CaDtls *dtls, const char *label, guint8 *out, gsize len,
                         GError **error);

/* In CONNECTED: the SRTP sessions, owned by the endpoint (NULL before). */
CaSrtp *ca_dtls_get_srtp (CaDtls *dtls);

G_END_DECLS

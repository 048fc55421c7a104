/* tg-probe: blocking STUN/TURN client probes with deadlines, over UDP, TCP and TLS.
 *
 * Used by `sotto-turn run` (are coturn's listeners answering?) and `sotto-turn check` (can
 * this network and these credentials use the relay?). Every call takes an absolute deadline
 * on the monotonic clock (g_get_monotonic_time() microseconds) and never blocks past it.
 * Name resolution goes through getaddrinfo(), which has no deadline of its own.
 *
 * TLS verifies the server's certificate against @ca_file (or the system store) and the DNS
 * name in @tls_name (default: @host); an IP literal is checked against IP SANs instead. */
#pragma once

#include <glib.h>

#include "tg-stun.h"

G_BEGIN_DECLS

#define TG_PROBE_ERROR (tg_probe_error_quark ())
GQuark tg_probe_error_quark (void);

typedef enum
{
  TG_PROBE_ERROR_RESOLVE,  /* no address for the name */
  TG_PROBE_ERROR_CONNECT,  /* refused, unreachable, reset */
  TG_PROBE_ERROR_TIMEOUT,  /* no answer before the deadline */
  TG_PROBE_ERROR_TLS,      /* handshake or certificate verification failed */
  TG_PROBE_ERROR_PROTOCOL, /* an answer that is not the expected STUN response */
  TG_PROBE_ERROR_LAST
} TgProbeErrorCode;

typedef enum
{
  TG_PROBE_UDP,
  TG_PROBE_TCP,
  TG_PROBE_TLS,
  TG_PROBE_TRANSPORT_LAST
} TgProbeTransport;

const char *tg_probe_transport_to_string (TgProbeTransport transport);

typedef struct
{
  TgProbeTransport transport;
  const char *host;     /* DNS name or IP literal */
  guint16 port;
  const char *ca_file;  /* TLS: NULL for the system store */
  const char *tls_name; /* TLS: name to verify and send as SNI; NULL: @host */
  gboolean no_verify;   /* TLS: skip certificate checks (only `run`, probing its own child) */
} TgProbeTarget;

/* A STUN error response the server sent: the GError code is the STUN code (401, 403, 486...)
 * and the message carries the server's reason phrase. */
#define TG_PROBE_STUN_ERROR (tg_probe_stun_error_quark ())
GQuark tg_probe_stun_error_quark (void);

/* A connection to a STUN/TURN server: a connected UDP socket, a TCP stream or a TLS stream. */
typedef struct _TgProbeConn TgProbeConn;

TgProbeConn *tg_probe_conn_open (const TgProbeTarget *target, gint64 deadline, GError **error);
void tg_probe_conn_free (TgProbeConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgProbeConn, tg_probe_conn_free)
/* "127.0.0.1:3478": the address actually connected to. */
const char *tg_probe_conn_peer (const TgProbeConn *conn);

/* Sends @request and returns the first well-formed response with its transaction id. Over
 * UDP the request is retransmitted (RFC 8489 §6.2.1: RTO 250 ms doubling) until @deadline. */
TgStunMessage *tg_probe_conn_transact (TgProbeConn *conn, GBytes *request, gint64 deadline,
                                       GError **error);

/* One Binding request on a fresh connection; @mapped (optional) gets XOR-MAPPED-ADDRESS. */
gboolean tg_probe_binding (const TgProbeTarget *target, gint64 deadline, TgStunAddress *mapped,
                           GError **error);

/* A TURN allocation (RFC 8656 §7) made with long-term credentials through the 401 challenge
 * (and one retry on 438 Stale Nonce). It lives as long as its connection. */
typedef struct _TgProbeTurn TgProbeTurn;

TgProbeTurn *tg_probe_turn_allocate (const TgProbeTarget *target, const char *username,
                                     const char *password, gint64 deadline, GError **error);
/* Releases the allocation (Refresh with LIFETIME 0, best effort until @deadline) and frees. */
void tg_probe_turn_release (TgProbeTurn *turn, gint64 deadline);
void tg_probe_turn_free (TgProbeTurn *turn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgProbeTurn, tg_probe_turn_free)

const TgStunAddress *tg_probe_turn_relayed (const TgProbeTurn *turn);
const TgStunAddress *tg_probe_turn_mapped (const TgProbeTurn *turn);
guint32 tg_probe_turn_lifetime (const TgProbeTurn *turn);

/* CreatePermission for @peer (RFC 8656 §9). TRUE when the server answered: *@stun_code is 0
 * on success or the error response's code (403 for a peer the relay refuses). FALSE with an
 * error when there was no valid answer. */
gboolean tg_probe_turn_create_permission (TgProbeTurn *turn, const TgStunAddress *peer,
                                          gint64 deadline, guint *stun_code, char **reason,
                                          GError **error);

G_END_DECLS

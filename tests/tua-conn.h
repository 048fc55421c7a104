/* tua-conn: a blocking SIP-over-TLS client connection with explicit deadlines, for tests.
 * Raw OpenSSL over a non-blocking socket and poll(): no main loop, no threads, so a test reads
 * sequentially (send, then wait up to N ms for a message). Not thread-safe: one thread per
 * connection. */
#pragma once

#include <glib.h>
#include <openssl/ssl.h>

#include "tua-msg.h"

G_BEGIN_DECLS

/* Deadline for connecting, handshaking and sending, in milliseconds. */
#define TUA_CONN_IO_TIMEOUT_MS 10000

typedef struct _TuaConn TuaConn;

/* Connects to @host:@port over TCP and completes a TLS handshake (TLS 1.2 or newer).
 * The server certificate is verified against the CAs in @cafile (PEM) and, when @verify_name
 * is not NULL, its host name checked with X509_VERIFY_PARAM_set1_host (DNS SANs); SNI is set
 * to @verify_name unless it is an IP literal. With @cafile NULL nothing is verified (for tests
 * that connect to anything). Fails with a GError whose message carries OpenSSL's reason. */
TuaConn *tua_conn_new (const char *host, guint16 port, const char *cafile,
                       const char *verify_name, GError **error);

/* As tua_conn_new(), forcing the protocol range: @min_version and @max_version are OpenSSL
 * constants (TLS1_VERSION, TLS1_1_VERSION, TLS1_2_VERSION, TLS1_3_VERSION) or 0 for "TLS 1.2"
 * and "newest". A range below TLS 1.2 also lowers the client's security level to 0, so the
 * client really offers TLS 1.0/1.1 (OpenSSL 3 refuses to otherwise) and a failure can only come
 * from the server. */
TuaConn *tua_conn_new_full (const char *host, guint16 port, const char *cafile,
                            const char *verify_name, int min_version, int max_version,
                            GError **error);

/* The server side of a connection, for in-test loopback servers (tua-loopback.h): completes
 * a TLS accept on the connected socket @fd (taken over, closed on failure too) with @ctx. */
TuaConn *tua_conn_new_accepted (int fd, SSL_CTX *ctx, guint timeout_ms, GError **error);

/* Drops the connection without close_notify (TCP reset); the TuaConn must still be freed. */
void tua_conn_abort (TuaConn *c);

/* Sends close_notify (best effort) and closes. NULL-safe. */
void tua_conn_free (TuaConn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaConn, tua_conn_free)

/* Sends @len raw bytes (-1: strlen), blocking up to TUA_CONN_IO_TIMEOUT_MS. */
gboolean tua_conn_send (TuaConn *c, const char *data, gssize len, GError **error);

/* Sends a RFC 5626 §4.4.1 keepalive ping, "\r\n\r\n". */
gboolean tua_conn_send_ping (TuaConn *c, GError **error);

/* Waits up to @timeout_ms for the next complete SIP message (framed by Content-Length).
 * Messages queued earlier (see tua_conn_recv_match) come first. Bare CRLFs between messages
 * are counted as pongs and skipped. Fails with G_IO_ERROR_TIMED_OUT at the deadline,
 * G_IO_ERROR_CONNECTION_CLOSED when the server closed (close_notify, EOF or reset), and
 * G_IO_ERROR_INVALID_DATA when the stream cannot be framed or parsed (the connection is then
 * unusable and every later call fails the same way). */
TuaMsg *tua_conn_recv (TuaConn *c, guint timeout_ms, GError **error);

/* Returns TRUE when @msg is the one a caller waits for. */
typedef gboolean (*TuaMsgMatchFunc) (const TuaMsg *msg, gpointer user_data);

/* Like tua_conn_recv(), but returns the first message for which @match returns TRUE, looking
 * at queued messages first; the others are queued, in order, for later calls. */
TuaMsg *tua_conn_recv_match (TuaConn *c, TuaMsgMatchFunc match, gpointer user_data,
                             guint timeout_ms, GError **error);

/* Number of messages received but not yet returned. */
guint tua_conn_queued (TuaConn *c);

/* Number of bare CRLFs (keepalive pongs) received so far. A server-side TuaConn counts a
 * client's "\r\n\r\n" ping as two. */
guint tua_conn_pongs (TuaConn *c);

/* Reads until at least one more pong than when called has arrived, queueing any SIP message
 * read meanwhile. Fails like tua_conn_recv() (G_IO_ERROR_TIMED_OUT at the deadline). */
gboolean tua_conn_wait_pong (TuaConn *c, guint timeout_ms, GError **error);

/* TRUE when the server closes the connection (or it breaks) within @timeout_ms; messages read
 * meanwhile are queued. FALSE when it is still open at the deadline. */
gboolean tua_conn_is_closed (TuaConn *c, guint timeout_ms);

/* The local address as "host:port" for Via sent-by ("[v6]:port" for IPv6). Owned by @c. */
const char *tua_conn_local_sent_by (TuaConn *c);
guint16 tua_conn_local_port (TuaConn *c);

/* The negotiated protocol (TLS1_2_VERSION...) and its name ("TLSv1.3"). */
int tua_conn_tls_version (TuaConn *c);
const char *tua_conn_tls_version_name (TuaConn *c);

/* The server's certificate (a new reference, or NULL). */
X509 *tua_conn_peer_certificate (TuaConn *c);

G_END_DECLS

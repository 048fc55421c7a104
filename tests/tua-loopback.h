/* tua-loopback: a scripted one-connection TLS server on 127.0.0.1 (port 0) in a thread, and a
 * self-signed certificate generator, so the test UA (and other tests) can be exercised without
 * sotto-signald. The script runs on the server thread with a server-side TuaConn; it reports
 * failures as a GError that tua_loopback_finish() hands to the test's main thread (no
 * assertions off the main thread). */
#pragma once

#include <glib.h>

#include "tua-conn.h"

G_BEGIN_DECLS

/* Writes a fresh P-256 key and a self-signed certificate (CN @name, SAN DNS:@name and
 * IP:127.0.0.1, valid from an hour ago for a day) as PEM files "cert.pem" and "key.pem" in
 * @dir. The certificate doubles as the client's CA file. */
gboolean tua_loopback_make_cert (const char *dir, const char *name, char **cert_path,
                                 char **key_path, GError **error);

/* The server's behaviour for the one connection it accepts. Return FALSE with @error set to
 * report a failure. The connection is closed (close_notify) when it returns. */
typedef gboolean (*TuaLoopbackScript) (TuaConn *server, gpointer user_data, GError **error);

typedef struct _TuaLoopback TuaLoopback;

/* Listens on 127.0.0.1 port 0 with @cert_path/@key_path, TLS versions @min_version ..
 * @max_version (OpenSSL constants, 0: TLS 1.2 .. newest; below 1.2 lowers the security level
 * so old versions really work), and starts the thread: it accepts one connection within
 * TUA_CONN_IO_TIMEOUT_MS, completes the handshake and runs @script. */
TuaLoopback *tua_loopback_new (const char *cert_path, const char *key_path, int min_version,
                               int max_version, TuaLoopbackScript script, gpointer user_data,
                               GError **error);
guint16 tua_loopback_port (TuaLoopback *lb);

/* Waits for the thread. FALSE with the thread's error when accepting, the handshake or the
 * script failed, or when no client came. */
gboolean tua_loopback_finish (TuaLoopback *lb, GError **error);

/* Stops waiting for a client and joins the thread. NULL-safe. */
void tua_loopback_free (TuaLoopback *lb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaLoopback, tua_loopback_free)

G_END_DECLS

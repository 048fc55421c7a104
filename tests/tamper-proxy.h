/* tamper-proxy: a malicious server in the middle, for tests only.
 *
 * It accepts TLS connections on 127.0.0.1 (with the harness's own server certificate, so the
 * agent trusts it as it trusts sotto-signald), opens one TLS connection to the real server per
 * client, and pumps bytes both ways on its own thread. Going towards the client it rewrites
 * every "a=fingerprint:sha-256 XX:..." value into another one of the same length, so SIP still
 * parses and only the key changes: what a server that wanted to read the media would do. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TamperProxy TamperProxy;

/* Listens on 127.0.0.1 (port reported by tamper_proxy_port) and forwards to
 * 127.0.0.1:@server_port. @cert_pem/@key_pem: the certificate it presents. */
TamperProxy *tamper_proxy_start (guint16 server_port, const char *cert_pem,
                                 const char *key_pem);
guint16 tamper_proxy_port (TamperProxy *p);
/* How many fingerprints it has rewritten so far. */
guint tamper_proxy_rewrites (TamperProxy *p);
void tamper_proxy_stop (TamperProxy *p);

G_END_DECLS

/* sig-server: sotto-signald's SIP agent: TLS listeners, registrar and proxy on one GLib loop. */
#pragma once

#include <glib.h>

#include "sig-config.h"
#include "tg-config.h"

G_BEGIN_DECLS

typedef struct _SigServer SigServer;

/* Opens the account store, loads (or creates) the install key in state-dir, applies the TLS
 * policy and binds every listen URL. On success the server is serving on the thread-default
 * GMainContext. @config is copied by reference and must outlive the server. */
SigServer *sig_server_new (const SigConfig *config, GError **error);
void sig_server_free (SigServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigServer, sig_server_free)

/* Hands every successful REGISTER TURN credentials for @turn's relay, minted with the secrets
 * in its secret file. @turn must outlive the server. Fails when the secret file is unusable. */
gboolean sig_server_set_turn (SigServer *server, const TgConfig *turn, GError **error);

/* The bound listeners as "sips:HOST:PORT" (port 0 in the config is replaced by the real one). */
char **sig_server_listen_urls (SigServer *server);

/* Stops serving and closes every connection (before quitting the loop). */
void sig_server_shutdown (SigServer *server);

G_END_DECLS

/* sig-turn: TURN credentials in the 200 OK of an authenticated REGISTER (issue 3).
 *
 * One header, only ever in a 2xx to a REGISTER whose Digest verified, and only over TLS (the
 * only transport there is):
 *
 *   X-Sotto-Turn: uris="turn:HOST:3478?transport=udp turn:HOST:3478?transport=tcp
 *                       turns:HOST:5349?transport=tcp [turns:HOST:443?transport=tcp]",
 *                 username="EXPIRY:OPAQUE", password="BASE64", ttl=SECONDS
 *
 * The credential is minted afresh for each REGISTER (TURN REST API scheme, tg-cred) and expires
 * after the configured lifetime; the username carries an opaque id, never the user's name. The
 * header is never logged. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include "sig-server-priv.h"
#include "tg-cred.h"

char *
sig_turn_header (SigServer *server, const char *user)
{
  const TgConfig *turn = server->turn;
  g_autoptr (TgCredential) cred = NULL;
  g_autoptr (GString) uris = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (turn == NULL || server->turn_secrets == NULL)
    return NULL;
  cred = tg_cred_mint (server->turn_secrets, user, now, turn->credential_lifetime_s);
  if (cred == NULL)
    {
      g_warning ("could not mint a TURN credential");
      return NULL;
    }
  uris = g_string_new (NULL);
  g_string_append_printf (uris, "turn:%s:%u?transport=udp turn:%s:%u?transport=tcp "
                                "turns:%s:%u?transport=tcp",
                          turn->server_name, turn->port, turn->server_name, turn->port,
                          turn->server_name, turn->tls_port);
  if (turn->tls_443)
    g_string_append_printf (uris, " turns:%s:443?transport=tcp", turn->server_name);
  return g_strdup_printf ("X-Sotto-Turn: uris=\"%s\", username=\"%s\", password=\"%s\", "
                          "ttl=%" G_GINT64_FORMAT,
                          uris->str, cred->username, cred->password, cred->expires - now);
}

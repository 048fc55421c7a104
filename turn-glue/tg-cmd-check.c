/* sotto-turn check: a connectivity doctor a user runs from any network. Does the relay answer
 * STUN over UDP, TCP and TLS (and TLS on 443)? Can these credentials allocate? Does the relay
 * refuse private peers? One verdict line per question, a summary, exit 1 on any failure. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include <stdio.h>
#include <string.h>

#include "sotto-util.h"
#include "tg-commands.h"
#include "tg-config.h"
#include "tg-cred.h"
#include "tg-probe.h"

typedef struct
{
  guint ok, fail, skip;
} Tally;

static void G_GNUC_PRINTF (3, 4)
verdict (Tally *t, const char *status, const char *fmt, ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, fmt);
  text = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (strcmp (status, "OK") == 0)
    t->ok++;
  else if (strcmp (status, "FAIL") == 0)
    t->fail++;
  else
    t->skip++;
  printf ("%-4s  %s\n", status, text);
  fflush (stdout);
}

/* A hint for the errors people meet. */
static const char *
hint (const GError *error)
{
  if (error->domain == TG_PROBE_STUN_ERROR && error->code == 401)
    return " (credentials refused: wrong password, or an expired credential)";
  if (error->domain == TG_PROBE_STUN_ERROR && error->code == 486)
    return " (allocation quota reached for this user)";
  if (error->domain == TG_PROBE_ERROR && error->code == TG_PROBE_ERROR_TIMEOUT)
    return " (a firewall on this network may drop it)";
  return "";
}

typedef struct
{
  TgProbeTarget target;
  char *label; /* "UDP 3478" */
  gboolean answered;
} Listener;

static void
add_listener (GArray *list, TgProbeTransport transport, const char *host, guint port,
              const char *ca_file)
{
  Listener l = { 0 };

  if (port == 0)
    return;
  l.target.transport = transport;
  l.target.host = host;
  l.target.port = (guint16) port;
  l.target.ca_file = ca_file;
  l.label = g_strdup_printf ("%s %u", tg_probe_transport_to_string (transport), port);
  g_array_append_val (list, l);
}

static void
clear_listener (gpointer p)
{
  g_free (((Listener *) p)->label);
}

/* Mints a credential for @user from Sotto's configuration (what sotto-signald hands out). */
static gboolean
mint_from_config (const char *path, const char *user, TgConfig **config_out, char **username,
                  char **password, GError **error)
{
  g_autoptr (TgConfig) config = tg_config_load_from_file (path, NULL, error);
  g_autoptr (TgSecrets) secrets = NULL;
  g_autoptr (TgCredential) cred = NULL;

  if (config == NULL)
    return FALSE;
  secrets = tg_secrets_load (config->secret_file, error);
  if (secrets == NULL)
    return FALSE;
  cred = tg_cred_mint (secrets, user, g_get_real_time () / G_USEC_PER_SEC,
                       config->credential_lifetime_s);
  *username = g_steal_pointer (&cred->username);
  *password = g_steal_pointer (&cred->password);
  *config_out = g_steal_pointer (&config);
  return TRUE;
}

static void
check_private_peers (Tally *t, TgProbeTurn *turn, const char *via, char **peers, guint timeout_s)
{
  for (gsize i = 0; peers[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *reason = NULL;
      gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
      TgStunAddress peer;
      guint code = 0;

      if (!tg_stun_address_from_string (peers[i], 9, &peer))
        {
          verdict (t, "FAIL", "private peer %s: not an IP address", peers[i]);
          continue;
        }
      if (!tg_probe_turn_create_permission (turn, &peer, deadline, &code, &reason, &error))
        verdict (t, "FAIL", "private peer %s: no answer to CreatePermission over %s: %s",
                 peers[i], via, error->message);
      else if (code == 403)
        verdict (t, "OK", "relay refuses private peer %s (%u %s)", peers[i], code, reason);
      else if (code == 0)
        verdict (t, "FAIL", "relay ACCEPTS private peer %s: it can reach private networks "
                 "(remove allowed-peer-ip / allow-loopback-peers, keep denied-peer-ip)", peers[i]);
      else
        verdict (t, "FAIL", "private peer %s: unexpected answer %u %s", peers[i], code, reason);
    }
}

int
tg_cmd_check (int argc, char **argv)
{
  g_autofree char *server = NULL, *ca_file = NULL, *user = NULL, *config_path = NULL;
  g_autofree char *as_user = NULL;
  g_autoptr (SottoSecret) password = NULL;
  g_auto (GStrv) peers = NULL;
  int port = -1, tls_port = -1, timeout_s = 5;
  gboolean tls_443 = FALSE;
  GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, &server, "the relay's DNS name (or IP address)",
      "NAME" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "UDP and TCP port (default 3478; 0: skip)",
      "PORT" },
    { "tls-port", 0, 0, G_OPTION_ARG_INT, &tls_port, "TLS port (default 5349; 0: skip)", "PORT" },
    { "tls-443", 0, 0, G_OPTION_ARG_NONE, &tls_443, "also try TLS on port 443", NULL },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      "CA file to verify the relay's certificate (default: the system store)", "FILE" },
    { "user", 'u', 0, G_OPTION_ARG_STRING, &user, "TURN username", "U" },
    { "password", 0, 0, G_OPTION_ARG_STRING, &password, "TURN password", "P" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Sotto's configuration: mint a credential (needs --as) and take the server from it",
      "FILE" },
    { "as", 0, 0, G_OPTION_ARG_STRING, &as_user, "Sotto user to mint a credential for", "USER" },
    { "private-peer", 0, 0, G_OPTION_ARG_STRING_ARRAY, &peers,
      "a peer the relay must refuse (repeatable; default 10.0.0.1 and 127.0.0.1)", "IP" },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "seconds per probe (default 5)", "S" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- can this network use the relay?");
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) config = NULL;
  g_autofree char *username = NULL;
  g_autoptr (SottoSecret) secret = NULL;
  g_autoptr (GArray) listeners = g_array_new (FALSE, TRUE, sizeof (Listener));
  static const char *const default_peers[] = { "10.0.0.1", "127.0.0.1", NULL };
  TgProbeTurn *first = NULL;
  const char *first_via = NULL;
  Tally t = { 0 };
  GPtrArray *turns = g_ptr_array_new ();

  g_array_set_clear_func (listeners, clear_listener);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 1
      || (user != NULL) != (password != NULL) || (config_path != NULL) != (as_user != NULL)
      || (user != NULL && config_path != NULL) || (server == NULL && config_path == NULL)
      || port > 65535 || tls_port > 65535 || timeout_s <= 0)
    {
      fprintf (stderr,
               "sotto-turn check: %s\nUsage: sotto-turn check --server NAME [--port 3478] "
               "[--tls-port 5349] [--tls-443] [--ca FILE]\n"
               "         [--user U --password P | --config FILE --as USER] [--private-peer IP]\n",
               error ? error->message : "bad combination of options");
      g_ptr_array_unref (turns);
      return 2;
    }

  if (config_path != NULL)
    {
      if (!mint_from_config (config_path, as_user, &config, &username, &secret, &error))
        {
          fprintf (stderr, "sotto-turn check: %s\n", error->message);
          g_ptr_array_unref (turns);
          return 1;
        }
      if (server == NULL)
        server = g_strdup (config->server_name);
      if (port < 0)
        port = (int) config->port;
      if (tls_port < 0)
        tls_port = config->tls_443 ? 443 : (int) config->tls_port;
    }
  else if (user != NULL)
    {
      username = g_strdup (user);
      secret = g_strdup (password);
    }
  if (port < 0)
    port = 3478;
  if (tls_port < 0)
    tls_port = 5349;

  add_listener (listeners, TG_PROBE_UDP, server, (guint) port, NULL);
  add_listener (listeners, TG_PROBE_TCP, server, (guint) port, NULL);
  add_listener (listeners, TG_PROBE_TLS, server, (guint) tls_port, ca_file);
  if (tls_443 && tls_port != 443)
    add_listener (listeners, TG_PROBE_TLS, server, 443, ca_file);

  printf ("Checking the TURN relay %s\n", server);
  for (guint i = 0; i < listeners->len; i++)
    {
      Listener *l = &g_array_index (listeners, Listener, i);
      gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
      gint64 start = g_get_monotonic_time ();
      TgStunAddress mapped;

      g_clear_error (&error);
      if (tg_probe_binding (&l->target, deadline, &mapped, &error))
        {
          g_autofree char *seen = tg_stun_address_to_string (&mapped);
          l->answered = TRUE;
          verdict (&t, "OK", "%s answers STUN in %" G_GINT64_FORMAT " ms (it sees you as %s)",
                   l->label, (g_get_monotonic_time () - start) / 1000, seen);
        }
      else
        verdict (&t, "FAIL", "%s: %s%s", l->label, error->message, hint (error));
    }

  if (username == NULL)
    verdict (&t, "SKIP", "allocate: no credentials (--user/--password or --config/--as)");
  for (guint i = 0; username != NULL && i < listeners->len; i++)
    {
      Listener *l = &g_array_index (listeners, Listener, i);
      gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
      TgProbeTurn *turn;

      if (!l->answered)
        {
          verdict (&t, "SKIP", "allocate over %s: it did not answer STUN", l->label);
          continue;
        }
      g_clear_error (&error);
      turn = tg_probe_turn_allocate (&l->target, username, secret, deadline, &error);
      if (turn == NULL)
        {
          verdict (&t, "FAIL", "allocate over %s: %s%s", l->label, error->message, hint (error));
          continue;
        }
      {
        g_autofree char *relayed = tg_stun_address_to_string (tg_probe_turn_relayed (turn));
        verdict (&t, "OK", "allocate over %s: relayed address %s for %u s", l->label, relayed,
                 tg_probe_turn_lifetime (turn));
      }
      g_ptr_array_add (turns, turn);
      if (first == NULL)
        {
          first = turn;
          first_via = l->label;
        }
    }

  if (first != NULL)
    check_private_peers (&t, first, first_via, peers ? peers : (char **) default_peers,
                         (guint) timeout_s);
  else if (username != NULL)
    verdict (&t, "SKIP", "private peers: no allocation to test them with");

  for (guint i = 0; i < turns->len; i++)
    tg_probe_turn_release (turns->pdata[i], g_get_monotonic_time () + G_USEC_PER_SEC);
  g_ptr_array_unref (turns);

  printf ("Summary: %u OK, %u FAIL, %u skipped: %s\n", t.ok, t.fail, t.skip,
          t.fail ? "this network (or the relay) has problems, see FAIL above"
                 : "the relay works from this network");
  return t.fail ? 1 : 0;
}

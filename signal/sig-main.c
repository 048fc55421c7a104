/* sotto-signald: parses options, loads the configuration, and runs the server on one GLib
 * main loop until SIGTERM or SIGINT. SIGHUP re-reads the configuration's log level. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>

#include "sig-config.h"
#include "sig-server.h"
#include "tg-config.h"
#include "sotto-log.h"

typedef struct
{
  GMainLoop *loop;
  SigServer *server;
  const char *config_path;
  const TgConfig *turn; /* NULL without a [turn] group */
} App;

static void
replace_str (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static gboolean
on_quit (gpointer data)
{
  App *app = data;

  g_info ("shutting down");
  sig_server_shutdown (app->server);
  g_main_loop_quit (app->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload (gpointer data)
{
  App *app = data;
  g_autoptr (SigConfig) fresh = NULL;
  g_autoptr (GError) error = NULL;

  if (app->config_path == NULL)
    return G_SOURCE_CONTINUE;
  fresh = sig_config_load_from_file (app->config_path, &error);
  if (fresh == NULL)
    {
      g_warning ("reload refused, keeping the running configuration: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  /* Only the log level and the TURN secrets (after `sotto-turn rotate`) change at run time;
   * listeners and paths need a restart. */
  sotto_log_set_level (fresh->log_level);
  if (app->turn && !sig_server_set_turn (app->server, app->turn, &error))
    g_warning ("keeping the TURN secrets loaded before: %s", error->message);
  else if (app->turn)
    g_info ("TURN secrets reloaded");
  g_info ("configuration reloaded (log level %s)", sotto_log_level_to_string (fresh->log_level));
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL, *domain = NULL, *cert_dir = NULL, *state_dir = NULL;
  g_autofree char *log_level = NULL;
  g_auto (GStrv) listen = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (SigConfig) config = NULL;
  g_autoptr (SigServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) turn = NULL;
  gboolean has_turn = FALSE;
  gboolean version = FALSE;
  App app = { 0 };
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "domain", 'd', 0, G_OPTION_ARG_STRING, &domain, "SIP domain and Digest realm", "NAME" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      "TLS listener (repeatable), e.g. sips:0.0.0.0:5061", "URL" },
    { "cert-dir", 0, 0, G_OPTION_ARG_FILENAME, &cert_dir, "Folder with agent.pem and cafile.pem",
      "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "Folder for accounts.db", "DIR" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level, "error, warning, info or debug",
      "LEVEL" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL },
  };

  sotto_log_init (SOTTO_LOG_LEVEL_INFO);
  ctx = g_option_context_new ("- Sotto's TLS-only SIP registrar and proxy");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "sotto-signald: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      printf ("sotto-signald %s\n", PACKAGE_VERSION);
      return 0;
    }

  config = config_path ? sig_config_load_from_file (config_path, &error) : sig_config_new_default ();
  if (config == NULL)
    {
      fprintf (stderr, "sotto-signald: %s\n", error->message);
      return 1;
    }
  /* Command-line options override the file. */
  if (domain)
    replace_str (&config->domain, domain);
  if (cert_dir)
    replace_str (&config->cert_dir, cert_dir);
  if (state_dir)
    replace_str (&config->state_dir, state_dir);
  if (listen)
    {
      g_strfreev (config->listen);
      config->listen = g_strdupv (listen);
    }
  if (log_level && !sotto_log_level_from_string (log_level, &config->log_level))
    {
      fprintf (stderr, "sotto-signald: unknown log level '%s'\n", log_level);
      return 2;
    }
  sotto_log_set_level (config->log_level);

  loop = g_main_loop_new (NULL, FALSE);
  server = sig_server_new (config, &error);
  if (server == NULL)
    {
      fprintf (stderr, "sotto-signald: %s\n", error->message);
      return 1;
    }

  /* The [turn] group of the same file, if any: credentials for the relay in REGISTER 200s. */
  if (config_path)
    {
      turn = tg_config_load_from_file (config_path, &has_turn, &error);
      if (turn == NULL)
        {
          fprintf (stderr, "sotto-signald: %s\n", error->message);
          return 1;
        }
      if (has_turn && !sig_server_set_turn (server, turn, &error))
        {
          fprintf (stderr, "sotto-signald: TURN credentials: %s\n", error->message);
          return 1;
        }
    }

  app.loop = loop;
  app.server = server;
  app.turn = has_turn ? turn : NULL;
  app.config_path = config_path;
  g_unix_signal_add (SIGTERM, on_quit, &app);
  g_unix_signal_add (SIGINT, on_quit, &app);
  g_unix_signal_add (SIGHUP, on_reload, &app);

  /* The readiness protocol tests and scripts wait for: one LISTENING line per listener, then
   * READY, on stdout. */
  for (char **u = sig_server_listen_urls (server); *u; u++)
    {
      printf ("LISTENING %s\n", *u);
      g_info ("listening on %s (TLS only) for domain %s", *u, config->domain);
    }
  printf ("READY\n");
  fflush (stdout);

  g_main_loop_run (loop);
  g_clear_pointer (&server, sig_server_free);
  return 0;
}

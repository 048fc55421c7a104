/* sotto-agentd: the desktop agent. Parses options over the config file, reads the password
 * (a 0600 file or stdin, never argv), and runs the agent on one GLib main loop. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include <gio/gio.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>

#include <gst/gst.h>
#include <openssl/crypto.h>

#include "ca-agent.h"
#include "ca-config.h"
#include "sotto-log.h"
#include "sotto-util.h"

typedef struct
{
  GMainLoop *loop;
  CaAgent *agent;
  gboolean stopping;
  const char *config_path;
  const char *cli_log_level; /* --log-level wins over the file on reload too */
} Daemon;

static gboolean
quit_loop (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  Daemon *d = user_data;

  if (d->stopping)
    return G_SOURCE_CONTINUE;
  d->stopping = TRUE;
  g_info ("stopping");
  ca_agent_shutdown (d->agent, quit_loop, d->loop);
  return G_SOURCE_CONTINUE;
}

/* SIGHUP: the log level from the file again, and a fresh registration. */
static gboolean
on_hangup (gpointer user_data)
{
  Daemon *d = user_data;
  g_autoptr (CaConfig) fresh = NULL;
  g_autoptr (GError) error = NULL;
  SottoLogLevel level;
  const char *text;

  if (d->config_path != NULL && !ca_config_load_file (d->config_path, &fresh, &error))
    {
      g_warning ("SIGHUP: keeping the current settings: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  text = d->cli_log_level != NULL ? d->cli_log_level : fresh != NULL ? fresh->log_level : NULL;
  if (text != NULL && sotto_log_level_from_string (text, &level))
    sotto_log_set_level (level);
  g_info ("SIGHUP: log level %s; registering again", text != NULL ? text : "unchanged");
  ca_agent_reregister (d->agent);
  return G_SOURCE_CONTINUE;
}

static char *
read_password_stdin (GError **error)
{
  char buf[1024];
  gsize len;

  if (fgets (buf, sizeof buf, stdin) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no password on stdin");
      return NULL;
    }
  len = strcspn (buf, "\r\n");
  buf[len] = '\0';
  if (len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "empty password on stdin");
      return NULL;
    }
  {
    char *out = g_strdup (buf);

    OPENSSL_cleanse (buf, sizeof buf);
    return out;
  }
}

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *aor = NULL, *registrar = NULL, *username = NULL, *ca_file = NULL;
  g_autofree char *password_file = NULL, *play = NULL, *record = NULL;
  g_autofree char *control_socket = NULL, *state_dir = NULL, *log_level = NULL;
  g_auto (GStrv) local_addresses = NULL, codecs = NULL;
  gboolean password_stdin = FALSE, auto_answer = FALSE, force_relay = FALSE;
  gboolean no_session_bus = FALSE, ice_tcp = FALSE, version = FALSE, silence = FALSE;
  gboolean log_level_on_cli = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Configuration file (default: $XDG_CONFIG_HOME/sotto/agent.conf)", "FILE" },
    { "aor", 0, 0, G_OPTION_ARG_STRING, &aor, "Our address, sips:user@domain", "URI" },
    { "registrar", 0, 0, G_OPTION_ARG_STRING, &registrar, "sips:host:port of the server",
      "URI" },
    { "username", 0, 0, G_OPTION_ARG_STRING, &username, "Digest user name", "NAME" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file, "CA to pin (default: system store)",
      "PEM" },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      "File holding the password (mode 0600)", "FILE" },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin,
      "Read the password from the first line of stdin", NULL },
    { "play", 0, 0, G_OPTION_ARG_FILENAME, &play, "Send this WAV instead of the microphone",
      "WAV" },
    { "record", 0, 0, G_OPTION_ARG_FILENAME, &record,
      "Record the peer to this WAV instead of playing it", "WAV" },
    { "silence", 0, 0, G_OPTION_ARG_NONE, &silence,
      "Send silence when there is no --play file (no capture device needed)", NULL },
    { "auto-answer", 0, 0, G_OPTION_ARG_NONE, &auto_answer, "Answer every call", NULL },
    { "force-relay", 0, 0, G_OPTION_ARG_NONE, &force_relay,
      "Only relayed candidates: never reveal our addresses to the peer", NULL },
    { "ice-tcp", 0, 0, G_OPTION_ARG_NONE, &ice_tcp, "Also gather ICE-TCP host candidates",
      NULL },
    { "local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &local_addresses,
      "Gather host candidates on this address only (repeatable)", "ADDR" },
    { "codec", 0, 0, G_OPTION_ARG_STRING_ARRAY, &codecs,
      "Codec in preference order: opus, pcmu (repeatable)", "NAME" },
    { "control-socket", 0, 0, G_OPTION_ARG_FILENAME, &control_socket,
      "Private control socket path", "PATH" },
    { "no-session-bus", 0, 0, G_OPTION_ARG_NONE, &no_session_bus,
      "Do not export the control interface on the session bus", NULL },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "log-level", 0, 0, G_OPTION_ARG_STRING, &log_level,
      "error, warning, info or debug", "LEVEL" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- Sotto's calling agent");
  g_autoptr (GError) error = NULL;
  g_autoptr (CaConfig) config = NULL;
  g_autoptr (CaAgent) agent = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  SottoLogLevel level = SOTTO_LOG_LEVEL_INFO;
  char *password = NULL;
  Daemon d = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
                                    "Options override the configuration file. The password "
                                    "never goes on the command line.");
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("sotto-agentd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      printf ("sotto-agentd %s\n", PACKAGE_VERSION);
      return 0;
    }
  sotto_log_init (SOTTO_LOG_LEVEL_INFO);

  if (config_path == NULL)
    {
      g_autofree char *def = ca_config_default_path ();

      if (g_file_test (def, G_FILE_TEST_EXISTS))
        config_path = g_steal_pointer (&def);
    }
  if (config_path != NULL ? !ca_config_load_file (config_path, &config, &error)
                          : !ca_config_load_from_data ("", 0, "defaults", &config, &error))
    {
      g_printerr ("sotto-agentd: %s\n", error->message);
      return 2;
    }

#define OVERRIDE(field, value)                                                                \
  if ((value) != NULL)                                                                        \
    {                                                                                         \
      g_free (config->field);                                                                 \
      config->field = g_steal_pointer (&(value));                                             \
    }
  OVERRIDE (aor, aor);
  OVERRIDE (username, username);
  OVERRIDE (ca_file, ca_file);
  OVERRIDE (password_file, password_file);
  OVERRIDE (play_path, play);
  OVERRIDE (record_path, record);
  OVERRIDE (control_socket, control_socket);
  OVERRIDE (state_dir, state_dir);
  /* OVERRIDE moves the string into config: remember that --log-level was given. */
  log_level_on_cli = log_level != NULL;
  OVERRIDE (log_level, log_level);
#undef OVERRIDE
  if (registrar != NULL)
    {
      g_free (config->registrar);
      config->registrar = g_steal_pointer (&registrar);
    }
  else if (config->registrar == NULL && config->aor != NULL)
    {
      /* sips:user@host -> sips:host:5061 */
      const char *at = strchr (config->aor, '@');

      if (at != NULL)
        config->registrar = g_strdup_printf ("sips:%s:5061", at + 1);
    }
  if (local_addresses != NULL)
    {
      g_strfreev (config->local_addresses);
      config->local_addresses = g_steal_pointer (&local_addresses);
    }
  if (codecs != NULL)
    {
      g_strfreev (config->codecs);
      config->codecs = g_steal_pointer (&codecs);
    }
  config->auto_answer |= auto_answer;
  config->silence |= silence;
  config->force_relay |= force_relay;
  config->ice_tcp |= ice_tcp;
  if (no_session_bus)
    config->session_bus = FALSE;

  if (config->log_level != NULL && !sotto_log_level_from_string (config->log_level, &level))
    {
      g_printerr ("sotto-agentd: unknown log level \"%s\"\n", config->log_level);
      return 2;
    }
  sotto_log_set_level (level);
  if (config->aor == NULL)
    {
      g_printerr ("sotto-agentd: no account: set [account] aor in %s, or --aor\n",
                  config_path != NULL ? config_path : "agent.conf");
      return 2;
    }

  if (password_stdin)
    password = read_password_stdin (&error);
  else if (config->password_file != NULL)
    password = ca_config_read_password_file (config->password_file, &error);
  else
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "no password: set [account] password-file, or use --password-stdin");
  if (password == NULL)
    {
      g_printerr ("sotto-agentd: %s\n", error->message);
      return 2;
    }

  gst_init (NULL, NULL);
  agent = ca_agent_new (config, password, &error);
  sotto_util_secret_free (password);
  if (agent == NULL || !ca_agent_start (agent, &error))
    {
      g_printerr ("sotto-agentd: %s\n", error->message);
      return 1;
    }

  loop = g_main_loop_new (NULL, FALSE);
  d.loop = loop;
  d.agent = agent;
  d.config_path = config_path;
  if (log_level_on_cli)
    d.cli_log_level = config->log_level;
  g_unix_signal_add (SIGTERM, on_signal, &d);
  g_unix_signal_add (SIGINT, on_signal, &d);
  g_unix_signal_add (SIGHUP, on_hangup, &d);
  printf ("CONTROL %s\nREADY\n", config->control_socket != NULL ? config->control_socket : "-");
  fflush (stdout);
  g_main_loop_run (loop);
  g_clear_pointer (&agent, ca_agent_free);
  return 0;
}

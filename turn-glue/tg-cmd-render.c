/* sotto-turn render: writes coturn's configuration from Sotto's, after checking everything
 * it names, and puts the shared secrets in coturn's user database. Nothing is replaced when
 * any check fails. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "sotto-util.h"
#include "tg-commands.h"
#include "tg-config.h"
#include "tg-cred.h"
#include "tg-render.h"
#include "tg-userdb.h"

static gboolean
check_readable (const char *what, const char *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "%s %s: %s", what, path,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

int
tg_cmd_render (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *out_path = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Sotto's configuration file", "FILE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
      "where to write (default: <state-dir>/turnserver.conf)", "PATH" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- write coturn's configuration");
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) config = NULL;
  g_autoptr (TgSecrets) secrets = NULL;
  g_autofree char *text = NULL;
  g_autofree char *userdb = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || config_path == NULL || argc > 1)
    {
      fprintf (stderr, "sotto-turn render: %s\nUsage: sotto-turn render --config FILE [--out PATH]\n",
               error != NULL ? error->message : "--config FILE is required, nothing else");
      return 2;
    }

  if ((config = tg_config_load_from_file (config_path, NULL, &error)) == NULL
      || (secrets = tg_secrets_load (config->secret_file, &error)) == NULL
      || !check_readable ("certificate", config->cert_file, &error)
      || !check_readable ("private key", config->key_file, &error))
    {
      fprintf (stderr, "sotto-turn render: %s\n", error->message);
      if (config != NULL && secrets == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        fprintf (stderr, "(create the secret file with: sotto-turn rotate --config %s)\n",
                 config_path);
      return 1;
    }

  text = tg_render_turnserver_conf (config);
  if (out_path == NULL)
    out_path = tg_render_conf_path (config);
  userdb = tg_render_userdb_path (config);
  if (g_mkdir_with_parents (config->state_dir, 0700) < 0)
    {
      fprintf (stderr, "sotto-turn render: state-dir %s: %s\n", config->state_dir,
               g_strerror (errno));
      return 1;
    }
  /* The database first: a configuration naming a database without our secrets would make
   * coturn refuse every credential. */
  if (!tg_userdb_sync (userdb, config->realm, secrets, &error)
      || !sotto_util_write_file_atomic (out_path, text, strlen (text), 0600, &error))
    {
      fprintf (stderr, "sotto-turn render: %s\n", error->message);
      return 1;
    }
  printf ("%s\n", out_path);
  return 0;
}

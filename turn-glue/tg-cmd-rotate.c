/* sotto-turn rotate: puts a new random secret first in the secret file, keeping the previous
 * ones so that credentials minted under them verify until they expire; creates the file (0600)
 * when missing. At most TG_ROTATE_KEEP secrets are kept: rotate no more often than
 * credential-lifetime / (TG_ROTATE_KEEP - 1), or credentials die before their expiry.
 * When coturn's database exists (after a render), it is updated too: coturn reads it per
 * request, so the running relay takes the new secret without a restart. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "sotto-util.h"
#include "tg-commands.h"
#include "tg-config.h"
#include "tg-cred.h"
#include "tg-render.h"
#include "tg-userdb.h"

#define TG_ROTATE_KEEP 3

int
tg_cmd_rotate (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Sotto's configuration file", "FILE" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- add a new shared secret");
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) config = NULL;
  g_autoptr (TgSecrets) secrets = NULL;
  g_autoptr (SottoSecret) fresh = NULL;
  g_autoptr (SottoSecret) text = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *userdb = NULL;
  gboolean synced = FALSE;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || config_path == NULL || argc > 1)
    {
      fprintf (stderr, "sotto-turn rotate: %s\nUsage: sotto-turn rotate --config FILE\n",
               error != NULL ? error->message : "--config FILE is required, nothing else");
      return 2;
    }
  if ((config = tg_config_load_from_file (config_path, NULL, &error)) == NULL)
    goto fail;
  if (g_file_test (config->secret_file, G_FILE_TEST_EXISTS))
    secrets = tg_secrets_load (config->secret_file, &error);
  else
    secrets = tg_secrets_new ();
  if (secrets == NULL || (fresh = tg_secret_generate (&error)) == NULL)
    goto fail;
  tg_secrets_prepend (secrets, fresh, TG_ROTATE_KEEP);
  text = tg_secrets_to_data (secrets);
  dir = g_path_get_dirname (config->secret_file);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", dir,
                   g_strerror (errno));
      goto fail;
    }
  if (!sotto_util_write_file_atomic (config->secret_file, text, strlen (text), 0600, &error))
    goto fail;
  userdb = tg_render_userdb_path (config);
  if (g_file_test (userdb, G_FILE_TEST_EXISTS))
    {
      if (!tg_userdb_sync (userdb, config->realm, secrets, &error))
        goto fail;
      synced = TRUE;
    }
  printf ("%s: %u secret(s), newest first (at most %d kept)%s\n", config->secret_file,
          tg_secrets_count (secrets), TG_ROTATE_KEEP,
          synced ? "; coturn's database updated" : "");
  return 0;

fail:
  fprintf (stderr, "sotto-turn rotate: %s\n", error->message);
  return 1;
}

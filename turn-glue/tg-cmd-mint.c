/* sotto-turn mint: prints a TURN credential for a user, and the TURN URIs to use it with.
 * Output is "key=value" lines, easy for a script to read. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include <stdio.h>
#include <string.h>

#include "tg-commands.h"
#include "tg-config.h"
#include "tg-cred.h"

int
tg_cmd_mint (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gint lifetime = -1;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *now_text = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Sotto's configuration file", "FILE" },
    { "lifetime", 'l', 0, G_OPTION_ARG_INT, &lifetime,
      "seconds the credential lives (default: credential-lifetime)", "SECONDS" },
    { "now", 0, 0, G_OPTION_ARG_STRING, &now_text, "mint as if at this unix time (tests)", "T" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("USER - print a TURN credential");
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) config = NULL;
  g_autoptr (TgSecrets) secrets = NULL;
  g_autoptr (TgCredential) cred = NULL;
  g_autofree char *host = NULL;
  guint tls_port;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || config_path == NULL || argc != 2
      || argv[1][0] == '\0' || lifetime == 0 || lifetime < -1
      || (now_text != NULL && !g_ascii_string_to_signed (now_text, 10, 0, G_MAXINT64 / 2, &now, NULL)))
    {
      fprintf (stderr,
               "sotto-turn mint: %s\n"
               "Usage: sotto-turn mint --config FILE [--lifetime SECONDS] [--now T] USER\n",
               error != NULL ? error->message : "wrong arguments");
      return 2;
    }
  if ((config = tg_config_load_from_file (config_path, NULL, &error)) == NULL
      || (secrets = tg_secrets_load (config->secret_file, &error)) == NULL)
    {
      fprintf (stderr, "sotto-turn mint: %s\n", error->message);
      return 1;
    }
  cred = tg_cred_mint (secrets, argv[1], now,
                       lifetime > 0 ? (guint) lifetime : config->credential_lifetime_s);
  host = strchr (config->server_name, ':') != NULL ? g_strdup_printf ("[%s]", config->server_name)
                                                   : g_strdup (config->server_name);
  tls_port = config->tls_443 ? 443 : config->tls_port;
  printf ("username=%s\npassword=%s\nexpires=%" G_GINT64_FORMAT "\n", cred->username,
          cred->password, cred->expires);
  printf ("uri=turn:%s:%u?transport=udp\n", host, config->port);
  printf ("uri=turn:%s:%u?transport=tcp\n", host, config->port);
  printf ("uri=turns:%s:%u?transport=tcp\n", host, tls_port);
  return 0;
}

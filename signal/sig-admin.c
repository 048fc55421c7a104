/* sotto-admin: manages the accounts of sotto-signald.
 *
 *   sotto-admin [--config FILE] [--state-dir DIR] [--domain D] COMMAND ...
 *
 * main() parses the global options, loads the configuration and dispatches through the
 * command table; each command lives in its own function. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include <stdarg.h>
#include <stdio.h>

#include "sig-admin.h"
#include "sotto-log.h"
#include "sotto-util.h"

static const SigAdminCommand commands[] = {
  { "add", "USER [--password-stdin]", "create an account", sig_admin_cmd_add },
  { "passwd", "USER [--password-stdin]", "set a new password", sig_admin_cmd_passwd },
  { "disable", "USER", "refuse the account's logins", sig_admin_cmd_disable },
  { "enable", "USER", "allow the account's logins again", sig_admin_cmd_enable },
  { "delete", "USER", "remove the account", sig_admin_cmd_delete },
  { "list", "", "show every account", sig_admin_cmd_list },
};

static SigAdminExit
vreport (SigAdminExit code, const char *format, va_list args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  fprintf (stderr, "sotto-admin: %s\n", message);
  if (code == SIG_ADMIN_EXIT_USAGE)
    fprintf (stderr, "Try 'sotto-admin --help'.\n");
  return code;
}

SigAdminExit
sig_admin_fail (const char *format, ...)
{
  va_list args;
  SigAdminExit code;

  va_start (args, format);
  code = vreport (SIG_ADMIN_EXIT_FAILURE, format, args);
  va_end (args);
  return code;
}

SigAdminExit
sig_admin_usage (const char *format, ...)
{
  va_list args;
  SigAdminExit code;

  va_start (args, format);
  code = vreport (SIG_ADMIN_EXIT_USAGE, format, args);
  va_end (args);
  return code;
}

static char *
describe_commands (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *head = g_strdup_printf ("%s %s", commands[i].name, commands[i].args);
      g_string_append_printf (text, "  %-32s %s\n", head, commands[i].summary);
    }
  g_string_append (text,
                   "\nWithout --password-stdin a strong password is generated and printed once.\n"
                   "Passwords are never taken from the command line.");
  return g_string_free (text, FALSE);
}

static void
sig_admin_clear (SigAdmin *admin)
{
  g_clear_pointer (&admin->config, sig_config_free);
  g_clear_pointer (&admin->db_path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SigAdmin, sig_admin_clear)

int
main (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *description = describe_commands ();
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Read the configuration FILE",
      "FILE" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Use DIR instead of the file's state-dir", "DIR" },
    { "domain", 0, 0, G_OPTION_ARG_STRING, &domain, "Use D instead of the file's domain", "D" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("COMMAND [ARGS...]");
  g_autoptr (GError) error = NULL;
  g_auto (SigAdmin) admin = { NULL, NULL };
  const SigAdminCommand *command = NULL;

  g_set_prgname ("sotto-admin");
  sotto_log_init (SOTTO_LOG_LEVEL_WARNING);

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Manage the accounts of sotto-signald.");
  g_option_context_set_description (context, description);
  /* Stop at the command: what follows it belongs to the command. */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return sig_admin_usage ("%s", error->message);
  if (argc < 2)
    return sig_admin_usage ("no command given");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, argv[1]))
      command = &commands[i];
  if (command == NULL)
    return sig_admin_usage ("unknown command \"%s\"", argv[1]);

  if (config_path != NULL)
    admin.config = sig_config_load_from_file (config_path, &error);
  else
    admin.config = sig_config_new_default ();
  if (admin.config == NULL)
    return sig_admin_fail ("%s", error->message);

  if (state_dir != NULL)
    {
      if (state_dir[0] == '\0')
        return sig_admin_usage ("--state-dir must not be empty");
      g_free (admin.config->state_dir);
      admin.config->state_dir = g_steal_pointer (&state_dir);
    }
  if (domain != NULL)
    {
      if (!sotto_util_is_dns_name (domain))
        return sig_admin_usage ("--domain \"%s\" is not a DNS name", domain);
      g_free (admin.config->domain);
      admin.config->domain = g_steal_pointer (&domain);
    }
  admin.db_path = sig_config_accounts_path (admin.config);

  return command->run (&admin, argc - 1, argv + 1);
}

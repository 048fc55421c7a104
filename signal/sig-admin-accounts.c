/* sotto-admin's account commands: add, passwd, enable, disable, delete, list. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include <errno.h>
#include <gio/gio.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sig-admin.h"
#include "sotto-util.h"

/* How long a command waits for another writer (a second sotto-admin) before giving up. */
#define ADMIN_BUSY_TIMEOUT_MS 5000
#define MAX_PASSWORD_LINE 1024

/* ---- Arguments --------------------------------------------------------------------------- */

typedef struct
{
  const char *user;
  gboolean password_stdin;
  gboolean help;
} Args;

/* Accepts exactly one user name and, when @allow_stdin, --password-stdin. Anything else is a
 * usage error; a second word is refused loudly, since it is most likely a password. */
static SigAdminExit
parse_user_args (int argc, char **argv, gboolean allow_stdin, Args *out)
{
  const char *usage = allow_stdin ? "USER [--password-stdin]" : "USER";

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--help") || g_str_equal (arg, "-h"))
        out->help = TRUE;
      else if (allow_stdin && g_str_equal (arg, "--password-stdin"))
        out->password_stdin = TRUE;
      else if (arg[0] == '-')
        return sig_admin_usage ("%s: unknown option \"%s\" (usage: %s %s)", argv[0], arg, argv[0],
                                usage);
      else if (out->user == NULL)
        out->user = arg;
      else if (allow_stdin)
        return sig_admin_usage ("%s takes one user name; a password is never accepted on the "
                                "command line (use --password-stdin)",
                                argv[0]);
      else
        return sig_admin_usage ("%s takes one user name", argv[0]);
    }
  if (out->help)
    {
      printf ("Usage: sotto-admin [OPTIONS] %s %s\n", argv[0], usage);
      return SIG_ADMIN_EXIT_OK;
    }
  if (out->user == NULL)
    return sig_admin_usage ("%s needs a user name (usage: %s %s)", argv[0], argv[0], usage);
  if (!sig_accounts_name_is_valid (out->user))
    return sig_admin_fail ("invalid user name \"%s\": use 1-64 characters of a-z, 0-9, '.', "
                           "'_' and '-', starting with a letter or a digit",
                           out->user);
  return SIG_ADMIN_EXIT_OK;
}

static SigAccounts *
open_accounts (SigAdmin *admin, GError **error)
{
  return sig_accounts_open (admin->db_path, ADMIN_BUSY_TIMEOUT_MS, error);
}

/* ---- Passwords --------------------------------------------------------------------------- */

/* Reads one line from standard input with read(2), so no stdio buffer keeps a copy. When
 * stdin is a terminal the echo is turned off for the time of the read. */
static char *
read_password_line (const char *user, const char *domain, GError **error)
{
  char buf[MAX_PASSWORD_LINE + 2];
  gsize len = 0;
  gboolean too_long = FALSE;
  struct termios saved;
  gboolean restore = FALSE;
  char *password = NULL;

  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      struct termios quiet = saved;

      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
      fprintf (stderr, "Password for %s@%s: ", user, domain);
      fflush (stderr);
    }

  while (TRUE)
    {
      char c;
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read standard input: %s",
                       g_strerror (saved_errno));
          goto out;
        }
      if (n == 0 || c == '\n')
        break;
      if (len < sizeof buf - 1)
        buf[len++] = c;
      else
        too_long = TRUE;
    }
  if (len > 0 && buf[len - 1] == '\r')
    len--;
  buf[len] = '\0';

  if (too_long || len > MAX_PASSWORD_LINE)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "the password on standard input is longer than %d bytes", MAX_PASSWORD_LINE);
  else if (len == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "the password on standard input is empty");
  else if (memchr (buf, '\0', len) != NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "the password on standard input contains a NUL byte");
  else
    password = g_strndup (buf, len);

out:
  OPENSSL_cleanse (buf, sizeof buf);
  if (restore)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved);
      fputc ('\n', stderr);
    }
  return password;
}

typedef gboolean (*SetPasswordFunc) (SigAccounts *accounts, const char *username,
                                     const char *realm, const char *password, GError **error);

/* add and passwd differ only in the store call. */
static SigAdminExit
set_password (SigAdmin *admin, int argc, char **argv, SetPasswordFunc store)
{
  Args args = { NULL, FALSE, FALSE };
  SigAdminExit code = parse_user_args (argc, argv, TRUE, &args);
  g_autoptr (SottoSecret) password = NULL;
  g_autoptr (SigAccounts) accounts = NULL;
  g_autoptr (GError) error = NULL;
  const char *realm = admin->config->domain;

  if (code != SIG_ADMIN_EXIT_OK || args.help)
    return code;

  /* Open first, so a locked or unreadable database fails before anyone types a password. */
  accounts = open_accounts (admin, &error);
  if (accounts == NULL)
    return sig_admin_fail ("%s", error->message);

  /* Say "exists" or "no such user" before anyone types a password; the store checks again. */
  {
    g_autoptr (SigAccount) existing = NULL;

    if (!sig_accounts_lookup (accounts, args.user, &existing, &error))
      return sig_admin_fail ("%s", error->message);
    if (store == sig_accounts_add && existing != NULL)
      return sig_admin_fail ("user %s already exists", args.user);
    if (store == sig_accounts_passwd && existing == NULL)
      return sig_admin_fail ("no such user: %s", args.user);
  }

  if (args.password_stdin)
    password = read_password_line (args.user, realm, &error);
  else
    password = sig_accounts_generate_password ();
  if (password == NULL)
    return sig_admin_fail ("%s", error->message);

  if (!store (accounts, args.user, realm, password, &error))
    return sig_admin_fail ("%s", error->message);

  /* Shown only once the account is stored, so a failure never prints a useless password. */
  if (!args.password_stdin)
    {
      printf ("password for %s@%s: %s\n", args.user, realm, password);
      fflush (stdout);
    }
  return SIG_ADMIN_EXIT_OK;
}

SigAdminExit
sig_admin_cmd_add (SigAdmin *admin, int argc, char **argv)
{
  return set_password (admin, argc, argv, sig_accounts_add);
}

SigAdminExit
sig_admin_cmd_passwd (SigAdmin *admin, int argc, char **argv)
{
  return set_password (admin, argc, argv, sig_accounts_passwd);
}

/* ---- Simple changes ---------------------------------------------------------------------- */

typedef enum
{
  CHANGE_ENABLE,
  CHANGE_DISABLE,
  CHANGE_DELETE,
} Change;

static SigAdminExit
change_account (SigAdmin *admin, int argc, char **argv, Change change)
{
  Args args = { NULL, FALSE, FALSE };
  SigAdminExit code = parse_user_args (argc, argv, FALSE, &args);
  g_autoptr (SigAccounts) accounts = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (code != SIG_ADMIN_EXIT_OK || args.help)
    return code;
  accounts = open_accounts (admin, &error);
  if (accounts == NULL)
    return sig_admin_fail ("%s", error->message);

  if (change == CHANGE_DELETE)
    ok = sig_accounts_delete (accounts, args.user, &error);
  else
    ok = sig_accounts_set_enabled (accounts, args.user, change == CHANGE_ENABLE, &error);
  if (!ok)
    return sig_admin_fail ("%s", error->message);
  return SIG_ADMIN_EXIT_OK;
}

SigAdminExit
sig_admin_cmd_enable (SigAdmin *admin, int argc, char **argv)
{
  return change_account (admin, argc, argv, CHANGE_ENABLE);
}

SigAdminExit
sig_admin_cmd_disable (SigAdmin *admin, int argc, char **argv)
{
  return change_account (admin, argc, argv, CHANGE_DISABLE);
}

SigAdminExit
sig_admin_cmd_delete (SigAdmin *admin, int argc, char **argv)
{
  return change_account (admin, argc, argv, CHANGE_DELETE);
}

/* ---- list -------------------------------------------------------------------------------- */

SigAdminExit
sig_admin_cmd_list (SigAdmin *admin, int argc, char **argv)
{
  g_autoptr (SigAccounts) accounts = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  int width = 0;

  if (argc == 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      printf ("Usage: sotto-admin [OPTIONS] list\n");
      return SIG_ADMIN_EXIT_OK;
    }
  if (argc > 1)
    return sig_admin_usage ("list takes no arguments");

  accounts = open_accounts (admin, &error);
  if (accounts == NULL)
    return sig_admin_fail ("%s", error->message);
  list = sig_accounts_list (accounts, &error);
  if (list == NULL)
    return sig_admin_fail ("%s", error->message);

  for (guint i = 0; i < list->len; i++)
    {
      const SigAccount *account = g_ptr_array_index (list, i);
      width = MAX (width, (int) strlen (account->username));
    }
  for (guint i = 0; i < list->len; i++)
    {
      const SigAccount *account = g_ptr_array_index (list, i);
      g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (account->created);
      g_autofree char *date = created != NULL ? g_date_time_format (created, "%Y-%m-%d")
                                              : g_strdup ("?");

      printf ("%-*s  %-8s  %s", width, account->username,
              account->enabled ? "enabled" : "disabled", date);
      /* HA1 binds the realm: such an account cannot log in until its password is set again. */
      if (g_strcmp0 (account->realm, admin->config->domain) != 0)
        printf ("  (realm %s: run passwd)", account->realm);
      putchar ('\n');
    }
  fflush (stdout);
  return SIG_ADMIN_EXIT_OK;
}

/* sig-admin: internals shared by sotto-admin's main and its subcommands. */
#pragma once

#include <glib.h>

#include "sig-accounts.h"
#include "sig-config.h"

G_BEGIN_DECLS

typedef enum
{
  SIG_ADMIN_EXIT_OK = 0,
  SIG_ADMIN_EXIT_FAILURE = 1, /* the command could not be done */
  SIG_ADMIN_EXIT_USAGE = 2,   /* the command line is wrong */
} SigAdminExit;

typedef struct
{
  SigConfig *config; /* the file's settings with the command-line overrides applied */
  char *db_path;     /* sig_config_accounts_path (config) */
} SigAdmin;

/* @argv[0] is the command's name; options after it belong to the command. */
typedef SigAdminExit (*SigAdminCommandFunc) (SigAdmin *admin, int argc, char **argv);

typedef struct
{
  const char *name;
  const char *args;    /* shown in the usage text */
  const char *summary;
  SigAdminCommandFunc run;
} SigAdminCommand;

/* The account commands (sig-admin-accounts.c). */
SigAdminExit sig_admin_cmd_add (SigAdmin *admin, int argc, char **argv);
SigAdminExit sig_admin_cmd_passwd (SigAdmin *admin, int argc, char **argv);
SigAdminExit sig_admin_cmd_enable (SigAdmin *admin, int argc, char **argv);
SigAdminExit sig_admin_cmd_disable (SigAdmin *admin, int argc, char **argv);
SigAdminExit sig_admin_cmd_delete (SigAdmin *admin, int argc, char **argv);
SigAdminExit sig_admin_cmd_list (SigAdmin *admin, int argc, char **argv);

/* Print one "sotto-admin: ..." line on stderr and return the matching exit code. */
SigAdminExit sig_admin_fail (const char *format, ...) G_GNUC_PRINTF (1, 2);
SigAdminExit sig_admin_usage (const char *format, ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS

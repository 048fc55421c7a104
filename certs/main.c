/* sotto-certs: makes and imports the TLS certificates Sotto's servers use.
 * This file only parses options and dispatches; each subcommand lives in cmd-*.c. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "sotto-certs.h"

#define EXIT_USAGE 2

static int
report (GError *error)
{
  gboolean usage;

  if (error == NULL)
    return 0;
  usage = g_error_matches (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_USAGE)
          || g_error_matches (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_NAME)
          || error->domain == G_OPTION_ERROR;
  g_printerr ("sotto-certs: %s\n", error->message);
  return usage ? EXIT_USAGE : 1;
}

/* Parses @entries; extra arguments are a usage error. */
static gboolean
parse (int argc, char **argv, const char *command, const char *summary,
       const GOptionEntry *entries, GError **error)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autofree char *prgname = g_strdup_printf ("sotto-certs %s", command);
  g_autofree char *parameter = g_strdup_printf ("- %s", summary);

  g_set_prgname (prgname);
  context = g_option_context_new (parameter);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, error))
    return FALSE;
  if (argc > 1)
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_USAGE, "unexpected argument “%s”",
                   argv[1]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
require (const char *value, const char *option, GError **error)
{
  if (value != NULL && *value != '\0')
    return TRUE;
  g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_USAGE, "%s is required", option);
  return FALSE;
}

static int
cmd_init (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_auto (GStrv) names = NULL;
  gboolean force_ca = FALSE;
  int days = SOTTO_CERTS_SERVER_DAYS_DEFAULT;
  const GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Certificate directory (created 0700)", "DIR" },
    { "name", 'n', 0, G_OPTION_ARG_STRING_ARRAY, &names, "DNS name of the server (repeat)", "DNS" },
    { "force-ca", 0, 0, G_OPTION_ARG_NONE, &force_ca, "Replace an existing CA", NULL },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, "Server certificate lifetime (default 825)", "N" },
    { NULL },
  };
  SottoCertsInitOptions opts;

  if (!parse (argc, argv, "init", "make a private CA and a server certificate", entries, &error)
      || !require (dir, "--dir", &error) || !require (names ? names[0] : NULL, "--name", &error))
    return report (error);
  opts = (SottoCertsInitOptions){
    .dir = dir, .names = (const char *const *) names, .force_ca = force_ca, .days = days
  };
  sotto_certs_init (&opts, &error);
  return report (error);
}

static int
cmd_import (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL, *cert = NULL, *key = NULL, *chain = NULL, *ca = NULL;
  const GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Certificate directory (created 0700)", "DIR" },
    { "cert", 0, 0, G_OPTION_ARG_FILENAME, &cert, "Certificate (PEM, may hold the chain)", "FILE" },
    { "key", 0, 0, G_OPTION_ARG_FILENAME, &key, "Its private key (PEM, unencrypted)", "FILE" },
    { "chain", 0, 0, G_OPTION_ARG_FILENAME, &chain, "Intermediate certificates (PEM)", "FILE" },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, &ca, "Trusted CA (default: the system store)", "FILE" },
    { NULL },
  };
  SottoCertsImportOptions opts;

  if (!parse (argc, argv, "import", "take in an existing certificate and key", entries, &error)
      || !require (dir, "--dir", &error) || !require (cert, "--cert", &error)
      || !require (key, "--key", &error))
    return report (error);
  opts = (SottoCertsImportOptions){
    .dir = dir, .cert = cert, .key = key, .chain = chain, .ca = ca
  };
  sotto_certs_import (&opts, &error);
  return report (error);
}

static int
cmd_show (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  const GOptionEntry entries[] = {
    { "dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Certificate directory", "DIR" },
    { NULL },
  };

  if (!parse (argc, argv, "show", "print names, expiry and CA fingerprint", entries, &error)
      || !require (dir, "--dir", &error))
    return report (error);
  sotto_certs_show (dir, &error);
  return report (error);
}

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "init", cmd_init, "Make a private CA (once) and a server certificate for DNS names" },
  { "import", cmd_import, "Take in an existing certificate and key (for example from ACME)" },
  { "show", cmd_show, "Print the names, expiry and CA fingerprint of a directory" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: sotto-certs COMMAND [OPTIONS]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun `sotto-certs COMMAND --help` for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  if (!OPENSSL_init_ssl (OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL))
    {
      g_printerr ("sotto-certs: OpenSSL failed to start\n");
      return 1;
    }
  if (argc < 2)
    {
      usage (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (argv[1], "help") == 0 || strcmp (argv[1], "--help") == 0
      || strcmp (argv[1], "-h") == 0)
    {
      usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      g_print ("sotto-certs %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  g_printerr ("sotto-certs: unknown command “%s”\n", argv[1]);
  usage (stderr);
  return EXIT_USAGE;
}

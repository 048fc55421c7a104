/* sotto-turn: makes coturn part of a Sotto deployment. main() only dispatches. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sotto-log.h"
#include "tg-commands.h"

static const struct
{
  const char *name;
  int (*fn) (int argc, char **argv);
  const char *help;
} commands[] = {
  { "render", tg_cmd_render, "write coturn's configuration from Sotto's" },
  { "mint", tg_cmd_mint, "print a TURN credential for a user" },
  { "rotate", tg_cmd_rotate, "add a new shared secret, keeping the old ones" },
  { "run", tg_cmd_run, "run coturn with the rendered configuration and watch it" },
  { "check", tg_cmd_check, "connectivity doctor: can this network use the relay?" },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: sotto-turn COMMAND [OPTIONS]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].help);
  fprintf (out, "\nRun 'sotto-turn COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  sotto_log_init (SOTTO_LOG_LEVEL_INFO);
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].fn (argc - 1, argv + 1);
  fprintf (stderr, "sotto-turn: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return 2;
}

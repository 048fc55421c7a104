/* sotto-turn run: not written yet (issue 3). */
#include "config.h"

#include <stdio.h>

#include "tg-commands.h"

int
tg_cmd_run (int argc, char **argv)
{
  fprintf (stderr, "sotto-turn: 'run' is not implemented yet\n");
  return 1;
}

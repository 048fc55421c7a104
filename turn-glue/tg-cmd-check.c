/* sotto-turn check: not written yet (issue 3). */
#include "config.h"

#include <stdio.h>

#include "tg-commands.h"

int
tg_cmd_check (int argc, char **argv)
{
  fprintf (stderr, "sotto-turn: 'check' is not implemented yet\n");
  return 1;
}

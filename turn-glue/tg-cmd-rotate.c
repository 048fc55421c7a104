/* sotto-turn rotate: not written yet (issue 3). */
#include "config.h"

#include <stdio.h>

#include "tg-commands.h"

int
tg_cmd_rotate (int argc, char **argv)
{
  fprintf (stderr, "sotto-turn: 'rotate' is not implemented yet\n");
  return 1;
}

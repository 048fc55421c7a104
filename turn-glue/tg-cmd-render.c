/* sotto-turn render: not written yet (issue 3). */
#include "config.h"

#include <stdio.h>

#include "tg-commands.h"

int
tg_cmd_render (int argc, char **argv)
{
  fprintf (stderr, "sotto-turn: 'render' is not implemented yet\n");
  return 1;
}

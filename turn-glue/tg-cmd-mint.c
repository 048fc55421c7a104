/* sotto-turn mint: not written yet (issue 3). */
#include "config.h"

#include <stdio.h>

#include "tg-commands.h"

int
tg_cmd_mint (int argc, char **argv)
{
  fprintf (stderr, "sotto-turn: 'mint' is not implemented yet\n");
  return 1;
}

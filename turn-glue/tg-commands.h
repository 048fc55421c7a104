/* The subcommands of sotto-turn, one file each (tg-cmd-*.c). Each returns the exit status:
 * 0 success, 1 failure (one clear message on stderr), 2 usage. */
#pragma once

int tg_cmd_render (int argc, char **argv);
int tg_cmd_mint (int argc, char **argv);
int tg_cmd_rotate (int argc, char **argv);
int tg_cmd_run (int argc, char **argv);
int tg_cmd_check (int argc, char **argv);

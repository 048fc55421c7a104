/* tg-render: coturn's turnserver.conf from a TgConfig. Pure: no files, no clock.
 *
 * The shared secrets are not in the text: coturn reads them from its SQLite user database
 * (turn_secret table, see tg-userdb.h), which it queries on every authentication, so a
 * rotation takes effect without restarting coturn. The file is still written 0600: it names
 * the key file and the database. */
#pragma once

#include <glib.h>

#include "tg-config.h"

G_BEGIN_DECLS

/* Ranges a relay must never reach, as coturn's denied-peer-ip "FIRST-LAST" values. */
extern const char *const tg_render_denied_ranges[];

/* <state-dir>/turnserver.conf, <state-dir>/turn-userdb.sqlite, <state-dir>/turnserver.pid */
char *tg_render_conf_path (const TgConfig *config);
char *tg_render_userdb_path (const TgConfig *config);
char *tg_render_pid_path (const TgConfig *config);

/* The whole configuration text, one option per line. */
char *tg_render_turnserver_conf (const TgConfig *config);

G_END_DECLS

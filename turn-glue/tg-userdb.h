/* tg-userdb: the shared secrets in coturn's SQLite user database (its turn_secret table),
 * which coturn 4.6.1 queries on every authentication: after a sync, new credentials verify
 * and removed secrets stop verifying without a restart. The file is created 0600. */
#pragma once

#include <glib.h>

#include "tg-cred.h"

G_BEGIN_DECLS

/* Makes turn_secret hold exactly @secrets for @realm (one transaction), creating the database
 * (mode 0600) and the table (coturn's own schema) when missing. */
gboolean tg_userdb_sync (const char *path, const char *realm, const TgSecrets *secrets,
                         GError **error);

G_END_DECLS

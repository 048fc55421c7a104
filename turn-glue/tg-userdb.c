/* tg-userdb: see tg-userdb.h. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include "tg-userdb.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3, sqlite3_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* The same statement coturn 4.6.1 runs when it initialises an empty database. */
#define TURN_SECRET_SCHEMA \
  "CREATE TABLE IF NOT EXISTS turn_secret (realm varchar(127) default '', " \
  "value varchar(127), primary key (realm,value))"

static gboolean
db_error (sqlite3 *db, const char *path, const char *what, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "coturn user database %s: %s: %s", path,
               what, db != NULL ? sqlite3_errmsg (db) : "out of memory");
  return FALSE;
}

/* sqlite would create the file with 0644 & ~umask, and coturn too: create it ourselves. */
static gboolean
ensure_private_file (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  struct stat st;

  if (fd < 0 || fstat (fd, &st) < 0 || ((st.st_mode & 077) != 0 && fchmod (fd, 0600) < 0))
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "coturn user database %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

gboolean
tg_userdb_sync (const char *path, const char *realm, const TgSecrets *secrets, GError **error)
{
  g_autoptr (sqlite3) db = NULL;
  g_autoptr (sqlite3_stmt) del = NULL;
  g_autoptr (sqlite3_stmt) ins = NULL;

  if (!ensure_private_file (path, error))
    return FALSE;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
    return db_error (db, path, "open", error);
  /* coturn holds the database open and reads it from its threads. */
  sqlite3_busy_timeout (db, 5000);
  /* Overwrite deleted rows, so a dropped secret does not linger in free pages. */
  sqlite3_exec (db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
  if (sqlite3_exec (db, TURN_SECRET_SCHEMA, NULL, NULL, NULL) != SQLITE_OK)
    return db_error (db, path, "creating turn_secret", error);
  if (sqlite3_prepare_v2 (db, "DELETE FROM turn_secret WHERE realm = ?1", -1, &del, NULL)
          != SQLITE_OK
      || sqlite3_prepare_v2 (db, "INSERT OR IGNORE INTO turn_secret (realm, value) VALUES (?1, ?2)",
                             -1, &ins, NULL)
             != SQLITE_OK)
    return db_error (db, path, "prepare", error);
  if (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_error (db, path, "begin", error);
  sqlite3_bind_text (del, 1, realm, -1, SQLITE_STATIC);
  if (sqlite3_step (del) != SQLITE_DONE)
    goto rollback;
  for (guint i = 0; i < tg_secrets_count (secrets); i++)
    {
      sqlite3_reset (ins);
      sqlite3_bind_text (ins, 1, realm, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 2, tg_secrets_get (secrets, i), -1, SQLITE_STATIC);
      if (sqlite3_step (ins) != SQLITE_DONE)
        goto rollback;
    }
  sqlite3_clear_bindings (ins);
  if (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto rollback;
  return TRUE;

rollback:
  db_error (db, path, "writing the secrets", error);
  sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
  return FALSE;
}

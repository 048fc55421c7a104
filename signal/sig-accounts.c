/* sig-accounts: the account store (see sig-accounts.h).
 *
 * One SQLite file in WAL mode, so the server can read while sotto-admin writes. Every change
 * is one short IMMEDIATE transaction: it takes the write lock up front, which lets SQLite's
 * busy handler wait for another writer instead of failing with a deadlock later. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-accounts.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sig-accounts-cache.h"
#include "sig-digest.h"
#include "sotto-util.h"

/* The longest password we hash. Longer ones are almost certainly a mistake (a file piped
 * in by accident), and HA1 gains nothing from them. */
#define SIG_ACCOUNTS_MAX_PASSWORD 1024

struct _SigAccounts
{
  sqlite3 *db;
  char *path;
  /* The server looks an account up for every authenticated request: compiling the SELECT
   * each time was most of SQLite's share of a REGISTER. Reset after each use, so it never
   * holds a read transaction open between requests (sotto-admin's writes and checkpoints
   * go on as before, and every lookup sees the last commit). */
  sqlite3_stmt *lookup;
  SigAccountsCache *cache; /* NULL unless sig_accounts_enable_cache() */
};

G_DEFINE_QUARK (sig-accounts-error-quark, sig_accounts_error)

/* ---- Schema and migrations ---------------------------------------------------------------
 * PRAGMA user_version holds the schema version. migrations[i] takes a database from
 * version i to i + 1; a new version appends one entry and never edits an old one. */

static const char *const migrations[] = {
  /* 0 -> 1: the first schema. */
  "CREATE TABLE accounts ("
  "  username   TEXT PRIMARY KEY NOT NULL,"
  "  realm      TEXT NOT NULL,"
  "  ha1_sha256 TEXT NOT NULL CHECK (length (ha1_sha256) = 64),"
  "  ha1_md5    TEXT NOT NULL CHECK (length (ha1_md5) = 32),"
  "  enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
  "  created    INTEGER NOT NULL,"
  "  changed    INTEGER NOT NULL"
  ");",
};

#define SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

/* ---- Errors ------------------------------------------------------------------------------ */

static gboolean
set_db_error (SigAccounts *self, int rc, const char *what, GError **error)
{
  int primary = rc & 0xff;

  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_LOCKED,
                 "the account database is locked by another process (%s)", self->path);
  else
    g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB, "%s: %s: %s", self->path, what,
                 self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
  return FALSE;
}

static gboolean
exec_sql (SigAccounts *self, const char *sql, const char *what, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return set_db_error (self, rc, what, error);
  return TRUE;
}

static void
rollback (SigAccounts *self)
{
  /* Harmless when no transaction is open (SQLite then reports an error we ignore). */
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static sqlite3_stmt *
prepare (SigAccounts *self, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, "preparing a statement", error);
      return NULL;
    }
  return stmt;
}

/* ---- Opening ----------------------------------------------------------------------------- */

/* Creates the file 0600 before SQLite sees it: SQLite creates -wal and -shm with the mode of
 * the database file, so they are private too. */
static gboolean
prepare_file (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct stat st;
  int fd;

  if (g_stat (dir, &st) != 0)
    {
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved = errno;
          g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB, "cannot create %s: %s",
                       dir, g_strerror (saved));
          return FALSE;
        }
    }

  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB, "cannot open %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) == 0 && (st.st_mode & 077) != 0)
    {
      /* It holds HA1s, which are password equivalents for this realm. */
      g_warning ("%s was readable by others; setting its mode to 0600", path);
      if (fchmod (fd, 0600) != 0)
        g_warning ("cannot change the mode of %s: %s", path, g_strerror (errno));
    }
  close (fd);
  return TRUE;
}

static gboolean
read_user_version (SigAccounts *self, int *out, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = prepare (self, "PRAGMA user_version", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    return set_db_error (self, rc, "reading the schema version", error);
  *out = sqlite3_column_int (stmt, 0);
  return TRUE;
}

static gboolean
migrate (SigAccounts *self, GError **error)
{
  int version = 0;

  /* A plain read first, so a reader opening while an admin holds the write lock need not
   * wait for it. */
  if (!read_user_version (self, &version, error))
    return FALSE;
  if (version == SCHEMA_VERSION)
    return TRUE;

  if (!exec_sql (self, "BEGIN IMMEDIATE", "starting the schema update", error))
    return FALSE;
  /* Read again inside the transaction: another process may have migrated meanwhile. */
  if (!read_user_version (self, &version, error))
    goto fail;
  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB,
                   "%s: schema version %d is newer than this program understands (%d)",
                   self->path, version, SCHEMA_VERSION);
      goto fail;
    }
  for (; version < SCHEMA_VERSION; version++)
    {
      g_autofree char *bump = NULL;

      if (!exec_sql (self, migrations[version], "updating the schema", error))
        goto fail;
      bump = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
      if (!exec_sql (self, bump, "updating the schema version", error))
        goto fail;
    }
  return exec_sql (self, "COMMIT", "committing the schema update", error);

fail:
  rollback (self);
  return FALSE;
}

SigAccounts *
sig_accounts_open (const char *path, guint busy_timeout_ms, GError **error)
{
  g_autoptr (SigAccounts) self = NULL;
  int rc;

  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!prepare_file (path, error))
    return NULL;

  self = g_new0 (SigAccounts, 1);
  self->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, "opening the database", error);
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, (int) MIN (busy_timeout_ms, (guint) G_MAXINT));

  /* journal_mode=WAL is persistent; once set, it only reads the header. FULL syncs the WAL
   * on every commit, so a committed account survives a power cut, not only a kill. */
  if (!exec_sql (self, "PRAGMA journal_mode = WAL", "switching to WAL mode", error)
      || !exec_sql (self, "PRAGMA synchronous = FULL", "setting synchronous mode", error)
      || !exec_sql (self, "PRAGMA foreign_keys = ON", "enabling foreign keys", error)
      || !migrate (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

void
sig_accounts_close (SigAccounts *accounts)
{
  if (accounts == NULL)
    return;
  /* Before the connection closes: the cache points into its wal-index. */
  g_clear_pointer (&accounts->cache, sig_accounts_cache_free);
  g_clear_pointer (&accounts->lookup, sqlite3_finalize);
  if (accounts->db != NULL)
    sqlite3_close_v2 (accounts->db);
  g_free (accounts->path);
  g_free (accounts);
}

void
sig_account_free (SigAccount *account)
{
  if (account == NULL)
    return;
  g_free (account->username);
  g_free (account->realm);
  sotto_util_secret_free (account->ha1_sha256);
  sotto_util_secret_free (account->ha1_md5);
  g_free (account);
}

/* ---- Validation -------------------------------------------------------------------------- */

gboolean
sig_accounts_name_is_valid (const char *username)
{
  gsize len;

  if (username == NULL)
    return FALSE;
  len = strlen (username);
  if (len < 1 || len > 64)
    return FALSE;
  if (!g_ascii_islower (username[0]) && !g_ascii_isdigit (username[0]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = username[i];
      if (!g_ascii_islower (c) && !g_ascii_isdigit (c) && c != '.' && c != '_' && c != '-')
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_name (const char *username, GError **error)
{
  g_autofree char *shown = NULL;

  if (sig_accounts_name_is_valid (username))
    return TRUE;
  shown = g_strescape (username, NULL);
  g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_NAME,
               "invalid user name \"%s\": use 1-64 characters of a-z, 0-9, '.', '_' and '-', "
               "starting with a letter or a digit",
               shown);
  return FALSE;
}

static gboolean
check_password (const char *password, GError **error)
{
  gsize len = strlen (password);

  if (len == 0)
    g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_PASSWORD,
                 "the password is empty");
  else if (len > SIG_ACCOUNTS_MAX_PASSWORD)
    g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_PASSWORD,
                 "the password is longer than %d bytes", SIG_ACCOUNTS_MAX_PASSWORD);
  else if (strpbrk (password, "\r\n") != NULL)
    g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_PASSWORD,
                 "the password contains a line break");
  else
    return TRUE;
  return FALSE;
}

static gboolean
unknown_user (const char *username, GError **error)
{
  g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_NOT_FOUND, "no such user: %s",
               username);
  return FALSE;
}

/* ---- Writes ------------------------------------------------------------------------------ */

/* Runs one prepared write in its own transaction. Returns the number of rows changed, or -1
 * with @error set. A UNIQUE violation on insert becomes EXISTS. */
static int
run_write (SigAccounts *self, sqlite3_stmt *stmt, const char *username, const char *what,
           GError **error)
{
  int rc;
  int changes;

  if (!exec_sql (self, "BEGIN IMMEDIATE", what, error))
    return -1;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_EXISTS,
                     "user %s already exists", username);
      else
        set_db_error (self, rc, what, error);
      rollback (self);
      return -1;
    }
  changes = sqlite3_changes (self->db);
  rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, what, error);
      rollback (self);
      return -1;
    }
  return changes;
}

typedef struct
{
  char *sha256;
  char *md5;
} Ha1Pair;

static void
ha1_pair_clear (Ha1Pair *pair)
{
  g_clear_pointer (&pair->sha256, sotto_util_secret_free);
  g_clear_pointer (&pair->md5, sotto_util_secret_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ha1Pair, ha1_pair_clear)

static void
ha1_pair_compute (Ha1Pair *pair, const char *username, const char *realm, const char *password)
{
  pair->sha256 = sig_digest_ha1 (SIG_DIGEST_ALG_SHA256, username, realm, password);
  pair->md5 = sig_digest_ha1 (SIG_DIGEST_ALG_MD5, username, realm, password);
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Runs @sql, an INSERT or UPDATE whose parameters are ?1 user name, ?2 realm, ?3 and ?4 the
 * SHA-256 and MD5 HA1s, ?5 now. Returns the number of rows changed, or -1 with @error. */
static int
write_credentials (SigAccounts *accounts, const char *sql, const char *username,
                   const char *realm, const char *password, const char *what, GError **error)
{
  g_auto (Ha1Pair) ha1 = { NULL, NULL };
  g_autoptr (sqlite3_stmt) stmt = NULL;

  if (!check_name (username, error) || !check_password (password, error))
    return -1;
  ha1_pair_compute (&ha1, username, realm, password);

  stmt = prepare (accounts, sql, error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, realm, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, ha1.sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, ha1.md5, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, now_seconds ());
  return run_write (accounts, stmt, username, what, error);
}

gboolean
sig_accounts_add (SigAccounts *accounts, const char *username, const char *realm,
                  const char *password, GError **error)
{
  static const char sql[] = "INSERT INTO accounts (username, realm, ha1_sha256, ha1_md5, enabled,"
                            " created, changed) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)";

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (realm != NULL && *realm != '\0', FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  return write_credentials (accounts, sql, username, realm, password, "adding an account",
                            error)
         >= 0;
}

gboolean
sig_accounts_passwd (SigAccounts *accounts, const char *username, const char *realm,
                     const char *password, GError **error)
{
  static const char sql[] = "UPDATE accounts SET realm = ?2, ha1_sha256 = ?3, ha1_md5 = ?4,"
                            " changed = ?5 WHERE username = ?1";
  int changes;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (realm != NULL && *realm != '\0', FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  changes = write_credentials (accounts, sql, username, realm, password, "changing a password",
                               error);
  if (changes < 0)
    return FALSE;
  if (changes == 0)
    return unknown_user (username, error);
  return TRUE;
}

gboolean
sig_accounts_set_enabled (SigAccounts *accounts, const char *username, gboolean enabled,
                          GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int changes;

  g_return_val_if_fail (accounts != NULL, FALSE);

  if (!check_name (username, error))
    return FALSE;
  stmt = prepare (accounts, "UPDATE accounts SET enabled = ?2, changed = ?3 WHERE username = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, enabled ? 1 : 0);
  sqlite3_bind_int64 (stmt, 3, now_seconds ());
  changes = run_write (accounts, stmt, username,
                       enabled ? "enabling an account" : "disabling an account", error);
  if (changes < 0)
    return FALSE;
  if (changes == 0)
    return unknown_user (username, error);
  return TRUE;
}

gboolean
sig_accounts_delete (SigAccounts *accounts, const char *username, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int changes;

  g_return_val_if_fail (accounts != NULL, FALSE);

  if (!check_name (username, error))
    return FALSE;
  stmt = prepare (accounts, "DELETE FROM accounts WHERE username = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_TRANSIENT);
  changes = run_write (accounts, stmt, username, "deleting an account", error);
  if (changes < 0)
    return FALSE;
  if (changes == 0)
    return unknown_user (username, error);
  return TRUE;
}

/* ---- Reads ------------------------------------------------------------------------------- */

#define SELECT_COLUMNS "username, realm, ha1_sha256, ha1_md5, enabled, created, changed"

static char *
column_text (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return g_strdup (text != NULL ? (const char *) text : "");
}

static SigAccount *
account_from_row (sqlite3_stmt *stmt)
{
  SigAccount *account = g_new0 (SigAccount, 1);

  account->username = column_text (stmt, 0);
  account->realm = column_text (stmt, 1);
  account->ha1_sha256 = column_text (stmt, 2);
  account->ha1_md5 = column_text (stmt, 3);
  account->enabled = sqlite3_column_int (stmt, 4) != 0;
  account->created = sqlite3_column_int64 (stmt, 5);
  account->changed = sqlite3_column_int64 (stmt, 6);
  return account;
}

static SigAccount *
account_copy (const SigAccount *a)
{
  SigAccount *copy = g_new0 (SigAccount, 1);

  copy->username = g_strdup (a->username);
  copy->realm = g_strdup (a->realm);
  copy->ha1_sha256 = g_strdup (a->ha1_sha256);
  copy->ha1_md5 = g_strdup (a->ha1_md5);
  copy->enabled = a->enabled;
  copy->created = a->created;
  copy->changed = a->changed;
  return copy;
}

gboolean
sig_accounts_enable_cache (SigAccounts *accounts, guint max_entries)
{
  sqlite3_file *file = NULL;

  g_return_val_if_fail (accounts != NULL, FALSE);

  if (accounts->cache != NULL)
    return TRUE;
  if (sqlite3_file_control (accounts->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK)
    return FALSE;
  accounts->cache = sig_accounts_cache_new (file, max_entries);
  return accounts->cache != NULL;
}

gboolean
sig_accounts_lookup (SigAccounts *accounts, const char *username, SigAccount **out,
                     GError **error)
{
  sqlite3_stmt *stmt;
  const SigAccount *cached;
  int rc;

  g_return_val_if_fail (accounts != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  /* Names come from the network here: one that breaks the rules cannot exist. */
  if (!sig_accounts_name_is_valid (username))
    {
      *out = NULL;
      return TRUE;
    }
  /* Before anything else: the cache notes the database's state as of this point, so a
   * commit that lands during the SELECT below empties it at the next lookup. */
  cached = accounts->cache ? sig_accounts_cache_get (accounts->cache, username) : NULL;
  if (cached != NULL)
    {
      *out = account_copy (cached);
      return TRUE;
    }
  if (accounts->lookup == NULL)
    {
      accounts->lookup = prepare (accounts,
                                  "SELECT " SELECT_COLUMNS " FROM accounts WHERE username = ?1",
                                  error);
      if (accounts->lookup == NULL)
        return FALSE;
    }
  stmt = accounts->lookup;
  sqlite3_bind_text (stmt, 1, username, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *out = account_from_row (stmt);
      if (accounts->cache)
        sig_accounts_cache_put (accounts->cache, account_copy (*out));
    }
  else if (rc == SQLITE_DONE)
    *out = NULL;
  else
    set_db_error (accounts, rc, "looking up an account", error);
  /* Ends the read transaction and drops the borrowed name. */
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

GPtrArray *
sig_accounts_list (SigAccounts *accounts, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GPtrArray) list = NULL;
  int rc;

  g_return_val_if_fail (accounts != NULL, NULL);

  stmt = prepare (accounts, "SELECT " SELECT_COLUMNS " FROM accounts ORDER BY username", error);
  if (stmt == NULL)
    return NULL;
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) sig_account_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, account_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      set_db_error (accounts, rc, "listing accounts", error);
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* ---- Passwords --------------------------------------------------------------------------- */

/* Look-alikes left out (0 O Q o, 1 I l i, 2 Z, 5 S, 6 G, 8 B): 50 symbols, so 20 of them
 * carry about 112 bits. */
static const char password_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyzACDEFHJKLMNPRTUVWXY";

char *
sig_accounts_generate_password (void)
{
  const guint n_symbols = sizeof password_alphabet - 1;
  const guint limit = 256 - 256 % n_symbols; /* rejection sampling keeps it uniform */
  char *password = g_malloc0 (21);
  guint8 pool[64];
  gsize filled = 0;
  gsize used = sizeof pool;
  g_autoptr (GError) error = NULL;

  G_STATIC_ASSERT (sizeof password_alphabet - 1 == 50);

  while (filled < 20)
    {
      if (used == sizeof pool)
        {
          /* A broken random generator must never yield a weak password. */
          if (!sotto_util_random (pool, sizeof pool, &error))
            g_error ("cannot generate a password: %s", error->message);
          used = 0;
        }
      if (pool[used] < limit)
        password[filled++] = password_alphabet[pool[used] % n_symbols];
      used++;
    }
  OPENSSL_cleanse (pool, sizeof pool);
  return password;
}

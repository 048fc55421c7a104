/* Unit tests for sig-accounts: every operation, HA1 values computed here with EVP, the error
 * codes, file modes, no password in the files, and locking against a second connection. */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include "signal/sig-accounts.h"
#include "sotto-test.h"

#define REALM "example.org"

/* ---- Helpers ------------------------------------------------------------------------------- */

static char *
expected_ha1 (const EVP_MD *md, const char *user, const char *realm, const char *password)
{
  g_autofree char *a1 = g_strdup_printf ("%s:%s:%s", user, realm, password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *hex = g_string_new (NULL);

  g_assert_cmpint (EVP_Digest (a1, strlen (a1), digest, &len, md, NULL), ==, 1);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

static void
assert_ha1s (const SigAccount *account, const char *realm, const char *password)
{
  g_autofree char *sha = expected_ha1 (EVP_sha256 (), account->username, realm, password);
  g_autofree char *md5 = expected_ha1 (EVP_md5 (), account->username, realm, password);

  g_assert_cmpstr (account->realm, ==, realm);
  g_assert_cmpstr (account->ha1_sha256, ==, sha);
  g_assert_cmpstr (account->ha1_md5, ==, md5);
}

typedef struct
{
  char *dir;     /* a fresh temporary folder */
  char *db_path; /* inside a sub-folder the store must create */
  SigAccounts *accounts;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("sotto-accounts-XXXXXX", &error);
  g_assert_no_error (error);
  f->db_path = g_build_filename (f->dir, "state", "accounts.db", NULL);
  f->accounts = sig_accounts_open (f->db_path, 2000, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->accounts);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->accounts, sig_accounts_close);
  sotto_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db_path);
}

static SigAccount *
must_lookup (SigAccounts *accounts, const char *user)
{
  g_autoptr (GError) error = NULL;
  SigAccount *account = NULL;

  g_assert_true (sig_accounts_lookup (accounts, user, &account, &error));
  g_assert_no_error (error);
  g_assert_nonnull (account);
  return account;
}

/* ---- Operations ---------------------------------------------------------------------------- */

static void
test_add_lookup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccount) bob = NULL;
  SigAccount *none = (SigAccount *) 0x1;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "correct horse", &error));
  g_assert_no_error (error);

  bob = must_lookup (f->accounts, "bob");
  g_assert_cmpstr (bob->username, ==, "bob");
  assert_ha1s (bob, REALM, "correct horse");
  g_assert_cmpuint (strlen (bob->ha1_sha256), ==, 64);
  g_assert_cmpuint (strlen (bob->ha1_md5), ==, 32);
  g_assert_true (bob->enabled);
  g_assert_cmpint (bob->created, >=, now - 5);
  g_assert_cmpint (bob->created, <=, now + 5);
  g_assert_cmpint (bob->changed, ==, bob->created);

  /* Unknown and impossible names: TRUE with NULL. */
  g_assert_true (sig_accounts_lookup (f->accounts, "alice", &none, &error));
  g_assert_no_error (error);
  g_assert_null (none);
  none = (SigAccount *) 0x1;
  g_assert_true (sig_accounts_lookup (f->accounts, "Bob'; DROP TABLE accounts;--", &none, &error));
  g_assert_no_error (error);
  g_assert_null (none);
}

static void
test_passwd (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccount) before = NULL;
  g_autoptr (SigAccount) after = NULL;
  g_autoptr (SigAccount) other = NULL;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "first", &error));
  g_assert_true (sig_accounts_add (f->accounts, "carol", REALM, "first", &error));
  g_assert_no_error (error);
  before = must_lookup (f->accounts, "bob");

  g_assert_true (sig_accounts_passwd (f->accounts, "bob", "new.example", "second", &error));
  g_assert_no_error (error);
  after = must_lookup (f->accounts, "bob");
  assert_ha1s (after, "new.example", "second");
  g_assert_cmpstr (after->ha1_sha256, !=, before->ha1_sha256);
  g_assert_cmpint (after->created, ==, before->created);
  g_assert_cmpint (after->changed, >=, before->changed);

  /* The other account is untouched. */
  other = must_lookup (f->accounts, "carol");
  assert_ha1s (other, REALM, "first");

  g_assert_false (sig_accounts_passwd (f->accounts, "dave", REALM, "x", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "dave"));
}

static void
test_enable_disable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "pw", &error));
  g_assert_true (sig_accounts_set_enabled (f->accounts, "bob", FALSE, &error));
  g_assert_no_error (error);
  {
    g_autoptr (SigAccount) a = must_lookup (f->accounts, "bob");
    g_assert_false (a->enabled);
    assert_ha1s (a, REALM, "pw");
  }
  /* Disabling twice is fine (the row exists). */
  g_assert_true (sig_accounts_set_enabled (f->accounts, "bob", FALSE, &error));
  g_assert_true (sig_accounts_set_enabled (f->accounts, "bob", TRUE, &error));
  g_assert_no_error (error);
  {
    g_autoptr (SigAccount) a = must_lookup (f->accounts, "bob");
    g_assert_true (a->enabled);
  }
  g_assert_false (sig_accounts_set_enabled (f->accounts, "zed", TRUE, &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_NOT_FOUND);
}

static void
test_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SigAccount *gone = NULL;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "pw", &error));
  g_assert_true (sig_accounts_add (f->accounts, "carol", REALM, "pw", &error));
  g_assert_true (sig_accounts_delete (f->accounts, "bob", &error));
  g_assert_no_error (error);
  g_assert_true (sig_accounts_lookup (f->accounts, "bob", &gone, &error));
  g_assert_null (gone);
  {
    g_autoptr (SigAccount) carol = must_lookup (f->accounts, "carol");
  }
  g_assert_false (sig_accounts_delete (f->accounts, "bob", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The name is free again. */
  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "again", &error));
  g_assert_no_error (error);
}

static void
test_list (Fixture *f, gconstpointer data)
{
  const char *names[] = { "zed", "amy", "bob", "0x", "a.b" };
  const char *sorted[] = { "0x", "a.b", "amy", "bob", "zed" };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) empty = sig_accounts_list (f->accounts, &error);
  g_autoptr (GPtrArray) list = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (empty);
  g_assert_cmpuint (empty->len, ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_true (sig_accounts_add (f->accounts, names[i], REALM, names[i], &error));
  g_assert_true (sig_accounts_set_enabled (f->accounts, "amy", FALSE, &error));
  g_assert_no_error (error);

  list = sig_accounts_list (f->accounts, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (sorted));
  for (guint i = 0; i < list->len; i++)
    {
      const SigAccount *a = g_ptr_array_index (list, i);
      g_assert_cmpstr (a->username, ==, sorted[i]);
      g_assert_cmpint (a->enabled, ==, !g_str_equal (a->username, "amy"));
      assert_ha1s (a, REALM, a->username);
    }
}

/* ---- Errors -------------------------------------------------------------------------------- */

static void
test_duplicate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccount) bob = NULL;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "one", &error));
  g_assert_false (sig_accounts_add (f->accounts, "bob", REALM, "two", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "bob"));
  g_assert_nonnull (strstr (error->message, "exists"));

  /* The first password still holds. */
  bob = must_lookup (f->accounts, "bob");
  assert_ha1s (bob, REALM, "one");
}

static void
test_bad_names (Fixture *f, gconstpointer data)
{
  g_autofree char *too_long = g_strnfill (65, 'a');
  g_autofree char *longest = g_strnfill (64, 'a');
  const char *bad[] = { "", "Bob", "-bob", ".bob", "_bob", "bob smith", "bob@example.org",
                        "b\303\266b", "bob\n", "bob:x", too_long };
  const char *good[] = { "a", "0day", "a.b_c-d", "x-", longest };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (sig_accounts_name_is_valid (bad[i]));
      g_assert_false (sig_accounts_add (f->accounts, bad[i], REALM, "pw", &error));
      g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_NAME);
      g_assert_nonnull (strstr (error->message, "1-64 characters of a-z, 0-9"));
      g_clear_error (&error);
      g_assert_false (sig_accounts_passwd (f->accounts, bad[i], REALM, "pw", &error));
      g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_NAME);
      g_clear_error (&error);
      g_assert_false (sig_accounts_delete (f->accounts, bad[i], &error));
      g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_NAME);
    }
  g_assert_false (sig_accounts_name_is_valid (NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (sig_accounts_name_is_valid (good[i]));
      g_assert_true (sig_accounts_add (f->accounts, good[i], REALM, "pw", &error));
      g_assert_no_error (error);
    }
}

static void
test_bad_passwords (Fixture *f, gconstpointer data)
{
  g_autofree char *too_long = g_strnfill (1025, 'p');
  g_autofree char *longest = g_strnfill (1024, 'p');
  const char *bad[] = { "", "two\nlines", "cr\r", too_long };
  g_autoptr (GError) error = NULL;
  SigAccount *none = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (sig_accounts_add (f->accounts, "bob", REALM, bad[i], &error));
      g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_PASSWORD);
      g_clear_error (&error);
    }
  g_assert_true (sig_accounts_lookup (f->accounts, "bob", &none, &error));
  g_assert_null (none);

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, longest, &error));
  g_assert_no_error (error);
  g_assert_false (sig_accounts_passwd (f->accounts, "bob", REALM, "", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_BAD_PASSWORD);
  {
    g_autoptr (SigAccount) bob = must_lookup (f->accounts, "bob");
    assert_ha1s (bob, REALM, longest);
  }
}

/* ---- Files --------------------------------------------------------------------------------- */

static gboolean
file_contains (const char *path, const char *needle)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  gsize n = strlen (needle);

  if (!g_file_get_contents (path, &data, &len, NULL))
    return FALSE;
  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

static void
test_no_password_in_files (Fixture *f, gconstpointer data)
{
  const char *password = "Unmistakable-Pa55word-Marker";
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
  g_autoptr (GError) error = NULL;
  g_autofree char *ha1 = expected_ha1 (EVP_sha256 (), "bob", REALM, password);
  gboolean ha1_seen = FALSE;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, password, &error));
  g_assert_true (sig_accounts_passwd (f->accounts, "bob", REALM, password, &error));
  g_assert_no_error (error);

  /* While the store is open the rows are in the WAL, then in the main file. */
  for (int round = 0; round < 2; round++)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *path = g_strconcat (f->db_path, suffixes[i], NULL);

          g_assert_false (file_contains (path, password));
          /* The search itself works: the HA1 is found somewhere. */
          ha1_seen |= file_contains (path, ha1);
        }
      g_clear_pointer (&f->accounts, sig_accounts_close);
    }
  g_assert_true (ha1_seen);
}

static void
assert_mode (const char *path, guint expected)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  if ((st.st_mode & 0777) != expected)
    g_error ("%s has mode %o, expected %o", path, st.st_mode & 0777, expected);
}

static void
test_file_modes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = g_path_get_dirname (f->db_path);
  g_autofree char *wal = g_strconcat (f->db_path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->db_path, "-shm", NULL);
  mode_t old = umask (0);

  /* A permissive umask must not make the files readable by others. */
  g_clear_pointer (&f->accounts, sig_accounts_close);
  sotto_test_remove_tree (state);
  f->accounts = sig_accounts_open (f->db_path, 1000, &error);
  umask (old);
  g_assert_no_error (error);
  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "pw", &error));
  g_assert_no_error (error);

  assert_mode (state, 0700);
  assert_mode (f->db_path, 0600);
  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));
  assert_mode (wal, 0600);
  assert_mode (shm, 0600);

  /* WAL mode and FULL sync are in force. */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_open_v2 (f->db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==,
                     SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), ==,
                     SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}

/* A group-readable file left by someone else is tightened on open. */
static void
test_tightens_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&f->accounts, sig_accounts_close);
  g_assert_cmpint (g_chmod (f->db_path, 0644), ==, 0);
  g_test_expect_message ("sotto-signald", G_LOG_LEVEL_WARNING, "*readable by others*");
  f->accounts = sig_accounts_open (f->db_path, 1000, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  assert_mode (f->db_path, 0600);
}

/* ---- Concurrency --------------------------------------------------------------------------- */

static sqlite3 *
raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  return db;
}

static void
test_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccounts) short_wait = NULL;
  sqlite3 *holder = raw_open (f->db_path);
  gint64 start;
  gint64 elapsed_ms;

  short_wait = sig_accounts_open (f->db_path, 200, &error);
  g_assert_no_error (error);

  g_assert_cmpint (sqlite3_exec (holder, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);

  start = g_get_monotonic_time ();
  g_assert_false (sig_accounts_add (short_wait, "bob", REALM, "pw", &error));
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, "the account database is locked by another process"));
  g_clear_error (&error);
  /* It waited for the busy timeout, and not much longer. */
  g_assert_cmpint (elapsed_ms, >=, 150);
  g_assert_cmpint (elapsed_ms, <, 5000);

  g_assert_false (sig_accounts_passwd (short_wait, "bob", REALM, "pw", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_LOCKED);
  g_clear_error (&error);
  g_assert_false (sig_accounts_delete (short_wait, "bob", &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_LOCKED);
  g_clear_error (&error);

  /* A reader (the server) still opens and reads while the writer holds the lock. */
  {
    g_autoptr (SigAccounts) reader = sig_accounts_open (f->db_path, 100, &error);
    SigAccount *none = NULL;

    g_assert_no_error (error);
    g_assert_true (sig_accounts_lookup (reader, "bob", &none, &error));
    g_assert_no_error (error);
    g_assert_null (none);
  }

  g_assert_cmpint (sqlite3_exec (holder, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (holder);

  g_assert_true (sig_accounts_add (short_wait, "bob", REALM, "pw", &error));
  g_assert_no_error (error);
}

/* The server keeps its handle open for days: it must see what the admin commits. */
static void
test_reader_sees_writes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccounts) server = sig_accounts_open (f->db_path, 1000, &error);
  SigAccount *none = NULL;

  g_assert_no_error (error);
  g_assert_true (sig_accounts_lookup (server, "bob", &none, &error));
  g_assert_null (none);

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "pw1", &error));
  {
    g_autoptr (SigAccount) bob = must_lookup (server, "bob");
    assert_ha1s (bob, REALM, "pw1");
  }
  g_assert_true (sig_accounts_passwd (f->accounts, "bob", REALM, "pw2", &error));
  g_assert_true (sig_accounts_set_enabled (f->accounts, "bob", FALSE, &error));
  g_assert_no_error (error);
  {
    g_autoptr (SigAccount) bob = must_lookup (server, "bob");
    assert_ha1s (bob, REALM, "pw2");
    g_assert_false (bob->enabled);
  }
}

/* ---- Schema -------------------------------------------------------------------------------- */

static void
test_newer_schema (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  sqlite3 *db;

  g_clear_pointer (&f->accounts, sig_accounts_close);
  db = raw_open (f->db_path);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  g_assert_null (sig_accounts_open (f->db_path, 100, &error));
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB);
  g_assert_nonnull (strstr (error->message, "newer"));
}

/* Reopening keeps the data and does not re-run the schema. */
static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sig_accounts_add (f->accounts, "bob", REALM, "pw", &error));
  g_clear_pointer (&f->accounts, sig_accounts_close);
  f->accounts = sig_accounts_open (f->db_path, 1000, &error);
  g_assert_no_error (error);
  {
    g_autoptr (SigAccount) bob = must_lookup (f->accounts, "bob");
    assert_ha1s (bob, REALM, "pw");
  }
}

static void
test_not_a_database (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sotto-accounts-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "accounts.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccounts) accounts = NULL;

  g_assert_true (g_file_set_contents_full (path, "this is not an SQLite database, not at all....",
                                           -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  accounts = sig_accounts_open (path, 100, &error);
  g_assert_null (accounts);
  g_assert_error (error, SIG_ACCOUNTS_ERROR, SIG_ACCOUNTS_ERROR_DB);
  g_assert_nonnull (strstr (error->message, path));
  sotto_test_remove_tree (dir);
}

/* ---- Generated passwords ------------------------------------------------------------------- */

static void
test_generate_password (void)
{
  const char *alphabet = "23456789abcdefghjkmnpqrstuvwxyzACDEFHJKLMNPRTUVWXY";
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint counts[128] = { 0 };

  for (int i = 0; i < 200; i++)
    {
      char *pw = sig_accounts_generate_password ();

      g_assert_cmpuint (strlen (pw), ==, 20);
      g_assert_cmpuint (strspn (pw, alphabet), ==, 20);
      for (int k = 0; k < 20; k++)
        counts[(unsigned char) pw[k]]++;
      g_assert_false (g_hash_table_contains (seen, pw));
      g_hash_table_add (seen, pw);
    }
  /* 4000 symbols over 50: each should appear about 80 times; a broken sampler (say, one
   * that never reaches the end of the alphabet) fails this. */
  for (const char *c = alphabet; *c != '\0'; c++)
    g_assert_cmpuint (counts[(unsigned char) *c], >, 20);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("/signal/accounts/add-lookup", test_add_lookup);
  ADD ("/signal/accounts/passwd", test_passwd);
  ADD ("/signal/accounts/enable-disable", test_enable_disable);
  ADD ("/signal/accounts/delete", test_delete);
  ADD ("/signal/accounts/list", test_list);
  ADD ("/signal/accounts/duplicate", test_duplicate);
  ADD ("/signal/accounts/bad-names", test_bad_names);
  ADD ("/signal/accounts/bad-passwords", test_bad_passwords);
  ADD ("/signal/accounts/no-password-in-files", test_no_password_in_files);
  ADD ("/signal/accounts/file-modes", test_file_modes);
  ADD ("/signal/accounts/tightens-mode", test_tightens_mode);
  ADD ("/signal/accounts/locked", test_locked);
  ADD ("/signal/accounts/reader-sees-writes", test_reader_sees_writes);
  ADD ("/signal/accounts/newer-schema", test_newer_schema);
  ADD ("/signal/accounts/reopen", test_reopen);
  g_test_add_func ("/signal/accounts/not-a-database", test_not_a_database);
  g_test_add_func ("/signal/accounts/generate-password", test_generate_password);
  return g_test_run ();
}

/* Kill -9 safety of sig-accounts.
 *
 * A child process adds accounts (or changes passwords) in a loop and reports each index
 * through a pipe once the call has returned TRUE, that is once the change is committed. The
 * parent kills it with SIGKILL at random moments, then checks that the database passes
 * integrity_check, that every reported change is there with the right HA1, and that nothing
 * else is, except at most the one change in flight, which is either wholly there or absent. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signal/sig-accounts.h"
#include "sotto-test.h"

#define REALM "crash.example"
#define ROUNDS 20
#define MAX_DELAY_MS 60
#define N_PASSWD_ACCOUNTS 5
#define ROUND_STRIDE 1000000 /* indexes of round r start at r * ROUND_STRIDE */

typedef enum
{
  MODE_ADD,
  MODE_PASSWD,
} Mode;

/* ---- Helpers ------------------------------------------------------------------------------- */

static char *
expected_ha1 (const EVP_MD *md, const char *user, const char *password)
{
  g_autofree char *a1 = g_strdup_printf ("%s:%s:%s", user, REALM, password);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *hex = g_string_new (NULL);

  g_assert_cmpint (EVP_Digest (a1, strlen (a1), digest, &len, md, NULL), ==, 1);
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  return g_string_free (hex, FALSE);
}

static gboolean
has_password (const SigAccount *account, const char *password)
{
  g_autofree char *sha = expected_ha1 (EVP_sha256 (), account->username, password);
  g_autofree char *md5 = expected_ha1 (EVP_md5 (), account->username, password);

  return g_str_equal (account->ha1_sha256, sha) && g_str_equal (account->ha1_md5, md5)
         && g_str_equal (account->realm, REALM);
}

static void
add_name (char *buf, gsize size, guint64 index)
{
  g_snprintf (buf, size, "u%" G_GUINT64_FORMAT, index);
}

static void
password_for (char *buf, gsize size, guint64 index)
{
  g_snprintf (buf, size, "pw-%" G_GUINT64_FORMAT, index);
}

/* @committed: how many writes were reported committed so far. A child killed in its first
 * millisecond may not have created the file yet; that is only fine when nothing was. */
static void
assert_integrity (const char *path, guint committed)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  if (committed == 0 && !g_file_test (path, G_FILE_TEST_EXISTS))
    return;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* ---- The child ----------------------------------------------------------------------------- */

static void
report (int fd, const char *line)
{
  /* One write of a short line into a pipe is atomic, so the parent never sees half a line. */
  ssize_t n;
  do
    n = write (fd, line, strlen (line));
  while (n < 0 && errno == EINTR);
}

static G_NORETURN void
child_main (const char *path, int fd, Mode mode, guint64 start)
{
  GError *error = NULL;
  SigAccounts *accounts;
  /* Never outlive the test, even if the parent dies without killing us. */
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  char line[512];

  sotto_test_die_with_parent (NULL);
  accounts = sig_accounts_open (path, 5000, &error);
  if (accounts == NULL)
    {
      g_snprintf (line, sizeof line, "E open: %s\n", error->message);
      report (fd, line);
      _exit (3);
    }
  for (guint64 i = start; g_get_monotonic_time () < deadline; i++)
    {
      char name[32];
      char password[32];
      gboolean ok;

      password_for (password, sizeof password, i);
      if (mode == MODE_ADD)
        {
          add_name (name, sizeof name, i);
          ok = sig_accounts_add (accounts, name, REALM, password, &error);
        }
      else
        {
          g_snprintf (name, sizeof name, "p%u", (guint) (i % N_PASSWD_ACCOUNTS));
          ok = sig_accounts_passwd (accounts, name, REALM, password, &error);
        }
      if (!ok)
        {
          g_snprintf (line, sizeof line, "E %s: %s\n", name, error->message);
          report (fd, line);
          _exit (3);
        }
      g_snprintf (line, sizeof line, "%" G_GUINT64_FORMAT "\n", i);
      report (fd, line);
    }
  _exit (0);
}

/* ---- The parent ---------------------------------------------------------------------------- */

/* Reads what the child reported until @deadline (monotonic µs) or, with @until_eof, until the
 * pipe closes (bounded by @deadline all the same). */
static void
drain (int fd, GString *out, gint64 deadline, gboolean until_eof)
{
  while (TRUE)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      struct pollfd pfd = { fd, POLLIN, 0 };
      char buf[4096];
      ssize_t n;
      int rc;

      if (left_ms <= 0)
        {
          g_assert_false (until_eof); /* the pipe must close once the child is dead */
          return;
        }
      rc = poll (&pfd, 1, (int) left_ms);
      if (rc < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (rc, >=, 0);
      if (rc == 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >=, 0);
      if (n == 0)
        return;
      g_string_append_len (out, buf, n);
    }
}

/* Runs one child from @start, kills it after a random delay, and returns the indexes it
 * reported as committed. */
static GArray *
run_and_kill (const char *path, Mode mode, guint64 start)
{
  int fds[2];
  pid_t pid;
  int status = 0;
  guint delay_ms = (guint) g_test_rand_int_range (0, MAX_DELAY_MS + 1);
  g_autoptr (GString) text = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  GArray *indexes = g_array_new (FALSE, FALSE, sizeof (guint64));

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      child_main (path, fds[1], mode, start);
    }
  close (fds[1]);

  drain (fds[0], text, g_get_monotonic_time () + delay_ms * 1000, FALSE);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  drain (fds[0], text, g_get_monotonic_time () + 10 * G_USEC_PER_SEC, TRUE);
  close (fds[0]);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);

  lines = g_strsplit (text->str, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      guint64 index;

      if (lines[i][0] == '\0')
        continue;
      if (lines[i][0] == 'E')
        g_error ("the child failed: %s", lines[i]);
      index = g_ascii_strtoull (lines[i], NULL, 10);
      g_array_append_val (indexes, index);
    }
  g_test_message ("killed after %u ms with %u reported", delay_ms, indexes->len);
  return indexes;
}

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("sotto-crash-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->path = g_build_filename (f->dir, "accounts.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sotto_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static void
test_kill_during_add (Fixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) committed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint total_reported = 0;
  guint in_flight_kept = 0;

  for (guint round = 0; round < ROUNDS; round++)
    {
      guint64 start = (guint64) (round + 1) * ROUND_STRIDE;
      g_autoptr (GArray) reported = run_and_kill (f->path, MODE_ADD, start);
      g_autoptr (GError) error = NULL;
      g_autoptr (SigAccounts) accounts = NULL;
      g_autoptr (GPtrArray) list = NULL;
      guint64 next = start + reported->len; /* the one that may have been in flight */
      char next_name[32];

      /* The child reports in order, without gaps. */
      for (guint i = 0; i < reported->len; i++)
        g_assert_cmpuint (g_array_index (reported, guint64, i), ==, start + i);

      assert_integrity (f->path, g_hash_table_size (committed) + reported->len);
      accounts = sig_accounts_open (f->path, 5000, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < reported->len; i++)
        {
          guint64 index = g_array_index (reported, guint64, i);
          char name[32];
          char password[32];
          g_autoptr (SigAccount) account = NULL;

          add_name (name, sizeof name, index);
          password_for (password, sizeof password, index);
          g_assert_true (sig_accounts_lookup (accounts, name, &account, &error));
          g_assert_no_error (error);
          if (account == NULL)
            g_error ("round %u: reported account %s is missing", round, name);
          g_assert_true (has_password (account, password));
          g_hash_table_add (committed, g_strdup (name));
        }
      total_reported += reported->len;

      /* The add in flight may have committed before the kill: then it is whole. */
      add_name (next_name, sizeof next_name, next);
      {
        g_autoptr (SigAccount) account = NULL;
        char password[32];

        password_for (password, sizeof password, next);
        g_assert_true (sig_accounts_lookup (accounts, next_name, &account, &error));
        if (account != NULL)
          {
            g_assert_true (has_password (account, password));
            g_hash_table_add (committed, g_strdup (next_name));
            in_flight_kept++;
          }
      }

      /* Nothing else is there: the database holds exactly the committed set. */
      list = sig_accounts_list (accounts, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (list->len, ==, g_hash_table_size (committed));
      for (guint i = 0; i < list->len; i++)
        {
          const SigAccount *account = g_ptr_array_index (list, i);
          g_assert_true (g_hash_table_contains (committed, account->username));
        }
    }
  g_test_message ("%u adds reported over %u kills, %u unreported adds found committed",
                  total_reported, ROUNDS, in_flight_kept);
  /* The test means something only if the child got some work done. */
  g_assert_cmpuint (total_reported, >, 0);
}

static void
test_kill_during_passwd (Fixture *f, gconstpointer data)
{
  char *current[N_PASSWD_ACCOUNTS]; /* the password each account has now */
  guint total_reported = 0;

  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SigAccounts) accounts = sig_accounts_open (f->path, 5000, &error);

    g_assert_no_error (error);
    for (guint j = 0; j < N_PASSWD_ACCOUNTS; j++)
      {
        g_autofree char *name = g_strdup_printf ("p%u", j);
        g_assert_true (sig_accounts_add (accounts, name, REALM, "initial", &error));
        g_assert_no_error (error);
        current[j] = g_strdup ("initial");
      }
  }

  for (guint round = 0; round < ROUNDS; round++)
    {
      guint64 start = (guint64) (round + 1) * ROUND_STRIDE;
      g_autoptr (GArray) reported = run_and_kill (f->path, MODE_PASSWD, start);
      g_autoptr (GError) error = NULL;
      g_autoptr (SigAccounts) accounts = NULL;
      guint64 next = start + reported->len;
      guint next_account = (guint) (next % N_PASSWD_ACCOUNTS);

      for (guint i = 0; i < reported->len; i++)
        {
          guint64 index = g_array_index (reported, guint64, i);
          char password[32];

          g_assert_cmpuint (index, ==, start + i);
          password_for (password, sizeof password, index);
          g_free (current[index % N_PASSWD_ACCOUNTS]);
          current[index % N_PASSWD_ACCOUNTS] = g_strdup (password);
        }
      total_reported += reported->len;

      /* The accounts were added before the first round: the file must exist. */
      assert_integrity (f->path, G_MAXUINT);
      accounts = sig_accounts_open (f->path, 5000, &error);
      g_assert_no_error (error);
      for (guint j = 0; j < N_PASSWD_ACCOUNTS; j++)
        {
          g_autofree char *name = g_strdup_printf ("p%u", j);
          g_autoptr (SigAccount) account = NULL;

          g_assert_true (sig_accounts_lookup (accounts, name, &account, &error));
          g_assert_no_error (error);
          g_assert_nonnull (account);
          if (has_password (account, current[j]))
            continue;
          /* Only the change in flight may differ, and then it holds the new HA1 whole. */
          if (j == next_account)
            {
              char password[32];

              password_for (password, sizeof password, next);
              if (has_password (account, password))
                {
                  g_free (current[j]);
                  current[j] = g_strdup (password);
                  continue;
                }
            }
          g_error ("round %u: %s has neither the old nor the new HA1 (sha256 %s)", round, name,
                   account->ha1_sha256);
        }
    }
  for (guint j = 0; j < N_PASSWD_ACCOUNTS; j++)
    g_free (current[j]);
  g_test_message ("%u password changes reported over %u kills", total_reported, ROUNDS);
  g_assert_cmpuint (total_reported, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/signal/accounts-crash/kill-during-add", Fixture, NULL, fixture_setup,
              test_kill_during_add, fixture_teardown);
  g_test_add ("/signal/accounts-crash/kill-during-passwd", Fixture, NULL, fixture_setup,
              test_kill_during_passwd, fixture_teardown);
  return g_test_run ();
}

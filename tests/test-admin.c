/* Integration tests for sotto-admin: the built program runs through GSubprocess, and the
 * database it writes is read back with sig-accounts, HA1s checked against EVP. */
#include "config.h"

#include <signal.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>

#include "signal/sig-accounts.h"
#include "sotto-test.h"

#define DOMAIN "example.org"
#define RUN_TIMEOUT_S 30

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

typedef struct
{
  char *dir;
  char *state_dir;
  char *db_path;
  char *admin;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->admin = sotto_test_program ("signal/sotto-admin");
  f->dir = g_dir_make_tmp ("sotto-admin-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->state_dir = g_build_filename (f->dir, "state", NULL);
  f->db_path = g_build_filename (f->state_dir, "accounts.db", NULL);
  if (!g_file_test (f->admin, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("%s is not built", f->admin);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sotto_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->state_dir);
  g_free (f->db_path);
  g_free (f->admin);
}

typedef struct
{
  int status; /* exit code */
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

typedef struct
{
  gboolean done;
  char *out;
  char *err;
  GError *error;
} Communicate;

static void
communicate_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Communicate *c = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, &c->err,
                                        &c->error);
  c->done = TRUE;
}

static gboolean
flag_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs sotto-admin with @args (NULL-terminated, after the global options @globals) and
 * @input on stdin, waiting at most RUN_TIMEOUT_S. */
static void
run_full (const char *admin, const char *const *globals, const char *input, Run *r,
          const char *first, va_list args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  Communicate c = { FALSE, NULL, NULL, NULL };
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_ptr_array_add (argv, (char *) admin);
  for (gsize i = 0; globals != NULL && globals[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) globals[i]);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) a);
  g_ptr_array_add (argv, NULL);

  /* The input comes from a file, not a pipe: sotto-admin may refuse a request before reading
   * it, and writing to a pipe it has closed would fail the test for nothing. */
  {
    g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autofree char *input_path = NULL;
    int fd = g_file_open_tmp ("sotto-admin-input-XXXXXX", &input_path, &error);

    g_assert_no_error (error);
    close (fd);
    g_assert_true (g_file_set_contents (input_path, input ? input : "", -1, &error));
    g_subprocess_launcher_set_stdin_file_path (launcher, input_path);
    proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
    g_assert_no_error (error);
    g_unlink (input_path);
  }
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, communicate_done, &c);
  timeout_id = g_timeout_add_seconds (RUN_TIMEOUT_S, flag_timeout, &timed_out);
  while (!c.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!c.done)
    {
      g_subprocess_force_exit (proc);
      g_error ("sotto-admin did not finish within %d s", RUN_TIMEOUT_S);
    }
  g_source_remove (timeout_id);
  g_assert_no_error (c.error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  r->status = g_subprocess_get_exit_status (proc);
  r->out = c.out;
  r->err = c.err;
}

/* With --state-dir and --domain pointing at the fixture. */
static void G_GNUC_NULL_TERMINATED
run (Fixture *f, const char *input, Run *r, const char *first, ...)
{
  const char *globals[] = { "--state-dir", f->state_dir, "--domain", DOMAIN, NULL };
  va_list args;

  va_start (args, first);
  run_full (f->admin, globals, input, r, first, args);
  va_end (args);
}

static void G_GNUC_NULL_TERMINATED
run_globals (Fixture *f, const char *const *globals, const char *input, Run *r,
             const char *first, ...)
{
  va_list args;

  va_start (args, first);
  run_full (f->admin, globals, input, r, first, args);
  va_end (args);
}

/* Exit 1 or 2 with exactly one "sotto-admin: " line (plus the help hint for usage errors). */
static void
assert_failed (const Run *r, int status, const char *contains)
{
  if (r->status != status || !g_str_has_prefix (r->err, "sotto-admin: ")
      || strstr (r->err, contains) == NULL)
    g_error ("expected exit %d and \"%s\", got exit %d, stderr \"%s\"", status, contains,
             r->status, r->err);
  if (status == 1)
    {
      g_assert_nonnull (strchr (r->err, '\n'));
      g_assert_cmpstr (strchr (r->err, '\n') + 1, ==, "");
    }
  g_assert_cmpstr (r->out, ==, "");
}

static SigAccount *
lookup (Fixture *f, const char *user)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigAccounts) accounts = sig_accounts_open (f->db_path, 2000, &error);
  SigAccount *account = NULL;

  g_assert_no_error (error);
  g_assert_true (sig_accounts_lookup (accounts, user, &account, &error));
  g_assert_no_error (error);
  return account;
}

static void
assert_password (Fixture *f, const char *user, const char *realm, const char *password)
{
  g_autoptr (SigAccount) account = lookup (f, user);
  g_autofree char *sha = expected_ha1 (EVP_sha256 (), user, realm, password);
  g_autofree char *md5 = expected_ha1 (EVP_md5 (), user, realm, password);

  g_assert_nonnull (account);
  g_assert_cmpstr (account->realm, ==, realm);
  g_assert_cmpstr (account->ha1_sha256, ==, sha);
  g_assert_cmpstr (account->ha1_md5, ==, md5);
}

/* Parses "password for USER@DOMAIN: XXXXX\n" and returns XXXXX. */
static char *
printed_password (const char *out, const char *user, const char *domain)
{
  g_autofree char *prefix = g_strdup_printf ("password for %s@%s: ", user, domain);
  const char *pw;
  gsize len;

  if (!g_str_has_prefix (out, prefix))
    g_error ("unexpected output \"%s\"", out);
  pw = out + strlen (prefix);
  len = strcspn (pw, "\n");
  g_assert_cmpstr (pw + len, ==, "\n");
  g_assert_cmpuint (len, ==, 20);
  return g_strndup (pw, len);
}

/* ---- Tests --------------------------------------------------------------------------------- */

static void
test_add_generated (Fixture *f, gconstpointer data)
{
  g_auto (Run) r = { 0 };
  g_auto (Run) r2 = { 0 };
  g_autofree char *pw = NULL;
  g_autofree char *pw2 = NULL;

  run (f, NULL, &r, "add", "bob", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.err, ==, "");
  pw = printed_password (r.out, "bob", DOMAIN);
  assert_password (f, "bob", DOMAIN, pw);

  /* Each run makes a new one. */
  run (f, NULL, &r2, "add", "carol", NULL);
  g_assert_cmpint (r2.status, ==, 0);
  pw2 = printed_password (r2.out, "carol", DOMAIN);
  g_assert_cmpstr (pw, !=, pw2);
  assert_password (f, "carol", DOMAIN, pw2);
}

static void
test_add_stdin (Fixture *f, gconstpointer data)
{
  g_auto (Run) r = { 0 };
  g_auto (Run) crlf = { 0 };
  g_auto (Run) empty = { 0 };
  g_auto (Run) blank = { 0 };
  SigAccount *none;

  run (f, "s3cret stdin pw\nignored second line\n", &r, "add", "bob", "--password-stdin", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, ""); /* a password the user chose is not echoed */
  g_assert_cmpstr (r.err, ==, "");
  assert_password (f, "bob", DOMAIN, "s3cret stdin pw");

  /* The option may come first, and a CRLF line end is stripped whole. */
  run (f, "pw2\r\n", &crlf, "add", "--password-stdin", "dave", NULL);
  g_assert_cmpint (crlf.status, ==, 0);
  assert_password (f, "dave", DOMAIN, "pw2");

  run (f, "", &empty, "add", "erin", "--password-stdin", NULL);
  assert_failed (&empty, 1, "empty");
  run (f, "\n", &blank, "add", "erin", "--password-stdin", NULL);
  assert_failed (&blank, 1, "empty");
  none = lookup (f, "erin");
  g_assert_null (none);
}

static void
test_duplicate (Fixture *f, gconstpointer data)
{
  g_auto (Run) first = { 0 };
  g_auto (Run) again = { 0 };

  run (f, "one\n", &first, "add", "bob", "--password-stdin", NULL);
  g_assert_cmpint (first.status, ==, 0);
  run (f, "two\n", &again, "add", "bob", "--password-stdin", NULL);
  assert_failed (&again, 1, "bob already exists");
  assert_password (f, "bob", DOMAIN, "one");
}

static void
test_bad_name (Fixture *f, gconstpointer data)
{
  const char *names[] = { "Bob", "_x", "bob@example.org", "a b" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_auto (Run) r = { 0 };

      run (f, "pw\n", &r, "add", names[i], "--password-stdin", NULL);
      assert_failed (&r, 1, "invalid user name");
      g_assert_nonnull (strstr (r.err, "a-z, 0-9"));
    }
}

static void
test_password_in_argv_refused (Fixture *f, gconstpointer data)
{
  g_auto (Run) add = { 0 };
  g_auto (Run) passwd = { 0 };
  g_auto (Run) setup = { 0 };
  SigAccount *none;

  run (f, NULL, &add, "add", "bob", "hunter2", NULL);
  assert_failed (&add, 2, "--password-stdin");
  g_assert_null (strstr (add.err, "hunter2"));
  /* Nothing was created, not even the database. */
  g_assert_false (g_file_test (f->db_path, G_FILE_TEST_EXISTS));

  run (f, "orig\n", &setup, "add", "bob", "--password-stdin", NULL);
  g_assert_cmpint (setup.status, ==, 0);
  run (f, NULL, &passwd, "passwd", "bob", "--password-stdin", "hunter2", NULL);
  assert_failed (&passwd, 2, "never accepted on the command line");
  assert_password (f, "bob", DOMAIN, "orig");
  none = lookup (f, "hunter2");
  g_assert_null (none);
}

static void
test_usage_errors (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *args[4];
    const char *contains;
  } cases[] = {
    { { NULL }, "no command" },
    { { "frobnicate", NULL }, "unknown command" },
    { { "add", NULL }, "needs a user name" },
    { { "add", "bob", "--password", NULL }, "unknown option" },
    { { "list", "extra", NULL }, "list takes no arguments" },
    { { "delete", "bob", "carol", NULL }, "one user name" },
    { { "--bogus", "list", NULL }, "Unknown option" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) r = { 0 };

      run (f, NULL, &r, cases[i].args[0], cases[i].args[1], cases[i].args[2], cases[i].args[3],
           NULL);
      assert_failed (&r, 2, cases[i].contains);
    }
}

static void
test_passwd (Fixture *f, gconstpointer data)
{
  g_auto (Run) add = { 0 };
  g_auto (Run) gen = { 0 };
  g_auto (Run) in = { 0 };
  g_auto (Run) unknown = { 0 };
  g_autofree char *pw = NULL;

  run (f, "first\n", &add, "add", "bob", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  run (f, NULL, &gen, "passwd", "bob", NULL);
  g_assert_cmpint (gen.status, ==, 0);
  pw = printed_password (gen.out, "bob", DOMAIN);
  assert_password (f, "bob", DOMAIN, pw);

  run (f, "third one\n", &in, "passwd", "bob", "--password-stdin", NULL);
  g_assert_cmpint (in.status, ==, 0);
  g_assert_cmpstr (in.out, ==, "");
  assert_password (f, "bob", DOMAIN, "third one");

  /* No password is printed for an account that does not exist. */
  run (f, NULL, &unknown, "passwd", "nobody", NULL);
  assert_failed (&unknown, 1, "no such user: nobody");
}

static char *
today_utc (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%d");
}

static void
test_list_enable_disable_delete (Fixture *f, gconstpointer data)
{
  g_autofree char *today = today_utc ();
  g_autofree char *expected = NULL;
  g_autofree char *expected_after = NULL;

  {
    g_auto (Run) empty = { 0 };
    run (f, NULL, &empty, "list", NULL);
    g_assert_cmpint (empty.status, ==, 0);
    g_assert_cmpstr (empty.out, ==, "");
  }
  {
    g_auto (Run) a = { 0 };
    g_auto (Run) b = { 0 };
    g_auto (Run) c = { 0 };
    g_auto (Run) d = { 0 };

    run (f, "x\n", &a, "add", "zed", "--password-stdin", NULL);
    run (f, "x\n", &b, "add", "carol", "--password-stdin", NULL);
    run (f, "x\n", &c, "add", "bo", "--password-stdin", NULL);
    run (f, NULL, &d, "disable", "carol", NULL);
    g_assert_cmpint (a.status + b.status + c.status + d.status, ==, 0);
    g_assert_cmpstr (d.out, ==, "");
  }
  {
    g_autoptr (SigAccount) carol = lookup (f, "carol");
    g_assert_false (carol->enabled);
  }
  {
    g_auto (Run) list = { 0 };

    run (f, NULL, &list, "list", NULL);
    g_assert_cmpint (list.status, ==, 0);
    /* Sorted by name; names padded to the longest, then two spaces between columns. */
    expected = g_strdup_printf ("bo     enabled   %s\n"
                                "carol  disabled  %s\n"
                                "zed    enabled   %s\n",
                                today, today, today);
    g_assert_cmpstr (list.out, ==, expected);
  }
  {
    g_auto (Run) en = { 0 };
    g_auto (Run) del = { 0 };
    g_auto (Run) list = { 0 };

    run (f, NULL, &en, "enable", "carol", NULL);
    g_assert_cmpint (en.status, ==, 0);
    run (f, NULL, &del, "delete", "zed", NULL);
    g_assert_cmpint (del.status, ==, 0);
    run (f, NULL, &list, "list", NULL);
    /* The column is as wide as "disabled" whatever the rows hold. */
    expected_after = g_strdup_printf ("bo     enabled   %s\n"
                                      "carol  enabled   %s\n",
                                      today, today);
    g_assert_cmpstr (list.out, ==, expected_after);
  }
  {
    g_auto (Run) again = { 0 };
    g_auto (Run) en = { 0 };
    g_auto (Run) dis = { 0 };

    run (f, NULL, &again, "delete", "zed", NULL);
    assert_failed (&again, 1, "no such user: zed");
    run (f, NULL, &en, "enable", "zed", NULL);
    assert_failed (&en, 1, "no such user: zed");
    run (f, NULL, &dis, "disable", "zed", NULL);
    assert_failed (&dis, 1, "no such user: zed");
  }
}

/* The realm comes from the configuration file, and --domain overrides it. */
static void
test_config_file (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = g_build_filename (f->dir, "signald.conf", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "bad.conf", NULL);
  g_autofree char *text = g_strdup_printf ("[signald]\ndomain = conf.example\nstate-dir = %s\n",
                                           f->state_dir);
  const char *from_file[] = { "--config", conf, NULL };
  const char *overridden[] = { "--config", conf, "--domain", "other.example", NULL };
  const char *broken[] = { "--config", bad, NULL };
  const char *bad_domain[] = { "--config", conf, "--domain", "not a domain", NULL };
  g_auto (Run) a = { 0 };
  g_auto (Run) b = { 0 };
  g_auto (Run) c = { 0 };
  g_auto (Run) d = { 0 };
  g_auto (Run) list = { 0 };
  g_autofree char *pw = NULL;

  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  g_assert_true (g_file_set_contents (bad, "[signald]\n\nlisten = sip:0.0.0.0:5060\n", -1, NULL));

  run_globals (f, from_file, NULL, &a, "add", "bob", NULL);
  g_assert_cmpint (a.status, ==, 0);
  pw = printed_password (a.out, "bob", "conf.example");
  assert_password (f, "bob", "conf.example", pw);

  run_globals (f, overridden, "pw\n", &b, "add", "carol", "--password-stdin", NULL);
  g_assert_cmpint (b.status, ==, 0);
  assert_password (f, "carol", "other.example", "pw");

  /* list shows an account whose realm differs from the domain: it cannot log in. */
  run_globals (f, from_file, NULL, &list, "list", NULL);
  g_assert_cmpint (list.status, ==, 0);
  g_assert_nonnull (strstr (list.out, "realm other.example"));

  run_globals (f, broken, NULL, &c, "list", NULL);
  assert_failed (&c, 1, ":3: [signald] listen:");
  g_assert_nonnull (strstr (c.err, "only TLS"));

  run_globals (f, bad_domain, NULL, &d, "list", NULL);
  assert_failed (&d, 2, "not a DNS name");
}

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* sotto-admin may refuse a request before it reads the password we pipe to it: the write
   * then fails with EPIPE, which must not kill the test with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);

  ADD ("/signal/admin/add-generated", test_add_generated);
  ADD ("/signal/admin/add-stdin", test_add_stdin);
  ADD ("/signal/admin/duplicate", test_duplicate);
  ADD ("/signal/admin/bad-name", test_bad_name);
  ADD ("/signal/admin/password-in-argv-refused", test_password_in_argv_refused);
  ADD ("/signal/admin/usage-errors", test_usage_errors);
  ADD ("/signal/admin/passwd", test_passwd);
  ADD ("/signal/admin/list-enable-disable-delete", test_list_enable_disable_delete);
  ADD ("/signal/admin/config-file", test_config_file);
  return g_test_run ();
}

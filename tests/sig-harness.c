/* sig-harness: a real sotto-signald under test. */
#include "config.h"

#include "sig-harness.h"
#include "sotto-test.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <poll.h>

char *
sig_harness_log (SigHarness *h)
{
  char *text = NULL;

  if (!g_file_get_contents (h->log_path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static void
run_checked (const char *const *argv, const char *stdin_text, int *status, char **out,
             char **err)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = g_subprocess_newv (
      argv,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error);
  g_autofree char *o = NULL, *e = NULL;

  g_assert_no_error (error);
  /* The program may exit before reading all of @stdin_text: EPIPE, not a fatal SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  g_subprocess_communicate_utf8 (p, stdin_text, NULL, &o, &e, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
}

SigHarness *
sig_harness_new (void)
{
  SigHarness *h = g_new0 (SigHarness, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");
  g_autofree char *err = NULL;
  int status;

  h->dir = g_dir_make_tmp ("sotto-signald-XXXXXX", &error);
  g_assert_no_error (error);
  h->cert_dir = g_build_filename (h->dir, "tls", NULL);
  h->state_dir = g_build_filename (h->dir, "state", NULL);
  h->cafile = g_build_filename (h->cert_dir, "cafile.pem", NULL);
  h->config_path = g_build_filename (h->dir, "signald.conf", NULL);
  h->log_path = g_build_filename (h->dir, "signald.log", NULL);
  h->config_extra = g_string_new (NULL);
  {
    const char *argv[] = { certs, "init", "--dir", h->cert_dir, "--name", "localhost", NULL };
    run_checked (argv, NULL, &status, NULL, &err);
    if (status != 0)
      g_error ("sotto-certs failed: %s", err);
  }
  return h;
}

int
sig_harness_admin (SigHarness *h, const char *const *argv, const char *stdin_text, char **out,
                   char **err)
{
  g_autofree char *admin = sotto_test_program ("signal/sotto-admin");
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  int status;

  g_ptr_array_add (args, admin);
  g_ptr_array_add (args, (char *) "--state-dir");
  g_ptr_array_add (args, h->state_dir);
  g_ptr_array_add (args, (char *) "--domain");
  g_ptr_array_add (args, (char *) SIG_HARNESS_DOMAIN);
  for (guint i = 0; argv[i]; i++)
    g_ptr_array_add (args, (char *) argv[i]);
  g_ptr_array_add (args, NULL);
  run_checked ((const char *const *) args->pdata, stdin_text, &status, out, err);
  return status;
}

void
sig_harness_add_user (SigHarness *h, const char *user, const char *password)
{
  const char *argv[] = { "add", user, "--password-stdin", NULL };
  g_autofree char *input = g_strdup_printf ("%s\n", password);
  g_autofree char *err = NULL;
  int status = sig_harness_admin (h, argv, input, NULL, &err);

  if (status != 0)
    g_error ("sotto-admin add %s failed: %s", user, err);
}

/* Reads stdout lines until READY, with a deadline. */
static void
wait_ready (SigHarness *h)
{
  GInputStream *out = g_subprocess_get_stdout_pipe (h->proc);
  int fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (out));
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autoptr (GString) buf = g_string_new (NULL);

  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char chunk[256];
      ssize_t n;
      char *nl;

      if (left <= 0)
        g_error ("sotto-signald did not report READY within 10 s");
      if (poll (&pfd, 1, (int) left) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n <= 0)
        g_error ("sotto-signald exited before READY (see its log above)");
      g_string_append_len (buf, chunk, n);
      while ((nl = strchr (buf->str, '\n')) != NULL)
        {
          g_autofree char *line = g_strndup (buf->str, nl - buf->str);
          g_string_erase (buf, 0, nl - buf->str + 1);
          if (g_str_has_prefix (line, "LISTENING ") && h->port == 0)
            {
              const char *colon = strrchr (line, ':');
              h->port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
            }
          else if (strcmp (line, "READY") == 0)
            {
              g_assert_cmpuint (h->port, >, 0);
              return;
            }
        }
    }
}

void
sig_harness_start (SigHarness *h)
{
  g_autofree char *prog = sotto_test_program ("signal/sotto-signald");
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = g_strdup_printf (
      "[signald]\n"
      "domain = " SIG_HARNESS_DOMAIN "\n"
      "listen = sips:127.0.0.1:%u\n"
      "cert-dir = %s\n"
      "state-dir = %s\n"
      "log-level = debug\n"
      "%s",
      (unsigned) h->port, h->cert_dir, h->state_dir, h->config_extra->str);
  const char *argv[] = { prog, "--config", h->config_path, NULL };

  g_assert_null (h->proc);
  g_assert_true (g_file_set_contents (h->config_path, conf, -1, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GSubprocessLauncher) launcher
        = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
    /* A test that aborts must not leave its server behind. */
    g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
    /* The server's log goes to a file the tests can search (appended across restarts). */
    g_subprocess_launcher_set_stderr_file_path (launcher, h->log_path);
    g_test_message ("sotto-signald log: %s", h->log_path);
    h->proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  }
  g_assert_no_error (error);
  h->pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (h->proc), NULL, 10);
  wait_ready (h);
}

static int
wait_exit (SigHarness *h, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  int status = 0;
  pid_t r;

  /* GSubprocess reaps in a worker; poll its state with a deadline. */
  while ((r = waitpid (h->pid, &status, WNOHANG)) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  if (r == 0)
    {
      kill (h->pid, SIGKILL);
      waitpid (h->pid, &status, 0);
      g_clear_object (&h->proc);
      g_error ("sotto-signald did not exit within %u s of SIGTERM", timeout_s);
    }
  g_clear_object (&h->proc);
  if (r < 0)
    return 0; /* already reaped by GLib's child watch */
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
sig_harness_stop (SigHarness *h)
{
  if (h->proc == NULL)
    return 0;
  kill (h->pid, SIGTERM);
  return wait_exit (h, 10);
}

void
sig_harness_kill9 (SigHarness *h)
{
  if (h->proc == NULL)
    return;
  kill (h->pid, SIGKILL);
  wait_exit (h, 10);
}

void
sig_harness_free (SigHarness *h)
{
  if (h == NULL)
    return;
  if (h->proc)
    {
      int status = sig_harness_stop (h);
      if (status != 0)
        g_error ("sotto-signald exited with status %d on SIGTERM", status);
    }
  if (g_test_failed ())
    {
      g_autofree char *log = NULL;
      if (g_file_get_contents (h->log_path, &log, NULL, NULL))
        g_printerr ("---- sotto-signald log ----\n%s----\n", log);
    }
  sotto_test_remove_tree (h->dir);
  g_free (h->log_path);
  g_free (h->dir);
  g_free (h->cert_dir);
  g_free (h->state_dir);
  g_free (h->cafile);
  g_free (h->config_path);
  g_string_free (h->config_extra, TRUE);
  g_free (h);
}

TuaConn *
sig_harness_connect (SigHarness *h)
{
  g_autoptr (GError) error = NULL;
  TuaConn *c = tua_conn_new ("127.0.0.1", h->port, h->cafile, "localhost", &error);

  g_assert_no_error (error);
  return c;
}

SigClient *
sig_client_new (SigHarness *h, const char *user, const char *password)
{
  SigClient *c = g_new0 (SigClient, 1);

  c->conn = sig_harness_connect (h);
  c->ua = tua_ua_new (c->conn, user, SIG_HARNESS_DOMAIN, password);
  return c;
}

void
sig_client_free (SigClient *c)
{
  if (c == NULL)
    return;
  tua_ua_free (c->ua);
  tua_conn_free (c->conn);
  g_free (c);
}

void
sig_client_register (SigClient *c, guint expires)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TuaMsg) r = tua_ua_register (c->ua, expires, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->status, ==, 200);
}

guint64
sig_harness_rss_kib (SigHarness *h)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) h->pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  p = strstr (text, "VmRSS:");
  return p ? g_ascii_strtoull (p + 6, NULL, 10) : 0;
}

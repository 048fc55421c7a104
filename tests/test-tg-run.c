/* sotto-turn run with a real coturn: READY only once every listener answers, a coturn killed
 * with SIGKILL is restarted within the back-off bound and answers again, SIGTERM stops coturn
 * and exits 0; with Sotto's configuration the rendered coturn accepts minted credentials
 * (sotto-turn check --config --as) and refuses private peers. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>

#include "tg-probe.h"
#include "tgp-coturn.h"
#include "sotto-test.h"

typedef struct
{
  TgpCoturn *coturn; /* folder, certificates, ports; its own turnserver is not started */
  GSubprocess *run;
  GString *buf;
  char *err_path;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  if (tgp_turnserver () == NULL)
    return;
  f->coturn = tgp_coturn_new ();
  /* Loopback peers are refused, so nothing here can relay into the test machine. */
  g_string_append (f->coturn->extra, "denied-peer-ip=10.0.0.0-10.255.255.255\n");
  f->buf = g_string_new (NULL);
  f->err_path = g_build_filename (f->coturn->dir, "run.log", NULL);
}

static gboolean
pid_alive (GPid pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  const char *close_paren;

  /* A zombie is dead for our purpose: kill(pid, 0) would still succeed. */
  if (!g_file_get_contents (stat_path, &text, NULL, NULL))
    return FALSE;
  close_paren = strrchr (text, ')');
  return close_paren != NULL && close_paren[2] != 'Z';
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->run != NULL)
    {
      /* A failed test must not leave sotto-turn (and its coturn) behind. */
      g_subprocess_force_exit (f->run);
      g_subprocess_wait (f->run, NULL, NULL);
      g_clear_object (&f->run);
    }
  if (f->buf)
    g_string_free (f->buf, TRUE);
  g_free (f->err_path);
  g_clear_pointer (&f->coturn, tgp_coturn_free);
}

#define SKIP_WITHOUT_COTURN()                                                                \
  if (f->coturn == NULL)                                                                     \
    {                                                                                        \
      g_test_skip ("turnserver (Debian package coturn) is not installed");                   \
      return;                                                                                \
    }

static void
start_run (Fixture *f, const char *const *args)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, prog);
  g_ptr_array_add (argv, (char *) "run");
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stderr_file_path (l, f->err_path);
  g_test_message ("sotto-turn run log: %s", f->err_path);
  f->run = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
}

/* The next stdout line of sotto-turn run, or NULL at @deadline. Fails on EOF. */
static char *
next_line (Fixture *f, gint64 deadline)
{
  GInputStream *in = g_subprocess_get_stdout_pipe (f->run);
  int fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (in));

  for (;;)
    {
      char *nl = strchr (f->buf->str, '\n');
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char chunk[512];
      ssize_t n;

      if (nl != NULL)
        {
          char *line = g_strndup (f->buf->str, nl - f->buf->str);
          g_string_erase (f->buf, 0, nl - f->buf->str + 1);
          g_test_message ("run: %s", line);
          return line;
        }
      if (left <= 0)
        return NULL;
      if (poll (&pfd, 1, (int) left) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n <= 0)
        g_error ("sotto-turn run closed its stdout (exited?); see %s", f->err_path);
      g_string_append_len (f->buf, chunk, n);
    }
}

typedef struct
{
  GPid coturn;
  guint listening;
  gint64 coturn_at, ready_at;
} Ready;

/* Reads up to READY (within @timeout_s); records the last COTURN pid and LISTENING count. */
static Ready
wait_ready (Fixture *f, guint timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  Ready r = { 0 };

  for (;;)
    {
      g_autofree char *line = next_line (f, deadline);

      if (line == NULL)
        g_error ("no READY from sotto-turn run within %u s; see %s", timeout_s, f->err_path);
      if (g_str_has_prefix (line, "COTURN "))
        {
          r.coturn = (GPid) g_ascii_strtoll (line + 7, NULL, 10);
          r.coturn_at = g_get_monotonic_time ();
          r.listening = 0;
        }
      else if (g_str_has_prefix (line, "LISTENING "))
        r.listening++;
      else if (strcmp (line, "READY") == 0)
        {
          r.ready_at = g_get_monotonic_time ();
          g_assert_cmpint (r.coturn, >, 0);
          return r;
        }
    }
}

/* Each of coturn's three listeners answers a Binding request right now. */
static void
assert_answers (Fixture *f)
{
  TgProbeTransport transports[] = { TG_PROBE_UDP, TG_PROBE_TCP, TG_PROBE_TLS };

  for (gsize i = 0; i < G_N_ELEMENTS (transports); i++)
    {
      TgProbeTarget t = { .transport = transports[i], .host = "127.0.0.1",
                          .port = transports[i] == TG_PROBE_TLS ? f->coturn->tls_port
                                                                : f->coturn->port,
                          .ca_file = f->coturn->cafile, .tls_name = "localhost" };
      g_autoptr (GError) error = NULL;

      g_assert_true (tg_probe_binding (&t, g_get_monotonic_time () + 2 * G_USEC_PER_SEC, NULL,
                                       &error));
      g_assert_no_error (error);
    }
}

/* SIGTERM: exit 0 within 10 s, and coturn is gone. */
static void
stop_run (Fixture *f, GPid coturn)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_subprocess_send_signal (f->run, SIGTERM);
  while (g_subprocess_get_identifier (f->run) != NULL && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  g_assert_null (g_subprocess_get_identifier (f->run));
  g_subprocess_wait (f->run, NULL, NULL);
  g_assert_true (g_subprocess_get_if_exited (f->run));
  g_assert_cmpint (g_subprocess_get_exit_status (f->run), ==, 0);
  g_clear_object (&f->run);
  g_assert_false (pid_alive (coturn));
}

/* A turnserver that takes a second before it even starts: READY must wait for it. */
static char *
slow_turnserver (Fixture *f)
{
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\nsleep 1\nexec %s \"$@\"\n",
                                             tgp_turnserver ());
  char *path = g_build_filename (f->coturn->dir, "slow-turnserver", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_cmpint (g_chmod (path, 0700), ==, 0);
  return path;
}

static void
test_ready_restart_stop (Fixture *f, gconstpointer data)
{
  g_autofree char *slow = NULL;
  Ready first, again;
  gint64 killed_at;

  SKIP_WITHOUT_COTURN ();
  slow = slow_turnserver (f);
  {
    const char *args[] = { "--coturn-config", tgp_coturn_write_conf (f->coturn), "--turnserver",
                           slow, NULL };
    start_run (f, args);
  }
  first = wait_ready (f, 15);
  g_assert_cmpuint (first.listening, ==, 3);
  /* The wrapper sleeps 1 s before coturn exists: an early READY would be a lie. */
  g_assert_cmpint (first.ready_at - first.coturn_at, >=, G_USEC_PER_SEC * 9 / 10);
  assert_answers (f);

  /* SIGKILL the child: restarted after the first back-off step (1 s), ready again. */
  g_assert_cmpint (kill (first.coturn, SIGKILL), ==, 0);
  killed_at = g_get_monotonic_time ();
  again = wait_ready (f, 15);
  g_assert_cmpint (again.coturn, !=, first.coturn);
  g_assert_cmpuint (again.listening, ==, 3);
  g_assert_cmpint (again.coturn_at - killed_at, >=, G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (again.coturn_at - killed_at, <=, 3 * G_USEC_PER_SEC);
  g_assert_false (pid_alive (first.coturn));
  assert_answers (f);

  stop_run (f, again.coturn);
}

/* coturn that keeps dying is restarted with growing delays: 1 s, then 2 s (it never stayed
 * up the 60 s that would reset the back-off). */
static void
test_backoff (Fixture *f, gconstpointer data)
{
  Ready r0, r1, r2;
  gint64 kill1, kill2;

  SKIP_WITHOUT_COTURN ();
  {
    const char *args[] = { "--coturn-config", tgp_coturn_write_conf (f->coturn), NULL };
    start_run (f, args);
  }
  r0 = wait_ready (f, 15);
  g_assert_cmpint (kill (r0.coturn, SIGKILL), ==, 0);
  kill1 = g_get_monotonic_time ();
  r1 = wait_ready (f, 15);
  g_assert_cmpint (kill (r1.coturn, SIGKILL), ==, 0);
  kill2 = g_get_monotonic_time ();
  r2 = wait_ready (f, 15);
  g_test_message ("restart delays: %.2f s then %.2f s", (r1.coturn_at - kill1) / 1e6,
                  (r2.coturn_at - kill2) / 1e6);
  g_assert_cmpint (r1.coturn_at - kill1, >=, G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (r1.coturn_at - kill1, <=, 3 * G_USEC_PER_SEC);
  g_assert_cmpint (r2.coturn_at - kill2, >=, G_USEC_PER_SEC * 19 / 10);
  g_assert_cmpint (r2.coturn_at - kill2, <=, 4 * G_USEC_PER_SEC);
  g_assert_cmpint (r2.coturn, !=, r1.coturn);
  assert_answers (f);
  stop_run (f, r2.coturn);
}

/* Sotto's configuration: sotto-turn run renders coturn's, and a credential minted from the same
 * configuration allocates over every transport; private peers are refused. */
static void
test_rendered (Fixture *f, gconstpointer data)
{
  g_autofree char *conf_path = NULL, *secret_path = NULL, *conf = NULL, *state = NULL;
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) error = NULL;
  Ready r;
  int status;
  guint relay_min;

  SKIP_WITHOUT_COTURN ();
  /* tg-config refuses a relay range holding a listening port; the kernel hands out free ports
   * from 32768 up, so a range below that is clear of them. */
  relay_min = 20000;
  if ((f->coturn->port >= relay_min && f->coturn->port < relay_min + 1000)
      || (f->coturn->tls_port >= relay_min && f->coturn->tls_port < relay_min + 1000))
    relay_min = 10000;
  conf_path = g_build_filename (f->coturn->dir, "sotto.conf", NULL);
  secret_path = g_build_filename (f->coturn->dir, "turn-secrets", NULL);
  state = g_build_filename (f->coturn->dir, "state", NULL);
  g_assert_true (g_file_set_contents (secret_path, "tgp-rendered-secret-abcdefghijklmnop\n", -1,
                                      &error));
  g_assert_cmpint (g_chmod (secret_path, 0600), ==, 0);
  conf = g_strdup_printf ("[signald]\ndomain = localhost\ncert-dir = %s\nstate-dir = %s\n\n"
                          "[turn]\nserver-name = localhost\nrealm = localhost\n"
                          "listen = 127.0.0.1\nrelay = 127.0.0.1\nport = %u\ntls-port = %u\n"
                          "min-port = %u\nmax-port = %u\nsecret-file = %s\n",
                          f->coturn->cert_dir, state, f->coturn->port, f->coturn->tls_port,
                          relay_min, relay_min + 999, secret_path);
  g_assert_true (g_file_set_contents (conf_path, conf, -1, &error));
  {
    const char *args[] = { "--config", conf_path, NULL };
    start_run (f, args);
  }
  r = wait_ready (f, 15);
  g_assert_cmpuint (r.listening, ==, 3);
  assert_answers (f);
  {
    const char *argv[] = { prog, "check", "--config", conf_path, "--as", "alice", "--ca",
                           f->coturn->cafile, "--timeout", "3", NULL };
    status = tgp_run (argv, &out, &err);
  }
  g_test_message ("sotto-turn check (exit %d):\n%s%s", status, out, err);
  g_assert_nonnull (strstr (out, "allocate over UDP"));
  g_assert_nonnull (strstr (out, "allocate over TLS"));
  g_assert_nonnull (strstr (out, "refuses private peer 10.0.0.1 (403"));
  g_assert_nonnull (strstr (out, "refuses private peer 127.0.0.1 (403"));
  g_assert_nonnull (strstr (out, "Summary: 8 OK, 0 FAIL"));
  g_assert_cmpint (status, ==, 0);
  stop_run (f, r.coturn);
}

static void
test_usage (void)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  const char *argv[] = { prog, "run", NULL };
  const char *missing[] = { prog, "run", "--coturn-config", "/dev/null", "--turnserver",
                            "/nonexistent/turnserver", NULL };
  g_autofree char *err = NULL, *err2 = NULL;

  g_assert_cmpint (tgp_run (argv, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "Usage"));
  g_assert_cmpint (tgp_run (missing, NULL, &err2), ==, 1);
  g_assert_nonnull (strstr (err2, "not an executable"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/turn/run/ready-restart-stop", Fixture, NULL, setup, test_ready_restart_stop,
              teardown);
  g_test_add ("/turn/run/backoff", Fixture, NULL, setup, test_backoff, teardown);
  g_test_add ("/turn/run/rendered", Fixture, NULL, setup, test_rendered, teardown);
  g_test_add_func ("/turn/run/usage", test_usage);
  return g_test_run ();
}

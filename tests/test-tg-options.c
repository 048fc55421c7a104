/* The two deployment options of sotto-turn that change what coturn listens on or relays to,
 * with a real coturn started through `sotto-turn run`:
 *  - tls-443: TLS moves to port 443 (coturn 4.6.1 serves one TLS port), and a credential
 *    allocates there;
 *  - lan-deployment: the explicit opt-in lets the relay reach RFC 1918 peers, which the
 *    default configuration refuses. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "sotto-test.h"
#include "tgp-coturn.h"

typedef struct
{
  char *dir;
  char *conf;
  GSubprocess *run;
} Deploy;

static void
deploy_free (Deploy *d)
{
  if (d->run)
    {
      g_subprocess_send_signal (d->run, SIGTERM);
      g_subprocess_wait (d->run, NULL, NULL);
      g_assert_true (g_subprocess_get_if_exited (d->run));
      g_assert_cmpint (g_subprocess_get_exit_status (d->run), ==, 0);
      g_clear_object (&d->run);
    }
  sotto_test_remove_tree (d->dir);
  g_free (d->dir);
  g_free (d->conf);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Deploy, deploy_free)

/* Certificates, a secret and a configuration with @extra in [turn]; then `sotto-turn run`
 * until READY (15 s at most). Returns its stdout so far. */
static Deploy *
deploy_start (guint16 port, const char *extra, char **out)
{
  Deploy *d = g_new0 (Deploy, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");
  g_autofree char *turn = sotto_test_program ("turn-glue/sotto-turn");
  g_autofree char *tls = NULL, *text = NULL;
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  gint64 deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  int fd;

  d->dir = g_dir_make_tmp ("sotto-tg-options-XXXXXX", &error);
  g_assert_no_error (error);
  tls = g_build_filename (d->dir, "tls", NULL);
  d->conf = g_build_filename (d->dir, "sotto.conf", NULL);
  {
    const char *argv[] = { certs, "init", "--dir", tls, "--name", "localhost", NULL };
    g_assert_cmpint (tgp_run (argv, NULL, NULL), ==, 0);
  }
  text = g_strdup_printf ("[signald]\ndomain = localhost\ncert-dir = %s\nstate-dir = %s\n"
                          "[turn]\nserver-name = localhost\nlisten = 127.0.0.1\n"
                          "relay = 127.0.0.1\nport = %u\nmin-port = 21000\nmax-port = 21999\n"
                          "secret-file = %s/turn-secrets\n%s",
                          tls, d->dir, port, d->dir, extra);
  g_assert_true (g_file_set_contents (d->conf, text, -1, &error));
  {
    const char *argv[] = { turn, "rotate", "--config", d->conf, NULL };
    g_assert_cmpint (tgp_run (argv, NULL, NULL), ==, 0);
  }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  {
    const char *argv[] = { turn, "run", "--config", d->conf, NULL };
    d->run = g_subprocess_launcher_spawnv (launcher, argv, &error);
    g_assert_no_error (error);
  }
  fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (d->run)));
  while (strstr (seen->str, "READY\n") == NULL)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char chunk[256];
      ssize_t n;

      if (left <= 0)
        g_error ("sotto-turn run did not say READY within 15 s: %s", seen->str);
      if (poll (&pfd, 1, (int) left) <= 0)
        continue;
      n = read (fd, chunk, sizeof chunk);
      if (n <= 0)
        g_error ("sotto-turn run exited before READY: %s", seen->str);
      g_string_append_len (seen, chunk, n);
    }
  *out = g_strdup (seen->str);
  return d;
}

static int
check (Deploy *d, const char *const *extra_args, char **out)
{
  g_autofree char *turn = sotto_test_program ("turn-glue/sotto-turn");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *base[] = { turn, "check", "--config", d->conf, "--as", "alice", "--server",
                         "localhost", NULL };

  for (guint i = 0; base[i]; i++)
    g_ptr_array_add (argv, (gpointer) base[i]);
  for (guint i = 0; extra_args[i]; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, NULL);
  return tgp_run ((const char *const *) argv->pdata, out, NULL);
}

static gboolean
port_443_free (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (443) };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  int one = 1;
  gboolean ok;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ok = bind (fd, (struct sockaddr *) &a, sizeof a) == 0;
  close (fd);
  return ok;
}

static void
test_tls_443 (void)
{
  g_autoptr (Deploy) d = NULL;
  g_autofree char *ready = NULL, *out = NULL;
  g_autofree char *ca = NULL, *port = NULL;
  guint16 p;

  if (tgp_turnserver () == NULL)
    {
      g_test_skip ("coturn's turnserver is not installed");
      return;
    }
  if (geteuid () != 0 || !port_443_free ())
    {
      g_test_skip ("port 443 needs root and must be free on 127.0.0.1");
      return;
    }
  p = tgp_free_port ();
  d = deploy_start (p, "tls-443 = true\n", &ready);
  g_assert_nonnull (strstr (ready, "LISTENING tls 127.0.0.1:443"));
  ca = g_build_filename (d->dir, "tls", "cafile.pem", NULL);
  port = g_strdup_printf ("%u", p);
  {
    const char *args[] = { "--port", port, "--tls-port", "0", "--tls-443", "--ca", ca, NULL };
    int status = check (d, args, &out);
    g_test_message ("%s", out);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, "allocate over TLS 443"));
  }
}

static void
test_lan_deployment (void)
{
  g_autofree char *port = NULL;
  guint16 p;

  if (tgp_turnserver () == NULL)
    {
      g_test_skip ("coturn's turnserver is not installed");
      return;
    }
  /* Without the opt-in, 10.0.0.1 is refused; with it, the relay may reach it. */
  for (int lan = 0; lan < 2; lan++)
    {
      g_autoptr (Deploy) d = NULL;
      g_autofree char *ready = NULL, *out = NULL;
      const char *args[] = { "--port", NULL, "--tls-port", "0", "--private-peer", "10.0.0.1",
                             NULL };
      int status;

      p = tgp_free_port ();
      g_free (port);
      port = g_strdup_printf ("%u", p);
      args[1] = port;
      d = deploy_start (p, lan ? "lan-deployment = true\n" : "lan-deployment = false\n", &ready);
      status = check (d, args, &out);
      g_test_message ("lan-deployment = %s:\n%s", lan ? "true" : "false", out);
      if (lan)
        {
          g_assert_cmpint (status, !=, 0);
          g_assert_nonnull (strstr (out, "ACCEPTS private peer 10.0.0.1"));
        }
      else
        {
          g_assert_cmpint (status, ==, 0);
          g_assert_nonnull (strstr (out, "refuses private peer 10.0.0.1"));
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/turn/options/tls-443", test_tls_443);
  g_test_add_func ("/turn/options/lan-deployment", test_lan_deployment);
  return g_test_run ();
}

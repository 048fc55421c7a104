/* tgp-coturn: a real coturn for the sotto-turn run/check tests. See tgp-coturn.h. */
#include "config.h"

#include "tgp-coturn.h"
#include "sotto-test.h"

#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/evp.h>

#include "tg-probe.h"

const char *
tgp_turnserver (void)
{
  static char *path = NULL;

  if (path == NULL)
    path = g_find_program_in_path ("turnserver");
  return path;
}

static int
bind_loopback (int type, guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port),
                            .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  int fd = socket (AF_INET, type | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  if (bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

guint16
tgp_free_port (void)
{
  for (int attempt = 0; attempt < 50; attempt++)
    {
      struct sockaddr_in sa;
      socklen_t len = sizeof sa;
      int tcp = bind_loopback (SOCK_STREAM, 0);
      int udp;
      guint16 port;

      g_assert_cmpint (tcp, >=, 0);
      g_assert_cmpint (getsockname (tcp, (struct sockaddr *) &sa, &len), ==, 0);
      port = ntohs (sa.sin_port);
      udp = bind_loopback (SOCK_DGRAM, port);
      close (tcp);
      if (udp >= 0)
        {
          close (udp);
          return port;
        }
    }
  g_error ("no port free for both UDP and TCP");
}

void
tgp_credential (const char *secret, const char *id, gint64 expiry, char **username,
                char **password)
{
  guint8 mac[EVP_MAX_MD_SIZE];
  size_t n = 0;
  char *user = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expiry, id);

  g_assert_nonnull (EVP_Q_mac (NULL, "HMAC", NULL, "SHA1", NULL, secret, strlen (secret),
                               (const guint8 *) user, strlen (user), mac, sizeof mac, &n));
  *password = g_base64_encode (mac, n);
  *username = user;
}

typedef struct
{
  gboolean done;
  char *out, *err;
  GError *error;
} Comm;

static void
communicated (GObject *source, GAsyncResult *res, gpointer data)
{
  Comm *c = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &c->out, &c->err,
                                        &c->error);
  c->done = TRUE;
}

static gboolean
wake (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

int
tgp_run (const char *const *argv, char **out, char **err)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;
  Comm c = { 0 };
  gboolean expired = FALSE;
  guint timer;

  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (p, NULL, NULL, communicated, &c);
  timer = g_timeout_add_seconds (30, wake, &expired);
  while (!c.done && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!c.done)
    {
      g_subprocess_force_exit (p);
      while (!c.done)
        g_main_context_iteration (NULL, TRUE);
      g_error ("%s did not finish within 30 s", argv[0]);
    }
  g_source_remove (timer);
  g_assert_no_error (c.error);
  g_subprocess_wait (p, NULL, NULL);
  if (out)
    *out = c.out;
  else
    g_free (c.out);
  if (err)
    *err = c.err;
  else
    g_free (c.err);
  return g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
}

TgpCoturn *
tgp_coturn_new (void)
{
  TgpCoturn *c = g_new0 (TgpCoturn, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");
  g_autofree char *err = NULL;

  c->dir = g_dir_make_tmp ("sotto-tgp-XXXXXX", &error);
  g_assert_no_error (error);
  c->cert_dir = g_build_filename (c->dir, "tls", NULL);
  c->cafile = g_build_filename (c->cert_dir, "cafile.pem", NULL);
  c->conf_path = g_build_filename (c->dir, "turnserver.conf", NULL);
  c->log_path = g_build_filename (c->dir, "turnserver.log", NULL);
  c->extra = g_string_new (NULL);
  c->port = tgp_free_port ();
  do
    c->tls_port = tgp_free_port ();
  while (c->tls_port == c->port);
  {
    const char *argv[] = { certs, "init", "--dir", c->cert_dir, "--name", "localhost", NULL };
    if (tgp_run (argv, NULL, &err) != 0)
      g_error ("sotto-certs init failed: %s", err);
  }
  return c;
}

const char *
tgp_coturn_write_conf (TgpCoturn *c)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = g_strdup_printf (
      "listening-ip=127.0.0.1\n"
      "relay-ip=127.0.0.1\n"
      "listening-port=%u\n"
      "tls-listening-port=%u\n"
      "realm=example.org\n"
      "use-auth-secret\n"
      "static-auth-secret=" TGP_SECRET "\n"
      "cert=%s/server.pem\n"
      "pkey=%s/server.key\n"
      "no-dtls\nno-cli\nfingerprint\nno-rfc5780\n"
      "log-file=stdout\nsimple-log\n"
      "pidfile=%s/turnserver.pid\n"
      "%s",
      c->port, c->tls_port, c->cert_dir, c->cert_dir, c->dir, c->extra->str);

  g_assert_true (g_file_set_contents (c->conf_path, conf, -1, &error));
  g_assert_no_error (error);
  return c->conf_path;
}

void
tgp_coturn_start (TgpCoturn *c)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  const char *argv[] = { tgp_turnserver (), "-c", tgp_coturn_write_conf (c), NULL };
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  TgProbeTransport transports[] = { TG_PROBE_UDP, TG_PROBE_TCP, TG_PROBE_TLS };

  g_assert_null (c->proc);
  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_set_stdout_file_path (l, c->log_path);
  g_subprocess_launcher_set_stderr_file_path (l, c->log_path);
  c->proc = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  g_test_message ("coturn pid %s, log %s", g_subprocess_get_identifier (c->proc), c->log_path);
  for (gsize i = 0; i < G_N_ELEMENTS (transports); i++)
    {
      TgProbeTarget t = { .transport = transports[i], .host = "127.0.0.1",
                          .port = transports[i] == TG_PROBE_TLS ? c->tls_port : c->port,
                          .ca_file = c->cafile, .tls_name = "localhost" };
      for (;;)
        {
          g_autoptr (GError) probe = NULL;
          if (tg_probe_binding (&t, g_get_monotonic_time () + 300 * 1000, NULL, &probe))
            break;
          if (g_get_monotonic_time () > deadline)
            g_error ("coturn did not answer %s within 10 s: %s (log %s)",
                     tg_probe_transport_to_string (transports[i]), probe->message, c->log_path);
          g_usleep (50 * 1000);
        }
    }
}

void
tgp_coturn_stop (TgpCoturn *c)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  if (c->proc == NULL)
    return;
  g_subprocess_send_signal (c->proc, SIGTERM);
  /* GSubprocess reaps in GLib's worker; poll its state with a deadline. */
  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_subprocess_get_identifier (c->proc) == NULL)
        break;
      g_usleep (20 * 1000);
    }
  if (g_subprocess_get_identifier (c->proc) != NULL)
    g_subprocess_force_exit (c->proc);
  g_subprocess_wait (c->proc, NULL, NULL);
  g_clear_object (&c->proc);
}

void
tgp_coturn_free (TgpCoturn *c)
{
  if (c == NULL)
    return;
  tgp_coturn_stop (c);
  if (g_getenv ("TGP_KEEP") == NULL)
    sotto_test_remove_tree (c->dir);
  g_free (c->dir);
  g_free (c->cert_dir);
  g_free (c->cafile);
  g_free (c->conf_path);
  g_free (c->log_path);
  g_string_free (c->extra, TRUE);
  g_free (c);
}

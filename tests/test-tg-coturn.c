/* Integration tests: sotto-turn render/mint/rotate against a REAL coturn (Debian's turnserver)
 * started here on loopback, with Debian's turnutils_uclient (TURN client) and turnutils_peer
 * (UDP echo peer). Every wait has a deadline; coturn and the peer die with this process
 * (PR_SET_PDEATHSIG) and are stopped in teardown. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "turn-glue/tg-cred.h"
#include "turn-glue/tg-render.h"
#include "sotto-test.h"

#define RUN_TIMEOUT_S 20
#define READY_TIMEOUT_S 10
#define TLS_TIMEOUT_S 3

typedef struct
{
  char *tmp;
  char *conf;
  char *cert_dir;
  char *state_dir;
  char *coturn_log;
  guint port, tls_port, peer_port, min_port, max_port;
  GSubprocess *coturn;
  GSubprocess *peer;
} Fixture;

/* ---- Programs ------------------------------------------------------------------------------ */

typedef struct
{
  gboolean done;
  char *out;
} RunState;

static void
on_communicated (GObject *source, GAsyncResult *res, gpointer data)
{
  RunState *st = data;
  g_autoptr (GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &st->out, NULL, &error);
  g_assert_no_error (error);
  st->done = TRUE;
}

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs @argv with stdout and stderr merged into *out; returns the exit status, -1 when it had
 * to be killed at the deadline. */
static int
run (const char *const *argv, char **out)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSource) timeout = g_timeout_source_new_seconds (RUN_TIMEOUT_S);
  g_autofree char *cmd = g_strjoinv (" ", (char **) argv);
  RunState st = { 0 };
  gboolean timed_out = FALSE;
  gint64 start = g_get_monotonic_time ();

  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  g_main_context_push_thread_default (context);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &st);
  g_source_set_callback (timeout, on_deadline, &timed_out, NULL);
  g_source_attach (timeout, context);
  while (!st.done && !timed_out)
    g_main_context_iteration (context, TRUE);
  if (!st.done)
    {
      g_subprocess_force_exit (proc);
      while (!st.done)
        g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);
  g_test_message ("$ %s (%.2f s)\n%s", cmd, (g_get_monotonic_time () - start) / 1e6, st.out);
  if (out != NULL)
    *out = g_steal_pointer (&st.out);
  g_free (st.out);
  if (timed_out || !g_subprocess_get_if_exited (proc))
    return -1;
  return g_subprocess_get_exit_status (proc);
}

#define RUN(out, ...) run ((const char *const[]){ __VA_ARGS__, NULL }, (out))

static int
sotto_turn (Fixture *f, char **out, const char *cmd, const char *arg)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  return arg != NULL ? RUN (out, prog, cmd, "--config", f->conf, arg)
                     : RUN (out, prog, cmd, "--config", f->conf);
}

/* ---- Ports and configuration --------------------------------------------------------------- */

/* A port free for UDP and TCP on loopback right now (the kernel's choice for UDP). */
static guint
free_port (void)
{
  for (int attempt = 0; attempt < 50; attempt++)
    {
      struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      socklen_t len = sizeof a;
      int u = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      int t = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      guint port = 0;

      if (bind (u, (struct sockaddr *) &a, sizeof a) == 0
          && getsockname (u, (struct sockaddr *) &a, &len) == 0
          && bind (t, (struct sockaddr *) &a, sizeof a) == 0)
        port = ntohs (a.sin_port);
      close (u);
      close (t);
      if (port != 0)
        return port;
    }
  g_error ("no free port");
}

static void
pick_ports (Fixture *f)
{
  f->port = free_port ();
  do
    f->tls_port = free_port ();
  while (f->tls_port == f->port);
  do
    f->peer_port = free_port ();
  while (f->peer_port == f->port || f->peer_port == f->tls_port);
  /* coturn picks free relay ports itself inside the range. */
  do
    {
      f->min_port = (guint) g_random_int_range (20000, 30000);
      f->max_port = f->min_port + 199;
    }
  while ((f->port >= f->min_port && f->port <= f->max_port)
         || (f->tls_port >= f->min_port && f->tls_port <= f->max_port)
         || (f->peer_port >= f->min_port && f->peer_port <= f->max_port));
}

static void
write_config (Fixture *f, const char *extra)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("[signald]\n"
                                           "domain = localhost\n"
                                           "cert-dir = %s\n"
                                           "state-dir = %s\n"
                                           "[turn]\n"
                                           "listen = 127.0.0.1;::1\n"
                                           "relay = 127.0.0.1;::1\n"
                                           "port = %u\n"
                                           "tls-port = %u\n"
                                           "min-port = %u\n"
                                           "max-port = %u\n"
                                           "user-quota = 100\n"
                                           "%s",
                                           f->cert_dir, f->state_dir, f->port, f->tls_port,
                                           f->min_port, f->max_port, extra);

  g_assert_true (g_file_set_contents (f->conf, text, -1, &error));
}

/* ---- coturn --------------------------------------------------------------------------------- */

/* A STUN Binding request (RFC 8489 section 5) answered on the plain port means coturn is up. */
static gboolean
stun_answers (guint port)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  guint8 req[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
  guint8 resp[512];
  struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ssize_t n;

  for (int i = 8; i < 20; i++)
    req[i] = (guint8) g_random_int ();
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sendto (s, req, sizeof req, 0, (struct sockaddr *) &a, sizeof a);
  n = recv (s, resp, sizeof resp, 0);
  close (s);
  return n >= 20 && resp[0] == 0x01 && resp[1] == 0x01 && memcmp (resp + 8, req + 8, 12) == 0;
}

static GSubprocess *
spawn (const char *const *argv, const char *log_path)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      log_path != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                              | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  if (log_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

static void
stop (GSubprocess **proc)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  if (*proc == NULL)
    return;
  g_subprocess_send_signal (*proc, SIGTERM);
  while (g_get_monotonic_time () < deadline && g_subprocess_get_identifier (*proc) != NULL)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (20000);
    }
  if (g_subprocess_get_identifier (*proc) != NULL)
    {
      g_subprocess_force_exit (*proc);
      g_subprocess_wait (*proc, NULL, NULL);
    }
  g_clear_object (proc);
}

static char *
coturn_log (Fixture *f)
{
  char *text = NULL;

  if (!g_file_get_contents (f->coturn_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

/* Renders and starts coturn; picks new ports and retries when another process took one. */
static void
start_coturn (Fixture *f, const char *extra)
{
  for (int attempt = 0; attempt < 3; attempt++)
    {
      g_autofree char *out = NULL;
      g_autofree char *expected = g_build_filename (f->state_dir, "turnserver.conf", NULL);
      gint64 deadline;

      pick_ports (f);
      write_config (f, extra);
      g_assert_cmpint (sotto_turn (f, &out, "render", NULL), ==, 0);
      g_assert_cmpstr (g_strstrip (out), ==, expected);
      g_unlink (f->coturn_log);
      f->coturn = spawn ((const char *const[]){ "turnserver", "-c", expected, NULL },
                         f->coturn_log);
      deadline = g_get_monotonic_time () + READY_TIMEOUT_S * G_USEC_PER_SEC;
      while (g_get_monotonic_time () < deadline && g_subprocess_get_identifier (f->coturn) != NULL)
        {
          g_main_context_iteration (NULL, FALSE);
          if (stun_answers (f->port))
            return;
        }
      {
        g_autofree char *log = coturn_log (f);
        g_test_message ("coturn did not answer (attempt %d):\n%s", attempt + 1, log);
      }
      stop (&f->coturn);
    }
  g_error ("coturn did not start");
}

static void
start_peer (Fixture *f)
{
  g_autofree char *port = g_strdup_printf ("%u", f->peer_port);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (f->peer_port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_S * G_USEC_PER_SEC;
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  char buf[16];

  f->peer = spawn ((const char *const[]){ "turnutils_peer", "-L", "127.0.0.1", "-p", port, NULL },
                   NULL);
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (g_get_monotonic_time () < deadline)
    {
      sendto (s, "ping", 4, 0, (struct sockaddr *) &a, sizeof a);
      if (recv (s, buf, sizeof buf, 0) == 4)
        break;
    }
  close (s);
  g_assert_cmpint (g_get_monotonic_time (), <, deadline);
}

/* ---- Fixture -------------------------------------------------------------------------------- */

static gboolean
have (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);
  return path != NULL;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");

  f->tmp = g_dir_make_tmp ("tg-coturn-XXXXXX", &error);
  g_assert_no_error (error);
  f->conf = g_build_filename (f->tmp, "sotto.conf", NULL);
  f->cert_dir = g_build_filename (f->tmp, "tls", NULL);
  f->state_dir = g_build_filename (f->tmp, "state", NULL);
  f->coturn_log = g_build_filename (f->tmp, "coturn.log", NULL);
  if (!have ("turnserver") || !have ("turnutils_uclient") || !have ("turnutils_peer"))
    return;
  g_assert_cmpint (RUN (NULL, certs, "init", "--dir", f->cert_dir, "--name", "localhost"), ==, 0);
  pick_ports (f);
  write_config (f, "");
  g_assert_cmpint (sotto_turn (f, NULL, "rotate", NULL), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->coturn != NULL)
    {
      g_autofree char *log = NULL;
      stop (&f->coturn);
      log = coturn_log (f);
      g_test_message ("coturn log:\n%s", log);
    }
  stop (&f->peer);
  sotto_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->conf);
  g_free (f->cert_dir);
  g_free (f->state_dir);
  g_free (f->coturn_log);
}

#define SKIP_WITHOUT_COTURN()                                                             \
  if (!have ("turnserver") || !have ("turnutils_uclient") || !have ("turnutils_peer"))    \
    {                                                                                     \
      g_test_skip ("coturn (turnserver, turnutils_uclient, turnutils_peer) not installed"); \
      return;                                                                             \
    }

/* ---- TURN clients --------------------------------------------------------------------------- */

typedef struct
{
  char *username;
  char *password;
} Cred;

static void
cred_clear (Cred *c)
{
  g_clear_pointer (&c->username, g_free);
  g_clear_pointer (&c->password, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Cred, cred_clear)

/* sotto-turn mint USER [--now T --lifetime S], parsed from its key=value lines. */
static void
mint (Fixture *f, const char *user, const char *now, Cred *out)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  int status = now != NULL ? RUN (&text, prog, "mint", "--config", f->conf, "--now", now,
                                  "--lifetime", "600", user)
                           : RUN (&text, prog, "mint", "--config", f->conf, user);

  g_assert_cmpint (status, ==, 0);
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "username="))
      out->username = g_strdup (lines[i] + 9);
    else if (g_str_has_prefix (lines[i], "password="))
      out->password = g_strdup (lines[i] + 9);
  g_assert_nonnull (out->username);
  g_assert_nonnull (out->password);
  g_assert_null (strstr (out->username, user));
}

/* turnutils_uclient: allocates, creates a permission (and a channel) for @peer, sends a few
 * messages through the relay and counts the echoes. */
static int
uclient_once (Fixture *f, const Cred *c, const char *peer, char **out)
{
  g_autofree char *port = g_strdup_printf ("%u", f->port);
  g_autofree char *peer_port = g_strdup_printf ("%u", f->peer_port);
  gboolean v6 = strchr (peer, ':') != NULL;

  if (v6)
    return RUN (out, "turnutils_uclient", "-c", "-x", "-n", "3", "-p", port, "-e", peer, "-r",
                peer_port, "-u", c->username, "-w", c->password, "::1");
  return RUN (out, "turnutils_uclient", "-c", "-n", "3", "-p", port, "-e", peer, "-r", peer_port,
              "-u", c->username, "-w", c->password, "127.0.0.1");
}

static int
uclient (Fixture *f, const Cred *c, const char *peer, char **out)
{
  int status = uclient_once (f, c, peer, out);

  /* On a loaded machine turnutils_uclient resends its Allocate over UDP under a new
   * transaction id, and coturn rightly answers the duplicate with 437 (Allocation Mismatch).
   * That is the tool's retransmission, not the relay's verdict: run it once more. */
  if (status != 0 && *out != NULL && strstr (*out, "437") != NULL)
    {
      g_test_message ("turnutils_uclient hit 437 from its own retransmission; running it again");
      g_clear_pointer (out, g_free);
      status = uclient_once (f, c, peer, out);
    }
  return status;
}

/* The relay carried the messages and the peer's echoes came back, all of them. */
static void
assert_relayed (Fixture *f, const Cred *c)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (uclient (f, c, "127.0.0.1", &out), ==, 0);
  g_assert_nonnull (strstr (out, "Total lost packets 0 (0.000000%)"));
  g_assert_null (strstr (out, "error"));
  g_assert_null (strstr (out, "ERROR"));
}

static void
assert_refused_auth (Fixture *f, const Cred *c)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (uclient (f, c, "127.0.0.1", &out), !=, 0);
  g_assert_nonnull (strstr (out, "Cannot complete Allocation"));
  g_assert_null (strstr (out, "Total lost packets"));
}

static void
assert_forbidden_peer (Fixture *f, const Cred *c, const char *peer)
{
  g_autofree char *out = NULL;

  uclient (f, c, peer, &out);
  g_assert_nonnull (strstr (out, "error 403 (Forbidden IP)"));
}

/* ---- The rendered file ---------------------------------------------------------------------- */

static char *
read_mode (const char *path, guint expected_mode)
{
  GStatBuf st;
  char *text = NULL;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, expected_mode);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static gboolean
has_line (const char *text, const char *line)
{
  g_autofree char *needle = g_strconcat ("\n", line, "\n", NULL);
  return strstr (text, needle) != NULL;
}

/* Is @ip inside a "denied-peer-ip=A-B" line (compared as bytes, one family)? */
static gboolean
denied_by (const char *text, const char *ip)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (ip);
  gsize n = g_inet_address_get_native_size (addr);

  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) ends = NULL;
      g_autoptr (GInetAddress) lo = NULL;
      g_autoptr (GInetAddress) hi = NULL;

      if (!g_str_has_prefix (lines[i], "denied-peer-ip="))
        continue;
      ends = g_strsplit (lines[i] + strlen ("denied-peer-ip="), "-", 2);
      lo = g_inet_address_new_from_string (ends[0]);
      hi = g_inet_address_new_from_string (ends[1] != NULL ? ends[1] : ends[0]);
      g_assert_nonnull (lo);
      g_assert_nonnull (hi);
      if (g_inet_address_get_family (lo) == g_inet_address_get_family (addr)
          && memcmp (g_inet_address_to_bytes (lo), g_inet_address_to_bytes (addr), n) <= 0
          && memcmp (g_inet_address_to_bytes (addr), g_inet_address_to_bytes (hi), n) <= 0)
        return TRUE;
    }
  return FALSE;
}

static void
check_production_text (const char *text, const TgSecrets *secrets)
{
  static const char *const hardening[] = {
    "use-auth-secret", "fingerprint", "no-cli", "no-multicast-peers", "no-tlsv1", "no-tlsv1_1",
    "no-tcp-relay", "stale-nonce=600", "user-quota=100", "total-quota=1200", "max-bps=500000",
    "no-dynamic-ip-list", "no-software-attribute", "log-file=stdout",
  };
  /* One address in every range the issue names, and some the list adds. */
  static const char *const must_deny[] = {
    "127.0.0.1", "127.255.0.9", "10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1",
    "100.64.0.1", "100.127.255.255", "169.254.169.254", "0.0.0.0", "0.1.2.3", "192.0.0.8",
    "198.18.0.1", "198.19.255.255", "224.0.0.1", "239.255.255.250", "240.0.0.1",
    "255.255.255.255", "192.0.2.1", "203.0.113.7", "::1", "::10.0.0.1", "fc00::1", "fd12::1",
    "fe80::1", "febf::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:8.8.8.8",
    "2001:db8::1", "64:ff9b::a00:1", "2002:a00:1::1", "2001:0:a00::1",
  };
  static const char *const must_allow[] = {
    "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
    "192.167.255.255", "192.169.0.0", "223.255.255.255", "2001:4860::8888", "2a00:1450::1",
    "2001:db9::1", "fbff::1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (hardening); i++)
    if (!has_line (text, hardening[i]))
      g_error ("the rendered configuration lacks \"%s\"", hardening[i]);
  g_assert_true (strstr (text, "\ncipher-list=ECDHE-") != NULL);
  g_assert_null (strstr (text, "allow-loopback-peers"));
  g_assert_null (strstr (text, "allowed-peer-ip"));
  g_assert_null (strstr (text, "static-auth-secret"));
  for (gsize i = 0; i < G_N_ELEMENTS (must_deny); i++)
    if (!denied_by (text, must_deny[i]))
      g_error ("%s is not in any denied-peer-ip range", must_deny[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (must_allow); i++)
    if (denied_by (text, must_allow[i]))
      g_error ("%s (public) is denied", must_allow[i]);
  for (guint i = 0; i < tg_secrets_count (secrets); i++)
    g_assert_null (strstr (text, tg_secrets_get (secrets, i)));
}

/* ---- Tests ---------------------------------------------------------------------------------- */

static void
test_production (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *conf_path = g_build_filename (f->state_dir, "turnserver.conf", NULL);
  g_autofree char *db_path = g_build_filename (f->state_dir, "turn-userdb.sqlite", NULL);
  g_autofree char *secret_path = g_build_filename (f->state_dir, "turn-secrets", NULL);
  g_autoptr (TgSecrets) secrets = NULL;
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cmdline = NULL;
  gsize cmdline_len = 0;
  g_auto (Cred) c = { 0 };

  SKIP_WITHOUT_COTURN ();
  start_coturn (f, "");
  g_free (read_mode (secret_path, 0600));
  secrets = tg_secrets_load (secret_path, &error);
  g_assert_no_error (error);
  text = read_mode (conf_path, 0600);
  check_production_text (text, secrets);
  /* The secret lives in the 0600 database coturn reads, not in the file nor on a command line. */
  g_free (read_mode (db_path, 0600));
  {
    sqlite3 *sql = NULL;
    sqlite3_stmt *st = NULL;

    g_assert_cmpint (sqlite3_open_v2 (db_path, &sql, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (sql, "SELECT value FROM turn_secret WHERE realm = "
                                              "'localhost'", -1, &st, NULL),
                     ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (st, 0), ==, tg_secrets_newest (secrets));
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_finalize (st);
    sqlite3_close (sql);
  }

  /* coturn knew every option: "Bad configuration format" is what it logs for one it does not. */
  log = coturn_log (f);
  g_assert_null (strstr (log, "Bad configuration format"));
  g_assert_null (strstr (log, "nrecognized option"));
  g_assert_null (strstr (log, "CONFIG ERROR"));
  g_assert_null (strstr (log, "allow_loopback_peers"));
  cmdline_path = g_strdup_printf ("/proc/%s/cmdline", g_subprocess_get_identifier (f->coturn));
  g_assert_true (g_file_get_contents (cmdline_path, &cmdline, &cmdline_len, NULL));
  for (gsize i = 0; i < cmdline_len; i++)
    cmdline[i] = cmdline[i] == '\0' ? ' ' : cmdline[i];
  for (guint i = 0; i < tg_secrets_count (secrets); i++)
    g_assert_null (strstr (cmdline, tg_secrets_get (secrets, i)));

  /* No peer on this host's loopback or private networks: CreatePermission gets 403. */
  mint (f, "alice", NULL, &c);
  assert_forbidden_peer (f, &c, "127.0.0.1");
  assert_forbidden_peer (f, &c, "10.0.0.1");
  assert_forbidden_peer (f, &c, "192.168.1.1");
  assert_forbidden_peer (f, &c, "169.254.169.254");
  assert_forbidden_peer (f, &c, "::1");
  assert_forbidden_peer (f, &c, "::ffff:127.0.0.1");
  assert_forbidden_peer (f, &c, "fe80::1");
  /* A control, so that a relay refusing everything would fail: a public address is permitted
   * (nothing leaves the host: the relay address is loopback). */
  {
    g_autofree char *out = NULL;
    uclient (f, &c, "8.8.8.8", &out);
    g_assert_null (strstr (out, "403"));
    g_assert_nonnull (strstr (out, "Total lost packets"));
  }
  /* coturn opens its database at the first authentication. */
  g_clear_pointer (&log, g_free);
  log = coturn_log (f);
  g_assert_nonnull (strstr (log, "SQLite DB connection success"));
}

/* Test-only allow-peer 127.0.0.1: a minted credential relays to a real peer; wrong, expired,
 * foreign and tampered credentials are refused. */
static void
test_relay (Fixture *f, gconstpointer data)
{
  g_auto (Cred) good = { 0 };
  g_auto (Cred) expired = { 0 };
  g_auto (Cred) tampered = { 0 };
  g_autoptr (TgSecrets) foreign = NULL;
  g_autoptr (TgCredential) wrong = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *past = g_strdup_printf ("%" G_GINT64_FORMAT,
                                           g_get_real_time () / G_USEC_PER_SEC - 3600);
  g_autofree char *log = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *text = NULL;

  SKIP_WITHOUT_COTURN ();
  start_coturn (f, "allow-peer = 127.0.0.1\n");
  conf_path = g_build_filename (f->state_dir, "turnserver.conf", NULL);
  text = read_mode (conf_path, 0600);
  g_assert_true (has_line (text, "allowed-peer-ip=127.0.0.1"));
  g_assert_true (has_line (text, "allow-loopback-peers"));
  log = coturn_log (f);
  g_assert_null (strstr (log, "Bad configuration format"));
  start_peer (f);

  mint (f, "alice", NULL, &good);
  assert_relayed (f, &good);
  /* Only the named address: the rest of 127/8 stays denied. */
  assert_forbidden_peer (f, &good, "127.0.0.2");

  mint (f, "alice", past, &expired);
  assert_refused_auth (f, &expired);

  foreign = tg_secrets_new_from_data ("a-secret-this-relay-never-saw\n", &error);
  g_assert_no_error (error);
  wrong = tg_cred_mint (foreign, "alice", g_get_real_time () / G_USEC_PER_SEC, 600);
  assert_refused_auth (f, &(Cred){ wrong->username, wrong->password });

  /* A later expiry with the password of the original username. */
  tampered.username = g_strdup (good.username);
  tampered.password = g_strdup (good.password);
  tampered.username[0] = tampered.username[0] == '9' ? '8' : '9';
  assert_refused_auth (f, &tampered);
  tampered.username[0] = good.username[0];
  tampered.password[0] = tampered.password[0] == 'A' ? 'B' : 'A';
  assert_refused_auth (f, &tampered);

  /* The good one still works after the refusals. */
  assert_relayed (f, &good);
}

/* Rotation against the running coturn: no restart, the old credential keeps working until its
 * secret leaves the file (three rotations later), the new one works at once. */
static void
test_rotation (Fixture *f, gconstpointer data)
{
  g_auto (Cred) old = { 0 };
  g_auto (Cred) fresh = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *secret_path = g_build_filename (f->state_dir, "turn-secrets", NULL);
  g_autoptr (TgSecrets) before = NULL;
  g_autoptr (TgSecrets) after = NULL;
  g_autofree char *pid = NULL;
  g_autofree char *out = NULL;

  SKIP_WITHOUT_COTURN ();
  start_coturn (f, "allow-peer = 127.0.0.1\n");
  start_peer (f);
  pid = g_strdup (g_subprocess_get_identifier (f->coturn));
  before = tg_secrets_load (secret_path, &error);
  g_assert_no_error (error);
  mint (f, "alice", NULL, &old);
  assert_relayed (f, &old);

  g_assert_cmpint (sotto_turn (f, &out, "rotate", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "coturn's database updated"));
  after = tg_secrets_load (secret_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tg_secrets_count (after), ==, 2);
  g_assert_cmpstr (tg_secrets_get (after, 1), ==, tg_secrets_newest (before));
  g_free (read_mode (secret_path, 0600));

  mint (f, "alice", NULL, &fresh);
  /* Minted under the new secret, which the running coturn has never been told about but by
   * its database. */
  g_assert_false (tg_cred_verify (before, fresh.username, fresh.password,
                                  g_get_real_time () / G_USEC_PER_SEC));
  assert_relayed (f, &fresh);
  assert_relayed (f, &old);

  /* Two more rotations push the first secret out (at most three are kept). */
  g_assert_cmpint (sotto_turn (f, NULL, "rotate", NULL), ==, 0);
  assert_relayed (f, &old);
  g_assert_cmpint (sotto_turn (f, NULL, "rotate", NULL), ==, 0);
  assert_refused_auth (f, &old);
  assert_relayed (f, &fresh); /* its secret is now the oldest kept */
  g_assert_cmpstr (g_subprocess_get_identifier (f->coturn), ==, pid); /* never restarted */
}

/* ---- TLS ------------------------------------------------------------------------------------- */

/* A TLS handshake with @version only; returns the server's certificate or NULL when the
 * handshake failed or did not finish within TLS_TIMEOUT_S (both mean "refused"). */
static X509 *
tls_handshake (guint port, int version)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port),
                           .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = TLS_TIMEOUT_S };
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());
  SSL *ssl = NULL;
  X509 *cert = NULL;
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  /* Old versions need security level 0 on our side, so that only the server can refuse. */
  SSL_CTX_set_security_level (ctx, 0);
  SSL_CTX_set_cipher_list (ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version (ctx, version);
  SSL_CTX_set_max_proto_version (ctx, version);
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt (s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  g_assert_cmpint (connect (s, (struct sockaddr *) &a, sizeof a), ==, 0);
  ssl = SSL_new (ctx);
  SSL_set_fd (ssl, s);
  SSL_set_tlsext_host_name (ssl, "localhost");
  if (SSL_connect (ssl) == 1 && SSL_version (ssl) == version)
    cert = SSL_get1_peer_certificate (ssl);
  ERR_clear_error ();
  SSL_free (ssl);
  SSL_CTX_free (ctx);
  close (s);
  return cert;
}

static char *
fingerprint (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;

  g_assert_true (X509_digest (cert, EVP_sha256 (), md, &len));
  return g_base64_encode (md, len);
}

static void
test_tls (Fixture *f, gconstpointer data)
{
  g_autofree char *pem_path = g_build_filename (f->cert_dir, "server.pem", NULL);
  BIO *bio = NULL;
  X509 *ours = NULL;
  X509 *seen = NULL;
  g_autofree char *want = NULL;
  g_autofree char *got = NULL;

  SKIP_WITHOUT_COTURN ();
  start_coturn (f, "");
  bio = BIO_new_file (pem_path, "r");
  g_assert_nonnull (bio);
  ours = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  g_assert_nonnull (ours);
  want = fingerprint (ours);

  seen = tls_handshake (f->tls_port, TLS1_2_VERSION);
  g_assert_nonnull (seen);
  got = fingerprint (seen);
  g_assert_cmpstr (got, ==, want);
  X509_free (seen);

  g_assert_null (tls_handshake (f->tls_port, TLS1_VERSION));
  g_assert_null (tls_handshake (f->tls_port, TLS1_1_VERSION));
  /* And the checks above still see a live server. */
  seen = tls_handshake (f->tls_port, TLS1_2_VERSION);
  g_assert_nonnull (seen);
  X509_free (seen);
  X509_free (ours);
}

/* render refuses and leaves the previous file alone: a bad value, a missing secret file. */
static void
test_render_refuses (Fixture *f, gconstpointer data)
{
  g_autofree char *conf_path = g_build_filename (f->state_dir, "turnserver.conf", NULL);
  g_autofree char *secret_path = g_build_filename (f->state_dir, "turn-secrets", NULL);
  g_autofree char *moved = g_strconcat (secret_path, ".away", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;

  SKIP_WITHOUT_COTURN ();
  g_assert_cmpint (sotto_turn (f, NULL, "render", NULL), ==, 0);
  before = read_mode (conf_path, 0600);

  write_config (f, "max-port = 70000\n");
  g_assert_cmpint (sotto_turn (f, &out, "render", NULL), ==, 1);
  g_assert_nonnull (strstr (out, ":13: [turn] max-port:"));
  g_clear_pointer (&out, g_free);

  write_config (f, "realm = other.example\n");
  g_assert_cmpint (g_rename (secret_path, moved), ==, 0);
  g_assert_cmpint (sotto_turn (f, &out, "render", NULL), ==, 1);
  g_assert_nonnull (strstr (out, "turn-secrets"));
  g_assert_nonnull (strstr (out, "sotto-turn rotate"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (g_rename (moved, secret_path), ==, 0);
  g_assert_cmpint (g_chmod (secret_path, 0644), ==, 0);
  g_assert_cmpint (sotto_turn (f, &out, "render", NULL), ==, 1);
  g_assert_nonnull (strstr (out, "chmod 600"));

  after = read_mode (conf_path, 0600);
  g_assert_cmpstr (after, ==, before);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/turn/coturn/production", test_production);
  ADD ("/turn/coturn/relay", test_relay);
  ADD ("/turn/coturn/rotation", test_rotation);
  ADD ("/turn/coturn/tls", test_tls);
  ADD ("/turn/coturn/render-refuses", test_render_refuses);
#undef ADD
  return g_test_run ();
}

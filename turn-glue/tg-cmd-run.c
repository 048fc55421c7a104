/* sotto-turn run: renders coturn's configuration, runs coturn as a child and watches it.
 *
 * stdout is a small protocol for supervisors and tests, one line each:
 *   COTURN <pid>                 a coturn child was started
 *   LISTENING <proto> <host:port> one per listener, once every listener answered STUN
 *   READY                        after the LISTENING lines (again after each restart)
 * coturn's own log (log-file=stdout in the rendered file) goes to our stderr.
 *
 * If coturn dies it is restarted after a back-off: 1 s, doubling up to 30 s, back to 1 s once
 * a child stayed up 60 s. SIGTERM/SIGINT stop coturn (SIGTERM, SIGKILL after 5 s) and exit 0.
 * Readiness is probed with blocking STUN Binding requests on the loop (300 ms deadline each,
 * on loopback), which keeps one thread at the price of short stalls while coturn starts. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "sotto-util.h"
#include "tg-commands.h"
#include "tg-config.h"
#include "tg-cred.h"
#include "tg-probe.h"
#include "tg-render.h"
#include "tg-userdb.h"

#define BACKOFF_MIN_S 1
#define BACKOFF_MAX_S 30
#define STABLE_S 60       /* up this long: the next failure starts the back-off again */
#define READY_TIMEOUT_S 30 /* not answering by then: kill and restart */
#define STOP_GRACE_S 5
#define PROBE_INTERVAL_MS 100
#define PROBE_DEADLINE_MS 300

typedef enum
{
  RUN_STATE_STARTING, /* child running, listeners not all answering yet */
  RUN_STATE_READY,
  RUN_STATE_BACKOFF,  /* child died, restart scheduled */
  RUN_STATE_STOPPING,
  RUN_STATE_LAST
} RunState;

static const char *
run_state_to_string (RunState s)
{
  static const char *const names[] = { "starting", "ready", "backoff", "stopping" };
  return s < RUN_STATE_LAST ? names[s] : "invalid";
}

typedef struct
{
  TgProbeTarget target; /* target.host is @host */
  char *host;
  gboolean answered;
} Listener;

typedef struct
{
  GMainLoop *loop;
  RunState state;
  char *turnserver;
  char *conf_path;
  GArray *listeners;
  GSubprocess *child;
  GCancellable *wait_cancel;
  gint64 started_at;
  guint backoff_s;
  guint probe_id, restart_id, kill_id;
  pid_t self;
} Run;

static void start_child (Run *run);

static void
set_state (Run *run, RunState state)
{
  g_debug ("run: %s -> %s", run_state_to_string (run->state), run_state_to_string (state));
  run->state = state;
}

static void
clear_listener (gpointer p)
{
  g_free (((Listener *) p)->host);
}

static void
add_listener (GArray *list, TgProbeTransport transport, const char *ip, guint port)
{
  Listener l = { 0 };

  /* A wildcard address is probed through loopback, which it includes. */
  if (strcmp (ip, "0.0.0.0") == 0)
    ip = "127.0.0.1";
  else if (strcmp (ip, "::") == 0)
    ip = "::1";
  l.host = g_strdup (ip);
  l.target.host = l.host; /* the string stays put when the array grows */
  l.target.transport = transport;
  l.target.port = (guint16) port;
  l.target.no_verify = TRUE; /* our own child on loopback: the certificate names the public host */
  g_array_append_val (list, l);
}

/* Listeners of a coturn file we did not render (--coturn-config): its listening-ip,
 * listening-port, tls-listening-port, no-udp, no-tcp, no-tls and cert options. */
static gboolean
listeners_from_coturn_conf (const char *path, GArray *out, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) ips = g_ptr_array_new_with_free_func (g_free);
  guint port = 3478, tls_port = 5349;
  gboolean udp = TRUE, tcp = TRUE, tls = TRUE, cert = FALSE;

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *value = line + strcspn (line, "= \t");
      char *key = line;

      if (*line == '#' || *line == '\0')
        continue;
      if (*value != '\0')
        *value++ = '\0';
      value = g_strstrip (value);
      if (strcmp (key, "listening-ip") == 0)
        g_ptr_array_add (ips, g_strdup (value));
      else if (strcmp (key, "listening-port") == 0)
        port = (guint) g_ascii_strtoull (value, NULL, 10);
      else if (strcmp (key, "tls-listening-port") == 0)
        tls_port = (guint) g_ascii_strtoull (value, NULL, 10);
      else if (strcmp (key, "no-udp") == 0)
        udp = FALSE;
      else if (strcmp (key, "no-tcp") == 0)
        tcp = FALSE;
      else if (strcmp (key, "no-tls") == 0)
        tls = FALSE;
      else if (strcmp (key, "cert") == 0)
        cert = TRUE;
    }
  if (ips->len == 0)
    g_ptr_array_add (ips, g_strdup ("0.0.0.0"));
  for (guint i = 0; i < ips->len; i++)
    {
      if (udp)
        add_listener (out, TG_PROBE_UDP, ips->pdata[i], port);
      if (tcp)
        add_listener (out, TG_PROBE_TCP, ips->pdata[i], port);
      if (tls && cert)
        add_listener (out, TG_PROBE_TLS, ips->pdata[i], tls_port);
    }
  return TRUE;
}

/* What `sotto-turn render` does: the secrets into coturn's user database, then the file. */
static char *
render (const char *config_path, GArray *listeners, GError **error)
{
  g_autoptr (TgConfig) config = tg_config_load_from_file (config_path, NULL, error);
  g_autoptr (TgSecrets) secrets = NULL;
  g_autofree char *text = NULL, *out = NULL, *userdb = NULL;

  if (config == NULL || (secrets = tg_secrets_load (config->secret_file, error)) == NULL)
    return NULL;
  if (g_mkdir_with_parents (config->state_dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "state-dir %s: %s",
                   config->state_dir, g_strerror (saved));
      return NULL;
    }
  text = tg_render_turnserver_conf (config);
  out = tg_render_conf_path (config);
  userdb = tg_render_userdb_path (config);
  if (!tg_userdb_sync (userdb, config->realm, secrets, error)
      || !sotto_util_write_file_atomic (out, text, strlen (text), 0600, error))
    return NULL;
  for (gsize i = 0; config->listen[i] != NULL; i++)
    {
      add_listener (listeners, TG_PROBE_UDP, config->listen[i], config->port);
      add_listener (listeners, TG_PROBE_TCP, config->listen[i], config->port);
      add_listener (listeners, TG_PROBE_TLS, config->listen[i],
                    config->tls_443 ? 443 : config->tls_port);
    }
  return g_steal_pointer (&out);
}

static gboolean
probe_tick (gpointer data)
{
  Run *run = data;
  gboolean all = TRUE;

  for (guint i = 0; i < run->listeners->len; i++)
    {
      Listener *l = &g_array_index (run->listeners, Listener, i);
      gint64 deadline = g_get_monotonic_time () + PROBE_DEADLINE_MS * 1000;

      if (!l->answered)
        l->answered = tg_probe_binding (&l->target, deadline, NULL, NULL);
      all = all && l->answered;
    }
  if (all)
    {
      for (guint i = 0; i < run->listeners->len; i++)
        {
          Listener *l = &g_array_index (run->listeners, Listener, i);
          gboolean v6 = strchr (l->host, ':') != NULL;
          printf ("LISTENING %s %s%s%s:%u\n",
                  l->target.transport == TG_PROBE_UDP   ? "udp"
                  : l->target.transport == TG_PROBE_TCP ? "tcp"
                                                        : "tls",
                  v6 ? "[" : "", l->host, v6 ? "]" : "", l->target.port);
        }
      printf ("READY\n");
      fflush (stdout);
      g_message ("coturn answers on all %u listeners", run->listeners->len);
      set_state (run, RUN_STATE_READY);
      run->probe_id = 0;
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () - run->started_at > (gint64) READY_TIMEOUT_S * G_USEC_PER_SEC)
    {
      g_warning ("coturn did not answer on every listener within %d s; restarting it",
                 READY_TIMEOUT_S);
      g_subprocess_force_exit (run->child); /* the exit handler schedules the restart */
      run->probe_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
restart_cb (gpointer data)
{
  Run *run = data;

  run->restart_id = 0;
  start_child (run);
  return G_SOURCE_REMOVE;
}

static void
child_exited (GObject *source, GAsyncResult *res, gpointer data)
{
  Run *run = data;
  GSubprocess *child = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  gint64 uptime_s;
  guint delay;

  if (!g_subprocess_wait_finish (child, res, &error))
    return; /* cancelled: @run is being torn down */
  g_clear_object (&run->child);
  g_clear_handle_id (&run->probe_id, g_source_remove);
  if (run->state == RUN_STATE_STOPPING)
    {
      g_clear_handle_id (&run->kill_id, g_source_remove);
      g_main_loop_quit (run->loop);
      return;
    }
  uptime_s = (g_get_monotonic_time () - run->started_at) / G_USEC_PER_SEC;
  if (uptime_s >= STABLE_S)
    run->backoff_s = BACKOFF_MIN_S;
  delay = run->backoff_s;
  run->backoff_s = MIN (run->backoff_s * 2, BACKOFF_MAX_S);
  if (g_subprocess_get_if_signaled (child))
    g_warning ("coturn was killed by signal %d after %" G_GINT64_FORMAT " s; restarting in %u s",
               g_subprocess_get_term_sig (child), uptime_s, delay);
  else
    g_warning ("coturn exited with status %d after %" G_GINT64_FORMAT " s; restarting in %u s",
               g_subprocess_get_exit_status (child), uptime_s, delay);
  set_state (run, RUN_STATE_BACKOFF);
  run->restart_id = g_timeout_add (delay * 1000, restart_cb, run);
}

/* In the child, between fork and exec: die with sotto-turn, even if it is SIGKILLed. */
static void
child_setup (gpointer data)
{
  pid_t parent = GPOINTER_TO_INT (data);

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    _exit (1); /* the parent died before prctl took effect */
}

static void
start_child (Run *run)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  /* The configuration file carries everything; never a secret on the command line. */
  const char *argv[] = { run->turnserver, "-c", run->conf_path, NULL };
  int out = dup (STDERR_FILENO);

  /* coturn logs to its stdout; our stdout is the READY protocol. */
  if (out >= 0)
    g_subprocess_launcher_take_stdout_fd (launcher, out);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, GINT_TO_POINTER (run->self),
                                         NULL);
  for (guint i = 0; i < run->listeners->len; i++)
    g_array_index (run->listeners, Listener, i).answered = FALSE;
  run->started_at = g_get_monotonic_time ();
  run->child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (run->child == NULL)
    {
      /* Treated like a crash: the binary may come back (a package upgrade). */
      g_warning ("cannot start %s: %s; retrying in %u s", run->turnserver, error->message,
                 run->backoff_s);
      set_state (run, RUN_STATE_BACKOFF);
      run->restart_id = g_timeout_add (run->backoff_s * 1000, restart_cb, run);
      run->backoff_s = MIN (run->backoff_s * 2, BACKOFF_MAX_S);
      return;
    }
  printf ("COTURN %s\n", g_subprocess_get_identifier (run->child));
  fflush (stdout);
  g_message ("started coturn (pid %s) with %s", g_subprocess_get_identifier (run->child),
             run->conf_path);
  set_state (run, RUN_STATE_STARTING);
  g_subprocess_wait_async (run->child, run->wait_cancel, child_exited, run);
  run->probe_id = g_timeout_add (PROBE_INTERVAL_MS, probe_tick, run);
}

static gboolean
force_kill (gpointer data)
{
  Run *run = data;

  run->kill_id = 0;
  if (run->child != NULL)
    {
      g_warning ("coturn still running %d s after SIGTERM; killing it", STOP_GRACE_S);
      g_subprocess_force_exit (run->child);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_stop_signal (gpointer data)
{
  Run *run = data;

  if (run->state == RUN_STATE_STOPPING)
    return G_SOURCE_CONTINUE;
  g_message ("stopping coturn");
  set_state (run, RUN_STATE_STOPPING);
  g_clear_handle_id (&run->probe_id, g_source_remove);
  g_clear_handle_id (&run->restart_id, g_source_remove);
  if (run->child == NULL)
    g_main_loop_quit (run->loop);
  else
    {
      g_subprocess_send_signal (run->child, SIGTERM);
      run->kill_id = g_timeout_add_seconds (STOP_GRACE_S, force_kill, run);
    }
  return G_SOURCE_CONTINUE;
}

int
tg_cmd_run (int argc, char **argv)
{
  g_autofree char *config_path = NULL, *coturn_config = NULL, *turnserver = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Sotto's configuration file: render coturn's from it and run that", "FILE" },
    { "coturn-config", 0, 0, G_OPTION_ARG_FILENAME, &coturn_config,
      "run this coturn configuration file as it is (no rendering)", "PATH" },
    { "turnserver", 0, 0, G_OPTION_ARG_FILENAME, &turnserver,
      "coturn's turnserver program (default: turnserver from PATH)", "PATH" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- run and watch coturn");
  g_autoptr (GError) error = NULL;
  Run run = { 0 };
  guint sig_term, sig_int;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc > 1
      || (config_path == NULL) == (coturn_config == NULL))
    {
      fprintf (stderr, "sotto-turn run: %s\nUsage: sotto-turn run --config FILE | "
               "--coturn-config PATH [--turnserver PATH]\n",
               error ? error->message : "give exactly one of --config and --coturn-config");
      return 2;
    }
  run.turnserver = turnserver ? g_strdup (turnserver) : g_find_program_in_path ("turnserver");
  if (run.turnserver == NULL || !g_file_test (run.turnserver, G_FILE_TEST_IS_EXECUTABLE))
    {
      fprintf (stderr, "sotto-turn run: %s is not an executable (install Debian's coturn)\n",
               turnserver ? turnserver : "turnserver");
      g_free (run.turnserver);
      return 1;
    }
  run.listeners = g_array_new (FALSE, TRUE, sizeof (Listener));
  g_array_set_clear_func (run.listeners, clear_listener);
  if (config_path != NULL)
    run.conf_path = render (config_path, run.listeners, &error);
  else if (listeners_from_coturn_conf (coturn_config, run.listeners, &error))
    run.conf_path = g_strdup (coturn_config);
  if (run.conf_path == NULL || run.listeners->len == 0)
    {
      fprintf (stderr, "sotto-turn run: %s\n",
               error ? error->message : "the configuration has no listener");
      g_array_unref (run.listeners);
      g_free (run.turnserver);
      g_free (run.conf_path);
      return 1;
    }

  run.loop = g_main_loop_new (NULL, FALSE);
  run.wait_cancel = g_cancellable_new ();
  run.backoff_s = BACKOFF_MIN_S;
  run.self = getpid ();
  sig_term = g_unix_signal_add (SIGTERM, on_stop_signal, &run);
  sig_int = g_unix_signal_add (SIGINT, on_stop_signal, &run);
  start_child (&run);
  g_main_loop_run (run.loop);

  g_source_remove (sig_term);
  g_source_remove (sig_int);
  g_cancellable_cancel (run.wait_cancel);
  g_clear_handle_id (&run.probe_id, g_source_remove);
  g_clear_handle_id (&run.restart_id, g_source_remove);
  g_clear_handle_id (&run.kill_id, g_source_remove);
  /* Let the cancelled wait finish before @run goes out of scope. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&run.child);
  g_clear_object (&run.wait_cancel);
  g_main_loop_unref (run.loop);
  g_array_unref (run.listeners);
  g_free (run.turnserver);
  g_free (run.conf_path);
  g_message ("stopped");
  return 0;
}

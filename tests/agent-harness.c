/* agent-harness: real sotto-agentd processes for the integration tests (see agent-harness.h). */
#include "config.h"

#include "agent-harness.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sotto-test.h"

void
agent_sleep_ms (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
}

static gboolean
connect_bus (AgentProc *a, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autofree char *address = g_strdup_printf ("unix:path=%s", a->socket);

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GError) error = NULL;

      if (g_subprocess_get_identifier (a->proc) == NULL)
        return FALSE; /* it exited */
      if (g_file_test (a->socket, G_FILE_TEST_EXISTS))
        {
          a->bus = g_dbus_connection_new_for_address_sync (
              address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
          if (a->bus != NULL)
            return TRUE;
        }
      g_usleep (50 * 1000);
    }
  return FALSE;
}

AgentProc *
agent_proc_start (SigHarness *h, const char *user, const char *password,
                  const char *extra_conf, const char *const *extra_args)
{
  g_autoptr (AgentProc) a = g_new0 (AgentProc, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *prog = sotto_test_program ("client-agent/sotto-agentd");
  g_autofree char *pw_path = NULL;
  g_autofree char *pw_text = g_strdup_printf ("%s\n", password);
  g_autofree char *conf = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *state = NULL;

  a->name = g_strdup (user);
  a->dir = g_dir_make_tmp ("sotto-agent-XXXXXX", &error);
  g_assert_no_error (error);
  a->socket = g_build_filename (a->dir, "run", "agent.sock", NULL);
  a->log_path = g_build_filename (a->dir, "agent.log", NULL);
  a->conf_path = g_build_filename (a->dir, "agent.conf", NULL);
  state = g_build_filename (a->dir, "state", NULL);
  pw_path = g_build_filename (a->dir, "password", NULL);
  g_assert_true (g_file_set_contents (pw_path, pw_text, -1, &error));
  g_assert_cmpint (chmod (pw_path, 0600), ==, 0);

  conf = g_strdup_printf ("[account]\n"
                          "aor = sips:%s@" SIG_HARNESS_DOMAIN "\n"
                          "registrar = sips:" SIG_HARNESS_DOMAIN ":%u\n"
                          "password-file = %s\n"
                          "ca-file = %s\n"
                          "[agent]\n"
                          "state-dir = %s\n"
                          "control-socket = %s\n"
                          "session-bus = false\n"
                          "log-level = debug\n"
                          "%s",
                          user, (unsigned) h->port, pw_path, h->cafile, state, a->socket,
                          extra_conf != NULL ? extra_conf : "");
  g_assert_true (g_file_set_contents (a->conf_path, conf, -1, &error));

  g_ptr_array_add (argv, prog);
  g_ptr_array_add (argv, (char *) "--config");
  g_ptr_array_add (argv, a->conf_path);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra_args[i]);
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr (GSubprocessLauncher) launcher
        = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);

    g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
    g_subprocess_launcher_set_stderr_file_path (launcher, a->log_path);
    a->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  }
  g_assert_no_error (error);
  g_test_message ("sotto-agentd %s log: %s", user, a->log_path);
  if (!connect_bus (a, 10000))
    {
      g_autofree char *log = agent_proc_log (a);

      g_error ("sotto-agentd %s did not open its control socket within 10 s:\n%s", user, log);
    }
  return g_steal_pointer (&a);
}

static GPid
pid_of (AgentProc *a)
{
  const char *id = g_subprocess_get_identifier (a->proc);

  return id != NULL ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

void
agent_proc_stop (AgentProc *a)
{
  GPid pid;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int status = 0;
  pid_t r;

  if (a->proc == NULL || (pid = pid_of (a)) == 0)
    return;
  g_clear_object (&a->bus);
  kill (pid, SIGTERM);
  while ((r = waitpid (pid, &status, WNOHANG)) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  if (r == 0)
    {
      g_autofree char *log = agent_proc_log (a);

      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      g_error ("sotto-agentd %s did not exit within 10 s of SIGTERM:\n%s", a->name, log);
    }
  if (r > 0 && !(WIFEXITED (status) && WEXITSTATUS (status) == 0))
    {
      g_autofree char *log = agent_proc_log (a);

      g_error ("sotto-agentd %s exited badly (status 0x%x):\n%s", a->name, status, log);
    }
  g_clear_object (&a->proc);
}

void
agent_proc_free (AgentProc *a)
{
  GPid pid;

  if (a == NULL)
    return;
  g_clear_object (&a->bus);
  if (a->proc != NULL && (pid = pid_of (a)) != 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
  g_clear_object (&a->proc);
  if (a->dir != NULL && g_getenv ("SOTTO_KEEP_TEST_DIRS") == NULL)
    sotto_test_remove_tree (a->dir);
  g_free (a->name);
  g_free (a->dir);
  g_free (a->socket);
  g_free (a->log_path);
  g_free (a->conf_path);
  g_free (a);
}

GVariant *
agent_proc_invoke (AgentProc *a, const char *method, GVariant *params, GError **error)
{
  return g_dbus_connection_call_sync (a->bus, NULL, "/org/sotto/Agent", "org.sotto.Agent1",
                                      method, params, NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
                                      error);
}

char *
agent_proc_status_string (AgentProc *a, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = agent_proc_invoke (a, "Status", NULL, &error);
  g_autoptr (GVariant) dict = NULL;
  g_autoptr (GVariant) value = NULL;

  g_assert_no_error (error);
  dict = g_variant_get_child_value (reply, 0);
  value = g_variant_lookup_value (dict, key, NULL);
  if (value == NULL)
    return NULL;
  return g_variant_is_of_type (value, G_VARIANT_TYPE_STRING) ? g_variant_dup_string (value, NULL)
                                                             : g_variant_print (value, FALSE);
}

GVariant *
agent_proc_call_info (AgentProc *a, guint id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
      = agent_proc_invoke (a, "CallInfo", g_variant_new ("(u)", id), &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

char *
agent_proc_call_string (AgentProc *a, guint id, const char *key)
{
  g_autoptr (GVariant) info = agent_proc_call_info (a, id);
  const char *s = NULL;

  if (!g_variant_lookup (info, key, "&s", &s))
    return NULL;
  return g_strdup (s);
}

guint64
agent_proc_call_u64 (AgentProc *a, guint id, const char *key)
{
  g_autoptr (GVariant) info = agent_proc_call_info (a, id);
  guint64 v = 0;

  g_variant_lookup (info, key, "t", &v);
  return v;
}

gboolean
agent_proc_wait_registered (AgentProc *a, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *reg = agent_proc_status_string (a, "registration");

      if (g_strcmp0 (reg, "registered") == 0)
        return TRUE;
      agent_sleep_ms (50);
    }
  return FALSE;
}

/* The first call in ListCalls that @match accepts: its id, with its state and reason when
 * asked (owned by the caller). 0 when none. */
typedef gboolean (*CallMatch) (guint id, const char *state, gconstpointer data);

static guint
find_call (AgentProc *a, CallMatch match, gconstpointer data, char **state_out,
           char **reason_out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = agent_proc_invoke (a, "ListCalls", NULL, &error);
  g_autoptr (GVariant) calls = NULL;
  GVariantIter it;
  GVariant *call;

  g_assert_no_error (error);
  calls = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&it, calls);
  while ((call = g_variant_iter_next_value (&it)) != NULL)
    {
      g_autoptr (GVariant) hold = call;
      guint cid = 0;
      const char *state = NULL, *why = NULL;

      g_variant_lookup (call, "id", "u", &cid);
      g_variant_lookup (call, "state", "&s", &state);
      g_variant_lookup (call, "reason", "&s", &why);
      if (match (cid, state, data))
        {
          if (state_out != NULL)
            *state_out = g_strdup (state);
          if (reason_out != NULL)
            *reason_out = g_strdup (why);
          return cid;
        }
    }
  return 0;
}

static gboolean
has_id (guint id, const char *state, gconstpointer data)
{
  return id == GPOINTER_TO_UINT (data);
}

static gboolean
is_incoming (guint id, const char *state, gconstpointer data)
{
  return g_strcmp0 (state, "incoming") == 0;
}

/* Call @id's state (and reason), or NULL when it is not listed. */
static char *
state_of (AgentProc *a, guint id, char **reason)
{
  char *state = NULL;

  find_call (a, has_id, GUINT_TO_POINTER (id), &state, reason);
  return state;
}

gboolean
agent_proc_wait_state (AgentProc *a, guint id, const char *state, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *reason = NULL;
      g_autofree char *now = state_of (a, id, &reason);

      if (g_strcmp0 (now, state) == 0)
        return TRUE;
      if (g_strcmp0 (now, "ended") == 0)
        {
          g_test_message ("%s: call %u ended while waiting for %s: %s", a->name, id, state,
                          reason);
          return FALSE;
        }
      agent_sleep_ms (50);
    }
  g_test_message ("%s: call %u not %s within %u ms", a->name, id, state, timeout_ms);
  return FALSE;
}

guint
agent_proc_wait_incoming (AgentProc *a, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      guint id = find_call (a, is_incoming, NULL, NULL, NULL);

      if (id != 0)
        return id;
      agent_sleep_ms (50);
    }
  return 0;
}

char *
agent_proc_log (AgentProc *a)
{
  char *text = NULL;

  if (!g_file_get_contents (a->log_path, &text, NULL, NULL))
    return g_strdup ("(no log)");
  return text;
}

char *
agent_make_speech (const char *dir, const char *name, const char *text)
{
  g_autofree char *espeak = g_find_program_in_path ("espeak-ng");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;

  if (espeak == NULL)
    return NULL;
  path = g_build_filename (dir, name, NULL);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                        &error, "timeout", "20", espeak, "-w", path, text, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (p, NULL, &error));
  return g_steal_pointer (&path);
}

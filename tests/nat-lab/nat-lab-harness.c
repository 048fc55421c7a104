/* nat-lab-harness: the NAT lab for GTest programs (see nat-lab-harness.h). */
#include "config.h"

#include "nat-lab-harness.h"

#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sotto-test.h"

static char *
script_path (void)
{
  const char *src = g_getenv ("SOTTO_SRCDIR");

  return g_build_filename (src != NULL ? src : SOTTO_SRCDIR, "tests", "nat-lab", "nat-lab", NULL);
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
expire (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
nat_lab_check_output (const char *const *argv, const char *stdin_text, guint timeout_s,
                      char **out, char **err)
{
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
      | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;
  Comm c = { 0 };
  gboolean expired = FALSE, ok;
  guint timer;

  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  if (p == NULL)
    {
      if (err != NULL)
        *err = g_strdup (error->message);
      return FALSE;
    }
  /* The program may exit before reading all of @stdin_text: EPIPE, not a fatal SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);
  g_subprocess_communicate_utf8_async (p, stdin_text, NULL, communicated, &c);
  timer = g_timeout_add_seconds (timeout_s, expire, &expired);
  while (!c.done && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!c.done)
    {
      g_subprocess_force_exit (p);
      while (!c.done)
        g_main_context_iteration (NULL, TRUE);
    }
  else
    g_source_remove (timer);
  g_subprocess_wait (p, NULL, NULL);
  ok = !expired && c.error == NULL && g_subprocess_get_if_exited (p)
       && g_subprocess_get_exit_status (p) == 0;
  if (expired)
    {
      char *more = g_strdup_printf ("%s(%s did not finish within %u s)", c.err ? c.err : "",
                                    argv[0], timeout_s);
      g_free (c.err);
      c.err = more;
    }
  g_clear_error (&c.error);
  if (out != NULL)
    *out = g_steal_pointer (&c.out);
  if (err != NULL)
    *err = g_steal_pointer (&c.err);
  g_free (c.out);
  g_free (c.err);
  return ok;
}

char *
nat_lab_unavailable (void)
{
  const char *tools[] = { "ip", "nft", "turnserver", "turnutils_natdiscovery", "dnsmasq",
                          "tcpdump", NULL };
  g_autofree char *probe = NULL;
  g_autofree char *err = NULL;

  if (geteuid () != 0)
    return g_strdup ("the NAT lab needs root for network namespaces (CI runs as root)");
  for (guint i = 0; tools[i] != NULL; i++)
    {
      g_autofree char *path = g_find_program_in_path (tools[i]);

      if (path == NULL)
        return g_strdup_printf ("%s is not installed (nftables, iproute2, coturn, dnsmasq-base, "
                                "tcpdump; see tools/install-deps)",
                                tools[i]);
    }
  /* Namespaces may be refused even to root (a container without CAP_SYS_ADMIN). */
  probe = g_strdup_printf ("sl%d-probe", (int) getpid ());
  {
    const char *add[] = { "ip", "netns", "add", probe, NULL };
    const char *del[] = { "ip", "netns", "del", probe, NULL };

    if (!nat_lab_check_output (add, NULL, 10, NULL, &err))
      return g_strdup_printf ("cannot create a network namespace here: %s", g_strstrip (err));
    nat_lab_check_output (del, NULL, 10, NULL, NULL);
  }
  return NULL;
}

static void
new_session (gpointer unused)
{
  /* The guardian must outlive the test and a ^C sent to its process group. */
  setsid ();
}

NatLab *
nat_lab_up (GError **error)
{
  g_autoptr (NatLab) lab = g_new0 (NatLab, 1);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());

  lab->script = script_path ();
  lab->prefix = g_strdup_printf ("sl%d-", (int) getpid ());
  lab->dir = g_dir_make_tmp ("sotto-nat-lab-XXXXXX", error);
  if (lab->dir == NULL)
    return NULL;
  {
    const char *reap[] = { lab->script, "reap", NULL };

    nat_lab_check_output (reap, NULL, 60, NULL, NULL);
  }
  {
    /* Started before the lab, so nothing the lab builds can outlive this process. */
    g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);

    g_subprocess_launcher_set_child_setup (l, new_session, NULL, NULL);
    lab->guardian = g_subprocess_launcher_spawn (l, error, lab->script, "watch", lab->prefix,
                                                 pid, lab->dir, NULL);
    if (lab->guardian == NULL)
      return NULL;
  }
  {
    const char *up[] = { lab->script, "up", lab->prefix, lab->dir, NULL };

    if (!nat_lab_check_output (up, NULL, 60, &out, &err))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "nat-lab up failed: %s%s", out, err);
        return NULL;
      }
  }
  g_test_message ("NAT lab %s up, state in %s", lab->prefix, lab->dir);
  return g_steal_pointer (&lab);
}

void
nat_lab_free (NatLab *lab)
{
  if (lab == NULL)
    return;
  if (lab->script != NULL && lab->prefix != NULL)
    {
      const char *down[] = { lab->script, "down", lab->prefix, NULL };
      g_autofree char *err = NULL;

      if (!nat_lab_check_output (down, NULL, 60, NULL, &err))
        g_printerr ("nat-lab down %s failed: %s\n", lab->prefix, err);
    }
  if (lab->guardian != NULL)
    {
      g_subprocess_send_signal (lab->guardian, SIGKILL);
      g_subprocess_wait (lab->guardian, NULL, NULL);
      g_clear_object (&lab->guardian);
    }
  if (lab->dir != NULL && g_getenv ("SOTTO_KEEP_TEST_DIRS") == NULL)
    sotto_test_remove_tree (lab->dir);
  g_free (lab->prefix);
  g_free (lab->dir);
  g_free (lab->script);
  g_free (lab);
}

char *
nat_lab_ns (NatLab *lab, const char *host)
{
  if (g_str_equal (host, "srv") || g_str_equal (host, "inet"))
    return g_strconcat (lab->prefix, host, NULL);
  return g_strconcat (lab->prefix, "h-", host, NULL);
}

char *
nat_lab_run (NatLab *lab, guint timeout_s, GError **error, const char *subcommand, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL, *err = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, lab->script);
  g_ptr_array_add (argv, (char *) subcommand);
  g_ptr_array_add (argv, lab->prefix);
  va_start (ap, subcommand);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  if (!nat_lab_check_output ((const char *const *) argv->pdata, NULL, timeout_s, &out, &err))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "nat-lab %s failed: %s", subcommand,
                   err);
      return NULL;
    }
  return g_strdup (g_strchomp (out));
}

GSubprocess *
nat_lab_spawn (NatLab *lab, const char *ns, const char *const *argv, GSubprocessFlags flags,
               const char *out_path, const char *err_path, GError **error)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) l = NULL;

  if (out_path == NULL && !(flags & G_SUBPROCESS_FLAGS_STDOUT_PIPE))
    flags |= G_SUBPROCESS_FLAGS_STDOUT_SILENCE;
  if (err_path == NULL)
    flags |= G_SUBPROCESS_FLAGS_STDERR_SILENCE;
  l = g_subprocess_launcher_new (flags);
  /* ip netns exec execs the program itself: the process we hold is the program, and the
   * parent-death signal set here survives that exec. */
  g_subprocess_launcher_set_child_setup (l, sotto_test_die_with_parent, NULL, NULL);
  if (out_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (l, out_path);
  if (err_path != NULL)
    g_subprocess_launcher_set_stderr_file_path (l, err_path);
  g_ptr_array_add (args, (char *) "ip");
  g_ptr_array_add (args, (char *) "netns");
  g_ptr_array_add (args, (char *) "exec");
  g_ptr_array_add (args, (char *) ns);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (char *) argv[i]);
  g_ptr_array_add (args, NULL);
  return g_subprocess_launcher_spawnv (l, (const char *const *) args->pdata, error);
}

int
nat_lab_stop (GSubprocess *p, guint grace_ms)
{
  const char *id;
  GPid pid;
  gint64 deadline = g_get_monotonic_time () + (gint64) grace_ms * 1000;
  int status = 0;
  pid_t r;

  if (p == NULL || (id = g_subprocess_get_identifier (p)) == NULL)
    return 0;
  pid = (GPid) g_ascii_strtoll (id, NULL, 10);
  kill (pid, SIGTERM);
  while ((r = waitpid (pid, &status, WNOHANG)) == 0 && g_get_monotonic_time () < deadline)
    g_usleep (20 * 1000);
  if (r == 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      return -1;
    }
  return r < 0 ? 0 : status;
}

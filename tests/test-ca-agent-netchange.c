/* /agent/network-change: a network change (GNetworkMonitor) makes sotto-agentd register again at
 * once, as a laptop moving between networks needs.
 *
 * A real change, in a network namespace of the test's own: the test thread unshares its
 * network namespace (root only), brings its loopback up, and starts sotto-signald and the
 * agent inside it. Adding an interface with a default route is then a network change the
 * agent's netlink monitor sees, and nothing on the host's own interfaces is touched. */
#define _GNU_SOURCE
#include "config.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "agent-harness.h"
#include "sig-harness.h"
#include "sotto-test.h"

#define T 15000

/* Runs a command to completion (20 s at most); TRUE when it exits 0. */
static gboolean
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (char *) "timeout");
  g_ptr_array_add (args, (char *) "20");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (char *) argv[i]);
  g_ptr_array_add (args, NULL);
  p = g_subprocess_newv ((const char *const *) args->pdata, G_SUBPROCESS_FLAGS_NONE, &error);
  if (p == NULL || !g_subprocess_wait (p, NULL, &error))
    return FALSE;
  return g_subprocess_get_if_exited (p) && g_subprocess_get_exit_status (p) == 0;
}

/* How many times the server has logged a registration by alice. */
static guint
registrations (SigHarness *h)
{
  g_autofree char *log = sig_harness_log (h);
  guint n = 0;

  for (const char *p = log; (p = strstr (p, "alice registered a device")) != NULL; p++)
    n++;
  return n;
}

static gboolean
wait_registrations (SigHarness *h, guint at_least, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      if (registrations (h) >= at_least)
        return TRUE;
      agent_sleep_ms (100);
    }
  return FALSE;
}

static void
test_network_change (void)
{
  g_autofree char *ip = g_find_program_in_path ("ip");
  g_autoptr (SigHarness) h = NULL;
  g_autoptr (AgentProc) alice = NULL;
  const char *lo_up[] = { "ip", "link", "set", "lo", "up", NULL };
  /* veth, not dummy: kernels without the dummy module are common in containers. */
  const char *add_link[] = { "ip", "link", "add", "sotto0", "type", "veth", "peer", "name",
                             "sotto1", NULL };
  const char *peer_up[] = { "ip", "link", "set", "sotto1", "up", NULL };
  const char *add_addr[] = { "ip", "addr", "add", "198.51.100.2/24", "dev", "sotto0", NULL };
  const char *link_up[] = { "ip", "link", "set", "sotto0", "up", NULL };
  const char *add_route[] = { "ip", "route", "add", "default", "dev", "sotto0", NULL };
  guint before;

  if (geteuid () != 0 || ip == NULL)
    {
      g_test_skip ("a network namespace of our own needs root and iproute2 (CI runs as root)");
      return;
    }
  if (unshare (CLONE_NEWNET) != 0)
    {
      g_test_skip_printf ("cannot make a network namespace: %s", g_strerror (errno));
      return;
    }
  g_assert_true (run (lo_up));

  h = sig_harness_new ();
  sig_harness_add_user (h, "alice", "alice-secret-1");
  sig_harness_start (h);
  alice = agent_proc_start (h, "alice", "alice-secret-1",
                            "[media]\nlocal-addresses = 127.0.0.1;\nsilence = true\n", NULL);
  g_assert_true (agent_proc_wait_registered (alice, T));
  g_assert_true (wait_registrations (h, 1, T));

  /* Nothing happens by itself: the count can only grow because of what follows. */
  agent_sleep_ms (2000);
  before = registrations (h);
  g_assert_cmpuint (before, ==, 1);

  /* A new interface, an address and a default route: the network is (newly) available. */
  g_assert_true (run (add_link));
  g_assert_true (run (add_addr));
  g_assert_true (run (peer_up));
  g_assert_true (run (link_up));
  g_assert_true (run (add_route));
  g_assert_true (wait_registrations (h, before + 1, T));
  {
    g_autofree char *log = agent_proc_log (alice);

    g_assert_nonnull (strstr (log, "network changed: registering again"));
  }
  g_assert_true (agent_proc_wait_registered (alice, T));

  agent_proc_stop (alice);
  g_assert_cmpint (sig_harness_stop (h), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/agent/network-change", test_network_change);
  return g_test_run ();
}

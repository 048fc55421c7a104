/* The NAT lab (issue 5): real sotto-agentd processes behind real NATs made of network
 * namespaces and nftables (tests/nat-lab/nat-lab), calling through a real sotto-signald and
 * coturn on the lab's "internet".
 *
 *   /nat/lab/self-check      classifies every router with RFC 5780 tests (coturn with two
 *                            addresses and turnutils_natdiscovery), checks that a cone's
 *                            mapping holds toward a destination that sent first (nat-lab eim),
 *                            and fails when one is not what its label says; runs first, so a
 *                            broken lab stops the run
 *   /nat/matrix/A-B          A calls B: connects, audio both ways, the path ICE theory
 *                            predicts (the table and its reasoning are in test-nat-matrix.c)
 *   /nat/matrix/wire         a capture of the whole matrix on the internet bridge: nothing
 *                            plaintext, no UDP 5060
 *   /nat/recovery/rebind     a call whose NAT mapping changes mid-call (the symmetric
 *                            router's UDP conntrack entries deleted) recovers by an ICE
 *                            restart within a stated bound
 *
 * Everything skips, with the reason, when not root or when namespaces or a tool are missing. */
#include "config.h"

#include <string.h>


#include "nat-lab/nat-lab-harness.h"
#include "nat-lab/nat-matrix.h"

/* One lab for the whole program, built by the first test that needs it. */
static NatLab *the_lab;
static char *lab_skip;
static gboolean lab_failed;

NatLab *
nat_test_lab (void)
{
  g_autoptr (GError) error = NULL;

  if (the_lab != NULL)
    return the_lab;
  if (lab_skip == NULL)
    lab_skip = nat_lab_unavailable ();
  if (lab_skip != NULL)
    {
      g_test_skip (lab_skip);
      return NULL;
    }
  if (lab_failed)
    {
      g_test_fail_printf ("the NAT lab could not be built (see the first test)");
      return NULL;
    }
  the_lab = nat_lab_up (&error);
  if (the_lab == NULL)
    {
      lab_failed = TRUE;
      g_test_fail_printf ("%s", error->message);
    }
  return the_lab;
}

/* ---- self-check ---------------------------------------------------------------------------- */

/* What each label means, in RFC 4787 terms, as turnutils_natdiscovery reports it. */
typedef struct
{
  const char *host;
  const char *mapping;
  const char *filtering;
  const char *reflexive; /* the address the server sees */
  /* `nat-lab eim`: is the mapping the same toward a destination whose packets arrived (and
   * were filtered) before the host sent there, as a peer's first ICE check does? Linux keeps
   * an [UNREPLIED] conntrack entry for such a packet unless the router drops it first, and
   * then gives the host's own flow to that peer another port: the classify test above cannot
   * see it (nothing arrives first at the destinations it maps through). */
  const char *eim;
} Expected;

#define EI  "endpoint-independent"
#define AD  "address-dependent"
#define APD "address-and-port-dependent"

static const Expected expected[] = {
  /* No NAT: the server sees the host's own address, and anything reaches it. */
  { "pub", EI, EI, "100.64.0.10", "kept" },
  { "lan-a", EI, APD, "100.64.0.21", "kept" },
  { "lan-b", EI, APD, "100.64.0.21", "kept" },
  { "full", EI, EI, "100.64.0.22", "kept" },
  { "addr", EI, AD, "100.64.0.23", "kept" },
  { "port", EI, APD, "100.64.0.24", "kept" },
  { "sym", APD, APD, "100.64.0.25", "changed" },
  /* UDP blocked: not one STUN answer. */
  { "fw", "none", "none", "none", "none" },
  { "no5060", EI, APD, "100.64.0.27", "kept" },
  { "sym2", APD, APD, "100.64.0.28", "changed" },
};

typedef struct
{
  const char *label;
  char *out;
  char *err;
  gboolean done;
  gboolean ok;
} Probe;

static void
probe_done (GObject *source, GAsyncResult *res, gpointer data)
{
  Probe *p = data;
  g_autoptr (GError) error = NULL;

  p->ok = g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), res, &p->out, &p->err,
                                                &error)
          && g_subprocess_get_if_exited (G_SUBPROCESS (source))
          && g_subprocess_get_exit_status (G_SUBPROCESS (source)) == 0;
  p->done = TRUE;
}

static gboolean
wake (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs nat-lab with each argument vector of @argvs at once (each answer takes seconds of STUN
 * timeouts), all within @timeout_s. */
static void
run_probes (NatLab *lab, GPtrArray *argvs, Probe *probes, guint timeout_s)
{
  g_autoptr (GPtrArray) procs = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean expired = FALSE;
  guint timer = g_timeout_add_seconds (timeout_s, wake, &expired);
  gboolean all;

  for (guint i = 0; i < argvs->len; i++)
    {
      g_autoptr (GError) error = NULL;
      GSubprocess *p = g_subprocess_newv (argvs->pdata[i],
                                          G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                              | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                          &error);

      g_assert_no_error (error);
      g_subprocess_communicate_utf8_async (p, NULL, NULL, probe_done, &probes[i]);
      g_ptr_array_add (procs, p);
    }
  do
    {
      g_main_context_iteration (NULL, TRUE);
      all = TRUE;
      for (guint i = 0; i < argvs->len; i++)
        all &= probes[i].done;
    }
  while (!all && !expired);
  if (!all)
    {
      for (guint i = 0; i < procs->len; i++)
        if (!probes[i].done)
          g_subprocess_force_exit (procs->pdata[i]);
      while (!all)
        {
          g_main_context_iteration (NULL, TRUE);
          all = TRUE;
          for (guint i = 0; i < argvs->len; i++)
            all &= probes[i].done;
        }
      g_test_fail_printf ("nat-lab probes did not finish within %u s", timeout_s);
    }
  else
    g_source_remove (timer);
}

static char **
probe_argv (NatLab *lab, const char *cmd, const char *a, const char *b)
{
  return g_strdupv ((char *[]){ lab->script, (char *) cmd, lab->prefix, (char *) a, (char *) b,
                                NULL });
}

static void
test_self_check (void)
{
  NatLab *lab = nat_test_lab ();
  g_autoptr (GPtrArray) argvs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  /* The extra probes: the firewall's TCP holes and its closed 3478; the UDP 5060 block. */
  static const struct
  {
    const char *cmd, *host, *arg, *want, *why;
  } extra[] = {
    { "tcp-out", "fw", "443", "yes", "the firewall lets TCP 443 out" },
    { "tcp-out", "fw", "5061", "yes", "the firewall lets TCP 5061 out" },
    { "tcp-out", "fw", "5349", "yes", "the firewall lets TCP 5349 out" },
    { "tcp-out", "fw", "3478", "no", "the firewall drops TCP 3478" },
    { "udp-out", "no5060", "5060", "no", "answers to local port 5060 are dropped" },
    { "udp-out", "no5060", "5070", "yes", "answers to other ports pass" },
    { "udp-out", "port", "5060", "yes", "the plain port-restricted router passes 5060" },
  };
  const guint n = G_N_ELEMENTS (expected);
  Probe probes[2 * G_N_ELEMENTS (expected) + G_N_ELEMENTS (extra)] = { 0 };
  guint failures = 0;

  if (lab == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_ptr_array_add (argvs, probe_argv (lab, "classify", expected[i].host, NULL));
      probes[i].label = expected[i].host;
    }
  for (guint i = 0; i < n; i++)
    {
      g_ptr_array_add (argvs, probe_argv (lab, "eim", expected[i].host, NULL));
      probes[n + i].label = expected[i].host;
    }
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      g_ptr_array_add (argvs, probe_argv (lab, extra[i].cmd, extra[i].host, extra[i].arg));
      probes[2 * n + i].label = extra[i].why;
    }
  run_probes (lab, argvs, probes, 90);

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *want = g_strdup_printf ("mapping=%s filtering=%s reflexive=%s",
                                               expected[i].mapping, expected[i].filtering,
                                               expected[i].reflexive);
      const char *got = probes[i].out != NULL ? g_strstrip (probes[i].out) : "";

      g_test_message ("%-7s %s", expected[i].host, got);
      if (!probes[i].ok || strcmp (got, want) != 0)
        {
          g_test_message ("router of %s is not what its label says: want %s, got %s (%s)",
                          expected[i].host, want, got, probes[i].err);
          failures++;
        }
    }
  for (guint i = 0; i < n; i++)
    {
      Probe *p = &probes[n + i];
      const char *got = p->out != NULL ? g_strstrip (p->out) : "";
      const char *how = p->err != NULL ? g_strstrip (p->err) : "";

      g_test_message ("%-7s eim %s (%s)", expected[i].host, got, how);
      if (!p->ok || strcmp (got, expected[i].eim) != 0)
        {
          g_test_message ("router of %s: mapping toward a destination that sent first: want "
                          "%s, got %s",
                          expected[i].host, expected[i].eim, got);
          failures++;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (extra); i++)
    {
      Probe *p = &probes[2 * n + i];
      const char *got = p->out != NULL ? g_strstrip (p->out) : "";

      g_test_message ("%-7s %s %s: %s (%s)", extra[i].host, extra[i].cmd, extra[i].arg, got,
                      extra[i].why);
      if (!p->ok || strcmp (got, extra[i].want) != 0)
        {
          g_test_message ("%s: not so (%s)", extra[i].why, p->err);
          failures++;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      g_free (probes[i].out);
      g_free (probes[i].err);
    }
  if (failures > 0)
    g_error ("NAT lab self-check: %u router%s not what the label says; the matrix would "
             "prove nothing",
             failures, failures == 1 ? " is" : "s are");
}

int
main (int argc, char **argv)
{
  int rc;
  /* Every pair runs and the table is printed even when one fails (GLib stops at the first
   * failure otherwise). A broken lab still stops the run: the self-check ends in g_error. */
  g_autofree char **args = g_new0 (char *, argc + 2);

  for (int i = 0; i < argc; i++)
    args[i] = argv[i];
  args[argc++] = (char *) "--keep-going";
  argv = args;
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/nat/lab/self-check", test_self_check);
  nat_matrix_add_tests ();
  rc = g_test_run ();
  nat_matrix_finish ();
  g_clear_pointer (&the_lab, nat_lab_free);
  g_free (lab_skip);
  return rc;
}

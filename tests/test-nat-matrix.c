/* The NAT lab's call matrix (see tests/test-nat-lab.c): one sotto-agentd in every client
 * namespace, a sotto-signald and a coturn (rendered by sotto-turn) in the server namespace,
 * tcpdump on the internet bridge. Each /nat/matrix/A-B case has A call B and checks that the
 * call connects, that audio arrives both ways, and that the selected ICE pair is of the kind
 * the table below predicts. /nat/matrix/wire then reads the capture of every call.
 *
 * Why each expectation (RFC 8445 section 5.1.2 priorities: host > prflx > srflx > relay; a pair
 * works when each side's checks get through the other side's NAT):
 *   - Two hosts on one LAN: their host candidates reach each other directly -> host.
 *   - A public host and any cone: the cone's mapping is endpoint-independent, so its srflx
 *     candidate is what the public host sees, and the public host filters nothing -> srflx.
 *   - Two cones: each side's outgoing checks open its own (endpoint-independent) mapping
 *     toward the other's srflx address, so the next check from the other side gets in
 *     (the classic hole punch) -> srflx.
 *   - A symmetric NAT opens a new port per destination, so its srflx (learned toward coturn)
 *     is useless to the peer; but its checks arrive from the new port, and a side that
 *     filters only by address (full or address-restricted cone, or no NAT) lets them in and
 *     answers: a peer-reflexive pair -> srflx (CallInfo counts prflx as srflx).
 *   - Symmetric meets port-restricted or symmetric: the port-restricted side only lets in the
 *     port it sent to, and the symmetric side never sends from the port the other knows, so
 *     no direct pair can work -> relay.
 *   - UDP blocked (fw): no UDP candidate of fw's can work; only a TURN allocation reached over
 *     TCP gives it a relayed address -> relay (over TCP on fw's side).
 *   - no5060 behaves as a port-restricted cone: nothing Sotto does uses UDP 5060. */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "agent-harness.h"
#include "nat-lab/nat-matrix.h"
#include "nat-lab/nat-wire.h"
#include "sotto-test.h"

#define T_STATE 20000 /* ms: ringing, answer, ICE and DTLS */
#define T_AUDIO 15000 /* ms: until both sides received MIN_PACKETS */
#define MIN_PACKETS 50 /* 20 ms frames: a second of audio */

typedef struct
{
  const char *a, *b, *expected, *why;
} Pair;

static const Pair pairs[] = {
  { "lan-a", "lan-b", "host", "same LAN" },
  { "pub", "full", "srflx", "public - cone" },
  { "pub", "addr", "srflx", "public - cone" },
  { "pub", "port", "srflx", "public - cone" },
  { "pub", "no5060", "srflx", "public - cone" },
  { "pub", "sym", "srflx", "public - symmetric: prflx from the new port" },
  { "full", "addr", "srflx", "cone - cone" },
  { "full", "port", "srflx", "cone - cone" },
  { "addr", "port", "srflx", "cone - cone" },
  { "port", "no5060", "srflx", "cone - cone" },
  { "full", "sym", "srflx", "full cone - symmetric: prflx" },
  { "addr", "sym", "srflx", "address-restricted - symmetric: prflx" },
  { "port", "sym", "relay", "port-restricted - symmetric" },
  { "no5060", "sym", "relay", "port-restricted - symmetric" },
  { "sym", "sym2", "relay", "symmetric - symmetric" },
  { "fw", "pub", "relay", "UDP blocked: TURN over TCP" },
  { "fw", "port", "relay", "UDP blocked: TURN over TCP" },
  { "fw", "sym", "relay", "UDP blocked: TURN over TCP" },
};

static const struct
{
  const char *host, *address;
} hosts[] = {
  { "pub", "100.64.0.10" }, { "lan-a", "10.1.0.2" }, { "lan-b", "10.1.0.3" },
  { "full", "10.2.0.2" },   { "addr", "10.3.0.2" },  { "port", "10.4.0.2" },
  { "sym", "10.5.0.2" },    { "fw", "10.6.0.2" },    { "no5060", "10.7.0.2" },
  { "sym2", "10.8.0.2" },
};

typedef struct
{
  const Pair *pair;
  char *chosen;
  double setup_ms;
  guint64 rx_a, rx_b;
  const char *result;
} Row;

typedef struct
{
  NatLab *lab;
  char *dir;
  char *conf;
  char *cafile;
  char *pcap;
  GSubprocess *signald, *coturn, *capture;
  GHashTable *agents; /* host -> AgentProc */
  char *speech;
} World;

static World *world;
static gboolean world_failed;
static GArray *rows;

static void
row_clear (gpointer data)
{
  g_free (((Row *) data)->chosen);
}

static const char *
address_of (const char *host)
{
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    if (g_str_equal (hosts[i].host, host))
      return hosts[i].address;
  g_assert_not_reached ();
}

static gboolean
run_ok (const char *what, const char *const *argv, const char *input)
{
  g_autofree char *err = NULL;

  if (nat_lab_check_output (argv, input, 60, NULL, &err))
    return TRUE;
  g_test_fail_printf ("%s failed: %s", what, err);
  return FALSE;
}

/* Reads sotto-signald's stdout until READY, 10 s at most. */
static gboolean
wait_ready (GSubprocess *p)
{
  int fd = g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (p)));
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_autoptr (GString) buf = g_string_new (NULL);

  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char chunk[256];
      ssize_t n;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      if ((n = read (fd, chunk, sizeof chunk)) <= 0)
        return FALSE;
      g_string_append_len (buf, chunk, n);
      if (strstr (buf->str, "READY\n") != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Polls a nat-lab yes/no probe until "yes", @timeout_ms at most. */
static gboolean
wait_yes (NatLab *lab, const char *cmd, const char *arg, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *out = nat_lab_run (lab, 10, NULL, cmd, arg, NULL);

      if (g_strcmp0 (out, "yes") == 0)
        return TRUE;
      g_usleep (100 * 1000);
    }
  return FALSE;
}

static gboolean
write_file (const char *path, const char *text, int mode)
{
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, text, -1, &error) || chmod (path, mode) != 0)
    {
      g_test_fail_printf ("cannot write %s: %s", path, error ? error->message : "chmod");
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_servers (World *w)
{
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");
  g_autofree char *admin = sotto_test_program ("signal/sotto-admin");
  g_autofree char *turn = sotto_test_program ("turn-glue/sotto-turn");
  g_autofree char *signald = sotto_test_program ("signal/sotto-signald");
  g_autofree char *tls = g_build_filename (w->dir, "tls", NULL);
  g_autofree char *state = g_build_filename (w->dir, "state", NULL);
  g_autofree char *turn_state = g_build_filename (w->dir, "turn", NULL);
  g_autofree char *secrets = g_build_filename (w->dir, "turn-secrets", NULL);
  g_autofree char *coturn_conf = g_build_filename (w->dir, "turnserver.conf", NULL);
  g_autofree char *coturn_log = g_build_filename (w->dir, "coturn.log", NULL);
  g_autofree char *signald_log = g_build_filename (w->dir, "signald.log", NULL);
  g_autofree char *srv = nat_lab_ns (w->lab, "srv");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  w->cafile = g_build_filename (tls, "cafile.pem", NULL);
  w->conf = g_build_filename (w->dir, "sotto.conf", NULL);
  g_mkdir_with_parents (turn_state, 0700);
  {
    /* Sofia-SIP checks the server by DNS name only: the lab resolver serves sotto.lab. */
    const char *argv[] = { certs, "init", "--dir", tls, "--name", NAT_LAB_DOMAIN, NULL };
    if (!run_ok ("sotto-certs init", argv, NULL))
      return FALSE;
  }
  if (!write_file (secrets, "nat-lab-turn-secret-0123456789abcdef\n", 0600))
    return FALSE;
  /* The relay may reach the lab's internet, 100.64.0.0/24, and nothing else: every peer a
   * relay must reach there (srflx and relayed addresses) is on it. Production denies
   * 100.64.0.0/10 (RFC 6598 shared space); this allow-peer is the lab's only change to what
   * sotto-turn renders, and it is no loopback range, so no allow-loopback-peers. The 10.x
   * LANs stay denied: a relay has no business there, and no route to them either. */
  text = g_strdup_printf ("[signald]\n"
                          "domain = " NAT_LAB_DOMAIN "\n"
                          "listen = sips:" NAT_LAB_SERVER ":5061\n"
                          "cert-dir = %s\n"
                          "state-dir = %s\n"
                          "log-level = debug\n"
                          "[turn]\n"
                          "server-name = " NAT_LAB_DOMAIN "\n"
                          "realm = " NAT_LAB_DOMAIN "\n"
                          "listen = " NAT_LAB_SERVER ";" NAT_LAB_SERVER2 "\n"
                          "port = 3478\n"
                          "tls-port = 5349\n"
                          "credential-lifetime = 3600\n"
                          "cert-file = %s/server.pem\n"
                          "key-file = %s/server.key\n"
                          "secret-file = %s\n"
                          "state-dir = %s\n"
                          "allow-peer = 100.64.0.0-100.64.0.255\n",
                          tls, state, tls, tls, secrets, turn_state);
  if (!write_file (w->conf, text, 0600))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      const char *argv[] = { admin, "--state-dir", state, "--domain", NAT_LAB_DOMAIN, "add",
                             hosts[i].host, "--password-stdin", NULL };
      g_autofree char *pw = g_strdup_printf ("pw-%s-0123456789\n", hosts[i].host);

      if (!run_ok ("sotto-admin add", argv, pw))
        return FALSE;
    }
  {
    const char *argv[] = { turn, "render", "--config", w->conf, "--out", coturn_conf, NULL };
    if (!run_ok ("sotto-turn render", argv, NULL))
      return FALSE;
  }
  {
    const char *argv[] = { "turnserver", "-c", coturn_conf, NULL };
    w->coturn = nat_lab_spawn (w->lab, srv, argv, G_SUBPROCESS_FLAGS_NONE, coturn_log,
                               coturn_log, &error);
    g_assert_no_error (error);
  }
  {
    const char *argv[] = { signald, "--config", w->conf, NULL };
    w->signald = nat_lab_spawn (w->lab, srv, argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL,
                                signald_log, &error);
    g_assert_no_error (error);
    g_test_message ("sotto-signald log: %s, coturn log: %s", signald_log, coturn_log);
    if (!wait_ready (w->signald))
      {
        g_test_fail_printf ("sotto-signald did not report READY within 10 s (%s)", signald_log);
        return FALSE;
      }
  }
  if (!wait_yes (w->lab, "listening", "3478", 10000))
    {
      g_test_fail_printf ("coturn does not listen on 3478 after 10 s (%s)", coturn_log);
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_capture (World *w)
{
  g_autofree char *inet = nat_lab_ns (w->lab, "inet");
  g_autofree char *err_path = g_build_filename (w->dir, "tcpdump.err", NULL);
  const char *argv[] = { "tcpdump", "-i", "br0", "-n", "-U", "-s", "0", "-w", w->pcap, NULL };
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  w->capture = nat_lab_spawn (w->lab, inet, argv, G_SUBPROCESS_FLAGS_NONE, NULL, err_path,
                              &error);
  g_assert_no_error (error);
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (err_path, &text, NULL, NULL) && strstr (text, "listening on"))
        return TRUE;
      g_usleep (50 * 1000);
    }
  g_test_fail_printf ("tcpdump did not start listening within 10 s");
  return FALSE;
}

static gboolean
connect_bus (AgentProc *a, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  g_autofree char *address = g_strdup_printf ("unix:path=%s", a->socket);

  while (g_get_monotonic_time () < deadline)
    {
      if (g_subprocess_get_identifier (a->proc) == NULL)
        return FALSE; /* it exited */
      if (g_file_test (a->socket, G_FILE_TEST_EXISTS))
        {
          a->bus = g_dbus_connection_new_for_address_sync (
              address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, NULL);
          if (a->bus != NULL)
            return TRUE;
        }
      g_usleep (50 * 1000);
    }
  return FALSE;
}

/* sotto-agentd inside @host's namespace; its control socket is on the shared filesystem. */
static AgentProc *
start_agent (World *w, const char *host)
{
  g_autoptr (AgentProc) a = g_new0 (AgentProc, 1);
  /* NAT_LAB_AGENTD: another build of the agent, to try a fix in the lab (docs/nat-lab.md). */
  g_autofree char *prog = g_getenv ("NAT_LAB_AGENTD") != NULL
                              ? g_strdup (g_getenv ("NAT_LAB_AGENTD"))
                              : sotto_test_program ("client-agent/sotto-agentd");
  g_autofree char *ns = nat_lab_ns (w->lab, host);
  g_autofree char *pw_path = NULL, *pw = NULL, *state = NULL, *conf = NULL;
  g_autoptr (GError) error = NULL;

  a->name = g_strdup (host);
  a->dir = g_build_filename (w->dir, host, NULL);
  g_mkdir_with_parents (a->dir, 0700);
  a->socket = g_build_filename (a->dir, "run", "agent.sock", NULL);
  a->log_path = g_build_filename (a->dir, "agent.log", NULL);
  a->conf_path = g_build_filename (a->dir, "agent.conf", NULL);
  state = g_build_filename (a->dir, "state", NULL);
  pw_path = g_build_filename (a->dir, "password", NULL);
  pw = g_strdup_printf ("pw-%s-0123456789\n", host);
  conf = g_strdup_printf ("[account]\n"
                          "aor = sips:%s@" NAT_LAB_DOMAIN "\n"
                          "registrar = sips:" NAT_LAB_DOMAIN ":5061\n"
                          "password-file = %s\n"
                          "ca-file = %s\n"
                          "[media]\n"
                          "%s%s%s"
                          "codecs = pcmu;\n"
                          "play = %s\n"
                          "[agent]\n"
                          "state-dir = %s\n"
                          "control-socket = %s\n"
                          "session-bus = false\n"
                          "log-level = debug\n",
                          host, pw_path, w->cafile,
                          /* pub finds its addresses itself, as a laptop's agent does:
                           * /nat/recovery/move changes them mid-call */
                          g_str_equal (host, "pub") ? "" : "local-addresses = ",
                          g_str_equal (host, "pub") ? "" : address_of (host),
                          g_str_equal (host, "pub") ? "" : ";\n", w->speech, state,
                          a->socket);
  if (!write_file (pw_path, pw, 0600) || !write_file (a->conf_path, conf, 0600))
    return NULL;
  {
    const char *argv[] = { prog, "--config", a->conf_path, NULL };
    a->proc = nat_lab_spawn (w->lab, ns, argv, G_SUBPROCESS_FLAGS_NONE, NULL, a->log_path,
                             &error);
    g_assert_no_error (error);
  }
  return g_steal_pointer (&a);
}

static char *
padded_speech (const char *dir)
{
  g_autofree char *speech = agent_make_speech (dir, "speech.wav",
                                               "Sotto finds a path through every kind of NAT.");
  g_autofree char *sox = g_find_program_in_path ("sox");
  char *out;

  if (speech == NULL || sox == NULL)
    return NULL;
  out = g_build_filename (dir, "padded.wav", NULL);
  {
    /* A second of silence before (plain PCMU silence is what the wire check detects) and a
     * minute after: the audio must outlast the recovery cases (T_MOVE), which count packets
     * after the change; once a file ends the agent sends only RTP keepalives. The matrix's
     * calls hang up long before. */
    const char *argv[] = { sox, speech, out, "pad", "1", "60", NULL };
    if (!run_ok ("sox", argv, NULL))
      g_clear_pointer (&out, g_free);
  }
  return out;
}

static World *
need_world (void)
{
  NatLab *lab;
  g_autoptr (GError) error = NULL;

  if (world_failed)
    {
      g_test_fail_printf ("the lab's servers or agents did not start (see the first case)");
      return NULL;
    }
  if (world != NULL)
    return world;
  if ((lab = nat_test_lab ()) == NULL)
    return NULL;
  world_failed = TRUE;
  world = g_new0 (World, 1);
  world->lab = lab;
  world->dir = g_build_filename (lab->dir, "world", NULL);
  world->pcap = g_build_filename (world->dir, "internet.pcap", NULL);
  world->agents = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) agent_proc_free);
  g_mkdir_with_parents (world->dir, 0755);
  if ((world->speech = padded_speech (world->dir)) == NULL)
    {
      g_test_skip ("espeak-ng or sox is missing (tools/install-deps installs them)");
      world_failed = FALSE;
      g_clear_pointer (&world, g_free); /* nothing started yet */
      return NULL;
    }
  if (!start_servers (world) || !start_capture (world))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      AgentProc *a = start_agent (world, hosts[i].host);

      if (a == NULL)
        return NULL;
      g_hash_table_insert (world->agents, (gpointer) hosts[i].host, a);
    }
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      AgentProc *a = g_hash_table_lookup (world->agents, hosts[i].host);
      g_autofree char *log = NULL;

      /* generous: ten agents start at once, under ASan each may rebuild GStreamer's plugin
       * registry first */
      if (connect_bus (a, 30000) && agent_proc_wait_registered (a, 60000))
        continue;
      log = agent_proc_log (a);
      g_test_fail_printf ("sotto-agentd on %s did not register within 60 s:\n%s", a->name, log);
      return NULL;
    }
  world_failed = FALSE;
  return world;
}

/* ---- one call ------------------------------------------------------------------------------ */

static gboolean
invoke_ok (AgentProc *a, const char *method, guint id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = agent_proc_invoke (a, method, g_variant_new ("(u)", id), &error);

  if (error != NULL)
    g_test_message ("%s: %s(%u): %s", a->name, method, id, error->message);
  return error == NULL;
}

static double
call_double (AgentProc *a, guint id, const char *key)
{
  g_autoptr (GVariant) info = agent_proc_call_info (a, id);
  double v = -1;

  g_variant_lookup (info, key, "d", &v);
  return v;
}

static void
dump_logs (AgentProc *a, AgentProc *b)
{
  g_autofree char *la = agent_proc_log (a);
  g_autofree char *lb = agent_proc_log (b);

  /* The logs keep growing across pairs: the tail is this call. */
  g_printerr ("---- %s (last 6000 bytes) ----\n%s\n---- %s (last 6000 bytes) ----\n%s\n----\n",
              a->name, strlen (la) > 6000 ? la + strlen (la) - 6000 : la, b->name,
              strlen (lb) > 6000 ? lb + strlen (lb) - 6000 : lb);
}

/* Alice dials bob, bob answers; fills @row; FALSE with the reason in @why. */
static gboolean
place_call (AgentProc *alice, AgentProc *bob, Row *row, char **why)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  guint a_id = 0, b_id;
  gint64 deadline;
  gboolean ok = FALSE;

  r = agent_proc_invoke (alice, "Call", g_variant_new ("(s)", bob->name), &error);
  if (r == NULL)
    return (*why = g_strdup_printf ("Call: %s", error->message)), FALSE;
  g_variant_get (r, "(u)", &a_id);
  b_id = agent_proc_wait_incoming (bob, T_STATE);
  if (b_id == 0)
    {
      *why = g_strdup ("bob never rang");
      goto hangup;
    }
  if (!invoke_ok (bob, "Answer", b_id))
    {
      *why = g_strdup ("Answer failed");
      goto hangup;
    }
  if (!agent_proc_wait_state (alice, a_id, "active", T_STATE)
      || !agent_proc_wait_state (bob, b_id, "active", T_STATE))
    {
      g_autofree char *ra = agent_proc_call_string (alice, a_id, "reason");
      *why = g_strdup_printf ("not active within %u ms (alice: %s)", T_STATE, ra);
      goto hangup;
    }
  deadline = g_get_monotonic_time () + (gint64) T_AUDIO * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      row->rx_a = agent_proc_call_u64 (alice, a_id, "packets-received");
      row->rx_b = agent_proc_call_u64 (bob, b_id, "packets-received");
      if (row->rx_a > MIN_PACKETS && row->rx_b > MIN_PACKETS)
        break;
      agent_sleep_ms (100);
    }
  row->chosen = agent_proc_call_string (alice, a_id, "path");
  row->setup_ms = call_double (alice, a_id, "setup-ms");
  {
    g_autofree char *la = agent_proc_call_string (alice, a_id, "local");
    g_autofree char *ra = agent_proc_call_string (alice, a_id, "remote");
    g_autofree char *pb = agent_proc_call_string (bob, b_id, "path");

    g_test_message ("%s -> %s: %s path %s -> %s (bob says %s), rx %" G_GUINT64_FORMAT
                    "/%" G_GUINT64_FORMAT ", setup %.0f ms",
                    alice->name, bob->name, row->chosen, la, ra, pb, row->rx_a, row->rx_b,
                    row->setup_ms);
    if (g_strcmp0 (pb, row->chosen) != 0)
      {
        *why = g_strdup_printf ("the two sides disagree on the path: %s vs %s", row->chosen, pb);
        goto hangup;
      }
  }
  if (row->rx_a <= MIN_PACKETS || row->rx_b <= MIN_PACKETS)
    *why = g_strdup_printf ("audio did not flow both ways within %u ms", T_AUDIO);
  else
    ok = TRUE;

hangup:
  if (a_id != 0 && invoke_ok (alice, "Hangup", a_id))
    {
      agent_proc_wait_state (alice, a_id, "ended", 10000);
      if (b_id != 0)
        agent_proc_wait_state (bob, b_id, "ended", 10000);
    }
  return ok;
}

static void
test_pair (gconstpointer data)
{
  const Pair *pair = data;
  World *w = need_world ();
  AgentProc *alice, *bob;
  g_autofree char *why = NULL;
  Row row = { .pair = pair, .setup_ms = -1 };

  if (w == NULL)
    return;
  alice = g_hash_table_lookup (w->agents, pair->a);
  bob = g_hash_table_lookup (w->agents, pair->b);
  g_test_message ("%s calls %s, expecting %s (%s)", pair->a, pair->b, pair->expected,
                  pair->why);
  if (place_call (alice, bob, &row, &why) && g_strcmp0 (row.chosen, pair->expected) != 0)
    why = g_strdup_printf ("path %s, expected %s (%s)", row.chosen, pair->expected, pair->why);
  row.result = why == NULL ? "ok" : "FAIL";
  if (row.chosen == NULL)
    row.chosen = g_strdup ("-");
  g_array_append_val (rows, row);
  if (why != NULL)
    {
      dump_logs (alice, bob);
      g_test_fail_printf ("%s -> %s: %s", pair->a, pair->b, why);
    }
}

/* ---- the capture --------------------------------------------------------------------------- */

static void
test_wire (void)
{
  World *w = need_world ();
  g_autoptr (GError) error = NULL;
  NatWireCount c, fw;
  guint8 silence[172], noise[172];

  if (w == NULL)
    return;
  /* The detector fires on plain PCMU silence and not on random bytes (what SRTP looks like),
   * so a zero below means something. */
  memset (silence, 0xff, sizeof silence);
  silence[0] = 0x80;
  silence[1] = 0x00;
  for (gsize i = 0; i < sizeof noise; i++)
    noise[i] = (guint8) g_random_int ();
  noise[0] = 0x80;
  g_assert_true (nat_wire_looks_plaintext (silence, sizeof silence));
  g_assert_false (nat_wire_looks_plaintext (noise, sizeof noise));

  /* Let tcpdump drain its buffer and exit on SIGINT (5 s at most) before anything harsher. */
  agent_sleep_ms (1000);
  g_subprocess_send_signal (w->capture, SIGINT);
  {
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

    while (g_subprocess_get_identifier (w->capture) != NULL
           && g_get_monotonic_time () < deadline)
      agent_sleep_ms (50);
  }
  nat_lab_stop (w->capture, 1000);
  g_clear_object (&w->capture);
  g_assert_true (nat_wire_scan (w->pcap, NULL, &c, &error));
  g_assert_no_error (error);
  g_test_message ("internet: %u packets: %u DNS, %u STUN, %u DTLS, %u ZRTP, %u ChannelData, "
                  "%u SRTP-shaped (%u plaintext), %u other UDP, %u TCP segments (%u on 3478), "
                  "%u SIP in clear, %u UDP 5060",
                  c.packets, c.dns, c.stun, c.dtls, c.zrtp, c.channel, c.rtp, c.plaintext_rtp,
                  c.other, c.tcp_segments, c.tcp_3478, c.plaintext_sip, c.udp_5060);
  {
    guint connected = 0;

    for (guint i = 0; i < rows->len; i++)
      connected += g_array_index (rows, Row, i).rx_a > MIN_PACKETS;
    /* The detector had media to judge: each call that connected carried more than
     * MIN_PACKETS each way. */
    if (connected == 0)
      g_test_fail_printf ("no call carried audio: the capture proves nothing");
    g_assert_cmpuint (c.rtp, >, MIN_PACKETS * connected);
  }
  g_assert_cmpuint (c.dtls, >, 0);
  g_assert_cmpuint (c.plaintext_rtp, ==, 0);
  g_assert_cmpuint (c.plaintext_sip, ==, 0);
  g_assert_cmpuint (c.other, ==, 0);
  g_assert_cmpuint (c.udp_5060, ==, 0);
  /* The firewall's WAN address sent no UDP but DNS. */
  g_assert_true (nat_wire_scan (w->pcap, "100.64.0.26", &fw, &error));
  g_assert_cmpuint (fw.stun + fw.dtls + fw.channel + fw.rtp + fw.other, ==, 0);
}

/* ---- recovery ------------------------------------------------------------------------------ */

/* Both sides notice silence within 2-4 s (ca-session-restart.c), the re-INVITE crosses the
 * server, and the new checks take well under a second in this lab; consent (RFC 7675) would
 * end the call after 10 s without the restart. */
#define T_RECOVER 15000 /* ms: from the rebind to MIN_PACKETS more audio each way */
/* ms: the move is seen at once (netlink), registering again and gathering take about a
 * second each in the lab */
#define T_MOVE 20000

/* A call kept up across a change of its path. */
typedef struct
{
  AgentProc *alice, *bob;
  guint a_id, b_id;
  guint64 rx_a, rx_b; /* packets received when the change was made */
  gint64 changed_us;
} LiveCall;

/* Alice calls bob, bob answers, audio flows both ways. */
static void
live_call_start (LiveCall *c, World *w, const char *a, const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) r = NULL;
  gint64 deadline;

  c->alice = g_hash_table_lookup (w->agents, a);
  c->bob = g_hash_table_lookup (w->agents, b);
  r = agent_proc_invoke (c->alice, "Call", g_variant_new ("(s)", c->bob->name), &error);
  g_assert_no_error (error);
  g_variant_get (r, "(u)", &c->a_id);
  c->b_id = agent_proc_wait_incoming (c->bob, T_STATE);
  g_assert_cmpuint (c->b_id, !=, 0);
  g_assert_true (invoke_ok (c->bob, "Answer", c->b_id));
  g_assert_true (agent_proc_wait_state (c->alice, c->a_id, "active", T_STATE));
  g_assert_true (agent_proc_wait_state (c->bob, c->b_id, "active", T_STATE));
  deadline = g_get_monotonic_time () + (gint64) T_AUDIO * 1000;
  while (g_get_monotonic_time () < deadline
         && (agent_proc_call_u64 (c->alice, c->a_id, "packets-received") <= MIN_PACKETS
             || agent_proc_call_u64 (c->bob, c->b_id, "packets-received") <= MIN_PACKETS))
    agent_sleep_ms (100);
}

/* Call right after the change: what arrives from now on counts. */
static void
live_call_changed (LiveCall *c)
{
  c->changed_us = g_get_monotonic_time ();
  c->rx_a = agent_proc_call_u64 (c->alice, c->a_id, "packets-received");
  c->rx_b = agent_proc_call_u64 (c->bob, c->b_id, "packets-received");
}

/* Waits up to @bound_ms for the call to be back: @on_new_path (alice's "path", "local" and
 * "remote") says the path is the new one, and MIN_PACKETS more arrived each way on it. Returns
 * the ms it took, or -1; *@ended when the call ended instead. */
static gint64
live_call_wait_back (LiveCall *c, guint bound_ms,
                     gboolean (*on_new_path) (const char *path, const char *local,
                                              const char *remote, gpointer data),
                     gpointer data, gboolean *ended)
{
  gint64 deadline = c->changed_us + (gint64) bound_ms * 1000;

  *ended = FALSE;
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *state = agent_proc_call_string (c->alice, c->a_id, "state");
      g_autofree char *path = agent_proc_call_string (c->alice, c->a_id, "path");
      g_autofree char *local = agent_proc_call_string (c->alice, c->a_id, "local");
      g_autofree char *remote = agent_proc_call_string (c->alice, c->a_id, "remote");

      if (g_strcmp0 (state, "ended") == 0)
        {
          *ended = TRUE;
          break;
        }
      /* counted only on the new path: packets still in flight on the old one, or a relay
       * meanwhile, do not make a recovery */
      if (local != NULL && remote != NULL && on_new_path (path, local, remote, data)
          && agent_proc_call_u64 (c->alice, c->a_id, "packets-received") > c->rx_a + MIN_PACKETS
          && agent_proc_call_u64 (c->bob, c->b_id, "packets-received") > c->rx_b + MIN_PACKETS)
        return (g_get_monotonic_time () - c->changed_us) / 1000;
      agent_sleep_ms (100);
    }
  dump_logs (c->alice, c->bob);
  return -1;
}

static guint32
live_call_restarts (LiveCall *c)
{
  g_autoptr (GVariant) info = agent_proc_call_info (c->alice, c->a_id);
  guint32 restarts = 0;

  g_variant_lookup (info, "ice-restarts", "u", &restarts);
  return restarts;
}

static void
live_call_end (LiveCall *c)
{
  g_assert_true (invoke_ok (c->alice, "Hangup", c->a_id));
  agent_proc_wait_state (c->alice, c->a_id, "ended", 10000);
  agent_proc_wait_state (c->bob, c->b_id, "ended", 10000);
}

static gboolean
remote_moved (const char *path, const char *local, const char *remote, gpointer data)
{
  return g_strcmp0 (path, "srflx") == 0 && g_strcmp0 (remote, data) != 0;
}

static void
test_recovery (void)
{
  World *w = need_world ();
  LiveCall c = { 0 };
  g_autofree char *router = NULL, *conntrack = NULL, *err = NULL;
  g_autofree char *path = NULL, *before = NULL, *after = NULL;
  gboolean ended;
  gint64 ms;

  if (w == NULL)
    return;
  conntrack = g_find_program_in_path ("conntrack");
  if (conntrack == NULL)
    {
      g_test_skip ("conntrack is not installed (see tools/install-deps): the test rebinds the "
                   "NAT by deleting the router's UDP conntrack entries");
      return;
    }
  /* pub calls sym: a peer-reflexive path through the symmetric router, whose mappings get a
   * random port each time one is made. */
  live_call_start (&c, w, "pub", "sym");
  path = agent_proc_call_string (c.alice, c.a_id, "path");
  g_assert_cmpstr (path, ==, "srflx");
  before = agent_proc_call_string (c.alice, c.a_id, "remote");

  /* The rebind: the symmetric router forgets its UDP mappings (as after a reboot, or an idle
   * timeout); the next packet from the host leaves from a new port. TCP stays, so the TLS
   * connections to the server carry on (the agents' signalling is not what is tested). */
  router = g_strdup_printf ("%sr-sym", w->lab->prefix);
  {
    const char *argv[] = { "ip", "netns", "exec", router, conntrack, "-D", "-p", "udp", NULL };

    /* conntrack exits 1 when it deleted nothing; its stderr counts what it deleted */
    nat_lab_check_output (argv, NULL, 10, NULL, &err);
    g_test_message ("rebind on %s: %s", router, err != NULL ? g_strstrip (err) : "");
  }
  live_call_changed (&c);
  ms = live_call_wait_back (&c, T_RECOVER, remote_moved, before, &ended);
  after = agent_proc_call_string (c.alice, c.a_id, "remote");
  g_test_message ("pub -> sym: remote %s before, %s after; %u ICE restarts; recovered after "
                  "%" G_GINT64_FORMAT " ms (bound %u ms)",
                  before, after, live_call_restarts (&c), ms, T_RECOVER);
  g_assert_false (ended);
  g_assert_cmpint (ms, >=, 0);
  /* the mapping did change (else this proved nothing), and ICE found it by a restart */
  g_assert_cmpstr (after, !=, before);
  g_assert_cmpuint (live_call_restarts (&c), >=, 1);
  live_call_end (&c);
}

/* The caller's host moves to another address mid-call, as a laptop does when it changes
 * networks: the agent sees the change (GNetworkMonitor), registers again on a new connection,
 * gathers new candidates and restarts ICE; the call must come back on the new address. */
#define PUB_MOVED "100.64.0.12"

static gboolean
pub_address (NatLab *lab, const char *del, const char *add)
{
  g_autofree char *ns = nat_lab_ns (lab, "pub");
  g_autofree char *d = g_strdup_printf ("%s/24", del);
  g_autofree char *a = g_strdup_printf ("%s/24", add);
  const char *del_argv[] = { "ip", "-n", ns, "addr", "del", d, "dev", "eth0", NULL };
  const char *add_argv[] = { "ip", "-n", ns, "addr", "add", a, "dev", "eth0", NULL };

  return run_ok ("ip addr del", del_argv, NULL) && run_ok ("ip addr add", add_argv, NULL);
}

static gboolean
local_moved (const char *path, const char *local, const char *remote, gpointer data)
{
  return g_str_has_prefix (local, PUB_MOVED ":");
}

static void
test_move (void)
{
  World *w = need_world ();
  LiveCall c = { 0 };
  g_autofree char *before = NULL, *after = NULL;
  gboolean ended;
  gint64 ms;

  if (w == NULL)
    return;
  live_call_start (&c, w, "pub", "full");
  before = agent_proc_call_string (c.alice, c.a_id, "local");
  g_assert_true (g_str_has_prefix (before, "100.64.0.10:"));

  g_assert_true (pub_address (w->lab, "100.64.0.10", PUB_MOVED));
  live_call_changed (&c);
  ms = live_call_wait_back (&c, T_MOVE, local_moved, NULL, &ended);
  after = agent_proc_call_string (c.alice, c.a_id, "local");
  g_test_message ("pub -> full, pub moved: local %s before, %s after; %u ICE restarts; "
                  "recovered after %" G_GINT64_FORMAT " ms (bound %u ms)",
                  before, after, live_call_restarts (&c), ms, T_MOVE);
  /* back where the other cases expect pub, whatever happened */
  pub_address (w->lab, PUB_MOVED, "100.64.0.10");
  g_assert_false (ended);
  g_assert_cmpint (ms, >=, 0);
  g_assert_cmpuint (live_call_restarts (&c), >=, 1);
  live_call_end (&c);
}

void
nat_matrix_add_tests (void)
{
  rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (rows, row_clear);
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/nat/matrix/%s-%s", pairs[i].a, pairs[i].b);

      g_test_add_data_func (path, &pairs[i], test_pair);
    }
  g_test_add_func ("/nat/matrix/wire", test_wire);
  g_test_add_func ("/nat/recovery/rebind", test_recovery);
  g_test_add_func ("/nat/recovery/move", test_move);
}

void
nat_matrix_finish (void)
{
  if (rows != NULL && rows->len > 0)
    {
      g_print ("# %-16s %-8s %-8s %9s %s\n", "pair", "expected", "chosen", "setup ms", "result");
      for (guint i = 0; i < rows->len; i++)
        {
          Row *r = &g_array_index (rows, Row, i);
          g_autofree char *pair = g_strdup_printf ("%s-%s", r->pair->a, r->pair->b);

          g_print ("# %-16s %-8s %-8s %9.0f %s\n", pair, r->pair->expected, r->chosen,
                   r->setup_ms, r->result);
        }
    }
  g_clear_pointer (&rows, g_array_unref);
  if (world == NULL)
    return;
  if (world->agents != NULL)
    {
      GHashTableIter it;
      gpointer value;

      g_hash_table_iter_init (&it, world->agents);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          AgentProc *a = value;

          g_clear_object (&a->bus);
          if (nat_lab_stop (a->proc, 10000) != 0)
            g_printerr ("sotto-agentd on %s did not exit cleanly on SIGTERM\n", a->name);
        }
      g_hash_table_destroy (world->agents);
    }
  nat_lab_stop (world->capture, 5000);
  nat_lab_stop (world->signald, 10000);
  nat_lab_stop (world->coturn, 5000);
  g_clear_object (&world->capture);
  g_clear_object (&world->signald);
  g_clear_object (&world->coturn);
  g_free (world->dir);
  g_free (world->conf);
  g_free (world->cafile);
  g_free (world->pcap);
  g_free (world->speech);
  g_clear_pointer (&world, g_free);
}

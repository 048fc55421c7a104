/* Tests for the client agent's ICE: two real libnice agents in one process on 127.0.0.1,
 * their credentials and candidates carried through the SDP candidate printer and parser;
 * relay/relay through a real coturn (TURN over UDP and over TCP); force-relay hiding every
 * other address; bad remote descriptions; checks that fail; consent lost when the peer goes
 * away, and an ICE restart that finds a path again; ca_ice_close() from inside callbacks. */
#include "config.h"

#include <string.h>

#include "client-agent/ca-ice.h"
#include "tests/tgp-coturn.h"

#define CONNECT_MS   10000
#define N_DATAGRAMS  50
/* libnice 0.1.21 declares consent lost 10 s after the last answer
 * (NICE_AGENT_TIMER_CONSENT_TIMEOUT, not configurable) and checks every 4-6 s. */
#define CONSENT_MS   30000
/* Lets nice_agent_close_async() release TURN allocations before the context goes. */
#define DRAIN_MS     300

typedef struct _Fixture Fixture;

typedef struct
{
  Fixture *f;
  const char *name;
  CaIce *ice;
  guint n_states;
  CaIceState states[16];
  gboolean seen[N_DATAGRAMS];
  guint received;
  guint bad;
  gboolean close_on_connected; /* close (and drop) the CaIce inside the CONNECTED callback */
  gboolean close_on_recv;      /* ... inside the first receive callback */
} Peer;

struct _Fixture
{
  GMainContext *context;
  GSource *tick;
  Peer a; /* controlling */
  Peer b; /* controlled */
  TgpCoturn *coturn;
  char *turn_user;
  char *turn_pass;
};

static const char *const loopback[] = { "127.0.0.1", NULL };

/* ---- loop ---- */

static gboolean
on_tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* One blocking iteration (the tick wakes it every 20 ms); FALSE once @deadline has passed. */
static gboolean
iterate (Fixture *f, gint64 deadline)
{
  if (g_get_monotonic_time () >= deadline)
    return FALSE;
  g_main_context_iteration (f->context, TRUE);
  return TRUE;
}

#define WAIT_FOR(f, cond, ms)                                                                  \
  ({                                                                                           \
    gint64 deadline_ = g_get_monotonic_time () + (gint64) (ms) * 1000;                         \
    while (!(cond) && iterate ((f), deadline_))                                                \
      ;                                                                                        \
    (cond);                                                                                    \
  })

static void
drain (Fixture *f, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (iterate (f, deadline))
    ;
}

/* ---- peers ---- */

static void
fill_datagram (guint8 *buf, gsize len, guint seq)
{
  buf[0] = (guint8) (seq >> 8);
  buf[1] = (guint8) seq;
  for (gsize j = 2; j < len; j++)
    buf[j] = (guint8) (seq * 31 + j);
}

static gsize
datagram_len (guint seq)
{
  return 40 + (seq * 97) % 1100;
}

static void
on_recv (CaIce *ice, const guint8 *data, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  guint8 expect[1200];
  guint seq;

  g_assert_true (ice == p->ice);
  if (len < 2)
    {
      p->bad++;
      return;
    }
  seq = (guint) data[0] << 8 | data[1];
  if (seq >= N_DATAGRAMS || len != datagram_len (seq))
    {
      p->bad++;
      return;
    }
  fill_datagram (expect, len, seq);
  if (memcmp (expect, data, len) != 0 || p->seen[seq])
    p->bad++;
  else
    {
      p->seen[seq] = TRUE;
      p->received++;
    }
  if (p->close_on_recv)
    {
      ca_ice_close (p->ice);
      g_clear_pointer (&p->ice, ca_ice_unref);
    }
}

static void
on_state (CaIce *ice, CaIceState state, gpointer user_data)
{
  Peer *p = user_data;

  g_assert_true (ice == p->ice);
  g_test_message ("%s: %s", p->name, ca_ice_state_to_string (state));
  g_assert_cmpuint (p->n_states, <, G_N_ELEMENTS (p->states));
  p->states[p->n_states++] = state;
  if (state == CA_ICE_STATE_CONNECTED && p->close_on_connected)
    {
      guint8 buf[64];

      fill_datagram (buf, datagram_len (0), 0);
      g_assert_true (ca_ice_send (ice, buf, datagram_len (0)));
      ca_ice_close (p->ice);
      g_assert_cmpint (ca_ice_get_state (p->ice), ==, CA_ICE_STATE_CLOSED);
      g_clear_pointer (&p->ice, ca_ice_unref);
    }
}

static CaIceState
state_of (Peer *p)
{
  return p->ice != NULL ? ca_ice_get_state (p->ice) : CA_ICE_STATE_CLOSED;
}

static void
peer_new (Fixture *f, Peer *p, gboolean force_relay, gboolean ice_tcp, const CaIceTurnServer *turn,
          guint n_turn)
{
  g_autoptr (GError) error = NULL;
  CaIceConfig config = {
    .context = f->context,
    .controlling = p == &f->a,
    .force_relay = force_relay,
    .ice_tcp = ice_tcp,
    .turn = turn,
    .n_turn = n_turn,
    .local_addresses = loopback,
    .recv = on_recv,
    .state_changed = on_state,
    .user_data = p,
  };

  p->f = f;
  p->ice = ca_ice_new (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p->ice);
  g_assert_cmpint (ca_ice_get_state (p->ice), ==, CA_ICE_STATE_NEW);
  g_assert_cmpuint (strlen (ca_ice_get_local_ufrag (p->ice)), >=, 4);
  g_assert_cmpuint (strlen (ca_ice_get_local_pwd (p->ice)), >=, 22);
}

static void
gather (Fixture *f, Peer *p)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_ice_gather (p->ice, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f, state_of (p) != CA_ICE_STATE_GATHERING, CONNECT_MS));
  g_assert_cmpint (state_of (p), ==, CA_ICE_STATE_GATHERED);
}

/* Our candidates as the peer's SDP parser would read them. */
static GArray *
through_sdp (Peer *p)
{
  g_autoptr (GArray) local = ca_ice_get_local_candidates (p->ice);
  GArray *parsed = g_array_new (FALSE, TRUE, sizeof (CaSdpCandidate));

  for (guint i = 0; i < local->len; i++)
    {
      const CaSdpCandidate *c = &g_array_index (local, CaSdpCandidate, i);
      g_autoptr (GError) error = NULL;
      g_autofree char *value = ca_sdp_candidate_to_string (c);
      g_autofree char *line = g_strdup_printf ("a=candidate:%s\r\n", value);
      CaSdpCandidate back;

      g_test_message ("%s: %s", p->name, value);
      g_assert_true (ca_sdp_candidate_parse (line, &back, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (back.foundation, ==, c->foundation);
      g_assert_cmpuint (back.component, ==, 1);
      g_assert_cmpuint (c->component, ==, 1);
      g_assert_cmpint (back.transport, ==, c->transport);
      g_assert_cmpint (back.tcptype, ==, c->tcptype);
      g_assert_cmpuint (back.priority, ==, c->priority);
      g_assert_cmpstr (back.address, ==, c->address);
      g_assert_cmpuint (back.port, ==, c->port);
      g_assert_cmpint (back.type, ==, c->type);
      g_assert_cmpint (back.has_related, ==, c->has_related);
      if (c->has_related)
        {
          g_assert_cmpstr (back.raddr, ==, c->raddr);
          g_assert_cmpuint (back.rport, ==, c->rport);
        }
      g_array_append_val (parsed, back);
    }
  return parsed;
}

static void
give_remote (Peer *from, Peer *to)
{
  g_autoptr (GArray) candidates = through_sdp (from);
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (candidates->len, >, 0);
  g_assert_true (ca_ice_set_remote (to->ice, ca_ice_get_local_ufrag (from->ice),
                                    ca_ice_get_local_pwd (from->ice),
                                    (const CaSdpCandidate *) candidates->data, candidates->len,
                                    &error));
  g_assert_no_error (error);
}

static void
connect_both (Fixture *f)
{
  gint64 start;

  gather (f, &f->a);
  gather (f, &f->b);
  start = g_get_monotonic_time ();
  give_remote (&f->a, &f->b);
  give_remote (&f->b, &f->a);
  g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_CHECKING);
  g_assert_true (WAIT_FOR (f,
                           state_of (&f->a) == CA_ICE_STATE_CONNECTED
                               && state_of (&f->b) == CA_ICE_STATE_CONNECTED,
                           CONNECT_MS));
  g_test_message ("both connected after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start) / 1000);
  for (Peer *p = &f->a; p != NULL; p = p == &f->a ? &f->b : NULL)
    {
      const CaIceState expect[] = { CA_ICE_STATE_GATHERING, CA_ICE_STATE_GATHERED,
                                    CA_ICE_STATE_CHECKING, CA_ICE_STATE_CONNECTED };

      g_assert_cmpmem (p->states, p->n_states * sizeof (CaIceState), expect, sizeof expect);
      g_assert_null (ca_ice_get_error (p->ice));
    }
}

static void
exchange_datagrams (Fixture *f)
{
  for (guint seq = 0; seq < N_DATAGRAMS; seq++)
    {
      guint8 buf[1200];
      gsize len = datagram_len (seq);

      fill_datagram (buf, len, seq);
      g_assert_true (ca_ice_send (f->a.ice, buf, len));
      g_assert_true (ca_ice_send (f->b.ice, buf, len));
      if (seq % 10 == 9)
        g_main_context_iteration (f->context, FALSE);
    }
  g_assert_true (WAIT_FOR (f, f->a.received == N_DATAGRAMS && f->b.received == N_DATAGRAMS,
                           CONNECT_MS));
  g_assert_cmpuint (f->a.bad, ==, 0);
  g_assert_cmpuint (f->b.bad, ==, 0);
}

static void
expect_pair (Peer *p, const char *kind)
{
  CaIcePair pair;

  g_assert_true (ca_ice_get_selected_pair (p->ice, &pair));
  g_test_message ("%s: pair %s %s:%u -> %s %s:%u (%s)", p->name,
                  ca_sdp_candidate_type_to_string (pair.local_type), pair.local_address,
                  pair.local_port, ca_sdp_candidate_type_to_string (pair.remote_type),
                  pair.remote_address, pair.remote_port, ca_ice_pair_path_kind (&pair));
  g_assert_cmpstr (ca_ice_pair_path_kind (&pair), ==, kind);
  g_assert_cmpstr (pair.local_address, ==, "127.0.0.1");
  g_assert_cmpstr (pair.remote_address, ==, "127.0.0.1");
  g_assert_cmpint (pair.transport, ==, CA_SDP_TRANSPORT_UDP);
  if (g_str_equal (kind, "host"))
    {
      g_assert_cmpint (pair.local_type, ==, CA_SDP_CANDIDATE_HOST);
      g_assert_cmpint (pair.remote_type, ==, CA_SDP_CANDIDATE_HOST);
    }
  else
    {
      g_assert_cmpint (pair.local_type, ==, CA_SDP_CANDIDATE_RELAY);
      g_assert_cmpint (pair.remote_type, ==, CA_SDP_CANDIDATE_RELAY);
    }
}

/* ---- fixture ---- */

static void
setup (Fixture *f, gconstpointer data)
{
  f->context = g_main_context_new ();
  f->tick = g_timeout_source_new (20);
  g_source_set_callback (f->tick, on_tick, NULL, NULL);
  g_source_attach (f->tick, f->context);
  f->a.name = "controlling";
  f->b.name = "controlled";
}

static void
teardown (Fixture *f, gconstpointer data)
{
  gboolean turn = f->coturn != NULL;

  for (Peer *p = &f->a; p != NULL; p = p == &f->a ? &f->b : NULL)
    if (p->ice != NULL)
      {
        ca_ice_close (p->ice);
        g_clear_pointer (&p->ice, ca_ice_unref);
      }
  /* Agents closed from inside their callbacks, and those with TURN allocations, go through
   * nice_agent_close_async(): let it finish so nothing is left for LeakSanitizer. */
  drain (f, turn ? DRAIN_MS : 50);
  g_clear_pointer (&f->coturn, tgp_coturn_free);
  g_free (f->turn_user);
  g_free (f->turn_pass);
  g_source_destroy (f->tick);
  g_source_unref (f->tick);
  g_main_context_unref (f->context);
}

static gboolean
start_coturn (Fixture *f)
{
  if (tgp_turnserver () == NULL)
    {
      g_test_skip ("turnserver (coturn) is not installed");
      return FALSE;
    }
  f->coturn = tgp_coturn_new ();
  /* Both relayed addresses are on 127.0.0.1: coturn refuses loopback peers (403 on
   * CreatePermission) unless told otherwise. Tests only. */
  g_string_append (f->coturn->extra, "allow-loopback-peers\n");
  tgp_coturn_start (f->coturn);
  tgp_credential (TGP_SECRET, "ice-test", g_get_real_time () / G_USEC_PER_SEC + 3600,
                  &f->turn_user, &f->turn_pass);
  return TRUE;
}

static CaIceTurnServer
turn_server (Fixture *f, CaIceTurnTransport transport)
{
  CaIceTurnServer t = { .address = (char *) "127.0.0.1", .port = f->coturn->port,
                        .transport = transport, .username = f->turn_user,
                        .password = f->turn_pass };
  return t;
}

/* ---- tests ---- */

static void
test_host (Fixture *f, gconstpointer data)
{
  gboolean ice_tcp = GPOINTER_TO_INT (data);

  peer_new (f, &f->a, FALSE, ice_tcp, NULL, 0);
  peer_new (f, &f->b, FALSE, ice_tcp, NULL, 0);
  connect_both (f);
  if (ice_tcp)
    {
      g_autoptr (GArray) local = ca_ice_get_local_candidates (f->a.ice);
      gboolean active = FALSE, passive = FALSE;

      for (guint i = 0; i < local->len; i++)
        {
          const CaSdpCandidate *c = &g_array_index (local, CaSdpCandidate, i);
          active |= c->transport == CA_SDP_TRANSPORT_TCP && c->tcptype == CA_SDP_TCPTYPE_ACTIVE;
          passive |= c->transport == CA_SDP_TRANSPORT_TCP && c->tcptype == CA_SDP_TCPTYPE_PASSIVE;
        }
      g_assert_true (active && passive);
    }
  expect_pair (&f->a, "host");
  expect_pair (&f->b, "host");
  exchange_datagrams (f);
}

static void
test_relay (Fixture *f, gconstpointer data)
{
  CaIceTurnTransport transport = GPOINTER_TO_INT (data);
  CaIceTurnServer turn;

  if (!start_coturn (f))
    return;
  turn = turn_server (f, transport);
  peer_new (f, &f->a, TRUE, FALSE, &turn, 1);
  peer_new (f, &f->b, TRUE, FALSE, &turn, 1);
  connect_both (f);
  expect_pair (&f->a, "relay");
  expect_pair (&f->b, "relay");
  exchange_datagrams (f);
}

static gboolean
has_type (GArray *candidates, CaSdpCandidateType type)
{
  for (guint i = 0; i < candidates->len; i++)
    if (g_array_index (candidates, CaSdpCandidate, i).type == type)
      return TRUE;
  return FALSE;
}

static void
test_force_relay_hides_host (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) forced = NULL;
  g_autoptr (GArray) open = NULL;
  CaIceTurnServer turn;

  if (!start_coturn (f))
    return;
  turn = turn_server (f, CA_ICE_TURN_UDP);

  /* The same configuration without force_relay shows host and relay candidates, so the
   * check below can fail. */
  peer_new (f, &f->b, FALSE, TRUE, &turn, 1);
  gather (f, &f->b);
  open = ca_ice_get_local_candidates (f->b.ice);
  g_assert_true (has_type (open, CA_SDP_CANDIDATE_HOST));
  g_assert_true (has_type (open, CA_SDP_CANDIDATE_RELAY));

  /* ICE-TCP on as well: its host candidates must not leak either. */
  peer_new (f, &f->a, TRUE, TRUE, &turn, 1);
  gather (f, &f->a);
  forced = ca_ice_get_local_candidates (f->a.ice);
  g_assert_cmpuint (forced->len, >, 0);
  for (guint i = 0; i < forced->len; i++)
    {
      const CaSdpCandidate *c = &g_array_index (forced, CaSdpCandidate, i);
      g_autofree char *line = ca_sdp_candidate_to_string (c);

      g_test_message ("forced: %s", line);
      g_assert_cmpint (c->type, ==, CA_SDP_CANDIDATE_RELAY);
      g_assert_cmpint (c->transport, ==, CA_SDP_TRANSPORT_UDP);
      /* The related address of a relay is the host socket it was allocated from. */
      g_assert_true (c->has_related);
      g_assert_cmpstr (c->raddr, ==, "0.0.0.0");
      g_assert_cmpuint (c->rport, ==, 0);
      g_assert_true (g_str_has_suffix (line, " typ relay raddr 0.0.0.0 rport 0"));
    }
}

static void
test_force_relay_without_turn (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  peer_new (f, &f->a, TRUE, FALSE, NULL, 0);
  g_assert_true (ca_ice_gather (f->a.ice, &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f, state_of (&f->a) == CA_ICE_STATE_FAILED, CONNECT_MS));
  g_assert_error (ca_ice_get_error (f->a.ice), CA_ICE_ERROR, CA_ICE_ERROR_SETUP);
  g_assert_cmpuint (f->a.n_states, ==, 2);
  g_assert_cmpint (f->a.states[1], ==, CA_ICE_STATE_FAILED);
}

static void
expect_remote_error (Peer *p, const char *ufrag, const char *pwd, const CaSdpCandidate *c,
                     guint n)
{
  g_autoptr (GError) error = NULL;
  CaIceState before = state_of (p);

  g_assert_false (ca_ice_set_remote (p->ice, ufrag, pwd, c, n, &error));
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE);
  g_test_message ("refused: %s", error->message);
  g_assert_cmpint (state_of (p), ==, before);
}

static CaSdpCandidate
candidate (const char *text)
{
  g_autoptr (GError) error = NULL;
  CaSdpCandidate c;

  g_assert_true (ca_sdp_candidate_parse (text, &c, &error));
  g_assert_no_error (error);
  return c;
}

static void
test_remote_bad (Fixture *f, gconstpointer data)
{
  const char *ufrag = "abcd";
  const char *pwd = "abcdefghijklmnopqrstuv";
  CaSdpCandidate good = candidate ("1 1 udp 2130706431 127.0.0.1 9 typ host");
  CaSdpCandidate unusable[] = {
    candidate ("1 2 udp 2130706431 127.0.0.1 5000 typ host"),           /* RTCP component */
    candidate ("2 1 tcp 2105524479 127.0.0.1 5000 typ host tcptype passive"), /* ICE-TCP off */
    candidate ("3 1 udp 2130706431 127.0.0.1 5000 typ host"), /* port 0 below */
  };
  const char *const bad_ufrags[] = { "", "abc", "ab:cd", "abcd efgh" };
  const char *const bad_pwds[] = { "", "short", "abcdefghijklmnopqrstu", "abcdefghijklmnopqrst:v" };
  g_autoptr (GError) error = NULL;

  unusable[2].port = 0; /* our parser refuses it; a caller might build one by hand */
  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  gather (f, &f->a);

  expect_remote_error (&f->a, ufrag, pwd, NULL, 0);
  expect_remote_error (&f->a, ufrag, pwd, unusable, G_N_ELEMENTS (unusable));
  for (gsize i = 0; i < G_N_ELEMENTS (bad_ufrags); i++)
    expect_remote_error (&f->a, bad_ufrags[i], pwd, &good, 1);
  expect_remote_error (&f->a, NULL, pwd, &good, 1);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_pwds); i++)
    expect_remote_error (&f->a, ufrag, bad_pwds[i], &good, 1);
  expect_remote_error (&f->a, ufrag, NULL, &good, 1);
  g_assert_cmpuint (f->a.n_states, ==, 2); /* gathering, gathered: nothing since */

  /* One usable among the unusable is enough; a second description is not taken. */
  {
    CaSdpCandidate mixed[G_N_ELEMENTS (unusable) + 1];

    memcpy (mixed, unusable, sizeof unusable);
    mixed[G_N_ELEMENTS (unusable)] = good;
    g_assert_true (ca_ice_set_remote (f->a.ice, ufrag, pwd, mixed, G_N_ELEMENTS (mixed), &error));
    g_assert_no_error (error);
    g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_CHECKING);
    expect_remote_error (&f->a, ufrag, pwd, &good, 1);
  }
}

/* Checks toward an address where nobody answers end in FAILED, not CONNECTED. */
static void
test_checks_fail (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("1 1 udp 2130706431 127.0.0.1 %u typ host",
                                           tgp_free_port ());
  CaSdpCandidate nobody = candidate (text);
  gint64 start;

  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  gather (f, &f->a);
  start = g_get_monotonic_time ();
  g_assert_true (ca_ice_set_remote (f->a.ice, "abcd", "abcdefghijklmnopqrstuv", &nobody, 1,
                                    &error));
  g_assert_no_error (error);
  g_assert_true (WAIT_FOR (f, state_of (&f->a) == CA_ICE_STATE_FAILED, CONSENT_MS));
  g_test_message ("checks failed after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start) / 1000);
  g_assert_error (ca_ice_get_error (f->a.ice), CA_ICE_ERROR, CA_ICE_ERROR_FAILED);
  g_assert_false (ca_ice_send (f->a.ice, (const guint8 *) "x", 1));
}

static void
reset_received (Peer *p)
{
  memset (p->seen, 0, sizeof p->seen);
  p->received = 0;
  p->bad = 0;
}

/* The peer goes away: consent is lost (RFC 7675) and nothing more is sent, but the call is not
 * over: an ICE restart toward a new peer address (here a new agent, as after a NAT rebind)
 * finds a path again. */
static void
test_consent_lost_then_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *old_ufrag = NULL;
  const GError *reason;
  guint b_states, n;
  gint64 start;
  CaIcePair pair;

  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  peer_new (f, &f->b, FALSE, FALSE, NULL, 0);
  connect_both (f);

  /* Only CONNECTED and DISCONNECTED restart. */
  g_assert_true (ca_ice_restart (f->a.ice, &error));
  g_assert_no_error (error);

  b_states = f->b.n_states;
  start = g_get_monotonic_time ();
  ca_ice_close (f->b.ice);
  g_assert_cmpint (ca_ice_get_state (f->b.ice), ==, CA_ICE_STATE_CLOSED);
  g_assert_false (ca_ice_send (f->b.ice, (const guint8 *) "x", 1));
  g_assert_false (ca_ice_get_selected_pair (f->b.ice, &pair));
  g_assert_false (ca_ice_restart (f->b.ice, &error));
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpuint (f->b.n_states, ==, b_states); /* no callback after close */
  g_clear_pointer (&f->b.ice, ca_ice_unref);

  /* a restarted before b went, with no new description from b: its old pair carried on, and
   * its consent now runs out. */
  g_assert_true (WAIT_FOR (f, state_of (&f->a) == CA_ICE_STATE_DISCONNECTED, CONSENT_MS));
  g_test_message ("consent lost after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start) / 1000);
  reason = ca_ice_get_error (f->a.ice);
  g_assert_error (reason, CA_ICE_ERROR, CA_ICE_ERROR_FAILED);
  g_assert_nonnull (strstr (reason->message, "consent"));
  g_assert_false (ca_ice_send (f->a.ice, (const guint8 *) "x", 1));
  g_assert_false (ca_ice_get_selected_pair (f->a.ice, &pair));

  /* A new peer, and a restart from DISCONNECTED. */
  memset (&f->b, 0, sizeof f->b);
  f->b.name = "b";
  peer_new (f, &f->b, FALSE, FALSE, NULL, 0);
  gather (f, &f->b);
  old_ufrag = g_strdup (ca_ice_get_local_ufrag (f->a.ice));
  g_assert_true (ca_ice_restart (f->a.ice, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ca_ice_get_local_ufrag (f->a.ice), !=, old_ufrag);
  g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_DISCONNECTED);
  n = f->a.n_states;
  give_remote (&f->a, &f->b);
  give_remote (&f->b, &f->a);
  g_assert_true (WAIT_FOR (f,
                           state_of (&f->a) == CA_ICE_STATE_CONNECTED
                               && state_of (&f->b) == CA_ICE_STATE_CONNECTED,
                           CONNECT_MS));
  g_assert_cmpuint (f->a.n_states, ==, n + 2);
  g_assert_cmpint (f->a.states[n], ==, CA_ICE_STATE_CHECKING);
  g_assert_cmpint (f->a.states[n + 1], ==, CA_ICE_STATE_CONNECTED);
  reset_received (&f->a);
  exchange_datagrams (f);
}

/* A restart while connected: the old pair carries data until the new checks pick a pair, and
 * the state never leaves CONNECTED. A second description without a restart is refused. */
static void
test_restart_connected (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a_ufrag = NULL, *b_ufrag = NULL, *a_pwd = NULL;
  guint na, nb;

  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  peer_new (f, &f->b, FALSE, FALSE, NULL, 0);
  g_assert_false (ca_ice_restart (f->a.ice, &error)); /* NEW */
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED);
  g_clear_error (&error);
  connect_both (f);
  exchange_datagrams (f);
  na = f->a.n_states;
  nb = f->b.n_states;

  a_ufrag = g_strdup (ca_ice_get_local_ufrag (f->a.ice));
  a_pwd = g_strdup (ca_ice_get_local_pwd (f->a.ice));
  b_ufrag = g_strdup (ca_ice_get_local_ufrag (f->b.ice));
  g_assert_true (ca_ice_restart (f->a.ice, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ca_ice_get_local_ufrag (f->a.ice), !=, a_ufrag);
  g_assert_cmpstr (ca_ice_get_local_pwd (f->a.ice), !=, a_pwd);
  g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_CONNECTED);

  /* b has not seen the new offer yet: data still flows on the old pair. */
  reset_received (&f->a);
  reset_received (&f->b);
  exchange_datagrams (f);

  /* b answers the restart; without its own restart the description is refused. */
  {
    g_autoptr (GArray) cands = ca_ice_get_local_candidates (f->a.ice);

    g_assert_false (ca_ice_set_remote (f->b.ice, ca_ice_get_local_ufrag (f->a.ice),
                                       ca_ice_get_local_pwd (f->a.ice),
                                       (const CaSdpCandidate *) cands->data, cands->len,
                                       &error));
    g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE);
    g_clear_error (&error);
  }
  g_assert_true (ca_ice_restart (f->b.ice, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ca_ice_get_local_ufrag (f->b.ice), !=, b_ufrag);
  give_remote (&f->a, &f->b);
  give_remote (&f->b, &f->a);
  /* The new checks succeed with the new credentials only; then data flows again. */
  drain (f, 1500);
  g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_CONNECTED);
  g_assert_cmpint (state_of (&f->b), ==, CA_ICE_STATE_CONNECTED);
  g_assert_cmpuint (f->a.n_states, ==, na);
  g_assert_cmpuint (f->b.n_states, ==, nb);
  g_assert_null (ca_ice_get_error (f->a.ice));
  reset_received (&f->a);
  reset_received (&f->b);
  exchange_datagrams (f);
}

/* A regather (this host's addresses changed): a new stream with new sockets, gathered again,
 * then checks with the peer's restarted description; the call's data flows again. */
static void
test_regather (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) before = NULL;
  g_autoptr (GArray) after = NULL;
  g_autofree char *old_ufrag = NULL;
  guint n;

  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  peer_new (f, &f->b, FALSE, FALSE, NULL, 0);
  g_assert_false (ca_ice_regather (f->a.ice, &error)); /* NEW */
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED);
  g_clear_error (&error);
  connect_both (f);
  /* 127.0.0.1 is still here */
  g_assert_false (ca_ice_local_base_gone (f->a.ice));
  before = ca_ice_get_local_candidates (f->a.ice);
  old_ufrag = g_strdup (ca_ice_get_local_ufrag (f->a.ice));
  n = f->a.n_states;

  g_assert_true (ca_ice_regather (f->a.ice, &error));
  g_assert_no_error (error);
  g_assert_cmpint (state_of (&f->a), ==, CA_ICE_STATE_GATHERING);
  g_assert_false (ca_ice_send (f->a.ice, (const guint8 *) "x", 1));
  g_assert_true (WAIT_FOR (f, state_of (&f->a) == CA_ICE_STATE_GATHERED, CONNECT_MS));
  g_assert_cmpstr (ca_ice_get_local_ufrag (f->a.ice), !=, old_ufrag);
  after = ca_ice_get_local_candidates (f->a.ice);
  g_assert_cmpuint (after->len, >, 0);
  /* new sockets: the host candidate's port is not the old one */
  g_assert_cmpuint (g_array_index (after, CaSdpCandidate, 0).port, !=,
                    g_array_index (before, CaSdpCandidate, 0).port);

  g_assert_true (ca_ice_restart (f->b.ice, &error));
  g_assert_no_error (error);
  give_remote (&f->a, &f->b);
  give_remote (&f->b, &f->a);
  g_assert_true (WAIT_FOR (f, state_of (&f->a) == CA_ICE_STATE_CONNECTED, CONNECT_MS));
  g_assert_cmpuint (f->a.n_states, ==, n + 4);
  g_assert_cmpint (f->a.states[n], ==, CA_ICE_STATE_GATHERING);
  g_assert_cmpint (f->a.states[n + 1], ==, CA_ICE_STATE_GATHERED);
  g_assert_cmpint (f->a.states[n + 2], ==, CA_ICE_STATE_CHECKING);
  g_assert_cmpint (f->a.states[n + 3], ==, CA_ICE_STATE_CONNECTED);
  /* let b's nomination land on the new pair too */
  drain (f, 500);
  reset_received (&f->a);
  reset_received (&f->b);
  exchange_datagrams (f);
}

static void
test_close_in_callback (Fixture *f, gconstpointer data)
{
  peer_new (f, &f->a, FALSE, FALSE, NULL, 0);
  peer_new (f, &f->b, FALSE, FALSE, NULL, 0);
  /* a sends one datagram and closes itself on CONNECTED; b closes itself on receiving it. */
  f->a.close_on_connected = TRUE;
  f->b.close_on_recv = TRUE;
  gather (f, &f->a);
  gather (f, &f->b);
  give_remote (&f->a, &f->b);
  give_remote (&f->b, &f->a);
  g_assert_true (WAIT_FOR (f, f->a.ice == NULL && f->b.ice == NULL, CONNECT_MS));
  g_assert_cmpuint (f->b.received, ==, 1);
  g_assert_cmpint (f->a.states[f->a.n_states - 1], ==, CA_ICE_STATE_CONNECTED);
}

static void
test_names (void)
{
  CaIcePair pair = { .local_type = CA_SDP_CANDIDATE_HOST, .remote_type = CA_SDP_CANDIDATE_HOST };

  for (int s = 0; s < CA_ICE_STATE_LAST; s++)
    g_assert_cmpstr (ca_ice_state_to_string (s), !=, "invalid");
  g_assert_cmpstr (ca_ice_state_to_string (CA_ICE_STATE_LAST), ==, "invalid");
  g_assert_cmpstr (ca_ice_pair_path_kind (&pair), ==, "host");
  pair.remote_type = CA_SDP_CANDIDATE_PRFLX;
  g_assert_cmpstr (ca_ice_pair_path_kind (&pair), ==, "srflx");
  pair.local_type = CA_SDP_CANDIDATE_SRFLX;
  pair.remote_type = CA_SDP_CANDIDATE_HOST;
  g_assert_cmpstr (ca_ice_pair_path_kind (&pair), ==, "srflx");
  pair.remote_type = CA_SDP_CANDIDATE_RELAY;
  g_assert_cmpstr (ca_ice_pair_path_kind (&pair), ==, "relay");
}

static void
test_setup_errors (void)
{
  const char *const not_numeric[] = { "localhost", NULL };
  CaIceTurnServer turn = { .address = (char *) "turn.example.org", .port = 3478 };
  CaIceConfig config = { .recv = on_recv };
  g_autoptr (GError) error = NULL;
  CaIce *ice;

  config.local_addresses = not_numeric;
  ice = ca_ice_new (&config, &error);
  g_assert_null (ice);
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP);
  g_clear_error (&error);

  config.local_addresses = loopback;
  config.turn = &turn;
  config.n_turn = 1;
  ice = ca_ice_new (&config, &error);
  g_assert_null (ice);
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP);
  g_clear_error (&error);

  config.n_turn = 0;
  config.stun_address = "stun.example.org";
  config.stun_port = 3478;
  ice = ca_ice_new (&config, &error);
  g_assert_null (ice);
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP);
}

/* A local address this host does not have: libnice cannot bind, and says so at once. */
static void
test_gather_unbound (Fixture *f, gconstpointer data)
{
  const char *const absent[] = { "192.0.2.1", NULL }; /* TEST-NET-1, RFC 5737 */
  CaIceConfig config = { .context = f->context, .local_addresses = absent, .recv = on_recv,
                         .state_changed = on_state, .user_data = &f->a };
  g_autoptr (GError) error = NULL;

  f->a.ice = ca_ice_new (&config, &error);
  g_assert_no_error (error);
  g_assert_false (ca_ice_gather (f->a.ice, &error));
  g_assert_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP);
  g_assert_cmpint (ca_ice_get_state (f->a.ice), ==, CA_ICE_STATE_NEW);
  g_assert_cmpuint (f->a.n_states, ==, 0);
}

#define ADD(path, func, data) g_test_add (path, Fixture, data, setup, func, teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/agent/ice/names", test_names);
  g_test_add_func ("/agent/ice/setup-errors", test_setup_errors);
  ADD ("/agent/ice/host", test_host, GINT_TO_POINTER (FALSE));
  ADD ("/agent/ice/host/ice-tcp", test_host, GINT_TO_POINTER (TRUE));
  ADD ("/agent/ice/relay/udp", test_relay, GINT_TO_POINTER (CA_ICE_TURN_UDP));
  ADD ("/agent/ice/relay/tcp", test_relay, GINT_TO_POINTER (CA_ICE_TURN_TCP));
  ADD ("/agent/ice/force-relay-hides-host", test_force_relay_hides_host, NULL);
  ADD ("/agent/ice/force-relay-without-turn", test_force_relay_without_turn, NULL);
  ADD ("/agent/ice/gather-unbound", test_gather_unbound, NULL);
  ADD ("/agent/ice/remote-bad", test_remote_bad, NULL);
  ADD ("/agent/ice/checks-fail", test_checks_fail, NULL);
  ADD ("/agent/ice/consent-lost-then-restart", test_consent_lost_then_restart, NULL);
  ADD ("/agent/ice/restart-connected", test_restart_connected, NULL);
  ADD ("/agent/ice/regather", test_regather, NULL);
  ADD ("/agent/ice/close-in-callback", test_close_in_callback, NULL);
  return g_test_run ();
}

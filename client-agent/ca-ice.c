/* ca-ice: one libnice agent per call. See ca-ice.h.
 *
 * The agent runs in RFC 5245 compatibility mode, which is libnice's RFC 8445 mode, with
 * aggressive nomination (RFC 5245 §8.1.1.2) and RFC 7675 consent freshness.
 *
 * Why aggressive: libnice 0.1.21's regular nomination nominates the best valid pair as soon as
 * two pairs are valid (NICE_MIN_NUMBER_OF_VALID_PAIRS, compiled in) and never a better one
 * later. Relayed pairs succeed in one round trip, while a direct pair behind a restricted NAT
 * needs the peer's own check to open the way first, so the relay won races a direct path
 * should win (the NAT lab's address-restricted cone calling a symmetric NAT, about half the
 * time, even with the peer's relayed candidates held back a second). With every check carrying
 * USE-CANDIDATE, each pair that succeeds is nominated and libnice moves the selected pair to
 * the highest-priority one (RFC 5245 §8.1.1.2; RFC 8445 §7.3.1.5 asks a controlled agent to do
 * the same), so the call starts on whatever works first and moves to the direct pair once it
 * works. DTLS, SRTP and ZRTP do not care which pair carries them. RFC 8445 deprecates
 * aggressive nomination because the controlled side may briefly use a different pair; both
 * ends converge on the highest-priority nominated pair, which the NAT lab checks on both.
 *
 * libnice emits its signals with its lock released, so handlers may call back into it. They
 * only record what happened and call sync_state(), which derives our state from libnice's
 * component state, the end of gathering and the selected pair, and changes it through the one
 * set_state(). ca_ice_close() may run inside any of them: it disconnects from the agent at
 * once, and the agent itself goes later through nice_agent_close_async(), which also releases
 * TURN allocations (a Refresh with lifetime 0, RFC 8656 §7) instead of leaving them on the
 * server until they expire. */
#define _GNU_SOURCE
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-ice.h"
#include "ca-ice-priv.h"
#include "sotto-util.h"

#include <dlfcn.h>
#include <string.h>

#include <gio/gio.h>

G_DEFINE_QUARK (ca-ice-error-quark, ca_ice_error)

struct _CaIce
{
  gint ref_count;
  GMainContext *context;
  CaIceRecvFunc recv;
  CaIceStateFunc state_changed;
  gpointer user_data;
  gboolean controlling;
  gboolean force_relay;
  gboolean ice_tcp;
  CaIceTurnServer *turn; /* copies, passwords wiped on free: a regather sets them again */
  guint n_turn;

  NiceAgent *agent;
  guint stream_id;
  char *ufrag;
  char *pwd;         /* a secret: wiped on free, never logged */
  guint in_nice;     /* libnice callbacks of this agent on the stack */
  gboolean detached; /* after ca_ice_close(): no more callbacks */

  GSource *gathered_idle;
  GSource *relay_grace;   /* after the first relayed candidate: the rest may come, or not */
  gboolean gather_started;
  gboolean gathered;
  gboolean remote_set;
  gboolean restarted; /* ca_ice_restart() ran at least once */
  gboolean stale;     /* a regather failed: the stream has nothing to offer */
  guint nice_state; /* NiceComponentState of our one component */
  CaIceState state;
  GError *error;
};

/* ---- names ---- */

const char *
ca_ice_state_to_string (CaIceState state)
{
  static const char *const names[CA_ICE_STATE_LAST] = {
    [CA_ICE_STATE_NEW] = "new",           [CA_ICE_STATE_GATHERING] = "gathering",
    [CA_ICE_STATE_GATHERED] = "gathered", [CA_ICE_STATE_CHECKING] = "checking",
    [CA_ICE_STATE_CONNECTED] = "connected", [CA_ICE_STATE_DISCONNECTED] = "disconnected",
    [CA_ICE_STATE_FAILED] = "failed",
    [CA_ICE_STATE_CLOSED] = "closed",
  };
  return (guint) state < CA_ICE_STATE_LAST ? names[state] : "invalid";
}

static const char *
role_name (const CaIce *ice)
{
  return ice->controlling ? "controlling" : "controlled";
}

/* ---- state ---- */

static gboolean
is_terminal (CaIceState state)
{
  return state == CA_ICE_STATE_FAILED || state == CA_ICE_STATE_CLOSED;
}

static gboolean
transition_allowed (CaIceState from, CaIceState to)
{
  switch (from)
    {
    case CA_ICE_STATE_NEW:
      return to == CA_ICE_STATE_GATHERING || is_terminal (to);
    case CA_ICE_STATE_GATHERING:
      return to == CA_ICE_STATE_GATHERED || to == CA_ICE_STATE_CHECKING || is_terminal (to);
    case CA_ICE_STATE_GATHERED:
      return to == CA_ICE_STATE_CHECKING || is_terminal (to);
    case CA_ICE_STATE_CHECKING:
      /* DISCONNECTED: the checks after a restart that began disconnected found nothing */
      return to == CA_ICE_STATE_CONNECTED || to == CA_ICE_STATE_DISCONNECTED || is_terminal (to);
    case CA_ICE_STATE_CONNECTED:
      /* GATHERING: ca_ice_regather() */
      return to == CA_ICE_STATE_DISCONNECTED || to == CA_ICE_STATE_GATHERING || is_terminal (to);
    case CA_ICE_STATE_DISCONNECTED:
      return to == CA_ICE_STATE_CHECKING || to == CA_ICE_STATE_GATHERING || is_terminal (to);
    default:
      return FALSE;
    }
}

/* The one place the state changes. Takes @reason. */
static void
set_state (CaIce *ice, CaIceState state, GError *reason)
{
  CaIceState old = ice->state;

  if (!transition_allowed (old, state))
    {
      g_critical ("ICE %s: no transition %s -> %s", role_name (ice),
                  ca_ice_state_to_string (old), ca_ice_state_to_string (state));
      g_clear_error (&reason);
      return;
    }
  ice->state = state;
  if (reason != NULL)
    {
      g_clear_error (&ice->error);
      ice->error = reason;
    }
  if (state == CA_ICE_STATE_FAILED || state == CA_ICE_STATE_DISCONNECTED)
    g_message ("ICE %s: %s -> %s: %s", role_name (ice), ca_ice_state_to_string (old),
               ca_ice_state_to_string (state), ice->error ? ice->error->message : "unknown reason");
  else
    g_info ("ICE %s: %s -> %s", role_name (ice), ca_ice_state_to_string (old),
            ca_ice_state_to_string (state));

  if (ice->state_changed != NULL && !ice->detached)
    {
      ca_ice_ref (ice);
      ice->state_changed (ice, state, ice->user_data);
      ca_ice_unref (ice);
    }
}

static void G_GNUC_PRINTF (3, 4)
fail (CaIce *ice, CaIceError code, const char *format, ...)
{
  va_list args;
  GError *reason;

  va_start (args, format);
  reason = g_error_new_valist (CA_ICE_ERROR, code, format, args);
  va_end (args);
  set_state (ice, CA_ICE_STATE_FAILED, reason);
}

static gboolean
stopped (const CaIce *ice)
{
  return ice->detached || is_terminal (ice->state);
}

static gboolean
have_selected_pair (CaIce *ice)
{
  NiceCandidate *local = NULL, *remote = NULL;

  return ice->agent != NULL
         && nice_agent_get_selected_pair (ice->agent, ice->stream_id, CA_ICE_COMPONENT, &local,
                                          &remote)
         && local != NULL && remote != NULL;
}

/* Our state from what libnice told us. The caller holds a reference: callbacks may drop the
 * user's. */
static void
sync_state (CaIce *ice)
{
  if (stopped (ice))
    return;

  /* After a restart, before the peer's new description, FAILED can only be the old pair's
   * consent running out. */
  if ((ice->remote_set || ice->restarted) && ice->nice_state == NICE_COMPONENT_STATE_FAILED)
    {
      if (ice->state == CA_ICE_STATE_CONNECTED)
        /* libnice gives up 10 s after the last consent response (its
         * NICE_AGENT_TIMER_CONSENT_TIMEOUT), sooner than RFC 7675 §5.1's 30 s, or at once on
         * a 403 that revokes consent (§5.2). Or, during a restart, the new checks failed. */
        set_state (ice, CA_ICE_STATE_DISCONNECTED,
                   g_error_new_literal (CA_ICE_ERROR, CA_ICE_ERROR_FAILED,
                                        ice->restarted
                                            ? "no candidate pair works after the ICE restart, "
                                              "or consent to send was lost (RFC 7675)"
                                            : "consent to send was lost (RFC 7675): the peer "
                                              "stopped answering or revoked it"));
      else if (ice->state == CA_ICE_STATE_CHECKING && ice->restarted)
        set_state (ice, CA_ICE_STATE_DISCONNECTED,
                   g_error_new_literal (CA_ICE_ERROR, CA_ICE_ERROR_FAILED,
                                        "no candidate pair works after the ICE restart"));
      else if (ice->state != CA_ICE_STATE_DISCONNECTED)
        fail (ice, CA_ICE_ERROR_FAILED,
              "ICE connectivity checks failed: no candidate pair works (RFC 8445)");
      return;
    }

  if (ice->remote_set
      && (ice->state < CA_ICE_STATE_CHECKING || ice->state == CA_ICE_STATE_DISCONNECTED))
    set_state (ice, CA_ICE_STATE_CHECKING, NULL);
  else if (ice->gathered && ice->state == CA_ICE_STATE_GATHERING)
    set_state (ice, CA_ICE_STATE_GATHERED, NULL);
  if (stopped (ice))
    return;

  /* CONNECTED only with a selected pair, so ca_ice_send() and ca_ice_get_selected_pair()
   * work from the callback on. */
  if (ice->state == CA_ICE_STATE_CHECKING
      && (ice->nice_state == NICE_COMPONENT_STATE_CONNECTED
          || ice->nice_state == NICE_COMPONENT_STATE_READY)
      && have_selected_pair (ice))
    set_state (ice, CA_ICE_STATE_CONNECTED, NULL);
}

/* ---- libnice's side ---- */

static GArray *
collect_local (CaIce *ice)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (CaSdpCandidate));
  GSList *list;

  if (ice->agent == NULL)
    return out;
  list = nice_agent_get_local_candidates (ice->agent, ice->stream_id, CA_ICE_COMPONENT);
  for (GSList *l = list; l != NULL; l = l->next)
    {
      const NiceCandidate *nc = l->data;
      CaSdpCandidate c;

      /* Peer-reflexive ones are learnt during the checks, not gathered (RFC 8445 §7.2.5.3.1).
       * libnice already hides non-relay candidates with force-relay; we check again, since
       * revealing a host address is what force_relay exists to prevent. */
      if (nc->type == NICE_CANDIDATE_TYPE_PEER_REFLEXIVE
          || (ice->force_relay && nc->type != NICE_CANDIDATE_TYPE_RELAYED))
        continue;
      if (ca_ice_candidate_from_nice (nc, ice->force_relay, &c))
        g_array_append_val (out, c);
      else
        g_debug ("ICE %s: a local candidate SDP cannot carry, skipped", role_name (ice));
    }
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  return out;
}

static gboolean
gathered_cb (gpointer data)
{
  CaIce *ice = data;
  g_autoptr (GArray) local = NULL;

  g_clear_pointer (&ice->gathered_idle, g_source_unref);
  if (stopped (ice))
    return G_SOURCE_REMOVE;
  ca_ice_ref (ice);
  local = collect_local (ice);
  g_info ("ICE %s: %u local candidates", role_name (ice), local->len);
  if (local->len == 0)
    fail (ice, CA_ICE_ERROR_SETUP, "no local candidate was gathered%s",
          ice->force_relay ? " (relay only: is the TURN server reachable, are the credentials valid?)"
                           : "");
  else
    {
      ice->gathered = TRUE;
      sync_state (ice);
    }
  ca_ice_unref (ice);
  return G_SOURCE_REMOVE;
}

/* libnice emits this from inside nice_agent_gather_candidates() when nothing needs a server:
 * an idle keeps GATHERED out of ca_ice_gather()'s caller. */
static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  CaIce *ice = data;

  if (stream_id != ice->stream_id || ice->detached || ice->gathered_idle != NULL
      || ice->gathered)
    return;
  ice->gathered_idle = g_idle_source_new ();
  g_source_set_callback (ice->gathered_idle, gathered_cb, ice, NULL);
  g_source_attach (ice->gathered_idle, ice->context);
}

/* Where UDP is blocked, libnice's gathering ends only when the UDP TURN allocation times out
 * (about 10 s, 7 retransmissions), although the TCP one gave a relayed candidate long before.
 * UDP answers first wherever it works (fewer round trips than TCP), so once a relayed
 * candidate exists the rest gets GATHER_AFTER_RELAY_MS, and the offer goes out with what is
 * there. libnice keeps gathering: later candidates still pair with the peer's. */
#define GATHER_AFTER_RELAY_MS 1000

static gboolean
relay_grace_done (gpointer data)
{
  CaIce *ice = data;

  g_clear_pointer (&ice->relay_grace, g_source_unref);
  if (!ice->gathered && !stopped (ice) && ice->agent != NULL)
    {
      g_info ("ICE %s: gathering still running %d ms after the first relayed candidate: going "
              "on with what is there", role_name (ice), GATHER_AFTER_RELAY_MS);
      on_gathering_done (ice->agent, ice->stream_id, ice);
    }
  return G_SOURCE_REMOVE;
}

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *candidate, gpointer data)
{
  CaIce *ice = data;

  if (candidate->stream_id != ice->stream_id || ice->detached || ice->gathered
      || ice->relay_grace != NULL || candidate->type != NICE_CANDIDATE_TYPE_RELAYED)
    return;
  ice->relay_grace = g_timeout_source_new (GATHER_AFTER_RELAY_MS);
  g_source_set_callback (ice->relay_grace, relay_grace_done, ice, NULL);
  g_source_attach (ice->relay_grace, ice->context);
}

static void
on_component_state (NiceAgent *agent, guint stream_id, guint component_id, guint state,
                    gpointer data)
{
  CaIce *ice = data;

  if (stream_id != ice->stream_id || component_id != CA_ICE_COMPONENT || ice->detached)
    return;
  g_debug ("ICE %s: libnice component %s", role_name (ice),
           nice_component_state_to_string ((NiceComponentState) state));
  ca_ice_ref (ice);
  ice->in_nice++;
  ice->nice_state = state;
  sync_state (ice);
  ice->in_nice--;
  ca_ice_unref (ice);
}

static void
on_selected_pair (NiceAgent *agent, guint stream_id, guint component_id, NiceCandidate *local,
                  NiceCandidate *remote, gpointer data)
{
  CaIce *ice = data;
  CaIcePair pair;

  if (stream_id != ice->stream_id || component_id != CA_ICE_COMPONENT || ice->detached)
    return;
  /* Kinds only: addresses of the peer stay out of the log. */
  ca_ice_pair_from_nice (local, remote, &pair);
  g_info ("ICE %s: selected pair %s/%s over %s", role_name (ice),
          ca_sdp_candidate_type_to_string (pair.local_type),
          ca_sdp_candidate_type_to_string (pair.remote_type),
          ca_sdp_transport_to_string (pair.transport));
  ca_ice_ref (ice);
  ice->in_nice++;
  sync_state (ice);
  ice->in_nice--;
  ca_ice_unref (ice);
}

static void
on_recv (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
         gpointer data)
{
  CaIce *ice = data;

  if (ice->detached || len == 0)
    return;
  ca_ice_ref (ice);
  ice->in_nice++;
  ice->recv (ice, (const guint8 *) buf, len, ice->user_data);
  ice->in_nice--;
  ca_ice_unref (ice);
}

static void
agent_closed (GObject *source, GAsyncResult *result, gpointer data)
{
  g_object_unref (source); /* the reference the CaIce held */
}

static void
drop_datagram (NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
               gpointer data)
{
}

/* Disconnects from the agent at once; the agent itself may go later. */
static void
release_agent (CaIce *ice)
{
  NiceAgent *agent = g_steal_pointer (&ice->agent);

  if (agent == NULL)
    return;
  g_signal_handlers_disconnect_by_data (agent, ice);
  if (ice->in_nice > 0 || (ice->n_turn > 0 && ice->gather_started))
    {
      /* The agent must keep reading its sockets while it releases its TURN allocations:
       * with the receive callback detached (NULL) it stopped reading them, never saw coturn's
       * answers to its Refresh (lifetime 0), and retransmitted for about 7.5 s, during which
       * the next call's agent was held up too. Give it a callback that drops what comes. */
      if (ice->stream_id != 0)
        nice_agent_attach_recv (agent, ice->stream_id, CA_ICE_COMPONENT, ice->context,
                                drop_datagram, NULL);
      /* Inside one of its callbacks the agent must outlive the emission; with TURN it
       * should release its allocations. The GTask calls back in the thread-default
       * context, which must be ours. */
      g_main_context_push_thread_default (ice->context);
      nice_agent_close_async (agent, agent_closed, NULL);
      g_main_context_pop_thread_default (ice->context);
    }
  else
    {
      if (ice->stream_id != 0)
        nice_agent_attach_recv (agent, ice->stream_id, CA_ICE_COMPONENT, ice->context, NULL,
                                NULL);
      g_object_unref (agent);
    }
}

/* ---- public ---- */

/* The stream's local ufrag and password, after it was added or restarted. */
static gboolean
take_local_credentials (CaIce *ice)
{
  char *ufrag = NULL, *pwd = NULL;

  if (!nice_agent_get_local_credentials (ice->agent, ice->stream_id, &ufrag, &pwd))
    return FALSE;
  g_free (ice->ufrag);
  ice->ufrag = ufrag;
  sotto_util_secret_free (ice->pwd);
  ice->pwd = pwd;
  return TRUE;
}

/* Our one stream: TURN servers, credentials, the receive callback. Again on a regather. */
static gboolean
add_stream (CaIce *ice, GError **error)
{
  ice->stream_id = nice_agent_add_stream (ice->agent, 1);
  if (ice->stream_id == 0)
    return g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                                "libnice could not add a stream"),
           FALSE;

  for (guint i = 0; i < ice->n_turn; i++)
    {
      const CaIceTurnServer *t = &ice->turn[i];
      /* Never NICE_RELAY_TYPE_TURN_TLS: in RFC 5245 mode it is plain TCP, credentials in
       * clear, while its name promises TLS. */
      NiceRelayType type
          = t->transport == CA_ICE_TURN_TCP ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;

      if (t->address == NULL || !g_hostname_is_ip_address (t->address) || t->port == 0
          || (guint) t->transport >= CA_ICE_TURN_LAST
          || !nice_agent_set_relay_info (ice->agent, ice->stream_id, CA_ICE_COMPONENT, t->address,
                                         t->port, t->username ? t->username : "",
                                         t->password ? t->password : "", type))
        return g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                            "libnice refused the TURN server \"%s\" port %u",
                            t->address ? t->address : "(null)", t->port),
               FALSE;
    }

  if (!take_local_credentials (ice))
    return g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                                "libnice gave no local credentials"),
           FALSE;
  if (!nice_agent_attach_recv (ice->agent, ice->stream_id, CA_ICE_COMPONENT, ice->context,
                               on_recv, ice))
    return g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                                "libnice could not attach the receive callback"),
           FALSE;
  return TRUE;
}

static gboolean
setup_agent (CaIce *ice, const CaIceConfig *config, GError **error)
{
  ice->agent = nice_agent_new_full (ice->context, NICE_COMPATIBILITY_RFC5245,
                                    NICE_AGENT_OPTION_CONSENT_FRESHNESS);
  if (ice->agent == NULL)
    return g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                                "libnice could not create an agent"),
           FALSE;
  /* UPnP would open ports on the router and delay gathering; we never want it. */
  g_object_set (ice->agent, "controlling-mode", ice->controlling, "force-relay",
                ice->force_relay, "ice-udp", TRUE, "ice-tcp", ice->ice_tcp, "upnp", FALSE, NULL);
  /* 5 tries rather than libnice's 3 (RFC 8445 §14.3 suggests 7). Behind a port-restricted NAT
   * the first checks are dropped until the peer's own checks open the mapping; with 3 a
   * server-reflexive pair could fail first and the relay pair win (seen in the NAT lab). 7
   * would make a peer that never answers take about 50 s to fail, 5 takes about 15 s. */
  g_object_set (ice->agent, "stun-max-retransmissions", 5, NULL);

  /* With force_relay a reflexive address would only be told to the STUN server, but it is
   * of no use either: skip it. */
  if (config->stun_address != NULL && !ice->force_relay)
    {
      if (!g_hostname_is_ip_address (config->stun_address) || config->stun_port == 0)
        return g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                            "STUN server \"%s\" port %u is not a numeric address and a port",
                            config->stun_address, config->stun_port),
               FALSE;
      g_object_set (ice->agent, "stun-server", config->stun_address, "stun-server-port",
                    (guint) config->stun_port, NULL);
    }

  for (guint i = 0; config->local_addresses != NULL && config->local_addresses[i] != NULL; i++)
    {
      NiceAddress addr;

      nice_address_init (&addr);
      if (!g_hostname_is_ip_address (config->local_addresses[i])
          || !nice_address_set_from_string (&addr, config->local_addresses[i])
          || !nice_agent_add_local_address (ice->agent, &addr))
        return g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                            "libnice refused the local address \"%s\"",
                            config->local_addresses[i]),
               FALSE;
    }

  if (!add_stream (ice, error))
    return FALSE;

  g_signal_connect (ice->agent, "candidate-gathering-done", G_CALLBACK (on_gathering_done), ice);
  g_signal_connect (ice->agent, "new-candidate-full", G_CALLBACK (on_new_candidate), ice);
  g_signal_connect (ice->agent, "component-state-changed", G_CALLBACK (on_component_state), ice);
  g_signal_connect (ice->agent, "new-selected-pair-full", G_CALLBACK (on_selected_pair), ice);
  return TRUE;
}

/* libnice's STUN code calls its stun_message_length() through the PLT, and Sofia-SIP exports
 * a function of the same name from its own STUN module. The library the executable loads first
 * wins for everyone: with Sofia's, every connectivity check fails to build ("conncheck created
 * 0" in libnice's debug log) and ICE fails with no other sign. sotto-agentd links libnice
 * before Sofia-SIP (client-agent/agent.mk); this check turns a wrong order into a clear error. */
static gboolean
check_stun_symbol (GError **error)
{
  void *nice = dlopen ("libnice.so.10", RTLD_LAZY | RTLD_NOLOAD);
  void *own, *global;

  if (nice == NULL)
    return TRUE; /* not loaded under that name: nothing to compare */
  own = dlsym (nice, "stun_message_length");
  global = dlsym (RTLD_DEFAULT, "stun_message_length");
  dlclose (nice);
  if (own != NULL && global != own)
    {
      Dl_info info = { 0 };

      dladdr (global, &info);
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                   "libnice's STUN is shadowed by stun_message_length from %s: link libnice "
                   "before it",
                   info.dli_fname != NULL ? info.dli_fname : "another library");
      return FALSE;
    }
  return TRUE;
}

CaIce *
ca_ice_new (const CaIceConfig *config, GError **error)
{
  g_autoptr (CaIce) ice = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->recv != NULL, NULL);
  g_return_val_if_fail (config->n_turn == 0 || config->turn != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_stun_symbol (error))
    return NULL;
  ice = g_new0 (CaIce, 1);
  ice->ref_count = 1;
  ice->context = config->context != NULL ? g_main_context_ref (config->context)
                                         : g_main_context_ref_thread_default ();
  ice->recv = config->recv;
  ice->state_changed = config->state_changed;
  ice->user_data = config->user_data;
  ice->controlling = config->controlling;
  ice->force_relay = config->force_relay;
  ice->ice_tcp = config->ice_tcp;
  ice->n_turn = config->n_turn;
  ice->turn = g_new0 (CaIceTurnServer, MAX (config->n_turn, 1));
  for (guint i = 0; i < config->n_turn; i++)
    {
      ice->turn[i] = config->turn[i];
      ice->turn[i].address = g_strdup (config->turn[i].address);
      ice->turn[i].username = g_strdup (config->turn[i].username);
      ice->turn[i].password = g_strdup (config->turn[i].password);
    }
  ice->nice_state = NICE_COMPONENT_STATE_DISCONNECTED;
  ice->state = CA_ICE_STATE_NEW;

  if (!setup_agent (ice, config, error))
    return NULL;
  return g_steal_pointer (&ice);
}

CaIce *
ca_ice_ref (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, NULL);
  g_atomic_int_inc (&ice->ref_count);
  return ice;
}

void
ca_ice_unref (CaIce *ice)
{
  if (ice == NULL || !g_atomic_int_dec_and_test (&ice->ref_count))
    return;
  ice->detached = TRUE;
  sotto_util_source_clear (&ice->gathered_idle);
  sotto_util_source_clear (&ice->relay_grace);
  release_agent (ice);
  g_free (ice->ufrag);
  sotto_util_secret_free (ice->pwd);
  for (guint i = 0; i < ice->n_turn; i++)
    {
      g_free (ice->turn[i].address);
      g_free (ice->turn[i].username);
      sotto_util_secret_free (ice->turn[i].password);
    }
  g_free (ice->turn);
  g_clear_error (&ice->error);
  g_main_context_unref (ice->context);
  g_free (ice);
}

gboolean
ca_ice_gather (CaIce *ice, GError **error)
{
  g_return_val_if_fail (ice != NULL, FALSE);
  g_return_val_if_fail (ice->state == CA_ICE_STATE_NEW && !ice->detached, FALSE);

  ice->gather_started = TRUE;
  if (!nice_agent_gather_candidates (ice->agent, ice->stream_id))
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                           "libnice could not gather candidates (no usable local address?)");
      return FALSE;
    }
  ca_ice_ref (ice);
  set_state (ice, CA_ICE_STATE_GATHERING, NULL);
  ca_ice_unref (ice);
  return TRUE;
}

const char *
ca_ice_get_local_ufrag (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, NULL);
  return ice->ufrag;
}

const char *
ca_ice_get_local_pwd (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, NULL);
  return ice->pwd;
}

GArray *
ca_ice_get_local_candidates (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, NULL);
  if (!ice->gathered)
    return g_array_new (FALSE, TRUE, sizeof (CaSdpCandidate));
  return collect_local (ice);
}

gboolean
ca_ice_set_remote (CaIce *ice, const char *ufrag, const char *pwd,
                   const CaSdpCandidate *candidates, guint n_candidates, GError **error)
{
  GSList *list = NULL;
  guint usable = 0;
  int added;

  g_return_val_if_fail (ice != NULL, FALSE);
  g_return_val_if_fail (n_candidates == 0 || candidates != NULL, FALSE);
  g_return_val_if_fail (ice->state != CA_ICE_STATE_NEW, FALSE);

  if (stopped (ice) || ice->agent == NULL)
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED, "ICE is %s already",
                   ca_ice_state_to_string (ice->state));
      return FALSE;
    }
  if (ice->remote_set)
    {
      /* A new description needs ca_ice_restart() first (new credentials on both sides). */
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                           "the remote side is known already (an ICE restart comes first)");
      return FALSE;
    }
  if (!ca_ice_check_credentials (ufrag, pwd, error))
    return FALSE;

  for (guint i = 0; i < n_candidates; i++)
    {
      g_autoptr (GError) why = NULL;
      NiceCandidate *nc = ca_ice_candidate_to_nice (&candidates[i], ice->stream_id, ice->ice_tcp,
                                                    &why);

      if (nc == NULL)
        {
          g_debug ("ICE %s: remote candidate %u skipped: %s", role_name (ice), i, why->message);
          continue;
        }
      list = g_slist_prepend (list, nc);
      usable++;
    }
  if (usable == 0)
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                   "none of the %u remote candidates is usable", n_candidates);
      return FALSE;
    }
  list = g_slist_reverse (list);

  ca_ice_ref (ice);
  if (!nice_agent_set_remote_credentials (ice->agent, ice->stream_id, ufrag, pwd))
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                           "libnice refused the remote credentials");
      added = -1;
    }
  else
    {
      added = nice_agent_set_remote_candidates (ice->agent, ice->stream_id, CA_ICE_COMPONENT,
                                                list);
      if (added <= 0)
        g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                     "libnice accepted none of the %u usable remote candidates", usable);
    }
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  if (added > 0)
    {
      g_debug ("ICE %s: %d of %u remote candidates in use", role_name (ice), added, n_candidates);
      ice->remote_set = TRUE;
      sync_state (ice);
    }
  ca_ice_unref (ice);
  return added > 0;
}

gboolean
ca_ice_restart (CaIce *ice, GError **error)
{
  g_return_val_if_fail (ice != NULL, FALSE);

  if (stopped (ice) || ice->agent == NULL
      || (ice->state != CA_ICE_STATE_CONNECTED && ice->state != CA_ICE_STATE_DISCONNECTED))
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED, "no ICE restart while %s",
                   ca_ice_state_to_string (ice->state));
      return FALSE;
    }
  /* Before libnice emits anything: its GATHERING must not look like the old description's. */
  ice->remote_set = FALSE;
  ice->restarted = TRUE;
  ca_ice_ref (ice);
  if (!nice_agent_restart_stream (ice->agent, ice->stream_id) || !take_local_credentials (ice))
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_SETUP,
                           "libnice could not restart the stream");
      ca_ice_unref (ice);
      return FALSE;
    }
  g_info ("ICE %s: restarted (%s), new credentials", role_name (ice),
          ca_ice_state_to_string (ice->state));
  ca_ice_unref (ice);
  return TRUE;
}

gboolean
ca_ice_regather (CaIce *ice, GError **error)
{
  guint old;

  g_return_val_if_fail (ice != NULL, FALSE);

  if (stopped (ice) || ice->agent == NULL
      || (ice->state != CA_ICE_STATE_CONNECTED && ice->state != CA_ICE_STATE_DISCONNECTED))
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED, "no ICE regathering while %s",
                   ca_ice_state_to_string (ice->state));
      return FALSE;
    }
  ca_ice_ref (ice);
  /* The old stream goes, with its sockets; it keeps reading them while libnice releases its
   * TURN allocations (see release_agent), and its events no longer match our stream id. */
  old = ice->stream_id;
  nice_agent_attach_recv (ice->agent, old, CA_ICE_COMPONENT, ice->context, drop_datagram, NULL);
  nice_agent_remove_stream (ice->agent, old);
  sotto_util_source_clear (&ice->gathered_idle);
  sotto_util_source_clear (&ice->relay_grace);
  ice->gathered = FALSE;
  ice->remote_set = FALSE;
  ice->restarted = TRUE;
  ice->nice_state = NICE_COMPONENT_STATE_DISCONNECTED;
  if (!add_stream (ice, error))
    {
      fail (ice, CA_ICE_ERROR_SETUP, "regathering failed: %s",
            error != NULL && *error != NULL ? (*error)->message : "libnice refused");
      ca_ice_unref (ice);
      return FALSE;
    }
  if (!nice_agent_gather_candidates (ice->agent, ice->stream_id))
    {
      /* No address yet (the old one went before the new one came): not the end, a later
       * regather may find one. */
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_FAILED,
                           "no local address to gather candidates on");
      ice->stale = TRUE;
      if (ice->state != CA_ICE_STATE_DISCONNECTED)
        set_state (ice, CA_ICE_STATE_DISCONNECTED,
                   g_error_new_literal (CA_ICE_ERROR, CA_ICE_ERROR_FAILED,
                                        "this host has no address to gather candidates on"));
      ca_ice_unref (ice);
      return FALSE;
    }
  ice->stale = FALSE;
  g_info ("ICE %s: regathering on a new stream (%s)", role_name (ice),
          ca_ice_state_to_string (ice->state));
  set_state (ice, CA_ICE_STATE_GATHERING, NULL);
  ca_ice_unref (ice);
  return TRUE;
}

gboolean
ca_ice_local_base_gone (CaIce *ice)
{
  NiceCandidate *local = NULL, *remote = NULL;
  const NiceAddress *base;

  g_return_val_if_fail (ice != NULL, FALSE);
  if (ice->stale)
    return TRUE;
  if (ice->agent == NULL
      || !nice_agent_get_selected_pair (ice->agent, ice->stream_id, CA_ICE_COMPONENT, &local,
                                        &remote)
      || local == NULL)
    return FALSE;
  /* a host candidate is its own base; reflexive and relayed ones have the host socket's */
  base = local->type == NICE_CANDIDATE_TYPE_HOST ? &local->addr : &local->base_addr;
  return !ca_ice_address_is_local (base);
}

gboolean
ca_ice_send (CaIce *ice, const guint8 *data, gsize len)
{
  gint sent;

  g_return_val_if_fail (ice != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (ice->state != CA_ICE_STATE_CONNECTED || ice->detached || ice->agent == NULL || len == 0
      || len > G_MAXUINT16)
    return FALSE;
  sent = nice_agent_send (ice->agent, ice->stream_id, CA_ICE_COMPONENT, (guint) len,
                          (const gchar *) data);
  return sent >= 0 && (gsize) sent == len;
}

gboolean
ca_ice_get_selected_pair (CaIce *ice, CaIcePair *out)
{
  NiceCandidate *local = NULL, *remote = NULL;

  g_return_val_if_fail (ice != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (ice->state != CA_ICE_STATE_CONNECTED || ice->agent == NULL
      || !nice_agent_get_selected_pair (ice->agent, ice->stream_id, CA_ICE_COMPONENT, &local,
                                        &remote)
      || local == NULL || remote == NULL)
    return FALSE;
  ca_ice_pair_from_nice (local, remote, out);
  return TRUE;
}

CaIceState
ca_ice_get_state (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, CA_ICE_STATE_LAST);
  return ice->state;
}

const GError *
ca_ice_get_error (CaIce *ice)
{
  g_return_val_if_fail (ice != NULL, NULL);
  return ice->error;
}

void
ca_ice_close (CaIce *ice)
{
  g_return_if_fail (ice != NULL);

  if (ice->detached)
    return;
  ca_ice_ref (ice);
  ice->detached = TRUE;
  if (!is_terminal (ice->state))
    set_state (ice, CA_ICE_STATE_CLOSED, NULL);
  sotto_util_source_clear (&ice->gathered_idle);
  sotto_util_source_clear (&ice->relay_grace);
  release_agent (ice);
  ca_ice_unref (ice);
}

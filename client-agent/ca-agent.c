/* ca-agent: registration, calls and control for sotto-agentd (see ca-agent.h).
 *
 * A call is the pair of a SIP dialog (ca-sip, by its sip id) and a media session
 * (ca-session). The agent's own call ids are what users see; they exist before the SIP
 * dialog does, since an offer needs gathered candidates first. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-agent.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#include "ca-control.h"
#include "ca-dtls-cert.h"
#include "ca-session.h"
#include "ca-sip.h"
#include "ca-turn-info.h"
#include "sotto-util.h"

#define MAX_ENDED_KEPT 16
#define MAX_CALLS      8
#define MAX_TURN       6

typedef struct
{
  CaAgent *agent;
  guint id;
  guint sip_id;
  gboolean outgoing;
  char *target; /* outgoing: what the user dialled */
  char *peer;
  char *state;  /* dialing, calling, ringing, incoming, connecting, active, ended */
  char *reason;
  CaSession *session;
  char *answer_sdp;      /* incoming: our answer, once gathered */
  gboolean answer_asked; /* incoming: the user said yes */
  gboolean answered;     /* incoming: the 200 went out */
  char *queued_reoffer;  /* an ICE restart offer waiting for a working registration */
} AgentCall;

struct _CaAgent
{
  CaConfig *config;
  char *password;
  CaSip *sip;
  CaControl *control;
  CaDtlsCert *cert;
  GHashTable *calls; /* id -> AgentCall */
  GQueue ended;      /* ids of ended calls, oldest first */
  guint next_id;
  CaSipRegState reg_state;
  char *reg_phrase;
  CaIceTurnServer turn[MAX_TURN];
  guint n_turn;
  char *stun_address;
  guint16 stun_port;
  GCancellable *resolving;
  GNetworkMonitor *monitor;
  gulong monitor_handler;
  gboolean flow_suspect; /* the network changed: re-INVITEs wait for a REGISTER's 200 */
  CaMediaCodec codecs[CA_MEDIA_CODEC_LAST];
  guint n_codecs;
};

static void
agent_call_free (AgentCall *call)
{
  if (call->session != NULL)
    ca_session_close (call->session);
  g_clear_pointer (&call->session, ca_session_unref);
  g_free (call->target);
  g_free (call->peer);
  g_free (call->state);
  g_free (call->reason);
  g_free (call->answer_sdp);
  g_free (call->queued_reoffer);
  g_free (call);
}

static AgentCall *
find_by_sip (CaAgent *self, guint sip_id)
{
  GHashTableIter it;
  AgentCall *call;

  g_hash_table_iter_init (&it, self->calls);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &call))
    if (call->sip_id == sip_id && sip_id != 0)
      return call;
  return NULL;
}

static gboolean
call_is_ended (const AgentCall *call)
{
  return g_strcmp0 (call->state, "ended") == 0;
}

static guint
count_live_calls (CaAgent *self)
{
  GHashTableIter it;
  AgentCall *call;
  guint n = 0;

  g_hash_table_iter_init (&it, self->calls);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &call))
    n += !call_is_ended (call);
  return n;
}

static void
set_call_state (AgentCall *call, const char *state, const char *reason)
{
  CaAgent *self = call->agent;

  if (call_is_ended (call) || g_strcmp0 (call->state, state) == 0)
    return;
  g_free (call->state);
  call->state = g_strdup (state);
  if (reason != NULL)
    {
      g_free (call->reason);
      call->reason = g_strdup (reason);
    }
  g_info ("call %u (%s %s): %s%s%s", call->id, call->outgoing ? "to" : "from",
          call->peer != NULL ? call->peer : "?", state, reason != NULL ? ": " : "",
          reason != NULL ? reason : "");
  if (g_strcmp0 (state, "ended") == 0)
    {
      if (call->session != NULL)
        ca_session_close (call->session);
      g_queue_push_tail (&self->ended, GUINT_TO_POINTER (call->id));
      while (g_queue_get_length (&self->ended) > MAX_ENDED_KEPT)
        g_hash_table_remove (self->calls, g_queue_pop_head (&self->ended));
    }
  if (self->control != NULL)
    ca_control_emit_call_state (self->control, call->id, state,
                                call->reason != NULL ? call->reason : "");
}

/* Ends the call on our side for a media reason, telling the peer why. */
static void
end_call_locally (AgentCall *call, guint reject_status, const char *reason)
{
  CaAgent *self = call->agent;
  g_autoptr (GError) error = NULL;

  if (call_is_ended (call))
    return;
  if (call->sip_id != 0)
    {
      gboolean ok;

      if (!call->outgoing && !call->answered)
        ok = ca_sip_reject (self->sip, call->sip_id, reject_status, reason, &error);
      else
        ok = ca_sip_hangup (self->sip, call->sip_id, reason, &error);
      if (!ok)
        g_debug ("call %u: %s", call->id, error->message);
    }
  set_call_state (call, "ended", reason);
}

static void
maybe_send_answer (AgentCall *call)
{
  g_autoptr (GError) error = NULL;

  if (call->answered || !call->answer_asked || call->answer_sdp == NULL || call_is_ended (call))
    return;
  if (!ca_sip_answer (call->agent->sip, call->sip_id, call->answer_sdp, &error))
    {
      end_call_locally (call, 500, error->message);
      return;
    }
  call->answered = TRUE;
  set_call_state (call, "connecting", NULL);
}

/* ---- media sessions ---- */

static void
session_sdp (CaSession *session, const char *sdp, gpointer user_data)
{
  AgentCall *call = user_data;
  CaAgent *self = call->agent;
  g_autoptr (GError) error = NULL;

  if (call->outgoing)
    {
      call->sip_id = ca_sip_call (self->sip, call->target, sdp, &error);
      if (call->sip_id == 0)
        set_call_state (call, "ended", error->message);
      else
        {
          g_free (call->peer);
          call->peer = g_strdup (ca_sip_call_get_peer (self->sip, call->sip_id));
          set_call_state (call, "calling", NULL);
        }
    }
  else
    {
      call->answer_sdp = g_strdup (sdp);
      maybe_send_answer (call);
    }
}

static void
send_reoffer (AgentCall *call, const char *sdp)
{
  g_autoptr (GError) error = NULL;

  if (call->sip_id == 0 || !ca_sip_reoffer (call->agent->sip, call->sip_id, sdp, &error))
    {
      g_message ("call %u: no re-INVITE: %s", call->id, error ? error->message : "no dialog");
      if (call->session != NULL)
        ca_session_reoffer_failed (call->session, 500);
    }
}

/* An ICE restart offer (ca-session-restart.c) goes out in a re-INVITE. After a network change
 * it waits until a REGISTER has been answered: the old TLS connection may be dead, and nua
 * ends a call whose re-INVITE fails with the 503 a dead connection gives (RFC 5057 leaves
 * that to the UA, and nua chooses a BYE). */
static void
session_reoffer (CaSession *session, const char *sdp, gpointer user_data)
{
  AgentCall *call = user_data;
  CaAgent *self = call->agent;

  if (self->flow_suspect || self->reg_state != CA_SIP_REG_REGISTERED)
    {
      g_info ("call %u: the re-INVITE waits for the registration (%s)", call->id,
              ca_sip_reg_state_to_string (self->reg_state));
      g_free (call->queued_reoffer);
      call->queued_reoffer = g_strdup (sdp);
      return;
    }
  send_reoffer (call, sdp);
}

static void
session_state (CaSession *session, CaSessionState state, gpointer user_data)
{
  AgentCall *call = user_data;

  if (state == CA_SESSION_STATE_ACTIVE)
    set_call_state (call, "active", NULL);
  else if (state == CA_SESSION_STATE_FAILED)
    {
      const GError *e = ca_session_get_error (session);

      end_call_locally (call, 488, e != NULL ? e->message : "media failed");
    }
}

/* "bob" -> "sips:bob@<our domain>", so the ZRTP cache keys on one name per person. */
static char *
canonical_peer (CaAgent *self, const char *target)
{
  const char *at = strchr (self->config->aor, '@');

  if (g_str_has_prefix (target, "sips:") || g_str_has_prefix (target, "sip:"))
    return g_strdup (target);
  if (strchr (target, '@') != NULL)
    return g_strdup_printf ("sips:%s", target);
  return g_strdup_printf ("sips:%s%s", target, at != NULL ? at : "");
}

static CaSession *
new_session (CaAgent *self, AgentCall *call, CaSessionRole role, GError **error)
{
  g_autofree char *zrtp_cache = g_build_filename (self->config->state_dir, "zrtp-cache.sqlite",
                                                  NULL);
  g_autofree char *peer = canonical_peer (self, call->peer != NULL ? call->peer : "");
  CaSessionConfig config = {
    .role = role,
    .cert = self->cert,
    .force_relay = self->config->force_relay,
    .ice_tcp = self->config->ice_tcp,
    .stun_address = self->stun_address,
    .stun_port = self->stun_port,
    .turn = self->turn,
    .n_turn = self->n_turn,
    .local_addresses = (const char *const *) self->config->local_addresses,
    .codecs = self->codecs,
    .n_codecs = self->n_codecs,
    .play_path = self->config->play_path,
    .record_path = self->config->record_path,
    .silent_source = self->config->silence,
    .zrtp_cache_path = zrtp_cache,
    .self_uri = self->config->aor,
    .peer_uri = peer,
    .local_sdp = session_sdp,
    .reoffer = session_reoffer,
    .state_changed = session_state,
    .user_data = call,
  };

  if (self->config->force_relay && self->n_turn == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "relay-only mode needs a TURN server, and the registrar gave none yet");
      return NULL;
    }
  return ca_session_new (&config, error);
}

static AgentCall *
new_call (CaAgent *self, gboolean outgoing)
{
  AgentCall *call = g_new0 (AgentCall, 1);

  call->agent = self;
  call->id = ++self->next_id;
  call->outgoing = outgoing;
  call->state = g_strdup (outgoing ? "dialing" : "incoming");
  g_hash_table_insert (self->calls, GUINT_TO_POINTER (call->id), call);
  return call;
}

/* ---- SIP ---- */

static void
incoming_call (CaAgent *self, guint sip_id, const char *sdp)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reject_error = NULL;
  AgentCall *call;

  if (count_live_calls (self) >= MAX_CALLS)
    {
      ca_sip_reject (self->sip, sip_id, 486, "too many calls", NULL);
      return;
    }
  call = new_call (self, FALSE);
  call->sip_id = sip_id;
  call->peer = g_strdup (ca_sip_call_get_peer (self->sip, sip_id));
  call->session = new_session (self, call, CA_SESSION_ANSWERER, &error);
  if (call->session == NULL || !ca_session_set_remote_sdp (call->session, sdp, &error))
    {
      guint status = call->session != NULL ? ca_session_error_sip_status (error) : 488;
      g_autofree char *reason = g_strdup_printf ("refused the offer: %s", error->message);

      if (!ca_sip_reject (self->sip, sip_id, status, reason, &reject_error))
        g_debug ("reject: %s", reject_error->message);
      set_call_state (call, "ended", reason);
      return;
    }
  if (self->control != NULL)
    ca_control_emit_incoming_call (self->control, call->id, call->peer ? call->peer : "");
  if (self->config->auto_answer)
    {
      call->answer_asked = TRUE;
      if (!ca_session_accept (call->session, &error))
        end_call_locally (call, 500, error->message);
      else
        maybe_send_answer (call);
    }
}

static void
sip_call_changed (CaSip *sip, guint sip_id, CaSipCallState state, guint status,
                  const char *reason, const char *sdp, gpointer user_data)
{
  CaAgent *self = user_data;
  AgentCall *call = find_by_sip (self, sip_id);
  g_autoptr (GError) error = NULL;

  if (state == CA_SIP_CALL_INCOMING)
    {
      if (call == NULL)
        incoming_call (self, sip_id, sdp);
      return;
    }
  if (call == NULL)
    return;
  switch (state)
    {
    case CA_SIP_CALL_CALLING:
      set_call_state (call, "calling", NULL);
      break;
    case CA_SIP_CALL_RINGING:
      set_call_state (call, "ringing", NULL);
      break;
    case CA_SIP_CALL_CONNECTED:
      if (call->outgoing && sdp != NULL && call->session != NULL
          && ca_session_get_state (call->session) == CA_SESSION_STATE_NEGOTIATING)
        {
          if (!ca_session_set_remote_sdp (call->session, sdp, &error))
            {
              g_autofree char *why = g_strdup_printf ("unusable answer: %s", error->message);

              end_call_locally (call, 488, why);
              return;
            }
        }
      if (g_strcmp0 (call->state, "active") != 0)
        set_call_state (call, "connecting", NULL);
      break;
    case CA_SIP_CALL_ENDED:
      {
        g_autofree char *why = g_strdup_printf ("%u %s", status, reason ? reason : "");

        set_call_state (call, "ended", why);
      }
      break;
    default:
      break;
    }
}

static void
sip_reoffer_changed (CaSip *sip, guint sip_id, CaSipReofferEvent event, guint status,
                     const char *sdp, gpointer user_data)
{
  CaAgent *self = user_data;
  AgentCall *call = find_by_sip (self, sip_id);
  g_autoptr (GError) error = NULL;

  switch (event)
    {
    case CA_SIP_REOFFER_OFFER:
      {
        g_autofree char *answer = call != NULL && call->session != NULL
                                      ? ca_session_answer_reoffer (call->session, sdp, &error)
                                      : NULL;
        g_autoptr (GError) reply_error = NULL;
        guint code;

        if (answer != NULL)
          code = 200;
        else if (error == NULL)
          code = 481; /* no such call here any more */
        else if (error->domain == CA_SESSION_ERROR)
          code = 491; /* not now: media not up yet, or our own offer is out */
        else
          code = ca_session_error_sip_status (error);
        if (error != NULL)
          g_message ("call %u: new offer refused (%u): %s", call->id, code, error->message);
        if (!ca_sip_reoffer_reply (sip, sip_id, code, answer, error ? error->message : NULL,
                                   &reply_error))
          g_debug ("re-INVITE reply: %s", reply_error->message);
      }
      break;
    case CA_SIP_REOFFER_ANSWERED:
      if (call != NULL && call->session != NULL
          && !ca_session_set_reanswer (call->session, sdp, &error))
        g_message ("call %u: the answer to our new offer is unusable: %s", call->id,
                   error->message);
      break;
    case CA_SIP_REOFFER_REFUSED:
      if (call != NULL && call->session != NULL)
        ca_session_reoffer_failed (call->session, status);
      break;
    default:
      break;
    }
}

static void
sip_reg_changed (CaSip *sip, CaSipRegState state, guint status, const char *phrase,
                 gpointer user_data)
{
  CaAgent *self = user_data;

  self->reg_state = state;
  g_free (self->reg_phrase);
  self->reg_phrase = status != 0 ? g_strdup_printf ("%u %s", status, phrase ? phrase : "")
                                 : g_strdup (phrase ? phrase : "");
  g_info ("registration: %s (%s)", ca_sip_reg_state_to_string (state), self->reg_phrase);
  if (state == CA_SIP_REG_REGISTERED)
    {
      GHashTableIter it;
      gpointer value;

      self->flow_suspect = FALSE;
      g_hash_table_iter_init (&it, self->calls);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          AgentCall *call = value;
          g_autofree char *sdp = g_steal_pointer (&call->queued_reoffer);

          if (sdp != NULL && !call_is_ended (call))
            send_reoffer (call, sdp);
        }
    }
}

static void
clear_turn (CaAgent *self)
{
  for (guint i = 0; i < self->n_turn; i++)
    {
      g_free (self->turn[i].address);
      g_free (self->turn[i].username);
      sotto_util_secret_free (self->turn[i].password);
    }
  self->n_turn = 0;
  g_clear_pointer (&self->stun_address, g_free);
}

typedef struct
{
  CaAgent *agent;
  CaTurnInfo *info;
  guint next; /* index into info->uris */
  GHashTable *resolved; /* host -> numeric address */
} TurnResolve;

static void resolve_next (TurnResolve *r);

static void
turn_resolve_free (TurnResolve *r)
{
  ca_turn_info_free (r->info);
  g_hash_table_unref (r->resolved);
  g_free (r);
}

static void
resolved_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  TurnResolve *r = user_data;
  g_autoptr (GError) error = NULL;
  GList *addrs = g_resolver_lookup_by_name_finish (G_RESOLVER (source), res, &error);
  const CaTurnUri *uri = &g_array_index (r->info->uris, CaTurnUri, r->next);

  if (addrs == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          turn_resolve_free (r);
          return;
        }
      g_warning ("TURN server %s: %s", uri->host, error->message);
      g_hash_table_insert (r->resolved, g_strdup (uri->host), g_strdup (""));
    }
  else
    {
      /* IPv4 first: libnice and coturn both serve it, and our lab is IPv4. */
      GInetAddress *pick = addrs->data;

      for (GList *l = addrs; l != NULL; l = l->next)
        if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
          {
            pick = l->data;
            break;
          }
      g_hash_table_insert (r->resolved, g_strdup (uri->host), g_inet_address_to_string (pick));
      g_resolver_free_addresses (addrs);
    }
  resolve_next (r);
}

static void
resolve_next (TurnResolve *r)
{
  CaAgent *self = r->agent;

  for (; r->next < r->info->uris->len; r->next++)
    {
      const CaTurnUri *uri = &g_array_index (r->info->uris, CaTurnUri, r->next);
      const char *addr;

      addr = g_hash_table_lookup (r->resolved, uri->host);
      if (addr == NULL)
        {
          g_resolver_lookup_by_name_async (g_resolver_get_default (), uri->host,
                                           self->resolving, resolved_cb, r);
          return;
        }
    }

  clear_turn (self);
  for (guint i = 0; i < r->info->uris->len && self->n_turn < MAX_TURN; i++)
    {
      const CaTurnUri *uri = &g_array_index (r->info->uris, CaTurnUri, i);
      const char *addr = g_hash_table_lookup (r->resolved, uri->host);
      CaIceTurnServer *t;

      if (addr == NULL || *addr == '\0')
        continue;
      t = &self->turn[self->n_turn++];
      t->address = g_strdup (addr);
      t->port = uri->port;
      /* libnice has no TLS for TURN (FACTS.md), but coturn answers plain TURN over TCP on its
       * TLS port too: a turns: URI still gets us through a firewall that only lets 5349 or 443
       * out. The allocation's metadata (the short-lived, opaque TURN user name) then crosses
       * in clear; the media inside is SRTP either way. */
      t->transport = uri->kind == CA_TURN_URI_UDP ? CA_ICE_TURN_UDP : CA_ICE_TURN_TCP;
      t->username = g_strdup (r->info->username);
      t->password = g_strdup (r->info->password);
    }
  /* No separate STUN server: libnice takes the server-reflexive candidate from the
   * XOR-MAPPED-ADDRESS of the UDP allocation. A Binding request sent to coturn from the socket
   * that already holds an allocation went unanswered, and gathering then waited for libnice's
   * STUN timeout (about 2 s) before the offer could leave (bench/README.md, "Calls"). */
  g_info ("TURN: %u relay server%s usable, valid for %u s", self->n_turn,
          self->n_turn == 1 ? "" : "s", r->info->ttl_s);
  turn_resolve_free (r);
}

static void
sip_turn_received (CaSip *sip, const char *value, gpointer user_data)
{
  CaAgent *self = user_data;
  g_autoptr (GError) error = NULL;
  CaTurnInfo *info = NULL;
  TurnResolve *r;

  if (!ca_turn_info_parse (value, &info, &error))
    {
      g_warning ("ignoring the registrar's TURN header: %s", error->message);
      return;
    }
  g_cancellable_cancel (self->resolving);
  g_clear_object (&self->resolving);
  self->resolving = g_cancellable_new ();
  r = g_new0 (TurnResolve, 1);
  r->agent = self;
  r->info = info;
  r->resolved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  resolve_next (r);
}

static void
network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  CaAgent *self = user_data;

  GHashTableIter it;
  gpointer value;
  gboolean moved = FALSE;

  /* A call whose local address went away restarts ICE with fresh candidates at once; its
   * re-INVITE waits for the registration below. */
  self->flow_suspect = TRUE;
  g_hash_table_iter_init (&it, self->calls);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      AgentCall *call = value;

      if (call->session != NULL && !call_is_ended (call))
        moved |= ca_session_network_changed (call->session);
    }
  if ((available || moved) && self->sip != NULL)
    {
      g_info ("network changed: registering again");
      /* a connection from an address that is gone is dead: do not let Sofia reuse it */
      ca_sip_shutdown_stale_connections ();
      ca_sip_reregister (self->sip);
    }
  else
    self->flow_suspect = FALSE;
}

/* ---- control backend ---- */

static GVariant *
backend_status (gpointer user_data)
{
  CaAgent *self = user_data;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "registration",
                         g_variant_new_string (ca_sip_reg_state_to_string (self->reg_state)));
  g_variant_builder_add (&b, "{sv}", "registration-detail",
                         g_variant_new_string (self->reg_phrase ? self->reg_phrase : ""));
  g_variant_builder_add (&b, "{sv}", "aor", g_variant_new_string (self->config->aor));
  g_variant_builder_add (&b, "{sv}", "registrar",
                         g_variant_new_string (self->config->registrar));
  g_variant_builder_add (&b, "{sv}", "turn-servers", g_variant_new_uint32 (self->n_turn));
  g_variant_builder_add (&b, "{sv}", "force-relay",
                         g_variant_new_boolean (self->config->force_relay));
  g_variant_builder_add (&b, "{sv}", "calls", g_variant_new_uint32 (count_live_calls (self)));
  g_variant_builder_add (&b, "{sv}", "dtls-fingerprint",
                         g_variant_new_string (ca_dtls_cert_get_fingerprint (self->cert)));
  return g_variant_builder_end (&b);
}

static guint
backend_call (gpointer user_data, const char *target, GError **error)
{
  CaAgent *self = user_data;
  AgentCall *call;
  guint id;

  if (self->reg_state != CA_SIP_REG_REGISTERED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "not registered (%s)",
                   ca_sip_reg_state_to_string (self->reg_state));
      return 0;
    }
  if (count_live_calls (self) >= MAX_CALLS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "too many calls");
      return 0;
    }
  call = new_call (self, TRUE);
  id = call->id;
  call->target = g_strdup (target);
  call->peer = g_strdup (target);
  call->session = new_session (self, call, CA_SESSION_OFFERER, error);
  if (call->session == NULL || !ca_session_start_offer (call->session, error))
    {
      g_hash_table_remove (self->calls, GUINT_TO_POINTER (id));
      return 0;
    }
  return id;
}

static AgentCall *
lookup_live (CaAgent *self, guint id, GError **error)
{
  AgentCall *call = g_hash_table_lookup (self->calls, GUINT_TO_POINTER (id));

  if (call == NULL || call_is_ended (call))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no call %u in progress", id);
      return NULL;
    }
  return call;
}

static gboolean
backend_answer (gpointer user_data, guint id, GError **error)
{
  CaAgent *self = user_data;
  AgentCall *call = lookup_live (self, id, error);

  if (call == NULL)
    return FALSE;
  if (call->outgoing || call->answer_asked)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "call %u is not waiting for an answer", id);
      return FALSE;
    }
  call->answer_asked = TRUE;
  if (!ca_session_accept (call->session, error))
    return FALSE;
  maybe_send_answer (call);
  return TRUE;
}

static gboolean
backend_hangup (gpointer user_data, guint id, GError **error)
{
  CaAgent *self = user_data;
  AgentCall *call = lookup_live (self, id, error);

  if (call == NULL)
    return FALSE;
  if (call->sip_id == 0)
    {
      set_call_state (call, "ended", "hung up before dialling");
      return TRUE;
    }
  if (!call->outgoing && !call->answered)
    {
      if (!ca_sip_reject (self->sip, call->sip_id, 603, "declined", error))
        return FALSE;
      set_call_state (call, "ended", "603 declined");
      return TRUE;
    }
  return ca_sip_hangup (self->sip, call->sip_id, NULL, error);
}

static gboolean
backend_verify (gpointer user_data, guint id, gboolean verified, GError **error)
{
  CaAgent *self = user_data;
  AgentCall *call = lookup_live (self, id, error);

  if (call == NULL)
    return FALSE;
  if (call->session == NULL || !ca_session_set_sas_verified (call->session, verified, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "call %u has no media session", id);
      return FALSE;
    }
  g_info ("call %u: the users %s the SAS", id, verified ? "confirmed" : "reset");
  return TRUE;
}

static void
add_call_fields (GVariantBuilder *b, const AgentCall *call)
{
  g_variant_builder_add (b, "{sv}", "id", g_variant_new_uint32 (call->id));
  g_variant_builder_add (b, "{sv}", "peer", g_variant_new_string (call->peer ? call->peer : ""));
  g_variant_builder_add (b, "{sv}", "direction",
                         g_variant_new_string (call->outgoing ? "outgoing" : "incoming"));
  g_variant_builder_add (b, "{sv}", "state", g_variant_new_string (call->state));
  g_variant_builder_add (b, "{sv}", "reason",
                         g_variant_new_string (call->reason ? call->reason : ""));
}

static gint
compare_ids (gconstpointer a, gconstpointer b)
{
  guint x = GPOINTER_TO_UINT (a), y = GPOINTER_TO_UINT (b);

  return x < y ? -1 : x > y;
}

static GVariant *
backend_list_calls (gpointer user_data)
{
  CaAgent *self = user_data;
  GVariantBuilder b;
  g_autoptr (GList) ids = g_list_sort (g_hash_table_get_keys (self->calls), compare_ids);

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (GList *l = ids; l != NULL; l = l->next)
    {
      const AgentCall *call = g_hash_table_lookup (self->calls, l->data);

      g_variant_builder_open (&b, G_VARIANT_TYPE_VARDICT);
      add_call_fields (&b, call);
      g_variant_builder_close (&b);
    }
  return g_variant_builder_end (&b);
}

static GVariant *
backend_call_info (gpointer user_data, guint id, GError **error)
{
  CaAgent *self = user_data;
  AgentCall *call = g_hash_table_lookup (self->calls, GUINT_TO_POINTER (id));
  GVariantBuilder b;

  if (call == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no call %u", id);
      return NULL;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  add_call_fields (&b, call);
  if (call->session != NULL)
    {
      g_autoptr (GVariant) info = g_variant_ref_sink (ca_session_get_info (call->session));
      GVariantIter it;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&it, info);
      while (g_variant_iter_next (&it, "{&sv}", &key, &value))
        {
          g_variant_builder_add (&b, "{sv}", key, value);
          g_variant_unref (value);
        }
    }
  return g_variant_builder_end (&b);
}

static const CaControlBackend backend = {
  .status = backend_status,
  .call = backend_call,
  .answer = backend_answer,
  .hangup = backend_hangup,
  .list_calls = backend_list_calls,
  .call_info = backend_call_info,
  .verify = backend_verify,
};

/* ---- life cycle ---- */

static gboolean
parse_codecs (CaAgent *self, GError **error)
{
  if (self->config->codecs == NULL)
    {
      self->codecs[self->n_codecs++] = CA_MEDIA_CODEC_OPUS;
      self->codecs[self->n_codecs++] = CA_MEDIA_CODEC_PCMU;
      return TRUE;
    }
  for (guint i = 0; self->config->codecs[i] != NULL; i++)
    {
      const char *name = self->config->codecs[i];
      CaMediaCodec c;

      if (g_ascii_strcasecmp (name, "opus") == 0)
        c = CA_MEDIA_CODEC_OPUS;
      else if (g_ascii_strcasecmp (name, "pcmu") == 0)
        c = CA_MEDIA_CODEC_PCMU;
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "unknown codec \"%s\" (opus, pcmu)", name);
          return FALSE;
        }
      for (guint j = 0; j < self->n_codecs; j++)
        if (self->codecs[j] == c)
          goto next;
      self->codecs[self->n_codecs++] = c;
    next:;
    }
  if (self->n_codecs == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no codec configured");
      return FALSE;
    }
  return TRUE;
}

CaAgent *
ca_agent_new (const CaConfig *config, const char *password, GError **error)
{
  g_autoptr (CaAgent) self = g_new0 (CaAgent, 1);
  g_autofree char *sip_dir = NULL;
  CaSipConfig sip = {
    .aor = config->aor,
    .registrar = config->registrar,
    .username = config->username,
    .password = password,
    .ca_file = config->ca_file,
    .reg_changed = sip_reg_changed,
    .turn_received = sip_turn_received,
    .call_changed = sip_call_changed,
    .reoffer_changed = sip_reoffer_changed,
  };

  self->calls = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) agent_call_free);
  g_queue_init (&self->ended);
  self->reg_state = CA_SIP_REG_IDLE;
  {
    /* The agent keeps its own copy of the configuration. */
    CaConfig *c = g_new0 (CaConfig, 1);

    c->aor = g_strdup (config->aor);
    c->registrar = g_strdup (config->registrar);
    c->username = g_strdup (config->username);
    c->password_file = g_strdup (config->password_file);
    c->ca_file = g_strdup (config->ca_file);
    c->force_relay = config->force_relay;
    c->silence = config->silence;
    c->play_path = g_strdup (config->play_path);
    c->record_path = g_strdup (config->record_path);
    c->local_addresses = g_strdupv (config->local_addresses);
    c->ice_tcp = config->ice_tcp;
    c->codecs = g_strdupv (config->codecs);
    c->auto_answer = config->auto_answer;
    c->state_dir = g_strdup (config->state_dir);
    c->control_socket = g_strdup (config->control_socket);
    c->session_bus = config->session_bus;
    c->log_level = g_strdup (config->log_level);
    self->config = c;
  }
  self->password = g_strdup (password);
  if (!parse_codecs (self, error))
    return NULL;
  if (g_mkdir_with_parents (config->state_dir, 0700) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create the state directory %s: %s", config->state_dir,
                   g_strerror (errno));
      return NULL;
    }
  self->cert = ca_dtls_cert_new (error);
  if (self->cert == NULL)
    return NULL;
  sip_dir = g_build_filename (config->state_dir, "sip-tls", NULL);
  sip.state_dir = sip_dir;
  sip.user_data = self;
  self->sip = ca_sip_new (&sip, error);
  if (self->sip == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
ca_agent_start (CaAgent *self, GError **error)
{
  if (self->config->control_socket != NULL || self->config->session_bus)
    {
      self->control = ca_control_new (&backend, self, self->config->control_socket,
                                      self->config->session_bus, error);
      if (self->control == NULL)
        return FALSE;
    }
  self->monitor = g_object_ref (g_network_monitor_get_default ());
  self->monitor_handler = g_signal_connect (self->monitor, "network-changed",
                                            G_CALLBACK (network_changed), self);
  return ca_sip_start (self->sip, error);
}

void
ca_agent_reregister (CaAgent *self)
{
  if (self->sip != NULL)
    ca_sip_reregister (self->sip);
}

void
ca_agent_shutdown (CaAgent *self, GSourceFunc done, gpointer user_data)
{
  GHashTableIter it;
  AgentCall *call;

  g_hash_table_iter_init (&it, self->calls);
  while (g_hash_table_iter_next (&it, NULL, (gpointer *) &call))
    if (!call_is_ended (call))
      {
        g_autoptr (GError) error = NULL;

        if (call->sip_id != 0 && !ca_sip_hangup (self->sip, call->sip_id, "agent stopped",
                                                 &error))
          g_debug ("hangup: %s", error->message);
        if (call->session != NULL)
          ca_session_close (call->session);
      }
  /* ca_sip_free unregisters with its own bounded wait; give BYEs a moment to leave. */
  g_timeout_add (300, done, user_data);
}

void
ca_agent_free (CaAgent *self)
{
  if (self == NULL)
    return;
  if (self->monitor != NULL)
    g_clear_signal_handler (&self->monitor_handler, self->monitor);
  g_clear_object (&self->monitor);
  if (self->resolving != NULL)
    g_cancellable_cancel (self->resolving);
  g_clear_object (&self->resolving);
  g_clear_pointer (&self->control, ca_control_free);
  g_clear_pointer (&self->calls, g_hash_table_unref);
  g_queue_clear (&self->ended);
  g_clear_pointer (&self->sip, ca_sip_free);
  g_clear_pointer (&self->cert, ca_dtls_cert_unref);
  clear_turn (self);
  g_free (self->reg_phrase);
  sotto_util_secret_free (self->password);
  g_clear_pointer (&self->config, ca_config_free);
  g_free (self);
}

/* sig-flows: the client TLS connections sotto-signald knows about.
 *
 * A flow is created on the first request that arrives on a connection. It enforces the
 * per-address connection limit and closes connections that do not authenticate in time.
 * Connections that never send anything are closed by tport's idle timer (TPTAG_IDLE), which
 * only fires while nobody else holds a reference: a flow holds one, so authenticated
 * connections are never idle-closed. The close notification comes from tport_pend() with no
 * message, which tport calls when the connection errors out or closes. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <netdb.h>

#include <sofia-sip/msg_addr.h>

#include "sig-server-priv.h"

/* "host|port" of a socket address, numeric: the same text for a tport's peer and for the
 * source address of a message that came on it. */
static char *
peer_key (const struct sockaddr *sa, socklen_t len)
{
  char host[NI_MAXHOST], port[NI_MAXSERV];

  if (sa == NULL
      || getnameinfo (sa, len, host, sizeof host, port, sizeof port,
                      NI_NUMERICHOST | NI_NUMERICSERV)
             != 0)
    return NULL;
  return g_strdup_printf ("%s|%s", host, port);
}

static void
addr_count_add (SigServer *server, const char *addr, int delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (server->flows_per_addr, addr));

  if (delta < 0 && n <= 1)
    g_hash_table_remove (server->flows_per_addr, addr);
  else
    g_hash_table_insert (server->flows_per_addr, g_strdup (addr),
                         GUINT_TO_POINTER (delta < 0 ? n - 1 : n + 1));
}

static void
flow_free (SigFlow *flow)
{
  g_clear_handle_id (&flow->unauth_timeout_id, g_source_remove);
  if (flow->tp)
    {
      if (flow->pendd > 0)
        tport_release (flow->tp, flow->pendd, NULL, NULL, (tp_client_t *) flow, 0);
      tport_unref (flow->tp);
    }
  g_ptr_array_unref (flow->bindings);
  g_free (flow->key);
  g_free (flow->addr);
  g_free (flow->peer);
  g_free (flow);
}

/* Forgets @flow: its bindings go, and its tport reference is dropped. */
static void
flow_remove (SigFlow *flow)
{
  SigServer *server = flow->server;

  if (flow->closed)
    return;
  flow->closed = TRUE;
  /* Make sure the connection is really gone, not just forgotten. */
  if (!tport_is_closed (flow->tp))
    tport_shutdown (flow->tp, 2);
  g_debug ("flow %" G_GUINT64_FORMAT " from %s closed", flow->id, flow->peer);
  sig_registrar_flow_closed (server, flow);
  addr_count_add (server, flow->addr, -1);
  if (flow->key)
    g_hash_table_remove (server->flows_by_peer, flow->key);
  g_hash_table_remove (server->flows_by_id, &flow->id);
  g_hash_table_remove (server->flows, flow->tp); /* frees */
}

static gboolean
flow_remove_idle (gpointer data)
{
  SigFlow *flow = data;

  flow->unauth_timeout_id = 0; /* this source; flow_free must not remove it again */
  flow_remove (flow);
  return G_SOURCE_REMOVE;
}

static void
flow_pending_error (tp_stack_t *stack, tp_client_t *client, tport_t *tp, msg_t *msg, int error)
{
  SigFlow *flow = (SigFlow *) client;

  /* tport reports here once per connection: when the peer closes the stream (with
   * TPTAG_SDWN_ERROR) or on a socket or TLS error, after which it is unusable either way. */
  if (flow->closed)
    return;
  /* We are inside tport's close path: drop our reference from the loop, not from here. */
  g_clear_handle_id (&flow->unauth_timeout_id, g_source_remove);
  flow->unauth_timeout_id = g_idle_add (flow_remove_idle, flow);
}

static gboolean
flow_unauth_timeout (gpointer data)
{
  SigFlow *flow = data;

  flow->unauth_timeout_id = 0;
  if (!flow->authenticated && !flow->closed)
    {
      g_info ("closing connection from %s: no authenticated request within %u s", flow->peer,
              flow->server->config->unauthenticated_timeout_s);
      tport_shutdown (flow->tp, 2);
      flow_remove (flow);
    }
  return G_SOURCE_REMOVE;
}

SigFlow *
sig_flows_get (SigServer *server, nta_incoming_t *irq, gboolean *refused)
{
  tport_t *tp = nta_incoming_transport (server->agent, irq, NULL);
  tp_name_t const *name;
  SigFlow *flow;
  guint count;

  *refused = FALSE;
  if (tp == NULL)
    {
      /* An ACK to a 2xx: nta keeps no transport for it (see FACTS), so find the connection
       * by the message's source address. */
      msg_t *msg = nta_incoming_getrequest (irq);
      su_addrinfo_t *ai = msg ? msg_addrinfo (msg) : NULL;
      g_autofree char *key = ai ? peer_key (ai->ai_addr, ai->ai_addrlen) : NULL;

      if (msg)
        msg_destroy (msg);
      flow = key ? g_hash_table_lookup (server->flows_by_peer, key) : NULL;
      return flow && !flow->closed && !flow->refused ? flow : NULL;
    }

  flow = g_hash_table_lookup (server->flows, tp);
  if (flow != NULL)
    {
      tport_unref (tp);
      if (flow->closed)
        return NULL;
      *refused = flow->refused;
      return flow;
    }
  if (!tport_is_secondary (tp) || tport_is_closed (tp))
    {
      tport_unref (tp);
      return NULL;
    }

  name = tport_name (tp);
  flow = g_new0 (SigFlow, 1);
  flow->server = server;
  flow->tp = tp; /* keeps the reference nta_incoming_transport gave us */
  flow->id = ++server->next_flow_id;
  flow->addr = g_strdup (name->tpn_host);
  flow->peer = g_strdup_printf ("%s:%s", name->tpn_host, name->tpn_port);
  flow->bindings = g_ptr_array_new ();

  {
    su_addrinfo_t const *ai = tport_get_address (tp);
    flow->key = ai ? peer_key (ai->ai_addr, ai->ai_addrlen) : NULL;
    if (flow->key)
      g_hash_table_insert (server->flows_by_peer, flow->key, flow);
  }
  count = GPOINTER_TO_UINT (g_hash_table_lookup (server->flows_per_addr, flow->addr));
  g_hash_table_insert (server->flows, tp, flow);
  g_hash_table_insert (server->flows_by_id, &flow->id, flow);
  addr_count_add (server, flow->addr, +1);

  if (count >= server->config->max_connections_per_address)
    {
      /* The caller answers 503 on this connection, then calls sig_flows_refuse(). Closing
       * first would make nta look for another way to send its answer. */
      g_warning ("refusing connection from %s: %u connections from that address already",
                 flow->peer, count);
      *refused = TRUE;
      return flow;
    }

  flow->pendd = tport_pend (tp, NULL, flow_pending_error, (tp_client_t *) flow);
  flow->unauth_timeout_id = g_timeout_add_seconds (server->config->unauthenticated_timeout_s,
                                                   flow_unauth_timeout, flow);
  g_debug ("flow %" G_GUINT64_FORMAT " from %s", flow->id, flow->peer);
  return flow;
}

SigFlow *
sig_flows_by_id (SigServer *server, guint64 id)
{
  SigFlow *flow = g_hash_table_lookup (server->flows_by_id, &id);

  if (flow == NULL || flow->closed || tport_is_closed (flow->tp) || tport_is_shutdown (flow->tp))
    return NULL;
  return flow;
}

void
sig_flows_refuse (SigFlow *flow)
{
  /* Close from the loop, not now: requests already read from this connection (a client may
   * pipeline several) must still get their 503 on it. Answering on a closed connection would
   * make nta look for another way to deliver the answer. */
  if (flow->refused)
    return;
  flow->refused = TRUE;
  g_clear_handle_id (&flow->unauth_timeout_id, g_source_remove);
  flow->unauth_timeout_id = g_idle_add (flow_remove_idle, flow);
}

void
sig_flows_authenticated (SigFlow *flow)
{
  if (flow == NULL || flow->authenticated)
    return;
  flow->authenticated = TRUE;
  g_clear_handle_id (&flow->unauth_timeout_id, g_source_remove);
}

void
sig_flows_close_all (SigServer *server)
{
  GHashTableIter it;
  gpointer value;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  g_hash_table_iter_init (&it, server->flows);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (all, value);
  for (guint i = 0; i < all->len; i++)
    {
      SigFlow *flow = all->pdata[i];
      tport_shutdown (flow->tp, 2);
      flow_remove (flow);
    }
}

void
sig_flows_free_all (SigServer *server)
{
  sig_flows_close_all (server);
}

GHashTable *
sig_flows_table_new (void)
{
  return g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) flow_free);
}

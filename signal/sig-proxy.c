/* sig-proxy: a stateful proxy between the domain's registered users (RFC 3261 §16).
 *
 * Every request leaves over the TLS connection the target opened (NTATAG_TPORT), never by
 * dialling a Contact address. Dialog-creating requests get a Record-Route that carries a MAC'd
 * token naming both parties' connections (sig-flow-token), so in-dialog requests find their
 * way back. Bodies are never parsed, rewritten or logged: the server does not look at SDP. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <string.h>

#include <sofia-sip/msg_header.h>
#include <sofia-sip/url.h>

#include "sig-flow-token.h"
#include "sig-server-priv.h"

typedef struct _SigProxyTx SigProxyTx;

typedef struct
{
  SigProxyTx *tx;
  nta_outgoing_t *orq;
  int status; /* 0 until final */
} SigBranch;

struct _SigProxyTx
{
  SigServer *server;
  nta_incoming_t *irq;
  GPtrArray *branches; /* SigBranch*, owned */
  msg_t *best;
  int best_status;
  guint pending;
  gboolean final_sent;
};

static void
tx_maybe_free (SigProxyTx *tx)
{
  if (!tx->final_sent || tx->pending > 0)
    return;
  for (guint i = 0; i < tx->branches->len; i++)
    {
      SigBranch *br = tx->branches->pdata[i];
      if (br->orq)
        nta_outgoing_destroy (br->orq);
      g_free (br);
    }
  g_ptr_array_unref (tx->branches);
  if (tx->best)
    msg_destroy (tx->best);
  if (tx->irq)
    nta_incoming_destroy (tx->irq);
  g_free (tx);
}

/* Sends a response received on a branch upstream, without our Via (§16.7 step 9). */
static void
forward_response (SigProxyTx *tx, msg_t *response)
{
  msg_t *msg = msg_copy (response);
  sip_t *sip = sip_object (msg);

  if (sip->sip_via)
    msg_header_remove (msg, (msg_pub_t *) sip, (msg_header_t *) sip->sip_via);
  if (nta_incoming_mreply (tx->irq, msg) < 0)
    g_debug ("could not forward a %d response", sip->sip_status->st_status);
}

static void
send_final (SigProxyTx *tx, msg_t *response, int status)
{
  tx->final_sent = TRUE;
  if (response && status != 503)
    forward_response (tx, response);
  else if (status == 503)
    /* §16.7 step 6: a 503 from downstream must not make the caller think we are down. */
    nta_incoming_treply (tx->irq, 500, "Downstream unavailable", TAG_END ());
  else
    nta_incoming_treply (tx->irq, status, NULL, TAG_END ());
  nta_incoming_destroy (tx->irq);
  tx->irq = NULL;
}

static void
cancel_others (SigProxyTx *tx, SigBranch *except)
{
  for (guint i = 0; i < tx->branches->len; i++)
    {
      SigBranch *br = tx->branches->pdata[i];
      if (br != except && br->orq && br->status == 0)
        nta_outgoing_tcancel (br->orq, NULL, NULL, TAG_END ());
    }
}

/* Lower is better: 6xx beat all, then the lowest class, 408 last within its class. */
static int
response_rank (int status)
{
  if (status >= 600)
    return 0;
  return status / 100 * 10 + (status == 408 ? 9 : status == 503 ? 8 : 0);
}

static int
branch_response (nta_outgoing_magic_t *magic, nta_outgoing_t *orq, const sip_t *sip)
{
  SigBranch *br = (SigBranch *) magic;
  SigProxyTx *tx = br->tx;
  int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status (orq);
  msg_t *response;

  if (status < 200)
    {
      if (status > 100 && !tx->final_sent)
        {
          response = nta_outgoing_getresponse (orq);
          if (response)
            {
              forward_response (tx, response);
              msg_destroy (response);
            }
        }
      return 0;
    }

  br->status = status;
  tx->pending--;
  response = nta_outgoing_getresponse (orq);

  if (status < 300)
    {
      /* §16.7 step 5: a 2xx goes upstream at once, and the other branches are cancelled. */
      if (!tx->final_sent)
        send_final (tx, response, status);
      cancel_others (tx, br);
    }
  else if (!tx->final_sent)
    {
      if (tx->best == NULL || response_rank (status) < response_rank (tx->best_status))
        {
          if (tx->best)
            msg_destroy (tx->best);
          tx->best = response ? msg_ref_create (response) : NULL;
          tx->best_status = status;
        }
      if (status >= 600)
        cancel_others (tx, br);
      if (tx->pending == 0 || status >= 600)
        send_final (tx, tx->best, tx->best_status);
    }
  if (response)
    msg_destroy (response);

  nta_outgoing_destroy (orq);
  br->orq = NULL;
  tx_maybe_free (tx);
  return 0;
}

static int
tx_cancelled (nta_incoming_magic_t *magic, nta_incoming_t *irq, const sip_t *sip)
{
  SigProxyTx *tx = (SigProxyTx *) magic;

  if (sip && sip->sip_request && sip->sip_request->rq_method == sip_method_cancel)
    {
      g_debug ("caller cancelled; cancelling %u branch(es)", tx->pending);
      cancel_others (tx, NULL);
    }
  return 0;
}

/* Decrements Max-Forwards in @msg; FALSE when it was already 0. */
static gboolean
decrement_max_forwards (msg_t *msg, sip_t *sip)
{
  unsigned long count = sip->sip_max_forwards ? sip->sip_max_forwards->mf_count : 70;
  g_autofree char *text = NULL;

  if (count == 0)
    return FALSE;
  text = g_strdup_printf ("%lu", MIN (count, 70UL) - 1);
  if (sip->sip_max_forwards)
    msg_header_remove (msg, (msg_pub_t *) sip, (msg_header_t *) sip->sip_max_forwards);
  sip_add_make (msg, sip, sip_max_forwards_class, text);
  return TRUE;
}

/* Credentials for our realm were for us: do not hand them to the callee. */
static void
remove_our_credentials (SigServer *server, msg_t *msg, sip_t *sip)
{
  msg_auth_t *au = sip->sip_proxy_authorization;

  while (au)
    {
      msg_auth_t *next = au->au_next;

      if (sig_auth_credentials_for_us (server, au))
        msg_header_remove (msg, (msg_pub_t *) sip, (msg_header_t *) au);
      au = next;
    }
}

static void
set_request_uri (msg_t *msg, sip_t *sip, const char *uri)
{
  sip_request_t *rq = sip_request_create (msg_home (msg), sip->sip_request->rq_method,
                                          sip->sip_request->rq_method_name,
                                          (url_string_t const *) uri, NULL);
  msg_header_replace (msg, (msg_pub_t *) sip, (msg_header_t *) sip->sip_request,
                      (msg_header_t *) rq);
}

static gboolean
creates_dialog (sip_method_t method)
{
  return method == sip_method_invite || method == sip_method_subscribe
         || method == sip_method_refer || method == sip_method_notify;
}

static SigProxyTx *
tx_new (SigServer *server, nta_incoming_t *irq)
{
  SigProxyTx *tx = g_new0 (SigProxyTx, 1);

  tx->server = server;
  tx->irq = irq;
  tx->branches = g_ptr_array_new ();
  nta_incoming_bind (irq, tx_cancelled, (nta_incoming_magic_t *) tx);
  return tx;
}

/* Copies the request in @irq, lets @edit adjust it, and sends it over @flow as a branch. */
static gboolean
tx_add_branch (SigProxyTx *tx, SigFlow *flow, const char *request_uri, const char *record_route)
{
  SigServer *server = tx->server;
  msg_t *orig = nta_incoming_getrequest (tx->irq);
  msg_t *msg = msg_copy (orig);
  sip_t *sip = sip_object (msg);
  SigBranch *br;

  msg_destroy (orig);
  if (request_uri)
    set_request_uri (msg, sip, request_uri);
  decrement_max_forwards (msg, sip);
  remove_our_credentials (server, msg, sip);
  if (record_route)
    {
      sip_record_route_t *rr = sip_record_route_make (msg_home (msg), record_route);
      msg_header_insert (msg, (msg_pub_t *) sip, (msg_header_t *) rr);
    }

  br = g_new0 (SigBranch, 1);
  br->tx = tx;
  br->orq = nta_outgoing_mcreate (server->agent, branch_response, (nta_outgoing_magic_t *) br,
                                  NULL, msg, NTATAG_TPORT (flow->tp), TAG_END ());
  if (br->orq == NULL)
    {
      msg_destroy (msg);
      g_free (br);
      return FALSE;
    }
  g_ptr_array_add (tx->branches, br);
  tx->pending++;
  return TRUE;
}

static char *
record_route_for (SigServer *server, const sip_t *sip, SigFlow *caller_flow, const char *caller,
                  SigFlow *callee_flow, const char *callee)
{
  SigFlowToken token = {
    .caller_flow = caller_flow->id,
    .callee_flow = callee_flow->id,
    .caller = (char *) caller,
    .callee = (char *) callee,
  };
  const char *ftag = sip->sip_from->a_tag;
  g_autofree char *st = sig_flow_token_encode (&token, ftag, server->token_key,
                                               sizeof server->token_key);

  return g_strdup_printf ("<sips:%s;lr;ftag=%s;st=%s>", server->rr_host, ftag, st);
}

/* True when a Via in the request is ours: the request has looped back (§16.3 step 4). */
static gboolean
is_loop (SigServer *server, const sip_t *sip)
{
  for (const sip_via_t *v = sip->sip_via; v; v = v->v_next)
    for (const sip_via_t *ours = nta_agent_via (server->agent); ours; ours = ours->v_next)
      if (v->v_host && ours->v_host && g_ascii_strcasecmp (v->v_host, ours->v_host) == 0
          && g_strcmp0 (v->v_port, ours->v_port) == 0 && v->v_branch
          && g_str_has_prefix (v->v_branch, "z9hG4bK"))
        return TRUE;
  return FALSE;
}

static void
handle_in_dialog (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow,
                  gboolean is_ack)
{
  const sip_route_t *route = sip->sip_route;
  const char *ftag = NULL, *st = NULL;
  char ftag_buf[256], st_buf[1024];
  g_autoptr (SigFlowToken) token = NULL;
  gboolean from_caller;
  guint64 sender_id, target_id;
  const char *sender_user, *target_user;
  SigFlow *target;
  SigProxyTx *tx;

  if (route && sig_server_is_us (server, route->r_url) && route->r_url->url_params)
    {
      const char *params = route->r_url->url_params;
      isize_t n;
      if ((n = url_param (params, "ftag", ftag_buf, sizeof ftag_buf)) > 0 && n < (isize_t) sizeof ftag_buf)
        ftag = ftag_buf;
      if ((n = url_param (params, "st", st_buf, sizeof st_buf)) > 0 && n < (isize_t) sizeof st_buf)
        st = st_buf;
    }
  if (st && ftag)
    token = sig_flow_token_decode (st, ftag, server->token_key, sizeof server->token_key);
  if (token == NULL)
    {
      if (!is_ack)
        nta_incoming_treply (irq, route ? 403 : 481,
                             route ? "Route not issued here" : "No such dialog", TAG_END ());
      return;
    }

  from_caller = g_strcmp0 (sip->sip_from->a_tag, ftag) == 0;
  sender_id = from_caller ? token->caller_flow : token->callee_flow;
  sender_user = from_caller ? token->caller : token->callee;
  target_id = from_caller ? token->callee_flow : token->caller_flow;
  target_user = from_caller ? token->callee : token->caller;

  /* Only a party of the dialog may use its route: the request must come on that party's
   * connection, or on a connection where that user has since registered. An ACK whose
   * connection cannot be found is dropped: it cannot be checked. */
  if (flow == NULL)
    {
      if (!is_ack)
        nta_incoming_treply (irq, 403, "Not a party of this dialog", TAG_END ());
      return;
    }
  if (flow->id != sender_id)
    {
      gboolean ok = FALSE;
      for (guint i = 0; i < flow->bindings->len && !ok; i++)
        ok = g_strcmp0 (((SigBinding *) flow->bindings->pdata[i])->user, sender_user) == 0;
      if (!ok)
        {
          nta_incoming_treply (irq, 403, "Not a party of this dialog", TAG_END ());
          return;
        }
    }

  target = sig_flows_by_id (server, target_id);
  if (target == NULL)
    {
      /* The other side reconnected: use its binding whose Contact is this Request-URI. */
      g_autoptr (GPtrArray) live = sig_registrar_lookup (server, target_user);
      su_home_t h[1] = { SU_HOME_INIT (h) };
      const char *ruri = url_as_string (h, sip->sip_request->rq_url);
      for (guint i = 0; i < live->len && target == NULL; i++)
        if (g_strcmp0 (((SigBinding *) live->pdata[i])->uri, ruri) == 0)
          target = ((SigBinding *) live->pdata[i])->flow;
      su_home_deinit (h);
    }
  if (target == NULL)
    {
      if (!is_ack)
        nta_incoming_treply (irq, 430, "Flow Failed", TAG_END ());
      return;
    }

  if (is_ack)
    {
      /* ACK to a 2xx is its own end-to-end transaction with no response (§13.2.2.4). */
      msg_t *orig = nta_incoming_getrequest (irq);
      msg_t *msg = msg_copy (orig);
      sip_t *s = sip_object (msg);
      nta_outgoing_t *orq;

      msg_destroy (orig);
      msg_header_remove (msg, (msg_pub_t *) s, (msg_header_t *) s->sip_route);
      if (!decrement_max_forwards (msg, s))
        {
          msg_destroy (msg);
          return;
        }
      orq = nta_outgoing_mcreate (server->agent, NULL, NULL, NULL, msg, NTATAG_TPORT (target->tp),
                                  TAG_END ());
      if (orq)
        nta_outgoing_destroy (orq);
      else
        msg_destroy (msg);
      return;
    }

  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    {
      nta_incoming_treply (irq, SIP_483_TOO_MANY_HOPS, TAG_END ());
      return;
    }

  tx = tx_new (server, irq);
  {
    msg_t *orig = nta_incoming_getrequest (irq);
    sip_t *os = sip_object (orig);
    /* Pop our Route from the stored request so the branch copy does not carry it. */
    msg_header_remove (orig, (msg_pub_t *) os, (msg_header_t *) os->sip_route);
    msg_destroy (orig);
  }
  if (!tx_add_branch (tx, target, NULL, NULL))
    {
      tx->final_sent = TRUE;
      nta_incoming_treply (irq, 500, "Could not forward", TAG_END ());
      nta_incoming_destroy (irq);
      tx->irq = NULL;
      tx_maybe_free (tx);
    }
}

static void
handle_out_of_dialog (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow)
{
  const url_t *ruri = sip->sip_request->rq_url;
  g_autofree char *user = NULL;
  g_autoptr (SigAccount) account = NULL;
  g_autoptr (GPtrArray) live = NULL;
  g_autoptr (GError) error = NULL;
  SigProxyTx *tx;
  guint sent = 0;

  if (flow == NULL)
    {
      nta_incoming_treply (irq, 400, "No connection", TAG_END ());
      return;
    }
  /* No open relay: only this domain's users are reachable through us. */
  if (!sig_server_is_local_domain (server, ruri) && !sig_server_is_us (server, ruri))
    {
      nta_incoming_treply (irq, 403, "Relaying denied", TAG_END ());
      return;
    }
  if (sip->sip_route)
    {
      nta_incoming_treply (irq, 403, "Relaying denied", TAG_END ());
      return;
    }
  if (ruri->url_user == NULL)
    {
      if (sip->sip_request->rq_method == sip_method_options)
        nta_incoming_treply (irq, SIP_200_OK, SIPTAG_ALLOW_STR (SIG_ALLOW), TAG_END ());
      else
        nta_incoming_treply (irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR (SIG_ALLOW),
                             TAG_END ());
      return;
    }
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
    {
      nta_incoming_treply (irq, SIP_483_TOO_MANY_HOPS, TAG_END ());
      return;
    }
  if (is_loop (server, sip))
    {
      nta_incoming_treply (irq, SIP_482_LOOP_DETECTED, TAG_END ());
      return;
    }
  if (sip->sip_from->a_tag == NULL)
    {
      nta_incoming_treply (irq, 400, "From tag required", TAG_END ());
      return;
    }

  if (!sig_auth_check (server, irq, sip, flow, TRUE, &user))
    return;
  if (sip->sip_from->a_url->url_user == NULL
      || g_ascii_strcasecmp (sip->sip_from->a_url->url_user, user) != 0
      || !sig_server_is_local_domain (server, sip->sip_from->a_url))
    {
      nta_incoming_treply (irq, 403, "From does not match your account", TAG_END ());
      return;
    }

  if (!sig_accounts_lookup (server->accounts, ruri->url_user, &account, &error))
    {
      g_warning ("account lookup failed: %s", error->message);
      nta_incoming_treply (irq, 500, "Account store unavailable", TAG_END ());
      return;
    }
  if (account == NULL || !account->enabled)
    {
      nta_incoming_treply (irq, SIP_404_NOT_FOUND, TAG_END ());
      return;
    }
  live = sig_registrar_lookup (server, account->username);
  if (live->len == 0)
    {
      nta_incoming_treply (irq, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END ());
      return;
    }

  tx = tx_new (server, irq);
  for (guint i = 0; i < live->len; i++)
    {
      SigBinding *b = live->pdata[i];
      g_autofree char *rr = NULL;

      if (b->flow == flow)
        continue; /* never back to the device that sent it */
      if (creates_dialog (sip->sip_request->rq_method))
        rr = record_route_for (server, sip, flow, user, b->flow, account->username);
      sent += tx_add_branch (tx, b->flow, b->uri, rr);
    }
  if (sent == 0)
    {
      tx->final_sent = TRUE;
      nta_incoming_treply (irq, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END ());
      nta_incoming_destroy (irq);
      tx->irq = NULL;
      tx_maybe_free (tx);
      return;
    }
  g_info ("%s %s -> %s: %u branch(es)", sip->sip_request->rq_method_name, user,
          account->username, sent);
}

void
sig_proxy_handle (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow)
{
  gboolean is_ack = sip->sip_request->rq_method == sip_method_ack;

  if (sip->sip_to && sip->sip_to->a_tag)
    handle_in_dialog (server, irq, sip, flow, is_ack);
  else if (is_ack)
    return; /* a stray ACK: nothing to do */
  else
    handle_out_of_dialog (server, irq, sip, flow);
}

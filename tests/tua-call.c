/* tua-call: INVITE dialogs for the test UA, both sides (RFC 3261 §9, §12, §13, §15, §17). */
#include "config.h"

#include "tua-priv.h"

#include <gio/gio.h>
#include <string.h>

struct _TuaCall
{
  TuaUa *ua;           /* borrowed */
  gboolean uac;
  TuaRequest *invite;  /* UAC: the INVITE as last sent */
  gboolean auth_tried;
  gboolean established;
  char *call_id;
  char *local;         /* From value of our requests, with our tag */
  char *remote;        /* To value of our requests, with the peer's tag once known */
  char *remote_target;
  GPtrArray *route_set;
  guint32 local_cseq;
};

static TuaCall *
call_alloc (TuaUa *ua)
{
  TuaCall *call = g_new0 (TuaCall, 1);

  call->ua = ua;
  call->route_set = g_ptr_array_new_with_free_func (g_free);
  return call;
}

void
tua_call_free (TuaCall *call)
{
  if (call == NULL)
    return;
  tua_request_free (call->invite);
  g_free (call->call_id);
  g_free (call->local);
  g_free (call->remote);
  g_free (call->remote_target);
  g_ptr_array_unref (call->route_set);
  g_free (call);
}

TuaCall *
tua_ua_invite_uri (TuaUa *ua, const char *request_uri, const char *sdp,
                   const char *extra_headers, GError **error)
{
  g_autoptr (TuaCall) call = call_alloc (ua);
  TuaRequest *req = tua_ua_new_request (ua, "INVITE", request_uri, NULL);

  call->invite = req;
  req->extra_headers = g_strdup (extra_headers);
  tua_request_set_body (req, sdp, -1);
  call->uac = TRUE;
  call->call_id = g_strdup (req->call_id);
  call->local = g_strdup (req->from);
  call->remote = g_strdup (req->to);
  call->remote_target = g_strdup (request_uri);
  call->local_cseq = req->cseq;
  if (!tua_ua_send (ua, req, error))
    return NULL;
  return g_steal_pointer (&call);
}

TuaCall *
tua_ua_invite (TuaUa *ua, const char *target_user, const char *sdp, GError **error)
{
  g_autofree char *uri = g_strdup_printf ("sips:%s@%s", target_user, ua->domain);

  return tua_ua_invite_uri (ua, uri, sdp, NULL, error);
}

TuaCall *
tua_call_new_uas (TuaUa *ua, const TuaMsg *invite)
{
  TuaCall *call = call_alloc (ua);
  const char *to = tua_msg_header (invite, "To");
  const char *contact = tua_msg_header (invite, "Contact");
  g_autofree char *to_tag = to ? tua_sip_param (to, "tag") : NULL;
  g_auto (GStrv) rr = tua_msg_headers (invite, "Record-Route");

  call->call_id = g_strdup (tua_msg_header (invite, "Call-ID"));
  call->remote = g_strdup (tua_msg_header (invite, "From"));
  call->local = to_tag ? g_strdup (to)
                       : g_strdup_printf ("%s;tag=%s", to ? to : "", tua_ua_local_tag_for (ua, invite));
  call->remote_target = contact ? tua_sip_uri (contact) : NULL;
  /* UAS route set: Record-Route in order (§12.1.1) */
  for (guint i = 0; rr[i]; i++)
    g_ptr_array_add (call->route_set, g_strdup (rr[i]));
  call->established = TRUE;
  return call;
}

/* §17.1.1.3: the ACK for a non-2xx final response is part of the INVITE transaction. */
static gboolean
ack_non_2xx (TuaCall *call, const TuaMsg *resp, GError **error)
{
  g_autoptr (TuaRequest) ack = tua_request_copy (call->invite);
  const char *to = tua_msg_header (resp, "To");

  g_free (ack->method);
  ack->method = g_strdup ("ACK");
  g_free (ack->to);
  ack->to = g_strdup (to ? to : call->invite->to);
  g_clear_pointer (&ack->contact, g_free);
  g_clear_pointer (&ack->authorization, g_free);
  g_clear_pointer (&ack->proxy_authorization, g_free);
  g_clear_pointer (&ack->extra_headers, g_free);
  tua_request_set_body (ack, NULL, 0);
  return tua_ua_send (call->ua, ack, error);
}

static void
establish (TuaCall *call, const TuaMsg *resp)
{
  const char *to = tua_msg_header (resp, "To");
  const char *contact = tua_msg_header (resp, "Contact");
  g_auto (GStrv) rr = tua_msg_headers (resp, "Record-Route");
  guint n = g_strv_length (rr);

  if (to)
    {
      g_free (call->remote);
      call->remote = g_strdup (to);
    }
  if (contact)
    {
      g_free (call->remote_target);
      call->remote_target = tua_sip_uri (contact);
    }
  /* UAC route set: Record-Route reversed (§12.1.2) */
  g_ptr_array_set_size (call->route_set, 0);
  for (guint i = n; i > 0; i--)
    g_ptr_array_add (call->route_set, g_strdup (rr[i - 1]));
  call->local_cseq = MAX (call->local_cseq, call->invite->cseq);
  call->established = TRUE;
}

gboolean
tua_call_authenticate (TuaCall *call, const TuaMsg *challenge, GError **error)
{
  g_return_val_if_fail (call->uac, FALSE);
  if (!tua_ua_answer_challenge (call->ua, call->invite, challenge, error))
    return FALSE;
  tua_ua_prepare_retry (call->ua, call->invite);
  call->local_cseq = call->invite->cseq;
  return tua_ua_send (call->ua, call->invite, error);
}

static TuaMsg *
wait_invite_response (TuaCall *call, gboolean final_only, guint timeout_ms, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_return_val_if_fail (call->uac, NULL);
  for (;;)
    {
      gint64 left = MAX (0, (deadline - g_get_monotonic_time ()) / 1000);
      g_autoptr (TuaMsg) resp = tua_ua_wait_response (call->ua, call->invite, (guint) left, error);

      if (resp == NULL)
        return NULL;
      if (resp->status >= 300)
        {
          if (!ack_non_2xx (call, resp, error))
            return NULL;
          if ((resp->status == 401 || resp->status == 407) && call->ua->auto_auth &&
              !call->auth_tried)
            {
              call->auth_tried = TRUE;
              if (!tua_call_authenticate (call, resp, error))
                return NULL;
              continue;
            }
        }
      else if (resp->status >= 200)
        establish (call, resp);
      else if (final_only)
        continue;
      return g_steal_pointer (&resp);
    }
}

TuaMsg *
tua_call_wait_response (TuaCall *call, guint timeout_ms, GError **error)
{
  return wait_invite_response (call, FALSE, timeout_ms, error);
}

TuaMsg *
tua_call_wait_final (TuaCall *call, guint timeout_ms, GError **error)
{
  return wait_invite_response (call, TRUE, timeout_ms, error);
}

TuaRequest *
tua_call_new_request (TuaCall *call, const char *method)
{
  const char *target = call->remote_target ? call->remote_target : "sips:invalid";
  TuaRequest *req = tua_ua_new_request (call->ua, method, target, NULL);

  g_free (req->from);
  req->from = g_strdup (call->local);
  g_free (req->to);
  req->to = g_strdup (call->remote);
  g_free (req->call_id);
  req->call_id = g_strdup (call->call_id);
  req->cseq = ++call->local_cseq;
  if (call->route_set->len > 0)
    {
      g_autofree char *first = tua_sip_uri (g_ptr_array_index (call->route_set, 0));
      g_autofree char *lr = first ? tua_sip_uri_param (first, "lr") : NULL;

      if (lr != NULL || first == NULL)
        for (guint i = 0; i < call->route_set->len; i++)
          g_ptr_array_add (req->routes, g_strdup (g_ptr_array_index (call->route_set, i)));
      else
        {
          /* strict routing (§12.2.1.1): first route becomes the Request-URI */
          g_free (req->request_uri);
          req->request_uri = g_steal_pointer (&first);
          for (guint i = 1; i < call->route_set->len; i++)
            g_ptr_array_add (req->routes, g_strdup (g_ptr_array_index (call->route_set, i)));
          g_ptr_array_add (req->routes, g_strdup_printf ("<%s>", target));
        }
    }
  return req;
}

gboolean
tua_call_ack (TuaCall *call, const char *sdp, GError **error)
{
  g_autoptr (TuaRequest) ack = NULL;

  g_return_val_if_fail (call->uac && call->established, FALSE);
  ack = tua_call_new_request (call, "ACK");
  call->local_cseq--; /* an ACK takes the INVITE's number, not a new one */
  ack->cseq = call->invite->cseq;
  /* §13.2.2.4: the ACK carries the INVITE's credentials */
  ack->authorization = g_strdup (call->invite->authorization);
  ack->proxy_authorization = g_strdup (call->invite->proxy_authorization);
  tua_request_set_body (ack, sdp, -1);
  return tua_ua_send (call->ua, ack, error);
}

TuaMsg *
tua_call_cancel (TuaCall *call, GError **error)
{
  g_autoptr (TuaRequest) cancel = NULL;

  g_return_val_if_fail (call->uac, NULL);
  /* §9.1: same Request-URI, Call-ID, To, From, CSeq number, branch and Route as the INVITE */
  cancel = tua_request_copy (call->invite);
  g_free (cancel->method);
  cancel->method = g_strdup ("CANCEL");
  g_clear_pointer (&cancel->contact, g_free);
  g_clear_pointer (&cancel->authorization, g_free);
  g_clear_pointer (&cancel->proxy_authorization, g_free);
  g_clear_pointer (&cancel->extra_headers, g_free);
  tua_request_set_body (cancel, NULL, 0);
  if (!tua_ua_send (call->ua, cancel, error))
    return NULL;
  return tua_ua_wait_final (call->ua, cancel, call->ua->timeout_ms, error);
}

TuaMsg *
tua_call_bye (TuaCall *call, GError **error)
{
  g_autoptr (TuaRequest) bye = tua_call_new_request (call, "BYE");
  TuaMsg *resp = tua_ua_transaction (call->ua, bye, error);

  call->local_cseq = MAX (call->local_cseq, bye->cseq);
  return resp;
}

gboolean tua_call_is_established (TuaCall *call) { return call->established; }
const TuaRequest *tua_call_invite (TuaCall *call) { return call->invite; }
const char *tua_call_remote_target (TuaCall *call) { return call->remote_target; }
const GPtrArray *tua_call_route_set (TuaCall *call) { return call->route_set; }

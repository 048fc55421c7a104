/* ca-sip-call: INVITE sessions on nua with opaque bodies (RFC 3261 §13-15, RFC 3326).
 *
 * Every call reaches ENDED exactly once, with a status and a sentence: from a final
 * response, a BYE or CANCEL, nua terminating the session, or, when nothing comes back, from
 * our own deadlines (no answer within CALL_RING_TIMEOUT_S; no reply to our CANCEL or BYE
 * within CALL_HANGUP_WAIT_MS). nua's own INVITE timers (Timer B: 32 s without any response)
 * end a call whose INVITE got no answer at all. */
#define G_LOG_DOMAIN "sotto-agent"
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include "ca-sip-priv.h"

#define CALL_RING_TIMEOUT_S 120
#define CALL_HANGUP_WAIT_MS 8000
#define MAX_AUTH_ATTEMPTS 2
#define MAX_REASON_LEN 120

void
ca_sip_call_free (CaSipCall *call)
{
  if (call->timer_id)
    ca_sip_timeout_clear (call->sip, &call->timer_id);
  if (call->nh)
    {
      nua_handle_bind (call->nh, NULL);
      nua_handle_destroy (call->nh);
    }
  g_free (call->peer);
  g_free (call);
}

/* Printable ASCII without quotes or backslashes, so it fits a quoted-string. */
static char *
sanitize (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; p && *p && out->len < MAX_REASON_LEN; p++)
    if (g_ascii_isprint (*p) && *p != '"' && *p != '\\')
      g_string_append_c (out, *p);
  return g_string_free (out, FALSE);
}

static const char *
status_sentence (guint status)
{
  switch (status)
    {
    case 200: return "the call ended";
    case 404: return "no such user";
    case 408: return "no answer";
    case 480: return "the user is not online";
    case 486: return "the user is busy";
    case 487: return "the call was cancelled";
    case 488: return "the call's media was not acceptable";
    case 503: return "the server is unavailable";
    case 603: return "the call was declined";
    default: return status >= 200 && status < 300 ? "the call ended" : "the call failed";
    }
}

/* The peer's own words, from a Reason (RFC 3326) or Warning (RFC 3261 §20.43) header. */
static char *
peer_text (const sip_t *msg)
{
  if (msg && msg->sip_reason && msg->sip_reason->re_text)
    {
      const char *t = msg->sip_reason->re_text;
      g_autofree char *unq = t[0] == '"' ? g_strndup (t + 1, MAX (strlen (t), 2) - 2)
                                         : g_strdup (t);
      return sanitize (unq);
    }
  if (msg && msg->sip_warning && msg->sip_warning->w_text)
    {
      const char *t = msg->sip_warning->w_text;
      g_autofree char *unq = t[0] == '"' ? g_strndup (t + 1, MAX (strlen (t), 2) - 2)
                                         : g_strdup (t);
      return sanitize (unq);
    }
  return NULL;
}

static char *
describe (guint status, const char *phrase, const char *sentence, const sip_t *msg)
{
  g_autofree char *text = peer_text (msg);
  g_autofree char *safe_phrase = sanitize (phrase);

  if (sentence == NULL)
    sentence = status_sentence (status);
  if (text && *text)
    return g_strdup_printf ("%s: %s", sentence, text);
  if (status && *safe_phrase)
    return g_strdup_printf ("%s (%u %s)", sentence, status, safe_phrase);
  return g_strdup (sentence);
}

static gboolean
transition_ok (CaSipCallState from, CaSipCallState to)
{
  switch (to)
    {
    case CA_SIP_CALL_RINGING: return from == CA_SIP_CALL_CALLING;
    case CA_SIP_CALL_CONNECTED:
      return from == CA_SIP_CALL_CALLING || from == CA_SIP_CALL_RINGING
             || from == CA_SIP_CALL_INCOMING;
    case CA_SIP_CALL_ENDED: return from != CA_SIP_CALL_ENDED;
    case CA_SIP_CALL_INCOMING: return from == CA_SIP_CALL_LAST; /* announced once, when new */
    default: return FALSE;
    }
}

/* The one place a call changes state. ENDED removes (and frees) the call after the callback. */
static void
call_set_state (CaSipCall *call, CaSipCallState state, guint status, const char *reason,
                const char *sdp)
{
  CaSip *sip = call->sip;
  guint id = call->id;

  if (!transition_ok (call->state, state))
    return;
  g_info ("call %u %s -> %s (%u %s)", id,
          call->state == CA_SIP_CALL_LAST ? "new" : ca_sip_call_state_to_string (call->state),
          ca_sip_call_state_to_string (state), status, reason ? reason : "");
  call->state = state;
  if (state == CA_SIP_CALL_ENDED || state == CA_SIP_CALL_CONNECTED)
    ca_sip_timeout_clear (sip, &call->timer_id);
  if (sip->call_changed)
    sip->call_changed (sip, id, state, status, reason, sdp, sip->user_data);
  if (state == CA_SIP_CALL_ENDED)
    g_hash_table_remove (sip->calls, GUINT_TO_POINTER (id));
}

static void
end_call (CaSipCall *call, guint status, const char *phrase, const char *sentence,
          const sip_t *msg)
{
  g_autofree char *reason = describe (status, phrase, sentence, msg);

  call_set_state (call, CA_SIP_CALL_ENDED, status, reason, NULL);
}

/* The body of @msg as a string, when it is SDP. */
static char *
sdp_body (const sip_t *msg)
{
  if (msg == NULL || msg->sip_payload == NULL || msg->sip_payload->pl_len == 0)
    return NULL;
  if (msg->sip_content_type && msg->sip_content_type->c_type
      && g_ascii_strcasecmp (msg->sip_content_type->c_type, "application/sdp") != 0)
    return NULL;
  return g_strndup (msg->sip_payload->pl_data, msg->sip_payload->pl_len);
}

static guint
allocate_id (CaSip *sip)
{
  while (sip->next_call_id == 0
         || g_hash_table_contains (sip->calls, GUINT_TO_POINTER (sip->next_call_id)))
    sip->next_call_id++;
  return sip->next_call_id++;
}

static CaSipCall *
call_new (CaSip *sip, nua_handle_t *nh, const char *peer, gboolean outgoing,
          CaSipCallState state)
{
  CaSipCall *call = g_new0 (CaSipCall, 1);

  call->sip = sip;
  call->id = allocate_id (sip);
  call->nh = nh;
  call->peer = g_strdup (peer);
  call->outgoing = outgoing;
  call->state = state;
  g_hash_table_insert (sip->calls, GUINT_TO_POINTER (call->id), call);
  return call;
}

static gboolean
hangup_deadline (gpointer data)
{
  CaSipCall *call = data;

  call->timer_id = 0;
  if (call->state == CA_SIP_CALL_CONNECTED)
    end_call (call, 200, NULL, "hung up (the peer did not confirm)", NULL);
  else
    end_call (call, 487, NULL, "cancelled (the server did not confirm)", NULL);
  return G_SOURCE_REMOVE;
}

static char *
reason_header (const char *protocol, guint cause, const char *reason)
{
  g_autofree char *text = sanitize (reason);

  return g_strdup_printf ("%s;cause=%u;text=\"%s\"", protocol, cause, text);
}

/* CANCEL or BYE; ENDED comes from the reply or from the deadline. */
static void
send_hangup (CaSipCall *call, const char *reason)
{
  g_autofree char *rh = reason ? reason_header ("Q.850", 16, reason) : NULL;

  call->hangup_sent = TRUE;
  if (call->state == CA_SIP_CALL_CONNECTED)
    nua_bye (call->nh, TAG_IF (rh, SIPTAG_REASON_STR (rh)), TAG_END ());
  else
    nua_cancel (call->nh, TAG_IF (rh, SIPTAG_REASON_STR (rh)), TAG_END ());
  ca_sip_timeout_clear (call->sip, &call->timer_id);
  call->timer_id = ca_sip_timeout_add (call->sip, CALL_HANGUP_WAIT_MS, hangup_deadline, call);
}

static void
send_reject (CaSipCall *call, guint status, const char *reason)
{
  g_autofree char *rh = reason ? reason_header ("SIP", status, reason) : NULL;
  g_autofree char *text = reason ? sanitize (reason) : NULL;
  g_autofree char *warning = reason ? g_strdup_printf ("399 %s \"%s\"", call->sip->domain, text)
                                    : NULL;

  nua_respond (call->nh, (int) status, sip_status_phrase ((int) status),
               TAG_IF (rh, SIPTAG_REASON_STR (rh)), TAG_IF (warning, SIPTAG_WARNING_STR (warning)),
               TAG_END ());
}

static gboolean
ring_timeout (gpointer data)
{
  CaSipCall *call = data;

  call->timer_id = 0;
  if (call->outgoing)
    {
      send_hangup (call, "no answer");
      return G_SOURCE_REMOVE;
    }
  send_reject (call, 480, "no answer");
  end_call (call, 408, NULL, "not answered in time", NULL);
  return G_SOURCE_REMOVE;
}

/* ---- events -------------------------------------------------------------------------------- */

static void
on_incoming_invite (CaSip *sip, nua_handle_t *nh, const sip_t *msg)
{
  g_autofree char *sdp = sdp_body (msg);
  su_home_t home[1] = { SU_HOME_INIT (home) };
  g_autofree char *peer = NULL;
  CaSipCall *call;

  if (msg && msg->sip_from)
    peer = g_strdup (url_as_string (home, msg->sip_from->a_url));
  su_home_deinit (home);
  if (sdp == NULL)
    {
      /* Offers in the 200 OK (an INVITE without a body) are not supported. */
      nua_respond (nh, 488, "An SDP offer is required", TAG_END ());
      nua_handle_destroy (nh);
      return;
    }
  call = call_new (sip, nh, peer, FALSE, CA_SIP_CALL_LAST); /* LAST: not yet announced */
  nua_handle_bind (nh, call);
  nua_respond (nh, SIP_180_RINGING, TAG_END ());
  call->timer_id = ca_sip_timeout_add (sip, CALL_RING_TIMEOUT_S * 1000, ring_timeout, call);
  g_info ("call %u: INVITE from %s", call->id, peer ? peer : "?");
  call_set_state (call, CA_SIP_CALL_INCOMING, 0, "incoming call", sdp);
}

/* A 401/407 to our INVITE or re-INVITE: TRUE when it was answered with credentials. */
static gboolean
authenticate (CaSipCall *call, int status, const sip_t *msg)
{
  g_autofree char *cred = NULL;

  if ((status != 401 && status != 407) || msg == NULL || call->auth_attempts >= MAX_AUTH_ATTEMPTS)
    return FALSE;
  cred = ca_sip_credentials (call->sip, msg);
  if (cred == NULL)
    return FALSE;
  call->auth_attempts++;
  nua_authenticate (call->nh, NUTAG_AUTH (cred), TAG_END ());
  OPENSSL_cleanse (cred, strlen (cred));
  return TRUE;
}

/* ---- re-INVITEs (RFC 3261 §14) ---- */

static void
report_reoffer (CaSipCall *call, CaSipReofferEvent event, guint status, const char *sdp)
{
  CaSip *sip = call->sip;

  g_info ("call %u: re-INVITE %s (%u)", call->id,
          event == CA_SIP_REOFFER_OFFER      ? "from the peer"
          : event == CA_SIP_REOFFER_ANSWERED ? "answered"
                                             : "refused",
          status);
  if (sip->reoffer_changed)
    sip->reoffer_changed (sip, call->id, event, status, sdp, sip->user_data);
}

static void
on_incoming_reinvite (CaSipCall *call, const sip_t *msg)
{
  g_autofree char *sdp = sdp_body (msg);

  if (call->state != CA_SIP_CALL_CONNECTED || call->hangup_sent)
    {
      nua_respond (call->nh, SIP_491_REQUEST_PENDING, TAG_END ());
      return;
    }
  if (sdp == NULL || call->sip->reoffer_changed == NULL)
    {
      /* An offer in our 200 (a re-INVITE without a body) is not supported either. */
      nua_respond (call->nh, 488, sdp == NULL ? "An SDP offer is required"
                                              : "Not Acceptable Here", TAG_END ());
      return;
    }
  call->reoffer_in = TRUE;
  report_reoffer (call, CA_SIP_REOFFER_OFFER, 0, sdp);
}

static void
on_reoffer_response (CaSipCall *call, int status, const char *phrase, const sip_t *msg)
{
  g_autofree char *sdp = NULL;

  if (authenticate (call, status, msg))
    return;
  if (status < 200)
    return;
  call->reoffer_out = FALSE;
  sdp = status < 300 ? sdp_body (msg) : NULL;
  if (sdp != NULL)
    report_reoffer (call, CA_SIP_REOFFER_ANSWERED, (guint) status, sdp);
  else
    report_reoffer (call, CA_SIP_REOFFER_REFUSED, status < 300 ? 488 : (guint) status, NULL);
}

/* ---- the first INVITE ---- */

static void
on_invite_response (CaSipCall *call, int status, const char *phrase, const sip_t *msg)
{
  if (call->reoffer_out)
    {
      on_reoffer_response (call, status, phrase, msg);
      return;
    }
  if (authenticate (call, status, msg))
    return;
  if (status == 180 || status == 183)
    call_set_state (call, CA_SIP_CALL_RINGING, (guint) status, phrase, NULL);
  else if (status >= 200 && status < 300)
    {
      g_autofree char *sdp = sdp_body (msg);
      if (call->hangup_sent)
        {
          /* Answered while our CANCEL was on its way: hang up properly (RFC 3261 §9.1). */
          call->state = CA_SIP_CALL_CONNECTED;
          send_hangup (call, "cancelled");
          return;
        }
      if (sdp == NULL)
        {
          call->state = CA_SIP_CALL_CONNECTED;
          send_hangup (call, "the answer had no SDP");
          return;
        }
      call_set_state (call, CA_SIP_CALL_CONNECTED, (guint) status, phrase, sdp);
    }
  else if (status >= 300)
    end_call (call, (guint) status, phrase, NULL, msg);
}

void
ca_sip_call_event (CaSip *sip, nua_event_t event, int status, const char *phrase,
                   nua_handle_t *nh, CaSipCall *call, const sip_t *msg, tagi_t tags[])
{
  if (event == nua_i_invite && call == NULL)
    {
      on_incoming_invite (sip, nh, msg);
      return;
    }
  if (call == NULL)
    return;
  if (event == nua_i_invite)
    {
      on_incoming_reinvite (call, msg);
      return;
    }

  switch (event)
    {
    case nua_r_invite:
      on_invite_response (call, status, phrase, msg);
      break;
    case nua_r_authenticate:
      if (status >= 300)
        end_call (call, (guint) status, phrase, "could not authenticate to the server", NULL);
      break;
    case nua_i_ack:
      if (!call->outgoing)
        call_set_state (call, CA_SIP_CALL_CONNECTED, 200, "answered", NULL);
      break;
    case nua_i_cancel:
      end_call (call, 487, NULL, "the caller cancelled", msg);
      break;
    case nua_i_bye:
      end_call (call, 200, NULL, "the peer hung up", msg);
      break;
    case nua_r_bye:
      end_call (call, 200, NULL, "hung up", NULL);
      break;
    case nua_i_state:
      {
        int cs = nua_callstate_init;
        tl_gets (tags, NUTAG_CALLSTATE_REF (cs), TAG_END ());
        if (cs == nua_callstate_terminated)
          end_call (call, status >= 200 ? (guint) status : 0, phrase,
                    call->state == CA_SIP_CALL_CONNECTED ? "the call ended" : NULL, NULL);
      }
      break;
    case nua_i_terminated:
      end_call (call, status >= 200 ? (guint) status : 0, phrase, "the call ended", NULL);
      break;
    default:
      break;
    }
}

void
ca_sip_calls_end_all (CaSip *sip, guint status, const char *reason, gboolean keep_connected)
{
  g_autoptr (GList) ids = g_hash_table_get_keys (sip->calls);

  for (GList *l = ids; l; l = l->next)
    {
      CaSipCall *call = g_hash_table_lookup (sip->calls, l->data);
      if (call == NULL)
        continue;
      if (keep_connected && call->state == CA_SIP_CALL_CONNECTED)
        continue;
      if (call->state == CA_SIP_CALL_CONNECTED)
        nua_bye (call->nh, TAG_END ());
      else if (call->state == CA_SIP_CALL_INCOMING)
        send_reject (call, 480, reason);
      else
        nua_cancel (call->nh, TAG_END ());
      end_call (call, status, NULL, reason, NULL);
    }
}

/* ---- API ----------------------------------------------------------------------------------- */

static CaSipCall *
find_call (CaSip *sip, guint call_id, GError **error)
{
  CaSipCall *call = g_hash_table_lookup (sip->calls, GUINT_TO_POINTER (call_id));

  if (call == NULL || call->state == CA_SIP_CALL_ENDED)
    {
      ca_sip_set_error_arg (error, "no call %u", call_id);
      return NULL;
    }
  return call;
}

/* "bob" -> sips:bob@our-domain; a full URI must be sips:user@host. */
static char *
target_uri (CaSip *sip, const char *target, GError **error)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  g_autofree char *uri = strchr (target, ':') ? g_strdup (target)
                                              : g_strdup_printf ("sips:%s@%s", target,
                                                                 sip->domain);
  url_t *url = url_hdup (home, (url_t *) url_make (home, uri));
  gboolean ok = url && url->url_type == url_sips && url->url_user && *url->url_user
                && url->url_host && !url->url_headers;

  for (const char *p = uri; ok && *p; p++)
    ok = g_ascii_isgraph (*p) && *p != '<' && *p != '>' && *p != '"';
  su_home_deinit (home);
  if (!ok)
    {
      ca_sip_set_error_arg (error, "'%s' is not a user or a sips:user@domain URI", target);
      return NULL;
    }
  return g_steal_pointer (&uri);
}

guint
ca_sip_call (CaSip *sip, const char *target, const char *sdp_offer, GError **error)
{
  g_autofree char *uri = NULL;
  nua_handle_t *nh;
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL && target != NULL, 0);
  if (sdp_offer == NULL || *sdp_offer == '\0')
    {
      ca_sip_set_error_arg (error, "a call needs an SDP offer");
      return 0;
    }
  if (sip->reg_state != CA_SIP_REG_REGISTERED)
    {
      ca_sip_set_error_arg (error, "not registered (%s)",
                            ca_sip_reg_state_to_string (sip->reg_state));
      return 0;
    }
  uri = target_uri (sip, target, error);
  if (uri == NULL)
    return 0;
  nh = nua_handle (sip->nua, NULL, SIPTAG_TO_STR (uri), TAG_END ());
  call = call_new (sip, nh, uri, TRUE, CA_SIP_CALL_CALLING);
  nua_handle_bind (nh, call);
  nua_invite (nh, SIPTAG_CONTENT_TYPE_STR ("application/sdp"), SIPTAG_PAYLOAD_STR (sdp_offer),
              TAG_END ());
  call->timer_id = ca_sip_timeout_add (sip, CALL_RING_TIMEOUT_S * 1000, ring_timeout, call);
  g_info ("call %u: INVITE to %s", call->id, uri);
  return call->id;
}

gboolean
ca_sip_answer (CaSip *sip, guint call_id, const char *sdp_answer, GError **error)
{
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL, FALSE);
  call = find_call (sip, call_id, error);
  if (call == NULL)
    return FALSE;
  if (call->state != CA_SIP_CALL_INCOMING)
    return ca_sip_set_error_arg (error, "call %u is %s, not incoming", call_id,
                                 ca_sip_call_state_to_string (call->state));
  if (sdp_answer == NULL || *sdp_answer == '\0')
    return ca_sip_set_error_arg (error, "an answer needs SDP");
  nua_respond (call->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
               SIPTAG_PAYLOAD_STR (sdp_answer), TAG_END ());
  return TRUE;
}

gboolean
ca_sip_reject (CaSip *sip, guint call_id, guint status, const char *reason, GError **error)
{
  CaSipCall *call;
  g_autofree char *text = NULL;

  g_return_val_if_fail (sip != NULL, FALSE);
  call = find_call (sip, call_id, error);
  if (call == NULL)
    return FALSE;
  if (call->state != CA_SIP_CALL_INCOMING)
    return ca_sip_set_error_arg (error, "call %u is %s, not incoming", call_id,
                                 ca_sip_call_state_to_string (call->state));
  if (status < 300 || status > 699)
    return ca_sip_set_error_arg (error, "%u is not a final error status", status);
  send_reject (call, status, reason);
  text = reason ? g_strdup_printf ("rejected here: %s", reason) : g_strdup ("rejected here");
  end_call (call, status, NULL, text, NULL);
  return TRUE;
}

gboolean
ca_sip_hangup (CaSip *sip, guint call_id, const char *reason, GError **error)
{
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL, FALSE);
  call = find_call (sip, call_id, error);
  if (call == NULL)
    return FALSE;
  if (call->hangup_sent)
    return TRUE;
  if (call->state == CA_SIP_CALL_INCOMING)
    {
      send_reject (call, 603, reason);
      end_call (call, 603, NULL, "declined here", NULL);
      return TRUE;
    }
  send_hangup (call, reason);
  return TRUE;
}

gboolean
ca_sip_reoffer (CaSip *sip, guint call_id, const char *sdp_offer, GError **error)
{
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL, FALSE);
  call = find_call (sip, call_id, error);
  if (call == NULL)
    return FALSE;
  if (call->state != CA_SIP_CALL_CONNECTED || call->hangup_sent)
    return ca_sip_set_error_arg (error, "call %u is %s, not connected", call_id,
                                 ca_sip_call_state_to_string (call->state));
  if (call->reoffer_out || call->reoffer_in)
    return ca_sip_set_error_arg (error, "call %u has a re-INVITE in progress", call_id);
  if (sdp_offer == NULL || *sdp_offer == '\0')
    return ca_sip_set_error_arg (error, "a re-INVITE needs an SDP offer");
  call->reoffer_out = TRUE;
  call->auth_attempts = 0;
  nua_invite (call->nh, SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
              SIPTAG_PAYLOAD_STR (sdp_offer), TAG_END ());
  g_info ("call %u: re-INVITE sent", call->id);
  return TRUE;
}

gboolean
ca_sip_reoffer_reply (CaSip *sip, guint call_id, guint status, const char *sdp_answer,
                      const char *reason, GError **error)
{
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL, FALSE);
  call = find_call (sip, call_id, error);
  if (call == NULL)
    return FALSE;
  if (!call->reoffer_in)
    return ca_sip_set_error_arg (error, "call %u has no re-INVITE to answer", call_id);
  if (status >= 200 && status < 300)
    {
      if (sdp_answer == NULL || *sdp_answer == '\0')
        return ca_sip_set_error_arg (error, "an answer needs SDP");
      nua_respond (call->nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR ("application/sdp"),
                   SIPTAG_PAYLOAD_STR (sdp_answer), TAG_END ());
    }
  else if (status >= 300 && status <= 699)
    send_reject (call, status, reason);
  else
    return ca_sip_set_error_arg (error, "%u is not a final status", status);
  call->reoffer_in = FALSE;
  return TRUE;
}

const char *
ca_sip_call_get_peer (CaSip *sip, guint call_id)
{
  CaSipCall *call;

  g_return_val_if_fail (sip != NULL, NULL);
  call = g_hash_table_lookup (sip->calls, GUINT_TO_POINTER (call_id));
  return call ? call->peer : NULL;
}

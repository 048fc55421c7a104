/* ca-sip-reg: the registration (RFC 3261 §10, RFC 5626 §4.2) and its life over time.
 *
 * nua refreshes before expiry and re-registers at once when it sees the connection close.
 * What it does not do is decide what a failure means; here:
 *  - 2xx: REGISTERED; the X-Sotto-Turn header of the 200 goes up as it is;
 *  - 401/407: answered once per challenge with our credentials (a second challenge in a row
 *    means they were refused), 403 and other final refusals: FAILED, no retry;
 *  - 408, 480, 5xx (also the 503 nta makes up when it cannot connect or TLS verification
 *    fails) and nua's internal errors: RETRYING, then a new REGISTER on a new handle after
 *    1 s, 2 s, 4 s ... 60 s, each with ±20 % jitter (RFC 5626 §4.5).
 * The flow itself is kept with RFC 5626 CRLF keepalives every keepalive_s (ca-sip.c; our
 * Sofia-SIP's patch 9005 gives TLS the keepalive timer Debian's lacks). On top of that, every
 * OPTIONS_EVERY keepalives an OPTIONS to the domain checks that the server, not just the TCP
 * connection, still answers: it needs no authentication, and no answer within nta's timeout
 * counts as a lost flow. */
#define G_LOG_DOMAIN "sotto-agent"
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "ca-sip-priv.h"

#define RETRY_BASE_MS 1000
#define OPTIONS_EVERY 4
#define RETRY_MAX_MS 60000
#define MAX_AUTH_ATTEMPTS 2
/* When TLS verification fails, Sofia closes the connection without failing the REGISTER
 * queued on it, which then waits for Timer F (32 s). A registrar answers far sooner. */
#define REGISTER_TIMEOUT_MS 10000

static void
set_reg_state (CaSip *sip, CaSipRegState state, guint status, const char *phrase)
{
  CaSipRegState old = sip->reg_state;

  if (old == state && state != CA_SIP_REG_RETRYING)
    return; /* a refresh: nothing changed for the user */
  sip->reg_state = state;
  g_info ("registration %s -> %s (%u %s)", ca_sip_reg_state_to_string (old),
          ca_sip_reg_state_to_string (state), status, phrase ? phrase : "");
  if (sip->reg_changed)
    sip->reg_changed (sip, state, status, phrase, sip->user_data);
}

static void retry_later (CaSip *sip, guint status, const char *phrase);

static gboolean
register_timed_out (gpointer data)
{
  CaSip *sip = data;

  sip->reg_timeout_id = 0;
  retry_later (sip, 0, "no answer from the server (no connection, or its certificate "
                       "was refused)");
  return G_SOURCE_REMOVE;
}

static void
send_register (CaSip *sip)
{
  if (sip->reg_nh)
    nua_handle_destroy (sip->reg_nh);
  sip->reg_auth_attempts = 0;
  sip->reg_nh = nua_handle (sip->nua, NULL, SIPTAG_TO_STR (sip->aor), TAG_END ());
  nua_register (sip->reg_nh, TAG_END ());
  ca_sip_timeout_clear (sip, &sip->reg_timeout_id);
  sip->reg_timeout_id = ca_sip_timeout_add (sip, REGISTER_TIMEOUT_MS, register_timed_out, sip);
}

static gboolean
retry_fired (gpointer data)
{
  CaSip *sip = data;

  sip->retry_id = 0;
  g_info ("registering again (attempt %u)", sip->retry_count + 1);
  send_register (sip);
  return G_SOURCE_REMOVE;
}

static void
stop_ping (CaSip *sip)
{
  ca_sip_timeout_clear (sip, &sip->ping_id);
  if (sip->ping_nh)
    nua_handle_destroy (sip->ping_nh);
  sip->ping_nh = NULL;
}

/* RETRYING: calls still being set up cannot complete without the flow they were sent on and
 * end; established calls go on, since their media never touched the server. A new REGISTER
 * is sent after the back-off. */
static void
retry_later (CaSip *sip, guint status, const char *phrase)
{
  guint shift = MIN (sip->retry_count, 6u);
  guint delay = MIN ((guint) RETRY_BASE_MS << shift, (guint) RETRY_MAX_MS);

  delay = (guint) (delay * g_random_double_range (0.8, 1.2));
  sip->retry_count++;
  stop_ping (sip);
  ca_sip_timeout_clear (sip, &sip->reg_timeout_id);
  if (sip->reg_nh)
    nua_handle_destroy (sip->reg_nh);
  sip->reg_nh = NULL;
  ca_sip_timeout_clear (sip, &sip->retry_id);
  sip->retry_id = ca_sip_timeout_add (sip, delay, retry_fired, sip);
  g_info ("registration lost or refused (%u %s); retrying in %u ms", status,
          phrase ? phrase : "", delay);
  ca_sip_calls_end_all (sip, status ? status : 503, "the connection to the server was lost",
                        TRUE);
  set_reg_state (sip, CA_SIP_REG_RETRYING, status, phrase);
}

static void
fail (CaSip *sip, guint status, const char *phrase)
{
  stop_ping (sip);
  ca_sip_timeout_clear (sip, &sip->reg_timeout_id);
  if (sip->reg_nh)
    nua_handle_destroy (sip->reg_nh);
  sip->reg_nh = NULL;
  ca_sip_timeout_clear (sip, &sip->retry_id);
  set_reg_state (sip, CA_SIP_REG_FAILED, status, phrase);
}

static gboolean
ping_fired (gpointer data)
{
  CaSip *sip = data;
  g_autofree char *domain_uri = g_strdup_printf ("sips:%s", sip->domain);

  sip->ping_id = 0;
  if (sip->ping_nh)
    nua_handle_destroy (sip->ping_nh);
  sip->ping_nh = nua_handle (sip->nua, NULL, NUTAG_URL (domain_uri), SIPTAG_TO_STR (domain_uri),
                             TAG_END ());
  nua_options (sip->ping_nh, TAG_END ());
  return G_SOURCE_REMOVE;
}

static void
schedule_ping (CaSip *sip)
{
  ca_sip_timeout_clear (sip, &sip->ping_id);
  sip->ping_id = ca_sip_timeout_add (sip, sip->keepalive_s * 1000 * OPTIONS_EVERY, ping_fired,
                                     sip);
}

static void
deliver_turn (CaSip *sip, const sip_t *msg)
{
  for (const sip_unknown_t *u = msg ? msg->sip_unknown : NULL; u; u = u->un_next)
    if (u->un_name && g_ascii_strcasecmp (u->un_name, "X-Sotto-Turn") == 0 && u->un_value)
      {
        /* Holds a TURN password: handed up, never logged. */
        if (sip->turn_received)
          sip->turn_received (sip, u->un_value, sip->user_data);
        return;
      }
}

static gboolean
is_transient (int status)
{
  return status == 408 || status == 480 || (status >= 500 && status < 600) || status >= 700;
}

static void
on_register (CaSip *sip, int status, const char *phrase, const sip_t *msg)
{
  if (status < 200)
    return;
  ca_sip_timeout_clear (sip, &sip->reg_timeout_id);
  if (status < 300)
    {
      sip->reg_auth_attempts = 0;
      sip->retry_count = 0;
      set_reg_state (sip, CA_SIP_REG_REGISTERED, (guint) status, phrase);
      deliver_turn (sip, msg);
      schedule_ping (sip);
      return;
    }
  if ((status == 401 || status == 407) && msg)
    {
      g_autofree char *cred = NULL;

      if (sip->reg_auth_attempts >= MAX_AUTH_ATTEMPTS)
        {
          fail (sip, (guint) status, "the server refused our credentials");
          return;
        }
      cred = ca_sip_credentials (sip, msg);
      if (cred == NULL)
        {
          fail (sip, (guint) status, "challenged by a realm that is not our domain");
          return;
        }
      sip->reg_auth_attempts++;
      sip->reg_timeout_id = ca_sip_timeout_add (sip, REGISTER_TIMEOUT_MS, register_timed_out,
                                                sip);
      nua_authenticate (sip->reg_nh, NUTAG_AUTH (cred), TAG_END ());
      OPENSSL_cleanse (cred, strlen (cred));
      return;
    }
  if (is_transient (status))
    retry_later (sip, (guint) status, phrase);
  else
    fail (sip, (guint) status, phrase);
}

static void
on_ping (CaSip *sip, int status, const char *phrase)
{
  if (status < 200)
    return;
  if (sip->ping_nh)
    nua_handle_destroy (sip->ping_nh);
  sip->ping_nh = NULL;
  /* Any answer from the server proves the flow alive; only silence or a transport error
   * (408 from Timer F, 503 from nta) means it is gone. */
  if ((status == 408 || status == 503 || status >= 700) && sip->reg_state == CA_SIP_REG_REGISTERED)
    {
      retry_later (sip, 0, "the server stopped answering");
      return;
    }
  if (sip->reg_state == CA_SIP_REG_REGISTERED)
    schedule_ping (sip);
}

void
ca_sip_reg_event (CaSip *sip, nua_event_t event, int status, const char *phrase,
                  nua_handle_t *nh, const sip_t *msg)
{
  switch (event)
    {
    case nua_r_register:
      on_register (sip, status, phrase, msg);
      break;
    case nua_r_unregister:
      if (status >= 200)
        sip->unregister_done = TRUE;
      break;
    case nua_r_options:
      on_ping (sip, status, phrase);
      break;
    case nua_r_authenticate:
      /* nua could not answer the challenge (e.g. 904 No matching challenge: no algorithm
       * it supports). Retrying would only fail the same way. */
      if (status >= 300 && nh == sip->reg_nh)
        fail (sip, (guint) status, phrase);
      break;
    default:
      break;
    }
}

gboolean
ca_sip_start (CaSip *sip, GError **error)
{
  g_return_val_if_fail (sip != NULL, FALSE);

  if (sip->started)
    return ca_sip_set_error_arg (error, "already started");
  sip->started = TRUE;
  sip->retry_count = 0;
  send_register (sip);
  set_reg_state (sip, CA_SIP_REG_REGISTERING, 0, NULL);
  return TRUE;
}

void
ca_sip_reregister (CaSip *sip)
{
  g_return_if_fail (sip != NULL);

  if (!sip->started)
    return;
  stop_ping (sip);
  ca_sip_timeout_clear (sip, &sip->retry_id);
  sip->retry_count = 0;
  send_register (sip);
  set_reg_state (sip, CA_SIP_REG_REGISTERING, 0, "network change");
}

CaSipRegState
ca_sip_get_reg_state (CaSip *sip)
{
  g_return_val_if_fail (sip != NULL, CA_SIP_REG_IDLE);
  return sip->reg_state;
}

/* Before shutdown: stop timers and remove our binding if there is one (the caller waits for
 * unregister_done with a deadline, then calls ca_sip_reg_release). A REGISTER still waiting
 * for an answer is dropped: nua_shutdown would wait for its Timer F. */
void
ca_sip_reg_stop (CaSip *sip)
{
  stop_ping (sip);
  ca_sip_timeout_clear (sip, &sip->reg_timeout_id);
  ca_sip_timeout_clear (sip, &sip->retry_id);
  if (sip->reg_nh && sip->reg_state == CA_SIP_REG_REGISTERED)
    {
      sip->unregistering = TRUE;
      nua_unregister (sip->reg_nh, TAG_END ());
    }
  else
    ca_sip_reg_release (sip);
}

void
ca_sip_reg_release (CaSip *sip)
{
  if (sip->reg_nh)
    nua_handle_destroy (sip->reg_nh);
  sip->reg_nh = NULL;
}

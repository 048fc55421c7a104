/* ca-session-restart: ICE restarts in an established call (RFC 8445 §9, RFC 8839 §4.4.1.1.1).
 *
 * When a NAT drops or rebinds the mapping a call runs on, the selected pair stops carrying
 * anything in one or both directions. Each side notices silence (nothing at all from the peer:
 * RTP flows every 20 ms, RTCP every few seconds) or libnice's consent expiry (RFC 7675), and
 * restarts ICE: new ufrag and password, a new offer in a re-INVITE, new checks from the
 * candidates both sides have now, which find the new mapping as a peer-reflexive candidate.
 *
 * The DTLS association, SRTP keys and ZRTP result stay: an ICE restart does not need a new
 * DTLS handshake (RFC 8842 §4, same fingerprint, same roles), so a description that changes
 * the fingerprint or the DTLS roles is refused rather than silently ignored. So is a change of
 * codec or payload type: the audio pipeline keeps running as it is.
 *
 * A peer on hold sends no RTP: then silence means nothing, and only consent decides. Once a
 * played file has ended we send RTP keepalives (RFC 6263 §4.6), so our own silence is never
 * taken for a broken path.
 *
 * Who restarts: the caller after RESTART_SILENCE_CALLER_MS, the callee later, so that usually
 * one side does; when both offer at once, nua answers 491 to the second re-INVITE and the
 * loser retries after RFC 3261 §14.1's delay. A restart that brought nothing back is repeated
 * every RESTART_RETRY_MS; after MEDIA_GIVE_UP_MS of silence the call fails (RFC 7675 §5.1's
 * 30 s). */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include <string.h>

#include "ca-session-priv.h"
#include "sotto-util.h"

#define WATCH_MS                   500
#define RESTART_SILENCE_CALLER_MS  2000
#define RESTART_SILENCE_CALLEE_MS  4000
#define RESTART_RETRY_MS           6000
#define MEDIA_GIVE_UP_MS           30000
#define RESTART_FAILED_RETRY_MS    1000 /* e.g. no address yet after a network change */
/* RFC 6263 §4.6: an RTP packet of a payload type the session does not use. 20 is unassigned
 * (RFC 3551 §6), never one we offer. */
#define KEEPALIVE_PT               20
#define RTP_HEADER                 12

static gboolean
is_caller (const CaSession *self)
{
  return self->role == CA_SESSION_OFFERER;
}

/* Our restart offer, with the ICE agent's new credentials (and candidates). */
static gboolean
send_restart_offer (CaSession *self, GError **out_error)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CaSdpMedia) m = NULL;
  g_autofree char *text = NULL;

  /* actpass, as JSEP does for every subsequent offer; the answer must keep the roles. */
  m = ca_session_build_local (self, CA_SDP_SETUP_ACTPASS, self->zrtp_wanted, &self->codec, 1);
  if (m != NULL)
    {
      /* the payload type in use, not our default */
      g_array_index (m->codecs, CaSdpCodec, 0).pt = self->pt;
      text = ca_sdp_build_offer (m, &error);
    }
  if (text == NULL)
    {
      GError *e = g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                               "building the ICE restart offer: %s",
                               error != NULL ? error->message : "our fingerprint is unusable");

      g_propagate_error (out_error, g_error_copy (e));
      ca_session_fail (self, e);
      return FALSE;
    }
  g_clear_pointer (&self->pending, ca_sdp_media_free);
  self->pending = g_steal_pointer (&m);
  ca_session_ref (self);
  if (!self->detached)
    self->reoffer (self, text, self->user_data);
  ca_session_unref (self);
  return TRUE;
}

/* With @regather, fresh candidates first (this host's addresses changed, or a plain restart
 * brought nothing back); the offer then goes when they are gathered. */
static gboolean
start_restart (CaSession *self, const char *why, gboolean regather, GError **error)
{
  if (regather ? !ca_ice_regather (self->ice, error) : !ca_ice_restart (self->ice, error))
    return FALSE;
  self->restart_us = g_get_monotonic_time ();
  self->restarts++;
  g_message ("ICE restart %u%s: %s", self->restarts, regather ? " with new candidates" : "",
             why);
  if (regather)
    {
      self->regathering = TRUE;
      return TRUE;
    }
  return send_restart_offer (self, error);
}

void
ca_session_restart_gathered (CaSession *self)
{
  g_autoptr (GError) error = NULL;

  self->regathering = FALSE;
  if (self->state == CA_SESSION_STATE_ACTIVE && !send_restart_offer (self, &error))
    g_message ("ICE restart offer: %s", error->message);
}

/* A peer that holds the call (sendonly from us, inactive) sends no RTP; its silence is not a
 * broken path. Then only consent (RFC 7675) says so. */
static gboolean
peer_sends (const CaSession *self)
{
  return self->remote != NULL
         && (self->remote->direction == CA_SDP_DIRECTION_SENDRECV
             || self->remote->direction == CA_SDP_DIRECTION_SENDONLY);
}

/* After a played file, the send pipeline has ended and no RTP leaves; a peer would take the
 * silence for a broken path. An SRTP-protected RTP keepalive every WATCH_MS, numbered after
 * our last packet, says the path is alive (RFC 6263 §4.6); receivers drop its payload type. */
static void
send_keepalive (CaSession *self)
{
  guint8 buf[RTP_HEADER + CA_SRTP_MAX_TRAILER] = { 0x80, KEEPALIVE_PT };
  CaSrtp *srtp = self->dtls != NULL ? ca_dtls_get_srtp (self->dtls) : NULL;
  gsize len = RTP_HEADER;
  guint16 seq;
  guint32 ts = g_htonl (self->last_ts), ssrc = g_htonl (self->ssrc);

  if (srtp == NULL || !self->have_sent)
    return;
  self->last_seq++;
  seq = g_htons (self->last_seq);
  memcpy (buf + 2, &seq, sizeof seq);
  memcpy (buf + 4, &ts, sizeof ts);
  memcpy (buf + 8, &ssrc, sizeof ssrc);
  if (ca_srtp_protect (srtp, buf, &len, sizeof buf, NULL))
    ca_ice_send (self->ice, buf, len);
}

void
ca_session_restart_note_sent (CaSession *self, const guint8 *rtp, gsize len)
{
  CaRtpInfo info;

  if (!ca_rtcp_read_rtp (rtp, len, &info))
    return;
  self->have_sent = TRUE;
  self->last_seq = info.seq;
  self->last_ts = info.timestamp;
  self->ssrc = info.ssrc;
}

gboolean
ca_session_is_keepalive (CaSession *self, const guint8 *rtp, gsize len)
{
  return len >= RTP_HEADER && (rtp[1] & 0x7f) != self->pt;
}

static gboolean
watch_tick (gpointer data)
{
  CaSession *self = data;
  gint64 now = g_get_monotonic_time ();
  gint64 silent_ms = (now - self->last_rx_us) / 1000;
  gboolean ice_down = ca_ice_get_state (self->ice) == CA_ICE_STATE_DISCONNECTED;
  gint64 threshold = is_caller (self) ? RESTART_SILENCE_CALLER_MS : RESTART_SILENCE_CALLEE_MS;
  g_autofree char *why = NULL;
  g_autoptr (GError) error = NULL;

  /* sotto_util_source_clear, not an unref: ca_session_restart_ice_down() calls this outside
   * the source's dispatch too, and the source must not stay attached to a finished session */
  if (self->state != CA_SESSION_STATE_ACTIVE)
    {
      sotto_util_source_clear (&self->watchdog);
      return G_SOURCE_REMOVE;
    }
  if (self->source_ended && !ice_down)
    send_keepalive (self);
  if (silent_ms >= MEDIA_GIVE_UP_MS && (peer_sends (self) || ice_down))
    {
      sotto_util_source_clear (&self->watchdog);
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_ICE,
                                          "no media path: nothing from the peer for %d s "
                                          "(%u ICE restarts)",
                                          MEDIA_GIVE_UP_MS / 1000, self->restarts));
      return G_SOURCE_REMOVE;
    }
  if (!ice_down && (silent_ms < threshold || !peer_sends (self)))
    return G_SOURCE_CONTINUE;
  if (self->pending != NULL || self->regathering || now < self->retry_at_us
      || (self->restart_us != 0 && now - self->restart_us < RESTART_RETRY_MS * 1000))
    return G_SOURCE_CONTINUE;
  why = ice_down ? g_strdup ("consent to send was lost")
                 : g_strdup_printf ("nothing from the peer for %" G_GINT64_FORMAT " ms",
                                    silent_ms);
  /* Fresh candidates when our address is gone, or when the last restart brought nothing. */
  if (!start_restart (self, why,
                      ca_ice_local_base_gone (self->ice)
                          || (self->restart_us != 0 && self->last_rx_us < self->restart_us),
                      &error))
    {
      g_message ("ICE restart not possible: %s", error->message);
      self->retry_at_us = now + RESTART_FAILED_RETRY_MS * 1000;
    }
  return G_SOURCE_CONTINUE;
}

void
ca_session_restart_watch (CaSession *self)
{
  self->last_rx_us = g_get_monotonic_time ();
  if (self->watchdog != NULL)
    return;
  self->watchdog = g_timeout_source_new (WATCH_MS);
  g_source_set_callback (self->watchdog, watch_tick, self, NULL);
  g_source_attach (self->watchdog, self->context);
}

void
ca_session_restart_ice_down (CaSession *self)
{
  /* at once, not at the next tick; the same rules (one restart in flight) apply */
  if (self->watchdog != NULL)
    watch_tick (self);
}

void
ca_session_restart_clear (CaSession *self)
{
  sotto_util_source_clear (&self->watchdog);
}

gboolean
ca_session_restart_ice (CaSession *self, const char *why, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  if (self->state != CA_SESSION_STATE_ACTIVE || self->reoffer == NULL)
    {
      g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_ICE,
                   "no ICE restart in state %s%s", ca_session_state_to_string (self->state),
                   self->reoffer == NULL ? " without a way to send the offer" : "");
      return FALSE;
    }
  if (self->pending != NULL || self->regathering)
    {
      g_set_error_literal (error, CA_SESSION_ERROR, CA_SESSION_ERROR_ICE,
                           "an ICE restart is under way already");
      return FALSE;
    }
  return start_restart (self, why != NULL ? why : "asked for", FALSE, error);
}

gboolean
ca_session_network_changed (CaSession *self)
{
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  if (self->state != CA_SESSION_STATE_ACTIVE || self->reoffer == NULL || self->pending != NULL
      || self->regathering || !ca_ice_local_base_gone (self->ice))
    return FALSE;
  if (!start_restart (self, "this host's address on the call's path is gone", TRUE, &error))
    g_message ("ICE restart not possible: %s", error->message);
  return TRUE;
}

/* ---- checks on a new description ---- */

/* Same DTLS association (fingerprint), codec and payload type as the call has. */
static gboolean
check_same_call (CaSession *self, const CaSdpMedia *remote, GError **error)
{
  const CaSdpCodec *c;

  if (!remote->has_fingerprint
      || memcmp (remote->fingerprint, self->remote->fingerprint, sizeof remote->fingerprint)
           != 0)
    {
      g_set_error_literal (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_FINGERPRINT,
                           "the DTLS fingerprint changed mid-call: a new DTLS association is not "
                           "supported");
      return FALSE;
    }
  c = ca_sdp_media_find_codec (remote, ca_session_codec_kind (self->codec));
  if (c == NULL || c->pt != self->pt)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC,
                   "the new description drops the call's codec (%s, payload type %u)",
                   ca_media_codec_to_string (self->codec), self->pt);
      return FALSE;
    }
  return ca_session_check_remote_basics (remote, error);
}

static gboolean
same_ice_credentials (const CaSdpMedia *a, const CaSdpMedia *b)
{
  return g_strcmp0 (a->ice_ufrag, b->ice_ufrag) == 0 && g_strcmp0 (a->ice_pwd, b->ice_pwd) == 0;
}

static gboolean
give_ice_remote (CaSession *self, const CaSdpMedia *remote, GError **error)
{
  const CaSdpCandidate *cands = (const CaSdpCandidate *) (void *) remote->candidates->data;
  g_autoptr (GError) e = NULL;

  if (!ca_ice_set_remote (self->ice, remote->ice_ufrag, remote->ice_pwd, cands,
                          remote->candidates->len, &e))
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS, "ICE: %s", e->message);
      return FALSE;
    }
  return TRUE;
}

/* The new offer/answer pair is the call's description from now on. Takes both. */
static void
adopt (CaSession *self, CaSdpMedia *remote, CaSdpMedia *local)
{
  g_clear_pointer (&self->remote, ca_sdp_media_free);
  self->remote = remote;
  g_clear_pointer (&self->local, ca_sdp_media_free);
  self->local = local;
}

/* ---- public ---- */

char *
ca_session_answer_reoffer (CaSession *self, const char *sdp, GError **error)
{
  g_autoptr (CaSdpMedia) offer = NULL;
  g_autoptr (CaSdpMedia) m = NULL;
  char *text;
  gboolean restart;

  g_return_val_if_fail (self != NULL, NULL);
  if (self->state != CA_SESSION_STATE_ACTIVE || self->remote == NULL)
    {
      g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                   "a new offer is taken only once the call's media runs (now %s)",
                   ca_session_state_to_string (self->state));
      return NULL;
    }
  if (self->pending != NULL || self->regathering)
    {
      /* nua answers 491 itself while our re-INVITE is out; this is the same glare */
      g_set_error_literal (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                           self->pending != NULL ? "our own new offer is waiting for its answer"
                                                 : "we are gathering new candidates");
      return NULL;
    }
  if (sdp == NULL || !ca_sdp_parse (sdp, strlen (sdp), &offer, error))
    return NULL;
  if (!check_same_call (self, offer, error))
    return NULL;
  /* actpass, or the role the peer has now: a role swap would be a new DTLS association */
  if ((offer->setup == CA_SDP_SETUP_ACTIVE && self->dtls_client)
      || (offer->setup == CA_SDP_SETUP_PASSIVE && !self->dtls_client))
    {
      g_set_error_literal (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP,
                           "the new offer swaps the DTLS roles mid-call");
      return NULL;
    }
  restart = !same_ice_credentials (offer, self->remote);
  if (restart && !ca_ice_restart (self->ice, error))
    return NULL;
  m = ca_session_build_local (self, self->dtls_client ? CA_SDP_SETUP_ACTIVE
                                                      : CA_SDP_SETUP_PASSIVE,
                              self->zrtp_wanted, &self->codec, 1);
  if (m == NULL)
    {
      g_set_error_literal (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                           "our own DTLS fingerprint is unusable");
      return NULL;
    }
  text = ca_sdp_build_answer (m, offer, error);
  if (text == NULL)
    return NULL;
  if (restart)
    {
      if (!give_ice_remote (self, offer, error))
        {
          g_free (text);
          return NULL;
        }
      self->restart_us = g_get_monotonic_time ();
      self->restarts++;
      g_message ("ICE restart %u: the peer asked for it", self->restarts);
    }
  adopt (self, g_steal_pointer (&offer), g_steal_pointer (&m));
  return text;
}

gboolean
ca_session_set_reanswer (CaSession *self, const char *sdp, GError **error)
{
  g_autoptr (CaSdpMedia) answer = NULL;
  g_autoptr (CaSdpMedia) pending = NULL;
  gboolean dtls_client = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  if (self->pending == NULL || ca_session_is_terminal (self->state))
    {
      g_set_error_literal (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                           "no new offer of ours is waiting for an answer");
      return FALSE;
    }
  /* Whatever happens now, this attempt is over; the watchdog may start another. */
  pending = g_steal_pointer (&self->pending);
  if (sdp == NULL || !ca_sdp_parse (sdp, strlen (sdp), &answer, error)
      || !ca_sdp_check_answer (pending, answer, &dtls_client, error)
      || !check_same_call (self, answer, error))
    return FALSE;
  if (dtls_client != self->dtls_client)
    {
      g_set_error_literal (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP,
                           "the answer swaps the DTLS roles mid-call");
      return FALSE;
    }
  if (same_ice_credentials (answer, self->remote))
    {
      g_set_error_literal (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS,
                           "the peer answered without restarting ICE (same ufrag and password)");
      return FALSE;
    }
  if (!give_ice_remote (self, answer, error))
    return FALSE;
  adopt (self, g_steal_pointer (&answer), g_steal_pointer (&pending));
  return TRUE;
}

void
ca_session_reoffer_failed (CaSession *self, guint status)
{
  g_return_if_fail (self != NULL);
  if (self->pending == NULL)
    return;
  g_clear_pointer (&self->pending, ca_sdp_media_free);
  if (status == 491)
    {
      /* RFC 3261 §14.1: the Call-ID's owner (the caller) waits 2.1-4 s, the other 0-2 s */
      gint64 ms = is_caller (self) ? g_random_int_range (2100, 4001)
                                   : g_random_int_range (0, 2001);

      self->retry_at_us = g_get_monotonic_time () + ms * 1000;
      self->restart_us = 0;
      g_message ("ICE restart offer crossed the peer's (491): again in %" G_GINT64_FORMAT " ms",
                 ms);
    }
  else
    g_message ("ICE restart offer refused (%u): tried again later", status);
}

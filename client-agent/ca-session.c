/* ca-session: one call's media, end to end encrypted (see ca-session.h).
 *
 * Data paths, all on the session's GMainContext:
 *   out: ca-media RTP -> ca_srtp_protect -> ca_ice_send
 *   in:  ca_ice recv -> RFC 7983 demux -> DTLS: ca_dtls_feed
 *                                      -> RTP/RTCP: ca_srtp_unprotect -> ca_media_push_rtp
 * There is no other way onto the wire for an RTP packet, and no SRTP context exists until
 * DTLS has checked the peer's certificate against the SDP fingerprint. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-session.h"
#include "ca-session-priv.h"

#include <string.h>

#include <openssl/crypto.h>

#include "ca-demux.h"
#include "ca-dtls.h"
#include "ca-rtcp.h"
#include "ca-sdp.h"
#include "ca-srtp.h"
#include "ca-zrtp.h"
#include "sotto-util.h"

/* RFC 5705 label for the ZRTP auxiliary secret: each end's DTLS session, exported. */
#define ZRTP_AUX_LABEL "EXTRACTOR-sotto-zrtp-aux"
#define ZRTP_AUX_LEN   32

#define MAX_RTP       1500
#define OPUS_PT       111
#define OPUS_FMTP     "minptime=10;useinbandfec=1"
#define MEDIA_STOP_MS 3000

G_DEFINE_QUARK (ca-session-error-quark, ca_session_error)


static const char *const state_names[CA_SESSION_STATE_LAST] = {
  "new", "gathering", "negotiating", "connecting", "securing", "active", "failed", "closed",
};

const char *
ca_session_state_to_string (CaSessionState state)
{
  return state < CA_SESSION_STATE_LAST ? state_names[state] : "invalid";
}

gboolean
ca_session_is_terminal (CaSessionState state)
{
  return state == CA_SESSION_STATE_FAILED || state == CA_SESSION_STATE_CLOSED;
}

static void
set_state (CaSession *self, CaSessionState state)
{
  if (self->state == state || ca_session_is_terminal (self->state))
    return;
  g_debug ("session %p: %s -> %s", (void *) self, ca_session_state_to_string (self->state),
           ca_session_state_to_string (state));
  self->state = state;
  if (!self->detached && self->state_changed != NULL)
    {
      ca_session_ref (self);
      self->state_changed (self, state, self->user_data);
      ca_session_unref (self);
    }
}

static void
stop_rtcp_timer (CaSession *self)
{
  sotto_util_source_clear (&self->rtcp_timer);
}

static void
teardown (CaSession *self)
{
  stop_rtcp_timer (self);
  ca_session_restart_clear (self);
  if (self->media != NULL)
    ca_media_stop (self->media, MEDIA_STOP_MS);
  if (self->zrtp != NULL)
    ca_zrtp_close (self->zrtp);
  if (self->dtls != NULL)
    ca_dtls_close (self->dtls);
  if (self->ice != NULL)
    ca_ice_close (self->ice);
}

void
ca_session_fail (CaSession *self, GError *error)
{
  if (ca_session_is_terminal (self->state))
    {
      g_error_free (error);
      return;
    }
  g_clear_error (&self->error);
  self->error = error;
  teardown (self);
  set_state (self, CA_SESSION_STATE_FAILED);
}

/* ---- outgoing media ---- */

static void
media_send (CaMedia *media, const guint8 *rtp, gsize len, gpointer user_data)
{
  CaSession *self = user_data;
  guint8 buf[MAX_RTP + CA_SRTP_MAX_TRAILER];
  CaSrtp *srtp = self->dtls != NULL ? ca_dtls_get_srtp (self->dtls) : NULL;
  g_autoptr (GError) error = NULL;

  /* Without keys the packet dies here: plaintext RTP never reaches ICE. */
  if (srtp == NULL || len > MAX_RTP || self->state != CA_SESSION_STATE_ACTIVE)
    return;
  if (self->rtcp != NULL)
    ca_rtcp_on_rtp_sent (self->rtcp, rtp, len, g_get_monotonic_time ());
  ca_session_restart_note_sent (self, rtp, len);
  memcpy (buf, rtp, len);
  if (!ca_srtp_protect (srtp, buf, &len, sizeof buf, &error))
    {
      g_debug ("SRTP protect: %s", error->message);
      return;
    }
  ca_ice_send (self->ice, buf, len);
}

static void
media_event (CaMedia *media, CaMediaEvent event, gpointer user_data)
{
  CaSession *self = user_data;

  switch (event)
    {
    case CA_MEDIA_EVENT_FIRST_AUDIO:
      g_info ("first audio from the peer after %.0f ms",
              (g_get_monotonic_time () - self->created_us) / 1000.0);
      break;
    case CA_MEDIA_EVENT_PLAY_DONE:
      g_info ("the file to play has been sent; RTP keepalives from now on");
      self->source_ended = TRUE;
      break;
    case CA_MEDIA_EVENT_ERROR:
      {
        const GError *e = ca_media_get_error (media);

        ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_MEDIA, "audio failed: %s",
                                 e != NULL ? e->message : "unknown error"));
      }
      break;
    default:
      break;
    }
}

/* RTCP (RFC 3550 §6): our SR/RR every few seconds, SRTCP-protected, on the same ICE pair
 * (rtcp-mux). The peer's reports give the round-trip time and the loss it sees. */
static void arm_rtcp_timer (CaSession *self, guint ms);

static gboolean
rtcp_tick (gpointer data)
{
  CaSession *self = data;
  guint8 buf[CA_RTCP_REPORT_MAX_SIZE + CA_SRTP_MAX_TRAILER];
  CaSrtp *srtp = self->dtls != NULL ? ca_dtls_get_srtp (self->dtls) : NULL;
  gsize len;

  g_clear_pointer (&self->rtcp_timer, g_source_unref);
  if (srtp == NULL || self->rtcp == NULL || self->state != CA_SESSION_STATE_ACTIVE)
    return G_SOURCE_REMOVE;
  len = ca_rtcp_build_report (self->rtcp, g_get_monotonic_time (),
                              ca_rtcp_ntp_from_real_time (g_get_real_time ()), buf,
                              CA_RTCP_REPORT_MAX_SIZE);
  if (len > 0 && ca_srtp_protect_rtcp (srtp, buf, &len, sizeof buf, NULL))
    ca_ice_send (self->ice, buf, len);
  arm_rtcp_timer (self, ca_rtcp_next_interval_ms (self->rtcp));
  return G_SOURCE_REMOVE;
}

static void
arm_rtcp_timer (CaSession *self, guint ms)
{
  stop_rtcp_timer (self);
  self->rtcp_timer = g_timeout_source_new (ms);
  g_source_set_callback (self->rtcp_timer, rtcp_tick, self, NULL);
  g_source_attach (self->rtcp_timer, self->context);
}

static void
start_media (CaSession *self)
{
  guint32 ssrc = g_random_int_range (1, G_MAXINT32);
  CaMediaConfig config = {
    .context = self->context,
    .codec = self->codec,
    .payload_type = self->pt,
    .ssrc = ssrc,
    .play_path = self->play_path,
    .record_path = self->record_path,
    .silent_source = self->silent_source,
    .send = media_send,
    .event = media_event,
    .user_data = self,
  };
  g_autoptr (GError) error = NULL;

  self->rtcp = ca_rtcp_new (ssrc, self->codec == CA_MEDIA_CODEC_OPUS ? 48000 : 8000, &error);
  if (self->rtcp == NULL)
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_MEDIA, "RTCP: %s",
                               error->message));
      return;
    }
  self->media = ca_media_new (&config, &error);
  if (self->media == NULL || !ca_media_start (self->media, &error))
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_MEDIA, "audio: %s",
                               error->message));
      return;
    }
  set_state (self, CA_SESSION_STATE_ACTIVE);
  arm_rtcp_timer (self, ca_rtcp_next_interval_ms (self->rtcp));
  ca_session_restart_watch (self);
}

/* ---- DTLS ---- */

static void start_zrtp (CaSession *self);

static void
dtls_send (CaDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  CaSession *self = user_data;

  if (self->ice != NULL)
    ca_ice_send (self->ice, data, len);
}

static void
dtls_state (CaDtls *dtls, CaDtlsState state, gpointer user_data)
{
  CaSession *self = user_data;
  const GError *e;

  switch (state)
    {
    case CA_DTLS_STATE_CONNECTED:
      self->fingerprint_verified = TRUE;
      g_info ("DTLS-SRTP keyed with %s; the peer's certificate matches its SDP fingerprint",
              ca_srtp_profile_to_string (ca_srtp_get_profile (ca_dtls_get_srtp (dtls))));
      start_media (self);
      start_zrtp (self);
      break;
    case CA_DTLS_STATE_FAILED:
      e = ca_dtls_get_error (dtls);
      if (e != NULL && g_error_matches (e, CA_DTLS_ERROR, CA_DTLS_ERROR_FINGERPRINT))
        ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_FINGERPRINT,
                                 "DTLS fingerprint mismatch: %s", e->message));
      else
        ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_DTLS, "DTLS failed: %s",
                                 e != NULL ? e->message : "unknown error"));
      break;
    case CA_DTLS_STATE_CLOSED:
      /* The peer sent close_notify: it is hanging up; SIP will say so. */
      g_debug ("DTLS closed by the peer");
      break;
    default:
      break;
    }
}

/* ---- ZRTP: the SAS, bound to this DTLS session ---- */

static void
zrtp_send (CaZrtp *zrtp, const guint8 *data, gsize len, gpointer user_data)
{
  CaSession *self = user_data;

  if (self->ice != NULL)
    ca_ice_send (self->ice, data, len);
}

static void
zrtp_state (CaZrtp *zrtp, CaZrtpState state, gpointer user_data)
{
  const GError *e;

  switch (state)
    {
    case CA_ZRTP_STATE_SECURE:
      g_info ("ZRTP: SAS %s (%s), DTLS binding %s%s", ca_zrtp_get_sas (zrtp),
              ca_zrtp_is_sas_verified (zrtp) ? "verified before" : "not verified yet",
              ca_zrtp_aux_match_to_string (ca_zrtp_get_aux_match (zrtp)),
              ca_zrtp_get_cache_mismatch (zrtp) ? "; the peer's cached secrets changed" : "");
      break;
    case CA_ZRTP_STATE_FAILED:
      /* No SAS for this call; DTLS-SRTP still protects it against everyone but a server that
       * swaps fingerprints, and the user sees that the key is not verified. */
      e = ca_zrtp_get_error (zrtp);
      g_warning ("ZRTP failed, no SAS for this call: %s", e != NULL ? e->message : "?");
      break;
    default:
      break;
    }
}

static void
start_zrtp (CaSession *self)
{
  guint8 aux[ZRTP_AUX_LEN];
  g_autoptr (GError) error = NULL;

  if (self->zrtp == NULL || !self->zrtp_wanted)
    return;
  if (!ca_dtls_export (self->dtls, ZRTP_AUX_LABEL, aux, sizeof aux, &error)
      || !ca_zrtp_set_aux_secret (self->zrtp, aux, sizeof aux, &error))
    {
      OPENSSL_cleanse (aux, sizeof aux);
      g_warning ("ZRTP not started: %s", error->message);
      return;
    }
  OPENSSL_cleanse (aux, sizeof aux);
  ca_zrtp_start (self->zrtp);
}

static void
start_dtls (CaSession *self)
{
  g_autofree char *fp = ca_sdp_media_fingerprint_string (self->remote);
  CaDtlsConfig config = {
    .cert = self->cert,
    .role = self->dtls_client ? CA_DTLS_ROLE_ACTIVE : CA_DTLS_ROLE_PASSIVE,
    .context = self->context,
    .send = dtls_send,
    .state_changed = dtls_state,
    .user_data = self,
  };
  g_autoptr (GError) error = NULL;

  self->dtls = ca_dtls_new (&config, &error);
  if (self->dtls == NULL || !ca_dtls_set_remote_fingerprint (self->dtls, fp, &error))
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_DTLS, "DTLS: %s",
                               error->message));
      return;
    }
  set_state (self, CA_SESSION_STATE_SECURING);
  ca_dtls_start (self->dtls);
}

/* ---- ICE ---- */

static void
ice_recv (CaIce *ice, const guint8 *data, gsize len, gpointer user_data)
{
  CaSession *self = user_data;
  guint8 buf[MAX_RTP + CA_SRTP_MAX_TRAILER];
  CaSrtp *srtp;
  gboolean ok;

  if (len == 0 || ca_session_is_terminal (self->state))
    return;
  self->last_rx_us = g_get_monotonic_time ();
  switch (ca_demux_classify (data[0]))
    {
    case CA_DEMUX_DTLS:
      if (self->dtls != NULL)
        ca_dtls_feed (self->dtls, data, len);
      break;
    case CA_DEMUX_ZRTP:
      if (self->zrtp != NULL && self->zrtp_wanted)
        ca_zrtp_feed (self->zrtp, data, len);
      break;
    case CA_DEMUX_RTP_RTCP:
      srtp = self->dtls != NULL ? ca_dtls_get_srtp (self->dtls) : NULL;
      if (srtp == NULL || self->media == NULL || len > sizeof buf)
        return;
      memcpy (buf, data, len);
      if (ca_demux_is_rtcp (buf, len))
        ok = ca_srtp_unprotect_rtcp (srtp, buf, &len, NULL);
      else
        ok = ca_srtp_unprotect (srtp, buf, &len, NULL);
      /* A packet that fails authentication is dropped, never played. */
      if (!ok)
        break;
      if (ca_demux_is_rtcp (buf, len))
        {
          g_autoptr (GError) error = NULL;

          if (!ca_rtcp_parse (self->rtcp, buf, len, g_get_monotonic_time (),
                              ca_rtcp_ntp_from_real_time (g_get_real_time ()), &error))
            g_debug ("RTCP from the peer refused: %s", error->message);
        }
      else if (!ca_session_is_keepalive (self, buf, len))
        {
          ca_rtcp_on_rtp_received (self->rtcp, buf, len, g_get_monotonic_time ());
          ca_media_push_rtp (self->media, buf, len);
        }
      break;
    default:
      break;
    }
}

static void
set_remote_ice (CaSession *self)
{
  g_autoptr (GError) error = NULL;
  const CaSdpCandidate *cands = (const CaSdpCandidate *) (void *) self->remote->candidates->data;

  if (self->remote_ice_set)
    return;
  self->remote_ice_set = TRUE;
  if (!ca_ice_set_remote (self->ice, self->remote->ice_ufrag, self->remote->ice_pwd, cands,
                          self->remote->candidates->len, &error))
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_ICE, "ICE: %s",
                               error->message));
      return;
    }
  set_state (self, CA_SESSION_STATE_CONNECTING);
}

CaSdpMedia *
ca_session_build_local (CaSession *self, CaSdpSetup setup, gboolean with_zrtp,
                        const CaMediaCodec *codecs, guint n_codecs)
{
  g_autoptr (CaSdpMedia) m = ca_sdp_media_new ();
  g_autoptr (GArray) cands = ca_ice_get_local_candidates (self->ice);

  m->session_id = self->sdp_session_id;
  m->session_version = self->sdp_version++;
  m->profile = CA_SDP_PROFILE_UDP_TLS_RTP_SAVP;
  m->direction = CA_SDP_DIRECTION_SENDRECV;
  for (guint i = 0; i < n_codecs; i++)
    {
      if (codecs[i] == CA_MEDIA_CODEC_OPUS)
        ca_sdp_media_add_codec (m, CA_SDP_CODEC_OPUS, OPUS_PT, 48000, OPUS_FMTP);
      else
        ca_sdp_media_add_codec (m, CA_SDP_CODEC_PCMU, 0, 8000, NULL);
    }
  m->ice_ufrag = g_strdup (ca_ice_get_local_ufrag (self->ice));
  m->ice_pwd = g_strdup (ca_ice_get_local_pwd (self->ice));
  for (guint i = 0; i < cands->len; i++)
    ca_sdp_media_add_candidate (m, &g_array_index (cands, CaSdpCandidate, i));
  m->end_of_candidates = TRUE;
  if (!ca_sdp_media_set_fingerprint (m, ca_dtls_cert_get_fingerprint (self->cert), NULL))
    return NULL;
  m->rtcp_mux = TRUE;
  if (self->zrtp != NULL && with_zrtp)
    m->zrtp_hash = g_strdup (ca_zrtp_get_hello_hash (self->zrtp));
  m->setup = setup;
  return g_steal_pointer (&m);
}

static void
send_local_sdp (CaSession *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  /* Offer ZRTP always; answer it only to a peer that offered it. */
  self->local = ca_session_build_local (
    self,
    self->role == CA_SESSION_OFFERER ? CA_SDP_SETUP_ACTPASS
    : self->dtls_client              ? CA_SDP_SETUP_ACTIVE
                                     : CA_SDP_SETUP_PASSIVE,
    self->role == CA_SESSION_OFFERER || self->zrtp_wanted, self->codecs, self->n_codecs);
  if (self->local == NULL)
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                               "our own DTLS fingerprint is unusable"));
      return;
    }
  if (self->role == CA_SESSION_OFFERER)
    text = ca_sdp_build_offer (self->local, &error);
  else
    text = ca_sdp_build_answer (self->local, self->remote, &error);
  if (text == NULL)
    {
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_SDP, "building our SDP: %s",
                               error->message));
      return;
    }
  self->sdp_sent = TRUE;
  set_state (self, CA_SESSION_STATE_NEGOTIATING);
  ca_session_ref (self);
  if (!self->detached)
    self->local_sdp (self, text, self->user_data);
  if (self->role == CA_SESSION_ANSWERER && self->accepted && !ca_session_is_terminal (self->state))
    set_remote_ice (self);
  ca_session_unref (self);
}

static void
ice_state (CaIce *ice, CaIceState state, gpointer user_data)
{
  CaSession *self = user_data;
  const GError *e;

  switch (state)
    {
    case CA_ICE_STATE_GATHERED:
      if (!self->sdp_sent)
        send_local_sdp (self);
      else if (self->regathering)
        ca_session_restart_gathered (self);
      break;
    case CA_ICE_STATE_CONNECTED:
      if (self->dtls != NULL)
        {
          CaIcePair pair;

          /* after an ICE restart: DTLS, SRTP and ZRTP carry on over the new pair */
          if (ca_ice_get_selected_pair (ice, &pair))
            g_message ("ICE connected again: %s path", ca_ice_pair_path_kind (&pair));
        }
      else
        {
          CaIcePair pair;

          if (ca_ice_get_selected_pair (ice, &pair))
            g_info ("ICE connected: %s path %s:%u -> %s:%u", ca_ice_pair_path_kind (&pair),
                    pair.local_address, pair.local_port, pair.remote_address,
                    pair.remote_port);
          start_dtls (self);
        }
      break;
    case CA_ICE_STATE_DISCONNECTED:
      if (self->state == CA_SESSION_STATE_ACTIVE && self->reoffer != NULL)
        {
          ca_session_restart_ice_down (self);
          break;
        }
      /* before the audio runs, or without restarts, a lost path ends the call */
      G_GNUC_FALLTHROUGH;
    case CA_ICE_STATE_FAILED:
      e = ca_ice_get_error (ice);
      ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_ICE, "no media path: %s",
                               e != NULL ? e->message : "ICE failed"));
      break;
    default:
      break;
    }
}

/* ---- public ---- */

CaSession *
ca_session_new (const CaSessionConfig *config, GError **error)
{
  g_autoptr (CaSession) self = NULL;
  CaIceConfig ice = {
    .context = config->context,
    .controlling = config->role == CA_SESSION_OFFERER, /* RFC 8445 §6.1.1 */
    .force_relay = config->force_relay,
    .ice_tcp = config->ice_tcp,
    .stun_address = config->stun_address,
    .stun_port = config->stun_port,
    .turn = config->turn,
    .n_turn = config->n_turn,
    .local_addresses = config->local_addresses,
    .recv = ice_recv,
    .state_changed = ice_state,
  };

  g_return_val_if_fail (config->cert != NULL && config->local_sdp != NULL, NULL);

  self = g_new0 (CaSession, 1);
  self->ref_count = 1;
  self->context = config->context != NULL ? g_main_context_ref (config->context)
                                          : g_main_context_ref_thread_default ();
  self->role = config->role;
  self->cert = ca_dtls_cert_ref (config->cert);
  if (config->codecs != NULL && config->n_codecs > 0)
    {
      for (guint i = 0; i < config->n_codecs && self->n_codecs < CA_MEDIA_CODEC_LAST; i++)
        if (config->codecs[i] < CA_MEDIA_CODEC_LAST)
          self->codecs[self->n_codecs++] = config->codecs[i];
    }
  if (self->n_codecs == 0)
    {
      self->codecs[self->n_codecs++] = CA_MEDIA_CODEC_OPUS;
      self->codecs[self->n_codecs++] = CA_MEDIA_CODEC_PCMU;
    }
  self->play_path = g_strdup (config->play_path);
  self->record_path = g_strdup (config->record_path);
  self->silent_source = config->silent_source;
  self->local_sdp = config->local_sdp;
  self->reoffer = config->reoffer;
  /* 62 bits: some parsers read the o= id as a signed 64-bit number */
  self->sdp_session_id = ((guint64) g_random_int () << 30 ^ g_random_int ()) | 1;
  self->state_changed = config->state_changed;
  self->user_data = config->user_data;
  self->accepted = config->role == CA_SESSION_OFFERER;
  self->created_us = g_get_monotonic_time ();

  if (config->zrtp_cache_path != NULL)
    {
      CaZrtpConfig zc = {
        .context = self->context,
        .cache_path = config->zrtp_cache_path,
        .self_uri = config->self_uri,
        .peer_uri = config->peer_uri,
        .send = zrtp_send,
        .state_changed = zrtp_state,
        .user_data = self,
      };

      self->zrtp = ca_zrtp_new (&zc, error);
      if (self->zrtp == NULL)
        return NULL;
    }
  ice.user_data = self;
  self->ice = ca_ice_new (&ice, error);
  if (self->ice == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

CaSession *
ca_session_ref (CaSession *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
ca_session_unref (CaSession *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  self->detached = TRUE;
  teardown (self);
  g_clear_pointer (&self->media, ca_media_free);
  g_clear_pointer (&self->rtcp, ca_rtcp_free);
  g_clear_pointer (&self->zrtp, ca_zrtp_unref);
  g_clear_pointer (&self->dtls, ca_dtls_unref);
  g_clear_pointer (&self->ice, ca_ice_unref);
  g_clear_pointer (&self->remote, ca_sdp_media_free);
  g_clear_pointer (&self->local, ca_sdp_media_free);
  g_clear_pointer (&self->pending, ca_sdp_media_free);
  g_clear_pointer (&self->cert, ca_dtls_cert_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_error (&self->error);
  g_free (self->play_path);
  g_free (self->record_path);
  g_free (self);
}

gboolean
ca_session_start_offer (CaSession *self, GError **error)
{
  g_return_val_if_fail (self->role == CA_SESSION_OFFERER, FALSE);
  g_return_val_if_fail (self->state == CA_SESSION_STATE_NEW, FALSE);

  set_state (self, CA_SESSION_STATE_GATHERING);
  return ca_ice_gather (self->ice, error);
}

static CaMediaCodec
codec_of_kind (CaSdpCodecKind kind)
{
  return kind == CA_SDP_CODEC_OPUS ? CA_MEDIA_CODEC_OPUS : CA_MEDIA_CODEC_PCMU;
}

CaSdpCodecKind
ca_session_codec_kind (CaMediaCodec codec)
{
  return codec == CA_MEDIA_CODEC_OPUS ? CA_SDP_CODEC_OPUS : CA_SDP_CODEC_PCMU;
}

/* The offerer takes the answer's first codec we know; the answerer its own first preference
 * that the offer has. */
static gboolean
choose_codec (CaSession *self, const CaSdpMedia *remote, GError **error)
{
  if (self->role == CA_SESSION_OFFERER)
    {
      for (guint i = 0; i < remote->codecs->len; i++)
        {
          const CaSdpCodec *c = &g_array_index (remote->codecs, CaSdpCodec, i);

          if (c->kind == CA_SDP_CODEC_OPUS || c->kind == CA_SDP_CODEC_PCMU)
            {
              self->codec = codec_of_kind (c->kind);
              self->pt = c->pt;
              return TRUE;
            }
        }
    }
  else
    {
      for (guint i = 0; i < self->n_codecs; i++)
        {
          const CaSdpCodec *c = ca_sdp_media_find_codec (remote, ca_session_codec_kind (self->codecs[i]));

          if (c != NULL)
            {
              self->codec = self->codecs[i];
              self->pt = c->pt;
              return TRUE;
            }
        }
    }
  g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC,
               "no audio codec in common with the peer");
  return FALSE;
}

gboolean
ca_session_check_remote_basics (const CaSdpMedia *remote, GError **error)
{
  /* Sotto runs one ICE component, so RTP and RTCP must share it (RFC 5761). An answer without
   * a=rtcp-mux means the peer would not multiplex: refuse it rather than half-work (RFC 5761
   * §5.1.3), and refuse an offer that does not propose it. */
  if (!remote->rtcp_mux)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_AUDIO,
                   "the peer does not multiplex RTP and RTCP (a=rtcp-mux, RFC 5761), which Sotto "
                   "requires");
      return FALSE;
    }
  if (remote->candidates->len == 0)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS,
                   "the peer offers no ICE candidate we can use");
      return FALSE;
    }
  return TRUE;
}

gboolean
ca_session_set_remote_sdp (CaSession *self, const char *sdp, GError **error)
{
  g_autoptr (CaSdpMedia) remote = NULL;
  g_autoptr (GError) local_error = NULL;
  gboolean dtls_client = FALSE;

  if (self->remote != NULL || ca_session_is_terminal (self->state))
    {
      g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                   "this call already has the peer's description");
      return FALSE;
    }
  if (sdp == NULL || !ca_sdp_parse (sdp, strlen (sdp), &remote, &local_error))
    goto bad;
  if (self->role == CA_SESSION_OFFERER)
    {
      if (self->local == NULL)
        {
          g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                       "an answer arrived before our offer went out");
          return FALSE;
        }
      if (!ca_sdp_check_answer (self->local, remote, &dtls_client, &local_error))
        goto bad;
    }
  else
    dtls_client = ca_sdp_setup_for_answer (remote->setup) == CA_SDP_SETUP_ACTIVE;
  if (!choose_codec (self, remote, &local_error))
    goto bad;
  if (!ca_session_check_remote_basics (remote, &local_error))
    goto bad;

  if (self->zrtp != NULL && remote->zrtp_hash != NULL)
    {
      g_autoptr (GError) zerr = NULL;

      /* The hash binds the peer's ZRTP Hello to its SDP (RFC 6189 §8.1). A malformed one
       * turns ZRTP off for this call rather than refusing it. */
      if (ca_zrtp_set_peer_hello_hash (self->zrtp, remote->zrtp_hash, &zerr))
        self->zrtp_wanted = TRUE;
      else
        g_warning ("ignoring the peer's a=zrtp-hash: %s", zerr->message);
    }
  self->dtls_client = dtls_client;
  self->remote = g_steal_pointer (&remote);
  g_info ("peer SDP accepted: %s, DTLS %s, %u candidates",
          ca_media_codec_to_string (self->codec), self->dtls_client ? "client" : "server",
          self->remote->candidates->len);
  if (self->role == CA_SESSION_OFFERER)
    set_remote_ice (self);
  else
    {
      set_state (self, CA_SESSION_STATE_GATHERING);
      if (!ca_ice_gather (self->ice, &local_error))
        {
          ca_session_fail (self, g_error_new (CA_SESSION_ERROR, CA_SESSION_ERROR_ICE, "ICE: %s",
                                   local_error->message));
          g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_ICE, "ICE: %s",
                       self->error->message);
          return FALSE;
        }
    }
  return TRUE;

bad:
  /* Keep the SDP error's domain and code inside: ca_session_error_sip_status needs it. */
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

gboolean
ca_session_accept (CaSession *self, GError **error)
{
  g_return_val_if_fail (self->role == CA_SESSION_ANSWERER, FALSE);

  if (ca_session_is_terminal (self->state) || self->remote == NULL)
    {
      g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_SDP,
                   "this call cannot be accepted now");
      return FALSE;
    }
  self->accepted = TRUE;
  if (self->sdp_sent)
    set_remote_ice (self);
  return TRUE;
}

void
ca_session_close (CaSession *self)
{
  if (ca_session_is_terminal (self->state))
    return;
  teardown (self);
  self->state = CA_SESSION_STATE_CLOSED;
  self->detached = TRUE;
}

gboolean
ca_session_set_sas_verified (CaSession *self, gboolean verified, GError **error)
{
  if (self->zrtp == NULL || !self->zrtp_wanted
      || ca_zrtp_get_state (self->zrtp) != CA_ZRTP_STATE_SECURE)
    {
      g_set_error (error, CA_SESSION_ERROR, CA_SESSION_ERROR_DTLS,
                   "this call has no SAS to confirm (ZRTP is not secure)");
      return FALSE;
    }
  ca_zrtp_set_sas_verified (self->zrtp, verified);
  return TRUE;
}

guint
ca_session_error_sip_status (const GError *error)
{
  if (error != NULL && error->domain == CA_SDP_ERROR)
    return ca_sdp_error_sip_status (error);
  return 488;
}

CaSessionState
ca_session_get_state (CaSession *self)
{
  return self->state;
}

const GError *
ca_session_get_error (CaSession *self)
{
  return self->error;
}

static char *
describe_end (CaSdpCandidateType type, CaSdpTransport transport, const char *addr, guint16 port)
{
  return g_strdup_printf (strchr (addr, ':') != NULL ? "[%s]:%u/%s typ %s" : "%s:%u/%s typ %s",
                          addr, port, ca_sdp_transport_to_string (transport),
                          ca_sdp_candidate_type_to_string (type));
}

GVariant *
ca_session_get_info (CaSession *self)
{
  GVariantBuilder b;
  CaIcePair pair;
  CaMediaStats stats = { 0 };
  CaSrtp *srtp = self->dtls != NULL ? ca_dtls_get_srtp (self->dtls) : NULL;
  g_autofree char *peer_fp = self->remote != NULL ? ca_sdp_media_fingerprint_string (self->remote)
                                                  : NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "media-state",
                         g_variant_new_string (ca_session_state_to_string (self->state)));
  if (self->ice != NULL && ca_ice_get_selected_pair (self->ice, &pair))
    {
      g_autofree char *l = describe_end (pair.local_type, pair.transport, pair.local_address,
                                         pair.local_port);
      g_autofree char *r = describe_end (pair.remote_type, pair.transport, pair.remote_address,
                                         pair.remote_port);

      g_variant_builder_add (&b, "{sv}", "path",
                             g_variant_new_string (ca_ice_pair_path_kind (&pair)));
      g_variant_builder_add (&b, "{sv}", "local", g_variant_new_string (l));
      g_variant_builder_add (&b, "{sv}", "remote", g_variant_new_string (r));
    }
  else
    g_variant_builder_add (&b, "{sv}", "path", g_variant_new_string (""));
  g_variant_builder_add (&b, "{sv}", "suite",
                         g_variant_new_take_string (
                           srtp != NULL ? g_strdup_printf ("DTLS-SRTP %s",
                                                           ca_srtp_profile_to_string (
                                                             ca_srtp_get_profile (srtp)))
                                        : g_strdup ("")));
  if (self->remote != NULL)
    g_variant_builder_add (&b, "{sv}", "codec",
                           g_variant_new_string (ca_media_codec_to_string (self->codec)));
  g_variant_builder_add (&b, "{sv}", "peer-fingerprint",
                         g_variant_new_string (peer_fp != NULL ? peer_fp : ""));
  g_variant_builder_add (&b, "{sv}", "fingerprint-verified",
                         g_variant_new_boolean (self->fingerprint_verified));
  {
    gboolean zrtp_on = self->zrtp != NULL && self->zrtp_wanted;
    CaZrtpState zs = zrtp_on ? ca_zrtp_get_state (self->zrtp) : CA_ZRTP_STATE_NEW;
    gboolean secure = zrtp_on && zs == CA_ZRTP_STATE_SECURE;

    g_variant_builder_add (&b, "{sv}", "zrtp",
                           g_variant_new_string (!zrtp_on ? "off"
                                                 : zs == CA_ZRTP_STATE_SECURE ? "secure"
                                                 : zs == CA_ZRTP_STATE_FAILED ? "failed"
                                                                               : "running"));
    g_variant_builder_add (&b, "{sv}", "sas",
                           g_variant_new_string (secure ? ca_zrtp_get_sas (self->zrtp) : ""));
    g_variant_builder_add (&b, "{sv}", "sas-verified",
                           g_variant_new_boolean (secure
                                                  && ca_zrtp_is_sas_verified (self->zrtp)));
    g_variant_builder_add (&b, "{sv}", "zrtp-dtls-binding",
                           g_variant_new_string (secure ? ca_zrtp_aux_match_to_string (
                                                            ca_zrtp_get_aux_match (self->zrtp))
                                                        : "unknown"));
    g_variant_builder_add (&b, "{sv}", "zrtp-cache-mismatch",
                           g_variant_new_boolean (secure
                                                  && ca_zrtp_get_cache_mismatch (self->zrtp)));
    g_variant_builder_add (&b, "{sv}", "key-verified",
                           g_variant_new_boolean (secure
                                                  && ca_zrtp_is_authenticated (self->zrtp)));
  }
  if (self->media != NULL)
    ca_media_get_stats (self->media, &stats);
  g_variant_builder_add (&b, "{sv}", "packets-sent", g_variant_new_uint64 (stats.packets_sent));
  g_variant_builder_add (&b, "{sv}", "bytes-sent", g_variant_new_uint64 (stats.bytes_sent));
  g_variant_builder_add (&b, "{sv}", "packets-received",
                         g_variant_new_uint64 (stats.packets_received));
  g_variant_builder_add (&b, "{sv}", "bytes-received",
                         g_variant_new_uint64 (stats.bytes_received));
  g_variant_builder_add (&b, "{sv}", "packets-lost", g_variant_new_uint64 (stats.packets_lost));
  g_variant_builder_add (&b, "{sv}", "jitter-ms", g_variant_new_double (stats.jitter_ms));
  {
    double rtt = -1; /* unknown until the peer has answered one of our sender reports */

    if (self->rtcp != NULL && !ca_rtcp_get_rtt_ms (self->rtcp, &rtt))
      rtt = -1;
    g_variant_builder_add (&b, "{sv}", "rtt-ms", g_variant_new_double (rtt));
    g_variant_builder_add (&b, "{sv}", "peer-packets-lost",
                           g_variant_new_uint32 (self->rtcp != NULL
                                                   ? ca_rtcp_get_remote_cumulative_lost (
                                                       self->rtcp)
                                                   : 0));
    g_variant_builder_add (&b, "{sv}", "peer-loss-percent",
                           g_variant_new_double (
                             self->rtcp != NULL
                               ? ca_rtcp_get_remote_fraction_lost (self->rtcp) * 100.0 / 256
                               : 0));
  }
  g_variant_builder_add (&b, "{sv}", "ice-restarts", g_variant_new_uint32 (self->restarts));
  g_variant_builder_add (&b, "{sv}", "setup-ms",
                         g_variant_new_double (stats.first_audio_us > 0
                                                 ? (stats.first_audio_us - self->created_us)
                                                     / 1000.0
                                                 : -1));
  return g_variant_builder_end (&b);
}

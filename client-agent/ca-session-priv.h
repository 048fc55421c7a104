/* ca-session-priv: what ca-session.c and ca-session-restart.c share. */
#pragma once

#include "ca-dtls.h"
#include "ca-rtcp.h"
#include "ca-sdp.h"
#include "ca-session.h"
#include "ca-zrtp.h"

struct _CaSession
{
  gint ref_count;
  GMainContext *context;
  CaSessionRole role;
  CaDtlsCert *cert;
  CaMediaCodec codecs[CA_MEDIA_CODEC_LAST];
  guint n_codecs;
  char *play_path;
  char *record_path;
  gboolean silent_source;
  CaSessionSdpFunc local_sdp;
  CaSessionSdpFunc reoffer;   /* NULL: no ICE restarts */
  CaSessionStateFunc state_changed;
  gpointer user_data;
  gboolean detached;

  CaSessionState state;
  GError *error;
  gint64 created_us;

  CaIce *ice;
  CaDtls *dtls;
  CaMedia *media;
  CaRtcp *rtcp;
  CaZrtp *zrtp;
  gboolean zrtp_wanted;     /* the peer offered or answered a=zrtp-hash */
  GSource *rtcp_timer;
  CaSdpMedia *remote;       /* the peer's offer or answer */
  CaSdpMedia *local;        /* what we sent (the offerer checks the answer against it) */
  gboolean sdp_sent;
  gboolean accepted;        /* the answerer's user said yes (the offerer: always) */
  gboolean remote_ice_set;
  gboolean dtls_client;
  CaMediaCodec codec;
  guint8 pt;
  gboolean fingerprint_verified;
  guint64 sdp_session_id;   /* o= id of every SDP we send in this call */
  guint64 sdp_version;      /* o= version: one more for each (RFC 3264 §8) */

  /* ICE restarts (ca-session-restart.c) */
  gint64 last_rx_us;        /* the last datagram from the peer, any kind */
  GSource *watchdog;        /* while ACTIVE */
  CaSdpMedia *pending;      /* our restart offer, waiting for its answer */
  gint64 restart_us;        /* when the last restart began, ours or the peer's; 0: never */
  gint64 retry_at_us;       /* after a 491 (RFC 3261 §14.1): not before */
  guint restarts;
  gboolean regathering;     /* a restart waits for fresh candidates before its offer */
  /* RTP keepalives (RFC 6263 §4.6) once a played file has ended */
  gboolean source_ended;
  gboolean have_sent;
  guint16 last_seq;
  guint32 last_ts, ssrc;
};

gboolean ca_session_is_terminal (CaSessionState state);
/* Takes @error; ends the session in FAILED. */
void ca_session_fail (CaSession *self, GError *error);
/* Our description with the ICE agent's current credentials and candidates, @setup, the codecs
 * given, and the next o= version. NULL if our fingerprint is unusable. */
CaSdpMedia *ca_session_build_local (CaSession *self, CaSdpSetup setup, gboolean with_zrtp,
                                    const CaMediaCodec *codecs, guint n_codecs);
/* The SDP codec for one of ours. */
CaSdpCodecKind ca_session_codec_kind (CaMediaCodec codec);
/* The remote description is usable for this session at all: rtcp-mux and candidates. */
gboolean ca_session_check_remote_basics (const CaSdpMedia *remote, GError **error);

/* ca-session-restart.c */
void ca_session_restart_watch (CaSession *self);   /* the session became ACTIVE */
void ca_session_restart_ice_down (CaSession *self); /* ICE DISCONNECTED while ACTIVE */
void ca_session_restart_clear (CaSession *self);   /* teardown */
void ca_session_restart_gathered (CaSession *self); /* ICE GATHERED again after a regather */
/* An RTP packet of ours went out (plain, before SRTP): keepalives continue its numbering. */
void ca_session_restart_note_sent (CaSession *self, const guint8 *rtp, gsize len);
/* Not one of our media packets: an RTP keepalive (another payload type). */
gboolean ca_session_is_keepalive (CaSession *self, const guint8 *rtp, gsize len);

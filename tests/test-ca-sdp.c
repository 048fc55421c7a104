/* ca-sdp: offers and answers round trip through Sofia's printer and parser; Linphone- and
 * baresip-style offers parse; each hostile SDP gets the right error and SIP status. */
#include "config.h"

#include <string.h>

#include "ca-sdp.h"

#define FP "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4B:65:BA:6A:C5:7C:3E:E4:5B:1E:95"
#define FP_LOWER "4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab:3e:4b:65:ba:6a:c5:7c:3e:e4:5b:1e:95"

/* In the style of linphone 5: session-level ICE credentials, SHA-256 in capitals, RTCP on its
 * own component too, ZRTP hash, rtcp-xr and rtcp-fb extras, speex we do not speak. */
static const char linphone_offer[] =
  "v=0\r\n"
  "o=alice 3019 1337 IN IP4 192.168.1.10\r\n"
  "s=Talk\r\n"
  "c=IN IP4 192.168.1.10\r\n"
  "t=0 0\r\n"
  "a=ice-pwd:31ec21eb38b2ec6d36e8dc7b\r\n"
  "a=ice-ufrag:0ad4b2a1\r\n"
  "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
  "a=record:off\r\n"
  "m=audio 7078 UDP/TLS/RTP/SAVP 96 97 98 0 8 101 99 100\r\n"
  "c=IN IP4 192.168.1.10\r\n"
  "a=rtpmap:96 opus/48000/2\r\n"
  "a=fmtp:96 useinbandfec=1\r\n"
  "a=rtpmap:97 speex/16000\r\n"
  "a=fmtp:97 vbr=on\r\n"
  "a=rtpmap:98 speex/8000\r\n"
  "a=fmtp:98 vbr=on\r\n"
  "a=rtpmap:101 telephone-event/48000\r\n"
  "a=rtpmap:99 telephone-event/16000\r\n"
  "a=rtpmap:100 telephone-event/8000\r\n"
  "a=rtcp-mux\r\n"
  "a=setup:actpass\r\n"
  "a=fingerprint:SHA-256 " FP "\r\n"
  "a=rtcp:7079\r\n"
  "a=candidate:1 1 UDP 2130706303 192.168.1.10 7078 typ host\r\n"
  "a=candidate:1 2 UDP 2130706302 192.168.1.10 7079 typ host\r\n"
  "a=candidate:2 1 UDP 1694498687 203.0.113.20 40012 typ srflx raddr 192.168.1.10 rport 7078\r\n"
  "a=candidate:2 2 UDP 1694498686 203.0.113.20 40013 typ srflx raddr 192.168.1.10 rport 7079\r\n"
  "a=zrtp-hash:1.10 9b1c7f3e2d4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e\r\n"
  "a=rtcp-fb:* trr-int 1000\r\n"
  "a=rtcp-fb:* ccm tmmbr\r\n";

/* In the style of baresip 1.0 with dtls_srtpf and video: media-level ICE, trickle, lower-case
 * fingerprint, an ICE-TCP candidate, and one with a transport nobody knows. */
static const char baresip_offer[] =
  "v=0\r\n"
  "o=- 2890844526 2890844527 IN IP4 10.0.0.20\r\n"
  "s=-\r\n"
  "c=IN IP4 10.0.0.20\r\n"
  "t=0 0\r\n"
  "a=tool:baresip 1.0.0\r\n"
  "m=audio 31442 UDP/TLS/RTP/SAVPF 115 0 8 101\r\n"
  "b=AS:64\r\n"
  "a=rtpmap:115 opus/48000/2\r\n"
  "a=fmtp:115 stereo=1;sprop-stereo=1\r\n"
  "a=rtpmap:0 PCMU/8000\r\n"
  "a=rtpmap:8 PCMA/8000\r\n"
  "a=rtpmap:101 telephone-event/8000\r\n"
  "a=fmtp:101 0-15\r\n"
  "a=ptime:20\r\n"
  "a=rtcp-rsize\r\n"
  "a=rtcp-mux\r\n"
  "a=sendonly\r\n"
  "a=label:1\r\n"
  "a=ssrc:1357924680 cname:3c8ac4d2-5d4a-4c2b\r\n"
  "a=ice-ufrag:nLZa\r\n"
  "a=ice-pwd:fg5bSeA2rR97a1JwlM9pQt\r\n"
  "a=ice-options:trickle\r\n"
  "a=fingerprint:sha-256 " FP_LOWER "\r\n"
  "a=setup:actpass\r\n"
  "a=candidate:a1b2c3 1 UDP 2113932031 10.0.0.20 31442 typ host\r\n"
  "a=candidate:a1b2c4 1 UDP 1677721855 198.51.100.3 31442 typ srflx raddr 10.0.0.20 rport 31442\r\n"
  "a=candidate:a1b2c5 1 TCP 1019216383 10.0.0.20 9 typ host tcptype active\r\n"
  "a=candidate:x9 1 sctp 1 10.0.0.20 5000 typ host\r\n"
  "a=end-of-candidates\r\n"
  "m=video 31444 UDP/TLS/RTP/SAVPF 96\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtcp-mux\r\n";

/* Minimal valid offer; hostile cases are edits of it. */
static const char base_offer[] =
  "v=0\r\n"
  "o=- 1 1 IN IP4 192.0.2.1\r\n"
  "s=-\r\n"
  "c=IN IP4 192.0.2.1\r\n"
  "t=0 0\r\n"
  "m=audio 5000 UDP/TLS/RTP/SAVP 111 0\r\n"
  "a=rtpmap:111 opus/48000/2\r\n"
  "a=rtcp-mux\r\n"
  "a=setup:actpass\r\n"
  "a=fingerprint:sha-256 " FP "\r\n"
  "a=ice-ufrag:Uf4x\r\n"
  "a=ice-pwd:abcdefghijklmnopqrstuv\r\n"
  "a=candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host\r\n";

static CaSdpMedia *
parse_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  CaSdpMedia *m = NULL;

  g_assert_true (ca_sdp_parse (text, strlen (text), &m, &error));
  g_assert_no_error (error);
  g_assert_nonnull (m);
  return m;
}

static CaSdpMedia *
local_media (CaSdpSetup setup)
{
  CaSdpMedia *m = ca_sdp_media_new ();
  CaSdpCandidate c;

  m->session_id = 4242;
  m->session_version = 7;
  m->ice_ufrag = g_strdup ("Loc4l");
  m->ice_pwd = g_strdup ("0123456789abcdefABCDEF+/");
  m->ice_trickle = TRUE;
  m->end_of_candidates = TRUE;
  m->setup = setup;
  g_assert_true (ca_sdp_media_set_fingerprint (m, FP, NULL));
  ca_sdp_media_add_codec (m, CA_SDP_CODEC_OPUS, 111, 48000, "useinbandfec=1");
  ca_sdp_media_add_codec (m, CA_SDP_CODEC_PCMU, 0, 8000, NULL);
  ca_sdp_media_add_codec (m, CA_SDP_CODEC_TELEPHONE_EVENT, 101, 8000, "0-15");
  g_assert_true (ca_sdp_candidate_parse ("1 1 udp 2130706431 192.0.2.7 40000 typ host", &c, NULL));
  ca_sdp_media_add_candidate (m, &c);
  g_assert_true (ca_sdp_candidate_parse ("2 1 udp 16777215 203.0.113.50 49152 typ relay "
                                         "raddr 198.51.100.7 rport 40001", &c, NULL));
  ca_sdp_media_add_candidate (m, &c);
  g_assert_true (ca_sdp_candidate_parse ("3 1 udp 1694498815 198.51.100.7 40001 typ srflx "
                                         "raddr 192.0.2.7 rport 40000", &c, NULL));
  ca_sdp_media_add_candidate (m, &c);
  g_assert_true (ca_sdp_candidate_parse ("4 1 tcp 1015022079 2001:db8::7 9 typ host "
                                         "tcptype active", &c, NULL));
  ca_sdp_media_add_candidate (m, &c);
  return m;
}

static void
test_offer_round_trip (void)
{
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_ACTPASS);
  g_autoptr (CaSdpMedia) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  local->zrtp_hash = g_strdup ("1.10 00ff");
  text = ca_sdp_build_offer (local, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  /* the relay is the default candidate (RFC 8445 §5.1.4) */
  g_assert_nonnull (strstr (text, "c=IN IP4 203.0.113.50\r\n"));
  g_assert_nonnull (strstr (text, "m=audio 49152 UDP/TLS/RTP/SAVP 111 0 101\r\n"));
  g_assert_nonnull (strstr (text, "o=- 4242 7 IN IP4 203.0.113.50\r\n"));
  g_assert_nonnull (strstr (text, "a=fingerprint:sha-256 " FP "\r\n"));

  back = parse_ok (text);
  g_assert_cmpuint (back->session_id, ==, 4242);
  g_assert_cmpuint (back->session_version, ==, 7);
  g_assert_cmpint (back->profile, ==, CA_SDP_PROFILE_UDP_TLS_RTP_SAVP);
  g_assert_cmpint (back->direction, ==, CA_SDP_DIRECTION_SENDRECV);
  g_assert_cmpstr (back->ice_ufrag, ==, "Loc4l");
  g_assert_cmpstr (back->ice_pwd, ==, local->ice_pwd);
  g_assert_true (back->ice_trickle);
  g_assert_true (back->end_of_candidates);
  g_assert_true (back->rtcp_mux);
  g_assert_false (back->ice_lite);
  g_assert_cmpint (back->setup, ==, CA_SDP_SETUP_ACTPASS);
  g_assert_cmpmem (back->fingerprint, 32, local->fingerprint, 32);
  g_assert_cmpstr (back->zrtp_hash, ==, "1.10 00ff");
  g_assert_cmpuint (back->ignored_candidates, ==, 0);
  g_assert_cmpuint (back->candidates->len, ==, local->candidates->len);
  g_assert_cmpmem (back->candidates->data, sizeof (CaSdpCandidate) * back->candidates->len,
                   local->candidates->data, sizeof (CaSdpCandidate) * local->candidates->len);
  g_assert_cmpuint (back->codecs->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      const CaSdpCodec *a = &g_array_index (back->codecs, CaSdpCodec, i);
      const CaSdpCodec *b = &g_array_index (local->codecs, CaSdpCodec, i);

      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpuint (a->pt, ==, b->pt);
      g_assert_cmpuint (a->rate, ==, b->rate);
      g_assert_cmpstr (a->fmtp, ==, b->fmtp);
    }
}

static void
test_offer_no_candidates (void)
{
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_ACTPASS);
  g_autoptr (CaSdpMedia) back = NULL;
  g_autofree char *text = NULL;

  g_array_set_size (local->candidates, 0);
  local->end_of_candidates = FALSE;
  local->session_id = 0;
  text = ca_sdp_build_offer (local, NULL);
  g_assert_nonnull (strstr (text, "c=IN IP4 0.0.0.0\r\n"));
  g_assert_nonnull (strstr (text, "m=audio 9 "));
  back = parse_ok (text);
  g_assert_cmpuint (back->candidates->len, ==, 0);
  g_assert_false (back->end_of_candidates);
  g_assert_cmpuint (back->session_id, !=, 0);
}

static void
test_offer_refusals (void)
{
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_ACTIVE);
  g_autoptr (GError) error = NULL;

  g_assert_null (ca_sdp_build_offer (local, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP);
  g_clear_error (&error);
  local->setup = CA_SDP_SETUP_ACTPASS;
  local->has_fingerprint = FALSE;
  g_assert_null (ca_sdp_build_offer (local, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_FINGERPRINT);
  g_clear_error (&error);
  local->has_fingerprint = TRUE;
  g_clear_pointer (&local->ice_pwd, g_free);
  g_assert_null (ca_sdp_build_offer (local, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS);
}

static void
test_linphone (void)
{
  g_autoptr (CaSdpMedia) offer = parse_ok (linphone_offer);
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_ACTIVE);
  g_autoptr (CaSdpMedia) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *fp = ca_sdp_media_fingerprint_string (offer);
  g_autofree char *text = NULL;
  const CaSdpCodec *opus;
  gboolean dtls_client = TRUE;

  g_assert_cmpstr (offer->ice_ufrag, ==, "0ad4b2a1");
  g_assert_cmpstr (offer->ice_pwd, ==, "31ec21eb38b2ec6d36e8dc7b");
  g_assert_cmpstr (fp, ==, FP);
  g_assert_cmpint (offer->setup, ==, CA_SDP_SETUP_ACTPASS);
  g_assert_cmpuint (offer->candidates->len, ==, 4);
  g_assert_cmpuint (g_array_index (offer->candidates, CaSdpCandidate, 3).component, ==, 2);
  g_assert_cmpstr (offer->zrtp_hash, ==,
                   "1.10 9b1c7f3e2d4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e");
  g_assert_cmpuint (offer->codecs->len, ==, 3);
  opus = &g_array_index (offer->codecs, CaSdpCodec, 0);
  g_assert_cmpint (opus->kind, ==, CA_SDP_CODEC_OPUS);
  g_assert_cmpuint (opus->pt, ==, 96);
  g_assert_cmpstr (opus->fmtp, ==, "useinbandfec=1");
  g_assert_cmpint (g_array_index (offer->codecs, CaSdpCodec, 1).kind, ==, CA_SDP_CODEC_PCMU);
  g_assert_cmpuint (g_array_index (offer->codecs, CaSdpCodec, 2).pt, ==, 101);
  g_assert_cmpuint (g_array_index (offer->codecs, CaSdpCodec, 2).rate, ==, 48000);

  text = ca_sdp_build_answer (local, offer, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  /* the offer's payload types, in its order */
  g_assert_nonnull (strstr (text, "m=audio 49152 UDP/TLS/RTP/SAVP 96 0 101\r\n"));
  g_assert_nonnull (strstr (text, "a=rtpmap:101 telephone-event/48000\r\n"));
  g_assert_nonnull (strstr (text, "a=fmtp:96 useinbandfec=1\r\n"));
  answer = parse_ok (text);
  g_assert_true (answer->rtcp_mux);
  g_assert_cmpint (answer->setup, ==, CA_SDP_SETUP_ACTIVE);
  g_assert_true (ca_sdp_check_answer (offer, answer, &dtls_client, &error));
  g_assert_no_error (error);
  g_assert_false (dtls_client); /* the answerer took active: the offerer is the server */
}

static void
test_baresip (void)
{
  g_autoptr (CaSdpMedia) offer = parse_ok (baresip_offer);
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_PASSIVE);
  g_autoptr (CaSdpMedia) answer = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gboolean dtls_client = FALSE;

  g_assert_cmpint (offer->profile, ==, CA_SDP_PROFILE_UDP_TLS_RTP_SAVPF);
  g_assert_cmpint (offer->direction, ==, CA_SDP_DIRECTION_SENDONLY);
  g_assert_true (offer->ice_trickle);
  g_assert_true (offer->end_of_candidates);
  g_assert_cmpuint (offer->candidates->len, ==, 3);
  g_assert_cmpuint (offer->ignored_candidates, ==, 1);
  g_assert_cmpint (g_array_index (offer->candidates, CaSdpCandidate, 2).tcptype, ==,
                   CA_SDP_TCPTYPE_ACTIVE);
  g_assert_cmpuint (offer->mlines->len, ==, 2);
  g_assert_cmpuint (offer->audio_index, ==, 0);
  g_assert_cmpuint (offer->codecs->len, ==, 3);
  g_assert_cmpstr (g_array_index (offer->codecs, CaSdpCodec, 2).fmtp, ==, "0-15");

  ca_sdp_media_add_codec (local, CA_SDP_CODEC_OPUS, 120, 48000, NULL); /* duplicate: ignored */
  g_array_remove_index (local->codecs, 2);                              /* no telephone-event */
  text = ca_sdp_build_answer (local, offer, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "m=audio 49152 UDP/TLS/RTP/SAVPF 115 0\r\n"));
  g_assert_nonnull (strstr (text, "a=recvonly\r\n")); /* the answer to sendonly */
  g_assert_nonnull (strstr (text, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"));
  answer = parse_ok (text);
  g_assert_cmpuint (answer->mlines->len, ==, 2);
  g_assert_true (answer->rtcp_mux);
  g_assert_cmpint (answer->direction, ==, CA_SDP_DIRECTION_RECVONLY);
  g_assert_true (ca_sdp_check_answer (offer, answer, &dtls_client, NULL));
  g_assert_true (dtls_client);
}

static void
test_answer_refusals (void)
{
  g_autoptr (CaSdpMedia) offer = parse_ok (base_offer);
  g_autoptr (CaSdpMedia) local = local_media (CA_SDP_SETUP_ACTPASS);
  g_autoptr (CaSdpMedia) answer = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_null (ca_sdp_build_answer (local, offer, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP);
  g_clear_error (&error);
  offer->setup = CA_SDP_SETUP_ACTIVE;
  local->setup = CA_SDP_SETUP_ACTIVE;
  g_assert_null (ca_sdp_build_answer (local, offer, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP);
  g_clear_error (&error);
  g_assert_cmpint (ca_sdp_setup_for_answer (CA_SDP_SETUP_ACTIVE), ==, CA_SDP_SETUP_PASSIVE);
  g_assert_cmpint (ca_sdp_setup_for_answer (CA_SDP_SETUP_PASSIVE), ==, CA_SDP_SETUP_ACTIVE);
  g_assert_cmpint (ca_sdp_setup_for_answer (CA_SDP_SETUP_ACTPASS), ==, CA_SDP_SETUP_ACTIVE);

  local->setup = CA_SDP_SETUP_PASSIVE;
  offer->rtcp_mux = FALSE;
  text = ca_sdp_build_answer (local, offer, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (text, "a=rtcp-mux"));
  g_assert_nonnull (strstr (text, "a=setup:passive\r\n"));

  g_array_remove_index (local->codecs, 0); /* we take only PCMU; the offer has no PCMU... */
  g_array_remove_index (offer->codecs, 1); /* ...once its PCMU is gone */
  g_assert_null (ca_sdp_build_answer (local, offer, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC);
  g_clear_error (&error);

  /* an answer that says actpass, or picks a codec we never offered */
  g_clear_pointer (&offer, ca_sdp_media_free);
  offer = parse_ok (base_offer);
  g_array_set_size (offer->codecs, 1);
  answer = parse_ok (base_offer);
  g_assert_false (ca_sdp_check_answer (offer, answer, NULL, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP);
  g_clear_error (&error);
  answer->setup = CA_SDP_SETUP_ACTIVE;
  g_assert_false (ca_sdp_check_answer (offer, answer, NULL, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC);
}

typedef struct {
  const char *find, *replace;
  int code;
  guint status;
  const char *find2, *replace2; /* a second edit, or NULL */
} Edit;

static const Edit edits[] = {
  { "a=ice-ufrag:Uf4x\r\n", "", CA_SDP_ERROR_NO_ICE_CREDENTIALS, 488 },
  { "a=ice-pwd:abcdefghijklmnopqrstuv\r\n", "", CA_SDP_ERROR_NO_ICE_CREDENTIALS, 488 },
  { "ice-ufrag:Uf4x", "ice-ufrag:Uf4", CA_SDP_ERROR_BAD_ICE_CREDENTIALS, 400 },
  { "ice-ufrag:Uf4x", "ice-ufrag:Uf-x", CA_SDP_ERROR_BAD_ICE_CREDENTIALS, 400 },
  { "ice-pwd:abcdefghijklmnopqrstuv", "ice-pwd:abcdefghijklmnopqrstu", CA_SDP_ERROR_BAD_ICE_CREDENTIALS, 400 },
  { "ice-pwd:abcdefghijklmnopqrstuv", "ice-pwd:abcdefghijklmnopqrst=v", CA_SDP_ERROR_BAD_ICE_CREDENTIALS, 400 },
  { "a=ice-ufrag:Uf4x\r\n", "a=ice-ufrag:Uf4x\r\na=ice-ufrag:Other\r\n", CA_SDP_ERROR_BAD_ICE_CREDENTIALS, 400 },
  { "UDP/TLS/RTP/SAVP", "RTP/AVP", CA_SDP_ERROR_UNENCRYPTED, 488,
    "a=fingerprint:sha-256 " FP "\r\n", "" },
  { "UDP/TLS/RTP/SAVP", "RTP/AVPF", CA_SDP_ERROR_UNENCRYPTED, 488,
    "a=fingerprint:sha-256 " FP "\r\n", "a=zrtp-hash:1.10 00ff\r\n" },
  { "a=fingerprint:sha-256 " FP "\r\n", "", CA_SDP_ERROR_NO_FINGERPRINT, 488 },
  { "a=fingerprint:sha-256 " FP "\r\n", "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\r\n", CA_SDP_ERROR_NO_FINGERPRINT, 488 },
  { "sha-256 4A:", "sha-256 ", CA_SDP_ERROR_BAD_FINGERPRINT, 400 },
  { "sha-256 4A:", "sha-256 4A-", CA_SDP_ERROR_BAD_FINGERPRINT, 400 },
  { "sha-256 4A:", "sha-256 ZZ:", CA_SDP_ERROR_BAD_FINGERPRINT, 400 },
  { "sha-256 " FP, "sha-256", CA_SDP_ERROR_BAD_FINGERPRINT, 400 },
  { "setup:actpass", "setup:holdconn", CA_SDP_ERROR_BAD_SETUP, 488 },
  { "setup:actpass", "setup:", CA_SDP_ERROR_BAD_SETUP, 488 },
  { "opus/48000/2", "opus/48000", CA_SDP_ERROR_NO_COMMON_CODEC, 488, "111 0\r\n", "111\r\n" },
  { "opus/48000/2", "opus/44100/2", CA_SDP_ERROR_NO_COMMON_CODEC, 488, "111 0\r\n", "111\r\n" },
  { "111 0\r\n", "8 97\r\n", CA_SDP_ERROR_NO_COMMON_CODEC, 488,
    "a=rtpmap:111 opus/48000/2", "a=rtpmap:97 speex/16000" },
  { "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus", CA_SDP_ERROR_MALFORMED, 400 },
  { "111 0\r\n", "111 x\r\n", CA_SDP_ERROR_MALFORMED, 400 },
  { "111 0\r\n", "111 128\r\n", CA_SDP_ERROR_MALFORMED, 400 },
  /* Sofia-SIP loops on these until memory runs out: refused before it sees them */
  { "111 0\r\n", "111 0 ;\r\n", CA_SDP_ERROR_MALFORMED, 400 },
  { "UDP/TLS/RTP/SAVP", "UDP/TLS/RT\xab/SAVP", CA_SDP_ERROR_MALFORMED, 400 },
  { "5000 UDP/TLS/RTP/SAVP 111 0", "5hijk /48000host", CA_SDP_ERROR_MALFORMED, 400 },
  { "a=rtcp-mux\r\n", "a=rtcp-mux\rm=audio 9 X\xd0/Y 0\r\n", CA_SDP_ERROR_MALFORMED, 400 },
  { "m=audio 5000", "m=video 5000", CA_SDP_ERROR_NO_AUDIO, 488 },
  { "m=audio 5000", "m=audio 0", CA_SDP_ERROR_NO_AUDIO, 488 },
  { "UDP/TLS/RTP/SAVP", "TCP/TLS/RTP/SAVP", CA_SDP_ERROR_NO_AUDIO, 488 },
  { "5000 typ host", "70000 typ host", CA_SDP_ERROR_BAD_CANDIDATE, 400 },
  { "v=0\r\n", "", CA_SDP_ERROR_MALFORMED, 400 },
  { "c=IN IP4 192.0.2.1\r\n", "", CA_SDP_ERROR_MALFORMED, 400 },
};

static char *
edit (const char *find, const char *replace)
{
  GString *s = g_string_new (base_offer);

  g_assert_nonnull (strstr (base_offer, find));
  g_string_replace (s, find, replace, 1);
  return g_string_free (s, FALSE);
}

static void
test_hostile (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = edit (edits[i].find, edits[i].replace);
      CaSdpMedia *m = NULL;

      if (edits[i].find2 != NULL)
        {
          GString *s = g_string_new (text);

          g_assert_nonnull (strstr (text, edits[i].find2));
          g_string_replace (s, edits[i].find2, edits[i].replace2, 1);
          g_free (text);
          text = g_string_free (s, FALSE);
        }

      g_test_message ("edit %u: \"%s\" -> \"%s\"", i, edits[i].find, edits[i].replace);
      g_assert_false (ca_sdp_parse (text, strlen (text), &m, &error));
      g_assert_null (m);
      g_assert_error (error, CA_SDP_ERROR, edits[i].code);
      g_assert_cmpuint (ca_sdp_error_sip_status (error), ==, edits[i].status);
    }
}

/* RTP/SAVP with SDES keys: the keys go through the server, so not end to end. Linphone's
 * "RTP/AVP with a fingerprint" style is fine. */
static void
test_profiles (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *crypto = edit ("UDP/TLS/RTP/SAVP 111 0\r\n", "RTP/SAVP 111 0\r\na=crypto:1 "
                                  "AES_CM_128_HMAC_SHA1_80 "
                                  "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n");
  g_autofree char *avp = edit ("UDP/TLS/RTP/SAVP", "RTP/AVP");
  g_autoptr (GString) sdes = g_string_new (crypto);
  g_autoptr (CaSdpMedia) m = NULL;

  g_string_replace (sdes, "a=fingerprint:sha-256 " FP "\r\n", "", 1);
  g_assert_false (ca_sdp_parse (sdes->str, sdes->len, &m, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_UNENCRYPTED);
  g_clear_error (&error);
  m = parse_ok (avp);
  g_assert_cmpint (m->profile, ==, CA_SDP_PROFILE_RTP_AVP);
  g_assert_cmpuint (m->codecs->len, ==, 2); /* Sofia reads rtpmaps itself for RTP/AVP */
  g_assert_cmpuint (g_array_index (m->codecs, CaSdpCodec, 0).pt, ==, 111);
}

static void
test_fingerprints (void)
{
  g_autoptr (CaSdpMedia) m = ca_sdp_media_new ();
  g_autoptr (CaSdpMedia) two = NULL;
  g_autoptr (CaSdpMedia) session = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *multi = edit ("a=fingerprint:", "a=fingerprint:sha-1 00:11\r\na=fingerprint:");
  g_autoptr (GString) at_session = g_string_new (base_offer);

  g_assert_true (ca_sdp_media_set_fingerprint (m, FP_LOWER, &error));
  upper = ca_sdp_media_fingerprint_string (m);
  g_assert_cmpstr (upper, ==, FP);
  g_assert_cmpuint (m->fingerprint[0], ==, 0x4a);
  g_assert_cmpuint (m->fingerprint[31], ==, 0x95);
  g_assert_false (ca_sdp_media_set_fingerprint (m, FP ":00", &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_FINGERPRINT);
  g_clear_error (&error);
  g_assert_false (ca_sdp_media_set_fingerprint (m, "4A", &error));
  g_clear_error (&error);

  /* several hashes: the sha-256 one is used */
  two = parse_ok (multi);
  g_assert_cmpmem (two->fingerprint, 32, m->fingerprint, 32);
  /* session level applies when the media has none */
  g_string_replace (at_session, "a=fingerprint:sha-256 " FP "\r\n", "", 1);
  g_string_replace (at_session, "t=0 0\r\n", "t=0 0\r\na=fingerprint:sha-256 " FP "\r\n", 1);
  session = parse_ok (at_session->str);
  g_assert_true (session->has_fingerprint);
  g_assert_cmpmem (session->fingerprint, 32, m->fingerprint, 32);
}

static void
test_candidate_counts (void)
{
  for (guint n = 63; n <= 66; n++)
    {
      g_autoptr (GString) s = g_string_new (base_offer);
      g_autoptr (GError) error = NULL;
      g_autoptr (CaSdpMedia) m = NULL;

      for (guint i = 1; i < n; i++) /* the base has one */
        g_string_append_printf (s, "a=candidate:%u 1 %s %u 192.0.2.%u %u typ host\r\n", i + 1,
                                i % 2 ? "udp" : "quic", 1000 + i, i % 250 + 1, 5000 + i);
      if (n <= CA_SDP_MAX_CANDIDATES)
        {
          g_assert_true (ca_sdp_parse (s->str, s->len, &m, &error));
          g_assert_cmpuint (m->candidates->len + m->ignored_candidates, ==, n);
          g_assert_cmpuint (m->ignored_candidates, ==, (n - 1) / 2);
        }
      else
        {
          g_assert_false (ca_sdp_parse (s->str, s->len, &m, &error));
          g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_TOO_MANY_CANDIDATES);
          g_assert_cmpuint (ca_sdp_error_sip_status (error), ==, 488);
        }
    }
}

static void
test_malformed_input (void)
{
  static const char *const texts[] = { "garbage", "v=0\r\n", "\r\n\r\n", "m=audio 1 RTP/AVP 0" };
  g_autoptr (GString) big = g_string_new (base_offer);
  g_autoptr (GString) lines = g_string_new (base_offer);
  g_autoptr (GError) error = NULL;
  CaSdpMedia *m = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_assert_false (ca_sdp_parse (texts[i], strlen (texts[i]), &m, &error));
      g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  g_assert_false (ca_sdp_parse ("", 0, &m, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (ca_sdp_parse (base_offer, sizeof base_offer, &m, &error)); /* with its NUL */
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_MALFORMED);
  g_clear_error (&error);
  while (big->len <= CA_SDP_MAX_SIZE)
    g_string_append (big, "a=x-padding:0123456789abcdef0123456789abcdef\r\n");
  g_assert_false (ca_sdp_parse (big->str, big->len, &m, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  for (guint i = 0; i < CA_SDP_MAX_MEDIA; i++)
    g_string_append (lines, "m=video 0 RTP/AVP 96\r\n");
  g_assert_false (ca_sdp_parse (lines->str, lines->len, &m, &error));
  g_assert_error (error, CA_SDP_ERROR, CA_SDP_ERROR_TOO_LARGE);
  g_assert_null (m);
}

static void
test_status_mapping (void)
{
  g_autoptr (GError) other = g_error_new_literal (G_FILE_ERROR, 0, "x");

  g_assert_cmpuint (ca_sdp_error_sip_status (other), ==, 500);
  g_assert_cmpuint (ca_sdp_error_sip_status (NULL), ==, 500);
  for (int c = 0; c < CA_SDP_ERROR_LAST; c++)
    {
      g_autoptr (GError) e = g_error_new_literal (CA_SDP_ERROR, c, "x");
      guint status = ca_sdp_error_sip_status (e);

      g_assert_true (status == 400 || status == 488);
      g_assert_cmpstr (ca_sdp_error_to_string ((CaSdpError) c), !=, "?");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-agent/sdp/offer/round-trip", test_offer_round_trip);
  g_test_add_func ("/client-agent/sdp/offer/no-candidates", test_offer_no_candidates);
  g_test_add_func ("/client-agent/sdp/offer/refusals", test_offer_refusals);
  g_test_add_func ("/client-agent/sdp/answer/linphone", test_linphone);
  g_test_add_func ("/client-agent/sdp/answer/baresip", test_baresip);
  g_test_add_func ("/client-agent/sdp/answer/refusals", test_answer_refusals);
  g_test_add_func ("/client-agent/sdp/parse/hostile", test_hostile);
  g_test_add_func ("/client-agent/sdp/parse/profiles", test_profiles);
  g_test_add_func ("/client-agent/sdp/parse/fingerprints", test_fingerprints);
  g_test_add_func ("/client-agent/sdp/parse/candidate-counts", test_candidate_counts);
  g_test_add_func ("/client-agent/sdp/parse/malformed", test_malformed_input);
  g_test_add_func ("/client-agent/sdp/parse/status", test_status_mapping);
  return g_test_run ();
}

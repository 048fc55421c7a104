/* ca-sdp-build: offers and answers printed by Sofia-SIP's SDP printer from a CaSdpMedia.
 * We fill Sofia's structures on a su_home; sdp_print() writes the text. */
#include "config.h"

#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "ca-sdp-priv.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (su_home_t, su_home_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sdp_printer_t, sdp_printer_free)

#define FAIL(code, ...) (g_set_error (error, CA_SDP_ERROR, (code), __VA_ARGS__), FALSE)

typedef struct {
  su_home_t *home;
  sdp_attribute_t **tail;
} Attrs;

static void
add_attr (Attrs *l, const char *name, const char *value)
{
  sdp_attribute_t *a = su_zalloc (l->home, sizeof *a);

  a->a_size = sizeof *a;
  a->a_name = su_strdup (l->home, name);
  a->a_value = value ? su_strdup (l->home, value) : NULL;
  *l->tail = a;
  l->tail = &a->a_next;
}

static void
add_attr_take (Attrs *l, const char *name, char *value)
{
  add_attr (l, name, value);
  g_free (value);
}

static sdp_list_t *
new_list (su_home_t *home, const char *text)
{
  sdp_list_t *l = su_zalloc (home, sizeof *l);

  l->l_size = sizeof *l;
  l->l_text = su_strdup (home, text);
  return l;
}

/* RFC 8445 §5.1.4 suggests a relayed candidate as the default (it works from anywhere). */
static const CaSdpCandidate *
default_candidate (const CaSdpMedia *m)
{
  static const int rank[] = {
    [CA_SDP_CANDIDATE_RELAY] = 4, [CA_SDP_CANDIDATE_SRFLX] = 3,
    [CA_SDP_CANDIDATE_PRFLX] = 2, [CA_SDP_CANDIDATE_HOST] = 1,
  };
  const CaSdpCandidate *best = NULL;

  for (guint i = 0; i < m->candidates->len; i++)
    {
      const CaSdpCandidate *c = &g_array_index (m->candidates, CaSdpCandidate, i);

      if (c->component != 1 || c->transport != CA_SDP_TRANSPORT_UDP || c->type >= G_N_ELEMENTS (rank))
        continue;
      if (best == NULL || rank[c->type] > rank[best->type])
        best = c;
    }
  return best;
}

static gboolean
check_local (const CaSdpMedia *local, GError **error)
{
  if (!ca_sdp_check_ice_credentials (local->ice_ufrag, local->ice_pwd, error))
    return FALSE;
  if (!local->has_fingerprint)
    return FAIL (CA_SDP_ERROR_NO_FINGERPRINT, "our description has no DTLS fingerprint");
  if (local->profile >= CA_SDP_PROFILE_LAST)
    return FAIL (CA_SDP_ERROR_NO_AUDIO, "unknown profile");
  return TRUE;
}

/* Our audio m-line: codecs, DTLS, ICE (RFC 8839 §5), rtcp-mux. */
static sdp_media_t *
audio_media (su_home_t *home, sdp_session_t *s, const CaSdpMedia *local, const GArray *codecs,
             CaSdpProfile profile, CaSdpSetup setup, CaSdpDirection dir, gboolean rtcp_mux)
{
  static const int modes[] = { sdp_sendrecv, sdp_sendonly, sdp_recvonly, sdp_inactive };
  sdp_media_t *m = su_zalloc (home, sizeof *m);
  const CaSdpCandidate *def = default_candidate (local);
  sdp_list_t **ftail = &m->m_format;
  Attrs a = { home, &m->m_attributes };
  g_autofree char *fp = NULL;

  m->m_size = sizeof *m;
  m->m_session = s;
  m->m_type = sdp_media_audio;
  m->m_port = def ? def->port : 9; /* RFC 8840 §4.1.1: 9 until there is a candidate */
  m->m_proto = sdp_proto_x;        /* Sofia then prints m_proto_name and leaves rtpmaps to us */
  m->m_proto_name = ca_sdp_profile_to_string (profile);
  m->m_mode = (unsigned) modes[dir];
  for (guint i = 0; i < codecs->len; i++)
    {
      const CaSdpCodec *c = &g_array_index (codecs, CaSdpCodec, i);
      g_autofree char *pt = g_strdup_printf ("%u", c->pt);

      *ftail = new_list (home, pt);
      ftail = &(*ftail)->l_next;
      if (c->kind == CA_SDP_CODEC_OPUS)
        add_attr_take (&a, "rtpmap", g_strdup_printf ("%u opus/48000/2", c->pt));
      else if (c->kind == CA_SDP_CODEC_PCMU)
        add_attr_take (&a, "rtpmap", g_strdup_printf ("%u PCMU/8000", c->pt));
      else
        add_attr_take (&a, "rtpmap", g_strdup_printf ("%u telephone-event/%u", c->pt,
                                                      c->rate == 48000 ? 48000 : 8000));
      if (c->fmtp != NULL)
        add_attr_take (&a, "fmtp", g_strdup_printf ("%u %s", c->pt, c->fmtp));
    }
  if (rtcp_mux)
    add_attr (&a, "rtcp-mux", NULL);
  add_attr (&a, "setup", ca_sdp_setup_to_string (setup));
  fp = ca_sdp_media_fingerprint_string (local);
  add_attr_take (&a, "fingerprint", g_strconcat ("sha-256 ", fp, NULL));
  add_attr (&a, "ice-ufrag", local->ice_ufrag);
  add_attr (&a, "ice-pwd", local->ice_pwd);
  if (local->ice_trickle)
    add_attr (&a, "ice-options", "trickle");
  for (guint i = 0; i < local->candidates->len; i++)
    add_attr_take (&a, "candidate",
                   ca_sdp_candidate_to_string (&g_array_index (local->candidates,
                                                               CaSdpCandidate, i)));
  if (local->end_of_candidates)
    add_attr (&a, "end-of-candidates", NULL);
  if (local->zrtp_hash != NULL)
    add_attr (&a, "zrtp-hash", local->zrtp_hash);
  return m;
}

/* RFC 3264 §6: an m-line we do not take is answered with port 0. */
static sdp_media_t *
rejected_media (su_home_t *home, sdp_session_t *s, const char *mline)
{
  g_auto (GStrv) f = g_strsplit (mline, " ", 3);
  sdp_media_t *m = su_zalloc (home, sizeof *m);

  m->m_size = sizeof *m;
  m->m_session = s;
  m->m_type = sdp_media_x;
  m->m_type_name = su_strdup (home, f[0]);
  m->m_proto = sdp_proto_x;
  m->m_proto_name = su_strdup (home, f[1] ? f[1] : "RTP/AVP");
  m->m_format = new_list (home, f[1] && f[2] ? f[2] : "0");
  m->m_rejected = 1;
  m->m_mode = sdp_sendrecv;
  return m;
}

static char *
print (const CaSdpMedia *local, const CaSdpMedia *offer, const GArray *codecs,
       CaSdpProfile profile, CaSdpSetup setup, CaSdpDirection dir, GError **error)
{
  g_autoptr (su_home_t) home = su_home_new (sizeof (su_home_t));
  g_autoptr (sdp_printer_t) printer = NULL;
  const CaSdpCandidate *def = default_candidate (local);
  sdp_session_t *s = su_zalloc (home, sizeof *s);
  sdp_origin_t *o = su_zalloc (home, sizeof *o);
  sdp_connection_t *c = su_zalloc (home, sizeof *c);
  sdp_time_t *t = su_zalloc (home, sizeof *t);
  sdp_media_t **mtail = &s->sdp_media;
  Attrs sa = { home, &s->sdp_attributes };
  guint n_lines = offer ? offer->mlines->len : 1, audio_index = offer ? offer->audio_index : 0;

  c->c_size = sizeof *c;
  c->c_nettype = sdp_net_in;
  c->c_addrtype = def && strchr (def->address, ':') ? sdp_addr_ip6 : sdp_addr_ip4;
  c->c_address = su_strdup (home, def ? def->address : "0.0.0.0");
  o->o_size = sizeof *o;
  o->o_username = "-";
  /* 62 bits: some parsers read the id as a signed 64-bit number */
  o->o_id = local->session_id ? local->session_id
                              : ((guint64) g_random_int () << 30 ^ g_random_int ()) | 1;
  o->o_version = local->session_version;
  o->o_address = c;
  t->t_size = sizeof *t;
  s->sdp_size = sizeof *s;
  s->sdp_origin = o;
  s->sdp_subject = "-";
  s->sdp_connection = c;
  s->sdp_time = t;
  if (local->ice_lite)
    add_attr (&sa, "ice-lite", NULL);
  for (guint i = 0; i < n_lines; i++)
    {
      *mtail = i == audio_index
                   ? audio_media (home, s, local, codecs, profile, setup, dir,
                                  local->rtcp_mux && (offer == NULL || offer->rtcp_mux))
                   : rejected_media (home, s, g_ptr_array_index (offer->mlines, i));
      mtail = &(*mtail)->m_next;
    }

  printer = sdp_print (home, s, NULL, 0, sdp_f_mode_always);
  if (printer == NULL || sdp_printing_error (printer) != NULL || sdp_message (printer) == NULL)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_MALFORMED, "Sofia's printer: %s",
                   printer && sdp_printing_error (printer) ? sdp_printing_error (printer)
                                                           : "failed");
      return NULL;
    }
  return g_strndup (sdp_message (printer), (gsize) sdp_message_size (printer));
}

char *
ca_sdp_build_offer (const CaSdpMedia *local, GError **error)
{
  g_return_val_if_fail (local != NULL, NULL);

  if (!check_local (local, error))
    return NULL;
  if (local->setup != CA_SDP_SETUP_ACTPASS)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP,
                   "an offer says a=setup:actpass (RFC 5763 §5)");
      return NULL;
    }
  if (ca_sdp_media_find_codec (local, CA_SDP_CODEC_OPUS) == NULL
      && ca_sdp_media_find_codec (local, CA_SDP_CODEC_PCMU) == NULL)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC,
                   "an offer needs opus or PCMU");
      return NULL;
    }
  return print (local, NULL, local->codecs, local->profile, local->setup, local->direction,
                error);
}

CaSdpSetup
ca_sdp_setup_for_answer (CaSdpSetup offered)
{
  return offered == CA_SDP_SETUP_ACTIVE ? CA_SDP_SETUP_PASSIVE : CA_SDP_SETUP_ACTIVE;
}

/* sendonly is 1, recvonly 2, as bits; the answer sends what the offerer receives. */
static CaSdpDirection
answer_direction (CaSdpDirection local, CaSdpDirection offered)
{
  static const guint bits[] = { 3, 1, 2, 0 };
  guint o = bits[offered], want = bits[local] & (((o & 1) << 1) | ((o & 2) >> 1));

  for (int d = 0; d < CA_SDP_DIRECTION_LAST; d++)
    if (bits[d] == want)
      return (CaSdpDirection) d;
  return CA_SDP_DIRECTION_INACTIVE;
}

char *
ca_sdp_build_answer (const CaSdpMedia *local, const CaSdpMedia *offer, GError **error)
{
  g_autoptr (GArray) codecs = NULL;
  gboolean audio = FALSE;

  g_return_val_if_fail (local != NULL && offer != NULL, NULL);

  if (!check_local (local, error))
    return NULL;
  if (local->setup != ca_sdp_setup_for_answer (offer->setup)
      && !(offer->setup == CA_SDP_SETUP_ACTPASS && local->setup == CA_SDP_SETUP_PASSIVE))
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_SETUP, "a=setup:%s cannot answer %s",
                   ca_sdp_setup_to_string (local->setup), ca_sdp_setup_to_string (offer->setup));
      return NULL;
    }
  /* The offer's payload types and order (RFC 3264 §6.1), our fmtp (it describes what we
   * receive). */
  codecs = g_array_new (FALSE, TRUE, sizeof (CaSdpCodec));
  for (guint i = 0; i < offer->codecs->len; i++)
    {
      const CaSdpCodec *theirs = &g_array_index (offer->codecs, CaSdpCodec, i);
      const CaSdpCodec *ours = ca_sdp_media_find_codec (local, theirs->kind);
      CaSdpCodec c;

      if (ours == NULL)
        continue;
      c = *theirs;
      c.fmtp = ours->fmtp; /* borrowed: this array has no clear function */
      g_array_append_val (codecs, c);
      audio |= c.kind != CA_SDP_CODEC_TELEPHONE_EVENT;
    }
  if (!audio)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_COMMON_CODEC,
                   "no codec of the offer is one of ours");
      return NULL;
    }
  return print (local, offer, codecs, offer->profile, local->setup,
                answer_direction (local->direction, offer->direction), error);
}

gboolean
ca_sdp_check_answer (const CaSdpMedia *offer, const CaSdpMedia *answer,
                     gboolean *out_dtls_client, GError **error)
{
  g_return_val_if_fail (offer != NULL && answer != NULL, FALSE);

  if (answer->profile != offer->profile)
    return FAIL (CA_SDP_ERROR_NO_AUDIO, "the answer changed the profile to %s",
                 ca_sdp_profile_to_string (answer->profile));
  if (answer->setup == CA_SDP_SETUP_ACTPASS
      || (offer->setup != CA_SDP_SETUP_ACTPASS
          && answer->setup != ca_sdp_setup_for_answer (offer->setup)))
    return FAIL (CA_SDP_ERROR_BAD_SETUP, "a=setup:%s in an answer to %s",
                 ca_sdp_setup_to_string (answer->setup), ca_sdp_setup_to_string (offer->setup));
  for (guint i = 0; i < answer->codecs->len; i++)
    if (ca_sdp_media_find_codec (offer, g_array_index (answer->codecs, CaSdpCodec, i).kind)
        == NULL)
      return FAIL (CA_SDP_ERROR_NO_COMMON_CODEC, "the answer chose %s, which we did not offer",
                   ca_sdp_codec_kind_to_string (g_array_index (answer->codecs, CaSdpCodec,
                                                               i).kind));
  if (out_dtls_client != NULL)
    *out_dtls_client = answer->setup == CA_SDP_SETUP_PASSIVE;
  return TRUE;
}

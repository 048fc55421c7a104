/* ca-sdp-media: the CaSdpMedia value, its enums' names, errors and their SIP status. */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "ca-sdp-priv.h"

G_DEFINE_QUARK (ca-sdp-error-quark, ca_sdp_error)

static const char *const error_names[] = {
  "malformed SDP",
  "SDP too large",
  "no usable audio stream",
  "no end-to-end encryption offered",
  "missing ICE credentials",
  "bad ICE credentials",
  "too many ICE candidates",
  "bad ICE candidate",
  "ICE candidate ignored",
  "no sha-256 DTLS fingerprint",
  "bad DTLS fingerprint",
  "bad DTLS setup role",
  "no common codec",
};
G_STATIC_ASSERT (G_N_ELEMENTS (error_names) == CA_SDP_ERROR_LAST);

const char *
ca_sdp_error_to_string (CaSdpError code)
{
  return code < CA_SDP_ERROR_LAST ? error_names[code] : "?";
}

guint
ca_sdp_error_sip_status (const GError *error)
{
  if (error == NULL || error->domain != CA_SDP_ERROR)
    return 500;
  switch ((CaSdpError) error->code)
    {
    case CA_SDP_ERROR_MALFORMED:
    case CA_SDP_ERROR_BAD_ICE_CREDENTIALS:
    case CA_SDP_ERROR_BAD_CANDIDATE:
    case CA_SDP_ERROR_BAD_FINGERPRINT:
      return 400; /* Bad Request: the body breaks a grammar */
    case CA_SDP_ERROR_TOO_LARGE:
    case CA_SDP_ERROR_NO_AUDIO:
    case CA_SDP_ERROR_UNENCRYPTED:
    case CA_SDP_ERROR_NO_ICE_CREDENTIALS:
    case CA_SDP_ERROR_TOO_MANY_CANDIDATES:
    case CA_SDP_ERROR_CANDIDATE_IGNORED:
    case CA_SDP_ERROR_NO_FINGERPRINT:
    case CA_SDP_ERROR_BAD_SETUP:
    case CA_SDP_ERROR_NO_COMMON_CODEC:
      return 488; /* Not Acceptable Here (RFC 3261 §21.4.26) */
    case CA_SDP_ERROR_LAST:
    default:
      break;
    }
  return 500;
}

const char *const ca_sdp_profile_names[CA_SDP_PROFILE_LAST] = {
  "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF", "RTP/SAVP", "RTP/SAVPF", "RTP/AVP", "RTP/AVPF",
};

const char *
ca_sdp_profile_to_string (CaSdpProfile p)
{
  return p < CA_SDP_PROFILE_LAST ? ca_sdp_profile_names[p] : "?";
}

const char *
ca_sdp_setup_to_string (CaSdpSetup s)
{
  static const char *const names[] = { "actpass", "active", "passive" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == CA_SDP_SETUP_LAST);
  return s < CA_SDP_SETUP_LAST ? names[s] : "?";
}

const char *
ca_sdp_direction_to_string (CaSdpDirection d)
{
  static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == CA_SDP_DIRECTION_LAST);
  return d < CA_SDP_DIRECTION_LAST ? names[d] : "?";
}

const char *
ca_sdp_codec_kind_to_string (CaSdpCodecKind k)
{
  static const char *const names[] = { "opus", "PCMU", "telephone-event" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == CA_SDP_CODEC_LAST);
  return k < CA_SDP_CODEC_LAST ? names[k] : "?";
}

static void
codec_clear (gpointer p)
{
  g_free (((CaSdpCodec *) p)->fmtp);
}

CaSdpMedia *
ca_sdp_media_new (void)
{
  CaSdpMedia *m = g_new0 (CaSdpMedia, 1);

  m->codecs = g_array_new (FALSE, TRUE, sizeof (CaSdpCodec));
  g_array_set_clear_func (m->codecs, codec_clear);
  m->candidates = g_array_new (FALSE, TRUE, sizeof (CaSdpCandidate));
  m->mlines = g_ptr_array_new_with_free_func (g_free);
  m->profile = CA_SDP_PROFILE_UDP_TLS_RTP_SAVP;
  m->setup = CA_SDP_SETUP_ACTPASS;
  m->direction = CA_SDP_DIRECTION_SENDRECV;
  m->rtcp_mux = TRUE;
  return m;
}

void
ca_sdp_media_free (CaSdpMedia *m)
{
  if (m == NULL)
    return;
  g_clear_pointer (&m->codecs, g_array_unref);
  g_clear_pointer (&m->candidates, g_array_unref);
  g_clear_pointer (&m->mlines, g_ptr_array_unref);
  g_free (m->ice_ufrag);
  if (m->ice_pwd != NULL)
    OPENSSL_cleanse (m->ice_pwd, strlen (m->ice_pwd));
  g_free (m->ice_pwd);
  g_free (m->zrtp_hash);
  g_free (m);
}

void
ca_sdp_media_add_codec (CaSdpMedia *m, CaSdpCodecKind kind, guint8 pt, guint rate,
                        const char *fmtp)
{
  CaSdpCodec c = { kind, pt, rate, g_strdup (fmtp) };

  g_return_if_fail (m != NULL && kind < CA_SDP_CODEC_LAST && pt < 128);
  g_array_append_val (m->codecs, c);
}

void
ca_sdp_media_add_candidate (CaSdpMedia *m, const CaSdpCandidate *c)
{
  g_return_if_fail (m != NULL && c != NULL);
  g_array_append_val (m->candidates, *c);
}

const CaSdpCodec *
ca_sdp_media_find_codec (const CaSdpMedia *m, CaSdpCodecKind kind)
{
  g_return_val_if_fail (m != NULL, NULL);
  for (guint i = 0; i < m->codecs->len; i++)
    if (g_array_index (m->codecs, CaSdpCodec, i).kind == kind)
      return &g_array_index (m->codecs, CaSdpCodec, i);
  return NULL;
}

/* RFC 8122 §5: fingerprint = 2UHEX *(":" 2UHEX). We also take lower case, as many do. */
gboolean
ca_sdp_media_set_fingerprint (CaSdpMedia *m, const char *hex, GError **error)
{
  guint8 fp[32];

  g_return_val_if_fail (m != NULL && hex != NULL, FALSE);
  if (strlen (hex) != 32 * 3 - 1)
    {
      g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_FINGERPRINT,
                   "a sha-256 fingerprint is 32 hex pairs separated by colons");
      return FALSE;
    }
  for (guint i = 0; i < 32; i++)
    {
      const char *p = hex + 3 * i;
      int hi = g_ascii_xdigit_value (p[0]), lo = g_ascii_xdigit_value (p[1]);

      if (hi < 0 || lo < 0 || (i < 31 && p[2] != ':'))
        {
          g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_FINGERPRINT,
                       "bad fingerprint at pair %u", i + 1);
          return FALSE;
        }
      fp[i] = (guint8) (hi << 4 | lo);
    }
  memcpy (m->fingerprint, fp, sizeof fp);
  m->has_fingerprint = TRUE;
  return TRUE;
}

char *
ca_sdp_media_fingerprint_string (const CaSdpMedia *m)
{
  GString *s;

  g_return_val_if_fail (m != NULL && m->has_fingerprint, NULL);
  s = g_string_sized_new (96);
  for (guint i = 0; i < 32; i++)
    g_string_append_printf (s, i ? ":%02X" : "%02X", m->fingerprint[i]);
  return g_string_free (s, FALSE);
}

gboolean
ca_sdp_check_ice_credentials (const char *ufrag, const char *pwd, GError **error)
{
  struct { const char *what, *s; gsize min; } checks[] = {
    { "ice-ufrag", ufrag, 4 }, { "ice-pwd", pwd, 22 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      gsize n = 0;

      if (checks[i].s == NULL)
        {
          g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_NO_ICE_CREDENTIALS, "no a=%s",
                       checks[i].what);
          return FALSE;
        }
      for (; checks[i].s[n] != '\0'; n++)
        if (!g_ascii_isalnum (checks[i].s[n]) && checks[i].s[n] != '+' && checks[i].s[n] != '/')
          {
            g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_ICE_CREDENTIALS,
                         "a=%s: character %u is not an ice-char", checks[i].what,
                         (guint) n + 1);
            return FALSE;
          }
      if (n < checks[i].min || n > 256)
        {
          g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_ICE_CREDENTIALS,
                       "a=%s: %" G_GSIZE_FORMAT " characters, not %" G_GSIZE_FORMAT "..256",
                       checks[i].what, n, checks[i].min);
          return FALSE;
        }
    }
  return TRUE;
}

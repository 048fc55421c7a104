/* ca-sdp: strict reading of an offer or answer through Sofia-SIP's SDP parser.
 *
 * Sofia reads the lines; we read the attributes Sofia leaves as text. It parses rtpmaps only for
 * RTP/AVP and RTP/SAVP, so for UDP/TLS/RTP/SAVP we read a=rtpmap ourselves. Order of checks:
 * grammar and caps, an audio m-line, end-to-end encryption, DTLS setup, ICE, candidates, codecs. */
#include "config.h"

#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "ca-sdp-priv.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sdp_parser_t, sdp_parser_free)

#define FAIL(code, ...) (g_set_error (error, CA_SDP_ERROR, (code), __VA_ARGS__), FALSE)

/* Media level first, then session level (RFC 8839 §5.4, RFC 8122 §5 allow both). */
static const char *
find_attr (const sdp_media_t *m, const char *name, gboolean *found)
{
  const sdp_attribute_t *lists[] = { m->m_attributes, m->m_session->sdp_attributes };

  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (const sdp_attribute_t *a = lists[i]; a; a = a->a_next)
      if (g_ascii_strcasecmp (a->a_name, name) == 0)
        {
          if (found)
            *found = TRUE;
          return a->a_value;
        }
  if (found)
    *found = FALSE;
  return NULL;
}

static guint
count_attr (const sdp_attribute_t *a, const char *name)
{
  guint n = 0;

  for (; a; a = a->a_next)
    n += g_ascii_strcasecmp (a->a_name, name) == 0;
  return n;
}

static int
profile_of (const sdp_media_t *m)
{
  if (m->m_proto_name == NULL)
    return -1;
  for (int i = 0; i < CA_SDP_PROFILE_LAST; i++)
    if (strcmp (m->m_proto_name, ca_sdp_profile_names[i]) == 0)
      return i;
  return -1;
}

/* RFC 8122 §5: "a=fingerprint:<hash-func> <fingerprint>". Several may be given; we use the
 * sha-256 one. None at media level means the session level ones apply. */
static gboolean
read_fingerprint (const sdp_media_t *m, CaSdpMedia *out, gboolean *seen, GError **error)
{
  const sdp_attribute_t *level = count_attr (m->m_attributes, "fingerprint") > 0
                                     ? m->m_attributes
                                     : m->m_session->sdp_attributes;

  *seen = FALSE;
  for (const sdp_attribute_t *a = level; a; a = a->a_next)
    {
      const char *v = a->a_value, *sp;

      if (g_ascii_strcasecmp (a->a_name, "fingerprint") != 0)
        continue;
      *seen = TRUE;
      sp = v ? strchr (v, ' ') : NULL;
      if (sp == NULL || sp == v || sp[1] == '\0')
        return FAIL (CA_SDP_ERROR_BAD_FINGERPRINT, "a=fingerprint needs a hash and a value");
      if (sp - v == 7 && g_ascii_strncasecmp (v, "sha-256", 7) == 0 && !out->has_fingerprint)
        {
          if (!ca_sdp_media_set_fingerprint (out, sp + 1, error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_setup (const sdp_media_t *m, CaSdpMedia *out, GError **error)
{
  gboolean found;
  const char *v = find_attr (m, "setup", &found);

  if (!found)
    {
      out->setup = CA_SDP_SETUP_ACTIVE; /* RFC 4145 §4: absent means active */
      return TRUE;
    }
  for (int i = 0; i < CA_SDP_SETUP_LAST; i++)
    if (v != NULL && g_ascii_strcasecmp (v, ca_sdp_setup_to_string ((CaSdpSetup) i)) == 0)
      {
        out->setup = (CaSdpSetup) i;
        return TRUE;
      }
  return FAIL (CA_SDP_ERROR_BAD_SETUP, "a=setup:%s is not actpass, active or passive",
               v ? v : "");
}

static gboolean
read_ice (const sdp_media_t *m, CaSdpMedia *out, GError **error)
{
  const char *opts = find_attr (m, "ice-options", NULL);
  const char *ufrag = find_attr (m, "ice-ufrag", NULL), *pwd = find_attr (m, "ice-pwd", NULL);
  guint n_candidates = count_attr (m->m_attributes, "candidate");

  if (count_attr (m->m_attributes, "ice-ufrag") > 1 || count_attr (m->m_attributes, "ice-pwd") > 1)
    return FAIL (CA_SDP_ERROR_BAD_ICE_CREDENTIALS, "more than one a=ice-ufrag or a=ice-pwd");
  if (!ca_sdp_check_ice_credentials (ufrag, pwd, error))
    return FALSE;
  out->ice_ufrag = g_strdup (ufrag);
  out->ice_pwd = g_strdup (pwd);
  out->ice_lite = count_attr (m->m_session->sdp_attributes, "ice-lite") > 0;
  if (opts != NULL)
    {
      g_auto (GStrv) tokens = g_strsplit (opts, " ", 32);

      for (guint i = 0; tokens[i]; i++)
        out->ice_trickle |= g_ascii_strcasecmp (tokens[i], "trickle") == 0;
    }
  find_attr (m, "end-of-candidates", &out->end_of_candidates);

  /* Counted before reading, so an offer with 10,000 candidates costs nothing more. */
  if (n_candidates > CA_SDP_MAX_CANDIDATES)
    return FAIL (CA_SDP_ERROR_TOO_MANY_CANDIDATES, "%u candidates, at most %u", n_candidates,
                 CA_SDP_MAX_CANDIDATES);
  for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next)
    {
      g_autoptr (GError) local = NULL;
      CaSdpCandidate c;

      if (g_ascii_strcasecmp (a->a_name, "candidate") != 0)
        continue;
      if (ca_sdp_candidate_parse (a->a_value ? a->a_value : "", &c, &local))
        g_array_append_val (out->candidates, c);
      else if (g_error_matches (local, CA_SDP_ERROR, CA_SDP_ERROR_CANDIDATE_IGNORED))
        out->ignored_candidates++;
      else
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_pt (const char *s, guint *out)
{
  gsize n = strlen (s);

  if (n < 1 || n > 3)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  *out = (guint) g_ascii_strtoull (s, NULL, 10);
  return *out < 128;
}

/* "<pt> <rest>" attributes (rtpmap, fmtp) for payload type @pt. */
static const char *
find_pt_attr (const sdp_media_t *m, const char *name, guint pt)
{
  for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next)
    {
      const char *sp;
      guint apt;
      char num[4] = { 0 };

      if (g_ascii_strcasecmp (a->a_name, name) != 0 || a->a_value == NULL)
        continue;
      sp = strchr (a->a_value, ' ');
      if (sp == NULL || sp - a->a_value > 3)
        continue;
      memcpy (num, a->a_value, (gsize) (sp - a->a_value));
      if (read_pt (num, &apt) && apt == pt)
        return sp + 1;
    }
  return NULL;
}

/* Which of our codecs "<encoding>/<rate>[/<channels>]" is, or -1. */
static int
classify (const char *encoding, gulong rate, const char *params)
{
  if (g_ascii_strcasecmp (encoding, "opus") == 0)
    return rate == 48000 && params != NULL && strcmp (params, "2") == 0 ? CA_SDP_CODEC_OPUS : -1;
  if (g_ascii_strcasecmp (encoding, "PCMU") == 0)
    return rate == 8000 && (params == NULL || strcmp (params, "1") == 0) ? CA_SDP_CODEC_PCMU : -1;
  if (g_ascii_strcasecmp (encoding, "telephone-event") == 0)
    return rate == 8000 || rate == 48000 ? CA_SDP_CODEC_TELEPHONE_EVENT : -1;
  return -1;
}

/* The m= line's payload types. For RTP/AVP and RTP/SAVP Sofia keeps them only as rtpmaps (in
 * m= order, static types filled in); for other profiles as text formats. */
static gboolean
read_pts (const sdp_media_t *m, GArray *pts, GError **error)
{
  for (const sdp_list_t *l = m->m_format; l; l = l->l_next)
    {
      guint pt;

      if (pts->len >= 64)
        return FAIL (CA_SDP_ERROR_TOO_LARGE, "more than 64 payload types");
      if (!read_pt (l->l_text, &pt))
        return FAIL (CA_SDP_ERROR_MALFORMED, "m=: bad payload type \"%s\"", l->l_text);
      g_array_append_val (pts, pt);
    }
  for (const sdp_rtpmap_t *r = m->m_format ? NULL : m->m_rtpmaps; r; r = r->rm_next)
    {
      guint pt = r->rm_pt;

      if (pts->len >= 64)
        return FAIL (CA_SDP_ERROR_TOO_LARGE, "more than 64 payload types");
      g_array_append_val (pts, pt);
    }
  return TRUE;
}

static gboolean
read_codecs (const sdp_media_t *m, CaSdpMedia *out, GError **error)
{
  g_autoptr (GArray) pts = g_array_new (FALSE, FALSE, sizeof (guint));

  if (!read_pts (m, pts, error))
    return FALSE;
  for (guint i = 0; i < pts->len; i++)
    {
      g_auto (GStrv) parts = NULL;
      const char *map, *fmtp;
      guint pt = g_array_index (pts, guint, i);
      int kind = -1;

      fmtp = find_pt_attr (m, "fmtp", pt);
      for (const sdp_rtpmap_t *r = m->m_rtpmaps; r && kind < 0; r = r->rm_next)
        if (r->rm_pt == pt && r->rm_encoding != NULL)
          {
            kind = classify (r->rm_encoding, r->rm_rate, r->rm_params);
            fmtp = fmtp ? fmtp : r->rm_fmtp;
          }
      map = find_pt_attr (m, "rtpmap", pt);
      if (kind < 0 && map != NULL)
        {
          parts = g_strsplit (map, "/", 4);
          if (g_strv_length (parts) < 2 || g_strv_length (parts) > 3 || *parts[0] == '\0'
              || strspn (parts[1], "0123456789") != strlen (parts[1]) || strlen (parts[1]) > 6
              || *parts[1] == '\0')
            return FAIL (CA_SDP_ERROR_MALFORMED, "a=rtpmap:%u %s is not <name>/<rate>", pt, map);
          kind = classify (parts[0], strtoul (parts[1], NULL, 10), parts[2]);
        }
      else if (kind < 0 && map == NULL && pt == 0)
        kind = CA_SDP_CODEC_PCMU; /* RFC 3551 static type */
      if (kind < 0 || ca_sdp_media_find_codec (out, (CaSdpCodecKind) kind) != NULL)
        continue;
      if (out->codecs->len >= CA_SDP_MAX_CODECS)
        break;
      ca_sdp_media_add_codec (out, (CaSdpCodecKind) kind, (guint8) pt,
                              kind == CA_SDP_CODEC_OPUS ? 48000
                              : kind == CA_SDP_CODEC_PCMU
                                  ? 8000
                                  : (map && strstr (map, "/48000") ? 48000 : 8000),
                              fmtp);
    }
  if (ca_sdp_media_find_codec (out, CA_SDP_CODEC_OPUS) == NULL
      && ca_sdp_media_find_codec (out, CA_SDP_CODEC_PCMU) == NULL)
    return FAIL (CA_SDP_ERROR_NO_COMMON_CODEC, "neither opus/48000/2 nor PCMU/8000 offered");
  return TRUE;
}

static gboolean
read_media (const sdp_media_t *m, CaSdpMedia *out, GError **error)
{
  static const CaSdpDirection directions[] = {
    [sdp_inactive] = CA_SDP_DIRECTION_INACTIVE, [sdp_sendonly] = CA_SDP_DIRECTION_SENDONLY,
    [sdp_recvonly] = CA_SDP_DIRECTION_RECVONLY, [sdp_sendrecv] = CA_SDP_DIRECTION_SENDRECV,
  };
  gboolean seen_fingerprint;

  out->profile = (CaSdpProfile) profile_of (m);
  out->direction = directions[m->m_mode & 3];
  if (!read_fingerprint (m, out, &seen_fingerprint, error))
    return FALSE;
  if (!out->has_fingerprint)
    {
      /* RTP/SAVP with a=crypto is SDES: the keys travel through the server, so it is not end
       * to end either. */
      if (seen_fingerprint)
        return FAIL (CA_SDP_ERROR_NO_FINGERPRINT, "no sha-256 among the a=fingerprint lines");
      if (out->profile <= CA_SDP_PROFILE_UDP_TLS_RTP_SAVPF)
        return FAIL (CA_SDP_ERROR_NO_FINGERPRINT, "%s without a=fingerprint",
                     ca_sdp_profile_to_string (out->profile));
      return FAIL (CA_SDP_ERROR_UNENCRYPTED, "%s without a DTLS fingerprint",
                   ca_sdp_profile_to_string (out->profile));
    }
  if (!read_setup (m, out, error) || !read_ice (m, out, error))
    return FALSE;
  out->rtcp_mux = count_attr (m->m_attributes, "rtcp-mux") > 0;
  out->zrtp_hash = g_strdup (find_attr (m, "zrtp-hash", NULL));
  return read_codecs (m, out, error);
}

/* RFC 4566 §9 token; Sofia's is the same set. */
static gboolean
is_token_char (guchar c)
{
  return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d
         || c == 0x2e || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a)
         || (c >= 0x5e && c <= 0x7e);
}

/* One field of "m=<media> <port>[/<n>] <proto> <fmt> ..." (RFC 4566 §5.14); proto is
 * token *("/" token), port is digits with an optional "/digits". */
static gboolean
mline_field_ok (const char *f, gsize n, guint field)
{
  gboolean need = TRUE; /* a token or digit run must come next */

  for (gsize i = 0; i < n; i++)
    {
      guchar c = (guchar) f[i];

      if (c == '/' && (field == 1 || field == 2) && !need)
        need = TRUE;
      else if (field == 1 ? g_ascii_isdigit (c) : is_token_char (c))
        need = FALSE;
      else
        return FALSE;
    }
  return !need;
}

/* Sofia-SIP 1.12.11's sdp_parse() never advances on an m= format that starts with a non-token
 * byte ("m=audio 9 UDP/TLS/RTP/SAVP 0 ;") and appends list items until memory runs out
 * (19 GB seen here). So every m= line is checked against RFC 4566 before Sofia sees it. */
static gboolean
guard_media_lines (const char *text, gsize len, GError **error)
{
  const char *end = text + len;

  /* Sofia ends a line at CR, LF or CRLF: so do we. */
  for (const char *line = text; line < end;)
    {
      const char *stop = line;
      guint field = 0;

      while (stop < end && *stop != '\r' && *stop != '\n')
        stop++;
      if (stop - line >= 2 && line[0] == 'm' && line[1] == '=')
        for (const char *p = line + 2; p < stop; field++)
          {
            const char *sp = memchr (p, ' ', (gsize) (stop - p));
            const char *fend = sp ? sp : stop;

            if (!mline_field_ok (p, (gsize) (fend - p), field))
              return FAIL (CA_SDP_ERROR_MALFORMED, "m= line: bad field %u", field + 1);
            p = sp ? sp + 1 : stop;
          }
      line = stop + 1;
    }
  return TRUE;
}

gboolean
ca_sdp_parse (const char *text, gsize len, CaSdpMedia **out, GError **error)
{
  g_autoptr (CaSdpMedia) result = NULL;
  g_autoptr (sdp_parser_t) parser = NULL;
  const sdp_session_t *session;
  const sdp_media_t *audio = NULL;
  gboolean saw_audio = FALSE;
  guint index = 0;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (len > CA_SDP_MAX_SIZE)
    return FAIL (CA_SDP_ERROR_TOO_LARGE, "SDP of %" G_GSIZE_FORMAT " bytes, at most %d", len,
                 CA_SDP_MAX_SIZE);
  if (len == 0 || memchr (text, '\0', len) != NULL)
    return FAIL (CA_SDP_ERROR_MALFORMED, "empty SDP, or a NUL byte in it");

  if (!guard_media_lines (text, len, error))
    return FALSE;
  /* A NULL home makes the parser own its memory; freeing the parser frees everything. */
  parser = sdp_parse (NULL, text, (issize_t) len, sdp_f_strict);
  session = parser ? sdp_session (parser) : NULL;
  if (session == NULL)
    return FAIL (CA_SDP_ERROR_MALFORMED, "%s",
                 parser && sdp_parsing_error (parser) ? sdp_parsing_error (parser)
                                                      : "unreadable SDP");

  result = ca_sdp_media_new ();
  result->session_id = session->sdp_origin ? session->sdp_origin->o_id : 0;
  result->session_version = session->sdp_origin ? session->sdp_origin->o_version : 0;
  for (const sdp_media_t *m = session->sdp_media; m; m = m->m_next, index++)
    {
      g_autoptr (GString) line = g_string_new (NULL);

      if (index >= CA_SDP_MAX_MEDIA)
        return FAIL (CA_SDP_ERROR_TOO_LARGE, "more than %d m-lines", CA_SDP_MAX_MEDIA);
      g_string_append_printf (line, "%s %s %s", m->m_type_name ? m->m_type_name : "audio",
                              m->m_proto_name ? m->m_proto_name : "RTP/AVP",
                              m->m_format && m->m_format->l_text ? m->m_format->l_text : "0");
      g_ptr_array_add (result->mlines, g_string_free (g_steal_pointer (&line), FALSE));
      if (m->m_type != sdp_media_audio || m->m_port == 0 || m->m_rejected)
        continue;
      saw_audio = TRUE;
      if (audio == NULL && profile_of (m) >= 0)
        {
          audio = m;
          result->audio_index = index;
        }
    }
  if (audio == NULL)
    return FAIL (CA_SDP_ERROR_NO_AUDIO,
                 saw_audio ? "no audio m-line with an RTP profile we speak" : "no audio m-line");
  if (!read_media (audio, result, error))
    return FALSE;
  *out = g_steal_pointer (&result);
  return TRUE;
}

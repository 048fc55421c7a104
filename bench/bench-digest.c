#include "config.h"

#include "bench-digest.h"
#include "bench-sip.h"

#include <openssl/evp.h>
#include <string.h>

const char *
bench_digest_alg_to_string (BenchDigestAlg alg)
{
  return alg == BENCH_DIGEST_SHA256 ? "SHA-256" : "MD5";
}

gboolean
bench_digest_alg_from_string (const char *text, BenchDigestAlg *out)
{
  if (g_ascii_strcasecmp (text, "MD5") == 0)
    *out = BENCH_DIGEST_MD5;
  else if (g_ascii_strcasecmp (text, "SHA-256") == 0)
    *out = BENCH_DIGEST_SHA256;
  else
    return FALSE;
  return TRUE;
}

void
bench_digest_hash_hex (BenchDigestAlg alg, const char *data, gsize len, char *out)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const EVP_MD *type = alg == BENCH_DIGEST_SHA256 ? EVP_sha256 () : EVP_md5 ();
  if (!EVP_Digest (data, len, md, &md_len, type, NULL))
    md_len = 0;
  for (unsigned int i = 0; i < md_len; i++)
    {
      out[2 * i] = hex[md[i] >> 4];
      out[2 * i + 1] = hex[md[i] & 15];
    }
  out[2 * md_len] = '\0';
}

static gboolean
copy_value (char *dst, gsize size, const char *v, gsize len)
{
  if (len >= size)
    return FALSE;
  memcpy (dst, v, len);
  dst[len] = '\0';
  return TRUE;
}

gboolean
bench_digest_parse_challenge (const char *value, gsize len, BenchDigestChallenge *out)
{
  BenchDigestChallenge ch = { .alg = BENCH_DIGEST_MD5 };
  const char *p = value, *end = value + len;
  if (len < 7 || g_ascii_strncasecmp (p, "Digest", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
    return FALSE;
  p += 7;
  gboolean have_realm = FALSE, have_nonce = FALSE;
  while (p < end)
    {
      while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
        p++;
      const char *name = p;
      while (p < end && *p != '=' && *p != ',')
        p++;
      if (p >= end || *p != '=')
        break;
      gsize name_len = (gsize) (p - name);
      while (name_len > 0 && name[name_len - 1] == ' ')
        name_len--;
      p++;
      while (p < end && *p == ' ')
        p++;
      const char *v, *v_end;
      if (p < end && *p == '"')
        {
          v = ++p;
          while (p < end && *p != '"')
            p += (*p == '\\' && p + 1 < end) ? 2 : 1;
          if (p >= end)
            return FALSE;
          v_end = p++;
        }
      else
        {
          v = p;
          while (p < end && *p != ',' && *p != ' ')
            p++;
          v_end = p;
        }
      gsize vl = (gsize) (v_end - v);
#define IS(n) (name_len == strlen (n) && g_ascii_strncasecmp (name, n, name_len) == 0)
      if (IS ("realm"))
        have_realm = copy_value (ch.realm, sizeof ch.realm, v, vl);
      else if (IS ("nonce"))
        have_nonce = copy_value (ch.nonce, sizeof ch.nonce, v, vl);
      else if (IS ("opaque"))
        ch.has_opaque = copy_value (ch.opaque, sizeof ch.opaque, v, vl);
      else if (IS ("stale"))
        ch.stale = vl == 4 && g_ascii_strncasecmp (v, "true", 4) == 0;
      else if (IS ("algorithm"))
        {
          char alg[16];
          if (!copy_value (alg, sizeof alg, v, vl) || !bench_digest_alg_from_string (alg, &ch.alg))
            return FALSE;
        }
      else if (IS ("qop"))
        {
          /* A comma-separated list inside quotes: look for the "auth" token. */
          for (const char *q = v; q + 4 <= v_end; q++)
            if (g_ascii_strncasecmp (q, "auth", 4) == 0 && (q + 4 == v_end || q[4] == ',' || q[4] == ' ')
                && (q == v || q[-1] == ',' || q[-1] == ' '))
              ch.qop_auth = TRUE;
        }
#undef IS
    }
  if (!have_realm || !have_nonce)
    return FALSE;
  *out = ch;
  return TRUE;
}

gboolean
bench_digest_pick (const char *response, gsize len, gboolean proxy, BenchDigestAlg alg,
                   BenchDigestChallenge *out)
{
  BenchSipIter it;
  BenchSipHeader h;
  bench_sip_iter_init (&it, response, len);
  while (bench_sip_iter_next (&it, &h))
    {
      if (!bench_sip_header_is (&h, proxy ? "Proxy-Authenticate" : "WWW-Authenticate", 0))
        continue;
      BenchDigestChallenge ch;
      if (bench_digest_parse_challenge (h.value, h.value_len, &ch) && ch.alg == alg)
        {
          *out = ch;
          return TRUE;
        }
    }
  return FALSE;
}

void
bench_digest_append_credentials (GString *out, gboolean proxy, const BenchDigestChallenge *ch,
                                 const char *user, const char *password, const char *method,
                                 const char *uri, guint32 nc, const char *cnonce)
{
  char ha1[65], ha2[65], resp[65], nc_text[9];
  char buf[1024];
  int n = g_snprintf (buf, sizeof buf, "%s:%s:%s", user, ch->realm, password);
  bench_digest_hash_hex (ch->alg, buf, (gsize) MIN (n, (int) sizeof buf - 1), ha1);
  n = g_snprintf (buf, sizeof buf, "%s:%s", method, uri);
  bench_digest_hash_hex (ch->alg, buf, (gsize) MIN (n, (int) sizeof buf - 1), ha2);
  g_snprintf (nc_text, sizeof nc_text, "%08x", nc);
  if (ch->qop_auth)
    n = g_snprintf (buf, sizeof buf, "%s:%s:%s:%s:auth:%s", ha1, ch->nonce, nc_text, cnonce, ha2);
  else /* RFC 2069 compatibility (RFC 7616 §3.4.1 without qop) */
    n = g_snprintf (buf, sizeof buf, "%s:%s:%s", ha1, ch->nonce, ha2);
  bench_digest_hash_hex (ch->alg, buf, (gsize) MIN (n, (int) sizeof buf - 1), resp);
  OPENSSL_cleanse (buf, sizeof buf);
  OPENSSL_cleanse (ha1, sizeof ha1);

  g_string_append_printf (out,
                          "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                          "response=\"%s\", algorithm=%s",
                          proxy ? "Proxy-Authorization" : "Authorization", user, ch->realm,
                          ch->nonce, uri, resp, bench_digest_alg_to_string (ch->alg));
  if (ch->qop_auth)
    g_string_append_printf (out, ", qop=auth, nc=%s, cnonce=\"%s\"", nc_text, cnonce);
  if (ch->has_opaque)
    g_string_append_printf (out, ", opaque=\"%s\"", ch->opaque);
  g_string_append (out, "\r\n");
}

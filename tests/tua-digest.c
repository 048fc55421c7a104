/* tua-digest: an independent Digest client for the test UA (RFC 7616 §3.4, RFC 8760). */
#include "config.h"

#include "tua-digest.h"

#include <gio/gio.h>
#include <openssl/evp.h>
#include <string.h>

const char *
tua_digest_alg_to_string (TuaDigestAlg alg)
{
  switch (alg)
    {
    case TUA_DIGEST_MD5: return "MD5";
    case TUA_DIGEST_SHA256: return "SHA-256";
    case TUA_DIGEST_LAST: break;
    }
  return "unknown";
}

gboolean
tua_digest_alg_from_string (const char *text, TuaDigestAlg *out)
{
  g_return_val_if_fail (text != NULL && out != NULL, FALSE);
  if (g_ascii_strcasecmp (text, "MD5") == 0)
    *out = TUA_DIGEST_MD5;
  else if (g_ascii_strcasecmp (text, "SHA-256") == 0)
    *out = TUA_DIGEST_SHA256;
  else
    return FALSE;
  return TRUE;
}

static gboolean
bad_params (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed auth header: %s", what);
  return FALSE;
}

gboolean
tua_auth_parse_params (const char *value, char **scheme, GHashTable **params, GError **error)
{
  g_autoptr (GHashTable) table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *sch = NULL;
  const char *p = value;
  const char *start;

  g_return_val_if_fail (value != NULL, FALSE);
  while (*p == ' ' || *p == '\t')
    p++;
  start = p;
  while (*p && *p != ' ' && *p != '\t')
    p++;
  if (p == start)
    return bad_params (error, "no scheme");
  sch = g_strndup (start, (gsize) (p - start));

  for (;;)
    {
      g_autofree char *name = NULL;
      g_autoptr (GString) val = g_string_new (NULL);

      while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
      if (*p == '\0')
        break;
      start = p;
      while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != ',')
        p++;
      if (p == start)
        return bad_params (error, "empty parameter name");
      name = g_ascii_strdown (start, p - start);
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != '=')
        return bad_params (error, "parameter without '='");
      p++;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '"')
        {
          for (p++; *p && *p != '"'; p++)
            {
              if (*p == '\\')
                {
                  p++;
                  if (*p == '\0')
                    break;
                }
              g_string_append_c (val, *p);
            }
          if (*p != '"')
            return bad_params (error, "unterminated quoted string");
          p++;
        }
      else
        {
          start = p;
          while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
          if (p == start)
            return bad_params (error, "empty parameter value");
          g_string_append_len (val, start, p - start);
        }
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p != '\0' && *p != ',')
        return bad_params (error, "junk after a parameter");
      if (g_hash_table_contains (table, name))
        return bad_params (error, "duplicate parameter");
      g_hash_table_insert (table, g_steal_pointer (&name), g_string_free (g_steal_pointer (&val), FALSE));
    }
  if (scheme)
    *scheme = g_steal_pointer (&sch);
  if (params)
    *params = g_steal_pointer (&table);
  return TRUE;
}

void
tua_challenge_free (TuaChallenge *c)
{
  if (c == NULL)
    return;
  g_free (c->realm);
  g_free (c->nonce);
  g_free (c->opaque);
  g_free (c->algorithm);
  g_free (c);
}

gboolean
tua_digest_parse_challenge (const char *value, TuaChallenge **out, GError **error)
{
  g_autofree char *scheme = NULL;
  g_autoptr (GHashTable) params = NULL;
  g_autoptr (TuaChallenge) c = NULL;
  const char *qop, *stale;

  if (!tua_auth_parse_params (value, &scheme, &params, error))
    return FALSE;
  if (g_ascii_strcasecmp (scheme, "Digest") != 0)
    return bad_params (error, "not a Digest challenge");
  c = g_new0 (TuaChallenge, 1);
  c->realm = g_strdup (g_hash_table_lookup (params, "realm"));
  c->nonce = g_strdup (g_hash_table_lookup (params, "nonce"));
  if (c->realm == NULL || c->nonce == NULL)
    return bad_params (error, "challenge without realm or nonce");
  c->opaque = g_strdup (g_hash_table_lookup (params, "opaque"));
  c->algorithm = g_strdup (g_hash_table_lookup (params, "algorithm"));
  c->alg = TUA_DIGEST_MD5; /* RFC 7616 §3.3: absent means MD5 */
  c->supported = c->algorithm == NULL || tua_digest_alg_from_string (c->algorithm, &c->alg);
  qop = g_hash_table_lookup (params, "qop");
  c->has_qop = qop != NULL;
  if (qop)
    {
      g_auto (GStrv) opts = g_strsplit (qop, ",", -1);
      for (guint i = 0; opts[i]; i++)
        if (g_ascii_strcasecmp (g_strstrip (opts[i]), "auth") == 0)
          c->qop_auth = TRUE;
    }
  stale = g_hash_table_lookup (params, "stale");
  c->stale = stale && g_ascii_strcasecmp (stale, "true") == 0;
  *out = g_steal_pointer (&c);
  return TRUE;
}

char *
tua_digest_hash_hex (TuaDigestAlg alg, const char *data, gsize len)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  size_t md_len = 0;
  const char *name = alg == TUA_DIGEST_SHA256 ? "SHA256" : "MD5";
  GString *hex;

  if (!EVP_Q_digest (NULL, name, NULL, data, len, md, &md_len))
    g_error ("EVP_Q_digest(%s) failed", name); /* a broken OpenSSL: no test can run */
  hex = g_string_sized_new (md_len * 2);
  for (size_t i = 0; i < md_len; i++)
    g_string_append_printf (hex, "%02x", md[i]);
  return g_string_free (hex, FALSE);
}

static char *
hash_str (TuaDigestAlg alg, const char *text)
{
  return tua_digest_hash_hex (alg, text, strlen (text));
}

char *
tua_digest_response (TuaDigestAlg alg, const char *username, const char *password,
                     const char *realm, const char *nonce, const char *nc_text,
                     const char *cnonce, const char *qop, const char *method, const char *uri)
{
  g_autofree char *a1 = g_strdup_printf ("%s:%s:%s", username, realm, password);
  g_autofree char *a2 = g_strdup_printf ("%s:%s", method, uri);
  g_autofree char *ha1 = hash_str (alg, a1);
  g_autofree char *ha2 = hash_str (alg, a2);
  g_autofree char *kd = NULL;

  memset (a1, 0, strlen (a1)); /* holds the password */
  if (qop)
    kd = g_strdup_printf ("%s:%s:%s:%s:%s:%s", ha1, nonce, nc_text, cnonce, qop, ha2);
  else
    kd = g_strdup_printf ("%s:%s:%s", ha1, nonce, ha2);
  return hash_str (alg, kd);
}

/* Appends @text as a quoted-string, escaping '"' and '\'. */
static void
append_quoted (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *c = text; *c; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

char *
tua_digest_credentials (const TuaChallenge *c, const char *username, const char *password,
                        const char *method, const char *uri, guint32 nc, const char *cnonce,
                        GError **error)
{
  g_autoptr (GString) out = g_string_new ("Digest username=");
  g_autofree char *nc_text = g_strdup_printf ("%08x", nc);
  g_autofree char *response = NULL;

  if (!c->supported)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "unsupported Digest algorithm %s", c->algorithm);
      return NULL;
    }
  if (c->has_qop && !c->qop_auth)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "challenge offers no qop=auth");
      return NULL;
    }
  response = tua_digest_response (c->alg, username, password, c->realm, c->nonce, nc_text,
                                  cnonce, c->qop_auth ? "auth" : NULL, method, uri);
  append_quoted (out, username);
  g_string_append (out, ", realm=");
  append_quoted (out, c->realm);
  g_string_append (out, ", nonce=");
  append_quoted (out, c->nonce);
  g_string_append (out, ", uri=");
  append_quoted (out, uri);
  g_string_append_printf (out, ", response=\"%s\", algorithm=%s", response,
                          tua_digest_alg_to_string (c->alg));
  if (c->qop_auth)
    {
      g_string_append (out, ", cnonce=");
      append_quoted (out, cnonce);
    }
  if (c->opaque)
    {
      g_string_append (out, ", opaque=");
      append_quoted (out, c->opaque);
    }
  if (c->qop_auth)
    g_string_append_printf (out, ", qop=auth, nc=%s", nc_text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* sig-digest: HTTP Digest (RFC 7616) for SIP (RFC 8760, RFC 3261 §22), pure functions.
 *
 * The parser walks the header once, by hand, with explicit bounds: the input is whatever a
 * stranger put on the wire before we know who they are. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-digest.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sotto-util.h"

/* Limits on hostile input. Real headers are a few hundred bytes. */
#define SIG_DIGEST_MAX_HEADER 8192
#define SIG_DIGEST_MAX_VALUE 1024

G_DEFINE_QUARK (sig-digest-error-quark, sig_digest_error)

const char *
sig_digest_alg_to_string (SigDigestAlg alg)
{
  switch (alg)
    {
    case SIG_DIGEST_ALG_SHA256:
      return "SHA-256";
    case SIG_DIGEST_ALG_MD5:
      return "MD5";
    case SIG_DIGEST_ALG_LAST:
    default:
      break;
    }
  return "unknown";
}

gboolean
sig_digest_alg_from_string (const char *text, SigDigestAlg *out)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "SHA-256") == 0)
    *out = SIG_DIGEST_ALG_SHA256;
  else if (g_ascii_strcasecmp (text, "MD5") == 0)
    *out = SIG_DIGEST_ALG_MD5;
  else
    return FALSE;
  return TRUE;
}

gsize
sig_digest_alg_hex_len (SigDigestAlg alg)
{
  return alg == SIG_DIGEST_ALG_MD5 ? 32 : 64;
}

/* Fetched from the provider once and kept for the life of the process: EVP_md5() and
 * EVP_sha256() are legacy handles that OpenSSL 3 fetches again on every EVP_DigestInit.
 * NULL (MD5 under a FIPS-only provider) is not kept, so it is asked again next time. */
static const EVP_MD *
alg_md (SigDigestAlg alg)
{
  static EVP_MD *fetched[SIG_DIGEST_ALG_LAST];
  EVP_MD *md = g_atomic_pointer_get (&fetched[alg]);

  if (md != NULL)
    return md;
  md = EVP_MD_fetch (NULL, alg == SIG_DIGEST_ALG_MD5 ? "MD5" : "SHA256", NULL);
  if (md == NULL)
    return NULL;
  if (!g_atomic_pointer_compare_and_exchange (&fetched[alg], NULL, md))
    {
      EVP_MD_free (md); /* another thread was first */
      md = g_atomic_pointer_get (&fetched[alg]);
    }
  return md;
}

void
sig_digest_credentials_free (SigDigestCredentials *creds)
{
  if (creds == NULL)
    return;
  g_free (creds->username);
  g_free (creds->realm);
  g_free (creds->nonce);
  g_free (creds->uri);
  g_free (creds->response);
  g_free (creds->cnonce);
  g_free (creds->opaque);
  g_free (creds->qop);
  g_free (creds->nc_text);
  g_free (creds);
}

/* ---- Parsing (RFC 7235 §2.1 auth-param lists, RFC 7230 §3.2.6 tokens and quoted strings) ---- */

static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

static gboolean
is_ows (guchar c)
{
  return c == ' ' || c == '\t';
}

/* Skips optional whitespace, including obsolete line folding (CRLF or LF followed by SP or
 * HTAB, RFC 7230 §3.2.4), which header text copied from a message may still carry. */
static const char *
skip_ows (const char *p)
{
  for (;;)
    {
      if (is_ows ((guchar) *p))
        p++;
      else if (p[0] == '\r' && p[1] == '\n' && is_ows ((guchar) p[2]))
        p += 3;
      else if (p[0] == '\n' && is_ows ((guchar) p[1]))
        p += 2;
      else
        return p;
    }
}

static gboolean
set_malformed (GError **error, const char *what)
{
  g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_MALFORMED,
               "malformed Digest credentials: %s", what);
  return FALSE;
}

/* Reads a token at *pp into @buf (capacity SIG_DIGEST_MAX_VALUE + 1). */
static gboolean
read_token (const char **pp, char *buf, gsize *len_out)
{
  const char *p = *pp;
  gsize n = 0;

  while (is_tchar ((guchar) *p))
    {
      if (n >= SIG_DIGEST_MAX_VALUE)
        return FALSE;
      buf[n++] = *p++;
    }
  if (n == 0)
    return FALSE;
  buf[n] = '\0';
  *pp = p;
  *len_out = n;
  return TRUE;
}

/* Reads a quoted-string at *pp (which points at the opening quote) into @buf, unescaping
 * quoted-pairs. Control characters other than HTAB are refused, inside or escaped. */
static gboolean
read_quoted (const char **pp, char *buf, gsize *len_out)
{
  const char *p = *pp + 1;
  gsize n = 0;

  for (;;)
    {
      guchar c = (guchar) *p;

      if (c == '\0')
        return FALSE; /* unterminated */
      if (c == '"')
        break;
      if (c == '\\')
        {
          p++;
          c = (guchar) *p;
          if (c == '\0')
            return FALSE;
        }
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return FALSE;
      if (n >= SIG_DIGEST_MAX_VALUE)
        return FALSE;
      buf[n++] = (char) c;
      p++;
    }
  buf[n] = '\0';
  *pp = p + 1;
  *len_out = n;
  return TRUE;
}

typedef enum
{
  P_USERNAME,
  P_REALM,
  P_NONCE,
  P_URI,
  P_RESPONSE,
  P_CNONCE,
  P_OPAQUE,
  P_QOP,
  P_NC,
  P_ALGORITHM,
  P_USERHASH,
  P_USERNAME_EXT,
  P_LAST
} ParamId;

#define PARAM(name) { name, sizeof name - 1 }
static const struct
{
  const char *name;
  gsize len;
} param_names[P_LAST] = {
  PARAM ("username"), PARAM ("realm"),     PARAM ("nonce"),    PARAM ("uri"),
  PARAM ("response"), PARAM ("cnonce"),    PARAM ("opaque"),   PARAM ("qop"),
  PARAM ("nc"),       PARAM ("algorithm"), PARAM ("userhash"), PARAM ("username*"),
};
#undef PARAM

/* @len is strlen (@name). Names of another length are not compared: a request's nine
 * parameters against twelve names were most of the parser's string comparisons. */
static ParamId
param_lookup (const char *name, gsize len)
{
  for (int i = 0; i < P_LAST; i++)
    if (param_names[i].len == len && g_ascii_strncasecmp (name, param_names[i].name, len) == 0)
      return (ParamId) i;
  return P_LAST;
}

static gboolean
is_hex_string (const char *s, gsize len)
{
  if (strlen (s) != len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Splits the header into parameters. Values land in @values[id] (owned); unknown parameters
 * are syntax-checked and dropped. */
static gboolean
split_params (const char *header, char **values, GError **error)
{
  g_autofree char *name = g_malloc (SIG_DIGEST_MAX_VALUE + 1);
  g_autofree char *value = g_malloc (SIG_DIGEST_MAX_VALUE + 1);
  const char *p = skip_ows (header);
  gsize name_len, value_len;

  if (g_ascii_strncasecmp (p, "Digest", 6) != 0)
    return set_malformed (error, "scheme is not Digest");
  p += 6;
  if (*p != '\0' && skip_ows (p) == p)
    return set_malformed (error, "scheme is not Digest");

  for (;;)
    {
      ParamId id;

      /* Empty list elements are allowed (RFC 7230 §7): skip stray commas. */
      p = skip_ows (p);
      while (*p == ',')
        p = skip_ows (p + 1);
      if (*p == '\0')
        break;

      if (!read_token (&p, name, &name_len))
        return set_malformed (error, "bad parameter name");
      p = skip_ows (p);
      if (*p != '=')
        return set_malformed (error, "parameter without '='");
      p = skip_ows (p + 1);
      if (*p == '"')
        {
          if (!read_quoted (&p, value, &value_len))
            return set_malformed (error, "bad quoted string");
        }
      else if (!read_token (&p, value, &value_len))
        return set_malformed (error, "bad parameter value");

      p = skip_ows (p);
      if (*p != ',' && *p != '\0')
        return set_malformed (error, "junk after a parameter");

      id = param_lookup (name, name_len);
      if (id == P_LAST)
        continue;
      if (values[id] != NULL)
        return set_malformed (error, "duplicate parameter");
      values[id] = g_strndup (value, value_len);
    }
  return TRUE;
}

static gboolean
parse_nc (const char *text, guint32 *out)
{
  guint32 v = 0;

  if (!is_hex_string (text, 8))
    return FALSE;
  for (int i = 0; i < 8; i++)
    v = (v << 4) | (guint32) g_ascii_xdigit_value (text[i]);
  *out = v;
  return TRUE;
}

static void
free_values (char **values)
{
  for (int i = 0; i < P_LAST; i++)
    g_free (values[i]);
}

gboolean
sig_digest_parse_credentials (const char *header_value, SigDigestCredentials **out,
                              GError **error)
{
  char *values[P_LAST] = { NULL };
  g_autoptr (SigDigestCredentials) creds = NULL;
  SigDigestAlg alg = SIG_DIGEST_ALG_MD5;
  static const ParamId mandatory[] = { P_USERNAME, P_REALM, P_NONCE, P_URI, P_RESPONSE };

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (header_value == NULL)
    return set_malformed (error, "no header");
  if (strnlen (header_value, SIG_DIGEST_MAX_HEADER + 1) > SIG_DIGEST_MAX_HEADER)
    return set_malformed (error, "header too long");
  if (!split_params (header_value, values, error))
    goto fail;

  /* What we understand but refuse to do. */
  if (values[P_ALGORITHM] != NULL && !sig_digest_alg_from_string (values[P_ALGORITHM], &alg))
    {
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "unsupported Digest algorithm");
      goto fail;
    }
  if (values[P_QOP] != NULL && g_ascii_strcasecmp (values[P_QOP], "auth") != 0)
    {
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "unsupported Digest qop (only auth)");
      goto fail;
    }
  if (values[P_USERHASH] != NULL)
    {
      if (g_ascii_strcasecmp (values[P_USERHASH], "true") == 0)
        {
          g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                       "Digest userhash is not supported");
          goto fail;
        }
      if (g_ascii_strcasecmp (values[P_USERHASH], "false") != 0)
        {
          set_malformed (error, "bad userhash");
          goto fail;
        }
    }
  if (values[P_USERNAME_EXT] != NULL)
    {
      /* RFC 7616 §3.4.4 extended user names: not offered by us, not supported. */
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "Digest username* is not supported");
      goto fail;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (mandatory); i++)
    if (values[mandatory[i]] == NULL || values[mandatory[i]][0] == '\0')
      {
        set_malformed (error, "missing or empty mandatory parameter");
        goto fail;
      }
  if (!is_hex_string (values[P_RESPONSE], sig_digest_alg_hex_len (alg)))
    {
      set_malformed (error, "response is not hex of the right length");
      goto fail;
    }

  creds = g_new0 (SigDigestCredentials, 1);
  creds->alg = alg;
  if (values[P_NC] != NULL && !parse_nc (values[P_NC], &creds->nc))
    {
      set_malformed (error, "nc is not 8 hex digits");
      goto fail;
    }
  /* With qop, cnonce and nc are required (RFC 7616 §3.4). */
  if (values[P_QOP] != NULL &&
      (values[P_NC] == NULL || values[P_CNONCE] == NULL || values[P_CNONCE][0] == '\0'))
    {
      set_malformed (error, "qop without nc or cnonce");
      goto fail;
    }

  creds->username = g_steal_pointer (&values[P_USERNAME]);
  creds->realm = g_steal_pointer (&values[P_REALM]);
  creds->nonce = g_steal_pointer (&values[P_NONCE]);
  creds->uri = g_steal_pointer (&values[P_URI]);
  creds->response = g_ascii_strdown (values[P_RESPONSE], -1);
  creds->cnonce = g_steal_pointer (&values[P_CNONCE]);
  creds->opaque = g_steal_pointer (&values[P_OPAQUE]);
  creds->qop = g_steal_pointer (&values[P_QOP]);
  creds->nc_text = g_steal_pointer (&values[P_NC]);
  free_values (values);
  *out = g_steal_pointer (&creds);
  return TRUE;

fail:
  free_values (values);
  return FALSE;
}

/* ---- Hashing ---- */

/* Lower-case hex of H(@data), or NULL if OpenSSL refuses (MD5 under a FIPS-only provider). */
static char *
hash_hex (SigDigestAlg alg, const char *data, gsize len)
{
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  char *hex;

  const EVP_MD *type = alg_md (alg);

  if (type == NULL || EVP_Digest (data, len, md, &md_len, type, NULL) != 1)
    {
      g_warning ("OpenSSL cannot compute %s", sig_digest_alg_to_string (alg));
      return NULL;
    }
  hex = sotto_util_hex (md, md_len);
  OPENSSL_cleanse (md, sizeof md);
  return hex;
}

char *
sig_digest_ha1 (SigDigestAlg alg, const char *username, const char *realm, const char *password)
{
  g_autoptr (SottoSecret) a1 = NULL;

  g_return_val_if_fail (alg < SIG_DIGEST_ALG_LAST, NULL);
  g_return_val_if_fail (username != NULL && realm != NULL && password != NULL, NULL);

  a1 = g_strconcat (username, ":", realm, ":", password, NULL);
  return hash_hex (alg, a1, strlen (a1));
}

char *
sig_digest_response (SigDigestAlg alg, const char *ha1_hex, const char *nonce,
                     const char *nc_text, const char *cnonce, const char *qop,
                     const char *method, const char *uri)
{
  g_autofree char *a2 = NULL;
  g_autofree char *ha2 = NULL;
  g_autoptr (SottoSecret) kd = NULL;

  g_return_val_if_fail (alg < SIG_DIGEST_ALG_LAST, NULL);
  g_return_val_if_fail (ha1_hex != NULL && nonce != NULL && nc_text != NULL, NULL);
  g_return_val_if_fail (cnonce != NULL && qop != NULL && method != NULL && uri != NULL, NULL);

  a2 = g_strconcat (method, ":", uri, NULL);
  ha2 = hash_hex (alg, a2, strlen (a2));
  if (ha2 == NULL)
    return NULL;
  /* KD(secret, data) = H(secret ":" data), RFC 7616 §3.4.1. HA1 is password-equivalent. */
  kd = g_strconcat (ha1_hex, ":", nonce, ":", nc_text, ":", cnonce, ":", qop, ":", ha2, NULL);
  return hash_hex (alg, kd, strlen (kd));
}

gboolean
sig_digest_verify (const SigDigestCredentials *creds, const char *method, const char *ha1_hex)
{
  g_autoptr (SottoSecret) ha1 = NULL;
  g_autofree char *expected = NULL;
  gsize hex_len;

  g_return_val_if_fail (creds != NULL && method != NULL && ha1_hex != NULL, FALSE);

  if (creds->alg >= SIG_DIGEST_ALG_LAST || creds->qop == NULL ||
      g_ascii_strcasecmp (creds->qop, "auth") != 0 || creds->nc_text == NULL ||
      creds->cnonce == NULL || creds->nonce == NULL || creds->uri == NULL ||
      creds->response == NULL)
    return FALSE;
  hex_len = sig_digest_alg_hex_len (creds->alg);
  /* An HA1 of the other algorithm's length is a caller mix-up: never a match. */
  if (strlen (ha1_hex) != hex_len)
    return FALSE;

  ha1 = g_ascii_strdown (ha1_hex, -1);
  expected = sig_digest_response (creds->alg, ha1, creds->nonce, creds->nc_text, creds->cnonce,
                                  creds->qop, method, creds->uri);
  if (expected == NULL)
    return FALSE;
  /* creds->response is lower-case already (parser), and so is expected. */
  return sotto_util_secure_equal (expected, strlen (expected), creds->response,
                                  strlen (creds->response));
}

/* ---- Challenges ---- */

static void
append_quoted (GString *s, const char *value)
{
  g_string_append_c (s, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
}

char *
sig_digest_challenge (SigDigestAlg alg, const char *realm, const char *nonce, const char *opaque,
                      gboolean stale)
{
  GString *s;

  g_return_val_if_fail (alg < SIG_DIGEST_ALG_LAST, NULL);
  g_return_val_if_fail (realm != NULL && nonce != NULL, NULL);

  s = g_string_new ("Digest realm=");
  append_quoted (s, realm);
  g_string_append (s, ", nonce=");
  append_quoted (s, nonce);
  if (opaque != NULL)
    {
      g_string_append (s, ", opaque=");
      append_quoted (s, opaque);
    }
  g_string_append_printf (s, ", algorithm=%s, qop=\"auth\"", sig_digest_alg_to_string (alg));
  if (stale)
    g_string_append (s, ", stale=true");
  return g_string_free (s, FALSE);
}

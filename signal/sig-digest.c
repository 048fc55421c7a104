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
  /* One block: the strings live behind the struct (sig_digest_parse_credentials). */
  g_free (creds);
}

/* ---- Parsing (RFC 7235 §2.1 auth-param lists, RFC 7230 §3.2.6 tokens and quoted strings) ---- */

/* RFC 7230 tchar, as a table: the parser asks for every byte of every name and token. */
static const guint8 tchar_table[256] = {
  ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
  ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
  ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static inline gboolean
is_tchar (guchar c)
{
  return tchar_table[c] != 0;
}

static gboolean
is_ows (guchar c)
{
  return c == ' ' || c == '\t';
}

/* Skips optional whitespace, including obsolete line folding (CRLF or LF followed by SP or
 * HTAB, RFC 7230 §3.2.4), which header text copied from a message may still carry. */
static inline const char *
skip_ows (const char *p)
{
  for (;;)
    {
      if (is_ows ((guchar) *p))
        p++;
      else if (G_LIKELY (*p != '\r' && *p != '\n'))
        return p;
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

gsize
sig_digest_token_len (const char *p)
{
  gsize n = 0;

  while (is_tchar ((guchar) p[n]))
    n++;
  return n;
}

/* Bytes a quoted-string carries as they are (RFC 7230 §3.2.6 qdtext, with obs-text): HTAB,
 * SP to '~' except '"' and '\\', and 0x80 to 0xff. */
static const guint8 qdtext_table[256] = {
  ['\t'] = 1, [' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... '~'] = 1, [0x80 ... 0xff] = 1,
};

/* Reads a quoted-string at *pp (which points at the opening quote) into @out, unescaping
 * quoted-pairs; @out never receives more than the text between the quotes. Control
 * characters other than HTAB are refused, inside or escaped. */
static gboolean
read_quoted (const char **pp, char *out, gsize *len_out)
{
  const char *p = *pp + 1;
  gsize n = 0;

  for (;;)
    {
      const char *run = p;
      guchar c;

      while (qdtext_table[(guchar) *p])
        p++;
      if ((gsize) (p - run) > SIG_DIGEST_MAX_VALUE - n)
        return FALSE;
      memcpy (out + n, run, (gsize) (p - run));
      n += (gsize) (p - run);

      c = (guchar) *p;
      if (c == '"')
        break;
      if (c != '\\')
        return FALSE; /* NUL (unterminated) or a control character */
      c = (guchar) p[1];
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return FALSE; /* NUL too */
      if (n >= SIG_DIGEST_MAX_VALUE)
        return FALSE;
      out[n++] = (char) c;
      p += 2;
    }
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

/* Names of another length are not compared: a request's nine parameters against twelve
 * names were most of the parser's string comparisons. */
static ParamId
param_lookup (const char *name, gsize len)
{
  for (int i = 0; i < P_LAST; i++)
    {
      const char *want = param_names[i].name; /* lower case */
      gsize k = 0;

      if (param_names[i].len != len)
        continue;
      while (k < len && (name[k] == want[k] || g_ascii_tolower (name[k]) == want[k]))
        k++;
      if (k == len)
        return (ParamId) i;
    }
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

/* Splits the header into parameters. Values are copied, unquoted and NUL-terminated, one
 * after the other into @buf, and @values[id] points at each; unknown parameters are
 * syntax-checked and dropped. @buf needs strlen (@header) + 1 bytes: a value never takes more
 * than its own text, and its NUL fits in the name and '=' before it. */
static gboolean
split_params (const char *header, char *buf, char **values, GError **error)
{
  const char *p = skip_ows (header);
  char *out = buf;

  if (g_ascii_strncasecmp (p, "Digest", 6) != 0)
    return set_malformed (error, "scheme is not Digest");
  p += 6;
  if (*p != '\0' && skip_ows (p) == p)
    return set_malformed (error, "scheme is not Digest");

  for (;;)
    {
      const char *name;
      gsize name_len, value_len;
      ParamId id;

      /* Empty list elements are allowed (RFC 7230 §7): skip stray commas. */
      p = skip_ows (p);
      while (*p == ',')
        p = skip_ows (p + 1);
      if (*p == '\0')
        break;

      name = p;
      name_len = sig_digest_token_len (p);
      if (name_len == 0 || name_len > SIG_DIGEST_MAX_VALUE)
        return set_malformed (error, "bad parameter name");
      p = skip_ows (p + name_len);
      if (*p != '=')
        return set_malformed (error, "parameter without '='");
      p = skip_ows (p + 1);
      if (*p == '"')
        {
          if (!read_quoted (&p, out, &value_len))
            return set_malformed (error, "bad quoted string");
        }
      else
        {
          value_len = sig_digest_token_len (p);
          if (value_len == 0 || value_len > SIG_DIGEST_MAX_VALUE)
            return set_malformed (error, "bad parameter value");
          memcpy (out, p, value_len);
          p += value_len;
        }

      p = skip_ows (p);
      if (*p != ',' && *p != '\0')
        return set_malformed (error, "junk after a parameter");

      id = param_lookup (name, name_len);
      if (id == P_LAST)
        continue; /* the next value overwrites this one */
      if (values[id] != NULL)
        return set_malformed (error, "duplicate parameter");
      out[value_len] = '\0';
      values[id] = out;
      out += value_len + 1;
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

gboolean
sig_digest_parse_credentials (const char *header_value, SigDigestCredentials **out,
                              GError **error)
{
  char *values[P_LAST] = { NULL };
  g_autoptr (SigDigestCredentials) creds = NULL;
  SigDigestAlg alg = SIG_DIGEST_ALG_MD5;
  gsize len;
  static const ParamId mandatory[] = { P_USERNAME, P_REALM, P_NONCE, P_URI, P_RESPONSE };

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (header_value == NULL)
    return set_malformed (error, "no header");
  len = strnlen (header_value, SIG_DIGEST_MAX_HEADER + 1);
  if (len > SIG_DIGEST_MAX_HEADER)
    return set_malformed (error, "header too long");
  /* One allocation: the struct, then its strings (split_params). */
  creds = g_malloc0 (sizeof *creds + len + 1);
  if (!split_params (header_value, (char *) (creds + 1), values, error))
    return FALSE;

  /* What we understand but refuse to do. */
  if (values[P_ALGORITHM] != NULL && !sig_digest_alg_from_string (values[P_ALGORITHM], &alg))
    {
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "unsupported Digest algorithm");
      return FALSE;
    }
  if (values[P_QOP] != NULL && g_ascii_strcasecmp (values[P_QOP], "auth") != 0)
    {
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "unsupported Digest qop (only auth)");
      return FALSE;
    }
  if (values[P_USERHASH] != NULL)
    {
      if (g_ascii_strcasecmp (values[P_USERHASH], "true") == 0)
        {
          g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                       "Digest userhash is not supported");
          return FALSE;
        }
      if (g_ascii_strcasecmp (values[P_USERHASH], "false") != 0)
        return set_malformed (error, "bad userhash");
    }
  if (values[P_USERNAME_EXT] != NULL)
    {
      /* RFC 7616 §3.4.4 extended user names: not offered by us, not supported. */
      g_set_error (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED,
                   "Digest username* is not supported");
      return FALSE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (mandatory); i++)
    if (values[mandatory[i]] == NULL || values[mandatory[i]][0] == '\0')
      return set_malformed (error, "missing or empty mandatory parameter");
  if (!is_hex_string (values[P_RESPONSE], sig_digest_alg_hex_len (alg)))
    return set_malformed (error, "response is not hex of the right length");

  creds->alg = alg;
  if (values[P_NC] != NULL && !parse_nc (values[P_NC], &creds->nc))
    return set_malformed (error, "nc is not 8 hex digits");
  /* With qop, cnonce and nc are required (RFC 7616 §3.4). */
  if (values[P_QOP] != NULL &&
      (values[P_NC] == NULL || values[P_CNONCE] == NULL || values[P_CNONCE][0] == '\0'))
    return set_malformed (error, "qop without nc or cnonce");

  for (char *c = values[P_RESPONSE]; *c != '\0'; c++)
    *c = g_ascii_tolower (*c);
  creds->username = values[P_USERNAME];
  creds->realm = values[P_REALM];
  creds->nonce = values[P_NONCE];
  creds->uri = values[P_URI];
  creds->response = values[P_RESPONSE];
  creds->cnonce = values[P_CNONCE];
  creds->opaque = values[P_OPAQUE];
  creds->qop = values[P_QOP];
  creds->nc_text = values[P_NC];
  *out = g_steal_pointer (&creds);
  return TRUE;
}

/* ---- Hashing ---- */

/* One digest context per thread, kept: a context made and freed for every hash was most of
 * the cost of hashing ~100 bytes (two hashes per authenticated request). */
static GPrivate md_ctx_key = G_PRIVATE_INIT ((GDestroyNotify) EVP_MD_CTX_free);

static EVP_MD_CTX *
md_ctx (void)
{
  EVP_MD_CTX *ctx = g_private_get (&md_ctx_key);

  if (ctx == NULL)
    {
      ctx = EVP_MD_CTX_new ();
      if (ctx != NULL)
        g_private_set (&md_ctx_key, ctx);
    }
  return ctx;
}

#define GATHER_SIZE 512

/* Appends @len bytes to the gathering buffer @buf (GATHER_SIZE bytes, *@used of them full),
 * handing a full buffer to the digest first. */
static gboolean
gather (EVP_MD_CTX *ctx, char *buf, gsize *used, const char *data, gsize len)
{
  while (len > 0)
    {
      gsize n;

      if (*used == GATHER_SIZE)
        {
          if (EVP_DigestUpdate (ctx, buf, *used) != 1)
            return FALSE;
          *used = 0;
        }
      n = MIN (len, GATHER_SIZE - *used);
      memcpy (buf + *used, data, n);
      *used += n, data += n, len -= n;
    }
  return TRUE;
}

/* Writes the lower-case hex of H(@parts joined by ':') into @hex (at least
 * 2 * EVP_MAX_MD_SIZE + 1 bytes). FALSE if OpenSSL refuses (MD5 under a FIPS-only provider).
 * The text is gathered in a stack buffer and hashed in as few updates as it takes: each
 * EVP_DigestUpdate costs more than copying the ~100 bytes of a Digest response. */
static gboolean
hash_hex_parts (SigDigestAlg alg, const char *const *parts, guint n_parts, char *hex)
{
  char buf[GATHER_SIZE];
  gsize used = 0, total = 0;
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const EVP_MD *type = alg_md (alg);
  EVP_MD_CTX *ctx = md_ctx ();
  gboolean ok = type != NULL && ctx != NULL && EVP_DigestInit_ex2 (ctx, type, NULL) == 1;

  for (guint i = 0; ok && i < n_parts; i++)
    {
      gsize len = strlen (parts[i]);

      ok = (i == 0 || gather (ctx, buf, &used, ":", 1))
           && gather (ctx, buf, &used, parts[i], len);
      total += (i > 0) + len;
    }
  if (ok && used > 0)
    ok = EVP_DigestUpdate (ctx, buf, used) == 1;
  /* It may have held HA1 or a password: wiped as far as it was written. */
  OPENSSL_cleanse (buf, MIN (total, sizeof buf));
  if (!ok || EVP_DigestFinal_ex (ctx, md, &md_len) != 1)
    {
      g_warning ("OpenSSL cannot compute %s", sig_digest_alg_to_string (alg));
      return FALSE;
    }
  sotto_util_hex_into (md, md_len, hex);
  OPENSSL_cleanse (md, md_len);
  return TRUE;
}

#define HEX_MAX (2 * EVP_MAX_MD_SIZE + 1)

char *
sig_digest_ha1 (SigDigestAlg alg, const char *username, const char *realm, const char *password)
{
  char hex[HEX_MAX];
  const char *parts[] = { username, realm, password };
  char *out;

  g_return_val_if_fail (alg < SIG_DIGEST_ALG_LAST, NULL);
  g_return_val_if_fail (username != NULL && realm != NULL && password != NULL, NULL);

  if (!hash_hex_parts (alg, parts, G_N_ELEMENTS (parts), hex))
    return NULL;
  out = g_strdup (hex);
  OPENSSL_cleanse (hex, sizeof hex); /* HA1 is password-equivalent */
  return out;
}

/* The last H(method ":" uri) of each algorithm, per thread. Clients send the same method and
 * uri with every REGISTER (and a server of one domain sees few pairs), so this is half the
 * hashing of an authenticated request. Nothing secret: both inputs come with the request. */
#define A2_MEMO_MAX 256

typedef struct
{
  gsize len; /* of text; 0: empty */
  char text[A2_MEMO_MAX];
  char hex[HEX_MAX];
} A2Memo;

static GPrivate a2_memo_key = G_PRIVATE_INIT (g_free);

static gboolean
ha2_hex (SigDigestAlg alg, const char *method, const char *uri, char *hex)
{
  A2Memo *memo = g_private_get (&a2_memo_key);
  gsize method_len = strlen (method), uri_len = strlen (uri);
  gsize len = method_len + 1 + uri_len;
  const char *a2[] = { method, uri };

  if (memo == NULL)
    {
      memo = g_new0 (A2Memo, SIG_DIGEST_ALG_LAST);
      g_private_set (&a2_memo_key, memo);
    }
  memo += alg;
  if (len == memo->len && memcmp (memo->text, method, method_len) == 0
      && memo->text[method_len] == ':' && memcmp (memo->text + method_len + 1, uri, uri_len) == 0)
    {
      memcpy (hex, memo->hex, sizeof memo->hex);
      return TRUE;
    }
  if (!hash_hex_parts (alg, a2, G_N_ELEMENTS (a2), hex))
    return FALSE;
  if (len < sizeof memo->text)
    {
      memcpy (memo->text, method, method_len);
      memo->text[method_len] = ':';
      memcpy (memo->text + method_len + 1, uri, uri_len);
      memo->len = len;
      memcpy (memo->hex, hex, sizeof memo->hex);
    }
  return TRUE;
}

/* The qop=auth response into @hex (HEX_MAX bytes). */
static gboolean
response_hex (SigDigestAlg alg, const char *ha1_hex, const char *nonce, const char *nc_text,
              const char *cnonce, const char *qop, const char *method, const char *uri,
              char *hex)
{
  char ha2[HEX_MAX];
  /* KD(secret, data) = H(secret ":" data), RFC 7616 §3.4.1. */
  const char *kd[] = { ha1_hex, nonce, nc_text, cnonce, qop, ha2 };

  return ha2_hex (alg, method, uri, ha2) && hash_hex_parts (alg, kd, G_N_ELEMENTS (kd), hex);
}

char *
sig_digest_response (SigDigestAlg alg, const char *ha1_hex, const char *nonce,
                     const char *nc_text, const char *cnonce, const char *qop,
                     const char *method, const char *uri)
{
  char hex[HEX_MAX];

  g_return_val_if_fail (alg < SIG_DIGEST_ALG_LAST, NULL);
  g_return_val_if_fail (ha1_hex != NULL && nonce != NULL && nc_text != NULL, NULL);
  g_return_val_if_fail (cnonce != NULL && qop != NULL && method != NULL && uri != NULL, NULL);

  if (!response_hex (alg, ha1_hex, nonce, nc_text, cnonce, qop, method, uri, hex))
    return NULL;
  return g_strdup (hex);
}

gboolean
sig_digest_verify (const SigDigestCredentials *creds, const char *method, const char *ha1_hex)
{
  char ha1[HEX_MAX], expected[HEX_MAX];
  gsize hex_len;
  gboolean ok;

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

  for (gsize i = 0; i <= hex_len; i++)
    ha1[i] = g_ascii_tolower (ha1_hex[i]);
  ok = response_hex (creds->alg, ha1, creds->nonce, creds->nc_text, creds->cnonce, creds->qop,
                     method, creds->uri, expected);
  OPENSSL_cleanse (ha1, sizeof ha1);
  /* creds->response is lower-case already (parser), and so is expected. */
  return ok && sotto_util_secure_equal (expected, strlen (expected), creds->response,
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

/* sig-flow-token: encode and verify the Record-Route flow token. */
#include "config.h"

#include "sig-flow-token.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sotto-tls.h"

#define MAC_LEN 16
#define MAX_NAME 255

void
sig_flow_token_free (SigFlowToken *token)
{
  if (token == NULL)
    return;
  g_free (token->caller);
  g_free (token->callee);
  g_free (token);
}

/* An HMAC-SHA256 context keyed with @key. Kept between calls: EVP_MAC_init with a digest
 * parameter fetches SHA-256 from the provider again every time (~2.4 % of a proxied call's
 * CPU, with the HMAC fetch itself already done once). The server has one token key for its
 * whole life, so in practice this keys once; another key (tests) re-keys. One loop thread. */
static EVP_MAC_CTX *
keyed_mac (const guint8 *key, gsize key_len)
{
  static EVP_MAC_CTX *ctx;
  static guint8 ctx_key[64];
  static gsize ctx_key_len;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_construct_end (),
  };

  if (ctx != NULL && key_len == ctx_key_len && CRYPTO_memcmp (key, ctx_key, key_len) == 0)
    return EVP_MAC_init (ctx, NULL, 0, NULL) == 1 ? ctx : NULL; /* restart, same key */
  if (key_len > sizeof ctx_key)
    return NULL;
  if (ctx == NULL)
    {
      g_autoptr (EVP_MAC) mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
      ctx = mac ? EVP_MAC_CTX_new (mac) : NULL; /* holds its own reference to mac */
      if (ctx == NULL)
        return NULL;
    }
  ctx_key_len = 0;
  if (EVP_MAC_init (ctx, key, key_len, params) != 1)
    return NULL;
  memcpy (ctx_key, key, key_len);
  ctx_key_len = key_len;
  return ctx;
}

static gboolean
token_mac (const guint8 *key, gsize key_len, const guint8 *data, gsize len, const char *ftag,
           guint8 out[MAC_LEN])
{
  EVP_MAC_CTX *ctx = keyed_mac (key, key_len);
  guint8 full[EVP_MAX_MD_SIZE];
  size_t full_len = 0;

  if (ctx == NULL || !EVP_MAC_update (ctx, data, len)
      || !EVP_MAC_update (ctx, (const guint8 *) "\0", 1)
      || !EVP_MAC_update (ctx, (const guint8 *) ftag, strlen (ftag))
      || !EVP_MAC_final (ctx, full, &full_len, sizeof full) || full_len < MAC_LEN)
    return FALSE;
  memcpy (out, full, MAC_LEN);
  OPENSSL_cleanse (full, sizeof full);
  return TRUE;
}

static void
put_u64 (GByteArray *buf, guint64 v)
{
  guint8 b[8];
  for (int i = 7; i >= 0; i--, v >>= 8)
    b[i] = (guint8) (v & 0xff);
  g_byte_array_append (buf, b, 8);
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static char *
b64url_encode (const guint8 *data, gsize len)
{
  g_autofree char *b64 = g_base64_encode (data, len);
  char *p;

  for (p = b64; *p; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
      else if (*p == '=')
        {
          *p = '\0';
          break;
        }
    }
  return g_steal_pointer (&b64);
}

static guint8 *
b64url_decode (const char *text, gsize *out_len)
{
  gsize n = strlen (text);
  g_autoptr (GString) s = NULL;

  if (n == 0 || n > 1024)
    return NULL;
  s = g_string_sized_new (n + 3);
  for (gsize i = 0; i < n; i++)
    {
      char c = text[i];
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
      else if (!g_ascii_isalnum (c))
        return NULL;
      g_string_append_c (s, c);
    }
  while (s->len % 4)
    g_string_append_c (s, '=');
  return g_base64_decode (s->str, out_len);
}

char *
sig_flow_token_encode (const SigFlowToken *token, const char *ftag, const guint8 *key,
                       gsize key_len)
{
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  gsize la, lb;
  guint8 mac[MAC_LEN];
  guint8 len8;

  g_return_val_if_fail (token != NULL && token->caller != NULL && token->callee != NULL, NULL);
  g_return_val_if_fail (ftag != NULL, NULL);
  la = strlen (token->caller);
  lb = strlen (token->callee);
  g_return_val_if_fail (la <= MAX_NAME && lb <= MAX_NAME, NULL);

  put_u64 (buf, token->caller_flow);
  put_u64 (buf, token->callee_flow);
  len8 = (guint8) la;
  g_byte_array_append (buf, &len8, 1);
  g_byte_array_append (buf, (const guint8 *) token->caller, (guint) la);
  len8 = (guint8) lb;
  g_byte_array_append (buf, &len8, 1);
  g_byte_array_append (buf, (const guint8 *) token->callee, (guint) lb);
  if (!token_mac (key, key_len, buf->data, buf->len, ftag, mac))
    return NULL;
  g_byte_array_append (buf, mac, MAC_LEN);
  return b64url_encode (buf->data, buf->len);
}

SigFlowToken *
sig_flow_token_decode (const char *text, const char *ftag, const guint8 *key, gsize key_len)
{
  g_autofree guint8 *raw = NULL;
  g_autoptr (SigFlowToken) token = NULL;
  gsize len = 0, pos = 16, la, lb;
  guint8 mac[MAC_LEN];

  if (text == NULL || ftag == NULL)
    return NULL;
  raw = b64url_decode (text, &len);
  if (raw == NULL || len < 16 + 2 + MAC_LEN)
    return NULL;
  la = raw[pos++];
  if (pos + la + 1 > len - MAC_LEN)
    return NULL;
  pos += la;
  lb = raw[pos++];
  if (pos + lb != len - MAC_LEN)
    return NULL;
  if (!token_mac (key, key_len, raw, len - MAC_LEN, ftag, mac)
      || CRYPTO_memcmp (mac, raw + len - MAC_LEN, MAC_LEN) != 0)
    return NULL;

  token = g_new0 (SigFlowToken, 1);
  token->caller_flow = get_u64 (raw);
  token->callee_flow = get_u64 (raw + 8);
  token->caller = g_strndup ((const char *) raw + 17, la);
  token->callee = g_strndup ((const char *) raw + 18 + la, lb);
  if (strlen (token->caller) != la || strlen (token->callee) != lb)
    return NULL; /* embedded NUL */
  return g_steal_pointer (&token);
}

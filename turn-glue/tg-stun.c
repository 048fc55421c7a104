/* tg-stun: STUN/TURN message codec (RFC 8489, RFC 8656). See tg-stun.h. */
#include "config.h"

#include "tg-stun.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

G_DEFINE_QUARK (tg-stun-error-quark, tg_stun_error)

#define FINGERPRINT_XOR 0x5354554eu
#define MAX_ATTRS 128
#define MAX_STRING 763 /* RFC 8489 §14.3, §14.8, §14.9, §14.10 */

static guint16
get16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

static guint32
get32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static void
put16 (guint8 *p, guint16 v)
{
  p[0] = (guint8) (v >> 8);
  p[1] = (guint8) v;
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) (v >> 24);
  p[1] = (guint8) (v >> 16);
  p[2] = (guint8) (v >> 8);
  p[3] = (guint8) v;
}

const char *
tg_stun_class_to_string (TgStunClass klass)
{
  static const char *const names[] = { "request", "indication", "success response",
                                       "error response" };
  return klass < TG_STUN_CLASS_LAST ? names[klass] : "invalid";
}

const char *
tg_stun_method_to_string (guint16 method)
{
  switch (method)
    {
    case TG_STUN_METHOD_BINDING: return "Binding";
    case TG_STUN_METHOD_ALLOCATE: return "Allocate";
    case TG_STUN_METHOD_REFRESH: return "Refresh";
    case TG_STUN_METHOD_SEND: return "Send";
    case TG_STUN_METHOD_DATA: return "Data";
    case TG_STUN_METHOD_CREATE_PERMISSION: return "CreatePermission";
    case TG_STUN_METHOD_CHANNEL_BIND: return "ChannelBind";
    default: return "unknown";
    }
}

/* RFC 8489 §5: the class bits C1 C0 sit between the method bits M11..M7, M6..M4, M3..M0. */
static guint16
encode_type (guint16 method, TgStunClass klass)
{
  return (guint16) ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
                    | ((klass & 1) << 4) | ((klass & 2) << 7));
}

gboolean
tg_stun_address_from_string (const char *text, guint16 port, TgStunAddress *out)
{
  TgStunAddress a = { 0 };

  if (text == NULL)
    return FALSE;
  if (inet_pton (AF_INET, text, a.addr) == 1)
    a.family = TG_STUN_FAMILY_IPV4;
  else if (inet_pton (AF_INET6, text, a.addr) == 1)
    a.family = TG_STUN_FAMILY_IPV6;
  else
    return FALSE;
  a.port = port;
  *out = a;
  return TRUE;
}

char *
tg_stun_address_to_string (const TgStunAddress *a)
{
  char buf[INET6_ADDRSTRLEN];

  if (a->family == TG_STUN_FAMILY_IPV4)
    {
      inet_ntop (AF_INET, a->addr, buf, sizeof buf);
      return g_strdup_printf ("%s:%u", buf, a->port);
    }
  inet_ntop (AF_INET6, a->addr, buf, sizeof buf);
  return g_strdup_printf ("[%s]:%u", buf, a->port);
}

void
tg_stun_long_term_key (const char *username, const char *realm, const char *password,
                       guint8 key[16])
{
  char *text = g_strconcat (username, ":", realm, ":", password, NULL);
  unsigned int n = 16;

  EVP_Digest (text, strlen (text), key, &n, EVP_md5 (), NULL);
  OPENSSL_cleanse (text, strlen (text));
  g_free (text);
}

guint32
tg_stun_crc32 (const guint8 *data, gsize len)
{
  static guint32 table[256];
  static gsize init = 0;
  guint32 crc = 0xFFFFFFFFu;

  if (g_once_init_enter (&init))
    {
      for (guint32 i = 0; i < 256; i++)
        {
          guint32 c = i;
          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
          table[i] = c;
        }
      g_once_init_leave (&init, 1);
    }
  for (gsize i = 0; i < len; i++)
    crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

static gboolean
hmac_sha1 (const guint8 *key, gsize key_len, const guint8 *data, gsize len, guint8 out[20])
{
  size_t n = 0;

  /* A zero-length key is legal in HMAC; OpenSSL wants a non-NULL pointer for it. */
  static const guint8 empty[1] = { 0 };
  return EVP_Q_mac (NULL, "HMAC", NULL, "SHA1", NULL, key_len ? key : empty, key_len, data, len,
                    out, 20, &n)
         != NULL
         && n == 20;
}

/* Building */

struct _TgStunBuilder
{
  GByteArray *buf;
  gboolean has_integrity;
  gboolean has_fingerprint;
};

static void
set_length (TgStunBuilder *b, gsize total)
{
  put16 (b->buf->data + 2, (guint16) (total - TG_STUN_HEADER_LEN));
}

TgStunBuilder *
tg_stun_builder_new (guint16 method, TgStunClass klass, const guint8 tid[TG_STUN_TID_LEN])
{
  TgStunBuilder *b = g_new0 (TgStunBuilder, 1);
  guint8 header[TG_STUN_HEADER_LEN];

  g_return_val_if_fail (method <= 0x0FFF && klass < TG_STUN_CLASS_LAST, NULL);
  put16 (header, encode_type (method, klass));
  put16 (header + 2, 0);
  put32 (header + 4, TG_STUN_MAGIC_COOKIE);
  memcpy (header + 8, tid, TG_STUN_TID_LEN);
  b->buf = g_byte_array_sized_new (256);
  g_byte_array_append (b->buf, header, sizeof header);
  return b;
}

void
tg_stun_builder_free (TgStunBuilder *b)
{
  if (b == NULL)
    return;
  OPENSSL_cleanse (b->buf->data, b->buf->len);
  g_byte_array_unref (b->buf);
  g_free (b);
}

static gboolean
append_attr (TgStunBuilder *b, guint16 type, const void *value, gsize len)
{
  static const guint8 zeros[3] = { 0 };
  gsize padded = (len + 3) & ~(gsize) 3;
  guint8 head[4];

  if (len > 0xFFFF || b->buf->len + 4 + padded > TG_STUN_MAX_LEN)
    return FALSE;
  put16 (head, type);
  put16 (head + 2, (guint16) len);
  g_byte_array_append (b->buf, head, 4);
  if (len)
    g_byte_array_append (b->buf, value, (guint) len);
  g_byte_array_append (b->buf, zeros, (guint) (padded - len));
  set_length (b, b->buf->len);
  return TRUE;
}

gboolean
tg_stun_builder_add (TgStunBuilder *b, guint16 type, const void *value, gsize len)
{
  if (b->has_integrity || b->has_fingerprint)
    return FALSE;
  return append_attr (b, type, value, len);
}

gboolean
tg_stun_builder_add_u32 (TgStunBuilder *b, guint16 type, guint32 value)
{
  guint8 v[4];

  put32 (v, value);
  return tg_stun_builder_add (b, type, v, 4);
}

gboolean
tg_stun_builder_add_string (TgStunBuilder *b, guint16 type, const char *value)
{
  gsize len = strlen (value);

  if (len > MAX_STRING || !g_utf8_validate (value, (gssize) len, NULL))
    return FALSE;
  return tg_stun_builder_add (b, type, value, len);
}

/* RFC 8489 §14.2: the port is xored with the cookie's top 16 bits, an IPv4 address with the
 * cookie, an IPv6 address with the cookie followed by the transaction id. */
static void
xor_address (const guint8 *header, TgStunFamily family, guint16 port_in, const guint8 *addr_in,
             guint16 *port_out, guint8 *addr_out)
{
  gsize n = family == TG_STUN_FAMILY_IPV4 ? 4 : 16;

  *port_out = port_in ^ (guint16) (TG_STUN_MAGIC_COOKIE >> 16);
  for (gsize i = 0; i < n; i++)
    addr_out[i] = addr_in[i] ^ header[4 + i]; /* cookie, then transaction id */
}

gboolean
tg_stun_builder_add_xor_address (TgStunBuilder *b, guint16 type, const TgStunAddress *a)
{
  guint8 v[20] = { 0 };
  guint16 port;
  gsize n;

  if (a->family != TG_STUN_FAMILY_IPV4 && a->family != TG_STUN_FAMILY_IPV6)
    return FALSE;
  n = a->family == TG_STUN_FAMILY_IPV4 ? 4 : 16;
  v[1] = (guint8) a->family;
  xor_address (b->buf->data, a->family, a->port, a->addr, &port, v + 4);
  put16 (v + 2, port);
  return tg_stun_builder_add (b, type, v, 4 + n);
}

gboolean
tg_stun_builder_add_error_code (TgStunBuilder *b, guint code, const char *reason)
{
  gsize rlen = reason ? strlen (reason) : 0;
  g_autofree guint8 *v = NULL;

  if (code < 300 || code > 699 || rlen > MAX_STRING)
    return FALSE;
  v = g_malloc0 (4 + rlen);
  v[2] = (guint8) (code / 100);
  v[3] = (guint8) (code % 100);
  if (rlen)
    memcpy (v + 4, reason, rlen);
  return tg_stun_builder_add (b, TG_STUN_ATTR_ERROR_CODE, v, 4 + rlen);
}

gboolean
tg_stun_builder_add_integrity (TgStunBuilder *b, const guint8 *key, gsize key_len)
{
  guint8 mac[20];
  gboolean ok;

  if (b->has_integrity || b->has_fingerprint || b->buf->len + 24 > TG_STUN_MAX_LEN)
    return FALSE;
  /* §14.5: the length field covers the attribute itself while the HMAC is computed. */
  set_length (b, b->buf->len + 24);
  if (!hmac_sha1 (key, key_len, b->buf->data, b->buf->len, mac))
    {
      set_length (b, b->buf->len);
      return FALSE;
    }
  ok = append_attr (b, TG_STUN_ATTR_MESSAGE_INTEGRITY, mac, sizeof mac);
  b->has_integrity = ok;
  return ok;
}

gboolean
tg_stun_builder_add_fingerprint (TgStunBuilder *b)
{
  guint8 v[4];

  if (b->has_fingerprint || b->buf->len + 8 > TG_STUN_MAX_LEN)
    return FALSE;
  set_length (b, b->buf->len + 8);
  put32 (v, tg_stun_crc32 (b->buf->data, b->buf->len) ^ FINGERPRINT_XOR);
  b->has_fingerprint = append_attr (b, TG_STUN_ATTR_FINGERPRINT, v, 4);
  return b->has_fingerprint;
}

GBytes *
tg_stun_builder_end (TgStunBuilder *b)
{
  return g_bytes_new (b->buf->data, b->buf->len);
}

/* Decoding */

typedef struct
{
  guint16 type;
  guint16 len;
  guint32 offset; /* of the value */
} Attr;

struct _TgStunMessage
{
  guint8 *data;
  gsize len;
  guint16 method;
  TgStunClass klass;
  Attr attrs[MAX_ATTRS];
  guint n_attrs;
  gsize integrity_offset; /* of the MESSAGE-INTEGRITY attribute header; 0: none */
  gboolean has_fingerprint;
};

gsize
tg_stun_frame_length (const guint8 header[TG_STUN_HEADER_LEN])
{
  guint16 len = get16 (header + 2);

  if ((header[0] & 0xC0) != 0 || get32 (header + 4) != TG_STUN_MAGIC_COOKIE || (len & 3) != 0
      || TG_STUN_HEADER_LEN + (gsize) len > TG_STUN_MAX_LEN)
    return 0;
  return TG_STUN_HEADER_LEN + (gsize) len;
}

void
tg_stun_message_free (TgStunMessage *m)
{
  if (m == NULL)
    return;
  g_free (m->data);
  g_free (m);
}

TgStunMessage *
tg_stun_message_parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (TgStunMessage) m = NULL;
  gsize body, off;
  guint16 type;

  if (len < TG_STUN_HEADER_LEN)
    {
      g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_TRUNCATED,
                   "STUN message of %" G_GSIZE_FORMAT " bytes is shorter than its header", len);
      return NULL;
    }
  if ((data[0] & 0xC0) != 0 || get32 (data + 4) != TG_STUN_MAGIC_COOKIE)
    {
      g_set_error_literal (error, TG_STUN_ERROR, TG_STUN_ERROR_NOT_STUN,
                           "not a STUN message (first bits or magic cookie)");
      return NULL;
    }
  body = get16 (data + 2);
  if (body & 3)
    {
      g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_NOT_STUN,
                   "STUN length %" G_GSIZE_FORMAT " is not a multiple of 4", body);
      return NULL;
    }
  if (TG_STUN_HEADER_LEN + body > len)
    {
      g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_TRUNCATED,
                   "STUN message truncated: header says %" G_GSIZE_FORMAT " bytes, got %"
                   G_GSIZE_FORMAT, TG_STUN_HEADER_LEN + body, len);
      return NULL;
    }
  if (TG_STUN_HEADER_LEN + body != len || len > TG_STUN_MAX_LEN)
    {
      g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED,
                   "STUN message of %" G_GSIZE_FORMAT " bytes has %" G_GSIZE_FORMAT
                   " bytes after its end or is too long", len, len - TG_STUN_HEADER_LEN - body);
      return NULL;
    }

  m = g_new0 (TgStunMessage, 1);
  m->data = g_memdup2 (data, len);
  m->len = len;
  type = get16 (data);
  m->method = (guint16) ((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
  m->klass = (TgStunClass) (((type >> 4) & 1) | ((type >> 7) & 2));

  for (off = TG_STUN_HEADER_LEN; off < len;)
    {
      /* off is a multiple of 4 below len, which is one too: 4 header bytes are there. */
      guint16 atype = get16 (data + off);
      guint16 alen = get16 (data + off + 2);
      gsize padded = ((gsize) alen + 3) & ~(gsize) 3;

      if (padded > len - off - 4)
        {
          g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED,
                       "STUN attribute 0x%04x of %u bytes overruns the message", atype, alen);
          return NULL;
        }
      if (atype == TG_STUN_ATTR_FINGERPRINT)
        {
          guint32 want;
          if (alen != 4 || off + 8 != len)
            {
              g_set_error_literal (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED,
                                   "STUN FINGERPRINT is not a 4-byte last attribute");
              return NULL;
            }
          want = tg_stun_crc32 (data, off) ^ FINGERPRINT_XOR;
          if (get32 (data + off + 4) != want)
            {
              g_set_error_literal (error, TG_STUN_ERROR, TG_STUN_ERROR_FINGERPRINT,
                                   "STUN FINGERPRINT does not match the message");
              return NULL;
            }
          m->has_fingerprint = TRUE;
        }
      else if (m->integrity_offset == 0)
        {
          if (atype == TG_STUN_ATTR_MESSAGE_INTEGRITY)
            {
              if (alen != 20)
                {
                  g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED,
                               "STUN MESSAGE-INTEGRITY of %u bytes (want 20)", alen);
                  return NULL;
                }
              m->integrity_offset = off;
            }
          else
            {
              if (m->n_attrs == MAX_ATTRS)
                {
                  g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED,
                               "STUN message has more than %d attributes", MAX_ATTRS);
                  return NULL;
                }
              m->attrs[m->n_attrs++] = (Attr){ atype, alen, (guint32) (off + 4) };
            }
        }
      /* else: §14.5, attributes after MESSAGE-INTEGRITY are ignored. */
      off += 4 + padded;
    }
  return g_steal_pointer (&m);
}

guint16
tg_stun_message_method (const TgStunMessage *m)
{
  return m->method;
}

TgStunClass
tg_stun_message_class (const TgStunMessage *m)
{
  return m->klass;
}

const guint8 *
tg_stun_message_tid (const TgStunMessage *m)
{
  return m->data + 8;
}

gboolean
tg_stun_message_has_fingerprint (const TgStunMessage *m)
{
  return m->has_fingerprint;
}

const guint8 *
tg_stun_message_find (const TgStunMessage *m, guint16 type, gsize *len)
{
  for (guint i = 0; i < m->n_attrs; i++)
    if (m->attrs[i].type == type)
      {
        if (len)
          *len = m->attrs[i].len;
        return m->data + m->attrs[i].offset;
      }
  return NULL;
}

static const guint8 *
require (const TgStunMessage *m, guint16 type, gsize *len, GError **error)
{
  const guint8 *v = tg_stun_message_find (m, type, len);

  if (v == NULL)
    g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MISSING,
                 "STUN %s %s has no attribute 0x%04x", tg_stun_method_to_string (m->method),
                 tg_stun_class_to_string (m->klass), type);
  return v;
}

static gboolean
malformed (GError **error, guint16 type, const char *what)
{
  g_set_error (error, TG_STUN_ERROR, TG_STUN_ERROR_MALFORMED, "STUN attribute 0x%04x: %s",
               type, what);
  return FALSE;
}

gboolean
tg_stun_message_get_u32 (const TgStunMessage *m, guint16 type, guint32 *out, GError **error)
{
  gsize len;
  const guint8 *v = require (m, type, &len, error);

  if (v == NULL)
    return FALSE;
  if (len != 4)
    return malformed (error, type, "not 4 bytes long");
  *out = get32 (v);
  return TRUE;
}

char *
tg_stun_message_get_string (const TgStunMessage *m, guint16 type, GError **error)
{
  gsize len;
  const guint8 *v = require (m, type, &len, error);

  if (v == NULL)
    return NULL;
  if (len > MAX_STRING || memchr (v, 0, len) != NULL
      || !g_utf8_validate ((const char *) v, (gssize) len, NULL))
    {
      malformed (error, type, "not a UTF-8 string of at most 763 bytes");
      return NULL;
    }
  return g_strndup ((const char *) v, len);
}

static gboolean
get_address (const TgStunMessage *m, guint16 type, gboolean xored, TgStunAddress *out,
             GError **error)
{
  TgStunAddress a = { 0 };
  gsize len;
  const guint8 *v = require (m, type, &len, error);
  gsize n;

  if (v == NULL)
    return FALSE;
  if (len < 4)
    return malformed (error, type, "address too short");
  if (v[1] != TG_STUN_FAMILY_IPV4 && v[1] != TG_STUN_FAMILY_IPV6)
    return malformed (error, type, "unknown address family");
  a.family = (TgStunFamily) v[1];
  n = a.family == TG_STUN_FAMILY_IPV4 ? 4 : 16;
  if (len != 4 + n)
    return malformed (error, type, "address length does not match its family");
  if (xored)
    xor_address (m->data, a.family, get16 (v + 2), v + 4, &a.port, a.addr);
  else
    {
      a.port = get16 (v + 2);
      memcpy (a.addr, v + 4, n);
    }
  *out = a;
  return TRUE;
}

gboolean
tg_stun_message_get_xor_address (const TgStunMessage *m, guint16 type, TgStunAddress *out,
                                 GError **error)
{
  return get_address (m, type, TRUE, out, error);
}

gboolean
tg_stun_message_get_address (const TgStunMessage *m, guint16 type, TgStunAddress *out,
                             GError **error)
{
  return get_address (m, type, FALSE, out, error);
}

gboolean
tg_stun_message_get_error_code (const TgStunMessage *m, guint *code, char **reason,
                                GError **error)
{
  gsize len;
  const guint8 *v = require (m, TG_STUN_ATTR_ERROR_CODE, &len, error);
  guint klass, number;

  if (v == NULL)
    return FALSE;
  if (len < 4 || len > 4 + MAX_STRING)
    return malformed (error, TG_STUN_ATTR_ERROR_CODE, "bad length");
  klass = v[2] & 0x07;
  number = v[3];
  if (klass < 3 || klass > 6 || number > 99)
    return malformed (error, TG_STUN_ATTR_ERROR_CODE, "code outside 300..699");
  *code = klass * 100 + number;
  if (reason)
    /* The reason is shown to people: replace whatever is not UTF-8 rather than fail. */
    *reason = g_utf8_make_valid ((const char *) v + 4, (gssize) (len - 4));
  return TRUE;
}

gboolean
tg_stun_message_check_integrity (const TgStunMessage *m, const guint8 *key, gsize key_len,
                                 GError **error)
{
  g_autofree guint8 *copy = NULL;
  guint8 mac[20];
  gsize off = m->integrity_offset;

  if (off == 0)
    {
      g_set_error_literal (error, TG_STUN_ERROR, TG_STUN_ERROR_INTEGRITY,
                           "STUN message has no MESSAGE-INTEGRITY");
      return FALSE;
    }
  /* §14.5: HMAC over everything before the attribute, with the length field set as if the
   * message ended right after MESSAGE-INTEGRITY (dropping a FINGERPRINT that follows). */
  copy = g_memdup2 (m->data, off);
  put16 (copy + 2, (guint16) (off + 24 - TG_STUN_HEADER_LEN));
  if (!hmac_sha1 (key, key_len, copy, off, mac)
      || CRYPTO_memcmp (mac, m->data + off + 4, sizeof mac) != 0)
    {
      g_set_error_literal (error, TG_STUN_ERROR, TG_STUN_ERROR_INTEGRITY,
                           "STUN MESSAGE-INTEGRITY does not match (wrong key?)");
      return FALSE;
    }
  return TRUE;
}

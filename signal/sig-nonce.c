/* sig-nonce: HMAC-authenticated Digest nonces with a bounded replay table.
 *
 * Wire form: base64url (RFC 4648 §5, no padding) of 32 bytes:
 *   timestamp (8, big-endian seconds) || random (8) || HMAC-SHA256(key, ts || random)[0..16)
 * giving 43 characters. The decoder is strict and canonical (the 2 spare bits of the last
 * character must be zero), so one nonce has exactly one spelling and the replay table, keyed
 * by the string, cannot be dodged by re-spelling a nonce. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-nonce.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sotto-tls.h"
#include "sotto-util.h"

#define TS_LEN 8
#define RND_LEN 8
#define MAC_LEN 16
#define RAW_LEN (TS_LEN + RND_LEN + MAC_LEN)
#define TEXT_LEN 43 /* ceil (32 * 8 / 6) */
#define CLOCK_SKEW_S 5

typedef struct
{
  char *nonce;   /* key in the table */
  gint64 ts;     /* the nonce's own timestamp */
  guint32 last_nc;
  GList link;    /* in keeper->order, oldest first; data = this entry */
} Tracked;

struct _SigNonceKeeper
{
  guint lifetime_s;
  guint max_tracked;
  /* Keyed once with SHA-256: EVP_MAC_init with its digest parameter fetches SHA-256 from
   * the provider again on every call, which was most of the cost of a nonce check. */
  EVP_MAC_CTX *mac;
  /* The last nonce whose MAC verified, and its timestamp: a request is checked once before
   * its credentials are verified and again when its nonce is used, and the second HMAC
   * would only repeat the first. Equal text means equal bytes, so the verdict is the same. */
  char memo_text[TEXT_LEN + 1];
  gint64 memo_ts;
  GHashTable *tracked; /* nonce string -> Tracked (owned) */
  GQueue order;        /* of Tracked, in first-use order */
  /* Highest nonce timestamp ever evicted from the table: any nonce minted at or before it that
   * is not tracked may have been used already, so it is refused as STALE. */
  gint64 evicted_up_to;
  gboolean evicted_any;
};

const char *
sig_nonce_verdict_to_string (SigNonceVerdict verdict)
{
  switch (verdict)
    {
    case SIG_NONCE_VALID:
      return "valid";
    case SIG_NONCE_STALE:
      return "stale";
    case SIG_NONCE_INVALID:
      return "invalid";
    case SIG_NONCE_REPLAY:
      return "replay";
    case SIG_NONCE_LAST:
    default:
      break;
    }
  return "unknown";
}

static void
tracked_free (gpointer data)
{
  Tracked *t = data;

  g_free (t->nonce);
  g_free (t);
}

SigNonceKeeper *
sig_nonce_keeper_new (const guint8 *key, gsize key_len, guint lifetime_s, guint max_tracked)
{
  SigNonceKeeper *keeper;
  g_autoptr (EVP_MAC) hmac = NULL;
  g_autoptr (EVP_MAC_CTX) mac = NULL;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
    OSSL_PARAM_construct_end (),
  };

  g_return_val_if_fail (key != NULL && key_len >= 32, NULL);
  g_return_val_if_fail (lifetime_s > 0, NULL);

  hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  mac = hmac != NULL ? EVP_MAC_CTX_new (hmac) : NULL;
  if (mac == NULL || EVP_MAC_init (mac, key, key_len, params) != 1)
    {
      g_critical ("OpenSSL has no HMAC-SHA256 implementation");
      return NULL;
    }

  keeper = g_new0 (SigNonceKeeper, 1);
  keeper->lifetime_s = lifetime_s;
  keeper->max_tracked = MAX (max_tracked, 1);
  keeper->mac = g_steal_pointer (&mac);
  /* Freed by hand from the queue side: the hash table only indexes. */
  keeper->tracked = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&keeper->order);
  return keeper;
}

void
sig_nonce_keeper_free (SigNonceKeeper *keeper)
{
  GList *l;

  if (keeper == NULL)
    return;
  g_hash_table_destroy (keeper->tracked);
  while ((l = g_queue_pop_head_link (&keeper->order)) != NULL)
    tracked_free (l->data);
  EVP_MAC_CTX_free (keeper->mac);
  g_free (keeper);
}

/* ---- Encoding ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64url_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

static void
encode_raw (const guint8 raw[RAW_LEN], char out[TEXT_LEN + 1])
{
  guint32 acc = 0;
  int bits = 0;
  gsize n = 0;

  for (gsize i = 0; i < RAW_LEN; i++)
    {
      acc = (acc << 8) | raw[i];
      bits += 8;
      while (bits >= 6)
        {
          bits -= 6;
          out[n++] = b64url[(acc >> bits) & 0x3f];
        }
    }
  if (bits > 0)
    out[n++] = b64url[(acc << (6 - bits)) & 0x3f];
  out[n] = '\0';
  g_assert (n == TEXT_LEN);
}

static gboolean
decode_text (const char *text, guint8 raw[RAW_LEN])
{
  guint32 acc = 0;
  int bits = 0;
  gsize n = 0;

  if (strnlen (text, TEXT_LEN + 1) != TEXT_LEN)
    return FALSE;
  for (gsize i = 0; i < TEXT_LEN; i++)
    {
      int v = b64url_value (text[i]);

      if (v < 0)
        return FALSE;
      acc = (acc << 6) | (guint32) v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          raw[n++] = (guint8) (acc >> bits);
        }
    }
  /* Canonical form: the leftover bits are zero. */
  return n == RAW_LEN && (acc & ((1u << bits) - 1)) == 0;
}

static gboolean
compute_mac (SigNonceKeeper *keeper, const guint8 *data, gsize len, guint8 out[MAC_LEN])
{
  guint8 full[EVP_MAX_MD_SIZE];
  size_t full_len = 0;

  /* No key: HMAC starts again from the key set in sig_nonce_keeper_new. */
  if (EVP_MAC_init (keeper->mac, NULL, 0, NULL) != 1 ||
      EVP_MAC_update (keeper->mac, data, len) != 1 ||
      EVP_MAC_final (keeper->mac, full, &full_len, sizeof full) != 1 || full_len < MAC_LEN)
    return FALSE;
  memcpy (out, full, MAC_LEN);
  OPENSSL_cleanse (full, sizeof full);
  return TRUE;
}

char *
sig_nonce_keeper_mint (SigNonceKeeper *keeper, gint64 now_s)
{
  guint8 raw[RAW_LEN];
  char text[TEXT_LEN + 1];
  guint64 ts = (guint64) now_s;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (keeper != NULL, NULL);

  for (int i = 0; i < TS_LEN; i++)
    raw[i] = (guint8) (ts >> (8 * (TS_LEN - 1 - i)));
  if (!sotto_util_random (raw + TS_LEN, RND_LEN, &error))
    {
      g_warning ("cannot mint a nonce: %s", error->message);
      return NULL;
    }
  if (!compute_mac (keeper, raw, TS_LEN + RND_LEN, raw + TS_LEN + RND_LEN))
    {
      g_warning ("cannot mint a nonce: HMAC failed");
      return NULL;
    }
  encode_raw (raw, text);
  return g_strdup (text);
}

/* Authenticity and age; on success *ts_out is the nonce's timestamp. */
static SigNonceVerdict
check (SigNonceKeeper *keeper, const char *nonce, gint64 now_s, gint64 *ts_out)
{
  guint8 raw[RAW_LEN];
  guint8 mac[MAC_LEN];
  guint64 uts = 0;
  const Tracked *t;
  gint64 ts;

  if (nonce == NULL)
    return SIG_NONCE_INVALID;
  /* A tracked nonce had its MAC verified when it was first used, and its text is canonical:
   * the same string is the same bytes, so it would verify again. Its client re-registers
   * with it until it expires, one HMAC per request otherwise. */
  if ((t = g_hash_table_lookup (keeper->tracked, nonce)) != NULL)
    ts = t->ts;
  else if (keeper->memo_text[0] != '\0' && strcmp (nonce, keeper->memo_text) == 0)
    ts = keeper->memo_ts;
  else
    {
      if (!decode_text (nonce, raw))
        return SIG_NONCE_INVALID;
      if (!compute_mac (keeper, raw, TS_LEN + RND_LEN, mac))
        return SIG_NONCE_INVALID;
      if (CRYPTO_memcmp (mac, raw + TS_LEN + RND_LEN, MAC_LEN) != 0)
        return SIG_NONCE_INVALID;

      for (int i = 0; i < TS_LEN; i++)
        uts = (uts << 8) | raw[i];
      ts = (gint64) uts;
      /* decode_text accepted it, so it is exactly TEXT_LEN characters. */
      memcpy (keeper->memo_text, nonce, TEXT_LEN + 1);
      keeper->memo_ts = ts;
    }
  /* Ours, but from the future beyond clock skew: the key leaked or the clock jumped back. */
  if (ts > now_s && ts - now_s > CLOCK_SKEW_S)
    return SIG_NONCE_INVALID;
  /* Valid for lifetime_s seconds from minting: [ts, ts + lifetime). */
  if (now_s > ts && now_s - ts >= (gint64) keeper->lifetime_s)
    return SIG_NONCE_STALE;
  *ts_out = ts;
  return SIG_NONCE_VALID;
}

SigNonceVerdict
sig_nonce_keeper_check (SigNonceKeeper *keeper, const char *nonce, gint64 now_s)
{
  gint64 ts;

  g_return_val_if_fail (keeper != NULL, SIG_NONCE_INVALID);
  return check (keeper, nonce, now_s, &ts);
}

static void
drop_tracked (SigNonceKeeper *keeper, Tracked *t)
{
  g_hash_table_remove (keeper->tracked, t->nonce);
  g_queue_unlink (&keeper->order, &t->link);
  tracked_free (t);
}

/* Forgets expired nonces at the head (they can only ever be STALE again), then evicts the
 * oldest while the table is full. */
static void
make_room (SigNonceKeeper *keeper, gint64 now_s)
{
  Tracked *t;

  while ((t = g_queue_peek_head (&keeper->order)) != NULL &&
         now_s > t->ts && now_s - t->ts >= (gint64) keeper->lifetime_s)
    drop_tracked (keeper, t);

  while (g_queue_get_length (&keeper->order) >= keeper->max_tracked)
    {
      t = g_queue_peek_head (&keeper->order);
      if (!keeper->evicted_any || t->ts > keeper->evicted_up_to)
        keeper->evicted_up_to = t->ts;
      keeper->evicted_any = TRUE;
      g_debug ("nonce table full (%u): evicting the oldest", keeper->max_tracked);
      drop_tracked (keeper, t);
    }
}

SigNonceVerdict
sig_nonce_keeper_use (SigNonceKeeper *keeper, const char *nonce, guint32 nc, gint64 now_s)
{
  SigNonceVerdict verdict;
  Tracked *t;
  gint64 ts = 0;

  g_return_val_if_fail (keeper != NULL, SIG_NONCE_INVALID);

  verdict = check (keeper, nonce, now_s, &ts);
  if (verdict != SIG_NONCE_VALID)
    return verdict;

  t = g_hash_table_lookup (keeper->tracked, nonce);
  if (t != NULL)
    {
      if (nc <= t->last_nc)
        return SIG_NONCE_REPLAY;
      t->last_nc = nc;
      return SIG_NONCE_VALID;
    }

  /* Not tracked: either first use, or tracked once and evicted. We cannot tell which for a
   * nonce no newer than the newest evicted one, so make the client fetch a fresh nonce. */
  if (keeper->evicted_any && ts <= keeper->evicted_up_to)
    return SIG_NONCE_STALE;
  /* nc starts at 00000001 (RFC 7616 §3.4). */
  if (nc == 0)
    return SIG_NONCE_REPLAY;

  make_room (keeper, now_s);
  t = g_new0 (Tracked, 1);
  t->nonce = g_strdup (nonce);
  t->ts = ts;
  t->last_nc = nc;
  t->link.data = t;
  g_queue_push_tail_link (&keeper->order, &t->link);
  g_hash_table_insert (keeper->tracked, t->nonce, t);
  return SIG_NONCE_VALID;
}

guint
sig_nonce_keeper_tracked (SigNonceKeeper *keeper)
{
  g_return_val_if_fail (keeper != NULL, 0);
  return g_hash_table_size (keeper->tracked);
}

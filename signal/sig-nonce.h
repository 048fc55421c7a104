/* sig-nonce: stateless-checkable nonces with replay tracking (RFC 7616 §3.3, §5.4).
 *
 * A nonce is base64url(timestamp(8 bytes, big-endian) || random(8) || HMAC-SHA256(key, ts||rnd)
 * truncated to 16 bytes). The server can check any nonce it minted, even after a restart with
 * the same key, without storing it. Replay protection keeps, per nonce in use, the highest nc
 * accepted; a request with a nonce-count not above it is a replay. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SIG_NONCE_VALID,   /* minted by us, not expired */
  SIG_NONCE_STALE,   /* minted by us, expired: challenge again with stale=true */
  SIG_NONCE_INVALID, /* not ours (bad MAC, bad encoding, from the future) */
  SIG_NONCE_REPLAY,  /* ours and fresh, but nc was not above the last accepted one */
  SIG_NONCE_LAST
} SigNonceVerdict;

const char *sig_nonce_verdict_to_string (SigNonceVerdict verdict);

typedef struct _SigNonceKeeper SigNonceKeeper;

/* @key is copied and wiped on free; at least 32 bytes. @lifetime_s > 0. @max_tracked bounds the
 * replay table (oldest entries are evicted; an evicted nonce is then refused as STALE, so memory
 * stays bounded under a flood). */
SigNonceKeeper *sig_nonce_keeper_new (const guint8 *key, gsize key_len, guint lifetime_s,
                                      guint max_tracked);
void sig_nonce_keeper_free (SigNonceKeeper *keeper);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigNonceKeeper, sig_nonce_keeper_free)

/* A new nonce for time @now_s (seconds, for example g_get_real_time () / G_USEC_PER_SEC).
 * NULL only if the system random generator or HMAC fails. */
char *sig_nonce_keeper_mint (SigNonceKeeper *keeper, gint64 now_s);

/* Checks authenticity and age only. Does not record anything. */
SigNonceVerdict sig_nonce_keeper_check (SigNonceKeeper *keeper, const char *nonce, gint64 now_s);

/* Call only after the Digest response verified: checks authenticity, age, and that @nc is above
 * the last accepted count for this nonce, then records @nc. Returns VALID on success. */
SigNonceVerdict sig_nonce_keeper_use (SigNonceKeeper *keeper, const char *nonce, guint32 nc,
                                      gint64 now_s);

/* How many nonces the replay table holds now (for tests and statistics). */
guint sig_nonce_keeper_tracked (SigNonceKeeper *keeper);

G_END_DECLS

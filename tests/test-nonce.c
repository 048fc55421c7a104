/* Unit tests for sig-nonce. Time is always passed explicitly: nothing sleeps. */
#include "config.h"

#include <string.h>

#include "signal/sig-nonce.h"

#define T0 G_GINT64_CONSTANT (1700000000)
#define LIFETIME 60

static const guint8 key_a[32] = "0123456789abcdef0123456789abcde";
static const guint8 key_b[32] = "0123456789abcdef0123456789abcdX";

typedef struct
{
  SigNonceKeeper *keeper;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  guint max_tracked = GPOINTER_TO_UINT (data);

  f->keeper = sig_nonce_keeper_new (key_a, sizeof key_a, LIFETIME, max_tracked ? max_tracked : 64);
  g_assert_nonnull (f->keeper);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->keeper, sig_nonce_keeper_free);
}

static gboolean
is_b64url (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

static void
test_mint_check (Fixture *f, gconstpointer data)
{
  g_autofree char *n1 = sig_nonce_keeper_mint (f->keeper, T0);
  g_autofree char *n2 = sig_nonce_keeper_mint (f->keeper, T0);

  g_assert_cmpuint (strlen (n1), ==, 43);
  g_assert_true (is_b64url (n1));
  /* Same second, still different: the random part. */
  g_assert_cmpstr (n1, !=, n2);

  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n1, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n1, T0 + LIFETIME - 1), ==,
                   SIG_NONCE_VALID);
  /* Checking records nothing: still usable. */
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n1, 1, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpstr (sig_nonce_verdict_to_string (SIG_NONCE_REPLAY), ==, "replay");
  g_assert_cmpstr (sig_nonce_verdict_to_string (SIG_NONCE_STALE), ==, "stale");
}

static void
test_expired (Fixture *f, gconstpointer data)
{
  g_autofree char *n = sig_nonce_keeper_mint (f->keeper, T0);

  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n, T0 + LIFETIME), ==, SIG_NONCE_STALE);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n, T0 + 100000), ==, SIG_NONCE_STALE);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 1, T0 + LIFETIME), ==, SIG_NONCE_STALE);
  /* Expiry wins over a good MAC, and also over a table entry. */
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 1, T0 + 1), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 2, T0 + LIFETIME), ==, SIG_NONCE_STALE);
}

static void
test_tampered (Fixture *f, gconstpointer data)
{
  g_autofree char *n = sig_nonce_keeper_mint (f->keeper, T0);
  gsize len = strlen (n);

  /* Change each character in turn: every one of them is covered by the MAC or the encoding. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree char *t = g_strdup (n);

      t[i] = t[i] == 'A' ? 'B' : 'A';
      g_assert_cmpint (sig_nonce_keeper_check (f->keeper, t, T0), ==, SIG_NONCE_INVALID);
      g_assert_cmpint (sig_nonce_keeper_use (f->keeper, t, 1, T0), ==, SIG_NONCE_INVALID);
    }
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 0);
}

static void
test_bad_encoding (Fixture *f, gconstpointer data)
{
  g_autofree char *n = sig_nonce_keeper_mint (f->keeper, T0);
  g_autofree char *longer = g_strconcat (n, "A", NULL);
  g_autofree char *shorter = g_strndup (n, strlen (n) - 1);
  g_autofree char *padded = g_strconcat (n, "=", NULL);
  g_autofree char *std64 = g_strdup (n);
  g_autofree char *respelled = g_strdup (n);
  char *p;

  /* Standard base64 alphabet is not base64url. */
  for (p = std64; *p; p++)
    if (*p == '-' || *p == '_')
      *p = *p == '-' ? '+' : '/';
  if (strcmp (std64, n) == 0)
    std64[0] = '+';

  /* Same 32 bytes, other spelling: set a spare low bit of the last character. The nonce must
   * have exactly one spelling, else the replay table could be dodged. */
  g_assert_cmpuint (strlen (n), ==, 43);
  respelled[42]++; /* the canonical last character encodes a multiple of 4: no wrap-around */

  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, "", T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, NULL, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, longer, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, shorter, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, padded, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, std64, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpstr (respelled, !=, n);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, respelled, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n, T0), ==, SIG_NONCE_VALID);
}

static void
test_other_key (Fixture *f, gconstpointer data)
{
  g_autoptr (SigNonceKeeper) other = sig_nonce_keeper_new (key_b, sizeof key_b, LIFETIME, 8);
  g_autoptr (SigNonceKeeper) same = sig_nonce_keeper_new (key_a, sizeof key_a, LIFETIME, 8);
  g_autofree char *n = sig_nonce_keeper_mint (f->keeper, T0);

  g_assert_cmpint (sig_nonce_keeper_check (other, n, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_use (other, n, 1, T0), ==, SIG_NONCE_INVALID);
  /* A restart with the same key still knows its nonces. */
  g_assert_cmpint (sig_nonce_keeper_check (same, n, T0 + 1), ==, SIG_NONCE_VALID);
}

static void
test_future (Fixture *f, gconstpointer data)
{
  g_autofree char *skewed = sig_nonce_keeper_mint (f->keeper, T0 + 5);
  g_autofree char *future = sig_nonce_keeper_mint (f->keeper, T0 + 6);

  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, skewed, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, future, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, future, 1, T0), ==, SIG_NONCE_INVALID);
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, future, T0 + 1), ==, SIG_NONCE_VALID);
}

static void
test_replay (Fixture *f, gconstpointer data)
{
  g_autofree char *n = sig_nonce_keeper_mint (f->keeper, T0);
  g_autofree char *m = sig_nonce_keeper_mint (f->keeper, T0);

  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 1, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 1, T0), ==, SIG_NONCE_REPLAY);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 2, T0 + 1), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 1, T0 + 1), ==, SIG_NONCE_REPLAY);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 7, T0 + 2), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n, 5, T0 + 2), ==, SIG_NONCE_REPLAY);
  /* check() never records and never reports replays. */
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, n, T0 + 2), ==, SIG_NONCE_VALID);
  /* Nonces are tracked separately; nc starts at 1. */
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, m, 0, T0), ==, SIG_NONCE_REPLAY);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, m, 1, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, m, G_MAXUINT32, T0), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, m, G_MAXUINT32, T0), ==, SIG_NONCE_REPLAY);
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 2);
}

/* max_tracked = 3: the fourth nonce evicts the oldest, which then comes back STALE; memory
 * stays bounded however many nonces are used. */
static void
test_bounded (Fixture *f, gconstpointer data)
{
  char *n[4];
  g_autofree char *pending = NULL;

  for (int i = 0; i < 4; i++)
    n[i] = sig_nonce_keeper_mint (f->keeper, T0 + i);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[i], 1, T0 + 3), ==, SIG_NONCE_VALID);
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 3);

  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[3], 1, T0 + 3), ==, SIG_NONCE_VALID);
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 3);
  /* n[0] was evicted: not a replay the table can prove, but never accepted again either. */
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[0], 1, T0 + 3), ==, SIG_NONCE_STALE);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[0], 2, T0 + 3), ==, SIG_NONCE_STALE);
  /* The others are still tracked. */
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[1], 1, T0 + 3), ==, SIG_NONCE_REPLAY);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[3], 1, T0 + 3), ==, SIG_NONCE_REPLAY);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, n[3], 2, T0 + 3), ==, SIG_NONCE_VALID);

  /* A flood of fresh nonces keeps the table at its bound. */
  pending = sig_nonce_keeper_mint (f->keeper, T0 + 5);
  for (int i = 0; i < 40; i++)
    {
      g_autofree char *x = sig_nonce_keeper_mint (f->keeper, T0 + 10 + i);

      g_assert_cmpint (sig_nonce_keeper_use (f->keeper, x, 1, T0 + 10 + i), ==, SIG_NONCE_VALID);
      g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 3);
    }
  /* The price of a bounded table: an unused nonce minted before an evicted one cannot be told
   * from an evicted one, so it is STALE too (the client simply asks again), although it has not
   * expired by age. */
  g_assert_cmpint (sig_nonce_keeper_check (f->keeper, pending, T0 + 49), ==, SIG_NONCE_VALID);
  g_assert_cmpint (sig_nonce_keeper_use (f->keeper, pending, 1, T0 + 49), ==, SIG_NONCE_STALE);
  for (int i = 0; i < 4; i++)
    g_free (n[i]);
}

/* Expired entries leave the table on their own. */
static void
test_expired_pruned (Fixture *f, gconstpointer data)
{
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *x = sig_nonce_keeper_mint (f->keeper, T0);

      g_assert_cmpint (sig_nonce_keeper_use (f->keeper, x, 1, T0), ==, SIG_NONCE_VALID);
    }
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 10);
  {
    g_autofree char *y = sig_nonce_keeper_mint (f->keeper, T0 + LIFETIME);

    g_assert_cmpint (sig_nonce_keeper_use (f->keeper, y, 1, T0 + LIFETIME), ==, SIG_NONCE_VALID);
  }
  g_assert_cmpuint (sig_nonce_keeper_tracked (f->keeper), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, max) \
  g_test_add ("/signal/nonce/" path, Fixture, GUINT_TO_POINTER (max), fixture_setup, fn, \
              fixture_teardown)
  ADD ("mint-check", test_mint_check, 0);
  ADD ("expired", test_expired, 0);
  ADD ("tampered", test_tampered, 0);
  ADD ("bad-encoding", test_bad_encoding, 0);
  ADD ("other-key", test_other_key, 0);
  ADD ("future", test_future, 0);
  ADD ("replay", test_replay, 0);
  ADD ("bounded", test_bounded, 3);
  ADD ("expired-pruned", test_expired_pruned, 0);
#undef ADD

  return g_test_run ();
}

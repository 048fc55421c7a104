/* Tests for the client agent's ZRTP (RFC 6189, over bzrtp): endpoints back to back on one
 * GMainContext, their packets carried by idle sources. Same SAS on both sides; aux secrets
 * matched, mismatched (a DTLS man in the middle) or one-sided; a ZRTP man in the middle gets a
 * different SAS on each side; a Hello that does not match its a=zrtp-hash; the verified flag
 * across calls, a peer with a new cache, a peer whose retained secrets changed; hostile
 * packets. Every wait has a deadline. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "client-agent/ca-zrtp.h"
#include "tests/sotto-test.h"

#define DEADLINE_MS 5000
#define AUX_LEN     32

typedef struct
{
  GMainContext *context;
  char *dir;
} Fixture;

typedef struct _Peer Peer;
struct _Peer
{
  Fixture *f;
  const char *uri;
  char *cache;
  CaZrtp *zrtp;
  Peer *other;
  gboolean blackhole;  /* drop what it sends */
  GBytes *first_sent;  /* a real packet (its first Hello), to mangle */
  guint sent;
  guint n_changes;
  CaZrtpState states[8];
};

typedef struct
{
  CaZrtp *to;
  GBytes *packet;
} Delivery;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->dir = g_dir_make_tmp ("sotto-zrtp-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  /* Let queued deliveries drop their references. */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  sotto_test_remove_tree (f->dir);
  g_free (f->dir);
}

static void
peer_init (Fixture *f, Peer *p, const char *uri, const char *cache_name)
{
  memset (p, 0, sizeof *p);
  p->f = f;
  p->uri = uri;
  p->cache = g_build_filename (f->dir, cache_name, NULL);
}

static void
peer_end_call (Peer *p)
{
  if (p->zrtp != NULL)
    ca_zrtp_close (p->zrtp);
  g_clear_pointer (&p->zrtp, ca_zrtp_unref);
  g_clear_pointer (&p->first_sent, g_bytes_unref);
  p->n_changes = 0;
  p->sent = 0;
  p->blackhole = FALSE;
}

static void
peer_clear (Peer *p)
{
  peer_end_call (p);
  g_free (p->cache);
}

/* Alice and Bob, each with a cache of their own. */
static void
pair_init (Fixture *f, Peer *a, Peer *b)
{
  peer_init (f, a, "sip:alice@sotto.test", "alice.db");
  peer_init (f, b, "sip:bob@sotto.test", "bob.db");
}

static void
pair_clear (Peer *a, Peer *b)
{
  peer_clear (a);
  peer_clear (b);
}

/* ---- the link ---- */

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  ca_zrtp_unref (d->to);
  g_bytes_unref (d->packet);
  g_free (d);
}

static gboolean
deliver (gpointer data)
{
  Delivery *d = data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (d->packet, &len);

  ca_zrtp_feed (d->to, bytes, len);
  return G_SOURCE_REMOVE;
}

static void
on_send (CaZrtp *zrtp, const guint8 *data, gsize len, gpointer user_data)
{
  Peer *p = user_data;
  Delivery *d;
  GSource *idle;

  g_assert_true (zrtp == p->zrtp);
  g_assert_cmpuint (len, >=, 28);
  g_assert_cmpuint (data[0], ==, 0x10);
  g_assert_cmpmem (data + 4, 4, "ZRTP", 4);
  p->sent++;
  if (p->first_sent == NULL)
    p->first_sent = g_bytes_new (data, len);
  if (p->blackhole || p->other == NULL || p->other->zrtp == NULL)
    return;
  d = g_new0 (Delivery, 1);
  d->to = ca_zrtp_ref (p->other->zrtp);
  d->packet = g_bytes_new (data, len);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, deliver, d, delivery_free);
  g_source_attach (idle, p->f->context);
  g_source_unref (idle);
}

static void
on_state (CaZrtp *zrtp, CaZrtpState state, gpointer user_data)
{
  Peer *p = user_data;

  g_assert_true (zrtp == p->zrtp);
  g_assert_cmpint (state, ==, ca_zrtp_get_state (zrtp));
  g_assert_cmpuint (p->n_changes, <, G_N_ELEMENTS (p->states));
  p->states[p->n_changes++] = state;
}

/* ---- waiting ---- */

static gboolean
on_wait_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (Peer *a, Peer *b);

/* Runs the loop until @done or @ms pass; returns @done's verdict. */
static gboolean
run_until (Fixture *f, Predicate done, Peer *a, Peer *b, guint ms)
{
  gboolean expired = FALSE;
  GSource *timer = g_timeout_source_new (ms);

  g_source_set_callback (timer, on_wait_deadline, &expired, NULL);
  g_source_attach (timer, f->context);
  while (!done (a, b) && !expired)
    g_main_context_iteration (f->context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return done (a, b);
}

static gboolean
settled (CaZrtpState s)
{
  return s != CA_ZRTP_STATE_NEW && s != CA_ZRTP_STATE_RUNNING;
}

static gboolean
both_settled (Peer *a, Peer *b)
{
  return settled (ca_zrtp_get_state (a->zrtp)) && settled (ca_zrtp_get_state (b->zrtp));
}

static gboolean
both_terminal (Peer *a, Peer *b)
{
  return both_settled (a, b) && ca_zrtp_get_state (a->zrtp) != CA_ZRTP_STATE_SECURE
         && ca_zrtp_get_state (b->zrtp) != CA_ZRTP_STATE_SECURE;
}

static gboolean
has_sent (Peer *a, Peer *b)
{
  return a->first_sent != NULL;
}

static gboolean
never (Peer *a, Peer *b)
{
  return FALSE;
}

/* Runs the loop for @ms. */
static void
spin (Fixture *f, guint ms)
{
  run_until (f, never, NULL, NULL, ms);
}

/* ---- calls ---- */

static CaZrtp *
peer_endpoint (Peer *p, guint timeout_ms)
{
  g_autoptr (GError) error = NULL;
  CaZrtpConfig config = {
    .context = p->f->context,
    .cache_path = p->cache,
    .self_uri = p->uri,
    .peer_uri = p->other->uri,
    .timeout_ms = timeout_ms,
    .send = on_send,
    .state_changed = on_state,
    .user_data = p,
  };

  p->zrtp = ca_zrtp_new (&config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (p->zrtp);
  g_assert_cmpint (ca_zrtp_get_state (p->zrtp), ==, CA_ZRTP_STATE_NEW);
  return p->zrtp;
}

static void
set_aux (Peer *p, const guint8 *aux)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_zrtp_set_aux_secret (p->zrtp, aux, AUX_LEN, &error));
  g_assert_no_error (error);
}

static void
set_peer_hash (Peer *p, const char *hash)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (ca_zrtp_set_peer_hello_hash (p->zrtp, hash, &error));
  g_assert_no_error (error);
}

/* Sets up one call between @a and @b, as the agent would once DTLS is up: each side's
 * a=zrtp-hash given to the other, each side's aux secret (NULL: none), both started. */
static void
call_begin (Peer *a, Peer *b, const guint8 *aux_a, const guint8 *aux_b)
{
  a->other = b;
  b->other = a;
  peer_endpoint (a, 0);
  peer_endpoint (b, 0);
  set_peer_hash (a, ca_zrtp_get_hello_hash (b->zrtp));
  set_peer_hash (b, ca_zrtp_get_hello_hash (a->zrtp));
  if (aux_a != NULL)
    set_aux (a, aux_a);
  if (aux_b != NULL)
    set_aux (b, aux_b);
  ca_zrtp_start (a->zrtp);
  ca_zrtp_start (b->zrtp);
}

/* Runs a call to SECURE on both sides and checks what must hold in any secure call. */
static void
call_secure (Peer *a, Peer *b, const guint8 *aux_a, const guint8 *aux_b)
{
  const char *sas_a, *sas_b;

  call_begin (a, b, aux_a, aux_b);
  g_assert_true (run_until (a->f, both_settled, a, b, DEADLINE_MS));
  g_assert_cmpint (ca_zrtp_get_state (a->zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpint (ca_zrtp_get_state (b->zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_null (ca_zrtp_get_error (a->zrtp));
  g_assert_cmpuint (a->n_changes, ==, 2);
  g_assert_cmpint (a->states[0], ==, CA_ZRTP_STATE_RUNNING);
  g_assert_cmpint (a->states[1], ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpuint (b->n_changes, ==, 2);
  sas_a = ca_zrtp_get_sas (a->zrtp);
  sas_b = ca_zrtp_get_sas (b->zrtp);
  g_assert_nonnull (sas_a);
  g_assert_cmpuint (strlen (sas_a), ==, 4); /* base32: 20 bits */
  g_assert_cmpstr (sas_a, ==, sas_b);
}

static void
random_aux (guint8 aux[AUX_LEN])
{
  for (guint i = 0; i < AUX_LEN; i++)
    aux[i] = (guint8) g_random_int_range (0, 256);
}

/* ---- (1) the same SAS, aux secrets matched ---- */

static void
test_secure_aux_match (Fixture *f, gconstpointer data)
{
  Peer a, b;
  guint8 aux[AUX_LEN];
  GStatBuf st;

  pair_init (f, &a, &b);
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MATCH);
  g_assert_cmpint (ca_zrtp_get_aux_match (b.zrtp), ==, CA_ZRTP_AUX_MATCH);
  /* A first call: nobody has compared the SAS yet. */
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_get_cache_mismatch (a.zrtp));
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  g_assert_cmpstr (ca_zrtp_get_hello_hash (a.zrtp), !=, ca_zrtp_get_hello_hash (b.zrtp));
  g_assert_true (g_str_has_prefix (ca_zrtp_get_hello_hash (a.zrtp), "1.10 "));
  g_assert_cmpuint (strlen (ca_zrtp_get_hello_hash (a.zrtp)), ==, 5 + 64);

  g_assert_cmpint (g_stat (a.cache, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

  /* SECURE is final until close; the tick has stopped. */
  spin (f, 100);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_SECURE);
  ca_zrtp_close (a.zrtp);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_CLOSED);
  g_assert_cmpuint (a.n_changes, ==, 2); /* detached: no callback for CLOSED */
  pair_clear (&a, &b);
}

/* ---- (2) different aux secrets: what a DTLS man in the middle produces ---- */

static void
test_aux_mismatch (Fixture *f, gconstpointer data)
{
  Peer a, b;
  guint8 aux_a[AUX_LEN], aux_b[AUX_LEN];

  pair_init (f, &a, &b);
  random_aux (aux_a);
  memcpy (aux_b, aux_a, AUX_LEN);
  aux_b[AUX_LEN - 1] ^= 1;
  call_secure (&a, &b, aux_a, aux_b);
  /* bzrtp drops a mismatched aux secret from s0 on both sides, so the SAS still agrees. */
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MISMATCH);
  g_assert_cmpint (ca_zrtp_get_aux_match (b.zrtp), ==, CA_ZRTP_AUX_MISMATCH);
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  /* Even once the users confirm the SAS, this call is not authenticated. */
  ca_zrtp_set_sas_verified (a.zrtp, TRUE);
  g_assert_true (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  pair_clear (&a, &b);
}

static void
test_aux_one_sided (Fixture *f, gconstpointer data)
{
  Peer a, b;
  guint8 aux[AUX_LEN];
  g_autoptr (GError) error = NULL;

  pair_init (f, &a, &b);
  random_aux (aux);
  call_secure (&a, &b, aux, NULL);
  /* Who set one sees the peer cannot prove it; who set none cannot tell. */
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MISMATCH);
  g_assert_cmpint (ca_zrtp_get_aux_match (b.zrtp), ==, CA_ZRTP_AUX_UNKNOWN);
  g_assert_false (ca_zrtp_is_authenticated (b.zrtp));

  /* Too late now. */
  g_assert_false (ca_zrtp_set_aux_secret (b.zrtp, aux, AUX_LEN, &error));
  g_assert_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID);
  pair_clear (&a, &b);
}

/* ---- (3) a man in the middle of ZRTP too ---- */

/* A <-> M1 and M2 <-> B, each a full exchange; M has its own ZIDs (its own caches) and, being
 * the DTLS end on both legs, can even give each leg the right aux secret. */
static gboolean
mitm_once (Fixture *f, guint attempt)
{
  Peer a, m1, m2, b;
  guint8 aux_am[AUX_LEN], aux_mb[AUX_LEN];
  g_autofree char *sas_a = NULL;
  g_autofree char *sas_b = NULL;
  g_autofree char *ca = g_strdup_printf ("alice-%u.db", attempt);
  g_autofree char *cm1 = g_strdup_printf ("m1-%u.db", attempt);
  g_autofree char *cm2 = g_strdup_printf ("m2-%u.db", attempt);
  g_autofree char *cb = g_strdup_printf ("bob-%u.db", attempt);
  gboolean differ;

  peer_init (f, &a, "sip:alice@sotto.test", ca);
  peer_init (f, &m1, "sip:bob@sotto.test", cm1);   /* poses as Bob to Alice */
  peer_init (f, &m2, "sip:alice@sotto.test", cm2); /* poses as Alice to Bob */
  peer_init (f, &b, "sip:bob@sotto.test", cb);
  random_aux (aux_am);
  random_aux (aux_mb);

  call_secure (&a, &m1, aux_am, aux_am);
  call_secure (&m2, &b, aux_mb, aux_mb);
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MATCH);
  g_assert_cmpint (ca_zrtp_get_aux_match (b.zrtp), ==, CA_ZRTP_AUX_MATCH);
  sas_a = g_strdup (ca_zrtp_get_sas (a.zrtp));
  sas_b = g_strdup (ca_zrtp_get_sas (b.zrtp));
  differ = g_strcmp0 (sas_a, sas_b) != 0;
  if (!differ)
    g_test_message ("attempt %u: both SASes are %s (chance 2^-20)", attempt, sas_a);

  peer_clear (&a);
  peer_clear (&m1);
  peer_clear (&m2);
  peer_clear (&b);
  return differ;
}

static void
test_zrtp_mitm (Fixture *f, gconstpointer data)
{
  /* Two independent 20-bit SASes agree with probability 2^-20. So that this test does not
   * fail once in a million runs, an equal pair gets one more independent try; two equal pairs
   * (2^-40) fail. */
  if (mitm_once (f, 0))
    return;
  g_assert_true (mitm_once (f, 1));
}

/* ---- (4) a Hello that does not match its a=zrtp-hash ---- */

static void
test_hello_hash_mismatch (Fixture *f, gconstpointer data)
{
  Peer a, b;
  g_autofree char *wrong = NULL;
  const GError *error;
  gint64 start;

  pair_init (f, &a, &b);
  a.other = &b;
  b.other = &a;
  peer_endpoint (&a, 0);    /* 10 s: the mismatch must end it sooner */
  peer_endpoint (&b, 1500); /* Alice never answers Bob */
  wrong = g_strdup (ca_zrtp_get_hello_hash (b.zrtp));
  wrong[strlen (wrong) - 1] = wrong[strlen (wrong) - 1] == '0' ? '1' : '0';
  set_peer_hash (&a, wrong);
  set_peer_hash (&b, ca_zrtp_get_hello_hash (a.zrtp));
  start = g_get_monotonic_time ();
  ca_zrtp_start (a.zrtp);
  ca_zrtp_start (b.zrtp);

  /* A mismatching Hello may be forged, so Alice waits for the right one for as long as the
   * peer resends Hellos (4 s), then fails, well before her 10 s deadline. */
  g_assert_true (run_until (f, both_terminal, &a, &b, 8000));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 4000 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 8000 * 1000);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_FAILED);
  error = ca_zrtp_get_error (a.zrtp);
  g_assert_error ((GError *) error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_HELLO_HASH);
  g_assert_nonnull (strstr (error->message, "a=zrtp-hash"));
  g_assert_null (ca_zrtp_get_sas (a.zrtp));
  /* B never gets an answer and gives up at its deadline, not before. */
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_FAILED);
  g_assert_error ((GError *) ca_zrtp_get_error (b.zrtp), CA_ZRTP_ERROR, CA_ZRTP_ERROR_TIMEOUT);
  g_assert_cmpuint (b.n_changes, ==, 2);
  pair_clear (&a, &b);
}

static void
test_hello_hash_late (Fixture *f, gconstpointer data)
{
  Peer a, b;
  g_autofree char *hash_b = NULL;
  g_autofree char *wrong = NULL;

  pair_init (f, &a, &b);
  a.other = &b;
  b.other = &a;
  /* No a=zrtp-hash at first: the Hello is not checked, the SAS alone protects the call. */
  peer_endpoint (&a, 0);
  peer_endpoint (&b, 0);
  ca_zrtp_start (a.zrtp);
  ca_zrtp_start (b.zrtp);
  g_assert_true (run_until (f, both_settled, &a, &b, DEADLINE_MS));
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);

  /* The right hash, late: nothing changes. A wrong one, late: that Hello was not the one the
   * signalling announced. */
  hash_b = g_strdup (ca_zrtp_get_hello_hash (b.zrtp));
  set_peer_hash (&b, ca_zrtp_get_hello_hash (a.zrtp));
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);
  wrong = g_strdup (hash_b);
  wrong[6] = wrong[6] == 'a' ? 'b' : 'a';
  set_peer_hash (&a, wrong);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_FAILED);
  g_assert_error ((GError *) ca_zrtp_get_error (a.zrtp), CA_ZRTP_ERROR, CA_ZRTP_ERROR_HELLO_HASH);
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  g_assert_null (ca_zrtp_get_sas (a.zrtp));
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_UNKNOWN);
  g_assert_nonnull (ca_zrtp_get_sas (b.zrtp));
  spin (f, 50);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);
  pair_clear (&a, &b);
}

static void
test_hello_hash_malformed (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "",
    "1.10",
    "1.10 ",
    "1.10 0123",
    "zz",
    "1.10  0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "x.10 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    " 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "1.10 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
    "1.10 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00",
  };
  Peer a, b;

  pair_init (f, &a, &b);
  a.other = &b;
  b.other = &a;
  peer_endpoint (&a, 0);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (ca_zrtp_set_peer_hello_hash (a.zrtp, bad[i], &error));
      g_assert_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_INVALID);
    }
  /* Bare, and in upper case, are fine. */
  set_peer_hash (&a, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_NEW);
  g_assert_cmpuint (a.n_changes, ==, 0);
  pair_clear (&a, &b);
}

/* ---- (5) the verified flag across calls ---- */

static void
wipe_retained_secrets (const char *cache)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open_v2 (cache, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE zrtp SET rs1 = NULL, rs2 = NULL;", NULL, NULL, &msg),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_changes (db), >, 0);
  sqlite3_close (db);
}

static void
test_verified_across_calls (Fixture *f, gconstpointer data)
{
  Peer a, b, b_new;
  guint8 aux[AUX_LEN];
  g_autofree char *sas1 = NULL;

  pair_init (f, &a, &b);
  peer_init (f, &b_new, "sip:bob@sotto.test", "bob-new.db");

  /* Call 1: the users compare the SAS out loud and confirm it. */
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b.zrtp));
  ca_zrtp_set_sas_verified (a.zrtp, TRUE);
  ca_zrtp_set_sas_verified (b.zrtp, TRUE);
  g_assert_true (ca_zrtp_is_authenticated (a.zrtp));
  g_assert_true (ca_zrtp_is_authenticated (b.zrtp));
  sas1 = g_strdup (ca_zrtp_get_sas (a.zrtp));
  peer_end_call (&a);
  peer_end_call (&b);

  /* Call 2, same caches: verified without asking; the new DTLS session gives a new aux. */
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_true (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_true (ca_zrtp_is_sas_verified (b.zrtp));
  g_assert_false (ca_zrtp_get_cache_mismatch (a.zrtp));
  g_assert_false (ca_zrtp_get_cache_mismatch (b.zrtp));
  g_assert_true (ca_zrtp_is_authenticated (a.zrtp));
  g_assert_true (ca_zrtp_is_authenticated (b.zrtp));
  peer_end_call (&a);
  peer_end_call (&b);

  /* Call 3: Bob comes back with a new cache (new ZID, no secrets). To Alice that is a new
   * device, like a man in the middle with its own ZID: not verified. bzrtp reports no cache
   * mismatch for an unknown ZID (RFC 6189 §4.3.2 covers known ones only). */
  random_aux (aux);
  call_secure (&a, &b_new, aux, aux);
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b_new.zrtp));
  g_assert_false (ca_zrtp_get_cache_mismatch (a.zrtp));
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  peer_end_call (&a);
  peer_end_call (&b_new);

  /* Call 4: Bob's old ZID, but its retained secrets lost: Alice knows that ZID and its
   * secret no longer matches. A cache mismatch, and the verified flag is cleared. */
  wipe_retained_secrets (b.cache);
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_true (ca_zrtp_get_cache_mismatch (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b.zrtp));
  g_assert_false (ca_zrtp_is_authenticated (a.zrtp));
  peer_end_call (&a);
  peer_end_call (&b);

  /* Call 5: nobody confirmed in call 4, so still not verified; and Alice kept her old secret
   * (bzrtp delays the update after a mismatch until the SAS is confirmed, §4.6.1), so the
   * mismatch shows again. This time the users compare and confirm. */
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b.zrtp));
  g_assert_true (ca_zrtp_get_cache_mismatch (a.zrtp));
  ca_zrtp_set_sas_verified (a.zrtp, TRUE);
  ca_zrtp_set_sas_verified (b.zrtp, TRUE);
  g_assert_false (ca_zrtp_get_cache_mismatch (a.zrtp));
  peer_end_call (&a);
  peer_end_call (&b);

  /* Call 6: secrets agree again, verified without asking. */
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  g_assert_false (ca_zrtp_get_cache_mismatch (a.zrtp));
  g_assert_false (ca_zrtp_get_cache_mismatch (b.zrtp));
  g_assert_true (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_true (ca_zrtp_is_sas_verified (b.zrtp));
  g_assert_true (ca_zrtp_is_authenticated (a.zrtp));

  pair_clear (&a, &b);
  peer_clear (&b_new);
}

/* One side alone confirming is not enough (the V flag of the peer's Confirm, §7.1). */
static void
test_verified_one_side (Fixture *f, gconstpointer data)
{
  Peer a, b;
  guint8 aux[AUX_LEN];

  pair_init (f, &a, &b);
  random_aux (aux);
  call_secure (&a, &b, aux, aux);
  ca_zrtp_set_sas_verified (a.zrtp, TRUE);
  peer_end_call (&a);
  peer_end_call (&b);

  call_secure (&a, &b, aux, aux);
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b.zrtp));
  /* Now Bob confirms too, then Alice withdraws hers: the next call is not verified. */
  ca_zrtp_set_sas_verified (b.zrtp, TRUE);
  ca_zrtp_set_sas_verified (a.zrtp, FALSE);
  peer_end_call (&a);
  peer_end_call (&b);
  call_secure (&a, &b, aux, aux);
  g_assert_false (ca_zrtp_is_sas_verified (a.zrtp));
  g_assert_false (ca_zrtp_is_sas_verified (b.zrtp));
  pair_clear (&a, &b);
}

/* ---- (6) hostile packets ---- */

/* CRC-32c (RFC 6189 §5.3, the SCTP polynomial), stored least significant byte first. */
static void
put_crc (guint8 *packet, gsize len)
{
  guint32 crc = 0xffffffff;

  for (gsize i = 0; i + 4 < len; i++)
    {
      crc ^= packet[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
    }
  crc = ~crc;
  for (int k = 0; k < 4; k++)
    packet[len - 4 + k] = (guint8) (crc >> (8 * k));
}

static GPtrArray *
hostile_packets (GBytes *real)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize real_len;
  const guint8 *real_data = g_bytes_get_data (real, &real_len);
  static const guint8 header[12] = { 0x10, 0, 0, 1, 'Z', 'R', 'T', 'P', 1, 2, 3, 4 };
  guint8 *p;

  g_ptr_array_add (all, g_bytes_new ("", 0));
  g_ptr_array_add (all, g_bytes_new ("\x10", 1));
  g_ptr_array_add (all, g_bytes_new (header, 11));
  g_ptr_array_add (all, g_bytes_new (header, 12));
  /* Every truncation of a real packet, and the real one with each byte flipped in turn. */
  for (gsize n = 1; n < real_len; n++)
    g_ptr_array_add (all, g_bytes_new (real_data, n));
  for (gsize i = 0; i < real_len; i++)
    {
      p = g_memdup2 (real_data, real_len);
      p[i] ^= 0x41;
      g_ptr_array_add (all, g_bytes_new_take (p, real_len));
    }
  /* Garbage behind a valid header, with and without a valid CRC; short and huge. */
  for (gsize len = 16; len <= 70000; len = len * 3 + 1)
    for (int crc = 0; crc < 2; crc++)
      {
        p = g_malloc (len);
        for (gsize i = 0; i < len; i++)
          p[i] = (guint8) g_random_int_range (0, 256);
        memcpy (p, header, sizeof header);
        if (len >= 28)
          {
            p[12] = 0x50; /* message preamble, so the parser goes further */
            p[13] = 0x5a;
          }
        if (crc)
          put_crc (p, len);
        g_ptr_array_add (all, g_bytes_new_take (p, len));
      }
  /* A valid CRC over a real packet with its length field a lie. */
  p = g_memdup2 (real_data, real_len);
  p[14] = 0xff;
  p[15] = 0xff;
  put_crc (p, real_len);
  g_ptr_array_add (all, g_bytes_new_take (p, real_len));
  /* Random bytes, including DTLS- and RTP-looking ones. */
  for (int k = 0; k < 64; k++)
    {
      gsize len = (gsize) g_random_int_range (1, 1500);
      p = g_malloc (len);
      for (gsize i = 0; i < len; i++)
        p[i] = (guint8) g_random_int_range (0, 256);
      g_ptr_array_add (all, g_bytes_new_take (p, len));
    }
  return all;
}

static void
feed_all (CaZrtp *zrtp, GPtrArray *packets)
{
  for (guint i = 0; i < packets->len; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (packets->pdata[i], &len);

      ca_zrtp_feed (zrtp, data, len);
    }
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  Peer a, b, c;
  guint8 aux[AUX_LEN];
  g_autoptr (GPtrArray) hostile = NULL;
  g_autofree char *sas = NULL;

  pair_init (f, &a, &b);
  peer_init (f, &c, "sip:carol@sotto.test", "carol.db");
  random_aux (aux);

  /* Both RUNNING, Alice's first Hello in hand (bzrtp sends it at the first tick); what they
   * send until then is lost, and resent. */
  a.blackhole = b.blackhole = TRUE;
  call_begin (&a, &b, aux, aux);
  g_assert_true (run_until (f, has_sent, &a, &b, DEADLINE_MS));
  a.blackhole = b.blackhole = FALSE;
  hostile = hostile_packets (a.first_sent);
  g_test_message ("%u hostile packets", hostile->len);
  feed_all (a.zrtp, hostile);
  feed_all (b.zrtp, hostile);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_RUNNING);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_RUNNING);
  g_assert_cmpuint (a.n_changes, ==, 1);
  g_assert_cmpuint (b.n_changes, ==, 1);

  /* The exchange still completes. */
  g_assert_true (run_until (f, both_settled, &a, &b, DEADLINE_MS));
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpstr (ca_zrtp_get_sas (a.zrtp), ==, ca_zrtp_get_sas (b.zrtp));
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MATCH);
  sas = g_strdup (ca_zrtp_get_sas (a.zrtp));

  /* SECURE: hostile packets and a replayed Hello change nothing. */
  feed_all (a.zrtp, hostile);
  feed_all (b.zrtp, hostile);
  ca_zrtp_feed (b.zrtp, g_bytes_get_data (a.first_sent, NULL), g_bytes_get_size (a.first_sent));
  spin (f, 50);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpstr (ca_zrtp_get_sas (a.zrtp), ==, sas);
  g_assert_cmpuint (a.n_changes, ==, 2);
  g_assert_cmpuint (b.n_changes, ==, 2);

  /* NEW: kept (a few), no state change; then closed unstarted. */
  c.other = &a;
  peer_endpoint (&c, 0);
  feed_all (c.zrtp, hostile);
  g_assert_cmpint (ca_zrtp_get_state (c.zrtp), ==, CA_ZRTP_STATE_NEW);
  g_assert_cmpuint (c.n_changes, ==, 0);
  g_assert_cmpuint (c.sent, ==, 0);

  /* Terminal: ignored. */
  ca_zrtp_close (a.zrtp);
  feed_all (a.zrtp, hostile);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_CLOSED);

  pair_clear (&a, &b);
  peer_clear (&c);
}

/* Bob's DTLS finishes first: his Hello reaches Alice before she has her aux secret. Kept while
 * NEW (a few, after hostile ones here), processed at start, with the aux secret mixed in. */
static void
test_peer_starts_first (Fixture *f, gconstpointer data)
{
  Peer a, b;
  guint8 aux[AUX_LEN];
  g_autoptr (GPtrArray) hostile = NULL;
  g_autoptr (GBytes) fake = NULL;
  guint8 hello[64] = { 0x10, 0, 0, 1, 'Z', 'R', 'T', 'P', 1, 2, 3, 4, 0x50, 0x5a };

  pair_init (f, &a, &b);
  a.other = &b;
  b.other = &a;
  peer_endpoint (&a, 0);
  peer_endpoint (&b, 0);
  set_peer_hash (&a, ca_zrtp_get_hello_hash (b.zrtp));
  set_peer_hash (&b, ca_zrtp_get_hello_hash (a.zrtp));
  random_aux (aux);
  set_aux (&b, aux);
  put_crc (hello, sizeof hello);
  fake = g_bytes_new (hello, sizeof hello);
  hostile = hostile_packets (fake);
  feed_all (a.zrtp, hostile);
  ca_zrtp_start (b.zrtp);
  spin (f, 300);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_NEW);
  g_assert_cmpuint (a.sent, ==, 0);
  set_aux (&a, aux);
  ca_zrtp_start (a.zrtp);
  g_assert_true (run_until (f, both_settled, &a, &b, DEADLINE_MS));
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpint (ca_zrtp_get_state (b.zrtp), ==, CA_ZRTP_STATE_SECURE);
  g_assert_cmpstr (ca_zrtp_get_sas (a.zrtp), ==, ca_zrtp_get_sas (b.zrtp));
  g_assert_cmpint (ca_zrtp_get_aux_match (a.zrtp), ==, CA_ZRTP_AUX_MATCH);
  g_assert_cmpint (ca_zrtp_get_aux_match (b.zrtp), ==, CA_ZRTP_AUX_MATCH);
  pair_clear (&a, &b);
}

/* A silent peer: FAILED with a timeout at the deadline, the tick stopped. */
static void
test_timeout (Fixture *f, gconstpointer data)
{
  Peer a, b;
  gint64 start;

  pair_init (f, &a, &b);
  a.other = &b;
  b.other = &a;
  peer_endpoint (&a, 800);
  a.blackhole = TRUE;
  start = g_get_monotonic_time ();
  ca_zrtp_start (a.zrtp);
  g_assert_true (run_until (f, both_settled, &a, &a, DEADLINE_MS));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 800 * 1000);
  g_assert_cmpint (ca_zrtp_get_state (a.zrtp), ==, CA_ZRTP_STATE_FAILED);
  g_assert_error ((GError *) ca_zrtp_get_error (a.zrtp), CA_ZRTP_ERROR, CA_ZRTP_ERROR_TIMEOUT);
  g_assert_cmpuint (a.sent, >, 1); /* Hello was resent */
  pair_clear (&a, &b);
}

/* An unusable cache path is a clear error, not a crash. */
static void
test_cache_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *loose = g_build_filename (f->dir, "loose.db", NULL);
  CaZrtpConfig config = {
    .context = f->context,
    .self_uri = "sip:alice@sotto.test",
    .peer_uri = "sip:bob@sotto.test",
    .send = on_send,
  };
  CaZrtp *zrtp;
  GStatBuf st;

  config.cache_path = f->dir; /* a directory */
  g_assert_null (ca_zrtp_new (&config, &error));
  g_assert_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (loose, "not a database, just text", -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (loose, 0644), ==, 0);
  config.cache_path = loose;
  zrtp = ca_zrtp_new (&config, &error);
  g_assert_null (zrtp);
  g_assert_error (error, CA_ZRTP_ERROR, CA_ZRTP_ERROR_CACHE);
  /* Even so, it is no longer readable by others. */
  g_assert_cmpint (g_stat (loose, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/agent/zrtp/secure/aux-match", test_secure_aux_match);
  ADD ("/agent/zrtp/secure/aux-mismatch", test_aux_mismatch);
  ADD ("/agent/zrtp/secure/aux-one-sided", test_aux_one_sided);
  ADD ("/agent/zrtp/secure/peer-starts-first", test_peer_starts_first);
  ADD ("/agent/zrtp/mitm/different-sas", test_zrtp_mitm);
  ADD ("/agent/zrtp/hello-hash/mismatch", test_hello_hash_mismatch);
  ADD ("/agent/zrtp/hello-hash/late", test_hello_hash_late);
  ADD ("/agent/zrtp/hello-hash/malformed", test_hello_hash_malformed);
  ADD ("/agent/zrtp/verified/across-calls", test_verified_across_calls);
  ADD ("/agent/zrtp/verified/one-side", test_verified_one_side);
  ADD ("/agent/zrtp/hostile/during", test_hostile);
  ADD ("/agent/zrtp/timeout", test_timeout);
  ADD ("/agent/zrtp/cache/errors", test_cache_errors);
#undef ADD

  return g_test_run ();
}

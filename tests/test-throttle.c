/* Unit tests for sig-throttle. Clocks are explicit milliseconds: nothing sleeps. */
#include "config.h"

#include "signal/sig-throttle.h"

#define T0 G_GINT64_CONSTANT (1700000000000)

/* 3 free failures, 100 ms base, 2 s cap, 4 entries. */
static SigThrottle *
make (void)
{
  return sig_throttle_new (3, 100, 2, 4);
}

static void
test_free_failures (void)
{
  g_autoptr (SigThrottle) t = make ();

  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0), ==, 0);
  sig_throttle_failure (t, "1.2.3.4", T0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0), ==, 0);
  sig_throttle_failure (t, "1.2.3.4", T0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0), ==, 0);
  /* The third failure uses up the free ones: the next attempt waits the base delay. */
  sig_throttle_failure (t, "1.2.3.4", T0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0), ==, 100);
  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0 + 40), ==, 60);
  g_assert_cmpint (sig_throttle_wait_ms (t, "1.2.3.4", T0 + 100), ==, 0);
  /* Other keys are not affected. */
  g_assert_cmpint (sig_throttle_wait_ms (t, "5.6.7.8", T0), ==, 0);
  g_assert_cmpuint (sig_throttle_size (t), ==, 1);
}

static void
test_growth_and_cap (void)
{
  g_autoptr (SigThrottle) t = make ();
  gint64 now = T0;
  const gint64 expected[] = { 100, 200, 400, 800, 1600, 2000, 2000, 2000 };

  for (int i = 0; i < 3; i++)
    sig_throttle_failure (t, "bob", now);
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gint64 wait = sig_throttle_wait_ms (t, "bob", now);

      g_assert_cmpint (wait, ==, expected[i]);
      /* The client waits exactly as told, then fails again. */
      now += wait;
      g_assert_cmpint (sig_throttle_wait_ms (t, "bob", now), ==, 0);
      sig_throttle_failure (t, "bob", now);
    }
  /* Very many failures neither overflow nor exceed the cap. */
  for (int i = 0; i < 10000; i++)
    sig_throttle_failure (t, "bob", now);
  g_assert_cmpint (sig_throttle_wait_ms (t, "bob", now), ==, 2000);
}

static void
test_success_clears (void)
{
  g_autoptr (SigThrottle) t = make ();

  for (int i = 0; i < 6; i++)
    sig_throttle_failure (t, "alice", T0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "alice", T0), ==, 800);
  sig_throttle_success (t, "alice");
  g_assert_cmpuint (sig_throttle_size (t), ==, 0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "alice", T0), ==, 0);
  /* Free failures again after a success. */
  sig_throttle_failure (t, "alice", T0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "alice", T0), ==, 0);
  /* Success on an unknown key is harmless. */
  sig_throttle_success (t, "nobody");
  g_assert_cmpuint (sig_throttle_size (t), ==, 1);
}

static void
test_idle_forgotten (void)
{
  g_autoptr (SigThrottle) t = make ();

  for (int i = 0; i < 8; i++)
    sig_throttle_failure (t, "carol", T0);
  sig_throttle_failure (t, "dave", T0 + 1500);
  g_assert_cmpint (sig_throttle_wait_ms (t, "carol", T0 + 1000), ==, 1000);
  /* Exactly max_delay later, carol is still remembered (though free to try)... */
  g_assert_cmpint (sig_throttle_wait_ms (t, "carol", T0 + 2000), ==, 0);
  g_assert_cmpuint (sig_throttle_size (t), ==, 2);
  /* ...and a failure then continues her count. */
  sig_throttle_failure (t, "carol", T0 + 2000);
  g_assert_cmpint (sig_throttle_wait_ms (t, "carol", T0 + 2000), ==, 2000);
  /* Idle for longer than max_delay: forgotten, counting starts over. */
  g_assert_cmpint (sig_throttle_wait_ms (t, "carol", T0 + 4001), ==, 0);
  g_assert_cmpuint (sig_throttle_size (t), ==, 1);
  /* Any failure sweeps other idle entries too (dave failed at T0 + 1500). */
  sig_throttle_failure (t, "erin", T0 + 3501);
  g_assert_cmpuint (sig_throttle_size (t), ==, 1);
  for (int i = 0; i < 2; i++)
    sig_throttle_failure (t, "carol", T0 + 5000);
  g_assert_cmpint (sig_throttle_wait_ms (t, "carol", T0 + 5000), ==, 0);
}

static void
test_bounded (void)
{
  g_autoptr (SigThrottle) t = make ();

  /* k0 is the oldest by last failure, although it failed most. */
  for (int i = 0; i < 5; i++)
    sig_throttle_failure (t, "k0", T0);
  for (int i = 1; i < 4; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%d", i);

      for (int j = 0; j < 4; j++)
        sig_throttle_failure (t, key, T0 + 10 * i);
    }
  g_assert_cmpuint (sig_throttle_size (t), ==, 4);

  /* A fifth key evicts the oldest. */
  sig_throttle_failure (t, "k4", T0 + 50);
  g_assert_cmpuint (sig_throttle_size (t), ==, 4);
  g_assert_cmpint (sig_throttle_wait_ms (t, "k0", T0 + 50), ==, 0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "k1", T0 + 50), ==, 160);

  /* A new failure makes k1 the most recent; the next eviction takes k2. */
  sig_throttle_failure (t, "k1", T0 + 60);
  sig_throttle_failure (t, "k5", T0 + 70);
  g_assert_cmpuint (sig_throttle_size (t), ==, 4);
  g_assert_cmpint (sig_throttle_wait_ms (t, "k2", T0 + 70), ==, 0);
  g_assert_cmpint (sig_throttle_wait_ms (t, "k1", T0 + 70), ==, 390);
  g_assert_cmpint (sig_throttle_wait_ms (t, "k3", T0 + 70), ==, 160);

  /* A flood of distinct keys never grows the table. */
  for (int i = 0; i < 1000; i++)
    {
      g_autofree char *key = g_strdup_printf ("flood-%d", i);

      sig_throttle_failure (t, key, T0 + 100);
      g_assert_cmpuint (sig_throttle_size (t), <=, 4);
    }
  g_assert_cmpuint (sig_throttle_size (t), ==, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signal/throttle/free-failures", test_free_failures);
  g_test_add_func ("/signal/throttle/growth-and-cap", test_growth_and_cap);
  g_test_add_func ("/signal/throttle/success-clears", test_success_clears);
  g_test_add_func ("/signal/throttle/idle-forgotten", test_idle_forgotten);
  g_test_add_func ("/signal/throttle/bounded", test_bounded);

  return g_test_run ();
}

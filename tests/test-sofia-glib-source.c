/* test-sofia-glib-source: Sofia-SIP's GLib port (su_glib_root_create) serves many descriptors
 * through a constant number of GLib poll records, and keeps su_root_register()'s behaviour.
 *
 * Guards debian/patches/9006-sotto-su-source-epoll.patch (tools/sofia-sip-fix). Debian's
 * su_source.c put every registered descriptor in GLib's poll set, so each main-loop pass polled
 * and walked all of them and removing one re-added every later one: sotto-signald's cost grew
 * with its idle connections. With the patch the port keeps its descriptors in one epoll set and
 * GLib polls that one descriptor. /sofia/glib-source/poll-set fails on a library without the
 * patch (GLib's poll set grows by one record per registration); the other cases pin down the
 * behaviour the patch must keep, and pass on both libraries: which registrations are called,
 * with which events, in which order, after removals, mask changes and reused descriptor
 * numbers.
 *
 * Everything runs on socketpairs in this process, on a private GMainContext; every wait has a
 * deadline. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include <sofia-sip/su_glib.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>

#define WAIT_MS 5000
#define N_MANY 500

typedef struct
{
  GMainContext *ctx;
  su_root_t *root;
} Fixture;

/* One end we register and the peer we write to, and what its callback saw. */
typedef struct
{
  int fd;   /* registered: read end */
  int peer; /* written to */
  int index;
  guint calls;
  int last_revents;
  int order; /* position in this pass's calls, -1 before */
} Pair;

static GPtrArray *pass_calls; /* Pair * in the order their callbacks ran */

static void
pair_open (Pair *p)
{
  int sv[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), ==, 0);
  p->fd = sv[0];
  p->peer = sv[1];
  p->index = 0;
  p->calls = 0;
  p->last_revents = 0;
  p->order = -1;
}

static void
pair_close (Pair *p)
{
  if (p->fd >= 0)
    close (p->fd);
  if (p->peer >= 0)
    close (p->peer);
  p->fd = p->peer = -1;
}

static void
pair_poke (const Pair *p)
{
  g_assert_cmpint (write (p->peer, "x", 1), ==, 1);
}

/* Reads what is there, so a level-triggered registration goes quiet. */
static int
read_cb (su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  Pair *p = (Pair *) arg;
  char buf[64];

  (void) magic;
  p->calls++;
  p->last_revents = su_wait_events (w, p->fd);
  p->order = (int) pass_calls->len;
  g_ptr_array_add (pass_calls, p);
  while (read (p->fd, buf, sizeof buf) > 0)
    ;
  return 0;
}

static int
register_pair (Fixture *f, Pair *p, int events, int priority)
{
  su_wait_t wait[1] = { SU_WAIT_INIT };

  g_assert_cmpint (su_wait_create (wait, p->fd, events), ==, 0);
  p->index = su_root_register (f->root, wait, read_cb, (su_wakeup_arg_t *) p, priority);
  g_assert_cmpint (p->index, >, 0);
  return p->index;
}

/* Number of descriptors GLib would poll for @ctx now. */
static int
poll_set_size (GMainContext *ctx)
{
  GPollFD fds[2 * N_MANY + 64] = { { 0 } };
  gint priority, timeout;
  int n;

  g_assert_true (g_main_context_acquire (ctx));
  g_main_context_prepare (ctx, &priority);
  n = g_main_context_query (ctx, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  /* Finish the iteration without dispatching: nothing is ready, nothing was polled. */
  g_main_context_check (ctx, G_MAXINT, fds, MIN (n, (int) G_N_ELEMENTS (fds)));
  g_main_context_release (ctx);
  return n;
}

static gboolean
deadline_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates @ctx until every pair in @pairs flagged in @want has been called at least once. */
static void
iterate_until_called (Fixture *f, Pair *pairs, const gboolean *want, guint n)
{
  gboolean expired = FALSE;
  GSource *timeout = g_timeout_source_new (WAIT_MS);

  g_source_set_callback (timeout, deadline_cb, &expired, NULL);
  g_source_attach (timeout, f->ctx);
  for (;;)
    {
      guint missing = 0;

      for (guint i = 0; i < n; i++)
        if (want[i] && pairs[i].calls == 0)
          missing++;
      if (missing == 0)
        break;
      if (expired)
        g_error ("%u registrations not called within %d ms", missing, WAIT_MS);
      g_main_context_iteration (f->ctx, TRUE);
    }
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* A few non-blocking passes: whatever is ready gets dispatched. */
static void
drain (Fixture *f)
{
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (f->ctx, FALSE);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  (void) data;
  f->ctx = g_main_context_new ();
  f->root = su_glib_root_create (NULL);
  g_assert_nonnull (f->root);
  g_source_attach (su_glib_root_gsource (f->root), f->ctx);
  pass_calls = g_ptr_array_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  (void) data;
  /* With registrations still in place: su_root_destroy() unregisters them all. */
  su_root_destroy (f->root);
  drain (f);
  g_main_context_unref (f->ctx);
  g_clear_pointer (&pass_calls, g_ptr_array_unref);
}

/* GLib's poll set does not grow with the port's descriptors. Fails on Debian's su_source.c,
 * which adds one GLib poll record per registration. */
static void
test_poll_set (Fixture *f, gconstpointer data)
{
  g_autofree Pair *pairs = g_new0 (Pair, N_MANY);
  struct rlimit rl;
  int before, after;

  (void) data;
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  if (rl.rlim_cur < 2 * N_MANY + 64)
    {
      if (rl.rlim_max < 2 * N_MANY + 64)
        {
          g_test_skip ("the file descriptor limit is too low for this test");
          return;
        }
      rl.rlim_cur = rl.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
    }

  before = poll_set_size (f->ctx);
  for (guint i = 0; i < N_MANY; i++)
    {
      pair_open (&pairs[i]);
      register_pair (f, &pairs[i], SU_WAIT_IN, 0);
    }
  after = poll_set_size (f->ctx);
  g_test_message ("GLib poll set: %d descriptors before, %d with %d registered", before, after,
                  N_MANY);
  g_assert_cmpint (after - before, <=, 1);

  /* Still served: the last one registered, after most of the others are gone. */
  for (guint i = 0; i + 1 < N_MANY; i++)
    g_assert_cmpint (su_root_deregister (f->root, pairs[i].index), ==, pairs[i].index);
  g_assert_cmpint (poll_set_size (f->ctx), <=, before + 1);
  pair_poke (&pairs[N_MANY - 1]);
  iterate_until_called (f, &pairs[N_MANY - 1], (gboolean[]){ TRUE }, 1);
  g_assert_true (pairs[N_MANY - 1].last_revents & SU_WAIT_IN);
  for (guint i = 0; i < N_MANY; i++)
    pair_close (&pairs[i]);
}

/* Removed registrations are never called; the others keep being served, each with its own
 * events. */
static void
test_remove_keeps_others (Fixture *f, gconstpointer data)
{
  enum { N = 48 };
  Pair pairs[N];
  gboolean want[N];

  (void) data;
  for (guint i = 0; i < N; i++)
    {
      pair_open (&pairs[i]);
      register_pair (f, &pairs[i], SU_WAIT_IN, 0);
      want[i] = TRUE;
    }
  /* Every third by index, every third + 1 by its wait object. */
  for (guint i = 0; i < N; i += 3)
    {
      su_wait_t wait[1] = { SU_WAIT_INIT };
      Pair *p = &pairs[i + 1];

      g_assert_cmpint (su_root_deregister (f->root, pairs[i].index), ==, pairs[i].index);
      want[i] = FALSE;
      g_assert_cmpint (su_wait_create (wait, p->fd, SU_WAIT_IN), ==, 0);
      g_assert_cmpint (su_root_unregister (f->root, wait, read_cb, (su_wakeup_arg_t *) p), ==,
                       p->index);
      want[i + 1] = FALSE;
    }
  /* Removing again finds nothing. */
  g_assert_cmpint (su_root_deregister (f->root, pairs[0].index), ==, -1);

  for (guint i = 0; i < N; i++)
    pair_poke (&pairs[i]);
  iterate_until_called (f, pairs, want, N);
  drain (f);
  for (guint i = 0; i < N; i++)
    {
      g_assert_cmpuint (pairs[i].calls, ==, want[i] ? 1 : 0);
      if (want[i])
        g_assert_cmpint (pairs[i].last_revents & SU_WAIT_IN, ==, SU_WAIT_IN);
    }

  /* A mask change: writable now, then quiet again once the callback masks it off. */
  g_assert_cmpint (su_root_eventmask (f->root, pairs[2].index, pairs[2].fd, SU_WAIT_OUT), ==, 0);
  pairs[2].calls = 0;
  iterate_until_called (f, &pairs[2], (gboolean[]){ TRUE }, 1);
  g_assert_cmpint (pairs[2].last_revents & SU_WAIT_OUT, ==, SU_WAIT_OUT);
  g_assert_cmpint (su_root_eventmask (f->root, pairs[2].index, pairs[2].fd, SU_WAIT_IN), ==, 0);
  pairs[2].calls = 0;
  drain (f);
  g_assert_cmpuint (pairs[2].calls, ==, 0);

  /* Hang-up is reported even when only SU_WAIT_IN was asked for. */
  close (pairs[5].peer);
  pairs[5].peer = -1;
  pairs[5].calls = 0;
  iterate_until_called (f, &pairs[5], (gboolean[]){ TRUE }, 1);
  g_assert_cmpint (pairs[5].last_revents & (SU_WAIT_IN | SU_WAIT_HUP), !=, 0);
  g_assert_cmpint (su_root_deregister (f->root, pairs[5].index), ==, pairs[5].index);

  for (guint i = 0; i < N; i++)
    pair_close (&pairs[i]);
}

/* Ready registrations are called in su_source's order: priority ones first, newest first,
 * then the others in the order they were registered. */
static void
test_order (Fixture *f, gconstpointer data)
{
  enum { N = 6 };
  static const int priority[N] = { 0, 1, 0, 1, 0, 0 };
  static const int expected[N] = { 3, 1, 0, 2, 4, 5 };
  Pair pairs[N];

  (void) data;
  for (guint i = 0; i < N; i++)
    {
      pair_open (&pairs[i]);
      register_pair (f, &pairs[i], SU_WAIT_IN, priority[i]);
    }
  for (guint i = N; i-- > 0;)
    pair_poke (&pairs[i]);
  /* One pass: everything is ready before it polls. */
  g_main_context_iteration (f->ctx, FALSE);
  g_assert_cmpuint (pass_calls->len, ==, N);
  for (guint i = 0; i < N; i++)
    g_assert_true (g_ptr_array_index (pass_calls, i) == &pairs[expected[i]]);
  for (guint i = 0; i < N; i++)
    pair_close (&pairs[i]);
}

/* A callback removes a registration that is ready in the same pass, closes its descriptor and
 * registers a new one that gets the same number: neither the removed one nor the newcomer is
 * called for the old descriptor's readiness. */
typedef struct
{
  Fixture *f;
  Pair *victim;
  Pair *newcomer;
  guint calls;
} Remover;

static int
remover_cb (su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
  Remover *r = (Remover *) arg;
  int old_fd = r->victim->fd;

  (void) magic;
  (void) w;
  r->calls++;
  if (r->calls > 1)
    return 0;
  g_assert_cmpint (su_root_deregister (r->f->root, r->victim->index), ==, r->victim->index);
  pair_close (r->victim);
  pair_open (r->newcomer);
  if (r->newcomer->fd != old_fd)
    g_test_message ("the new descriptor is %d, not %d: the reuse case is not exercised",
                    r->newcomer->fd, old_fd);
  register_pair (r->f, r->newcomer, SU_WAIT_IN, 0);
  return 0;
}

static void
test_remove_during_dispatch (Fixture *f, gconstpointer data)
{
  Pair trigger, victim, newcomer;
  Remover r = { f, &victim, &newcomer, 0 };
  su_wait_t wait[1] = { SU_WAIT_INIT };
  int index;
  char buf[8];

  (void) data;
  pair_open (&trigger);
  pair_open (&victim);
  /* The trigger is registered first, so it is called first. */
  g_assert_cmpint (su_wait_create (wait, trigger.fd, SU_WAIT_IN), ==, 0);
  index = su_root_register (f->root, wait, remover_cb, (su_wakeup_arg_t *) &r, 0);
  g_assert_cmpint (index, >, 0);
  register_pair (f, &victim, SU_WAIT_IN, 0);

  pair_poke (&trigger);
  pair_poke (&victim);
  g_main_context_iteration (f->ctx, FALSE);
  g_assert_cmpuint (r.calls, ==, 1);
  g_assert_cmpuint (victim.calls, ==, 0);
  g_assert_cmpint (read (trigger.fd, buf, sizeof buf), ==, 1);
  drain (f);
  g_assert_cmpuint (victim.calls, ==, 0);
  g_assert_cmpuint (newcomer.calls, ==, 0);

  /* The newcomer is served once it has data. */
  pair_poke (&newcomer);
  iterate_until_called (f, &newcomer, (gboolean[]){ TRUE }, 1);
  g_assert_cmpuint (r.calls, ==, 1);

  g_assert_cmpint (su_root_deregister (f->root, index), ==, index);
  pair_close (&trigger);
  pair_close (&newcomer);
}

/* Two registrations of one descriptor: each is called with its own events. */
static void
test_same_descriptor (Fixture *f, gconstpointer data)
{
  Pair a, b;
  int index_a, index_b;

  (void) data;
  pair_open (&a);
  b = a; /* same descriptors, own counters */
  index_a = register_pair (f, &a, SU_WAIT_IN, 0);
  /* b only asks for writability; it must not be woken for input. */
  index_b = register_pair (f, &b, SU_WAIT_OUT, 0);
  g_assert_cmpint (index_a, !=, index_b);
  iterate_until_called (f, &b, (gboolean[]){ TRUE }, 1);
  g_assert_cmpint (b.last_revents & SU_WAIT_OUT, ==, SU_WAIT_OUT);
  g_assert_cmpuint (a.calls, ==, 0);
  g_assert_cmpint (su_root_deregister (f->root, index_b), ==, index_b);

  pair_poke (&a);
  iterate_until_called (f, &a, (gboolean[]){ TRUE }, 1);
  g_assert_cmpint (a.last_revents & SU_WAIT_IN, ==, SU_WAIT_IN);
  g_assert_cmpint (a.last_revents & SU_WAIT_OUT, ==, 0);
  g_assert_cmpint (su_root_deregister (f->root, index_a), ==, index_a);
  pair_close (&a);
}

/* Sofia's own log (port creation, root teardown) goes to g_debug, out of the TAP stream. */
static void
sofia_log (void *stream, char const *fmt, va_list ap)
{
  g_autofree char *line = g_strdup_vprintf (fmt, ap);

  (void) stream;
  g_debug ("sofia: %s", g_strchomp (line));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  su_log_redirect (su_log_default, sofia_log, NULL);
#define ADD(path, fn)                                                                         \
  g_test_add ("/sofia/glib-source/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("poll-set", test_poll_set);
  ADD ("remove-keeps-others", test_remove_keeps_others);
  ADD ("order", test_order);
  ADD ("remove-during-dispatch", test_remove_during_dispatch);
  ADD ("same-descriptor", test_same_descriptor);
#undef ADD
  return g_test_run ();
}

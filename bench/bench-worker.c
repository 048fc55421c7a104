/* bench-worker: a load-generating process and its loop. */
#include "config.h"

#include "bench-worker-priv.h"

#include <errno.h>
#include <openssl/err.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sotto-tls.h"

const char *
bench_case_to_string (BenchCase c)
{
  static const char *names[] = { "register", "churn", "calls", "idle" };
  return c < BENCH_CASE_LAST ? names[c] : "?";
}

gboolean
bench_case_from_string (const char *text, BenchCase *out)
{
  for (int c = 0; c < BENCH_CASE_LAST; c++)
    if (g_strcmp0 (text, bench_case_to_string ((BenchCase) c)) == 0)
      {
        *out = (BenchCase) c;
        return TRUE;
      }
  return FALSE;
}

char *
bench_password_for (const char *user)
{
  /* Must match bench/kamailio/kamailio.cfg ("pw-$au") and what bench/run provisions. */
  return g_strdup_printf ("pw-%s", user);
}

static SSL_CTX *
make_ctx (const BenchOptions *opt, GError **error)
{
  g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());
  if (!ctx)
    {
      sotto_tls_set_error (error, "SSL_CTX_new");
      return NULL;
    }
  SSL_CTX_set_min_proto_version (ctx, TLS1_2_VERSION);
  /* Partial writes and a moving buffer: bench-conn writes straight from its GByteArray. */
  SSL_CTX_set_mode (ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                           | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  if (opt->cafile)
    {
      if (!SSL_CTX_load_verify_locations (ctx, opt->cafile, NULL))
        {
          sotto_tls_set_error (error, "loading the CA file");
          return NULL;
        }
      SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
    }
  return g_steal_pointer (&ctx);
}

static void
worker_on_ctl (int fd, gpointer user)
{
  BenchWorker *w = user;
  char c = 0;
  ssize_t n = read (fd, &c, 1);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
    c = BENCH_CTL_STOP; /* the parent went away */
  if (c == BENCH_CTL_GO && !w->measuring && !w->stopping)
    {
      w->measuring = TRUE;
      for (guint i = 0; i < w->n_uas; i++)
        if (w->uas[i].registered || w->opt->kase == BENCH_CASE_CHURN)
          bench_ua_start_work (&w->uas[i]);
    }
  else if (c == BENCH_CTL_STOP && !w->stopping)
    {
      w->measuring = FALSE;
      w->stopping = TRUE;
    }
}

static gboolean
worker_busy (BenchWorker *w)
{
  for (guint i = 0; i < w->n_uas; i++)
    if (w->uas[i].op_active)
      return TRUE;
  return FALSE;
}

static gboolean
write_all (int fd, const void *data, gsize len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

int
bench_worker_run (const BenchOptions *opt, guint first, guint count, int ctl_fd, int result_fd)
{
  g_autoptr (GError) error = NULL;
  signal (SIGPIPE, SIG_IGN);
  g_autoptr (SSL_CTX) ctx = make_ctx (opt, &error);
  g_autoptr (BenchLoop) loop = ctx ? bench_loop_new (ctx, &error) : NULL;
  if (!loop)
    {
      g_printerr ("sotto-sipload: worker: %s\n", error->message);
      return 1;
    }
  BenchWorker w = { .opt = opt, .loop = loop, .ctx = ctx };
  g_autofree BenchStats *stats = g_new0 (BenchStats, 1);
  w.stats = stats;
  w.scratch = g_string_sized_new (2048);
  w.n_uas = count;
  w.uas = g_new0 (BenchUa, MAX (count, 1));
  for (guint i = 0; i < count; i++)
    bench_ua_init (&w, &w.uas[i], first + i);
  if (!bench_loop_watch_fd (loop, ctl_fd, worker_on_ctl, &w, &error))
    {
      g_printerr ("sotto-sipload: worker: %s\n", error->message);
      return 1;
    }

  /* Churn prepares nothing: every cycle starts from a fresh connection. */
  w.setup_phase = opt->kase != BENCH_CASE_CHURN;
  gboolean ready_sent = FALSE;
  gint64 drain_until = 0;
  gint64 next_tick = 0;
  while (!w.done)
    {
      bench_loop_iterate (loop, 10);
      gint64 now = bench_now_us ();
      if (w.setup_phase)
        {
          while (w.setup_next < w.n_uas && w.setup_inflight < opt->setup_window)
            {
              BenchUa *ua = &w.uas[w.setup_next++];
              ua->setup_pending = TRUE;
              w.setup_inflight++;
              bench_ua_register (ua, FALSE);
            }
          if (w.setup_finished == w.n_uas)
            w.setup_phase = FALSE;
        }
      if (!w.setup_phase && !ready_sent)
        {
          char r = BENCH_READY;
          if (!write_all (result_fd, &r, 1))
            return 1;
          ready_sent = TRUE;
        }
      if (now >= next_tick)
        {
          for (guint i = 0; i < w.n_uas; i++)
            bench_ua_tick (&w.uas[i], now);
          next_tick = now + 10000;
        }
      if (w.stopping)
        {
          if (!drain_until)
            drain_until = now + (gint64) MIN (opt->timeout_ms, 3000u) * 1000;
          if (!worker_busy (&w) || now > drain_until)
            w.done = TRUE;
        }
    }
  for (guint i = 0; i < w.n_uas; i++)
    bench_ua_shutdown (&w.uas[i]);
  bench_loop_iterate (loop, 0);
  gboolean ok = write_all (result_fd, stats, sizeof *stats);
  g_free (w.uas);
  g_string_free (w.scratch, TRUE);
  return ok ? 0 : 1;
}

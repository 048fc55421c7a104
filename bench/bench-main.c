/* sotto-sipload: a TLS SIP load generator for registrars and proxies (see bench/README.md).
 * This file parses options, forks the workers, runs the measuring window, and reports. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-proc.h"
#include "bench-worker.h"

typedef struct
{
  pid_t pid;
  int ctl;    /* parent writes control bytes */
  int result; /* parent reads 'R' then BenchStats */
} Child;

static gboolean
parse_server (const char *text, struct sockaddr_in *out)
{
  g_autofree char *host = g_strdup (text);
  char *colon = strrchr (host, ':');
  if (!colon)
    return FALSE;
  *colon = '\0';
  guint64 port = 0;
  if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    return FALSE;
  memset (out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons ((guint16) port);
  return inet_pton (AF_INET, host, &out->sin_addr) == 1;
}

/* Every connection is a descriptor; ask for what the run needs and a margin. */
static void
raise_nofile (guint need)
{
  struct rlimit rl;
  if (getrlimit (RLIMIT_NOFILE, &rl) != 0)
    return;
  rlim_t want = (rlim_t) need + 256;
  if (rl.rlim_max < want)
    rl.rlim_max = want; /* works as root; otherwise the next line keeps the old hard limit */
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &rl) != 0 && getrlimit (RLIMIT_NOFILE, &rl) == 0)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

static gboolean
read_all (int fd, void *buf, gsize len, int timeout_ms)
{
  char *p = buf;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  while (len > 0)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      int left = (int) ((deadline - g_get_monotonic_time ()) / 1000);
      if (left <= 0 || poll (&pfd, 1, left) <= 0)
        return FALSE;
      ssize_t n = read (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static void
send_all (Child *kids, guint n, char c)
{
  for (guint i = 0; i < n; i++)
    if (write (kids[i].ctl, &c, 1) != 1)
      g_printerr ("sotto-sipload: worker %u does not listen\n", i);
}

static void
sleep_s (double s)
{
  g_usleep ((gulong) (s * G_USEC_PER_SEC));
}

int
main (int argc, char **argv)
{
  /* GOption does not free a string default it overwrites: defaults are applied after parsing. */
  g_autofree char *server = NULL;
  g_autofree char *domain = NULL;
  g_autofree char *kase = NULL;
  g_autofree char *alg = NULL;
  g_autofree char *cafile = NULL;
  g_auto (GStrv) server_pids = NULL;
  int procs = 2, concurrency = 50, conns = 1000, user_offset = 0, src_count = 8;
  int expires = 3600, timeout_ms = 5000, setup_window = 64, setup_timeout = 180;
  double duration = 10.0, hold = 0.0, settle = 2.0;
  GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Server IPv4 address and port", "IP:PORT" },
    { "domain", 0, 0, G_OPTION_ARG_STRING, &domain, "SIP domain and realm", "D" },
    { "case", 0, 0, G_OPTION_ARG_STRING, &kase, "register, churn, calls or idle", "CASE" },
    { "alg", 0, 0, G_OPTION_ARG_STRING, &alg, "Digest algorithm: MD5 or SHA-256", "ALG" },
    { "procs", 0, 0, G_OPTION_ARG_INT, &procs, "Worker processes (default 2)", "N" },
    { "concurrency", 0, 0, G_OPTION_ARG_INT, &concurrency,
      "register/churn: connections; calls: caller/callee pairs (default 50)", "N" },
    { "conns", 0, 0, G_OPTION_ARG_INT, &conns, "idle: connections to hold (default 1000)", "K" },
    { "duration", 0, 0, G_OPTION_ARG_DOUBLE, &duration, "Measuring window in seconds", "S" },
    { "hold", 0, 0, G_OPTION_ARG_DOUBLE, &hold, "idle: seconds to hold after measuring", "S" },
    { "user-offset", 0, 0, G_OPTION_ARG_INT, &user_offset, "First user number", "N" },
    { "src-count", 0, 0, G_OPTION_ARG_INT, &src_count,
      "Source addresses 127.0.0.2 onwards (default 8)", "N" },
    { "expires", 0, 0, G_OPTION_ARG_INT, &expires, "Registration expiry (default 3600)", "S" },
    { "timeout-ms", 0, 0, G_OPTION_ARG_INT, &timeout_ms, "Per-operation deadline", "MS" },
    { "setup-window", 0, 0, G_OPTION_ARG_INT, &setup_window,
      "Initial registrations in flight per worker (default 64)", "N" },
    { "setup-timeout", 0, 0, G_OPTION_ARG_INT, &setup_timeout,
      "Seconds allowed for the initial registrations (default 180)", "S" },
    { "cafile", 0, 0, G_OPTION_ARG_FILENAME, &cafile, "Verify the server against this CA", "FILE" },
    { "server-pid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &server_pids,
      "Server process (with its descendants) to measure; repeatable", "PID" },
    { NULL },
  };
  g_autoptr (GOptionContext) octx = g_option_context_new ("- TLS SIP load generator");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (octx, &argc, &argv, &error))
    {
      g_printerr ("sotto-sipload: %s\n", error->message);
      return 2;
    }
  if (!server)
    server = g_strdup ("127.0.0.1:5061");
  if (!domain)
    domain = g_strdup ("localhost");
  if (!kase)
    kase = g_strdup ("register");
  if (!alg)
    alg = g_strdup ("MD5");
  BenchOptions opt = {
    .domain = domain, .cafile = cafile, .procs = (guint) CLAMP (procs, 1, 64),
    .concurrency = (guint) MAX (concurrency, 1), .conns = (guint) MAX (conns, 1),
    .user_offset = (guint) MAX (user_offset, 0), .src_count = (guint) CLAMP (src_count, 1, 60000),
    .expires = (guint) MAX (expires, 1), .timeout_ms = (guint) MAX (timeout_ms, 100),
    .setup_window = (guint) MAX (setup_window, 1),
  };
  if (!bench_case_from_string (kase, &opt.kase) || !bench_digest_alg_from_string (alg, &opt.alg)
      || !parse_server (server, &opt.server))
    {
      g_printerr ("sotto-sipload: bad --case, --alg or --server\n");
      return 2;
    }
  g_autoptr (GArray) roots = g_array_new (FALSE, FALSE, sizeof (pid_t));
  for (guint i = 0; server_pids && server_pids[i]; i++)
    {
      pid_t p = (pid_t) atoi (server_pids[i]);
      if (p > 0)
        g_array_append_val (roots, p);
    }
  const pid_t *rp = (const pid_t *) roots->data;

  /* How many user agents, and how they split over the workers (pairs stay together). */
  guint units = opt.kase == BENCH_CASE_IDLE ? opt.conns : opt.concurrency;
  guint per_unit = opt.kase == BENCH_CASE_CALLS ? 2 : 1;
  guint nprocs = MIN (opt.procs, units);
  raise_nofile (units * per_unit / nprocs + 64);
  signal (SIGPIPE, SIG_IGN);

  guint64 pss_base = 0;
  if (opt.kase == BENCH_CASE_IDLE && roots->len)
    {
      g_autoptr (GArray) tree = bench_proc_tree (rp, roots->len);
      pss_base = bench_proc_pss_kib (tree);
    }

  g_autofree Child *kids = g_new0 (Child, nprocs);
  for (guint k = 0; k < nprocs; k++)
    {
      int ctl[2], res[2];
      if (pipe (ctl) < 0 || pipe (res) < 0)
        {
          perror ("pipe");
          return 1;
        }
      guint start = units * k / nprocs, end = units * (k + 1) / nprocs;
      pid_t pid = fork ();
      if (pid < 0)
        {
          perror ("fork");
          return 1;
        }
      if (pid == 0)
        {
          close (ctl[1]);
          close (res[0]);
          for (guint j = 0; j < k; j++)
            close (kids[j].ctl), close (kids[j].result);
          _exit (bench_worker_run (&opt, start * per_unit, (end - start) * per_unit, ctl[0],
                                   res[1]));
        }
      close (ctl[0]);
      close (res[1]);
      kids[k] = (Child) { .pid = pid, .ctl = ctl[1], .result = res[0] };
    }

  gboolean ok = TRUE;
  gint64 setup_deadline = g_get_monotonic_time () + (gint64) setup_timeout * G_USEC_PER_SEC;
  for (guint k = 0; k < nprocs; k++)
    {
      char r = 0;
      int left_ms = (int) MAX ((setup_deadline - g_get_monotonic_time ()) / 1000, 1);
      if (!read_all (kids[k].result, &r, 1, left_ms) || r != BENCH_READY)
        {
          g_printerr ("sotto-sipload: worker %u was not ready in time\n", k);
          ok = FALSE;
        }
    }

  double cpu0 = 0, cpu1 = 0, elapsed = 0;
  guint64 pss_loaded = 0;
  if (opt.kase == BENCH_CASE_IDLE)
    {
      sleep_s (settle);
      if (roots->len)
        {
          g_autoptr (GArray) tree = bench_proc_tree (rp, roots->len);
          pss_loaded = bench_proc_pss_kib (tree);
        }
      printf ("IDLE-HELD conns=%u\n", opt.conns);
      fflush (stdout);
      sleep_s (hold);
    }
  else if (ok)
    {
      g_autoptr (GArray) tree = bench_proc_tree (rp, roots->len);
      cpu0 = bench_proc_cpu_ms (tree);
      gint64 t0 = g_get_monotonic_time ();
      send_all (kids, nprocs, BENCH_CTL_GO);
      sleep_s (duration);
      g_array_unref (tree);
      tree = bench_proc_tree (rp, roots->len);
      cpu1 = bench_proc_cpu_ms (tree);
      elapsed = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
    }
  send_all (kids, nprocs, BENCH_CTL_STOP);

  g_autofree BenchStats *total = g_new0 (BenchStats, 1);
  g_autofree BenchStats *one = g_new0 (BenchStats, 1);
  for (guint k = 0; k < nprocs; k++)
    {
      if (read_all (kids[k].result, one, sizeof *one, 30000))
        bench_stats_merge (total, one);
      else
        {
          g_printerr ("sotto-sipload: worker %u sent no results\n", k);
          kill (kids[k].pid, SIGKILL);
          ok = FALSE;
        }
      close (kids[k].ctl);
      close (kids[k].result);
      waitpid (kids[k].pid, NULL, 0);
    }

  gboolean alive = roots->len == 0 || bench_proc_alive (rp, roots->len);
  guint64 errors = bench_stats_errors (total);
  if (opt.kase == BENCH_CASE_IDLE)
    {
      double per = opt.conns ? ((double) pss_loaded - (double) pss_base) / opt.conns : 0;
      printf ("RESULT case=idle conns=%u registered=%" G_GUINT64_FORMAT
              " setup_errors=%" G_GUINT64_FORMAT " errors=%" G_GUINT64_FORMAT
              " pss_base_kib=%" G_GUINT64_FORMAT " pss_kib=%" G_GUINT64_FORMAT
              " pss_per_conn_kib=%.2f server_alive=%d\n",
              opt.conns, total->registered, total->setup_errors, errors, pss_base, pss_loaded,
              per, alive);
      printf ("# idle: %" G_GUINT64_FORMAT "/%u registered connections held, server PSS %.1f MiB "
              "-> %.1f MiB, %.1f KiB per connection%s\n",
              total->registered, opt.conns, pss_base / 1024.0, pss_loaded / 1024.0, per,
              alive ? "" : ", SERVER DIED");
    }
  else
    {
      double rate = elapsed > 0 ? (double) total->ops / elapsed : 0;
      double cpu = cpu1 - cpu0;
      double per_op = total->ops ? cpu * 1000.0 / (double) total->ops : 0;
      double p50 = bench_stats_percentile_ms (total, 50), p99 = bench_stats_percentile_ms (total, 99);
      printf ("RESULT case=%s conc=%u alg=%s procs=%u duration_s=%.2f ops=%" G_GUINT64_FORMAT
              " rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%" G_GUINT64_FORMAT
              " timeouts=%" G_GUINT64_FORMAT " conn_errors=%" G_GUINT64_FORMAT
              " auth_failures=%" G_GUINT64_FORMAT " stale=%" G_GUINT64_FORMAT
              " setup_errors=%" G_GUINT64_FORMAT " server_cpu_ms=%.0f cpu_us_per_op=%.1f"
              " server_alive=%d\n",
              bench_case_to_string (opt.kase), opt.concurrency,
              bench_digest_alg_to_string (opt.alg), nprocs, elapsed, total->ops, rate, p50, p99,
              total->max_us / 1000.0, errors, total->timeouts, total->conn_errors,
              total->auth_failures, total->stale, total->setup_errors, cpu, per_op, alive);
      printf ("# %s concurrency %u: %.1f ops/s, p50 %.2f ms, p99 %.2f ms, %" G_GUINT64_FORMAT
              " errors, server CPU %.1f us/op%s\n",
              bench_case_to_string (opt.kase), opt.concurrency, rate, p50, p99, errors, per_op,
              alive ? "" : ", SERVER DIED");
    }
  fflush (stdout);
  return ok && alive ? 0 : 1;
}

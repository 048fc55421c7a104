#include "config.h"

#include "bench-stats.h"

static guint
bucket_of (gint64 us)
{
  if (us < 0)
    us = 0;
  if (us < BENCH_HIST_FINE * 10)
    return (guint) (us / 10);
  guint64 ms = (guint64) us / 1000;
  if (ms < 100 + BENCH_HIST_COARSE)
    return BENCH_HIST_FINE + (guint) (ms - 100);
  return BENCH_HIST_BUCKETS - 1;
}

static double
bucket_upper_ms (guint b)
{
  if (b < BENCH_HIST_FINE)
    return (b + 1) * 0.01;
  if (b < BENCH_HIST_FINE + BENCH_HIST_COARSE)
    return 100.0 + (b - BENCH_HIST_FINE + 1);
  return 100.0 + BENCH_HIST_COARSE;
}

void
bench_stats_record (BenchStats *stats, gint64 latency_us)
{
  stats->ops++;
  stats->hist[bucket_of (latency_us)]++;
  if (latency_us > 0)
    {
      stats->sum_us += (guint64) latency_us;
      stats->max_us = MAX (stats->max_us, (guint64) latency_us);
    }
}

void
bench_stats_merge (BenchStats *into, const BenchStats *from)
{
  into->ops += from->ops;
  into->errors += from->errors;
  into->timeouts += from->timeouts;
  into->conn_errors += from->conn_errors;
  into->auth_failures += from->auth_failures;
  into->stale += from->stale;
  into->setup_errors += from->setup_errors;
  into->registered += from->registered;
  into->sum_us += from->sum_us;
  into->max_us = MAX (into->max_us, from->max_us);
  for (guint i = 0; i < BENCH_HIST_BUCKETS; i++)
    into->hist[i] += from->hist[i];
}

guint64
bench_stats_errors (const BenchStats *stats)
{
  return stats->errors + stats->timeouts + stats->conn_errors + stats->auth_failures;
}

double
bench_stats_percentile_ms (const BenchStats *stats, double p)
{
  guint64 total = 0;
  for (guint i = 0; i < BENCH_HIST_BUCKETS; i++)
    total += stats->hist[i];
  if (total == 0)
    return 0.0;
  /* The smallest bucket whose cumulative count reaches ceil(p% of total). */
  guint64 want = (guint64) ((p / 100.0) * (double) total + 0.999999);
  want = CLAMP (want, 1, total);
  guint64 seen = 0;
  for (guint i = 0; i < BENCH_HIST_BUCKETS; i++)
    {
      seen += stats->hist[i];
      if (seen >= want)
        return bucket_upper_ms (i);
    }
  return bucket_upper_ms (BENCH_HIST_BUCKETS - 1);
}

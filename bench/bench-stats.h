/* bench-stats: counters and a latency histogram that worker processes send to their parent. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 10 us buckets up to 100 ms, then 1 ms buckets up to 10 s, then one overflow bucket. */
#define BENCH_HIST_FINE 10000
#define BENCH_HIST_COARSE 9900
#define BENCH_HIST_BUCKETS (BENCH_HIST_FINE + BENCH_HIST_COARSE + 1)

typedef struct
{
  guint64 ops;           /* operations completed inside the measuring window */
  guint64 errors;        /* unexpected final responses */
  guint64 timeouts;      /* operations with no answer before the deadline */
  guint64 conn_errors;   /* connections refused, failed handshakes, closed by the server */
  guint64 auth_failures; /* a 401/407 to credentials that was not stale */
  guint64 stale;         /* stale=true re-challenges (expected, not errors) */
  guint64 setup_errors;  /* failures while preparing (initial registrations) */
  guint64 registered;    /* user agents registered at the end of the setup */
  guint64 max_us;
  guint64 sum_us;
  guint64 hist[BENCH_HIST_BUCKETS];
} BenchStats;

void bench_stats_record (BenchStats *stats, gint64 latency_us);
void bench_stats_merge (BenchStats *into, const BenchStats *from);
/* All error counters together (stale re-challenges excluded). */
guint64 bench_stats_errors (const BenchStats *stats);
/* The latency at percentile @p (0..100) in milliseconds: the upper edge of its bucket. */
double bench_stats_percentile_ms (const BenchStats *stats, double p);

G_END_DECLS

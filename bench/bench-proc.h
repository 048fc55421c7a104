/* bench-proc: what the load tool reads about the server under test from /proc: CPU time and
 * PSS of a process and all its descendants (Kamailio forks many workers). */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* @roots plus every descendant alive now. */
GArray *bench_proc_tree (const pid_t *roots, guint n_roots);
/* utime + stime, in milliseconds, summed over @pids. */
double bench_proc_cpu_ms (GArray *pids);
/* PSS from smaps_rollup, in KiB, summed over @pids (PSS splits shared pages, so the sum is
 * the memory the group really uses). */
guint64 bench_proc_pss_kib (GArray *pids);
/* TRUE when every root is still alive (and not a zombie). */
gboolean bench_proc_alive (const pid_t *roots, guint n_roots);

G_END_DECLS

#include "config.h"

#include "bench-proc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fields after the command name in /proc/PID/stat; the name may hold spaces or parentheses,
 * so parse from the last ')'. */
static gboolean
read_stat (pid_t pid, char *state, pid_t *ppid, guint64 *ticks)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  const char *p = strrchr (text, ')');
  if (!p)
    return FALSE;
  g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
  /* f[0] is field 3 (state); utime is field 14, stime 15. */
  if (g_strv_length (f) < 13)
    return FALSE;
  if (state)
    *state = f[0][0];
  if (ppid)
    *ppid = (pid_t) atoi (f[1]);
  if (ticks)
    *ticks = g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10);
  return TRUE;
}

GArray *
bench_proc_tree (const pid_t *roots, guint n_roots)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_array_append_vals (out, roots, n_roots);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (pid_t) * 2);
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name (dir)))
    {
      if (!g_ascii_isdigit (name[0]))
        continue;
      pid_t pair[2] = { (pid_t) atoi (name), 0 };
      if (read_stat (pair[0], NULL, &pair[1], NULL))
        g_array_append_vals (all, pair, 1);
    }
  /* Breadth first: each pass adds the children of what is already in. */
  for (guint i = 0; i < out->len; i++)
    {
      pid_t parent = g_array_index (out, pid_t, i);
      for (guint j = 0; j < all->len; j++)
        {
          const pid_t *pair = (const pid_t *) (all->data + j * sizeof (pid_t) * 2);
          if (pair[1] == parent)
            g_array_append_val (out, pair[0]);
        }
    }
  return out;
}

double
bench_proc_cpu_ms (GArray *pids)
{
  double hz = (double) sysconf (_SC_CLK_TCK);
  guint64 total = 0;
  for (guint i = 0; i < pids->len; i++)
    {
      guint64 t = 0;
      if (read_stat (g_array_index (pids, pid_t, i), NULL, NULL, &t))
        total += t;
    }
  return (double) total * 1000.0 / hz;
}

guint64
bench_proc_pss_kib (GArray *pids)
{
  guint64 total = 0;
  for (guint i = 0; i < pids->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/smaps_rollup",
                                               (int) g_array_index (pids, pid_t, i));
      g_autofree char *text = NULL;
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue;
      const char *p = strstr (text, "\nPss:");
      if (p)
        total += g_ascii_strtoull (p + 5 + strspn (p + 5, " \t"), NULL, 10);
    }
  return total;
}

gboolean
bench_proc_alive (const pid_t *roots, guint n_roots)
{
  for (guint i = 0; i < n_roots; i++)
    {
      char state = 0;
      if (!read_stat (roots[i], &state, NULL, NULL) || state == 'Z' || state == 'X')
        return FALSE;
    }
  return TRUE;
}

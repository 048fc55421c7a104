/* sotto-test: small helpers shared by the test programs. See sotto-test.h. */
#include "config.h"

#include "sotto-test.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

char *
sotto_test_program (const char *relative)
{
  const char *dir = g_getenv ("SOTTO_BUILDDIR");
  return g_build_filename (dir != NULL ? dir : SOTTO_BUILDDIR, relative, NULL);
}

void
sotto_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      sotto_test_remove_tree (child);
    }
  g_rmdir (path);
}

void
sotto_test_die_with_parent (gpointer unused)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGKILL);
#endif
}

guint
sotto_test_count (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p; p = strstr (p + 1, needle))
    n++;
  return n;
}

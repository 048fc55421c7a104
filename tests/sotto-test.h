/* sotto-test: small helpers shared by the test programs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Path of a built program, @relative to the build tree ("signal/sotto-signald"): from the
 * SOTTO_BUILDDIR environment variable (set by make check), else the compile-time SOTTO_BUILDDIR. */
char *sotto_test_program (const char *relative);

/* Removes @path and, when it is a directory (not a symlink to one), everything below it.
 * Symlinks are removed, never followed. Errors are ignored: this is for test clean-up. */
void sotto_test_remove_tree (const char *path);

/* Makes the calling process receive SIGKILL when its parent dies, so an aborted test never
 * leaves a server behind. Fits g_subprocess_launcher_set_child_setup; @unused is ignored. */
void sotto_test_die_with_parent (gpointer unused);

/* How many times @needle occurs in @haystack (overlapping occurrences count). */
guint sotto_test_count (const char *haystack, const char *needle);

G_END_DECLS

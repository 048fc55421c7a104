/* sotto-keyfile: GKeyFile text with line numbers.
 *
 * GKeyFile parses our INI files but reports no line for a value, and accepts some lines
 * without saying where they are. This scan goes over the text line by line first: it refuses
 * what the configuration loaders refuse (a NUL byte, a malformed [group] header, a line that is
 * neither "key = value", a header nor a # comment, a key before the first header, an empty key
 * name), records the line of every group header and key, and formats errors as
 * "ORIGIN:LINE: [group] key: why" in the caller's GError domain. Pure: no files, no loop. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SottoKeyfile SottoKeyfile;

/* One group header (key NULL) or one key line, in file order. Keys are as written, with any
 * locale suffix ("domain[fr]"), which GKeyFile's own lookups hide. */
typedef struct
{
  const char *group;
  const char *key;
  guint line;
} SottoKeyfileEntry;

/* Scans @len bytes of @data (-1: NUL-terminated; @data may be NULL when @len is 0). @origin
 * names the text in messages (a path; NULL gives "<data>"). @domain is the GError domain of
 * every error this object formats, and @syntax_code the code of the scan's own errors. When
 * @key_file is given it is loaded from the same text once the scan has passed, and GKeyFile's
 * refusal becomes a @syntax_code error too. Returns NULL with @error set on refusal. */
SottoKeyfile *sotto_keyfile_parse (const char *data, gssize len, const char *origin,
                                   GQuark domain, int syntax_code, GKeyFile *key_file,
                                   GError **error);
void sotto_keyfile_free (SottoKeyfile *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoKeyfile, sotto_keyfile_free)

const char *sotto_keyfile_get_origin (const SottoKeyfile *self);
guint sotto_keyfile_get_n_entries (const SottoKeyfile *self);
const SottoKeyfileEntry *sotto_keyfile_get_entry (const SottoKeyfile *self, guint index);

/* The line of @key in @group, or with @key NULL of @group's header; 0 when absent. A key set
 * twice gives its last line (GKeyFile keeps the last value); a group opened twice gives its
 * first header (GKeyFile merges the two into the first one's place). */
guint sotto_keyfile_get_line (const SottoKeyfile *self, const char *group, const char *key);

/* Sets @error to "ORIGIN:LINE: [GROUP] KEY: why" in the domain given to the parse, with @code.
 * LINE 0 leaves out ":LINE"; a NULL @key gives "[GROUP]:", a NULL @group leaves out both.
 * Returns FALSE, so that a check can end with "return sotto_keyfile_set_error (...)". */
gboolean sotto_keyfile_set_error (const SottoKeyfile *self, GError **error, int code, guint line,
                                  const char *group, const char *key, const char *format, ...)
  G_GNUC_PRINTF (7, 8);

G_END_DECLS

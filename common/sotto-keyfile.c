/* sotto-keyfile: GKeyFile text with line numbers (see sotto-keyfile.h). */
#include "config.h"

#include "sotto-keyfile.h"

#include <stdarg.h>
#include <string.h>

struct _SottoKeyfile
{
  char *origin;
  GQuark domain;
  int syntax_code;
  GHashTable *lines; /* "group" or "group\nkey" -> line (GUINT_TO_POINTER) */
  GArray *entries;   /* of SottoKeyfileEntry, strings owned, in file order */
};

static void
entry_clear (gpointer data)
{
  SottoKeyfileEntry *e = data;

  g_free ((char *) e->group);
  g_free ((char *) e->key);
}

void
sotto_keyfile_free (SottoKeyfile *self)
{
  if (self == NULL)
    return;
  g_free (self->origin);
  g_hash_table_unref (self->lines);
  g_array_unref (self->entries);
  g_free (self);
}

static gboolean G_GNUC_PRINTF (7, 0)
set_error_valist (const SottoKeyfile *self, GError **error, int code, guint line,
                  const char *group, const char *key, const char *format, va_list args)
{
  g_autofree char *why = g_strdup_vprintf (format, args);
  g_autofree char *where = NULL;
  g_autofree char *what = NULL;

  where = line > 0 ? g_strdup_printf ("%s:%u:", self->origin, line)
                   : g_strdup_printf ("%s:", self->origin);
  if (group != NULL && key != NULL)
    what = g_strdup_printf (" [%s] %s:", group, key);
  else if (group != NULL)
    what = g_strdup_printf (" [%s]:", group);
  else
    what = g_strdup ("");
  g_set_error (error, self->domain, code, "%s%s %s", where, what, why);
  return FALSE;
}

gboolean
sotto_keyfile_set_error (const SottoKeyfile *self, GError **error, int code, guint line,
                         const char *group, const char *key, const char *format, ...)
{
  va_list args;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (format != NULL, FALSE);

  va_start (args, format);
  set_error_valist (self, error, code, line, group, key, format, args);
  va_end (args);
  return FALSE;
}

static gboolean G_GNUC_PRINTF (5, 6)
syntax_error (const SottoKeyfile *self, GError **error, guint line, const char *group,
              const char *format, ...)
{
  va_list args;

  va_start (args, format);
  set_error_valist (self, error, self->syntax_code, line, group, NULL, format, args);
  va_end (args);
  return FALSE;
}

static void
add_entry (SottoKeyfile *self, const char *group, const char *key, guint line)
{
  SottoKeyfileEntry e = { g_strdup (group), g_strdup (key), line };

  g_array_append_val (self->entries, e);
  if (key == NULL)
    {
      if (!g_hash_table_contains (self->lines, group))
        g_hash_table_insert (self->lines, g_strdup (group), GUINT_TO_POINTER (line));
    }
  else
    g_hash_table_insert (self->lines, g_strconcat (group, "\n", key, NULL),
                         GUINT_TO_POINTER (line));
}

/* Whitespace around a line and around a key name is not significant, as in GKeyFile; a line
 * ends at '\n' and g_strstrip takes the '\r' of a CRLF file with the rest. ';' does not start
 * a comment: GKeyFile would refuse such a line without saying where. */
static gboolean
scan_lines (SottoKeyfile *self, const char *data, gsize len, GError **error)
{
  g_autofree char *group = NULL;
  const char *pos = data;
  const char *end = data + len;
  guint lineno = 0;

  while (pos < end)
    {
      const char *nl = memchr (pos, '\n', end - pos);
      const char *line_end = nl != NULL ? nl : end;
      g_autofree char *line = g_strndup (pos, line_end - pos);
      char *eq;
      char *key;

      lineno++;
      pos = nl != NULL ? nl + 1 : end;
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        continue;

      if (line[0] == '[')
        {
          char *close = strrchr (line, ']');

          if (close == NULL || close[1] != '\0' || close == line + 1)
            return syntax_error (self, error, lineno, NULL,
                                 "a group header must look like [name]");
          g_free (group);
          group = g_strndup (line + 1, close - line - 1);
          add_entry (self, group, NULL, lineno);
          continue;
        }

      eq = strchr (line, '=');
      if (eq == NULL)
        return syntax_error (self, error, lineno, NULL,
                             "expected \"key = value\", a [group] header or a # comment");
      if (group == NULL)
        return syntax_error (self, error, lineno, NULL,
                             "a key comes before the first [group] header");
      *eq = '\0';
      key = g_strstrip (line);
      if (key[0] == '\0')
        return syntax_error (self, error, lineno, group, "a key name is missing before '='");
      add_entry (self, group, key, lineno);
    }
  return TRUE;
}

SottoKeyfile *
sotto_keyfile_parse (const char *data, gssize len, const char *origin, GQuark domain,
                     int syntax_code, GKeyFile *key_file, GError **error)
{
  g_autoptr (SottoKeyfile) self = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (data != NULL || len <= 0, NULL);
  g_return_val_if_fail (domain != 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (data == NULL)
    data = "";
  if (len < 0)
    len = (gssize) strlen (data);

  self = g_new0 (SottoKeyfile, 1);
  self->origin = g_strdup (origin != NULL ? origin : "<data>");
  self->domain = domain;
  self->syntax_code = syntax_code;
  self->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->entries = g_array_new (FALSE, FALSE, sizeof (SottoKeyfileEntry));
  g_array_set_clear_func (self->entries, entry_clear);

  /* No text file holds a NUL, and a line cut at one would not be the line GKeyFile sees. */
  if (memchr (data, '\0', (gsize) len) != NULL)
    {
      syntax_error (self, error, 0, NULL, "contains a NUL byte");
      return NULL;
    }
  if (!scan_lines (self, data, (gsize) len, error))
    return NULL;
  if (key_file != NULL
      && !g_key_file_load_from_data (key_file, data, (gsize) len, G_KEY_FILE_NONE, &local))
    {
      syntax_error (self, error, 0, NULL, "not a valid configuration file: %s", local->message);
      return NULL;
    }
  return g_steal_pointer (&self);
}

const char *
sotto_keyfile_get_origin (const SottoKeyfile *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->origin;
}

guint
sotto_keyfile_get_n_entries (const SottoKeyfile *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->entries->len;
}

const SottoKeyfileEntry *
sotto_keyfile_get_entry (const SottoKeyfile *self, guint index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->entries->len, NULL);
  return &g_array_index (self->entries, SottoKeyfileEntry, index);
}

guint
sotto_keyfile_get_line (const SottoKeyfile *self, const char *group, const char *key)
{
  g_autofree char *id = NULL;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (group != NULL, 0);

  /* Group names hold no '\n' (the scan splits lines there), so the two kinds never collide. */
  id = key != NULL ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->lines, id));
}

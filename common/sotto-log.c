/* sotto-log: one writer for every Sotto program. It filters by level and prints
 * "domain: LEVEL: message" to stderr, which is what a foreground daemon under systemd wants. */
#include "config.h"

#include "sotto-log.h"

#include <stdio.h>
#include <string.h>

static SottoLogLevel current_level = SOTTO_LOG_LEVEL_INFO;

static const char *const level_names[SOTTO_LOG_LEVEL_LAST] = {
  [SOTTO_LOG_LEVEL_ERROR] = "error",
  [SOTTO_LOG_LEVEL_WARNING] = "warning",
  [SOTTO_LOG_LEVEL_INFO] = "info",
  [SOTTO_LOG_LEVEL_DEBUG] = "debug",
};

const char *
sotto_log_level_to_string (SottoLogLevel level)
{
  g_return_val_if_fail (level < SOTTO_LOG_LEVEL_LAST, "invalid");
  return level_names[level];
}

gboolean
sotto_log_level_from_string (const char *text, SottoLogLevel *out)
{
  for (int i = 0; i < SOTTO_LOG_LEVEL_LAST; i++)
    if (g_ascii_strcasecmp (text, level_names[i]) == 0)
      {
        *out = (SottoLogLevel) i;
        return TRUE;
      }
  return FALSE;
}

static SottoLogLevel
glib_to_sotto (GLogLevelFlags flags)
{
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    return SOTTO_LOG_LEVEL_ERROR;
  if (flags & G_LOG_LEVEL_WARNING)
    return SOTTO_LOG_LEVEL_WARNING;
  if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
    return SOTTO_LOG_LEVEL_INFO;
  return SOTTO_LOG_LEVEL_DEBUG;
}

static GLogWriterOutput
sotto_log_writer (GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  SottoLogLevel level = glib_to_sotto (flags);
  const char *domain = NULL;
  const char *message = NULL;

  if (level > current_level && !(flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)))
    return G_LOG_WRITER_HANDLED;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  if (flags & G_LOG_LEVEL_CRITICAL)
    fprintf (stderr, "%s: CRITICAL: %s\n", domain ? domain : "sotto", message ? message : "");
  else
    fprintf (stderr, "%s: %s: %s\n", domain ? domain : "sotto", level_names[level],
             message ? message : "");
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
sotto_log_set_level (SottoLogLevel level)
{
  g_return_if_fail (level < SOTTO_LOG_LEVEL_LAST);
  current_level = level;
}

void
sotto_log_init (SottoLogLevel level)
{
  sotto_log_set_level (level);
  g_log_set_writer_func (sotto_log_writer, NULL, NULL);
}

/* sotto-log: GLib structured logging to stderr with a runtime level. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SOTTO_LOG_LEVEL_ERROR,
  SOTTO_LOG_LEVEL_WARNING,
  SOTTO_LOG_LEVEL_INFO,
  SOTTO_LOG_LEVEL_DEBUG,
  SOTTO_LOG_LEVEL_LAST
} SottoLogLevel;

const char *sotto_log_level_to_string (SottoLogLevel level);
gboolean sotto_log_level_from_string (const char *text, SottoLogLevel *out);

/* Installs a writer that prints messages at @level and above to stderr, with the log domain. */
void sotto_log_init (SottoLogLevel level);
void sotto_log_set_level (SottoLogLevel level);

G_END_DECLS

/* sig-config: sotto-signald's configuration (see sig-config.h).
 *
 * GKeyFile does the parsing, but it reports no line numbers for values, so a small scan of
 * the text first records where every group and key is and catches lines GKeyFile would
 * refuse, so that each error can point at its line. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-config.h"
#include "sotto-util.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK (sig-config-error-quark, sig_config_error)

/* ---- The keys we know --------------------------------------------------------------------- */

typedef enum
{
  KIND_DOMAIN,
  KIND_LISTEN,
  KIND_DIR,
  KIND_LOG_LEVEL,
  KIND_UINT,
} KeyKind;

typedef struct
{
  const char *group;
  const char *key;
  KeyKind kind;
  gsize offset; /* into SigConfig */
  guint min;
  guint max;
} KeySpec;

#define FIELD(f) G_STRUCT_OFFSET (SigConfig, f)

static const KeySpec key_specs[] = {
  { "signald", "domain", KIND_DOMAIN, FIELD (domain), 0, 0 },
  { "signald", "listen", KIND_LISTEN, FIELD (listen), 0, 0 },
  { "signald", "cert-dir", KIND_DIR, FIELD (cert_dir), 0, 0 },
  { "signald", "state-dir", KIND_DIR, FIELD (state_dir), 0, 0 },
  { "signald", "log-level", KIND_LOG_LEVEL, FIELD (log_level), 0, 0 },
  { "limits", "max-message-size", KIND_UINT, FIELD (max_message_size), 1024, 2097152 },
  { "limits", "max-connections-per-address", KIND_UINT, FIELD (max_connections_per_address), 1,
    65535 },
  { "limits", "unauthenticated-timeout", KIND_UINT, FIELD (unauthenticated_timeout_s), 1, 3600 },
  { "registrar", "min-expires", KIND_UINT, FIELD (min_expires), 1, 86400 },
  { "registrar", "max-expires", KIND_UINT, FIELD (max_expires), 1, 604800 },
  { "registrar", "default-expires", KIND_UINT, FIELD (default_expires), 1, 604800 },
  { "registrar", "max-bindings-per-user", KIND_UINT, FIELD (max_bindings_per_user), 1, 1000 },
  { "auth", "nonce-lifetime", KIND_UINT, FIELD (nonce_lifetime_s), 10, 86400 },
  { "auth", "throttle-free-failures", KIND_UINT, FIELD (throttle_free_failures), 0, 1000 },
  { "auth", "throttle-max-delay", KIND_UINT, FIELD (throttle_max_delay_s), 0, 86400 },
};

static const char *const known_groups[] = { "signald", "limits", "registrar", "auth", NULL };
/* Groups of the same file that other components read (turn-glue's tg-config). */
static const char *const foreign_groups[] = { "turn", NULL };

/* ---- Defaults ------------------------------------------------------------------------------ */

SigConfig *
sig_config_new_default (void)
{
  SigConfig *config = g_new0 (SigConfig, 1);
  const char *const listen[] = { "sips:127.0.0.1:5061", NULL };

  config->domain = g_strdup ("localhost");
  config->listen = g_strdupv ((char **) listen);
  config->cert_dir = g_strdup ("sotto-state/tls");
  config->state_dir = g_strdup ("sotto-state");
  config->log_level = SOTTO_LOG_LEVEL_INFO;
  config->max_message_size = 65536;
  config->max_connections_per_address = 32;
  config->unauthenticated_timeout_s = 30;
  config->min_expires = 60;
  config->max_expires = 3600;
  config->default_expires = 600;
  config->max_bindings_per_user = 10;
  config->nonce_lifetime_s = 300;
  config->throttle_free_failures = 5;
  config->throttle_max_delay_s = 300;
  return config;
}

void
sig_config_free (SigConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->domain);
  g_strfreev (config->listen);
  g_free (config->cert_dir);
  g_free (config->state_dir);
  g_free (config);
}

char *
sig_config_accounts_path (const SigConfig *config)
{
  g_return_val_if_fail (config != NULL && config->state_dir != NULL, NULL);
  return g_build_filename (config->state_dir, "accounts.db", NULL);
}

/* ---- Names and addresses ------------------------------------------------------------------- */

gboolean
sig_config_parse_listen (const char *url, char **host_out, guint *port_out, GError **error)
{
  g_autofree char *host = NULL;
  const char *rest;
  const char *port_text;
  guint64 port = 0;

  if (g_ascii_strncasecmp (url, "sip:", 4) == 0)
    {
      g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                   "\"%s\" is refused: only TLS is allowed, write sips:HOST:PORT", url);
      return FALSE;
    }
  if (strchr (url, '=') != NULL || strchr (url, ';') != NULL)
    {
      g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                   "\"%s\" is refused: URL parameters such as ;transport= are not allowed, "
                   "only TLS sips:HOST:PORT is",
                   url);
      return FALSE;
    }
  if (!g_str_has_prefix (url, "sips:"))
    {
      g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                   "\"%s\" is not a sips:HOST:PORT address (only TLS sips: is allowed)", url);
      return FALSE;
    }
  rest = url + strlen ("sips:");

  if (rest[0] == '[')
    {
      const char *close = strchr (rest, ']');
      g_autoptr (GInetAddress) addr = NULL;

      if (close == NULL || close[1] != ':')
        goto malformed;
      host = g_strndup (rest + 1, close - rest - 1);
      addr = g_inet_address_new_from_string (host);
      if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
        {
          g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                       "\"%s\": [%s] is not an IPv6 address", url, host);
          return FALSE;
        }
      port_text = close + 2;
    }
  else
    {
      const char *colon = strchr (rest, ':');

      if (colon != NULL && strchr (colon + 1, ':') != NULL)
        {
          g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                       "\"%s\": an IPv6 address must be written in brackets, "
                       "as in sips:[::1]:5061",
                       url);
          return FALSE;
        }
      if (colon == NULL || colon == rest)
        goto malformed;
      host = g_strndup (rest, colon - rest);
      port_text = colon + 1;
      if (strspn (host, "0123456789.") == strlen (host))
        {
          g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
          if (addr == NULL)
            {
              g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                           "\"%s\": %s is not an IPv4 address", url, host);
              return FALSE;
            }
        }
      else if (!sotto_util_is_dns_name (host))
        {
          g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                       "\"%s\": %s is neither an IP address nor a host name", url, host);
          return FALSE;
        }
    }

  if (*port_text == '\0' || strspn (port_text, "0123456789") != strlen (port_text)
      || strlen (port_text) > 5)
    goto malformed;
  port = g_ascii_strtoull (port_text, NULL, 10);
  if (port > 65535)
    {
      g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
                   "\"%s\": the port must be between 0 and 65535", url);
      return FALSE;
    }
  if (host_out != NULL)
    *host_out = g_steal_pointer (&host);
  if (port_out != NULL)
    *port_out = (guint) port;
  return TRUE;

malformed:
  g_set_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE,
               "\"%s\" is not of the form sips:HOST:PORT", url);
  return FALSE;
}

/* ---- Where things are in the text --------------------------------------------------------- */

typedef struct
{
  char *group;
  char *key; /* NULL for a group header */
  guint line;
} Entry;

static void
entry_clear (gpointer data)
{
  Entry *e = data;
  g_free (e->group);
  g_free (e->key);
}

typedef struct
{
  const char *origin;
  GHashTable *lines; /* "group" or "group\nkey" -> line number (GUINT_TO_POINTER) */
  GArray *entries;   /* of Entry, in file order */
} Parse;

static void
add_entry (Parse *p, const char *group, const char *key, guint line)
{
  Entry e = { g_strdup (group), g_strdup (key), line };

  g_array_append_val (p->entries, e);
  if (key == NULL)
    {
      if (!g_hash_table_contains (p->lines, group))
        g_hash_table_insert (p->lines, g_strdup (group), GUINT_TO_POINTER (line));
    }
  else
    g_hash_table_insert (p->lines, g_strconcat (group, "\n", key, NULL), GUINT_TO_POINTER (line));
}

static guint
line_of (Parse *p, const char *group, const char *key)
{
  g_autofree char *id = key != NULL ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);
  return GPOINTER_TO_UINT (g_hash_table_lookup (p->lines, id));
}


static gboolean G_GNUC_PRINTF (7, 8)
set_error (Parse *p, GError **error, SigConfigErrorCode code, guint line, const char *group,
           const char *key, const char *format, ...)
{
  g_autofree char *why = NULL;
  g_autofree char *where = NULL;
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  why = g_strdup_vprintf (format, args);
  va_end (args);

  if (line > 0)
    where = g_strdup_printf ("%s:%u:", p->origin, line);
  else
    where = g_strdup_printf ("%s:", p->origin);
  if (group != NULL && key != NULL)
    what = g_strdup_printf (" [%s] %s:", group, key);
  else if (group != NULL)
    what = g_strdup_printf (" [%s]:", group);
  else
    what = g_strdup ("");
  g_set_error (error, SIG_CONFIG_ERROR, code, "%s%s %s", where, what, why);
  return FALSE;
}

/* Records the line of each group header (first one) and key (last one, as GKeyFile keeps the
 * last value), and refuses what GKeyFile would refuse without saying where. */
static gboolean
scan_lines (Parse *p, const char *data, gsize len, GError **error)
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
            return set_error (p, error, SIG_CONFIG_ERROR_SYNTAX, lineno, NULL, NULL,
                              "a group header must look like [name]");
          g_free (group);
          group = g_strndup (line + 1, close - line - 1);
          add_entry (p, group, NULL, lineno);
          continue;
        }

      eq = strchr (line, '=');
      if (eq == NULL)
        return set_error (p, error, SIG_CONFIG_ERROR_SYNTAX, lineno, NULL, NULL,
                          "expected \"key = value\", a [group] header or a # comment");
      if (group == NULL)
        return set_error (p, error, SIG_CONFIG_ERROR_SYNTAX, lineno, NULL, NULL,
                          "a key comes before the first [group] header");
      *eq = '\0';
      key = g_strstrip (line);
      if (key[0] == '\0')
        return set_error (p, error, SIG_CONFIG_ERROR_SYNTAX, lineno, group, NULL,
                          "a key name is missing before '='");
      add_entry (p, group, key, lineno);
    }
  return TRUE;
}

/* ---- Values ------------------------------------------------------------------------------- */

static const KeySpec *
find_spec (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_str_equal (key_specs[i].group, group) && g_str_equal (key_specs[i].key, key))
      return &key_specs[i];
  return NULL;
}

/* Unknown groups and keys are errors, reported in file order: most are typos. The scan's own
 * list is used because GKeyFile hides keys with a locale suffix such as "domain[fr]". */
static gboolean
check_known (Parse *p, GError **error)
{
  for (guint i = 0; i < p->entries->len; i++)
    {
      const Entry *e = &g_array_index (p->entries, Entry, i);

      if (g_strv_contains (foreign_groups, e->group))
        continue;
      if (!g_strv_contains (known_groups, e->group))
        return set_error (p, error, SIG_CONFIG_ERROR_UNKNOWN_KEY, line_of (p, e->group, NULL),
                          e->group, NULL,
                          "unknown group (the groups are [signald], [limits], [registrar], "
                          "[auth] and [turn])");
      if (e->key != NULL && find_spec (e->group, e->key) == NULL)
        return set_error (p, error, SIG_CONFIG_ERROR_UNKNOWN_KEY, e->line, e->group, e->key,
                          "unknown key in this group");
    }
  return TRUE;
}

static gboolean
load_uint (Parse *p, GKeyFile *kf, const KeySpec *spec, guint line, guint *out, GError **error)
{
  g_autofree char *text = g_key_file_get_value (kf, spec->group, spec->key, NULL);
  guint64 value;

  g_strstrip (text);
  if (text[0] == '\0' || strspn (text, "0123456789") != strlen (text) || strlen (text) > 10)
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                      "\"%s\" is not a whole number between %u and %u", text, spec->min,
                      spec->max);
  value = g_ascii_strtoull (text, NULL, 10);
  if (value < spec->min || value > spec->max)
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                      "must be between %u and %u", spec->min, spec->max);
  *out = (guint) value;
  return TRUE;
}

static gboolean
load_listen (Parse *p, GKeyFile *kf, const KeySpec *spec, guint line, char ***out,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) urls = g_key_file_get_string_list (kf, spec->group, spec->key, NULL, &local);

  if (urls == NULL || local != NULL)
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key, "%s",
                      local != NULL ? local->message : "cannot be read");
  if (urls[0] == NULL)
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                      "must name at least one sips:HOST:PORT address");
  for (gsize i = 0; urls[i] != NULL; i++)
    {
      g_strstrip (urls[i]);
      /* GKeyFile splits lists at ';', so "sips:h:p;transport=tls" arrives in two pieces. */
      if (i > 0 && strchr (urls[i], '=') != NULL && strchr (urls[i], ':') == NULL)
        return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                          "\";%s\" is refused: URL parameters such as ;transport= are not "
                          "allowed, only TLS sips:HOST:PORT is",
                          urls[i]);
      if (!sig_config_parse_listen (urls[i], NULL, NULL, &local))
        return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                          "%s", local->message);
    }
  g_strfreev (*out);
  *out = g_steal_pointer (&urls);
  return TRUE;
}

static gboolean
load_key (Parse *p, GKeyFile *kf, const KeySpec *spec, SigConfig *config, GError **error)
{
  guint line = line_of (p, spec->group, spec->key);
  gpointer field = G_STRUCT_MEMBER_P (config, spec->offset);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;

  if (spec->kind == KIND_UINT)
    return load_uint (p, kf, spec, line, field, error);
  if (spec->kind == KIND_LISTEN)
    return load_listen (p, kf, spec, line, field, error);

  /* GKeyFile can return a value and an error together (for a bad escape): trust the error. */
  text = g_key_file_get_string (kf, spec->group, spec->key, &local);
  if (text == NULL || local != NULL)
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key, "%s",
                      local->message);
  g_strstrip (text);
  if (text[0] == '\0')
    return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                      "must not be empty");

  switch (spec->kind)
    {
    case KIND_DOMAIN:
      if (!sotto_util_is_dns_name (text))
        return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                          "\"%s\" is not a DNS name (dot-separated labels of letters, digits "
                          "and '-', such as example.org or localhost)",
                          text);
      break;
    case KIND_LOG_LEVEL:
      if (!sotto_log_level_from_string (text, field))
        return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
                          "\"%s\" is not one of error, warning, info, debug", text);
      return TRUE;
    case KIND_DIR:
    default:
      break;
    }
  g_free (*(char **) field);
  *(char **) field = g_steal_pointer (&text);
  return TRUE;
}

/* min-expires <= default-expires <= max-expires. The error points at a key the file set. */
static gboolean
check_expires (Parse *p, GKeyFile *kf, const SigConfig *c, GError **error)
{
  const char *blame;

#define SET_IN_FILE(k) g_key_file_has_key (kf, "registrar", (k), NULL)
  if (c->min_expires > c->max_expires)
    {
      blame = SET_IN_FILE ("max-expires") ? "max-expires" : "min-expires";
      return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line_of (p, "registrar", blame),
                        "registrar", blame,
                        "min-expires (%u) must not be larger than max-expires (%u)",
                        c->min_expires, c->max_expires);
    }
  if (c->default_expires < c->min_expires || c->default_expires > c->max_expires)
    {
      if (SET_IN_FILE ("default-expires"))
        blame = "default-expires";
      else
        blame = c->default_expires < c->min_expires ? "min-expires" : "max-expires";
      return set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line_of (p, "registrar", blame),
                        "registrar", blame,
                        "default-expires (%u) must be between min-expires (%u) and "
                        "max-expires (%u)",
                        c->default_expires, c->min_expires, c->max_expires);
    }
#undef SET_IN_FILE
  return TRUE;
}

/* ---- Loading ------------------------------------------------------------------------------ */

SigConfig *
sig_config_load_from_data (const char *data, gssize len, const char *origin, GError **error)
{
  g_autoptr (SigConfig) config = sig_config_new_default ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GHashTable) lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  Parse p = { origin != NULL ? origin : "<data>", lines, entries };

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_array_set_clear_func (entries, entry_clear);
  if (len < 0)
    len = (gssize) strlen (data);
  if (memchr (data, '\0', len) != NULL)
    {
      set_error (&p, error, SIG_CONFIG_ERROR_SYNTAX, 0, NULL, NULL, "contains a NUL byte");
      return NULL;
    }
  if (!scan_lines (&p, data, (gsize) len, error))
    return NULL;
  if (!g_key_file_load_from_data (kf, data, (gsize) len, G_KEY_FILE_NONE, &local))
    {
      set_error (&p, error, SIG_CONFIG_ERROR_SYNTAX, 0, NULL, NULL,
                 "not a valid configuration file: %s", local->message);
      return NULL;
    }
  if (!check_known (&p, error))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_key_file_has_key (kf, key_specs[i].group, key_specs[i].key, NULL)
        && !load_key (&p, kf, &key_specs[i], config, error))
      return NULL;
  if (!check_expires (&p, kf, config, error))
    return NULL;
  return g_steal_pointer (&config);
}

SigConfig *
sig_config_load_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return sig_config_load_from_data (data, (gssize) len, path, error);
}

/* ca-config: sotto-agentd's configuration file (see ca-config.h).
 *
 * GKeyFile parses, but it reports no line numbers for values and accepts more than we want
 * (1/0 for booleans, locale-suffixed keys), so sotto-keyfile's scan of the text first records
 * the line of every group and key; each error then names "file:line: [group] key:". Errors use the
 * G_KEY_FILE_ERROR domain: PARSE for syntax, GROUP_NOT_FOUND / KEY_NOT_FOUND for unknown names,
 * INVALID_VALUE for values. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-config.h"
#include "ca-control.h"
#include "sotto-keyfile.h"
#include "sotto-log.h"
#include "sotto-util.h"

#include <gio/gio.h>
#include <string.h>

typedef enum
{
  KIND_AOR,
  KIND_REGISTRAR,
  KIND_USERNAME,
  KIND_PATH,
  KIND_BOOL,
  KIND_ADDRESSES,
  KIND_CODECS,
  KIND_LOG_LEVEL,
} KeyKind;

typedef struct
{
  const char *group;
  const char *key;
  KeyKind kind;
  gsize offset; /* into CaConfig */
} KeySpec;

#define FIELD(f) G_STRUCT_OFFSET (CaConfig, f)

static const KeySpec key_specs[] = {
  { "account", "aor", KIND_AOR, FIELD (aor) },
  { "account", "registrar", KIND_REGISTRAR, FIELD (registrar) },
  { "account", "username", KIND_USERNAME, FIELD (username) },
  { "account", "password-file", KIND_PATH, FIELD (password_file) },
  { "account", "ca-file", KIND_PATH, FIELD (ca_file) },
  { "media", "force-relay", KIND_BOOL, FIELD (force_relay) },
  { "media", "silence", KIND_BOOL, FIELD (silence) },
  { "media", "play", KIND_PATH, FIELD (play_path) },
  { "media", "record", KIND_PATH, FIELD (record_path) },
  { "media", "local-addresses", KIND_ADDRESSES, FIELD (local_addresses) },
  { "media", "ice-tcp", KIND_BOOL, FIELD (ice_tcp) },
  { "media", "codecs", KIND_CODECS, FIELD (codecs) },
  { "agent", "auto-answer", KIND_BOOL, FIELD (auto_answer) },
  { "agent", "state-dir", KIND_PATH, FIELD (state_dir) },
  { "agent", "control-socket", KIND_PATH, FIELD (control_socket) },
  { "agent", "session-bus", KIND_BOOL, FIELD (session_bus) },
  { "agent", "log-level", KIND_LOG_LEVEL, FIELD (log_level) },
};

static const char *const known_groups[] = { "account", "media", "agent", NULL };
static const char *const known_codecs[] = { "opus", "pcmu", NULL };

/* ---- Defaults ---------------------------------------------------------------------------- */

CaConfig *
ca_config_new_default (void)
{
  CaConfig *config = g_new0 (CaConfig, 1);

  config->force_relay = FALSE;
  config->silence = FALSE;
  config->ice_tcp = FALSE;
  config->codecs = g_strdupv ((char **) known_codecs);
  config->auto_answer = FALSE;
  config->state_dir = g_build_filename (g_get_user_state_dir (), "sotto", NULL);
  config->control_socket = ca_control_default_socket_path ();
  config->session_bus = TRUE;
  config->log_level = g_strdup ("info");
  return config;
}

void
ca_config_free (CaConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->aor);
  g_free (config->registrar);
  g_free (config->username);
  g_free (config->password_file);
  g_free (config->ca_file);
  g_free (config->play_path);
  g_free (config->record_path);
  g_strfreev (config->local_addresses);
  g_strfreev (config->codecs);
  g_free (config->state_dir);
  g_free (config->control_socket);
  g_free (config->log_level);
  g_free (config);
}

char *
ca_config_default_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "sotto", "agent.conf", NULL);
}

static const KeySpec *
find_spec (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_str_equal (key_specs[i].group, group) && g_str_equal (key_specs[i].key, key))
      return &key_specs[i];
  return NULL;
}

/* A typo must not fall back to a default silently: unknown names are errors, in file order. */
static gboolean
check_known (const SottoKeyfile *p, GError **error)
{
  for (guint i = 0; i < sotto_keyfile_get_n_entries (p); i++)
    {
      const SottoKeyfileEntry *e = sotto_keyfile_get_entry (p, i);

      if (!g_strv_contains (known_groups, e->group))
        return sotto_keyfile_set_error (
            p, error, G_KEY_FILE_ERROR_GROUP_NOT_FOUND, e->line, e->group, NULL,
            "unknown group (the groups are [account], [media] and [agent])");
      if (e->key != NULL && find_spec (e->group, e->key) == NULL)
        return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_KEY_NOT_FOUND, e->line, e->group,
                                        e->key, "unknown key in this group");
    }
  return TRUE;
}

/* ---- SIP URIs (TLS only) ----------------------------------------------------------------- */

/* host[:port] where host is a DNS name, an IPv4 address or a bracketed IPv6 address. */
static gboolean
check_hostport (const char *text, char **host_out, const char **why)
{
  g_autofree char *host = NULL;
  const char *port = NULL;

  if (strchr (text, ';') != NULL || strchr (text, '?') != NULL)
    return (*why = "URI parameters and headers (;... ?...) are not allowed here"), FALSE;
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');
      g_autoptr (GInetAddress) addr = NULL;

      if (close == NULL)
        return (*why = "an IPv6 address lacks its closing ']'"), FALSE;
      host = g_strndup (text + 1, close - text - 1);
      addr = g_inet_address_new_from_string (host);
      if (addr == NULL || g_inet_address_get_family (addr) != G_SOCKET_FAMILY_IPV6)
        return (*why = "the bracketed host is not an IPv6 address"), FALSE;
      if (close[1] == ':')
        port = close + 2;
      else if (close[1] != '\0')
        return (*why = "unexpected text after the IPv6 address"), FALSE;
    }
  else
    {
      const char *colon = strchr (text, ':');

      host = colon != NULL ? g_strndup (text, colon - text) : g_strdup (text);
      port = colon != NULL ? colon + 1 : NULL;
      if (host[0] == '\0')
        return (*why = "the host is missing"), FALSE;
      if (strspn (host, "0123456789.") == strlen (host))
        {
          g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (host);
          if (addr == NULL)
            return (*why = "the host is not a valid IPv4 address"), FALSE;
        }
      else if (!sotto_util_is_dns_name (host))
        return (*why = "the host is neither a DNS name nor an IP address (IPv6 goes in [])"),
               FALSE;
    }
  if (port != NULL)
    {
      guint64 n = 0;
      if (port[0] == '\0' || strspn (port, "0123456789") != strlen (port) || strlen (port) > 5
          || (n = g_ascii_strtoull (port, NULL, 10)) == 0 || n > 65535)
        return (*why = "the port must be a number from 1 to 65535"), FALSE;
    }
  *host_out = g_steal_pointer (&host);
  return TRUE;
}

static gboolean
check_scheme (const char *uri, const char **why)
{
  if (g_ascii_strncasecmp (uri, "sip:", 4) == 0)
    return (*why = "sip: is refused: Sotto is TLS only, write sips:"), FALSE;
  if (!g_str_has_prefix (uri, "sips:"))
    return (*why = "not a sips: URI"), FALSE;
  return TRUE;
}

/* sips:user@host[:port]; on success the user and host (for the derived defaults). */
static gboolean
check_aor (const char *uri, char **user_out, char **host_out, const char **why)
{
  const char *rest;
  const char *at;
  g_autofree char *user = NULL;
  g_autofree char *host = NULL;

  if (!check_scheme (uri, why))
    return FALSE;
  rest = uri + strlen ("sips:");
  at = strrchr (rest, '@');
  if (at == NULL || at == rest)
    return (*why = "an address of record needs a user: sips:USER@HOST"), FALSE;
  if (at[1] == '\0')
    return (*why = "an address of record needs a host after '@': sips:USER@HOST"), FALSE;
  user = g_strndup (rest, at - rest);
  /* RFC 3261 §25.1 user: unreserved, escaped and a few marks; ':' would start a password. */
  if (strspn (user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                    "-_.!~*'()&=+$,%")
      != strlen (user))
    return (*why = "the user part has characters a SIP user may not have (or a password)"),
           FALSE;
  if (!check_hostport (at + 1, &host, why))
    return FALSE;
  *user_out = g_steal_pointer (&user);
  *host_out = g_steal_pointer (&host);
  return TRUE;
}

/* ---- Values ------------------------------------------------------------------------------ */

static char *
expand_home (const char *path)
{
  if (g_str_equal (path, "~"))
    return g_strdup (g_get_home_dir ());
  if (g_str_has_prefix (path, "~/"))
    return g_build_filename (g_get_home_dir (), path + 2, NULL);
  return g_strdup (path);
}

static gboolean
load_list (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, GError **error,
           char ***out)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) items = g_key_file_get_string_list (kf, spec->group, spec->key, NULL, &local);
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);

  if (items == NULL || local != NULL)
    return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                    spec->key, "%s",
                                    local != NULL ? local->message : "cannot be read");
  for (gsize i = 0; items[i] != NULL; i++)
    {
      g_strstrip (items[i]);
      if (items[i][0] != '\0')
        g_ptr_array_add (kept, g_strdup (items[i]));
    }
  if (kept->len == 0)
    return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                    spec->key,
                                    "the list is empty (remove the key for the default)");
  g_ptr_array_add (kept, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&kept), FALSE);
  return TRUE;
}

static gboolean
load_addresses (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, char ***field,
                GError **error)
{
  g_auto (GStrv) items = NULL;

  if (!load_list (p, kf, spec, line, error, &items))
    return FALSE;
  for (gsize i = 0; items[i] != NULL; i++)
    {
      g_autoptr (GInetAddress) addr = g_inet_address_new_from_string (items[i]);
      if (addr == NULL)
        return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                        spec->key, "\"%s\" is not an IP address", items[i]);
    }
  g_strfreev (*field);
  *field = g_steal_pointer (&items);
  return TRUE;
}

static gboolean
load_codecs (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, char ***field,
             GError **error)
{
  g_auto (GStrv) items = NULL;

  if (!load_list (p, kf, spec, line, error, &items))
    return FALSE;
  for (gsize i = 0; items[i] != NULL; i++)
    {
      char *lower = g_ascii_strdown (items[i], -1);
      g_free (items[i]);
      items[i] = lower;
      if (!g_strv_contains (known_codecs, items[i]))
        return sotto_keyfile_set_error (
            p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group, spec->key,
            "\"%s\" is not a codec Sotto speaks (opus, pcmu)", items[i]);
      for (gsize j = 0; j < i; j++)
        if (g_str_equal (items[j], items[i]))
          return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line,
                                          spec->group, spec->key, "\"%s\" is listed twice",
                                          items[i]);
    }
  g_strfreev (*field);
  *field = g_steal_pointer (&items);
  return TRUE;
}

static gboolean
load_key (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, CaConfig *config,
          GError **error)
{
  guint line = sotto_keyfile_get_line (p, spec->group, spec->key);
  gpointer field = G_STRUCT_MEMBER_P (config, spec->offset);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;
  const char *why = NULL;
  SottoLogLevel level;

  if (spec->kind == KIND_ADDRESSES)
    return load_addresses (p, kf, spec, line, field, error);
  if (spec->kind == KIND_CODECS)
    return load_codecs (p, kf, spec, line, field, error);

  /* GKeyFile can return a value and an error together (a bad escape): trust the error. */
  text = g_key_file_get_string (kf, spec->group, spec->key, &local);
  if (text == NULL || local != NULL)
    return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                    spec->key, "%s",
                                    local != NULL ? local->message : "cannot be read");
  g_strstrip (text);
  if (text[0] == '\0')
    return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                    spec->key,
                                    "must not be empty (remove the key for the default)");

  switch (spec->kind)
    {
    case KIND_BOOL:
      /* Strict: GKeyFile would also take 1 and 0; a config should read the same to anyone. */
      if (g_str_equal (text, "true"))
        *(gboolean *) field = TRUE;
      else if (g_str_equal (text, "false"))
        *(gboolean *) field = FALSE;
      else
        return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                        spec->key, "\"%s\" is neither true nor false", text);
      return TRUE;
    case KIND_LOG_LEVEL:
      if (!sotto_log_level_from_string (text, &level))
        return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line, spec->group,
                                        spec->key,
                                        "\"%s\" is not one of error, warning, info, debug", text);
      g_free (text);
      text = g_strdup (sotto_log_level_to_string (level));
      break;
    case KIND_AOR:
      {
        g_autofree char *user = NULL;
        g_autofree char *host = NULL;
        if (!check_aor (text, &user, &host, &why))
          return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line,
                                          spec->group, spec->key, "\"%s\": %s", text, why);
      }
      break;
    case KIND_REGISTRAR:
      {
        g_autofree char *host = NULL;
        if (check_scheme (text, &why) && strchr (text, '@') != NULL)
          why = "a registrar is sips:HOST[:PORT], without a user";
        else if (why == NULL)
          check_hostport (text + strlen ("sips:"), &host, &why);
        if (why != NULL)
          return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line,
                                          spec->group, spec->key, "\"%s\": %s", text, why);
      }
      break;
    case KIND_USERNAME:
      for (const char *c = text; *c != '\0'; c++)
        if (g_ascii_isspace (*c) || g_ascii_iscntrl (*c))
          return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line,
                                          spec->group, spec->key,
                                          "a user name must not contain spaces or control "
                                          "characters");
      break;
    case KIND_PATH:
      {
        char *expanded = expand_home (text);
        g_free (text);
        text = expanded;
        if (!g_path_is_absolute (text))
          return sotto_keyfile_set_error (p, error, G_KEY_FILE_ERROR_INVALID_VALUE, line,
                                          spec->group, spec->key,
                                          "\"%s\" must be an absolute path or start with ~/", text);
      }
      break;
    case KIND_ADDRESSES:
    case KIND_CODECS:
    default:
      g_assert_not_reached ();
    }
  g_free (*(char **) field);
  *(char **) field = g_steal_pointer (&text);
  return TRUE;
}

/* registrar and username default to the AOR's host (port 5061) and user. */
static void
derive_defaults (CaConfig *config)
{
  g_autofree char *user = NULL;
  g_autofree char *host = NULL;
  const char *why = NULL;

  if (config->aor == NULL || !check_aor (config->aor, &user, &host, &why))
    return;
  if (config->registrar == NULL)
    config->registrar = strchr (host, ':') != NULL ? g_strdup_printf ("sips:[%s]:5061", host)
                                                   : g_strdup_printf ("sips:%s:5061", host);
  if (config->username == NULL)
    config->username = g_steal_pointer (&user);
}

/* ---- Loading ----------------------------------------------------------------------------- */

gboolean
ca_config_load_from_data (const char *data, gsize len, const char *source_name,
                          CaConfig **out, GError **error)
{
  g_autoptr (CaConfig) config = ca_config_new_default ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (SottoKeyfile) p = NULL;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (len <= G_MAXSSIZE, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  p = sotto_keyfile_parse (data, (gssize)len, source_name, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                           kf, error);
  if (p == NULL)
    return FALSE;
  if (!check_known (p, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_key_file_has_key (kf, key_specs[i].group, key_specs[i].key, NULL)
        && !load_key (p, kf, &key_specs[i], config, error))
      return FALSE;
  derive_defaults (config);
  *out = g_steal_pointer (&config);
  return TRUE;
}

gboolean
ca_config_load_file (const char *path, CaConfig **out, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_get_contents (path, &data, &len, error))
    return FALSE;
  return ca_config_load_from_data (data, len, path, out, error);
}

char *
ca_config_read_password_file (const char *path, GError **error)
{
  guint8 *raw = NULL;
  gsize len = 0;
  char *text;

  g_return_val_if_fail (path != NULL, NULL);

  if (!sotto_util_read_secret_file (path, &raw, &len, error))
    return NULL;
  /* g_file_get_contents NUL-terminates, so the buffer is already a string we can trim. */
  text = (char *) raw;
  if (len > 0 && text[len - 1] == '\n')
    text[--len] = '\0';
  if (len > 0 && text[len - 1] == '\r')
    text[--len] = '\0';
  if (len == 0 || memchr (text, '\0', len) != NULL || memchr (text, '\n', len) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   len == 0 ? "password file %s is empty"
                            : "password file %s must hold one line, the password",
                   path);
      sotto_util_secret_free (text);
      return NULL;
    }
  return text;
}

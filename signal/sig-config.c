/* sig-config: sotto-signald's configuration (see sig-config.h).
 *
 * GKeyFile does the parsing, but it reports no line numbers for values, so sotto-keyfile's
 * scan of the text first records where every group and key is and catches lines GKeyFile would
 * refuse, so that each error can point at its line. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-config.h"
#include "sotto-keyfile.h"
#include "sotto-util.h"

#include <gio/gio.h>
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
  KIND_ALGORITHMS,
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
  { "auth", "algorithms", KIND_ALGORITHMS, FIELD (algorithms), 0, 0 },
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
  config->algorithms[0] = SIG_DIGEST_ALG_SHA256;
  config->algorithms[1] = SIG_DIGEST_ALG_MD5;
  config->n_algorithms = 2;
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
check_known (const SottoKeyfile *p, GError **error)
{
  for (guint i = 0; i < sotto_keyfile_get_n_entries (p); i++)
    {
      const SottoKeyfileEntry *e = sotto_keyfile_get_entry (p, i);

      if (g_strv_contains (foreign_groups, e->group))
        continue;
      if (!g_strv_contains (known_groups, e->group))
        return sotto_keyfile_set_error (
            p, error, SIG_CONFIG_ERROR_UNKNOWN_KEY, sotto_keyfile_get_line (p, e->group, NULL),
            e->group, NULL,
            "unknown group (the groups are [signald], [limits], [registrar], "
            "[auth] and [turn])");
      if (e->key != NULL && find_spec (e->group, e->key) == NULL)
        return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_UNKNOWN_KEY, e->line, e->group,
                                        e->key, "unknown key in this group");
    }
  return TRUE;
}

static gboolean
load_uint (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, guint *out,
           GError **error)
{
  g_autofree char *text = g_key_file_get_value (kf, spec->group, spec->key, NULL);
  guint64 value;

  g_strstrip (text);
  if (text[0] == '\0' || strspn (text, "0123456789") != strlen (text) || strlen (text) > 10)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "\"%s\" is not a whole number between %u and %u",
                                    text, spec->min, spec->max);
  value = g_ascii_strtoull (text, NULL, 10);
  if (value < spec->min || value > spec->max)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "must be between %u and %u", spec->min, spec->max);
  *out = (guint) value;
  return TRUE;
}

static gboolean
load_listen (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, char ***out,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) urls = g_key_file_get_string_list (kf, spec->group, spec->key, NULL, &local);

  if (urls == NULL || local != NULL)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "%s",
                                    local != NULL ? local->message : "cannot be read");
  if (urls[0] == NULL)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "must name at least one sips:HOST:PORT address");
  for (gsize i = 0; urls[i] != NULL; i++)
    {
      g_strstrip (urls[i]);
      /* GKeyFile splits lists at ';', so "sips:h:p;transport=tls" arrives in two pieces. */
      if (i > 0 && strchr (urls[i], '=') != NULL && strchr (urls[i], ':') == NULL)
        return sotto_keyfile_set_error (
            p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
            "\";%s\" is refused: URL parameters such as ;transport= are not "
            "allowed, only TLS sips:HOST:PORT is",
            urls[i]);
      if (!sig_config_parse_listen (urls[i], NULL, NULL, &local))
        return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                        spec->key, "%s", local->message);
    }
  g_strfreev (*out);
  *out = g_steal_pointer (&urls);
  return TRUE;
}

/* "SHA-256;MD5": the algorithms to offer, in order; each once; at least one. Some clients
 * (baresip 1.0) give up at any challenge they cannot answer instead of using another, so an
 * administrator can offer MD5 alone for them, or drop MD5 where every client has SHA-256. */
static gboolean
load_algorithms (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line,
                 SigConfig *config, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) names = g_key_file_get_string_list (kf, spec->group, spec->key, NULL, &local);
  SigDigestAlg algs[SIG_DIGEST_ALG_LAST];
  guint n = 0;

  if (names == NULL)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "%s", local->message);
  for (guint i = 0; names[i] != NULL; i++)
    {
      SigDigestAlg alg;

      g_strstrip (names[i]);
      if (!sig_digest_alg_from_string (names[i], &alg))
        return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                        spec->key,
                                        "\"%s\" is not a Digest algorithm we offer (SHA-256, MD5)",
                                        names[i]);
      for (guint j = 0; j < n; j++)
        if (algs[j] == alg)
          return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line,
                                          spec->group, spec->key, "%s is listed twice",
                                          names[i]);
      algs[n++] = alg;
    }
  if (n == 0)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "name at least one algorithm");
  memcpy (config->algorithms, algs, sizeof algs[0] * n);
  config->n_algorithms = n;
  return TRUE;
}

static gboolean
load_key (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, SigConfig *config,
          GError **error)
{
  guint line = sotto_keyfile_get_line (p, spec->group, spec->key);
  gpointer field = G_STRUCT_MEMBER_P (config, spec->offset);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = NULL;

  if (spec->kind == KIND_UINT)
    return load_uint (p, kf, spec, line, field, error);
  if (spec->kind == KIND_LISTEN)
    return load_listen (p, kf, spec, line, field, error);
  if (spec->kind == KIND_ALGORITHMS)
    return load_algorithms (p, kf, spec, line, config, error);

  /* GKeyFile can return a value and an error together (for a bad escape): trust the error. */
  text = g_key_file_get_string (kf, spec->group, spec->key, &local);
  if (text == NULL || local != NULL)
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "%s", local->message);
  g_strstrip (text);
  if (text[0] == '\0')
    return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                    spec->key, "must not be empty");

  switch (spec->kind)
    {
    case KIND_DOMAIN:
      if (!sotto_util_is_dns_name (text))
        return sotto_keyfile_set_error (
            p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group, spec->key,
            "\"%s\" is not a DNS name (dot-separated labels of letters, digits "
            "and '-', such as example.org or localhost)",
            text);
      break;
    case KIND_LOG_LEVEL:
      if (!sotto_log_level_from_string (text, field))
        return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE, line, spec->group,
                                        spec->key,
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
check_expires (const SottoKeyfile *p, GKeyFile *kf, const SigConfig *c, GError **error)
{
  const char *blame;

#define SET_IN_FILE(k) g_key_file_has_key (kf, "registrar", (k), NULL)
  if (c->min_expires > c->max_expires)
    {
      blame = SET_IN_FILE ("max-expires") ? "max-expires" : "min-expires";
      return sotto_keyfile_set_error (
          p, error, SIG_CONFIG_ERROR_BAD_VALUE, sotto_keyfile_get_line (p, "registrar", blame),
          "registrar", blame, "min-expires (%u) must not be larger than max-expires (%u)",
          c->min_expires, c->max_expires);
    }
  if (c->default_expires < c->min_expires || c->default_expires > c->max_expires)
    {
      if (SET_IN_FILE ("default-expires"))
        blame = "default-expires";
      else
        blame = c->default_expires < c->min_expires ? "min-expires" : "max-expires";
      return sotto_keyfile_set_error (p, error, SIG_CONFIG_ERROR_BAD_VALUE,
                                      sotto_keyfile_get_line (p, "registrar", blame), "registrar",
                                      blame,
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
  g_autoptr (SottoKeyfile) p = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  p = sotto_keyfile_parse (data, len, origin, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_SYNTAX, kf, error);
  if (p == NULL)
    return NULL;
  if (!check_known (p, error))
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (key_specs); i++)
    if (g_key_file_has_key (kf, key_specs[i].group, key_specs[i].key, NULL)
        && !load_key (p, kf, &key_specs[i], config, error))
      return NULL;
  if (!check_expires (p, kf, config, error))
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

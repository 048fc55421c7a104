/* tg-config: the [turn] group of Sotto's configuration file (see tg-config.h).
 *
 * Like sig-config, sotto-keyfile's scan of the text first records the line of every group and
 * key (GKeyFile reports none for values), so that each error can point at its line. Every string
 * value ends up in coturn's configuration, one option per line: control characters (which a
 * GKeyFile escape such as \n could produce) are refused so a value can never add an option. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include "tg-config.h"
#include "sotto-keyfile.h"
#include "sotto-util.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (tg-config-error-quark, tg_config_error)

typedef enum
{
  KIND_NAME,   /* DNS name or IP literal */
  KIND_REALM,  /* printable, no spaces */
  KIND_IPS,    /* ';'-separated IP literals */
  KIND_EXTERNAL,
  KIND_PORT,
  KIND_UINT,
  KIND_BOOL,
  KIND_PATH,
  KIND_RANGES, /* ';'-separated "A" or "A-B" */
} KeyKind;

typedef struct
{
  const char *key;
  KeyKind kind;
  gsize offset;
  guint min;
  guint max;
} KeySpec;

#define FIELD(f) G_STRUCT_OFFSET (TgConfig, f)

static const KeySpec turn_keys[] = {
  { "server-name", KIND_NAME, FIELD (server_name), 0, 0 },
  { "realm", KIND_REALM, FIELD (realm), 0, 0 },
  { "listen", KIND_IPS, FIELD (listen), 1, 0 },
  { "relay", KIND_IPS, FIELD (relay), 0, 0 },
  { "external-ip", KIND_EXTERNAL, FIELD (external_ip), 0, 0 },
  { "port", KIND_PORT, FIELD (port), 1, 65535 },
  { "tls-port", KIND_PORT, FIELD (tls_port), 1, 65535 },
  { "tls-443", KIND_BOOL, FIELD (tls_443), 0, 0 },
  { "min-port", KIND_PORT, FIELD (min_port), 1024, 65535 },
  { "max-port", KIND_PORT, FIELD (max_port), 1024, 65535 },
  { "credential-lifetime", KIND_UINT, FIELD (credential_lifetime_s), 60, 7 * 86400 },
  { "user-quota", KIND_UINT, FIELD (user_quota), 1, 10000 },
  { "total-quota", KIND_UINT, FIELD (total_quota), 1, 1000000 },
  { "max-bps", KIND_UINT, FIELD (max_bps), 0, 1000000000 },
  { "cert-file", KIND_PATH, FIELD (cert_file), 0, 0 },
  { "key-file", KIND_PATH, FIELD (key_file), 0, 0 },
  { "secret-file", KIND_PATH, FIELD (secret_file), 0, 0 },
  { "state-dir", KIND_PATH, FIELD (state_dir), 0, 0 },
  { "lan-deployment", KIND_BOOL, FIELD (lan_deployment), 0, 0 },
  { "allow-peer", KIND_RANGES, FIELD (allow_peer), 0, 0 },
};

/* ---- Defaults ------------------------------------------------------------------------------ */

TgConfig *
tg_config_new_default (void)
{
  TgConfig *c = g_new0 (TgConfig, 1);
  const char *const listen[] = { "0.0.0.0", NULL };

  /* The same defaults as sig-config's [signald] (domain localhost, sotto-state/...). */
  c->server_name = g_strdup ("localhost");
  c->realm = g_strdup ("localhost");
  c->listen = g_strdupv ((char **) listen);
  c->relay = g_new0 (char *, 1);
  c->port = 3478;
  c->tls_port = 5349;
  c->min_port = 49152;
  c->max_port = 65535;
  c->credential_lifetime_s = 43200;
  c->user_quota = 12;
  c->total_quota = 1200;
  c->max_bps = 500000;
  c->cert_file = g_strdup ("sotto-state/tls/server.pem");
  c->key_file = g_strdup ("sotto-state/tls/server.key");
  c->secret_file = g_strdup ("sotto-state/turn-secrets");
  c->state_dir = g_strdup ("sotto-state");
  c->allow_peer = g_new0 (char *, 1);
  return c;
}

void
tg_config_free (TgConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->server_name);
  g_free (c->realm);
  g_strfreev (c->listen);
  g_strfreev (c->relay);
  g_free (c->external_ip);
  g_free (c->cert_file);
  g_free (c->key_file);
  g_free (c->secret_file);
  g_free (c->state_dir);
  g_strfreev (c->allow_peer);
  g_free (c);
}

/* ---- Values ------------------------------------------------------------------------------- */

static gboolean
has_control (const char *s)
{
  for (; *s != '\0'; s++)
    if ((guchar) *s < 0x20 || *s == 0x7f)
      return TRUE;
  return FALSE;
}

static GInetAddress *
parse_ip (const char *text)
{
  /* GInetAddress also accepts forms such as "1" or scope ids; insist on a plain literal. */
  if (text[0] == '\0' || strspn (text, "0123456789abcdefABCDEF.:") != strlen (text))
    return NULL;
  return g_inet_address_new_from_string (text);
}

gboolean
tg_config_parse_range (const char *text, GError **error)
{
  g_auto (GStrv) ends = g_strsplit (text, "-", 3);
  g_autoptr (GInetAddress) a = NULL;
  g_autoptr (GInetAddress) b = NULL;

  if (g_strv_length (ends) > 2 || (a = parse_ip (ends[0])) == NULL
      || (ends[1] != NULL && (b = parse_ip (ends[1])) == NULL))
    {
      g_set_error (error, TG_CONFIG_ERROR, TG_CONFIG_ERROR_BAD_VALUE,
                   "\"%s\" is not an IP address or a range FIRST-LAST of IP addresses", text);
      return FALSE;
    }
  if (b != NULL)
    {
      gsize n = g_inet_address_get_native_size (a);

      if (g_inet_address_get_family (a) != g_inet_address_get_family (b)
          || memcmp (g_inet_address_to_bytes (a), g_inet_address_to_bytes (b), n) > 0)
        {
          g_set_error (error, TG_CONFIG_ERROR, TG_CONFIG_ERROR_BAD_VALUE,
                       "\"%s\": both ends must be of one family and the first not above the last",
                       text);
          return FALSE;
        }
    }
  return TRUE;
}

static char **
split_list (const char *text)
{
  g_auto (GStrv) parts = g_strsplit (text, ";", -1);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] != '\0')
        g_ptr_array_add (out, g_strdup (parts[i]));
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gboolean
load_key (const SottoKeyfile *p, GKeyFile *kf, const KeySpec *spec, guint line, TgConfig *c,
          GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (c, spec->offset);
  g_autoptr (GError) local = NULL;
  g_autofree char *text = g_key_file_get_string (kf, "turn", spec->key, &local);

  if (text == NULL || local != NULL)
    return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
                                    "%s", local != NULL ? local->message : "cannot be read");
  g_strstrip (text);
  if (has_control (text))
    return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
                                    "contains a control character");

  switch (spec->kind)
    {
    case KIND_NAME:
      {
        g_autoptr (GInetAddress) ip = parse_ip (text);
        if (ip == NULL && !sotto_util_is_dns_name (text))
          return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                          spec->key,
                                          "\"%s\" is neither a DNS name nor an IP address", text);
        break;
      }
    case KIND_REALM:
      if (text[0] == '\0' || strlen (text) > 127 || strpbrk (text, " \t\"'#") != NULL)
        return sotto_keyfile_set_error (
            p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
            "\"%s\" must be 1-127 characters without spaces, quotes or '#'", text);
      break;
    case KIND_IPS:
    case KIND_RANGES:
      {
        g_auto (GStrv) list = split_list (text);

        if (spec->min > 0 && list[0] == NULL)
          return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                          spec->key, "must name at least one IP address");
        for (gsize i = 0; list[i] != NULL; i++)
          {
            g_autoptr (GInetAddress) ip = NULL;

            if (spec->kind == KIND_RANGES)
              {
                if (!tg_config_parse_range (list[i], &local))
                  return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                                  spec->key, "%s", local->message);
              }
            else if ((ip = parse_ip (list[i])) == NULL)
              return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                              spec->key, "\"%s\" is not an IP address", list[i]);
          }
        g_strfreev (*(char ***) field);
        *(char ***) field = g_steal_pointer (&list);
        return TRUE;
      }
    case KIND_EXTERNAL:
      {
        g_auto (GStrv) pair = g_strsplit (text, "/", 3);
        g_autoptr (GInetAddress) pub = NULL;
        g_autoptr (GInetAddress) priv = NULL;

        if (text[0] == '\0')
          {
            g_clear_pointer ((char **) field, g_free);
            return TRUE;
          }
        if (g_strv_length (pair) > 2 || (pub = parse_ip (pair[0])) == NULL
            || (pair[1] != NULL && (priv = parse_ip (pair[1])) == NULL))
          return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                          spec->key,
                                          "\"%s\" is not PUBLIC-IP or PUBLIC-IP/PRIVATE-IP", text);
        break;
      }
    case KIND_PORT:
    case KIND_UINT:
      {
        guint64 v;

        if (text[0] == '\0' || strspn (text, "0123456789") != strlen (text) || strlen (text) > 10)
          return sotto_keyfile_set_error (
              p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
              "\"%s\" is not a whole number between %u and %u", text, spec->min, spec->max);
        v = g_ascii_strtoull (text, NULL, 10);
        if (v < spec->min || v > spec->max)
          return sotto_keyfile_set_error (
              p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
              "%s is out of range: must be between %u and %u", text, spec->min, spec->max);
        *(guint *) field = (guint) v;
        return TRUE;
      }
    case KIND_BOOL:
      if (g_str_equal (text, "true") || g_str_equal (text, "false"))
        {
          *(gboolean *) field = g_str_equal (text, "true");
          return TRUE;
        }
      return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn", spec->key,
                                      "\"%s\" is not true or false", text);
    case KIND_PATH:
    default:
      if (text[0] == '\0')
        return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "turn",
                                        spec->key, "must not be empty");
      break;
    }
  g_free (*(char **) field);
  *(char **) field = g_steal_pointer (&text);
  return TRUE;
}

/* [signald] values that give defaults; sig-config validates them fully, here only enough to
 * keep them safe for coturn's file. */
static gboolean
load_signald (const SottoKeyfile *p, GKeyFile *kf, TgConfig *c, char **cert_dir, GError **error)
{
  static const char *const keys[] = { "domain", "cert-dir", "state-dir" };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *text = NULL;
      guint line = sotto_keyfile_get_line (p, "signald", keys[i]);

      if (!g_key_file_has_key (kf, "signald", keys[i], NULL))
        continue;
      text = g_key_file_get_string (kf, "signald", keys[i], NULL);
      if (text != NULL)
        g_strstrip (text);
      if (text == NULL || text[0] == '\0' || has_control (text)
          || (i == 0 && !sotto_util_is_dns_name (text)))
        {
          return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, line, "signald",
                                          keys[i], "not a usable value for the relay");
        }
      if (i == 0)
        {
          g_free (c->server_name);
          g_free (c->realm);
          c->server_name = g_ascii_strdown (text, -1);
          c->realm = g_strdup (c->server_name);
        }
      else if (i == 1)
        {
          g_free (*cert_dir);
          *cert_dir = g_steal_pointer (&text);
        }
      else
        {
          g_free (c->state_dir);
          c->state_dir = g_steal_pointer (&text);
        }
    }
  return TRUE;
}

static const KeySpec *
find_spec (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (turn_keys); i++)
    if (g_str_equal (turn_keys[i].key, key))
      return &turn_keys[i];
  return NULL;
}

static gboolean
check_consistency (const SottoKeyfile *p, GKeyFile *kf, TgConfig *c, GError **error)
{
#define LINE(k) sotto_keyfile_get_line (p, "turn", (k))
#define SET(k) g_key_file_has_key (kf, "turn", (k), NULL)
  if (c->min_port > c->max_port)
    {
      const char *k = SET ("max-port") ? "max-port" : "min-port";
      return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, LINE (k), "turn", k,
                                      "min-port (%u) must not be above max-port (%u)", c->min_port,
                                      c->max_port);
    }
  if (c->port == c->tls_port || (c->tls_443 && c->port == 443))
    {
      const char *k = SET ("tls-port") ? "tls-port" : SET ("port") ? "port" : "tls-443";
      return sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_BAD_VALUE, LINE (k), "turn", k,
                                      "the plain and TLS listeners need different ports");
    }
  {
    const guint ports[] = { c->port, c->tls_443 ? 443 : c->tls_port };

    for (gsize i = 0; i < G_N_ELEMENTS (ports); i++)
      if (ports[i] >= c->min_port && ports[i] <= c->max_port)
        {
          const char *k = SET ("min-port") ? "min-port" : "max-port";
          return sotto_keyfile_set_error (
              p, error, TG_CONFIG_ERROR_BAD_VALUE, LINE (k), "turn", k,
              "the relay port range %u-%u contains the listening port %u", c->min_port, c->max_port,
              ports[i]);
        }
  }
#undef LINE
#undef SET
  return TRUE;
}

TgConfig *
tg_config_load_from_data (const char *data, gssize len, const char *origin, gboolean *has_turn,
                          GError **error)
{
  g_autoptr (TgConfig) c = tg_config_new_default ();
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (SottoKeyfile) p = NULL;
  g_autofree char *cert_dir = g_strdup ("sotto-state/tls");

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  p = sotto_keyfile_parse (data, len, origin, TG_CONFIG_ERROR, TG_CONFIG_ERROR_SYNTAX, kf, error);
  if (p == NULL)
    return NULL;
  if (!load_signald (p, kf, c, &cert_dir, error))
    return NULL;
  g_free (c->cert_file);
  g_free (c->key_file);
  c->cert_file = g_build_filename (cert_dir, "server.pem", NULL);
  c->key_file = g_build_filename (cert_dir, "server.key", NULL);

  /* Unknown keys first, in file order: most are typos of a key the file meant to set. Other
   * groups are their owners' business. */
  for (guint i = 0; i < sotto_keyfile_get_n_entries (p); i++)
    {
      const SottoKeyfileEntry *e = sotto_keyfile_get_entry (p, i);

      if (e->key != NULL && g_str_equal (e->group, "turn") && find_spec (e->key) == NULL)
        {
          sotto_keyfile_set_error (p, error, TG_CONFIG_ERROR_UNKNOWN_KEY, e->line, "turn", e->key,
                                   "unknown key in this group");
          return NULL;
        }
    }
  for (gsize i = 0; i < G_N_ELEMENTS (turn_keys); i++)
    if (g_key_file_has_key (kf, "turn", turn_keys[i].key, NULL)
        && !load_key (p, kf, &turn_keys[i], sotto_keyfile_get_line (p, "turn", turn_keys[i].key), c,
                      error))
      return NULL;
  if (!g_key_file_has_key (kf, "turn", "secret-file", NULL))
    {
      g_free (c->secret_file);
      c->secret_file = g_build_filename (c->state_dir, "turn-secrets", NULL);
    }
  if (!check_consistency (p, kf, c, error))
    return NULL;
  if (has_turn != NULL)
    *has_turn = sotto_keyfile_get_line (p, "turn", NULL) > 0;
  return g_steal_pointer (&c);
}

TgConfig *
tg_config_load_from_file (const char *path, gboolean *has_turn, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return tg_config_load_from_data (data, (gssize) len, path, has_turn, error);
}

/* ca-turn-info: the X-Sotto-Turn header value (signal/sig-turn.c) as a CaTurnInfo. Pure.
 *
 * The value is a comma-separated list of name=value parameters, each value a token or a
 * quoted-string (RFC 3261 §25.1 shapes). Parameters we do not know are ignored, so the
 * server can add some later; a parameter given twice is an error. The uris parameter is a
 * space-separated list of RFC 7065 TURN URIs. */
#define G_LOG_DOMAIN "sotto-agent"
#include "config.h"

#include "ca-turn-info.h"

#include <string.h>

#include <gio/gio.h>
#include <openssl/crypto.h>

#define MAX_URIS 8
#define MAX_VALUE_LEN 4096

static void
turn_uri_clear (gpointer data)
{
  CaTurnUri *uri = data;

  g_free (uri->host);
}

void
ca_turn_info_free (CaTurnInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->uris, g_array_unref);
  g_free (info->username);
  if (info->password)
    OPENSSL_cleanse (info->password, strlen (info->password));
  g_free (info->password);
  g_free (info);
}

static gboolean
fail (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "bad X-Sotto-Turn header: %s", what);
  return FALSE;
}

static gboolean
is_token_char (char c)
{
  return g_ascii_isalnum (c) || strchr ("-.!%*_+`'~:/=", c) != NULL;
}

/* A host name made of letters, digits, '-' and '.', or an IPv4 address. */
static gboolean
is_plain_host (const char *host)
{
  if (*host == '\0' || strlen (host) > 253)
    return FALSE;
  for (const char *p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

/* turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT][?transport=tcp] (RFC 7065 §3.1). */
static gboolean
parse_uri (const char *text, CaTurnUri *out, GError **error)
{
  gboolean secure;
  const char *p, *query, *port_text = NULL;
  g_autofree char *hostport = NULL, *host = NULL;
  guint64 port;

  if (g_str_has_prefix (text, "turn:"))
    secure = FALSE, p = text + 5;
  else if (g_str_has_prefix (text, "turns:"))
    secure = TRUE, p = text + 6;
  else
    return fail (error, "a URI scheme other than turn: or turns:");

  query = strchr (p, '?');
  hostport = query ? g_strndup (p, query - p) : g_strdup (p);
  if (hostport[0] == '[')
    {
      char *close = strchr (hostport, ']');
      if (close == NULL)
        return fail (error, "an unclosed '[' in a URI");
      host = g_strndup (hostport + 1, close - hostport - 1);
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        return fail (error, "a bracketed host that is not an IPv6 address");
      if (close[1] == ':')
        port_text = close + 2;
      else if (close[1] != '\0')
        return fail (error, "junk after an IPv6 address");
    }
  else
    {
      char *colon = strchr (hostport, ':');
      host = colon ? g_strndup (hostport, colon - hostport) : g_strdup (hostport);
      if (colon)
        port_text = colon + 1;
      if (!is_plain_host (host))
        return fail (error, "a URI host that is not a name or an address");
    }

  if (port_text)
    {
      if (!g_ascii_isdigit (port_text[0]) || strlen (port_text) > 5)
        return fail (error, "a bad port");
      for (const char *d = port_text; *d; d++)
        if (!g_ascii_isdigit (*d))
          return fail (error, "a bad port");
      port = g_ascii_strtoull (port_text, NULL, 10);
      if (port == 0 || port > 65535)
        return fail (error, "a port of 0 or above 65535");
    }
  else
    port = secure ? 5349 : 3478; /* RFC 7065 §3.1 defaults */

  if (query == NULL)
    out->kind = secure ? CA_TURN_URI_TLS : CA_TURN_URI_UDP;
  else if (strcmp (query, "?transport=udp") == 0 && !secure)
    out->kind = CA_TURN_URI_UDP;
  else if (strcmp (query, "?transport=tcp") == 0)
    out->kind = secure ? CA_TURN_URI_TLS : CA_TURN_URI_TCP;
  else
    return fail (error, "an unknown transport in a URI");

  out->host = g_steal_pointer (&host);
  out->port = (guint16) port;
  return TRUE;
}

static gboolean
parse_uris (const char *value, GArray *uris, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (value, " ", -1);

  for (guint i = 0; parts[i]; i++)
    {
      CaTurnUri uri = { 0 };

      if (parts[i][0] == '\0')
        continue;
      if (uris->len >= MAX_URIS)
        return fail (error, "more than 8 URIs");
      if (!parse_uri (parts[i], &uri, error))
        return FALSE;
      g_array_append_val (uris, uri);
    }
  if (uris->len == 0)
    return fail (error, "no URI");
  return TRUE;
}

/* One name=value; advances *p past it. Quoted values hold printable ASCII without '"' or
 * '\\' (the server never escapes). */
static gboolean
next_param (const char **p, char **name, char **value, GError **error)
{
  const char *s = *p, *start;

  while (*s == ' ' || *s == '\t')
    s++;
  start = s;
  while (g_ascii_isalnum (*s) || *s == '-' || *s == '_')
    s++;
  if (s == start)
    return fail (error, "a parameter without a name");
  *name = g_ascii_strdown (start, s - start);
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s != '=')
    {
      g_clear_pointer (name, g_free);
      return fail (error, "a parameter without a value");
    }
  s++;
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '"')
    {
      start = ++s;
      while (*s && *s != '"')
        {
          if (*s == '\\' || !g_ascii_isprint (*s))
            {
              g_clear_pointer (name, g_free);
              return fail (error, "an escape or control character in a quoted value");
            }
          s++;
        }
      if (*s != '"')
        {
          g_clear_pointer (name, g_free);
          return fail (error, "an unterminated quoted value");
        }
      *value = g_strndup (start, s - start);
      s++;
    }
  else
    {
      start = s;
      while (*s && is_token_char (*s))
        s++;
      if (s == start)
        {
          g_clear_pointer (name, g_free);
          return fail (error, "an empty value");
        }
      *value = g_strndup (start, s - start);
    }
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == ',')
    s++;
  else if (*s != '\0')
    {
      g_clear_pointer (name, g_free);
      g_clear_pointer (value, g_free);
      return fail (error, "junk between parameters");
    }
  *p = s;
  return TRUE;
}

static gboolean
set_once (char **field, char *value, GError **error)
{
  if (*field != NULL)
    {
      g_free (value);
      return fail (error, "a parameter given twice");
    }
  *field = value;
  return TRUE;
}

gboolean
ca_turn_info_parse (const char *value, CaTurnInfo **out, GError **error)
{
  g_autoptr (CaTurnInfo) info = NULL;
  g_autofree char *uris = NULL, *ttl = NULL;
  const char *p = value;

  g_return_val_if_fail (out != NULL, FALSE);
  if (value == NULL || strlen (value) > MAX_VALUE_LEN)
    return fail (error, "missing or too long");

  info = g_new0 (CaTurnInfo, 1);
  info->uris = g_array_new (FALSE, TRUE, sizeof (CaTurnUri));
  g_array_set_clear_func (info->uris, turn_uri_clear);

  while (*p != '\0')
    {
      g_autofree char *name = NULL;
      char *v = NULL;
      gboolean ok = TRUE;

      if (!next_param (&p, &name, &v, error))
        return FALSE;
      if (strcmp (name, "uris") == 0)
        ok = set_once (&uris, v, error);
      else if (strcmp (name, "username") == 0)
        ok = set_once (&info->username, v, error);
      else if (strcmp (name, "password") == 0)
        ok = set_once (&info->password, v, error);
      else if (strcmp (name, "ttl") == 0)
        ok = set_once (&ttl, v, error);
      else
        g_free (v); /* a parameter from a newer server */
      if (!ok)
        return FALSE;
    }

  if (uris == NULL || info->username == NULL || info->password == NULL)
    return fail (error, "uris, username and password are required");
  if (info->username[0] == '\0' || info->password[0] == '\0')
    return fail (error, "an empty username or password");
  if (!parse_uris (uris, info->uris, error))
    return FALSE;
  if (ttl)
    {
      guint64 v = 0;
      if (!g_ascii_string_to_unsigned (ttl, 10, 0, G_MAXUINT32, &v, NULL))
        return fail (error, "a ttl that is not a number of seconds");
      info->ttl_s = (guint) v;
    }
  *out = g_steal_pointer (&info);
  return TRUE;
}

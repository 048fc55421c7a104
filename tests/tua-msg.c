/* tua-msg: framing, parsing and header lookup for the test UA (RFC 3261 §7, §18.3, §25). */
#include "config.h"

#include "tua-msg.h"

#include <gio/gio.h>
#include <string.h>

static const struct
{
  const char *compact;
  const char *full;
} compact_forms[] = {
  /* RFC 3261 §7.3.3 and the later registrations in the IANA SIP header table. */
  { "a", "Accept-Contact" }, { "b", "Referred-By" },     { "c", "Content-Type" },
  { "d", "Request-Disposition" }, { "e", "Content-Encoding" }, { "f", "From" },
  { "i", "Call-ID" },        { "j", "Reject-Contact" },  { "k", "Supported" },
  { "l", "Content-Length" }, { "m", "Contact" },         { "n", "Identity-Info" },
  { "o", "Event" },          { "r", "Refer-To" },        { "s", "Subject" },
  { "t", "To" },             { "u", "Allow-Events" },    { "v", "Via" },
  { "x", "Session-Expires" }, { "y", "Identity" },
};

/* Headers whose values are comma-separated lists (RFC 3261 §7.3.1). */
static const char *const list_headers[] = {
  "Via", "Route", "Record-Route", "Contact", "Path", "Service-Route", "Allow", "Supported",
  "Require", "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language",
  "Allow-Events", "Content-Encoding", "Accept-Contact", "Reject-Contact",
};

const char *
tua_frame_result_to_string (TuaFrameResult result)
{
  switch (result)
    {
    case TUA_FRAME_NEED_MORE: return "need-more";
    case TUA_FRAME_MESSAGE: return "message";
    case TUA_FRAME_CRLF: return "crlf";
    case TUA_FRAME_INVALID: return "invalid";
    case TUA_FRAME_LAST: break;
    }
  return "unknown";
}

const char *
tua_msg_header_full_name (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);
  if (name[0] != '\0' && name[1] == '\0')
    for (gsize i = 0; i < G_N_ELEMENTS (compact_forms); i++)
      if (g_ascii_tolower (name[0]) == compact_forms[i].compact[0])
        return compact_forms[i].full;
  return name;
}

gboolean
tua_msg_header_name_equal (const char *a, const char *b)
{
  return g_ascii_strcasecmp (tua_msg_header_full_name (a), tua_msg_header_full_name (b)) == 0;
}

static gboolean
is_list_header (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (list_headers); i++)
    if (tua_msg_header_name_equal (name, list_headers[i]))
      return TRUE;
  return FALSE;
}

static gboolean
is_token_char (char c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("-.!%*_+`'~", c) != NULL);
}

static gboolean
invalid (GError **error, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "malformed SIP message: %s", what);
  return FALSE;
}

/* Position of the CRLFCRLF that ends the header section, or -1. */
static gssize
find_header_end (const char *buf, gsize len)
{
  for (gsize i = 0; i + 3 < len; i++)
    if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
      return (gssize) i;
  return -1;
}

/* Parses a Content-Length value: digits only, surrounding white space allowed. */
static gboolean
parse_length (const char *text, gsize text_len, guint64 *out)
{
  gsize i = 0;
  guint64 v = 0;
  gboolean digits = FALSE;

  while (i < text_len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  for (; i < text_len && g_ascii_isdigit (text[i]); i++)
    {
      if (v > (G_MAXUINT64 - 9) / 10)
        return FALSE;
      v = v * 10 + (guint64) (text[i] - '0');
      digits = TRUE;
    }
  while (i < text_len && (text[i] == ' ' || text[i] == '\t'))
    i++;
  if (!digits || i != text_len)
    return FALSE;
  *out = v;
  return TRUE;
}

/* Scans the header section (@buf up to @hdr_len, no final CRLFCRLF) for Content-Length.
 * Returns -1 when absent, -2 when malformed or conflicting. Continuation lines of a
 * Content-Length are not supported (nobody folds a number). */
static gint64
scan_content_length (const char *buf, gsize hdr_len)
{
  gint64 found = -1;
  gsize pos = 0;

  /* skip the start line */
  while (pos + 1 < hdr_len && !(buf[pos] == '\r' && buf[pos + 1] == '\n'))
    pos++;
  pos += 2;
  while (pos < hdr_len)
    {
      gsize end = pos, colon, name_end;
      guint64 v;

      while (end + 1 < hdr_len && !(buf[end] == '\r' && buf[end + 1] == '\n'))
        end++;
      if (end + 1 >= hdr_len)
        end = hdr_len;
      for (colon = pos; colon < end && buf[colon] != ':'; colon++)
        ;
      name_end = colon;
      while (name_end > pos && (buf[name_end - 1] == ' ' || buf[name_end - 1] == '\t'))
        name_end--;
      if (colon < end &&
          ((name_end - pos == 1 && g_ascii_tolower (buf[pos]) == 'l') ||
           (name_end - pos == 14 && g_ascii_strncasecmp (buf + pos, "Content-Length", 14) == 0)))
        {
          if (!parse_length (buf + colon + 1, end - colon - 1, &v) || v > G_MAXINT64)
            return -2;
          if (found >= 0 && (guint64) found != v)
            return -2;
          found = (gint64) v;
        }
      pos = end + 2;
    }
  return found;
}

TuaFrameResult
tua_msg_frame (const char *buf, gsize len, gsize *msg_len, GError **error)
{
  gssize hdr_end;
  gint64 body;

  if (len == 0)
    return TUA_FRAME_NEED_MORE;
  if (buf[0] == '\r')
    {
      if (len < 2)
        return TUA_FRAME_NEED_MORE;
      if (buf[1] == '\n')
        {
          *msg_len = 2;
          return TUA_FRAME_CRLF;
        }
    }
  hdr_end = find_header_end (buf, MIN (len, (gsize) TUA_MSG_MAX_HEADER_BYTES + 4));
  if (hdr_end < 0)
    {
      if (len >= TUA_MSG_MAX_HEADER_BYTES + 4)
        {
          invalid (error, "header section too long");
          return TUA_FRAME_INVALID;
        }
      return TUA_FRAME_NEED_MORE;
    }
  body = scan_content_length (buf, (gsize) hdr_end);
  if (body == -1)
    {
      invalid (error, "no Content-Length on a stream transport");
      return TUA_FRAME_INVALID;
    }
  if (body < 0)
    {
      invalid (error, "bad Content-Length");
      return TUA_FRAME_INVALID;
    }
  if (body > TUA_MSG_MAX_BODY_BYTES)
    {
      invalid (error, "body too large");
      return TUA_FRAME_INVALID;
    }
  if ((guint64) len < (guint64) hdr_end + 4 + (guint64) body)
    return TUA_FRAME_NEED_MORE;
  *msg_len = (gsize) hdr_end + 4 + (gsize) body;
  return TUA_FRAME_MESSAGE;
}

static void
header_free (gpointer p)
{
  TuaHeader *h = p;

  g_free (h->name);
  g_free (h->value);
  g_strfreev (h->items);
  g_free (h);
}

TuaMsg *
tua_msg_ref (TuaMsg *msg)
{
  g_return_val_if_fail (msg != NULL, NULL);
  g_atomic_int_inc (&msg->ref_count);
  return msg;
}

void
tua_msg_unref (TuaMsg *msg)
{
  if (msg == NULL || !g_atomic_int_dec_and_test (&msg->ref_count))
    return;
  g_free (msg->method);
  g_free (msg->request_uri);
  g_free (msg->reason);
  g_ptr_array_unref (msg->headers);
  g_free (msg->body);
  g_free (msg->raw);
  g_free (msg);
}

static gboolean
parse_start_line (TuaMsg *msg, const char *line, GError **error)
{
  if (g_str_has_prefix (line, "SIP/2.0 "))
    {
      const char *p = line + 8;

      if (!g_ascii_isdigit (p[0]) || !g_ascii_isdigit (p[1]) || !g_ascii_isdigit (p[2]) ||
          (p[3] != ' ' && p[3] != '\0'))
        return invalid (error, "bad status code");
      msg->status = (guint) ((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
      if (msg->status < 100 || msg->status > 699)
        return invalid (error, "status code out of range");
      msg->reason = g_strdup (p[3] ? p + 4 : "");
      return TRUE;
    }
  else
    {
      g_auto (GStrv) parts = g_strsplit (line, " ", -1);

      if (g_strv_length (parts) != 3 || parts[0][0] == '\0' || parts[1][0] == '\0' ||
          strcmp (parts[2], "SIP/2.0") != 0)
        return invalid (error, "bad start line");
      for (const char *c = parts[0]; *c; c++)
        if (!is_token_char (*c))
          return invalid (error, "bad method");
      msg->is_request = TRUE;
      msg->method = g_strdup (parts[0]);
      msg->request_uri = g_strdup (parts[1]);
      return TRUE;
    }
}

static gboolean
add_header (TuaMsg *msg, const char *line, GError **error)
{
  const char *colon = strchr (line, ':');
  g_autofree char *name = NULL;
  TuaHeader *h;

  if (colon == NULL)
    return invalid (error, "header line without a colon");
  name = g_strstrip (g_strndup (line, (gsize) (colon - line)));
  if (name[0] == '\0')
    return invalid (error, "empty header name");
  for (const char *c = name; *c; c++)
    if (!is_token_char (*c))
      return invalid (error, "bad header name");
  h = g_new0 (TuaHeader, 1);
  h->name = g_steal_pointer (&name);
  h->value = g_strstrip (g_strdup (colon + 1));
  if (is_list_header (h->name))
    h->items = tua_sip_split_list (h->value);
  else
    {
      h->items = g_new0 (char *, 2);
      h->items[0] = g_strdup (h->value);
    }
  g_ptr_array_add (msg->headers, h);
  return TRUE;
}

gboolean
tua_msg_parse (const char *buf, gsize len, TuaMsg **out, GError **error)
{
  g_autoptr (TuaMsg) msg = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *head = NULL;
  g_autoptr (GString) current = NULL;
  gssize hdr_end;
  const char *cl;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  hdr_end = find_header_end (buf, len);
  if (hdr_end < 0)
    return invalid (error, "no end of headers");
  if (memchr (buf, '\0', (gsize) hdr_end) != NULL)
    return invalid (error, "NUL in the header section");
  if (hdr_end > TUA_MSG_MAX_HEADER_BYTES)
    return invalid (error, "header section too long");

  msg = g_new0 (TuaMsg, 1);
  msg->ref_count = 1;
  msg->headers = g_ptr_array_new_with_free_func (header_free);
  head = g_strndup (buf, (gsize) hdr_end);
  lines = g_strsplit (head, "\r\n", -1);
  if (lines[0] == NULL || !parse_start_line (msg, lines[0], error))
    return lines[0] == NULL ? invalid (error, "empty message") : FALSE;

  /* Unfold continuation lines (RFC 3261 §7.3.1) while collecting header lines. */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (strchr (line, '\r') || strchr (line, '\n'))
        return invalid (error, "bare CR or LF in a header");
      if (line[0] == ' ' || line[0] == '\t')
        {
          if (current == NULL)
            return invalid (error, "continuation line without a header");
          g_string_append_c (current, ' ');
          g_string_append (current, g_strchug ((char *) line));
          continue;
        }
      if (current && !add_header (msg, current->str, error))
        return FALSE;
      if (current)
        g_string_free (current, TRUE);
      current = g_string_new (line);
    }
  if (current && !add_header (msg, current->str, error))
    return FALSE;

  msg->body_len = len - (gsize) hdr_end - 4;
  msg->body = g_malloc (msg->body_len + 1);
  memcpy (msg->body, buf + hdr_end + 4, msg->body_len);
  msg->body[msg->body_len] = '\0';
  cl = tua_msg_header (msg, "Content-Length");
  if (cl)
    {
      guint64 v;

      if (!parse_length (cl, strlen (cl), &v))
        return invalid (error, "bad Content-Length");
      if (v != msg->body_len)
        return invalid (error, "Content-Length does not match the body");
    }
  msg->raw = g_malloc (len + 1);
  memcpy (msg->raw, buf, len);
  msg->raw[len] = '\0';
  msg->raw_len = len;
  *out = g_steal_pointer (&msg);
  return TRUE;
}

const char *
tua_msg_header (const TuaMsg *msg, const char *name)
{
  g_return_val_if_fail (msg != NULL && name != NULL, NULL);
  for (guint i = 0; i < msg->headers->len; i++)
    {
      TuaHeader *h = g_ptr_array_index (msg->headers, i);

      if (tua_msg_header_name_equal (h->name, name) && h->items[0] != NULL)
        return h->items[0];
    }
  return NULL;
}

GStrv
tua_msg_headers (const TuaMsg *msg, const char *name)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (msg != NULL && name != NULL, NULL);
  for (guint i = 0; i < msg->headers->len; i++)
    {
      TuaHeader *h = g_ptr_array_index (msg->headers, i);

      if (tua_msg_header_name_equal (h->name, name))
        g_strv_builder_addv (builder, (const char **) h->items);
    }
  return g_strv_builder_end (builder);
}

guint
tua_msg_header_count (const TuaMsg *msg, const char *name)
{
  g_auto (GStrv) all = tua_msg_headers (msg, name);

  return g_strv_length (all);
}

gboolean
tua_msg_cseq (const TuaMsg *msg, guint32 *number, char **method)
{
  const char *v = tua_msg_header (msg, "CSeq");
  g_auto (GStrv) parts = NULL;
  guint64 n;

  if (v == NULL)
    return FALSE;
  parts = g_strsplit_set (v, " \t", -1);
  /* drop empty pieces from repeated white space */
  {
    guint w = 0;
    for (guint r = 0; parts[r]; r++)
      if (parts[r][0])
        parts[w++] = parts[r];
      else
        g_free (parts[r]);
    parts[w] = NULL;
  }
  if (g_strv_length (parts) != 2 || !parse_length (parts[0], strlen (parts[0]), &n) ||
      n > G_MAXUINT32)
    return FALSE;
  if (number)
    *number = (guint32) n;
  if (method)
    *method = g_strdup (parts[1]);
  return TRUE;
}

char *
tua_msg_branch (const TuaMsg *msg)
{
  const char *via = tua_msg_header (msg, "Via");

  return via ? tua_sip_param (via, "branch") : NULL;
}

GStrv
tua_sip_split_list (const char *value)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  gboolean quoted = FALSE, angle = FALSE;
  const char *start = value;

  g_return_val_if_fail (value != NULL, NULL);
  for (const char *p = value;; p++)
    {
      if (*p == '\0' || (*p == ',' && !quoted && !angle))
        {
          g_autofree char *item = g_strstrip (g_strndup (start, (gsize) (p - start)));

          if (item[0])
            g_strv_builder_add (builder, item);
          if (*p == '\0')
            break;
          start = p + 1;
        }
      else if (quoted && *p == '\\' && p[1] != '\0')
        p++;
      else if (*p == '"' && !angle)
        quoted = !quoted;
      else if (*p == '<' && !quoted)
        angle = TRUE;
      else if (*p == '>' && !quoted)
        angle = FALSE;
    }
  return g_strv_builder_end (builder);
}

/* Where the header parameters of a name-addr/addr-spec value start (the first ';' after the
 * URI), or the end of the string. */
static const char *
params_start (const char *value)
{
  gboolean quoted = FALSE;
  const char *p;

  for (p = value; *p; p++)
    {
      if (quoted && *p == '\\' && p[1])
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (*p == '<' && !quoted)
        {
          const char *close = strchr (p, '>');
          if (close == NULL)
            return p + strlen (p);
          p = close;
        }
      else if (*p == ';' && !quoted)
        return p;
    }
  return p;
}

char *
tua_sip_uri (const char *value)
{
  const char *lt, *end;
  const char *p;

  g_return_val_if_fail (value != NULL, NULL);
  /* a '<' outside a display-name quote opens a name-addr */
  lt = NULL;
  {
    gboolean quoted = FALSE;
    for (p = value; *p && lt == NULL; p++)
      {
        if (quoted && *p == '\\' && p[1])
          p++;
        else if (*p == '"')
          quoted = !quoted;
        else if (*p == '<' && !quoted)
          lt = p;
      }
  }
  if (lt)
    {
      end = strchr (lt, '>');
      if (end == NULL || end == lt + 1)
        return NULL;
      return g_strndup (lt + 1, (gsize) (end - lt - 1));
    }
  while (*value == ' ' || *value == '\t')
    value++;
  for (end = value; *end && *end != ';' && *end != ' ' && *end != '\t'; end++)
    ;
  return end == value ? NULL : g_strndup (value, (gsize) (end - value));
}

/* Looks for @name in a ';'-separated parameter list starting at @p (pointing at a ';'). */
static char *
find_param (const char *p, const char *name)
{
  gsize name_len = strlen (name);

  while (*p == ';')
    {
      const char *start = p + 1, *eq, *end;
      gboolean quoted = FALSE;

      while (*start == ' ' || *start == '\t')
        start++;
      for (end = start; *end; end++)
        {
          if (quoted && *end == '\\' && end[1])
            end++;
          else if (*end == '"')
            quoted = !quoted;
          else if (!quoted && (*end == ';' || *end == ',' || *end == '?' || *end == '>'))
            break;
        }
      eq = memchr (start, '=', (gsize) (end - start));
      {
        const char *name_end = eq ? eq : end;
        while (name_end > start && (name_end[-1] == ' ' || name_end[-1] == '\t'))
          name_end--;
        if ((gsize) (name_end - start) == name_len &&
            g_ascii_strncasecmp (start, name, name_len) == 0)
          {
            g_autofree char *v = NULL;

            if (eq == NULL)
              return g_strdup ("");
            v = g_strstrip (g_strndup (eq + 1, (gsize) (end - eq - 1)));
            if (v[0] == '"')
              {
                GString *u = g_string_new (NULL);
                for (const char *c = v + 1; *c && *c != '"'; c++)
                  {
                    if (*c == '\\' && c[1])
                      c++;
                    g_string_append_c (u, *c);
                  }
                return g_string_free (u, FALSE);
              }
            return g_steal_pointer (&v);
          }
      }
      p = end;
    }
  return NULL;
}

char *
tua_sip_param (const char *value, const char *name)
{
  g_return_val_if_fail (value != NULL && name != NULL, NULL);
  return find_param (params_start (value), name);
}

char *
tua_sip_uri_param (const char *uri, const char *name)
{
  const char *semi;

  g_return_val_if_fail (uri != NULL && name != NULL, NULL);
  semi = strchr (uri, ';');
  return semi ? find_param (semi, name) : NULL;
}

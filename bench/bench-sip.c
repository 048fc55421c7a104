#include "config.h"

#include "bench-sip.h"

#include <string.h>

static const char *
find_blank_line (const char *buf, gsize len)
{
  const char *p = g_strstr_len (buf, (gssize) len, "\r\n\r\n");
  return p;
}

void
bench_sip_iter_init (BenchSipIter *it, const char *msg, gsize len)
{
  const char *blank = find_blank_line (msg, len);
  const char *end = blank ? blank + 2 : msg + len;
  const char *eol = memchr (msg, '\n', (gsize) (end - msg));
  it->p = eol ? eol + 1 : end;
  it->end = end;
}

gboolean
bench_sip_iter_next (BenchSipIter *it, BenchSipHeader *out)
{
  while (it->p < it->end)
    {
      const char *line = it->p;
      const char *eol = memchr (line, '\n', (gsize) (it->end - line));
      const char *next = eol ? eol + 1 : it->end;
      const char *stop = eol ? eol : it->end;
      if (stop > line && stop[-1] == '\r')
        stop--;
      it->p = next;
      const char *colon = memchr (line, ':', (gsize) (stop - line));
      if (!colon)
        continue;
      const char *name_end = colon;
      while (name_end > line && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
      const char *v = colon + 1;
      while (v < stop && (*v == ' ' || *v == '\t'))
        v++;
      out->name = line;
      out->name_len = (gsize) (name_end - line);
      out->value = v;
      out->value_len = (gsize) (stop - v);
      return TRUE;
    }
  return FALSE;
}

gboolean
bench_sip_header_is (const BenchSipHeader *h, const char *full, char compact)
{
  gsize n = strlen (full);
  if (h->name_len == n && g_ascii_strncasecmp (h->name, full, n) == 0)
    return TRUE;
  return compact != 0 && h->name_len == 1 && g_ascii_tolower (h->name[0]) == compact;
}

const char *
bench_sip_find (const char *msg, gsize len, const char *full, char compact, gsize *value_len)
{
  BenchSipIter it;
  BenchSipHeader h;
  bench_sip_iter_init (&it, msg, len);
  while (bench_sip_iter_next (&it, &h))
    if (bench_sip_header_is (&h, full, compact))
      {
        *value_len = h.value_len;
        return h.value;
      }
  return NULL;
}

gssize
bench_sip_frame (const char *buf, gsize len)
{
  const char *blank = find_blank_line (buf, len);
  if (!blank)
    return len > 65536 ? -1 : 0;
  gsize head = (gsize) (blank - buf) + 4;
  gsize vlen = 0;
  const char *v = bench_sip_find (buf, head, "Content-Length", 'l', &vlen);
  if (!v || vlen == 0 || vlen > 9)
    return -1;
  gsize body = 0;
  for (gsize i = 0; i < vlen; i++)
    {
      if (!g_ascii_isdigit (v[i]))
        return -1;
      body = body * 10 + (gsize) (v[i] - '0');
    }
  if (len < head + body)
    return 0;
  return (gssize) (head + body);
}

int
bench_sip_status (const char *msg, gsize len)
{
  if (len >= 12 && strncmp (msg, "SIP/2.0 ", 8) == 0)
    {
      int code = 0;
      for (int i = 8; i < 11; i++)
        {
          if (!g_ascii_isdigit (msg[i]))
            return -1;
          code = code * 10 + (msg[i] - '0');
        }
      return code;
    }
  return len > 0 && g_ascii_isupper (msg[0]) ? 0 : -1;
}

gboolean
bench_sip_is_request (const char *msg, gsize len, const char *method)
{
  gsize n = strlen (method);
  return len > n && strncmp (msg, method, n) == 0 && msg[n] == ' ';
}

gboolean
bench_sip_cseq (const char *msg, gsize len, guint32 *number, char *method, gsize method_size)
{
  gsize vlen = 0;
  const char *v = bench_sip_find (msg, len, "CSeq", 0, &vlen);
  if (!v)
    return FALSE;
  guint64 n = 0;
  gsize i = 0;
  for (; i < vlen && g_ascii_isdigit (v[i]); i++)
    n = n * 10 + (guint64) (v[i] - '0');
  if (i == 0 || n > G_MAXUINT32)
    return FALSE;
  while (i < vlen && v[i] == ' ')
    i++;
  gsize m = MIN (vlen - i, method_size - 1);
  memcpy (method, v + i, m);
  method[m] = '\0';
  *number = (guint32) n;
  return m > 0;
}

char *
bench_sip_tag (const char *value, gsize len)
{
  /* Skip a bracketed URI so that a ";tag" inside it is not taken. */
  const char *p = value, *end = value + len;
  const char *gt = memchr (value, '>', len);
  if (gt)
    p = gt + 1;
  for (; p + 5 <= end; p++)
    if (*p == ';' && g_ascii_strncasecmp (p + 1, "tag=", 4) == 0)
      {
        const char *t = p + 5, *te = t;
        while (te < end && *te != ';' && *te != ' ' && *te != ',')
          te++;
        return te > t ? g_strndup (t, (gsize) (te - t)) : NULL;
      }
  return NULL;
}

char *
bench_sip_uri (const char *value, gsize len)
{
  const char *lt = memchr (value, '<', len);
  if (lt)
    {
      const char *gt = memchr (lt, '>', len - (gsize) (lt - value));
      return gt ? g_strndup (lt + 1, (gsize) (gt - lt - 1)) : NULL;
    }
  const char *end = value;
  while (end < value + len && *end != ';' && *end != ' ' && *end != ',')
    end++;
  return end > value ? g_strndup (value, (gsize) (end - value)) : NULL;
}

const char *
bench_sip_body (const char *msg, gsize len, gsize *body_len)
{
  const char *blank = find_blank_line (msg, len);
  if (!blank)
    {
      *body_len = 0;
      return msg + len;
    }
  *body_len = len - (gsize) (blank + 4 - msg);
  return blank + 4;
}

void
bench_sip_build_request (GString *out, const BenchSipRequest *r)
{
  g_string_truncate (out, 0);
  g_string_append_printf (out,
                          "%s %s SIP/2.0\r\n"
                          "Via: SIP/2.0/TLS %s;branch=z9hG4bK%s;rport\r\n"
                          "Max-Forwards: 70\r\n"
                          "From: <%s>;tag=%s\r\n"
                          "To: <%s>%s%s\r\n"
                          "Call-ID: %s\r\n"
                          "CSeq: %u %s\r\n",
                          r->method, r->ruri, r->via_sent_by, r->branch, r->from_uri,
                          r->from_tag, r->to_uri, r->to_tag ? ";tag=" : "",
                          r->to_tag ? r->to_tag : "", r->call_id, r->cseq, r->method);
  if (r->extra)
    g_string_append (out, r->extra);
  gsize blen = r->body ? strlen (r->body) : 0;
  if (r->body)
    g_string_append_printf (out, "Content-Type: %s\r\n", r->content_type);
  g_string_append_printf (out, "User-Agent: sotto-sipload\r\nContent-Length: %zu\r\n\r\n", blen);
  if (r->body)
    g_string_append (out, r->body);
}

void
bench_sip_build_response (GString *out, const char *request, gsize request_len, int status,
                          const char *reason, const char *to_tag, const char *extra,
                          const char *content_type, const char *body)
{
  g_string_truncate (out, 0);
  g_string_append_printf (out, "SIP/2.0 %d %s\r\n", status, reason);
  BenchSipIter it;
  BenchSipHeader h;
  bench_sip_iter_init (&it, request, request_len);
  while (bench_sip_iter_next (&it, &h))
    {
      gboolean is_to = bench_sip_header_is (&h, "To", 't');
      if (!(bench_sip_header_is (&h, "Via", 'v') || bench_sip_header_is (&h, "Record-Route", 0)
            || bench_sip_header_is (&h, "From", 'f') || is_to
            || bench_sip_header_is (&h, "Call-ID", 'i') || bench_sip_header_is (&h, "CSeq", 0)))
        continue;
      g_string_append_len (out, h.name, (gssize) h.name_len);
      g_string_append (out, ": ");
      g_string_append_len (out, h.value, (gssize) h.value_len);
      if (is_to && to_tag)
        {
          g_autofree char *has = bench_sip_tag (h.value, h.value_len);
          if (!has)
            g_string_append_printf (out, ";tag=%s", to_tag);
        }
      g_string_append (out, "\r\n");
    }
  if (extra)
    g_string_append (out, extra);
  gsize blen = body ? strlen (body) : 0;
  if (body)
    g_string_append_printf (out, "Content-Type: %s\r\n", content_type);
  g_string_append_printf (out, "Content-Length: %zu\r\n\r\n", blen);
  if (body)
    g_string_append (out, body);
}

void
bench_sip_route_set (GString *out, const char *response, gsize len)
{
  g_string_truncate (out, 0);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  BenchSipIter it;
  BenchSipHeader h;
  bench_sip_iter_init (&it, response, len);
  while (bench_sip_iter_next (&it, &h))
    {
      if (!bench_sip_header_is (&h, "Record-Route", 0))
        continue;
      /* Split on commas outside <...>. */
      const char *start = h.value;
      int depth = 0;
      for (const char *p = h.value; p <= h.value + h.value_len; p++)
        {
          gboolean at_end = p == h.value + h.value_len;
          if (!at_end && *p == '<')
            depth++;
          else if (!at_end && *p == '>')
            depth--;
          if (at_end || (*p == ',' && depth == 0))
            {
              g_autofree char *v = g_strstrip (g_strndup (start, (gsize) (p - start)));
              if (*v)
                g_ptr_array_add (values, g_steal_pointer (&v));
              start = p + 1;
            }
        }
    }
  for (guint i = values->len; i > 0; i--)
    g_string_append_printf (out, "Route: %s\r\n", (const char *) values->pdata[i - 1]);
}

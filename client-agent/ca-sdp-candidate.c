/* ca-sdp-candidate: RFC 8839 §5.1 candidate attributes, read and written as pure functions.
 * Like libjuice, a line that breaks the grammar is "invalid" (the SDP is bad) while a well
 * formed line we cannot use is "ignored" (dropped and counted). */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "ca-sdp.h"

static const char *const transport_names[] = { "udp", "tcp" };
static const char *const tcptype_names[] = { "", "active", "passive", "so" };
static const char *const type_names[] = { "host", "srflx", "prflx", "relay" };

const char *
ca_sdp_transport_to_string (CaSdpTransport t)
{
  return t < CA_SDP_TRANSPORT_LAST ? transport_names[t] : "?";
}

const char *
ca_sdp_tcptype_to_string (CaSdpTcpType t)
{
  return t < CA_SDP_TCPTYPE_LAST ? tcptype_names[t] : "?";
}

const char *
ca_sdp_candidate_type_to_string (CaSdpCandidateType t)
{
  return t < CA_SDP_CANDIDATE_LAST ? type_names[t] : "?";
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1) */
static gboolean
is_ice_chars (const char *s, gsize min, gsize max)
{
  gsize n = 0;

  for (; s[n] != '\0'; n++)
    if (!g_ascii_isalnum (s[n]) && s[n] != '+' && s[n] != '/')
      return FALSE;
  return n >= min && n <= max;
}

static gboolean
is_digits (const char *s, gsize max)
{
  gsize n = 0;

  for (; s[n] != '\0'; n++)
    if (!g_ascii_isdigit (s[n]))
      return FALSE;
  return n >= 1 && n <= max;
}

/* A numeric address into @out (normalised by inet_ntop). 1 numeric, 0 a host name (RFC 8839
 * allows an FQDN; browsers send mDNS names we do not resolve), -1 neither. */
static int
read_address (const char *s, char out[CA_SDP_ADDR_LEN])
{
  guint8 buf[16];

  if (inet_pton (AF_INET, s, buf) == 1)
    return inet_ntop (AF_INET, buf, out, CA_SDP_ADDR_LEN) != NULL ? 1 : -1;
  if (inet_pton (AF_INET6, s, buf) == 1)
    return inet_ntop (AF_INET6, buf, out, CA_SDP_ADDR_LEN) != NULL ? 1 : -1;
  if (*s == '\0' || strlen (s) > 253)
    return -1;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return -1;
  return 0;
}

static gboolean
read_port (const char *s, guint16 *out)
{
  guint64 v;

  if (!is_digits (s, 5))
    return FALSE;
  v = g_ascii_strtoull (s, NULL, 10);
  if (v > 65535)
    return FALSE;
  *out = (guint16) v;
  return TRUE;
}

static int
find_name (const char *s, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (g_ascii_strcasecmp (s, names[i]) == 0)
      return i;
  return -1;
}

#define INVALID(...) \
  (g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_BAD_CANDIDATE, __VA_ARGS__), FALSE)
#define IGNORED(...) \
  (g_set_error (error, CA_SDP_ERROR, CA_SDP_ERROR_CANDIDATE_IGNORED, __VA_ARGS__), FALSE)

/* Everything after "typ <type>": name/value pairs (RFC 8839 extension-att, RFC 6544 tcptype). */
static gboolean
read_extensions (char **f, guint n, CaSdpCandidate *c, gboolean *host_raddr, GError **error)
{
  gboolean have_raddr = FALSE, have_rport = FALSE;

  if (n % 2 != 0)
    return INVALID ("candidate: extension \"%s\" has no value", f[n - 1]);
  for (guint i = 0; i < n; i += 2)
    {
      const char *name = f[i], *value = f[i + 1];

      if (strcmp (name, "raddr") == 0)
        {
          int kind = read_address (value, c->raddr);

          if (kind < 0)
            return INVALID ("candidate: bad raddr \"%s\"", value);
          *host_raddr = kind == 0;
          have_raddr = TRUE;
        }
      else if (strcmp (name, "rport") == 0)
        {
          if (!read_port (value, &c->rport))
            return INVALID ("candidate: bad rport \"%s\"", value);
          have_rport = TRUE;
        }
      else if (strcmp (name, "tcptype") == 0)
        {
          int t = find_name (value, tcptype_names + 1, CA_SDP_TCPTYPE_LAST - 1);

          if (t < 0)
            return IGNORED ("candidate: unknown tcptype \"%s\"", value);
          c->tcptype = (CaSdpTcpType) (t + 1);
        }
      else if (*name == '\0' || *value == '\0')
        return INVALID ("candidate: empty extension");
      /* generation, network-id, network-cost, ufrag...: not ours, skipped */
    }
  if (have_raddr != have_rport)
    return INVALID ("candidate: raddr and rport go together");
  c->has_related = have_raddr && !*host_raddr;
  return TRUE;
}

gboolean
ca_sdp_candidate_parse (const char *text, CaSdpCandidate *out, GError **error)
{
  g_auto (GStrv) f = NULL;
  g_autofree char *copy = NULL;
  CaSdpCandidate c = { 0 };
  gboolean host_raddr = FALSE;
  guint64 v;
  int t, kind;
  guint n;

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);

  if (g_str_has_prefix (text, "a="))
    text += 2;
  if (g_ascii_strncasecmp (text, "candidate:", 10) == 0)
    text += 10;
  if (strlen (text) > 1024)
    return INVALID ("candidate: line too long");
  copy = g_strdup (text);
  g_strchomp (copy); /* CR/LF or spaces at the end */
  if (strchr (copy, '\t') != NULL || strstr (copy, "  ") != NULL || *copy == ' ')
    return INVALID ("candidate: fields are separated by single spaces");
  f = g_strsplit (copy, " ", 41);
  n = g_strv_length (f);
  if (n > 40)
    return INVALID ("candidate: more than 40 fields");
  if (n < 8 || strcmp (f[6], "typ") != 0)
    return INVALID ("candidate: expected \"foundation component transport priority address "
                    "port typ type\"");

  if (!is_ice_chars (f[0], 1, 32))
    return INVALID ("candidate: bad foundation \"%s\"", f[0]);
  g_strlcpy (c.foundation, f[0], sizeof c.foundation);

  if (!is_digits (f[1], 3))
    return INVALID ("candidate: bad component \"%s\"", f[1]);
  c.component = (guint) g_ascii_strtoull (f[1], NULL, 10);
  if (c.component < 1)
    return INVALID ("candidate: component 0");

  /* priority-digits = 1*10DIGIT: grammar. The range is RFC 8445 §5.1.2's, so out of range is
   * only "not for us". */
  if (!is_digits (f[3], 10))
    return INVALID ("candidate: bad priority \"%s\"", f[3]);
  v = g_ascii_strtoull (f[3], NULL, 10);

  if (!read_port (f[5], &c.port))
    return INVALID ("candidate: bad port \"%s\"", f[5]);
  kind = read_address (f[4], c.address);
  if (kind < 0)
    return INVALID ("candidate: bad address \"%s\"", f[4]);

  /* transport = "UDP" / transport-extension (a token) */
  if (*f[2] == '\0')
    return INVALID ("candidate: empty transport");
  for (const char *p = f[2]; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return INVALID ("candidate: bad transport \"%s\"", f[2]);
  if (*f[7] == '\0')
    return INVALID ("candidate: empty type");
  if (!read_extensions (f + 8, n - 8, &c, &host_raddr, error))
    return FALSE;

  t = find_name (f[2], transport_names, CA_SDP_TRANSPORT_LAST);
  if (t < 0)
    return IGNORED ("candidate: unknown transport \"%s\"", f[2]);
  c.transport = (CaSdpTransport) t;
  t = find_name (f[7], type_names, CA_SDP_CANDIDATE_LAST);
  if (t < 0)
    return IGNORED ("candidate: unknown type \"%s\"", f[7]);
  c.type = (CaSdpCandidateType) t;
  if (c.transport == CA_SDP_TRANSPORT_TCP && c.tcptype == CA_SDP_TCPTYPE_NONE)
    return IGNORED ("candidate: TCP without tcptype (RFC 6544 §4.5)");
  if (c.transport == CA_SDP_TRANSPORT_UDP)
    c.tcptype = CA_SDP_TCPTYPE_NONE;
  if (v == 0 || v > G_MAXINT32)
    return IGNORED ("candidate: priority %" G_GUINT64_FORMAT " out of range", v);
  c.priority = (guint32) v;
  if (c.component > 2)
    return IGNORED ("candidate: component %u (audio has at most 2)", c.component);
  if (kind == 0)
    return IGNORED ("candidate: host name address \"%s\" not resolved", f[4]);
  /* port 0 is only meaningful for active TCP (RFC 6544 §4.5 uses 9 there, some send 0) */
  if (c.port == 0 && c.tcptype != CA_SDP_TCPTYPE_ACTIVE)
    return IGNORED ("candidate: port 0");

  *out = c;
  return TRUE;
}

char *
ca_sdp_candidate_to_string (const CaSdpCandidate *c)
{
  GString *s;

  g_return_val_if_fail (c != NULL, NULL);
  g_return_val_if_fail (c->transport < CA_SDP_TRANSPORT_LAST, NULL);
  g_return_val_if_fail (c->type < CA_SDP_CANDIDATE_LAST, NULL);

  s = g_string_new (NULL);
  g_string_append_printf (s, "%s %u %s %u %s %u typ %s", c->foundation, c->component,
                          transport_names[c->transport], c->priority, c->address, c->port,
                          type_names[c->type]);
  if (c->has_related)
    g_string_append_printf (s, " raddr %s rport %u", c->raddr, c->rport);
  if (c->transport == CA_SDP_TRANSPORT_TCP && c->tcptype > CA_SDP_TCPTYPE_NONE
      && c->tcptype < CA_SDP_TCPTYPE_LAST)
    g_string_append_printf (s, " tcptype %s", tcptype_names[c->tcptype]);
  return g_string_free (s, FALSE);
}

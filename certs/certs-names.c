/* certs-names: DNS names for certificates, checked as RFC 1123 host names (section 2.1)
 * with the wildcard rule of RFC 6125 section 6.4.3 (the whole left-most label only). */
#include "config.h"

#include "certs-names.h"

#include <string.h>

#include "sotto-certs.h"

#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63

static gboolean
set_name_error (GError **error, const char *name, const char *why)
{
  g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_NAME,
               "“%s” is not a valid DNS name: %s", name, why);
  return FALSE;
}

static gboolean
looks_like_ip (const char *name)
{
  g_autofree char *inner = NULL;
  gsize len = strlen (name);

  if (g_hostname_is_ip_address (name))
    return TRUE;
  /* "[::1]", as written in URIs */
  if (len > 2 && name[0] == '[' && name[len - 1] == ']')
    {
      inner = g_strndup (name + 1, len - 2);
      return g_hostname_is_ip_address (inner);
    }
  return FALSE;
}

static gboolean
check_label (const char *name, const char *label, gsize len, GError **error)
{
  if (len == 0)
    return set_name_error (error, name, "it has an empty label (two dots in a row, or a leading dot)");
  if (len > LABEL_MAX_LEN)
    return set_name_error (error, name, "a label is longer than 63 characters");
  if (label[0] == '-' || label[len - 1] == '-')
    return set_name_error (error, name, "a label starts or ends with a hyphen");
  for (gsize i = 0; i < len; i++)
    {
      char c = label[i];
      if (c == '*')
        return set_name_error (error, name,
                               "a wildcard is allowed only as the whole first label (*.example.org)");
      if (!g_ascii_isalnum (c) && c != '-')
        return set_name_error (error, name,
                               "only letters, digits, hyphens and dots are allowed");
    }
  return TRUE;
}

char *
sotto_certs_name_normalize (const char *name, GError **error)
{
  g_autofree char *lower = NULL;
  const char *p, *host;
  gsize len, labels = 0;
  gboolean all_digits = TRUE;

  g_return_val_if_fail (name != NULL, NULL);

  if (*name == '\0')
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_NAME, "an empty name was given");
      return NULL;
    }
  if (looks_like_ip (name))
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_INVALID_NAME,
                   "“%s” is an IP address. The SIP server (Sofia-SIP) checks certificates by DNS "
                   "name only and ignores IP addresses in them, so no client could verify such a "
                   "certificate. Give a DNS name instead (for example localhost, or a name that "
                   "resolves to this address through DNS or /etc/hosts)",
                   name);
      return NULL;
    }
  for (p = name; *p; p++)
    if ((guchar) *p >= 0x80)
      {
        set_name_error (error, name,
                        "it has non-ASCII characters; give an internationalised name in its "
                        "ASCII form (xn--...)");
        return NULL;
      }

  lower = g_ascii_strdown (name, -1);
  len = strlen (lower);
  if (lower[len - 1] == '.') /* a fully qualified "example.org." means "example.org" */
    lower[--len] = '\0';
  if (len == 0)
    {
      set_name_error (error, name, "it is only a dot");
      return NULL;
    }
  if (len > NAME_MAX_LEN)
    {
      set_name_error (error, name, "it is longer than 253 characters");
      return NULL;
    }

  host = lower;
  if (g_str_has_prefix (lower, "*."))
    host = lower + 2;

  for (p = host;;)
    {
      const char *dot = strchr (p, '.');
      gsize label_len = dot ? (gsize) (dot - p) : strlen (p);

      if (!check_label (name, p, label_len, error))
        return NULL;
      labels++;
      if (dot == NULL)
        {
          all_digits = TRUE;
          for (gsize i = 0; i < label_len; i++)
            if (!g_ascii_isdigit (p[i]))
              all_digits = FALSE;
          break;
        }
      p = dot + 1;
    }

  if (all_digits)
    {
      set_name_error (error, name, "its last label is all digits, which is how IP addresses look");
      return NULL;
    }
  /* TLS clients (OpenSSL's X509_check_host among them) refuse to match "*.org". */
  if (host != lower && labels < 2)
    {
      set_name_error (error, name,
                      "a wildcard needs at least two labels after it (*.example.org)");
      return NULL;
    }
  return g_steal_pointer (&lower);
}

GPtrArray *
sotto_certs_names_normalize (const char *const *names, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; names != NULL && names[i] != NULL; i++)
    {
      char *name = sotto_certs_name_normalize (names[i], error);
      gboolean seen = FALSE;

      if (name == NULL)
        return NULL;
      for (guint j = 0; j < out->len && !seen; j++)
        seen = strcmp (out->pdata[j], name) == 0;
      if (seen)
        g_free (name);
      else
        g_ptr_array_add (out, name);
    }
  if (out->len == 0)
    {
      g_set_error (error, SOTTO_CERTS_ERROR, SOTTO_CERTS_ERROR_USAGE,
                   "at least one --name is needed");
      return NULL;
    }
  return g_steal_pointer (&out);
}

static gboolean
contains_all (GPtrArray *haystack, GPtrArray *needles)
{
  for (guint i = 0; i < needles->len; i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < haystack->len && !found; j++)
        found = g_ascii_strcasecmp (needles->pdata[i], haystack->pdata[j]) == 0;
      if (!found)
        return FALSE;
    }
  return TRUE;
}

gboolean
sotto_certs_names_equal (GPtrArray *a, GPtrArray *b)
{
  return contains_all (a, b) && contains_all (b, a);
}

char *
sotto_certs_names_join (GPtrArray *names)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, "%s%s", i ? ", " : "", (const char *) names->pdata[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

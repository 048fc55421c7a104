/* sig-mclass: sotto-signald's SIP message class (see sig-mclass.h).
 *
 * nta parses every header of every request before sotto-signald sees it. For the credentials
 * headers, Sofia's msg_auth_d() splits the value into "name=value" items (msg_commalist_d), which
 * sig-auth then had to join back, because sig-digest parses RFC 7616 credentials itself. Here the
 * two classes are copies of Sofia's with another decoder; everything else (size, encoder, copy,
 * name, offset in sip_t) is Sofia's, so sip->sip_authorization keeps its type. */
#include "config.h"

#include "sig-mclass.h"

#include "sig-digest.h"

#include <stdlib.h>

#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_alloc.h>

static gboolean
is_lws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

issize_t
sig_mclass_auth_d (su_home_t *home, msg_header_t *h, char *s, isize_t slen)
{
  msg_auth_t *au = (msg_auth_t *) h;
  char *end = s + slen;
  /* An auth-scheme is a token (RFC 7235 §2.1). */
  size_t scheme_len = sig_digest_token_len (s);
  msg_param_t *items;

  if (scheme_len == 0 || s + scheme_len >= end || !is_lws (s[scheme_len]))
    return -1;
  au->au_scheme = s;
  s += scheme_len;
  *s++ = '\0';
  while (s < end && is_lws (*s))
    s++;
  if (s >= end)
    return -1;
  items = su_alloc (home, 2 * sizeof *items);
  if (items == NULL)
    return -1;
  items[0] = s;
  items[1] = NULL;
  au->au_params = items;
  return 0;
}

/* Points the hash entry of Sofia's class @stock in @mc at @ours, a copy of it with our
 * decoder. The entry keeps its offset, so nta and sig-auth find the header where they always
 * did. */
static gboolean
replace_class (msg_mclass_t *mc, msg_hclass_t *stock, msg_hclass_t *ours)
{
  for (int i = 0; i < mc->mc_hash_size; i++)
    if (mc->mc_hash[i].hr_class == stock)
      {
        mc->mc_hash[i].hr_class = ours;
        return TRUE;
      }
  return FALSE;
}

msg_mclass_t *
sig_mclass_new (void)
{
  /* Every message class made here shares one pair of header classes, filled once. */
  static struct msg_hclass_s authorization[1], proxy_authorization[1];
  static gsize ready;
  msg_mclass_t *mc;

  if (g_once_init_enter (&ready))
    {
      *authorization = *sip_authorization_class;
      authorization->hc_parse = sig_mclass_auth_d;
      *proxy_authorization = *sip_proxy_authorization_class;
      proxy_authorization->hc_parse = sig_mclass_auth_d;
      g_once_init_leave (&ready, 1);
    }
  mc = msg_mclass_clone (sip_default_mclass (), 0, 0);
  if (mc == NULL)
    return NULL;
  if (!replace_class (mc, sip_authorization_class, authorization)
      || !replace_class (mc, sip_proxy_authorization_class, proxy_authorization))
    {
      free (mc);
      return NULL;
    }
  return mc;
}

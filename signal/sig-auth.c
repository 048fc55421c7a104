/* sig-auth: Digest authentication of requests (RFC 3261 §22, RFC 7616, RFC 8760).
 *
 * The pure pieces live in sig-digest (parsing, hashing), sig-nonce (freshness and replay) and
 * sig-throttle (guessing). This file joins them to a Sofia request and answers it when it
 * does not authenticate. Nothing here logs a credential, a nonce or a hash. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <string.h>

#include <sofia-sip/msg_header.h>

#include "sig-digest.h"
#include "sig-server-priv.h"

static void
challenge (SigServer *server, nta_incoming_t *irq, gboolean proxy, gboolean stale)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *nonce = sig_nonce_keeper_mint (server->nonces, now);
  const char *realm = server->config->domain;

  if (nonce == NULL)
    {
      /* Only when the random generator or HMAC fails. */
      g_warning ("cannot mint a nonce");
      nta_incoming_treply (irq, 500, "Cannot authenticate now", TAG_END ());
      return;
    }
  /* In the configured order, SHA-256 first by default: RFC 8760 §2.4 has clients pick the
   * first algorithm they support. */
  {
    const SigConfig *c = server->config;
    char *values[SIG_DIGEST_ALG_LAST] = { NULL };
    tagi_t tags[SIG_DIGEST_ALG_LAST + 1];

    for (guint i = 0; i < c->n_algorithms; i++)
      {
        values[i] = sig_digest_challenge (c->algorithms[i], realm, nonce, NULL, stale);
        tags[i].t_tag = proxy ? siptag_proxy_authenticate_str : siptag_www_authenticate_str;
        tags[i].t_value = (tag_value_t) values[i];
      }
    tags[c->n_algorithms].t_tag = NULL;
    tags[c->n_algorithms].t_value = 0;
    if (proxy)
      nta_incoming_treply (irq, SIP_407_PROXY_AUTH_REQUIRED, TAG_NEXT (tags));
    else
      nta_incoming_treply (irq, SIP_401_UNAUTHORIZED, TAG_NEXT (tags));
    for (guint i = 0; i < c->n_algorithms; i++)
      g_free (values[i]);
  }
}

/* The header's value as sent: Sofia keeps it as its scheme and one item holding the rest
 * (sig-mclass). Joined item by item, so that a header built in memory with several items reads
 * the same. */
static char *
credentials_text (const msg_auth_t *au)
{
  size_t scheme_len = strlen (au->au_scheme), len = scheme_len;
  char *text, *p;

  for (int i = 0; au->au_params && au->au_params[i]; i++)
    len += (i ? 2 : 1) + strlen (au->au_params[i]);
  p = text = g_malloc (len + 1);
  memcpy (p, au->au_scheme, scheme_len);
  p += scheme_len;
  for (int i = 0; au->au_params && au->au_params[i]; i++)
    {
      size_t n = strlen (au->au_params[i]);

      if (i)
        *p++ = ',';
      *p++ = ' ';
      memcpy (p, au->au_params[i], n);
      p += n;
    }
  *p = '\0';
  return text;
}

static gboolean
is_digest (const msg_auth_t *au)
{
  return au->au_scheme != NULL && g_ascii_strcasecmp (au->au_scheme, "Digest") == 0;
}

/* Parses @au as Digest credentials: NULL for another scheme (error unset) or unparseable
 * ones (error set). */
static SigDigestCredentials *
parse_digest (const msg_auth_t *au, GError **error)
{
  g_autofree char *text = NULL;
  SigDigestCredentials *creds = NULL;

  if (!is_digest (au))
    return NULL;
  text = credentials_text (au);
  if (!sig_digest_parse_credentials (text, &creds, error))
    return NULL;
  return creds;
}

/* The Digest credentials for our realm among @au and the headers after it. NULL with @error
 * unset when none names our realm; NULL with the first parse error when none does and some
 * header could not be parsed (so that a client that sent only broken credentials hears why). */
static SigDigestCredentials *
our_credentials (SigServer *server, const msg_auth_t *au, GError **error)
{
  g_autoptr (GError) first_error = NULL;

  for (; au; au = au->au_next)
    {
      g_autoptr (GError) parse_error = NULL;
      g_autoptr (SigDigestCredentials) creds = parse_digest (au, &parse_error);

      if (creds && strcmp (creds->realm, server->config->domain) == 0)
        return g_steal_pointer (&creds);
      if (parse_error && first_error == NULL)
        first_error = g_steal_pointer (&parse_error);
    }
  if (first_error)
    g_propagate_error (error, g_steal_pointer (&first_error));
  return NULL;
}

gboolean
sig_auth_credentials_for_us (SigServer *server, const msg_auth_t *au)
{
  g_autoptr (SigDigestCredentials) creds = parse_digest (au, NULL);

  if (creds == NULL)
    /* Unreadable Digest credentials are not handed on either; another scheme is. */
    return is_digest (au);
  return strcmp (creds->realm, server->config->domain) == 0;
}

static gboolean
throttled (SigServer *server, nta_incoming_t *irq, const char *addr_key, const char *user_key)
{
  gint64 now_ms = g_get_monotonic_time () / 1000;
  gint64 wait = MAX (sig_throttle_wait_ms (server->throttle, addr_key, now_ms),
                     user_key ? sig_throttle_wait_ms (server->throttle, user_key, now_ms) : 0);
  g_autofree char *retry = NULL;

  if (wait <= 0)
    return FALSE;
  retry = g_strdup_printf ("%" G_GINT64_FORMAT, (wait + 999) / 1000);
  nta_incoming_treply (irq, 503, "Too many failed attempts", SIPTAG_RETRY_AFTER_STR (retry),
                       TAG_END ());
  return TRUE;
}

/* TRUE when @uri is the Request-URI exactly as the request line carried it
 * ("METHOD SP Request-URI SP SIP-Version", kept by Sofia as the line's text). */
static gboolean
is_request_uri_text (const sip_t *sip, const char *uri)
{
  const msg_common_t *line = sip->sip_request->rq_common;
  const char *sp, *end;
  size_t len = strlen (uri);

  if (line->h_data == NULL || len == 0)
    return FALSE;
  end = (const char *) line->h_data + line->h_len;
  sp = memchr (line->h_data, ' ', line->h_len);
  return sp != NULL && (size_t) (end - sp) > len + 1 && memcmp (sp + 1, uri, len) == 0
         && sp[1 + len] == ' ';
}

static void
note_failure (SigServer *server, const char *addr_key, const char *user_key)
{
  gint64 now_ms = g_get_monotonic_time () / 1000;

  sig_throttle_failure (server->throttle, addr_key, now_ms);
  sig_throttle_failure (server->throttle, user_key, now_ms);
}

gboolean
sig_auth_check (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow,
                gboolean proxy, char **user)
{
  const msg_auth_t *au = proxy ? sip->sip_proxy_authorization : sip->sip_authorization;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *addr_key = g_strconcat ("addr:", flow ? flow->addr : "-", NULL);
  g_autofree char *user_key = NULL;
  g_autoptr (SigDigestCredentials) creds = NULL;
  g_autoptr (SigAccount) account = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri_text = NULL;
  url_t cred_url[1];
  const char *ha1;
  SigNonceVerdict verdict;
  int uri_differs;

  creds = our_credentials (server, au, &error);
  if (creds == NULL && error == NULL)
    {
      if (!throttled (server, irq, addr_key, NULL))
        challenge (server, irq, proxy, FALSE);
      return FALSE;
    }
  if (creds == NULL)
    {
      if (g_error_matches (error, SIG_DIGEST_ERROR, SIG_DIGEST_ERROR_UNSUPPORTED))
        challenge (server, irq, proxy, FALSE);
      else
        nta_incoming_treply (irq, 400, "Malformed credentials", TAG_END ());
      g_info ("refused credentials from %s: %s", flow ? flow->peer : "?", error->message);
      return FALSE;
    }

  /* An algorithm the administrator took off the list (MD5, say) is not accepted either:
   * answer with the challenges we do offer. */
  {
    gboolean offered = FALSE;

    for (guint i = 0; i < server->config->n_algorithms; i++)
      offered |= server->config->algorithms[i] == creds->alg;
    if (!offered)
      {
        g_info ("refused %s credentials from %s: not offered here",
                sig_digest_alg_to_string (creds->alg), flow ? flow->peer : "?");
        challenge (server, irq, proxy, FALSE);
        return FALSE;
      }
  }

  user_key = g_strconcat ("user:", creds->username, NULL);
  if (throttled (server, irq, addr_key, user_key))
    return FALSE;

  verdict = sig_nonce_keeper_check (server->nonces, creds->nonce, now);
  if (verdict != SIG_NONCE_VALID)
    {
      challenge (server, irq, proxy, verdict == SIG_NONCE_STALE);
      return FALSE;
    }

  /* The digest covers the uri parameter, which must name this request (RFC 7616 §3.4.6).
   * Clients copy the Request-URI as they sent it, and the same text names the same URI;
   * otherwise both are parsed and compared as URIs. url_d parses in place: a copy, since the
   * digest covers the uri as sent. */
  if (is_request_uri_text (sip, creds->uri))
    uri_differs = FALSE;
  else
    {
      uri_text = g_strdup (creds->uri);
      uri_differs = url_d (cred_url, uri_text) < 0
                    || url_cmp (cred_url, sip->sip_request->rq_url) != 0;
    }
  if (uri_differs)
    {
      nta_incoming_treply (irq, 400, "Credentials do not match the Request-URI", TAG_END ());
      return FALSE;
    }

  if (!sig_accounts_lookup (server->accounts, creds->username, &account, &error))
    {
      g_warning ("account lookup failed: %s", error->message);
      nta_incoming_treply (irq, 500, "Account store unavailable", TAG_END ());
      return FALSE;
    }
  ha1 = account == NULL ? NULL
        : creds->alg == SIG_DIGEST_ALG_SHA256 ? account->ha1_sha256 : account->ha1_md5;
  if (ha1 == NULL || g_strcmp0 (account->realm, server->config->domain) != 0
      || !sig_digest_verify (creds, sip->sip_request->rq_method_name, ha1))
    {
      note_failure (server, addr_key, user_key);
      g_info ("authentication failed for a user from %s", flow ? flow->peer : "?");
      nta_incoming_treply (irq, 403, "Wrong user name or password", TAG_END ());
      return FALSE;
    }
  if (!account->enabled)
    {
      nta_incoming_treply (irq, 403, "Account disabled", TAG_END ());
      return FALSE;
    }

  verdict = sig_nonce_keeper_use (server->nonces, creds->nonce, creds->nc, now);
  if (verdict == SIG_NONCE_REPLAY)
    {
      g_warning ("replayed credentials for %s from %s", creds->username,
                 flow ? flow->peer : "?");
      nta_incoming_treply (irq, 403, "Replayed credentials", TAG_END ());
      return FALSE;
    }
  if (verdict != SIG_NONCE_VALID)
    {
      challenge (server, irq, proxy, TRUE);
      return FALSE;
    }

  /* Only the user's own counter clears: a guesser with one valid account must not be able to
   * reset its address's counter between guesses at other accounts. */
  sig_throttle_success (server->throttle, user_key);
  sig_flows_authenticated (flow);
  *user = g_strdup (creds->username);
  return TRUE;
}

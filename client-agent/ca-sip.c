/* ca-sip: the nua stack over TLS, its certificate folder, and the event dispatch.
 *
 * Sofia's TLS transport needs a folder with agent.pem (key and chain) and cafile.pem even for
 * a client, and a client must still have a sips: primary transport. Its outgoing connections
 * are bound to the primary's address, so a primary on 127.0.0.1 could only ever reach a server
 * on loopback: we bind 0.0.0.0 on a port the kernel picks. Nothing needs to connect to it,
 * since the server sends every request back over the connection we opened (RFC 5626 flows),
 * so that socket is sealed while nua_create() runs (ca-sip-listen.c): a socket filter drops
 * every packet sent to it, and no connection to it can ever complete. agent.pem is a throwaway self-signed certificate
 * made here; the server never asks for it. The server's certificate is verified against the pinned CA and by the DNS name of
 * the registrar (TPTLS_VERIFY_SUBJECTS_OUT: Sofia matches DNS SANs and the CN, not IP SANs). */
#define G_LOG_DOMAIN "sotto-agent"
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>

#include "ca-sip-priv.h"
#include "sotto-tls.h"
#include "sotto-util.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SHUTDOWN_WAIT_MS 3000
#define UNREGISTER_WAIT_MS 2000

G_DEFINE_QUARK (ca-sip-error-quark, ca_sip_error)

const char *
ca_sip_reg_state_to_string (CaSipRegState state)
{
  static const char *const names[] = { "idle", "registering", "registered", "failed",
                                       "retrying" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == CA_SIP_REG_LAST);
  return state < CA_SIP_REG_LAST ? names[state] : "?";
}

const char *
ca_sip_call_state_to_string (CaSipCallState state)
{
  static const char *const names[] = { "calling", "ringing", "incoming", "connected", "ended" };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == CA_SIP_CALL_LAST);
  return state < CA_SIP_CALL_LAST ? names[state] : "?";
}

gboolean
ca_sip_set_error_arg (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, CA_SIP_ERROR, CA_SIP_ERROR_ARGUMENT, msg);
  return FALSE;
}

guint
ca_sip_timeout_add (CaSip *sip, guint ms, GSourceFunc func, gpointer data)
{
  GSource *source = g_timeout_source_new (ms);
  guint id;

  g_source_set_callback (source, func, data, NULL);
  id = g_source_attach (source, sip->context);
  g_source_unref (source);
  return id;
}

void
ca_sip_timeout_clear (CaSip *sip, guint *id)
{
  GSource *source;

  if (*id == 0)
    return;
  source = g_main_context_find_source_by_id (sip->context, *id);
  if (source)
    g_source_destroy (source);
  *id = 0;
}

/* "Digest:"realm":user:password" for nua_authenticate, only for a challenge from our own
 * realm: the password is never offered to anyone else (a callee, a stray proxy). NULL when
 * the challenge is not ours. The caller wipes the result. */
char *
ca_sip_credentials (CaSip *sip, const sip_t *challenge)
{
  const msg_auth_t *au = challenge->sip_www_authenticate ? challenge->sip_www_authenticate
                                                         : challenge->sip_proxy_authenticate;

  for (; au; au = au->au_next)
    {
      const char *realm = msg_header_find_param (au->au_common, "realm=");
      g_autofree char *unq = NULL;

      if (realm == NULL || au->au_scheme == NULL
          || g_ascii_strcasecmp (au->au_scheme, "Digest") != 0)
        continue;
      unq = realm[0] == '"' ? g_strndup (realm + 1, MAX (strlen (realm), 2) - 2)
                            : g_strdup (realm);
      if (g_ascii_strcasecmp (unq, sip->domain) == 0)
        return g_strdup_printf ("Digest:\"%s\":%s:%s", unq, sip->username, sip->password);
    }
  return NULL;
}

/* ---- the TLS folder ---------------------------------------------------------------------- */

static gboolean
write_agent_pem (const char *path, GError **error)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509) x509 = X509_new ();
  g_autoptr (BIO) mem = BIO_new (BIO_s_mem ());
  X509_NAME *name;
  char *data = NULL;
  long len;
  gboolean ok;

  if (key == NULL || x509 == NULL || mem == NULL)
    return sotto_tls_set_error (error, "making the TLS client key");
  name = X509_get_subject_name (x509);
  if (!X509_set_version (x509, 2)
      || !ASN1_INTEGER_set_int64 (X509_get_serialNumber (x509), g_get_real_time ())
      || !X509_gmtime_adj (X509_getm_notBefore (x509), -3600)
      || !X509_gmtime_adj (X509_getm_notAfter (x509), 365L * 24 * 3600)
      || !X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                      (const unsigned char *) "sotto-agent", -1, -1, 0)
      || !X509_set_issuer_name (x509, name) || !X509_set_pubkey (x509, key)
      || !X509_sign (x509, key, EVP_sha256 ())
      || !PEM_write_bio_PrivateKey (mem, key, NULL, NULL, 0, NULL, NULL)
      || !PEM_write_bio_X509 (mem, x509))
    return sotto_tls_set_error (error, "making the TLS client certificate");
  len = BIO_get_mem_data (mem, &data);
  ok = sotto_util_write_file_atomic (path, data, (gsize) len, 0600, error);
  OPENSSL_cleanse (data, (size_t) len);
  return ok;
}

/* Copies the CA(s) to trust into cafile.pem, after checking there is at least one. */
static gboolean
write_cafile (const char *ca_file, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (BIO) mem = NULL;
  g_autoptr (X509) first = NULL;
  gsize len = 0;

  if (!g_file_get_contents (ca_file, &text, &len, error))
    return FALSE;
  mem = BIO_new_mem_buf (text, (int) MIN (len, (gsize) G_MAXINT));
  first = mem ? PEM_read_bio_X509 (mem, NULL, NULL, NULL) : NULL;
  if (first == NULL)
    {
      g_set_error (error, CA_SIP_ERROR, CA_SIP_ERROR_SETUP, "%s holds no PEM certificate",
                   ca_file);
      return FALSE;
    }
  return sotto_util_write_file_atomic (path, text, len, 0644, error);
}

static gboolean
prepare_cert_dir (CaSip *sip, const char *ca_file, GError **error)
{
  g_autofree char *agent = g_build_filename (sip->cert_dir, "agent.pem", NULL);
  g_autofree char *cafile = g_build_filename (sip->cert_dir, "cafile.pem", NULL);
  g_autoptr (GError) local = NULL;

  if (g_mkdir_with_parents (sip->cert_dir, 0700) < 0)
    {
      g_set_error (error, CA_SIP_ERROR, CA_SIP_ERROR_SETUP, "cannot create %s", sip->cert_dir);
      return FALSE;
    }
  if (!write_agent_pem (agent, &local) || !write_cafile (ca_file, cafile, &local))
    {
      g_set_error (error, CA_SIP_ERROR, CA_SIP_ERROR_SETUP, "TLS files in %s: %s",
                   sip->cert_dir, local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- events -------------------------------------------------------------------------------- */

static void
sofia_logger (void *stream, char const *fmt, va_list ap)
{
  g_autofree char *text = g_strdup_vprintf (fmt, ap);

  g_strchomp (text);
  if (*text)
    g_debug ("sofia: %s", text);
}

static void
nua_event (nua_event_t event, int status, char const *phrase, nua_t *nua, CaSip *sip,
           nua_handle_t *nh, CaSipCall *call, sip_t const *msg, tagi_t tags[])
{
  switch (event)
    {
    case nua_r_shutdown:
      if (status >= 200)
        sip->shutdown_done = TRUE;
      return;
    case nua_r_register:
    case nua_r_unregister:
    case nua_r_options:
    case nua_r_authenticate:
      if (call == NULL && nh != NULL && (nh == sip->reg_nh || nh == sip->ping_nh))
        {
          ca_sip_reg_event (sip, event, status, phrase, nh, msg);
          return;
        }
      break;
    case nua_i_outbound:
      g_debug ("outbound: %d %s", status, phrase);
      return;
    default:
      break;
    }

  if (call != NULL || event == nua_i_invite)
    {
      ca_sip_call_event (sip, event, status, phrase, nh, call, msg, tags);
      return;
    }
  /* A request nua answered by itself (OPTIONS, MESSAGE...) left a handle nobody owns. */
  if (nh != NULL && nh != sip->reg_nh && nh != sip->ping_nh && event < nua_r_set_params)
    nua_handle_destroy (nh);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static gboolean
wake_up (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the context until *@flag is set or @ms pass. Only for free, where the caller must
 * wait for nua to finish. */
static void
wait_for (CaSip *sip, const gboolean *flag, guint ms)
{
  gboolean expired = FALSE;
  GSource *timeout = g_timeout_source_new (ms);

  g_source_set_callback (timeout, wake_up, &expired, NULL);
  g_source_attach (timeout, sip->context);
  while (!*flag && !expired)
    g_main_context_iteration (sip->context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

static gboolean
parse_aor (CaSip *sip, const char *aor, GError **error)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  url_t *url = url_hdup (home, (url_t *) url_make (home, aor));
  gboolean ok = url != NULL && url->url_type == url_sips && url->url_user && url->url_host
                && *url->url_user && *url->url_host;

  if (ok)
    {
      sip->domain = g_ascii_strdown (url->url_host, -1);
      if (sip->username == NULL)
        sip->username = g_strdup (url->url_user);
    }
  su_home_deinit (home);
  if (!ok)
    return ca_sip_set_error_arg (error, "the address '%s' is not a sips:user@domain URI", aor);
  return TRUE;
}

static gboolean
check_registrar (const char *registrar, GError **error)
{
  su_home_t home[1] = { SU_HOME_INIT (home) };
  url_t *url = url_hdup (home, (url_t *) url_make (home, registrar));
  gboolean ok = url != NULL && url->url_type == url_sips && url->url_host && !url->url_user;
  gboolean named = ok && sotto_util_is_dns_name (url->url_host);

  su_home_deinit (home);
  if (!ok)
    return ca_sip_set_error_arg (error, "the registrar '%s' is not a sips:host[:port] URI",
                                 registrar);
  /* Sofia checks the certificate against DNS names only. */
  if (!named)
    return ca_sip_set_error_arg (error,
                                 "the registrar '%s' must be named by the DNS name in its "
                                 "certificate, not an address",
                                 registrar);
  return TRUE;
}

static char *
fresh_instance_id (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strconcat ("urn:uuid:", uuid, NULL);
}

/* How long a CRLF ping may go unanswered (RFC 5626 §4.4.1 suggests 10 s). */
#define PONG_TIMEOUT_MS 10000

CaSip *
ca_sip_new (const CaSipConfig *config, GError **error)
{
  g_autoptr (CaSip) sip = NULL;
  g_autofree char *from = NULL, *domain_uri = NULL, *expires = NULL;
  g_autofree char *ua = g_strdup_printf ("sotto-agentd/%s", PACKAGE_VERSION);

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->aor != NULL && config->registrar != NULL, NULL);
  g_return_val_if_fail (config->password != NULL && config->state_dir != NULL, NULL);

  sip = g_new0 (CaSip, 1);
  sip->context = g_main_context_ref (config->context ? config->context
                                                     : g_main_context_default ());
  sip->calls = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                      (GDestroyNotify) ca_sip_call_free);
  sip->next_call_id = 1;
  sip->aor = g_strdup (config->aor);
  sip->registrar = g_strdup (config->registrar);
  sip->username = g_strdup (config->username);
  sip->password = g_strdup (config->password);
  sip->state_dir = g_strdup (config->state_dir);
  sip->cert_dir = g_strdup (config->state_dir);
  sip->instance_id = config->instance_id ? g_strdup (config->instance_id) : fresh_instance_id ();
  sip->expires_s = config->expires_s ? config->expires_s : 600;
  sip->keepalive_s = config->keepalive_s ? config->keepalive_s : 30;
  sip->reg_changed = config->reg_changed;
  sip->turn_received = config->turn_received;
  sip->call_changed = config->call_changed;
  sip->reoffer_changed = config->reoffer_changed;
  sip->user_data = config->user_data;

  if (!parse_aor (sip, config->aor, error) || !check_registrar (config->registrar, error))
    return NULL;
  /* Sofia's credential string is "scheme:realm:user:password", split at ':'. */
  if (strchr (sip->username, ':') || strchr (sip->password, ':'))
    {
      ca_sip_set_error_arg (error, "a user name or password with ':' cannot be used with "
                                   "Sofia-SIP's Digest client");
      return NULL;
    }
  if (!g_str_has_prefix (sip->instance_id, "urn:"))
    {
      ca_sip_set_error_arg (error, "the instance id must be a URN (RFC 5626 §4.1)");
      return NULL;
    }

  /* TLS >= 1.2 for the context Sofia is about to make (it has no tag for it). */
  if (!sotto_tls_apply_policy (error) || !prepare_cert_dir (sip, config->ca_file
                                                                     ? config->ca_file
                                                                     : SYSTEM_CA_BUNDLE,
                                                            error))
    return NULL;

  su_log_redirect (su_log_default, sofia_logger, NULL);
  sip->root = su_glib_root_create (NULL);
  if (sip->root == NULL)
    {
      g_set_error (error, CA_SIP_ERROR, CA_SIP_ERROR_SETUP, "cannot create the Sofia root");
      return NULL;
    }
  g_source_attach (su_glib_root_gsource (sip->root), sip->context);
  /* nua would otherwise run its stack in a thread of its own: keep it on our loop. */
  su_root_threading (sip->root, 0);

  from = g_strdup_printf ("<%s>", sip->aor);
  domain_uri = g_strdup_printf ("sips:%s", sip->domain);
  expires = g_strdup_printf ("%u", sip->expires_s);
  ca_sip_hold_listen (TRUE);
  sip->nua = nua_create (
      sip->root, nua_event, sip,
      NUTAG_URL ("sips:0.0.0.0:0"),
      TPTAG_CERTIFICATE (sip->cert_dir),
      TPTAG_TLS_VERIFY_POLICY (TPTLS_VERIFY_SUBJECTS_OUT), TPTAG_TLS_VERIFY_DATE (1),
      TPTAG_TLS_VERIFY_DEPTH (4),
      /* Every request leaves through the registrar (no Route header: it refuses those
       * out of dialog), over the connection the registration opened. */
      NUTAG_PROXY (sip->registrar), NUTAG_REGISTRAR (domain_uri),
      SIPTAG_FROM_STR (from),
      NUTAG_M_USERNAME (sip->username),
      /* RFC 5626: +sip.instance and reg-id=1; no NAT games, no OPTIONS to ourselves. */
      NUTAG_INSTANCE (sip->instance_id),
      NUTAG_OUTBOUND ("outbound no-natify no-validate no-options-keepalive"),
      NUTAG_KEEPALIVE (0),
      /* RFC 5626 §4.4.1 CRLF keepalives on our TLS flow (our Sofia-SIP, patch 9005): they keep
       * the NAT binding open, and a ping left unanswered closes the flow as an error, which
       * makes nua register again. */
      TPTAG_KEEPALIVE (sip->keepalive_s * 1000), TPTAG_PINGPONG (PONG_TIMEOUT_MS),
      SIPTAG_EXPIRES_STR (expires),
      /* Bodies are opaque here: no offer/answer engine. */
      NUTAG_MEDIA_ENABLE (0), NUTAG_AUTOALERT (0), NUTAG_AUTOANSWER (0),
      NUTAG_ENABLEINVITE (1),
      SIPTAG_ALLOW_STR ("INVITE, ACK, BYE, CANCEL, OPTIONS"),
      SIPTAG_USER_AGENT_STR (ua),
      TAG_END ());
  ca_sip_hold_listen (FALSE);
  if (sip->nua == NULL)
    {
      g_set_error (error, CA_SIP_ERROR, CA_SIP_ERROR_SETUP,
                   "cannot start Sofia-SIP on sips:0.0.0.0 with the TLS files in %s",
                   sip->cert_dir);
      return NULL;
    }
  return g_steal_pointer (&sip);
}

void
ca_sip_free (CaSip *sip)
{
  if (sip == NULL)
    return;
  if (sip->nua)
    {
      ca_sip_calls_end_all (sip, 0, "the agent is shutting down", FALSE);
      ca_sip_reg_stop (sip);
      if (sip->unregistering)
        wait_for (sip, &sip->unregister_done, UNREGISTER_WAIT_MS);
      ca_sip_reg_release (sip);
      nua_shutdown (sip->nua);
      wait_for (sip, &sip->shutdown_done, SHUTDOWN_WAIT_MS);
      if (!sip->shutdown_done)
        g_warning ("Sofia-SIP did not shut down within %u ms", SHUTDOWN_WAIT_MS);
      nua_destroy (sip->nua);
    }
  g_hash_table_destroy (sip->calls);
  if (sip->root)
    su_root_destroy (sip->root);
  if (sip->context)
    g_main_context_unref (sip->context);
  g_free (sip->aor);
  g_free (sip->domain);
  g_free (sip->registrar);
  g_free (sip->username);
  if (sip->password)
    OPENSSL_cleanse (sip->password, strlen (sip->password));
  g_free (sip->password);
  g_free (sip->state_dir);
  g_free (sip->cert_dir);
  g_free (sip->instance_id);
  g_free (sip);
}

/* sig-server: sotto-signald's agent. It binds the TLS listeners, owns the shared state and
 * dispatches each request to the registrar or the proxy. */
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sofia-sip/msg_header.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/hostdomain.h>
#include <sofia-sip/url.h>

#include "sig-mclass.h"
#include "sig-server-priv.h"
#include "sotto-tls.h"
#include "sotto-util.h"

#define INSTALL_KEY_FILE "install.key"
#define NONCE_TRACKED_MAX 65536
#define ACCOUNT_CACHE_MAX 65536

void
sig_server_reply (nta_incoming_t *irq, int status, const char *phrase)
{
  nta_incoming_treply (irq, status, phrase, TAG_END ());
}

static const char *
listen_port (SigServer *server)
{
  tport_t *tp = tport_primaries (nta_agent_tports (server->agent));
  return tp ? tport_name (tp)->tpn_port : "5061";
}

gboolean
sig_server_is_local_domain (SigServer *server, const url_t *url)
{
  if (url == NULL || url->url_host == NULL)
    return FALSE;
  if (url->url_type != url_sips && url->url_type != url_sip)
    return FALSE;
  return g_ascii_strcasecmp (url->url_host, server->config->domain) == 0;
}

/* The URI names this server: our domain, or the address of one of our listeners. */
gboolean
sig_server_is_us (SigServer *server, const url_t *url)
{
  if (url == NULL || url->url_host == NULL)
    return FALSE;
  if (url->url_user == NULL && sig_server_is_local_domain (server, url))
    return TRUE;
  for (tport_t *tp = tport_primaries (nta_agent_tports (server->agent)); tp; tp = tport_next (tp))
    {
      const tp_name_t *n = tport_name (tp);
      const char *port = url->url_port ? url->url_port : "5061";
      if (n->tpn_host && host_cmp (n->tpn_host, url->url_host) == 0
          && g_strcmp0 (n->tpn_port, port) == 0)
        return TRUE;
    }
  return FALSE;
}

static int
leg_callback (nta_leg_magic_t *magic, nta_leg_t *leg, nta_incoming_t *irq, const sip_t *sip)
{
  SigServer *server = (SigServer *) magic;
  gboolean is_ack = sip->sip_request->rq_method == sip_method_ack;
  gboolean refused = FALSE;
  SigFlow *flow;

  if (server->shutting_down)
    return is_ack ? 0 : 503;

  flow = sig_flows_get (server, irq, &refused);
  if (refused)
    {
      if (!is_ack)
        nta_incoming_treply (irq, 503, "Too many connections from your address", TAG_END ());
      sig_flows_refuse (flow);
      nta_incoming_destroy (irq);
      return 0;
    }
  if (flow == NULL && !is_ack)
    {
      /* The connection has closed under us: there is nobody to answer. */
      nta_incoming_destroy (irq);
      return 0;
    }

  if (sip->sip_request->rq_method == sip_method_register)
    sig_registrar_handle (server, irq, sip, flow);
  else
    sig_proxy_handle (server, irq, sip, flow);

  /* Requests answered above are done; a proxied one belongs to its transaction. */
  if (is_ack || nta_incoming_status (irq) >= 200)
    nta_incoming_destroy (irq);
  return 0;
}

/* Stray messages (responses to nothing, requests when stateless): drop them. */
static int
agent_callback (nta_agent_magic_t *magic, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
  nta_msg_discard (agent, msg);
  return 0;
}

static gboolean
derive_key (const guint8 *install_key, const char *label, guint8 out[SIG_INSTALL_KEY_LEN],
            GError **error)
{
  size_t len = 0;

  if (EVP_Q_mac (NULL, "HMAC", NULL, "SHA256", NULL, install_key, SIG_INSTALL_KEY_LEN,
                 (const guint8 *) label, strlen (label), out, SIG_INSTALL_KEY_LEN, &len)
          == NULL
      || len != SIG_INSTALL_KEY_LEN)
    return sotto_tls_set_error (error, "deriving keys");
  return TRUE;
}

/* The install key: 32 random bytes made on first start, kept 0600 in the state folder, so
 * nonces and Record-Route tokens stay valid across restarts. */
static gboolean
load_install_key (SigServer *server, GError **error)
{
  g_autofree char *path = g_build_filename (server->config->state_dir, INSTALL_KEY_FILE, NULL);
  guint8 key[SIG_INSTALL_KEY_LEN];
  g_autofree guint8 *data = NULL;
  gsize len = 0;
  gboolean ok;

  if (g_mkdir_with_parents (server->config->state_dir, 0700) < 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot create state folder %s",
                   server->config->state_dir);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!sotto_util_random (key, sizeof key, error)
          || !sotto_util_write_file_atomic (path, key, sizeof key, 0600, error))
        return FALSE;
      OPENSSL_cleanse (key, sizeof key);
    }
  if (!sotto_util_read_secret_file (path, &data, &len, error))
    return FALSE;
  if (len != SIG_INSTALL_KEY_LEN)
    {
      OPENSSL_cleanse (data, len);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: expected %d bytes, found %zu",
                   path, SIG_INSTALL_KEY_LEN, (size_t) len);
      return FALSE;
    }
  ok = derive_key (data, "sotto nonce key", server->nonce_key, error)
       && derive_key (data, "sotto flow token key", server->token_key, error);
  OPENSSL_cleanse (data, len);
  return ok;
}

static gboolean
check_cert_dir (const char *dir, GError **error)
{
  static const char *const files[] = { "agent.pem", "cafile.pem" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       "%s is missing (make it with: sotto-certs init --dir %s --name HOST)",
                       path, dir);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
bind_listeners (SigServer *server, GError **error)
{
  const SigConfig *config = server->config;
  GPtrArray *urls;
  tport_t *first;

  for (guint i = 0; config->listen[i]; i++)
    {
      int rc;
      if (i == 0)
        {
          server->mclass = sig_mclass_new ();
          if (server->mclass == NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
              return FALSE;
            }
          server->agent = nta_agent_create (
              server->root, URL_STRING_MAKE (config->listen[0]), agent_callback,
              (nta_agent_magic_t *) server, TPTAG_CERTIFICATE (config->cert_dir),
              TPTAG_IDLE (config->unauthenticated_timeout_s * 1000), TPTAG_SDWN_ERROR (1),
              NTATAG_MAXSIZE (config->max_message_size), NTATAG_UA (0),
              NTATAG_TIMER_C (185000), NTATAG_TLS_RPORT (1), NTATAG_MCLASS (server->mclass),
              TAG_END ());
          rc = server->agent ? 0 : -1;
        }
      else
        rc = nta_agent_add_tport (server->agent, URL_STRING_MAKE (config->listen[i]),
                                  TPTAG_CERTIFICATE (config->cert_dir),
                                  TPTAG_IDLE (config->unauthenticated_timeout_s * 1000),
                                  TPTAG_SDWN_ERROR (1), TAG_END ());
      if (rc < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "cannot listen on %s (address in use, or bad certificates in %s?)",
                       config->listen[i], config->cert_dir);
          return FALSE;
        }
    }

  server->default_leg = nta_leg_tcreate (server->agent, leg_callback, (nta_leg_magic_t *) server,
                                         NTATAG_NO_DIALOG (1), TAG_END ());
  if (server->default_leg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create the default leg");
      return FALSE;
    }

  urls = g_ptr_array_new ();
  first = tport_primaries (nta_agent_tports (server->agent));
  for (tport_t *tp = first; tp; tp = tport_next (tp))
    {
      const tp_name_t *n = tport_name (tp);
      gboolean v6 = strchr (n->tpn_host, ':') != NULL && n->tpn_host[0] != '[';

      if (g_ascii_strcasecmp (n->tpn_proto, "tls") != 0)
        {
          /* Never happens with sips: URLs; refuse to run rather than serve plaintext. */
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "refusing to run: a %s transport was bound", n->tpn_proto);
          g_ptr_array_free (urls, TRUE);
          return FALSE;
        }
      g_ptr_array_add (urls, g_strdup_printf ("sips:%s%s%s:%s", v6 ? "[" : "", n->tpn_host,
                                              v6 ? "]" : "", n->tpn_port));
    }
  g_ptr_array_add (urls, NULL);
  server->listen_urls = (char **) g_ptr_array_free (urls, FALSE);
  server->rr_host = g_strcmp0 (listen_port (server), "5061") == 0
                        ? g_strdup (config->domain)
                        : g_strdup_printf ("%s:%s", config->domain, listen_port (server));
  return TRUE;
}

/* Sofia-SIP's own log lines (TLS errors from clients, start-up chatter) go to our log at debug
 * level rather than straight to stderr. */
static void
sofia_logger (void *stream, char const *fmt, va_list ap)
{
  g_autofree char *text = g_strdup_vprintf (fmt, ap);

  g_strchomp (text);
  if (*text)
    g_debug ("sofia: %s", text);
}

SigServer *
sig_server_new (const SigConfig *config, GError **error)
{
  g_autoptr (SigServer) server = g_new0 (SigServer, 1);
  g_autofree char *db_path = sig_config_accounts_path (config);

  server->config = config;
  su_home_init (server->home);
  server->flows = sig_flows_table_new ();
  server->flows_by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  server->flows_by_peer = g_hash_table_new (g_str_hash, g_str_equal);
  server->flows_per_addr = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sig_registrar_start (server);

  if (!sotto_tls_apply_policy (error) || !load_install_key (server, error)
      || !check_cert_dir (config->cert_dir, error))
    return NULL;
  server->accounts = sig_accounts_open (db_path, 2000, error);
  if (server->accounts == NULL)
    return NULL;
  /* An account lookup per authenticated request was about an eighth of a REGISTER's CPU;
   * the cache still sees every commit at once, whoever makes it (sig-accounts-cache.h). */
  if (!sig_accounts_enable_cache (server->accounts, ACCOUNT_CACHE_MAX))
    g_info ("account cache off: %s has no readable WAL index", db_path);
  server->nonces = sig_nonce_keeper_new (server->nonce_key, sizeof server->nonce_key,
                                         config->nonce_lifetime_s, NONCE_TRACKED_MAX);
  server->throttle = sig_throttle_new (config->throttle_free_failures, 500,
                                       config->throttle_max_delay_s, 65536);

  su_log_redirect (su_log_default, sofia_logger, NULL);
  server->root = su_glib_root_create (NULL);
  if (server->root == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create the Sofia root");
      return NULL;
    }
  /* GLib blocks a source that cannot recurse while it dispatches: it takes every one of its
   * descriptors out of the poll set and puts them back afterwards, and each of those changes
   * writes the context's wakeup eventfd, so the next poll returns at once. Sofia's source
   * holds one descriptor per connection, which made that about two extra system calls per
   * request under load. Nothing in sotto-signald runs a nested main loop, so the source is
   * never dispatched recursively. */
  g_source_set_can_recurse (su_glib_root_gsource (server->root), TRUE);
  g_source_attach (su_glib_root_gsource (server->root), g_main_context_get_thread_default ());
  if (!bind_listeners (server, error))
    return NULL;
  return g_steal_pointer (&server);
}

gboolean
sig_server_set_turn (SigServer *server, const TgConfig *turn, GError **error)
{
  TgSecrets *secrets = tg_secrets_load (turn->secret_file, error);

  if (secrets == NULL)
    return FALSE;
  g_clear_pointer (&server->turn_secrets, tg_secrets_free);
  server->turn_secrets = secrets;
  server->turn = turn;
  return TRUE;
}

char **
sig_server_listen_urls (SigServer *server)
{
  return server->listen_urls;
}

void
sig_server_shutdown (SigServer *server)
{
  if (server->shutting_down)
    return;
  server->shutting_down = TRUE;
  /* One by one, even with thousands: our Sofia-SIP's GLib source (patch 9006) removes each
   * descriptor at O(1); Debian's re-registered all the others every time. */
  sig_flows_close_all (server);
}

void
sig_server_free (SigServer *server)
{
  if (server == NULL)
    return;
  server->shutting_down = TRUE;
  if (server->flows)
    sig_flows_free_all (server);
  sig_registrar_stop (server);
  if (server->default_leg)
    nta_leg_destroy (server->default_leg);
  if (server->agent)
    nta_agent_destroy (server->agent);
  g_clear_pointer (&server->mclass, free);
  if (server->root)
    su_root_destroy (server->root);
  g_clear_pointer (&server->flows, g_hash_table_unref);
  g_clear_pointer (&server->flows_by_id, g_hash_table_unref);
  g_clear_pointer (&server->flows_by_peer, g_hash_table_unref);
  g_clear_pointer (&server->flows_per_addr, g_hash_table_unref);
  g_clear_pointer (&server->nonces, sig_nonce_keeper_free);
  g_clear_pointer (&server->throttle, sig_throttle_free);
  g_clear_pointer (&server->accounts, sig_accounts_close);
  g_clear_pointer (&server->turn_secrets, tg_secrets_free);
  g_strfreev (server->listen_urls);
  g_free (server->rr_host);
  OPENSSL_cleanse (server->nonce_key, sizeof server->nonce_key);
  OPENSSL_cleanse (server->token_key, sizeof server->token_key);
  su_home_deinit (server->home);
  g_free (server);
}

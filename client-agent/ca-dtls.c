/* ca-dtls: one DTLS-SRTP endpoint per call (RFC 5763, RFC 5764) over OpenSSL memory BIOs.
 *
 * In: a memory BIO, written one datagram at a time and emptied after each, since DTLS reads a
 * whole record layer datagram per BIO_read. Out: a small BIO that queues each datagram whole
 * (a memory BIO would run them together); the queue is sent once OpenSSL has returned, so
 * the send callback may feed the peer, and the peer us, without re-entering OpenSSL. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-dtls.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>

#include "ca-demux.h"
#include "sotto-tls.h"
#include "sotto-util.h"

/* Leaves room for TURN and IPv6 headers under a 1280-byte path MTU. */
#define DTLS_MTU                  1200
#define DEFAULT_HANDSHAKE_TIMEOUT 20000
#define EXPORTER_LABEL            "EXTRACTOR-dtls_srtp" /* RFC 5764 §4.2 */
#define MAX_MATERIAL              64

G_DEFINE_QUARK (ca-dtls-error-quark, ca_dtls_error)

struct _CaDtls
{
  gint ref_count;
  CaDtlsRole role;
  CaDtlsCert *cert;
  GMainContext *context;
  guint handshake_timeout_ms;
  CaDtlsSendFunc send;
  CaDtlsStateFunc state_changed;
  gpointer user_data;
  gboolean detached;          /* after ca_dtls_close(): no more callbacks */

  SSL_CTX *ctx;
  SSL *ssl;
  BIO *in;                    /* owned by ssl */
  GQueue out;                 /* of GBytes, one datagram each */
  gboolean handshake_done;    /* SSL_do_handshake() returned 1 */
  gboolean ssl_fatal;         /* OpenSSL failed: no SSL_shutdown() any more */

  gboolean have_remote;
  guint8 remote_fp[CA_DTLS_FINGERPRINT_LEN];

  GSource *retransmit;
  GSource *deadline;
  CaDtlsState state;
  GError *error;
  CaSrtp *srtp;
};

/* ---- names ---- */

const char *
ca_dtls_role_to_string (CaDtlsRole role)
{
  static const char *const names[CA_DTLS_ROLE_LAST] = { "active", "passive" };
  return (guint) role < CA_DTLS_ROLE_LAST ? names[role] : "invalid";
}

const char *
ca_dtls_role_to_setup (CaDtlsRole role)
{
  return ca_dtls_role_to_string (role);
}

const char *
ca_dtls_state_to_string (CaDtlsState state)
{
  static const char *const names[CA_DTLS_STATE_LAST] = {
    [CA_DTLS_STATE_NEW] = "new",         [CA_DTLS_STATE_CONNECTING] = "connecting",
    [CA_DTLS_STATE_CONNECTED] = "connected", [CA_DTLS_STATE_FAILED] = "failed",
    [CA_DTLS_STATE_CLOSED] = "closed",
  };
  return (guint) state < CA_DTLS_STATE_LAST ? names[state] : "invalid";
}

gboolean
ca_dtls_role_from_remote_setup (const char *remote_setup, CaDtlsRole *out)
{
  if (g_strcmp0 (remote_setup, "active") == 0)
    *out = CA_DTLS_ROLE_PASSIVE;
  else if (g_strcmp0 (remote_setup, "passive") == 0 || g_strcmp0 (remote_setup, "actpass") == 0)
    *out = CA_DTLS_ROLE_ACTIVE; /* RFC 5763 §5: the answerer to actpass SHOULD be active */
  else
    return FALSE;
  return TRUE;
}

/* ---- the outgoing BIO ---- */

static int
out_write (BIO *bio, const char *data, int len)
{
  CaDtls *dtls = BIO_get_data (bio);

  if (len <= 0)
    return 0;
  g_queue_push_tail (&dtls->out, g_bytes_new (data, (gsize) len));
  return len;
}

static long
out_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd)
    {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
      return DTLS_MTU;
    default:
      return 0; /* PENDING, WPENDING, MTU_EXCEEDED, overheads: none */
    }
}

static int
out_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static BIO_METHOD *
out_method (void)
{
  static BIO_METHOD *method;

  if (g_once_init_enter (&method))
    {
      BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "sotto-dtls-out");

      if (m == NULL || !BIO_meth_set_write (m, out_write) || !BIO_meth_set_ctrl (m, out_ctrl)
          || !BIO_meth_set_create (m, out_create))
        g_error ("cannot build the DTLS output BIO method");
      g_once_init_leave (&method, m);
    }
  return method;
}

/* ---- state ---- */

static gboolean
is_terminal (CaDtlsState state)
{
  return state == CA_DTLS_STATE_FAILED || state == CA_DTLS_STATE_CLOSED;
}

static gboolean
transition_allowed (CaDtlsState from, CaDtlsState to)
{
  switch (from)
    {
    case CA_DTLS_STATE_NEW:
      return to == CA_DTLS_STATE_CONNECTING || is_terminal (to);
    case CA_DTLS_STATE_CONNECTING:
      return to == CA_DTLS_STATE_CONNECTED || is_terminal (to);
    case CA_DTLS_STATE_CONNECTED:
      return is_terminal (to);
    default:
      return FALSE;
    }
}

static void
flush (CaDtls *dtls)
{
  GBytes *datagram;

  while ((datagram = g_queue_pop_head (&dtls->out)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (datagram, &len);

      if (!dtls->detached)
        dtls->send (dtls, data, len, dtls->user_data);
      g_bytes_unref (datagram);
    }
}

/* The one place the state changes. Takes @reason. Sends what is queued before it calls back,
 * so a callback that closes the endpoint does not lose the last flight. */
static void
set_state (CaDtls *dtls, CaDtlsState state, GError *reason)
{
  CaDtlsState old = dtls->state;

  if (!transition_allowed (old, state))
    {
      g_critical ("DTLS %s: no transition %s -> %s", ca_dtls_role_to_string (dtls->role),
                  ca_dtls_state_to_string (old), ca_dtls_state_to_string (state));
      g_clear_error (&reason);
      return;
    }
  dtls->state = state;
  if (reason != NULL)
    {
      g_clear_error (&dtls->error);
      dtls->error = reason;
    }
  if (state != CA_DTLS_STATE_CONNECTING)
    sotto_util_source_clear (&dtls->deadline);
  if (is_terminal (state))
    sotto_util_source_clear (&dtls->retransmit);

  if (state == CA_DTLS_STATE_FAILED)
    g_message ("DTLS %s: %s -> %s: %s", ca_dtls_role_to_string (dtls->role),
               ca_dtls_state_to_string (old), ca_dtls_state_to_string (state),
               dtls->error ? dtls->error->message : "unknown reason");
  else if (state == CA_DTLS_STATE_CONNECTED)
    g_info ("DTLS %s: %s -> %s, %s", ca_dtls_role_to_string (dtls->role),
            ca_dtls_state_to_string (old), ca_dtls_state_to_string (state),
            ca_srtp_profile_to_string (ca_srtp_get_profile (dtls->srtp)));
  else
    g_info ("DTLS %s: %s -> %s", ca_dtls_role_to_string (dtls->role),
            ca_dtls_state_to_string (old), ca_dtls_state_to_string (state));

  flush (dtls);
  if (dtls->state_changed != NULL && !dtls->detached)
    dtls->state_changed (dtls, state, dtls->user_data);
}

static void G_GNUC_PRINTF (3, 4)
fail (CaDtls *dtls, CaDtlsError code, const char *format, ...)
{
  va_list args;
  GError *reason;

  va_start (args, format);
  reason = g_error_new_valist (CA_DTLS_ERROR, code, format, args);
  va_end (args);
  set_state (dtls, CA_DTLS_STATE_FAILED, reason);
}

/* Turns OpenSSL's queue into the failure reason. */
static void
fail_openssl (CaDtls *dtls, CaDtlsError code, const char *what)
{
  g_autoptr (GError) detail = NULL;

  dtls->ssl_fatal = TRUE;
  sotto_tls_set_error (&detail, what);
  fail (dtls, code, "%s", detail->message);
}

/* ---- timers ---- */

static gboolean on_retransmit (gpointer data);

/* DTLS has no clock of its own: OpenSSL says when the current flight is due again. */
static void
arm_retransmit (CaDtls *dtls)
{
  struct timeval tv;
  guint ms;

  sotto_util_source_clear (&dtls->retransmit);
  if (is_terminal (dtls->state) || DTLSv1_get_timeout (dtls->ssl, &tv) != 1)
    return;
  ms = (guint) MIN ((gint64) tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000, G_MAXUINT);
  dtls->retransmit = g_timeout_source_new (ms);
  g_source_set_callback (dtls->retransmit, on_retransmit, dtls, NULL);
  g_source_set_static_name (dtls->retransmit, "ca-dtls retransmit");
  g_source_attach (dtls->retransmit, dtls->context);
}

static gboolean
on_retransmit (gpointer data)
{
  g_autoptr (CaDtls) dtls = ca_dtls_ref (data);

  g_clear_pointer (&dtls->retransmit, g_source_unref);
  if (DTLSv1_handle_timeout (dtls->ssl) < 0)
    {
      fail_openssl (dtls, CA_DTLS_ERROR_TIMEOUT, "DTLS retransmissions exhausted");
      return G_SOURCE_REMOVE;
    }
  flush (dtls);
  arm_retransmit (dtls);
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline (gpointer data)
{
  g_autoptr (CaDtls) dtls = ca_dtls_ref (data);

  g_clear_pointer (&dtls->deadline, g_source_unref);
  fail (dtls, CA_DTLS_ERROR_TIMEOUT,
        dtls->handshake_done ? "no remote fingerprint within %u ms"
                             : "DTLS handshake did not complete within %u ms",
        dtls->handshake_timeout_ms);
  return G_SOURCE_REMOVE;
}

/* ---- setup ---- */

static int
accept_any_certificate (int preverify_ok, X509_STORE_CTX *store)
{
  /* Self-signed by design: the peer is authenticated by its fingerprint once the handshake is
   * over (RFC 5763 §5), not by a chain. */
  return 1;
}

static gboolean
build_ssl (CaDtls *dtls, guint profiles, GError **error)
{
  g_autoptr (GString) srtp_list = g_string_new (NULL);
  BIO *out;

  for (guint p = 0; p < CA_SRTP_PROFILE_LAST; p++)
    if (profiles & CA_SRTP_PROFILE_MASK (p))
      g_string_append_printf (srtp_list, "%s%s", srtp_list->len ? ":" : "",
                              ca_srtp_profile_to_string (p));

  dtls->ctx = SSL_CTX_new (DTLS_method ());
  if (dtls->ctx == NULL || !SSL_CTX_set_min_proto_version (dtls->ctx, DTLS1_2_VERSION)
      || !SSL_CTX_set_cipher_list (dtls->ctx, SOTTO_TLS_CIPHERS_TLS12)
      || !SSL_CTX_use_certificate (dtls->ctx, ca_dtls_cert_get_x509 (dtls->cert))
      || !SSL_CTX_use_PrivateKey (dtls->ctx, ca_dtls_cert_get_key (dtls->cert))
      || !SSL_CTX_check_private_key (dtls->ctx)
      /* Unusually, 0 is success here. */
      || SSL_CTX_set_tlsext_use_srtp (dtls->ctx, srtp_list->str) != 0)
    return sotto_tls_set_error (error, "setting up DTLS");
  SSL_CTX_set_verify (dtls->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                      accept_any_certificate);
  SSL_CTX_set_session_cache_mode (dtls->ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options (dtls->ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_QUERY_MTU);

  dtls->ssl = SSL_new (dtls->ctx);
  dtls->in = BIO_new (BIO_s_mem ());
  out = BIO_new (out_method ());
  if (dtls->ssl == NULL || dtls->in == NULL || out == NULL)
    {
      BIO_free (dtls->in);
      BIO_free (out);
      dtls->in = NULL;
      return sotto_tls_set_error (error, "creating the DTLS endpoint");
    }
  BIO_set_mem_eof_return (dtls->in, -1); /* empty means "wait", not end of stream */
  BIO_set_data (out, dtls);
  SSL_set_bio (dtls->ssl, dtls->in, out);
  if (!DTLS_set_link_mtu (dtls->ssl, DTLS_MTU))
    return sotto_tls_set_error (error, "setting the DTLS MTU");
  if (dtls->role == CA_DTLS_ROLE_ACTIVE)
    SSL_set_connect_state (dtls->ssl);
  else
    SSL_set_accept_state (dtls->ssl);
  return TRUE;
}

CaDtls *
ca_dtls_new (const CaDtlsConfig *config, GError **error)
{
  g_autoptr (CaDtls) dtls = NULL;
  guint profiles;

  g_return_val_if_fail (config != NULL && config->cert != NULL && config->send != NULL, NULL);
  g_return_val_if_fail ((guint) config->role < CA_DTLS_ROLE_LAST, NULL);
  profiles = config->profiles ? config->profiles : CA_SRTP_PROFILES_ALL;
  g_return_val_if_fail ((profiles & ~CA_SRTP_PROFILES_ALL) == 0, NULL);

  dtls = g_new0 (CaDtls, 1);
  dtls->ref_count = 1;
  dtls->role = config->role;
  dtls->cert = ca_dtls_cert_ref (config->cert);
  dtls->context = config->context ? g_main_context_ref (config->context)
                                  : g_main_context_ref_thread_default ();
  dtls->handshake_timeout_ms = config->handshake_timeout_ms ? config->handshake_timeout_ms
                                                            : DEFAULT_HANDSHAKE_TIMEOUT;
  dtls->send = config->send;
  dtls->state_changed = config->state_changed;
  dtls->user_data = config->user_data;
  g_queue_init (&dtls->out);
  dtls->state = CA_DTLS_STATE_NEW;

  if (!build_ssl (dtls, profiles, error))
    {
      g_prefix_error (error, "DTLS %s: ", ca_dtls_role_to_string (dtls->role));
      return NULL;
    }
  return g_steal_pointer (&dtls);
}

CaDtls *
ca_dtls_ref (CaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, NULL);
  dtls->ref_count++;
  return dtls;
}

void
ca_dtls_unref (CaDtls *dtls)
{
  if (dtls == NULL || --dtls->ref_count > 0)
    return;
  sotto_util_source_clear (&dtls->retransmit);
  sotto_util_source_clear (&dtls->deadline);
  g_queue_clear_full (&dtls->out, (GDestroyNotify) g_bytes_unref);
  SSL_free (dtls->ssl); /* and both BIOs */
  SSL_CTX_free (dtls->ctx);
  g_clear_pointer (&dtls->srtp, ca_srtp_free);
  g_clear_error (&dtls->error);
  ca_dtls_cert_unref (dtls->cert);
  g_main_context_unref (dtls->context);
  g_free (dtls);
}

/* ---- after the handshake ---- */

static gboolean
peer_matches (CaDtls *dtls)
{
  g_autoptr (X509) peer = SSL_get1_peer_certificate (dtls->ssl);
  guint8 fp[CA_DTLS_FINGERPRINT_LEN];

  if (peer == NULL || !ca_dtls_fingerprint_of (peer, fp))
    return FALSE;
  return CRYPTO_memcmp (fp, dtls->remote_fp, sizeof fp) == 0;
}

static void
key_srtp (CaDtls *dtls)
{
  const SRTP_PROTECTION_PROFILE *selected = SSL_get_selected_srtp_profile (dtls->ssl);
  g_autoptr (GError) error = NULL;
  guint8 material[MAX_MATERIAL];
  CaSrtpProfile profile;
  gsize len;

  if (selected == NULL || !ca_srtp_profile_from_id (selected->id, &profile))
    {
      fail (dtls, CA_DTLS_ERROR_NO_SRTP, "the peer negotiated no SRTP profile we offered");
      return;
    }
  len = ca_srtp_profile_material_len (profile);
  g_assert (len <= sizeof material);
  if (SSL_export_keying_material (dtls->ssl, material, len, EXPORTER_LABEL,
                                  strlen (EXPORTER_LABEL), NULL, 0, 0) != 1)
    {
      OPENSSL_cleanse (material, sizeof material);
      fail_openssl (dtls, CA_DTLS_ERROR_HANDSHAKE, "exporting the SRTP keys");
      return;
    }
  dtls->srtp = ca_srtp_new (profile, dtls->role == CA_DTLS_ROLE_ACTIVE, material, len, &error);
  OPENSSL_cleanse (material, sizeof material);
  if (dtls->srtp == NULL)
    {
      fail (dtls, CA_DTLS_ERROR_NO_SRTP, "%s", error->message);
      return;
    }
  set_state (dtls, CA_DTLS_STATE_CONNECTED, NULL);
}

/* The handshake is over: check who the peer is, then key SRTP. Waits if the SDP's fingerprint
 * has not arrived yet. */
static void
finish (CaDtls *dtls)
{
  if (dtls->state != CA_DTLS_STATE_CONNECTING || !dtls->handshake_done)
    return;
  if (!dtls->have_remote)
    {
      g_info ("DTLS %s: handshake done, waiting for the remote fingerprint",
              ca_dtls_role_to_string (dtls->role));
      return;
    }
  if (!peer_matches (dtls))
    {
      /* Tell the peer at once rather than leave it to time out. */
      SSL_shutdown (dtls->ssl);
      ERR_clear_error ();
      fail (dtls, CA_DTLS_ERROR_FINGERPRINT, "peer fingerprint does not match the SDP");
      return;
    }
  key_srtp (dtls);
}

/* Runs OpenSSL on whatever the input BIO holds. */
static void
drive (CaDtls *dtls)
{
  int r, err;

  if (!dtls->handshake_done)
    {
      r = SSL_do_handshake (dtls->ssl);
      if (r == 1)
        {
          dtls->handshake_done = TRUE;
          finish (dtls);
          return;
        }
    }
  else
    {
      guint8 discard[2048];

      /* No application data in DTLS-SRTP; reading handles the peer's retransmitted flights,
       * alerts and close_notify. */
      while ((r = SSL_read (dtls->ssl, discard, sizeof discard)) > 0)
        g_debug ("DTLS %s: dropped %d bytes of application data",
                 ca_dtls_role_to_string (dtls->role), r);
    }

  err = SSL_get_error (dtls->ssl, r);
  switch (err)
    {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      ERR_clear_error ();
      break;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error ();
      set_state (dtls, CA_DTLS_STATE_CLOSED, NULL);
      break;
    default:
      fail_openssl (dtls, CA_DTLS_ERROR_HANDSHAKE,
                    dtls->handshake_done ? "DTLS connection failed" : "DTLS handshake failed");
      break;
    }
}

/* ---- public ---- */

gboolean
ca_dtls_set_remote_fingerprint (CaDtls *dtls, const char *fingerprint, GError **error)
{
  g_autoptr (CaDtls) hold = NULL;
  guint8 fp[CA_DTLS_FINGERPRINT_LEN];

  g_return_val_if_fail (dtls != NULL, FALSE);
  if (!ca_dtls_fingerprint_parse (fingerprint, fp))
    {
      g_set_error (error, CA_DTLS_ERROR, CA_DTLS_ERROR_FINGERPRINT,
                   "not a sha-256 fingerprint: \"%.120s\"", fingerprint ? fingerprint : "");
      return FALSE;
    }
  memcpy (dtls->remote_fp, fp, sizeof fp);
  dtls->have_remote = TRUE;
  hold = ca_dtls_ref (dtls);
  finish (dtls);
  return TRUE;
}

void
ca_dtls_start (CaDtls *dtls)
{
  g_autoptr (CaDtls) hold = NULL;

  g_return_if_fail (dtls != NULL);
  if (dtls->state != CA_DTLS_STATE_NEW)
    return;
  hold = ca_dtls_ref (dtls);
  dtls->deadline = g_timeout_source_new (dtls->handshake_timeout_ms);
  g_source_set_callback (dtls->deadline, on_deadline, dtls, NULL);
  g_source_set_static_name (dtls->deadline, "ca-dtls deadline");
  g_source_attach (dtls->deadline, dtls->context);
  set_state (dtls, CA_DTLS_STATE_CONNECTING, NULL);
  if (dtls->state == CA_DTLS_STATE_CONNECTING && dtls->role == CA_DTLS_ROLE_ACTIVE)
    {
      drive (dtls); /* the ClientHello */
      flush (dtls);
      arm_retransmit (dtls);
    }
}

void
ca_dtls_feed (CaDtls *dtls, const guint8 *data, gsize len)
{
  g_autoptr (CaDtls) hold = NULL;

  g_return_if_fail (dtls != NULL);
  if (data == NULL || len == 0 || len > INT_MAX || ca_demux_classify (data[0]) != CA_DEMUX_DTLS)
    return;
  hold = ca_dtls_ref (dtls);
  if (dtls->state == CA_DTLS_STATE_NEW)
    ca_dtls_start (dtls);
  if (dtls->state != CA_DTLS_STATE_CONNECTING && dtls->state != CA_DTLS_STATE_CONNECTED)
    return;

  (void) BIO_reset (dtls->in);
  if (BIO_write (dtls->in, data, (int) len) != (int) len)
    {
      fail_openssl (dtls, CA_DTLS_ERROR_SETUP, "buffering a DTLS datagram");
      return;
    }
  drive (dtls);
  /* Whatever OpenSSL left unread (a bad record) must not run into the next datagram. */
  (void) BIO_reset (dtls->in);
  flush (dtls);
  arm_retransmit (dtls);
}

void
ca_dtls_close (CaDtls *dtls)
{
  g_autoptr (CaDtls) hold = NULL;

  g_return_if_fail (dtls != NULL);
  if (dtls->detached)
    return;
  hold = ca_dtls_ref (dtls);
  if (dtls->handshake_done && !dtls->ssl_fatal && !is_terminal (dtls->state))
    {
      SSL_shutdown (dtls->ssl); /* close_notify */
      ERR_clear_error ();
      flush (dtls);
    }
  dtls->detached = TRUE;
  if (!is_terminal (dtls->state))
    set_state (dtls, CA_DTLS_STATE_CLOSED, NULL);
  sotto_util_source_clear (&dtls->retransmit);
  sotto_util_source_clear (&dtls->deadline);
}

CaDtlsState
ca_dtls_get_state (CaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, CA_DTLS_STATE_LAST);
  return dtls->state;
}

CaDtlsRole
ca_dtls_get_role (CaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, CA_DTLS_ROLE_LAST);
  return dtls->role;
}

const GError *
ca_dtls_get_error (CaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, NULL);
  return dtls->error;
}

gboolean
ca_dtls_export (CaDtls *dtls, const char *label, guint8 *out, gsize len, GError **error)
{
  g_return_val_if_fail (label != NULL && out != NULL && len > 0, FALSE);

  if (dtls->state != CA_DTLS_STATE_CONNECTED || dtls->ssl == NULL)
    {
      g_set_error (error, CA_DTLS_ERROR, CA_DTLS_ERROR_SETUP,
                   "keying material exists only once DTLS is connected");
      return FALSE;
    }
  /* Without RFC 7627 a man in the middle can make two sessions share a master secret
   * (the triple handshake attack), and the export would no longer tell them apart. */
  if (SSL_get_extms_support (dtls->ssl) != 1)
    {
      g_set_error (error, CA_DTLS_ERROR, CA_DTLS_ERROR_HANDSHAKE,
                   "the DTLS session has no extended master secret (RFC 7627)");
      return FALSE;
    }
  if (SSL_export_keying_material (dtls->ssl, out, len, label, strlen (label), NULL, 0, 0) != 1)
    {
      g_set_error (error, CA_DTLS_ERROR, CA_DTLS_ERROR_SETUP, "OpenSSL cannot export \"%s\"",
                   label);
      return FALSE;
    }
  return TRUE;
}

CaSrtp *
ca_dtls_get_srtp (CaDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, NULL);
  return dtls->state == CA_DTLS_STATE_CONNECTED ? dtls->srtp : NULL;
}

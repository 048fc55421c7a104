/* Our DTLS-SRTP endpoint against another implementation: `openssl s_client` (DTLS 1.2,
 * use_srtp) over real UDP on loopback. s_client prints the "EXTRACTOR-dtls_srtp" material it
 * exported; the test splits it by RFC 5764 §4.2 itself and builds its own libsrtp sessions,
 * so the exporter label, the key layout and the role (passive = DTLS server = server keys)
 * are checked against an independent reading, not against our own code. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <srtp2/srtp.h>
#include <string.h>

#include "client-agent/ca-dtls.h"
#include "common/sotto-tls.h"

#define DEADLINE_MS 8000

typedef struct
{
  GMainContext *context;
  GSocket *socket;
  GSocketAddress *peer;
  CaDtls *dtls;
  GDataInputStream *out;
  GCancellable *cancel;
  GString *transcript;
  char *material_hex;
  gboolean eof;
} Interop;

static void
on_send (CaDtls *dtls, const guint8 *data, gsize len, gpointer user_data)
{
  Interop *t = user_data;

  if (t->peer != NULL)
    g_socket_send_to (t->socket, t->peer, (const char *) data, len, NULL, NULL);
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Interop *t = user_data;
  guint8 buf[2048];
  GSocketAddress *from = NULL;
  gssize n = g_socket_receive_from (socket, &from, (char *) buf, sizeof buf, NULL, NULL);

  if (n > 0)
    {
      if (t->peer == NULL)
        t->peer = g_object_ref (from);
      ca_dtls_feed (t->dtls, buf, (gsize) n);
    }
  g_clear_object (&from);
  return G_SOURCE_CONTINUE;
}

static int pending_reads; /* read_line_async calls still to complete */

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, &error);
  const char *tag = "Keying material: ";
  Interop *t = user_data;

  pending_reads--;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the test is over: @t is gone */
  if (line == NULL)
    {
      t->eof = TRUE;
      return;
    }
  g_string_append_printf (t->transcript, "%s\n", line);
  g_strstrip (line);
  if (g_str_has_prefix (line, tag) && t->material_hex == NULL)
    t->material_hex = g_strdup (line + strlen (tag));
  pending_reads++;
  g_data_input_stream_read_line_async (t->out, G_PRIORITY_DEFAULT, t->cancel, on_line, t);
}

static void
write_pem (CaDtlsCert *cert, const char *cert_path, const char *key_path)
{
  FILE *f = fopen (cert_path, "w");

  g_assert_nonnull (f);
  g_assert_true (PEM_write_X509 (f, ca_dtls_cert_get_x509 (cert)));
  fclose (f);
  f = fopen (key_path, "w");
  g_assert_nonnull (f);
  g_assert_true (PEM_write_PrivateKey (f, ca_dtls_cert_get_key (cert), NULL, NULL, 0, NULL,
                                       NULL));
  fclose (f);
}

/* A libsrtp session built here, from key and salt cut out of s_client's material. */
static srtp_t
own_session (CaSrtpProfile profile, srtp_ssrc_type_t direction, const guint8 *key,
             const guint8 *salt)
{
  srtp_policy_t policy;
  guint8 master[64];
  gsize key_len = ca_srtp_profile_key_len (profile), salt_len = ca_srtp_profile_salt_len (profile);
  srtp_t session = NULL;

  memset (&policy, 0, sizeof policy);
  g_assert_cmpint (srtp_crypto_policy_set_from_profile_for_rtp (
                     &policy.rtp, profile == CA_SRTP_PROFILE_AEAD_AES_128_GCM
                                    ? srtp_profile_aead_aes_128_gcm
                                    : srtp_profile_aes128_cm_sha1_80), ==, srtp_err_status_ok);
  policy.rtcp = policy.rtp;
  memcpy (master, key, key_len);
  memcpy (master + key_len, salt, salt_len);
  policy.ssrc.type = direction;
  policy.key = master;
  g_assert_cmpint (srtp_create (&session, &policy), ==, srtp_err_status_ok);
  return session;
}

static gboolean
connected_and_printed (Interop *t)
{
  return (ca_dtls_get_state (t->dtls) == CA_DTLS_STATE_CONNECTED && t->material_hex != NULL)
         || ca_dtls_get_state (t->dtls) == CA_DTLS_STATE_FAILED || t->eof;
}

static gboolean
on_expire (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
check_media (Interop *t, CaSrtpProfile profile, const guint8 *m)
{
  gsize key_len = ca_srtp_profile_key_len (profile), salt_len = ca_srtp_profile_salt_len (profile);
  const guint8 *client_key = m, *server_key = m + key_len;
  const guint8 *client_salt = m + 2 * key_len, *server_salt = client_salt + salt_len;
  srtp_t client_rx = own_session (profile, ssrc_any_inbound, server_key, server_salt);
  srtp_t client_tx = own_session (profile, ssrc_any_outbound, client_key, client_salt);
  CaSrtp *ours = ca_dtls_get_srtp (t->dtls);
  guint8 plain[200], packet[200 + CA_SRTP_MAX_TRAILER];
  gsize len;
  int n;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (ours);
  g_assert_cmpint (ca_srtp_get_profile (ours), ==, profile);
  memset (plain, 0x5a, sizeof plain);
  plain[0] = 0x80;
  plain[1] = 0;
  plain[2] = 0;
  plain[3] = 7; /* seq */

  /* Ours (the DTLS server) to the client. */
  memcpy (packet, plain, sizeof plain);
  len = sizeof plain;
  g_assert_true (ca_srtp_protect (ours, packet, &len, sizeof packet, &error));
  g_assert_no_error (error);
  n = (int) len;
  g_assert_cmpint (srtp_unprotect (client_rx, packet, &n), ==, srtp_err_status_ok);
  g_assert_cmpmem (packet, n, plain, sizeof plain);

  /* The client to ours. */
  memcpy (packet, plain, sizeof plain);
  n = sizeof plain;
  g_assert_cmpint (srtp_protect (client_tx, packet, &n), ==, srtp_err_status_ok);
  len = (gsize) n;
  g_assert_true (ca_srtp_unprotect (ours, packet, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (packet, len, plain, sizeof plain);

  srtp_dealloc (client_rx);
  srtp_dealloc (client_tx);
}

static void
test_openssl_client (gconstpointer data)
{
  CaSrtpProfile profile = GPOINTER_TO_UINT (data);
  const char *openssl = g_getenv ("OPENSSL_BIN") ? g_getenv ("OPENSSL_BIN") : OPENSSL_BIN;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL, *cert_path = NULL, *key_path = NULL, *connect = NULL;
  g_autofree char *len_text = NULL;
  g_autoptr (CaDtlsCert) mine = NULL, theirs = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) bind_addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GSource) readable = NULL;
  GSource *timer;
  g_autofree guint8 *material = NULL;
  gsize material_len = 0;
  gboolean expired = FALSE;
  Interop t = { 0 };

  if (openssl == NULL || *openssl == '\0' || !g_file_test (openssl, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no openssl command-line tool");
      return;
    }
  t.context = g_main_context_new ();
  g_main_context_push_thread_default (t.context);
  t.transcript = g_string_new (NULL);

  mine = ca_dtls_cert_new (&error);
  g_assert_no_error (error);
  theirs = ca_dtls_cert_new (&error);
  g_assert_no_error (error);
  dir = g_dir_make_tmp ("ca-dtls-XXXXXX", &error);
  g_assert_no_error (error);
  cert_path = g_build_filename (dir, "cert.pem", NULL);
  key_path = g_build_filename (dir, "key.pem", NULL);
  write_pem (theirs, cert_path, key_path);

  t.socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                           &error);
  g_assert_no_error (error);
  g_socket_set_blocking (t.socket, FALSE);
  g_assert_true (g_socket_bind (t.socket, bind_addr, FALSE, &error));
  local = g_socket_get_local_address (t.socket, &error);
  g_assert_no_error (error);
  readable = g_socket_create_source (t.socket, G_IO_IN, NULL);
  g_source_set_callback (readable, G_SOURCE_FUNC (on_readable), &t, NULL);
  g_source_attach (readable, t.context);

  {
    CaDtlsConfig config = { .cert = mine, .role = CA_DTLS_ROLE_PASSIVE,
                            .profiles = CA_SRTP_PROFILE_MASK (profile), .context = t.context,
                            .send = on_send, .user_data = &t };

    t.dtls = ca_dtls_new (&config, &error);
    g_assert_no_error (error);
    g_assert_true (ca_dtls_set_remote_fingerprint (t.dtls, ca_dtls_cert_get_fingerprint (theirs),
                                                   &error));
    ca_dtls_start (t.dtls);
  }

  connect = g_strdup_printf ("127.0.0.1:%u",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  len_text = g_strdup_printf ("%" G_GSIZE_FORMAT, ca_srtp_profile_material_len (profile));
  /* stdin stays open (a pipe): s_client stops at its end. */
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                             | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error,
                           openssl, "s_client", "-dtls1_2", "-connect", connect, "-cert",
                           cert_path, "-key", key_path, "-use_srtp",
                           ca_srtp_profile_to_string (profile), "-keymatexport",
                           "EXTRACTOR-dtls_srtp", "-keymatexportlen", len_text, NULL);
  g_assert_no_error (error);
  t.out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  t.cancel = g_cancellable_new ();
  pending_reads++;
  g_data_input_stream_read_line_async (t.out, G_PRIORITY_DEFAULT, t.cancel, on_line, &t);

  timer = g_timeout_source_new (DEADLINE_MS);
  g_source_set_callback (timer, on_expire, &expired, NULL);
  g_source_attach (timer, t.context);
  while (!connected_and_printed (&t) && !expired)
    g_main_context_iteration (t.context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);

  if (ca_dtls_get_state (t.dtls) != CA_DTLS_STATE_CONNECTED || t.material_hex == NULL)
    g_error ("no DTLS-SRTP with s_client: state %s (%s); s_client said:\n%s",
             ca_dtls_state_to_string (ca_dtls_get_state (t.dtls)),
             ca_dtls_get_error (t.dtls) ? ca_dtls_get_error (t.dtls)->message : "-",
             t.transcript->str);
  g_assert_true (g_strrstr (t.transcript->str, ca_srtp_profile_to_string (profile)) != NULL);

  {
    GString *bytes = g_string_new (NULL);

    g_assert_cmpuint (strlen (t.material_hex), ==, 2 * ca_srtp_profile_material_len (profile));
    for (const char *p = t.material_hex; p[0] && p[1]; p += 2)
      g_string_append_c (bytes, (char) (g_ascii_xdigit_value (p[0]) << 4
                                        | g_ascii_xdigit_value (p[1])));
    material_len = bytes->len;
    material = (guint8 *) g_string_free (bytes, FALSE);
  }
  g_assert_cmpuint (material_len, ==, ca_srtp_profile_material_len (profile));
  check_media (&t, profile, material);

  ca_dtls_close (t.dtls);
  g_cancellable_cancel (t.cancel);
  g_subprocess_force_exit (proc);
  g_assert_true (g_subprocess_wait (proc, NULL, NULL));
  expired = FALSE;
  timer = g_timeout_source_new (DEADLINE_MS);
  g_source_set_callback (timer, on_expire, &expired, NULL);
  g_source_attach (timer, t.context);
  while (pending_reads > 0 && !expired)
    g_main_context_iteration (t.context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  g_assert_cmpint (pending_reads, ==, 0);
  g_source_destroy (readable);
  g_clear_pointer (&t.dtls, ca_dtls_unref);
  g_clear_object (&t.out);
  g_clear_object (&t.cancel);
  g_clear_object (&t.peer);
  g_clear_object (&t.socket);
  g_string_free (t.transcript, TRUE);
  g_free (t.material_hex);
  g_unlink (cert_path);
  g_unlink (key_path);
  g_rmdir (dir);
  while (g_main_context_iteration (t.context, FALSE))
    ;
  g_main_context_pop_thread_default (t.context);
  g_main_context_unref (t.context);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  /* For the test's own sessions; ca-srtp then meets a kernel already initialised, as it will
   * next to GStreamer's srtp elements. */
  g_assert_cmpint (srtp_init (), ==, srtp_err_status_ok);
  if (!sotto_tls_apply_policy (&error))
    g_error ("%s", error->message);
  g_test_add_data_func ("/client-agent/dtls/interop/openssl-s_client/aead-aes-128-gcm",
                        GUINT_TO_POINTER (CA_SRTP_PROFILE_AEAD_AES_128_GCM), test_openssl_client);
  g_test_add_data_func ("/client-agent/dtls/interop/openssl-s_client/aes128-cm-sha1-80",
                        GUINT_TO_POINTER (CA_SRTP_PROFILE_AES128_CM_SHA1_80), test_openssl_client);
  return g_test_run ();
}

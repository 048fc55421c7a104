/* sotto-signald hands TURN credentials to signed-in users only (issue 3, delivery): a
 * REGISTER that authenticates gets an X-Sotto-Turn header whose password coturn would accept
 * (checked here with an independent HMAC-SHA1), and every other answer has none. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sig-harness.h"
#include "tg-probe.h"
#include "tgp-coturn.h"

#define SECRET "test-shared-secret-0123456789abcdef"

typedef struct
{
  SigHarness *h;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *secret_file = NULL;
  g_autoptr (GError) error = NULL;

  f->h = sig_harness_new ();
  secret_file = g_build_filename (f->h->dir, "turn-secrets", NULL);
  g_assert_true (g_file_set_contents (secret_file, SECRET "\n", -1, &error));
  g_assert_cmpint (chmod (secret_file, 0600), ==, 0);
  g_string_append_printf (f->h->config_extra,
                          "[turn]\nserver-name = localhost\ncredential-lifetime = 600\n"
                          "secret-file = %s\n",
                          secret_file);
  sig_harness_add_user (f->h, "alice", "alice-secret-1");
  sig_harness_start (f->h);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

/* The value of name="..." or name=token in the header. */
static char *
param (const char *header, const char *name)
{
  g_autofree char *key = g_strdup_printf ("%s=", name);
  const char *p = strstr (header, key);
  const char *end;

  if (p == NULL)
    return NULL;
  p += strlen (key);
  if (*p == '"')
    {
      end = strchr (p + 1, '"');
      return end ? g_strndup (p + 1, end - p - 1) : NULL;
    }
  end = p + strcspn (p, ", ");
  return g_strndup (p, end - p);
}

static void
test_turn_delivery (Fixture *f, gconstpointer data)
{
  g_autoptr (SigClient) a = sig_client_new (f->h, "alice", "alice-secret-1");
  g_autoptr (SigClient) wrong = sig_client_new (f->h, "alice", "not-her-password");
  g_autoptr (TuaRequest) req = NULL;
  g_autoptr (TuaMsg) challenge = NULL, ok = NULL, refused = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *username = NULL, *password = NULL, *uris = NULL, *ttl = NULL;
  g_autofree char *expected = NULL;
  const char *header;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 expiry;

  /* The challenge carries nothing. */
  tua_ua_set_auto_auth (a->ua, FALSE);
  req = tua_ua_register_request (a->ua, 600);
  challenge = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (challenge->status, ==, 401);
  g_assert_null (tua_msg_header (challenge, "X-Sotto-Turn"));

  /* A wrong password gets nothing either. */
  refused = tua_ua_register (wrong->ua, 600, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (refused->status, ==, 403);
  g_assert_null (tua_msg_header (refused, "X-Sotto-Turn"));

  /* The authenticated REGISTER does. */
  g_assert_true (tua_ua_answer_challenge (a->ua, req, challenge, &error));
  tua_ua_prepare_retry (a->ua, req);
  ok = tua_ua_transaction (a->ua, req, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ok->status, ==, 200);
  header = tua_msg_header (ok, "X-Sotto-Turn");
  g_assert_nonnull (header);

  username = param (header, "username");
  password = param (header, "password");
  uris = param (header, "uris");
  ttl = param (header, "ttl");
  g_assert_nonnull (username);
  g_assert_nonnull (password);
  g_assert_nonnull (uris);
  g_assert_nonnull (ttl);
  /* <expiry>:<opaque id>, and the id does not name the user. */
  g_assert_nonnull (strchr (username, ':'));
  g_assert_null (strstr (username, "alice"));
  expiry = g_ascii_strtoll (username, NULL, 10);
  g_assert_cmpint (expiry, >=, now + 590);
  g_assert_cmpint (expiry, <=, now + 610);
  g_assert_cmpint (g_ascii_strtoll (ttl, NULL, 10), <=, 600);
  g_assert_nonnull (strstr (uris, "turn:localhost:3478?transport=udp"));
  g_assert_nonnull (strstr (uris, "turn:localhost:3478?transport=tcp"));
  g_assert_nonnull (strstr (uris, "turns:localhost:5349?transport=tcp"));

  /* password = base64(HMAC-SHA1(secret, username)), what coturn's use-auth-secret checks. */
  g_assert_nonnull (HMAC (EVP_sha1 (), SECRET, strlen (SECRET), (const unsigned char *) username,
                          strlen (username), mac, &mac_len));
  expected = g_base64_encode (mac, mac_len);
  g_assert_cmpstr (password, ==, expected);

  /* And the password never reaches the server's log. */
  {
    g_autofree char *log = sig_harness_log (f->h);
    g_assert_null (strstr (log, password));
    g_assert_null (strstr (log, SECRET));
  }
}

/* The credentials of a REGISTER 200 allocate on a real coturn that shares the secret. */
static void
test_turn_allocates (void)
{
  g_autoptr (TgpCoturn) coturn = NULL;
  g_autoptr (SigHarness) h = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secret_file = NULL, *username = NULL, *password = NULL;
  const char *header;

  if (tgp_turnserver () == NULL)
    {
      g_test_skip ("coturn's turnserver is not installed (tools/install-deps installs it)");
      return;
    }
  coturn = tgp_coturn_new ();
  tgp_coturn_start (coturn);

  h = sig_harness_new ();
  secret_file = g_build_filename (h->dir, "turn-secrets", NULL);
  g_assert_true (g_file_set_contents (secret_file, TGP_SECRET "\n", -1, &error));
  g_assert_cmpint (chmod (secret_file, 0600), ==, 0);
  g_string_append_printf (h->config_extra,
                          "[turn]\nserver-name = localhost\nport = %u\ntls-port = %u\n"
                          "min-port = 20000\nmax-port = 20999\nsecret-file = %s\n",
                          coturn->port, coturn->tls_port, secret_file);
  sig_harness_add_user (h, "alice", "alice-secret-1");
  sig_harness_start (h);

  {
    g_autoptr (SigClient) a = sig_client_new (h, "alice", "alice-secret-1");
    g_autoptr (TuaMsg) ok = tua_ua_register (a->ua, 600, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (ok->status, ==, 200);
    header = tua_msg_header (ok, "X-Sotto-Turn");
    g_assert_nonnull (header);
    username = param (header, "username");
    password = param (header, "password");
  }

  for (TgProbeTransport t = 0; t < TG_PROBE_TRANSPORT_LAST; t++)
    {
      TgProbeTarget target = {
        .transport = t,
        .host = "127.0.0.1",
        .port = t == TG_PROBE_TLS ? coturn->tls_port : coturn->port,
        .ca_file = coturn->cafile,
        .tls_name = "localhost",
      };
      gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
      g_autoptr (TgProbeTurn) turn
          = tg_probe_turn_allocate (&target, username, password, deadline, &error);
      g_assert_no_error (error);
      g_assert_nonnull (turn);
      g_test_message ("allocated over %s", tg_probe_transport_to_string (t));
    }

  /* A tampered credential does not. */
  {
    TgProbeTarget target = { .transport = TG_PROBE_UDP, .host = "127.0.0.1",
                             .port = coturn->port };
    gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    g_autofree char *tampered = g_strdup (username);
    g_autoptr (TgProbeTurn) turn = NULL;
    tampered[0] = tampered[0] == '9' ? '8' : '9';
    turn = tg_probe_turn_allocate (&target, tampered, password, deadline, &error);
    g_assert_null (turn);
    g_assert_error (error, TG_PROBE_STUN_ERROR, 401);
  }
  g_assert_cmpint (sig_harness_stop (h), ==, 0);
  tgp_coturn_stop (coturn);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/signal/turn/delivery", Fixture, NULL, setup, test_turn_delivery, teardown);
  g_test_add_func ("/signal/turn/allocates-on-coturn", test_turn_allocates);
  return g_test_run ();
}

/* sotto-signald hands TURN credentials to signed-in users only (issue 3, delivery): a
 * REGISTER that authenticates gets an X-Sotto-Turn header whose password coturn would accept
 * (checked here with an independent HMAC-SHA1), and every other answer has none. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sig-harness.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/signal/turn/delivery", Fixture, NULL, setup, test_turn_delivery, teardown);
  return g_test_run ();
}

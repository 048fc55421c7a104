/* Unit tests for tg-cred: the TURN REST API password computed here independently (HMAC-SHA1
 * through EVP_DigestSign, not the EVP_MAC call the library uses), the opaque id, expiry,
 * rotation, and the secret file's checks. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>

#include "turn-glue/tg-cred.h"

#define SECRET_A "first-secret-0123456789"
#define SECRET_B "second-secret-abcdefghij"

static char *
rest_password (const char *secret, const char *username)
{
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key (EVP_PKEY_HMAC, NULL, (const guint8 *) secret,
                                                strlen (secret));
  EVP_MD_CTX *md = EVP_MD_CTX_new ();
  guint8 mac[EVP_MAX_MD_SIZE];
  size_t len = sizeof mac;

  g_assert_nonnull (key);
  g_assert_cmpint (EVP_DigestSignInit (md, NULL, EVP_sha1 (), NULL, key), ==, 1);
  g_assert_cmpint (EVP_DigestSignUpdate (md, username, strlen (username)), ==, 1);
  g_assert_cmpint (EVP_DigestSignFinal (md, mac, &len), ==, 1);
  g_assert_cmpuint (len, ==, 20);
  EVP_MD_CTX_free (md);
  EVP_PKEY_free (key);
  return g_base64_encode (mac, len);
}

static TgSecrets *
secrets_of (const char *text)
{
  g_autoptr (GError) error = NULL;
  TgSecrets *s = tg_secrets_new_from_data (text, &error);

  g_assert_no_error (error);
  return s;
}

static void
test_mint_rfc_scheme (void)
{
  g_autoptr (TgSecrets) s = secrets_of ("# comment\n\n  " SECRET_A "  \n" SECRET_B "\n");
  g_autoptr (TgCredential) cred = tg_cred_mint (s, "alice", 1700000000, 600);
  g_autofree char *expected = NULL;
  g_autofree char *id = tg_cred_opaque_id (s, "alice");
  g_autofree char *username = g_strdup_printf ("1700000600:%s", id);

  g_assert_cmpuint (tg_secrets_count (s), ==, 2);
  g_assert_cmpstr (tg_secrets_newest (s), ==, SECRET_A);
  g_assert_cmpint (cred->expires, ==, 1700000600);
  g_assert_cmpstr (cred->username, ==, username);
  expected = rest_password (SECRET_A, cred->username);
  g_assert_cmpstr (cred->password, ==, expected);
  /* A well-known value: HMAC-SHA1("key", "The quick brown fox...") from RFC 2104's examples
   * page, base64 of de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9; checks our reference itself. */
  {
    g_autofree char *ref = rest_password ("key", "The quick brown fox jumps over the lazy dog");
    g_assert_cmpstr (ref, ==, "3nybhbi3iqa8ino29wqQcBydtNk=");
  }
}

static void
test_opaque_id (void)
{
  g_autoptr (TgSecrets) s = secrets_of (SECRET_A "\n");
  g_autoptr (TgSecrets) other = secrets_of (SECRET_B "\n");
  g_autofree char *a1 = tg_cred_opaque_id (s, "alice");
  g_autofree char *a2 = tg_cred_opaque_id (s, "alice");
  g_autofree char *b = tg_cred_opaque_id (s, "bob");
  g_autofree char *a_other = tg_cred_opaque_id (other, "alice");
  g_autofree char *long_user = tg_cred_opaque_id (s, "aliceaaaaaaaaaaaaaaaaaaaaaaa");

  g_assert_cmpstr (a1, ==, a2);
  g_assert_cmpstr (a1, !=, b);
  g_assert_cmpstr (a1, !=, a_other);
  g_assert_cmpuint (strlen (a1), ==, 16);
  g_assert_null (strstr (a1, "alice"));
  g_assert_null (strstr (long_user, "alice"));
  /* base64url: safe in a username, no ':' (the expiry separator). */
  g_assert_cmpuint (strspn (a1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                    ==, 16);
}

static void
test_verify (void)
{
  g_autoptr (TgSecrets) s = secrets_of (SECRET_A "\n");
  g_autoptr (TgSecrets) foreign = secrets_of (SECRET_B "\n");
  g_autoptr (TgCredential) cred = tg_cred_mint (s, "alice", 1000, 600);
  g_autofree char *tampered = g_strdup (cred->username);

  g_assert_true (tg_cred_verify (s, cred->username, cred->password, 1000));
  g_assert_true (tg_cred_verify (s, cred->username, cred->password, 1600));
  g_assert_false (tg_cred_verify (s, cred->username, cred->password, 1601)); /* expired */
  g_assert_false (tg_cred_verify (foreign, cred->username, cred->password, 1000));
  tampered[0] = tampered[0] == '9' ? '8' : '9';
  g_assert_false (tg_cred_verify (s, tampered, cred->password, 1000));
  g_assert_false (tg_cred_verify (s, cred->username, "AAAA", 1000));
  g_assert_false (tg_cred_verify (s, "nocolon", cred->password, 1000));
  g_assert_false (tg_cred_verify (s, ":x", cred->password, 1000));
  g_assert_false (tg_cred_verify (s, NULL, cred->password, 1000));
}

/* After a rotation the new secret mints and the old one still verifies. */
static void
test_rotation (void)
{
  g_autoptr (TgSecrets) s = secrets_of (SECRET_A "\n");
  g_autoptr (TgCredential) old = tg_cred_mint (s, "alice", 1000, 600);
  g_autoptr (TgCredential) fresh = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *gen = tg_secret_generate (&error);
  g_autofree char *gen2 = tg_secret_generate (&error);
  g_autofree char *text = NULL;
  g_autoptr (TgSecrets) reread = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (gen), ==, 44);
  g_assert_cmpstr (gen, !=, gen2);
  tg_secrets_prepend (s, gen, 3);
  fresh = tg_cred_mint (s, "alice", 1000, 600);
  expected = rest_password (gen, fresh->username);
  g_assert_cmpstr (fresh->password, ==, expected);
  g_assert_true (tg_cred_verify (s, old->username, old->password, 1100));
  g_assert_true (tg_cred_verify (s, fresh->username, fresh->password, 1100));

  /* The file text round-trips, newest first; at most "keep" survive. */
  tg_secrets_prepend (s, gen2, 3);
  tg_secrets_prepend (s, "fourth-secret-xxxxxxxxxx", 3);
  g_assert_cmpuint (tg_secrets_count (s), ==, 3);
  text = tg_secrets_to_data (s);
  reread = secrets_of (text);
  g_assert_cmpuint (tg_secrets_count (reread), ==, 3);
  g_assert_cmpstr (tg_secrets_get (reread, 0), ==, "fourth-secret-xxxxxxxxxx");
  g_assert_cmpstr (tg_secrets_get (reread, 1), ==, gen2);
  g_assert_cmpstr (tg_secrets_get (reread, 2), ==, gen);
  g_assert_false (tg_cred_verify (reread, old->username, old->password, 1100)); /* dropped */
}

static void
test_bad_secrets (void)
{
  static const char *const bad[] = { "", "# only a comment\n\n", "short\n",
                                     "has a space in the secret\n", "tab\tinside-0123456789\n" };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TgSecrets) s = tg_secrets_new_from_data (bad[i], &error);

      g_assert_null (s);
      g_assert_nonnull (error);
      /* Errors never quote the secret. */
      g_assert_null (strstr (error->message, "inside"));
    }
}

static void
test_secret_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("tg-cred-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "secrets", NULL);
  g_autoptr (TgSecrets) s = NULL;

  g_assert_no_error (error);
  s = tg_secrets_load (path, &error); /* missing */
  g_assert_null (s);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path, SECRET_A "\n", -1, &error));
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  s = tg_secrets_load (path, &error); /* group-readable */
  g_assert_null (s);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  s = tg_secrets_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tg_secrets_newest (s), ==, SECRET_A);
  g_clear_pointer (&s, tg_secrets_free);

  g_assert_true (g_file_set_contents (path, "tooshort\n", -1, &error));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  s = tg_secrets_load (path, &error);
  g_assert_null (s);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "at least 16"));
  g_assert_null (strstr (error->message, "tooshort"));

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/turn/cred/mint/rest-api-scheme", test_mint_rfc_scheme);
  g_test_add_func ("/turn/cred/opaque-id", test_opaque_id);
  g_test_add_func ("/turn/cred/verify", test_verify);
  g_test_add_func ("/turn/cred/rotation", test_rotation);
  g_test_add_func ("/turn/cred/secrets/bad", test_bad_secrets);
  g_test_add_func ("/turn/cred/secrets/file", test_secret_file);
  return g_test_run ();
}

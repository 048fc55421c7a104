/* tg-cred: TURN REST API credentials and the shared secret set (see tg-cred.h). */
#include "config.h"

#define G_LOG_DOMAIN "sotto-turn"

#include "tg-cred.h"

#include <gio/gio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "sotto-util.h"

#define TG_SECRET_MIN_LEN 16
#define TG_OPAQUE_ID_LEN 16

struct _TgSecrets
{
  GPtrArray *list; /* of char *, newest first, wiped on free */
};

static void
secret_wipe_free (gpointer data)
{
  sotto_util_secret_free (data);
}

void
tg_credential_free (TgCredential *cred)
{
  if (cred == NULL)
    return;
  g_free (cred->username);
  sotto_util_secret_free (cred->password);
  g_free (cred);
}

TgSecrets *
tg_secrets_new (void)
{
  TgSecrets *s = g_new0 (TgSecrets, 1);

  s->list = g_ptr_array_new_with_free_func (secret_wipe_free);
  return s;
}

void
tg_secrets_free (TgSecrets *secrets)
{
  if (secrets == NULL)
    return;
  g_ptr_array_unref (secrets->list);
  g_free (secrets);
}

guint
tg_secrets_count (const TgSecrets *secrets)
{
  return secrets->list->len;
}

const char *
tg_secrets_get (const TgSecrets *secrets, guint index)
{
  g_return_val_if_fail (index < secrets->list->len, NULL);
  return g_ptr_array_index (secrets->list, index);
}

const char *
tg_secrets_newest (const TgSecrets *secrets)
{
  return secrets->list->len > 0 ? g_ptr_array_index (secrets->list, 0) : NULL;
}

/* Secrets are printable ASCII without spaces: they are HMAC keys used byte for byte by coturn,
 * and stored in its user database. Errors never quote a secret. */
TgSecrets *
tg_secrets_new_from_data (const char *text, GError **error)
{
  g_autoptr (TgSecrets) s = tg_secrets_new ();
  const char *pos = text;
  guint lineno = 0;

  while (*pos != '\0')
    {
      const char *nl = strchr (pos, '\n');
      gsize n = nl != NULL ? (gsize) (nl - pos) : strlen (pos);
      g_autoptr (SottoSecret) line = g_strndup (pos, n);

      lineno++;
      pos = nl != NULL ? nl + 1 : pos + n;
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      for (const char *c = line; *c != '\0'; c++)
        if ((guchar) *c <= 0x20 || (guchar) *c >= 0x7f)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         "line %u: a secret must be printable ASCII without spaces", lineno);
            return NULL;
          }
      if (strlen (line) < TG_SECRET_MIN_LEN)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "line %u: a secret must be at least %d bytes long", lineno,
                       TG_SECRET_MIN_LEN);
          return NULL;
        }
      g_ptr_array_add (s->list, g_steal_pointer (&line));
    }
  if (s->list->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "holds no secret");
      return NULL;
    }
  return g_steal_pointer (&s);
}

TgSecrets *
tg_secrets_load (const char *path, GError **error)
{
  guint8 *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  TgSecrets *s;

  if (!sotto_util_read_secret_file (path, &data, &len, error))
    return NULL;
  if (memchr (data, '\0', len) != NULL)
    g_set_error (&local, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "contains a NUL byte");
  s = local == NULL ? tg_secrets_new_from_data ((const char *) data, &local) : NULL;
  OPENSSL_cleanse (data, len);
  g_free (data);
  if (s == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "secret file %s: %s", path,
                 local->message);
  return s;
}

void
tg_secrets_prepend (TgSecrets *secrets, const char *secret, guint keep)
{
  g_return_if_fail (keep >= 1);
  g_ptr_array_insert (secrets->list, 0, g_strdup (secret));
  if (secrets->list->len > keep)
    g_ptr_array_set_size (secrets->list, keep);
}

char *
tg_secrets_to_data (const TgSecrets *secrets)
{
  GString *out = g_string_new ("# sotto-turn shared secrets, newest first (sotto-turn rotate)\n");

  for (guint i = 0; i < secrets->list->len; i++)
    {
      g_string_append (out, g_ptr_array_index (secrets->list, i));
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

char *
tg_secret_generate (GError **error)
{
  guint8 raw[32];
  char *text;

  if (!sotto_util_random (raw, sizeof raw, error))
    return NULL;
  text = g_base64_encode (raw, sizeof raw);
  OPENSSL_cleanse (raw, sizeof raw);
  return text;
}

/* ---- HMAC ----------------------------------------------------------------------------------- */

static gboolean
hmac (const char *digest, const char *key, const void *data, gsize len, guint8 *out,
      gsize *out_len)
{
  return EVP_Q_mac (NULL, "HMAC", NULL, digest, NULL, key, strlen (key), data, len, out,
                    EVP_MAX_MD_SIZE, out_len)
         != NULL;
}

char *
tg_cred_opaque_id (const TgSecrets *secrets, const char *user)
{
  static const char label[] = "sotto-turn-id"; /* followed by its NUL, then the user */
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  guint8 mac[EVP_MAX_MD_SIZE];
  gsize mac_len = 0;
  g_autofree char *b64 = NULL;

  g_return_val_if_fail (secrets != NULL && tg_secrets_newest (secrets) != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);

  g_byte_array_append (msg, (const guint8 *) label, sizeof label);
  g_byte_array_append (msg, (const guint8 *) user, strlen (user));
  if (!hmac ("SHA256", tg_secrets_newest (secrets), msg->data, msg->len, mac, &mac_len))
    g_error ("HMAC-SHA256 is not available"); /* OpenSSL's default provider always has it */
  b64 = g_base64_encode (mac, mac_len);
  for (char *c = b64; *c != '\0'; c++)
    *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
  return g_strndup (b64, TG_OPAQUE_ID_LEN);
}

static char *
password_for (const char *secret, const char *username)
{
  guint8 mac[EVP_MAX_MD_SIZE];
  gsize mac_len = 0;

  if (!hmac ("SHA1", secret, username, strlen (username), mac, &mac_len))
    g_error ("HMAC-SHA1 is not available");
  return g_base64_encode (mac, mac_len);
}

TgCredential *
tg_cred_mint (const TgSecrets *secrets, const char *user, gint64 now_s, guint lifetime_s)
{
  TgCredential *cred;
  g_autofree char *id = NULL;

  g_return_val_if_fail (secrets != NULL && tg_secrets_newest (secrets) != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);

  id = tg_cred_opaque_id (secrets, user);
  cred = g_new0 (TgCredential, 1);
  cred->expires = now_s + lifetime_s;
  cred->username = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", cred->expires, id);
  cred->password = password_for (tg_secrets_newest (secrets), cred->username);
  return cred;
}

/* coturn (use-auth-secret) takes the digits before the first ':' as the expiry and refuses
 * the credential once that time is below its clock. */
gboolean
tg_cred_verify (const TgSecrets *secrets, const char *username, const char *password,
                gint64 now_s)
{
  const char *colon;
  gboolean ok = FALSE;
  gint64 expires;

  g_return_val_if_fail (secrets != NULL, FALSE);
  if (username == NULL || password == NULL)
    return FALSE;
  colon = strchr (username, ':');
  if (colon == NULL || colon == username || colon[1] == '\0' || colon - username > 18
      || strspn (username, "0123456789") != (gsize) (colon - username))
    return FALSE;
  expires = g_ascii_strtoll (username, NULL, 10);
  if (expires < now_s)
    return FALSE;
  for (guint i = 0; i < secrets->list->len; i++)
    {
      g_autoptr (SottoSecret) expected = password_for (g_ptr_array_index (secrets->list, i),
                                                       username);
      ok |= sotto_util_secure_equal (expected, strlen (expected), password, strlen (password));
    }
  return ok;
}

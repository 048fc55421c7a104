/* tg-cred: TURN credentials in the TURN REST API scheme coturn verifies with use-auth-secret
 * (draft-uberti-behave-turn-rest-00): username "<expiry unix time>:<opaque id>", password
 * base64(HMAC-SHA1(secret, username)). The opaque id is a keyed hash of the Sotto user name, so
 * relay logs do not name people. Pure functions: no files, no clock (the caller passes now). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *username;
  char *password;
  gint64 expires; /* unix seconds */
} TgCredential;

void tg_credential_free (TgCredential *cred);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgCredential, tg_credential_free)

/* A secret set: the newest secret mints; all still verify (rotation). */
typedef struct _TgSecrets TgSecrets;

/* Reads the 0600 secret file: one secret per line, newest first, blank lines and # comments
 * ignored; refuses a file readable by group/others, an empty file, a secret under 16 bytes. */
TgSecrets *tg_secrets_load (const char *path, GError **error);
TgSecrets *tg_secrets_new_from_data (const char *text, GError **error);
void tg_secrets_free (TgSecrets *secrets); /* wipes */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgSecrets, tg_secrets_free)
guint tg_secrets_count (const TgSecrets *secrets);
const char *tg_secrets_newest (const TgSecrets *secrets);

/* Rotation support (sotto-turn rotate). An empty set (no secret yet); secret @index (0 is the
 * newest); @secret put first, keeping at most @keep secrets (the oldest are dropped); the
 * file text, newest first; a fresh secret: 32 random bytes, base64 (44 characters). */
TgSecrets *tg_secrets_new (void);
const char *tg_secrets_get (const TgSecrets *secrets, guint index);
void tg_secrets_prepend (TgSecrets *secrets, const char *secret, guint keep);
char *tg_secrets_to_data (const TgSecrets *secrets); /* free with sotto_util_secret_free */
char *tg_secret_generate (GError **error);

/* base64url(HMAC-SHA256(key=newest secret, "sotto-turn-id\0" user)) cut to 16 characters. */
char *tg_cred_opaque_id (const TgSecrets *secrets, const char *user);

/* A credential for @user valid until now + lifetime. */
TgCredential *tg_cred_mint (const TgSecrets *secrets, const char *user, gint64 now_s,
                            guint lifetime_s);

/* TRUE when @password matches @username under any secret and the expiry has not passed
 * (the check coturn does; used by tests and `sotto-turn check`). */
gboolean tg_cred_verify (const TgSecrets *secrets, const char *username, const char *password,
                         gint64 now_s);

G_END_DECLS

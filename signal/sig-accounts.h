/* sig-accounts: the account store, one SQLite file in WAL mode.
 *
 * Only what Digest needs is kept: HA1 for SHA-256 and for MD5 (RFC 7616 §3.4.2), never the
 * password. HA1 depends on the realm, so the realm is stored with the account; changing the
 * domain means setting new passwords. Every write is one transaction with synchronous=FULL,
 * so a kill -9 at any moment leaves every committed account intact. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIG_ACCOUNTS_ERROR (sig_accounts_error_quark ())
GQuark sig_accounts_error_quark (void);

typedef enum
{
  SIG_ACCOUNTS_ERROR_EXISTS,    /* add: the name is taken */
  SIG_ACCOUNTS_ERROR_NOT_FOUND, /* the name does not exist */
  SIG_ACCOUNTS_ERROR_BAD_NAME,  /* not a valid user name */
  SIG_ACCOUNTS_ERROR_BAD_PASSWORD, /* empty, too long, or contains a NUL/newline */
  SIG_ACCOUNTS_ERROR_LOCKED,    /* the database stayed busy past the timeout */
  SIG_ACCOUNTS_ERROR_DB,        /* any other SQLite failure, message included */
  SIG_ACCOUNTS_ERROR_LAST
} SigAccountsErrorCode;

typedef struct
{
  char *username;
  char *realm;
  char *ha1_sha256; /* 64 hex */
  char *ha1_md5;    /* 32 hex */
  gboolean enabled;
  gint64 created;   /* unix seconds */
  gint64 changed;   /* unix seconds */
} SigAccount;

void sig_account_free (SigAccount *account);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigAccount, sig_account_free)

typedef struct _SigAccounts SigAccounts;

/* Opens or creates the database (schema, WAL, busy timeout @busy_timeout_ms). */
SigAccounts *sig_accounts_open (const char *path, guint busy_timeout_ms, GError **error);
void sig_accounts_close (SigAccounts *accounts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigAccounts, sig_accounts_close)

/* User names: 1-64 characters of [a-z0-9._-], starting with a letter or digit. */
gboolean sig_accounts_name_is_valid (const char *username);

gboolean sig_accounts_add (SigAccounts *accounts, const char *username, const char *realm,
                           const char *password, GError **error);
gboolean sig_accounts_passwd (SigAccounts *accounts, const char *username, const char *realm,
                              const char *password, GError **error);
gboolean sig_accounts_set_enabled (SigAccounts *accounts, const char *username, gboolean enabled,
                                   GError **error);
gboolean sig_accounts_delete (SigAccounts *accounts, const char *username, GError **error);
/* *out is NULL with TRUE returned when the user does not exist. */
gboolean sig_accounts_lookup (SigAccounts *accounts, const char *username, SigAccount **out,
                              GError **error);
/* Makes sig_accounts_lookup() answer from memory while no commit has reached the database
 * since the answer was read (see sig-accounts-cache.h); at most @max_entries accounts are
 * kept. For a long-lived reader (the server). FALSE when this database cannot tell (then
 * every lookup keeps reading SQLite). */
gboolean sig_accounts_enable_cache (SigAccounts *accounts, guint max_entries);
/* Every account, sorted by name, as a GPtrArray of SigAccount*. */
GPtrArray *sig_accounts_list (SigAccounts *accounts, GError **error);

/* A strong random password: 20 characters from an unambiguous alphabet (about 110 bits). */
char *sig_accounts_generate_password (void);

G_END_DECLS

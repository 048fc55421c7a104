/* sig-accounts-cache: accounts the server has read, kept while the database is unchanged.
 *
 * sotto-signald looks an account up for every authenticated request. In SQLite that is a read
 * transaction: two fcntl() locks and an fstat() on top of the B-tree search, about an eighth
 * of the server's CPU per REGISTER. The cache answers from memory instead, but only while no
 * transaction has committed since its entries were read, from any process (sotto-admin, or
 * sqlite3 by hand): each get compares the database's WAL-index header with the one it last
 * saw. SQLite rewrites that header on every commit, in shared memory, at the very moment the
 * commit becomes visible to readers, so the comparison is a memory read, not a system call.
 *
 * The header is the documented WAL-index format ("The WAL-Index File Format" in SQLite's
 * walformat.html, section 2.3.1): two 48-byte copies at the start of the -shm file, written
 * second copy first; iChange and mxFrame grow with every commit, and the salts change when the
 * WAL restarts. Anything unexpected there (another version, an uninitialised header, the two
 * copies differing because a writer is between them) reads as "changed": the lookup goes to
 * SQLite and nothing is cached. */
#pragma once

#include <glib.h>
#include <sqlite3.h>

#include "sig-accounts.h"

G_BEGIN_DECLS

typedef struct _SigAccountsCache SigAccountsCache;

/* @file: the main database file of a connection already in WAL mode that has read from it
 * (so its wal-index is mapped); it must outlive the cache. NULL when its VFS has no shared
 * memory to look at. */
SigAccountsCache *sig_accounts_cache_new (sqlite3_file *file, guint max_entries);
void sig_accounts_cache_free (SigAccountsCache *cache);

/* The account as last read, if nothing has committed since; empties the cache when something
 * has. Borrowed until the next call. */
const SigAccount *sig_accounts_cache_get (SigAccountsCache *cache, const char *username);
/* Keeps @account (taken) if it was read after a get that saw a readable header. */
void sig_accounts_cache_put (SigAccountsCache *cache, SigAccount *account);

G_END_DECLS

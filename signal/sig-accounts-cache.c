/* sig-accounts-cache: see sig-accounts-cache.h. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-accounts-cache.h"

#include <string.h>

/* walformat.html §2.3.1: WalIndexHdr, 48 bytes, twice; iVersion at 0, isInit at 12. */
#define WAL_HDR_LEN 48
#define WAL_INDEX_VERSION 3007000u
#define WAL_REGION_LEN 32768 /* the size SQLite maps its wal-index regions with */

struct _SigAccountsCache
{
  sqlite3_file *file;
  guint max_entries;
  GHashTable *accounts;      /* username -> SigAccount* (owned) */
  guint8 stamp[WAL_HDR_LEN]; /* the header the entries were read under */
  gboolean stamp_valid;
  gboolean may_put;          /* the last get read a valid header */
};

/* The wal-index's first region, as SQLite itself has it mapped (no system call when it is).
 * NULL when it is not there. */
static const volatile guint8 *
wal_index (SigAccountsCache *cache)
{
  const sqlite3_io_methods *m = cache->file->pMethods;
  void volatile *region = NULL;

  if (m == NULL || m->iVersion < 2 || m->xShmMap == NULL)
    return NULL;
  /* bExtend 0: never creates or grows anything, only returns what is mapped. */
  if (m->xShmMap (cache->file, 0, WAL_REGION_LEN, 0, &region) != SQLITE_OK)
    return NULL;
  return region;
}

/* Copies the header into @out when both copies agree and it is initialised. */
static gboolean
read_header (SigAccountsCache *cache, guint8 out[WAL_HDR_LEN])
{
  const volatile guint8 *shm = wal_index (cache);
  guint8 second[WAL_HDR_LEN];
  guint32 version;

  if (shm == NULL)
    return FALSE;
  /* SQLite's own reader order (walIndexTryHdr): first copy, barrier, second copy. A writer
   * stores the second copy, then a barrier, then the first, so equal copies are one header. */
  memcpy (out, (const void *) shm, WAL_HDR_LEN);
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  memcpy (second, (const void *) (shm + WAL_HDR_LEN), WAL_HDR_LEN);
  if (memcmp (out, second, WAL_HDR_LEN) != 0)
    return FALSE;
  memcpy (&version, out, sizeof version); /* machine byte order in the wal-index */
  return version == WAL_INDEX_VERSION && out[12] == 1;
}

SigAccountsCache *
sig_accounts_cache_new (sqlite3_file *file, guint max_entries)
{
  SigAccountsCache *cache;
  guint8 probe[WAL_HDR_LEN];

  g_return_val_if_fail (file != NULL, NULL);

  cache = g_new0 (SigAccountsCache, 1);
  cache->file = file;
  cache->max_entries = MAX (max_entries, 1);
  if (!read_header (cache, probe))
    {
      g_free (cache);
      return NULL;
    }
  cache->accounts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) sig_account_free);
  return cache;
}

void
sig_accounts_cache_free (SigAccountsCache *cache)
{
  if (cache == NULL)
    return;
  g_hash_table_unref (cache->accounts); /* sig_account_free wipes the HA1s */
  g_free (cache);
}

const SigAccount *
sig_accounts_cache_get (SigAccountsCache *cache, const char *username)
{
  guint8 now[WAL_HDR_LEN];

  cache->may_put = read_header (cache, now);
  if (!cache->may_put)
    {
      /* Unreadable: a writer is mid-commit, or this is not a header we know. */
      g_hash_table_remove_all (cache->accounts);
      cache->stamp_valid = FALSE;
      return NULL;
    }
  if (!cache->stamp_valid || memcmp (now, cache->stamp, WAL_HDR_LEN) != 0)
    {
      /* Something committed: whatever changed, start again from this state. */
      g_hash_table_remove_all (cache->accounts);
      memcpy (cache->stamp, now, WAL_HDR_LEN);
      cache->stamp_valid = TRUE;
      return NULL;
    }
  return g_hash_table_lookup (cache->accounts, username);
}

void
sig_accounts_cache_put (SigAccountsCache *cache, SigAccount *account)
{
  /* Read under a state at least as new as the stamp: a later commit changes the header, and
   * the next get empties the cache. */
  if (!cache->may_put)
    {
      sig_account_free (account);
      return;
    }
  cache->may_put = FALSE;
  if (g_hash_table_size (cache->accounts) >= cache->max_entries)
    g_hash_table_remove_all (cache->accounts);
  g_hash_table_replace (cache->accounts, account->username, account);
}

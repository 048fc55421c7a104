/* sig-throttle: exponential back-off per key after failed authentications.
 *
 * Entries sit in a queue ordered by their last failure (oldest first), so both forgetting idle
 * keys and evicting when full take from the head. Clocks are passed in, never read here. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-signald"

#include "sig-throttle.h"

typedef struct
{
  char *key;
  guint failures;
  gint64 last_failure_ms;
  GList link; /* in throttle->order; data = this entry */
} Entry;

struct _SigThrottle
{
  guint free_failures;
  gint64 base_delay_ms;
  gint64 max_delay_ms;
  guint max_entries;
  GHashTable *entries; /* key -> Entry, index only */
  GQueue order;        /* of Entry, by last failure, oldest first */
};

SigThrottle *
sig_throttle_new (guint free_failures, guint base_delay_ms, guint max_delay_s, guint max_entries)
{
  SigThrottle *throttle = g_new0 (SigThrottle, 1);

  throttle->free_failures = free_failures;
  throttle->base_delay_ms = base_delay_ms;
  throttle->max_delay_ms = (gint64) max_delay_s * 1000;
  throttle->max_entries = MAX (max_entries, 1);
  throttle->entries = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&throttle->order);
  return throttle;
}

static void
entry_drop (SigThrottle *throttle, Entry *e)
{
  g_hash_table_remove (throttle->entries, e->key);
  g_queue_unlink (&throttle->order, &e->link);
  g_free (e->key);
  g_free (e);
}

void
sig_throttle_free (SigThrottle *throttle)
{
  Entry *e;

  if (throttle == NULL)
    return;
  while ((e = g_queue_peek_head (&throttle->order)) != NULL)
    entry_drop (throttle, e);
  g_hash_table_destroy (throttle->entries);
  g_free (throttle);
}

static gboolean
entry_idle (SigThrottle *throttle, const Entry *e, gint64 now_ms)
{
  return now_ms - e->last_failure_ms > throttle->max_delay_ms;
}

static void
forget_idle (SigThrottle *throttle, gint64 now_ms)
{
  Entry *e;

  while ((e = g_queue_peek_head (&throttle->order)) != NULL && entry_idle (throttle, e, now_ms))
    entry_drop (throttle, e);
}

/* base * 2^(failures - free), capped, without overflowing on large counts. */
static gint64
delay_for (SigThrottle *throttle, guint failures)
{
  gint64 delay = throttle->base_delay_ms;

  if (failures < throttle->free_failures || delay <= 0)
    return 0;
  for (guint i = throttle->free_failures; i < failures && delay < throttle->max_delay_ms; i++)
    delay *= 2;
  return MIN (delay, throttle->max_delay_ms);
}

gint64
sig_throttle_wait_ms (SigThrottle *throttle, const char *key, gint64 now_ms)
{
  Entry *e;
  gint64 ready_ms;

  g_return_val_if_fail (throttle != NULL && key != NULL, 0);

  /* Nobody failed lately, the usual case: no key to hash. */
  if (g_hash_table_size (throttle->entries) == 0)
    return 0;
  e = g_hash_table_lookup (throttle->entries, key);
  if (e == NULL)
    return 0;
  if (entry_idle (throttle, e, now_ms))
    {
      entry_drop (throttle, e);
      return 0;
    }
  ready_ms = e->last_failure_ms + delay_for (throttle, e->failures);
  return ready_ms > now_ms ? ready_ms - now_ms : 0;
}

void
sig_throttle_failure (SigThrottle *throttle, const char *key, gint64 now_ms)
{
  Entry *e;

  g_return_if_fail (throttle != NULL && key != NULL);

  forget_idle (throttle, now_ms);
  e = g_hash_table_lookup (throttle->entries, key);
  if (e != NULL && entry_idle (throttle, e, now_ms))
    {
      /* Not at the head (clock went back for others): forget it all the same. */
      entry_drop (throttle, e);
      e = NULL;
    }
  if (e == NULL)
    {
      while (g_hash_table_size (throttle->entries) >= throttle->max_entries)
        {
          g_debug ("throttle table full (%u): forgetting the oldest entry", throttle->max_entries);
          entry_drop (throttle, g_queue_peek_head (&throttle->order));
        }
      e = g_new0 (Entry, 1);
      e->key = g_strdup (key);
      e->link.data = e;
      g_hash_table_insert (throttle->entries, e->key, e);
    }
  else
    g_queue_unlink (&throttle->order, &e->link);

  if (e->failures < G_MAXUINT)
    e->failures++;
  e->last_failure_ms = now_ms;
  g_queue_push_tail_link (&throttle->order, &e->link);
}

void
sig_throttle_success (SigThrottle *throttle, const char *key)
{
  Entry *e;

  g_return_if_fail (throttle != NULL && key != NULL);

  if (g_hash_table_size (throttle->entries) == 0)
    return;
  e = g_hash_table_lookup (throttle->entries, key);
  if (e != NULL)
    entry_drop (throttle, e);
}

guint
sig_throttle_size (SigThrottle *throttle)
{
  g_return_val_if_fail (throttle != NULL, 0);
  return g_hash_table_size (throttle->entries);
}

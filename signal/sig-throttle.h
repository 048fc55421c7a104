/* sig-throttle: slows password guessing per key (a source address, a user name) without
 * locking anyone out for good.
 *
 * Each key has a failure count that decays: after @free_failures failures, further attempts
 * must wait base_delay * 2^(failures - free_failures), capped at @max_delay_s. A success clears
 * the key. Entries idle for longer than max_delay_s are forgotten, and the table is bounded. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SigThrottle SigThrottle;

SigThrottle *sig_throttle_new (guint free_failures, guint base_delay_ms, guint max_delay_s,
                               guint max_entries);
void sig_throttle_free (SigThrottle *throttle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigThrottle, sig_throttle_free)

/* 0 when an attempt for @key may proceed at @now_ms, else the milliseconds still to wait. */
gint64 sig_throttle_wait_ms (SigThrottle *throttle, const char *key, gint64 now_ms);
void sig_throttle_failure (SigThrottle *throttle, const char *key, gint64 now_ms);
void sig_throttle_success (SigThrottle *throttle, const char *key);
guint sig_throttle_size (SigThrottle *throttle);

G_END_DECLS

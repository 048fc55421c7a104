/* ca-sip-priv: what ca-sip.c (setup, events), ca-sip-reg.c (registration) and ca-sip-call.c
 * (calls) share. */
#pragma once

#include <glib.h>

struct _CaSip;
struct _CaSipCall;
#define NUA_MAGIC_T struct _CaSip
#define NUA_HMAGIC_T struct _CaSipCall

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_glib.h>

#include "ca-sip.h"

typedef struct _CaSipCall CaSipCall;

struct _CaSipCall
{
  CaSip *sip;
  guint id;
  nua_handle_t *nh;
  CaSipCallState state;
  char *peer;
  gboolean outgoing;
  gboolean hangup_sent;  /* CANCEL or BYE sent: ENDED is forced if no answer comes */
  guint auth_attempts;
  guint timer_id;        /* ring timeout, or the deadline after a hangup */
  gboolean reoffer_out;  /* our re-INVITE is waiting for its final response */
  gboolean reoffer_in;   /* the peer's re-INVITE is waiting for our reply */
};

struct _CaSip
{
  GMainContext *context;
  char *aor;
  char *domain;
  char *registrar;
  char *username;
  char *password;        /* wiped on free */
  char *state_dir;
  char *cert_dir;
  char *instance_id;
  guint expires_s;
  guint keepalive_s;
  CaSipRegFunc reg_changed;
  CaSipTurnFunc turn_received;
  CaSipCallFunc call_changed;
  CaSipReofferFunc reoffer_changed;
  gpointer user_data;

  su_root_t *root;
  nua_t *nua;
  gboolean shutdown_done;

  /* Registration (ca-sip-reg.c). */
  nua_handle_t *reg_nh;
  CaSipRegState reg_state;
  gboolean started;
  gboolean unregistering;
  gboolean unregister_done;
  guint reg_auth_attempts;
  guint retry_count;
  guint retry_id;
  guint reg_timeout_id;  /* no final answer to a REGISTER in time */
  nua_handle_t *ping_nh;
  guint ping_id;
  gboolean ping_pending;

  /* Calls (ca-sip-call.c). */
  GHashTable *calls;     /* id -> CaSipCall*, owned */
  guint next_call_id;
};

/* ca-sip.c */
char *ca_sip_credentials (CaSip *sip, const sip_t *challenge);
/* Timers on the CaSip's context (g_source_remove only knows the default one). */
guint ca_sip_timeout_add (CaSip *sip, guint ms, GSourceFunc func, gpointer data);
void ca_sip_timeout_clear (CaSip *sip, guint *id);
gboolean ca_sip_set_error_arg (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/* ca-sip-listen.c: while held, a stream socket that starts listening is sealed with a
 * drop-all socket filter (see there). */
void ca_sip_hold_listen (gboolean hold);

/* ca-sip-reg.c */
void ca_sip_reg_event (CaSip *sip, nua_event_t event, int status, const char *phrase,
                       nua_handle_t *nh, const sip_t *msg);
void ca_sip_reg_stop (CaSip *sip);
void ca_sip_reg_release (CaSip *sip);

/* ca-sip-call.c */
void ca_sip_call_event (CaSip *sip, nua_event_t event, int status, const char *phrase,
                        nua_handle_t *nh, CaSipCall *call, const sip_t *msg, tagi_t tags[]);
void ca_sip_call_free (CaSipCall *call);
/* Ends every call (transport loss, shutdown) with @status and @reason. */
/* Ends every call; with @keep_connected, established calls stay up: their media runs peer to
 * peer and does not need the server (a BYE later goes through whatever connection exists). */
void ca_sip_calls_end_all (CaSip *sip, guint status, const char *reason,
                           gboolean keep_connected);

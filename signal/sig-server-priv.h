/* Internals shared by the files of sotto-signald's server (sig-server, sig-flows, sig-auth,
 * sig-registrar, sig-proxy). Nothing outside signal/ includes this. */
#pragma once

#include <glib.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_glib.h>
#include <sofia-sip/tport.h>

#include "sig-accounts.h"
#include "sig-config.h"
#include "sig-nonce.h"
#include "sig-server.h"
#include "sig-throttle.h"
#include "tg-config.h"
#include "tg-cred.h"

G_BEGIN_DECLS

#define SIG_INSTALL_KEY_LEN 32
#define SIG_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, INFO, UPDATE, PRACK, REFER, " \
                  "SUBSCRIBE, NOTIFY, REGISTER"

typedef struct _SigFlow SigFlow;
typedef struct _SigBinding SigBinding;

/* One client TLS connection. The server holds a tport reference while the flow is known. */
struct _SigFlow
{
  SigServer *server;
  guint64 id;
  tport_t *tp;
  char *addr;          /* peer address, for limits and throttling */
  char *peer;          /* "addr:port", for logs */
  char *key;           /* numeric "host|port", key of flows_by_peer */
  gboolean authenticated;
  gboolean refused;    /* over the per-address limit: answered 503, closing */
  gboolean closed;
  guint unauth_timeout_id;
  int pendd;           /* tport_pend() handle, for the close notification */
  GPtrArray *bindings; /* SigBinding*, not owned */
};

/* One registered contact of a user (RFC 3261 §10, RFC 5626 for instance/reg-id). */
struct _SigBinding
{
  char *user;
  char *uri;      /* Contact URI as text */
  url_t *url;     /* the same, parsed (one g_malloc block): the 200's Contact is made from it */
  char *instance; /* +sip.instance value, or NULL */
  char *instance_param; /* "+sip.instance=VALUE", or NULL */
  guint reg_id;   /* 0 when absent */
  char *call_id;
  guint32 cseq;
  gint64 expires_at; /* monotonic seconds */
  SigFlow *flow;     /* the connection requests to this binding use */
};

struct _SigServer
{
  const SigConfig *config;
  su_home_t home[1];
  su_root_t *root;
  nta_agent_t *agent;
  msg_mclass_t *mclass; /* sig-mclass: what nta parses with; freed after the agent */
  nta_leg_t *default_leg;
  SigAccounts *accounts;
  SigNonceKeeper *nonces;
  SigThrottle *throttle;
  guint8 nonce_key[SIG_INSTALL_KEY_LEN];
  guint8 token_key[SIG_INSTALL_KEY_LEN];

  GHashTable *flows;          /* tport_t* -> SigFlow* (owned) */
  GHashTable *flows_by_id;    /* guint64* -> SigFlow* */
  GHashTable *flows_by_peer;  /* "host|port" -> SigFlow*, for ACKs that carry no transport */
  GHashTable *flows_per_addr; /* char* addr -> GUINT count */
  guint64 next_flow_id;

  GHashTable *bindings; /* user -> GPtrArray of SigBinding* (owned) */
  sip_allow_t *allow;   /* SIG_ALLOW, parsed once, in home */
  guint sweep_id;

  const TgConfig *turn;   /* NULL: no [turn] group, no TURN credentials */
  TgSecrets *turn_secrets;

  char **listen_urls;
  char *rr_host; /* host:port for our Record-Route URI */
  gboolean shutting_down;
};

/* sig-flows.c */
SigFlow *sig_flows_get (SigServer *server, nta_incoming_t *irq, gboolean *refused);
void sig_flows_refuse (SigFlow *flow);
SigFlow *sig_flows_by_id (SigServer *server, guint64 id);
void sig_flows_authenticated (SigFlow *flow);
void sig_flows_close_all (SigServer *server);
void sig_flows_free_all (SigServer *server);
GHashTable *sig_flows_table_new (void);

/* sig-auth.c: TRUE when @sip carries valid credentials; *user is the account name.
 * Otherwise the request has been answered (401/407/403/503) and FALSE is returned. */
gboolean sig_auth_check (SigServer *server, nta_incoming_t *irq, const sip_t *sip,
                         SigFlow *flow, gboolean proxy, char **user);
/* TRUE when the credentials header @au (one header, not its siblings) is not to be handed on:
 * Digest credentials for our realm, or Digest credentials we cannot read. */
gboolean sig_auth_credentials_for_us (SigServer *server, const msg_auth_t *au);

/* sig-registrar.c */
void sig_registrar_handle (SigServer *server, nta_incoming_t *irq, const sip_t *sip,
                           SigFlow *flow);
GPtrArray *sig_registrar_lookup (SigServer *server, const char *user); /* live bindings */
void sig_registrar_flow_closed (SigServer *server, SigFlow *flow);
void sig_registrar_start (SigServer *server);
void sig_registrar_stop (SigServer *server);

/* sig-proxy.c */
void sig_proxy_handle (SigServer *server, nta_incoming_t *irq, const sip_t *sip, SigFlow *flow);

/* sig-turn.c: the X-Sotto-Turn header line for @user, or NULL without TURN. Never log it. */
char *sig_turn_header (SigServer *server, const char *user);

/* sig-server.c */
gboolean sig_server_is_local_domain (SigServer *server, const url_t *url);
gboolean sig_server_is_us (SigServer *server, const url_t *url);
void sig_server_reply (nta_incoming_t *irq, int status, const char *phrase);

G_END_DECLS

/* tg-config: the [turn] group of Sotto's one configuration file (the same file as sotto-signald's,
 * whose [signald] group gives defaults: domain -> realm, cert-dir -> certificates, state-dir).
 *
 * [turn]
 * # DNS name clients use for the relay (TURN URIs, TLS certificate); default: [signald] domain
 * server-name = turn.example.org
 * # coturn's realm; default: [signald] domain
 * realm = example.org
 * # addresses coturn listens on and relays from (';'-separated); defaults: 0.0.0.0 / auto
 * listen = 0.0.0.0
 * relay = 203.0.113.10
 * # for a server behind NAT: PUBLIC or PUBLIC/PRIVATE (coturn's external-ip)
 * external-ip = 203.0.113.10/10.0.0.5
 * port = 3478
 * tls-port = 5349
 * # also serve TURN over TLS on 443 (for networks that only let 443 out)
 * tls-443 = false
 * min-port = 49152
 * max-port = 65535
 * # seconds a minted credential lives
 * credential-lifetime = 43200
 * user-quota = 12
 * total-quota = 1200
 * # bytes per second per session (0: unlimited)
 * max-bps = 500000
 * # 0600 file with the shared secret(s), newest first, one per line
 * secret-file = /var/lib/sotto/turn-secrets
 * # where turnserver.conf is rendered; default: [signald] state-dir
 * state-dir = /var/lib/sotto
 * # explicit opt-in: let the relay reach RFC 1918 peers (a LAN-only deployment)
 * lan-deployment = false
 * # TESTS ONLY: extra peer ranges the relay may reach (e.g. 127.0.0.1), ';'-separated
 * allow-peer =
 * # certificate and key for TLS; defaults: <[signald] cert-dir>/server.pem and server.key
 * cert-file = /etc/sotto/tls/server.pem
 * key-file = /etc/sotto/tls/server.key
 *
 * tls-443 moves the TLS listener to 443 instead of tls-port: coturn 4.6.1 serves one TLS port
 * (its alt-tls-listening-port opens only with two listening addresses, for RFC 5780).
 * Errors name the origin, the line, the group and the key, like sig-config's. Groups other
 * than [turn] and [signald] are left to their owners. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TG_CONFIG_ERROR (tg_config_error_quark ())
GQuark tg_config_error_quark (void);

typedef enum
{
  TG_CONFIG_ERROR_SYNTAX,
  TG_CONFIG_ERROR_UNKNOWN_KEY,
  TG_CONFIG_ERROR_BAD_VALUE,
  TG_CONFIG_ERROR_LAST
} TgConfigErrorCode;

typedef struct
{
  char *server_name;
  char *realm;
  char **listen;  /* IP literals */
  char **relay;   /* IP literals; empty: coturn picks */
  char *external_ip; /* NULL or "PUBLIC" or "PUBLIC/PRIVATE" */
  guint port;
  guint tls_port;
  gboolean tls_443;
  guint min_port;
  guint max_port;
  guint credential_lifetime_s;
  guint user_quota;
  guint total_quota;
  guint max_bps;
  char *cert_file; /* PEM chain; default <cert-dir>/server.pem */
  char *key_file;  /* default <cert-dir>/server.key */
  char *secret_file;
  char *state_dir;
  gboolean lan_deployment;
  char **allow_peer; /* test-only ranges, "A" or "A-B" */
} TgConfig;

TgConfig *tg_config_new_default (void);
void tg_config_free (TgConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgConfig, tg_config_free)

/* NULL with an error, or a config; *has_turn (optional) tells whether a [turn] group exists
 * (sotto-signald delivers TURN credentials only when it does). */
TgConfig *tg_config_load_from_data (const char *data, gssize len, const char *origin,
                                    gboolean *has_turn, GError **error);
TgConfig *tg_config_load_from_file (const char *path, gboolean *has_turn, GError **error);

/* Checks an allow-peer entry: an IP address or "FIRST-LAST" of one family, FIRST <= LAST. */
gboolean tg_config_parse_range (const char *text, GError **error);

G_END_DECLS

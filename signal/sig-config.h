/* sig-config: sotto-signald's configuration, a GKeyFile parsed into a struct.
 *
 * [signald]
 * # the SIP domain (and Digest realm); GKeyFile has whole-line comments only
 * domain = example.org
 * listen = sips:0.0.0.0:5061;sips:[::]:5061
 * cert-dir = /etc/sotto/tls       ; holds agent.pem and cafile.pem (see certs/)
 * state-dir = /var/lib/sotto      ; accounts.db and the nonce key live here
 * log-level = info                ; error, warning, info, debug
 * [limits]
 * max-message-size = 65536
 * max-connections-per-address = 32
 * unauthenticated-timeout = 30    ; seconds a connection may stay without an authenticated request
 * [registrar]
 * min-expires = 60
 * max-expires = 3600
 * default-expires = 600
 * max-bindings-per-user = 10
 * [auth]
 * nonce-lifetime = 300
 * throttle-free-failures = 5
 * throttle-max-delay = 300
 *
 * Every error names the file (or "<data>"), the line, the group and the key, and why. */
#pragma once

#include <glib.h>

#include "sig-digest.h"

#include "sotto-log.h"

G_BEGIN_DECLS

#define SIG_CONFIG_ERROR (sig_config_error_quark ())
GQuark sig_config_error_quark (void);

typedef enum
{
  SIG_CONFIG_ERROR_SYNTAX,      /* the file is not a key file */
  SIG_CONFIG_ERROR_UNKNOWN_KEY, /* a group or key we do not know (likely a typo) */
  SIG_CONFIG_ERROR_BAD_VALUE,   /* a value out of range or malformed */
  SIG_CONFIG_ERROR_LAST
} SigConfigErrorCode;

typedef struct
{
  char *domain;
  char **listen; /* NULL-terminated "sips:HOST:PORT" URLs; port 0 picks a free port */
  char *cert_dir;
  char *state_dir;
  SottoLogLevel log_level;

  guint max_message_size;
  guint max_connections_per_address;
  guint unauthenticated_timeout_s;

  guint min_expires;
  guint max_expires;
  guint default_expires;
  guint max_bindings_per_user;

  guint nonce_lifetime_s;
  /* The Digest algorithms offered, in the order of the challenges ([auth] algorithms,
   * default SHA-256 then MD5, RFC 8760). A credential in another algorithm is refused. */
  SigDigestAlg algorithms[SIG_DIGEST_ALG_LAST];
  guint n_algorithms;
  guint throttle_free_failures;
  guint throttle_max_delay_s;
} SigConfig;

/* The embedded defaults (domain "localhost", listen sips:127.0.0.1:5061, cert-dir and
 * state-dir under the current directory's sotto-state/). */
SigConfig *sig_config_new_default (void);
void sig_config_free (SigConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigConfig, sig_config_free)

/* Parses text over the defaults. @origin names the source in errors ("<data>" when NULL). */
SigConfig *sig_config_load_from_data (const char *data, gssize len, const char *origin,
                                      GError **error);
SigConfig *sig_config_load_from_file (const char *path, GError **error);

/* Checks one listen URL, "sips:HOST:PORT" (HOST an IPv4 address, [IPv6] or a DNS name,
 * PORT 0-65535); "sip:" and URL parameters such as ";transport=" are refused. On success
 * writes the host (without brackets) and the port when the out-parameters are not NULL. */
gboolean sig_config_parse_listen (const char *url, char **host, guint *port, GError **error);


/* accounts.db inside state_dir. */
char *sig_config_accounts_path (const SigConfig *config);

G_END_DECLS

/* sotto-certs: the certificate directory Sofia-SIP (and later coturn) reads.
 *
 * Layout of DIR:
 *   agent.pem   0600  server private key, then server certificate, then the chain (Sofia-SIP)
 *   cafile.pem  0644  trusted CA certificate(s) (Sofia-SIP)
 *   server.key  0600  server private key alone
 *   server.pem  0644  server certificate, then the chain
 *   ca.key      0600  private CA key (init only)
 *   ca.pem      0644  private CA certificate (init only)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SOTTO_CERTS_ERROR (sotto_certs_error_quark ())
GQuark sotto_certs_error_quark (void);

typedef enum
{
  SOTTO_CERTS_ERROR_USAGE,        /* a bad option value: the program exits 2 */
  SOTTO_CERTS_ERROR_INVALID_NAME, /* a --name that is not a DNS name: exits 2 */
  SOTTO_CERTS_ERROR_CA,           /* the CA in DIR is unusable */
  SOTTO_CERTS_ERROR_INVALID_CERT, /* an imported certificate or key was refused */
  SOTTO_CERTS_ERROR_LAST
} SottoCertsError;

const char *sotto_certs_error_to_string (SottoCertsError code);

/* Days a server certificate from `init` is valid by default, and the accepted range. */
#define SOTTO_CERTS_SERVER_DAYS_DEFAULT 825
#define SOTTO_CERTS_SERVER_DAYS_MIN 31
#define SOTTO_CERTS_SERVER_DAYS_MAX 3650
#define SOTTO_CERTS_CA_DAYS 3650
/* A server certificate that expires within this many days is re-issued by `init`. */
#define SOTTO_CERTS_RENEW_DAYS 30

#define SOTTO_CERTS_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

typedef struct
{
  const char *dir;
  const char *const *names; /* NULL-terminated */
  gboolean force_ca;
  int days;
} SottoCertsInitOptions;

typedef struct
{
  const char *dir;
  const char *cert;  /* leaf, optionally followed by its chain */
  const char *key;
  const char *chain; /* optional */
  const char *ca;    /* optional; the system bundle otherwise */
} SottoCertsImportOptions;

/* Each prints what it did on stdout. */
gboolean sotto_certs_init (const SottoCertsInitOptions *opts, GError **error);
gboolean sotto_certs_import (const SottoCertsImportOptions *opts, GError **error);
gboolean sotto_certs_show (const char *dir, GError **error);

G_END_DECLS

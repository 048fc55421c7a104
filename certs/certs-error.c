/* certs-error: the SOTTO_CERTS_ERROR domain. */
#include "config.h"

#include "sotto-certs.h"

G_DEFINE_QUARK (sotto-certs-error-quark, sotto_certs_error)

static const char *const error_names[SOTTO_CERTS_ERROR_LAST] = {
  [SOTTO_CERTS_ERROR_USAGE] = "usage",
  [SOTTO_CERTS_ERROR_INVALID_NAME] = "invalid-name",
  [SOTTO_CERTS_ERROR_CA] = "ca",
  [SOTTO_CERTS_ERROR_INVALID_CERT] = "invalid-cert",
};

const char *
sotto_certs_error_to_string (SottoCertsError code)
{
  g_return_val_if_fail (code < SOTTO_CERTS_ERROR_LAST, "invalid");
  return error_names[code];
}

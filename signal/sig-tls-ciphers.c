/* sig-tls-ciphers: makes Sotto's TLS 1.2 cipher policy win over Sofia-SIP's.
 *
 * Sofia-SIP creates its SSL_CTX itself and then calls
 * SSL_CTX_set_cipher_list(ctx, "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH"), a hard-coded list with no
 * tag to change it, which replaces the CipherString of the process-wide policy
 * (sotto_tls_apply_policy) and lets CBC and non-forward-secret suites back in. The library calls
 * OpenSSL through its PLT, so this definition in the executable is the one it reaches: whatever
 * list is asked for, the policy's list is set. The real function is found with RTLD_NEXT.
 * sotto-signald itself never sets a cipher list, so nothing else is affected.
 * tests/test-signald /signal/tls/ciphers fails without this file. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>

#include <openssl/ssl.h>

#include "sotto-tls.h"

typedef int (*SetCipherListFn) (SSL_CTX *ctx, const char *str);

int
SSL_CTX_set_cipher_list (SSL_CTX *ctx, const char *str)
{
  static SetCipherListFn real;

  if (real == NULL)
    real = (SetCipherListFn) dlsym (RTLD_NEXT, "SSL_CTX_set_cipher_list");
  if (real == NULL)
    return 0; /* cannot happen with libssl loaded; failing closed makes Sofia refuse TLS */
  return real (ctx, SOTTO_TLS_CIPHERS_TLS12);
}

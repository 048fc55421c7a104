/* sotto-tls-context: makes Sotto's TLS policy win over Sofia-SIP's own context settings, in
 * sotto-signald and sotto-agentd alike. It is a source of each program, not of a library: an
 * archive member nobody references would never be linked in.
 *
 * Sofia-SIP creates its SSL_CTX itself and offers no tag for ciphers or session caching. It
 * then calls SSL_CTX_set_cipher_list(ctx, "ALL:!ADH:!LOW:!EXP:!MD5:@STRENGTH"), a hard-coded
 * list that replaces the CipherString of the process-wide policy (sotto_tls_apply_policy) and
 * lets CBC and non-forward-secret suites back in. The library calls OpenSSL through its PLT,
 * so this definition in the executable is the one it reaches; the real function is found with
 * RTLD_NEXT. Whatever list is asked for, the policy's list is set. Our own code only ever asks
 * for the policy's list (ca-dtls), so this is the one place where Sofia's contexts can be
 * adjusted:
 *  - the TLS 1.2 cipher list of the policy;
 *  - no session cache and no TLS 1.3 tickets: SIP clients keep one long-lived connection, and
 *    OpenSSL's server cache (20,480 sessions by default) grew the server by ~2 KiB per
 *    reconnecting client (tests/test-signald-memory);
 *  - SSL_MODE_RELEASE_BUFFERS: an idle connection gives its ~17 KiB read and write record
 *    buffers back between messages, and a registrar's connections are idle almost always
 *    (bench/sotto-sipload --case idle: PSS per registered connection, see bench/README.md);
 *  - the certificate chain, built once. Sofia loads only the first certificate of agent.pem,
 *    and OpenSSL then builds the chain it sends at every handshake ("auto-chain":
 *    X509_verify_cert against the CA file, one signature check per certificate), which was a
 *    quarter of sotto-signald's CPU per TLS handshake. Sofia has loaded the certificate, its
 *    key and the CA file before it sets ciphers, so the chain is built here, from the same
 *    store and ignoring the same errors as auto-chain does: the same certificates go on the
 *    wire (tests/test-signald /signal/tls/chain).
 * tests/test-signald /signal/tls/ciphers fails without this file. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>

#include <openssl/err.h>
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
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets (ctx, 0);
  SSL_CTX_set_mode (ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_get0_certificate (ctx) != NULL
      && SSL_CTX_build_cert_chain (ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR
                                            | SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR) <= 0)
    ERR_clear_error (); /* auto-chain stays; nothing left for Sofia's next SSL_get_error */
  return real (ctx, SOTTO_TLS_CIPHERS_TLS12);
}

/* sig-digest: HTTP Digest for SIP (RFC 7616, RFC 8760, RFC 3261 §22) as pure functions over
 * strings. No sockets, no loop, no state: the nonce keeper (sig-nonce) owns freshness. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SIG_DIGEST_ALG_SHA256, /* "SHA-256", offered first (RFC 8760) */
  SIG_DIGEST_ALG_MD5,    /* "MD5" */
  SIG_DIGEST_ALG_LAST
} SigDigestAlg;

#define SIG_DIGEST_ERROR (sig_digest_error_quark ())
GQuark sig_digest_error_quark (void);

typedef enum
{
  SIG_DIGEST_ERROR_MALFORMED,   /* not parseable as Digest credentials */
  SIG_DIGEST_ERROR_UNSUPPORTED, /* unknown algorithm, qop other than auth, userhash, -sess */
  SIG_DIGEST_ERROR_LAST
} SigDigestErrorCode;

/* The length of the RFC 7230 token (tchar run) at @p, 0 when there is none. */
gsize sig_digest_token_len (const char *p);

const char *sig_digest_alg_to_string (SigDigestAlg alg); /* "SHA-256", "MD5" */
gboolean sig_digest_alg_from_string (const char *text, SigDigestAlg *out); /* case-insensitive */
gsize sig_digest_alg_hex_len (SigDigestAlg alg); /* 64 or 32 */

/* Parsed Authorization / Proxy-Authorization credentials. All strings unquoted; they live in
 * the struct's own allocation (one g_free, sig_digest_credentials_free). */
typedef struct
{
  char *username;
  char *realm;
  char *nonce;
  char *uri;
  char *response; /* lower-case hex */
  char *cnonce;
  char *opaque;   /* NULL when absent */
  char *qop;      /* "auth", or NULL for RFC 2069 style (refused by sig_digest_verify) */
  char *nc_text;  /* the 8 hex digits as sent, used in the hash */
  guint32 nc;
  SigDigestAlg alg; /* MD5 when the algorithm parameter is absent (RFC 7616 §3.4) */
} SigDigestCredentials;

void sig_digest_credentials_free (SigDigestCredentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigDigestCredentials, sig_digest_credentials_free)

/* Parses a header value such as `Digest username="bob", realm="x", ...`.
 * Tolerates any order, optional whitespace, quoted or token values, unknown parameters
 * (ignored). Fails with SIG_DIGEST_ERROR_MALFORMED on a missing mandatory parameter
 * (username, realm, nonce, uri, response), duplicates, bad quoting, non-hex response or nc,
 * and with SIG_DIGEST_ERROR_UNSUPPORTED for an unknown algorithm. *out is written only on
 * success. */
gboolean sig_digest_parse_credentials (const char *header_value, SigDigestCredentials **out,
                                       GError **error);

/* HA1 = H(username ":" realm ":" password), lower-case hex. */
char *sig_digest_ha1 (SigDigestAlg alg, const char *username, const char *realm,
                      const char *password);

/* The expected response for qop=auth (RFC 7616 §3.4.1), lower-case hex:
 * H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)). */
char *sig_digest_response (SigDigestAlg alg, const char *ha1_hex, const char *nonce,
                           const char *nc_text, const char *cnonce, const char *qop,
                           const char *method, const char *uri);

/* TRUE when @creds carry qop=auth and their response matches @ha1_hex for @method.
 * The comparison is constant-time. */
gboolean sig_digest_verify (const SigDigestCredentials *creds, const char *method,
                            const char *ha1_hex);

/* A challenge value: `Digest realm="R", nonce="N", opaque="O", algorithm=SHA-256, qop="auth"`
 * with `, stale=true` appended when @stale. @opaque may be NULL. */
char *sig_digest_challenge (SigDigestAlg alg, const char *realm, const char *nonce,
                            const char *opaque, gboolean stale);

G_END_DECLS

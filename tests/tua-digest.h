/* tua-digest: the test UA's own HTTP Digest client (RFC 7616, RFC 8760, RFC 3261 §22),
 * written with OpenSSL EVP and deliberately sharing no code with the server's signal/sig-digest,
 * so a bug there cannot hide behind the same bug here. Pure functions over strings. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  TUA_DIGEST_MD5,
  TUA_DIGEST_SHA256,
  TUA_DIGEST_LAST
} TuaDigestAlg;

const char *tua_digest_alg_to_string (TuaDigestAlg alg); /* "MD5", "SHA-256" */
gboolean tua_digest_alg_from_string (const char *text, TuaDigestAlg *out); /* case-insensitive */

/* Parses an auth header value `Scheme name=token, name="quoted", ...` (RFC 7235 §2.1): the
 * scheme is returned in *scheme, the parameters in a table with lower-case names and unquoted
 * values. Duplicate names, bad quoting or a missing '=' fail with G_IO_ERROR_INVALID_DATA.
 * Out-parameters are written only on success. Used both for challenges and, in tests, to read
 * the Authorization a client sent. */
gboolean tua_auth_parse_params (const char *value, char **scheme, GHashTable **params,
                                GError **error);

/* A parsed WWW-Authenticate / Proxy-Authenticate Digest challenge. */
typedef struct
{
  char *realm;
  char *nonce;
  char *opaque;      /* NULL when absent */
  char *algorithm;   /* as sent; NULL when absent (means MD5) */
  TuaDigestAlg alg;  /* only meaningful when supported is TRUE */
  gboolean supported; /* algorithm is MD5 or SHA-256 (no -sess) */
  gboolean qop_auth; /* qop list contains "auth" */
  gboolean has_qop;  /* a qop parameter was present at all */
  gboolean stale;
} TuaChallenge;

void tua_challenge_free (TuaChallenge *challenge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TuaChallenge, tua_challenge_free)

/* Parses a Digest challenge. Fails (G_IO_ERROR_INVALID_DATA) for another scheme or without
 * realm or nonce; an unknown algorithm parses with supported = FALSE. */
gboolean tua_digest_parse_challenge (const char *value, TuaChallenge **out, GError **error);

/* Lower-case hex of H(@data) for @alg. */
char *tua_digest_hash_hex (TuaDigestAlg alg, const char *data, gsize len);

/* The request-digest (RFC 7616 §3.4.1). With @qop "auth":
 *   H(H(user:realm:password) ":" nonce ":" nc ":" cnonce ":" qop ":" H(method:uri));
 * with @qop NULL, the RFC 2069 form H(HA1 ":" nonce ":" HA2) and @nc_text/@cnonce ignored. */
char *tua_digest_response (TuaDigestAlg alg, const char *username, const char *password,
                           const char *realm, const char *nonce, const char *nc_text,
                           const char *cnonce, const char *qop, const char *method,
                           const char *uri);

/* A complete credentials value answering @challenge:
 * `Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=..,
 * cnonce="..", opaque="..", qop=auth, nc=0000000N`. qop/cnonce/nc only when the challenge
 * offered qop=auth. NULL (and G_IO_ERROR_NOT_SUPPORTED) for an unsupported challenge. */
char *tua_digest_credentials (const TuaChallenge *challenge, const char *username,
                              const char *password, const char *method, const char *uri,
                              guint32 nc, const char *cnonce, GError **error);

G_END_DECLS

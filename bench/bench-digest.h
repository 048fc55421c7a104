/* bench-digest: the client side of HTTP Digest for SIP (RFC 7616 qop=auth, RFC 8760 SHA-256),
 * computed with OpenSSL EVP. Pure functions over strings. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  BENCH_DIGEST_MD5,
  BENCH_DIGEST_SHA256,
  BENCH_DIGEST_LAST
} BenchDigestAlg;

const char *bench_digest_alg_to_string (BenchDigestAlg alg); /* "MD5", "SHA-256" */
gboolean bench_digest_alg_from_string (const char *text, BenchDigestAlg *out);

typedef struct
{
  BenchDigestAlg alg;
  gboolean qop_auth;
  gboolean stale;
  gboolean has_opaque;
  char realm[128];
  char nonce[256];
  char opaque[256];
} BenchDigestChallenge;

/* Parses one `Digest realm=..., nonce=..., ...` challenge value. FALSE when it is not Digest,
 * lacks realm or nonce, names an algorithm we do not know, or a value does not fit. */
gboolean bench_digest_parse_challenge (const char *value, gsize len, BenchDigestChallenge *out);

/* Among the WWW-Authenticate (or Proxy-Authenticate when @proxy) headers of @response, the first
 * challenge with algorithm @alg. *out is written only on success. */
gboolean bench_digest_pick (const char *response, gsize len, gboolean proxy, BenchDigestAlg alg,
                            BenchDigestChallenge *out);

/* Appends a complete credentials header line ("Authorization: Digest ...\r\n", or
 * "Proxy-Authorization:" when @proxy) answering @ch with qop=auth and nonce count @nc. */
void bench_digest_append_credentials (GString *out, gboolean proxy, const BenchDigestChallenge *ch,
                                      const char *user, const char *password, const char *method,
                                      const char *uri, guint32 nc, const char *cnonce);

/* Lower-case hex H(data) for @alg; @out holds at least 65 bytes. */
void bench_digest_hash_hex (BenchDigestAlg alg, const char *data, gsize len, char *out);

G_END_DECLS

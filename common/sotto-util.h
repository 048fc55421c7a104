/* sotto-util: small helpers for files and secrets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes @len bytes to @path atomically (temporary file, fsync, rename, fsync of the folder),
 * created with @mode from the start so a secret is never readable by others, even briefly. */
gboolean sotto_util_write_file_atomic (const char *path, const void *data, gsize len, int mode,
                                       GError **error);

/* Reads a secret file. Fails if it is missing, empty, or readable by group/other
 * (like ssh and wireguard-tools, a world-readable secret is an error, not a warning). */
gboolean sotto_util_read_secret_file (const char *path, guint8 **out, gsize *out_len,
                                      GError **error);

/* Constant-time equality of two buffers (CRYPTO_memcmp); unequal lengths are unequal. */
gboolean sotto_util_secure_equal (const void *a, gsize a_len, const void *b, gsize b_len);

/* Fills @buf with cryptographically strong random bytes (RAND_bytes). */
gboolean sotto_util_random (void *buf, gsize len, GError **error);

/* Lower-case hex of @len bytes. */
char *sotto_util_hex (const guint8 *data, gsize len);
/* The same into @out, which holds 2 * @len + 1 bytes (no allocation). */
void sotto_util_hex_into (const guint8 *data, gsize len, char *out);

/* Wipes and frees a NUL-terminated secret string. */
void sotto_util_secret_free (char *secret);

/* Destroys and drops *@source (a GSource this code attached) and sets it to NULL; NULL is
 * fine. GLib 2.74 has no such helper for a GSource held by pointer. */
void sotto_util_source_clear (GSource **source);
typedef char SottoSecret;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SottoSecret, sotto_util_secret_free)

/* A DNS host name: 1-253 characters, labels of 1-63 letters, digits and inner hyphens, and a
 * last label that is not all digits (that would be an IPv4 address). No wildcards. */
gboolean sotto_util_is_dns_name (const char *name);

/* Whether @addr's IP address (port ignored) is one of this host's interface addresses now
 * (getifaddrs). TRUE when that cannot be told. IPv4 and IPv6 only. */
struct sockaddr;
gboolean sotto_util_address_is_local (const struct sockaddr *addr);

G_END_DECLS

/* certs-names: validation of the DNS names a server certificate is issued for (pure). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Checks one DNS name and returns it in canonical form (lower case, no trailing dot).
 * A leading "*." wildcard label is allowed. IP addresses are refused: Sofia-SIP checks
 * certificates by DNS name and ignores IP-address SANs. */
char *sotto_certs_name_normalize (const char *name, GError **error);

/* Normalizes every name in the NULL-terminated @names and drops duplicates, keeping the
 * first occurrence's order. Fails on the first bad name, or when there is none. */
GPtrArray *sotto_certs_names_normalize (const char *const *names, GError **error);

/* TRUE when @a and @b hold the same names in any order (case-insensitive). */
gboolean sotto_certs_names_equal (GPtrArray *a, GPtrArray *b);

/* "a, b, c" */
char *sotto_certs_names_join (GPtrArray *names);

G_END_DECLS

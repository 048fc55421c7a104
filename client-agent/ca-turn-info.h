/* ca-turn-info: reads the X-Sotto-Turn header value (signal/sig-turn.c). Pure.
 *
 *   uris="turn:HOST:3478?transport=udp turn:HOST:3478?transport=tcp turns:HOST:5349?transport=tcp",
 *   username="EXPIRY:OPAQUE", password="BASE64", ttl=SECONDS
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  CA_TURN_URI_UDP,  /* turn:...?transport=udp (or no transport) */
  CA_TURN_URI_TCP,  /* turn:...?transport=tcp */
  CA_TURN_URI_TLS,  /* turns:... (libnice cannot use it; kept for the record) */
  CA_TURN_URI_LAST
} CaTurnUriKind;

typedef struct
{
  CaTurnUriKind kind;
  char *host; /* a DNS name or numeric address, without brackets */
  guint16 port;
} CaTurnUri;

typedef struct
{
  GArray *uris; /* of CaTurnUri; cleared with ca_turn_info_free */
  char *username;
  char *password;
  guint ttl_s;
} CaTurnInfo;

void ca_turn_info_free (CaTurnInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaTurnInfo, ca_turn_info_free)

/* FALSE with G_IO_ERROR_INVALID_DATA on anything malformed: missing uris/username/password,
 * bad quoting, an unknown scheme, a port of 0 or above 65535, more than 8 URIs. */
gboolean ca_turn_info_parse (const char *value, CaTurnInfo **out, GError **error);

G_END_DECLS

/* sig-flow-token: the opaque value sotto-signald puts in its Record-Route URI.
 *
 * Clients sit behind NAT, so an in-dialog request cannot be sent to the Contact address: it must
 * go back over the TLS connection (the "flow", RFC 5626 §5.3) the other party opened. When a
 * dialog-creating request is proxied, the server records both flows and both users in the
 * Record-Route, MAC'd with the install key so nobody can forge a token that points a request
 * into someone else's connection. A pure encoder/decoder: no sockets, no loop. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 caller_flow; /* flow id of the dialog's initiator */
  guint64 callee_flow; /* flow id of the side that answered */
  char *caller;        /* user names, without domain */
  char *callee;
} SigFlowToken;

void sig_flow_token_free (SigFlowToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigFlowToken, sig_flow_token_free)

/* base64url text: ids, names, and HMAC-SHA256(key, everything || ftag) truncated to 16 bytes.
 * @ftag is the initiator's From tag, carried beside the token in the URI. */
char *sig_flow_token_encode (const SigFlowToken *token, const char *ftag, const guint8 *key,
                             gsize key_len);

/* NULL when malformed, truncated, or the MAC does not verify for @ftag. */
SigFlowToken *sig_flow_token_decode (const char *text, const char *ftag, const guint8 *key,
                                     gsize key_len);

G_END_DECLS

/* sig-mclass: sotto-signald's SIP message class. Sofia-SIP's own, except that Authorization
 * and Proxy-Authorization are split only into their scheme and the rest of the value. */
#pragma once

#include <glib.h>

#include <sofia-sip/msg_mclass.h>
#include <sofia-sip/msg_types.h>

G_BEGIN_DECLS

/* A copy of sip_default_mclass() with the two credentials headers kept as sent: au_scheme is
 * the scheme token and au_params holds one item, the rest of the value byte for byte (from its
 * first non-blank character to its last). sig-digest parses that text itself; Sofia's
 * item-by-item split was about 4k instructions per REGISTER, thrown away. Sofia's encoder
 * writes "scheme SP item", the same text, so a forwarded header is unchanged.
 * NULL if out of memory; free with free() (Sofia allocates it with malloc). */
msg_mclass_t *sig_mclass_new (void);

/* The decoder of both headers (hc_parse), exposed for tests and fuzzers: @s is the value
 * (NUL at @slen, no trailing blanks, as Sofia's extractor hands it). -1 for a value that is
 * not "token 1*LWS something". */
issize_t sig_mclass_auth_d (su_home_t *home, msg_header_t *h, char *s, isize_t slen);

G_END_DECLS

/* ca-sdp-priv: internals shared by ca-sdp.c (parse) and ca-sdp-build.c (print). */
#pragma once

#include "ca-sdp.h"

G_BEGIN_DECLS

extern const char *const ca_sdp_profile_names[CA_SDP_PROFILE_LAST];

/* RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 ice-char. */
gboolean ca_sdp_check_ice_credentials (const char *ufrag, const char *pwd, GError **error);

G_END_DECLS

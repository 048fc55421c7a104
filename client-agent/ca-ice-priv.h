/* ca-ice-priv: conversions between libnice's candidates and ours, shared by ca-ice.c (the
 * agent) and ca-ice-candidate.c (the pure part). */
#pragma once

#include <nice/agent.h>

#include "ca-ice.h"

G_BEGIN_DECLS

/* Our one stream has one component: RTP and RTCP share it (RFC 5761 rtcp-mux). */
#define CA_ICE_COMPONENT 1

/* A local libnice candidate as SDP would carry it. With @hide_related the raddr/rport of
 * server-reflexive and relayed candidates become 0.0.0.0 (or ::) and 0, so a relay-only
 * agent reveals no host or reflexive address (as RFC 8828 mode 4 browsers do). FALSE when
 * libnice gave something SDP cannot express; @out is written only on TRUE. */
gboolean ca_ice_candidate_from_nice (const NiceCandidate *nc, gboolean hide_related,
                                     CaSdpCandidate *out);

/* A remote candidate for libnice's stream @stream_id, or NULL with CA_ICE_ERROR_REMOTE
 * saying why it is skipped (another component, ICE-TCP while it is off, port 0...). */
NiceCandidate *ca_ice_candidate_to_nice (const CaSdpCandidate *c, guint stream_id,
                                         gboolean ice_tcp, GError **error);

/* RFC 8839 §5.4: ice-ufrag 4..256 and ice-pwd 22..256 ice-char. */
gboolean ca_ice_check_credentials (const char *ufrag, const char *pwd, GError **error);

/* Whether @addr is one of this host's interface addresses now (getifaddrs). */
gboolean ca_ice_address_is_local (const NiceAddress *addr);

/* The selected pair as users see it. */
void ca_ice_pair_from_nice (const NiceCandidate *local, const NiceCandidate *remote,
                            CaIcePair *out);

G_END_DECLS

/* ca-ice-candidate: NiceCandidate <-> CaSdpCandidate (RFC 8839 §5.1, RFC 6544 tcptype), the
 * ICE credential grammar and the selected pair's summary. No agent, no loop. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-ice-priv.h"
#include "sotto-util.h"

#include <string.h>
#include <sys/socket.h>

static gboolean
type_from_nice (NiceCandidateType t, CaSdpCandidateType *out)
{
  switch (t)
    {
    case NICE_CANDIDATE_TYPE_HOST:
      *out = CA_SDP_CANDIDATE_HOST;
      return TRUE;
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      *out = CA_SDP_CANDIDATE_SRFLX;
      return TRUE;
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      *out = CA_SDP_CANDIDATE_PRFLX;
      return TRUE;
    case NICE_CANDIDATE_TYPE_RELAYED:
      *out = CA_SDP_CANDIDATE_RELAY;
      return TRUE;
    default:
      return FALSE;
    }
}

static NiceCandidateType
type_to_nice (CaSdpCandidateType t)
{
  switch (t)
    {
    case CA_SDP_CANDIDATE_SRFLX:
      return NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
    case CA_SDP_CANDIDATE_PRFLX:
      return NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
    case CA_SDP_CANDIDATE_RELAY:
      return NICE_CANDIDATE_TYPE_RELAYED;
    case CA_SDP_CANDIDATE_HOST:
    default:
      return NICE_CANDIDATE_TYPE_HOST;
    }
}

static gboolean
transport_from_nice (NiceCandidateTransport t, CaSdpTransport *transport, CaSdpTcpType *tcptype)
{
  switch (t)
    {
    case NICE_CANDIDATE_TRANSPORT_UDP:
      *transport = CA_SDP_TRANSPORT_UDP;
      *tcptype = CA_SDP_TCPTYPE_NONE;
      return TRUE;
    case NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE:
      *transport = CA_SDP_TRANSPORT_TCP;
      *tcptype = CA_SDP_TCPTYPE_ACTIVE;
      return TRUE;
    case NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE:
      *transport = CA_SDP_TRANSPORT_TCP;
      *tcptype = CA_SDP_TCPTYPE_PASSIVE;
      return TRUE;
    case NICE_CANDIDATE_TRANSPORT_TCP_SO:
      *transport = CA_SDP_TRANSPORT_TCP;
      *tcptype = CA_SDP_TCPTYPE_SO;
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
address_from_nice (const NiceAddress *addr, char out[CA_SDP_ADDR_LEN], guint16 *port)
{
  int family = addr->s.addr.sa_family;

  if (family != AF_INET && family != AF_INET6)
    return FALSE;
  /* nice_address_to_string() writes at most INET6_ADDRSTRLEN, which CA_SDP_ADDR_LEN is. */
  nice_address_to_string (addr, out);
  *port = (guint16) nice_address_get_port (addr);
  return TRUE;
}

gboolean
ca_ice_candidate_from_nice (const NiceCandidate *nc, gboolean hide_related, CaSdpCandidate *out)
{
  CaSdpCandidate c = { 0 };

  g_return_val_if_fail (nc != NULL && out != NULL, FALSE);

  if (strlen (nc->foundation) == 0 || strlen (nc->foundation) >= sizeof c.foundation)
    return FALSE;
  g_strlcpy (c.foundation, nc->foundation, sizeof c.foundation);
  c.component = nc->component_id;
  c.priority = nc->priority;
  if (!transport_from_nice (nc->transport, &c.transport, &c.tcptype)
      || !type_from_nice (nc->type, &c.type) || !address_from_nice (&nc->addr, c.address, &c.port))
    return FALSE;
  /* RFC 6544 §4.5: an active candidate's port is the discard port 9; libnice leaves 0. */
  if (c.tcptype == CA_SDP_TCPTYPE_ACTIVE && c.port == 0)
    c.port = 9;

  /* RFC 8839 §5.1: rel-addr/rel-port MUST be present on srflx, prflx and relay candidates.
   * libnice's base_addr is the related address (for a relay, the host socket it was
   * allocated from). */
  if (c.type != CA_SDP_CANDIDATE_HOST)
    {
      c.has_related = TRUE;
      if (hide_related || !nice_address_is_valid (&nc->base_addr)
          || !address_from_nice (&nc->base_addr, c.raddr, &c.rport))
        {
          g_strlcpy (c.raddr, strchr (c.address, ':') != NULL ? "::" : "0.0.0.0", sizeof c.raddr);
          c.rport = 0;
        }
    }
  *out = c;
  return TRUE;
}

NiceCandidate *
ca_ice_candidate_to_nice (const CaSdpCandidate *c, guint stream_id, gboolean ice_tcp,
                          GError **error)
{
  NiceCandidate *nc;
  NiceCandidateTransport transport;

  g_return_val_if_fail (c != NULL, NULL);

  if (c->component != CA_ICE_COMPONENT)
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                   "component %u (we use one component with rtcp-mux)", c->component);
      return NULL;
    }
  if (c->transport == CA_SDP_TRANSPORT_UDP)
    transport = NICE_CANDIDATE_TRANSPORT_UDP;
  else if (!ice_tcp)
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE, "ICE-TCP is off here");
      return NULL;
    }
  else if (c->tcptype == CA_SDP_TCPTYPE_ACTIVE)
    transport = NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE;
  else if (c->tcptype == CA_SDP_TCPTYPE_PASSIVE)
    transport = NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
  else if (c->tcptype == CA_SDP_TCPTYPE_SO)
    transport = NICE_CANDIDATE_TRANSPORT_TCP_SO;
  else
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE, "TCP without a tcptype");
      return NULL;
    }
  /* RFC 6544 §4.5: an active candidate's port is meaningless (9 by convention); every
   * other candidate needs a real port. */
  if (c->port == 0 && transport != NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE)
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE, "port 0");
      return NULL;
    }
  if (c->priority == 0 || c->foundation[0] == '\0')
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                           "no priority or no foundation");
      return NULL;
    }

  nc = nice_candidate_new (type_to_nice (c->type));
  nc->transport = transport;
  nc->stream_id = stream_id;
  nc->component_id = CA_ICE_COMPONENT;
  nc->priority = c->priority;
  g_strlcpy (nc->foundation, c->foundation, sizeof nc->foundation);
  if (!nice_address_set_from_string (&nc->addr, c->address))
    {
      g_set_error (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE, "address \"%s\" is not numeric",
                   c->address);
      nice_candidate_free (nc);
      return NULL;
    }
  nice_address_set_port (&nc->addr, c->port);
  if (c->has_related && nice_address_set_from_string (&nc->base_addr, c->raddr))
    nice_address_set_port (&nc->base_addr, c->rport);
  return nc;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.1) */
static gboolean
is_ice_chars (const char *s, gsize min, gsize max)
{
  gsize n = 0;

  if (s == NULL)
    return FALSE;
  for (; s[n] != '\0'; n++)
    if (!g_ascii_isalnum (s[n]) && s[n] != '+' && s[n] != '/')
      return FALSE;
  return n >= min && n <= max;
}

gboolean
ca_ice_check_credentials (const char *ufrag, const char *pwd, GError **error)
{
  if (!is_ice_chars (ufrag, 4, 256))
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                           "remote ice-ufrag is not 4 to 256 ice-char (RFC 8839 §5.4)");
      return FALSE;
    }
  if (!is_ice_chars (pwd, 22, 256))
    {
      g_set_error_literal (error, CA_ICE_ERROR, CA_ICE_ERROR_REMOTE,
                           "remote ice-pwd is not 22 to 256 ice-char (RFC 8839 §5.4)");
      return FALSE;
    }
  return TRUE;
}

void
ca_ice_pair_from_nice (const NiceCandidate *local, const NiceCandidate *remote, CaIcePair *out)
{
  CaIcePair p = { 0 };
  CaSdpTcpType tcptype;

  if (!type_from_nice (local->type, &p.local_type))
    p.local_type = CA_SDP_CANDIDATE_HOST;
  if (!type_from_nice (remote->type, &p.remote_type))
    p.remote_type = CA_SDP_CANDIDATE_HOST;
  if (!transport_from_nice (local->transport, &p.transport, &tcptype))
    p.transport = CA_SDP_TRANSPORT_UDP;
  if (!address_from_nice (&local->addr, p.local_address, &p.local_port))
    g_strlcpy (p.local_address, "?", sizeof p.local_address);
  if (!address_from_nice (&remote->addr, p.remote_address, &p.remote_port))
    g_strlcpy (p.remote_address, "?", sizeof p.remote_address);
  *out = p;
}

const char *
ca_ice_pair_path_kind (const CaIcePair *pair)
{
  g_return_val_if_fail (pair != NULL, "host");

  if (pair->local_type == CA_SDP_CANDIDATE_RELAY || pair->remote_type == CA_SDP_CANDIDATE_RELAY)
    return "relay";
  if (pair->local_type == CA_SDP_CANDIDATE_SRFLX || pair->local_type == CA_SDP_CANDIDATE_PRFLX
      || pair->remote_type == CA_SDP_CANDIDATE_SRFLX
      || pair->remote_type == CA_SDP_CANDIDATE_PRFLX)
    return "srflx";
  return "host";
}

gboolean
ca_ice_address_is_local (const NiceAddress *addr)
{
  struct sockaddr_storage ss = { 0 };

  nice_address_copy_to_sockaddr (addr, (struct sockaddr *) &ss);
  return sotto_util_address_is_local ((const struct sockaddr *) &ss);
}

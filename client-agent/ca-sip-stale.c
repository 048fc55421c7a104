/* ca-sip-stale: TCP connections whose local address this host no longer has.
 *
 * When a laptop moves to another network, its old address goes, and every TCP connection
 * bound to it is dead: nothing it sends can leave, and nothing comes back. The kernel does not
 * say so until the retransmissions give up, minutes later, and Sofia-SIP's transport keeps
 * reusing such a connection to the registrar (its keepalive notices after about 40 s). So on
 * a network change the agent shuts these sockets down itself: Sofia then sees the end of the
 * stream, closes its transport, and the next request opens a new connection from the new
 * address. Only IPv4/IPv6 stream sockets whose local address is gone are touched: each of them
 * is dead whoever owns it. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-sip-priv.h"
#include "sotto-util.h"

#include <dirent.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

static gboolean
is_any (const struct sockaddr_storage *local)
{
  static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

  if (local->ss_family == AF_INET)
    return ((const struct sockaddr_in *) (const void *) local)->sin_addr.s_addr == INADDR_ANY;
  return memcmp (&((const struct sockaddr_in6 *) (const void *) local)->sin6_addr, &any6,
                 sizeof any6)
         == 0;
}

guint
ca_sip_shutdown_stale_connections (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *e;
  guint n = 0;

  if (dir == NULL)
    return 0;
  while ((e = readdir (dir)) != NULL)
    {
      char *end = NULL;
      long fd = strtol (e->d_name, &end, 10);
      struct sockaddr_storage local, peer;
      socklen_t llen = sizeof local, plen = sizeof peer;
      int type = 0;
      socklen_t tlen = sizeof type;
      struct stat st;

      if (end == e->d_name || *end != '\0' || fd < 0 || fd == dirfd (dir)
          || fstat ((int) fd, &st) != 0 || !S_ISSOCK (st.st_mode)
          || getsockopt ((int) fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0
          || type != SOCK_STREAM
          || getsockname ((int) fd, (struct sockaddr *) &local, &llen) != 0
          || (local.ss_family != AF_INET && local.ss_family != AF_INET6) || is_any (&local)
          || getpeername ((int) fd, (struct sockaddr *) &peer, &plen) != 0
          || sotto_util_address_is_local ((const struct sockaddr *) &local))
        continue;
      if (shutdown ((int) fd, SHUT_RDWR) == 0)
        n++;
    }
  closedir (dir);
  if (n > 0)
    g_info ("shut down %u TCP connection%s whose local address is gone", n, n == 1 ? "" : "s");
  return n;
}

/* sig-no-dial: sotto-signald never opens a TCP connection.
 *
 * Its clients sit behind NAT: the only way to reach one is the TLS connection it opened. nta
 * and tport, however, fall back to connecting to a Via or Contact address when a response or
 * request finds its connection closed, which at best wastes a handshake on a NAT mapping and at
 * worst reaches whatever now answers there. The server code avoids those paths, and this guard
 * makes the rule hold for every path: Sofia-SIP calls connect() through its PLT, so this
 * definition in the executable is the one it reaches. Stream sockets are refused with EACCES
 * (and a warning); anything else goes to the real connect(). */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "sotto-signald"
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>

#include <glib.h>

typedef int (*ConnectFn) (int fd, const struct sockaddr *addr, socklen_t len);

int
connect (int fd, const struct sockaddr *addr, socklen_t len)
{
  static ConnectFn real;
  int type = 0;
  socklen_t type_len = sizeof type;

  if (getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM
      && addr != NULL && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6))
    {
      char host[NI_MAXHOST] = "?", port[NI_MAXSERV] = "?";
      getnameinfo (addr, len, host, sizeof host, port, sizeof port,
                   NI_NUMERICHOST | NI_NUMERICSERV);
      g_warning ("blocked an outgoing connection to %s port %s: the server only answers on "
                 "connections its clients opened", host, port);
      errno = EACCES;
      return -1;
    }
  if (real == NULL)
    real = (ConnectFn) dlsym (RTLD_NEXT, "connect");
  if (real == NULL)
    {
      errno = ENOSYS;
      return -1;
    }
  return real (fd, addr, len);
}

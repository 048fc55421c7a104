/* ca-sip-listen: keeps Sofia-SIP's primary TLS socket from listening.
 *
 * nua needs a primary sips: transport even in a client, and makes it a listening socket.
 * The agent never needs to accept a connection: the server sends every request over the TLS
 * connection the agent opened (RFC 5626 flows). A listening socket on 0.0.0.0 (see ca-sip.c)
 * would let anyone on the network open a TLS connection and hand nua a request that never went
 * through the server. So while nua_create() runs, and only then, listen() succeeds without
 * doing anything: the socket stays bound, never listens, and connections to it are refused.
 * Every other listen() in the process (GDBus's control socket, libnice's ICE-TCP) goes to the
 * C library unchanged. The library calls listen() through its PLT, so this definition in the
 * program is the one it reaches (the same mechanism as common/sotto-tls-context.c).
 * tests/test-ca-sip /agent/sip/no-listener checks that the process listens nowhere. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

#include "ca-sip-priv.h"

static gboolean holding;

typedef int (*ListenFn) (int fd, int backlog);

int
listen (int fd, int backlog)
{
  static ListenFn real;
  int type = 0;
  socklen_t len = sizeof type;

  if (holding && getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM)
    return 0;
  if (real == NULL)
    real = (ListenFn) dlsym (RTLD_NEXT, "listen");
  if (real == NULL)
    {
      errno = ENOSYS;
      return -1;
    }
  return real (fd, backlog);
}

void
ca_sip_hold_listen (gboolean hold)
{
  holding = hold;
}

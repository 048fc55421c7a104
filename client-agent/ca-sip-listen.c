/* ca-sip-listen: Sofia-SIP's primary TLS socket accepts no connection.
 *
 * nua needs a primary sips: transport even in a client, and makes it a listening socket.
 * The agent never needs to accept a connection: the server sends every request over the TLS
 * connection the agent opened (RFC 5626 flows). A socket listening on 0.0.0.0 (see ca-sip.c)
 * would let anyone on the network open a TLS connection and hand nua a request that never went
 * through the server. So while nua_create() runs, and only then, every stream socket that
 * starts listening gets a socket filter that drops every packet sent to it, locked in place
 * (SO_ATTACH_FILTER, SO_LOCK_FILTER): connection attempts never complete, and nothing reaches
 * Sofia. Not listening at all is no option: poll() reports a bound, unconnected TCP socket as
 * hung up at once, and Sofia's wait on it would spin the main loop.
 * Every other listen() in the process (GDBus's control socket, libnice's ICE-TCP) goes to the
 * C library unchanged. The library calls listen() through its PLT, so this definition in the
 * program is the one it reaches (the mechanism of common/sotto-tls-context.c).
 * tests/test-ca-sip /agent/sip/listener-refuses checks that a connection attempt fails. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include "ca-sip-priv.h"

#ifndef SO_LOCK_FILTER
#define SO_LOCK_FILTER 44
#endif

static gboolean holding;

typedef int (*ListenFn) (int fd, int backlog);

int
listen (int fd, int backlog)
{
  static ListenFn real;
  int type = 0;
  socklen_t len = sizeof type;
  int rc;

  if (real == NULL)
    real = (ListenFn) dlsym (RTLD_NEXT, "listen");
  if (real == NULL)
    {
      errno = ENOSYS;
      return -1;
    }
  rc = real (fd, backlog);
  if (rc == 0 && holding && getsockopt (fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0
      && type == SOCK_STREAM)
    {
      struct sock_filter drop_all[] = { BPF_STMT (BPF_RET | BPF_K, 0) };
      struct sock_fprog prog = { .len = G_N_ELEMENTS (drop_all), .filter = drop_all };
      int one = 1;

      /* Failing closed: a listener we cannot seal is no listener at all. */
      if (setsockopt (fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0
          || setsockopt (fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one) != 0)
        {
          int saved = errno;

          g_warning ("cannot seal Sofia-SIP's listening socket: %s", g_strerror (saved));
          errno = saved;
          return -1;
        }
    }
  return rc;
}

void
ca_sip_hold_listen (gboolean hold)
{
  holding = hold;
}

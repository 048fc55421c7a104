/* bench-conn: non-blocking TLS client connections on one epoll loop, delivering whole SIP
 * messages. One loop per worker process; no threads. */
#pragma once

#include <glib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>

G_BEGIN_DECLS

typedef struct _BenchLoop BenchLoop;
typedef struct _BenchConn BenchConn;

typedef struct
{
  void (*opened) (BenchConn *conn, gpointer user);
  void (*message) (BenchConn *conn, const char *msg, gsize len, gpointer user);
  /* The connection failed or the server closed it. It is freed right after this returns. */
  void (*closed) (BenchConn *conn, const char *why, gpointer user);
} BenchConnHandlers;

/* @ctx is borrowed. */
BenchLoop *bench_loop_new (SSL_CTX *ctx, GError **error);
void bench_loop_free (BenchLoop *loop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchLoop, bench_loop_free)

/* Watches a plain fd for readability (a control pipe). */
gboolean bench_loop_watch_fd (BenchLoop *loop, int fd, void (*cb) (int fd, gpointer user),
                              gpointer user, GError **error);
/* Waits up to @timeout_ms and dispatches what is ready. */
void bench_loop_iterate (BenchLoop *loop, int timeout_ms);

/* Monotonic microseconds. */
gint64 bench_now_us (void);

/* Starts a connection from @src (port chosen at connect time, so one source address can carry
 * as many connections as the 4-tuple allows) to @server. NULL with @error when the socket
 * cannot even be created. */
BenchConn *bench_conn_open (BenchLoop *loop, const struct sockaddr_in *src,
                            const struct sockaddr_in *server, const BenchConnHandlers *handlers,
                            gpointer user, GError **error);
/* Queues @len bytes and writes what the socket takes. */
void bench_conn_send (BenchConn *conn, const char *data, gsize len);
/* Sends close_notify (best effort), closes the socket; the memory goes at the end of this
 * iteration, so it is safe from inside a handler. No handler is called. */
void bench_conn_close (BenchConn *conn);
/* "127.0.0.2:40001", valid once opened. */
const char *bench_conn_local (BenchConn *conn);

G_END_DECLS

/* bench-worker: one load-generating process. It prepares its share of user agents (initial
 * registrations), tells the parent it is ready, runs the case between the parent's "go" and
 * "stop", and sends back its BenchStats. */
#pragma once

#include <glib.h>
#include <netinet/in.h>

#include "bench-digest.h"
#include "bench-stats.h"

G_BEGIN_DECLS

typedef enum
{
  BENCH_CASE_REGISTER, /* registered connections re-REGISTER in a loop */
  BENCH_CASE_CHURN,    /* connect, handshake, REGISTER with auth, close, again */
  BENCH_CASE_CALLS,    /* caller/callee pairs: INVITE/407/INVITE/180/200/ACK/BYE/200 */
  BENCH_CASE_IDLE,     /* K registered connections held open */
  BENCH_CASE_LAST
} BenchCase;

const char *bench_case_to_string (BenchCase c);
gboolean bench_case_from_string (const char *text, BenchCase *out);

typedef struct
{
  BenchCase kase;
  BenchDigestAlg alg;
  struct sockaddr_in server;
  const char *domain;
  const char *cafile; /* NULL: do not verify the server */
  guint procs;
  guint concurrency; /* register, churn: connections; calls: pairs */
  guint conns;       /* idle: connections */
  guint user_offset; /* user names start at u%05d of this number */
  guint src_count;   /* source addresses 127.0.0.2 .. 127.0.0.(1 + src_count) */
  guint expires;
  guint timeout_ms;
  guint setup_window; /* registrations in flight per worker while preparing */
} BenchOptions;

/* Control bytes from the parent on @ctl_fd. */
#define BENCH_CTL_GO 'G'
#define BENCH_CTL_STOP 'S'
/* Written by the worker on @result_fd when prepared, before the BenchStats. */
#define BENCH_READY 'R'

/* Runs in a child process with user agents [@first, @first + @count) of the whole run
 * (global numbering: user names and source addresses derive from it). Returns an exit status. */
int bench_worker_run (const BenchOptions *opt, guint first, guint count, int ctl_fd,
                      int result_fd);

/* The password the load tool and the Kamailio config derive from a user name. */
char *bench_password_for (const char *user);

G_END_DECLS

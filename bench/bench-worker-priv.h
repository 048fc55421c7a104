/* Shared between bench-worker.c (the process and its loop) and bench-ua.c (SIP behaviour). */
#pragma once

#include "bench-conn.h"
#include "bench-digest.h"
#include "bench-worker.h"

typedef struct _BenchWorker BenchWorker;

typedef enum
{
  BENCH_CALL_NONE,
  BENCH_CALL_INVITE1, /* INVITE without credentials sent, 407 expected */
  BENCH_CALL_INVITE2, /* INVITE with credentials sent */
  BENCH_CALL_BYE,     /* ACK and BYE sent, 200 expected */
  BENCH_CALL_LAST
} BenchCallState;

typedef struct
{
  BenchWorker *w;
  guint index; /* global */
  char name[16];
  char password[24];
  char aor[160];
  char contact[160];
  struct sockaddr_in src;
  gboolean is_caller;
  gboolean is_callee;

  BenchConn *conn;
  char call_id[64]; /* of the registration, per connection */
  char from_tag[32];
  guint32 cseq;
  BenchDigestChallenge ch;
  gboolean have_ch;
  guint32 nc;
  gboolean sent_auth;
  guint auth_rounds; /* 401s within one registration */

  gboolean registering; /* a registration (connection + REGISTER) is under way */
  gboolean reg_is_op;   /* ... and it is a measured operation */
  gboolean registered;
  gboolean setup_pending; /* counted in the worker's setup progress until registered */
  guint setup_failures;

  gboolean op_active;
  gboolean op_counted;
  gint64 op_start;
  gint64 deadline; /* 0: none */
  gint64 retry_at; /* 0: none */

  /* caller */
  BenchCallState call;
  char dlg_call_id[64];
  char dlg_from_tag[32];
  guint32 dlg_cseq;
  char dlg_branch[40];
  char peer_aor[160];
  /* callee */
  char callee_tag[32];
} BenchUa;

struct _BenchWorker
{
  const BenchOptions *opt;
  BenchLoop *loop;
  SSL_CTX *ctx;
  BenchStats *stats;
  BenchUa *uas;
  guint n_uas;
  guint seq;
  gboolean setup_phase;
  gboolean measuring;
  gboolean stopping;
  gboolean done;
  guint setup_inflight;
  guint setup_next;
  guint setup_finished;
  GString *scratch;
};

/* bench-ua.c */
void bench_ua_init (BenchWorker *w, BenchUa *ua, guint index);
/* Connects (if needed) and registers; @as_op makes it a measured operation. */
void bench_ua_register (BenchUa *ua, gboolean as_op);
/* Starts the case's work on a registered user agent (called at "go" and after recovery). */
void bench_ua_start_work (BenchUa *ua);
/* Timers: deadline and retry. */
void bench_ua_tick (BenchUa *ua, gint64 now);
/* Closes everything without counting. */
void bench_ua_shutdown (BenchUa *ua);

/* sig-harness: starts a real sotto-signald for integration tests, the way a deployment does:
 * certificates from sotto-certs, accounts through sotto-admin in a real SQLite file, the server
 * as a subprocess on a loopback port it reports back (port 0), a deadline on every wait. */
#pragma once

#include <gio/gio.h>

#include "tua.h"

G_BEGIN_DECLS

#define SIG_HARNESS_DOMAIN "localhost"

typedef struct
{
  char *dir;       /* temporary root, removed on free */
  char *cert_dir;
  char *state_dir;
  char *cafile;
  char *config_path;
  char *log_path;  /* the server's stderr */
  GString *config_extra; /* appended to the generated config file */
  GSubprocess *proc;
  guint16 port;
  GPid pid;
} SigHarness;

/* Temporary folder with certificates for "localhost" (sotto-certs init). */
SigHarness *sig_harness_new (void);
void sig_harness_free (SigHarness *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigHarness, sig_harness_free)

/* sotto-admin add USER --password-stdin. */
void sig_harness_add_user (SigHarness *h, const char *user, const char *password);
/* Runs sotto-admin with @argv (NULL-terminated, after the common options); returns its exit
 * status, with stdout/stderr in the optional out-parameters. */
int sig_harness_admin (SigHarness *h, const char *const *argv, const char *stdin_text,
                       char **out, char **err);

/* Starts sotto-signald and waits (10 s at most) for READY; asserts on failure. */
void sig_harness_start (SigHarness *h);
/* SIGTERM and wait (10 s at most). Returns the exit status (-1 on a signal death). */
int sig_harness_stop (SigHarness *h);
/* SIGKILL and reap. */
void sig_harness_kill9 (SigHarness *h);

/* A verified TLS connection to the server (CA from the harness, name "localhost"). */
TuaConn *sig_harness_connect (SigHarness *h);
/* A connection plus a UA for @user. Both are freed with the UA's helper below. */
typedef struct
{
  TuaConn *conn;
  TuaUa *ua;
} SigClient;
SigClient *sig_client_new (SigHarness *h, const char *user, const char *password);
void sig_client_free (SigClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SigClient, sig_client_free)

/* Registers @c, asserting a 200. */
void sig_client_register (SigClient *c, guint expires);

/* Everything the server has logged so far. */
char *sig_harness_log (SigHarness *h);

/* Resident set size of the running server, in KiB. */
guint64 sig_harness_rss_kib (SigHarness *h);

G_END_DECLS

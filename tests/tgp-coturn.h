/* tgp-coturn: a real coturn (Debian's turnserver) for the sotto-turn run/check tests, on
 * loopback ports that were free a moment before, with Sotto's test certificates
 * (sotto-certs init --name localhost), use-auth-secret with a static secret, and a deadline
 * on every wait. The child dies with the test (PR_SET_PDEATHSIG). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TGP_SECRET "tgp-static-secret-0123456789"

typedef struct
{
  char *dir;      /* temporary folder, removed on free */
  char *cert_dir; /* server.pem, server.key, cafile.pem */
  char *cafile;
  char *conf_path;
  char *log_path;
  guint16 port;     /* UDP and TCP */
  guint16 tls_port;
  GString *extra;   /* more coturn options, one per line */
  GSubprocess *proc;
} TgpCoturn;

/* The turnserver program, or NULL (then the test skips). */
const char *tgp_turnserver (void);
/* A port that was free for both UDP and TCP on 127.0.0.1. */
guint16 tgp_free_port (void);
/* Makes a new folder with certificates and two free ports; nothing runs yet. */
TgpCoturn *tgp_coturn_new (void);
void tgp_coturn_free (TgpCoturn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TgpCoturn, tgp_coturn_free)
/* Writes the coturn configuration (with @c->extra) and returns its path (owned by @c). */
const char *tgp_coturn_write_conf (TgpCoturn *c);
/* Writes the configuration, starts turnserver and waits (10 s at most) until UDP, TCP and TLS
 * all answer a STUN Binding request; asserts on failure. */
void tgp_coturn_start (TgpCoturn *c);
/* SIGTERM, SIGKILL after 5 s; reaps. */
void tgp_coturn_stop (TgpCoturn *c);

/* TURN REST credentials computed here, independently of tg-cred: username "expiry:id",
 * password base64(HMAC-SHA1(secret, username)). */
void tgp_credential (const char *secret, const char *id, gint64 expiry, char **username,
                     char **password);

/* Runs @argv to completion (30 s at most); returns the exit status (-1 on a signal). */
int tgp_run (const char *const *argv, char **out, char **err);

G_END_DECLS

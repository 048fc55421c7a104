/* interop-client: a third-party softphone (linphonec or baresip) as a subprocess of a test.
 *
 * Each client gets its own temporary folder, which is its HOME, its working directory and
 * where its configuration lives, so nothing is read from or written to the user's real
 * configuration. It is driven through its standard input (both read commands there), its
 * output goes to a file the test searches with a deadline, and it dies with the test
 * (sotto_test_die_with_parent). */
#pragma once

#include <gio/gio.h>

#include "sig-harness.h"

G_BEGIN_DECLS

typedef enum {
  INTEROP_LINPHONEC,
  INTEROP_BARESIP,
  INTEROP_KIND_LAST
} InteropKind;

const char *interop_kind_to_string (InteropKind kind);

typedef struct
{
  InteropKind kind;
  char *name;
  char *dir;       /* HOME, working directory and configuration */
  char *out_path;  /* its stdout and stderr */
  char *log_path;  /* linphonec's own log (-l), NULL for baresip */
  GSubprocess *proc;
  gsize cursor;    /* interop_client_wait() searches the output from here */
} InteropClient;

/* What the client is configured with. Strings may be NULL where noted. */
typedef struct
{
  const char *user;
  const char *password;
  /* linphonec: "zrtp", "dtls", "srtp" or "none" (mandatory unless "none");
   * baresip: a mediaenc module name ("dtls_srtp") or NULL for none. */
  const char *encryption;
  gboolean ice;
  /* baresip only: the WAV it sends (aufile; the call ends when it ends), NULL for silence
   * from a file this module writes, and the folder where sndfile records both directions. */
  const char *baresip_play;
  const char *baresip_record_dir;
  gboolean auto_answer; /* baresip only */
} InteropClientConfig;

/* The program's path, or NULL when it is not installed. */
const char *interop_linphonec_path (void);
const char *interop_baresip_path (void);

/* Starts linphonec registering @cfg->user at @h over TLS (sips:localhost:PORT), checking the
 * server certificate against @h's CA (root_ca + verify_server_certs). */
InteropClient *interop_linphonec_start (SigHarness *h, const InteropClientConfig *cfg);
/* Starts baresip with an account at @h over TLS (baresip does not check the certificate). */
InteropClient *interop_baresip_start (SigHarness *h, const InteropClientConfig *cfg);

/* Writes one command line to its standard input. */
void interop_client_send (InteropClient *c, const char *line);
/* Waits up to @timeout_ms for @regex (GRegex, multiline) in the output after the cursor; on a
 * match moves the cursor past it and returns capture group 1 if the pattern has one, else the
 * whole match. NULL at the deadline or when the client exited. */
char *interop_client_wait (InteropClient *c, const char *regex, guint timeout_ms);
/* The first match of @regex (group 1 if any) anywhere in the output, else NULL. */
char *interop_client_find (InteropClient *c, const char *regex);
/* The same in linphonec's own log file (-l). */
char *interop_client_find_in_log (InteropClient *c, const char *regex);
/* Everything it printed so far. */
char *interop_client_output (InteropClient *c);
gboolean interop_client_running (InteropClient *c);

/* A non-loopback IPv4 address of this host ("hostname -I"), else "127.0.0.1". Neither client
 * offers loopback ICE candidates (baresip skips them; linphonec offers its LAN address from a
 * socket bound to the wildcard), so the agent must talk to them on this address. */
char *interop_lan_address (void);

/* Asks it to quit, waits up to 5 s, then SIGKILL. Safe to call twice. */
void interop_client_stop (InteropClient *c);
void interop_client_free (InteropClient *c); /* stops it; removes its folder */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InteropClient, interop_client_free)

/* Copies a WAV whose RIFF and data sizes disagree with the file's length (linphonec's file
 * recorder writes the file length as the data size) into @fixed with the sizes recomputed.
 * FALSE with @error when @path is not a RIFF/WAVE file with a data chunk. */
gboolean interop_wav_fix_sizes (const char *path, const char *fixed, GError **error);

/* Writes @src (16-bit PCM WAV, any rate, mono or stereo) to @dst as 16-bit PCM stereo at
 * @rate, the format baresip 1.0's aufile source needs for opus. */
gboolean interop_wav_convert (const char *src, const char *dst, guint rate, GError **error);

G_END_DECLS

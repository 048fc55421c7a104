/* ca-config: ~/.config/sotto/agent.conf (GKeyFile, XDG), parsed into one struct.
 *
 *   [account]
 *   aor = sips:alice@example.org
 *   registrar = sips:example.org:5061     ; default: sips:<AOR domain>:5061
 *   username = alice                      ; default: the AOR's user
 *   password-file = ~/.config/sotto/password  ; 0600; or --password-stdin; never argv
 *   ca-file = /path/ca.pem                ; pinned CA; default: system store
 *   [media]
 *   force-relay = false
 *   silence = false                       ; send silence, not the default source (headless)
 *   play = /path/to.wav                   ; default: the default source
 *   record = /path/to.wav                 ; default: the default sink
 *   local-addresses = 10.0.0.2;           ; host candidates only on these
 *   ice-tcp = false
 *   codecs = opus;pcmu
 *   [agent]
 *   auto-answer = false
 *   state-dir = ~/.local/state/sotto
 *   control-socket = $XDG_RUNTIME_DIR/sotto/agent.sock
 *   session-bus = true
 *   log-level = info
 *
 * Errors name the file, the line and the key. Unknown groups or keys are errors (a typo must
 * not silently fall back to a default). Pure: ca_config_load_from_data() needs no file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *aor;
  char *registrar;
  char *username;
  char *password_file;
  char *ca_file;
  gboolean force_relay;
  gboolean silence;
  char *play_path;
  char *record_path;
  GStrv local_addresses; /* NULL: all */
  gboolean ice_tcp;
  GStrv codecs;          /* "opus", "pcmu" in preference order */
  gboolean auto_answer;
  char *state_dir;
  char *control_socket;
  gboolean session_bus;
  char *log_level;
} CaConfig;

CaConfig *ca_config_new_default (void);
void ca_config_free (CaConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaConfig, ca_config_free)

/* @source_name is used in messages ("agent.conf"). Written into a fresh config over the
 * defaults; *out written only on success. */
gboolean ca_config_load_from_data (const char *data, gsize len, const char *source_name,
                                   CaConfig **out, GError **error);
gboolean ca_config_load_file (const char *path, CaConfig **out, GError **error);
/* $XDG_CONFIG_HOME/sotto/agent.conf */
char *ca_config_default_path (void);
/* Reads the password file: refuses one that is group- or world-readable, strips one trailing
 * newline, refuses an empty one. The result is to be wiped (sotto_util) after use. */
char *ca_config_read_password_file (const char *path, GError **error);

G_END_DECLS

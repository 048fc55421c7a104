/* ca-control: sotto-agentd's control interface, org.sotto.Agent1 on D-Bus.
 *
 * The same interface is exported on the session bus (name org.sotto.Agent, when a session bus
 * exists) and on a private peer-to-peer D-Bus socket (GDBusServer on a unix socket, 0600 in a
 * 0700 directory) for headless and test use. sottoctl talks to either.
 *
 *   object /org/sotto/Agent, interface org.sotto.Agent1
 *   Status () -> (a{sv} status)      registration, aor, registrar, TURN, calls
 *   Call (s target) -> (u call_id)
 *   Answer (u call_id), Hangup (u call_id)
 *   Verify (u call_id, b verified)   the users compared the SAS (ZRTP) and it matched
 *   ListCalls () -> (aa{sv} calls)   each with "id", "peer", "direction", "state", "reason"
 *   CallInfo (u call_id) -> (a{sv})  path kind, selected pair, RTT, packets/bytes each way,
 *                                    loss, encryption suite, peer key verified...
 *   signal IncomingCall (u call_id, s from)
 *   signal CallStateChanged (u call_id, s state, s reason)
 *
 * The daemon's logic stays behind a backend table, so this file knows D-Bus and nothing else.
 * Backend errors (GError) reach the client as D-Bus errors with the same message. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CA_CONTROL_BUS_NAME "org.sotto.Agent"
#define CA_CONTROL_OBJECT_PATH "/org/sotto/Agent"
#define CA_CONTROL_INTERFACE "org.sotto.Agent1"

typedef struct
{
  GVariant *(*status) (gpointer self);                          /* a{sv}, floating ok */
  guint (*call) (gpointer self, const char *target, GError **error);
  gboolean (*answer) (gpointer self, guint call_id, GError **error);
  gboolean (*hangup) (gpointer self, guint call_id, GError **error);
  GVariant *(*list_calls) (gpointer self);                      /* aa{sv} */
  GVariant *(*call_info) (gpointer self, guint call_id, GError **error); /* a{sv} */
  /* The users compared the call's SAS aloud and it matched (or: forget it). */
  gboolean (*verify) (gpointer self, guint call_id, gboolean verified, GError **error);
} CaControlBackend;

typedef struct _CaControl CaControl;

/* @socket_path: the private socket (its directory is created 0700); NULL: none.
 * @session_bus: also own org.sotto.Agent on the session bus if one is reachable (a missing
 * bus is logged at debug level, not an error). */
CaControl *ca_control_new (const CaControlBackend *backend, gpointer self,
                           const char *socket_path, gboolean session_bus, GError **error);
void ca_control_free (CaControl *control);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaControl, ca_control_free)

/* The D-Bus address of the private socket ("unix:path=..."), or NULL. */
const char *ca_control_get_address (CaControl *control);

void ca_control_emit_incoming_call (CaControl *control, guint call_id, const char *from);
void ca_control_emit_call_state (CaControl *control, guint call_id, const char *state,
                                 const char *reason);

/* The default private socket: $XDG_RUNTIME_DIR/sotto/agent.sock (or the user cache dir). */
char *ca_control_default_socket_path (void);

G_END_DECLS

/* agent-harness: real sotto-agentd processes for integration tests, started the way a user
 * starts one: a config file, a 0600 password file, a private control socket, talking to a
 * real sotto-signald (sig-harness) and, for relayed calls, a real coturn. The test drives
 * each agent over its D-Bus control socket (org.sotto.Agent1) with a deadline on every wait. */
#pragma once

#include <gio/gio.h>

#include "sig-harness.h"

G_BEGIN_DECLS

typedef struct
{
  char *name;
  char *dir;        /* the agent's own temporary folder (state, socket, log) */
  char *socket;
  char *log_path;
  char *conf_path;
  GSubprocess *proc;
  GDBusConnection *bus;
} AgentProc;

/* Starts sotto-agentd for @user of @h (password @password), with @extra_conf appended to the
 * [media]/[agent] groups it writes (raw lines, may be NULL) and @extra_args on its command
 * line (NULL-terminated, may be NULL). Waits (10 s) for its control socket. */
AgentProc *agent_proc_start (SigHarness *h, const char *user, const char *password,
                             const char *extra_conf, const char *const *extra_args);
/* SIGTERM, then asserts a clean exit within 10 s (so sanitizer reports fail the test). */
void agent_proc_stop (AgentProc *a);
void agent_proc_free (AgentProc *a); /* kills it if still running; removes its folder */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentProc, agent_proc_free)

/* A method of org.sotto.Agent1; the reply, or NULL with @error. */
GVariant *agent_proc_invoke (AgentProc *a, const char *method, GVariant *params,
                             GError **error);
/* Looks one key up in Status(). Owned by the caller. */
char *agent_proc_status_string (AgentProc *a, const char *key);
/* CallInfo(@id) as a dictionary (a{sv}). */
GVariant *agent_proc_call_info (AgentProc *a, guint id);
char *agent_proc_call_string (AgentProc *a, guint id, const char *key);
guint64 agent_proc_call_u64 (AgentProc *a, guint id, const char *key);

/* Polls until Status() says "registered" (TRUE) or @timeout_ms passes (FALSE). */
gboolean agent_proc_wait_registered (AgentProc *a, guint timeout_ms);
/* Polls until call @id is in @state; TRUE, or FALSE at the deadline or if it ended first. */
gboolean agent_proc_wait_state (AgentProc *a, guint id, const char *state, guint timeout_ms);
/* The id of a call in state "incoming", waiting up to @timeout_ms; 0 if none came. */
guint agent_proc_wait_incoming (AgentProc *a, guint timeout_ms);
/* Runs the main context for @ms milliseconds (the agents live in other processes). */
void agent_sleep_ms (guint ms);

/* The agent's log so far. */
char *agent_proc_log (AgentProc *a);

/* A spoken WAV made by espeak-ng in @dir, or NULL when espeak-ng is missing. */
char *agent_make_speech (const char *dir, const char *name, const char *text);

G_END_DECLS

/* ca-agent: sotto-agentd's core. It owns the registration (ca-sip), the calls (one ca-session
 * each), the TURN servers learnt at registration, and serves the control interface
 * (ca-control). main() parses options and wires this up; nothing else. */
#pragma once

#include <glib.h>

#include "ca-config.h"

G_BEGIN_DECLS

typedef struct _CaAgent CaAgent;

/* @password is copied (and wiped on free). */
CaAgent *ca_agent_new (const CaConfig *config, const char *password, GError **error);
void ca_agent_free (CaAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CaAgent, ca_agent_free)

/* Registers and opens the control socket. */
gboolean ca_agent_start (CaAgent *agent, GError **error);
/* Registers again at once (SIGHUP, a network change). */
void ca_agent_reregister (CaAgent *agent);

/* Hangs every call up and unregisters; @done runs on the loop once it has (bounded). */
void ca_agent_shutdown (CaAgent *agent, GSourceFunc done, gpointer user_data);

G_END_DECLS

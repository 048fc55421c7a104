/* nat-lab-harness: the NAT lab (tests/nat-lab/nat-lab) for GTest programs. One lab per
 * process, named "sl<PID>-", with a guardian that tears it down when the process dies however
 * it dies (a failed assertion aborts; SIGKILL skips every handler). Every wait has a deadline. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define NAT_LAB_DOMAIN  "sotto.lab"
#define NAT_LAB_SERVER  "100.64.0.2" /* also the resolver; 100.64.0.3 is the second address */
#define NAT_LAB_SERVER2 "100.64.0.3"

typedef struct
{
  char *prefix; /* "sl<PID>-" */
  char *dir;    /* state: pid files, logs, certificates, captures */
  char *script;
  GSubprocess *guardian;
} NatLab;

/* Why the lab cannot run here (not root, a tool missing, no namespaces), or NULL. */
char *nat_lab_unavailable (void);

/* Removes leftovers of earlier runs whose process is gone, then builds the lab (deadline
 * 60 s). NULL with @error when it could not be built. */
NatLab *nat_lab_up (GError **error);
/* Tears the lab down (every process in it is killed) and frees @lab. */
void nat_lab_free (NatLab *lab);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NatLab, nat_lab_free)

/* The namespace of a host ("pub", "sym", "srv", "inet", ...). */
char *nat_lab_ns (NatLab *lab, const char *host);

/* Runs "nat-lab ARGS..." (the prefix is inserted after the subcommand) with a deadline of
 * @timeout_s; returns its stdout without the trailing newline, or NULL with @error. */
char *nat_lab_run (NatLab *lab, guint timeout_s, GError **error, const char *subcommand, ...)
    G_GNUC_NULL_TERMINATED;

/* Starts @argv inside namespace @ns (ip netns exec), dying with the test process, stdout to
 * @out_path (NULL: silenced, or a pipe with @flags), stderr to @err_path (NULL: silenced). */
GSubprocess *nat_lab_spawn (NatLab *lab, const char *ns, const char *const *argv,
                            GSubprocessFlags flags, const char *out_path,
                            const char *err_path, GError **error);

/* Runs @argv to completion within @timeout_s (killed after); TRUE when it exited with 0.
 * Its stdout and stderr go to the optional out-parameters. */
gboolean nat_lab_check_output (const char *const *argv, const char *stdin_text, guint timeout_s,
                               char **out, char **err);

/* SIGTERM, then SIGKILL after @grace_ms; reaps. Returns the wait status, or -1 if it had to
 * be killed. */
int nat_lab_stop (GSubprocess *p, guint grace_ms);

G_END_DECLS

/* sottoctl: drives sotto-agentd over its control interface, org.sotto.Agent1 (ca-control.h),
 * on the private socket (default) or the session bus. One command per run; output is plain
 * text meant for both people and scripts. Exit codes are in the help text below. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>

#include "client-agent/ca-control.h"

enum
{
  EXIT_OK = 0,
  EXIT_AGENT_ERROR = 1,
  EXIT_USAGE = 2, /* also: cannot connect */
  EXIT_TIMEOUT = 3,
};

#define DEFAULT_WAIT_S 30

static const char summary[] =
  "Commands:\n"
  "  status               the agent's status, one \"key: value\" line per entry, sorted\n"
  "  call TARGET          places a call; prints its id\n"
  "  answer ID            answers an incoming call\n"
  "  hangup ID            ends a call\n"
  "  verify ID            you and the other person read the SAS (info ID: sas) aloud and it\n"
  "                       matched: remember this peer's key as verified\n"
  "  unverify ID          forget that verification\n"
  "  calls                one line per call: ID, DIRECTION, STATE, PEER, REASON (tab-separated)\n"
  "  info ID              details of a call (path, RTT, packets, encryption...), sorted\n"
  "  wait ID STATE        returns once call ID is in STATE; fails (exit 1, the reason on\n"
  "                       stderr) if the call ends or is gone first\n"
  "  wait-incoming        prints \"ID<TAB>FROM\" of the next incoming call, or of one\n"
  "                       already listed as incoming and not yet answered\n"
  "                       (state \"incoming\" or \"ringing\")\n"
  "  watch                prints each signal as a line until SIGINT, SIGTERM or --timeout:\n"
  "                       IncomingCall<TAB>ID<TAB>FROM, CallStateChanged<TAB>ID<TAB>STATE<TAB>REASON";

static const char description[] =
  "The agent is reached on its private socket: --socket, else $SOTTO_AGENT_SOCKET, else\n"
  "$XDG_RUNTIME_DIR/sotto/agent.sock. --session uses the session bus name org.sotto.Agent.\n"
  "--timeout bounds wait and wait-incoming (default 30 s), watch (default: none) and each\n"
  "method call (default: D-Bus's 25 s).\n"
  "\n"
  "Exit status: 0 success; 1 the agent returned an error (its message on stderr), or the\n"
  "call being waited for ended; 2 usage error or cannot connect to the agent; 3 timeout.";

typedef struct
{
  GDBusConnection *connection;
  const char *dest; /* the bus name with --session, NULL on the private socket */
  const char *where;
  int timeout_s; /* 0: none given */
} Ctl;

static int G_GNUC_PRINTF (2, 3)
fail (int code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "sottoctl: %s\n", message);
  return code;
}

/* ---- Talking to the agent ---------------------------------------------------------------- */

static int
call_error (Ctl *ctl, GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return fail (EXIT_TIMEOUT, "the agent at %s did not answer in time", ctl->where);
  if (remote != NULL
      && (g_str_equal (remote, "org.freedesktop.DBus.Error.ServiceUnknown")
          || g_str_equal (remote, "org.freedesktop.DBus.Error.NameHasNoOwner")))
    return fail (EXIT_USAGE, "no sotto-agentd on %s (%s is not owned)", ctl->where,
                 CA_CONTROL_BUS_NAME);
  if (remote == NULL)
    return fail (EXIT_USAGE, "lost the agent at %s: %s", ctl->where, error->message);
  g_dbus_error_strip_remote_error (error);
  return fail (EXIT_AGENT_ERROR, "%s", error->message);
}

/* *out is the reply; returns an exit code. */
static int
invoke (Ctl *ctl, const char *method, GVariant *params, const char *reply_type, GVariant **out)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (
    ctl->connection, ctl->dest, CA_CONTROL_OBJECT_PATH, CA_CONTROL_INTERFACE, method, params,
    G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NO_AUTO_START,
    ctl->timeout_s > 0 ? ctl->timeout_s * 1000 : -1, NULL, &error);

  if (reply == NULL)
    return call_error (ctl, error);
  if (out != NULL)
    *out = reply;
  else
    g_variant_unref (reply);
  return EXIT_OK;
}

/* Strings without quotes, numbers in decimal, booleans as true/false; the rest as GVariant text. */
static char *
plain (GVariant *value)
{
  if (value == NULL)
    return g_strdup ("");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);
      return plain (inner);
    }
  switch (g_variant_classify (value))
    {
    case G_VARIANT_CLASS_STRING:
    case G_VARIANT_CLASS_OBJECT_PATH:
    case G_VARIANT_CLASS_SIGNATURE:
      return g_variant_dup_string (value, NULL);
    case G_VARIANT_CLASS_BOOLEAN:
      return g_strdup (g_variant_get_boolean (value) ? "true" : "false");
    case G_VARIANT_CLASS_BYTE:
      return g_strdup_printf ("%u", g_variant_get_byte (value));
    case G_VARIANT_CLASS_INT16:
      return g_strdup_printf ("%d", g_variant_get_int16 (value));
    case G_VARIANT_CLASS_UINT16:
      return g_strdup_printf ("%u", g_variant_get_uint16 (value));
    case G_VARIANT_CLASS_INT32:
      return g_strdup_printf ("%d", g_variant_get_int32 (value));
    case G_VARIANT_CLASS_UINT32:
      return g_strdup_printf ("%u", g_variant_get_uint32 (value));
    case G_VARIANT_CLASS_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
    case G_VARIANT_CLASS_UINT64:
      return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
    case G_VARIANT_CLASS_DOUBLE:
      return g_strdup_printf ("%g", g_variant_get_double (value));
    default:
      return g_variant_print (value, FALSE);
    }
}

static char *
lookup_plain (GVariant *dict, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (dict, key, NULL);
  return plain (value);
}

static int
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
print_sorted (GVariant *dict)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = plain (value);
      g_ptr_array_add (lines, g_strdup_printf ("%s: %s", key, text));
    }
  g_ptr_array_sort (lines, compare_lines);
  for (guint i = 0; i < lines->len; i++)
    printf ("%s\n", (const char *) g_ptr_array_index (lines, i));
}

/* ---- Commands ---------------------------------------------------------------------------- */

static gboolean
parse_id (const char *text, guint *out)
{
  guint64 n = 0;

  if (text[0] == '\0' || strspn (text, "0123456789") != strlen (text) || strlen (text) > 10)
    return FALSE;
  n = g_ascii_strtoull (text, NULL, 10);
  if (n == 0 || n > G_MAXUINT32)
    return FALSE;
  *out = (guint) n;
  return TRUE;
}

static int
cmd_status (Ctl *ctl)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) dict = NULL;
  int rc = invoke (ctl, "Status", NULL, "(a{sv})", &reply);

  if (rc != EXIT_OK)
    return rc;
  dict = g_variant_get_child_value (reply, 0);
  print_sorted (dict);
  return EXIT_OK;
}

static int
cmd_call (Ctl *ctl, const char *target)
{
  g_autoptr (GVariant) reply = NULL;
  guint id = 0;
  int rc = invoke (ctl, "Call", g_variant_new ("(s)", target), "(u)", &reply);

  if (rc != EXIT_OK)
    return rc;
  g_variant_get (reply, "(u)", &id);
  printf ("%u\n", id);
  return EXIT_OK;
}

static int
cmd_calls (Ctl *ctl)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) calls = NULL;
  int rc = invoke (ctl, "ListCalls", NULL, "(aa{sv})", &reply);

  if (rc != EXIT_OK)
    return rc;
  calls = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < g_variant_n_children (calls); i++)
    {
      g_autoptr (GVariant) call = g_variant_get_child_value (calls, i);
      g_autofree char *id = lookup_plain (call, "id");
      g_autofree char *direction = lookup_plain (call, "direction");
      g_autofree char *state = lookup_plain (call, "state");
      g_autofree char *peer = lookup_plain (call, "peer");
      g_autofree char *reason = lookup_plain (call, "reason");

      printf ("%s\t%s\t%s\t%s\t%s\n", id, direction, state, peer, reason);
    }
  return EXIT_OK;
}

static int
cmd_info (Ctl *ctl, guint id)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) dict = NULL;
  int rc = invoke (ctl, "CallInfo", g_variant_new ("(u)", id), "(a{sv})", &reply);

  if (rc != EXIT_OK)
    return rc;
  dict = g_variant_get_child_value (reply, 0);
  print_sorted (dict);
  return EXIT_OK;
}

/* ---- Waiting on signals ------------------------------------------------------------------ */

typedef struct
{
  Ctl *ctl;
  GMainLoop *loop;
  int rc;        /* -1 while waiting */
  guint call_id; /* wait: the call; 0 for wait-incoming and watch */
  const char *want_state;
  gboolean watch;
  guint deadline;
} Waiter;

static void
finish (Waiter *w, int rc)
{
  if (w->rc < 0)
    w->rc = rc;
  g_main_loop_quit (w->loop);
}

static void
on_signal (GDBusConnection *connection, const char *sender, const char *path,
           const char *interface, const char *signal, GVariant *params, gpointer user_data)
{
  Waiter *w = user_data;

  if (w->rc >= 0)
    return;
  if (g_str_equal (signal, "IncomingCall") && g_variant_is_of_type (params, G_VARIANT_TYPE ("(us)")))
    {
      guint id;
      const char *from;

      g_variant_get (params, "(u&s)", &id, &from);
      if (w->watch)
        printf ("IncomingCall\t%u\t%s\n", id, from);
      else if (w->call_id == 0)
        {
          printf ("%u\t%s\n", id, from);
          finish (w, EXIT_OK);
        }
    }
  else if (g_str_equal (signal, "CallStateChanged")
           && g_variant_is_of_type (params, G_VARIANT_TYPE ("(uss)")))
    {
      guint id;
      const char *state;
      const char *reason;

      g_variant_get (params, "(u&s&s)", &id, &state, &reason);
      if (w->watch)
        printf ("CallStateChanged\t%u\t%s\t%s\n", id, state, reason);
      else if (w->call_id != 0 && id == w->call_id)
        {
          if (g_str_equal (state, w->want_state))
            finish (w, EXIT_OK);
          else if (g_str_equal (state, "ended"))
            finish (w, fail (EXIT_AGENT_ERROR, "call %u ended before reaching \"%s\": %s", id,
                             w->want_state, reason[0] != '\0' ? reason : "no reason given"));
        }
    }
  if (w->watch)
    fflush (stdout);
}

static void
on_closed (GDBusConnection *connection, gboolean vanished, GError *error, gpointer user_data)
{
  Waiter *w = user_data;
  finish (w, fail (EXIT_USAGE, "lost the agent at %s", w->ctl->where));
}

static gboolean
on_deadline (gpointer user_data)
{
  Waiter *w = user_data;

  w->deadline = 0;
  if (w->watch)
    finish (w, EXIT_OK);
  else
    finish (w, fail (EXIT_TIMEOUT, "timed out after %d s", w->ctl->timeout_s > 0
                                                            ? w->ctl->timeout_s
                                                            : DEFAULT_WAIT_S));
  return G_SOURCE_REMOVE;
}

static gboolean
on_quit_signal (gpointer user_data)
{
  finish (user_data, EXIT_OK);
  return G_SOURCE_CONTINUE;
}

/* What ListCalls says already; subscription came first so nothing falls between. */
static void
check_listed (Waiter *w)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) calls = NULL;
  int rc = invoke (w->ctl, "ListCalls", NULL, "(aa{sv})", &reply);
  gboolean found = FALSE;

  if (rc != EXIT_OK)
    {
      w->rc = rc;
      return;
    }
  calls = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < g_variant_n_children (calls) && w->rc < 0; i++)
    {
      g_autoptr (GVariant) call = g_variant_get_child_value (calls, i);
      g_autofree char *state = lookup_plain (call, "state");
      g_autofree char *direction = lookup_plain (call, "direction");
      guint id = 0;

      if (!g_variant_lookup (call, "id", "u", &id))
        continue;
      if (w->call_id == 0)
        {
          if (g_str_equal (direction, "incoming")
              && (g_str_equal (state, "incoming") || g_str_equal (state, "ringing")))
            {
              g_autofree char *peer = lookup_plain (call, "peer");
              printf ("%u\t%s\n", id, peer);
              w->rc = EXIT_OK;
            }
        }
      else if (id == w->call_id)
        {
          found = TRUE;
          if (g_str_equal (state, w->want_state))
            w->rc = EXIT_OK;
          else if (g_str_equal (state, "ended"))
            {
              g_autofree char *reason = lookup_plain (call, "reason");
              w->rc = fail (EXIT_AGENT_ERROR, "call %u has ended: %s", id,
                            reason[0] != '\0' ? reason : "no reason given");
            }
        }
    }
  if (w->call_id != 0 && !found && w->rc < 0)
    w->rc = fail (EXIT_AGENT_ERROR, "there is no call %u (it may have ended)", w->call_id);
}

static int
run_waiter (Ctl *ctl, guint call_id, const char *want_state, gboolean watch)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Waiter w = { ctl, loop, -1, call_id, want_state, watch, 0 };
  int timeout_s = ctl->timeout_s > 0 ? ctl->timeout_s : (watch ? 0 : DEFAULT_WAIT_S);
  guint sub;
  guint sigint = 0;
  guint sigterm = 0;
  gulong closed;

  sub = g_dbus_connection_signal_subscribe (ctl->connection, ctl->dest, CA_CONTROL_INTERFACE,
                                            NULL, CA_CONTROL_OBJECT_PATH, NULL,
                                            G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &w, NULL);
  closed = g_signal_connect (ctl->connection, "closed", G_CALLBACK (on_closed), &w);
  if (!watch)
    check_listed (&w);
  else
    {
      /* A method call proves the agent is there before watching starts. */
      w.rc = invoke (ctl, "Status", NULL, "(a{sv})", NULL);
      if (w.rc == EXIT_OK)
        w.rc = -1;
    }
  if (w.rc < 0)
    {
      if (timeout_s > 0)
        w.deadline = g_timeout_add_seconds (timeout_s, on_deadline, &w);
      sigint = g_unix_signal_add (SIGINT, on_quit_signal, &w);
      sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, &w);
      g_main_loop_run (loop);
    }
  g_clear_handle_id (&w.deadline, g_source_remove);
  g_clear_handle_id (&sigint, g_source_remove);
  g_clear_handle_id (&sigterm, g_source_remove);
  g_signal_handler_disconnect (ctl->connection, closed);
  g_dbus_connection_signal_unsubscribe (ctl->connection, sub);
  return w.rc;
}

/* ---- main -------------------------------------------------------------------------------- */

static int
connect_agent (Ctl *ctl, gboolean session, const char *socket_path, char **where_out)
{
  g_autoptr (GError) error = NULL;

  if (session)
    {
      *where_out = g_strdup ("the session bus");
      ctl->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
      ctl->dest = CA_CONTROL_BUS_NAME;
    }
  else
    {
      g_autofree char *escaped = g_dbus_address_escape_value (socket_path);
      g_autofree char *address = g_strconcat ("unix:path=", escaped, NULL);

      *where_out = g_strdup (socket_path);
      ctl->connection = g_dbus_connection_new_for_address_sync (
        address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
    }
  ctl->where = *where_out;
  if (ctl->connection == NULL)
    return fail (EXIT_USAGE, "cannot connect to sotto-agentd at %s: %s (is it running?)",
                 ctl->where, error->message);
  /* A lost connection is reported by on_closed, not by killing us. */
  g_dbus_connection_set_exit_on_close (ctl->connection, FALSE);
  return EXIT_OK;
}

static int
usage (GOptionContext *context, const char *message)
{
  fprintf (stderr, "sottoctl: %s\nTry \"sottoctl --help\" for the commands and options.\n",
           message);
  return EXIT_USAGE;
}

static gboolean
want_args (int argc, int n)
{
  return argc == n;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *socket_opt = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *where = NULL;
  gboolean session = FALSE;
  int timeout_s = 0;
  Ctl ctl = { NULL, NULL, NULL, 0 };
  const char *cmd;
  guint id = 0;
  int rc;
  const GOptionEntry entries[] = {
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_opt,
      "the agent's private socket (default: $SOTTO_AGENT_SOCKET or "
      "$XDG_RUNTIME_DIR/sotto/agent.sock)",
      "PATH" },
    { "session", 0, 0, G_OPTION_ARG_NONE, &session,
      "talk to org.sotto.Agent on the session bus instead", NULL },
    { "timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s, "give up after SECONDS (exit 3)",
      "SECONDS" },
    { NULL }
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("COMMAND [ARGS] - control sotto-agentd");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage (context, error->message);
  if (argc < 2)
    return usage (context, "no command given");
  if (timeout_s < 0)
    return usage (context, "--timeout must not be negative");
  if (session && socket_opt != NULL)
    return usage (context, "--socket and --session exclude each other");
  cmd = argv[1];

  /* Check the command's arguments before connecting: a typo is not a connection problem. */
  if (g_str_equal (cmd, "status") || g_str_equal (cmd, "calls") || g_str_equal (cmd, "watch")
      || g_str_equal (cmd, "wait-incoming"))
    {
      if (!want_args (argc, 2))
        return usage (context, "this command takes no arguments");
    }
  else if (g_str_equal (cmd, "call"))
    {
      if (!want_args (argc, 3) || argv[2][0] == '\0')
        return usage (context, "call takes one TARGET");
    }
  else if (g_str_equal (cmd, "answer") || g_str_equal (cmd, "hangup")
           || g_str_equal (cmd, "verify") || g_str_equal (cmd, "unverify")
           || g_str_equal (cmd, "info") || g_str_equal (cmd, "wait"))
    {
      if (!want_args (argc, g_str_equal (cmd, "wait") ? 4 : 3))
        return usage (context, g_str_equal (cmd, "wait") ? "wait takes ID STATE"
                                                         : "this command takes one call ID");
      if (!parse_id (argv[2], &id))
        return usage (context, "a call ID is a whole number from 1");
    }
  else
    {
      g_autofree char *message = g_strdup_printf ("unknown command \"%s\"", cmd);
      return usage (context, message);
    }

  if (!session)
    {
      const char *env = g_getenv ("SOTTO_AGENT_SOCKET");
      if (socket_opt != NULL)
        socket_path = g_strdup (socket_opt);
      else if (env != NULL && env[0] != '\0')
        socket_path = g_strdup (env);
      else
        socket_path = ca_control_default_socket_path ();
    }
  ctl.timeout_s = timeout_s;
  rc = connect_agent (&ctl, session, socket_path, &where);
  if (rc != EXIT_OK)
    return rc;

  if (g_str_equal (cmd, "status"))
    rc = cmd_status (&ctl);
  else if (g_str_equal (cmd, "calls"))
    rc = cmd_calls (&ctl);
  else if (g_str_equal (cmd, "call"))
    rc = cmd_call (&ctl, argv[2]);
  else if (g_str_equal (cmd, "answer"))
    rc = invoke (&ctl, "Answer", g_variant_new ("(u)", id), "()", NULL);
  else if (g_str_equal (cmd, "hangup"))
    rc = invoke (&ctl, "Hangup", g_variant_new ("(u)", id), "()", NULL);
  else if (g_str_equal (cmd, "verify") || g_str_equal (cmd, "unverify"))
    rc = invoke (&ctl, "Verify", g_variant_new ("(ub)", id, g_str_equal (cmd, "verify")), "()",
                 NULL);
  else if (g_str_equal (cmd, "info"))
    rc = cmd_info (&ctl, id);
  else if (g_str_equal (cmd, "wait"))
    rc = run_waiter (&ctl, id, argv[3], FALSE);
  else if (g_str_equal (cmd, "wait-incoming"))
    rc = run_waiter (&ctl, 0, NULL, FALSE);
  else
    rc = run_waiter (&ctl, 0, NULL, TRUE);

  fflush (stdout);
  g_dbus_connection_flush_sync (ctl.connection, NULL, NULL);
  g_object_unref (ctl.connection);
  return rc;
}

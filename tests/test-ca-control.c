/* Tests for ca-control and sottoctl. A fake backend (counts what it was asked, answers from a
 * small table of calls) stands in for sotto-agentd's core, which is tested elsewhere; here it is
 * the D-Bus side that matters: every method and its argument errors in-process, the built
 * sottoctl's output and exit codes, the private socket's guards (0600 in 0700, a live agent
 * refused, a stale socket replaced), and the session bus through a private dbus-daemon. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "client-agent/ca-control.h"
#include "sotto-test.h"

#define DEADLINE_MS 15000 /* sottoctl under ASan included */

/* ---- Waiting with a deadline ------------------------------------------------------------- */

static gboolean
on_expire (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

#define WAIT_UNTIL(cond)                                                                     \
  G_STMT_START                                                                               \
  {                                                                                          \
    gboolean expired_ = FALSE;                                                               \
    guint timer_ = g_timeout_add (DEADLINE_MS, on_expire, &expired_);                        \
    while (!(cond) && !expired_)                                                             \
      g_main_context_iteration (NULL, TRUE);                                                 \
    if (!expired_)                                                                           \
      g_source_remove (timer_);                                                              \
    if (!(cond))                                                                             \
      g_error ("timed out waiting for %s", #cond);                                          \
  }                                                                                          \
  G_STMT_END

/* ---- The fake backend -------------------------------------------------------------------- */

typedef struct
{
  guint id;
  char *peer;
  char *direction;
  char *state;
  char *reason;
} FakeCall;

typedef struct
{
  GPtrArray *calls; /* of FakeCall* */
  guint next_id;
  guint n_status;
  guint n_call;
  guint n_answer;
  guint n_hangup;
  guint n_list;
  guint n_info;
  char *last_target;
} Fake;

static void
fake_call_free (gpointer data)
{
  FakeCall *c = data;
  g_free (c->peer);
  g_free (c->direction);
  g_free (c->state);
  g_free (c->reason);
  g_free (c);
}

static FakeCall *
fake_add (Fake *fake, const char *peer, const char *direction, const char *state)
{
  FakeCall *c = g_new0 (FakeCall, 1);

  c->id = fake->next_id++;
  c->peer = g_strdup (peer);
  c->direction = g_strdup (direction);
  c->state = g_strdup (state);
  c->reason = g_strdup ("");
  g_ptr_array_add (fake->calls, c);
  return c;
}

static FakeCall *
fake_find (Fake *fake, guint id, GError **error)
{
  for (guint i = 0; i < fake->calls->len; i++)
    {
      FakeCall *c = g_ptr_array_index (fake->calls, i);
      if (c->id == id)
        return c;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no call %u", id);
  return NULL;
}

static GVariant *
fake_status (gpointer self)
{
  Fake *fake = self;
  GVariantDict d;

  fake->n_status++;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "registered", "b", TRUE);
  g_variant_dict_insert (&d, "aor", "s", "sips:alice@example.org");
  g_variant_dict_insert (&d, "calls", "u", fake->calls->len);
  g_variant_dict_insert (&d, "turn-rtt-ms", "d", 12.5);
  return g_variant_dict_end (&d);
}

static guint
fake_call (gpointer self, const char *target, GError **error)
{
  Fake *fake = self;

  fake->n_call++;
  g_free (fake->last_target);
  fake->last_target = g_strdup (target);
  if (g_str_has_prefix (target, "sips:nobody@"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is not registered", target);
      return 0;
    }
  return fake_add (fake, target, "outgoing", "calling")->id;
}

static gboolean
fake_answer (gpointer self, guint call_id, GError **error)
{
  Fake *fake = self;
  FakeCall *c = fake_find (fake, call_id, error);

  fake->n_answer++;
  if (c == NULL)
    return FALSE;
  g_free (c->state);
  c->state = g_strdup ("active");
  return TRUE;
}

static gboolean
fake_hangup (gpointer self, guint call_id, GError **error)
{
  Fake *fake = self;
  FakeCall *c = fake_find (fake, call_id, error);

  fake->n_hangup++;
  if (c == NULL)
    return FALSE;
  g_free (c->state);
  c->state = g_strdup ("ended");
  g_free (c->reason);
  c->reason = g_strdup ("hung up here");
  return TRUE;
}

static GVariant *
fake_list_calls (gpointer self)
{
  Fake *fake = self;
  GVariantBuilder b;

  fake->n_list++;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < fake->calls->len; i++)
    {
      FakeCall *c = g_ptr_array_index (fake->calls, i);
      GVariantDict d;

      g_variant_dict_init (&d, NULL);
      g_variant_dict_insert (&d, "id", "u", c->id);
      g_variant_dict_insert (&d, "peer", "s", c->peer);
      g_variant_dict_insert (&d, "direction", "s", c->direction);
      g_variant_dict_insert (&d, "state", "s", c->state);
      g_variant_dict_insert (&d, "reason", "s", c->reason);
      g_variant_builder_add_value (&b, g_variant_dict_end (&d));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
fake_call_info (gpointer self, guint call_id, GError **error)
{
  Fake *fake = self;
  GVariantDict d;

  fake->n_info++;
  if (fake_find (fake, call_id, error) == NULL)
    return NULL;
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "path", "s", "relay");
  g_variant_dict_insert (&d, "rtt-ms", "u", 42);
  g_variant_dict_insert (&d, "suite", "s", "AES_CM_128_HMAC_SHA1_80");
  g_variant_dict_insert (&d, "peer-verified", "b", FALSE);
  g_variant_dict_insert (&d, "packets-sent", "t", (guint64) 100);
  return g_variant_dict_end (&d);
}

static const CaControlBackend fake_backend = {
  fake_status, fake_call, fake_answer, fake_hangup, fake_list_calls, fake_call_info,
};

/* ---- Fixture ----------------------------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *socket_path;
  Fake fake;
  CaControl *control;
  char *sottoctl;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-ca-control-XXXXXX", &error);
  g_assert_no_error (error);
  f->socket_path = g_build_filename (f->dir, "run", "agent.sock", NULL);
  f->fake.calls = g_ptr_array_new_with_free_func (fake_call_free);
  f->fake.next_id = 1;
  f->sottoctl = sotto_test_program ("client-agent/sottoctl");
  f->control = ca_control_new (&fake_backend, &f->fake, f->socket_path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->control);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->control, ca_control_free);
  /* Let closed connections finish on the loop before their objects go. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (f->fake.calls);
  g_free (f->fake.last_target);
  sotto_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->socket_path);
  g_free (f->sottoctl);
}

/* ---- (a) GDBus in-process ---------------------------------------------------------------- */

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  GDBusConnection **out = data;

  *out = g_dbus_connection_new_for_address_finish (result, &error);
  g_assert_no_error (error);
}

/* Async: the server's half of the handshake needs this same loop. */
static GDBusConnection *
connect_client (Fixture *f)
{
  GDBusConnection *c = NULL;

  g_dbus_connection_new_for_address (ca_control_get_address (f->control),
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL,
                                     on_connected, &c);
  WAIT_UNTIL (c != NULL);
  return c;
}

typedef struct
{
  gboolean done;
  GVariant *reply;
  GError *error;
} Reply;

static void
on_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  Reply *r = data;

  r->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &r->error);
  r->done = TRUE;
}

/* Calls @method and runs the loop until the answer: the server shares this thread. */
static GVariant *
call (GDBusConnection *c, const char *method, GVariant *params, const char *type,
      GError **error)
{
  Reply r = { FALSE, NULL, NULL };

  g_dbus_connection_call (c, NULL, CA_CONTROL_OBJECT_PATH, CA_CONTROL_INTERFACE, method, params,
                          G_VARIANT_TYPE (type), G_DBUS_CALL_FLAGS_NONE, DEADLINE_MS, NULL,
                          on_reply, &r);
  WAIT_UNTIL (r.done);
  if (r.error != NULL)
    g_propagate_error (error, r.error);
  return r.reply;
}

static void
assert_dbus_error (GError *error, const char *name, const char *fragment)
{
  g_autofree char *remote = NULL;

  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, name);
  g_dbus_error_strip_remote_error (error);
  if (strstr (error->message, fragment) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, fragment);
}

static void
test_methods (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusConnection) c = connect_client (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) list = NULL;
  g_autoptr (GVariant) info = NULL;
  const char *aor = NULL;
  gboolean registered = FALSE;
  guint id = 0;

  status = call (c, "Status", NULL, "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (status, "(@a{sv})", &reply);
  g_assert_true (g_variant_lookup (reply, "aor", "&s", &aor));
  g_assert_cmpstr (aor, ==, "sips:alice@example.org");
  g_assert_true (g_variant_lookup (reply, "registered", "b", &registered));
  g_assert_true (registered);
  g_assert_cmpuint (f->fake.n_status, ==, 1);
  g_clear_pointer (&reply, g_variant_unref);

  reply = call (c, "Call", g_variant_new ("(s)", "sips:bob@example.org"), "(u)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &id);
  g_assert_cmpuint (id, ==, 1);
  g_assert_cmpstr (f->fake.last_target, ==, "sips:bob@example.org");
  g_clear_pointer (&reply, g_variant_unref);

  list = call (c, "ListCalls", NULL, "(aa{sv})", &error);
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) calls = g_variant_get_child_value (list, 0);
    g_autoptr (GVariant) first = NULL;
    const char *state = NULL;

    g_assert_cmpuint (g_variant_n_children (calls), ==, 1);
    first = g_variant_get_child_value (calls, 0);
    g_assert_true (g_variant_lookup (first, "state", "&s", &state));
    g_assert_cmpstr (state, ==, "calling");
  }

  reply = call (c, "Answer", g_variant_new ("(u)", 1), "()", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake.n_answer, ==, 1);
  g_clear_pointer (&reply, g_variant_unref);

  info = call (c, "CallInfo", g_variant_new ("(u)", 1), "(a{sv})", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake.n_info, ==, 1);

  reply = call (c, "Hangup", g_variant_new ("(u)", 1), "()", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->fake.n_hangup, ==, 1);
  g_clear_pointer (&reply, g_variant_unref);
}

static void
test_argument_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusConnection) c = connect_client (f);
  GError *error = NULL;
  GVariant *reply;

  /* Refused by ca-control itself: the backend never sees them. */
  reply = call (c, "Call", g_variant_new ("(s)", ""), "(u)", &error);
  g_assert_null (reply);
  assert_dbus_error (error, "org.sotto.Agent1.Error.InvalidArgument", "empty");
  g_clear_error (&error);
  g_assert_cmpuint (f->fake.n_call, ==, 0);
  const char *id_methods[] = { "Answer", "Hangup", "CallInfo" };
  for (gsize i = 0; i < G_N_ELEMENTS (id_methods); i++)
    {
      reply = call (c, id_methods[i], g_variant_new ("(u)", 0), "*", &error);
      g_assert_null (reply);
      assert_dbus_error (error, "org.sotto.Agent1.Error.InvalidArgument", "call id 0");
      g_clear_error (&error);
    }
  g_assert_cmpuint (f->fake.n_answer + f->fake.n_hangup + f->fake.n_info, ==, 0);

  /* The backend's own errors, with its message. */
  reply = call (c, "Hangup", g_variant_new ("(u)", 9), "()", &error);
  g_assert_null (reply);
  assert_dbus_error (error, "org.sotto.Agent1.Error.NotFound", "no call 9");
  g_clear_error (&error);
  reply = call (c, "Call", g_variant_new ("(s)", "sips:nobody@example.org"), "(u)", &error);
  g_assert_null (reply);
  assert_dbus_error (error, "org.sotto.Agent1.Error.Failed", "is not registered");
  g_clear_error (&error);

  /* GDBus checks signatures against the introspection data. */
  reply = call (c, "Answer", g_variant_new ("(s)", "1"), "*", &error);
  g_assert_null (reply);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  reply = call (c, "Reboot", NULL, "*", &error);
  g_assert_null (reply);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
  g_clear_error (&error);
}

typedef struct
{
  guint n;
  char *last;
} Seen;

static void
on_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *name, GVariant *params, gpointer data)
{
  Seen *seen = data;
  g_autofree char *text = g_variant_print (params, TRUE);

  seen->n++;
  g_free (seen->last);
  seen->last = g_strdup_printf ("%s %s", name, text);
}

static void
test_signals (Fixture *f, gconstpointer data)
{
  g_autoptr (GDBusConnection) c = connect_client (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) status = NULL;
  Seen seen = { 0, NULL };
  guint sub = g_dbus_connection_signal_subscribe (c, NULL, CA_CONTROL_INTERFACE, NULL,
                                                  CA_CONTROL_OBJECT_PATH, NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &seen,
                                                  NULL);

  /* A round trip makes sure the server has registered this client before it emits. */
  status = call (c, "Status", NULL, "(a{sv})", &error);
  g_assert_no_error (error);
  ca_control_emit_incoming_call (f->control, 5, "sips:bob@example.org");
  WAIT_UNTIL (seen.n == 1);
  g_assert_cmpstr (seen.last, ==, "IncomingCall (uint32 5, 'sips:bob@example.org')");
  ca_control_emit_call_state (f->control, 5, "ended", NULL);
  WAIT_UNTIL (seen.n == 2);
  g_assert_cmpstr (seen.last, ==, "CallStateChanged (uint32 5, 'ended', '')");
  g_dbus_connection_signal_unsubscribe (c, sub);
  g_free (seen.last);
}

/* ---- (b) sottoctl ------------------------------------------------------------------------ */

typedef struct
{
  gboolean done;
  char *out;
  char *err;
  int status;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
  r->done = FALSE;
}

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *r = data;
  g_autoptr (GError) error = NULL;
  GSubprocess *p = G_SUBPROCESS (source);

  g_assert_true (g_subprocess_communicate_utf8_finish (p, result, &r->out, &r->err, &error));
  g_assert_no_error (error);
  /* A sanitizer report or a crash is a failure, not an exit code under test. */
  if (!g_subprocess_get_if_exited (p))
    g_error ("sottoctl died of signal %d; stderr: %s", g_subprocess_get_term_sig (p), r->err);
  r->status = g_subprocess_get_exit_status (p);
  r->done = TRUE;
}

/* Starts sottoctl with @argv (NULL-terminated, after the program name); the result lands in
 * @r, filled in while the caller runs the loop. @env_name may set one environment variable. */
static void
start_ctl (Fixture *f, Run *r, const char *env_name, const char *env_value,
           const char *const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher
    = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;

  run_clear (r);
  g_ptr_array_add (args, f->sottoctl);
  for (gsize i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);
  g_subprocess_launcher_unsetenv (launcher, "SOTTO_AGENT_SOCKET");
  if (env_name != NULL)
    g_subprocess_launcher_setenv (launcher, env_name, env_value, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  p = g_subprocess_launcher_spawnv (launcher, (const char *const *) args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (p, NULL, NULL, on_communicated, r);
}

static int
run_ctl (Fixture *f, Run *r, const char *const *argv)
{
  start_ctl (f, r, NULL, NULL, argv);
  WAIT_UNTIL (r->done);
  if (g_test_verbose ())
    g_test_message ("sottoctl %s -> %d\n%s%s", argv[2], r->status, r->out, r->err);
  return r->status;
}

#define CTL(...) ((const char *const[]){ "--socket", f->socket_path, __VA_ARGS__, NULL })

static void
test_sottoctl (Fixture *f, gconstpointer data)
{
  Run r = { 0 };

  g_assert_cmpint (run_ctl (f, &r, CTL ("status")), ==, 0);
  g_assert_cmpstr (r.out, ==,
                   "aor: sips:alice@example.org\ncalls: 0\nregistered: true\n"
                   "turn-rtt-ms: 12.5\n");
  g_assert_cmpstr (r.err, ==, "");

  g_assert_cmpint (run_ctl (f, &r, CTL ("call", "sips:bob@example.org")), ==, 0);
  g_assert_cmpstr (r.out, ==, "1\n");
  g_assert_cmpstr (f->fake.last_target, ==, "sips:bob@example.org");
  fake_add (&f->fake, "sips:carol@example.org", "incoming", "ringing");

  g_assert_cmpint (run_ctl (f, &r, CTL ("calls")), ==, 0);
  g_assert_cmpstr (r.out, ==,
                   "1\toutgoing\tcalling\tsips:bob@example.org\t\n"
                   "2\tincoming\tringing\tsips:carol@example.org\t\n");

  g_assert_cmpint (run_ctl (f, &r, CTL ("info", "1")), ==, 0);
  g_assert_cmpstr (r.out, ==,
                   "packets-sent: 100\npath: relay\npeer-verified: false\nrtt-ms: 42\n"
                   "suite: AES_CM_128_HMAC_SHA1_80\n");

  /* Already in the state asked for; an incoming call already listed. */
  g_assert_cmpint (run_ctl (f, &r, CTL ("wait", "1", "calling")), ==, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_cmpint (run_ctl (f, &r, CTL ("wait-incoming")), ==, 0);
  g_assert_cmpstr (r.out, ==, "2\tsips:carol@example.org\n");

  g_assert_cmpint (run_ctl (f, &r, CTL ("answer", "2")), ==, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_cmpuint (f->fake.n_answer, ==, 1);
  g_assert_cmpint (run_ctl (f, &r, CTL ("hangup", "1")), ==, 0);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_cmpstr (r.err, ==, "");
  g_assert_cmpuint (f->fake.n_hangup, ==, 1);

  /* The call has ended: waiting for another state fails with the reason. */
  g_assert_cmpint (run_ctl (f, &r, CTL ("wait", "1", "active")), ==, 1);
  g_assert_nonnull (strstr (r.err, "hung up here"));

  /* The agent's errors: exit 1 with its message. */
  g_assert_cmpint (run_ctl (f, &r, CTL ("hangup", "99")), ==, 1);
  g_assert_cmpstr (r.err, ==, "sottoctl: no call 99\n");
  g_assert_cmpint (run_ctl (f, &r, CTL ("call", "sips:nobody@example.org")), ==, 1);
  g_assert_nonnull (strstr (r.err, "is not registered"));
  g_assert_cmpint (run_ctl (f, &r, CTL ("wait", "99", "active")), ==, 1);
  g_assert_nonnull (strstr (r.err, "no call 99"));

  /* Usage errors: exit 2 before connecting. */
  g_assert_cmpint (run_ctl (f, &r, CTL ("answer", "0")), ==, 2);
  g_assert_cmpint (run_ctl (f, &r, CTL ("answer")), ==, 2);
  g_assert_cmpint (run_ctl (f, &r, CTL ("dance")), ==, 2);
  g_assert_nonnull (strstr (r.err, "dance"));
  g_assert_cmpint (run_ctl (f, &r, CTL ("call", "")), ==, 2);
  g_assert_cmpuint (f->fake.n_call, ==, 2); /* bob and nobody */
  g_assert_cmpint (run_ctl (f, &r, ((const char *const[]){ "--help", NULL })), ==, 0);
  g_assert_nonnull (strstr (r.out, "wait-incoming"));
  g_assert_nonnull (strstr (r.out, "Exit status"));
  run_clear (&r);
}

static void
test_sottoctl_socket_choice (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "nowhere.sock", NULL);
  Run r = { 0 };

  g_assert_cmpint (run_ctl (f, &r, ((const char *const[]){ "--socket", missing, "status", NULL })),
                   ==, 2);
  g_assert_nonnull (strstr (r.err, missing));
  g_assert_cmpstr (r.out, ==, "");

  /* $SOTTO_AGENT_SOCKET replaces the default; --socket beats it. */
  start_ctl (f, &r, "SOTTO_AGENT_SOCKET", f->socket_path, (const char *const[]){ "status", NULL });
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpuint (f->fake.n_status, ==, 1);
  start_ctl (f, &r, "SOTTO_AGENT_SOCKET", f->socket_path,
             (const char *const[]){ "--socket", missing, "status", NULL });
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 2);
  run_clear (&r);
}

static void
test_sottoctl_wait (Fixture *f, gconstpointer data)
{
  Run r = { 0 };
  guint lists;

  fake_add (&f->fake, "sips:bob@example.org", "outgoing", "calling");

  /* It subscribes before asking ListCalls, so once the backend has been asked, a signal
   * cannot be missed. */
  lists = f->fake.n_list;
  start_ctl (f, &r, NULL, NULL, CTL ("wait", "1", "active"));
  WAIT_UNTIL (f->fake.n_list > lists);
  ca_control_emit_call_state (f->control, 1, "connecting", "");
  ca_control_emit_call_state (f->control, 2, "active", "");
  ca_control_emit_call_state (f->control, 1, "active", "");
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);

  lists = f->fake.n_list;
  start_ctl (f, &r, NULL, NULL, CTL ("wait", "1", "held"));
  WAIT_UNTIL (f->fake.n_list > lists);
  ca_control_emit_call_state (f->control, 1, "ended", "busy here");
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "busy here"));

  lists = f->fake.n_list;
  start_ctl (f, &r, NULL, NULL, CTL ("wait-incoming"));
  WAIT_UNTIL (f->fake.n_list > lists);
  ca_control_emit_incoming_call (f->control, 7, "sips:dave@example.org");
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, "7\tsips:dave@example.org\n");

  g_assert_cmpint (run_ctl (f, &r, CTL ("--timeout", "1", "wait", "1", "held")), ==, 3);
  g_assert_nonnull (strstr (r.err, "timed out"));
  g_assert_cmpint (run_ctl (f, &r, CTL ("--timeout", "1", "wait-incoming")), ==, 3);

  /* watch: every signal as a line, until its --timeout (exit 0). */
  lists = f->fake.n_status;
  start_ctl (f, &r, NULL, NULL, CTL ("--timeout", "2", "watch"));
  WAIT_UNTIL (f->fake.n_status > lists);
  ca_control_emit_incoming_call (f->control, 8, "sips:erin@example.org");
  ca_control_emit_call_state (f->control, 8, "ended", "declined");
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==,
                   "IncomingCall\t8\tsips:erin@example.org\n"
                   "CallStateChanged\t8\tended\tdeclined\n");
  run_clear (&r);
}

/* ---- (c) The private socket's guards ----------------------------------------------------- */

static void
test_socket_guards (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (f->socket_path);
  g_autofree char *open_dir = g_build_filename (f->dir, "open", NULL);
  g_autofree char *open_sock = g_build_filename (open_dir, "agent.sock", NULL);
  g_autofree char *file_sock = g_build_filename (f->dir, "plain-file", NULL);
  g_autofree char *stale = g_build_filename (dir, "stale.sock", NULL);
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct stat st;
  CaControl *second;
  int fd;

  g_assert_cmpint (g_stat (f->socket_path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* A live agent answers there: refused, and the live socket is left alone. */
  second = ca_control_new (&fake_backend, &f->fake, f->socket_path, FALSE, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, "already answering"));
  g_assert_nonnull (strstr (error->message, f->socket_path));
  g_clear_error (&error);
  g_assert_true (g_file_test (f->socket_path, G_FILE_TEST_EXISTS));

  /* Once the first is gone, the path is free again. */
  g_clear_pointer (&f->control, ca_control_free);
  f->control = ca_control_new (&fake_backend, &f->fake, f->socket_path, FALSE, &error);
  g_assert_no_error (error);

  /* A socket nobody answers on (its owner died) is replaced. */
  fd = socket (AF_UNIX, SOCK_STREAM, 0);
  g_assert_cmpint (fd, >=, 0);
  memcpy (sun.sun_path, stale, strlen (stale) + 1);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &sun, sizeof sun), ==, 0);
  close (fd);
  g_assert_true (g_file_test (stale, G_FILE_TEST_EXISTS));
  second = ca_control_new (&fake_backend, &f->fake, stale, FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
  {
    Run r = { 0 };
    g_assert_cmpint (run_ctl (f, &r, ((const char *const[]){ "--socket", stale, "status",
                                                             NULL })),
                     ==, 0);
    run_clear (&r);
  }
  ca_control_free (second);

  /* A directory others may enter is refused, not repaired. */
  g_assert_cmpint (g_mkdir (open_dir, 0700), ==, 0);
  g_assert_cmpint (g_chmod (open_dir, 0755), ==, 0);
  second = ca_control_new (&fake_backend, &f->fake, open_sock, FALSE, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "chmod 700"));
  g_clear_error (&error);

  /* Something that is not a socket is never removed. */
  g_assert_true (g_file_set_contents (file_sock, "keep", -1, NULL));
  second = ca_control_new (&fake_backend, &f->fake, file_sock, FALSE, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (g_file_test (file_sock, G_FILE_TEST_IS_REGULAR));

  second = ca_control_new (&fake_backend, &f->fake, "relative.sock", FALSE, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- (d) The session bus ----------------------------------------------------------------- */

typedef struct
{
  GSubprocess *daemon;
  char *address;
  gboolean read_done;
} Bus;

static void
on_address_line (GObject *source, GAsyncResult *result, gpointer data)
{
  Bus *bus = data;

  bus->address = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                            NULL, NULL);
  bus->read_done = TRUE;
}

static gboolean
start_bus (Fixture *f, Bus *bus)
{
  g_autofree char *prog = g_find_program_in_path ("dbus-daemon");
  g_autofree char *listen = NULL;
  g_autofree char *bus_path = g_build_filename (f->dir, "bus", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GError) error = NULL;

  if (prog == NULL)
    {
      g_test_skip ("dbus-daemon is not installed (package dbus-daemon)");
      return FALSE;
    }
  listen = g_strconcat ("--address=unix:path=", bus_path, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, sotto_test_die_with_parent, NULL, NULL);
  bus->daemon = g_subprocess_launcher_spawn (launcher, &error, prog, "--session",
                                             "--print-address", "--nofork", listen, NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus->daemon));
  g_data_input_stream_read_line_async (lines, G_PRIORITY_DEFAULT, NULL, on_address_line, bus);
  WAIT_UNTIL (bus->read_done);
  g_assert_nonnull (bus->address);
  g_assert_true (g_str_has_prefix (bus->address, "unix:path="));
  return TRUE;
}

static void
on_bus_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_assert_true (g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL));
  *(gboolean *) data = TRUE;
}

static void
stop_bus (Bus *bus)
{
  gboolean exited = FALSE;

  g_subprocess_send_signal (bus->daemon, SIGTERM);
  g_subprocess_wait_async (bus->daemon, NULL, on_bus_exited, &exited);
  WAIT_UNTIL (exited);
  g_assert_true (g_subprocess_get_if_exited (bus->daemon)
                 || g_subprocess_get_term_sig (bus->daemon) == SIGTERM);
  g_clear_object (&bus->daemon);
  g_clear_pointer (&bus->address, g_free);
}

static void
on_name_appeared (GDBusConnection *c, const char *name, const char *owner, gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
test_session_bus (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) session = NULL;
  CaControl *on_bus;
  Bus bus = { 0 };
  Run r = { 0 };
  gboolean appeared = FALSE;
  guint watch;
  guint lists;

  if (!start_bus (f, &bus))
    return;
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", bus.address, TRUE);
  /* The test's own handle on the shared session connection: it must not exit the process when
   * the daemon goes at the end. */
  session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (session, FALSE);

  on_bus = ca_control_new (&fake_backend, &f->fake, NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_null (ca_control_get_address (on_bus));
  watch = g_bus_watch_name_on_connection (session, CA_CONTROL_BUS_NAME,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared, NULL,
                                          &appeared, NULL);
  WAIT_UNTIL (appeared);
  g_bus_unwatch_name (watch);

  start_ctl (f, &r, "DBUS_SESSION_BUS_ADDRESS", bus.address,
             (const char *const[]){ "--session", "status", NULL });
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "aor: sips:alice@example.org\n"));

  /* Signals reach session-bus clients too. */
  lists = f->fake.n_list;
  start_ctl (f, &r, "DBUS_SESSION_BUS_ADDRESS", bus.address,
             (const char *const[]){ "--session", "wait-incoming", NULL });
  WAIT_UNTIL (f->fake.n_list > lists);
  ca_control_emit_incoming_call (on_bus, 3, "sips:frank@example.org");
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, "3\tsips:frank@example.org\n");

  ca_control_free (on_bus);
  /* With nobody owning the name, sottoctl cannot connect: exit 2. */
  start_ctl (f, &r, "DBUS_SESSION_BUS_ADDRESS", bus.address,
             (const char *const[]){ "--session", "status", NULL });
  WAIT_UNTIL (r.done);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, CA_CONTROL_BUS_NAME));
  run_clear (&r);

  g_dbus_connection_close_sync (session, NULL, NULL);
  g_clear_object (&session);
  stop_bus (&bus);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

/* No session bus at all is not an error: the private socket still serves. */
static void
test_no_session_bus (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *nowhere = g_build_filename (f->dir, "no-bus", NULL);
  g_autofree char *address = g_strconcat ("unix:path=", nowhere, NULL);
  g_autofree char *sock = g_build_filename (f->dir, "run", "second.sock", NULL);
  CaControl *both;
  Run r = { 0 };

  g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  both = ca_control_new (&fake_backend, &f->fake, sock, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (both);
  g_assert_cmpint (run_ctl (f, &r, ((const char *const[]){ "--socket", sock, "status", NULL })),
                   ==, 0);
  run_clear (&r);
  ca_control_free (both);
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* No test may reach the developer's own session bus. */
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/client-agent/control/methods", test_methods);
  ADD ("/client-agent/control/argument-errors", test_argument_errors);
  ADD ("/client-agent/control/signals", test_signals);
  ADD ("/client-agent/control/sottoctl/commands", test_sottoctl);
  ADD ("/client-agent/control/sottoctl/socket-choice", test_sottoctl_socket_choice);
  ADD ("/client-agent/control/sottoctl/wait", test_sottoctl_wait);
  ADD ("/client-agent/control/socket-guards", test_socket_guards);
  ADD ("/client-agent/control/no-session-bus", test_no_session_bus);
  ADD ("/client-agent/control/session-bus", test_session_bus);
#undef ADD
  return g_test_run ();
}

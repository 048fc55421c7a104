/* ca-control: org.sotto.Agent1 on a private peer-to-peer socket and on the session bus (see
 * ca-control.h). Only D-Bus lives here; every answer comes from the backend table.
 *
 * The private socket is the one a headless agent relies on, so it is guarded twice: the
 * directory must be 0700 and ours (so nobody else can even reach the socket), and the
 * authentication observer admits only peers whose SO_PEERCRED uid is ours. */
#include "config.h"

#define G_LOG_DOMAIN "sotto-agent"

#include "ca-control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* The introspection text, made from org.sotto.Agent1.xml at build time (control.mk). */
#include "client-agent/ca-control-xml.h"

#define ERROR_INVALID CA_CONTROL_INTERFACE ".Error.InvalidArgument"
#define ERROR_NOT_FOUND CA_CONTROL_INTERFACE ".Error.NotFound"
#define ERROR_NOT_SUPPORTED CA_CONTROL_INTERFACE ".Error.NotSupported"
#define ERROR_FAILED CA_CONTROL_INTERFACE ".Error.Failed"

typedef struct
{
  CaControl *control;
  GDBusConnection *connection;
  guint registration;
  gulong closed_handler;
} Peer;

struct _CaControl
{
  const CaControlBackend *backend;
  gpointer self;
  GDBusNodeInfo *node;

  /* Private socket. */
  GDBusAuthObserver *observer;
  GDBusServer *server;
  char *socket_path;
  GPtrArray *peers; /* of Peer*, owned */

  /* Session bus. */
  guint owner_id;
  GDBusConnection *session;
  guint session_registration;
};

/* ---- Method calls ------------------------------------------------------------------------ */

static void
return_backend_error (GDBusMethodInvocation *invocation, const GError *error)
{
  const char *name = ERROR_FAILED;

  if (error == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, ERROR_FAILED,
                                                  "the agent failed without saying why");
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    name = ERROR_NOT_FOUND;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    name = ERROR_INVALID;
  /* The message is the backend's own, unchanged: sottoctl prints it. */
  g_dbus_method_invocation_return_dbus_error (invocation, name, error->message);
}

/* A backend's variant of the wrong type is a bug in the daemon, not the caller's problem. */
static gboolean
take_variant (GDBusMethodInvocation *invocation, GVariant *value, const char *type,
              const char *method)
{
  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
    {
      g_dbus_method_invocation_return_value (invocation, g_variant_new_tuple (&value, 1));
      return TRUE;
    }
  g_critical ("ca-control: the backend's %s returned %s, not %s", method,
              value != NULL ? g_variant_get_type_string (value) : "NULL", type);
  g_dbus_method_invocation_return_dbus_error (invocation, ERROR_FAILED,
                                              "internal error in the agent");
  return FALSE;
}

static gboolean
check_call_id (GDBusMethodInvocation *invocation, guint call_id)
{
  if (call_id != 0)
    return TRUE;
  g_dbus_method_invocation_return_dbus_error (invocation, ERROR_INVALID,
                                              "call id 0 is not a call (ids start at 1)");
  return FALSE;
}

static void
method_call (GDBusConnection *connection, const char *sender, const char *object_path,
             const char *interface_name, const char *method, GVariant *parameters,
             GDBusMethodInvocation *invocation, gpointer user_data)
{
  CaControl *control = user_data;
  const CaControlBackend *b = control->backend;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = NULL;
  guint call_id = 0;

  if (g_str_equal (method, "Status"))
    {
      if (b->status == NULL)
        goto unsupported;
      value = b->status (control->self);
      if (value != NULL)
        g_variant_ref_sink (value);
      take_variant (invocation, value, "a{sv}", method);
    }
  else if (g_str_equal (method, "ListCalls"))
    {
      if (b->list_calls == NULL)
        goto unsupported;
      value = b->list_calls (control->self);
      if (value != NULL)
        g_variant_ref_sink (value);
      take_variant (invocation, value, "aa{sv}", method);
    }
  else if (g_str_equal (method, "Call"))
    {
      const char *target = NULL;

      g_variant_get (parameters, "(&s)", &target);
      if (b->call == NULL)
        goto unsupported;
      if (target[0] == '\0')
        {
          g_dbus_method_invocation_return_dbus_error (invocation, ERROR_INVALID,
                                                      "the call target is empty; give a "
                                                      "sips: URI or a user name");
          return;
        }
      call_id = b->call (control->self, target, &error);
      if (call_id == 0)
        return_backend_error (invocation, error);
      else
        g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", call_id));
    }
  else if (g_str_equal (method, "Answer") || g_str_equal (method, "Hangup"))
    {
      gboolean (*fn) (gpointer, guint, GError **)
        = g_str_equal (method, "Answer") ? b->answer : b->hangup;

      g_variant_get (parameters, "(u)", &call_id);
      if (fn == NULL)
        goto unsupported;
      if (!check_call_id (invocation, call_id))
        return;
      if (fn (control->self, call_id, &error))
        g_dbus_method_invocation_return_value (invocation, NULL);
      else
        return_backend_error (invocation, error);
    }
  else if (g_str_equal (method, "Verify"))
    {
      gboolean verified = FALSE;

      g_variant_get (parameters, "(ub)", &call_id, &verified);
      if (b->verify == NULL)
        goto unsupported;
      if (!check_call_id (invocation, call_id))
        return;
      if (b->verify (control->self, call_id, verified, &error))
        g_dbus_method_invocation_return_value (invocation, NULL);
      else
        return_backend_error (invocation, error);
    }
  else if (g_str_equal (method, "CallInfo"))
    {
      g_variant_get (parameters, "(u)", &call_id);
      if (b->call_info == NULL)
        goto unsupported;
      if (!check_call_id (invocation, call_id))
        return;
      value = b->call_info (control->self, call_id, &error);
      if (value == NULL)
        {
          return_backend_error (invocation, error);
          return;
        }
      g_variant_ref_sink (value);
      take_variant (invocation, value, "a{sv}", method);
    }
  else
    {
      /* GDBus checks names against the introspection data, so this is not reached. */
      g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error."
                                                  "UnknownMethod", "no such method");
    }
  return;

unsupported:
  g_dbus_method_invocation_return_dbus_error (invocation, ERROR_NOT_SUPPORTED,
                                              "this agent does not implement that method");
}

static const GDBusInterfaceVTable vtable = { method_call, NULL, NULL, { 0 } };

static guint
register_object (CaControl *control, GDBusConnection *connection, GError **error)
{
  return g_dbus_connection_register_object (connection, CA_CONTROL_OBJECT_PATH,
                                            control->node->interfaces[0], &vtable, control, NULL,
                                            error);
}

/* ---- Private socket ---------------------------------------------------------------------- */

/* Only our own uid, proven by the kernel (SO_PEERCRED through the EXTERNAL mechanism). */
static gboolean
on_authorize_peer (GDBusAuthObserver *observer, GIOStream *stream, GCredentials *credentials,
                   gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  uid_t uid;

  if (credentials == NULL)
    {
      g_info ("control: refused a peer that sent no credentials");
      return FALSE;
    }
  uid = g_credentials_get_unix_user (credentials, &error);
  if (uid == (uid_t) -1 || uid != getuid ())
    {
      g_info ("control: refused a peer of uid %ld (only uid %ld may control this agent)",
              (long) uid, (long) getuid ());
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_allow_mechanism (GDBusAuthObserver *observer, const char *mechanism, gpointer user_data)
{
  return g_str_equal (mechanism, "EXTERNAL");
}

static void
peer_free (gpointer data)
{
  Peer *peer = data;

  g_clear_signal_handler (&peer->closed_handler, peer->connection);
  if (peer->registration != 0)
    g_dbus_connection_unregister_object (peer->connection, peer->registration);
  if (!g_dbus_connection_is_closed (peer->connection))
    g_dbus_connection_close (peer->connection, NULL, NULL, NULL);
  g_object_unref (peer->connection);
  g_free (peer);
}

static void
on_peer_closed (GDBusConnection *connection, gboolean remote_peer_vanished, GError *error,
                gpointer user_data)
{
  Peer *peer = user_data;

  g_debug ("control: a client left");
  g_ptr_array_remove_fast (peer->control->peers, peer);
}

static gboolean
on_new_connection (GDBusServer *server, GDBusConnection *connection, gpointer user_data)
{
  CaControl *control = user_data;
  g_autoptr (GError) error = NULL;
  Peer *peer = g_new0 (Peer, 1);

  peer->control = control;
  peer->connection = g_object_ref (connection);
  peer->registration = register_object (control, connection, &error);
  if (peer->registration == 0)
    {
      g_warning ("control: cannot serve a client: %s", error->message);
      peer_free (peer);
      return FALSE;
    }
  peer->closed_handler = g_signal_connect (connection, "closed", G_CALLBACK (on_peer_closed), peer);
  g_ptr_array_add (control->peers, peer);
  g_debug ("control: a client connected");
  return TRUE;
}

/* The directory holds the only barrier the file system offers: refuse one that others could
 * enter or that someone else owns, rather than "fix" a directory we did not create. */
static gboolean
prepare_directory (const char *dir, GError **error)
{
  struct stat st;
  gboolean created = FALSE;

  if (g_lstat (dir, &st) < 0)
    {
      if (errno != ENOENT || g_mkdir_with_parents (dir, 0700) < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "cannot create the control socket's directory %s: %s", dir,
                       g_strerror (saved));
          return FALSE;
        }
      created = TRUE;
      if (g_lstat (dir, &st) < 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dir,
                       g_strerror (saved));
          return FALSE;
        }
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   "the control socket's directory %s is not a directory (or is a symlink)",
                   dir);
      return FALSE;
    }
  if (st.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "the control socket's directory %s belongs to uid %ld, not to us (uid %ld); "
                   "refusing to use it",
                   dir, (long) st.st_uid, (long) getuid ());
      return FALSE;
    }
  if (created && (st.st_mode & 0777) != 0700 && g_chmod (dir, 0700) == 0)
    st.st_mode = (st.st_mode & ~0777u) | 0700;
  if (st.st_mode & 077)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "the control socket's directory %s is open to group or others (mode %04o); "
                   "run chmod 700 %s",
                   dir, (unsigned) (st.st_mode & 07777), dir);
      return FALSE;
    }
  return TRUE;
}

/* An existing socket file is either a live agent (refuse) or left by one that died (remove). */
static gboolean
clear_stale_socket (const char *path, GError **error)
{
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  struct stat st;
  int fd;
  int rc;
  int saved;

  if (g_lstat (path, &st) < 0)
    return TRUE;
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s exists and is not a socket; refusing to replace it", path);
      return FALSE;
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "socket: %s",
                   g_strerror (saved));
      return FALSE;
    }
  memcpy (sun.sun_path, path, strlen (path) + 1);
  rc = connect (fd, (struct sockaddr *) &sun, sizeof sun);
  saved = errno;
  close (fd);
  /* EAGAIN: a listener whose backlog is full is still a listener. */
  if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                   "another agent is already answering on %s", path);
      return FALSE;
    }
  if (saved != ECONNREFUSED)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot tell whether an agent answers on %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  g_debug ("control: removing the stale socket %s", path);
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot remove the stale socket %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_server (CaControl *control, const char *socket_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (socket_path);
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();

  if (!g_path_is_absolute (socket_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the control socket path %s is not absolute", socket_path);
      return FALSE;
    }
  if (strlen (socket_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   "the control socket path %s is longer than a unix socket allows (%zu bytes)",
                   socket_path, sizeof (((struct sockaddr_un *) NULL)->sun_path) - 1);
      return FALSE;
    }
  if (!prepare_directory (dir, error) || !clear_stale_socket (socket_path, error))
    return FALSE;

  control->observer = g_dbus_auth_observer_new ();
  g_signal_connect (control->observer, "authorize-authenticated-peer",
                    G_CALLBACK (on_authorize_peer), control);
  g_signal_connect (control->observer, "allow-mechanism", G_CALLBACK (on_allow_mechanism),
                    control);

  escaped = g_dbus_address_escape_value (socket_path);
  address = g_strconcat ("unix:path=", escaped, NULL);
  control->server = g_dbus_server_new_sync (address, G_DBUS_SERVER_FLAGS_NONE, guid,
                                            control->observer, NULL, error);
  if (control->server == NULL)
    {
      g_prefix_error (error, "cannot listen on %s: ", socket_path);
      return FALSE;
    }
  control->socket_path = g_strdup (socket_path);
  /* The 0700 directory already keeps others out; 0600 says the same on the file itself. */
  if (g_chmod (socket_path, 0600) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "chmod 600 %s: %s",
                   socket_path, g_strerror (saved));
      return FALSE;
    }
  g_signal_connect (control->server, "new-connection", G_CALLBACK (on_new_connection), control);
  g_dbus_server_start (control->server);
  g_info ("control: listening on %s", socket_path);
  return TRUE;
}

/* ---- Session bus ------------------------------------------------------------------------- */

static void
on_bus_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  CaControl *control = user_data;
  g_autoptr (GError) error = NULL;

  control->session_registration = register_object (control, connection, &error);
  if (control->session_registration == 0)
    {
      g_warning ("control: cannot export %s on the session bus: %s", CA_CONTROL_OBJECT_PATH,
                 error->message);
      return;
    }
  g_set_object (&control->session, connection);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  g_info ("control: owning %s on the session bus", name);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  if (connection == NULL)
    g_debug ("control: no session bus; only the private socket serves");
  else
    g_info ("control: %s is owned by someone else on the session bus", name);
}

/* ---- Public ------------------------------------------------------------------------------ */

CaControl *
ca_control_new (const CaControlBackend *backend, gpointer self, const char *socket_path,
                gboolean session_bus, GError **error)
{
  g_autoptr (CaControl) control = NULL;

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  control = g_new0 (CaControl, 1);
  control->backend = backend;
  control->self = self;
  control->peers = g_ptr_array_new_with_free_func (peer_free);
  control->node = g_dbus_node_info_new_for_xml (ca_control_introspection_xml, NULL);
  g_assert (control->node != NULL && control->node->interfaces[0] != NULL);

  if (socket_path != NULL && !start_server (control, socket_path, error))
    return NULL;
  if (session_bus)
    control->owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, CA_CONTROL_BUS_NAME,
                                        G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_bus_acquired,
                                        on_name_acquired, on_name_lost, control, NULL);
  return g_steal_pointer (&control);
}

void
ca_control_free (CaControl *control)
{
  if (control == NULL)
    return;
  g_clear_handle_id (&control->owner_id, g_bus_unown_name);
  if (control->session != NULL && control->session_registration != 0)
    g_dbus_connection_unregister_object (control->session, control->session_registration);
  g_clear_object (&control->session);

  if (control->server != NULL)
    {
      g_signal_handlers_disconnect_by_data (control->server, control);
      g_dbus_server_stop (control->server);
    }
  g_clear_pointer (&control->peers, g_ptr_array_unref);
  g_clear_object (&control->server);
  if (control->observer != NULL)
    g_signal_handlers_disconnect_by_data (control->observer, control);
  g_clear_object (&control->observer);
  g_free (control->socket_path);
  g_clear_pointer (&control->node, g_dbus_node_info_unref);
  g_free (control);
}

const char *
ca_control_get_address (CaControl *control)
{
  g_return_val_if_fail (control != NULL, NULL);
  return control->server != NULL ? g_dbus_server_get_client_address (control->server) : NULL;
}

static void
emit (CaControl *control, const char *signal, GVariant *parameters)
{
  g_variant_ref_sink (parameters);
  for (guint i = 0; i < control->peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (control->peers, i);
      g_dbus_connection_emit_signal (peer->connection, NULL, CA_CONTROL_OBJECT_PATH,
                                     CA_CONTROL_INTERFACE, signal, parameters, NULL);
    }
  if (control->session != NULL)
    g_dbus_connection_emit_signal (control->session, NULL, CA_CONTROL_OBJECT_PATH,
                                   CA_CONTROL_INTERFACE, signal, parameters, NULL);
  g_variant_unref (parameters);
}

void
ca_control_emit_incoming_call (CaControl *control, guint call_id, const char *from)
{
  g_return_if_fail (control != NULL && from != NULL);
  emit (control, "IncomingCall", g_variant_new ("(us)", call_id, from));
}

void
ca_control_emit_call_state (CaControl *control, guint call_id, const char *state,
                            const char *reason)
{
  g_return_if_fail (control != NULL && state != NULL);
  emit (control, "CallStateChanged",
        g_variant_new ("(uss)", call_id, state, reason != NULL ? reason : ""));
}

char *
ca_control_default_socket_path (void)
{
  return g_build_filename (g_get_user_runtime_dir (), "sotto", "agent.sock", NULL);
}

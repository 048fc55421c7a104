/* Unit tests for ca-config: defaults, every key, and every kind of bad input, each checked for
 * the line its error names; the password file's permission check and newline handling. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "client-agent/ca-config.h"
#include "client-agent/ca-control.h"
#include "sotto-test.h"
#include "sotto-util.h"

static CaConfig *
load_ok (const char *text)
{
  g_autoptr (GError) error = NULL;
  CaConfig *config = NULL;

  gboolean ok = ca_config_load_from_data (text, strlen (text), "agent.conf", &config, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_nonnull (config);
  return config;
}

/* Loads @text expecting failure; checks the code and that the message holds each fragment. */
static void
load_bad (const char *text, GKeyFileError code, const char *fragment1, const char *fragment2)
{
  g_autoptr (GError) error = NULL;
  CaConfig *config = (CaConfig *) 0x1; /* must stay untouched */

  g_assert_false (ca_config_load_from_data (text, strlen (text), "agent.conf", &config, &error));
  g_assert_true (config == (CaConfig *) 0x1);
  g_assert_error (error, G_KEY_FILE_ERROR, (gint) code);
  if (g_test_verbose ())
    g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "agent.conf:"));
  if (fragment1 != NULL && strstr (error->message, fragment1) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, fragment1);
  if (fragment2 != NULL && strstr (error->message, fragment2) == NULL)
    g_error ("\"%s\" lacks \"%s\"", error->message, fragment2);
}

static void
test_defaults (void)
{
  g_autoptr (CaConfig) def = ca_config_new_default ();
  g_autoptr (CaConfig) empty = load_ok ("");
  g_autoptr (CaConfig) comments = load_ok ("# nothing\n\n  # also nothing\n[agent]\n");
  g_autofree char *state = g_build_filename (g_get_user_state_dir (), "sotto", NULL);
  g_autofree char *sock = ca_control_default_socket_path ();
  g_autofree char *path = ca_config_default_path ();
  const CaConfig *all[] = { def, empty, comments };

  for (gsize i = 0; i < G_N_ELEMENTS (all); i++)
    {
      const CaConfig *c = all[i];

      g_assert_null (c->aor);
      g_assert_null (c->registrar);
      g_assert_null (c->username);
      g_assert_null (c->password_file);
      g_assert_null (c->ca_file);
      g_assert_false (c->force_relay);
      g_assert_null (c->play_path);
      g_assert_null (c->record_path);
      g_assert_null (c->local_addresses);
      g_assert_false (c->ice_tcp);
      g_assert_cmpuint (g_strv_length (c->codecs), ==, 2);
      g_assert_cmpstr (c->codecs[0], ==, "opus");
      g_assert_cmpstr (c->codecs[1], ==, "pcmu");
      g_assert_false (c->auto_answer);
      g_assert_cmpstr (c->state_dir, ==, state);
      g_assert_cmpstr (c->control_socket, ==, sock);
      g_assert_true (c->session_bus);
      g_assert_cmpstr (c->log_level, ==, "info");
    }
  g_assert_true (g_str_has_suffix (path, "/sotto/agent.conf"));
  g_assert_true (g_str_has_suffix (sock, "/sotto/agent.sock"));
}

static void
test_every_key (void)
{
  g_autoptr (CaConfig) c = load_ok ("[account]\n"
                                    "aor = sips:alice@example.org\n"
                                    "registrar = sips:sip.example.org:5062\n"
                                    "username = alice-auth\n"
                                    "password-file = ~/.config/sotto/password\n"
                                    "ca-file = /etc/sotto/ca.pem\n"
                                    "[media]\n"
                                    "force-relay = true\n"
                                    "play = /tmp/in.wav\n"
                                    "record = ~/out.wav\n"
                                    "local-addresses = 10.0.0.2; ::1;\n"
                                    "ice-tcp = true\n"
                                    "codecs = PCMU;opus\n"
                                    "[agent]\n"
                                    "auto-answer = true\n"
                                    "state-dir = /var/tmp/st\n"
                                    "control-socket = /run/user/1/s/agent.sock\n"
                                    "session-bus = false\n"
                                    "log-level = DEBUG\n");
  g_autofree char *pw = g_build_filename (g_get_home_dir (), ".config/sotto/password", NULL);
  g_autofree char *rec = g_build_filename (g_get_home_dir (), "out.wav", NULL);

  g_assert_cmpstr (c->aor, ==, "sips:alice@example.org");
  g_assert_cmpstr (c->registrar, ==, "sips:sip.example.org:5062");
  g_assert_cmpstr (c->username, ==, "alice-auth");
  g_assert_cmpstr (c->password_file, ==, pw);
  g_assert_cmpstr (c->ca_file, ==, "/etc/sotto/ca.pem");
  g_assert_true (c->force_relay);
  g_assert_cmpstr (c->play_path, ==, "/tmp/in.wav");
  g_assert_cmpstr (c->record_path, ==, rec);
  g_assert_cmpuint (g_strv_length (c->local_addresses), ==, 2);
  g_assert_cmpstr (c->local_addresses[0], ==, "10.0.0.2");
  g_assert_cmpstr (c->local_addresses[1], ==, "::1");
  g_assert_true (c->ice_tcp);
  g_assert_cmpuint (g_strv_length (c->codecs), ==, 2);
  g_assert_cmpstr (c->codecs[0], ==, "pcmu");
  g_assert_cmpstr (c->codecs[1], ==, "opus");
  g_assert_true (c->auto_answer);
  g_assert_cmpstr (c->state_dir, ==, "/var/tmp/st");
  g_assert_cmpstr (c->control_socket, ==, "/run/user/1/s/agent.sock");
  g_assert_false (c->session_bus);
  g_assert_cmpstr (c->log_level, ==, "debug");
}

/* registrar and username come from the AOR when the file does not set them. */
static void
test_derived (void)
{
  g_autoptr (CaConfig) a = load_ok ("[account]\naor = sips:bob@example.net\n");
  g_autoptr (CaConfig) b = load_ok ("[account]\naor = sips:carol@[::1]:5063\n");
  g_autoptr (CaConfig) c = load_ok ("[account]\naor = sips:dave@127.0.0.1\n");

  g_assert_cmpstr (a->registrar, ==, "sips:example.net:5061");
  g_assert_cmpstr (a->username, ==, "bob");
  g_assert_cmpstr (b->registrar, ==, "sips:[::1]:5061");
  g_assert_cmpstr (b->username, ==, "carol");
  g_assert_cmpstr (c->registrar, ==, "sips:127.0.0.1:5061");
}

static void
test_bad_values (void)
{
  load_bad ("[media]\n\nforce-relay = yes\n", G_KEY_FILE_ERROR_INVALID_VALUE, "agent.conf:3:",
            "[media] force-relay: \"yes\" is neither true nor false");
  /* GKeyFile alone would take 1; a strict boolean does not. */
  load_bad ("[agent]\nsession-bus = 1\n", G_KEY_FILE_ERROR_INVALID_VALUE, "agent.conf:2:",
            "session-bus");
  load_bad ("[agent]\nauto-answer = TRUE\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", NULL);
  load_bad ("[account]\naor = sip:alice@example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            "agent.conf:2: [account] aor:", "TLS only");
  load_bad ("[account]\naor = sips:alice@\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "needs a host");
  load_bad ("[account]\naor = sips:example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "needs a user");
  load_bad ("[account]\naor = sips:a@exa_mple.org\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "DNS name");
  load_bad ("[account]\naor = sips:a@example.org;transport=tls\n",
            G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "parameters");
  load_bad ("[account]\naor = sips:a@example.org:99999\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            ":2:", "port");
  load_bad ("[account]\naor = sips:a@[1.2.3.4]\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "IPv6");
  load_bad ("[account]\naor = sips:a:pw@example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "password");
  load_bad ("[account]\naor = https://example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "not a sips: URI");
  load_bad ("[account]\nregistrar = sip:example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            "[account] registrar:", "TLS only");
  load_bad ("[account]\nregistrar = sips:u@example.org\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            ":2:", "without a user");
  load_bad ("[account]\nusername = a b\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "spaces");
  load_bad ("[account]\nca-file = relative/ca.pem\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:",
            "absolute");
  load_bad ("[account]\nca-file =\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "empty");
  load_bad ("[media]\nlocal-addresses = 10.0.0.2;eth0\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            ":2:", "\"eth0\" is not an IP address");
  load_bad ("[media]\nlocal-addresses = ;\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "empty");
  load_bad ("[media]\ncodecs = opus;g722\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "g722");
  load_bad ("[media]\ncodecs = opus;OPUS\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "twice");
  load_bad ("[agent]\nlog-level = loud\n", G_KEY_FILE_ERROR_INVALID_VALUE, ":2:", "loud");
  /* The last of two settings is the one GKeyFile keeps, and the one the error names. */
  load_bad ("[media]\nice-tcp = true\n# x\nice-tcp = maybe\n", G_KEY_FILE_ERROR_INVALID_VALUE,
            "agent.conf:4:", NULL);
}

static void
test_unknown_and_syntax (void)
{
  load_bad ("[account]\naor = sips:a@example.org\n[medai]\nice-tcp = true\n",
            G_KEY_FILE_ERROR_GROUP_NOT_FOUND, "agent.conf:3: [medai]:", "unknown group");
  load_bad ("[media]\nforce-relay = true\nforce_relay = true\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
            "agent.conf:3: [media] force_relay:", "unknown key");
  /* A key valid in another group is still unknown here. */
  load_bad ("[agent]\naor = sips:a@example.org\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND,
            "agent.conf:2: [agent] aor:", NULL);
  load_bad ("[account]\naor[fr] = sips:a@example.org\n", G_KEY_FILE_ERROR_KEY_NOT_FOUND, ":2:",
            NULL);
  load_bad ("aor = sips:a@example.org\n", G_KEY_FILE_ERROR_PARSE, "agent.conf:1:",
            "before the first [group]");
  load_bad ("[account\n", G_KEY_FILE_ERROR_PARSE, "agent.conf:1:", "[name]");
  load_bad ("[agent]\n; a semicolon is no comment\n", G_KEY_FILE_ERROR_PARSE, "agent.conf:2:",
            NULL);
  load_bad ("[agent]\njust words\n", G_KEY_FILE_ERROR_PARSE, "agent.conf:2:", "key = value");
  load_bad ("[agent]\n= true\n", G_KEY_FILE_ERROR_PARSE, "agent.conf:2:", "key name");
  {
    g_autoptr (GError) error = NULL;
    CaConfig *config = NULL;
    const char nul[] = "[agent]\nauto-answer = tr\0ue\n";

    g_assert_false (ca_config_load_from_data (nul, sizeof nul - 1, "agent.conf", &config,
                                              &error));
    g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);
    g_assert_null (config);
  }
}

static void
test_load_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-ca-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "agent.conf", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CaConfig) config = NULL;
  CaConfig *none = NULL;

  g_assert_true (g_file_set_contents (path, "[agent]\n\nsession-bus = no\n", -1, NULL));
  g_assert_false (ca_config_load_file (path, &none, &error));
  g_assert_null (none);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, ":3:"));
  g_clear_error (&error);

  g_assert_false (ca_config_load_file (missing, &none, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (path, "[agent]\nsession-bus = false\n", -1, NULL));
  g_assert_true (ca_config_load_file (path, &config, &error));
  g_assert_no_error (error);
  g_assert_false (config->session_bus);
  sotto_test_remove_tree (dir);
}

static char *
write_secret (const char *dir, const char *name, const char *text, int mode)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

static void
test_password_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("test-ca-config-XXXXXX", NULL);
  g_autofree char *open_file = write_secret (dir, "open", "secret\n", 0644);
  g_autofree char *group_file = write_secret (dir, "group", "secret\n", 0640);
  g_autofree char *good = write_secret (dir, "good", "s3cret pass\n", 0600);
  g_autofree char *bare = write_secret (dir, "bare", "nonewline", 0600);
  g_autofree char *two = write_secret (dir, "two", "kept\n\n", 0600);
  g_autofree char *crlf = write_secret (dir, "crlf", "dos\r\n", 0600);
  g_autofree char *empty = write_secret (dir, "empty", "", 0600);
  g_autofree char *newline = write_secret (dir, "newline", "\n", 0600);
  g_autoptr (GError) error = NULL;
  char *pw;

  pw = ca_config_read_password_file (open_file, &error);
  g_assert_null (pw);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_nonnull (strstr (error->message, "0644"));
  g_clear_error (&error);
  g_assert_null (ca_config_read_password_file (group_file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  pw = ca_config_read_password_file (good, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pw, ==, "s3cret pass");
  g_clear_pointer (&pw, sotto_util_secret_free);
  pw = ca_config_read_password_file (bare, &error);
  g_assert_cmpstr (pw, ==, "nonewline");
  g_clear_pointer (&pw, sotto_util_secret_free);
  pw = ca_config_read_password_file (crlf, &error);
  g_assert_cmpstr (pw, ==, "dos");
  g_clear_pointer (&pw, sotto_util_secret_free);

  /* Only one newline is stripped; what remains must still be a single line. */
  g_assert_null (ca_config_read_password_file (two, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (ca_config_read_password_file (empty, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (ca_config_read_password_file (newline, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_clear_error (&error);
  sotto_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/client-agent/config/defaults", test_defaults);
  g_test_add_func ("/client-agent/config/every-key", test_every_key);
  g_test_add_func ("/client-agent/config/derived", test_derived);
  g_test_add_func ("/client-agent/config/bad-values", test_bad_values);
  g_test_add_func ("/client-agent/config/unknown-and-syntax", test_unknown_and_syntax);
  g_test_add_func ("/client-agent/config/load-file", test_load_file);
  g_test_add_func ("/client-agent/config/password-file", test_password_file);
  return g_test_run ();
}

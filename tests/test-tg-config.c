/* Unit tests for tg-config: the [turn] group, defaults from [signald], and each bad value
 * refused with an error naming the line and the key. */
#include "config.h"

#include <string.h>

#include "turn-glue/tg-config.h"

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  gboolean has_turn = TRUE;
  g_autoptr (TgConfig) c = tg_config_load_from_data ("[signald]\nlog-level = debug\n", -1, NULL,
                                                     &has_turn, &error);

  g_assert_no_error (error);
  g_assert_false (has_turn);
  g_assert_cmpstr (c->server_name, ==, "localhost");
  g_assert_cmpstr (c->realm, ==, "localhost");
  g_assert_cmpuint (g_strv_length (c->listen), ==, 1);
  g_assert_cmpstr (c->listen[0], ==, "0.0.0.0");
  g_assert_cmpuint (g_strv_length (c->relay), ==, 0);
  g_assert_null (c->external_ip);
  g_assert_cmpuint (c->port, ==, 3478);
  g_assert_cmpuint (c->tls_port, ==, 5349);
  g_assert_false (c->tls_443);
  g_assert_cmpuint (c->min_port, ==, 49152);
  g_assert_cmpuint (c->max_port, ==, 65535);
  g_assert_cmpuint (c->credential_lifetime_s, ==, 43200);
  g_assert_cmpstr (c->cert_file, ==, "sotto-state/tls/server.pem");
  g_assert_cmpstr (c->key_file, ==, "sotto-state/tls/server.key");
  g_assert_cmpstr (c->secret_file, ==, "sotto-state/turn-secrets");
  g_assert_cmpstr (c->state_dir, ==, "sotto-state");
  g_assert_false (c->lan_deployment);
  g_assert_cmpuint (g_strv_length (c->allow_peer), ==, 0);
}

/* [signald] domain, cert-dir and state-dir give the relay's defaults. */
static void
test_signald_defaults (void)
{
  static const char text[] = "[signald]\n"
                             "domain = SIP.Example.org\n"
                             "cert-dir = /etc/sotto/tls\n"
                             "state-dir = /var/lib/sotto\n"
                             "[limits]\n"
                             "max-message-size = 4096\n"
                             "[turn]\n";
  g_autoptr (GError) error = NULL;
  gboolean has_turn = FALSE;
  g_autoptr (TgConfig) c = tg_config_load_from_data (text, -1, "x.conf", &has_turn, &error);

  g_assert_no_error (error);
  g_assert_true (has_turn);
  g_assert_cmpstr (c->server_name, ==, "sip.example.org");
  g_assert_cmpstr (c->realm, ==, "sip.example.org");
  g_assert_cmpstr (c->cert_file, ==, "/etc/sotto/tls/server.pem");
  g_assert_cmpstr (c->key_file, ==, "/etc/sotto/tls/server.key");
  g_assert_cmpstr (c->state_dir, ==, "/var/lib/sotto");
  g_assert_cmpstr (c->secret_file, ==, "/var/lib/sotto/turn-secrets");
}

static void
test_full (void)
{
  static const char text[] = "[signald]\n"
                             "domain = example.org\n"
                             "[turn]\n"
                             "server-name = turn.example.org\n"
                             "realm = example.org\n"
                             "listen = 0.0.0.0; ::\n"
                             "relay = 203.0.113.10;2001:db8::10\n"
                             "external-ip = 203.0.113.10/10.0.0.5\n"
                             "port = 3479\n"
                             "tls-port = 5350\n"
                             "tls-443 = true\n"
                             "min-port = 50000\n"
                             "max-port = 50100\n"
                             "credential-lifetime = 600\n"
                             "user-quota = 3\n"
                             "total-quota = 30\n"
                             "max-bps = 0\n"
                             "cert-file = /c/cert.pem\n"
                             "key-file = /c/key.pem\n"
                             "secret-file = /s/secrets\n"
                             "state-dir = /st\n"
                             "lan-deployment = true\n"
                             "allow-peer = 127.0.0.1; 10.1.0.0-10.1.255.255 ;::1\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_data (text, -1, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->server_name, ==, "turn.example.org");
  g_assert_cmpstr (c->realm, ==, "example.org");
  g_assert_cmpuint (g_strv_length (c->listen), ==, 2);
  g_assert_cmpstr (c->listen[1], ==, "::");
  g_assert_cmpstr (c->relay[1], ==, "2001:db8::10");
  g_assert_cmpstr (c->external_ip, ==, "203.0.113.10/10.0.0.5");
  g_assert_cmpuint (c->port, ==, 3479);
  g_assert_cmpuint (c->tls_port, ==, 5350);
  g_assert_true (c->tls_443);
  g_assert_cmpuint (c->min_port, ==, 50000);
  g_assert_cmpuint (c->max_port, ==, 50100);
  g_assert_cmpuint (c->credential_lifetime_s, ==, 600);
  g_assert_cmpuint (c->user_quota, ==, 3);
  g_assert_cmpuint (c->total_quota, ==, 30);
  g_assert_cmpuint (c->max_bps, ==, 0);
  g_assert_cmpstr (c->cert_file, ==, "/c/cert.pem");
  g_assert_cmpstr (c->key_file, ==, "/c/key.pem");
  g_assert_cmpstr (c->secret_file, ==, "/s/secrets");
  g_assert_cmpstr (c->state_dir, ==, "/st");
  g_assert_true (c->lan_deployment);
  g_assert_cmpuint (g_strv_length (c->allow_peer), ==, 3);
  g_assert_cmpstr (c->allow_peer[1], ==, "10.1.0.0-10.1.255.255");
}

/* Each bad value: the error names the origin, the line and the key. */
typedef struct
{
  const char *line;    /* put on line 3, after "[signald]\n[turn]\n" */
  const char *key;     /* expected in the message; NULL for a syntax error */
  int code;
  const char *why;     /* a fragment of the reason */
} BadCase;

static const BadCase bad_cases[] = {
  { "prot = 3478", "prot", TG_CONFIG_ERROR_UNKNOWN_KEY, "unknown key" },
  { "port = 0", "port", TG_CONFIG_ERROR_BAD_VALUE, "between 1 and 65535" },
  { "port = 65536", "port", TG_CONFIG_ERROR_BAD_VALUE, "between 1 and 65535" },
  { "port = 34x", "port", TG_CONFIG_ERROR_BAD_VALUE, "whole number" },
  { "port = -1", "port", TG_CONFIG_ERROR_BAD_VALUE, "whole number" },
  { "min-port = 80", "min-port", TG_CONFIG_ERROR_BAD_VALUE, "between 1024" },
  { "credential-lifetime = 10", "credential-lifetime", TG_CONFIG_ERROR_BAD_VALUE, "between 60" },
  { "user-quota = 0", "user-quota", TG_CONFIG_ERROR_BAD_VALUE, "between 1" },
  { "listen = ", "listen", TG_CONFIG_ERROR_BAD_VALUE, "at least one" },
  { "listen = example.org", "listen", TG_CONFIG_ERROR_BAD_VALUE, "not an IP address" },
  { "listen = 1.2.3.4;1.2.3", "listen", TG_CONFIG_ERROR_BAD_VALUE, "not an IP address" },
  { "relay = fe80::1%eth0", "relay", TG_CONFIG_ERROR_BAD_VALUE, "not an IP address" },
  { "external-ip = 1.2.3.4/5.6.7.8/9.9.9.9", "external-ip", TG_CONFIG_ERROR_BAD_VALUE, "PUBLIC" },
  { "external-ip = host.example", "external-ip", TG_CONFIG_ERROR_BAD_VALUE, "PUBLIC" },
  { "server-name = bad_name!", "server-name", TG_CONFIG_ERROR_BAD_VALUE, "DNS name" },
  { "realm = two words", "realm", TG_CONFIG_ERROR_BAD_VALUE, "without spaces" },
  { "realm = a\\nno-auth", "realm", TG_CONFIG_ERROR_BAD_VALUE, "control character" },
  { "state-dir = /x\\nallow-loopback-peers", "state-dir", TG_CONFIG_ERROR_BAD_VALUE, "control" },
  { "secret-file = ", "secret-file", TG_CONFIG_ERROR_BAD_VALUE, "empty" },
  { "tls-443 = yes", "tls-443", TG_CONFIG_ERROR_BAD_VALUE, "true or false" },
  { "lan-deployment = 1", "lan-deployment", TG_CONFIG_ERROR_BAD_VALUE, "true or false" },
  { "allow-peer = 10.0.0.9-10.0.0.1", "allow-peer", TG_CONFIG_ERROR_BAD_VALUE, "not above" },
  { "allow-peer = 10.0.0.1-::1", "allow-peer", TG_CONFIG_ERROR_BAD_VALUE, "one family" },
  { "allow-peer = 10.0.0.0/8", "allow-peer", TG_CONFIG_ERROR_BAD_VALUE, "range FIRST-LAST" },
  { "tls-port = 3478", "tls-port", TG_CONFIG_ERROR_BAD_VALUE, "different ports" },
  { "max-port = 1024", "max-port", TG_CONFIG_ERROR_BAD_VALUE, "must not be above" },
  { "min-port = 3000", "min-port", TG_CONFIG_ERROR_BAD_VALUE, "contains the listening port" },
  { "just words", NULL, TG_CONFIG_ERROR_SYNTAX, "key = value" },
  { "[turn", NULL, TG_CONFIG_ERROR_SYNTAX, "group header" },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *bc = data;
  g_autofree char *text = g_strdup_printf ("[signald]\n[turn]\n%s\ntotal-quota = 1200\n", bc->line);
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_data (text, -1, "sotto.conf", NULL, &error);
  g_autofree char *where = NULL;

  g_assert_null (c);
  g_assert_error (error, TG_CONFIG_ERROR, bc->code);
  g_test_message ("%s -> %s", bc->line, error->message);
  /* The consistency checks blame the key the file set, on its own line. */
  where = g_strdup ("sotto.conf:3:");
  g_assert_true (g_str_has_prefix (error->message, where));
  if (bc->key != NULL)
    {
      g_autofree char *key = g_strdup_printf ("[turn] %s:", bc->key);
      g_assert_nonnull (strstr (error->message, key));
    }
  g_assert_nonnull (strstr (error->message, bc->why));
}

/* The line counts from the file's start, in a file with other groups around. */
static void
test_line_numbers (void)
{
  static const char text[] = "# comment\n"
                             "[signald]\n"
                             "domain = example.org\n"
                             "\n"
                             "[turn]\n"
                             "port = 3478\n"
                             "[auth]\n"
                             "nonce-lifetime = 300\n"
                             "[turn]\n"
                             "max-bps = lots\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_data (text, -1, "f.conf", NULL, &error);

  g_assert_null (c);
  g_assert_error (error, TG_CONFIG_ERROR, TG_CONFIG_ERROR_BAD_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "f.conf:10: [turn] max-bps:"));
}

/* Other groups are their owners' business; only [turn] keys are checked here. */
static void
test_foreign_groups (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_data (
      "[signald]\nlisten = sips:0.0.0.0:5061\n[registrar]\nwhatever = 1\n[turn]\nport = 3478\n", -1,
      NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (c);
}

static void
test_bad_signald_domain (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_data ("[signald]\ndomain = a b\n[turn]\n", -1,
                                                     "s.conf", NULL, &error);

  g_assert_null (c);
  g_assert_error (error, TG_CONFIG_ERROR, TG_CONFIG_ERROR_BAD_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "s.conf:2: [signald] domain:"));
}

static void
test_from_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TgConfig) c = tg_config_load_from_file ("/nonexistent/sotto.conf", NULL, &error);

  g_assert_null (c);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/turn/config/defaults", test_defaults);
  g_test_add_func ("/turn/config/signald-defaults", test_signald_defaults);
  g_test_add_func ("/turn/config/full", test_full);
  g_test_add_func ("/turn/config/line-numbers", test_line_numbers);
  g_test_add_func ("/turn/config/foreign-groups", test_foreign_groups);
  g_test_add_func ("/turn/config/bad-signald-domain", test_bad_signald_domain);
  g_test_add_func ("/turn/config/missing-file", test_from_file);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/turn/config/bad/%02zu", i);
      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  return g_test_run ();
}

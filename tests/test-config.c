/* Unit tests for sig-config: defaults, a full file, and every kind of bad input, each checked
 * for the line number, group and key its error names. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "signal/sig-config.h"
#include "sotto-util.h"

/* ---- Defaults ------------------------------------------------------------------------------ */

static void
check_defaults (const SigConfig *c)
{
  g_assert_cmpstr (c->domain, ==, "localhost");
  g_assert_nonnull (c->listen);
  g_assert_cmpuint (g_strv_length (c->listen), ==, 1);
  g_assert_cmpstr (c->listen[0], ==, "sips:127.0.0.1:5061");
  g_assert_cmpstr (c->cert_dir, ==, "sotto-state/tls");
  g_assert_cmpstr (c->state_dir, ==, "sotto-state");
  g_assert_cmpint (c->log_level, ==, SOTTO_LOG_LEVEL_INFO);
  g_assert_cmpuint (c->max_message_size, ==, 65536);
  g_assert_cmpuint (c->max_connections_per_address, ==, 32);
  g_assert_cmpuint (c->unauthenticated_timeout_s, ==, 30);
  g_assert_cmpuint (c->min_expires, ==, 60);
  g_assert_cmpuint (c->max_expires, ==, 3600);
  g_assert_cmpuint (c->default_expires, ==, 600);
  g_assert_cmpuint (c->max_bindings_per_user, ==, 10);
  g_assert_cmpuint (c->nonce_lifetime_s, ==, 300);
  g_assert_cmpuint (c->throttle_free_failures, ==, 5);
  g_assert_cmpuint (c->throttle_max_delay_s, ==, 300);
}

static void
test_defaults (void)
{
  g_autoptr (SigConfig) def = sig_config_new_default ();
  g_autoptr (SigConfig) empty = NULL;
  g_autoptr (SigConfig) comments = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;

  check_defaults (def);
  db = sig_config_accounts_path (def);
  g_assert_cmpstr (db, ==, "sotto-state/accounts.db");

  empty = sig_config_load_from_data ("", 0, NULL, &error);
  g_assert_no_error (error);
  check_defaults (empty);

  comments = sig_config_load_from_data ("# nothing set\n\n[signald]\n# still nothing\n", -1,
                                        NULL, &error);
  g_assert_no_error (error);
  check_defaults (comments);
}

/* ---- A full valid file --------------------------------------------------------------------- */

static const char full_file[] = "# Sotto signalling server\n"
                                "[signald]\n"
                                "domain = Example.org\n"
                                "listen = sips:0.0.0.0:5061;sips:[::]:5062; sips:sip.example.org:0\n"
                                "cert-dir = /etc/sotto/tls\n"
                                "state-dir = /var/lib/sotto\n"
                                "log-level = debug\n"
                                "\n"
                                "[limits]\n"
                                "max-message-size = 1024\n"
                                "max-connections-per-address = 7\n"
                                "unauthenticated-timeout = 12\n"
                                "[registrar]\n"
                                "min-expires = 30\n"
                                "max-expires = 7200\n"
                                "default-expires = 30\n"
                                "max-bindings-per-user = 3\n"
                                "[auth]\n"
                                "nonce-lifetime = 120\n"
                                "throttle-free-failures = 0\n"
                                "throttle-max-delay = 60\n";

static void
test_full (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = sig_config_load_from_data (full_file, -1, "full.conf", &error);
  g_autofree char *db = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpstr (c->domain, ==, "Example.org");
  g_assert_cmpuint (g_strv_length (c->listen), ==, 3);
  g_assert_cmpstr (c->listen[0], ==, "sips:0.0.0.0:5061");
  g_assert_cmpstr (c->listen[1], ==, "sips:[::]:5062");
  g_assert_cmpstr (c->listen[2], ==, "sips:sip.example.org:0");
  g_assert_cmpstr (c->cert_dir, ==, "/etc/sotto/tls");
  g_assert_cmpstr (c->state_dir, ==, "/var/lib/sotto");
  g_assert_cmpint (c->log_level, ==, SOTTO_LOG_LEVEL_DEBUG);
  g_assert_cmpuint (c->max_message_size, ==, 1024);
  g_assert_cmpuint (c->max_connections_per_address, ==, 7);
  g_assert_cmpuint (c->unauthenticated_timeout_s, ==, 12);
  g_assert_cmpuint (c->min_expires, ==, 30);
  g_assert_cmpuint (c->max_expires, ==, 7200);
  g_assert_cmpuint (c->default_expires, ==, 30);
  g_assert_cmpuint (c->max_bindings_per_user, ==, 3);
  g_assert_cmpuint (c->nonce_lifetime_s, ==, 120);
  g_assert_cmpuint (c->throttle_free_failures, ==, 0);
  g_assert_cmpuint (c->throttle_max_delay_s, ==, 60);
  db = sig_config_accounts_path (c);
  g_assert_cmpstr (db, ==, "/var/lib/sotto/accounts.db");
}

/* A file that only sets some keys keeps the defaults of the others. */
static void
test_partial (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = sig_config_load_from_data ("[auth]\nnonce-lifetime=600\n", -1, NULL,
                                                       &error);

  g_assert_no_error (error);
  g_assert_cmpuint (c->nonce_lifetime_s, ==, 600);
  g_assert_cmpstr (c->domain, ==, "localhost");
  g_assert_cmpuint (c->max_expires, ==, 3600);
}

static void
test_from_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("sotto-config-XXXXXX", NULL);
  g_autofree char *good = g_build_filename (dir, "good.conf", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.conf", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autofree char *prefix = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = NULL;

  g_assert_true (g_file_set_contents (good, "[signald]\ndomain = sip.example.net\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, "[signald]\n\n\nlog-level = chatty\n", -1, NULL));

  c = sig_config_load_from_file (good, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->domain, ==, "sip.example.net");

  g_assert_null (sig_config_load_from_file (bad, &error));
  g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE);
  prefix = g_strdup_printf ("%s:4: [signald] log-level:", bad);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_clear_error (&error);

  g_assert_null (sig_config_load_from_file (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* ---- Bad values, each on a known line ------------------------------------------------------ */

typedef struct
{
  const char *group;
  const char *line;     /* "key = value" */
  const char *key;
  const char *contains; /* part of the reason */
} BadCase;

static const BadCase bad_cases[] = {
  { "signald", "domain = exa mple.org", "domain", "not a DNS name" },
  { "signald", "domain = -bad.example.org", "domain", "not a DNS name" },
  { "signald", "domain = example..org", "domain", "not a DNS name" },
  { "signald", "domain = 192.0.2.1", "domain", "not a DNS name" },
  { "signald", "domain =", "domain", "must not be empty" },
  { "signald", "listen = sip:192.0.2.1:5060", "listen", "only TLS" },
  { "signald", "listen = SIP:192.0.2.1:5060", "listen", "only TLS" },
  { "signald", "listen = sip:192.0.2.1:5061;transport=tls", "listen", "only TLS" },
  { "signald", "listen = sips:192.0.2.1:5061;transport=tls", "listen", ";transport=" },
  { "signald", "listen = sips:192.0.2.1", "listen", "sips:HOST:PORT" },
  { "signald", "listen = sips:192.0.2.1:", "listen", "sips:HOST:PORT" },
  { "signald", "listen = sips:192.0.2.1:65536", "listen", "between 0 and 65535" },
  { "signald", "listen = sips:192.0.2.1:50x", "listen", "sips:HOST:PORT" },
  { "signald", "listen = sips:300.1.2.3:5061", "listen", "not an IPv4 address" },
  { "signald", "listen = sips:::1:5061", "listen", "brackets" },
  { "signald", "listen = sips:[192.0.2.1]:5061", "listen", "not an IPv6 address" },
  { "signald", "listen = sips:[::1]5061", "listen", "sips:HOST:PORT" },
  { "signald", "listen = sips:bad_host:5061", "listen", "neither an IP address nor a host name" },
  { "signald", "listen = https://example.org", "listen", "only TLS sips:" },
  { "signald", "listen = sips:127.0.0.1:5061;;sips:127.0.0.1:5062", "listen", "sips:HOST:PORT" },
  { "signald", "listen =", "listen", "at least one" },
  { "signald", "cert-dir =", "cert-dir", "must not be empty" },
  { "signald", "state-dir =   ", "state-dir", "must not be empty" },
  { "signald", "log-level = chatty", "log-level", "error, warning, info, debug" },
  { "limits", "max-message-size = 1023", "max-message-size", "must be between 1024 and 2097152" },
  { "limits", "max-message-size = 2097153", "max-message-size", "must be between 1024 and 2097152" },
  { "limits", "max-message-size = 64k", "max-message-size", "not a whole number" },
  { "limits", "max-message-size = -5", "max-message-size", "not a whole number" },
  { "limits", "max-message-size = 99999999999999999999", "max-message-size", "not a whole number" },
  { "limits", "max-connections-per-address = 0", "max-connections-per-address", "between 1 and" },
  { "limits", "unauthenticated-timeout = 0", "unauthenticated-timeout", "between 1 and 3600" },
  { "registrar", "min-expires = 0", "min-expires", "between 1 and" },
  { "registrar", "max-bindings-per-user = 0", "max-bindings-per-user", "between 1 and 1000" },
  { "auth", "nonce-lifetime = 5", "nonce-lifetime", "between 10 and 86400" },
  { "auth", "throttle-free-failures = 1001", "throttle-free-failures", "between 0 and 1000" },
  { "auth", "throttle-max-delay = 86401", "throttle-max-delay", "between 0 and 86400" },
  { "auth", "throttle-max-delay =", "throttle-max-delay", "not a whole number" },
  { "auth", "algorithms = SHA-512-256", "algorithms", "not a Digest algorithm" },
  { "auth", "algorithms = MD5;md5", "algorithms", "listed twice" },
  { "auth", "algorithms = ;", "algorithms", "" },
};

/* The bad line goes after a few good ones, and a good group follows, so the line number is
 * not simply the last or the first of the file. */
static void
test_bad_value (gconstpointer data)
{
  const BadCase *bc = data;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = NULL;

  text = g_strdup_printf ("# line 1\n"
                          "[%s]\n"
                          "\n"
                          "# line 4\n"
                          "%s\n" /* line 5 */
                          "[registrar]\n"
                          "max-expires = 3600\n", /* a key no case sets */
                          bc->group, bc->line);
  c = sig_config_load_from_data (text, -1, "signald.conf", &error);
  g_assert_null (c);
  g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE);
  expected = g_strdup_printf ("signald.conf:5: [%s] %s: ", bc->group, bc->key);
  if (!g_str_has_prefix (error->message, expected) || strstr (error->message, bc->contains) == NULL)
    g_error ("for \"%s\": got \"%s\", wanted \"%s...%s...\"", bc->line, error->message, expected,
             bc->contains);
}

/* [auth] algorithms: the order of the challenges, and which are offered at all. */
static void
test_algorithms (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) d = sig_config_load_from_data ("", -1, "signald.conf", &error);
  g_autoptr (SigConfig) md5_first = NULL;
  g_autoptr (SigConfig) sha_only = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (d->n_algorithms, ==, 2);
  g_assert_cmpint (d->algorithms[0], ==, SIG_DIGEST_ALG_SHA256);
  g_assert_cmpint (d->algorithms[1], ==, SIG_DIGEST_ALG_MD5);
  md5_first = sig_config_load_from_data ("[auth]\nalgorithms = MD5; SHA-256\n", -1,
                                         "signald.conf", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (md5_first->n_algorithms, ==, 2);
  g_assert_cmpint (md5_first->algorithms[0], ==, SIG_DIGEST_ALG_MD5);
  g_assert_cmpint (md5_first->algorithms[1], ==, SIG_DIGEST_ALG_SHA256);
  sha_only = sig_config_load_from_data ("[auth]\nalgorithms = sha-256\n", -1, "signald.conf",
                                        &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sha_only->n_algorithms, ==, 1);
  g_assert_cmpint (sha_only->algorithms[0], ==, SIG_DIGEST_ALG_SHA256);
}

/* The last of two values wins, so the error must point at the later line. */
static void
test_duplicate_key_line (void)
{
  g_autoptr (GError) error = NULL;
  const char *text = "[limits]\nmax-message-size = 1\n[auth]\n[limits]\nmax-message-size = 7\n";

  g_assert_null (sig_config_load_from_data (text, -1, "dup.conf", &error));
  g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "dup.conf:5: [limits] max-message-size: "));
  g_clear_error (&error);

  /* ...and a good later value overrides a bad earlier one. */
  {
    g_autoptr (SigConfig) c = sig_config_load_from_data (
      "[limits]\nmax-message-size = 1\nmax-message-size = 4096\n", -1, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (c->max_message_size, ==, 4096);
  }
}

/* ---- Expiry ranges ------------------------------------------------------------------------- */

static void
expect_error_at (const char *text, SigConfigErrorCode code, const char *prefix,
                 const char *contains)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = sig_config_load_from_data (text, -1, "r.conf", &error);

  g_assert_null (c);
  g_assert_error (error, SIG_CONFIG_ERROR, (gint) code);
  if (!g_str_has_prefix (error->message, prefix)
      || (contains != NULL && strstr (error->message, contains) == NULL))
    g_error ("got \"%s\", wanted \"%s...%s\"", error->message, prefix, contains ? contains : "");
}

static void
test_expires_ranges (void)
{
  /* min above the default max: blames min-expires, the only one set. */
  expect_error_at ("[registrar]\n\nmin-expires = 4000\n", SIG_CONFIG_ERROR_BAD_VALUE,
                   "r.conf:3: [registrar] min-expires: ", "must not be larger than max-expires");
  /* max below min: blames max-expires. */
  expect_error_at ("[registrar]\nmin-expires = 120\nmax-expires = 100\n",
                   SIG_CONFIG_ERROR_BAD_VALUE, "r.conf:3: [registrar] max-expires: ",
                   "min-expires (120)");
  /* default below min. */
  expect_error_at ("[registrar]\ndefault-expires = 30\nmin-expires = 60\n",
                   SIG_CONFIG_ERROR_BAD_VALUE, "r.conf:2: [registrar] default-expires: ",
                   "between min-expires (60) and max-expires (3600)");
  /* default above max. */
  expect_error_at ("[registrar]\nmax-expires = 300\n\ndefault-expires = 301\n",
                   SIG_CONFIG_ERROR_BAD_VALUE, "r.conf:4: [registrar] default-expires: ", NULL);
  /* max below the default default: blames max-expires since default-expires is not set. */
  expect_error_at ("[registrar]\nmax-expires = 500\n", SIG_CONFIG_ERROR_BAD_VALUE,
                   "r.conf:2: [registrar] max-expires: ", "default-expires (600)");

  /* The edges are allowed. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SigConfig) c = sig_config_load_from_data (
      "[registrar]\nmin-expires = 100\ndefault-expires = 100\nmax-expires = 100\n", -1, NULL,
      &error);
    g_assert_no_error (error);
    g_assert_cmpuint (c->default_expires, ==, 100);
  }
}

/* ---- Unknown names and syntax -------------------------------------------------------------- */

static void
test_unknown (void)
{
  expect_error_at ("[signald]\ndomain = example.org\n\n[limits]\nmax-msg-size = 5000\n",
                   SIG_CONFIG_ERROR_UNKNOWN_KEY, "r.conf:5: [limits] max-msg-size: ", "unknown key");
  expect_error_at ("[signald]\nnonce-lifetime = 300\n", SIG_CONFIG_ERROR_UNKNOWN_KEY,
                   "r.conf:2: [signald] nonce-lifetime: ", "unknown key");
  expect_error_at ("[signald]\ndomain = example.org\n[signal]\ndomain = x\n",
                   SIG_CONFIG_ERROR_UNKNOWN_KEY, "r.conf:3: [signal]: ", "unknown group");
  expect_error_at ("[signald]\ndomain[fr] = example.fr\n", SIG_CONFIG_ERROR_UNKNOWN_KEY,
                   "r.conf:2: [signald] domain[fr]: ", NULL);
}

static void
test_syntax (void)
{
  expect_error_at ("[signald]\ndomain = example.org\nthis is not a key\n", SIG_CONFIG_ERROR_SYNTAX,
                   "r.conf:3: ", "key = value");
  expect_error_at ("domain = example.org\n[signald]\n", SIG_CONFIG_ERROR_SYNTAX, "r.conf:1: ",
                   "before the first [group]");
  expect_error_at ("# hi\n[signald\ndomain = x\n", SIG_CONFIG_ERROR_SYNTAX, "r.conf:2: ",
                   "[name]");
  expect_error_at ("[signald]\n = value\n", SIG_CONFIG_ERROR_SYNTAX, "r.conf:2: ", "key name");
  expect_error_at ("[]\n", SIG_CONFIG_ERROR_SYNTAX, "r.conf:1: ", NULL);
  /* A bad escape in a string value is a bad value on its line. */
  expect_error_at ("[signald]\n\ncert-dir = /tmp/\\q\n", SIG_CONFIG_ERROR_BAD_VALUE,
                   "r.conf:3: [signald] cert-dir: ", NULL);
}

/* An embedded NUL inside the given length: the length must be honoured, not strlen. */
static void
test_nul_inside (void)
{
  static const char text[] = "[signald]\ndomain = a.example\0garbage\n";
  g_autoptr (GError) error = NULL;

  g_assert_null (sig_config_load_from_data (text, sizeof text - 1, NULL, &error));
  g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_SYNTAX);
  g_assert_true (g_str_has_prefix (error->message, "<data>: "));
}

/* CRLF files are common when edited elsewhere. */
static void
test_crlf (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SigConfig) c = sig_config_load_from_data (
    "[signald]\r\ndomain = crlf.example\r\n[limits]\r\nmax-message-size = 100\r\n", -1,
    "crlf.conf", &error);

  g_assert_null (c);
  g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE);
  g_assert_true (g_str_has_prefix (error->message, "crlf.conf:4: [limits] max-message-size: "));
}

/* ---- The listen URL parser ----------------------------------------------------------------- */

static void
test_parse_listen (void)
{
  struct
  {
    const char *url;
    const char *host;
    guint port;
  } good[] = {
    { "sips:127.0.0.1:5061", "127.0.0.1", 5061 },
    { "sips:[::1]:0", "::1", 0 },
    { "sips:[::]:65535", "::", 65535 },
    { "sips:localhost:5061", "localhost", 5061 },
    { "sips:sip-1.example.org:443", "sip-1.example.org", 443 },
  };
  const char *bad[] = { "sips:", "sips::5061", "sips:[::1]", "sips:host:port", "sips:[]:1",
                        "sips:a b:1", "sip:127.0.0.1:5060", "127.0.0.1:5061",
                        "sips:127.0.0.1:5061;transport=tls", "sips:127.0.0.1:000000" };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree char *host = NULL;
      guint port = 12345;
      g_autoptr (GError) error = NULL;

      g_assert_true (sig_config_parse_listen (good[i].url, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *host = NULL;

      if (sig_config_parse_listen (bad[i], &host, NULL, &error))
        g_error ("\"%s\" was accepted", bad[i]);
      g_assert_error (error, SIG_CONFIG_ERROR, SIG_CONFIG_ERROR_BAD_VALUE);
      g_assert_null (host);
    }
}

static void
test_dns_names (void)
{
  g_autofree char *long_label = g_strnfill (64, 'a');
  g_autofree char *ok_label = g_strnfill (63, 'a');
  g_autofree char *ok_name = g_strconcat (ok_label, ".example", NULL);
  g_autofree char *bad_name = g_strconcat (long_label, ".example", NULL);

  g_assert_true (sotto_util_is_dns_name ("localhost"));
  g_assert_true (sotto_util_is_dns_name ("example.org"));
  g_assert_true (sotto_util_is_dns_name ("a-b.c0.example"));
  g_assert_true (sotto_util_is_dns_name (ok_name));
  g_assert_false (sotto_util_is_dns_name (bad_name));
  g_assert_false (sotto_util_is_dns_name (""));
  g_assert_false (sotto_util_is_dns_name ("example.org."));
  g_assert_false (sotto_util_is_dns_name (".example.org"));
  g_assert_false (sotto_util_is_dns_name ("a_b.example"));
  g_assert_false (sotto_util_is_dns_name ("example-.org"));
  g_assert_false (sotto_util_is_dns_name ("10.0.0.1"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signal/config/defaults", test_defaults);
  g_test_add_func ("/signal/config/algorithms", test_algorithms);
  g_test_add_func ("/signal/config/full", test_full);
  g_test_add_func ("/signal/config/partial", test_partial);
  g_test_add_func ("/signal/config/from-file", test_from_file);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/signal/config/bad-value/%s/%02" G_GSIZE_FORMAT,
                                               bad_cases[i].key, i);
      g_test_add_data_func (path, &bad_cases[i], test_bad_value);
    }
  g_test_add_func ("/signal/config/duplicate-key-line", test_duplicate_key_line);
  g_test_add_func ("/signal/config/expires-ranges", test_expires_ranges);
  g_test_add_func ("/signal/config/unknown", test_unknown);
  g_test_add_func ("/signal/config/syntax", test_syntax);
  g_test_add_func ("/signal/config/nul-inside", test_nul_inside);
  g_test_add_func ("/signal/config/crlf", test_crlf);
  g_test_add_func ("/signal/config/parse-listen", test_parse_listen);
  g_test_add_func ("/signal/config/dns-names", test_dns_names);
  return g_test_run ();
}

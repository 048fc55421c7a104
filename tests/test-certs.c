/* Tests for sotto-certs: the real program runs as a subprocess in a fresh folder per test, and
 * its files are checked with OpenSSL, up to real TLS handshakes on loopback. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "sotto-tls.h"
#include "sotto-test.h"

#define RUN_TIMEOUT_S 60
#define HANDSHAKE_TIMEOUT_US (10 * G_USEC_PER_SEC)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)

typedef struct
{
  char *tmp;  /* removed in teardown */
  char *dir;  /* tmp/certs: where sotto-certs writes */
  char *out;  /* stdout and stderr of the last run */
  char *err;
} Fixture;


#define path_in(dir, name) g_build_filename ((dir), (name), NULL)

static GBytes *
read_bytes (const char *dir, const char *name)
{
  g_autofree char *path = path_in (dir, name);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static gboolean
file_equals (GBytes *bytes, const char *dir, const char *name)
{
  g_autoptr (GBytes) now = read_bytes (dir, name);

  return g_bytes_equal (bytes, now);
}

static int
file_mode (const char *dir, const char *name)
{
  g_autofree char *path = path_in (dir, name);
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (int) (st.st_mode & 07777);
}

/* The first certificate or the key in @dir/@name. */
static void *
load_pem (const char *dir, const char *name, gboolean want_key)
{
  g_autofree char *path = path_in (dir, name);
  g_autoptr (BIO) bio = BIO_new_file (path, "r");
  void *object;

  g_assert_nonnull (bio);
  object = want_key ? (void *) PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL)
                    : (void *) PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  g_assert_nonnull (object);
  return object;
}
#define load_cert(dir, name) ((X509 *) load_pem ((dir), (name), FALSE))
#define load_key(dir, name) ((EVP_PKEY *) load_pem ((dir), (name), TRUE))

static char *
cert_pem (X509 *cert)
{
  g_autoptr (BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  g_assert_true (PEM_write_bio_X509 (bio, cert));
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, (gsize) len);
}

static void
write_key (const char *path, EVP_PKEY *key)
{
  g_autoptr (BIO) bio = BIO_new_file (path, "w");

  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL));
}

static void
write_cert (const char *path, X509 *cert)
{
  g_autofree char *pem = cert_pem (cert);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, pem, -1, &error);
  g_assert_no_error (error);
}

/* A snapshot of a file that tells whether it was rewritten: contents, inode and mtime. */
typedef struct
{
  GBytes *data;
  struct stat st;
} Snapshot;

static void
snapshot_take (Snapshot *snap, const char *dir, const char *name)
{
  g_autofree char *path = path_in (dir, name);

  snap->data = read_bytes (dir, name);
  g_assert_cmpint (stat (path, &snap->st), ==, 0);
}

static gboolean
snapshot_same (Snapshot *snap, const char *dir, const char *name)
{
  g_autofree char *path = path_in (dir, name);
  g_autoptr (GBytes) now = read_bytes (dir, name);
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return g_bytes_equal (now, snap->data) && st.st_ino == snap->st.st_ino
         && st.st_mtim.tv_sec == snap->st.st_mtim.tv_sec
         && st.st_mtim.tv_nsec == snap->st.st_mtim.tv_nsec;
}

#define snapshot_clear(snap) g_clear_pointer (&(snap)->data, g_bytes_unref)

static const char *const all_files[] = { "ca.key", "ca.pem", "server.key", "server.pem",
                                          "agent.pem", "cafile.pem" };


typedef struct
{
  gboolean done;
  gboolean timed_out;
  char *out, *err;
  GError *error;
} RunState;

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunState *st = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &st->out, &st->err,
                                        &st->error);
  st->done = TRUE;
}

static gboolean
on_deadline (gpointer user_data)
{
  ((RunState *) user_data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs sotto-certs with the NULL-terminated @args; returns its exit status. */
static int
run_certs (Fixture *f, const char *const *args)
{
  g_autofree char *program = sotto_test_program ("certs/sotto-certs");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSource) timeout = NULL;
  RunState st = { 0 };

  g_ptr_array_add (argv, program);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_main_context_push_thread_default (context);
  proc = g_subprocess_newv ((const char *const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, on_communicated, &st);
  timeout = g_timeout_source_new_seconds (RUN_TIMEOUT_S);
  g_source_set_callback (timeout, on_deadline, &st, NULL);
  g_source_attach (timeout, context);
  while (!st.done && !st.timed_out)
    g_main_context_iteration (context, TRUE);
  if (!st.done)
    {
      g_subprocess_force_exit (proc);
      while (!st.done)
        g_main_context_iteration (context, TRUE);
    }
  g_source_destroy (timeout);
  g_main_context_pop_thread_default (context);
  g_assert_false (st.timed_out);
  g_assert_no_error (st.error);

  g_clear_pointer (&f->out, g_free);
  g_clear_pointer (&f->err, g_free);
  f->out = st.out;
  f->err = st.err;
  g_test_message ("sotto-certs %s -> stdout: %s stderr: %s", args[0], f->out, f->err);
  g_assert_true (g_subprocess_get_if_exited (proc));
  return g_subprocess_get_exit_status (proc);
}

#define RUN(f, ...) run_certs ((f), (const char *const[]){ __VA_ARGS__, NULL })


/* "AB:CD:..." computed here, not with the library under test. */
static char *
fingerprint (X509 *cert)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  GString *out = g_string_new (NULL);

  g_assert_true (X509_digest (cert, EVP_sha256 (), md, &len));
  for (unsigned int i = 0; i < len; i++)
    g_string_append_printf (out, "%s%02X", i ? ":" : "", md[i]);
  return g_string_free (out, FALSE);
}

/* TRUE when @leaf verifies for TLS server use against the CAs in @dir/cafile.pem. */
static gboolean
verifies_against_cafile (X509 *leaf, const char *dir)
{
  g_autofree char *cafile = path_in (dir, "cafile.pem");
  g_autoptr (X509_STORE) store = X509_STORE_new ();
  g_autoptr (X509_STORE_CTX) ctx = X509_STORE_CTX_new ();
  int ok;

  g_assert_true (X509_STORE_load_file (store, cafile));
  g_assert_true (X509_STORE_CTX_init (ctx, store, leaf, NULL));
  X509_STORE_CTX_set_purpose (ctx, X509_PURPOSE_SSL_SERVER);
  ok = X509_verify_cert (ctx);
  if (ok != 1)
    g_test_message ("verify: %s", X509_verify_cert_error_string (X509_STORE_CTX_get_error (ctx)));
  ERR_clear_error ();
  return ok == 1;
}

#define matches_host(cert, host) (X509_check_host ((cert), (host), 0, 0, NULL) == 1)

static void
add_ext (X509 *cert, X509 *issuer, int nid, const char *value)
{
  X509V3_CTX ctx;
  g_autoptr (X509_EXTENSION) ext = NULL;

  X509V3_set_ctx (&ctx, issuer, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  g_assert_nonnull (ext);
  g_assert_true (X509_add_ext (cert, ext, -1));
}

/* A certificate made here with OpenSSL: self-signed when @issuer is NULL. @san like "DNS:a". */
static X509 *
make_cert (EVP_PKEY *key, const char *cn, const char *san, X509 *issuer, EVP_PKEY *issuer_key,
           long from_s, long until_s, gboolean ca)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  static long serial = 1000;

  g_assert_true (X509_set_version (cert, X509_VERSION_3));
  ASN1_INTEGER_set (X509_get_serialNumber (cert), serial++);
  X509_gmtime_adj (X509_getm_notBefore (cert), from_s);
  X509_gmtime_adj (X509_getm_notAfter (cert), until_s);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guchar *) cn, -1, -1, 0);
  X509_set_issuer_name (cert, X509_get_subject_name (issuer ? issuer : cert));
  g_assert_true (X509_set_pubkey (cert, key));
  if (ca)
    {
      add_ext (cert, issuer ? issuer : cert, NID_basic_constraints, "critical,CA:TRUE");
      add_ext (cert, issuer ? issuer : cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
  else
    add_ext (cert, issuer, NID_ext_key_usage, "serverAuth");
  add_ext (cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash");
  if (san != NULL)
    add_ext (cert, issuer, NID_subject_alt_name, san);
  g_assert_cmpint (X509_sign (cert, issuer_key ? issuer_key : key, EVP_sha256 ()), >, 0);
  return cert;
}

static EVP_PKEY *
new_key (void)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");

  g_assert_nonnull (key);
  return key;
}


static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->tmp = g_dir_make_tmp ("sotto-certs-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir = g_build_filename (f->tmp, "certs", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  sotto_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
  g_free (f->out);
  g_free (f->err);
}

static void
init_ok (Fixture *f, const char *dir)
{
  g_assert_cmpint (RUN (f, "init", "--dir", dir, "--name", "localhost", "--name",
                        "sip.example.test"),
                   ==, 0);
}

static void
test_init_files (Fixture *f, gconstpointer data)
{
  g_autoptr (X509) ca = NULL;
  g_autoptr (X509) leaf = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GBytes) agent = NULL, server_key = NULL, server_pem = NULL, ca_pem = NULL;
  g_autoptr (GString) expected = g_string_new (NULL);
  g_autofree char *leaf_pem = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *fp_line = NULL;
  char group[64];
  struct stat st;

  init_ok (f, f->dir);

  g_assert_cmpint (stat (f->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  for (gsize i = 0; i < G_N_ELEMENTS (all_files); i++) /* keys 0600, certificates 0644 */
    g_assert_cmpint (file_mode (f->dir, all_files[i]), ==,
                     g_str_has_suffix (all_files[i], ".key") || g_str_has_prefix (all_files[i], "agent")
                         ? 0600 : 0644);

  /* agent.pem = server key, server certificate, CA certificate. */
  ca = load_cert (f->dir, "ca.pem");
  leaf = load_cert (f->dir, "server.pem");
  key = load_key (f->dir, "agent.pem");
  leaf_pem = cert_pem (leaf);
  agent = read_bytes (f->dir, "agent.pem");
  server_key = read_bytes (f->dir, "server.key");
  server_pem = read_bytes (f->dir, "server.pem");
  ca_pem = read_bytes (f->dir, "ca.pem");
  g_string_append_len (expected, g_bytes_get_data (server_key, NULL), g_bytes_get_size (server_key));
  g_string_append (expected, leaf_pem);
  g_string_append_len (expected, g_bytes_get_data (ca_pem, NULL), g_bytes_get_size (ca_pem));
  g_assert_cmpmem (g_bytes_get_data (agent, NULL), g_bytes_get_size (agent), expected->str,
                   expected->len);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (agent, NULL), "-----BEGIN PRIVATE KEY-----"));
  g_assert_cmpmem (g_bytes_get_data (server_pem, NULL), g_bytes_get_size (server_pem),
                   expected->str + g_bytes_get_size (server_key),
                   expected->len - g_bytes_get_size (server_key));
  g_assert_true (file_equals (ca_pem, f->dir, "cafile.pem"));
  g_assert_cmpint (X509_check_private_key (leaf, key), ==, 1);

  /* Keys are ECDSA P-256; the CA is a CA and the server certificate is for TLS servers. */
  g_assert_true (EVP_PKEY_is_a (key, "EC"));
  g_assert_true (EVP_PKEY_get_group_name (key, group, sizeof group, NULL));
  g_assert_cmpstr (group, ==, "prime256v1");
  g_assert_cmpint (X509_check_ca (ca), ==, 1);
  g_assert_cmpint (X509_check_ca (leaf), ==, 0);
  g_assert_cmpint (X509_check_purpose (leaf, X509_PURPOSE_SSL_SERVER, 0), ==, 1);
  g_assert_true (g_str_has_prefix (X509_NAME_oneline (X509_get_subject_name (ca), group, sizeof group),
                                   "/CN=Sotto private CA "));
  g_assert_nonnull (X509_get0_authority_key_id (leaf));
  g_assert_nonnull (X509_get0_subject_key_id (ca));

  /* Verifies by name, for each name, and for no other. */
  g_assert_true (verifies_against_cafile (leaf, f->dir));
  g_assert_true (matches_host (leaf, "localhost"));
  g_assert_true (matches_host (leaf, "sip.example.test"));
  g_assert_true (matches_host (leaf, "SIP.Example.Test"));
  g_assert_false (matches_host (leaf, "other.example.test"));
  g_assert_false (matches_host (leaf, "example.test"));

  /* The fingerprint printed is that of ca.pem. */
  fp = fingerprint (ca);
  fp_line = g_strdup_printf ("CA SHA-256 fingerprint: %s\n", fp);
  g_assert_nonnull (strstr (f->out, fp_line));

  /* show prints the names, expiry and the same fingerprint. */
  g_assert_cmpint (RUN (f, "show", "--dir", f->dir), ==, 0);
  g_assert_nonnull (strstr (f->out, "localhost, sip.example.test"));
  g_assert_nonnull (strstr (f->out, "Valid until: "));
  g_assert_nonnull (strstr (f->out, fp_line));
}

static void
test_init_idempotent (Fixture *f, gconstpointer data)
{
  Snapshot snaps[G_N_ELEMENTS (all_files)];

  init_ok (f, f->dir);
  for (gsize i = 0; i < G_N_ELEMENTS (all_files); i++)
    snapshot_take (&snaps[i], f->dir, all_files[i]);

  init_ok (f, f->dir);
  g_assert_nonnull (strstr (f->out, "Up to date"));
  /* The same names in another order and case are the same set. */
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "SIP.example.test", "--name",
                        "localhost", "--name", "localhost."),
                   ==, 0);
  g_assert_nonnull (strstr (f->out, "Up to date"));

  for (gsize i = 0; i < G_N_ELEMENTS (all_files); i++)
    {
      g_test_message ("checking %s", all_files[i]);
      g_assert_true (snapshot_same (&snaps[i], f->dir, all_files[i]));
      snapshot_clear (&snaps[i]);
    }
}

static void
test_init_new_name (Fixture *f, gconstpointer data)
{
  Snapshot ca_key, ca_pem, server;
  g_autoptr (X509) leaf = NULL;

  init_ok (f, f->dir);
  snapshot_take (&ca_key, f->dir, "ca.key");
  snapshot_take (&ca_pem, f->dir, "ca.pem");
  snapshot_take (&server, f->dir, "server.pem");

  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "localhost", "--name",
                        "sip.example.test", "--name", "new.example.test"),
                   ==, 0);
  g_assert_nonnull (strstr (f->out, "Issued"));
  g_assert_true (snapshot_same (&ca_key, f->dir, "ca.key"));
  g_assert_true (snapshot_same (&ca_pem, f->dir, "ca.pem"));
  g_assert_false (snapshot_same (&server, f->dir, "server.pem"));

  leaf = load_cert (f->dir, "server.pem");
  g_assert_true (matches_host (leaf, "new.example.test"));
  g_assert_true (matches_host (leaf, "localhost"));
  g_assert_true (verifies_against_cafile (leaf, f->dir));
  g_assert_cmpint (file_mode (f->dir, "agent.pem"), ==, 0600);

  snapshot_clear (&ca_key);
  snapshot_clear (&ca_pem);
  snapshot_clear (&server);
}

static void
test_init_force_ca (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) old_ca = NULL;
  g_autoptr (GBytes) new_ca = NULL;
  g_autoptr (X509) ca = NULL;
  g_autoptr (X509) leaf = NULL;
  g_autofree char *fp = NULL;

  init_ok (f, f->dir);
  old_ca = read_bytes (f->dir, "ca.pem");
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "localhost", "--name",
                        "sip.example.test", "--force-ca"),
                   ==, 0);
  new_ca = read_bytes (f->dir, "ca.pem");
  g_assert_false (g_bytes_equal (old_ca, new_ca));
  g_assert_true (file_equals (new_ca, f->dir, "cafile.pem"));

  ca = load_cert (f->dir, "ca.pem");
  leaf = load_cert (f->dir, "server.pem");
  g_assert_true (verifies_against_cafile (leaf, f->dir));
  fp = fingerprint (ca);
  g_assert_nonnull (strstr (f->out, fp));
}

/* A server certificate near its end, or from another CA, is issued again; the CA stays. */
static void
test_init_renews (Fixture *f, gconstpointer data)
{
  g_autoptr (X509) ca = NULL;
  g_autoptr (EVP_PKEY) ca_key = NULL;
  g_autoptr (EVP_PKEY) key = new_key ();
  g_autoptr (X509) soon = NULL;
  g_autoptr (X509) leaf = NULL;
  g_autofree char *server_pem = path_in (f->dir, "server.pem");
  g_autofree char *server_key = path_in (f->dir, "server.key");
  Snapshot ca_pem;

  init_ok (f, f->dir);
  snapshot_take (&ca_pem, f->dir, "ca.pem");
  ca = load_cert (f->dir, "ca.pem");
  ca_key = load_key (f->dir, "ca.key");

  soon = make_cert (key, "localhost", "DNS:localhost,DNS:sip.example.test", ca, ca_key, -3600,
                    10 * 24 * 3600, FALSE);
  write_cert (server_pem, soon);
  write_key (server_key, key);
  init_ok (f, f->dir);
  g_assert_nonnull (strstr (f->out, "expires within 30 days"));
  leaf = load_cert (f->dir, "server.pem");
  g_assert_cmpint (X509_cmp (leaf, soon), !=, 0);
  g_assert_true (verifies_against_cafile (leaf, f->dir));
  g_assert_true (snapshot_same (&ca_pem, f->dir, "ca.pem"));
  snapshot_clear (&ca_pem);
}

static void
test_init_refuses_ip (Fixture *f, gconstpointer data)
{
  const char *ips[] = { "127.0.0.1", "::1", "[::1]", "192.0.2.10" };

  for (gsize i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "localhost", "--name", ips[i]),
                       ==, 2);
      g_assert_nonnull (strstr (f->err, "IP address"));
      g_assert_nonnull (strstr (f->err, "DNS name"));
      g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
    }
}

static void
test_init_refuses_bad_name (Fixture *f, gconstpointer data)
{
  const char *bad[] = { "a..example.test", "-x.example.test", "x_y.example.test", "*.test",
                        "a.*.example.test", "exa mple.test", "1.2.3", "caf\xc3\xa9.test", "",
                        "x..", "." };
  g_autofree char *long_label = g_strnfill (64, 'a');
  g_autofree char *too_long = g_strjoin (".", long_label, "test", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("name “%s”", bad[i]);
      g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", bad[i]), ==, 2);
      g_assert_true (strlen (f->err) > 0);
      g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
    }
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", too_long), ==, 2);
  g_assert_nonnull (strstr (f->err, "63"));
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));

  /* ... while a wildcard and a fully-qualified name are fine. */
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "*.example.test", "--name",
                        "example.test."),
                   ==, 0);
}

static void
test_usage_errors (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir), ==, 2);
  g_assert_cmpint (RUN (f, "init", "--name", "localhost"), ==, 2);
  g_assert_cmpint (RUN (f, "init", "--dir", f->dir, "--name", "localhost", "--days", "5"), ==, 2);
  g_assert_cmpint (RUN (f, "nonsense"), ==, 2);
  g_assert_cmpint (RUN (f, "import", "--dir", f->dir), ==, 2);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
  g_assert_cmpint (RUN (f, "show", "--dir", f->dir), ==, 1);
}


typedef struct
{
  char *ca_dir;   /* a directory made by init, whose CA signs the test certificates */
  X509 *ca;
  EVP_PKEY *ca_key;
  char *cert, *key, *ca_pem; /* files to import */
} ImportInputs;

static void
import_inputs_init (Fixture *f, ImportInputs *in, long from_s, long until_s, const char *san,
                    gboolean matching_key)
{
  g_autoptr (EVP_PKEY) key = new_key ();
  g_autoptr (EVP_PKEY) other = new_key ();
  g_autoptr (X509) leaf = NULL;

  in->ca_dir = path_in (f->tmp, "private-ca");
  init_ok (f, in->ca_dir);
  in->ca = load_cert (in->ca_dir, "ca.pem");
  in->ca_key = load_key (in->ca_dir, "ca.key");
  in->ca_pem = path_in (in->ca_dir, "ca.pem");
  in->cert = path_in (f->tmp, "import.pem");
  in->key = path_in (f->tmp, "import.key");

  leaf = make_cert (key, "import.example.test", san, in->ca, in->ca_key, from_s, until_s, FALSE);
  write_cert (in->cert, leaf);
  write_key (in->key, matching_key ? key : other);
}

static void
import_inputs_clear (ImportInputs *in)
{
  g_free (in->ca_dir);
  X509_free (in->ca);
  EVP_PKEY_free (in->ca_key);
  g_free (in->cert);
  g_free (in->key);
  g_free (in->ca_pem);
}

static void
test_import_good (Fixture *f, gconstpointer data)
{
  ImportInputs in = { 0 };
  g_autoptr (X509) leaf = NULL;
  g_autoptr (EVP_PKEY) key = NULL;
  g_autoptr (GBytes) given = NULL;
  g_autofree char *fp = NULL;
  Snapshot snaps[4];
  const char *files[] = { "server.key", "server.pem", "agent.pem", "cafile.pem" };
  g_autofree char *no_ca_key = path_in (f->dir, "ca.key");

  import_inputs_init (f, &in, -3600, 90 * 24 * 3600, "DNS:import.example.test", TRUE);
  g_assert_cmpint (RUN (f, "import", "--dir", f->dir, "--cert", in.cert, "--key", in.key, "--ca",
                        in.ca_pem),
                   ==, 0);

  g_assert_cmpint (file_mode (f->dir, "server.key"), ==, 0600);
  g_assert_cmpint (file_mode (f->dir, "agent.pem"), ==, 0600);
  g_assert_false (g_file_test (no_ca_key, G_FILE_TEST_EXISTS));
  given = read_bytes (f->tmp, "private-ca/ca.pem");
  g_assert_true (file_equals (given, f->dir, "cafile.pem"));

  leaf = load_cert (f->dir, "agent.pem");
  key = load_key (f->dir, "agent.pem");
  g_assert_cmpint (X509_check_private_key (leaf, key), ==, 1);
  g_assert_true (matches_host (leaf, "import.example.test"));
  g_assert_true (verifies_against_cafile (leaf, f->dir));
  fp = fingerprint (in.ca);
  g_assert_nonnull (strstr (f->out, fp));

  /* Importing the same again writes nothing. */
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    snapshot_take (&snaps[i], f->dir, files[i]);
  g_assert_cmpint (RUN (f, "import", "--dir", f->dir, "--cert", in.cert, "--key", in.key, "--ca",
                        in.ca_pem),
                   ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_assert_true (snapshot_same (&snaps[i], f->dir, files[i]));
      snapshot_clear (&snaps[i]);
    }
  import_inputs_clear (&in);
}

/* Each refused import writes nothing at all. */
static void
expect_import_refused (Fixture *f, ImportInputs *in, const char *use_ca, const char *why)
{
  int status;

  if (use_ca)
    status = RUN (f, "import", "--dir", f->dir, "--cert", in->cert, "--key", in->key, "--ca", use_ca);
  else
    status = RUN (f, "import", "--dir", f->dir, "--cert", in->cert, "--key", in->key);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (f->err, why));
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
}

static void
test_import_mismatched_key (Fixture *f, gconstpointer data)
{
  ImportInputs in = { 0 };

  import_inputs_init (f, &in, -3600, 90 * 24 * 3600, "DNS:import.example.test", FALSE);
  expect_import_refused (f, &in, in.ca_pem, "does not belong");
  import_inputs_clear (&in);
}

static void
test_import_expired (Fixture *f, gconstpointer data)
{
  ImportInputs in = { 0 };

  import_inputs_init (f, &in, -10 * 24 * 3600, -24 * 3600, "DNS:import.example.test", TRUE);
  expect_import_refused (f, &in, in.ca_pem, "expired");
  import_inputs_clear (&in);
}

static void
test_import_ip_only (Fixture *f, gconstpointer data)
{
  ImportInputs in = { 0 };

  import_inputs_init (f, &in, -3600, 90 * 24 * 3600, "IP:127.0.0.1", TRUE);
  expect_import_refused (f, &in, in.ca_pem, "only IP addresses");
  import_inputs_clear (&in);
}

static void
test_import_untrusted (Fixture *f, gconstpointer data)
{
  ImportInputs in = { 0 };
  g_autofree char *other_ca = NULL;

  import_inputs_init (f, &in, -3600, 90 * 24 * 3600, "DNS:import.example.test", TRUE);
  /* Not in the system store, and not signed by another private CA. */
  if (g_file_test ("/etc/ssl/certs/ca-certificates.crt", G_FILE_TEST_EXISTS))
    expect_import_refused (f, &in, NULL, "does not verify");
  other_ca = path_in (f->tmp, "other-ca");
  init_ok (f, other_ca);
  g_free (other_ca);
  other_ca = path_in (f->tmp, "other-ca/ca.pem");
  expect_import_refused (f, &in, other_ca, "does not verify");
  import_inputs_clear (&in);
}


typedef enum
{
  SERVER_SOFIA,      /* as Sofia-SIP loads DIR: first certificate of agent.pem, CAs from cafile.pem */
  SERVER_CHAIN_FILE, /* agent.pem as a chain file */
} ServerStyle;

typedef struct
{
  int max_version;
  ServerStyle style;
} HandshakeCase;

static SSL_CTX *
server_ctx (const char *dir, ServerStyle style)
{
  g_autofree char *agent = path_in (dir, "agent.pem");
  g_autofree char *cafile = path_in (dir, "cafile.pem");
  SSL_CTX *ctx = SSL_CTX_new (TLS_server_method ());

  g_assert_nonnull (ctx);
  if (style == SERVER_SOFIA)
    {
      g_assert_cmpint (SSL_CTX_use_certificate_file (ctx, agent, SSL_FILETYPE_PEM), ==, 1);
      g_assert_cmpint (SSL_CTX_load_verify_locations (ctx, cafile, NULL), ==, 1);
    }
  else
    g_assert_cmpint (SSL_CTX_use_certificate_chain_file (ctx, agent), ==, 1);
  g_assert_cmpint (SSL_CTX_use_PrivateKey_file (ctx, agent, SSL_FILETYPE_PEM), ==, 1);
  g_assert_cmpint (SSL_CTX_check_private_key (ctx), ==, 1);
  return ctx;
}

static SSL_CTX *
client_ctx (const char *cafile, int max_version)
{
  SSL_CTX *ctx = SSL_CTX_new (TLS_client_method ());

  g_assert_nonnull (ctx);
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);
  g_assert_cmpint (SSL_CTX_load_verify_locations (ctx, cafile, NULL), ==, 1);
  g_assert_true (SSL_CTX_set_max_proto_version (ctx, max_version));
  return ctx;
}

/* One step of a handshake: 1 done, 0 wants more, -1 failed. */
static int
handshake_step (SSL *ssl)
{
  int r = SSL_do_handshake (ssl);
  int e;

  if (r == 1)
    return 1;
  e = SSL_get_error (ssl, r);
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Connects a client that trusts @client_cafile and checks the name @host to a server using
 * @dir, both in this thread on non-blocking loopback sockets. Returns TRUE when both sides
 * finished; *verify gets the client's verification result and *version the protocol. */
static gboolean
handshake (const char *dir, const char *client_cafile, const char *host, const HandshakeCase *hc,
           long *verify, int *version)
{
  g_autoptr (SSL_CTX) sctx = server_ctx (dir, hc->style);
  g_autoptr (SSL_CTX) cctx = client_ctx (client_cafile, hc->max_version);
  g_autoptr (SSL) server = NULL;
  g_autoptr (SSL) client = NULL;
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t addr_len = sizeof addr;
  gint64 deadline = g_get_monotonic_time () + HANDSHAKE_TIMEOUT_US;
  int lfd, cfd, afd = -1, c_state = 0, s_state = 0;
  struct pollfd pfd;

  lfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (lfd, >=, 0);
  g_assert_cmpint (bind (lfd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (lfd, 1), ==, 0);
  g_assert_cmpint (getsockname (lfd, (struct sockaddr *) &addr, &addr_len), ==, 0);

  cfd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  g_assert_cmpint (cfd, >=, 0);
  if (connect (cfd, (struct sockaddr *) &addr, sizeof addr) < 0)
    g_assert_cmpint (errno, ==, EINPROGRESS);
  pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
  g_assert_cmpint (poll (&pfd, 1, (int) (HANDSHAKE_TIMEOUT_US / 1000)), ==, 1);
  afd = accept (lfd, NULL, NULL);
  g_assert_cmpint (afd, >=, 0);
  g_assert_cmpint (fcntl (afd, F_SETFL, fcntl (afd, F_GETFL) | O_NONBLOCK), ==, 0);
  close (lfd);

  server = SSL_new (sctx);
  client = SSL_new (cctx);
  g_assert_true (SSL_set_fd (server, afd) && SSL_set_fd (client, cfd));
  SSL_set_accept_state (server);
  SSL_set_connect_state (client);
  g_assert_true (SSL_set1_host (client, host));

  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd fds[2] = { { .fd = cfd, .events = POLLIN }, { .fd = afd, .events = POLLIN } };

      if (c_state == 0)
        c_state = handshake_step (client);
      if (s_state == 0)
        s_state = handshake_step (server);
      if (c_state != 0 && s_state != 0)
        break;
      if (c_state < 0 || s_state < 0)
        {
          /* Give the other side one more turn to read the alert, then stop. */
          if (s_state == 0)
            s_state = handshake_step (server) == 1 ? 1 : -1;
          if (c_state == 0)
            c_state = handshake_step (client) == 1 ? 1 : -1;
          break;
        }
      poll (fds, 2, 50);
    }
  g_assert_true (c_state != 0 || s_state != 0); /* else the deadline passed */
  *verify = SSL_get_verify_result (client);
  *version = SSL_version (client);
  ERR_clear_error ();
  close (afd);
  close (cfd);
  return c_state == 1 && s_state == 1;
}

static void
test_tls_handshake (Fixture *f, gconstpointer data)
{
  const HandshakeCase *hc = data;
  g_autofree char *cafile = path_in (f->dir, "cafile.pem");
  g_autofree char *other = path_in (f->tmp, "other");
  g_autofree char *other_cafile = path_in (other, "cafile.pem");
  long verify = -1;
  int version = 0;

  init_ok (f, f->dir);
  g_assert_true (handshake (f->dir, cafile, "localhost", hc, &verify, &version));
  g_assert_cmpint (verify, ==, X509_V_OK);
  g_assert_cmpint (version, ==, hc->max_version);
  g_assert_true (handshake (f->dir, cafile, "sip.example.test", hc, &verify, &version));

  g_assert_false (handshake (f->dir, cafile, "other", hc, &verify, &version));
  g_assert_cmpint (verify, ==, X509_V_ERR_HOSTNAME_MISMATCH);

  /* A client that trusts another CA fails, even for the right name. */
  init_ok (f, other);
  g_assert_false (handshake (f->dir, other_cafile, "localhost", hc, &verify, &version));
  g_assert_cmpint (verify, !=, X509_V_OK);
}

/* An imported certificate from an intermediate CA: Sofia-SIP serves only the first certificate
 * of agent.pem, so the intermediate must reach the client through cafile.pem's chain building. */
static void
test_tls_import_intermediate (Fixture *f, gconstpointer data)
{
  const HandshakeCase *hc = data;
  g_autoptr (EVP_PKEY) root_key = new_key ();
  g_autoptr (EVP_PKEY) mid_key = new_key ();
  g_autoptr (EVP_PKEY) key = new_key ();
  g_autoptr (X509) root = make_cert (root_key, "Test root", NULL, NULL, NULL, -3600,
                                     3650L * 24 * 3600, TRUE);
  g_autoptr (X509) mid = make_cert (mid_key, "Test intermediate", NULL, root, root_key, -3600,
                                    3650L * 24 * 3600, TRUE);
  g_autoptr (X509) leaf = make_cert (key, "localhost", "DNS:localhost", mid, mid_key, -3600,
                                     90L * 24 * 3600, FALSE);
  g_autofree char *root_pem = path_in (f->tmp, "root.pem");
  g_autofree char *mid_pem = path_in (f->tmp, "mid.pem");
  g_autofree char *leaf_pem = path_in (f->tmp, "leaf.pem");
  g_autofree char *key_pem = path_in (f->tmp, "leaf.key");
  long verify = -1;
  int version = 0;

  write_cert (root_pem, root);
  write_cert (mid_pem, mid);
  write_cert (leaf_pem, leaf);
  write_key (key_pem, key);

  /* Without the intermediate the chain cannot be verified: refused. */
  g_assert_cmpint (RUN (f, "import", "--dir", f->dir, "--cert", leaf_pem, "--key", key_pem,
                        "--ca", root_pem),
                   ==, 1);
  g_assert_nonnull (strstr (f->err, "--chain"));
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));

  g_assert_cmpint (RUN (f, "import", "--dir", f->dir, "--cert", leaf_pem, "--key", key_pem,
                        "--chain", mid_pem, "--ca", root_pem),
                   ==, 0);
  /* The client knows only the root. */
  g_assert_true (handshake (f->dir, root_pem, "localhost", hc, &verify, &version));
  g_assert_cmpint (verify, ==, X509_V_OK);
  g_assert_false (handshake (f->dir, root_pem, "other", hc, &verify, &version));
}

static const HandshakeCase tls13_sofia = { TLS1_3_VERSION, SERVER_SOFIA };
static const HandshakeCase tls12_sofia = { TLS1_2_VERSION, SERVER_SOFIA };
static const HandshakeCase tls13_chain = { TLS1_3_VERSION, SERVER_CHAIN_FILE };
static const HandshakeCase tls12_chain = { TLS1_2_VERSION, SERVER_CHAIN_FILE };

static void
add_tls_tests (void)
{
#define ADD_TLS(path, fn, hc) g_test_add (path, Fixture, &hc, fixture_setup, fn, fixture_teardown)
  ADD_TLS ("/certs/tls/handshake/tls13/sofia-layout", test_tls_handshake, tls13_sofia);
  ADD_TLS ("/certs/tls/handshake/tls12/sofia-layout", test_tls_handshake, tls12_sofia);
  ADD_TLS ("/certs/tls/handshake/tls13/chain-file", test_tls_handshake, tls13_chain);
  ADD_TLS ("/certs/tls/handshake/tls12/chain-file", test_tls_handshake, tls12_chain);
  ADD_TLS ("/certs/tls/import-intermediate/tls13", test_tls_import_intermediate, tls13_sofia);
  ADD_TLS ("/certs/tls/import-intermediate/tls12", test_tls_import_intermediate, tls12_sofia);
#undef ADD_TLS
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  /* The handshakes below use Sotto's TLS policy, as the servers will. */
  if (!sotto_tls_apply_policy (&error))
    g_error ("%s", error->message);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/certs/init/files", test_init_files);
  ADD ("/certs/init/idempotent", test_init_idempotent);
  ADD ("/certs/init/new-name", test_init_new_name);
  ADD ("/certs/init/force-ca", test_init_force_ca);
  ADD ("/certs/init/renews-expiring", test_init_renews);
  ADD ("/certs/init/refuses-ip", test_init_refuses_ip);
  ADD ("/certs/init/refuses-bad-name", test_init_refuses_bad_name);
  ADD ("/certs/usage-errors", test_usage_errors);
  ADD ("/certs/import/good", test_import_good);
  ADD ("/certs/import/mismatched-key", test_import_mismatched_key);
  ADD ("/certs/import/expired", test_import_expired);
  ADD ("/certs/import/ip-only", test_import_ip_only);
  ADD ("/certs/import/untrusted", test_import_untrusted);
  add_tls_tests ();
  return g_test_run ();
}

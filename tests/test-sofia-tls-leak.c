/* test-sofia-tls-leak: a Sofia-SIP TLS server must not grow with every closed connection.
 *
 * Debian's libsofia-sip-ua0 (1.12.11+...-6) never calls SSL_free() in tport_tls.c's tls_free(), so
 * every closed TLS connection leaks its SSL object (~47 KB). tools/sofia-sip-fix rebuilds the
 * package with a fix. This test runs an nta agent on sips:127.0.0.1:0 in this process, lets a
 * helper thread open, use and close many TLS connections, and compares the live heap after a
 * warm-up with the live heap after the rest: the growth per connection must stay small.
 *
 * The helper thread exists only because the client's blocking OpenSSL calls must not stall the
 * agent's su_root, which this (main) thread steps. The two share nothing but atomics. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#if defined(__SANITIZE_ADDRESS__)
/* ASan's allocator keeps its own books (mallinfo2() sees nothing). GCC 12 ships no
 * <sanitizer/allocator_interface.h>, so declare the libasan entry point here. */
#define LEAK_HAVE_ASAN 1
size_t __sanitizer_get_current_allocated_bytes (void);
#endif

#include "sotto-tls.h"

enum
{
  LEAK_WARMUP = 100,          /* connections before the first measurement */
  LEAK_MEASURED = 300,        /* connections between the two measurements */
  LEAK_MAX_GROWTH = 5 * 1024, /* bytes per connection; the unfixed library leaks ~47 KB */
  LEAK_IO_TIMEOUT_S = 5,      /* per socket operation of the client */
  LEAK_SETTLE_MS = 500,       /* let the agent reap closed connections before measuring */
  LEAK_DEADLINE_S = 120,      /* the whole run, even under valgrind */
};

/* How each client connection behaves. */
typedef enum
{
  LEAK_CLIENT_FULL,    /* TLS handshake, OPTIONS, answer, close_notify */
  LEAK_CLIENT_ABORTED, /* half a TLS record header, then close: the handshake never ends */
  LEAK_CLIENT_LAST
} LeakClientMode;

typedef struct
{
  LeakClientMode mode;
  char *dir;
  su_root_t *root;
  nta_agent_t *agent;
  guint16 port;

  /* Shared with the client thread. */
  gint done;    /* connections completed */
  gint failed;  /* set by the client on the first error */
  gint release; /* connections the client may make so far */
  GThread *client;
  char *client_error; /* written by the client before it sets failed */
} Fixture;

/* ---- certificates: agent.pem (key + certificate) and cafile.pem for DNS:localhost ---- */

static gboolean
write_pem (const char *path, EVP_PKEY *key, X509 *cert)
{
  g_autoptr (BIO) bio = BIO_new_file (path, "w");

  if (bio == NULL)
    return FALSE;
  if (key != NULL && !PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL))
    return FALSE;
  return PEM_write_bio_X509 (bio, cert) == 1 && BIO_flush (bio) == 1;
}

static gboolean
add_ext (X509 *cert, int nid, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, cert, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (ext == NULL)
    return FALSE;
  ok = X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

static void
make_certificates (const char *dir)
{
  g_autoptr (EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr (X509) cert = X509_new ();
  g_autofree char *agent = g_build_filename (dir, "agent.pem", NULL);
  g_autofree char *cafile = g_build_filename (dir, "cafile.pem", NULL);
  X509_NAME *name;

  g_assert_nonnull (key);
  g_assert_nonnull (cert);
  g_assert_cmpint (X509_set_version (cert, X509_VERSION_3), ==, 1);
  g_assert_cmpint (ASN1_INTEGER_set (X509_get_serialNumber (cert), 1), ==, 1);
  g_assert_nonnull (X509_gmtime_adj (X509_getm_notBefore (cert), -3600));
  g_assert_nonnull (X509_gmtime_adj (X509_getm_notAfter (cert), 24 * 3600));
  name = X509_get_subject_name (cert);
  g_assert_cmpint (X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC,
                                               (const unsigned char *) "localhost", -1, -1, 0),
                   ==, 1);
  g_assert_cmpint (X509_set_issuer_name (cert, name), ==, 1);
  g_assert_cmpint (X509_set_pubkey (cert, key), ==, 1);
  /* Self-signed and its own trust anchor: the CA bit lets OpenSSL accept it as a root. */
  g_assert_true (add_ext (cert, NID_basic_constraints, "critical,CA:TRUE"));
  g_assert_true (add_ext (cert, NID_key_usage, "critical,digitalSignature,keyCertSign"));
  g_assert_true (add_ext (cert, NID_subject_alt_name, "DNS:localhost"));
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);

  g_assert_true (write_pem (agent, key, cert));
  g_assert_cmpint (g_chmod (agent, 0600), ==, 0);
  g_assert_true (write_pem (cafile, NULL, cert));
}

/* ---- measuring: live heap bytes as the allocator sees them ---- */

static gsize
heap_in_use (void)
{
#ifdef LEAK_HAVE_ASAN
  return __sanitizer_get_current_allocated_bytes ();
#else
  struct mallinfo2 mi = mallinfo2 ();

  return mi.uordblks + mi.hblkhd;
#endif
}

static gsize
rss_bytes (void)
{
  g_autofree char *text = NULL;
  unsigned long size = 0, resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL) ||
      sscanf (text, "%lu %lu", &size, &resident) != 2)
    return 0;
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* Whether heap_in_use() sees this process's allocations at all. It does not under valgrind,
 * which replaces malloc without filling in mallinfo2(). */
static gboolean
heap_meter_works (void)
{
  enum { N = 64, SIZE = 16 * 1024 };
  gpointer blocks[N];
  gsize before = heap_in_use (), after;

  for (guint i = 0; i < N; i++)
    blocks[i] = g_malloc0 (SIZE);
  after = heap_in_use ();
  for (guint i = 0; i < N; i++)
    g_free (blocks[i]);
  return after >= before + (gsize) N * SIZE;
}

/* ---- the client thread: connect, verify, OPTIONS, read the answer, close ---- */

static void
client_fail (Fixture *fx, const char *what)
{
  unsigned long e = ERR_get_error ();
  char buf[256] = "";

  if (e != 0)
    ERR_error_string_n (e, buf, sizeof buf);
  ERR_clear_error ();
  fx->client_error = g_strdup_printf ("connection %d: %s (%s; errno %s)", g_atomic_int_get (&fx->done),
                                      what, buf, g_strerror (errno));
  g_atomic_int_set (&fx->failed, 1);
}

static gboolean
client_once (Fixture *fx, SSL_CTX *ctx, guint n)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (fx->port),
                             .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  struct timeval tv = { .tv_sec = LEAK_IO_TIMEOUT_S };
  g_autoptr (SSL) ssl = NULL;
  g_autofree char *request = NULL;
  char answer[2048];
  gsize got = 0;
  int fd, r;
  gboolean ok = FALSE;

  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return client_fail (fx, "socket"), FALSE;
  if (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      connect (fd, (struct sockaddr *) &sin, sizeof sin) != 0)
    {
      client_fail (fx, "connect");
      goto out;
    }
  if (fx->mode == LEAK_CLIENT_ABORTED)
    {
      /* The agent has already made its SSL for this connection (tls_init_secondary on accept). */
      static const char partial[] = { 0x16, 0x03, 0x01 };

      ok = write (fd, partial, sizeof partial) == (ssize_t) sizeof partial;
      if (!ok)
        client_fail (fx, "write");
      goto out;
    }

  ssl = SSL_new (ctx);
  if (ssl == NULL || SSL_set_fd (ssl, fd) != 1 || SSL_set1_host (ssl, "localhost") != 1)
    {
      client_fail (fx, "SSL_new");
      goto out;
    }
  if (SSL_connect (ssl) != 1)
    {
      client_fail (fx, "TLS handshake");
      goto out;
    }

  request = g_strdup_printf ("OPTIONS sips:localhost:%u SIP/2.0\r\n"
                             "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-leak-%u;rport\r\n"
                             "Max-Forwards: 70\r\n"
                             "From: <sips:leak@localhost>;tag=leak%u\r\n"
                             "To: <sips:localhost>\r\n"
                             "Call-ID: leak-%u@127.0.0.1\r\n"
                             "CSeq: 1 OPTIONS\r\n"
                             "Content-Length: 0\r\n\r\n",
                             fx->port, n, n, n);
  if (SSL_write (ssl, request, (int) strlen (request)) != (int) strlen (request))
    {
      client_fail (fx, "SSL_write");
      goto out;
    }
  /* Wait for the whole header block of the answer: the agent has then parsed our request. */
  while (got < sizeof answer - 1)
    {
      r = SSL_read (ssl, answer + got, (int) (sizeof answer - 1 - got));
      if (r <= 0)
        break;
      got += (gsize) r;
      answer[got] = '\0';
      if (strstr (answer, "\r\n\r\n") != NULL)
        break;
    }
  answer[got] = '\0';
  if (!g_str_has_prefix (answer, "SIP/2.0 ") || strstr (answer, "\r\n\r\n") == NULL)
    {
      client_fail (fx, "no SIP answer");
      goto out;
    }
  SSL_shutdown (ssl); /* close_notify; the agent closes its side on reading it */
  ok = TRUE;

out:
  g_clear_pointer (&ssl, SSL_free);
  close (fd);
  return ok;
}

static gpointer
client_thread (gpointer data)
{
  Fixture *fx = data;
  g_autoptr (SSL_CTX) ctx = SSL_CTX_new (TLS_client_method ());
  g_autofree char *cafile = g_build_filename (fx->dir, "cafile.pem", NULL);
  gint64 deadline = g_get_monotonic_time () + LEAK_DEADLINE_S * G_USEC_PER_SEC;

  if (ctx == NULL || SSL_CTX_load_verify_locations (ctx, cafile, NULL) != 1)
    {
      client_fail (fx, "client SSL_CTX");
      return NULL;
    }
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER, NULL);

  for (guint n = 0; n < LEAK_WARMUP + LEAK_MEASURED; n++)
    {
      /* The main thread releases connections in batches, measuring in between. */
      while ((gint) n >= g_atomic_int_get (&fx->release))
        {
          if (g_get_monotonic_time () > deadline)
            {
              client_fail (fx, "deadline waiting for the next batch");
              return NULL;
            }
          g_usleep (1000);
        }
      if (!client_once (fx, ctx, n))
        return NULL;
      g_atomic_int_inc (&fx->done);
    }
  return NULL;
}

/* ---- the agent side ---- */

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  tport_t *tp;

  fx->mode = GPOINTER_TO_INT (data);
  fx->dir = g_dir_make_tmp ("sotto-sofia-leak-XXXXXX", &error);
  g_assert_no_error (error);
  make_certificates (fx->dir);

  g_assert_cmpint (su_init (), ==, 0);
  fx->root = su_root_create (NULL);
  g_assert_nonnull (fx->root);
  fx->agent = nta_agent_create (fx->root, URL_STRING_MAKE ("sips:127.0.0.1:0"), NULL, NULL,
                                TPTAG_CERTIFICATE (fx->dir), TAG_END ());
  g_assert_nonnull (fx->agent);

  /* Port 0 was bound by the kernel: read the real port back from the TLS primary. */
  for (tp = tport_primaries (nta_agent_tports (fx->agent)); tp != NULL; tp = tport_next (tp))
    {
      const tp_name_t *tpn = tport_name (tp);

      if (g_ascii_strcasecmp (tpn->tpn_proto, "tls") == 0 && tpn->tpn_port != NULL)
        fx->port = (guint16) g_ascii_strtoull (tpn->tpn_port, NULL, 10);
    }
  g_assert_cmpuint (fx->port, !=, 0);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_atomic_int_set (&fx->release, G_MAXINT);
  if (fx->client != NULL)
    g_thread_join (fx->client); /* bounded: every client wait has a deadline */
  g_clear_pointer (&fx->agent, nta_agent_destroy);
  g_clear_pointer (&fx->root, su_root_destroy);
  su_deinit ();

  dir = g_dir_open (fx->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fx->dir);
  g_free (fx->dir);
  g_free (fx->client_error);
}

/* Steps the agent's root until the client has made @until connections, then for the settle
 * time, so that the agent has seen every close and reaped the transports. */
static void
run_until (Fixture *fx, gint until, gint64 deadline)
{
  gint64 settle_end;

  g_atomic_int_set (&fx->release, until);
  while (g_atomic_int_get (&fx->done) < until && !g_atomic_int_get (&fx->failed))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("deadline: only %d of %d TLS connections done", g_atomic_int_get (&fx->done),
                 until);
      su_root_step (fx->root, 20);
    }
  if (g_atomic_int_get (&fx->failed))
    g_error ("TLS client failed: %s", fx->client_error);

  settle_end = g_get_monotonic_time () + LEAK_SETTLE_MS * 1000;
  while (g_get_monotonic_time () < settle_end)
    su_root_step (fx->root, 20);
}

static void
test_closed_connections (Fixture *fx, gconstpointer data)
{
  gint64 deadline = g_get_monotonic_time () + LEAK_DEADLINE_S * G_USEC_PER_SEC;
  gsize heap0, heap1, rss0, rss1;
  gssize per_conn;

  fx->client = g_thread_new ("tls-client", client_thread, fx);

  run_until (fx, LEAK_WARMUP, deadline);
  heap0 = heap_in_use ();
  rss0 = rss_bytes ();

  run_until (fx, LEAK_WARMUP + LEAK_MEASURED, deadline);
  heap1 = heap_in_use ();
  rss1 = rss_bytes ();

  g_test_message ("%d TLS connections: heap %zu -> %zu bytes (%+zd per connection), "
                  "RSS %zu -> %zu KiB",
                  LEAK_MEASURED, heap0, heap1, ((gssize) heap1 - (gssize) heap0) / LEAK_MEASURED,
                  rss0 / 1024, rss1 / 1024);

  if (!heap_meter_works ())
    {
      /* Still worth running: valgrind or LeakSanitizer report the leak itself at exit. */
      g_test_skip ("the heap meter does not see allocations here (valgrind?)");
      return;
    }
  per_conn = ((gssize) heap1 - (gssize) heap0) / LEAK_MEASURED;
  if (per_conn >= LEAK_MAX_GROWTH)
    g_test_message ("libsofia-sip-ua leaks per closed TLS connection: "
                    "install the fixed build with tools/sofia-sip-fix");
  g_assert_cmpint (per_conn, <, LEAK_MAX_GROWTH);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sofia/tls/closed-connections-do-not-grow-heap", Fixture,
              GINT_TO_POINTER (LEAK_CLIENT_FULL), fixture_set_up, test_closed_connections,
              fixture_tear_down);
  g_test_add ("/sofia/tls/aborted-handshakes-do-not-grow-heap", Fixture,
              GINT_TO_POINTER (LEAK_CLIENT_ABORTED), fixture_set_up, test_closed_connections,
              fixture_tear_down);

  return g_test_run ();
}

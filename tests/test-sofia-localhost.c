/* test-sofia-localhost: nta must send a request for sips:localhost:PORT to the loopback address
 * without asking DNS (RFC 6761 section 6.3), and still check the server's certificate against
 * the name "localhost".
 *
 * Guards debian/patches/9004-sotto-nta-localhost.patch (tools/sofia-sip-fix). Sofia's resolver
 * (sresolv) reads resolv.conf but never /etc/hosts, so Debian's nta answered every request for
 * a localhost URI itself with "503 DNS Error" unless some name server happened to answer
 * "localhost". sotto-signald's Record-Route in the demo and the tests is
 * sips:localhost:PORT;lr, so every in-dialog request of a Sofia client depends on this.
 *
 * No luck with the machine's DNS either way: the client's resolver is pointed (SRESTAG_RESOLV_CONF,
 * with Sofia's "port" keyword) at a name server in this test that answers every query with
 * NXDOMAIN and counts it. The unpatched library asks it and fails the request with 503; the
 * patched one must never ask it at all.
 *
 * The server is a real sotto-signald (sig-harness), whose certificate is for "localhost"; a
 * second case restarts it with a certificate for other.example from the same trusted CA, which
 * the client must refuse. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "sig-harness.h"
#include "sotto-test.h"

#define WAIT_MS 10000
/* Timer F (64*T1): how long a request whose connection failed TLS verification may wait. */
#define T1X64_MS 3000

typedef struct
{
  SigHarness *h;
  char *client_dir; /* the client's TPTAG_CERTIFICATE folder */
  int dns_fd;       /* the NXDOMAIN name server */
  guint dns_queries;
  su_root_t *root;
  nta_agent_t *agent;
  guint status; /* final status of the request, 0 while waiting */
  char *phrase;
  gboolean verified;
  char *canon; /* the transport's name for the peer */
} Fixture;

/* Sofia-SIP 1.12.11's tls_post_connection_check() (inlined into tls_connect) never frees the
 * subjectAltName it decodes: about 200 bytes per verified client connection, not ours (see
 * tests/test-ca-sip.c, which keeps the same one report out the same way). The suppression
 * needs the slow unwinder: libcrypto has no frame pointers, so the fast one stops inside it
 * and never sees tls_connect. The environment's ASAN_OPTIONS still override these defaults. */
const char *__lsan_default_suppressions (void);
const char *__asan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:tls_connect\n";
}

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

/* ---- a name server that knows nothing and counts the questions ---- */

static guint16
dns_open (Fixture *f)
{
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t len = sizeof sin;

  f->dns_fd = socket (AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  g_assert_cmpint (f->dns_fd, >=, 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (f->dns_fd, (struct sockaddr *) &sin, sizeof sin), ==, 0);
  g_assert_cmpint (getsockname (f->dns_fd, (struct sockaddr *) &sin, &len), ==, 0);
  return ntohs (sin.sin_port);
}

/* Answers every pending query with NXDOMAIN (RFC 1035 section 4.1.1: the query echoed with QR
 * set and RCODE 3). */
static void
dns_poll (Fixture *f)
{
  for (;;)
    {
      guint8 q[512];
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof from;
      ssize_t n = recvfrom (f->dns_fd, q, sizeof q, 0, (struct sockaddr *) &from, &fromlen);

      if (n < 0)
        {
          g_assert_true (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
          return;
        }
      f->dns_queries++;
      if (n < 12)
        continue;
      q[2] = 0x80 | (q[2] & 0x79); /* QR, keep opcode and RD */
      q[3] = 0x80 | 3;             /* RA, NXDOMAIN */
      g_assert_cmpint (sendto (f->dns_fd, q, (size_t) n, 0, (struct sockaddr *) &from, fromlen),
                       ==, n);
    }
}

/* ---- files ---- */

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (from, &text, &len, &error));
  g_assert_true (g_file_set_contents_full (to, text, (gssize) len, G_FILE_SET_CONTENTS_NONE, 0600,
                                           &error));
  g_assert_no_error (error);
}

static void
copy_into (const char *from_dir, const char *to_dir, const char *name)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);

  copy_file (from, to);
}

/* sotto-certs init for @name in @dir. */
static void
make_certs (const char *dir, const char *name)
{
  g_autofree char *certs = sotto_test_program ("certs/sotto-certs");
  g_autoptr (GError) error = NULL;
  const char *argv[] = { certs, "init", "--dir", dir, "--name", name, NULL };
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* ---- fixture ---- */

static void
setup (Fixture *f, gconstpointer data)
{
  f->dns_fd = -1;
  f->h = sig_harness_new ();
  sig_harness_start (f->h);
}

/* The client: an nta agent with TLS that checks the server's name (the way ca-sip's nua does),
 * its resolver on our name server. Call once the server's certificate is final. */
static void
client_start (Fixture *f)
{
  g_autofree char *resolv = g_build_filename (f->h->dir, "resolv.conf", NULL);
  g_autofree char *resolv_text = NULL;
  g_autoptr (GError) error = NULL;
  guint16 dns_port = dns_open (f);

  /* Sofia's own resolv.conf keyword "port" moves every name server to that port. */
  resolv_text = g_strdup_printf ("nameserver 127.0.0.1\nport %u\n", dns_port);
  g_assert_true (g_file_set_contents (resolv, resolv_text, -1, &error));
  g_assert_no_error (error);

  /* agent.pem: any key and certificate (the server asks for none); cafile.pem: the CA that
   * signed the server's certificate. */
  f->client_dir = g_build_filename (f->h->dir, "client", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->client_dir, 0700), ==, 0);
  copy_into (f->h->cert_dir, f->client_dir, "agent.pem");
  copy_into (f->h->cert_dir, f->client_dir, "cafile.pem");

  f->root = su_root_create (NULL);
  g_assert_nonnull (f->root);
  f->agent = nta_agent_create (f->root, URL_STRING_MAKE ("sips:127.0.0.1:0"), NULL, NULL,
                               TPTAG_CERTIFICATE (f->client_dir),
                               TPTAG_TLS_VERIFY_POLICY (TPTLS_VERIFY_SUBJECTS_OUT),
                               TPTAG_TLS_VERIFY_DATE (1), TPTAG_TLS_VERIFY_DEPTH (4),
                               SRESTAG_RESOLV_CONF (resolv), NTATAG_SIP_T1X64 (T1X64_MS),
                               TAG_END ());
  g_assert_nonnull (f->agent);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->agent)
    nta_agent_destroy (f->agent);
  if (f->root)
    su_root_destroy (f->root);
  if (f->dns_fd >= 0)
    close (f->dns_fd);
  g_free (f->client_dir);
  g_free (f->phrase);
  g_free (f->canon);
  /* SIGTERM must stop the server cleanly (exit 0): a sanitizer report makes this fail. */
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  sig_harness_free (f->h);
}

/* ---- one OPTIONS ---- */

static int
on_response (nta_outgoing_magic_t *magic, nta_outgoing_t *orq, sip_t const *sip)
{
  Fixture *f = (Fixture *) magic;
  int status = nta_outgoing_status (orq);
  tport_t *tp;

  if (status < 200)
    return 0;
  f->status = (guint) status;
  f->phrase = g_strdup (sip && sip->sip_status ? sip->sip_status->st_phrase : "");
  tp = nta_outgoing_transport (orq);
  if (tp)
    {
      f->verified = tport_is_verified (tp) == 1;
      f->canon = g_strdup (tport_name (tp)->tpn_canon);
      tport_unref (tp);
    }
  nta_outgoing_destroy (orq);
  return 0;
}

/* Sends OPTIONS @uri (out of dialog, straight to the URI) and steps the loop until its final
 * response, WAIT_MS at most. */
static void
send_options (Fixture *f, const char *uri)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;
  nta_leg_t *leg = nta_leg_tcreate (f->agent, NULL, NULL,
                                    SIPTAG_FROM_STR ("<sips:probe@localhost>;tag=probe"),
                                    SIPTAG_TO_STR ("<sips:localhost>"), TAG_END ());
  nta_outgoing_t *orq;

  g_assert_nonnull (leg);
  orq = nta_outgoing_tcreate (leg, on_response, (nta_outgoing_magic_t *) f, NULL,
                              SIP_METHOD_OPTIONS, URL_STRING_MAKE (uri), TAG_END ());
  g_assert_nonnull (orq);
  while (f->status == 0 && g_get_monotonic_time () < deadline)
    {
      su_root_step (f->root, 20);
      dns_poll (f);
    }
  dns_poll (f);
  nta_leg_destroy (leg);
  if (f->status == 0)
    g_error ("no final response to OPTIONS %s within %d ms", uri, WAIT_MS);
  g_test_message ("OPTIONS %s: %u %s (verified %d, peer %s, %u DNS queries)", uri, f->status,
                  f->phrase, f->verified, f->canon ? f->canon : "-", f->dns_queries);
}

/* ---- cases ---- */

static void
test_localhost (Fixture *f, gconstpointer data)
{
  const char *host = data;
  g_autofree char *uri = g_strdup_printf ("sips:%s:%u", host, f->h->port);

  client_start (f);
  send_options (f, uri);
  if (f->status == 503 && f->dns_queries > 0)
    g_test_message ("nta asked DNS for %s: libsofia-sip-ua lacks patch 9004; install the "
                    "fixed build with tools/sofia-sip-fix", host);
  g_assert_cmpuint (f->status, ==, 200);
  g_assert_cmpuint (f->dns_queries, ==, 0);
  /* The certificate was checked, against the name (not the address). */
  g_assert_true (f->verified);
  g_assert_nonnull (f->canon);
  g_assert_cmpint (g_ascii_strcasecmp (f->canon, host), ==, 0);
}

/* The trusted CA signed the server's certificate, but for other.example: no answer may come
 * through, and still no DNS query is made. */
static void
test_wrong_name (Fixture *f, gconstpointer data)
{
  g_autofree char *other = g_build_filename (f->h->dir, "other-name", NULL);
  g_autofree char *uri = NULL;

  make_certs (other, "other.example");
  g_assert_cmpint (sig_harness_stop (f->h), ==, 0);
  copy_into (other, f->h->cert_dir, "agent.pem");
  copy_into (other, f->h->cert_dir, "cafile.pem");
  sig_harness_start (f->h); /* same port */

  client_start (f);
  uri = g_strdup_printf ("sips:localhost:%u", f->h->port);
  send_options (f, uri);
  g_assert_cmpuint (f->status, >=, 300);
  g_assert_cmpuint (f->dns_queries, ==, 0);
  g_assert_cmpstr (f->phrase, !=, "DNS Error");
  {
    g_autofree char *log = sig_harness_log (f->h);
    g_assert_null (strstr (log, "OPTIONS"));
  }
}

int
main (int argc, char *argv[])
{
  /* Only ca-sip reads it, but no resolver configuration may come from outside this test. */
  g_unsetenv ("SOTTO_SIP_RESOLV_CONF");
  g_test_init (&argc, &argv, NULL);
  su_init ();

  g_test_add ("/sofia/localhost/options", Fixture, "localhost", setup, test_localhost, teardown);
  g_test_add ("/sofia/localhost/options-case", Fixture, "LocalHost", setup, test_localhost,
              teardown);
  g_test_add ("/sofia/localhost/wrong-name", Fixture, NULL, setup, test_wrong_name, teardown);

  int ret = g_test_run ();
  su_deinit ();
  return ret;
}

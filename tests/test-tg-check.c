/* sotto-turn check against a real coturn: every line OK on a working relay; a port where
 * nothing listens and a listener that drops are FAIL; a wrong password fails to allocate; a
 * relay that refuses private peers says so, one that accepts them is FAIL. */
#include "config.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tgp-coturn.h"
#include "sotto-test.h"

/* Peers a production relay refuses (what tg-render writes). */
#define DENY_PRIVATE "denied-peer-ip=10.0.0.0-10.255.255.255\n"

typedef struct
{
  TgpCoturn *coturn;
  char *username;
  char *password;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  if (tgp_turnserver () == NULL)
    return;
  f->coturn = tgp_coturn_new ();
  g_string_append (f->coturn->extra, data ? (const char *) data : DENY_PRIVATE);
  tgp_coturn_start (f->coturn);
  tgp_credential (TGP_SECRET, "alice", g_get_real_time () / G_USEC_PER_SEC + 3600, &f->username,
                  &f->password);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->coturn, tgp_coturn_free);
  g_free (f->username);
  g_free (f->password);
}

/* Runs sotto-turn check with the common options plus @extra (NULL-terminated). */
static int
check (Fixture *f, guint port, guint tls_port, const char *password, const char *const *extra,
       char **out)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *tls_s = g_strdup_printf ("%u", tls_port);
  g_autofree char *err = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char *common[] = { prog, "check", "--server", "localhost", "--port", port_s,
                           "--tls-port", tls_s, "--ca", f->coturn->cafile, "--timeout", "2",
                           "--user", f->username, "--password", password, NULL };
  int status;

  for (gsize i = 0; common[i]; i++)
    g_ptr_array_add (argv, (char *) common[i]);
  for (gsize i = 0; extra && extra[i]; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  status = tgp_run ((const char *const *) argv->pdata, out, &err);
  g_test_message ("sotto-turn check (exit %d):\n%s%s", status, *out, err);
  return status;
}

static gboolean
has_line (const char *out, const char *prefix, const char *contains)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (gsize i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], prefix) && strstr (lines[i], contains) != NULL)
      return TRUE;
  return FALSE;
}

#define SKIP_WITHOUT_COTURN()                                                                \
  if (f->coturn == NULL)                                                                     \
    {                                                                                        \
      g_test_skip ("turnserver (Debian package coturn) is not installed");                   \
      return;                                                                                \
    }

static void
test_all_ok (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *udp = NULL, *tcp = NULL, *tls = NULL;
  int status;

  SKIP_WITHOUT_COTURN ();
  status = check (f, f->coturn->port, f->coturn->tls_port, f->password, NULL, &out);
  udp = g_strdup_printf ("UDP %u answers", f->coturn->port);
  tcp = g_strdup_printf ("TCP %u answers", f->coturn->port);
  tls = g_strdup_printf ("TLS %u answers", f->coturn->tls_port);
  g_assert_true (has_line (out, "OK ", udp));
  g_assert_true (has_line (out, "OK ", tcp));
  g_assert_true (has_line (out, "OK ", tls));
  g_assert_true (has_line (out, "OK ", "allocate over UDP"));
  g_assert_true (has_line (out, "OK ", "allocate over TCP"));
  g_assert_true (has_line (out, "OK ", "allocate over TLS"));
  g_assert_true (has_line (out, "OK ", "refuses private peer 10.0.0.1 (403"));
  g_assert_true (has_line (out, "OK ", "refuses private peer 127.0.0.1 (403"));
  g_assert_false (has_line (out, "FAIL", ""));
  g_assert_true (has_line (out, "Summary: 8 OK, 0 FAIL", ""));
  g_assert_cmpint (status, ==, 0);
}

/* Nothing listens on the TLS port. */
static void
test_closed_port (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *want = NULL;
  guint16 closed = tgp_free_port ();
  int status;

  SKIP_WITHOUT_COTURN ();
  status = check (f, f->coturn->port, closed, f->password, NULL, &out);
  want = g_strdup_printf ("TLS %u: ", closed);
  g_assert_true (has_line (out, "FAIL", want));
  g_assert_true (has_line (out, "FAIL", "refused"));
  g_assert_true (has_line (out, "OK ", "allocate over UDP"));
  g_assert_cmpint (status, ==, 1);
}

/* A UDP socket that never answers and a TCP listener whose connections are never answered:
 * what a firewall that drops looks like. */
static void
test_dropping_port (Fixture *f, gconstpointer data)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  g_autofree char *out = NULL;
  g_autofree char *want_udp = NULL, *want_tcp = NULL;
  int udp, tcp, status;
  guint16 port = tgp_free_port ();

  SKIP_WITHOUT_COTURN ();
  sa.sin_port = htons (port);
  udp = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  tcp = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (bind (udp, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (bind (tcp, (struct sockaddr *) &sa, sizeof sa), ==, 0);
  g_assert_cmpint (listen (tcp, 8), ==, 0);

  status = check (f, port, f->coturn->tls_port, f->password, NULL, &out);
  want_udp = g_strdup_printf ("UDP %u: no answer", port);
  want_tcp = g_strdup_printf ("TCP %u: no answer", port);
  g_assert_true (has_line (out, "FAIL", want_udp));
  g_assert_true (has_line (out, "FAIL", want_tcp));
  g_assert_true (has_line (out, "OK ", "allocate over TLS"));
  g_assert_cmpint (status, ==, 1);
  close (udp);
  close (tcp);
}

static void
test_wrong_password (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *wrong = g_strdup_printf ("x%s", f->password ? f->password : "");
  int status;

  SKIP_WITHOUT_COTURN ();
  status = check (f, f->coturn->port, f->coturn->tls_port, wrong, NULL, &out);
  g_assert_true (has_line (out, "OK ", "UDP"));
  g_assert_true (has_line (out, "FAIL", "allocate over UDP"));
  g_assert_true (has_line (out, "FAIL", "401"));
  g_assert_false (has_line (out, "OK ", "allocate"));
  g_assert_cmpint (status, ==, 1);
}

/* An expired credential is refused too (coturn checks the expiry in the username). */
static void
test_expired (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  int status;

  SKIP_WITHOUT_COTURN ();
  g_free (f->username);
  g_free (f->password);
  tgp_credential (TGP_SECRET, "alice", g_get_real_time () / G_USEC_PER_SEC - 60, &f->username,
                  &f->password);
  status = check (f, f->coturn->port, f->coturn->tls_port, f->password, NULL, &out);
  g_assert_true (has_line (out, "FAIL", "allocate over UDP"));
  g_assert_cmpint (status, ==, 1);
}

/* The relay lets 10.0.0.1 through: the doctor must say so. */
static void
test_private_peer_accepted (Fixture *f, gconstpointer data)
{
  const char *extra[] = { "--private-peer", "10.0.0.1", NULL };
  g_autofree char *out = NULL;
  int status;

  SKIP_WITHOUT_COTURN ();
  status = check (f, f->coturn->port, f->coturn->tls_port, f->password, extra, &out);
  g_assert_true (has_line (out, "FAIL", "ACCEPTS private peer 10.0.0.1"));
  g_assert_false (has_line (out, "OK ", "private peer"));
  g_assert_cmpint (status, ==, 1);
}

static void
test_usage (void)
{
  g_autofree char *prog = sotto_test_program ("turn-glue/sotto-turn");
  const char *argv[] = { prog, "check", "--user", "u", NULL };
  g_autofree char *err = NULL;

  g_assert_cmpint (tgp_run (argv, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "Usage"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/turn/check/all-ok", Fixture, NULL, setup, test_all_ok, teardown);
  g_test_add ("/turn/check/closed-port", Fixture, NULL, setup, test_closed_port, teardown);
  g_test_add ("/turn/check/dropping-port", Fixture, NULL, setup, test_dropping_port, teardown);
  g_test_add ("/turn/check/wrong-password", Fixture, NULL, setup, test_wrong_password, teardown);
  g_test_add ("/turn/check/expired", Fixture, NULL, setup, test_expired, teardown);
  /* coturn 4.6.1 relays to RFC 1918 peers unless denied-peer-ip says otherwise. */
  g_test_add ("/turn/check/private-peer-accepted", Fixture, "", setup,
              test_private_peer_accepted, teardown);
  g_test_add_func ("/turn/check/usage", test_usage);
  return g_test_run ();
}

/* Sofia-SIP's DNS resolver after the host changes its address (patch 9007 of
 * tools/sofia-sip-fix): fails on a library without it.
 *
 * The resolver connects one UDP socket per name server, which fixes its source address. After
 * the host lost that address (a laptop on another network), every send failed and every query
 * ended in "503 DNS Error" in nta; and a server whose socket could not be opened at all (no
 * route at that moment) was never tried again.
 *
 * Root only: the test unshares its network namespace, and a child in a namespace of its own
 * answers DNS at 10.9.0.2 across a veth pair. Nothing on the host's interfaces is touched.
 *
 *   /sofia/sres/address-moved      a query after the client's address changed is answered
 *   /sofia/sres/server-unreachable  a resolver that started with no route reaches its server
 *                                   once there is one */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

typedef struct _Query Query;
#define SRES_CONTEXT_T Query

#include <sofia-resolv/sres.h>
#include <sofia-resolv/sres_record.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_wait.h>

#define SERVER "10.9.0.2"
#define ANSWER "192.0.2.7"
#define NAME   "sotto.test"

static pid_t child;
static char *resolv_conf;
static char *dir;

static gboolean
run (const char *cmd)
{
  g_autofree char *full = g_strdup_printf ("timeout 20 %s", cmd);
  int status = system (full);

  return status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* A minimal DNS server: an A query for anything gets ANSWER with TTL 0 (so no cache hides a
 * failure); other types get an empty answer. */
static void
serve (int s, int stop_fd)
{
  for (;;)
    {
      struct pollfd fds[2] = { { s, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };
      guint8 q[512], r[600];
      struct sockaddr_storage from;
      socklen_t flen = sizeof from;
      ssize_t n;
      gsize end = 12, len;
      guint16 qtype;

      if (poll (fds, 2, 30000) <= 0 || fds[1].revents != 0)
        return;
      n = recvfrom (s, q, sizeof q, 0, (struct sockaddr *) &from, &flen);
      if (n < 17)
        continue;
      while (end < (gsize) n && q[end] != 0)
        end += q[end] + 1;
      end += 1;
      if (end + 4 > (gsize) n)
        continue;
      qtype = (guint16) (q[end] << 8 | q[end + 1]);
      end += 4;
      memcpy (r, q, end);
      r[2] = 0x81;
      r[3] = 0x80; /* QR, RD, RA, NOERROR */
      r[4] = 0;
      r[5] = 1; /* QDCOUNT */
      r[6] = 0;
      r[7] = qtype == 1 ? 1 : 0; /* ANCOUNT */
      memset (r + 8, 0, 4);      /* no authority, no additional (EDNS dropped) */
      len = end;
      if (qtype == 1)
        {
          const guint8 rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4 };
          struct in_addr a;

          inet_pton (AF_INET, ANSWER, &a);
          memcpy (r + len, rr, sizeof rr);
          len += sizeof rr;
          memcpy (r + len, &a, 4);
          len += 4;
        }
      sendto (s, r, len, 0, (struct sockaddr *) &from, flen);
    }
}

static int stop_pipe[2] = { -1, -1 };

/* The child: its own network namespace, the veth's far end, a DNS server on SERVER:53. */
static gboolean
start_server (void)
{
  int ready[2], moved[2];
  char c = 0;

  if (pipe (ready) != 0 || pipe (moved) != 0 || pipe (stop_pipe) != 0)
    return FALSE;
  child = fork ();
  if (child < 0)
    return FALSE;
  if (child == 0)
    {
      struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (53) };
      int s;

      prctl (PR_SET_PDEATHSIG, SIGKILL);
      close (stop_pipe[1]);
      if (unshare (CLONE_NEWNET) != 0)
        _exit (2);
      if (write (ready[1], "r", 1) != 1 || read (moved[0], &c, 1) != 1)
        _exit (3);
      if (!run ("ip addr add " SERVER "/24 dev sres1") || !run ("ip link set sres1 up"))
        _exit (4);
      inet_pton (AF_INET, SERVER, &sa.sin_addr);
      s = socket (AF_INET, SOCK_DGRAM, 0);
      if (s < 0 || bind (s, (struct sockaddr *) &sa, sizeof sa) != 0)
        _exit (5);
      if (write (ready[1], "l", 1) != 1)
        _exit (6);
      serve (s, stop_pipe[0]);
      _exit (0);
    }
  close (stop_pipe[0]);
  if (read (ready[0], &c, 1) != 1)
    return FALSE;
  {
    g_autofree char *cmd = g_strdup_printf ("ip link set sres1 netns %d", (int) child);

    if (!run (cmd))
      return FALSE;
  }
  if (write (moved[1], "m", 1) != 1 || read (ready[0], &c, 1) != 1 || c != 'l')
    return FALSE;
  close (ready[0]);
  close (ready[1]);
  close (moved[0]);
  close (moved[1]);
  return TRUE;
}

struct _Query
{
  sres_resolver_t *res;
  gboolean done, ok;
};

static void
on_answer (Query *q, sres_query_t *query, sres_record_t **answers)
{
  for (int i = 0; answers != NULL && answers[i] != NULL && !q->ok; i++)
    {
      char text[INET_ADDRSTRLEN] = "";

      if (answers[i]->sr_record->r_status != 0 || answers[i]->sr_record->r_type != sres_type_a)
        continue;
      inet_ntop (AF_INET, &answers[i]->sr_a->a_addr, text, sizeof text);
      q->ok = g_str_equal (text, ANSWER);
    }
  sres_free_answers (q->res, answers);
  q->done = TRUE;
}

static su_root_t *root;

/* One A query through the resolver on @root, 5 s at most. TRUE when it got ANSWER. */
static gboolean
query (sres_resolver_t *res)
{
  Query q = { .res = res };
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  sres_query_t *pending = sres_query (res, on_answer, &q, sres_type_a, NAME);

  if (pending == NULL)
    {
      g_test_message ("query %s: failed at once (%s)", NAME, g_strerror (errno));
      return FALSE;
    }
  while (!q.done && g_get_monotonic_time () < deadline)
    su_root_step (root, 100);
  if (!q.done)
    sres_query_bind (pending, NULL, NULL); /* q goes out of scope */
  g_test_message ("query %s: %s", NAME,
                  q.ok ? "answered" : q.done ? "failed" : "no answer within 5 s");
  return q.ok;
}

/* The namespace, the veth pair and the DNS server, once; the reason to skip otherwise. */
static char *skip_reason;
static gboolean set_up;

static gboolean
need_setup (void)
{
  if (set_up)
    return TRUE;
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }
  if (geteuid () != 0)
    skip_reason = g_strdup ("needs root: the test makes its own network namespace");
  else if (unshare (CLONE_NEWNET) != 0)
    skip_reason = g_strdup_printf ("cannot unshare the network namespace: %s",
                                   g_strerror (errno));
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }
  g_assert_true (run ("ip link set lo up"));
  /* veth, not dummy: kernels without the dummy module are common in containers */
  g_assert_true (run ("ip link add sres0 type veth peer name sres1"));
  g_assert_true (run ("ip link set sres0 up"));
  g_assert_true (start_server ());
  dir = g_dir_make_tmp ("sotto-sres-XXXXXX", NULL);
  g_assert_nonnull (dir);
  resolv_conf = g_build_filename (dir, "resolv.conf", NULL);
  g_assert_true (g_file_set_contents (resolv_conf,
                                      "nameserver " SERVER "\noptions timeout:1 attempts:1\n",
                                      -1, NULL));
  su_init ();
  root = su_root_create (NULL);
  g_assert_nonnull (root);
  set_up = TRUE;
  return TRUE;
}

static void
test_address_moved (void)
{
  sres_resolver_t *res;

  if (!need_setup ())
    return;
  g_assert_true (run ("ip addr add 10.9.0.1/24 dev sres0"));
  res = sres_resolver_create (root, resolv_conf, TAG_END ());
  g_assert_nonnull (res);
  g_assert_true (query (res));

  /* The host moves: its old address goes, a new one comes on the same link. */
  g_assert_true (run ("ip addr del 10.9.0.1/24 dev sres0"));
  g_assert_true (run ("ip addr add 10.9.0.3/24 dev sres0"));
  g_assert_true (query (res));
  sres_resolver_destroy (res);
  g_assert_true (run ("ip addr del 10.9.0.3/24 dev sres0"));
}

static void
test_server_unreachable (void)
{
  sres_resolver_t *res;

  if (!need_setup ())
    return;
  /* No address at all: nothing can be reached yet. */
  res = sres_resolver_create (root, resolv_conf, TAG_END ());
  g_assert_nonnull (res);
  g_assert_false (query (res));
  g_assert_true (run ("ip addr add 10.9.0.4/24 dev sres0"));
  /* A server marked bad is tried again once its error is older than a second. */
  g_usleep (1100 * 1000);
  g_assert_true (query (res));
  sres_resolver_destroy (res);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sofia/sres/address-moved", test_address_moved);
  g_test_add_func ("/sofia/sres/server-unreachable", test_server_unreachable);
  rc = g_test_run ();
  if (root != NULL)
    {
      su_root_destroy (root);
      su_deinit ();
    }
  if (stop_pipe[1] >= 0)
    close (stop_pipe[1]);
  if (child > 0)
    {
      kill (child, SIGKILL);
      waitpid (child, NULL, 0);
    }
  if (resolv_conf != NULL)
    g_unlink (resolv_conf);
  if (dir != NULL)
    g_rmdir (dir);
  g_free (resolv_conf);
  g_free (dir);
  g_free (skip_reason);
  return rc;
}

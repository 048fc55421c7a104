/* A scan of every socket the server process owns: each must be a TCP listener that speaks
 * only TLS. No UDP socket may exist at all. Reading /proc finds every port the process holds,
 * on every address, which a scan of guessed ports could miss. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sig-harness.h"

int test_signald_plaintext_scan (SigHarness *h);

static GHashTable *
process_socket_inodes (int pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/fd", pid);
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  DIR *d = opendir (dir);
  struct dirent *e;

  g_assert_nonnull (d);
  while ((e = readdir (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, e->d_name, NULL);
      char target[128];
      ssize_t n = readlink (path, target, sizeof target - 1);
      if (n > 0)
        {
          target[n] = '\0';
          if (g_str_has_prefix (target, "socket:["))
            g_hash_table_add (set, g_strndup (target + 8, strlen (target + 8) - 1));
        }
    }
  closedir (d);
  return set;
}

typedef struct
{
  guint16 port;
  gboolean v6;
  char addr[64];
} Listener;

/* Fills @tcp with listening sockets of the process; returns how many UDP sockets it has. */
static guint
scan_table (const char *file, GHashTable *inodes, gboolean tcp, gboolean v6, GArray *out)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  guint udp = 0;

  if (!g_file_get_contents (file, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i]; i++)
    {
      char local[80], remote[80], inode[32];
      unsigned st;
      if (sscanf (lines[i], "%*d: %79s %79s %x %*s %*s %*s %*s %*s %31s", local, remote, &st,
                  inode)
          != 4)
        continue;
      if (!g_hash_table_contains (inodes, inode))
        continue;
      if (!tcp)
        {
          udp++;
          continue;
        }
      if (st == 0x0A) /* LISTEN */
        {
          Listener l = { .v6 = v6 };
          char *colon = strchr (local, ':');
          l.port = (guint16) g_ascii_strtoull (colon + 1, NULL, 16);
          g_strlcpy (l.addr, v6 ? "::1" : "127.0.0.1", sizeof l.addr);
          g_array_append_val (out, l);
        }
    }
  return udp;
}

/* Connects without TLS and speaks SIP: a plaintext listener would answer "SIP/2.0 ...". */
static gboolean
answers_plaintext (const Listener *l)
{
  static const char probe[] = "OPTIONS sip:probe@localhost SIP/2.0\r\n"
                              "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKscan\r\n"
                              "Max-Forwards: 70\r\nFrom: <sip:scan@localhost>;tag=s\r\n"
                              "To: <sip:probe@localhost>\r\nCall-ID: scan\r\nCSeq: 1 OPTIONS\r\n"
                              "Content-Length: 0\r\n\r\n";
  int fd = socket (l->v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  char buf[512] = "";
  ssize_t got = 0;
  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  int rc;

  if (l->v6)
    {
      struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons (l->port) };
      a.sin6_addr = in6addr_loopback;
      rc = connect (fd, (struct sockaddr *) &a, sizeof a);
    }
  else
    {
      struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (l->port) };
      a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      rc = connect (fd, (struct sockaddr *) &a, sizeof a);
    }
  if (rc < 0)
    {
      close (fd);
      return FALSE;
    }
  if (write (fd, probe, sizeof probe - 1) < 0)
    {
      close (fd);
      return FALSE;
    }
  if (poll (&pfd, 1, 1500) > 0)
    got = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (got > 0)
    buf[got] = '\0';
  return got > 0 && strstr (buf, "SIP/2.0") != NULL;
}

int
test_signald_plaintext_scan (SigHarness *h)
{
  g_autoptr (GHashTable) inodes = process_socket_inodes (h->pid);
  g_autoptr (GArray) listeners = g_array_new (FALSE, TRUE, sizeof (Listener));
  guint udp = 0;
  int bad = 0;

  scan_table ("/proc/net/tcp", inodes, TRUE, FALSE, listeners);
  scan_table ("/proc/net/tcp6", inodes, TRUE, TRUE, listeners);
  udp += scan_table ("/proc/net/udp", inodes, FALSE, FALSE, NULL);
  udp += scan_table ("/proc/net/udp6", inodes, FALSE, TRUE, NULL);

  g_test_message ("server owns %u TCP listener(s) and %u UDP socket(s)", listeners->len, udp);
  if (udp > 0)
    {
      g_test_message ("a UDP socket exists: SIP over UDP would be plaintext");
      bad++;
    }
  g_assert_cmpuint (listeners->len, >=, 1);
  for (guint i = 0; i < listeners->len; i++)
    {
      const Listener *l = &g_array_index (listeners, Listener, i);
      if (l->port != h->port)
        {
          g_test_message ("unexpected listener on port %u", l->port);
          bad++;
        }
      if (answers_plaintext (l))
        {
          g_test_message ("port %u answers SIP without TLS", l->port);
          bad++;
        }
    }
  return bad;
}
